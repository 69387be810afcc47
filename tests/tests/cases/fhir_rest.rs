//! Issue 28: the FHIR REST API (`careledger_server::fhir`) over the scenario's ledger (the
//! embedded bank, or a localnet over JSON-RPC in the over-the-wire run), spoken to over HTTP on
//! loopback as an EHR would: paging, reads, searches, refusals as OperationOutcomes, and
//! `Consent/$evaluate` against the program's own `access_log` decision. Every answer is written
//! to target/fhir-rest-fixture and, with CARELEDGER_FHIR_PYTHON set, validated by
//! `fhir.resources` (tests/fhir/validate.py); `.ci/run` also checks it against the official R4
//! JSON schema (tests/fhir/rest.mjs).
use careledger_sdk::classes::RecordClass;
use careledger_sdk::{action, ix, pda, AccessLogArgs, CareledgerEvent, Purpose};
use careledger_server::fhir::evaluate::{question_parameters, refusal_code, Question};
use careledger_server::fhir::Fhir;
use careledger_tests::{ConsentScene, Env, EnvView};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::sync::Arc;

struct Api {
    base: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    /// Every resource answered, for the validators.
    seen: Vec<Value>,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Api {
    async fn start(env: &Arc<Env>) -> Api {
        Api::start_with(env, |api| api).await
    }

    /// The API over `env`, as `configure` sets it up.
    async fn start_with(
        env: &Arc<Env>,
        configure: impl FnOnce(Fhir<EnvView>) -> Fhir<EnvView>,
    ) -> Api {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let api = configure(Fhir::new(EnvView(env.clone()), &origin));
        let app = careledger_server::Server::new().fhir(Arc::new(api));
        let task = tokio::spawn(async move {
            let _ = app.serve(listener).await;
        });
        Api {
            base: format!("{origin}/fhir"),
            http: reqwest::Client::new(),
            task,
            seen: Vec::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/{path}", self.base)
        }
    }

    /// GET with these headers: the status and the JSON body, which must be FHIR JSON.
    async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut request = self.http.get(self.url(path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        let media = r.headers()["content-type"].to_str().unwrap().to_owned();
        let body: Value = r.json().await.unwrap();
        assert_eq!(media, "application/fhir+json", "GET {path}: {body}");
        self.seen.push(body.clone());
        (status, body)
    }

    async fn get(&mut self, path: &str) -> Value {
        let (status, body) = self.get_with(path, &[]).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn post(&mut self, path: &str, content_type: &str, body: String) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        self.seen.push(body.clone());
        (status, body)
    }

    /// Every entry of a search, following `next` links to the end: the ids in order, and the
    /// number of pages.
    async fn walk(&mut self, first: &str) -> (Vec<String>, usize, u64) {
        let mut ids = Vec::new();
        let mut next = Some(first.to_owned());
        let mut pages = 0;
        let mut total = 0;
        // bounded: a thousand pages is far past any trail these tests make
        for _ in 0..1_000 {
            let Some(url) = next.take() else { break };
            let page = self.get(&url).await;
            pages += 1;
            total = page["total"].as_u64().expect("a searchset has its total");
            for e in page["entry"].as_array().into_iter().flatten() {
                if e["search"]["mode"] == "match" {
                    ids.push(e["resource"]["id"].as_str().unwrap().to_owned());
                }
            }
            next = page["link"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["relation"] == "next")
                .map(|l| l["url"].as_str().unwrap().to_owned());
        }
        assert!(next.is_none(), "the walk did not end");
        (ids, pages, total)
    }

    /// Writes what was answered to target/fhir-rest-fixture/NAME.json (one collection Bundle)
    /// and validates it with fhir.resources where CARELEDGER_FHIR_PYTHON is set.
    fn validate(&self, name: &str) {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fhir-rest-fixture");
        std::fs::create_dir_all(&dir).unwrap();
        let mut resources: Vec<Value> = Vec::new();
        for body in &self.seen {
            resources.push(body.clone());
            for e in body["entry"].as_array().into_iter().flatten() {
                resources.push(e["resource"].clone());
            }
        }
        let entry: Vec<Value> = resources.iter().map(|r| json!({ "resource": r })).collect();
        let bundle = json!({ "resourceType": "Bundle", "type": "collection", "entry": entry });
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
        let Some(python) = std::env::var_os("CARELEDGER_FHIR_PYTHON") else {
            eprintln!(
                "CARELEDGER_FHIR_PYTHON unset: {} written but not validated",
                path.display()
            );
            return;
        };
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fhir/validate.py");
        let out = std::process::Command::new(python)
            .arg(script)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "fhir.resources refused {}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `access_log` by `grantee` under `grant`, not strict (a refusal is recorded).
fn access_ix(
    grantee: &Pubkey,
    patient: &Pubkey,
    grant: Pubkey,
    purpose: Purpose,
    act: u8,
    record: &Pubkey,
) -> solana_instruction::Instruction {
    ix::AccessLog {
        grantee: *grantee,
        patient_wallet: *patient,
        grant,
        record: *record,
        args: AccessLogArgs {
            action: act,
            purpose,
            strict: false,
        },
    }
    .instruction()
}

/// Sends `log` signed by `who`, made unique by a transfer of `n` lamports riding along, so that
/// a repeated access never waits for a new blockhash.
async fn send_unique(
    env: &Env,
    who: &Keypair,
    log: solana_instruction::Instruction,
    n: u64,
) -> Result<Vec<CareledgerEvent>, careledger_sdk::SdkError> {
    let unique =
        solana_system_interface::instruction::transfer(&who.pubkey(), &env.client.payer(), n);
    Ok(env.send_all(&[unique, log], &[who]).await?.events)
}

/// An access by `who` under the grant at the patient's address for `purpose`.
async fn log_access(
    env: &Env,
    who: &Keypair,
    patient: &Pubkey,
    purpose: Purpose,
    act: u8,
    record: &Pubkey,
    n: u64,
) -> Result<Vec<CareledgerEvent>, careledger_sdk::SdkError> {
    let grant = pda::grant(patient, &who.pubkey(), purpose).0;
    let log = access_ix(&who.pubkey(), patient, grant, purpose, act, record);
    send_unique(env, who, log, n).await
}

#[tokio::test]
async fn fhir_rest_pages_a_thousand_audit_events_with_no_gap_and_no_duplicate() {
    let scene = ConsentScene::new().await;
    let wallet = scene.patient.pubkey();
    let env = Arc::new(scene.env);
    // the invariant checks read the whole ledger around each transaction: a thousand accesses
    // need none of that to be paged
    env.set_invariant_checks(false);
    let mut api = Api::start(&env).await;
    let count_path = format!("AuditEvent?patient={wallet}&_summary=count");
    let before = api.get(&count_path).await["total"].as_u64().unwrap();
    for n in 0..1_000u64 {
        let events = log_access(
            &env,
            &scene.clinic,
            &wallet,
            Purpose::Treatment,
            action::READ,
            &scene.record,
            1 + n,
        )
        .await
        .unwrap();
        assert!(
            matches!(events.as_slice(), [CareledgerEvent::AccessLogged(_)]),
            "{events:?}"
        );
    }
    assert_eq!(
        api.get(&count_path).await["total"].as_u64().unwrap(),
        before + 1_000
    );
    let (ids, pages, total) = api
        .walk(&format!("AuditEvent?patient={wallet}&_count=50"))
        .await;
    assert_eq!(total, before + 1_000);
    assert_eq!(ids.len() as u64, total, "the walk saw every event once");
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no event twice");
    assert_eq!(pages as u64, total.div_ceil(50));
    // the same walk again gives the same ids in the same order: pages are stable
    let (again, ..) = api
        .walk(&format!("AuditEvent?patient={wallet}&_count=50"))
        .await;
    assert_eq!(again, ids);
    // an agent and a date filter narrow it; a provenance names each event's transaction
    let (mine, ..) = api
        .walk(&format!(
            "AuditEvent?patient={wallet}&agent={}&date=ge2000-01-01&date=le2999&_count=500",
            scene.clinic.pubkey()
        ))
        .await;
    assert_eq!(mine.len(), ids.len());
    let (none, ..) = api
        .walk(&format!(
            "AuditEvent?patient={wallet}&date=lt2000&_count=500"
        ))
        .await;
    assert!(none.is_empty());
    let provenance = api
        .get(&format!(
            "Provenance?patient={wallet}&target=AuditEvent/{}",
            ids[7]
        ))
        .await;
    assert_eq!(provenance["total"], 1, "{provenance}");
    assert!(
        provenance["entry"][0]["resource"]["entity"][0]["what"]["identifier"]["value"]
            .as_str()
            .unwrap()
            .len()
            > 80
    );
    api.validate("paging");
}

#[tokio::test]
async fn fhir_rest_reads_searches_and_refuses_as_fhir_says() {
    let scene = ConsentScene::new().await;
    let wallet = scene.patient.pubkey();
    let clinic = scene.clinic.pubkey();
    let env = Arc::new(scene.env);
    let mut api = Api::start(&env).await;
    log_access(
        &env,
        &scene.clinic,
        &wallet,
        Purpose::Treatment,
        action::READ,
        &scene.record,
        1,
    )
    .await
    .unwrap();
    let researcher = env.verified_provider(careledger_sdk::ROLE_RESEARCHER).await;
    env.grant(
        &scene.patient,
        &researcher.pubkey(),
        Purpose::Research,
        RecordClass::LabResult.bit(),
        action::READ,
        10,
    )
    .await
    .unwrap();
    env.send(
        ix::GrantRevoke {
            authority: wallet,
            patient_wallet: wallet,
            grant: scene.grant,
        }
        .instruction(),
        &[&scene.patient],
    )
    .await
    .unwrap();

    let metadata = api.get("metadata").await;
    assert_eq!(metadata["resourceType"], "CapabilityStatement");
    assert_eq!(metadata["fhirVersion"], "4.0.1");
    let types: Vec<&str> = metadata["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "Consent",
            "AuditEvent",
            "DocumentReference",
            "ClaimResponse",
            "Provenance"
        ]
    );
    let definition = api.get("OperationDefinition/consent-evaluate").await;
    assert_eq!(definition["code"], "evaluate");

    let consents = api.get(&format!("Consent?patient={wallet}")).await;
    assert_eq!(consents["total"], 2, "{consents}");
    let active = api
        .get(&format!("Consent?patient={wallet}&status=active"))
        .await;
    assert_eq!(active["total"], 1);
    let theirs = active["entry"][0]["resource"].clone();
    assert_eq!(
        theirs["provision"]["actor"][0]["reference"]["identifier"]["value"],
        researcher.pubkey().to_string()
    );
    let by_actor = api
        .get(&format!(
            "Consent?patient=urn:solana:pubkey|{wallet}&actor={clinic}&purpose=TREAT"
        ))
        .await;
    assert_eq!(by_actor["total"], 1);
    assert_eq!(
        by_actor["entry"][0]["resource"]["status"], "inactive",
        "the revoked grant"
    );
    let id = theirs["id"].as_str().unwrap();
    let read = api.get(&format!("Consent/{id}")).await;
    assert_eq!(read["id"], id);
    let provenance = api.get(&format!("Provenance?target=Consent/{id}")).await;
    assert!(provenance["total"].as_u64().unwrap() >= 1, "{provenance}");

    let documents = api
        .get(&format!(
            "DocumentReference?patient={wallet}&category=lab-result"
        ))
        .await;
    assert_eq!(documents["total"], 1);
    let doc = &documents["entry"][0]["resource"];
    assert_eq!(doc["id"], scene.record.to_string());
    assert!(doc["content"][0]["attachment"]["url"]
        .as_str()
        .unwrap()
        .starts_with("ipfs://"));
    assert_eq!(
        api.get(&format!(
            "DocumentReference?patient={wallet}&category=imaging"
        ))
        .await["total"],
        0
    );
    assert_eq!(
        api.get(&format!("DocumentReference/{}", scene.record))
            .await["id"],
        scene.record.to_string()
    );
    assert_eq!(
        api.get(&format!("ClaimResponse?patient={wallet}")).await["total"],
        0
    );
    let audit = api.get(&format!("AuditEvent?patient={wallet}")).await;
    assert_eq!(audit["total"], 2, "one access and one revocation: {audit}");
    // an AuditEvent's id names its patient: it reads by id, and so does its Provenance
    let event = audit["entry"][0]["resource"].clone();
    let event_id = event["id"].as_str().unwrap();
    assert!(event_id.len() <= 64 && event_id.starts_with(&wallet.to_string()));
    assert_eq!(api.get(&format!("AuditEvent/{event_id}")).await, event);
    let provenance = api
        .get(&format!("Provenance?target=AuditEvent/{event_id}"))
        .await;
    assert_eq!(provenance["total"], 1, "{provenance}");
    let provenance_id = provenance["entry"][0]["resource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(provenance_id.len() <= 64);
    assert_eq!(
        api.get(&format!("Provenance/{provenance_id}")).await["id"],
        provenance_id.as_str()
    );
    let (status, body) = api
        .get_with(&format!("AuditEvent/{wallet}.000000000000.0"), &[])
        .await;
    assert!(
        status == 404 && body["resourceType"] == "OperationOutcome",
        "{body}"
    );
    let (status, body) = api.get_with("Consent/%FF", &[]).await;
    assert!(
        status == 404 && body["resourceType"] == "OperationOutcome",
        "{body}"
    );
    // a refusal from a layer (the body limit) is an OperationOutcome too
    let (status, body) = api
        .post(
            "Consent/$evaluate",
            "application/fhir+json",
            " ".repeat(3 << 20),
        )
        .await;
    assert!(
        status == 413 && body["resourceType"] == "OperationOutcome",
        "{body}"
    );

    // refusals, each an OperationOutcome with FHIR's status
    let outcome = |body: &Value| body["resourceType"] == "OperationOutcome";
    let (status, body) = api
        .get_with(
            &format!("Consent?patient={wallet}&colour=red"),
            &[("prefer", "handling=strict")],
        )
        .await;
    assert!(
        status == 400
            && outcome(&body)
            && body["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("colour"),
        "{body}"
    );
    let lenient = api
        .get(&format!("Consent?patient={wallet}&colour=red"))
        .await;
    assert_eq!(lenient["total"], 2);
    assert!(lenient["entry"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["search"]["mode"] == "outcome"));
    let (status, body) = api
        .get_with(
            &format!("Consent/{}-1", solana_pubkey::Pubkey::new_unique()),
            &[],
        )
        .await;
    assert!(status == 404 && outcome(&body), "{body}");
    let (status, body) = api.get_with("Consent/not-an-id", &[]).await;
    assert!(status == 404 && outcome(&body), "{body}");
    let (status, body) = api.get_with("Consent", &[]).await;
    assert!(
        status == 400
            && body["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("patient=WALLET"),
        "{body}"
    );
    let (status, body) = api
        .get_with(&format!("Consent?patient={wallet}&status=draft"), &[])
        .await;
    assert!(status == 400 && outcome(&body), "{body}");
    let (status, body) = api
        .get_with("metadata", &[("accept", "application/fhir+xml")])
        .await;
    assert!(status == 406 && outcome(&body), "{body}");
    let (status, body) = api.get_with("Patient", &[]).await;
    assert!(status == 404 && outcome(&body), "{body}");
    let said = body["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(
        said.contains("GET /fhir/Patient"),
        "names what was asked: {said}"
    );
    let (status, body) = api.get_with("Consent/$evaluate", &[]).await;
    assert!(status == 405 && outcome(&body), "{body}");
    assert!(body["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("takes POST"));
    // a wallet that is no patient: an empty searchset that says why
    let nobody = solana_pubkey::Pubkey::new_unique();
    let empty = api.get(&format!("Consent?patient={nobody}")).await;
    assert_eq!(empty["total"], 0);
    assert!(empty["entry"][0]["resource"]["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("not a registered patient"));
    let question = Question {
        patient: wallet,
        actor: researcher.pubkey(),
        purpose: Purpose::Research,
        action: action::READ,
        class: Some(RecordClass::LabResult.id()),
        record: None,
        time: None,
    };
    let (status, body) = api
        .post(
            "Consent/$evaluate",
            "text/plain",
            question_parameters(&question).to_string(),
        )
        .await;
    assert!(status == 415 && outcome(&body), "{body}");
    assert!(body["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("Content-Type `text/plain`"));
    let (status, body) = api
        .post("Consent/$evaluate", "application/fhir+json", "{".into())
        .await;
    assert!(status == 400 && outcome(&body), "{body}");
    let (status, body) = api
        .post(
            "Consent/$evaluate",
            "application/fhir+json",
            question_parameters(&question).to_string(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // an unknown parameter is ignored, or refused when the client asks for strict handling
    let mut colourful = question_parameters(&question);
    colourful["parameter"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "colour", "valueString": "red" }));
    let strict = api
        .http
        .post(api.url("Consent/$evaluate"))
        .header("content-type", "application/fhir+json")
        .header("prefer", "handling=strict")
        .body(colourful.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(strict.status(), 400);
    let refused: Value = strict.json().await.unwrap();
    let said = refused["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(said.contains("no parameter colour"), "{said}");
    let (status, _) = api
        .post(
            "Consent/$evaluate",
            "application/fhir+json",
            colourful.to_string(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["parameter"][0]["valueCode"], "permit", "{body}");
    // at a time past the grant's end, the same question is denied as expired
    let later = Question {
        time: Some(env.now().await + 11 * 86_400),
        ..question
    };
    let (_, body) = api
        .post(
            "Consent/$evaluate",
            "application/fhir+json",
            question_parameters(&later).to_string(),
        )
        .await;
    assert_eq!(body["parameter"][0]["valueCode"], "deny");
    assert_eq!(body["parameter"][2]["valueCode"], "expired", "{body}");
    api.validate("reads");
}

/// May `actor` read the patient's record 0 for treatment, now?
fn reads_record_0(patient: &Pubkey, actor: &Pubkey) -> Question {
    Question {
        patient: *patient,
        actor: *actor,
        purpose: Purpose::Treatment,
        action: action::READ,
        class: None,
        record: Some(0),
        time: None,
    }
}

/// The program's own decision for one case: permit when `access_log` logs the access, the
/// refusal's code when it records a refusal, and `None` when the program rejects the
/// transaction. Any other failure (the transport, a blockhash) fails the test: it is no decision.
fn program_decision(
    result: Result<Vec<CareledgerEvent>, careledger_sdk::SdkError>,
) -> Option<(bool, Option<String>)> {
    use careledger_sdk::SdkError;
    let events = match result {
        Ok(events) => events,
        Err(SdkError::Program { .. } | SdkError::Anchor { .. }) => return None,
        Err(other) => panic!("access_log failed without a decision: {other:?}"),
    };
    match events.as_slice() {
        [CareledgerEvent::AccessLogged(_)] => Some((true, None)),
        [CareledgerEvent::AccessRefused(r)] => Some((false, Some(refusal_code(r.reason)))),
        other => panic!("access_log emitted {other:?}"),
    }
}

#[tokio::test]
async fn fhir_rest_consent_evaluate_agrees_with_access_log_over_generated_cases() {
    use careledger_sdk::GrantCreateArgs;
    let env = Env::new().await;
    env.set_invariant_checks(false);
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let classes = [
        RecordClass::LabResult,
        RecordClass::Imaging,
        RecordClass::Prescription,
        RecordClass::ClinicalNote,
        RecordClass::Genomic,
    ];
    let mut records = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        records.push(
            env.anchor_as_patient(&patient, class.id(), 10 + i as u8)
                .await,
        );
    }
    let clinic = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
    let researcher = env.verified_provider(careledger_sdk::ROLE_RESEARCHER).await;
    let revoked = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
    let writer = env.verified_provider(careledger_sdk::ROLE_HOSPITAL).await;
    let suspended = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
    let scoped = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
    let emergency = env
        .verified_provider(careledger_sdk::ROLE_CLINICIAN | careledger_sdk::ROLE_EMERGENCY)
        .await;
    let stranger = env.actor().await;
    let lab_and_imaging = RecordClass::LabResult.bit() | RecordClass::Imaging.bit();
    let (read, write) = (action::READ, action::WRITE);
    let grants = [
        (&clinic, Purpose::Treatment, lab_and_imaging, read),
        (
            &clinic,
            Purpose::Payment,
            RecordClass::Prescription.bit(),
            read | write,
        ),
        (
            &researcher,
            Purpose::Research,
            RecordClass::Genomic.bit() | RecordClass::LabResult.bit(),
            read,
        ),
        (&revoked, Purpose::Treatment, lab_and_imaging, read),
        (
            &writer,
            Purpose::Operations,
            RecordClass::ClinicalNote.bit(),
            write,
        ),
        (&suspended, Purpose::Treatment, lab_and_imaging, read),
    ];
    for (who, purpose, bits, acts) in grants {
        env.grant(&patient, &who.pubkey(), purpose, bits, acts, 30)
            .await
            .unwrap();
    }
    // a grant scoped to one record (number 1, imaging) of the classes it names
    env.send(
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: scoped.pubkey(),
            args: GrantCreateArgs {
                purpose: Purpose::Treatment,
                classes: lab_and_imaging,
                actions: read,
                record_scope: 1,
                not_before: 0,
                expires_at: env.now().await + 30 * 86_400,
            },
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let gone = pda::grant(&wallet, &revoked.pubkey(), Purpose::Treatment).0;
    env.send(
        ix::GrantRevoke {
            authority: wallet,
            patient_wallet: wallet,
            grant: gone,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let authority = env.credential_authority.insecure_clone();
    env.send(
        ix::ProviderSuspend {
            authority: authority.pubkey(),
            provider_wallet: suspended.pubkey(),
            reason_code: 3,
        }
        .instruction(),
        &[&authority],
    )
    .await
    .unwrap();
    let emergency_grant = env.break_glass(&emergency, &wallet, 3_600).await.unwrap();
    let env = Arc::new(env);
    let mut api = Api::start(&env).await;
    let actors = [
        &clinic,
        &researcher,
        &revoked,
        &writer,
        &suspended,
        &scoped,
        &emergency,
        &stranger,
    ];
    let purposes = [
        Purpose::Treatment,
        Purpose::Payment,
        Purpose::Research,
        Purpose::Operations,
        Purpose::Emergency,
    ];
    let mut cases = 0;
    let mut permits = 0;
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    let mut n = 0u64;
    for actor in actors {
        for purpose in purposes {
            for act in [read, write] {
                for (index, record) in records.iter().enumerate() {
                    n += 1;
                    let question = Question {
                        patient: wallet,
                        actor: actor.pubkey(),
                        purpose,
                        action: act,
                        class: None,
                        record: Some(index as u32),
                        time: None,
                    };
                    let (status, answer) = api
                        .post(
                            "Consent/$evaluate",
                            "application/fhir+json",
                            question_parameters(&question).to_string(),
                        )
                        .await;
                    assert_eq!(status, 200, "{answer}");
                    let permit = answer["parameter"][0]["valueCode"] == "permit";
                    let reason = answer["parameter"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|p| p["name"] == "reason")
                        .map(|p| p["valueCode"].as_str().unwrap().to_owned());
                    // the grant a client would log under: the break-glass one for an emergency
                    let grant = match (purpose, actor.pubkey() == emergency.pubkey()) {
                        (Purpose::Emergency, true) => emergency_grant,
                        _ => pda::grant(&wallet, &actor.pubkey(), purpose).0,
                    };
                    let log = access_ix(&actor.pubkey(), &wallet, grant, purpose, act, record);
                    let program = program_decision(send_unique(&env, actor, log, n).await);
                    let case =
                        format!("{} {purpose:?} action {act} record {index}", actor.pubkey());
                    match program {
                        Some(decided) => assert_eq!((permit, reason.clone()), decided, "{case}"),
                        // access_log rejects the transaction outright: the API must deny it
                        // (one who is no provider, an emergency access with no break-glass grant)
                        None => {
                            assert!(!permit, "{case}: permitted what access_log rejects");
                            if actor.pubkey() == stranger.pubkey() {
                                assert_eq!(reason.as_deref(), Some("not-a-provider"), "{case}");
                            }
                        }
                    }
                    cases += 1;
                    permits += usize::from(permit);
                    *reasons
                        .entry(reason.unwrap_or_else(|| "permit".into()))
                        .or_default() += 1;
                }
            }
        }
    }
    assert!(cases >= 200, "{cases} cases");
    // the table exercises permits and the refusals it was built for
    for expected in [
        "permit",
        "no-grant",
        "revoked",
        "class-not-granted",
        "action-not-granted",
        "provider-suspended",
        "record-out-of-scope",
        "not-a-provider",
    ] {
        assert!(
            reasons.contains_key(expected),
            "no case gave {expected}: {reasons:?}"
        );
    }
    assert!(permits >= 10, "{reasons:?}");
    eprintln!("$evaluate agreed with access_log in {cases} cases: {reasons:?}");
    api.validate("evaluate");
}

#[tokio::test]
async fn fhir_rest_consent_evaluate_denies_while_paused_as_access_log_rejects() {
    if careledger_tests::skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let scene = ConsentScene::new().await;
    let wallet = scene.patient.pubkey();
    let env = Arc::new(scene.env);
    let mut api = Api::start(&env).await;
    let question = reads_record_0(&wallet, &scene.clinic.pubkey());
    let body = question_parameters(&question).to_string();
    let (_, answer) = api
        .post("Consent/$evaluate", "application/fhir+json", body.clone())
        .await;
    assert_eq!(answer["parameter"][0]["valueCode"], "permit", "{answer}");
    let admin = env.admin.insecure_clone();
    let pause = |paused| {
        ix::ConfigSetPaused {
            admin: admin.pubkey(),
            paused,
        }
        .instruction()
    };
    env.send(pause(true), &[&admin]).await.unwrap();
    let (_, answer) = api
        .post("Consent/$evaluate", "application/fhir+json", body.clone())
        .await;
    assert_eq!(answer["parameter"][0]["valueCode"], "deny", "{answer}");
    assert_eq!(answer["parameter"][2]["valueCode"], "paused", "{answer}");
    let refused = log_access(
        &env,
        &scene.clinic,
        &wallet,
        Purpose::Treatment,
        action::READ,
        &scene.record,
        1,
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused.program_error(),
        Some(careledger_sdk::CareledgerError::Paused)
    );
    env.send(pause(false), &[&admin]).await.unwrap();
    let (_, answer) = api
        .post("Consent/$evaluate", "application/fhir+json", body)
        .await;
    assert_eq!(answer["parameter"][0]["valueCode"], "permit", "{answer}");
}

#[tokio::test]
async fn fhir_rest_consent_evaluate_decides_nothing_on_a_lagging_ledger() {
    // who gains: an EHR behind a node that lags, to be told "permit" on a grant the patient has
    // already revoked. The clock moves back here, which only the embedded bank allows.
    let scene = ConsentScene::new().await;
    if scene.env.client.transport().as_embedded().is_none() {
        return;
    }
    let wallet = scene.patient.pubkey();
    let env = Arc::new(scene.env);
    let mut api = Api::start_with(&env, |api| api.with_max_ledger_lag(120)).await;
    let question = reads_record_0(&wallet, &scene.clinic.pubkey());
    let body = question_parameters(&question).to_string();
    let wall = careledger_server::common::unix_now();
    env.set_clock(wall).await;
    let (status, answer) = api
        .post("Consent/$evaluate", "application/fhir+json", body.clone())
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["parameter"][0]["valueCode"], "permit", "{answer}");
    env.set_clock(wall - 3_600).await;
    let (status, answer) = api
        .post("Consent/$evaluate", "application/fhir+json", body)
        .await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["resourceType"], "OperationOutcome");
    let said = answer["issue"][0]["diagnostics"].as_str().unwrap();
    assert!(said.contains("behind this server's"), "{said}");
}
