//! Replicas: several `careledger serve` of one custodian behind one address, each with a store
//! of its own and no shared disk. They agree because nothing a replica remembers decides a
//! release: the ledger does (the access event, the grant as it is now, the record, the
//! grantee's key), over a request the grantee signed. What a replica does not hold, it pulls.
//!
//! - `GET /v1/records/{record}/custody` ([`custody`]): a replica hands a record's custody file
//!   (the anchor's CID, SHA-256 and size, and the data key wrapped to the custodian) to another
//!   replica, which proves it is one by signing as the custodian's wallet. A staged upload the
//!   anchor now matches is promoted first, so an upload staged at one replica can be confirmed
//!   at another. It never asks its own peers: a pull is one hop.
//! - [`Peers::pull`]: a replica asked for a record it does not hold (a probe, a release, a
//!   confirm, each already allowed by the ledger) asks its `--peer`s in turn for the custody
//!   file, then the ciphertext by CID from that peer's `/ipfs` (every block checked), and
//!   stores both only once the ciphertext decrypts under the unwrapped key to the anchor's
//!   SHA-256 and CID ([`careledger_records::open`], the check an upload passes).
//!
//! docs/GATEWAY.md, "Replicas", has the rule and its reasons.
use super::store::StoredRecord;
use super::{address, not_stored, Gateway};
use crate::common::b64;
use crate::problem::Problem;
use anyhow::{anyhow, bail, Context, Result};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use careledger_records::client::{fetch_from_ipfs, GatewayClient};
use careledger_records::envelope;
use careledger_records::open::{Expected, Opener};
use careledger_records::protocol::{self as wire, hex};
use careledger_records::release;
use careledger_sdk::{LedgerView, Pubkey, RecordAnchor};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use solana_keypair::Keypair;
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a peer may take to connect, and to answer its info or a custody file.
const PEER_CONNECT: Duration = Duration::from_secs(5);
const PEER_ANSWER: Duration = Duration::from_secs(10);
/// The longest pause in a peer's ciphertext.
const PEER_READ_PAUSE: Duration = Duration::from_secs(10);
/// Pulls running at once; a request that would start one more is answered 503.
pub const MAX_PULLS: usize = 2;
/// How long a request waits for a pull before it is answered 503 (the pull goes on).
const PULL_WAIT: Duration = Duration::from_secs(20);
/// How long a pull that found nothing is remembered: requests for that record meanwhile are
/// answered `not-stored` without asking the peers again.
const NOTHING_FOR: Duration = Duration::from_secs(30);

/// A pull's outcome, shared by every request waiting for it.
type Pull = Shared<BoxFuture<'static, Option<StoredRecord>>>;

/// This replica's peers: the other replicas of the same custodian.
pub struct Peers {
    peers: Vec<GatewayClient>,
    /// The custodian's wallet, which a replica signs custody requests with.
    custodian: Keypair,
    /// Pulls running, and those that found nothing in the last [`NOTHING_FOR`], by record.
    pulls: Mutex<HashMap<Pubkey, Pull>>,
    /// One permit per running pull ([`MAX_PULLS`]).
    slots: Arc<tokio::sync::Semaphore>,
}

