//! Research rewards through the SDK: enrolment (of invited patients) pays at once, periodic
//! rewards accrue with the clock and stop the moment consent goes (revoke, revoke_all, expiry),
//! and every rejection leaves the accounts byte-identical.
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, StudyKeys};
use careledger_sdk::{action, pda, CareledgerError as E, CareledgerEvent, Participation, Study};
use careledger_sdk::{Purpose, RewardTerms, StudyCreateArgs, ROLE_RESEARCHER};
use careledger_tests::{skip_unless_own_cluster, Env, StudyScene, StudySetup, DAY};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

const ENROL: u64 = 100;
const PERIOD: u64 = 50;
const PERIODS: u16 = 3;

fn lab() -> u16 {
    RecordClass::LabResult.bit()
}

/// The rewards suite's study: `StudyScene` with this file's terms.
struct Fx(StudyScene);

impl std::ops::Deref for Fx {
    type Target = StudyScene;
    fn deref(&self) -> &StudyScene {
        &self.0
    }
}

async fn fixture(max_participants: u32, funding: u64) -> Fx {
    let terms = RewardTerms {
        enrolment_reward: ENROL,
        period_reward: PERIOD,
        period_secs: DAY as u32,
        periods: PERIODS,
    };
    let setup = StudySetup {
        terms,
        max_participants,
        data_use_code: 7,
        funding,
    };
    Fx(StudyScene::new(setup).await)
}

impl Fx {
    /// The sponsor invites a patient (eligibility is the sponsor's decision).
    async fn invite(&self, wallet: &Pubkey) {
        self.0
            .invite(&self.sponsor, wallet, 60)
            .await
            .expect("invite");
    }

    /// A registered, invited patient who grants research access to the lab class for `days`
    /// and enrols.
    async fn enrolled(&self, days: i64) -> Keypair {
        let (patient, out) = self.0.enrolled(days).await;
        let names: Vec<_> = out.events.iter().map(|e| e.name()).collect();
        assert_eq!(names, ["GrantCreated", "ParticipantEnrolled"]);
        patient
    }

    fn ata(&self, wallet: &Pubkey) -> Pubkey {
        pda::associated_token(wallet, &self.keys.mint)
    }

    fn claim_ix(&self, patient: &Keypair) -> solana_instruction::Instruction {
        let wallet = patient.pubkey();
        ix::RewardClaim {
            authority: wallet,
            patient_wallet: wallet,
            keys: self.keys,
            patient_tokens: self.ata(&wallet),
            next_material: None,
        }
        .instruction()
    }

    async fn claim(&self, patient: &Keypair) -> careledger_sdk::program::events::RewardPaid {
        let out = self
            .env
            .send(self.claim_ix(patient), &[patient])
            .await
            .expect("reward claim");
        match &out.events[0] {
            CareledgerEvent::RewardPaid(p) => p.clone(),
            other => panic!("expected RewardPaid, got {other:?}"),
        }
    }

    async fn study(&self) -> Study {
        self.env.client.fetch(&self.keys.study).await.unwrap()
    }

    async fn participation(&self, wallet: &Pubkey) -> Participation {
        self.env
            .client
            .fetch(&pda::participation(&self.keys.study, wallet).0)
            .await
            .unwrap()
    }

    fn watched(&self, wallet: &Pubkey) -> Vec<Pubkey> {
        vec![
            self.keys.study,
            self.keys.vault,
            pda::participation(&self.keys.study, wallet).0,
            self.ata(wallet),
        ]
    }

    async fn expect_claim_rejected(&self, patient: &Keypair, expected: E) {
        let watched = self.watched(&patient.pubkey());
        self.env
            .expect_rejected(self.claim_ix(patient), &[patient], expected, &watched)
            .await;
    }

    /// Everything funded is in the vault, or was paid or withdrawn.
    async fn assert_conserved(&self) {
        let s = self.study().await;
        let vault = self.env.balance(&self.keys.vault).await;
        assert_eq!(s.funded, vault + s.paid + s.withdrawn, "tokens leaked");
        assert!(
            vault >= s.outstanding,
            "vault below what participants can earn"
        );
    }

