//! `patient put` as a user runs it (issue 24): the gateway takes the ciphertext before
//! anything is anchored; what fails first leaves nothing anchored and no file behind; what
//! fails after the anchor leaves a resume file that `put --resume` finishes; `patient retract`
//! withdraws a record; `verify` on a put record's plaintext says what the anchor is of.
//!
//! Who gains by each rule: nobody; a user loses a record's data key (and is left with an
//! anchor nothing can open) when a put anchors first and the gateway then refuses.
use super::records::{
    content, custodian, files_in, get_args, grant, strs, world, Gateway, Loopback,
};
use super::Cli;
use serde_json::Value;

/// An HTTP proxy on 127.0.0.1 in front of a gateway (as a TLS-terminating proxy would be),
/// answering `502` itself to requests whose path ends with `refuse`: a gateway that fails at
/// that step. Stopped when dropped.
pub(crate) struct Proxy;

impl Proxy {
    pub(crate) fn start(target: &str, refuse: Option<&'static str>) -> Loopback {
        let target = target.to_string();
        Loopback::serve(
            axum::Router::new().fallback(move |request: axum::extract::Request| {
                forward(target.clone(), refuse, request)
            }),
        )
    }
}

async fn forward(
    target: String,
    refuse: Option<&'static str>,
    request: axum::extract::Request,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    if refuse.is_some_and(|r| request.uri().path().ends_with(r)) {
        return (StatusCode::BAD_GATEWAY, "the proxy lost its upstream").into_response();
    }
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut out =
        reqwest::Client::new().request(request.method().clone(), format!("{target}{path}"));
    for (name, value) in request.headers() {
        if name != header::HOST {
            out = out.header(name, value);
        }
    }
    let body = reqwest::Body::wrap_stream(request.into_body().into_data_stream());
    let answer = match out.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let mut response = axum::http::Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        response = response.header(name, value);
    }
    response
        .body(axum::body::Body::from_stream(answer.bytes_stream()))
        .expect("response")
}

