//! Every account the program creates, created twice over: once at an address a griefer has
//! pre-funded (it must still be created, rent topped up), and once more where it already exists
//! (it must be refused with that account's own error and left byte-identical).
use anchor_lang::prelude::Rent;
use careledger_sdk::claims::{rule_key, service_day};
use careledger_sdk::ix::{self, Author, PolicyKeys, StudyKeys};
use careledger_sdk::program::instructions::ProductRegisterArgs;
use careledger_sdk::program::state::{SUPPLY_DISPENSER, SUPPLY_MANUFACTURER};
use careledger_sdk::{action, pda, CareledgerError as E, Purpose, Transport};
use careledger_sdk::{
    BreakGlassOpenArgs, ClaimSubmitArgs, ConfigInitArgs, GrantCreateArgs, PolicyCreateArgs,
    ProviderRegisterArgs, RecordAmendArgs, RecordAnchorArgs, RequestApproveArgs, RequestCreateArgs,
    RewardTerms, RuleTerms, StudyCreateArgs, NO_RECORD_SCOPE,
};
use careledger_sdk::{ROLE_CLINICIAN, ROLE_EMERGENCY, ROLE_INSURER, ROLE_RESEARCHER};
use careledger_tests::{sample_cid, skip_unless_own_cluster, Env, DAY};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// What a griefer sends ahead: enough for a rent-exempt empty account, far less than any of ours.
const SQUAT: u64 = 1_000_000;
const LAB: u16 = 1;

/// One creating call: what it sends, who signs, what it creates, and how a repeat is refused.
struct Creation {
    name: &'static str,
    instructions: Vec<Instruction>,
    signer: Keypair,
    /// A second signer (the status map a batch commission creates).
    co_signer: Option<Keypair>,
    creates: Vec<Pubkey>,
    /// The call that would create the same account again, and its precise error.
    again: Option<(Instruction, E)>,
}

struct World {
    env: Env,
    done: Vec<Creation>,
}

impl World {
    fn signer_of(&self, name: &str) -> &Keypair {
        &self
            .done
            .iter()
            .find(|c| c.name == name)
            .expect(name)
            .signer
    }

    /// Sends `c`, squatting on each address it creates first when `squat` is set, and checks
    /// every created account is owned by its program and rent-exempt.
    async fn create(&mut self, squat: bool, c: Creation) {
        assert!(
            !c.creates.is_empty(),
            "{}: a creation that creates nothing",
            c.name
        );
        let transport = self.env.client.transport();
        if squat {
            for a in &c.creates {
                transport.fund(a, SQUAT).await.expect("squat");
            }
        }
        self.env
            .send_all(
                &c.instructions,
                &[&c.signer]
                    .into_iter()
                    .chain(c.co_signer.as_ref())
                    .collect::<Vec<_>>(),
            )
            .await
            .unwrap_or_else(|e| panic!("{} (squatted: {squat}): {e}", c.name));
        for a in &c.creates {
            let account = transport.account(a).await.unwrap().expect(c.name);
            let token = account.owner == anchor_spl::token::ID;
            assert!(
                account.owner == careledger_sdk::program::ID || token,
                "{}: {a} owned by {}",
                c.name,
                account.owner
            );
            let rent = Rent::default().minimum_balance(account.data.len());
            assert!(account.lamports >= rent, "{}: {a} not rent-exempt", c.name);
        }
        self.done.push(c);
    }
}

