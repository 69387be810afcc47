use crate::constants::{CLAIM_SEED, CONFIG_ADDRESS, NETWORK_SEED};
use crate::create::{init_pda, is_vacant};
use crate::errors::CareledgerError;
use crate::events::ClaimSubmitted;
use crate::instructions::claims::{adjudicated, pay_claim};
use crate::instructions::now;
use crate::logic::claims::{
    adjudicate, automatic_outcome, check_submission, review_reason, BilledService, Breakdown,
    Submission,
};
use crate::state::{
    Claim, ClaimState, Config, ConsentGrant, CoverageRule, Patient, Policy, Provider, RecordAnchor,
    RuleTerms,
};
use crate::vault::{pay_if_covered, Payment};
use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

pub use crate::logic::claims::BILLING_ROLES;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct ClaimSubmitArgs {
    pub units: u16,
    /// Billed amount, in mint base units.
    pub billed: u64,
    /// Whole UTC day of the service, unix seconds (part of the duplicate key).
    pub service_date: i64,
    /// Hash of the off-chain claim document.
    pub document_commitment: [u8; 32],
    /// The rule's terms as the provider previewed them: a `rule_update` that lands first makes
    /// the claim fail (`RuleTermsChanged`) instead of being decided under terms nobody saw.
    pub expected_terms: RuleTerms,
}

impl ClaimSubmitArgs {
    /// The service as `logic::claims` checks it.
    pub fn service(&self) -> BilledService {
        BilledService {
            units: self.units,
            billed: self.billed,
            service_date: self.service_date,
            document_commitment: self.document_commitment,
            expected_terms: self.expected_terms,
        }
    }
}

