//! The ledger's invariants, each written once as a function over decoded accounts, and checked
//! around every transaction the harness sends on the embedded runtime (`Env::send`), in the
//! property tests and in the fuzz replay.
//!
//! `state` invariants hold for any ledger; `transition` invariants relate the ledger before a
//! transaction to the ledger after it, given who signed and whether it succeeded. They are
//! written independently of the program's own code paths: plain comparisons of stored fields.
use anchor_lang::{AccountDeserialize, Discriminator};
use careledger_sdk::program::state::{
    AcceptedMint, Batch, BatchStatus, EmergencyMarker, EncryptionKey, Invitation,
    NetworkMembership, PackRecord, PackState, Product, Protocol, ProtocolVersion, Shipment,
};
use careledger_sdk::{
    pda, AccessRequest, Claim, ClaimState, Config, ConsentGrant, CoverageRule, GrantStatus,
    Participation, Patient, Policy, Provider, Purpose, RecordAnchor, RecordStatus, ReviewState,
    Study,
};
use solana_pubkey::Pubkey;
use std::cell::Cell;
use std::collections::BTreeMap;

thread_local! {
    /// How many invariant checks ran on this thread (each check of one account, of one pair of
    /// accounts, or of a failed transaction's whole ledger counts once).
    static CHECKS: Cell<u64> = const { Cell::new(0) };
}

pub fn checks_run() -> u64 {
    CHECKS.with(Cell::get)
}

fn count(n: usize) {
    CHECKS.with(|c| c.set(c.get() + n as u64));
}

/// One of our accounts, decoded by its discriminator.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    Config(Config),
    Patient(Patient),
    Provider(Provider),
    Record(RecordAnchor),
    Grant(ConsentGrant),
    Request(AccessRequest),
    Policy(Box<Policy>),
    Rule(CoverageRule),
    Claim(Box<Claim>),
    Study(Box<Study>),
    Participation(Participation),
    Network(NetworkMembership),
    Invitation(Invitation),
    AcceptedMint(AcceptedMint),
    EmergencyMarker(EmergencyMarker),
    EncryptionKey(EncryptionKey),
    Product(Product),
    Batch(Box<Batch>),
    PackRecord(PackRecord),
    Shipment(Shipment),
    Protocol(Box<Protocol>),
    ProtocolVersion(ProtocolVersion),
}

fn decode_as<T: AccountDeserialize + Discriminator>(data: &[u8]) -> Option<T> {
    if data.len() < 8 || &data[..8] != T::DISCRIMINATOR {
        return None;
    }
    T::try_deserialize(&mut &data[..]).ok()
}

/// Decodes a careledger-owned account's data; `None` for anything else.
pub fn decode(data: &[u8]) -> Option<Decoded> {
    use Decoded as D;
    decode_as(data)
        .map(D::Config)
        .or_else(|| decode_as(data).map(D::Patient))
        .or_else(|| decode_as(data).map(D::Provider))
        .or_else(|| decode_as(data).map(D::Record))
        .or_else(|| decode_as(data).map(D::Grant))
        .or_else(|| decode_as(data).map(D::Request))
        .or_else(|| decode_as(data).map(|p| D::Policy(Box::new(p))))
        .or_else(|| decode_as(data).map(D::Rule))
        .or_else(|| decode_as(data).map(|c| D::Claim(Box::new(c))))
        .or_else(|| decode_as(data).map(|s| D::Study(Box::new(s))))
        .or_else(|| decode_as(data).map(D::Participation))
        .or_else(|| decode_as(data).map(D::Network))
        .or_else(|| decode_as(data).map(D::Invitation))
        .or_else(|| decode_as(data).map(D::AcceptedMint))
        .or_else(|| decode_as(data).map(D::EmergencyMarker))
        .or_else(|| decode_as(data).map(D::EncryptionKey))
        .or_else(|| decode_as(data).map(D::Product))
        .or_else(|| decode_as(data).map(|b| D::Batch(Box::new(b))))
        .or_else(|| decode_as(data).map(D::PackRecord))
        .or_else(|| decode_as(data).map(D::Shipment))
        .or_else(|| decode_as(data).map(|p| D::Protocol(Box::new(p))))
        .or_else(|| decode_as(data).map(D::ProtocolVersion))
}

/// Every account the checks look at: raw bytes of all, decoded program accounts, and SPL token
/// balances (for the vaults).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    pub raw: BTreeMap<Pubkey, (u64, Vec<u8>)>,
    pub ours: BTreeMap<Pubkey, Decoded>,
    pub token_balances: BTreeMap<Pubkey, u64>,
}

impl Ledger {
    pub fn insert(&mut self, address: Pubkey, account: &solana_account::Account) {
        self.raw
            .insert(address, (account.lamports, account.data.clone()));
        if account.owner == careledger_sdk::program::ID {
            if let Some(d) = decode(&account.data) {
                self.ours.insert(address, d);
            }
        } else if account.owner == anchor_spl::token::ID && account.data.len() == 165 {
            let amount = u64::from_le_bytes(account.data[64..72].try_into().unwrap());
            self.token_balances.insert(address, amount);
        }
    }

    fn patient(&self, wallet: &Pubkey) -> Option<&Patient> {
        match self.ours.get(&pda::patient(wallet).0) {
            Some(Decoded::Patient(p)) => Some(p),
            _ => None,
        }
    }

    fn protocol(&self, study: &Pubkey) -> Option<&Protocol> {
        match self.ours.get(&pda::protocol(study).0) {
            Some(Decoded::Protocol(p)) => Some(p),
            _ => None,
        }
    }

    fn study(&self, address: &Pubkey) -> Option<&Study> {
        match self.ours.get(address) {
            Some(Decoded::Study(s)) => Some(s),
            _ => None,
        }
    }

    fn grant(&self, address: &Pubkey) -> Option<&ConsentGrant> {
        match self.ours.get(address) {
            Some(Decoded::Grant(g)) => Some(g),
            _ => None,
        }
    }
}

