//! Consent statements (`grant_create_signed`): who gains by breaking each rule, and the test
//! that they cannot.
//! - A clinic, or the server that builds the patient's transaction, gains by recording broader
//!   terms than the patient read: more classes, write access, a longer window, other records.
//!   The wallet's transaction preview shows none of that, so the program must compare.
//! - Anyone holding one signed statement gains by reusing it: for another patient, another
//!   grantee, or the same grant made again after the patient revoked and closed it.
//! - A forger gains by pointing the program at an Ed25519 check of other bytes, of another key,
//!   in another instruction, or at no check at all.
use careledger_sdk::statement::{self as st, SignedForm};
use careledger_sdk::{
    action, ix, pda, CareledgerError as E, CareledgerEvent, ConsentGrant, GrantCreateArgs, Purpose,
    NO_RECORD_SCOPE,
};
use careledger_tests::{Env, DAY};
use sha2::{Digest, Sha256};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

const LAB: u16 = 1;

fn args(now: i64, purpose: Purpose) -> GrantCreateArgs {
    GrantCreateArgs {
        purpose,
        classes: LAB,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: now + 30 * DAY,
    }
}

/// Sends `ixs` signed by `signer`, expects exactly `expected`, and checks that the grant
/// address and the patient account are byte-identical afterwards.
async fn refused(
    env: &Env,
    ixs: &[Instruction],
    signer: &Keypair,
    expected: E,
    watched: &[Pubkey],
) {
    let before = env.snapshot(watched).await;
    let err = env
        .send_all(ixs, &[signer])
        .await
        .expect_err("the grant should have been refused");
    assert_eq!(err.program_error(), Some(expected), "got {err}");
    assert_eq!(
        before,
        env.snapshot(watched).await,
        "a refused grant changed state"
    );
}

struct Scene {
    env: Env,
    patient: Keypair,
    clinic: Keypair,
}

impl Scene {
    async fn new() -> Scene {
        let env = Env::new().await;
        let patient = env.register_patient().await;
        env.anchor_as_patient(&patient, 0, 1).await;
        // a clinic that also does research: every purpose fits its roles
        let clinic = env
            .verified_provider(careledger_sdk::ROLE_CLINICIAN | careledger_sdk::ROLE_RESEARCHER)
            .await;
        Scene {
            env,
            patient,
            clinic,
        }
    }

    fn watched(&self, purpose: Purpose) -> Vec<Pubkey> {
        let wallet = self.patient.pubkey();
        vec![
            pda::grant(&wallet, &self.clinic.pubkey(), purpose).0,
            pda::patient(&wallet).0,
        ]
    }
}

#[tokio::test]
async fn a_signed_statement_makes_the_grant_and_the_grant_keeps_its_hash() {
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    for (form, purpose) in [
        (SignedForm::Plain, Purpose::Treatment),
        (SignedForm::OffchainV0, Purpose::Operations),
        (SignedForm::OffchainLegacy, Purpose::PublicHealth),
        (SignedForm::OffchainV1, Purpose::Research),
    ] {
        let serial = s.env.patient(&wallet).await.grant_count + 1;
        let (ixs, statement) = s
            .env
            .signed_grant(
                &s.patient,
                &wallet,
                &s.clinic.pubkey(),
                args(now, purpose),
                form,
            )
            .await;
        let outcome = s.env.send_all(&ixs, &[&s.patient]).await.unwrap();
        let address = pda::grant(&wallet, &s.clinic.pubkey(), purpose).0;
        let grant: ConsentGrant = s.env.client.fetch(&address).await.unwrap();
        let hash: [u8; 32] = Sha256::digest(&statement).into();
        assert_eq!(grant.statement_hash, hash, "{form:?}");
        assert_eq!(
            (grant.classes, grant.actions, grant.serial),
            (LAB, action::READ, serial)
        );
        let [CareledgerEvent::GrantCreated(created), CareledgerEvent::ConsentStatementSigned(signed)] =
            &outcome.events[..]
        else {
            panic!("events {:?}", outcome.events)
        };
        assert_eq!(
            (signed.grant, signed.form, signed.serial),
            (address, form, serial)
        );
        assert_eq!(signed.statement_hash, hash);
        // the events alone re-render the words signed
        let again = st::render(&st::StatementTerms {
            patient: created.patient,
            signer: signed.signer,
            actor: created.actor,
            grantee: created.grantee,
            grant: created.grant,
            serial: signed.serial,
            classes: created.terms.classes,
            actions: created.terms.actions,
            purpose: created.purpose,
            record_scope: created.terms.record_scope,
            not_before: signed.stated_not_before,
            expires_at: created.terms.expires_at,
        });
        assert_eq!(again, statement);
        let text = String::from_utf8(statement).unwrap();
        assert!(text.contains(&format!("Grantee: {}", s.clinic.pubkey())));
        assert!(text.contains("Records: all records of class lab-result\n"));
    }
}

