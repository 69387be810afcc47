//! Claims, studies and the SPL Token plumbing they need (a ledger folder has no `spl-token` CLI).
use crate::{explain, Session};
use anyhow::{bail, Context, Result};
use careledger_sdk::claims::{explanation_of_benefit, rule_key, service_day};
use careledger_sdk::ix::{self, CareBasis, PolicyKeys, StudyKeys};
use careledger_sdk::{pda, tokens, Claim, ClaimSubmitArgs, CoverageRule, Policy, PolicyCreateArgs};
use careledger_sdk::{Purpose, RecordAnchor};
use careledger_sdk::{ReviewDecision, RewardTerms, RuleTerms, Study, StudyCreateArgs, Transport};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::PathBuf;

const DAY: i64 = 86_400;

#[derive(Subcommand)]
pub enum TokenCmd {
    /// A new SPL Token mint with the signer as mint authority
    CreateMint {
        #[arg(long, default_value_t = 2)]
        decimals: u8,
    },
    /// A new token account for MINT owned by OWNER (default: the signer)
    CreateAccount {
        mint: Pubkey,
        #[arg(long)]
        owner: Option<Pubkey>,
    },
    /// Mints AMOUNT base units to a token account (signer: the mint authority)
    MintTo {
        mint: Pubkey,
        to: Pubkey,
        amount: u64,
    },
    Balance {
        account: Pubkey,
    },
}

#[derive(Subcommand)]
pub enum InsurerCmd {
    /// Opens a policy for a registered patient, paying in MINT
    PolicyCreate {
        #[arg(long)]
        patient: Pubkey,
        #[arg(long)]
        mint: Pubkey,
        #[arg(long)]
        policy_id: u64,
        /// Annual benefit cap, base units
        #[arg(long)]
        cap: u64,
        #[arg(long, default_value_t = 0)]
        deductible: u64,
        #[arg(long, default_value_t = 365)]
        days: i64,
        /// Pay only providers enrolled in the insurer's network (`insurer network-add`)
        #[arg(long)]
        network_only: bool,
    },
    /// Enrols a verified billing provider in the signer's network
    NetworkAdd { provider: Pubkey },
    /// Ends a provider's membership of the signer's network
    NetworkRemove { provider: Pubkey },
    /// Adds a coverage rule for a procedure code (only its salted hash goes on chain)
    RuleAdd {
        #[arg(long)]
        policy: Pubkey,
        #[command(flatten)]
        code: Code,
        /// Allowed amount per unit, base units
        #[arg(long)]
        allowed: u64,
        #[arg(long, default_value_t = 0)]
        copay: u64,
        #[arg(long, default_value_t = 0)]
        coinsurance_bps: u16,
        #[arg(long, default_value_t = 1)]
        max_units: u16,
        #[arg(long, default_value_t = 12)]
        max_claims: u32,
        #[arg(long)]
        prior_auth: bool,
    },
    /// Approves (up to what the rule allows) or denies a claim pending review
    Review {
        claim: Pubkey,
        /// The provider's token account the benefit goes to
        #[arg(long)]
        payee: Pubkey,
        #[arg(long, conflicts_with = "deny")]
        approve: Option<u64>,
        /// The insurer's reason code
        #[arg(long)]
        deny: Option<u16>,
    },
}

/// A procedure code and the policy secret that salts it.
#[derive(clap::Args)]
pub struct Code {
    /// File holding the 32-byte policy secret the insurer shares with its providers
    #[arg(long)]
    secret_file: PathBuf,
    #[arg(long, default_value = "CPT")]
    code_system: String,
    #[arg(long)]
    code: String,
    #[arg(long, default_value = "")]
    modifier: String,
}

impl Code {
    fn key(&self) -> Result<[u8; 32]> {
        let bytes = std::fs::read(&self.secret_file).with_context(|| {
            format!(
                "cannot read the policy secret {}",
                self.secret_file.display()
            )
        })?;
        let secret: [u8; 32] =
            careledger_sdk::cid::sha256_reader(bytes.as_slice(), |_| {}).map_err(explain)?;
        Ok(rule_key(
            &secret,
            &self.code_system,
            &self.code,
            &self.modifier,
        ))
    }
}

