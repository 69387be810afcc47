//! Who enrols in a study and for how long consent keeps paying (invitation_create, study_set_site,
//! study_enroll, reward_claim): findings H2 and M2 (docs/SECURITY.md "Findings") and the
//! pseudonymous participation key.
use super::scenes::{accepted_freezable_mint, lab, research, ENROL, PERIOD, PERIODS};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix;
use careledger_sdk::{action, pda, CareledgerError as E, Transport};
use careledger_sdk::{GrantUpdateArgs, Purpose, NO_RECORD_SCOPE};
use careledger_tests::{skip_unless_own_cluster, DAY};
use solana_pubkey::Pubkey;
use solana_signer::Signer;

// Audit finding H2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding M2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit: privacy, issue 12 review (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit finding H2 (docs/SECURITY.md "Findings"; was in findings.rs).
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

// Audit: who may steer, issue 12 third review (docs/SECURITY.md "Findings"; was in findings.rs).
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
