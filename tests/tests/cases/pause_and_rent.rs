//! Rent returns to its payer and protective acts work while paused (config_set_paused, the
//! closing instructions): finding L4 (docs/SECURITY.md "Findings").
use super::scenes::{billing, lab};
use careledger_sdk::ix;
use careledger_sdk::{action, pda, CareledgerError as E, Transport};
use careledger_sdk::{Purpose, NO_RECORD_SCOPE};
use careledger_tests::{skip_unless_own_cluster, DAY};
use solana_pubkey::Pubkey;
use solana_signer::Signer;

// Audit finding L4 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn l4_rent_returns_to_its_payer_and_protective_acts_work_while_paused() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    let guardian = b.env.actor().await;
    let until = b.env.now().await + 10 * DAY;
    b.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: until,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    // the guardian gives (and pays for) a grant, later revoked and closed: rent to the guardian
    let lab_provider = b.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let args = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: until,
    };
    let g = guardian.pubkey();
    b.env
        .send(
            ix::GrantCreate {
                authority: g,
                patient_wallet: wallet,
                grantee_wallet: lab_provider.pubkey(),
                args,
            }
            .instruction(),
            &[&guardian],
        )
        .await
        .unwrap();
    let grant = pda::grant(&wallet, &lab_provider.pubkey(), Purpose::Treatment).0;
    b.env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    let to_patient = ix::GrantClose {
        authority: wallet,
        patient_wallet: wallet,
        grant,
        rent_to: wallet,
    }
    .instruction();
    b.env
        .expect_rejected(to_patient, &[&b.patient], E::WrongRentDestination, &[grant])
        .await;
    let rent = b
        .env
        .client
        .transport()
        .account(&grant)
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let before = b
        .env
        .client
        .transport()
        .account(&g)
        .await
        .unwrap()
        .unwrap()
        .lamports;
    b.env
        .send(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant,
                rent_to: g,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    let after = b
        .env
        .client
        .transport()
        .account(&g)
        .await
        .unwrap()
        .unwrap()
        .lamports;
    assert_eq!(after - before, rent);

    // paused: the patient can remove the guardian, not appoint one; the insurer can suspend
    // the policy, not reactivate it
    let admin = b.env.admin.insecure_clone();
    b.env
        .send(
            ix::ConfigSetPaused {
                admin: admin.pubkey(),
                paused: true,
            }
            .instruction(),
            &[&admin],
        )
        .await
        .unwrap();
    let patient_account = pda::patient(&wallet).0;
    b.env
        .expect_rejected(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(g),
                expires_at: until,
            }
            .instruction(),
            &[&b.patient],
            E::Paused,
            &[patient_account],
        )
        .await;
    b.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: None,
                expires_at: 0,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    assert_eq!(b.env.patient(&wallet).await.guardian, Pubkey::default());
    b.env
        .send(
            ix::PolicySetStatus {
                keys: b.keys,
                suspended: true,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    b.env
        .expect_rejected(
            ix::PolicySetStatus {
                keys: b.keys,
                suspended: false,
            }
            .instruction(),
            &[&b.insurer],
            E::Paused,
            &[b.keys.policy],
        )
        .await;
}
