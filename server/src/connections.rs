//! Serving connections so that idle ones cannot lock everyone out (issue 23, G3).
//!
//! - hyper's `header_read_timeout` bounds the wait for a request's head, and, since hyper
//!   starts that timer whenever it waits for a head, the idle time between requests of a
//!   kept-alive connection too (hyper 1.12, `proto/h1/conn.rs`, `poll_read_head`).
//! - Beyond `max_connections`, a new connection is accepted at once and the oldest connection
//!   with no request in progress is asked to close (hyper's `graceful_shutdown`: a connection
//!   that sent nothing, or is between requests, closes now; one part-way through a head closes
//!   at its header timeout; a request in progress finishes first). Evicted connections do not
//!   count against `max_connections`; the process never holds more than twice as many.
use axum::body::{Body, Bytes, HttpBody};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::Notify;
use tower::ServiceExt;

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct ServeOptions {
    /// Longest wait for a request's head, and for the next request on a kept-alive connection.
    pub header_timeout: Duration,
    /// Connections served at once before the oldest idle one is asked to close.
    pub max_connections: usize,
}

impl Default for ServeOptions {
    /// `careledger serve`'s defaults.
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(5),
            max_connections: 512,
        }
    }
}

struct Entry {
    /// Requests in progress on the connection (from the head to the end of the answer).
    busy: Arc<AtomicUsize>,
    evict: Arc<Notify>,
    evicting: bool,
}

/// The connections served now, oldest first.
struct Table {
    max: usize,
    next: AtomicU64,
    entries: Mutex<BTreeMap<u64, Entry>>,
}

impl Table {
    /// Admits a new connection; at capacity, asks the oldest idle one to close.
    fn admit(&self) -> (u64, Arc<AtomicUsize>, Arc<Notify>) {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let busy = Arc::new(AtomicUsize::new(0));
        let evict = Arc::new(Notify::new());
        let Ok(mut entries) = self.entries.lock() else {
            return (id, busy, evict);
        };
        let live = entries.values().filter(|e| !e.evicting).count();
        if live >= self.max {
            if let Some(oldest) = entries
                .values_mut()
                .find(|e| !e.evicting && e.busy.load(Ordering::SeqCst) == 0)
            {
                oldest.evicting = true;
                oldest.evict.notify_one();
            }
        }
        entries.insert(
            id,
            Entry {
                busy: busy.clone(),
                evict: evict.clone(),
                evicting: false,
            },
        );
        (id, busy, evict)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&id);
        }
    }
}

/// Counts a request as in progress until its answer's body is dropped (written or abandoned).
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn enter(count: Arc<AtomicUsize>) -> Busy {
        count.fetch_add(1, Ordering::SeqCst);
        Busy(count)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An answer's body that keeps its request counted as in progress.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let max = options.max_connections.max(1);
    let table = Arc::new(Table {
        max,
        next: AtomicU64::new(0),
        entries: Mutex::new(BTreeMap::new()),
    });
    // a hard bound on descriptors: evicted connections may linger up to their header timeout
    let sockets = Arc::new(tokio::sync::Semaphore::new(max.saturating_mul(2)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = sockets.clone().acquire_owned() => permit?,
            _ = &mut shutdown => return Ok(()),
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // a response's headers and its last small piece must not wait for a
                    // delayed ACK (Nagle): 40 ms per release on loopback otherwise
                    let _ = stream.set_nodelay(true);
                    stream
                }
                // out of descriptors, or a connection reset before accept: keep serving
                Err(e) => {
                    eprintln!("careledger gateway: accept failed ({e}); retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => return Ok(()),
        };
        let (id, busy, evict) = table.admit();
        let app = app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
            let busy = Busy::enter(busy.clone());
            let app = app.clone();
            async move {
                let response = app.oneshot(request.map(Body::new)).await;
                response.map(|r| r.map(|body| Body::new(Tracked { body, _busy: busy })))
            }
        });
        let table = table.clone();
        tokio::spawn(async move {
            // the connection leaves the table however its task ends, a panic included
            let _leaves = Leaves { table, id };
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(options.header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = evict.notified() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(permit);
        });
    }
}

/// Removes a connection from the table when dropped.
struct Leaves {
    table: Arc<Table>,
    id: u64,
}

impl Drop for Leaves {
    fn drop(&mut self) {
        self.table.remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At capacity the oldest connection with no request in progress is asked to go; busy
    /// ones stay, and evicted ones no longer count.
    #[test]
    fn the_oldest_idle_connection_makes_room() {
        let table = Table {
            max: 2,
            next: AtomicU64::new(0),
            entries: Mutex::new(BTreeMap::new()),
        };
        let (_, busy0, _) = table.admit();
        let (_, _, evict1) = table.admit();
        busy0.fetch_add(1, Ordering::SeqCst);
        let (_, _, evict2) = table.admit();
        let evicting = |id: u64| table.entries.lock().unwrap()[&id].evicting;
        assert!(
            !evicting(0),
            "a connection with a request in progress stays"
        );
        assert!(evicting(1));
        let _ = (evict1, evict2);
        let (_, _, _) = table.admit();
        assert!(evicting(2), "the next oldest idle one goes next");
        assert!(!evicting(3));
    }
}
