//! Solana attack classes (shared/reference/security-checklist.md), one test per row: each sends
//! the attack through the SDK's transport and asserts the exact error and that every involved
//! account is byte-identical afterwards. The fee payer is the harness's payer, never the victim.
use anchor_lang::{AccountSerialize, Discriminator};
use careledger_sdk::{action, ix, pda, AccessLogArgs, CareledgerError as E, ConsentGrant};
use careledger_sdk::{Purpose, ROLE_CLINICIAN};
use careledger_tests::{skip_unless_own_cluster, ConsentScene};
use solana_instruction::{AccountMeta, Instruction};
use solana_pubkey::Pubkey;
use solana_signer::Signer;

use anchor_lang::error::ErrorCode as Anchor;

// Anchor's own errors, by name (their numbers come from anchor_lang, not from this file)
const CONSTRAINT_SEEDS: u32 = Anchor::ConstraintSeeds as u32;
const CONSTRAINT_CLOSE: u32 = Anchor::ConstraintClose as u32;
const CONSTRAINT_DUPLICATE_MUTABLE_ACCOUNT: u32 = Anchor::ConstraintDuplicateMutableAccount as u32;
const INSTRUCTION_FALLBACK_NOT_FOUND: u32 = Anchor::InstructionFallbackNotFound as u32;
const INSTRUCTION_DID_NOT_DESERIALIZE: u32 = Anchor::InstructionDidNotDeserialize as u32;
const ACCOUNT_DISCRIMINATOR_NOT_FOUND: u32 = Anchor::AccountDiscriminatorNotFound as u32;
const ACCOUNT_DISCRIMINATOR_MISMATCH: u32 = Anchor::AccountDiscriminatorMismatch as u32;
const ACCOUNT_OWNED_BY_WRONG_PROGRAM: u32 = Anchor::AccountOwnedByWrongProgram as u32;
const INVALID_PROGRAM_ID: u32 = Anchor::InvalidProgramId as u32;
const ACCOUNT_NOT_SIGNER: u32 = Anchor::AccountNotSigner as u32;
const ACCOUNT_NOT_INITIALIZED: u32 = Anchor::AccountNotInitialized as u32;

type Scene = ConsentScene;

async fn scene() -> Scene {
    ConsentScene::new().await
}

fn read() -> AccessLogArgs {
    AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: true,
    }
}

/// What the attacks need on top of the scene.
trait AttackScene {
    fn watched(&self) -> Vec<Pubkey>;
    fn log(&self, grant: &Pubkey) -> Instruction;
    async fn place(&self, address: &Pubkey, owner: &Pubkey, data: Vec<u8>);
}

impl AttackScene for Scene {
    fn watched(&self) -> Vec<Pubkey> {
        vec![
            self.grant,
            self.record,
            pda::patient(&self.patient.pubkey()).0,
        ]
    }

    fn log(&self, grant: &Pubkey) -> Instruction {
        ix::AccessLog {
            grantee: self.clinic.pubkey(),
            patient_wallet: self.patient.pubkey(),
            grant: *grant,
            record: self.record,
            args: read(),
        }
        .instruction()
    }

    async fn place(&self, address: &Pubkey, owner: &Pubkey, data: Vec<u8>) {
        let account = solana_account::Account {
            lamports: 10_000_000,
            data,
            owner: *owner,
            executable: false,
            rent_epoch: 0,
        };
        self.env.set_account(address, account).await;
    }
}

#[tokio::test]
async fn missing_signer() {
    let s = scene().await;
    let wallet = s.patient.pubkey();
    let mut revoke = ix::GrantRevoke {
        authority: wallet,
        patient_wallet: wallet,
        grant: s.grant,
    }
    .instruction();
    careledger_tests::unsign(&mut revoke, &wallet);
    // no signature but the harness payer's: the patient's key is only named
    s.env
        .expect_anchor_error(revoke, &[], ACCOUNT_NOT_SIGNER, &s.watched())
        .await;
}

#[tokio::test]
async fn signer_that_is_not_the_authority() {
    let s = scene().await;
    let wallet = s.patient.pubkey();
    s.env
        .expect_rejected(
            ix::GrantRevoke {
                authority: s.clinic.pubkey(),
                patient_wallet: wallet,
                grant: s.grant,
            }
            .instruction(),
            &[&s.clinic],
            E::NotPatientOrGuardian,
            &s.watched(),
        )
        .await;
}

