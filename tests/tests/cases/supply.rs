//! The drug supply chain, attacker first. For each rule: who gains by breaking it, then the test.
//! - A counterfeiter gains by getting an unknown serial verified or dispensed: `counterfeits_*`.
//! - A cloner (a copied DataMatrix on a fake pack) gains by dispensing a serial twice:
//!   `pack_decommission_of_a_clone_is_refused_and_on_record`.
//! - Anyone holding another batch's or another position's proof gains a fake "authentic":
//!   `merkle_proofs_*`.
//! - A rival manufacturer gains by commissioning under someone else's GTIN, and a wholesaler by
//!   "dispensing" to launder packs: `product_register_and_roles_*`.
//! - A pharmacy gains by un-dispensing a pack to resell it (after the window, or another's):
//!   `pack_reactivate_*`; a pharmacy dispensing recalled or expired stock: `batch_recall_*`, `expiry_*`.
//! - A griefer gains by taking over or reusing a status map: `status_maps_*`.
use careledger_sdk::events::CareledgerEvent as Ev;
use careledger_sdk::ix;
use careledger_sdk::program::instructions::{
    BatchRecallArgs, ProductRegisterArgs, ProviderRegisterArgs, ShipmentReceiveArgs,
    ShipmentSendArgs,
};
use careledger_sdk::program::state::{
    Batch, BatchStatus, PackRecord, PackState, SUPPLY_DISPENSER, SUPPLY_MANUFACTURER,
};
use careledger_sdk::{pda, CareledgerError as E, Transport, ROLE_CLINICIAN};
use careledger_supply::manifest::VerifyReason;
use careledger_tests::supply::{commission_batch, SupplyScene};
use careledger_tests::{skip_unless_own_cluster, DAY};
use solana_keypair::Keypair;
use solana_signer::Signer;

async fn batch_of(s: &SupplyScene) -> Batch {
    s.env.client.fetch(&s.batch.batch()).await.expect("batch")
}

#[tokio::test]
async fn batch_commission_shipment_send_shipment_receive_and_pack_decommission_to_dispensing() {
    let s = SupplyScene::new(10, 16).await;
    let b = batch_of(&s).await;
    assert_eq!((b.capacity, b.depth, b.decommissioned), (16, 4, 0));
    assert_eq!(b.status_map, s.batch.status_map);
    // the status map: magic, batch, and two zero bytes of bits
    let map = s
        .env
        .client
        .transport()
        .account(&s.batch.status_map)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(map.data.len(), 40 + 2);
    assert_eq!(&map.data[8..40], s.batch.batch().as_ref());
    let v = s.verify("SN000003").await;
    assert!(v.verified, "{v:?}");
    assert_eq!(v.state, Some(PackState::Active));

    // ship to the wholesaler, who acknowledges
    let args = ShipmentSendArgs {
        epcis_hash: [5; 32],
        quantity: 10,
    };
    let send = ix::ShipmentSend {
        sender: s.manufacturer.pubkey(),
        receiver: s.wholesaler.pubkey(),
        batch: s.batch.batch(),
        custody: None,
        args: args.clone(),
    };
    let shipment = send.shipment();
    let out = s
        .env
        .send(send.clone().instruction(), &[&s.manufacturer])
        .await
        .unwrap();
    assert!(
        matches!(&out.events[..], [Ev::ShipmentSent(e)] if e.quantity == 10 && e.receiver == s.wholesaler.pubkey())
    );
    s.env
        .expect_rejected(
            send.instruction(),
            &[&s.manufacturer],
            E::ShipmentAlreadyAnchored,
            &[shipment],
        )
        .await;
    let receive = |by: &Keypair| {
        ix::ShipmentReceive {
            receiver: by.pubkey(),
            shipment,
            args: ShipmentReceiveArgs {
                receipt_hash: [6; 32],
            },
        }
        .instruction()
    };
    s.env
        .expect_rejected(
            receive(&s.pharmacy),
            &[&s.pharmacy],
            E::NotShipmentReceiver,
            &[shipment],
        )
        .await;
    let out = s
        .env
        .send(receive(&s.wholesaler), &[&s.wholesaler])
        .await
        .unwrap();
    assert!(matches!(&out.events[..], [Ev::ShipmentReceived(e)] if e.receipt_hash == [6; 32]));
    s.env
        .expect_rejected(
            receive(&s.wholesaler),
            &[&s.wholesaler],
            E::ShipmentAlreadyReceived,
            &[shipment],
        )
        .await;

    // the pharmacy dispenses pack 3
    let out = s.dispense(3).await.unwrap();
    let [Ev::PackStatusChanged(e)] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (e.index, e.old_state, e.new_state),
        (s.batch.index(3), PackState::Active, PackState::Supplied)
    );
    assert_eq!(e.undo_until, e.at + 10 * DAY);
    let record: PackRecord = s
        .env
        .client
        .fetch(&pda::pack_record(&s.batch.batch(), s.batch.index(3)).0)
        .await
        .unwrap();
    assert_eq!(
        (record.state, record.actor),
        (PackState::Supplied, s.pharmacy.pubkey())
    );
    assert_eq!(batch_of(&s).await.decommissioned, 1);
    let v = s.verify("SN000003").await;
    assert_eq!(
        (v.verified, v.reason),
        (false, Some(VerifyReason::AlreadyDispensed))
    );
    assert!(
        s.verify("SN000004").await.verified,
        "the other packs stay authentic"
    );
}

