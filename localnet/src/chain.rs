//! The ledger a localnet serves. LiteSVM executes transactions; this module keeps what a node
//! keeps beside its bank: the slot (one block per slot, so block height = slot), the last 150
//! blockhashes, every transaction's status and metadata, an owner index for
//! `getProgramAccounts`, the faucet, and the subscriptions to notify.
//!
//! A transaction executes when it arrives and is final at once: one node, no forks, so
//! `processed`, `confirmed` and `finalized` are the same moment. What still takes slots is a
//! blockhash's life: it stays valid for [`MAX_PROCESSING_AGE`] blocks, as on a cluster.
use crate::logs::collapse_native_duplicates;
pub use crate::record::TxRecord;
use crate::subscriptions::Subscriptions;
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_clock::Clock;
use solana_epoch_schedule::EpochSchedule;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::inner_instruction::InnerInstructionsList;
use solana_message::{Message, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many blocks a blockhash stays valid (Agave's `MAX_PROCESSING_AGE`): a client's
/// `lastValidBlockHeight` is the height it was issued at plus this.
pub const MAX_PROCESSING_AGE: u64 = 150;

/// The SPL Memo program (v3), which LiteSVM ships: each airdrop carries a numbered memo so that
/// two airdrops of the same amount to the same wallet within one slot are two transactions.
const MEMO_PROGRAM: Pubkey = solana_pubkey::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/// The faucet's balance at start: far more than any test asks for.
const FAUCET_LAMPORTS: u64 = 500_000_000 * 1_000_000_000;

/// The furthest one `surfnet_timeTravel` moves the clock: 2^40 slots (about 14,000 years at
/// 400 ms a slot, 350 at 10 ms).
pub const MAX_TRAVEL_SLOTS: u64 = 1 << 40;

/// What a simulation reports.
#[derive(Debug)]
pub struct Simulation {
    pub result: Result<(), TransactionError>,
    pub logs: Vec<String>,
    pub inner_instructions: InnerInstructionsList,
    pub return_data: Option<(Pubkey, Vec<u8>)>,
    pub compute_units: Option<u64>,
    pub fee: u64,
    /// The requested accounts after the simulated transaction (`None` where none lives).
    pub accounts: Vec<Option<Account>>,
    pub replacement_blockhash: Option<(Hash, u64)>,
}

/// Why `sendTransaction` refused a transaction, in the terms a node uses.
#[derive(Debug)]
pub enum Refusal {
    /// Not a well-formed transaction (JSON-RPC -32602).
    Malformed(String),
    /// A signature does not verify (-32003, "Transaction signature verification failure").
    SignatureFailure,
    /// The preflight check failed (-32002): a stale blockhash, a signature already processed, or
    /// the execution's own error, with what the execution logged.
    Preflight(Box<Simulation>),
}

/// What a localnet is started with.
#[derive(Clone)]
pub struct Genesis {
    pub slot_time: Duration,
    /// The upgrade authority careledger's ProgramData names (`config init` checks it).
    pub upgrade_authority: Pubkey,
    /// Accounts to place before the first slot (a ledger folder's, for `--ledger`).
    pub accounts: Vec<(Pubkey, Account)>,
    /// How many transactions `getTransaction` and `getSignatureStatuses` remember.
    pub history: usize,
    /// Unix time moves only with `surfnet_timeTravel` (slots and blockhashes still advance):
    /// a test's clock, as deterministic as the embedded bank's.
    pub frozen_time: bool,
}

pub struct Chain {
    svm: LiteSVM,
    slot: u64,
    slot_time: Duration,
    schedule: EpochSchedule,
    /// Unix time = the host's clock plus this (time travel moves it forward).
    offset_ms: i64,
    frozen_time: bool,
    /// The unix time (ms) of the current slot; never goes back.
    slot_unix_ms: i64,
    genesis_hash: Hash,
    /// The newest blockhashes with the slot each was made in, oldest first.
    blockhashes: VecDeque<(Hash, u64)>,
    transaction_count: u64,
    history: HashMap<Signature, Arc<TxRecord>>,
    order: VecDeque<Signature>,
    history_limit: usize,
    /// Newest last; may name signatures the history has since forgotten (skipped when read).
    by_address: HashMap<Pubkey, VecDeque<Signature>>,
    owners: HashMap<Pubkey, BTreeSet<Pubkey>>,
    owner_of: HashMap<Pubkey, Pubkey>,
    faucet: Keypair,
    airdrops: u64,
    pub subscriptions: Subscriptions,
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Chain {
    /// A new ledger: LiteSVM with Agave's mainnet feature set, the SPL programs as BPF, the
    /// Ed25519 precompile, careledger as a native builtin at its declared id with its
    /// ProgramData, the faucet, and the genesis accounts. Signatures, blockhashes and
    /// duplicates are checked here rather than by LiteSVM, which accepts only its latest
    /// blockhash.
    pub fn new(genesis: Genesis) -> Chain {
        crate::native::install_syscall_stubs();
        let mut svm = LiteSVM::new()
            .with_sigverify(false)
            .with_blockhash_check(false)
            .with_transaction_history(0);
        svm.add_builtin(careledger::ID, crate::native::careledger_builtin());
        let faucet = Keypair::new();
        let mut accounts = vec![
            (
                careledger_sdk::pda::program_data(),
                careledger_sdk::embedded::program_data(&genesis.upgrade_authority),
            ),
            (
                faucet.pubkey(),
                Account {
                    lamports: FAUCET_LAMPORTS,
                    owner: solana_sdk_ids::system_program::ID,
                    ..Account::default()
                },
            ),
        ];
        accounts.extend(genesis.accounts);
        let schedule: EpochSchedule = svm.get_sysvar();
        // a frozen clock starts on a whole second, so that a test setting it to the second it
        // reads is not sent into the past by the milliseconds it cannot see
        let now = match genesis.frozen_time {
            true => wall_clock_ms().div_euclid(1000) * 1000,
            false => wall_clock_ms(),
        };
        let genesis_hash = svm.latest_blockhash();
        let mut chain = Chain {
            svm,
            slot: 0,
            slot_time: genesis.slot_time,
            schedule,
            offset_ms: 0,
            frozen_time: genesis.frozen_time,
            slot_unix_ms: now,
            genesis_hash,
            blockhashes: VecDeque::from([(genesis_hash, 0)]),
            transaction_count: 0,
            history: HashMap::new(),
            order: VecDeque::new(),
            history_limit: genesis.history.max(1),
            by_address: HashMap::new(),
            owners: HashMap::new(),
            owner_of: HashMap::new(),
            faucet,
            airdrops: 0,
            subscriptions: Subscriptions::default(),
        };
        for (address, account) in accounts {
            chain.place(address, account);
        }
        chain.write_clock();
        chain
    }

    /// Places an account as it is, outside any transaction (genesis, a ledger folder).
    fn place(&mut self, address: Pubkey, account: Account) {
        // LiteSVM refuses only accounts it cannot load as programs; a genesis account that is
        // neither is placed.
        let _ = self.svm.set_account(address, account);
        self.reindex(&address);
    }

    pub fn slot(&self) -> u64 {
        self.slot
    }

    /// One block per slot: the height is the slot.
    pub fn block_height(&self) -> u64 {
        self.slot
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn transaction_count(&self) -> u64 {
        self.transaction_count
    }

    pub fn schedule(&self) -> &EpochSchedule {
        &self.schedule
    }

    /// The unix time of the current slot, in seconds (the Clock sysvar's `unix_timestamp`).
    pub fn unix_timestamp(&self) -> i64 {
        self.slot_unix_ms.div_euclid(1000)
    }

    /// The newest blockhash and the last block height it is valid at.
    pub fn latest_blockhash(&self) -> (Hash, u64) {
        let (hash, slot) = self
            .blockhashes
            .back()
            .copied()
            .unwrap_or((self.genesis_hash, 0));
        (hash, slot.saturating_add(MAX_PROCESSING_AGE))
    }

    /// Whether a transaction made on `hash` would still be accepted.
    pub fn is_blockhash_valid(&self, hash: &Hash) -> bool {
        self.blockhashes.iter().any(|(h, slot)| {
            h == hash && self.block_height() <= slot.saturating_add(MAX_PROCESSING_AGE)
        })
    }

    pub fn account(&self, address: &Pubkey) -> Option<Account> {
        self.svm.get_account(address).filter(|a| a.lamports > 0)
    }

    pub fn minimum_balance(&self, len: usize) -> u64 {
        self.svm.minimum_balance_for_rent_exemption(len)
    }

    /// Every account `owner` owns (the index a node keeps for `getProgramAccounts`).
    pub fn owned_by(&self, owner: &Pubkey) -> Vec<(Pubkey, Account)> {
        self.owners
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|address| self.account(address).map(|a| (*address, a)))
            .collect()
    }

    pub fn transaction(&self, signature: &Signature) -> Option<Arc<TxRecord>> {
        self.history.get(signature).cloned()
    }

    /// Signatures of transactions naming `address`, newest first, after `before` (exclusive)
    /// and down to `until` (exclusive), at most `limit`.
    pub fn signatures_for(
        &self,
        address: &Pubkey,
        before: Option<&Signature>,
        until: Option<&Signature>,
        limit: usize,
    ) -> Vec<Arc<TxRecord>> {
        let Some(list) = self.by_address.get(address) else {
            return Vec::new();
        };
        let mut started = before.is_none();
        let mut out = Vec::new();
        for signature in list.iter().rev() {
            if !started {
                started = Some(signature) == before;
                continue;
            }
            if Some(signature) == until || out.len() >= limit {
                break;
            }
            if let Some(record) = self.history.get(signature) {
                out.push(record.clone());
            }
        }
        out
    }

    /// The next slot: a new blockhash, the clock at the host's time (or where it stands, if
    /// frozen), slot notifications.
    pub fn advance_slot(&mut self) {
        let target = self.slot.saturating_add(1);
        let unix_ms = if self.frozen_time {
            self.slot_unix_ms
        } else {
            wall_clock_ms().saturating_add(self.offset_ms)
        };
        self.move_to(target, unix_ms);
    }

    /// Moves the clock forward to `unix_ms`, `slot` or the first slot of `epoch`, whichever is
    /// given; the slot and the time move together at one slot per slot time. Refuses the past.
    pub fn time_travel(&mut self, to: TimeTravel) -> Result<(), String> {
        let slot_ms = i64::try_from(self.slot_time.as_millis().max(1)).unwrap_or(i64::MAX);
        let now_ms = self.slot_unix_ms;
        let (slot, unix_ms) = match to {
            TimeTravel::Timestamp(ms) => {
                if ms.div_euclid(1000) == now_ms.div_euclid(1000) && ms <= now_ms {
                    // the clock (whole seconds, as programs read it) already says so
                    return Ok(());
                }
                if ms <= now_ms {
                    return Err(format!(
                        "cannot travel to the past: absoluteTimestamp {ms} ms is not after the clock's {now_ms} ms"
                    ));
                }
                let slots = u64::try_from((ms - now_ms) / slot_ms).unwrap_or(0).max(1);
                (self.slot.saturating_add(slots), ms)
            }
            TimeTravel::Slot(slot) => {
                if slot <= self.slot {
                    return Err(format!(
                        "cannot travel to the past: absoluteSlot {slot} is not after slot {}",
                        self.slot
                    ));
                }
                let ms = i64::try_from(slot - self.slot)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(slot_ms);
                (slot, now_ms.saturating_add(ms))
            }
            TimeTravel::Epoch(epoch) => {
                let slot = self.schedule.get_first_slot_in_epoch(epoch);
                if slot <= self.slot {
                    return Err(format!(
                        "cannot travel to the past: absoluteEpoch {epoch} starts at slot {slot}, not after slot {}",
                        self.slot
                    ));
                }
                let ms = i64::try_from(slot - self.slot)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(slot_ms);
                (slot, now_ms.saturating_add(ms))
            }
        };
        // A bound, so that no request parks the clock at the end of time (every later blockhash
        // would stay valid for ever, and the slot could never move again).
        if slot.saturating_sub(self.slot) > MAX_TRAVEL_SLOTS {
            return Err(format!(
                "cannot travel that far: at most {MAX_TRAVEL_SLOTS} slots ahead of slot {} at a time",
                self.slot
            ));
        }
        self.offset_ms = unix_ms.saturating_sub(wall_clock_ms());
        self.move_to(slot, unix_ms);
        Ok(())
    }

    fn move_to(&mut self, slot: u64, unix_ms: i64) {
        self.slot = slot;
        self.slot_unix_ms = self.slot_unix_ms.max(unix_ms);
        self.svm.expire_blockhash();
        let hash = self.svm.latest_blockhash();
        self.blockhashes.push_back((hash, slot));
        let height = self.block_height();
        while self
            .blockhashes
            .front()
            .is_some_and(|(_, made)| height > made.saturating_add(MAX_PROCESSING_AGE))
        {
            self.blockhashes.pop_front();
        }
        self.write_clock();
        self.subscriptions.notify_slot(slot);
    }

    fn write_clock(&mut self) {
        let (epoch, _) = self.schedule.get_epoch_and_slot_index(self.slot);
        let clock = Clock {
            slot: self.slot,
            epoch_start_timestamp: self.unix_timestamp(),
            epoch,
            leader_schedule_epoch: self.schedule.get_leader_schedule_epoch(self.slot),
            unix_timestamp: self.unix_timestamp(),
        };
        self.svm.set_sysvar(&clock);
    }

    /// Checks what a node checks before it runs a transaction: well formed, signatures, then
    /// (as preflight) a live blockhash and a signature not seen before.
    fn admit(&self, tx: &VersionedTransaction, verify: bool) -> Result<(), Refusal> {
        tx.sanitize()
            .map_err(|e| Refusal::Malformed(format!("invalid transaction: {e}")))?;
        if tx
            .message
            .address_table_lookups()
            .is_some_and(|l| !l.is_empty())
        {
            return Err(Refusal::Malformed(
                "invalid transaction: address lookup tables are not supported by careledger localnet".into(),
            ));
        }
        if verify && !tx.verify_with_results().into_iter().all(|ok| ok) {
            return Err(Refusal::SignatureFailure);
        }
        Ok(())
    }

    /// The error the transaction meets before it runs, if any.
    fn preflight_error(&self, tx: &VersionedTransaction) -> Option<TransactionError> {
        let keys = tx.message.static_account_keys();
        let mut seen = std::collections::HashSet::new();
        if !keys.iter().all(|k| seen.insert(k)) {
            return Some(TransactionError::AccountLoadedTwice);
        }
        if !self.is_blockhash_valid(tx.message.recent_blockhash()) {
            return Some(TransactionError::BlockhashNotFound);
        }
        if self.history.contains_key(&tx.signatures[0]) {
            return Some(TransactionError::AlreadyProcessed);
        }
        None
    }

    fn native_ran(&self, tx: &VersionedTransaction, inner: &InnerInstructionsList) -> bool {
        let keys = tx.message.static_account_keys();
        let is_native = |index: u8| keys.get(usize::from(index)) == Some(&careledger::ID);
        tx.message
            .instructions()
            .iter()
            .any(|ix| is_native(ix.program_id_index))
            || inner
                .iter()
                .flatten()
                .any(|ix| is_native(ix.instruction.program_id_index))
    }

    fn balances(&self, tx: &VersionedTransaction) -> Vec<u64> {
        tx.message
            .static_account_keys()
            .iter()
            .map(|k| self.svm.get_balance(k).unwrap_or(0))
            .collect()
    }

    /// `sendTransaction`: checks, executes on receipt, and records the outcome. With
    /// `preflight`, a transaction that fails is refused with its error and changes nothing (as a
    /// node's preflight simulation refuses it); without, it lands failed and pays its fee.
    pub fn send(
        &mut self,
        tx: VersionedTransaction,
        preflight: bool,
    ) -> Result<Signature, Refusal> {
        self.admit(&tx, true)?;
        let signature = tx.signatures[0];
        if let Some(err) = self.preflight_error(&tx) {
            // Without preflight a node would drop it silently; saying why is kinder and the
            // same error.
            return Err(Refusal::Preflight(Box::new(Simulation::refused(err))));
        }
        let payer = tx.message.static_account_keys()[0];
        let payer_before = self.svm.get_account(&payer);
        let pre_balances = self.balances(&tx);
        let (status, meta) = match self.svm.send_transaction(tx.clone()) {
            Ok(meta) => (Ok(()), meta),
            Err(FailedTransactionMetadata { err, meta }) => (Err(err), meta),
        };
        let TransactionMetadata {
            logs,
            inner_instructions,
            compute_units_consumed,
            return_data,
            fee,
            ..
        } = meta;
        let compute_units =
            (!self.native_ran(&tx, &inner_instructions)).then_some(compute_units_consumed);
        let logs = collapse_native_duplicates(logs);
        let return_data =
            (!return_data.data.is_empty()).then_some((return_data.program_id, return_data.data));
        let charged = self.svm.get_balance(&payer) != payer_before.as_ref().map(|a| a.lamports);
        if let Err(err) = status.clone() {
            if preflight || !charged {
                // what the failed run changed (its fee) is put back: a refused transaction
                // leaves no trace
                if charged {
                    if let Some(before) = payer_before {
                        let _ = self.svm.set_account(payer, before);
                    }
                }
                return Err(Refusal::Preflight(Box::new(Simulation {
                    result: Err(err),
                    logs,
                    inner_instructions,
                    return_data,
                    compute_units,
                    fee,
                    accounts: Vec::new(),
                    replacement_blockhash: None,
                })));
            }
        }
        let post_balances = self.balances(&tx);
        let record = Arc::new(TxRecord {
            signature,
            slot: self.slot,
            block_time: self.unix_timestamp(),
            transaction: tx,
            status,
            fee,
            pre_balances,
            post_balances,
            logs,
            inner_instructions,
            return_data,
            compute_units,
        });
        self.commit(record);
        Ok(signature)
    }

    fn commit(&mut self, record: Arc<TxRecord>) {
        let keys: Vec<Pubkey> = record.transaction.message.static_account_keys().to_vec();
        let message = &record.transaction.message;
        let written: Vec<Pubkey> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| record.status.is_ok() && message.is_maybe_writable(*i, None))
            .map(|(_, k)| *k)
            .chain(std::iter::once(keys[0]))
            .collect();
        for address in &written {
            self.reindex(address);
        }
        self.transaction_count = self.transaction_count.saturating_add(1);
        let signature = record.signature;
        for address in &keys {
            self.by_address
                .entry(*address)
                .or_default()
                .push_back(signature);
        }
        self.history.insert(signature, record.clone());
        self.order.push_back(signature);
        while self.order.len() > self.history_limit {
            if let Some(oldest) = self.order.pop_front() {
                if let Some(old) = self.history.remove(&oldest) {
                    for address in old.transaction.message.static_account_keys() {
                        if let Some(list) = self.by_address.get_mut(address) {
                            while list.front().is_some_and(|s| !self.history.contains_key(s)) {
                                list.pop_front();
                            }
                            if list.is_empty() {
                                self.by_address.remove(address);
                            }
                        }
                    }
                }
            }
        }
        let slot = self.slot;
        for address in &written {
            let account = self.account(address);
            self.subscriptions
                .notify_account(address, account.as_ref(), slot, &self.svm);
        }
        self.subscriptions.notify_transaction(&record, slot);
    }

    /// Keeps the owner index right for `address` after it may have changed.
    fn reindex(&mut self, address: &Pubkey) {
        let owner = self.account(address).map(|a| a.owner);
        let before = self.owner_of.get(address).copied();
        if before == owner {
            return;
        }
        if let Some(old) = before {
            if let Some(set) = self.owners.get_mut(&old) {
                set.remove(address);
            }
            self.owner_of.remove(address);
        }
        if let Some(new) = owner {
            self.owners.entry(new).or_default().insert(*address);
            self.owner_of.insert(*address, new);
        }
    }

    /// `simulateTransaction`: runs without keeping anything.
    pub fn simulate(
        &self,
        mut tx: VersionedTransaction,
        sig_verify: bool,
        replace_blockhash: bool,
        addresses: &[Pubkey],
    ) -> Result<Simulation, Refusal> {
        let mut replacement = None;
        if replace_blockhash {
            let (hash, last_valid) = self.latest_blockhash();
            tx.message.set_recent_blockhash(hash);
            replacement = Some((hash, last_valid));
        }
        self.admit(&tx, sig_verify)?;
        if let Some(err) = self.preflight_error(&tx) {
            let mut refused = Simulation::refused(err);
            refused.replacement_blockhash = replacement;
            return Ok(refused);
        }
        let (result, meta, post) = match self.svm.simulate_transaction(tx.clone()) {
            Ok(info) => (Ok(()), info.meta, info.post_accounts),
            Err(FailedTransactionMetadata { err, meta }) => (Err(err), meta, Vec::new()),
        };
        let accounts = addresses
            .iter()
            .map(|address| {
                post.iter()
                    .find(|(k, _)| k == address)
                    .map(|(_, a)| Account::from(a.clone()))
                    .or_else(|| self.account(address))
                    .filter(|a| a.lamports > 0)
            })
            .collect();
        let compute_units = (!self.native_ran(&tx, &meta.inner_instructions))
            .then_some(meta.compute_units_consumed);
        Ok(Simulation {
            result,
            logs: collapse_native_duplicates(meta.logs),
            compute_units,
            return_data: (!meta.return_data.data.is_empty())
                .then_some((meta.return_data.program_id, meta.return_data.data)),
            inner_instructions: meta.inner_instructions,
            fee: meta.fee,
            accounts,
            replacement_blockhash: replacement,
        })
    }

    /// `getFeeForMessage`: what the message would pay, or `None` if its blockhash is no longer
    /// valid. Simulated, so that precompile signatures and priority fees count as they would.
    pub fn fee_for(&self, message: VersionedMessage) -> Option<u64> {
        if !self.is_blockhash_valid(message.recent_blockhash()) {
            return None;
        }
        let signatures =
            vec![Signature::default(); usize::from(message.header().num_required_signatures)];
        let tx = VersionedTransaction {
            signatures,
            message,
        };
        Some(match self.svm.simulate_transaction(tx) {
            Ok(info) => info.meta.fee,
            Err(failed) => failed.meta.fee,
        })
    }

    /// `requestAirdrop`: a transfer from the faucet, sent like any transaction (with a numbered
    /// memo, so that equal airdrops in one slot are distinct transactions).
    pub fn airdrop(&mut self, to: &Pubkey, lamports: u64) -> Result<Signature, Refusal> {
        self.airdrops = self.airdrops.saturating_add(1);
        let memo = solana_instruction::Instruction {
            program_id: MEMO_PROGRAM,
            accounts: Vec::new(),
            data: format!("careledger localnet airdrop {}", self.airdrops).into_bytes(),
        };
        let transfer =
            solana_system_interface::instruction::transfer(&self.faucet.pubkey(), to, lamports);
        let (blockhash, _) = self.latest_blockhash();
        let message =
            Message::new_with_blockhash(&[transfer, memo], Some(&self.faucet.pubkey()), &blockhash);
        let tx = solana_transaction::Transaction::new(&[&self.faucet], message, blockhash);
        self.send(VersionedTransaction::from(tx), true)
    }

    /// `surfnet_setAccount`: places a state account as given (tests that need an account no
    /// instruction would make: a foreign owner, a look-alike layout, a squatted address).
    /// Programs are not replaced: careledger stays the natively registered one.
    pub fn set_account(&mut self, address: Pubkey, account: Account) -> Result<(), String> {
        if address == careledger::ID || account.executable {
            return Err(format!(
                "surfnet_setAccount places state accounts, not programs ({address})"
            ));
        }
        self.place(address, account);
        let now = self.account(&address);
        let slot = self.slot;
        self.subscriptions
            .notify_account(&address, now.as_ref(), slot, &self.svm);
        Ok(())
    }

    /// The LiteSVM behind the chain (for encoders that read a token account's mint).
    pub fn svm(&self) -> &LiteSVM {
        &self.svm
    }
}

impl Simulation {
    fn refused(err: TransactionError) -> Simulation {
        Simulation {
            result: Err(err),
            logs: Vec::new(),
            inner_instructions: Vec::new(),
            return_data: None,
            compute_units: None,
            fee: 0,
            accounts: Vec::new(),
            replacement_blockhash: None,
        }
    }
}

/// Where `surfnet_timeTravel` moves the clock.
#[derive(Clone, Copy, Debug)]
pub enum TimeTravel {
    /// Unix milliseconds.
    Timestamp(i64),
    Slot(u64),
    Epoch(u64),
}
