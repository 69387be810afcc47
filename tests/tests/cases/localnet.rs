//! `careledger localnet` (the `careledger-localnet` crate) as a node, from the Agave clients:
//! what it answers, what it refuses and with which error, its PubSub, its clock, and that the
//! program's CPIs really run in it. Each test starts a localnet of its own on ports it picks and
//! stops it when done. Who gains by a localnet that is not a node: a test suite that passes here
//! and fails on a cluster (a bad signature or a stale blockhash accepted, a CPI that silently does
//! nothing, a compute-unit figure that is not one).
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::{ix, pda, SdkError, Transport};
use careledger_tests::Env;
use futures_util::StreamExt;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::request::RpcError;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use std::time::Duration;

fn client(env: &Env) -> &RpcClient {
    match env.client.transport() {
        careledger_tests::Cluster::Rpc(t) => t.client(),
        careledger_tests::Cluster::Embedded(_) => {
            unreachable!("an own localnet is reached over RPC")
        }
    }
}

fn transfer(
    from: &Keypair,
    to: &Pubkey,
    lamports: u64,
    blockhash: solana_hash::Hash,
) -> Transaction {
    Transaction::new_signed_with_payer(
        &[solana_system_interface::instruction::transfer(
            &from.pubkey(),
            to,
            lamports,
        )],
        Some(&from.pubkey()),
        &[from],
        blockhash,
    )
}

/// The JSON-RPC error code a refused call got.
fn rpc_code(err: &solana_rpc_client_api::client_error::Error) -> Option<i64> {
    match err.kind() {
        ErrorKind::RpcError(RpcError::RpcResponseError { code, .. }) => Some(*code),
        _ => None,
    }
}

async fn raw(url: &str, body: &str) -> Value {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the localnet answers")
        .json()
        .await
        .expect("a JSON answer")
}

#[tokio::test]
async fn localnet_refuses_bad_signatures_stale_blockhashes_and_duplicates_as_a_node_does() {
    let env = Env::on_own_localnet().await;
    let rpc = client(&env);
    let payer = env.actor().await;
    let to = Pubkey::new_unique();
    let before = rpc.get_balance(&payer.pubkey()).await.unwrap();

    // a signature that does not verify: -32003, as a node's sigverify answers
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let mut forged = transfer(&payer, &to, 1_000_000, blockhash);
    let mut bytes = forged.signatures[0].as_ref().to_vec();
    bytes[0] ^= 1;
    forged.signatures[0] = careledger_sdk::Signature::try_from(bytes.as_slice()).unwrap();
    let err = rpc.send_transaction(&forged).await.unwrap_err();
    assert_eq!(rpc_code(&err), Some(-32003), "{err}");

    // a blockhash the cluster never gave (or gave more than 150 blocks ago): BlockhashNotFound
    let stale = transfer(&payer, &to, 1_000_000, solana_hash::Hash::new_unique());
    let err = rpc.send_transaction(&stale).await.unwrap_err();
    assert_eq!(
        err.get_transaction_error(),
        Some(TransactionError::BlockhashNotFound)
    );
    assert_eq!(rpc_code(&err), Some(-32002));

    // the same transaction twice: AlreadyProcessed, and it is paid and applied once
    let once = transfer(&payer, &to, 1_000_000, blockhash);
    rpc.send_transaction(&once).await.unwrap();
    let err = rpc.send_transaction(&once).await.unwrap_err();
    assert_eq!(
        err.get_transaction_error(),
        Some(TransactionError::AlreadyProcessed)
    );
    assert_eq!(rpc.get_balance(&to).await.unwrap(), 1_000_000);
    assert_eq!(
        rpc.get_balance(&payer.pubkey()).await.unwrap(),
        before - 1_000_000 - 5_000,
        "one transfer and one fee: the refused ones cost nothing"
    );
}

#[tokio::test]
async fn rpc_transport_answers_a_processed_transaction_with_duplicate_and_a_newer_blockhash() {
    let env = Env::on_own_localnet().await;
    let t = RpcTransport::new(client(&env).url(), Default::default());
    let payer = env.actor().await;
    let blockhash = t.latest_blockhash().await.unwrap();
    let tx = transfer(&payer, &Pubkey::new_unique(), 1_000_000, blockhash);
    t.send(tx.clone()).await.expect("the first time");
    // what the embedded transport says for the same message under the same blockhash
    assert!(matches!(
        t.send(tx).await,
        Err(SdkError::DuplicateTransaction)
    ));
    // and Client::send's retry gets a blockhash it has not spent
    assert_ne!(t.latest_blockhash().await.unwrap(), blockhash);
    // so an instruction sent twice meets the program's answer the second time, not the node's
    let patient = env.actor().await;
    let register = ix::PatientRegister {
        wallet: patient.pubkey(),
    }
    .instruction();
    env.send(register.clone(), &[&patient]).await.unwrap();
    let again = env.send(register, &[&patient]).await.unwrap_err();
    assert!(
        !matches!(
            again,
            SdkError::DuplicateTransaction | SdkError::Transaction(_)
        ),
        "the program refuses the second registration itself: {again}"
    );
}

