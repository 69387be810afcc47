//! The drug supply chain off chain: a manufacturer's pack manifest and tree, the proofs a
//! dispenser sends, and `verify`, which answers the way the DSCSA Verification Router Service does.
//!
//! - The manufacturer calls [`Manifest::plan`] with its serials: each pack gets a random salt, its
//!   leaf is the program's own `logic::supply::leaf_hash`, and the batch commits to the root of
//!   [`PackTree`]. The manifest (written with [`Manifest::to_bytes`]) goes to trading partners with
//!   the goods, or behind a proof service; it holds no serial, only lookup keys, salts and leaves.
//! - Whoever holds a pack and the manifest finds its index and secret ([`Manifest::find`]), and
//!   builds the decommission's proof from the tree.
//! - [`verify_snapshot`] decides from one consistent read of the batch, its status map and the
//!   pack's record; [`verify`] does that read.
//!
//! ```
//! use careledger_supply::gs1::PackIdentifier;
//! use careledger_supply::manifest::Manifest;
//! use solana_pubkey::Pubkey;
//!
//! let pack = PackIdentifier::parse_with_reference_year(
//!     "(01)09506000134352(17)271231(10)LOT42(21)SER001",
//!     2026,
//! )
//! .unwrap();
//! let serials = vec!["SER001".to_string(), "SER002".to_string()];
//! let manifest =
//!     Manifest::plan(&pack.gtin, "LOT42", pack.expiry, &serials, Pubkey::new_unique(), 8).unwrap();
//! assert_eq!(manifest.capacity(), 8); // padded with decoys to hide the batch size
//! let tree = manifest.tree();
//! let (index, secret) = manifest.find(&pack).unwrap();
//! assert!(index < 8); // serials sit in shuffled slots
//! let root = careledger::logic::supply::root_from_proof(
//!     manifest.entries[index as usize].leaf,
//!     index,
//!     &tree.proof(index),
//! );
//! assert_eq!(root, tree.root());
//! # let _ = secret;
//! ```
use crate::gs1::{Gs1Date, Gtin, PackIdentifier};
use crate::SupplyError;
use anchor_lang::AccountDeserialize;
use careledger::constants::{MAX_BATCH_DEPTH, PACK_MAP_HEADER, PACK_MAP_MAGIC};
use careledger::instructions::BatchCommissionArgs;
use careledger::logic::supply::{
    gtin_hash, is_decommissioned, leaf_hash, node_hash, pack_secret, standing, PackStanding,
};
use careledger::state::{Batch, PackRecord, PackState};
use careledger_sdk::transport::{AccountsAt, Transport};
use careledger_sdk::{pda, SdkError};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use std::collections::HashMap;

/// Tags the lookup key, so it is never a pack secret or a leaf of anything.
const LOOKUP_DOMAIN: &[u8] = b"careledger:pack-lookup:v1";
/// First bytes of a manifest file.
const MANIFEST_MAGIC: &[u8; 8] = b"CLMANI01";

/// The 14 digits as bytes, as the program's hashes take them.
pub fn gtin_bytes(gtin: &Gtin) -> [u8; 14] {
    let mut out = [0u8; 14];
    out.copy_from_slice(gtin.as_str().as_bytes());
    out
}

/// The product's on-chain name (`logic::supply::gtin_hash`).
pub fn gtin_hash_of(gtin: &Gtin) -> [u8; 32] {
    gtin_hash(&gtin_bytes(gtin))
}

/// Where a serial sits in a manifest: SHA-256 of the GTIN, lot and serial. Anyone who can read
/// the pack can compute it; it reveals a serial only to someone who guesses it.
pub fn lookup_key(gtin: &Gtin, lot: &str, serial: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(LOOKUP_DOMAIN);
    h.update(gtin.as_str().as_bytes());
    h.update([lot.len() as u8]);
    h.update(lot.as_bytes());
    h.update([serial.len() as u8]);
    h.update(serial.as_bytes());
    h.finalize().into()
}

/// The smallest depth whose tree holds `capacity` leaves (at least 1).
pub fn depth_for(capacity: u32) -> u8 {
    let mut depth = 1u8;
    while (1u64 << depth) < u64::from(capacity) {
        depth += 1;
    }
    depth
}

