//! The ledger folder on disk: who may use it at a time, and how a save becomes durable all at once.
//!
//! ```text
//! careledger-ledger/
//!   lock                      advisory lock (flock): exclusive for writers, shared for readers
//!   current -> gen-0000000042 the committed generation (a symlink, switched by one rename)
//!   gen-0000000042/
//!     manifest.json           generation, upgrade authority, SHA-256 and size of every file below
//!     events.log              the audit events of every saved command, one base64 event per line
//!     accounts/ADDRESS.json   one account each, in the JSON `solana-test-validator --account` reads
//! ```
//!
//! A save writes the next generation beside the current one (unchanged account files are hard
//! links, so a save costs what changed), fsyncs every file and directory, then points `current`
//! at it with one `rename`, fsyncs the folder, and only then reports success. A crash before the
//! rename leaves the previous generation in force; the half-written one is swept by the next
//! writer. The events log lives inside the generation, so it always agrees with the accounts.
//!
//! Loading checks every file against the manifest and refuses a torn, foreign or missing file
//! with its name and what to do: a half-loaded bank is never saved over good state.
use super::error::{bail, fail, Context, FolderError, Result};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use solana_account::Account;
use solana_pubkey::Pubkey;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

pub const LOCK: &str = "lock";
pub const CURRENT: &str = "current";
const CURRENT_NEXT: &str = "current.next";
pub const MANIFEST: &str = "manifest.json";
pub const EVENTS: &str = "events.log";
pub const ACCOUNTS: &str = "accounts";
const GENERATION_PREFIX: &str = "gen-";
/// The layout before generations (careledger ≤ issue 12): accounts/, events.log and
/// upgrade-authority at the top. Such a folder is read as it is and migrated by the next write.
const LEGACY_AUTHORITY: &str = "upgrade-authority";
const FORMAT: &str = "careledger-ledger-folder";
const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    /// Read-only commands: any number at once, never beside a writer.
    Shared,
    /// Writing commands: one at a time, from load to save.
    Exclusive,
}

/// An open ledger folder, holding its lock until dropped (the OS releases it if the process dies).
pub struct Folder {
    dir: PathBuf,
    access: Access,
    _lock: Option<File>,
}

/// What one generation holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// 0 for a folder nothing was saved in yet.
    pub generation: u64,
    pub upgrade_authority: Option<Pubkey>,
    pub accounts: BTreeMap<Pubkey, Account>,
    /// The events log's lines, base64-decoded, oldest first.
    pub events: Vec<Vec<u8>>,
    /// SHA-256 (hex) of each account file, to hard-link what a save does not change.
    files: BTreeMap<Pubkey, String>,
    events_log: Vec<u8>,
    legacy: bool,
    /// This generation was committed from a legacy folder, whose files the sweep may remove.
    migrated_legacy: bool,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    generation: u64,
    upgrade_authority: String,
    accounts: BTreeMap<String, FileEntry>,
    events: EventsEntry,
    /// Set on the generation a legacy folder was migrated into.
    #[serde(default)]
    migrated_legacy: bool,
}

#[derive(Serialize, Deserialize, PartialEq)]
struct FileEntry {
    sha256: String,
    bytes: u64,
}

#[derive(Serialize, Deserialize)]
struct EventsEntry {
    lines: u64,
    bytes: u64,
    sha256: String,
}

/// The JSON of `solana account --output json`, which `solana-test-validator --account` reads.
#[derive(Serialize, Deserialize)]
struct AccountFile {
    pubkey: String,
    account: UiAccount,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UiAccount {
    lamports: u64,
    data: (String, String),
    owner: String,
    executable: bool,
    rent_epoch: u64,
    #[serde(default)]
    space: Option<u64>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn generation_name(generation: u64) -> String {
    format!("{GENERATION_PREFIX}{generation:010}")
}

/// What to do about an I/O error, in words a user can act on.
fn advice(e: &std::io::Error) -> &'static str {
    match e.kind() {
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            "free some disk space (or raise the quota) and run the command again"
        }
        ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied => {
            "the folder is read-only for this user: write commands cannot run here (show, audit, verify and `ledger check` still can)"
        }
        _ => "check the disk and run the command again",
    }
}

impl Snapshot {
    /// Read from the layout before generations (no manifest to check against).
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }
}

impl Folder {
    /// Opens `dir` and takes its lock, waiting at most `timeout` for another command to finish.
    /// A writer creates the folder; a reader of a folder that does not exist sees an empty one.
    pub fn open(dir: &Path, access: Access, timeout: Duration) -> Result<Folder> {
        if access == Access::Exclusive {
            let created = !dir.exists();
            fs::create_dir_all(dir).map_err(|e| {
                fail!(
                    "cannot create the ledger folder {}: {e}: {}",
                    dir.display(),
                    advice(&e)
                )
            })?;
            if created {
                // the new folder's own name must survive a crash too
                match dir.parent() {
                    Some(p) if p.as_os_str().is_empty() => sync_dir(Path::new("."))?,
                    Some(p) => sync_dir(p)?,
                    None => {}
                }
            }
        }
        // a folder careledger did not write is named before anything touches it: a reader does
        // not leave a lock file in someone's directory
        if dir.is_dir() {
            Folder::refuse_foreign_folder_of(dir)?;
        }
        let deadline = Instant::now().checked_add(timeout);
        let lock = loop {
            let Some(file) = open_lock_file(dir, access)? else {
                break None;
            };
            wait_for_lock(&file, dir, access, timeout, deadline)?;
            // Someone may have deleted `lock` (and another process created a new one) between
            // our open and our lock: a lock on an unlinked file excludes nobody. Retry on the
            // file the path names now.
            if same_file(&file, &dir.join(LOCK)) {
                break Some(file);
            }
        };
        let folder = Folder {
            dir: dir.to_path_buf(),
            access,
            _lock: lock,
        };
        if access == Access::Exclusive {
            Folder::refuse_foreign_folder_of(&folder.dir)?;
        }
        Ok(folder)
    }

