//! No act of a guardian for the ward may benefit the guardian (issue 23, R3-1 and R3-2). Each
//! instruction a guardian can sign for a ward, tried by a guardian who is also the other party
//! (the grantee, the requester, the clinician who broke the glass, the study's sponsor): the
//! exact error, the accounts unchanged, and beside it the legitimate path. The table of every
//! such instruction and why it cannot serve the guardian is in docs/SECURITY.md.
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix;
use careledger_sdk::{
    action, pda, AccessLogArgs, CareledgerError as E, CareledgerEvent, ConsentGrant,
    GrantUpdateArgs, Purpose, RequestApproveArgs, RequestCreateArgs, ReviewOutcome, ReviewState,
    RewardTerms, NO_RECORD_SCOPE, ROLE_CLINICIAN, ROLE_EMERGENCY,
};
use careledger_tests::{Env, StudyScene, StudySetup, DAY};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// A registered patient with a lab result and a clinical note, and a guardian who is also a
/// verified provider with `roles`, appointed for 60 days.
struct Ward {
    patient: Keypair,
    guardian: Keypair,
    lab: Pubkey,
    note: Pubkey,
}

async fn ward(env: &Env, roles: u8) -> Ward {
    let patient = env.register_patient().await;
    let guardian = env.verified_provider(roles).await;
    let lab = env
        .anchor_as_patient(&patient, RecordClass::LabResult.id(), 1)
        .await;
    let note = env
        .anchor_as_patient(&patient, RecordClass::ClinicalNote.id(), 2)
        .await;
    env.send(
        ix::PatientSetGuardian {
            wallet: patient.pubkey(),
            guardian: Some(guardian.pubkey()),
            expires_at: env.now().await + 60 * DAY,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .expect("appoint the guardian");
    Ward {
        patient,
        guardian,
        lab,
        note,
    }
}

fn read(grantee: &Pubkey, patient: &Pubkey, grant: Pubkey, record: Pubkey) -> ix::AccessLog {
    ix::AccessLog {
        grantee: *grantee,
        patient_wallet: *patient,
        grant,
        record,
        args: AccessLogArgs {
            action: action::READ,
            purpose: Purpose::Treatment,
            strict: true,
        },
    }
}

/// R3-1. Who gains: a guardian who is also the ward's clinician, given a narrow grant by the
/// ward. Signing as guardian it widened that grant to every class, read and write, and read the
/// ward's clinical note. Now refused; the patient's own widening, and the guardian's update of
/// another provider's grant, still work.
#[tokio::test]
async fn grant_update_by_a_guardian_of_its_own_grant_is_refused() {
    let env = Env::new().await;
    let w = ward(&env, ROLE_CLINICIAN).await;
    let (wallet, g) = (w.patient.pubkey(), w.guardian.pubkey());
    let grant = env
        .grant(
            &w.patient,
            &g,
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await
        .expect("the ward's narrow grant");
    env.send(
        read(&g, &wallet, grant, w.lab).instruction(),
        &[&w.guardian],
    )
    .await
    .expect("what the ward allowed");
    let now = env.now().await;
    let everything = GrantUpdateArgs {
        classes: u16::MAX,
        actions: action::ALL,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: now + 50 * DAY,
    };
    let widen = |authority: Pubkey| ix::GrantUpdate {
        authority,
        patient_wallet: wallet,
        grant,
        args: everything.clone(),
    };
    env.expect_rejected(
        widen(g).instruction(),
        &[&w.guardian],
        E::GuardianIsParty,
        &[grant, pda::patient(&wallet).0],
    )
    .await;
    // and so the note stays out of reach
    env.expect_rejected(
        read(&g, &wallet, grant, w.note).instruction(),
        &[&w.guardian],
        E::ClassNotGranted,
        &[grant],
    )
    .await;
    // narrowing its own grant is refused too (a research grant narrowed ends the ward's rewards)
    let narrow = GrantUpdateArgs {
        expires_at: now + 10 * DAY,
        classes: RecordClass::LabResult.bit(),
        actions: action::READ,
        ..everything.clone()
    };
    env.expect_rejected(
        ix::GrantUpdate {
            authority: g,
            patient_wallet: wallet,
            grant,
            args: narrow,
        }
        .instruction(),
        &[&w.guardian],
        E::GuardianIsParty,
        &[grant],
    )
    .await;
    // the patient may widen their guardian's grant: their own choice
    env.send(widen(wallet).instruction(), &[&w.patient])
        .await
        .expect("the patient widens");
    env.send(
        read(&g, &wallet, grant, w.note).instruction(),
        &[&w.guardian],
    )
    .await
    .expect("the read the patient allowed");
    // the guardian still manages the ward's other grants
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let other = env
        .grant(
            &w.patient,
            &clinic.pubkey(),
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    env.send(
        ix::GrantUpdate {
            authority: g,
            patient_wallet: wallet,
            grant: other,
            args: GrantUpdateArgs {
                classes: RecordClass::LabResult.bit() | RecordClass::ClinicalNote.bit(),
                actions: action::READ,
                ..everything
            },
        }
        .instruction(),
        &[&w.guardian],
    )
    .await
    .expect("the guardian updates another provider's grant");
}

/// R3-2. Who gains: a guardian with the emergency role who breaks the glass on its own ward,
/// reads, and accepts its own review so the ward's dispute comes too late (`NotAwaitingReview`).
/// Whoever opened an emergency access never reviews it; the ward's dispute still lands.
#[tokio::test]
async fn break_glass_review_by_the_clinician_who_opened_it_is_refused() {
    let env = Env::new().await;
    let w = ward(&env, ROLE_EMERGENCY | ROLE_CLINICIAN).await;
    let (wallet, g) = (w.patient.pubkey(), w.guardian.pubkey());
    let emergency = env
        .break_glass(&w.guardian, &wallet, 600)
        .await
        .expect("break the glass");
    let mut log = read(&g, &wallet, emergency, w.note);
    log.args.purpose = Purpose::Emergency;
    env.send(log.instruction(), &[&w.guardian])
        .await
        .expect("the emergency read");
    for outcome in [ReviewOutcome::Accepted, ReviewOutcome::Disputed] {
        env.expect_rejected(
            ix::BreakGlassReview {
                authority: g,
                patient_wallet: wallet,
                grant: emergency,
                outcome,
            }
            .instruction(),
            &[&w.guardian],
            E::GuardianIsParty,
            &[emergency, pda::patient(&wallet).0],
        )
        .await;
    }
    let out = env
        .send(
            ix::BreakGlassReview {
                authority: wallet,
                patient_wallet: wallet,
                grant: emergency,
                outcome: ReviewOutcome::Disputed,
            }
            .instruction(),
            &[&w.patient],
        )
        .await
        .expect("the ward disputes");
    assert!(out.events.iter().any(
        |e| matches!(e, CareledgerEvent::BreakGlassReviewed(r) if r.revoked && r.by == wallet)
    ));
    let grant: ConsentGrant = env.client.fetch(&emergency).await.unwrap();
    assert_eq!(grant.review, ReviewState::Disputed);
}

/// A guardian-sponsor revoking or closing the ward's research grant to its own study would end
/// the ward's rewards (closing before the participation ends forfeits what was not collected).
/// It cannot; the patient can, and the guardian still revokes any other provider's grant.
#[tokio::test]
async fn grant_revoke_and_grant_close_by_a_guardian_of_its_own_grant_are_refused() {
    let env = Env::new().await;
    let w = ward(&env, ROLE_CLINICIAN).await;
    let (wallet, g) = (w.patient.pubkey(), w.guardian.pubkey());
    let grant = env
        .grant(
            &w.patient,
            &g,
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    let revoke = |authority: Pubkey| ix::GrantRevoke {
        authority,
        patient_wallet: wallet,
        grant,
    };
    env.expect_rejected(
        revoke(g).instruction(),
        &[&w.guardian],
        E::GuardianIsParty,
        &[grant],
    )
    .await;
    env.send(revoke(wallet).instruction(), &[&w.patient])
        .await
        .expect("the patient revokes");
    let close = |authority: Pubkey| ix::GrantClose {
        authority,
        patient_wallet: wallet,
        grant,
        rent_to: wallet,
    };
    env.expect_rejected(
        close(g).instruction(),
        &[&w.guardian],
        E::GuardianIsParty,
        &[grant, wallet],
    )
    .await;
    env.send(close(wallet).instruction(), &[&w.patient])
        .await
        .expect("the patient closes");
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let other = env
        .grant(
            &w.patient,
            &clinic.pubkey(),
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    env.send(
        ix::GrantRevoke {
            authority: g,
            patient_wallet: wallet,
            grant: other,
        }
        .instruction(),
        &[&w.guardian],
    )
    .await
    .expect("the guardian revokes another provider's grant");
}

/// Who gains: a guardian who is a provider asks the ward for access, then approves it as
/// guardian. Refused; it may still deny its own request (no gain), and the patient may approve.
#[tokio::test]
async fn request_approve_by_a_guardian_of_its_own_request_is_refused() {
    let env = Env::new().await;
    let w = ward(&env, ROLE_CLINICIAN).await;
    let (wallet, g) = (w.patient.pubkey(), w.guardian.pubkey());
    let ask = || ix::RequestCreate {
        requester: g,
        patient_wallet: wallet,
        args: RequestCreateArgs {
            classes: RecordClass::LabResult.bit(),
            actions: action::READ,
            purpose: Purpose::Treatment,
            reason_code: 3,
            duration_secs: 7 * DAY as u32,
        },
    };
    env.send(ask().instruction(), &[&w.guardian])
        .await
        .expect("request");
    let approve = |authority: Pubkey, expires_at: i64| ix::RequestApprove {
        authority,
        patient_wallet: wallet,
        requester: g,
        purpose: Purpose::Treatment,
        args: RequestApproveArgs {
            classes: RecordClass::LabResult.bit(),
            actions: action::READ,
            expires_at,
        },
    };
    let until = env.now().await + 7 * DAY;
    let request = pda::request(&wallet, &g).0;
    let grant = pda::grant(&wallet, &g, Purpose::Treatment).0;
    env.expect_rejected(
        approve(g, until).instruction(),
        &[&w.guardian],
        E::GuardianIsParty,
        &[request, grant, pda::patient(&wallet).0],
    )
    .await;
    env.send(approve(wallet, until).instruction(), &[&w.patient])
        .await
        .expect("the patient approves");
}

/// Who gains: a guardian who sponsors a study, filling it with its ward. It cannot enrol the
/// ward (nor can it give the research grant to itself); the patient may enrol.
#[tokio::test]
async fn study_enroll_by_a_guardian_who_sponsors_the_study_is_refused() {
    let scene = StudyScene::new(StudySetup {
        terms: RewardTerms {
            enrolment_reward: 10,
            period_reward: 5,
            period_secs: 7 * DAY as u32,
            periods: 4,
        },
        max_participants: 10,
        data_use_code: 1,
        funding: 10_000,
    })
    .await;
    let env = &scene.env;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let sponsor = scene.sponsor.pubkey();
    env.send(
        ix::PatientSetGuardian {
            wallet,
            guardian: Some(sponsor),
            expires_at: env.now().await + 60 * DAY,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    scene.invite(&scene.sponsor, &wallet, 30).await.unwrap();
    // the patient's own research grant to the sponsor
    env.grant(
        &patient,
        &sponsor,
        Purpose::Research,
        RecordClass::LabResult.bit(),
        action::READ,
        90,
    )
    .await
    .unwrap();
    let enrol = |authority: Pubkey| ix::StudyEnroll {
        authority,
        patient_wallet: wallet,
        keys: scene.keys,
        protocol: scene.protocol,
    };
    let participation = pda::participation(&scene.keys.study, &wallet).0;
    env.expect_rejected(
        enrol(sponsor).instruction(),
        &[&scene.sponsor],
        E::GuardianIsParty,
        &[participation, scene.keys.study, scene.keys.vault],
    )
    .await;
    env.send(enrol(wallet).instruction(), &[&patient])
        .await
        .expect("the patient enrols");
}
