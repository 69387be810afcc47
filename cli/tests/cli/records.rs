//! Records through the gateway, end to end: the CLI and `careledger serve` as separate
//! processes on one ledger folder, the gateway on loopback at a port it picks.
//!
//! Who gains by breaking each rule, and the test here that they cannot:
//! - a grantee keeping access after revocation: an event logged before the revoke is refused;
//! - a grantee asking again with one event: only while it is recent, and only the same data key
//!   again (nothing it did not have); anyone presenting another grantee's transaction;
//! - a stranger signing as the grantee, or for another gateway's domain;
//! - whoever alters the stored ciphertext: the AEAD fails and no file is written;
//! - an uploader whose ciphertext does not match its anchor or key: nothing is stored.
use super::Cli;
use base64::Engine;
use careledger_records::protocol::{release_message, ReleaseRequest};
use careledger_sdk::{pda, Pubkey, Purpose, Signature};
use careledger_server::common::issued_now;
use serde_json::Value;
use std::io::{BufRead, Read, Write};
use std::process::{Child, Stdio};
use std::str::FromStr;

/// A running `careledger serve`, stopped (killed and reaped) when dropped.
pub(crate) struct Gateway {
    /// The `careledger serve` process, or `None` for a gateway the test runs itself.
    pub(crate) child: Option<Child>,
    pub(crate) url: String,
    pub(crate) domain: String,
}

impl Gateway {
    pub(crate) fn start(cli: &Cli, extra: &[&str]) -> Gateway {
        Gateway::start_with_key(cli, "custodian.x25519", extra)
    }

    pub(crate) fn start_with_key(cli: &Cli, key: &str, extra: &[&str]) -> Gateway {
        Gateway::start_with_store(cli, key, "store", extra)
    }

    pub(crate) fn start_with_store(cli: &Cli, key: &str, store: &str, extra: &[&str]) -> Gateway {
        Gateway::start_at(cli, key, store, "127.0.0.1:0", extra)
    }

    /// A gateway listening on `listen` (a replica's port is chosen before its peers start).
    pub(crate) fn start_at(
        cli: &Cli,
        key: &str,
        store: &str,
        listen: &str,
        extra: &[&str],
    ) -> Gateway {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("careledger"))
            .args(["--url", &format!("embedded:{}", cli.path("ledger"))])
            .args(["--keypair", &cli.path("custodian.json"), "serve"])
            .args(["--listen", listen, "--store", &cli.path(store)])
            .args(["--x25519-key", &cli.path(key)])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        if line.is_empty() {
            let mut err = String::new();
            child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("the gateway did not start: {err}");
        }
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .expect("address")
            .to_string();
        // the domain it signs for: its address, or --domain
        let domain = line
            .split("(domain ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .expect("domain")
            .to_string();
        Gateway {
            child: Some(child),
            url,
            domain,
        }
    }

    /// A handle on a gateway the test serves in-process at `url`.
    pub(crate) fn attached(url: &str) -> Gateway {
        Gateway {
            child: None,
            url: url.to_string(),
            domain: url.trim_start_matches("http://").to_string(),
        }
    }
}

