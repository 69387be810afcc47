//! The config, providers, patients and the accepted payment mints.
//!
//! ```
//! use careledger_sdk::{ix, pda, Pubkey};
//!
//! let clinic = Pubkey::new_unique();
//! let register = ix::PatientRegister { wallet: clinic }.instruction();
//! assert_eq!(register.accounts[0].pubkey, clinic);
//! assert!(register.accounts.iter().any(|a| a.pubkey == pda::patient(&clinic).0));
//! ```
use super::{build, ea, system};
use crate::pda;
use careledger::accounts as acc;
use careledger::instruction as data;
use careledger::instructions::*;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;

/// Creates the program's config. Signer: the program's upgrade authority (`upgrade_authority`).
#[derive(Clone, Debug)]
pub struct ConfigInit {
    pub upgrade_authority: Pubkey,
    pub args: ConfigInitArgs,
}

impl ConfigInit {
    pub fn instruction(self) -> Instruction {
        let upgrade_authority = &self.upgrade_authority;
        let args = self.args;
        build(
            acc::ConfigInit {
                upgrade_authority: *upgrade_authority,
                program_data: pda::program_data(),
                config: pda::config(),
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ConfigInit { args },
        )
    }
}

/// The admin proposes `new_admin` as its successor; nothing changes until it accepts.
#[derive(Clone, Copy, Debug)]
pub struct ConfigProposeAdmin {
    pub admin: Pubkey,
    pub new_admin: Pubkey,
}

impl ConfigProposeAdmin {
    pub fn instruction(self) -> Instruction {
        let admin = &self.admin;
        let new_admin = &self.new_admin;
        build(
            acc::ConfigProposeAdmin {
                admin: *admin,
                config: pda::config(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ConfigProposeAdmin {
                args: ConfigProposeAdminArgs {
                    new_admin: *new_admin,
                },
            },
        )
    }
}

/// The proposed admin (`new_admin`, signing) accepts and becomes the admin.
#[derive(Clone, Copy, Debug)]
pub struct ConfigAcceptAdmin {
    pub new_admin: Pubkey,
}

impl ConfigAcceptAdmin {
    pub fn instruction(self) -> Instruction {
        let new_admin = &self.new_admin;
        build(
            acc::ConfigAcceptAdmin {
                new_admin: *new_admin,
                config: pda::config(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ConfigAcceptAdmin {},
        )
    }
}

/// The admin pauses or unpauses the program (`paused`).
#[derive(Clone, Copy, Debug)]
pub struct ConfigSetPaused {
    pub admin: Pubkey,
    pub paused: bool,
}

impl ConfigSetPaused {
    pub fn instruction(self) -> Instruction {
        let admin = &self.admin;
        let paused = self.paused;
        build(
            acc::ConfigSetPaused {
                admin: *admin,
                config: pda::config(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ConfigSetPaused {
                args: ConfigSetPausedArgs { paused },
            },
        )
    }
}

/// The admin changes the config's settings (`args`).
#[derive(Clone, Debug)]
pub struct ConfigUpdate {
    pub admin: Pubkey,
    pub args: ConfigUpdateArgs,
}

impl ConfigUpdate {
    pub fn instruction(self) -> Instruction {
        let admin = &self.admin;
        let args = self.args;
        build(
            acc::ConfigUpdate {
                admin: *admin,
                config: pda::config(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ConfigUpdate { args },
        )
    }
}

/// A provider (`wallet`, signing) registers with its roles and credential hash; it stays pending until the credential authority verifies it.
#[derive(Clone, Debug)]
pub struct ProviderRegister {
    pub wallet: Pubkey,
    pub args: ProviderRegisterArgs,
}

impl ProviderRegister {
    pub fn instruction(self) -> Instruction {
        let wallet = &self.wallet;
        let args = self.args;
        build(
            acc::ProviderRegister {
                wallet: *wallet,
                config: pda::config(),
                provider: pda::provider(wallet).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ProviderRegister { args },
        )
    }
}

/// The credential authority verifies `provider_wallet`'s roles until `args.credential_expires_at`.
#[derive(Clone, Debug)]
pub struct ProviderVerify {
    pub authority: Pubkey,
    pub provider_wallet: Pubkey,
    pub args: ProviderVerifyArgs,
}

impl ProviderVerify {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let provider_wallet = &self.provider_wallet;
        let args = self.args;
        build(
            acc::ProviderVerify {
                authority: *authority,
                config: pda::config(),
                provider: pda::provider(provider_wallet).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ProviderVerify { args },
        )
    }
}

/// The credential authority suspends `provider_wallet`, with an opaque `reason_code`.
#[derive(Clone, Copy, Debug)]
pub struct ProviderSuspend {
    pub authority: Pubkey,
    pub provider_wallet: Pubkey,
    pub reason_code: u16,
}

impl ProviderSuspend {
    pub fn instruction(self) -> Instruction {
        let authority = &self.authority;
        let provider_wallet = &self.provider_wallet;
        let reason_code = self.reason_code;
        build(
            acc::ProviderSuspend {
                authority: *authority,
                config: pda::config(),
                provider: pda::provider(provider_wallet).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::ProviderSuspend {
                args: ProviderSuspendArgs { reason_code },
            },
        )
    }
}

/// A patient (`wallet`, signing) registers.
#[derive(Clone, Copy, Debug)]
pub struct PatientRegister {
    pub wallet: Pubkey,
}

impl PatientRegister {
    pub fn instruction(self) -> Instruction {
        let wallet = &self.wallet;
        build(
            acc::PatientRegister {
                wallet: *wallet,
                config: pda::config(),
                patient: pda::patient(wallet).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PatientRegister {},
        )
    }
}

/// The patient (`wallet`, signing) appoints a guardian until `expires_at`, or clears it with
/// `guardian = None`.
#[derive(Clone, Copy, Debug)]
pub struct PatientSetGuardian {
    pub wallet: Pubkey,
    pub guardian: Option<Pubkey>,
    pub expires_at: i64,
}

impl PatientSetGuardian {
    pub fn instruction(self) -> Instruction {
        let wallet = &self.wallet;
        let guardian = self.guardian.as_ref();
        let expires_at = self.expires_at;
        build(
            acc::PatientSetGuardian {
                wallet: *wallet,
                config: pda::config(),
                patient: pda::patient(wallet).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PatientSetGuardian {
                args: PatientSetGuardianArgs {
                    guardian: guardian.copied().unwrap_or_default(),
                    guardian_expires_at: if guardian.is_some() { expires_at } else { 0 },
                },
            },
        )
    }
}

/// The patient `wallet` requires, for good, a signed consent statement for every new grant:
/// plain `GrantCreate`, `RequestApprove`, widening `GrantUpdate` and appointing a guardian are
/// refused from then on.
#[derive(Clone, Copy, Debug)]
pub struct PatientRequireStatements {
    pub wallet: Pubkey,
}

impl PatientRequireStatements {
    pub fn instruction(self) -> Instruction {
        build(
            acc::PatientRequireStatements {
                wallet: self.wallet,
                config: pda::config(),
                patient: pda::patient(&self.wallet).0,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::PatientRequireStatements {},
        )
    }
}

/// `wallet` (signing, paying) publishes or rotates the X25519 public key records are released to
/// it under. Check the key with [`careledger::logic::keys::is_usable_x25519`] first: the program
/// refuses low-order points.
#[derive(Clone, Copy, Debug)]
pub struct EncryptionKeySet {
    pub wallet: Pubkey,
    pub x25519: [u8; 32],
}

impl EncryptionKeySet {
    pub fn instruction(self) -> Instruction {
        build(
            acc::EncryptionKeySet {
                wallet: self.wallet,
                encryption_key: pda::encryption_key(&self.wallet).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::EncryptionKeySet {
                args: careledger::EncryptionKeySetArgs {
                    x25519: self.x25519,
                },
            },
        )
    }
}

/// The admin (`admin`, signing) accepts `mint`, which has a freeze authority, for payments.
#[derive(Clone, Copy, Debug)]
pub struct MintAccept {
    pub admin: Pubkey,
    pub mint: Pubkey,
}

impl MintAccept {
    pub fn instruction(self) -> Instruction {
        let admin = &self.admin;
        let mint = &self.mint;
        build(
            acc::MintAccept {
                admin: *admin,
                config: pda::config(),
                mint: *mint,
                accepted_mint: pda::accepted_mint(mint).0,
                system_program: system(),
                event_authority: ea(),
                program: careledger::ID,
            },
            data::MintAccept {},
        )
    }
}

/// The admin (`admin`, signing) takes `mint` off the accepted list.
///
/// The admin removes a mint from the accepted list; `rent_to` is the entry's `accepted_by`.
#[derive(Clone, Copy, Debug)]
pub struct MintRemove {
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub rent_to: Pubkey,
}

impl MintRemove {
    pub fn instruction(self) -> Instruction {
        let admin = &self.admin;
        let mint = &self.mint;
        let rent_to = &self.rent_to;
        build(
            acc::MintRemove {
                admin: *admin,
                config: pda::config(),
                accepted_mint: pda::accepted_mint(mint).0,
                rent_to: *rent_to,
                event_authority: ea(),
                program: careledger::ID,
            },
            data::MintRemove {},
        )
    }
}
