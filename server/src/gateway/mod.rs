//! `careledger serve`: the record gateway a record's custodian runs (a hospital, or the
//! patient's own storage). It holds ciphertexts and wrapped data keys, and releases a record
//! only against an on-chain access event (docs/GATEWAY.md has the protocol).
//!
//! - `GET  /v1/gateway`: the custodian's wallet and X25519 key, the domain requests must be
//!   signed for, and the limits.
//! - `PUT  /v1/records/{record}`: the record's author stores its ciphertext, with the data key
//!   wrapped to the custodian's key. Before the record is anchored the upload is staged (the
//!   author declares the record's identity, and must be the patient or a provider with a live
//!   write grant); once anchored, only bytes that hash to the anchor's SHA-256 and CID and
//!   decrypt under that key are stored.
//! - `POST /v1/records/{record}/confirm`: the author, after anchoring, has its staged upload
//!   promoted to stored (the gateway also promotes lazily at a probe or a release).
//! - `GET|HEAD /v1/records/{record}`: a signed probe: does this gateway hold the record? Told
//!   only to its patient, its author, or a grantee whose read is allowed now.
//! - `POST /v1/records/{record}/release`: a grantee's signed request against its access
//!   transaction; the answer is the ciphertext, and the data key wrapped to the grantee's key
//!   (with `?content=key`, the wrapped key alone, as JSON: the ciphertext comes from IPFS).
//! - `GET|HEAD /ipfs/{cid}`: any stored ciphertext, or any block of its DAG, as an IPFS
//!   trustless gateway ([`ipfs`]).
//! - `GET /v1/records/{record}/custody`: a record's custody file, to another replica of the
//!   same custodian ([`replicas`]), which pulls what it does not hold from its `--peer`s.
pub mod ipfs;
pub mod nonces;
pub mod replicas;
pub mod store;
pub mod upload;

use crate::common::{b64, unix_now};
use crate::problem::Problem;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use careledger_identity::siws::SignInMessage;
use careledger_records::envelope::{self, KeyAgreementSecret};
use careledger_records::protocol::{self as wire, ProbeRequest, ReleaseBody};
use careledger_records::protocol::{CID_HEADER, KEY_VERSION_HEADER, SHA256_HEADER};
use careledger_records::protocol::{SIGNATURE_HEADER, SIGN_IN_HEADER, WRAPPED_KEY_HEADER};
use careledger_records::release;
use careledger_records::unixfs::Profile;
use careledger_sdk::{LedgerView, Pubkey, RecordAnchor, Signature};
use nonces::{NonceRefusal, Nonces};
use serde_json::json;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoredRecord};
use upload::Staged;

/// Signed messages remembered at most (32-byte keys: about 50 MB).
const MAX_NONCES: usize = 1_000_000;
/// Longest nonce accepted (SIWS asks for at least 8 alphanumerics; ours are 24).
const MAX_NONCE_LEN: usize = 64;

/// The largest release request body: a sign-in message and a signature.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

pub struct Limits {
    /// Uploads in progress at once; more are answered 503. An upload holds about 400 KiB of
    /// memory (a 256 KiB write buffer, one 64 KiB chunk, the CID's links), so 64 cost 25 MiB.
    pub max_uploads: usize,
    /// Largest ciphertext an upload may carry.
    pub max_upload: u64,
    /// How old an access event may be at release.
    pub max_event_age_secs: i64,
    /// How old a signed request may be, and how far ahead of the gateway's clock.
    pub sign_in_max_age_secs: i64,
    pub sign_in_max_skew_secs: i64,
    /// Longest pause in an upload's body.
    pub idle: Duration,
    /// An upload must have sent `min_upload_rate` bytes per second since it started, less this
    /// grace (round trips, the first ledger read): from the first byte, not after a pause.
    pub upload_grace: Duration,
    pub min_upload_rate: u64,
    /// Longest a small body (a release request) may take to arrive.
    pub small_body: Duration,
    /// Longest any request but an upload may take to be answered (its headers; a release's
    /// ciphertext then streams).
    pub request_timeout: Duration,
    /// How long an author whose upload fell below the rate waits before its next one: a
    /// slow upload gives up its slot, and its wallet cannot take another one at once.
    pub slow_cool_off_secs: i64,
    /// How long an upload staged before its anchor waits for it.
    pub staged_ttl_secs: i64,
    /// Uploads one author may have staged at once.
    pub max_staged_per_author: usize,
    /// Signed messages one signer may have in the table at once.
    pub max_nonces_per_signer: usize,
    /// Over RPC: how far the ledger's clock may lag the gateway's before it stops deciding (a
    /// lagging node could still show a revoked grant as live). `None` for a ledger folder,
    /// whose clock is the wall clock.
    pub max_ledger_lag_secs: Option<i64>,
}