/// Issue 25: a wallet signs the statement in an off-chain envelope the program does not read
/// as careledger's: a version it does not know, a version-0 envelope for another application,
/// or one naming another or a second signer. Each is refused by name, nothing changed, though
/// the Ed25519 signature itself is valid.
#[tokio::test]
async fn an_envelope_of_another_version_domain_or_signer_is_refused() {
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    let (ixs, statement) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Treatment),
            SignedForm::Plain,
        )
        .await;
    drop(ixs);
    let v1 = st::offchain_v1(&statement, &wallet);
    let mut v2 = v1.clone();
    v2[16] = 2;
    let mut two_signers = v1.clone();
    two_signers[17] = 2;
    two_signers.splice(18..18, [0u8; 32]);
    let other = Keypair::new();
    let cases = [
        (v2, E::OffchainVersionUnknown),
        (
            st::offchain_v0(&statement, &wallet, &[7; 32]),
            E::OffchainApplicationDomain,
        ),
        (two_signers, E::OffchainSigners),
        (
            st::offchain_v1(&statement, &other.pubkey()),
            E::OffchainSigners,
        ),
        (
            st::offchain_v1(&statement[..statement.len() - 1], &wallet),
            E::StatementMismatch,
        ),
    ];
    for (message, expected) in cases {
        let signature = s.patient.sign_message(&message);
        let signed = ix::GrantCreateSigned {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: s.clinic.pubkey(),
            args: args(now, Purpose::Treatment),
            signed_message: message,
            signature: signature.into(),
        }
        .instructions();
        refused(
            &s.env,
            &signed,
            &s.patient,
            expected,
            &s.watched(Purpose::Treatment),
        )
        .await;
    }
}

#[tokio::test]
async fn a_guardian_signs_as_guardian() {
    let s = Scene::new().await;
    let guardian = s.env.actor().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: now + 365 * DAY,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let (ixs, statement) = s
        .env
        .signed_grant(
            &guardian,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Treatment),
            SignedForm::Plain,
        )
        .await;
    let text = String::from_utf8(statement).unwrap();
    assert!(text.contains(&format!("Signed by: {} (guardian)", guardian.pubkey())));
    s.env.send_all(&ixs, &[&guardian]).await.unwrap();
}

