//! XChaCha20-Poly1305 in the STREAM construction (`aead::stream`, 32-bit big-endian chunk
//! counter and a last-chunk flag), behind concrete, non-generic functions.
//!
//! Why a crate of its own: the cipher's code is generic (over the rounds, the backend, the
//! buffer), and generic code is compiled in the crate that names the concrete types. Named
//! here, it is compiled here, once, and the workspace's dev profile optimises this small crate
//! (and the cipher crates) without optimising the whole SDK: a debug `patient put` of 100 MiB
//! takes seconds instead of a minute (docs/PERFORMANCE.md). The record format itself (header,
//! associated data, key commitment) stays in `careledger_records::envelope`.
use chacha20poly1305::aead::stream::{EncryptorBE32, NewStream, StreamBE32, StreamPrimitive};
use chacha20poly1305::aead::KeyInit;
use chacha20poly1305::{Key, XChaCha20Poly1305};

pub use chacha20poly1305::aead::Error;

/// Bytes of the nonce prefix: the 24-byte XChaCha nonce less the 4-byte counter and the
/// 1-byte last-chunk flag.
pub const NONCE_PREFIX_LEN: usize = 19;

fn cipher(key: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(Key::from_slice(key))
}

/// Seals chunks in order: each call seals the next one in place (its tag appended).
pub struct Encryptor(EncryptorBE32<XChaCha20Poly1305>);

impl Encryptor {
    pub fn new(key: &[u8; 32], nonce_prefix: &[u8; NONCE_PREFIX_LEN]) -> Encryptor {
        Encryptor(EncryptorBE32::from_aead(cipher(key), nonce_prefix.into()))
    }

    /// Seals `buffer` as the next, non-final chunk. Fails past 2^32 - 1 chunks.
    pub fn encrypt_next_in_place(&mut self, aad: &[u8], buffer: &mut Vec<u8>) -> Result<(), Error> {
        self.0.encrypt_next_in_place(aad, buffer)
    }

    /// Seals `buffer` as the final chunk.
    pub fn encrypt_last_in_place(self, aad: &[u8], buffer: &mut Vec<u8>) -> Result<(), Error> {
        self.0.encrypt_last_in_place(aad, buffer)
    }
}

/// Opens chunks by position.
pub struct Decryptor(StreamBE32<XChaCha20Poly1305>);

impl Decryptor {
    pub fn new(key: &[u8; 32], nonce_prefix: &[u8; NONCE_PREFIX_LEN]) -> Decryptor {
        Decryptor(StreamBE32::from_aead(cipher(key), nonce_prefix.into()))
    }

    /// Authenticates and decrypts chunk `position` (the final one if `last`) in place.
    pub fn decrypt_in_place(
        &self,
        position: u32,
        last: bool,
        aad: &[u8],
        buffer: &mut Vec<u8>,
    ) -> Result<(), Error> {
        self.0.decrypt_in_place(position, last, aad, buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What this crate seals is what `aead::stream` opens, chunk by chunk, and a chunk opened
    /// at another position, as the last one, or with other associated data fails.
    #[test]
    fn chunks_open_only_in_place() {
        let key = [7u8; 32];
        let prefix = [9u8; NONCE_PREFIX_LEN];
        let mut sealer = Encryptor::new(&key, &prefix);
        let mut first = b"first chunk".to_vec();
        let mut last = b"last chunk".to_vec();
        sealer.encrypt_next_in_place(b"ad", &mut first).unwrap();
        sealer.encrypt_last_in_place(b"ad", &mut last).unwrap();
        let opener = Decryptor::new(&key, &prefix);
        let mut copy = first.clone();
        assert!(opener.decrypt_in_place(1, false, b"ad", &mut copy).is_err());
        let mut copy = first.clone();
        assert!(opener.decrypt_in_place(0, true, b"ad", &mut copy).is_err());
        let mut copy = first.clone();
        assert!(opener.decrypt_in_place(0, false, b"da", &mut copy).is_err());
        opener
            .decrypt_in_place(0, false, b"ad", &mut first)
            .unwrap();
        opener.decrypt_in_place(1, true, b"ad", &mut last).unwrap();
        assert_eq!(
            (first.as_slice(), last.as_slice()),
            (&b"first chunk"[..], &b"last chunk"[..])
        );
    }
}