#[tokio::test]
async fn account_owned_by_another_program_with_a_valid_layout() {
    if skip_unless_own_cluster("places accounts no instruction would make").await {
        return;
    }
    let s = scene().await;
    let mut forged: ConsentGrant = s.env.client.fetch(&s.grant).await.unwrap();
    forged.classes = u16::MAX;
    let mut data = Vec::new();
    forged.try_serialize(&mut data).unwrap();
    let fake = Pubkey::new_unique();
    s.place(&fake, &Pubkey::new_unique(), data).await;
    let mut watched = s.watched();
    watched.push(fake);
    s.env
        .expect_anchor_error(
            s.log(&fake),
            &[&s.clinic],
            ACCOUNT_OWNED_BY_WRONG_PROGRAM,
            &watched,
        )
        .await;
}

#[tokio::test]
async fn type_cosplay_one_of_our_accounts_for_another() {
    let s = scene().await;
    // the record anchor (ours, valid) where a grant is expected
    s.env
        .expect_anchor_error(
            s.log(&s.record),
            &[&s.clinic],
            ACCOUNT_DISCRIMINATOR_MISMATCH,
            &s.watched(),
        )
        .await;
}

#[tokio::test]
async fn uninitialised_and_zero_filled_accounts() {
    if skip_unless_own_cluster("places accounts no instruction would make").await {
        return;
    }
    let s = scene().await;
    // a missing typed account (the record) is refused by Anchor
    let missing = Pubkey::new_unique();
    let mut no_record = s.log(&s.grant);
    let slot = no_record
        .accounts
        .iter()
        .position(|m| m.pubkey == s.record)
        .unwrap();
    no_record.accounts[slot].pubkey = missing;
    s.env
        .expect_anchor_error(
            no_record,
            &[&s.clinic],
            ACCOUNT_NOT_INITIALIZED,
            &s.watched(),
        )
        .await;
    // the grant is read by the handler (a vacant grant address is a refusal on the trail): a
    // vacant address that is not this patient's grant for the grantee is refused by name
    s.env
        .expect_rejected(
            s.log(&missing),
            &[&s.clinic],
            E::GrantPatientMismatch,
            &s.watched(),
        )
        .await;
    let zeroed = Pubkey::new_unique();
    s.place(&zeroed, &careledger_sdk::program::ID, vec![0; 115])
        .await;
    s.env
        .expect_anchor_error(
            s.log(&zeroed),
            &[&s.clinic],
            ACCOUNT_DISCRIMINATOR_MISMATCH,
            &s.watched(),
        )
        .await;
    let short = Pubkey::new_unique();
    s.place(&short, &careledger_sdk::program::ID, vec![1; 4])
        .await;
    s.env
        .expect_anchor_error(
            s.log(&short),
            &[&s.clinic],
            ACCOUNT_DISCRIMINATOR_NOT_FOUND,
            &s.watched(),
        )
        .await;
}

// Re-initialisation of every init, and creation at pre-funded addresses: tests/creation.rs.

#[tokio::test]
async fn look_alike_program_ids() {
    let s = scene().await;
    // a fake system program in grant_create
    let other = s.env.verified_provider(ROLE_CLINICIAN).await;
    let wallet = s.patient.pubkey();
    let args = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: 1,
        actions: action::READ,
        record_scope: careledger_sdk::NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: s.env.now().await + 3600,
    };
    let mut create = ix::GrantCreate {
        authority: wallet,
        patient_wallet: wallet,
        grantee_wallet: other.pubkey(),
        args,
    }
    .instruction();
    let system = create
        .accounts
        .iter()
        .position(|m| m.pubkey == solana_sdk_ids::system_program::ID)
        .unwrap();
    create.accounts[system].pubkey = Pubkey::new_unique();
    let grant = pda::grant(&wallet, &other.pubkey(), Purpose::Treatment).0;
    s.env
        .expect_anchor_error(create, &[&s.patient], INVALID_PROGRAM_ID, &[grant])
        .await;
}

