//! The PubSub subscriptions the chain notifies as it changes: by signature, account, logs and
//! slot, bounded per connection and in all.
use crate::params::encode_account;
use crate::record::TxRecord;
use jsonrpc_core::{Error, ErrorCode};
use litesvm::LiteSVM;
use serde_json::json;
use solana_account::Account;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_pubkey::Pubkey;
use solana_rpc_client_types::response::{
    ProcessedSignatureResult, Response, RpcLogsResponse, RpcResponseContext, RpcSignatureResult,
    SlotInfo,
};
use solana_signature::Signature;
use std::collections::HashMap;
use tokio::sync::mpsc;

pub type Connection = u64;
pub type SubscriptionId = u64;

#[derive(Default)]
pub struct Subscriptions {
    pub(crate) next: u64,
    pub(crate) connections: HashMap<Connection, mpsc::Sender<String>>,
    pub(crate) signatures: HashMap<Signature, Vec<(Connection, SubscriptionId)>>,
    pub(crate) accounts: HashMap<Pubkey, Vec<(Connection, SubscriptionId, UiAccountEncoding)>>,
    pub(crate) logs: Vec<(Connection, SubscriptionId, Option<Pubkey>)>,
    pub(crate) slots: Vec<(Connection, SubscriptionId)>,
}

pub(crate) fn notification(
    method: &str,
    subscription: SubscriptionId,
    result: impl serde::Serialize,
) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": method,
        "params": {"result": result, "subscription": subscription},
    })
    .to_string()
}

/// Subscriptions one connection may hold at once, and all connections together: a bound on the
/// memory a client can make the node hold, and on the scan an unsubscribe or a disconnect makes
/// under the chain's lock.
pub const MAX_SUBSCRIPTIONS_PER_CONNECTION: usize = 1_000;
pub const MAX_SUBSCRIPTIONS: usize = 10_000;

impl Subscriptions {
    /// A new subscription's id, if `connection` and the node are under their bounds.
    pub(crate) fn admit(&mut self, connection: Connection) -> Result<SubscriptionId, Error> {
        let mut total = 0;
        let mut mine = 0;
        let mut count = |c: Connection| {
            total += 1;
            if c == connection {
                mine += 1;
            }
        };
        self.signatures
            .values()
            .flatten()
            .for_each(|(c, _)| count(*c));
        self.accounts
            .values()
            .flatten()
            .for_each(|(c, _, _)| count(*c));
        self.logs.iter().for_each(|(c, _, _)| count(*c));
        self.slots.iter().for_each(|(c, _)| count(*c));
        if mine >= MAX_SUBSCRIPTIONS_PER_CONNECTION || total >= MAX_SUBSCRIPTIONS {
            return Err(Error {
                code: ErrorCode::InternalError,
                message: format!(
                    "Internal error: max subscriptions reached ({MAX_SUBSCRIPTIONS_PER_CONNECTION} a connection, {MAX_SUBSCRIPTIONS} in all); unsubscribe first"
                ),
                data: None,
            });
        }
        Ok(self.next_id())
    }

    pub(crate) fn next_id(&mut self) -> u64 {
        self.next = self.next.wrapping_add(1);
        self.next
    }

    pub(crate) fn connect(&mut self, queue: mpsc::Sender<String>) -> Connection {
        let id = self.next_id();
        self.connections.insert(id, queue);
        id
    }

    pub(crate) fn disconnect(&mut self, connection: Connection) {
        self.connections.remove(&connection);
        self.signatures.retain(|_, subs| {
            subs.retain(|(c, _)| *c != connection);
            !subs.is_empty()
        });
        self.accounts.retain(|_, subs| {
            subs.retain(|(c, _, _)| *c != connection);
            !subs.is_empty()
        });
        self.logs.retain(|(c, _, _)| *c != connection);
        self.slots.retain(|(c, _)| *c != connection);
    }

    /// Queues `message`; a connection whose queue is full is dropped (its socket closes).
    pub(crate) fn push(&mut self, connection: Connection, message: String) {
        let full = match self.connections.get(&connection) {
            Some(queue) => queue.try_send(message).is_err(),
            None => false,
        };
        if full {
            self.disconnect(connection);
        }
    }

    pub fn notify_slot(&mut self, slot: u64) {
        let info = SlotInfo {
            slot,
            parent: slot.saturating_sub(1),
            root: slot,
        };
        for (connection, id) in self.slots.clone() {
            self.push(connection, notification("slotNotification", id, info));
        }
    }

    pub fn notify_transaction(&mut self, record: &TxRecord, slot: u64) {
        let err = record.status.clone().err().map(Into::into);
        if let Some(subs) = self.signatures.remove(&record.signature) {
            let value = signature_value(record, slot);
            for (connection, id) in subs {
                self.push(
                    connection,
                    notification("signatureNotification", id, &value),
                );
            }
        }
        if self.logs.is_empty() {
            return;
        }
        let value = Response {
            context: RpcResponseContext::new(slot),
            value: RpcLogsResponse {
                signature: record.signature.to_string(),
                err,
                logs: record.logs.clone(),
            },
        };
        for (connection, id, mentions) in self.logs.clone() {
            if mentions.is_none_or(|address| record.mentions(&address)) {
                self.push(connection, notification("logsNotification", id, &value));
            }
        }
    }

    pub fn notify_account(
        &mut self,
        address: &Pubkey,
        account: Option<&Account>,
        slot: u64,
        svm: &LiteSVM,
    ) {
        let Some(subs) = self.accounts.get(address).cloned() else {
            return;
        };
        // a closed account is reported as an empty system account, as a node reports it
        let closed = Account::default();
        let account = account.unwrap_or(&closed);
        for (connection, id, encoding) in subs {
            let value = Response {
                context: RpcResponseContext::new(slot),
                value: encode_account(svm, address, account, encoding, None),
            };
            self.push(connection, notification("accountNotification", id, &value));
        }
    }
}

pub(crate) fn signature_value(record: &TxRecord, slot: u64) -> Response<RpcSignatureResult> {
    Response {
        context: RpcResponseContext::new(slot.max(record.slot)),
        value: RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult {
            err: record.status.clone().err().map(Into::into),
        }),
    }
}

#[cfg(test)]
mod bounds {
    use super::*;

    /// Who gains: a client holding the node's memory and lock with endless subscriptions. One
    /// connection stops at its bound while another is still served, and all connections
    /// together stop at theirs.
    #[test]
    fn subscriptions_are_bounded_per_connection_and_in_all() {
        let mut subs = Subscriptions::default();
        for _ in 0..MAX_SUBSCRIPTIONS_PER_CONNECTION {
            let id = subs.admit(1).expect("under the bound");
            subs.slots.push((1, id));
        }
        let refused = subs.admit(1).unwrap_err();
        assert!(refused.message.contains("max subscriptions"), "{refused:?}");
        assert!(subs.admit(2).is_ok());
        for c in 2..(MAX_SUBSCRIPTIONS / MAX_SUBSCRIPTIONS_PER_CONNECTION) as u64 + 1 {
            for _ in 0..MAX_SUBSCRIPTIONS_PER_CONNECTION {
                let id = subs.admit(c).expect("under the bounds");
                subs.slots.push((c, id));
            }
        }
        assert!(subs.admit(999).is_err(), "the node's bound");
        subs.disconnect(1);
        assert!(subs.admit(999).is_ok(), "a disconnect frees its share");
    }
}
