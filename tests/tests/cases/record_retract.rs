//! Retracting a record (record_retract, record_amend): finding L3 (docs/SECURITY.md "Findings").
use super::scenes::lab;
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, Author};
use careledger_sdk::{action, pda, CareledgerError as E};
use careledger_sdk::{Purpose, RecordAmendArgs};
use careledger_tests::{Env, DAY};
use solana_signer::Signer;

// Audit finding L3 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn l3_retracting_needs_standing_and_never_leaves_an_amended_record_without_a_current_version()
{
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let labs = env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let grant = env
        .grant(
            &patient,
            &labs.pubkey(),
            Purpose::Treatment,
            lab(),
            action::WRITE,
            30,
        )
        .await
        .unwrap();
    let author = Author::Provider {
        wallet: labs.pubkey(),
        purpose: Purpose::Treatment,
    };
    let anchor = careledger_sdk::RecordAnchorArgs {
        cid: careledger_tests::sample_cid(1),
        content_sha256: [1; 32],
        class: RecordClass::LabResult.id(),
    };
    env.send(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author,
            args: anchor,
        }
        .instruction(),
        &[&labs],
    )
    .await
    .unwrap();
    let amend = RecordAmendArgs {
        cid: careledger_tests::sample_cid(2),
        content_sha256: [2; 32],
        expected_version: 1,
    };
    env.send(
        ix::RecordAmend {
            patient_wallet: wallet,
            previous_index: 0,
            new_index: 1,
            author,
            args: amend,
        }
        .instruction(),
        &[&labs],
    )
    .await
    .unwrap();
    let (v1, v2) = (pda::record(&wallet, 0).0, pda::record(&wallet, 1).0);
    let amended: careledger_sdk::RecordAnchor = env.client.fetch(&v2).await.unwrap();
    let watched = [v1, v2];
    // a suspended author has no standing to retract
    let authority = env.credential_authority.insecure_clone();
    env.send(
        ix::ProviderSuspend {
            authority: authority.pubkey(),
            provider_wallet: labs.pubkey(),
            reason_code: 2,
        }
        .instruction(),
        &[&authority],
    )
    .await
    .unwrap();
    let retract = ix::RecordRetract {
        by: author,
        record: amended.clone(),
        reason_code: 3,
    }
    .instruction();
    env.expect_rejected(retract.clone(), &[&labs], E::ProviderSuspended, &watched)
        .await;
    env.verify(
        &labs.pubkey(),
        careledger_sdk::ROLE_LAB,
        env.now().await + 30 * DAY,
    )
    .await
    .unwrap();
    // nor one whose write grant was revoked
    env.send(
        ix::GrantRevoke {
            authority: wallet,
            patient_wallet: wallet,
            grant,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    env.expect_rejected(retract, &[&labs], E::GrantRevoked, &watched)
        .await;
    // the amendment cannot be retracted without reinstating what it replaced
    let mut orphaning = ix::RecordRetract {
        by: Author::Patient,
        record: amended.clone(),
        reason_code: 3,
    }
    .instruction();
    let previous = orphaning
        .accounts
        .iter()
        .position(|m| m.pubkey == v1)
        .unwrap();
    orphaning.accounts[previous] =
        solana_instruction::AccountMeta::new_readonly(careledger_sdk::program::ID, false);
    env.expect_rejected(orphaning, &[&patient], E::PreviousVersionRequired, &watched)
        .await;
    // the patient retracts it: v1 is current again, and can be cited, amended, retracted
    env.send(
        ix::RecordRetract {
            by: Author::Patient,
            record: amended.clone(),
            reason_code: 3,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let v1_now: careledger_sdk::RecordAnchor = env.client.fetch(&v1).await.unwrap();
    assert_eq!(v1_now.status, careledger_sdk::RecordStatus::Current);
    let v2_now: careledger_sdk::RecordAnchor = env.client.fetch(&v2).await.unwrap();
    assert_eq!(v2_now.status, careledger_sdk::RecordStatus::EnteredInError);
    env.send(
        ix::RecordRetract {
            by: Author::Patient,
            record: v1_now.clone(),
            reason_code: 4,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
}
