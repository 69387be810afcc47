//! The CLI end to end against an embedded ledger folder: a patient registers, a provider
//! anchors nothing but reads, the patient anchors a real file and grants, the provider logs
//! access, the patient revokes, the refusal is recorded, the file verifies, and the audit export
//! is a FHIR Bundle. Each error message the CLI promises is triggered once.
#[path = "cli/credentials.rs"]
mod credentials;
#[path = "cli/fhir.rs"]
mod fhir;
#[path = "cli/gateway_attacks.rs"]
mod gateway_attacks;
#[path = "cli/get_flow.rs"]
mod get_flow;
#[path = "cli/ipfs.rs"]
mod ipfs;
#[path = "cli/ledger_folder.rs"]
mod ledger_folder;
#[path = "cli/publish.rs"]
mod publish;
#[path = "cli/put_flow.rs"]
mod put_flow;
#[path = "cli/readme.rs"]
mod readme;
#[path = "cli/records.rs"]
mod records;
#[path = "cli/replicas.rs"]
mod replicas;
#[path = "cli/supply.rs"]
mod supply;
#[path = "cli/trustless.rs"]
mod trustless;

use assert_cmd::Command;
use serde_json::Value;
use std::path::Path;

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn cmd(&self, keypair: &str, args: &[&str]) -> assert_cmd::assert::Assert {
        let ledger = format!("embedded:{}", self.path("ledger"));
        let url = match args {
            ["--url", url, ..] => url.to_string(),
            _ => ledger,
        };
        let args = if args.first() == Some(&"--url") {
            &args[2..]
        } else {
            args
        };
        let mut c = Command::cargo_bin("careledger").expect("binary");
        c.env("CARELEDGER_NO_PROGRESS", "1")
            .args(["--url", &url, "--keypair", &self.path(keypair)])
            .args(args)
            .assert()
    }

    fn ok(&self, keypair: &str, args: &[&str]) -> String {
        let out = self.cmd(keypair, args).success();
        String::from_utf8(out.get_output().stdout.clone()).expect("utf-8")
    }

    fn json(&self, keypair: &str, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json-compact"];
        all.extend_from_slice(args);
        let text = self.ok(keypair, &all);
        let line = text.lines().last().expect("output");
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    fn fails(&self, keypair: &str, args: &[&str], message: &str) {
        let out = self.cmd(keypair, args).failure();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            stderr.contains(message),
            "expected `{message}` in: {stderr}"
        );
    }

    /// Runs a command that must fail; its stderr.
    fn stderr_of_failure(&self, keypair: &str, args: &[&str]) -> String {
        let out = self.cmd(keypair, args).failure();
        String::from_utf8_lossy(&out.get_output().stderr).to_string()
    }

    fn keygen(&self, name: &str) -> String {
        self.ok(name, &["keygen", "--outfile", &self.path(name)]);
        self.ok(name, &["address"]).trim().to_string()
    }
}

