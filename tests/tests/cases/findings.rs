//! The adversarial review's findings (issue 12, docs/SECURITY.md "Findings"), each as the
//! attacker's sequence: the attack is refused with its exact error and every account it could
//! have touched is byte-identical afterwards; the legitimate path still works.
use careledger_sdk::claims::{rule_key, service_day};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, Author, CareBasis, PolicyKeys, StudyKeys};
use careledger_sdk::{action, pda, tokens, CareledgerError as E, CareledgerEvent, Transport};
use careledger_sdk::{
    Claim, ClaimState, ClaimSubmitArgs, GrantUpdateArgs, Participation, PolicyCreateArgs, Purpose,
    RecordAmendArgs, RequestApproveArgs, RequestCreateArgs, RewardTerms, RuleTerms, Study,
    StudyCreateArgs, NO_RECORD_SCOPE, ROLE_CLINICIAN, ROLE_INSURER, ROLE_RESEARCHER,
};
use careledger_tests::{
    skip_unless_own_cluster, ClaimsScene, ClaimsSetup, Env, StudyScene, StudySetup, DAY,
};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

fn lab() -> u16 {
    RecordClass::LabResult.bit()
}

fn visit_terms(allowed_per_unit: u64) -> RuleTerms {
    RuleTerms {
        allowed_per_unit,
        copay: 0,
        coinsurance_bps: 0,
        max_units_per_claim: 4,
        max_claims_per_period: 10,
        prior_auth_required: false,
    }
}

/// A member with a lab record and a payment grant to the insurer; a treating clinic (treatment
/// grant on lab results); a funded policy (network-only or not) with one rule.
/// The billing attacks' scene: `ClaimsScene` with the record anchored before any care, the
/// vault funded straight from the mint (policy_fund is not what these tests are about).
struct Billing(ClaimsScene);

impl std::ops::Deref for Billing {
    type Target = ClaimsScene;
    fn deref(&self) -> &ClaimsScene {
        &self.0
    }
}

async fn billing(network_only: bool) -> Billing {
    let setup = ClaimsSetup {
        policy_id: 1,
        benefit_cap: 10_000,
        deductible: 0,
        network_only,
        coverage_days: 300,
        rule_key: rule_key(&[7; 32], "CPT", "99213", ""),
        terms: visit_terms(100),
        grant_classes: lab(),
        care_days_before_record: None,
    };
    let scene = ClaimsScene::new(setup).await;
    let (mint, vault) = (scene.keys.mint, scene.keys.vault);
    scene
        .env
        .mint_to(&mint, &scene.mint_authority, &vault, 5_000)
        .await;
    Billing(scene)
}

impl Billing {
    fn args(&self, day: i64, terms: RuleTerms) -> ClaimSubmitArgs {
        ClaimSubmitArgs {
            units: 1,
            billed: 100,
            service_date: day,
            document_commitment: [9; 32],
            expected_terms: terms,
        }
    }

    async fn today(&self) -> ClaimSubmitArgs {
        self.args(service_day(self.env.now().await), visit_terms(100))
    }

    async fn payee(&self, provider: &Pubkey) -> Pubkey {
        self.env.token_account(&self.keys.mint, provider).await
    }

    fn submit(
        &self,
        by: &Pubkey,
        record: &Pubkey,
        payee: &Pubkey,
        care: CareBasis,
        args: ClaimSubmitArgs,
    ) -> solana_instruction::Instruction {
        ix::ClaimSubmit {
            provider: *by,
            keys: self.keys,
            record: *record,
            rule_key: self.rule,
            payee: *payee,
            care,
            args,
        }
        .instruction()
    }

    /// The vault, policy and rule, and the claim the attempt would create.
    fn watched(&self, by: &Pubkey, args: &ClaimSubmitArgs) -> Vec<Pubkey> {
        vec![
            self.keys.vault,
            self.keys.policy,
            pda::rule(&self.keys.policy, &self.rule).0,
            pda::claim(&self.keys.policy, by, &self.rule, args.service_date).0,
        ]
    }

    async fn refused(&self, who: &Keypair, record: &Pubkey, care: CareBasis, expected: E) {
        let args = self.today().await;
        let payee = self.payee(&who.pubkey()).await;
        let watched = self.watched(&who.pubkey(), &args);
        let ixn = self.submit(&who.pubkey(), record, &payee, care, args);
        self.env
            .expect_rejected(ixn, &[who], expected, &watched)
            .await;
    }

    /// What the SDK's preview says of `who`'s claim under `rule` for the member's record, on
    /// its treatment grant.
    async fn preview(
        &self,
        who: &Pubkey,
        rule: &[u8; 32],
        args: &ClaimSubmitArgs,
    ) -> careledger_sdk::claims::Preview {
        let care = CareBasis::Grant(Purpose::Treatment);
        self.env
            .client
            .preview_claim(who, &self.keys, &self.record, rule, care, args)
            .await
            .expect("preview")
    }

    /// The treating clinic's claim today for the member's record, refused with `expected`.
    async fn clinic_refused(&self, expected: E) {
        let care = CareBasis::Grant(Purpose::Treatment);
        self.refused(&self.clinic, &self.record, care, expected)
            .await;
    }

    async fn paid(&self, who: &Keypair, record: &Pubkey, care: CareBasis) -> Claim {
        let args = self.today().await;
        let address = pda::claim(
            &self.keys.policy,
            &who.pubkey(),
            &self.rule,
            args.service_date,
        )
        .0;
        let payee = self.payee(&who.pubkey()).await;
        let ixn = self.submit(&who.pubkey(), record, &payee, care, args);
        self.env.send(ixn, &[who]).await.expect("claim");
        let claim: Claim = self.env.client.fetch(&address).await.unwrap();
        assert_eq!(claim.state, ClaimState::Paid);
        claim
    }
}

// ------------------------------------------------------------------------------- H1

#[tokio::test]
async fn h1_an_unrelated_verified_clinician_cannot_bill_a_member() {
    let b = billing(false).await;
    // verified, billing role, but never treated this member
    let stranger = b.env.verified_provider(ROLE_CLINICIAN).await;
    for care in [
        CareBasis::AuthoredRecord,
        CareBasis::Grant(Purpose::Treatment),
        CareBasis::Grant(Purpose::Operations),
    ] {
        b.refused(&stranger, &b.record, care, E::NoCareRelationship)
            .await;
    }
    // pointing at the real clinic's treatment grant does not lend its relationship
    let mut borrowed = b.submit(
        &stranger.pubkey(),
        &b.record,
        &b.payee(&stranger.pubkey()).await,
        CareBasis::AuthoredRecord,
        b.today().await,
    );
    let own_care_grant = pda::grant(&b.patient.pubkey(), &stranger.pubkey(), Purpose::Treatment).0;
    careledger_tests::swap_account(
        &mut borrowed,
        &own_care_grant,
        pda::grant(&b.patient.pubkey(), &b.clinic.pubkey(), Purpose::Treatment).0,
    );
    let watched = b.watched(&stranger.pubkey(), &b.today().await);
    b.env
        .expect_rejected(borrowed, &[&stranger], E::NoCareRelationship, &watched)
        .await;
    // the member's payment grant, the insurer's, is no care relationship either
    let mut payment = b.submit(
        &stranger.pubkey(),
        &b.record,
        &b.payee(&stranger.pubkey()).await,
        CareBasis::AuthoredRecord,
        b.today().await,
    );
    careledger_tests::swap_account(
        &mut payment,
        &own_care_grant,
        pda::grant(&b.patient.pubkey(), &b.insurer.pubkey(), Purpose::Payment).0,
    );
    b.env
        .expect_rejected(payment, &[&stranger], E::NoCareRelationship, &watched)
        .await;
    // the treating clinic is paid
    b.paid(&b.clinic, &b.record, CareBasis::Grant(Purpose::Treatment))
        .await;
}