fn put_args(cli: &Cli, file: &str, gateway: &str) -> Vec<String> {
    [
        "patient",
        "put",
        &cli.path(file),
        "--class",
        "lab-result",
        "--gateway",
        gateway,
        "--custodian",
        &custodian(cli),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn records_on_chain(cli: &Cli) -> Vec<Value> {
    let shown = cli.json("patient.json", &["patient", "show"]);
    shown["records"].as_array().cloned().unwrap_or_default()
}

/// Nothing a failed put could have left: no record on chain, no resume file, nothing staged or
/// stored at the gateway.
fn nothing_left(cli: &Cli, file: &str) {
    assert_eq!(records_on_chain(cli), Vec::<Value>::new());
    assert!(!std::path::Path::new(&cli.path(&format!("{file}.careledger-put"))).exists());
    for dir in [
        "store/records",
        "store/objects",
        "store/staged",
        "store/tmp",
    ] {
        assert_eq!(files_in(cli, dir), Vec::<String>::new(), "{dir}");
    }
}

#[test]
fn put_refuses_before_anchoring_what_the_gateway_would_not_take() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic"]);
    std::fs::write(cli.path("lab.bin"), content(300_000, 5)).unwrap();
    let gw = Gateway::start(&cli, &[]);

    // no gateway there
    let args = put_args(&cli, "lab.bin", "http://127.0.0.1:1");
    let err = cli.stderr_of_failure("patient.json", &strs(&args));
    assert!(err.contains("cannot reach the gateway"), "{err}");
    assert!(err.contains("Nothing was anchored"), "{err}");
    nothing_left(&cli, "lab.bin");

    // a wallet that never registered as a patient
    cli.keygen("newcomer.json");
    let args = put_args(&cli, "lab.bin", &gw.url);
    let err = cli.stderr_of_failure("newcomer.json", &strs(&args));
    assert!(
        err.contains("is not registered as a patient: run `careledger patient register` first"),
        "{err}"
    );
    nothing_left(&cli, "lab.bin");

    // a provider with no write grant from the patient
    let mut args = put_args(&cli, "lab.bin", &gw.url);
    args.extend(["--patient".to_string(), patient.clone()]);
    let err = cli.stderr_of_failure("clinic.json", &strs(&args));
    assert!(err.contains("hold no grant from patient"), "{err}");
    assert!(err.contains("Nothing was anchored"), "{err}");
    nothing_left(&cli, "lab.bin");

    // a gateway that stores less than the file encrypts to
    drop(gw);
    let gw = Gateway::start(&cli, &["--max-upload", "4000"]);
    let err = cli.stderr_of_failure("patient.json", &strs(&put_args(&cli, "lab.bin", &gw.url)));
    assert!(
        err.contains("stores at most 4000 bytes. Nothing was anchored"),
        "{err}"
    );
    nothing_left(&cli, "lab.bin");
    let _ = wallets;

    // a put killed while it encrypted left its resume file: the next put will not start over
    // it, and --resume says what it is
    let resume = cli.path("lab.bin.careledger-put");
    let mut left = b"careledger-put-resume v1\n".to_vec();
    left.resize(4096 + 1000, b' ');
    std::fs::write(&resume, &left).unwrap();
    let err = cli.stderr_of_failure("patient.json", &strs(&put_args(&cli, "lab.bin", &gw.url)));
    assert!(err.contains("holds a put that did not finish"), "{err}");
    let err = cli.stderr_of_failure("patient.json", &["patient", "put", "--resume", &resume]);
    assert!(
        err.contains("stopped while it encrypted: nothing of it was uploaded or anchored"),
        "{err}"
    );
    assert_eq!(std::fs::read(&resume).unwrap(), left, "left as it was");
    assert_eq!(records_on_chain(&cli), Vec::<Value>::new());
}

#[test]
fn put_works_through_localhost_a_proxy_and_a_gateway_named_for_its_proxy() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    let gw = Gateway::start(&cli, &[]);
    let port = gw.domain.rsplit(':').next().unwrap().to_string();
    let proxy = Proxy::start(&gw.url, None);
    let named = Gateway::start_with_store(
        &cli,
        "custodian.x25519",
        "store-named",
        &["--domain", "records.hospital.example"],
    );
    let mut puts = Vec::new();
    for (i, url) in [
        format!("http://localhost:{port}"),
        proxy.url.clone(),
        named.url.clone(),
    ]
    .iter()
    .enumerate()
    {
        let file = format!("lab{i}.bin");
        let bytes = content(200_000 + i, 10 + i as u64);
        std::fs::write(cli.path(&file), &bytes).unwrap();
        let put = cli.json("patient.json", &strs(&put_args(&cli, &file, url)));
        assert!(
            !std::path::Path::new(&cli.path(&format!("{file}.careledger-put"))).exists(),
            "the resume file goes once the gateway stored the record"
        );
        puts.push((put, bytes, url.clone()));
    }
    // what each put stored is what a grantee gets back, through the same way in
    for (i, (put, bytes, url)) in puts.iter().enumerate() {
        let record = put["record"].as_str().unwrap();
        let out = cli.path(&format!("got{i}.bin"));
        let mut args = get_args(&cli, &gw, "clinic", record, &out);
        args[6] = url.clone();
        cli.ok("clinic.json", &strs(&args));
        assert_eq!(&std::fs::read(&out).unwrap(), bytes);
    }
    assert_eq!(files_in(&cli, "store/records").len(), 2);
    assert_eq!(files_in(&cli, "store-named/records").len(), 1);
    assert_eq!(files_in(&cli, "store/staged"), Vec::<String>::new());
}

