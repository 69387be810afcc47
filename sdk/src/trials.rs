//! Clinical-trial integrity from the SDK's side: registry identifiers and outcome sets as the
//! program stores them, the re-consent statement a participant signs, what a study's protocol
//! and participants look like now ([`TrialStatus`]), and its FHIR R4 `ResearchStudy` and
//! `ResearchSubject` resources. The rules are the program's own (`logic::trials`).
//!
//! ```
//! use careledger_sdk::trials::{outcome_hash, registry_id, registry_id_text, OutcomeSet};
//!
//! let id = registry_id("NCT01234567").unwrap();
//! assert_eq!(registry_id_text(&id), "NCT01234567");
//! assert!(registry_id("a trial about diabetes").is_err());
//! let primary = OutcomeSet::with_salt([7; 32], &["HbA1c change at 26 weeks"]);
//! assert_eq!(primary.outcomes[0], outcome_hash("HbA1c  change at 26 weeks"));
//! assert_ne!(primary.commitment(), [0; 32]);
//! ```
use crate::{pda, Patient, Pubkey, SdkError};
use careledger::constants::{OUTCOMES_SWITCHED_PRIMARY, OUTCOMES_SWITCHED_SECONDARY};
pub use careledger::logic::trials::*;
use careledger::state::{Participation, Protocol, ProtocolVersion};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Domain separation of one outcome's hash.
pub const OUTCOME_DOMAIN: &[u8] = b"careledger/outcome/v1";

/// The registry identifier as the program stores it (validated by its own rule).
pub fn registry_id(text: &str) -> Result<[u8; 24], SdkError> {
    let mut out = [0u8; 24];
    let bytes = text.trim().as_bytes();
    let fits = bytes.len() <= out.len();
    if fits {
        out[..bytes.len()].copy_from_slice(bytes);
    }
    if !fits || validate_registry_id(&out).is_err() {
        return Err(SdkError::InvalidInput(format!(
            "`{text}` is not a registry identifier: 1 to 24 characters of A-Z, 0-9 and '-' (NCT01234567, 2023-501234-12-00, ISRCTN12345678)"
        )));
    }
    Ok(out)
}

/// The identifier's text (the zero padding dropped).
pub fn registry_id_text(id: &[u8; 24]) -> String {
    let used = id.iter().position(|b| *b == 0).unwrap_or(id.len());
    String::from_utf8_lossy(&id[..used]).into_owned()
}

/// One outcome's hash: SHA-256 of the domain and the outcome's words, trimmed and with runs of
/// white space made one space, so the same words hash the same however they were typed. The
/// words stay off chain.
pub fn outcome_hash(words: &str) -> [u8; 32] {
    let normal: Vec<&str> = words.split_whitespace().collect();
    Sha256::new()
        .chain_update(OUTCOME_DOMAIN)
        .chain_update(normal.join(" ").as_bytes())
        .finalize()
        .into()
}

/// A pre-specified outcome set: the outcomes' hashes in their order and the salt of its
/// commitment. The sponsor keeps both until the results reveal them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeSet {
    pub salt: [u8; 32],
    pub outcomes: Vec<[u8; 32]>,
}

impl OutcomeSet {
    /// The set of `outcomes` (their words) under a fresh random salt.
    pub fn new<S: AsRef<str>>(outcomes: &[S]) -> OutcomeSet {
        use rand_core::RngCore;
        let mut salt = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut salt);
        Self::with_salt(salt, outcomes)
    }

    pub fn with_salt<S: AsRef<str>>(salt: [u8; 32], outcomes: &[S]) -> OutcomeSet {
        OutcomeSet {
            salt,
            outcomes: outcomes.iter().map(|o| outcome_hash(o.as_ref())).collect(),
        }
    }

    /// What the program stores: `logic::trials::outcome_commitment`.
    pub fn commitment(&self) -> [u8; 32] {
        outcome_commitment(&self.salt, &self.outcomes)
    }
}

