//! Clinical-trial integrity (issue 29): each instruction and each attacker of the issue, the
//! attacker's test first, with the exact error and the accounts unchanged, beside the
//! legitimate path. Who gains by breaking each rule:
//! - a sponsor who swaps its outcomes after seeing the data: the switch is in an event;
//! - a sponsor who back-dates a registration: the ledger's clock; enrolment before it refused;
//! - a sponsor who amends the protocol and keeps paying participants who never saw it:
//!   accrual stops until they consent again;
//! - a participant who claims rewards under a protocol version they never signed: refused;
//! - a site that registers for a sponsor: only the sponsor registers.
use careledger_sdk::statement::signed_message_for;
use careledger_sdk::trials::{outcome_commitment, outcome_hash, reconsent_statement, OutcomeSet};
use careledger_sdk::{
    ix, pda, CareledgerError as E, CareledgerEvent, Participation, ProtocolAmendArgs,
    ProtocolRegisterArgs, ResultsReportArgs, RewardTerms, StudyCreateArgs,
    OUTCOMES_SWITCHED_PRIMARY,
};
use careledger_tests::{skip_unless_own_cluster, StudyScene, StudySetup, DAY, PROTOCOL_V1_SHA256};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

const PERIOD: u64 = 5;

async fn scene() -> StudyScene {
    StudyScene::new(StudySetup {
        terms: RewardTerms {
            enrolment_reward: 10,
            period_reward: PERIOD,
            period_secs: DAY as u32,
            periods: 10,
        },
        max_participants: 10,
        data_use_code: 1,
        funding: 100_000,
    })
    .await
}

fn amend(s: &StudyScene, current: u16, sha: u8, material: bool) -> ix::ProtocolAmend {
    ix::ProtocolAmend {
        sponsor: s.sponsor.pubkey(),
        study: s.keys.study,
        current,
        args: ProtocolAmendArgs {
            document_sha256: [sha; 32],
            document_cid: vec![],
            primary_outcomes: s.outcomes.primary.commitment(),
            secondary_outcomes: s.outcomes.secondary.commitment(),
            reason_code: 2,
            material,
        },
    }
}

/// The participant's reward claim, naming what the SDK finds: the first material version
/// after theirs, when their consent to the protocol went stale.
async fn claim(s: &StudyScene, patient: &Keypair) -> solana_instruction::Instruction {
    let wallet = patient.pubkey();
    let next_material = s
        .env
        .client
        .next_material(&s.keys.study, &wallet)
        .await
        .unwrap();
    claim_naming(s, patient, next_material)
}

fn claim_naming(
    s: &StudyScene,
    patient: &Keypair,
    next_material: Option<u16>,
) -> solana_instruction::Instruction {
    let wallet = patient.pubkey();
    ix::RewardClaim {
        authority: wallet,
        patient_wallet: wallet,
        keys: s.keys,
        patient_tokens: pda::associated_token(&wallet, &s.keys.mint),
        next_material,
    }
    .instruction()
}

/// The participant signs the re-consent statement for `version` (with `document_sha256`).
async fn reconsent(
    s: &StudyScene,
    patient: &Keypair,
    version: u16,
    document_sha256: [u8; 32],
) -> [solana_instruction::Instruction; 2] {
    let wallet = patient.pubkey();
    let record = s.env.patient(&wallet).await;
    let statement = reconsent_statement(
        &s.keys.study,
        &record,
        &wallet,
        version,
        &document_sha256,
        s.env.now().await,
    )
    .unwrap();
    let signature: [u8; 64] = patient.sign_message(&statement).into();
    let (signed_message, _) = signed_message_for(&statement, &wallet, &signature).unwrap();
    ix::ParticipationReconsent {
        authority: wallet,
        patient_wallet: wallet,
        study: s.keys.study,
        sponsor: s.sponsor.pubkey(),
        version,
        signed_message,
        signature,
        next_material: s
            .env
            .client
            .next_material(&s.keys.study, &wallet)
            .await
            .unwrap(),
    }
    .instructions()
}

async fn participation(s: &StudyScene, wallet: &Pubkey) -> Participation {
    s.env
        .client
        .fetch(&pda::participation(&s.keys.study, wallet).0)
        .await
        .unwrap()
}

