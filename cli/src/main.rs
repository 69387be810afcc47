//! `careledger`: consent, records and the audit trail from the command line, over any cluster
//! (`--url` takes the Solana CLI monikers or a URL) or a local ledger folder with no validator
//! (`--url embedded:PATH`).
mod command;
mod consent;
mod ledger;
mod money;

use anyhow::{anyhow, bail, Context, Result};
use careledger_sdk::classes::{class_mask, RecordClass};
use careledger_sdk::embedded::EmbeddedTransport;
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::transport::AnyTransport;
use careledger_sdk::{action, cid, ix, pda, Client, ConfigInitArgs, Purpose, SdkError, Transport};
use careledger_sdk::{AccessLogArgs, CareledgerEvent, GrantCreateArgs, TxOutcome};
use clap::{Parser, Subcommand, ValueEnum};
use ledger::folder::Access;
use ledger::Ledger;
use serde_json::{json, Value};
use solana_keypair::{read_keypair_file, write_keypair_file, Keypair};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use std::path::{Path, PathBuf};
use std::str::FromStr;

#[derive(Parser)]
#[command(
    name = "careledger",
    version,
    about = "Patient consent, record anchors and the audit trail on Solana"
)]
struct Cli {
    /// mainnet-beta, devnet, testnet, localhost, an RPC URL, or embedded:PATH (a local ledger
    /// folder: no validator needed)
    #[arg(
        long,
        short = 'u',
        global = true,
        default_value = "embedded:./careledger-ledger"
    )]
    url: String,
    /// Keypair file [default: the Solana CLI config's keypair_path, else ~/.config/solana/id.json]
    #[arg(long, short = 'k', global = true)]
    keypair: Option<PathBuf>,
    /// processed, confirmed or finalized (RPC only)
    #[arg(long, global = true, default_value = "confirmed")]
    commitment: String,
    #[arg(long, global = true, value_enum, default_value_t = Output::Display)]
    output: Output,
    /// How long a command on a ledger folder waits for another one to finish, in seconds
    #[arg(long, global = true, default_value_t = 60.0)]
    lock_timeout: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Display,
    Json,
    JsonCompact,
}

