//! The supply crate's error. GS1 parsing keeps its finer [`crate::gs1::Gs1Error`].
use crate::gs1::Gs1Error;

#[derive(Debug, thiserror::Error)]
pub enum SupplyError {
    /// A manifest or its plan that cannot be what it claims (the message says why).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error(transparent)]
    Gs1(#[from] Gs1Error),
}
