//! `careledger supply`: the drug supply chain. The credential authority approves supply parties
//! and registers products to their manufacturer; a manufacturer plans a batch's pack manifest
//! offline and commissions it; whoever holds a pack verifies it against the ledger, and a
//! pharmacy dispenses (decommissions) it with a proof from the manifest.
//!
//! `supply verify` answers as `verify` and `credential verify` do: exit 0 for a pack that
//! verifies, 1 for one that does not, 2 when there is no verdict (an unreadable manifest or scan).
//! A decommission refused as a clone (`SUSPECT`) is on the ledger, and exits 1.
use crate::session::{describe, explain, sent, Session};
use anyhow::{anyhow, bail, Result};
use careledger_sdk::events::SuspectPack;
use careledger_sdk::program::state::{
    BatchStatus, PackRecord, PackState, SUPPLY_DISPENSER, SUPPLY_MANUFACTURER, SUPPLY_WHOLESALER,
};
use careledger_sdk::summary::render;
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{cid, ix, pda, CareledgerEvent, Transport, TxOutcome};
use careledger_server::common::{hex, unix_now};
use careledger_supply::gs1::{Gs1Date, Gtin, PackIdentifier, GS};
use careledger_supply::manifest::{gtin_hash_of, Manifest};
use clap::{Subcommand, ValueEnum};
use serde_json::{json, Value};
use solana_keypair::{read_keypair_file, write_keypair_file, Keypair};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};

const PACK_HELP: &str = "The pack's GS1 identifier: the human-readable form \
(01)GTIN(17)YYMMDD(10)LOT(21)SERIAL, a GS1 Digital Link URI, or a scanner's element string. \
In an element string write the GS separator (0x1D) as <GS> or \\x1d if the shell cannot pass it";

const MANIFEST_HELP: &str = "The batch's pack manifest (written by `careledger supply plan`)";

#[derive(Subcommand)]
pub enum SupplyCmd {
    /// Reads a pack's GS1 identifier and prints its GTIN, NDC, lot, expiry and serial
    ///
    /// No ledger is needed. An element string may hold the GS separator 0x1D, or <GS> or \x1d in
    /// its place for shells that cannot pass it.
    Parse {
        #[arg(help = PACK_HELP)]
        pack: String,
    },
    /// Registers --keypair's wallet as a supply-chain party, pending the credential authority's
    /// approval
    Register {
        /// manufacturer, wholesaler, dispenser (comma-separated)
        #[arg(long, value_enum, value_delimiter = ',', required = true)]
        roles: Vec<SupplyRole>,
        /// The licence document: only its SHA-256 goes on chain
        #[arg(long)]
        credential_file: PathBuf,
    },
    /// The credential authority approves a registered party's supply roles until an expiry
    /// (care roles it already confirmed stay; a pending party's self-requested care roles are
    /// not confirmed)
    Approve {
        #[arg(value_parser = crate::session::address)]
        wallet: Pubkey,
        /// manufacturer, wholesaler, dispenser (comma-separated)
        #[arg(long, value_enum, value_delimiter = ',', required = true)]
        roles: Vec<SupplyRole>,
        #[arg(long, default_value_t = 365, value_parser = crate::session::days)]
        days: i64,
    },
    /// The credential authority registers a product (GTIN) to the one manufacturer that may
    /// commission its batches
    ProductRegister {
        /// The product's GTIN-14 (with its check digit)
        #[arg(long)]
        gtin: String,
        /// The manufacturer's wallet (approved with the manufacturer role)
        #[arg(long, value_parser = crate::session::address)]
        manufacturer: Pubkey,
    },
    /// Plans a batch offline: writes its pack manifest and a fresh status-map keypair (OUT.map.json)
    Plan(PlanArgs),
    /// The manufacturer commissions the manifest's batch; the status-map keypair next to the
    /// manifest (MANIFEST.map.json) co-signs
    Commission {
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
    },
    /// Takes an active pack out of circulation with its proof from the manifest. A pack that is
    /// no longer active is refused as SUSPECT (a cloned serial): that report is on the ledger,
    /// and the command exits 1
    Decommission {
        #[arg(help = PACK_HELP)]
        pack: String,
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
        /// The state it leaves active for (supplied: dispensed to the public, by a dispenser)
        #[arg(long, value_enum)]
        state: StateName,
    },
    /// A pharmacy dispenses a pack: `decommission --state supplied`
    Dispense {
        #[arg(help = PACK_HELP)]
        pack: String,
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
    },
    /// The premises that decommissioned a pack sets it active again (within 10 days)
    Undo {
        #[arg(help = PACK_HELP)]
        pack: String,
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
    },
    /// Closes a supplied pack's record once its undo window has passed; the rent goes back to the
    /// premises that dispensed it
    Settle {
        #[arg(help = PACK_HELP)]
        pack: String,
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
    },
    /// The manufacturer recalls (or withdraws) the manifest's batch: final, every pack of it
    /// then fails verification
    Recall {
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
        /// A market withdrawal instead of a recall
        #[arg(long)]
        withdraw: bool,
        /// The manufacturer's own reason code
        #[arg(long)]
        reason: u16,
    },
    /// Anchors a shipment of the manifest's batch to another supply party: the SHA-256 of the
    /// sender's EPCIS document goes on chain
    Ship {
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
        /// The receiver's wallet
        #[arg(long, value_parser = crate::session::address)]
        to: Pubkey,
        /// The sender's EPCIS 2.0 document for this shipment
        #[arg(long)]
        epcis: PathBuf,
        /// Packs shipped
        #[arg(long)]
        quantity: u32,
    },
    /// The receiver acknowledges a shipment with the SHA-256 of its EPCIS receiving document
    Receive {
        #[arg(value_parser = crate::session::address)]
        shipment: Pubkey,
        #[arg(long)]
        epcis: PathBuf,
    },
    /// Checks a pack against the ledger, as the DSCSA Verification Router Service answers: exit 0
    /// when it verifies, 1 when it does not, 2 when it cannot be checked
    Verify {
        #[arg(help = PACK_HELP)]
        pack: String,
        #[arg(long, help = MANIFEST_HELP)]
        manifest: PathBuf,
    },
}