/// What the checks need to know about the transaction between two ledgers.
pub struct TxFacts<'a> {
    pub succeeded: bool,
    pub signers: &'a [Pubkey],
    /// The clock during the transaction.
    pub now: i64,
    /// Every instruction was careledger's (no direct token transfers into a vault).
    pub only_careledger: bool,
}

/// All violations between `before` and `after` (empty when every invariant holds).
pub fn check(before: &Ledger, after: &Ledger, tx: &TxFacts) -> Vec<String> {
    let mut out = Vec::new();
    if !tx.succeeded {
        failed_transaction_changes_nothing(before, after, &mut out);
        return out;
    }
    let changed: Vec<&Pubkey> = after
        .ours
        .keys()
        .filter(|k| before.raw.get(k) != after.raw.get(k))
        .collect();
    for address in &changed {
        state(after, address, &after.ours[address], &mut out);
    }
    for (address, old) in &before.ours {
        transition(before, after, address, old, tx, &mut out);
        if tx.only_careledger {
            vault_moves_by_its_books(before, after, address, books, &mut out);
        }
    }
    for (address, new) in &after.ours {
        if !before.ours.contains_key(address) {
            created(before, address, new, tx, &mut out);
        }
    }
    payouts_are_single_transfers(before, after, &mut out);
    supply_follows_its_rules(before, after, tx, &mut out);
    trials_follow_their_rules(before, after, tx, &mut out);
    out
}

/// Whether `actor` held batch `address` before the transaction: its manufacturer, or the receiver
/// of an acknowledged shipment of it.
fn holds(l: &Ledger, address: &Pubkey, b: &Batch, actor: &Pubkey) -> bool {
    *actor == b.manufacturer
        || l.ours.values().any(|d| {
            matches!(d, Decoded::Shipment(s) if s.batch == *address && s.receiver == *actor && s.received_at != 0)
        })
}

/// Whether `wallet` is a verified dispenser (only a dispenser supplies a pack to the public).
fn is_dispenser(l: &Ledger, wallet: &Pubkey) -> bool {
    matches!(l.ours.get(&pda::provider(wallet).0), Some(Decoded::Provider(p))
        if p.status == careledger_sdk::ProviderStatus::Verified
            && p.supply_roles & careledger_sdk::program::state::SUPPLY_DISPENSER != 0)
}

/// The supply chain, predicted from EU FMD's rules as the issue states them (not from the
/// handlers): a batch's commitment never changes and its recall is final; its status map has
/// exactly `decommissioned` bits set, none past the capacity; a pack leaves Active only with a
/// record whose actor signed, comes back only by that actor within 10 days and never from stolen
/// or destroyed; a record disappears with its bit still set only as a supplied, unreported pack
/// past its window; suspect counts only grow.
fn supply_follows_its_rules(before: &Ledger, after: &Ledger, tx: &TxFacts, out: &mut Vec<String>) {
    use careledger::logic::supply::is_decommissioned;
    use careledger_sdk::program::constants::{PACK_MAP_HEADER, PACK_MAP_MAGIC, UNDO_WINDOW_SECS};
    let bits_of = |l: &Ledger, b: &Batch| -> Option<Vec<u8>> {
        let (_, data) = l.raw.get(&b.status_map)?;
        (data.len() == careledger::logic::supply::pack_map_len(b.capacity)
            && data[..8] == PACK_MAP_MAGIC)
            .then(|| data[PACK_MAP_HEADER..].to_vec())
    };
    for (address, d) in &after.ours {
        let Decoded::Batch(b) = d else { continue };
        count(1);
        let Some(bits) = bits_of(after, b) else {
            out.push(format!(
                "batch {address}: its status map is missing or malformed"
            ));
            continue;
        };
        let set = (0..b.capacity)
            .filter(|&i| is_decommissioned(&bits, i))
            .count();
        let past_capacity = bits.len() * 8 > b.capacity as usize
            && (b.capacity..(bits.len() * 8) as u32).any(|i| is_decommissioned(&bits, i));
        if set != b.decommissioned as usize || past_capacity {
            out.push(format!(
                "batch {address}: {set} bits set, {} decommissioned recorded (bits past capacity: {past_capacity})",
                b.decommissioned
            ));
        }
        let old = match before.ours.get(address) {
            Some(Decoded::Batch(o)) => o,
            Some(_) => continue,
            None => {
                if !tx.signers.contains(&b.manufacturer) || b.decommissioned != 0 {
                    out.push(format!(
                        "batch {address} created unsigned or not all active"
                    ));
                }
                continue;
            }
        };
        let commitment = |x: &Batch| {
            (
                x.manufacturer,
                x.gtin_hash,
                x.lot,
                x.expires_at,
                x.merkle_root,
                x.depth,
                x.capacity,
                x.status_map,
                x.commissioned_at,
            )
        };
        if commitment(old) != commitment(b) {
            out.push(format!("batch {address}: its commitment changed"));
        }
        if old.status != BatchStatus::Active && b.status != old.status {
            out.push(format!("batch {address}: a final recall was undone"));
        }
        if old.status != b.status && !tx.signers.contains(&b.manufacturer) {
            out.push(format!(
                "batch {address}: recalled without its manufacturer"
            ));
        }
        if b.suspect_reports < old.suspect_reports {
            out.push(format!("batch {address}: suspect reports went down"));
        }
        let Some(old_bits) = bits_of(before, old) else {
            continue;
        };
        for (byte, (o, n)) in old_bits.iter().zip(&bits).enumerate() {
            if o == n {
                continue;
            }
            for bit in 0..8u32 {
                let index = byte as u32 * 8 + bit;
                let (was, is) = (
                    is_decommissioned(&old_bits, index),
                    is_decommissioned(&bits, index),
                );
                let record = pda::pack_record(address, index).0;
                match (was, is) {
                    (false, true) => match after.ours.get(&record) {
                        Some(Decoded::PackRecord(r))
                            if tx.signers.contains(&r.actor)
                                && r.decommissioned_at >= tx.now
                                && r.state != PackState::Active
                                && holds(before, address, b, &r.actor)
                                && (r.state != PackState::Supplied
                                    || is_dispenser(before, &r.actor)) => {}
                        _ => out.push(format!(
                            "batch {address} pack {index} decommissioned without a signed record"
                        )),
                    },
                    (true, false) => match before.ours.get(&record) {
                        Some(Decoded::PackRecord(r))
                            if tx.signers.contains(&r.actor)
                                && !matches!(r.state, PackState::Stolen | PackState::Destroyed)
                                && r.suspect_reports == 0
                                && tx.now - r.decommissioned_at <= UNDO_WINDOW_SECS
                                && old.status == BatchStatus::Active
                                && tx.now < old.expires_at
                                && !after.ours.contains_key(&record) => {}
                        _ => out.push(format!(
                            "batch {address} pack {index} set active against the undo rules"
                        )),
                    },
                    _ => {}
                }
            }
        }
    }
    for (address, d) in &before.ours {
        let Decoded::PackRecord(r) = d else { continue };
        count(1);
        match after.ours.get(address) {
            Some(Decoded::PackRecord(n)) => {
                let same = (n.batch, n.index, n.state, n.actor, n.decommissioned_at)
                    == (r.batch, r.index, r.state, r.actor, r.decommissioned_at);
                if !same || n.suspect_reports < r.suspect_reports {
                    out.push(format!("pack record {address} rewritten"));
                }
            }
            Some(_) => out.push(format!("pack record {address} replaced")),
            None => {
                let still_set = match after.ours.get(&r.batch) {
                    Some(Decoded::Batch(b)) => {
                        bits_of(after, b).is_some_and(|bits| is_decommissioned(&bits, r.index))
                    }
                    _ => false,
                };
                let settled = r.state == PackState::Supplied
                    && tx.now > r.decommissioned_at + UNDO_WINDOW_SECS;
                if still_set && !settled {
                    out.push(format!(
                        "pack record {address} closed though the pack stays {:?}",
                        r.state
                    ));
                }
            }
        }
    }
    for (address, d) in &after.ours {
        match d {
            Decoded::PackRecord(r) => {
                let set = match after.ours.get(&r.batch) {
                    Some(Decoded::Batch(b)) => {
                        bits_of(after, b).is_some_and(|bits| is_decommissioned(&bits, r.index))
                    }
                    _ => false,
                };
                if !set {
                    out.push(format!(
                        "pack record {address} for a pack whose bit is clear"
                    ));
                }
            }
            Decoded::Shipment(m) if !before.ours.contains_key(address) => {
                let held = match before.ours.get(&m.batch) {
                    Some(Decoded::Batch(b)) => holds(before, &m.batch, b, &m.sender),
                    _ => false,
                };
                if !held || !tx.signers.contains(&m.sender) {
                    out.push(format!(
                        "shipment {address} sent by {} who does not hold its batch",
                        m.sender
                    ));
                }
            }
            Decoded::Product(p) if !before.ours.contains_key(address) => {
                let authority = match after.ours.get(&pda::config()) {
                    Some(Decoded::Config(c)) => c.credential_authority,
                    _ => Pubkey::default(),
                };
                if !tx.signers.contains(&authority) {
                    out.push(format!(
                        "product {address} registered without the credential authority ({:?})",
                        p.manufacturer
                    ));
                }
            }
            _ => {}
        }
    }
}

