//! `careledger patient put`, `provider get` and `patient retract`: records through a gateway.
//!
//! put: check everything first (the gateway, its custodian and key, the size, the author's
//! standing) → encrypt (a new data key per version) into a resume file → upload the ciphertext,
//! which the gateway stages → anchor its SHA-256 and CID → the gateway confirms it stored it →
//! the resume file goes. What fails before the anchor leaves nothing anchored; what fails after
//! it leaves the resume file (the ciphertext, and the data key wrapped to the custodian only),
//! which `patient put --resume FILE` finishes.
//! get: check everything local and what the gateway answers without a log (it holds the
//! record, the domain, the key) → log the read on chain → ask the gateway against that
//! transaction → decrypt, check the SHA-256 and CID against the anchor, and only then write
//! the file. A release that fails can be asked again with the same event (`--event`), at this
//! gateway or another replica, while the event is recent: a release uses nothing up.
use crate::record_files::{release_progress, seal_into};
use crate::session::{explain, purpose, session, session_as, Session};
use crate::Cli;
use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use careledger_records::client::{Body, ConfirmError, Destination, GatewayClient};
use careledger_records::client::{GatewayInfo, Probe};
use careledger_records::envelope::{self, DataKey, RecordIdentity};
use careledger_records::protocol::{Refused, ReleaseRequest, StagingRequest};
use careledger_records::publish;
use careledger_records::release;
use careledger_records::unixfs::Profile;
use careledger_sdk::classes::RecordClass;
use careledger_sdk::embedded::folder::Access;
use careledger_sdk::{action, cid, ix, pda, AccessLogArgs, CareledgerEvent, Pubkey, RecordAnchor};
use careledger_sdk::{Keypair, Signature};
use careledger_server::common::hex;
use careledger_server::common::{b64, unix_now};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The gateway a command uses when none is named.
const DEFAULT_GATEWAY: &str = "http://127.0.0.1:8080";

#[derive(clap::Args)]
pub struct PutArgs {
    /// The file to encrypt and store
    #[arg(required_unless_present = "resume")]
    pub file: Option<PathBuf>,
    /// The record class (lab-result, imaging, ...)
    #[arg(long, required_unless_present = "resume")]
    pub class: Option<String>,
    /// The record gateway that stores it [default: http://127.0.0.1:8080; with --resume, the
    /// one the resume file names]
    #[arg(long)]
    pub gateway: Option<String>,
    /// The wallet you entrust the record to: the gateway must be its, and the data key is
    /// wrapped only to the X25519 key this wallet published
    #[arg(long, value_parser = crate::session::address, required_unless_present = "resume")]
    pub custodian: Option<Pubkey>,
    /// Write for this patient as a provider with a write grant (default: for yourself)
    #[arg(long, value_parser = crate::session::address)]
    pub patient: Option<Pubkey>,
    /// The purpose of the provider's write grant
    #[arg(long, default_value = "treatment")]
    pub purpose: String,
    /// How the CID is computed: unixfs-v1-2025 or unixfs-v0-2015
    #[arg(long, default_value = "unixfs-v1-2025")]
    pub profile: String,
    /// Where the put keeps its resume file until the gateway confirms it stored the record
    /// [default: FILE.careledger-put]
    #[arg(long, conflicts_with = "resume")]
    pub resume_file: Option<PathBuf>,
    /// Finishes a put that stopped after its checks: anchors the record if it is not yet, and
    /// stores it at the gateway, from the resume file the put left
    #[arg(long, conflicts_with_all = ["file", "class", "custodian", "patient"])]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub publish: PublishTo,
}

/// Where a record's ciphertext is published on IPFS, besides the custodian's gateway.
#[derive(clap::Args)]
pub struct PublishTo {
    /// Once the gateway stored the record, also import its ciphertext (the CAR of its blocks,
    /// under the anchored CID) into this Kubo node and pin it, through the node's RPC API,
    /// e.g. http://127.0.0.1:5001
    #[arg(long, value_name = "URL")]
    pub kubo: Option<String>,
    /// Once the gateway stored the record, also ask this IPFS pinning service (Pinning Service
    /// API) to pin it, fetching it from the gateway; the service's access token is read from
    /// the environment variable CARELEDGER_PINNING_TOKEN, never from the command line
    #[arg(long, value_name = "URL")]
    pub pinning_service: Option<String>,
}

impl PublishTo {
    /// The targets, checked before anything else is done: URL syntax, and the token set.
    fn targets(&self) -> Result<Vec<publish::Target>> {
        let mut targets = Vec::new();
        if let Some(url) = &self.kubo {
            targets.push(publish::Target::kubo(url)?);
        }
        if let Some(url) = &self.pinning_service {
            let token = std::env::var(publish::TOKEN_VARIABLE).ok();
            targets.push(publish::Target::pinning_service(url, token)?);
        }
        Ok(targets)
    }
}

#[derive(clap::Args)]
pub struct PublishArgs {
    /// The record: its address, or PATIENT/INDEX
    #[arg(value_parser = crate::session::record)]
    pub record: Pubkey,
    /// A gateway that serves the record's ciphertext at /ipfs (the custodian's): the CAR is
    /// read from it and checked against the anchored CID before it is sent anywhere
    #[arg(long, default_value = DEFAULT_GATEWAY)]
    pub gateway: String,
    #[command(flatten)]
    pub publish: PublishTo,
}