    pub fn access(&self) -> Access {
        self.access
    }

    /// The committed generation `current` names, without loading it (`None`: no generation
    /// yet, or the layout before generations). A generation never changes once committed, so a
    /// reader may keep what it loaded from one for as long as this stays the same.
    pub fn current_generation(&self) -> Result<Option<u64>> {
        Ok(self.current()?.map(|(generation, _)| generation))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn current(&self) -> Result<Option<(u64, PathBuf)>> {
        let link = self.dir.join(CURRENT);
        let target = match fs::read_link(&link) {
            Ok(target) => target,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == ErrorKind::InvalidInput => bail!(
                "{} is not a symlink to a generation: this folder was not written by careledger. Use another folder",
                link.display()
            ),
            Err(e) => bail!("cannot read {}: {e}", link.display()),
        };
        let name = target.to_str().unwrap_or_default();
        let generation = parse_generation_name(name)
            .ok_or_else(|| {
                fail!(
                    "{} points at `{}`, which is not a generation of this folder: it was changed outside careledger. Point it back at the newest gen-NNNNNNNNNN directory",
                    link.display(),
                    target.display()
                )
            })?;
        Ok(Some((generation, self.dir.join(name))))
    }

    fn is_legacy(&self) -> bool {
        [ACCOUNTS, LEGACY_AUTHORITY, EVENTS]
            .iter()
            .any(|name| fs::symlink_metadata(self.dir.join(name)).is_ok())
    }

    /// A writer refuses a folder that holds anything careledger did not put there (someone pointed
    /// `embedded:` at their home directory): the sweep below would delete it. A reader refuses it
    /// too: what it would report of such a folder ("nothing saved yet") is not true.
    fn refuse_foreign_folder_of(dir: &Path) -> Result<()> {
        let entries = fs::read_dir(dir)
            .with_context(|| format!("cannot list the ledger folder {}", dir.display()))?;
        for entry in entries {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with('.')
                || [
                    LOCK,
                    CURRENT,
                    CURRENT_NEXT,
                    ACCOUNTS,
                    EVENTS,
                    LEGACY_AUTHORITY,
                ]
                .contains(&name.as_ref())
                || parse_generation_name(&name).is_some();
            if !ours {
                bail!(
                    "{} is not a careledger ledger folder: it holds `{name}`. Pass --url embedded:PATH with a new or empty folder",
                    dir.display()
                );
            }
        }
        Ok(())
    }

    /// Removes what a crashed save left behind: generations `current` does not name, a
    /// half-made `current.next`, and the legacy files of a migration that committed. Called by
    /// a writer only once the current generation has loaded, so a damaged folder keeps every
    /// copy it has. Best effort: what cannot be removed now is tried again by the next writer.
    fn sweep(&self, loaded: &Snapshot) {
        let keep = generation_name(loaded.generation);
        let _ = fs::remove_file(self.dir.join(CURRENT_NEXT));
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if parse_generation_name(&name).is_some() && name != keep {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        if loaded.migrated_legacy {
            let _ = fs::remove_dir_all(self.dir.join(ACCOUNTS));
            let _ = fs::remove_file(self.dir.join(EVENTS));
            let _ = fs::remove_file(self.dir.join(LEGACY_AUTHORITY));
        }
    }

    /// Reads the committed generation (or a legacy folder), checking every file.
    pub fn load(&self) -> Result<Snapshot> {
        let mut snapshot = self.load_as_saved()?;
        upgrade_layouts(&mut snapshot.accounts);
        Ok(snapshot)
    }

    fn load_as_saved(&self) -> Result<Snapshot> {
        if let Some((generation, dir)) = self.current()? {
            let snapshot = load_generation(generation, &dir)?;
            if self.is_legacy() && !snapshot.migrated_legacy {
                bail!(
                    "{} holds files of the layout before generations (accounts/, events.log or upgrade-authority) beside generation {generation}: an older careledger wrote to it. Move those files away (careledger reads only current/), then run the command again",
                    self.dir.display()
                );
            }
            if self.access == Access::Exclusive {
                self.sweep(&snapshot);
            }
            return Ok(snapshot);
        }
        if self.is_legacy() {
            return load_legacy(&self.dir);
        }
        Ok(Snapshot::default())
    }

    /// Saves `accounts` and the events log extended by `new_events` as the next generation, all
    /// at once. Returns the generation now committed (`base`'s own if nothing changed).
    pub fn commit(
        &self,
        base: &Snapshot,
        upgrade_authority: &Pubkey,
        accounts: &BTreeMap<Pubkey, Account>,
        new_events: &[Vec<u8>],
    ) -> Result<u64> {
        if self.access != Access::Exclusive {
            bail!("internal error: a read-only command tried to save the ledger folder");
        }
        let unchanged = base.generation > 0
            && !base.legacy
            && new_events.is_empty()
            && base.upgrade_authority == Some(*upgrade_authority)
            && &base.accounts == accounts;
        if unchanged {
            return Ok(base.generation);
        }
        let now = self.current()?.map_or(0, |(g, _)| g);
        if now != base.generation {
            bail!(
                "the ledger folder {} moved from generation {} to {now} while this command held its lock (was the lock file deleted?): nothing was saved; run the command again",
                self.dir.display(),
                base.generation
            );
        }
        let generation = base.generation + 1;
        let name = generation_name(generation);
        let staging = self.dir.join(&name);
        // A crashed save's leftover was swept when this command loaded; if the name is taken
        // now, another process is saving (the lock file was deleted): never touch its files.
        if let Err(e) = fs::create_dir(&staging) {
            if e.kind() == ErrorKind::AlreadyExists {
                bail!(
                    "{} exists: another command is saving this folder at the same time (was the lock file deleted?); nothing was saved",
                    staging.display()
                );
            }
            bail!(
                "cannot save the ledger folder {}: cannot create {}: {e}: {}",
                self.dir.display(),
                staging.display(),
                advice(&e)
            );
        }
        let written = self.write_generation(
            base,
            generation,
            &staging,
            upgrade_authority,
            accounts,
            new_events,
        );
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&staging);
            return Err(e.context(format!(
                "cannot save the ledger folder {}: nothing was changed, it still holds generation {}",
                self.dir.display(),
                base.generation
            )));
        }
        self.switch_to(&name, base.generation, generation)?;
        let committed = Snapshot {
            generation,
            migrated_legacy: base.legacy,
            ..Snapshot::default()
        };
        self.sweep(&committed);
        crash_point();
        Ok(generation)
    }

