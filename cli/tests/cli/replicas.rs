//! Key-service replicas (issue 27 §4): three `careledger serve` of one custodian, each with a
//! store of its own, peers of one another, behind one address (a round-robin front the test
//! runs), over one ledger (a ledger folder here, standing for the cluster they all read).
//!
//! Who gains by breaking each rule, and the test here that they cannot:
//! - a grantee whose grant was revoked, or a stranger, looking for the replica that would
//!   still release: every refusal is the same at every replica, and the same as at a gateway
//!   alone with the record;
//! - a grantee or an eavesdropper replaying a release to another replica for a second read:
//!   it gets the same data key, wrapped to the grantee's key, and no read is logged or lost;
//! - a stranger posing as a replica to learn which records a custodian holds: custody files
//!   go only to the custodian's wallet;
//! - a peer that serves altered bytes: its copy is checked against the anchor before it is
//!   stored, and nothing is released from it;
//! - an operator whose replica dies mid-release: the grantee asks another, and the restarted
//!   replica's store is whole and answers alike.
use super::records::{
    content, custodian, grant, keypair, post_release, reads_logged, released_key, runtime,
    signed_release, world, x25519, Gateway, Loopback,
};
use super::Cli;
use base64::Engine;
use careledger_sdk::{pda, Pubkey, Purpose};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

/// The domain every replica signs for, as behind one address.
const DOMAIN: &str = "records.replicas.test";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The three replicas: their listen addresses and stores.
struct Replicas {
    addresses: Vec<String>,
    running: Vec<Option<Gateway>>,
}

impl Replicas {
    fn start(cli: &Cli) -> Replicas {
        let addresses: Vec<String> = (0..3)
            .map(|_| format!("127.0.0.1:{}", free_port()))
            .collect();
        let mut replicas = Replicas {
            addresses,
            running: vec![None, None, None],
        };
        for i in 0..3 {
            replicas.start_one(cli, i);
        }
        replicas
    }

    fn url(&self, i: usize) -> String {
        format!("http://{}", self.addresses[i])
    }

    fn start_one(&mut self, cli: &Cli, i: usize) {
        let peers: Vec<String> = (0..3).filter(|j| *j != i).map(|j| self.url(j)).collect();
        let mut extra = vec!["--domain", DOMAIN];
        for peer in &peers {
            extra.extend(["--peer", peer.as_str()]);
        }
        let store = format!("store{i}");
        self.running[i] = Some(Gateway::start_at(
            cli,
            "custodian.x25519",
            &store,
            &self.addresses[i],
            &extra,
        ));
    }

    fn gateway(&self, i: usize) -> &Gateway {
        self.running[i].as_ref().expect("running")
    }
}

/// Which route a request is for, and where the front sends the n-th of that route: uploads
/// and confirms, probes and releases each turn round the replicas, the confirm one step
/// behind the upload, so that a record staged at one replica is confirmed at another.
fn route_of(method: &axum::http::Method, path: &str) -> (&'static str, usize) {
    match (method.as_str(), path) {
        ("PUT", _) => ("upload", 0),
        ("POST", p) if p.ends_with("/confirm") => ("confirm", 1),
        ("POST", p) if p.ends_with("/release") => ("release", 0),
        ("GET" | "HEAD", p) if p.starts_with("/v1/records/") => ("probe", 2),
        _ => ("other", 0),
    }
}

