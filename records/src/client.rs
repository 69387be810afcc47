//! The client side of the record gateway: sealing a file for upload, storing it, and receiving
//! a release. `careledger patient put` / `provider get` and the demo use it.
use crate::common::b64;
pub use crate::common::{hex, issued_now};
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use careledger_sdk::envelope::{self, DataKey, Decryptor, KeyAgreementSecret, RecordIdentity};
use careledger_sdk::release::{self, ReleaseRequest};
use careledger_sdk::siws::new_nonce;
use careledger_sdk::unixfs::{DagBuilder, NoBlocks, Profile};
use careledger_sdk::{Keypair, Pubkey, RecordAnchor};
use futures_util::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Removes a file on drop unless kept (`keep`).
pub struct Scratch(Option<PathBuf>);

impl Scratch {
    pub fn new(path: PathBuf) -> Scratch {
        Scratch(Some(path))
    }

    pub fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A progress bar for large files (hidden below 8 MiB, or with CARELEDGER_NO_PROGRESS set).
pub fn progress(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if total < 8 << 20 || std::env::var_os("CARELEDGER_NO_PROGRESS").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// The identity a record's ciphertext is bound to.
pub fn identity_of(anchor: &RecordAnchor) -> RecordIdentity {
    RecordIdentity::new(anchor.patient, anchor.index, anchor.version, anchor.class)
}

/// What a sealed ciphertext hashed to while it was written.
pub struct Sealed {
    pub sha256: [u8; 32],
    pub cid: Vec<u8>,
    pub bytes: u64,
}

/// Encrypts `file` into `out`, hashing and computing the CID of the ciphertext in the same pass
/// (`careledger_sdk::sealing`: the file is read once, never held in memory).
pub fn seal(
    file: &Path,
    identity: &RecordIdentity,
    key: &DataKey,
    profile: Profile,
    out: &Path,
) -> Result<Sealed> {
    let out_file =
        std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    seal_into(file, identity, key, profile, out_file)
}

/// [`seal`], appending the ciphertext to an open file at its current position.
pub fn seal_into(
    file: &Path,
    identity: &RecordIdentity,
    key: &DataKey,
    profile: Profile,
    out: std::fs::File,
) -> Result<Sealed> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = progress(size);
    let reader =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let reader = bar.wrap_read(std::io::BufReader::with_capacity(1 << 20, reader));
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, out);
    let sealed = careledger_sdk::sealing::seal(identity, key, profile, reader, |piece| {
        writer
            .write_all(piece)
            .map_err(careledger_sdk::SdkError::Io)
    })
    .map_err(|e| anyhow!("cannot encrypt {}: {e}", file.display()))?;
    writer.flush()?;
    writer.get_ref().sync_all()?;
    bar.finish_and_clear();
    Ok(Sealed {
        sha256: sealed.sha256,
        cid: sealed.cid,
        bytes: sealed.ciphertext_len,
    })
}

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
async fn refusal(response: reqwest::Response) -> Refusal {
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
        .and_then(|t| t.rsplit('/').next())
        .unwrap_or_default()
        .to_string();
    Refusal {
        status,
        slug,
        detail,
    }
}

/// A problem+json answer, as one sentence.
async fn problem(response: reqwest::Response) -> anyhow::Error {
    anyhow::Error::new(refusal(response).await)
}

/// What a probe learned.
pub enum Probe {
    /// The gateway holds the record's ciphertext (its CID).
    Held { cid: String },
    /// The gateway answered, and refused or does not hold it.
    Refused(Refusal),
}

/// A release that failed, and whether the gateway used its access event up (then only a new
/// logged read gets the record; otherwise the same event can be presented again while it is
/// recent).
#[derive(Debug)]
pub struct ReleaseFailure {
    pub event_used: bool,
    pub error: anyhow::Error,
}

impl std::fmt::Display for ReleaseFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for ReleaseFailure {}

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
            bail!(
                "--out {} is a directory: name a file in it, e.g. --out {}",
                out.display(),
                out.join("record").display()
            );
        }
        if out.exists() && !replace {
            bail!("{} exists: pass --force to replace it", out.display());
        }
        let name = out
            .file_name()
            .ok_or_else(|| anyhow!("--out {} names no file", out.display()))?;
        // NAME_MAX on Linux and macOS file systems
        if name.len() > 255 {
            bail!(
                "--out's file name is {} bytes long; file names are at most 255 bytes",
                name.len()
            );
        }
        let dir = out
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            bail!("the directory {} does not exist", dir.display());
        }
        // the partial file's name carries at most the first 64 characters of the name
        let short: String = name.to_string_lossy().chars().take(64).collect();
        let partial = tempfile::Builder::new()
            .prefix(&format!(".{short}."))
            .suffix(".careledger-partial")
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(Destination {
            partial,
            out: out.to_path_buf(),
            replace,
        })
    }
}

