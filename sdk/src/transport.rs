//! What the client needs from a cluster. Two implementations: RPC (any cluster URL) and the
//! embedded runtime (an in-process Agave bank), behind cargo features.
use crate::accounts::Memcmp;
use crate::events::CareledgerEvent;
use crate::SdkError;
use solana_account::Account;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::Transaction;

/// A confirmed transaction and the audit events it emitted.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    pub signature: Signature,
    pub events: Vec<CareledgerEvent>,
}

#[allow(async_fn_in_trait)]
pub trait Transport {
    /// A blockhash no earlier transaction with the same message has used.
    async fn latest_blockhash(&self) -> Result<Hash, SdkError>;
    /// Sends, confirms, and returns the events; a failed transaction changes nothing.
    async fn send(&self, tx: Transaction) -> Result<TxOutcome, SdkError>;
    async fn account(&self, address: &Pubkey) -> Result<Option<Account>, SdkError>;
    /// Program accounts whose data matches every filter.
    async fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> Result<Vec<(Pubkey, Account)>, SdkError>;
    /// The cluster's clock, unix seconds.
    async fn unix_timestamp(&self) -> Result<i64, SdkError>;
    /// Gives `lamports` to `to` (airdrop, or a transfer from the embedded faucet).
    async fn fund(&self, to: &Pubkey, lamports: u64) -> Result<(), SdkError>;
}

/// Either transport behind one type, for tools that pick the cluster at run time (the CLI, the
/// scenario harness).
#[cfg(all(feature = "rpc", feature = "embedded"))]
pub enum AnyTransport {
    Embedded(Box<crate::embedded::EmbeddedTransport>),
    Rpc(crate::rpc::RpcTransport),
}

#[cfg(all(feature = "rpc", feature = "embedded"))]
impl AnyTransport {
    pub fn as_embedded(&self) -> Option<&crate::embedded::EmbeddedTransport> {
        match self {
            AnyTransport::Embedded(t) => Some(t),
            AnyTransport::Rpc(_) => None,
        }
    }
}

#[cfg(all(feature = "rpc", feature = "embedded"))]
macro_rules! both {
    ($self:ident, $t:ident => $call:expr) => {
        match $self {
            AnyTransport::Embedded($t) => $call,
            AnyTransport::Rpc($t) => $call,
        }
    };
}

#[cfg(all(feature = "rpc", feature = "embedded"))]
impl Transport for AnyTransport {
    async fn latest_blockhash(&self) -> Result<Hash, SdkError> {
        both!(self, t => t.latest_blockhash().await)
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
    async fn fund(&self, to: &Pubkey, lamports: u64) -> Result<(), SdkError> {
        both!(self, t => t.fund(to, lamports).await)
    }
}
