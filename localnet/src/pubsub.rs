//! The PubSub (websocket) server: `signatureSubscribe`, `accountSubscribe`, `logsSubscribe`
//! and `slotSubscribe`, with their `*Unsubscribe`, in the JSON shapes of Agave's PubSub service.
//! Notifications are sent when the transaction executes (it is final at once), so every
//! commitment level is notified at the same moment.
//!
//! The registry lives inside the chain's lock: a subscription is registered, or answered from
//! the history, under the same lock a transaction commits under, so none is missed between the
//! two. Each connection has a bounded queue; one that does not read its notifications is
//! closed rather than allowed to grow without bound.
use crate::chain::TxRecord;
use crate::rpc::{arg, encode_account, invalid, optional_arg, Node};
use futures_util::{SinkExt, StreamExt};
use jsonrpc_core::{Error, ErrorCode, MetaIoHandler, Metadata, Params, Value};
use litesvm::LiteSVM;
use serde_json::json;
use solana_account::Account;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_pubkey::Pubkey;
use solana_rpc_client_types::config::{
    RpcAccountInfoConfig, RpcSignatureSubscribeConfig, RpcTransactionLogsFilter,
};
use solana_rpc_client_types::response::{
    ProcessedSignatureResult, Response, RpcLogsResponse, RpcResponseContext, RpcSignatureResult,
    SlotInfo,
};
use solana_signature::Signature;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// Notifications waiting for one connection before it is closed as too slow.
const QUEUE: usize = 4096;

type Connection = u64;
type SubscriptionId = u64;

#[derive(Default)]
pub struct Subscriptions {
    next: u64,
    connections: HashMap<Connection, mpsc::Sender<String>>,
    signatures: HashMap<Signature, Vec<(Connection, SubscriptionId)>>,
    accounts: HashMap<Pubkey, Vec<(Connection, SubscriptionId, UiAccountEncoding)>>,
    logs: Vec<(Connection, SubscriptionId, Option<Pubkey>)>,
    slots: Vec<(Connection, SubscriptionId)>,
}