#[tokio::test]
async fn pack_decommission_of_a_clone_is_refused_and_on_record() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = SupplyScene::new(4, 1).await;
    s.dispense(1).await.unwrap();
    let record = pda::pack_record(&s.batch.batch(), s.batch.index(1)).0;
    let before_map = s.env.snapshot(&[s.batch.status_map]).await;
    // a second pharmacy of the same chain (the wholesaler supplied it too) scans a copy of the
    // same DataMatrix
    let other = s.env.supply_party(SUPPLY_DISPENSER).await;
    let mut batch = s.batch.clone();
    let custody = careledger_tests::supply::ship(&s.env, &batch, &s.wholesaler, &other, [0xb7; 32])
        .await
        .unwrap();
    batch.custody.insert(other.pubkey(), custody);
    let ix = batch.decommission(&other.pubkey(), 1, PackState::Supplied);
    let out = s
        .env
        .send(ix, &[&other])
        .await
        .expect("a suspect report succeeds");
    let [Ev::SuspectPack(e)] = &out.events[..] else {
        panic!("{:?}", out.events)
    };
    assert_eq!(
        (e.index, e.state, e.attempted_state),
        (s.batch.index(1), PackState::Supplied, PackState::Supplied)
    );
    assert_eq!(
        (e.reporter, e.pack_reports, e.batch_reports),
        (other.pubkey(), 1, 1)
    );
    // nothing about the pack changed but the count; the first dispenser keeps its undo
    assert_eq!(s.env.snapshot(&[s.batch.status_map]).await, before_map);
    let r: PackRecord = s.env.client.fetch(&record).await.unwrap();
    assert_eq!((r.actor, r.suspect_reports), (s.pharmacy.pubkey(), 1));
    assert_eq!(batch_of(&s).await.suspect_reports, 1);
    let v = s.verify("SN000001").await;
    assert_eq!(v.reason, Some(VerifyReason::Suspect));
    assert_eq!(v.to_json()["additionalInfo"], "Suspect");
    // the first pharmacy cannot set it active again: the clone would then pass as genuine
    let undo = s.batch.reactivate(&s.pharmacy.pubkey(), s.batch.index(1));
    s.env
        .expect_rejected(
            undo.clone(),
            &[&s.pharmacy],
            E::UndoAfterSuspect,
            &[record, s.batch.status_map],
        )
        .await;
    // a report does not lock the pharmacy's rent (anyone could file one for free): after the
    // window the record settles; the events and the batch's count keep the evidence
    s.env.set_clock(s.env.now().await + 11 * DAY).await;
    let settle = s
        .batch
        .settle(&other.pubkey(), &s.pharmacy.pubkey(), s.batch.index(1));
    s.env.send(settle.clone(), &[&other]).await.unwrap();
    assert_eq!(batch_of(&s).await.suspect_reports, 1);
    assert_eq!(
        s.verify("SN000001").await.reason,
        Some(VerifyReason::AlreadyDispensed)
    );
}

