//! A command's session: the signer, the client over RPC or a ledger folder, sending with clean
//! errors, and saving the folder at the end.
use crate::Cli;
use anyhow::{anyhow, bail, Result};
use careledger_sdk::any_transport::AnyTransport;
use careledger_sdk::embedded::folder::{Access, Ledger};
use careledger_sdk::embedded::EmbeddedTransport;
use careledger_sdk::rpc::RpcTransport;
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

/// clap's parser for a record: its address, or `PATIENT/INDEX`, the patient's wallet and the
/// record's number as `patient anchor`, `patient put` and `patient show` print it (and as
/// `provider log-access --record` takes it). Pure: the address is derived, not looked up.
pub fn record(text: &str) -> Result<Pubkey, String> {
    if let Some((wallet, index)) = text.split_once('/') {
        let wallet = address(wallet)?;
        let index = index
            .parse::<u32>()
            .map_err(|_| format!("`{index}` in `{text}` is not a record number (0, 1, 2, ...)"))?;
        return Ok(careledger_sdk::pda::record(&wallet, index).0);
    }
    Pubkey::from_str(text).map_err(|_| {
        format!(
            "`{text}` is not a record: give its address, or PATIENT/INDEX \
             (the patient's wallet and the record's number, as `patient show` lists them)"
        )
    })
}

/// clap's parser for a number of days: a whole number from 1 to 3,650 (ten years), refused by
/// name before anything is signed ("--days 0" used to come back as the program's InvalidExpiry).
pub fn days(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(d) if (1..=3650).contains(&d) => Ok(d),
        _ => Err(format!(
            "`{text}` is not a number of days from 1 to 3650 (ten years)"
        )),
    }
}

/// [`days`], for the fields that hold days as `u32`.
pub fn days_u32(text: &str) -> Result<u32, String> {
    days(text).map(|d| d as u32)
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
    /// A read-only command run without a keypair: `signer` is a throwaway key that signs
    /// nothing, and "your wallet" must be given.
    keyless: Option<String>,
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

/// The RPC URL a `--url` names: a moniker, or an http(s) URL; anything else is one sentence.
pub(crate) fn rpc_url(url: &str) -> Result<String> {
    Ok(match url {
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        other if other.starts_with("http://") || other.starts_with("https://") => other.into(),
        other => bail!(
            "--url `{other}` is not a cluster careledger can reach: use mainnet-beta, devnet, testnet, localhost, an http:// or https:// RPC URL, or embedded:PATH for a ledger folder"
        ),
    })
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
    let missing = |e: &dyn std::fmt::Display| {
        format!(
            "cannot read the keypair {}: {e}. Pass --keypair FILE, or create one with `careledger keygen --outfile FILE`",
            path.display()
        )
    };
    // a command that only reads needs no signer: without a keypair it runs with a throwaway
    // key that signs nothing, and asks for a wallet where it would have used yours
    let (signer, keyless) = match read_keypair_file(&path) {
        Ok(signer) => (signer, None),
        Err(e) if !cli.command.writes() => (Keypair::new(), Some(missing(&e))),
        Err(e) => bail!("{}", missing(&e)),
    };
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
            keyless,
            ledger: Some(ledger),
        });
    }
    let url = rpc_url(&cli.url)?;
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
        keyless,
        ledger: None,
    })
}

/// Program errors by name and message, never a bare code.
pub(crate) fn explain(e: SdkError) -> anyhow::Error {
    match &e {
        SdkError::Program { error, code, .. } => {
            anyhow!("careledger refused: {error:?} ({code}): {error}")
        }
        SdkError::AccountNotFound(address) if *address == careledger_sdk::CONFIG_ADDRESS => anyhow!(
            "careledger is not set up on this ledger yet: its upgrade authority runs `careledger config init` first"
        ),
        SdkError::Anchor { code: 3012, name, .. } => anyhow!(
            "careledger refused: an account it needs does not exist ({name}, Anchor {}): check the wallet or address you passed",
            3012
        ),
        SdkError::Anchor { code, name, .. } => anyhow!("careledger refused: {name} (Anchor error {code})"),
        SdkError::AccountNotFound(address) => {
            anyhow!("account {address} does not exist on this ledger")
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
        if let Some(why) = &self.keyless {
            bail!("this command sends a transaction and needs your keypair: {why}");
        }
        let mut signers: Vec<&careledger_sdk::DynSigner> = vec![&self.signer];
        signers.extend(extra.iter().map(|k| *k as &careledger_sdk::DynSigner));
        let outcome = match self.client.send(instructions, &signers).await {
            Ok(outcome) => outcome,
            // an account the program needs is missing: on a fresh ledger, it is the config
            Err(SdkError::Anchor { code: 3012, .. })
                if matches!(
                    self.client
                        .transport()
                        .account(&careledger_sdk::CONFIG_ADDRESS)
                        .await,
                    Ok(None)
                ) =>
            {
                return Err(explain(SdkError::AccountNotFound(
                    careledger_sdk::CONFIG_ADDRESS,
                )))
            }
            Err(e) => return Err(explain(e)),
        };
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

    /// Refuses, before anything is signed, a wallet acting as a patient that is not one.
    pub(crate) async fn registered_patient(&self, wallet: &Pubkey) -> Result<()> {
        let address = careledger_sdk::pda::patient(wallet).0;
        if self.client.transport().account(&address).await?.is_none() {
            if *wallet == self.me() {
                bail!("this wallet ({wallet}) is not registered as a patient: run `careledger patient register` first");
            }
            bail!("{wallet} is not a registered patient");
        }
        Ok(())
    }

    /// Refuses, before anything is signed, a wallet acting as a provider that is not one.
    pub(crate) async fn registered_provider(&self) -> Result<()> {
        let me = self.me();
        let address = careledger_sdk::pda::provider(&me).0;
        if self.client.transport().account(&address).await?.is_none() {
            bail!("this wallet ({me}) is not registered as a provider: run `careledger provider register --roles ROLES --credential-file FILE` first");
        }
        Ok(())
    }

    /// The wallet a read is about: the one given, else the keypair's; without a keypair the
    /// command says to name one.
    pub(crate) fn wallet_or_mine(&self, given: Option<Pubkey>, what: &str) -> Result<Pubkey> {
        match (given, &self.keyless) {
            (Some(wallet), _) => Ok(wallet),
            (None, None) => Ok(self.me()),
            (None, Some(why)) => bail!("name the {what}, or pass your keypair: {why}"),
        }
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