#[tokio::test]
async fn a_statement_for_other_terms_is_refused() {
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    let read = args(now, Purpose::Treatment);
    let (signed_ixs, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            read.clone(),
            SignedForm::Plain,
        )
        .await;
    let wider = [
        GrantCreateArgs {
            classes: u16::MAX,
            ..read.clone()
        },
        GrantCreateArgs {
            actions: action::ALL,
            ..read.clone()
        },
        GrantCreateArgs {
            expires_at: read.expires_at + DAY,
            ..read.clone()
        },
        GrantCreateArgs {
            expires_at: read.expires_at - DAY,
            ..read.clone()
        },
        GrantCreateArgs {
            record_scope: 0,
            ..read.clone()
        },
        GrantCreateArgs {
            not_before: now + DAY,
            ..read.clone()
        },
    ];
    for other in wider {
        // the patient signs the transaction too: its preview shows none of this
        let (other_ixs, _) = s
            .env
            .signed_grant(
                &s.patient,
                &wallet,
                &s.clinic.pubkey(),
                other,
                SignedForm::Plain,
            )
            .await;
        let swapped = [signed_ixs[0].clone(), other_ixs[1].clone()];
        refused(
            &s.env,
            &swapped,
            &s.patient,
            E::StatementMismatch,
            &s.watched(Purpose::Treatment),
        )
        .await;
    }
    // another purpose is another grant address, whose nonce differs
    let (research, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Research),
            SignedForm::Plain,
        )
        .await;
    let swapped = [signed_ixs[0].clone(), research[1].clone()];
    refused(
        &s.env,
        &swapped,
        &s.patient,
        E::StatementMismatch,
        &s.watched(Purpose::Research),
    )
    .await;
    // another grantee, the same way
    let lab = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let (to_lab, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &lab.pubkey(),
            read.clone(),
            SignedForm::Plain,
        )
        .await;
    let swapped = [signed_ixs[0].clone(), to_lab[1].clone()];
    let lab_grant = pda::grant(&wallet, &lab.pubkey(), Purpose::Treatment).0;
    refused(
        &s.env,
        &swapped,
        &s.patient,
        E::StatementMismatch,
        &[lab_grant],
    )
    .await;
    // and the statement's own terms still make the grant
    s.env.send_all(&signed_ixs, &[&s.patient]).await.unwrap();
}

#[tokio::test]
async fn a_statement_of_another_patient_or_signer_is_refused() {
    let s = Scene::new().await;
    let other = s.env.register_patient().await;
    let now = s.env.now().await;
    let a = args(now, Purpose::Treatment);
    let wallet = s.patient.pubkey();
    // the other patient's real signed statement, for their own grant to the clinic
    let (theirs, _) = s
        .env
        .signed_grant(
            &other,
            &other.pubkey(),
            &s.clinic.pubkey(),
            a.clone(),
            SignedForm::Plain,
        )
        .await;
    let (mine, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            a.clone(),
            SignedForm::Plain,
        )
        .await;
    // their check before my grant: the key is not my grant's signer
    let swapped = [theirs[0].clone(), mine[1].clone()];
    refused(
        &s.env,
        &swapped,
        &s.patient,
        E::StatementSignerMismatch,
        &s.watched(Purpose::Treatment),
    )
    .await;
    // my key over a statement naming them: the words are not my grant's
    let their_statement = st::render(
        &st::terms_for_grant(
            &s.env.patient(&other.pubkey()).await,
            &other.pubkey(),
            &s.clinic.pubkey(),
            &a,
            now,
        )
        .unwrap(),
    );
    let forged = ix::GrantCreateSigned {
        authority: wallet,
        patient_wallet: wallet,
        grantee_wallet: s.clinic.pubkey(),
        args: a.clone(),
        signature: s.patient.sign_message(&their_statement).into(),
        signed_message: their_statement,
    }
    .instructions();
    refused(
        &s.env,
        &forged,
        &s.patient,
        E::StatementMismatch,
        &s.watched(Purpose::Treatment),
    )
    .await;
    // a stranger with their own signature is no patient or guardian
    let stranger = s.env.actor().await;
    let mut by_stranger = mine.clone();
    careledger_tests::swap_signer(&mut by_stranger[1], &wallet, stranger.pubkey());
    refused(
        &s.env,
        &by_stranger,
        &stranger,
        E::NotPatientOrGuardian,
        &s.watched(Purpose::Treatment),
    )
    .await;
}