/// Who gains: a party that learned a pack's secret (it travels in every decommission) or holds a
/// stolen manifest, by destroying or dispensing packs that other premises hold; a diverter, by
/// selling a pack outside the recorded chain. Only a holder of the batch may change an active
/// pack; anyone else's attempt is recorded as suspect and changes nothing.
#[tokio::test]
async fn only_holders_of_the_batch_change_its_packs() {
    let s = SupplyScene::new(4, 1).await;
    let outsider = s.env.supply_party(SUPPLY_DISPENSER).await;
    let index = s.batch.index(2);
    let record = pda::pack_record(&s.batch.batch(), index).0;
    let before = s.env.snapshot(&[s.batch.status_map, record]).await;
    for state in [PackState::Supplied, PackState::Destroyed] {
        let ix = s.batch.decommission(&outsider.pubkey(), 2, state);
        let out = s
            .env
            .send(ix, &[&outsider])
            .await
            .expect("a suspect report");
        let [Ev::SuspectPack(e)] = &out.events[..] else {
            panic!("{:?}", out.events)
        };
        assert_eq!(
            (e.index, e.state, e.attempted_state),
            (index, PackState::Active, state)
        );
    }
    assert_eq!(
        s.env.snapshot(&[s.batch.status_map, record]).await,
        before,
        "nothing changed"
    );
    assert_eq!(batch_of(&s).await.suspect_reports, 2);
    assert!(
        s.verify("SN000002").await.verified,
        "the genuine pack still sells"
    );
    // the outsider cannot borrow someone else's shipment, nor one of another batch
    let mut ix = s
        .batch
        .decommission(&outsider.pubkey(), 2, PackState::Supplied);
    let pharmacy_custody = s.batch.custody[&s.pharmacy.pubkey()];
    // accounts: actor, config, provider, batch, map, record, custody (slot 6), ...
    ix.accounts[6].pubkey = pharmacy_custody;
    let out = s.env.send(ix, &[&outsider]).await.unwrap();
    assert!(
        matches!(&out.events[..], [Ev::SuspectPack(_)]),
        "{:?}",
        out.events
    );
    let second = s.commission("LOT-2026-Z", 2, 1).await.unwrap();
    let other_batch =
        careledger_tests::supply::ship(&s.env, &second, &s.manufacturer, &outsider, [0xc1; 32])
            .await
            .unwrap();
    let mut ix = s
        .batch
        .decommission(&outsider.pubkey(), 2, PackState::Supplied);
    ix.accounts[6].pubkey = other_batch;
    let out = s.env.send(ix, &[&outsider]).await.unwrap();
    assert!(
        matches!(&out.events[..], [Ev::SuspectPack(_)]),
        "{:?}",
        out.events
    );
    // nor ship what it does not hold
    let send = ix::ShipmentSend {
        sender: outsider.pubkey(),
        receiver: s.pharmacy.pubkey(),
        batch: s.batch.batch(),
        custody: None,
        args: ShipmentSendArgs {
            epcis_hash: [0xd1; 32],
            quantity: 1,
        },
    };
    let shipment = send.shipment();
    s.env
        .expect_rejected(
            send.instruction(),
            &[&outsider],
            E::NotInCustody,
            &[shipment],
        )
        .await;
    // the holder dispenses it as usual
    s.dispense(2).await.unwrap();
    // an outsider replaying that public proof is on record for the batch, but cannot bar the
    // pharmacy's undo: the pack's own count is not the outsider's to move
    let ix = s
        .batch
        .decommission(&outsider.pubkey(), 2, PackState::Destroyed);
    let out = s.env.send(ix, &[&outsider]).await.unwrap();
    assert!(
        matches!(&out.events[..], [Ev::SuspectPack(e)] if e.pack_reports == 0 && e.state == PackState::Supplied),
        "{:?}",
        out.events
    );
    // nor can the pharmacy's own second scan
    let out = s.dispense(2).await.unwrap();
    assert!(
        matches!(&out.events[..], [Ev::SuspectPack(e)] if e.pack_reports == 0),
        "{:?}",
        out.events
    );
    let undo = s.batch.reactivate(&s.pharmacy.pubkey(), index);
    s.env.send(undo.clone(), &[&s.pharmacy]).await.unwrap();
    assert!(s.verify("SN000002").await.verified);
}

#[tokio::test]
async fn counterfeits_are_unknown_and_cannot_be_dispensed() {
    let s = SupplyScene::new(4, 8).await;
    let v = s.verify("FAKE0001").await;
    assert_eq!(
        (v.verified, v.reason, v.index),
        (false, Some(VerifyReason::UnknownSerial), None)
    );
    assert_eq!(
        v.to_json()["verificationFailureReason"],
        "No_match_GTIN_Serial"
    );
    let mut other_lot = s.batch.pack(0);
    other_lot.lot = "LOT-NONE".into();
    let v = careledger_supply::manifest::verify(
        s.env.client.transport(),
        &other_lot,
        &s.batch.manifest,
        &s.batch.tree,
    )
    .await
    .unwrap();
    assert_eq!(v.reason, Some(VerifyReason::UnknownBatch));
    let mut wrong_expiry = s.batch.pack(0);
    wrong_expiry.expiry.month = 11;
    let v = careledger_supply::manifest::verify(
        s.env.client.transport(),
        &wrong_expiry,
        &s.batch.manifest,
        &s.batch.tree,
    )
    .await
    .unwrap();
    assert_eq!(v.reason, Some(VerifyReason::ExpiryMismatch));
    // a counterfeiter who knows the public manifest but no serial: a decoy slot with a guessed
    // secret, with the slot's real sibling path
    let watched = [
        s.batch.batch(),
        s.batch.status_map,
        pda::pack_record(&s.batch.batch(), s.batch.decoy()).0,
    ];
    let ix = s.batch.decommission_raw(
        &s.pharmacy.pubkey(),
        s.batch.decoy(),
        [0xAB; 32],
        s.batch.tree.proof(s.batch.decoy()),
        PackState::Supplied,
    );
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::InvalidPackProof, &watched)
        .await;
}

