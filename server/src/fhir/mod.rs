//! A read-only HL7 FHIR R4 REST API over the ledger (docs/FHIR.md), mounted at `/fhir` by
//! `careledger serve`: the CapabilityStatement, Consent (read and search), AuditEvent,
//! DocumentReference, ClaimResponse and Provenance searches in searchset Bundles paged by
//! `_count`, and `Consent/$evaluate`, the program's own access decision. It answers only what
//! the ledger shows anyone (wallet keys, addresses, opaque class ids, times), so it asks no
//! caller to sign in. Every error is an OperationOutcome.
pub mod capability;
pub mod evaluate;
pub mod outcome;
pub mod search;
pub mod trail;

pub use trail::HolderFn;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use careledger_sdk::accounts::decode;
use careledger_sdk::{Claim, ConsentGrant, LedgerArchive, Policy, Pubkey, RecordAnchor, SdkError};
use outcome::{fhir, Outcome};
use search::{Kind, Search};
use std::sync::Arc;

/// What the API reads, and where it says it lives.
pub struct Fhir<L> {
    pub ledger: L,
    /// The API's public base (`http://host:port/fhir`): Bundle links and full URLs start with it.
    pub base: String,
    /// Where a record's ciphertext can be fetched (the gateway this server also runs).
    holder: Option<Box<HolderFn>>,
    /// One permit per trail read in progress: a burst of requests queues (within the route's
    /// timeout) instead of fanning out into the ledger's RPC at once.
    reads: tokio::sync::Semaphore,
    /// How far the ledger's clock may trail this server's before `$evaluate` decides nothing.
    max_lag_secs: Option<i64>,
}

/// Trail reads in progress at once.
pub const MAX_READS: usize = 4;

impl<L: LedgerArchive + 'static> Fhir<L> {
    /// The API over `ledger`, served at `origin` (`scheme://host[:port]`) + `/fhir`.
    pub fn new(ledger: L, origin: &str) -> Fhir<L> {
        Fhir {
            ledger,
            base: format!("{}/fhir", origin.trim_end_matches('/')),
            holder: None,
            reads: tokio::sync::Semaphore::new(MAX_READS),
            max_lag_secs: None,
        }
    }

    /// `$evaluate` decides nothing while the ledger's clock trails this server's by more than
    /// `secs` (a cluster's node that lags could show a revoked grant as live).
    pub fn with_max_ledger_lag(mut self, secs: i64) -> Fhir<L> {
        self.max_lag_secs = Some(secs);
        self
    }

    /// DocumentReferences link the records `holder` names to that gateway's `/ipfs`.
    pub fn with_holder(mut self, holder: Box<HolderFn>) -> Fhir<L> {
        self.holder = Some(holder);
        self
    }

    /// What `needs` says of `patient`'s trail, `None` for a wallet that is no registered patient.
    async fn trail(
        &self,
        patient: &Pubkey,
        needs: trail::Needs,
    ) -> Result<Option<trail::Trail>, Outcome> {
        let _permit = self
            .reads
            .acquire()
            .await
            .map_err(|e| Outcome::ledger(e.to_string()))?;
        match trail::read(&self.ledger, patient, self.holder.as_deref(), needs).await {
            Ok(t) => Ok(Some(t)),
            Err(SdkError::AccountNotFound(a)) if a == careledger_sdk::pda::patient(patient).0 => {
                Ok(None)
            }
            Err(e) => Err(Outcome::ledger(e)),
        }
    }

    /// The patient behind a resource id, by reading the account it names.
    async fn patient_behind(&self, kind: Kind, id: &str) -> Result<Option<Pubkey>, Outcome> {
        let address_text = match kind {
            Kind::Consent => id.rsplit_once('-').map_or(id, |(a, _)| a),
            _ => id,
        };
        if matches!(kind, Kind::AuditEvent | Kind::Provenance) {
            return Ok(trail::patient_of_id(id));
        }
        let Ok(address) = address_text.parse::<Pubkey>() else {
            return Ok(None);
        };
        let read = |a: Pubkey| async move {
            let at = self
                .ledger
                .accounts_at(&[a])
                .await
                .map_err(Outcome::ledger)?;
            Ok::<_, Outcome>(at.accounts.into_iter().next().flatten())
        };
        let Some(account) = read(address).await? else {
            return Ok(None);
        };
        Ok(match kind {
            Kind::Consent => decode::<ConsentGrant>(&address, &account.owner, &account.data)
                .ok()
                .map(|g| g.patient),
            Kind::DocumentReference => {
                decode::<RecordAnchor>(&address, &account.owner, &account.data)
                    .ok()
                    .map(|r| r.patient)
            }
            Kind::ClaimResponse => {
                let Ok(claim) = decode::<Claim>(&address, &account.owner, &account.data) else {
                    return Ok(None);
                };
                match read(claim.policy).await? {
                    Some(p) => decode::<Policy>(&claim.policy, &p.owner, &p.data)
                        .ok()
                        .map(|p| p.patient),
                    None => None,
                }
            }
            // their ids start with the patient's wallet
            Kind::AuditEvent | Kind::Provenance => trail::patient_of_id(id),
        })
    }
}

