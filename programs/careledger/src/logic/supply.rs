//! Drug supply chain: the pack commitment (hashes and Merkle proofs), the status bits, and the
//! EU FMD status rules (Delegated Regulation 2016/161), as pure functions the program and the SDK
//! both call.
//!
//! A batch commits to its packs without revealing a serial: pack `i`'s leaf is
//! `leaf_hash(batch, i, pack_secret(salt_i, gtin, lot, serial_i))`, and the batch stores the root
//! of the tree of leaves in index order. The salt comes from the manufacturer's manifest, which
//! only trading partners hold, so a pack secret seen on chain cannot be turned back into a serial
//! even when serials are sequential.
use crate::constants::{MAX_BATCH_DEPTH, MAX_LOT_LEN, PACK_MAP_HEADER, UNDO_WINDOW_SECS};
use crate::errors::CareledgerError;
use crate::state::{BatchStatus, PackState, SUPPLY_DISPENSER, SUPPLY_ROLES_ALL};
use anchor_lang::prelude::Pubkey;
use solana_sha256_hasher::hashv;

/// Domain tags: a leaf can never be read as an inner node (second-preimage attacks on the tree),
/// and none of these hashes can be replayed as another.
pub const GTIN_DOMAIN: &[u8] = b"careledger:gtin:v1";
pub const PACK_SECRET_DOMAIN: &[u8] = b"careledger:pack-secret:v1";
pub const LEAF_PREFIX: &[u8] = &[0x00];
pub const NODE_PREFIX: &[u8] = &[0x01];

/// The product's on-chain name: SHA-256 of the domain and the 14 GTIN digits. A GTIN is printed
/// on every pack, so this hides nothing from a determined reader; it keeps seeds fixed-size.
pub fn gtin_hash(gtin14: &[u8; 14]) -> [u8; 32] {
    hashv(&[GTIN_DOMAIN, gtin14]).to_bytes()
}

/// What a holder of the pack (who can read its serial) and of the manifest (its salt) can compute,
/// and nobody else. Lengths are prefixed so no two (lot, serial) pairs collide.
pub fn pack_secret(salt: &[u8; 32], gtin14: &[u8; 14], lot: &[u8], serial: &[u8]) -> [u8; 32] {
    let lot_len = [u8::try_from(lot.len()).unwrap_or(u8::MAX)];
    let serial_len = [u8::try_from(serial.len()).unwrap_or(u8::MAX)];
    hashv(&[
        PACK_SECRET_DOMAIN,
        salt,
        gtin14,
        &lot_len,
        lot,
        &serial_len,
        serial,
    ])
    .to_bytes()
}

/// Pack `index` of `batch`: binding the batch's address and the index means a proof from another
/// batch, or for another position, never verifies.
pub fn leaf_hash(batch: &Pubkey, index: u32, secret: &[u8; 32]) -> [u8; 32] {
    hashv(&[LEAF_PREFIX, batch.as_ref(), &index.to_le_bytes(), secret]).to_bytes()
}

pub fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    hashv(&[NODE_PREFIX, left, right]).to_bytes()
}

/// The root reached from `leaf` at `index` through `proof` (siblings from the leaf up): bit `k`
/// of the index says whether the node at level `k` is a right child. The loop is bounded by the
/// proof, which callers check is exactly the batch's depth (at most `MAX_BATCH_DEPTH`).
pub fn root_from_proof(leaf: [u8; 32], index: u32, proof: &[[u8; 32]]) -> [u8; 32] {
    let mut node = leaf;
    let mut position = index;
    for sibling in proof {
        node = if position & 1 == 1 {
            node_hash(sibling, &node)
        } else {
            node_hash(&node, sibling)
        };
        position >>= 1;
    }
    node
}

/// A batch's commitment as the program checks it.
pub struct Commitment<'a> {
    pub batch: &'a Pubkey,
    pub root: &'a [u8; 32],
    pub depth: u8,
    pub capacity: u32,
}

/// Whether `secret` is pack `index` of the batch: the index is in range, the proof has exactly
/// `depth` levels, and it leads to the root.
pub fn verify_pack(
    c: &Commitment,
    index: u32,
    secret: &[u8; 32],
    proof: &[[u8; 32]],
) -> Result<(), CareledgerError> {
    if index >= c.capacity {
        return Err(CareledgerError::PackIndexOutOfRange);
    }
    if proof.len() != usize::from(c.depth) {
        return Err(CareledgerError::InvalidPackProof);
    }
    let root = root_from_proof(leaf_hash(c.batch, index, secret), index, proof);
    if &root != c.root {
        return Err(CareledgerError::InvalidPackProof);
    }
    Ok(())
}

