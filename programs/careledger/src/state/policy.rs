use crate::errors::CareledgerError;
use crate::state::Breakdown;
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum PolicyStatus {
    Active,
    /// No new claims; owed claims still settle and pending ones may still be decided.
    Suspended,
    /// Final: nothing was owed or pending; the vault was swept back to the insurer.
    Closed,
}

/// What is left on the policy when the claim is adjudicated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Balances {
    pub deductible_remaining: u64,
    pub benefit_remaining: u64,
}

/// An insurer's policy for one member patient, paying in one SPL mint from a vault the policy PDA
/// owns. PDA `[POLICY_SEED, insurer_wallet, policy_id_u64_le]`; vault `[VAULT_SEED, policy]`.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The insurer's wallet (a verified provider with the insurer role at creation).
    pub insurer: Pubkey,
    /// The member patient's wallet.
    pub patient: Pubkey,
    /// Payment mint (SPL Token; Token-2022 mints are refused by the account type).
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub policy_id: u64,
    pub coverage_start: i64,
    pub coverage_end: i64,
    /// Annual benefit cap and how much of it approved claims have used.
    pub benefit_cap: u64,
    pub benefit_used: u64,
    /// Deductible the member pays first, and how much of it claims have met.
    pub deductible: u64,
    pub deductible_met: u64,
    /// Approved but not yet paid: reserved in the vault, never withdrawable.
    pub owed: u64,
    /// Totals for token conservation: with `policy_fund` the only way in, the vault holds
    /// `funded - paid - withdrawn` (a direct transfer to the vault only adds to it).
    pub funded: u64,
    pub paid: u64,
    pub withdrawn: u64,
    pub pending_review: u32,
    pub claim_count: u32,
    pub status: PolicyStatus,
    /// Pays only providers the insurer has enrolled in its network (`NetworkMembership`).
    pub network_only: bool,
    /// Until when a denial under this policy can still be appealed (0: none can).
    pub appeals_open_until: i64,
    pub bump: u8,
    pub vault_bump: u8,
    pub created_at: i64,
}

impl Policy {
    /// Tokens neither owed to approved claims nor already gone.
    pub fn unreserved(&self, vault_balance: u64) -> u64 {
        vault_balance.saturating_sub(self.owed)
    }

    /// Room left under the deductible and the annual cap, for `logic::claims::adjudicate`.
    pub fn balances(&self) -> Balances {
        Balances {
            deductible_remaining: self.deductible.saturating_sub(self.deductible_met),
            benefit_remaining: self.benefit_cap.saturating_sub(self.benefit_used),
        }
    }

    /// An approved claim meets deductible, uses cap and is owed until paid.
    pub fn reserve(&mut self, b: &Breakdown) -> Result<()> {
        let add = |x: u64, y: u64| x.checked_add(y).ok_or(CareledgerError::MathOverflow);
        self.deductible_met = add(self.deductible_met, b.deductible_applied)?;
        self.benefit_used = add(self.benefit_used, b.benefit)?;
        self.owed = add(self.owed, b.benefit)?;
        Ok(())
    }

    /// A claim was denied at `at`: unless it was already appealed, it may be appealed for
    /// `APPEAL_WINDOW_SECS`, and the policy stays open that long.
    pub fn note_denial(&mut self, appealed: bool, at: i64) {
        if !appealed {
            // a clock near i64::MAX saturates: the window then never closes, which errs on
            // the side of the appeal right
            let until = at.saturating_add(crate::constants::APPEAL_WINDOW_SECS);
            self.appeals_open_until = self.appeals_open_until.max(until);
        }
    }

    /// The reverse of `reserve`, for an owed claim its provider cancels.
    pub fn release(&mut self, b: &Breakdown) -> Result<()> {
        let sub = |x: u64, y: u64| x.checked_sub(y).ok_or(CareledgerError::MathOverflow);
        self.deductible_met = sub(self.deductible_met, b.deductible_applied)?;
        self.benefit_used = sub(self.benefit_used, b.benefit)?;
        self.owed = sub(self.owed, b.benefit)?;
        Ok(())
    }

    pub fn invariant(&self) -> Result<()> {
        require!(
            self.benefit_used <= self.benefit_cap
                && self.deductible_met <= self.deductible
                && self.owed <= self.benefit_used
                && self.coverage_start < self.coverage_end,
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
impl Policy {
    /// `policy_id` little-endian.
    pub fn seeds<'a>(insurer: &'a Pubkey, policy_id: &'a [u8; 8], bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::POLICY_SEED,
            insurer.as_ref(),
            policy_id,
            bump,
        ]
    }
}
