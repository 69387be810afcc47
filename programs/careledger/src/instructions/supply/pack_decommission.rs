use crate::constants::{CONFIG_ADDRESS, PACK_MAP_HEADER, PACK_SEED, UNDO_WINDOW_SECS};
use crate::create::{init_pda, is_vacant, write_account};
use crate::errors::CareledgerError;
use crate::events::{PackStatusChanged, SuspectPack};
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::supply::{
    in_custody, is_decommissioned, set_decommissioned, transition, verify_pack, Commitment,
    PackAction, TransitionContext,
};
use crate::state::{Batch, Config, PackRecord, PackState, Provider, Shipment};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PackDecommissionArgs {
    /// The pack's position in the batch's tree.
    pub index: u32,
    /// The inactive state: `Supplied` when a pharmacy dispenses it.
    pub state: PackState,
    /// `logic::supply::pack_secret` of the pack (its salt from the manifest and its serial).
    pub pack_secret: [u8; 32],
    /// Siblings from the leaf up: exactly the batch's depth.
    pub proof: Vec<[u8; 32]>,
}

/// A verified supply-chain party takes an active pack out of circulation: it proves the pack
/// belongs to the batch with a Merkle proof, its status bit is set, and a `PackRecord` keeps who
/// did it and when for the 10-day undo. Only a holder of the batch may (its manufacturer, or the
/// receiver of a shipment of it, passed as `custody`). A pack that is no longer active, or an
/// active one presented by a party outside the batch's recorded custody, is not changed: the
/// attempt succeeds as a `SuspectPack` report (a cloned serial, or a pack off its chain), so it
/// is on record.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: PackDecommissionArgs)]
pub struct PackDecommission<'info> {
    #[account(mut)]
    pub actor: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = actor_provider.wallet == actor.key() @ CareledgerError::MissingRole)]
    pub actor_provider: Account<'info, Provider>,
    #[account(mut)]
    pub batch: Box<Account<'info, Batch>>,
    /// CHECK: the batch's own status map (address checked against the batch, which recorded it at
    /// commissioning, when it was checked to be careledger's).
    #[account(mut, address = batch.status_map @ CareledgerError::PackMapMismatch)]
    pub status_map: UncheckedAccount<'info>,
    /// CHECK: the pack's record address (seeds checked here): created when the pack leaves
    /// Active, read as a `PackRecord` when it is already decommissioned.
    #[account(mut, seeds = [PACK_SEED, batch.key().as_ref(), &args.index.to_le_bytes()], bump)]
    pub pack_record: UncheckedAccount<'info>,
    /// A shipment of this batch the actor received; none for the manufacturer.
    pub custody: Option<Account<'info, Shipment>>,
    pub system_program: Program<'info, System>,
}

/// What a decommission finds before it changes anything: the pack's record and state, what the
/// rules make of the request, and whether the actor is in the batch's recorded custody.
struct Assessment {
    record: Option<PackRecord>,
    current: PackState,
    outcome: std::result::Result<PackState, CareledgerError>,
    holds: bool,
}

impl<'info> PackDecommission<'info> {
    /// A verified supply-chain party, a valid proof of the pack, and a request the rules allow;
    /// a pack no longer active is not refused but reported suspect (the handler).
    pub fn validate(&self, args: &PackDecommissionArgs) -> Result<()> {
        match self.assess(args, now()?)?.outcome {
            Err(CareledgerError::PackNotActive) | Ok(_) => Ok(()),
            Err(refusal) => Err(refusal.into()),
        }
    }

    fn assess(&self, args: &PackDecommissionArgs, at: i64) -> Result<Assessment> {
        let actor = self.actor.key();
        let provider = &self.actor_provider;
        check_provider(provider, at).map_err(CareledgerError::from)?;
        let batch_key = self.batch.key();
        let batch = &self.batch;
        let commitment = Commitment {
            batch: &batch_key,
            root: &batch.merkle_root,
            depth: batch.depth,
            capacity: batch.capacity,
        };
        verify_pack(&commitment, args.index, &args.pack_secret, &args.proof)?;
        let decommissioned = {
            let map = self.status_map.try_borrow_data()?;
            is_decommissioned(&map[PACK_MAP_HEADER..], args.index)
        };
        let record_info = self.pack_record.to_account_info();
        let record = if decommissioned && !is_vacant(&record_info) {
            require_keys_eq!(
                *record_info.owner,
                crate::ID,
                CareledgerError::InvariantViolated
            );
            Some(PackRecord::try_deserialize(
                &mut &record_info.try_borrow_data()?[..],
            )?)
        } else {
            None
        };
        // A set bit without a record is a supplied pack whose record was settled.
        let current = match (&record, decommissioned) {
            (Some(r), _) => r.state,
            (None, true) => PackState::Supplied,
            (None, false) => PackState::Active,
        };
        let rules = TransitionContext {
            by: actor,
            supply_roles: provider.supply_roles,
            batch_status: batch.status,
            expired: at >= batch.expires_at,
            now: at,
            decommissioned_by: record.as_ref().map(|r| (r.actor, r.decommissioned_at)),
            suspect_reports: record.as_ref().map_or(0, |r| r.suspect_reports),
        };
        let holds = in_custody(
            &batch_key,
            &batch.manufacturer,
            &actor,
            self.custody.as_deref(),
        );
        let outcome = transition(current, PackAction::Decommission(args.state), &rules);
        Ok(Assessment {
            record,
            current,
            outcome,
            holds,
        })
    }

