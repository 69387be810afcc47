//! The gateway's store, a folder:
//!
//! ```text
//! STORE/
//!   lock                 held by the one gateway serving this store
//!   objects/CID          each record's ciphertext, named by its CID (content-addressed)
//!   blocks/CID.json      where each block of that ciphertext's UnixFS DAG is (a leaf is a range
//!                        of the object; a parent node is kept whole), for the trustless
//!                        gateway `/ipfs/{cid}`; built at the first request for the root, and at
//!                        start for any object without one
//!   records/ADDRESS.json what the gateway knows of a record: CID, SHA-256, size, author, and
//!                        the data key wrapped (HPKE) to the custodian's X25519 key
//!   used.log             every release this gateway made: the access event it was made
//!                        against (grant, its access count, its time, record), its
//!                        transaction, when, and what was sent (key, or key and ciphertext);
//!                        one per line, an audit of this replica's releases (what allows a
//!                        release is the ledger alone: docs/GATEWAY.md, "Replicas")
//!   tmp/                 uploads in progress (cleared at start)
//!   staged/RECORD.AUTHOR a ciphertext uploaded before its anchor, promoted to objects/ once the
//!                        matching anchor is on chain (cleared at start; expires)
//! ```
//!
//! The data key is never stored in the clear: only the custodian's secret key unwraps it. An
//! upload becomes visible only once its object and its record file are both durable (written,
//! fsynced, renamed into place, directory fsynced), so a crash leaves either the whole record
//! or nothing. A release is written to `used.log` and fsynced before any byte is sent. A record
//! this gateway does not hold may be pulled from a peer replica (`replicas`), and is stored as
//! an upload is: its custody file and its ciphertext, each checked against the anchor first.
use anyhow::{anyhow, bail, Context, Result};
use careledger_records::trustless::{BlockIndex, ObjectBlocks};
use careledger_records::unixfs::Profile;
use serde::{Deserialize, Serialize};
use solana_pubkey::Pubkey;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::sync::{Arc, RwLock};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredRecord {
    pub record: String,
    pub cid: String,
    /// Hex SHA-256 of the ciphertext, as anchored.
    pub sha256: String,
    pub bytes: u64,
    pub author: String,
    /// Base64 HPKE encapsulation and sealed data key, to the custodian's key.
    pub wrapped_key: String,
    /// Base64 public key of the custodian key it is wrapped to (keys rotate).
    #[serde(default)]
    pub custody_key: String,
    pub stored_at: i64,
}

pub struct Store {
    dir: PathBuf,
    _lock: File,
    /// `used.log`, and what it has had since the start.
    releases: Mutex<ReleaseLog>,
    next_temp: AtomicU64,
    /// Every block of every stored object, by binary CID: the object's DAG it belongs to.
    blocks: RwLock<HashMap<Vec<u8>, Arc<ObjectBlocks>>>,
}

/// `used.log`, and the releases logged in it since the start that may still be asked again
/// (their event is recent), so that asking again does not write again.
struct ReleaseLog {
    file: File,
    logged: HashMap<String, i64>,
}

/// Releases remembered before the ones whose event is too old to be asked again are dropped.
const MAX_REMEMBERED_RELEASES: usize = 65_536;

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