#[derive(clap::Args)]
pub struct PlanArgs {
    /// The product's GTIN-14 (with its check digit)
    #[arg(long)]
    gtin: String,
    /// The lot (AI 10): 1 to 20 characters of GS1 character set 82
    #[arg(long)]
    lot: String,
    /// The expiry (AI 17) as YYMMDD; DD 00 means the end of the month
    #[arg(long)]
    expiry: String,
    /// A file with one serial a line, in the order the packs get their slots
    #[arg(long)]
    serials: PathBuf,
    /// Pads the batch with decoy slots to a multiple of this, so the chain shows its size only
    /// to this granularity
    #[arg(long, default_value_t = 1024)]
    pad_to: u32,
    /// Where to write the manifest; the status-map keypair goes next to it, as OUT.map.json
    #[arg(long)]
    out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SupplyRole {
    Manufacturer,
    Wholesaler,
    Dispenser,
}

/// The inactive states a pack can be decommissioned to (EU FMD).
#[derive(Clone, Copy, ValueEnum)]
pub enum StateName {
    Supplied,
    Exported,
    CheckedOut,
    Stolen,
    Sample,
    FreeSample,
    Locked,
    Destroyed,
}

impl StateName {
    fn state(self) -> PackState {
        match self {
            StateName::Supplied => PackState::Supplied,
            StateName::Exported => PackState::Exported,
            StateName::CheckedOut => PackState::CheckedOut,
            StateName::Stolen => PackState::Stolen,
            StateName::Sample => PackState::Sample,
            StateName::FreeSample => PackState::FreeSample,
            StateName::Locked => PackState::Locked,
            StateName::Destroyed => PackState::Destroyed,
        }
    }
}

impl SupplyRole {
    fn bit(self) -> u8 {
        match self {
            SupplyRole::Manufacturer => SUPPLY_MANUFACTURER,
            SupplyRole::Wholesaler => SUPPLY_WHOLESALER,
            SupplyRole::Dispenser => SUPPLY_DISPENSER,
        }
    }
}

fn role_mask(roles: &[SupplyRole]) -> u8 {
    roles.iter().fold(0, |mask, role| mask | role.bit())
}

fn role_names(mask: u8) -> Vec<&'static str> {
    careledger_sdk::classes::SUPPLY_ROLES
        .into_iter()
        .filter(|(_, bit)| mask & bit != 0)
        .map(|(name, _)| name)
        .collect()
}

