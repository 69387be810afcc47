//! `careledger localnet`: a local Solana cluster on 127.0.0.1 that hosts careledger, for
//! development and tests, as `solana-test-validator` and `surfpool start` do for SBF programs.
//!
//! - **Engine.** [LiteSVM](https://github.com/LiteSVM/litesvm) 0.12 executes transactions on
//!   the workspace's Agave 3.1 crates. careledger is registered natively at its declared id (the
//!   SBF toolchain cannot be installed here), through solana-program-test's `processor!` and its
//!   syscall stubs, so its CPIs run; SPL Token, Token-2022, Associated Token and Memo are the
//!   BPF programs LiteSVM ships. careledger's ProgramData names an upgrade authority, so that
//!   `config init` works as on a cluster.
//! - **JSON-RPC** on one port and **PubSub** (websocket) on another (by default the next one,
//!   as solana-test-validator does), both on 127.0.0.1.
//! - **Confirmation.** A transaction executes when it arrives and is `finalized` at once. Slots
//!   advance on a clock ([`Config::slot_time`], 400 ms by default); a blockhash is valid for 150
//!   of them, so a client's `lastValidBlockHeight` and web3.js's 30-second blockhash cache
//!   behave as on a cluster.
//! - **Cheatcodes** with Surfpool's names and parameters: `surfnet_timeTravel`
//!   (`absoluteTimestamp` in unix milliseconds, `absoluteSlot` or `absoluteEpoch`) moves the
//!   clock forward; `surfnet_setAccount` places a state account (attack tests: a foreign owner,
//!   a squatted address).
//! - **Compute units.** Native code is charged one unit per call: a transaction in which
//!   careledger ran reports no `computeUnitsConsumed` / `unitsConsumed` (null), never a figure
//!   that would pass for a real one.
//!
//! ```no_run
//! # fn main() -> Result<(), careledger_localnet::Error> {
//! let localnet = careledger_localnet::Localnet::start(careledger_localnet::Config {
//!     rpc_port: 0,
//!     pubsub_port: Some(0),
//!     ..careledger_localnet::Config::new(solana_pubkey::Pubkey::new_unique())
//! })?;
//! println!("JSON-RPC {} PubSub {}", localnet.rpc_url(), localnet.pubsub_url());
//! # Ok(()) }
//! ```
mod chain;
mod logs;
mod native;
mod params;
mod pubsub;
mod record;
mod rpc;
mod subscriptions;

