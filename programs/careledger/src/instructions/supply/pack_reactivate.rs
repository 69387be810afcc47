use crate::constants::{CONFIG_ADDRESS, PACK_MAP_HEADER, PACK_SEED};
use crate::errors::CareledgerError;
use crate::events::PackStatusChanged;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::supply::{set_decommissioned, transition, PackAction, TransitionContext};
use crate::state::{Batch, Config, PackRecord, PackState, Provider};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PackReactivateArgs {
    pub index: u32,
}

/// The premises that decommissioned a pack undoes it within 10 days (EU FMD art. 13): the pack is
/// active again, and its record is closed with the rent back to that premises.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: PackReactivateArgs)]
pub struct PackReactivate<'info> {
    #[account(mut)]
    pub actor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = actor_provider.wallet == actor.key() @ CareledgerError::MissingRole)]
    pub actor_provider: Account<'info, Provider>,
    #[account(mut)]
    pub batch: Box<Account<'info, Batch>>,
    /// CHECK: the batch's own status map (address checked against the batch).
    #[account(mut, address = batch.status_map @ CareledgerError::PackMapMismatch)]
    pub status_map: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [PACK_SEED, batch.key().as_ref(), &args.index.to_le_bytes()],
        bump = pack_record.bump,
        close = actor,
    )]
    pub pack_record: Account<'info, PackRecord>,
}

impl<'info> PackReactivate<'info> {
    /// A verified supply-chain party, and the rules' consent to the undo.
    pub fn validate(&self, _args: &PackReactivateArgs) -> Result<()> {
        self.new_state(now()?).map(|_| ())
    }

    /// The pack's state once reactivated.
    fn new_state(&self, at: i64) -> Result<PackState> {
        let provider = &self.actor_provider;
        check_provider(provider, at).map_err(CareledgerError::from)?;
        let record = &self.pack_record;
        let batch = &self.batch;
        let rules = TransitionContext {
            by: self.actor.key(),
            supply_roles: provider.supply_roles,
            batch_status: batch.status,
            expired: at >= batch.expires_at,
            now: at,
            decommissioned_by: Some((record.actor, record.decommissioned_at)),
            suspect_reports: record.suspect_reports,
        };
        // Also guarantees the rent goes back to the premises that paid it (`close = actor`).
        Ok(transition(record.state, PackAction::Reactivate, &rules)?)
    }

    pub fn handler(ctx: Context<Self>, args: PackReactivateArgs) -> Result<()> {
        let at = now()?;
        let actor = ctx.accounts.actor.key();
        let new_state = ctx.accounts.new_state(at)?;
        let old_state = ctx.accounts.pack_record.state;
        {
            let info = ctx.accounts.status_map.to_account_info();
            let mut map = info.try_borrow_mut_data()?;
            require!(
                set_decommissioned(&mut map[PACK_MAP_HEADER..], args.index, false),
                CareledgerError::PackIndexOutOfRange
            );
        }
        let batch_key = ctx.accounts.batch.key();
        let batch = &mut ctx.accounts.batch;
        batch.decommissioned = batch
            .decommissioned
            .checked_sub(1)
            .ok_or(CareledgerError::InvariantViolated)?;
        batch.invariant()?;
        let event = PackStatusChanged {
            batch: batch_key,
            index: args.index,
            old_state,
            new_state,
            actor,
            undo_until: 0,
            decommissioned: batch.decommissioned,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