#[tokio::test]
async fn a_replayed_statement_is_refused() {
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    let (ixs, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Treatment),
            SignedForm::Plain,
        )
        .await;
    s.env.send_all(&ixs, &[&s.patient]).await.unwrap();
    let grant = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    // again while it stands: the nonce names the serial the grant already used
    refused(
        &s.env,
        &ixs,
        &s.patient,
        E::StatementMismatch,
        &s.watched(Purpose::Treatment),
    )
    .await;
    // revoked and closed, the address is free; the old statement still is not consent
    s.env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    s.env
        .send(
            ix::GrantClose {
                authority: wallet,
                patient_wallet: wallet,
                grant,
                rent_to: wallet,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    refused(
        &s.env,
        &ixs,
        &s.patient,
        E::StatementMismatch,
        &s.watched(Purpose::Treatment),
    )
    .await;
}

#[tokio::test]
async fn the_check_must_be_the_precompile_just_before_over_its_own_data() {
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    let (ixs, statement) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Treatment),
            SignedForm::Plain,
        )
        .await;
    let watched = s.watched(Purpose::Treatment);
    // no check at all
    refused(
        &s.env,
        &ixs[1..],
        &s.patient,
        E::StatementCheckMissing,
        &watched,
    )
    .await;
    // the check, then something else, then the grant: the check is not just before it, and
    // the transaction holds another instruction besides
    let between = solana_system_interface::instruction::transfer(&wallet, &wallet, 0);
    refused(
        &s.env,
        &[ixs[0].clone(), between.clone(), ixs[1].clone()],
        &s.patient,
        E::StatementTransactionNotAlone,
        &watched,
    )
    .await;
    // another program in the check's place
    refused(
        &s.env,
        &[between, ixs[1].clone()],
        &s.patient,
        E::StatementCheckMissing,
        &watched,
    )
    .await;
    // two signatures in the check (the statement twice)
    let signature: [u8; 64] = s.patient.sign_message(&statement).into();
    let two = two_signature_check(&wallet, &signature, &statement);
    refused(
        &s.env,
        &[two, ixs[1].clone()],
        &s.patient,
        E::StatementCheckLayout,
        &watched,
    )
    .await;
    // a check whose message lives in another instruction (the grant's own data, here)
    let mut elsewhere = ixs[0].clone();
    elsewhere.data[14..16].copy_from_slice(&1u16.to_le_bytes()); // message_instruction_index
    let err = s
        .env
        .send_all(&[elsewhere, ixs[1].clone()], &[&s.patient])
        .await
        .expect_err("refused");
    // the precompile itself fails it (the grant's data is not the signed message) or, were it
    // to pass, the program would refuse the layout: either way nothing is made
    assert!(
        err.program_error().is_none() || err.program_error() == Some(E::StatementCheckLayout),
        "{err}"
    );
    let transport = careledger_sdk::Transport::account(s.env.client.transport(), &watched[0]);
    assert!(transport.await.unwrap().is_none());
    // a forged signature: the runtime's precompile fails the whole transaction
    let mut forged = ixs[0].clone();
    let sig_at = 16 + 32;
    forged.data[sig_at] ^= 1;
    let before = s.env.snapshot(&watched).await;
    let err = s
        .env
        .send_all(&[forged, ixs[1].clone()], &[&s.patient])
        .await
        .expect_err("a forged signature must fail");
    assert_eq!(
        err.program_error(),
        None,
        "the precompile, not the program, refuses: {err}"
    );
    assert_eq!(before, s.env.snapshot(&watched).await);
    // and the honest pair still works
    s.env.send_all(&ixs, &[&s.patient]).await.unwrap();
}

/// An Ed25519 check of two signatures (both `signature` over `message` by `key`).
fn two_signature_check(key: &Pubkey, signature: &[u8; 64], message: &[u8]) -> Instruction {
    let (pk, sig, msg) = (16 + 14, 16 + 14 + 32, 16 + 14 + 32 + 64);
    let mut data = vec![2u8, 0];
    for _ in 0..2 {
        for v in [
            sig,
            u16::MAX as usize,
            pk,
            u16::MAX as usize,
            msg,
            message.len(),
            u16::MAX as usize,
        ] {
            data.extend_from_slice(&(v as u16).to_le_bytes());
        }
    }
    data.extend_from_slice(key.as_ref());
    data.extend_from_slice(signature);
    data.extend_from_slice(message);
    Instruction {
        program_id: solana_sdk_ids::ed25519_program::ID,
        accounts: vec![],
        data,
    }
}