impl Drop for Gateway {
    /// Stops `careledger serve` as an operator would (SIGTERM), so that it removes its scratch
    /// directory on the way out; killed if it has not exited within 5 s.
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let terminated = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            for _ in 0..100 {
                if !terminated || !matches!(child.try_wait(), Ok(None)) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An axum app the test serves on 127.0.0.1 (a port the OS picks), in a thread of its own;
/// stopped (gracefully, then joined) when dropped.
pub(crate) struct Loopback {
    pub(crate) url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Loopback {
    pub(crate) fn serve(app: axum::Router) -> Loopback {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime().block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            })
        });
        Loopback {
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Puts `bytes` (written to `file`) as the patient's lab result through `gw`, for the
/// custodian; the put's JSON (record, cid, sha256, …).
pub(crate) fn put_lab(cli: &Cli, gw: &Gateway, file: &str, bytes: &[u8]) -> Value {
    std::fs::write(cli.path(file), bytes).unwrap();
    cli.json(
        "patient.json",
        &[
            "patient",
            "put",
            &cli.path(file),
            "--class",
            "lab-result",
            "--gateway",
            &gw.url,
            "--custodian",
            &custodian(cli),
        ],
    )
}

/// Content that compresses badly and differs per seed.
pub(crate) fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Every event the ledger folder holds, oldest first.
pub(crate) fn events(cli: &Cli) -> Vec<careledger_sdk::CareledgerEvent> {
    use careledger_sdk::embedded::folder::{Access, Folder};
    let folder = Folder::open(
        std::path::Path::new(&cli.path("ledger")),
        Access::Shared,
        std::time::Duration::from_secs(60),
    )
    .expect("ledger folder");
    let snapshot = folder.load().expect("load");
    careledger_sdk::embedded::folder::decode_events(&folder, &snapshot).expect("events")
}

/// How many reads were logged on chain (allowed or refused).
pub(crate) fn reads_logged(cli: &Cli) -> (usize, usize) {
    use careledger_sdk::CareledgerEvent as E;
    let events = events(cli);
    (
        events
            .iter()
            .filter(|e| matches!(e, E::AccessLogged(_)))
            .count(),
        events
            .iter()
            .filter(|e| matches!(e, E::AccessRefused(_)))
            .count(),
    )
}

/// The files a folder of the test holds now (none if it does not exist).
pub(crate) fn files_in(cli: &Cli, dir: &str) -> Vec<String> {
    std::fs::read_dir(cli.path(dir))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// What the gateway answered: status, content type, body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
    /// A release's x-careledger-wrapped-key header.
    pub(crate) wrapped_key: Option<String>,
}

impl Answer {
    pub(crate) fn problem(&self) -> Value {
        assert_eq!(
            self.content_type, "application/problem+json",
            "{}",
            self.status
        );
        serde_json::from_slice(&self.body).expect("problem json")
    }

    /// Asserts a problem of this status and type slug.
    pub(crate) fn refused(&self, status: u16, slug: &str) -> Value {
        let p = self.problem();
        assert_eq!(self.status, status, "{p}");
        assert!(
            p["type"]
                .as_str()
                .is_some_and(|t| t.ends_with(&format!("/{slug}"))),
            "expected {slug}: {p}"
        );
        p
    }
}

pub(crate) fn send(request: reqwest::RequestBuilder) -> Answer {
    runtime().block_on(async {
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let wrapped_key = response
            .headers()
            .get(careledger_records::protocol::WRAPPED_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await.expect("body").to_vec();
        Answer {
            status,
            content_type,
            body,
            wrapped_key,
        }
    })
}

pub(crate) fn keypair(cli: &Cli, name: &str) -> solana_keypair::Keypair {
    solana_keypair::read_keypair_file(cli.path(name)).expect("keypair")
}

/// A release request for `tx`, signed by `signer` as `grantee`, for `domain`: the message
/// and its signature.
pub(crate) fn signed_release(
    signer: &solana_keypair::Keypair,
    grantee: Pubkey,
    domain: &str,
    record: Pubkey,
    grant: Pubkey,
    tx: &str,
) -> (String, String) {
    let request = ReleaseRequest {
        grantee,
        record,
        grant,
        transaction: Signature::from_str(tx).expect("signature"),
    };
    let nonce = careledger_identity::siws::new_nonce();
    let text = release_message(domain, &request, nonce, issued_now()).to_text();
    use solana_signer::Signer;
    let signature = signer.sign_message(text.as_bytes()).to_string();
    (text, signature)
}

pub(crate) fn post_release(gw: &Gateway, record: Pubkey, signed: &(String, String)) -> Answer {
    send(
        reqwest::Client::new()
            .post(format!("{}/v1/records/{record}/release", gw.url))
            .json(&serde_json::json!({"message": signed.0, "signature": signed.1})),
    )
}

/// Signs and posts a release request.
pub(crate) fn release(
    gw: &Gateway,
    signer: &solana_keypair::Keypair,
    grantee: Pubkey,
    domain: &str,
    record: Pubkey,
    grant: Pubkey,
    tx: &str,
) -> Answer {
    let signed = signed_release(signer, grantee, domain, record, grant, tx);
    post_release(gw, record, &signed)
}

/// Admin, patient, custodian (with its published key), and `clinics` verified clinicians with
/// published keys; returns their wallets.
pub(crate) fn world(cli: &Cli, clinics: &[&str]) -> (String, Vec<String>) {
    cli.keygen("admin.json");
    let patient = cli.keygen("patient.json");
    cli.keygen("custodian.json");
    std::fs::write(cli.path("licence.pdf"), b"licence").unwrap();
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    let key = |who: &str, file: &str| {
        cli.ok(who, &["keys", "new", "--outfile", &cli.path(file)]);
        cli.ok(who, &["keys", "publish", "--x25519-key", &cli.path(file)]);
    };
    key("custodian.json", "custodian.x25519");
    let mut wallets = Vec::new();
    for name in clinics {
        let wallet = cli.keygen(&format!("{name}.json"));
        cli.ok(
            &format!("{name}.json"),
            &[
                "provider",
                "register",
                "--roles",
                "clinician",
                "--credential-file",
                &cli.path("licence.pdf"),
            ],
        );
        cli.ok(
            "admin.json",
            &["authority", "verify", &wallet, "--roles", "clinician"],
        );
        key(&format!("{name}.json"), &format!("{name}.x25519"));
        wallets.push(wallet);
    }
    (patient, wallets)
}

pub(crate) fn custodian(cli: &Cli) -> String {
    cli.ok("custodian.json", &["address"]).trim().to_string()
}

pub(crate) fn grant(cli: &Cli, wallet: &str) {
    cli.ok(
        "patient.json",
        &[
            "patient",
            "grant",
            wallet,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
            "--actions",
            "read",
            "--days",
            "7",
        ],
    );
}

pub(crate) fn get_args<'a>(
    cli: &'a Cli,
    gw: &'a Gateway,
    who: &str,
    record: &'a str,
    out: &'a str,
) -> Vec<String> {
    [
        "provider",
        "get",
        record,
        "--out",
        out,
        "--gateway",
        &gw.url,
        "--x25519-key",
        &cli.path(&format!("{who}.x25519")),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The X25519 secret in a `careledger keys new` file.
pub(crate) fn x25519(cli: &Cli, file: &str) -> careledger_records::envelope::KeyAgreementSecret {
    let text = std::fs::read_to_string(cli.path(file)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v["x25519_secret"].as_str().unwrap())
        .unwrap();
    careledger_records::envelope::KeyAgreementSecret::from_bytes(bytes.try_into().unwrap())
}

/// The data key a release answered (from its wrapped-key header), unwrapped by the grantee.
pub(crate) fn released_key(
    answer: &Answer,
    secret: &careledger_records::envelope::KeyAgreementSecret,
    record: Pubkey,
    grant: Pubkey,
) -> [u8; 32] {
    let wrapped = answer.wrapped_key.as_deref().expect("a wrapped key");
    let wrapped = base64::engine::general_purpose::STANDARD
        .decode(wrapped)
        .unwrap();
    let info =
        careledger_records::envelope::release_info(&careledger_sdk::program::ID, &record, &grant);
    *careledger_records::envelope::unwrap_key(secret, &info, &wrapped)
        .expect("wrapped to the grantee")
        .as_bytes()
}

pub(crate) fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_record_is_released_only_against_live_consent() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic", "stranger"]);
    let (clinic, stranger) = (&wallets[0], &wallets[1]);
    let lab = content(2_500_000, 1);
    std::fs::write(cli.path("lab.bin"), &lab).unwrap();
    let gw = Gateway::start(&cli, &[]);

    let put = cli.json(
        "patient.json",
        &[
            "patient",
            "put",
            &cli.path("lab.bin"),
            "--class",
            "lab-result",
            "--gateway",
            &gw.url,
            "--custodian",
            &custodian(&cli),
        ],
    );
    let record = put["record"].as_str().unwrap().to_string();
    let cid = put["cid"].as_str().unwrap().to_string();
    assert!(
        cid.starts_with("bafy"),
        "a 2.5 MB ciphertext is a DAG: {cid}"
    );
    // the gateway holds the ciphertext under its CID, and `careledger cid` agrees with the anchor
    let object = cli.path(&format!("store/objects/{cid}"));
    assert_eq!(cli.ok("patient.json", &["cid", &object]).trim(), cid);
    let stored = std::fs::read(&object).unwrap();
    assert!(stored.len() > lab.len() && !stored.windows(64).any(|w| w == &lab[1000..1064]));

    // no grant yet: the read is refused, and the refusal is on the patient's trail
    let got = cli.path("got.bin");
    let args = get_args(&cli, &gw, "clinic", &record, &got);
    cli.fails(
        "clinic.json",
        &strs(&args),
        "refused the read (NoGrant); the refusal is recorded on chain",
    );
    assert!(!std::path::Path::new(&got).exists());

    grant(&cli, clinic);
    let out = cli.json("clinic.json", &strs(&args));
    assert_eq!(
        std::fs::read(&got).unwrap(),
        lab,
        "put → grant → get gives identical bytes"
    );
    let tx = out["transaction"].as_str().unwrap().to_string();

    let record_key = Pubkey::from_str(&record).unwrap();
    let clinic_key = Pubkey::from_str(clinic).unwrap();
    let patient_key = Pubkey::from_str(&patient).unwrap();
    let grant_key = pda::grant(&patient_key, &clinic_key, Purpose::Treatment).0;
    let clinic_kp = keypair(&cli, "clinic.json");
    let stranger_kp = keypair(&cli, "stranger.json");

    // the same event again, while it is recent: the same ciphertext and the same data key, to
    // the same grantee (a release is a function of the request and the ledger; the read was
    // logged once, and nothing new is learnt)
    let clinic_secret = x25519(&cli, "clinic.x25519");
    let again = release(
        &gw, &clinic_kp, clinic_key, &gw.domain, record_key, grant_key, &tx,
    );
    assert_eq!(again.status, 200);
    assert_eq!(again.body, stored);
    let first_key = released_key(&again, &clinic_secret, record_key, grant_key);
    let third = release(
        &gw, &clinic_kp, clinic_key, &gw.domain, record_key, grant_key, &tx,
    );
    assert_eq!(
        released_key(&third, &clinic_secret, record_key, grant_key),
        first_key
    );
    assert_eq!(reads_logged(&cli), (1, 1), "no release logs a read");
    // a stranger presents the clinic's transaction as its own
    let stranger_key = Pubkey::from_str(stranger).unwrap();
    release(
        &gw,
        &stranger_kp,
        stranger_key,
        &gw.domain,
        record_key,
        grant_key,
        &tx,
    )
    .refused(403, "another-grantee");
    // the very same signed message again (an eavesdropper's replay over plain HTTP): the same
    // answer, wrapped to the clinic's published key, which only the clinic opens
    let signed = signed_release(
        &clinic_kp, clinic_key, &gw.domain, record_key, grant_key, &tx,
    );
    for _ in 0..2 {
        let replayed = post_release(&gw, record_key, &signed);
        assert_eq!(replayed.status, 200);
        assert_eq!(
            released_key(&replayed, &clinic_secret, record_key, grant_key),
            first_key
        );
    }
    // the release is in the gateway's log, with its event and transaction: once, however
    // often it is asked again (asking again writes nothing, so it fills no disk)
    let log = std::fs::read_to_string(cli.path("store/used.log")).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains(tx.as_str())).count(), 1);
    assert!(log.lines().all(|l| l.contains(" key+ciphertext ")), "{log}");
    // a stranger signs a request in the clinic's name
    release(
        &gw,
        &stranger_kp,
        clinic_key,
        &gw.domain,
        record_key,
        grant_key,
        &tx,
    )
    .refused(401, "bad-sign-in");
    // a request signed for another gateway is not valid here
    release(
        &gw,
        &clinic_kp,
        clinic_key,
        "records.elsewhere.example",
        record_key,
        grant_key,
        &tx,
    )
    .refused(401, "bad-sign-in");

    // tampering with the stored ciphertext: the AEAD catches it and nothing is written
    let mut altered = stored.clone();
    altered[stored.len() / 2] ^= 1;
    std::fs::write(&object, &altered).unwrap();
    let tampered = cli.path("tampered.bin");
    let args_t = get_args(&cli, &gw, "clinic", &record, &tampered);
    cli.fails("clinic.json", &strs(&args_t), "does not decrypt");
    assert!(!std::path::Path::new(&tampered).exists());
    assert!(std::fs::read_dir(cli.dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("partial")));
    std::fs::write(&object, &stored).unwrap();

    // the custodian rotates its key: records stored under the old one stay releasable when the
    // gateway is given it, and the old key alone no longer starts the gateway
    drop(gw);
    cli.ok(
        "custodian.json",
        &["keys", "new", "--outfile", &cli.path("custodian2.x25519")],
    );
    cli.ok(
        "custodian.json",
        &[
            "keys",
            "publish",
            "--x25519-key",
            &cli.path("custodian2.x25519"),
        ],
    );
    let old_key = cli.path("custodian.x25519");
    let gw = Gateway::start_with_key(
        &cli,
        "custodian2.x25519",
        &["--previous-x25519-key", &old_key],
    );
    let rotated = cli.path("rotated.bin");
    let args_r = get_args(&cli, &gw, "clinic", &record, &rotated);
    cli.ok("clinic.json", &strs(&args_r));
    assert_eq!(std::fs::read(&rotated).unwrap(), lab);
    let serve_old = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--store",
        &cli.path("store2"),
        "--x25519-key",
        &old_key,
    ];
    cli.fails("custodian.json", &serve_old, "is not the X25519 key");

