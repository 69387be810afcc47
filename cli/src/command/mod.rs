//! One file per command group, each with its `Subcommand` and its `execute`; this module holds
//! the top-level command list and the dispatch.
pub mod airdrop;
pub mod authority;
pub mod claim;
pub mod config;
pub mod credential;
pub mod demo;
pub mod did;
pub mod insurer;
pub mod ipfs;
pub mod keys;
pub mod ledger;
pub mod localnet;
pub mod patient;
pub mod provider;
pub mod records;
pub mod serve;
pub mod study;
pub mod supply;
pub mod token;
pub mod verify;

use crate::session::{lock_timeout, session, Session};
use crate::{Cli, Finished};
use anyhow::Result;
use clap::Subcommand;
use serde_json::Value;
use solana_pubkey::Pubkey;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum Command {
    /// Prints the public key of --keypair
    Address,
    /// SOL from the cluster's faucet (a localnet, devnet or testnet) for ADDRESS or --keypair's
    /// wallet
    Airdrop {
        #[arg(value_parser = crate::session::address)]
        address: Option<Pubkey>,
        #[arg(long, default_value_t = 10.0)]
        sol: f64,
    },
    /// Writes a new keypair file
    Keygen {
        #[arg(long)]
        outfile: PathBuf,
    },
    /// The program's settings (admin only)
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// The credential authority verifies and suspends providers, and issues their credentials
    #[command(subcommand)]
    Authority(authority::AuthorityCmd),
    /// Provider credentials (W3C Verifiable Credentials) checked against the ledger
    #[command(subcommand)]
    Credential(credential::CredentialCmd),
    /// Prints the did:sol DID document of an address, with its published X25519 key
    Did {
        #[arg(value_parser = crate::session::address)]
        address: Pubkey,
        /// Write the document to a file instead of printing it
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace --out if it exists
        #[arg(long)]
        force: bool,
    },
    /// What a patient (or guardian) does
    #[command(subcommand)]
    Patient(patient::PatientCmd),
    /// What a provider does
    #[command(subcommand)]
    Provider(provider::ProviderCmd),
    /// SPL Token mints and accounts (for a ledger folder, which has no spl-token CLI)
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Policies, coverage rules and claim reviews
    #[command(subcommand)]
    Insurer(insurer::InsurerCmd),
    /// Submit, settle, fund and show claims
    #[command(subcommand)]
    Claim(claim::ClaimCmd),
    /// Research studies and their rewards
    #[command(subcommand)]
    Study(study::StudyCmd),
    /// The embedded ledger folder: check it, export it for solana-test-validator
    #[command(subcommand)]
    Ledger(ledger::LedgerCmd),
    /// X25519 keys records are released to: make one, publish or rotate it, show one
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// The drug supply chain: products, batches, pack verification, dispensing, recalls and
    /// shipments
    #[command(subcommand)]
    Supply(supply::SupplyCmd),
    /// Prints a file's CID as IPFS computes it (`ipfs add` with the same import profile)
    Cid {
        file: PathBuf,
        /// unixfs-v1-2025 (CIDv1, raw leaves, 1 MiB chunks) or unixfs-v0-2015 (CIDv0, 256 KiB)
        #[arg(long, default_value = "unixfs-v1-2025")]
        profile: String,
    },
    /// Writes a file's blocks as a CARv1, for `ipfs dag import` or a pinning service
    Car {
        file: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "unixfs-v1-2025")]
        profile: String,
        /// Replace --out if it exists
        #[arg(long)]
        force: bool,
    },
    /// Runs the record gateway (stores ciphertexts, releases them against on-chain access
    /// events) and the read-only FHIR API at /fhir (docs/FHIR.md)
    Serve(serve::ServeArgs),
    /// Runs a local cluster on 127.0.0.1 hosting careledger (JSON-RPC, and PubSub on the next
    /// port) until Ctrl-C: `--url http://127.0.0.1:8899` for every other command
    Localnet(localnet::LocalnetArgs),
    /// Runs a short consent story with this binary on a fresh ledger folder, printing each command
    Demo,
    /// Checks a file against a record anchor
    Verify {
        file: PathBuf,
        #[arg(long, value_parser = crate::session::record)]
        record: Pubkey,
    },
}

/// What each command is, besides what it does, declared here once: whether it may change the
/// ledger (the folder's lock it takes), and whether its failure is "no verdict" (exit 2, as
/// `cmp` does) rather than an error (exit 1). How it runs is its one arm in [`execute`].
impl Command {
    /// Whether the command may change the ledger (it then holds the folder's lock alone).
    /// Anything not listed as read-only writes: a wrong entry costs waiting, never data.
    pub fn writes(&self) -> bool {
        use patient::{EmergenciesCmd, PatientCmd, RequestsCmd};
        let reads = matches!(
            self,
            Command::Verify { .. }
                | Command::Did { .. }
                | Command::Credential(credential::CredentialCmd::Verify { .. })
                | Command::Config(config::ConfigCmd::Show)
                | Command::Patient(
                    PatientCmd::Show { .. }
                        | PatientCmd::Audit { .. }
                        | PatientCmd::Requests(RequestsCmd::List)
                        | PatientCmd::Emergencies(EmergenciesCmd::List)
                )
                | Command::Provider(provider::ProviderCmd::Show { .. })
                | Command::Keys(keys::KeysCmd::Show { .. })
                | Command::Token(token::TokenCmd::Balance { .. })
                | Command::Claim(claim::ClaimCmd::Show { .. })
                | Command::Study(study::StudyCmd::Show { .. })
                | Command::Supply(supply::SupplyCmd::Verify { .. })
        );
        !reads
    }

