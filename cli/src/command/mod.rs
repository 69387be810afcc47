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

use crate::session::{lock_timeout, session};
use crate::{Cli, Finished};
use anyhow::Result;
use clap::Subcommand;
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
    /// Runs the record gateway: stores ciphertexts, releases them against on-chain access events
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
}

/// Runs the command. Commands that need no cluster come first; the rest open a session, run,
/// and save (a ledger folder) before anything is printed.
pub async fn execute(cli: &Cli) -> Result<Finished> {
    let done = |(value, text)| Finished {
        value,
        text,
        code: 0,
    };
    match &cli.command {
        Command::Keygen { outfile } => return keys::keygen(outfile).map(done),
        Command::Address => return keys::address(cli).map(done),
        Command::Airdrop { address, sol } => {
            return airdrop::execute(cli, *address, *sol).await.map(done)
        }
        Command::Demo => return demo::execute().map(done),
        Command::Keys(keys::KeysCmd::New { outfile }) => {
            return keys::new_x25519(outfile).map(done)
        }
        Command::Cid { file, profile } => return ipfs::cid_of(file, profile).map(done),
        Command::Car {
            file,
            out,
            profile,
            force,
        } => return ipfs::car_of(file, out, profile, *force).map(done),
        Command::Serve(args) => return serve::execute(cli, args).await.map(done),
        Command::Localnet(args) => return localnet::execute(cli, args).await.map(done),
        Command::Supply(supply::SupplyCmd::Parse { pack }) => return supply::parse(pack).map(done),
        Command::Supply(supply::SupplyCmd::Plan(args)) => return supply::plan(args).map(done),
        // these hold the ledger only while they use it: the gateway reads it in between
        Command::Patient(patient::PatientCmd::Put(args)) => return records::put(cli, args).await,
        Command::Patient(patient::PatientCmd::Publish(args)) => {
            return records::publish_record(cli, args).await
        }
        Command::Provider(provider::ProviderCmd::Get(args)) => {
            return records::get(cli, args).await.map(done)
        }
        Command::Ledger(cmd) => {
            return ledger::execute(&cli.url, lock_timeout(cli)?, cmd).map(done)
        }
        _ => {}
    }
    // The embedded runtime runs the program in this process, and a natively built program
    // prints its log lines (`AnchorError occurred. ...`) to stdout. They are in the transaction's
    // logs already; keep them out of the command's output, which is printed after this returns.
    let _quiet = cli
        .url
        .starts_with("embedded:")
        .then(|| gag::Gag::stdout().ok());
    let s = session(cli).await?;
    let finished = match &cli.command {
        Command::Keygen { .. }
        | Command::Address
        | Command::Airdrop { .. }
        | Command::Demo
        | Command::Ledger(_)
        | Command::Cid { .. }
        | Command::Car { .. }
        | Command::Serve(_)
        | Command::Localnet(_)
        | Command::Supply(supply::SupplyCmd::Parse { .. } | supply::SupplyCmd::Plan(_))
        | Command::Patient(patient::PatientCmd::Put(_) | patient::PatientCmd::Publish(_))
        | Command::Provider(provider::ProviderCmd::Get(_)) => {
            unreachable!("handled above")
        }
        Command::Keys(cmd) => done(keys::execute(&s, cmd).await?),
        Command::Config(cmd) => done(config::execute(&s, cmd).await?),
        Command::Authority(cmd) => done(authority::execute(&s, cmd).await?),
        Command::Credential(cmd) => {
            let (value, text, ok) = credential::execute(&s, cmd).await?;
            Finished {
                value,
                text,
                code: u8::from(!ok),
            }
        }
        Command::Did {
            address,
            out,
            force,
        } => done(did::execute(&s, address, out.as_deref(), *force).await?),
        Command::Patient(cmd) => done(patient::execute(&s, cmd).await?),
        Command::Provider(cmd) => done(provider::execute(&s, cmd).await?),
        Command::Token(cmd) => done(token::execute(&s, cmd).await?),
        Command::Insurer(cmd) => done(insurer::execute(&s, cmd).await?),
        Command::Claim(cmd) => done(claim::execute(&s, cmd).await?),
        Command::Study(cmd) => done(study::execute(&s, cmd).await?),
        Command::Supply(cmd) => {
            let (value, text, ok) = supply::execute(&s, cmd).await?;
            Finished {
                value,
                text,
                code: u8::from(!ok),
            }
        }
        Command::Verify { file, record } => {
            let (value, text, ok) = verify::execute(&s, file, record).await?;
            Finished {
                value,
                text,
                code: u8::from(!ok),
            }
        }
    };
    s.finish().await?;
    Ok(finished)
}
