//! Program-derived addresses, from each account type's own `seeds` (the program creates and signs
//! with the very same functions).
use careledger::state::{
    AcceptedMint, AccessRequest, Claim, ConsentGrant, CoverageRule, EmergencyMarker, EncryptionKey,
    Invitation, NetworkMembership, Participation, Patient, Policy, Provider, Purpose, RecordAnchor,
    Study,
};
use careledger::state::{Batch, PackRecord, Product, Shipment};
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

fn per_wallet(
    kind: u8,
    seeds: for<'a> fn(&'a Pubkey, &'a [u8]) -> [&'a [u8]; 3],
    wallet: &Pubkey,
) -> (Pubkey, u8) {
    WALLET_PDAS.with(|cache| {
        if let Some(hit) = cache.borrow().get(&(kind, *wallet)) {
            return *hit;
        }
        let found = derive(&seeds(wallet, &[]));
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert((kind, *wallet), found);
        found
    })
}

/// The address and canonical bump for seeds from an account type's `seeds` (called with an
/// empty bump, which adds nothing to the hash).
fn derive(seeds: &[&[u8]]) -> (Pubkey, u8) {
    Pubkey::find_program_address(seeds, &careledger::ID)
}

pub fn provider(wallet: &Pubkey) -> (Pubkey, u8) {
    per_wallet(0, Provider::seeds, wallet)
}

pub fn patient(wallet: &Pubkey) -> (Pubkey, u8) {
    per_wallet(1, Patient::seeds, wallet)
}

/// The wallet's X25519 key account (`EncryptionKey`).
pub fn encryption_key(wallet: &Pubkey) -> (Pubkey, u8) {
    derive(&EncryptionKey::seeds(wallet, &[]))
}

/// The product registered for a GTIN (`logic::supply::gtin_hash`).
pub fn product(gtin_hash: &[u8; 32]) -> (Pubkey, u8) {
    derive(&Product::seeds(gtin_hash, &[]))
}

/// A product's lot: `lot` is 1..=20 bytes of GS1 set 82 (longer is no valid seed and panics).
pub fn batch(gtin_hash: &[u8; 32], lot: &[u8]) -> (Pubkey, u8) {
    derive(&Batch::seeds(gtin_hash, lot, &[]))
}

/// The record of a batch's decommissioned pack `index`.
pub fn pack_record(batch: &Pubkey, index: u32) -> (Pubkey, u8) {
    derive(&PackRecord::seeds(batch, &index.to_le_bytes(), &[]))
}

pub fn shipment(sender_wallet: &Pubkey, epcis_hash: &[u8; 32]) -> (Pubkey, u8) {
    derive(&Shipment::seeds(sender_wallet, epcis_hash, &[]))
}

pub fn record(patient_wallet: &Pubkey, index: u32) -> (Pubkey, u8) {
    derive(&RecordAnchor::seeds(
        patient_wallet,
        &index.to_le_bytes(),
        &[],
    ))
}

pub fn grant(patient_wallet: &Pubkey, grantee_wallet: &Pubkey, purpose: Purpose) -> (Pubkey, u8) {
    derive(&ConsentGrant::seeds(
        patient_wallet,
        grantee_wallet,
        &purpose.seed(),
        &[],
        &[],
    ))
}

/// One clinician's break-glass history with one patient (`EmergencyMarker`).
pub fn emergency_marker(patient_wallet: &Pubkey, clinician: &Pubkey) -> (Pubkey, u8) {
    derive(&EmergencyMarker::seeds(patient_wallet, clinician, &[]))
}

/// The break-glass grant number `serial` that `clinician` opened for the patient (1 for the
/// first; the next one is the marker's `opened + 1`, `Client::next_emergency_serial`).
pub fn emergency_grant(patient_wallet: &Pubkey, clinician: &Pubkey, serial: u32) -> (Pubkey, u8) {
    derive(&ConsentGrant::seeds(
        patient_wallet,
        clinician,
        &Purpose::Emergency.seed(),
        &serial.to_le_bytes(),
        &[],
    ))
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
    derive(&AccessRequest::seeds(patient_wallet, provider_wallet, &[]))
}

pub fn policy(insurer_wallet: &Pubkey, policy_id: u64) -> (Pubkey, u8) {
    derive(&Policy::seeds(
        insurer_wallet,
        &policy_id.to_le_bytes(),
        &[],
    ))
}

/// A policy's or study's token vault (an SPL token account whose owner is that PDA).
pub fn vault(owner: &Pubkey) -> (Pubkey, u8) {
    derive(&careledger::state::vault_seeds(owner, &[]))
}

pub fn rule(policy: &Pubkey, rule_key: &[u8; 32]) -> (Pubkey, u8) {
    derive(&CoverageRule::seeds(policy, rule_key, &[]))
}

