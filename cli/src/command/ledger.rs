//! `careledger ledger`: the embedded ledger folder itself: check that it loads, and export its
//! accounts for `solana-test-validator`.
use anyhow::{anyhow, bail, Result};
use careledger_sdk::embedded::folder::{self, files, Access, Folder};
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Subcommand)]
pub enum LedgerCmd {
    /// Loads the folder as a command would and checks every file against its manifest
    Check,
    /// Writes each account as ADDRESS.json into DIR, for `solana-test-validator --account-dir DIR`
    Export {
        dir: PathBuf,
        /// Replace JSON files already in DIR
        #[arg(long)]
        force: bool,
    },
}

/// The folder behind `--url embedded:PATH`.
pub fn folder_path(url: &str) -> Result<&Path> {
    url.strip_prefix("embedded:").map(Path::new).ok_or_else(|| {
        anyhow!("`careledger ledger` works on a ledger folder: pass --url embedded:PATH (a cluster has its own tools)")
    })
}

pub fn execute(url: &str, lock_timeout: Duration, cmd: &LedgerCmd) -> Result<(Value, String)> {
    let dir = folder_path(url)?;
    if !dir.exists() {
        bail!(
            "there is no ledger folder at {}: a write command creates one",
            dir.display()
        );
    }
    let folder = Folder::open(dir, Access::Shared, lock_timeout)?;
    let snapshot = folder.load()?;
    let events = folder::decode_events(&folder, &snapshot)?;
    match cmd {
        LedgerCmd::Check => {
            let value = json!({
                "folder": dir.display().to_string(),
                "generation": snapshot.generation,
                "upgrade_authority": snapshot.upgrade_authority.map(|a| a.to_string()),
                "accounts": snapshot.accounts.len(),
                "events": events.len(),
            });
            let how = if snapshot.is_legacy() {
                "the layout before generations, with no manifest: every file parses, and the next write command moves it into a generation"
            } else if snapshot.generation == 0 {
                "nothing saved yet"
            } else {
                "every file matches its manifest"
            };
            let text = format!(
                "{}: generation {}, {} accounts, {} events; {how}",
                dir.display(),
                snapshot.generation,
                snapshot.accounts.len(),
                events.len()
            );
            Ok((value, text))
        }
        LedgerCmd::Export { dir: out, force } => {
            std::fs::create_dir_all(out)
                .map_err(|e| anyhow!("cannot create {}: {e}", out.display()))?;
            let (inside, ledger) = (out.canonicalize()?, dir.canonicalize()?);
            if inside.starts_with(&ledger) {
                bail!(
                    "{} is inside the ledger folder: export to a directory of its own",
                    out.display()
                );
            }
            // An old export's files would be loaded too (a closed account back from the dead):
            // the directory holds this export's accounts and nothing else. Only files that are
            // account dumps (ADDRESS.json naming its own address) are ever replaced: a keypair
            // file or anything else stops the export.
            let mut stale = Vec::new();
            for entry in std::fs::read_dir(out)? {
                let path = entry?.path();
                if path.extension().is_none_or(|x| x != "json") {
                    continue;
                }
                if !files::is_account_file(&path) {
                    bail!(
                        "{} holds {}, which is not an account file: export to a directory of its own",
                        out.display(),
                        path.display()
                    );
                }
                stale.push(path);
            }
            if !stale.is_empty() && !force {
                bail!(
                    "{} already holds {} account files (e.g. {}): pass --force to replace them all",
                    out.display(),
                    stale.len(),
                    stale[0].display()
                );
            }
            for path in &stale {
                std::fs::remove_file(path)
                    .map_err(|e| anyhow!("cannot remove {}: {e}", path.display()))?;
            }
            let mut files = Vec::new();
            for (address, account) in &snapshot.accounts {
                let path = out.join(format!("{address}.json"));
                std::fs::write(&path, files::account_json(address, account)?)
                    .map_err(|e| anyhow!("cannot write {}: {e}", path.display()))?;
                files.push(
                    json!({ "address": address.to_string(), "file": path.display().to_string() }),
                );
            }
            let text = format!(
                "{} accounts of generation {} written to {}\nload them with: solana-test-validator --account-dir {} --upgradeable-program {} target/deploy/careledger.so {}",
                files.len(),
                snapshot.generation,
                out.display(),
                out.display(),
                careledger_sdk::program::ID,
                snapshot
                    .upgrade_authority
                    .map_or("UPGRADE_AUTHORITY".to_string(), |a| a.to_string())
            );
            Ok((
                json!({ "generation": snapshot.generation, "accounts": files }),
                text,
            ))
        }
    }
}
