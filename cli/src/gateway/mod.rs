//! `careledger serve`: the record gateway a record's custodian runs (a hospital, or the
//! patient's own storage). It holds ciphertexts and wrapped data keys, and releases a record
//! only against an on-chain access event (docs/GATEWAY.md has the protocol).
//!
//! - `GET  /v1/gateway`: the custodian's wallet and X25519 key, the domain requests must be
//!   signed for, and the limits.
//! - `PUT  /v1/records/{record}`: the record's author stores its ciphertext, with the data key
//!   wrapped to the custodian's key. The ciphertext must hash to the anchor's SHA-256 and CID
//!   and decrypt under that key, or nothing is stored.
//! - `POST /v1/records/{record}/release`: a grantee's signed request against its access
//!   transaction; the answer is the ciphertext, and the data key wrapped to the grantee's key.
pub mod problem;
pub mod store;
pub mod view;

use crate::common::{b64, hex, unix_now};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use base64::Engine;
use careledger_sdk::envelope::{self, Decryptor, KeyAgreementSecret};
use careledger_sdk::release::{self, LedgerView, Refused};
use careledger_sdk::siws::SignInMessage;
use careledger_sdk::unixfs::{DagBuilder, NoBlocks, Profile};
use careledger_sdk::{cid as cids, Pubkey, Signature};
use futures_util::StreamExt;
use problem::Problem;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoredRecord};

/// Request headers of an upload.
pub const SIGN_IN_HEADER: &str = "x-careledger-sign-in";
pub const SIGNATURE_HEADER: &str = "x-careledger-signature";
pub const WRAPPED_KEY_HEADER: &str = "x-careledger-wrapped-key";
/// Response headers of a release.
pub const CID_HEADER: &str = "x-careledger-cid";
pub const SHA256_HEADER: &str = "x-careledger-sha256";
pub const KEY_VERSION_HEADER: &str = "x-careledger-key-version";

/// Signed messages remembered at most (32-byte keys: about 50 MB); beyond, requests wait.
const MAX_NONCES: usize = 1_000_000;
/// Longest nonce accepted (SIWS asks for at least 8 alphanumerics; ours are 24).
const MAX_NONCE_LEN: usize = 64;
/// Uploads one author may have in progress at once.
const MAX_UPLOADS_PER_AUTHOR: usize = 2;

/// The nonce table: hashes of (signer, nonce), and when each may be forgotten, oldest first.
#[derive(Default)]
pub struct Nonces {
    seen: std::collections::HashSet<[u8; 32]>,
    order: std::collections::VecDeque<(i64, [u8; 32])>,
}

impl Nonces {
    /// Forgets what could no longer be accepted anyway (amortised O(1) per request).
    fn expire(&mut self, now: i64) {
        while self.order.front().is_some_and(|(until, _)| *until < now) {
            if let Some((_, key)) = self.order.pop_front() {
                self.seen.remove(&key);
            }
        }
    }
}

/// Uploads in progress: one per record, a few per author.
#[derive(Default)]
pub struct InFlight {
    records: std::collections::HashSet<Pubkey>,
    authors: std::collections::HashMap<Pubkey, usize>,
}

/// An upload's place in `InFlight`, given back when the upload ends, however it ends.
struct UploadClaim<'a> {
    table: &'a std::sync::Mutex<InFlight>,
    record: Pubkey,
    author: Pubkey,
}

impl<'a> UploadClaim<'a> {
    fn take(
        table: &'a std::sync::Mutex<InFlight>,
        record: Pubkey,
        author: Pubkey,
    ) -> Result<Self, Problem> {
        let mut t = table
            .lock()
            .map_err(|_| Problem::internal("upload table poisoned"))?;
        if t.records.contains(&record) {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "upload-in-progress",
                "Upload in progress",
                format!("record {record} is being uploaded already"),
            ));
        }
        let mine = t.authors.get(&author).copied().unwrap_or(0);
        if mine >= MAX_UPLOADS_PER_AUTHOR {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many uploads",
                format!("{author} has {mine} uploads in progress: wait for them"),
            ));
        }
        t.records.insert(record);
        t.authors.insert(author, mine + 1);
        Ok(UploadClaim {
            table,
            record,
            author,
        })
    }
}

