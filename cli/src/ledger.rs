//! `--url embedded:PATH`: a local ledger kept in a folder, no validator. Each command starts the
//! embedded runtime, loads the folder's accounts, runs, and saves every account it knows back,
//! one file per account in the JSON format `solana-test-validator --account ADDRESS FILE` reads,
//! so the same state can be loaded into a real validator. Audit events are appended to
//! `events.log` (one base64 event per line, as the program emits them).
use anyhow::{bail, Context, Result};
use base64::Engine;
use careledger_sdk::embedded::EmbeddedTransport;
use careledger_sdk::CareledgerEvent;
use serde_json::json;
use solana_account::Account;
use solana_pubkey::Pubkey;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub struct Ledger {
    pub dir: PathBuf,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Ledger {
    pub fn new(dir: &Path) -> Ledger {
        Ledger {
            dir: dir.to_path_buf(),
        }
    }

    fn accounts_dir(&self) -> PathBuf {
        self.dir.join("accounts")
    }

    /// The upgrade authority the folder's program was "deployed" with: the keypair that first
    /// used the folder.
    fn upgrade_authority(&self, first_user: &Pubkey) -> Result<Pubkey> {
        let path = self.dir.join("upgrade-authority");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Pubkey::from_str(text.trim())
                .with_context(|| format!("{} is corrupt", path.display()));
        }
        std::fs::create_dir_all(self.accounts_dir())
            .with_context(|| format!("cannot create the ledger folder {}", self.dir.display()))?;
        std::fs::write(&path, first_user.to_string())?;
        Ok(*first_user)
    }

    /// Starts the embedded runtime with the folder's accounts in place.
    pub async fn open(&self, user: &Pubkey) -> Result<EmbeddedTransport> {
        let authority = self.upgrade_authority(user)?;
        let transport = EmbeddedTransport::start(&authority).await;
        for entry in std::fs::read_dir(self.accounts_dir())? {
            let path = entry?.path();
            let (address, account) =
                read_account(&path).with_context(|| format!("cannot load {}", path.display()))?;
            transport.set_account(&address, account).await;
        }
        Ok(transport)
    }

    /// Writes every non-program account the runtime knows back to the folder.
    pub async fn save(&self, transport: &EmbeddedTransport) -> Result<()> {
        use careledger_sdk::Transport;
        for address in transport.known_addresses().await {
            let path = self.accounts_dir().join(format!("{address}.json"));
            match transport.account(&address).await? {
                Some(account) if keep(&account) => write_account(&path, &address, &account)?,
                Some(_) => {}
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        Ok(())
    }

    pub fn append_events(&self, events: &[CareledgerEvent]) -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("events.log"))?;
        for e in events {
            writeln!(file, "{}", b64().encode(e.encode()))?;
        }
        Ok(())
    }

    pub fn events(&self) -> Result<Vec<CareledgerEvent>> {
        let Ok(text) = std::fs::read_to_string(self.dir.join("events.log")) else {
            return Ok(Vec::new());
        };
        text.lines()
            .map(|line| {
                let bytes = b64().decode(line).context("events.log is corrupt")?;
                CareledgerEvent::decode(&bytes).context("events.log holds an unknown event")
            })
            .collect()
    }
}

/// Programs, sysvars and loader accounts come with every runtime: only state is saved.
fn keep(account: &Account) -> bool {
    use solana_sdk_ids::{bpf_loader, bpf_loader_upgradeable, native_loader, sysvar};
    !account.executable
        && account.owner != bpf_loader_upgradeable::ID
        && account.owner != bpf_loader::ID
        && account.owner != native_loader::ID
        && account.owner != sysvar::ID
}

fn write_account(path: &Path, address: &Pubkey, account: &Account) -> Result<()> {
    let value = json!({
        "pubkey": address.to_string(),
        "account": {
            "lamports": account.lamports,
            "data": [b64().encode(&account.data), "base64"],
            "owner": account.owner.to_string(),
            "executable": account.executable,
            "rentEpoch": 0,
            "space": account.data.len(),
        }
    });
    std::fs::write(path, serde_json::to_vec_pretty(&value)?)?;
    Ok(())
}

fn read_account(path: &Path) -> Result<(Pubkey, Account)> {
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
    let a = &value["account"];
    let field = |name: &str| a[name].as_str().map(str::to_string);
    let Some(data) = a["data"][0].as_str() else {
        bail!("no base64 data");
    };
    let address = Pubkey::from_str(value["pubkey"].as_str().unwrap_or_default())?;
    let account = Account {
        lamports: a["lamports"].as_u64().unwrap_or_default(),
        data: b64().decode(data)?,
        owner: Pubkey::from_str(&field("owner").unwrap_or_default())?,
        executable: a["executable"].as_bool().unwrap_or(false),
        rent_epoch: 0,
    };
    Ok((address, account))
}
