//! What the client needs from a cluster. Two implementations: RPC (any cluster URL) and the
//! embedded runtime (an in-process Agave bank), behind cargo features.
pub use crate::accounts::AccountsAt;
use crate::accounts::Memcmp;
use crate::events::CareledgerEvent;
use crate::SdkError;
use solana_account::Account;
use solana_hash::Hash;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::Transaction;
use std::future::Future;

/// The most addresses one [`Transport::accounts_at`] reads: the RPC's 100 keys per
/// `getMultipleAccounts`, less the clock sysvar read with them.
pub const MAX_SNAPSHOT_ADDRESSES: usize = 99;

/// A confirmed transaction and the audit events it emitted.
#[derive(Clone, Debug)]
pub struct TxOutcome {
    pub signature: Signature,
    pub events: Vec<CareledgerEvent>,
}

/// Every future is `Send`, so a `Client` call can be awaited in an axum handler or passed to
/// `tokio::spawn` on a multithreaded runtime. Implementations may write `async fn`.
pub trait Transport: Send + Sync {
    /// A blockhash no earlier transaction with the same message has used.
    fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, SdkError>> + Send;
    /// Sends, confirms, and returns the events; a failed transaction changes nothing.
    fn send(&self, tx: Transaction) -> impl Future<Output = Result<TxOutcome, SdkError>> + Send;
    fn account(
        &self,
        address: &Pubkey,
    ) -> impl Future<Output = Result<Option<Account>, SdkError>> + Send;
    /// Program accounts whose data matches every filter.
    fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> impl Future<Output = Result<Vec<(Pubkey, Account)>, SdkError>> + Send;
    /// The cluster's clock, unix seconds.
    fn unix_timestamp(&self) -> impl Future<Output = Result<i64, SdkError>> + Send;
    /// `addresses` and the clock in one read at one slot (one `getMultipleAccounts` over RPC).
    fn accounts_at(
        &self,
        addresses: &[Pubkey],
    ) -> impl Future<Output = Result<AccountsAt, SdkError>> + Send;
    /// The careledger events of a transaction that succeeded; `None` when the cluster knows no
    /// such transaction, or it failed.
    fn transaction_events(
        &self,
        signature: &Signature,
    ) -> impl Future<Output = Result<Option<Vec<CareledgerEvent>>, SdkError>> + Send;
}

/// What a service reads from the ledger, and nothing it could write with: accounts at one
/// point with its clock, a transaction's events, and a blockhash for the transactions it hands
/// a wallet to sign. The record gateway and the Solana Actions read through it, over any
/// [`Transport`] or over a ledger folder's committed generation (the CLI's `FolderView`); the
/// scenario harness implements it once for its in-process bank.
pub trait LedgerView: Send + Sync {
    /// `addresses` and the clock in one read at one point.
    fn accounts_at(
        &self,
        addresses: &[Pubkey],
    ) -> impl Future<Output = Result<AccountsAt, SdkError>> + Send;
    /// The careledger events of a transaction that succeeded; `None` when the ledger knows no
    /// such transaction, or it failed.
    fn transaction_events(
        &self,
        signature: &Signature,
    ) -> impl Future<Output = Result<Option<Vec<CareledgerEvent>>, SdkError>> + Send;
    /// A recent blockhash, for a transaction someone else signs and sends.
    fn latest_blockhash(&self) -> impl Future<Output = Result<Hash, SdkError>> + Send;
}

/// One successful transaction of a history: where it sits and the careledger events it emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub signature: Signature,
    /// The slot it landed in (a ledger folder's generation).
    pub slot: u64,
    /// Its place among transactions that share a signature: always 0 on a cluster, where a
    /// signature names one transaction; a ledger folder's index within its generation.
    pub index: u32,
    pub events: Vec<CareledgerEvent>,
}

/// The most transactions one [`LedgerArchive::history`] reads from a cluster: a service's
/// request stays bounded.
pub const MAX_HISTORY: usize = 20_000;

/// An account's transactions, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    /// Older transactions were left out: the account has more than the limit asked for.
    pub truncated: bool,
}

/// What a read-only service that searches a ledger needs beyond [`LedgerView`]: program
/// accounts by filter, and the transactions behind an account (the FHIR API, `careledger
/// serve`). Over RPC, `getProgramAccounts`, `getSignaturesForAddress` and `getTransaction`;
/// over the embedded runtime and a ledger folder, what they hold.
pub trait LedgerArchive: LedgerView {
    /// Program accounts whose data matches every filter.
    fn program_accounts(
        &self,
        filters: &[Memcmp],
    ) -> impl Future<Output = Result<Vec<(Pubkey, Account)>, SdkError>> + Send;
    /// The successful transactions that touched `address`, oldest first: from a cluster, the
    /// newest `limit` (at most [`MAX_HISTORY`]). A source that holds its transactions in memory
    /// and does not index them by account (the embedded runtime, a ledger folder) gives every
    /// one it holds, whatever `address` and `limit`: callers filter by what the events name.
    fn history(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> impl Future<Output = Result<History, SdkError>> + Send;
}

impl<T: Transport> LedgerView for T {
    async fn accounts_at(&self, addresses: &[Pubkey]) -> Result<AccountsAt, SdkError> {
        Transport::accounts_at(self, addresses).await
    }
    async fn transaction_events(
        &self,
        signature: &Signature,
    ) -> Result<Option<Vec<CareledgerEvent>>, SdkError> {
        Transport::transaction_events(self, signature).await
    }
    async fn latest_blockhash(&self) -> Result<Hash, SdkError> {
        Transport::latest_blockhash(self).await
    }
}