impl Drop for UploadClaim<'_> {
    fn drop(&mut self) {
        if let Ok(mut t) = self.table.lock() {
            t.records.remove(&self.record);
            match t.authors.get(&self.author).copied() {
                Some(n) if n > 1 => {
                    t.authors.insert(self.author, n - 1);
                }
                _ => {
                    t.authors.remove(&self.author);
                }
            }
        }
    }
}

/// Connections served at once (each holds a descriptor and a little memory).
const MAX_CONNECTIONS: usize = 512;

/// The largest release request body: a sign-in message and a signature.
const MAX_REQUEST_BYTES: usize = 16 * 1024;

pub struct Limits {
    /// Uploads in progress at once; more are answered 503.
    pub max_uploads: usize,
    /// Largest ciphertext an upload may carry.
    pub max_upload: u64,
    /// How old an access event may be at release.
    pub max_event_age_secs: i64,
    /// How old a signed request may be, and how far ahead of the gateway's clock.
    pub sign_in_max_age_secs: i64,
    pub sign_in_max_skew_secs: i64,
    /// Longest wait for the next piece of a request body.
    pub idle: Duration,
    /// Over RPC: how far the ledger's clock may lag the gateway's before it stops deciding (a
    /// lagging node could still show a revoked grant as live). `None` for a ledger folder,
    /// whose clock is the wall clock.
    pub max_ledger_lag_secs: Option<i64>,
}

impl Default for Limits {
    /// `careledger serve`'s defaults.
    fn default() -> Self {
        Limits {
            max_uploads: 8,
            max_upload: 4 << 30,
            max_event_age_secs: release::DEFAULT_MAX_EVENT_AGE_SECS,
            sign_in_max_age_secs: 300,
            sign_in_max_skew_secs: 60,
            idle: Duration::from_secs(30),
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
    /// Signed messages seen, by (signer, nonce), until they would expire anyway.
    nonces: std::sync::Mutex<Nonces>,
    /// Uploads in progress, by record and by author.
    in_flight: std::sync::Mutex<InFlight>,
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
        Gateway {
            view,
            store,
            custodian,
            secret,
            previous,
            domain,
            uploads: Arc::new(tokio::sync::Semaphore::new(limits.max_uploads)),
            limits,
            nonces: Default::default(),
            in_flight: Default::default(),
        }
    }
}

pub fn router<V: LedgerView + 'static>(gateway: Arc<Gateway<V>>) -> Router {
    Router::new()
        .route("/v1/gateway", get(info::<V>))
        .route(
            "/v1/records/{record}",
            put(upload::<V>).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/records/{record}/release",
            post(release::<V>).layer(DefaultBodyLimit::disable()),
        )
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "no-such-route",
                "No such route",
                "see docs/GATEWAY.md for the routes".into(),
            )
        })
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
    /// Checks a signed message (domain, age, signature) and returns it.
    fn verify_sign_in(&self, text: &str, signature: &str) -> Result<SignInMessage, Problem> {
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
        Ok(message)
    }

    /// A signed message is good once: its (signer, nonce) is remembered for as long as the
    /// message could still be accepted. Called once the ledger has authorised the request, so
    /// strangers cannot fill the table; kept in memory: after a restart the access events'
    /// single use (durable in used.log) still holds.
    fn use_nonce(&self, message: &SignInMessage) -> Result<(), Problem> {
        let nonce = message.nonce.as_deref().unwrap_or_default();
        if nonce.len() > MAX_NONCE_LEN {
            return Err(Problem::unauthorized(format!(
                "the nonce is {} characters; at most {MAX_NONCE_LEN}",
                nonce.len()
            )));
        }
        let key: [u8; 32] = Sha256::new()
            .chain_update(message.address.as_ref())
            .chain_update(nonce.as_bytes())
            .finalize()
            .into();
        let now = unix_now();
        let until = now
            .saturating_add(self.limits.sign_in_max_age_secs)
            .saturating_add(self.limits.sign_in_max_skew_secs);
        let mut nonces = self
            .nonces
            .lock()
            .map_err(|_| Problem::internal("nonce table poisoned"))?;
        nonces.expire(now);
        if nonces.seen.len() >= MAX_NONCES {
            return Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many requests",
                "too many signed requests in the last minutes: try again shortly".into(),
            ));
        }
        if !nonces.seen.insert(key) {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "replayed-sign-in",
                "Replayed request",
                "this signed message was already used: sign a new one (a new nonce)".into(),
            ));
        }
        nonces.order.push_back((until, key));
        Ok(())
    }
}