#[tokio::test]
async fn the_longest_statement_fits_in_one_transaction() {
    // a guardian, every named class, one record, a start date, the longest envelope
    let s = Scene::new().await;
    let guardian = s.env.actor().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: now + 3650 * DAY,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    let longest = GrantCreateArgs {
        purpose: Purpose::PublicHealth,
        classes: 0xff,
        actions: action::ALL,
        record_scope: 0,
        not_before: now + DAY,
        expires_at: now + 3000 * DAY,
    };
    let (ixs, statement) = s
        .env
        .signed_grant(
            &guardian,
            &wallet,
            &s.clinic.pubkey(),
            longest,
            SignedForm::OffchainV0,
        )
        .await;
    // paid by the guardian alone, as an Actions transaction is
    let all = [ixs[0].clone(), ixs[1].clone()];
    let message = solana_message::Message::new(&all, Some(&guardian.pubkey()));
    let tx = solana_transaction::Transaction::new_unsigned(message);
    let size = bincode::serialize(&tx).unwrap().len();
    println!(
        "longest statement {} bytes; its transaction {size} bytes of 1232",
        statement.len()
    );
    assert!(size <= 1232, "{size} bytes");
    // and that very transaction, signed by the guardian alone, is accepted (a node refuses
    // anything over 1,232 bytes; the embedded bank does not check)
    let cluster = s.env.client.transport();
    let blockhash = careledger_sdk::Transport::latest_blockhash(cluster)
        .await
        .unwrap();
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &all,
        Some(&guardian.pubkey()),
        &[&guardian],
        blockhash,
    );
    careledger_sdk::Transport::send(cluster, tx).await.unwrap();
}

