//! `POST /fhir/Consent/$evaluate`: may this actor do this to this patient's data, for this
//! purpose, now (or at a given time)? Answered with the program's own `decide_access` over the
//! accounts `access_log` would read, in one snapshot. HL7 has published no consent-decision
//! operation for R4 (the Scalable Consent Management guide is a continuous build, and the LEAP
//! Consent Decision Service is a CDS Hooks service, not a FHIR operation), so this one is defined
//! by the OperationDefinition at `/fhir/OperationDefinition/consent-evaluate`.
use super::outcome::Outcome;
use careledger_sdk::accounts::{decode, offsets, Memcmp};
use careledger_sdk::audit::{consent_id, instant, purpose_of_code, KEY_SYSTEM};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::{
    action, decide_access, pda, AccessQuery, Config, ConsentGrant, LedgerArchive, Patient,
    Provider, Pubkey, Purpose, RecordAnchor, Refusal, NO_RECORD_SCOPE,
};
use serde_json::{json, Value};

/// The parameters `$evaluate` takes.
pub const PARAMETERS: [&str; 7] = [
    "patient", "actor", "purpose", "action", "class", "record", "time",
];

/// What is asked, read from a `Parameters` resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub patient: Pubkey,
    pub actor: Pubkey,
    pub purpose: Purpose,
    /// `action::READ` or `action::WRITE`.
    pub action: u8,
    pub class: Option<u8>,
    pub record: Option<u32>,
    pub time: Option<i64>,
}

/// The answer: permit, or deny and why (a `Refusal`'s name in kebab case, or what stops
/// `access_log` before any grant is read: `paused`, `patient-not-registered`,
/// `not-a-provider`, `no-such-record`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub permit: bool,
    pub reason: Option<String>,
    /// The Consent the decision rests on, where a grant stands.
    pub consent: Option<String>,
    pub at: i64,
}

/// `ClassNotGranted` → `class-not-granted`.
pub fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The reason code of a refusal.
pub fn refusal_code(refusal: Refusal) -> String {
    kebab(&format!("{refusal:?}"))
}

fn param<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["parameter"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

/// The one `value[x]` of a parameter, as text.
fn text_of(p: &Value) -> Option<String> {
    let object = p.as_object()?;
    let (key, value) = object.iter().find(|(k, _)| k.starts_with("value"))?;
    match key.as_str() {
        "valueIdentifier" => value["value"].as_str().map(str::to_owned),
        "valueCoding" => value["code"].as_str().map(str::to_owned),
        "valueUnsignedInt" | "valueInteger" => value.as_u64().map(|n| n.to_string()),
        _ => value.as_str().map(str::to_owned),
    }
}

impl Question {
    /// Reads a `Parameters` body; every missing or malformed part is named.
    /// Reads a `Parameters` body; with `strict` (`Prefer: handling=strict`), a parameter it does
    /// not know is refused too, as a search's is.
    pub fn parse_strict(body: &Value, strict: bool) -> Result<Question, Outcome> {
        if strict {
            let unknown: Vec<&str> = body["parameter"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["name"].as_str())
                .filter(|n| !PARAMETERS.contains(n))
                .collect();
            if !unknown.is_empty() {
                return Err(Outcome::invalid(format!(
                    "$evaluate has no parameter {} (handling=strict): it takes {}",
                    unknown.join(", "),
                    PARAMETERS.join(", ")
                )));
            }
        }
        Question::parse(body)
    }

    pub fn parse(body: &Value) -> Result<Question, Outcome> {
        if body["resourceType"] != "Parameters" {
            return Err(Outcome::invalid(
                "$evaluate takes a Parameters resource (resourceType Parameters)".into(),
            ));
        }
        let required = |name: &str, what: &str| {
            param(body, name).and_then(text_of).ok_or_else(|| {
                Outcome::invalid(format!("$evaluate needs the parameter `{name}`: {what}"))
            })
        };
        let key = |name: &str| -> Result<Pubkey, Outcome> {
            let text = required(
                name,
                "a wallet address (valueString, or valueIdentifier in urn:solana:pubkey)",
            )?;
            super::search::key_param(name, &text)
        };
        let patient = key("patient")?;
        let actor = key("actor")?;
        let purpose_text = required(
            "purpose",
            "a v3 ActReason code (TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, ETREAT)",
        )?;
        let purpose = purpose_of_code(&purpose_text).ok_or_else(|| {
            Outcome::invalid(format!(
                "purpose `{purpose_text}` is not a purpose of use careledger records: TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH or ETREAT"
            ))
        })?;
        let action_text = required("action", "access (read) or correct (write)")?;
        let action = match action_text.as_str() {
            "access" | "read" => action::READ,
            "correct" | "write" => action::WRITE,
            other => {
                return Err(Outcome::invalid(format!(
                    "action `{other}`: careledger decides access (read) and correct (write)"
                )))
            }
        };
        let class = match param(body, "class").and_then(text_of) {
            None => None,
            Some(name) => Some(
                name.parse::<RecordClass>()
                    .map_err(|e| match e {
                        careledger_sdk::SdkError::InvalidInput(why) => {
                            Outcome::invalid(format!("class: {why}"))
                        }
                        other => Outcome::invalid(format!("class: {other}")),
                    })?
                    .id(),
            ),
        };
        let record = match param(body, "record").and_then(text_of) {
            None => None,
            Some(n) => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n != NO_RECORD_SCOPE)
                    .ok_or_else(|| {
                        Outcome::invalid(format!(
                            "record `{n}` is not a record number (valueUnsignedInt)"
                        ))
                    })?,
            ),
        };
        if class.is_none() && record.is_none() {
            return Err(Outcome::invalid(
                "$evaluate needs `class` (a record class such as lab-result) or `record` (the patient's record number)".into(),
            ));
        }
        let time = match param(body, "time").and_then(text_of) {
            None => None,
            Some(t) => Some(
                chrono::DateTime::parse_from_rfc3339(&t)
                    .map_err(|_| {
                        Outcome::invalid(format!(
                            "time `{t}` is not an instant: give it with its zone, as 2026-12-07T10:00:00Z"
                        ))
                    })?
                    .timestamp(),
            ),
        };
        Ok(Question {
            patient,
            actor,
            purpose,
            action,
            class,
            record,
            time,
        })
    }
}