#[tokio::test]
async fn merkle_proofs_for_another_pack_batch_or_index_are_refused() {
    let s = SupplyScene::new(5, 1).await;
    let second = s.commission("LOT-2026-B", 5, 1).await.unwrap();
    let pharmacy = s.pharmacy.pubkey();
    let (index, secret) = s.batch.manifest.find(&s.batch.pack(2)).unwrap();
    let proof = s.batch.tree.proof(index);
    let watched = [
        s.batch.batch(),
        s.batch.status_map,
        second.batch(),
        second.status_map,
    ];
    // a wrong proof: one sibling flipped
    let mut wrong = proof.clone();
    wrong[1][0] ^= 1;
    let ix = s
        .batch
        .decommission_raw(&pharmacy, index, secret, wrong, PackState::Supplied);
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::InvalidPackProof, &watched)
        .await;
    // the right proof at another index
    let ix = s.batch.decommission_raw(
        &pharmacy,
        (index + 1) % 5,
        secret,
        proof.clone(),
        PackState::Supplied,
    );
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::InvalidPackProof, &watched)
        .await;
    // the second batch's own valid proof, sent against the first batch
    let (i2, secret2) = second.manifest.find(&second.pack(2)).unwrap();
    let ix = s.batch.decommission_raw(
        &pharmacy,
        i2,
        secret2,
        second.tree.proof(i2),
        PackState::Supplied,
    );
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::InvalidPackProof, &watched)
        .await;
    // ...and against the first batch's accounts but the second batch's map
    let mut ix = second.decommission(&pharmacy, 2, PackState::Supplied);
    careledger_tests::swap_account(&mut ix, &second.status_map, s.batch.status_map);
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::PackMapMismatch, &watched)
        .await;
    // an index out of range (the tree has 8 slots, the batch 5)
    let ix = s.batch.decommission_raw(
        &pharmacy,
        5,
        secret,
        s.batch.tree.proof(5),
        PackState::Supplied,
    );
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::PackIndexOutOfRange, &watched)
        .await;
    let ix = s.batch.decommission_raw(
        &pharmacy,
        u32::MAX,
        secret,
        proof.clone(),
        PackState::Supplied,
    );
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::PackIndexOutOfRange, &watched)
        .await;
    // a proof one level short
    let ix = s.batch.decommission_raw(
        &pharmacy,
        index,
        secret,
        proof[1..].to_vec(),
        PackState::Supplied,
    );
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::InvalidPackProof, &watched)
        .await;
    // and the real one works, once
    s.env
        .send(
            s.batch.decommission(&pharmacy, 2, PackState::Supplied),
            &[&s.pharmacy],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn product_register_and_roles_decide_who_commissions_and_who_dispenses() {
    let s = SupplyScene::new(3, 1).await;
    let watched = [s.batch.batch(), s.batch.status_map];
    // a wholesaler cannot dispense, but may report a pack stolen
    let ix = s
        .batch
        .decommission(&s.wholesaler.pubkey(), 0, PackState::Supplied);
    s.env
        .expect_rejected(ix, &[&s.wholesaler], E::MissingRole, &watched)
        .await;
    // a clinician (care roles only) cannot touch packs
    let clinic = s.env.verified_provider(ROLE_CLINICIAN).await;
    let ix = s
        .batch
        .decommission(&clinic.pubkey(), 0, PackState::Destroyed);
    s.env
        .expect_rejected(ix, &[&clinic], E::MissingRole, &watched)
        .await;
    let out = s
        .env
        .send(
            s.batch
                .decommission(&s.wholesaler.pubkey(), 0, PackState::Stolen),
            &[&s.wholesaler],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[..], [Ev::PackStatusChanged(e)] if e.new_state == PackState::Stolen && e.undo_until == 0)
    );
    assert_eq!(
        s.verify("SN000000").await.reason,
        Some(VerifyReason::Inactive(PackState::Stolen))
    );
    // a suspended pharmacy cannot dispense
    let suspend = ix::ProviderSuspend {
        authority: s.env.credential_authority.pubkey(),
        provider_wallet: s.pharmacy.pubkey(),
        reason_code: 7,
    };
    s.env
        .send(suspend.instruction(), &[&s.env.credential_authority])
        .await
        .unwrap();
    let ix = s
        .batch
        .decommission(&s.pharmacy.pubkey(), 1, PackState::Supplied);
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::ProviderSuspended, &watched)
        .await;

    // a rival verified manufacturer cannot commission this GTIN, nor register it for itself
    let rival = s.env.supply_party(SUPPLY_MANUFACTURER).await;
    let err = commission_batch(&s.env, &rival, "LOT-RIVAL", 3, 1)
        .await
        .unwrap_err();
    assert_eq!(
        err.program_error(),
        Some(E::NotProductManufacturer),
        "{err}"
    );
    let gtin_hash = s.batch.manifest.gtin_hash();
    let product = pda::product(&gtin_hash).0;
    let register = ix::ProductRegister {
        authority: rival.pubkey(),
        manufacturer_wallet: rival.pubkey(),
        args: ProductRegisterArgs { gtin_hash },
    };
    s.env
        .expect_rejected(
            register.instruction(),
            &[&rival],
            E::NotCredentialAuthority,
            &[product],
        )
        .await;
    let register = ix::ProductRegister {
        authority: s.env.credential_authority.pubkey(),
        manufacturer_wallet: rival.pubkey(),
        args: ProductRegisterArgs { gtin_hash },
    };
    s.env
        .expect_rejected(
            register.instruction(),
            &[&s.env.credential_authority],
            E::ProductAlreadyRegistered,
            &[product],
        )
        .await;
    // a GTIN registered to someone without the manufacturer role is refused
    let register = ix::ProductRegister {
        authority: s.env.credential_authority.pubkey(),
        manufacturer_wallet: s.wholesaler.pubkey(),
        args: ProductRegisterArgs { gtin_hash: [9; 32] },
    };
    s.env
        .expect_rejected(
            register.instruction(),
            &[&s.env.credential_authority],
            E::MissingRole,
            &[pda::product(&[9; 32]).0],
        )
        .await;
    // the same lot twice
    let err = s.commission("LOT-2026-A", 3, 1).await.unwrap_err();
    assert_eq!(
        err.program_error(),
        Some(E::BatchAlreadyCommissioned),
        "{err}"
    );
    // unknown supply role bits
    let party = s.env.actor().await;
    let args = ProviderRegisterArgs {
        roles: 0,
        supply_roles: 0x08,
        credential_ref: [1; 32],
    };
    let register = ix::ProviderRegister {
        wallet: party.pubkey(),
        args,
    };
    s.env
        .expect_rejected(
            register.instruction(),
            &[&party],
            E::InvalidSupplyRoles,
            &[pda::provider(&party.pubkey()).0],
        )
        .await;
}

