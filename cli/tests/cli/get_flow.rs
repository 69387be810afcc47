//! `provider get` as a user runs it (issue 24): everything local and everything the gateway
//! answers without a log is checked before the read is logged on chain, so a mistake leaves no
//! false trail; a release that fails after the log is asked again with the same event; a
//! read logged under a grant since made again is not released (R3-3, end to end).
//!
//! Who gains by each rule: an auditor is misled by `AccessLogged` events with nothing
//! released; a grantee whose consent was revoked and given again gains a read the new grant's
//! trail does not show.
use super::put_flow::Proxy;
use super::records::Gateway;
use super::records::{content, files_in, get_args, grant, put_lab, reads_logged, strs, world};
use super::Cli;

fn put(cli: &Cli, gw: &Gateway, file: &str, bytes: &[u8]) -> String {
    put_lab(cli, gw, file, bytes)["record"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn get_checks_everything_it_can_before_logging_the_read() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    let gw = Gateway::start(&cli, &[]);
    let lab = content(120_000, 21);
    let record = put(&cli, &gw, "lab.bin", &lab);
    let get = |out: &str| get_args(&cli, &gw, "clinic", &record, out);
    let none = (0, 0);

    // a missing directory, a name no file system takes, a directory as --out (even with
    // --force: a directory is never replaced)
    let err = cli.stderr_of_failure("clinic.json", &strs(&get(&cli.path("nowhere/lab.bin"))));
    assert!(err.contains("does not exist"), "{err}");
    let long = cli.path(&"a".repeat(300));
    let err = cli.stderr_of_failure("clinic.json", &strs(&get(&long)));
    assert!(
        err.contains("300 bytes long; file names are at most 255"),
        "{err}"
    );
    std::fs::create_dir(cli.path("adir")).unwrap();
    std::fs::write(cli.path("adir/kept.txt"), b"mine").unwrap();
    let mut args = get(&cli.path("adir"));
    args.push("--force".into());
    let err = cli.stderr_of_failure("clinic.json", &strs(&args));
    assert!(err.contains("is a directory: name a file in it"), "{err}");
    assert!(
        !err.contains("--force"),
        "never offer to replace a directory: {err}"
    );
    assert_eq!(std::fs::read(cli.path("adir/kept.txt")).unwrap(), b"mine");
    assert_eq!(reads_logged(&cli), none);

    // a record number the patient does not have, and a wallet given without its /INDEX
    let seventh = format!("{patient}/7");
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_args(
            &cli,
            &gw,
            "clinic",
            &seventh,
            &cli.path("got.bin"),
        )),
    );
    assert!(
        err.contains("that patient has no record with that number"),
        "{err}"
    );
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_args(
            &cli,
            &gw,
            "clinic",
            &patient,
            &cli.path("got.bin"),
        )),
    );
    assert!(err.contains("is not a record but another account"), "{err}");
    assert_eq!(reads_logged(&cli), none);

    // another key file than the one published: publishing is offered only as a rotation
    let published = cli.ok("clinic.json", &["keys", "show"]);
    cli.ok(
        "clinic.json",
        &["keys", "new", "--outfile", &cli.path("other.x25519")],
    );
    let mut args = get(&cli.path("got.bin"));
    assert_eq!(args[7], "--x25519-key");
    args[8] = cli.path("other.x25519");
    let err = cli.stderr_of_failure("clinic.json", &strs(&args));
    assert!(
        err.contains("is not the X25519 key published for wallet"),
        "{err}"
    );
    assert!(err.contains("only to rotate the key on purpose"), "{err}");
    assert!(!err.contains("publish it with"), "{err}");
    assert_eq!(cli.ok("clinic.json", &["keys", "show"]), published);
    assert_eq!(reads_logged(&cli), none);

    // a record this gateway does not hold (anchored, never put here)
    std::fs::write(cli.path("elsewhere.bin"), b"stored elsewhere").unwrap();
    let anchored = cli.json(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("elsewhere.bin"),
            "--class",
            "lab-result",
        ],
    );
    let elsewhere = anchored["record"].as_str().unwrap().to_string();
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_args(
            &cli,
            &gw,
            "clinic",
            &elsewhere,
            &cli.path("got.bin"),
        )),
    );
    assert!(err.contains("holds no ciphertext for record"), "{err}");
    assert!(err.contains("nothing was logged on chain"), "{err}");
    assert_eq!(reads_logged(&cli), none);
    assert!(files_in(&cli, "").iter().all(|f| !f.contains("partial")));

    // and the get itself logs one read and writes the record
    cli.ok("clinic.json", &strs(&get(&cli.path("got.bin"))));
    assert_eq!(std::fs::read(cli.path("got.bin")).unwrap(), lab);
    assert_eq!(reads_logged(&cli), (1, 0));
}