    async fn advance(&self, secs: i64) {
        self.env.set_clock(self.env.now().await + secs).await;
    }
}

#[tokio::test]
async fn enrolment_pays_at_once_into_a_new_associated_token_account() {
    let fx = fixture(10, 10_000).await;
    let patient = fx.enrolled(30).await;
    let wallet = patient.pubkey();
    assert_eq!(fx.env.balance(&fx.ata(&wallet)).await, ENROL);
    let s = fx.study().await;
    assert_eq!(
        (s.participants, s.outstanding, s.paid),
        (1, PERIOD * PERIODS as u64, ENROL)
    );
    let p = fx.participation(&wallet).await;
    assert_eq!((p.paid, p.periods_paid, p.ended), (ENROL, 0, false));
    assert_eq!(
        p.grant,
        pda::grant(&wallet, &fx.sponsor.pubkey(), Purpose::Research).0
    );
    fx.assert_conserved().await;
    // enrolling twice is refused
    fx.env
        .expect_rejected(
            ix::StudyEnroll {
                authority: wallet,
                patient_wallet: wallet,
                keys: fx.keys,
                protocol: fx.protocol,
            }
            .instruction(),
            &[&patient],
            E::AlreadyEnrolled,
            &fx.watched(&wallet),
        )
        .await;
    // nothing is due before the first period ends
    fx.expect_claim_rejected(&patient, E::NothingDue).await;
    let by_patient = fx
        .env
        .client
        .participations_by_patient(&wallet)
        .await
        .unwrap();
    assert_eq!(by_patient.len(), 1);
    let studies = fx
        .env
        .client
        .studies_by_sponsor(&fx.sponsor.pubkey())
        .await
        .unwrap();
    assert_eq!(studies.len(), 1);
}

#[tokio::test]
async fn periodic_rewards_accrue_with_the_clock_and_are_paid_once() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let fx = fixture(10, 10_000).await;
    let patient = fx.enrolled(30).await;
    let wallet = patient.pubkey();
    fx.advance(DAY).await;
    let paid = fx.claim(&patient).await;
    assert_eq!(
        (paid.first_period, paid.last_period, paid.amount),
        (1, 1, PERIOD)
    );
    fx.expect_claim_rejected(&patient, E::NothingDue).await;
    let summary = fx.env.client.rewards_summary(&wallet).await.unwrap();
    assert_eq!(
        (summary[0].paid, summary[0].claimable, summary[0].upcoming),
        (ENROL + PERIOD, 0, 2 * PERIOD)
    );
    // ten days later only the two remaining periods are paid
    fx.advance(10 * DAY).await;
    let paid = fx.claim(&patient).await;
    assert_eq!(
        (paid.first_period, paid.last_period, paid.amount),
        (2, 3, 2 * PERIOD)
    );
    assert_eq!(
        fx.env.balance(&fx.ata(&wallet)).await,
        ENROL + PERIODS as u64 * PERIOD
    );
    let p = fx.participation(&wallet).await;
    assert!(p.ended);
    fx.expect_claim_rejected(&patient, E::ParticipationEnded)
        .await;
    assert_eq!(fx.study().await.outstanding, 0);
    fx.assert_conserved().await;
}

