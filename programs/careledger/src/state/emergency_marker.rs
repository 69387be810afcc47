use anchor_lang::prelude::*;

/// One clinician's break-glass history with one patient. PDA `[EMERGENCY_SEED, patient_wallet,
/// clinician]`. Each emergency grant's address carries this pair's next serial, so no other
/// clinician can move it, and a new emergency opens only once the previous window is over.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct EmergencyMarker {
    pub patient: Pubkey,
    pub clinician: Pubkey,
    /// Emergencies this clinician opened for this patient: the latest grant's serial.
    pub opened: u32,
    /// When the latest one's window ends (a new one may open from then on).
    pub last_expires_at: i64,
    pub bump: u8,
}

/// The account's address seeds, written once: the program creates and signs with them (passing
/// `&[bump]` last), and the SDK derives the address with them (passing `&[]`, which adds nothing
/// to the hash, so `find_program_address` appends the bump itself). The `seeds = [...]`
/// constraints stay literal because the IDL (and Anchor's TypeScript client) reads them; every
/// transaction the tests send checks those constraints against addresses from these functions.
impl EmergencyMarker {
    pub fn seeds<'a>(patient: &'a Pubkey, clinician: &'a Pubkey, bump: &'a [u8]) -> [&'a [u8]; 4] {
        [
            crate::constants::EMERGENCY_SEED,
            patient.as_ref(),
            clinician.as_ref(),
            bump,
        ]
    }
}
