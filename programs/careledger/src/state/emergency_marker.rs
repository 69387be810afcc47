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