/// A failed transaction changes nothing: every account is byte-identical, lamports included.
fn failed_transaction_changes_nothing(before: &Ledger, after: &Ledger, out: &mut Vec<String>) {
    count(1);
    for (address, old) in &before.raw {
        if after.raw.get(address) != Some(old) {
            out.push(format!("failed transaction changed {address}"));
        }
    }
}

/// Invariants of one (new or changed) account in a ledger.
pub fn state(l: &Ledger, address: &Pubkey, account: &Decoded, out: &mut Vec<String>) {
    count(1);
    bump_is_canonical(address, account, out);
    match account {
        Decoded::Record(r) => version_chain_unbroken(l, address, r, out),
        Decoded::Policy(p) => {
            let vault = l.token_balances.get(&p.vault).copied();
            conserved("policy", address, p.funded, vault, p.paid, p.withdrawn, out);
            if p.benefit_used > p.benefit_cap || p.deductible_met > p.deductible {
                out.push(format!("policy {address} over its cap or deductible"));
            }
        }
        Decoded::Study(s) => {
            let vault = l.token_balances.get(&s.vault).copied();
            conserved("study", address, s.funded, vault, s.paid, s.withdrawn, out);
            if vault.is_some_and(|v| v < s.outstanding) {
                out.push(format!("study {address} vault below what it owes"));
            }
        }
        Decoded::Claim(c) => {
            let b = &c.breakdown;
            if c.state == ClaimState::Paid && !(b.benefit > 0 && b.benefit <= b.eligible) {
                out.push(format!(
                    "paid claim {address} pays {} of {}",
                    b.benefit, b.eligible
                ));
            }
        }
        // The program checks the key before writing it (`encryption_key_set`'s validate); the
        // account's own `invariant()` holds only its shape, as state does not call logic.
        Decoded::EncryptionKey(k) if !careledger::logic::keys::is_usable_x25519(&k.x25519) => {
            out.push(format!("key {address} is not a usable X25519 key"));
        }
        Decoded::Participation(p) => {
            let terms = match l.ours.get(&p.study) {
                Some(Decoded::Study(s)) => s.terms,
                _ => return out.push(format!("participation {address} without its study")),
            };
            // settled periods are paid, or forfeited while consent to an amended protocol lacked
            let paid_periods = p.periods_paid.checked_sub(p.periods_forfeited);
            let expected = paid_periods.map(|n| {
                u128::from(terms.enrolment_reward) + u128::from(terms.period_reward) * u128::from(n)
            });
            if expected != Some(u128::from(p.paid)) || p.periods_paid > terms.periods {
                out.push(format!(
                    "participation {address} paid {} for {} periods ({} forfeited)",
                    p.paid, p.periods_paid, p.periods_forfeited
                ));
            }
        }
        _ => {}
    }
}

