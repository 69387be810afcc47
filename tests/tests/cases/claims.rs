//! Claims scenarios through the SDK: automatic payment, the annual cap, review, denial and
//! appeal, cancellation, owed claims settled after funding, and every rejection with its exact
//! error and unchanged accounts.
use careledger_sdk::claims::{reason, rule_key, service_day};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, PolicyKeys};
use careledger_sdk::{action, pda, CareledgerError as E, CareledgerEvent};
use careledger_sdk::{
    Claim, ClaimState, ClaimSubmitArgs, Policy, PolicyCreateArgs, Purpose, ReviewDecision,
    RuleTerms, ROLE_CLINICIAN,
};
use careledger_tests::{skip_unless_own_cluster, ClaimsScene, ClaimsSetup, DAY};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

const SECRET: [u8; 32] = [42; 32];

fn office_visit() -> [u8; 32] {
    rule_key(&SECRET, "CPT", "99213", "")
}

fn terms(allowed_per_unit: u64, copay: u64, coinsurance_bps: u16) -> RuleTerms {
    RuleTerms {
        allowed_per_unit,
        copay,
        coinsurance_bps,
        max_units_per_claim: 4,
        max_claims_per_period: 10,
        prior_auth_required: false,
    }
}

/// The claims suite's scene: `ClaimsScene` with the clinic's payee account and the insurer's
/// tokens, the vault funded through `policy_fund`.
struct Fx {
    scene: ClaimsScene,
    payee: Pubkey,
    insurer_tokens: Pubkey,
}

impl std::ops::Deref for Fx {
    type Target = ClaimsScene;
    fn deref(&self) -> &ClaimsScene {
        &self.scene
    }
}

/// A verified clinic and insurer, a patient with a lab record and a payment grant to the
/// insurer, a policy (cap and deductible given) with one rule, funded with `funding`.
async fn fixture(cap: u64, deductible: u64, rule_terms: RuleTerms, funding: u64) -> Fx {
    // the care begins 10 days before the record: on a localnet, one of the scenario's own
    careledger_tests::prefer_own_cluster().await;
    let setup = ClaimsSetup {
        policy_id: 7,
        benefit_cap: cap,
        deductible,
        network_only: false,
        coverage_days: 335,
        rule_key: office_visit(),
        terms: rule_terms,
        grant_classes: u16::MAX,
        // the clinic has treated the patient for ten days when the lab result is anchored, so
        // that it can bill services of those days too
        care_days_before_record: Some(10),
    };
    let scene = ClaimsScene::new(setup).await;
    let (env, mint) = (&scene.env, scene.keys.mint);
    let insurer_tokens = env.token_account(&mint, &scene.insurer.pubkey()).await;
    env.mint_to(&mint, &scene.mint_authority, &insurer_tokens, 1_000_000)
        .await;
    let payee = env.token_account(&mint, &scene.clinic.pubkey()).await;
    if funding > 0 {
        let fund = ix::PolicyFund {
            funder: scene.insurer.pubkey(),
            keys: scene.keys,
            source: insurer_tokens,
            amount: funding,
        };
        env.send(fund.instruction(), &[&scene.insurer])
            .await
            .expect("fund");
    }
    Fx {
        scene,
        payee,
        insurer_tokens,
    }
}

impl Fx {
    /// A claim for today under the rule's current terms (as a provider's preview shows them).
    async fn args(&self, units: u16, billed: u64) -> ClaimSubmitArgs {
        ClaimSubmitArgs {
            units,
            billed,
            service_date: service_day(self.env.now().await),
            document_commitment: [9; 32],
            expected_terms: self.rule_terms().await,
        }
    }

    async fn rule_terms(&self) -> RuleTerms {
        let rule = pda::rule(&self.keys.policy, &self.rule).0;
        let rule: careledger_sdk::CoverageRule = self.env.client.fetch(&rule).await.expect("rule");
        rule.terms
    }

    fn submit_ix(&self, args: ClaimSubmitArgs) -> Instruction {
        ix::ClaimSubmit {
            provider: self.clinic.pubkey(),
            keys: self.keys,
            record: self.record,
            rule_key: self.rule,
            payee: self.payee,
            care: ix::CareBasis::Grant(Purpose::Treatment),
            args,
        }
        .instruction()
    }

    fn claim_address(&self, args: &ClaimSubmitArgs) -> Pubkey {
        pda::claim(
            &self.keys.policy,
            &self.clinic.pubkey(),
            &self.rule,
            args.service_date,
        )
        .0
    }

    /// Submits and returns the claim address and the events.
    async fn submit(&self, args: ClaimSubmitArgs) -> (Pubkey, Vec<CareledgerEvent>) {
        let address = self.claim_address(&args);
        let out = self
            .env
            .send(self.submit_ix(args), &[&self.clinic])
            .await
            .expect("claim submit");
        (address, out.events)
    }

    async fn claim(&self, address: &Pubkey) -> Claim {
        self.env.client.fetch(address).await.expect("claim")
    }

    async fn policy(&self) -> Policy {
        self.env
            .client
            .fetch(&self.keys.policy)
            .await
            .expect("policy")
    }

    /// Everything a rejected claim call could touch.
    fn watched(&self, claim: Pubkey) -> Vec<Pubkey> {
        vec![
            self.keys.policy,
            self.keys.vault,
            pda::rule(&self.keys.policy, &self.rule).0,
            claim,
            self.payee,
        ]
    }

    async fn expect_submit_rejected(&self, args: ClaimSubmitArgs, expected: E) {
        let claim = self.claim_address(&args);
        let watched = self.watched(claim);
        self.env
            .expect_rejected(self.submit_ix(args), &[&self.clinic], expected, &watched)
            .await;
    }

    /// Token conservation: everything funded is in the vault or was paid or withdrawn.
    async fn assert_conserved(&self) {
        let p = self.policy().await;
        assert_eq!(
            p.funded,
            self.env.balance(&self.keys.vault).await + p.paid + p.withdrawn,
            "tokens leaked"
        );
    }

    async fn review(&self, claim: &Pubkey, decision: ReviewDecision) -> Vec<CareledgerEvent> {
        let state = self.claim(claim).await;
        self.env
            .send(
                ix::ClaimReview {
                    keys: self.keys,
                    claim: *claim,
                    rule_key: state.rule_key,
                    payee: self.payee,
                    decision,
                }
                .instruction(),
                &[&self.insurer],
            )
            .await
            .expect("review")
            .events
    }
}

fn adjudicated(events: &[CareledgerEvent]) -> careledger_sdk::program::events::ClaimAdjudicated {
    events
        .iter()
        .find_map(|e| match e {
            CareledgerEvent::ClaimAdjudicated(a) => Some(a.clone()),
            _ => None,
        })
        .expect("a ClaimAdjudicated event")
}