#[test]
fn a_put_whose_gateway_fails_after_the_anchor_is_finished_with_resume() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    let lab = content(1_500_000, 7);
    std::fs::write(cli.path("lab.bin"), &lab).unwrap();
    let gw = Gateway::start(&cli, &[]);
    // the gateway takes the upload, then fails to answer the confirm that follows the anchor
    let proxy = Proxy::start(&gw.url, Some("/confirm"));
    let err = cli.stderr_of_failure(
        "patient.json",
        &strs(&put_args(&cli, "lab.bin", &proxy.url)),
    );
    let resume = cli.path("lab.bin.careledger-put");
    assert!(err.contains("did not confirm it stored the file"), "{err}");
    assert!(
        err.contains(&format!("careledger patient put --resume {resume}")),
        "{err}"
    );
    // the record is anchored, the gateway holds it staged only, and the resume file keeps the
    // ciphertext and a wrapped key, never the plaintext
    let records = records_on_chain(&cli);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["status"], "Current");
    assert_eq!(files_in(&cli, "store/records"), Vec::<String>::new());
    assert_eq!(files_in(&cli, "store/staged").len(), 1);
    let kept = std::fs::read(&resume).unwrap();
    assert!(kept.starts_with(b"careledger-put-resume v1\n"));
    assert!(!kept.windows(64).any(|w| w == &lab[5000..5064]));
    let header = String::from_utf8_lossy(&kept[..4096]).to_string();
    assert!(header.contains("\"wrapped_key\"") && !header.contains("data_key"));

    // the gateway restarts (its staged uploads are gone), and the resume finishes the put
    drop(proxy);
    drop(gw);
    let gw = Gateway::start(&cli, &[]);
    assert_eq!(files_in(&cli, "store/staged"), Vec::<String>::new());
    let done = cli.json(
        "patient.json",
        &["patient", "put", "--resume", &resume, "--gateway", &gw.url],
    );
    let record = done["record"].as_str().unwrap().to_string();
    assert_eq!(record, records[0]["address"].as_str().unwrap());
    assert!(!std::path::Path::new(&resume).exists());
    assert_eq!(files_in(&cli, "store/records").len(), 1);
    assert_eq!(
        records_on_chain(&cli).len(),
        1,
        "resuming anchors nothing twice"
    );
    let out = cli.path("got.bin");
    cli.ok(
        "clinic.json",
        &strs(&get_args(&cli, &gw, "clinic", &record, &out)),
    );
    assert_eq!(std::fs::read(&out).unwrap(), lab);
    // a finished resume file is gone
    cli.fails(
        "patient.json",
        &["patient", "put", "--resume", &resume],
        "cannot read the resume file",
    );
}

#[test]
fn patient_retract_withdraws_a_record_and_verify_explains_a_plaintext() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    std::fs::write(cli.path("lab.bin"), content(100_000, 9)).unwrap();
    let gw = Gateway::start(&cli, &[]);
    let put = cli.json("patient.json", &strs(&put_args(&cli, "lab.bin", &gw.url)));
    let record = put["record"].as_str().unwrap().to_string();

    // the plaintext does not match: the anchor is of the ciphertext, and verify says how to
    // check a plaintext
    let out = cli.cmd(
        "patient.json",
        &["verify", &cli.path("lab.bin"), "--record", &record],
    );
    let out = out.code(1);
    let said = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(said.contains("the anchor is of the ciphertext"), "{said}");
    assert!(
        said.contains(&format!("careledger provider get {record}")),
        "{said}"
    );
    let object = cli.path(&format!("store/objects/{}", put["cid"].as_str().unwrap()));
    cli.ok("patient.json", &["verify", &object, "--record", &record]);

    // only the patient or the author retracts; the clinic is neither
    cli.fails(
        "clinic.json",
        &["provider", "retract", &record],
        "only the record's patient",
    );
    let retracted = cli.json("patient.json", &["patient", "retract", &record]);
    assert_eq!(retracted["events"][0], "RecordRetracted");
    assert_eq!(records_on_chain(&cli)[0]["status"], "EnteredInError");
    cli.fails(
        "patient.json",
        &["patient", "retract", &record],
        "only the current version of a record is retracted",
    );
    // a retracted record is released no more, and nothing is logged for asking
    let got = cli.path("got.bin");
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_args(&cli, &gw, "clinic", &record, &got)),
    );
    assert!(err.contains("record-retracted"), "{err}");
    assert!(err.contains("nothing was logged on chain"), "{err}");
    assert!(!std::path::Path::new(&got).exists());
}
