//! The consent-grant action, in two signed steps:
//!
//! 1. `GET /api/actions/grant?...` describes the grant; its one linked action is a `message`.
//! 2. `POST /api/actions/grant/statement?...` answers the consent statement to sign (a
//!    `SignMessageResponse` whose `data` is the statement's text), fixing the window's end.
//! 3. `POST /api/actions/grant/signed?...` receives the signature, checks it against the
//!    statement re-rendered from the ledger, and answers the next action: record it.
//! 4. `POST /api/actions/grant/record?...&signature=` answers the transaction: the Ed25519
//!    check of that signature, then `grant_create_signed`, which the program checks against the
//!    same statement byte for byte.
//!
//! The server keeps no state between the steps: every step re-reads the ledger and re-renders
//! the statement, so what it checks is what the program will check.
use super::{account_of, address, class_list, decoded, ActionRefused, Actions, Answer, PostBody};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use careledger_sdk::classes::{self, RecordClass};
use careledger_sdk::program::logic::authority::{within_guardianship, Actor};
use careledger_sdk::program::logic::terms::{
    validate_grant_terms, validate_purpose_for_roles, GrantTerms,
};
use careledger_sdk::statement::{self as st, SignedForm};
use careledger_sdk::LedgerView;
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{
    grant_standing, ix, pda, ConsentGrant, GrantCreateArgs, Patient, Provider, ProviderStatus,
    Pubkey, NO_RECORD_SCOPE,
};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// The grant's terms as a link gives them.
#[derive(Debug, Deserialize)]
pub struct GrantQuery {
    pub grantee: Option<String>,
    /// Class names, comma-separated.
    pub classes: Option<String>,
    pub purpose: Option<String>,
    /// Days the grant runs (steps 1 and 2).
    pub days: Option<String>,
    /// `read` (the default), `write`, or `read,write`.
    pub actions: Option<String>,
    /// The patient, when the wallet is their guardian (default: the wallet itself).
    pub patient: Option<String>,
    /// The window's end, unix seconds (steps 3 and 4: fixed by the statement).
    pub expires_at: Option<String>,
    /// The statement's signature, base58 (step 4).
    pub signature: Option<String>,
}

/// The terms, checked for form.
struct Terms {
    grantee: Pubkey,
    classes: u16,
    purpose: careledger_sdk::Purpose,
    actions: u8,
    patient: Option<Pubkey>,
}

fn required<'a>(field: &str, v: &'a Option<String>) -> Result<&'a str, ActionRefused> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ActionRefused::bad("missing-parameter", format!("the link has no `{field}`"))
        })
}

fn terms_of(q: &GrantQuery) -> Result<Terms, ActionRefused> {
    let grantee = address("grantee", required("grantee", &q.grantee)?)?;
    let names: Vec<&str> = required("classes", &q.classes)?
        .split(',')
        .map(str::trim)
        .collect();
    let classes = classes::class_mask_of(&names)
        .map_err(|e| ActionRefused::bad("unknown-class", e.to_string()))?;
    let purpose = classes::purpose(required("purpose", &q.purpose)?.trim())
        .map_err(|e| ActionRefused::bad("unknown-purpose", e.to_string()))?;
    let action_names: Vec<&str> = q
        .actions
        .as_deref()
        .unwrap_or("read")
        .split(',')
        .map(str::trim)
        .collect();
    let actions = classes::action_mask(&action_names)
        .map_err(|e| ActionRefused::bad("unknown-action", e.to_string()))?;
    let patient = q
        .patient
        .as_deref()
        .map(|p| address("patient", p))
        .transpose()?;
    Ok(Terms {
        grantee,
        classes,
        purpose,
        actions,
        patient,
    })
}

fn days_of(q: &GrantQuery) -> Result<i64, ActionRefused> {
    let raw = required("days", &q.days)?;
    let max = careledger_sdk::MAX_GRANT_DURATION_SECS / SECONDS_PER_DAY;
    match raw.trim().parse::<i64>() {
        Ok(d) if (1..=max).contains(&d) => Ok(d),
        _ => Err(ActionRefused::bad(
            "bad-days",
            format!("days must be a whole number from 1 to {max}, not `{raw}`"),
        )),
    }
}

