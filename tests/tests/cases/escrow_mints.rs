//! Escrow mints (mint_accept, mint_remove, policy_create, study_create): finding M5 (docs/SECURITY.md
//! "Findings"), an insurer or sponsor freezing its own vault.
use super::scenes::{accepted_freezable_mint, lab, visit_terms};
use careledger_sdk::claims::{rule_key, service_day};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, CareBasis, PolicyKeys, StudyKeys};
use careledger_sdk::{action, pda, tokens, CareledgerError as E};
use careledger_sdk::{
    Claim, ClaimState, ClaimSubmitArgs, PolicyCreateArgs, Purpose, RewardTerms, StudyCreateArgs,
    ROLE_CLINICIAN, ROLE_INSURER, ROLE_RESEARCHER,
};
use careledger_tests::{Env, DAY};
use solana_keypair::Keypair;
use solana_signer::Signer;

// Audit finding M5 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn m5_an_escrow_mint_its_owner_can_freeze_is_refused_unless_mint_accept_took_it() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let insurer = env.verified_provider(ROLE_INSURER | ROLE_RESEARCHER).await;
    // the insurer made a mint it can freeze: freeze the vault, let consent lapse, thaw, withdraw
    let mint = Keypair::new();
    let ixs = tokens::create_freezable_mint(
        &insurer.pubkey(),
        &mint.pubkey(),
        &insurer.pubkey(),
        Some(&insurer.pubkey()),
        2,
    );
    env.send_all(&ixs, &[&insurer, &mint]).await.unwrap();
    let now = env.now().await;
    let keys = PolicyKeys::new(&insurer.pubkey(), 1, &patient.pubkey(), &mint.pubkey());
    let policy = PolicyCreateArgs {
        policy_id: 1,
        coverage_start: now - DAY,
        coverage_end: now + 300 * DAY,
        benefit_cap: 1_000,
        deductible: 0,
        network_only: false,
    };
    let create = ix::PolicyCreate { keys, args: policy }.instruction();
    env.expect_rejected(
        create.clone(),
        &[&insurer],
        E::FreezableMintNotAccepted,
        &[keys.policy, keys.vault],
    )
    .await;
    let study = StudyKeys::new(&insurer.pubkey(), 1, &mint.pubkey());
    let study_args = StudyCreateArgs {
        study_id: 1,
        terms: RewardTerms {
            enrolment_reward: 1,
            period_reward: 0,
            period_secs: 0,
            periods: 0,
        },
        classes: lab(),
        data_use_code: 0,
        enrol_start: now - 60,
        enrol_end: now + DAY,
        max_participants: 1,
    };
    let open = ix::StudyCreate {
        keys: study,
        args: study_args,
    }
    .instruction();
    env.expect_rejected(
        open.clone(),
        &[&insurer],
        E::FreezableMintNotAccepted,
        &[study.study, study.vault],
    )
    .await;
    // only the admin keeps the list
    let entry = pda::accepted_mint(&mint.pubkey()).0;
    env.expect_rejected(
        ix::MintAccept {
            admin: insurer.pubkey(),
            mint: mint.pubkey(),
        }
        .instruction(),
        &[&insurer],
        E::NotAdmin,
        &[entry],
    )
    .await;
    // a regulated stablecoin's issuer is trusted by the admin: accepted, it can be used
    let admin = env.admin.insecure_clone();
    env.fund(&admin.pubkey()).await;
    env.send(
        ix::MintAccept {
            admin: admin.pubkey(),
            mint: mint.pubkey(),
        }
        .instruction(),
        &[&admin],
    )
    .await
    .unwrap();
    env.send(create, &[&insurer]).await.unwrap();
    // removed from the list, it can no longer back a new escrow
    let removal = ix::MintRemove {
        admin: admin.pubkey(),
        mint: mint.pubkey(),
        rent_to: admin.pubkey(),
    }
    .instruction();
    env.send(removal, &[&admin]).await.unwrap();
    env.expect_rejected(
        open,
        &[&insurer],
        E::FreezableMintNotAccepted,
        &[study.study, study.vault],
    )
    .await;
}

