//! `careledger provider`: what a provider does: register, ask for access, log reads and
//! writes, anchor and amend records, and open break-glass access.
use crate::session::{actions, purpose};
use crate::session::{explain, sent, Session};
use anyhow::{anyhow, bail, Context, Result};
use careledger_sdk::{cid, ix, pda, CareledgerEvent, Transport};
use careledger_sdk::{AccessLogArgs, BreakGlassOpenArgs, RecordAmendArgs, RequestCreateArgs};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ProviderCmd {
    Register {
        /// clinician, lab, hospital, insurer, researcher, emergency (comma-separated)
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// The licence document: only its SHA-256 goes on chain
        #[arg(long)]
        credential_file: PathBuf,
    },
    /// Records a read (or write) of a patient's record under a grant
    LogAccess {
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        #[arg(long)]
        record: u32,
        #[arg(long, default_value = "treatment")]
        purpose: String,
        #[arg(long, default_value = "read")]
        action: String,
        /// Fail on a refusal instead of recording it
        #[arg(long)]
        strict: bool,
    },
    Show {
        #[arg(value_parser = crate::session::address)]
        wallet: Option<Pubkey>,
    },
    /// Logs a read on chain, has the gateway release the record against it, decrypts and
    /// checks it against the anchor, and only then writes it
    Get(super::records::GetArgs),
    /// Marks a record you wrote entered-in-error (needs your live write grant)
    Retract {
        #[arg(value_parser = crate::session::address)]
        record: Pubkey,
        /// An opaque, non-zero reason code (1: entered in error)
        #[arg(long, default_value_t = 1)]
        reason: u16,
        /// The purpose of the write grant you wrote it under
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
    /// Asks a patient for access (the patient approves or denies)
    RequestAccess {
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        #[arg(long)]
        purpose: String,
        #[arg(long, value_delimiter = ',')]
        classes: Vec<String>,
        #[arg(long, value_delimiter = ',', default_value = "read")]
        actions: Vec<String>,
        /// Opaque reason code
        #[arg(long)]
        reason: u16,
        #[arg(long, default_value_t = 30, value_parser = crate::session::days_u32)]
        days: u32,
    },
    /// Anchors a file's CID and SHA-256 for a patient (needs a write grant for the class)
    Anchor {
        file: PathBuf,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        #[arg(long)]
        class: String,
        /// A CID the caller already has (e.g. from an IPFS node) instead of the file's raw CIDv1
        #[arg(long)]
        cid: Option<String>,
        /// The purpose of the write grant to use
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
    /// Anchors a new version of a record (needs a write grant)
    Amend {
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        #[arg(long)]
        record: u32,
        file: PathBuf,
    },
    /// Break-glass: short emergency access without the patient's signature, flagged for review
    EmergencyAccess {
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        #[arg(long)]
        reason: u16,
        #[arg(long, default_value_t = 1)]
        hours: u32,
    },
}

pub async fn execute(s: &Session, cmd: &ProviderCmd) -> Result<(Value, String)> {
    let me = s.me();
    // acting as a provider needs a provider account: said in those words, before anything is signed
    match cmd {
        ProviderCmd::Register { .. } | ProviderCmd::Show { .. } | ProviderCmd::Get(_) => {}
        // a patient amends their own record as its author, not as a provider
        ProviderCmd::Amend { patient, .. } if *patient == me => {}
        _ => s.registered_provider().await?,
    }
    Ok(match cmd {
        ProviderCmd::Get(_) => bail!("internal error: `provider get` runs without a session"),
        ProviderCmd::Retract {
            record,
            reason,
            purpose: p,
        } => super::records::retract(s, record, *reason, p).await?,
        ProviderCmd::Register {
            roles: r,
            credential_file,
        } => {
            let credential_ref = cid::sha256_file(credential_file).map_err(|e| {
                anyhow!(
                    "cannot read the credential file {}: {e}",
                    credential_file.display()
                )
            })?;
            if s.client
                .transport()
                .account(&pda::provider(&me).0)
                .await?
                .is_some()
            {
                bail!("{me} is already registered as a provider");
            }
            let args = careledger_sdk::ProviderRegisterArgs {
                supply_roles: 0,
                roles: careledger_sdk::classes::role_mask(r)?,
                credential_ref,
            };
            let out = s
                .send(ix::ProviderRegister { wallet: me, args }.instruction())
                .await?;
            (
                sent(&out),
                format!("provider {me} registered, pending verification"),
            )
        }
        ProviderCmd::LogAccess {
            patient,
            record,
            purpose: p,
            action: a,
            strict,
        } => {
            let purpose = purpose(p)?;
            let grant = pda::grant(patient, &me, purpose).0;
            let args = AccessLogArgs {
                action: actions(std::slice::from_ref(a))?,
                purpose,
                strict: *strict,
            };
            let out = s
                .send(
                    ix::AccessLog {
                        grantee: me,
                        patient_wallet: *patient,
                        grant,
                        record: pda::record(patient, *record).0,
                        args,
                    }
                    .instruction(),
                )
                .await?;
            let refused = out.events.iter().find_map(|e| match e {
                CareledgerEvent::AccessRefused(r) => Some(r.reason),
                _ => None,
            });
            let mut v = sent(&out);
            v["allowed"] = json!(refused.is_none());
            v["refusal"] = json!(refused.map(|r| format!("{r:?}")));
            let text = match refused {
                None => format!("access to record #{record} logged"),
                Some(reason) => format!(
                    "access to record #{record} REFUSED: {} ({reason:?}); the refused access is recorded on chain",
                    careledger_sdk::summary::refusal_sentence(reason, purpose)
                ),
            };
            (v, text)
        }
        ProviderCmd::RequestAccess {
            patient,
            purpose: p,
            classes: c,
            actions: a,
            reason,
            days,
        } => request_access(s, patient, p, c, a, *reason, *days).await?,
        ProviderCmd::Anchor {
            file,
            patient,
            class,
            cid: given,
            purpose: p,
        } => {
            let author = ix::Author::Provider {
                wallet: me,
                purpose: purpose(p)?,
            };
            super::patient::anchor_file(s, patient, author, file, class, given.as_deref()).await?
        }
        ProviderCmd::Amend {
            patient,
            record,
            file,
        } => amend(s, patient, *record, file).await?,
        ProviderCmd::EmergencyAccess {
            patient,
            reason,
            hours,
        } => emergency_access(s, patient, *reason, *hours).await?,
        ProviderCmd::Show { wallet } => {
            let who = s.wallet_or_mine(*wallet, "provider's wallet")?;
            let p: careledger_sdk::Provider = s
                .client
                .fetch(&pda::provider(&who).0)
                .await
                .map_err(explain)?;
            let v = json!({ "wallet": who.to_string(), "roles": p.roles, "status": format!("{:?}", p.status), "credential_expires_at": p.credential_expires_at });
            (
                v,
                format!(
                    "provider {who}: {:?}, roles {}, supply roles {}",
                    p.status,
                    careledger_sdk::summary::render::roles(p.roles),
                    careledger_sdk::summary::render::supply_roles(p.supply_roles)
                ),
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
        classes: crate::session::classes(classes)?,
        actions: actions(action_names)?,
        purpose: purpose(purpose_name)?,
        reason_code: reason,
        duration_secs: days.saturating_mul(86_400),
    };
    let out = s
        .send(
            ix::RequestCreate {
                requester: s.me(),
                patient_wallet: *patient,
                args,
            }
            .instruction(),
        )
        .await?;
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
        .map_err(explain)?;
    let out = s
        .send(
            ix::BreakGlassOpen {
                clinician: s.me(),
                patient_wallet: *patient,
                serial,
                args,
            }
            .instruction(),
        )
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
        .send(
            ix::RecordAmend {
                patient_wallet: *patient,
                previous_index: index,
                new_index,
                author,
                args,
            }
            .instruction(),
        )
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
