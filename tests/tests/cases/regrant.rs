//! Consent given again where a spent grant stands (issue 30): `grant_create`,
//! `grant_create_signed` and `request_approve` make the new grant in place of a revoked, void
//! (revoke-all) or expired one, in one instruction. The serial moves on, the old grant's rent
//! goes back to whoever paid it, its history stays in its events (a `GrantClosed` precedes the
//! `GrantCreated`), and a live grant is never overwritten. Who gains by breaking it:
//! - a provider that wants a void grant to look live: the standing comes from the rule;
//! - whoever wants to reset a live grant's start or drop its statement through the re-grant
//!   path: refused (`GrantAlreadyExists`), nothing changed;
//! - a guardian whose guardianship ended: refused as for a first grant;
//! - a signer who points the old rent at itself: refused (`WrongRentDestination`).
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix;
use careledger_sdk::statement::SignedForm;
use careledger_sdk::{
    action, pda, AccessLogArgs, CareledgerError as E, CareledgerEvent, ConsentGrant,
    GrantCreateArgs, GrantStanding, Purpose, RequestApproveArgs, RequestCreateArgs, Transport,
    NO_RECORD_SCOPE, ROLE_CLINICIAN,
};
use careledger_tests::{skip_unless_own_cluster, ConsentScene, Env, DAY};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

fn lab_args(expires_at: i64) -> GrantCreateArgs {
    GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: RecordClass::LabResult.bit(),
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at,
    }
}

async fn lamports(env: &Env, who: &Pubkey) -> u64 {
    env.client
        .transport()
        .account(who)
        .await
        .unwrap()
        .map_or(0, |a| a.lamports)
}

fn names(out: &careledger_sdk::TxOutcome) -> Vec<&'static str> {
    out.events.iter().map(CareledgerEvent::name).collect()
}

/// After revoke-all the old grant is void (so shown), and a plain grant replaces it: the next
/// serial, the current epoch, access allowed again, the rent left in place (the same payer).
#[tokio::test]
async fn grant_create_after_revoke_all_replaces_the_void_grant() {
    let s = ConsentScene::new().await;
    let (env, wallet, clinic) = (&s.env, s.patient.pubkey(), s.clinic.pubkey());
    let before: ConsentGrant = env.client.fetch(&s.grant).await.unwrap();
    env.send(
        ix::GrantRevokeAll {
            authority: wallet,
            patient_wallet: wallet,
        }
        .instruction(),
        &[&s.patient],
    )
    .await
    .unwrap();
    let listed = env.client.grant_standings(&wallet).await.unwrap();
    assert_eq!(listed[0].standing, GrantStanding::Void);
    let refused = env
        .client
        .check_access(&s.grant, &s.record, action::READ, Purpose::Treatment)
        .await
        .unwrap();
    assert_eq!(refused, Err(careledger_sdk::Refusal::StaleEpoch));

    let previous = env.client.grant_to_replace(&s.grant).await.unwrap();
    assert_eq!(previous.as_ref().map(|g| g.serial), Some(before.serial));
    let rent = lamports(env, &s.grant).await;
    let out = env
        .send(
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: clinic,
                args: lab_args(env.now().await + 10 * DAY),
            }
            .renewing(ix::previous_payer(&wallet, previous.as_ref())),
            &[&s.patient],
        )
        .await
        .expect("grant again");
    assert_eq!(names(&out), ["GrantClosed", "GrantCreated"]);
    let CareledgerEvent::GrantClosed(closed) = &out.events[0] else {
        unreachable!()
    };
    assert_eq!((closed.grant, closed.rent_to), (s.grant, wallet));
    let after: ConsentGrant = env.client.fetch(&s.grant).await.unwrap();
    assert_eq!(after.serial, before.serial + 1);
    assert_eq!(after.consent_epoch, before.consent_epoch + 1);
    assert_eq!(after.access_count, 0);
    assert_eq!(
        lamports(env, &s.grant).await,
        rent,
        "the same payer's rent stays"
    );
    assert_eq!(
        env.client.grant_standings(&wallet).await.unwrap()[0].standing,
        GrantStanding::Active
    );
    let log = ix::AccessLog {
        grantee: clinic,
        patient_wallet: wallet,
        grant: s.grant,
        record: s.record,
        args: AccessLogArgs {
            action: action::READ,
            purpose: Purpose::Treatment,
            strict: true,
        },
    };
    let out = env.send(log.instruction(), &[&s.clinic]).await.unwrap();
    let CareledgerEvent::AccessLogged(read) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    // the read names the consent it was logged under
    assert_eq!(read.grant_serial, after.serial);
}