#[derive(clap::Args)]
pub struct GetArgs {
    #[arg(value_parser = crate::session::record)]
    pub record: Pubkey,
    /// Where the decrypted record goes (written only once it checks out)
    #[arg(long)]
    pub out: PathBuf,
    /// The custodian's record gateway (`careledger serve`): it checks the access event and
    /// releases the key (and, without --ipfs, the ciphertext)
    #[arg(long, default_value = DEFAULT_GATEWAY)]
    pub gateway: String,
    /// Your X25519 secret key file (`careledger keys new`), the one you published
    #[arg(long)]
    pub x25519_key: PathBuf,
    /// The purpose of your grant
    #[arg(long, default_value = "treatment")]
    pub purpose: String,
    /// The grant to read under, when it is not your grant for --purpose (a break-glass grant)
    #[arg(long, value_parser = crate::session::address)]
    pub grant: Option<Pubkey>,
    /// Replace --out if it is a file that exists
    #[arg(long)]
    pub force: bool,
    /// Ask for the release against a read already logged (the transaction signature a failed
    /// get printed) instead of logging a new one; it stays valid for the gateway's
    /// --max-event-age
    #[arg(long)]
    pub event: Option<String>,
    /// An IPFS trustless gateway to fetch the ciphertext from by its anchored CID (repeatable:
    /// tried in order). The ciphertext is fetched and checked block by block before the read
    /// is logged; the custodian (--gateway) then releases only the key
    #[arg(long = "ipfs", value_name = "URL")]
    pub ipfs: Vec<String>,
    /// Seconds an --ipfs gateway may pause while it sends before the next one is tried
    #[arg(long, default_value_t = 30, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ipfs_timeout: u64,
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

/// A staging refusal in the author's words.
fn standing_refused(refused: &Refused, patient: &Pubkey, me: &Pubkey) -> anyhow::Error {
    use Refused as R;
    match refused {
        R::UnknownPatient(_) if patient == me => anyhow!(
            "this wallet ({me}) is not registered as a patient: run `careledger patient register` first. Nothing was anchored"
        ),
        R::UnknownPatient(_) => anyhow!(
            "{patient} is not registered as a patient: nothing was anchored"
        ),
        R::NoStanding { .. } | R::UnknownGrant(_) => anyhow!(
            "you ({me}) hold no grant from patient {patient} to write for this --purpose: a provider puts only under a live write grant. Nothing was anchored"
        ),
        R::GrantNotLive(refusal) => anyhow!(
            "your grant from patient {patient} does not allow this write ({refusal:?}): nothing was anchored"
        ),
        R::Paused => anyhow!("careledger is paused: no record can be anchored now. Nothing was anchored"),
        other => anyhow!("{other}: nothing was anchored"),
    }
}

/// The first line of a resume file; the JSON header fills the first `RESUME_HEADER` bytes,
/// the ciphertext follows.
const RESUME_MAGIC: &str = "careledger-put-resume v1\n";
const RESUME_HEADER: u64 = 4096;

/// What a put needs to finish after its checks: never the data key in the clear, only the
/// ciphertext and the key wrapped to the custodian's published key.
#[derive(Serialize, Deserialize, Clone)]
struct Resume {
    file: String,
    record: String,
    patient: String,
    index: u32,
    class: u8,
    author: String,
    /// The provider's write grant (`None` when the patient puts).
    grant: Option<String>,
    purpose: Option<String>,
    profile: String,
    cid: String,
    sha256: String,
    ciphertext_bytes: u64,
    custodian: String,
    custodian_x25519: String,
    wrapped_key: String,
    gateway: String,
    created_at: i64,
}

impl Resume {
    fn read(path: &Path) -> Result<Resume> {
        let mut file = std::fs::File::open(path)
            .with_context(|| format!("cannot read the resume file {}", path.display()))?;
        let mut head = vec![0u8; RESUME_HEADER as usize];
        file.read_exact(&mut head)
            .ok()
            .filter(|_| head.starts_with(RESUME_MAGIC.as_bytes()))
            .ok_or_else(|| anyhow!("{} is not a careledger put resume file", path.display()))?;
        let text = String::from_utf8_lossy(&head[RESUME_MAGIC.len()..]);
        if text.trim().is_empty() {
            bail!(
                "{} is from a put that stopped while it encrypted: nothing of it was uploaded or anchored. Delete it and put the file again",
                path.display()
            );
        }
        let resume: Resume = serde_json::from_str(text.trim_end())
            .with_context(|| format!("{} has an unreadable header", path.display()))?;
        let length = file.metadata()?.len();
        if length != RESUME_HEADER + resume.ciphertext_bytes {
            bail!(
                "{} holds {} bytes of ciphertext, its header says {}: it is damaged",
                path.display(),
                length.saturating_sub(RESUME_HEADER),
                resume.ciphertext_bytes
            );
        }
        Ok(resume)
    }

    fn write_header(&self, file: &mut std::fs::File) -> Result<()> {
        let mut text = format!("{RESUME_MAGIC}{}\n", serde_json::to_string(self)?);
        if text.len() as u64 > RESUME_HEADER {
            bail!("the resume header is too long");
        }
        text.push_str(&" ".repeat(RESUME_HEADER as usize - text.len()));
        file.seek(std::io::SeekFrom::Start(0))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        Ok(())
    }

