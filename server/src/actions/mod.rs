//! Solana Actions (the `@solana/actions-spec` protocol) for every patient decision, served by
//! `careledger serve` beside the record gateway. A clinic hands the patient a link (or a QR
//! code of it); any Actions client (a wallet, a blink) fetches its metadata with `GET`, and
//! `POST {account}` returns what the wallet signs.
//!
//! - `GET /actions.json`: the rules mapping this site's paths to the API.
//! - `/api/actions/grant?grantee=&classes=&purpose=&days=[&actions=][&patient=]`: a consent
//!   grant in two signed steps: the wallet first signs the readable consent statement
//!   ([`careledger_sdk::statement`]), then a transaction whose grant the program checks against
//!   that signature (`grant_create_signed`).
//! - `/api/actions/request/{request}`: approve or deny a pending access request.
//! - `/api/actions/revoke/{grant}` and `/api/actions/revoke-all[?patient=]`: revoke one grant or
//!   every grant.
//! - `/api/actions/emergency/{grant}`: accept or dispute a break-glass access.
//! - `/api/actions/require-statements`: from then on every new grant needs a signed statement
//!   and no update may widen a grant (`patient_require_statements`).
//! - `/api/actions/study/{study}`: for an invited patient, sign the research consent to the
//!   sponsor (the grant action) and enrol.
//!
//! Every transaction returned needs one signature, the `account`'s, which is also its fee payer.
//! Every refusal is `application/problem+json` with the Actions `message` field, before any
//! transaction is built: an unregistered grantee, an unknown class, an expired or decided
//! request, a malformed account, a statement whose terms were altered.
pub mod decide;
pub mod grant;
pub mod study;

use crate::problem::Problem;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use careledger_sdk::transport::AccountsAt;
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{Instruction, LedgerView, Pubkey};
use serde::Deserialize;
use serde_json::{json, Value};
use std::str::FromStr;
use std::sync::Arc;

/// The version of the Actions specification these responses follow (`X-Action-Version`).
pub const ACTION_VERSION: &str = "2.4";
/// Longest an access request stays decidable through a link, by default (seconds): a link to a
/// month-old request is more likely stale than meant.
pub const DEFAULT_MAX_REQUEST_AGE_SECS: i64 = 30 * SECONDS_PER_DAY;

/// The actions' shared state.
pub struct Actions<C> {
    pub chain: C,
    /// `scheme://host:port` the links and the icon are served from.
    pub origin: String,
    pub max_request_age_secs: i64,
}

/// The routes, to merge into the gateway's router (or serve alone).
pub fn router<C: LedgerView + 'static>(actions: Arc<Actions<C>>) -> Router {
    Router::new()
        .route("/actions.json", get(actions_json).options(preflight))
        .route("/icon.svg", get(icon))
        .route(
            "/api/actions/grant",
            get(grant::metadata::<C>).options(preflight),
        )
        .route(
            "/api/actions/grant/statement",
            post(grant::statement::<C>).options(preflight),
        )
        .route(
            "/api/actions/grant/signed",
            post(grant::signed::<C>).options(preflight),
        )
        .route(
            "/api/actions/grant/record",
            post(grant::record::<C>).options(preflight),
        )
        .route(
            "/api/actions/request/{request}",
            get(decide::request_metadata::<C>).options(preflight),
        )
        .route(
            "/api/actions/request/{request}/{decision}",
            post(decide::request_decide::<C>).options(preflight),
        )
        .route(
            "/api/actions/revoke/{grant}",
            get(decide::revoke_metadata::<C>)
                .post(decide::revoke::<C>)
                .options(preflight),
        )
        .route(
            "/api/actions/revoke-all",
            get(decide::revoke_all_metadata::<C>)
                .post(decide::revoke_all::<C>)
                .options(preflight),
        )
        .route(
            "/api/actions/emergency/{grant}",
            get(decide::emergency_metadata::<C>).options(preflight),
        )
        .route(
            "/api/actions/emergency/{grant}/{outcome}",
            post(decide::emergency_review::<C>).options(preflight),
        )
        .route(
            "/api/actions/require-statements",
            get(decide::require_statements_metadata::<C>)
                .post(decide::require_statements::<C>)
                .options(preflight),
        )
        .route(
            "/api/actions/study/{study}",
            get(study::metadata::<C>).options(preflight),
        )
        .route(
            "/api/actions/study/{study}/enrol",
            post(study::enrol::<C>).options(preflight),
        )
        .layer(middleware::from_fn(cors))
        .with_state(actions)
}

/// The CORS headers the specification requires on every Actions response (and on
/// `actions.json`), with the version headers.
async fn cors(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET,POST,PUT,OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Authorization, Content-Encoding, Accept-Encoding"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("X-Action-Version"),
    );
    h.insert("x-action-version", HeaderValue::from_static(ACTION_VERSION));
    response
}

async fn preflight(method: Method) -> StatusCode {
    debug_assert_eq!(method, Method::OPTIONS);
    StatusCode::OK
}

async fn actions_json() -> Json<Value> {
    Json(json!({
        "rules": [
            {"pathPattern": "/api/actions/**", "apiPath": "/api/actions/**"},
        ]
    }))
}