/// The GS separator from the forms a shell can pass: `<GS>` and `\x1d`.
fn unescape(input: &str) -> String {
    let gs = GS.to_string();
    ["<GS>", "<gs>", "\\x1d", "\\x1D"]
        .iter()
        .fold(input.to_string(), |s, escape| s.replace(escape, &gs))
}

fn parse_pack(input: &str) -> Result<PackIdentifier> {
    PackIdentifier::parse(&unescape(input))
        .map_err(|e| anyhow!("cannot read the pack identifier {input:?}: {e}"))
}

/// The year the GS1 sliding window puts an expiry's century around.
fn this_year() -> u16 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(unix_now(), 0).map_or(2026, |t| t.year() as u16)
}

fn parse_gtin(text: &str) -> Result<Gtin> {
    Gtin::parse(text).map_err(|e| anyhow!("--gtin {text}: {e}"))
}

/// Where `plan` writes a manifest's status-map keypair: MANIFEST.map.json.
fn map_keypair_path(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_owned();
    name.push(".map.json");
    PathBuf::from(name)
}

fn load_manifest(path: &Path) -> Result<Manifest> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow!("cannot read the manifest {}: {e}", path.display()))?;
    Manifest::from_bytes(&bytes, this_year()).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// A pack the manifest lists: its manifest, identifier, index and secret.
struct Located {
    manifest: Manifest,
    pack: PackIdentifier,
    index: u32,
    secret: [u8; 32],
}

fn locate(input: &str, manifest_path: &Path) -> Result<Located> {
    let pack = parse_pack(input)?;
    let manifest = load_manifest(manifest_path)?;
    let Some((index, secret)) = manifest.find(&pack) else {
        bail!(
            "GTIN {} lot {} serial {} is not in this manifest: counterfeit or another batch (the manifest is GTIN {} lot {})",
            pack.gtin.as_str(),
            pack.lot,
            pack.serial,
            manifest.gtin.as_str(),
            manifest.lot
        );
    };
    Ok(Located {
        manifest,
        pack,
        index,
        secret,
    })
}

/// The transaction's signature and events, with `extra` fields, and its summary lines.
fn report(out: &TxOutcome, headline: String, extra: Value) -> (Value, String) {
    let mut v = sent(out);
    if let (Some(fields), Value::Object(extra)) = (v.as_object_mut(), extra) {
        fields.extend(extra);
    }
    (v, format!("{headline}\n{}", describe(&out.events)))
}

/// `supply parse`: no ledger needed.
pub fn parse(input: &str) -> Result<(Value, String)> {
    let pack = parse_pack(input)?;
    let mut lines = vec![format!("GTIN    {}", pack.gtin.as_str())];
    if let Some(ndc) = pack.gtin.ndc10() {
        lines.push(format!("NDC     {ndc}"));
    }
    lines.push(format!("lot     {}", pack.lot));
    lines.push(format!("expiry  {}", pack.expiry.to_iso()));
    lines.push(format!("serial  {}", pack.serial));
    if let Some((ai, value)) = &pack.nhrn {
        lines.push(format!("NHRN    ({ai}) {value}"));
    }
    Ok((pack.to_json(), lines.join("\n")))
}