#[derive(Subcommand)]
pub enum ClaimCmd {
    /// Bills a policy for a service documented by an anchored record
    Submit {
        #[arg(long)]
        policy: Pubkey,
        #[arg(long)]
        record: Pubkey,
        #[command(flatten)]
        code: Code,
        #[arg(long, default_value_t = 1)]
        units: u16,
        /// Billed amount, base units
        #[arg(long)]
        billed: u64,
        /// The provider's token account for the policy's mint
        #[arg(long)]
        payee: Pubkey,
        /// The claim document: only its SHA-256 goes on chain
        #[arg(long)]
        document: PathBuf,
        /// Unix time of the service (default: today)
        #[arg(long)]
        service_time: Option<i64>,
    },
    /// Pays an approved claim the vault could not cover at the time (anyone)
    Settle {
        claim: Pubkey,
        #[arg(long)]
        payee: Pubkey,
    },
    /// A claim and its explanation of benefit
    Show { claim: Pubkey },
    /// Anyone adds funds to a policy's vault
    Fund {
        policy: Pubkey,
        #[arg(long)]
        source: Pubkey,
        #[arg(long)]
        amount: u64,
    },
}

#[derive(Subcommand)]
pub enum StudyCmd {
    /// Opens a study paying in MINT (signer: a verified researcher)
    Create {
        #[arg(long)]
        study_id: u64,
        #[arg(long)]
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
        #[arg(long, default_value_t = 30)]
        days: i64,
        #[arg(long, default_value_t = 100)]
        max_participants: u32,
        #[arg(long, default_value_t = 0)]
        data_use_code: u32,
    },
    Fund {
        study: Pubkey,
        #[arg(long)]
        source: Pubkey,
        #[arg(long)]
        amount: u64,
    },
    /// The sponsor (or its site) invites an eligible registered patient: only invited patients
    /// can enrol
    Invite {
        study: Pubkey,
        #[arg(long)]
        patient: Pubkey,
        /// The invitation can be used for this many days
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// The sponsor delegates inviting to a site (omit --site to stop delegating)
    SetSite {
        study: Pubkey,
        #[arg(long)]
        site: Option<Pubkey>,
    },
    /// The patient grants the sponsor research access and enrols, in one transaction
    Enroll {
        study: Pubkey,
        /// How long the research grant runs
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    /// The patient collects the periodic rewards due while consent lasts
    ClaimReward {
        study: Pubkey,
    },
    Show {
        study: Pubkey,
    },
}

async fn policy_keys(s: &Session, policy: &Pubkey) -> Result<PolicyKeys> {
    let state: Policy = s.client.fetch(policy).await.map_err(explain)?;
    Ok(PolicyKeys::of(*policy, &state))
}

/// How the signer shows its care relationship with the member for `record`: it authored the
/// record, else its treatment grant, else its operations grant.
async fn care_basis(s: &Session, keys: &PolicyKeys, record: &Pubkey) -> Result<CareBasis> {
    let me = s.me();
    let anchor: RecordAnchor = s.client.fetch(record).await.map_err(explain)?;
    if anchor.author == me {
        return Ok(CareBasis::AuthoredRecord);
    }
    let treatment = pda::grant(&keys.patient, &me, Purpose::Treatment).0;
    if s.client.transport().account(&treatment).await?.is_some() {
        return Ok(CareBasis::Grant(Purpose::Treatment));
    }
    Ok(CareBasis::Grant(Purpose::Operations))
}

async fn study_keys(s: &Session, study: &Pubkey) -> Result<StudyKeys> {
    let state: Study = s.client.fetch(study).await.map_err(explain)?;
    Ok(StudyKeys::of(*study, &state))
}

fn sent(out: &careledger_sdk::TxOutcome) -> Value {
    crate::sent(out)
}

pub async fn token(s: &Session, cmd: &TokenCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        TokenCmd::CreateMint { decimals } => {
            let mint = Keypair::new();
            let ixs = tokens::create_mint(&me, &mint.pubkey(), &me, *decimals);
            s.send_all(&ixs, &[&mint]).await?;
            (
                json!({ "mint": mint.pubkey().to_string() }),
                format!("mint {}", mint.pubkey()),
            )
        }
        TokenCmd::CreateAccount { mint, owner } => {
            let account = Keypair::new();
            let ixs =
                tokens::create_token_account(&me, &account.pubkey(), mint, &owner.unwrap_or(me));
            s.send_all(&ixs, &[&account]).await?;
            (
                json!({ "account": account.pubkey().to_string() }),
                format!("token account {}", account.pubkey()),
            )
        }
        TokenCmd::MintTo { mint, to, amount } => {
            s.send_all(&[tokens::mint_to(mint, to, &me, *amount)], &[])
                .await?;
            (
                json!({ "amount": amount }),
                format!("minted {amount} to {to}"),
            )
        }
        TokenCmd::Balance { account } => {
            let b = s.client.token_balance(account).await.map_err(explain)?;
            (
                json!({ "amount": b.amount, "mint": b.mint.to_string(), "owner": b.owner.to_string() }),
                b.amount.to_string(),
            )
        }
    })
}