/// Decides `q` from one snapshot of the ledger, as `access_log` would at the same moment.
///
/// `max_lag_secs`: how far the ledger's clock may trail this server's (a lagging node could
/// still show a revoked grant as live); `None` for a ledger folder, whose clock is this one.
pub async fn decide<L: LedgerArchive>(
    ledger: &L,
    q: &Question,
    max_lag_secs: Option<i64>,
) -> Result<Decision, Outcome> {
    let patient_account = pda::patient(&q.patient).0;
    let provider_account = pda::provider(&q.actor).0;
    let record_account = q.record.map(|i| pda::record(&q.patient, i).0);
    // every grant of this patient to this actor: one per purpose at its address, or a
    // break-glass grant per opening. Listed first for their addresses; then every account the
    // decision reads comes from one snapshot, so no account is from before a change and
    // another after it (a revoke-all between two reads cannot leave a stale grant permitted)
    let filters = [
        Memcmp::discriminator::<ConsentGrant>(),
        Memcmp::key_at(offsets::GRANT_PATIENT, &q.patient),
        Memcmp::key_at(offsets::GRANT_GRANTEE, &q.actor),
    ];
    let mut grant_addresses: Vec<Pubkey> = ledger
        .program_accounts(&filters)
        .await
        .map_err(Outcome::ledger)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    grant_addresses.sort();
    let mut addresses = vec![
        careledger_sdk::CONFIG_ADDRESS,
        patient_account,
        provider_account,
    ];
    addresses.extend(record_account);
    let first_grant = addresses.len();
    let room = careledger_sdk::transport::MAX_SNAPSHOT_ADDRESSES - first_grant;
    if grant_addresses.len() > room {
        return Err(Outcome::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "too-costly",
            format!(
                "this actor holds {} grants from this patient, more than one snapshot reads ({room}): ask the patient to close spent ones",
                grant_addresses.len()
            ),
        ));
    }
    addresses.extend(&grant_addresses);
    let at = ledger
        .accounts_at(&addresses)
        .await
        .map_err(Outcome::ledger)?;
    if let Some(max) = max_lag_secs {
        let lag = crate::common::unix_now().saturating_sub(at.unix_timestamp);
        if lag > max {
            return Err(Outcome::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "transient",
                format!("the ledger's clock is {lag} s behind this server's (at most {max} s): its node may not show a recent revocation yet, so nothing is decided"),
            ));
        }
    }
    let now = q.time.unwrap_or(at.unix_timestamp);
    let deny = |reason: &str| Decision {
        permit: false,
        reason: Some(reason.to_owned()),
        consent: None,
        at: now,
    };
    let decode_at = |i: usize| at.accounts.get(i).cloned().flatten();
    let bad = |e: careledger_sdk::SdkError| Outcome::ledger(e);
    let config = match decode_at(0) {
        Some(a) => decode::<Config>(&addresses[0], &a.owner, &a.data).map_err(bad)?,
        None => {
            return Err(Outcome::ledger(
                "careledger is not set up on this ledger (no config)",
            ))
        }
    };
    if config.paused {
        return Ok(deny("paused"));
    }
    // in access_log's account order: the grantee's provider account, then the patient's
    let provider = match decode_at(2) {
        Some(a) => decode::<Provider>(&provider_account, &a.owner, &a.data).map_err(bad)?,
        None => return Ok(deny("not-a-provider")),
    };
    let patient = match decode_at(1) {
        Some(a) => decode::<Patient>(&patient_account, &a.owner, &a.data).map_err(bad)?,
        None => return Ok(deny("patient-not-registered")),
    };
    let (record_class, record_index) = match record_account {
        Some(address) => {
            let record = match decode_at(3) {
                Some(a) => decode::<RecordAnchor>(&address, &a.owner, &a.data).map_err(bad)?,
                None => return Ok(deny("no-such-record")),
            };
            if q.class.is_some_and(|c| c != record.class) {
                return Err(Outcome::invalid(format!(
                    "record {} is of another class than `class` says: give one or the other",
                    record.index
                )));
            }
            (record.class, record.index)
        }
        None => (q.class.unwrap_or_default(), NO_RECORD_SCOPE),
    };
    let mut grants: Vec<(Pubkey, ConsentGrant)> = grant_addresses
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            let a = decode_at(first_grant + i)?;
            Some((*k, decode::<ConsentGrant>(k, &a.owner, &a.data).ok()?))
        })
        .filter(|(_, g)| g.purpose == q.purpose)
        .collect();
    // newest first: a refusal names the grant most recently given
    grants.sort_by_key(|(_, g)| std::cmp::Reverse((g.created_at, g.serial)));
    let query = AccessQuery {
        action: q.action,
        purpose: q.purpose,
        record_class,
        record_index,
        now,
        patient_epoch: patient.consent_epoch,
    };
    let mut first_refusal = None;
    for (address, grant) in &grants {
        match decide_access(grant, &provider, &query) {
            Ok(()) => {
                return Ok(Decision {
                    permit: true,
                    reason: None,
                    consent: Some(consent_id(address, grant)),
                    at: now,
                })
            }
            Err(refusal) => {
                first_refusal.get_or_insert((refusal, consent_id(address, grant)));
            }
        }
    }
    Ok(match first_refusal {
        Some((refusal, consent)) => Decision {
            permit: false,
            reason: Some(refusal_code(refusal)),
            consent: Some(consent),
            at: now,
        },
        None => deny(&refusal_code(Refusal::NoGrant)),
    })
}