/// `supply plan`: the manifest and its status-map keypair, written offline.
pub fn plan(args: &PlanArgs) -> Result<(Value, String)> {
    let gtin = parse_gtin(&args.gtin)?;
    let expiry = Gs1Date::from_yymmdd(&args.expiry, this_year())
        .map_err(|e| anyhow!("--expiry {}: {e}", args.expiry))?;
    if args.pad_to == 0 {
        bail!("--pad-to must be at least 1");
    }
    let text = std::fs::read_to_string(&args.serials)
        .map_err(|e| anyhow!("cannot read the serials {}: {e}", args.serials.display()))?;
    let serials: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if serials.is_empty() {
        bail!("{} holds no serial (one a line)", args.serials.display());
    }
    let key_path = map_keypair_path(&args.out);
    for path in [&args.out, &key_path] {
        if path.exists() {
            bail!(
                "{} exists: refusing to overwrite a manifest or its status-map keypair",
                path.display()
            );
        }
    }
    let map = Keypair::new();
    let manifest = Manifest::plan(
        &gtin,
        &args.lot,
        expiry,
        &serials,
        map.pubkey(),
        args.pad_to,
    )?;
    let tree = manifest.tree();
    let commission = ix::BatchCommission {
        manufacturer: Pubkey::default(),
        status_map: map.pubkey(),
        args: manifest.commission_args(&tree),
    };
    let (map_bytes, rent) = commission.status_map_size();
    write_keypair_file(&map, &key_path)
        .map_err(|e| anyhow!("cannot write {}: {e}", key_path.display()))?;
    std::fs::write(&args.out, manifest.to_bytes()).map_err(|e| {
        let _ = std::fs::remove_file(&key_path);
        anyhow!("cannot write {}: {e}", args.out.display())
    })?;
    let root = hex(&tree.root());
    let value = json!({
        "manifest": args.out.display().to_string(),
        "status_map_keypair": key_path.display().to_string(),
        "batch": manifest.batch.to_string(),
        "status_map": manifest.status_map.to_string(),
        "gtin": gtin.as_str(),
        "lot": manifest.lot,
        "expiry": expiry.to_iso(),
        "packs": serials.len(),
        "capacity": manifest.capacity(),
        "depth": manifest.depth,
        "root": root,
        "status_map_bytes": map_bytes,
        "status_map_rent_lamports": rent,
    });
    let text = format!(
        "wrote {} ({} packs in {} slots, tree depth {}) and its status-map keypair {}\n  batch {}\n  root {root}\n  status map {}: {map_bytes} bytes holding {rent} lamports of rent, paid at `careledger supply commission --manifest {}`",
        args.out.display(),
        serials.len(),
        manifest.capacity(),
        manifest.depth,
        key_path.display(),
        manifest.batch,
        manifest.status_map,
        args.out.display()
    );
    Ok((value, text))
}