impl GatewayClient {
    pub fn new(url: &str) -> Result<GatewayClient> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            anyhow!("--gateway {url} is not a URL ({e}); e.g. http://127.0.0.1:8080")
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            bail!("--gateway {url} is not an http:// or https:// URL");
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| anyhow!("--gateway {url} has no host"))?;
        let domain = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        Ok(GatewayClient {
            http: reqwest::Client::new(),
            base: url.trim_end_matches('/').to_string(),
            domain: std::sync::RwLock::new(domain),
        })
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
            .get(format!("{}/v1/gateway", self.base))
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the gateway {}: {e}", self.base))?;
        if !response.status().is_success() {
            return Err(problem(response).await);
        }
        let info: Value = response
            .json()
            .await
            .map_err(|e| anyhow!("{} did not answer as a careledger gateway ({e})", self.base))?;
        if info["program"].as_str() != Some(&careledger_sdk::program::ID.to_string()) {
            bail!(
                "the gateway {} serves another program ({})",
                self.base,
                info["program"]
            );
        }
        let custodian = info["custodian"]
            .as_str()
            .and_then(|s| Pubkey::from_str(s).ok())
            .ok_or_else(|| anyhow!("the gateway names no custodian wallet"))?;
        let x25519: [u8; 32] = info["x25519"]
            .as_str()
            .and_then(|s| b64().decode(s).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow!("the gateway gives no X25519 key"))?;
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
                .unwrap_or(release::DEFAULT_MAX_EVENT_AGE_SECS),
        })
    }

    /// The sign-in headers of an upload or a confirm by `author` for `record`.
    fn upload_sign_in(&self, author: &Keypair, record: &Pubkey) -> Result<(String, String)> {
        use careledger_sdk::Signer;
        let message = release::upload_message(
            &self.domain(),
            &author.pubkey(),
            record,
            new_nonce(),
            issued_now(),
        );
        let signature = message.sign(author).map_err(|e| anyhow!("{e}"))?;
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
        let info = envelope::custody_info(&careledger_sdk::program::ID, record);
        let wrapped = envelope::wrap_key(gateway_key, &info, key).map_err(|e| anyhow!("{e}"))?;
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
        staging: &release::StagingRequest,
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
        bail!("the gateway {} stayed busy", self.base)
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
            .with_context(|| format!("cannot read {}", body.path.display()))?;
        file.seek(std::io::SeekFrom::Start(body.offset)).await?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(body.bytes), 1 << 20);
        let mut request = self
            .http
            .put(format!("{}/v1/records/{record}", self.base))
            .header(crate::gateway::SIGN_IN_HEADER, sign_in)
            .header(crate::gateway::SIGNATURE_HEADER, signature)
            .header(crate::gateway::WRAPPED_KEY_HEADER, b64().encode(wrapped))
            .header(reqwest::header::CONTENT_LENGTH, body.bytes);
        if let Some(d) = declared {
            use crate::gateway as g;
            request = request
                .header(g::PATIENT_HEADER, d.staging.patient.to_string())
                .header(g::INDEX_HEADER, d.staging.index.to_string())
                .header(g::CLASS_HEADER, d.staging.class.to_string())
                .header(g::CID_HEADER, d.cid)
                .header(g::SHA256_HEADER, hex(d.sha256));
            if let Some(grant) = d.staging.grant {
                request = request.header(g::GRANT_HEADER, grant.to_string());
            }
        }
        request
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(|e| anyhow!("the upload to {} failed: {e}", self.base))
    }

    /// After anchoring: asks the gateway to store what was staged for `record`. A refusal is
    /// returned as it is (`not-staged`: upload again).
    pub async fn confirm(&self, author: &Keypair, record: &Pubkey) -> Result<(), ConfirmError> {
        let (sign_in, signature) = self
            .upload_sign_in(author, record)
            .map_err(ConfirmError::Other)?;
        let response = self
            .http
            .post(format!("{}/v1/records/{record}/confirm", self.base))
            .header(crate::gateway::SIGN_IN_HEADER, sign_in)
            .header(crate::gateway::SIGNATURE_HEADER, signature)
            .send()
            .await
            .map_err(|e| {
                ConfirmError::Other(anyhow!("cannot reach the gateway {}: {e}", self.base))
            })?;
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
        use careledger_sdk::Signer;
        let request = release::ProbeRequest {
            signer: signer.pubkey(),
            record: *record,
            grant,
        };
        let message = release::probe_message(&self.domain(), &request, new_nonce(), issued_now());
        let signature = message.sign(signer).map_err(|e| anyhow!("{e}"))?;
        let response = self
            .http
            .get(format!("{}/v1/records/{record}", self.base))
            .header(
                crate::gateway::SIGN_IN_HEADER,
                b64().encode(message.to_text()),
            )
            .header(crate::gateway::SIGNATURE_HEADER, signature.to_string())
            .send()
            .await
            .map_err(|e| anyhow!("cannot reach the gateway {}: {e}", self.base))?;
        if !response.status().is_success() {
            return Ok(Probe::Refused(refusal(response).await));
        }
        let cid = response
            .headers()
            .get(crate::gateway::CID_HEADER)
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
    /// a failure says whether the gateway used the access event up.
    pub async fn release_to(
        &self,
        grantee: &Keypair,
        request: &ReleaseRequest,
        secret: &KeyAgreementSecret,
        anchor: &RecordAnchor,
        destination: Destination,
    ) -> Result<u64, ReleaseFailure> {
        let before = |error: anyhow::Error| ReleaseFailure {
            event_used: false,
            error,
        };
        let message = release::release_message(&self.domain(), request, new_nonce(), issued_now());
        let signature = message.sign(grantee).map_err(|e| before(anyhow!("{e}")))?;
        let response = self
            .http
            .post(format!(
                "{}/v1/records/{}/release",
                self.base, request.record
            ))
            .json(&serde_json::json!({
                "message": message.to_text(),
                "signature": signature.to_string(),
            }))
            .send()
            .await
            .map_err(|e| before(anyhow!("cannot reach the gateway {}: {e}", self.base)))?;
        if !response.status().is_success() {
            return Err(before(problem(response).await));
        }
        // from here the gateway has used the event
        let after = |error: anyhow::Error| ReleaseFailure {
            event_used: true,
            error,
        };
        let wrapped = response
            .headers()
            .get(crate::gateway::WRAPPED_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| b64().decode(v).ok())
            .ok_or_else(|| after(anyhow!("the gateway sent no wrapped key")))?;
        let info = envelope::release_info(
            &careledger_sdk::program::ID,
            &request.record,
            &request.grant,
        );
        let key =
            envelope::unwrap_key(secret, &info, &wrapped).map_err(|e| after(anyhow!("{e}")))?;
        receive(response, anchor, &key, destination)
            .await
            .map_err(after)
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
    staging: &'a release::StagingRequest,
    cid: &'a str,
    sha256: &'a [u8; 32],
}

/// Why a confirm did not store the record.
#[derive(Debug)]
pub enum ConfirmError {
    Refused(Refusal),
    Other(anyhow::Error),
}

impl std::fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfirmError::Refused(r) => write!(f, "{r}"),
            ConfirmError::Other(e) => write!(f, "{e:#}"),
        }
    }
}

