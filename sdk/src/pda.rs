//! Program-derived addresses, from the program's own seed constants.
use careledger::constants::*;
use careledger::state::Purpose;
use solana_pubkey::Pubkey;

pub fn program_id() -> Pubkey {
    careledger::ID
}

pub fn config() -> Pubkey {
    careledger::CONFIG_ADDRESS
}

/// Most wallets whose provider / patient addresses are remembered per thread.
const CACHE_CAPACITY: usize = 4096;

thread_local! {
    /// Provider and patient addresses a backend derives again and again (every builder for the
    /// same patient needs the patient PDA): the bump search runs once per wallet and thread.
    static WALLET_PDAS: std::cell::RefCell<std::collections::HashMap<(u8, Pubkey), (Pubkey, u8)>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

fn per_wallet(kind: u8, seed: &[u8], wallet: &Pubkey) -> (Pubkey, u8) {
    WALLET_PDAS.with(|cache| {
        if let Some(hit) = cache.borrow().get(&(kind, *wallet)) {
            return *hit;
        }
        let found = Pubkey::find_program_address(&[seed, wallet.as_ref()], &careledger::ID);
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert((kind, *wallet), found);
        found
    })
}

pub fn provider(wallet: &Pubkey) -> (Pubkey, u8) {
    per_wallet(0, PROVIDER_SEED, wallet)
}

pub fn patient(wallet: &Pubkey) -> (Pubkey, u8) {
    per_wallet(1, PATIENT_SEED, wallet)
}

pub fn record(patient_wallet: &Pubkey, index: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[RECORD_SEED, patient_wallet.as_ref(), &index.to_le_bytes()],
        &careledger::ID,
    )
}

pub fn grant(patient_wallet: &Pubkey, grantee_wallet: &Pubkey, purpose: Purpose) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            GRANT_SEED,
            patient_wallet.as_ref(),
            grantee_wallet.as_ref(),
            &purpose.seed(),
        ],
        &careledger::ID,
    )
}

/// One clinician's break-glass history with one patient (`EmergencyMarker`).
pub fn emergency_marker(patient_wallet: &Pubkey, clinician: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[EMERGENCY_SEED, patient_wallet.as_ref(), clinician.as_ref()],
        &careledger::ID,
    )
}

/// The break-glass grant number `serial` that `clinician` opened for the patient (1 for the
/// first; the next one is the marker's `opened + 1`, `Client::next_emergency_serial`).
pub fn emergency_grant(patient_wallet: &Pubkey, clinician: &Pubkey, serial: u32) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            GRANT_SEED,
            patient_wallet.as_ref(),
            clinician.as_ref(),
            &Purpose::Emergency.seed(),
            &serial.to_le_bytes(),
        ],
        &careledger::ID,
    )
}

/// Any grant's address from its own fields (a break-glass grant's includes its serial).
pub fn grant_of(g: &careledger::state::ConsentGrant) -> (Pubkey, u8) {
    if g.is_emergency() {
        emergency_grant(&g.patient, &g.grantee, g.serial)
    } else {
        grant(&g.patient, &g.grantee, g.purpose)
    }
}

pub fn request(patient_wallet: &Pubkey, provider_wallet: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            REQUEST_SEED,
            patient_wallet.as_ref(),
            provider_wallet.as_ref(),
        ],
        &careledger::ID,
    )
}

pub fn policy(insurer_wallet: &Pubkey, policy_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            POLICY_SEED,
            insurer_wallet.as_ref(),
            &policy_id.to_le_bytes(),
        ],
        &careledger::ID,
    )
}

/// The policy's token vault (an SPL token account whose owner is the policy PDA).
pub fn vault(policy: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[VAULT_SEED, policy.as_ref()], &careledger::ID)
}

pub fn rule(policy: &Pubkey, rule_key: &[u8; 32]) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[RULE_SEED, policy.as_ref(), rule_key], &careledger::ID)
}