/// The command's answer, and whether it succeeded (a pack that does not verify, or a decommission
/// refused as suspect, is not).
pub async fn execute(s: &Session, cmd: &SupplyCmd) -> Result<(Value, String, bool)> {
    let me = s.me();
    let done = |(value, text)| (value, text, true);
    Ok(match cmd {
        SupplyCmd::Parse { .. } | SupplyCmd::Plan(_) => {
            bail!("internal error: `supply parse` and `supply plan` need no session")
        }
        SupplyCmd::Register {
            roles,
            credential_file,
        } => done(register(s, roles, credential_file).await?),
        SupplyCmd::Approve {
            wallet,
            roles,
            days,
        } => done(approve(s, wallet, roles, *days).await?),
        SupplyCmd::ProductRegister { gtin, manufacturer } => {
            let gtin = parse_gtin(gtin)?;
            let gtin_hash = gtin_hash_of(&gtin);
            let out = s
                .send(
                    ix::ProductRegister {
                        authority: me,
                        manufacturer_wallet: *manufacturer,
                        args: careledger_sdk::ProductRegisterArgs { gtin_hash },
                    }
                    .instruction(),
                )
                .await?;
            let product = pda::product(&gtin_hash).0;
            done(report(
                &out,
                format!(
                    "product {} (GTIN {}) registered to manufacturer {manufacturer}",
                    product,
                    gtin.as_str()
                ),
                json!({"product": product.to_string(), "gtin": gtin.as_str()}),
            ))
        }
        SupplyCmd::Commission { manifest } => done(commission(s, manifest).await?),
        SupplyCmd::Decommission {
            pack,
            manifest,
            state,
        } => decommission(s, pack, manifest, state.state()).await?,
        SupplyCmd::Dispense { pack, manifest } => {
            decommission(s, pack, manifest, PackState::Supplied).await?
        }
        SupplyCmd::Undo { pack, manifest } => {
            let p = locate(pack, manifest)?;
            let out = s
                .send(
                    ix::PackReactivate {
                        actor: me,
                        batch: p.manifest.batch,
                        status_map: p.manifest.status_map,
                        args: careledger_sdk::PackReactivateArgs { index: p.index },
                    }
                    .instruction(),
                )
                .await?;
            done(report(
                &out,
                format!(
                    "serial {} (pack #{} of batch {}) is active again",
                    p.pack.serial, p.index, p.manifest.batch
                ),
                json!({"batch": p.manifest.batch.to_string(), "index": p.index}),
            ))
        }
        SupplyCmd::Settle { pack, manifest } => {
            let p = locate(pack, manifest)?;
            let address = pda::pack_record(&p.manifest.batch, p.index).0;
            let record: PackRecord = s
                .client
                .fetch_optional(&address)
                .await
                .map_err(explain)?
                .ok_or_else(|| {
                    anyhow!(
                        "serial {} (pack #{} of batch {}) has no record to settle: it is active, or its record was settled already",
                        p.pack.serial,
                        p.index,
                        p.manifest.batch
                    )
                })?;
            let out = s
                .send(
                    ix::PackSettle {
                        by: me,
                        batch: p.manifest.batch,
                        actor: record.actor,
                        args: careledger_sdk::PackSettleArgs { index: p.index },
                    }
                    .instruction(),
                )
                .await?;
            done(report(
                &out,
                format!(
                    "serial {} (pack #{} of batch {}) settled as supplied",
                    p.pack.serial, p.index, p.manifest.batch
                ),
                json!({"batch": p.manifest.batch.to_string(), "index": p.index}),
            ))
        }
        SupplyCmd::Recall {
            manifest,
            withdraw,
            reason,
        } => {
            let m = load_manifest(manifest)?;
            let status = if *withdraw {
                BatchStatus::Withdrawn
            } else {
                BatchStatus::Recalled
            };
            let out = s
                .send(
                    ix::BatchRecall {
                        manufacturer: me,
                        batch: m.batch,
                        args: careledger_sdk::BatchRecallArgs {
                            status,
                            reason_code: *reason,
                        },
                    }
                    .instruction(),
                )
                .await?;
            let what = if *withdraw { "withdrawn" } else { "recalled" };
            done(report(
                &out,
                format!(
                    "batch {} (GTIN {} lot {}) {what} (reason {reason})",
                    m.batch,
                    m.gtin.as_str(),
                    m.lot
                ),
                json!({"batch": m.batch.to_string(), "status": format!("{status:?}")}),
            ))
        }
        SupplyCmd::Ship {
            manifest,
            to,
            epcis,
            quantity,
        } => {
            let m = load_manifest(manifest)?;
            let epcis_hash = sha256_of(epcis)?;
            let send = ix::ShipmentSend {
                sender: me,
                receiver: *to,
                batch: m.batch,
                // a holder ships under the shipment it received (the manufacturer needs none)
                custody: s.client.custody_of(&m.batch, &me).await?,
                args: careledger_sdk::ShipmentSendArgs {
                    epcis_hash,
                    quantity: *quantity,
                },
            };
            let shipment = send.shipment();
            let out = s.send(send.instruction()).await?;
            done(report(
                &out,
                format!(
                    "shipment {shipment}: {quantity} packs of batch {} to {to}",
                    m.batch
                ),
                json!({"shipment": shipment.to_string(), "epcis_hash": hex(&epcis_hash)}),
            ))
        }
        SupplyCmd::Receive { shipment, epcis } => {
            let receipt_hash = sha256_of(epcis)?;
            let out = s
                .send(
                    ix::ShipmentReceive {
                        receiver: me,
                        shipment: *shipment,
                        args: careledger_sdk::ShipmentReceiveArgs { receipt_hash },
                    }
                    .instruction(),
                )
                .await?;
            done(report(
                &out,
                format!("shipment {shipment} received"),
                json!({"shipment": shipment.to_string(), "receipt_hash": hex(&receipt_hash)}),
            ))
        }
        // no verdict is an error, which main turns into exit 2 (as for `verify`)
        SupplyCmd::Verify { pack, manifest } => verify(s, pack, manifest).await?,
    })
}