    fn key(text: &str, what: &str) -> Result<Pubkey> {
        Pubkey::from_str(text).map_err(|_| anyhow!("the resume file's {what} is not an address"))
    }

    fn staging(&self) -> Result<StagingRequest> {
        Ok(StagingRequest {
            uploader: Resume::key(&self.author, "author")?,
            patient: Resume::key(&self.patient, "patient")?,
            index: self.index,
            class: self.class,
            grant: self
                .grant
                .as_deref()
                .map(|g| Resume::key(g, "grant"))
                .transpose()?,
        })
    }

    fn wrapped(&self) -> Result<Vec<u8>> {
        b64()
            .decode(&self.wrapped_key)
            .map_err(|_| anyhow!("the resume file's wrapped key is not base64"))
    }

    fn sha256(&self) -> Result<[u8; 32]> {
        let mut out = [0u8; 32];
        if self.sha256.len() != 64 {
            bail!("the resume file's SHA-256 is not 64 hex digits");
        }
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&self.sha256[2 * i..2 * i + 2], 16)
                .map_err(|_| anyhow!("the resume file's SHA-256 is not hex"))?;
        }
        Ok(out)
    }

    fn output(&self, gateway: &str, text: String) -> (Value, String) {
        (
            json!({
                "record": self.record,
                "index": self.index,
                "cid": self.cid,
                "sha256": self.sha256,
                "ciphertext_bytes": self.ciphertext_bytes,
                "profile": self.profile,
                "gateway": gateway,
                "name": format!("careledger record {}/{}", self.patient, self.index),
            }),
            text,
        )
    }
}

/// Removes a file on drop unless kept.
struct Removed(Option<PathBuf>);

