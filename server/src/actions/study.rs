//! Enrolment in a research study, for a patient the sponsor invited (the eligibility step:
//! `invitation_create`). The study's link offers two actions in order: sign the research
//! consent to the sponsor (the grant action, with its consent statement), then enrol. Rewards
//! are paid only while that consent lives, so the consent comes first and stays the patient's
//! own signed decision.
use super::{account_of, address, class_list, decoded, ActionRefused, Actions, Answer, PostBody};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use careledger_sdk::classes::{self, RecordClass};
use careledger_sdk::ix::{self, StudyKeys};
use careledger_sdk::program::logic::rewards::check_research_grant;
use careledger_sdk::program::state::{Protocol, ProtocolVersion};
use careledger_sdk::LedgerView;
use careledger_sdk::{pda, ConsentGrant, Invitation, Patient, Pubkey, Study};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Days the research consent offered by a study link runs, unless the link says.
pub const DEFAULT_CONSENT_DAYS: i64 = 365;

#[derive(Debug, Deserialize)]
pub struct StudyQuery {
    /// Days the research consent runs.
    pub days: Option<String>,
    /// The patient, when the wallet is their guardian.
    pub patient: Option<String>,
}

async fn open_study<C: LedgerView + 'static>(
    a: &Actions<C>,
    raw: &str,
) -> Result<(Pubkey, Study, i64), ActionRefused> {
    let study_address = address("study", raw)?;
    let at = a.read(&[study_address]).await?;
    let study: Study = decoded(&study_address, at.accounts[0].as_ref()).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::NOT_FOUND,
            "no-study",
            format!("there is no study at {study_address}"),
        )
    })?;
    if !study.enrolment_open(at.unix_timestamp) {
        return Err(ActionRefused::new(
            StatusCode::GONE,
            "enrolment-closed",
            format!("enrolment in study {study_address} is closed"),
        ));
    }
    Ok((study_address, study, at.unix_timestamp))
}

fn class_names(mask: u16) -> String {
    let names: Vec<&str> = classes::classes_in(mask)
        .into_iter()
        .map(RecordClass::name)
        .collect();
    names.join(",")
}

/// The study's registered protocol now: the version an enrolment consents to. A study with none
/// takes nobody yet (the program refuses the enrolment: `ProtocolNotRegistered`).
pub(super) async fn current_protocol<C: LedgerView + 'static>(
    a: &Actions<C>,
    study: &Pubkey,
) -> Result<ix::ProtocolRef, ActionRefused> {
    let protocol_address = pda::protocol(study).0;
    let at = a.read(&[protocol_address]).await?;
    let protocol: Protocol = decoded(&protocol_address, at.accounts[0].as_ref()).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::CONFLICT,
            "no-protocol",
            format!("study {study} has no registered protocol yet: nobody enrols until its sponsor registers one"),
        )
    })?;
    let version_address = pda::protocol_version(study, protocol.version).0;
    let at = a.read(&[version_address]).await?;
    let version: ProtocolVersion =
        decoded(&version_address, at.accounts[0].as_ref()).ok_or_else(|| {
            ActionRefused(crate::problem::Problem::internal(format!(
                "protocol version {} of study {study} is missing",
                protocol.version
            )))
        })?;
    Ok(ix::ProtocolRef {
        version: protocol.version,
        document_sha256: version.document_sha256,
    })
}

