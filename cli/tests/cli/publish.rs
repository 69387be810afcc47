//! `patient put --kubo URL --pinning-service URL` and `patient publish` (issue 27 §3) against a
//! loopback recorder that answers as Kubo's RPC and the IPFS Pinning Service API do. No real
//! Kubo node or pinning service runs here: the requests the client sent are written to
//! target/publish-fixture/, and `.ci/run` has tests/publish/check.mjs validate each against
//! the APIs' published descriptions.
//!
//! Who gains by breaking each rule: a node that imported another root (or did not pin) would
//! leave the user believing a record is on IPFS that is not; a refusal swallowed would do the
//! same; a publishing failure that undid the put would lose an anchored record; a token on the
//! command line or in the output would leak the account's credentials.
use super::records::{content, custodian, world, Gateway, Loopback};
use super::Cli;
use base64::Engine;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "pinning-token-for-the-test-7f3a";

/// How the recorder answers.
#[derive(Clone, Copy)]
struct Answers {
    /// Kubo reports a root other than the CAR's.
    wrong_root: bool,
    /// The pinning service refuses the token (401, the spec's Failure body).
    refuse: bool,
}

struct Recorder {
    server: Loopback,
    seen: Arc<Mutex<Vec<Value>>>,
}

/// The CAR inside a multipart/form-data body with this boundary (its one part).
fn car_in(body: &[u8], content_type: &str) -> Vec<u8> {
    let boundary = content_type.split("boundary=").nth(1).expect("boundary");
    let start = body
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("part head")
        + 4;
    let end_marker = format!("\r\n--{boundary}--");
    let end = body
        .windows(end_marker.len())
        .rposition(|w| w == end_marker.as_bytes())
        .expect("closing boundary");
    body[start..end].to_vec()
}

fn recorder(answers: Answers) -> Recorder {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kubo_seen = seen.clone();
    let pins_seen = seen.clone();
    let app = axum::Router::new()
        .route(
            "/api/v0/dag/import",
            axum::routing::post(move |uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let seen = kubo_seen.clone();
                async move {
                    let content_type = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    // the CAR is whole and every block hashes to its CID
                    let car = car_in(&body, &content_type);
                    let (roots, _) = careledger_records::car::read_car(&car[..]).expect("a CAR");
                    let root = careledger_records::trustless::cid_text(&roots[0]).unwrap();
                    seen.lock().unwrap().push(json!({
                        "api": "kubo",
                        "method": "POST",
                        "path": uri.path(),
                        "query": uri.query().unwrap_or_default(),
                        "content_type": content_type,
                        "body_base64": base64::engine::general_purpose::STANDARD.encode(&body),
                        "car_root": root,
                    }));
                    let answered = if answers.wrong_root {
                        "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy".to_string()
                    } else {
                        root
                    };
                    (
                        [("content-type", "application/json")],
                        format!("{{\"Root\":{{\"Cid\":{{\"/\":\"{answered}\"}},\"PinErrorMsg\":\"\"}}}}\n"),
                    )
                }
            }),
        )
        .route(
            "/pins",
            axum::routing::post(move |uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
                let seen = pins_seen.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let authorization = header("authorization");
                    assert_eq!(authorization, format!("Bearer {TOKEN}"));
                    let pin: Value = serde_json::from_slice(&body).expect("a JSON Pin");
                    seen.lock().unwrap().push(json!({
                        "api": "pinning-service",
                        "method": "POST",
                        "path": uri.path(),
                        "query": uri.query().unwrap_or_default(),
                        "content_type": header("content-type"),
                        // the token stays out of the fixture; the header's form is kept, so
                        // that the validator's bearer check sees what was sent
                        "authorization": authorization.replace(TOKEN, "REDACTED"),
                        "body": pin,
                    }));
                    if answers.refuse {
                        return (
                            StatusCode::UNAUTHORIZED,
                            [("content-type", "application/json")],
                            json!({"error": {"reason": "UNAUTHORIZED", "details": "Access token is invalid"}})
                                .to_string(),
                        );
                    }
                    (
                        StatusCode::ACCEPTED,
                        [("content-type", "application/json")],
                        json!({
                            "requestid": "UniqueIdOfPinRequest",
                            "status": "queued",
                            "created": "2026-12-07T14:00:00Z",
                            "pin": pin,
                            "delegates": ["/ip4/203.0.113.42/tcp/4001/p2p/QmSourcePeerId"],
                        })
                        .to_string(),
                    )
                }
            }),
        );
    // a record's CAR is larger than axum's default 2 MB body limit
    let app = app.layer(axum::extract::DefaultBodyLimit::max(64 << 20));
    Recorder {
        server: Loopback::serve(app),
        seen,
    }
}