impl Removed {
    fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for Removed {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

pub async fn put(cli: &Cli, args: &PutArgs) -> Result<crate::Finished> {
    // publishing is checked before anything is done, and runs only once the gateway stored
    // the record: the pinning service fetches it from the gateway, which serves only that
    let targets = args.publish.targets()?;
    let (value, text) = match &args.resume {
        Some(resume) => resume_put(cli, args, resume).await?,
        None => put_new(cli, args).await?,
    };
    if targets.is_empty() {
        return Ok(crate::Finished {
            value,
            text,
            code: 0,
        });
    }
    let gateway = value["gateway"].as_str().unwrap_or_default().to_string();
    let cid = value["cid"].as_str().unwrap_or_default().to_string();
    let name = value["name"].as_str().unwrap_or_default().to_string();
    let max = value["ciphertext_bytes"].as_u64().unwrap_or(u64::MAX);
    Ok(published(value, text, &gateway, &cid, &name, max, &targets).await)
}

/// `patient publish RECORD`: the record's ciphertext from a gateway, checked against the
/// anchor, to IPFS nodes (the retry of a put whose publishing failed).
pub async fn publish_record(cli: &Cli, args: &PublishArgs) -> Result<crate::Finished> {
    let targets = args.publish.targets()?;
    if targets.is_empty() {
        bail!("name where to publish: --kubo URL or --pinning-service URL (or both)");
    }
    // the ledger is held only while the anchor is read: the gateway may read it too
    let anchor: RecordAnchor = {
        let _quiet = quiet(cli);
        let s = session_as(cli, Access::Shared).await?;
        s.client
            .fetch_optional(&args.record)
            .await
            .map_err(explain)?
            .ok_or_else(|| anyhow!("no record is anchored at {}", args.record))?
    };
    // a record the patient marked entered-in-error, or an amended one, is not spread further
    match anchor.status {
        careledger_sdk::RecordStatus::Current => {}
        careledger_sdk::RecordStatus::EnteredInError => bail!(
            "record {} was entered in error: it is not published",
            args.record
        ),
        careledger_sdk::RecordStatus::Superseded => bail!(
            "record {} is superseded by an amendment: publish the current version",
            args.record
        ),
    }
    let gateway = GatewayClient::new(&args.gateway)?;
    let cid = cid::cid_to_string(&anchor.cid);
    let name = format!("careledger record {}/{}", anchor.patient, anchor.index);
    let value = json!({
        "record": args.record.to_string(),
        "index": anchor.index,
        "cid": cid,
        "gateway": gateway.base(),
    });
    let text = format!(
        "record #{} at {} (cid {cid}), read from {}",
        anchor.index,
        args.record,
        gateway.base()
    );
    let max = gateway
        .info()
        .await
        .map(|i| i.max_upload)
        .unwrap_or(u64::MAX);
    Ok(published(value, text, gateway.base(), &cid, &name, max, &targets).await)
}

/// Reads the record's CAR back from `gateway` (checked against `cid`) and hands it to each
/// target; what each did goes into the output. A failure exits with PUBLISH_FAILED (3, not 1:
/// the record is stored and anchored, and putting the file again would make a second record),
/// and says why publishing failed and how to retry.
async fn published(
    mut value: Value,
    mut text: String,
    gateway: &str,
    cid: &str,
    name: &str,
    max_bytes: u64,
    targets: &[publish::Target],
) -> crate::Finished {
    let outcome = publish_car(gateway, cid, name, max_bytes, targets).await;
    let record = value["record"].as_str().unwrap_or_default().to_string();
    let mut results = Vec::new();
    let mut ok = true;
    for (target, result) in targets.iter().zip(outcome) {
        match result {
            Ok(done) => {
                text.push_str(&match &done.request_id {
                    None => format!(
                        "\npublished to {}: root {} imported and pinned",
                        target.describe(),
                        done.cid
                    ),
                    Some(id) => format!(
                        "\npublished to {}: pin of {} accepted ({}, request {id})",
                        target.describe(),
                        done.cid,
                        done.status
                    ),
                });
                results.push(json!({
                    "target": target.kind(), "flag": target.flag(), "ok": true,
                    "cid": done.cid, "status": done.status, "request_id": done.request_id,
                }));
            }
            Err(e) => {
                ok = false;
                let token = match target {
                    publish::Target::PinningService { .. } => {
                        format!(" (with {} set)", publish::TOKEN_VARIABLE)
                    }
                    publish::Target::Kubo { .. } => String::new(),
                };
                let retry = format!(
                    "careledger patient publish {record} --gateway {gateway} {}",
                    target.flag()
                );
                text.push_str(&format!(
                    "\npublishing to {} FAILED: {e}. The record is stored at {gateway} and anchored; nothing of it was undone. Retry with `{retry}`{token}",
                    target.describe()
                ));
                results.push(json!({
                    "target": target.kind(), "flag": target.flag(), "ok": false,
                    "error": e.to_string(), "retry": retry,
                }));
            }
        }
    }
    value["published"] = Value::Array(results);
    crate::Finished {
        value,
        text,
        code: if ok { 0 } else { crate::PUBLISH_FAILED },
    }
}

/// One result per target, in order.
async fn publish_car(
    gateway: &str,
    cid: &str,
    name: &str,
    max_bytes: u64,
    targets: &[publish::Target],
) -> Vec<Result<publish::Published, String>> {
    let all = |e: String| targets.iter().map(|_| Err(e.clone())).collect();
    let root = match careledger_records::trustless::parse_cid(cid) {
        Ok(root) => root,
        Err(e) => {
            return all(format!(
                "the record's CID {cid} is not one careledger reads: {e}"
            ))
        }
    };
    // the process's own scratch directory (removed when it ends)
    let dir = std::env::temp_dir();
    let fetched = match careledger_records::client::fetch_cid_from_ipfs(
        &[gateway.to_string()],
        &root,
        &dir,
        max_bytes,
        publish::READ_TIMEOUT,
    )
    .await
    {
        Ok(fetched) => fetched,
        Err(e) => return all(format!("cannot read the record back from the gateway: {e}")),
    };
    let car = match publish::car_of_ciphertext(fetched.file.path(), &root, &dir) {
        Ok(car) => car,
        Err(e) => return all(e.to_string()),
    };
    drop(fetched);
    let http = match publish::http_client() {
        Ok(http) => http,
        Err(e) => return all(e.to_string()),
    };
    let meta = [("app", "careledger".to_string())];
    let publication = publish::Publication {
        cid,
        name,
        gateway,
        meta: &meta,
    };
    let mut results = Vec::new();
    for target in targets {
        results.push(
            publish::publish(&http, target, car.path(), &publication)
                .await
                .map_err(|e| e.to_string()),
        );
    }
    results
}

async fn put_new(cli: &Cli, args: &PutArgs) -> Result<(Value, String)> {
    let (Some(file), Some(class), Some(custodian)) = (&args.file, &args.class, &args.custodian)
    else {
        bail!("pass FILE, --class and --custodian (or --resume FILE)");
    };
    let profile = Profile::from_name(&args.profile).map_err(|e| anyhow!("{e}"))?;
    let class = RecordClass::from_str(class).map_err(explain)?;
    let purpose_name = args.purpose.clone();
    let size = std::fs::metadata(file)
        .ok()
        .filter(|m| m.is_file())
        .ok_or_else(|| anyhow!("cannot read {}: not a file", file.display()))?
        .len();
    let resume_path = args.resume_file.clone().unwrap_or_else(|| {
        let mut name = file.as_os_str().to_owned();
        name.push(".careledger-put");
        PathBuf::from(name)
    });
    if resume_path.exists() {
        bail!(
            "{} holds a put that did not finish: finish it with `careledger patient put --resume {}`, or delete it if you are sure nothing of it was anchored",
            resume_path.display(),
            resume_path.display()
        );
    }
    let gateway = GatewayClient::new(args.gateway.as_deref().unwrap_or(DEFAULT_GATEWAY))?;
    let info = gateway
        .info()
        .await
        .map_err(|e| anyhow!("{e:#}. Nothing was anchored"))?;
    if info.custodian != *custodian {
        bail!(
            "the gateway {} answers for custodian {}, not {custodian}: refusing to hand it a data key. Nothing was anchored",
            gateway.base(),
            info.custodian,
        );
    }
    let ciphertext = envelope::ciphertext_len(size);
    if ciphertext > info.max_upload {
        bail!(
            "{} encrypts to {ciphertext} bytes; the gateway {} stores at most {} bytes. Nothing was anchored",
            file.display(),
            gateway.base(),
            info.max_upload
        );
    }
    // the ledger's answers, under the folder's shared lock: the custodian's key, the author's
    // standing and the record's index
    let (staging, signer) = {
        let _quiet = quiet(cli);
        let s = session_as(cli, Access::Shared).await?;
        match published_key(&s, &info.custodian).await? {
            Some(k) if k == info.x25519 => {}
            Some(_) => bail!("the gateway's X25519 key is not the one its custodian {} published on chain: refusing to hand it a data key. Nothing was anchored", info.custodian),
            None => bail!("the gateway's custodian {} has published no X25519 key on chain: refusing to hand it a data key. Nothing was anchored", info.custodian),
        }
        let me = s.me();
        let patient = args.patient.unwrap_or(me);
        let index = s
            .client
            .fetch_optional::<careledger_sdk::Patient>(&pda::patient(&patient).0)
            .await
            .map_err(explain)?
            .map_or(0, |p| p.record_count);
        let grant =
            (patient != me).then(|| purpose(&purpose_name).map(|p| pda::grant(&patient, &me, p).0));
        let staging = StagingRequest {
            uploader: me,
            patient,
            index,
            class: class.id(),
            grant: grant.transpose()?,
        };
        release::clear_staging(s.client.transport(), &staging)
            .await
            .map_err(explain)?
            .map_err(|r| standing_refused(&r, &patient, &me))?;
        (staging, s.signer().insecure_clone())
    };
    // encrypt into the resume file: the ciphertext, then the header with its hashes and the
    // data key wrapped to the custodian
    let mut resume_file = std::fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .read(true)
        .mode_0600()
        .open(&resume_path)
        .with_context(|| {
            format!(
                "cannot create the resume file {} (pass --resume-file PATH to put it elsewhere). Nothing was anchored",
                resume_path.display()
            )
        })?;
    let mut remove_resume = Removed(Some(resume_path.clone()));
    // the magic first: a put killed while it encrypts leaves a file `--resume` recognises
    let mut blank = RESUME_MAGIC.as_bytes().to_vec();
    blank.resize(RESUME_HEADER as usize, b' ');
    resume_file.write_all(&blank)?;
    let key = DataKey::generate();
    let identity = RecordIdentity::new(staging.patient, staging.index, 1, staging.class);
    let sealed = seal_into(file, &identity, &key, profile, resume_file.try_clone()?)?;
    if sealed.bytes > info.max_upload {
        bail!(
            "{} encrypted to {} bytes; the gateway stores at most {}. Nothing was anchored",
            file.display(),
            sealed.bytes,
            info.max_upload
        );
    }
    let record = staging.record();
    let wrapped = envelope::wrap_key(
        &info.x25519,
        &envelope::custody_info(&careledger_sdk::program::ID, &record),
        &key,
    )
    .map_err(|e| anyhow!("{e}"))?;
    drop(key);
    let resume = Resume {
        file: file.display().to_string(),
        record: record.to_string(),
        patient: staging.patient.to_string(),
        index: staging.index,
        class: staging.class,
        author: staging.uploader.to_string(),
        grant: staging.grant.map(|g| g.to_string()),
        purpose: staging.grant.map(|_| purpose_name.clone()),
        profile: profile.name().to_string(),
        cid: cid_text(&sealed.cid)?,
        sha256: hex(&sealed.sha256),
        ciphertext_bytes: sealed.bytes,
        custodian: custodian.to_string(),
        custodian_x25519: b64().encode(info.x25519),
        wrapped_key: b64().encode(&wrapped),
        gateway: gateway.base().to_string(),
        created_at: unix_now(),
    };
    resume.write_header(&mut resume_file)?;
    drop(resume_file);
    match finish(cli, &gateway, &resume, &resume_path, &signer, Anchored::No).await {
        Ok(done) => Ok(done),
        Err(Failed::BeforeAnchor(e)) => Err(anyhow!("{e:#}. Nothing was anchored")),
        Err(Failed::AfterAnchor(e)) => {
            remove_resume.keep();
            Err(e)
        }
    }
}

/// Whether the record is anchored, as far as a step knows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Anchored {
    No,
    Yes,
}

enum Failed {
    /// Nothing is anchored: the resume file is of no use.
    BeforeAnchor(anyhow::Error),
    /// The record is (or may be) anchored: the resume file finishes it.
    AfterAnchor(anyhow::Error),
}

/// The resume sentence for what can fail once the record may be anchored.
fn resume_hint(resume: &Resume, path: &Path, what: String) -> anyhow::Error {
    anyhow!(
        "{what}. Nothing is lost: {} keeps the ciphertext and its data key wrapped to the custodian (never in the clear); finish with `careledger patient put --resume {}`",
        path.display(),
        path.display()
    )
    .context(format!("record #{} at {}", resume.index, resume.record))
}

/// Stages (unless anchored), anchors (unless anchored), and has the gateway store the record.
async fn finish(
    cli: &Cli,
    gateway: &GatewayClient,
    resume: &Resume,
    path: &Path,
    signer: &Keypair,
    anchored: Anchored,
) -> Result<(Value, String), Failed> {
    let staging = resume.staging().map_err(Failed::BeforeAnchor)?;
    let record = staging.record();
    let wrapped = resume.wrapped().map_err(Failed::BeforeAnchor)?;
    let sha256 = resume.sha256().map_err(Failed::BeforeAnchor)?;
    let body = Body {
        path,
        offset: RESUME_HEADER,
        bytes: resume.ciphertext_bytes,
    };
    if anchored == Anchored::No {
        gateway
            .stage(signer, &staging, &body, &wrapped, &resume.cid, &sha256)
            .await
            .map_err(|e| {
                Failed::BeforeAnchor(anyhow!(
                    "the gateway {} did not take the file: {e:#}",
                    gateway.base()
                ))
            })?;
        anchor(cli, resume, &staging, &sha256).await?;
    }
    match gateway.confirm(signer, &record).await {
        Ok(()) => {}
        Err(ConfirmError::Refused(r)) if r.slug == "not-staged" => {
            // the staged copy expired, or the gateway restarted: send it again, after the anchor
            gateway
                .upload_wrapped(signer, &record, &body, &wrapped)
                .await
                .map_err(|e| {
                    Failed::AfterAnchor(resume_hint(
                        resume,
                        path,
                        format!("the gateway {} did not store it: {e:#}", gateway.base()),
                    ))
                })?;
        }
        Err(e) => {
            return Err(Failed::AfterAnchor(resume_hint(
                resume,
                path,
                format!(
                    "the record is anchored, but the gateway {} did not confirm it stored the file: {e}",
                    gateway.base()
                ),
            )))
        }
    }
    let _ = std::fs::remove_file(path);
    Ok(resume.output(
        gateway.base(),
        format!(
            "record #{} encrypted, anchored at {record} (cid {}) and stored at {}",
            resume.index,
            resume.cid,
            gateway.base()
        ),
    ))
}

/// Anchors the staged record, if its index is still the patient's next.
async fn anchor(
    cli: &Cli,
    resume: &Resume,
    staging: &StagingRequest,
    sha256: &[u8; 32],
) -> Result<(), Failed> {
    let before = Failed::BeforeAnchor;
    let _quiet = quiet(cli);
    let s = session(cli).await.map_err(before)?;
    let next = s
        .client
        .fetch::<careledger_sdk::Patient>(&pda::patient(&staging.patient).0)
        .await
        .map_err(|e| before(explain(e)))?
        .record_count;
    if next != staging.index {
        return Err(before(anyhow!(
            "another record was anchored as #{} while this one uploaded: put the file again (the ciphertext is bound to its index)",
            staging.index
        )));
    }
    let author = match (&staging.grant, &resume.purpose) {
        (None, _) => ix::Author::Patient,
        (Some(_), purpose_name) => ix::Author::Provider {
            wallet: staging.uploader,
            purpose: purpose(purpose_name.as_deref().unwrap_or("treatment")).map_err(before)?,
        },
    };
    let cid = cid::cid_to_bytes(&resume.cid).map_err(|e| before(explain(e)))?;
    let sent = s
        .send(
            ix::RecordAnchor {
                patient_wallet: staging.patient,
                index: staging.index,
                author,
                args: careledger_sdk::RecordAnchorArgs {
                    cid,
                    content_sha256: *sha256,
                    class: staging.class,
                },
            }
            .instruction(),
        )
        .await;
    let sent = match sent {
        Ok(_) => s.finish().await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        // on a ledger folder a failed command saved nothing; over RPC the transaction may
        // still land: the resume file finds out
        return Err(if s.ledger.is_some() {
            Failed::BeforeAnchor(e)
        } else {
            Failed::AfterAnchor(anyhow!(
                "{e:#}. The anchor may still land: finish with `careledger patient put --resume FILE`, which anchors it if it did not"
            ))
        });
    }
    Ok(())
}

/// `patient put --resume FILE`.
async fn resume_put(cli: &Cli, args: &PutArgs, path: &Path) -> Result<(Value, String)> {
    let resume = Resume::read(path)?;
    let gateway = GatewayClient::new(args.gateway.as_deref().unwrap_or(&resume.gateway))?;
    let info: GatewayInfo = gateway.info().await?;
    if info.custodian.to_string() != resume.custodian {
        bail!(
            "the gateway {} answers for custodian {}, but this record's data key is wrapped for {}: pass that custodian's gateway with --gateway",
            gateway.base(),
            info.custodian,
            resume.custodian
        );
    }
    if b64().encode(info.x25519) != resume.custodian_x25519 {
        bail!(
            "the custodian {} now uses another X25519 key than the one this record's data key is wrapped to: the gateway cannot store it. Delete {} and put the file again (retract record #{} first if it is anchored)",
            resume.custodian,
            path.display(),
            resume.index
        );
    }
    let staging = resume.staging()?;
    let record = staging.record();
    let (anchored, signer) = {
        let _quiet = quiet(cli);
        let s = session_as(cli, Access::Shared).await?;
        if s.me() != staging.uploader {
            bail!(
                "{} was written by {}, not by this wallet ({}): pass that wallet's --keypair",
                path.display(),
                staging.uploader,
                s.me()
            );
        }
        let existing: Option<RecordAnchor> =
            s.client.fetch_optional(&record).await.map_err(explain)?;
        let anchored = match existing {
            Some(a) if hex(&a.content_sha256) == resume.sha256 => Anchored::Yes,
            Some(_) => bail!(
                "record #{} ({record}) was anchored with other content than {}'s: this resume file can never be used. Delete it and put the file again",
                resume.index,
                path.display()
            ),
            None => {
                let next = s
                    .client
                    .fetch::<careledger_sdk::Patient>(&pda::patient(&staging.patient).0)
                    .await
                    .map_err(explain)?
                    .record_count;
                if next != staging.index {
                    bail!(
                        "another record took index #{} before this one was anchored: this resume file cannot be anchored (its ciphertext is bound to that index). Delete it and put the file again; nothing of it was anchored",
                        staging.index
                    );
                }
                Anchored::No
            }
        };
        (anchored, s.signer().insecure_clone())
    };
    finish(cli, &gateway, &resume, path, &signer, anchored)
        .await
        .map_err(|f| match f {
            Failed::BeforeAnchor(e) => anyhow!(
                "{e:#}. Nothing was anchored; {} is kept, finish with `careledger patient put --resume {}`",
                path.display(),
                path.display()
            ),
            Failed::AfterAnchor(e) => e,
        })
}

/// `--mode 0600` for the resume file (it holds only ciphertext and a wrapped key, but is
/// nobody else's business).
trait Private {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Private for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt;
        self.mode(0o600)
    }
}