#[derive(Subcommand)]
enum Command {
    /// Prints the public key of --keypair
    Address,
    /// Writes a new keypair file
    Keygen {
        #[arg(long)]
        outfile: PathBuf,
    },
    /// The program's settings (admin only)
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The credential authority verifies and suspends providers
    #[command(subcommand)]
    Authority(AuthorityCmd),
    /// What a patient (or guardian) does
    #[command(subcommand)]
    Patient(PatientCmd),
    /// What a provider does
    #[command(subcommand)]
    Provider(ProviderCmd),
    /// SPL Token mints and accounts (for a ledger folder, which has no spl-token CLI)
    #[command(subcommand)]
    Token(money::TokenCmd),
    /// Policies, coverage rules and claim reviews
    #[command(subcommand)]
    Insurer(money::InsurerCmd),
    /// Submit, settle, fund and show claims
    #[command(subcommand)]
    Claim(money::ClaimCmd),
    /// Research studies and their rewards
    #[command(subcommand)]
    Study(money::StudyCmd),
    /// The embedded ledger folder: check it, export it for solana-test-validator
    #[command(subcommand)]
    Ledger(command::ledger::LedgerCmd),
    /// Runs a short consent story with this binary on a fresh ledger folder, printing each command
    Demo,
    /// Checks a file against a record anchor
    Verify {
        file: PathBuf,
        #[arg(long)]
        record: Pubkey,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Creates the config (signer: the program's upgrade authority)
    Init {
        /// Defaults to the signer
        #[arg(long)]
        admin: Option<Pubkey>,
        /// Defaults to the signer
        #[arg(long)]
        credential_authority: Option<Pubkey>,
        #[arg(long, default_value_t = 4 * 3600)]
        max_break_glass_secs: u32,
    },
    Pause,
    Unpause,
    Show,
    /// Two-step admin hand-over, and the list of accepted freezable payment mints
    #[command(subcommand)]
    Admin(AdminCmd),
}

#[derive(Subcommand)]
enum AdminCmd {
    /// The admin proposes a successor
    Propose { new_admin: Pubkey },
    /// The proposed admin accepts
    Accept,
    /// Accepts a payment mint that has a freeze authority (held by its issuer, not by an
    /// insurer or sponsor)
    AcceptMint { mint: Pubkey },
    /// Takes a mint off the accepted list
    RemoveMint { mint: Pubkey },
}

#[derive(Subcommand)]
enum AuthorityCmd {
    /// Verifies a registered provider's roles until an expiry
    Verify {
        wallet: Pubkey,
        /// clinician, lab, hospital, insurer, researcher, emergency (comma-separated)
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
    Suspend {
        wallet: Pubkey,
        #[arg(long)]
        reason: u16,
    },
}

#[derive(Subcommand)]
enum PatientCmd {
    Register,
    /// Grants a provider access to classes of records for one purpose
    Grant {
        grantee: Pubkey,
        /// treatment, payment, operations, research, public-health
        #[arg(long)]
        purpose: String,
        /// Record classes, e.g. lab-result,imaging
        #[arg(long, value_delimiter = ',')]
        classes: Vec<String>,
        /// read, write or read,write
        #[arg(long, value_delimiter = ',', default_value = "read")]
        actions: Vec<String>,
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// Narrows or extends a grant; options left out keep their current value
    Update {
        grantee: Pubkey,
        #[arg(long)]
        purpose: String,
        #[arg(long, value_delimiter = ',')]
        classes: Option<Vec<String>>,
        #[arg(long, value_delimiter = ',')]
        actions: Option<Vec<String>>,
        /// New expiry, in days from now
        #[arg(long)]
        days: Option<i64>,
    },
    Revoke {
        grantee: Pubkey,
        #[arg(long)]
        purpose: String,
    },
    /// Voids every grant at once
    RevokeAll,
    /// Anchors the CID and SHA-256 of an (encrypted) file
    Anchor {
        file: PathBuf,
        #[arg(long)]
        class: String,
        /// A CID the caller already has (e.g. from an IPFS node) instead of the file's raw CIDv1
        #[arg(long)]
        cid: Option<String>,
    },
    /// The patient account, grants and records
    Show {
        wallet: Option<Pubkey>,
    },
    /// Appoints or clears a guardian
    #[command(subcommand)]
    Guardian(consent::GuardianCmd),
    /// Access requests from providers
    #[command(subcommand)]
    Requests(consent::RequestsCmd),
    /// Break-glass accesses to review
    #[command(subcommand)]
    Emergencies(consent::EmergenciesCmd),
    /// Exports the audit trail
    Audit {
        #[arg(long, default_value = "fhir")]
        format: String,
    },
}

#[derive(Subcommand)]
enum ProviderCmd {
    Register {
        /// clinician, lab, hospital, insurer, researcher, emergency (comma-separated)
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// The licence document: only its SHA-256 goes on chain
        #[arg(long)]
        credential_file: PathBuf,
    },
    /// Records a read (or write) of a patient's record under a grant
    LogAccess {
        patient: Pubkey,
        #[arg(long)]
        record: u32,
        #[arg(long, default_value = "treatment")]
        purpose: String,
        #[arg(long, default_value = "read")]
        action: String,
        /// Fail on a refusal instead of recording it
        #[arg(long)]
        strict: bool,
    },
    Show {
        wallet: Option<Pubkey>,
    },
    /// Asks a patient for access (the patient approves or denies)
    RequestAccess {
        patient: Pubkey,
        #[arg(long)]
        purpose: String,
        #[arg(long, value_delimiter = ',')]
        classes: Vec<String>,
        #[arg(long, value_delimiter = ',', default_value = "read")]
        actions: Vec<String>,
        /// Opaque reason code
        #[arg(long)]
        reason: u16,
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// Anchors a file's CID and SHA-256 for a patient (needs a write grant for the class)
    Anchor {
        file: PathBuf,
        #[arg(long)]
        patient: Pubkey,
        #[arg(long)]
        class: String,
        /// A CID the caller already has (e.g. from an IPFS node) instead of the file's raw CIDv1
        #[arg(long)]
        cid: Option<String>,
        /// The purpose of the write grant to use
        #[arg(long, default_value = "treatment")]
        purpose: String,
    },
    /// Anchors a new version of a record (needs a write grant)
    Amend {
        patient: Pubkey,
        #[arg(long)]
        record: u32,
        file: PathBuf,
    },
    /// Break-glass: short emergency access without the patient's signature, flagged for review
    EmergencyAccess {
        patient: Pubkey,
        #[arg(long)]
        reason: u16,
        #[arg(long, default_value_t = 1)]
        hours: u32,
    },
}

fn lock_timeout(cli: &Cli) -> Result<std::time::Duration> {
    std::time::Duration::try_from_secs_f64(cli.lock_timeout).map_err(|_| {
        anyhow!(
            "--lock-timeout {} is not a number of seconds (0 or more)",
            cli.lock_timeout
        )
    })
}

impl Command {
    /// Whether the command may change the ledger (it then holds the folder's lock alone).
    /// Anything not listed as read-only writes: a wrong entry costs waiting, never data.
    fn writes(&self) -> bool {
        use consent::{EmergenciesCmd, RequestsCmd};
        let reads = matches!(
            self,
            Command::Verify { .. }
                | Command::Config(ConfigCmd::Show)
                | Command::Patient(
                    PatientCmd::Show { .. }
                        | PatientCmd::Audit { .. }
                        | PatientCmd::Requests(RequestsCmd::List)
                        | PatientCmd::Emergencies(EmergenciesCmd::List)
                )
                | Command::Provider(ProviderCmd::Show { .. })
                | Command::Token(money::TokenCmd::Balance { .. })
                | Command::Claim(money::ClaimCmd::Show { .. })
                | Command::Study(money::StudyCmd::Show { .. })
        );
        !reads
    }
}

pub(crate) struct Session {
    pub(crate) client: Client<AnyTransport, Keypair>,
    signer: Keypair,
    ledger: Option<Ledger>,
}

pub(crate) fn purpose(name: &str) -> Result<Purpose> {
    Ok(match name {
        "treatment" => Purpose::Treatment,
        "payment" => Purpose::Payment,
        "operations" => Purpose::Operations,
        "research" => Purpose::Research,
        "public-health" => Purpose::PublicHealth,
        other => bail!("unknown purpose `{other}`: use treatment, payment, operations, research or public-health"),
    })
}

fn roles(names: &[String]) -> Result<u8> {
    use careledger_sdk::*;
    let mut mask = 0;
    for name in names {
        mask |= match name.as_str() {
            "clinician" => ROLE_CLINICIAN,
            "lab" => ROLE_LAB,
            "hospital" => ROLE_HOSPITAL,
            "insurer" => ROLE_INSURER,
            "researcher" => ROLE_RESEARCHER,
            "emergency" => ROLE_EMERGENCY,
            other => bail!("unknown role `{other}`: use clinician, lab, hospital, insurer, researcher or emergency"),
        };
    }
    Ok(mask)
}

pub(crate) fn actions(names: &[String]) -> Result<u8> {
    let mut mask = 0;
    for name in names {
        mask |= match name.as_str() {
            "read" => action::READ,
            "write" => action::WRITE,
            other => bail!("unknown action `{other}`: use read or write"),
        };
    }
    Ok(mask)
}

/// Record classes by name, as a bitmask.
pub(crate) fn classes(names: &[String]) -> Result<u16> {
    let parsed: Result<Vec<RecordClass>, _> =
        names.iter().map(|n| RecordClass::from_str(n)).collect();
    let known = RecordClass::ALL.map(|c| c.name()).join(", ");
    Ok(class_mask(
        &parsed.map_err(|e| anyhow!("{e}: known classes are {known}"))?,
    ))
}

/// The keypair path the Solana CLI would use.
fn default_keypair() -> PathBuf {
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

fn rpc_url(url: &str) -> String {
    match url {
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        other => other.into(),
    }
}

async fn session(cli: &Cli) -> Result<Session> {
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
        let access = if cli.command.writes() {
            Access::Exclusive
        } else {
            Access::Shared
        };
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
            ledger.record(&outcome.events)?;
        }
        Ok(outcome)
    }

    pub(crate) async fn send(
        &self,
        instruction: solana_instruction::Instruction,
    ) -> Result<TxOutcome> {
        self.send_all(std::slice::from_ref(&instruction), &[]).await
    }

    async fn finish(&self) -> Result<()> {
        if let (Some(ledger), AnyTransport::Embedded(t)) = (&self.ledger, self.client.transport()) {
            ledger.save(t).await?;
        }
        Ok(())
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

fn describe(events: &[CareledgerEvent]) -> String {
    events
        .iter()
        .map(|e| format!("  event {}", e.name()))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn run(cli: &Cli) -> Result<(Value, String)> {
    if let Command::Keygen { outfile } = &cli.command {
        if outfile.exists() {
            bail!(
                "{} exists: refusing to overwrite a keypair",
                outfile.display()
            );
        }
        let k = Keypair::new();
        write_keypair_file(&k, outfile)
            .map_err(|e| anyhow!("cannot write {}: {e}", outfile.display()))?;
        return Ok((
            json!({ "pubkey": k.pubkey().to_string() }),
            format!("wrote {} ({})", outfile.display(), k.pubkey()),
        ));
    }
    if let Command::Demo = &cli.command {
        return demo();
    }
    if let Command::Ledger(cmd) = &cli.command {
        return command::ledger::execute(&cli.url, lock_timeout(cli)?, cmd);
    }
    if let Command::Address = &cli.command {
        let path = cli.keypair.clone().unwrap_or_else(default_keypair);
        let k = read_keypair_file(&path)
            .map_err(|e| anyhow!("cannot read the keypair {}: {e}", path.display()))?;
        return Ok((
            json!({ "pubkey": k.pubkey().to_string() }),
            k.pubkey().to_string(),
        ));
    }
    let s = session(cli).await?;
    let me = s.me();
    let result = match &cli.command {
        Command::Keygen { .. } | Command::Address | Command::Demo | Command::Ledger(_) => {
            unreachable!("handled above")
        }
        Command::Config(cmd) => match cmd {
            ConfigCmd::Init {
                admin,
                credential_authority,
                max_break_glass_secs,
            } => {
                let args = ConfigInitArgs {
                    admin: admin.unwrap_or(me),
                    credential_authority: credential_authority.unwrap_or(me),
                    max_break_glass_secs: *max_break_glass_secs,
                };
                let out = s.send(ix::config_init(&me, args)).await?;
                (
                    sent(&out),
                    format!("config created\n{}", describe(&out.events)),
                )
            }
            ConfigCmd::Pause | ConfigCmd::Unpause => {
                let paused = matches!(cmd, ConfigCmd::Pause);
                let out = s.send(ix::config_set_paused(&me, paused)).await?;
                (sent(&out), format!("paused: {paused}"))
            }
            ConfigCmd::Admin(AdminCmd::Propose { new_admin }) => {
                let out = s.send(ix::config_propose_admin(&me, new_admin)).await?;
                (
                    sent(&out),
                    format!("{new_admin} proposed as admin: it must accept"),
                )
            }
            ConfigCmd::Admin(AdminCmd::Accept) => {
                let out = s.send(ix::config_accept_admin(&me)).await?;
                (sent(&out), format!("{me} is now the admin"))
            }
            ConfigCmd::Admin(AdminCmd::AcceptMint { mint }) => {
                let out = s.send(ix::mint_accept(&me, mint)).await?;
                (sent(&out), format!("mint {mint} accepted for payment"))
            }
            ConfigCmd::Admin(AdminCmd::RemoveMint { mint }) => {
                let entry: careledger_sdk::program::state::AcceptedMint = s
                    .client
                    .fetch(&pda::accepted_mint(mint).0)
                    .await
                    .map_err(explain)?;
                let out = s
                    .send(ix::mint_remove(&me, mint, &entry.accepted_by))
                    .await?;
                (
                    sent(&out),
                    format!("mint {mint} removed from the accepted list"),
                )
            }
            ConfigCmd::Show => {
                let c: careledger_sdk::Config =
                    s.client.fetch(&pda::config()).await.map_err(explain)?;
                let v = json!({
                    "admin": c.admin.to_string(),
                    "credential_authority": c.credential_authority.to_string(),
                    "paused": c.paused,
                    "max_break_glass_secs": c.max_break_glass_secs,
                });
                let text = format!(
                    "admin {}\ncredential authority {}\npaused {}\nmax break-glass {} s",
                    c.admin, c.credential_authority, c.paused, c.max_break_glass_secs
                );
                (v, text)
            }
        },
        Command::Authority(cmd) => match cmd {
            AuthorityCmd::Verify {
                wallet,
                roles: r,
                days,
            } => {
                let now = s.client.transport().unix_timestamp().await?;
                let args = careledger_sdk::ProviderVerifyArgs {
                    roles: roles(r)?,
                    credential_expires_at: now + days * 86_400,
                };
                let out = s.send(ix::provider_verify(&me, wallet, args)).await?;
                (
                    sent(&out),
                    format!("provider {wallet} verified for {days} days"),
                )
            }
            AuthorityCmd::Suspend { wallet, reason } => {
                let out = s.send(ix::provider_suspend(&me, wallet, *reason)).await?;
                (
                    sent(&out),
                    format!("provider {wallet} suspended (reason {reason})"),
                )
            }
        },
        Command::Patient(cmd) => patient(&s, cmd).await?,
        Command::Token(cmd) => money::token(&s, cmd).await?,
        Command::Insurer(cmd) => money::insurer(&s, cmd).await?,
        Command::Claim(cmd) => money::claim(&s, cmd).await?,
        Command::Study(cmd) => money::study(&s, cmd).await?,
        Command::Provider(cmd) => provider(&s, cmd).await?,
        Command::Verify { file, record } => {
            let anchor: careledger_sdk::RecordAnchor =
                s.client.fetch(record).await.map_err(explain)?;
            let check = cid::verify_file(file, &anchor)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let ok = check == cid::FileCheck::Matches;
            let text = if ok {
                format!(
                    "{} matches record #{} v{} ({:?})",
                    file.display(),
                    anchor.index,
                    anchor.version,
                    anchor.status
                )
            } else {
                format!(
                    "{} does NOT match record #{}: it is not the anchored version",
                    file.display(),
                    anchor.index
                )
            };
            (
                json!({ "matches": ok, "record": record.to_string(), "version": anchor.version }),
                text,
            )
        }
    };
    s.finish().await?;
    Ok(result)
}

async fn patient(s: &Session, cmd: &PatientCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        PatientCmd::Register => {
            if s.client
                .transport()
                .account(&pda::patient(&me).0)
                .await?
                .is_some()
            {
                bail!("{me} is already registered as a patient");
            }
            let out = s.send(ix::patient_register(&me)).await?;
            (sent(&out), format!("patient {me} registered"))
        }
        PatientCmd::Grant {
            grantee,
            purpose: p,
            classes: c,
            actions: a,
            days,
        } => {
            let (purpose, classes, actions) = (purpose(p)?, classes(c)?, actions(a)?);
            if s.client
                .transport()
                .account(&pda::provider(grantee).0)
                .await?
                .is_none()
            {
                bail!("{grantee} is not a registered provider: it must run `careledger provider register` first");
            }
            let now = s.client.transport().unix_timestamp().await?;
            let args = GrantCreateArgs {
                purpose,
                classes,
                actions,
                record_scope: careledger_sdk::NO_RECORD_SCOPE,
                not_before: 0,
                expires_at: now + days * 86_400,
            };
            let out = s
                .send(ix::grant_create(&me, &me, grantee, args.clone()))
                .await?;
            let grant = pda::grant(&me, grantee, args.purpose).0;
            let mut v = sent(&out);
            v["grant"] = json!(grant.to_string());
            (v, format!("grant {grant} to {grantee} for {days} days"))
        }
        PatientCmd::Update {
            grantee,
            purpose: p,
            classes: c,
            actions: a,
            days,
        } => {
            let grant = pda::grant(&me, grantee, purpose(p)?).0;
            let current: careledger_sdk::ConsentGrant =
                s.client.fetch(&grant).await.map_err(explain)?;
            let now = s.client.transport().unix_timestamp().await?;
            let args = careledger_sdk::GrantUpdateArgs {
                classes: c
                    .as_deref()
                    .map(classes)
                    .transpose()?
                    .unwrap_or(current.classes),
                actions: a
                    .as_deref()
                    .map(actions)
                    .transpose()?
                    .unwrap_or(current.actions),
                record_scope: current.record_scope,
                not_before: current.not_before,
                expires_at: days.map_or(current.expires_at, |d| now + d * 86_400),
            };
            let out = s.send(ix::grant_update(&me, &me, &grant, args)).await?;
            (sent(&out), format!("grant {grant} updated"))
        }
        PatientCmd::Revoke {
            grantee,
            purpose: p,
        } => {
            let grant = pda::grant(&me, grantee, purpose(p)?).0;
            let out = s.send(ix::grant_revoke(&me, &me, &grant)).await?;
            (sent(&out), format!("grant {grant} revoked"))
        }
        PatientCmd::RevokeAll => {
            let out = s.send(ix::grant_revoke_all(&me, &me)).await?;
            (sent(&out), "every grant revoked".to_string())
        }
        PatientCmd::Anchor {
            file,
            class,
            cid: given,
        } => anchor_file(s, &me, ix::Author::Patient, file, class, given.as_deref()).await?,
        PatientCmd::Show { wallet } => {
            let who = wallet.unwrap_or(me);
            let p: careledger_sdk::Patient = s
                .client
                .fetch(&pda::patient(&who).0)
                .await
                .map_err(explain)?;
            let grants = s.client.grants_by_patient(&who).await.map_err(explain)?;
            let records = s.client.records_by_patient(&who).await.map_err(explain)?;
            let v = json!({
                "wallet": who.to_string(),
                "consent_epoch": p.consent_epoch,
                "records": records.iter().map(|(a, r)| json!({"address": a.to_string(), "index": r.index, "version": r.version, "status": format!("{:?}", r.status), "cid": cid::cid_to_string(&r.cid)})).collect::<Vec<_>>(),
                "grants": grants.iter().map(|(a, g)| json!({"address": a.to_string(), "grantee": g.grantee.to_string(), "purpose": format!("{:?}", g.purpose), "status": format!("{:?}", g.status), "expires_at": g.expires_at})).collect::<Vec<_>>(),
            });
            let text = format!(
                "patient {who}: {} records, {} grants, consent epoch {}",
                records.len(),
                grants.len(),
                p.consent_epoch
            );
            (v, text)
        }
        PatientCmd::Guardian(cmd) => consent::guardian(s, cmd).await?,
        PatientCmd::Requests(cmd) => consent::requests(s, cmd).await?,
        PatientCmd::Emergencies(cmd) => consent::emergencies(s, cmd).await?,
        PatientCmd::Audit { format } => {
            if format != "fhir" {
                bail!("unknown audit format `{format}`: use fhir");
            }
            let events = match (&s.ledger, s.client.transport()) {
                (Some(l), _) => l.events()?,
                // on a cluster: the transactions that touched the patient's account
                (None, AnyTransport::Rpc(rpc)) => rpc
                    .history(&pda::patient(&me).0, 1_000)
                    .await
                    .map_err(explain)?,
                (None, AnyTransport::Embedded(_)) => Vec::new(),
            };
            let bundle = s.client.audit_bundle(&me, &events).await.map_err(explain)?;
            let text = serde_json::to_string_pretty(&bundle)?;
            (bundle, text)
        }
    })
}

/// Hashes `file` (with a progress bar when it is large), and anchors its CID for `patient`.
async fn anchor_file(
    s: &Session,
    patient: &Pubkey,
    author: ix::Author,
    file: &Path,
    class: &str,
    given: Option<&str>,
) -> Result<(Value, String)> {
    let class = RecordClass::from_str(class).map_err(explain)?;
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = indicatif::ProgressBar::new(size);
    if size < 8 << 20 || progress_hidden() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let reader = std::io::BufReader::new(std::fs::File::open(file)?);
    let digest = cid::sha256_reader(reader, |n| bar.inc(n)).map_err(explain)?;
    bar.finish_and_clear();
    let cid_bytes = match given {
        Some(text) => cid::cid_to_bytes(text).map_err(explain)?,
        None => cid::raw_cid_v1(&digest),
    };
    let index = s
        .client
        .fetch::<careledger_sdk::Patient>(&pda::patient(patient).0)
        .await
        .map_err(explain)?
        .record_count;
    let args = careledger_sdk::RecordAnchorArgs {
        cid: cid_bytes,
        content_sha256: digest,
        class: class.id(),
    };
    let out = s
        .send(ix::record_anchor(patient, index, author, args))
        .await?;
    let record = pda::record(patient, index).0;
    let mut v = sent(&out);
    v["record"] = json!(record.to_string());
    v["index"] = json!(index);
    Ok((v, format!("record #{index} anchored at {record}")))
}

fn progress_hidden() -> bool {
    std::env::var_os("CARELEDGER_NO_PROGRESS").is_some()
}

async fn provider(s: &Session, cmd: &ProviderCmd) -> Result<(Value, String)> {
    let me = s.me();
    Ok(match cmd {
        ProviderCmd::Register {
            roles: r,
            credential_file,
        } => {
            let credential_ref = cid::sha256_file(credential_file).map_err(|e| {
                anyhow!(
                    "cannot read the credential file {}: {e}",
                    credential_file.display()
                )
            })?;
            if s.client
                .transport()
                .account(&pda::provider(&me).0)
                .await?
                .is_some()
            {
                bail!("{me} is already registered as a provider");
            }
            let args = careledger_sdk::ProviderRegisterArgs {
                roles: roles(r)?,
                credential_ref,
            };
            let out = s.send(ix::provider_register(&me, args)).await?;
            (
                sent(&out),
                format!("provider {me} registered, pending verification"),
            )
        }
        ProviderCmd::LogAccess {
            patient,
            record,
            purpose: p,
            action: a,
            strict,
        } => {
            let purpose = purpose(p)?;
            let grant = pda::grant(patient, &me, purpose).0;
            let args = AccessLogArgs {
                action: actions(std::slice::from_ref(a))?,
                purpose,
                strict: *strict,
            };
            let out = s
                .send(ix::access_log(
                    &me,
                    patient,
                    &grant,
                    &pda::record(patient, *record).0,
                    args,
                ))
                .await?;
            let refused = out.events.iter().find_map(|e| match e {
                CareledgerEvent::AccessRefused(r) => Some(format!("{:?}", r.reason)),
                _ => None,
            });
            let mut v = sent(&out);
            v["allowed"] = json!(refused.is_none());
            v["refusal"] = json!(refused);
            let text = match &refused {
                None => format!("access to record #{record} logged"),
                Some(reason) => format!(
                    "access to record #{record} REFUSED ({reason}); the refusal is on the record"
                ),
            };
            (v, text)
        }
        ProviderCmd::RequestAccess {
            patient,
            purpose: p,
            classes: c,
            actions: a,
            reason,
            days,
        } => consent::request_access(s, patient, p, c, a, *reason, *days).await?,
        ProviderCmd::Anchor {
            file,
            patient,
            class,
            cid: given,
            purpose: p,
        } => {
            let author = ix::Author::Provider {
                wallet: me,
                purpose: purpose(p)?,
            };
            anchor_file(s, patient, author, file, class, given.as_deref()).await?
        }
        ProviderCmd::Amend {
            patient,
            record,
            file,
        } => consent::amend(s, patient, *record, file).await?,
        ProviderCmd::EmergencyAccess {
            patient,
            reason,
            hours,
        } => consent::emergency_access(s, patient, *reason, *hours).await?,
        ProviderCmd::Show { wallet } => {
            let who = wallet.unwrap_or(me);
            let p: careledger_sdk::Provider = s
                .client
                .fetch(&pda::provider(&who).0)
                .await
                .map_err(explain)?;
            let v = json!({ "wallet": who.to_string(), "roles": p.roles, "status": format!("{:?}", p.status), "credential_expires_at": p.credential_expires_at });
            (
                v,
                format!("provider {who}: {:?}, roles {:#04x}", p.status, p.roles),
            )
        }
    })
}

/// The demo: this binary run step by step on a temporary ledger folder, as a user would.
fn demo() -> Result<(Value, String)> {
    let dir = std::env::temp_dir().join(format!("careledger-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let path = |name: &str| dir.join(name).display().to_string();
    let url = format!("embedded:{}", path("ledger"));
    let run = |keypair: &str, args: &[&str]| -> Result<String> {
        println!("$ careledger -k {keypair} {}", args.join(" "));
        let out = std::process::Command::new(&exe)
            .args(["--url", &url, "--keypair", &path(keypair)])
            .args(args)
            .env("CARELEDGER_NO_PROGRESS", "1")
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() {
            bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        println!("{text}\n");
        Ok(text)
    };
    for k in ["admin.json", "patient.json", "clinic.json"] {
        run(k, &["keygen", "--outfile", &path(k)])?;
    }
    let patient = run("patient.json", &["address"])?;
    let clinic = run("clinic.json", &["address"])?;
    std::fs::write(dir.join("licence.pdf"), b"licence document")?;
    std::fs::write(dir.join("lab.enc"), b"an encrypted lab result")?;
    run("admin.json", &["config", "init"])?;
    run("patient.json", &["patient", "register"])?;
    run(
        "clinic.json",
        &[
            "provider",
            "register",
            "--roles",
            "clinician",
            "--credential-file",
            &path("licence.pdf"),
        ],
    )?;
    run(
        "admin.json",
        &["authority", "verify", &clinic, "--roles", "clinician"],
    )?;
    run(
        "patient.json",
        &[
            "patient",
            "anchor",
            &path("lab.enc"),
            "--class",
            "lab-result",
        ],
    )?;
    run(
        "clinic.json",
        &[
            "provider",
            "request-access",
            &patient,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
            "--reason",
            "12",
        ],
    )?;
    run("patient.json", &["patient", "requests", "list"])?;
    run("patient.json", &["patient", "requests", "approve", &clinic])?;
    run(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    )?;
    run("patient.json", &["patient", "revoke-all"])?;
    run(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    )?;
    run("patient.json", &["patient", "show"])?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((
        json!({ "demo": "done" }),
        "done: every step above left an audit event (`careledger patient audit`)".into(),
    ))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let cli = Cli::parse();
    match run(&cli).await {
        Ok((value, text)) => {
            match cli.output {
                Output::Display => println!("{text}"),
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                ),
                Output::JsonCompact => println!("{value}"),
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