    fn write_generation(
        &self,
        base: &Snapshot,
        generation: u64,
        staging: &Path,
        upgrade_authority: &Pubkey,
        accounts: &BTreeMap<Pubkey, Account>,
        new_events: &[Vec<u8>],
    ) -> Result<()> {
        // `staging` was created by `commit`, which removes it again if this fails
        let accounts_dir = staging.join(ACCOUNTS);
        create_dir(&accounts_dir)?;
        let base_dir = self.current()?.map(|(_, dir)| dir);
        let mut entries = BTreeMap::new();
        for (address, account) in accounts {
            let bytes = account_json(address, account)?;
            let sha256 = sha256_hex(&bytes);
            let file = format!("{address}.json");
            let path = accounts_dir.join(&file);
            let linked = match (&base_dir, base.files.get(address)) {
                (Some(old), Some(old_sha)) if *old_sha == sha256 => {
                    fs::hard_link(old.join(ACCOUNTS).join(&file), &path).is_ok()
                }
                _ => false,
            };
            if !linked {
                write_durable(&path, &bytes)?;
            }
            crash_point();
            entries.insert(
                address.to_string(),
                FileEntry {
                    sha256,
                    bytes: bytes.len() as u64,
                },
            );
        }
        let mut log = base.events_log.clone();
        for event in new_events {
            log.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(event)
                    .as_bytes(),
            );
            log.push(b'\n');
        }
        write_durable(&staging.join(EVENTS), &log)?;
        crash_point();
        let manifest = Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            generation,
            upgrade_authority: upgrade_authority.to_string(),
            accounts: entries,
            migrated_legacy: base.legacy,
            events: EventsEntry {
                lines: (base.events.len() + new_events.len()) as u64,
                bytes: log.len() as u64,
                sha256: sha256_hex(&log),
            },
        };
        let mut manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
        manifest_bytes.push(b'\n');
        write_durable(&staging.join(MANIFEST), &manifest_bytes)?;
        crash_point();
        sync_dir(&accounts_dir)?;
        crash_point();
        sync_dir(staging)?;
        crash_point();
        Ok(())
    }

    /// Points `current` at `name` with one rename, and makes that durable.
    fn switch_to(&self, name: &str, from: u64, to: u64) -> Result<()> {
        let not_saved = |e: FolderError| {
            e.context(format!(
                "cannot save the ledger folder {}: nothing was changed, it still holds generation {from}",
                self.dir.display()
            ))
        };
        // the new generation's own name in the folder must be durable before `current` names it
        sync_dir(&self.dir).map_err(not_saved)?;
        crash_point();
        let next = self.dir.join(CURRENT_NEXT);
        let _ = fs::remove_file(&next);
        symlink(name, &next).map_err(not_saved)?;
        crash_point();
        fs::rename(&next, self.dir.join(CURRENT)).map_err(|e| {
            let _ = fs::remove_file(&next);
            not_saved(fail!(
                "cannot rename {}: {e}: {}",
                next.display(),
                advice(&e)
            ))
        })?;
        crash_point();
        sync_dir(&self.dir).map_err(|e| {
            e.context(format!(
                "the ledger folder {} now holds generation {to} (this command's result), but flushing it to disk failed: run `careledger ledger check` before running the command again",
                self.dir.display()
            ))
        })
    }
}

