//! Who may bill a member, for what, and how a claim is decided (claim_submit, claim_review,
//! claim_appeal): the adversarial review's findings H1, M1, M4, L2, L5 (docs/SECURITY.md
//! "Findings"), each as the attacker's sequence: the exact error, every account it could have
//! touched byte-identical afterwards, and the legitimate path beside it.
use super::scenes::{billing, lab, visit_terms};
use careledger_sdk::claims::{rule_key, service_day};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::{self, Author, CareBasis};
use careledger_sdk::{action, pda, CareledgerError as E, CareledgerEvent};
use careledger_sdk::{
    Claim, ClaimState, ClaimSubmitArgs, Purpose, RecordAmendArgs, RuleTerms, NO_RECORD_SCOPE,
    ROLE_CLINICIAN, ROLE_INSURER, ROLE_RESEARCHER,
};
use careledger_tests::{skip_unless_own_cluster, DAY};
use solana_keypair::Keypair;
use solana_signer::Signer;

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M4 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding L5 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding L2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding L2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding L5 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H1 (docs/SECURITY.md "Findings"; was in findings.rs).
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
