use crate::constants::CONFIG_ADDRESS;
use crate::errors::CareledgerError;
use crate::events::ShipmentReceived;
use crate::instructions::now;
use crate::state::{Config, Shipment};
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ShipmentReceiveArgs {
    /// SHA-256 of the receiver's EPCIS 2.0 document (its receiving events).
    pub receipt_hash: [u8; 32],
}

/// The receiver acknowledges a shipment, once.
#[event_cpi]
#[derive(Accounts)]
pub struct ShipmentReceive<'info> {
    pub receiver: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(
        mut,
        constraint = shipment.receiver == receiver.key() @ CareledgerError::NotShipmentReceiver,
    )]
    pub shipment: Account<'info, Shipment>,
}

impl<'info> ShipmentReceive<'info> {
    /// A receipt hash, for a shipment not yet received.
    pub fn validate(&self, args: &ShipmentReceiveArgs) -> Result<()> {
        require!(
            args.receipt_hash != [0; 32],
            CareledgerError::ShipmentInvalid
        );
        require!(
            self.shipment.received_at == 0,
            CareledgerError::ShipmentAlreadyReceived
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ShipmentReceiveArgs) -> Result<()> {
        let at = now()?;
        let shipment_key = ctx.accounts.shipment.key();
        let shipment = &mut ctx.accounts.shipment;
        shipment.received_at = at;
        shipment.receipt_hash = args.receipt_hash;
        shipment.invariant()?;
        let event = ShipmentReceived {
            shipment: shipment_key,
            sender: shipment.sender,
            receiver: shipment.receiver,
            batch: shipment.batch,
            epcis_hash: shipment.epcis_hash,
            receipt_hash: args.receipt_hash,
            quantity: shipment.quantity,
            at,
        };
        emit_cpi!(event);
        Ok(())
    }
}
