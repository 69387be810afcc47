//! Post-deploy setup: creates the careledger Config, signed by the program's upgrade authority.
//! A thin wrapper over `careledger_sdk::setup::init_config` (tested in tests/registry_records.rs).
//!
//! careledger-migrate <RPC_URL> <UPGRADE_AUTHORITY_KEYPAIR> <ADMIN_PUBKEY> <CREDENTIAL_AUTHORITY_PUBKEY> [MAX_BREAK_GLASS_SECS]
use careledger_sdk::rpc::RpcTransport;
use careledger_sdk::setup::init_config;
use careledger_sdk::{Client, ConfigInitArgs};
use solana_keypair::{read_keypair_file, Keypair};
use solana_signer::Signer;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: careledger-migrate <RPC_URL> <UPGRADE_AUTHORITY_KEYPAIR> <ADMIN_PUBKEY> <CREDENTIAL_AUTHORITY_PUBKEY> [MAX_BREAK_GLASS_SECS]");
        std::process::exit(2);
    }
    let authority: Keypair = read_keypair_file(&args[1]).unwrap_or_else(|e| {
        eprintln!("cannot read the upgrade authority keypair {}: {e}", args[1]);
        std::process::exit(2)
    });
    let parse = |s: &str, what: &str| {
        s.parse().unwrap_or_else(|_| {
            eprintln!("{what} `{s}` is not a base58 public key");
            std::process::exit(2)
        })
    };
    let config = ConfigInitArgs {
        admin: parse(&args[2], "admin"),
        credential_authority: parse(&args[3], "credential authority"),
        max_break_glass_secs: args.get(4).map_or(4 * 3600, |s| {
            s.parse().unwrap_or_else(|_| {
                eprintln!("max break-glass seconds `{s}` is not a number");
                std::process::exit(2)
            })
        }),
    };
    let transport = RpcTransport::new(args[0].clone(), Default::default());
    let payer = authority.insecure_clone();
    let client = Client::new(transport, payer);
    match init_config(&client, &authority, config).await {
        Ok(outcome) => println!(
            "config {}: {outcome:?} (upgrade authority {})",
            careledger_sdk::pda::config(),
            authority.pubkey()
        ),
        Err(e) => {
            eprintln!("config setup failed: {e}");
            std::process::exit(1)
        }
    }
}