/// Builds the world: config, patient, three providers, a record and its amendment, a grant, a
/// request and its approval, a break-glass grant, a funded policy with a rule and a claim, and
/// a funded study with an enrolment.
async fn world(squat: bool) -> World {
    let env = Env::bare().await;
    let mut w = World { env, done: vec![] };
    let e = &w.env;
    let (upgrade, admin, ca) = (
        e.upgrade_authority.insecure_clone(),
        e.admin.pubkey(),
        e.credential_authority.pubkey(),
    );
    let config_args = ConfigInitArgs {
        admin,
        credential_authority: ca,
        max_break_glass_secs: 4 * 3600,
    };
    let config_ix = ix::ConfigInit {
        upgrade_authority: upgrade.pubkey(),
        args: config_args,
    }
    .instruction();
    let c = Creation {
        name: "config_init",
        instructions: vec![config_ix.clone()],
        co_signer: None,
        signer: upgrade,
        creates: vec![pda::config()],
        again: Some((config_ix, E::ConfigAlreadyInitialized)),
    };
    w.create(squat, c).await;

    let patient = w.env.actor().await;
    let wallet = patient.pubkey();
    let register = ix::PatientRegister { wallet }.instruction();
    let c = Creation {
        name: "patient_register",
        instructions: vec![register.clone()],
        co_signer: None,
        signer: patient.insecure_clone(),
        creates: vec![pda::patient(&wallet).0],
        again: Some((register, E::PatientAlreadyRegistered)),
    };
    w.create(squat, c).await;

    let mut providers = vec![];
    for roles in [
        ROLE_CLINICIAN | ROLE_EMERGENCY,
        ROLE_INSURER,
        ROLE_RESEARCHER,
    ] {
        let provider = w.env.actor().await;
        let args = ProviderRegisterArgs {
            supply_roles: 0,
            roles,
            credential_ref: [0x11; 32],
        };
        let register = ix::ProviderRegister {
            wallet: provider.pubkey(),
            args,
        }
        .instruction();
        let c = Creation {
            name: "provider_register",
            instructions: vec![register.clone()],
            co_signer: None,
            signer: provider.insecure_clone(),
            creates: vec![pda::provider(&provider.pubkey()).0],
            again: Some((register, E::ProviderAlreadyRegistered)),
        };
        w.create(squat, c).await;
        let year = w.env.now().await + 365 * DAY;
        w.env
            .verify(&provider.pubkey(), roles, year)
            .await
            .expect("verify");
        providers.push(provider);
    }
    let [clinic, insurer, sponsor] = <[Keypair; 3]>::try_from(providers).unwrap();

    let anchor = RecordAnchorArgs {
        cid: sample_cid(1),
        content_sha256: [1; 32],
        class: 0,
    };
    let c = Creation {
        name: "record_anchor",
        instructions: vec![ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author: Author::Patient,
            args: anchor,
        }
        .instruction()],
        co_signer: None,
        signer: patient.insecure_clone(),
        creates: vec![pda::record(&wallet, 0).0],
        again: None,
    };
    w.create(squat, c).await;
    let amend = RecordAmendArgs {
        cid: sample_cid(2),
        content_sha256: [2; 32],
        expected_version: 1,
    };
    let c = Creation {
        name: "record_amend",
        instructions: vec![ix::RecordAmend {
            patient_wallet: wallet,
            previous_index: 0,
            new_index: 1,
            author: Author::Patient,
            args: amend,
        }
        .instruction()],
        co_signer: None,
        signer: patient.insecure_clone(),
        creates: vec![pda::record(&wallet, 1).0],
        again: None,
    };
    w.create(squat, c).await;

    let now = w.env.now().await;
    let grant = |grantee: &Pubkey, purpose| {
        let args = GrantCreateArgs {
            purpose,
            classes: u16::MAX,
            actions: action::READ,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: now + 30 * DAY,
        };
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: *grantee,
            args,
        }
        .instruction()
    };
    for (grantee, purpose) in [
        (clinic.pubkey(), Purpose::Treatment),
        (insurer.pubkey(), Purpose::Payment),
    ] {
        let create = grant(&grantee, purpose);
        let c = Creation {
            name: "grant_create",
            instructions: vec![create.clone()],
            co_signer: None,
            signer: patient.insecure_clone(),
            creates: vec![pda::grant(&wallet, &grantee, purpose).0],
            again: Some((create, E::GrantAlreadyExists)),
        };
        w.create(squat, c).await;
    }

    // the same grant made against a signed consent statement (a purpose not used above)
    let statement_args = GrantCreateArgs {
        purpose: Purpose::PublicHealth,
        classes: LAB,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: now + 30 * DAY,
    };
    let patient_kp = w.signer_of("patient_register").insecure_clone();
    let (signed, _) = w
        .env
        .signed_grant(
            &patient_kp,
            &wallet,
            &clinic.pubkey(),
            statement_args,
            careledger_sdk::statement::SignedForm::Plain,
        )
        .await;
    let c = Creation {
        name: "grant_create_signed",
        instructions: signed.to_vec(),
        co_signer: None,
        signer: patient_kp,
        creates: vec![pda::grant(&wallet, &clinic.pubkey(), Purpose::PublicHealth).0],
        // a repeat of the same pair is refused before the address is looked at: the statement's
        // nonce names the serial the first one used (tests/cases/statements.rs)
        again: None,
    };
    w.create(squat, c).await;

    let request = |purpose| RequestCreateArgs {
        classes: LAB,
        actions: action::READ,
        purpose,
        reason_code: 3,
        duration_secs: 30 * DAY as u32,
    };
    let ask = ix::RequestCreate {
        requester: clinic.pubkey(),
        patient_wallet: wallet,
        args: request(Purpose::Operations),
    }
    .instruction();
    let c = Creation {
        name: "request_create",
        instructions: vec![ask.clone()],
        co_signer: None,
        signer: clinic.insecure_clone(),
        creates: vec![pda::request(&wallet, &clinic.pubkey()).0],
        // approval closes the request, so a repeat is tried on a second request below
        again: None,
    };
    w.create(squat, c).await;
    let approval = RequestApproveArgs {
        classes: LAB,
        actions: action::READ,
        expires_at: now + 29 * DAY,
    };
    let approve = |purpose| {
        ix::RequestApprove {
            authority: wallet,
            patient_wallet: wallet,
            requester: clinic.pubkey(),
            purpose,
            args: approval.clone(),
        }
        .instruction()
    };
    let c = Creation {
        name: "request_approve",
        instructions: vec![approve(Purpose::Operations)],
        co_signer: None,
        signer: patient.insecure_clone(),
        creates: vec![pda::grant(&wallet, &clinic.pubkey(), Purpose::Operations).0],
        again: None,
    };
    w.create(squat, c).await;

    let glass = BreakGlassOpenArgs {
        classes: LAB,
        actions: action::READ,
        window_secs: 3600,
        reason_code: 7,
    };
    let open = ix::BreakGlassOpen {
        clinician: clinic.pubkey(),
        patient_wallet: wallet,
        serial: 1,
        args: glass,
    }
    .instruction();
    let c = Creation {
        name: "break_glass_open",
        instructions: vec![open.clone()],
        co_signer: None,
        signer: clinic.insecure_clone(),
        creates: vec![pda::emergency_grant(&wallet, &clinic.pubkey(), 1).0],
        // each emergency gets its own address (the patient's next serial): opening again
        // creates the second one rather than re-creating the first
        again: None,
    };
    w.create(squat, c).await;

    // Money: a mint, a funded policy with a rule and a claim, a funded study and an enrolment.
    let (mint, mint_authority) = w.env.mint(0).await;
    let keys = PolicyKeys::new(&insurer.pubkey(), 1, &wallet, &mint);
    let policy_args = PolicyCreateArgs {
        policy_id: 1,
        coverage_start: now - DAY,
        coverage_end: now + 300 * DAY,
        benefit_cap: 10_000,
        deductible: 0,
        network_only: true,
    };
    let create = ix::PolicyCreate {
        keys,
        args: policy_args,
    }
    .instruction();
    let c = Creation {
        name: "policy_create",
        instructions: vec![create.clone()],
        co_signer: None,
        signer: insurer.insecure_clone(),
        creates: vec![keys.policy, keys.vault],
        again: Some((create, E::PolicyAlreadyExists)),
    };
    w.create(squat, c).await;
    let rule = rule_key(&[5; 32], "CPT", "99213", "");
    let terms = RuleTerms {
        allowed_per_unit: 100,
        copay: 0,
        coinsurance_bps: 0,
        max_units_per_claim: 1,
        max_claims_per_period: 10,
        prior_auth_required: false,
    };
    let add = ix::RuleAdd {
        keys,
        rule_key: rule,
        terms,
    }
    .instruction();
    let c = Creation {
        name: "rule_add",
        instructions: vec![add.clone()],
        co_signer: None,
        signer: insurer.insecure_clone(),
        creates: vec![pda::rule(&keys.policy, &rule).0],
        again: Some((add, E::RuleAlreadyExists)),
    };
    w.create(squat, c).await;
    w.env
        .mint_to(&mint, &mint_authority, &keys.vault, 1_000)
        .await;
    let join = ix::NetworkAdd {
        insurer: insurer.pubkey(),
        provider: clinic.pubkey(),
    }
    .instruction();
    let c = Creation {
        name: "network_add",
        instructions: vec![join.clone()],
        co_signer: None,
        signer: insurer.insecure_clone(),
        creates: vec![pda::network_membership(&insurer.pubkey(), &clinic.pubkey()).0],
        again: Some((join, E::NetworkMemberAlreadyAdded)),
    };
    w.create(squat, c).await;
    let payee = w.env.token_account(&mint, &clinic.pubkey()).await;
    let record = pda::record(&wallet, 1).0;
    let claim_args = ClaimSubmitArgs {
        units: 1,
        billed: 100,
        service_date: service_day(now),
        document_commitment: [9; 32],
        expected_terms: terms,
    };
    let claim = pda::claim(
        &keys.policy,
        &clinic.pubkey(),
        &rule,
        claim_args.service_date,
    )
    .0;
    let care = ix::CareBasis::Grant(Purpose::Treatment);
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
    let c = Creation {
        name: "claim_submit",
        instructions: vec![submit.clone()],
        co_signer: None,
        signer: clinic.insecure_clone(),
        creates: vec![claim],
        again: Some((submit, E::DuplicateClaim)),
    };
    w.create(squat, c).await;

    let study = StudyKeys::new(&sponsor.pubkey(), 1, &mint);
    let study_args = StudyCreateArgs {
        study_id: 1,
        terms: RewardTerms {
            enrolment_reward: 10,
            period_reward: 0,
            period_secs: 0,
            periods: 0,
        },
        classes: LAB,
        data_use_code: 0,
        enrol_start: now - 60,
        enrol_end: now + 30 * DAY,
        max_participants: 5,
    };
    let create = ix::StudyCreate {
        keys: study,
        args: study_args,
    }
    .instruction();
    let c = Creation {
        name: "study_create",
        instructions: vec![create.clone()],
        co_signer: None,
        signer: sponsor.insecure_clone(),
        creates: vec![study.study, study.vault],
        again: Some((create, E::StudyAlreadyExists)),
    };
    w.create(squat, c).await;
    w.env
        .mint_to(&mint, &mint_authority, &study.vault, 1_000)
        .await;
    let invite = ix::InvitationCreate {
        inviter: sponsor.pubkey(),
        keys: study,
        patient_wallet: wallet,
        expires_at: now + 7 * DAY,
    }
    .instruction();
    let c = Creation {
        name: "invitation_create",
        instructions: vec![invite.clone()],
        co_signer: None,
        signer: sponsor.insecure_clone(),
        creates: vec![pda::invitation(&study.study, &wallet).0],
        again: Some((invite, E::InvitationAlreadyExists)),
    };
    w.create(squat, c).await;
    let register = ix::ProtocolRegister {
        sponsor: sponsor.pubkey(),
        study: study.study,
        args: careledger_sdk::ProtocolRegisterArgs {
            registry_id: careledger_sdk::trials::registry_id("NCT00000009").unwrap(),
            document_sha256: [0x41; 32],
            document_cid: vec![],
            primary_outcomes: [0x42; 32],
            secondary_outcomes: [0x43; 32],
            planned_enrolment: 5,
        },
    }
    .instruction();
    let c = Creation {
        name: "protocol_register",
        instructions: vec![register.clone()],
        co_signer: None,
        signer: sponsor.insecure_clone(),
        creates: vec![
            pda::protocol(&study.study).0,
            pda::protocol_version(&study.study, 1).0,
        ],
        again: Some((register, E::ProtocolAlreadyRegistered)),
    };
    w.create(squat, c).await;
    let amend = ix::ProtocolAmend {
        sponsor: sponsor.pubkey(),
        study: study.study,
        current: 1,
        args: careledger_sdk::ProtocolAmendArgs {
            document_sha256: [0x44; 32],
            document_cid: vec![],
            primary_outcomes: [0x42; 32],
            secondary_outcomes: [0x43; 32],
            reason_code: 1,
            material: false,
        },
    }
    .instruction();
    let c = Creation {
        name: "protocol_amend",
        instructions: vec![amend.clone()],
        co_signer: None,
        signer: sponsor.insecure_clone(),
        creates: vec![pda::protocol_version(&study.study, 2).0],
        // version 2 exists now: the same amendment names a version that is not the next
        again: Some((amend, E::ProtocolVersionStale)),
    };
    w.create(squat, c).await;
    let protocol = ix::ProtocolRef {
        version: 2,
        document_sha256: [0x44; 32],
    };
    let enrol = ix::StudyEnrollWithGrant {
        authority: wallet,
        patient_wallet: wallet,
        keys: study,
        protocol,
        classes: LAB,
        expires_at: now + 30 * DAY,
    }
    .instructions();
    let c = Creation {
        name: "study_enroll",
        instructions: enrol,
        co_signer: None,
        signer: patient.insecure_clone(),
        creates: vec![
            pda::grant(&wallet, &sponsor.pubkey(), Purpose::Research).0,
            pda::participation(&study.study, &wallet).0,
        ],
        again: Some((
            ix::StudyEnroll {
                authority: wallet,
                patient_wallet: wallet,
                keys: study,
                protocol,
            }
            .instruction(),
            E::AlreadyEnrolled,
        )),
    };
    w.create(squat, c).await;

    // The admin's list of accepted freezable payment mints.
    let admin = w.env.admin.insecure_clone();
    w.env.fund(&admin.pubkey()).await;
    let freezable = Keypair::new();
    let ixs = careledger_sdk::tokens::create_freezable_mint(
        &admin.pubkey(),
        &freezable.pubkey(),
        &admin.pubkey(),
        Some(&admin.pubkey()),
        2,
    );
    w.env
        .send_all(&ixs, &[&admin, &freezable])
        .await
        .expect("freezable mint");
    let accept = ix::MintAccept {
        admin: admin.pubkey(),
        mint: freezable.pubkey(),
    }
    .instruction();
    let c = Creation {
        name: "mint_accept",
        instructions: vec![accept.clone()],
        co_signer: None,
        signer: admin,
        creates: vec![pda::accepted_mint(&freezable.pubkey()).0],
        again: Some((accept, E::MintAlreadyAccepted)),
    };
    w.create(squat, c).await;

    // publishing a key creates the account; publishing the same key again is no rotation
    let holder = w.env.actor().await;
    let key_account = pda::encryption_key(&holder.pubkey()).0;
    let publish = ix::EncryptionKeySet {
        wallet: holder.pubkey(),
        x25519: [9; 32],
    }
    .instruction();
    let c = Creation {
        name: "encryption_key_set",
        instructions: vec![publish.clone()],
        co_signer: None,
        signer: holder,
        creates: vec![key_account],
        again: Some((publish, E::EncryptionKeyUnchanged)),
    };
    w.create(squat, c).await;

    // the supply chain: a product, a batch (its status map is a fresh keypair's, created in the
    // same transaction, so nobody can squat it), a pack record and a shipment
    let manufacturer = w.env.supply_party(SUPPLY_MANUFACTURER).await;
    let pharmacy = w.env.supply_party(SUPPLY_DISPENSER).await;
    let ca = w.env.credential_authority.insecure_clone();
    let gtin = careledger_supply::gs1::Gtin::parse(careledger_tests::supply::GTIN).unwrap();
    let gtin_hash = careledger_supply::manifest::gtin_hash_of(&gtin);
    let register = ix::ProductRegister {
        authority: ca.pubkey(),
        manufacturer_wallet: manufacturer.pubkey(),
        args: ProductRegisterArgs { gtin_hash },
    }
    .instruction();
    let c = Creation {
        name: "product_register",
        instructions: vec![register.clone()],
        co_signer: None,
        signer: ca,
        creates: vec![pda::product(&gtin_hash).0],
        again: Some((register, E::ProductAlreadyRegistered)),
    };
    w.create(squat, c).await;
    let map = Keypair::new();
    let serials = vec!["SN1".to_string(), "SN2".to_string()];
    let manifest = careledger_supply::manifest::Manifest::plan(
        &gtin,
        "LOT-C",
        careledger_tests::supply::far_expiry(),
        &serials,
        map.pubkey(),
        1,
    )
    .unwrap();
    let tree = manifest.tree();
    let commission = ix::BatchCommission {
        manufacturer: manufacturer.pubkey(),
        status_map: map.pubkey(),
        args: manifest.commission_args(&tree),
    };
    let batch = commission.batch();
    let c = Creation {
        name: "batch_commission",
        instructions: commission.instructions().to_vec(),
        co_signer: Some(map.insecure_clone()),
        signer: manufacturer.insecure_clone(),
        creates: vec![batch],
        // a second commission of the lot is refused in cases::supply (it needs a new map)
        again: None,
    };
    w.create(squat, c).await;
    let pack = careledger_supply::gs1::PackIdentifier {
        gtin,
        expiry: manifest.expiry,
        lot: "LOT-C".into(),
        serial: "SN2".into(),
        nhrn: None,
    };
    let (index, pack_secret) = manifest.find(&pack).unwrap();
    // the pharmacy holds the lot through a shipment it received (not a creation under test)
    let to_pharmacy = ix::ShipmentSend {
        sender: manufacturer.pubkey(),
        receiver: pharmacy.pubkey(),
        batch,
        custody: None,
        args: careledger_sdk::program::instructions::ShipmentSendArgs {
            epcis_hash: [3; 32],
            quantity: 2,
        },
    };
    let custody = to_pharmacy.shipment();
    w.env
        .send(to_pharmacy.instruction(), &[&manufacturer])
        .await
        .unwrap();
    let receive = ix::ShipmentReceive {
        receiver: pharmacy.pubkey(),
        shipment: custody,
        args: careledger_sdk::program::instructions::ShipmentReceiveArgs {
            receipt_hash: [5; 32],
        },
    };
    w.env
        .send(receive.instruction(), &[&pharmacy])
        .await
        .unwrap();
    let dispense = ix::PackDecommission {
        actor: pharmacy.pubkey(),
        batch,
        status_map: map.pubkey(),
        custody: Some(custody),
        args: careledger_sdk::program::instructions::PackDecommissionArgs {
            index,
            state: careledger_sdk::program::state::PackState::Supplied,
            pack_secret,
            proof: tree.proof(index),
        },
    }
    .instruction();
    let c = Creation {
        name: "pack_decommission",
        instructions: vec![dispense],
        co_signer: None,
        signer: pharmacy.insecure_clone(),
        creates: vec![pda::pack_record(&batch, index).0],
        // dispensing it again succeeds as a SuspectPack report (cases::supply)
        again: None,
    };
    w.create(squat, c).await;
    let send = ix::ShipmentSend {
        sender: manufacturer.pubkey(),
        receiver: pharmacy.pubkey(),
        batch,
        custody: None,
        args: careledger_sdk::program::instructions::ShipmentSendArgs {
            epcis_hash: [4; 32],
            quantity: 2,
        },
    };
    let shipment = send.shipment();
    let send = send.instruction();
    let c = Creation {
        name: "shipment_send",
        instructions: vec![send.clone()],
        co_signer: None,
        signer: manufacturer,
        creates: vec![shipment],
        again: Some((send, E::ShipmentAlreadyAnchored)),
    };
    w.create(squat, c).await;
    w
}