#[tokio::test]
async fn pack_reactivate_only_by_the_same_premises_within_ten_days_then_pack_settle() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = SupplyScene::new(4, 1).await;
    let record = pda::pack_record(&s.batch.batch(), s.batch.index(0)).0;
    let undo = |by: &Keypair, index: u32| s.batch.reactivate(&by.pubkey(), index);
    s.dispense(0).await.unwrap();
    let lamports_before = s
        .env
        .client
        .transport()
        .account(&s.pharmacy.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    let watched = [s.batch.batch(), s.batch.status_map, record];
    let other = s.env.supply_party(SUPPLY_DISPENSER).await;
    s.env
        .expect_rejected(
            undo(&other, s.batch.index(0)),
            &[&other],
            E::UndoByOtherPremises,
            &watched,
        )
        .await;
    // the same premises, on day 9: the pack is active again and the rent comes back
    s.env.set_clock(s.env.now().await + 9 * DAY).await;
    let out = s
        .env
        .send(undo(&s.pharmacy, s.batch.index(0)), &[&s.pharmacy])
        .await
        .unwrap();
    assert!(
        matches!(&out.events[..], [Ev::PackStatusChanged(e)] if e.new_state == PackState::Active && e.old_state == PackState::Supplied)
    );
    assert!(s
        .env
        .client
        .transport()
        .account(&record)
        .await
        .unwrap()
        .is_none());
    let lamports_after = s
        .env
        .client
        .transport()
        .account(&s.pharmacy.pubkey())
        .await
        .unwrap()
        .unwrap()
        .lamports;
    assert!(lamports_after > lamports_before, "rent back");
    assert!(s.verify("SN000000").await.verified);
    assert_eq!(batch_of(&s).await.decommissioned, 0);
    // dispensed again, then 10 days and a second pass: too late
    s.dispense(0).await.unwrap();
    s.env.set_clock(s.env.now().await + 10 * DAY + 1).await;
    s.env
        .expect_rejected(
            undo(&s.pharmacy, s.batch.index(0)),
            &[&s.pharmacy],
            E::UndoWindowPassed,
            &watched,
        )
        .await;
    // a destroyed pack never comes back, even at once
    s.env
        .send(
            s.batch
                .decommission(&s.pharmacy.pubkey(), 1, PackState::Destroyed),
            &[&s.pharmacy],
        )
        .await
        .unwrap();
    let watched1 = [
        s.batch.batch(),
        s.batch.status_map,
        pda::pack_record(&s.batch.batch(), s.batch.index(1)).0,
    ];
    s.env
        .expect_rejected(
            undo(&s.pharmacy, s.batch.index(1)),
            &[&s.pharmacy],
            E::UndoFinalState,
            &watched1,
        )
        .await;
    // an active pack has nothing to undo (no record: Anchor refuses the missing account)
    s.env
        .expect_anchor_error(
            undo(&s.pharmacy, s.batch.index(2)),
            &[&s.pharmacy],
            3012,
            &watched,
        )
        .await;

    // settling: the record of pack 0 closes, the bit stays, and a clone is still caught
    let settle = s
        .batch
        .settle(&other.pubkey(), &s.pharmacy.pubkey(), s.batch.index(0));
    let out = s.env.send(settle.clone(), &[&other]).await.unwrap();
    assert!(
        matches!(&out.events[..], [Ev::PackRecordSettled(e)] if e.actor == s.pharmacy.pubkey() && e.lamports > 0)
    );
    assert!(s
        .env
        .client
        .transport()
        .account(&record)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.verify("SN000000").await.reason,
        Some(VerifyReason::AlreadyDispensed)
    );
    let out = s
        .env
        .send(
            s.batch
                .decommission(&other.pubkey(), 0, PackState::Supplied),
            &[&other],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[..], [Ev::SuspectPack(e)] if e.state == PackState::Supplied && e.pack_reports == 0 && e.batch_reports == 1)
    );
    // a destroyed pack's record is never settled
    let settle = s
        .batch
        .settle(&other.pubkey(), &s.pharmacy.pubkey(), s.batch.index(1));
    s.env
        .expect_rejected(
            settle.clone(),
            &[&other],
            E::PackRecordNotSettleable,
            &watched1,
        )
        .await;
}

