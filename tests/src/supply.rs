//! The supply-chain scene the tests, the demo and the benchmark share: a manufacturer whose
//! product the credential authority registered, a wholesaler and a pharmacy, and a commissioned
//! batch with its manifest.
use crate::{Env, DAY};
use careledger_sdk::ix;
use careledger_sdk::program::instructions::{
    PackDecommissionArgs, ProductRegisterArgs, ProviderRegisterArgs, ProviderVerifyArgs,
};
use careledger_sdk::program::state::{
    PackState, SUPPLY_DISPENSER, SUPPLY_MANUFACTURER, SUPPLY_WHOLESALER,
};
use careledger_sdk::{SdkError, TxOutcome};
use careledger_supply::gs1::{Gs1Date, PackIdentifier};
use careledger_supply::manifest::{Manifest, PackTree};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;

/// A GTIN-14 with a valid check digit (GS1's own example number).
pub const GTIN: &str = "09506000134352";

impl Env {
    /// A provider registered and verified with supply roles only.
    pub async fn supply_party(&self, supply_roles: u8) -> Keypair {
        let party = self.actor().await;
        let args = ProviderRegisterArgs {
            roles: 0,
            supply_roles,
            credential_ref: [0x22; 32],
        };
        self.send(
            ix::ProviderRegister {
                wallet: party.pubkey(),
                args,
            }
            .instruction(),
            &[&party],
        )
        .await
        .expect("supply party register");
        let args = ProviderVerifyArgs {
            roles: 0,
            supply_roles,
            credential_expires_at: self.now().await + 365 * DAY,
            credential_ref: [0; 32],
        };
        let verify = ix::ProviderVerify {
            authority: self.credential_authority.pubkey(),
            provider_wallet: party.pubkey(),
            args,
        }
        .instruction();
        self.send(verify, &[&self.credential_authority])
            .await
            .expect("supply party verify");
        party
    }
}

/// One commissioned batch and what is needed to act on it.
#[derive(Clone, Debug)]
pub struct SupplyBatch {
    pub manifest: Manifest,
    pub tree: PackTree,
    pub status_map: Pubkey,
    pub serials: Vec<String>,
    /// The commissioning transaction.
    pub commissioned: TxOutcome,
    /// Who holds the batch through which received shipment (wallet to shipment address); the
    /// manufacturer needs none.
    pub custody: std::collections::BTreeMap<Pubkey, Pubkey>,
}

impl SupplyBatch {
    pub fn batch(&self) -> Pubkey {
        self.manifest.batch
    }

    /// The slot (tree index) of serial `i`: the manifest shuffles serials over the slots.
    pub fn index(&self, i: usize) -> u32 {
        self.manifest
            .find(&self.pack(i))
            .expect("pack in manifest")
            .0
    }

    /// A slot no serial fills (padding), if the batch has one.
    pub fn decoy(&self) -> u32 {
        let used: Vec<u32> = (0..self.serials.len()).map(|i| self.index(i)).collect();
        (0..self.manifest.capacity())
            .find(|slot| !used.contains(slot))
            .expect("a padded batch")
    }

    /// The pack identifier of serial `i`, as a scanner reads it.
    pub fn pack(&self, i: usize) -> PackIdentifier {
        self.pack_with_serial(&self.serials[i])
    }

    pub fn pack_with_serial(&self, serial: &str) -> PackIdentifier {
        PackIdentifier {
            gtin: self.manifest.gtin,
            expiry: self.manifest.expiry,
            lot: self.manifest.lot.clone(),
            serial: serial.to_string(),
            nhrn: None,
        }
    }

    /// The decommission of serial `i` into `state`, by `actor`, with its real proof.
    pub fn decommission(&self, actor: &Pubkey, i: usize, state: PackState) -> Instruction {
        let (index, secret) = self.manifest.find(&self.pack(i)).expect("pack in manifest");
        self.decommission_raw(actor, index, secret, self.tree.proof(index), state)
    }

    /// The premises `actor` undoes its decommission of slot `index`.
    pub fn reactivate(&self, actor: &Pubkey, index: u32) -> Instruction {
        ix::PackReactivate {
            actor: *actor,
            batch: self.batch(),
            status_map: self.status_map,
            args: careledger_sdk::program::instructions::PackReactivateArgs { index },
        }
        .instruction()
    }

    /// `by` settles slot `index`'s record; its rent goes back to `actor`, who dispensed it.
    pub fn settle(&self, by: &Pubkey, actor: &Pubkey, index: u32) -> Instruction {
        ix::PackSettle {
            by: *by,
            batch: self.batch(),
            actor: *actor,
            args: careledger_sdk::program::instructions::PackSettleArgs { index },
        }
        .instruction()
    }

    pub fn decommission_raw(
        &self,
        actor: &Pubkey,
        index: u32,
        pack_secret: [u8; 32],
        proof: Vec<[u8; 32]>,
        state: PackState,
    ) -> Instruction {
        ix::PackDecommission {
            actor: *actor,
            batch: self.batch(),
            status_map: self.status_map,
            custody: self.custody.get(actor).copied(),
            args: PackDecommissionArgs {
                index,
                state,
                pack_secret,
                proof,
            },
        }
        .instruction()
    }
}

pub struct SupplyScene {
    pub env: Env,
    pub manufacturer: Keypair,
    pub wholesaler: Keypair,
    pub pharmacy: Keypair,
    pub batch: SupplyBatch,
}