/// The crash test's fault injection: with `CARELEDGER_CRASH_AT=N`, the process aborts (no
/// destructors, no flush: what the kernel has is what a SIGKILL leaves) at the N-th step of a
/// save, counting each file written or linked, each directory flushed, the symlink, the rename
/// and the sweep. Unset, it costs one relaxed load per step.
fn crash_point() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static AT: OnceLock<Option<u32>> = OnceLock::new();
    static STEP: AtomicU32 = AtomicU32::new(0);
    let at = AT.get_or_init(|| {
        std::env::var("CARELEDGER_CRASH_AT")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(at) = at {
        if STEP.fetch_add(1, Ordering::Relaxed) + 1 == *at {
            std::process::abort();
        }
    }
}

/// Opens the lock file: a writer creates it; a reader only opens the one a writer made (a read
/// changes nothing), and reads without one where there is none: a folder no writer has used
/// since locking began, whose generations are switched by one rename anyway.
fn open_lock_file(dir: &Path, access: Access) -> Result<Option<File>> {
    let path = dir.join(LOCK);
    if access == Access::Shared {
        return match File::open(&path) {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => bail!("cannot open {}: {e}", path.display()),
        };
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map(Some)
        .map_err(|e| {
            fail!(
                "cannot open {} for writing: {e}: {}",
                path.display(),
                advice(&e)
            )
        })
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, _path: &Path) -> bool {
    true
}

/// The generation a directory name stands for: `gen-` and exactly ten digits.
fn parse_generation_name(name: &str) -> Option<u64> {
    name.strip_prefix(GENERATION_PREFIX)
        .filter(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
}

fn wait_for_lock(
    file: &File,
    dir: &Path,
    access: Access,
    timeout: Duration,
    deadline: Option<Instant>,
) -> Result<()> {
    let mut pause = Duration::from_millis(2);
    loop {
        let attempt = match access {
            Access::Exclusive => file.try_lock(),
            Access::Shared => file.try_lock_shared(),
        };
        match attempt {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) => {
                let now = Instant::now();
                // no deadline: a timeout too large to represent waits for as long as it takes
                let left = deadline.map_or(Duration::from_millis(50), |d| {
                    d.saturating_duration_since(now)
                });
                if left.is_zero() {
                    bail!(
                        "the ledger folder {} is busy: another careledger command held its lock for the whole {} s this command waited. Run it again when that one has finished, or wait longer with --lock-timeout SECONDS",
                        dir.display(),
                        timeout.as_secs_f64()
                    );
                }
                std::thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => {
                bail!("cannot lock {}: {e}", dir.join(LOCK).display())
            }
        }
    }
}

fn create_dir(path: &Path) -> Result<()> {
    fs::create_dir(path).map_err(|e| fail!("cannot create {}: {e}: {}", path.display(), advice(&e)))
}

/// Writes a new file and fsyncs it.
fn write_durable(path: &Path, bytes: &[u8]) -> Result<()> {
    let write = || -> std::io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    };
    write().map_err(|e| fail!("cannot write {}: {e}: {}", path.display(), advice(&e)))
}

fn sync_dir(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| {
            fail!(
                "cannot flush the directory {}: {e}: {}",
                path.display(),
                advice(&e)
            )
        })
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link)
        .map_err(|e| fail!("cannot create {}: {e}: {}", link.display(), advice(&e)))
}

#[cfg(not(unix))]
fn symlink(_target: &str, _link: &Path) -> Result<()> {
    bail!("embedded ledger folders need a Unix file system (symlinks, advisory locks)")
}

/// The size of a `ConsentGrant` before it held `statement_hash` (careledger before issue 16).
const GRANT_SIZE_BEFORE_STATEMENTS: usize = 155;
/// The size of a `Participation` before it recorded the protocol version consented to and the
/// periods forfeited (issue 29): read with version 0, older than any protocol's. Its study has
/// no protocol yet; once the sponsor registers one, the participant collects what came due
/// before it and consents to it to accrue again.
const PARTICIPATION_SIZE_BEFORE_PROTOCOLS: usize = 136;

/// Accounts saved by an older careledger, in the program's current layout. A `ConsentGrant`
/// saved before grants held a statement's hash ends 32 bytes early (a `Participation` before
/// protocols, 4 bytes), and the program reads only the current layout: the account would be
/// stuck. The load appends zero bytes (no statement; version 0) and tops the lamports up to the
/// larger rent-exempt minimum, as a realloc would on a cluster; the next save writes the new
/// layout.
pub fn upgrade_layouts(accounts: &mut BTreeMap<Pubkey, Account>) {
    use anchor_lang::{Discriminator, Space};
    // (discriminator, size before, size now): fields appended at the end read as zero
    let grown: [(&[u8], usize, usize); 2] = [
        (
            crate::ConsentGrant::DISCRIMINATOR,
            GRANT_SIZE_BEFORE_STATEMENTS,
            8 + crate::ConsentGrant::INIT_SPACE,
        ),
        (
            crate::Participation::DISCRIMINATOR,
            PARTICIPATION_SIZE_BEFORE_PROTOCOLS,
            8 + crate::Participation::INIT_SPACE,
        ),
    ];
    for account in accounts.values_mut() {
        for (discriminator, before, size) in grown {
            let old = account.owner == careledger::ID
                && account.data.len() == before
                && account.data.starts_with(discriminator);
            if old {
                account.data.resize(size, 0);
                let rent = solana_rent::Rent::default().minimum_balance(size);
                account.lamports = account.lamports.max(rent);
            }
        }
    }
}