/// Stored bumps are canonical: the address is the PDA of the account's own fields with the bump
/// `find_program_address` returns.
fn bump_is_canonical(address: &Pubkey, account: &Decoded, out: &mut Vec<String>) {
    let (expected, stored) = match account {
        Decoded::Config(c) => (
            Pubkey::find_program_address(
                &[careledger_sdk::CONFIG_SEED],
                &careledger_sdk::program::ID,
            ),
            c.bump,
        ),
        Decoded::Patient(p) => (pda::patient(&p.wallet), p.bump),
        Decoded::Provider(p) => (pda::provider(&p.wallet), p.bump),
        Decoded::Record(r) => (pda::record(&r.patient, r.index), r.bump),
        Decoded::Grant(g) => (pda::grant_of(g), g.bump),
        Decoded::Request(r) => (pda::request(&r.patient, &r.requester), r.bump),
        Decoded::Policy(p) => {
            let vault = pda::vault(address);
            if (vault.0, vault.1) != (p.vault, p.vault_bump) {
                out.push(format!(
                    "policy {address} vault or vault bump not canonical"
                ));
            }
            (pda::policy(&p.insurer, p.policy_id), p.bump)
        }
        Decoded::Rule(r) => (pda::rule(&r.policy, &r.rule_key), r.bump),
        Decoded::Claim(c) => (
            pda::claim(&c.policy, &c.provider, &c.rule_key, c.service_date),
            c.bump,
        ),
        Decoded::Study(s) => {
            if pda::vault(address).0 != s.vault {
                out.push(format!("study {address} vault not canonical"));
            }
            (pda::study(&s.sponsor, s.study_id), s.bump)
        }
        Decoded::Participation(p) => (pda::participation(&p.study, &p.patient), p.bump),
        Decoded::Network(m) => (pda::network_membership(&m.insurer, &m.provider), m.bump),
        Decoded::Invitation(i) => (pda::invitation(&i.study, &i.patient), i.bump),
        Decoded::AcceptedMint(m) => (pda::accepted_mint(&m.mint), m.bump),
        Decoded::EmergencyMarker(m) => (pda::emergency_marker(&m.patient, &m.clinician), m.bump),
        Decoded::EncryptionKey(k) => (pda::encryption_key(&k.wallet), k.bump),
        Decoded::Product(p) => (pda::product(&p.gtin_hash), p.bump),
        Decoded::Batch(b) => (pda::batch(&b.gtin_hash, b.lot_bytes()), b.bump),
        Decoded::PackRecord(r) => (pda::pack_record(&r.batch, r.index), r.bump),
        Decoded::Shipment(m) => (pda::shipment(&m.sender, &m.epcis_hash), m.bump),
        Decoded::Protocol(p) => (pda::protocol(&p.study), p.bump),
        Decoded::ProtocolVersion(v) => (pda::protocol_version(&v.study, v.version), v.bump),
    };
    if expected != (*address, stored) {
        out.push(format!("{address}: stored bump {stored} is not canonical"));
    }
}

/// Anchors' version chains are unbroken: version n > 1 points at its predecessor, which is
/// version n - 1 of the same patient and class and is superseded.
fn version_chain_unbroken(l: &Ledger, address: &Pubkey, r: &RecordAnchor, out: &mut Vec<String>) {
    if r.version <= 1 {
        return;
    }
    // an amendment entered in error leaves the version it replaced current again
    let retracted = r.status == RecordStatus::EnteredInError;
    match l.ours.get(&pda::record(&r.patient, r.previous).0) {
        Some(Decoded::Record(p))
            if p.version + 1 == r.version
                && p.class == r.class
                && (p.status == RecordStatus::Superseded
                    || (retracted && p.status == RecordStatus::Current)) => {}
        other => out.push(format!(
            "record {address} v{} chain broken: {other:?}",
            r.version
        )),
    }
}

fn conserved(
    what: &str,
    address: &Pubkey,
    funded: u64,
    vault: Option<u64>,
    paid: u64,
    withdrawn: u64,
    out: &mut Vec<String>,
) {
    let Some(vault) = vault else {
        return out.push(format!("{what} {address} has no vault"));
    };
    // Equal unless someone sent tokens straight to the vault (which only adds to it).
    if u128::from(funded) > u128::from(vault) + u128::from(paid) + u128::from(withdrawn) {
        out.push(format!(
            "{what} {address}: funded {funded} > vault {vault} + paid {paid} + withdrawn {withdrawn}"
        ));
    }
}

/// Token conservation per transaction: across a transaction of careledger instructions only,
/// a vault moves by exactly what was funded minus what was paid and withdrawn.
fn vault_moves_by_its_books(
    before: &Ledger,
    after: &Ledger,
    address: &Pubkey,
    books: impl Fn(&Decoded) -> Option<(Pubkey, [u64; 3])>,
    out: &mut Vec<String>,
) {
    let (Some((vault, old)), Some((_, new))) = (
        before.ours.get(address).and_then(&books),
        after.ours.get(address).and_then(&books),
    ) else {
        return;
    };
    let balance = |l: &Ledger| i128::from(l.token_balances.get(&vault).copied().unwrap_or(0));
    let delta = |i: usize| i128::from(new[i]) - i128::from(old[i]);
    let expected = delta(0) - delta(1) - delta(2);
    if balance(after) - balance(before) != expected {
        out.push(format!(
            "vault of {address} moved {} but its books say {expected}",
            balance(after) - balance(before)
        ));
    }
}

fn books(d: &Decoded) -> Option<(Pubkey, [u64; 3])> {
    match d {
        Decoded::Policy(p) => Some((p.vault, [p.funded, p.paid, p.withdrawn])),
        Decoded::Study(s) => Some((s.vault, [s.funded, s.paid, s.withdrawn])),
        _ => None,
    }
}

