//! Supply-chain figures for docs/PERFORMANCE.md: rent per commissioned pack against one account
//! per pack, packs dispensed per transaction, and verifications per second.
//! `cargo run --release -p careledger-supply --example supply_bench`
use anchor_lang::{AccountSerialize, Space};
use careledger_sdk::ix;
use careledger_sdk::program::constants::{PACK_MAP_HEADER, PACK_MAP_MAGIC};
use careledger_sdk::program::instructions::PackDecommissionArgs;
use careledger_sdk::program::logic::supply::pack_map_len;
use careledger_sdk::program::state::{Batch, BatchStatus, PackRecord, PackState};
use careledger_sdk::transport::AccountsAt;
use careledger_sdk::{Account, Keypair, Pubkey, Signer};
use careledger_supply::gs1::{Gs1Date, Gtin, PackIdentifier};
use careledger_supply::manifest::{verify_snapshot, Manifest};
use solana_rent::Rent;
use std::time::Instant;

const PACKET: u64 = 1_232;

fn main() {
    let rent = Rent::default();
    let batch_bytes = 8 + Batch::INIT_SPACE;
    let record_bytes = 8 + PackRecord::INIT_SPACE;
    let per_pack_account = rent.minimum_balance(record_bytes);
    println!("== rent per commissioned pack (Rent::default(): (128 + bytes) x 6,960 lamports)");
    println!(
        "   one account per pack ({record_bytes} B, a PackRecord): {per_pack_account} lamports = {:.6} SOL",
        per_pack_account as f64 / 1e9
    );
    println!(
        "   {:>9} | {:>9} | {:>9} | {:>14} | {:>14} | {:>10}",
        "packs", "slots", "map B", "batch+map lam", "lam / pack", "vs 1 acct"
    );
    for packs in [10_000u64, 100_000, 1_000_000] {
        let slots = packs.div_ceil(1024) * 1024;
        let map = pack_map_len(slots as u32);
        let total = rent.minimum_balance(batch_bytes) + rent.minimum_balance(map);
        let per = total as f64 / packs as f64;
        println!(
            "   {packs:>9} | {slots:>9} | {map:>9} | {total:>14} | {per:>14.1} | 1/{:.0}",
            per_pack_account as f64 / per
        );
    }
    println!(
        "   (a dispensed pack's PackRecord, {per_pack_account} lamports, is a deposit the pharmacy gets back\n    when it is settled after the 10-day undo window, or on undo)"
    );

    println!("\n== packs dispensed per legacy transaction ({PACKET} B), one pharmacy, one batch");
    let actor = Keypair::new();
    for depth in [10u8, 14, 17, 20, 21] {
        let batch = Pubkey::new_unique();
        let map = Pubkey::new_unique();
        let custody = Pubkey::new_unique();
        let mut fit = 0;
        let mut size_one = 0;
        for k in 1..=8u32 {
            let ixs: Vec<_> = (0..k)
                .map(|i| {
                    ix::PackDecommission {
                        actor: actor.pubkey(),
                        batch,
                        status_map: map,
                        custody: Some(custody),
                        args: PackDecommissionArgs {
                            index: i,
                            state: PackState::Supplied,
                            pack_secret: [7; 32],
                            proof: vec![[9; 32]; depth as usize],
                        },
                    }
                    .instruction()
                })
                .collect();
            let mut tx =
                solana_transaction::Transaction::new_with_payer(&ixs, Some(&actor.pubkey()));
            tx.sign(&[&actor], solana_hash::Hash::default());
            let size = bincode::serialized_size(&tx).expect("size");
            if k == 1 {
                size_one = size;
            }
            if size <= PACKET {
                fit = k;
            }
        }
        println!(
            "   depth {depth:>2} ({:>9} slots): one decommission {size_one} B, {fit} per transaction",
            1u64 << depth
        );
    }

    println!(
        "\n== verifications per second (parse + manifest lookup + proof root + status, one core)"
    );
    let gtin = Gtin::parse("09506000134352").expect("gtin");
    let expiry = Gs1Date {
        year: 2035,
        month: 12,
        day: 0,
    };
    for packs in [10_000usize, 100_000] {
        let serials: Vec<String> = (0..packs).map(|i| format!("SN{i:08}")).collect();
        let started = Instant::now();
        let manifest = Manifest::plan(
            &gtin,
            "LOT-BENCH",
            expiry,
            &serials,
            Pubkey::new_unique(),
            1024,
        )
        .expect("plan");
        let tree = manifest.tree();
        let planned = started.elapsed();
        let snapshot = snapshot(&manifest, &tree);
        let scans: Vec<String> = (0..packs)
            .map(|i| {
                PackIdentifier {
                    gtin,
                    expiry,
                    lot: "LOT-BENCH".into(),
                    serial: serials[i].clone(),
                    nhrn: None,
                }
                .to_element_string(true)
            })
            .collect();
        let started = Instant::now();
        let mut verified = 0;
        for scan in &scans {
            let pack = PackIdentifier::parse_with_reference_year(scan, 2026).expect("scan");
            if verify_snapshot(&pack, &manifest, &tree, &snapshot).verified {
                verified += 1;
            }
        }
        let took = started.elapsed();
        assert_eq!(verified, packs, "every planned pack verifies");
        println!(
            "   {packs:>7} packs: planned (salts, leaves, tree) in {:.2} s; {verified} verified in {:.2} s = {:.0} verifications/s",
            planned.as_secs_f64(),
            took.as_secs_f64(),
            packs as f64 / took.as_secs_f64()
        );
    }
}

/// The batch, its status map and no pack record, as one read would return them.
fn snapshot(manifest: &Manifest, tree: &careledger_supply::manifest::PackTree) -> AccountsAt {
    let args = manifest.commission_args(tree);
    let mut lot = [0u8; 20];
    lot[..args.lot.len()].copy_from_slice(&args.lot);
    let batch = Batch {
        manufacturer: Pubkey::new_unique(),
        gtin_hash: args.gtin_hash,
        lot,
        lot_len: args.lot.len() as u8,
        expires_at: args.expires_at,
        merkle_root: args.merkle_root,
        depth: args.depth,
        capacity: args.capacity,
        status_map: manifest.status_map,
        status: BatchStatus::Active,
        commissioned_at: 1,
        recalled_at: 0,
        recall_reason: 0,
        decommissioned: 0,
        suspect_reports: 0,
        bump: 255,
        reserved: [0; 16],
    };
    let mut data = Vec::new();
    batch.try_serialize(&mut data).expect("batch");
    let mut map = vec![0u8; pack_map_len(args.capacity)];
    map[..8].copy_from_slice(&PACK_MAP_MAGIC);
    map[8..PACK_MAP_HEADER].copy_from_slice(manifest.batch.as_ref());
    let ours = |data: Vec<u8>| Account {
        lamports: 1,
        data,
        owner: careledger_sdk::program::ID,
        executable: false,
        rent_epoch: 0,
    };
    AccountsAt {
        slot: 1,
        unix_timestamp: 1_800_000_000,
        accounts: vec![Some(ours(data)), Some(ours(map)), None],
    }
}
