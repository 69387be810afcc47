//! Consent scenarios through the SDK on the embedded runtime (or a cluster, see the harness): every rejection asserts the exact
//! program error and that the involved accounts are byte-identical afterwards.
use careledger_sdk::classes::RecordClass;
use careledger_sdk::{action, ix, pda, AccessLogArgs, CareledgerError as E, CareledgerEvent};
use careledger_sdk::{
    GrantStatus, GrantUpdateArgs, Purpose, Refusal, RequestApproveArgs, RequestCreateArgs,
    ReviewOutcome, ReviewState, NO_RECORD_SCOPE, ROLE_CLINICIAN, ROLE_EMERGENCY,
};
use careledger_tests::{skip_unless_own_cluster, ConsentScene, Env, BREAK_GLASS_CAP_SECS, DAY};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

const LAB: u16 = 1 << 0;

fn log(strict: bool) -> AccessLogArgs {
    AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict,
    }
}

type Setup = ConsentScene;

async fn setup() -> Setup {
    ConsentScene::new().await
}

async fn access(s: &Setup, strict: bool) -> Result<CareledgerEvent, careledger_sdk::SdkError> {
    let outcome = s
        .env
        .send(
            ix::AccessLog {
                grantee: s.clinic.pubkey(),
                patient_wallet: s.patient.pubkey(),
                grant: s.grant,
                record: s.record,
                args: log(strict),
            }
            .instruction(),
            &[&s.clinic],
        )
        .await?;
    assert_eq!(outcome.events.len(), 1);
    Ok(outcome.events[0].clone())
}

fn refusal(event: &CareledgerEvent) -> Option<Refusal> {
    match event {
        CareledgerEvent::AccessRefused(e) => Some(e.reason),
        _ => None,
    }
}

#[tokio::test]
async fn grant_then_access_is_logged_and_counted() {
    let s = setup().await;
    let event = access(&s, false).await.unwrap();
    let CareledgerEvent::AccessLogged(logged) = event else {
        panic!("expected AccessLogged, got {event:?}");
    };
    assert_eq!(
        (logged.grant, logged.record, logged.access_count),
        (s.grant, s.record, 1)
    );
    let grant: careledger_sdk::ConsentGrant = s.env.client.fetch(&s.grant).await.unwrap();
    assert_eq!(grant.access_count, 1);
    assert_eq!(grant.patient, s.patient.pubkey());
    let listed = s
        .env
        .client
        .grants_by_patient(&s.patient.pubkey())
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0, s.grant);
    let by_grantee = s
        .env
        .client
        .grants_by_grantee(&s.clinic.pubkey())
        .await
        .unwrap();
    assert_eq!(by_grantee.len(), 1);
}

#[tokio::test]
async fn revoked_grant_refuses_and_records_the_refusal() {
    let s = setup().await;
    let wallet = s.patient.pubkey();
    let out = s
        .env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    assert!(matches!(out.events[0], CareledgerEvent::GrantRevoked(_)));
    assert_eq!(
        refusal(&access(&s, false).await.unwrap()),
        Some(Refusal::Revoked)
    );
    // the grant's counter did not move on a refusal
    let grant: careledger_sdk::ConsentGrant = s.env.client.fetch(&s.grant).await.unwrap();
    assert_eq!(
        (grant.access_count, grant.status),
        (0, GrantStatus::Revoked)
    );
    // strict mode fails with the exact error and changes nothing
    s.env
        .expect_rejected(
            ix::AccessLog {
                grantee: s.clinic.pubkey(),
                patient_wallet: wallet,
                grant: s.grant,
                record: s.record,
                args: log(true),
            }
            .instruction(),
            &[&s.clinic],
            E::GrantRevoked,
            &[s.grant],
        )
        .await;
    // revocation is final
    s.env
        .expect_rejected(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
            }
            .instruction(),
            &[&s.patient],
            E::GrantRevoked,
            &[s.grant],
        )
        .await;
    let update = GrantUpdateArgs {
        classes: LAB,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: s.env.now().await + 60 * DAY,
    };
    s.env
        .expect_rejected(
            ix::GrantUpdate {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                args: update,
            }
            .instruction(),
            &[&s.patient],
            E::GrantRevoked,
            &[s.grant],
        )
        .await;
}