/// Every level of a batch's tree, leaves first; slots past the capacity hold zero leaves, which
/// the program never accepts (their index is out of range).
#[derive(Clone, Debug)]
pub struct PackTree {
    levels: Vec<Vec<[u8; 32]>>,
}

impl PackTree {
    pub fn new(leaves: &[[u8; 32]], depth: u8) -> Self {
        let width = 1usize << depth;
        let mut level = Vec::with_capacity(width);
        level.extend_from_slice(&leaves[..leaves.len().min(width)]);
        level.resize(width, [0; 32]);
        let mut levels = Vec::with_capacity(usize::from(depth) + 1);
        while level.len() > 1 {
            let next: Vec<[u8; 32]> = level
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(level);
            level = next;
        }
        levels.push(level);
        PackTree { levels }
    }

    pub fn depth(&self) -> u8 {
        (self.levels.len() - 1) as u8
    }

    pub fn root(&self) -> [u8; 32] {
        self.levels[self.levels.len() - 1][0]
    }

    /// Siblings from the leaf up: what `pack_decommission` takes.
    pub fn proof(&self, index: u32) -> Vec<[u8; 32]> {
        let mut i = index as usize;
        self.levels[..self.levels.len() - 1]
            .iter()
            .map(|level| {
                let sibling = level.get(i ^ 1).copied().unwrap_or([0; 32]);
                i >>= 1;
                sibling
            })
            .collect()
    }
}

/// One pack slot of a manifest. A decoy slot (padding) has random bytes in all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub lookup: [u8; 32],
    pub salt: [u8; 32],
    pub leaf: [u8; 32],
}

/// A batch's pack manifest: what verifiers and dispensers need, with no serial in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub batch: Pubkey,
    pub status_map: Pubkey,
    pub gtin: Gtin,
    pub lot: String,
    pub expiry: Gs1Date,
    pub depth: u8,
    pub entries: Vec<ManifestEntry>,
    by_lookup: HashMap<[u8; 32], u32>,
}

fn invalid(message: impl Into<String>) -> SupplyError {
    SupplyError::InvalidInput(message.into())
}

fn random32() -> [u8; 32] {
    let mut out = [0u8; 32];
    OsRng.fill_bytes(&mut out);
    out
}

impl Manifest {
    /// Plans a batch: one slot per serial (in the order given), padded with decoys to a multiple
    /// of `pad_to` slots so the chain shows the batch size only to that granularity.
    /// `status_map` is the address of the (fresh keypair) account that will hold the status bits.
    pub fn plan(
        gtin: &Gtin,
        lot: &str,
        expiry: Gs1Date,
        serials: &[String],
        status_map: Pubkey,
        pad_to: u32,
    ) -> Result<Self, SupplyError> {
        careledger::logic::supply::validate_lot(lot.as_bytes()).map_err(|_| {
            invalid(format!(
                "lot {lot:?} is not 1 to 20 characters of GS1 set 82"
            ))
        })?;
        if serials.is_empty() {
            return Err(invalid("a batch needs at least one serial"));
        }
        let pad_to = u64::from(pad_to.max(1));
        let capacity = (serials.len() as u64).div_ceil(pad_to) * pad_to;
        let max = 1u64 << MAX_BATCH_DEPTH;
        if capacity > max {
            return Err(invalid(format!(
                "{} serials padded to {capacity} slots exceed the {max} packs a batch can hold",
                serials.len()
            )));
        }
        let gtin_hash = gtin_hash(&gtin_bytes(gtin));
        let batch = pda::batch(&gtin_hash, lot.as_bytes()).0;
        let g = gtin_bytes(gtin);
        // Serials go to shuffled slots, decoys fill the rest: neither a slot's position nor the
        // highest slot ever decommissioned tells a serial or the batch's real size.
        let mut slots: Vec<u32> = (0..capacity as u32).collect();
        for i in (1..slots.len()).rev() {
            let j = (OsRng.next_u64() % (i as u64 + 1)) as usize;
            slots.swap(i, j);
        }
        let mut entries: Vec<Option<ManifestEntry>> = vec![None; capacity as usize];
        let mut by_lookup = HashMap::with_capacity(capacity as usize);
        for (i, serial) in serials.iter().enumerate() {
            if careledger::logic::supply::validate_lot(serial.as_bytes()).is_err() {
                return Err(invalid(format!(
                    "serial #{i} {serial:?} is not 1 to 20 characters of GS1 set 82"
                )));
            }
            let slot = slots[i];
            let lookup = lookup_key(gtin, lot, serial);
            if by_lookup.insert(lookup, slot).is_some() {
                return Err(invalid(format!(
                    "serial {serial:?} appears twice: a serial identifies one pack"
                )));
            }
            let salt = random32();
            let secret = pack_secret(&salt, &g, lot.as_bytes(), serial.as_bytes());
            let leaf = leaf_hash(&batch, slot, &secret);
            entries[slot as usize] = Some(ManifestEntry { lookup, salt, leaf });
        }
        let entries: Vec<ManifestEntry> = entries
            .into_iter()
            .map(|e| {
                e.unwrap_or_else(|| ManifestEntry {
                    lookup: random32(),
                    salt: random32(),
                    leaf: random32(),
                })
            })
            .collect();
        Ok(Manifest {
            batch,
            status_map,
            gtin: *gtin,
            lot: lot.to_string(),
            expiry,
            depth: depth_for(capacity as u32),
            entries,
            by_lookup,
        })
    }

