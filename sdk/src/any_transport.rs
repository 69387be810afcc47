//! Either transport behind one type (both features): the CLI and the scenario harness pick the
//! cluster at run time. Kept out of `transport.rs`, so that the trait's file depends on neither
//! implementation and the implementations depend on it, one way.
use crate::accounts::Memcmp;
use crate::events::CareledgerEvent;
use crate::transport::{AccountsAt, Transport, TxOutcome};
use crate::SdkError;
use solana_account::Account;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::Transaction;

/// Either transport behind one type, for tools that pick the cluster at run time (the CLI, the
/// scenario harness).
pub enum AnyTransport {
    Embedded(Box<crate::embedded::EmbeddedTransport>),
    Rpc(crate::rpc::RpcTransport),
}

impl AnyTransport {
    pub fn as_embedded(&self) -> Option<&crate::embedded::EmbeddedTransport> {
        match self {
            AnyTransport::Embedded(t) => Some(t),
            AnyTransport::Rpc(_) => None,
        }
    }
}

macro_rules! both {
    ($self:ident, $t:ident => $call:expr) => {
        match $self {
            AnyTransport::Embedded(t) => {
                let $t: &crate::embedded::EmbeddedTransport = t;
                $call
            }
            AnyTransport::Rpc($t) => $call,
        }
    };
}

impl Transport for AnyTransport {
    async fn latest_blockhash(&self) -> Result<Hash, SdkError> {
        both!(self, t => Transport::latest_blockhash(t).await)
    }
    async fn send(&self, tx: Transaction) -> Result<TxOutcome, SdkError> {
        both!(self, t => t.send(tx).await)
    }
    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, SdkError> {
        both!(self, t => t.account(address).await)
    }
    async fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        both!(self, t => t.program_accounts(filters).await)
    }
    async fn unix_timestamp(&self) -> Result<i64, SdkError> {
        both!(self, t => t.unix_timestamp().await)
    }
    async fn accounts_at(&self, addresses: &[Pubkey]) -> Result<AccountsAt, SdkError> {
        both!(self, t => Transport::accounts_at(t, addresses).await)
    }
    async fn transaction_events(
        &self,
        signature: &Signature,
    ) -> Result<Option<Vec<CareledgerEvent>>, SdkError> {
        both!(self, t => Transport::transaction_events(t, signature).await)
    }
}

impl AnyTransport {
    /// Test and devnet funding, not part of [`Transport`]: the embedded faucet's transfer, or an
    /// RPC airdrop (which only localnet, devnet and testnet grant).
    pub async fn fund(&self, to: &Pubkey, lamports: u64) -> Result<(), SdkError> {
        match self {
            AnyTransport::Embedded(t) => t.fund(to, lamports).await,
            AnyTransport::Rpc(t) => t.airdrop(to, lamports).await,
        }
    }
}

impl crate::LedgerArchive for AnyTransport {
    async fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError> {
        both!(self, t => crate::LedgerArchive::program_accounts(t, filters).await)
    }
    async fn history(&self, address: &Pubkey, limit: usize) -> Result<crate::History, SdkError> {
        both!(self, t => crate::LedgerArchive::history(t, address, limit).await)
    }
}