fn notification(
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
    fn admit(&mut self, connection: Connection) -> Result<SubscriptionId, Error> {
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

    fn next_id(&mut self) -> u64 {
        self.next = self.next.wrapping_add(1);
        self.next
    }

    fn connect(&mut self, queue: mpsc::Sender<String>) -> Connection {
        let id = self.next_id();
        self.connections.insert(id, queue);
        id
    }

    fn disconnect(&mut self, connection: Connection) {
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
    fn push(&mut self, connection: Connection, message: String) {
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

fn signature_value(record: &TxRecord, slot: u64) -> Response<RpcSignatureResult> {
    Response {
        context: RpcResponseContext::new(slot.max(record.slot)),
        value: RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult {
            err: record.status.clone().err().map(Into::into),
        }),
    }
}

/// What a PubSub method sees of its caller.
#[derive(Clone)]
struct Session {
    node: Arc<Node>,
    connection: Connection,
}

impl Metadata for Session {}

fn methods() -> MetaIoHandler<Session> {
    let mut io = MetaIoHandler::default();
    io.add_method_with_meta(
        "signatureSubscribe",
        |params: Params, s: Session| async move {
            let args = crate::rpc::args(params)?;
            let signature: Signature = arg(&args, 0, "signature")?;
            let _config: Option<RpcSignatureSubscribeConfig> = optional_arg(&args, 1, "config")?;
            let mut chain = s.node.lock();
            let slot = chain.slot();
            let id = chain.subscriptions.admit(s.connection)?;
            if let Some(record) = chain.transaction(&signature) {
                // already final: answer at once (after the subscription id, which the connection
                // sends before it reads its queue)
                let message =
                    notification("signatureNotification", id, signature_value(&record, slot));
                chain.subscriptions.push(s.connection, message);
            } else {
                chain
                    .subscriptions
                    .signatures
                    .entry(signature)
                    .or_default()
                    .push((s.connection, id));
            }
            Ok(Value::from(id))
        },
    );
    io.add_method_with_meta(
        "accountSubscribe",
        |params: Params, s: Session| async move {
            let args = crate::rpc::args(params)?;
            let address: Pubkey = arg(&args, 0, "account address")?;
            let config: Option<RpcAccountInfoConfig> = optional_arg(&args, 1, "config")?;
            let encoding = config
                .and_then(|c| c.encoding)
                .unwrap_or(UiAccountEncoding::Binary);
            let mut chain = s.node.lock();
            let id = chain.subscriptions.admit(s.connection)?;
            chain
                .subscriptions
                .accounts
                .entry(address)
                .or_default()
                .push((s.connection, id, encoding));
            Ok(Value::from(id))
        },
    );
    io.add_method_with_meta("logsSubscribe", |params: Params, s: Session| async move {
        let args = crate::rpc::args(params)?;
        let filter: RpcTransactionLogsFilter = arg(&args, 0, "filter")?;
        let mentions = match filter {
            RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => None,
            RpcTransactionLogsFilter::Mentions(list) => {
                let [one] = list.as_slice() else {
                    return Err(invalid(
                        "Invalid Request: Only 1 address supported in the mentions filter",
                    ));
                };
                Some(one.parse::<Pubkey>().map_err(|_| {
                    invalid(format!("Invalid param: `{one}` is not a base-58 address"))
                })?)
            }
        };
        let mut chain = s.node.lock();
        let id = chain.subscriptions.admit(s.connection)?;
        chain.subscriptions.logs.push((s.connection, id, mentions));
        Ok(Value::from(id))
    });
    io.add_method_with_meta("slotSubscribe", |_params: Params, s: Session| async move {
        let mut chain = s.node.lock();
        let id = chain.subscriptions.admit(s.connection)?;
        chain.subscriptions.slots.push((s.connection, id));
        Ok(Value::from(id))
    });
    for (name, kind) in [
        ("signatureUnsubscribe", Kind::Signature),
        ("accountUnsubscribe", Kind::Account),
        ("logsUnsubscribe", Kind::Logs),
        ("slotUnsubscribe", Kind::Slot),
    ] {
        io.add_method_with_meta(name, move |params: Params, s: Session| async move {
            let args = crate::rpc::args(params)?;
            let id: SubscriptionId = arg(&args, 0, "subscription id")?;
            let mut chain = s.node.lock();
            let subs = &mut chain.subscriptions;
            let mine = |c: &Connection, i: &SubscriptionId| *c == s.connection && *i == id;
            let found = match kind {
                Kind::Signature => subs.signatures.values_mut().any(|list| {
                    let before = list.len();
                    list.retain(|(c, i)| !mine(c, i));
                    list.len() != before
                }),
                Kind::Account => subs.accounts.values_mut().any(|list| {
                    let before = list.len();
                    list.retain(|(c, i, _)| !mine(c, i));
                    list.len() != before
                }),
                Kind::Logs => {
                    let before = subs.logs.len();
                    subs.logs.retain(|(c, i, _)| !mine(c, i));
                    subs.logs.len() != before
                }
                Kind::Slot => {
                    let before = subs.slots.len();
                    subs.slots.retain(|(c, i)| !mine(c, i));
                    subs.slots.len() != before
                }
            };
            subs.signatures.retain(|_, l| !l.is_empty());
            subs.accounts.retain(|_, l| !l.is_empty());
            if found {
                Ok(Value::Bool(true))
            } else {
                // Agave's answer for an id it does not know
                Err(invalid("Invalid subscription id."))
            }
        });
    }
    io
}

#[derive(Clone, Copy)]
enum Kind {
    Signature,
    Account,
    Logs,
    Slot,
}

/// Accepts websocket connections until `stop` turns true.
pub async fn serve(listener: TcpListener, node: Arc<Node>, mut stop: watch::Receiver<bool>) {
    let io = Arc::new(methods());
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (node, io, stop) = (node.clone(), io.clone(), stop.clone());
                tokio::spawn(connection(stream, node, io, stop));
            }
        }
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    node: Arc<Node>,
    io: Arc<MetaIoHandler<Session>>,
    mut stop: watch::Receiver<bool>,
) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let (queue, mut queued) = mpsc::channel::<String>(QUEUE);
    let id = node.lock().subscriptions.connect(queue);
    let session = Session {
        node: node.clone(),
        connection: id,
    };
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            incoming = source.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text.to_string(),
                    Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
                    Some(Ok(Message::Ping(payload))) => {
                        if sink.send(Message::Pong(payload)).await.is_err() { break }
                        continue;
                    }
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                };
                if let Some(reply) = io.handle_request(&text, session.clone()).await {
                    if sink.send(Message::Text(reply.into())).await.is_err() { break }
                }
            }
            outgoing = queued.recv() => {
                let Some(message) = outgoing else { break };
                if sink.send(Message::Text(message.into())).await.is_err() { break }
            }
        }
    }
    node.lock().subscriptions.disconnect(id);
    let _ = sink.close().await;
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
