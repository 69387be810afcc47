//! `careledger authority`: the credential authority verifies and suspends providers.
use crate::session::{sent, Session};
use anyhow::Result;
use careledger_sdk::{ix, Transport};
use clap::Subcommand;
use serde_json::Value;
use solana_pubkey::Pubkey;

#[derive(Subcommand)]
pub enum AuthorityCmd {
    /// Verifies a registered provider's roles until an expiry
    Verify {
        #[arg(value_parser = crate::session::address)]
        wallet: Pubkey,
        /// clinician, lab, hospital, insurer, researcher, emergency (comma-separated)
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    Suspend {
        #[arg(value_parser = crate::session::address)]
        wallet: Pubkey,
        #[arg(long)]
        reason: u16,
    },
}

pub async fn execute(s: &Session, cmd: &AuthorityCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        AuthorityCmd::Verify {
            wallet,
            roles: r,
            days,
        } => {
            let now = s.client.transport().unix_timestamp().await?;
            let args = careledger_sdk::ProviderVerifyArgs {
                roles: careledger_sdk::classes::role_mask(r)?,
                credential_expires_at: now + days * 86_400,
            };
            let out = s
                .send(
                    ix::ProviderVerify {
                        authority: me,
                        provider_wallet: *wallet,
                        args,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("provider {wallet} verified for {days} days"),
            )
        }
        AuthorityCmd::Suspend { wallet, reason } => {
            let out = s
                .send(
                    ix::ProviderSuspend {
                        authority: me,
                        provider_wallet: *wallet,
                        reason_code: *reason,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("provider {wallet} suspended (reason {reason})"),
            )
        }
    })
}
