//! The drug supply chain through the CLI on a ledger folder: the credential authority approves a
//! manufacturer and a pharmacy and registers the product, the manufacturer plans and commissions
//! a batch, the pharmacy verifies and dispenses. A second dispense of the same serial (a clone) is
//! refused as SUSPECT, a serial the manifest does not list (a counterfeit) never verifies, and a
//! recall fails every pack of the batch.
use super::Cli;
use serde_json::Value;
use std::path::Path;

const GTIN: &str = "09506000134352";

/// The human-readable form of one of the batch's packs.
fn pack(serial: &str) -> String {
    format!("(01){GTIN}(17)301231(10)LOT42(21){serial}")
}

/// `supply verify`: its exit code and its JSON answer.
fn verdict(cli: &Cli, serial: &str, manifest: &str) -> (Option<i32>, Value) {
    let out = cli.cmd(
        "pharmacy.json",
        &[
            "--output",
            "json-compact",
            "supply",
            "verify",
            &pack(serial),
            "--manifest",
            manifest,
        ],
    );
    let output = out.get_output();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let answer = serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (output.status.code(), answer)
}

#[test]
fn supply_parse_reads_every_form_and_names_a_bad_check_digit() {
    let cli = Cli::new();
    // no keypair and no ledger needed
    let hri = cli.json(
        "none.json",
        &[
            "supply",
            "parse",
            "(01)00300021433802(17)301200(10)LOT42(21)SER001",
        ],
    );
    assert_eq!(hri["gtin"], "00300021433802");
    assert_eq!(hri["ndc10"], "0002143380");
    assert_eq!(hri["lot"], "LOT42");
    assert_eq!(hri["expiry"], "2030-12-31");
    assert_eq!(hri["serial"], "SER001");
    for scan in [
        "]d201003000214338021730120010LOT42<GS>21SER001",
        "]d201003000214338021730120010LOT42\\x1d21SER001",
        "]d201003000214338021730120010LOT42\u{1d}21SER001",
    ] {
        assert_eq!(
            cli.json("none.json", &["supply", "parse", scan]),
            hri,
            "{scan}"
        );
    }
    let text = cli.ok(
        "none.json",
        &[
            "supply",
            "parse",
            "(01)00300021433802(17)301200(10)LOT42(21)SER001",
        ],
    );
    assert!(text.contains("NDC     0002143380"), "{text}");
    assert!(text.contains("expiry  2030-12-31"), "{text}");
    cli.fails(
        "none.json",
        &[
            "supply",
            "parse",
            "(01)00300021433803(17)301200(10)LOT42(21)SER001",
        ],
        "GTIN 00300021433803 has check digit 3; the mod-10 check digit of its first 13 digits is 2",
    );
}

