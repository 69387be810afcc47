//! Solana Actions (`careledger_server::actions`) over real HTTP on 127.0.0.1, against the embedded
//! runtime. Each test acts as a wallet: it fetches an action, signs only what the wallet's key
//! must sign, submits the transaction, and checks the ledger did exactly what the action's
//! metadata promised. Who gains by breaking the rules:
//! - a clinic whose link promises one thing and records another (the program checks the
//!   statement; here the server must refuse a statement or href that was altered);
//! - anyone deciding for a patient they are not (a stranger's account gets no transaction);
//! - a stale or already-decided link (an old request, a revoked grant).
//!
//! The end-to-end test writes every body to target/actions-fixture, which CI type-checks against
//! `@solana/actions-spec` with `tsc` (tests/actions/check.mjs).
use base64::Engine;
use careledger_sdk::statement::{self as st};
use careledger_sdk::{
    action, ix, pda, AccessRequest, ConsentGrant, GrantStatus, Patient, Purpose, RequestCreateArgs,
    ReviewState, Transport,
};
use careledger_server::actions::Actions;
use careledger_tests::{Env, DAY};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::Transaction;
use std::sync::Arc;

/// A running Actions server; stops when dropped.
struct Server {
    origin: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
    fixtures: Vec<(String, Value, &'static str)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(env: &Arc<Env>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let actions = Arc::new(Actions {
            chain: careledger_tests::EnvView(env.clone()),
            origin: origin.clone(),
            max_request_age_secs: careledger_server::actions::DEFAULT_MAX_REQUEST_AGE_SECS,
        });
        let app = careledger_server::Server::new()
            .actions(actions)
            .header_timeout(std::time::Duration::from_secs(10));
        let task = tokio::spawn(async move {
            let _ = app.serve(listener).await;
        });
        Server {
            origin,
            http: reqwest::Client::new(),
            task,
            fixtures: vec![],
        }
    }

    fn url(&self, href: &str) -> String {
        if href.starts_with("http") {
            href.to_string()
        } else {
            format!("{}{href}", self.origin)
        }
    }

    /// GET, expecting 200 with the spec's CORS headers; returns the body.
    async fn get(&self, href: &str) -> Value {
        let r = self.http.get(self.url(href)).send().await.unwrap();
        let status = r.status();
        assert_eq!(
            r.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            Some("*"),
            "{href}"
        );
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, 200, "GET {href}: {body}");
        body
    }

    async fn post(&self, href: &str, body: &Value) -> (u16, String, Value) {
        let r = self
            .http
            .post(self.url(href))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, kind, r.json().await.unwrap())
    }

    async fn post_ok(&self, href: &str, body: &Value) -> Value {
        let (status, _, v) = self.post(href, body).await;
        assert_eq!(status, 200, "POST {href}: {v}");
        v
    }

    fn keep(&mut self, name: &str, body: &Value, ty: &'static str) {
        self.fixtures.push((name.to_string(), body.clone(), ty));
    }

    fn write_fixtures(&self) {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/actions-fixture");
        self.write_fixtures_to(&dir);
    }

    fn write_fixtures_to(&self, dir: &std::path::Path) {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        let mut manifest = vec![];
        for (name, body, ty) in &self.fixtures {
            let file = format!("{name}.json");
            std::fs::write(dir.join(&file), serde_json::to_vec_pretty(body).unwrap()).unwrap();
            manifest.push(json!({"file": file, "type": ty}));
        }
        std::fs::write(
            dir.join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).unwrap(),
        )
        .unwrap();
    }
}