/// Checks a batch's shape: 1..=MAX_BATCH_DEPTH levels, 1..=2^depth packs.
pub fn validate_batch_shape(depth: u8, capacity: u32) -> Result<(), CareledgerError> {
    let fits = (1..=MAX_BATCH_DEPTH).contains(&depth)
        && capacity >= 1
        && u64::from(capacity) <= 1u64 << depth;
    if fits {
        Ok(())
    } else {
        Err(CareledgerError::InvalidBatchShape)
    }
}

/// GS1 character set 82 (GS1 General Specifications, figure 7.11-1): what AIs 10 and 21 may hold.
pub fn is_set82(byte: u8) -> bool {
    matches!(byte,
        b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// A lot or serial: 1..=20 characters of set 82.
pub fn validate_lot(lot: &[u8]) -> Result<(), CareledgerError> {
    let ok = !lot.is_empty()
        && lot.len() <= usize::from(MAX_LOT_LEN)
        && lot.iter().all(|&b| is_set82(b));
    if ok {
        Ok(())
    } else {
        Err(CareledgerError::InvalidLot)
    }
}

/// Bytes of a status map for `capacity` packs: the header and one bit per pack.
pub fn pack_map_len(capacity: u32) -> usize {
    let bits = usize::try_from(capacity).unwrap_or(usize::MAX);
    PACK_MAP_HEADER.saturating_add(bits.div_ceil(8))
}

/// Whether pack `index` is decommissioned in `bits` (the map after its header); an index past
/// the end reads as decommissioned, so it can never pass as active.
pub fn is_decommissioned(bits: &[u8], index: u32) -> bool {
    let byte = usize::try_from(index / 8).unwrap_or(usize::MAX);
    bits.get(byte).is_none_or(|b| b & (1 << (index % 8)) != 0)
}

/// Sets or clears pack `index`'s bit; false if the index is past the end.
pub fn set_decommissioned(bits: &mut [u8], index: u32, decommissioned: bool) -> bool {
    let byte = usize::try_from(index / 8).unwrap_or(usize::MAX);
    let mask = 1u8 << (index % 8);
    match bits.get_mut(byte) {
        Some(b) if decommissioned => *b |= mask,
        Some(b) => *b &= !mask,
        None => return false,
    }
    true
}

/// Whether `actor` holds the batch: it is its manufacturer, or `custody` is a shipment of this
/// batch to `actor` that `actor` acknowledged (batch, receiver, receipt). Only a holder may take
/// an active pack out of circulation, so a party that learned a pack's secret (it travels in every
/// decommission) cannot destroy or dispense packs held elsewhere.
pub fn in_custody(
    batch: &Pubkey,
    manufacturer: &Pubkey,
    actor: &Pubkey,
    custody: Option<&crate::state::Shipment>,
) -> bool {
    actor == manufacturer
        || custody.is_some_and(|s| s.batch == *batch && s.receiver == *actor && s.received_at != 0)
}

/// What a party asks for a pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackAction {
    /// Take an active pack out of circulation in this inactive state.
    Decommission(PackState),
    /// Undo a decommission: back to active.
    Reactivate,
}

/// Everything the status rules look at besides the pack's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransitionContext {
    /// The acting premises (its wallet) and its supply roles.
    pub by: Pubkey,
    pub supply_roles: u8,
    pub batch_status: BatchStatus,
    /// The batch's expiry has passed.
    pub expired: bool,
    pub now: i64,
    /// Who decommissioned the pack and when, while its record lives (none for an active pack or
    /// a supplied one whose record was settled after the undo window).
    pub decommissioned_by: Option<(Pubkey, i64)>,
    /// Times the pack was met again after it left Active (its record's count).
    pub suspect_reports: u16,
}

