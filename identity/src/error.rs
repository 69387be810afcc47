//! The identity crate's error. The credential and DID modules keep their own finer enums
//! ([`crate::vc::VcError`], [`crate::did::DidError`]), which convert into it.
use crate::did::DidError;
use crate::vc::VcError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A Sign-In With Solana message that is malformed, expired, for another domain, or whose
    /// signature does not verify.
    #[error("sign-in message: {0}")]
    SignIn(String),
    #[error(transparent)]
    Did(#[from] DidError),
    #[error(transparent)]
    Vc(#[from] VcError),
}