fn sha256_of(file: &Path) -> Result<[u8; 32]> {
    cid::sha256_file(file)
        .map_err(|e| anyhow!("cannot read the EPCIS document {}: {e}", file.display()))
}

async fn register(s: &Session, roles: &[SupplyRole], file: &Path) -> Result<(Value, String)> {
    let me = s.me();
    let credential_ref = cid::sha256_file(file)
        .map_err(|e| anyhow!("cannot read the credential file {}: {e}", file.display()))?;
    if s.client
        .transport()
        .account(&pda::provider(&me).0)
        .await?
        .is_some()
    {
        bail!(
            "{me} is already registered as a provider: the credential authority adds supply roles with `careledger supply approve {me} --roles ...`"
        );
    }
    let supply_roles = role_mask(roles);
    let args = careledger_sdk::ProviderRegisterArgs {
        roles: 0,
        supply_roles,
        credential_ref,
    };
    let out = s
        .send(ix::ProviderRegister { wallet: me, args }.instruction())
        .await?;
    let names = role_names(supply_roles);
    Ok(report(
        &out,
        format!(
            "supply party {me} registered as {}, pending approval",
            names.join("+")
        ),
        json!({"supply_roles": names}),
    ))
}

async fn approve(
    s: &Session,
    wallet: &Pubkey,
    roles: &[SupplyRole],
    days: i64,
) -> Result<(Value, String)> {
    if days < 1 {
        bail!("--days must be at least 1 (got {days})");
    }
    let provider: careledger_sdk::Provider = s
        .client
        .fetch_optional(&pda::provider(wallet).0)
        .await
        .map_err(explain)?
        .ok_or_else(|| {
            anyhow!(
                "{wallet} is not a registered provider: it registers with `careledger supply register` first"
            )
        })?;
    let now = s.client.transport().unix_timestamp().await?;
    let credential_expires_at = days
        .checked_mul(SECONDS_PER_DAY)
        .and_then(|secs| now.checked_add(secs))
        .ok_or_else(|| anyhow!("--days {days} is too far ahead"))?;
    let supply_roles = role_mask(roles);
    // Care roles are not this command's to confirm: a pending provider's are only what it asked
    // for, so they are dropped; a verified provider keeps those the authority already confirmed.
    let care_roles = match provider.status {
        careledger_sdk::ProviderStatus::Pending => 0,
        _ => provider.roles,
    };
    let args = careledger_sdk::ProviderVerifyArgs {
        roles: care_roles,
        supply_roles,
        credential_expires_at,
        credential_ref: [0; 32],
    };
    let out = s
        .send(
            ix::ProviderVerify {
                authority: s.me(),
                provider_wallet: *wallet,
                args,
            }
            .instruction(),
        )
        .await?;
    let names = role_names(supply_roles);
    Ok(report(
        &out,
        format!(
            "supply party {wallet} approved as {} for {days} days",
            names.join("+")
        ),
        json!({"supply_roles": names, "credential_expires_at": credential_expires_at}),
    ))
}

async fn commission(s: &Session, manifest_path: &Path) -> Result<(Value, String)> {
    let manifest = load_manifest(manifest_path)?;
    let key_path = map_keypair_path(manifest_path);
    let map = read_keypair_file(&key_path).map_err(|e| {
        anyhow!(
            "cannot read the status-map keypair {}: {e} (`careledger supply plan` writes it next to the manifest)",
            key_path.display()
        )
    })?;
    if map.pubkey() != manifest.status_map {
        bail!(
            "{} is the keypair of {}, but the manifest's status map is {}",
            key_path.display(),
            map.pubkey(),
            manifest.status_map
        );
    }
    let tree = manifest.tree();
    let instructions = ix::BatchCommission {
        manufacturer: s.me(),
        status_map: manifest.status_map,
        args: manifest.commission_args(&tree),
    }
    .instructions();
    let out = s.send_all(&instructions, &[&map]).await?;
    Ok(report(
        &out,
        format!(
            "batch {} (GTIN {} lot {}, use by {}) commissioned: the packs you planned, in {} with decoys (the chain sees only the slots)",
            manifest.batch,
            manifest.gtin.as_str(),
            manifest.lot,
            render::last_day(manifest.expiry.end_of_day_unix()),
            render::count(u64::from(manifest.capacity()), "slot", "slots"),
        ),
        json!({
            "batch": manifest.batch.to_string(),
            "status_map": manifest.status_map.to_string(),
            "root": hex(&tree.root()),
        }),
    ))
}