#[test]
fn consent_story_through_the_cli() {
    let cli = Cli::new();
    let _admin = cli.keygen("admin.json");
    let patient = cli.keygen("patient.json");
    let clinic = cli.keygen("clinic.json");
    std::fs::write(cli.path("licence.pdf"), b"licence document").unwrap();
    std::fs::write(cli.path("lab.bin"), vec![7u8; 200_000]).unwrap();

    cli.ok("admin.json", &["config", "init"]);
    let config = cli.json("admin.json", &["config", "show"]);
    assert_eq!(config["paused"], false);
    cli.ok("patient.json", &["patient", "register"]);
    cli.ok(
        "clinic.json",
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
        &["authority", "verify", &clinic, "--roles", "clinician"],
    );
    let shown = cli.json("clinic.json", &["provider", "show"]);
    assert_eq!(shown["status"], "Verified");

    let anchored = cli.json(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("lab.bin"),
            "--class",
            "lab-result",
        ],
    );
    let record = anchored["record"].as_str().unwrap().to_string();
    assert_eq!(anchored["events"][0], "RecordAnchored");
    let granted = cli.json(
        "patient.json",
        &[
            "patient",
            "grant",
            &clinic,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
            "--actions",
            "read,write",
            "--days",
            "7",
        ],
    );
    assert_eq!(granted["events"][0], "GrantCreated");

    // the clinic anchors its own report for the patient under the write grant
    std::fs::write(cli.path("visit.bin"), b"encrypted visit report").unwrap();
    let visit = cli.path("visit.bin");
    let by_clinic = cli.json(
        "clinic.json",
        &[
            "provider",
            "anchor",
            &visit,
            "--patient",
            &patient,
            "--class",
            "lab-result",
        ],
    );
    assert_eq!(by_clinic["index"], 1);
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    assert_eq!(logged["allowed"], true);
    let updated = cli.json(
        "patient.json",
        &[
            "patient",
            "update",
            &clinic,
            "--purpose",
            "treatment",
            "--days",
            "3",
        ],
    );
    assert_eq!(updated["events"][0], "GrantUpdated");
    cli.ok(
        "patient.json",
        &["patient", "revoke", &clinic, "--purpose", "treatment"],
    );
    let refused = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    assert_eq!(refused["allowed"], false);
    assert_eq!(refused["refusal"], "Revoked");

    let check = cli.json(
        "patient.json",
        &["verify", &cli.path("lab.bin"), "--record", &record],
    );
    assert_eq!(check["matches"], true);
    std::fs::write(cli.path("lab.bin"), b"tampered").unwrap();
    // a mismatch still prints its answer, and exits non-zero for scripts
    let out = cli
        .cmd(
            "patient.json",
            &[
                "--output",
                "json-compact",
                "verify",
                &cli.path("lab.bin"),
                "--record",
                &record,
            ],
        )
        .failure();
    let check: Value =
        serde_json::from_slice(&out.get_output().stdout).expect("the comparison, as JSON");
    assert_eq!(check["matches"], false);
    assert_eq!(out.get_output().status.code(), Some(1));
    // a file that cannot be read is not a mismatch: exit 2, as cmp does
    let unreadable = cli
        .cmd(
            "patient.json",
            &["verify", &cli.path("no-such-file"), "--record", &record],
        )
        .failure();
    assert_eq!(unreadable.get_output().status.code(), Some(2));

    let shown = cli.json("patient.json", &["patient", "show"]);
    assert_eq!(shown["records"].as_array().unwrap().len(), 2);
    assert_eq!(shown["grants"][0]["status"], "revoked");

    let bundle = cli.json("patient.json", &["patient", "audit", "--format", "fhir"]);
    assert_eq!(bundle["resourceType"], "Bundle");
    let kinds: Vec<&str> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Consent", "AuditEvent", "AuditEvent", "AuditEvent"]);
    if let Some(python) = std::env::var_os("CARELEDGER_FHIR_PYTHON") {
        let path = cli.path("bundle.json");
        std::fs::write(&path, bundle.to_string()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fhir/validate.py");
        let status = std::process::Command::new(python)
            .arg(script)
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success(), "fhir.resources rejected the CLI's export");
    }

    // issue 30: consent again after a revocation, in one command; the new grant is another
    // consent (serial 2) at the same address, and a live grant is never replaced
    let regrant = [
        "patient",
        "grant",
        &clinic,
        "--purpose",
        "treatment",
        "--classes",
        "lab-result",
        "--days",
        "5",
    ];
    let again = cli.json("patient.json", &regrant);
    assert_eq!(again["events"][0], "GrantClosed", "{again}");
    assert_eq!(again["events"][1], "GrantCreated", "{again}");
    assert_eq!(again["grant"], granted["grant"]);
    cli.fails("patient.json", &regrant, "already have a live grant");
    let shown = cli.json("patient.json", &["patient", "show"]);
    assert_eq!(shown["grants"][0]["status"], "active");
    assert_eq!(shown["grants"][0]["serial"], 2);
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    assert_eq!(logged["allowed"], true);
    // after revoke-all every older grant is void, and shown as void (not "active")
    cli.ok("patient.json", &["patient", "revoke-all"]);
    let shown = cli.json("patient.json", &["patient", "show"]);
    assert_eq!(shown["grants"][0]["status"], "void", "{shown}");
    assert_eq!(shown["grants"][0]["consent_epoch"], 0);
    assert_eq!(shown["consent_epoch"], 1);
    let again = cli.json("patient.json", &regrant);
    assert_eq!(again["events"][1], "GrantCreated", "{again}");
    let shown = cli.json("patient.json", &["patient", "show"]);
    assert_eq!(shown["grants"][0]["status"], "active");
    assert_eq!(shown["grants"][0]["serial"], 3);
    assert_eq!(shown["grants"][0]["consent_epoch"], 1);

    // the ledger folder holds accounts in the format solana-test-validator --account reads,
    // under current/accounts, and `ledger export` writes the same files for --account-dir
    let grant = granted["grant"].as_str().unwrap();
    let in_folder = Path::new(&cli.path("ledger"))
        .join("current/accounts")
        .join(format!("{grant}.json"));
    let exported = cli.json("patient.json", &["ledger", "export", &cli.path("export")]);
    let listed = exported["accounts"].as_array().unwrap();
    assert!(listed.iter().any(|a| a["address"] == grant), "{exported}");
    let export_file = Path::new(&cli.path("export")).join(format!("{grant}.json"));
    assert_eq!(
        std::fs::read(&in_folder).unwrap(),
        std::fs::read(&export_file).unwrap()
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(export_file).unwrap()).unwrap();
    assert_eq!(saved["pubkey"], grant);
    assert_eq!(saved["account"]["data"][1], "base64");
    assert_eq!(
        saved["account"]["owner"],
        "FbatXrgu6LN4qCYV1mkBq3Ccrkz7jgyHGvzgkToZg4ac"
    );
    cli.fails(
        "patient.json",
        &["ledger", "export", &cli.path("export")],
        "account files (e.g. ",
    );
    // --force replaces account dumps, never a keypair that happens to sit there
    let keypair_copy = Path::new(&cli.path("export")).join("id.json");
    std::fs::copy(cli.path("patient.json"), &keypair_copy).unwrap();
    cli.fails(
        "patient.json",
        &["ledger", "export", &cli.path("export"), "--force"],
        "id.json, which is not an account file",
    );
    assert!(keypair_copy.exists());
    std::fs::remove_file(&keypair_copy).unwrap();
    cli.ok(
        "patient.json",
        &["ledger", "export", &cli.path("export"), "--force"],
    );
}

