//! One-step decisions: approve or deny an access request, revoke one grant or all of them,
//! accept or dispute a break-glass access. Each `GET` describes the decision from the ledger,
//! each `POST` answers its transaction, after checking that the wallet may make it.
use super::{
    account_of, address, class_list, decoded, duration, ActionRefused, Actions, Answer, PostBody,
};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use careledger_sdk::classes;
use careledger_sdk::program::errors::CareledgerError;
use careledger_sdk::program::logic::authority::acting_for_unconflicted;
use careledger_sdk::LedgerView;
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{
    grant_standing, ix, pda, AccessRequest, ConsentGrant, GrantStanding, Patient, Pubkey, Purpose,
    RequestApproveArgs, ReviewOutcome, ReviewState,
};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

fn action_names(mask: u8) -> &'static str {
    match mask {
        3 => "read and write",
        2 => "write",
        _ => "read",
    }
}

/// Refuses a wallet that is neither the patient nor their guardian now, and a guardian who is
/// one of `parties` (the program's own rule, `acting_for_unconflicted`).
pub(super) fn may_decide(
    patient: &Patient,
    signer: &Pubkey,
    now: i64,
    parties: &[Pubkey],
) -> Result<(), ActionRefused> {
    acting_for_unconflicted(patient, signer, now, parties)
        .map(|_| ())
        .map_err(|e| {
            let slug = match e {
                CareledgerError::GuardianIsParty => "guardian-is-party",
                _ => "not-patient-or-guardian",
            };
            ActionRefused::new(
                StatusCode::FORBIDDEN,
                slug,
                format!(
                    "{signer} may not decide for patient {}: {e}",
                    patient.wallet
                ),
            )
        })
}

fn patient_of(
    wallet: &Pubkey,
    account: Option<&solana_account::Account>,
) -> Result<Patient, ActionRefused> {
    decoded(&pda::patient(wallet).0, account).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::NOT_FOUND,
            "unregistered-patient",
            format!("{wallet} is not a registered patient"),
        )
    })
}

// ------------------------------------------------------------------ access requests

/// The request at `address`, its patient, and the clock; refused when it is gone (approved,
/// denied or never made) or older than the server's limit.
async fn pending_request<C: LedgerView + 'static>(
    a: &Actions<C>,
    raw: &str,
) -> Result<(Pubkey, AccessRequest, Patient, i64), ActionRefused> {
    let request_address = address("request", raw)?;
    let at = a.read(&[request_address]).await?;
    let request: AccessRequest = decoded(&request_address, at.accounts[0].as_ref()).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::GONE,
            "no-pending-request",
            format!("there is no pending access request at {request_address}: it was approved, denied or withdrawn, or never made"),
        )
    })?;
    let age = at.unix_timestamp.saturating_sub(request.created_at);
    if age > a.max_request_age_secs {
        return Err(ActionRefused::new(
            StatusCode::GONE,
            "request-expired",
            format!(
                "the access request at {request_address} is {} days old; links decide requests at most {} days old. Ask the provider to request again, or decide it with the CLI",
                age / SECONDS_PER_DAY,
                a.max_request_age_secs / SECONDS_PER_DAY
            ),
        ));
    }
    let at = a.read(&[pda::patient(&request.patient).0]).await?;
    let patient = patient_of(&request.patient, at.accounts[0].as_ref())?;
    Ok((request_address, request, patient, at.unix_timestamp))
}

pub async fn request_metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path(raw): Path<String>,
) -> Answer {
    let (address, r, _, _) = pending_request(&a, &raw).await?;
    let window = duration(i64::from(r.duration_secs));
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": format!("Access request from {}", r.requester),
        "description": format!(
            "Provider {} asks for {} access to your {} records, for {}, for {window} from your approval (reason code {}). Approving grants exactly this; denying records your refusal.",
            r.requester,
            action_names(r.actions),
            class_list(r.classes),
            classes::purpose_name(r.purpose),
            r.reason_code
        ),
        "label": "Decide",
        "links": {"actions": [
            {"type": "transaction", "label": "Approve", "href": format!("/api/actions/request/{address}/approve")},
            {"type": "transaction", "label": "Deny", "href": format!("/api/actions/request/{address}/deny")},
        ]},
    })))
}

