//! `careledger authority`: the credential authority verifies and suspends providers, and issues
//! their W3C credentials.
use crate::session::{explain, sent, Session};
use anyhow::{anyhow, bail, Context, Result};
use careledger_identity::did;
use careledger_identity::vc::{self, ProviderClaims};
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{ix, pda, Transport};
use careledger_server::common::hex;
use clap::Subcommand;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum AuthorityCmd {
    /// Verifies a registered provider's roles until an expiry (a credential issued before no
    /// longer matches the new expiry: issue another)
    Verify {
        #[arg(value_parser = crate::session::address)]
        wallet: Pubkey,
        /// clinician, lab, hospital, insurer, researcher, emergency (comma-separated)
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value_t = 365, value_parser = crate::session::days)]
        days: i64,
    },
    /// Issues a registered provider a W3C provider credential signed with --keypair, and
    /// verifies the provider on chain with its roles, its expiry and its hash
    IssueCredential {
        #[arg(value_parser = crate::session::address)]
        provider: Pubkey,
        /// clinician, lab, hospital, insurer, researcher, emergency (comma-separated)
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        #[arg(long, default_value_t = 365, value_parser = crate::session::days)]
        days: i64,
        /// Where to write the credential (JSON)
        #[arg(long)]
        out: PathBuf,
        /// Replace --out if it exists
        #[arg(long)]
        force: bool,
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
                // care roles are set here; supply roles stay as they are (`supply approve`)
                supply_roles: current_supply_roles(s, wallet).await?,
                roles: careledger_sdk::classes::role_mask(r)?,
                credential_expires_at: now + days * SECONDS_PER_DAY,
                credential_ref: [0; 32],
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
        AuthorityCmd::IssueCredential {
            provider,
            roles,
            days,
            out,
            force,
        } => issue_credential(s, provider, roles, *days, out, *force).await?,
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

/// Signs the credential, stages it next to `out`, verifies the provider on chain with the
/// credential's roles, expiry and hash, and only then puts the file in place: a refused
/// transaction leaves no credential behind, and a credential on chain always has its file.
async fn issue_credential(
    s: &Session,
    wallet: &Pubkey,
    role_list: &[String],
    days: i64,
    out: &Path,
    force: bool,
) -> Result<(Value, String)> {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;
    if days < 1 {
        bail!("--days must be at least 1 (got {days})");
    }
    if out.exists() && !force {
        bail!(
            "{} exists: refusing to overwrite it (pass --force to replace it)",
            out.display()
        );
    }
    let registered: Option<careledger_sdk::Provider> = s
        .client
        .fetch_optional(&pda::provider(wallet).0)
        .await
        .map_err(explain)?;
    if registered.is_none() {
        bail!("{wallet} is not a registered provider: it registers with `careledger provider register` first");
    }
    let mask = careledger_sdk::classes::role_mask(role_list)?;
    // The chain's clock, not this machine's: the program and `check_status` judge by it.
    let now = s.client.transport().unix_timestamp().await?;
    let valid_until = days
        .checked_mul(SECONDS_PER_DAY)
        .and_then(|secs| now.checked_add(secs))
        .ok_or_else(|| anyhow!("--days {days} is too far ahead"))?;
    let claims = ProviderClaims {
        provider: *wallet,
        roles: vc::role_names(mask),
        valid_from: now,
        valid_until,
    };
    let credential = vc::issue(s.signer(), &claims, now)?;
    let credential_ref = vc::credential_ref(&credential);

    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut staged = tempfile::Builder::new()
        .prefix(".credential-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    staged.write_all((serde_json::to_string_pretty(&credential)? + "\n").as_bytes())?;
    staged.as_file().sync_all()?;
    std::fs::set_permissions(staged.path(), std::fs::Permissions::from_mode(0o644))?;

    let args = careledger_sdk::ProviderVerifyArgs {
        supply_roles: current_supply_roles(s, wallet).await?,
        roles: mask,
        credential_expires_at: valid_until,
        credential_ref,
    };
    let outcome = s
        .send(
            ix::ProviderVerify {
                authority: s.me(),
                provider_wallet: *wallet,
                args,
            }
            .instruction(),
        )
        .await?;
    let placed = if force {
        staged.persist(out)
    } else {
        staged.persist_noclobber(out)
    };
    placed.map_err(|e| {
        let kept = e.file.into_temp_path().keep();
        let copy = kept.map_or_else(|_| "lost".into(), |p| p.display().to_string());
        anyhow!(
            "the credential is on chain, but cannot be written to {}: {}. Its copy is at {copy}",
            out.display(),
            e.error
        )
    })?;

    let until = vc::xml_datetime(valid_until)?;
    let subject = did::did_of(wallet);
    let mut v = sent(&outcome);
    v["credential"] = json!(out.display().to_string());
    v["provider"] = json!(subject);
    v["roles"] = json!(claims.roles);
    v["valid_until"] = json!(until);
    v["credential_ref"] = json!(hex(&credential_ref));
    let text = format!(
        "issued {} a credential for {} until {until} and verified it on chain: wrote {} (credential_ref {})",
        subject,
        claims.roles.join(", "),
        out.display(),
        hex(&credential_ref)
    );
    Ok((v, text))
}

/// The supply-chain roles the authority already confirmed (`supply approve`): kept, so that
/// confirming care roles here does not drop them. A pending provider's supply roles are only what
/// it asked for, and are dropped: only `supply approve` confirms supply roles.
async fn current_supply_roles(s: &Session, wallet: &Pubkey) -> Result<u8> {
    let provider: Option<careledger_sdk::Provider> = s
        .client
        .fetch_optional(&careledger_sdk::pda::provider(wallet).0)
        .await?;
    Ok(match provider {
        Some(p) if p.status != careledger_sdk::ProviderStatus::Pending => p.supply_roles,
        _ => 0,
    })
}
