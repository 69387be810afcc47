//! The RPC transport: any cluster URL (solana-test-validator, devnet, mainnet-beta).
use crate::accounts::Memcmp;
use crate::events::decode_inner_instructions;
use crate::transport::{AccountsAt, Transport, TxOutcome};
use crate::SdkError;
use solana_account::Account;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_clock::Clock;
use solana_commitment_config::CommitmentConfig;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp as RpcMemcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcRequest;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, EncodedConfirmedTransactionWithStatusMeta,
    EncodedTransaction, UiInstruction, UiMessage, UiTransactionEncoding,
};

pub struct RpcTransport {
    client: RpcClient,
    /// A blockhash under which a node answered `AlreadyProcessed` to this client: the next
    /// [`Transport::latest_blockhash`] waits for a newer one, so that the caller's re-signed
    /// transaction is a new one (what the embedded transport does with its own bank).
    spent: std::sync::Mutex<Option<Hash>>,
    /// Each address's finalized transactions with their events, as
    /// [`crate::LedgerArchive::history`] indexed them (at most [`INDEXED_ADDRESSES`] addresses,
    /// the least recently read leaving first, each at most [`crate::transport::MAX_HISTORY`]).
    index: std::sync::Mutex<std::collections::HashMap<Pubkey, AddressIndex>>,
    used: std::sync::atomic::AtomicU64,
}

/// The most addresses an [`RpcTransport`] keeps a transaction index for. Each holds at most
/// [`crate::transport::MAX_HISTORY`] transactions with their events: a few KiB per patient with
/// a typical trail, some tens of MiB in all at the very worst.
const INDEXED_ADDRESSES: usize = 256;
/// `getTransaction` calls in flight at once for one history.
const LOOKUPS_AT_ONCE: usize = 8;
/// `getSignaturesForAddress` answers at most this many per call.
const SIGNATURES_PER_CALL: usize = 1_000;

/// How long `latest_blockhash` waits for a blockhash newer than a spent one: a cluster makes a
/// new one every slot (400 ms on mainnet).
const NEW_BLOCKHASH_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
const NEW_BLOCKHASH_POLL: std::time::Duration = std::time::Duration::from_millis(20);

