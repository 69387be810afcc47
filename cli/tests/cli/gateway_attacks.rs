//! The record gateway's availability under attack (issue 23, G1-G3), on loopback: each attack
//! is sent as the attacker would, and the legitimate request it used to deny then goes
//! through. Figures go to target/reports/gateway_*.txt (run with --nocapture to see them).
//!
//! - G1, who gains: anyone who wants a hospital's records unstored (a rival, an extortionist);
//!   self-registered wallets with trickled uploads held every upload slot.
//! - G2, the same; one signer's refused (or endless) requests filled the signed-message table
//!   that every release needs.
//! - G3, the same; silent connections held every connection slot.
use super::ledger_folder::report;
use super::records::{content, custodian, get_args, grant, keypair, send, strs, world};
use super::records::{reads_logged, runtime, Gateway};
use super::Cli;
use base64::Engine;
use careledger_sdk::{Pubkey, Signer};
use careledger_server::common::issued_now;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// The gateway's X25519 key, from `GET /v1/gateway`.
fn gateway_key(url: &str) -> [u8; 32] {
    let info: serde_json::Value =
        serde_json::from_slice(&send(reqwest::Client::new().get(format!("{url}/v1/gateway"))).body)
            .unwrap();
    b64()
        .decode(info["x25519"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// A data key wrapped to the gateway for `record`: an upload with it takes a slot.
fn wrapped_for(url: &str, record: &Pubkey) -> Vec<u8> {
    wrap(
        url,
        record,
        &careledger_records::envelope::DataKey::generate(),
    )
}

fn wrap(url: &str, record: &Pubkey, key: &careledger_records::envelope::DataKey) -> Vec<u8> {
    careledger_records::envelope::wrap_key(
        &gateway_key(url),
        &careledger_records::envelope::custody_info(&careledger_sdk::program::ID, record),
        key,
    )
    .unwrap()
}

/// A genuine ciphertext of record #`index` of `patient` under `key`: what an attacker who
/// anchored its own record can send, every chunk of it decrypting.
fn genuine(patient: Pubkey, index: u32, key: &careledger_records::envelope::DataKey) -> Vec<u8> {
    let identity = careledger_records::envelope::RecordIdentity::new(
        patient,
        index,
        1,
        careledger_sdk::classes::RecordClass::LabResult.id(),
    );
    let mut out = Vec::new();
    careledger_records::sealing::seal(
        &identity,
        key,
        careledger_records::unixfs::Profile::UnixfsV1_2025,
        &content(200_000, u64::from(index))[..],
        |piece| {
            out.extend_from_slice(piece);
            Ok(())
        },
    )
    .unwrap();
    out
}

/// The sign-in headers of an upload (or a confirm) by `signer` for `record`.
fn upload_sign_in(
    domain: &str,
    signer: &solana_keypair::Keypair,
    record: &Pubkey,
) -> (String, String) {
    let message = careledger_records::protocol::upload_message(
        domain,
        &signer.pubkey(),
        record,
        careledger_identity::siws::new_nonce(),
        issued_now(),
    );
    let text = message.to_text();
    (
        b64().encode(&text),
        signer.sign_message(text.as_bytes()).to_string(),
    )
}

/// Anchors a plain file for `who` (a self-registered patient): a record it is the author of.
fn anchored(cli: &Cli, who: &str, seed: u64) -> Pubkey {
    let file = cli.path(&format!("{who}-{seed}.bin"));
    std::fs::write(&file, content(1000, seed)).unwrap();
    let out = cli.json(who, &["patient", "anchor", &file, "--class", "lab-result"]);
    Pubkey::from_str(out["record"].as_str().unwrap()).unwrap()
}

/// An upload that sends its head, then one byte of `body` a second: what it was answered, and
/// how long it held on. Bounded: it stops writing after 60 bytes, and waits at most 60 s.
fn trickle(domain: &str, head: String, body: Vec<u8>) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(domain).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = stream.try_clone().unwrap();
    let stopped = stop.clone();
    let drip = std::thread::spawn(move || {
        for byte in body.iter().take(60) {
            if stopped.load(Ordering::SeqCst) || writer.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let held = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    drip.join().unwrap();
    (String::from_utf8_lossy(&answer).to_string(), held)
}

/// G1: two self-registered wallets with two anchored records each trickle four uploads
/// (genuine ciphertexts of their own records, one byte a second) into a gateway of four upload slots. While they hold the slots a fifth upload gets 503 `busy`;
/// from its first byte each trickle owes 64 KiB/s after a 5 s grace, so each is cut with 408
/// `slow-request` (before: no minimum rate for the first 30 s, and a pause of up to 30 s at
/// any time); then a real patient's put goes through.
#[test]
fn g1_trickled_uploads_lose_their_slots_and_a_real_put_goes_through() {
    let cli = Cli::new();
    world(&cli, &[]);
    let attackers = ["a1.json", "a2.json", "a3.json"];
    for who in attackers {
        cli.keygen(who);
        cli.ok(who, &["patient", "register"]);
    }
    let records = [
        ("a1.json", 0, anchored(&cli, "a1.json", 1)),
        ("a1.json", 1, anchored(&cli, "a1.json", 2)),
        ("a2.json", 0, anchored(&cli, "a2.json", 3)),
        ("a2.json", 1, anchored(&cli, "a2.json", 4)),
    ];
    let spare = anchored(&cli, "a3.json", 5);
    let gw = Gateway::start(&cli, &["--max-uploads", "4"]);

    let trickles: Vec<_> = records
        .iter()
        .map(|(who, index, record)| {
            let signer = keypair(&cli, who);
            let key = careledger_records::envelope::DataKey::generate();
            let body = genuine(signer.pubkey(), *index, &key);
            let (sign_in, signature) = upload_sign_in(&gw.domain, &signer, record);
            let head = format!(
                "PUT /v1/records/{record} HTTP/1.1\r\nHost: {}\r\nx-careledger-sign-in: {sign_in}\r\nx-careledger-signature: {signature}\r\nx-careledger-wrapped-key: {}\r\nContent-Length: {}\r\n\r\n",
                gw.domain,
                b64().encode(wrap(&gw.url, record, &key)),
                body.len(),
            );
            let domain = gw.domain.clone();
            std::thread::spawn(move || trickle(&domain, head, body))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    // the slots are taken: a fifth author's upload is turned away
    let a3 = keypair(&cli, "a3.json");
    let (sign_in, signature) = upload_sign_in(&gw.domain, &a3, &spare);
    let fifth = send(
        reqwest::Client::new()
            .put(format!("{}/v1/records/{spare}", gw.url))
            .header("x-careledger-sign-in", sign_in)
            .header("x-careledger-signature", signature)
            .header(
                "x-careledger-wrapped-key",
                b64().encode(wrapped_for(&gw.url, &spare)),
            )
            .body(vec![0u8; 1000]),
    );
    if fifth.status != 503 {
        let answers: Vec<_> = trickles.into_iter().map(|t| t.join().unwrap()).collect();
        panic!("{} {:?}", fifth.status, answers);
    }
    fifth.refused(503, "busy");
    let mut held = Vec::new();
    for trickle in trickles {
        let (answer, time) = trickle.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(answer.contains("/slow-request"), "{answer}");
        assert!(answer.contains("fell below 64 KiB/s"), "{answer}");
        held.push(time);
    }
    // a wallet whose upload was cut cannot take a slot again at once
    let a1 = keypair(&cli, "a1.json");
    let (sign_in, signature) = upload_sign_in(&gw.domain, &a1, &records[0].2);
    let again = send(
        reqwest::Client::new()
            .put(format!("{}/v1/records/{}", gw.url, records[0].2))
            .header("x-careledger-sign-in", sign_in)
            .header("x-careledger-signature", signature)
            .header(
                "x-careledger-wrapped-key",
                b64().encode(wrapped_for(&gw.url, &records[0].2)),
            )
            .body(vec![0u8; 1000]),
    )
    .refused(429, "too-many-requests");
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("may upload again in"),
        "{again}"
    );
    // the real patient's put: staged, anchored, stored
    std::fs::write(cli.path("lab.bin"), content(400_000, 6)).unwrap();
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
    let stored = cli.path(&format!(
        "store/records/{}.json",
        put["record"].as_str().unwrap()
    ));
    assert!(std::path::Path::new(&stored).exists());
    let longest = held.iter().max().copied().unwrap_or_default();
    report(
        "gateway_g1_upload_slots",
        &format!(
            "G1 upload slots (loopback, 4 slots for the test): 4 trickled uploads (genuine ciphertexts, 1 byte/s) by 2 self-registered wallets each held a slot {:.1} s at most, then got 408 slow-request, and their wallets 429 for the next minute; a fifth upload meanwhile: 503 busy; the real put afterwards: stored.\n\
             Before: defaults of 8 slots, 2 per author, no minimum rate for the first 30 s: 4 wallets held every slot at ~0 B/s, 30 to 60 s per upload, and reconnecting kept them (8 uploads per 30 s).\n\
             After: defaults of 64 slots, 2 per author, 64 KiB/s from the first byte after a 5 s grace, a 60 s cool-off per wallet after a slow upload: keeping every slot takes 32 wallets sending 64 x 64 KiB/s = 4 MiB/s (32 Mbit/s) for as long as the denial lasts, or trickles from 64 / 2 x 65 / 5 = 416 wallets with anchored records (each holds its two slots 5 s, then waits 60 s).",
            longest.as_secs_f64()
        ),
    );
}

/// An in-process gateway over the test's ledger folder, with limits of the test's choosing,
/// stopped when dropped.
pub(crate) struct InProcess {
    url: String,
    gateway: Arc<careledger_server::gateway::Gateway<careledger_sdk::embedded::folder::FolderView>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    fn start(cli: &Cli, limits: careledger_server::gateway::Limits) -> InProcess {
        use careledger_sdk::embedded::folder::FolderView;
        use careledger_server::gateway::{self, store::Store};
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(cli.path("custodian.x25519")).unwrap())
                .unwrap();
        let secret: [u8; 32] = b64()
            .decode(file["x25519_secret"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let domain = listener.local_addr().unwrap().to_string();
        let gw = Arc::new(gateway::Gateway::new(
            FolderView::new(cli.path("ledger").into(), Duration::from_secs(60)),
            Store::open(std::path::Path::new(&cli.path("store"))).unwrap(),
            keypair(cli, "custodian.json").pubkey(),
            careledger_records::envelope::KeyAgreementSecret::from_bytes(secret),
            Vec::new(),
            domain.clone(),
            limits,
        ));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = careledger_server::Server::new().gateway(gw.clone());
        let thread = std::thread::spawn(move || {
            runtime().block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let _ = server
                    .serve_until(listener, async {
                        let _ = stopped.await;
                    })
                    .await;
            })
        });
        InProcess {
            url: format!("http://{domain}"),
            gateway: gw,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn as_gateway(&self) -> Gateway {
        // the spawned-process handle the helpers take; this one has no child to stop
        Gateway::attached(&self.url)
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// G2: a self-registered wallet sends signed requests the ledger authorises but that then
/// fail (a key not wrapped to the gateway), and requests the ledger refuses (another's
/// record): none takes a place in the signed-message table (before: every one after the
/// ledger check did, up to the 1,000,000 all clients share). What succeeds is recorded, up to
/// a bounded share per signer (3 here, 4,096 by default); then that signer alone waits, with
/// 429 `too-many-requests`, and a clinic's release goes through.
#[test]
fn g2_only_successful_requests_take_nonces_and_each_signer_a_bounded_share() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    cli.keygen("mallory.json");
    cli.ok("mallory.json", &["patient", "register"]);
    let own = anchored(&cli, "mallory.json", 31);
    let limits = careledger_server::gateway::Limits {
        max_nonces_per_signer: 3,
        ..Default::default()
    };
    let gw = InProcess::start(&cli, limits);
    let domain = gw.url.trim_start_matches("http://").to_string();
    std::fs::write(cli.path("lab.bin"), content(50_000, 32)).unwrap();
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
    let theirs = Pubkey::from_str(put["record"].as_str().unwrap()).unwrap();
    let mallory = keypair(&cli, "mallory.json");
    let http = reqwest::Client::new();
    let upload = |record: &Pubkey| {
        let (sign_in, signature) = upload_sign_in(&domain, &mallory, record);
        send(
            http.put(format!("{}/v1/records/{record}", gw.url))
                .header("x-careledger-sign-in", sign_in)
                .header("x-careledger-signature", signature)
                .header("x-careledger-wrapped-key", b64().encode([0u8; 80]))
                .body(vec![0u8; 100]),
        )
    };
    for _ in 0..30 {
        upload(&own).refused(422, "bad-wrapped-key");
        upload(&theirs).refused(403, "not-the-author");
    }
    assert_eq!(gw.gateway.nonces_held(&mallory.pubkey()).1, 0);
    // successes are remembered, three at most for this signer
    let probe = || {
        let request = careledger_records::protocol::ProbeRequest {
            signer: mallory.pubkey(),
            record: own,
            grant: None,
        };
        let message = careledger_records::protocol::probe_message(
            &domain,
            &request,
            careledger_identity::siws::new_nonce(),
            issued_now(),
        );
        let text = message.to_text();
        send(
            http.get(format!("{}/v1/records/{own}", gw.url))
                .header("x-careledger-sign-in", b64().encode(&text))
                .header(
                    "x-careledger-signature",
                    mallory.sign_message(text.as_bytes()).to_string(),
                ),
        )
    };
    for _ in 0..3 {
        probe().refused(404, "not-stored");
    }
    let p = probe().refused(429, "too-many-requests");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("try again in a few minutes"),
        "{p}"
    );
    assert_eq!(gw.gateway.nonces_held(&mallory.pubkey()).1, 3);
    // another signer is not affected: the clinic's get (a probe and a release)
    let handle = gw.as_gateway();
    let out = cli.path("got.bin");
    cli.ok(
        "clinic.json",
        &strs(&get_args(
            &cli,
            &handle,
            "clinic",
            &theirs.to_string(),
            &out,
        )),
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(cli.path("lab.bin")).unwrap()
    );
    let clinic = keypair(&cli, "clinic.json");
    // the probe's message; a release takes no entry (it is the same answer whenever asked)
    assert_eq!(gw.gateway.nonces_held(&clinic.pubkey()).1, 1);
    assert_eq!(reads_logged(&cli), (1, 0));
    report(
        "gateway_g2_nonce_table",
        "G2 nonce table: 60 signed requests by one self-registered wallet that failed after (30, bad-wrapped-key) or at (30, not-the-author) the ledger's check took 0 entries (before: 30, one per request past the ledger check, without bound: a wallet with one anchored record could fill the 1,000,000 entries at its request rate, and every signed request, releases included, then got 503).\n\
         After: entries are taken only at success, at most 4,096 per signer (0.4 % of the table; 3 in the test, where the 4th got 429 and another signer's release went through); filling the table takes 245 signers, each with 4,096 successes in 6 minutes (a release costs an access transaction, an upload a stored record).",
    );
}

/// G3: silent connections, beyond the connection limit (512 by default), no longer lock a
/// client out: each new connection closes the oldest idle one, and an idle one is cut after
/// the 5 s header timeout (before: 512 silent connections held every slot for 30 s, and
/// `GET /v1/gateway` got no answer).
#[test]
fn g3_idle_connections_cannot_lock_out_a_client() {
    let cli = Cli::new();
    world(&cli, &[]);
    let gw = Gateway::start(&cli, &[]);
    let silent: Vec<TcpStream> = (0..600)
        .map(|_| TcpStream::connect(&gw.domain).unwrap())
        .collect();
    let started = Instant::now();
    let answered = runtime().block_on(async {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
            .get(format!("{}/v1/gateway", gw.url))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let waited = started.elapsed();
    assert_eq!(answered.ok(), Some(200));
    // the oldest silent connection was closed to make room
    let mut first = &silent[0];
    first
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(first.read(&mut byte).ok(), Some(0), "closed by the gateway");
    drop(silent);
    // a head trickled in is cut at the header timeout
    let mut slow = TcpStream::connect(&gw.domain).unwrap();
    slow.write_all(b"GET /v1/gateway HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let cut = Instant::now();
    let mut rest = Vec::new();
    let ended = slow.read_to_end(&mut rest).is_ok();
    assert!(ended, "the gateway closed the trickled head");
    report(
        "gateway_g3_connection_slots",
        &format!(
            "G3 connection slots (loopback, defaults: 512 connections, 5 s header timeout): with 600 silent connections open, GET /v1/gateway answered in {} ms; the oldest silent connection was closed to make room; a trickled head was cut after {:.1} s.\n\
             Before: 512 silent connections held every slot for the 30 s header timeout (17 connections/s kept a client out for good).\n\
             After: silent connections never keep a client out (each new one closes the oldest idle); connections that send part of a head cannot be closed early, and keeping a client out takes 1,024 of them (twice the limit) renewed every 5 s: about 205 connections/s.",
            waited.as_millis(),
            cut.elapsed().as_secs_f64()
        ),
    );
}

/// Every refusal of the gateway's router, not only its handlers', is problem+json.
#[test]
fn a_method_a_route_does_not_take_is_a_problem_too() {
    let cli = Cli::new();
    world(&cli, &[]);
    let gw = Gateway::start(&cli, &[]);
    let http = reqwest::Client::new();
    let answer = send(http.delete(format!("{}/v1/gateway", gw.url)));
    answer.refused(405, "method-not-allowed");
    let answer = send(http.get(format!(
        "{}/v1/records/{}/release",
        gw.url,
        Pubkey::new_unique()
    )));
    answer.refused(405, "method-not-allowed");
    // an upload that declares no length
    let record = Pubkey::new_unique();
    let (sign_in, signature) = upload_sign_in(&gw.domain, &keypair(&cli, "patient.json"), &record);
    let body =
        reqwest::Body::wrap_stream(futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
            vec![0u8; 10],
        )]));
    send(
        http.put(format!("{}/v1/records/{record}", gw.url))
            .header("x-careledger-sign-in", sign_in)
            .header("x-careledger-signature", signature)
            .header("x-careledger-wrapped-key", b64().encode([0u8; 80]))
            .body(body),
    )
    .refused(411, "length-required");
}

/// A ciphertext staged for a record whose anchor never comes is dropped (disk) once its time
/// is up: the author's confirm after a late anchor gets 404 `not-staged`, and the file is gone.
/// Who gains by staging without anchoring: anyone who wants a custodian's disk full.
#[test]
fn staged_uploads_whose_anchor_never_comes_expire() {
    let cli = Cli::new();
    let (patient, _) = world(&cli, &[]);
    let limits = careledger_server::gateway::Limits {
        staged_ttl_secs: 1,
        ..Default::default()
    };
    let gw = InProcess::start(&cli, limits);
    let domain = gw.url.trim_start_matches("http://").to_string();
    let me = keypair(&cli, "patient.json");
    let patient = Pubkey::from_str(&patient).unwrap();
    let record = careledger_sdk::pda::record(&patient, 0).0;
    let key = careledger_records::envelope::DataKey::generate();
    let ciphertext = genuine(patient, 0, &key);
    let sealed = careledger_records::unixfs::cid_of_reader(
        &ciphertext[..],
        careledger_records::unixfs::Profile::UnixfsV1_2025,
    )
    .unwrap()
    .cid;
    let cid = careledger_sdk::cid::cid_to_string(
        &careledger_sdk::program::logic::cid::parse_cid(&sealed).unwrap(),
    );
    let sha256: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&ciphertext)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let (sign_in, signature) = upload_sign_in(&domain, &me, &record);
    let http = reqwest::Client::new();
    let staged = send(
        http.put(format!("{}/v1/records/{record}", gw.url))
            .header("x-careledger-sign-in", sign_in)
            .header("x-careledger-signature", signature)
            .header(
                "x-careledger-wrapped-key",
                b64().encode(wrap(&gw.url, &record, &key)),
            )
            .header("x-careledger-patient", patient.to_string())
            .header("x-careledger-index", "0")
            .header(
                "x-careledger-class",
                careledger_sdk::classes::RecordClass::LabResult
                    .id()
                    .to_string(),
            )
            .header("x-careledger-cid", &cid)
            .header("x-careledger-sha256", &sha256)
            .body(ciphertext.clone()),
    );
    assert_eq!(
        staged.status,
        202,
        "{}",
        String::from_utf8_lossy(&staged.body)
    );
    assert_eq!(gw.gateway.staged_count(), 1);
    assert_eq!(super::records::files_in(&cli, "store/staged").len(), 1);
    std::thread::sleep(Duration::from_millis(2100));
    // the anchor comes late: what was staged is gone
    std::fs::write(cli.path("cipher.bin"), &ciphertext).unwrap();
    cli.ok(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("cipher.bin"),
            "--class",
            "lab-result",
            "--cid",
            &cid,
        ],
    );
    let (sign_in, signature) = upload_sign_in(&domain, &me, &record);
    send(
        http.post(format!("{}/v1/records/{record}/confirm", gw.url))
            .header("x-careledger-sign-in", sign_in)
            .header("x-careledger-signature", signature),
    )
    .refused(404, "not-staged");
    assert_eq!(gw.gateway.staged_count(), 0);
    assert_eq!(
        super::records::files_in(&cli, "store/staged"),
        Vec::<String>::new()
    );
    assert_eq!(
        super::records::files_in(&cli, "store/records"),
        Vec::<String>::new()
    );
}
