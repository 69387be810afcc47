//! Account types, one per file. Each has `InitSpace`, a size pinned by a test, and an `invariant()`
//! that every handler mutating it calls before returning.
pub mod accepted_mint;
pub mod access_request;
pub mod batch;
pub mod claim;
pub mod config;
pub mod consent_grant;
pub mod coverage_rule;
pub mod emergency_marker;
pub mod encryption_key;
pub mod invitation;
pub mod network_membership;
pub mod pack_record;
pub mod participation;
pub mod patient;
pub mod policy;
pub mod product;
pub mod protocol;
pub mod provider;
pub mod record_anchor;
pub mod shipment;
pub mod study;

pub use accepted_mint::*;
pub use access_request::*;
pub use batch::*;
pub use claim::*;
pub use config::*;
pub use consent_grant::*;
pub use coverage_rule::*;
pub use emergency_marker::*;
pub use encryption_key::*;
pub use invitation::*;
pub use network_membership::*;
pub use pack_record::*;
pub use participation::*;
pub use patient::*;
pub use policy::*;
pub use product::*;
pub use protocol::*;
pub use provider::*;
pub use record_anchor::*;
pub use shipment::*;
pub use study::*;

use anchor_lang::prelude::{error, Result};

/// A unix time as accounts store it: `u32` seconds, exact until 2106 (events carry `i64`).
pub fn stamp(unix_seconds: i64) -> Result<u32> {
    u32::try_from(unix_seconds)
        .map_err(|_| error!(crate::errors::CareledgerError::TimestampOutOfRange))
}

/// Account size on chain: the 8-byte discriminator plus the `InitSpace` of the data.
pub const fn account_size(init_space: usize) -> usize {
    init_space.saturating_add(8)
}

/// A policy's or study's token vault: `[VAULT_SEED, owner]` (the owner PDA signs for it). Same
/// convention as the account types' `seeds`: `&[bump]` last to sign, `&[]` to derive.
pub fn vault_seeds<'a>(owner: &'a anchor_lang::prelude::Pubkey, bump: &'a [u8]) -> [&'a [u8]; 3] {
    [crate::constants::VAULT_SEED, owner.as_ref(), bump]
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{Discriminator, Space};

    /// A layout change must be a visible decision: these numbers move only on purpose.
    #[test]
    fn account_sizes_are_pinned() {
        assert_eq!(account_size(Config::INIT_SPACE), 142);
        assert_eq!(account_size(Provider::INIT_SPACE), 149);
        assert_eq!(account_size(Patient::INIT_SPACE), 121);
        assert_eq!(account_size(RecordAnchor::INIT_SPACE), 168);
        assert_eq!(account_size(ConsentGrant::INIT_SPACE), 187);
        assert_eq!(account_size(AccessRequest::INIT_SPACE), 91);
        assert_eq!(account_size(Policy::INIT_SPACE), 252);
        assert_eq!(account_size(CoverageRule::INIT_SPACE), 111);
        assert_eq!(account_size(Claim::INIT_SPACE), 281);
        assert_eq!(account_size(Study::INIT_SPACE), 238);
        assert_eq!(account_size(Participation::INIT_SPACE), 140);
        assert_eq!(account_size(NetworkMembership::INIT_SPACE), 81);
        assert_eq!(account_size(Invitation::INIT_SPACE), 129);
        assert_eq!(account_size(AcceptedMint::INIT_SPACE), 113);
        assert_eq!(account_size(EmergencyMarker::INIT_SPACE), 85);
        assert_eq!(account_size(EncryptionKey::INIT_SPACE), 85);
        assert_eq!(account_size(Product::INIT_SPACE), 121);
        assert_eq!(account_size(Batch::INIT_SPACE), 214);
        assert_eq!(account_size(PackRecord::INIT_SPACE), 88);
        assert_eq!(account_size(Shipment::INIT_SPACE), 189);
        assert_eq!(account_size(Protocol::INIT_SPACE), 330);
        assert_eq!(account_size(ProtocolVersion::INIT_SPACE), 189);
    }

    #[test]
    fn discriminators_are_distinct() {
        let all = [
            Config::DISCRIMINATOR,
            Provider::DISCRIMINATOR,
            Patient::DISCRIMINATOR,
            RecordAnchor::DISCRIMINATOR,
            ConsentGrant::DISCRIMINATOR,
            AccessRequest::DISCRIMINATOR,
            Policy::DISCRIMINATOR,
            CoverageRule::DISCRIMINATOR,
            Claim::DISCRIMINATOR,
            Study::DISCRIMINATOR,
            Participation::DISCRIMINATOR,
            NetworkMembership::DISCRIMINATOR,
            Invitation::DISCRIMINATOR,
            AcceptedMint::DISCRIMINATOR,
            EmergencyMarker::DISCRIMINATOR,
            EncryptionKey::DISCRIMINATOR,
            Product::DISCRIMINATOR,
            Batch::DISCRIMINATOR,
            PackRecord::DISCRIMINATOR,
            Shipment::DISCRIMINATOR,
            Protocol::DISCRIMINATOR,
            ProtocolVersion::DISCRIMINATOR,
        ];
        for (i, a) in all.iter().enumerate() {
            assert_eq!(a.len(), 8);
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
