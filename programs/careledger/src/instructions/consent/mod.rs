pub mod access_log;
pub mod break_glass_open;
pub mod break_glass_review;
pub mod grant_close;
pub mod grant_create;
pub mod grant_create_signed;
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
pub use grant_create_signed::*;
pub use grant_revoke::*;
pub use grant_revoke_all::*;
pub use grant_update::*;
pub use request_approve::*;
pub use request_create::*;
pub use request_deny::*;
