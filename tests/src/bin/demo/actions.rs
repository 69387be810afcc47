//! The demo's Solana Actions step: a clinic's consent link, followed as a wallet would over
//! HTTP on loopback. The wallet reads and signs the consent statement, then signs the one
//! transaction whose grant the program checks against that signature.
use base64::Engine;
use careledger_sdk::{pda, ConsentGrant, Keypair, Pubkey, Purpose, Signer, Transport};
use careledger_server::actions::{self, Actions};
use careledger_tests::{Env, EnvView};
use serde_json::{json, Value};
use std::sync::Arc;

type Error = Box<dyn std::error::Error + Send + Sync>;

async fn post(
    http: &reqwest::Client,
    origin: &str,
    href: &str,
    body: &Value,
) -> Result<Value, Error> {
    println!("   POST {href}");
    let r = http
        .post(format!("{origin}{href}"))
        .json(body)
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await?;
    if !status.is_success() {
        return Err(format!("{status}: {v}").into());
    }
    Ok(v)
}

/// The patient consents to `grantee` for public health (immunizations, 90 days) from a link.
pub async fn consent_from_link(
    env: &Arc<Env>,
    patient: &Keypair,
    grantee: &Pubkey,
) -> Result<(), Error> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://{}", listener.local_addr()?);
    let app = careledger_server::Server::new()
        .actions(Arc::new(Actions {
            chain: EnvView(env.clone()),
            origin: origin.clone(),
            max_request_age_secs: actions::DEFAULT_MAX_REQUEST_AGE_SECS,
        }))
        .header_timeout(std::time::Duration::from_secs(10));
    let server = tokio::spawn(async move {
        let _ = app.serve(listener).await;
    });
    let http = reqwest::Client::new();
    println!("\n== a clinic's consent link, followed by the patient's wallet (Solana Actions at {origin})");
    let link = format!(
        "/api/actions/grant?grantee={grantee}&classes=immunization&purpose=public-health&days=90"
    );
    println!("   GET {link}");
    let meta: Value = http
        .get(format!("{origin}{link}"))
        .send()
        .await?
        .json()
        .await?;
    println!("   -> {}: {}", meta["title"], meta["description"]);
    let account = json!({"account": patient.pubkey().to_string()});
    let message = post(
        &http,
        &origin,
        meta["links"]["actions"][0]["href"]
            .as_str()
            .unwrap_or_default(),
        &account,
    )
    .await?;
    let statement = message["data"].as_str().unwrap_or_default().to_string();
    println!("   -> the wallet shows the consent statement and signs it:");
    for line in statement.lines() {
        println!("      | {line}");
    }
    let signature = patient.sign_message(statement.as_bytes()).to_string();
    let next = post(
        &http,
        &origin,
        message["links"]["next"]["href"].as_str().unwrap_or_default(),
        &json!({"account": patient.pubkey().to_string(), "signature": signature, "data": statement}),
    )
    .await?;
    println!("   -> {}", next["title"]);
    let tx = post(
        &http,
        &origin,
        next["links"]["actions"][0]["href"]
            .as_str()
            .unwrap_or_default(),
        &account,
    )
    .await?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(tx["transaction"].as_str().unwrap_or_default())?;
    let mut tx_decoded: solana_transaction::Transaction = bincode::deserialize(&bytes)?;
    println!(
        "   -> a {}-byte transaction, {} instructions (the Ed25519 check of the statement, then the grant), to be signed by the patient alone",
        bytes.len(),
        tx_decoded.message.instructions.len()
    );
    let blockhash = tx_decoded.message.recent_blockhash;
    tx_decoded.sign(&[patient], blockhash);
    let outcome = Transport::send(env.client.transport(), tx_decoded).await?;
    crate::show(
        "the wallet signs and submits it: consent recorded against the signed words",
        &outcome,
    );
    let grant: ConsentGrant = env
        .client
        .fetch(&pda::grant(&patient.pubkey(), grantee, Purpose::PublicHealth).0)
        .await?;
    println!(
        "   the grant stores the statement's SHA-256 {}",
        careledger_server::common::hex(&grant.statement_hash)
    );
    server.abort();
    Ok(())
}
