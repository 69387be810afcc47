//! The consent statement: the words a patient (or guardian) reads and signs in a wallet before a
//! grant is made, rendered from the grant's own arguments. One function renders it, for the
//! program (which checks the signed bytes against it), the SDK, the Actions server and the FHIR
//! export, so the same words always mean the same grant.
//!
//! The statement names the grantee, the record classes, the actions, the purpose, the validity
//! window, the patient, the signer and a nonce bound to the grant's address and serial. It holds
//! addresses, class names and times only: never a person's name, never health data. It is
//! ASCII, with LF line breaks and no trailing line break.
//!
//! A wallet signs either the statement's bytes as they are (`signMessage`), or the statement
//! inside the Solana off-chain message envelope (hardware wallets, and wallet-standard's
//! `solana:signOffchainMessage`). [`signed_form`] accepts the envelope as the off-chain message
//! specification lays it out (version 0, with an all-zero application domain and a signer
//! list), version 1 (signers, then the message), and the shorter envelope of the first Ledger
//! releases; the message inside must be the statement, byte for byte, and the envelope's one
//! signer the grant's.
use crate::constants::{NO_RECORD_SCOPE, SECONDS_PER_DAY};
use crate::errors::CareledgerError;
use crate::logic::authority::Actor;
use crate::logic::consent::action;
use crate::state::Purpose;
use anchor_lang::prelude::*;

/// First line of every statement; a new wording gets a new version.
pub const STATEMENT_TITLE: &str = "careledger consent statement v1";

/// `b"\xffsolana offchain"`: the signing domain of a Solana off-chain message. No transaction
/// message begins with 0xff, so such a signature is never a transaction signature.
pub const OFFCHAIN_SIGNING_DOMAIN: &[u8; 16] = b"\xffsolana offchain";

/// Domain separation of the nonce hash.
const NONCE_DOMAIN: &[u8] = b"careledger consent nonce v1";

/// Names of the record classes, by class id. On chain a class is only an id; these names are
/// what a person reads. Ids without a name here render as `class-<id>`.
pub const CLASS_NAMES: [&str; 8] = [
    "lab-result",
    "imaging",
    "prescription",
    "clinical-note",
    "discharge-summary",
    "immunization",
    "genomic",
    "claim-attachment",
];

/// How a class reads: its name, or `class-<id>` for a reserved id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassLabel {
    Named(&'static str),
    Reserved(u8),
}

impl core::fmt::Display for ClassLabel {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClassLabel::Named(name) => f.write_str(name),
            ClassLabel::Reserved(id) => write!(f, "class-{id}"),
        }
    }
}

/// Every class in `mask`, lowest id first, as the statement prints it: the one rule every
/// description of a grant (the Actions, the FHIR export) follows, so none hides a class.
pub fn class_labels(mask: u16) -> impl Iterator<Item = ClassLabel> {
    (0..16u8)
        .filter(move |id| mask & (1u16 << id) != 0)
        .map(|id| match CLASS_NAMES.get(usize::from(id)) {
            Some(name) => ClassLabel::Named(name),
            None => ClassLabel::Reserved(id),
        })
}

/// How the signed bytes carry the statement; recorded in `ConsentStatementSigned`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedForm {
    /// The statement's bytes as they are (a wallet's `signMessage`).
    Plain,
    /// The off-chain message envelope of the specification: version 0, application domain,
    /// message format, one signer, length.
    OffchainV0,
    /// The envelope of the first Ledger releases: version 0, message format, length.
    OffchainLegacy,
    /// The off-chain message envelope version 1 (what wallet-standard's
    /// `solana:signOffchainMessage` and `@solana/kit` sign): version 1, sorted signers, then the
    /// message to the end.
    OffchainV1,
}