pub async fn request_decide<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path((raw, decision)): Path<(String, String)>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let approve = match decision.as_str() {
        "approve" => true,
        "deny" => false,
        other => {
            return Err(ActionRefused::new(
                StatusCode::NOT_FOUND,
                "unknown-decision",
                format!("`{other}` is not a decision: approve or deny"),
            ))
        }
    };
    let (address, r, patient, now) = pending_request(&a, &raw).await?;
    // a guardian may deny its own request, never approve it
    let parties: &[Pubkey] = if approve { &[r.requester] } else { &[] };
    may_decide(&patient, &signer, now, parties)?;
    if approve && patient.requires_statements() {
        let days = (i64::from(r.duration_secs) / SECONDS_PER_DAY).max(1);
        return Err(ActionRefused::new(
            StatusCode::CONFLICT,
            "statement-required",
            format!(
                "patient {} requires a signed consent statement for every grant, so a request is not approved blind: grant it with /api/actions/grant?grantee={}&classes={}&purpose={}&days={days}, then deny the request",
                r.patient,
                r.requester,
                class_list(r.classes).replace(", ", ","),
                classes::purpose_name(r.purpose)
            ),
        ));
    }
    let (instruction, message, title, done) = if approve {
        let expires_at = now.saturating_add(i64::from(r.duration_secs));
        let grant = pda::grant(&r.patient, &r.requester, r.purpose).0;
        (
            ix::RequestApprove {
                authority: signer,
                patient_wallet: r.patient,
                requester: r.requester,
                purpose: r.purpose,
                args: RequestApproveArgs {
                    classes: r.classes,
                    actions: r.actions,
                    expires_at,
                },
            }
            .instruction(),
            format!("Approves access request {address}: grant {grant}."),
            "Request approved",
            format!("Provider {} has the access it asked for, as grant {grant}, once this transaction confirms.", r.requester),
        )
    } else {
        (
            ix::RequestDeny {
                authority: signer,
                patient_wallet: r.patient,
                requester: r.requester,
                // 1: declined by the patient (the request's reason codes are the provider's)
                reason_code: 1,
            }
            .instruction(),
            format!("Denies access request {address}."),
            "Request denied",
            format!(
                "Provider {}'s request is refused once this transaction confirms.",
                r.requester
            ),
        )
    };
    let tx = a.transaction(&signer, &[instruction]).await?;
    Ok(Json(a.transaction_response(tx, message, title, done)))
}

// ------------------------------------------------------------------ revocation

async fn grant_at<C: LedgerView + 'static>(
    a: &Actions<C>,
    raw: &str,
) -> Result<(Pubkey, ConsentGrant, Patient, i64), ActionRefused> {
    let grant_address = address("grant", raw)?;
    let at = a.read(&[grant_address]).await?;
    let grant: ConsentGrant =
        decoded(&grant_address, at.accounts[0].as_ref()).ok_or_else(|| {
            ActionRefused::new(
                StatusCode::NOT_FOUND,
                "no-grant",
                format!("there is no consent grant at {grant_address}"),
            )
        })?;
    let at = a.read(&[pda::patient(&grant.patient).0]).await?;
    let patient = patient_of(&grant.patient, at.accounts[0].as_ref())?;
    Ok((grant_address, grant, patient, at.unix_timestamp))
}