async fn decommission(
    s: &Session,
    pack: &str,
    manifest_path: &Path,
    state: PackState,
) -> Result<(Value, String, bool)> {
    let p = locate(pack, manifest_path)?;
    // 00 (end of month) and the month's last day are the same expiry
    if p.pack.expiry.end_of_day_unix() != p.manifest.expiry.end_of_day_unix() {
        bail!(
            "the pack says it expires {}, but its batch expires {}: its label does not match the batch",
            p.pack.expiry.to_iso(),
            p.manifest.expiry.to_iso()
        );
    }
    let tree = p.manifest.tree();
    let out = s
        .send(
            ix::PackDecommission {
                actor: s.me(),
                batch: p.manifest.batch,
                status_map: p.manifest.status_map,
                // the shipment of this batch this premises received; without one an active pack
                // is only reported suspect (off its chain of custody)
                custody: s.client.custody_of(&p.manifest.batch, &s.me()).await?,
                args: careledger_sdk::PackDecommissionArgs {
                    index: p.index,
                    state,
                    pack_secret: p.secret,
                    proof: tree.proof(p.index),
                },
            }
            .instruction(),
        )
        .await?;
    let suspect: Option<&SuspectPack> = out.events.iter().find_map(|e| match e {
        CareledgerEvent::SuspectPack(e) => Some(e),
        _ => None,
    });
    let extra = json!({
        "batch": p.manifest.batch.to_string(),
        "index": p.index,
        "state": format!("{state:?}"),
        "suspect": suspect.is_some(),
    });
    let serial = &p.pack.serial;
    Ok(match suspect {
        None => {
            let (v, text) = report(
                &out,
                format!(
                    "serial {serial} (pack #{} of batch {}) decommissioned: {state:?}",
                    p.index, p.manifest.batch
                ),
                extra,
            );
            (v, text, true)
        }
        Some(e) => {
            let why = if e.state == PackState::Active {
                "is active, but this premises received no shipment of its batch (a pack off its chain of custody)".to_string()
            } else {
                format!("was already {:?}", e.state)
            };
            let (v, text) = report(
                &out,
                format!(
                    "SUSPECT: serial {serial} (pack #{}) {why}: NOT decommissioned; the attempt is on the ledger as a suspect report ({})",
                    p.index,
                    if e.pack_reports == 0 {
                        format!("counted for the batch only: {}", render::count(u64::from(e.batch_reports), "report", "reports"))
                    } else {
                        format!("{} for the pack, {} for the batch", render::count(u64::from(e.pack_reports), "report", "reports"), render::count(u64::from(e.batch_reports), "report", "reports"))
                    }
                ),
                extra,
            );
            (v, text, false)
        }
    })
}

async fn verify(s: &Session, pack: &str, manifest_path: &Path) -> Result<(Value, String, bool)> {
    let pack = parse_pack(pack)?;
    let manifest = load_manifest(manifest_path)?;
    let tree = manifest.tree();
    let answer = careledger_supply::manifest::verify(s.client.transport(), &pack, &manifest, &tree)
        .await
        .map_err(explain)?;
    let who = format!(
        "GTIN {} lot {} serial {}",
        pack.gtin.as_str(),
        pack.lot,
        pack.serial
    );
    let text = match (&answer.reason, answer.index) {
        (None, Some(index)) => format!(
            "verified: true\n{who}: pack #{index} of batch {} is active",
            answer.batch
        ),
        (None, None) => format!("verified: true\n{who}"),
        (Some(reason), _) => {
            let (failure, info) = reason.vrs();
            let state = answer
                .state
                .map_or(String::new(), |s| format!(", state {s:?}"));
            format!(
                "verified: false\nreason: {} ({failure}{}){state}\n{who}",
                reason.code(),
                info.map_or(String::new(), |i| format!(", {i}"))
            )
        }
    };
    Ok((answer.to_json(), text, answer.verified))
}