pub use chain::MAX_PROCESSING_AGE;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use solana_account::Account;
use solana_pubkey::Pubkey;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The largest JSON-RPC request body accepted (Agave's `MAX_REQUEST_BODY_SIZE`).
const MAX_REQUEST_BODY: usize = 50 * 1024;

/// What a localnet starts with.
#[derive(Clone)]
pub struct Config {
    /// The JSON-RPC port on 127.0.0.1 (0: any free port).
    pub rpc_port: u16,
    /// The PubSub port (0: any free port); `None`: the one after `rpc_port`.
    pub pubsub_port: Option<u16>,
    /// How long a slot lasts. A blockhash lives 150 slots: below 200 ms web3.js's 30-second
    /// blockhash cache outlives it.
    pub slot_time: Duration,
    /// The upgrade authority careledger's ProgramData names.
    pub upgrade_authority: Pubkey,
    /// Accounts placed at genesis (a ledger folder's).
    pub accounts: Vec<(Pubkey, Account)>,
    /// Transactions remembered for `getTransaction`, statuses and signature lists.
    pub history: usize,
    /// Unix time moves only with `surfnet_timeTravel` (slots still advance): what a test that
    /// sets the clock to a second needs.
    pub frozen_time: bool,
}

impl Config {
    /// The defaults of `careledger localnet`: ports 8899 and 8900, 400 ms slots.
    pub fn new(upgrade_authority: Pubkey) -> Config {
        Config {
            rpc_port: 8899,
            pubsub_port: None,
            slot_time: Duration::from_millis(400),
            upgrade_authority,
            accounts: Vec::new(),
            history: 1_000_000,
            frozen_time: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("port {port} on 127.0.0.1 ({what}) is already in use: stop what listens there, or pass another port")]
    PortTaken { port: u16, what: &'static str },
    #[error("the {what} port after {port} does not exist: pass a lower --rpc-port")]
    NoNextPort { port: u16, what: &'static str },
    #[error("cannot listen on 127.0.0.1:{port} ({what}): {source}")]
    Listen {
        port: u16,
        what: &'static str,
        source: std::io::Error,
    },
    #[error("cannot start the localnet's runtime: {0}")]
    Runtime(std::io::Error),
}

fn bind(port: u16, what: &'static str) -> Result<std::net::TcpListener, Error> {
    let listener = std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => Error::PortTaken { port, what },
            _ => Error::Listen { port, what, source },
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| Error::Listen { port, what, source })?;
    Ok(listener)
}

/// The JSON-RPC and PubSub listeners. PubSub on the port after JSON-RPC unless told otherwise,
/// as solana-test-validator does and as web3.js's `Connection` assumes (it derives its websocket
/// from the RPC port + 1); with JSON-RPC on any free port (0), a free pair is looked for (a
/// bounded number of times).
fn listeners(
    rpc_port: u16,
    pubsub_port: Option<u16>,
) -> Result<(std::net::TcpListener, std::net::TcpListener), Error> {
    const ATTEMPTS: usize = 32;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let rpc = bind(rpc_port, "JSON-RPC")?;
        let bound = rpc
            .local_addr()
            .map_err(|source| Error::Listen {
                port: rpc_port,
                what: "JSON-RPC",
                source,
            })?
            .port();
        let next = match pubsub_port {
            Some(port) => Ok(port),
            None => bound.checked_add(1).ok_or(Error::NoNextPort {
                port: bound,
                what: "PubSub",
            }),
        };
        match next.and_then(|port| bind(port, "PubSub")) {
            Ok(pubsub) => return Ok((rpc, pubsub)),
            // any free JSON-RPC port will do: try another whose next port is free
            Err(Error::PortTaken { .. } | Error::NoNextPort { .. })
                if rpc_port == 0 && pubsub_port.is_none() && attempt < ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
}

/// A running localnet; dropping it stops the servers and waits for them.
pub struct Localnet {
    rpc: SocketAddr,
    pubsub: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Localnet {
    /// Binds both ports (a taken port is an error naming it), creates the ledger and serves it
    /// on a thread of its own until dropped. Returns once both ports accept connections.
    pub fn start(config: Config) -> Result<Localnet, Error> {
        let (rpc_listener, pubsub_listener) = listeners(config.rpc_port, config.pubsub_port)?;
        let rpc = rpc_listener.local_addr().map_err(|source| Error::Listen {
            port: config.rpc_port,
            what: "JSON-RPC",
            source,
        })?;
        let pubsub_port = config.pubsub_port.unwrap_or(0);
        let pubsub = pubsub_listener
            .local_addr()
            .map_err(|source| Error::Listen {
                port: pubsub_port,
                what: "PubSub",
                source,
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("careledger-localnet")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let node = Arc::new(rpc::Node::new(chain::Chain::new(chain::Genesis {
            slot_time: config.slot_time,
            upgrade_authority: config.upgrade_authority,
            accounts: config.accounts,
            history: config.history,
            frozen_time: config.frozen_time,
        })));
        let (stop, stopped) = watch::channel(false);
        let slot_time = config.slot_time.max(Duration::from_millis(1));
        let thread = std::thread::Builder::new()
            .name("careledger-localnet".into())
            .spawn(move || {
                runtime.block_on(serve(
                    node,
                    rpc_listener,
                    pubsub_listener,
                    slot_time,
                    stopped,
                ));
                runtime.shutdown_timeout(Duration::from_secs(2));
            })
            .map_err(Error::Runtime)?;
        Ok(Localnet {
            rpc,
            pubsub,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn rpc_url(&self) -> String {
        format!("http://{}", self.rpc)
    }

    /// `ws://127.0.0.1:PORT`
    pub fn pubsub_url(&self) -> String {
        format!("ws://{}", self.pubsub)
    }

    pub fn rpc_addr(&self) -> SocketAddr {
        self.rpc
    }

    pub fn pubsub_addr(&self) -> SocketAddr {
        self.pubsub
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    node: Arc<rpc::Node>,
    rpc_listener: std::net::TcpListener,
    pubsub_listener: std::net::TcpListener,
    slot_time: Duration,
    stopped: watch::Receiver<bool>,
) {
    let (Ok(rpc_listener), Ok(pubsub_listener)) = (
        tokio::net::TcpListener::from_std(rpc_listener),
        tokio::net::TcpListener::from_std(pubsub_listener),
    ) else {
        return;
    };
    let io = Arc::new(rpc::methods(node.clone()));
    let app = Router::new()
        .route("/", post(json_rpc).options(preflight))
        .route("/health", get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY))
        .with_state(io);
    let mut http_stop = stopped.clone();
    // a reply must not wait for a delayed ACK (Nagle): 40 ms per request on loopback otherwise
    let rpc_listener = axum::serve::ListenerExt::tap_io(rpc_listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let http = axum::serve(rpc_listener, app).with_graceful_shutdown(async move {
        let _ = http_stop.wait_for(|s| *s).await;
    });
    let pubsub = pubsub::serve(pubsub_listener, node.clone(), stopped.clone());
    let clock = tick(node, slot_time, stopped);
    let _ = tokio::join!(http, pubsub, clock);
}

/// One slot per `slot_time`.
async fn tick(node: Arc<rpc::Node>, slot_time: Duration, mut stopped: watch::Receiver<bool>) {
    let mut interval = tokio::time::interval(slot_time);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => break,
            _ = interval.tick() => node.lock().advance_slot(),
        }
    }
}

/// Browsers (a wallet's page, a dapp) call the RPC cross-origin, as they do a node's.
fn cors(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, solana-client"),
    );
    response
}

async fn preflight() -> axum::response::Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

/// Whether the request may reach the node. A web page a developer visits can post to
/// 127.0.0.1, so: only requests addressed to this machine (a `Host` of 127.0.0.1, localhost or
/// [::1]; DNS rebinding names another), only `application/json` bodies (a cross-origin one then
/// needs a preflight, as for a node), and the cheatcodes (`surfnet_*`, which rewrite accounts and
/// move the clock) never from a browser page (a request with an `Origin`).
fn refused(headers: &HeaderMap, body: &str) -> Option<axum::response::Response> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    if !matches!(name, "127.0.0.1" | "localhost" | "::1") {
        return Some(rpc_refusal(
            StatusCode::FORBIDDEN,
            format!("this localnet answers only requests addressed to 127.0.0.1 or localhost, not to `{host}`"),
        ));
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json {
        return Some(rpc_refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a JSON-RPC request is sent with Content-Type: application/json".to_string(),
        ));
    }
    if headers.contains_key(header::ORIGIN) && calls_cheatcode(body) {
        return Some(rpc_refusal(
            StatusCode::FORBIDDEN,
            "surfnet_* methods rewrite the ledger and are not served to a browser page (a request with an Origin)".to_string(),
        ));
    }
    None
}

/// Whether a request (one call or a batch) names a `surfnet_*` method.
fn calls_cheatcode(body: &str) -> bool {
    let is_cheat = |call: &serde_json::Value| {
        call.get("method")
            .and_then(|m| m.as_str())
            .is_some_and(|m| m.starts_with("surfnet_"))
    };
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(calls)) => calls.iter().any(is_cheat),
        Ok(call) => is_cheat(&call),
        Err(_) => false,
    }
}

/// A refusal before the node: an HTTP status with a JSON-RPC error body (-32600).
fn rpc_refusal(status: StatusCode, message: String) -> axum::response::Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": message},
        "id": null,
    });
    (status, axum::Json(body)).into_response()
}

async fn json_rpc(
    axum::extract::State(io): axum::extract::State<Arc<jsonrpc_core::IoHandler>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    if let Some(refusal) = refused(&headers, &body) {
        return cors(refusal);
    }
    let reply = io.handle_request(&body).await.unwrap_or_default();
    cors(([(header::CONTENT_TYPE, "application/json")], reply).into_response())
}
