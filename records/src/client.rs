//! The client side of the record gateway: storing a record's ciphertext, probing, and
//! receiving a release, over the [`crate::protocol`] the server speaks too. `careledger
//! patient put` / `provider get`, the demo and the records benchmark use it.
use crate::envelope::{self, DataKey, KeyAgreementSecret};
use crate::open::{Expected, OpenError, Opener};
use crate::protocol::{self as wire, base64 as b64, hex, ReleaseRequest, StagingRequest};
use crate::RecordsError;
use base64::Engine;
use careledger::state::RecordAnchor;
use careledger_identity::siws::{issued_now, new_nonce, SignInMessage};
use futures_util::StreamExt;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

/// Why a gateway request failed. The messages are what `careledger` prints.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("--gateway {url} is not a URL ({reason}); e.g. http://127.0.0.1:8080")]
    BadUrl { url: String, reason: String },
    #[error("--gateway {0} is not an http:// or https:// URL")]
    NotHttp(String),
    #[error("--gateway {0} has no host")]
    NoHost(String),
    #[error("cannot reach the gateway {base}: {reason}")]
    Unreachable { base: String, reason: String },
    #[error("{base} did not answer as a careledger gateway ({reason})")]
    NotAGateway { base: String, reason: String },
    #[error("the gateway {base} serves another program ({program})")]
    AnotherProgram { base: String, program: String },
    #[error("the gateway names no custodian wallet")]
    NoCustodian,
    #[error("the gateway gives no X25519 key")]
    NoX25519,
    /// The gateway answered with a problem.
    #[error("{0}")]
    Refused(Refusal),
    #[error("the gateway {0} stayed busy")]
    Busy(String),
    #[error("the upload to {base} failed: {reason}")]
    UploadFailed { base: String, reason: String },
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the gateway sent no wrapped key")]
    NoWrappedKey,
    #[error("the anchored CID is not a UnixFS file CID")]
    UnknownProfile,
    #[error("the release broke off: {0}; nothing was written")]
    BrokeOff(String),
    /// No `--ipfs` gateway gave the anchored ciphertext, each for its reason.
    #[error("no IPFS gateway gave the anchored ciphertext {cid}: {}", .reasons.join("; "))]
    NotOnIpfs { cid: String, reasons: Vec<String> },
    #[error("--ipfs {url} is not an http:// or https:// URL")]
    BadIpfsUrl { url: String },
    #[error("the gateway's key-only answer is not what it should be: {0}")]
    BadKeyRelease(String),
    /// The released bytes are not the anchored ciphertext.
    #[error("{}; nothing was written", grantee_words(.0))]
    NotTheAnchored(OpenError),
    // Where a release is written.
    #[error("--out {out} is a directory: name a file in it, e.g. --out {example}")]
    OutIsDirectory { out: String, example: String },
    #[error("{0} exists: pass --force to replace it")]
    OutExists(String),
    #[error("--out {0} names no file")]
    OutNamesNoFile(String),
    #[error("--out's file name is {0} bytes long; file names are at most 255 bytes")]
    OutNameTooLong(usize),
    #[error("the directory {0} does not exist")]
    NoDirectory(String),
    #[error("cannot create a file in {dir}: {reason}")]
    CannotCreate { dir: String, reason: String },
    #[error("cannot write {out}: {reason}")]
    CannotWrite { out: String, reason: String },
    /// Signing a request, wrapping or unwrapping a key.
    #[error("{0}")]
    Records(RecordsError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl GatewayError {
    /// The gateway's own refusal, when that is what this is.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            GatewayError::Refused(r) => Some(r),
            _ => None,
        }
    }
}

// Not `#[from]`: that would make the records error a source too, and a caller that shows an
// error with its sources would print it twice. Every message here is whole on its own.
impl From<RecordsError> for GatewayError {
    fn from(error: RecordsError) -> Self {
        GatewayError::Records(error)
    }
}

type Result<T, E = GatewayError> = std::result::Result<T, E>;

/// How a long transfer is shown while a release arrives: the CLI draws a bar; a service shows
/// nothing (the default).
pub trait Progress: Send {
    fn advance(&mut self, bytes: u64);
    /// The transfer completed.
    fn finish(&mut self) {}
}

impl Progress for () {
    fn advance(&mut self, _: u64) {}
}