fn expires_of(q: &GrantQuery) -> Result<i64, ActionRefused> {
    let raw = required("expires_at", &q.expires_at)?;
    raw.trim().parse::<i64>().map_err(|_| {
        ActionRefused::bad(
            "bad-expiry",
            format!("expires_at must be unix seconds, not `{raw}`"),
        )
    })
}

fn describe(t: &Terms, window: &str, provider: &Provider) -> String {
    let standing = match provider.status {
        ProviderStatus::Verified => "provider",
        _ => "registered provider (not yet verified by the credential authority)",
    };
    let actions = match t.actions {
        3 => "read and write",
        2 => "write",
        _ => "read",
    };
    format!(
        "Give {standing} {} {actions} access to your {} records, for {}, {window}. You first sign a consent statement that says exactly this; the transaction that records the grant is checked against your signature. You can revoke it at any time.",
        t.grantee,
        class_list(t.classes),
        classes::purpose_name(t.purpose)
    )
}

/// The query string of the next step: the same terms, plus what this step fixed.
fn next_query(t: &Terms, extra: &[(&str, String)]) -> String {
    let names: Vec<&str> = classes::classes_in(t.classes)
        .into_iter()
        .map(RecordClass::name)
        .collect();
    let actions: Vec<&str> = classes::ACTIONS
        .iter()
        .filter(|(_, bit)| t.actions & bit != 0)
        .map(|(n, _)| *n)
        .collect();
    let mut q = format!(
        "grantee={}&classes={}&purpose={}&actions={}",
        t.grantee,
        names.join(","),
        classes::purpose_name(t.purpose),
        actions.join(",")
    );
    if let Some(p) = t.patient {
        q.push_str(&format!("&patient={p}"));
    }
    for (k, v) in extra {
        q.push_str(&format!("&{k}={v}"));
    }
    q
}

/// The grantee's provider account, refused when unregistered or suspended.
fn grantee_checked(
    t: &Terms,
    account: Option<&solana_account::Account>,
) -> Result<Provider, ActionRefused> {
    let address = pda::provider(&t.grantee).0;
    let provider: Provider = decoded(&address, account).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::NOT_FOUND,
            "unregistered-grantee",
            format!(
                "{} is not a registered provider: a grant can only name one",
                t.grantee
            ),
        )
    })?;
    if provider.status == ProviderStatus::Suspended {
        return Err(ActionRefused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "suspended-grantee",
            format!(
                "provider {} is suspended: this link should not be used",
                t.grantee
            ),
        ));
    }
    // the program's rule, before anyone signs: the grantee's roles must fit the purpose
    validate_purpose_for_roles(t.purpose, provider.roles).map_err(|e| {
        ActionRefused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "purpose-not-for-roles",
            format!(
                "provider {} ({}) cannot receive records for {}: {e}",
                t.grantee,
                classes::role_names(provider.roles),
                classes::purpose_name(t.purpose)
            ),
        )
    })?;
    Ok(provider)
}

pub async fn metadata<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Query(q): Query<GrantQuery>,
) -> Answer {
    let t = terms_of(&q)?;
    let days = days_of(&q)?;
    let at = a.read(&[pda::provider(&t.grantee).0]).await?;
    let provider = grantee_checked(&t, at.accounts[0].as_ref())?;
    let href = format!(
        "/api/actions/grant/statement?{}",
        next_query(&t, &[("days", days.to_string())])
    );
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": format!("Consent: share records with {}", t.grantee),
        "description": describe(&t, &format!("for {days} days from when you sign the statement"), &provider),
        "label": "Read the consent statement",
        "links": {"actions": [
            {"type": "message", "label": "Read and sign the statement", "href": href},
        ]},
    })))
}

/// How long the grant runs: days from now (until the statement is rendered), then the end the
/// statement fixed.
enum Window {
    Days(i64),
    Until(i64),
}

/// The patient a wallet decides for, the patient's account, and the grant arguments at `now`.
struct Prepared {
    patient: Patient,
    args: GrantCreateArgs,
    statement: Vec<u8>,
    /// The spent grant the new one replaces at its address, if any.
    previous: Option<ConsentGrant>,
}