#[tokio::test]
async fn the_same_mutable_account_twice() {
    let s = scene().await;
    let insurer = s.env.verified_provider(careledger_sdk::ROLE_INSURER).await;
    let (mint, authority) = s.env.mint(2).await;
    let keys =
        careledger_sdk::ix::PolicyKeys::new(&insurer.pubkey(), 1, &s.patient.pubkey(), &mint);
    let now = s.env.now().await;
    let policy = careledger_sdk::PolicyCreateArgs {
        policy_id: 1,
        coverage_start: now - 60,
        coverage_end: now + 86_400,
        benefit_cap: 1_000,
        deductible: 0,
        network_only: false,
    };
    s.env
        .send(
            ix::PolicyCreate { keys, args: policy }.instruction(),
            &[&insurer],
        )
        .await
        .unwrap();
    let funds = s.env.token_account(&mint, &insurer.pubkey()).await;
    s.env.mint_to(&mint, &authority, &funds, 500).await;
    s.env
        .send(
            ix::PolicyFund {
                funder: insurer.pubkey(),
                keys,
                source: funds,
                amount: 500,
            }
            .instruction(),
            &[&insurer],
        )
        .await
        .unwrap();
    // withdraw from the vault into the vault itself
    s.env
        .expect_anchor_error(
            ix::PolicyWithdraw {
                keys,
                destination: keys.vault,
                amount: 100,
            }
            .instruction(),
            &[&insurer],
            CONSTRAINT_DUPLICATE_MUTABLE_ACCOUNT,
            &[keys.policy, keys.vault],
        )
        .await;
    // and closing a grant into itself is refused too (Anchor checks the close target first)
    let wallet = s.patient.pubkey();
    let mut close = ix::GrantClose {
        authority: wallet,
        patient_wallet: wallet,
        grant: s.grant,
        rent_to: wallet,
    }
    .instruction();
    let rent_to = close
        .accounts
        .iter()
        .rposition(|m| m.pubkey == wallet)
        .unwrap();
    close.accounts[rent_to] = AccountMeta::new(s.grant, false);
    s.env
        .expect_anchor_error(close, &[&s.patient], CONSTRAINT_CLOSE, &s.watched())
        .await;
}

#[tokio::test]
async fn truncated_data_and_unknown_discriminators() {
    let s = scene().await;
    let mut truncated = s.log(&s.grant);
    truncated.data.truncate(9);
    s.env
        .expect_anchor_error(
            truncated,
            &[&s.clinic],
            INSTRUCTION_DID_NOT_DESERIALIZE,
            &s.watched(),
        )
        .await;
    let mut unknown = s.log(&s.grant);
    unknown.data[..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]);
    s.env
        .expect_anchor_error(
            unknown,
            &[&s.clinic],
            INSTRUCTION_FALLBACK_NOT_FOUND,
            &s.watched(),
        )
        .await;
}

#[tokio::test]
async fn revoke_then_use_in_the_same_transaction() {
    let s = scene().await;
    let wallet = s.patient.pubkey();
    let before = s.env.snapshot(&s.watched()).await;
    let err = s
        .env
        .send_all(
            &[
                ix::GrantRevoke {
                    authority: wallet,
                    patient_wallet: wallet,
                    grant: s.grant,
                }
                .instruction(),
                s.log(&s.grant),
            ],
            &[&s.patient, &s.clinic],
        )
        .await
        .expect_err("strict access after revoke");
    assert_eq!(err.program_error(), Some(E::GrantRevoked), "{err}");
    // the whole transaction failed: not even the revocation happened
    assert_eq!(before, s.env.snapshot(&s.watched()).await);
    assert_eq!(
        ConsentGrant::DISCRIMINATOR,
        &s.env.snapshot(&[s.grant]).await[0].as_ref().unwrap().1[..8]
    );
}

/// Row 8: a PDA with a non-canonical bump. No instruction takes a bump from its caller (every
/// creation derives the canonical one, and the invariant checks confirm every stored bump is
/// canonical), so the attacker's lever is an address: a grant at a valid but non-canonical PDA of
/// the right seeds is refused by the seeds check before anything is created.
#[tokio::test]
async fn non_canonical_bump_pda_is_refused() {
    let s = scene().await;
    let other = s.env.verified_provider(ROLE_CLINICIAN).await;
    let wallet = s.patient.pubkey();
    let (purpose, grantee) = (Purpose::Treatment, other.pubkey());
    let purpose_seed = purpose.seed();
    let seeds: [&[u8]; 4] = [
        careledger_sdk::GRANT_SEED,
        wallet.as_ref(),
        grantee.as_ref(),
        &purpose_seed,
    ];
    let (canonical, bump) = pda::grant(&wallet, &other.pubkey(), purpose);
    let lower = (0..bump)
        .rev()
        .find_map(|b| {
            let mut with_bump = seeds.to_vec();
            let b = [b];
            with_bump.push(&b);
            Pubkey::create_program_address(&with_bump, &careledger_sdk::program::ID).ok()
        })
        .expect("some lower bump gives an off-curve address");
    assert_ne!(lower, canonical);
    let args = careledger_sdk::GrantCreateArgs {
        purpose,
        classes: 1,
        actions: action::READ,
        record_scope: careledger_sdk::NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: s.env.now().await + 3600,
    };
    let mut create = ix::GrantCreate {
        authority: wallet,
        patient_wallet: wallet,
        grantee_wallet: other.pubkey(),
        args,
    }
    .instruction();
    for meta in &mut create.accounts {
        if meta.pubkey == canonical {
            meta.pubkey = lower;
        }
    }
    s.env
        .expect_anchor_error(
            create,
            &[&s.patient],
            CONSTRAINT_SEEDS,
            &[lower, canonical, pda::patient(&wallet).0],
        )
        .await;
}