/// The icon every action shows (SVG, served here so that it is an absolute URL of this origin).
async fn icon() -> Response {
    const SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\"><rect width=\"64\" height=\"64\" rx=\"12\" fill=\"#0b6e4f\"/><path d=\"M28 14h8v14h14v8H36v14h-8V36H14v-8h14z\" fill=\"#fff\"/></svg>";
    ([(header::CONTENT_TYPE, "image/svg+xml")], SVG).into_response()
}

/// An action refused: problem details with the `message` an Actions client shows.
#[derive(Debug)]
pub struct ActionRefused(pub Problem);

impl ActionRefused {
    pub fn new(status: StatusCode, slug: &'static str, detail: impl Into<String>) -> Self {
        ActionRefused(Problem::new(status, slug, "Action refused", detail.into()))
    }
    pub fn bad(slug: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, slug, detail)
    }
    pub fn ledger(e: impl std::fmt::Display) -> Self {
        ActionRefused(Problem::ledger(e))
    }
}

impl IntoResponse for ActionRefused {
    fn into_response(self) -> Response {
        let p = self.0;
        let body = json!({
            "type": format!("https://careledger.dev/problems/{}", p.slug),
            "title": p.title,
            "status": p.status.as_u16(),
            "detail": p.detail,
            // the Actions specification's ActionError
            "message": p.detail,
        });
        (
            p.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

pub type Answer = Result<Json<Value>, ActionRefused>;

/// An address from a request, or a refusal naming the field.
pub fn address(field: &str, value: &str) -> Result<Pubkey, ActionRefused> {
    Pubkey::from_str(value.trim()).map_err(|_| {
        ActionRefused::bad(
            "malformed-address",
            format!("{field} `{value}` is not a base58 Solana address (32 bytes)"),
        )
    })
}

/// The body of every Actions POST: the wallet's account, and for the step after a signed
/// message the signature and the data signed.
#[derive(Debug, Deserialize)]
pub struct PostBody {
    pub account: Option<Value>,
    pub signature: Option<String>,
    pub data: Option<Value>,
}

/// The POST body's `account`, checked.
pub fn account_of(
    body: &Result<Json<PostBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Pubkey, ActionRefused> {
    let body = body.as_ref().map_err(|e| {
        ActionRefused::bad(
            "malformed-body",
            format!("the body must be JSON {{\"account\": \"<base58 address>\"}}: {e}"),
        )
    })?;
    match &body.account {
        Some(Value::String(s)) => address("account", s),
        Some(other) => Err(ActionRefused::bad(
            "malformed-address",
            format!("account must be a base58 address string, not {other}"),
        )),
        None => Err(ActionRefused::bad(
            "malformed-address",
            "the body has no `account`: the wallet address that will sign",
        )),
    }
}

impl<C: LedgerView + 'static> Actions<C> {
    pub fn icon_url(&self) -> String {
        format!("{}/icon.svg", self.origin)
    }

    /// Accounts at one slot, and its clock.
    pub async fn read(&self, addresses: &[Pubkey]) -> Result<AccountsAt, ActionRefused> {
        self.chain
            .accounts_at(addresses)
            .await
            .map_err(ActionRefused::ledger)
    }

    /// A transaction of `instructions` for `payer` to sign alone, as the specification's
    /// `TransactionResponse`: the payer is the fee payer and its signature the only one.
    pub async fn transaction(
        &self,
        payer: &Pubkey,
        instructions: &[Instruction],
    ) -> Result<String, ActionRefused> {
        let blockhash = self
            .chain
            .latest_blockhash()
            .await
            .map_err(ActionRefused::ledger)?;
        let message =
            solana_message::Message::new_with_blockhash(instructions, Some(payer), &blockhash);
        debug_assert_eq!(message.header.num_required_signatures, 1);
        let tx = solana_transaction::Transaction::new_unsigned(message);
        let bytes = bincode::serialize(&tx)
            .map_err(|e| ActionRefused(Problem::internal(format!("cannot serialize: {e}"))))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// The `TransactionResponse` body, ending in a completed action that says what was done.
    pub fn transaction_response(
        &self,
        transaction: String,
        message: String,
        done_title: &str,
        done_description: String,
    ) -> Value {
        json!({
            "type": "transaction",
            "transaction": transaction,
            "message": message,
            "links": {"next": {"type": "inline", "action": {
                "type": "completed",
                "icon": self.icon_url(),
                "title": done_title,
                "description": done_description,
                "label": "Done",
            }}},
        })
    }
}

/// Decodes a careledger account of type `T`, or `None` if absent or of another type.
pub fn decoded<T: anchor_lang::AccountDeserialize + anchor_lang::Discriminator>(
    address: &Pubkey,
    account: Option<&solana_account::Account>,
) -> Option<T> {
    let a = account?;
    careledger_sdk::accounts::decode::<T>(address, &a.owner, &a.data).ok()
}

/// Every class in `mask`, as a consent statement prints it (`class-<id>` for a reserved id): a
/// description never hides a class that the transaction would grant.
pub fn class_list(mask: u16) -> String {
    let labels: Vec<String> = careledger_sdk::statement::class_labels(mask)
        .map(|l| l.to_string())
        .collect();
    labels.join(", ")
}

/// A duration in whole days when it is one, else in hours (rounded up).
pub fn duration(secs: i64) -> String {
    if secs % SECONDS_PER_DAY == 0 {
        format!("{} days", secs / SECONDS_PER_DAY)
    } else {
        format!("{} hours", (secs + 3_599) / 3_600)
    }
}