/// Makes the [`Progress`] of a transfer of `total` bytes (0 when unknown).
pub type ProgressFactory = Arc<dyn Fn(u64) -> Box<dyn Progress> + Send + Sync>;

/// What `/v1/gateway` says about itself. Unsigned: an author trusts it for nothing it does
/// not check against the chain.
pub struct GatewayInfo {
    pub custodian: Pubkey,
    /// The X25519 key it claims: check it against the custodian's published key.
    pub x25519: [u8; 32],
    /// The largest ciphertext it stores.
    pub max_upload: u64,
    /// The domain it verifies signed requests for (behind a proxy, or reached as `localhost`,
    /// not the host in the URL).
    pub domain: String,
    /// How old an access event may be at release.
    pub max_event_age_secs: i64,
}

/// A gateway at a base URL. Requests are signed for the domain the gateway announces in
/// `GET /v1/gateway` (its host:port by default): read by [`GatewayClient::info`], which every
/// caller asks first. The domain binds a signed request to one gateway, so that another cannot
/// replay it; the gateway it binds to is the one this client was pointed at, whatever name
/// reaches it.
pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
    domain: std::sync::RwLock<String>,
    progress: ProgressFactory,
}

/// A refusal, as the gateway gave it.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    /// The problem type's last segment, e.g. `not-stored`.
    pub slug: String,
    pub detail: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the gateway refused ({} {}): {}",
            self.status, self.slug, self.detail
        )
    }
}

impl std::error::Error for Refusal {}

/// A problem+json answer, read.
pub async fn refusal(response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let parsed = serde_json::from_str::<Value>(&text).ok();
    let detail = parsed
        .as_ref()
        .and_then(|v| v["detail"].as_str().map(str::to_string))
        .unwrap_or(text);
    let slug = parsed
        .as_ref()
        .and_then(|v| v["type"].as_str())
        .map(wire::problem_slug)
        .unwrap_or_default()
        .to_string();
    Refusal {
        status,
        slug,
        detail,
    }
}

/// A problem+json answer, as an error.
async fn problem(response: reqwest::Response) -> GatewayError {
    GatewayError::Refused(refusal(response).await)
}

/// What a probe learned.
pub enum Probe {
    /// The gateway holds the record's ciphertext (its CID).
    Held { cid: String },
    /// The gateway answered, and refused or does not hold it.
    Refused(Refusal),
}

/// A release that failed. Nothing is used up by a release: unless the gateway refused it for
/// good (a revoked or replaced grant), the same access event can be presented again, to any
/// replica, while it is recent.
#[derive(Debug)]
pub struct ReleaseFailure {
    pub error: GatewayError,
}

impl std::fmt::Display for ReleaseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", chain(&self.error))
    }
}

/// An error and its sources, joined by ": " (as `anyhow` shows one with `{:#}`).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl std::error::Error for ReleaseFailure {}

impl From<GatewayError> for ReleaseFailure {
    fn from(error: GatewayError) -> Self {
        ReleaseFailure { error }
    }
}

/// Where a release is written: a new 0600 file with a random name beside `out`, made before
/// anything is logged on chain, so that a missing or unwritable directory, a name the file
/// system refuses, or a directory named as `out` is found first. It becomes `out` only once the
/// record checks out; nothing someone else put there is ever written through.
pub struct Destination {
    partial: tempfile::NamedTempFile,
    out: PathBuf,
    replace: bool,
}

impl Destination {
    pub fn prepare(out: &Path, replace: bool) -> Result<Destination> {
        if out.is_dir() {
            return Err(GatewayError::OutIsDirectory {
                out: out.display().to_string(),
                example: out.join("record").display().to_string(),
            });
        }
        if out.exists() && !replace {
            return Err(GatewayError::OutExists(out.display().to_string()));
        }
        let name = out
            .file_name()
            .ok_or_else(|| GatewayError::OutNamesNoFile(out.display().to_string()))?;
        // NAME_MAX on Linux and macOS file systems
        if name.len() > 255 {
            return Err(GatewayError::OutNameTooLong(name.len()));
        }
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(GatewayError::NoDirectory(dir.display().to_string()));
        }
        // the partial file's name carries at most the first 64 characters of the name
        let short: String = name.to_string_lossy().chars().take(64).collect();
        let partial = tempfile::Builder::new()
            .prefix(&format!(".{short}."))
            .suffix(".careledger-partial")
            .tempfile_in(dir)
            .map_err(|e| GatewayError::CannotCreate {
                dir: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Destination {
            partial,
            out: out.to_path_buf(),
            replace,
        })
    }
}

