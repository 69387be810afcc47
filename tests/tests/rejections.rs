//! Rejection paths not covered by the lifecycle scenarios: each asserts the exact program error
//! and that the involved accounts are byte-identical afterwards.
use careledger_sdk::{action, ix, pda, AccessLogArgs, CareledgerError as E, ConfigUpdateArgs};
use careledger_sdk::{
    BreakGlassOpenArgs, GrantUpdateArgs, Purpose, RequestApproveArgs, RequestCreateArgs,
    NO_RECORD_SCOPE, ROLE_CLINICIAN, ROLE_EMERGENCY,
};
use careledger_tests::{Env, DAY};
use solana_pubkey::Pubkey;
use solana_signer::Signer;

fn request(reason_code: u16, duration_secs: u32) -> RequestCreateArgs {
    RequestCreateArgs {
        classes: 1,
        actions: action::READ,
        purpose: Purpose::Treatment,
        reason_code,
        duration_secs,
    }
}

#[tokio::test]
async fn config_admin_inputs() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let config = pda::config();
    let update = |credential_authority, max_break_glass_secs| ConfigUpdateArgs {
        credential_authority,
        max_break_glass_secs,
    };
    let authority = env.credential_authority.pubkey();
    env.expect_rejected(
        ix::config_update(&admin, update(authority, 59)),
        &[&env.admin],
        E::InvalidBreakGlassWindow,
        &[config],
    )
    .await;
    env.expect_rejected(
        ix::config_update(&admin, update(Pubkey::default(), 3600)),
        &[&env.admin],
        E::InvalidAuthorityKey,
        &[config],
    )
    .await;
    let stranger = env.actor().await;
    env.expect_rejected(
        ix::config_update(&stranger.pubkey(), update(authority, 3600)),
        &[&stranger],
        E::NotAdmin,
        &[config],
    )
    .await;
    env.expect_rejected(
        ix::config_propose_admin(&admin, &Pubkey::default()),
        &[&env.admin],
        E::InvalidAuthorityKey,
        &[config],
    )
    .await;
}

#[tokio::test]
async fn request_inputs_and_deciders() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let lab = env.verified_provider(ROLE_CLINICIAN).await;
    let wallet = patient.pubkey();
    let req = pda::request(&wallet, &lab.pubkey()).0;
    let cases = [
        (request(0, 3600), E::MissingReasonCode),
        (request(1, 59), E::InvalidRequestDuration),
        (request(1, 366 * DAY as u32), E::InvalidRequestDuration),
    ];
    for (args, expected) in cases {
        env.expect_rejected(
            ix::request_create(&lab.pubkey(), &wallet, args),
            &[&lab],
            expected,
            &[req],
        )
        .await;
    }
    env.send(
        ix::request_create(&lab.pubkey(), &wallet, request(1, 3600)),
        &[&lab],
    )
    .await
    .unwrap();
    let stranger = env.actor().await;
    let approve = RequestApproveArgs {
        classes: 1,
        actions: action::READ,
        expires_at: env.now().await + 1800,
    };
    let grant = pda::grant(&wallet, &lab.pubkey(), Purpose::Treatment).0;
    env.expect_rejected(
        ix::request_approve(
            &stranger.pubkey(),
            &wallet,
            &lab.pubkey(),
            Purpose::Treatment,
            approve,
        ),
        &[&stranger],
        E::NotPatientOrGuardian,
        &[req, grant, pda::patient(&wallet).0],
    )
    .await;
    env.expect_rejected(
        ix::request_deny(&stranger.pubkey(), &wallet, &lab.pubkey(), 2),
        &[&stranger],
        E::NotPatientOrGuardian,
        &[req],
    )
    .await;
    env.expect_rejected(
        ix::request_deny(&wallet, &wallet, &lab.pubkey(), 0),
        &[&patient],
        E::MissingReasonCode,
        &[req],
    )
    .await;
}