impl Peers {
    /// Checks every URL now (http or https, with a host), so that a typo fails `serve` at start.
    pub fn new(urls: &[String], custodian: Keypair) -> Result<Peers> {
        let peers = urls
            .iter()
            .map(|url| {
                GatewayClient::bounded(url, PEER_CONNECT, PEER_ANSWER)
                    .map_err(|e| anyhow!("--peer {url}: {e}"))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Peers {
            peers,
            custodian,
            pulls: Mutex::new(HashMap::new()),
            slots: Arc::new(tokio::sync::Semaphore::new(MAX_PULLS)),
        })
    }

    /// The record from the first peer that holds it, checked against `anchor` and stored
    /// here; `None` if no peer holds it. The pull runs as a task of its own, one per record
    /// and at most [`MAX_PULLS`] at once: a request that goes away does not stop it, and
    /// requests for the same record wait for the same pull (up to [`PULL_WAIT`], then 503).
    /// A peer that is down, lies, or belongs to another custodian is passed over (said on
    /// stderr).
    pub async fn pull<V: LedgerView + 'static>(
        gw: &Arc<Gateway<V>>,
        record: &Pubkey,
        anchor: &RecordAnchor,
    ) -> Result<Option<StoredRecord>, Problem> {
        let Some(peers) = gw.peers.as_ref() else {
            return Ok(None);
        };
        let pending = {
            let mut pulls = peers
                .pulls
                .lock()
                .map_err(|_| Problem::internal("pull table poisoned"))?;
            match pulls.get(record) {
                Some(pending) => pending.clone(),
                None => {
                    let Ok(slot) = peers.slots.clone().try_acquire_owned() else {
                        return Err(busy(record, "pulls are running from the peers"));
                    };
                    let (gw, record, anchor) = (gw.clone(), *record, anchor.clone());
                    // the table is held until the entry is in, so the task's removal below
                    // always finds it
                    let (outcome, pending) = tokio::sync::oneshot::channel();
                    tokio::spawn(async move {
                        let Some(peers) = gw.peers.as_ref() else {
                            return;
                        };
                        let found = peers.pull_now(&gw, &record, &anchor).await;
                        drop(slot);
                        let nothing = found.is_none();
                        let _ = outcome.send(found);
                        // nothing found: remembered a while, so that requests meanwhile do
                        // not ask the peers again
                        if nothing {
                            tokio::time::sleep(NOTHING_FOR).await;
                        }
                        if let Ok(mut pulls) = peers.pulls.lock() {
                            pulls.remove(&record);
                        }
                    });
                    let pending: Pull =
                        async move { pending.await.ok().flatten() }.boxed().shared();
                    pulls.insert(record, pending.clone());
                    pending
                }
            }
        };
        // a pull that succeeded is in the store even if its entry is still in the table
        if let Some(stored) = gw.store.record(record).map_err(Problem::internal)? {
            return Ok(Some(stored));
        }
        match tokio::time::timeout(PULL_WAIT, pending).await {
            Ok(found) => Ok(found),
            Err(_) => Err(busy(record, "this replica is fetching it from a peer")),
        }
    }

    async fn pull_now<V: LedgerView>(
        &self,
        gw: &Gateway<V>,
        record: &Pubkey,
        anchor: &RecordAnchor,
    ) -> Option<StoredRecord> {
        for peer in &self.peers {
            match self.pull_from(gw, peer, record, anchor).await {
                Ok(Some(stored)) => return Some(stored),
                Ok(None) => {}
                Err(e) => eprintln!(
                    "careledger serve: peer {} gave no usable copy of record {record}: {e:#}",
                    peer.base()
                ),
            }
        }
        None
    }

