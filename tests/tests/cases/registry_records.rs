//! Registry and record-anchor scenarios through the SDK on the embedded runtime.
use careledger_identity::vc;
use careledger_sdk::classes::RecordClass;
use careledger_sdk::events::ProviderCredentialSet;
use careledger_sdk::{action, ix, pda, CareledgerError as E, CareledgerEvent};
use careledger_sdk::{
    ConfigInitArgs, Patient, Provider, ProviderVerifyArgs, Pubkey, Purpose, RecordAmendArgs,
    RecordAnchorArgs, RecordStatus, ROLE_CLINICIAN, ROLE_LAB,
};
use careledger_tests::{sample_cid, skip_unless_own_cluster, Env, DAY};
use solana_signer::Signer;

#[tokio::test]
async fn config_init_only_by_the_upgrade_authority_and_once() {
    if skip_unless_own_cluster("starts from a program with no config").await {
        return;
    }
    let env = Env::bare().await;
    let intruder = env.actor().await;
    let args = ConfigInitArgs {
        admin: intruder.pubkey(),
        credential_authority: intruder.pubkey(),
        max_break_glass_secs: 3600,
    };
    env.expect_rejected(
        ix::ConfigInit {
            upgrade_authority: intruder.pubkey(),
            args: args.clone(),
        }
        .instruction(),
        &[&intruder],
        E::NotUpgradeAuthority,
        &[pda::config()],
    )
    .await;
    let good = ConfigInitArgs {
        admin: env.admin.pubkey(),
        ..args
    };
    let setup =
        careledger_sdk::setup::init_config(&env.client, &env.upgrade_authority, good.clone())
            .await
            .unwrap();
    assert_eq!(setup, careledger_sdk::setup::ConfigSetup::Created);
    let again = careledger_sdk::setup::init_config(&env.client, &env.upgrade_authority, good)
        .await
        .unwrap();
    assert_eq!(
        again,
        careledger_sdk::setup::ConfigSetup::AlreadyInitialized
    );
}

#[tokio::test]
async fn config_propose_admin_then_config_accept_admin_hands_over_in_two_steps() {
    if skip_unless_own_cluster("hands the config to another admin and pauses it").await {
        return;
    }
    let env = Env::new().await;
    let next = env.actor().await;
    let other = env.actor().await;
    let config = pda::config();
    env.expect_rejected(
        ix::ConfigProposeAdmin {
            admin: other.pubkey(),
            new_admin: other.pubkey(),
        }
        .instruction(),
        &[&other],
        E::NotAdmin,
        &[config],
    )
    .await;
    env.send(
        ix::ConfigProposeAdmin {
            admin: env.admin.pubkey(),
            new_admin: next.pubkey(),
        }
        .instruction(),
        &[&env.admin],
    )
    .await
    .unwrap();
    env.expect_rejected(
        ix::ConfigAcceptAdmin {
            new_admin: other.pubkey(),
        }
        .instruction(),
        &[&other],
        E::NotPendingAdmin,
        &[config],
    )
    .await;
    let out = env
        .send(
            ix::ConfigAcceptAdmin {
                new_admin: next.pubkey(),
            }
            .instruction(),
            &[&next],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[0], CareledgerEvent::AdminAccepted(a) if a.new_admin == next.pubkey())
    );
    env.expect_rejected(
        ix::ConfigSetPaused {
            admin: env.admin.pubkey(),
            paused: true,
        }
        .instruction(),
        &[&env.admin],
        E::NotAdmin,
        &[config],
    )
    .await;
}

/// Who gains: a wallet that could register again over its own profile wipes its consent epoch,
/// guardian and counters (old void grants would live again). Registration makes a clean profile
/// for the signing wallet, once.
#[tokio::test]
async fn patient_register_makes_a_clean_profile_once() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let address = pda::patient(&wallet).0;
    let profile: Patient = env.client.fetch(&address).await.unwrap();
    assert_eq!(profile.wallet, wallet);
    assert_eq!(
        (profile.guardian, profile.guardian_expires_at),
        (Pubkey::default(), 0)
    );
    assert_eq!(
        (
            profile.consent_epoch,
            profile.record_count,
            profile.grant_count,
            profile.emergency_count,
            profile.consent_flags
        ),
        (0, 0, 0, 0, 0)
    );
    assert!(profile.registered_at > 0 && profile.registered_at <= env.now().await);
    env.expect_rejected(
        ix::PatientRegister { wallet }.instruction(),
        &[&patient],
        E::PatientAlreadyRegistered,
        &[address],
    )
    .await;
}

