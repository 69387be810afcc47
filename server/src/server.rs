//! One builder for every careledger HTTP server: `careledger serve`, the demo, the benchmarks
//! and the tests put their services on it and serve it, so every one of them answers with the
//! same limits, timeouts and refusals.
//!
//! ```no_run
//! # async fn run(gateway: std::sync::Arc<careledger_server::gateway::Gateway<careledger_sdk::embedded::folder::FolderView>>) -> anyhow::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! careledger_server::Server::new()
//!     .gateway(gateway)
//!     .serve(listener)
//!     .await
//! # }
//! ```
use crate::actions::{self, Actions};
use crate::connections::{serve_until, ServeOptions};
use crate::gateway::{self, Gateway};
use crate::problem::{self, Problem};
use axum::http::StatusCode;
use axum::Router;
use careledger_sdk::LedgerView;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long an Actions request may take to be answered (each reads the ledger once or twice).
pub const ACTIONS_TIMEOUT: Duration = Duration::from_secs(30);

/// Services on one router, and how its connections are served.
pub struct Server {
    router: Router,
    options: ServeOptions,
}

impl Default for Server {
    fn default() -> Self {
        Server::new()
    }
}

impl Server {
    /// No service yet; `ServeOptions::default()`'s connection limits.
    pub fn new() -> Server {
        Server {
            router: Router::new(),
            options: ServeOptions::default(),
        }
    }

    /// The record gateway's routes (docs/GATEWAY.md).
    pub fn gateway<V: LedgerView + 'static>(mut self, gateway: Arc<Gateway<V>>) -> Server {
        self.router = self.router.merge(gateway::router(gateway));
        self
    }

    /// The Solana Actions' routes (docs/ACTIONS.md), each answered within [`ACTIONS_TIMEOUT`].
    pub fn actions<C: LedgerView + 'static>(mut self, actions: Arc<Actions<C>>) -> Server {
        use tower_http::timeout::TimeoutLayer;
        let timeout = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, ACTIONS_TIMEOUT);
        self.router = self.router.merge(actions::router(actions).layer(timeout));
        self
    }

    /// The FHIR API's routes under `/fhir` (docs/FHIR.md), each answered within
    /// [`ACTIONS_TIMEOUT`].
    pub fn fhir<L: careledger_sdk::LedgerArchive + 'static>(
        mut self,
        api: Arc<crate::fhir::Fhir<L>>,
    ) -> Server {
        use tower_http::timeout::TimeoutLayer;
        // a search the ledger did not answer in time is the server's delay, not the client's
        let timeout =
            TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, ACTIONS_TIMEOUT);
        let router = crate::fhir::router(api)
            .layer(timeout)
            .layer(axum::middleware::map_response(
                crate::fhir::outcome_for_bare_refusals,
            ));
        self.router = self.router.nest("/fhir", router);
        self
    }

    /// How long a request's head may take to arrive, and a kept-alive connection sit idle.
    pub fn header_timeout(mut self, timeout: Duration) -> Server {
        self.options.header_timeout = timeout;
        self
    }

    /// Connections served at once (beyond, the oldest idle one is closed).
    pub fn max_connections(mut self, max: usize) -> Server {
        self.options.max_connections = max;
        self
    }

    /// The router, with what every route shares: `application/problem+json` for a method a
    /// route does not take, for a route that does not exist, and for a bare refusal from a
    /// layer (a timeout, a body limit).
    pub fn router(self) -> Router {
        self.router
            .method_not_allowed_fallback(|| async {
                Problem::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method-not-allowed",
                    "Method not allowed",
                    "this route does not take that method: see docs/GATEWAY.md for the gateway's routes (and /ipfs), docs/ACTIONS.md for the Actions'".into(),
                )
            })
            .fallback(|| async {
                Problem::new(
                    StatusCode::NOT_FOUND,
                    "no-such-route",
                    "No such route",
                    "see docs/GATEWAY.md for the gateway's routes (and /ipfs), docs/ACTIONS.md for the Actions'".into(),
                )
            })
            // a handler that panics answers 500, described as a problem by the layer around it
            .layer(tower_http::catch_panic::CatchPanicLayer::new())
            .layer(axum::middleware::map_response(problem::for_bare_refusals))
    }

    /// Serves on `listener` until `shutdown` completes, then lets requests in progress finish.
    pub async fn serve_until(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let options = self.options;
        serve_until(listener, self.router(), options, shutdown).await
    }

    /// Serves on `listener` until SIGINT or SIGTERM.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
        let shutdown = shutdown_signal()?;
        self.serve_until(listener, shutdown).await
    }
}

/// Completes at SIGINT or SIGTERM.
pub fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    })
}