/// A provider bills a policy for a service documented by an anchored record. With the patient's
/// payment consent in place, the claim is adjudicated and, when the vault has the funds, paid in
/// the same instruction; otherwise it waits for review or settlement.
#[event_cpi]
#[derive(Accounts)]
#[instruction(args: ClaimSubmitArgs)]
pub struct ClaimSubmit<'info> {
    /// The provider's wallet; pays the claim account's rent.
    #[account(mut)]
    pub provider: Signer<'info>,
    #[account(address = CONFIG_ADDRESS, constraint = !config.paused @ CareledgerError::Paused)]
    pub config: Box<Account<'info, Config>>,
    #[account(constraint = provider_account.wallet == provider.key() @ CareledgerError::NotClaimProvider)]
    pub provider_account: Box<Account<'info, Provider>>,
    #[account(constraint = patient.wallet == policy.patient @ CareledgerError::PolicyPatientMismatch)]
    pub patient: Box<Account<'info, Patient>>,
    /// Active, checked with the rest in `check_submission`.
    #[account(mut)]
    pub policy: Box<Account<'info, Policy>>,
    #[account(
        mut,
        constraint = rule.policy == policy.key() @ CareledgerError::RulePolicyMismatch,
    )]
    pub rule: Box<Account<'info, CoverageRule>>,
    #[account(constraint = record.patient == policy.patient @ CareledgerError::RecordPatientMismatch)]
    pub record: Box<Account<'info, RecordAnchor>>,
    /// CHECK: the billing provider's treatment or operations grant from the member, which must
    /// cover the cited record unless the provider authored it (then any account will do).
    /// Decoded in the handler; matched by its stored fields.
    pub care_grant: UncheckedAccount<'info>,
    /// CHECK: the provider's membership in the insurer's network (seeds checked here); must exist
    /// when the policy is network-only, ignored otherwise.
    #[account(
        seeds = [NETWORK_SEED, policy.insurer.as_ref(), provider.key().as_ref()],
        bump,
    )]
    pub network_membership: UncheckedAccount<'info>,
    /// CHECK: the insurer's payment grant from the patient. Decoded in the handler so that a
    /// missing grant gets its own error (`NoPaymentConsent`); matched by its stored fields.
    pub payment_grant: UncheckedAccount<'info>,
    /// CHECK: the new claim; its address is the duplicate key (checked by the seeds), and the
    /// handler refuses it if it already holds a claim.
    #[account(
        mut,
        seeds = [
            CLAIM_SEED,
            policy.key().as_ref(),
            provider.key().as_ref(),
            &rule.rule_key,
            &args.service_date.to_le_bytes(),
        ],
        bump,
    )]
    pub claim: UncheckedAccount<'info>,
    #[account(address = policy.mint @ CareledgerError::WrongMint)]
    pub mint: Box<Account<'info, Mint>>,
    #[account(mut, address = policy.vault @ CareledgerError::ForeignVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Where the benefit goes: the provider's token account for the policy's mint.
    #[account(
        mut,
        constraint = payee.mint == policy.mint @ CareledgerError::WrongMint,
        constraint = payee.owner == provider.key() @ CareledgerError::PayeeNotProvider,
    )]
    pub payee: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl<'info> ClaimSubmit<'info> {
    /// Every refusal of `logic::claims::check_submission`, then the duplicate key.
    pub fn validate(&self, args: &ClaimSubmitArgs) -> Result<()> {
        let at = now()?;
        let (care_grant, payment_grant) =
            (grant_at(&self.care_grant)?, grant_at(&self.payment_grant)?);
        let membership = &self.network_membership;
        let submission = Submission {
            service: args.service(),
            policy: &self.policy,
            rule: &self.rule,
            record: &self.record,
            provider_wallet: self.provider.key(),
            provider: &self.provider_account,
            patient_epoch: self.patient.consent_epoch,
            patient_guardian: self.patient.guardian,
            care_grant: care_grant.as_ref(),
            payment_grant: payment_grant.as_ref(),
            in_network: membership.owner == &crate::ID && !membership.data_is_empty(),
            now: at,
        };
        check_submission(&submission)?;
        require!(is_vacant(&self.claim), CareledgerError::DuplicateClaim);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: ClaimSubmitArgs) -> Result<()> {
        let at = now()?;
        let a = &ctx.accounts;
        // Decide: review, or adjudicate now.
        let terms = a.rule.terms;
        let review = review_reason(&terms, args.units, a.rule.claims);
        let (state, breakdown, reason_code) = match review {
            Some(reason) => (ClaimState::PendingReview, Breakdown::default(), reason),
            None => {
                let b = adjudicate(&terms, args.units, args.billed, a.policy.balances());
                let (state, reason) = automatic_outcome(&b);
                (state, b, reason)
            }
        };
        let vault_before = a.vault.amount;
        let payment = Payment {
            token_program: &a.token_program,
            policy: &a.policy,
            mint: &a.mint,
            vault: &a.vault,
            to: a.payee.to_account_info(),
        };
        let pay_now = pay_if_covered(&payment, state, breakdown.benefit)?;

        let claim_key = a.claim.key();
        let (policy_key, provider, record, payee) = (
            a.policy.key(),
            a.provider.key(),
            a.record.key(),
            a.payee.key(),
        );
        let service_date = args.service_date.to_le_bytes();
        let (bump, rule_key) = ([ctx.bumps.claim], a.rule.rule_key);
        let seeds = Claim::seeds(&policy_key, &provider, &rule_key, &service_date, &bump);
        let mut claim = Claim {
            policy: policy_key,
            provider,
            record,
            rule_key: a.rule.rule_key,
            terms: a.rule.terms,
            document_commitment: args.document_commitment,
            units: args.units,
            billed: args.billed,
            service_date: args.service_date,
            state,
            breakdown,
            reason_code,
            appealed: false,
            bump: ctx.bumps.claim,
            submitted_at: at,
            decided_at: if review.is_some() { 0 } else { at },
            paid_at: 0,
        };
        let submitted = ClaimSubmitted {
            claim: claim_key,
            policy: policy_key,
            provider,
            patient: a.policy.patient,
            record,
            payment_grant: a.payment_grant.key(),
            rule_key: claim.rule_key,
            units: args.units,
            billed: args.billed,
            service_date: args.service_date,
            document_commitment: args.document_commitment,
            at,
        };

        let rule = &mut ctx.accounts.rule;
        rule.claims = rule
            .claims
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        rule.invariant()?;
        let policy = &mut ctx.accounts.policy;
        policy.claim_count = policy
            .claim_count
            .checked_add(1)
            .ok_or(CareledgerError::MathOverflow)?;
        if review.is_some() {
            policy.pending_review = policy
                .pending_review
                .checked_add(1)
                .ok_or(CareledgerError::MathOverflow)?;
        }
        if state.is_owed() {
            policy.reserve(&breakdown)?;
        }
        if state == ClaimState::Denied {
            policy.note_denial(false, at);
        }
        let paid = if pay_now {
            Some(pay_claim(
                &mut claim,
                claim_key,
                payee,
                policy,
                vault_before,
                at,
            )?)
        } else {
            None
        };
        policy.invariant()?;
        claim.invariant()?;
        let decided = adjudicated(claim_key, &claim, policy_key, policy, state, crate::ID, at);
        init_pda(
            &ctx.accounts.provider,
            &ctx.accounts.claim.to_account_info(),
            &ctx.accounts.system_program,
            &seeds,
            &claim,
            CareledgerError::DuplicateClaim,
        )?;
        emit_cpi!(submitted);
        emit_cpi!(decided);
        if let Some(paid) = paid {
            emit_cpi!(paid);
        }
        Ok(())
    }
}

/// The grant at `info`, if one of our grants lives there.
fn grant_at(info: &AccountInfo) -> Result<Option<ConsentGrant>> {
    if info.owner != &crate::ID || info.data_is_empty() {
        return Ok(None);
    }
    Ok(Some(ConsentGrant::try_deserialize(
        &mut &info.try_borrow_data()?[..],
    )?))
}