/// The EU FMD status rules. `current` is the pack's state (`Supplied` for a settled record).
/// - Decommission: only an active pack (anything else is `PackNotActive`, which the program
///   records as a suspect pack); only a dispenser may supply (dispense); any supply-chain role
///   may set the other inactive states; a recalled, withdrawn or expired pack may only be
///   destroyed or reported stolen.
/// - Reactivate: only within `UNDO_WINDOW_SECS`, by the premises that decommissioned it, never a
///   stolen or destroyed pack, nor one reported again since (a clone is about: setting it active
///   would let the clone pass), nor one whose batch is recalled, withdrawn or expired.
pub fn transition(
    current: PackState,
    action: PackAction,
    c: &TransitionContext,
) -> Result<PackState, CareledgerError> {
    if c.supply_roles & SUPPLY_ROLES_ALL == 0 {
        return Err(CareledgerError::MissingRole);
    }
    let batch_final = c.batch_status != BatchStatus::Active;
    match action {
        PackAction::Decommission(PackState::Active) => Err(CareledgerError::PackStateNotInactive),
        PackAction::Decommission(to) => {
            if current != PackState::Active {
                return Err(CareledgerError::PackNotActive);
            }
            if to == PackState::Supplied && c.supply_roles & SUPPLY_DISPENSER == 0 {
                return Err(CareledgerError::MissingRole);
            }
            if batch_final && !to.is_final() {
                return Err(CareledgerError::BatchRecalled);
            }
            if c.expired && !to.is_final() {
                return Err(CareledgerError::PackExpired);
            }
            Ok(to)
        }
        PackAction::Reactivate => {
            if current == PackState::Active {
                return Err(CareledgerError::PackAlreadyActive);
            }
            if current.is_final() {
                return Err(CareledgerError::UndoFinalState);
            }
            if c.suspect_reports > 0 {
                return Err(CareledgerError::UndoAfterSuspect);
            }
            let Some((actor, at)) = c.decommissioned_by else {
                return Err(CareledgerError::UndoWindowPassed);
            };
            if actor != c.by {
                return Err(CareledgerError::UndoByOtherPremises);
            }
            if c.now > at.saturating_add(UNDO_WINDOW_SECS) {
                return Err(CareledgerError::UndoWindowPassed);
            }
            if batch_final {
                return Err(CareledgerError::BatchRecalled);
            }
            if c.expired {
                return Err(CareledgerError::PackExpired);
            }
            Ok(PackState::Active)
        }
    }
}

/// A pack's answer to a verification request, in the order a pharmacist needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackStanding {
    Verified,
    Recalled,
    Withdrawn,
    /// Locked (quarantined) or reported again after it was decommissioned: a clone is about.
    Suspect,
    AlreadyDispensed,
    /// Decommissioned in another state (exported, destroyed, stolen, sample...).
    Inactive(PackState),
    Expired,
}