#[tokio::test]
async fn batch_recall_is_final_and_fails_every_pack() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let s = SupplyScene::new(5, 1).await;
    s.dispense(0).await.unwrap();
    let recall = |by: &Keypair, status| {
        ix::BatchRecall {
            manufacturer: by.pubkey(),
            batch: s.batch.batch(),
            args: BatchRecallArgs {
                status,
                reason_code: 12,
            },
        }
        .instruction()
    };
    let watched = [s.batch.batch()];
    s.env
        .expect_rejected(
            recall(&s.pharmacy, BatchStatus::Recalled),
            &[&s.pharmacy],
            E::NotProductManufacturer,
            &watched,
        )
        .await;
    s.env
        .expect_rejected(
            recall(&s.manufacturer, BatchStatus::Active),
            &[&s.manufacturer],
            E::BatchAlreadyFinal,
            &watched,
        )
        .await;
    // a recall limits harm: it works while the program is paused
    let pause = |paused| ix::ConfigSetPaused {
        admin: s.env.admin.pubkey(),
        paused,
    };
    s.env
        .send(pause(true).instruction(), &[&s.env.admin])
        .await
        .unwrap();
    let out = s
        .env
        .send(
            recall(&s.manufacturer, BatchStatus::Recalled),
            &[&s.manufacturer],
        )
        .await
        .unwrap();
    assert!(
        matches!(&out.events[..], [Ev::BatchRecalled(e)] if e.active_packs == 4 && e.reason_code == 12)
    );
    s.env
        .send(pause(false).instruction(), &[&s.env.admin])
        .await
        .unwrap();
    s.env
        .expect_rejected(
            recall(&s.manufacturer, BatchStatus::Withdrawn),
            &[&s.manufacturer],
            E::BatchAlreadyFinal,
            &watched,
        )
        .await;
    for i in 0..5 {
        let v = s.verify(&format!("SN{i:06}")).await;
        assert_eq!(
            (v.verified, v.reason),
            (false, Some(VerifyReason::Recalled)),
            "pack {i}"
        );
    }
    let watched = [s.batch.batch(), s.batch.status_map];
    let ix = s
        .batch
        .decommission(&s.pharmacy.pubkey(), 1, PackState::Supplied);
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::BatchRecalled, &watched)
        .await;
    let undo = s.batch.reactivate(&s.pharmacy.pubkey(), s.batch.index(0));
    s.env
        .expect_rejected(undo.clone(), &[&s.pharmacy], E::BatchRecalled, &watched)
        .await;
    // recalled stock is destroyed
    s.env
        .send(
            s.batch
                .decommission(&s.pharmacy.pubkey(), 1, PackState::Destroyed),
            &[&s.pharmacy],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn expiry_stops_dispensing_but_not_destruction() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = SupplyScene::new(3, 1).await;
    let expires_at = batch_of(&s).await.expires_at;
    // credentials outlive the packs here, so only the expiry decides
    for party in [&s.pharmacy, &s.wholesaler] {
        let p: careledger_sdk::Provider = s
            .env
            .client
            .fetch(&pda::provider(&party.pubkey()).0)
            .await
            .unwrap();
        let args = careledger_sdk::program::instructions::ProviderVerifyArgs {
            roles: 0,
            supply_roles: p.supply_roles,
            credential_expires_at: expires_at + 30 * DAY,
            credential_ref: [0; 32],
        };
        let verify = ix::ProviderVerify {
            authority: s.env.credential_authority.pubkey(),
            provider_wallet: party.pubkey(),
            args,
        };
        s.env
            .send(verify.instruction(), &[&s.env.credential_authority])
            .await
            .unwrap();
    }
    s.env.set_clock(expires_at - 1).await;
    assert!(
        s.verify("SN000000").await.verified,
        "the last second of the expiry day"
    );
    s.env.set_clock(expires_at).await;
    assert_eq!(
        s.verify("SN000000").await.reason,
        Some(VerifyReason::Expired)
    );
    let watched = [s.batch.batch(), s.batch.status_map];
    let ix = s
        .batch
        .decommission(&s.pharmacy.pubkey(), 0, PackState::Supplied);
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::PackExpired, &watched)
        .await;
    let ix = s
        .batch
        .decommission(&s.wholesaler.pubkey(), 0, PackState::Sample);
    s.env
        .expect_rejected(ix, &[&s.wholesaler], E::PackExpired, &watched)
        .await;
    s.env
        .send(
            s.batch
                .decommission(&s.pharmacy.pubkey(), 0, PackState::Destroyed),
            &[&s.pharmacy],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn status_maps_cannot_be_taken_over_reused_or_missized() {
    let s = SupplyScene::new(3, 1).await;
    let gtin = s.batch.manifest.gtin;
    let serials = vec!["A1".to_string(), "A2".to_string()];
    let plan = |map: &Keypair, lot: &str| {
        let m = careledger_supply::manifest::Manifest::plan(
            &gtin,
            lot,
            s.batch.manifest.expiry,
            &serials,
            map.pubkey(),
            1,
        )
        .unwrap();
        let tree = m.tree();
        ix::BatchCommission {
            manufacturer: s.manufacturer.pubkey(),
            status_map: map.pubkey(),
            args: m.commission_args(&tree),
        }
    };
    // reusing a commissioned map, even with its key
    let map_q = Keypair::new();
    s.env
        .send_all(
            &plan(&map_q, "LOT-Q").instructions(),
            &[&s.manufacturer, &map_q],
        )
        .await
        .unwrap();
    let reuse = plan(&map_q, "LOT-R");
    let batch_r = reuse.batch();
    let err = s
        .env
        .send(reuse.instruction(), &[&s.manufacturer, &map_q])
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::PackMapInvalid), "{err}");
    assert!(s
        .env
        .client
        .transport()
        .account(&batch_r)
        .await
        .unwrap()
        .is_none());
    // a map of the wrong size
    let map = Keypair::new();
    let c = plan(&map, "LOT-S");
    let create = solana_system_interface::instruction::create_account(
        &s.manufacturer.pubkey(),
        &map.pubkey(),
        10_000_000,
        41 + 1,
        &careledger_sdk::program::ID,
    );
    let err = s
        .env
        .send_all(&[create, c.clone().instruction()], &[&s.manufacturer, &map])
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::PackMapInvalid), "{err}");
    // a map someone else created, used without its key's signature
    let [create, _] = plan(&map, "LOT-T").instructions();
    s.env.send(create, &[&s.manufacturer, &map]).await.unwrap();
    let mut commission = plan(&map, "LOT-T").instruction();
    for meta in commission
        .accounts
        .iter_mut()
        .filter(|m| m.pubkey == map.pubkey())
    {
        meta.is_signer = false;
    }
    let err = s
        .env
        .send(commission, &[&s.manufacturer])
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::PackMapInvalid), "{err}");
    // a lot longer than GS1 allows (but still a valid seed) is refused by name
    let map = Keypair::new();
    let mut c = plan(&map, "LOT-U");
    c.args.lot = vec![b'L'; 25];
    let err = s
        .env
        .send_all(&c.instructions(), &[&s.manufacturer, &map])
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::InvalidLot), "{err}");
}