#[tokio::test]
async fn grant_revoke_all_voids_every_older_grant() {
    let s = setup().await;
    let wallet = s.patient.pubkey();
    let out = s
        .env
        .send(
            ix::GrantRevokeAll {
                authority: wallet,
                patient_wallet: wallet,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let CareledgerEvent::AllGrantsRevoked(e) = &out.events[0] else {
        panic!()
    };
    assert_eq!((e.old_epoch, e.new_epoch), (0, 1));
    assert_eq!(
        refusal(&access(&s, false).await.unwrap()),
        Some(Refusal::StaleEpoch)
    );
    // an older-epoch grant can be closed, rent back to the patient
    let before = s.env.snapshot(&[wallet]).await[0].clone().unwrap().0;
    s.env
        .send(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                rent_to: wallet,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    assert!(s.env.snapshot(&[s.grant]).await[0].is_none());
    let after = s.env.snapshot(&[wallet]).await[0].clone().unwrap().0;
    assert!(after > before, "rent refunded");
}

#[tokio::test]
async fn expiry_is_exact_to_the_second() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = setup().await;
    let grant: careledger_sdk::ConsentGrant = s.env.client.fetch(&s.grant).await.unwrap();
    s.env.set_clock(grant.expires_at - 1).await;
    assert!(matches!(
        access(&s, false).await.unwrap(),
        CareledgerEvent::AccessLogged(_)
    ));
    s.env.set_clock(grant.expires_at).await;
    assert_eq!(
        refusal(&access(&s, false).await.unwrap()),
        Some(Refusal::Expired)
    );
    // closing an expired grant works; a live one cannot be closed
    let wallet = s.patient.pubkey();
    s.env
        .send(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                rent_to: wallet,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn live_grant_cannot_be_closed_and_rent_goes_to_its_payer() {
    let s = setup().await;
    let wallet = s.patient.pubkey();
    s.env
        .expect_rejected(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                rent_to: wallet,
            }
            .instruction(),
            &[&s.patient],
            E::GrantStillLive,
            &[s.grant, wallet],
        )
        .await;
    s.env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let thief = s.env.actor().await;
    s.env
        .expect_rejected(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                rent_to: thief.pubkey(),
            }
            .instruction(),
            &[&s.patient],
            E::WrongRentDestination,
            &[s.grant, thief.pubkey()],
        )
        .await;
}

#[tokio::test]
async fn refusal_reasons_class_action_purpose_scope_not_yet_valid() {
    let s = setup().await;
    let wallet = s.patient.pubkey();
    let clinic = s.clinic.pubkey();
    // wrong class
    let imaging = s
        .env
        .anchor_as_patient(&s.patient, RecordClass::Imaging.id(), 2)
        .await;
    let send = |record: Pubkey, args: AccessLogArgs| {
        let ix = ix::AccessLog {
            grantee: clinic,
            patient_wallet: wallet,
            grant: s.grant,
            record,
            args,
        }
        .instruction();
        let env = &s.env;
        let clinic_kp = &s.clinic;
        async move { env.send(ix, &[clinic_kp]).await.unwrap().events[0].clone() }
    };
    assert_eq!(
        refusal(&send(imaging, log(false)).await),
        Some(Refusal::ClassNotGranted)
    );
    // wrong action
    let write = AccessLogArgs {
        action: action::WRITE,
        ..log(false)
    };
    assert_eq!(
        refusal(&send(s.record, write).await),
        Some(Refusal::ActionNotGranted)
    );
    // wrong purpose
    let research = AccessLogArgs {
        purpose: Purpose::Research,
        ..log(false)
    };
    assert_eq!(
        refusal(&send(s.record, research).await),
        Some(Refusal::PurposeMismatch)
    );
    // invalid action value is an error, not a refusal
    let bad = AccessLogArgs {
        action: 3,
        ..log(false)
    };
    s.env
        .expect_rejected(
            ix::AccessLog {
                grantee: clinic,
                patient_wallet: wallet,
                grant: s.grant,
                record: s.record,
                args: bad,
            }
            .instruction(),
            &[&s.clinic],
            E::InvalidAccessAction,
            &[s.grant],
        )
        .await;
    // record scope + not-yet-valid via update
    let second_lab = s
        .env
        .anchor_as_patient(&s.patient, RecordClass::LabResult.id(), 3)
        .await;
    let now = s.env.now().await;
    let scoped = GrantUpdateArgs {
        classes: LAB,
        actions: action::READ,
        record_scope: 0,
        not_before: 0,
        expires_at: now + 10 * DAY,
    };
    let out = s
        .env
        .send(
            ix::GrantUpdate {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                args: scoped.clone(),
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let CareledgerEvent::GrantUpdated(u) = &out.events[0] else {
        panic!()
    };
    assert_eq!(
        (u.old_terms.record_scope, u.new_terms.record_scope),
        (NO_RECORD_SCOPE, 0)
    );
    assert_eq!(
        refusal(&send(second_lab, log(false)).await),
        Some(Refusal::RecordOutOfScope)
    );
    assert!(matches!(
        send(s.record, log(false)).await,
        CareledgerEvent::AccessLogged(_)
    ));
    let later = GrantUpdateArgs {
        record_scope: NO_RECORD_SCOPE,
        not_before: now + DAY,
        ..scoped.clone()
    };
    s.env
        .send(
            ix::GrantUpdate {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                args: later.clone(),
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    assert_eq!(
        refusal(&send(s.record, log(false)).await),
        Some(Refusal::NotYetValid)
    );
    // an update that changes nothing is refused
    s.env
        .expect_rejected(
            ix::GrantUpdate {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
                args: later,
            }
            .instruction(),
            &[&s.patient],
            E::EmptyUpdate,
            &[s.grant],
        )
        .await;
}

#[tokio::test]
async fn provider_suspend_and_an_expired_credential_refuse_access() {
    if skip_unless_own_cluster("moves the clock past the credential expiry").await {
        return;
    }
    let s = setup().await;
    let authority = &s.env.credential_authority;
    s.env
        .send(
            ix::ProviderSuspend {
                authority: authority.pubkey(),
                provider_wallet: s.clinic.pubkey(),
                reason_code: 9,
            }
            .instruction(),
            &[authority],
        )
        .await
        .unwrap();
    assert_eq!(
        refusal(&access(&s, false).await.unwrap()),
        Some(Refusal::ProviderSuspended)
    );
    let expires = s.env.now().await + 2 * DAY;
    s.env
        .verify(&s.clinic.pubkey(), ROLE_CLINICIAN, expires)
        .await
        .unwrap();
    assert!(matches!(
        access(&s, false).await.unwrap(),
        CareledgerEvent::AccessLogged(_)
    ));
    s.env.set_clock(expires).await;
    assert_eq!(
        refusal(&access(&s, false).await.unwrap()),
        Some(Refusal::CredentialExpired)
    );
}

/// Issue 24. Who gains: a party that cannot hold health records (a drug manufacturer, whose
/// supply role is no care role) given a grant anyway, or an insurer asked to treat. A grant's
/// purpose must fit the grantee's roles, for a grant and for a request alike; the legitimate
/// grants beside them go through.
#[tokio::test]
async fn grant_create_and_request_create_need_a_purpose_that_fits_the_roles() {
    let s = ConsentScene::new().await;
    let (env, wallet) = (&s.env, s.patient.pubkey());
    let manufacturer = env.actor().await;
    env.send(
        ix::ProviderRegister {
            wallet: manufacturer.pubkey(),
            args: careledger_sdk::ProviderRegisterArgs {
                roles: 0,
                supply_roles: careledger_sdk::program::state::SUPPLY_MANUFACTURER,
                credential_ref: [1; 32],
            },
        }
        .instruction(),
        &[&manufacturer],
    )
    .await
    .unwrap();
    let insurer = env.verified_provider(careledger_sdk::ROLE_INSURER).await;
    let until = env.now().await + 30 * DAY;
    let grant = |to: Pubkey, purpose: Purpose| ix::GrantCreate {
        authority: wallet,
        patient_wallet: wallet,
        grantee_wallet: to,
        args: careledger_sdk::GrantCreateArgs {
            purpose,
            classes: LAB,
            actions: action::READ,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: until,
        },
    };
    for (to, purpose) in [
        (manufacturer.pubkey(), Purpose::Operations),
        (manufacturer.pubkey(), Purpose::Treatment),
        (insurer.pubkey(), Purpose::Treatment),
        (insurer.pubkey(), Purpose::Research),
        (s.clinic.pubkey(), Purpose::Research),
    ] {
        env.expect_rejected(
            grant(to, purpose).instruction(),
            &[&s.patient],
            E::PurposeNotForRoles,
            &[pda::grant(&wallet, &to, purpose).0, pda::patient(&wallet).0],
        )
        .await;
    }
    // a request for a purpose the requester's roles do not fit is refused the same way
    env.expect_rejected(
        ix::RequestCreate {
            requester: insurer.pubkey(),
            patient_wallet: wallet,
            args: RequestCreateArgs {
                classes: LAB,
                actions: action::READ,
                purpose: Purpose::Treatment,
                reason_code: 1,
                duration_secs: 3600,
            },
        }
        .instruction(),
        &[&insurer],
        E::PurposeNotForRoles,
        &[pda::request(&wallet, &insurer.pubkey()).0],
    )
    .await;
    // what fits goes through: payment to the insurer, operations to the clinic
    env.send(
        grant(insurer.pubkey(), Purpose::Payment).instruction(),
        &[&s.patient],
    )
    .await
    .expect("payment to an insurer");
    env.send(
        grant(s.clinic.pubkey(), Purpose::Operations).instruction(),
        &[&s.patient],
    )
    .await
    .expect("operations to a clinician");
}

/// Issue 24: a provider the patient gave no grant still leaves a trace when it tries to read:
/// `access_log` against the address the grant would have records `AccessRefused` (NoGrant)
/// and changes nothing; strict, it fails with `NoGrant`. Any other empty address (another
/// patient's, or an emergency purpose's, whose address carries a serial) is refused.
#[tokio::test]
async fn access_log_without_a_grant_records_the_refusal() {
    let s = ConsentScene::new().await;
    let (env, wallet) = (&s.env, s.patient.pubkey());
    let other = env.verified_provider(ROLE_CLINICIAN).await;
    let none = pda::grant(&wallet, &other.pubkey(), Purpose::Treatment).0;
    let log = |grant: Pubkey, purpose: Purpose, strict: bool| ix::AccessLog {
        grantee: other.pubkey(),
        patient_wallet: wallet,
        grant,
        record: s.record,
        args: AccessLogArgs {
            action: action::READ,
            purpose,
            strict,
        },
    };
    let before = env.snapshot(&[none, s.grant]).await;
    let out = env
        .send(
            log(none, Purpose::Treatment, false).instruction(),
            &[&other],
        )
        .await
        .expect("a refusal is recorded, not failed");
    let [CareledgerEvent::AccessRefused(r)] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (r.reason, r.grant, r.grantee, r.grant_serial),
        (Refusal::NoGrant, none, other.pubkey(), 0)
    );
    assert_eq!(before, env.snapshot(&[none, s.grant]).await);
    env.expect_rejected(
        log(none, Purpose::Treatment, true).instruction(),
        &[&other],
        E::NoGrant,
        &[none],
    )
    .await;
    let elsewhere = pda::grant(&Pubkey::new_unique(), &other.pubkey(), Purpose::Treatment).0;
    let emergency = pda::emergency_grant(&wallet, &other.pubkey(), 1).0;
    for (grant, purpose) in [
        (elsewhere, Purpose::Treatment),
        (emergency, Purpose::Emergency),
    ] {
        env.expect_rejected(
            log(grant, purpose, false).instruction(),
            &[&other],
            E::GrantPatientMismatch,
            &[grant],
        )
        .await;
    }
}

#[tokio::test]
async fn grant_rejections() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let stranger = env.actor().await;
    let wallet = patient.pubkey();
    let now = env.now().await;
    let good = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: LAB,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: now + DAY,
    };
    let grant = pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0;
    let patient_pda = pda::patient(&wallet).0;
    let cases = [
        (
            careledger_sdk::GrantCreateArgs {
                classes: 0,
                ..good.clone()
            },
            E::InvalidClasses,
        ),
        (
            careledger_sdk::GrantCreateArgs {
                actions: 4,
                ..good.clone()
            },
            E::InvalidActions,
        ),
        (
            careledger_sdk::GrantCreateArgs {
                expires_at: now,
                ..good.clone()
            },
            E::InvalidExpiry,
        ),
        (
            careledger_sdk::GrantCreateArgs {
                expires_at: now + 11 * 365 * DAY,
                ..good.clone()
            },
            E::InvalidExpiry,
        ),
        (
            careledger_sdk::GrantCreateArgs {
                not_before: now + 2 * DAY,
                ..good.clone()
            },
            E::InvalidNotBefore,
        ),
        (
            careledger_sdk::GrantCreateArgs {
                record_scope: 0,
                ..good.clone()
            },
            E::InvalidRecordScope,
        ),
        (
            careledger_sdk::GrantCreateArgs {
                purpose: Purpose::Emergency,
                ..good.clone()
            },
            E::EmergencyPurposeReserved,
        ),
    ];
    for (args, expected) in cases {
        let grant = pda::grant(&wallet, &clinic.pubkey(), args.purpose).0;
        env.expect_rejected(
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: clinic.pubkey(),
                args,
            }
            .instruction(),
            &[&patient],
            expected,
            &[grant, patient_pda],
        )
        .await;
    }
    // a stranger cannot grant for the patient
    env.expect_rejected(
        ix::GrantCreate {
            authority: stranger.pubkey(),
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args: good.clone(),
        }
        .instruction(),
        &[&stranger],
        E::NotPatientOrGuardian,
        &[grant, patient_pda],
    )
    .await;
    env.send(
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args: good,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    assert_eq!(env.patient(&wallet).await.grant_count, 1);
}

#[tokio::test]
async fn patient_set_guardian_appoints_one_who_acts_until_the_appointment_ends() {
    if skip_unless_own_cluster("moves the clock past the guardian appointment").await {
        return;
    }
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let guardian = env.actor().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let wallet = patient.pubkey();
    let until = env.now().await + 10 * DAY;
    env.send(
        ix::PatientSetGuardian {
            wallet,
            guardian: Some(guardian.pubkey()),
            expires_at: until,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let args = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: LAB,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        // at most to the end of the guardianship (guardianship.rs tests going past it)
        expires_at: until,
    };
    let out = env
        .send(
            ix::GrantCreate {
                authority: guardian.pubkey(),
                patient_wallet: wallet,
                grantee_wallet: clinic.pubkey(),
                args,
            }
            .instruction(),
            &[&guardian],
        )
        .await
        .unwrap();
    let CareledgerEvent::GrantCreated(created) = &out.events[0] else {
        panic!()
    };
    assert_eq!(
        created.actor,
        careledger_sdk::program::logic::authority::Actor::Guardian
    );
    // a guardian cannot appoint another guardian
    let mut reappoint = ix::PatientSetGuardian {
        wallet,
        guardian: Some(env.admin.pubkey()),
        expires_at: until,
    }
    .instruction();
    careledger_tests::swap_signer(&mut reappoint, &wallet, guardian.pubkey());
    env.expect_rejected(
        reappoint,
        &[&guardian],
        E::NotPatientOrGuardian,
        &[pda::patient(&wallet).0],
    )
    .await;
    env.set_clock(until).await;
    let grant = pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0;
    env.expect_rejected(
        ix::GrantRevoke {
            authority: guardian.pubkey(),
            patient_wallet: wallet,
            grant,
        }
        .instruction(),
        &[&guardian],
        E::GuardianExpired,
        &[grant],
    )
    .await;
}

#[tokio::test]
async fn request_approve_and_request_deny() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let lab = env.verified_provider(ROLE_CLINICIAN).await;
    let wallet = patient.pubkey();
    let request = RequestCreateArgs {
        classes: LAB | (1 << 1),
        actions: action::READ | action::WRITE,
        purpose: Purpose::Treatment,
        reason_code: 3,
        duration_secs: 30 * DAY as u32,
    };
    env.send(
        ix::RequestCreate {
            requester: lab.pubkey(),
            patient_wallet: wallet,
            args: request.clone(),
        }
        .instruction(),
        &[&lab],
    )
    .await
    .unwrap();
    let pending = env.client.requests_by_patient(&wallet).await.unwrap();
    assert_eq!(pending.len(), 1);
    let now = env.now().await;
    // approval may not widen the request
    let wide = RequestApproveArgs {
        classes: LAB | (1 << 5),
        actions: action::READ,
        expires_at: now + DAY,
    };
    let grant = pda::grant(&wallet, &lab.pubkey(), Purpose::Treatment).0;
    let req = pda::request(&wallet, &lab.pubkey()).0;
    env.expect_rejected(
        ix::RequestApprove {
            authority: wallet,
            patient_wallet: wallet,
            requester: lab.pubkey(),
            purpose: Purpose::Treatment,
            args: wide,
        }
        .instruction(),
        &[&patient],
        E::ApprovalWidensRequest,
        &[grant, req],
    )
    .await;
    let narrow = RequestApproveArgs {
        classes: LAB,
        actions: action::READ,
        expires_at: now + DAY,
    };
    let out = env
        .send(
            ix::RequestApprove {
                authority: wallet,
                patient_wallet: wallet,
                requester: lab.pubkey(),
                purpose: Purpose::Treatment,
                args: narrow,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    assert_eq!(out.events.len(), 2);
    assert!(
        matches!(&out.events[0], CareledgerEvent::AccessRequestDecided(d) if d.approved && d.grant == grant)
    );
    let created: careledger_sdk::ConsentGrant = env.client.fetch(&grant).await.unwrap();
    assert_eq!((created.classes, created.actions), (LAB, action::READ));
    assert!(env.snapshot(&[req]).await[0].is_none(), "request closed");
    // a new request, denied
    env.send(
        ix::RequestCreate {
            requester: lab.pubkey(),
            patient_wallet: wallet,
            args: request,
        }
        .instruction(),
        &[&lab],
    )
    .await
    .unwrap();
    let out = env
        .send(
            ix::RequestDeny {
                authority: wallet,
                patient_wallet: wallet,
                requester: lab.pubkey(),
                reason_code: 4,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::AccessRequestDecided(d) if !d.approved && d.reason_code == 4)
    );
    assert!(env.snapshot(&[req]).await[0].is_none());
}

#[tokio::test]
async fn unverified_provider_cannot_request() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let pending = env.actor().await;
    env.send(
        ix::ProviderRegister {
            wallet: pending.pubkey(),
            args: careledger_sdk::ProviderRegisterArgs {
                supply_roles: 0,
                roles: ROLE_CLINICIAN,
                credential_ref: [3; 32],
            },
        }
        .instruction(),
        &[&pending],
    )
    .await
    .unwrap();
    let args = RequestCreateArgs {
        classes: LAB,
        actions: action::READ,
        purpose: Purpose::Treatment,
        reason_code: 1,
        duration_secs: 3600,
    };
    let req = pda::request(&patient.pubkey(), &pending.pubkey()).0;
    env.expect_rejected(
        ix::RequestCreate {
            requester: pending.pubkey(),
            patient_wallet: patient.pubkey(),
            args,
        }
        .instruction(),
        &[&pending],
        E::ProviderNotVerified,
        &[req],
    )
    .await;
}

#[tokio::test]
async fn break_glass_open_is_capped_flagged_and_reviewed() {
    if skip_unless_own_cluster("moves the clock past the break-glass window").await {
        return;
    }
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let record = env
        .anchor_as_patient(&patient, RecordClass::Imaging.id(), 5)
        .await;
    let er = env.verified_provider(ROLE_CLINICIAN | ROLE_EMERGENCY).await;
    let plain = env.verified_provider(ROLE_CLINICIAN).await;
    let grant_of = |p: &Keypair| pda::emergency_grant(&wallet, &p.pubkey(), 1).0;
    let err = env.break_glass(&plain, &wallet, 3600).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::MissingRole));
    let err = env
        .break_glass(&er, &wallet, BREAK_GLASS_CAP_SECS + 1)
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::BreakGlassWindowTooLong));
    assert!(env.snapshot(&[grant_of(&er)]).await[0].is_none());
    let grant = env.break_glass(&er, &wallet, 3600).await.unwrap();
    let emergency = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Emergency,
        strict: true,
    };
    let out = env
        .send(
            ix::AccessLog {
                grantee: er.pubkey(),
                patient_wallet: wallet,
                grant,
                record,
                args: emergency,
            }
            .instruction(),
            &[&er],
        )
        .await
        .unwrap();
    assert!(matches!(&out.events[0], CareledgerEvent::AccessLogged(l) if l.emergency));
    assert_eq!(
        env.client
            .emergencies_pending_review(&wallet)
            .await
            .unwrap()
            .len(),
        1
    );
    // cannot be closed before review, even once expired
    env.set_clock(env.now().await + 3600).await;
    env.expect_rejected(
        ix::GrantClose {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            rent_to: er.pubkey(),
        }
        .instruction(),
        &[&patient],
        E::ReviewPending,
        &[grant],
    )
    .await;
    let out = env
        .send(
            ix::BreakGlassReview {
                authority: wallet,
                patient_wallet: wallet,
                grant,
                outcome: ReviewOutcome::Disputed,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::BreakGlassReviewed(r) if r.outcome == ReviewState::Disputed && r.access_count == 1)
    );
    env.expect_rejected(
        ix::BreakGlassReview {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            outcome: ReviewOutcome::Accepted,
        }
        .instruction(),
        &[&patient],
        E::NotAwaitingReview,
        &[grant],
    )
    .await;
    // rent goes back to the clinician who paid it
    env.send(
        ix::GrantClose {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            rent_to: er.pubkey(),
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn config_set_paused_blocks_everything_but_revocations() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let s = setup().await;
    let admin = &s.env.admin;
    s.env
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
    let wallet = s.patient.pubkey();
    s.env
        .expect_rejected(
            ix::AccessLog {
                grantee: s.clinic.pubkey(),
                patient_wallet: wallet,
                grant: s.grant,
                record: s.record,
                args: log(false),
            }
            .instruction(),
            &[&s.clinic],
            E::Paused,
            &[s.grant],
        )
        .await;
    let newcomer = s.env.actor().await;
    s.env
        .expect_rejected(
            ix::PatientRegister {
                wallet: newcomer.pubkey(),
            }
            .instruction(),
            &[&newcomer],
            E::Paused,
            &[pda::patient(&newcomer.pubkey()).0],
        )
        .await;
    s.env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant: s.grant,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    s.env
        .send(
            ix::GrantRevokeAll {
                authority: wallet,
                patient_wallet: wallet,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
}