/// `provider get`. Ctrl-C stops it cleanly: the scratch and partial files it made beside
/// `--out` are removed as its work is dropped (a killed process cannot remove them).
pub async fn get(cli: &Cli, args: &GetArgs) -> Result<(Value, String)> {
    tokio::select! {
        done = get_until_done(cli, args) => done,
        _ = tokio::signal::ctrl_c() => bail!(
            "interrupted: nothing was written to {} (if the read was logged already, `careledger provider get` with --event SIGNATURE asks again against it)",
            args.out.display()
        ),
    }
}

async fn get_until_done(cli: &Cli, args: &GetArgs) -> Result<(Value, String)> {
    let nothing = "nothing was logged on chain";
    let secret = super::keys::read_x25519(&args.x25519_key)?;
    let destination = Destination::prepare(&args.out, args.force)?;
    let p = purpose(&args.purpose)?;
    let event = args
        .event
        .as_deref()
        .map(|e| {
            Signature::from_str(e)
                .map_err(|_| anyhow!("--event {e} is not a transaction signature (base58)"))
        })
        .transpose()?;
    let gateway = GatewayClient::new(&args.gateway)?.with_progress(release_progress);
    let info = gateway
        .info()
        .await
        .map_err(|e| anyhow!("{e:#}; {nothing}"))?;
    let (anchor, grant, signer) = {
        let _quiet = quiet(cli);
        let s = session_as(cli, Access::Shared).await?;
        let me = s.me();
        let anchor = anchor_at(&s, &args.record).await?;
        super::keys::check_published(
            &args.x25519_key,
            &me,
            published_key(&s, &me).await?,
            secret.public(),
            "records released to the old key stay readable only with the old key file",
        )?;
        let grant = args
            .grant
            .unwrap_or_else(|| pda::grant(&anchor.patient, &me, p).0);
        (anchor, grant, s.signer().insecure_clone())
    };
    // what the gateway can tell without a log: that it holds the record, for this grantee
    match gateway.probe(&signer, &args.record, Some(grant)).await {
        Err(e) => bail!("{e:#}; {nothing}"),
        Ok(Probe::Held { .. }) => {}
        Ok(Probe::Refused(r)) if r.slug == "not-stored" => bail!(
            "the gateway {} holds no ciphertext for record {}: {nothing}. Ask the record's custodian which gateway stores it",
            gateway.base(),
            args.record
        ),
        // the grant does not allow the read: logging it records the refusal on chain, as the
        // trail promises (unless a logged event is being reused)
        Ok(Probe::Refused(r))
            if event.is_none()
                && matches!(
                    r.slug.as_str(),
                    "grant-not-live" | "no-standing" | "unknown-grant"
                ) => {}
        Ok(Probe::Refused(r)) => bail!("{r}; {nothing}"),
    }
    // the ciphertext, when it comes from IPFS: public bytes, fetched and checked against the
    // anchored CID before anything is logged
    let fetched = match args.ipfs.is_empty() {
        true => None,
        false => Some(
            careledger_records::client::fetch_from_ipfs(
                &args.ipfs,
                &anchor,
                &destination.dir(),
                info.max_upload,
                std::time::Duration::from_secs(args.ipfs_timeout),
            )
            .await
            .map_err(|e| anyhow!("{e}; {nothing}"))?,
        ),
    };
    // the grant's n-th logged read, when this get logs one (on a ledger folder, two reads
    // can share a transaction signature: the number tells them apart)
    let mut read_number = None;
    let request = match event {
        Some(transaction) => ReleaseRequest {
            grantee: signer_key(&signer),
            record: args.record,
            grant,
            transaction,
        },
        None => {
            let _quiet = quiet(cli);
            let s = session(cli).await?;
            let me = s.me();
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
            read_number = out.events.iter().find_map(|e| match e {
                CareledgerEvent::AccessLogged(l) => Some(l.access_count),
                _ => None,
            });
            ReleaseRequest {
                grantee: me,
                record: args.record,
                grant,
                transaction: out.signature,
            }
        }
    };
    let released = match &fetched {
        None => {
            gateway
                .release_to(&signer, &request, &secret, &anchor, destination)
                .await
        }
        Some(fetched) => {
            gateway
                .release_key_and_open(&signer, &request, &secret, &anchor, fetched, destination)
                .await
        }
    };
    let written = released.map_err(|f| {
            // a refusal that a second try cannot change (a replaced grant, a stale event)
            // needs a new log; anything else may pass with the same event, which a release
            // never uses up
            let retryable = f
                .error
                .refusal()
                .is_none_or(|r| matches!(r.status, 404 | 408 | 429 | 500..=599));
            if !retryable {
                anyhow!(
                    "{f}. Access event {} will not be released: run the command again without --event to log a new read",
                    request.transaction
                )
            } else {
                anyhow!(
                    "{f}. The read is logged on chain (transaction {}); ask again with the same event within {} s of it, without a new log: careledger provider get {} --out {} --gateway {} --x25519-key {} --purpose {}{}{} --event {}",
                    request.transaction,
                    info.max_event_age_secs,
                    args.record,
                    args.out.display(),
                    gateway.base(),
                    args.x25519_key.display(),
                    args.purpose,
                    args.grant.map(|g| format!(" --grant {g}")).unwrap_or_default(),
                    args.ipfs.iter().map(|u| format!(" --ipfs {u}")).collect::<String>(),
                    request.transaction
                )
            }
        })?;
    let cid = cid::cid_to_string(&anchor.cid);
    Ok((
        json!({
            "record": args.record.to_string(),
            "out": args.out.display().to_string(),
            "bytes": written,
            "cid": cid,
            "sha256": hex(&anchor.content_sha256),
            "transaction": request.transaction.to_string(),
            "read": read_number,
            "ciphertext_from": fetched.as_ref().map_or(gateway.base(), |f| f.from.as_str()),
        }),
        format!(
            "record {} released against {}{}; {written} bytes decrypted and checked against the anchor, written to {}{}",
            args.record,
            request.transaction,
            read_number
                .map(|n| format!(" (read #{n} under this grant)"))
                .unwrap_or_default(),
            args.out.display(),
            fetched
                .as_ref()
                .map(|f| format!(" (ciphertext from {}, key from {})", f.from, gateway.base()))
                .unwrap_or_default()
        ),
    ))
}