/// Refuses to offer the revocation of a grant that can never authorize again, saying why: the
/// standing the program's own rule gives it now.
fn live(
    address: &Pubkey,
    g: &ConsentGrant,
    patient: &Patient,
    now: i64,
) -> Result<(), ActionRefused> {
    let (slug, why) = match grant_standing(g, patient.consent_epoch, now) {
        GrantStanding::Active | GrantStanding::NotYetValid => return Ok(()),
        GrantStanding::Revoked => ("already-revoked", "it is already revoked"),
        GrantStanding::Void => (
            "grant-void",
            "it is void: the patient revoked all grants after it was made",
        ),
        GrantStanding::Expired => ("grant-expired", "it has expired"),
    };
    Err(ActionRefused::new(
        StatusCode::CONFLICT,
        slug,
        format!("grant {address} allows nothing to revoke: {why}"),
    ))
}

pub async fn revoke_metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path(raw): Path<String>,
) -> Answer {
    let (address, g, patient, now) = grant_at(&a, &raw).await?;
    live(&address, &g, &patient, now)?;
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": format!("Revoke access of {}", g.grantee),
        "description": format!(
            "Ends grant {address}: provider {}'s {} access to your {} records for {}. It cannot be undone; a new grant would need your consent again.",
            g.grantee,
            action_names(g.actions),
            class_list(g.classes),
            classes::purpose_name(g.purpose)
        ),
        "label": "Revoke",
        "links": {"actions": [
            {"type": "transaction", "label": "Revoke this grant", "href": format!("/api/actions/revoke/{address}")},
        ]},
    })))
}

pub async fn revoke<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path(raw): Path<String>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let (address, g, patient, now) = grant_at(&a, &raw).await?;
    live(&address, &g, &patient, now)?;
    may_decide(&patient, &signer, now, &[g.grantee])?;
    let instruction = ix::GrantRevoke {
        authority: signer,
        patient_wallet: g.patient,
        grant: address,
    }
    .instruction();
    let tx = a.transaction(&signer, &[instruction]).await?;
    Ok(Json(a.transaction_response(
        tx,
        format!("Revokes grant {address}."),
        "Grant revoked",
        format!(
            "Provider {} loses this access once the transaction confirms.",
            g.grantee
        ),
    )))
}

#[derive(Debug, Deserialize)]
pub struct PatientQuery {
    pub patient: Option<String>,
}

pub async fn revoke_all_metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Query(q): Query<PatientQuery>,
) -> Answer {
    // a guardian's link names the ward, and the transaction link carries the name on
    let (whose, href) = match &q.patient {
        Some(p) => {
            let p = address("patient", p)?;
            (
                format!("patient {p}"),
                format!("/api/actions/revoke-all?patient={p}"),
            )
        }
        None => (
            "the wallet that signs".to_string(),
            "/api/actions/revoke-all".to_string(),
        ),
    };
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": "Revoke every consent grant",
        "description": format!("Ends every grant made for {whose}, to every provider, at once (break-glass reviews stay open). Providers who need access again must ask again."),
        "label": "Revoke all",
        "links": {"actions": [
            {"type": "transaction", "label": "Revoke all grants", "href": href},
        ]},
    })))
}

pub async fn revoke_all<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Query(q): Query<PatientQuery>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let wallet = match &q.patient {
        Some(p) => address("patient", p)?,
        None => signer,
    };
    let at = a.read(&[pda::patient(&wallet).0]).await?;
    let patient = patient_of(&wallet, at.accounts[0].as_ref())?;
    may_decide(&patient, &signer, at.unix_timestamp, &[])?;
    let instruction = ix::GrantRevokeAll {
        authority: signer,
        patient_wallet: wallet,
    }
    .instruction();
    let tx = a.transaction(&signer, &[instruction]).await?;
    Ok(Json(a.transaction_response(
        tx,
        format!("Revokes every grant of patient {wallet}."),
        "All grants revoked",
        "Every grant made so far is void once the transaction confirms.".into(),
    )))
}

// ------------------------------------------------------------------ break-glass review