/// The standing of a pack from what the chain holds: the batch's status and expiry, the pack's
/// state and how many times it was reported again after leaving `Active`.
pub fn standing(
    batch_status: BatchStatus,
    expired: bool,
    state: PackState,
    suspect_reports: u16,
) -> PackStanding {
    match (batch_status, state) {
        (BatchStatus::Recalled, _) => PackStanding::Recalled,
        (BatchStatus::Withdrawn, _) => PackStanding::Withdrawn,
        (_, PackState::Locked) => PackStanding::Suspect,
        _ if suspect_reports > 0 => PackStanding::Suspect,
        (_, PackState::Supplied) => PackStanding::AlreadyDispensed,
        (_, PackState::Active) if expired => PackStanding::Expired,
        (_, PackState::Active) => PackStanding::Verified,
        (_, other) => PackStanding::Inactive(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{SUPPLY_MANUFACTURER, SUPPLY_WHOLESALER};

    fn tree(batch: &Pubkey, secrets: &[[u8; 32]], depth: u8) -> Vec<Vec<[u8; 32]>> {
        let width = 1usize << depth;
        let mut level: Vec<[u8; 32]> = (0..width)
            .map(|i| match secrets.get(i) {
                Some(s) => leaf_hash(batch, i as u32, s),
                None => [0; 32],
            })
            .collect();
        let mut levels = vec![level.clone()];
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(level.clone());
        }
        levels
    }

    fn proof(levels: &[Vec<[u8; 32]>], index: usize) -> Vec<[u8; 32]> {
        let mut out = Vec::new();
        let mut i = index;
        for level in &levels[..levels.len() - 1] {
            out.push(level[i ^ 1]);
            i >>= 1;
        }
        out
    }

    #[test]
    fn proofs_verify_only_for_their_pack_batch_and_index() {
        let batch = Pubkey::new_unique();
        let other = Pubkey::new_unique();
        let secrets: Vec<[u8; 32]> = (0..5u8).map(|i| [i + 1; 32]).collect();
        let levels = tree(&batch, &secrets, 3);
        let root = levels.last().unwrap()[0];
        let c = Commitment {
            batch: &batch,
            root: &root,
            depth: 3,
            capacity: 5,
        };
        for (i, s) in secrets.iter().enumerate() {
            assert_eq!(verify_pack(&c, i as u32, s, &proof(&levels, i)), Ok(()));
        }
        // Another index with a valid proof of pack 1.
        assert_eq!(
            verify_pack(&c, 2, &secrets[1], &proof(&levels, 1)),
            Err(CareledgerError::InvalidPackProof)
        );
        // Another batch's identical tree.
        let other_levels = tree(&other, &secrets, 3);
        let oc = Commitment {
            batch: &batch,
            root: &other_levels.last().unwrap()[0],
            depth: 3,
            capacity: 5,
        };
        assert_eq!(
            verify_pack(&oc, 0, &secrets[0], &proof(&other_levels, 0)),
            Err(CareledgerError::InvalidPackProof)
        );
        // Out of range, even where the padded tree has a slot.
        assert_eq!(
            verify_pack(&c, 5, &[0; 32], &proof(&levels, 5)),
            Err(CareledgerError::PackIndexOutOfRange)
        );
        // A short or long proof.
        let p = proof(&levels, 0);
        assert_eq!(
            verify_pack(&c, 0, &secrets[0], &p[..2]),
            Err(CareledgerError::InvalidPackProof)
        );
        let mut long = p.clone();
        long.push([0; 32]);
        assert_eq!(
            verify_pack(&c, 0, &secrets[0], &long),
            Err(CareledgerError::InvalidPackProof)
        );
        // An inner node presented as a leaf's secret cannot reach the root.
        assert_eq!(
            verify_pack(&c, 0, &levels[1][0], &p[1..]),
            Err(CareledgerError::InvalidPackProof)
        );
    }

    #[test]
    fn bits_and_sizes() {
        assert_eq!(pack_map_len(1), 41);
        assert_eq!(pack_map_len(8), 41);
        assert_eq!(pack_map_len(9), 42);
        assert_eq!(pack_map_len(1_000_000), 40 + 125_000);
        let mut bits = vec![0u8; 2];
        assert!(!is_decommissioned(&bits, 9));
        assert!(set_decommissioned(&mut bits, 9, true));
        assert_eq!(bits, [0, 0b10]);
        assert!(is_decommissioned(&bits, 9));
        assert!(!is_decommissioned(&bits, 8));
        assert!(
            is_decommissioned(&bits, 16),
            "past the end never reads active"
        );
        assert!(!set_decommissioned(&mut bits, 16, true));
        assert!(set_decommissioned(&mut bits, 9, false));
        assert_eq!(bits, [0, 0]);
    }

    #[test]
    fn shapes_and_lots() {
        assert_eq!(validate_batch_shape(1, 2), Ok(()));
        assert_eq!(validate_batch_shape(21, 2_097_152), Ok(()));
        assert_eq!(
            validate_batch_shape(0, 1),
            Err(CareledgerError::InvalidBatchShape)
        );
        assert_eq!(
            validate_batch_shape(22, 5),
            Err(CareledgerError::InvalidBatchShape)
        );
        assert_eq!(
            validate_batch_shape(3, 9),
            Err(CareledgerError::InvalidBatchShape)
        );
        assert_eq!(
            validate_batch_shape(3, 0),
            Err(CareledgerError::InvalidBatchShape)
        );
        assert_eq!(validate_lot(b"A1-B/2_x"), Ok(()));
        assert_eq!(validate_lot(b""), Err(CareledgerError::InvalidLot));
        assert_eq!(validate_lot(&[b'A'; 21]), Err(CareledgerError::InvalidLot));
        for bad in [b' ', b'#', b'$', b'@', b'[', b'~', 0x1d, 0xc3] {
            assert_eq!(
                validate_lot(&[b'A', bad]),
                Err(CareledgerError::InvalidLot),
                "{bad:#x}"
            );
        }
        // Set 82 has exactly 82 characters.
        assert_eq!((0u8..=255).filter(|&b| is_set82(b)).count(), 82);
    }

    /// Every state x every action x every condition, each expected outcome derived from the
    /// regulation's wording (restated in the issue), not from `transition`'s code.
    #[test]
    fn every_state_times_every_transition() {
        let me = Pubkey::new_unique();
        let other = Pubkey::new_unique();
        let now = 1_000_000_000;
        let actions: Vec<PackAction> = PackState::ALL
            .iter()
            .map(|&s| PackAction::Decommission(s))
            .chain([PackAction::Reactivate])
            .collect();
        let mut checked = 0;
        for current in PackState::ALL {
            for action in &actions {
                for roles in [SUPPLY_MANUFACTURER, SUPPLY_WHOLESALER, SUPPLY_DISPENSER, 0] {
                    for batch_status in [
                        BatchStatus::Active,
                        BatchStatus::Recalled,
                        BatchStatus::Withdrawn,
                    ] {
                        for expired in [false, true] {
                            for (record, reports) in [
                                (None, 0),
                                (Some((me, now - 60)), 0),
                                (Some((me, now - 60)), 1),
                                (Some((other, now - 60)), 0),
                                (Some((me, now - UNDO_WINDOW_SECS - 1)), 0),
                                (Some((me, now - UNDO_WINDOW_SECS)), 0),
                            ] {
                                let c = TransitionContext {
                                    by: me,
                                    supply_roles: roles,
                                    batch_status,
                                    expired,
                                    now,
                                    decommissioned_by: record,
                                    suspect_reports: reports,
                                };
                                let got = transition(current, *action, &c);
                                let stops_market = |s: PackState| {
                                    matches!(s, PackState::Stolen | PackState::Destroyed)
                                };
                                let expected = if roles == 0 {
                                    Err(CareledgerError::MissingRole)
                                } else {
                                    match *action {
                                        PackAction::Decommission(PackState::Active) => {
                                            Err(CareledgerError::PackStateNotInactive)
                                        }
                                        PackAction::Decommission(_)
                                            if current != PackState::Active =>
                                        {
                                            Err(CareledgerError::PackNotActive)
                                        }
                                        PackAction::Decommission(PackState::Supplied)
                                            if roles != SUPPLY_DISPENSER =>
                                        {
                                            Err(CareledgerError::MissingRole)
                                        }
                                        PackAction::Decommission(to)
                                            if batch_status != BatchStatus::Active
                                                && !stops_market(to) =>
                                        {
                                            Err(CareledgerError::BatchRecalled)
                                        }
                                        PackAction::Decommission(to)
                                            if expired && !stops_market(to) =>
                                        {
                                            Err(CareledgerError::PackExpired)
                                        }
                                        PackAction::Decommission(to) => Ok(to),
                                        PackAction::Reactivate if current == PackState::Active => {
                                            Err(CareledgerError::PackAlreadyActive)
                                        }
                                        PackAction::Reactivate if stops_market(current) => {
                                            Err(CareledgerError::UndoFinalState)
                                        }
                                        // a clone is about: the pack never comes back
                                        PackAction::Reactivate if reports > 0 => {
                                            Err(CareledgerError::UndoAfterSuspect)
                                        }
                                        PackAction::Reactivate => match record {
                                            None => Err(CareledgerError::UndoWindowPassed),
                                            Some((who, _)) if who != me => {
                                                Err(CareledgerError::UndoByOtherPremises)
                                            }
                                            Some((_, at)) if now - at > UNDO_WINDOW_SECS => {
                                                Err(CareledgerError::UndoWindowPassed)
                                            }
                                            _ if batch_status != BatchStatus::Active => {
                                                Err(CareledgerError::BatchRecalled)
                                            }
                                            _ if expired => Err(CareledgerError::PackExpired),
                                            _ => Ok(PackState::Active),
                                        },
                                    }
                                };
                                assert_eq!(got, expected, "{current:?} {action:?} roles {roles} {batch_status:?} expired {expired} record {record:?} reports {reports}");
                                checked += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 10 * 4 * 3 * 2 * 6);
    }

    #[test]
    fn standings() {
        use PackStanding as S;
        assert_eq!(
            standing(BatchStatus::Active, false, PackState::Active, 0),
            S::Verified
        );
        assert_eq!(
            standing(BatchStatus::Active, true, PackState::Active, 0),
            S::Expired
        );
        assert_eq!(
            standing(BatchStatus::Recalled, false, PackState::Active, 0),
            S::Recalled
        );
        assert_eq!(
            standing(BatchStatus::Withdrawn, false, PackState::Supplied, 0),
            S::Withdrawn
        );
        assert_eq!(
            standing(BatchStatus::Active, false, PackState::Supplied, 0),
            S::AlreadyDispensed
        );
        assert_eq!(
            standing(BatchStatus::Active, false, PackState::Supplied, 1),
            S::Suspect
        );
        assert_eq!(
            standing(BatchStatus::Active, false, PackState::Locked, 0),
            S::Suspect
        );
        assert_eq!(
            standing(BatchStatus::Active, true, PackState::Destroyed, 0),
            S::Inactive(PackState::Destroyed)
        );
    }
}
