//! Seeds and limits shared by the program, the SDK and the tests.
//! A seed literal written anywhere else is a bug: derive from these.
use anchor_lang::prelude::*;

/// `Config` singleton: `[CONFIG_SEED]`.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";
/// `Provider` per wallet: `[PROVIDER_SEED, wallet]`.
#[constant]
pub const PROVIDER_SEED: &[u8] = b"provider";
/// `Patient` per wallet: `[PATIENT_SEED, wallet]`.
#[constant]
pub const PATIENT_SEED: &[u8] = b"patient";
/// `RecordAnchor` per patient and index: `[RECORD_SEED, patient_wallet, index_u32_le]`.
#[constant]
pub const RECORD_SEED: &[u8] = b"record";
/// `ConsentGrant` per patient, grantee and purpose: `[GRANT_SEED, patient_wallet, grantee_wallet, [purpose_u8]]`;
/// a break-glass grant adds its serial (the clinician's count of emergencies with this patient, in
/// its `EmergencyMarker`): `[.., [purpose_u8], serial_u32_le]`.
#[constant]
pub const GRANT_SEED: &[u8] = b"grant";
/// `AccessRequest` per patient and requesting provider: `[REQUEST_SEED, patient_wallet, provider_wallet]`.
#[constant]
pub const REQUEST_SEED: &[u8] = b"request";
/// `Policy` per insurer and policy id: `[POLICY_SEED, insurer_wallet, policy_id_u64_le]`.
#[constant]
pub const POLICY_SEED: &[u8] = b"policy";
/// A policy's SPL token vault, owned by the policy PDA: `[VAULT_SEED, policy]`.
#[constant]
pub const VAULT_SEED: &[u8] = b"vault";
/// `CoverageRule` per policy and rule key: `[RULE_SEED, policy, rule_key]`.
#[constant]
pub const RULE_SEED: &[u8] = b"rule";
/// `Claim` per duplicate key: `[CLAIM_SEED, policy, provider_wallet, rule_key, service_date_i64_le]`,
/// so the same service on the same day is billed once, whichever record is cited.
#[constant]
pub const CLAIM_SEED: &[u8] = b"claim";
/// `Study` per sponsor and study id: `[STUDY_SEED, sponsor_wallet, study_id_u64_le]`; its vault
/// is `[VAULT_SEED, study]`, owned by the study PDA.
#[constant]
pub const STUDY_SEED: &[u8] = b"study";
/// `Participation` per study and patient: `[PARTICIPATION_SEED, study, patient_wallet]`.
#[constant]
pub const PARTICIPATION_SEED: &[u8] = b"participation";

/// `EmergencyMarker` per patient and clinician: `[EMERGENCY_SEED, patient_wallet, clinician]`.
#[constant]
pub const EMERGENCY_SEED: &[u8] = b"emergency";
/// `NetworkMembership` per insurer and provider: `[NETWORK_SEED, insurer_wallet, provider_wallet]`.
#[constant]
pub const NETWORK_SEED: &[u8] = b"network";
/// `Invitation` per study and patient: `[INVITATION_SEED, study, patient_wallet]`.
#[constant]
pub const INVITATION_SEED: &[u8] = b"invitation";
/// `AcceptedMint` per mint the admin accepts for payment: `[ACCEPTED_MINT_SEED, mint]`.
#[constant]
pub const ACCEPTED_MINT_SEED: &[u8] = b"accepted_mint";
/// `EncryptionKey` per wallet, the X25519 key records are released to: `[ENCRYPTION_KEY_SEED, wallet]`.
#[constant]
pub const ENCRYPTION_KEY_SEED: &[u8] = b"encryption_key";

/// `Product` per GTIN, registered to one manufacturer by the credential authority:
/// `[PRODUCT_SEED, gtin_hash]` (`logic::supply::gtin_hash`).
#[constant]
pub const PRODUCT_SEED: &[u8] = b"product";
/// `Batch` per product and lot: `[BATCH_SEED, gtin_hash, lot_bytes]` (the lot is 1..=20 bytes of
/// GS1 set 82, so it is its own seed).
#[constant]
pub const BATCH_SEED: &[u8] = b"batch";
/// `PackRecord` per decommissioned pack: `[PACK_SEED, batch, index_u32_le]`.
#[constant]
pub const PACK_SEED: &[u8] = b"pack";
/// `Shipment` per sender and EPCIS document: `[SHIPMENT_SEED, sender_wallet, epcis_hash]`.
#[constant]
pub const SHIPMENT_SEED: &[u8] = b"shipment";

/// `Protocol` per study: `[PROTOCOL_SEED, study]`: the registered protocol's current state.
#[constant]
pub const PROTOCOL_SEED: &[u8] = b"protocol";
/// `ProtocolVersion` per study and version: `[PROTOCOL_VERSION_SEED, study, version_u16_le]`:
/// every version is kept.
#[constant]
pub const PROTOCOL_VERSION_SEED: &[u8] = b"protocol_version";

