//! Uploads: an author stores a record's ciphertext, staged before its anchor (so that nothing
//! is anchored that the gateway would not store) and promoted once the matching anchor is on
//! chain, or stored straight away after it.
//!
//! Every upload must earn its slot (issue 23, G1): it declares its size, within
//! `--max-upload`; from its first byte it must keep up `min_upload_rate` on average, less a
//! short grace, checked by a deadline while it waits, not only when bytes arrive; an upload
//! cut for slowness bars its author from the next one for a minute (so reconnecting does not
//! keep the grace coming); an author has at most two uploads in progress and a few staged; the
//! ciphertext is checked chunk by chunk, so bytes that do not decrypt end it at once.
use super::{address, header, Gateway, Problem};
use crate::common::{b64, hex, unix_now};
use crate::gateway::store::StoredRecord;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use careledger_records::envelope::{self, DataKey, RecordIdentity};
use careledger_records::open::{Expected, OpenError, Opener};
use careledger_records::protocol::{self as wire, parse_hex32, StagingRequest};
use careledger_records::protocol::{CID_HEADER, CLASS_HEADER, GRANT_HEADER, INDEX_HEADER};
use careledger_records::protocol::{PATIENT_HEADER, SHA256_HEADER, WRAPPED_KEY_HEADER};
use careledger_records::release;
use careledger_records::unixfs::Profile;
use careledger_sdk::{cid as cids, LedgerView, Pubkey, RecordAnchor, RecordStatus};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Uploads one author may have in progress at once.
const MAX_UPLOADS_PER_AUTHOR: usize = 2;

/// Uploads in progress: one per record, a few per author.
#[derive(Default)]
pub struct InFlight {
    records: HashSet<Pubkey>,
    authors: HashMap<Pubkey, usize>,
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

/// An upload that waits for its anchor: verified to decrypt under its wrapped key as the
/// record it declared, its SHA-256 and CID computed.
pub struct Staged {
    pub patient: Pubkey,
    pub index: u32,
    pub class: u8,
    /// The binary CID it computed to (and declared).
    pub cid: Vec<u8>,
    pub sha256: [u8; 32],
    pub bytes: u64,
    /// The data key wrapped to the custodian's current key (`custody_key`, base64).
    pub wrapped_key: Vec<u8>,
    pub custody_key: String,
    pub path: PathBuf,
    pub staged_at: i64,
}

/// Removes an upload's temporary file unless it was kept.
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn keep(mut self) -> Option<PathBuf> {
        self.0.take()
    }
}

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

/// An upload's declared size: required (an open-ended body could hold a slot without a
/// bound), and within the limit before a byte is read.
fn declared_length(headers: &HeaderMap, max: u64) -> Result<u64, Problem> {
    let length_required = || {
        Problem::new(
            StatusCode::LENGTH_REQUIRED,
            "length-required",
            "Length required",
            "an upload declares its size in Content-Length (no chunked bodies)".into(),
        )
    };
    if headers.contains_key(axum::http::header::TRANSFER_ENCODING) {
        return Err(length_required());
    }
    let length = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .ok_or_else(length_required)?
        .to_str()
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .ok_or_else(|| Problem::bad_request("bad-header", "Content-Length is not a number"))?;
    if length > max {
        return Err(too_large(max));
    }
    Ok(length)
}

/// What an anchored record's upload must prove.
fn expected_of_anchor(anchor: &RecordAnchor) -> Result<Expected, Problem> {
    Expected::of_anchor(anchor).ok_or_else(unknown_profile)
}

fn unknown_profile() -> Problem {
    unprocessable(
        "unknown-profile",
        "the CID is not a UnixFS file CID this gateway computes (unixfs-v1-2025 or unixfs-v0-2015)"
            .into(),
    )
}

fn profile_of(cid: &[u8]) -> Result<Profile, Problem> {
    Profile::implied_by(cid).ok_or_else(unknown_profile)
}

