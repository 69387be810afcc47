//! The ledger a gateway reads when it serves a ledger folder (`--url embedded:PATH`): each read
//! takes the folder's shared lock, so it sees one committed generation whole while CLI
//! commands keep writing. A generation never changes once committed, so what was loaded from
//! it is kept until `current` moves on.
use super::{decode_lines, Access, Folder, Result, TxPlace};
use crate::transport::AccountsAt;
use crate::{Account, CareledgerEvent, LedgerView, Pubkey, SdkError, Signature};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One generation, loaded.
struct Loaded {
    generation: u64,
    accounts: BTreeMap<Pubkey, Account>,
    events: HashMap<Signature, Vec<CareledgerEvent>>,
    /// Every transaction of the events log, in the order it was saved.
    log: Vec<crate::HistoryEntry>,
}

#[derive(Clone)]
pub struct FolderView(Arc<Inner>);

struct Inner {
    dir: PathBuf,
    lock_timeout: Duration,
    cache: Mutex<Option<Arc<Loaded>>>,
}

impl FolderView {
    pub fn new(dir: PathBuf, lock_timeout: Duration) -> FolderView {
        FolderView(Arc::new(Inner {
            dir,
            lock_timeout,
            cache: Mutex::new(None),
        }))
    }

    /// The committed generation; the lock wait and the file reads block, so they run off the
    /// async workers.
    async fn loaded(&self) -> Result<Arc<Loaded>, SdkError> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || inner.load())
            .await
            .map_err(|e| transport(&e.to_string()))?
            .map_err(|e| transport(&e.chain()))
    }
}

impl Inner {
    /// The committed generation, from the cache when `current` has not moved.
    fn load(&self) -> Result<Arc<Loaded>> {
        let poisoned = || super::error::fail!("ledger cache poisoned");
        let folder = Folder::open(&self.dir, Access::Shared, self.lock_timeout)?;
        let generation = folder.current_generation()?.unwrap_or(0);
        let cached = self.cache.lock().map_err(|_| poisoned())?.clone();
        if let Some(hit) = cached.filter(|c| c.generation == generation && generation > 0) {
            return Ok(hit);
        }
        let snapshot = folder.load()?;
        // Two commands sending the same instruction get the same signature (each runs a fresh
        // embedded bank whose blockhashes repeat): the newest transaction under a signature is
        // the one its sender just made. Releases are keyed by the event itself.
        let mut events: HashMap<Signature, (TxPlace, Vec<CareledgerEvent>)> = HashMap::new();
        let mut log: Vec<crate::HistoryEntry> = Vec::new();
        for (tx, event) in decode_lines(&folder, &snapshot)? {
            let Some((signature, place)) = tx else {
                continue;
            };
            match log.last_mut() {
                Some(last)
                    if last.signature == signature
                        && last.slot == place.generation
                        && last.index == place.index =>
                {
                    last.events.push(event.clone())
                }
                _ => log.push(crate::HistoryEntry {
                    signature,
                    slot: place.generation,
                    index: place.index,
                    events: vec![event.clone()],
                }),
            }
            let entry = events.entry(signature).or_insert((place, Vec::new()));
            if place > entry.0 {
                *entry = (place, Vec::new());
            }
            if place == entry.0 {
                entry.1.push(event);
            }
        }
        let events = events
            .into_iter()
            .map(|(signature, (_, list))| (signature, list))
            .collect();
        let loaded = Arc::new(Loaded {
            generation: snapshot.generation,
            accounts: snapshot.accounts,
            events,
            log,
        });
        *self.cache.lock().map_err(|_| poisoned())? = Some(loaded.clone());
        Ok(loaded)
    }
}

fn transport(why: &str) -> SdkError {
    SdkError::Transport(format!("ledger folder: {why}"))
}

impl LedgerView for FolderView {
    /// The accounts of one committed generation (its number stands in for the slot). A ledger
    /// folder's embedded runtime runs on the wall clock, so that is the snapshot's clock.
    async fn accounts_at(&self, addresses: &[Pubkey]) -> Result<AccountsAt, SdkError> {
        let loaded = self.loaded().await?;
        Ok(AccountsAt {
            slot: loaded.generation,
            unix_timestamp: unix_now(),
            accounts: addresses
                .iter()
                .map(|a| loaded.accounts.get(a).cloned())
                .collect(),
        })
    }

    async fn transaction_events(
        &self,
        signature: &Signature,
    ) -> Result<Option<Vec<CareledgerEvent>>, SdkError> {
        Ok(self.loaded().await?.events.get(signature).cloned())
    }

    /// A ledger folder takes transactions only from CLI commands on this machine, never one a
    /// wallet signs elsewhere: it has no blockhash to give (`serve` runs no Solana Actions
    /// over a folder).
    async fn latest_blockhash(&self) -> Result<solana_hash::Hash, SdkError> {
        Err(transport(
            "it takes no transaction signed elsewhere, so it gives no blockhash",
        ))
    }
}

impl crate::LedgerArchive for FolderView {
    async fn program_accounts(
        &self,
        filters: &[crate::accounts::Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        let loaded = self.loaded().await?;
        Ok(loaded
            .accounts
            .iter()
            .filter(|(_, a)| {
                a.owner == careledger::ID && filters.iter().all(|f| f.matches(&a.data))
            })
            .map(|(k, a)| (*k, a.clone()))
            .collect())
    }

    /// Every transaction of the events log, oldest first: a folder keeps no index by account,
    /// and holds its log in memory already, so `address` and `limit` do not narrow it. The
    /// slot is the generation that saved it.
    async fn history(&self, _address: &Pubkey, _limit: usize) -> Result<crate::History, SdkError> {
        let loaded = self.loaded().await?;
        Ok(crate::History {
            entries: loaded.log.clone(),
            truncated: false,
        })
    }
}

/// The wall clock, unix seconds: a ledger folder's embedded runtime runs on it.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