fn paid_amount(events: &[CareledgerEvent]) -> Option<u64> {
    events.iter().find_map(|e| match e {
        CareledgerEvent::ClaimPaid(p) => Some(p.amount),
        _ => None,
    })
}

#[tokio::test]
async fn matching_claim_is_adjudicated_and_paid_in_one_instruction() {
    // allowed 200/unit, copay 20, coinsurance 20 %, deductible 100
    let fx = fixture(10_000, 100, terms(200, 20, 2000), 5_000).await;
    let args = fx.args(2, 500).await;
    let (claim, events) = fx.submit(args).await;
    let names: Vec<_> = events.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["ClaimSubmitted", "ClaimAdjudicated", "ClaimPaid"]);
    let a = adjudicated(&events);
    assert_eq!(a.state, ClaimState::Approved);
    assert_eq!(a.by, careledger_sdk::program::ID);
    // eligible 400 = 100 deductible + 20 copay + 56 coinsurance + 224 paid
    assert_eq!(
        (
            a.breakdown.eligible,
            a.breakdown.deductible_applied,
            a.breakdown.copay,
            a.breakdown.coinsurance,
            a.breakdown.benefit
        ),
        (400, 100, 20, 56, 224)
    );
    assert_eq!(paid_amount(&events), Some(224));
    assert_eq!(fx.env.balance(&fx.payee).await, 224);
    let stored = fx.claim(&claim).await;
    assert_eq!(stored.state, ClaimState::Paid);
    let p = fx.policy().await;
    assert_eq!(
        (p.deductible_met, p.benefit_used, p.owed, p.paid),
        (100, 224, 0, 224)
    );
    fx.assert_conserved().await;
    // the patient's explanation of benefit says the same in words
    let eob = careledger_sdk::claims::explanation_of_benefit(&stored, 2);
    assert!(eob.contains("Billed 5.00: paid to the provider"), "{eob}");
    assert!(eob.contains("You owe 1.76"), "{eob}");
    assert!(eob.contains("Your plan pays 2.24"), "{eob}");
    // listings
    let by_provider = fx
        .env
        .client
        .claims(
            careledger_sdk::client::ClaimsOf::Provider(fx.clinic.pubkey()),
            Some(ClaimState::Paid),
        )
        .await
        .unwrap();
    assert_eq!(by_provider.len(), 1);
    let pending = fx
        .env
        .client
        .claims(
            careledger_sdk::client::ClaimsOf::Patient(fx.patient.pubkey()),
            Some(ClaimState::PendingReview),
        )
        .await
        .unwrap();
    assert!(pending.is_empty());
}

#[tokio::test]
async fn a_claim_inside_the_deductible_is_approved_without_a_transfer() {
    // allowed 200, all of it inside the 1,000 deductible: the member pays everything
    let fx = fixture(10_000, 1_000, terms(200, 20, 2000), 5_000).await;
    let vault = fx.env.balance(&fx.keys.vault).await;
    let (claim, events) = fx.submit(fx.args(1, 200).await).await;
    let names: Vec<_> = events.iter().map(|e| e.name()).collect();
    assert_eq!(names, ["ClaimSubmitted", "ClaimAdjudicated"]);
    let stored = fx.claim(&claim).await;
    assert_eq!(stored.state, ClaimState::Approved);
    assert_eq!(stored.breakdown.deductible_applied, 200);
    assert_eq!(stored.breakdown.benefit, 0);
    assert_eq!(fx.env.balance(&fx.keys.vault).await, vault);
    let p = fx.policy().await;
    assert_eq!((p.deductible_met, p.owed, p.paid), (200, 0, 0));
    // the patient is not told a payment is pending
    let eob = careledger_sdk::claims::explanation_of_benefit(&stored, 2);
    assert!(
        eob.starts_with("Billed 2.00: approved, nothing for the plan to pay."),
        "{eob}"
    );
    assert!(eob.contains("You owe 2.00"), "{eob}");
    // and the FHIR export says the same
    let bundle = fx
        .env
        .client
        .audit_bundle(&fx.patient.pubkey(), &events)
        .await
        .unwrap();
    let response = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "ClaimResponse")
        .expect("claim response");
    assert_eq!(response["disposition"], "approved, nothing to pay");
    assert!(response.get("payment").is_none());
    // nothing is owed, so there is nothing to settle
    let settle = ix::ClaimSettle {
        payer: fx.clinic.pubkey(),
        keys: fx.keys,
        claim,
        payee: fx.payee,
    }
    .instruction();
    let watched = fx.watched(claim);
    fx.env
        .expect_rejected(settle, &[&fx.clinic], E::ClaimNotOwed, &watched)
        .await;
}

#[tokio::test]
async fn the_annual_cap_makes_a_claim_partial_then_denies() {
    let fx = fixture(300, 0, terms(250, 0, 0), 5_000).await;
    let args = fx.args(1, 250).await;
    let (_, events) = fx.submit(args.clone()).await;
    assert_eq!(adjudicated(&events).state, ClaimState::Approved);
    // the same service on earlier days: one claim per service day (the duplicate key)
    let day_before = |days: i64| ClaimSubmitArgs {
        service_date: args.service_date - days * DAY,
        ..args.clone()
    };
    let (claim, events) = fx.submit(day_before(1)).await;
    let a = adjudicated(&events);
    assert_eq!(
        (a.state, a.breakdown.benefit, a.breakdown.capped),
        (ClaimState::Partial, 50, true)
    );
    assert_eq!(paid_amount(&events), Some(50));
    assert_eq!(fx.claim(&claim).await.state, ClaimState::Paid);
    let before = fx.env.balance(&fx.payee).await;
    let (claim, events) = fx.submit(day_before(2)).await;
    let a = adjudicated(&events);
    assert_eq!(
        (a.state, a.reason_code),
        (ClaimState::Denied, reason::BENEFIT_CAP_EXHAUSTED)
    );
    assert_eq!(paid_amount(&events), None);
    assert_eq!(fx.env.balance(&fx.payee).await, before);
    assert_eq!(fx.claim(&claim).await.state, ClaimState::Denied);
    let p = fx.policy().await;
    assert_eq!((p.benefit_used, p.owed), (300, 0));
    fx.assert_conserved().await;
}

