//! `careledger localnet`: a local cluster on 127.0.0.1 hosting careledger (the
//! `careledger-localnet` crate), until Ctrl-C or SIGTERM. This file only reads the flags.
use crate::session::lock_timeout;
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use careledger_sdk::embedded::folder::{Access, Folder};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// JSON-RPC port on 127.0.0.1 (0: any free one); PubSub listens on the next one
    #[arg(long, default_value_t = 8899)]
    pub rpc_port: u16,
    /// PubSub (websocket) port [default: --rpc-port + 1]
    #[arg(long)]
    pub pubsub_port: Option<u16>,
    /// How long a slot lasts, in milliseconds. A blockhash is valid for 150 slots; web3.js
    /// caches one for 30 s, so keep it at 200 or more for web3.js clients
    #[arg(long, default_value_t = 400)]
    pub slot_ms: u64,
    /// Keypair file of careledger's upgrade authority, who may run `config init` [default: a
    /// new keypair, printed at start]
    #[arg(long)]
    pub authority: Option<PathBuf>,
    /// Unix time moves only with `surfnet_timeTravel` (slots and blockhashes still advance):
    /// for tests that set the clock to the second
    #[arg(long)]
    pub frozen_time: bool,
    /// Start from the accounts of a ledger folder (`--url embedded:DIR`'s); it is read once and
    /// never written
    #[arg(long)]
    pub ledger: Option<PathBuf>,
}

pub async fn execute(cli: &Cli, args: &LocalnetArgs) -> Result<(Value, String)> {
    if args.slot_ms == 0 {
        bail!("--slot-ms must be at least 1");
    }
    let (authority, new_key) = match &args.authority {
        Some(path) => (
            solana_keypair::read_keypair_file(path).map_err(|e| {
                anyhow!(
                    "cannot read the upgrade authority keypair {}: {e}",
                    path.display()
                )
            })?,
            false,
        ),
        None => (Keypair::new(), true),
    };
    let mut upgrade_authority = authority.pubkey();
    let mut accounts = Vec::new();
    if let Some(dir) = &args.ledger {
        if !dir.is_dir() {
            bail!("--ledger {}: no such ledger folder", dir.display());
        }
        let folder = Folder::open(dir, Access::Shared, lock_timeout(cli)?)?;
        let snapshot = folder.load()?;
        accounts.extend(snapshot.accounts);
        // the folder's program was "deployed" by its first writer; without --authority the
        // localnet names the same one
        if let (Some(folder_authority), None) = (snapshot.upgrade_authority, &args.authority) {
            upgrade_authority = folder_authority;
        }
    }
    let loaded = accounts.len();
    let localnet = careledger_localnet::Localnet::start(careledger_localnet::Config {
        rpc_port: args.rpc_port,
        pubsub_port: args.pubsub_port,
        slot_time: Duration::from_millis(args.slot_ms),
        upgrade_authority,
        accounts,
        frozen_time: args.frozen_time,
        ..careledger_localnet::Config::new(upgrade_authority)
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "careledger localnet: JSON-RPC {} PubSub {} (careledger {}, upgrade authority {upgrade_authority}, {} ms slots{})",
        localnet.rpc_url(),
        localnet.pubsub_url(),
        careledger_sdk::program::ID,
        args.slot_ms,
        if args.ledger.is_some() {
            format!(", {loaded} accounts from the ledger folder")
        } else {
            String::new()
        }
    )?;
    if new_key && args.ledger.is_none() {
        writeln!(
            out,
            "a new upgrade authority; save this line as a keypair file to sign `careledger config init` with it:\n{}",
            serde_json::to_string(&authority.to_bytes().to_vec())?
        )?;
    }
    out.flush()?;
    drop(out);
    // the natively run program prints its error lines (`AnchorError occurred. ...`) to stdout;
    // they belong to the transactions' logs, not to this terminal
    let quiet = gag::Gag::stdout().ok();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    drop(localnet);
    drop(quiet);
    Ok((
        json!({"stopped": true}),
        "careledger localnet stopped".to_string(),
    ))
}
