//! The fuzz targets' bodies, shared by the cargo-fuzz crate (`fuzz/`, coverage-guided) and the
//! corpus replay test that CI runs (`tests/tests/cases/fuzz_corpus.rs`).
//!
//! - `pure`: the program's pure functions on arbitrary input: the CID parser (never panics;
//!   what it accepts round-trips byte for byte and the `cid` crate accepts too), the consent
//!   decision (against the rule written out plainly) and adjudication (its bounds).
//! - `instructions`: an `arbitrary`-decoded sequence of up to 12 instructions from a patient,
//!   a clinic and an attacker, on a fresh embedded bank, with every ledger invariant checked
//!   around each transaction (`Env::send`), including that a failed one changes nothing.
use crate::{sample_cid, Env, DAY};
use arbitrary::{Arbitrary, Unstructured};
use careledger::logic::cid::parse_cid;
use careledger::logic::claims::{adjudicate, Balances};
use careledger::logic::consent::{check_grant, AccessQuery};
use careledger_sdk::ix::{self, Author};
use careledger_sdk::{pda, AccessLogArgs, ConsentGrant, GrantStatus, Purpose};
use careledger_sdk::{
    GrantCreateArgs, RecordAmendArgs, RecordAnchorArgs, ReviewState, RuleTerms, NO_RECORD_SCOPE,
    ROLE_CLINICIAN,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Every purpose, as the FHIR export codes them.
const PURPOSES: [Purpose; 6] = careledger_sdk::audit::PURPOSES_OF_USE;

/// The pure functions on one input.
pub fn pure(data: &[u8]) {
    if let Ok(stored) = parse_cid(data) {
        assert_eq!(stored.to_bytes(), data, "accepted CID does not round-trip");
        assert!(
            cid::Cid::try_from(data).is_ok(),
            "the cid crate refuses a CID the program accepts: {data:02x?}"
        );
    }
    let mut u = Unstructured::new(data);
    let Ok(grant) = arbitrary_grant(&mut u) else {
        return;
    };
    let Ok(q) = arbitrary_query(&mut u) else {
        return;
    };
    let plain = grant.status == GrantStatus::Active
        && grant.consent_epoch == q.patient_epoch
        && grant.not_before <= q.now
        && q.now < grant.expires_at
        && grant.purpose == q.purpose
        && q.action != 0
        && grant.actions & q.action == q.action
        && q.record_class < 16
        && grant.classes & (1 << q.record_class) != 0
        && (grant.record_scope == NO_RECORD_SCOPE || grant.record_scope == q.record_index);
    assert_eq!(check_grant(&grant, &q).is_ok(), plain, "{grant:?} {q:?}");

    let (Ok(terms), Ok(units), Ok(billed), Ok(deductible), Ok(cap)) = (
        arbitrary_terms(&mut u),
        u16::arbitrary(&mut u),
        u64::arbitrary(&mut u),
        u64::arbitrary(&mut u),
        u64::arbitrary(&mut u),
    ) else {
        return;
    };
    let balances = Balances {
        deductible_remaining: deductible,
        benefit_remaining: cap,
    };
    let b = adjudicate(&terms, units, billed, balances);
    let parts = u128::from(b.deductible_applied)
        + u128::from(b.copay)
        + u128::from(b.coinsurance)
        + u128::from(b.benefit);
    assert!(
        parts <= u128::from(b.eligible) && b.eligible <= billed,
        "{b:?}"
    );
    assert!(b.eligible as u128 <= u128::from(terms.allowed_per_unit) * u128::from(units));
    assert!(b.deductible_applied <= deductible, "{b:?}");
    let uncapped = b.eligible - b.deductible_applied - b.copay - b.coinsurance;
    assert_eq!(b.benefit, uncapped.min(cap), "{b:?}");
    assert_eq!(b.capped, b.benefit < uncapped, "{b:?}");
}

fn arbitrary_grant(u: &mut Unstructured) -> arbitrary::Result<ConsentGrant> {
    Ok(ConsentGrant {
        patient: Default::default(),
        grantee: Default::default(),
        classes: u.arbitrary()?,
        actions: u.arbitrary()?,
        purpose: *u.choose(&PURPOSES)?,
        status: if u.arbitrary()? {
            GrantStatus::Active
        } else {
            GrantStatus::Revoked
        },
        review: ReviewState::NotRequired,
        bump: 255,
        consent_epoch: u.int_in_range(0..=3)?,
        record_scope: if u.arbitrary()? {
            NO_RECORD_SCOPE
        } else {
            u.int_in_range(0..=3)?
        },
        access_count: 0,
        serial: 1,
        narrowed_at: 0,
        payer: Default::default(),
        statement_hash: [0; 32],
        not_before: u.int_in_range(-5..=5)?,
        expires_at: u.int_in_range(-5..=10)?,
        created_at: 0,
        revoked_at: 0,
    })
}

fn arbitrary_query(u: &mut Unstructured) -> arbitrary::Result<AccessQuery> {
    Ok(AccessQuery {
        action: u.int_in_range(0..=3)?,
        purpose: *u.choose(&PURPOSES)?,
        record_class: u.int_in_range(0..=17)?,
        record_index: u.int_in_range(0..=3)?,
        now: u.int_in_range(-5..=10)?,
        patient_epoch: u.int_in_range(0..=3)?,
    })
}

fn arbitrary_terms(u: &mut Unstructured) -> arbitrary::Result<RuleTerms> {
    Ok(RuleTerms {
        allowed_per_unit: u.arbitrary()?,
        copay: u.arbitrary()?,
        coinsurance_bps: u.arbitrary()?,
        max_units_per_claim: u.arbitrary()?,
        max_claims_per_period: u.arbitrary()?,
        prior_auth_required: u.arbitrary()?,
    })
}

/// One fuzzed call: who signs and what.
#[derive(Arbitrary, Debug)]
enum Call {
    Anchor {
        class: u8,
        cid: Vec<u8>,
    },
    Amend {
        previous: u8,
        expected_version: u32,
        cid: Vec<u8>,
    },
    Grant {
        by_attacker: bool,
        purpose: u8,
        classes: u16,
        actions: u8,
        record_scope: u32,
        secs: i64,
    },
    Revoke {
        by_attacker: bool,
        purpose: u8,
    },
    RevokeAll {
        by_attacker: bool,
    },
    Access {
        purpose: u8,
        record: u8,
        action: u8,
        strict: bool,
        by_attacker: bool,
    },
    Close {
        purpose: u8,
    },
    Guardian {
        secs: i64,
    },
    Advance {
        secs: u32,
    },
}

/// Runs up to 12 decoded calls on a fresh bank; the invariant checks in `Env::send` panic on
/// any violation, and so does a program panic.
pub async fn instructions(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(calls) = u
        .arbitrary_iter::<Call>()
        .and_then(|it| it.take(12).collect::<arbitrary::Result<Vec<Call>>>())
    else {
        return;
    };
    if calls.is_empty() {
        return;
    }
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let attacker = env.actor().await;
    let wallet = patient.pubkey();
    let mut records = 0u32;
    for call in calls {
        let now = env.now().await;
        let purpose = |p: u8| PURPOSES[usize::from(p) % PURPOSES.len()];
        let who = |attacker_signs: bool| -> &Keypair {
            if attacker_signs {
                &attacker
            } else {
                &patient
            }
        };
        let (instruction, signer) = match call {
            Call::Anchor { class, cid } => {
                let args = RecordAnchorArgs {
                    cid: if cid.is_empty() {
                        sample_cid(records as u8)
                    } else {
                        cid
                    },
                    content_sha256: [7; 32],
                    class,
                };
                (
                    ix::RecordAnchor {
                        patient_wallet: wallet,
                        index: records,
                        author: Author::Patient,
                        args,
                    }
                    .instruction(),
                    &patient,
                )
            }
            Call::Amend {
                previous,
                expected_version,
                cid,
            } => {
                let args = RecordAmendArgs {
                    cid: if cid.is_empty() {
                        sample_cid(records as u8)
                    } else {
                        cid
                    },
                    content_sha256: [8; 32],
                    expected_version,
                };
                let previous = u32::from(previous) % records.max(1);
                (
                    ix::RecordAmend {
                        patient_wallet: wallet,
                        previous_index: previous,
                        new_index: records,
                        author: Author::Patient,
                        args,
                    }
                    .instruction(),
                    &patient,
                )
            }
            Call::Grant {
                by_attacker,
                purpose: p,
                classes,
                actions,
                record_scope,
                secs,
            } => {
                let args = GrantCreateArgs {
                    purpose: purpose(p),
                    classes,
                    actions,
                    record_scope,
                    not_before: 0,
                    expires_at: now.saturating_add(secs % (400 * DAY)),
                };
                let signer = who(by_attacker);
                (
                    ix::GrantCreate {
                        authority: signer.pubkey(),
                        patient_wallet: wallet,
                        grantee_wallet: clinic.pubkey(),
                        args,
                    }
                    .instruction(),
                    signer,
                )
            }
            Call::Revoke {
                by_attacker,
                purpose: p,
            } => {
                let grant = pda::grant(&wallet, &clinic.pubkey(), purpose(p)).0;
                let signer = who(by_attacker);
                (
                    ix::GrantRevoke {
                        authority: signer.pubkey(),
                        patient_wallet: wallet,
                        grant,
                    }
                    .instruction(),
                    signer,
                )
            }
            Call::RevokeAll { by_attacker } => {
                let signer = who(by_attacker);
                (
                    ix::GrantRevokeAll {
                        authority: signer.pubkey(),
                        patient_wallet: wallet,
                    }
                    .instruction(),
                    signer,
                )
            }
            Call::Access {
                purpose: p,
                record,
                action: a,
                strict,
                by_attacker,
            } => {
                let grant = pda::grant(&wallet, &clinic.pubkey(), purpose(p)).0;
                let record = pda::record(&wallet, u32::from(record) % records.max(1)).0;
                let args = AccessLogArgs {
                    action: a,
                    purpose: purpose(p),
                    strict,
                };
                let signer = if by_attacker { &attacker } else { &clinic };
                (
                    ix::AccessLog {
                        grantee: signer.pubkey(),
                        patient_wallet: wallet,
                        grant,
                        record,
                        args,
                    }
                    .instruction(),
                    signer,
                )
            }
            Call::Close { purpose: p } => {
                let grant = pda::grant(&wallet, &clinic.pubkey(), purpose(p)).0;
                (
                    ix::GrantClose {
                        authority: wallet,
                        patient_wallet: wallet,
                        grant,
                        rent_to: wallet,
                    }
                    .instruction(),
                    &patient,
                )
            }
            Call::Guardian { secs } => {
                let guardian = attacker.pubkey();
                let until = now.saturating_add(secs % (800 * DAY));
                (
                    ix::PatientSetGuardian {
                        wallet,
                        guardian: Some(guardian),
                        expires_at: until,
                    }
                    .instruction(),
                    &patient,
                )
            }
            Call::Advance { secs } => {
                env.set_clock(now + i64::from(secs % (30 * DAY as u32)))
                    .await;
                continue;
            }
        };
        if env.send(instruction, &[signer]).await.is_ok() {
            records = env.patient(&wallet).await.record_count;
        }
    }
}