#[test]
fn every_promised_error_is_one_clear_sentence() {
    let cli = Cli::new();
    let _admin = cli.keygen("admin.json");
    let patient = cli.keygen("patient.json");
    let stranger = cli.keygen("stranger.json");
    cli.fails(
        "missing.json",
        &["patient", "show"],
        "cannot read the keypair",
    );
    cli.fails(
        "patient.json",
        &["--url", "http://127.0.0.1:9", "patient", "show"],
        "cannot reach http://127.0.0.1:9",
    );
    cli.ok("admin.json", &["config", "init"]);
    cli.fails(
        "patient.json",
        &["patient", "show"],
        &format!("this wallet ({patient}) is not registered as a patient: run `careledger patient register` first"),
    );
    // acting as a patient before registering: the same sentence, before anything is signed
    cli.fails(
        "patient.json",
        &["patient", "revoke-all"],
        "is not registered as a patient: run `careledger patient register` first",
    );
    // a URL no RPC client can use: one sentence, no builder noise
    let out = cli
        .cmd(
            "patient.json",
            &["--url", "ftp://nowhere", "patient", "show"],
        )
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert_eq!(
        stderr.trim(),
        "error: --url `ftp://nowhere` is not a cluster careledger can reach: use mainnet-beta, devnet, testnet, localhost, an http:// or https:// RPC URL, or embedded:PATH for a ledger folder"
    );
    cli.ok("patient.json", &["patient", "register"]);
    cli.fails(
        "patient.json",
        &["patient", "register"],
        "already registered as a patient",
    );
    cli.fails(
        "patient.json",
        &[
            "patient",
            "grant",
            &stranger,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
        ],
        "is not a registered provider",
    );
    cli.fails(
        "patient.json",
        &[
            "patient",
            "grant",
            &stranger,
            "--purpose",
            "fun",
            "--classes",
            "lab-result",
        ],
        "unknown purpose `fun`",
    );
    // a program error comes back by name and message
    cli.fails(
        "stranger.json",
        &["config", "pause"],
        "careledger refused: NotAdmin (6002)",
    );
    let clinic = cli.keygen("clinic.json");
    std::fs::write(cli.path("licence.pdf"), b"licence").unwrap();
    let licence = cli.path("licence.pdf");
    cli.ok(
        "clinic.json",
        &[
            "provider",
            "register",
            "--roles",
            "lab",
            "--credential-file",
            &licence,
        ],
    );
    cli.fails(
        "stranger.json",
        &["authority", "verify", &clinic, "--roles", "lab"],
        "careledger refused: NotCredentialAuthority (6006)",
    );
    // an account the instruction needs is missing: said in words, with Anchor's name for it
    cli.fails(
        "admin.json",
        &["authority", "verify", &patient, "--roles", "lab"],
        "an account it needs does not exist (AccountNotInitialized",
    );
    // ... and the program's own log lines do not leak ahead of that sentence
    let out = cli
        .cmd(
            "admin.json",
            &["authority", "verify", &patient, "--roles", "lab"],
        )
        .failure();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.get_output().stdout).to_string(),
        String::from_utf8_lossy(&out.get_output().stderr).to_string(),
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(!stderr.contains("AnchorError"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    // a malformed address gets a sentence, not "String is the wrong size"
    cli.fails(
        "patient.json",
        &[
            "patient",
            "grant",
            "abc",
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
        ],
        "`abc` is not a valid address (base58, 32 bytes)",
    );
    cli.fails(
        "patient.json",
        &[
            "patient",
            "grant",
            &stranger,
            "--purpose",
            "treatment",
            "--classes",
            "x-ray",
        ],
        "unknown record class `x-ray`: use lab-result, imaging",
    );
    // a number of days the program would refuse is refused by the flag's name
    cli.fails(
        "patient.json",
        &[
            "patient",
            "grant",
            &clinic,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
            "--days",
            "0",
        ],
        "for '--days <DAYS>': `0` is not a number of days from 1 to 3650",
    );
    // a provider with no grant: said in words, and the refused access is on the patient's trail
    std::fs::write(cli.path("lab.enc"), b"ciphertext").unwrap();
    cli.ok(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("lab.enc"),
            "--class",
            "lab-result",
        ],
    );
    let text = cli.ok(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    assert!(
        text.contains("REFUSED: there is no grant from this patient to you for treatment (NoGrant); the refused access is recorded on chain"),
        "{text}"
    );
    let audit = cli.json("patient.json", &["patient", "audit"]);
    assert!(
        audit.to_string().contains("refused: NoGrant"),
        "the refusal is in the patient's FHIR trail: {audit}"
    );
}

#[test]
fn claims_and_rewards_through_the_cli() {
    let cli = Cli::new();
    let _admin = cli.keygen("admin.json");
    let patient = cli.keygen("patient.json");
    let clinic = cli.keygen("clinic.json");
    let insurer = cli.keygen("insurer.json");
    let sponsor = cli.keygen("sponsor.json");
    std::fs::write(cli.path("licence.pdf"), b"licence").unwrap();
    std::fs::write(cli.path("secret.bin"), b"policy secret shared off chain").unwrap();
    std::fs::write(cli.path("claim.pdf"), b"encrypted claim document").unwrap();
    std::fs::write(cli.path("lab.bin"), b"encrypted lab result").unwrap();
    let licence = cli.path("licence.pdf");
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    for (who, role, wallet) in [
        ("clinic.json", "clinician", &clinic),
        ("insurer.json", "insurer", &insurer),
        ("sponsor.json", "researcher", &sponsor),
    ] {
        cli.ok(
            who,
            &[
                "provider",
                "register",
                "--roles",
                role,
                "--credential-file",
                &licence,
            ],
        );
        cli.ok(
            "admin.json",
            &["authority", "verify", wallet, "--roles", role],
        );
    }
    let record = cli.json(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("lab.bin"),
            "--class",
            "lab-result",
        ],
    );
    let record = record["record"].as_str().unwrap().to_string();
    for (grantee, purpose) in [(&insurer, "payment"), (&clinic, "treatment")] {
        cli.ok(
            "patient.json",
            &[
                "patient",
                "grant",
                grantee,
                "--purpose",
                purpose,
                "--classes",
                "lab-result",
            ],
        );
    }

    let mint = cli.json("insurer.json", &["token", "create-mint", "--decimals", "2"]);
    let mint = mint["mint"].as_str().unwrap().to_string();
    let funds = cli.json("insurer.json", &["token", "create-account", &mint]);
    let funds = funds["account"].as_str().unwrap().to_string();
    cli.ok(
        "insurer.json",
        &["token", "mint-to", &mint, &funds, "100000"],
    );
    let payee = cli.json("clinic.json", &["token", "create-account", &mint]);
    let payee = payee["account"].as_str().unwrap().to_string();

    let policy = cli.json(
        "insurer.json",
        &[
            "insurer",
            "policy-create",
            "--patient",
            &patient,
            "--mint",
            &mint,
            "--policy-id",
            "1",
            "--cap",
            "50000",
            "--network-only",
        ],
    );
    let policy = policy["policy"].as_str().unwrap().to_string();
    let secret = cli.path("secret.bin");
    cli.ok(
        "insurer.json",
        &[
            "insurer",
            "rule-add",
            "--policy",
            &policy,
            "--secret-file",
            &secret,
            "--code",
            "99213",
            "--allowed",
            "12000",
            "--copay",
            "2000",
        ],
    );
    cli.ok(
        "insurer.json",
        &[
            "claim", "fund", &policy, "--source", &funds, "--amount", "30000",
        ],
    );
    let submit = [
        "claim",
        "submit",
        "--policy",
        &policy,
        "--record",
        &record,
        "--secret-file",
        &secret,
        "--code",
        "99213",
        "--billed",
        "15000",
        "--payee",
        &payee,
        "--document",
        &cli.path("claim.pdf"),
    ];
    // a network-only policy: the clinic must be in the insurer's network first
    cli.fails("clinic.json", &submit, "ProviderOutOfNetwork (6118)");
    let joined = cli.json("insurer.json", &["insurer", "network-add", &clinic]);
    assert!(joined["membership"].is_string());
    let claim = cli.json("clinic.json", &submit);
    assert_eq!(claim["state"], "Paid");
    assert_eq!(claim["benefit"], 10000);
    let balance = cli.ok("clinic.json", &["token", "balance", &payee]);
    assert_eq!(balance.trim(), "10000");
    let shown = cli.ok(
        "patient.json",
        &["claim", "show", claim["claim"].as_str().unwrap()],
    );
    assert!(shown.contains("Your plan pays 100.00"), "{shown}");

    let study = cli.json(
        "sponsor.json",
        &[
            "study",
            "create",
            "--study-id",
            "1",
            "--mint",
            &mint,
            "--enrolment-reward",
            "500",
            "--period-reward",
            "100",
            "--period-days",
            "1",
            "--periods",
            "3",
            "--classes",
            "lab-result",
        ],
    );
    let study = study["study"].as_str().unwrap().to_string();
    let sponsor_funds = cli.json("sponsor.json", &["token", "create-account", &mint]);
    let sponsor_funds = sponsor_funds["account"].as_str().unwrap().to_string();
    cli.ok(
        "insurer.json",
        &["token", "mint-to", &mint, &sponsor_funds, "5000"],
    );
    cli.ok(
        "sponsor.json",
        &[
            "study",
            "fund",
            &study,
            "--source",
            &sponsor_funds,
            "--amount",
            "5000",
        ],
    );
    // nobody enrols before the sponsor registers the protocol and commits its outcomes
    cli.fails(
        "patient.json",
        &["study", "enroll", &study],
        "has no registered protocol yet",
    );
    std::fs::write(cli.path("protocol-v1.pdf"), b"protocol version one").unwrap();
    std::fs::write(cli.path("primary.txt"), "HbA1c at 26 weeks\n").unwrap();
    std::fs::write(
        cli.path("secondary.txt"),
        "weight at 26 weeks\nadverse events\n",
    )
    .unwrap();
    let protocol_args = |registry: &str| {
        vec![
            "study".to_string(),
            "register-protocol".to_string(),
            study.clone(),
            "--registry".to_string(),
            registry.to_string(),
            "--document".to_string(),
            cli.path("protocol-v1.pdf"),
            "--primary-outcomes".to_string(),
            cli.path("primary.txt"),
            "--secondary-outcomes".to_string(),
            cli.path("secondary.txt"),
            "--planned-enrolment".to_string(),
            "5".to_string(),
            "--outcomes-out".to_string(),
            cli.path("outcomes.json"),
        ]
    };
    let args = protocol_args("NCT-not-an-id");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli.fails("sponsor.json", &args, "registry");
    assert!(!std::path::Path::new(&cli.path("outcomes.json")).exists());
    // a stranger cannot register the sponsor's protocol, and keeps no salts of it
    let args = protocol_args("NCT01234567");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cli.fails("patient.json", &args, "NotStudySponsor");
    assert!(!std::path::Path::new(&cli.path("outcomes.json")).exists());
    cli.ok("sponsor.json", &args);
    assert!(std::path::Path::new(&cli.path("outcomes.json")).exists());
    // only a patient the sponsor invited can enrol
    cli.fails(
        "patient.json",
        &["study", "enroll", &study],
        "NotInvited (6120)",
    );
    cli.ok(
        "sponsor.json",
        &["study", "invite", &study, "--patient", &patient],
    );
    let enrolled = cli.json("patient.json", &["study", "enroll", &study]);
    let rewards = enrolled["rewards_account"].as_str().unwrap().to_string();
    assert_eq!(
        cli.ok("patient.json", &["token", "balance", &rewards])
            .trim(),
        "500"
    );
    cli.fails(
        "patient.json",
        &["study", "enroll", &study],
        "already enrolled in study",
    );

    // a material amendment: the participant consents again to version 2
    std::fs::write(cli.path("protocol-v2.pdf"), b"protocol version two").unwrap();
    let doc2 = cli.path("protocol-v2.pdf");
    cli.ok(
        "sponsor.json",
        &[
            "study",
            "amend-protocol",
            &study,
            "--document",
            &doc2,
            "--reason",
            "3",
            "--material",
        ],
    );
    let shown = cli.json("sponsor.json", &["study", "protocol", &study]);
    assert_eq!(shown["version"], 2);
    assert_eq!(shown["participants"][0]["consented_version"], 1);
    assert_eq!(shown["participants"][0]["current"], false);
    assert!(shown["participants"][0]["accrual_stopped_at"].is_string());
    cli.ok("patient.json", &["study", "reconsent", &study]);
    let shown = cli.json("sponsor.json", &["study", "protocol", &study]);
    assert_eq!(shown["participants"][0]["consented_version"], 2);
    assert_eq!(shown["participants"][0]["current"], true);
    assert_eq!(shown["results_match_prespecified"], serde_json::Value::Null);

    // plan, lock, report: the results name exactly the pre-specified outcomes
    std::fs::write(cli.path("sap.pdf"), b"analysis plan").unwrap();
    std::fs::write(cli.path("dataset.csv"), b"id,hba1c\n").unwrap();
    let (sap, dataset) = (cli.path("sap.pdf"), cli.path("dataset.csv"));
    cli.ok("sponsor.json", &["study", "analysis-plan", &study, &sap]);
    cli.ok(
        "sponsor.json",
        &["study", "lock", &study, "--dataset", &dataset],
    );
    let (outcomes, primary, secondary) = (
        cli.path("outcomes.json"),
        cli.path("primary.txt"),
        cli.path("secondary.txt"),
    );
    let reported = cli.json(
        "sponsor.json",
        &[
            "study",
            "report",
            &study,
            "--outcomes",
            &outcomes,
            "--reported-primary",
            &primary,
            "--reported-secondary",
            &secondary,
        ],
    );
    assert_eq!(reported["outcomes_switched"], false);
    let shown = cli.json("sponsor.json", &["study", "protocol", &study]);
    assert_eq!(shown["results_match_prespecified"], true);
    let fhir = cli.json(
        "sponsor.json",
        &["study", "protocol", &study, "--format", "fhir"],
    );
    assert_eq!(fhir["resourceType"], "Bundle");
}