    pub fn capacity(&self) -> u32 {
        self.entries.len() as u32
    }

    pub fn gtin_hash(&self) -> [u8; 32] {
        gtin_hash(&gtin_bytes(&self.gtin))
    }

    pub fn tree(&self) -> PackTree {
        let leaves: Vec<[u8; 32]> = self.entries.iter().map(|e| e.leaf).collect();
        PackTree::new(&leaves, self.depth)
    }

    /// What `batch_commission` takes, from this manifest and its tree.
    pub fn commission_args(&self, tree: &PackTree) -> BatchCommissionArgs {
        BatchCommissionArgs {
            gtin_hash: self.gtin_hash(),
            lot: self.lot.as_bytes().to_vec(),
            expires_at: self.expiry.end_of_day_unix(),
            merkle_root: tree.root(),
            depth: self.depth,
            capacity: self.capacity(),
        }
    }

    /// The pack's index and secret, if this manifest lists it: same GTIN and lot, its lookup key
    /// present, and the leaf there the one its serial and salt give (a manifest that lists a key
    /// without the matching leaf does not vouch for the pack).
    pub fn find(&self, pack: &PackIdentifier) -> Option<(u32, [u8; 32])> {
        if pack.gtin != self.gtin || pack.lot != self.lot {
            return None;
        }
        let index = *self
            .by_lookup
            .get(&lookup_key(&pack.gtin, &pack.lot, &pack.serial))?;
        let entry = self.entries.get(index as usize)?;
        let secret = pack_secret(
            &entry.salt,
            &gtin_bytes(&pack.gtin),
            pack.lot.as_bytes(),
            pack.serial.as_bytes(),
        );
        (leaf_hash(&self.batch, index, &secret) == entry.leaf).then_some((index, secret))
    }