/// A refusal: problem details with the Actions `message`, and the status expected.
fn assert_refused(got: &(u16, String, Value), status: u16, slug: &str) {
    let (s, kind, body) = got;
    assert_eq!(*s, status, "{body}");
    assert_eq!(kind, "application/problem+json");
    assert!(body["type"].as_str().unwrap().ends_with(slug), "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
}

/// What a wallet does with a `TransactionResponse`: decodes it, checks that only its own
/// signature is expected and that it pays the fee, signs, and submits.
async fn sign_and_send(env: &Env, response: &Value, wallet: &Keypair) -> careledger_sdk::TxOutcome {
    assert_eq!(response["type"], "transaction");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(response["transaction"].as_str().unwrap())
        .unwrap();
    let mut tx: Transaction = bincode::deserialize(&bytes).unwrap();
    assert_eq!(
        tx.message.header.num_required_signatures, 1,
        "one signer only"
    );
    assert_eq!(
        tx.message.account_keys[0],
        wallet.pubkey(),
        "the wallet pays the fee"
    );
    assert!(tx
        .signatures
        .iter()
        .all(|s| *s == careledger_sdk::Signature::default()));
    let blockhash = tx.message.recent_blockhash;
    tx.sign(&[wallet], blockhash);
    Transport::send(env.client.transport(), tx)
        .await
        .expect("the action's transaction")
}

struct Scene {
    env: Arc<Env>,
    patient: Keypair,
    clinic: Keypair,
}

async fn scene() -> Scene {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    env.anchor_as_patient(&patient, 0, 1).await;
    let clinic = env
        .verified_provider(careledger_sdk::ROLE_CLINICIAN | careledger_sdk::ROLE_EMERGENCY)
        .await;
    Scene {
        env: Arc::new(env),
        patient,
        clinic,
    }
}

fn grant_link(grantee: &Pubkey) -> String {
    format!(
        "/api/actions/grant?grantee={grantee}&classes=lab-result,imaging&purpose=treatment&days=30"
    )
}

/// Follows the grant link as a wallet: metadata, statement, signature, transaction. Returns
/// the statement and the outcome; records fixtures when asked.
async fn grant_by_link(
    s: &Scene,
    server: &mut Server,
    link: &str,
    signer: &Keypair,
    envelope: bool,
) -> (String, careledger_sdk::TxOutcome) {
    let meta = server.get(link).await;
    let step = &meta["links"]["actions"][0];
    assert_eq!(step["type"], "message");
    let account = json!({"account": signer.pubkey().to_string()});
    let message = server
        .post_ok(step["href"].as_str().unwrap(), &account)
        .await;
    assert_eq!(message["type"], "message");
    let statement = message["data"].as_str().unwrap().to_string();
    let signed_bytes = if envelope {
        st::offchain_v0(statement.as_bytes(), &signer.pubkey(), &[0; 32])
    } else {
        statement.clone().into_bytes()
    };
    let signature = signer.sign_message(&signed_bytes).to_string();
    let next_request =
        json!({"account": signer.pubkey().to_string(), "signature": signature, "data": statement});
    let next = server
        .post_ok(
            message["links"]["next"]["href"].as_str().unwrap(),
            &next_request,
        )
        .await;
    assert_eq!(next["type"], "action");
    let record = &next["links"]["actions"][0];
    assert_eq!(record["type"], "transaction");
    let tx = server
        .post_ok(record["href"].as_str().unwrap(), &account)
        .await;
    assert_eq!(tx["links"]["next"]["action"]["type"], "completed");
    if !envelope {
        server.keep("grant-get", &meta, "ActionGetResponse");
        server.keep("grant-statement", &message, "SignMessageResponse");
        server.keep(
            "grant-signed-request",
            &next_request,
            "MessageNextActionPostRequest",
        );
        server.keep("grant-signed", &next, "NextAction");
        server.keep("grant-record", &tx, "TransactionResponse");
    }
    let outcome = sign_and_send(&s.env, &tx, signer).await;
    (statement, outcome)
}

#[tokio::test]
async fn every_patient_decision_from_a_link_does_what_it_said() {
    let s = scene().await;
    let mut server = Server::start(&s.env).await;
    let wallet = s.patient.pubkey();
    server.keep("actions", &server.get("/actions.json").await, "ActionsJson");

    // 1. consent from the front-desk link, in two signed steps
    let before = s.env.now().await;
    let (statement, outcome) = grant_by_link(
        &s,
        &mut server,
        &grant_link(&s.clinic.pubkey()),
        &s.patient,
        false,
    )
    .await;
    let address = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    let g: ConsentGrant = s.env.client.fetch(&address).await.unwrap();
    // what the link said: lab-result and imaging, read, treatment, 30 days, this clinic
    assert_eq!(
        (g.grantee, g.classes, g.actions, g.purpose),
        (s.clinic.pubkey(), 0b11, action::READ, Purpose::Treatment)
    );
    let after = s.env.now().await;
    assert!((before + 30 * DAY..=after + 30 * DAY).contains(&g.expires_at));
    // and the words signed: the statement the grant keeps the hash of
    assert_eq!(
        g.statement_hash,
        <[u8; 32]>::from(Sha256::digest(statement.as_bytes()))
    );
    assert!(statement.contains("Records: all records of class lab-result, imaging\n"));
    assert!(outcome.events.iter().any(|e| matches!(
        e,
        careledger_sdk::CareledgerEvent::ConsentStatementSigned(_)
    )));

    // the same link again: the grant exists, so nobody is asked to sign for nothing
    let again = server
        .post(
            &grant_link(&s.clinic.pubkey()).replace("/grant?", "/grant/statement?"),
            &json!({"account": wallet.to_string()}),
        )
        .await;
    assert_refused(&again, 409, "grant-exists");

    // 2. an access request, approved from its link
    let lab = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let ask = RequestCreateArgs {
        classes: 1,
        actions: action::READ,
        purpose: Purpose::Operations,
        reason_code: 4,
        duration_secs: 7 * DAY as u32,
    };
    s.env
        .send(
            ix::RequestCreate {
                requester: lab.pubkey(),
                patient_wallet: wallet,
                args: ask.clone(),
            }
            .instruction(),
            &[&lab],
        )
        .await
        .unwrap();
    let request = pda::request(&wallet, &lab.pubkey()).0;
    let meta = server.get(&format!("/api/actions/request/{request}")).await;
    let labels: Vec<&str> = meta["links"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Approve", "Deny"]);
    server.keep("request-get", &meta, "ActionGetResponse");
    let account = json!({"account": wallet.to_string()});
    let tx = server
        .post_ok(
            meta["links"]["actions"][0]["href"].as_str().unwrap(),
            &account,
        )
        .await;
    server.keep("request-approve", &tx, "TransactionResponse");
    sign_and_send(&s.env, &tx, &s.patient).await;
    let approved: ConsentGrant = s
        .env
        .client
        .fetch(&pda::grant(&wallet, &lab.pubkey(), Purpose::Operations).0)
        .await
        .unwrap();
    assert_eq!(
        (approved.classes, approved.actions, approved.grantee),
        (1, action::READ, lab.pubkey())
    );
    assert!(
        Transport::account(s.env.client.transport(), &request)
            .await
            .unwrap()
            .is_none(),
        "the request is closed"
    );
    // a decided request's link is gone
    let again = server
        .post(&format!("/api/actions/request/{request}/approve"), &account)
        .await;
    assert_refused(&again, 410, "no-pending-request");

    // 3. a second request, for a reserved class id too: the link names it, then it is denied
    let imaging = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let reserved = RequestCreateArgs {
        classes: 1 | 1 << 9,
        ..ask
    };
    s.env
        .send(
            ix::RequestCreate {
                requester: imaging.pubkey(),
                patient_wallet: wallet,
                args: reserved,
            }
            .instruction(),
            &[&imaging],
        )
        .await
        .unwrap();
    let request = pda::request(&wallet, &imaging.pubkey()).0;
    let meta = server.get(&format!("/api/actions/request/{request}")).await;
    assert!(
        meta["description"]
            .as_str()
            .unwrap()
            .contains("lab-result, class-9 records"),
        "{meta}"
    );
    let tx = server
        .post_ok(&format!("/api/actions/request/{request}/deny"), &account)
        .await;
    let denied = sign_and_send(&s.env, &tx, &s.patient).await;
    assert!(denied
        .events
        .iter()
        .any(|e| matches!(e, careledger_sdk::CareledgerEvent::AccessRequestDecided(_))));
    assert!(
        Transport::account(
            s.env.client.transport(),
            &pda::grant(&wallet, &imaging.pubkey(), Purpose::Operations).0
        )
        .await
        .unwrap()
        .is_none(),
        "denial grants nothing"
    );

    // 4. revoke one grant
    let meta = server.get(&format!("/api/actions/revoke/{address}")).await;
    server.keep("revoke-get", &meta, "ActionGetResponse");
    let tx = server
        .post_ok(
            meta["links"]["actions"][0]["href"].as_str().unwrap(),
            &account,
        )
        .await;
    server.keep("revoke-post", &tx, "TransactionResponse");
    sign_and_send(&s.env, &tx, &s.patient).await;
    let g: ConsentGrant = s.env.client.fetch(&address).await.unwrap();
    assert_eq!(g.status, GrantStatus::Revoked);
    assert_refused(
        &server
            .post(&format!("/api/actions/revoke/{address}"), &account)
            .await,
        409,
        "already-revoked",
    );

    // 5. a break-glass access, reviewed: disputed
    let emergency = s.env.break_glass(&s.clinic, &wallet, 3600).await.unwrap();
    let meta = server
        .get(&format!("/api/actions/emergency/{emergency}"))
        .await;
    server.keep("emergency-get", &meta, "ActionGetResponse");
    let dispute = meta["links"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["label"] == "Dispute")
        .unwrap();
    let tx = server
        .post_ok(dispute["href"].as_str().unwrap(), &account)
        .await;
    server.keep("emergency-dispute", &tx, "TransactionResponse");
    sign_and_send(&s.env, &tx, &s.patient).await;
    let e: ConsentGrant = s.env.client.fetch(&emergency).await.unwrap();
    assert_eq!(
        (e.review, e.status),
        (ReviewState::Disputed, GrantStatus::Revoked)
    );

    // 6. revoke everything
    let epoch = s.env.patient(&wallet).await.consent_epoch;
    let meta = server.get("/api/actions/revoke-all").await;
    server.keep("revoke-all-get", &meta, "ActionGetResponse");
    let tx = server.post_ok("/api/actions/revoke-all", &account).await;
    server.keep("revoke-all-post", &tx, "TransactionResponse");
    sign_and_send(&s.env, &tx, &s.patient).await;
    let p: Patient = s.env.patient(&wallet).await;
    assert_eq!(p.consent_epoch, epoch + 1);

    // 7. from now on, statements only
    let meta = server.get("/api/actions/require-statements").await;
    server.keep("require-statements-get", &meta, "ActionGetResponse");
    let tx = server
        .post_ok(
            meta["links"]["actions"][0]["href"].as_str().unwrap(),
            &account,
        )
        .await;
    server.keep("require-statements-post", &tx, "TransactionResponse");
    sign_and_send(&s.env, &tx, &s.patient).await;
    assert!(s.env.patient(&wallet).await.requires_statements());
    assert_refused(
        &server
            .post("/api/actions/require-statements", &account)
            .await,
        409,
        "already-required",
    );
    // from now on a request is not approved blind: the link says how to grant it instead
    let later = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    s.env
        .send(
            ix::RequestCreate {
                requester: later.pubkey(),
                patient_wallet: wallet,
                args: ask.clone(),
            }
            .instruction(),
            &[&later],
        )
        .await
        .unwrap();
    let request = pda::request(&wallet, &later.pubkey()).0;
    let refused = server
        .post(&format!("/api/actions/request/{request}/approve"), &account)
        .await;
    assert_refused(&refused, 409, "statement-required");
    assert!(refused.2["detail"]
        .as_str()
        .unwrap()
        .contains(&format!("/api/actions/grant?grantee={}", later.pubkey())));

    server.write_fixtures();
}

#[tokio::test]
async fn a_hardware_wallet_signs_the_statement_in_an_off_chain_envelope() {
    let s = scene().await;
    let mut server = Server::start(&s.env).await;
    let (_, outcome) = grant_by_link(
        &s,
        &mut server,
        &grant_link(&s.clinic.pubkey()),
        &s.patient,
        true,
    )
    .await;
    let signed = outcome
        .events
        .iter()
        .find_map(|e| match e {
            careledger_sdk::CareledgerEvent::ConsentStatementSigned(e) => Some(e.form),
            _ => None,
        })
        .unwrap();
    assert_eq!(signed, st::SignedForm::OffchainV0);
}

/// Issue 30. After revoke-all, the void grant is shown as void (no "Revoke this grant" for it)
/// and the patient consents again from the very same link: the statement names the next serial,
/// and the one transaction replaces the void grant, its rent back to whoever paid it (here the
/// guardian who made it). The new grant allows access; a live grant is never replaced.
#[tokio::test]
async fn a_patient_consents_again_from_the_same_link_after_revoke_all() {
    let s = scene().await;
    let mut server = Server::start(&s.env).await;
    let wallet = s.patient.pubkey();
    let account = json!({"account": wallet.to_string()});
    let guardian = s.env.actor().await;
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: s.env.now().await + 365 * DAY,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let link = grant_link(&s.clinic.pubkey());
    let guardian_link = format!("{link}&patient={wallet}");
    grant_by_link(&s, &mut server, &guardian_link, &guardian, true).await;
    let address = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    let first: ConsentGrant = s.env.client.fetch(&address).await.unwrap();
    assert_eq!(first.payer, guardian.pubkey());
    // a live grant: the link refuses to replace it
    let statement_href = {
        let meta = server.get(&link).await;
        meta["links"]["actions"][0]["href"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_refused(
        &server.post(&statement_href, &account).await,
        409,
        "grant-exists",
    );

    let meta = server.get("/api/actions/revoke-all").await;
    let tx = server
        .post_ok(
            meta["links"]["actions"][0]["href"].as_str().unwrap(),
            &account,
        )
        .await;
    sign_and_send(&s.env, &tx, &s.patient).await;
    // the void grant is not offered for revocation: there is nothing left to revoke
    let (status, kind, body) = {
        let r = server
            .http
            .get(server.url(&format!("/api/actions/revoke/{address}")))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let kind = r.headers()["content-type"].to_str().unwrap().to_string();
        (status, kind, r.json::<Value>().await.unwrap())
    };
    assert_refused(&(status, kind, body), 409, "grant-void");
    let standings = s.env.client.grant_standings(&wallet).await.unwrap();
    assert_eq!(standings.len(), 1);
    assert_eq!(standings[0].standing, careledger_sdk::GrantStanding::Void);

    let guardian_before = s
        .env
        .client
        .transport()
        .account(&guardian.pubkey())
        .await
        .unwrap()
        .map_or(0, |a| a.lamports);
    let rent = s
        .env
        .client
        .transport()
        .account(&address)
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let (statement, outcome) = grant_by_link(&s, &mut server, &link, &s.patient, false).await;
    // the statement is bound to the grant's next serial: another consent at the same address
    let nonce: String =
        careledger_sdk::program::logic::statement::nonce(&address, first.serial + 1)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
    assert!(
        statement.ends_with(&format!("Nonce: {nonce}")),
        "{statement}"
    );
    let names: Vec<&str> = outcome.events.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        ["GrantClosed", "GrantCreated", "ConsentStatementSigned"]
    );
    let renewed: ConsentGrant = s.env.client.fetch(&address).await.unwrap();
    assert_eq!(renewed.serial, first.serial + 1);
    assert_eq!(renewed.payer, wallet);
    assert_eq!(renewed.consent_epoch, first.consent_epoch + 1);
    assert_ne!(renewed.statement_hash, [0; 32]);
    let guardian_after = s
        .env
        .client
        .transport()
        .account(&guardian.pubkey())
        .await
        .unwrap()
        .map_or(0, |a| a.lamports);
    assert_eq!(
        guardian_after,
        guardian_before + rent,
        "the old rent went back to its payer"
    );
    let standings = s.env.client.grant_standings(&wallet).await.unwrap();
    assert_eq!(standings[0].standing, careledger_sdk::GrantStanding::Active);
    // and it allows what it says
    let record = pda::record(&wallet, 0).0;
    let decision = s
        .env
        .client
        .check_access(&address, &record, action::READ, Purpose::Treatment)
        .await
        .unwrap();
    assert_eq!(decision, Ok(()));
    // the revocation link is offered again for the live grant
    server.get(&format!("/api/actions/revoke/{address}")).await;
}

#[tokio::test]
async fn a_guardian_consents_for_the_ward_from_the_same_link() {
    let s = scene().await;
    let mut server = Server::start(&s.env).await;
    let guardian = s.env.actor().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: now + 365 * DAY,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let link = format!("{}&patient={wallet}", grant_link(&s.clinic.pubkey()));
    let (statement, _) = grant_by_link(&s, &mut server, &link, &guardian, false).await;
    assert!(statement.contains(&format!("Signed by: {} (guardian)", guardian.pubkey())));
    let g: ConsentGrant = s
        .env
        .client
        .fetch(&pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0)
        .await
        .unwrap();
    assert_eq!(g.payer, guardian.pubkey());
    // the guardian's revoke-all link names the ward all the way to the transaction, and the
    // guardian's own grants (as a patient) are untouched
    s.env
        .send(
            ix::PatientRegister {
                wallet: guardian.pubkey(),
            }
            .instruction(),
            &[&guardian],
        )
        .await
        .unwrap();
    let meta = server
        .get(&format!("/api/actions/revoke-all?patient={wallet}"))
        .await;
    assert!(meta["description"]
        .as_str()
        .unwrap()
        .contains(&wallet.to_string()));
    let href = meta["links"]["actions"][0]["href"].as_str().unwrap();
    let tx = server
        .post_ok(href, &json!({"account": guardian.pubkey().to_string()}))
        .await;
    let (ward_epoch, own_epoch) = (
        s.env.patient(&wallet).await.consent_epoch,
        s.env.patient(&guardian.pubkey()).await.consent_epoch,
    );
    sign_and_send(&s.env, &tx, &guardian).await;
    assert_eq!(s.env.patient(&wallet).await.consent_epoch, ward_epoch + 1);
    assert_eq!(
        s.env.patient(&guardian.pubkey()).await.consent_epoch,
        own_epoch
    );
}

#[tokio::test]
async fn bad_links_and_bodies_are_refused_and_change_nothing() {
    let s = scene().await;
    let server = Server::start(&s.env).await;
    let wallet = s.patient.pubkey();
    let grant = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    let watched = [grant, pda::patient(&wallet).0];
    let before = s.env.snapshot(&watched).await;
    let account = json!({"account": wallet.to_string()});

    // an unregistered grantee, an unknown class, a bad purpose, bad days
    let nobody = Pubkey::new_unique();
    let r = server
        .http
        .get(server.url(&grant_link(&nobody)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let statement = |q: String| format!("/api/actions/grant/statement?{q}");
    let c = s.clinic.pubkey();
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={nobody}&classes=lab-result&purpose=treatment&days=30"
                )),
                &account,
            )
            .await,
        404,
        "unregistered-grantee",
    );
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={c}&classes=x-ray&purpose=treatment&days=30"
                )),
                &account,
            )
            .await,
        400,
        "unknown-class",
    );
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={c}&classes=lab-result&purpose=fun&days=30"
                )),
                &account,
            )
            .await,
        400,
        "unknown-purpose",
    );
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={c}&classes=lab-result&purpose=treatment&days=0"
                )),
                &account,
            )
            .await,
        400,
        "bad-days",
    );
    assert_refused(
        &server
            .post(
                &statement(
                    "grantee=not-an-address&classes=lab-result&purpose=treatment&days=3".into(),
                ),
                &account,
            )
            .await,
        400,
        "malformed-address",
    );
    // a malformed account, or none
    let ok_link = statement(format!(
        "grantee={c}&classes=lab-result&purpose=treatment&days=30"
    ));
    assert_refused(
        &server.post(&ok_link, &json!({"account": "0OIl"})).await,
        400,
        "malformed-address",
    );
    assert_refused(
        &server.post(&ok_link, &json!({"account": 7})).await,
        400,
        "malformed-address",
    );
    assert_refused(
        &server.post(&ok_link, &json!({})).await,
        400,
        "malformed-address",
    );
    // a stranger may not consent for the patient
    let stranger = s.env.actor().await;
    assert_refused(
        &server
            .post(
                &format!("{ok_link}&patient={wallet}"),
                &json!({"account": stranger.pubkey().to_string()}),
            )
            .await,
        403,
        "not-patient-or-guardian",
    );

    // a statement with altered terms: the data sent back differs from the terms' statement
    let message = server.post_ok(&ok_link, &account).await;
    let text = message["data"].as_str().unwrap();
    let next = message["links"]["next"]["href"].as_str().unwrap();
    let altered = text.replace("Actions: read", "Actions: read, write");
    let signature = s.patient.sign_message(altered.as_bytes()).to_string();
    assert_refused(
        &server
            .post(
                next,
                &json!({"account": wallet.to_string(), "signature": signature, "data": altered}),
            )
            .await,
        409,
        "statement-changed",
    );
    // the right words, signed by someone else's key
    let signature = stranger.sign_message(text.as_bytes()).to_string();
    assert_refused(
        &server
            .post(
                next,
                &json!({"account": wallet.to_string(), "signature": signature, "data": text}),
            )
            .await,
        401,
        "statement-not-signed",
    );
    // a real signature, then a record link whose terms were widened (classes), or whose
    // window was stretched: the signature is not over those words
    let signature = s.patient.sign_message(text.as_bytes()).to_string();
    let step = server
        .post_ok(
            next,
            &json!({"account": wallet.to_string(), "signature": signature, "data": text}),
        )
        .await;
    let record = step["links"]["actions"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let widened = record.replace("classes=lab-result", "classes=lab-result,genomic");
    assert_ne!(widened, record);
    assert_refused(
        &server.post(&widened, &account).await,
        401,
        "statement-not-signed",
    );
    let expires = record
        .split("expires_at=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let stretched = record.replace(
        &format!("expires_at={expires}"),
        &format!("expires_at={}", expires.parse::<i64>().unwrap() + DAY),
    );
    assert_refused(
        &server.post(&stretched, &account).await,
        401,
        "statement-not-signed",
    );
    assert_refused(
        &server
            .post(&record.replace("signature=", "signature=x"), &account)
            .await,
        400,
        "malformed-signature",
    );

    // unknown or stale request and grant links
    assert_refused(
        &server
            .post(
                &format!("/api/actions/request/{}/approve", Pubkey::new_unique()),
                &account,
            )
            .await,
        410,
        "no-pending-request",
    );
    assert_refused(
        &server
            .post(&format!("/api/actions/revoke/{grant}"), &account)
            .await,
        404,
        "no-grant",
    );
    assert_eq!(
        before,
        s.env.snapshot(&watched).await,
        "a refused action changed state"
    );
}