#[tokio::test]
async fn a_signed_grant_rides_alone_in_its_transaction() {
    // the server building the patient's transaction adds what the statement does not say
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    let (ixs, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Treatment),
            SignedForm::Plain,
        )
        .await;
    let grant = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    let widen = ix::GrantUpdate {
        authority: wallet,
        patient_wallet: wallet,
        grant,
        args: careledger_sdk::GrantUpdateArgs {
            classes: u16::MAX,
            actions: action::ALL,
            record_scope: NO_RECORD_SCOPE,
            not_before: 0,
            expires_at: now + 3000 * DAY,
        },
    }
    .instruction();
    let lab = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let second = ix::GrantCreate {
        authority: wallet,
        patient_wallet: wallet,
        grantee_wallet: lab.pubkey(),
        args: GrantCreateArgs {
            classes: u16::MAX,
            ..args(now, Purpose::Treatment)
        },
    }
    .instruction();
    let theft = solana_system_interface::instruction::transfer(&wallet, &lab.pubkey(), 1);
    let lab_grant = pda::grant(&wallet, &lab.pubkey(), Purpose::Treatment).0;
    let mut watched = s.watched(Purpose::Treatment);
    watched.extend([lab_grant, wallet]);
    let refuse = |ixs: Vec<Instruction>| {
        let (env, patient, watched) = (&s.env, &s.patient, &watched);
        async move {
            refused(env, &ixs, patient, E::StatementTransactionNotAlone, watched).await;
        }
    };
    for extra in [widen, second.clone(), theft.clone()] {
        refuse(vec![ixs[0].clone(), ixs[1].clone(), extra]).await;
    }
    // in front of the pair (an update there finds no grant yet, so it cannot widen one)
    for extra in [second, theft] {
        refuse(vec![extra, ixs[0].clone(), ixs[1].clone()]).await;
    }
    // compute-budget instructions may come along
    let limit = Instruction {
        program_id: solana_sdk_ids::compute_budget::ID,
        accounts: vec![],
        data: [&[2u8][..], &300_000u32.to_le_bytes()].concat(),
    };
    s.env
        .send_all(&[limit, ixs[0].clone(), ixs[1].clone()], &[&s.patient])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_start_already_past_is_refused_and_an_update_clears_the_hash() {
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    // a back-dated start would put a date in the signed words that the grant does not keep
    let backdated = GrantCreateArgs {
        not_before: now - 30 * DAY,
        ..args(now, Purpose::Treatment)
    };
    let (ixs, _) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            backdated,
            SignedForm::Plain,
        )
        .await;
    refused(
        &s.env,
        &ixs,
        &s.patient,
        E::StatementStartPassed,
        &s.watched(Purpose::Treatment),
    )
    .await;
    // a start still to come is kept, and the export finds the words again
    let later = GrantCreateArgs {
        not_before: now + DAY,
        ..args(now, Purpose::Treatment)
    };
    let (ixs, statement) = s
        .env
        .signed_grant(
            &s.patient,
            &wallet,
            &s.clinic.pubkey(),
            later,
            SignedForm::Plain,
        )
        .await;
    let outcome = s.env.send_all(&ixs, &[&s.patient]).await.unwrap();
    let grant = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    let g: ConsentGrant = s.env.client.fetch(&grant).await.unwrap();
    assert_eq!(g.not_before, now + DAY);
    assert_eq!(
        careledger_sdk::audit::statement_of(&grant, &g, &outcome.events),
        Some(statement)
    );
    // an update changes the terms: the stored hash no longer backs them, and the export attaches
    // no statement
    let narrow = ix::GrantUpdate {
        authority: wallet,
        patient_wallet: wallet,
        grant,
        args: careledger_sdk::GrantUpdateArgs {
            classes: LAB,
            actions: action::READ,
            record_scope: NO_RECORD_SCOPE,
            not_before: now + DAY,
            expires_at: g.expires_at - DAY,
        },
    }
    .instruction();
    s.env.send(narrow, &[&s.patient]).await.unwrap();
    let g: ConsentGrant = s.env.client.fetch(&grant).await.unwrap();
    assert_eq!(g.statement_hash, [0; 32]);
    assert_eq!(
        careledger_sdk::audit::statement_of(&grant, &g, &outcome.events),
        None
    );
}