/// Whether the grant, as stored before the transaction, was live consent at `now`.
fn live(l: &Ledger, g: &ConsentGrant, now: i64) -> bool {
    let epoch = l.patient(&g.patient).map(|p| p.consent_epoch);
    g.status == GrantStatus::Active
        && g.not_before <= now
        && now < g.expires_at
        && epoch == Some(g.consent_epoch)
}

fn patient_or_guardian_signed(l: &Ledger, patient: &Pubkey, tx: &TxFacts) -> bool {
    let guardian = l
        .patient(patient)
        .filter(|p| p.guardian != Pubkey::default() && tx.now < p.guardian_expires_at)
        .map(|p| p.guardian);
    tx.signers
        .iter()
        .any(|s| s == patient || Some(*s) == guardian)
}

/// Invariants between an account before the transaction and the same address after it.
fn transition(
    before: &Ledger,
    after: &Ledger,
    address: &Pubkey,
    old: &Decoded,
    tx: &TxFacts,
    out: &mut Vec<String>,
) {
    count(1);
    let new = after.ours.get(address);
    match (old, new) {
        // Only its wallet sets a key, and each change is one rotation.
        (Decoded::EncryptionKey(k), Some(Decoded::EncryptionKey(n))) if n != k => {
            if !tx.signers.contains(&k.wallet) {
                out.push(format!("key {address} rotated without its wallet"));
            }
            if n.key_version != k.key_version + 1 || n.wallet != k.wallet {
                out.push(format!("key {address} changed by more than one rotation"));
            }
        }
        (Decoded::Grant(g), Some(Decoded::Grant(n))) if n.serial != g.serial => {
            // Another consent made at the address: only where the old one can never authorize
            // again (revoked, of an older epoch, or expired), by the patient or guardian, with a
            // later serial, and starting with no accesses.
            let epoch = before.patient(&g.patient).map(|p| p.consent_epoch);
            let spent = g.status == GrantStatus::Revoked
                || epoch != Some(g.consent_epoch)
                || tx.now >= g.expires_at;
            if !spent {
                out.push(format!("live grant {address} was replaced"));
            }
            if n.serial <= g.serial || n.access_count != 0 || n.status != GrantStatus::Active {
                out.push(format!(
                    "grant {address} replaced by serial {} (was {}) not fresh",
                    n.serial, g.serial
                ));
            }
            if !patient_or_guardian_signed(before, &g.patient, tx) {
                out.push(format!("grant {address} replaced without the patient"));
            }
        }
        (Decoded::Grant(g), new) => {
            let new = match new {
                Some(Decoded::Grant(n)) => Some(n),
                _ => None,
            };
            // Revocation is absorbing (for that consent: a new serial is another one).
            if g.status == GrantStatus::Revoked
                && new.is_some_and(|n| {
                    n.status != GrantStatus::Revoked || n.revoked_at != g.revoked_at
                })
            {
                out.push(format!("revoked grant {address} came back"));
            }
            if let Some(n) = new {
                // A revoked, expired, not-yet-valid or older-epoch grant never authorizes.
                if n.access_count > g.access_count && !live(before, g, tx.now) {
                    out.push(format!(
                        "grant {address} authorized an access while not live"
                    ));
                }
                // Only the patient or guardian changes a grant (its use count aside).
                let mut terms = n.clone();
                terms.access_count = g.access_count;
                if terms != *g && !patient_or_guardian_signed(before, &g.patient, tx) {
                    out.push(format!("grant {address} changed without the patient"));
                }
            }
        }
        // Superseded anchors accept nothing, but being reinstated when the amendment that
        // replaced them is retracted in the same transaction.
        (Decoded::Record(r), new)
            if r.status == RecordStatus::Superseded
                && new != Some(old)
                && !reinstated(before, after, address, r, new) =>
        {
            out.push(format!("superseded record {address} changed"));
        }
        (Decoded::Claim(c), Some(Decoded::Claim(n))) => {
            if !claim_edge_allowed(c.state, n.state, c.appealed) {
                out.push(format!(
                    "claim {address} moved {:?} -> {:?}",
                    c.state, n.state
                ));
            }
            if c.state == ClaimState::Paid && n.breakdown != c.breakdown {
                out.push(format!("paid claim {address} changed its payment"));
            }
        }
        (Decoded::Claim(_), None) => out.push(format!("claim {address} vanished")),
        (Decoded::Participation(p), Some(Decoded::Participation(n))) => {
            let due = match before.ours.get(&p.study) {
                Some(Decoded::Study(s)) => {
                    careledger::logic::rewards::periods_due(&s.terms, p.enrolled_at, tx.now)
                }
                _ => 0,
            };
            if n.periods_paid < p.periods_paid || n.periods_paid > due.max(p.periods_paid) {
                out.push(format!(
                    "participation {address} periods {} -> {} with {due} due",
                    p.periods_paid, n.periods_paid
                ));
            }
            // Only periods that ended while consent had been unbroken since enrolment are paid.
            if n.periods_paid > p.periods_paid {
                let paid_for = match before.ours.get(&p.study) {
                    Some(Decoded::Study(s)) => careledger::logic::rewards::periods_due(
                        &s.terms,
                        p.enrolled_at,
                        unbroken_consent_until(before, p).min(tx.now),
                    ),
                    _ => 0,
                };
                if n.periods_paid > paid_for {
                    out.push(format!(
                        "participation {address} paid {} periods, {paid_for} ended under unbroken consent",
                        n.periods_paid
                    ));
                }
            }
        }
        _ => {}
    }
}

/// `r` (superseded) became current again, unchanged otherwise, because the amendment that
/// replaced it went from current to entered-in-error in the same transaction.
fn reinstated(
    before: &Ledger,
    after: &Ledger,
    address: &Pubkey,
    r: &RecordAnchor,
    new: Option<&Decoded>,
) -> bool {
    let Some(Decoded::Record(n)) = new else {
        return false;
    };
    let back = RecordAnchor {
        status: RecordStatus::Current,
        ..r.clone()
    };
    let successor_retracted = after.ours.iter().any(|(a, d)| {
        matches!(d, Decoded::Record(s) if s.patient == r.patient
            && s.previous == r.index
            && s.status == RecordStatus::EnteredInError
            && matches!(before.ours.get(a), Some(Decoded::Record(o)) if o.status == RecordStatus::Current))
    });
    *n == back && successor_retracted && pda::record(&r.patient, r.index).0 == *address
}

