//! `careledger serve`: runs the record gateway (see `gateway`) for --keypair's wallet as the
//! custodian, over a ledger folder (`--url embedded:PATH`, shared safely with CLI commands) or
//! any RPC cluster. Over a cluster it also serves the Solana Actions for patient decisions
//! (see `careledger_server::actions`): a wallet submits their transactions to that cluster.
//! Over either it serves the read-only FHIR API at `/fhir` (see `careledger_server::fhir`).
use crate::session::{default_keypair, lock_timeout};
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use careledger_sdk::embedded::folder::FolderView;
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::SECONDS_PER_DAY;
use careledger_sdk::{pda, EncryptionKey};
use careledger_sdk::{LedgerArchive, LedgerView};
use careledger_server::fhir::Fhir;
use careledger_server::gateway::{self, Gateway, Limits};
use careledger_server::{actions, Server};

use serde_json::{json, Value};
use solana_signer::Signer;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Where to listen (port 0 picks a free one; the address is printed)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The domain (host:port) requests must be signed for [default: the address listened on]
    #[arg(long)]
    pub domain: Option<String>,
    /// The gateway's store: ciphertexts, wrapped keys, used access events
    #[arg(long, default_value = "./careledger-gateway")]
    pub store: PathBuf,
    /// The custodian's X25519 secret key (`careledger keys new`), published for --keypair
    #[arg(long)]
    pub x25519_key: PathBuf,
    /// A key the custodian published before a rotation (repeatable): records stored under it
    /// stay releasable
    #[arg(long)]
    pub previous_x25519_key: Vec<PathBuf>,
    /// Uploads in progress at once (each holds about 400 KiB of memory)
    #[arg(long, default_value_t = 64)]
    pub max_uploads: usize,
    /// Largest ciphertext an upload may carry, in bytes
    #[arg(long, default_value_t = 4 << 30)]
    pub max_upload: u64,
    /// How old an access event may be at release, in seconds
    #[arg(long, default_value_t = careledger_records::protocol::DEFAULT_MAX_EVENT_AGE_SECS)]
    pub max_event_age: i64,
    /// Longest pause in an upload's body, in seconds
    #[arg(long, default_value_t = 30)]
    pub idle_timeout: u64,
    /// Longest wait for a request's head, and for the next request on an idle connection, in
    /// seconds
    #[arg(long, default_value_t = 5)]
    pub header_timeout: u64,
    /// Connections served at once; beyond, the oldest idle one is closed to take the new one
    #[arg(long, default_value_t = 512)]
    pub max_connections: usize,
    /// The slowest an upload may be on average from its first byte (after a 5 s grace), in
    /// bytes per second
    #[arg(long, default_value_t = 64 * 1024)]
    pub min_upload_rate: u64,
    /// The public origin (scheme://host[:port]) of the Solana Actions' links and icon, and of
    /// the FHIR API's links [default: http://DOMAIN]
    #[arg(long)]
    pub actions_origin: Option<String>,
    /// Another replica of this custodian (its URL; repeatable): a record this gateway does not
    /// hold is pulled from the first peer that does, checked against its anchor, and stored
    /// here. Replicas need no shared disk (docs/GATEWAY.md, "Replicas")
    #[arg(long = "peer", value_name = "URL")]
    pub peers: Vec<String>,
    /// Oldest access request an Actions link still decides, in days
    #[arg(long, default_value_t = careledger_server::actions::DEFAULT_MAX_REQUEST_AGE_SECS / SECONDS_PER_DAY)]
    pub max_request_age: i64,
}

pub async fn execute(cli: &Cli, args: &ServeArgs) -> Result<(Value, String)> {
    let path = cli.keypair.clone().unwrap_or_else(default_keypair);
    let custodian = solana_keypair::read_keypair_file(&path)
        .map_err(|e| anyhow!("cannot read the custodian keypair {}: {e}", path.display()))?;
    if let Some(dir) = cli.url.strip_prefix("embedded:") {
        // a typo in the folder's name must not read as a missing key on an empty ledger
        if !std::path::Path::new(dir).is_dir() {
            bail!("there is no ledger folder at {dir}: give the folder your commands use (--url embedded:PATH), or create one with `careledger --url embedded:{dir} config init`");
        }
        let view = FolderView::new(PathBuf::from(dir), lock_timeout(cli)?);
        // a wallet cannot submit a transaction to a ledger folder: no Actions over one
        run(view.clone(), view, custodian, args, None, None).await
    } else {
        let url = crate::session::rpc_url(&cli.url)?;
        let commitment = solana_commitment_config::CommitmentConfig::from_str(&cli.commitment)
            .map_err(|_| anyhow!("unknown commitment `{}`", cli.commitment))?;
        if commitment.is_at_least_confirmed() {
            // the clock sysvar of a lagging node must not be trusted for long
            run(
                RpcTransport::new(url.clone(), commitment),
                RpcTransport::new(url.clone(), commitment),
                custodian,
                args,
                Some(120),
                Some(RpcTransport::new(url, commitment)),
            )
            .await
        } else {
            bail!("a gateway decides on confirmed or finalized state: a processed access event can still be dropped. Pass --commitment confirmed or finalized")
        }
    }
}