async fn prepare<C: LedgerView + 'static>(
    a: &Actions<C>,
    t: &Terms,
    signer: &Pubkey,
    window: Window,
) -> Result<Prepared, ActionRefused> {
    let patient_wallet = t.patient.unwrap_or(*signer);
    let patient_address = pda::patient(&patient_wallet).0;
    let grant_address = pda::grant(&patient_wallet, &t.grantee, t.purpose).0;
    let at = a
        .read(&[patient_address, pda::provider(&t.grantee).0, grant_address])
        .await?;
    let patient: Patient = decoded(&patient_address, at.accounts[0].as_ref()).ok_or_else(|| {
        ActionRefused::new(
            StatusCode::NOT_FOUND,
            "unregistered-patient",
            format!("{patient_wallet} is not a registered patient"),
        )
    })?;
    grantee_checked(t, at.accounts[1].as_ref())?;
    let now = at.unix_timestamp;
    // a grant that can never authorize again (revoked, void after a revoke-all, expired) is
    // replaced by the new one in the same transaction; a live one is never overwritten
    let previous = match at.accounts[2].as_ref() {
        None => None,
        Some(account) => {
            let previous: ConsentGrant =
                decoded(&grant_address, Some(account)).ok_or_else(|| {
                    ActionRefused::new(
                        StatusCode::CONFLICT,
                        "grant-exists",
                        format!("the grant address {grant_address} holds an account that is not a grant"),
                    )
                })?;
            let standing = grant_standing(&previous, patient.consent_epoch, now);
            if !standing.is_spent() {
                return Err(ActionRefused::new(
                    StatusCode::CONFLICT,
                    "grant-exists",
                    format!("patient {patient_wallet} already has a {} grant to {} for {} ({grant_address}): update it, or revoke it before granting again (a revoked, expired or void grant is replaced in the same signature)", standing.name(), t.grantee, classes::purpose_name(t.purpose)),
                ));
            }
            Some(previous)
        }
    };
    let expires_at = match window {
        Window::Until(e) => e,
        Window::Days(d) => now.saturating_add(d.saturating_mul(SECONDS_PER_DAY)),
    };
    let args = GrantCreateArgs {
        purpose: t.purpose,
        classes: t.classes,
        actions: t.actions,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at,
    };
    let terms = GrantTerms {
        classes: args.classes,
        actions: args.actions,
        purpose: args.purpose,
        record_scope: args.record_scope,
        not_before: now,
        expires_at,
    };
    validate_grant_terms(&terms, now, patient.record_count).map_err(|e| {
        ActionRefused::new(StatusCode::UNPROCESSABLE_ENTITY, "bad-terms", e.to_string())
    })?;
    if t.grantee == patient.wallet {
        return Err(ActionRefused::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "self-grant",
            "a patient cannot grant access to themself",
        ));
    }
    let statement_terms =
        st::terms_for_grant(&patient, signer, &t.grantee, &args, now).map_err(|e| {
            ActionRefused::new(
                StatusCode::FORBIDDEN,
                "not-patient-or-guardian",
                format!("{signer} may not consent for patient {patient_wallet}: {e}"),
            )
        })?;
    // what the program will check of a guardian, checked before anyone signs
    super::decide::may_decide(&patient, signer, now, &[t.grantee])?;
    if statement_terms.actor == Actor::Guardian {
        within_guardianship(Actor::Guardian, &patient, expires_at).map_err(|e| {
            ActionRefused::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "guardianship-ends-first",
                e.to_string(),
            )
        })?;
    }
    let statement = st::render(&statement_terms);
    Ok(Prepared {
        patient,
        args,
        statement,
        previous,
    })
}

pub async fn statement<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Query(q): Query<GrantQuery>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let signer = account_of(&body)?;
    let t = terms_of(&q)?;
    let days = days_of(&q)?;
    let p = prepare(&a, &t, &signer, Window::Days(days)).await?;
    let text = String::from_utf8(p.statement)
        .map_err(|_| ActionRefused(crate::problem::Problem::internal("a statement is ASCII")))?;
    let href = format!(
        "/api/actions/grant/signed?{}",
        next_query(&t, &[("expires_at", p.args.expires_at.to_string())])
    );
    Ok(Json(json!({
        "type": "message",
        "data": text,
        "links": {"next": {"type": "post", "href": href}},
    })))
}

