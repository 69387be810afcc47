//! A command's session: the signer, the client over RPC or a ledger folder, sending with clean
//! errors, and saving the folder at the end.
use crate::ledger::folder::Access;
use crate::ledger::Ledger;
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use careledger_sdk::embedded::EmbeddedTransport;
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::transport::AnyTransport;
use careledger_sdk::{classes as names, Client, Purpose, SdkError, Transport};
use careledger_sdk::{CareledgerEvent, TxOutcome};
use serde_json::{json, Value};
use solana_keypair::{read_keypair_file, Keypair};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// clap's parser for addresses: a clear sentence instead of "String is the wrong size".
pub fn address(text: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(text)
        .map_err(|_| format!("`{text}` is not a valid address (base58, 32 bytes)"))
}

pub(crate) fn purpose(name: &str) -> Result<Purpose> {
    Ok(names::purpose(name)?)
}

pub(crate) fn actions(list: &[String]) -> Result<u8> {
    Ok(names::action_mask(list)?)
}

/// Record classes by name, as a bitmask.
pub(crate) fn classes(list: &[String]) -> Result<u16> {
    Ok(names::class_mask_of(list)?)
}

pub(crate) fn lock_timeout(cli: &Cli) -> Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(cli.lock_timeout).map_err(|_| {
        anyhow!(
            "--lock-timeout {} is not a number of seconds (0 or more)",
            cli.lock_timeout
        )
    })
}

pub(crate) struct Session {
    pub(crate) client: Client<AnyTransport, Keypair>,
    signer: Keypair,
    pub(crate) ledger: Option<Ledger>,
}

/// The keypair path the Solana CLI would use.
pub(crate) fn default_keypair() -> PathBuf {
    let home = PathBuf::from(std::env::var("HOME").unwrap_or_default());
    let config = home.join(".config/solana/cli/config.yml");
    if let Ok(text) = std::fs::read_to_string(config) {
        if let Some(line) = text
            .lines()
            .find(|l| l.trim_start().starts_with("keypair_path:"))
        {
            let path = line.split_once(':').map(|x| x.1).unwrap_or_default().trim();
            return PathBuf::from(path.trim_matches(|c| c == '"' || c == '\''));
        }
    }
    home.join(".config/solana/id.json")
}

pub(crate) fn rpc_url(url: &str) -> String {
    match url {
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        other => other.into(),
    }
}

pub(crate) async fn session(cli: &Cli) -> Result<Session> {
    let access = if cli.command.writes() {
        Access::Exclusive
    } else {
        Access::Shared
    };
    session_as(cli, access).await
}

/// A session that holds a ledger folder as `access` says (a command that reads before it
/// writes, such as `patient put`, checks under the shared lock so that a gateway can read
/// meanwhile).
pub(crate) async fn session_as(cli: &Cli, access: Access) -> Result<Session> {
    let path = cli.keypair.clone().unwrap_or_else(default_keypair);
    let signer = read_keypair_file(&path).map_err(|e| {
        anyhow!(
            "cannot read the keypair {}: {e}. Pass --keypair FILE, or create one with `careledger keygen --outfile FILE`",
            path.display()
        )
    })?;
    if let Some(dir) = cli.url.strip_prefix("embedded:") {
        // The runtime starts before the lock is taken: waiting writers queue only for the
        // load-run-save part.
        let transport = EmbeddedTransport::start(&signer.pubkey()).await;
        let ledger = Ledger::open(
            Path::new(dir),
            access,
            lock_timeout(cli)?,
            &signer.pubkey(),
            &transport,
        )
        .await?;
        // the embedded faucet pays for whoever uses the ledger
        if transport
            .account(&signer.pubkey())
            .await?
            .map_or(0, |a| a.lamports)
            < 1_000_000_000
        {
            transport.fund(&signer.pubkey(), 10_000_000_000).await?;
        }
        let client = Client::new(
            AnyTransport::Embedded(Box::new(transport)),
            signer.insecure_clone(),
        );
        return Ok(Session {
            client,
            signer,
            ledger: Some(ledger),
        });
    }
    let url = rpc_url(&cli.url);
    let commitment = solana_commitment_config::CommitmentConfig::from_str(&cli.commitment)
        .map_err(|_| {
            anyhow!(
                "unknown commitment `{}`: use processed, confirmed or finalized",
                cli.commitment
            )
        })?;
    let transport = RpcTransport::new(url.clone(), commitment);
    match transport.account(&careledger_sdk::program::ID).await {
        Err(e) => bail!("cannot reach {url}: {e}. Check --url (mainnet-beta, devnet, testnet, localhost, a URL, or embedded:PATH)"),
        Ok(None) => bail!("careledger ({}) is not deployed on {url}", careledger_sdk::program::ID),
        Ok(Some(_)) => {}
    }
    let client = Client::new(AnyTransport::Rpc(transport), signer.insecure_clone());
    Ok(Session {
        client,
        signer,
        ledger: None,
    })
}

/// Program errors by name and message, never a bare code.
pub(crate) fn explain(e: SdkError) -> anyhow::Error {
    match &e {
        SdkError::Program { error, code, .. } => {
            anyhow!("careledger refused: {error:?} ({code}): {error}")
        }
        SdkError::Anchor { code: 3012, name, .. } => anyhow!(
            "careledger refused: an account it needs does not exist ({name}, Anchor {}): check the wallet or address you passed",
            3012
        ),
        SdkError::Anchor { code, name, .. } => anyhow!("careledger refused: {name} (Anchor error {code})"),
        SdkError::AccountNotFound(address) => {
            anyhow!("account {address} does not exist on this cluster")
        }
        _ => anyhow!("{e}"),
    }
}

impl Session {
    /// Several instructions in one transaction, signed by the signer and `extra`.
    pub(crate) async fn send_all(
        &self,
        instructions: &[solana_instruction::Instruction],
        extra: &[&Keypair],
    ) -> Result<TxOutcome> {
        let mut signers: Vec<&careledger_sdk::DynSigner> = vec![&self.signer];
        signers.extend(extra.iter().map(|k| *k as &careledger_sdk::DynSigner));
        let outcome = self
            .client
            .send(instructions, &signers)
            .await
            .map_err(explain)?;
        if let Some(ledger) = &self.ledger {
            ledger.record(&outcome)?;
        }
        Ok(outcome)
    }

    pub(crate) async fn send(
        &self,
        instruction: solana_instruction::Instruction,
    ) -> Result<TxOutcome> {
        self.send_all(std::slice::from_ref(&instruction), &[]).await
    }

    pub(crate) async fn finish(&self) -> Result<()> {
        if let (Some(ledger), AnyTransport::Embedded(t)) = (&self.ledger, self.client.transport()) {
            ledger.save(t).await?;
        }
        Ok(())
    }

    /// The wallet, for signing messages (a gateway request) outside a transaction.
    pub(crate) fn signer(&self) -> &Keypair {
        &self.signer
    }

    pub(crate) fn me(&self) -> Pubkey {
        self.signer.pubkey()
    }
}

pub(crate) fn sent(outcome: &TxOutcome) -> Value {
    json!({
        "signature": outcome.signature.to_string(),
        "events": outcome.events.iter().map(|e| e.name()).collect::<Vec<_>>(),
    })
}

pub(crate) fn describe(events: &[CareledgerEvent]) -> String {
    events
        .iter()
        .map(|e| format!("  event {}: {}", e.name(), e.summary()))
        .collect::<Vec<_>>()
        .join("\n")
}
