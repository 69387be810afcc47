//! Post-deploy setup (what `migrations/` runs): create the Config once, idempotently.
use crate::client::Client;
use crate::transport::Transport;
use crate::{ix, pda, SdkError};
use careledger::instructions::ConfigInitArgs;
use careledger::state::Config;
use solana_signer::Signer;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSetup {
    Created,
    /// A config already exists with exactly these settings.
    AlreadyInitialized,
}

/// Creates the Config signed by the program's upgrade authority. Running it again with the same
/// settings is a no-op; with different settings it is an error (change them with
/// `config_update` as the admin).
pub async fn init_config<T: Transport, S: Signer + Send + Sync>(
    client: &Client<T, S>,
    upgrade_authority: &crate::DynSigner<'_>,
    args: ConfigInitArgs,
) -> Result<ConfigSetup, SdkError> {
    if let Some(existing) = client.fetch_optional::<Config>(&pda::config()).await? {
        let same = existing.admin == args.admin
            && existing.credential_authority == args.credential_authority
            && existing.max_break_glass_secs == args.max_break_glass_secs;
        return if same {
            Ok(ConfigSetup::AlreadyInitialized)
        } else {
            Err(SdkError::InvalidInput(format!(
                "config already exists with admin {} and credential authority {}; \
                 use config_update to change settings",
                existing.admin, existing.credential_authority
            )))
        };
    }
    let instruction = ix::ConfigInit {
        upgrade_authority: upgrade_authority.pubkey(),
        args,
    }
    .instruction();
    client.send(&[instruction], &[upgrade_authority]).await?;
    Ok(ConfigSetup::Created)
}