impl SupplyScene {
    /// `count` packs (serials `SN000000`, ...) padded to a multiple of `pad_to`, expiring
    /// `expiry_days` from now (rounded to the end of that month, as packs print it).
    pub async fn new(count: usize, pad_to: u32) -> SupplyScene {
        // a GTIN registers once per cluster and a batch's address is its GTIN and lot: on a
        // localnet each scene has one of its own (no other cluster changes)
        crate::prefer_own_cluster().await;
        let env = Env::new().await;
        let manufacturer = env.supply_party(SUPPLY_MANUFACTURER).await;
        let wholesaler = env.supply_party(SUPPLY_WHOLESALER).await;
        let pharmacy = env.supply_party(SUPPLY_DISPENSER).await;
        let scene_env = env;
        let gtin = careledger_supply::gs1::Gtin::parse(GTIN).expect("gtin");
        let hash = careledger_supply::manifest::gtin_hash_of(&gtin);
        scene_env
            .send(
                ix::ProductRegister {
                    authority: scene_env.credential_authority.pubkey(),
                    manufacturer_wallet: manufacturer.pubkey(),
                    args: ProductRegisterArgs { gtin_hash: hash },
                }
                .instruction(),
                &[&scene_env.credential_authority],
            )
            .await
            .expect("product register");
        let mut batch = commission_batch(&scene_env, &manufacturer, "LOT-2026-A", count, pad_to)
            .await
            .expect("commission");
        // the lot's chain of custody: manufacturer -> wholesaler -> pharmacy
        let to_wholesaler = ship(&scene_env, &batch, &manufacturer, &wholesaler, [0xa1; 32])
            .await
            .expect("ship to the wholesaler");
        batch.custody.insert(wholesaler.pubkey(), to_wholesaler);
        let to_pharmacy = ship(&scene_env, &batch, &wholesaler, &pharmacy, [0xa2; 32])
            .await
            .expect("ship to the pharmacy");
        batch.custody.insert(pharmacy.pubkey(), to_pharmacy);
        SupplyScene {
            env: scene_env,
            manufacturer,
            wholesaler,
            pharmacy,
            batch,
        }
    }

    /// Plans and commissions a lot of this scene's product.
    pub async fn commission(
        &self,
        lot: &str,
        count: usize,
        pad_to: u32,
    ) -> Result<SupplyBatch, SdkError> {
        commission_batch(&self.env, &self.manufacturer, lot, count, pad_to).await
    }

    /// The pharmacy dispenses serial `i`.
    pub async fn dispense(&self, i: usize) -> Result<TxOutcome, SdkError> {
        let ix = self
            .batch
            .decommission(&self.pharmacy.pubkey(), i, PackState::Supplied);
        self.env.send(ix, &[&self.pharmacy]).await
    }

    /// `verify(pack)` of serial `serial` against the chain, now.
    pub async fn verify(&self, serial: &str) -> careledger_supply::manifest::Verification {
        careledger_supply::manifest::verify(
            self.env.client.transport(),
            &self.batch.pack_with_serial(serial),
            &self.batch.manifest,
            &self.batch.tree,
        )
        .await
        .expect("verify")
    }
}

/// An expiry far enough ahead for any scenario: December 2035, end of month (DD = 00), inside
/// GS1's 2-digit-year window.
pub fn far_expiry() -> Gs1Date {
    Gs1Date {
        year: 2035,
        month: 12,
        day: 0,
    }
}

/// Plans and commissions a lot of the scene's product (`GTIN`) as `manufacturer`.
pub async fn commission_batch(
    env: &Env,
    manufacturer: &Keypair,
    lot: &str,
    count: usize,
    pad_to: u32,
) -> Result<SupplyBatch, SdkError> {
    let serials: Vec<String> = (0..count).map(|i| format!("SN{i:06}")).collect();
    let gtin = careledger_supply::gs1::Gtin::parse(GTIN).expect("gtin");
    let map = Keypair::new();
    let manifest = Manifest::plan(&gtin, lot, far_expiry(), &serials, map.pubkey(), pad_to)
        .map_err(|e| match e {
            careledger_supply::SupplyError::InvalidInput(why) => SdkError::InvalidInput(why),
            other => SdkError::InvalidInput(other.to_string()),
        })?;
    let tree = manifest.tree();
    let commission = ix::BatchCommission {
        manufacturer: manufacturer.pubkey(),
        status_map: map.pubkey(),
        args: manifest.commission_args(&tree),
    };
    let commissioned = env
        .send_all(&commission.instructions(), &[manufacturer, &map])
        .await?;
    Ok(SupplyBatch {
        manifest,
        tree,
        status_map: map.pubkey(),
        serials,
        commissioned,
        custody: Default::default(),
    })
}

/// `from` (the manufacturer, or a holder through `batch.custody`) ships the whole batch to `to`,
/// who acknowledges it; returns the shipment's address.
pub async fn ship(
    env: &Env,
    batch: &SupplyBatch,
    from: &Keypair,
    to: &Keypair,
    epcis_hash: [u8; 32],
) -> Result<Pubkey, SdkError> {
    let send = ix::ShipmentSend {
        sender: from.pubkey(),
        receiver: to.pubkey(),
        batch: batch.batch(),
        custody: batch.custody.get(&from.pubkey()).copied(),
        args: careledger_sdk::program::instructions::ShipmentSendArgs {
            epcis_hash,
            quantity: batch.manifest.capacity(),
        },
    };
    let shipment = send.shipment();
    env.send(send.instruction(), &[from]).await?;
    let receive = ix::ShipmentReceive {
        receiver: to.pubkey(),
        shipment,
        args: careledger_sdk::program::instructions::ShipmentReceiveArgs {
            receipt_hash: careledger_sdk::program::logic::supply::node_hash(
                &epcis_hash,
                &[0xee; 32],
            ),
        },
    };
    env.send(receive.instruction(), &[to]).await?;
    Ok(shipment)
}