// Audit finding M5 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn m5_an_accepted_mint_whose_freeze_authority_changes_hands_is_refused() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let insurer = env.verified_provider(ROLE_INSURER).await;
    let (mint, issuer) = accepted_freezable_mint(&env).await;
    // the issuer hands the freeze authority to the insurer
    let handover = tokens::set_freeze_authority(&mint, &issuer.pubkey(), Some(&insurer.pubkey()));
    env.send(handover, &[&issuer]).await.unwrap();
    let now = env.now().await;
    let keys = PolicyKeys::new(&insurer.pubkey(), 1, &patient.pubkey(), &mint);
    let args = PolicyCreateArgs {
        policy_id: 1,
        coverage_start: now - DAY,
        coverage_end: now + 30 * DAY,
        benefit_cap: 100,
        deductible: 0,
        network_only: false,
    };
    env.expect_rejected(
        ix::PolicyCreate { keys, args }.instruction(),
        &[&insurer],
        E::FreezableMintNotAccepted,
        &[keys.policy, keys.vault],
    )
    .await;
}

// Audit finding M5 (docs/SECURITY.md "Findings"; was in findings.rs).
#[tokio::test]
async fn m5_a_frozen_vault_leaves_the_claim_owed_instead_of_failing_it() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let insurer = env.verified_provider(ROLE_INSURER).await;
    let (mint, issuer) = accepted_freezable_mint(&env).await;
    for (grantee, purpose) in [
        (insurer.pubkey(), Purpose::Payment),
        (clinic.pubkey(), Purpose::Treatment),
    ] {
        env.grant(&patient, &grantee, purpose, lab(), action::READ, 30)
            .await
            .unwrap();
    }
    let record = env
        .anchor_as_patient(&patient, RecordClass::LabResult.id(), 1)
        .await;
    let keys = PolicyKeys::new(&insurer.pubkey(), 1, &patient.pubkey(), &mint);
    let now = env.now().await;
    let args = PolicyCreateArgs {
        policy_id: 1,
        coverage_start: now - DAY,
        coverage_end: now + 30 * DAY,
        benefit_cap: 1_000,
        deductible: 0,
        network_only: false,
    };
    let rule = rule_key(&[7; 32], "CPT", "99213", "");
    env.send_all(
        &[
            ix::PolicyCreate { keys, args }.instruction(),
            ix::RuleAdd {
                keys,
                rule_key: rule,
                terms: visit_terms(100),
            }
            .instruction(),
        ],
        &[&insurer],
    )
    .await
    .unwrap();
    env.mint_to(&mint, &issuer, &keys.vault, 500).await;
    // the issuer freezes the vault (a court order, say)
    let freeze = tokens::freeze_account(&keys.vault, &mint, &issuer.pubkey());
    env.send(freeze, &[&issuer]).await.unwrap();
    let payee = env.token_account(&mint, &clinic.pubkey()).await;
    let day = service_day(env.now().await);
    let claim_args = ClaimSubmitArgs {
        units: 1,
        billed: 100,
        service_date: day,
        document_commitment: [9; 32],
        expected_terms: visit_terms(100),
    };
    let care = CareBasis::Grant(Purpose::Treatment);
    let submit = ix::ClaimSubmit {
        provider: clinic.pubkey(),
        keys,
        record,
        rule_key: rule,
        payee,
        care,
        args: claim_args,
    }
    .instruction();
    env.send(submit, &[&clinic]).await.unwrap();
    let claim: Claim = env
        .client
        .fetch(&pda::claim(&keys.policy, &clinic.pubkey(), &rule, day).0)
        .await
        .unwrap();
    assert_eq!(claim.state, ClaimState::Approved, "owed, not lost");
    let policy: careledger_sdk::Policy = env.client.fetch(&keys.policy).await.unwrap();
    assert_eq!(policy.owed, 100);
}