#[tokio::test]
async fn provider_register_and_provider_verify_rules() {
    let env = Env::new().await;
    let provider = env.actor().await;
    let bad_roles = careledger_sdk::ProviderRegisterArgs {
        supply_roles: 0,
        roles: 0x40,
        credential_ref: [1; 32],
    };
    let address = pda::provider(&provider.pubkey()).0;
    env.expect_rejected(
        ix::ProviderRegister {
            wallet: provider.pubkey(),
            args: bad_roles,
        }
        .instruction(),
        &[&provider],
        E::InvalidRoles,
        &[address],
    )
    .await;
    let zero_ref = careledger_sdk::ProviderRegisterArgs {
        supply_roles: 0,
        roles: ROLE_CLINICIAN,
        credential_ref: [0; 32],
    };
    env.expect_rejected(
        ix::ProviderRegister {
            wallet: provider.pubkey(),
            args: zero_ref,
        }
        .instruction(),
        &[&provider],
        E::InvalidCredentialRef,
        &[address],
    )
    .await;
    let ok = careledger_sdk::ProviderRegisterArgs {
        supply_roles: 0,
        roles: ROLE_CLINICIAN,
        credential_ref: [9; 32],
    };
    env.send(
        ix::ProviderRegister {
            wallet: provider.pubkey(),
            args: ok,
        }
        .instruction(),
        &[&provider],
    )
    .await
    .unwrap();
    // only the credential authority verifies
    let args = careledger_sdk::ProviderVerifyArgs {
        supply_roles: 0,
        roles: ROLE_CLINICIAN,
        credential_expires_at: env.now().await + 100,
        credential_ref: [0; 32],
    };
    env.expect_rejected(
        ix::ProviderVerify {
            authority: provider.pubkey(),
            provider_wallet: provider.pubkey(),
            args: args.clone(),
        }
        .instruction(),
        &[&provider],
        E::NotCredentialAuthority,
        &[address],
    )
    .await;
    let past = careledger_sdk::ProviderVerifyArgs {
        supply_roles: 0,
        credential_expires_at: env.now().await,
        ..args
    };
    env.expect_rejected(
        ix::ProviderVerify {
            authority: env.credential_authority.pubkey(),
            provider_wallet: provider.pubkey(),
            args: past,
        }
        .instruction(),
        &[&env.credential_authority],
        E::InvalidCredentialExpiry,
        &[address],
    )
    .await;
}