    /// Whether the command gives a verdict (exit 0 or 1: the file matches, the credential or
    /// the pack verifies), so that an error, when no verdict could be reached, exits 2.
    pub fn gives_verdict(&self) -> bool {
        matches!(
            self,
            Command::Verify { .. }
                | Command::Credential(_)
                | Command::Supply(supply::SupplyCmd::Verify { .. })
        )
    }
}

/// A command that printed (value, text) and succeeded.
fn done((value, text): (Value, String)) -> Finished {
    Finished {
        value,
        text,
        code: 0,
    }
}

/// A command that printed (value, text) and reached a verdict: exit 0 if `ok`, 1 if not.
fn verdict((value, text, ok): (Value, String, bool)) -> Finished {
    Finished {
        value,
        text,
        code: u8::from(!ok),
    }
}

/// Runs `run` in a session over the cluster or the ledger folder (its lock as the command's
/// [`Command::writes`] says), and saves a ledger folder before anything is printed.
async fn in_session<T>(cli: &Cli, run: impl AsyncFnOnce(&Session) -> Result<T>) -> Result<T> {
    // The embedded runtime runs the program in this process, and a natively built program
    // prints its log lines (`AnchorError occurred. ...`) to stdout. They are in the transaction's
    // logs already; keep them out of the command's output, which is printed after this returns.
    let _quiet = cli
        .url
        .starts_with("embedded:")
        .then(|| gag::Gag::stdout().ok());
    let s = session(cli).await?;
    let out = run(&s).await?;
    s.finish().await?;
    Ok(out)
}

/// Runs the command: each has one arm. Those that need no cluster run as they are; `put`,
/// `publish` and `get` hold the ledger only while they use it (the gateway reads it in
/// between); the rest run in one session.
pub async fn execute(cli: &Cli) -> Result<Finished> {
    Ok(match &cli.command {
        Command::Keygen { outfile } => done(keys::keygen(outfile)?),
        Command::Address => done(keys::address(cli)?),
        Command::Airdrop { address, sol } => done(airdrop::execute(cli, *address, *sol).await?),
        Command::Demo => done(demo::execute()?),
        Command::Keys(keys::KeysCmd::New { outfile }) => done(keys::new_x25519(outfile)?),
        Command::Cid { file, profile } => done(ipfs::cid_of(file, profile)?),
        Command::Car {
            file,
            out,
            profile,
            force,
        } => done(ipfs::car_of(file, out, profile, *force)?),
        Command::Serve(args) => done(serve::execute(cli, args).await?),
        Command::Localnet(args) => done(localnet::execute(cli, args).await?),
        Command::Supply(supply::SupplyCmd::Parse { pack }) => done(supply::parse(pack)?),
        Command::Supply(supply::SupplyCmd::Plan(args)) => done(supply::plan(args)?),
        Command::Patient(patient::PatientCmd::Put(args)) => records::put(cli, args).await?,
        Command::Patient(patient::PatientCmd::Publish(args)) => {
            records::publish_record(cli, args).await?
        }
        Command::Provider(provider::ProviderCmd::Get(args)) => done(records::get(cli, args).await?),
        Command::Ledger(cmd) => done(ledger::execute(&cli.url, lock_timeout(cli)?, cmd)?),
        Command::Keys(cmd) => done(in_session(cli, async |s| keys::execute(s, cmd).await).await?),
        Command::Config(cmd) => {
            done(in_session(cli, async |s| config::execute(s, cmd).await).await?)
        }
        Command::Authority(cmd) => {
            done(in_session(cli, async |s| authority::execute(s, cmd).await).await?)
        }
        Command::Credential(cmd) => {
            verdict(in_session(cli, async |s| credential::execute(s, cmd).await).await?)
        }
        Command::Did {
            address,
            out,
            force,
        } => done(
            in_session(cli, async |s| {
                did::execute(s, address, out.as_deref(), *force).await
            })
            .await?,
        ),
        Command::Patient(cmd) => {
            done(in_session(cli, async |s| patient::execute(s, cmd).await).await?)
        }
        Command::Provider(cmd) => {
            done(in_session(cli, async |s| provider::execute(s, cmd).await).await?)
        }
        Command::Token(cmd) => done(in_session(cli, async |s| token::execute(s, cmd).await).await?),
        Command::Insurer(cmd) => {
            done(in_session(cli, async |s| insurer::execute(s, cmd).await).await?)
        }
        Command::Claim(cmd) => done(in_session(cli, async |s| claim::execute(s, cmd).await).await?),
        Command::Study(cmd) => done(in_session(cli, async |s| study::execute(s, cmd).await).await?),
        Command::Supply(cmd) => {
            verdict(in_session(cli, async |s| supply::execute(s, cmd).await).await?)
        }
        Command::Verify { file, record } => {
            verdict(in_session(cli, async |s| verify::execute(s, file, record).await).await?)
        }
    })
}
