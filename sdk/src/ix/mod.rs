//! One builder per instruction, a struct with named fields and an `instruction()` method, in a
//! module per program domain. Each derives every address it can (PDAs, config, event
//! authority), so the caller passes only the keys that carry meaning.
mod claims;
mod consent;
mod records;
mod registry;
mod rewards;
mod supply;
mod trials;

pub use claims::*;
pub use consent::*;
pub use records::*;
pub use registry::*;
pub use rewards::*;
pub use supply::*;
pub use trials::*;

use crate::pda;
use anchor_lang::{InstructionData, ToAccountMetas};
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

fn build(accounts: impl ToAccountMetas, args: impl InstructionData) -> Instruction {
    Instruction {
        program_id: careledger::ID,
        accounts: accounts.to_account_metas(None),
        data: args.data(),
    }
}

fn system() -> Pubkey {
    solana_sdk_ids::system_program::ID
}

fn ea() -> Pubkey {
    pda::event_authority()
}

fn token() -> Pubkey {
    crate::tokens::TOKEN_PROGRAM_ID
}