/// Everything a statement says: the grant's arguments, its parties and its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatementTerms {
    pub patient: Pubkey,
    /// Who signs: the patient, or their guardian (`actor` says which).
    pub signer: Pubkey,
    pub actor: Actor,
    pub grantee: Pubkey,
    /// The grant's address, and its serial (`Patient::grant_count` once it is made): together
    /// they make the nonce, so a statement signed for one grant is void for any other, and for
    /// the same address made again.
    pub grant: Pubkey,
    pub serial: u32,
    pub classes: u16,
    pub actions: u8,
    pub purpose: Purpose,
    pub record_scope: u32,
    /// As the grant's arguments give it: 0 (or any time already past) means "from when it is
    /// recorded on chain".
    pub not_before: i64,
    pub expires_at: i64,
}

/// The nonce a statement carries: the first 8 bytes of
/// SHA-256("careledger consent nonce v1" ‖ grant address ‖ serial, little-endian). It is not a
/// secret: it makes the words of one grant differ from those of every other, and 8 bytes leave a
/// 2^-32 chance at most that any of a grant address's 2^32 serials repeats another's.
pub fn nonce(grant: &Pubkey, serial: u32) -> [u8; 8] {
    let digest =
        solana_sha256_hasher::hashv(&[NONCE_DOMAIN, grant.as_ref(), &serial.to_le_bytes()]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest.to_bytes()[..8]);
    out
}

/// SHA-256 of the statement's bytes: what the grant stores as `statement_hash`.
pub fn statement_hash(statement: &[u8]) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[statement]).to_bytes()
}

/// The purpose as the statement (and the SDK's parsers) name it.
pub const fn purpose_name(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Treatment => "treatment",
        Purpose::Payment => "payment",
        Purpose::Operations => "operations",
        Purpose::Research => "research",
        Purpose::PublicHealth => "public-health",
        Purpose::Emergency => "emergency",
    }
}

/// Renders the statement. The same terms always give the same bytes.
///
/// It is kept short because it travels in the grant's transaction (inside the Ed25519 check),
/// which must fit in 1,232 bytes: the longest statement of named classes (a guardian signing,
/// every named class, one record, a start date) in the longest envelope still does (a test
/// builds that transaction). Reserved class ids print as `class-<id>` and make it longer.
/// There is no line naming the program: the nonce binds the grant's address, which the program
/// id derives.
pub fn render(t: &StatementTerms) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    line(&mut out, &[STATEMENT_TITLE]);
    line(
        &mut out,
        &["I consent to this access to my health records:"],
    );
    line(&mut out, &["Grantee: ", &t.grantee.to_string()]);
    out.extend_from_slice(b"Records: ");
    if t.record_scope == NO_RECORD_SCOPE {
        out.extend_from_slice(b"all records of class ");
    } else {
        out.extend_from_slice(b"record #");
        decimal(&mut out, u64::from(t.record_scope));
        out.extend_from_slice(b" only, if of class ");
    }
    for (i, label) in class_labels(t.classes).enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        match label {
            ClassLabel::Named(name) => out.extend_from_slice(name.as_bytes()),
            ClassLabel::Reserved(id) => {
                out.extend_from_slice(b"class-");
                decimal(&mut out, u64::from(id));
            }
        }
    }
    out.push(b'\n');
    let actions: &str = match (
        t.actions & action::READ != 0,
        t.actions & action::WRITE != 0,
    ) {
        (true, true) => "read, write",
        (true, false) => "read",
        (false, true) => "write",
        (false, false) => "none",
    };
    line(&mut out, &["Actions: ", actions]);
    line(&mut out, &["Purpose: ", purpose_name(t.purpose)]);
    out.extend_from_slice(b"Valid from: ");
    if t.not_before <= 0 {
        out.extend_from_slice(b"when recorded on chain");
    } else {
        datetime(&mut out, t.not_before);
    }
    out.extend_from_slice(b"\nValid until: ");
    datetime(&mut out, t.expires_at);
    out.push(b'\n');
    line(&mut out, &["Patient: ", &t.patient.to_string()]);
    match t.actor {
        Actor::Patient if t.signer == t.patient => line(&mut out, &["Signed by: the patient"]),
        Actor::Patient => line(&mut out, &["Signed by: ", &t.signer.to_string()]),
        Actor::Guardian => line(
            &mut out,
            &["Signed by: ", &t.signer.to_string(), " (guardian)"],
        ),
    }
    out.extend_from_slice(b"Nonce: ");
    hex_into(&mut out, &nonce(&t.grant, t.serial));
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn hex_into(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0x0f)]);
    }
}