impl Destination {
    /// The directory the record will be written to (scratch files go there too).
    pub fn dir(&self) -> PathBuf {
        self.partial
            .path()
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    /// Makes the checked partial file `out`: durable first, then renamed into place.
    fn persist(self) -> Result<()> {
        let Destination {
            partial,
            out,
            replace,
        } = self;
        partial.as_file().sync_all()?;
        if replace {
            partial.persist(&out)
        } else {
            partial.persist_noclobber(&out)
        }
        .map_err(|e| GatewayError::CannotWrite {
            out: out.display().to_string(),
            reason: e.error.to_string(),
        })?;
        Ok(())
    }
}

/// A record's ciphertext fetched by CID from an IPFS trustless gateway, every block checked
/// against its CID and its place in the DAG: a scratch file beside the destination, removed
/// when dropped. Its SHA-256 and CID are checked once more, against the anchor, as it is
/// decrypted ([`GatewayClient::release_key_and_open`]).
pub struct Fetched {
    pub file: tempfile::NamedTempFile,
    /// The gateway it came from.
    pub from: String,
    pub bytes: u64,
}

/// The longest one gateway may take to give a whole record (4 GiB at 8 MiB/s).
pub const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(512);

/// Fetches the ciphertext anchored in `anchor` as a CAR (`/ipfs/{cid}?format=car`) from the
/// first of `gateways` that gives it whole and verified, into a scratch file in `dir`. At
/// most `max_bytes` of file are accepted from any gateway. Needs no key and logs nothing:
/// run it before an access is logged on chain.
pub async fn fetch_from_ipfs(
    gateways: &[String],
    anchor: &RecordAnchor,
    dir: &Path,
    max_bytes: u64,
    read_timeout: std::time::Duration,
) -> Result<Fetched> {
    fetch_cid_from_ipfs(
        gateways,
        &anchor.cid.to_bytes(),
        dir,
        max_bytes,
        read_timeout,
    )
    .await
}

/// [`fetch_from_ipfs`] by the binary CID alone (a UnixFS file's root): `patient put` and
/// `patient publish` read a record back from its custodian's gateway before they publish it.
pub async fn fetch_cid_from_ipfs(
    gateways: &[String],
    root: &[u8],
    dir: &Path,
    max_bytes: u64,
    read_timeout: std::time::Duration,
) -> Result<Fetched> {
    let root = root.to_vec();
    let cid = crate::trustless::cid_text(&root)?;
    // a gateway that stalls is passed over: 10 s to connect, `read_timeout` at most between
    // two reads of its answer, and FETCH_TIMEOUT in all
    let http = reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(read_timeout)
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|e| GatewayError::Records(RecordsError::InvalidInput(e.to_string())))?;
    let mut reasons = Vec::new();
    for base in gateways {
        let parsed = reqwest::Url::parse(base).ok();
        if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(GatewayError::BadIpfsUrl { url: base.clone() });
        }
        match fetch_one(
            &http,
            base.trim_end_matches('/'),
            &cid,
            &root,
            dir,
            max_bytes,
        )
        .await
        {
            Ok((file, bytes)) => {
                return Ok(Fetched {
                    file,
                    from: base.clone(),
                    bytes,
                })
            }
            Err(reason) => reasons.push(format!("{base}: {reason}")),
        }
    }
    Err(GatewayError::NotOnIpfs { cid, reasons })
}