#[tokio::test]
async fn patient_require_statements_then_no_grant_or_widening_is_made_blind() {
    if careledger_tests::skip_unless_own_cluster("pauses the config").await {
        return;
    }
    // whoever builds the patient's transactions gains by swapping the signed grant for a plain
    // one, an approval of a request it made, a widening update, or a guardian of its choosing:
    // the patient who requires statements is safe from all of them, for good
    let s = Scene::new().await;
    let wallet = s.patient.pubkey();
    let now = s.env.now().await;
    let require = ix::PatientRequireStatements { wallet }.instruction();
    let patient_account = pda::patient(&wallet).0;
    let guardian = s.env.actor().await;
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: Some(guardian.pubkey()),
                expires_at: now + 365 * DAY,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    // the guardian cannot turn it on for the patient (nor could anyone turn it off: there is no
    // such instruction)
    let mut by_guardian = require.clone();
    careledger_tests::swap_signer(&mut by_guardian, &wallet, guardian.pubkey());
    s.env
        .expect_rejected(
            by_guardian,
            &[&guardian],
            E::NotPatientOrGuardian,
            &[patient_account],
        )
        .await;
    // it works while paused: it only protects
    let pause = |paused| {
        ix::ConfigSetPaused {
            admin: s.env.admin.pubkey(),
            paused,
        }
        .instruction()
    };
    s.env.send(pause(true), &[&s.env.admin]).await.unwrap();
    let outcome = s.env.send(require.clone(), &[&s.patient]).await.unwrap();
    s.env.send(pause(false), &[&s.env.admin]).await.unwrap();
    assert!(
        matches!(&outcome.events[..], [CareledgerEvent::StatementsRequired(e)] if e.wallet == wallet)
    );
    assert!(s.env.patient(&wallet).await.requires_statements());
    s.env
        .expect_rejected(
            require,
            &[&s.patient],
            E::ConsentModeUnchanged,
            &[patient_account],
        )
        .await;
    // a plain grant, by the patient or the guardian, is refused
    let plain = |authority| {
        ix::GrantCreate {
            authority,
            patient_wallet: wallet,
            grantee_wallet: s.clinic.pubkey(),
            args: args(now, Purpose::Treatment),
        }
        .instruction()
    };
    let watched = s.watched(Purpose::Treatment);
    s.env
        .expect_rejected(plain(wallet), &[&s.patient], E::StatementRequired, &watched)
        .await;
    s.env
        .expect_rejected(
            plain(guardian.pubkey()),
            &[&guardian],
            E::StatementRequired,
            &watched,
        )
        .await;
    // an approval of a request the provider made is refused too
    let lab = s.env.verified_provider(careledger_sdk::ROLE_LAB).await;
    let ask = careledger_sdk::RequestCreateArgs {
        classes: u16::MAX,
        actions: action::ALL,
        purpose: Purpose::Operations,
        reason_code: 3,
        duration_secs: 300 * DAY as u32,
    };
    s.env
        .send(
            ix::RequestCreate {
                requester: lab.pubkey(),
                patient_wallet: wallet,
                args: ask,
            }
            .instruction(),
            &[&lab],
        )
        .await
        .unwrap();
    let approve = ix::RequestApprove {
        authority: wallet,
        patient_wallet: wallet,
        requester: lab.pubkey(),
        purpose: Purpose::Operations,
        args: careledger_sdk::RequestApproveArgs {
            classes: u16::MAX,
            actions: action::ALL,
            expires_at: now + 300 * DAY,
        },
    }
    .instruction();
    let lab_grant = pda::grant(&wallet, &lab.pubkey(), Purpose::Operations).0;
    s.env
        .expect_rejected(
            approve,
            &[&s.patient],
            E::StatementRequired,
            &[lab_grant, patient_account],
        )
        .await;
    // appointing a guardian is refused; removing one still works
    let stranger = s.env.actor().await;
    let appoint = ix::PatientSetGuardian {
        wallet,
        guardian: Some(stranger.pubkey()),
        expires_at: now + 365 * DAY,
    }
    .instruction();
    s.env
        .expect_rejected(
            appoint,
            &[&s.patient],
            E::StatementRequired,
            &[patient_account],
        )
        .await;
    // the signed grant is made (by the guardian, who signs its own statement); narrowing it
    // works, widening it does not
    let (ixs, _) = s
        .env
        .signed_grant(
            &guardian,
            &wallet,
            &s.clinic.pubkey(),
            args(now, Purpose::Treatment),
            SignedForm::Plain,
        )
        .await;
    s.env.send_all(&ixs, &[&guardian]).await.unwrap();
    let grant = pda::grant(&wallet, &s.clinic.pubkey(), Purpose::Treatment).0;
    let g: ConsentGrant = s.env.client.fetch(&grant).await.unwrap();
    let update = |expires_at, actions| {
        ix::GrantUpdate {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            args: careledger_sdk::GrantUpdateArgs {
                classes: LAB,
                actions,
                record_scope: NO_RECORD_SCOPE,
                not_before: g.not_before,
                expires_at,
            },
        }
        .instruction()
    };
    for wider in [
        update(g.expires_at + DAY, action::READ),
        update(g.expires_at, action::ALL),
    ] {
        s.env
            .expect_rejected(wider, &[&s.patient], E::StatementRequired, &[grant])
            .await;
    }
    s.env
        .send(update(g.expires_at - DAY, action::READ), &[&s.patient])
        .await
        .unwrap();
    s.env
        .send(
            ix::PatientSetGuardian {
                wallet,
                guardian: None,
                expires_at: 0,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
    // and revoking is never blocked
    s.env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant,
            }
            .instruction(),
            &[&s.patient],
        )
        .await
        .unwrap();
}