/// The re-consent statement `signer` signs to consent, for the patient, to `version` of the
/// study's protocol (whose document hashes to `document_sha256`), at `now`.
pub fn reconsent_statement(
    study: &Pubkey,
    patient: &Patient,
    signer: &Pubkey,
    version: u16,
    document_sha256: &[u8; 32],
    now: i64,
) -> Result<Vec<u8>, SdkError> {
    let actor = careledger::logic::authority::acting_for(patient, signer, now)
        .map_err(|e| SdkError::InvalidInput(e.to_string()))?;
    Ok(careledger::logic::statement::render_reconsent(
        &careledger::logic::statement::ReconsentTerms {
            study: *study,
            participation: pda::participation(study, &patient.wallet).0,
            patient: patient.wallet,
            signer: *signer,
            actor,
            protocol_version: version,
            document_sha256: *document_sha256,
        },
    ))
}

/// What a results record says of the pre-specified outcomes, in words.
pub fn switch_verdict(switched: u8) -> &'static str {
    match (
        switched & OUTCOMES_SWITCHED_PRIMARY != 0,
        switched & OUTCOMES_SWITCHED_SECONDARY != 0,
    ) {
        (false, false) => "the outcomes reported are the pre-specified ones",
        (true, false) => "PRIMARY OUTCOMES SWITCHED: the reported primary outcomes are not the pre-specified ones",
        (false, true) => "SECONDARY OUTCOMES SWITCHED: the reported secondary outcomes are not the pre-specified ones",
        (true, true) => "PRIMARY AND SECONDARY OUTCOMES SWITCHED: neither reported set is the pre-specified one",
    }
}

/// The first material version after `consented` among `versions` (any order): the version a
/// participant's accrual stopped at, and the one reward claims and re-consent name.
pub fn first_material_after(
    versions: &[ProtocolVersion],
    consented: u16,
) -> Option<MaterialVersion> {
    versions
        .iter()
        .filter(|v| v.material && v.version > consented)
        .min_by_key(|v| v.version)
        .map(ProtocolVersion::as_material)
}

/// One participant of a study, as the protocol sees them now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectStatus {
    pub participation: Pubkey,
    pub patient: Pubkey,
    /// The protocol version they consented to.
    pub consented_version: u16,
    /// Their consent is to the current version.
    pub current: bool,
    /// Since when they accrue nothing for want of consent to the newest material version.
    pub stale_since: Option<i64>,
    pub ended: bool,
}

/// A study's protocol, its versions (oldest first) and its participants, read now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrialStatus {
    pub study: Pubkey,
    pub protocol: Protocol,
    pub versions: Vec<ProtocolVersion>,
    pub subjects: Vec<SubjectStatus>,
}

impl TrialStatus {
    /// Builds the status from the accounts (the participations in any order).
    pub fn of(
        study: Pubkey,
        protocol: Protocol,
        versions: Vec<ProtocolVersion>,
        participations: &[(Pubkey, Participation)],
    ) -> TrialStatus {
        let mut subjects: Vec<SubjectStatus> = participations
            .iter()
            .map(|(address, p)| SubjectStatus {
                participation: *address,
                patient: p.patient,
                consented_version: p.protocol_version,
                current: p.protocol_version == protocol.version,
                stale_since: first_material_after(&versions, p.protocol_version)
                    .and_then(|v| {
                        stale_since(p.protocol_version, protocol.material_version, Some(v)).ok()
                    })
                    .flatten(),
                ended: p.ended,
            })
            .collect();
        subjects.sort_by_key(|s| s.patient.to_bytes());
        TrialStatus {
            study,
            protocol,
            versions,
            subjects,
        }
    }

    /// Whether the results (once reported) match the pre-specified outcomes: `None` before.
    pub fn results_match(&self) -> Option<bool> {
        (self.protocol.results_at != 0).then_some(self.protocol.outcomes_switched == 0)
    }

