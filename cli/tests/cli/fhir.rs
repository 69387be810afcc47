//! Issue 28 over a ledger folder: `careledger serve --url embedded:PATH` answers the FHIR API
//! from the folder's committed generation while CLI commands keep writing it, as a hospital
//! that runs no cluster would. The scenario suite covers the same routes over the embedded
//! bank and over a localnet (tests/tests/cases/fhir_rest.rs).
use super::records::{get_args, grant, put_lab, send, strs, world, Gateway};
use super::Cli;
use serde_json::{json, Value};

fn fhir(gw: &Gateway, path: &str) -> Value {
    let answer = send(reqwest::Client::new().get(format!("{}/fhir/{path}", gw.url)));
    assert_eq!(answer.content_type, "application/fhir+json", "{path}");
    let body: Value = serde_json::from_slice(&answer.body).expect("FHIR JSON");
    assert_eq!(answer.status, 200, "{path}: {body}");
    body
}

fn evaluate(gw: &Gateway, patient: &str, actor: &str) -> Value {
    let question = json!({
        "resourceType": "Parameters",
        "parameter": [
            { "name": "patient", "valueString": patient },
            { "name": "actor", "valueString": actor },
            { "name": "purpose", "valueCode": "TREAT" },
            { "name": "action", "valueCode": "access" },
            { "name": "record", "valueUnsignedInt": 0 },
        ],
    });
    let answer = send(
        reqwest::Client::new()
            .post(format!("{}/fhir/Consent/$evaluate", gw.url))
            .header("content-type", "application/fhir+json")
            .body(question.to_string()),
    );
    assert_eq!(answer.status, 200);
    serde_json::from_slice(&answer.body).expect("Parameters")
}

#[test]
fn serve_answers_fhir_over_a_ledger_folder_as_commands_write_it() {
    let cli = Cli::new();
    let (patient, wallets) = world(&cli, &["clinic"]);
    let clinic = &wallets[0];
    let gw = Gateway::start(&cli, &[]);
    let lab = super::records::content(70_000, 5);
    let put = put_lab(&cli, &gw, "lab.bin", &lab);
    let record = put["record"].as_str().unwrap().to_string();
    assert_eq!(
        evaluate(&gw, &patient, clinic)["parameter"][0]["valueCode"],
        "deny",
        "before any grant"
    );
    grant(&cli, clinic);
    assert_eq!(
        evaluate(&gw, &patient, clinic)["parameter"][0]["valueCode"],
        "permit"
    );
    let out = cli.path("lab.got");
    cli.ok(
        "clinic.json",
        &strs(&get_args(&cli, &gw, "clinic", &record, &out)),
    );
    // the release logged one access: the folder's events log is the trail
    let audit = fhir(&gw, &format!("AuditEvent?patient={patient}&agent={clinic}"));
    assert_eq!(audit["total"], 1, "{audit}");
    let event = &audit["entry"][0]["resource"];
    assert_eq!(event["action"], "R");
    let id = event["id"].as_str().unwrap();
    assert_eq!(&fhir(&gw, &format!("AuditEvent/{id}")), event);
    let provenance = fhir(&gw, &format!("Provenance?target=AuditEvent/{id}"));
    assert_eq!(provenance["total"], 1, "{provenance}");
    // the record links to this gateway's /ipfs, with the size it holds
    let document = fhir(&gw, &format!("DocumentReference/{record}"));
    let attachment = &document["content"][0]["attachment"];
    let cid = put["cid"].as_str().unwrap();
    assert_eq!(attachment["url"], format!("{}/ipfs/{cid}", gw.url));
    assert!(
        attachment["size"].as_u64().unwrap() > lab.len() as u64,
        "{attachment}"
    );
    // a revoke written by another command is what the next answer reads
    cli.ok(
        "patient.json",
        &["patient", "revoke", clinic, "--purpose", "treatment"],
    );
    let answer = evaluate(&gw, &patient, clinic);
    assert_eq!(answer["parameter"][0]["valueCode"], "deny", "{answer}");
    assert_eq!(answer["parameter"][2]["valueCode"], "revoked", "{answer}");
    let consents = fhir(&gw, &format!("Consent?patient={patient}&status=inactive"));
    assert_eq!(consents["total"], 1, "{consents}");
    assert_eq!(
        fhir(&gw, &format!("AuditEvent?patient={patient}&_summary=count"))["total"],
        2,
        "the access and the revocation"
    );
}
