//! `careledger study`: research studies, invitations, enrolment and rewards.
use crate::session::{explain, sent, Session};
use anyhow::{anyhow, Context};
use anyhow::{bail, Result};
use careledger_sdk::ix::{self, StudyKeys};
use careledger_sdk::pda;
use careledger_sdk::trials::{outcome_hash, registry_id, OutcomeSet};
use careledger_sdk::{RewardTerms, Signer, Study, StudyCreateArgs, Transport};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::path::{Path, PathBuf};

use careledger_sdk::SECONDS_PER_DAY as DAY;

#[derive(Subcommand)]
pub enum StudyCmd {
    /// Opens a study paying in MINT (signer: a verified researcher)
    Create {
        #[arg(long)]
        study_id: u64,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        mint: Pubkey,
        #[arg(long)]
        enrolment_reward: u64,
        #[arg(long, default_value_t = 0)]
        period_reward: u64,
        #[arg(long, default_value_t = 7)]
        period_days: u32,
        #[arg(long, default_value_t = 0)]
        periods: u16,
        /// Record classes participants share
        #[arg(long, value_delimiter = ',')]
        classes: Vec<String>,
        /// Enrolment stays open this many days
        #[arg(long, default_value_t = 30, value_parser = crate::session::days)]
        days: i64,
        #[arg(long, default_value_t = 100)]
        max_participants: u32,
        #[arg(long, default_value_t = 0)]
        data_use_code: u32,
    },
    Fund {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        source: Pubkey,
        #[arg(long)]
        amount: u64,
    },
    /// The sponsor (or its site) invites an eligible registered patient: only invited patients
    /// can enrol
    Invite {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        /// The invitation can be used for this many days
        #[arg(long, default_value_t = 30, value_parser = crate::session::days)]
        days: i64,
    },
    /// The sponsor delegates inviting to a site (omit --site to stop delegating)
    SetSite {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        site: Option<Pubkey>,
    },
    /// The patient grants the sponsor research access and enrols, in one transaction
    Enroll {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        /// How long the research grant runs
        #[arg(long, default_value_t = 365, value_parser = crate::session::days)]
        days: i64,
    },
    /// The patient collects the periodic rewards due while consent lasts
    ClaimReward {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
    },
    Show {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
    },
    /// The sponsor registers the study's protocol before anyone enrols: the document's hash,
    /// the pre-specified outcomes (committed with salted hashes; the salts and words go to
    /// --outcomes-out, which you keep to report the results), the registry id
    RegisterProtocol {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        /// The trial registry's identifier (NCT01234567, 2023-501234-12-00, ISRCTN12345678)
        #[arg(long)]
        registry: String,
        /// The protocol document (only its SHA-256 goes on chain)
        #[arg(long)]
        document: PathBuf,
        /// One pre-specified primary outcome a line (at most 4)
        #[arg(long)]
        primary_outcomes: PathBuf,
        /// One pre-specified secondary outcome a line (at most 8)
        #[arg(long)]
        secondary_outcomes: PathBuf,
        #[arg(long)]
        planned_enrolment: u32,
        /// Where the outcome sets and their salts are written (keep it: the results reveal them)
        #[arg(long)]
        outcomes_out: PathBuf,
    },
    /// The sponsor amends the protocol: a new version (the old one is kept)
    AmendProtocol {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        /// The amended protocol document
        #[arg(long)]
        document: PathBuf,
        /// Opaque, non-zero reason code
        #[arg(long)]
        reason: u16,
        /// Participants must consent again before they accrue more (always, when the outcome
        /// sets change)
        #[arg(long)]
        material: bool,
        /// New outcome sets (with --secondary-outcomes and --outcomes-out); omit to keep them
        #[arg(long, requires_all = ["secondary_outcomes", "outcomes_out"])]
        primary_outcomes: Option<PathBuf>,
        #[arg(long)]
        secondary_outcomes: Option<PathBuf>,
        #[arg(long)]
        outcomes_out: Option<PathBuf>,
    },
    /// The participant consents to the protocol's current version, signing a statement that
    /// names it and its document's hash
    Reconsent {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
    },
    /// The sponsor anchors the statistical analysis plan before unblinding
    AnalysisPlan {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        plan: PathBuf,
    },
    /// The sponsor locks the data: the results dataset's hash, once
    Lock {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        #[arg(long)]
        dataset: PathBuf,
    },
    /// The sponsor reports the results: reveals the pre-specified outcomes (the file
    /// register-protocol wrote) and names those reported
    Report {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        /// The outcome sets kept from register-protocol (or the last amendment that changed them)
        #[arg(long)]
        outcomes: PathBuf,
        /// The primary outcomes the results report, one a line
        #[arg(long)]
        reported_primary: PathBuf,
        /// The secondary outcomes the results report, one a line
        #[arg(long)]
        reported_secondary: PathBuf,
    },
    /// The protocol, its versions, each participant's consent to a version, and whether the
    /// results match the pre-specified outcomes
    Protocol {
        #[arg(value_parser = crate::session::address)]
        study: Pubkey,
        /// `fhir`: the study as FHIR R4 ResearchStudy and ResearchSubject resources
        #[arg(long)]
        format: Option<String>,
    },
}