pub async fn insurer(s: &Session, cmd: &InsurerCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        InsurerCmd::PolicyCreate {
            patient,
            mint,
            policy_id,
            cap,
            deductible,
            days,
            network_only,
        } => {
            let keys = PolicyKeys::new(&me, *policy_id, patient, mint);
            let now = s.client.transport().unix_timestamp().await?;
            let args = PolicyCreateArgs {
                policy_id: *policy_id,
                coverage_start: now - DAY,
                coverage_end: now + days * DAY,
                benefit_cap: *cap,
                deductible: *deductible,
                network_only: *network_only,
            };
            let out = s.send(ix::policy_create(&keys, args)).await?;
            let mut v = sent(&out);
            v["policy"] = json!(keys.policy.to_string());
            v["vault"] = json!(keys.vault.to_string());
            (v, format!("policy {} (vault {})", keys.policy, keys.vault))
        }
        InsurerCmd::NetworkAdd { provider } => {
            let out = s.send(ix::network_add(&me, provider)).await?;
            let mut v = sent(&out);
            let membership = pda::network_membership(&me, provider).0;
            v["membership"] = json!(membership.to_string());
            (v, format!("{provider} is in your network ({membership})"))
        }
        InsurerCmd::NetworkRemove { provider } => {
            let out = s.send(ix::network_remove(&me, provider)).await?;
            (sent(&out), format!("{provider} left your network"))
        }
        InsurerCmd::RuleAdd {
            policy,
            code,
            allowed,
            copay,
            coinsurance_bps,
            max_units,
            max_claims,
            prior_auth,
        } => {
            let keys = policy_keys(s, policy).await?;
            let terms = RuleTerms {
                allowed_per_unit: *allowed,
                copay: *copay,
                coinsurance_bps: *coinsurance_bps,
                max_units_per_claim: *max_units,
                max_claims_per_period: *max_claims,
                prior_auth_required: *prior_auth,
            };
            let key = code.key()?;
            let out = s.send(ix::rule_add(&keys, key, terms)).await?;
            let mut v = sent(&out);
            v["rule"] = json!(pda::rule(policy, &key).0.to_string());
            (
                v,
                format!("rule added for {} {}", code.code_system, code.code),
            )
        }
        InsurerCmd::Review {
            claim,
            payee,
            approve,
            deny,
        } => {
            let state: Claim = s.client.fetch(claim).await.map_err(explain)?;
            let keys = policy_keys(s, &state.policy).await?;
            let decision = match (approve, deny) {
                (Some(amount), None) => ReviewDecision::Approve { amount: *amount },
                (None, Some(reason_code)) => ReviewDecision::Deny {
                    reason_code: *reason_code,
                },
                _ => bail!("pass either --approve AMOUNT or --deny REASON_CODE"),
            };
            let out = s
                .send(ix::claim_review(&keys, claim, &state, payee, decision))
                .await?;
            (sent(&out), format!("claim {claim} reviewed"))
        }
    })
}

