//! `careledger`: consent, records and the audit trail from the command line, over any cluster
//! (`--url` takes the Solana CLI monikers or a URL) or a local ledger folder with no validator
//! (`--url embedded:PATH`). Each command group lives in `command/<group>.rs`.
mod command;
mod session;

use careledger_cli::record_files;

use clap::{Parser, ValueEnum};
use command::Command;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "careledger",
    version,
    about = "Patient consent, record anchors and the audit trail on Solana"
)]
pub struct Cli {
    /// mainnet-beta, devnet, testnet, localhost, an RPC URL, or embedded:PATH (a local ledger
    /// folder: no validator needed)
    #[arg(
        long,
        short = 'u',
        global = true,
        default_value = "embedded:./careledger-ledger"
    )]
    pub url: String,
    /// Keypair file [default: the Solana CLI config's keypair_path, else ~/.config/solana/id.json]
    #[arg(long, short = 'k', global = true)]
    pub keypair: Option<PathBuf>,
    /// processed, confirmed or finalized (RPC only)
    #[arg(long, global = true, default_value = "confirmed")]
    pub commitment: String,
    #[arg(long, global = true, value_enum, default_value_t = Output::Display)]
    pub output: Output,
    /// How long a command on a ledger folder waits for another one to finish, in seconds
    #[arg(long, global = true, default_value_t = 60.0)]
    pub lock_timeout: f64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Display,
    Json,
    JsonCompact,
}

/// What a command printed, and its exit code: 0 when it succeeded, 1 for a failed check,
/// [`PUBLISH_FAILED`] for a record stored and anchored whose publishing to IPFS failed.
pub struct Finished {
    value: Value,
    text: String,
    code: u8,
}

/// `patient put --kubo/--pinning-service`'s exit code when the record is stored and anchored
/// but publishing failed: not 1, so that a script does not put the file again as a second
/// record (`patient publish` is the retry).
pub const PUBLISH_FAILED: u8 = 3;

fn main() -> std::process::ExitCode {
    // before any thread starts: the environment is set, and the embedded runtime's scratch
    // files go into a directory of this process's own, removed when it ends (TMPDIR is left
    // as it was found)
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let scratch = careledger_sdk::embedded::ScratchDir::enter();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run());
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    drop(scratch);
    code
}

async fn run() -> std::process::ExitCode {
    // not `Cli::parse()`, which exits the process on --help or a usage error before the
    // scratch directory is removed: the same output and exit codes (0 for help, 2 for usage)
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match command::execute(&cli).await {
        Ok(Finished { value, text, code }) => {
            // a reader that went away (`| head`, a supervisor that closed the pipe) is not a
            // crash: what could not be printed is dropped
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = match cli.output {
                Output::Display => writeln!(out, "{text}"),
                Output::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                ),
                Output::JsonCompact => writeln!(out, "{value}"),
            };
            std::process::ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            // `verify` follows cmp: 1 means the file differs, 2 that it could not be checked;
            // so does `credential verify`: 1 for an invalid credential, 2 for no verdict
            // and `supply verify`: 1 for a pack that does not verify, 2 for no verdict
            if cli.command.gives_verdict() {
                std::process::ExitCode::from(2)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
