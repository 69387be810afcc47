//! `careledger patient`: what a patient (or guardian) does: register, grant, update, revoke,
//! anchor records, answer access requests, review emergencies, and export the audit trail.
use crate::session::{actions, classes, purpose};
use crate::session::{explain, sent, Session};
use anyhow::{bail, Context, Result};
use careledger_sdk::any_transport::AnyTransport;
use careledger_sdk::classes::RecordClass;
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{cid, ix, pda, Transport};
use careledger_sdk::{AccessRequest, GrantCreateArgs, RequestApproveArgs, ReviewOutcome};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Subcommand)]
pub enum PatientCmd {
    Register,
    /// Grants a provider access to classes of records for one purpose
    Grant {
        #[arg(value_parser = crate::session::address)]
        grantee: Pubkey,
        /// treatment, payment, operations, research, public-health
        #[arg(long)]
        purpose: String,
        /// Record classes, e.g. lab-result,imaging
        #[arg(long, value_delimiter = ',')]
        classes: Vec<String>,
        /// read, write or read,write
        #[arg(long, value_delimiter = ',', default_value = "read")]
        actions: Vec<String>,
        #[arg(long, default_value_t = 30, value_parser = crate::session::days)]
        days: i64,
    },
    /// Narrows or extends a grant; options left out keep their current value
    Update {
        #[arg(value_parser = crate::session::address)]
        grantee: Pubkey,
        #[arg(long)]
        purpose: String,
        #[arg(long, value_delimiter = ',')]
        classes: Option<Vec<String>>,
        #[arg(long, value_delimiter = ',')]
        actions: Option<Vec<String>>,
        /// New expiry, in days from now
        #[arg(long, value_parser = crate::session::days)]
        days: Option<i64>,
    },
    Revoke {
        #[arg(value_parser = crate::session::address)]
        grantee: Pubkey,
        #[arg(long)]
        purpose: String,
    },
    /// Voids every grant at once
    RevokeAll,
    /// Encrypts a file, has a gateway take the ciphertext, then anchors its SHA-256 and CID
    /// (`--resume FILE` finishes a put that stopped after its checks)
    Put(super::records::PutArgs),
    /// Publishes a stored record's ciphertext to IPFS (a Kubo node, a pinning service): read
    /// from the custodian's gateway and checked against the anchored CID first; retries what
    /// `put --kubo/--pinning-service` could not do
    Publish(super::records::PublishArgs),
    /// Marks a record entered-in-error: the anchor stays, flagged, and no gateway releases it
    /// again (retracting an amendment makes the version it replaced current again)
    Retract {
        #[arg(value_parser = crate::session::record)]
        record: Pubkey,
        /// An opaque, non-zero reason code (1: entered in error)
        #[arg(long, default_value_t = 1)]
        reason: u16,
    },
    /// Anchors the CID and SHA-256 of an (encrypted) file
    Anchor {
        file: PathBuf,
        #[arg(long)]
        class: String,
        /// A CID the caller already has (e.g. from an IPFS node) instead of the file's raw CIDv1
        #[arg(long)]
        cid: Option<String>,
    },
    /// The patient account, grants and records
    Show {
        #[arg(value_parser = crate::session::address)]
        wallet: Option<Pubkey>,
    },
    /// Appoints or clears a guardian
    #[command(subcommand)]
    Guardian(GuardianCmd),
    /// Access requests from providers
    #[command(subcommand)]
    Requests(RequestsCmd),
    /// Break-glass accesses to review
    #[command(subcommand)]
    Emergencies(EmergenciesCmd),
    /// Exports the audit trail
    Audit {
        #[arg(long, default_value = "fhir")]
        format: String,
    },
}

