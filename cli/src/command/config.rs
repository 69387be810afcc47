//! `careledger config`: the program's settings, the two-step admin hand-over and the list of
//! accepted freezable payment mints (admin only).
use crate::session::{describe, explain, sent, Session};
use anyhow::Result;
use careledger_sdk::{ix, pda};
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Creates the config (signer: the program's upgrade authority)
    Init {
        /// Defaults to the signer
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        admin: Option<Pubkey>,
        /// Defaults to the signer
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        credential_authority: Option<Pubkey>,
        #[arg(long, default_value_t = 4 * 3600)]
        max_break_glass_secs: u32,
    },
    Pause,
    Unpause,
    Show,
    /// Two-step admin hand-over, and the list of accepted freezable payment mints
    #[command(subcommand)]
    Admin(AdminCmd),
}

#[derive(Subcommand)]
pub enum AdminCmd {
    /// The admin proposes a successor
    Propose {
        #[arg(value_parser = crate::session::address)]
        new_admin: Pubkey,
    },
    /// The proposed admin accepts
    Accept,
    /// Accepts a payment mint that has a freeze authority (held by its issuer, not by an
    /// insurer or sponsor)
    AcceptMint {
        #[arg(value_parser = crate::session::address)]
        mint: Pubkey,
    },
    /// Takes a mint off the accepted list
    RemoveMint {
        #[arg(value_parser = crate::session::address)]
        mint: Pubkey,
    },
}

pub async fn execute(s: &Session, cmd: &ConfigCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        ConfigCmd::Init {
            admin,
            credential_authority,
            max_break_glass_secs,
        } => {
            let args = careledger_sdk::ConfigInitArgs {
                admin: admin.unwrap_or(me),
                credential_authority: credential_authority.unwrap_or(me),
                max_break_glass_secs: *max_break_glass_secs,
            };
            let out = s
                .send(
                    ix::ConfigInit {
                        upgrade_authority: me,
                        args,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("config created\n{}", describe(&out.events)),
            )
        }
        ConfigCmd::Pause | ConfigCmd::Unpause => {
            let paused = matches!(cmd, ConfigCmd::Pause);
            let out = s
                .send(ix::ConfigSetPaused { admin: me, paused }.instruction())
                .await?;
            (sent(&out), format!("paused: {paused}"))
        }
        ConfigCmd::Admin(AdminCmd::Propose { new_admin }) => {
            let out = s
                .send(
                    ix::ConfigProposeAdmin {
                        admin: me,
                        new_admin: *new_admin,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("{new_admin} proposed as admin: it must accept"),
            )
        }
        ConfigCmd::Admin(AdminCmd::Accept) => {
            let out = s
                .send(ix::ConfigAcceptAdmin { new_admin: me }.instruction())
                .await?;
            (sent(&out), format!("{me} is now the admin"))
        }
        ConfigCmd::Admin(AdminCmd::AcceptMint { mint }) => {
            let out = s
                .send(
                    ix::MintAccept {
                        admin: me,
                        mint: *mint,
                    }
                    .instruction(),
                )
                .await?;
            (sent(&out), format!("mint {mint} accepted for payment"))
        }
        ConfigCmd::Admin(AdminCmd::RemoveMint { mint }) => {
            let entry: careledger_sdk::program::state::AcceptedMint = s
                .client
                .fetch(&pda::accepted_mint(mint).0)
                .await
                .map_err(explain)?;
            let out = s
                .send(
                    ix::MintRemove {
                        admin: me,
                        mint: *mint,
                        rent_to: entry.accepted_by,
                    }
                    .instruction(),
                )
                .await?;
            (
                sent(&out),
                format!("mint {mint} removed from the accepted list"),
            )
        }
        ConfigCmd::Show => {
            let c: careledger_sdk::Config =
                s.client.fetch(&pda::config()).await.map_err(explain)?;
            let v = json!({
                "admin": c.admin.to_string(),
                "credential_authority": c.credential_authority.to_string(),
                "paused": c.paused,
                "max_break_glass_secs": c.max_break_glass_secs,
            });
            let text = format!(
                "admin {}\ncredential authority {}\npaused {}\nmax break-glass {} s",
                c.admin, c.credential_authority, c.paused, c.max_break_glass_secs
            );
            (v, text)
        }
    })
}