    // an access logged while the grant lived, then the patient revokes: no release for it
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    let early = logged["signature"].as_str().unwrap().to_string();
    cli.ok(
        "patient.json",
        &["patient", "revoke", clinic, "--purpose", "treatment"],
    );
    release(
        &gw, &clinic_kp, clinic_key, &gw.domain, record_key, grant_key, &early,
    )
    .refused(403, "grant-not-live");
    // and a get after revocation is refused on chain, with the refusal recorded
    let late = cli.path("late.bin");
    let args_l = get_args(&cli, &gw, "clinic", &record, &late);
    cli.fails("clinic.json", &strs(&args_l), "refused the read (Revoked)");
    assert!(!std::path::Path::new(&late).exists());
    // the patient's FHIR export shows the refused read of this record
    let audit: Value =
        serde_json::from_str(&cli.ok("patient.json", &["patient", "audit"])).unwrap();
    let refused = audit["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["outcomeDesc"] == "refused: Revoked")
        .filter(|e| e.to_string().contains(&record))
        .count();
    assert!(refused >= 1, "{audit}");
}

#[test]
fn eight_grantees_fetch_at_once() {
    let cli = Cli::new();
    let names: Vec<String> = (0..8).map(|i| format!("clinic{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_patient, wallets) = world(&cli, &refs);
    let lab = content(1_500_000, 2);
    std::fs::write(cli.path("lab.bin"), &lab).unwrap();
    let gw = Gateway::start(&cli, &[]);
    let put = cli.json(
        "patient.json",
        &[
            "patient",
            "put",
            &cli.path("lab.bin"),
            "--class",
            "lab-result",
            "--gateway",
            &gw.url,
            "--custodian",
            &custodian(&cli),
        ],
    );
    let record = put["record"].as_str().unwrap().to_string();
    for wallet in &wallets {
        grant(&cli, wallet);
    }
    let children: Vec<(String, Child)> = names
        .iter()
        .map(|name| {
            let out = cli.path(&format!("{name}.got"));
            let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("careledger"))
                .env("CARELEDGER_NO_PROGRESS", "1")
                .args(["--url", &format!("embedded:{}", cli.path("ledger"))])
                .args(["--keypair", &cli.path(&format!("{name}.json"))])
                .args(get_args(&cli, &gw, name, &record, &out))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("get");
            (out, child)
        })
        .collect();
    for (out, child) in children {
        let done = child.wait_with_output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert_eq!(std::fs::read(&out).unwrap(), lab);
    }
}

#[test]
fn the_gateway_answers_bad_requests_with_problem_details() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic"]);
    let gw = Gateway::start(&cli, &["--max-upload", "4000", "--idle-timeout", "2"]);
    let http = reqwest::Client::new();

    send(http.get(format!("{}/v1/nowhere", gw.url))).refused(404, "no-such-route");
    let info: Value =
        serde_json::from_slice(&send(http.get(format!("{}/v1/gateway", gw.url))).body).unwrap();
    assert_eq!(info["domain"], gw.domain);
    let unknown = Pubkey::new_unique();
    let release_url = format!("{}/v1/records/{unknown}/release", gw.url);
    send(http.post(&release_url).body("hello")).refused(415, "not-json");
    send(
        http.post(&release_url)
            .header("content-type", "application/json")
            .body("{\"message\": 3"),
    )
    .refused(400, "malformed-request");
    send(
        http.post(&release_url)
            .header("content-type", "application/json")
            .body(vec![b' '; 20_000]),
    )
    .refused(413, "request-too-large");
    send(http.post(format!("{}/v1/records/not-an-address/release", gw.url)))
        .refused(400, "bad-address");
    // a well-signed request against no access event: the ledger decides first, so nobody
    // learns from it which records this gateway holds
    let clinic_kp = keypair(&cli, "clinic.json");
    let clinic = Pubkey::from_str(&wallets[0]).unwrap();
    let fake_tx = Signature::from([9u8; 64]).to_string();
    release(
        &gw,
        &clinic_kp,
        clinic,
        &gw.domain,
        unknown,
        Pubkey::new_unique(),
        &fake_tx,
    )
    .refused(422, "unknown-transaction");

    // a gateway answering for another custodian than the one the author names gets no key
    let custodian = custodian(&cli);
    std::fs::write(cli.path("small.bin"), b"a lab result").unwrap();
    cli.fails(
        "patient.json",
        &[
            "patient",
            "put",
            &cli.path("small.bin"),
            "--class",
            "lab-result",
            "--gateway",
            &gw.url,
            "--custodian",
            &wallets[0],
        ],
        "refusing to hand it a data key",
    );

    // an upload over the limit is refused before anything is anchored or stored
    std::fs::write(cli.path("big.bin"), content(5_000, 3)).unwrap();
    let args = [
        "patient",
        "put",
        &cli.path("big.bin"),
        "--class",
        "lab-result",
        "--gateway",
        &gw.url,
        "--custodian",
        &custodian,
    ];
    cli.fails(
        "patient.json",
        &args,
        "stores at most 4000 bytes. Nothing was anchored",
    );
    let shown = cli.json("patient.json", &["patient", "show"]);
    assert_eq!(
        shown["records"].as_array().map(Vec::len),
        Some(0),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_dir(cli.path("store/records"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(
        std::fs::read_dir(cli.path("store/objects"))
            .unwrap()
            .count(),
        0
    );
    assert_eq!(std::fs::read_dir(cli.path("store/tmp")).unwrap().count(), 0);

    // a plain anchored file, uploaded with a key not wrapped to this gateway, or as a stranger
    std::fs::write(cli.path("small.bin"), b"not a careledger ciphertext").unwrap();
    let anchored = cli.json(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("small.bin"),
            "--class",
            "lab-result",
        ],
    );
    let record = anchored["record"].as_str().unwrap().to_string();
    let patient_kp = keypair(&cli, "patient.json");
    let upload = |signer: &solana_keypair::Keypair, wrapped: Vec<u8>| {
        use solana_signer::Signer;
        let message = careledger_records::protocol::upload_message(
            &gw.domain,
            &signer.pubkey(),
            &Pubkey::from_str(&record).unwrap(),
            careledger_identity::siws::new_nonce(),
            issued_now(),
        );
        let text = message.to_text();
        let b64 = base64::engine::general_purpose::STANDARD;
        send(
            http.put(format!("{}/v1/records/{record}", gw.url))
                .header("x-careledger-sign-in", b64.encode(&text))
                .header(
                    "x-careledger-signature",
                    signer.sign_message(text.as_bytes()).to_string(),
                )
                .header("x-careledger-wrapped-key", b64.encode(wrapped))
                .body(std::fs::read(cli.path("small.bin")).unwrap()),
        )
    };
    upload(&clinic_kp, vec![0; 80]).refused(403, "not-the-author");
    upload(&patient_kp, vec![0; 80]).refused(422, "bad-wrapped-key");
    let gateway_key: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(info["x25519"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let wrapped = careledger_records::envelope::wrap_key(
        &gateway_key,
        &careledger_records::envelope::custody_info(
            &careledger_sdk::program::ID,
            &Pubkey::from_str(&record).unwrap(),
        ),
        &careledger_records::envelope::DataKey::generate(),
    )
    .unwrap();
    // a careledger header with the right chunk size, then bytes no data key opens
    let mut forged = b"\x89CLREC\r\n\x01".to_vec();
    forged.extend_from_slice(&65_536u32.to_le_bytes());
    forged.extend_from_slice(&[7u8; 200]);
    std::fs::write(cli.path("small.bin"), &forged).unwrap();
    upload(&patient_kp, wrapped.clone()).refused(422, "does-not-decrypt");
    // a header asking for 1-byte chunks (17 times the work per byte) is refused before any
    let mut header = vec![0u8; 32];
    header[..8].copy_from_slice(b"\x89CLREC\r\n");
    header[8] = 1;
    header[9..13].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(cli.path("small.bin"), &header).unwrap();
    upload(&patient_kp, wrapped).refused(422, "bad-chunk-size");
    assert_eq!(
        std::fs::read_dir(cli.path("store/records"))
            .unwrap()
            .count(),
        0
    );

    // a granted, logged read of a record this gateway never stored: now it may say so
    grant(&cli, &wallets[0]);
    let index = anchored["index"].as_u64().unwrap().to_string();
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", &index],
    );
    let patient_key = Pubkey::from_str(&patient).unwrap();
    release(
        &gw,
        &clinic_kp,
        clinic,
        &gw.domain,
        Pubkey::from_str(&record).unwrap(),
        pda::grant(&patient_key, &clinic, Purpose::Treatment).0,
        logged["signature"].as_str().unwrap(),
    )
    .refused(404, "not-stored");

    // a client that trickles its headers is cut off, and one that stalls its body times out
    let started = std::time::Instant::now();
    let mut slow = std::net::TcpStream::connect(&gw.domain).unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    slow.write_all(b"POST /v1/records/x/release HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let mut stall = std::net::TcpStream::connect(&gw.domain).unwrap();
    stall
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        stall,
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        release_url.trim_start_matches(&gw.url),
        gw.domain
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stall.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
}

/// `serve` listens before it creates its store, so a port in use leaves nothing behind; and a
/// key file other than the published one is named as such, with publishing offered only as a
/// deliberate rotation (publishing it would make another party's key the custodian's).
#[test]
fn serve_leaves_nothing_when_it_cannot_start() {
    let cli = Cli::new();
    world(&cli, &[]);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let serve = |key: &str, listen: &str| {
        cli.stderr_of_failure(
            "custodian.json",
            &[
                "serve",
                "--listen",
                listen,
                "--store",
                &cli.path("store"),
                "--x25519-key",
                &cli.path(key),
            ],
        )
    };
    let err = serve("custodian.x25519", &address);
    assert!(
        err.contains(&format!("cannot listen on {address}")),
        "{err}"
    );
    assert!(!std::path::Path::new(&cli.path("store")).exists());
    let published = cli.ok("custodian.json", &["keys", "show"]);
    cli.ok(
        "custodian.json",
        &["keys", "new", "--outfile", &cli.path("other.x25519")],
    );
    let err = serve("other.x25519", "127.0.0.1:0");
    assert!(
        err.contains("is not the X25519 key published for wallet"),
        "{err}"
    );
    assert!(err.contains("only to rotate the key on purpose"), "{err}");
    assert!(!err.contains("publish it with"), "{err}");
    assert!(!std::path::Path::new(&cli.path("store")).exists());
    assert_eq!(cli.ok("custodian.json", &["keys", "show"]), published);
}