pub fn account_json(address: &Pubkey, account: &Account) -> Result<Vec<u8>> {
    let file = AccountFile {
        pubkey: address.to_string(),
        account: UiAccount {
            lamports: account.lamports,
            data: (
                base64::engine::general_purpose::STANDARD.encode(&account.data),
                "base64".into(),
            ),
            owner: account.owner.to_string(),
            executable: account.executable,
            rent_epoch: 0,
            space: Some(account.data.len() as u64),
        },
    };
    let mut bytes = serde_json::to_vec_pretty(&file)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Parses one account file, whose name must be its address.
fn parse_account(path: &Path, bytes: &[u8]) -> Result<(Pubkey, Account)> {
    let file: AccountFile =
        serde_json::from_slice(bytes).map_err(|e| fail!("not an account file ({e})"))?;
    let address = Pubkey::from_str(&file.pubkey)
        .map_err(|_| fail!("`pubkey` is not an address: {}", file.pubkey))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if stem != file.pubkey {
        bail!("the file holds account {address}, not the one its name says");
    }
    let a = file.account;
    if a.data.1 != "base64" {
        bail!("data encoding is `{}`; careledger writes base64", a.data.1);
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(&a.data.0)
        .map_err(|e| fail!("data is not base64 ({e})"))?;
    if a.space.is_some_and(|space| space != data.len() as u64) {
        bail!(
            "`space` says {} bytes but data holds {}",
            a.space.unwrap_or_default(),
            data.len()
        );
    }
    let owner =
        Pubkey::from_str(&a.owner).map_err(|_| fail!("`owner` is not an address: {}", a.owner))?;
    Ok((
        address,
        Account {
            lamports: a.lamports,
            data,
            owner,
            executable: a.executable,
            rent_epoch: 0,
        },
    ))
}

/// Whether `path` is an account dump (`solana account --output json`) named for its address.
pub fn is_account_file(path: &Path) -> bool {
    fs::read(path)
        .ok()
        .is_some_and(|bytes| parse_account(path, &bytes).is_ok())
}

fn parse_events(path: &Path, log: &[u8]) -> Result<Vec<Vec<u8>>> {
    if !log.is_empty() && !log.ends_with(b"\n") {
        bail!(
            "{} ends in a torn line (no newline at its end)",
            path.display()
        );
    }
    log.split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .enumerate()
        .map(|(i, line)| {
            base64::engine::general_purpose::STANDARD
                .decode(line)
                .map_err(|e| {
                    fail!(
                        "{} line {}: not a base64 event ({e})",
                        path.display(),
                        i + 1
                    )
                })
        })
        .collect()
}

fn unreadable(dir: &Path, what: &Path, why: impl std::fmt::Display) -> FolderError {
    fail!(
        "cannot load the ledger folder {}: {} {why}. It was changed outside careledger or damaged; careledger will neither load nor overwrite it. Restore the folder from a backup, or start a new one with --url embedded:NEW_PATH",
        dir.display(),
        what.display()
    )
}

fn load_generation(generation: u64, dir: &Path) -> Result<Snapshot> {
    let manifest_path = dir.join(MANIFEST);
    let bytes = fs::read(&manifest_path)
        .map_err(|e| unreadable(dir, &manifest_path, format!("cannot be read ({e})")))?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        unreadable(
            dir,
            &manifest_path,
            format!("is not a careledger manifest ({e})"),
        )
    })?;
    if manifest.format != FORMAT {
        return Err(unreadable(
            dir,
            &manifest_path,
            format!("has format `{}`", manifest.format),
        ));
    }
    if manifest.version > FORMAT_VERSION {
        bail!(
            "{} was written by a newer careledger (folder format {}; this one reads {FORMAT_VERSION}): upgrade careledger",
            manifest_path.display(),
            manifest.version
        );
    }
    if manifest.generation != generation {
        return Err(unreadable(
            dir,
            &manifest_path,
            format!(
                "says generation {}, but its directory is generation {generation}",
                manifest.generation
            ),
        ));
    }
    let upgrade_authority = Pubkey::from_str(&manifest.upgrade_authority)
        .map_err(|_| unreadable(dir, &manifest_path, "names no valid upgrade authority"))?;

    let accounts_dir = dir.join(ACCOUNTS);
    let mut seen = 0usize;
    let listing = fs::read_dir(&accounts_dir)
        .map_err(|e| unreadable(dir, &accounts_dir, format!("cannot be listed ({e})")))?;
    for entry in listing {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        let listed = name
            .strip_suffix(".json")
            .is_some_and(|stem| manifest.accounts.contains_key(stem));
        if !listed {
            return Err(unreadable(
                dir,
                &entry.path(),
                "is not in the manifest (a foreign file)",
            ));
        }
        seen += 1;
    }
    let mut snapshot = Snapshot {
        generation,
        upgrade_authority: Some(upgrade_authority),
        migrated_legacy: manifest.migrated_legacy,
        ..Snapshot::default()
    };
    for (name, entry) in &manifest.accounts {
        let path = accounts_dir.join(format!("{name}.json"));
        let bytes = fs::read(&path)
            .map_err(|e| unreadable(dir, &path, format!("is missing or unreadable ({e})")))?;
        let sha256 = sha256_hex(&bytes);
        if bytes.len() as u64 != entry.bytes || sha256 != entry.sha256 {
            return Err(unreadable(
                dir,
                &path,
                format!("does not match the manifest ({} bytes, SHA-256 {sha256}; expected {} bytes, {})", bytes.len(), entry.bytes, entry.sha256),
            ));
        }
        let (address, account) =
            parse_account(&path, &bytes).map_err(|e| unreadable(dir, &path, e))?;
        snapshot.files.insert(address, sha256);
        snapshot.accounts.insert(address, account);
    }
    debug_assert_eq!(seen, manifest.accounts.len());
    let events_path = dir.join(EVENTS);
    let log = fs::read(&events_path)
        .map_err(|e| unreadable(dir, &events_path, format!("is missing or unreadable ({e})")))?;
    if log.len() as u64 != manifest.events.bytes || sha256_hex(&log) != manifest.events.sha256 {
        return Err(unreadable(dir, &events_path, "does not match the manifest"));
    }
    snapshot.events =
        parse_events(&events_path, &log).map_err(|e| unreadable(dir, &events_path, e))?;
    if snapshot.events.len() as u64 != manifest.events.lines {
        return Err(unreadable(
            dir,
            &events_path,
            "holds a different number of events than the manifest",
        ));
    }
    snapshot.events_log = log;
    Ok(snapshot)
}