pub async fn execute(s: &Session, cmd: &PatientCmd) -> Result<(Value, String)> {
    let me = s.me();
    // acting as a patient needs a patient account: said in those words, before anything is signed
    match cmd {
        PatientCmd::Register
        | PatientCmd::Put(_)
        | PatientCmd::Publish(_)
        | PatientCmd::Show { .. }
        | PatientCmd::Audit { .. }
        | PatientCmd::Requests(RequestsCmd::List)
        | PatientCmd::Emergencies(EmergenciesCmd::List) => {}
        _ => s.registered_patient(&me).await?,
    }
    Ok(match cmd {
        PatientCmd::Put(_) | PatientCmd::Publish(_) => {
            bail!("internal error: `patient put` and `publish` run without a session")
        }
        PatientCmd::Retract { record, reason } => {
            super::records::retract(s, record, *reason, "treatment").await?
        }
        PatientCmd::Register => {
            if s.client
                .transport()
                .account(&pda::patient(&me).0)
                .await?
                .is_some()
            {
                bail!("{me} is already registered as a patient");
            }
            let out = s
                .send(ix::PatientRegister { wallet: me }.instruction())
                .await?;
            (sent(&out), format!("patient {me} registered"))
        }
        PatientCmd::Grant {
            grantee,
            purpose: p,
            classes: c,
            actions: a,
            days,
        } => {
            let (purpose, classes, actions) = (purpose(p)?, classes(c)?, actions(a)?);
            let Some(provider) = s
                .client
                .fetch_optional::<careledger_sdk::Provider>(&pda::provider(grantee).0)
                .await
                .map_err(explain)?
            else {
                bail!("{grantee} is not a registered provider: it must run `careledger provider register` first");
            };
            // the program's rule, checked before anything is signed
            if careledger_sdk::program::logic::terms::validate_purpose_for_roles(
                purpose,
                provider.roles,
            )
            .is_err()
            {
                bail!(
                    "{grantee} cannot receive records for {p}: its roles are {}, and {p} needs {}",
                    careledger_sdk::classes::role_names(provider.roles),
                    careledger_sdk::classes::role_names(
                        careledger_sdk::program::logic::terms::roles_for_purpose(purpose)
                    )
                );
            }
            let now = s.client.transport().unix_timestamp().await?;
            let args = GrantCreateArgs {
                purpose,
                classes,
                actions,
                record_scope: careledger_sdk::NO_RECORD_SCOPE,
                not_before: 0,
                expires_at: now + days * SECONDS_PER_DAY,
            };
            // the wallet signs the consent statement of these terms, and the program checks the
            // grant against it (the same two signatures a wallet gives through an Actions link)
            let patient: careledger_sdk::Patient = s
                .client
                .fetch(&pda::patient(&me).0)
                .await
                .map_err(explain)?;
            // a revoked, void or expired grant to this provider for this purpose is replaced in
            // the same transaction; a live one is refused before anything is signed
            let grant = pda::grant(&me, grantee, args.purpose).0;
            let previous = s.client.grant_to_replace(&grant).await.map_err(|e| {
                match e.program_error() {
                    Some(careledger_sdk::CareledgerError::GrantAlreadyExists) => anyhow::anyhow!(
                        "you already have a live grant to {grantee} for {p} ({grant}): change it with `careledger patient update`, or revoke it first with `careledger patient revoke {grantee} --purpose {p}`"
                    ),
                    _ => explain(e),
                }
            })?;
            let statement =
                careledger_sdk::statement::for_grant(&patient, &me, grantee, &args, now)?;
            let signature = s.signer().sign_message(&statement);
            let instructions = ix::GrantCreateSigned {
                authority: me,
                patient_wallet: me,
                grantee_wallet: *grantee,
                args: args.clone(),
                signed_message: statement.clone(),
                signature: signature.into(),
            }
            .renewing(ix::previous_payer(&me, previous.as_ref()));
            let out = s.send_all(&instructions, &[]).await?;
            let hash = careledger_sdk::statement::statement_hash(&statement);
            let mut v = sent(&out);
            v["grant"] = json!(grant.to_string());
            v["statement"] = json!(String::from_utf8_lossy(&statement));
            v["statement_sha256"] = json!(careledger_server::common::hex(&hash));
            (
                v,
                format!(
                    "grant {grant} to {grantee} for {days} days, against this consent statement you signed:\n{}",
                    String::from_utf8_lossy(&statement)
                ),
            )
        }
        PatientCmd::Update {
            grantee,
            purpose: p,
            classes: c,
            actions: a,
            days,
        } => {
            let grant = pda::grant(&me, grantee, purpose(p)?).0;
            let current: careledger_sdk::ConsentGrant =
                s.client.fetch(&grant).await.map_err(explain)?;
            let now = s.client.transport().unix_timestamp().await?;
            let args = careledger_sdk::GrantUpdateArgs {
                classes: c
                    .as_deref()
                    .map(classes)
                    .transpose()?
                    .unwrap_or(current.classes),
                actions: a
                    .as_deref()
                    .map(actions)
                    .transpose()?
                    .unwrap_or(current.actions),
                record_scope: current.record_scope,
                not_before: current.not_before,
                expires_at: days.map_or(current.expires_at, |d| now + d * SECONDS_PER_DAY),
            };
            let out = s
                .send(
                    ix::GrantUpdate {
                        authority: me,
                        patient_wallet: me,
                        grant,
                        args,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("grant {grant} updated"))
        }
        PatientCmd::Revoke {
            grantee,
            purpose: p,
        } => {
            let grant = pda::grant(&me, grantee, purpose(p)?).0;
            let out = s
                .send(
                    ix::GrantRevoke {
                        authority: me,
                        patient_wallet: me,
                        grant,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("grant {grant} revoked"))
        }
        PatientCmd::RevokeAll => {
            let out = s
                .send(
                    ix::GrantRevokeAll {
                        authority: me,
                        patient_wallet: me,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), "every grant revoked".to_string())
        }
        PatientCmd::Anchor {
            file,
            class,
            cid: given,
        } => anchor_file(s, &me, ix::Author::Patient, file, class, given.as_deref()).await?,
        PatientCmd::Show { wallet } => {
            let who = s.wallet_or_mine(*wallet, "patient's wallet")?;
            s.registered_patient(&who).await?;
            let p: careledger_sdk::Patient = s
                .client
                .fetch(&pda::patient(&who).0)
                .await
                .map_err(explain)?;
            let grants = s.client.grant_standings(&who).await.map_err(explain)?;
            let records = s.client.records_by_patient(&who).await.map_err(explain)?;
            // each grant's status is what the program would decide now (void after a revoke-all)
            let v = json!({
                "wallet": who.to_string(),
                "consent_epoch": p.consent_epoch,
                "records": records.iter().map(|(a, r)| json!({"address": a.to_string(), "index": r.index, "version": r.version, "status": format!("{:?}", r.status), "cid": cid::cid_to_string(&r.cid)})).collect::<Vec<_>>(),
                "grants": grants.iter().map(|l| json!({
                    "address": l.address.to_string(),
                    "grantee": l.grant.grantee.to_string(),
                    "purpose": careledger_sdk::classes::purpose_name(l.grant.purpose),
                    "status": l.standing.name(),
                    "serial": l.grant.serial,
                    "consent_epoch": l.grant.consent_epoch,
                    "not_before": l.grant.not_before,
                    "expires_at": l.grant.expires_at,
                })).collect::<Vec<_>>(),
            });
            let active = grants
                .iter()
                .filter(|l| l.standing == careledger_sdk::GrantStanding::Active)
                .count();
            let mut text = format!(
                "patient {who}: {} records, {} grants ({active} active), consent epoch {}",
                records.len(),
                grants.len(),
                p.consent_epoch
            );
            for l in &grants {
                text.push_str(&format!(
                    "\n  grant {} to {} for {}: {}",
                    l.address,
                    l.grant.grantee,
                    careledger_sdk::classes::purpose_name(l.grant.purpose),
                    l.standing.name()
                ));
            }
            (v, text)
        }
        PatientCmd::Guardian(cmd) => guardian(s, cmd).await?,
        PatientCmd::Requests(cmd) => requests(s, cmd).await?,
        PatientCmd::Emergencies(cmd) => emergencies(s, cmd).await?,
        PatientCmd::Audit { format } => {
            let me = s.wallet_or_mine(None, "patient")?;
            if format != "fhir" {
                bail!("unknown audit format `{format}`: use fhir");
            }
            let events = match (&s.ledger, s.client.transport()) {
                (Some(l), _) => l.events()?,
                // on a cluster: the transactions that touched the patient's account
                (None, AnyTransport::Rpc(rpc)) => rpc
                    .history(&pda::patient(&me).0, 1_000)
                    .await
                    .map_err(explain)?,
                (None, AnyTransport::Embedded(_)) => Vec::new(),
            };
            let bundle = s.client.audit_bundle(&me, &events).await.map_err(explain)?;
            let text = serde_json::to_string_pretty(&bundle)?;
            (bundle, text)
        }
    })
}

/// Hashes `file` (with a progress bar when it is large), and anchors its CID for `patient`.
pub(crate) async fn anchor_file(
    s: &Session,
    patient: &Pubkey,
    author: ix::Author,
    file: &Path,
    class: &str,
    given: Option<&str>,
) -> Result<(Value, String)> {
    let class = RecordClass::from_str(class).map_err(explain)?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = indicatif::ProgressBar::new(size);
    if size < 8 << 20 || progress_hidden() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let digest = cid::sha256_reader(reader, |n| bar.inc(n)).map_err(explain)?;
    bar.finish_and_clear();
    let cid_bytes = match given {
        Some(text) => cid::cid_to_bytes(text).map_err(explain)?,
        None => cid::raw_cid_v1(&digest),
    };
    let index = s
        .client
        .fetch::<careledger_sdk::Patient>(&pda::patient(patient).0)
        .await
        .map_err(explain)?
        .record_count;
    let args = careledger_sdk::RecordAnchorArgs {
        cid: cid_bytes,
        content_sha256: digest,
        class: class.id(),
    };
    let out = s
        .send(
            ix::RecordAnchor {
                patient_wallet: *patient,
                index,
                author,
                args,
            }
            .instruction(),
        )
        .await?;
    let record = pda::record(patient, index).0;
    let mut v = sent(&out);
    v["record"] = json!(record.to_string());
    v["index"] = json!(index);
    Ok((v, format!("record #{index} anchored at {record}")))
}

fn progress_hidden() -> bool {
    std::env::var_os("CARELEDGER_NO_PROGRESS").is_some()
}

#[derive(Subcommand)]
pub enum GuardianCmd {
    /// Appoints a guardian who may act for the patient until the appointment ends
    Set {
        #[arg(value_parser = crate::session::address)]
        guardian: Pubkey,
        #[arg(long, default_value_t = 365, value_parser = crate::session::days)]
        days: i64,
    },
    Clear,
}

#[derive(Subcommand)]
pub enum RequestsCmd {
    /// Access requests waiting for the patient
    List,
    /// Approves a request as asked (creating the grant)
    Approve {
        #[arg(value_parser = crate::session::address)]
        requester: Pubkey,
    },
    Deny {
        #[arg(value_parser = crate::session::address)]
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
        #[arg(value_parser = crate::session::address)]
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
            let ixn = ix::PatientSetGuardian {
                wallet: me,
                guardian: Some(*guardian),
                expires_at: now + days * SECONDS_PER_DAY,
            }
            .instruction();
            (ixn, format!("{guardian} is guardian for {days} days"))
        }
        GuardianCmd::Clear => (
            ix::PatientSetGuardian {
                wallet: me,
                guardian: None,
                expires_at: 0,
            }
            .instruction(),
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
            let me = s.wallet_or_mine(None, "patient")?;
            let list = s.client.requests_by_patient(&me).await.map_err(explain)?;
            let rows: Vec<Value> = list
                .iter()
                .map(|(a, r)| json!({"address": a.to_string(), "requester": r.requester.to_string(), "purpose": careledger_sdk::classes::purpose_name(r.purpose), "classes": careledger_sdk::classes::class_names(r.classes), "actions": careledger_sdk::summary::render::actions(r.actions), "reason_code": r.reason_code, "days": r.duration_secs / careledger_sdk::SECONDS_PER_DAY as u32}))
                .collect();
            let text = list
                .iter()
                .map(|(_, r)| {
                    format!(
                        "{} asks for {} access to {} records, for {}, for {} (reason {})",
                        r.requester,
                        careledger_sdk::summary::render::actions(r.actions),
                        careledger_sdk::summary::render::classes(r.classes),
                        careledger_sdk::classes::purpose_name(r.purpose),
                        careledger_sdk::summary::render::count(
                            u64::from(r.duration_secs) / careledger_sdk::SECONDS_PER_DAY as u64,
                            "day",
                            "days"
                        ),
                        r.reason_code
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
            let previous = s
                .client
                .grant_to_replace(&pda::grant(&me, requester, r.purpose).0)
                .await
                .map_err(explain)?;
            let out = s
                .send(
                    ix::RequestApprove {
                        authority: me,
                        patient_wallet: me,
                        requester: *requester,
                        purpose: r.purpose,
                        args,
                    }
                    .renewing(ix::previous_payer(&me, previous.as_ref())),
                )
                .await?;
            (sent(&out), format!("request of {requester} approved"))
        }
        RequestsCmd::Deny { requester, reason } => {
            let out = s
                .send(
                    ix::RequestDeny {
                        authority: me,
                        patient_wallet: me,
                        requester: *requester,
                        reason_code: *reason,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("request of {requester} denied"))
        }
    })
}

pub async fn emergencies(s: &Session, cmd: &EmergenciesCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        EmergenciesCmd::List => {
            let me = s.wallet_or_mine(None, "patient")?;
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
                .send(
                    ix::BreakGlassReview {
                        authority: me,
                        patient_wallet: me,
                        grant: *grant,
                        outcome,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("break-glass grant {grant} reviewed: {outcome:?}"),
            )
        }
    })
}
