//! `--url embedded:PATH`: a local ledger kept in a folder, no validator.
//!
//! A command starts the embedded runtime, then takes the folder's lock (exclusive to write,
//! shared to read), loads the committed generation into the bank, runs, and saves every account
//! the bank knows together with the command's audit events as the next generation
//! ([`files`] explains the layout and why a crash cannot tear it). [`FolderView`] is the
//! read-only view a gateway serves from a folder while commands keep writing to it. A command that fails saves
//! nothing: the folder holds the state before it or after it, never a part.
mod error;
pub mod files;
pub mod view;

pub use error::{Context, FolderError, Result};
pub use files::{Access, Folder, Snapshot};
pub use view::FolderView;

use crate::embedded::EmbeddedTransport;
use crate::{CareledgerEvent, Signature, Transport, TxOutcome};
use error::{bail, fail};
use solana_account::Account;
use solana_pubkey::Pubkey;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

pub struct Ledger {
    folder: Folder,
    base: Snapshot,
    upgrade_authority: Pubkey,
    /// Events of the transactions this command sent, saved with its accounts.
    pending: Mutex<Vec<((Signature, TxPlace), CareledgerEvent)>>,
    /// Transactions this command sent so far.
    sent: std::sync::atomic::AtomicU32,
}

/// An events.log line of a transaction this careledger sent: this tag, the transaction's
/// signature (64 bytes), the transaction's place (the generation that saved it, u64 LE, and its
/// index among that command's transactions, u32 LE), then the event as the program emitted it.
/// Each command runs a fresh embedded bank whose blockhashes repeat, so two commands sending
/// the same instruction get the same signature: the place tells their transactions apart.
/// Lines without the tag (saved before gateways looked events up by transaction) hold the
/// event alone. No event discriminator equals the tag (a test checks).
const TX_TAG: &[u8; 8] = b"cl-tx-v1";
const TX_HEAD: usize = TX_TAG.len() + 64 + 8 + 4;

/// Where a transaction's events sit in the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TxPlace {
    pub generation: u64,
    pub index: u32,
}

/// One events.log line: the event, and the transaction that emitted it when known.
pub fn encode_line(tx: &(Signature, TxPlace), event: &CareledgerEvent) -> Vec<u8> {
    let mut line = TX_TAG.to_vec();
    line.extend_from_slice(tx.0.as_ref());
    line.extend_from_slice(&tx.1.generation.to_le_bytes());
    line.extend_from_slice(&tx.1.index.to_le_bytes());
    line.extend_from_slice(&event.encode());
    line
}

pub type Line = (Option<(Signature, TxPlace)>, CareledgerEvent);

fn decode_line(bytes: &[u8]) -> Option<Line> {
    if !bytes.starts_with(TX_TAG) {
        return Some((None, CareledgerEvent::decode(bytes)?));
    }
    let head = bytes.get(..TX_HEAD)?;
    let signature = Signature::try_from(&head[8..72]).ok()?;
    let generation = u64::from_le_bytes(head[72..80].try_into().ok()?);
    let index = u32::from_le_bytes(head[80..84].try_into().ok()?);
    let event = CareledgerEvent::decode(&bytes[TX_HEAD..])?;
    Some((Some((signature, TxPlace { generation, index })), event))
}

/// The audit events a snapshot holds, decoded; a line that is not a careledger event stops the load.
pub fn decode_events(folder: &Folder, snapshot: &Snapshot) -> Result<Vec<CareledgerEvent>> {
    Ok(decode_lines(folder, snapshot)?
        .into_iter()
        .map(|(_, event)| event)
        .collect())
}

/// The snapshot's events with the transaction of each, when the line names it.
pub fn decode_lines(folder: &Folder, snapshot: &Snapshot) -> Result<Vec<Line>> {
    snapshot
        .events
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            decode_line(bytes).ok_or_else(|| {
                fail!(
                    "cannot load the ledger folder {}: events.log line {} is not a careledger event. Restore the folder from a backup, or start a new one",
                    folder.dir().display(),
                    i + 1
                )
            })
        })
        .collect()
}

