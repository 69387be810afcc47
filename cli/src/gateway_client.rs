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
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = progress(size);
    let reader =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let reader = bar.wrap_read(std::io::BufReader::with_capacity(1 << 20, reader));
    let mut writer = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?,
    );
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

/// What `/v1/gateway` says about itself.
pub struct GatewayInfo {
    pub custodian: Pubkey,
    /// The X25519 key it claims: check it against the custodian's published key.
    pub x25519: [u8; 32],
    /// The largest ciphertext it stores.
    pub max_upload: u64,
}

/// A gateway at a base URL; requests are signed for its host:port.
pub struct GatewayClient {
    http: reqwest::Client,
    base: String,
    domain: String,
}

/// A problem+json answer, as one sentence.
async fn problem(response: reqwest::Response) -> anyhow::Error {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let detail = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_string))
        .unwrap_or(text);
    anyhow!("the gateway refused ({status}): {detail}")
}

impl GatewayClient {
    pub fn new(url: &str) -> Result<GatewayClient> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            anyhow!("--gateway {url} is not a URL ({e}); e.g. http://127.0.0.1:8080")
        })?;
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
            domain,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
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
        let info: Value = response.json().await?;
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
        Ok(GatewayInfo {
            custodian,
            x25519,
            max_upload,
        })
    }

    /// Stores a record's ciphertext (`bytes` long, at `ciphertext`), signed for by its author,
    /// with its data key wrapped to the gateway's key `gateway_key`. A busy gateway (503) is
    /// asked again, twice, with a freshly signed message.
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
        for attempt in 1..=3u64 {
            let response = self
                .upload_once(author, record, ciphertext, bytes, &wrapped)
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

    async fn upload_once(
        &self,
        author: &Keypair,
        record: &Pubkey,
        ciphertext: &Path,
        bytes: u64,
        wrapped: &[u8],
    ) -> Result<reqwest::Response> {
        use careledger_sdk::Signer;
        let message = release::upload_message(
            &self.domain,
            &author.pubkey(),
            record,
            new_nonce(),
            issued_now(),
        );
        let signature = message.sign(author).map_err(|e| anyhow!("{e}"))?;
        let body = tokio::fs::File::open(ciphertext).await?;
        let body = tokio_util::io::ReaderStream::with_capacity(body, 1 << 20);
        self.http
            .put(format!("{}/v1/records/{record}", self.base))
            .header(
                crate::gateway::SIGN_IN_HEADER,
                b64().encode(message.to_text()),
            )
            .header(crate::gateway::SIGNATURE_HEADER, signature.to_string())
            .header(crate::gateway::WRAPPED_KEY_HEADER, b64().encode(wrapped))
            .header(reqwest::header::CONTENT_LENGTH, bytes)
            .body(reqwest::Body::wrap_stream(body))
            .send()
            .await
            .map_err(|e| anyhow!("the upload to {} failed: {e}", self.base))
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
        let message = release::release_message(&self.domain, request, new_nonce(), issued_now());
        let signature = message.sign(grantee).map_err(|e| anyhow!("{e}"))?;
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
            .map_err(|e| anyhow!("cannot reach the gateway {}: {e}", self.base))?;
        if !response.status().is_success() {
            return Err(problem(response).await);
        }
        let wrapped = response
            .headers()
            .get(crate::gateway::WRAPPED_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| b64().decode(v).ok())
            .ok_or_else(|| anyhow!("the gateway sent no wrapped key"))?;
        let info = envelope::release_info(
            &careledger_sdk::program::ID,
            &request.record,
            &request.grant,
        );
        let key = envelope::unwrap_key(secret, &info, &wrapped).map_err(|e| anyhow!("{e}"))?;
        receive(response, anchor, &key, out, replace).await
    }
}

/// Decrypts a release as it arrives into a file beside `out`, and renames it into place only
/// when the last chunk authenticated and the ciphertext's SHA-256 and CID equal the anchor's.
async fn receive(
    response: reqwest::Response,
    anchor: &RecordAnchor,
    key: &DataKey,
    out: &Path,
    replace: bool,
) -> Result<u64> {
    let nothing = "nothing was written";
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| anyhow!("--out {} names no file", out.display()))?;
    // a new file with a random name beside `out`, readable by its owner only (0600), removed
    // unless it checks out; nothing someone else put there is ever written through
    let mut partial = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".careledger-partial")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
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
        partial.persist(out)
    } else {
        partial.persist_noclobber(out)
    }
    .map_err(|e| anyhow!("cannot write {}: {}", out.display(), e.error))?;
    Ok(written)
}