    /// The file form: magic, batch, status map, GTIN, lot, expiry (YYMMDD as encoded), depth,
    /// slot count, then 96 bytes per slot.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.entries.len() * 96);
        out.extend_from_slice(MANIFEST_MAGIC);
        out.extend_from_slice(self.batch.as_ref());
        out.extend_from_slice(self.status_map.as_ref());
        out.extend_from_slice(self.gtin.as_str().as_bytes());
        out.push(self.lot.len() as u8);
        out.extend_from_slice(self.lot.as_bytes());
        out.extend_from_slice(self.expiry.yymmdd().as_bytes());
        out.push(self.depth);
        out.extend_from_slice(&self.capacity().to_le_bytes());
        for e in &self.entries {
            out.extend_from_slice(&e.lookup);
            out.extend_from_slice(&e.salt);
            out.extend_from_slice(&e.leaf);
        }
        out
    }

    /// Reads `to_bytes`' form back; `reference_year` resolves the expiry's century (GS1 rule).
    pub fn from_bytes(bytes: &[u8], reference_year: u16) -> Result<Self, SupplyError> {
        let bad = |what: &str| invalid(format!("not a careledger pack manifest: {what}"));
        let mut rest = bytes
            .strip_prefix(MANIFEST_MAGIC.as_slice())
            .ok_or_else(|| bad("it does not start with CLMANI01"))?;
        let mut take = |n: usize| -> Result<&[u8], SupplyError> {
            if rest.len() < n {
                return Err(bad("it is truncated"));
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let batch = Pubkey::try_from(take(32)?).map_err(|_| bad("batch"))?;
        let status_map = Pubkey::try_from(take(32)?).map_err(|_| bad("status map"))?;
        let gtin_text = std::str::from_utf8(take(14)?).map_err(|_| bad("GTIN"))?;
        let gtin = Gtin::parse(gtin_text).map_err(|e| bad(&e.to_string()))?;
        let lot_len = take(1)?[0] as usize;
        let lot = String::from_utf8(take(lot_len)?.to_vec()).map_err(|_| bad("lot"))?;
        let yymmdd = std::str::from_utf8(take(6)?)
            .map_err(|_| bad("expiry"))?
            .to_string();
        let depth = take(1)?[0];
        let count = u32::from_le_bytes(take(4)?.try_into().map_err(|_| bad("count"))?);
        if depth == 0 || depth > MAX_BATCH_DEPTH || u64::from(count) > 1u64 << depth || count == 0 {
            return Err(bad("its depth and slot count do not fit a batch"));
        }
        let body = take(count as usize * 96)?;
        if !rest.is_empty() {
            return Err(bad("it has bytes after its last slot"));
        }
        let expiry =
            Gs1Date::from_yymmdd(&yymmdd, reference_year).map_err(|e| bad(&e.to_string()))?;
        let mut entries = Vec::with_capacity(count as usize);
        let mut by_lookup = HashMap::with_capacity(count as usize);
        for (index, slot) in body.chunks_exact(96).enumerate() {
            let mut e = ManifestEntry {
                lookup: [0; 32],
                salt: [0; 32],
                leaf: [0; 32],
            };
            e.lookup.copy_from_slice(&slot[..32]);
            e.salt.copy_from_slice(&slot[32..64]);
            e.leaf.copy_from_slice(&slot[64..]);
            by_lookup.entry(e.lookup).or_insert(index as u32);
            entries.push(e);
        }
        if pda::batch(&gtin_hash(&gtin_bytes(&gtin)), lot.as_bytes()).0 != batch {
            return Err(bad(
                "its batch address is not the one its GTIN and lot give",
            ));
        }
        Ok(Manifest {
            batch,
            status_map,
            gtin,
            lot,
            expiry,
            depth,
            entries,
            by_lookup,
        })
    }
}

/// Why a pack does not verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyReason {
    /// No product is registered for the GTIN, or no batch of it has this lot.
    UnknownBatch,
    /// The batch exists but the manifest lists no pack with this serial: counterfeit.
    UnknownSerial,
    /// The manifest does not match the batch on chain (another root or status map).
    ManifestMismatch,
    /// The pack's expiry is not the batch's.
    ExpiryMismatch,
    Expired,
    Recalled,
    Withdrawn,
    AlreadyDispensed,
    Suspect,
    /// Decommissioned in another state.
    Inactive(PackState),
}

