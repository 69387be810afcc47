use crate::errors::CareledgerError;
use anchor_lang::prelude::*;

pub const ROLE_CLINICIAN: u8 = 1 << 0;
pub const ROLE_LAB: u8 = 1 << 1;
pub const ROLE_HOSPITAL: u8 = 1 << 2;
pub const ROLE_INSURER: u8 = 1 << 3;
pub const ROLE_RESEARCHER: u8 = 1 << 4;
pub const ROLE_EMERGENCY: u8 = 1 << 5;
pub const ROLES_ALL: u8 = 0x3f;
/// The care roles by the names people type and credentials carry, with their bit: the one
/// table the SDK's names and the identity crate's credentials both read.
pub const ROLE_NAMES: [(&str, u8); 6] = [
    ("clinician", ROLE_CLINICIAN),
    ("lab", ROLE_LAB),
    ("hospital", ROLE_HOSPITAL),
    ("insurer", ROLE_INSURER),
    ("researcher", ROLE_RESEARCHER),
    ("emergency", ROLE_EMERGENCY),
];

// Supply-chain roles: the care-role byte is full, so the mask widens to a second byte
// (`Provider::supply_roles`), carved from the reserved space so existing accounts read unchanged.
pub const SUPPLY_MANUFACTURER: u8 = 1 << 0;
pub const SUPPLY_WHOLESALER: u8 = 1 << 1;
pub const SUPPLY_DISPENSER: u8 = 1 << 2;
pub const SUPPLY_ROLES_ALL: u8 = 0x07;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ProviderStatus {
    Pending,
    Verified,
    Suspended,
}

/// A provider, insurer or researcher. PDA `[PROVIDER_SEED, wallet]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Provider {
    pub wallet: Pubkey,
    /// Bitmask of `ROLE_*`; the credential authority sets it on verification.
    pub roles: u8,
    pub status: ProviderStatus,
    pub bump: u8,
    /// SHA-256 of the licence document given at registration, then of the W3C credential the
    /// credential authority last issued (`provider_verify`); never the document itself.
    pub credential_ref: [u8; 32],
    pub credential_expires_at: i64,
    /// The credential authority that last verified or suspended it (default key until then).
    pub verified_by: Pubkey,
    pub verified_at: i64,
    pub registered_at: i64,
    /// Opaque reason code of the last suspension; 0 when not suspended.
    pub suspension_reason: u16,
    /// Bitmask of `SUPPLY_*` (manufacturer, wholesaler, dispenser); the credential authority
    /// sets it with `roles`. Together they are the 16-bit role mask (`role_mask`).
    pub supply_roles: u8,
    pub reserved: [u8; 15],
}

impl Provider {
    pub fn has_role(&self, role: u8) -> bool {
        self.roles & role == role
    }

    pub fn has_supply_role(&self, role: u8) -> bool {
        role != 0 && self.supply_roles & role == role
    }

    /// Care roles in the low byte, supply roles in the high byte.
    pub fn role_mask(&self) -> u16 {
        u16::from(self.roles) | (u16::from(self.supply_roles) << 8)
    }

    pub fn invariant(&self) -> Result<()> {
        let verified_consistent = match self.status {
            ProviderStatus::Pending => self.verified_by == Pubkey::default(),
            _ => self.verified_by != Pubkey::default(),
        };
        require!(
            verified_consistent
                && self.roles & !ROLES_ALL == 0
                && self.supply_roles & !SUPPLY_ROLES_ALL == 0
                && self.role_mask() != 0,
            CareledgerError::InvariantViolated
        );
        Ok(())
    }
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl Provider {
    pub fn seeds<'a>(wallet: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 3] {
        [crate::constants::PROVIDER_SEED, wallet.as_ref(), bump]
    }
}