#[tokio::test]
async fn h1_the_care_grant_must_be_live_and_cover_the_cited_record() {
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    // a record of a class the clinic's treatment grant does not cover
    let imaging = b
        .env
        .anchor_as_patient(&b.patient, RecordClass::Imaging.id(), 2)
        .await;
    b.refused(
        &b.clinic,
        &imaging,
        CareBasis::Grant(Purpose::Treatment),
        E::NoCareRelationship,
    )
    .await;
    // a research grant is not a care relationship
    let sponsor = b
        .env
        .verified_provider(ROLE_CLINICIAN | ROLE_RESEARCHER)
        .await;
    b.env
        .grant(
            &b.patient,
            &sponsor.pubkey(),
            Purpose::Research,
            lab(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    b.refused(
        &sponsor,
        &b.record,
        CareBasis::Grant(Purpose::Research),
        E::NoCareRelationship,
    )
    .await;
    // an operations grant is one
    let hospital = b.env.verified_provider(ROLE_CLINICIAN).await;
    b.env
        .grant(
            &b.patient,
            &hospital.pubkey(),
            Purpose::Operations,
            lab(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    b.paid(&hospital, &b.record, CareBasis::Grant(Purpose::Operations))
        .await;
    // once revoked, the clinic can no longer bill
    let grant = pda::grant(&wallet, &b.clinic.pubkey(), Purpose::Treatment).0;
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
    b.clinic_refused(E::NoCareRelationship).await;
}

#[tokio::test]
async fn h1_a_record_the_provider_authored_is_its_own_care_relationship() {
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    // a lab with a write grant anchors the result it produced, then its grant ends
    let lab_provider = b.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let grant = b
        .env
        .grant(
            &b.patient,
            &lab_provider.pubkey(),
            Purpose::Treatment,
            lab(),
            action::WRITE,
            30,
        )
        .await
        .unwrap();
    let index = b.env.patient(&wallet).await.record_count;
    let author = Author::Provider {
        wallet: lab_provider.pubkey(),
        purpose: Purpose::Treatment,
    };
    let args = careledger_sdk::RecordAnchorArgs {
        cid: careledger_tests::sample_cid(9),
        content_sha256: [9; 32],
        class: RecordClass::LabResult.id(),
    };
    b.env
        .send(
            ix::RecordAnchor {
                patient_wallet: wallet,
                index,
                author,
                args,
            }
            .instruction(),
            &[&lab_provider],
        )
        .await
        .unwrap();
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
    let authored = pda::record(&wallet, index).0;
    // it still bills the service it documented
    b.paid(&lab_provider, &authored, CareBasis::AuthoredRecord)
        .await;
}

#[tokio::test]
async fn h1_network_add_and_network_remove_decide_whom_a_network_only_policy_pays() {
    let b = billing(true).await;
    // the clinic treats the member but is not in the network
    b.clinic_refused(E::ProviderOutOfNetwork).await;
    // only the insurer enrols: another verified insurer cannot put the clinic in this network
    let rival = b.env.verified_provider(ROLE_INSURER).await;
    b.env
        .send(
            ix::NetworkAdd {
                insurer: rival.pubkey(),
                provider: b.clinic.pubkey(),
            }
            .instruction(),
            &[&rival],
        )
        .await
        .unwrap();
    b.clinic_refused(E::ProviderOutOfNetwork).await;
    // nor can a clinic run a network of its own: only a verified insurer keeps one
    let own = pda::network_membership(&b.clinic.pubkey(), &b.clinic.pubkey()).0;
    b.env
        .expect_rejected(
            ix::NetworkAdd {
                insurer: b.clinic.pubkey(),
                provider: b.clinic.pubkey(),
            }
            .instruction(),
            &[&b.clinic],
            E::MissingRole,
            &[own],
        )
        .await;
    let membership = pda::network_membership(&b.insurer.pubkey(), &b.clinic.pubkey()).0;
    let join = ix::NetworkAdd {
        insurer: b.insurer.pubkey(),
        provider: b.clinic.pubkey(),
    }
    .instruction();
    b.env.send(join.clone(), &[&b.insurer]).await.unwrap();
    b.env
        .expect_rejected(
            join,
            &[&b.insurer],
            E::NetworkMemberAlreadyAdded,
            &[membership],
        )
        .await;
    b.paid(&b.clinic, &b.record, CareBasis::Grant(Purpose::Treatment))
        .await;
    // the rival cannot end the membership; the insurer can, and then the clinic is out again
    let mut rival_end = ix::NetworkRemove {
        insurer: b.insurer.pubkey(),
        provider: b.clinic.pubkey(),
    }
    .instruction();
    careledger_tests::swap_signer(&mut rival_end, &b.insurer.pubkey(), rival.pubkey());
    b.env
        .expect_rejected(rival_end, &[&rival], E::NotPolicyInsurer, &[membership])
        .await;
    b.env
        .send(
            ix::NetworkRemove {
                insurer: b.insurer.pubkey(),
                provider: b.clinic.pubkey(),
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    b.clinic_refused(E::ProviderOutOfNetwork).await;
}

// ------------------------------------------------------------------------------- M1

#[tokio::test]
async fn m1_one_service_day_is_billed_once_whichever_record_is_cited() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    let first = b
        .paid(&b.clinic, &b.record, CareBasis::Grant(Purpose::Treatment))
        .await;
    // the same service, same day, citing another record of the member
    let other = b
        .env
        .anchor_as_patient(&b.patient, RecordClass::LabResult.id(), 3)
        .await;
    b.refused(
        &b.clinic,
        &other,
        CareBasis::Grant(Purpose::Treatment),
        E::DuplicateClaim,
    )
    .await;
    assert_eq!(first.record, b.record);
    // a superseded version cannot be billed: the next day, amend the record, then cite the old
    // version
    b.env.set_clock(b.env.now().await + DAY).await;
    let index = b.env.patient(&wallet).await.record_count;
    let amend = RecordAmendArgs {
        cid: careledger_tests::sample_cid(4),
        content_sha256: [4; 32],
        expected_version: 1,
    };
    b.env
        .send(
            ix::RecordAmend {
                patient_wallet: wallet,
                previous_index: 0,
                new_index: index,
                author: Author::Patient,
                args: amend,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    b.clinic_refused(E::RecordNotCurrent).await;
    b.paid(
        &b.clinic,
        &pda::record(&wallet, index).0,
        CareBasis::Grant(Purpose::Treatment),
    )
    .await;
}

// ------------------------------------------------------------------------------- M4

#[tokio::test]
async fn m4_a_rule_update_before_the_claim_lands_fails_it_instead_of_paying_less() {
    let b = billing(false).await;
    // the clinic previews the rule at 100 per unit; the insurer cuts it to 10 first
    let previewed = b.today().await;
    b.env
        .send(
            ix::RuleUpdate {
                keys: b.keys,
                rule_key: b.rule,
                terms: visit_terms(10),
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let payee = b.payee(&b.clinic.pubkey()).await;
    let watched = b.watched(&b.clinic.pubkey(), &previewed);
    let ixn = b.submit(
        &b.clinic.pubkey(),
        &b.record,
        &payee,
        CareBasis::Grant(Purpose::Treatment),
        previewed.clone(),
    );
    b.env
        .expect_rejected(ixn, &[&b.clinic], E::RuleTermsChanged, &watched)
        .await;
    // resubmitted under the terms now shown, it is decided under them
    let ixn = b.submit(
        &b.clinic.pubkey(),
        &b.record,
        &payee,
        CareBasis::Grant(Purpose::Treatment),
        ClaimSubmitArgs {
            expected_terms: visit_terms(10),
            ..previewed
        },
    );
    let out = b.env.send(ixn, &[&b.clinic]).await.unwrap();
    let paid = out.events.iter().find_map(|e| match e {
        CareledgerEvent::ClaimPaid(p) => Some(p.amount),
        _ => None,
    });
    assert_eq!(paid, Some(10));
}

// ------------------------------------------------------------------------------- M5

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

// ------------------------------------------------------------------------------- H2 and M2

const ENROL: u64 = 100;
const PERIOD: u64 = 10;
const PERIODS: u16 = 10;

struct Research(StudyScene);

impl std::ops::Deref for Research {
    type Target = StudyScene;
    fn deref(&self) -> &StudyScene {
        &self.0
    }
}

async fn research() -> Research {
    let terms = RewardTerms {
        enrolment_reward: ENROL,
        period_reward: PERIOD,
        period_secs: DAY as u32,
        periods: PERIODS,
    };
    let setup = StudySetup {
        terms,
        max_participants: 3,
        data_use_code: 0,
        funding: 100_000,
    };
    Research(StudyScene::new(setup).await)
}

impl Research {
    async fn invite(&self, by: &Keypair, wallet: &Pubkey) -> Result<(), careledger_sdk::SdkError> {
        self.0.invite(by, wallet, 20).await
    }

    /// A registered, invited patient enrolled with a 60-day research grant on lab results.
    async fn enrolled(&self) -> Keypair {
        self.0.enrolled(60).await.0
    }

    async fn study(&self) -> Study {
        self.env.client.fetch(&self.keys.study).await.unwrap()
    }

    async fn participation(&self, wallet: &Pubkey) -> Participation {
        let address = pda::participation(&self.keys.study, wallet).0;
        self.env.client.fetch(&address).await.unwrap()
    }

    fn claim_ix(&self, patient: &Keypair) -> solana_instruction::Instruction {
        let wallet = patient.pubkey();
        let ata = pda::associated_token(&wallet, &self.keys.mint);
        ix::RewardClaim {
            authority: wallet,
            patient_wallet: wallet,
            keys: self.keys,
            patient_tokens: ata,
            next_material: None,
        }
        .instruction()
    }

    /// Collects and returns the periods paid by this call (0 if refused with `NothingDue`-like
    /// errors is not accepted: the call must pay).
    async fn collect(&self, patient: &Keypair) -> (u16, u16) {
        let out = self
            .env
            .send(self.claim_ix(patient), &[patient])
            .await
            .expect("claim");
        match &out.events[0] {
            CareledgerEvent::RewardPaid(p) => (p.first_period, p.last_period),
            other => panic!("expected RewardPaid, got {other:?}"),
        }
    }

    async fn refused(&self, patient: &Keypair, expected: E) {
        let wallet = patient.pubkey();
        let watched = [
            self.keys.study,
            self.keys.vault,
            pda::participation(&self.keys.study, &wallet).0,
            pda::associated_token(&wallet, &self.keys.mint),
        ];
        self.env
            .expect_rejected(self.claim_ix(patient), &[patient], expected, &watched)
            .await;
    }

    async fn advance(&self, days: i64) {
        self.env.set_clock(self.env.now().await + days * DAY).await;
    }

    fn grant(&self, wallet: &Pubkey) -> Pubkey {
        pda::grant(wallet, &self.sponsor.pubkey(), Purpose::Research).0
    }

    async fn update(&self, patient: &Keypair, classes: u16, expires_at: i64) {
        let wallet = patient.pubkey();
        let args = GrantUpdateArgs {
            classes,
            actions: action::READ,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at,
        };
        self.env
            .send(
                ix::GrantUpdate {
                    authority: wallet,
                    patient_wallet: wallet,
                    grant: self.grant(&wallet),
                    args,
                }
                .instruction(),
                &[patient],
            )
            .await
            .expect("update");
    }
}

#[tokio::test]
async fn h2_fresh_wallets_cannot_enrol_or_be_paid() {
    if skip_unless_own_cluster("checks the study's exact totals and moves the clock").await {
        return;
    }
    let r = research().await;
    let before = r.study().await;
    // five sybil wallets: each registers, consents to research and tries to enrol
    for _ in 0..5 {
        let sybil = r.env.register_patient().await;
        let wallet = sybil.pubkey();
        let until = r.env.now().await + 60 * DAY;
        let ixs = ix::StudyEnrollWithGrant {
            authority: wallet,
            patient_wallet: wallet,
            keys: r.keys,
            protocol: r.protocol,
            classes: lab(),
            expires_at: until,
        }
        .instructions();
        let watched = [
            r.keys.study,
            r.keys.vault,
            pda::participation(&r.keys.study, &wallet).0,
            r.grant(&wallet),
        ];
        let snapshot = r.env.snapshot(&watched).await;
        let err = r.env.send_all(&ixs, &[&sybil]).await.unwrap_err();
        assert_eq!(err.program_error(), Some(E::NotInvited), "{err}");
        assert_eq!(snapshot, r.env.snapshot(&watched).await);
        // nothing to collect either: there is no participation
        r.advance(2).await;
        let missing = anchor_lang::error::ErrorCode::AccountNotInitialized as u32;
        r.env
            .expect_anchor_error(r.claim_ix(&sybil), &[&sybil], missing, &watched)
            .await;
        // a sybil cannot invite itself, nor can another researcher invite for this study
        let invitation = pda::invitation(&r.keys.study, &wallet).0;
        let until = r.env.now().await + DAY;
        r.env
            .expect_rejected(
                ix::InvitationCreate {
                    inviter: wallet,
                    keys: r.keys,
                    patient_wallet: wallet,
                    expires_at: until,
                }
                .instruction(),
                &[&sybil],
                E::NotStudySite,
                &[invitation],
            )
            .await;
    }
    let after = r.study().await;
    assert_eq!(
        (after.participants, after.paid),
        (before.participants, before.paid)
    );
    assert_eq!((after.participants, after.paid), (0, 0));
}

#[tokio::test]
async fn h2_invitation_create_by_the_sponsor_or_its_site_decides_who_enrols_once() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let r = research().await;
    let site = r.env.actor().await;
    let patient = r.env.register_patient().await;
    let wallet = patient.pubkey();
    let invitation = pda::invitation(&r.keys.study, &wallet).0;
    // the site may invite only once the sponsor delegates to it
    let until = r.env.now().await + 5 * DAY;
    r.env
        .expect_rejected(
            ix::InvitationCreate {
                inviter: site.pubkey(),
                keys: r.keys,
                patient_wallet: wallet,
                expires_at: until,
            }
            .instruction(),
            &[&site],
            E::NotStudySite,
            &[invitation],
        )
        .await;
    r.env
        .send(
            ix::StudySetSite {
                keys: r.keys,
                site: site.pubkey(),
            }
            .instruction(),
            &[&r.sponsor],
        )
        .await
        .unwrap();
    r.env
        .expect_rejected(
            ix::InvitationCreate {
                inviter: site.pubkey(),
                keys: r.keys,
                patient_wallet: wallet,
                expires_at: r.env.now().await,
            }
            .instruction(),
            &[&site],
            E::InvalidInvitationExpiry,
            &[invitation],
        )
        .await;
    r.invite(&site, &wallet).await.unwrap();
    r.env
        .expect_rejected(
            ix::InvitationCreate {
                inviter: site.pubkey(),
                keys: r.keys,
                patient_wallet: wallet,
                expires_at: until,
            }
            .instruction(),
            &[&site],
            E::InvitationAlreadyExists,
            &[invitation],
        )
        .await;
    // another patient cannot use it: the invitation is keyed by the invited wallet
    let other = r.env.register_patient().await;
    let ow = other.pubkey();
    let ixs = ix::StudyEnrollWithGrant {
        authority: ow,
        patient_wallet: ow,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: until,
    }
    .instructions();
    let err = r.env.send_all(&ixs, &[&other]).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::NotInvited));
    // the invited patient enrols once
    let ixs = ix::StudyEnrollWithGrant {
        authority: wallet,
        patient_wallet: wallet,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: until,
    }
    .instructions();
    r.env.send_all(&ixs, &[&patient]).await.unwrap();
    let watched = [invitation, r.keys.study, r.keys.vault];
    r.env
        .expect_rejected(
            ix::StudyEnroll {
                authority: wallet,
                patient_wallet: wallet,
                keys: r.keys,
                protocol: r.protocol,
            }
            .instruction(),
            &[&patient],
            E::AlreadyEnrolled,
            &watched,
        )
        .await;
    let used: careledger_sdk::program::state::Invitation =
        r.env.client.fetch(&invitation).await.unwrap();
    assert!(used.used_at > 0 && used.invited_by == site.pubkey());
    // an invitation that expired, or was withdrawn, enrols no one
    let late = r.env.register_patient().await;
    let lw = late.pubkey();
    r.invite(&r.sponsor, &lw).await.unwrap();
    r.advance(21).await;
    let ixs = ix::StudyEnrollWithGrant {
        authority: lw,
        patient_wallet: lw,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: r.env.now().await + DAY,
    }
    .instructions();
    let err = r.env.send_all(&ixs, &[&late]).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::InvitationExpired));
    r.env
        .send(
            ix::InvitationClose {
                keys: r.keys,
                patient_wallet: lw,
                invited_by: r.sponsor.pubkey(),
            }
            .instruction(),
            &[&r.sponsor],
        )
        .await
        .unwrap();
    let ixs = ix::StudyEnrollWithGrant {
        authority: lw,
        patient_wallet: lw,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: r.env.now().await + DAY,
    }
    .instructions();
    let err = r.env.send_all(&ixs, &[&late]).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::NotInvited));
}

#[tokio::test]
async fn m2_dropping_a_study_class_and_restoring_it_ends_accrual_at_the_drop() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let r = research().await;
    let patient = r.enrolled().await;
    let until = r.env.now().await + 60 * DAY;
    r.advance(2).await;
    // consent off for a week, then back on
    r.update(&patient, RecordClass::Imaging.bit(), until).await;
    r.advance(7).await;
    r.update(&patient, lab() | RecordClass::Imaging.bit(), until)
        .await;
    r.advance(3).await;
    // only the two periods before the drop were earned, and they stay claimable
    assert_eq!(r.collect(&patient).await, (1, 2));
    r.refused(&patient, E::GrantNarrowed).await;
}

#[tokio::test]
async fn m2_moving_not_before_later_or_shortening_the_window_is_a_lapse_too() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let r = research().await;
    let patient = r.enrolled().await;
    let wallet = patient.pubkey();
    r.advance(1).await;
    let now = r.env.now().await;
    let args = GrantUpdateArgs {
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: now + 5 * DAY,
        expires_at: now + 60 * DAY,
    };
    r.env
        .send(
            ix::GrantUpdate {
                authority: wallet,
                patient_wallet: wallet,
                grant: r.grant(&wallet),
                args,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    r.advance(10).await;
    assert_eq!(r.collect(&patient).await, (1, 1));
    r.refused(&patient, E::GrantNarrowed).await;
}

#[tokio::test]
async fn m2_an_expired_grant_cannot_be_extended_into_continued_consent() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let r = research().await;
    let patient = r.env.register_patient().await;
    let wallet = patient.pubkey();
    r.invite(&r.sponsor, &wallet).await.unwrap();
    let until = r.env.now().await + 3 * DAY;
    let ixs = ix::StudyEnrollWithGrant {
        authority: wallet,
        patient_wallet: wallet,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: until,
    }
    .instructions();
    r.env.send_all(&ixs, &[&patient]).await.unwrap();
    r.advance(8).await;
    let grant = r.grant(&wallet);
    let extend = GrantUpdateArgs {
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: r.env.now().await + 60 * DAY,
    };
    r.env
        .expect_rejected(
            ix::GrantUpdate {
                authority: wallet,
                patient_wallet: wallet,
                grant,
                args: extend,
            }
            .instruction(),
            &[&patient],
            E::GrantLapsed,
            &[grant],
        )
        .await;
    // the three periods earned before the expiry are paid, nothing for the days after
    assert_eq!(r.collect(&patient).await, (1, 3));
    r.refused(&patient, E::GrantExpired).await;
}

#[tokio::test]
async fn m2_a_grant_closed_and_made_again_is_a_new_consent() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let r = research().await;
    let patient = r.enrolled().await;
    let wallet = patient.pubkey();
    let grant = r.grant(&wallet);
    r.advance(2).await;
    // the patient collects, then revokes, closes and grants again at the same address
    assert_eq!(r.collect(&patient).await, (1, 2));
    r.env
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
    r.env
        .send(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant,
                rent_to: wallet,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    r.env
        .grant(
            &patient,
            &r.sponsor.pubkey(),
            Purpose::Research,
            lab(),
            action::READ,
            60,
        )
        .await
        .unwrap();
    let regranted: careledger_sdk::ConsentGrant = r.env.client.fetch(&grant).await.unwrap();
    assert_ne!(
        regranted.serial,
        r.participation(&wallet).await.grant_serial
    );
    r.advance(5).await;
    r.refused(&patient, E::GrantReplaced).await;
    let participation = pda::participation(&r.keys.study, &wallet).0;
    let study = r.study().await;
    // anyone ends it; the unearned periods go back to the sponsor
    let caller = r.env.actor().await;
    r.env
        .send(
            ix::ParticipationEnd {
                caller: caller.pubkey(),
                patient_wallet: wallet,
                keys: r.keys,
                next_material: None,
            }
            .instruction(),
            &[&caller],
        )
        .await
        .unwrap();
    let ended = r.participation(&wallet).await;
    assert!(ended.ended && ended.periods_paid == 2);
    let released = study.outstanding - r.study().await.outstanding;
    assert_eq!(released, u64::from(PERIODS - 2) * PERIOD);
    r.env
        .expect_rejected(
            ix::ParticipationEnd {
                caller: caller.pubkey(),
                patient_wallet: wallet,
                keys: r.keys,
                next_material: None,
            }
            .instruction(),
            &[&caller],
            E::ParticipationEnded,
            &[participation, r.keys.study],
        )
        .await;
}

#[tokio::test]
async fn m2_periods_due_before_a_lapse_stay_claimable_after_it_after_ending_and_across_a_pause() {
    if skip_unless_own_cluster("moves the clock and pauses the config").await {
        return;
    }
    let r = research().await;
    let patient = r.enrolled().await;
    let wallet = patient.pubkey();
    r.advance(3).await;
    r.env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant: r.grant(&wallet),
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    r.advance(4).await;
    // ending the participation first releases only what had not come due
    let before = r.study().await;
    let caller = r.env.actor().await;
    r.env
        .send(
            ix::ParticipationEnd {
                caller: caller.pubkey(),
                patient_wallet: wallet,
                keys: r.keys,
                next_material: None,
            }
            .instruction(),
            &[&caller],
        )
        .await
        .unwrap();
    let released = before.outstanding - r.study().await.outstanding;
    assert_eq!(released, u64::from(PERIODS - 3) * PERIOD);
    // a pause holds the payout, it does not forfeit it
    let admin = r.env.admin.insecure_clone();
    r.env
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
    r.refused(&patient, E::Paused).await;
    let summary = r.env.client.rewards_summary(&wallet).await.unwrap();
    assert_eq!(
        (summary[0].claimable, summary[0].held_while_paused),
        (0, 3 * PERIOD)
    );
    r.env
        .send(
            ix::ConfigSetPaused {
                admin: admin.pubkey(),
                paused: false,
            }
            .instruction(),
            &[&admin],
        )
        .await
        .unwrap();
    let summary = r.env.client.rewards_summary(&wallet).await.unwrap();
    assert_eq!(
        (summary[0].claimable, summary[0].held_while_paused),
        (3 * PERIOD, 0)
    );
    assert_eq!(r.collect(&patient).await, (1, 3));
    r.refused(&patient, E::ParticipationEnded).await;
    assert_eq!(r.participation(&wallet).await.paid, ENROL + 3 * PERIOD);
}

#[tokio::test]
async fn m2_a_narrowed_research_grant_cannot_be_enrolled_with() {
    let r = research().await;
    let patient = r.env.register_patient().await;
    let wallet = patient.pubkey();
    r.invite(&r.sponsor, &wallet).await.unwrap();
    r.env
        .grant(
            &patient,
            &r.sponsor.pubkey(),
            Purpose::Research,
            lab() | 0b100,
            action::READ,
            60,
        )
        .await
        .unwrap();
    r.update(&patient, lab(), r.env.now().await + 60 * DAY)
        .await;
    let watched = [
        r.keys.study,
        r.keys.vault,
        pda::participation(&r.keys.study, &wallet).0,
        pda::invitation(&r.keys.study, &wallet).0,
    ];
    r.env
        .expect_rejected(
            ix::StudyEnroll {
                authority: wallet,
                patient_wallet: wallet,
                keys: r.keys,
                protocol: r.protocol,
            }
            .instruction(),
            &[&patient],
            E::GrantNarrowed,
            &watched,
        )
        .await;
}

// ------------------------------------------------------------------------------- M3

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

// ------------------------------------------------------------------------------- L5

#[tokio::test]
async fn l5_the_sdks_claim_preview_reports_what_the_program_then_does() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    use careledger_sdk::claims::Preview;
    let b = billing(true).await;
    let client = &b.env.client;
    let stranger = b.env.verified_provider(ROLE_CLINICIAN).await;
    let treat = CareBasis::Grant(Purpose::Treatment);
    let args = b.today().await;
    // each refusal the preview predicts is the one the program then returns
    let cases = [
        (&stranger, treat, E::NoCareRelationship),
        (&b.clinic, treat, E::ProviderOutOfNetwork),
    ];
    for (who, care, expected) in cases {
        let p = client
            .preview_claim(&who.pubkey(), &b.keys, &b.record, &b.rule, care, &args)
            .await
            .unwrap();
        assert_eq!(p, Preview::Refused(expected));
        b.refused(who, &b.record, care, expected).await;
    }
    b.env
        .send(
            ix::NetworkAdd {
                insurer: b.insurer.pubkey(),
                provider: b.clinic.pubkey(),
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    // stale terms, then paid now while the vault covers it
    let stale = ClaimSubmitArgs {
        expected_terms: visit_terms(99),
        ..args.clone()
    };
    let p = b.preview(&b.clinic.pubkey(), &b.rule, &stale).await;
    assert_eq!(p, Preview::Refused(E::RuleTermsChanged));
    let p = b.preview(&b.clinic.pubkey(), &b.rule, &args).await;
    assert!(
        matches!(p, Preview::Decided { paid_now: true, .. }),
        "{p:?}"
    );
    b.paid(&b.clinic, &b.record, treat).await;
    let p = b.preview(&b.clinic.pubkey(), &b.rule, &args).await;
    assert_eq!(p, Preview::Refused(E::DuplicateClaim));
    // a vault that cannot cover the benefit: decided, but owed rather than paid (another
    // procedure the same day)
    let big_terms = RuleTerms {
        allowed_per_unit: 2_000,
        ..visit_terms(100)
    };
    let surgery = rule_key(&[7; 32], "CPT", "27447", "");
    b.env
        .send(
            ix::RuleAdd {
                keys: b.keys,
                rule_key: surgery,
                terms: big_terms,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let big = ClaimSubmitArgs {
        units: 4,
        billed: 100_000,
        expected_terms: big_terms,
        ..args.clone()
    };
    let p = b.preview(&b.clinic.pubkey(), &surgery, &big).await;
    assert!(
        matches!(
            p,
            Preview::Decided {
                paid_now: false,
                state: ClaimState::Approved,
                ..
            }
        ),
        "{p:?}"
    );
    let payee = b.payee(&b.clinic.pubkey()).await;
    let ixn = ix::ClaimSubmit {
        provider: b.clinic.pubkey(),
        keys: b.keys,
        record: b.record,
        rule_key: surgery,
        payee,
        care: treat,
        args: big.clone(),
    }
    .instruction();
    b.env.send(ixn, &[&b.clinic]).await.unwrap();
    let owed: Claim = client
        .fetch(
            &pda::claim(
                &b.keys.policy,
                &b.clinic.pubkey(),
                &surgery,
                big.service_date,
            )
            .0,
        )
        .await
        .unwrap();
    assert_eq!(owed.state, ClaimState::Approved);
    // a retired rule, and a paused program (checked before anything else)
    b.env
        .send(
            ix::RuleRetire {
                keys: b.keys,
                rule_key: surgery,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let p = b.preview(&b.clinic.pubkey(), &surgery, &big).await;
    assert_eq!(p, Preview::Refused(E::RuleRetired));
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
    let p = b.preview(&b.clinic.pubkey(), &surgery, &big).await;
    assert_eq!(p, Preview::Refused(E::Paused));
}

#[tokio::test]
async fn l5_check_access_refuses_what_access_log_refuses() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let scene = careledger_tests::ConsentScene::new().await;
    let env = &scene.env;
    let (wallet, clinic) = (scene.patient.pubkey(), scene.clinic.pubkey());
    let both = action::READ | action::WRITE;
    let err = env
        .client
        .check_access(&scene.grant, &scene.record, both, Purpose::Treatment)
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::InvalidAccessAction));
    let args = careledger_sdk::AccessLogArgs {
        action: both,
        purpose: Purpose::Treatment,
        strict: false,
    };
    let log = ix::AccessLog {
        grantee: clinic,
        patient_wallet: wallet,
        grant: scene.grant,
        record: scene.record,
        args,
    }
    .instruction();
    env.expect_rejected(
        log,
        &[&scene.clinic],
        E::InvalidAccessAction,
        &[scene.grant],
    )
    .await;
    let ok = env
        .client
        .check_access(
            &scene.grant,
            &scene.record,
            action::READ,
            Purpose::Treatment,
        )
        .await
        .unwrap();
    assert_eq!(ok, Ok(()));
    let admin = env.admin.insecure_clone();
    env.send(
        ix::ConfigSetPaused {
            admin: admin.pubkey(),
            paused: true,
        }
        .instruction(),
        &[&admin],
    )
    .await
    .unwrap();
    let err = env
        .client
        .check_access(
            &scene.grant,
            &scene.record,
            action::READ,
            Purpose::Treatment,
        )
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::Paused));
}

// ------------------------------------------------------------------------------- L2

#[tokio::test]
async fn l2_approving_nothing_is_an_appealable_denial_and_the_policy_waits_for_the_window() {
    if skip_unless_own_cluster("moves the clock past the appeal window").await {
        return;
    }
    let b = billing(false).await;
    let reviewed = rule_key(&[7; 32], "CPT", "70553", "");
    let terms = RuleTerms {
        prior_auth_required: true,
        ..visit_terms(100)
    };
    b.env
        .send(
            ix::RuleAdd {
                keys: b.keys,
                rule_key: reviewed,
                terms,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let payee = b.payee(&b.clinic.pubkey()).await;
    let today = service_day(b.env.now().await);
    let submit = |days_ago: i64| {
        let day = today - days_ago * DAY;
        let args = ClaimSubmitArgs {
            expected_terms: terms,
            ..b.args(day, terms)
        };
        let address = pda::claim(&b.keys.policy, &b.clinic.pubkey(), &reviewed, day).0;
        let ixn = ix::ClaimSubmit {
            provider: b.clinic.pubkey(),
            keys: b.keys,
            record: b.record,
            rule_key: reviewed,
            payee,
            care: CareBasis::Grant(Purpose::Treatment),
            args,
        }
        .instruction();
        (address, ixn)
    };
    let (claim, ixn) = submit(0);
    b.env.send(ixn, &[&b.clinic]).await.unwrap();
    let state: Claim = b.env.client.fetch(&claim).await.unwrap();
    assert_eq!(state.state, ClaimState::PendingReview);
    // the insurer "approves" 0 of the 100 the rule allows: a denial, with its reason
    let zero = careledger_sdk::ReviewDecision::Approve { amount: 0 };
    b.env
        .send(
            ix::ClaimReview {
                keys: b.keys,
                claim,
                rule_key: state.rule_key,
                payee,
                decision: zero,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let denied: Claim = b.env.client.fetch(&claim).await.unwrap();
    assert_eq!(
        (denied.state, denied.reason_code),
        (
            ClaimState::Denied,
            careledger_sdk::claims::reason::APPROVED_NOTHING
        )
    );
    // the policy cannot close while that denial can be appealed
    let close = ix::PolicyClose {
        keys: b.keys,
        destination: payee,
    }
    .instruction();
    let watched = [b.keys.policy, b.keys.vault];
    b.env
        .expect_rejected(close.clone(), &[&b.insurer], E::AppealWindowOpen, &watched)
        .await;
    let policy: careledger_sdk::Policy = b.env.client.fetch(&b.keys.policy).await.unwrap();
    assert_eq!(
        policy.appeals_open_until,
        denied.decided_at + careledger_sdk::APPEAL_WINDOW_SECS
    );
    // the provider can appeal within the window; past it, the appeal is refused
    b.env
        .set_clock(denied.decided_at + careledger_sdk::APPEAL_WINDOW_SECS)
        .await;
    let appeal = ix::ClaimAppeal {
        provider: b.clinic.pubkey(),
        keys: b.keys,
        claim,
    }
    .instruction();
    b.env
        .expect_rejected(
            appeal,
            &[&b.clinic],
            E::AppealWindowClosed,
            &[claim, b.keys.policy],
        )
        .await;
    // and the window over, the policy closes
    let insurer_tokens = b.env.token_account(&b.keys.mint, &b.insurer.pubkey()).await;
    b.env
        .send(
            ix::PolicyClose {
                keys: b.keys,
                destination: insurer_tokens,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
}

// ------------------------------------------------------------------------------- L4

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

// ------------------------------------------------------------------------------- L1

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

// ------------------------------------------------------------------------------- L3

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

// ------------------------------------------------------------------------------- privacy

#[tokio::test]
async fn a_patient_takes_part_in_a_study_under_a_key_only_they_can_link() {
    let r = research().await;
    let wallet = r.env.register_patient().await;
    let key = careledger_identity::privacy::study_key(&wallet, &r.keys.study).unwrap();
    r.env.fund(&key.pubkey()).await;
    let k = key.pubkey();
    r.env
        .send(ix::PatientRegister { wallet: k }.instruction(), &[&key])
        .await
        .unwrap();
    r.invite(&r.sponsor, &k).await.unwrap();
    let until = r.env.now().await + 60 * DAY;
    let ixs = ix::StudyEnrollWithGrant {
        authority: k,
        patient_wallet: k,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: until,
    }
    .instructions();
    r.env.send_all(&ixs, &[&key]).await.unwrap();
    // what is public about the study names the derived key, never the main wallet
    let main = wallet.pubkey();
    for address in [
        pda::participation(&r.keys.study, &k).0,
        pda::invitation(&r.keys.study, &k).0,
        r.grant(&k),
    ] {
        let account = r
            .env
            .client
            .transport()
            .account(&address)
            .await
            .unwrap()
            .unwrap();
        let data = account.data;
        assert!(
            !data.windows(32).any(|w| w == main.as_ref()),
            "{address} names the wallet"
        );
        assert!(data.windows(32).any(|w| w == k.as_ref()));
    }
    // and the wallet can derive the same key again to collect
    let again = careledger_identity::privacy::study_key(&wallet, &r.keys.study).unwrap();
    assert_eq!(again.pubkey(), k);
}

// --------------------------------------------- second review (the auditor's report on this change)

#[tokio::test]
async fn h1_authorship_counts_only_for_care_and_a_member_cannot_bill_themself() {
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    // an ER clinician writes a record under a break-glass grant nobody reviewed
    let er = b
        .env
        .verified_provider(ROLE_CLINICIAN | careledger_sdk::ROLE_EMERGENCY)
        .await;
    let glass = careledger_sdk::BreakGlassOpenArgs {
        classes: lab(),
        actions: action::WRITE,
        window_secs: 600,
        reason_code: 1,
    };
    b.env
        .send(
            ix::BreakGlassOpen {
                clinician: er.pubkey(),
                patient_wallet: wallet,
                serial: 1,
                args: glass,
            }
            .instruction(),
            &[&er],
        )
        .await
        .unwrap();
    let index = b.env.patient(&wallet).await.record_count;
    let author = Author::Emergency {
        wallet: er.pubkey(),
        serial: 1,
    };
    let anchor = ix::RecordAnchor {
        patient_wallet: wallet,
        index,
        author,
        args: careledger_sdk::RecordAnchorArgs {
            cid: careledger_tests::sample_cid(7),
            content_sha256: [7; 32],
            class: RecordClass::LabResult.id(),
        },
    }
    .instruction();
    b.env.send(anchor, &[&er]).await.unwrap();
    let written = pda::record(&wallet, index).0;
    // authorship under an emergency grant is no care relationship for billing
    b.refused(
        &er,
        &written,
        CareBasis::AuthoredRecord,
        E::NoCareRelationship,
    )
    .await;
    // a member who is also a verified clinician cannot bill their own policy, even for a
    // record they wrote themself
    let register = ix::ProviderRegister {
        wallet,
        args: careledger_sdk::ProviderRegisterArgs {
            supply_roles: 0,
            roles: ROLE_CLINICIAN,
            credential_ref: [3; 32],
        },
    }
    .instruction();
    b.env.send(register, &[&b.patient]).await.unwrap();
    b.env
        .verify(&wallet, ROLE_CLINICIAN, b.env.now().await + 30 * DAY)
        .await
        .unwrap();
    b.refused(
        &b.patient,
        &b.record,
        CareBasis::AuthoredRecord,
        E::SelfBilling,
    )
    .await;
}

#[tokio::test]
async fn h1_a_claim_is_for_a_service_the_record_documents_and_the_relationship_covered() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let b = billing(false).await;
    let payee = b.payee(&b.clinic.pubkey()).await;
    let today = service_day(b.env.now().await);
    let care = CareBasis::Grant(Purpose::Treatment);
    // five days ago: the treatment grant was given today, so it covered no service then
    let earlier = b.args(today - 5 * DAY, visit_terms(100));
    let watched = b.watched(&b.clinic.pubkey(), &earlier);
    let ixn = b.submit(&b.clinic.pubkey(), &b.record, &payee, care, earlier);
    b.env
        .expect_rejected(ixn, &[&b.clinic], E::NoCareRelationship, &watched)
        .await;
    // two days on, the old record documents no service of the new day
    b.env.set_clock(b.env.now().await + 2 * DAY).await;
    let new_day = b.today().await;
    let watched = b.watched(&b.clinic.pubkey(), &new_day);
    let ixn = b.submit(&b.clinic.pubkey(), &b.record, &payee, care, new_day);
    b.env
        .expect_rejected(ixn, &[&b.clinic], E::ServiceNotDocumented, &watched)
        .await;
    // nor does a record anchored long after the service
    b.env.set_clock(b.env.now().await + 100 * DAY).await;
    let late = b
        .env
        .anchor_as_patient(&b.patient, RecordClass::LabResult.id(), 8)
        .await;
    let old_day = b.args(today, visit_terms(100));
    let watched = b.watched(&b.clinic.pubkey(), &old_day);
    let ixn = b.submit(&b.clinic.pubkey(), &late, &payee, care, old_day);
    b.env
        .expect_rejected(ixn, &[&b.clinic], E::ServiceNotDocumented, &watched)
        .await;
}

#[tokio::test]
async fn l2_a_claim_in_review_is_decided_under_the_terms_it_was_submitted_under() {
    let b = billing(false).await;
    let reviewed = rule_key(&[7; 32], "CPT", "70551", "");
    let terms = RuleTerms {
        prior_auth_required: true,
        ..visit_terms(100)
    };
    b.env
        .send(
            ix::RuleAdd {
                keys: b.keys,
                rule_key: reviewed,
                terms,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let payee = b.payee(&b.clinic.pubkey()).await;
    let day = service_day(b.env.now().await);
    let ixn = ix::ClaimSubmit {
        provider: b.clinic.pubkey(),
        keys: b.keys,
        record: b.record,
        rule_key: reviewed,
        payee,
        care: CareBasis::Grant(Purpose::Treatment),
        args: b.args(day, terms),
    }
    .instruction();
    b.env.send(ixn, &[&b.clinic]).await.unwrap();
    let claim = pda::claim(&b.keys.policy, &b.clinic.pubkey(), &reviewed, day).0;
    // the insurer cuts the rule to nothing, then "approves" what the rule now allows
    let cut = RuleTerms {
        allowed_per_unit: 1,
        copay: 1_000,
        ..terms
    };
    b.env
        .send(
            ix::RuleUpdate {
                keys: b.keys,
                rule_key: reviewed,
                terms: cut,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    let state: Claim = b.env.client.fetch(&claim).await.unwrap();
    let zero = careledger_sdk::ReviewDecision::Approve { amount: 0 };
    b.env
        .send(
            ix::ClaimReview {
                keys: b.keys,
                claim,
                rule_key: state.rule_key,
                payee,
                decision: zero,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    // under the submitted terms 100 was allowed: approving 0 is an appealable denial
    let decided: Claim = b.env.client.fetch(&claim).await.unwrap();
    assert_eq!(decided.state, ClaimState::Denied);
    assert_eq!(decided.terms, terms);
    // a denial does not freeze the vault (what an appeal then wins is owed, and settles once
    // funded), but a claim back in review does, until the insurer decides it
    let insurer_tokens = b.env.token_account(&b.keys.mint, &b.insurer.pubkey()).await;
    b.env
        .send(
            ix::PolicyWithdraw {
                keys: b.keys,
                destination: insurer_tokens,
                amount: 1,
            }
            .instruction(),
            &[&b.insurer],
        )
        .await
        .unwrap();
    b.env
        .send(
            ix::ClaimAppeal {
                provider: b.clinic.pubkey(),
                keys: b.keys,
                claim,
            }
            .instruction(),
            &[&b.clinic],
        )
        .await
        .unwrap();
    b.env
        .expect_rejected(
            ix::PolicyWithdraw {
                keys: b.keys,
                destination: insurer_tokens,
                amount: 1,
            }
            .instruction(),
            &[&b.insurer],
            E::PolicyHasOpenClaims,
            &[b.keys.vault, b.keys.policy],
        )
        .await;
}

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

#[tokio::test]
async fn h2_a_site_the_sponsor_removed_no_longer_speaks_for_it() {
    let r = research().await;
    let site = r.env.actor().await;
    r.env
        .send(
            ix::StudySetSite {
                keys: r.keys,
                site: site.pubkey(),
            }
            .instruction(),
            &[&r.sponsor],
        )
        .await
        .unwrap();
    let sybil = r.env.register_patient().await;
    let w = sybil.pubkey();
    r.invite(&site, &w).await.unwrap();
    r.env
        .send(
            ix::StudySetSite {
                keys: r.keys,
                site: Pubkey::default(),
            }
            .instruction(),
            &[&r.sponsor],
        )
        .await
        .unwrap();
    let until = r.env.now().await + 30 * DAY;
    let ixs = ix::StudyEnrollWithGrant {
        authority: w,
        patient_wallet: w,
        keys: r.keys,
        protocol: r.protocol,
        classes: lab(),
        expires_at: until,
    }
    .instructions();
    let watched = [
        r.keys.study,
        r.keys.vault,
        pda::invitation(&r.keys.study, &w).0,
    ];
    let before = r.env.snapshot(&watched).await;
    let err = r.env.send_all(&ixs, &[&sybil]).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::NotInvited));
    assert_eq!(before, r.env.snapshot(&watched).await);
}

#[tokio::test]
async fn l5_lamports_sent_to_an_address_do_not_change_what_the_preview_says() {
    use careledger_sdk::claims::Preview;
    let b = billing(true).await;
    let treat = CareBasis::Grant(Purpose::Treatment);
    let args = b.today().await;
    // a griefer funds the clinic's claim address and its network-membership address
    let claim = pda::claim(
        &b.keys.policy,
        &b.clinic.pubkey(),
        &b.rule,
        args.service_date,
    )
    .0;
    let membership = pda::network_membership(&b.insurer.pubkey(), &b.clinic.pubkey()).0;
    for address in [claim, membership] {
        b.env
            .client
            .transport()
            .fund(&address, 1_000_000)
            .await
            .unwrap();
    }
    let p = b.preview(&b.clinic.pubkey(), &b.rule, &args).await;
    // not a duplicate, and not in the network: what the program then says too
    assert_eq!(p, Preview::Refused(E::ProviderOutOfNetwork));
    b.refused(&b.clinic, &b.record, treat, E::ProviderOutOfNetwork)
        .await;
}

/// A 2-decimal mint whose freeze authority is its issuer (a regulated stablecoin, say), accepted
/// by the admin for payment; returns the mint and the issuer (mint and freeze authority).
async fn accepted_freezable_mint(env: &Env) -> (Pubkey, Keypair) {
    let issuer = env.actor().await;
    let mint = Keypair::new();
    let ixs = tokens::create_freezable_mint(
        &issuer.pubkey(),
        &mint.pubkey(),
        &issuer.pubkey(),
        Some(&issuer.pubkey()),
        2,
    );
    env.send_all(&ixs, &[&issuer, &mint]).await.unwrap();
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
    (mint.pubkey(), issuer)
}

// --------------------------------------------- third review (a second audit of the fixes)

#[tokio::test]
async fn h1_a_record_backs_no_service_before_the_care_it_was_written_under_began() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    b.env.set_clock(b.env.now().await + 5 * DAY).await;
    // a one-visit treatment grant today; the clinic writes the visit's record under it
    let visit = b.env.verified_provider(ROLE_CLINICIAN).await;
    b.env
        .grant(
            &b.patient,
            &visit.pubkey(),
            Purpose::Treatment,
            lab(),
            action::WRITE | action::READ,
            1,
        )
        .await
        .unwrap();
    let index = b.env.patient(&wallet).await.record_count;
    let author = Author::Provider {
        wallet: visit.pubkey(),
        purpose: Purpose::Treatment,
    };
    let args = careledger_sdk::RecordAnchorArgs {
        cid: careledger_tests::sample_cid(11),
        content_sha256: [11; 32],
        class: RecordClass::LabResult.id(),
    };
    b.env
        .send(
            ix::RecordAnchor {
                patient_wallet: wallet,
                index,
                author,
                args,
            }
            .instruction(),
            &[&visit],
        )
        .await
        .unwrap();
    let written = pda::record(&wallet, index).0;
    let stored: careledger_sdk::RecordAnchor = b.env.client.fetch(&written).await.unwrap();
    assert!(stored.care_authored && stored.care_since > 0);
    // days before the grant existed cannot be billed on it, by authorship or by the grant
    let payee = b.payee(&visit.pubkey()).await;
    let today = service_day(b.env.now().await);
    for care in [
        CareBasis::AuthoredRecord,
        CareBasis::Grant(Purpose::Treatment),
    ] {
        let before = b.args(today - 3 * DAY, visit_terms(100));
        let watched = b.watched(&visit.pubkey(), &before);
        let ixn = b.submit(&visit.pubkey(), &written, &payee, care, before);
        b.env
            .expect_rejected(ixn, &[&visit], E::NoCareRelationship, &watched)
            .await;
    }
    // the visit day itself is billed, once
    b.paid(&visit, &written, CareBasis::AuthoredRecord).await;
    // a grant whose care starts later (not_before) covers no service before it either
    let later = b.env.verified_provider(ROLE_CLINICIAN).await;
    let now = b.env.now().await;
    let starts_later = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: now + 2 * DAY,
        expires_at: now + 30 * DAY,
    };
    b.env
        .send(
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: later.pubkey(),
                args: starts_later,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    b.env.set_clock(now + 3 * DAY).await;
    let fresh = b
        .env
        .anchor_as_patient(&b.patient, RecordClass::LabResult.id(), 12)
        .await;
    let early = b.args(service_day(now), visit_terms(100));
    let payee = b.payee(&later.pubkey()).await;
    let watched = b.watched(&later.pubkey(), &early);
    let ixn = b.submit(
        &later.pubkey(),
        &fresh,
        &payee,
        CareBasis::Grant(Purpose::Treatment),
        early,
    );
    // the record (anchored three days later) documents that day, but the care had not begun
    b.env
        .expect_rejected(ixn, &[&later], E::NoCareRelationship, &watched)
        .await;
}

#[tokio::test]
async fn h1_a_guardian_cannot_consent_to_themself_nor_bill_the_ward() {
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    // the guardian is also a verified clinician
    let guardian = b.env.verified_provider(ROLE_CLINICIAN).await;
    let g = guardian.pubkey();
    let until = b.env.now().await + 20 * DAY;
    b.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(g),
                expires_at: until,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    let to_self = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: lab(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: until,
    };
    let grant = pda::grant(&wallet, &g, Purpose::Treatment).0;
    b.env
        .expect_rejected(
            ix::GrantCreate {
                authority: g,
                patient_wallet: wallet,
                grantee_wallet: g,
                args: to_self.clone(),
            }
            .instruction(),
            &[&guardian],
            E::GuardianIsParty,
            &[grant, pda::patient(&wallet).0],
        )
        .await;
    // even with the patient's own grant, the guardian cannot bill the ward's policy
    b.env
        .send(
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: g,
                args: to_self,
            }
            .instruction(),
            &[&b.patient],
        )
        .await
        .unwrap();
    b.refused(
        &guardian,
        &b.record,
        CareBasis::Grant(Purpose::Treatment),
        E::SelfBilling,
    )
    .await;
}

#[tokio::test]
async fn h1_an_amendment_by_another_provider_is_not_its_authors_care() {
    let b = billing(false).await;
    let wallet = b.patient.pubkey();
    let (first, second) = (
        b.env.verified_provider(ROLE_CLINICIAN).await,
        b.env.verified_provider(ROLE_CLINICIAN).await,
    );
    for p in [&first, &second] {
        b.env
            .grant(
                &b.patient,
                &p.pubkey(),
                Purpose::Operations,
                lab(),
                action::WRITE,
                30,
            )
            .await
            .unwrap();
    }
    let index = b.env.patient(&wallet).await.record_count;
    let as_author = |p: &Keypair| Author::Provider {
        wallet: p.pubkey(),
        purpose: Purpose::Operations,
    };
    let args = careledger_sdk::RecordAnchorArgs {
        cid: careledger_tests::sample_cid(13),
        content_sha256: [13; 32],
        class: RecordClass::LabResult.id(),
    };
    b.env
        .send(
            ix::RecordAnchor {
                patient_wallet: wallet,
                index,
                author: as_author(&first),
                args,
            }
            .instruction(),
            &[&first],
        )
        .await
        .unwrap();
    let amend = RecordAmendArgs {
        cid: careledger_tests::sample_cid(14),
        content_sha256: [14; 32],
        expected_version: 1,
    };
    b.env
        .send(
            ix::RecordAmend {
                patient_wallet: wallet,
                previous_index: index,
                new_index: index + 1,
                author: as_author(&second),
                args: amend,
            }
            .instruction(),
            &[&second],
        )
        .await
        .unwrap();
    let v2: careledger_sdk::RecordAnchor = b
        .env
        .client
        .fetch(&pda::record(&wallet, index + 1).0)
        .await
        .unwrap();
    assert!(
        !v2.care_authored,
        "the second provider amended what the first wrote"
    );
    let v2 = pda::record(&wallet, index + 1).0;
    b.refused(
        &second,
        &v2,
        CareBasis::AuthoredRecord,
        E::NoCareRelationship,
    )
    .await;
}

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

// ------------------------------------------------------------------------------- who may steer

#[tokio::test]
async fn study_set_site_and_invitation_close_only_by_the_sponsor_and_mint_remove_only_by_the_admin()
{
    let r = research().await;
    let attacker = r.env.actor().await;
    // a stranger who could name the site could then invite sybils: refused
    let mut hijack = ix::StudySetSite {
        keys: r.keys,
        site: attacker.pubkey(),
    }
    .instruction();
    careledger_tests::swap_signer(&mut hijack, &r.sponsor.pubkey(), attacker.pubkey());
    r.env
        .expect_rejected(hijack, &[&attacker], E::NotStudySponsor, &[r.keys.study])
        .await;
    // nor withdraw someone's invitation
    let patient = r.env.register_patient().await;
    r.invite(&r.sponsor, &patient.pubkey()).await.unwrap();
    let invitation = pda::invitation(&r.keys.study, &patient.pubkey()).0;
    let mut withdraw = ix::InvitationClose {
        keys: r.keys,
        patient_wallet: patient.pubkey(),
        invited_by: r.sponsor.pubkey(),
    }
    .instruction();
    careledger_tests::swap_signer(&mut withdraw, &r.sponsor.pubkey(), attacker.pubkey());
    r.env
        .expect_rejected(withdraw, &[&attacker], E::NotStudySponsor, &[invitation])
        .await;
    // nor send its rent elsewhere, even as the sponsor
    let elsewhere = ix::InvitationClose {
        keys: r.keys,
        patient_wallet: patient.pubkey(),
        invited_by: attacker.pubkey(),
    }
    .instruction();
    r.env
        .expect_rejected(
            elsewhere,
            &[&r.sponsor],
            E::WrongRentDestination,
            &[invitation],
        )
        .await;
    // the mint list: only the admin removes an entry, and its rent goes to the admin who paid
    let (mint, _) = accepted_freezable_mint(&r.env).await;
    let entry = pda::accepted_mint(&mint).0;
    let admin = r.env.admin.pubkey();
    let mut removal = ix::MintRemove {
        admin,
        mint,
        rent_to: admin,
    }
    .instruction();
    careledger_tests::swap_signer(&mut removal, &admin, attacker.pubkey());
    r.env
        .expect_rejected(removal, &[&attacker], E::NotAdmin, &[entry])
        .await;
    let admin_key = r.env.admin.insecure_clone();
    r.env
        .expect_rejected(
            ix::MintRemove {
                admin,
                mint,
                rent_to: attacker.pubkey(),
            }
            .instruction(),
            &[&admin_key],
            E::WrongRentDestination,
            &[entry],
        )
        .await;
}