fn pending_review(address: &Pubkey, g: &ConsentGrant) -> Result<(), ActionRefused> {
    if g.purpose != Purpose::Emergency {
        return Err(ActionRefused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-emergency",
            format!("grant {address} is not a break-glass access"),
        ));
    }
    if g.review != ReviewState::Pending {
        return Err(ActionRefused::new(
            StatusCode::CONFLICT,
            "already-reviewed",
            format!(
                "the break-glass access {address} was already reviewed ({:?})",
                g.review
            ),
        ));
    }
    Ok(())
}

pub async fn emergency_metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path(raw): Path<String>,
) -> Answer {
    let (address, g, _, _) = grant_at(&a, &raw).await?;
    pending_review(&address, &g)?;
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": format!("Emergency access by {}", g.grantee),
        "description": format!(
            "Clinician {} opened break-glass access {address} to your {} records, from {} to {} (unix seconds), and read them {} times. Accept it, or dispute it: a dispute revokes it if still open and is kept in the audit trail.",
            g.grantee,
            class_list(g.classes),
            g.not_before,
            g.expires_at,
            g.access_count
        ),
        "label": "Review",
        "links": {"actions": [
            {"type": "transaction", "label": "Accept", "href": format!("/api/actions/emergency/{address}/accept")},
            {"type": "transaction", "label": "Dispute", "href": format!("/api/actions/emergency/{address}/dispute")},
        ]},
    })))
}

pub async fn emergency_review<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Path((raw, outcome)): Path<(String, String)>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let outcome = match outcome.as_str() {
        "accept" => ReviewOutcome::Accepted,
        "dispute" => ReviewOutcome::Disputed,
        other => {
            return Err(ActionRefused::new(
                StatusCode::NOT_FOUND,
                "unknown-decision",
                format!("`{other}` is not a review outcome: accept or dispute"),
            ))
        }
    };
    let (address, g, patient, now) = grant_at(&a, &raw).await?;
    pending_review(&address, &g)?;
    may_decide(&patient, &signer, now, &[g.grantee])?;
    let verb = match outcome {
        ReviewOutcome::Accepted => "Accepts",
        ReviewOutcome::Disputed => "Disputes",
    };
    let instruction = ix::BreakGlassReview {
        authority: signer,
        patient_wallet: g.patient,
        grant: address,
        outcome,
    }
    .instruction();
    let tx = a.transaction(&signer, &[instruction]).await?;
    Ok(Json(a.transaction_response(
        tx,
        format!("{verb} break-glass access {address}."),
        "Review recorded",
        format!(
            "Your review of {}'s emergency access is recorded once the transaction confirms.",
            g.grantee
        ),
    )))
}

// ------------------------------------------------------------------ consent mode

pub async fn require_statements_metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
) -> Answer {
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": "Require a signed statement for every grant",
        "description": "From now on, and for good, a new grant is recorded only against a consent statement you signed: plain grants, request approvals, widening updates and appointing a guardian are refused, so a transaction you sign without reading it can neither make nor widen your consent, nor name someone who could. Narrowing and revoking still work. It cannot be turned off.",
        "label": "Require statements",
        "links": {"actions": [
            {"type": "transaction", "label": "Require signed statements", "href": "/api/actions/require-statements"},
        ]},
    })))
}

pub async fn require_statements<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let at = a.read(&[pda::patient(&signer).0]).await?;
    let patient = patient_of(&signer, at.accounts[0].as_ref())?;
    if patient.requires_statements() {
        return Err(ActionRefused::new(
            StatusCode::CONFLICT,
            "already-required",
            format!("patient {signer} already requires a signed statement for every grant"),
        ));
    }
    let instruction = ix::PatientRequireStatements { wallet: signer }.instruction();
    let tx = a.transaction(&signer, &[instruction]).await?;
    Ok(Json(a.transaction_response(
        tx,
        format!("Requires a signed consent statement for every new grant of patient {signer}."),
        "Statements required",
        "Every new grant now needs your signed consent statement, once this transaction confirms.".into(),
    )))
}