async fn info<V: LedgerView>(State(gw): State<Arc<Gateway<V>>>) -> Json<serde_json::Value> {
    Json(json!({
        "program": careledger_sdk::program::ID.to_string(),
        "custodian": gw.custodian.to_string(),
        "x25519": b64().encode(gw.secret.public()),
        "domain": gw.domain,
        "max_upload_bytes": gw.limits.max_upload,
        "max_event_age_secs": gw.limits.max_event_age_secs,
        "profiles": Profile::ALL.iter().map(|p| p.name()).collect::<Vec<_>>(),
    }))
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

/// Removes an upload's temporary file unless it was committed.
struct TempFile(Option<std::path::PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn unprocessable(slug: &'static str, detail: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        slug,
        "The upload does not match its anchor",
        detail,
    )
}

async fn upload<V: LedgerView>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let text = b64()
        .decode(header(&headers, SIGN_IN_HEADER)?)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            Problem::bad_request(
                "bad-header",
                format!("{SIGN_IN_HEADER} is not base64 UTF-8 text"),
            )
        })?;
    let message = gw.verify_sign_in(&text, header(&headers, SIGNATURE_HEADER)?)?;
    let named =
        release::upload_record_of(&message).map_err(|e| Problem::unauthorized(e.to_string()))?;
    if named != record {
        return Err(Problem::unauthorized(format!(
            "the signed message names record {named}, not {record}"
        )));
    }
    let anchor = release::clear_upload(&gw.view, &record, &message.address)
        .await
        .map_err(Problem::ledger)??;
    gw.use_nonce(&message)?;
    if let Some(stored) = gw.store.record(&record).map_err(Problem::internal)? {
        return if stored.sha256 == hex(&anchor.content_sha256) {
            Ok((
                StatusCode::OK,
                Json(json!({"record": record.to_string(), "cid": stored.cid, "stored": "already"})),
            )
                .into_response())
        } else {
            Err(Problem::new(
                StatusCode::CONFLICT,
                "already-stored",
                "Already stored",
                format!("record {record} is stored here with other bytes"),
            ))
        };
    }
    let wrapped = b64()
        .decode(header(&headers, WRAPPED_KEY_HEADER)?)
        .map_err(|_| {
            Problem::bad_request("bad-header", format!("{WRAPPED_KEY_HEADER} is not base64"))
        })?;
    let program = careledger_sdk::program::ID;
    let key = envelope::unwrap_key(
        &gw.secret,
        &envelope::custody_info(&program, &record),
        &wrapped,
    )
    .map_err(|e| {
        unprocessable(
            "bad-wrapped-key",
            format!("the data key is not wrapped to this gateway's key for this record: {e}"),
        )
    })?;
    if let Some(length) = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if length > gw.limits.max_upload {
            return Err(too_large(gw.limits.max_upload));
        }
    }
    let anchored_cid = anchor.cid.to_bytes();
    let profile = Profile::implied_by(&anchored_cid).ok_or_else(|| {
        unprocessable("unknown-profile", "the anchored CID is not a UnixFS file CID this gateway computes (unixfs-v1-2025 or unixfs-v0-2015)".into())
    })?;
    let _slot = gw.uploads.clone().try_acquire_owned().map_err(|_| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Too many uploads",
            format!(
                "{} uploads are in progress: try again shortly",
                gw.limits.max_uploads
            ),
        )
    })?;
    let _claim = UploadClaim::take(&gw.in_flight, record, message.address)?;
    let (path, file) = gw.store.temp_file().map_err(Problem::internal)?;
    let mut temp = TempFile(Some(path.clone()));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut sha = Sha256::new();
    let mut dag = DagBuilder::new(profile, NoBlocks);
    let mut decryptor = Decryptor::new(&crate::gateway_client::identity_of(&anchor), &key);
    let mut total: u64 = 0;
    let started = std::time::Instant::now();
    // the header's magic, version and chunk size (bytes 0..13)
    const SIZED: usize = 13;
    let mut header = Vec::with_capacity(SIZED);
    let mut stream = body.into_data_stream();
    loop {
        let next = tokio::time::timeout(gw.limits.idle, stream.next())
            .await
            .map_err(|_| slow(format!("no data for {} s", gw.limits.idle.as_secs())))?;
        let Some(piece) = next else { break };
        let piece = piece.map_err(|e| {
            Problem::bad_request("broken-body", format!("the upload broke off: {e}"))
        })?;
        total += piece.len() as u64;
        if total > gw.limits.max_upload {
            return Err(too_large(gw.limits.max_upload));
        }
        // a trickle holds memory and a slot: after the first idle period, at least MIN_RATE
        let elapsed = started.elapsed();
        let owed = MIN_RATE.saturating_mul(elapsed.saturating_sub(gw.limits.idle).as_secs());
        if total < owed {
            return Err(slow(format!(
                "the upload is slower than {} KiB/s",
                MIN_RATE / 1024
            )));
        }
        // careledger writes 64 KiB chunks; smaller ones only multiply the work
        if header.len() < SIZED {
            let want = SIZED - header.len();
            header.extend_from_slice(&piece[..want.min(piece.len())]);
            let chunk = (envelope::CHUNK_SIZE as u32).to_le_bytes();
            if header.len() == SIZED && header[9..SIZED] != chunk {
                return Err(unprocessable(
                    "bad-chunk-size",
                    format!(
                        "this gateway stores ciphertexts of {} KiB chunks",
                        envelope::CHUNK_SIZE / 1024
                    ),
                ));
            }
        }
        sha.update(&piece);
        dag.update(&piece).map_err(Problem::internal)?;
        decryptor.update(&piece, |_| Ok(())).map_err(|e| {
            unprocessable(
                "does-not-decrypt",
                format!(
                    "the ciphertext does not decrypt under the wrapped key for this record: {e}"
                ),
            )
        })?;
        out.write_all(&piece).map_err(Problem::internal)?;
    }
    decryptor.finish(|_| Ok(())).map_err(|e| {
        unprocessable(
            "does-not-decrypt",
            format!("the ciphertext is incomplete or altered: {e}"),
        )
    })?;
    let digest: [u8; 32] = sha.finalize().into();
    if digest != anchor.content_sha256 {
        return Err(unprocessable(
            "sha256-mismatch",
            format!(
                "the ciphertext's SHA-256 is {}, the anchor's {}",
                hex(&digest),
                hex(&anchor.content_sha256)
            ),
        ));
    }
    let (root, _) = dag.finish().map_err(Problem::internal)?;
    if root.cid != anchored_cid {
        return Err(unprocessable(
            "cid-mismatch",
            "the ciphertext's CID is not the anchored CID".into(),
        ));
    }
    out.flush().map_err(Problem::internal)?;
    drop(out);
    let cid = cids::cid_to_string(&anchor.cid);
    let meta = StoredRecord {
        record: record.to_string(),
        cid: cid.clone(),
        sha256: hex(&digest),
        bytes: total,
        author: message.address.to_string(),
        wrapped_key: b64().encode(&wrapped),
        custody_key: b64().encode(gw.secret.public()),
        stored_at: unix_now(),
    };
    gw.store.commit(&path, &meta).map_err(Problem::internal)?;
    temp.0 = None;
    Ok((
        StatusCode::CREATED,
        Json(json!({"record": record.to_string(), "cid": cid, "bytes": total, "stored": "now"})),
    )
        .into_response())
}