impl Default for Limits {
    /// `careledger serve`'s defaults.
    fn default() -> Self {
        Limits {
            max_uploads: 64,
            max_upload: 4 << 30,
            max_event_age_secs: wire::DEFAULT_MAX_EVENT_AGE_SECS,
            sign_in_max_age_secs: 300,
            sign_in_max_skew_secs: 60,
            idle: Duration::from_secs(30),
            upload_grace: Duration::from_secs(5),
            min_upload_rate: 64 * 1024,
            small_body: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            slow_cool_off_secs: 60,
            staged_ttl_secs: 900,
            max_staged_per_author: 4,
            max_nonces_per_signer: 4096,
            max_ledger_lag_secs: None,
        }
    }
}

pub struct Gateway<V> {
    pub view: V,
    pub store: Store,
    pub custodian: Pubkey,
    /// The custodian's current X25519 key (the one published on chain).
    pub secret: KeyAgreementSecret,
    /// Keys it published before: records stored under them stay releasable after a rotation.
    pub previous: Vec<KeyAgreementSecret>,
    /// The domain (host:port) requests must be signed for.
    pub domain: String,
    pub limits: Limits,
    /// One permit per upload in progress (`limits.max_uploads` of them).
    uploads: Arc<tokio::sync::Semaphore>,
    /// Signed messages that succeeded, by (signer, nonce), until they would expire anyway.
    nonces: std::sync::Mutex<Nonces>,
    /// Uploads in progress, by record and by author.
    in_flight: std::sync::Mutex<upload::InFlight>,
    /// Uploads waiting for their anchor, by (record, author).
    staged: std::sync::Mutex<std::collections::HashMap<(Pubkey, Pubkey), Staged>>,
    /// Authors whose last upload fell below the rate, until when they wait.
    cooling: std::sync::Mutex<std::collections::HashMap<Pubkey, i64>>,
    /// Held while an object's block index is built (one at a time); the objects that could
    /// not be indexed, not read again until a restart.
    indexing: tokio::sync::Mutex<std::collections::HashSet<String>>,
    /// The other replicas of this custodian, asked for a record this one does not hold.
    peers: Option<replicas::Peers>,
}

impl<V> Gateway<V> {
    /// A gateway with nothing in flight yet; `previous` are the custodian's keys from before a
    /// rotation.
    pub fn new(
        view: V,
        store: Store,
        custodian: Pubkey,
        secret: KeyAgreementSecret,
        previous: Vec<KeyAgreementSecret>,
        domain: String,
        mut limits: Limits,
    ) -> Gateway<V> {
        limits.max_uploads = limits.max_uploads.max(1);
        limits.min_upload_rate = limits.min_upload_rate.max(1);
        Gateway {
            view,
            store,
            custodian,
            secret,
            previous,
            domain,
            uploads: Arc::new(tokio::sync::Semaphore::new(limits.max_uploads)),
            nonces: std::sync::Mutex::new(Nonces::new(MAX_NONCES, limits.max_nonces_per_signer)),
            limits,
            in_flight: Default::default(),
            staged: Default::default(),
            cooling: Default::default(),
            indexing: Default::default(),
            peers: None,
        }
    }

    /// The same gateway, pulling the records it does not hold from `peers`.
    pub fn with_peers(mut self, peers: replicas::Peers) -> Gateway<V> {
        self.peers = Some(peers);
        self
    }

    /// Signed messages in the table: in all, and by `signer`.
    pub fn nonces_held(&self, signer: &Pubkey) -> (usize, usize) {
        self.nonces
            .lock()
            .map(|n| n.held(signer))
            .unwrap_or_default()
    }

