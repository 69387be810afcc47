use crate::constants::{CONFIG_ADDRESS, PACK_SEED, UNDO_WINDOW_SECS};
use crate::errors::CareledgerError;
use crate::events::PackRecordSettled;
use crate::instructions::now;
use crate::state::{Batch, Config, PackRecord, PackState};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PackSettleArgs {
    pub index: u32,
}

/// Anyone closes the record of a supplied pack once its undo window has passed, and the premises
/// that dispensed it gets its rent back. The batch's status bit keeps saying "decommissioned",
/// and a bit without a record reads as supplied, so the pack costs the chain one bit for good.
/// A record in any other state stays. Suspect reports do not keep it (anyone with a supply role
/// can replay a dispensed pack's proof for free, and would lock the pharmacy's rent): the
/// `SuspectPack` events and the batch's count keep the evidence.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: PackSettleArgs)]
pub struct PackSettle<'info> {
    pub by: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    pub batch: Box<Account<'info, Batch>>,
    #[account(
        mut,
        seeds = [PACK_SEED, batch.key().as_ref(), &args.index.to_le_bytes()],
        bump = pack_record.bump,
        close = actor,
    )]
    pub pack_record: Account<'info, PackRecord>,
    /// CHECK: only receives the rent; it must be the record's actor (checked here).
    #[account(mut, address = pack_record.actor @ CareledgerError::WrongRentDestination)]
    pub actor: UncheckedAccount<'info>,
}

impl<'info> PackSettle<'info> {
    /// A supplied pack whose undo window has passed.
    pub fn validate(&self, _args: &PackSettleArgs) -> Result<()> {
        let record = &self.pack_record;
        let window_passed = now()? > record.decommissioned_at.saturating_add(UNDO_WINDOW_SECS);
        require!(
            record.state == PackState::Supplied && window_passed,
            CareledgerError::PackRecordNotSettleable
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: PackSettleArgs) -> Result<()> {
        let at = now()?;
        let record = &ctx.accounts.pack_record;
        let event = PackRecordSettled {
            batch: ctx.accounts.batch.key(),
            index: args.index,
            actor: record.actor,
            by: ctx.accounts.by.key(),
            lamports: record.to_account_info().lamports(),
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
