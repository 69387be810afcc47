//! `bench -- --wire`: over the wire (a careledger localnet in this process, reached over
//! JSON-RPC on 127.0.0.1) beside the embedded runtime, in the same run: grants confirmed per
//! second through the SDK with 1 and 8 concurrent senders, the latency of one confirmed grant,
//! and a wallet's round trip for one Action (GET, POST, sign the statement, POST, POST, sign the
//! transaction, send, confirmed). Figures, not tests.
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::statement as st;
use careledger_sdk::{action, ROLE_CLINICIAN};
use careledger_sdk::{ix, Client, GrantCreateArgs, Purpose, Transport, NO_RECORD_SCOPE};
use careledger_server::actions::Actions;
use careledger_tests::{Cluster, Env, EnvView, DAY};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Grants timed per sender count.
const GRANTS: usize = 2_000;
/// Action round trips timed per cluster.
const ROUND_TRIPS: usize = 100;

pub struct Figures {
    pub rows: Vec<(String, String, String)>,
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A verified clinic and `n` registered patients on `env`, each funded for a grant's rent.
async fn scene(env: &Env, n: usize) -> (Keypair, Vec<Keypair>) {
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let mut patients = Vec::with_capacity(n);
    for _ in 0..n {
        let p = Keypair::new();
        env.client
            .transport()
            .fund(&p.pubkey(), 100_000_000)
            .await
            .expect("fund");
        env.send(
            ix::PatientRegister { wallet: p.pubkey() }.instruction(),
            &[&p],
        )
        .await
        .expect("register");
        patients.push(p);
    }
    (clinic, patients)
}

fn grant_ix(patient: &Keypair, clinic: &Pubkey, now: i64) -> solana_instruction::Instruction {
    ix::GrantCreate {
        authority: patient.pubkey(),
        patient_wallet: patient.pubkey(),
        grantee_wallet: *clinic,
        args: GrantCreateArgs {
            purpose: Purpose::Treatment,
            classes: 1,
            actions: action::READ,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: now + DAY,
        },
    }
    .instruction()
}

/// `senders` tasks, each with its own client (its own connection over RPC; the first patient of
/// its share pays its fees), each sending its share of `patients`' grants one after another,
/// each send waiting for confirmation. Returns grants per second and every grant's latency.
async fn grants<T, F>(
    make_client: F,
    patients: Vec<Keypair>,
    clinic: Pubkey,
    senders: usize,
    now: i64,
) -> (f64, Vec<Duration>)
where
    T: Transport + 'static,
    F: Fn(Keypair) -> Client<T, Keypair>,
{
    let per = patients.len() / senders;
    let mut chunks: Vec<Vec<Keypair>> = Vec::new();
    let mut rest = patients;
    for _ in 0..senders {
        let tail = rest.split_off(per.min(rest.len()));
        chunks.push(rest);
        rest = tail;
    }
    let clients: Vec<Arc<Client<T, Keypair>>> = chunks
        .iter()
        .map(|c| Arc::new(make_client(c[0].insecure_clone())))
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (client, chunk) in clients.into_iter().zip(chunks) {
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(chunk.len());
            for p in &chunk {
                let t = Instant::now();
                client
                    .send(&[grant_ix(p, &clinic, now)], &[p])
                    .await
                    .expect("grant");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("sender"));
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

/// One Action round trip as a wallet makes it: the grant link's metadata, the statement, the
/// signature (an off-chain message v1), the transaction, signed and sent, confirmed.
async fn round_trip<T: Transport>(
    http: &reqwest::Client,
    origin: &str,
    transport: &T,
    patient: &Keypair,
    clinic: &Pubkey,
) {
    let get = |href: String| async move {
        let url = if href.starts_with("http") {
            href
        } else {
            format!("{origin}{href}")
        };
        let r = http.get(url).send().await.expect("GET");
        r.json::<Value>().await.expect("JSON")
    };
    let post = |href: String, body: Value| async move {
        let url = if href.starts_with("http") {
            href
        } else {
            format!("{origin}{href}")
        };
        let r = http.post(url).json(&body).send().await.expect("POST");
        let status = r.status();
        let v: Value = r.json().await.expect("JSON");
        assert!(status.is_success(), "{v}");
        v
    };
    let wallet = patient.pubkey().to_string();
    let meta = get(format!(
        "/api/actions/grant?grantee={clinic}&classes=lab-result&purpose=treatment&days=30"
    ))
    .await;
    let href = meta["links"]["actions"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let message = post(href, json!({ "account": wallet })).await;
    let statement = message["data"].as_str().unwrap().to_string();
    let signed = st::offchain_v1(statement.as_bytes(), &patient.pubkey());
    let signature = patient.sign_message(&signed).to_string();
    let next_href = message["links"]["next"]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let next = post(
        next_href,
        json!({ "account": wallet, "signature": signature, "data": statement }),
    )
    .await;
    let record = next["links"]["actions"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let tx = post(record, json!({ "account": wallet })).await;
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(tx["transaction"].as_str().unwrap())
        .unwrap();
    let mut tx: solana_transaction::Transaction = bincode::deserialize(&bytes).unwrap();
    let blockhash = tx.message.recent_blockhash;
    tx.sign(&[patient], blockhash);
    transport.send(tx).await.expect("the action's transaction");
}

/// Serves the Actions over `chain` on 127.0.0.1 (a port the OS picks); the task ends with
/// the runtime.
async fn actions_server<C: careledger_sdk::LedgerView + 'static>(chain: C) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = careledger_server::Server::new()
        .actions(Arc::new(Actions {
            chain,
            origin: origin.clone(),
            max_request_age_secs: careledger_server::actions::DEFAULT_MAX_REQUEST_AGE_SECS,
        }))
        .header_timeout(Duration::from_secs(10));
    tokio::spawn(async move {
        let _ = app.serve(listener).await;
    });
    origin
}

async fn round_trips<T: Transport>(
    origin: &str,
    transport: &T,
    patients: &[Keypair],
    clinic: &Pubkey,
) -> Vec<Duration> {
    let http = reqwest::Client::new();
    let mut times = Vec::with_capacity(patients.len());
    for p in patients {
        let t = Instant::now();
        round_trip(&http, origin, transport, p, clinic).await;
        times.push(t.elapsed());
    }
    times.sort();
    times
}

pub async fn run() -> Figures {
    let mut rows = Vec::new();
    // the embedded runtime
    let embedded = Arc::new(Env::new().await);
    embedded.set_invariant_checks(false);
    let (e_clinic, e_patients) = scene(&embedded, GRANTS / 4 + GRANTS + ROUND_TRIPS).await;
    let now = embedded.now().await;
    // the localnet, in this process, reached over JSON-RPC
    let wire = Env::on_own_localnet().await;
    let url = match wire.client.transport() {
        Cluster::Rpc(t) => t.client().url(),
        Cluster::Embedded(_) => unreachable!(),
    };
    let (w_clinic, w_patients) = scene(&wire, GRANTS / 4 + GRANTS + ROUND_TRIPS).await;
    let w_now = wire.now().await;

    let mut e_rest = e_patients;
    let mut w_rest = w_patients;
    for senders in [1usize, 8] {
        let count = if senders == 1 { GRANTS / 4 } else { GRANTS };
        let e_batch: Vec<Keypair> = e_rest.drain(..count).collect();
        let w_batch: Vec<Keypair> = w_rest.drain(..count).collect();
        let env = embedded.clone();
        // the embedded runtime is one bank behind a lock: every "sender" shares it
        let (e_rate, e_lat) = grants(
            |payer| Client::new(EnvTransport(env.clone()), payer),
            e_batch,
            e_clinic.pubkey(),
            senders,
            now,
        )
        .await;
        let url = url.clone();
        let (w_rate, w_lat) = grants(
            |payer| {
                Client::new(
                    RpcTransport::new(url.clone(), careledger_sdk::CommitmentConfig::confirmed()),
                    payer,
                )
            },
            w_batch,
            w_clinic.pubkey(),
            senders,
            w_now,
        )
        .await;
        rows.push((
            format!("grants confirmed per second, {senders} sender(s), through the SDK"),
            format!("{w_rate:.0} /s"),
            format!("{e_rate:.0} /s"),
        ));
        rows.push((
            format!("one confirmed grant, p50 / p99, {senders} sender(s)"),
            format!(
                "{} / {}",
                ms(percentile(&w_lat, 0.5)),
                ms(percentile(&w_lat, 0.99))
            ),
            format!(
                "{} / {}",
                ms(percentile(&e_lat, 0.5)),
                ms(percentile(&e_lat, 0.99))
            ),
        ));
    }

    // the wallet's round trip for one Action
    let e_origin = actions_server(EnvView(embedded.clone())).await;
    let w_origin = actions_server(RpcTransport::new(
        url.clone(),
        careledger_sdk::CommitmentConfig::confirmed(),
    ))
    .await;
    let e_times = round_trips(
        &e_origin,
        embedded.client.transport(),
        &e_rest[..ROUND_TRIPS],
        &e_clinic.pubkey(),
    )
    .await;
    let w_transport = RpcTransport::new(url, careledger_sdk::CommitmentConfig::confirmed());
    let w_times = round_trips(
        &w_origin,
        &w_transport,
        &w_rest[..ROUND_TRIPS],
        &w_clinic.pubkey(),
    )
    .await;
    rows.push((
        "a wallet's round trip for one Action (grant link: GET, 3 POSTs, 2 signatures, send, confirmed), p50 / p99".into(),
        format!("{} / {}", ms(percentile(&w_times, 0.5)), ms(percentile(&w_times, 0.99))),
        format!("{} / {}", ms(percentile(&e_times, 0.5)), ms(percentile(&e_times, 0.99))),
    ));
    Figures { rows }
}

/// The embedded runtime of a shared `Env`, as a transport a `Client` owns.
struct EnvTransport(Arc<Env>);

impl Transport for EnvTransport {
    async fn latest_blockhash(&self) -> Result<solana_hash::Hash, careledger_sdk::SdkError> {
        self.0.client.transport().latest_blockhash().await
    }
    async fn send(
        &self,
        tx: solana_transaction::Transaction,
    ) -> Result<careledger_sdk::TxOutcome, careledger_sdk::SdkError> {
        self.0.client.transport().send(tx).await
    }
    async fn account(
        &self,
        address: &Pubkey,
    ) -> Result<Option<careledger_sdk::Account>, careledger_sdk::SdkError> {
        self.0.client.transport().account(address).await
    }
    async fn program_accounts(
        &self,
        filters: &[careledger_sdk::accounts::Memcmp],
    ) -> Result<Vec<(Pubkey, careledger_sdk::Account)>, careledger_sdk::SdkError> {
        self.0.client.transport().program_accounts(filters).await
    }
    async fn unix_timestamp(&self) -> Result<i64, careledger_sdk::SdkError> {
        self.0.client.transport().unix_timestamp().await
    }
    async fn accounts_at(
        &self,
        addresses: &[Pubkey],
    ) -> Result<careledger_sdk::transport::AccountsAt, careledger_sdk::SdkError> {
        self.0.client.transport().accounts_at(addresses).await
    }
    async fn transaction_events(
        &self,
        signature: &careledger_sdk::Signature,
    ) -> Result<Option<Vec<careledger_sdk::CareledgerEvent>>, careledger_sdk::SdkError> {
        self.0
            .client
            .transport()
            .transaction_events(signature)
            .await
    }
}
