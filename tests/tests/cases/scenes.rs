//! The scenes the attacker tests share (they were findings.rs's, issue 12): a member and a
//! treating clinic billing a funded policy (`billing`), a study with its sponsor and a
//! participant (`research`), an admin-accepted freezable mint.
use careledger_sdk::claims::{rule_key, service_day};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, CareBasis};
use careledger_sdk::{action, pda, tokens, CareledgerError as E, CareledgerEvent};
use careledger_sdk::{
    Claim, ClaimState, ClaimSubmitArgs, GrantUpdateArgs, Participation, Purpose, RewardTerms,
    RuleTerms, Study, NO_RECORD_SCOPE,
};
use careledger_tests::{ClaimsScene, ClaimsSetup, Env, StudyScene, StudySetup, DAY};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

pub fn lab() -> u16 {
    RecordClass::LabResult.bit()
}

pub fn visit_terms(allowed_per_unit: u64) -> RuleTerms {
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
pub struct Billing(pub ClaimsScene);

impl std::ops::Deref for Billing {
    type Target = ClaimsScene;
    fn deref(&self) -> &ClaimsScene {
        &self.0
    }
}

pub async fn billing(network_only: bool) -> Billing {
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
    pub fn args(&self, day: i64, terms: RuleTerms) -> ClaimSubmitArgs {
        ClaimSubmitArgs {
            units: 1,
            billed: 100,
            service_date: day,
            document_commitment: [9; 32],
            expected_terms: terms,
        }
    }

    pub async fn today(&self) -> ClaimSubmitArgs {
        self.args(service_day(self.env.now().await), visit_terms(100))
    }

    pub async fn payee(&self, provider: &Pubkey) -> Pubkey {
        self.env.token_account(&self.keys.mint, provider).await
    }

    pub fn submit(
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
    pub fn watched(&self, by: &Pubkey, args: &ClaimSubmitArgs) -> Vec<Pubkey> {
        vec![
            self.keys.vault,
            self.keys.policy,
            pda::rule(&self.keys.policy, &self.rule).0,
            pda::claim(&self.keys.policy, by, &self.rule, args.service_date).0,
        ]
    }

    pub async fn refused(&self, who: &Keypair, record: &Pubkey, care: CareBasis, expected: E) {
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
    pub async fn preview(
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
    pub async fn clinic_refused(&self, expected: E) {
        let care = CareBasis::Grant(Purpose::Treatment);
        self.refused(&self.clinic, &self.record, care, expected)
            .await;
    }

    pub async fn paid(&self, who: &Keypair, record: &Pubkey, care: CareBasis) -> Claim {
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

pub const ENROL: u64 = 100;
pub const PERIOD: u64 = 10;
pub const PERIODS: u16 = 10;

pub struct Research(pub StudyScene);

impl std::ops::Deref for Research {
    type Target = StudyScene;
    fn deref(&self) -> &StudyScene {
        &self.0
    }
}

pub async fn research() -> Research {
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
    pub async fn invite(
        &self,
        by: &Keypair,
        wallet: &Pubkey,
    ) -> Result<(), careledger_sdk::SdkError> {
        self.0.invite(by, wallet, 20).await
    }

    /// A registered, invited patient enrolled with a 60-day research grant on lab results.
    pub async fn enrolled(&self) -> Keypair {
        self.0.enrolled(60).await.0
    }

    pub async fn study(&self) -> Study {
        self.env.client.fetch(&self.keys.study).await.unwrap()
    }

    pub async fn participation(&self, wallet: &Pubkey) -> Participation {
        let address = pda::participation(&self.keys.study, wallet).0;
        self.env.client.fetch(&address).await.unwrap()
    }

    pub fn claim_ix(&self, patient: &Keypair) -> solana_instruction::Instruction {
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
    pub async fn collect(&self, patient: &Keypair) -> (u16, u16) {
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

    pub async fn refused(&self, patient: &Keypair, expected: E) {
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

    pub async fn advance(&self, days: i64) {
        self.env.set_clock(self.env.now().await + days * DAY).await;
    }

    pub fn grant(&self, wallet: &Pubkey) -> Pubkey {
        pda::grant(wallet, &self.sponsor.pubkey(), Purpose::Research).0
    }

    pub async fn update(&self, patient: &Keypair, classes: u16, expires_at: i64) {
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

/// A 2-decimal mint whose freeze authority is its issuer (a regulated stablecoin, say), accepted
/// by the admin for payment; returns the mint and the issuer (mint and freeze authority).
pub async fn accepted_freezable_mint(env: &Env) -> (Pubkey, Keypair) {
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
