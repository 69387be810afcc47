//! A grant made against the consent statement its signer signed. The transaction carries, just
//! before this instruction, an Ed25519 precompile instruction over the statement; the runtime
//! checks that signature, and this instruction checks that the key is the grant's signer and
//! that the signed bytes are the statement the arguments render, byte for byte. The grant keeps
//! the statement's SHA-256.
use crate::constants::{CONFIG_ADDRESS, GRANT_SEED};
use crate::errors::CareledgerError;
use crate::events::ConsentStatementSigned;
use crate::instructions::consent::grant_create::{make_grant, proposed, GrantCreateArgs, Proposed};
use crate::logic::statement::{
    check_signed_form, render, statement_hash, SignedForm, StatementTerms,
};
use crate::state::{Config, Patient, Provider};
use anchor_lang::prelude::*;
use solana_ed25519_program::{DATA_START, PUBKEY_SERIALIZED_SIZE, SIGNATURE_OFFSETS_START};
use solana_instructions_sysvar::{load_current_index_checked, load_instruction_at_checked};

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: GrantCreateArgs)]
pub struct GrantCreateSigned<'info> {
    /// The patient or their guardian, who signed the statement; pays the rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Account<'info, Config>,
    #[account(mut)]
    pub patient: Account<'info, Patient>,
    /// The grantee must be a registered provider (any status: standing is checked at use).
    pub grantee_provider: Account<'info, Provider>,
    /// CHECK: the new grant's address (seeds checked here); created in the handler, which refuses
    /// an existing account and takes over a pre-funded one.
    #[account(
        mut,
        seeds = [GRANT_SEED, patient.wallet.as_ref(), grantee_provider.wallet.as_ref(), &args.purpose.seed()],
        bump,
    )]
    pub grant: UncheckedAccount<'info>,
    /// CHECK: the instructions sysvar (address checked), to read the Ed25519 check before this
    /// instruction.
    #[account(address = solana_instructions_sysvar::ID)]
    pub instructions: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
    /// CHECK: receives the rent of a spent grant this one replaces at its address, when someone
    /// other than `authority` paid it: must be that grant's `payer` (checked in the handler).
    #[account(mut)]
    pub previous_payer: Option<UncheckedAccount<'info>>,
}

/// A signed grant's checks passed: the grant proposed, and the statement its signer signed.
struct Signed {
    proposed: Proposed,
    serial: u32,
    statement: Vec<u8>,
    form: SignedForm,
}

impl<'info> GrantCreateSigned<'info> {
    pub fn validate(&self, args: &GrantCreateArgs) -> Result<()> {
        self.signed(args).map(|_| ())
    }

    /// Every check, in the order their errors are reported: the grant as `grant_create` checks
    /// it, a stated start not yet passed, and the Ed25519 check of the statement the arguments
    /// render, alone in its transaction.
    fn signed(&self, args: &GrantCreateArgs) -> Result<Signed> {
        let p = proposed(&self.authority, &self.patient, &self.grantee_provider, args)?;
        require!(
            args.not_before == 0 || args.not_before >= p.at,
            CareledgerError::StatementStartPassed
        );
        let serial = self
            .patient
            .grant_count
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        let statement = render(&StatementTerms {
            patient: self.patient.wallet,
            signer: p.by,
            actor: p.actor,
            grantee: p.grantee,
            grant: self.grant.key(),
            serial,
            classes: args.classes,
            actions: args.actions,
            purpose: args.purpose,
            record_scope: args.record_scope,
            not_before: args.not_before,
            expires_at: args.expires_at,
        });
        alone_in_transaction(&self.instructions)?;
        let form = checked_statement(&self.instructions, &p.by, &statement)?;
        Ok(Signed {
            proposed: p,
            serial,
            statement,
            form,
        })
    }

    pub fn handler(mut ctx: Context<Self>, args: GrantCreateArgs) -> Result<()> {
        let a = &mut ctx.accounts;
        let Signed {
            proposed: p,
            serial,
            statement,
            form,
        } = a.signed(&args)?;
        let hash = statement_hash(&statement);
        let made = make_grant(
            &a.authority,
            &mut a.patient,
            &a.grant,
            &a.system_program,
            a.previous_payer.as_deref(),
            ctx.bumps.grant,
            &p,
            hash,
        )?;
        let created = made.created;
        let signed = ConsentStatementSigned {
            grant: created.grant,
            patient: created.patient,
            signer: p.by,
            serial,
            statement_hash: hash,
            form,
            stated_not_before: args.not_before,
            at: p.at,
        };
        if let Some(closed) = made.closed {
            emit_cpi!(closed);
        }
        emit_cpi!(created);
        emit_cpi!(signed);
        Ok(())
    }
}

