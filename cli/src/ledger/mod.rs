//! `--url embedded:PATH`: a local ledger kept in a folder, no validator.
//!
//! A command starts the embedded runtime, then takes the folder's lock (exclusive to write,
//! shared to read), loads the committed generation into the bank, runs, and saves every account
//! the bank knows together with the command's audit events as the next generation
//! ([`folder`] explains the layout and why a crash cannot tear it). A command that fails saves
//! nothing: the folder holds the state before it or after it, never a part.
pub mod folder;

use anyhow::{anyhow, bail, Result};
use careledger_sdk::embedded::EmbeddedTransport;
use careledger_sdk::{CareledgerEvent, Transport};
use folder::{Access, Folder, Snapshot};
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
    pending: Mutex<Vec<CareledgerEvent>>,
}

/// The audit events a snapshot holds, decoded; a line that is not a careledger event stops the load.
pub(crate) fn decode_events(folder: &Folder, snapshot: &Snapshot) -> Result<Vec<CareledgerEvent>> {
    snapshot
        .events
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            CareledgerEvent::decode(bytes).ok_or_else(|| {
                anyhow!(
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
        })
    }

    pub fn access(&self) -> Access {
        self.folder.access()
    }

    /// Keeps a transaction's events for the save.
    pub fn record(&self, events: &[CareledgerEvent]) -> Result<()> {
        if self.access() == Access::Shared {
            bail!("internal error: a read-only command sent a transaction");
        }
        self.pending
            .lock()
            .map_err(|_| anyhow!("event buffer poisoned"))?
            .extend_from_slice(events);
        Ok(())
    }

    /// Every saved event, then this command's.
    pub fn events(&self) -> Result<Vec<CareledgerEvent>> {
        let mut events = decode_events(&self.folder, &self.base)?;
        events.extend(
            self.pending
                .lock()
                .map_err(|_| anyhow!("event buffer poisoned"))?
                .iter()
                .cloned(),
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
            .map_err(|_| anyhow!("event buffer poisoned"))?
            .iter()
            .map(CareledgerEvent::encode)
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
