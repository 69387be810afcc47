//! `careledger patient put` and `careledger provider get`: records through a gateway.
//!
//! put: encrypt (a new data key per version) → anchor the ciphertext's SHA-256 and CID → hand
//! the gateway the ciphertext and the data key wrapped to its custodian's published key.
//! get: log the read on chain → ask the gateway against that transaction → decrypt, check the
//! SHA-256 and CID against the anchor, and only then write the file.
use crate::gateway_client::{hex, seal, GatewayClient, Scratch};
use crate::session::{explain, purpose, session, Session};
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::envelope::{DataKey, RecordIdentity};
use careledger_sdk::release::ReleaseRequest;
use careledger_sdk::unixfs::Profile;
use careledger_sdk::{action, cid, ix, pda, AccessLogArgs, CareledgerEvent, Pubkey, RecordAnchor};
use serde_json::{json, Value};
use std::path::PathBuf;
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
    /// The wallet you entrust the record to: the gateway must be its, and the data key is
    /// wrapped only to the X25519 key this wallet published
    #[arg(long, value_parser = crate::session::address)]
    pub custodian: Pubkey,
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
    /// The grant to read under, when it is not your grant for --purpose (a break-glass grant)
    #[arg(long, value_parser = crate::session::address)]
    pub grant: Option<Pubkey>,
    /// Replace --out if it exists
    #[arg(long)]
    pub force: bool,
}

/// The embedded runtime prints the program's log lines to stdout: keep them out of the
/// command's output while a session runs.
fn quiet(cli: &Cli) -> Option<gag::Gag> {
    cli.url
        .starts_with("embedded:")
        .then(|| gag::Gag::stdout().ok())
        .flatten()
}

async fn published_key(s: &Session, wallet: &Pubkey) -> Result<Option<[u8; 32]>> {
    let key: Option<careledger_sdk::EncryptionKey> = s
        .client
        .fetch_optional(&pda::encryption_key(wallet).0)
        .await
        .map_err(explain)?;
    Ok(key.map(|k| k.x25519))
}

fn cid_text(bytes: &[u8]) -> Result<String> {
    let parsed =
        careledger_sdk::program::logic::cid::parse_cid(bytes).map_err(|e| anyhow!("{e}"))?;
    Ok(cid::cid_to_string(&parsed))
}

pub async fn put(cli: &Cli, args: &PutArgs) -> Result<(Value, String)> {
    let profile = Profile::from_name(&args.profile).map_err(explain)?;
    let class = RecordClass::from_str(&args.class).map_err(explain)?;
    let gateway = GatewayClient::new(&args.gateway)?;
    let info = gateway.info().await?;
    if info.custodian != args.custodian {
        bail!(
            "the gateway {} answers for custodian {}, not {}: refusing to hand it a data key",
            gateway.base(),
            info.custodian,
            args.custodian
        );
    }
    // what the gateway would refuse is refused before anything is anchored
    let size = std::fs::metadata(&args.file)
        .map_err(|e| anyhow!("cannot read {}: {e}", args.file.display()))?
        .len();
    let ciphertext = careledger_sdk::envelope::ciphertext_len(size);
    if ciphertext > info.max_upload {
        bail!(
            "{} encrypts to {ciphertext} bytes; the gateway {} stores at most {} bytes. Nothing was anchored",
            args.file.display(),
            gateway.base(),
            info.max_upload
        );
    }
    let key = DataKey::generate();
    let scratch_path = std::env::temp_dir().join(format!(
        "careledger-put-{}-{}",
        std::process::id(),
        careledger_sdk::siws::new_nonce()
    ));
    let _scratch = Scratch::new(scratch_path.clone());
    let (record, index, sealed, signer) = {
        let _quiet = quiet(cli);
        let s = session(cli).await?;
        match published_key(&s, &info.custodian).await? {
            Some(k) if k == info.x25519 => {}
            Some(_) => bail!("the gateway's X25519 key is not the one its custodian {} published on chain: refusing to hand it a data key", info.custodian),
            None => bail!("the gateway's custodian {} has published no X25519 key on chain: refusing to hand it a data key", info.custodian),
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
        let identity = RecordIdentity::new(patient, index, 1, class.id());
        let sealed = seal(&args.file, &identity, &key, profile, &scratch_path)?;
        // the file may have grown since it was measured: check what will really be sent
        if sealed.bytes > info.max_upload {
            bail!(
                "{} encrypted to {} bytes; the gateway stores at most {}. Nothing was anchored",
                args.file.display(),
                sealed.bytes,
                info.max_upload
            );
        }
        s.send(
            ix::RecordAnchor {
                patient_wallet: patient,
                index,
                author,
                args: careledger_sdk::RecordAnchorArgs {
                    cid: sealed.cid.clone(),
                    content_sha256: sealed.sha256,
                    class: class.id(),
                },
            }
            .instruction(),
        )
        .await?;
        s.finish().await?;
        let signer = s.signer().insecure_clone();
        (pda::record(&patient, index).0, index, sealed, signer)
    };
    // the folder is unlocked from here: the gateway reads the new anchor
    gateway
        .upload(&signer, &record, &scratch_path, sealed.bytes, &key, &info.x25519)
        .await
        .map_err(|e| anyhow!("record #{index} is anchored at {record}, but the gateway did not store it: {e}. Its data key is gone with this command: retract the record (`careledger patient retract`) and put the file again"))?;
    let cid = cid_text(&sealed.cid)?;
    Ok((
        json!({
            "record": record.to_string(),
            "index": index,
            "cid": cid,
            "sha256": hex(&sealed.sha256),
            "ciphertext_bytes": sealed.bytes,
            "profile": profile.name(),
            "gateway": gateway.base(),
        }),
        format!(
            "record #{index} encrypted, anchored at {record} (cid {cid}) and stored at {}",
            gateway.base()
        ),
    ))
}

pub async fn get(cli: &Cli, args: &GetArgs) -> Result<(Value, String)> {
    let secret = super::keys::read_x25519(&args.x25519_key)?;
    if args.out.exists() && !args.force {
        bail!("{} exists: pass --force to replace it", args.out.display());
    }
    let gateway = GatewayClient::new(&args.gateway)?;
    let p = purpose(&args.purpose)?;
    let (anchor, request, signer) = {
        let _quiet = quiet(cli);
        let s = session(cli).await?;
        let me = s.me();
        let anchor: RecordAnchor = s.client.fetch(&args.record).await.map_err(explain)?;
        if published_key(&s, &me).await? != Some(secret.public()) {
            bail!(
                "{} is not the X25519 key {me} published: publish it with `careledger keys publish --x25519-key {}`",
                args.x25519_key.display(),
                args.x25519_key.display()
            );
        }
        let grant = args
            .grant
            .unwrap_or_else(|| pda::grant(&anchor.patient, &me, p).0);
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
            bail!(
                "careledger refused the read ({reason:?}); the refusal is recorded on chain (AccessRefused, transaction {})",
                out.signature
            );
        }
        let request = ReleaseRequest {
            grantee: me,
            record: args.record,
            grant,
            transaction: out.signature,
        };
        (anchor, request, s.signer().insecure_clone())
    };
    let written = gateway
        .release(&signer, &request, &secret, &anchor, &args.out, args.force)
        .await?;
    let cid = cid::cid_to_string(&anchor.cid);
    Ok((
        json!({
            "record": args.record.to_string(),
            "out": args.out.display().to_string(),
            "bytes": written,
            "cid": cid,
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
