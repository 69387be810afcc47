use crate::constants::{BATCH_SEED, CONFIG_ADDRESS, PACK_MAP_HEADER, PACK_MAP_MAGIC, PRODUCT_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::BatchCommissioned;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::supply::{pack_map_len, validate_batch_shape, validate_lot};
use crate::state::{Batch, BatchStatus, Config, Product, Provider, SUPPLY_MANUFACTURER};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct BatchCommissionArgs {
    pub gtin_hash: [u8; 32],
    /// The lot (AI 10): 1..=20 characters of GS1 set 82.
    pub lot: Vec<u8>,
    /// Unix seconds: the first second after the expiry day (AI 17), UTC.
    pub expires_at: i64,
    /// Root of the tree of the packs' leaves (`logic::supply::leaf_hash`) in index order.
    pub merkle_root: [u8; 32],
    pub depth: u8,
    /// Pack slots committed: indices `0..capacity`.
    pub capacity: u32,
}

/// The manufacturer commissions a batch of its product: the commitment to the packs goes into the
/// batch, and the status map (an account it created in the same transaction at its full size,
/// owned by careledger and all zero) gets its header, every pack active.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: BatchCommissionArgs)]
pub struct BatchCommission<'info> {
    #[account(mut)]
    pub manufacturer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = manufacturer_provider.wallet == manufacturer.key() @ CareledgerError::MissingRole)]
    pub manufacturer_provider: Account<'info, Provider>,
    #[account(
        seeds = [PRODUCT_SEED, args.gtin_hash.as_ref()],
        bump = product.bump,
        constraint = product.manufacturer == manufacturer.key() @ CareledgerError::NotProductManufacturer,
    )]
    pub product: Account<'info, Product>,
    /// CHECK: the batch's address `[BATCH_SEED, gtin_hash, lot]`, derived in `validate` once
    /// the lot is known to be a valid seed (a seed constraint would abort on a lot over 32 bytes
    /// instead of refusing it); created in the handler, which refuses an existing account.
    #[account(mut)]
    pub batch: UncheckedAccount<'info>,
    /// CHECK: must sign (so nobody can take over a map another manufacturer created), be owned by
    /// careledger and be all zero at exactly `pack_map_len(capacity)` bytes: checked in `validate`.
    #[account(mut, signer @ CareledgerError::PackMapInvalid, owner = crate::ID @ CareledgerError::PackMapInvalid)]
    pub status_map: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// Checks the terms and the map, and returns the batch address's canonical bump.
impl<'info> BatchCommission<'info> {
    pub fn validate(&self, args: &BatchCommissionArgs) -> Result<()> {
        self.checked_bump(args, now()?).map(|_| ())
    }

    /// Every check of the new batch, in the order their errors are reported; the batch
    /// address's bump.
    fn checked_bump(&self, args: &BatchCommissionArgs, now: i64) -> Result<u8> {
        require!(args.gtin_hash != [0; 32], CareledgerError::InvalidGtinHash);
        validate_lot(&args.lot)?;
        let (address, bump) = Pubkey::find_program_address(
            &[BATCH_SEED, args.gtin_hash.as_ref(), args.lot.as_slice()],
            &crate::ID,
        );
        require_keys_eq!(
            self.batch.key(),
            address,
            CareledgerError::BatchAddressMismatch
        );
        require!(args.expires_at > now, CareledgerError::InvalidBatchExpiry);
        require!(
            args.merkle_root != [0; 32],
            CareledgerError::InvalidMerkleRoot
        );
        validate_batch_shape(args.depth, args.capacity)?;
        let provider = &self.manufacturer_provider;
        check_provider(provider, now).map_err(CareledgerError::from)?;
        require!(
            provider.has_supply_role(SUPPLY_MANUFACTURER),
            CareledgerError::MissingRole
        );
        let map = self.status_map.try_borrow_data()?;
        // A fresh map only: its header (and so its bits) has never been written. The bits are not
        // scanned (that would be a loop over up to 256 KiB); a new account is zeroed by the runtime.
        require!(
            map.len() == pack_map_len(args.capacity)
                && map[..PACK_MAP_HEADER] == [0; PACK_MAP_HEADER],
            CareledgerError::PackMapInvalid
        );
        Ok(bump)
    }

    pub fn handler(ctx: Context<Self>, args: BatchCommissionArgs) -> Result<()> {
        let at = now()?;
        let bump = ctx.accounts.checked_bump(&args, at)?;
        let mut lot = [0u8; 20];
        lot[..args.lot.len()].copy_from_slice(&args.lot);
        let batch_key = ctx.accounts.batch.key();
        let status_map = ctx.accounts.status_map.key();
        let batch = Box::new(Batch {
            manufacturer: ctx.accounts.manufacturer.key(),
            gtin_hash: args.gtin_hash,
            lot,
            lot_len: u8::try_from(args.lot.len()).map_err(|_| CareledgerError::InvalidLot)?,
            expires_at: args.expires_at,
            merkle_root: args.merkle_root,
            depth: args.depth,
            capacity: args.capacity,
            status_map,
            status: BatchStatus::Active,
            commissioned_at: at,
            recalled_at: 0,
            recall_reason: 0,
            decommissioned: 0,
            suspect_reports: 0,
            bump,
            reserved: [0; 16],
        });
        batch.invariant()?;
        let bump = [bump];
        let seeds = Batch::seeds(&args.gtin_hash, &args.lot, &bump);
        let a = &ctx.accounts;
        init_pda(
            &a.manufacturer,
            &a.batch,
            &a.system_program,
            &seeds,
            &*batch,
            CareledgerError::BatchAlreadyCommissioned,
        )?;
        let (map_bytes, map_lamports) = {
            let info = a.status_map.to_account_info();
            let mut map = info.try_borrow_mut_data()?;
            map[..8].copy_from_slice(&PACK_MAP_MAGIC);
            map[8..PACK_MAP_HEADER].copy_from_slice(batch_key.as_ref());
            (
                u32::try_from(map.len()).map_err(|_| CareledgerError::PackMapInvalid)?,
                info.lamports(),
            )
        };
        let event = BatchCommissioned {
            batch: batch_key,
            product: a.product.key(),
            manufacturer: batch.manufacturer,
            gtin_hash: args.gtin_hash,
            lot: String::from_utf8(args.lot).map_err(|_| CareledgerError::InvalidLot)?,
            expires_at: args.expires_at,
            merkle_root: args.merkle_root,
            depth: args.depth,
            capacity: args.capacity,
            status_map,
            status_map_bytes: map_bytes,
            status_map_lamports: map_lamports,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
