//! The rest of the consent workflow: guardians, access requests, break-glass and its review,
//! amendments, and the admin hand-over.
use crate::{actions, explain, purpose, sent, Session};
use anyhow::{bail, Context, Result};
use careledger_sdk::{cid, ix, pda, AccessRequest, RecordAmendArgs, RequestApproveArgs};
use careledger_sdk::{BreakGlassOpenArgs, RequestCreateArgs, ReviewOutcome, Transport};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;

#[derive(Subcommand)]
pub enum GuardianCmd {
    /// Appoints a guardian who may act for the patient until the appointment ends
    Set {
        guardian: Pubkey,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    Clear,
}

#[derive(Subcommand)]
pub enum RequestsCmd {
    /// Access requests waiting for the patient
    List,
    /// Approves a request as asked (creating the grant)
    Approve { requester: Pubkey },
    Deny {
        requester: Pubkey,
        #[arg(long)]
        reason: u16,
    },
}

#[derive(Subcommand)]
pub enum EmergenciesCmd {
    /// Break-glass grants waiting for the patient's review
    List,
    /// Accepts or disputes a break-glass grant (a dispute also revokes it)
    Review {
        grant: Pubkey,
        #[arg(long, conflicts_with = "dispute")]
        accept: bool,
        #[arg(long)]
        dispute: bool,
    },
}

pub async fn guardian(s: &Session, cmd: &GuardianCmd) -> Result<(Value, String)> {
    let me = s.me();
    let (ixn, text) = match cmd {
        GuardianCmd::Set { guardian, days } => {
            let now = s.client.transport().unix_timestamp().await?;
            let ixn = ix::patient_set_guardian(&me, Some(guardian), now + days * 86_400);
            (ixn, format!("{guardian} is guardian for {days} days"))
        }
        GuardianCmd::Clear => (
            ix::patient_set_guardian(&me, None, 0),
            "guardian cleared".into(),
        ),
    };
    let out = s.send(ixn).await?;
    Ok((sent(&out), text))
}

pub async fn requests(s: &Session, cmd: &RequestsCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        RequestsCmd::List => {
            let list = s.client.requests_by_patient(&me).await.map_err(explain)?;
            let rows: Vec<Value> = list
                .iter()
                .map(|(a, r)| json!({"address": a.to_string(), "requester": r.requester.to_string(), "purpose": format!("{:?}", r.purpose), "classes": r.classes, "reason_code": r.reason_code, "days": r.duration_secs / 86_400}))
                .collect();
            let text = list
                .iter()
                .map(|(_, r)| {
                    format!(
                        "{} asks {:?} access to classes {:#06x} (reason {})",
                        r.requester, r.purpose, r.classes, r.reason_code
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            (
                json!(rows),
                if text.is_empty() {
                    "no pending requests".into()
                } else {
                    text
                },
            )
        }
        RequestsCmd::Approve { requester } => {
            let r: AccessRequest = s
                .client
                .fetch(&pda::request(&me, requester).0)
                .await
                .map_err(explain)?;
            let now = s.client.transport().unix_timestamp().await?;
            let args = RequestApproveArgs {
                classes: r.classes,
                actions: r.actions,
                expires_at: now + i64::from(r.duration_secs),
            };
            let out = s
                .send(ix::request_approve(&me, &me, requester, r.purpose, args))
                .await?;
            (sent(&out), format!("request of {requester} approved"))
        }
        RequestsCmd::Deny { requester, reason } => {
            let out = s
                .send(ix::request_deny(&me, &me, requester, *reason))
                .await?;
            (sent(&out), format!("request of {requester} denied"))
        }
    })
}

pub async fn emergencies(s: &Session, cmd: &EmergenciesCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        EmergenciesCmd::List => {
            let list = s
                .client
                .emergencies_pending_review(&me)
                .await
                .map_err(explain)?;
            let rows: Vec<Value> = list
                .iter()
                .map(|(a, g)| json!({"grant": a.to_string(), "provider": g.grantee.to_string(), "access_count": g.access_count, "expires_at": g.expires_at}))
                .collect();
            let text = list
                .iter()
                .map(|(a, g)| {
                    format!(
                        "{a}: {} opened break-glass, {} accesses",
                        g.grantee, g.access_count
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            (
                json!(rows),
                if text.is_empty() {
                    "nothing to review".into()
                } else {
                    text
                },
            )
        }
        EmergenciesCmd::Review {
            grant,
            accept,
            dispute,
        } => {
            let outcome = match (accept, dispute) {
                (true, false) => ReviewOutcome::Accepted,
                (false, true) => ReviewOutcome::Disputed,
                _ => bail!("pass --accept or --dispute"),
            };
            let out = s
                .send(ix::break_glass_review(&me, &me, grant, outcome))
                .await?;
            (
                sent(&out),
                format!("break-glass grant {grant} reviewed: {outcome:?}"),
            )
        }
    })
}

/// A provider asks a patient for access.
pub async fn request_access(
    s: &Session,
    patient: &Pubkey,
    purpose_name: &str,
    classes: &[String],
    action_names: &[String],
    reason: u16,
    days: u32,
) -> Result<(Value, String)> {
    let args = RequestCreateArgs {
        classes: crate::classes(classes)?,
        actions: actions(action_names)?,
        purpose: purpose(purpose_name)?,
        reason_code: reason,
        duration_secs: days.saturating_mul(86_400),
    };
    let out = s.send(ix::request_create(&s.me(), patient, args)).await?;
    Ok((sent(&out), format!("access requested from {patient}")))
}

/// A provider opens accountable emergency access (flagged for the patient's review).
pub async fn emergency_access(
    s: &Session,
    patient: &Pubkey,
    reason: u16,
    hours: u32,
) -> Result<(Value, String)> {
    let args = BreakGlassOpenArgs {
        classes: u16::MAX,
        actions: careledger_sdk::action::READ,
        window_secs: hours.saturating_mul(3600),
        reason_code: reason,
    };
    let serial = s
        .client
        .next_emergency_serial(patient, &s.me())
        .await
        .map_err(crate::explain)?;
    let out = s
        .send(ix::break_glass_open(&s.me(), patient, serial, args))
        .await?;
    let grant = careledger_sdk::pda::emergency_grant(patient, &s.me(), serial).0;
    let mut v = sent(&out);
    v["grant"] = serde_json::json!(grant.to_string());
    Ok((
        v,
        format!(
            "break-glass access to {patient} for {hours} h, flagged for review (grant {grant})"
        ),
    ))
}

/// The author (the patient, or a provider with a write grant) anchors a new version of a record.
pub async fn amend(
    s: &Session,
    patient: &Pubkey,
    index: u32,
    file: &std::path::Path,
) -> Result<(Value, String)> {
    let me = s.me();
    let previous: careledger_sdk::RecordAnchor = s
        .client
        .fetch(&pda::record(patient, index).0)
        .await
        .map_err(explain)?;
    let digest =
        cid::sha256_file(file).with_context(|| format!("cannot read {}", file.display()))?;
    let new_index = s
        .client
        .fetch::<careledger_sdk::Patient>(&pda::patient(patient).0)
        .await
        .map_err(explain)?
        .record_count;
    let author = if me == *patient {
        ix::Author::Patient
    } else {
        ix::Author::Provider {
            wallet: me,
            purpose: careledger_sdk::Purpose::Treatment,
        }
    };
    let args = RecordAmendArgs {
        cid: cid::raw_cid_v1(&digest),
        content_sha256: digest,
        expected_version: previous.version,
    };
    let out = s
        .send(ix::record_amend(patient, index, new_index, author, args))
        .await?;
    let mut v = sent(&out);
    v["record"] = json!(pda::record(patient, new_index).0.to_string());
    Ok((
        v,
        format!(
            "record #{index} amended: version {} is record #{new_index}",
            previous.version + 1
        ),
    ))
}
