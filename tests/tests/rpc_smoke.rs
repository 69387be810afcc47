//! The consent story against a real cluster: `anchor test` (see Anchor.toml) deploys the SBF
//! build to solana-test-validator and runs this with CARELEDGER_RPC_URL set. Ignored otherwise,
//! since no validator can run here.
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::{action, ix, pda, AccessLogArgs, CareledgerEvent, Client, ConfigInitArgs};
use careledger_sdk::{
    Purpose, RecordAnchorArgs, Refusal, Transport, NO_RECORD_SCOPE, ROLE_CLINICIAN,
};
use solana_keypair::{read_keypair_file, Keypair};
use solana_signer::Signer;

#[tokio::test]
#[ignore = "needs a validator: set CARELEDGER_RPC_URL (anchor test does)"]
async fn consent_story_on_a_cluster() {
    let url = std::env::var("CARELEDGER_RPC_URL").expect("CARELEDGER_RPC_URL");
    let wallet_path = std::env::var("ANCHOR_WALLET")
        .unwrap_or_else(|_| format!("{}/.config/solana/id.json", std::env::var("HOME").unwrap()));
    let deployer = read_keypair_file(&wallet_path).expect("deployer keypair (upgrade authority)");
    let client = Client::new(
        RpcTransport::new(url, Default::default()),
        deployer.insecure_clone(),
    );
    let fund = |k: &Keypair| {
        let to = k.pubkey();
        let t = client.transport();
        async move { t.fund(&to, 2_000_000_000).await.expect("airdrop") }
    };
    let authority = Keypair::new();
    fund(&authority).await;
    let config = ConfigInitArgs {
        admin: deployer.pubkey(),
        credential_authority: authority.pubkey(),
        max_break_glass_secs: 3600,
    };
    // A validator reused across runs keeps its config: only create it when missing.
    if client
        .fetch_optional::<careledger_sdk::Config>(&pda::config())
        .await
        .unwrap()
        .is_none()
    {
        careledger_sdk::setup::init_config(&client, &deployer, config)
            .await
            .unwrap();
    }
    let cfg: careledger_sdk::Config = client.fetch(&pda::config()).await.unwrap();
    let (patient, clinic) = (Keypair::new(), Keypair::new());
    fund(&patient).await;
    fund(&clinic).await;
    let p = patient.pubkey();
    client
        .send(&[ix::patient_register(&p)], &[&patient])
        .await
        .unwrap();
    let reg = careledger_sdk::ProviderRegisterArgs {
        roles: ROLE_CLINICIAN,
        credential_ref: [1; 32],
    };
    client
        .send(&[ix::provider_register(&clinic.pubkey(), reg)], &[&clinic])
        .await
        .unwrap();
    if cfg.credential_authority != authority.pubkey() {
        eprintln!("config predates this run: skipping verification-dependent steps");
        return;
    }
    let now = client.transport().unix_timestamp().await.unwrap();
    let verify = careledger_sdk::ProviderVerifyArgs {
        roles: ROLE_CLINICIAN,
        credential_expires_at: now + 86_400,
    };
    client
        .send(
            &[ix::provider_verify(
                &authority.pubkey(),
                &clinic.pubkey(),
                verify,
            )],
            &[&authority],
        )
        .await
        .unwrap();
    let anchor = RecordAnchorArgs {
        cid: careledger_tests::sample_cid(3),
        content_sha256: [3; 32],
        class: 0,
    };
    client
        .send(
            &[ix::record_anchor(&p, 0, ix::Author::Patient, anchor)],
            &[&patient],
        )
        .await
        .unwrap();
    let grant_args = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: 1,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: now + 3_600,
    };
    client
        .send(
            &[ix::grant_create(&p, &p, &clinic.pubkey(), grant_args)],
            &[&patient],
        )
        .await
        .unwrap();
    let grant = pda::grant(&p, &clinic.pubkey(), Purpose::Treatment).0;
    let record = pda::record(&p, 0).0;
    let read = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: false,
    };
    let out = client
        .send(
            &[ix::access_log(
                &clinic.pubkey(),
                &p,
                &grant,
                &record,
                read.clone(),
            )],
            &[&clinic],
        )
        .await
        .unwrap();
    assert!(
        matches!(out.events[0], CareledgerEvent::AccessLogged(_)),
        "{:?}",
        out.events
    );
    client
        .send(&[ix::grant_revoke(&p, &p, &grant)], &[&patient])
        .await
        .unwrap();
    let out = client
        .send(
            &[ix::access_log(&clinic.pubkey(), &p, &grant, &record, read)],
            &[&clinic],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::AccessRefused(r) if r.reason == Refusal::Revoked)
    );
}