/// A staged upload's declared identity, CID and SHA-256, from its headers; `None` when it
/// declares none (an upload after the anchor).
fn staging_of(
    headers: &HeaderMap,
    record: &Pubkey,
    uploader: &Pubkey,
) -> Result<Option<(StagingRequest, Expected)>, Problem> {
    if !headers.contains_key(PATIENT_HEADER) {
        return Ok(None);
    }
    let bad = |name: &str, what: &str| {
        Problem::bad_request("bad-header", format!("the {name} header is not {what}"))
    };
    let patient = Pubkey::from_str(header(headers, PATIENT_HEADER)?)
        .map_err(|_| bad(PATIENT_HEADER, "an address"))?;
    let index: u32 = header(headers, INDEX_HEADER)?
        .parse()
        .map_err(|_| bad(INDEX_HEADER, "a record index"))?;
    let class: u8 = header(headers, CLASS_HEADER)?
        .parse()
        .ok()
        .filter(|c| careledger_sdk::program::logic::terms::validate_record_class(*c).is_ok())
        .ok_or_else(|| bad(CLASS_HEADER, "a record class id below 16"))?;
    let grant = match headers.get(GRANT_HEADER) {
        None => None,
        Some(_) => Some(
            Pubkey::from_str(header(headers, GRANT_HEADER)?)
                .map_err(|_| bad(GRANT_HEADER, "an address"))?,
        ),
    };
    let cid =
        cids::cid_to_bytes(header(headers, CID_HEADER)?).map_err(|_| bad(CID_HEADER, "a CID"))?;
    let sha256 = parse_hex32(header(headers, SHA256_HEADER)?)
        .ok_or_else(|| bad(SHA256_HEADER, "a hex SHA-256"))?;
    let request = StagingRequest {
        uploader: *uploader,
        patient,
        index,
        class,
        grant,
    };
    if request.record() != *record {
        return Err(Problem::bad_request(
            "record-mismatch",
            format!(
                "record #{index} of {patient} is {}, not {record}",
                request.record()
            ),
        ));
    }
    let expected = Expected {
        identity: RecordIdentity::new(patient, index, 1, class),
        sha256,
        profile: profile_of(&cid)?,
        cid,
    };
    Ok(Some((request, expected)))
}

/// A verified upload, under tmp/ until it is staged or stored.
struct Received {
    temp: TempFile,
    bytes: u64,
}

/// An upload that is not the ciphertext it must be, as the uploader reads it.
fn does_not_match(error: OpenError) -> Problem {
    match error {
        OpenError::Decrypt(e) => unprocessable(
            "does-not-decrypt",
            format!("the ciphertext does not decrypt under the wrapped key for this record: {e}"),
        ),
        OpenError::Incomplete(e) => unprocessable(
            "does-not-decrypt",
            format!("the ciphertext is incomplete or altered: {e}"),
        ),
        OpenError::Sha256 { actual, expected } => unprocessable(
            "sha256-mismatch",
            format!(
                "the ciphertext's SHA-256 is {}, the anchor's {}",
                hex(&actual),
                hex(&expected)
            ),
        ),
        OpenError::Cid => unprocessable(
            "cid-mismatch",
            "the ciphertext's CID is not the anchored CID".into(),
        ),
        // computing the CID failed: not a property of the bytes
        OpenError::Dag(e) => Problem::internal(e),
    }
}

impl<V: LedgerView> Gateway<V> {
    /// Reads an upload's body into tmp/, checking as it arrives that it decrypts under `key`
    /// as `expected.identity`, at the required rate; then that it hashes to `expected`.
    async fn receive(
        &self,
        body: Body,
        key: &DataKey,
        expected: &Expected,
    ) -> Result<Received, Problem> {
        let (path, file) = self.store.temp_file().map_err(Problem::internal)?;
        let temp = TempFile(Some(path));
        let mut out = std::io::BufWriter::with_capacity(256 << 10, file);
        let mut opener = Opener::new(expected, key);
        let rate = self.limits.min_upload_rate;
        let mut total: u64 = 0;
        let started = tokio::time::Instant::now();
        // the header up to its chunk size, read by the envelope's own parser
        let mut header = Vec::with_capacity(envelope::SIZED_PREFIX_LEN);
        let mut stream = body.into_data_stream();
        loop {
            // when the bytes so far stop covering `rate` per second since the start (less the
            // grace), the upload has not earned its slot: a timer, so a trickle cannot wait
            let earned = started
                + self.limits.upload_grace
                + Duration::from_micros(total.saturating_mul(1_000_000) / rate);
            let idle = tokio::time::Instant::now() + self.limits.idle;
            let next = match tokio::time::timeout_at(earned.min(idle), stream.next()).await {
                Ok(next) => next,
                Err(_) if earned <= idle => {
                    return Err(slow(format!(
                    "the upload fell below {} KiB/s ({total} bytes in {} s): it gave up its slot",
                    rate / 1024,
                    started.elapsed().as_secs()
                )))
                }
                Err(_) => {
                    return Err(slow(format!(
                        "no data for {} s",
                        self.limits.idle.as_secs()
                    )))
                }
            };
            let Some(piece) = next else { break };
            let piece = piece.map_err(|e| {
                Problem::bad_request("broken-body", format!("the upload broke off: {e}"))
            })?;
            total += piece.len() as u64;
            if total > self.limits.max_upload {
                return Err(too_large(self.limits.max_upload));
            }
            // careledger writes 64 KiB chunks; smaller ones only multiply the work
            if header.len() < envelope::SIZED_PREFIX_LEN {
                let want = envelope::SIZED_PREFIX_LEN - header.len();
                header.extend_from_slice(&piece[..want.min(piece.len())]);
                let declared = envelope::declared_chunk_size(&header);
                if declared.is_some_and(|size| size != envelope::CHUNK_SIZE as u32) {
                    return Err(unprocessable(
                        "bad-chunk-size",
                        format!(
                            "this gateway stores ciphertexts of {} KiB chunks",
                            envelope::CHUNK_SIZE / 1024
                        ),
                    ));
                }
            }
            opener.update(&piece, |_| Ok(())).map_err(does_not_match)?;
            out.write_all(&piece).map_err(Problem::internal)?;
        }
        opener.finish(|_| Ok(())).map_err(does_not_match)?;
        out.flush().map_err(Problem::internal)?;
        drop(out);
        Ok(Received { temp, bytes: total })
    }

