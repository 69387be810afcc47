//! Break-glass access (break_glass_open, break_glass_review): finding L1 (docs/SECURITY.md
//! "Findings").
use super::scenes::lab;
use careledger_sdk::ix;
use careledger_sdk::ROLE_CLINICIAN;
use careledger_sdk::{action, pda, CareledgerError as E, Transport};
use careledger_tests::{skip_unless_own_cluster, Env};
use solana_signer::Signer;

// Audit finding L1 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn l1_a_second_emergency_opens_while_the_first_keeps_its_review() {
    if skip_unless_own_cluster("moves the clock past the break-glass window").await {
        return;
    }
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let er = env
        .verified_provider(ROLE_CLINICIAN | careledger_sdk::ROLE_EMERGENCY)
        .await;
    let first = env.break_glass(&er, &wallet, 3600).await.unwrap();
    assert_eq!(first, pda::emergency_grant(&wallet, &er.pubkey(), 1).0);
    // one at a time: while the first window is open, no second one stacks on it
    let args = careledger_sdk::BreakGlassOpenArgs {
        classes: lab(),
        actions: action::READ,
        window_secs: 3600,
        reason_code: 4,
    };
    let marker = pda::emergency_marker(&wallet, &er.pubkey()).0;
    let watched = [first, marker, pda::patient(&wallet).0];
    let stacked = ix::BreakGlassOpen {
        clinician: er.pubkey(),
        patient_wallet: wallet,
        serial: 2,
        args: args.clone(),
    }
    .instruction();
    env.expect_rejected(stacked, &[&er], E::EmergencyStillOpen, &watched)
        .await;
    // another clinician's emergencies do not move this one's serial
    let other = env
        .verified_provider(ROLE_CLINICIAN | careledger_sdk::ROLE_EMERGENCY)
        .await;
    env.break_glass(&other, &wallet, 3600).await.unwrap();
    env.set_clock(env.now().await + 2 * 3600).await;
    // a new emergency never reuses an earlier one's address: only the next serial is accepted
    let stale = ix::BreakGlassOpen {
        clinician: er.pubkey(),
        patient_wallet: wallet,
        serial: 1,
        args: args.clone(),
    }
    .instruction();
    env.expect_rejected(stale, &[&er], E::EmergencySerialMismatch, &watched)
        .await;
    // the window over and not yet reviewed, the same clinician opens another emergency
    let second = env.break_glass(&er, &wallet, 3600).await.unwrap();
    assert_eq!(second, pda::emergency_grant(&wallet, &er.pubkey(), 2).0);
    let pending = env
        .client
        .emergencies_pending_review(&wallet)
        .await
        .unwrap();
    assert_eq!(pending.len(), 3, "the first keeps its review obligation");
    // reviewed, the first one's rent goes back to the clinician
    env.send(
        ix::BreakGlassReview {
            authority: wallet,
            patient_wallet: wallet,
            grant: first,
            outcome: careledger_sdk::ReviewOutcome::Accepted,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let before = env
        .client
        .transport()
        .account(&er.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let rent = env
        .client
        .transport()
        .account(&first)
        .await
        .unwrap()
        .unwrap()
        .lamports;
    env.send(
        ix::GrantClose {
            authority: wallet,
            patient_wallet: wallet,
            grant: first,
            rent_to: er.pubkey(),
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let after = env
        .client
        .transport()
        .account(&er.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    assert_eq!(after - before, rent);
}