#[tokio::test]
async fn revoking_stops_future_payouts_and_keeps_past_ones() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let fx = fixture(10, 10_000).await;
    let patient = fx.enrolled(30).await;
    let wallet = patient.pubkey();
    fx.advance(DAY).await;
    fx.claim(&patient).await;
    let grant = pda::grant(&wallet, &fx.sponsor.pubkey(), Purpose::Research).0;
    fx.env
        .send(
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
    fx.advance(DAY).await;
    fx.expect_claim_rejected(&patient, E::GrantRevoked).await;
    assert_eq!(fx.env.balance(&fx.ata(&wallet)).await, ENROL + PERIOD);
    // the sponsor (or anyone) releases the periods that can no longer be earned
    let caller = fx.env.actor().await;
    let live = fx.enrolled(30).await;
    fx.env
        .expect_rejected(
            ix::ParticipationEnd {
                caller: caller.pubkey(),
                patient_wallet: live.pubkey(),
                keys: fx.keys,
                next_material: None,
            }
            .instruction(),
            &[&caller],
            E::ConsentStillLive,
            &fx.watched(&live.pubkey()),
        )
        .await;
    let out = fx
        .env
        .send(
            ix::ParticipationEnd {
                caller: caller.pubkey(),
                patient_wallet: wallet,
                keys: fx.keys,
                next_material: None,
            }
            .instruction(),
            &[&caller],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::ParticipationEnded(e) if e.released == 2 * PERIOD)
    );
    assert_eq!(fx.study().await.outstanding, PERIODS as u64 * PERIOD);
    fx.expect_claim_rejected(&patient, E::ParticipationEnded)
        .await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn revoke_all_and_expiry_stop_payouts() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let fx = fixture(10, 10_000).await;
    let everything = fx.enrolled(30).await;
    let short = fx.enrolled(1).await;
    let wallet = everything.pubkey();
    fx.env
        .send(
            ix::GrantRevokeAll {
                authority: wallet,
                patient_wallet: wallet,
            }
            .instruction(),
            &[&everything],
        )
        .await
        .unwrap();
    fx.advance(DAY).await;
    fx.expect_claim_rejected(&everything, E::GrantStaleEpoch)
        .await;
    // the one-day grant expired exactly as its first period ended: that period was consented
    // throughout and is paid; nothing after it
    let paid = fx.claim(&short).await;
    assert_eq!((paid.first_period, paid.last_period), (1, 1));
    fx.advance(5 * DAY).await;
    fx.expect_claim_rejected(&short, E::GrantExpired).await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn study_enroll_and_study_withdraw_rejections() {
    let fx = fixture(1, 10_000).await;
    let patient = fx.env.register_patient().await;
    let wallet = patient.pubkey();
    fx.invite(&wallet).await;
    let enrol = ix::StudyEnroll {
        authority: wallet,
        patient_wallet: wallet,
        keys: fx.keys,
        protocol: fx.protocol,
    }
    .instruction();
    // no research grant at all
    fx.env
        .expect_rejected(
            enrol.clone(),
            &[&patient],
            E::NoResearchConsent,
            &fx.watched(&wallet),
        )
        .await;
    // a research grant for another class does not cover the study
    fx.env
        .grant(
            &patient,
            &fx.sponsor.pubkey(),
            Purpose::Research,
            RecordClass::Imaging.bit(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    fx.env
        .expect_rejected(
            enrol.clone(),
            &[&patient],
            E::GrantDoesNotCoverStudy,
            &fx.watched(&wallet),
        )
        .await;
    // a stranger cannot enrol someone else
    let stranger = fx.env.actor().await;
    fx.env
        .expect_rejected(
            ix::StudyEnroll {
                authority: stranger.pubkey(),
                patient_wallet: wallet,
                keys: fx.keys,
                protocol: fx.protocol,
            }
            .instruction(),
            &[&stranger],
            E::NotPatientOrGuardian,
            &fx.watched(&wallet),
        )
        .await;
    // a foreign vault
    let first = fx.enrolled(30).await;
    let second = fx.env.register_patient().await;
    let w2 = second.pubkey();
    fx.invite(&w2).await;
    fx.env
        .grant(
            &second,
            &fx.sponsor.pubkey(),
            Purpose::Research,
            lab(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    let mut foreign = ix::StudyEnroll {
        authority: w2,
        patient_wallet: w2,
        keys: fx.keys,
        protocol: fx.protocol,
    }
    .instruction();
    let vault_index = foreign
        .accounts
        .iter()
        .position(|m| m.pubkey == fx.keys.vault)
        .unwrap();
    foreign.accounts[vault_index].pubkey = fx.sponsor_tokens;
    fx.env
        .expect_rejected(foreign, &[&second], E::ForeignVault, &fx.watched(&w2))
        .await;
    // beyond max participants (1)
    fx.env
        .expect_rejected(
            ix::StudyEnroll {
                authority: w2,
                patient_wallet: w2,
                keys: fx.keys,
                protocol: fx.protocol,
            }
            .instruction(),
            &[&second],
            E::StudyFull,
            &fx.watched(&w2),
        )
        .await;
    // reward to a token account of another mint
    let (other_mint, _) = fx.env.mint(0).await;
    let wrong = fx.env.token_account(&other_mint, &first.pubkey()).await;
    let f = first.pubkey();
    fx.env
        .expect_rejected(
            ix::RewardClaim {
                authority: f,
                patient_wallet: f,
                keys: fx.keys,
                patient_tokens: wrong,
                next_material: None,
            }
            .instruction(),
            &[&first],
            E::WrongMint,
            &fx.watched(&f),
        )
        .await;
    // reward to somebody else's account in the right mint
    let theirs = fx.env.token_account(&fx.keys.mint, &w2).await;
    let mut watched = fx.watched(&f);
    watched.push(theirs);
    fx.env
        .expect_rejected(
            ix::RewardClaim {
                authority: f,
                patient_wallet: f,
                keys: fx.keys,
                patient_tokens: theirs,
                next_material: None,
            }
            .instruction(),
            &[&first],
            E::WrongParticipant,
            &watched,
        )
        .await;
    // the sponsor cannot withdraw while enrolment is open, nor what participants can earn
    fx.env
        .expect_rejected(
            ix::StudyWithdraw {
                keys: fx.keys,
                destination: fx.sponsor_tokens,
                amount: 1,
            }
            .instruction(),
            &[&fx.sponsor],
            E::EnrolmentStillOpen,
            &[fx.keys.study, fx.keys.vault],
        )
        .await;
    fx.env
        .send(
            ix::StudyCloseEnrolment { keys: fx.keys }.instruction(),
            &[&fx.sponsor],
        )
        .await
        .unwrap();
    let s = fx.study().await;
    let free = fx.env.balance(&fx.keys.vault).await - s.outstanding;
    fx.env
        .expect_rejected(
            ix::StudyWithdraw {
                keys: fx.keys,
                destination: fx.sponsor_tokens,
                amount: free + 1,
            }
            .instruction(),
            &[&fx.sponsor],
            E::FundsOwed,
            &[fx.keys.study, fx.keys.vault],
        )
        .await;
    fx.env
        .send(
            ix::StudyWithdraw {
                keys: fx.keys,
                destination: fx.sponsor_tokens,
                amount: free,
            }
            .instruction(),
            &[&fx.sponsor],
        )
        .await
        .unwrap();
    fx.env
        .expect_rejected(
            ix::StudyClose {
                keys: fx.keys,
                destination: fx.sponsor_tokens,
            }
            .instruction(),
            &[&fx.sponsor],
            E::StudyHasOutstanding,
            &[fx.keys.study, fx.keys.vault],
        )
        .await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn study_create_and_study_fund_rejections_window_sponsor_and_pause() {
    if skip_unless_own_cluster("moves the clock and pauses the config").await {
        return;
    }
    let fx = fixture(5, 200).await;
    // 200 does not cover one participant's 100 + 3 x 50
    let patient = fx.env.register_patient().await;
    let wallet = patient.pubkey();
    fx.invite(&wallet).await;
    fx.env
        .grant(
            &patient,
            &fx.sponsor.pubkey(),
            Purpose::Research,
            lab(),
            action::READ,
            60,
        )
        .await
        .unwrap();
    let enrol = ix::StudyEnroll {
        authority: wallet,
        patient_wallet: wallet,
        keys: fx.keys,
        protocol: fx.protocol,
    }
    .instruction();
    fx.env
        .expect_rejected(
            enrol.clone(),
            &[&patient],
            E::VaultShort,
            &fx.watched(&wallet),
        )
        .await;
    // an unverified researcher cannot open a study
    let unverified = fx.env.actor().await;
    fx.env
        .send(
            ix::ProviderRegister {
                wallet: unverified.pubkey(),
                args: careledger_sdk::ProviderRegisterArgs {
                    supply_roles: 0,
                    roles: ROLE_RESEARCHER,
                    credential_ref: [4; 32],
                },
            }
            .instruction(),
            &[&unverified],
        )
        .await
        .unwrap();
    let keys = StudyKeys::new(&unverified.pubkey(), 2, &fx.keys.mint);
    let now = fx.env.now().await;
    let args = StudyCreateArgs {
        study_id: 2,
        terms: RewardTerms {
            enrolment_reward: 1,
            period_reward: 0,
            period_secs: 0,
            periods: 0,
        },
        classes: lab(),
        data_use_code: 0,
        enrol_start: now,
        enrol_end: now + DAY,
        max_participants: 1,
    };
    fx.env
        .expect_rejected(
            ix::StudyCreate {
                keys,
                args: args.clone(),
            }
            .instruction(),
            &[&unverified],
            E::ProviderNotVerified,
            &[keys.study, keys.vault],
        )
        .await;
    // bad terms and windows
    let sponsor_keys = StudyKeys::new(&fx.sponsor.pubkey(), 2, &fx.keys.mint);
    let bad_terms = [
        StudyCreateArgs {
            classes: 0,
            ..args.clone()
        },
        StudyCreateArgs {
            terms: RewardTerms {
                enrolment_reward: 0,
                ..args.terms
            },
            ..args.clone()
        },
        StudyCreateArgs {
            terms: RewardTerms {
                period_reward: 5,
                period_secs: 60,
                periods: 2,
                ..args.terms
            },
            ..args.clone()
        },
        StudyCreateArgs {
            max_participants: 0,
            ..args.clone()
        },
    ];
    for bad in bad_terms {
        fx.env
            .expect_rejected(
                ix::StudyCreate {
                    keys: sponsor_keys,
                    args: bad,
                }
                .instruction(),
                &[&fx.sponsor],
                E::InvalidStudyTerms,
                &[sponsor_keys.study],
            )
            .await;
    }
    fx.env
        .expect_rejected(
            ix::StudyCreate {
                keys: sponsor_keys,
                args: StudyCreateArgs {
                    enrol_end: now - 1,
                    ..args.clone()
                },
            }
            .instruction(),
            &[&fx.sponsor],
            E::InvalidEnrolmentWindow,
            &[sponsor_keys.study],
        )
        .await;
    // top up, then enrolment after the window is refused
    fx.env
        .send(
            ix::StudyFund {
                funder: fx.sponsor.pubkey(),
                keys: fx.keys,
                source: fx.sponsor_tokens,
                amount: 1_000,
            }
            .instruction(),
            &[&fx.sponsor],
        )
        .await
        .unwrap();
    fx.advance(31 * DAY).await;
    fx.env
        .expect_rejected(enrol, &[&patient], E::EnrolmentClosed, &fx.watched(&wallet))
        .await;
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
    fx.env
        .expect_rejected(
            ix::StudyFund {
                funder: fx.sponsor.pubkey(),
                keys: fx.keys,
                source: fx.sponsor_tokens,
                amount: 1,
            }
            .instruction(),
            &[&fx.sponsor],
            E::Paused,
            &[fx.keys.study, fx.keys.vault],
        )
        .await;
}

mod property {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Step {
        Enrol(usize),
        Advance(u8),
        Claim(usize),
        Revoke(usize),
        End(usize),
        Fund(u16),
        CloseEnrolment,
        Withdraw(u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            3 => (0usize..3).prop_map(Step::Enrol),
            3 => (0u8..3).prop_map(Step::Advance),
            4 => (0usize..3).prop_map(Step::Claim),
            1 => (0usize..3).prop_map(Step::Revoke),
            1 => (0usize..3).prop_map(Step::End),
            1 => (1u16..400).prop_map(Step::Fund),
            1 => Just(Step::CloseEnrolment),
            1 => (1u16..400).prop_map(Step::Withdraw),
        ]
    }

    async fn run(funding: u64, steps: Vec<Step>) {
        let fx = fixture(3, funding).await;
        let mut patients = Vec::new();
        for _ in 0..3 {
            let p = fx.env.register_patient().await;
            fx.invite(&p.pubkey()).await;
            fx.env
                .grant(
                    &p,
                    &fx.sponsor.pubkey(),
                    Purpose::Research,
                    lab(),
                    action::READ,
                    60,
                )
                .await
                .unwrap();
            patients.push(p);
        }
        let donor = fx.env.actor().await;
        let donor_tokens = fx.env.token_account(&fx.keys.mint, &donor.pubkey()).await;
        fx.env
            .mint_to(&fx.keys.mint, &fx.mint_authority, &donor_tokens, 1_000_000)
            .await;
        for step in steps {
            let (ixn, signer) = match &step {
                Step::Enrol(i) => {
                    let w = patients[*i].pubkey();
                    (
                        ix::StudyEnroll {
                            authority: w,
                            patient_wallet: w,
                            keys: fx.keys,
                            protocol: fx.protocol,
                        }
                        .instruction(),
                        &patients[*i],
                    )
                }
                Step::Advance(days) => {
                    fx.advance(i64::from(*days) * DAY + 1).await;
                    continue;
                }
                Step::Claim(i) => (fx.claim_ix(&patients[*i]), &patients[*i]),
                Step::Revoke(i) => {
                    let w = patients[*i].pubkey();
                    let grant = pda::grant(&w, &fx.sponsor.pubkey(), Purpose::Research).0;
                    (
                        ix::GrantRevoke {
                            authority: w,
                            patient_wallet: w,
                            grant,
                        }
                        .instruction(),
                        &patients[*i],
                    )
                }
                Step::End(i) => (
                    ix::ParticipationEnd {
                        caller: donor.pubkey(),
                        patient_wallet: patients[*i].pubkey(),
                        keys: fx.keys,
                        next_material: None,
                    }
                    .instruction(),
                    &donor,
                ),
                Step::Fund(amount) => (
                    ix::StudyFund {
                        funder: donor.pubkey(),
                        keys: fx.keys,
                        source: donor_tokens,
                        amount: u64::from(*amount),
                    }
                    .instruction(),
                    &donor,
                ),
                Step::CloseEnrolment => (
                    ix::StudyCloseEnrolment { keys: fx.keys }.instruction(),
                    &fx.sponsor,
                ),
                Step::Withdraw(amount) => (
                    ix::StudyWithdraw {
                        keys: fx.keys,
                        destination: fx.sponsor_tokens,
                        amount: u64::from(*amount),
                    }
                    .instruction(),
                    &fx.sponsor,
                ),
            };
            // refusals are part of the walk; whatever happened, the books must balance
            let _ = fx.env.send(ixn, &[signer]).await;
            fx.assert_conserved().await;
            let s = fx.study().await;
            let now = fx.env.now().await;
            let mut reserved = 0;
            for p in &patients {
                let address = pda::participation(&fx.keys.study, &p.pubkey()).0;
                let Some(part) = fx
                    .env
                    .client
                    .fetch_optional::<Participation>(&address)
                    .await
                    .unwrap()
                else {
                    continue;
                };
                let due = careledger_sdk::rewards::periods_due(&s.terms, part.enrolled_at, now);
                assert!(part.periods_paid <= due, "{step:?}: paid ahead of time");
                assert_eq!(
                    part.paid,
                    ENROL + u64::from(part.periods_paid) * PERIOD,
                    "{step:?}: paid more than owed"
                );
                assert_eq!(fx.env.balance(&fx.ata(&p.pubkey())).await, part.paid);
                // an ended participation keeps the periods that came due before its consent
                // lapsed (claimable after the end); a live one all it has not been paid
                let kept = if part.ended {
                    careledger_sdk::rewards::periods_due(
                        &s.terms,
                        part.enrolled_at,
                        part.accrual_end,
                    )
                    .max(part.periods_paid)
                } else {
                    PERIODS
                };
                reserved += u64::from(kept - part.periods_paid) * PERIOD;
            }
            assert_eq!(s.outstanding, reserved, "{step:?}: reservation drifted");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
        #[test]
        fn funds_are_conserved_and_nobody_is_paid_more_than_owed(
            funding in 0u64..800,
            steps in prop::collection::vec(step(), 1..16),
        ) {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                // one ledger per case: a localnet of its own over JSON-RPC
                if !skip_unless_own_cluster("starts one ledger per case").await {
                    run(funding, steps).await
                }
            });
        }
    }

    /// The walk proptest found: a period came due, consent was revoked, the participation
    /// ended; that period stays reserved for the participant to claim.
    #[tokio::test]
    async fn participation_end_keeps_the_periods_due_before_the_lapse_reserved() {
        // moves the clock: over JSON-RPC, a localnet of its own
        if skip_unless_own_cluster("moves the clock").await {
            return;
        }
        run(
            250,
            vec![
                Step::Enrol(0),
                Step::Advance(1),
                Step::Revoke(0),
                Step::End(0),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn study_close_enrolment_and_study_close_only_by_the_sponsor_and_final() {
    let fx = fixture(2, 1_000).await;
    let stranger = fx.env.actor().await;
    let as_stranger = StudyKeys {
        sponsor: stranger.pubkey(),
        ..fx.keys
    };
    fx.env
        .expect_rejected(
            ix::StudyCloseEnrolment { keys: as_stranger }.instruction(),
            &[&stranger],
            E::NotStudySponsor,
            &[fx.keys.study],
        )
        .await;
    fx.env
        .send(
            ix::StudyCloseEnrolment { keys: fx.keys }.instruction(),
            &[&fx.sponsor],
        )
        .await
        .unwrap();
    fx.env
        .send(
            ix::StudyClose {
                keys: fx.keys,
                destination: fx.sponsor_tokens,
            }
            .instruction(),
            &[&fx.sponsor],
        )
        .await
        .unwrap();
    assert_eq!(fx.env.balance(&fx.keys.vault).await, 0);
    let watched = [fx.keys.study, fx.keys.vault];
    fx.env
        .expect_rejected(
            ix::StudyFund {
                funder: fx.sponsor.pubkey(),
                keys: fx.keys,
                source: fx.sponsor_tokens,
                amount: 1,
            }
            .instruction(),
            &[&fx.sponsor],
            E::StudyClosed,
            &watched,
        )
        .await;
    fx.env
        .expect_rejected(
            ix::StudyClose {
                keys: fx.keys,
                destination: fx.sponsor_tokens,
            }
            .instruction(),
            &[&fx.sponsor],
            E::StudyClosed,
            &watched,
        )
        .await;
    fx.assert_conserved().await;
}

#[tokio::test]
async fn token_2022_mints_are_refused() {
    use legacy_only::token_2022_mint;
    let fx = fixture(1, 0).await;
    let mint = token_2022_mint(&fx.env).await;
    let keys = StudyKeys::new(&fx.sponsor.pubkey(), 9, &mint);
    let now = fx.env.now().await;
    let args = StudyCreateArgs {
        study_id: 9,
        terms: RewardTerms {
            enrolment_reward: 1,
            period_reward: 0,
            period_secs: 0,
            periods: 0,
        },
        classes: lab(),
        data_use_code: 0,
        enrol_start: now,
        enrol_end: now + DAY,
        max_participants: 1,
    };
    let account_owned_by_wrong_program =
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram as u32;
    fx.env
        .expect_anchor_error(
            ix::StudyCreate { keys, args }.instruction(),
            &[&fx.sponsor],
            account_owned_by_wrong_program,
            &[keys.study, keys.vault],
        )
        .await;
}

mod legacy_only {
    use super::*;

    /// A mint owned by the Token-2022 program (which the embedded bank loads).
    pub async fn token_2022_mint(env: &Env) -> Pubkey {
        let mint = Keypair::new();
        let payer = env.actor().await;
        let program = anchor_spl::token_2022::ID;
        let create = solana_system_interface::instruction::create_account(
            &payer.pubkey(),
            &mint.pubkey(),
            1_000_000_000,
            82,
            &program,
        );
        let init = anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
            &program,
            &mint.pubkey(),
            &payer.pubkey(),
            None,
            0,
        )
        .unwrap();
        env.send_all(&[create, init], &[&payer, &mint])
            .await
            .expect("token-2022 mint");
        mint.pubkey()
    }
}