    /// Takes an upload slot for `author`, or says the gateway is busy, or that this author's
    /// last upload was too slow to be given another one yet.
    fn upload_slot(&self, author: &Pubkey) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
        let now = unix_now();
        let until = self
            .cooling
            .lock()
            .map_err(|_| Problem::internal("cool-off table poisoned"))?
            .get(author)
            .copied()
            .filter(|until| *until > now);
        if let Some(until) = until {
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Upload too slow",
                format!(
                    "the last upload by {author} fell below {} KiB/s: this wallet may upload again in {} s",
                    self.limits.min_upload_rate / 1024,
                    until - now
                ),
            ));
        }
        self.uploads.clone().try_acquire_owned().map_err(|_| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "Too many uploads",
                format!(
                    "{} uploads are in progress: try again shortly",
                    self.limits.max_uploads
                ),
            )
        })
    }

    /// Bars `author` from a new upload for a while: its upload fell below the rate.
    fn cool_off(&self, author: &Pubkey) {
        let now = unix_now();
        if let Ok(mut cooling) = self.cooling.lock() {
            // expired entries go when the table grows: it holds at most the authors cut in
            // the last `slow_cool_off_secs`
            if cooling.len() >= 1024 {
                cooling.retain(|_, until| *until > now);
            }
            cooling.insert(*author, now.saturating_add(self.limits.slow_cool_off_secs));
        }
    }

    /// [`Gateway::receive`] for `author`, who cools off if its upload was too slow.
    async fn receive_for(
        &self,
        author: &Pubkey,
        body: Body,
        key: &DataKey,
        expected: &Expected,
    ) -> Result<Received, Problem> {
        let received = self.receive(body, key, expected).await;
        if received.as_ref().is_err_and(|p| p.slug == "slow-request") {
            self.cool_off(author);
        }
        received
    }

    /// Forgets staged uploads whose anchor did not come in time.
    fn sweep(&self, now: i64) {
        if let Ok(mut staged) = self.staged.lock() {
            staged.retain(|_, s| {
                let live = s.staged_at.saturating_add(self.limits.staged_ttl_secs) >= now;
                if !live {
                    let _ = std::fs::remove_file(&s.path);
                }
                live
            });
        }
    }

    /// Promotes `anchor.author`'s staged upload of `record` to stored if the anchor is the
    /// one it was staged for (same patient, index, class, SHA-256 and CID, current, version
    /// 1). Any other upload staged for the record can never match now and is dropped.
    pub(super) fn promote(
        &self,
        record: &Pubkey,
        anchor: &RecordAnchor,
    ) -> Result<Option<StoredRecord>, Problem> {
        let entry = {
            let mut staged = self
                .staged
                .lock()
                .map_err(|_| Problem::internal("staged table poisoned"))?;
            let entry = staged.remove(&(*record, anchor.author));
            staged.retain(|(r, _), s| {
                if r == record {
                    let _ = std::fs::remove_file(&s.path);
                }
                r != record
            });
            entry
        };
        let Some(entry) = entry else { return Ok(None) };
        let matches = anchor.status == RecordStatus::Current
            && anchor.version == 1
            && anchor.patient == entry.patient
            && anchor.index == entry.index
            && anchor.class == entry.class
            && anchor.content_sha256 == entry.sha256
            && anchor.cid.to_bytes() == entry.cid;
        if !matches {
            let _ = std::fs::remove_file(&entry.path);
            return Ok(None);
        }
        let meta = StoredRecord {
            record: record.to_string(),
            cid: cids::cid_to_string(&anchor.cid),
            sha256: hex(&entry.sha256),
            bytes: entry.bytes,
            author: anchor.author.to_string(),
            wrapped_key: b64().encode(&entry.wrapped_key),
            custody_key: entry.custody_key.clone(),
            stored_at: unix_now(),
        };
        if let Err(e) = self.store.commit(&entry.path, &meta) {
            if entry.path.exists() {
                if let Ok(mut staged) = self.staged.lock() {
                    staged.insert((*record, anchor.author), entry);
                }
            }
            return Err(Problem::internal(e));
        }
        Ok(Some(meta))
    }
}

