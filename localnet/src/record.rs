//! One executed transaction as the node keeps it: what `getTransaction`, the signature
//! statuses and the PubSub notifications report.
use solana_message::inner_instruction::InnerInstructionsList;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

/// One executed transaction, as `getTransaction` and the subscriptions report it.
#[derive(Debug)]
pub struct TxRecord {
    pub signature: Signature,
    pub slot: u64,
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub status: Result<(), TransactionError>,
    pub fee: u64,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub logs: Vec<String>,
    pub inner_instructions: InnerInstructionsList,
    pub return_data: Option<(Pubkey, Vec<u8>)>,
    /// `None` when a natively registered program (careledger) ran: native code is charged one
    /// unit per call, so the runtime's count is not a compute-unit figure.
    pub compute_units: Option<u64>,
}

impl TxRecord {
    /// Every address the transaction names (logsSubscribe's `mentions`, getSignaturesForAddress).
    pub fn mentions(&self, address: &Pubkey) -> bool {
        self.transaction
            .message
            .static_account_keys()
            .contains(address)
    }
}