#[tokio::test]
async fn malformed_json_rpc_gets_the_protocol_errors_and_batches_are_answered() {
    let env = Env::on_own_localnet().await;
    let url = client(&env).url();
    assert_eq!(raw(&url, "{bad").await["error"]["code"], -32700);
    assert_eq!(
        raw(&url, r#"{"jsonrpc":"2.0","id":1}"#).await["error"]["code"],
        -32600
    );
    let unknown = raw(&url, r#"{"jsonrpc":"2.0","id":1,"method":"getEverything"}"#).await;
    assert_eq!(unknown["error"]["code"], -32601);
    let bad = raw(
        &url,
        r#"{"jsonrpc":"2.0","id":1,"method":"getBalance","params":["not-an-address"]}"#,
    )
    .await;
    assert_eq!(bad["error"]["code"], -32602);
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not-an-address"));
    let missing = raw(
        &url,
        r#"{"jsonrpc":"2.0","id":1,"method":"getAccountInfo"}"#,
    )
    .await;
    assert_eq!(missing["error"]["code"], -32602);
    let too_long = raw(
        &url,
        &json!({"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":["A".repeat(3000), {"encoding":"base64"}]})
            .to_string(),
    )
    .await;
    assert_eq!(too_long["error"]["code"], -32602, "{too_long}");
    let batch = raw(
        &url,
        r#"[{"jsonrpc":"2.0","id":1,"method":"getSlot"},{"jsonrpc":"2.0","id":2,"method":"getHealth"}]"#,
    )
    .await;
    assert_eq!(batch.as_array().map(Vec::len), Some(2), "{batch}");
    assert_eq!(batch[1]["result"], "ok");
    // and the node still serves
    assert_eq!(
        raw(&url, r#"{"jsonrpc":"2.0","id":1,"method":"getHealth"}"#).await["result"],
        "ok"
    );
}

#[tokio::test]
async fn a_taken_port_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = careledger_localnet::Localnet::start(careledger_localnet::Config {
        rpc_port: port,
        pubsub_port: Some(0),
        ..careledger_localnet::Config::new(Pubkey::new_unique())
    })
    .err()
    .expect("the port is taken");
    let text = err.to_string();
    assert!(
        text.contains(&format!("port {port} ")) && text.contains("already in use"),
        "{text}"
    );
}

#[tokio::test]
async fn cpis_run_an_account_created_by_cpi_exists_and_a_token_transfer_moves_tokens() {
    let env = Env::on_own_localnet().await;
    let patient = env.actor().await;
    env.send(
        ix::PatientRegister {
            wallet: patient.pubkey(),
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    // created by careledger through the system program's create_account (a CPI)
    let account = env
        .client
        .transport()
        .account(&pda::patient(&patient.pubkey()).0)
        .await
        .unwrap()
        .expect("the patient account exists");
    assert_eq!(account.owner, careledger_sdk::program::ID);
    // a study's vault (SPL Token initialize, a CPI) and its funding (transfer_checked, a CPI)
    let sponsor = env.verified_provider(careledger_sdk::ROLE_RESEARCHER).await;
    let (mint, authority) = env.mint(0).await;
    let source = env.token_account(&mint, &sponsor.pubkey()).await;
    env.mint_to(&mint, &authority, &source, 1_000).await;
    let keys = ix::StudyKeys::new(&sponsor.pubkey(), 1, &mint);
    let now = env.now().await;
    let args = careledger_sdk::StudyCreateArgs {
        study_id: 1,
        terms: careledger_sdk::RewardTerms {
            enrolment_reward: 10,
            period_reward: 0,
            period_secs: 86_400,
            periods: 0,
        },
        classes: 1,
        data_use_code: 0,
        enrol_start: now - 60,
        enrol_end: now + 86_400,
        max_participants: 5,
    };
    env.send(ix::StudyCreate { keys, args }.instruction(), &[&sponsor])
        .await
        .unwrap();
    let fund = ix::StudyFund {
        funder: sponsor.pubkey(),
        keys,
        source,
        amount: 700,
    };
    env.send(fund.instruction(), &[&sponsor]).await.unwrap();
    let rpc = client(&env);
    let vault = rpc.get_token_account_balance(&keys.vault).await.unwrap();
    assert_eq!(vault.amount, "700");
    assert_eq!(env.balance(&source).await, 300);
}

#[tokio::test]
async fn pubsub_notifies_signatures_slots_accounts_and_logs() {
    use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
    use solana_rpc_client_types::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
    let localnet = careledger_localnet::Localnet::start(careledger_localnet::Config {
        rpc_port: 0,
        pubsub_port: Some(0),
        slot_time: Duration::from_millis(50),
        ..careledger_localnet::Config::new(Pubkey::new_unique())
    })
    .unwrap();
    let rpc = RpcClient::new(localnet.rpc_url());
    let pubsub = PubsubClient::new(localnet.pubsub_url()).await.unwrap();
    let within = Duration::from_secs(10);
    let (mut slots, _) = pubsub.slot_subscribe().await.unwrap();
    let first = tokio::time::timeout(within, slots.next())
        .await
        .unwrap()
        .unwrap();
    let second = tokio::time::timeout(within, slots.next())
        .await
        .unwrap()
        .unwrap();
    assert!(second.slot > first.slot, "slots advance on the clock");

    let payer = Keypair::new();
    let watched = Pubkey::new_unique();
    let (mut account, _) = pubsub.account_subscribe(&watched, None).await.unwrap();
    let (mut logs, _) = pubsub
        .logs_subscribe(
            RpcTransactionLogsFilter::Mentions(vec![watched.to_string()]),
            RpcTransactionLogsConfig { commitment: None },
        )
        .await
        .unwrap();
    let airdrop = rpc
        .request_airdrop(&payer.pubkey(), 1_000_000_000)
        .await
        .unwrap();
    // subscribed after the airdrop executed: notified at once, as the status is final already
    let (mut airdropped, _) = pubsub.signature_subscribe(&airdrop, None).await.unwrap();
    let note = tokio::time::timeout(within, airdropped.next())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        note.value,
        solana_rpc_client_types::response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none()
    ));
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let tx = transfer(&payer, &watched, 2_000_000, blockhash);
    let (mut confirmed, _) = pubsub
        .signature_subscribe(&tx.signatures[0], None)
        .await
        .unwrap();
    rpc.send_transaction(&tx).await.unwrap();
    tokio::time::timeout(within, confirmed.next())
        .await
        .unwrap()
        .unwrap();
    let changed = tokio::time::timeout(within, account.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.value.lamports, 2_000_000);
    let logged = tokio::time::timeout(within, logs.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(logged.value.signature, tx.signatures[0].to_string());
    assert!(logged.value.logs.iter().any(|l| l.contains("invoke [1]")));
}

#[tokio::test]
async fn time_travel_moves_the_clock_forward_only() {
    let env = Env::on_own_localnet().await;
    let now = env.now().await;
    env.set_clock(now + 30 * 86_400).await;
    let later = env.now().await;
    assert!(
        (now + 30 * 86_400..now + 30 * 86_400 + 5).contains(&later),
        "{now} + 30 days, got {later}"
    );
    let back: Result<Value, _> = client(&env)
        .send(
            solana_rpc_client_api::request::RpcRequest::Custom {
                method: "surfnet_timeTravel",
            },
            json!([{ "absoluteTimestamp": now * 1000 }]),
        )
        .await;
    let err = back.unwrap_err();
    assert_eq!(rpc_code(&err), Some(-32602));
    assert!(err.to_string().contains("past"), "{err}");
    assert!(env.now().await >= later, "the clock did not go back");
}

#[tokio::test]
async fn careledger_transactions_report_no_compute_units_and_keep_their_events() {
    use solana_transaction_status_client_types::option_serializer::OptionSerializer;
    use solana_transaction_status_client_types::UiTransactionEncoding;
    let env = Env::on_own_localnet().await;
    let rpc = client(&env);
    let patient = env.actor().await;
    let registered = env
        .send(
            ix::PatientRegister {
                wallet: patient.pubkey(),
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    assert!(registered
        .events
        .iter()
        .any(|e| e.name() == "PatientRegistered"));
    let config = solana_rpc_client_api::config::RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Json),
        commitment: None,
        max_supported_transaction_version: Some(0),
    };
    let native = rpc
        .get_transaction_with_config(&registered.signature, config)
        .await
        .unwrap();
    let meta = native.transaction.meta.unwrap();
    assert!(
        matches!(
            meta.compute_units_consumed,
            OptionSerializer::Skip | OptionSerializer::None
        ),
        "native code is not metered: no figure"
    );
    let OptionSerializer::Some(logs) = meta.log_messages else {
        panic!("logs")
    };
    let invokes = logs
        .iter()
        .filter(|l| *l == &format!("Program {} invoke [1]", careledger_sdk::program::ID))
        .count();
    assert_eq!(invokes, 1, "one line per frame: {logs:#?}");
    // a transfer runs only Agave's own system program: its units are real
    let payer = env.actor().await;
    let blockhash = rpc.get_latest_blockhash().await.unwrap();
    let signature = rpc
        .send_transaction(&transfer(
            &payer,
            &Pubkey::new_unique(),
            1_000_000,
            blockhash,
        ))
        .await
        .unwrap();
    let plain = rpc
        .get_transaction_with_config(&signature, config)
        .await
        .unwrap();
    assert!(matches!(
        plain.transaction.meta.unwrap().compute_units_consumed,
        OptionSerializer::Some(units) if units > 0
    ));
}

#[tokio::test]
async fn get_program_accounts_filters_by_memcmp_and_data_size() {
    use solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
    use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
    let env = Env::on_own_localnet().await;
    let mut patients = Vec::new();
    for _ in 0..3 {
        patients.push(env.register_patient().await);
    }
    let rpc = client(&env);
    let size = <careledger_sdk::Patient as anchor_lang::Space>::INIT_SPACE as u64 + 8;
    let of = |filters| RpcProgramAccountsConfig {
        filters: Some(filters),
        account_config: RpcAccountInfoConfig {
            encoding: Some(solana_rpc_client_types::config::UiAccountEncoding::Base64),
            ..Default::default()
        },
        ..Default::default()
    };
    let all = rpc
        .get_program_ui_accounts_with_config(
            &careledger_sdk::program::ID,
            of(vec![RpcFilterType::DataSize(size)]),
        )
        .await
        .unwrap();
    assert_eq!(
        all.len(),
        3,
        "the three patients, and no other account of that size"
    );
    // Patient.wallet follows the 8-byte discriminator
    let one = rpc
        .get_program_ui_accounts_with_config(
            &careledger_sdk::program::ID,
            of(vec![
                RpcFilterType::DataSize(size),
                RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                    8,
                    patients[1].pubkey().to_bytes().to_vec(),
                )),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(
        one.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        vec![pda::patient(&patients[1].pubkey()).0]
    );
}

/// Who gains: any web page a developer opens while a localnet runs. It can post to 127.0.0.1
/// (a `text/plain` body needs no preflight) or reach it under its own name (DNS rebinding), and
/// the cheatcodes would let it rewrite any account, the config's admin included. Each is refused
/// with its own status and a JSON-RPC error, and the account is unchanged; the same cheatcode
/// from a tool (no `Origin`) still works.
#[tokio::test]
async fn localnet_refuses_browser_pages_and_other_hosts_the_cheatcodes() {
    let env = Env::on_own_localnet().await;
    let rpc = client(&env);
    let url = rpc.url();
    let victim = env.actor().await;
    let before = rpc.get_balance(&victim.pubkey()).await.unwrap();
    let set = json!({"jsonrpc": "2.0", "id": 1, "method": "surfnet_setAccount",
        "params": [victim.pubkey().to_string(), {"lamports": 1}]})
    .to_string();
    let http = reqwest::Client::new();
    let post = |content_type: &'static str, extra: Option<(&'static str, &'static str)>| {
        let mut request = http
            .post(&url)
            .header("content-type", content_type)
            .body(set.clone())
            .timeout(Duration::from_secs(10));
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        request.send()
    };
    for (what, response, status) in [
        (
            "a text/plain body",
            post("text/plain", None).await.unwrap(),
            415,
        ),
        (
            "another Host",
            post("application/json", Some(("host", "attacker.example:8899")))
                .await
                .unwrap(),
            403,
        ),
        (
            "a browser page",
            post("application/json", Some(("origin", "http://evil.example")))
                .await
                .unwrap(),
            403,
        ),
    ] {
        assert_eq!(response.status().as_u16(), status, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], -32600, "{what}: {body}");
    }
    assert_eq!(rpc.get_balance(&victim.pubkey()).await.unwrap(), before);
    // a tool's own call (no Origin) is served
    let answer = raw(&url, &set).await;
    assert!(answer.get("error").is_none(), "{answer}");
    assert_eq!(rpc.get_balance(&victim.pubkey()).await.unwrap(), 1);
}

/// Who gains: nobody, but one request could park the clock at the end of time, after which
/// every blockhash stays valid for ever and the slot never moves. The jump is refused and the
/// slot is where it was.
#[tokio::test]
async fn time_travel_to_the_end_of_time_is_refused() {
    let env = Env::on_own_localnet().await;
    let rpc = client(&env);
    let slot = rpc.get_slot().await.unwrap();
    let far: Result<Value, _> = rpc
        .send(
            solana_rpc_client_api::request::RpcRequest::Custom {
                method: "surfnet_timeTravel",
            },
            json!([{ "absoluteSlot": u64::MAX }]),
        )
        .await;
    let err = far.unwrap_err();
    assert!(err.to_string().contains("cannot travel that far"), "{err}");
    let after = rpc.get_slot().await.unwrap();
    assert!(after < slot + 1_000, "slot {slot} became {after}");
}