/// A verifier accepts a provider credential only when its hash is the provider account's
/// `credential_ref`, so whoever sets that hash decides which credential counts. A provider would
/// gain by naming a credential with more roles or a later expiry than the authority signed
/// together (an old one, or one from another issuer); a rival, by naming another credential so
/// that the provider's real one stops checking. Only the credential authority may set it.
#[tokio::test]
async fn only_the_credential_authority_names_a_provider_credential() {
    let env = Env::new().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN | ROLE_LAB).await;
    let stranger = env.actor().await;
    let wallet = clinic.pubkey();
    let address = pda::provider(&wallet).0;
    let licence: Provider = env.client.fetch(&address).await.unwrap();
    let now = env.now().await;
    let claims = vc::ProviderClaims {
        provider: wallet,
        roles: vec!["clinician".into(), "lab".into()],
        valid_from: now,
        valid_until: now + 365 * DAY,
    };
    let credential = vc::issue(&env.credential_authority, &claims, now).unwrap();
    let credential_ref = vc::credential_ref(&credential);
    let verify = |authority: Pubkey, credential_ref: [u8; 32]| {
        ix::ProviderVerify {
            authority,
            provider_wallet: wallet,
            args: ProviderVerifyArgs {
                supply_roles: 0,
                roles: ROLE_CLINICIAN | ROLE_LAB,
                credential_expires_at: claims.valid_until,
                credential_ref,
            },
        }
        .instruction()
    };

    // (c) neither the provider itself nor a stranger can name a credential
    for intruder in [&clinic, &stranger] {
        env.expect_rejected(
            verify(intruder.pubkey(), credential_ref),
            &[intruder],
            E::NotCredentialAuthority,
            &[address],
        )
        .await;
    }

    // (a) the authority names it; the event carries the hash it replaces
    let authority = env.credential_authority.pubkey();
    let out = env
        .send(
            verify(authority, credential_ref),
            &[&env.credential_authority],
        )
        .await
        .unwrap();
    let [CareledgerEvent::ProviderVerified(_), CareledgerEvent::ProviderCredentialSet(set)] =
        &out.events[..]
    else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        *set,
        ProviderCredentialSet {
            provider: address,
            wallet,
            authority,
            credential_ref,
            previous: licence.credential_ref,
            credential_expires_at: claims.valid_until,
            at: set.at,
        }
    );
    let stored: Provider = env.client.fetch(&address).await.unwrap();
    assert_eq!(stored.credential_ref, credential_ref);
    let verified = vc::verify_proof(&credential).unwrap();
    vc::check_status(&verified, &stored, &authority, env.now().await).unwrap();

    // (b) all zero keeps it, and so does naming the same credential again: no event either way
    for unchanged in [[0; 32], credential_ref] {
        let out = env
            .send(verify(authority, unchanged), &[&env.credential_authority])
            .await
            .unwrap();
        assert!(
            matches!(&out.events[..], [CareledgerEvent::ProviderVerified(_)]),
            "{:?}",
            out.events
        );
        let stored: Provider = env.client.fetch(&address).await.unwrap();
        assert_eq!(stored.credential_ref, credential_ref);
    }
}

#[tokio::test]
async fn record_anchor_record_amend_record_retract_and_lineage() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let first = env
        .anchor_as_patient(&patient, RecordClass::ClinicalNote.id(), 1)
        .await;
    let amend = |expected_version, seed: u8| RecordAmendArgs {
        cid: sample_cid(seed),
        content_sha256: [seed; 32],
        expected_version,
    };
    let out = env
        .send(
            ix::RecordAmend {
                patient_wallet: wallet,
                previous_index: 0,
                new_index: 1,
                author: careledger_sdk::ix::Author::Patient,
                args: amend(1, 2),
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    let CareledgerEvent::RecordAnchored(e) = &out.events[0] else {
        panic!()
    };
    assert_eq!((e.index, e.version, e.previous), (1, 2, 0));
    let old: careledger_sdk::RecordAnchor = env.client.fetch(&first).await.unwrap();
    assert_eq!(old.status, RecordStatus::Superseded);
    // a superseded anchor accepts nothing; a stale version is refused
    let third = pda::record(&wallet, 2).0;
    env.expect_rejected(
        ix::RecordAmend {
            patient_wallet: wallet,
            previous_index: 0,
            new_index: 2,
            author: careledger_sdk::ix::Author::Patient,
            args: amend(1, 3),
        }
        .instruction(),
        &[&patient],
        E::RecordNotCurrent,
        &[first, third, pda::patient(&wallet).0],
    )
    .await;
    env.expect_rejected(
        ix::RecordAmend {
            patient_wallet: wallet,
            previous_index: 1,
            new_index: 2,
            author: careledger_sdk::ix::Author::Patient,
            args: amend(1, 3),
        }
        .instruction(),
        &[&patient],
        E::StaleVersion,
        &[third, pda::patient(&wallet).0],
    )
    .await;
    let records = env.client.records_by_patient(&wallet).await.unwrap();
    assert_eq!(
        records.iter().map(|(_, r)| r.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let retract = ix::RecordRetract {
        by: careledger_sdk::ix::Author::Patient,
        record: records[1].1.clone(),
        reason_code: 5,
    }
    .instruction();
    let out = env.send(retract.clone(), &[&patient]).await.unwrap();
    // the amendment was entered in error: the version it replaced is current again
    assert!(
        matches!(&out.events[0], CareledgerEvent::RecordRetracted(r) if r.reinstated == records[0].0)
    );
    env.expect_rejected(
        retract,
        &[&patient],
        E::RecordNotCurrent,
        &[records[1].0, records[0].0],
    )
    .await;
}

#[tokio::test]
async fn malformed_cids_and_zero_hashes_are_refused() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let record = pda::record(&wallet, 0).0;
    let mut identity = vec![1, 0x55, 0x00, 32];
    identity.extend([5; 32]);
    let mut truncated = sample_cid(1);
    truncated.truncate(20);
    let mut unknown_codec = sample_cid(1);
    unknown_codec[1] = 0x56;
    let cases = [
        (vec![1u8; 41], E::CidTooLong),
        (truncated, E::CidTruncated),
        (identity, E::CidIdentityHash),
        (unknown_codec, E::CidCodec),
        (vec![1, 0xd5, 0x00, 0x12, 32], E::CidVarint),
    ];
    for (cid, expected) in cases {
        let args = RecordAnchorArgs {
            cid,
            content_sha256: [1; 32],
            class: 0,
        };
        env.expect_rejected(
            ix::RecordAnchor {
                patient_wallet: wallet,
                index: 0,
                author: careledger_sdk::ix::Author::Patient,
                args,
            }
            .instruction(),
            &[&patient],
            expected,
            &[record, pda::patient(&wallet).0],
        )
        .await;
    }
    let zero = RecordAnchorArgs {
        cid: sample_cid(1),
        content_sha256: [0; 32],
        class: 0,
    };
    env.expect_rejected(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author: careledger_sdk::ix::Author::Patient,
            args: zero,
        }
        .instruction(),
        &[&patient],
        E::ZeroHash,
        &[record],
    )
    .await;
    let bad_class = RecordAnchorArgs {
        cid: sample_cid(1),
        content_sha256: [1; 32],
        class: 16,
    };
    env.expect_rejected(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author: careledger_sdk::ix::Author::Patient,
            args: bad_class,
        }
        .instruction(),
        &[&patient],
        E::InvalidRecordClass,
        &[record],
    )
    .await;
}