#[test]
fn a_release_that_fails_after_the_log_is_asked_again_with_the_same_event() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    let gw = Gateway::start(&cli, &[]);
    let lab = content(200_000, 22);
    let record = put(&cli, &gw, "lab.bin", &lab);
    // the way to the gateway breaks at the release, after the read is logged
    let proxy = Proxy::start(&gw.url, Some("/release"));
    let out = cli.path("got.bin");
    let mut args = get_args(&cli, &gw, "clinic", &record, &out);
    args[6] = proxy.url.clone();
    let err = cli.stderr_of_failure("clinic.json", &strs(&args));
    assert_eq!(reads_logged(&cli), (1, 0));
    assert!(!std::path::Path::new(&out).exists());
    let event = err
        .split("--event ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no --event in: {err}"))
        .to_string();
    assert!(
        err.contains("ask again with the same event within 300 s"),
        "{err}"
    );

    // the same event, straight to the gateway: released, and nothing logged again
    let mut again = get_args(&cli, &gw, "clinic", &record, &out);
    again.extend(["--event".to_string(), event.clone()]);
    let released = cli.json("clinic.json", &strs(&again));
    assert_eq!(released["transaction"], event);
    assert_eq!(std::fs::read(&out).unwrap(), lab);
    assert_eq!(reads_logged(&cli), (1, 0));
    // a release uses nothing up: the same event, while recent, gives the same record again,
    // and the trail still shows one read
    let second = cli.path("again.bin");
    let mut again = get_args(&cli, &gw, "clinic", &record, &second);
    again.extend(["--event".to_string(), event]);
    cli.json("clinic.json", &strs(&again));
    assert_eq!(std::fs::read(&second).unwrap(), lab);
    assert_eq!(reads_logged(&cli), (1, 0));
}

/// R3-3: the clinic logs a read; the patient revokes and grants again (`patient grant` over
/// the revoked grant); the old event is refused with 403 `grant-replaced`; a new get works.
#[test]
fn a_read_logged_before_the_grant_was_made_again_is_not_released() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic"]);
    let clinic = &wallets[0];
    grant(&cli, clinic);
    let gw = Gateway::start(&cli, &[]);
    let lab = content(90_000, 23);
    let record = put(&cli, &gw, "lab.bin", &lab);
    let logged = cli.json(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    );
    let early = logged["signature"].as_str().unwrap().to_string();
    cli.ok(
        "patient.json",
        &["patient", "revoke", clinic, "--purpose", "treatment"],
    );
    grant(&cli, clinic);
    let out = cli.path("got.bin");
    let mut args = get_args(&cli, &gw, "clinic", &record, &out);
    args.extend(["--event".to_string(), early]);
    let err = cli.stderr_of_failure("clinic.json", &strs(&args));
    assert!(err.contains("403 grant-replaced"), "{err}");
    assert!(
        err.contains("log the access under the grant as it is now"),
        "{err}"
    );
    assert!(!std::path::Path::new(&out).exists());
    let got = cli.json(
        "clinic.json",
        &strs(&get_args(&cli, &gw, "clinic", &record, &out)),
    );
    assert_eq!(std::fs::read(&out).unwrap(), lab);
    assert_ne!(got["transaction"], logged["signature"]);
    assert_eq!(reads_logged(&cli), (2, 0));
}