#[test]
fn demo_runs_the_story_with_the_binary_itself() {
    let out = Command::cargo_bin("careledger")
        .unwrap()
        .arg("demo")
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("request of"), "{text}");
    assert!(
        text.contains(
            "REFUSED: the patient revoked all grants since this one was made (StaleEpoch)"
        ),
        "{text}"
    );
}

#[test]
fn guardians_emergencies_amendments_and_admin_hand_over() {
    let cli = Cli::new();
    let _admin = cli.keygen("admin.json");
    let next_admin = cli.keygen("next.json");
    let patient = cli.keygen("patient.json");
    let guardian = cli.keygen("guardian.json");
    let er = cli.keygen("er.json");
    std::fs::write(cli.path("licence.pdf"), b"licence").unwrap();
    std::fs::write(cli.path("v1.bin"), b"version one").unwrap();
    std::fs::write(cli.path("v2.bin"), b"version two").unwrap();
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    cli.ok(
        "patient.json",
        &["patient", "guardian", "set", &guardian, "--days", "30"],
    );
    cli.ok(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("v1.bin"),
            "--class",
            "clinical-note",
        ],
    );
    let amended = cli.json(
        "patient.json",
        &[
            "provider",
            "amend",
            &patient,
            "--record",
            "0",
            &cli.path("v2.bin"),
        ],
    );
    assert_eq!(amended["events"][0], "RecordAnchored");
    let shown = cli.json("patient.json", &["patient", "show"]);
    assert_eq!(shown["records"][0]["status"], "Superseded");
    assert_eq!(shown["records"][1]["status"], "Current");

    let licence = cli.path("licence.pdf");
    cli.ok(
        "er.json",
        &[
            "provider",
            "register",
            "--roles",
            "emergency",
            "--credential-file",
            &licence,
        ],
    );
    cli.ok(
        "admin.json",
        &["authority", "verify", &er, "--roles", "emergency"],
    );
    cli.ok(
        "er.json",
        &["provider", "emergency-access", &patient, "--reason", "3"],
    );
    let pending = cli.json("patient.json", &["patient", "emergencies", "list"]);
    let grant = pending[0]["grant"].as_str().unwrap().to_string();
    cli.ok(
        "patient.json",
        &["patient", "emergencies", "review", &grant, "--dispute"],
    );
    let pending = cli.json("patient.json", &["patient", "emergencies", "list"]);
    assert_eq!(pending.as_array().unwrap().len(), 0);
    cli.ok("patient.json", &["patient", "guardian", "clear"]);

    cli.ok("admin.json", &["config", "admin", "propose", &next_admin]);
    cli.fails(
        "guardian.json",
        &["config", "admin", "accept"],
        "NotPendingAdmin",
    );
    cli.ok("next.json", &["config", "admin", "accept"]);
    let config = cli.json("next.json", &["config", "show"]);
    assert_eq!(config["admin"], next_admin);
}

