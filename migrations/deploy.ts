// `anchor migrate` runs this after `anchor deploy`. The logic lives in the Rust SDK
// (careledger_sdk::setup::init_config, tested on the embedded runtime); this only calls it.
import { execFileSync } from "child_process";
import * as anchor from "@coral-xyz/anchor";

module.exports = async function (provider: anchor.AnchorProvider) {
  const wallet = process.env.ANCHOR_WALLET ?? `${process.env.HOME}/.config/solana/id.json`;
  const admin = provider.wallet.publicKey.toBase58();
  execFileSync(
    "cargo",
    ["run", "-q", "-p", "careledger-migrations", "--", provider.connection.rpcEndpoint, wallet, admin, admin],
    { stdio: "inherit" },
  );
};