/// The FHIR routes, to be nested at `/fhir`: unknown routes and methods answer an
/// OperationOutcome too.
pub fn router<L: LedgerArchive + 'static>(api: Arc<Fhir<L>>) -> Router {
    let mut router = Router::new()
        .route("/metadata", get(metadata::<L>))
        .route(
            "/OperationDefinition/consent-evaluate",
            get(operation_definition::<L>),
        )
        .route("/Consent/$evaluate", post(evaluate::<L>));
    // each type's routes carry their type: nothing is read back from the path
    for kind in Kind::ALL {
        router = router
            .route(
                &format!("/{}", kind.name()),
                get(
                    move |api: State<Arc<Fhir<L>>>, headers: HeaderMap, query: Query<Pairs>| {
                        search::<L>(kind, api, headers, query)
                    },
                ),
            )
            .route(
                &format!("/{}/{{id}}", kind.name()),
                get(
                    move |api: State<Arc<Fhir<L>>>,
                          headers: HeaderMap,
                          uri: axum::http::Uri,
                          query: Query<Pairs>| {
                        read::<L>(kind, api, headers, uri, query)
                    },
                ),
            );
    }
    router
        .fallback(|method: axum::http::Method, axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
            Outcome::not_found(format!(
                "this server has no FHIR route {method} {}: the CapabilityStatement at /fhir/metadata lists what it supports",
                uri.path()
            ))
        })
        .method_not_allowed_fallback(|method: axum::http::Method, axum::extract::OriginalUri(uri): axum::extract::OriginalUri| async move {
            let takes = match uri.path().ends_with("/$evaluate") {
                true => "$evaluate takes POST, with a Parameters body",
                false => "this FHIR API is read-only: this route takes GET",
            };
            Outcome::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "not-supported",
                format!("{method} {}: {takes}", uri.path()),
            )
        })
        .with_state(api)
}

/// A refusal from a layer or an extractor (a timeout, a path that is not UTF-8, a body too
/// large), answered as an OperationOutcome like every other FHIR error.
pub async fn outcome_for_bare_refusals(response: Response) -> Response {
    let status = response.status();
    let described = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(outcome::FHIR_JSON));
    if described || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (code, diagnostics) = match status {
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "the ledger was not read in time: try again, or narrow the search",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("too-costly", "the request is larger than this route takes")
        }
        _ => (
            "invalid",
            "the request could not be read (its path, query or body)",
        ),
    };
    Outcome::new(status, code, diagnostics.into()).into_response()
}

/// Refuses an `Accept` or `_format` this server cannot answer in (406): it speaks JSON only.
fn negotiate(headers: &HeaderMap, format: Option<&str>) -> Result<(), Outcome> {
    let json = |m: &str| {
        let m = m.split(';').next().unwrap_or_default().trim();
        matches!(
            m,
            "json" | "application/json" | "application/fhir+json" | "*/*" | "application/*" | ""
        )
    };
    if let Some(f) = format {
        if !json(f) {
            return Err(Outcome::new(
                StatusCode::NOT_ACCEPTABLE,
                "not-supported",
                format!("_format={f}: this server answers in JSON only (application/fhir+json)"),
            ));
        }
    }
    if let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) {
        if !accept.split(',').any(json) {
            return Err(Outcome::new(
                StatusCode::NOT_ACCEPTABLE,
                "not-supported",
                format!(
                    "Accept: {accept}: this server answers in JSON only (application/fhir+json)"
                ),
            ));
        }
    }
    Ok(())
}

fn format_of(pairs: &[(String, String)]) -> Option<&str> {
    pairs
        .iter()
        .find(|(k, _)| k == "_format")
        .map(|(_, v)| v.as_str())
}

/// Whether the client asked for strict handling of unknown parameters.
fn strict(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .any(|p| p.trim().eq_ignore_ascii_case("handling=strict"))
}

