//! The demo's supply-chain step: a batch is commissioned, shipped to a wholesaler, received by a
//! pharmacy, and one pack dispensed; a counterfeit and a clone are caught; then the batch is
//! recalled and every remaining pack fails verification.
use crate::show;
use careledger_sdk::ix;
use careledger_sdk::program::instructions::{
    BatchRecallArgs, ShipmentReceiveArgs, ShipmentSendArgs,
};
use careledger_sdk::program::state::{
    BatchStatus, PackState, SUPPLY_DISPENSER, SUPPLY_MANUFACTURER, SUPPLY_WHOLESALER,
};
use careledger_sdk::{Signer, Transport};
use careledger_tests::supply::commission_batch;
use careledger_tests::Env;
use sha2::{Digest, Sha256};

type Error = Box<dyn std::error::Error + Send + Sync>;

fn verdict(v: &careledger_supply::manifest::Verification) -> String {
    match v.reason {
        None => "verified: true".into(),
        Some(r) => format!("verified: false ({})", r.code()),
    }
}

pub async fn story(env: &Env) -> Result<(), Error> {
    let manufacturer = env.supply_party(SUPPLY_MANUFACTURER).await;
    let wholesaler = env.supply_party(SUPPLY_WHOLESALER).await;
    let pharmacy = env.supply_party(SUPPLY_DISPENSER).await;
    println!(
        "\n== supply chain: manufacturer {}, wholesaler {}, pharmacy {} verified with supply roles",
        manufacturer.pubkey(),
        wholesaler.pubkey(),
        pharmacy.pubkey()
    );
    let gtin = careledger_supply::gs1::Gtin::parse(careledger_tests::supply::GTIN)?;
    let gtin_hash = careledger_supply::manifest::gtin_hash_of(&gtin);
    show(
        "the credential authority registers the product (GTIN 09506000134352) to the manufacturer",
        &env.send(
            ix::ProductRegister {
                authority: env.credential_authority.pubkey(),
                manufacturer_wallet: manufacturer.pubkey(),
                args: careledger_sdk::program::instructions::ProductRegisterArgs { gtin_hash },
            }
            .instruction(),
            &[&env.credential_authority],
        )
        .await?,
    );
    let mut batch = commission_batch(env, &manufacturer, "LOT-DEMO-1", 1_000, 1_024).await?;
    let map = env.client.transport().account(&batch.status_map).await?;
    println!(
        "\n== the manufacturer commissions lot LOT-DEMO-1: 1,000 packs padded to {} slots, one Merkle root\n   batch {}\n   status map {} bytes, {} lamports of rent ({} per pack); no serial on chain",
        batch.manifest.capacity(),
        batch.batch(),
        map.as_ref().map_or(0, |m| m.data.len()),
        map.as_ref().map_or(0, |m| m.lamports),
        map.as_ref().map_or(0, |m| m.lamports / 1_000)
    );
    let shipping = format!(
        "EPCIS shipping events of {} to {}",
        batch.batch(),
        wholesaler.pubkey()
    );
    let send = ix::ShipmentSend {
        sender: manufacturer.pubkey(),
        receiver: wholesaler.pubkey(),
        batch: batch.batch(),
        custody: None,
        args: ShipmentSendArgs {
            epcis_hash: Sha256::digest(shipping.as_bytes()).into(),
            quantity: 1_000,
        },
    };
    show(
        "the manufacturer ships the lot to the wholesaler",
        &env.send(send.clone().instruction(), &[&manufacturer])
            .await?,
    );
    show(
        "the wholesaler acknowledges the shipment",
        &env.send(
            ix::ShipmentReceive {
                receiver: wholesaler.pubkey(),
                shipment: send.shipment(),
                args: ShipmentReceiveArgs {
                    receipt_hash: Sha256::digest(b"EPCIS receiving events").into(),
                },
            }
            .instruction(),
            &[&wholesaler],
        )
        .await?,
    );
    let onward = ix::ShipmentSend {
        sender: wholesaler.pubkey(),
        receiver: pharmacy.pubkey(),
        batch: batch.batch(),
        // the wholesaler holds the lot through the shipment it received
        custody: Some(send.shipment()),
        args: ShipmentSendArgs {
            epcis_hash: Sha256::digest(b"EPCIS shipping events, wholesaler to pharmacy").into(),
            quantity: 20,
        },
    };
    env.send(onward.clone().instruction(), &[&wholesaler])
        .await?;
    show(
        "the pharmacy receives 20 packs from the wholesaler",
        &env.send(
            ix::ShipmentReceive {
                receiver: pharmacy.pubkey(),
                shipment: onward.shipment(),
                args: ShipmentReceiveArgs {
                    receipt_hash: Sha256::digest(b"EPCIS receiving events, pharmacy").into(),
                },
            }
            .instruction(),
            &[&pharmacy],
        )
        .await?,
    );
    batch.custody.insert(wholesaler.pubkey(), send.shipment());
    batch.custody.insert(pharmacy.pubkey(), onward.shipment());
    // a second pharmacy the wholesaler also supplies
    let other = env.supply_party(SUPPLY_DISPENSER).await;
    let to_other =
        careledger_tests::supply::ship(env, &batch, &wholesaler, &other, [0x5e; 32]).await?;
    batch.custody.insert(other.pubkey(), to_other);

    let scanned = batch.pack(7).to_element_string(true);
    println!(
        "\n== the pharmacist scans a pack: {}",
        scanned.replace('\u{1d}', "<GS>")
    );
    let pack = careledger_supply::gs1::PackIdentifier::parse(&scanned)?;
    let verify = |pack: careledger_supply::gs1::PackIdentifier| {
        let batch = &batch;
        async move {
            careledger_supply::manifest::verify(
                env.client.transport(),
                &pack,
                &batch.manifest,
                &batch.tree,
            )
            .await
        }
    };
    println!("   {}", verdict(&verify(pack.clone()).await?));
    show(
        "the pharmacy dispenses it",
        &env.send(
            batch.decommission(&pharmacy.pubkey(), 7, PackState::Supplied),
            &[&pharmacy],
        )
        .await?,
    );
    println!("   verify again: {}", verdict(&verify(pack.clone()).await?));
    let fake = batch.pack_with_serial("FAKE00042");
    println!(
        "\n== a counterfeit pack (serial FAKE00042): {}",
        verdict(&verify(fake).await?)
    );
    show(
        "another pharmacy dispenses a copy of the same DataMatrix: refused, the clone is on record",
        &env.send(
            batch.decommission(&other.pubkey(), 7, PackState::Supplied),
            &[&other],
        )
        .await?,
    );
    println!("   verify: {}", verdict(&verify(pack).await?));
    show(
        "the manufacturer recalls the lot",
        &env.send(
            ix::BatchRecall {
                manufacturer: manufacturer.pubkey(),
                batch: batch.batch(),
                args: BatchRecallArgs {
                    status: BatchStatus::Recalled,
                    reason_code: 1,
                },
            }
            .instruction(),
            &[&manufacturer],
        )
        .await?,
    );
    let mut failed = 0;
    for i in 0..batch.serials.len() {
        if !verify(batch.pack(i)).await?.verified {
            failed += 1;
        }
    }
    println!(
        "   every pack of the lot verified again: {failed} of {} fail (recalled)",
        batch.serials.len()
    );
    Ok(())
}
