use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::{ProviderCredentialSet, ProviderSupplyRolesSet, ProviderVerified};
use crate::instructions::now;
use crate::logic::terms::validate_roles;
use crate::state::{Config, Provider, ProviderStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderVerifyArgs {
    /// The roles the authority confirms (may differ from those asked for).
    pub roles: u8,
    /// The supply-chain roles the authority confirms (`SUPPLY_*`).
    pub supply_roles: u8,
    pub credential_expires_at: i64,
    /// SHA-256 of the W3C provider credential the authority issues with this verification
    /// (`careledger_sdk::vc::credential_ref`); all zero keeps the provider's credential_ref.
    pub credential_ref: [u8; 32],
}

/// Verifies a pending provider, re-verifies a verified one (new expiry or roles) or reinstates
/// a suspended one.
#[event_cpi]
#[derive(Accounts)]
pub struct ProviderVerify<'info> {
    pub authority: Signer<'info>,
    #[account(
        address = CONFIG_ADDRESS,
        constraint = !config.paused @ CareledgerError::Paused,
        constraint = config.credential_authority == authority.key() @ CareledgerError::NotCredentialAuthority,
    )]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub provider: Account<'info, Provider>,
}

impl<'info> ProviderVerify<'info> {
    pub fn validate(&self, args: &ProviderVerifyArgs) -> Result<()> {
        validate_roles(args.roles, args.supply_roles)?;
        require!(
            args.credential_expires_at > now()?,
            CareledgerError::InvalidCredentialExpiry
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ProviderVerifyArgs) -> Result<()> {
        let at = now()?;
        let authority = ctx.accounts.authority.key();
        let provider = &mut ctx.accounts.provider;
        let old_roles = provider.roles;
        let old_supply_roles = provider.supply_roles;
        let previous_ref = provider.credential_ref;
        // Verifiers compare this hash with the credential they are shown: whoever sets it decides
        // which credential counts, so only the credential authority (checked above) may.
        let credential_set = args.credential_ref != [0; 32] && args.credential_ref != previous_ref;
        provider.roles = args.roles;
        provider.supply_roles = args.supply_roles;
        provider.status = ProviderStatus::Verified;
        provider.credential_expires_at = args.credential_expires_at;
        provider.verified_by = authority;
        provider.verified_at = at;
        provider.suspension_reason = 0;
        if credential_set {
            provider.credential_ref = args.credential_ref;
        }
        provider.invariant()?;
        let event = ProviderVerified {
            provider: provider.key(),
            wallet: provider.wallet,
            authority,
            old_roles,
            new_roles: args.roles,
            credential_expires_at: args.credential_expires_at,
            at,
        };
        emit_cpi!(event);
        if credential_set {
            let event = ProviderCredentialSet {
                provider: provider.key(),
                wallet: provider.wallet,
                authority,
                credential_ref: args.credential_ref,
                previous: previous_ref,
                credential_expires_at: args.credential_expires_at,
                at,
            };
            emit_cpi!(event);
        }
        // Whenever supply roles are in play, so a verifier reads the confirmed ones from the trail.
        if args.supply_roles != 0 || old_supply_roles != 0 {
            let event = ProviderSupplyRolesSet {
                provider: provider.key(),
                wallet: provider.wallet,
                set_by: authority,
                old_supply_roles,
                new_supply_roles: args.supply_roles,
                verified: true,
                at,
            };
            emit_cpi!(event);
        }
        Ok(())
    }
}