/// Who gains: a party that wants to reset a live grant (a later start, a dropped statement, a
/// fresh access count) through the re-grant path. A live or not-yet-valid grant is refused,
/// nothing changed; the SDK refuses before anything is signed.
#[tokio::test]
async fn grant_create_over_a_live_grant_is_refused() {
    let s = ConsentScene::new().await;
    let (env, wallet, clinic) = (&s.env, s.patient.pubkey(), s.clinic.pubkey());
    let again = ix::GrantCreate {
        authority: wallet,
        patient_wallet: wallet,
        grantee_wallet: clinic,
        args: lab_args(env.now().await + 60 * DAY),
    };
    env.expect_rejected(
        again.clone().instruction(),
        &[&s.patient],
        E::GrantAlreadyExists,
        &[s.grant, pda::patient(&wallet).0],
    )
    .await;
    let err = env.client.grant_to_replace(&s.grant).await.unwrap_err();
    assert_eq!(err.program_error(), Some(E::GrantAlreadyExists));
    // a grant that has not started yet is live too
    let later = env.verified_provider(ROLE_CLINICIAN).await;
    let mut starts_later = lab_args(env.now().await + 30 * DAY);
    starts_later.not_before = env.now().await + 5 * DAY;
    env.send(
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: later.pubkey(),
            args: starts_later.clone(),
        }
        .instruction(),
        &[&s.patient],
    )
    .await
    .unwrap();
    let pending = pda::grant(&wallet, &later.pubkey(), Purpose::Treatment).0;
    assert_eq!(
        env.client
            .grant_standings(&wallet)
            .await
            .unwrap()
            .iter()
            .find(|l| l.address == pending)
            .unwrap()
            .standing,
        GrantStanding::NotYetValid
    );
    starts_later.not_before = 0;
    env.expect_rejected(
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: later.pubkey(),
            args: starts_later,
        }
        .instruction(),
        &[&s.patient],
        E::GrantAlreadyExists,
        &[pending],
    )
    .await;
}

/// The old grant's rent belongs to whoever paid it. A guardian made the grant; after it lapsed
/// the patient grants anew: the guardian is refunded, the patient pays. Naming anyone else, or
/// no one, is refused with the state unchanged.
#[tokio::test]
async fn grant_create_returns_the_old_rent_to_its_payer() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let guardian = env.actor().await;
    let (wallet, g) = (patient.pubkey(), guardian.pubkey());
    let now = env.now().await;
    env.send(
        ix::PatientSetGuardian {
            wallet,
            guardian: Some(g),
            expires_at: now + 365 * DAY,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let made = ix::GrantCreate {
        authority: g,
        patient_wallet: wallet,
        grantee_wallet: clinic.pubkey(),
        args: lab_args(now + 2 * DAY),
    };
    env.send(made.instruction(), &[&guardian]).await.unwrap();
    let address = pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0;
    env.set_clock(now + 3 * DAY).await;
    assert_eq!(
        env.client.grant_standings(&wallet).await.unwrap()[0].standing,
        GrantStanding::Expired
    );
    let rent = lamports(&env, &address).await;
    let renew = |previous_payer: Option<Pubkey>, expires_at: i64| {
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args: lab_args(expires_at),
        }
        .renewing(previous_payer)
    };
    let until = now + 30 * DAY;
    let thief = Keypair::new().pubkey();
    for wrong in [None, Some(thief), Some(wallet)] {
        env.expect_rejected(
            renew(wrong, until),
            &[&patient],
            E::WrongRentDestination,
            &[address, g, wallet, pda::patient(&wallet).0],
        )
        .await;
    }
    let previous = env.client.grant_to_replace(&address).await.unwrap();
    assert_eq!(ix::previous_payer(&wallet, previous.as_ref()), Some(g));
    let before = lamports(&env, &g).await;
    let out = env
        .send(renew(Some(g), until), &[&patient])
        .await
        .expect("the patient grants again");
    let CareledgerEvent::GrantClosed(closed) = &out.events[0] else {
        panic!("{:?}", out.events)
    };
    assert_eq!((closed.rent_to, closed.lamports), (g, rent));
    assert_eq!(lamports(&env, &g).await, before + rent);
    let now_grant: ConsentGrant = env.client.fetch(&address).await.unwrap();
    assert_eq!(now_grant.payer, wallet);
    assert!(lamports(&env, &address).await >= rent);
}