#[test]
fn a_batch_from_commissioning_to_recall() {
    let cli = Cli::new();
    cli.keygen("admin.json");
    let maker = cli.keygen("maker.json");
    let pharmacy = cli.keygen("pharmacy.json");
    let licence = cli.path("licence.pdf");
    std::fs::write(&licence, b"licence").unwrap();
    cli.ok("admin.json", &["config", "init"]);
    for (who, wallet, role) in [
        ("maker.json", &maker, "manufacturer"),
        ("pharmacy.json", &pharmacy, "dispenser"),
    ] {
        let args = ["supply", "register", "--roles", role, "--credential-file"];
        cli.ok(who, &[&args[..], &[&licence]].concat());
        let approved = cli.json(
            "admin.json",
            &["supply", "approve", wallet, "--roles", role],
        );
        assert_eq!(approved["supply_roles"], serde_json::json!([role]));
    }
    assert_eq!(
        cli.json("pharmacy.json", &["provider", "show"])["status"],
        "Verified"
    );
    cli.ok(
        "admin.json",
        &[
            "supply",
            "product-register",
            "--gtin",
            GTIN,
            "--manufacturer",
            &maker,
        ],
    );

    let serials = cli.path("serials.txt");
    std::fs::write(&serials, "S1\nS2\nS3\nS4\nS5\n").unwrap();
    let manifest = cli.path("lot42.manifest");
    let planned = cli.json(
        "maker.json",
        &[
            "supply",
            "plan",
            "--gtin",
            GTIN,
            "--lot",
            "LOT42",
            "--expiry",
            "301231",
            "--serials",
            &serials,
            "--pad-to",
            "8",
            "--out",
            &manifest,
        ],
    );
    assert_eq!(
        (planned["capacity"].clone(), planned["depth"].clone()),
        (8.into(), 3.into())
    );
    assert!(Path::new(&format!("{manifest}.map.json")).exists());
    let commissioned = cli.json(
        "maker.json",
        &["supply", "commission", "--manifest", &manifest],
    );
    assert_eq!(commissioned["batch"], planned["batch"]);
    assert_eq!(commissioned["events"][0], "BatchCommissioned");

    let (code, answer) = verdict(&cli, "S1", &manifest);
    assert_eq!(
        (code, &answer["verified"]),
        (Some(0), &Value::Bool(true)),
        "{answer}"
    );
    // the manufacturer ships to the pharmacy, which receives
    let (epcis, receipt) = (cli.path("ship.json"), cli.path("receipt.json"));
    std::fs::write(&epcis, br#"{"type":"EPCISDocument","shipping":true}"#).unwrap();
    std::fs::write(&receipt, br#"{"type":"EPCISDocument","receiving":true}"#).unwrap();
    let shipped = cli.json(
        "maker.json",
        &[
            "supply",
            "ship",
            "--manifest",
            &manifest,
            "--to",
            &pharmacy,
            "--epcis",
            &epcis,
            "--quantity",
            "5",
        ],
    );
    let shipment = shipped["shipment"].as_str().unwrap();
    let received = cli.json(
        "pharmacy.json",
        &["supply", "receive", shipment, "--epcis", &receipt],
    );
    assert_eq!(received["events"][0], "ShipmentReceived");

    let dispensed = cli.json(
        "pharmacy.json",
        &["supply", "dispense", &pack("S1"), "--manifest", &manifest],
    );
    assert_eq!(dispensed["events"][0], "PackStatusChanged");
    let (code, answer) = verdict(&cli, "S1", &manifest);
    assert_eq!(code, Some(1), "{answer}");
    assert_eq!(answer["reason"], "already_dispensed");

    // the same serial again is a clone: on the ledger as a suspect report, and exit 1
    let again = cli
        .cmd(
            "pharmacy.json",
            &["supply", "dispense", &pack("S1"), "--manifest", &manifest],
        )
        .failure();
    let stdout = String::from_utf8_lossy(&again.get_output().stdout).to_string();
    assert!(stdout.starts_with("SUSPECT: serial S1"), "{stdout}");
    assert_eq!(again.get_output().status.code(), Some(1));

    // a serial the manifest does not list never verifies, and cannot be dispensed
    let (code, answer) = verdict(&cli, "S99", &manifest);
    assert_eq!(
        (code, &answer["reason"]),
        (Some(1), &"unknown_serial".into())
    );
    cli.fails(
        "pharmacy.json",
        &["supply", "dispense", &pack("S99"), "--manifest", &manifest],
        "not in this manifest: counterfeit or another batch",
    );

    cli.ok(
        "maker.json",
        &["supply", "recall", "--manifest", &manifest, "--reason", "3"],
    );
    let (code, answer) = verdict(&cli, "S2", &manifest);
    assert_eq!((code, &answer["reason"]), (Some(1), &"recalled".into()));
    // no verdict at all: exit 2
    let missing = cli
        .cmd(
            "pharmacy.json",
            &[
                "supply",
                "verify",
                &pack("S2"),
                "--manifest",
                &cli.path("none"),
            ],
        )
        .failure();
    assert_eq!(missing.get_output().status.code(), Some(2));
}