    /// Uploads staged now, waiting for their anchor.
    pub fn staged_count(&self) -> usize {
        self.staged.lock().map(|s| s.len()).unwrap_or_default()
    }
}

/// The gateway's routes, each with its timeout (an upload is bounded by its size and rate
/// instead). [`crate::Server`] adds what every route shares: problem+json for a method a route
/// does not take, a route that does not exist, and a bare refusal from a layer.
pub fn router<V: LedgerView + 'static>(gateway: Arc<Gateway<V>>) -> Router {
    use tower_http::timeout::TimeoutLayer;
    let timeout =
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, gateway.limits.request_timeout);
    Router::new()
        .route(wire::INFO_PATH, get(info::<V>).layer(timeout))
        .route(
            careledger_records::trustless::IPFS_PATH,
            get(ipfs::block_or_dag::<V>).layer(timeout),
        )
        .route(
            wire::RECORD_PATH,
            // an upload's body is bounded by its size and rate, not by a timeout
            put(upload::upload::<V>)
                .layer::<_, std::convert::Infallible>(DefaultBodyLimit::disable())
                .merge(get(probe::<V>).layer(timeout)),
        )
        .route(
            wire::CONFIRM_PATH,
            post(upload::confirm::<V>).layer(timeout),
        )
        .route(
            wire::CUSTODY_PATH,
            get(replicas::custody::<V>).layer(timeout),
        )
        .route(
            wire::RELEASE_PATH,
            post(release::<V>)
                .layer::<_, std::convert::Infallible>(DefaultBodyLimit::disable())
                .layer(timeout),
        )
        .with_state(gateway)
}

