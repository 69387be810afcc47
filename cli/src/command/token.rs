//! `careledger token`: SPL Token mints and accounts (a ledger folder has no `spl-token` CLI).
use crate::session::{explain, Session};
use anyhow::Result;
use careledger_sdk::tokens;
use clap::Subcommand;
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

#[derive(Subcommand)]
pub enum TokenCmd {
    /// A new SPL Token mint with the signer as mint authority
    CreateMint {
        #[arg(long, default_value_t = 2)]
        decimals: u8,
    },
    /// A new token account for MINT owned by OWNER (default: the signer)
    CreateAccount {
        #[arg(value_parser = crate::session::address)]
        mint: Pubkey,
        #[arg(long)]
        #[arg(value_parser = crate::session::address)]
        owner: Option<Pubkey>,
    },
    /// Mints AMOUNT base units to a token account (signer: the mint authority)
    MintTo {
        #[arg(value_parser = crate::session::address)]
        mint: Pubkey,
        #[arg(value_parser = crate::session::address)]
        to: Pubkey,
        amount: u64,
    },
    Balance {
        #[arg(value_parser = crate::session::address)]
        account: Pubkey,
    },
}

pub async fn execute(s: &Session, cmd: &TokenCmd) -> Result<(Value, String)> {
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
