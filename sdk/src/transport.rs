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