/// A JSON-RPC endpoint that answers every request with an empty account: a cluster where
/// careledger is not deployed.
fn empty_cluster() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let id = request
                .split("\"id\":")
                .nth(1)
                .and_then(|rest| rest.split([',', '}']).next())
                .unwrap_or("1")
                .trim()
                .to_string();
            let body = format!(
                "{{\"jsonrpc\":\"2.0\",\"result\":{{\"context\":{{\"slot\":1}},\"value\":null}},\"id\":{id}}}"
            );
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{address}")
}

#[test]
fn a_cluster_without_the_program_is_named_as_such() {
    let cli = Cli::new();
    cli.keygen("me.json");
    let url = empty_cluster();
    cli.fails(
        "me.json",
        &["--url", &url, "patient", "show"],
        "is not deployed on",
    );
}

/// Issue 23: a command on a ledger folder leaves TMPDIR as it found it. The embedded runtime's
/// banks keep scratch directories that each process now keeps inside one of its own, removed
/// when it ends: after a success, a refusal, --help, a usage error, a gateway stopped by
/// SIGTERM; and one killed by SIGKILL is removed by the next command that starts.
#[test]
fn every_command_leaves_tmpdir_as_it_found_it() {
    let cli = Cli::new();
    let tmp = cli.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let left = || -> Vec<String> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect()
    };
    let run = |args: &[&str]| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("careledger"))
            .env("TMPDIR", &tmp)
            .env("CARELEDGER_NO_PROGRESS", "1")
            .args(["--url", &format!("embedded:{}", cli.path("ledger"))])
            .args(args)
            .output()
            .expect("run careledger")
    };
    let me = cli.path("me.json");
    assert!(run(&["keygen", "--outfile", &me]).status.success());
    assert!(run(&["-k", &me, "config", "init"]).status.success());
    assert!(run(&["-k", &me, "patient", "register"]).status.success());
    assert!(run(&["-k", &me, "patient", "show"]).status.success());
    assert!(run(&["-k", &me, "ledger", "check"]).status.success());
    // a refusal, help, and a usage error
    assert!(!run(&["-k", &me, "patient", "register"]).status.success());
    assert!(run(&["--help"]).status.success());
    assert_eq!(run(&["no-such-command"]).status.code(), Some(2));
    assert_eq!(left(), Vec::<String>::new(), "left in TMPDIR by a command");

    // a gateway, stopped as a service manager stops it, and one killed outright
    let key = cli.path("me.x25519");
    assert!(run(&["-k", &me, "keys", "new", "--outfile", &key])
        .status
        .success());
    assert!(run(&["-k", &me, "keys", "publish", "--x25519-key", &key])
        .status
        .success());
    let serve = |store: &str| {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("careledger"))
            .env("TMPDIR", &tmp)
            .args(["--url", &format!("embedded:{}", cli.path("ledger"))])
            .args(["-k", &me, "serve", "--listen", "127.0.0.1:0"])
            .args(["--store", &cli.path(store), "--x25519-key", &key])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(
            line.contains("http://"),
            "the gateway did not start: {line}"
        );
        child
    };
    let mut stopped = serve("store1");
    assert!(
        !left().is_empty(),
        "a running gateway has its scratch directory"
    );
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &stopped.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let status = stopped.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        left(),
        Vec::<String>::new(),
        "left by a gateway stopped with SIGTERM"
    );
    let mut killed = serve("store2");
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert_eq!(left().len(), 1, "a killed process cannot clean up");
    assert!(run(&["-k", &me, "patient", "show"]).status.success());
    assert_eq!(
        left(),
        Vec::<String>::new(),
        "the next command removes what a killed one left"
    );
}