#[tokio::test]
async fn a_batch_history_exports_as_epcis_from_the_chain_alone() {
    if skip_unless_own_cluster("moves the clock").await {
        return;
    }
    let s = SupplyScene::new(6, 8).await;
    let mut history = vec![s.batch.commissioned.clone()];
    let send = ix::ShipmentSend {
        sender: s.manufacturer.pubkey(),
        receiver: s.pharmacy.pubkey(),
        batch: s.batch.batch(),
        custody: None,
        args: ShipmentSendArgs {
            epcis_hash: [0xab; 32],
            quantity: 6,
        },
    };
    history.push(
        s.env
            .send(send.clone().instruction(), &[&s.manufacturer])
            .await
            .unwrap(),
    );
    let receive = ix::ShipmentReceive {
        receiver: s.pharmacy.pubkey(),
        shipment: send.shipment(),
        args: ShipmentReceiveArgs {
            receipt_hash: [0xcd; 32],
        },
    };
    history.push(
        s.env
            .send(receive.instruction(), &[&s.pharmacy])
            .await
            .unwrap(),
    );
    history.push(s.dispense(0).await.unwrap());
    history.push(s.dispense(2).await.unwrap());
    let undo = s.batch.reactivate(&s.pharmacy.pubkey(), s.batch.index(2));
    history.push(s.env.send(undo.clone(), &[&s.pharmacy]).await.unwrap());
    let locked = s
        .batch
        .decommission(&s.pharmacy.pubkey(), 3, PackState::Locked);
    history.push(s.env.send(locked, &[&s.pharmacy]).await.unwrap());
    let stolen = s
        .batch
        .decommission(&s.wholesaler.pubkey(), 1, PackState::Stolen);
    history.push(s.env.send(stolen, &[&s.wholesaler]).await.unwrap());
    let clone = s
        .batch
        .decommission(&s.wholesaler.pubkey(), 0, PackState::Destroyed);
    history.push(s.env.send(clone, &[&s.wholesaler]).await.unwrap());
    let recall = ix::BatchRecall {
        manufacturer: s.manufacturer.pubkey(),
        batch: s.batch.batch(),
        args: BatchRecallArgs {
            status: BatchStatus::Withdrawn,
            reason_code: 4,
        },
    };
    history.push(
        s.env
            .send(recall.instruction(), &[&s.manufacturer])
            .await
            .unwrap(),
    );
    let transactions: Vec<(String, Vec<Ev>)> = history
        .iter()
        .map(|o| (o.signature.to_string(), o.events.clone()))
        .collect();
    let doc = careledger_supply::manifest::epcis_export(
        &s.batch.manifest,
        &s.manufacturer.pubkey(),
        &transactions,
    );
    let events = doc["epcisBody"]["eventList"].as_array().expect("events");
    let steps: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["bizStep"].as_str().unwrap_or("-"),
                e["disposition"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "commissioning/active",
            "shipping/in_transit",
            "receiving/in_progress",
            "dispensing/dispensed",
            "dispensing/dispensed",
            "-/active",
            "holding/non_sellable_other",
            "decommissioning/stolen",
            "inspecting/non_sellable_other",
            "-/non_sellable_other",
        ]
    );
    for (event, outcome) in events.iter().zip(&history) {
        assert_eq!(
            event["careledger:transaction"],
            outcome.signature.to_string()
        );
    }
    let text = serde_json::to_string_pretty(&doc).unwrap();
    for serial in &s.batch.serials {
        assert!(!text.contains(serial.as_str()), "a serial in the export");
    }
    // the independent validator in .ci/run (tests/epcis) reads this file
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/epcis-fixture");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("chain.json"), text).unwrap();
}