/// The data key from the wrapped-key header, unwrapped with the custodian's current key.
fn unwrap_custody<V>(
    gw: &Gateway<V>,
    headers: &HeaderMap,
    record: &Pubkey,
) -> Result<(Vec<u8>, DataKey), Problem> {
    let wrapped = b64()
        .decode(header(headers, WRAPPED_KEY_HEADER)?)
        .map_err(|_| {
            Problem::bad_request("bad-header", format!("{WRAPPED_KEY_HEADER} is not base64"))
        })?;
    let key = envelope::unwrap_key(
        &gw.secret,
        &envelope::custody_info(&careledger_sdk::program::ID, record),
        &wrapped,
    )
    .map_err(|e| {
        unprocessable(
            "bad-wrapped-key",
            format!("the data key is not wrapped to this gateway's key for this record: {e}"),
        )
    })?;
    Ok((wrapped, key))
}

/// `PUT /v1/records/{record}`.
pub async fn upload<V: LedgerView>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let message = gw.signed_for_record(&headers, &record, wire::upload_record_of)?;
    let author = message.address;
    declared_length(&headers, gw.limits.max_upload)?;
    if let Some((staging, expected)) = staging_of(&headers, &record, &author)? {
        return stage(&gw, &message, staging, expected, &headers, body).await;
    }
    let anchor = release::clear_upload(&gw.view, &record, &author)
        .await
        .map_err(Problem::ledger)??;
    if let Some(stored) = gw.store.record(&record).map_err(Problem::internal)? {
        return already(&record, &stored, &anchor);
    }
    // staged before the anchor, and the anchor now matches: nothing to read again
    if let Some(stored) = gw.promote(&record, &anchor)? {
        gw.use_nonce(&message)?;
        return Ok(stored_now(&record, &stored));
    }
    let (wrapped, key) = unwrap_custody(&gw, &headers, &record)?;
    let expected = expected_of_anchor(&anchor)?;
    let _slot = gw.upload_slot(&author)?;
    let _claim = UploadClaim::take(&gw.in_flight, record, author)?;
    let received = gw.receive_for(&author, body, &key, &expected).await?;
    gw.use_nonce(&message)?;
    let meta = StoredRecord {
        record: record.to_string(),
        cid: cids::cid_to_string(&anchor.cid),
        sha256: hex(&anchor.content_sha256),
        bytes: received.bytes,
        author: author.to_string(),
        wrapped_key: b64().encode(&wrapped),
        custody_key: b64().encode(gw.secret.public()),
        stored_at: unix_now(),
    };
    let temp = received.temp;
    gw.store
        .commit(temp.0.as_deref().unwrap_or(std::path::Path::new("")), &meta)
        .map_err(Problem::internal)?;
    let _ = temp.keep();
    Ok(stored_now(&record, &meta))
}

fn stored_now(record: &Pubkey, stored: &StoredRecord) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({"record": record.to_string(), "cid": stored.cid, "bytes": stored.bytes, "stored": "now"})),
    )
        .into_response()
}

/// An upload or a confirm for a record already stored: fine if it is these bytes.
fn already(
    record: &Pubkey,
    stored: &StoredRecord,
    anchor: &RecordAnchor,
) -> Result<Response, Problem> {
    if stored.sha256 == hex(&anchor.content_sha256) {
        Ok((
            StatusCode::OK,
            Json(json!({"record": record.to_string(), "cid": stored.cid, "bytes": stored.bytes, "stored": "already"})),
        )
            .into_response())
    } else {
        Err(Problem::new(
            StatusCode::CONFLICT,
            "already-stored",
            "Already stored",
            format!("record {record} is stored here with other bytes"),
        ))
    }
}