fn address(text: &str) -> Result<Pubkey, Problem> {
    Pubkey::from_str(text).map_err(|_| {
        Problem::bad_request(
            "bad-address",
            format!("`{text}` is not a record address (base58, 32 bytes)"),
        )
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, Problem> {
    headers
        .get(name)
        .ok_or_else(|| {
            Problem::bad_request("missing-header", format!("the {name} header is missing"))
        })?
        .to_str()
        .map_err(|_| Problem::bad_request("bad-header", format!("the {name} header is not text")))
}

impl<V> Gateway<V> {
    /// The custodian secret whose public key is `public` (base64), current or previous.
    fn custody_secret(&self, public: &str) -> Option<&KeyAgreementSecret> {
        if public.is_empty() {
            // stored before records named their custody key: the key of that time
            return Some(&self.secret);
        }
        std::iter::once(&self.secret)
            .chain(self.previous.iter())
            .find(|k| b64().encode(k.public()) == public)
    }
}

impl<V: LedgerView> Gateway<V> {
    /// Checks a signed message (domain, age, signature, nonce length) and returns it; and
    /// refuses one that was used already, before any work is done for it.
    fn verify_sign_in(&self, text: &str, signature: &str) -> Result<SignInMessage, Problem> {
        let message = self.verify_signed(text, signature)?;
        let nonce = message.nonce.as_deref().unwrap_or_default();
        let used = self
            .nonces
            .lock()
            .map_err(|_| Problem::internal("nonce table poisoned"))?
            .is_used(&message.address, nonce, unix_now());
        if used {
            return Err(replayed_sign_in());
        }
        Ok(message)
    }

    /// Checks a signed message (domain, age, signature, nonce length) and returns it, whether
    /// or not it was used before: for a release, which is the same whenever it is asked.
    fn verify_signed(&self, text: &str, signature: &str) -> Result<SignInMessage, Problem> {
        let signature = Signature::from_str(signature.trim()).map_err(|_| {
            Problem::unauthorized(format!(
                "`{signature}` is not an ed25519 signature (base58)"
            ))
        })?;
        let now = unix_now();
        let message = SignInMessage::verify(
            text,
            &signature,
            &self.domain,
            now,
            self.limits.sign_in_max_age_secs,
            self.limits.sign_in_max_skew_secs,
        )
        .map_err(|e| Problem::unauthorized(e.to_string()))?;
        let nonce = message.nonce.as_deref().unwrap_or_default();
        if nonce.len() > MAX_NONCE_LEN {
            return Err(Problem::unauthorized(format!(
                "the nonce is {} characters; at most {MAX_NONCE_LEN}",
                nonce.len()
            )));
        }
        Ok(message)
    }

    /// A signed message from the headers that names exactly `record`, read by `named` (the
    /// inverse of the route's message builder): an upload, a confirm, a custody request.
    fn signed_for_record(
        &self,
        headers: &HeaderMap,
        record: &Pubkey,
        named: fn(&SignInMessage) -> Result<Pubkey, careledger_records::RecordsError>,
    ) -> Result<SignInMessage, Problem> {
        let message = self.sign_in_from_headers(headers)?;
        let named = named(&message).map_err(|e| Problem::unauthorized(e.to_string()))?;
        if named != *record {
            return Err(Problem::unauthorized(format!(
                "the signed message names record {named}, not {record}"
            )));
        }
        Ok(message)
    }

    /// A signed message checked from the sign-in and signature headers (uploads, confirms,
    /// probes).
    fn sign_in_from_headers(&self, headers: &HeaderMap) -> Result<SignInMessage, Problem> {
        let text = b64()
            .decode(header(headers, SIGN_IN_HEADER)?)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                Problem::bad_request(
                    "bad-header",
                    format!("{SIGN_IN_HEADER} is not base64 UTF-8 text"),
                )
            })?;
        self.verify_sign_in(&text, header(headers, SIGNATURE_HEADER)?)
    }

    /// A signed upload, confirm, probe or custody request is good once: recorded at the point
    /// of success, when the ledger has authorised the request and the store did what it
    /// asked, so refused requests take no entry; each signer holds a bounded share of the
    /// table. In memory, per replica. A release takes no entry: it is the same answer to the
    /// same grantee each time (docs/GATEWAY.md, "Replicas").
    fn use_nonce(&self, message: &SignInMessage) -> Result<(), Problem> {
        let nonce = message.nonce.as_deref().unwrap_or_default();
        let now = unix_now();
        let until = now
            .saturating_add(self.limits.sign_in_max_age_secs)
            .saturating_add(self.limits.sign_in_max_skew_secs);
        let recorded = self
            .nonces
            .lock()
            .map_err(|_| Problem::internal("nonce table poisoned"))?
            .record(&message.address, nonce, now, until);
        match recorded {
            Ok(()) => Ok(()),
            Err(NonceRefusal::Replayed) => Err(replayed_sign_in()),
            Err(NonceRefusal::SignerFull(n)) => Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests from this wallet",
                format!(
                    "{} has {n} signed requests in the last {} s: try again in a few minutes",
                    message.address,
                    self.limits.sign_in_max_age_secs + self.limits.sign_in_max_skew_secs
                ),
            )),
            Err(NonceRefusal::Full) => Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many requests",
                "too many signed requests in the last minutes: try again shortly".into(),
            )),
        }
    }

    /// The stored record, or the staged upload the anchor now matches, promoted; here only.
    fn held_here(
        &self,
        record: &Pubkey,
        anchor: &RecordAnchor,
    ) -> Result<Option<StoredRecord>, Problem> {
        if let Some(stored) = self.store.record(record).map_err(Problem::internal)? {
            return Ok(Some(stored));
        }
        self.promote(record, anchor)
    }
}

impl<V: LedgerView + 'static> Gateway<V> {
    /// The record as held here, or else pulled from a peer replica (checked against `anchor`
    /// and stored here first).
    async fn stored_or_pulled(
        self: &Arc<Self>,
        record: &Pubkey,
        anchor: &RecordAnchor,
    ) -> Result<Option<StoredRecord>, Problem> {
        if let Some(stored) = self.held_here(record, anchor)? {
            return Ok(Some(stored));
        }
        match &self.peers {
            Some(_) => replicas::Peers::pull(self, record, anchor).await,
            None => Ok(None),
        }
    }
}

fn replayed_sign_in() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "replayed-sign-in",
        "Replayed request",
        "this signed message was already used: sign a new one (a new nonce)".into(),
    )
}

