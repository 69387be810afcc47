//! The drug supply chain: products, batches, pack status, recalls and shipments.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey};
//! use careledger_sdk::program::instructions::BatchRecallArgs;
//! use careledger_sdk::program::state::BatchStatus;
//!
//! let manufacturer = Pubkey::new_unique();
//! let batch = pda::batch(&[7; 32], b"LOT-42").0;
//! let recall = ix::BatchRecall {
//!     manufacturer,
//!     batch,
//!     args: BatchRecallArgs { status: BatchStatus::Recalled, reason_code: 3 },
//! }
//! .instruction();
//! assert_eq!(recall.accounts[1].pubkey, batch);
//! ```
use super::{build, ea, system};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use careledger::logic::supply::pack_map_len;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use solana_rent::Rent;

/// The credential authority registers the product `args.gtin_hash` to `manufacturer_wallet`.
#[derive(Clone, Debug)]
pub struct ProductRegister {
    pub authority: Pubkey,
    pub manufacturer_wallet: Pubkey,
    pub args: ProductRegisterArgs,
}

impl ProductRegister {
    pub fn instruction(self) -> Instruction {
        build(
            acc::ProductRegister {
                authority: self.authority,
                config: pda::config(),
                manufacturer: pda::provider(&self.manufacturer_wallet).0,
                product: pda::product(&self.args.gtin_hash).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ProductRegister { args: self.args },
        )
    }
}

/// The manufacturer commissions a lot. `status_map` is a fresh keypair's address: the
/// transaction must hold both `instructions()` and be signed by the manufacturer and that key.
#[derive(Clone, Debug)]
pub struct BatchCommission {
    pub manufacturer: Pubkey,
    pub status_map: Pubkey,
    pub args: BatchCommissionArgs,
}

impl BatchCommission {
    /// The batch's address.
    pub fn batch(&self) -> Pubkey {
        pda::batch(&self.args.gtin_hash, &self.args.lot).0
    }

    /// The status map's size in bytes and its rent-exempt balance in lamports.
    pub fn status_map_size(&self) -> (usize, u64) {
        let len = pack_map_len(self.args.capacity);
        (len, Rent::default().minimum_balance(len))
    }

    /// Creating the status map (owned by careledger, at full size, all zero), then commissioning.
    pub fn instructions(self) -> [Instruction; 2] {
        let (len, lamports) = self.status_map_size();
        let create = solana_system_interface::instruction::create_account(
            &self.manufacturer,
            &self.status_map,
            lamports,
            len as u64,
            &careledger::ID,
        );
        [create, self.instruction()]
    }

    /// The commission alone (the status map must already exist, all zero and owned by careledger).
    pub fn instruction(self) -> Instruction {
        let batch = self.batch();
        build(
            acc::BatchCommission {
                manufacturer: self.manufacturer,
                config: pda::config(),
                manufacturer_provider: pda::provider(&self.manufacturer).0,
                product: pda::product(&self.args.gtin_hash).0,
                batch,
                status_map: self.status_map,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::BatchCommission { args: self.args },
        )
    }
}

/// A supply-chain party (`actor`, signing and paying the pack record's rent) decommissions pack
/// `args.index` of `batch`, whose status map is `status_map`. `custody` is a shipment of the
/// batch the actor received (none for the manufacturer); without it an active pack is only
/// reported suspect.
#[derive(Clone, Debug)]
pub struct PackDecommission {
    pub actor: Pubkey,
    pub batch: Pubkey,
    pub status_map: Pubkey,
    pub custody: Option<Pubkey>,
    pub args: PackDecommissionArgs,
}

impl PackDecommission {
    pub fn instruction(self) -> Instruction {
        build(
            acc::PackDecommission {
                actor: self.actor,
                config: pda::config(),
                actor_provider: pda::provider(&self.actor).0,
                batch: self.batch,
                status_map: self.status_map,
                pack_record: pda::pack_record(&self.batch, self.args.index).0,
                custody: self.custody,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PackDecommission { args: self.args },
        )
    }
}

/// The premises that decommissioned pack `args.index` sets it active again.
#[derive(Clone, Debug)]
pub struct PackReactivate {
    pub actor: Pubkey,
    pub batch: Pubkey,
    pub status_map: Pubkey,
    pub args: PackReactivateArgs,
}

impl PackReactivate {
    pub fn instruction(self) -> Instruction {
        build(
            acc::PackReactivate {
                actor: self.actor,
                config: pda::config(),
                actor_provider: pda::provider(&self.actor).0,
                batch: self.batch,
                status_map: self.status_map,
                pack_record: pda::pack_record(&self.batch, self.args.index).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PackReactivate { args: self.args },
        )
    }
}

/// Anyone (`by`) settles a supplied pack's record; the rent goes back to `actor`, who dispensed it.
#[derive(Clone, Debug)]
pub struct PackSettle {
    pub by: Pubkey,
    pub batch: Pubkey,
    pub actor: Pubkey,
    pub args: PackSettleArgs,
}

impl PackSettle {
    pub fn instruction(self) -> Instruction {
        build(
            acc::PackSettle {
                by: self.by,
                config: pda::config(),
                batch: self.batch,
                pack_record: pda::pack_record(&self.batch, self.args.index).0,
                actor: self.actor,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PackSettle { args: self.args },
        )
    }
}

/// The batch's manufacturer recalls or withdraws it.
#[derive(Clone, Debug)]
pub struct BatchRecall {
    pub manufacturer: Pubkey,
    pub batch: Pubkey,
    pub args: BatchRecallArgs,
}

impl BatchRecall {
    pub fn instruction(self) -> Instruction {
        build(
            acc::BatchRecall {
                manufacturer: self.manufacturer,
                batch: self.batch,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::BatchRecall { args: self.args },
        )
    }
}

/// `sender` anchors a shipment of `batch`'s packs to `receiver` (wallets). `custody` is a
/// shipment of the batch the sender received; none when the manufacturer ships.
#[derive(Clone, Debug)]
pub struct ShipmentSend {
    pub sender: Pubkey,
    pub receiver: Pubkey,
    pub batch: Pubkey,
    pub custody: Option<Pubkey>,
    pub args: ShipmentSendArgs,
}

impl ShipmentSend {
    pub fn shipment(&self) -> Pubkey {
        pda::shipment(&self.sender, &self.args.epcis_hash).0
    }

    pub fn instruction(self) -> Instruction {
        let shipment = self.shipment();
        build(
            acc::ShipmentSend {
                sender: self.sender,
                config: pda::config(),
                sender_provider: pda::provider(&self.sender).0,
                receiver_provider: pda::provider(&self.receiver).0,
                batch: self.batch,
                custody: self.custody,
                shipment,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ShipmentSend { args: self.args },
        )
    }
}

/// The receiver acknowledges `shipment`.
#[derive(Clone, Debug)]
pub struct ShipmentReceive {
    pub receiver: Pubkey,
    pub shipment: Pubkey,
    pub args: ShipmentReceiveArgs,
}

impl ShipmentReceive {
    pub fn instruction(self) -> Instruction {
        build(
            acc::ShipmentReceive {
                receiver: self.receiver,
                config: pda::config(),
                shipment: self.shipment,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ShipmentReceive { args: self.args },
        )
    }
}
