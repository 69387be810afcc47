//! `careledger claim`: submit, settle, fund and show claims.
use crate::session::{explain, sent, Session};
use anyhow::{Context, Result};
use careledger_sdk::claims::{explanation_of_benefit, service_day};
use careledger_sdk::ix;
use careledger_sdk::Transport;
use careledger_sdk::{pda, tokens, Claim, ClaimSubmitArgs, CoverageRule, Policy};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::path::PathBuf;

use crate::command::insurer::Code;

#[derive(Subcommand)]
pub enum ClaimCmd {
    /// Bills a policy for a service documented by an anchored record
    Submit {
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        policy: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::record)]
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
        #[arg(value_parser = crate::session::address)]
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
        #[arg(value_parser = crate::session::address)]
        claim: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        payee: Pubkey,
    },
    /// A claim and its explanation of benefit
    Show {
        #[arg(value_parser = crate::session::address)]
        claim: Pubkey,
    },
    /// Anyone adds funds to a policy's vault
    Fund {
        #[arg(value_parser = crate::session::address)]
        policy: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        source: Pubkey,
        #[arg(long)]
        amount: u64,
    },
}

pub async fn execute(s: &Session, cmd: &ClaimCmd) -> Result<(Value, String)> {
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
            let keys = s.client.policy_keys(policy).await.map_err(explain)?;
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
            let care = s
                .client
                .care_basis(&me, &keys.patient, record)
                .await
                .map_err(explain)?;
            let address = pda::claim(policy, &me, &key, args.service_date).0;
            let out = s
                .send(
                    ix::ClaimSubmit {
                        provider: me,
                        keys,
                        record: *record,
                        rule_key: key,
                        payee: *payee,
                        care,
                        args,
                    }
                    .instruction(),
                )
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
            let keys = s.client.policy_keys(&state.policy).await.map_err(explain)?;
            let out = s
                .send(
                    ix::ClaimSettle {
                        payer: me,
                        keys,
                        claim: *claim,
                        payee: *payee,
                    }
                    .instruction(),
                )
                .await?;
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
            let keys = s.client.policy_keys(policy).await.map_err(explain)?;
            let out = s
                .send(
                    ix::PolicyFund {
                        funder: me,
                        keys,
                        source: *source,
                        amount: *amount,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("policy {policy} funded with {amount}"))
        }
    })
}