/// Who gains: a sponsor that enrols before its protocol (and outcomes) are on record, or
/// back-dates the registration. Enrolment is refused until the sponsor registers; the
/// registration time is the ledger's; a site or stranger cannot register for the sponsor, and
/// nobody registers twice.
#[tokio::test]
async fn study_enroll_before_protocol_register_is_refused() {
    let s = scene().await;
    let env = &s.env;
    // a second study of the same sponsor, not registered yet
    let keys = ix::StudyKeys::new(&s.sponsor.pubkey(), 2, &s.keys.mint);
    let now = env.now().await;
    env.send(
        ix::StudyCreate {
            keys,
            args: StudyCreateArgs {
                study_id: 2,
                terms: RewardTerms {
                    enrolment_reward: 10,
                    period_reward: 0,
                    period_secs: 0,
                    periods: 0,
                },
                classes: 1,
                data_use_code: 0,
                enrol_start: now - 60,
                enrol_end: now + 30 * DAY,
                max_participants: 5,
            },
        }
        .instruction(),
        &[&s.sponsor],
    )
    .await
    .unwrap();
    env.send(
        ix::StudyFund {
            funder: s.sponsor.pubkey(),
            keys,
            source: s.sponsor_tokens,
            amount: 1_000,
        }
        .instruction(),
        &[&s.sponsor],
    )
    .await
    .unwrap();
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    env.send(
        ix::InvitationCreate {
            inviter: s.sponsor.pubkey(),
            keys,
            patient_wallet: wallet,
            expires_at: now + 7 * DAY,
        }
        .instruction(),
        &[&s.sponsor],
    )
    .await
    .unwrap();
    let v1 = ix::ProtocolRef {
        version: 1,
        document_sha256: [0x77; 32],
    };
    let enrol = ix::StudyEnrollWithGrant {
        authority: wallet,
        patient_wallet: wallet,
        keys,
        protocol: v1,
        classes: 1,
        expires_at: now + 30 * DAY,
    }
    .instructions();
    let before = env
        .snapshot(&[pda::participation(&keys.study, &wallet).0, keys.vault])
        .await;
    let err = env.send_all(&enrol, &[&patient]).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::ProtocolNotRegistered));
    assert_eq!(
        before,
        env.snapshot(&[pda::participation(&keys.study, &wallet).0, keys.vault])
            .await
    );

    let register = |sponsor: Pubkey| ix::ProtocolRegister {
        sponsor,
        study: keys.study,
        args: ProtocolRegisterArgs {
            registry_id: careledger_sdk::trials::registry_id("NCT00000002").unwrap(),
            document_sha256: [0x77; 32],
            document_cid: vec![],
            primary_outcomes: [1; 32],
            secondary_outcomes: [2; 32],
            planned_enrolment: 5,
        },
    };
    let site = env.actor().await;
    env.send(
        ix::StudySetSite {
            keys,
            site: site.pubkey(),
        }
        .instruction(),
        &[&s.sponsor],
    )
    .await
    .unwrap();
    for intruder in [&site, &patient] {
        env.expect_anchor_error(
            register(intruder.pubkey()).instruction(),
            &[intruder],
            u32::from(E::NotStudySponsor),
            &[pda::protocol(&keys.study).0],
        )
        .await;
    }
    // free text as a registry id is refused
    let mut words = register(s.sponsor.pubkey());
    words.args.registry_id[..8].copy_from_slice(b"diabetes");
    env.expect_rejected(
        words.instruction(),
        &[&s.sponsor],
        E::InvalidRegistryId,
        &[pda::protocol(&keys.study).0],
    )
    .await;
    let out = env
        .send(register(s.sponsor.pubkey()).instruction(), &[&s.sponsor])
        .await
        .expect("the sponsor registers");
    let CareledgerEvent::ProtocolRegistered(e) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(e.at, env.now().await, "registered at the ledger's time");
    env.expect_rejected(
        register(s.sponsor.pubkey()).instruction(),
        &[&s.sponsor],
        E::ProtocolAlreadyRegistered,
        &[pda::protocol(&keys.study).0],
    )
    .await;
    env.send_all(&enrol, &[&patient])
        .await
        .expect("enrolment after registration");
    let p: Participation = env
        .client
        .fetch(&pda::participation(&keys.study, &wallet).0)
        .await
        .unwrap();
    assert_eq!(p.protocol_version, 1);
}