/// The outcome sets a sponsor keeps between registration and results: the words and salts.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptOutcomes {
    primary: KeptSet,
    secondary: KeptSet,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeptSet {
    salt: String,
    outcomes: Vec<String>,
}

impl KeptSet {
    fn of(set: &OutcomeSet, words: &[String]) -> KeptSet {
        KeptSet {
            salt: careledger_server::common::hex(&set.salt),
            outcomes: words.to_vec(),
        }
    }

    fn set(&self) -> Result<OutcomeSet> {
        let salt: [u8; 32] = (0..32)
            .map(|i| u8::from_str_radix(self.salt.get(2 * i..2 * i + 2).unwrap_or(""), 16))
            .collect::<Result<Vec<u8>, _>>()
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| anyhow!("the kept outcome file's salt is not 64 hex digits"))?;
        Ok(OutcomeSet::with_salt(salt, &self.outcomes))
    }
}

/// Outcomes from a file, one a line (blank lines skipped), at most `max`.
fn outcome_lines(path: &Path, max: u8, what: &str) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} outcomes {}", path.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if lines.len() > usize::from(max) {
        bail!(
            "{} lists {} {what} outcomes; a protocol pre-specifies at most {max}",
            path.display(),
            lines.len()
        );
    }
    Ok(lines)
}

fn sha256_of(path: &Path, what: &str) -> Result<[u8; 32]> {
    careledger_sdk::cid::sha256_file(path)
        .map_err(|e| anyhow!("cannot read the {what} {}: {e}", path.display()))
}

/// Writes the kept outcomes, refusing to replace an existing file (it may hold earlier salts).
fn keep_outcomes(path: &Path, kept: &KeptOutcomes) -> Result<()> {
    let text = serde_json::to_string_pretty(kept)?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "cannot write {} (an existing file is never replaced: it may hold the salts of earlier outcomes)",
                path.display()
            )
        })?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// After a failed send the salts just kept are removed, unless the ledger holds their
/// commitment after all (a send whose answer was lost may still have landed): the file then
/// names exactly the outcome sets on chain.
async fn unkeep_on_error<T>(
    s: &Session,
    study: &Pubkey,
    primary: [u8; 32],
    sent: Result<T>,
    kept: &Path,
) -> Result<T> {
    let Err(e) = sent else {
        return sent;
    };
    {
        let landed = matches!(
            s.client.fetch::<careledger_sdk::program::state::Protocol>(&pda::protocol(study).0).await,
            Ok(p) if p.primary_outcomes == primary
        );
        if landed {
            return Err(e.context(format!(
                "the outcome commitment is on the ledger all the same: keep {}",
                kept.display()
            )));
        }
        let _ = std::fs::remove_file(kept);
        Err(e)
    }
}

