//! SPL Token plumbing for claims and rewards: create a mint and token accounts, mint, and read a
//! balance. careledger pays in SPL Token (not Token-2022) mints.
use crate::SdkError;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_spl::token::spl_token;
use solana_instruction::Instruction;
use solana_pubkey::Pubkey;
use solana_rent::Rent;

pub const TOKEN_PROGRAM_ID: Pubkey = anchor_spl::token::ID;

fn create(payer: &Pubkey, account: &Pubkey, len: usize) -> Instruction {
    solana_system_interface::instruction::create_account(
        payer,
        account,
        Rent::default().minimum_balance(len),
        len as u64,
        &TOKEN_PROGRAM_ID,
    )
}

fn token_ix(ix: Result<Instruction, impl std::fmt::Display>) -> Instruction {
    // The interface only fails on a wrong token program id, which is a constant here.
    ix.unwrap_or_else(|e| unreachable!("spl-token instruction: {e}"))
}

/// A new mint at `mint` (which must sign) with `authority` as mint authority.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    decimals: u8,
) -> Vec<Instruction> {
    create_freezable_mint(payer, mint, authority, None, decimals)
}

/// A new mint whose `freeze_authority` can freeze any of its token accounts. Policies and
/// studies accept such a mint only once the admin has (`ix::mint_accept`).
pub fn create_freezable_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    freeze_authority: Option<&Pubkey>,
    decimals: u8,
) -> Vec<Instruction> {
    vec![
        create(payer, mint, spl_token::state::Mint::LEN),
        token_ix(spl_token::instruction::initialize_mint2(
            &TOKEN_PROGRAM_ID,
            mint,
            authority,
            freeze_authority,
            decimals,
        )),
    ]
}

/// The mint's freeze authority freezes `account`: nothing moves out of it until it is thawed.
pub fn freeze_account(account: &Pubkey, mint: &Pubkey, freeze_authority: &Pubkey) -> Instruction {
    token_ix(spl_token::instruction::freeze_account(
        &TOKEN_PROGRAM_ID,
        account,
        mint,
        freeze_authority,
        &[],
    ))
}

/// The mint's freeze authority hands that authority to `new` (`None` gives it up for good).
pub fn set_freeze_authority(mint: &Pubkey, current: &Pubkey, new: Option<&Pubkey>) -> Instruction {
    token_ix(spl_token::instruction::set_authority(
        &TOKEN_PROGRAM_ID,
        mint,
        new,
        spl_token::instruction::AuthorityType::FreezeAccount,
        current,
        &[],
    ))
}

/// A new token account at `account` (which must sign) for `mint`, owned by `owner`.
pub fn create_token_account(
    payer: &Pubkey,
    account: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
) -> Vec<Instruction> {
    vec![
        create(payer, account, spl_token::state::Account::LEN),
        token_ix(spl_token::instruction::initialize_account3(
            &TOKEN_PROGRAM_ID,
            account,
            mint,
            owner,
        )),
    ]
}

pub fn mint_to(mint: &Pubkey, to: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    token_ix(spl_token::instruction::mint_to(
        &TOKEN_PROGRAM_ID,
        mint,
        to,
        authority,
        &[],
        amount,
    ))
}

/// A token account's mint, owner and amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenBalance {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    /// Frozen by the mint's freeze authority: nothing moves out of it.
    pub frozen: bool,
}

pub fn decode_token_account(address: &Pubkey, data: &[u8]) -> Result<TokenBalance, SdkError> {
    let account = spl_token::state::Account::unpack(data).map_err(|e| SdkError::Decode {
        address: *address,
        expected: "TokenAccount",
        reason: e.to_string(),
    })?;
    Ok(TokenBalance {
        mint: account.mint,
        owner: account.owner,
        amount: account.amount,
        frozen: account.is_frozen(),
    })
}

/// A mint's decimals.
pub fn decode_mint_decimals(address: &Pubkey, data: &[u8]) -> Result<u8, SdkError> {
    spl_token::state::Mint::unpack(data)
        .map(|m| m.decimals)
        .map_err(|e| SdkError::Decode {
            address: *address,
            expected: "Mint",
            reason: e.to_string(),
        })
}