impl Decision {
    /// The answer as a `Parameters` resource.
    pub fn parameters(&self) -> Value {
        let mut parameter = vec![
            json!({ "name": "decision", "valueCode": if self.permit { "permit" } else { "deny" } }),
            json!({ "name": "evaluatedAt", "valueInstant": instant(self.at) }),
        ];
        if let Some(reason) = &self.reason {
            parameter.push(json!({ "name": "reason", "valueCode": reason }));
        }
        if let Some(consent) = &self.consent {
            parameter.push(json!({ "name": "consent", "valueReference": { "reference": format!("Consent/{consent}") } }));
        }
        json!({ "resourceType": "Parameters", "parameter": parameter })
    }
}

/// A question as `Parameters`, as a client sends it (the tests, and docs/FHIR.md's example).
pub fn question_parameters(q: &Question) -> Value {
    let mut parameter = vec![
        json!({ "name": "patient", "valueIdentifier": { "system": KEY_SYSTEM, "value": q.patient.to_string() } }),
        json!({ "name": "actor", "valueIdentifier": { "system": KEY_SYSTEM, "value": q.actor.to_string() } }),
        json!({ "name": "purpose", "valueCode": careledger_sdk::audit::purpose_code(q.purpose) }),
        json!({ "name": "action", "valueCode": if q.action == action::WRITE { "correct" } else { "access" } }),
    ];
    if let Some(class) = q.class.and_then(RecordClass::from_id) {
        parameter.push(json!({ "name": "class", "valueCode": class.name() }));
    }
    if let Some(record) = q.record {
        parameter.push(json!({ "name": "record", "valueUnsignedInt": record }));
    }
    if let Some(time) = q.time {
        parameter.push(json!({ "name": "time", "valueInstant": instant(time) }));
    }
    json!({ "resourceType": "Parameters", "parameter": parameter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_named_in_kebab_case() {
        assert_eq!(refusal_code(Refusal::ClassNotGranted), "class-not-granted");
        assert_eq!(refusal_code(Refusal::NoGrant), "no-grant");
        assert_eq!(kebab("Revoked"), "revoked");
    }

    #[test]
    fn a_question_round_trips_through_parameters() {
        let q = Question {
            patient: Pubkey::new_unique(),
            actor: Pubkey::new_unique(),
            purpose: Purpose::Research,
            action: action::WRITE,
            class: Some(2),
            record: Some(7),
            time: Some(1_800_000_000),
        };
        assert_eq!(Question::parse(&question_parameters(&q)).unwrap(), q);
    }

    #[test]
    fn a_bad_question_is_refused_by_name() {
        let q = Question {
            patient: Pubkey::new_unique(),
            actor: Pubkey::new_unique(),
            purpose: Purpose::Treatment,
            action: action::READ,
            class: Some(0),
            record: None,
            time: None,
        };
        let mut body = question_parameters(&q);
        body["parameter"][2]["valueCode"] = json!("FUN");
        assert!(Question::parse(&body)
            .unwrap_err()
            .diagnostics
            .contains("purpose `FUN`"));
        let mut body = question_parameters(&q);
        body["parameter"].as_array_mut().unwrap().remove(1);
        assert!(Question::parse(&body)
            .unwrap_err()
            .diagnostics
            .contains("`actor`"));
        let mut body = question_parameters(&q);
        body["parameter"].as_array_mut().unwrap().pop();
        assert!(Question::parse(&body)
            .unwrap_err()
            .diagnostics
            .contains("`class`"));
        assert!(Question::parse(&json!({ "resourceType": "Patient" })).is_err());
    }
}
