//! Per-study patient keys: a patient can take part in a study under a key that only they can
//! link to their main wallet (README, "What stays linkable").
//!
//! ```
//! use careledger_identity::privacy::study_key;
//! use solana_keypair::Keypair;
//! use solana_pubkey::Pubkey;
//! use solana_signer::Signer;
//!
//! let wallet = Keypair::new();
//! let (study_a, study_b) = (Pubkey::new_unique(), Pubkey::new_unique());
//! let a = study_key(&wallet, &study_a).unwrap();
//! // the same wallet always derives the same key for a study, and another for another study
//! assert_eq!(a.pubkey(), study_key(&wallet, &study_a).unwrap().pubkey());
//! assert_ne!(a.pubkey(), study_key(&wallet, &study_b).unwrap().pubkey());
//! assert_ne!(a.pubkey(), wallet.pubkey());
//! ```
use sha2::{Digest, Sha256};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::{Signer, SignerError};

/// Domain tag of the message a wallet signs to derive a study key (version 1).
const STUDY_KEY_TAG: &[u8] = b"careledger/study-key/v1";

/// The message `study_key` has the wallet sign: the tag and the study's address. A wallet shows
/// it as bytes; it is not a transaction and moves nothing.
pub fn study_key_message(study: &Pubkey) -> Vec<u8> {
    [STUDY_KEY_TAG, study.as_ref()].concat()
}

/// The patient's key for `study`: the seed is SHA-256 of the wallet's Ed25519 signature over
/// `study_key_message(study)`. Ed25519 signatures are deterministic (RFC 8032), so the wallet
/// derives the same key again whenever it needs it, and no one without the wallet's secret can
/// derive it or tell which wallet it belongs to. Any `Signer` works: a keypair file, a hardware
/// wallet, a remote signer.
pub fn study_key(wallet: &dyn Signer, study: &Pubkey) -> Result<Keypair, SignerError> {
    let signature = wallet.try_sign_message(&study_key_message(study))?;
    let seed: [u8; 32] = Sha256::digest(signature.as_ref()).into();
    Ok(Keypair::new_from_array(seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_per_wallet_and_per_study_and_stable() {
        let (w1, w2) = (Keypair::new(), Keypair::new());
        let study = Pubkey::new_unique();
        let k = study_key(&w1, &study).unwrap();
        assert_eq!(k.to_bytes(), study_key(&w1, &study).unwrap().to_bytes());
        assert_ne!(k.pubkey(), study_key(&w2, &study).unwrap().pubkey());
        assert_ne!(
            k.pubkey(),
            study_key(&w1, &Pubkey::new_unique()).unwrap().pubkey()
        );
        // the derived key signs like any wallet
        let msg = b"enrol";
        assert!(k.sign_message(msg).verify(k.pubkey().as_ref(), msg));
    }
}