/// A participant consents to the version they read: naming an older version, or another
/// document, is refused once the protocol was amended.
#[tokio::test]
async fn study_enroll_naming_a_stale_version_is_refused() {
    let s = scene().await;
    s.env
        .send(amend(&s, 1, 0x52, false).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    let patient = s.env.register_patient().await;
    let wallet = patient.pubkey();
    s.invite(&s.sponsor, &wallet, 30).await.unwrap();
    let now = s.env.now().await;
    let enrol = |protocol| {
        ix::StudyEnrollWithGrant {
            authority: wallet,
            patient_wallet: wallet,
            keys: s.keys,
            protocol,
            classes: 1,
            expires_at: now + 30 * DAY,
        }
        .instructions()
    };
    for stale in [
        s.protocol,
        ix::ProtocolRef {
            version: 2,
            document_sha256: PROTOCOL_V1_SHA256,
        },
    ] {
        let err = s
            .env
            .send_all(&enrol(stale), &[&patient])
            .await
            .unwrap_err();
        assert_eq!(
            err.program_error(),
            Some(E::ProtocolVersionStale),
            "{stale:?}"
        );
    }
    let current = s.env.client.current_protocol(&s.keys.study).await.unwrap();
    assert_eq!(current.version, 2);
    s.env
        .send_all(&enrol(current), &[&patient])
        .await
        .expect("the current version");
}

/// Who gains: a sponsor that amends its protocol materially and keeps paying participants who
/// never saw the amendment, or a participant paid under a version they never signed. Accrual
/// stops at the amendment (the claim for later periods is refused); consenting again forfeits
/// the periods in between and accrual resumes; a non-material amendment changes nothing.
#[tokio::test]
async fn a_material_amendment_stops_accrual_until_participation_reconsent() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = scene().await;
    let env = &s.env;
    let (patient, _) = s.enrolled(60).await;
    let wallet = patient.pubkey();
    let start = env.now().await;
    env.set_clock(start + 2 * DAY + 60).await;
    // a non-material amendment: nobody has to consent again
    env.send(amend(&s, 1, 0x52, false).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    env.send(claim(&s, &patient).await, &[&patient])
        .await
        .expect("periods 1 and 2");
    // material: from now on nothing accrues until the participant consents to version 3
    env.send(amend(&s, 2, 0x53, true).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    env.set_clock(start + 5 * DAY + 60).await;
    env.expect_rejected(
        claim(&s, &patient).await,
        &[&patient],
        E::ReconsentRequired,
        &[s.keys.vault, pda::participation(&s.keys.study, &wallet).0],
    )
    .await;
    let status = env.client.trial_status(&s.keys.study).await.unwrap();
    assert_eq!(status.subjects[0].consented_version, 1);
    assert!(!status.subjects[0].current);
    assert!(status.subjects[0].stale_since.is_some());

    // a statement for an old version (its version account is not the current one: Anchor's
    // ConstraintSeeds, 2006), or naming another document, is not consent to this version
    let watched = [s.keys.study, pda::participation(&s.keys.study, &wallet).0];
    for (version, sha, code) in [
        (2, [0x52; 32], 2006),
        (3, [0x52; 32], u32::from(E::StatementMismatch)),
    ] {
        let ixs = reconsent(&s, &patient, version, sha).await;
        let before = env.snapshot(&watched).await;
        let err = env.send_all(&ixs, &[&patient]).await.unwrap_err();
        assert_eq!(err.custom_code(), Some(code), "version {version}: {err}");
        assert_eq!(
            before,
            env.snapshot(&watched).await,
            "a refused re-consent changed state"
        );
    }
    let study_before: careledger_sdk::Study = env.client.fetch(&s.keys.study).await.unwrap();
    let out = env
        .send_all(&reconsent(&s, &patient, 3, [0x53; 32]).await, &[&patient])
        .await
        .expect("consent to version 3");
    let CareledgerEvent::ParticipantReconsented(e) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    // periods 3, 4 and 5 came due while the consent was stale: forfeited, released
    assert_eq!(
        (e.from_version, e.to_version, e.forfeited_periods),
        (1, 3, 3)
    );
    assert_eq!(e.released, 3 * PERIOD);
    let study_after: careledger_sdk::Study = env.client.fetch(&s.keys.study).await.unwrap();
    assert_eq!(
        study_before.outstanding - study_after.outstanding,
        3 * PERIOD
    );
    assert_eq!(participation(&s, &wallet).await.protocol_version, 3);
    env.expect_rejected(
        reconsent(&s, &patient, 3, [0x53; 32]).await[1].clone(),
        &[&patient],
        E::ReconsentNotNeeded,
        &watched,
    )
    .await;
    // accrual resumes: the sixth period is paid
    env.set_clock(start + 6 * DAY + 60).await;
    let out = env
        .send(claim(&s, &patient).await, &[&patient])
        .await
        .unwrap();
    let CareledgerEvent::RewardPaid(paid) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert_eq!((paid.first_period, paid.last_period), (6, 6));
}

/// A participant who has not collected what came due before the amendment collects it first:
/// consenting again skips only the periods that came due while the consent was stale.
#[tokio::test]
async fn participation_reconsent_with_rewards_uncollected_is_refused() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = scene().await;
    let env = &s.env;
    let (patient, _) = s.enrolled(60).await;
    let wallet = patient.pubkey();
    let start = env.now().await;
    env.set_clock(start + 2 * DAY + 60).await;
    env.send(amend(&s, 1, 0x52, true).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    env.set_clock(start + 4 * DAY + 60).await;
    let watched = [pda::participation(&s.keys.study, &wallet).0, s.keys.study];
    let before = env.snapshot(&watched).await;
    let err = env
        .send_all(&reconsent(&s, &patient, 2, [0x52; 32]).await, &[&patient])
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::CollectDueFirst));
    assert_eq!(before, env.snapshot(&watched).await);
    // the periods before the amendment are still paid, under the version the patient signed
    let out = env
        .send(claim(&s, &patient).await, &[&patient])
        .await
        .unwrap();
    let CareledgerEvent::RewardPaid(paid) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert_eq!((paid.first_period, paid.last_period), (1, 2));
    env.send_all(&reconsent(&s, &patient, 2, [0x52; 32]).await, &[&patient])
        .await
        .expect("then consent again");
}

