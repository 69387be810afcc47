//! `cargo run -p careledger-tests --bin demo`: a whole consent, records, claims and research
//! rewards story on the embedded runtime. No keys, no validator, no setup.
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{PolicyKeys, StudyKeys};
use careledger_sdk::{action, adjudicate, cid, claims, ix, pda, AccessLogArgs};
use careledger_sdk::{
    Claim, ClaimSubmitArgs, GrantCreateArgs, Policy, PolicyCreateArgs, Purpose, RecordAmendArgs,
    RequestApproveArgs, RequestCreateArgs, ReviewDecision, ReviewOutcome, RewardTerms, RuleTerms,
    StudyCreateArgs, TxOutcome, NO_RECORD_SCOPE, ROLE_CLINICIAN, ROLE_EMERGENCY, ROLE_INSURER,
    ROLE_LAB, ROLE_RESEARCHER,
};
use careledger_tests::{Env, DAY};
use sha2_free::digest;
use solana_signer::Signer;

#[path = "demo/actions.rs"]
mod actions;
#[path = "demo/records.rs"]
mod records;
#[path = "demo/supply.rs"]
mod supply;
#[path = "demo/trials.rs"]
mod trials;

mod sha2_free {
    /// The demo's "encrypted record" bytes and their SHA-256, via the SDK's hashing helper.
    pub fn digest(bytes: &[u8]) -> [u8; 32] {
        careledger_sdk::cid::sha256_reader(bytes, |_| {}).expect("in-memory read")
    }
}

/// The decimals of the demo's one payment mint (a stablecoin): every policy and study pays in it.
const STABLECOIN_DECIMALS: u8 = 2;

pub(crate) fn show(step: &str, outcome: &TxOutcome) {
    println!("\n== {step}\n   tx {}", outcome.signature);
    for event in &outcome.events {
        // amounts in the mint's decimals, as the step titles write them
        let summary = event.summary_in(&|_| Some(STABLECOIN_DECIMALS));
        println!("   event {}: {summary}", event.name());
    }
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // RUST_LOG=error (the embedded bank logs every instruction at debug level otherwise), and
    // the bank's scratch files in a directory removed at the end. The demo is the embedded
    // bank's, whatever cluster CARELEDGER_RPC_URL names for the scenarios (before any thread
    // starts: it changes the environment).
    std::env::remove_var(careledger_tests::RPC_URL_VAR);
    careledger_tests::run_main(demo)
}