/// An upload before its anchor: the uploader must have the standing `record_anchor` will ask
/// of it, for the patient's next record; the bytes are verified as for a stored one, against
/// the identity, SHA-256 and CID the author declared, and wait in staged/ for the anchor.
async fn stage<V: LedgerView>(
    gw: &Gateway<V>,
    message: &careledger_identity::siws::SignInMessage,
    staging: StagingRequest,
    expected: Expected,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let record = staging.record();
    let author = staging.uploader;
    release::clear_staging(&gw.view, &staging)
        .await
        .map_err(Problem::ledger)??;
    let (wrapped, key) = unwrap_custody(gw, headers, &record)?;
    let now = unix_now();
    gw.sweep(now);
    let mine = gw
        .staged
        .lock()
        .map_err(|_| Problem::internal("staged table poisoned"))?
        .keys()
        .filter(|(r, a)| *a == author && *r != record)
        .count();
    if mine >= gw.limits.max_staged_per_author {
        return Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-staged",
            "Too many staged uploads",
            format!(
                "{author} has {mine} uploads waiting for their anchor: anchor them (or wait {} s for them to expire)",
                gw.limits.staged_ttl_secs
            ),
        ));
    }
    let _slot = gw.upload_slot(&author)?;
    let _claim = UploadClaim::take(&gw.in_flight, record, author)?;
    let received = gw.receive_for(&author, body, &key, &expected).await?;
    gw.use_nonce(message)?;
    let temp = received.temp;
    let path = gw
        .store
        .stage(
            temp.0.as_deref().unwrap_or(std::path::Path::new("")),
            &record,
            &author,
        )
        .map_err(Problem::internal)?;
    let _ = temp.keep();
    let cid = careledger_sdk::program::logic::cid::parse_cid(&expected.cid)
        .map(|c| cids::cid_to_string(&c))
        .unwrap_or_default();
    gw.staged
        .lock()
        .map_err(|_| Problem::internal("staged table poisoned"))?
        .insert(
            (record, author),
            Staged {
                patient: staging.patient,
                index: staging.index,
                class: staging.class,
                cid: expected.cid,
                sha256: expected.sha256,
                bytes: received.bytes,
                wrapped_key: wrapped,
                custody_key: b64().encode(gw.secret.public()),
                path,
                staged_at: now,
            },
        );
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "record": record.to_string(),
            "cid": cid,
            "bytes": received.bytes,
            "stored": "staged",
            "expires_in_secs": gw.limits.staged_ttl_secs,
        })),
    )
        .into_response())
}

/// `POST /v1/records/{record}/confirm`: the author, once it anchored, asks for its staged
/// upload to be stored. Signed like an upload; the chain decides.
pub async fn confirm<V: LedgerView + 'static>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let message = gw.signed_for_record(&headers, &record, wire::upload_record_of)?;
    let anchor = release::clear_upload(&gw.view, &record, &message.address)
        .await
        .map_err(Problem::ledger)??;
    if let Some(stored) = gw.store.record(&record).map_err(Problem::internal)? {
        return already(&record, &stored, &anchor);
    }
    gw.sweep(unix_now());
    // staged here, or (behind one address) at another replica, which hands it on
    match gw.stored_or_pulled(&record, &anchor).await? {
        Some(stored) => {
            gw.use_nonce(&message)?;
            Ok(stored_now(&record, &stored))
        }
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-staged",
            "Nothing staged",
            format!(
                "no upload of yours staged here matches record {record}'s anchor (it expired, or the gateway restarted): upload it again"
            ),
        )),
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
    fn an_upload_declares_a_bounded_size() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            declared_length(&headers, 100).unwrap_err().slug,
            "length-required"
        );
        headers.insert("content-length", "101".parse().unwrap());
        assert_eq!(
            declared_length(&headers, 100).unwrap_err().slug,
            "upload-too-large"
        );
        headers.insert("content-length", "100".parse().unwrap());
        assert_eq!(declared_length(&headers, 100).unwrap(), 100);
        headers.insert("transfer-encoding", "chunked".parse().unwrap());
        assert_eq!(
            declared_length(&headers, 100).unwrap_err().slug,
            "length-required"
        );
        assert_eq!(parse_hex32(&"ab".repeat(32)), Some([0xab; 32]));
        assert_eq!(parse_hex32("zz"), None);
    }
}
