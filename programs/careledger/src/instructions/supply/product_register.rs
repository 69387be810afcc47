use crate::constants::{CONFIG_ADDRESS, PRODUCT_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::ProductRegistered;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::state::{Config, Product, Provider, SUPPLY_MANUFACTURER};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProductRegisterArgs {
    /// `logic::supply::gtin_hash` of the product's GTIN-14.
    pub gtin_hash: [u8; 32],
}

/// The credential authority binds a GTIN to the one manufacturer that may commission it.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: ProductRegisterArgs)]
pub struct ProductRegister<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(
        address = CONFIG_ADDRESS,
        constraint = !config.paused @ CareledgerError::Paused,
        constraint = config.credential_authority == authority.key() @ CareledgerError::NotCredentialAuthority,
    )]
    pub config: Account<'info, Config>,
    pub manufacturer: Account<'info, Provider>,
    /// CHECK: the product's address (seeds checked here); created in the handler, which refuses
    /// an existing account.
    #[account(mut, seeds = [PRODUCT_SEED, args.gtin_hash.as_ref()], bump)]
    pub product: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> ProductRegister<'info> {
    /// A GTIN hash, and a verified manufacturer.
    pub fn validate(&self, args: &ProductRegisterArgs) -> Result<()> {
        require!(args.gtin_hash != [0; 32], CareledgerError::InvalidGtinHash);
        let manufacturer = &self.manufacturer;
        check_provider(manufacturer, now()?).map_err(CareledgerError::from)?;
        require!(
            manufacturer.has_supply_role(SUPPLY_MANUFACTURER),
            CareledgerError::MissingRole
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ProductRegisterArgs) -> Result<()> {
        let at = now()?;
        let manufacturer = &ctx.accounts.manufacturer;
        let product = Product {
            gtin_hash: args.gtin_hash,
            manufacturer: manufacturer.wallet,
            registered_by: ctx.accounts.authority.key(),
            registered_at: at,
            bump: ctx.bumps.product,
            reserved: [0; 8],
        };
        product.invariant()?;
        let bump = [ctx.bumps.product];
        let seeds = Product::seeds(&args.gtin_hash, &bump);
        let a = &ctx.accounts;
        init_pda(
            &a.authority,
            &a.product,
            &a.system_program,
            &seeds,
            &product,
            CareledgerError::ProductAlreadyRegistered,
        )?;
        let event = ProductRegistered {
            product: a.product.key(),
            gtin_hash: args.gtin_hash,
            manufacturer: product.manufacturer,
            authority: product.registered_by,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
