//! Token vaults: moving SPL tokens in and out of a vault a policy or study PDA owns, and which
//! payment mints an escrow may use. Funding, withdrawing and closing are written once, over the
//! `Escrow` trait that policies and studies implement; their instructions add only their events.
use crate::errors::CareledgerError;
use crate::state::{ClaimState, Policy, PolicyStatus, Study, StudyStatus};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

/// An account whose PDA owns a token vault and keeps its books: `funded` in, `withdrawn` out by
/// its owner (payments to claims or participants are booked by their own instructions).
pub(crate) trait Escrow: AccountSerialize + AccountDeserialize + Owner + Clone {
    /// Calls `f` with the PDA's signer seeds (`&[bump]` last).
    fn with_signer_seeds<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R;
    /// Vault tokens nobody is owed yet, of `vault_balance`.
    fn unreserved(&self, vault_balance: u64) -> u64;
    /// What must hold, besides the amount, for the owner to withdraw at `at`.
    fn check_withdrawal(&self, at: i64) -> Result<()>;
    /// What must hold for the owner to close the escrow at `at`.
    fn check_closing(&self, at: i64) -> Result<()>;
    fn funded_mut(&mut self) -> &mut u64;
    fn withdrawn_mut(&mut self) -> &mut u64;
    fn mark_closed(&mut self);
    fn invariant(&self) -> Result<()>;
}

impl Escrow for Policy {
    fn with_signer_seeds<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R {
        let (id, bump) = (self.policy_id.to_le_bytes(), [self.bump]);
        f(&Policy::seeds(&self.insurer, &id, &bump))
    }
    fn unreserved(&self, vault_balance: u64) -> u64 {
        Policy::unreserved(self, vault_balance)
    }
    fn check_withdrawal(&self, _at: i64) -> Result<()> {
        // a claim in review may yet be owed: nothing leaves the vault while the insurer has not
        // decided it (an appeal puts a denied claim back in review; one that then wins is owed,
        // and settles once the vault is funded)
        require!(
            self.pending_review == 0,
            CareledgerError::PolicyHasOpenClaims
        );
        Ok(())
    }
    fn check_closing(&self, at: i64) -> Result<()> {
        require!(
            self.owed == 0 && self.pending_review == 0,
            CareledgerError::PolicyHasOpenClaims
        );
        require!(
            at >= self.appeals_open_until,
            CareledgerError::AppealWindowOpen
        );
        Ok(())
    }
    fn funded_mut(&mut self) -> &mut u64 {
        &mut self.funded
    }
    fn withdrawn_mut(&mut self) -> &mut u64 {
        &mut self.withdrawn
    }
    fn mark_closed(&mut self) {
        self.status = PolicyStatus::Closed;
    }
    fn invariant(&self) -> Result<()> {
        Policy::invariant(self)
    }
}

impl Escrow for Study {
    fn with_signer_seeds<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R {
        let (id, bump) = (self.study_id.to_le_bytes(), [self.bump]);
        f(&Study::seeds(&self.sponsor, &id, &bump))
    }
    fn unreserved(&self, vault_balance: u64) -> u64 {
        Study::unreserved(self, vault_balance)
    }
    fn check_withdrawal(&self, at: i64) -> Result<()> {
        require!(
            !self.enrolment_open(at),
            CareledgerError::EnrolmentStillOpen
        );
        Ok(())
    }
    fn check_closing(&self, at: i64) -> Result<()> {
        self.check_withdrawal(at)?;
        require!(self.outstanding == 0, CareledgerError::StudyHasOutstanding);
        Ok(())
    }
    fn funded_mut(&mut self) -> &mut u64 {
        &mut self.funded
    }
    fn withdrawn_mut(&mut self) -> &mut u64 {
        &mut self.withdrawn
    }
    fn mark_closed(&mut self) {
        self.status = StudyStatus::Closed;
    }
    fn invariant(&self) -> Result<()> {
        Study::invariant(self)
    }
}

/// The token accounts an escrow's own operations touch, borrowed from an instruction's context.
pub(crate) struct EscrowVault<'a, 'info, E: Escrow> {
    pub token_program: &'a Program<'info, Token>,
    pub escrow: &'a mut Account<'info, E>,
    pub mint: &'a Account<'info, Mint>,
    pub vault: &'a Account<'info, TokenAccount>,
}

/// Moves `amount` of `mint` out of an escrow's vault to `to`, the escrow PDA signing. Policies
/// and studies pay through this one path.
pub(crate) fn pay_out<'info, E: Escrow>(
    token_program: &Program<'info, Token>,
    escrow: &Account<'info, E>,
    mint: &Account<'info, Mint>,
    vault: &Account<'info, TokenAccount>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    escrow.with_signer_seeds(|seeds| {
        vault_transfer(
            token_program,
            mint,
            vault,
            escrow.to_account_info(),
            to,
            seeds,
            amount,
        )
    })
}

/// The validate step of a funding: a non-zero amount.
pub(crate) fn check_funding(amount: u64) -> Result<()> {
    require!(amount > 0, CareledgerError::InvalidAmount);
    Ok(())
}

/// Moves `amount` (checked by `check_funding`) from the funder's token account into the vault
/// (the token program checks the funder's authority) and books it. Returns the vault's balance
/// afterwards.
pub(crate) fn fund<'info, E: Escrow>(
    v: EscrowVault<'_, 'info, E>,
    source: &Account<'info, TokenAccount>,
    funder: &Signer<'info>,
    amount: u64,
) -> Result<u64> {
    let accounts = anchor_spl::token::TransferChecked {
        from: source.to_account_info(),
        mint: v.mint.to_account_info(),
        to: v.vault.to_account_info(),
        authority: funder.to_account_info(),
    };
    anchor_spl::token::transfer_checked(
        CpiContext::new(v.token_program.key(), accounts),
        amount,
        v.mint.decimals,
    )?;
    let vault_balance = v
        .vault
        .amount
        .checked_add(amount)
        .ok_or(error!(CareledgerError::MathOverflow))?;
    let funded = v.escrow.funded_mut();
    *funded = funded
        .checked_add(amount)
        .ok_or(CareledgerError::MathOverflow)?;
    v.escrow.invariant()?;
    Ok(vault_balance)
}