async fn info<V: LedgerView>(State(gw): State<Arc<Gateway<V>>>) -> Json<serde_json::Value> {
    Json(json!({
        "program": careledger_sdk::program::ID.to_string(),
        "custodian": gw.custodian.to_string(),
        "x25519": b64().encode(gw.secret.public()),
        "domain": gw.domain,
        "max_upload_bytes": gw.limits.max_upload,
        "min_upload_bytes_per_sec": gw.limits.min_upload_rate,
        "max_event_age_secs": gw.limits.max_event_age_secs,
        "staged_ttl_secs": gw.limits.staged_ttl_secs,
        "profiles": Profile::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(),
    }))
}

/// `GET|HEAD /v1/records/{record}`: whether this gateway holds the record, told only to its
/// patient, its author, or a grantee whose read is allowed now (as for a release, nobody else
/// learns which records a custodian holds). Logs nothing on chain.
async fn probe<V: LedgerView + 'static>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let message = gw.sign_in_from_headers(&headers)?;
    let asked: ProbeRequest = wire::probe_request_of(&message)
        .map_err(|e| Problem::bad_request("not-a-probe", e.to_string()))?;
    if asked.record != record {
        return Err(Problem::bad_request(
            "record-mismatch",
            format!(
                "the signed message names record {}, not {record}",
                asked.record
            ),
        ));
    }
    let anchor = release::clear_probe(&gw.view, &asked)
        .await
        .map_err(Problem::ledger)??;
    let stored = gw.stored_or_pulled(&record, &anchor).await?;
    gw.use_nonce(&message)?;
    let stored = stored.ok_or_else(|| not_stored(&record))?;
    let mut response = Json(json!({
        "record": record.to_string(),
        "cid": stored.cid,
        "sha256": stored.sha256,
        "bytes": stored.bytes,
        "stored": true,
    }))
    .into_response();
    let h = response.headers_mut();
    let value = |v: &str| HeaderValue::from_str(v).map_err(Problem::internal);
    h.insert(CID_HEADER, value(&stored.cid)?);
    h.insert(SHA256_HEADER, value(&stored.sha256)?);
    Ok(response)
}

fn not_stored(record: &Pubkey) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-stored",
        "Not stored here",
        format!("this gateway holds no ciphertext for record {record}"),
    )
}

/// A small request body, whole: at most `MAX_REQUEST_BYTES`, within `within`.
async fn read_small(body: Body, within: Duration) -> Result<Bytes, Problem> {
    match tokio::time::timeout(within, axum::body::to_bytes(body, MAX_REQUEST_BYTES)).await {
        Err(_) => Err(Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "slow-request",
            "Request too slow",
            format!(
                "the request body did not arrive within {} s",
                within.as_secs()
            ),
        )),
        Ok(Err(_)) => Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request-too-large",
            "Request too large",
            format!(
                "a release request is at most {MAX_REQUEST_BYTES} bytes, or the body broke off"
            ),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// What a release answers with: the query of `POST /v1/records/{record}/release`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseQuery {
    /// `key`: the wrapped data key alone; absent: the ciphertext with the key in a header.
    content: Option<String>,
}

