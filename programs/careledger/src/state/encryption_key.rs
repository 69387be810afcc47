use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

/// The X25519 public key a party receives records under (a wallet signs but cannot decrypt, and
/// one key pair for both is discouraged). PDA `[ENCRYPTION_KEY_SEED, wallet]`; only the wallet
/// sets or rotates it. A record gateway wraps each released data key to the key it reads here.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct EncryptionKey {
    pub wallet: Pubkey,
    /// X25519 public key (RFC 7748 u-coordinate, little-endian).
    pub x25519: [u8; 32],
    /// 1 for the first key, one more at each rotation.
    pub key_version: u32,
    /// Unix seconds of the last set or rotation.
    pub set_at: i64,
    pub bump: u8,
}

impl EncryptionKey {
    /// The account's own shape. Whether `x25519` is a usable key is a rule
    /// (`logic::keys::is_usable_x25519`), checked by `encryption_key_set`'s `validate` before
    /// anything is written: state does not call into logic.
    pub fn invariant(&self) -> Result<()> {
        require!(self.key_version >= 1, CareledgerError::InvariantViolated);
        Ok(())
    }
}

/// The account's address seeds, written once (same convention as the other account types:
/// `&[bump]` last to sign, `&[]` to derive).
impl EncryptionKey {
    pub fn seeds<'a>(wallet: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 3] {
        [crate::constants::ENCRYPTION_KEY_SEED, wallet.as_ref(), bump]
    }
}
