//! Pure decision logic: no accounts, no context, no syscalls. The program and the SDK call
//! these same functions, so there is one copy of every rule.
//!
//! Layering (lib.rs): logic reads `state` types, `constants` and `errors`, and nothing above it
//! (no `instructions`, `vault`, `create`, `events`); `state` never imports logic.
pub mod authority;
pub mod cid;
pub mod claims;
pub mod consent;
pub mod keys;
pub mod rewards;
pub mod statement;
pub mod supply;
pub mod terms;
pub mod trials;
