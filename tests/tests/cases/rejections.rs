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
async fn config_update_and_config_propose_admin_inputs() {
    let env = Env::new().await;
    let admin = env.admin.pubkey();
    let config = pda::config();
    let update = |credential_authority, max_break_glass_secs| ConfigUpdateArgs {
        credential_authority,
        max_break_glass_secs,
    };
    let authority = env.credential_authority.pubkey();
    env.expect_rejected(
        ix::ConfigUpdate {
            admin,
            args: update(authority, 59),
        }
        .instruction(),
        &[&env.admin],
        E::InvalidBreakGlassWindow,
        &[config],
    )
    .await;
    env.expect_rejected(
        ix::ConfigUpdate {
            admin,
            args: update(Pubkey::default(), 3600),
        }
        .instruction(),
        &[&env.admin],
        E::InvalidAuthorityKey,
        &[config],
    )
    .await;
    let stranger = env.actor().await;
    env.expect_rejected(
        ix::ConfigUpdate {
            admin: stranger.pubkey(),
            args: update(authority, 3600),
        }
        .instruction(),
        &[&stranger],
        E::NotAdmin,
        &[config],
    )
    .await;
    env.expect_rejected(
        ix::ConfigProposeAdmin {
            admin,
            new_admin: Pubkey::default(),
        }
        .instruction(),
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
            ix::RequestCreate {
                requester: lab.pubkey(),
                patient_wallet: wallet,
                args,
            }
            .instruction(),
            &[&lab],
            expected,
            &[req],
        )
        .await;
    }
    env.send(
        ix::RequestCreate {
            requester: lab.pubkey(),
            patient_wallet: wallet,
            args: request(1, 3600),
        }
        .instruction(),
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
        ix::RequestApprove {
            authority: stranger.pubkey(),
            patient_wallet: wallet,
            requester: lab.pubkey(),
            purpose: Purpose::Treatment,
            args: approve,
        }
        .instruction(),
        &[&stranger],
        E::NotPatientOrGuardian,
        &[req, grant, pda::patient(&wallet).0],
    )
    .await;
    env.expect_rejected(
        ix::RequestDeny {
            authority: stranger.pubkey(),
            patient_wallet: wallet,
            requester: lab.pubkey(),
            reason_code: 2,
        }
        .instruction(),
        &[&stranger],
        E::NotPatientOrGuardian,
        &[req],
    )
    .await;
    env.expect_rejected(
        ix::RequestDeny {
            authority: wallet,
            patient_wallet: wallet,
            requester: lab.pubkey(),
            reason_code: 0,
        }
        .instruction(),
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
        ix::BreakGlassOpen {
            clinician: er.pubkey(),
            patient_wallet: wallet,
            serial: 1,
            args: no_reason.clone(),
        }
        .instruction(),
        &[&er],
        E::MissingReasonCode,
        &[grant, pda::patient(&wallet).0],
    )
    .await;
    let authority = &env.credential_authority;
    env.send(
        ix::ProviderSuspend {
            authority: authority.pubkey(),
            provider_wallet: er.pubkey(),
            reason_code: 3,
        }
        .instruction(),
        &[authority],
    )
    .await
    .unwrap();
    let args = BreakGlassOpenArgs {
        reason_code: 5,
        ..no_reason
    };
    env.expect_rejected(
        ix::BreakGlassOpen {
            clinician: er.pubkey(),
            patient_wallet: wallet,
            serial: 1,
            args,
        }
        .instruction(),
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
        ix::GrantUpdate {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            args: update,
        }
        .instruction(),
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
        ix::AccessLog {
            grantee: clinic.pubkey(),
            patient_wallet: alice.pubkey(),
            grant,
            record: bob_record,
            args: read.clone(),
        }
        .instruction(),
        &[&clinic],
        E::RecordPatientMismatch,
        &[grant],
    )
    .await;
    // nor presented as Bob's grant
    env.expect_rejected(
        ix::AccessLog {
            grantee: clinic.pubkey(),
            patient_wallet: bob.pubkey(),
            grant,
            record: bob_record,
            args: read.clone(),
        }
        .instruction(),
        &[&clinic],
        E::GrantPatientMismatch,
        &[grant],
    )
    .await;
    // nor used by another provider
    let other = env.verified_provider(ROLE_CLINICIAN).await;
    env.expect_rejected(
        ix::AccessLog {
            grantee: other.pubkey(),
            patient_wallet: alice.pubkey(),
            grant,
            record: alice_record,
            args: read,
        }
        .instruction(),
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
        ix::RecordRetract {
            by: stranger,
            record: anchored.clone(),
            reason_code: 1,
        }
        .instruction(),
        &[&clinic],
        E::NotRecordAuthorOrPatient,
        &[alice_record],
    )
    .await;
}

#[tokio::test]
async fn times_beyond_the_u32_range_accounts_store_are_refused() {
    if careledger_tests::skip_unless_own_cluster("moves the clock past 2106").await {
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
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args,
        }
        .instruction(),
        &[&patient],
        E::TimestampOutOfRange,
        &[grant, pda::patient(&wallet).0],
    )
    .await;
}