fn signer_key(signer: &Keypair) -> Pubkey {
    use careledger_sdk::Signer;
    signer.pubkey()
}

/// `patient retract` / `provider retract`: marks a record entered-in-error (the program's
/// `record_retract`: the patient, or the record's author with a live write grant; retracting an
/// amendment reinstates the version it replaced). The anchor stays, flagged; a gateway
/// releases it no more.
pub async fn retract(
    s: &Session,
    record: &Pubkey,
    reason: u16,
    purpose_name: &str,
) -> Result<(Value, String)> {
    if reason == 0 {
        bail!("--reason must be a non-zero code (1: entered in error)");
    }
    let me = s.me();
    let anchor = anchor_at(s, record).await?;
    if anchor.status != careledger_sdk::RecordStatus::Current {
        bail!(
            "record #{} is {:?}: only the current version of a record is retracted",
            anchor.index,
            anchor.status
        );
    }
    let by = if me == anchor.patient {
        ix::Author::Patient
    } else if me == anchor.author {
        ix::Author::Provider {
            wallet: me,
            purpose: purpose(purpose_name)?,
        }
    } else {
        bail!(
            "only the record's patient ({}) or its author ({}) retracts it",
            anchor.patient,
            anchor.author
        );
    };
    let out = s
        .send(
            ix::RecordRetract {
                by,
                record: anchor.clone(),
                reason_code: reason,
            }
            .instruction(),
        )
        .await?;
    let mut v = crate::session::sent(&out);
    v["record"] = json!(record.to_string());
    let reinstated = (anchor.version > 1).then(|| pda::record(&anchor.patient, anchor.previous).0);
    v["reinstated"] = json!(reinstated.map(|r| r.to_string()));
    Ok((
        v,
        match reinstated {
            Some(previous) => format!(
                "record #{} retracted (entered in error); the version it amended, {previous}, is current again",
                anchor.index
            ),
            None => format!(
                "record #{} retracted (entered in error): it is never released again",
                anchor.index
            ),
        },
    ))
}

/// The anchor at `record`, or why not in the user's words: no record there (a number the
/// patient does not have), or an account that is not a record (a wallet without its /INDEX).
async fn anchor_at(s: &Session, record: &Pubkey) -> Result<RecordAnchor> {
    match s.client.fetch::<RecordAnchor>(record).await {
        Ok(anchor) => Ok(anchor),
        Err(careledger_sdk::SdkError::AccountNotFound(_)) => bail!(
            "no record is anchored at {record}: if you named it PATIENT/INDEX, that patient has no record with that number (`careledger patient show PATIENT` lists them)"
        ),
        Err(careledger_sdk::SdkError::Decode { .. }) => bail!(
            "{record} is not a record but another account (a wallet?): name a record by its address or as PATIENT/INDEX"
        ),
        Err(e) => Err(explain(e)),
    }
}
