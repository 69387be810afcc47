use crate::constants::ENCRYPTION_KEY_SEED;
use crate::create::{init_pda, is_vacant, write_account};
use crate::errors::CareledgerError;
use crate::events::EncryptionKeySet as KeySetEvent;
use crate::instructions::now;
use crate::logic::keys::is_usable_x25519;
use crate::state::EncryptionKey;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct EncryptionKeySetArgs {
    /// The new X25519 public key; never a wallet key, never a secret.
    pub x25519: [u8; 32],
}

/// A wallet publishes its X25519 key, or rotates it. Works while paused: rotating away from a
/// compromised key limits harm, and the key touches no one else's state.
#[event_cpi]
#[derive(Accounts)]
pub struct EncryptionKeySet<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,
    /// CHECK: the wallet's key account (seeds checked here): created when vacant, otherwise
    /// loaded as an `EncryptionKey` in the handler.
    #[account(
        mut,
        seeds = [ENCRYPTION_KEY_SEED, wallet.key().as_ref()],
        bump,
    )]
    pub encryption_key: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> EncryptionKeySet<'info> {
    /// A usable key (`logic::keys`), and on rotation a different one.
    pub fn validate(&self, args: &EncryptionKeySetArgs) -> Result<()> {
        require!(
            is_usable_x25519(&args.x25519),
            CareledgerError::UnusableEncryptionKey
        );
        if let Some(key) = self.stored_key()? {
            require!(
                key.x25519 != args.x25519,
                CareledgerError::EncryptionKeyUnchanged
            );
        }
        Ok(())
    }

    /// The wallet's key as stored, `None` before its first.
    fn stored_key(&self) -> Result<Option<EncryptionKey>> {
        let info = self.encryption_key.to_account_info();
        if is_vacant(&info) {
            return Ok(None);
        }
        require_keys_eq!(*info.owner, crate::ID, CareledgerError::InvariantViolated);
        let key = EncryptionKey::try_deserialize(&mut &info.try_borrow_data()?[..])?;
        require_keys_eq!(
            key.wallet,
            self.wallet.key(),
            CareledgerError::InvariantViolated
        );
        Ok(Some(key))
    }

    pub fn handler(ctx: Context<Self>, args: EncryptionKeySetArgs) -> Result<()> {
        let at = now()?;
        let wallet = ctx.accounts.wallet.key();
        let info = ctx.accounts.encryption_key.to_account_info();
        let (previous, key_version) = match ctx.accounts.stored_key()? {
            None => {
                let key = EncryptionKey {
                    wallet,
                    x25519: args.x25519,
                    key_version: 1,
                    set_at: at,
                    bump: ctx.bumps.encryption_key,
                };
                key.invariant()?;
                let bump = [ctx.bumps.encryption_key];
                let seeds = EncryptionKey::seeds(&wallet, &bump);
                let a = &ctx.accounts;
                init_pda(
                    &a.wallet,
                    &a.encryption_key,
                    &a.system_program,
                    &seeds,
                    &key,
                    CareledgerError::InvariantViolated,
                )?;
                ([0u8; 32], 1)
            }
            Some(key) => {
                let mut key = Box::new(key);
                let previous = key.x25519;
                key.x25519 = args.x25519;
                key.key_version = key
                    .key_version
                    .checked_add(1)
                    .ok_or(CareledgerError::MathOverflow)?;
                key.set_at = at;
                key.invariant()?;
                write_account(&info, &*key)?;
                (previous, key.key_version)
            }
        };
        let event = KeySetEvent {
            wallet,
            key_account: info.key(),
            x25519: args.x25519,
            previous,
            key_version,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
