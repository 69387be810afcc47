use crate::constants::{CONFIG_ADDRESS, SHIPMENT_SEED};
use crate::create::init_pda;
use crate::errors::CareledgerError;
use crate::events::ShipmentSent;
use crate::instructions::now;
use crate::logic::consent::check_provider;
use crate::logic::supply::in_custody;
use crate::state::{Batch, Config, Provider, Shipment, SUPPLY_ROLES_ALL};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ShipmentSendArgs {
    /// SHA-256 of the sender's EPCIS 2.0 document for this shipment (its shipping events).
    pub epcis_hash: [u8; 32],
    /// Packs shipped (at most the batch's capacity).
    pub quantity: u32,
}

/// A verified supply-chain party that holds a batch (its manufacturer, or the receiver of a
/// shipment of it, passed as `custody`) anchors a shipment of its packs to another one, so a
/// batch's shipment history is a chain of custody nobody outside it can add to.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: ShipmentSendArgs)]
pub struct ShipmentSend<'info> {
    #[account(mut)]
    pub sender: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(constraint = sender_provider.wallet == sender.key() @ CareledgerError::MissingRole)]
    pub sender_provider: Account<'info, Provider>,
    pub receiver_provider: Account<'info, Provider>,
    pub batch: Box<Account<'info, Batch>>,
    /// A shipment of this batch the sender received; none when the manufacturer ships.
    pub custody: Option<Account<'info, Shipment>>,
    /// CHECK: the shipment's address (seeds checked here); created in the handler, which refuses
    /// an existing account.
    #[account(mut, seeds = [SHIPMENT_SEED, sender.key().as_ref(), args.epcis_hash.as_ref()], bump)]
    pub shipment: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> ShipmentSend<'info> {
    /// Two verified supply-chain parties, a sender in the batch's custody, and a shipment that
    /// names its EPCIS document, a quantity the batch can hold and another party.
    pub fn validate(&self, args: &ShipmentSendArgs) -> Result<()> {
        let at = now()?;
        for party in [&self.sender_provider, &self.receiver_provider] {
            check_provider(party, at).map_err(CareledgerError::from)?;
            require!(
                party.supply_roles & SUPPLY_ROLES_ALL != 0,
                CareledgerError::MissingRole
            );
        }
        let sender = self.sender.key();
        require!(
            in_custody(
                &self.batch.key(),
                &self.batch.manufacturer,
                &sender,
                self.custody.as_deref()
            ),
            CareledgerError::NotInCustody
        );
        require!(
            args.epcis_hash != [0; 32]
                && args.quantity > 0
                && args.quantity <= self.batch.capacity
                && self.receiver_provider.wallet != sender,
            CareledgerError::ShipmentInvalid
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ShipmentSendArgs) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        let sender = a.sender.key();
        let receiver = a.receiver_provider.wallet;
        let shipment = Shipment {
            sender,
            receiver,
            batch: a.batch.key(),
            epcis_hash: args.epcis_hash,
            quantity: args.quantity,
            shipped_at: at,
            received_at: 0,
            receipt_hash: [0; 32],
            bump: ctx.bumps.shipment,
        };
        shipment.invariant()?;
        let bump = [ctx.bumps.shipment];
        let seeds = Shipment::seeds(&sender, &args.epcis_hash, &bump);
        init_pda(
            &a.sender,
            &a.shipment,
            &a.system_program,
            &seeds,
            &shipment,
            CareledgerError::ShipmentAlreadyAnchored,
        )?;
        let event = ShipmentSent {
            shipment: a.shipment.key(),
            sender,
            receiver,
            batch: shipment.batch,
            epcis_hash: args.epcis_hash,
            quantity: args.quantity,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