impl VerifyReason {
    /// A short stable name for machines.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyReason::UnknownBatch => "unknown_gtin_lot",
            VerifyReason::UnknownSerial => "unknown_serial",
            VerifyReason::ManifestMismatch => "manifest_mismatch",
            VerifyReason::ExpiryMismatch => "expiry_mismatch",
            VerifyReason::Expired => "expired",
            VerifyReason::Recalled => "recalled",
            VerifyReason::Withdrawn => "withdrawn",
            VerifyReason::AlreadyDispensed => "already_dispensed",
            VerifyReason::Suspect => "suspect",
            VerifyReason::Inactive(_) => "inactive",
        }
    }

    /// The GS1 Lightweight Messaging Standard for verification (what the DSCSA Verification
    /// Router Service relays): a no-match reason, or "additional info" about a known pack.
    pub fn vrs(&self) -> (&'static str, Option<&'static str>) {
        match self {
            VerifyReason::UnknownBatch => ("No_match_GTIN_Serial_Lot", None),
            VerifyReason::UnknownSerial | VerifyReason::ManifestMismatch => {
                ("No_match_GTIN_Serial", None)
            }
            VerifyReason::ExpiryMismatch => ("No_match_GTIN_Serial_Expiry", None),
            VerifyReason::Expired => ("Not_for_re-distribution", Some("Expired")),
            VerifyReason::Recalled | VerifyReason::Withdrawn => {
                ("Not_for_re-distribution", Some("Recalled"))
            }
            VerifyReason::Suspect => ("Not_for_re-distribution", Some("Suspect")),
            VerifyReason::AlreadyDispensed | VerifyReason::Inactive(_) => {
                ("Not_for_re-distribution", None)
            }
        }
    }
}

/// The answer to `verify(pack)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub verified: bool,
    pub reason: Option<VerifyReason>,
    pub batch: Pubkey,
    pub index: Option<u32>,
    /// The pack's state as the chain holds it, when the pack is known.
    pub state: Option<PackState>,
    /// The slot and cluster time the answer was read at.
    pub slot: u64,
    pub checked_at: i64,
}

impl Verification {
    pub fn to_json(&self) -> serde_json::Value {
        let (failure, info) = match &self.reason {
            Some(r) => {
                let (f, i) = r.vrs();
                (Some(f), i)
            }
            None => (None, None),
        };
        serde_json::json!({
            "verified": self.verified,
            "reason": self.reason.map(|r| r.code()),
            "state": self.state.map(|s| format!("{s:?}")),
            "verificationFailureReason": failure,
            "additionalInfo": info,
            "batch": self.batch.to_string(),
            "index": self.index,
            "slot": self.slot,
            "checkedAt": self.checked_at,
        })
    }
}

/// The addresses `verify_snapshot` reads, in order: the batch, its status map and the pack's
/// record (`pack_record` is the batch's record address for slot 0 when the pack is unknown).
pub fn snapshot_addresses(manifest: &Manifest, index: Option<u32>) -> [Pubkey; 3] {
    [
        manifest.batch,
        manifest.status_map,
        pda::pack_record(&manifest.batch, index.unwrap_or(0)).0,
    ]
}

/// One of careledger's accounts of type `A` in a snapshot slot, `None` for anything else.
fn decode_ours<A: AccountDeserialize + anchor_lang::Discriminator>(
    account: &Option<careledger_sdk::Account>,
) -> Option<A> {
    let a = account.as_ref()?;
    careledger_sdk::accounts::decode(&Pubkey::default(), &a.owner, &a.data).ok()
}