#[tokio::test]
async fn claim_review_of_a_prior_authorization_then_approval_pays() {
    let rule = RuleTerms {
        prior_auth_required: true,
        ..terms(100, 0, 0)
    };
    let fx = fixture(10_000, 0, rule, 5_000).await;
    let (claim, events) = fx.submit(fx.args(1, 100).await).await;
    let a = adjudicated(&events);
    assert_eq!(
        (a.state, a.reason_code),
        (ClaimState::PendingReview, reason::PRIOR_AUTH_REQUIRED)
    );
    assert_eq!(paid_amount(&events), None);
    assert_eq!(fx.policy().await.pending_review, 1);
    let state = fx.claim(&claim).await;
    // more than the rule allows, and by someone who is not the insurer
    fx.env
        .expect_rejected(
            ix::ClaimReview {
                keys: fx.keys,
                claim,
                rule_key: state.rule_key,
                payee: fx.payee,
                decision: ReviewDecision::Approve { amount: 101 },
            }
            .instruction(),
            &[&fx.insurer],
            E::ApprovalExceedsRule,
            &fx.watched(claim),
        )
        .await;
    let impostor = PolicyKeys {
        insurer: fx.clinic.pubkey(),
        ..fx.keys
    };
    fx.env
        .expect_rejected(
            ix::ClaimReview {
                keys: impostor,
                claim,
                rule_key: state.rule_key,
                payee: fx.payee,
                decision: ReviewDecision::Approve { amount: 100 },
            }
            .instruction(),
            &[&fx.clinic],
            E::NotPolicyInsurer,
            &fx.watched(claim),
        )
        .await;
    let events = fx
        .review(&claim, ReviewDecision::Approve { amount: 100 })
        .await;
    assert_eq!(adjudicated(&events).state, ClaimState::Approved);
    assert_eq!(adjudicated(&events).by, fx.insurer.pubkey());
    assert_eq!(paid_amount(&events), Some(100));
    assert_eq!(fx.claim(&claim).await.state, ClaimState::Paid);
    assert_eq!(fx.policy().await.pending_review, 0);
    fx.env
        .expect_rejected(
            ix::ClaimReview {
                keys: fx.keys,
                claim,
                rule_key: state.rule_key,
                payee: fx.payee,
                decision: ReviewDecision::Approve { amount: 1 },
            }
            .instruction(),
            &[&fx.insurer],
            E::ClaimNotPendingReview,
            &fx.watched(claim),
        )
        .await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn claim_appeal_of_a_denial_once_then_approved() {
    let rule = RuleTerms {
        max_units_per_claim: 1,
        ..terms(100, 0, 0)
    };
    let fx = fixture(10_000, 0, rule, 5_000).await;
    let (claim, events) = fx.submit(fx.args(3, 300).await).await;
    assert_eq!(adjudicated(&events).reason_code, reason::UNITS_OVER_LIMIT);
    let state = fx.claim(&claim).await;
    fx.env
        .expect_rejected(
            ix::ClaimReview {
                keys: fx.keys,
                claim,
                rule_key: state.rule_key,
                payee: fx.payee,
                decision: ReviewDecision::Deny { reason_code: 0 },
            }
            .instruction(),
            &[&fx.insurer],
            E::MissingReasonCode,
            &fx.watched(claim),
        )
        .await;
    let events = fx
        .review(&claim, ReviewDecision::Deny { reason_code: 77 })
        .await;
    assert_eq!(
        (adjudicated(&events).state, adjudicated(&events).reason_code),
        (ClaimState::Denied, 77)
    );
    let stranger = fx.env.verified_provider(ROLE_CLINICIAN).await;
    fx.env
        .expect_rejected(
            ix::ClaimAppeal {
                provider: stranger.pubkey(),
                keys: fx.keys,
                claim,
            }
            .instruction(),
            &[&stranger],
            E::NotClaimProvider,
            &fx.watched(claim),
        )
        .await;
    let out = fx
        .env
        .send(
            ix::ClaimAppeal {
                provider: fx.clinic.pubkey(),
                keys: fx.keys,
                claim,
            }
            .instruction(),
            &[&fx.clinic],
        )
        .await
        .unwrap();
    assert!(matches!(&out.events[0], CareledgerEvent::ClaimAppealed(a) if a.denial_reason == 77));
    assert_eq!(fx.claim(&claim).await.state, ClaimState::PendingReview);
    fx.review(&claim, ReviewDecision::Deny { reason_code: 78 })
        .await;
    // one appeal only
    fx.env
        .expect_rejected(
            ix::ClaimAppeal {
                provider: fx.clinic.pubkey(),
                keys: fx.keys,
                claim,
            }
            .instruction(),
            &[&fx.clinic],
            E::NotAppealable,
            &fx.watched(claim),
        )
        .await;
    // a fresh claim (another day) goes through deny, appeal, approve
    let mut args = fx.args(3, 300).await;
    args.service_date -= DAY;
    let (claim, _) = fx.submit(args).await;
    fx.review(&claim, ReviewDecision::Deny { reason_code: 77 })
        .await;
    fx.env
        .send(
            ix::ClaimAppeal {
                provider: fx.clinic.pubkey(),
                keys: fx.keys,
                claim,
            }
            .instruction(),
            &[&fx.clinic],
        )
        .await
        .unwrap();
    // partial approval: 250 of the 300 the rule allows
    let events = fx
        .review(&claim, ReviewDecision::Approve { amount: 250 })
        .await;
    assert_eq!(adjudicated(&events).state, ClaimState::Partial);
    assert_eq!(paid_amount(&events), Some(250));
    fx.assert_conserved().await;
}

#[tokio::test]
async fn claim_cancel_before_payment_releases_the_owed_benefit() {
    let fx = fixture(10_000, 0, terms(100, 0, 0), 0).await;
    // unfunded vault: approved and owed
    let (claim, events) = fx.submit(fx.args(1, 100).await).await;
    assert_eq!(adjudicated(&events).state, ClaimState::Approved);
    assert_eq!(paid_amount(&events), None);
    let p = fx.policy().await;
    assert_eq!((p.owed, p.benefit_used), (100, 100));
    let stranger = fx.env.verified_provider(ROLE_CLINICIAN).await;
    fx.env
        .expect_rejected(
            ix::ClaimCancel {
                provider: stranger.pubkey(),
                keys: fx.keys,
                claim,
                rule_key: fx.rule,
            }
            .instruction(),
            &[&stranger],
            E::NotClaimProvider,
            &fx.watched(claim),
        )
        .await;
    let out = fx
        .env
        .send(
            ix::ClaimCancel {
                provider: fx.clinic.pubkey(),
                keys: fx.keys,
                claim,
                rule_key: fx.rule,
            }
            .instruction(),
            &[&fx.clinic],
        )
        .await
        .unwrap();
    assert!(matches!(&out.events[0], CareledgerEvent::ClaimCancelled(c) if c.released == 100));
    let p = fx.policy().await;
    assert_eq!((p.owed, p.benefit_used), (0, 0));
    assert_eq!(fx.claim(&claim).await.state, ClaimState::Cancelled);
    fx.env
        .expect_rejected(
            ix::ClaimCancel {
                provider: fx.clinic.pubkey(),
                keys: fx.keys,
                claim,
                rule_key: fx.rule,
            }
            .instruction(),
            &[&fx.clinic],
            E::ClaimNotCancellable,
            &fx.watched(claim),
        )
        .await;
    // the duplicate key stays taken: a cancelled claim is not billed again
    fx.expect_submit_rejected(fx.args(1, 100).await, E::DuplicateClaim)
        .await;
}

#[tokio::test]
async fn claim_settle_after_policy_fund_while_policy_withdraw_and_policy_close_wait_for_what_is_owed(
) {
    let fx = fixture(10_000, 0, terms(400, 0, 0), 100).await;
    let (claim, events) = fx.submit(fx.args(1, 400).await).await;
    assert_eq!(adjudicated(&events).state, ClaimState::Approved);
    assert_eq!(adjudicated(&events).policy_owed, 400);
    assert_eq!(paid_amount(&events), None);
    let settle = ix::ClaimSettle {
        payer: fx.clinic.pubkey(),
        keys: fx.keys,
        claim,
        payee: fx.payee,
    }
    .instruction();
    fx.env
        .expect_rejected(
            settle.clone(),
            &[&fx.clinic],
            E::VaultShort,
            &fx.watched(claim),
        )
        .await;
    // nor close the policy while a claim is owed
    fx.env
        .expect_rejected(
            ix::PolicyClose {
                keys: fx.keys,
                destination: fx.insurer_tokens,
            }
            .instruction(),
            &[&fx.insurer],
            E::PolicyHasOpenClaims,
            &fx.watched(claim),
        )
        .await;
    // the insurer cannot take back the 100 while 400 is owed
    fx.env
        .expect_rejected(
            ix::PolicyWithdraw {
                keys: fx.keys,
                destination: fx.insurer_tokens,
                amount: 1,
            }
            .instruction(),
            &[&fx.insurer],
            E::FundsOwed,
            &fx.watched(claim),
        )
        .await;
    // anyone may fund; then anyone may settle
    let donor = fx.env.actor().await;
    let donor_tokens = fx.env.token_account(&fx.keys.mint, &donor.pubkey()).await;
    fx.env
        .mint_to(&fx.keys.mint, &fx.mint_authority, &donor_tokens, 500)
        .await;
    fx.env
        .send(
            ix::PolicyFund {
                funder: donor.pubkey(),
                keys: fx.keys,
                source: donor_tokens,
                amount: 500,
            }
            .instruction(),
            &[&donor],
        )
        .await
        .unwrap();
    let out = fx.env.send(settle, &[&fx.clinic]).await.unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::ClaimPaid(p) if p.amount == 400 && p.vault_balance == 200)
    );
    assert_eq!(fx.claim(&claim).await.state, ClaimState::Paid);
    assert_eq!(fx.env.balance(&fx.payee).await, 400);
    // now 200 is free: withdrawing 201 fails, 200 works
    fx.env
        .expect_rejected(
            ix::PolicyWithdraw {
                keys: fx.keys,
                destination: fx.insurer_tokens,
                amount: 201,
            }
            .instruction(),
            &[&fx.insurer],
            E::FundsOwed,
            &fx.watched(claim),
        )
        .await;
    fx.env
        .send(
            ix::PolicyWithdraw {
                keys: fx.keys,
                destination: fx.insurer_tokens,
                amount: 200,
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    fx.assert_conserved().await;
    // a paid claim is not owed any more
    let settle_again = ix::ClaimSettle {
        payer: fx.clinic.pubkey(),
        keys: fx.keys,
        claim,
        payee: fx.payee,
    }
    .instruction();
    fx.env
        .expect_rejected(
            settle_again,
            &[&fx.clinic],
            E::ClaimNotOwed,
            &fx.watched(claim),
        )
        .await;
    // nothing owed or pending: the policy closes; its vault stays, empty
    fx.env
        .send(
            ix::PolicyClose {
                keys: fx.keys,
                destination: fx.insurer_tokens,
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    assert_eq!(fx.env.balance(&fx.keys.vault).await, 0);
    assert_eq!(
        fx.policy().await.status,
        careledger_sdk::PolicyStatus::Closed
    );
    // a closed policy takes no new rules, funds or claims, and does not close twice
    let key = rule_key(&SECRET, "CPT", "80053", "");
    fx.env
        .expect_rejected(
            ix::RuleAdd {
                keys: fx.keys,
                rule_key: key,
                terms: terms(1, 0, 0),
            }
            .instruction(),
            &[&fx.insurer],
            E::PolicyNotActive,
            &[pda::rule(&fx.keys.policy, &key).0, fx.keys.policy],
        )
        .await;
    fx.env
        .expect_rejected(
            ix::PolicyFund {
                funder: fx.insurer.pubkey(),
                keys: fx.keys,
                source: fx.insurer_tokens,
                amount: 1,
            }
            .instruction(),
            &[&fx.insurer],
            E::PolicyNotActive,
            &[fx.keys.policy, fx.keys.vault],
        )
        .await;
    fx.env
        .expect_rejected(
            ix::PolicyClose {
                keys: fx.keys,
                destination: fx.insurer_tokens,
            }
            .instruction(),
            &[&fx.insurer],
            E::PolicyNotActive,
            &[fx.keys.policy, fx.keys.vault],
        )
        .await;
    let mut args = fx.args(1, 400).await;
    args.service_date -= DAY;
    fx.expect_submit_rejected(args, E::PolicyNotActive).await;
}

#[tokio::test]
async fn submit_needs_the_patients_payment_consent() {
    if skip_unless_own_cluster("moves the clock past the grant's expiry").await {
        return;
    }
    let fx = fixture(10_000, 0, terms(100, 0, 0), 1_000).await;
    let args = fx.args(1, 100).await;
    let patient = fx.patient.pubkey();
    let grant = pda::grant(&patient, &fx.insurer.pubkey(), Purpose::Payment).0;
    // revoked
    fx.env
        .send(
            ix::GrantRevoke {
                authority: patient,
                patient_wallet: patient,
                grant,
            }
            .instruction(),
            &[&fx.patient],
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(args.clone(), E::GrantRevoked)
        .await;
    // closed: no grant at all
    fx.env
        .send(
            ix::GrantClose {
                authority: patient,
                patient_wallet: patient,
                grant,
                rent_to: patient,
            }
            .instruction(),
            &[&fx.patient],
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(args.clone(), E::NoPaymentConsent)
        .await;
    // an insurer holds no care role: it cannot even be given a treatment grant, and so no
    // treatment grant stands in for consent to disclose for payment
    let treatment = fx
        .env
        .grant(
            &fx.patient,
            &fx.insurer.pubkey(),
            Purpose::Treatment,
            u16::MAX,
            action::READ,
            30,
        )
        .await
        .unwrap_err();
    assert_eq!(treatment.program_error(), Some(E::PurposeNotForRoles));
    fx.expect_submit_rejected(args.clone(), E::NoPaymentConsent)
        .await;
    // a payment grant of another class does not cover the lab record
    fx.env
        .grant(
            &fx.patient,
            &fx.insurer.pubkey(),
            Purpose::Payment,
            RecordClass::Imaging.bit(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(args.clone(), E::ClassNotGranted)
        .await;
    // older epoch: revoke_all voids it (and the clinic's treatment grant, which the patient
    // then gives again so that only the payment consent is missing)
    fx.env
        .send(
            ix::GrantRevokeAll {
                authority: patient,
                patient_wallet: patient,
            }
            .instruction(),
            &[&fx.patient],
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(args.clone(), E::NoCareRelationship)
        .await;
    let treatment = pda::grant(&patient, &fx.clinic.pubkey(), Purpose::Treatment).0;
    fx.env
        .send(
            ix::GrantClose {
                authority: patient,
                patient_wallet: patient,
                grant: treatment,
                rent_to: patient,
            }
            .instruction(),
            &[&fx.patient],
        )
        .await
        .unwrap();
    fx.env
        .grant(
            &fx.patient,
            &fx.clinic.pubkey(),
            Purpose::Treatment,
            u16::MAX,
            action::READ,
            30,
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(args.clone(), E::GrantStaleEpoch)
        .await;
    // expired: a fresh grant for a day, then the clock moves past it
    fx.env
        .send(
            ix::GrantRevoke {
                authority: patient,
                patient_wallet: patient,
                grant,
            }
            .instruction(),
            &[&fx.patient],
        )
        .await
        .ok();
    fx.env
        .send(
            ix::GrantClose {
                authority: patient,
                patient_wallet: patient,
                grant,
                rent_to: patient,
            }
            .instruction(),
            &[&fx.patient],
        )
        .await
        .unwrap();
    fx.env
        .grant(
            &fx.patient,
            &fx.insurer.pubkey(),
            Purpose::Payment,
            u16::MAX,
            action::READ,
            1,
        )
        .await
        .unwrap();
    fx.env.set_clock(fx.env.now().await + 2 * DAY).await;
    // the same service as above (documented by the record, under the live treatment grant)
    fx.expect_submit_rejected(args, E::GrantExpired).await;
}

#[tokio::test]
async fn claim_submit_rejections_including_after_rule_retire_leave_everything_unchanged() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let fx = fixture(10_000, 0, terms(100, 0, 0), 1_000).await;
    let args = fx.args(1, 100).await;
    // bad inputs
    let cases = [
        (
            ClaimSubmitArgs {
                units: 0,
                ..args.clone()
            },
            E::InvalidClaimInput,
        ),
        (
            ClaimSubmitArgs {
                billed: 0,
                ..args.clone()
            },
            E::InvalidClaimInput,
        ),
        (
            ClaimSubmitArgs {
                document_commitment: [0; 32],
                ..args.clone()
            },
            E::InvalidClaimInput,
        ),
        (
            ClaimSubmitArgs {
                service_date: args.service_date + 1,
                ..args.clone()
            },
            E::InvalidServiceDate,
        ),
        (
            ClaimSubmitArgs {
                service_date: args.service_date + DAY,
                ..args.clone()
            },
            E::InvalidServiceDate,
        ),
        (
            ClaimSubmitArgs {
                service_date: args.service_date - 40 * DAY,
                ..args.clone()
            },
            E::ServiceDateOutsideCoverage,
        ),
    ];
    for (bad, expected) in cases {
        fx.expect_submit_rejected(bad, expected).await;
    }
    // patient mismatch: another patient's account in the patient slot
    let other = fx.env.register_patient().await;
    let mut wrong_patient = fx.submit_ix(args.clone());
    careledger_tests::swap_account(
        &mut wrong_patient,
        &pda::patient(&fx.keys.patient).0,
        pda::patient(&other.pubkey()).0,
    );
    let watched = fx.watched(fx.claim_address(&args));
    fx.env
        .expect_rejected(
            wrong_patient,
            &[&fx.clinic],
            E::PolicyPatientMismatch,
            &watched,
        )
        .await;
    // a record of another patient
    let foreign = fx
        .env
        .anchor_as_patient(&other, RecordClass::LabResult.id(), 5)
        .await;
    let mut fx = fx;
    fx.scene.record = foreign;
    fx.expect_submit_rejected(args.clone(), E::RecordPatientMismatch)
        .await;
    let own = pda::record(&fx.patient.pubkey(), 0).0;
    fx.scene.record = own;
    // a payee in another mint, a payee owned by someone else, a foreign vault
    let (other_mint, _) = fx.env.mint(2).await;
    let wrong_mint_payee = fx.env.token_account(&other_mint, &fx.clinic.pubkey()).await;
    let fx2 = Fx {
        payee: wrong_mint_payee,
        ..fx
    };
    fx2.expect_submit_rejected(args.clone(), E::WrongMint).await;
    let fx = Fx {
        payee: fx2.insurer_tokens,
        ..fx2
    };
    fx.expect_submit_rejected(args.clone(), E::PayeeNotProvider)
        .await;
    let clinic_payee = fx
        .env
        .token_account(&fx.keys.mint, &fx.clinic.pubkey())
        .await;
    let fx = Fx {
        payee: clinic_payee,
        ..fx
    };
    let mut foreign_vault = fx.submit_ix(args.clone());
    careledger_tests::swap_account(&mut foreign_vault, &fx.keys.vault, fx.insurer_tokens);
    let watched = fx.watched(fx.claim_address(&args));
    fx.env
        .expect_rejected(foreign_vault, &[&fx.clinic], E::ForeignVault, &watched)
        .await;
    // unverified and suspended providers
    let unverified = fx.env.actor().await;
    fx.env
        .send(
            ix::ProviderRegister {
                wallet: unverified.pubkey(),
                args: careledger_sdk::ProviderRegisterArgs {
                    supply_roles: 0,
                    roles: ROLE_CLINICIAN,
                    credential_ref: [3; 32],
                },
            }
            .instruction(),
            &[&unverified],
        )
        .await
        .unwrap();
    let unverified_payee = fx
        .env
        .token_account(&fx.keys.mint, &unverified.pubkey())
        .await;
    let ixn = ix::ClaimSubmit {
        provider: unverified.pubkey(),
        keys: fx.keys,
        record: fx.record,
        rule_key: fx.rule,
        payee: unverified_payee,
        care: ix::CareBasis::AuthoredRecord,
        args: args.clone(),
    }
    .instruction();
    fx.env
        .expect_rejected(
            ixn,
            &[&unverified],
            E::ProviderNotVerified,
            &fx.watched(Pubkey::default()),
        )
        .await;
    // an insurer-only provider cannot bill
    let insurer_payee = fx.insurer_tokens;
    let ixn = ix::ClaimSubmit {
        provider: fx.insurer.pubkey(),
        keys: fx.keys,
        record: fx.record,
        rule_key: fx.rule,
        payee: insurer_payee,
        care: ix::CareBasis::AuthoredRecord,
        args: args.clone(),
    }
    .instruction();
    fx.env
        .expect_rejected(
            ixn,
            &[&fx.insurer],
            E::MissingRole,
            &fx.watched(Pubkey::default()),
        )
        .await;
    let authority = &fx.env.credential_authority;
    fx.env
        .send(
            ix::ProviderSuspend {
                authority: authority.pubkey(),
                provider_wallet: fx.clinic.pubkey(),
                reason_code: 9,
            }
            .instruction(),
            &[authority],
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(args.clone(), E::ProviderSuspended)
        .await;
    fx.env
        .verify(
            &fx.clinic.pubkey(),
            ROLE_CLINICIAN,
            fx.env.now().await + 30 * DAY,
        )
        .await
        .unwrap();
    // duplicate
    fx.submit(args.clone()).await;
    fx.expect_submit_rejected(args.clone(), E::DuplicateClaim)
        .await;
    // retired rule
    fx.env
        .send(
            ix::RuleRetire {
                keys: fx.keys,
                rule_key: fx.rule,
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    let yesterday = ClaimSubmitArgs {
        service_date: args.service_date - DAY,
        ..args.clone()
    };
    fx.expect_submit_rejected(yesterday.clone(), E::RuleRetired)
        .await;
    // suspended policy
    fx.env
        .send(
            ix::PolicySetStatus {
                keys: fx.keys,
                suspended: true,
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(yesterday.clone(), E::PolicyNotActive)
        .await;
    fx.env
        .send(
            ix::PolicySetStatus {
                keys: fx.keys,
                suspended: false,
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    let admin = &fx.env.admin;
    fx.env
        .send(
            ix::ConfigSetPaused {
                admin: admin.pubkey(),
                paused: true,
            }
            .instruction(),
            &[admin],
        )
        .await
        .unwrap();
    fx.expect_submit_rejected(yesterday, E::Paused).await;
}

#[tokio::test]
async fn policy_create_rule_add_and_policy_set_status_rules() {
    let fx = fixture(10_000, 100, terms(100, 0, 0), 0).await;
    let now = fx.env.now().await;
    let insurer = fx.insurer.pubkey();
    let bad = |start: i64, end: i64, cap: u64, deductible: u64| PolicyCreateArgs {
        policy_id: 8,
        coverage_start: start,
        coverage_end: end,
        benefit_cap: cap,
        deductible,
        network_only: false,
    };
    let keys8 = PolicyKeys::new(&insurer, 8, &fx.patient.pubkey(), &fx.keys.mint);
    let cases = [
        (bad(now, now - 1, 10, 0), E::InvalidCoveragePeriod),
        (bad(now - 20, now - 10, 10, 0), E::InvalidCoveragePeriod),
        (
            bad(now, now + 11 * 365 * DAY, 10, 0),
            E::InvalidCoveragePeriod,
        ),
        (bad(now, now + DAY, 0, 0), E::InvalidPolicyAmounts),
        (bad(now, now + DAY, 10, 11), E::InvalidPolicyAmounts),
    ];
    for (args, expected) in cases {
        fx.env
            .expect_rejected(
                ix::PolicyCreate { keys: keys8, args }.instruction(),
                &[&fx.insurer],
                expected,
                &[keys8.policy, keys8.vault],
            )
            .await;
    }
    // only a verified insurer opens policies
    let clinic_keys = PolicyKeys::new(&fx.clinic.pubkey(), 8, &fx.patient.pubkey(), &fx.keys.mint);
    fx.env
        .expect_rejected(
            ix::PolicyCreate {
                keys: clinic_keys,
                args: bad(now, now + DAY, 10, 0),
            }
            .instruction(),
            &[&fx.clinic],
            E::MissingRole,
            &[clinic_keys.policy],
        )
        .await;
    // rules: bad terms, zero key, strangers, no-op updates, old and new in the event
    let key = rule_key(&SECRET, "CPT", "80053", "");
    let rule_addr = pda::rule(&fx.keys.policy, &key).0;
    for t in [
        terms(0, 0, 0),
        terms(1, 0, 10_001),
        RuleTerms {
            max_units_per_claim: 0,
            ..terms(1, 0, 0)
        },
    ] {
        fx.env
            .expect_rejected(
                ix::RuleAdd {
                    keys: fx.keys,
                    rule_key: key,
                    terms: t,
                }
                .instruction(),
                &[&fx.insurer],
                E::InvalidRuleTerms,
                &[rule_addr],
            )
            .await;
    }
    fx.env
        .expect_rejected(
            ix::RuleAdd {
                keys: fx.keys,
                rule_key: [0; 32],
                terms: terms(1, 0, 0),
            }
            .instruction(),
            &[&fx.insurer],
            E::ZeroRuleKey,
            &[pda::rule(&fx.keys.policy, &[0; 32]).0],
        )
        .await;
    let as_clinic = PolicyKeys {
        insurer: fx.clinic.pubkey(),
        ..fx.keys
    };
    fx.env
        .expect_rejected(
            ix::RuleAdd {
                keys: as_clinic,
                rule_key: key,
                terms: terms(1, 0, 0),
            }
            .instruction(),
            &[&fx.clinic],
            E::NotPolicyInsurer,
            &[rule_addr],
        )
        .await;
    let current = pda::rule(&fx.keys.policy, &fx.rule).0;
    fx.env
        .expect_rejected(
            ix::RuleUpdate {
                keys: fx.keys,
                rule_key: fx.rule,
                terms: terms(100, 0, 0),
            }
            .instruction(),
            &[&fx.insurer],
            E::EmptyUpdate,
            &[current],
        )
        .await;
    let out = fx
        .env
        .send(
            ix::RuleUpdate {
                keys: fx.keys,
                rule_key: fx.rule,
                terms: terms(120, 5, 1000),
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::CoverageRuleUpdated(u)
        if u.old_terms == terms(100, 0, 0) && u.new_terms == terms(120, 5, 1000))
    );
    // the SDK preview runs the program's function on fresh state
    let args = fx.args(1, 200).await;
    let care = ix::CareBasis::Grant(Purpose::Treatment);
    let preview = fx
        .env
        .client
        .preview_claim(
            &fx.clinic.pubkey(),
            &fx.keys,
            &fx.record,
            &fx.rule,
            care,
            &args,
        )
        .await
        .unwrap();
    let careledger_sdk::claims::Preview::Decided { breakdown, .. } = preview else {
        panic!("expected an automatic decision, got {preview:?}");
    };
    // eligible 120: 100 deductible, 5 copay, 10 % of 15 = 1 coinsurance (floor), 14 paid
    assert_eq!(
        (
            breakdown.eligible,
            breakdown.deductible_applied,
            breakdown.copay,
            breakdown.coinsurance,
            breakdown.benefit
        ),
        (120, 100, 5, 1, 14)
    );
    // status changes: only the insurer, only active <-> suspended
    fx.env
        .expect_rejected(
            ix::PolicySetStatus {
                keys: fx.keys,
                suspended: false,
            }
            .instruction(),
            &[&fx.insurer],
            E::PolicyNotSuspendable,
            &[fx.keys.policy],
        )
        .await;
    fx.env
        .expect_rejected(
            ix::PolicySetStatus {
                keys: as_clinic,
                suspended: true,
            }
            .instruction(),
            &[&fx.clinic],
            E::NotPolicyInsurer,
            &[fx.keys.policy],
        )
        .await;
    fx.env
        .expect_rejected(
            ix::PolicyFund {
                funder: insurer,
                keys: fx.keys,
                source: fx.insurer_tokens,
                amount: 0,
            }
            .instruction(),
            &[&fx.insurer],
            E::InvalidAmount,
            &[fx.keys.policy, fx.keys.vault],
        )
        .await;
}

/// The benefit by the plain rule, written apart from the program: deductible, copay,
/// coinsurance, then the cap, in wide integers.
fn reference_benefit(
    t: &RuleTerms,
    units: u16,
    billed: u64,
    ded_left: u64,
    cap_left: u64,
) -> (u64, u64) {
    let eligible = (t.allowed_per_unit as u128 * units as u128).min(billed as u128);
    let deductible = eligible.min(ded_left as u128);
    let after_deductible = eligible - deductible;
    let after_copay = after_deductible - after_deductible.min(t.copay as u128);
    let plan_share = after_copay - after_copay * t.coinsurance_bps as u128 / 10_000;
    (plan_share.min(cap_left as u128) as u64, deductible as u64)
}

mod property {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    struct Case {
        cap: u64,
        deductible: u64,
        funding: u64,
        terms: RuleTerms,
        claims: Vec<(u16, u64)>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (1u64..5_000, 0u64..=100, 0u64..3_000)
            .prop_flat_map(|(cap, ded_pct, funding)| {
                let rule = (1u64..500, 0u64..100, 0u16..=10_000).prop_map(|(a, c, b)| RuleTerms {
                    max_units_per_claim: 4,
                    max_claims_per_period: 100,
                    ..terms(a, c, b)
                });
                let claims = prop::collection::vec((1u16..=4, 1u64..3_000), 1..=5);
                (
                    Just(cap),
                    Just(cap * ded_pct / 100),
                    Just(funding),
                    rule,
                    claims,
                )
            })
            .prop_map(|(cap, deductible, funding, terms, claims)| Case {
                cap,
                deductible,
                funding,
                terms,
                claims,
            })
    }

    async fn run(c: Case) {
        let fx = fixture(c.cap, c.deductible, c.terms, c.funding).await;
        let (mut ded_left, mut cap_left) = (c.deductible, c.cap);
        let (mut vault, mut owed, mut paid) = (c.funding, 0u64, 0u64);
        let mut owed_claims = Vec::new();
        for (i, (units, billed)) in c.claims.iter().copied().enumerate() {
            let mut args = fx.args(units, billed).await;
            args.service_date -= i as i64 * DAY;
            let (claim, events) = fx.submit(args).await;
            let (benefit, deductible) =
                reference_benefit(&c.terms, units, billed, ded_left, cap_left);
            let plan_would_pay = reference_benefit(&c.terms, units, billed, ded_left, u64::MAX).0;
            let stored = fx.claim(&claim).await;
            assert_eq!(
                stored.breakdown.benefit, benefit,
                "benefit of claim {i} in {c:?}"
            );
            let denied = cap_left == 0 && plan_would_pay > 0;
            if denied {
                assert_eq!(stored.state, ClaimState::Denied);
            } else {
                assert_eq!(stored.breakdown.deductible_applied, deductible);
                ded_left -= deductible;
                cap_left -= benefit;
                if benefit == 0 {
                    // approved, nothing to pay: no transfer, and not a Paid claim
                    assert_eq!(stored.state, ClaimState::Approved, "claim {i} in {c:?}");
                    assert_eq!(paid_amount(&events), None);
                } else if vault.saturating_sub(owed) >= benefit {
                    assert_eq!(stored.state, ClaimState::Paid, "claim {i} in {c:?}");
                    assert_eq!(paid_amount(&events).unwrap_or(0), benefit);
                    vault -= benefit;
                    paid += benefit;
                } else {
                    assert!(stored.state.is_owed(), "claim {i} in {c:?}");
                    owed += benefit;
                    owed_claims.push(claim);
                }
            }
            let p = fx.policy().await;
            assert_eq!(
                (p.owed, p.paid, p.benefit_used),
                (owed, paid, c.cap - cap_left)
            );
            assert_eq!(fx.env.balance(&fx.keys.vault).await, vault);
            fx.assert_conserved().await;
        }
        // fund what is owed, settle everything, and the books still balance
        if owed > 0 {
            fx.env
                .send(
                    ix::PolicyFund {
                        funder: fx.insurer.pubkey(),
                        keys: fx.keys,
                        source: fx.insurer_tokens,
                        amount: owed,
                    }
                    .instruction(),
                    &[&fx.insurer],
                )
                .await
                .unwrap();
            for claim in owed_claims {
                fx.env
                    .send(
                        ix::ClaimSettle {
                            payer: fx.clinic.pubkey(),
                            keys: fx.keys,
                            claim,
                            payee: fx.payee,
                        }
                        .instruction(),
                        &[&fx.clinic],
                    )
                    .await
                    .unwrap();
                fx.assert_conserved().await;
            }
            assert_eq!(fx.policy().await.owed, 0);
        }
        assert_eq!(fx.env.balance(&fx.payee).await, c.cap - cap_left);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn program_adjudication_matches_the_reference_and_conserves_tokens(c in case()) {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                // one ledger per case: a localnet of its own over JSON-RPC
                if !skip_unless_own_cluster("starts one ledger per case").await {
                    run(c).await
                }
            });
        }
    }
}

#[tokio::test]
async fn accounts_of_another_policy_are_refused() {
    let fx = fixture(10_000, 0, terms(100, 0, 0), 1_000).await;
    // a second policy of the same insurer and member, with the same rule key
    let other = PolicyKeys::new(&fx.insurer.pubkey(), 8, &fx.patient.pubkey(), &fx.keys.mint);
    let now = fx.env.now().await;
    let args = PolicyCreateArgs {
        policy_id: 8,
        coverage_start: now - 30 * DAY,
        coverage_end: now + 30 * DAY,
        benefit_cap: 1_000,
        deductible: 0,
        network_only: false,
    };
    fx.env
        .send(
            ix::PolicyCreate { keys: other, args }.instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    fx.env
        .send(
            ix::RuleAdd {
                keys: other,
                rule_key: fx.rule,
                terms: terms(100, 0, 0),
            }
            .instruction(),
            &[&fx.insurer],
        )
        .await
        .unwrap();
    // a claim on this policy under the other policy's rule
    let submit = fx.args(1, 100).await;
    let mut wrong_rule = fx.submit_ix(submit.clone());
    let rule_slot = wrong_rule
        .accounts
        .iter()
        .position(|m| m.pubkey == pda::rule(&fx.keys.policy, &fx.rule).0)
        .unwrap();
    wrong_rule.accounts[rule_slot].pubkey = pda::rule(&other.policy, &fx.rule).0;
    let watched = fx.watched(fx.claim_address(&submit));
    fx.env
        .expect_rejected(wrong_rule, &[&fx.clinic], E::RulePolicyMismatch, &watched)
        .await;
    // a claim of this policy settled against the other policy
    let (claim, _) = fx.submit(submit).await;
    let mut watched = fx.watched(claim);
    watched.extend([other.policy, other.vault]);
    fx.env
        .expect_rejected(
            ix::ClaimSettle {
                payer: fx.clinic.pubkey(),
                keys: other,
                claim,
                payee: fx.payee,
            }
            .instruction(),
            &[&fx.clinic],
            E::ClaimPolicyMismatch,
            &watched,
        )
        .await;
}

/// Every claim state × every claim instruction: each illegal pair is refused with its exact
/// error and leaves the claim, policy, rule, vault and payee byte-identical. The claim is put in
/// each state directly (the embedded bank's `set_account`); the legal pairs are the lifecycle
/// tests above (review, appeal, cancel, settle).
#[tokio::test]
async fn every_illegal_claim_transition_is_refused() {
    use anchor_lang::AccountSerialize;
    use careledger_sdk::Transport;

    if skip_unless_own_cluster("rewrites a claim's state in place").await {
        return;
    }
    let fx = fixture(10_000, 0, terms(200, 0, 0), 5_000).await;
    let args = fx.args(1, 200).await;
    let (claim, _) = fx.submit(args.clone()).await;
    let paid = fx.claim(&claim).await;
    let states = [
        (ClaimState::PendingReview, false),
        (ClaimState::Approved, false),
        (ClaimState::Partial, false),
        (ClaimState::Denied, false),
        (ClaimState::Denied, true),
        (ClaimState::Paid, false),
        (ClaimState::Cancelled, false),
    ];
    let (mut refused, mut legal) = (0, 0);
    for (state, appealed) in states {
        let mut forced = paid.clone();
        forced.state = state;
        forced.appealed = appealed;
        forced.paid_at = if state == ClaimState::Paid {
            paid.paid_at
        } else {
            0
        };
        let mut data = Vec::new();
        forced.try_serialize(&mut data).unwrap();
        let account = fx
            .env
            .client
            .transport()
            .account(&claim)
            .await
            .unwrap()
            .unwrap();
        let account = solana_account::Account { data, ..account };
        fx.env.set_account(&claim, account).await;

        let owes = state.is_owed() && forced.breakdown.benefit > 0;
        let provider = fx.clinic.pubkey();
        let approve = ReviewDecision::Approve { amount: 1 };
        let cells = [
            (
                "review",
                ix::ClaimReview {
                    keys: fx.keys,
                    claim,
                    rule_key: forced.rule_key,
                    payee: fx.payee,
                    decision: approve,
                }
                .instruction(),
                &fx.insurer,
                state == ClaimState::PendingReview,
                E::ClaimNotPendingReview,
            ),
            (
                "appeal",
                ix::ClaimAppeal {
                    provider,
                    keys: fx.keys,
                    claim,
                }
                .instruction(),
                &fx.clinic,
                state == ClaimState::Denied && !appealed,
                E::NotAppealable,
            ),
            (
                "cancel",
                ix::ClaimCancel {
                    provider,
                    keys: fx.keys,
                    claim,
                    rule_key: fx.rule,
                }
                .instruction(),
                &fx.clinic,
                matches!(
                    state,
                    ClaimState::PendingReview | ClaimState::Approved | ClaimState::Partial
                ),
                E::ClaimNotCancellable,
            ),
            (
                "settle",
                ix::ClaimSettle {
                    payer: provider,
                    keys: fx.keys,
                    claim,
                    payee: fx.payee,
                }
                .instruction(),
                &fx.clinic,
                owes,
                E::ClaimNotOwed,
            ),
            (
                "submit again",
                fx.submit_ix(args.clone()),
                &fx.clinic,
                false,
                E::DuplicateClaim,
            ),
        ];
        for (name, instruction, signer, is_legal, expected) in cells {
            if is_legal {
                legal += 1;
                continue;
            }
            let watched = fx.watched(claim);
            let before = fx.env.snapshot(&watched).await;
            let err = fx.env.send(instruction, &[signer]).await.expect_err(name);
            assert_eq!(
                err.program_error(),
                Some(expected),
                "{name} on {state:?}: {err}"
            );
            assert_eq!(
                before,
                fx.env.snapshot(&watched).await,
                "{name} on {state:?}"
            );
            refused += 1;
        }
    }
    // 7 states × 5 instructions: 7 legal pairs (review 1, appeal 1, cancel 3, settle 2)
    assert_eq!((refused, legal), (28, 7));
}