/// Issue 24: a command that only reads needs no keypair (the README prints them without
/// `-k`); one that writes says which keypair it could not read; a read about "your" wallet
/// without one asks for the wallet.
#[test]
fn read_only_commands_need_no_keypair() {
    let cli = Cli::new();
    cli.keygen("admin.json");
    let patient = cli.keygen("patient.json");
    let clinic = cli.keygen("clinic.json");
    std::fs::write(cli.path("licence.pdf"), b"licence").unwrap();
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    let licence = cli.path("licence.pdf");
    cli.ok(
        "clinic.json",
        &[
            "provider",
            "register",
            "--roles",
            "clinician",
            "--credential-file",
            &licence,
        ],
    );
    let vc = cli.path("clinic.vc.json");
    cli.ok(
        "admin.json",
        &[
            "authority",
            "issue-credential",
            &clinic,
            "--roles",
            "clinician",
            "--out",
            &vc,
        ],
    );
    let none = "no-such-keypair.json";
    for args in [
        vec!["did", clinic.as_str()],
        vec!["credential", "verify", vc.as_str()],
        vec!["config", "show"],
        vec!["patient", "show", patient.as_str()],
        vec!["provider", "show", clinic.as_str()],
        vec!["ledger", "check"],
    ] {
        cli.ok(none, &args);
    }
    cli.fails(
        none,
        &["patient", "show"],
        "name the patient's wallet, or pass your keypair: cannot read the keypair",
    );
    cli.fails(none, &["patient", "register"], "cannot read the keypair");
}

/// A newcomer's first command on a fresh ledger, before `config init`: the error says what to
/// run, and nothing is saved.
#[test]
fn patient_register_before_config_init_says_to_run_config_init() {
    let cli = Cli::new();
    cli.keygen("me.json");
    cli.fails(
        "me.json",
        &["patient", "register"],
        "`careledger config init` first",
    );
    cli.fails(
        "me.json",
        &["config", "show"],
        "`careledger config init` first",
    );
}