/// A round-robin front for the replicas (what a load balancer does), which notes where each
/// request went.
struct Front {
    replicas: Vec<String>,
    turns: Mutex<HashMap<&'static str, usize>>,
    routed: Mutex<Vec<(&'static str, usize)>>,
    http: reqwest::Client,
}

async fn forward(
    axum::extract::State(front): axum::extract::State<Arc<Front>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let (route, offset) = route_of(&parts.method, parts.uri.path());
    let replica = {
        let mut turns = front.turns.lock().unwrap();
        let n = turns.entry(route).or_default();
        let replica = (*n + offset) % front.replicas.len();
        *n += 1;
        replica
    };
    front.routed.lock().unwrap().push((route, replica));
    let body = axum::body::to_bytes(body, 256 << 20).await.expect("body");
    let target = format!(
        "{}{}",
        front.replicas[replica],
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let mut headers = parts.headers.clone();
    headers.remove(axum::http::header::HOST);
    let answer = front
        .http
        .request(parts.method.clone(), target)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("a replica answers");
    let mut response = axum::response::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    response
        .body(axum::body::Body::from(
            answer.bytes().await.expect("answer"),
        ))
        .expect("response")
}

fn front(replicas: &Replicas) -> (Loopback, Arc<Front>) {
    let front = Arc::new(Front {
        replicas: (0..3).map(|i| replicas.url(i)).collect(),
        turns: Mutex::new(HashMap::new()),
        routed: Mutex::new(Vec::new()),
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(front.clone());
    (Loopback::serve(app), front)
}

/// What each of `gateways` answers the same signed release request: (status, problem slug),
/// slug empty for a release.
fn answers(gateways: &[&Gateway], record: Pubkey, signed: &(String, String)) -> Vec<(u16, String)> {
    gateways
        .iter()
        .map(|gw| {
            let answer = post_release(gw, record, signed);
            let slug = match answer.status {
                200 => String::new(),
                _ => answer.problem()["type"]
                    .as_str()
                    .and_then(|t| t.rsplit('/').next())
                    .unwrap_or_default()
                    .to_string(),
            };
            (answer.status, slug)
        })
        .collect()
}

fn release_lines(cli: &Cli, store: &str) -> Vec<String> {
    std::fs::read_to_string(cli.path(&format!("{store}/used.log")))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn replicas_release_alike_with_no_shared_disk() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic", "stranger"]);
    let (clinic, stranger) = (&wallets[0], &wallets[1]);
    grant(&cli, clinic);
    let mut replicas = Replicas::start(&cli);
    let (front_server, front_log) = front(&replicas);

    // a put through the front: staged at one replica, confirmed at another, which pulls it
    let lab = content(3_000_000, 7);
    std::fs::write(cli.path("lab.bin"), &lab).unwrap();
    let put = cli.json(
        "patient.json",
        &[
            "patient",
            "put",
            &cli.path("lab.bin"),
            "--class",
            "lab-result",
            "--gateway",
            &front_server.url,
            "--custodian",
            &custodian(&cli),
        ],
    );
    let record = put["record"].as_str().unwrap().to_string();
    let cid = put["cid"].as_str().unwrap().to_string();
    let routed = front_log.routed.lock().unwrap().clone();
    let upload = routed.iter().find(|(r, _)| *r == "upload").unwrap().1;
    let confirm = routed.iter().find(|(r, _)| *r == "confirm").unwrap().1;
    assert_ne!(upload, confirm, "{routed:?}");
    for i in [upload, confirm] {
        assert!(
            std::path::Path::new(&cli.path(&format!("store{i}/objects/{cid}"))).exists(),
            "replica {i} holds the ciphertext"
        );
    }

    // three gets through the front: the releases spread over the three replicas, each pulls
    // what it lacks, and each gives the same bytes
    for n in 0..3 {
        let out = cli.path(&format!("got{n}.bin"));
        let key = cli.path("clinic.x25519");
        cli.ok(
            "clinic.json",
            &[
                "provider",
                "get",
                &record,
                "--out",
                &out,
                "--gateway",
                &front_server.url,
                "--x25519-key",
                &key,
            ],
        );
        assert_eq!(std::fs::read(&out).unwrap(), lab);
    }
    let releases: Vec<usize> = front_log
        .routed
        .lock()
        .unwrap()
        .iter()
        .filter(|(r, _)| *r == "release")
        .map(|(_, i)| *i)
        .collect();
    let mut spread = releases.clone();
    spread.sort();
    assert_eq!(spread, [0, 1, 2], "one release at each replica");
    for i in 0..3 {
        assert_eq!(release_lines(&cli, &format!("store{i}")).len(), 1);
        assert!(std::path::Path::new(&cli.path(&format!("store{i}/objects/{cid}"))).exists());
    }
    assert_eq!(reads_logged(&cli), (3, 0));

    // a replay sent to another replica: the same data key, to the same grantee, at each; no
    // read logged, none lost
    let record_key = Pubkey::from_str(&record).unwrap();
    let clinic_key = Pubkey::from_str(clinic).unwrap();
    let patient_key = Pubkey::from_str(&patient).unwrap();
    let grant_key = pda::grant(&patient_key, &clinic_key, Purpose::Treatment).0;
    let clinic_kp = keypair(&cli, "clinic.json");
    let clinic_secret = x25519(&cli, "clinic.x25519");
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    let tx = logged["signature"].as_str().unwrap().to_string();
    let signed = signed_release(&clinic_kp, clinic_key, DOMAIN, record_key, grant_key, &tx);
    let keys: Vec<[u8; 32]> = (0..3)
        .map(|i| {
            let answer = post_release(replicas.gateway(i), record_key, &signed);
            assert_eq!(answer.status, 200);
            released_key(&answer, &clinic_secret, record_key, grant_key)
        })
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]));
    assert_eq!(reads_logged(&cli), (4, 0));

    // a stranger posing as a replica learns nothing; custody files go to the custodian's
    // wallet only
    let stranger_kp = keypair(&cli, "stranger.json");
    let custody = runtime().block_on(async {
        let peer = careledger_records::client::GatewayClient::new(&replicas.url(0)).unwrap();
        peer.info().await.expect("info");
        peer.custody(&stranger_kp, &record_key).await
    });
    let refused = format!("{}", custody.expect_err("refused"));
    assert!(refused.contains("not-a-replica"), "{refused}");

    // a peer that lies: its custody file carries another data key, wrapped to the custodian
    // for this record (so it unwraps), with the true ciphertext (so every block checks). A
    // new replica with only that peer stores nothing and releases nothing
    copy_dir(&cli.path("store0"), &cli.path("liar"));
    let custody_file = cli.path(&format!("liar/records/{record}.json"));
    let mut lie: Value =
        serde_json::from_str(&std::fs::read_to_string(&custody_file).unwrap()).unwrap();
    let custodian_key = x25519(&cli, "custodian.x25519").public();
    let other_key = careledger_records::envelope::wrap_key(
        &custodian_key,
        &careledger_records::envelope::custody_info(
            &careledger_sdk::program::ID,
            &Pubkey::from_str(&record).unwrap(),
        ),
        &careledger_records::envelope::DataKey::generate(),
    )
    .unwrap();
    lie["wrapped_key"] = base64::engine::general_purpose::STANDARD
        .encode(other_key)
        .into();
    std::fs::write(&custody_file, lie.to_string()).unwrap();
    let liar = Gateway::start_with_store(&cli, "custodian.x25519", "liar", &["--domain", DOMAIN]);
    let fresh = Gateway::start_with_store(
        &cli,
        "custodian.x25519",
        "fresh",
        &["--domain", DOMAIN, "--peer", &liar.url],
    );
    post_release(&fresh, record_key, &signed).refused(404, "not-stored");
    assert!(super::records::files_in(&cli, "fresh/objects").is_empty());
    assert!(super::records::files_in(&cli, "fresh/tmp").is_empty());
    drop((liar, fresh));
    // a peer that lies about the size (the key and the bytes true): nothing stored either,
    // and with the truth restored a fresh replica pulls and releases (the control)
    lie["wrapped_key"] = serde_json::from_str::<Value>(
        &std::fs::read_to_string(cli.path(&format!("store0/records/{record}.json"))).unwrap(),
    )
    .unwrap()["wrapped_key"]
        .clone();
    let true_bytes = lie["bytes"].as_u64().unwrap();
    lie["bytes"] = (true_bytes + 1).into();
    std::fs::write(&custody_file, lie.to_string()).unwrap();
    let liar = Gateway::start_with_store(&cli, "custodian.x25519", "liar", &["--domain", DOMAIN]);
    let sized = Gateway::start_with_store(
        &cli,
        "custodian.x25519",
        "sized",
        &["--domain", DOMAIN, "--peer", &liar.url],
    );
    post_release(&sized, record_key, &signed).refused(404, "not-stored");
    assert!(super::records::files_in(&cli, "sized/objects").is_empty());
    drop((liar, sized));
    lie["bytes"] = true_bytes.into();
    std::fs::write(&custody_file, lie.to_string()).unwrap();
    let honest = Gateway::start_with_store(&cli, "custodian.x25519", "liar", &["--domain", DOMAIN]);
    let control = Gateway::start_with_store(
        &cli,
        "custodian.x25519",
        "control",
        &["--domain", DOMAIN, "--peer", &honest.url],
    );
    let pulled = post_release(&control, record_key, &signed);
    assert_eq!(pulled.status, 200);
    assert_eq!(
        released_key(&pulled, &clinic_secret, record_key, grant_key),
        keys[0]
    );
    assert_eq!(
        super::records::files_in(&cli, "control/objects"),
        std::slice::from_ref(&cid)
    );
    drop((honest, control));

    // a gateway alone with the record (a copy of a replica's store, no peers), for the
    // refusals below
    copy_dir(&cli.path("store1"), &cli.path("alone"));
    let alone = Gateway::start_with_store(&cli, "custodian.x25519", "alone", &["--domain", DOMAIN]);
    let same_refusal = |replicas: &Replicas, signed: &(String, String), status: u16| {
        let gateways = [
            replicas.gateway(0),
            replicas.gateway(1),
            replicas.gateway(2),
            &alone,
        ];
        let got = answers(&gateways, record_key, signed);
        assert!(got.iter().all(|a| *a == got[0]), "{got:?}");
        assert_eq!(got[0].0, status, "{got:?}");
        got[0].1.clone()
    };
    let stranger_key = Pubkey::from_str(stranger).unwrap();
    let no_read = cli.json(
        "patient.json",
        &[
            "patient",
            "grant",
            stranger,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
            "--actions",
            "read",
            "--days",
            "1",
        ],
    )["signature"]
        .as_str()
        .expect("the grant's transaction")
        .to_string();
    let refusals = [
        // a stranger presents the clinic's transaction as its own
        (
            signed_release(
                &stranger_kp,
                stranger_key,
                DOMAIN,
                record_key,
                grant_key,
                &tx,
            ),
            403,
            "another-grantee",
        ),
        // a stranger signs in the clinic's name
        (
            signed_release(&stranger_kp, clinic_key, DOMAIN, record_key, grant_key, &tx),
            401,
            "bad-sign-in",
        ),
        // signed for another gateway
        (
            signed_release(
                &clinic_kp,
                clinic_key,
                "elsewhere.test",
                record_key,
                grant_key,
                &tx,
            ),
            401,
            "bad-sign-in",
        ),
        // a transaction that logged no read (a grant's)
        (
            signed_release(
                &clinic_kp, clinic_key, DOMAIN, record_key, grant_key, &no_read,
            ),
            403,
            "no-access-event",
        ),
    ];
    for (signed, status, slug) in &refusals {
        assert_eq!(same_refusal(&replicas, signed, *status), *slug);
    }

    // a replica killed in the middle of a release: the grantee asks another, and the
    // restarted replica's store is whole and answers alike
    let big = content(32 << 20, 9);
    std::fs::write(cli.path("big.bin"), &big).unwrap();
    let put_big = cli.json(
        "patient.json",
        &[
            "patient",
            "put",
            &cli.path("big.bin"),
            "--class",
            "lab-result",
            "--gateway",
            &replicas.url(0),
            "--custodian",
            &custodian(&cli),
        ],
    );
    let big_record = Pubkey::from_str(put_big["record"].as_str().unwrap()).unwrap();
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "1"],
    );
    let big_signed = signed_release(
        &clinic_kp,
        clinic_key,
        DOMAIN,
        big_record,
        grant_key,
        logged["signature"].as_str().unwrap(),
    );
    let partial = runtime().block_on(async {
        let mut response = reqwest::Client::new()
            .post(format!(
                "{}/v1/records/{big_record}/release",
                replicas.url(1)
            ))
            .json(&serde_json::json!({"message": big_signed.0, "signature": big_signed.1}))
            .send()
            .await
            .expect("release");
        assert_eq!(response.status(), 200);
        let first = response
            .chunk()
            .await
            .expect("a first piece")
            .expect("bytes");
        // replica 1 dies with most of the ciphertext unsent
        let mut child = replicas.running[1]
            .as_mut()
            .and_then(|g| g.child.take())
            .expect("child");
        child.kill().expect("kill");
        child.wait().expect("reaped");
        let mut got = first.len();
        while let Ok(Some(piece)) = response.chunk().await {
            got += piece.len();
        }
        got
    });
    let stored_big = std::fs::metadata(cli.path(&format!(
        "store0/objects/{}",
        put_big["cid"].as_str().unwrap()
    )))
    .unwrap()
    .len() as usize;
    assert!(partial < stored_big, "{partial} of {stored_big} bytes");
    let elsewhere = post_release(replicas.gateway(2), big_record, &big_signed);
    assert_eq!(elsewhere.status, 200);
    assert_eq!(elsewhere.body.len(), stored_big);
    replicas.running[1] = None;
    replicas.start_one(&cli, 1);
    assert!(super::records::files_in(&cli, "store1/tmp").is_empty());
    let log = std::fs::read(cli.path("store1/used.log")).unwrap();
    assert!(log.is_empty() || log.ends_with(b"\n"), "no torn line");
    let restarted = post_release(replicas.gateway(1), big_record, &big_signed);
    assert_eq!(restarted.status, 200);
    assert_eq!(restarted.body, elsewhere.body);

    // the replicas agree after all of them restart: the same release, the same key; the
    // same refusals
    for i in 0..3 {
        replicas.running[i] = None;
    }
    for i in 0..3 {
        replicas.start_one(&cli, i);
    }
    for i in 0..3 {
        let answer = post_release(replicas.gateway(i), record_key, &signed);
        assert_eq!(answer.status, 200);
        assert_eq!(
            released_key(&answer, &clinic_secret, record_key, grant_key),
            keys[0]
        );
    }
    for (signed, status, slug) in &refusals {
        assert_eq!(same_refusal(&replicas, signed, *status), *slug);
    }
    // the patient revokes: an event logged while the grant lived is refused alike
    cli.ok(
        "patient.json",
        &["patient", "revoke", clinic, "--purpose", "treatment"],
    );
    assert_eq!(same_refusal(&replicas, &signed, 403), "grant-not-live");
    // the record is entered in error: refused alike, whoever holds it
    cli.ok("patient.json", &["patient", "retract", &record]);
    assert_eq!(same_refusal(&replicas, &signed, 410), "record-retracted");
    drop(alone);
    drop(front_server);
}

fn copy_dir(from: &str, to: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = std::path::Path::new(to).join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(entry.path().to_str().unwrap(), target.to_str().unwrap());
        } else if entry.file_name() != "lock" {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