/// One gateway's CAR of `root`, checked into a scratch file; the reason it is not, otherwise.
async fn fetch_one(
    http: &reqwest::Client,
    base: &str,
    cid: &str,
    root: &[u8],
    dir: &Path,
    max_bytes: u64,
) -> std::result::Result<(tempfile::NamedTempFile, u64), String> {
    let url = format!("{base}/ipfs/{cid}?format=car");
    let response = http
        .get(&url)
        .header(reqwest::header::ACCEPT, crate::trustless::CAR_TYPE)
        .send()
        .await
        .map_err(|e| format!("unreachable ({})", chain(&e)))?;
    if !response.status().is_success() {
        let status = response.status();
        // a gateway's own words, when it gives a problem (ours do) or a short text
        let detail = response
            .text()
            .await
            .ok()
            .map(|body| {
                serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["detail"].as_str().map(str::to_string))
                    .unwrap_or(body)
            })
            .map(|d| d.trim().chars().take(200).collect::<String>())
            .filter(|d| !d.is_empty())
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let hint = if base.ends_with("/ipfs") {
            " (give the gateway's root URL, without /ipfs: the CID path is added)"
        } else {
            ""
        };
        return Err(format!("GET {url} answered {status}{detail}{hint}"));
    }
    let stream = response
        .bytes_stream()
        .map(|piece| piece.map_err(std::io::Error::other));
    let reader = tokio_util::io::StreamReader::new(stream);
    let mut out = tempfile::Builder::new()
        .prefix(".ipfs.")
        .suffix(".careledger-partial")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a scratch file in {}: {e}", dir.display()))?;
    let root = root.to_vec();
    let handle = tokio::runtime::Handle::current();
    let (out, written) = tokio::task::spawn_blocking(move || {
        let bridge = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle);
        let mut writer = std::io::BufWriter::with_capacity(1 << 20, out.as_file_mut());
        let written = crate::trustless::extract_car(bridge, &root, max_bytes, &mut writer)
            .map_err(|e| e.to_string())?;
        writer.flush().map_err(|e| e.to_string())?;
        drop(writer);
        Ok::<_, String>((out, written))
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok((out, written))
}

impl GatewayClient {
    pub fn new(url: &str) -> Result<GatewayClient> {
        GatewayClient::with_http(url, reqwest::Client::new())
    }