impl RpcTransport {
    pub fn new(url: impl Into<String>, commitment: CommitmentConfig) -> Self {
        RpcTransport {
            client: RpcClient::new_with_commitment(url.into(), commitment),
            spent: std::sync::Mutex::new(None),
            index: std::sync::Mutex::new(std::collections::HashMap::new()),
            used: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn spent(&self) -> Option<Hash> {
        *self.spent.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// The careledger events one confirmed transaction emitted, from its inner instructions.
    pub async fn events_of(
        &self,
        signature: &solana_signature::Signature,
    ) -> Result<Vec<crate::events::CareledgerEvent>, SdkError> {
        self.lookup(signature).await?.ok_or_else(|| {
            SdkError::Transport(format!(
                "transaction {signature} is unknown to the node, or failed"
            ))
        })
    }

    /// `getTransaction`, whose `null` answer (unknown or not yet confirmed) is `None`, as is a
    /// transaction that failed.
    async fn lookup(
        &self,
        signature: &solana_signature::Signature,
    ) -> Result<Option<Vec<crate::events::CareledgerEvent>>, SdkError> {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(self.client.commitment()),
            max_supported_transaction_version: Some(0),
        };
        let found: Option<EncodedConfirmedTransactionWithStatusMeta> = self
            .client
            .send(
                RpcRequest::GetTransaction,
                serde_json::json!([signature.to_string(), config]),
            )
            .await
            .map_err(rpc_error)?;
        let Some(confirmed) = found else {
            return Ok(None);
        };
        if confirmed
            .transaction
            .meta
            .as_ref()
            .is_some_and(|meta| meta.err.is_some())
        {
            return Ok(None);
        }
        let keys: Vec<Pubkey> = match &confirmed.transaction.transaction {
            EncodedTransaction::Json(ui) => match &ui.message {
                UiMessage::Raw(raw) => raw
                    .account_keys
                    .iter()
                    .filter_map(|k| k.parse().ok())
                    .collect(),
                UiMessage::Parsed(_) => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut inner = Vec::new();
        if let Some(meta) = &confirmed.transaction.meta {
            if let OptionSerializer::Some(groups) = &meta.inner_instructions {
                for ix in groups.iter().flat_map(|g| g.instructions.iter()) {
                    if let UiInstruction::Compiled(c) = ix {
                        if let (Some(program), Ok(data)) = (
                            keys.get(usize::from(c.program_id_index)),
                            bs58::decode(&c.data).into_vec(),
                        ) {
                            inner.push((*program, data));
                        }
                    }
                }
            }
        }
        Ok(Some(decode_inner_instructions(
            inner.iter().map(|(p, d)| (*p, d.as_slice())),
        )))
    }

    /// The audit events of the newest `limit` transactions that touched `address` (for a
    /// patient, their `Patient` account: every consent, record and claim instruction reads it),
    /// oldest first.
    pub async fn history(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<Vec<crate::events::CareledgerEvent>, SdkError> {
        let history = crate::LedgerArchive::history(self, address, limit).await?;
        Ok(history.entries.into_iter().flat_map(|e| e.events).collect())
    }
}

impl crate::LedgerArchive for RpcTransport {
    async fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        Transport::program_accounts(self, filters).await
    }

    /// `getSignaturesForAddress` a thousand at a time (newest first, each call `before` the
    /// last), stopping at the newest finalized signature already indexed for `address` (`until`):
    /// a finalized transaction never changes, so each is fetched with `getTransaction` once and
    /// kept; newer ones are fetched on every call. Lookups run [`LOOKUPS_AT_ONCE`] at a time,
    /// oldest first, and what they find is indexed as it comes, so a call cut short (a
    /// service's timeout) leaves its progress for the next. Once an address is indexed, a call
    /// costs one `getSignaturesForAddress` and one `getTransaction` per new transaction.
    async fn history(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> Result<crate::transport::History, SdkError> {
        use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
        use solana_transaction_status_client_types::TransactionConfirmationStatus;
        let limit = limit.clamp(1, crate::transport::MAX_HISTORY);
        let newest_indexed = {
            let index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            index
                .get(address)
                .and_then(|known| known.listed.back().map(|l| l.signature))
        };
        // newest first
        let mut listed: Vec<(solana_signature::Signature, u64, bool, bool)> = Vec::new();
        let mut before = None;
        let mut cut = false;
        // bounded: each call lists up to a thousand, and the loop stops at `limit`
        for _ in 0..limit.div_ceil(SIGNATURES_PER_CALL) {
            let asked = SIGNATURES_PER_CALL.min(limit - listed.len());
            let config = GetConfirmedSignaturesForAddress2Config {
                before,
                until: newest_indexed,
                limit: Some(asked),
                commitment: Some(self.client.commitment()),
            };
            let page = self
                .client
                .get_signatures_for_address_with_config(address, config)
                .await
                .map_err(rpc_error)?;
            let full = page.len() == asked;
            for entry in page {
                let signature: solana_signature::Signature =
                    entry.signature.parse().map_err(|e| {
                        SdkError::Transport(format!("bad signature from the node: {e}"))
                    })?;
                before = Some(signature);
                let finalized =
                    entry.confirmation_status == Some(TransactionConfirmationStatus::Finalized);
                listed.push((signature, entry.slot, entry.err.is_none(), finalized));
            }
            if !full {
                break;
            }
            if listed.len() >= limit {
                // older signatures remain unlisted
                cut = true;
                break;
            }
        }
        listed.reverse();
        if cut && newest_indexed.is_some() {
            // more is new than one call lists: the index would have a gap, so it starts again
            // from what was listed now, and says older transactions are left out
            let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
            index.remove(address);
        }
        let mut unsettled: Vec<crate::HistoryEntry> = Vec::new();
        let mut settled = true;
        for chunk in listed.chunks(LOOKUPS_AT_ONCE) {
            let looked = futures_util::future::try_join_all(chunk.iter().map(
                |(signature, slot, succeeded, finalized)| async move {
                    let events = match succeeded {
                        true => self.lookup(signature).await?,
                        false => None,
                    };
                    Ok::<_, SdkError>((*signature, *slot, *succeeded, *finalized, events))
                },
            ))
            .await?;
            let mut fresh = Vec::new();
            for (signature, slot, succeeded, finalized, events) in looked {
                // a success the node cannot give yet (a lagging node) is not settled: neither it
                // nor anything newer is indexed, so the next call fetches them again
                let known = !succeeded || events.is_some();
                if settled && finalized && known {
                    fresh.push(Indexed {
                        signature,
                        slot,
                        events,
                    });
                } else {
                    settled = false;
                    if let Some(events) = events {
                        unsettled.push(crate::HistoryEntry {
                            signature,
                            slot,
                            index: 0,
                            events,
                        });
                    }
                }
            }
            if !fresh.is_empty() {
                self.indexed(address, newest_indexed.is_some(), cut, fresh)?;
            }
        }
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        let (mut entries, mut truncated) = match index.get_mut(address) {
            Some(known) => {
                known.used = self.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let entries: Vec<crate::HistoryEntry> = known
                    .listed
                    .iter()
                    .filter_map(|l| {
                        Some(crate::HistoryEntry {
                            signature: l.signature,
                            slot: l.slot,
                            index: 0,
                            events: l.events.clone()?,
                        })
                    })
                    .collect();
                (entries, known.truncated)
            }
            None => (Vec::new(), cut),
        };
        drop(index);
        entries.extend(unsettled);
        if entries.len() > limit {
            entries.drain(..entries.len() - limit);
            truncated = true;
        }
        Ok(crate::transport::History { entries, truncated })
    }
}

impl RpcTransport {
    /// Adds `fresh` (finalized, oldest first, each newer than what is indexed) to `address`'s
    /// index. Another call may have indexed some of them meanwhile: those are skipped.
    fn indexed(
        &self,
        address: &Pubkey,
        was_indexed: bool,
        cut: bool,
        fresh: Vec<Indexed>,
    ) -> Result<(), SdkError> {
        let mut index = self.index.lock().unwrap_or_else(|p| p.into_inner());
        if was_indexed && !cut && !index.contains_key(address) {
            // evicted while this call read: what it holds is only the newest part
            return Err(SdkError::Transport(format!(
                "the history index of {address} was evicted during the read: try again"
            )));
        }
        if !index.contains_key(address) && index.len() >= INDEXED_ADDRESSES {
            // the least recently read address leaves
            if let Some(oldest) = index.iter().min_by_key(|(_, k)| k.used).map(|(a, _)| *a) {
                index.remove(&oldest);
            }
        }
        let used = self.used.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let known = index.entry(*address).or_insert_with(|| AddressIndex {
            listed: std::collections::VecDeque::new(),
            seen: std::collections::HashSet::new(),
            truncated: cut,
            used,
        });
        for f in fresh {
            if known.seen.insert(f.signature) {
                known.listed.push_back(f);
            }
        }
        while known.listed.len() > crate::transport::MAX_HISTORY {
            if let Some(old) = known.listed.pop_front() {
                known.seen.remove(&old.signature);
            }
            known.truncated = true;
        }
        Ok(())
    }
}

/// One finalized transaction of an address's index: its events, or `None` for one that failed.
struct Indexed {
    signature: solana_signature::Signature,
    slot: u64,
    events: Option<Vec<crate::events::CareledgerEvent>>,
}

/// The finalized transactions of one address, oldest first.
struct AddressIndex {
    listed: std::collections::VecDeque<Indexed>,
    /// The signatures in `listed`: a call racing another skips what that one indexed.
    seen: std::collections::HashSet<solana_signature::Signature>,
    /// Older transactions were never listed (the address had more than the limit).
    truncated: bool,
    /// When it was last read (a counter), for eviction.
    used: u64,
}

fn rpc_error(err: ClientError) -> SdkError {
    SdkError::from(err)
}

/// The RPC client runs on tokio, so its transport waits with tokio's timer.
async fn tokio_sleep(duration: std::time::Duration) {
    tokio::time::sleep(duration).await
}

impl Transport for RpcTransport {
    /// The node's newest blockhash; after an `AlreadyProcessed`, one newer than the spent one
    /// (polled for up to 30 s).
    async fn latest_blockhash(&self) -> Result<Hash, SdkError> {
        let started = std::time::Instant::now();
        loop {
            let newest = self
                .client
                .get_latest_blockhash()
                .await
                .map_err(rpc_error)?;
            if Some(newest) != self.spent() {
                return Ok(newest);
            }
            if started.elapsed() > NEW_BLOCKHASH_WAIT {
                return Err(SdkError::Transport(format!(
                    "the node gave no blockhash newer than {newest} within {} s",
                    NEW_BLOCKHASH_WAIT.as_secs()
                )));
            }
            tokio_sleep(NEW_BLOCKHASH_POLL).await;
        }
    }

    /// Sends and confirms. A node that already processed this very transaction (the same
    /// message under the same blockhash) answers `AlreadyProcessed`: that is
    /// [`SdkError::DuplicateTransaction`], and the next blockhash handed out is a newer one.
    async fn send(&self, tx: Transaction) -> Result<TxOutcome, SdkError> {
        let signature = match self.client.send_and_confirm_transaction(&tx).await {
            Ok(signature) => signature,
            Err(err) => {
                return Err(match rpc_error(err) {
                    SdkError::Transaction(TransactionError::AlreadyProcessed) => {
                        *self.spent.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(tx.message.recent_blockhash);
                        SdkError::DuplicateTransaction
                    }
                    other => other,
                })
            }
        };
        let events = self.events_of(&signature).await?;
        Ok(TxOutcome { signature, events })
    }

    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, SdkError> {
        let response = self
            .client
            .get_account_with_commitment(address, self.client.commitment())
            .await
            .map_err(rpc_error)?;
        Ok(response.value)
    }

    async fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(
                filters
                    .iter()
                    .map(|f| {
                        RpcFilterType::Memcmp(RpcMemcmp::new_raw_bytes(f.offset, f.bytes.clone()))
                    })
                    .collect(),
            ),
            account_config: RpcAccountInfoConfig {
                encoding: Some(UiAccountEncoding::Base64),
                ..RpcAccountInfoConfig::default()
            },
            ..RpcProgramAccountsConfig::default()
        };
        let accounts = self
            .client
            .get_program_ui_accounts_with_config(&careledger::ID, config)
            .await
            .map_err(rpc_error)?;
        accounts
            .into_iter()
            .map(|(address, ui)| {
                ui.decode::<Account>()
                    .map(|account| (address, account))
                    .ok_or_else(|| SdkError::Transport(format!("undecodable account {address}")))
            })
            .collect()
    }

    /// One `getMultipleAccounts` for the clock sysvar and `addresses` (at most 99 of them, the
    /// RPC's limit of 100 keys per call), answered at the node's context slot.
    async fn accounts_at(&self, addresses: &[Pubkey]) -> Result<AccountsAt, SdkError> {
        if addresses.len() > crate::transport::MAX_SNAPSHOT_ADDRESSES {
            return Err(SdkError::InvalidInput(format!(
                "{} addresses in one snapshot; at most {} fit one getMultipleAccounts",
                addresses.len(),
                crate::transport::MAX_SNAPSHOT_ADDRESSES
            )));
        }
        let mut keys = Vec::with_capacity(addresses.len() + 1);
        keys.push(solana_sdk_ids::sysvar::clock::ID);
        keys.extend_from_slice(addresses);
        let response = self
            .client
            .get_multiple_accounts_with_commitment(&keys, self.client.commitment())
            .await
            .map_err(rpc_error)?;
        let mut accounts = response.value;
        let clock = accounts
            .first_mut()
            .and_then(Option::take)
            .ok_or_else(|| SdkError::Transport("the node returned no clock sysvar".into()))?;
        let clock: Clock = bincode::deserialize(&clock.data)
            .map_err(|e| SdkError::Transport(format!("clock sysvar: {e}")))?;
        accounts.remove(0);
        Ok(AccountsAt {
            slot: response.context.slot,
            unix_timestamp: clock.unix_timestamp,
            accounts,
        })
    }

    async fn transaction_events(
        &self,
        signature: &solana_signature::Signature,
    ) -> Result<Option<Vec<crate::events::CareledgerEvent>>, SdkError> {
        self.lookup(signature).await
    }

    async fn unix_timestamp(&self) -> Result<i64, SdkError> {
        let account = self
            .client
            .get_account(&solana_sdk_ids::sysvar::clock::ID)
            .await
            .map_err(rpc_error)?;
        let clock: Clock = bincode::deserialize(&account.data)
            .map_err(|e| SdkError::Transport(format!("clock sysvar: {e}")))?;
        Ok(clock.unix_timestamp)
    }
}

impl RpcTransport {
    /// Requests an airdrop and waits for it (localnet, devnet and testnet only): a test
    /// facility, not part of [`Transport`].
    pub async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), SdkError> {
        let signature = self
            .client
            .request_airdrop(to, lamports)
            .await
            .map_err(rpc_error)?;
        self.client
            .poll_for_signature(&signature)
            .await
            .map_err(rpc_error)
    }
}