/// The slowest an upload may average after its first idle period, bytes per second.
const MIN_RATE: u64 = 64 * 1024;

fn slow(detail: String) -> Problem {
    Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "slow-request",
        "Request too slow",
        detail,
    )
}

fn too_large(max: u64) -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "upload-too-large",
        "Upload too large",
        format!("this gateway stores ciphertexts of at most {max} bytes"),
    )
}

/// A small request body, whole: at most `MAX_REQUEST_BYTES`, within `idle`.
async fn read_small(body: Body, idle: Duration) -> Result<Bytes, Problem> {
    match tokio::time::timeout(idle, axum::body::to_bytes(body, MAX_REQUEST_BYTES)).await {
        Err(_) => Err(Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            "slow-request",
            "Request too slow",
            format!(
                "the request body did not arrive within {} s",
                idle.as_secs()
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

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    /// The Sign-In With Solana message, as signed.
    message: String,
    /// Its ed25519 signature by the grantee's wallet, base58.
    signature: String,
}

async fn release<V: LedgerView>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let body = read_small(body, gw.limits.idle).await?;
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
    let message = gw.verify_sign_in(&request.message, &request.signature)?;
    let asked = release::release_request_of(&message)
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
    gw.use_nonce(&message)?;
    if let Some(max) = gw.limits.max_ledger_lag_secs {
        let lag = unix_now().saturating_sub(cleared.at);
        if lag > max {
            return Err(Problem::ledger(format!(
                "the ledger's clock is {lag} s behind this gateway's (at most {max} s): its node may not show a recent revocation yet"
            )));
        }
    }
    let stored = gw
        .store
        .record(&record)
        .map_err(Problem::internal)?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not-stored",
                "Not stored here",
                format!("this gateway holds no ciphertext for record {record}"),
            )
        })?;
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
    let file = tokio::fs::File::open(gw.store.object_path(&stored.cid))
        .await
        .map_err(Problem::internal)?;
    // the last step before any byte leaves: an access event (a grant's n-th logged access, at
    // its time: a grant closed and given again counts from 0 again) releases once, durably
    let event = &cleared.event;
    let used = format!(
        "{} {} {} {record}",
        event.grant, event.access_count, event.at
    );
    if !gw
        .store
        .mark_used(&used, &asked.transaction.to_string())
        .map_err(Problem::internal)?
    {
        return Err(Refused::Replayed.into());
    }
    let mut response =
        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20))
            .into_response();
    let h = response.headers_mut();
    let value = |v: String| HeaderValue::from_str(&v).map_err(Problem::internal);
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(
        axum::http::header::CONTENT_LENGTH,
        value(stored.bytes.to_string())?,
    );
    h.insert(WRAPPED_KEY_HEADER, value(b64().encode(for_grantee))?);
    h.insert(CID_HEADER, value(stored.cid.clone())?);
    h.insert(SHA256_HEADER, value(stored.sha256.clone())?);
    h.insert(
        KEY_VERSION_HEADER,
        value(cleared.recipient_key_version.to_string())?,
    );
    Ok(response)
}

