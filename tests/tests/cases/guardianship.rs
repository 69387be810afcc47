//! A guardian's consent ends with the guardianship (patient_set_guardian, grant_create):
//! finding M3 (docs/SECURITY.md "Findings").
use super::scenes::lab;
use careledger_sdk::ix;
use careledger_sdk::{action, pda, CareledgerError as E};
use careledger_sdk::{
    GrantUpdateArgs, Purpose, RequestApproveArgs, RequestCreateArgs, NO_RECORD_SCOPE,
    ROLE_CLINICIAN,
};
use careledger_tests::{Env, DAY};
use solana_signer::Signer;

// Audit finding M3 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn m3_a_guardian_cannot_consent_beyond_the_guardianship() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let guardian = env.actor().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let now = env.now().await;
    let guardianship_ends = now + 10 * DAY;
    env.send(
        ix::PatientSetGuardian {
            wallet,
            guardian: Some(guardian.pubkey()),
            expires_at: guardianship_ends,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let grant = pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0;
    let args = |expires_at| careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at,
    };
    let g = guardian.pubkey();
    let watched = [grant, pda::patient(&wallet).0];
    env.expect_rejected(
        ix::GrantCreate {
            authority: g,
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args: args(guardianship_ends + 1),
        }
        .instruction(),
        &[&guardian],
        E::GuardianTermExceeded,
        &watched,
    )
    .await;
    env.send(
        ix::GrantCreate {
            authority: g,
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args: args(guardianship_ends),
        }
        .instruction(),
        &[&guardian],
    )
    .await
    .unwrap();
    // nor extend one past it
    let extend = GrantUpdateArgs {
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: guardianship_ends + DAY,
    };
    env.expect_rejected(
        ix::GrantUpdate {
            authority: g,
            patient_wallet: wallet,
            grant,
            args: extend.clone(),
        }
        .instruction(),
        &[&guardian],
        E::GuardianTermExceeded,
        &watched,
    )
    .await;
    // nor approve a request for longer
    let lab_provider = env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let ask = RequestCreateArgs {
        classes: lab(),
        actions: action::READ,
        purpose: Purpose::Treatment,
        reason_code: 2,
        duration_secs: 30 * DAY as u32,
    };
    env.send(
        ix::RequestCreate {
            requester: lab_provider.pubkey(),
            patient_wallet: wallet,
            args: ask,
        }
        .instruction(),
        &[&lab_provider],
    )
    .await
    .unwrap();
    let approve = RequestApproveArgs {
        classes: lab(),
        actions: action::READ,
        expires_at: guardianship_ends + DAY,
    };
    let request = pda::request(&wallet, &lab_provider.pubkey()).0;
    let lab_grant = pda::grant(&wallet, &lab_provider.pubkey(), Purpose::Treatment).0;
    env.expect_rejected(
        ix::RequestApprove {
            authority: g,
            patient_wallet: wallet,
            requester: lab_provider.pubkey(),
            purpose: Purpose::Treatment,
            args: approve,
        }
        .instruction(),
        &[&guardian],
        E::GuardianTermExceeded,
        &[request, lab_grant, pda::patient(&wallet).0],
    )
    .await;
    // the patient is not bound by it
    env.send(
        ix::GrantUpdate {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            args: extend,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
}
