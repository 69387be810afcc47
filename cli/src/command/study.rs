//! `careledger study`: research studies, invitations, enrolment and rewards.
use crate::session::{explain, sent, Session};
use anyhow::{bail, Result};
use careledger_sdk::ix::{self, StudyKeys};
use careledger_sdk::pda;
use careledger_sdk::{RewardTerms, Study, StudyCreateArgs, Transport};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;

const DAY: i64 = 86_400;

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
                    period_secs: period_days.saturating_mul(86_400),
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
                }
                .instruction()]
            } else {
                ix::StudyEnrollWithGrant {
                    authority: me,
                    patient_wallet: me,
                    keys,
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
            let out = s
                .send(
                    ix::RewardClaim {
                        authority: me,
                        patient_wallet: me,
                        keys,
                        patient_tokens: ata,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("rewards collected into {ata}"))
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
