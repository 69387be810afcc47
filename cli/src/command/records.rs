//! `careledger patient put` and `careledger provider get`: records through a gateway.
//!
//! put: encrypt (a new data key per version) → anchor the ciphertext's SHA-256 and CID → hand
//! the gateway the ciphertext and the data key wrapped to its custodian's published key.
//! get: log the read on chain → ask the gateway against that transaction → decrypt, check the
//! SHA-256 and CID against the anchor, and only then write the file.
use crate::session::{explain, purpose, session, Session};
use crate::Cli;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use careledger_sdk::classes::RecordClass;
use careledger_sdk::envelope::{self, DataKey, Decryptor, RecordIdentity};
use careledger_sdk::release::{self, ReleaseRequest};
use careledger_sdk::siws::new_nonce;
use careledger_sdk::unixfs::{DagBuilder, NoBlocks, Profile};
use careledger_sdk::{action, cid, ix, pda, AccessLogArgs, CareledgerEvent, Pubkey, RecordAnchor};
use futures_util::StreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(clap::Args)]
pub struct PutArgs {
    pub file: PathBuf,
    /// The record class (lab-result, imaging, ...)
    #[arg(long)]
    pub class: String,
    /// The record gateway that stores it
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// Write for this patient as a provider with a write grant (default: for yourself)
    #[arg(long, value_parser = crate::session::address)]
    pub patient: Option<Pubkey>,
    /// The purpose of the provider's write grant
    #[arg(long, default_value = "treatment")]
    pub purpose: String,
    /// How the CID is computed: unixfs-v1-2025 or unixfs-v0-2015
    #[arg(long, default_value = "unixfs-v1-2025")]
    pub profile: String,
}

#[derive(clap::Args)]
pub struct GetArgs {
    #[arg(value_parser = crate::session::address)]
    pub record: Pubkey,
    /// Where the decrypted record goes (written only once it checks out)
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// Your X25519 secret key file (`careledger keys new`)
    #[arg(long)]
    pub x25519_key: PathBuf,
    /// The purpose of your grant
    #[arg(long, default_value = "treatment")]
    pub purpose: String,
    /// Replace --out if it exists
    #[arg(long)]
    pub force: bool,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A gateway base URL and the domain (host:port) requests to it are signed for.
struct GatewayUrl {
    base: String,
    domain: String,
}

fn gateway_url(text: &str) -> Result<GatewayUrl> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| anyhow!("--gateway {text} is not a URL ({e}); e.g. http://127.0.0.1:8080"))?;
    let host = url
        .host_str()
        .ok_or_else(|| anyhow!("--gateway {text} has no host"))?;
    let domain = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    Ok(GatewayUrl {
        base: text.trim_end_matches('/').to_string(),
        domain,
    })
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