/// Until when the consent behind a participation was unbroken, from the grant's stored times: its
/// revocation, expiry and first narrowing, the patient's revoke-all, or enrolment itself when the
/// grant is gone or is another consent (a different serial).
fn unbroken_consent_until(l: &Ledger, p: &Participation) -> i64 {
    if p.ended {
        return p.accrual_end;
    }
    let Some(g) = l.grant(&p.grant).filter(|g| g.serial == p.grant_serial) else {
        return p.enrolled_at;
    };
    let mut until = g.expires_at;
    if g.status == GrantStatus::Revoked {
        until = until.min(i64::from(g.revoked_at));
    }
    if g.narrowed_at != 0 {
        until = until.min(i64::from(g.narrowed_at));
    }
    if let Some(patient) = l.patient(&g.patient) {
        if patient.consent_epoch == g.consent_epoch + 1 {
            until = until.min(patient.epoch_changed_at);
        } else if patient.consent_epoch != g.consent_epoch {
            until = p.enrolled_at;
        }
    }
    until.max(p.enrolled_at)
}

/// The billing provider, not the member, cares for the member: it wrote the record under a care
/// grant, or held a live treatment or operations grant covering it, given by the end of the
/// service day; and the record documents the service (anchored that day or within the window).
fn cares_for(l: &Ledger, claim: &Claim, member: &Pubkey, now: i64) -> bool {
    let Some(Decoded::Record(r)) = l.ours.get(&claim.record) else {
        return false;
    };
    let anchored = i64::from(r.anchored_at);
    let documented = claim.service_date <= anchored
        && anchored < claim.service_date + careledger_sdk::DOCUMENTATION_WINDOW_SECS;
    let day_end = claim.service_date + careledger_sdk::SECONDS_PER_DAY;
    let covers = |g: &ConsentGrant| {
        live(l, g, now)
            && i64::from(g.created_at).max(g.not_before) < day_end
            && g.actions & careledger_sdk::action::READ != 0
            && g.classes & (1 << r.class) != 0
            && (g.record_scope == careledger_sdk::NO_RECORD_SCOPE || g.record_scope == r.index)
    };
    let granted = [Purpose::Treatment, Purpose::Operations]
        .iter()
        .any(|&purpose| {
            l.grant(&pda::grant(member, &claim.provider, purpose).0)
                .is_some_and(covers)
        });
    let guardian = l.patient(member).map(|p| p.guardian);
    claim.provider != *member
        && Some(claim.provider) != guardian
        && documented
        && ((r.author == claim.provider && r.care_authored && r.care_since < day_end) || granted)
}

/// The claim state machine: submission decides (or sends to review); review decides; a denial
/// may be appealed once; owed claims are settled or cancelled; Paid and Cancelled are final.
pub fn claim_edge_allowed(from: ClaimState, to: ClaimState, appealed: bool) -> bool {
    use ClaimState::*;
    from == to
        || matches!(
            (from, to),
            (
                PendingReview,
                Approved | Partial | Denied | Paid | Cancelled
            ) | (Approved | Partial, Paid | Cancelled)
        )
        || (from == Denied && to == PendingReview && !appealed)
}

/// Invariants of an account the transaction created.
fn created(before: &Ledger, address: &Pubkey, new: &Decoded, tx: &TxFacts, out: &mut Vec<String>) {
    count(1);
    match new {
        Decoded::Grant(g) => {
            let ok = if g.purpose == Purpose::Emergency {
                tx.signers.contains(&g.grantee) && g.review == ReviewState::Pending
            } else {
                patient_or_guardian_signed(before, &g.patient, tx)
            };
            if !ok {
                out.push(format!(
                    "grant {address} created without the patient's signature"
                ));
            }
        }
        Decoded::Claim(c) => {
            // The insurer's payment grant was live when the claim was made.
            let insurer_and_member = match before.ours.get(&c.policy) {
                Some(Decoded::Policy(p)) => Some((p.insurer, p.patient)),
                _ => None,
            };
            let consent = insurer_and_member.and_then(|(insurer, member)| {
                before.grant(&pda::grant(&member, &insurer, Purpose::Payment).0)
            });
            if !consent.is_some_and(|g| live(before, g, tx.now)) {
                out.push(format!(
                    "claim {address} submitted without live payment consent"
                ));
            }
            let Some(Decoded::Policy(policy)) = before.ours.get(&c.policy) else {
                return out.push(format!("claim {address} without its policy"));
            };
            if !cares_for(before, c, &policy.patient, tx.now) {
                out.push(format!(
                    "claim {address} billed by a provider with no care relationship"
                ));
            }
            let member = pda::network_membership(&policy.insurer, &c.provider).0;
            if policy.network_only && !matches!(before.ours.get(&member), Some(Decoded::Network(_)))
            {
                out.push(format!(
                    "claim {address} on a network-only policy by an out-of-network provider"
                ));
            }
            if !matches!(before.ours.get(&c.record), Some(Decoded::Record(r)) if r.status == RecordStatus::Current)
            {
                out.push(format!(
                    "claim {address} cites a record that is not current"
                ));
            }
        }
        Decoded::EncryptionKey(k) if !tx.signers.contains(&k.wallet) || k.key_version != 1 => {
            out.push(format!("key {address} published without its wallet"));
        }
        Decoded::Participation(p) => {
            if p.periods_paid != 0 {
                out.push(format!("participation {address} starts with periods paid"));
            }
            // The sponsor decided eligibility first: an unused invitation existed.
            let invitation = pda::invitation(&p.study, &p.patient).0;
            if !matches!(before.ours.get(&invitation), Some(Decoded::Invitation(i)) if i.used_at == 0)
            {
                out.push(format!(
                    "participation {address} enrolled without an invitation"
                ));
            }
        }
        _ => {}
    }
}