async fn metadata<L: LedgerArchive + 'static>(
    State(api): State<Arc<Fhir<L>>>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, Outcome> {
    negotiate(&headers, format_of(&pairs))?;
    Ok(fhir(StatusCode::OK, &capability::statement(&api.base)))
}

async fn operation_definition<L: LedgerArchive + 'static>(
    State(api): State<Arc<Fhir<L>>>,
    headers: HeaderMap,
) -> Result<Response, Outcome> {
    negotiate(&headers, None)?;
    Ok(fhir(
        StatusCode::OK,
        &capability::evaluate_definition(&api.base),
    ))
}

/// A query's parameters, in order, repeats kept.
type Pairs = Vec<(String, String)>;

async fn search<L: LedgerArchive + 'static>(
    kind: Kind,
    State(api): State<Arc<Fhir<L>>>,
    headers: HeaderMap,
    Query(pairs): Query<Pairs>,
) -> Result<Response, Outcome> {
    negotiate(&headers, format_of(&pairs))?;
    let search = Search::parse(kind, &pairs, strict(&headers))?;
    let patient = match (search.patient, &search.target) {
        (Some(p), _) => p,
        (None, Some(target)) => {
            let (type_name, id) = target.split_once('/').ok_or_else(|| {
                Outcome::invalid(format!("target=`{target}` is not Type/id (Consent/…, DocumentReference/…, ClaimResponse/…)"))
            })?;
            let target_kind = Kind::named(type_name).ok_or_else(|| Outcome::invalid(format!("target=`{target}`: this server keeps Provenance for Consent, AuditEvent, DocumentReference and ClaimResponse")))?;
            if target_kind == Kind::Provenance {
                return Err(Outcome::invalid(format!(
                    "target=`{target}`: this server keeps no Provenance of a Provenance"
                )));
            }
            match api.patient_behind(target_kind, id).await? {
                Some(p) => p,
                None => {
                    return Ok(fhir(
                        StatusCode::OK,
                        &search.bundle(&api.base, &[], &trail::Trail::default()),
                    ))
                }
            }
        }
        (None, None) => {
            return Err(Outcome::invalid(format!(
                "{} searches read one patient's trail: add patient=WALLET{}",
                kind.name(),
                if kind == Kind::Provenance {
                    " or target=Type/id"
                } else {
                    ""
                }
            )))
        }
    };
    let bundle = match api.trail(&patient, kind.needs()).await? {
        Some(trail) => search.bundle(&api.base, kind.entries(&trail), &trail),
        None => search.bundle(
            &api.base,
            &[],
            &trail::Trail {
                unregistered: Some(patient),
                ..Default::default()
            },
        ),
    };
    Ok(fhir(StatusCode::OK, &bundle))
}

async fn read<L: LedgerArchive + 'static>(
    kind: Kind,
    State(api): State<Arc<Fhir<L>>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(pairs): Query<Pairs>,
) -> Result<Response, Outcome> {
    negotiate(&headers, format_of(&pairs))?;
    // the id as sent: ids are [A-Za-z0-9.-], so one that needs decoding is no id of ours
    let id = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
    let missing = || Outcome::not_found(format!("{}/{id} is not on this ledger", kind.name()));
    let patient = api.patient_behind(kind, &id).await?.ok_or_else(missing)?;
    let trail = api
        .trail(&patient, kind.needs())
        .await?
        .ok_or_else(missing)?;
    let found = kind
        .entries(&trail)
        .iter()
        .find(|e| e.resource["id"] == id.as_str())
        .ok_or_else(missing)?;
    Ok(fhir(StatusCode::OK, &found.resource))
}

async fn evaluate<L: LedgerArchive + 'static>(
    State(api): State<Arc<Fhir<L>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Outcome> {
    negotiate(&headers, None)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !matches!(media, "application/fhir+json" | "application/json") {
        return Err(Outcome::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            format!(
                "Content-Type `{content_type}`: $evaluate takes a Parameters resource as application/fhir+json"
            ),
        ));
    }
    let body: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| Outcome::invalid(format!("the body is not JSON: {e}")))?;
    let question = evaluate::Question::parse_strict(&body, strict(&headers))?;
    // a decision reads the ledger as a trail does: it takes a permit too
    let _permit = api
        .reads
        .acquire()
        .await
        .map_err(|e| Outcome::ledger(e.to_string()))?;
    let decision = evaluate::decide(&api.ledger, &question, api.max_lag_secs).await?;
    Ok(fhir(StatusCode::OK, &decision.parameters()))
}