/// `careledger patient …` with the token in the environment only; (success, stdout, stderr).
/// Runs the CLI: (its exit code, stdout, stderr).
fn run(cli: &Cli, args: &[&str], token: bool) -> (i32, String, String) {
    let mut c = assert_cmd::Command::cargo_bin("careledger").expect("binary");
    c.env("CARELEDGER_NO_PROGRESS", "1")
        .env_remove(careledger_records::publish::TOKEN_VARIABLE)
        .args(["--url", &format!("embedded:{}", cli.path("ledger"))])
        .args(["--keypair", &cli.path("patient.json")]);
    if args.first() != Some(&"--output") {
        c.args(["--output", "json-compact"]);
    }
    c.args(args);
    if token {
        c.env(careledger_records::publish::TOKEN_VARIABLE, TOKEN);
    }
    assert!(!args.iter().any(|a| a.contains(TOKEN)));
    let out = c.output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked: {stdout} {stderr}"
    );
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn put_args<'a>(cli: &'a Cli, file: &'a str, gw: &'a Gateway, custodian: &'a str) -> Vec<String> {
    vec![
        "patient".into(),
        "put".into(),
        cli.path(file),
        "--class".into(),
        "lab-result".into(),
        "--gateway".into(),
        gw.url.clone(),
        "--custodian".into(),
        custodian.into(),
    ]
}