    /// A client whose every request is bounded: `connect` to connect, `total` in all (for a
    /// server asking another, which must not wait on a stalled peer).
    pub fn bounded(
        url: &str,
        connect: std::time::Duration,
        total: std::time::Duration,
    ) -> Result<GatewayClient> {
        // no redirects: a signed request goes to the server named, and nowhere else
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(total)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GatewayError::Records(RecordsError::InvalidInput(e.to_string())))?;
        GatewayClient::with_http(url, http)
    }

    fn with_http(url: &str, http: reqwest::Client) -> Result<GatewayClient> {
        let parsed = reqwest::Url::parse(url).map_err(|e| GatewayError::BadUrl {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(GatewayError::NotHttp(url.to_string()));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| GatewayError::NoHost(url.to_string()))?;
        let domain = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Ok(GatewayClient {
            http,
            base: url.trim_end_matches('/').to_string(),
            domain: std::sync::RwLock::new(domain),
            progress: Arc::new(|_| Box::new(())),
        })
    }

    /// Shows each release's transfer through `progress` (a bar, in the CLI).
    pub fn with_progress(
        mut self,
        progress: impl Fn(u64) -> Box<dyn Progress> + Send + Sync + 'static,
    ) -> GatewayClient {
        self.progress = Arc::new(progress);
        self
    }

    fn unreachable(&self, e: reqwest::Error) -> GatewayError {
        GatewayError::Unreachable {
            base: self.base.clone(),
            reason: e.to_string(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The domain requests are signed for.
    pub fn domain(&self) -> String {
        self.domain.read().map(|d| d.clone()).unwrap_or_default()
    }

    pub async fn info(&self) -> Result<GatewayInfo> {
        let response = self
            .http
            .get(format!("{}{}", self.base, wire::INFO_PATH))
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if !response.status().is_success() {
            return Err(problem(response).await);
        }
        let info: Value = response
            .json()
            .await
            .map_err(|e| GatewayError::NotAGateway {
                base: self.base.clone(),
                reason: e.to_string(),
            })?;
        if info["program"].as_str() != Some(&careledger::ID.to_string()) {
            return Err(GatewayError::AnotherProgram {
                base: self.base.clone(),
                program: info["program"].to_string(),
            });
        }
        let custodian = info["custodian"]
            .as_str()
            .and_then(|s| Pubkey::from_str(s).ok())
            .ok_or(GatewayError::NoCustodian)?;
        let x25519: [u8; 32] = info["x25519"]
            .as_str()
            .and_then(|s| b64().decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(GatewayError::NoX25519)?;
        let max_upload = info["max_upload_bytes"].as_u64().unwrap_or(u64::MAX);
        let domain = info["domain"]
            .as_str()
            .filter(|d| !d.is_empty() && !d.contains(char::is_whitespace))
            .map(str::to_string)
            .unwrap_or_else(|| self.domain());
        if let Ok(mut d) = self.domain.write() {
            d.clone_from(&domain);
        }
        Ok(GatewayInfo {
            custodian,
            x25519,
            max_upload,
            domain,
            max_event_age_secs: info["max_event_age_secs"]
                .as_i64()
                .unwrap_or(wire::DEFAULT_MAX_EVENT_AGE_SECS),
        })
    }

    /// The sign-in headers of an upload or a confirm by `author` for `record`.
    fn upload_sign_in(&self, author: &Keypair, record: &Pubkey) -> Result<(String, String)> {
        let message = wire::upload_message(
            &self.domain(),
            &author.pubkey(),
            record,
            new_nonce(),
            issued_now(),
        );
        let signature = message.sign(author).map_err(RecordsError::from)?;
        Ok((b64().encode(message.to_text()), signature.to_string()))
    }

    /// Stores a record's ciphertext (`bytes` long, at `ciphertext`), signed for by its author,
    /// with its data key wrapped to the gateway's key `gateway_key`, after the record was
    /// anchored. A busy gateway (503) is asked again, twice, with a freshly signed message.
    pub async fn upload(
        &self,
        author: &Keypair,
        record: &Pubkey,
        ciphertext: &Path,
        bytes: u64,
        key: &DataKey,
        gateway_key: &[u8; 32],
    ) -> Result<()> {
        let info = envelope::custody_info(&careledger::ID, record);
        let wrapped = envelope::wrap_key(gateway_key, &info, key)?;
        let body = Body {
            path: ciphertext,
            offset: 0,
            bytes,
        };
        self.put(author, record, &body, &wrapped, None).await
    }

    /// Uploads a ciphertext before its anchor: the gateway checks the author's standing for
    /// the patient's next record, that it decrypts as `staging`'s record under the wrapped key
    /// and hashes to `sha256` and `cid`, and keeps it until the anchor comes.
    #[allow(clippy::too_many_arguments)]
    pub async fn stage(
        &self,
        author: &Keypair,
        staging: &StagingRequest,
        body: &Body<'_>,
        wrapped: &[u8],
        cid: &str,
        sha256: &[u8; 32],
    ) -> Result<()> {
        let declared = Declared {
            staging,
            cid,
            sha256,
        };
        self.put(author, &staging.record(), body, wrapped, Some(&declared))
            .await
    }

    /// After the anchor, stores the same ciphertext straight away (a staged one expired).
    pub async fn upload_wrapped(
        &self,
        author: &Keypair,
        record: &Pubkey,
        body: &Body<'_>,
        wrapped: &[u8],
    ) -> Result<()> {
        self.put(author, record, body, wrapped, None).await
    }

    async fn put(
        &self,
        author: &Keypair,
        record: &Pubkey,
        body: &Body<'_>,
        wrapped: &[u8],
        declared: Option<&Declared<'_>>,
    ) -> Result<()> {
        for attempt in 1..=3u64 {
            let response = self
                .put_once(author, record, body, wrapped, declared)
                .await?;
            if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE && attempt < 3 {
                tokio::time::sleep(std::time::Duration::from_secs(attempt)).await;
                continue;
            }
            if !response.status().is_success() {
                return Err(problem(response).await);
            }
            return Ok(());
        }
        Err(GatewayError::Busy(self.base.clone()))
    }

    async fn put_once(
        &self,
        author: &Keypair,
        record: &Pubkey,
        body: &Body<'_>,
        wrapped: &[u8],
        declared: Option<&Declared<'_>>,
    ) -> Result<reqwest::Response> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let (sign_in, signature) = self.upload_sign_in(author, record)?;
        let mut file = tokio::fs::File::open(body.path)
            .await
            .map_err(|e| GatewayError::Read {
                path: body.path.display().to_string(),
                reason: e.to_string(),
            })?;
        file.seek(std::io::SeekFrom::Start(body.offset)).await?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(body.bytes), 1 << 20);
        let mut request = self
            .http
            .put(format!(
                "{}{}",
                self.base,
                wire::path_of(wire::RECORD_PATH, record)
            ))
            .header(wire::SIGN_IN_HEADER, sign_in)
            .header(wire::SIGNATURE_HEADER, signature)
            .header(wire::WRAPPED_KEY_HEADER, b64().encode(wrapped))
            .header(reqwest::header::CONTENT_LENGTH, body.bytes);
        if let Some(d) = declared {
            request = request
                .header(wire::PATIENT_HEADER, d.staging.patient.to_string())
                .header(wire::INDEX_HEADER, d.staging.index.to_string())
                .header(wire::CLASS_HEADER, d.staging.class.to_string())
                .header(wire::CID_HEADER, d.cid)
                .header(wire::SHA256_HEADER, hex(d.sha256));
            if let Some(grant) = d.staging.grant {
                request = request.header(wire::GRANT_HEADER, grant.to_string());
            }
        }
        request
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(|e| GatewayError::UploadFailed {
                base: self.base.clone(),
                reason: e.to_string(),
            })
    }

    /// `GET route` for `record`, with `message` signed by `signer` in the sign-in headers.
    async fn get_signed(
        &self,
        route: &str,
        record: &Pubkey,
        message: &SignInMessage,
        signer: &Keypair,
    ) -> Result<reqwest::Response> {
        let signature = message.sign(signer).map_err(RecordsError::from)?;
        self.http
            .get(format!("{}{}", self.base, wire::path_of(route, record)))
            .header(wire::SIGN_IN_HEADER, b64().encode(message.to_text()))
            .header(wire::SIGNATURE_HEADER, signature.to_string())
            .send()
            .await
            .map_err(|e| self.unreachable(e))
    }

    /// As another replica of this gateway's custodian (`custodian`, its wallet, signs): the
    /// custody file this gateway holds for `record` (JSON), or `None` when it holds none.
    pub async fn custody(&self, custodian: &Keypair, record: &Pubkey) -> Result<Option<Value>> {
        let message = wire::custody_message(
            &self.domain(),
            &custodian.pubkey(),
            record,
            new_nonce(),
            issued_now(),
        );
        let response = self
            .get_signed(wire::CUSTODY_PATH, record, &message, custodian)
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            let refused = refusal(response).await;
            return match refused.slug.as_str() {
                "not-stored" => Ok(None),
                _ => Err(GatewayError::Refused(refused)),
            };
        }
        if !response.status().is_success() {
            return Err(problem(response).await);
        }
        let custody = response
            .json()
            .await
            .map_err(|e| GatewayError::NotAGateway {
                base: self.base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Some(custody))
    }

    /// After anchoring: asks the gateway to store what was staged for `record`. A refusal is
    /// returned as it is (`not-staged`: upload again).
    pub async fn confirm(&self, author: &Keypair, record: &Pubkey) -> Result<(), ConfirmError> {
        let (sign_in, signature) = self
            .upload_sign_in(author, record)
            .map_err(ConfirmError::Other)?;
        let response = self
            .http
            .post(format!(
                "{}{}",
                self.base,
                wire::path_of(wire::CONFIRM_PATH, record)
            ))
            .header(wire::SIGN_IN_HEADER, sign_in)
            .header(wire::SIGNATURE_HEADER, signature)
            .send()
            .await
            .map_err(|e| ConfirmError::Other(self.unreachable(e)))?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(ConfirmError::Refused(refusal(response).await))
    }

    /// Asks, signed and without logging anything on chain, whether the gateway holds `record`
    /// (as its patient or author, or as the grantee of `grant`).
    pub async fn probe(
        &self,
        signer: &Keypair,
        record: &Pubkey,
        grant: Option<Pubkey>,
    ) -> Result<Probe> {
        let request = wire::ProbeRequest {
            signer: signer.pubkey(),
            record: *record,
            grant,
        };
        let message = wire::probe_message(&self.domain(), &request, new_nonce(), issued_now());
        let response = self
            .get_signed(wire::RECORD_PATH, record, &message, signer)
            .await?;
        if !response.status().is_success() {
            return Ok(Probe::Refused(refusal(response).await));
        }
        let cid = response
            .headers()
            .get(wire::CID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok(Probe::Held { cid })
    }

    /// Asks for a release against `request`'s access transaction, signed by the grantee, and
    /// writes the decrypted record to `out` only once it checks out against `anchor` (an
    /// existing `out` is replaced only if `replace`). Returns the plaintext's length.
    pub async fn release(
        &self,
        grantee: &Keypair,
        request: &ReleaseRequest,
        secret: &KeyAgreementSecret,
        anchor: &RecordAnchor,
        out: &Path,
        replace: bool,
    ) -> Result<u64> {
        let destination = Destination::prepare(out, replace)?;
        self.release_to(grantee, request, secret, anchor, destination)
            .await
            .map_err(|f| f.error)
    }

    /// [`GatewayClient::release`] into a destination prepared before the read was logged;
    /// a failure says why.
    pub async fn release_to(
        &self,
        grantee: &Keypair,
        request: &ReleaseRequest,
        secret: &KeyAgreementSecret,
        anchor: &RecordAnchor,
        destination: Destination,
    ) -> Result<u64, ReleaseFailure> {
        let response = self.send_release(grantee, request, false).await?;
        let wrapped = response
            .headers()
            .get(wire::WRAPPED_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| b64().decode(v).ok())
            .ok_or_else(|| ReleaseFailure::from(GatewayError::NoWrappedKey))?;
        let info = envelope::release_info(&careledger::ID, &request.record, &request.grant);
        let key = envelope::unwrap_key(secret, &info, &wrapped)
            .map_err(|e| ReleaseFailure::from(GatewayError::from(e)))?;
        let progress = (self.progress)(response.content_length().unwrap_or(0));
        let pieces = response
            .bytes_stream()
            .map(|piece| piece.map_err(|e| GatewayError::BrokeOff(e.to_string())));
        receive(pieces, anchor, &key, destination, progress)
            .await
            .map_err(ReleaseFailure::from)
    }

    /// Signs and sends a release request; the gateway's answer once it released.
    async fn send_release(
        &self,
        grantee: &Keypair,
        request: &ReleaseRequest,
        key_only: bool,
    ) -> Result<reqwest::Response, ReleaseFailure> {
        let message = wire::release_message(&self.domain(), request, new_nonce(), issued_now());
        let signature = message
            .sign(grantee)
            .map_err(|e| ReleaseFailure::from(GatewayError::from(RecordsError::from(e))))?;
        let mut url = format!(
            "{}{}",
            self.base,
            wire::path_of(wire::RELEASE_PATH, &request.record)
        );
        if key_only {
            url.push_str(&format!("?content={}", wire::KEY_ONLY));
        }
        let response = self
            .http
            .post(url)
            .json(&wire::ReleaseBody {
                message: message.to_text(),
                signature: signature.to_string(),
            })
            .send()
            .await
            .map_err(|e| ReleaseFailure::from(self.unreachable(e)))?;
        if !response.status().is_success() {
            return Err(problem(response).await.into());
        }
        Ok(response)
    }

    /// Asks for the data key alone (`?content=key`) against `request`'s access transaction,
    /// signed by the grantee, for the record anchored as `anchor`; the answer must name that
    /// record and its anchored CID. Returns the data key and the gateway's answer.
    pub async fn release_key(
        &self,
        grantee: &Keypair,
        request: &ReleaseRequest,
        secret: &KeyAgreementSecret,
        anchor: &RecordAnchor,
    ) -> Result<(DataKey, wire::KeyRelease), ReleaseFailure> {
        let response = self.send_release(grantee, request, true).await?;
        let answer: wire::KeyRelease = response
            .json()
            .await
            .map_err(|e| ReleaseFailure::from(GatewayError::BadKeyRelease(e.to_string())))?;
        let anchored = careledger_sdk::cid::cid_to_string(&anchor.cid);
        if answer.record != request.record.to_string() || answer.cid != anchored {
            return Err(ReleaseFailure::from(GatewayError::BadKeyRelease(format!(
                "it names record {} with CID {}, not record {} with the anchored {anchored}",
                answer.record, answer.cid, request.record
            ))));
        }
        let wrapped = b64()
            .decode(&answer.wrapped_key)
            .map_err(|_| ReleaseFailure::from(GatewayError::NoWrappedKey))?;
        let info = envelope::release_info(&careledger::ID, &request.record, &request.grant);
        let key = envelope::unwrap_key(secret, &info, &wrapped)
            .map_err(|e| ReleaseFailure::from(GatewayError::from(e)))?;
        Ok((key, answer))
    }

    /// [`GatewayClient::release_key`], then decrypts `fetched` (a ciphertext from IPFS) with
    /// the key into `destination`, which becomes `out` only once the ciphertext's SHA-256 and
    /// CID equal the anchor's and every chunk authenticated. Returns the plaintext's length.
    pub async fn release_key_and_open(
        &self,
        grantee: &Keypair,
        request: &ReleaseRequest,
        secret: &KeyAgreementSecret,
        anchor: &RecordAnchor,
        fetched: &Fetched,
        destination: Destination,
    ) -> Result<u64, ReleaseFailure> {
        let (key, _) = self.release_key(grantee, request, secret, anchor).await?;
        let file = tokio::fs::File::open(fetched.file.path())
            .await
            .map_err(|e| ReleaseFailure::from(GatewayError::from(e)))?;
        let pieces = tokio_util::io::ReaderStream::with_capacity(file, 1 << 20)
            .map(|piece| piece.map_err(GatewayError::Io));
        receive(pieces, anchor, &key, destination, Box::new(()))
            .await
            .map_err(ReleaseFailure::from)
    }
}

/// Where an upload's bytes are: `bytes` of the file at `path`, from `offset`.
pub struct Body<'a> {
    pub path: &'a Path,
    pub offset: u64,
    pub bytes: u64,
}

/// What a staged upload declares.
struct Declared<'a> {
    staging: &'a StagingRequest,
    cid: &'a str,
    sha256: &'a [u8; 32],
}

/// Why a confirm did not store the record.
#[derive(Debug)]
pub enum ConfirmError {
    Refused(Refusal),
    Other(GatewayError),
}

impl std::fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfirmError::Refused(r) => write!(f, "{r}"),
            ConfirmError::Other(e) => write!(f, "{}", chain(e)),
        }
    }
}

