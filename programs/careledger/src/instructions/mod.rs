//! One file per instruction: its Args, Accounts, validation and handler side by side.
pub mod claims;
pub mod consent;
pub mod records;
pub mod registry;
pub mod rewards;
pub mod supply;
pub mod trials;

pub use claims::*;
pub use consent::*;
pub use records::*;
pub use registry::*;
pub use rewards::*;
pub use supply::*;
pub use trials::*;

use anchor_lang::prelude::*;

/// Unix time from the Clock sysvar (no sysvar account is taken, so none can be spoofed).
pub(crate) fn now() -> Result<i64> {
    Ok(Clock::get()?.unix_timestamp)
}