#[tokio::test]
async fn an_old_request_link_has_expired() {
    if careledger_tests::skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = scene().await;
    let server = Server::start(&s.env).await;
    let wallet = s.patient.pubkey();
    let ask = RequestCreateArgs {
        classes: 1,
        actions: action::READ,
        purpose: Purpose::Operations,
        reason_code: 4,
        duration_secs: 7 * DAY as u32,
    };
    s.env
        .send(
            ix::RequestCreate {
                requester: s.clinic.pubkey(),
                patient_wallet: wallet,
                args: ask,
            }
            .instruction(),
            &[&s.clinic],
        )
        .await
        .unwrap();
    let request = pda::request(&wallet, &s.clinic.pubkey()).0;
    let before: AccessRequest = s.env.client.fetch(&request).await.unwrap();
    s.env.set_clock(s.env.now().await + 31 * DAY).await;
    let r = server
        .http
        .get(server.url(&format!("/api/actions/request/{request}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
    let account = json!({"account": wallet.to_string()});
    assert_refused(
        &server
            .post(&format!("/api/actions/request/{request}/approve"), &account)
            .await,
        410,
        "request-expired",
    );
    let after: AccessRequest = s.env.client.fetch(&request).await.unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn every_route_answers_the_cors_preflight() {
    let s = scene().await;
    let server = Server::start(&s.env).await;
    for path in [
        "/actions.json",
        "/api/actions/grant",
        "/api/actions/grant/statement",
        "/api/actions/grant/signed",
        "/api/actions/grant/record",
        "/api/actions/revoke-all",
    ] {
        let r = server
            .http
            .request(reqwest::Method::OPTIONS, server.url(path))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        assert_eq!(h["access-control-allow-methods"], "GET,POST,PUT,OPTIONS");
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        for needed in [
            "content-type",
            "authorization",
            "content-encoding",
            "accept-encoding",
        ] {
            assert!(allowed.contains(needed), "{path}: {allowed}");
        }
        assert_eq!(
            h["x-action-version"],
            careledger_server::actions::ACTION_VERSION
        );
    }
    // the icon every action names is served, as an image
    let icon = server
        .http
        .get(server.url("/icon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn an_invited_patient_consents_then_enrols_from_the_study_link() {
    use careledger_tests::{StudyScene, StudySetup};
    let scene = StudyScene::new(StudySetup {
        terms: careledger_sdk::RewardTerms {
            enrolment_reward: 25,
            period_reward: 5,
            period_secs: DAY as u32,
            periods: 3,
        },
        max_participants: 10,
        data_use_code: 7,
        funding: 1_000,
    })
    .await;
    let patient = scene.env.register_patient().await;
    let outsider = scene.env.register_patient().await;
    scene
        .invite(&scene.sponsor, &patient.pubkey(), 10)
        .await
        .unwrap();
    let StudyScene { env, keys, .. } = scene;
    let env = Arc::new(env);
    let mut server = Server::start(&env).await;
    let s = Scene {
        env: env.clone(),
        patient: patient.insecure_clone(),
        clinic: Keypair::new(),
    };
    let link = format!("/api/actions/study/{}", keys.study);
    let meta = server.get(&link).await;
    server.keep("study-get", &meta, "ActionGetResponse");
    let steps = meta["links"]["actions"].as_array().unwrap();
    assert_eq!(
        (steps[0]["type"].as_str(), steps[1]["type"].as_str()),
        (Some("message"), Some("transaction"))
    );
    let account = json!({"account": patient.pubkey().to_string()});
    // enrolling before consenting is refused: rewards need a live research consent
    assert_refused(
        &server
            .post(steps[1]["href"].as_str().unwrap(), &account)
            .await,
        409,
        "no-research-consent",
    );
    // the first action is the grant flow, statement and all, to the sponsor for research
    let consent_link = steps[0]["href"]
        .as_str()
        .unwrap()
        .replace("/grant/statement?", "/grant?");
    let (statement, _) = grant_by_link(&s, &mut server, &consent_link, &patient, true).await;
    assert!(statement.contains("Purpose: research\n"), "{statement}");
    assert!(statement.contains(&format!("Grantee: {}\n", keys.sponsor)));
    let tx = server
        .post_ok(steps[1]["href"].as_str().unwrap(), &account)
        .await;
    server.keep("study-enrol", &tx, "TransactionResponse");
    let outcome = sign_and_send(&env, &tx, &patient).await;
    assert!(outcome
        .events
        .iter()
        .any(|e| matches!(e, careledger_sdk::CareledgerEvent::ParticipantEnrolled(_))));
    let tokens = pda::associated_token(&patient.pubkey(), &keys.mint);
    assert_eq!(
        env.balance(&tokens).await,
        25,
        "the enrolment reward the link described"
    );
    // a patient the sponsor did not invite gets no transaction
    let other = json!({"account": outsider.pubkey().to_string()});
    assert_refused(
        &server
            .post(steps[1]["href"].as_str().unwrap(), &other)
            .await,
        403,
        "not-invited",
    );
    // and the same invitation cannot enrol twice
    assert_refused(
        &server
            .post(steps[1]["href"].as_str().unwrap(), &account)
            .await,
        403,
        "not-invited",
    );
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/actions-fixture-study");
    let _ = std::fs::remove_dir_all(&dir);
    server
        .fixtures
        .retain(|(name, _, _)| name.starts_with("study"));
    server.write_fixtures_to(&dir);
}

#[tokio::test]
async fn every_other_refusal_names_its_problem_and_changes_nothing() {
    let s = scene().await;
    let server = Server::start(&s.env).await;
    let wallet = s.patient.pubkey();
    let account = json!({"account": wallet.to_string()});
    let now = s.env.now().await;
    let c = s.clinic.pubkey();
    let statement = |q: String| format!("/api/actions/grant/statement?{q}");
    // an action nobody knows
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={c}&classes=lab-result&purpose=treatment&days=3&actions=delete"
                )),
                &account,
            )
            .await,
        400,
        "unknown-action",
    );
    // a suspended grantee: the link should not be used
    let suspended = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    s.env
        .send(
            ix::ProviderSuspend {
                authority: s.env.credential_authority.pubkey(),
                provider_wallet: suspended.pubkey(),
                reason_code: 9,
            }
            .instruction(),
            &[&s.env.credential_authority],
        )
        .await
        .unwrap();
    let r = server
        .http
        .get(server.url(&grant_link(&suspended.pubkey())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["type"]
            .as_str()
            .unwrap()
            .ends_with("suspended-grantee"),
        "{body}"
    );
    // a guardian (a provider too) consenting to themself, or past the guardianship's end
    let guardian = s
        .env
        .verified_provider(careledger_sdk::ROLE_CLINICIAN)
        .await;
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: now + 10 * DAY,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let as_guardian = json!({"account": guardian.pubkey().to_string()});
    let g = guardian.pubkey();
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={g}&classes=lab-result&purpose=treatment&days=3&patient={wallet}"
                )),
                &as_guardian,
            )
            .await,
        403,
        "guardian-is-party",
    );
    assert_refused(
        &server
            .post(
                &statement(format!(
                    "grantee={c}&classes=lab-result&purpose=treatment&days=30&patient={wallet}"
                )),
                &as_guardian,
            )
            .await,
        422,
        "guardianship-ends-first",
    );
    // emergency review of a grant that is none, and of one already reviewed
    let plain = s
        .env
        .grant(&s.patient, &c, Purpose::Treatment, 1, action::READ, 5)
        .await
        .unwrap();
    let r = server
        .http
        .get(server.url(&format!("/api/actions/emergency/{plain}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["type"].as_str().unwrap().ends_with("not-emergency"),
        "{body}"
    );
    let emergency = s.env.break_glass(&s.clinic, &wallet, 3600).await.unwrap();
    s.env
        .send(
            ix::BreakGlassReview {
                authority: wallet,
                patient_wallet: wallet,
                grant: emergency,
                outcome: careledger_sdk::ReviewOutcome::Accepted,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let watched = [emergency, plain, pda::patient(&wallet).0];
    let before = s.env.snapshot(&watched).await;
    assert_refused(
        &server
            .post(
                &format!("/api/actions/emergency/{emergency}/dispute"),
                &account,
            )
            .await,
        409,
        "already-reviewed",
    );
    assert_refused(
        &server
            .post(
                &format!("/api/actions/emergency/{emergency}/shrug"),
                &account,
            )
            .await,
        404,
        "unknown-decision",
    );
    assert_refused(
        &server
            .post(
                &format!("/api/actions/request/{}/maybe", Pubkey::new_unique()),
                &account,
            )
            .await,
        404,
        "unknown-decision",
    );
    assert_refused(
        &server
            .post(
                &format!("/api/actions/study/{}/enrol", Pubkey::new_unique()),
                &account,
            )
            .await,
        404,
        "no-study",
    );
    // a body that is no JSON object
    let r = server
        .http
        .post(server.url(&format!("/api/actions/revoke/{plain}")))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(
        body["type"].as_str().unwrap().ends_with("malformed-body"),
        "{body}"
    );
    assert_eq!(
        before,
        s.env.snapshot(&watched).await,
        "a refused action changed state"
    );
}