    async fn pull_from<V: LedgerView>(
        &self,
        gw: &Gateway<V>,
        peer: &GatewayClient,
        record: &Pubkey,
        anchor: &RecordAnchor,
    ) -> Result<Option<StoredRecord>> {
        let info = peer.info().await?;
        if info.custodian != gw.custodian {
            bail!(
                "it serves custodian {}, not {}: it is not a replica of this gateway",
                info.custodian,
                gw.custodian
            );
        }
        let Some(custody) = peer.custody(&self.custodian, record).await? else {
            return Ok(None);
        };
        let stored: StoredRecord =
            serde_json::from_value(custody).context("its custody file is unreadable")?;
        let key = check_custody(gw, &stored, record, anchor)?;
        let expected = Expected::of_anchor(anchor)
            .ok_or_else(|| anyhow!("the anchored CID implies no UnixFS profile"))?;
        let fetched = fetch_from_ipfs(
            &[peer.base().to_string()],
            anchor,
            &gw.store.tmp_dir(),
            gw.limits.max_upload,
            PEER_READ_PAUSE,
        )
        .await
        .map_err(|e| anyhow!("{e}"))?;
        // the check an upload passes: it decrypts, under this key, as this record, to the
        // anchor's SHA-256 and CID
        let path = fetched.file.path().to_path_buf();
        tokio::task::spawn_blocking(move || -> Result<()> {
            let mut file = std::fs::File::open(&path)?;
            let mut opener = Opener::new(&expected, &key);
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = file.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                opener.update(&buf[..n], |_| Ok(()))?;
            }
            opener.finish(|_| Ok(()))?;
            Ok(())
        })
        .await??;
        // the size is the ciphertext's as fetched, not what the peer says
        if fetched.bytes != stored.bytes {
            bail!(
                "its custody file says {} bytes; the ciphertext it served is {}",
                stored.bytes,
                fetched.bytes
            );
        }
        let meta = StoredRecord {
            bytes: fetched.bytes,
            stored_at: crate::common::unix_now(),
            ..stored
        };
        let temp = fetched.file.into_temp_path().keep()?;
        if let Err(e) = gw.store.commit(&temp, &meta) {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
        Ok(Some(meta))
    }
}

/// A peer's custody file is this record's, as anchored, with a data key this gateway's
/// custodian key unwraps for this record: the key, or why not.
fn check_custody<V>(
    gw: &Gateway<V>,
    stored: &StoredRecord,
    record: &Pubkey,
    anchor: &RecordAnchor,
) -> Result<envelope::DataKey> {
    let cid = careledger_sdk::cid::cid_to_string(&anchor.cid);
    if stored.record != record.to_string()
        || stored.cid != cid
        || stored.sha256 != hex(&anchor.content_sha256)
        || stored.author != anchor.author.to_string()
    {
        bail!("its custody file names another record, CID, SHA-256 or author than the anchor");
    }
    let secret = gw
        .custody_secret(&stored.custody_key)
        .ok_or_else(|| anyhow!("its data key is wrapped to a custodian key this gateway was not given (--previous-x25519-key)"))?;
    let wrapped = b64()
        .decode(&stored.wrapped_key)
        .context("its wrapped key is not base64")?;
    envelope::unwrap_key(
        secret,
        &envelope::custody_info(&careledger_sdk::program::ID, record),
        &wrapped,
    )
    .map_err(|e| anyhow!("its data key does not unwrap for this record: {e}"))
}

/// 503, with when to ask again.
fn busy(record: &Pubkey, why: &str) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "pulling",
        "Fetching from a peer",
        format!("record {record} is not held here yet ({why}): ask again in a few seconds"),
    )
    .with_header(axum::http::header::RETRY_AFTER, "5".into())
}

/// `GET /v1/records/{record}/custody`: the custody file of a record this replica holds (or
/// has staged, and the anchor now matches), to another replica of the same custodian. Signed
/// by the custodian's wallet; the record must be anchored and current. Never pulled from a
/// peer in turn.
pub async fn custody<V: LedgerView>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(record): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let record = address(&record)?;
    let message = gw.signed_for_record(&headers, &record, wire::custody_record_of)?;
    if message.address != gw.custodian {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "not-a-replica",
            "Not a replica",
            format!(
                "custody files go only to replicas of custodian {}, which sign as its wallet; {} is not it",
                gw.custodian, message.address
            ),
        ));
    }
    let anchor = release::clear_current(&gw.view, &record)
        .await
        .map_err(Problem::ledger)??;
    // a request answered not-stored takes no entry in the nonce table: asking peers for
    // records they lack must not use up the custodian's share of it
    let stored = gw
        .held_here(&record, &anchor)?
        .ok_or_else(|| not_stored(&record))?;
    gw.use_nonce(&message)?;
    let mut response = Json(stored).into_response();
    // for the replica that asked, never for a cache in between
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