async fn release<V: LedgerView + 'static>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    query: Result<Query<ReleaseQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let key_only = match query.map(|Query(q)| q.content) {
        Ok(None) => false,
        Ok(Some(content)) if content == wire::KEY_ONLY => true,
        Ok(Some(other)) => {
            return Err(Problem::bad_request(
                "bad-query",
                format!("content={other}: a release answers content={} (the wrapped key alone), or the ciphertext without it", wire::KEY_ONLY),
            ))
        }
        Err(e) => return Err(Problem::bad_request("bad-query", format!("{e}: a release takes only ?content={}", wire::KEY_ONLY))),
    };
    let body = read_small(body, gw.limits.small_body).await?;
    let json_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-json",
            "Unsupported media type",
            "a release request is application/json: {\"message\", \"signature\"}".into(),
        ));
    }
    let request: ReleaseBody = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(
            "malformed-request",
            format!("the body is not a release request {{\"message\", \"signature\"}}: {e}"),
        )
    })?;
    let message = gw.verify_signed(&request.message, &request.signature)?;
    let asked = wire::release_request_of(&message)
        .map_err(|e| Problem::bad_request("not-a-release-request", e.to_string()))?;
    if asked.record != record {
        return Err(Problem::bad_request(
            "record-mismatch",
            format!(
                "the signed message names record {}, not {record}",
                asked.record
            ),
        ));
    }
    // the ledger decides first: whether this gateway holds a record is told only to a grantee
    // whose release would be allowed
    let cleared = release::clear_release(&gw.view, &asked, gw.limits.max_event_age_secs)
        .await
        .map_err(Problem::ledger)??;
    if let Some(max) = gw.limits.max_ledger_lag_secs {
        let lag = unix_now().saturating_sub(cleared.at);
        if lag > max {
            return Err(Problem::ledger(format!(
                "the ledger's clock is {lag} s behind this gateway's (at most {max} s): its node may not show a recent revocation yet"
            )));
        }
    }
    let stored = gw
        .stored_or_pulled(&record, &cleared.record)
        .await?
        .ok_or_else(|| not_stored(&record))?;
    let program = careledger_sdk::program::ID;
    let wrapped = b64()
        .decode(&stored.wrapped_key)
        .map_err(Problem::internal)?;
    let custody = gw.custody_secret(&stored.custody_key).ok_or_else(|| {
        Problem::internal(format!(
            "record {record} is stored under a custodian key this gateway was not given: pass it with --previous-x25519-key"
        ))
    })?;
    let key = envelope::unwrap_key(
        custody,
        &envelope::custody_info(&program, &record),
        &wrapped,
    )
    .map_err(Problem::internal)?;
    let info = envelope::release_info(&program, &record, &asked.grant);
    let for_grantee =
        envelope::wrap_key(&cleared.recipient_key, &info, &key).map_err(Problem::internal)?;
    // a key-only release needs no ciphertext here (it may live only on IPFS)
    let file = match key_only {
        true => None,
        false => Some(
            tokio::fs::File::open(gw.store.object_path(&stored.cid))
                .await
                .map_err(Problem::internal)?,
        ),
    };
    // the last step before any byte leaves: the release is logged, durably. It is not a
    // gate: what allows a release is the ledger alone, so the same event asked again, here or
    // at another replica, while it is recent, gets the same data key for the same grantee
    // (nothing it did not have), and a replica that fails mid-release costs no new read
    let event = &cleared.event;
    let logged = format!(
        "{} {} {} {record} {}",
        event.grant,
        event.access_count,
        event.at,
        if key_only { "key" } else { "key+ciphertext" }
    );
    let line = format!("{} {}", asked.transaction, unix_now());
    let oldest = cleared.at.saturating_sub(gw.limits.max_event_age_secs);
    let at = event.at;
    let writer = gw.clone();
    tokio::task::spawn_blocking(move || writer.store.log_release(&logged, &line, at, oldest))
        .await
        .map_err(Problem::internal)?
        .map_err(Problem::internal)?;
    let wrapped_b64 = b64().encode(&for_grantee);
    let mut response = match file {
        None => Json(wire::KeyRelease {
            record: record.to_string(),
            grant: asked.grant.to_string(),
            wrapped_key: wrapped_b64.clone(),
            key_version: cleared.recipient_key_version,
            cid: stored.cid.clone(),
            sha256: stored.sha256.clone(),
            bytes: stored.bytes,
        })
        .into_response(),
        Some(file) => {
            let mut response =
                Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20))
                    .into_response();
            let h = response.headers_mut();
            h.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            h.insert(
                axum::http::header::CONTENT_LENGTH,
                HeaderValue::from_str(&stored.bytes.to_string()).map_err(Problem::internal)?,
            );
            response
        }
    };
    let h = response.headers_mut();
    let value = |v: String| HeaderValue::from_str(&v).map_err(Problem::internal);
    h.insert(WRAPPED_KEY_HEADER, value(wrapped_b64)?);
    h.insert(CID_HEADER, value(stored.cid.clone())?);
    h.insert(SHA256_HEADER, value(stored.sha256.clone())?);
    h.insert(
        KEY_VERSION_HEADER,
        value(cleared.recipient_key_version.to_string())?,
    );
    Ok(response)
}