    pub fn handler(ctx: Context<Self>, args: PackDecommissionArgs) -> Result<()> {
        let at = now()?;
        let actor = ctx.accounts.actor.key();
        let Assessment {
            mut record,
            current,
            outcome,
            holds,
        } = ctx.accounts.assess(&args, at)?;
        let batch_key = ctx.accounts.batch.key();
        let map_info = ctx.accounts.status_map.to_account_info();
        let record_info = ctx.accounts.pack_record.to_account_info();
        match (outcome, holds) {
            // met again after it left Active (a clone), or active but offered by a party the
            // batch's custody never reached: recorded, not changed
            (Err(CareledgerError::PackNotActive), _) | (Ok(_), false) => {
                // The pack's own count (which bars its undo for good) moves only on a report from
                // another holder of the batch: where a clone met in the recorded chain matters, and
                // by a party named in the chain. Anyone can replay a public proof, so an outsider's
                // report, or the actor's own second scan, only counts for the batch.
                let pack_reports = match record.as_mut() {
                    Some(r) if holds && r.actor != actor => {
                        r.suspect_reports = r.suspect_reports.saturating_add(1);
                        r.invariant()?;
                        write_account(&record_info, r)?;
                        r.suspect_reports
                    }
                    Some(r) => r.suspect_reports,
                    None => 0,
                };
                let batch = &mut ctx.accounts.batch;
                batch.suspect_reports = batch
                    .suspect_reports
                    .checked_add(1)
                    .ok_or(CareledgerError::MathOverflow)?;
                batch.invariant()?;
                let event = SuspectPack {
                    batch: batch_key,
                    index: args.index,
                    reporter: actor,
                    attempted_state: args.state,
                    state: current,
                    pack_reports,
                    batch_reports: batch.suspect_reports,
                    at,
                };
                emit_cpi!(event);
                Ok(())
            }
            (Err(refusal), _) => Err(refusal.into()),
            (Ok(new_state), true) => {
                {
                    let mut map = map_info.try_borrow_mut_data()?;
                    require!(
                        set_decommissioned(&mut map[PACK_MAP_HEADER..], args.index, true),
                        CareledgerError::PackIndexOutOfRange
                    );
                }
                let pack = PackRecord {
                    batch: batch_key,
                    index: args.index,
                    state: new_state,
                    actor,
                    decommissioned_at: at,
                    suspect_reports: 0,
                    bump: ctx.bumps.pack_record,
                };
                pack.invariant()?;
                let index = args.index.to_le_bytes();
                let bump = [ctx.bumps.pack_record];
                let seeds = PackRecord::seeds(&batch_key, &index, &bump);
                let a = &ctx.accounts;
                init_pda(
                    &a.actor,
                    &a.pack_record,
                    &a.system_program,
                    &seeds,
                    &pack,
                    CareledgerError::InvariantViolated,
                )?;
                let batch = &mut ctx.accounts.batch;
                batch.decommissioned = batch
                    .decommissioned
                    .checked_add(1)
                    .ok_or(CareledgerError::MathOverflow)?;
                batch.invariant()?;
                let undo_until = if new_state.is_final() {
                    0
                } else {
                    at.saturating_add(UNDO_WINDOW_SECS)
                };
                let event = PackStatusChanged {
                    batch: batch_key,
                    index: args.index,
                    old_state: PackState::Active,
                    new_state,
                    actor,
                    undo_until,
                    decommissioned: batch.decommissioned,
                    at,
                };
                emit_cpi!(event);
                Ok(())
            }
        }
    }
}