/// A folder from before generations: no manifest to check against, so every file is parsed
/// strictly; a torn one stops the load.
fn load_legacy(dir: &Path) -> Result<Snapshot> {
    let mut snapshot = Snapshot {
        legacy: true,
        ..Snapshot::default()
    };
    // Only "not found" means absent: a file that exists but cannot be read stops the load, or
    // the migration would commit without it and sweep it away.
    let absent_or = |path: &Path, e: std::io::Error| {
        if e.kind() == ErrorKind::NotFound {
            Ok(())
        } else {
            Err(unreadable(dir, path, format!("cannot be read ({e})")))
        }
    };
    let authority_path = dir.join(LEGACY_AUTHORITY);
    match fs::read_to_string(&authority_path) {
        Ok(text) => {
            let authority = Pubkey::from_str(text.trim())
                .map_err(|_| unreadable(dir, &authority_path, "holds no address"))?;
            snapshot.upgrade_authority = Some(authority);
        }
        Err(e) => absent_or(&authority_path, e)?,
    }
    let accounts_dir = dir.join(ACCOUNTS);
    match fs::read_dir(&accounts_dir) {
        Ok(listing) => {
            for entry in listing {
                let path = entry
                    .map_err(|e| unreadable(dir, &accounts_dir, format!("cannot be listed ({e})")))?
                    .path();
                let bytes = fs::read(&path)
                    .map_err(|e| unreadable(dir, &path, format!("cannot be read ({e})")))?;
                let (address, account) =
                    parse_account(&path, &bytes).map_err(|e| unreadable(dir, &path, e))?;
                snapshot.accounts.insert(address, account);
            }
        }
        Err(e) => absent_or(&accounts_dir, e)?,
    }
    let events_path = dir.join(EVENTS);
    match fs::read(&events_path) {
        Ok(log) => {
            snapshot.events =
                parse_events(&events_path, &log).map_err(|e| unreadable(dir, &events_path, e))?;
            snapshot.events_log = log;
        }
        Err(e) => absent_or(&events_path, e)?,
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_saved_before_statements_loads_in_the_current_layout() {
        use crate::{ConsentGrant, GrantStatus, Purpose, ReviewState};
        use anchor_lang::{AccountDeserialize, AccountSerialize};
        let grant = ConsentGrant {
            patient: Pubkey::new_unique(),
            grantee: Pubkey::new_unique(),
            classes: 1,
            actions: 1,
            purpose: Purpose::Treatment,
            status: GrantStatus::Active,
            review: ReviewState::NotRequired,
            bump: 254,
            consent_epoch: 0,
            record_scope: u32::MAX,
            access_count: 3,
            not_before: 100,
            expires_at: 200,
            created_at: 100,
            revoked_at: 0,
            serial: 1,
            narrowed_at: 0,
            payer: Pubkey::new_unique(),
            statement_hash: [0; 32],
        };
        let mut bytes = Vec::new();
        grant.try_serialize(&mut bytes).unwrap();
        // the layout before issue 16: the same fields, without the last 32 bytes
        bytes.truncate(GRANT_SIZE_BEFORE_STATEMENTS);
        let old_rent = solana_rent::Rent::default().minimum_balance(bytes.len());
        let owned = |data: Vec<u8>, owner| Account {
            lamports: old_rent,
            data,
            owner,
            executable: false,
            rent_epoch: 0,
        };
        let (old, other, foreign) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let mut accounts = BTreeMap::from([
            (old, owned(bytes.clone(), careledger::ID)),
            // 155 bytes of another account type, and a grant-shaped account of another owner
            (
                other,
                owned(vec![7; GRANT_SIZE_BEFORE_STATEMENTS], careledger::ID),
            ),
            (foreign, owned(bytes.clone(), Pubkey::new_unique())),
        ]);
        assert!(ConsentGrant::try_deserialize(&mut accounts[&old].data.as_slice()).is_err());
        upgrade_layouts(&mut accounts);
        let upgraded = &accounts[&old];
        assert_eq!(
            ConsentGrant::try_deserialize(&mut upgraded.data.as_slice()).unwrap(),
            grant
        );
        assert_eq!(
            upgraded.lamports,
            solana_rent::Rent::default().minimum_balance(upgraded.data.len())
        );
        assert_eq!(accounts[&other].data.len(), GRANT_SIZE_BEFORE_STATEMENTS);
        assert_eq!(accounts[&foreign].data, bytes);
        // a second load changes nothing more
        let again = accounts.clone();
        upgrade_layouts(&mut accounts);
        assert_eq!(again, accounts);
    }

    fn account(byte: u8) -> Account {
        Account {
            lamports: 1_000 + byte as u64,
            data: vec![byte; 40],
            owner: Pubkey::new_from_array([9; 32]),
            executable: false,
            rent_epoch: 0,
        }
    }

    /// A folder with generation 1 holding three accounts and one event.
    fn folder_with_state() -> (tempfile::TempDir, Pubkey, Vec<Pubkey>) {
        let tmp = tempfile::tempdir().unwrap();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let authority = Pubkey::new_unique();
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let accounts = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, account(i as u8)))
            .collect();
        let base = folder.load().unwrap();
        assert_eq!(
            folder
                .commit(&base, &authority, &accounts, &[b"one".to_vec()])
                .unwrap(),
            1
        );
        (tmp, authority, keys)
    }

    fn generation_dir(root: &Path, generation: u64) -> PathBuf {
        root.join(generation_name(generation))
    }

    #[test]
    fn a_commit_reads_back_exactly_and_links_what_did_not_change() {
        let (tmp, authority, keys) = folder_with_state();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let base = folder.load().unwrap();
        assert_eq!(base.generation, 1);
        assert_eq!(base.upgrade_authority, Some(authority));
        assert_eq!(base.events, vec![b"one".to_vec()]);
        let mut accounts = base.accounts.clone();
        accounts.insert(keys[0], account(77));
        accounts.remove(&keys[1]);
        assert_eq!(
            folder
                .commit(&base, &authority, &accounts, &[b"two".to_vec()])
                .unwrap(),
            2
        );
        let after = folder.load().unwrap();
        assert_eq!(after.accounts, accounts);
        assert_eq!(after.events, vec![b"one".to_vec(), b"two".to_vec()]);
        // the old generation is gone
        assert!(!generation_dir(tmp.path(), 1).exists());
        // nothing changed: no new generation
        assert_eq!(
            folder.commit(&after, &authority, &accounts, &[]).unwrap(),
            2
        );
    }

    #[test]
    fn unchanged_accounts_are_hard_links_into_the_previous_generation() {
        let (tmp, authority, keys) = folder_with_state();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let base = folder.load().unwrap();
        let old = generation_dir(tmp.path(), 1)
            .join(ACCOUNTS)
            .join(format!("{}.json", keys[2]));
        use std::os::unix::fs::MetadataExt;
        let inode = fs::metadata(&old).unwrap().ino();
        let mut accounts = base.accounts.clone();
        accounts.insert(keys[0], account(50));
        // stage the next generation without switching, as a crash before the rename would leave it
        fs::create_dir(generation_dir(tmp.path(), 2)).unwrap();
        folder
            .write_generation(
                &base,
                2,
                &generation_dir(tmp.path(), 2),
                &authority,
                &accounts,
                &[],
            )
            .unwrap();
        let new = generation_dir(tmp.path(), 2)
            .join(ACCOUNTS)
            .join(format!("{}.json", keys[2]));
        assert_eq!(fs::metadata(&new).unwrap().ino(), inode);
        let changed = generation_dir(tmp.path(), 2)
            .join(ACCOUNTS)
            .join(format!("{}.json", keys[0]));
        assert_ne!(fs::metadata(&changed).unwrap().ino(), inode);
        // ... and the folder still holds generation 1 until the switch
        assert_eq!(folder.load().unwrap(), base);
        drop(folder);
        // the next writer sweeps the staged generation away
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        assert!(!generation_dir(tmp.path(), 2).exists());
        assert_eq!(folder.load().unwrap(), base);
    }

    fn load_error(root: &Path) -> String {
        let folder = Folder::open(root, Access::Shared, Duration::ZERO).unwrap();
        format!("{:#}", folder.load().unwrap_err())
    }

    #[test]
    fn a_torn_account_file_is_named_and_never_loaded() {
        let (tmp, _, keys) = folder_with_state();
        let file = generation_dir(tmp.path(), 1)
            .join(ACCOUNTS)
            .join(format!("{}.json", keys[1]));
        let bytes = fs::read(&file).unwrap();
        fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
        let error = load_error(tmp.path());
        assert!(
            error.contains(&format!("{}.json does not match the manifest", keys[1])),
            "{error}"
        );
        assert!(
            error.contains("Restore the folder from a backup"),
            "{error}"
        );
        // a writer refuses too, and leaves the folder as it found it
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        assert!(folder.load().is_err());
        assert_eq!(fs::read(&file).unwrap(), &bytes[..bytes.len() / 2]);
    }

    #[test]
    fn foreign_missing_and_mislabelled_files_are_refused() {
        let (tmp, _, keys) = folder_with_state();
        let accounts = generation_dir(tmp.path(), 1).join(ACCOUNTS);
        let stranger = Pubkey::new_unique();
        fs::write(accounts.join(format!("{stranger}.json")), b"{}").unwrap();
        assert!(load_error(tmp.path()).contains("is not in the manifest (a foreign file)"));
        fs::remove_file(accounts.join(format!("{stranger}.json"))).unwrap();

        let first = accounts.join(format!("{}.json", keys[0]));
        let saved = fs::read(&first).unwrap();
        fs::remove_file(&first).unwrap();
        assert!(load_error(tmp.path()).contains("is missing or unreadable"));
        fs::write(&first, &saved).unwrap();

        let events = generation_dir(tmp.path(), 1).join(EVENTS);
        fs::write(&events, b"b25l\ndHdv").unwrap();
        assert!(load_error(tmp.path()).contains("events.log does not match the manifest"));
    }

    #[test]
    fn a_file_under_another_accounts_name_is_refused_even_with_a_matching_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(format!("{}.json", Pubkey::new_unique()));
        let bytes = account_json(&Pubkey::new_unique(), &account(1)).unwrap();
        let error = parse_account(&path, &bytes).unwrap_err().to_string();
        assert!(error.contains("not the one its name says"), "{error}");
        let error = parse_account(&path, b"{\"pubkey\":")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not an account file"), "{error}");
    }

    #[test]
    fn a_writer_refuses_a_folder_that_is_not_a_ledger() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("thesis.tex"), b"years of work").unwrap();
        let error = format!(
            "{:#}",
            Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO)
                .err()
                .unwrap()
        );
        assert!(
            error.contains("is not a careledger ledger folder: it holds `thesis.tex`"),
            "{error}"
        );
        assert!(tmp.path().join("thesis.tex").exists());
    }

    #[test]
    fn a_writer_waits_for_the_lock_and_gives_up_with_a_clear_message() {
        let (tmp, _, _) = folder_with_state();
        let reader = Folder::open(tmp.path(), Access::Shared, Duration::ZERO).unwrap();
        // readers share
        let second_reader = Folder::open(tmp.path(), Access::Shared, Duration::ZERO).unwrap();
        let started = Instant::now();
        let error = format!(
            "{:#}",
            Folder::open(tmp.path(), Access::Exclusive, Duration::from_millis(150))
                .err()
                .unwrap()
        );
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert!(
            error.contains("is busy: another careledger command held its lock"),
            "{error}"
        );
        assert!(error.contains("--lock-timeout"), "{error}");
        drop((reader, second_reader));
        let writer = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        assert!(Folder::open(tmp.path(), Access::Shared, Duration::from_millis(20)).is_err());
        drop(writer);
        assert!(Folder::open(tmp.path(), Access::Shared, Duration::ZERO).is_ok());
    }

    #[test]
    fn a_legacy_folder_loads_and_is_migrated_by_the_next_write() {
        let tmp = tempfile::tempdir().unwrap();
        let authority = Pubkey::new_unique();
        let key = Pubkey::new_unique();
        fs::create_dir(tmp.path().join(ACCOUNTS)).unwrap();
        fs::write(
            tmp.path().join(ACCOUNTS).join(format!("{key}.json")),
            account_json(&key, &account(3)).unwrap(),
        )
        .unwrap();
        fs::write(tmp.path().join(LEGACY_AUTHORITY), authority.to_string()).unwrap();
        fs::write(tmp.path().join(EVENTS), b"b25l\n").unwrap();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let legacy = folder.load().unwrap();
        assert_eq!(legacy.upgrade_authority, Some(authority));
        assert_eq!(legacy.events, vec![b"one".to_vec()]);
        folder
            .commit(&legacy, &authority, &legacy.accounts, &[])
            .unwrap();
        assert!(!tmp.path().join(ACCOUNTS).exists());
        assert!(!tmp.path().join(LEGACY_AUTHORITY).exists());
        let migrated = folder.load().unwrap();
        assert_eq!(migrated.generation, 1);
        assert_eq!(migrated.accounts, legacy.accounts);
        assert_eq!(migrated.events, legacy.events);

        // a torn legacy file stops the load instead of being dropped
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join(ACCOUNTS)).unwrap();
        fs::write(tmp.path().join(ACCOUNTS).join(format!("{key}.json")), b"").unwrap();
        let error = load_error(tmp.path());
        assert!(
            error.contains(&format!("{key}.json not an account file")),
            "{error}"
        );
    }

    #[test]
    fn a_deleted_lock_file_never_lets_two_saves_both_succeed() {
        let (tmp, authority, keys) = folder_with_state();
        let a = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let base_a = a.load().unwrap();
        fs::remove_file(tmp.path().join(LOCK)).unwrap();
        // b gets in on a new lock file: the lock alone cannot stop it now
        let b = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let base_b = b.load().unwrap();
        let mut accounts = base_a.accounts.clone();
        accounts.insert(keys[0], account(100));
        assert_eq!(
            a.commit(&base_a, &authority, &accounts, &[b"a".to_vec()])
                .unwrap(),
            2
        );
        accounts.insert(keys[0], account(101));
        let error = format!(
            "{:#}",
            b.commit(&base_b, &authority, &accounts, &[b"b".to_vec()])
                .unwrap_err()
        );
        assert!(error.contains("moved from generation 1 to 2"), "{error}");
        // a's acknowledged save is intact
        let now = b.load().unwrap();
        assert_eq!(now.events, vec![b"one".to_vec(), b"a".to_vec()]);
        assert_eq!(now.accounts[&keys[0]], account(100));
    }

    #[test]
    fn a_staging_name_already_taken_is_refused_and_left_alone() {
        let (tmp, authority, _) = folder_with_state();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let base = folder.load().unwrap();
        // another process (past a deleted lock file) is writing generation 2 right now
        let theirs = generation_dir(tmp.path(), 2);
        fs::create_dir(&theirs).unwrap();
        fs::write(theirs.join("in-progress"), b"theirs").unwrap();
        let error = format!(
            "{:#}",
            folder
                .commit(&base, &authority, &base.accounts, &[b"mine".to_vec()])
                .unwrap_err()
        );
        assert!(
            error.contains("another command is saving this folder"),
            "{error}"
        );
        assert!(theirs.join("in-progress").exists());
        assert_eq!(folder.load().unwrap().generation, 1);
    }

    #[test]
    fn a_current_link_to_a_missing_generation_is_refused_and_nothing_is_swept() {
        let (tmp, _, _) = folder_with_state();
        let link = tmp.path().join(CURRENT);
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(generation_name(2), &link).unwrap();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let error = format!("{:#}", folder.load().unwrap_err());
        assert!(error.contains("manifest.json cannot be read"), "{error}");
        // the only good copy survives for whoever repairs the folder
        assert!(generation_dir(tmp.path(), 1).join(MANIFEST).exists());
    }

    #[test]
    fn old_layout_files_beside_generations_are_refused_not_deleted() {
        let (tmp, _, _) = folder_with_state();
        fs::write(tmp.path().join(EVENTS), b"b25l\n").unwrap();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let error = format!("{:#}", folder.load().unwrap_err());
        assert!(error.contains("an older careledger wrote to it"), "{error}");
        assert!(tmp.path().join(EVENTS).exists());
    }

    #[test]
    fn only_careledgers_own_names_count_as_generations() {
        let (tmp, _, _) = folder_with_state();
        fs::create_dir(tmp.path().join("gen-0000000001.bak")).unwrap();
        let error = format!(
            "{:#}",
            Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO)
                .err()
                .unwrap()
        );
        assert!(error.contains("it holds `gen-0000000001.bak`"), "{error}");
        assert!(tmp.path().join("gen-0000000001.bak").exists());
        assert_eq!(parse_generation_name("gen-0000000042"), Some(42));
        assert_eq!(parse_generation_name("gen-+000000042"), None);
        assert_eq!(parse_generation_name("gen-42"), None);
    }

    #[test]
    fn an_unreadable_legacy_file_stops_the_migration() {
        let tmp = tempfile::tempdir().unwrap();
        // a directory where the log should be: it exists but cannot be read as a file
        fs::create_dir(tmp.path().join(EVENTS)).unwrap();
        let folder = Folder::open(tmp.path(), Access::Exclusive, Duration::ZERO).unwrap();
        let error = format!("{:#}", folder.load().unwrap_err());
        assert!(error.contains("events.log cannot be read"), "{error}");
        assert!(tmp.path().join(EVENTS).is_dir());
    }

    #[test]
    fn a_reader_of_a_missing_folder_sees_an_empty_ledger_and_creates_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("nothing-here");
        let folder = Folder::open(&path, Access::Shared, Duration::ZERO).unwrap();
        assert_eq!(folder.load().unwrap(), Snapshot::default());
        assert!(!path.exists());
        assert!(folder
            .commit(
                &Snapshot::default(),
                &Pubkey::new_unique(),
                &BTreeMap::new(),
                &[]
            )
            .is_err());
    }
}