/// Decrypts a ciphertext as its pieces arrive (a release's body, or a file fetched from IPFS)
/// into the destination's partial file, and renames it into place only when the last chunk
/// authenticated and the ciphertext's SHA-256 and CID equal the anchor's ([`Opener`], the check
/// the gateway ran on the upload).
async fn receive<B: AsRef<[u8]>>(
    mut pieces: impl futures_util::Stream<Item = Result<B, GatewayError>> + Unpin,
    anchor: &RecordAnchor,
    key: &DataKey,
    destination: Destination,
    mut progress: Box<dyn Progress>,
) -> Result<u64> {
    let Destination {
        mut partial,
        out,
        replace,
    } = destination;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, partial.as_file_mut());
    let expected = Expected::of_anchor(anchor).ok_or(GatewayError::UnknownProfile)?;
    let mut opener = Opener::new(&expected, key);
    let mut written = 0u64;
    let mut sink = |plain: &[u8]| {
        written += plain.len() as u64;
        writer.write_all(plain).map_err(RecordsError::Io)
    };
    while let Some(piece) = pieces.next().await {
        let piece = piece?;
        let piece = piece.as_ref();
        progress.advance(piece.len() as u64);
        opener.update(piece, &mut sink).map_err(not_the_anchored)?;
    }
    opener.finish(&mut sink).map_err(not_the_anchored)?;
    progress.finish();
    writer.flush()?;
    drop(writer);
    Destination {
        partial,
        out,
        replace,
    }
    .persist()?;
    Ok(written)
}

/// Why released bytes are not the anchored ciphertext, as the grantee reads it.
fn grantee_words(error: &OpenError) -> String {
    match error {
        OpenError::Decrypt(e) | OpenError::Incomplete(e) => {
            format!("the ciphertext does not decrypt: {e}")
        }
        OpenError::Sha256 { actual, expected } => format!(
            "the ciphertext's SHA-256 {} is not the anchor's {}",
            hex(actual),
            hex(expected)
        ),
        OpenError::Cid => "the ciphertext's CID is not the anchored CID".into(),
        OpenError::Dag(e) => e.to_string(),
    }
}

/// A release that is not the anchored ciphertext, worded for the grantee: nothing of it was
/// written where they asked.
fn not_the_anchored(error: OpenError) -> GatewayError {
    match error {
        // computing the CID failed: not a property of the bytes
        OpenError::Dag(e) => GatewayError::Records(e),
        other => GatewayError::NotTheAnchored(other),
    }
}
