// Every file exports a `handler`; lib.rs calls each by its full path, so the glob clash is harmless.
#![allow(ambiguous_glob_reexports)]
pub mod access_log;
pub mod break_glass_open;
pub mod break_glass_review;
pub mod grant_close;
pub mod grant_create;
pub mod grant_revoke;
pub mod grant_revoke_all;
pub mod grant_update;
pub mod request_approve;
pub mod request_create;
pub mod request_deny;

use anchor_lang::prelude::*;

pub use access_log::*;
pub use break_glass_open::*;
pub use break_glass_review::*;
pub use grant_close::*;
pub use grant_create::*;
pub use grant_revoke::*;
pub use grant_revoke_all::*;
pub use grant_update::*;
pub use request_approve::*;
pub use request_create::*;
pub use request_deny::*;

/// Creates the grant `value` at its PDA (seeds from its own patient, grantee, purpose and, for a
/// break-glass grant, serial), paid by `payer`; an existing grant there is refused with
/// GrantAlreadyExists.
pub(crate) fn init_grant<'info>(
    payer: &Signer<'info>,
    target: &AccountInfo<'info>,
    system: &Program<'info, System>,
    bump: u8,
    value: &crate::state::ConsentGrant,
) -> Result<()> {
    let (bump, purpose, serial) = ([bump], value.purpose.seed(), value.serial.to_le_bytes());
    let mut seeds: Vec<&[u8]> = vec![
        crate::constants::GRANT_SEED,
        value.patient.as_ref(),
        value.grantee.as_ref(),
        &purpose,
    ];
    if value.is_emergency() {
        seeds.push(&serial);
    }
    seeds.push(&bump);
    let seeds = seeds.as_slice();
    super::init_pda(
        payer,
        target,
        system,
        seeds,
        value,
        crate::errors::CareledgerError::GrantAlreadyExists,
    )
}