    /// The study as FHIR R4: one `ResearchStudy` (the registry identifier, the current
    /// protocol version and every earlier one as extensions with their document hashes, the
    /// status) and one `ResearchSubject` per participant (the version consented to, whether it
    /// is current), in a collection `Bundle`.
    pub fn fhir_bundle(&self) -> Value {
        let study_id = format!("study-{}", self.study);
        let status = if self.protocol.results_at != 0 {
            "completed"
        } else if self.protocol.locked_at != 0 {
            "closed-to-accrual"
        } else {
            "active"
        };
        let mut extension: Vec<Value> = self
            .versions
            .iter()
            .map(|v| {
                json!({
                    "url": PROTOCOL_VERSION_EXTENSION,
                    "extension": [
                        { "url": "version", "valueInteger": v.version },
                        { "url": "documentSha256", "valueBase64Binary": b64(&v.document_sha256) },
                        { "url": "material", "valueBoolean": v.material },
                        { "url": "registered", "valueInstant": crate::audit::instant(v.registered_at) },
                    ]
                })
            })
            .collect();
        extension.push(json!({
            "url": OUTCOMES_EXTENSION,
            "valueCode": match self.results_match() {
                None => "not-reported",
                Some(true) => "as-pre-specified",
                Some(false) => "switched",
            },
        }));
        let research_study = json!({
            "resourceType": "ResearchStudy",
            "id": study_id,
            "identifier": [
                { "system": "urn:careledger:study", "value": self.study.to_string() },
                { "system": "urn:careledger:trial-registry", "value": registry_id_text(&self.protocol.registry_id) },
            ],
            "status": status,
            "extension": extension,
        });
        let mut entries = vec![
            json!({ "fullUrl": format!("urn:careledger:{study_id}"), "resource": research_study }),
        ];
        for s in &self.subjects {
            let status = if s.ended {
                "off-study"
            } else if s.stale_since.is_some() {
                "pending-on-study"
            } else {
                "on-study"
            };
            entries.push(json!({
                "fullUrl": format!("urn:careledger:subject-{}", s.participation),
                "resource": {
                    "resourceType": "ResearchSubject",
                    "id": format!("subject-{}", s.participation),
                    "identifier": [{ "system": "urn:careledger:participation", "value": s.participation.to_string() }],
                    "status": status,
                    "study": { "reference": format!("ResearchStudy/{study_id}") },
                    "individual": { "identifier": { "system": "urn:solana:pubkey", "value": s.patient.to_string() } },
                    "extension": [
                        { "url": CONSENTED_VERSION_EXTENSION, "valueInteger": s.consented_version },
                        { "url": CONSENT_CURRENT_EXTENSION, "valueBoolean": s.current },
                    ],
                }
            }));
        }
        json!({
            "resourceType": "Bundle",
            "type": "collection",
            "entry": entries,
        })
    }
}

/// Extension: one protocol version (number, document SHA-256, material, registered).
pub const PROTOCOL_VERSION_EXTENSION: &str = "urn:careledger:protocol-version";
/// Extension: whether the reported outcomes are the pre-specified ones.
pub const OUTCOMES_EXTENSION: &str = "urn:careledger:outcomes";
/// Extension: the protocol version a subject consented to.
pub const CONSENTED_VERSION_EXTENSION: &str = "urn:careledger:consented-protocol-version";
/// Extension: whether that version is the current one.
pub const CONSENT_CURRENT_EXTENSION: &str = "urn:careledger:consent-current";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_words_hash_the_same_however_typed() {
        assert_eq!(
            outcome_hash(" HbA1c change\tat 26 weeks "),
            outcome_hash("HbA1c change at 26 weeks")
        );
        assert_ne!(
            outcome_hash("HbA1c change at 26 weeks"),
            outcome_hash("HbA1c change at 52 weeks")
        );
        let set = OutcomeSet::new(&["a", "b"]);
        let again = OutcomeSet::with_salt(set.salt, &["a", "b"]);
        assert_eq!(set.commitment(), again.commitment());
        assert_ne!(set.commitment(), OutcomeSet::new(&["a", "b"]).commitment());
    }

    #[test]
    fn registry_ids_round_trip_and_refuse_free_text() {
        for ok in ["NCT01234567", "2023-501234-12-00", "ISRCTN12345678"] {
            assert_eq!(registry_id_text(&registry_id(ok).unwrap()), ok);
        }
        for bad in ["", "nct0123", "A trial of insulin", &"X".repeat(25)] {
            assert!(registry_id(bad).is_err(), "{bad}");
        }
    }
}
