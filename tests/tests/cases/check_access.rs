//! The SDK's access check agrees with access_log: finding L5 (docs/SECURITY.md "Findings").
use careledger_sdk::ix;
use careledger_sdk::Purpose;
use careledger_sdk::{action, CareledgerError as E};
use careledger_tests::skip_unless_own_cluster;
use solana_signer::Signer;

// Audit finding L5 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn l5_check_access_refuses_what_access_log_refuses() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let scene = careledger_tests::ConsentScene::new().await;
    let env = &scene.env;
    let (wallet, clinic) = (scene.patient.pubkey(), scene.clinic.pubkey());
    let both = action::READ | action::WRITE;
    let err = env
        .client
        .check_access(&scene.grant, &scene.record, both, Purpose::Treatment)
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::InvalidAccessAction));
    let args = careledger_sdk::AccessLogArgs {
        action: both,
        purpose: Purpose::Treatment,
        strict: false,
    };
    let log = ix::AccessLog {
        grantee: clinic,
        patient_wallet: wallet,
        grant: scene.grant,
        record: scene.record,
        args,
    }
    .instruction();
    env.expect_rejected(
        log,
        &[&scene.clinic],
        E::InvalidAccessAction,
        &[scene.grant],
    )
    .await;
    let ok = env
        .client
        .check_access(
            &scene.grant,
            &scene.record,
            action::READ,
            Purpose::Treatment,
        )
        .await
        .unwrap();
    assert_eq!(ok, Ok(()));
    let admin = env.admin.insecure_clone();
    env.send(
        ix::ConfigSetPaused {
            admin: admin.pubkey(),
            paused: true,
        }
        .instruction(),
        &[&admin],
    )
    .await
    .unwrap();
    let err = env
        .client
        .check_access(
            &scene.grant,
            &scene.record,
            action::READ,
            Purpose::Treatment,
        )
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::Paused));
}