/// A claim's address is its duplicate key: one claim per policy, provider, rule and day, whichever
/// record it cites.
pub fn claim(
    policy: &Pubkey,
    provider_wallet: &Pubkey,
    rule_key: &[u8; 32],
    service_date: i64,
) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            CLAIM_SEED,
            policy.as_ref(),
            provider_wallet.as_ref(),
            rule_key,
            &service_date.to_le_bytes(),
        ],
        &careledger::ID,
    )
}

pub fn study(sponsor_wallet: &Pubkey, study_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[STUDY_SEED, sponsor_wallet.as_ref(), &study_id.to_le_bytes()],
        &careledger::ID,
    )
}

pub fn participation(study: &Pubkey, patient_wallet: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[PARTICIPATION_SEED, study.as_ref(), patient_wallet.as_ref()],
        &careledger::ID,
    )
}

/// A provider's membership in an insurer's network (exists only while it runs).
pub fn network_membership(insurer_wallet: &Pubkey, provider_wallet: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            NETWORK_SEED,
            insurer_wallet.as_ref(),
            provider_wallet.as_ref(),
        ],
        &careledger::ID,
    )
}

/// The sponsor's invitation of one patient to one study.
pub fn invitation(study: &Pubkey, patient_wallet: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[INVITATION_SEED, study.as_ref(), patient_wallet.as_ref()],
        &careledger::ID,
    )
}

/// The admin's entry accepting a freezable payment mint.
pub fn accepted_mint(mint: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[ACCEPTED_MINT_SEED, mint.as_ref()], &careledger::ID)
}

/// A wallet's associated token account for `mint` (where enrolment rewards go).
pub fn associated_token(wallet: &Pubkey, mint: &Pubkey) -> Pubkey {
    anchor_spl::associated_token::get_associated_token_address(wallet, mint)
}

/// Anchor's `emit_cpi!` signer (seed fixed by Anchor), derived once at compile time because
/// every builder needs it.
const EVENT_AUTHORITY: Pubkey = Pubkey::new_from_array(
    anchor_lang::derive_program_address(&[b"__event_authority"], &careledger::ID.to_bytes()).0,
);

pub fn event_authority() -> Pubkey {
    EVENT_AUTHORITY
}

/// The program's ProgramData account under the upgradeable loader (holds the upgrade authority).
pub fn program_data() -> Pubkey {
    solana_loader_v3_interface::get_program_data_address(&careledger::ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_wallet_pdas_match_a_fresh_search() {
        for _ in 0..3 {
            let wallet = Pubkey::new_unique();
            for _ in 0..2 {
                assert_eq!(
                    patient(&wallet),
                    Pubkey::find_program_address(&[PATIENT_SEED, wallet.as_ref()], &careledger::ID)
                );
                assert_eq!(
                    provider(&wallet),
                    Pubkey::find_program_address(
                        &[PROVIDER_SEED, wallet.as_ref()],
                        &careledger::ID
                    )
                );
            }
            assert_ne!(patient(&wallet), provider(&wallet));
        }
    }

    #[test]
    fn config_address_matches_the_compile_time_one() {
        let (address, bump) = Pubkey::find_program_address(&[CONFIG_SEED], &careledger::ID);
        assert_eq!(address, config());
        assert_eq!(bump, careledger::CONFIG_PDA.1);
    }

    #[test]
    fn event_authority_matches_a_runtime_search() {
        let searched = Pubkey::find_program_address(&[b"__event_authority"], &careledger::ID).0;
        assert_eq!(event_authority(), searched);
    }

    #[test]
    fn seeds_do_not_collide_across_kinds() {
        let a = Pubkey::new_unique();
        let b = Pubkey::new_unique();
        let all = [
            provider(&a).0,
            patient(&a).0,
            record(&a, 0).0,
            record(&a, 1).0,
            grant(&a, &b, Purpose::Treatment).0,
            grant(&a, &b, Purpose::Payment).0,
            grant(&b, &a, Purpose::Treatment).0,
            request(&a, &b).0,
            network_membership(&a, &b).0,
            invitation(&a, &b).0,
            accepted_mint(&a).0,
            config(),
        ];
        for (i, x) in all.iter().enumerate() {
            for y in &all[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }
}