/// Most instructions a signed grant's transaction may hold: up to two compute-budget
/// instructions (unit limit and price), the Ed25519 check and the grant.
const MAX_INSTRUCTIONS: usize = 4;

/// The stack height of an instruction the transaction holds itself (not a cross-program call).
const TRANSACTION_LEVEL: usize = 1;

/// Refuses a transaction that holds anything but compute-budget instructions, the check just
/// before this instruction, and this instruction. The patient's wallet shows a transaction's
/// rent, not its instructions: a grant update, a second grant or a transfer beside the signed
/// grant would ride on the same signature without being in the statement.
pub(crate) fn alone_in_transaction(sysvar: &UncheckedAccount) -> Result<()> {
    // called by the transaction itself, not through another program: the index below is the
    // top-level instruction's, and a program calling in could run anything else on the
    // patient's signature in that same instruction
    require!(
        anchor_lang::solana_program::instruction::get_stack_height() == TRANSACTION_LEVEL,
        CareledgerError::StatementTransactionNotAlone
    );
    let current = usize::from(load_current_index_checked(sysvar)?);
    require_keys_eq!(
        load_instruction_at_checked(current, sysvar)?.program_id,
        crate::ID,
        CareledgerError::StatementTransactionNotAlone
    );
    let count = {
        let data = sysvar.try_borrow_data()?;
        let bytes = data
            .get(..2)
            .ok_or(CareledgerError::StatementTransactionNotAlone)?;
        usize::from(u16::from_le_bytes([bytes[0], bytes[1]]))
    };
    require!(
        count <= MAX_INSTRUCTIONS,
        CareledgerError::StatementTransactionNotAlone
    );
    for index in 0..count {
        if index == current || index.checked_add(1) == Some(current) {
            continue; // this grant, and its check (verified below)
        }
        let other = load_instruction_at_checked(index, sysvar)?;
        require_keys_eq!(
            other.program_id,
            solana_sdk_ids::compute_budget::ID,
            CareledgerError::StatementTransactionNotAlone
        );
    }
    Ok(())
}

/// The form in which `signer` signed `statement`, read from the Ed25519 precompile instruction
/// just before this one. The precompile has already checked the signature (a failed check fails
/// the whole transaction); what is left is that it checked the right key over the right bytes.
pub(crate) fn checked_statement(
    sysvar: &UncheckedAccount,
    signer: &Pubkey,
    statement: &[u8],
) -> Result<SignedForm> {
    let current = load_current_index_checked(sysvar)?;
    let previous = current
        .checked_sub(1)
        .ok_or(CareledgerError::StatementCheckMissing)?;
    let check = load_instruction_at_checked(usize::from(previous), sysvar)
        .map_err(|_| CareledgerError::StatementCheckMissing)?;
    require_keys_eq!(
        check.program_id,
        solana_sdk_ids::ed25519_program::ID,
        CareledgerError::StatementCheckMissing
    );
    let data = check.data.as_slice();
    // [signature count: u8, padding: u8, then per signature seven u16 (little-endian):
    //  signature offset, its instruction, key offset, its instruction, message offset,
    //  message size, its instruction]; u16::MAX as an instruction index means "this one".
    let layout = CareledgerError::StatementCheckLayout;
    require!(
        data.len() >= DATA_START && data.first() == Some(&1),
        CareledgerError::StatementCheckLayout
    );
    let field = |i: usize| -> Result<usize> {
        let at = SIGNATURE_OFFSETS_START.saturating_add(i.saturating_mul(2));
        let bytes = data.get(at..at.saturating_add(2)).ok_or(layout)?;
        Ok(usize::from(u16::from_le_bytes([bytes[0], bytes[1]])))
    };
    let this = usize::from(u16::MAX);
    require!(
        field(1)? == this && field(3)? == this && field(6)? == this,
        CareledgerError::StatementCheckLayout
    );
    let (key_at, message_at, message_len) = (field(2)?, field(4)?, field(5)?);
    let key = data
        .get(key_at..key_at.saturating_add(PUBKEY_SERIALIZED_SIZE))
        .ok_or(layout)?;
    require!(
        key == signer.as_ref(),
        CareledgerError::StatementSignerMismatch
    );
    let message = data
        .get(message_at..message_at.saturating_add(message_len))
        .ok_or(layout)?;
    Ok(check_signed_form(message, statement, signer)?)
}