/// Bytes of a trial registry identifier (an NCT number, an EU CT, ISRCTN or ACTRN number):
/// upper-case letters, digits and `-`, zero-padded; never free text.
#[constant]
pub const REGISTRY_ID_LEN: u8 = 24;
/// Most primary outcomes a results record may reveal or report. A results record reveals and
/// reports both sets in one transaction (1,232 bytes): 4 + 8 outcomes of 32 bytes, twice, fit.
#[constant]
pub const MAX_PRIMARY_OUTCOMES: u8 = 4;
/// Most secondary outcomes a results record may reveal or report.
#[constant]
pub const MAX_SECONDARY_OUTCOMES: u8 = 8;

/// `Protocol::outcomes_switched`: the reported primary outcomes are not the pre-specified ones.
#[constant]
pub const OUTCOMES_SWITCHED_PRIMARY: u8 = 1;
/// `Protocol::outcomes_switched`: the reported secondary outcomes are not the pre-specified ones.
#[constant]
pub const OUTCOMES_SWITCHED_SECONDARY: u8 = 2;

/// How long a provider may appeal a denial: 180 days, the window US rules give for internal
/// appeals (45 CFR 147.136(b)(2)). A policy cannot close while a denial can still be appealed.
#[constant]
pub const APPEAL_WINDOW_SECS: i64 = 180 * SECONDS_PER_DAY;
/// A claim's supporting record documents the service: anchored on the service day or at most
/// this long after it (90 days).
#[constant]
pub const DOCUMENTATION_WINDOW_SECS: i64 = 90 * SECONDS_PER_DAY;
/// Longest an invitation to a study stays usable: 1 year.
#[constant]
pub const MAX_INVITATION_SECS: i64 = 365 * SECONDS_PER_DAY;
/// Longest a patient grant may run: 10 years of seconds.
#[constant]
pub const MAX_GRANT_DURATION_SECS: i64 = 10 * 365 * SECONDS_PER_DAY;
/// Upper bound the admin may set for the break-glass window: 72 hours.
#[constant]
pub const MAX_BREAK_GLASS_CAP_SECS: u32 = 72 * 60 * 60;
/// Longest a guardian appointment may run: 21 years.
#[constant]
pub const MAX_GUARDIAN_DURATION_SECS: i64 = 21 * 365 * SECONDS_PER_DAY;
/// Longest time a provider may ask for in an access request: 1 year.
#[constant]
pub const MAX_REQUEST_DURATION_SECS: u32 = 365 * 24 * 60 * 60;
/// Record classes are small opaque ids `0..RECORD_CLASS_COUNT`; grants hold them as a `u16` bitmask.
#[constant]
pub const RECORD_CLASS_COUNT: u8 = 16;
/// `ConsentGrant::record_scope` value meaning "every record of the granted classes".
#[constant]
pub const NO_RECORD_SCOPE: u32 = u32::MAX;
/// `RecordAnchor::previous` value of a first version.
#[constant]
pub const NO_PREVIOUS_VERSION: u32 = u32::MAX;
/// Longest coverage period of a policy: 10 years.
#[constant]
pub const MAX_COVERAGE_SECS: i64 = 10 * 365 * SECONDS_PER_DAY;
/// Coinsurance is in basis points of the amount left after copay: at most 100 %.
#[constant]
pub const BPS_DENOMINATOR: u16 = 10_000;
/// Service dates are whole UTC days: unix seconds divisible by this.
#[constant]
pub const SECONDS_PER_DAY: i64 = 24 * 60 * 60;
/// Most reward periods a study may promise.
#[constant]
pub const MAX_STUDY_PERIODS: u16 = 520;
/// Shortest reward period: one day.
#[constant]
pub const MIN_PERIOD_SECS: u32 = 24 * 60 * 60;
/// Longest binary CID accepted (v1, 2-byte codec varint, 32-byte digest is 37 bytes).
#[constant]
pub const CID_MAX_BYTES: u8 = 40;

/// The config PDA, derived at compile time so instructions check it by address (no syscall).
pub const CONFIG_PDA: ([u8; 32], u8) =
    anchor_lang::derive_program_address(&[CONFIG_SEED], &crate::ID.to_bytes());
pub const CONFIG_ADDRESS: Pubkey = Pubkey::new_from_array(CONFIG_PDA.0);

/// EU FMD (Delegated Regulation 2016/161, art. 13): a decommissioned pack may be set active
/// again only within 10 days, by the same premises.
#[constant]
pub const UNDO_WINDOW_SECS: i64 = 10 * SECONDS_PER_DAY;
/// Deepest pack tree a batch may commit to: 2^21 = 2,097,152 packs. A pack's proof is
/// `depth` 32-byte hashes in the instruction, and at depth 21 a decommission still fits a
/// legacy transaction (1,232 bytes) with room for its accounts.
#[constant]
pub const MAX_BATCH_DEPTH: u8 = 21;
/// Longest lot (AI 10) and serial (AI 21): 20 characters of GS1 set 82.
#[constant]
pub const MAX_LOT_LEN: u8 = 20;
/// First 8 bytes of a batch's pack status map once commissioned (the map is a plain account the
/// manufacturer creates at its full size, so it has no Anchor discriminator of its own).
pub const PACK_MAP_MAGIC: [u8; 8] = *b"clpkmap1";
/// Bytes of a pack status map before the bits: the magic and the batch's address.
pub const PACK_MAP_HEADER: usize = 40;