/// The decision, from one consistent read (`snapshot_addresses`, in order).
pub fn verify_snapshot(
    pack: &PackIdentifier,
    manifest: &Manifest,
    tree: &PackTree,
    snapshot: &AccountsAt,
) -> Verification {
    let found = manifest.find(pack);
    let mut answer = Verification {
        verified: false,
        reason: None,
        batch: manifest.batch,
        index: found.map(|(i, _)| i),
        state: None,
        slot: snapshot.slot,
        checked_at: snapshot.unix_timestamp,
    };
    let refuse = |mut a: Verification, reason| {
        a.reason = Some(reason);
        a
    };
    let batch: Option<Batch> = snapshot.accounts.first().and_then(decode_ours);
    let (Some(batch), true) = (
        batch,
        pack.gtin == manifest.gtin && pack.lot == manifest.lot,
    ) else {
        return refuse(answer, VerifyReason::UnknownBatch);
    };
    let map = snapshot
        .accounts
        .get(1)
        .and_then(|a| a.as_ref())
        .filter(|a| a.owner == careledger::ID && a.data.len() >= PACK_MAP_HEADER);
    let map_ok = map.is_some_and(|m| {
        m.data[..8] == PACK_MAP_MAGIC && m.data[8..PACK_MAP_HEADER] == manifest.batch.to_bytes()
    });
    if batch.merkle_root != tree.root()
        || batch.status_map != manifest.status_map
        || batch.depth != manifest.depth
        || !map_ok
    {
        return refuse(answer, VerifyReason::ManifestMismatch);
    }
    let Some((index, _)) = found else {
        return refuse(answer, VerifyReason::UnknownSerial);
    };
    if index >= batch.capacity {
        return refuse(answer, VerifyReason::UnknownSerial);
    }
    if pack.expiry.end_of_day_unix() != batch.expires_at {
        return refuse(answer, VerifyReason::ExpiryMismatch);
    }
    let bits = &map.map(|m| &m.data[PACK_MAP_HEADER..]).unwrap_or_default();
    let record: Option<PackRecord> = snapshot
        .accounts
        .get(2)
        .and_then(decode_ours)
        .filter(|r: &PackRecord| r.batch == manifest.batch && r.index == index);
    let state = match (&record, is_decommissioned(bits, index)) {
        (_, false) => PackState::Active,
        (Some(r), true) => r.state,
        (None, true) => PackState::Supplied,
    };
    answer.state = Some(state);
    let expired = snapshot.unix_timestamp >= batch.expires_at;
    let suspect_reports = record.map_or(0, |r| r.suspect_reports);
    let reason = match standing(batch.status, expired, state, suspect_reports) {
        PackStanding::Verified => None,
        PackStanding::Recalled => Some(VerifyReason::Recalled),
        PackStanding::Withdrawn => Some(VerifyReason::Withdrawn),
        PackStanding::Suspect => Some(VerifyReason::Suspect),
        PackStanding::AlreadyDispensed => Some(VerifyReason::AlreadyDispensed),
        PackStanding::Inactive(s) => Some(VerifyReason::Inactive(s)),
        PackStanding::Expired => Some(VerifyReason::Expired),
    };
    answer.verified = reason.is_none();
    answer.reason = reason;
    answer
}

/// `verify(pack)`: one read of the batch, its status map and the pack's record at one slot,
/// then [`verify_snapshot`].
pub async fn verify<T: Transport>(
    transport: &T,
    pack: &PackIdentifier,
    manifest: &Manifest,
    tree: &PackTree,
) -> Result<Verification, SdkError> {
    let index = manifest.find(pack).map(|(i, _)| i);
    let snapshot = transport
        .accounts_at(&snapshot_addresses(manifest, index))
        .await?;
    Ok(verify_snapshot(pack, manifest, tree, &snapshot))
}

/// The EPCIS entry of one careledger event about `batch`, if it is one: commissioning, shipments,
/// pack status changes, suspect reports and the recall.
pub fn epcis_entry(
    batch: &Pubkey,
    event: &careledger_sdk::events::CareledgerEvent,
    transaction: Option<String>,
) -> Option<crate::epcis::EpcisEntry> {
    use crate::epcis::{EpcisEntry, EpcisStep, PackDisposition as D};
    use careledger_sdk::events::CareledgerEvent as E;
    let (at, step) = match event {
        E::BatchCommissioned(e) if e.batch == *batch => (
            e.at,
            EpcisStep::Commissioning {
                quantity: e.capacity,
            },
        ),
        E::ShipmentSent(e) if e.batch == *batch => (
            e.at,
            EpcisStep::Shipping {
                from: e.sender.to_string(),
                to: e.receiver.to_string(),
                epcis_hash: e.epcis_hash,
                quantity: e.quantity,
            },
        ),
        E::ShipmentReceived(e) if e.batch == *batch => (
            e.at,
            EpcisStep::Receiving {
                from: e.sender.to_string(),
                to: e.receiver.to_string(),
                epcis_hash: e.receipt_hash,
                quantity: e.quantity,
            },
        ),
        E::PackStatusChanged(e) if e.batch == *batch => {
            let by = e.actor.to_string();
            let state = match e.new_state {
                PackState::Active => {
                    return Some(EpcisEntry {
                        at: e.at,
                        step: EpcisStep::Reactivated {
                            pack_index: e.index,
                            by,
                        },
                        transaction,
                    })
                }
                PackState::Supplied => D::Supplied,
                PackState::Exported => D::Exported,
                PackState::CheckedOut => D::CheckedOut,
                PackState::Stolen => D::Stolen,
                PackState::Sample => D::Sample,
                PackState::FreeSample => D::FreeSample,
                PackState::Locked => D::Locked,
                PackState::Destroyed => D::Destroyed,
            };
            (
                e.at,
                EpcisStep::Decommissioning {
                    pack_index: e.index,
                    state,
                    by,
                },
            )
        }
        E::SuspectPack(e) if e.batch == *batch => (
            e.at,
            EpcisStep::SuspectReported {
                pack_index: e.index,
                by: e.reporter.to_string(),
            },
        ),
        E::BatchRecalled(e) if e.batch == *batch => (
            e.at,
            EpcisStep::Recall {
                withdrawn: e.status == careledger::state::BatchStatus::Withdrawn,
                reason_code: e.reason_code,
                by: e.manufacturer.to_string(),
            },
        ),
        _ => return None,
    };
    Some(EpcisEntry {
        at,
        step,
        transaction,
    })
}