#[test]
fn put_publishes_to_kubo_and_a_pinning_service_and_survives_their_failures() {
    let cli = Cli::new();
    let (patient, _) = world(&cli, &[]);
    let custodian = custodian(&cli);
    let gw = Gateway::start(&cli, &[]);
    let good = recorder(Answers {
        wrong_root: false,
        refuse: false,
    });
    let bad = recorder(Answers {
        wrong_root: true,
        refuse: true,
    });
    let port = gw.url.rsplit(':').next().unwrap().to_string();

    // checked before anything is done: no token, a URL that is none
    std::fs::write(cli.path("lab.bin"), content(3_000_000, 5)).unwrap();
    let mut args = put_args(&cli, "lab.bin", &gw, &custodian);
    args.extend(["--pinning-service".into(), good.server.url.clone()]);
    let (code, _, stderr) = run(
        &cli,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        false,
    );
    assert!(
        code == 1 && stderr.contains("CARELEDGER_PINNING_TOKEN"),
        "{stderr}"
    );
    let mut args = put_args(&cli, "lab.bin", &gw, &custodian);
    args.extend(["--kubo".into(), "127.0.0.1:5001".into()]);
    let (code, _, stderr) = run(
        &cli,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    );
    assert!(
        code == 1 && stderr.contains("--kubo 127.0.0.1:5001 is not an http:// or https:// URL"),
        "{stderr}"
    );
    assert!(good.seen.lock().unwrap().is_empty());

    // both succeed: the root Kubo imported and the pin's cid are the anchored CID
    let mut args = put_args(&cli, "lab.bin", &gw, &custodian);
    args.extend([
        "--kubo".into(),
        good.server.url.clone(),
        "--pinning-service".into(),
        good.server.url.clone(),
    ]);
    let (code, stdout, stderr) = run(
        &cli,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    );
    assert_eq!(code, 0, "{stdout} {stderr}");
    let put: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let cid = put["cid"].as_str().unwrap().to_string();
    assert_eq!(put["published"][0]["ok"], true, "{put}");
    assert_eq!(put["published"][1]["status"], "queued", "{put}");
    {
        let seen = good.seen.lock().unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0]["car_root"], cid.as_str());
        assert_eq!(seen[0]["query"], "pin-roots=true");
        assert_eq!(seen[1]["body"]["cid"], cid.as_str());
        assert_eq!(
            seen[1]["body"]["origins"],
            json!([format!("/ip4/127.0.0.1/tcp/{port}/http")])
        );
    }

    // a wrong root and a 401: the put says the record is stored and anchored, why publishing
    // failed and how to retry, and exits 3 (not 1: putting the file again would make a second
    // record); the record is stored all the same
    std::fs::write(cli.path("lab2.bin"), content(100_000, 6)).unwrap();
    let mut args = put_args(&cli, "lab2.bin", &gw, &custodian);
    args.extend([
        "--kubo".into(),
        bad.server.url.clone(),
        "--pinning-service".into(),
        bad.server.url.clone(),
    ]);
    let (code, stdout, _) = run(
        &cli,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        true,
    );
    assert_eq!(code, 3, "{stdout}");
    let put2: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let cid2 = put2["cid"].as_str().unwrap().to_string();
    let kubo_error = put2["published"][0]["error"].as_str().unwrap();
    assert!(
        kubo_error.contains("not the anchored CID") && kubo_error.contains(&cid2),
        "{kubo_error}"
    );
    let pin_error = put2["published"][1]["error"].as_str().unwrap();
    assert!(
        pin_error.contains("HTTP 401") && pin_error.contains("Access token is invalid"),
        "{pin_error}"
    );
    let retry = put2["published"][0]["retry"].as_str().unwrap();
    assert!(retry.starts_with("careledger patient publish "), "{retry}");
    // the display text says it in words, on a retry that fails again
    let (code, text, _) = run(
        &cli,
        &[
            "--output",
            "display",
            "patient",
            "publish",
            &format!("{patient}/1"),
            "--gateway",
            &gw.url,
            "--kubo",
            &bad.server.url,
        ],
        false,
    );
    assert_eq!(code, 3);
    assert!(
        text.contains("is stored at") && text.contains("anchored") && text.contains("FAILED"),
        "{text}"
    );
    let served = super::records::runtime().block_on(async {
        reqwest::get(format!("{}/ipfs/{cid2}?format=car", gw.url))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(served, 200);

    // the retry: `patient publish PATIENT/INDEX` reads the CAR back, checks it, publishes
    let record = format!("{patient}/1");
    let (code, stdout, stderr) = run(
        &cli,
        &[
            "patient",
            "publish",
            &record,
            "--gateway",
            &gw.url,
            "--kubo",
            &good.server.url,
        ],
        false,
    );
    assert_eq!(code, 0, "{stdout} {stderr}");
    let published: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(published["cid"], cid2.as_str());
    assert_eq!(published["published"][0]["ok"], true);

    // a record the patient marked entered in error is not spread further: refused before any
    // request (the recorders see nothing new)
    let before = good.seen.lock().unwrap().len();
    cli.ok("patient.json", &["patient", "retract", &record]);
    let (code, _, stderr) = run(
        &cli,
        &[
            "patient",
            "publish",
            &record,
            "--gateway",
            &gw.url,
            "--kubo",
            &good.server.url,
        ],
        false,
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("was entered in error: it is not published"),
        "{stderr}"
    );
    assert_eq!(good.seen.lock().unwrap().len(), before);

    // the requests as sent, for the checker of the published API descriptions
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("publish-fixture");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut all: Vec<Value> = good.seen.lock().unwrap().clone();
    all.extend(bad.seen.lock().unwrap().iter().cloned());
    for (i, request) in all.iter().enumerate() {
        std::fs::write(
            dir.join(format!("{i:02}-{}.json", request["api"].as_str().unwrap())),
            serde_json::to_vec_pretty(request).unwrap(),
        )
        .unwrap();
    }
    assert!(all.len() >= 6, "{}", all.len());
}