impl Ledger {
    /// Locks `dir` (waiting at most `lock_timeout`) and loads it into `transport`. The folder's
    /// first writer becomes the upgrade authority its program was "deployed" with.
    pub async fn open(
        dir: &Path,
        access: Access,
        lock_timeout: Duration,
        first_user: &Pubkey,
        transport: &EmbeddedTransport,
    ) -> Result<Ledger> {
        let folder = Folder::open(dir, access, lock_timeout)?;
        let base = folder.load()?;
        decode_events(&folder, &base)?;
        let upgrade_authority = base.upgrade_authority.unwrap_or(*first_user);
        transport.set_upgrade_authority(&upgrade_authority).await;
        for (address, account) in &base.accounts {
            transport.set_account(address, account.clone()).await;
        }
        Ok(Ledger {
            folder,
            base,
            upgrade_authority,
            pending: Mutex::new(Vec::new()),
            sent: std::sync::atomic::AtomicU32::new(0),
        })
    }

    pub fn access(&self) -> Access {
        self.folder.access()
    }

    /// Keeps a transaction's events, with its signature, for the save.
    pub fn record(&self, outcome: &TxOutcome) -> Result<()> {
        if self.access() == Access::Shared {
            bail!("internal error: a read-only command sent a transaction");
        }
        let place = TxPlace {
            // the generation this command's save will commit (it holds the lock alone)
            generation: self.base.generation + 1,
            index: self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        };
        self.pending
            .lock()
            .map_err(|_| fail!("event buffer poisoned"))?
            .extend(
                outcome
                    .events
                    .iter()
                    .map(|e| ((outcome.signature, place), e.clone())),
            );
        Ok(())
    }

    /// Every saved event, then this command's.
    pub fn events(&self) -> Result<Vec<CareledgerEvent>> {
        let mut events = decode_events(&self.folder, &self.base)?;
        events.extend(
            self.pending
                .lock()
                .map_err(|_| fail!("event buffer poisoned"))?
                .iter()
                .map(|(_, event)| event.clone()),
        );
        Ok(events)
    }

    /// Saves every non-program account the runtime knows, and this command's events, as one
    /// generation. A read-only command saves nothing.
    pub async fn save(&self, transport: &EmbeddedTransport) -> Result<u64> {
        if self.access() == Access::Shared {
            return Ok(self.base.generation);
        }
        let mut accounts = BTreeMap::new();
        for address in transport.known_addresses().await {
            if let Some(account) = transport.account(&address).await? {
                if keep(&account) {
                    accounts.insert(address, account);
                }
            }
        }
        let events: Vec<Vec<u8>> = self
            .pending
            .lock()
            .map_err(|_| fail!("event buffer poisoned"))?
            .iter()
            .map(|(tx, event)| encode_line(tx, event))
            .collect();
        self.folder
            .commit(&self.base, &self.upgrade_authority, &accounts, &events)
    }
}

/// Programs, sysvars and loader accounts come with every runtime: only state is saved.
fn keep(account: &Account) -> bool {
    use solana_sdk_ids::{bpf_loader, bpf_loader_upgradeable, native_loader, sysvar};
    !account.executable
        && account.owner != bpf_loader_upgradeable::ID
        && account.owner != bpf_loader::ID
        && account.owner != native_loader::ID
        && account.owner != sysvar::ID
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transaction_tag_is_no_event_discriminator() {
        for name in CareledgerEvent::NAMES {
            let discriminator = CareledgerEvent::discriminator_of(name).expect(name);
            assert_ne!(discriminator, TX_TAG.as_slice(), "{name}");
        }
    }

    #[test]
    fn lines_with_and_without_their_transaction_decode() {
        let event = CareledgerEvent::PatientRegistered(crate::events::PatientRegistered {
            patient: Pubkey::new_unique(),
            wallet: Pubkey::new_unique(),
            at: 7,
        });
        let tx = (
            Signature::from([5u8; 64]),
            TxPlace {
                generation: 7,
                index: 2,
            },
        );
        let tagged = encode_line(&tx, &event);
        assert_eq!(decode_line(&tagged), Some((Some(tx), event.clone())));
        assert_eq!(decode_line(&event.encode()), Some((None, event)));
        assert_eq!(decode_line(&tagged[..40]), None);
    }
}