/// A batch's history as an EPCIS 2.0 document, from the transactions that touched it (their
/// signatures and events, oldest first): the batch's identity comes from the manifest, what
/// happened from the events alone.
pub fn epcis_export(
    manifest: &Manifest,
    manufacturer: &Pubkey,
    transactions: &[(String, Vec<careledger_sdk::events::CareledgerEvent>)],
) -> serde_json::Value {
    let entries: Vec<crate::epcis::EpcisEntry> = transactions
        .iter()
        .flat_map(|(signature, events)| {
            events
                .iter()
                .filter_map(|e| epcis_entry(&manifest.batch, e, Some(signature.clone())))
        })
        .collect();
    let batch = crate::epcis::EpcisBatch {
        gtin: manifest.gtin.as_str().to_string(),
        lot: manifest.lot.clone(),
        expiry: manifest.expiry.to_iso(),
        batch_account: manifest.batch.to_string(),
        manufacturer: manufacturer.to_string(),
        pack_count: manifest.capacity(),
    };
    crate::epcis::export(&batch, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use careledger::logic::supply::{verify_pack, Commitment};

    fn pack(serial: &str) -> PackIdentifier {
        PackIdentifier::parse_with_reference_year(
            &format!("(01)09506000134352(17)271200(10)LOT-7(21){serial}"),
            2026,
        )
        .unwrap()
    }

    fn serials(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("S{i:05}")).collect()
    }

    #[test]
    fn every_planned_pack_proves_against_the_root_and_nothing_else_does() {
        let p = pack("S00000");
        let m = Manifest::plan(
            &p.gtin,
            "LOT-7",
            p.expiry,
            &serials(37),
            Pubkey::new_unique(),
            16,
        )
        .unwrap();
        assert_eq!(m.capacity(), 48);
        assert_eq!(m.depth, 6);
        let tree = m.tree();
        let root = tree.root();
        let c = Commitment {
            batch: &m.batch,
            root: &root,
            depth: m.depth,
            capacity: m.capacity(),
        };
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..37 {
            let (index, secret) = m.find(&pack(&format!("S{i:05}"))).unwrap();
            assert!(index < 48 && seen.insert(index), "slot {index} twice");
            assert_eq!(verify_pack(&c, index, &secret, &tree.proof(index)), Ok(()));
        }
        // shuffled: 37 serials in order would fill slots 0..37 (a 1 in 48!/11! chance)
        assert_ne!(seen, (0..37).collect());
        assert_eq!(m.find(&pack("S99999")), None, "an unknown serial");
        let mut other_lot = pack("S00001");
        other_lot.lot = "LOT-8".into();
        assert_eq!(m.find(&other_lot), None);
    }

    #[test]
    fn a_manifest_round_trips_and_refuses_damage() {
        let p = pack("S00000");
        let m = Manifest::plan(
            &p.gtin,
            "LOT-7",
            p.expiry,
            &serials(5),
            Pubkey::new_unique(),
            1,
        )
        .unwrap();
        let bytes = m.to_bytes();
        let back = Manifest::from_bytes(&bytes, 2026).unwrap();
        assert_eq!(back, m);
        assert!(back.find(&pack("S00003")).is_some());
        for cut in [0, 7, 40, bytes.len() - 1] {
            assert!(
                Manifest::from_bytes(&bytes[..cut], 2026).is_err(),
                "cut at {cut}"
            );
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Manifest::from_bytes(&extra, 2026).is_err());
        let mut moved = bytes.clone();
        moved[8] ^= 1; // another batch address
        let err = Manifest::from_bytes(&moved, 2026).unwrap_err().to_string();
        assert!(err.contains("batch address"), "{err}");
    }

    #[test]
    fn plans_refuse_bad_input() {
        let p = pack("S00000");
        let map = Pubkey::new_unique();
        let dup = vec!["A".to_string(), "A".to_string()];
        assert!(Manifest::plan(&p.gtin, "L", p.expiry, &dup, map, 1)
            .unwrap_err()
            .to_string()
            .contains("appears twice"));
        assert!(Manifest::plan(&p.gtin, "L", p.expiry, &[], map, 1).is_err());
        assert!(Manifest::plan(&p.gtin, "L T", p.expiry, &serials(1), map, 1).is_err());
        assert!(Manifest::plan(&p.gtin, "L", p.expiry, &["a b".to_string()], map, 1).is_err());
    }

    proptest::proptest! {
        /// Any tree, any pack: its own proof verifies; flipping any one bit of the secret, the
        /// index or any sibling, or proving against another batch, never does.
        #[test]
        fn proofs_verify_exactly(
            capacity in 1u32..200,
            pick in 0u32..200,
            flip in 0usize..(32 * 8 * 10),
            seed in proptest::array::uniform32(0u8..),
        ) {
            let batch = Pubkey::new_from_array(seed);
            let other = Pubkey::new_unique();
            let index = pick % capacity;
            let secrets: Vec<[u8; 32]> = (0..capacity)
                .map(|i| {
                    let mut s = seed;
                    s[..4].copy_from_slice(&i.to_le_bytes());
                    s
                })
                .collect();
            let leaves: Vec<[u8; 32]> = secrets
                .iter()
                .enumerate()
                .map(|(i, s)| leaf_hash(&batch, i as u32, s))
                .collect();
            let depth = depth_for(capacity);
            let tree = PackTree::new(&leaves, depth);
            let root = tree.root();
            let c = Commitment { batch: &batch, root: &root, depth, capacity };
            let proof = tree.proof(index);
            let secret = secrets[index as usize];
            proptest::prop_assert_eq!(verify_pack(&c, index, &secret, &proof), Ok(()));
            let oc = Commitment { batch: &other, root: &root, depth, capacity };
            proptest::prop_assert!(verify_pack(&oc, index, &secret, &proof).is_err());
            // one bit flipped somewhere in (secret, siblings...)
            let word = flip / 256 % (proof.len() + 1);
            let bit = flip % 256;
            let mut s2 = secret;
            let mut p2 = proof.clone();
            if word == 0 {
                s2[bit / 8] ^= 1 << (bit % 8);
            } else {
                p2[word - 1][bit / 8] ^= 1 << (bit % 8);
            }
            proptest::prop_assert!(verify_pack(&c, index, &s2, &p2).is_err());
            if capacity > 1 {
                let moved = (index + 1 + (flip as u32 % (capacity - 1))) % capacity;
                proptest::prop_assert!(verify_pack(&c, moved, &secret, &proof).is_err());
            }
        }
    }

    #[test]
    fn depths() {
        assert_eq!(depth_for(1), 1);
        assert_eq!(depth_for(2), 1);
        assert_eq!(depth_for(3), 2);
        assert_eq!(depth_for(1 << 20), 20);
        assert_eq!(depth_for((1 << 20) + 1), 21);
    }
}
