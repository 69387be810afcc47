//! The records crate's error. Its messages read as the SDK's did before the split, so that
//! what a user sees did not change.
use careledger_identity::IdentityError;
use careledger_sdk::SdkError;

#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("invalid CID {0}")]
    InvalidCid(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Decryption or key unwrapping failed: a wrong key, or a ciphertext that was altered,
    /// truncated or reordered. No plaintext is given out for it.
    #[error("decryption failed: {0}")]
    Decrypt(String),
    /// A signed message that is not the request it is presented as.
    #[error("sign-in message: {0}")]
    SignIn(String),
    /// Signing or verifying the Sign-In With Solana message failed.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The ledger could not be read.
    #[error(transparent)]
    Ledger(#[from] SdkError),
}