/// Serves until SIGINT or SIGTERM, with a bounded wait for each request's headers (a client
/// that trickles them in is cut off).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        // at most MAX_CONNECTIONS at once: the next one waits instead of taking a descriptor
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = term.recv() => return Ok(()),
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // a response's headers and its last small piece must not wait for a
                    // delayed ACK (Nagle): 40 ms per release on loopback otherwise
                    let _ = stream.set_nodelay(true);
                    stream
                }
                // out of descriptors, or a connection reset before accept: keep serving
                Err(e) => {
                    eprintln!("careledger gateway: accept failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = term.recv() => return Ok(()),
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Who gains by a second upload of one record, or many by one author: whoever wants to hold
    /// every upload slot. One per record, MAX_UPLOADS_PER_AUTHOR per author, given back on drop.
    #[test]
    fn uploads_in_flight_are_one_per_record_and_few_per_author() {
        let table = std::sync::Mutex::new(InFlight::default());
        let (author, other) = (Pubkey::new_unique(), Pubkey::new_unique());
        let records: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let first = UploadClaim::take(&table, records[0], author).unwrap();
        let again = UploadClaim::take(&table, records[0], other)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(again.slug, "upload-in-progress");
        let second = UploadClaim::take(&table, records[1], author).unwrap();
        let third = UploadClaim::take(&table, records[2], author)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(third.slug, "busy");
        drop(first);
        let retried = UploadClaim::take(&table, records[0], author).unwrap();
        drop((second, retried));
        let t = table.lock().unwrap();
        assert!(t.records.is_empty() && t.authors.is_empty());
    }

    #[test]
    fn nonces_are_forgotten_only_once_they_could_not_be_accepted() {
        let mut n = Nonces::default();
        for (until, key) in [(10, [1u8; 32]), (20, [2u8; 32])] {
            n.seen.insert(key);
            n.order.push_back((until, key));
        }
        n.expire(10);
        assert_eq!(n.seen.len(), 2, "still acceptable at its last second");
        n.expire(11);
        assert!(!n.seen.contains(&[1u8; 32]) && n.seen.contains(&[2u8; 32]));
    }
}