/// Paid implies exactly one transfer: for each policy, what it paid in this transaction is the
/// sum of the benefits of the claims that became Paid in it.
fn payouts_are_single_transfers(before: &Ledger, after: &Ledger, out: &mut Vec<String>) {
    let mut newly_paid: BTreeMap<Pubkey, u128> = BTreeMap::new();
    for (address, new) in &after.ours {
        let Decoded::Claim(c) = new else { continue };
        let was_paid = matches!(before.ours.get(address), Some(Decoded::Claim(o)) if o.state == ClaimState::Paid);
        if c.state == ClaimState::Paid && !was_paid {
            *newly_paid.entry(c.policy).or_default() += u128::from(c.breakdown.benefit);
        }
    }
    for (address, new) in &after.ours {
        let Decoded::Policy(p) = new else { continue };
        count(1);
        let old_paid = match before.ours.get(address) {
            Some(Decoded::Policy(o)) => o.paid,
            _ => 0,
        };
        let delta = u128::from(p.paid) - u128::from(old_paid).min(u128::from(p.paid));
        let expected = newly_paid.get(address).copied().unwrap_or(0);
        if p.paid < old_paid || delta != expected {
            out.push(format!(
                "policy {address} paid {delta} but its claims newly paid {expected}"
            ));
        }
    }
}

/// When a participant who consented to `consented` of `study`'s protocol stopped accruing: the
/// registration of the first material version after theirs (issue 29: "participants who
/// consented to an older version stop accruing rewards until they re-consent").
fn stale_at(l: &Ledger, study: &Pubkey, consented: u16) -> Option<i64> {
    l.ours
        .values()
        .filter_map(|d| match d {
            Decoded::ProtocolVersion(v)
                if v.study == *study && v.material && v.version > consented =>
            {
                Some((v.version, v.registered_at))
            }
            _ => None,
        })
        .min()
        .map(|(_, at)| at)
}

/// Issue 29's rules, from its words: only the sponsor registers and amends, at the ledger's
/// time, before anyone enrols; each amendment is a new version and the old ones are kept; a
/// change of outcomes is material; nothing of the protocol changes after the data lock, and
/// results are reported once, after it; the outcomes in force at the first enrolment are the
/// pre-specified ones for good; a participant enrols under the current version, moves to a
/// newer one only by their own (or their guardian's) consent, and is paid nothing for periods
/// that came due after a material amendment they had not consented to.
fn trials_follow_their_rules(before: &Ledger, after: &Ledger, tx: &TxFacts, out: &mut Vec<String>) {
    count(1);
    let sponsor_signed = |study: &Pubkey| {
        before
            .study(study)
            .is_some_and(|s| tx.signers.contains(&s.sponsor))
    };
    for (address, old) in &before.ours {
        let vanished = !after.ours.contains_key(address);
        match old {
            Decoded::Protocol(_) if vanished => out.push(format!("protocol {address} vanished")),
            Decoded::ProtocolVersion(_) if vanished => {
                out.push(format!("protocol version {address} vanished"))
            }
            _ => {}
        }
    }
    for (address, new) in &after.ours {
        match (before.ours.get(address), new) {
            (None, Decoded::Protocol(p)) => {
                if !sponsor_signed(&p.study) {
                    out.push(format!("protocol {address} registered without its sponsor"));
                }
                if p.registered_at != tx.now || p.version != 1 || p.material_version != 1 {
                    out.push(format!(
                        "protocol {address} registered as version {} at {} (now {})",
                        p.version, p.registered_at, tx.now
                    ));
                }
                if p.first_enrolment_at != 0 {
                    out.push(format!("protocol {address} registered after an enrolment"));
                }
            }
            (Some(Decoded::Protocol(o)), Decoded::Protocol(n)) if o != n => {
                protocol_moves(after, address, o, n, tx, sponsor_signed(&o.study), out)
            }
            (None, Decoded::ProtocolVersion(v)) => {
                if !matches!(after.protocol(&v.study), Some(p) if p.version == v.version) {
                    out.push(format!(
                        "protocol version {address} written but not the current version"
                    ));
                }
                if v.registered_at != tx.now || !sponsor_signed(&v.study) {
                    out.push(format!(
                        "protocol version {address} not the sponsor's, or back-dated"
                    ));
                }
            }
            (Some(Decoded::ProtocolVersion(o)), Decoded::ProtocolVersion(n)) if o != n => {
                out.push(format!("protocol version {address} rewritten"));
            }
            (None, Decoded::Participation(p)) => {
                let current = before.protocol(&p.study).map(|r| r.version);
                if current != Some(p.protocol_version) {
                    out.push(format!(
                        "participation {address} enrolled under version {} (current: {current:?})",
                        p.protocol_version
                    ));
                }
            }
            (Some(Decoded::Participation(o)), Decoded::Participation(n)) => {
                participation_follows_its_protocol(before, after, address, o, n, tx, out)
            }
            _ => {}
        }
    }
}