/// A claim's address is its duplicate key: one claim per policy, provider, rule and day, whichever
/// record it cites.
pub fn claim(
    policy: &Pubkey,
    provider_wallet: &Pubkey,
    rule_key: &[u8; 32],
    service_date: i64,
) -> (Pubkey, u8) {
    derive(&Claim::seeds(
        policy,
        provider_wallet,
        rule_key,
        &service_date.to_le_bytes(),
        &[],
    ))
}

pub fn study(sponsor_wallet: &Pubkey, study_id: u64) -> (Pubkey, u8) {
    derive(&Study::seeds(sponsor_wallet, &study_id.to_le_bytes(), &[]))
}

pub fn participation(study: &Pubkey, patient_wallet: &Pubkey) -> (Pubkey, u8) {
    derive(&Participation::seeds(study, patient_wallet, &[]))
}

/// A study's registered protocol.
pub fn protocol(study: &Pubkey) -> (Pubkey, u8) {
    derive(&careledger::state::Protocol::seeds(study, &[]))
}

/// One version of a study's protocol (1 for the registration).
pub fn protocol_version(study: &Pubkey, version: u16) -> (Pubkey, u8) {
    derive(&careledger::state::ProtocolVersion::seeds(
        study,
        &version.to_le_bytes(),
        &[],
    ))
}

/// A provider's membership in an insurer's network (exists only while it runs).
pub fn network_membership(insurer_wallet: &Pubkey, provider_wallet: &Pubkey) -> (Pubkey, u8) {
    derive(&NetworkMembership::seeds(
        insurer_wallet,
        provider_wallet,
        &[],
    ))
}

/// The sponsor's invitation of one patient to one study.
pub fn invitation(study: &Pubkey, patient_wallet: &Pubkey) -> (Pubkey, u8) {
    derive(&Invitation::seeds(study, patient_wallet, &[]))
}

/// The admin's entry accepting a freezable payment mint.
pub fn accepted_mint(mint: &Pubkey) -> (Pubkey, u8) {
    derive(&AcceptedMint::seeds(mint, &[]))
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
    use careledger::constants::*;

    /// The addresses of the shared seed functions are those of the literal seed lists the
    /// program's `seeds = [...]` constraints spell (an empty bump adds nothing to the hash).
    #[test]
    fn shared_seeds_derive_the_constraints_addresses() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let id = |seeds: &[&[u8]]| Pubkey::find_program_address(seeds, &careledger::ID);
        assert_eq!(
            grant(&a, &b, Purpose::Research),
            id(&[
                GRANT_SEED,
                a.as_ref(),
                b.as_ref(),
                &Purpose::Research.seed()
            ])
        );
        assert_eq!(
            emergency_grant(&a, &b, 3),
            id(&[
                GRANT_SEED,
                a.as_ref(),
                b.as_ref(),
                &Purpose::Emergency.seed(),
                &3u32.to_le_bytes()
            ])
        );
        assert_eq!(
            record(&a, 7),
            id(&[RECORD_SEED, a.as_ref(), &7u32.to_le_bytes()])
        );
        assert_eq!(
            policy(&a, 9),
            id(&[POLICY_SEED, a.as_ref(), &9u64.to_le_bytes()])
        );
        assert_eq!(
            study(&a, 9),
            id(&[STUDY_SEED, a.as_ref(), &9u64.to_le_bytes()])
        );
        assert_eq!(vault(&a), id(&[VAULT_SEED, a.as_ref()]));
        assert_eq!(rule(&a, &[5; 32]), id(&[RULE_SEED, a.as_ref(), &[5; 32]]));
        assert_eq!(
            claim(&a, &b, &[5; 32], -86_400),
            id(&[
                CLAIM_SEED,
                a.as_ref(),
                b.as_ref(),
                &[5; 32],
                &(-86_400i64).to_le_bytes()
            ])
        );
        assert_eq!(request(&a, &b), id(&[REQUEST_SEED, a.as_ref(), b.as_ref()]));
        assert_eq!(
            participation(&a, &b),
            id(&[PARTICIPATION_SEED, a.as_ref(), b.as_ref()])
        );
        assert_eq!(
            network_membership(&a, &b),
            id(&[NETWORK_SEED, a.as_ref(), b.as_ref()])
        );
        assert_eq!(
            invitation(&a, &b),
            id(&[INVITATION_SEED, a.as_ref(), b.as_ref()])
        );
        assert_eq!(accepted_mint(&a), id(&[ACCEPTED_MINT_SEED, a.as_ref()]));
        assert_eq!(
            emergency_marker(&a, &b),
            id(&[EMERGENCY_SEED, a.as_ref(), b.as_ref()])
        );
        assert_eq!(config(), id(&careledger::state::Config::seeds(&[])).0);
    }

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