async fn demo() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    println!("careledger demo: embedded Agave bank, careledger registered natively");
    let env = std::sync::Arc::new(Env::new().await);
    println!(
        "config created by the upgrade authority; admin {}",
        env.admin.pubkey()
    );

    let patient = env.actor().await;
    let wallet = patient.pubkey();
    show(
        "patient registers",
        &env.send(ix::PatientRegister { wallet }.instruction(), &[&patient])
            .await?,
    );

    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let lab = env.verified_provider(ROLE_LAB).await;
    let er = env.verified_provider(ROLE_CLINICIAN | ROLE_EMERGENCY).await;
    println!(
        "\nproviders verified by the credential authority: clinic {}, lab {}, ER {}",
        clinic.pubkey(),
        lab.pubkey(),
        er.pubkey()
    );

    let encrypted = b"(ciphertext of a lab report, stored off chain)";
    let sha = digest(encrypted);
    let args = careledger_sdk::RecordAnchorArgs {
        cid: cid::raw_cid_v1(&sha),
        content_sha256: sha,
        class: RecordClass::LabResult.id(),
    };
    show(
        "patient anchors a lab result (CID + SHA-256 only)",
        &env.send(
            ix::RecordAnchor {
                patient_wallet: wallet,
                index: 0,
                author: ix::Author::Patient,
                args,
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );
    let record = pda::record(&wallet, 0).0;

    let grant = env
        .grant(
            &patient,
            &clinic.pubkey(),
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await?;
    println!("\n== patient grants the clinic treatment access to lab results for 30 days\n   grant {grant}");
    actions::consent_from_link(&env, &patient, &lab.pubkey()).await?;
    let read = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: false,
    };
    show(
        "clinic logs a read",
        &env.send(
            ix::AccessLog {
                grantee: clinic.pubkey(),
                patient_wallet: wallet,
                grant,
                record,
                args: read.clone(),
            }
            .instruction(),
            &[&clinic],
        )
        .await?,
    );

    let request = RequestCreateArgs {
        classes: RecordClass::LabResult.bit(),
        actions: action::READ | action::WRITE,
        purpose: Purpose::Treatment,
        reason_code: 12,
        duration_secs: 7 * DAY as u32,
    };
    show(
        "lab requests access",
        &env.send(
            ix::RequestCreate {
                requester: lab.pubkey(),
                patient_wallet: wallet,
                args: request,
            }
            .instruction(),
            &[&lab],
        )
        .await?,
    );
    let approve = RequestApproveArgs {
        classes: RecordClass::LabResult.bit(),
        actions: action::READ | action::WRITE,
        expires_at: env.now().await + 7 * DAY,
    };
    show(
        "patient approves the request",
        &env.send(
            ix::RequestApprove {
                authority: wallet,
                patient_wallet: wallet,
                requester: lab.pubkey(),
                purpose: Purpose::Treatment,
                args: approve,
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );
    let corrected = digest(b"(ciphertext of the corrected lab report)");
    let amend = RecordAmendArgs {
        cid: cid::raw_cid_v1(&corrected),
        content_sha256: corrected,
        expected_version: 1,
    };
    let author = ix::Author::Provider {
        wallet: lab.pubkey(),
        purpose: Purpose::Treatment,
    };
    show(
        "lab amends the record (v2 supersedes v1)",
        &env.send(
            ix::RecordAmend {
                patient_wallet: wallet,
                previous_index: 0,
                new_index: 1,
                author,
                args: amend,
            }
            .instruction(),
            &[&lab],
        )
        .await?,
    );

    let emergency_grant = env.break_glass(&er, &wallet, 3600).await?;
    println!("\n== ER clinician breaks the glass (1 hour, flagged for review)\n   grant {emergency_grant}");
    let emergency = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Emergency,
        strict: false,
    };
    show(
        "ER reads the amended record",
        &env.send(
            ix::AccessLog {
                grantee: er.pubkey(),
                patient_wallet: wallet,
                grant: emergency_grant,
                record: pda::record(&wallet, 1).0,
                args: emergency,
            }
            .instruction(),
            &[&er],
        )
        .await?,
    );
    show(
        "patient reviews the emergency access: accepted",
        &env.send(
            ix::BreakGlassReview {
                authority: wallet,
                patient_wallet: wallet,
                grant: emergency_grant,
                outcome: ReviewOutcome::Accepted,
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );

    // ------------------------------------------------------------ claims
    let insurer = env.verified_provider(ROLE_INSURER).await;
    println!("\n== insurer {} verified", insurer.pubkey());
    show(
        "patient consents to disclose records to the insurer for payment",
        &env.send(
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: insurer.pubkey(),
                args: GrantCreateArgs {
                    purpose: Purpose::Payment,
                    classes: u16::MAX,
                    actions: action::READ,
                    record_scope: NO_RECORD_SCOPE,
                    not_before: 0,
                    expires_at: env.now().await + 365 * DAY,
                },
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );
    let (mint, mint_authority) = env.mint(STABLECOIN_DECIMALS).await;
    let insurer_tokens = env.token_account(&mint, &insurer.pubkey()).await;
    env.mint_to(&mint, &mint_authority, &insurer_tokens, 100_000)
        .await;
    let clinic_tokens = env.token_account(&mint, &clinic.pubkey()).await;
    let keys = PolicyKeys::new(&insurer.pubkey(), 1, &wallet, &mint);
    let now = env.now().await;
    show(
        "insurer opens a network-only policy: cap 1000.00, deductible 50.00, paid in a 2-decimal stablecoin",
        &env.send(
            ix::PolicyCreate { keys, args: PolicyCreateArgs {
                    policy_id: 1,
                    coverage_start: now - 30 * DAY,
                    coverage_end: now + 335 * DAY,
                    benefit_cap: 100_000,
                    deductible: 5_000,
                    network_only: true,
                } }.instruction(),
            &[&insurer],
        )
        .await?,
    );
    show(
        "insurer enrols the clinic in its network",
        &env.send(
            ix::NetworkAdd {
                insurer: insurer.pubkey(),
                provider: clinic.pubkey(),
            }
            .instruction(),
            &[&insurer],
        )
        .await?,
    );
    // the plain codes stay off chain: only salted commitments are stored
    let secret = [0x5a; 32];
    let visit = claims::rule_key(&secret, "CPT", "99213", "");
    let mri = claims::rule_key(&secret, "CPT", "70553", "");
    let visit_terms = RuleTerms {
        allowed_per_unit: 12_000,
        copay: 2_000,
        coinsurance_bps: 2_000,
        max_units_per_claim: 1,
        max_claims_per_period: 12,
        prior_auth_required: false,
    };
    let mri_terms = RuleTerms {
        allowed_per_unit: 60_000,
        copay: 0,
        coinsurance_bps: 1_000,
        prior_auth_required: true,
        ..visit_terms
    };
    let rules = [
        (visit, visit_terms, "insurer adds a rule for an office visit (CPT 99213): allowed 120.00, copay 20.00, 20 % coinsurance"),
        (mri, mri_terms, "insurer adds a rule for a brain MRI (CPT 70553): allowed 600.00, 10 % coinsurance, prior authorization"),
    ];
    for (key, terms, title) in rules {
        show(
            title,
            &env.send(
                ix::RuleAdd {
                    keys,
                    rule_key: key,
                    terms,
                }
                .instruction(),
                &[&insurer],
            )
            .await?,
        );
    }
    show(
        "insurer funds the policy vault with 1000.00",
        &env.send(
            ix::PolicyFund {
                funder: insurer.pubkey(),
                keys,
                source: insurer_tokens,
                amount: 100_000,
            }
            .instruction(),
            &[&insurer],
        )
        .await?,
    );
    let day = claims::service_day(env.now().await);
    // the claim cites the current version of the lab result, under the clinic's treatment grant
    let current = pda::record(&wallet, 1).0;
    let care = ix::CareBasis::Grant(Purpose::Treatment);
    let visit_claim = ClaimSubmitArgs {
        units: 1,
        billed: 15_000,
        service_date: day,
        document_commitment: digest(b"encrypted claim document: office visit"),
        expected_terms: visit_terms,
    };
    show(
        "clinic bills an office visit under the terms it was shown: paid at once",
        &env.send(
            ix::ClaimSubmit {
                provider: clinic.pubkey(),
                keys,
                record: current,
                rule_key: visit,
                payee: clinic_tokens,
                care,
                args: visit_claim.clone(),
            }
            .instruction(),
            &[&clinic],
        )
        .await?,
    );
    let claim = pda::claim(&keys.policy, &clinic.pubkey(), &visit, day).0;
    let stored: Claim = env.client.fetch(&claim).await?;
    println!(
        "   explanation of benefit:\n   {}",
        claims::explanation_of_benefit(&stored, 2).replace('\n', "\n   ")
    );
    let mri_claim = ClaimSubmitArgs {
        billed: 75_000,
        document_commitment: digest(b"encrypted claim document: MRI"),
        expected_terms: mri_terms,
        ..visit_claim
    };
    show(
        "clinic bills an MRI: the rule needs prior authorization, so it waits for review",
        &env.send(
            ix::ClaimSubmit {
                provider: clinic.pubkey(),
                keys,
                record: current,
                rule_key: mri,
                payee: clinic_tokens,
                care,
                args: mri_claim,
            }
            .instruction(),
            &[&clinic],
        )
        .await?,
    );
    let claim = pda::claim(&keys.policy, &clinic.pubkey(), &mri, day).0;
    let stored: Claim = env.client.fetch(&claim).await?;
    // what the rule allows now, by the program's own function
    let policy: Policy = env.client.fetch(&keys.policy).await?;
    let allowed = adjudicate(&mri_terms, 1, 75_000, policy.balances()).benefit;
    show(
        "insurer approves what the rule allows; paid in the same instruction",
        &env.send(
            ix::ClaimReview {
                keys,
                claim,
                rule_key: stored.rule_key,
                payee: clinic_tokens,
                decision: ReviewDecision::Approve { amount: allowed },
            }
            .instruction(),
            &[&insurer],
        )
        .await?,
    );
    let stored: Claim = env.client.fetch(&claim).await?;
    println!(
        "   explanation of benefit:\n   {}",
        claims::explanation_of_benefit(&stored, 2).replace('\n', "\n   ")
    );
    println!(
        "   clinic's token balance: {}",
        claims::format_amount(env.balance(&clinic_tokens).await, 2)
    );

    // ------------------------------------------------------------ research rewards
    let sponsor = env.verified_provider(ROLE_RESEARCHER).await;
    println!("\n== research sponsor {} verified", sponsor.pubkey());
    let sponsor_tokens = env.token_account(&mint, &sponsor.pubkey()).await;
    env.mint_to(&mint, &mint_authority, &sponsor_tokens, 100_000)
        .await;
    let study = StudyKeys::new(&sponsor.pubkey(), 1, &mint);
    let now = env.now().await;
    show(
        "sponsor opens a study: 5.00 at enrolment, 2.50 a week for 4 weeks while consent lasts",
        &env.send(
            ix::StudyCreate {
                keys: study,
                args: StudyCreateArgs {
                    study_id: 1,
                    terms: RewardTerms {
                        enrolment_reward: 500,
                        period_reward: 250,
                        period_secs: 7 * DAY as u32,
                        periods: 4,
                    },
                    classes: RecordClass::LabResult.bit(),
                    data_use_code: 7,
                    enrol_start: now,
                    enrol_end: now + 30 * DAY,
                    max_participants: 100,
                },
            }
            .instruction(),
            &[&sponsor],
        )
        .await?,
    );
    show(
        "sponsor escrows 300.00 in the study vault",
        &env.send(
            ix::StudyFund {
                funder: sponsor.pubkey(),
                keys: study,
                source: sponsor_tokens,
                amount: 30_000,
            }
            .instruction(),
            &[&sponsor],
        )
        .await?,
    );
    let (protocol, outcomes) = trials::register(&env, &sponsor, &study).await?;
    show(
        "sponsor finds the patient eligible and invites them (invitation valid 14 days)",
        &env.send(
            ix::InvitationCreate {
                inviter: sponsor.pubkey(),
                keys: study,
                patient_wallet: wallet,
                expires_at: env.now().await + 14 * DAY,
            }
            .instruction(),
            &[&sponsor],
        )
        .await?,
    );
    let enrol = ix::StudyEnrollWithGrant {
        authority: wallet,
        patient_wallet: wallet,
        keys: study,
        protocol,
        classes: RecordClass::LabResult.bit(),
        expires_at: env.now().await + 365 * DAY,
    }
    .instructions();
    show(
        "patient grants research access to lab results and enrols, in one transaction",
        &env.send_all(&enrol, &[&patient]).await?,
    );
    env.set_clock(env.now().await + 14 * DAY).await;
    println!("\n== two weeks pass");
    let patient_tokens = pda::associated_token(&wallet, &mint);
    show(
        "patient collects the weekly rewards due so far",
        &env.send(
            ix::RewardClaim {
                authority: wallet,
                patient_wallet: wallet,
                keys: study,
                patient_tokens,
                next_material: None,
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );
    for line in env.client.rewards_summary(&wallet).await? {
        println!(
            "   rewards: received {}, collectable now {}, still to come while consent lasts {}",
            claims::format_amount(line.paid, 2),
            claims::format_amount(line.claimable, 2),
            claims::format_amount(line.upcoming, 2)
        );
    }

    trials::story(&env, &sponsor, &patient, &study, &outcomes).await?;

    let gateway = records::start(&env, &patient, &clinic).await?;
    let title = "clinic logs a read of the lab result and asks the gateway for it";
    gateway.fetch(title, &env, &wallet, &clinic).await?;

    show(
        "patient revokes the clinic's grant",
        &env.send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant,
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );
    show(
        "clinic tries to read again: refused, and the refusal is on the record",
        &env.send(
            ix::AccessLog {
                grantee: clinic.pubkey(),
                patient_wallet: wallet,
                grant,
                record,
                args: read,
            }
            .instruction(),
            &[&clinic],
        )
        .await?,
    );
    let title = "after the revocation the clinic asks for the lab result again";
    gateway.fetch(title, &env, &wallet, &clinic).await?;
    drop(gateway);
    show(
        "patient revokes everything at once",
        &env.send(
            ix::GrantRevokeAll {
                authority: wallet,
                patient_wallet: wallet,
            }
            .instruction(),
            &[&patient],
        )
        .await?,
    );

    let records = env.client.records_by_patient(&wallet).await?;
    println!("\n== lineage of the patient's records");
    for (address, r) in records {
        println!(
            "   #{} v{} {:?} {} {}",
            r.index,
            r.version,
            r.status,
            cid::cid_to_string(&r.cid),
            address
        );
    }
    supply::story(&env).await?;
    println!("\ndone: every step above is an on-chain audit event an auditor can export.");
    Ok(())
}