#[tokio::test]
async fn provider_writes_only_with_a_write_grant_for_the_class() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let lab = env.verified_provider(ROLE_CLINICIAN).await;
    let wallet = patient.pubkey();
    let author = careledger_sdk::ix::Author::Provider {
        wallet: lab.pubkey(),
        purpose: Purpose::Treatment,
    };
    let args = |class: u8| RecordAnchorArgs {
        cid: sample_cid(4),
        content_sha256: [4; 32],
        class,
    };
    let record = pda::record(&wallet, 0).0;
    // no grant at all: the grant account does not exist (Anchor's AccountNotInitialized)
    env.expect_anchor_error(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author,
            args: args(0),
        }
        .instruction(),
        &[&lab],
        anchor_lang::error::ErrorCode::AccountNotInitialized as u32,
        &[record],
    )
    .await;
    env.grant(
        &patient,
        &lab.pubkey(),
        Purpose::Treatment,
        RecordClass::LabResult.bit(),
        action::READ,
        5,
    )
    .await
    .unwrap();
    env.expect_rejected(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author,
            args: args(0),
        }
        .instruction(),
        &[&lab],
        E::ActionNotGranted,
        &[record],
    )
    .await;
    let grant = pda::grant(&wallet, &lab.pubkey(), Purpose::Treatment).0;
    let update = careledger_sdk::GrantUpdateArgs {
        classes: RecordClass::LabResult.bit(),
        actions: action::READ | action::WRITE,
        record_scope: careledger_sdk::NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: env.now().await + 86_400,
    };
    env.send(
        ix::GrantUpdate {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            args: update,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    env.expect_rejected(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index: 0,
            author,
            args: args(1),
        }
        .instruction(),
        &[&lab],
        E::ClassNotGranted,
        &[record],
    )
    .await;
    let out = env
        .send(
            ix::RecordAnchor {
                patient_wallet: wallet,
                index: 0,
                author,
                args: args(0),
            }
            .instruction(),
            &[&lab],
        )
        .await
        .unwrap();
    let CareledgerEvent::RecordAnchored(e) = &out.events[0] else {
        panic!()
    };
    assert_eq!((e.author, e.grant), (lab.pubkey(), grant));
    assert_eq!(
        env.client
            .records_by_author(&lab.pubkey())
            .await
            .unwrap()
            .len(),
        1
    );
}