/// First line of every research re-consent statement; a new wording gets a new version.
pub const RECONSENT_TITLE: &str = "careledger research consent v1";

/// Domain separation of a re-consent statement's nonce.
const RECONSENT_NONCE_DOMAIN: &[u8] = b"careledger research consent nonce v1";

/// Everything a re-consent statement says: the participant consents to the study under one
/// version of its protocol, named by number and by the document's SHA-256.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReconsentTerms {
    pub study: Pubkey,
    /// The participation's address: with the version it makes the nonce, so the words signed
    /// for one participant and version are void for any other.
    pub participation: Pubkey,
    pub patient: Pubkey,
    pub signer: Pubkey,
    pub actor: Actor,
    pub protocol_version: u16,
    pub document_sha256: [u8; 32],
}

/// The first 8 bytes of SHA-256("careledger research consent nonce v1" ‖ participation ‖
/// version, little-endian).
pub fn reconsent_nonce(participation: &Pubkey, version: u16) -> [u8; 8] {
    let digest = solana_sha256_hasher::hashv(&[
        RECONSENT_NONCE_DOMAIN,
        participation.as_ref(),
        &version.to_le_bytes(),
    ]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest.to_bytes()[..8]);
    out
}

/// Renders a research re-consent statement: ASCII, LF line breaks, no trailing line break, as
/// the grant statement. The protocol is named by version and document hash; the document
/// itself (and any name of the condition studied) stays off chain.
pub fn render_reconsent(t: &ReconsentTerms) -> Vec<u8> {
    let mut out = Vec::with_capacity(384);
    line(&mut out, &[RECONSENT_TITLE]);
    line(
        &mut out,
        &["I consent to take part in this study under the protocol version I have read:"],
    );
    line(&mut out, &["Study: ", &t.study.to_string()]);
    out.extend_from_slice(b"Protocol version: ");
    decimal(&mut out, u64::from(t.protocol_version));
    out.extend_from_slice(b"\nProtocol document SHA-256: ");
    hex_into(&mut out, &t.document_sha256);
    out.push(b'\n');
    line(&mut out, &["Patient: ", &t.patient.to_string()]);
    match t.actor {
        Actor::Patient if t.signer == t.patient => line(&mut out, &["Signed by: the patient"]),
        Actor::Patient => line(&mut out, &["Signed by: ", &t.signer.to_string()]),
        Actor::Guardian => line(
            &mut out,
            &["Signed by: ", &t.signer.to_string(), " (guardian)"],
        ),
    }
    out.extend_from_slice(b"Nonce: ");
    hex_into(
        &mut out,
        &reconsent_nonce(&t.participation, t.protocol_version),
    );
    out
}

fn line(out: &mut Vec<u8>, parts: &[&str]) {
    for p in parts {
        out.extend_from_slice(p.as_bytes());
    }
    out.push(b'\n');
}

fn decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0usize;
    loop {
        // n % 10 < 10 and len < 20 (u64::MAX has 20 digits)
        digits[len] = b'0'.saturating_add(u8::try_from(n % 10).unwrap_or(0));
        len = len.saturating_add(1);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits[..len].iter().rev() {
        out.push(*d);
    }
}

fn two(out: &mut Vec<u8>, n: u64) {
    if n < 10 {
        out.push(b'0');
    }
    decimal(out, n);
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) for 0 ≤ `unix` < year 10000; other values, which grant terms
/// never hold, render as `unix:<seconds>`.
fn datetime(out: &mut Vec<u8>, unix: i64) {
    const YEAR_10000: i64 = 253_402_300_800;
    if !(0..YEAR_10000).contains(&unix) {
        out.extend_from_slice(b"unix:");
        if unix < 0 {
            out.push(b'-');
        }
        decimal(out, unix.unsigned_abs());
        return;
    }
    let secs = unix.unsigned_abs();
    const DAY: u64 = SECONDS_PER_DAY.unsigned_abs();
    let (days, rem) = (secs / DAY, secs % DAY);
    let (year, month, day) = civil_from_days(days);
    decimal(out, year);
    out.push(b'-');
    two(out, month);
    out.push(b'-');
    two(out, day);
    out.push(b'T');
    two(out, rem / 3600);
    out.push(b':');
    two(out, rem % 3600 / 60);
    out.push(b':');
    two(out, rem % 60);
    out.push(b'Z');
}

