//! The embedded runtime: a real Agave bank in this process (solana-program-test), with the
//! careledger program registered natively and the SPL programs loaded as BPF.
//!
//! Events: BanksClient's processed-transaction metadata has logs but no inner instructions, so
//! each transaction is simulated first (the simulation carries them) and then processed on the
//! same bank state; nothing else writes to that bank in between.
pub mod folder;

use crate::accounts::Memcmp;
use crate::events::{decode_inner_instructions, CareledgerEvent};
use crate::transport::{AccountsAt, Transport, TxOutcome};
use crate::SdkError;
use anchor_lang::solana_program::account_info::AccountInfo;
use solana_account::Account;
use solana_clock::Clock;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_loader_v3_interface::state::UpgradeableLoaderState;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use tokio::sync::Mutex;

/// Anchor's `entry` ties the three argument lifetimes together; `processor!` wants a plain
/// `fn(&Pubkey, &[AccountInfo], &[u8])`. The runtime keeps all three alive for the whole call,
/// so narrowing them to one lifetime is sound. Public for the localnet, which registers the
/// program the same way.
pub fn careledger_entry(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    // SAFETY: only lifetimes change; the data outlives this call (see above).
    let accounts: &[AccountInfo<'_>] = unsafe { std::mem::transmute(accounts) };
    let program_id: &Pubkey = unsafe { std::mem::transmute(program_id) };
    let data: &[u8] = unsafe { std::mem::transmute(data) };
    careledger::entry(program_id, accounts, data)
}

/// Where the embedded runtime's scratch files go: each bank keeps an accounts database in a
/// temporary directory (`.tmpXXXX/{run,snapshot}`) that it removes only when the bank is
/// dropped, which a process that ends while the bank's thread still runs never sees. A command
/// that calls [`ScratchDir::enter`] first has every such directory inside one of its own,
/// removed when the guard drops; one left by a killed process is removed by the next start.
pub struct ScratchDir {
    path: std::path::PathBuf,
}

/// The prefix of a scratch directory: `careledger-<pid>-<nanos>`.
const SCRATCH_PREFIX: &str = "careledger-";

impl ScratchDir {
    /// Makes a private directory under the current temporary directory and points `TMPDIR` at
    /// it. Call it first in `main`, before any thread starts: it changes the process's
    /// environment.
    pub fn enter() -> std::io::Result<ScratchDir> {
        let parent = std::env::temp_dir();
        Self::sweep(&parent);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = parent.join(format!("{SCRATCH_PREFIX}{}-{nanos}", std::process::id()));
        std::fs::create_dir(&path)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))?;
        }
        std::env::set_var("TMPDIR", &path);
        Ok(ScratchDir { path })
    }

    /// Removes the scratch directories of processes that no longer run (killed before their
    /// guard dropped). Only where `/proc` tells which processes run.
    fn sweep(parent: &std::path::Path) {
        if !std::path::Path::new("/proc/self").exists() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(parent) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|n| n.strip_prefix(SCRATCH_PREFIX))
                .and_then(|n| n.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<u32>().ok())
            else {
                continue;
            };
            let ours = entry.metadata().is_ok_and(|m| m.is_dir());
            if ours && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

struct State {
    context: ProgramTestContext,
    /// Signatures sent under the current blockhash: an identical message needs a new one.
    sent: HashSet<solana_signature::Signature>,
    /// Every address a transaction touched: listings scan these (BanksClient has no
    /// getProgramAccounts).
    known: BTreeSet<Pubkey>,
    /// The events of the newest `HISTORY` transactions, by signature (`transaction_events`).
    history: HashMap<solana_signature::Signature, Vec<CareledgerEvent>>,
    /// The same transactions in the order they were processed, each with its slot.
    order: VecDeque<(solana_signature::Signature, u64)>,
}

/// How many transactions `transaction_events` remembers: a long test run stays bounded.
const HISTORY: usize = 65_536;

pub struct EmbeddedTransport {
    state: Mutex<State>,
    faucet: Keypair,
}

impl EmbeddedTransport {
    /// Starts a bank whose ProgramData for careledger names `upgrade_authority`, as a deployment
    /// with `solana program deploy` would.
    pub async fn start(upgrade_authority: &Pubkey) -> Self {
        let mut test = ProgramTest::new("careledger", careledger::ID, processor!(careledger_entry));
        test.add_account(crate::pda::program_data(), program_data(upgrade_authority));
        let context = test.start_with_context().await;
        let faucet = context.payer.insecure_clone();
        EmbeddedTransport {
            state: Mutex::new(State {
                context,
                sent: HashSet::new(),
                known: BTreeSet::new(),
                history: HashMap::new(),
                order: VecDeque::new(),
            }),
            faucet,
        }
    }