fn issued_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Removes a file on drop unless kept.
struct Scratch(Option<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn progress(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if total < 8 << 20 || std::env::var_os("CARELEDGER_NO_PROGRESS").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// The embedded runtime prints the program's log lines to stdout: keep them out of the
/// command's output while a session runs.
fn quiet(cli: &Cli) -> Option<gag::Gag> {
    cli.url
        .starts_with("embedded:")
        .then(|| gag::Gag::stdout().ok())
        .flatten()
}

fn identity(anchor_patient: &Pubkey, index: u32, version: u32, class: u8) -> RecordIdentity {
    RecordIdentity {
        program: careledger_sdk::program::ID,
        patient: *anchor_patient,
        index,
        version,
        class,
    }
}

/// What the ciphertext hashed to while it was written.
struct Sealed {
    sha256: [u8; 32],
    cid: Vec<u8>,
    bytes: u64,
}

/// Encrypts `file` into `out`, hashing and computing the CID of the ciphertext in the same pass.
fn seal(
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
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut sha = Sha256::new();
    let mut dag = DagBuilder::new(profile, NoBlocks);
    let mut bytes = 0u64;
    envelope::encrypt(identity, key, reader, |piece| {
        sha.update(piece);
        dag.update(piece)?;
        bytes += piece.len() as u64;
        writer
            .write_all(piece)
            .map_err(careledger_sdk::SdkError::Io)
    })
    .map_err(|e| anyhow!("cannot encrypt {}: {e}", file.display()))?;
    writer.flush()?;
    writer.get_ref().sync_all()?;
    bar.finish_and_clear();
    let (root, _) = dag.finish().map_err(explain)?;
    Ok(Sealed {
        sha256: sha.finalize().into(),
        cid: root.cid,
        bytes,
    })
}

/// The gateway's `/v1/gateway`: its custodian's wallet and the X25519 key it claims.
async fn gateway_info(http: &reqwest::Client, url: &GatewayUrl) -> Result<(Pubkey, [u8; 32])> {
    let response = http
        .get(format!("{}/v1/gateway", url.base))
        .send()
        .await
        .map_err(|e| anyhow!("cannot reach the gateway {}: {e}", url.base))?;
    if !response.status().is_success() {
        return Err(problem(response).await);
    }
    let info: Value = response.json().await?;
    if info["program"].as_str() != Some(&careledger_sdk::program::ID.to_string()) {
        bail!(
            "the gateway {} serves another program ({})",
            url.base,
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
    Ok((custodian, x25519))
}

async fn published_key(s: &Session, wallet: &Pubkey) -> Result<Option<[u8; 32]>> {
    let key: Option<careledger_sdk::EncryptionKey> = s
        .client
        .fetch_optional(&pda::encryption_key(wallet).0)
        .await
        .map_err(explain)?;
    Ok(key.map(|k| k.x25519))
}

pub async fn put(cli: &Cli, args: &PutArgs) -> Result<(Value, String)> {
    let profile = Profile::from_name(&args.profile).map_err(explain)?;
    let class = RecordClass::from_str(&args.class).map_err(explain)?;
    let url = gateway_url(&args.gateway)?;
    let http = reqwest::Client::new();
    let (custodian, gateway_key) = gateway_info(&http, &url).await?;
    let key = DataKey::generate();
    let scratch_path = std::env::temp_dir().join(format!(
        "careledger-put-{}-{}",
        std::process::id(),
        cid::sha256_reader(&key.as_bytes()[..8], |_| {})
            .map(|d| hex(&d[..6]))
            .unwrap_or_default()
    ));
    let scratch = Scratch(Some(scratch_path.clone()));
    let (record, index, sealed, me, signer) = {
        let _quiet = quiet(cli);
        let s = session(cli).await?;
        match published_key(&s, &custodian).await? {
            Some(k) if k == gateway_key => {}
            Some(_) => bail!("the gateway's X25519 key is not the one its custodian {custodian} published on chain: refusing to hand it a data key"),
            None => bail!("the gateway's custodian {custodian} has published no X25519 key on chain: refusing to hand it a data key"),
        }
        let me = s.me();
        let patient = args.patient.unwrap_or(me);
        let author = if patient == me {
            ix::Author::Patient
        } else {
            ix::Author::Provider {
                wallet: me,
                purpose: purpose(&args.purpose)?,
            }
        };
        let index = s
            .client
            .fetch::<careledger_sdk::Patient>(&pda::patient(&patient).0)
            .await
            .map_err(explain)?
            .record_count;
        let id = identity(&patient, index, 1, class.id());
        let sealed = seal(&args.file, &id, &key, profile, &scratch_path)?;
        let cid_bytes = sealed.cid.clone();
        s.send(
            ix::RecordAnchor {
                patient_wallet: patient,
                index,
                author,
                args: careledger_sdk::RecordAnchorArgs {
                    cid: cid_bytes,
                    content_sha256: sealed.sha256,
                    class: class.id(),
                },
            }
            .instruction(),
        )
        .await?;
        s.finish().await?;
        (
            pda::record(&patient, index).0,
            index,
            sealed,
            me,
            s.signer().insecure_clone(),
        )
    };
    // the folder is unlocked from here: the gateway reads the new anchor
    let message = release::upload_message(&url.domain, &me, &record, new_nonce(), issued_now());
    let signature = message.sign(&signer).map_err(explain)?;
    let wrapped = envelope::wrap_key(
        &gateway_key,
        &envelope::custody_info(&careledger_sdk::program::ID, &record),
        &key,
    )
    .map_err(explain)?;
    let body = tokio::fs::File::open(&scratch_path).await?;
    let response = http
        .put(format!("{}/v1/records/{record}", url.base))
        .header(crate::gateway::SIGN_IN_HEADER, b64().encode(message.to_text()))
        .header(crate::gateway::SIGNATURE_HEADER, signature.to_string())
        .header(crate::gateway::WRAPPED_KEY_HEADER, b64().encode(&wrapped))
        .header(reqwest::header::CONTENT_LENGTH, sealed.bytes)
        .body(reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(body, 1 << 20)))
        .send()
        .await
        .map_err(|e| anyhow!("record #{index} is anchored at {record}, but the upload to {} failed: {e}. Its data key is lost with this command: retract the record (`careledger patient retract`) and put the file again", url.base))?;
    if !response.status().is_success() {
        let why = problem(response).await;
        bail!("record #{index} is anchored at {record}, but the gateway did not store it: {why}. Retract the record and put the file again");
    }
    drop(scratch);
    let cid_text = cid::cid_to_string(
        &careledger_sdk::program::logic::cid::parse_cid(&sealed.cid).map_err(|e| anyhow!("{e}"))?,
    );
    Ok((
        json!({
            "record": record.to_string(),
            "index": index,
            "cid": cid_text,
            "sha256": hex(&sealed.sha256),
            "ciphertext_bytes": sealed.bytes,
            "profile": profile.name(),
            "gateway": url.base,
        }),
        format!(
            "record #{index} encrypted, anchored at {record} (cid {cid_text}) and stored at {}",
            url.base
        ),
    ))
}

pub async fn get(cli: &Cli, args: &GetArgs) -> Result<(Value, String)> {
    let secret = super::keys::read_x25519(&args.x25519_key)?;
    if args.out.exists() && !args.force {
        bail!("{} exists: pass --force to replace it", args.out.display());
    }
    let url = gateway_url(&args.gateway)?;
    let p = purpose(&args.purpose)?;
    let (anchor, request, signer) = {
        let _quiet = quiet(cli);
        let s = session(cli).await?;
        let me = s.me();
        let anchor: RecordAnchor = s.client.fetch(&args.record).await.map_err(explain)?;
        if published_key(&s, &me).await? != Some(secret.public()) {
            bail!("{} is not the X25519 key {me} published: publish it with `careledger keys publish --x25519-key {}`", args.x25519_key.display(), args.x25519_key.display());
        }
        let grant = pda::grant(&anchor.patient, &me, p).0;
        let out = s
            .send(
                ix::AccessLog {
                    grantee: me,
                    patient_wallet: anchor.patient,
                    grant,
                    record: args.record,
                    args: AccessLogArgs {
                        action: action::READ,
                        purpose: p,
                        strict: false,
                    },
                }
                .instruction(),
            )
            .await?;
        // a refusal is on chain now (AccessRefused): save it, and stop
        s.finish().await?;
        if let Some(reason) = out.events.iter().find_map(|e| match e {
            CareledgerEvent::AccessRefused(r) => Some(r.reason),
            _ => None,
        }) {
            bail!("careledger refused the read ({reason:?}); the refusal is recorded on chain (AccessRefused, transaction {})", out.signature);
        }
        let request = ReleaseRequest {
            grantee: me,
            record: args.record,
            grant,
            transaction: out.signature,
        };
        (anchor, request, s.signer().insecure_clone())
    };
    let message = release::release_message(&url.domain, &request, new_nonce(), issued_now());
    let signature = message.sign(&signer).map_err(explain)?;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/v1/records/{}/release", url.base, args.record))
        .json(&json!({"message": message.to_text(), "signature": signature.to_string()}))
        .send()
        .await
        .map_err(|e| anyhow!("cannot reach the gateway {}: {e}", url.base))?;
    if !response.status().is_success() {
        return Err(problem(response).await);
    }
    let wrapped = response
        .headers()
        .get(crate::gateway::WRAPPED_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| b64().decode(v).ok())
        .ok_or_else(|| anyhow!("the gateway sent no wrapped key"))?;
    let key = envelope::unwrap_key(
        &secret,
        &envelope::release_info(&careledger_sdk::program::ID, &args.record, &request.grant),
        &wrapped,
    )
    .map_err(explain)?;
    let written = receive(response, &anchor, &key, &args.out).await?;
    let cid_text = cid::cid_to_string(&anchor.cid);
    Ok((
        json!({
            "record": args.record.to_string(),
            "out": args.out.display().to_string(),
            "bytes": written,
            "cid": cid_text,
            "sha256": hex(&anchor.content_sha256),
            "transaction": request.transaction.to_string(),
        }),
        format!(
            "record {} released against {}; {written} bytes decrypted and checked against the anchor, written to {}",
            args.record,
            request.transaction,
            args.out.display()
        ),
    ))
}

/// Decrypts the release as it arrives into a file beside `out`, and renames it into place only
/// when the last chunk authenticated and the ciphertext's SHA-256 and CID equal the anchor's.
async fn receive(
    response: reqwest::Response,
    anchor: &RecordAnchor,
    key: &DataKey,
    out: &Path,
) -> Result<u64> {
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| anyhow!("--out {} names no file", out.display()))?;
    let partial = dir.join(format!(".{}.careledger-partial", name.to_string_lossy()));
    let mut scratch = Scratch(Some(partial.clone()));
    let mut writer = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(&partial)
            .with_context(|| format!("cannot write {}", partial.display()))?,
    );
    let bar = progress(response.content_length().unwrap_or(0));
    let profile = Profile::implied_by(&anchor.cid.to_bytes())
        .ok_or_else(|| anyhow!("the anchored CID is not a UnixFS file CID"))?;
    let mut sha = Sha256::new();
    let mut dag = DagBuilder::new(profile, NoBlocks);
    let mut decryptor = Decryptor::new(
        &identity(&anchor.patient, anchor.index, anchor.version, anchor.class),
        key,
    );
    let mut written = 0u64;
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece =
            piece.map_err(|e| anyhow!("the release broke off: {e}; nothing was written"))?;
        bar.inc(piece.len() as u64);
        sha.update(&piece);
        dag.update(&piece).map_err(explain)?;
        decryptor
            .update(&piece, |plain| {
                written += plain.len() as u64;
                writer
                    .write_all(plain)
                    .map_err(careledger_sdk::SdkError::Io)
            })
            .map_err(|e| anyhow!("the ciphertext does not decrypt: {e}; nothing was written"))?;
    }
    decryptor
        .finish(|plain| {
            written += plain.len() as u64;
            writer
                .write_all(plain)
                .map_err(careledger_sdk::SdkError::Io)
        })
        .map_err(|e| anyhow!("the ciphertext does not decrypt: {e}; nothing was written"))?;
    bar.finish_and_clear();
    let digest: [u8; 32] = sha.finalize().into();
    if digest != anchor.content_sha256 {
        bail!(
            "the ciphertext's SHA-256 {} is not the anchor's {}; nothing was written",
            hex(&digest),
            hex(&anchor.content_sha256)
        );
    }
    if dag.finish().map_err(explain)?.0.cid != anchor.cid.to_bytes() {
        bail!("the ciphertext's CID is not the anchored CID; nothing was written");
    }
    writer.flush()?;
    writer.get_ref().sync_all()?;
    drop(writer);
    std::fs::rename(&partial, out).with_context(|| format!("cannot write {}", out.display()))?;
    scratch.0 = None;
    Ok(written)
}