pub async fn metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path(raw): Path<String>,
    Query(q): Query<StudyQuery>,
) -> Answer {
    let (address, study, _) = open_study(&a, &raw).await?;
    let days = match q.days.as_deref() {
        None => DEFAULT_CONSENT_DAYS,
        Some(d) => d
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| *d > 0)
            .ok_or_else(|| {
                ActionRefused::bad(
                    "bad-days",
                    format!("days must be a positive whole number, not `{d}`"),
                )
            })?,
    };
    let mut consent = format!(
        "/api/actions/grant/statement?grantee={}&classes={}&purpose=research&actions=read&days={days}",
        study.sponsor,
        class_names(study.classes)
    );
    let mut enrol = format!("/api/actions/study/{address}/enrol");
    if let Some(p) = &q.patient {
        let p = super::address("patient", p)?;
        consent.push_str(&format!("&patient={p}"));
        enrol.push_str(&format!("?patient={p}"));
    }
    let protocol = current_protocol(&a, &address).await?;
    let t = &study.terms;
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": format!("Research study {} by {}", study.study_id, study.sponsor),
        "description": format!(
            "Sponsor {} asks to use your {} records for research (data use code {}), under version {} of its registered protocol (the document with SHA-256 {}): enrolling consents to that version. You need the sponsor's invitation. First sign a research consent to the sponsor for {days} days; then enrol. Rewards, in base units of mint {}: {} at enrolment, then {} every {} s for up to {} periods, paid only while your consent lives.",
            study.sponsor,
            class_list(study.classes),
            study.data_use_code,
            protocol.version,
            crate::common::hex(&protocol.document_sha256),
            study.mint,
            t.enrolment_reward,
            t.period_reward,
            t.period_secs,
            t.periods
        ),
        "label": "Join the study",
        "links": {"actions": [
            {"type": "message", "label": "Sign research consent", "href": consent},
            {"type": "transaction", "label": "Enrol", "href": enrol},
        ]},
    })))
}

pub async fn enrol<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path(raw): Path<String>,
    Query(q): Query<StudyQuery>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let (address, study, _) = open_study(&a, &raw).await?;
    let wallet = match &q.patient {
        Some(p) => super::address("patient", p)?,
        None => signer,
    };
    let (patient_address, invitation_address, grant_address) = (
        pda::patient(&wallet).0,
        pda::invitation(&address, &wallet).0,
        pda::grant(&wallet, &study.sponsor, careledger_sdk::Purpose::Research).0,
    );
    let at = a
        .read(&[patient_address, invitation_address, grant_address])
        .await?;
    let now = at.unix_timestamp;
    let patient: Patient = decoded(&patient_address, at.accounts[0].as_ref()).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::NOT_FOUND,
            "unregistered-patient",
            format!("{wallet} is not a registered patient"),
        )
    })?;
    // the program's rule: the patient, or a guardian who is neither the sponsor nor the site
    super::decide::may_decide(&patient, &signer, now, &[study.sponsor, study.site])?;
    let invited = decoded::<Invitation>(&invitation_address, at.accounts[1].as_ref())
        .filter(|i| i.used_at == 0 && now < i.expires_at);
    if invited.is_none() {
        return Err(ActionRefused::new(
            StatusCode::FORBIDDEN,
            "not-invited",
            format!("patient {wallet} holds no live, unused invitation to study {address}: the sponsor invites eligible patients first"),
        ));
    }
    let consent = decoded::<ConsentGrant>(&grant_address, at.accounts[2].as_ref()).filter(|g| {
        check_research_grant(g, study.classes, patient.consent_epoch, now).is_ok()
            && g.narrowed_at == 0
    });
    if consent.is_none() {
        return Err(ActionRefused::new(
            StatusCode::CONFLICT,
            "no-research-consent",
            format!("patient {wallet} has no live research consent to sponsor {} covering the study's classes: sign it first (the study link's first action)", study.sponsor),
        ));
    }
    let protocol = current_protocol(&a, &address).await?;
    let instruction = ix::StudyEnroll {
        authority: signer,
        patient_wallet: wallet,
        keys: StudyKeys::of(address, &study),
        protocol,
    }
    .instruction();
    let tx = a.transaction(&signer, &[instruction]).await?;
    Ok(Json(a.transaction_response(
        tx,
        format!("Enrols patient {wallet} in study {address}."),
        "Enrolled",
        format!(
            "You take part in study {} once this transaction confirms; the enrolment reward goes to your token account for mint {}.",
            study.study_id, study.mint
        ),
    )))
}