/// The validate step of a withdrawal: a non-zero amount, the escrow's own condition, and no
/// more than what nobody is owed yet.
pub(crate) fn check_withdrawal<E: Escrow>(
    escrow: &E,
    vault_balance: u64,
    amount: u64,
    at: i64,
) -> Result<()> {
    require!(amount > 0, CareledgerError::InvalidAmount);
    escrow.check_withdrawal(at)?;
    require!(
        amount <= escrow.unreserved(vault_balance),
        CareledgerError::FundsOwed
    );
    Ok(())
}

/// Pays `amount` (checked by `check_withdrawal`) out to `to` and books it. Returns the vault's
/// balance afterwards.
pub(crate) fn withdraw<'info, E: Escrow>(
    v: EscrowVault<'_, 'info, E>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<u64> {
    let vault_before = v.vault.amount;
    pay_out(v.token_program, v.escrow, v.mint, v.vault, to, amount)?;
    let withdrawn = v.escrow.withdrawn_mut();
    *withdrawn = withdrawn
        .checked_add(amount)
        .ok_or(CareledgerError::MathOverflow)?;
    v.escrow.invariant()?;
    // the transfer of `amount` out of the vault succeeded
    Ok(vault_before.saturating_sub(amount))
}

/// Sweeps the whole vault (`check_closing` passed) to `to`, books it and closes the escrow. The
/// escrow and its empty vault stay, so later calls get the closed error rather than a missing
/// account. Returns what was swept.
pub(crate) fn close<'info, E: Escrow>(
    v: EscrowVault<'_, 'info, E>,
    to: AccountInfo<'info>,
) -> Result<u64> {
    let swept = v.vault.amount;
    pay_out(v.token_program, v.escrow, v.mint, v.vault, to, swept)?;
    let withdrawn = v.escrow.withdrawn_mut();
    *withdrawn = withdrawn
        .checked_add(swept)
        .ok_or(CareledgerError::MathOverflow)?;
    v.escrow.mark_closed();
    v.escrow.invariant()?;
    Ok(swept)
}

/// Moves `amount` of `mint` out of a vault whose owner is a program PDA (`authority`, signing
/// with `signer_seeds`). Policies and studies pay through this one path.
fn vault_transfer<'info>(
    token_program: &Program<'info, anchor_spl::token::Token>,
    mint: &Account<'info, anchor_spl::token::Mint>,
    vault: &Account<'info, anchor_spl::token::TokenAccount>,
    authority: AccountInfo<'info>,
    to: AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let accounts = anchor_spl::token::TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to,
        authority,
    };
    anchor_spl::token::transfer_checked(
        CpiContext::new_with_signer(token_program.key(), accounts, &[signer_seeds]),
        amount,
        mint.decimals,
    )
}

/// An escrow's payment mint must not be freezable by the party the escrow constrains: either it
/// has no freeze authority, or the admin accepted it with the freeze authority it has now
/// (`accepted` is the `AcceptedMint` PDA for the mint, whose seeds the caller's accounts struct
/// checks).
pub(crate) fn check_payment_mint(
    mint: &anchor_spl::token::Mint,
    accepted: &AccountInfo,
) -> Result<()> {
    let freeze_authority = Option::<Pubkey>::from(mint.freeze_authority);
    let Some(freezer) = freeze_authority else {
        return Ok(());
    };
    let listed = accepted.owner == &crate::ID && !accepted.data_is_empty();
    require!(listed, CareledgerError::FreezableMintNotAccepted);
    // accepted for the freeze authority it had then: handed to someone else, it is not
    let entry = crate::state::AcceptedMint::try_deserialize(&mut &accepted.try_borrow_data()?[..])?;
    require_keys_eq!(
        entry.freeze_authority,
        freezer,
        CareledgerError::FreezableMintNotAccepted
    );
    Ok(())
}

/// The token accounts every payment touches, borrowed from an instruction's context.
pub(crate) struct Payment<'a, 'info> {
    pub token_program: &'a Program<'info, Token>,
    pub policy: &'a Account<'info, Policy>,
    pub mint: &'a Account<'info, Mint>,
    pub vault: &'a Account<'info, TokenAccount>,
    pub to: AccountInfo<'info>,
}

/// Moves `amount` out of the policy's vault, the policy PDA signing.
pub(crate) fn transfer_from_vault(p: &Payment, amount: u64) -> Result<()> {
    pay_out(
        p.token_program,
        p.policy,
        p.mint,
        p.vault,
        p.to.clone(),
        amount,
    )
}

/// Pays `benefit` now if the claim owes it (`ClaimState::owes`) and the vault's funds beyond
/// what earlier approved claims are owed cover it (so those keep their reservation); returns
/// whether it paid.
pub(crate) fn pay_if_covered(p: &Payment, state: ClaimState, benefit: u64) -> Result<bool> {
    // a frozen vault pays nothing now: the claim is recorded as owed instead of failing
    let covered = state.owes(benefit)
        && !p.vault.is_frozen()
        && p.policy.unreserved(p.vault.amount) >= benefit;
    if covered {
        transfer_from_vault(p, benefit)?;
    }
    Ok(covered)
}
