//! `careledger insurer`: policies, the provider network, coverage rules and claim reviews.
use crate::session::{explain, sent, Session};
use anyhow::{bail, Context, Result};
use careledger_sdk::claims::rule_key;
use careledger_sdk::ix::{self, PolicyKeys};
use careledger_sdk::{pda, Claim, PolicyCreateArgs};
use careledger_sdk::{ReviewDecision, RuleTerms, Transport};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::path::PathBuf;

use careledger_sdk::SECONDS_PER_DAY as DAY;

#[derive(Subcommand)]
pub enum InsurerCmd {
    /// Opens a policy for a registered patient, paying in MINT
    PolicyCreate {
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        patient: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        mint: Pubkey,
        #[arg(long)]
        policy_id: u64,
        /// Annual benefit cap, base units
        #[arg(long)]
        cap: u64,
        #[arg(long, default_value_t = 0)]
        deductible: u64,
        #[arg(long, default_value_t = 365, value_parser = crate::session::days)]
        days: i64,
        /// Pay only providers enrolled in the insurer's network (`insurer network-add`)
        #[arg(long)]
        network_only: bool,
    },
    /// Enrols a verified billing provider in the signer's network
    NetworkAdd {
        #[arg(value_parser = crate::session::address)]
        provider: Pubkey,
    },
    /// Ends a provider's membership of the signer's network
    NetworkRemove {
        #[arg(value_parser = crate::session::address)]
        provider: Pubkey,
    },
    /// Adds a coverage rule for a procedure code (only its salted hash goes on chain)
    RuleAdd {
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
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
        #[arg(value_parser = crate::session::address)]
        claim: Pubkey,
        /// The provider's token account the benefit goes to
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
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
    pub(crate) fn key(&self) -> Result<[u8; 32]> {
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

pub async fn execute(s: &Session, cmd: &InsurerCmd) -> Result<(Value, String)> {
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
            let out = s
                .send(ix::PolicyCreate { keys, args }.instruction())
                .await?;
            let mut v = sent(&out);
            v["policy"] = json!(keys.policy.to_string());
            v["vault"] = json!(keys.vault.to_string());
            (v, format!("policy {} (vault {})", keys.policy, keys.vault))
        }
        InsurerCmd::NetworkAdd { provider } => {
            let out = s
                .send(
                    ix::NetworkAdd {
                        insurer: me,
                        provider: *provider,
                    }
                    .instruction(),
                )
                .await?;
            let mut v = sent(&out);
            let membership = pda::network_membership(&me, provider).0;
            v["membership"] = json!(membership.to_string());
            (v, format!("{provider} is in your network ({membership})"))
        }
        InsurerCmd::NetworkRemove { provider } => {
            let out = s
                .send(
                    ix::NetworkRemove {
                        insurer: me,
                        provider: *provider,
                    }
                    .instruction(),
                )
                .await?;
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
            let keys = s.client.policy_keys(policy).await.map_err(explain)?;
            let terms = RuleTerms {
                allowed_per_unit: *allowed,
                copay: *copay,
                coinsurance_bps: *coinsurance_bps,
                max_units_per_claim: *max_units,
                max_claims_per_period: *max_claims,
                prior_auth_required: *prior_auth,
            };
            let key = code.key()?;
            let out = s
                .send(
                    ix::RuleAdd {
                        keys,
                        rule_key: key,
                        terms,
                    }
                    .instruction(),
                )
                .await?;
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
            let keys = s.client.policy_keys(&state.policy).await.map_err(explain)?;
            let decision = match (approve, deny) {
                (Some(amount), None) => ReviewDecision::Approve { amount: *amount },
                (None, Some(reason_code)) => ReviewDecision::Deny {
                    reason_code: *reason_code,
                },
                _ => bail!("pass either --approve AMOUNT or --deny REASON_CODE"),
            };
            let out = s
                .send(
                    ix::ClaimReview {
                        keys,
                        claim: *claim,
                        rule_key: state.rule_key,
                        payee: *payee,
                        decision,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("claim {claim} reviewed"))
        }
    })
}