/// Decrypts a release as it arrives into the destination's partial file, and renames it into
/// place only when the last chunk authenticated and the ciphertext's SHA-256 and CID equal the
/// anchor's.
async fn receive(
    response: reqwest::Response,
    anchor: &RecordAnchor,
    key: &DataKey,
    destination: Destination,
) -> Result<u64> {
    let nothing = "nothing was written";
    let Destination {
        mut partial,
        out,
        replace,
    } = destination;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, partial.as_file_mut());
    let bar = progress(response.content_length().unwrap_or(0));
    let profile = Profile::implied_by(&anchor.cid.to_bytes())
        .ok_or_else(|| anyhow!("the anchored CID is not a UnixFS file CID"))?;
    let mut sha = Sha256::new();
    let mut dag = DagBuilder::new(profile, NoBlocks);
    let mut decryptor = Decryptor::new(&identity_of(anchor), key);
    let mut written = 0u64;
    let mut sink = |plain: &[u8]| {
        written += plain.len() as u64;
        writer
            .write_all(plain)
            .map_err(careledger_sdk::SdkError::Io)
    };
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| anyhow!("the release broke off: {e}; {nothing}"))?;
        bar.inc(piece.len() as u64);
        sha.update(&piece);
        dag.update(&piece).map_err(|e| anyhow!("{e}"))?;
        decryptor
            .update(&piece, &mut sink)
            .map_err(|e| anyhow!("the ciphertext does not decrypt: {e}; {nothing}"))?;
    }
    decryptor
        .finish(&mut sink)
        .map_err(|e| anyhow!("the ciphertext does not decrypt: {e}; {nothing}"))?;
    bar.finish_and_clear();
    let digest: [u8; 32] = sha.finalize().into();
    if digest != anchor.content_sha256 {
        bail!(
            "the ciphertext's SHA-256 {} is not the anchor's {}; {nothing}",
            hex(&digest),
            hex(&anchor.content_sha256)
        );
    }
    if dag.finish().map_err(|e| anyhow!("{e}"))?.0.cid != anchor.cid.to_bytes() {
        bail!("the ciphertext's CID is not the anchored CID; {nothing}");
    }
    writer.flush()?;
    writer.get_ref().sync_all()?;
    drop(writer);
    if replace {
        partial.persist(&out)
    } else {
        partial.persist_noclobber(&out)
    }
    .map_err(|e| anyhow!("cannot write {}: {}", out.display(), e.error))?;
    Ok(written)
}