async fn run<V: LedgerView + 'static, F: LedgerArchive + 'static>(
    view: V,
    archive: F,
    wallet: solana_keypair::Keypair,
    args: &ServeArgs,
    max_ledger_lag_secs: Option<i64>,
    actions_chain: Option<RpcTransport>,
) -> Result<(Value, String)> {
    let custodian = wallet.pubkey();
    // a typo in a peer's URL fails here, before anything is bound or created
    let peers = match args.peers.is_empty() {
        true => None,
        false => Some(gateway::replicas::Peers::new(&args.peers, wallet)?),
    };
    let secret = super::keys::read_x25519(&args.x25519_key)?;
    let previous = args
        .previous_x25519_key
        .iter()
        .map(|p| super::keys::read_x25519(p))
        .collect::<Result<Vec<_>>>()?;
    let key_account = pda::encryption_key(&custodian).0;
    let published = view
        .accounts_at(&[key_account])
        .await
        .map_err(|e| anyhow!("cannot read the ledger: {e}"))?
        .accounts
        .pop()
        .flatten()
        .and_then(|a| {
            careledger_sdk::accounts::decode::<EncryptionKey>(&key_account, &a.owner, &a.data).ok()
        });
    // authors check this gateway's key against the published one: it must be that key
    super::keys::check_published(
        &args.x25519_key,
        &custodian,
        published.map(|k| k.x25519),
        secret.public(),
        "records stored under the old key then need it as --previous-x25519-key",
    )?;
    // listen first: a failed bind leaves no store behind
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| anyhow!("cannot listen on {}: {e}", args.listen))?;
    let store = gateway::store::Store::open(&args.store)?;
    let local = listener.local_addr()?;
    let domain = args.domain.clone().unwrap_or_else(|| local.to_string());
    let idle = Duration::from_secs(args.idle_timeout.max(1));
    let header_timeout = Duration::from_secs(args.header_timeout.max(1));
    let limits = Limits {
        max_uploads: args.max_uploads,
        max_ledger_lag_secs,
        max_upload: args.max_upload,
        max_event_age_secs: args.max_event_age,
        idle,
        small_body: header_timeout,
        min_upload_rate: args.min_upload_rate,
        ..Limits::default()
    };
    let mut gw = Gateway::new(
        view,
        store,
        custodian,
        secret,
        previous,
        domain.clone(),
        limits,
    );
    let replicas = match peers {
        Some(peers) => {
            gw = gw.with_peers(peers);
            format!("; pulls from {} peer(s)", args.peers.len())
        }
        None => String::new(),
    };
    let gw = Arc::new(gw);
    let origin = args
        .actions_origin
        .clone()
        .unwrap_or_else(|| format!("http://{domain}"));
    // DocumentReferences link the records this gateway holds to its own /ipfs
    let holds = gw.clone();
    let ipfs_origin = origin.clone();
    let mut fhir = Fhir::new(archive, &origin).with_holder(Box::new(move |record| {
        let stored = holds.store.record(record).ok().flatten()?;
        Some((ipfs_origin.clone(), stored.bytes))
    }));
    if let Some(secs) = max_ledger_lag_secs {
        fhir = fhir.with_max_ledger_lag(secs);
    }
    let mut server = Server::new()
        .gateway(gw)
        .fhir(Arc::new(fhir))
        .header_timeout(header_timeout)
        .max_connections(args.max_connections);
    let mut served = "no Solana Actions: they need a cluster URL".to_string();
    if let Some(chain) = actions_chain {
        served = format!("Solana Actions at {origin}/actions.json");
        server = server.actions(Arc::new(actions::Actions {
            chain,
            origin: origin.clone(),
            max_request_age_secs: args.max_request_age.max(1).saturating_mul(SECONDS_PER_DAY),
        }));
    }
    // the one line a supervisor (or a test) waits for
    println!(
        "careledger gateway listening on http://{local} (domain {domain}, custodian {custodian}; FHIR API at {origin}/fhir; {served}{replicas})"
    );
    std::io::stdout().flush()?;
    server.serve(listener).await?;
    Ok((
        json!({"stopped": local.to_string()}),
        format!("gateway on {local} stopped"),
    ))
}