impl Store {
    /// Opens (creating) the store and takes its lock: two gateways on one store would each
    /// think an access event unused.
    pub fn open(dir: &Path) -> Result<Store> {
        for sub in ["objects", "records", "tmp", "staged", "blocks"] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("cannot create the store {}", dir.display()))?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock"))?;
        if lock.try_lock().is_err() {
            bail!(
                "another gateway is serving the store {}: stop it, or pass another --store",
                dir.display()
            );
        }
        for sub in ["tmp", "staged"] {
            for leftover in fs::read_dir(dir.join(sub))? {
                let _ = fs::remove_file(leftover?.path());
            }
        }
        let used_path = dir.join("used.log");
        if let Ok(bytes) = fs::read(&used_path) {
            // a line torn by a crash was never acknowledged (that release never left): cut it,
            // so the next line starts clean
            let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            if whole < bytes.len() {
                OpenOptions::new()
                    .write(true)
                    .open(&used_path)?
                    .set_len(whole as u64)?;
            }
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&used_path)
            .with_context(|| format!("cannot open {}", used_path.display()))?;
        let store = Store {
            dir: dir.to_path_buf(),
            _lock: lock,
            releases: Mutex::new(ReleaseLog {
                file: log,
                logged: HashMap::new(),
            }),
            next_temp: AtomicU64::new(0),
            blocks: RwLock::new(HashMap::new()),
        };
        for object in fs::read_dir(dir.join("objects"))? {
            let name = object?.file_name();
            let Some(cid) = name.to_str() else { continue };
            // an object that cannot be indexed is still released with its key; it is only
            // not served by CID (said once, at start)
            if let Err(e) = store.index_object(cid) {
                eprintln!("careledger serve: {cid} is not served at /ipfs: {e:#}");
            }
        }
        Ok(store)
    }

    fn index_path(&self, cid: &str) -> PathBuf {
        self.dir.join("blocks").join(format!("{cid}.json"))
    }

    /// Loads (or builds from the object, and writes) the block index of the object `cid` (its
    /// canonical text), and makes its blocks findable by CID. Building reads the whole object
    /// once: at start for every object without an index, and at the first request for the
    /// root of an object stored since.
    pub fn index_object(&self, cid: &str) -> Result<()> {
        let root = careledger_records::trustless::parse_cid(cid)?;
        let path = self.index_path(cid);
        let saved = fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<BlockIndex>(&bytes).ok())
            .filter(|index| index.root == cid)
            // an index for another length than the object's is rebuilt
            .filter(|index| {
                fs::metadata(self.object_path(cid)).is_ok_and(|m| m.len() == index.file_size)
            })
            .and_then(|index| ObjectBlocks::new(&index).ok());
        let blocks = match saved {
            Some(blocks) => blocks,
            None => {
                let profile = Profile::implied_by(&root)
                    .ok_or_else(|| anyhow!("its CID implies no UnixFS profile"))?;
                let file = File::open(self.object_path(cid))?;
                let index = BlockIndex::build(std::io::BufReader::new(file), profile, &root)?;
                let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
                let temp = self
                    .dir
                    .join("tmp")
                    .join(format!("{cid}-{}-{n}.blocks", std::process::id()));
                let mut out = File::create(&temp)?;
                out.write_all(&serde_json::to_vec(&index)?)?;
                out.sync_all()?;
                fs::rename(&temp, &path)?;
                sync_dir(&self.dir.join("blocks"))?;
                ObjectBlocks::new(&index)?
            }
        };
        let blocks = Arc::new(blocks);
        let mut map = self
            .blocks
            .write()
            .map_err(|_| anyhow!("block map poisoned"))?;
        for block in blocks.cids() {
            map.insert(block.to_vec(), blocks.clone());
        }
        Ok(())
    }

    /// The stored DAG holding the block `cid`, if any.
    pub fn dag_of(&self, cid: &[u8]) -> Option<Arc<ObjectBlocks>> {
        self.blocks.read().ok()?.get(cid).cloned()
    }

    fn record_path(&self, record: &Pubkey) -> PathBuf {
        self.dir.join("records").join(format!("{record}.json"))
    }

    pub fn object_path(&self, cid: &str) -> PathBuf {
        self.dir.join("objects").join(cid)
    }

    pub fn record(&self, record: &Pubkey) -> Result<Option<StoredRecord>> {
        match fs::read(self.record_path(record)) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                format!("the store's file for record {record} is unreadable")
            })?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow!("cannot read the store's file for {record}: {e}")),
        }
    }

    /// Where a ciphertext `author` uploaded for `record` before its anchor waits.
    pub fn staged_path(&self, record: &Pubkey, author: &Pubkey) -> PathBuf {
        self.dir.join("staged").join(format!("{record}.{author}"))
    }

    /// Moves a verified upload into staged/ (replacing this author's earlier one for the record).
    pub fn stage(&self, temp: &Path, record: &Pubkey, author: &Pubkey) -> Result<PathBuf> {
        let path = self.staged_path(record, author);
        fs::rename(temp, &path).with_context(|| format!("cannot stage {}", path.display()))?;
        Ok(path)
    }

    /// A new file under tmp/ for an upload in progress.
    pub fn temp_file(&self) -> Result<(PathBuf, File)> {
        let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
        let path = self
            .dir
            .join("tmp")
            .join(format!("upload-{}-{n}", std::process::id()));
        let file =
            File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok((path, file))
    }

    /// Makes an upload durable and visible: the object first, then the record file. `temp` is
    /// an upload under tmp/ or a staged one.
    pub fn commit(&self, temp: &Path, meta: &StoredRecord) -> Result<()> {
        File::open(temp)?.sync_all()?;
        fs::rename(temp, self.object_path(&meta.cid))?;
        sync_dir(&self.dir.join("objects"))?;
        let record: Pubkey = meta.record.parse().map_err(|_| anyhow!("bad record"))?;
        let n = self.next_temp.fetch_add(1, Ordering::Relaxed);
        let staged =
            self.dir
                .join("tmp")
                .join(format!("{}-{}-{n}.json", meta.record, std::process::id()));
        let mut file = File::create(&staged)?;
        file.write_all(&serde_json::to_vec_pretty(meta)?)?;
        file.sync_all()?;
        fs::rename(&staged, self.record_path(&record))?;
        sync_dir(&self.dir.join("records"))
    }

    /// Appends a release to `used.log`, durable before it returns (no byte of a release
    /// leaves before its line is on disk): `event` is "GRANT ACCESS_COUNT AT RECORD" (the
    /// access event, at `event_at`) with what was sent, `line` the rest (its transaction, the
    /// time). The same event and content asked again while it is recent is written once:
    /// events older than `oldest` are forgotten when the table fills. Blocking (an fsync).
    pub fn log_release(&self, event: &str, line: &str, event_at: i64, oldest: i64) -> Result<()> {
        let mut log = self
            .releases
            .lock()
            .map_err(|_| anyhow!("release log poisoned"))?;
        if log.logged.contains_key(event) {
            return Ok(());
        }
        log.file.write_all(format!("{event} {line}\n").as_bytes())?;
        log.file.sync_data()?;
        if log.logged.len() >= MAX_REMEMBERED_RELEASES {
            log.logged.retain(|_, at| *at >= oldest);
        }
        log.logged.insert(event.to_string(), event_at);
        Ok(())
    }

    /// The store's scratch directory (same file system as the objects, so a finished file is
    /// renamed into place).
    pub fn tmp_dir(&self) -> PathBuf {
        self.dir.join("tmp")
    }
}