    /// Gives `lamports` to `to` from the bank's faucet: a test facility, not part of
    /// [`Transport`].
    pub async fn fund(&self, to: &Pubkey, lamports: u64) -> Result<(), SdkError> {
        let ix =
            solana_system_interface::instruction::transfer(&self.faucet.pubkey(), to, lamports);
        let blockhash = self.latest_blockhash().await?;
        let tx = Transaction::new_signed_with_payer(
            &[ix],
            Some(&self.faucet.pubkey()),
            &[&self.faucet],
            blockhash,
        );
        self.send(tx).await.map(|_| ())
    }

    /// Sets the bank's clock to `unix_timestamp` (tests of expiry and time windows).
    pub async fn set_unix_timestamp(&self, unix_timestamp: i64) -> Result<(), SdkError> {
        let state = self.state.lock().await;
        let mut clock: Clock = state
            .context
            .banks_client
            .get_sysvar()
            .await
            .map_err(banks_error)?;
        clock.unix_timestamp = unix_timestamp;
        state.context.set_sysvar(&clock);
        Ok(())
    }

    /// Moves the clock forward by `secs`.
    pub async fn advance_clock(&self, secs: i64) -> Result<i64, SdkError> {
        let now = self.unix_timestamp().await? + secs;
        self.set_unix_timestamp(now).await?;
        Ok(now)
    }

    /// Names another upgrade authority in careledger's ProgramData (a ledger folder loads the one
    /// it was first used with). Not a state account: `known_addresses` does not list it.
    pub async fn set_upgrade_authority(&self, upgrade_authority: &Pubkey) {
        let mut state = self.state.lock().await;
        state.context.set_account(
            &crate::pda::program_data(),
            &program_data(upgrade_authority).into(),
        );
    }

    /// Places an arbitrary account (attack tests: foreign owners, look-alike layouts).
    pub async fn set_account(&self, address: &Pubkey, account: Account) {
        let mut state = self.state.lock().await;
        state.known.insert(*address);
        state.context.set_account(address, &account.into());
    }

    /// Every address a transaction touched or `set_account` placed: what a ledger folder saves.
    pub async fn known_addresses(&self) -> Vec<Pubkey> {
        self.state.lock().await.known.iter().copied().collect()
    }

    /// The rent-exempt minimum for `len` bytes, from the bank's Rent sysvar.
    pub async fn minimum_balance(&self, len: usize) -> Result<u64, SdkError> {
        let state = self.state.lock().await;
        let rent = state
            .context
            .banks_client
            .get_rent()
            .await
            .map_err(banks_error)?;
        Ok(rent.minimum_balance(len))
    }
}

/// careledger's ProgramData as `solana program deploy` leaves it, naming `upgrade_authority`
/// (the localnet places the same account).
pub fn program_data(upgrade_authority: &Pubkey) -> Account {
    let metadata = UpgradeableLoaderState::ProgramData {
        slot: 0,
        upgrade_authority_address: Some(*upgrade_authority),
    };
    Account {
        lamports: 1_000_000_000,
        data: bincode::serialize(&metadata).expect("ProgramData serializes"),
        owner: solana_sdk_ids::bpf_loader_upgradeable::ID,
        executable: false,
        rent_epoch: 0,
    }
}

fn banks_error(err: BanksClientError) -> SdkError {
    match err {
        BanksClientError::TransactionError(e) => SdkError::from(e),
        BanksClientError::SimulationError { err, .. } => SdkError::from(err),
        other => SdkError::Embedded(Box::new(other)),
    }
}

impl Transport for EmbeddedTransport {
    /// The bank's newest blockhash. The embedded bank ticks in the background, so a blockhash
    /// kept from the start would expire (`BlockhashNotFound`) in a long session.
    async fn latest_blockhash(&self) -> Result<Hash, SdkError> {
        let mut state = self.state.lock().await;
        let newest = state
            .context
            .banks_client
            .get_latest_blockhash()
            .await
            .map_err(banks_error)?;
        if newest != state.context.last_blockhash {
            state.context.last_blockhash = newest;
            state.sent.clear();
        }
        Ok(newest)
    }