pub async fn claim(s: &Session, cmd: &ClaimCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        ClaimCmd::Submit {
            policy,
            record,
            code,
            units,
            billed,
            payee,
            document,
            service_time,
        } => {
            let keys = policy_keys(s, policy).await?;
            let document_commitment = careledger_sdk::cid::sha256_file(document).map_err(|e| {
                anyhow::anyhow!("cannot read the claim document {}: {e}", document.display())
            })?;
            let now = s.client.transport().unix_timestamp().await?;
            let key = code.key()?;
            // The terms shown to the provider now are the ones the claim insists on.
            let rule: CoverageRule = s
                .client
                .fetch(&pda::rule(policy, &key).0)
                .await
                .map_err(explain)?;
            let args = ClaimSubmitArgs {
                units: *units,
                billed: *billed,
                service_date: service_day(service_time.unwrap_or(now)),
                document_commitment,
                expected_terms: rule.terms,
            };
            let care = care_basis(s, &keys, record).await?;
            let address = pda::claim(policy, &me, &key, args.service_date).0;
            let out = s
                .send(ix::claim_submit(
                    &me, &keys, record, &key, payee, care, args,
                ))
                .await?;
            let stored: Claim = s.client.fetch(&address).await.map_err(explain)?;
            let mut v = sent(&out);
            v["claim"] = json!(address.to_string());
            v["state"] = json!(format!("{:?}", stored.state));
            v["benefit"] = json!(stored.breakdown.benefit);
            (
                v,
                format!(
                    "claim {address}: {:?}, benefit {}",
                    stored.state, stored.breakdown.benefit
                ),
            )
        }
        ClaimCmd::Settle { claim, payee } => {
            let state: Claim = s.client.fetch(claim).await.map_err(explain)?;
            let keys = policy_keys(s, &state.policy).await?;
            let out = s.send(ix::claim_settle(&me, &keys, claim, payee)).await?;
            (sent(&out), format!("claim {claim} paid"))
        }
        ClaimCmd::Show { claim } => {
            let state: Claim = s.client.fetch(claim).await.map_err(explain)?;
            let policy: Policy = s.client.fetch(&state.policy).await.map_err(explain)?;
            let account = s
                .client
                .transport()
                .account(&policy.mint)
                .await?
                .context("the policy's mint is missing")?;
            let decimals =
                tokens::decode_mint_decimals(&policy.mint, &account.data).map_err(explain)?;
            let eob = explanation_of_benefit(&state, decimals);
            let v = json!({
                "claim": claim.to_string(),
                "state": format!("{:?}", state.state),
                "billed": state.billed,
                "eligible": state.breakdown.eligible,
                "benefit": state.breakdown.benefit,
                "reason_code": state.reason_code,
                "explanation": eob,
            });
            (v, eob)
        }
        ClaimCmd::Fund {
            policy,
            source,
            amount,
        } => {
            let keys = policy_keys(s, policy).await?;
            let out = s.send(ix::policy_fund(&me, &keys, source, *amount)).await?;
            (sent(&out), format!("policy {policy} funded with {amount}"))
        }
    })
}

pub async fn study(s: &Session, cmd: &StudyCmd) -> Result<(Value, String)> {
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
                classes: crate::classes(classes)?,
                data_use_code: *data_use_code,
                enrol_start: now,
                enrol_end: now + days * DAY,
                max_participants: *max_participants,
            };
            let out = s.send(ix::study_create(&keys, args)).await?;
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
            let out = s.send(ix::study_fund(&me, &keys, source, *amount)).await?;
            (sent(&out), format!("study {study} funded with {amount}"))
        }
        StudyCmd::Invite {
            study,
            patient,
            days,
        } => {
            let keys = study_keys(s, study).await?;
            let now = s.client.transport().unix_timestamp().await?;
            let ix = ix::invitation_create(&me, &keys, patient, now + days * DAY);
            let out = s.send(ix).await?;
            let invitation = pda::invitation(study, patient).0;
            let mut v = sent(&out);
            v["invitation"] = json!(invitation.to_string());
            (v, format!("{patient} invited to {study} ({invitation})"))
        }
        StudyCmd::SetSite { study, site } => {
            let keys = study_keys(s, study).await?;
            let site = site.unwrap_or_default();
            let out = s.send(ix::study_set_site(&keys, &site)).await?;
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
                vec![ix::study_enroll(&me, &me, &keys)]
            } else {
                ix::study_enroll_with_grant(&me, &me, &keys, state.classes, now + days * DAY)
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
            let out = s.send(ix::reward_claim(&me, &me, &keys, &ata)).await?;
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