/// Proleptic Gregorian date of `days` since 1970-01-01 (Howard Hinnant's `civil_from_days`).
/// Bound: `days` < 2,932,897 (year 10000), so no step below overflows a u64.
#[allow(clippy::arithmetic_side_effects)]
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Message formats of the off-chain envelope that can carry a statement: 1 (limited UTF-8) and
/// 2 (extended UTF-8). Format 0, restricted ASCII, allows no line breaks, so no statement.
fn statement_format(format: u8) -> bool {
    matches!(format, 1 | 2)
}

/// Bytes of a version-0 envelope before the message, with one signer.
const V0_HEADER: usize = 85;

/// Most bytes a version-0 envelope of formats 0 and 1 may hold in all (header and message):
/// what a hardware wallet signs and shows, and what `@solana/kit` accepts.
const V0_LIMITED: usize = 1_232;

/// The statement inside the off-chain envelope of the specification (version 0), signed by
/// `signer`, for `application_domain` (careledger accepts only the all-zero one: a statement
/// signed for another application is not a careledger consent).
pub fn offchain_v0(statement: &[u8], signer: &Pubkey, application_domain: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(statement.len().saturating_add(V0_HEADER));
    out.extend_from_slice(OFFCHAIN_SIGNING_DOMAIN);
    out.push(0);
    out.extend_from_slice(application_domain);
    out.push(if statement.len().saturating_add(V0_HEADER) <= V0_LIMITED {
        1
    } else {
        2
    });
    out.push(1);
    out.extend_from_slice(signer.as_ref());
    out.extend_from_slice(&length_le(statement));
    out.extend_from_slice(statement);
    out
}

/// The statement inside the off-chain envelope version 1 (SRFC 3, as `@solana/kit` and
/// wallet-standard's `solana:signOffchainMessage` write it), signed by `signer` alone: the
/// signing domain, version 1, one signer, and the statement to the end (no application
/// domain, format or length).
pub fn offchain_v1(statement: &[u8], signer: &Pubkey) -> Vec<u8> {
    let mut out = Vec::with_capacity(statement.len().saturating_add(50));
    out.extend_from_slice(OFFCHAIN_SIGNING_DOMAIN);
    out.push(1);
    out.push(1);
    out.extend_from_slice(signer.as_ref());
    out.extend_from_slice(statement);
    out
}

/// The statement inside the envelope of the first Ledger releases (version 0 without
/// application domain or signers).
pub fn offchain_legacy(statement: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(statement.len().saturating_add(20));
    out.extend_from_slice(OFFCHAIN_SIGNING_DOMAIN);
    out.push(0);
    out.push(envelope_format(statement));
    out.extend_from_slice(&length_le(statement));
    out.extend_from_slice(statement);
    out
}

/// 1 (limited UTF-8, what a Ledger displays) up to the Ledger's limit, else 2.
fn envelope_format(statement: &[u8]) -> u8 {
    if statement.len() <= 1_179 {
        1
    } else {
        2
    }
}

/// Little-endian u16 length; a statement is always far below 65,535 bytes.
fn length_le(statement: &[u8]) -> [u8; 2] {
    u16::try_from(statement.len())
        .unwrap_or(u16::MAX)
        .to_le_bytes()
}

/// Which form of `statement`, if any, the signed `message` is, for a signature by `signer`.
/// Every byte of `message` is checked: the envelope's header, its one signer, its length, and
/// the statement itself. See [`check_signed_form`] for why one is refused.
pub fn signed_form(message: &[u8], statement: &[u8], signer: &Pubkey) -> Option<SignedForm> {
    check_signed_form(message, statement, signer).ok()
}