/// Who gains: a sponsor that amends materially twice, or a participant, who would have the
/// periods between the two amendments paid. Accrual stops at the first material amendment
/// after the version the participant consented to, not the newest: a claim naming the newest
/// (or none) is refused by name, and the one the SDK names pays only what came due before it.
#[tokio::test]
async fn reward_claim_stops_at_the_first_material_amendment_after_consent() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = scene().await;
    let env = &s.env;
    let (patient, _) = s.enrolled(60).await;
    let wallet = patient.pubkey();
    let start = env.now().await;
    env.set_clock(start + 2 * DAY + 60).await;
    env.send(amend(&s, 1, 0x52, true).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    env.set_clock(start + 5 * DAY + 60).await;
    env.send(amend(&s, 2, 0x53, true).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    env.set_clock(start + 7 * DAY + 60).await;
    let watched = [s.keys.vault, pda::participation(&s.keys.study, &wallet).0];
    for wrong in [None, Some(3), Some(1)] {
        env.expect_rejected(
            claim_naming(&s, &patient, wrong),
            &[&patient],
            E::NextMaterialVersionRequired,
            &watched,
        )
        .await;
    }
    assert_eq!(
        env.client
            .next_material(&s.keys.study, &wallet)
            .await
            .unwrap(),
        Some(2)
    );
    let out = env
        .send(claim(&s, &patient).await, &[&patient])
        .await
        .unwrap();
    let CareledgerEvent::RewardPaid(paid) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    // periods 1 and 2 came due before version 2; periods 3 to 5 came before version 3 but
    // under no consent to version 2
    assert_eq!((paid.first_period, paid.last_period), (1, 2));
    let status = env.client.trial_status(&s.keys.study).await.unwrap();
    assert_eq!(status.subjects[0].stale_since, Some(start + 2 * DAY + 60));
    // consenting to version 3 forfeits periods 3 to 7
    let out = env
        .send_all(&reconsent(&s, &patient, 3, [0x53; 32]).await, &[&patient])
        .await
        .unwrap();
    let CareledgerEvent::ParticipantReconsented(e) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(e.forfeited_periods, 5);
    let p = participation(&s, &wallet).await;
    assert_eq!((p.periods_paid, p.periods_forfeited), (7, 5));
}

/// Who gains: a sponsor that swaps its outcomes after seeing the data. The results record
/// reveals the pre-specified outcomes (the commitment must open), and a report of others is
/// accepted but marked switched, with both sets, in the event. Everything happens in order:
/// the analysis plan, the data lock, the report, once each; nothing changes after the lock.
#[tokio::test]
async fn results_report_against_analysis_plan_anchor_and_data_lock_marks_switched_outcomes() {
    let s = scene().await;
    let env = &s.env;
    let sponsor = s.sponsor.pubkey();
    let study = s.keys.study;
    let protocol = pda::protocol(&study).0;
    let report = |reported_primary: Vec<[u8; 32]>, salt: [u8; 32]| ix::ResultsReport {
        sponsor,
        study,
        args: ResultsReportArgs {
            primary_salt: salt,
            prespecified_primary: s.outcomes.primary.outcomes.clone(),
            secondary_salt: s.outcomes.secondary.salt,
            prespecified_secondary: s.outcomes.secondary.outcomes.clone(),
            reported_primary,
            reported_secondary: s.outcomes.secondary.outcomes.clone(),
        },
    };
    let switched = vec![outcome_hash("body weight at 26 weeks")];
    env.expect_rejected(
        report(switched.clone(), s.outcomes.primary.salt).instruction(),
        &[&s.sponsor],
        E::DataNotLocked,
        &[protocol],
    )
    .await;
    let lock = ix::DataLock {
        sponsor,
        study,
        dataset_sha256: [0x54; 32],
    };
    env.expect_rejected(
        lock.instruction(),
        &[&s.sponsor],
        E::AnalysisPlanRequired,
        &[protocol],
    )
    .await;
    env.send(
        ix::AnalysisPlanAnchor {
            sponsor,
            study,
            analysis_plan_sha256: [0x55; 32],
        }
        .instruction(),
        &[&s.sponsor],
    )
    .await
    .unwrap();
    env.send(lock.instruction(), &[&s.sponsor]).await.unwrap();
    for (instruction, error) in [
        (lock.instruction(), E::DataAlreadyLocked),
        (amend(&s, 1, 0x56, true).instruction(), E::ProtocolLocked),
        (
            ix::AnalysisPlanAnchor {
                sponsor,
                study,
                analysis_plan_sha256: [0x57; 32],
            }
            .instruction(),
            E::ProtocolLocked,
        ),
        // a reveal that does not open the commitment (another salt)
        (
            report(switched.clone(), [0; 32]).instruction(),
            E::OutcomeRevealMismatch,
        ),
    ] {
        env.expect_rejected(instruction, &[&s.sponsor], error, &[protocol])
            .await;
    }
    let out = env
        .send(
            report(switched.clone(), s.outcomes.primary.salt).instruction(),
            &[&s.sponsor],
        )
        .await
        .expect("a switched report is accepted");
    let CareledgerEvent::ResultsReported(e) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(e.switched, OUTCOMES_SWITCHED_PRIMARY);
    assert_eq!(e.prespecified_primary, s.outcomes.primary.outcomes);
    assert_eq!(e.reported_primary, switched);
    let status = env.client.trial_status(&study).await.unwrap();
    assert_eq!(status.results_match(), Some(false));
    env.expect_rejected(
        report(s.outcomes.primary.outcomes.clone(), s.outcomes.primary.salt).instruction(),
        &[&s.sponsor],
        E::ResultsAlreadyReported,
        &[protocol],
    )
    .await;
}

/// Outcome sets changed after enrolment began are not pre-specified: the results are compared
/// with the sets in force at the first enrolment, so a sponsor cannot launder a switch through
/// an amendment (the amendment itself is material and visible).
#[tokio::test]
async fn protocol_amend_of_outcomes_after_enrolment_keeps_the_prespecified_ones() {
    let s = scene().await;
    let env = &s.env;
    s.enrolled(60).await;
    let new_primary = OutcomeSet::with_salt([0x71; 32], &["body weight at 26 weeks"]);
    let out = env
        .send(
            ix::ProtocolAmend {
                sponsor: s.sponsor.pubkey(),
                study: s.keys.study,
                current: 1,
                args: ProtocolAmendArgs {
                    document_sha256: [0x58; 32],
                    document_cid: vec![],
                    primary_outcomes: new_primary.commitment(),
                    secondary_outcomes: s.outcomes.secondary.commitment(),
                    reason_code: 9,
                    // not marked: a change of outcomes is material all the same
                    material: false,
                },
            }
            .instruction(),
            &[&s.sponsor],
        )
        .await
        .unwrap();
    let CareledgerEvent::ProtocolAmended(e) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert!(e.material && e.outcomes_changed && e.after_enrolment);
    let plan = ix::AnalysisPlanAnchor {
        sponsor: s.sponsor.pubkey(),
        study: s.keys.study,
        analysis_plan_sha256: [0x55; 32],
    };
    let lock = ix::DataLock {
        sponsor: s.sponsor.pubkey(),
        study: s.keys.study,
        dataset_sha256: [0x54; 32],
    };
    for step in [plan.instruction(), lock.instruction()] {
        env.send(step, &[&s.sponsor]).await.unwrap();
    }
    // revealing the amended set as if it were pre-specified does not open the commitment
    let laundered = ix::ResultsReport {
        sponsor: s.sponsor.pubkey(),
        study: s.keys.study,
        args: ResultsReportArgs {
            primary_salt: new_primary.salt,
            prespecified_primary: new_primary.outcomes.clone(),
            secondary_salt: s.outcomes.secondary.salt,
            prespecified_secondary: s.outcomes.secondary.outcomes.clone(),
            reported_primary: new_primary.outcomes.clone(),
            reported_secondary: s.outcomes.secondary.outcomes.clone(),
        },
    };
    env.expect_rejected(
        laundered.instruction(),
        &[&s.sponsor],
        E::OutcomeRevealMismatch,
        &[pda::protocol(&s.keys.study).0],
    )
    .await;
    assert_ne!(
        outcome_commitment(&new_primary.salt, &new_primary.outcomes),
        s.outcomes.primary.commitment()
    );
}

/// The study as FHIR R4 ResearchStudy and ResearchSubject resources, validated by
/// `fhir.resources` when CARELEDGER_FHIR_PYTHON is set (`.ci/run`).
#[tokio::test]
async fn trial_status_exports_research_study_and_subjects_as_fhir() {
    let s = scene().await;
    s.enrolled(60).await;
    s.env
        .send(amend(&s, 1, 0x52, true).instruction(), &[&s.sponsor])
        .await
        .unwrap();
    let status = s.env.client.trial_status(&s.keys.study).await.unwrap();
    let bundle = status.fhir_bundle();
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries[0]["resource"]["resourceType"], "ResearchStudy");
    assert_eq!(entries[0]["resource"]["status"], "active");
    assert_eq!(
        entries[0]["resource"]["identifier"][1]["value"],
        "NCT00000001"
    );
    let subject = &entries[1]["resource"];
    assert_eq!(subject["resourceType"], "ResearchSubject");
    // consented to version 1, the protocol is at a material version 2: pending
    assert_eq!(subject["status"], "pending-on-study");
    assert_eq!(subject["extension"][0]["valueInteger"], 1);
    assert_eq!(subject["extension"][1]["valueBoolean"], false);
    let path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("careledger-trial-bundle.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    let Some(python) = std::env::var_os("CARELEDGER_FHIR_PYTHON") else {
        eprintln!("CARELEDGER_FHIR_PYTHON unset: not validated (bash .ci/run validates it)");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fhir/validate.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&path)
        .output()
        .expect("run the FHIR validator");
    assert!(
        out.status.success(),
        "fhir.resources rejected the trial bundle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ResearchStudy=1 ResearchSubject=1\n"
    );
}
