use crate::errors::CareledgerError;
use crate::events::BatchRecalled as BatchRecalledEvent;
use crate::instructions::now;
use crate::state::{Batch, BatchStatus};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BatchRecallArgs {
    /// `Recalled` or `Withdrawn`.
    pub status: BatchStatus,
    /// The manufacturer's own reason code (kept off chain with the recall notice).
    pub reason_code: u16,
}

/// The manufacturer recalls or withdraws a whole batch: final, and from then on every pack of it
/// fails verification. Works while the program is paused and whatever the manufacturer's standing:
/// taking a product off the market only limits harm.
#[event_cpi]
#[derive(Accounts)]
pub struct BatchRecall<'info> {
    pub manufacturer: Signer<'info>,
    #[account(
        mut,
        constraint = batch.manufacturer == manufacturer.key() @ CareledgerError::NotProductManufacturer,
    )]
    pub batch: Box<Account<'info, Batch>>,
}

impl<'info> BatchRecall<'info> {
    /// A final status, for a batch still active.
    pub fn validate(&self, args: &BatchRecallArgs) -> Result<()> {
        require!(
            args.status != BatchStatus::Active,
            CareledgerError::BatchAlreadyFinal
        );
        require!(
            self.batch.status == BatchStatus::Active,
            CareledgerError::BatchAlreadyFinal
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: BatchRecallArgs) -> Result<()> {
        let at = now()?;
        let batch_key = ctx.accounts.batch.key();
        let batch = &mut ctx.accounts.batch;
        batch.status = args.status;
        batch.recalled_at = at;
        batch.recall_reason = args.reason_code;
        batch.invariant()?;
        let event = BatchRecalledEvent {
            batch: batch_key,
            manufacturer: batch.manufacturer,
            status: args.status,
            reason_code: args.reason_code,
            active_packs: batch.capacity.saturating_sub(batch.decommissioned),
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