/// [`signed_form`], with the reason for a refusal: an off-chain envelope of a version other
/// than 0 and 1 (`OffchainVersionUnknown`), a version-0 envelope for another application
/// (`OffchainApplicationDomain`), an envelope whose signers are not exactly the grant's signer
/// (`OffchainSigners`), or bytes that are not the statement (`StatementMismatch`).
pub fn check_signed_form(
    message: &[u8],
    statement: &[u8],
    signer: &Pubkey,
) -> core::result::Result<SignedForm, CareledgerError> {
    use CareledgerError::{
        OffchainApplicationDomain, OffchainSigners, OffchainVersionUnknown, StatementMismatch,
    };
    if message == statement {
        return Ok(SignedForm::Plain);
    }
    let rest = message
        .strip_prefix(OFFCHAIN_SIGNING_DOMAIN.as_slice())
        .ok_or(StatementMismatch)?;
    let (&version, rest) = rest.split_first().ok_or(StatementMismatch)?;
    let one_signer = |rest: &[u8]| -> core::result::Result<usize, CareledgerError> {
        let (&count, rest) = rest.split_first().ok_or(StatementMismatch)?;
        let key = rest.get(..32).ok_or(StatementMismatch)?;
        if count != 1 || key != signer.as_ref() {
            return Err(OffchainSigners);
        }
        Ok(33)
    };
    match version {
        0 => {}
        1 => {
            // v1: signer count, signers (sorted), then the message to the end
            let at = one_signer(rest)?;
            return if rest.get(at..) == Some(statement) {
                Ok(SignedForm::OffchainV1)
            } else {
                Err(StatementMismatch)
            };
        }
        _ => return Err(OffchainVersionUnknown),
    }
    let length = length_le(statement);
    // legacy: format, length, statement
    if rest.len() == statement.len().saturating_add(3) {
        let (&format, rest) = rest.split_first().ok_or(StatementMismatch)?;
        let (len, body) = rest.split_at_checked(2).ok_or(StatementMismatch)?;
        return if statement_format(format) && len == length && body == statement {
            Ok(SignedForm::OffchainLegacy)
        } else {
            Err(StatementMismatch)
        };
    }
    // v0: application domain, format, signer count, signers, length, statement
    let (domain, rest) = rest.split_at_checked(32).ok_or(StatementMismatch)?;
    if domain.iter().any(|b| *b != 0) {
        return Err(OffchainApplicationDomain);
    }
    let (&format, rest) = rest.split_first().ok_or(StatementMismatch)?;
    let at = one_signer(rest)?;
    let (len, body) = rest
        .get(at..)
        .and_then(|r| r.split_at_checked(2))
        .ok_or(StatementMismatch)?;
    if statement_format(format) && len == length && body == statement {
        Ok(SignedForm::OffchainV0)
    } else {
        Err(StatementMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms() -> StatementTerms {
        StatementTerms {
            patient: Pubkey::new_from_array([1; 32]),
            signer: Pubkey::new_from_array([1; 32]),
            actor: Actor::Patient,
            grantee: Pubkey::new_from_array([2; 32]),
            grant: Pubkey::new_from_array([3; 32]),
            serial: 4,
            classes: 0b101,
            actions: action::READ,
            purpose: Purpose::Treatment,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: 1_796_083_200, // 2026-12-01T00:00:00Z
        }
    }

    #[test]
    fn renders_every_term_in_plain_words() {
        let text = String::from_utf8(render(&terms())).unwrap();
        let lines: Vec<&str> = text.split('\n').collect();
        assert_eq!(lines[0], STATEMENT_TITLE);
        assert!(text.contains(&format!("\nPatient: {}\n", Pubkey::new_from_array([1; 32]))));
        assert!(text.contains("\nSigned by: the patient\n"));
        assert!(text.contains(&format!("\nGrantee: {}\n", Pubkey::new_from_array([2; 32]))));
        assert!(text.contains("\nRecords: all records of class lab-result, prescription\n"));
        assert!(text.contains("\nActions: read\n"));
        assert!(text.contains("\nPurpose: treatment\n"));
        assert!(text.contains("\nValid from: when recorded on chain\n"));
        assert!(text.contains("\nValid until: 2026-12-01T00:00:00Z\n"));
        let nonce_line = lines.last().unwrap();
        assert_eq!(nonce_line.len(), "Nonce: ".len() + 16);
        assert!(text.is_ascii() && !text.ends_with('\n'));
    }

    #[test]
    fn every_term_changes_the_words() {
        let base = render(&terms());
        let variants: Vec<StatementTerms> = vec![
            StatementTerms {
                patient: Pubkey::new_from_array([9; 32]),
                ..terms()
            },
            StatementTerms {
                signer: Pubkey::new_from_array([9; 32]),
                ..terms()
            },
            StatementTerms {
                actor: Actor::Guardian,
                ..terms()
            },
            StatementTerms {
                grantee: Pubkey::new_from_array([9; 32]),
                ..terms()
            },
            StatementTerms {
                grant: Pubkey::new_from_array([9; 32]),
                ..terms()
            },
            StatementTerms {
                serial: 5,
                ..terms()
            },
            StatementTerms {
                classes: 0b111,
                ..terms()
            },
            StatementTerms {
                actions: action::ALL,
                ..terms()
            },
            StatementTerms {
                purpose: Purpose::Research,
                ..terms()
            },
            StatementTerms {
                record_scope: 0,
                ..terms()
            },
            StatementTerms {
                not_before: 1_790_000_000,
                ..terms()
            },
            StatementTerms {
                expires_at: 1_796_083_201,
                ..terms()
            },
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(render(v), base, "variant {i} rendered the same words");
        }
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        let at = |unix: i64| {
            let mut out = Vec::new();
            datetime(&mut out, unix);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(at(4_107_542_400), "2100-03-01T00:00:00Z");
        assert_eq!(at(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(at(-1), "unix:-1");
        // agrees with chrono over a spread of instants
        for unix in (0..4_000_000_000i64).step_by(7_777_777) {
            let expected = chrono::DateTime::from_timestamp(unix, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(at(unix), expected);
        }
    }

    #[test]
    fn records_scope_and_unnamed_classes() {
        let t = StatementTerms {
            record_scope: 12,
            classes: 1 << 9 | 1,
            ..terms()
        };
        let text = String::from_utf8(render(&t)).unwrap();
        assert!(text.contains("\nRecords: record #12 only, if of class lab-result, class-9\n"));
    }

    #[test]
    fn signed_forms_accept_exact_envelopes_only() {
        let t = terms();
        let s = render(&t);
        let signer = t.signer;
        assert_eq!(signed_form(&s, &s, &signer), Some(SignedForm::Plain));
        let v0 = offchain_v0(&s, &signer, &[0; 32]);
        assert_eq!(signed_form(&v0, &s, &signer), Some(SignedForm::OffchainV0));
        let v1 = offchain_v1(&s, &signer);
        assert_eq!(signed_form(&v1, &s, &signer), Some(SignedForm::OffchainV1));
        let legacy = offchain_legacy(&s);
        assert_eq!(
            signed_form(&legacy, &s, &signer),
            Some(SignedForm::OffchainLegacy)
        );
        // the envelope names another signer, or a second one
        let other = Pubkey::new_from_array([8; 32]);
        for bad in [offchain_v0(&s, &other, &[0; 32]), offchain_v1(&s, &other)] {
            assert_eq!(
                check_signed_form(&bad, &s, &signer),
                Err(CareledgerError::OffchainSigners)
            );
        }
        let mut two = offchain_v1(&s, &signer);
        two[17] = 2;
        two.splice(18..18, [0u8; 32]);
        assert_eq!(
            check_signed_form(&two, &s, &signer),
            Err(CareledgerError::OffchainSigners)
        );
        // a version-0 envelope signed for another application
        assert_eq!(
            check_signed_form(&offchain_v0(&s, &signer, &[5; 32]), &s, &signer),
            Err(CareledgerError::OffchainApplicationDomain)
        );
        // a version careledger does not read
        let mut v2 = v1.clone();
        v2[16] = 2;
        assert_eq!(
            check_signed_form(&v2, &s, &signer),
            Err(CareledgerError::OffchainVersionUnknown)
        );
        // any one byte changed anywhere is refused
        for m in [&s, &v0, &v1, &legacy] {
            for i in 0..m.len() {
                let mut bad = m.clone();
                bad[i] ^= 0x01;
                let form = signed_form(&bad, &s, &signer);
                assert!(form.is_none(), "byte {i} of a {} byte message", m.len());
            }
            // truncated or extended
            assert_eq!(signed_form(&m[..m.len() - 1], &s, &signer), None);
            let mut longer = m.clone();
            longer.push(b' ');
            assert_eq!(signed_form(&longer, &s, &signer), None);
        }
        // format 0 (restricted ASCII) cannot carry line breaks
        let mut ascii = legacy.clone();
        ascii[17] = 0;
        assert_eq!(signed_form(&ascii, &s, &signer), None);
    }

    #[test]
    fn a_reconsent_statement_names_the_version_and_its_document() {
        let t = ReconsentTerms {
            study: Pubkey::new_from_array([4; 32]),
            participation: Pubkey::new_from_array([5; 32]),
            patient: Pubkey::new_from_array([1; 32]),
            signer: Pubkey::new_from_array([1; 32]),
            actor: Actor::Patient,
            protocol_version: 3,
            document_sha256: [0xab; 32],
        };
        let text = String::from_utf8(render_reconsent(&t)).unwrap();
        assert!(text.starts_with("careledger research consent v1\n"));
        assert!(text.contains("\nProtocol version: 3\n"));
        assert!(text.contains(&format!(
            "\nProtocol document SHA-256: {}\n",
            "ab".repeat(32)
        )));
        assert!(text.contains("\nSigned by: the patient\n"));
        assert!(text.is_ascii() && !text.ends_with('\n'));
        // every term changes the words
        for other in [
            ReconsentTerms {
                protocol_version: 4,
                ..t
            },
            ReconsentTerms {
                document_sha256: [0xac; 32],
                ..t
            },
            ReconsentTerms {
                participation: Pubkey::new_from_array([6; 32]),
                ..t
            },
            ReconsentTerms {
                study: Pubkey::new_from_array([7; 32]),
                ..t
            },
            ReconsentTerms {
                actor: Actor::Guardian,
                signer: Pubkey::new_from_array([2; 32]),
                ..t
            },
        ] {
            assert_ne!(render_reconsent(&other), render_reconsent(&t));
        }
    }

    /// The envelopes byte for byte as `@solana/kit` 8.4.0 writes them (its v0 and v1 encoders,
    /// message "hello", one signer of 32 bytes 0x11; hex recorded from kit itself), and the
    /// v0 format limit kit enforces (1,232 bytes in all for formats 0 and 1).
    #[test]
    fn envelopes_are_byte_identical_to_kit() {
        let hex = |b: &[u8]| -> String { b.iter().map(|x| format!("{x:02x}")).collect() };
        let signer = Pubkey::new_from_array([0x11; 32]);
        assert_eq!(
            hex(&offchain_v1(b"hello", &signer)),
            "ff736f6c616e61206f6666636861696e0101\
             1111111111111111111111111111111111111111111111111111111111111111\
             68656c6c6f"
        );
        let mut v0 = hex(&offchain_v0(b"hello", &signer, &[0; 32]));
        // kit's vector used application domain 5…5; ours is all zero
        v0.replace_range(34..98, &"05".repeat(32));
        assert_eq!(
            v0,
            "ff736f6c616e61206f6666636861696e00\
             0505050505050505050505050505050505050505050505050505050505050505\
             0101\
             1111111111111111111111111111111111111111111111111111111111111111\
             050068656c6c6f"
        );
        let at_limit = vec![b'a'; V0_LIMITED - V0_HEADER];
        assert_eq!(offchain_v0(&at_limit, &signer, &[0; 32])[49], 1);
        let over = vec![b'a'; V0_LIMITED - V0_HEADER + 1];
        assert_eq!(offchain_v0(&over, &signer, &[0; 32])[49], 2);
    }
}