    async fn send(&self, tx: Transaction) -> Result<TxOutcome, SdkError> {
        let mut state = self.state.lock().await;
        let signature = tx.signatures[0];
        if state.sent.contains(&signature) {
            // The same message was already sent under this blockhash and would be de-duplicated:
            // move to a fresh blockhash and have the caller re-sign.
            let fresh = state
                .context
                .get_new_latest_blockhash()
                .await
                .map_err(|e| SdkError::Transport(e.to_string()))?;
            state.sent.clear();
            state.context.last_blockhash = fresh;
            return Err(SdkError::DuplicateTransaction);
        }
        let keys = tx.message.account_keys.clone();
        let simulation = state
            .context
            .banks_client
            .simulate_transaction(tx.clone())
            .await
            .map_err(banks_error)?;
        if let Some(Err(err)) = simulation.result {
            return Err(SdkError::from(err));
        }
        let inner = simulation
            .simulation_details
            .and_then(|d| d.inner_instructions)
            .unwrap_or_default();
        let events = decode_inner_instructions(inner.iter().flatten().filter_map(|ix| {
            let program = keys.get(usize::from(ix.instruction.program_id_index))?;
            Some((*program, ix.instruction.data.as_slice()))
        }));
        state
            .context
            .banks_client
            .process_transaction(tx)
            .await
            .map_err(banks_error)?;
        state.sent.insert(signature);
        state.known.extend(keys);
        if state.order.len() >= HISTORY {
            if let Some((oldest, _)) = state.order.pop_front() {
                state.history.remove(&oldest);
            }
        }
        let slot = state
            .context
            .banks_client
            .get_root_slot()
            .await
            .map_err(banks_error)?;
        state.order.push_back((signature, slot));
        state.history.insert(signature, events.clone());
        Ok(TxOutcome { signature, events })
    }

    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, SdkError> {
        let state = self.state.lock().await;
        state
            .context
            .banks_client
            .get_account(*address)
            .await
            .map_err(banks_error)
    }

    async fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        let state = self.state.lock().await;
        let mut found = Vec::new();
        for address in &state.known {
            let Some(account) = state
                .context
                .banks_client
                .get_account(*address)
                .await
                .map_err(banks_error)?
            else {
                continue;
            };
            if account.owner == careledger::ID && filters.iter().all(|f| f.matches(&account.data)) {
                found.push((*address, account));
            }
        }
        Ok(found)
    }

    /// Under the bank's lock, so no transaction of this process lands between the reads.
    async fn accounts_at(&self, addresses: &[Pubkey]) -> Result<AccountsAt, SdkError> {
        let state = self.state.lock().await;
        let bank = &state.context.banks_client;
        let clock: Clock = bank.get_sysvar().await.map_err(banks_error)?;
        let mut accounts = Vec::with_capacity(addresses.len());
        for address in addresses {
            accounts.push(bank.get_account(*address).await.map_err(banks_error)?);
        }
        Ok(AccountsAt {
            slot: clock.slot,
            unix_timestamp: clock.unix_timestamp,
            accounts,
        })
    }

    async fn transaction_events(
        &self,
        signature: &solana_signature::Signature,
    ) -> Result<Option<Vec<CareledgerEvent>>, SdkError> {
        Ok(self.state.lock().await.history.get(signature).cloned())
    }

    async fn unix_timestamp(&self) -> Result<i64, SdkError> {
        let state = self.state.lock().await;
        let clock: Clock = state
            .context
            .banks_client
            .get_sysvar()
            .await
            .map_err(banks_error)?;
        Ok(clock.unix_timestamp)
    }
}

impl crate::LedgerArchive for EmbeddedTransport {
    async fn program_accounts(
        &self,
        filters: &[crate::accounts::Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        Transport::program_accounts(self, filters).await
    }

    /// Every transaction this runtime remembers (the newest 65,536), oldest first: the bank
    /// indexes none by account, so `address` and `limit` do not narrow it.
    async fn history(&self, _address: &Pubkey, _limit: usize) -> Result<crate::History, SdkError> {
        let state = self.state.lock().await;
        let entries = state
            .order
            .iter()
            .filter_map(|(signature, slot)| {
                Some(crate::HistoryEntry {
                    signature: *signature,
                    slot: *slot,
                    index: 0,
                    events: state.history.get(signature)?.clone(),
                })
            })
            .collect();
        Ok(crate::History {
            entries,
            truncated: state.order.len() >= HISTORY,
        })
    }
}
