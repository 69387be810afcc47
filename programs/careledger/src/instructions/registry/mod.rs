// Every file exports a `handler`; lib.rs calls each by its full path, so the glob clash is harmless.
#![allow(ambiguous_glob_reexports)]
pub mod config_accept_admin;
pub mod config_init;
pub mod config_propose_admin;
pub mod config_set_paused;
pub mod config_update;
pub mod encryption_key_set;
pub mod mint_accept;
pub mod mint_remove;
pub mod patient_register;
pub mod patient_require_statements;
pub mod patient_set_guardian;
pub mod provider_register;
pub mod provider_suspend;
pub mod provider_verify;

pub use config_accept_admin::*;
pub use config_init::*;
pub use config_propose_admin::*;
pub use config_set_paused::*;
pub use config_update::*;
pub use encryption_key_set::*;
pub use mint_accept::*;
pub use mint_remove::*;
pub use patient_register::*;
pub use patient_require_statements::*;
pub use patient_set_guardian::*;
pub use provider_register::*;
pub use provider_suspend::*;
pub use provider_verify::*;