/// Every malformed term of a commission, a decommission, a shipment and a product is refused by
/// name, and nothing is created. Who gains: a manufacturer committing to a batch nobody can
/// verify (a zero root, an expired lot, a tree deeper than a proof can carry), or a sender
/// anchoring an empty or self-addressed shipment to pad a custody trail.
#[tokio::test]
async fn malformed_terms_are_refused_by_name() {
    let s = SupplyScene::new(2, 1).await;
    let gtin = s.batch.manifest.gtin;
    let map = Keypair::new();
    let plan = || {
        let m = careledger_supply::manifest::Manifest::plan(
            &gtin,
            "LOT-BAD",
            s.batch.manifest.expiry,
            &["B1".to_string(), "B2".to_string()],
            map.pubkey(),
            1,
        )
        .unwrap();
        let tree = m.tree();
        ix::BatchCommission {
            manufacturer: s.manufacturer.pubkey(),
            status_map: map.pubkey(),
            args: m.commission_args(&tree),
        }
    };
    let now = s.env.now().await;
    type Change = Box<dyn Fn(&mut ix::BatchCommission)>;
    let cases: Vec<(&str, Change, E)> = vec![
        (
            "expired",
            Box::new(move |c| c.args.expires_at = now - 1),
            E::InvalidBatchExpiry,
        ),
        (
            "zero root",
            Box::new(|c| c.args.merkle_root = [0; 32]),
            E::InvalidMerkleRoot,
        ),
        (
            "too deep",
            Box::new(|c| c.args.depth = 22),
            E::InvalidBatchShape,
        ),
        (
            "over 2^depth",
            Box::new(|c| c.args.capacity = 3),
            E::InvalidBatchShape,
        ),
        (
            "no packs",
            Box::new(|c| c.args.capacity = 0),
            E::InvalidBatchShape,
        ),
    ];
    for (what, change, expected) in cases {
        let mut c = plan();
        change(&mut c);
        let batch = c.batch();
        let err = s
            .env
            .send_all(&c.instructions(), &[&s.manufacturer, &map])
            .await
            .unwrap_err();
        assert_eq!(err.program_error(), Some(expected), "{what}: {err}");
        assert!(s
            .env
            .client
            .transport()
            .account(&batch)
            .await
            .unwrap()
            .is_none());
    }
    // the right terms at an address that is not the lot's
    let mut ix = plan().instruction();
    ix.accounts[4].pubkey = pda::batch(&s.batch.manifest.gtin_hash(), b"LOT-OTHER").0;
    let [create, _] = plan().instructions();
    let err = s
        .env
        .send_all(&[create, ix], &[&s.manufacturer, &map])
        .await
        .unwrap_err();
    assert_eq!(err.program_error(), Some(E::BatchAddressMismatch), "{err}");

    // a decommission "to active"
    let watched = [s.batch.batch(), s.batch.status_map];
    let ix = s
        .batch
        .decommission(&s.pharmacy.pubkey(), 0, PackState::Active);
    s.env
        .expect_rejected(ix, &[&s.pharmacy], E::PackStateNotInactive, &watched)
        .await;

    // shipments: no hash, no packs, more packs than the batch, to oneself
    let ship = |to: &Keypair, epcis_hash: [u8; 32], quantity: u32| ix::ShipmentSend {
        sender: s.manufacturer.pubkey(),
        receiver: to.pubkey(),
        batch: s.batch.batch(),
        custody: None,
        args: ShipmentSendArgs {
            epcis_hash,
            quantity,
        },
    };
    for send in [
        ship(&s.pharmacy, [0; 32], 1),
        ship(&s.pharmacy, [0xe1; 32], 0),
        ship(&s.pharmacy, [0xe2; 32], 3),
        ship(&s.manufacturer, [0xe3; 32], 1),
    ] {
        let shipment = send.shipment();
        s.env
            .expect_rejected(
                send.instruction(),
                &[&s.manufacturer],
                E::ShipmentInvalid,
                &[shipment],
            )
            .await;
    }
    // a product without a GTIN hash
    let register = ix::ProductRegister {
        authority: s.env.credential_authority.pubkey(),
        manufacturer_wallet: s.manufacturer.pubkey(),
        args: ProductRegisterArgs { gtin_hash: [0; 32] },
    };
    s.env
        .expect_rejected(
            register.instruction(),
            &[&s.env.credential_authority],
            E::InvalidGtinHash,
            &[pda::product(&[0; 32]).0],
        )
        .await;
}