#[tokio::test]
async fn every_creation_survives_a_prefunded_address() {
    if skip_unless_own_cluster("pre-funds addresses on a program with no config yet").await {
        return;
    }
    let w = world(true).await;
    let names: Vec<&str> = w.done.iter().map(|c| c.name).collect();
    // the 25 creating instructions (the two vaults with their policy and study), in order
    for name in [
        "config_init",
        "patient_register",
        "provider_register",
        "record_anchor",
        "record_amend",
        "grant_create",
        "grant_create_signed",
        "request_create",
        "request_approve",
        "break_glass_open",
        "policy_create",
        "rule_add",
        "claim_submit",
        "study_create",
        "study_enroll",
        "protocol_register",
        "protocol_amend",
        "network_add",
        "invitation_create",
        "mint_accept",
        "encryption_key_set",
        "product_register",
        "batch_commission",
        "pack_decommission",
        "shipment_send",
    ] {
        assert!(names.contains(&name), "{name} not exercised");
    }
    assert_eq!(w.done.len(), 28);
}

#[tokio::test]
async fn re_initialisation_of_every_init_is_refused_with_its_own_error() {
    if skip_unless_own_cluster("places an account at the next record's address").await {
        return;
    }
    let w = world(false).await;
    let env = &w.env;
    for c in &w.done {
        let Some((again, expected)) = &c.again else {
            continue;
        };
        env.expect_rejected(again.clone(), &[&c.signer], *expected, &c.creates)
            .await;
    }

    // A record's address is the patient's next index, which only the program advances; an
    // account already sitting there (placed by the test) is refused, never overwritten.
    let patient = &w.signer_of("patient_register");
    let wallet = patient.pubkey();
    let next = pda::record(&wallet, 2).0;
    let squatter = solana_account::Account {
        lamports: 5_000_000,
        data: vec![7; 167],
        owner: careledger_sdk::program::ID,
        executable: false,
        rent_epoch: 0,
    };
    env.set_account(&next, squatter).await;
    let args = RecordAnchorArgs {
        cid: sample_cid(3),
        content_sha256: [3; 32],
        class: 0,
    };
    let anchor = ix::RecordAnchor {
        patient_wallet: wallet,
        index: 2,
        author: Author::Patient,
        args,
    }
    .instruction();
    let watched = [next, pda::patient(&wallet).0];
    env.expect_rejected(anchor, &[patient], E::RecordIndexTaken, &watched)
        .await;
    let amend = RecordAmendArgs {
        cid: sample_cid(3),
        content_sha256: [3; 32],
        expected_version: 2,
    };
    let amend = ix::RecordAmend {
        patient_wallet: wallet,
        previous_index: 1,
        new_index: 2,
        author: Author::Patient,
        args: amend,
    }
    .instruction();
    env.expect_rejected(amend, &[patient], E::RecordIndexTaken, &watched)
        .await;

    // A second request while one is pending, then approving it for a purpose the requester
    // already holds a grant for.
    let clinic = &w.signer_of("request_create");
    let args = RequestCreateArgs {
        classes: LAB,
        actions: action::READ,
        purpose: Purpose::Treatment,
        reason_code: 3,
        duration_secs: 30 * DAY as u32,
    };
    let ask = ix::RequestCreate {
        requester: clinic.pubkey(),
        patient_wallet: wallet,
        args,
    }
    .instruction();
    env.send(ask.clone(), &[clinic])
        .await
        .expect("second request");
    let request = pda::request(&wallet, &clinic.pubkey()).0;
    env.expect_rejected(ask, &[clinic], E::RequestAlreadyPending, &[request])
        .await;
    let approval = RequestApproveArgs {
        classes: LAB,
        actions: action::READ,
        expires_at: env.now().await + DAY,
    };
    let approve = ix::RequestApprove {
        authority: wallet,
        patient_wallet: wallet,
        requester: clinic.pubkey(),
        purpose: Purpose::Treatment,
        args: approval,
    }
    .instruction();
    let watched = [
        pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0,
        request,
        pda::patient(&wallet).0,
    ];
    env.expect_rejected(approve, &[patient], E::GrantAlreadyExists, &watched)
        .await;
}

/// The list above is every creating instruction: each program file that creates an account
/// (through `create::init_pda`, `init_grant`, `init_or_renew_grant` or the consent module's
/// `make_grant`, `init_record`
/// or `init_vault`) has its entry here,
/// so a new creating instruction without a squatting test fails this one.
#[test]
fn every_creating_instruction_is_squatted_above() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../programs/careledger/src/instructions");
    let mut creating = std::collections::BTreeSet::new();
    for domain in std::fs::read_dir(&root).unwrap() {
        let domain = domain.unwrap().path();
        if !domain.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&domain).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let creates = [
                "init_pda(",
                "init_grant(",
                "init_or_renew_grant(",
                "make_grant(",
                "init_record(",
                "init_vault(",
            ]
            .iter()
            .any(|call| text.contains(call));
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            if creates && name != "mod" {
                creating.insert(name);
            }
        }
    }
    let listed: std::collections::BTreeSet<String> = include_str!("creation.rs")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("name: \""))
        .filter_map(|l| l.strip_suffix("\","))
        .map(str::to_string)
        .collect();
    assert_eq!(
        creating, listed,
        "creating instructions vs the squatting tests"
    );
    assert_eq!(creating.len(), 25);
}