/// A guardian whose guardianship ended cannot grant again over the ward's spent grant, as it
/// could not grant the first time (`GuardianExpired`).
#[tokio::test]
async fn grant_create_by_a_guardian_after_the_guardianship_ended_is_refused() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = ConsentScene::new().await;
    let (env, wallet, clinic) = (&s.env, s.patient.pubkey(), s.clinic.pubkey());
    let guardian = env.actor().await;
    let now = env.now().await;
    env.send(
        ix::PatientSetGuardian {
            wallet,
            guardian: Some(guardian.pubkey()),
            expires_at: now + DAY,
        }
        .instruction(),
        &[&s.patient],
    )
    .await
    .unwrap();
    env.send(
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
    env.set_clock(now + 2 * DAY).await;
    env.expect_rejected(
        ix::GrantCreate {
            authority: guardian.pubkey(),
            patient_wallet: wallet,
            grantee_wallet: clinic,
            args: lab_args(now + 10 * DAY),
        }
        .renewing(Some(wallet)),
        &[&guardian],
        E::GuardianExpired,
        &[s.grant, pda::patient(&wallet).0],
    )
    .await;
}

/// The signed path and the approval path replace a spent grant the same way: a revoked grant
/// is made anew against the statement the patient signed (bound to the next serial), and an
/// approval replaces an expired one.
#[tokio::test]
async fn grant_create_signed_and_request_approve_replace_a_spent_grant() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = ConsentScene::new().await;
    let (env, wallet, clinic) = (&s.env, s.patient.pubkey(), s.clinic.pubkey());
    env.send(
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
    let (instructions, statement) = env
        .signed_grant(
            &s.patient,
            &wallet,
            &clinic,
            lab_args(env.now().await + 5 * DAY),
            SignedForm::Plain,
        )
        .await;
    // the patient paid for the revoked grant itself: no previous payer to name
    let out = env
        .send_all(&instructions, &[&s.patient])
        .await
        .expect("signed grant again");
    assert_eq!(
        names(&out),
        ["GrantClosed", "GrantCreated", "ConsentStatementSigned"]
    );
    let renewed: ConsentGrant = env.client.fetch(&s.grant).await.unwrap();
    assert_eq!(
        renewed.serial, 2,
        "the scene's grant was the patient's first"
    );
    assert_eq!(
        renewed.statement_hash,
        careledger_sdk::statement::statement_hash(&statement)
    );

    // an access request from another clinic whose expired grant it replaces
    let other = env.verified_provider(ROLE_CLINICIAN).await;
    let short = lab_args(env.now().await + DAY);
    env.send(
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: other.pubkey(),
            args: short,
        }
        .instruction(),
        &[&s.patient],
    )
    .await
    .unwrap();
    env.set_clock(env.now().await + 2 * DAY).await;
    env.send(
        ix::RequestCreate {
            requester: other.pubkey(),
            patient_wallet: wallet,
            args: RequestCreateArgs {
                classes: RecordClass::LabResult.bit(),
                actions: action::READ,
                purpose: Purpose::Treatment,
                reason_code: 1,
                duration_secs: 3 * DAY as u32,
            },
        }
        .instruction(),
        &[&other],
    )
    .await
    .unwrap();
    let address = pda::grant(&wallet, &other.pubkey(), Purpose::Treatment).0;
    let previous = env.client.grant_to_replace(&address).await.unwrap();
    let out = env
        .send(
            ix::RequestApprove {
                authority: wallet,
                patient_wallet: wallet,
                requester: other.pubkey(),
                purpose: Purpose::Treatment,
                args: RequestApproveArgs {
                    classes: RecordClass::LabResult.bit(),
                    actions: action::READ,
                    expires_at: env.now().await + 3 * DAY,
                },
            }
            .renewing(ix::previous_payer(&wallet, previous.as_ref())),
            &[&s.patient],
        )
        .await
        .expect("approve over the expired grant");
    assert_eq!(
        names(&out),
        ["AccessRequestDecided", "GrantClosed", "GrantCreated"]
    );
    assert_eq!(
        env.client
            .grant_standings(&wallet)
            .await
            .unwrap()
            .iter()
            .find(|l| l.address == address)
            .unwrap()
            .standing,
        GrantStanding::Active
    );
}