#[tokio::test]
async fn break_glass_needs_standing_and_a_reason_and_is_not_updatable() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let er = env.verified_provider(ROLE_CLINICIAN | ROLE_EMERGENCY).await;
    // the patient's first emergency
    let grant = pda::emergency_grant(&wallet, &er.pubkey(), 1).0;
    let no_reason = BreakGlassOpenArgs {
        classes: 1,
        actions: action::READ,
        window_secs: 3600,
        reason_code: 0,
    };
    env.expect_rejected(
        ix::break_glass_open(&er.pubkey(), &wallet, 1, no_reason.clone()),
        &[&er],
        E::MissingReasonCode,
        &[grant, pda::patient(&wallet).0],
    )
    .await;
    let authority = &env.credential_authority;
    env.send(
        ix::provider_suspend(&authority.pubkey(), &er.pubkey(), 3),
        &[authority],
    )
    .await
    .unwrap();
    let args = BreakGlassOpenArgs {
        reason_code: 5,
        ..no_reason
    };
    env.expect_rejected(
        ix::break_glass_open(&er.pubkey(), &wallet, 1, args),
        &[&er],
        E::ProviderSuspended,
        &[grant, pda::patient(&wallet).0],
    )
    .await;
    env.verify(
        &er.pubkey(),
        ROLE_CLINICIAN | ROLE_EMERGENCY,
        env.now().await + DAY,
    )
    .await
    .unwrap();
    env.break_glass(&er, &wallet, 3600).await.unwrap();
    let update = GrantUpdateArgs {
        classes: 1,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: env.now().await + 30 * DAY,
    };
    env.expect_rejected(
        ix::grant_update(&wallet, &wallet, &grant, update),
        &[&patient],
        E::EmergencyPurposeReserved,
        &[grant],
    )
    .await;
}

#[tokio::test]
async fn cross_patient_wiring_and_strangers() {
    let env = Env::new().await;
    let alice = env.register_patient().await;
    let bob = env.register_patient().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let alice_record = env.anchor_as_patient(&alice, 0, 1).await;
    let bob_record = env.anchor_as_patient(&bob, 0, 2).await;
    let grant = env
        .grant(
            &alice,
            &clinic.pubkey(),
            Purpose::Treatment,
            1,
            action::READ,
            5,
        )
        .await
        .unwrap();
    let read = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: false,
    };
    // Alice's grant cannot be used on Bob's record
    env.expect_rejected(
        ix::access_log(
            &clinic.pubkey(),
            &alice.pubkey(),
            &grant,
            &bob_record,
            read.clone(),
        ),
        &[&clinic],
        E::RecordPatientMismatch,
        &[grant],
    )
    .await;
    // nor presented as Bob's grant
    env.expect_rejected(
        ix::access_log(
            &clinic.pubkey(),
            &bob.pubkey(),
            &grant,
            &bob_record,
            read.clone(),
        ),
        &[&clinic],
        E::GrantPatientMismatch,
        &[grant],
    )
    .await;
    // nor used by another provider
    let other = env.verified_provider(ROLE_CLINICIAN).await;
    env.expect_rejected(
        ix::access_log(
            &other.pubkey(),
            &alice.pubkey(),
            &grant,
            &alice_record,
            read,
        ),
        &[&other],
        E::GranteeMismatch,
        &[grant],
    )
    .await;
    // a stranger cannot retract a record
    let anchored: careledger_sdk::RecordAnchor = env.client.fetch(&alice_record).await.unwrap();
    let stranger = careledger_sdk::ix::Author::Provider {
        wallet: clinic.pubkey(),
        purpose: Purpose::Treatment,
    };
    env.expect_rejected(
        ix::record_retract(stranger, &anchored, 1),
        &[&clinic],
        E::NotRecordAuthorOrPatient,
        &[alice_record],
    )
    .await;
}

#[tokio::test]
async fn times_beyond_the_u32_range_accounts_store_are_refused() {
    if careledger_tests::skip_on_cluster("moves the clock past 2106") {
        return;
    }
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    // the first second a u32 cannot hold (2106-02-07)
    env.set_clock(i64::from(u32::MAX) + 1).await;
    let wallet = patient.pubkey();
    let grant = pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0;
    let args = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: 1,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: env.now().await + DAY,
    };
    env.expect_rejected(
        ix::grant_create(&wallet, &wallet, &clinic.pubkey(), args),
        &[&patient],
        E::TimestampOutOfRange,
        &[grant, pda::patient(&wallet).0],
    )
    .await;
}