fn protocol_moves(
    after: &Ledger,
    address: &Pubkey,
    o: &Protocol,
    n: &Protocol,
    tx: &TxFacts,
    sponsor_signed: bool,
    out: &mut Vec<String>,
) {
    if (n.study, n.registry_id, n.registered_at, n.planned_enrolment)
        != (o.study, o.registry_id, o.registered_at, o.planned_enrolment)
    {
        out.push(format!("protocol {address} rewrote its registration"));
    }
    // what an enrolment (the participant's transaction) may change: the first one fixes the
    // pre-specified outcomes as the commitments in force
    let mut enrolled = o.clone();
    if o.first_enrolment_at == 0 && n.first_enrolment_at == tx.now {
        enrolled.first_enrolment_at = tx.now;
        enrolled.prespecified_primary = o.primary_outcomes;
        enrolled.prespecified_secondary = o.secondary_outcomes;
    }
    if *n != enrolled && !sponsor_signed {
        out.push(format!("protocol {address} changed without its sponsor"));
    }
    if o.first_enrolment_at != 0
        && (
            n.first_enrolment_at,
            n.prespecified_primary,
            n.prespecified_secondary,
        ) != (
            o.first_enrolment_at,
            o.prespecified_primary,
            o.prespecified_secondary,
        )
    {
        out.push(format!(
            "protocol {address} changed its pre-specified outcomes after the first enrolment"
        ));
    }
    let outcomes_changed =
        (n.primary_outcomes, n.secondary_outcomes) != (o.primary_outcomes, o.secondary_outcomes);
    if n.version == o.version {
        if outcomes_changed
            || (n.material_version, n.material_at) != (o.material_version, o.material_at)
        {
            out.push(format!("protocol {address} changed without a new version"));
        }
    } else if n.version == o.version + 1 {
        let version = after
            .ours
            .get(&pda::protocol_version(&n.study, n.version).0);
        let Some(Decoded::ProtocolVersion(v)) = version else {
            return out.push(format!(
                "protocol {address} amended without keeping the version"
            ));
        };
        if (v.primary_outcomes, v.secondary_outcomes) != (n.primary_outcomes, n.secondary_outcomes)
            || v.previous_material != o.material_version
        {
            out.push(format!(
                "protocol {address}: version {} does not record the amendment",
                n.version
            ));
        }
        if outcomes_changed && !v.material {
            out.push(format!(
                "protocol {address}: outcomes changed in a non-material amendment"
            ));
        }
        let expected = if v.material {
            (n.version, tx.now)
        } else {
            (o.material_version, o.material_at)
        };
        if (n.material_version, n.material_at) != expected {
            out.push(format!(
                "protocol {address}: material version not the newest material amendment"
            ));
        }
    } else {
        out.push(format!(
            "protocol {address} skipped from version {} to {}",
            o.version, n.version
        ));
    }
    if o.analysis_plan_at != 0
        && o.locked_at != 0
        && n.analysis_plan_sha256 != o.analysis_plan_sha256
    {
        out.push(format!(
            "protocol {address} changed its analysis plan after the lock"
        ));
    }
    if o.locked_at != 0
        && (n.version, n.locked_at, n.dataset_sha256) != (o.version, o.locked_at, o.dataset_sha256)
    {
        out.push(format!("protocol {address} changed after the data lock"));
    }
    if o.locked_at == 0 && n.locked_at != 0 && (o.analysis_plan_at == 0 || n.locked_at != tx.now) {
        out.push(format!(
            "protocol {address} locked without an analysis plan, or back-dated"
        ));
    }
    if o.results_at != 0
        && (n.results_at, n.outcomes_switched) != (o.results_at, o.outcomes_switched)
    {
        out.push(format!("protocol {address} reported its results twice"));
    }
    if o.results_at == 0 && n.results_at != 0 && (o.locked_at == 0 || n.results_at != tx.now) {
        out.push(format!(
            "protocol {address} reported before the data lock, or back-dated"
        ));
    }
}

fn participation_follows_its_protocol(
    before: &Ledger,
    after: &Ledger,
    address: &Pubkey,
    o: &Participation,
    n: &Participation,
    tx: &TxFacts,
    out: &mut Vec<String>,
) {
    if n.protocol_version != o.protocol_version {
        let current = after.protocol(&n.study).map(|p| p.version);
        if current != Some(n.protocol_version) || n.protocol_version < o.protocol_version {
            out.push(format!(
                "participation {address} moved to version {} (current {current:?})",
                n.protocol_version
            ));
        }
        if !patient_or_guardian_signed(before, &o.patient, tx) {
            out.push(format!(
                "participation {address} consented to a new version without the patient"
            ));
        }
    }
    let Some(terms) = before.study(&o.study).map(|s| s.terms) else {
        return;
    };
    let stale = stale_at(before, &o.study, o.protocol_version);
    let paid = |p: &Participation| p.periods_paid.saturating_sub(p.periods_forfeited);
    if paid(n) > paid(o) {
        let until = stale.map_or(tx.now, |at| at.min(tx.now));
        let earned = careledger::logic::rewards::periods_due(&terms, o.enrolled_at, until);
        if n.periods_paid > earned.max(o.periods_paid) {
            out.push(format!(
                "participation {address} paid through period {} with {earned} earned before its consent to the protocol went stale",
                n.periods_paid
            ));
        }
    }
    if n.periods_forfeited != o.periods_forfeited {
        let forfeited_now = n.periods_forfeited.checked_sub(o.periods_forfeited);
        let due_at_stale =
            stale.map(|at| careledger::logic::rewards::periods_due(&terms, o.enrolled_at, at));
        let fair = match (forfeited_now, due_at_stale) {
            (Some(k), Some(due)) => {
                o.periods_paid >= due
                    && n.periods_paid == o.periods_paid + k
                    && n.periods_paid
                        <= careledger::logic::rewards::periods_due(&terms, o.enrolled_at, tx.now)
                    && n.protocol_version != o.protocol_version
            }
            _ => false,
        };
        if !fair {
            out.push(format!(
                "participation {address} forfeited {} -> {} periods unfairly",
                o.periods_forfeited, n.periods_forfeited
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_state_machine_has_exactly_its_edges() {
        use ClaimState::*;
        let all = [PendingReview, Approved, Partial, Denied, Paid, Cancelled];
        let mut edges = vec![];
        for from in all {
            for to in all {
                for appealed in [false, true] {
                    if from != to && claim_edge_allowed(from, to, appealed) {
                        edges.push((from, to, appealed));
                    }
                }
            }
        }
        // 5 + 2 + 2 edges out of review and owed states (either appeal flag), plus the one appeal.
        assert_eq!(edges.len(), (5 + 2 + 2) * 2 + 1, "{edges:?}");
        assert!(!claim_edge_allowed(Paid, PendingReview, false));
        assert!(!claim_edge_allowed(Denied, PendingReview, true));
        assert!(!claim_edge_allowed(Cancelled, Paid, false));
    }
}