/// The steps after the statement fixed the window's end: the signer, the terms, that end, and
/// the statement they render from the ledger now.
async fn after_statement<C: LedgerView + 'static>(
    a: &Actions<C>,
    q: &GrantQuery,
    body: &Result<Json<PostBody>, JsonRejection>,
) -> Result<(Pubkey, Terms, i64, Prepared), ActionRefused> {
    let signer = account_of(body)?;
    let t = terms_of(q)?;
    let expires_at = expires_of(q)?;
    let p = prepare(a, &t, &signer, Window::Until(expires_at)).await?;
    Ok((signer, t, expires_at, p))
}

/// The signed form of the statement `signature` is over, or a refusal that says why not.
fn signature_over(
    p: &Prepared,
    signer: &Pubkey,
    signature: &str,
) -> Result<(Vec<u8>, SignedForm, [u8; 64]), ActionRefused> {
    let bytes = bs58::decode(signature.trim())
        .into_vec()
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .ok_or_else(|| {
            ActionRefused::bad(
                "malformed-signature",
                "signature must be a base58 Ed25519 signature (64 bytes)",
            )
        })?;
    let (message, form) = st::signed_message_for(&p.statement, signer, &bytes).map_err(|e| {
        ActionRefused::new(
            StatusCode::UNAUTHORIZED,
            "statement-not-signed",
            e.to_string(),
        )
    })?;
    Ok((message, form, bytes))
}

pub async fn signed<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Query(q): Query<GrantQuery>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let (signer, t, expires_at, p) = after_statement(&a, &q, &body).await?;
    let body = body
        .as_ref()
        .map_err(|e| ActionRefused::bad("malformed-body", e.to_string()))?;
    // the data the wallet was shown must be the statement these terms render now
    let shown = body.data.as_ref().and_then(|d| d.as_str()).unwrap_or("");
    if shown.as_bytes() != p.statement.as_slice() {
        return Err(ActionRefused::new(
            StatusCode::CONFLICT,
            "statement-changed",
            "the statement signed is not the statement of these terms now: its terms were altered, or the patient made another grant since (which changes the nonce). Start again from the link",
        ));
    }
    let signature = body
        .signature
        .as_deref()
        .ok_or_else(|| ActionRefused::bad("malformed-signature", "the body has no `signature`"))?;
    let (_, form, _) = signature_over(&p, &signer, signature)?;
    let href = format!(
        "/api/actions/grant/record?{}",
        next_query(
            &t,
            &[
                ("expires_at", expires_at.to_string()),
                ("signature", signature.trim().to_string())
            ]
        )
    );
    let how = match form {
        SignedForm::Plain => "as text",
        SignedForm::OffchainV0 | SignedForm::OffchainV1 | SignedForm::OffchainLegacy => {
            "as a Solana off-chain message"
        }
    };
    Ok(Json(json!({
        "type": "action",
        "icon": a.icon_url(),
        "title": "Consent statement signed",
        "description": format!("Your signature over the statement ({how}) checks. Record the consent on chain: one transaction, which you sign and pay for; the program checks it against the statement you signed."),
        "label": "Record consent",
        "links": {"actions": [
            {"type": "transaction", "label": "Record consent on chain", "href": href},
        ]},
    })))
}

pub async fn record<C: LedgerView + 'static>(
    State(a): State<Arc<Actions<C>>>,
    Query(q): Query<GrantQuery>,
    body: Result<Json<PostBody>, JsonRejection>,
) -> Answer {
    let (signer, t, _, p) = after_statement(&a, &q, &body).await?;
    let signature = required("signature", &q.signature)?;
    let (signed_message, _, signature) = signature_over(&p, &signer, signature)?;
    let grant = pda::grant(&p.patient.wallet, &t.grantee, t.purpose).0;
    let instructions = ix::GrantCreateSigned {
        authority: signer,
        patient_wallet: p.patient.wallet,
        grantee_wallet: t.grantee,
        args: p.args,
        signed_message,
        signature,
    }
    .renewing(ix::previous_payer(&signer, p.previous.as_ref()));
    let tx = a.transaction(&signer, &instructions).await?;
    Ok(Json(a.transaction_response(
        tx,
        format!("Records your consent: grant {grant}, checked against the statement you signed."),
        "Consent recorded",
        format!(
            "Grant {grant} is recorded once this transaction confirms. Revoke it at any time: /api/actions/revoke/{grant}. To make every future grant need a statement like this one: /api/actions/require-statements"
        ),
    )))
}