async fn study_keys(s: &Session, study: &Pubkey) -> Result<StudyKeys> {
    let state: Study = s.client.fetch(study).await.map_err(explain)?;
    Ok(StudyKeys::of(*study, &state))
}

pub async fn execute(s: &Session, cmd: &StudyCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        StudyCmd::Create {
            study_id,
            mint,
            enrolment_reward,
            period_reward,
            period_days,
            periods,
            classes,
            days,
            max_participants,
            data_use_code,
        } => {
            let keys = StudyKeys::new(&me, *study_id, mint);
            let now = s.client.transport().unix_timestamp().await?;
            let args = StudyCreateArgs {
                study_id: *study_id,
                terms: RewardTerms {
                    enrolment_reward: *enrolment_reward,
                    period_reward: *period_reward,
                    period_secs: period_days.saturating_mul(DAY as u32),
                    periods: *periods,
                },
                classes: crate::session::classes(classes)?,
                data_use_code: *data_use_code,
                enrol_start: now,
                enrol_end: now + days * DAY,
                max_participants: *max_participants,
            };
            let out = s.send(ix::StudyCreate { keys, args }.instruction()).await?;
            let mut v = sent(&out);
            v["study"] = json!(keys.study.to_string());
            (v, format!("study {}", keys.study))
        }
        StudyCmd::Fund {
            study,
            source,
            amount,
        } => {
            let keys = study_keys(s, study).await?;
            let out = s
                .send(
                    ix::StudyFund {
                        funder: me,
                        keys,
                        source: *source,
                        amount: *amount,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("study {study} funded with {amount}"))
        }
        StudyCmd::Invite {
            study,
            patient,
            days,
        } => {
            let keys = study_keys(s, study).await?;
            let now = s.client.transport().unix_timestamp().await?;
            let ix = ix::InvitationCreate {
                inviter: me,
                keys,
                patient_wallet: *patient,
                expires_at: now + days * DAY,
            }
            .instruction();
            let out = s.send(ix).await?;
            let invitation = pda::invitation(study, patient).0;
            let mut v = sent(&out);
            v["invitation"] = json!(invitation.to_string());
            (v, format!("{patient} invited to {study} ({invitation})"))
        }
        StudyCmd::SetSite { study, site } => {
            let keys = study_keys(s, study).await?;
            let site = site.unwrap_or_default();
            let out = s
                .send(ix::StudySetSite { keys, site }.instruction())
                .await?;
            (sent(&out), format!("study {study} site: {site}"))
        }
        StudyCmd::Enroll { study, days } => {
            let keys = study_keys(s, study).await?;
            // the protocol version this enrolment consents to: the study's current one
            let protocol = s.client.current_protocol(study).await.map_err(|e| {
                match e.program_error() {
                    Some(careledger_sdk::CareledgerError::ProtocolNotRegistered) => anyhow!(
                        "study {study} has no registered protocol yet: nobody can enrol until its sponsor registers one"
                    ),
                    _ => explain(e),
                }
            })?;
            let state: Study = s.client.fetch(study).await.map_err(explain)?;
            let now = s.client.transport().unix_timestamp().await?;
            let t = s.client.transport();
            if t.account(&pda::participation(study, &me).0)
                .await?
                .is_some()
            {
                bail!("{me} is already enrolled in study {study}");
            }
            let grant = pda::grant(&me, &keys.sponsor, careledger_sdk::Purpose::Research).0;
            let ixs = if t.account(&grant).await?.is_some() {
                // an existing research grant to the sponsor: enrolment checks it covers the study
                vec![ix::StudyEnroll {
                    authority: me,
                    patient_wallet: me,
                    keys,
                    protocol,
                }
                .instruction()]
            } else {
                ix::StudyEnrollWithGrant {
                    authority: me,
                    patient_wallet: me,
                    keys,
                    protocol,
                    classes: state.classes,
                    expires_at: now + days * DAY,
                }
                .instructions()
            };
            let out = s.send_all(&ixs, &[]).await?;
            let ata = pda::associated_token(&me, &keys.mint);
            let mut v = sent(&out);
            v["rewards_account"] = json!(ata.to_string());
            (v, format!("enrolled in {study}; rewards go to {ata}"))
        }
        StudyCmd::ClaimReward { study } => {
            let keys = study_keys(s, study).await?;
            let ata = pda::associated_token(&me, &keys.mint);
            let next_material = s.client.next_material(study, &me).await.map_err(explain)?;
            let out = s
                .send(
                    ix::RewardClaim {
                        authority: me,
                        patient_wallet: me,
                        keys,
                        patient_tokens: ata,
                        next_material,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("rewards collected into {ata}"))
        }
        StudyCmd::RegisterProtocol {
            study,
            registry,
            document,
            primary_outcomes,
            secondary_outcomes,
            planned_enrolment,
            outcomes_out,
        } => {
            let registry_id = registry_id(registry).map_err(explain)?;
            let document_sha256 = sha256_of(document, "protocol document")?;
            let (primary_words, secondary_words) = (
                outcome_lines(
                    primary_outcomes,
                    careledger_sdk::MAX_PRIMARY_OUTCOMES,
                    "primary",
                )?,
                outcome_lines(
                    secondary_outcomes,
                    careledger_sdk::MAX_SECONDARY_OUTCOMES,
                    "secondary",
                )?,
            );
            if primary_words.is_empty() {
                bail!(
                    "{} lists no primary outcome: a protocol pre-specifies at least one",
                    primary_outcomes.display()
                );
            }
            if outcomes_out.exists() {
                bail!("{} exists: the outcome sets and their salts go to a new file (an existing one may hold earlier salts)", outcomes_out.display());
            }
            let (primary, secondary) = (
                OutcomeSet::new(&primary_words),
                OutcomeSet::new(&secondary_words),
            );
            let register = ix::ProtocolRegister {
                sponsor: me,
                study: *study,
                args: careledger_sdk::ProtocolRegisterArgs {
                    registry_id,
                    document_sha256,
                    document_cid: vec![],
                    primary_outcomes: primary.commitment(),
                    secondary_outcomes: secondary.commitment(),
                    planned_enrolment: *planned_enrolment,
                },
            };
            // the salts are kept before the commitment goes on chain: a commitment whose salts
            // were lost could never be revealed, so a failed send removes the file instead
            keep_outcomes(
                outcomes_out,
                &KeptOutcomes {
                    primary: KeptSet::of(&primary, &primary_words),
                    secondary: KeptSet::of(&secondary, &secondary_words),
                },
            )?;
            let result = s.send(register.instruction()).await;
            let out = unkeep_on_error(s, study, primary.commitment(), result, outcomes_out).await?;
            let mut v = sent(&out);
            v["protocol"] = json!(pda::protocol(study).0.to_string());
            (
                v,
                format!(
                    "protocol of study {study} registered: version 1, {} primary and {} secondary outcomes committed; keep {} to report the results",
                    primary_words.len(),
                    secondary_words.len(),
                    outcomes_out.display()
                ),
            )
        }
        StudyCmd::AmendProtocol {
            study,
            document,
            reason,
            material,
            primary_outcomes,
            secondary_outcomes,
            outcomes_out,
        } => {
            let status = s.client.trial_status(study).await.map_err(explain)?;
            let document_sha256 = sha256_of(document, "protocol document")?;
            let (primary, secondary, kept) =
                match (primary_outcomes, secondary_outcomes, outcomes_out) {
                    (Some(p), Some(q), Some(out)) => {
                        if out.exists() {
                            bail!(
                                "{} exists: new outcome sets and their salts go to a new file",
                                out.display()
                            );
                        }
                        let (pw, sw) = (
                            outcome_lines(p, careledger_sdk::MAX_PRIMARY_OUTCOMES, "primary")?,
                            outcome_lines(q, careledger_sdk::MAX_SECONDARY_OUTCOMES, "secondary")?,
                        );
                        let (ps, ss) = (OutcomeSet::new(&pw), OutcomeSet::new(&sw));
                        let kept = KeptOutcomes {
                            primary: KeptSet::of(&ps, &pw),
                            secondary: KeptSet::of(&ss, &sw),
                        };
                        (ps.commitment(), ss.commitment(), Some((out.clone(), kept)))
                    }
                    _ => (
                        status.protocol.primary_outcomes,
                        status.protocol.secondary_outcomes,
                        None,
                    ),
                };
            let amend = ix::ProtocolAmend {
                sponsor: me,
                study: *study,
                current: status.protocol.version,
                args: careledger_sdk::ProtocolAmendArgs {
                    document_sha256,
                    document_cid: vec![],
                    primary_outcomes: primary,
                    secondary_outcomes: secondary,
                    reason_code: *reason,
                    material: *material,
                },
            };
            let out = match &kept {
                Some((path, kept)) => {
                    keep_outcomes(path, kept)?;
                    let result = s.send(amend.instruction()).await;
                    unkeep_on_error(s, study, primary, result, path).await?
                }
                None => s.send(amend.instruction()).await?,
            };
            let version = status.protocol.version + 1;
            (
                sent(&out),
                format!("protocol of study {study} amended to version {version}"),
            )
        }
        StudyCmd::Reconsent { study } => {
            let keys = study_keys(s, study).await?;
            let protocol = s.client.current_protocol(study).await.map_err(explain)?;
            let patient: careledger_sdk::Patient = s
                .client
                .fetch(&pda::patient(&me).0)
                .await
                .map_err(explain)?;
            let now = s.client.transport().unix_timestamp().await?;
            let statement = careledger_sdk::trials::reconsent_statement(
                study,
                &patient,
                &me,
                protocol.version,
                &protocol.document_sha256,
                now,
            )?;
            let signature: [u8; 64] = s.signer().sign_message(&statement).into();
            let next_material = s.client.next_material(study, &me).await.map_err(explain)?;
            let out = s
                .send_all(
                    &ix::ParticipationReconsent {
                        authority: me,
                        patient_wallet: me,
                        study: *study,
                        sponsor: keys.sponsor,
                        version: protocol.version,
                        signed_message: statement.clone(),
                        signature,
                        next_material,
                    }
                    .instructions(),
                    &[],
                )
                .await?;
            let mut v = sent(&out);
            v["statement"] = json!(String::from_utf8_lossy(&statement));
            (
                v,
                format!(
                    "consented to version {} of study {study}'s protocol",
                    protocol.version
                ),
            )
        }
        StudyCmd::AnalysisPlan { study, plan } => {
            let analysis_plan_sha256 = sha256_of(plan, "analysis plan")?;
            let out = s
                .send(
                    ix::AnalysisPlanAnchor {
                        sponsor: me,
                        study: *study,
                        analysis_plan_sha256,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("analysis plan of study {study} anchored"),
            )
        }
        StudyCmd::Lock { study, dataset } => {
            let dataset_sha256 = sha256_of(dataset, "results dataset")?;
            let out = s
                .send(
                    ix::DataLock {
                        sponsor: me,
                        study: *study,
                        dataset_sha256,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("data of study {study} locked"))
        }
        StudyCmd::Report {
            study,
            outcomes,
            reported_primary,
            reported_secondary,
        } => {
            let text = std::fs::read_to_string(outcomes)
                .with_context(|| format!("cannot read the kept outcomes {}", outcomes.display()))?;
            let kept: KeptOutcomes = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{} is not the outcome file register-protocol wrote",
                    outcomes.display()
                )
            })?;
            let (primary, secondary) = (kept.primary.set()?, kept.secondary.set()?);
            let hashes =
                |words: Vec<String>| words.iter().map(|w| outcome_hash(w)).collect::<Vec<_>>();
            let args = careledger_sdk::ResultsReportArgs {
                primary_salt: primary.salt,
                prespecified_primary: primary.outcomes,
                secondary_salt: secondary.salt,
                prespecified_secondary: secondary.outcomes,
                reported_primary: hashes(outcome_lines(
                    reported_primary,
                    careledger_sdk::MAX_PRIMARY_OUTCOMES,
                    "reported primary",
                )?),
                reported_secondary: hashes(outcome_lines(
                    reported_secondary,
                    careledger_sdk::MAX_SECONDARY_OUTCOMES,
                    "reported secondary",
                )?),
            };
            let out = s
                .send(
                    ix::ResultsReport {
                        sponsor: me,
                        study: *study,
                        args,
                    }
                    .instruction(),
                )
                .await?;
            let status = s.client.trial_status(study).await.map_err(explain)?;
            let mut v = sent(&out);
            v["outcomes_switched"] = json!(status.protocol.outcomes_switched != 0);
            (
                v,
                format!(
                    "results of study {study} reported: {}",
                    careledger_sdk::trials::switch_verdict(status.protocol.outcomes_switched)
                ),
            )
        }
        StudyCmd::Protocol { study, format } => {
            let status = s.client.trial_status(study).await.map_err(explain)?;
            if let Some(f) = format {
                if f != "fhir" {
                    bail!("unknown format `{f}`: use fhir");
                }
                let bundle = status.fhir_bundle();
                return Ok((bundle.clone(), serde_json::to_string_pretty(&bundle)?));
            }
            let p = &status.protocol;
            let render = careledger_sdk::summary::render::instant;
            let v = json!({
                "study": study.to_string(),
                "registry_id": careledger_sdk::trials::registry_id_text(&p.registry_id),
                "version": p.version,
                "material_version": p.material_version,
                "registered_at": render(p.registered_at),
                "versions": status.versions.iter().map(|v| json!({
                    "version": v.version,
                    "document_sha256": careledger_server::common::hex(&v.document_sha256),
                    "material": v.material,
                    "reason_code": v.reason_code,
                    "registered_at": render(v.registered_at),
                })).collect::<Vec<_>>(),
                "participants": status.subjects.iter().map(|s| json!({
                    "patient": s.patient.to_string(),
                    "consented_version": s.consented_version,
                    "current": s.current,
                    "accrual_stopped_at": s.stale_since.map(render),
                })).collect::<Vec<_>>(),
                "results_reported": p.results_at != 0,
                "results_match_prespecified": status.results_match(),
            });
            let current = status.subjects.iter().filter(|s| s.current).count();
            let results = match status.results_match() {
                None => "no results reported yet".to_string(),
                Some(_) => careledger_sdk::trials::switch_verdict(p.outcomes_switched).to_string(),
            };
            let mut text = format!(
                "study {study}, registry {}: protocol version {} ({} versions), {} of {} participants consented to it; {results}",
                careledger_sdk::trials::registry_id_text(&p.registry_id),
                p.version,
                status.versions.len(),
                current,
                status.subjects.len()
            );
            for s in &status.subjects {
                text.push_str(&format!(
                    "\n  {}: version {}{}",
                    s.patient,
                    s.consented_version,
                    match s.stale_since {
                        Some(at) => format!(", accrues nothing since {} until consenting again", render(at)),
                        None if s.current => ", current".to_string(),
                        None => ", current for accrual (a later amendment was not material)".to_string(),
                    }
                ));
            }
            (v, text)
        }
        StudyCmd::Show { study } => {
            let st: Study = s.client.fetch(study).await.map_err(explain)?;
            let v = json!({
                "study": study.to_string(),
                "sponsor": st.sponsor.to_string(),
                "participants": st.participants,
                "max_participants": st.max_participants,
                "outstanding": st.outstanding,
                "paid": st.paid,
                "status": format!("{:?}", st.status),
            });
            (
                v,
                format!(
                    "study {study}: {:?}, {} of {} participants, {} paid",
                    st.status, st.participants, st.max_participants, st.paid
                ),
            )
        }
    })
}
