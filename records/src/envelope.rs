//! Envelope encryption of health records, off chain.
//!
//! A record's bytes are encrypted under a random 32-byte [`DataKey`] before they reach the
//! content store; the SHA-256 and CID anchored on chain are those of the ciphertext. The data
//! key travels wrapped with HPKE ([`wrap_key`], [`unwrap_key`]) to whoever may read the record:
//! to the gateway's custody key under [`custody_info`], and to a grantee under
//! [`release_info`].
//!
//! # Ciphertext format, version 1
//!
//! The payload is encrypted with the STREAM construction (Hoang, Reyhanitabar, Rogaway and
//! Vizár, "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance") over
//! XChaCha20-Poly1305 with a 32-bit big-endian chunk counter (`aead::stream::StreamBE32`).
//!
//! | offset | length | field                                                            |
//! |-------:|-------:|------------------------------------------------------------------|
//! | 0      | 8      | magic [`MAGIC`] = `89 43 4C 52 45 43 0D 0A` (`\x89CLREC\r\n`)     |
//! | 8      | 1      | format version [`FORMAT_VERSION`] = `01`                         |
//! | 9      | 4      | plaintext chunk size, u32 little-endian ([`CHUNK_SIZE`] = 65,536) |
//! | 13     | 19     | STREAM nonce prefix, random per ciphertext                        |
//! | 32     | 32     | key commitment: SHA-256(`careledger/key-commitment/v1` ‖ data key ‖ bytes 0..32) |
//! | 64     | ...    | chunks                                                           |
//!
//! The [`HEADER_LEN`] = 64 header is followed by one or more chunks. Every chunk but the last
//! holds exactly `chunk size` plaintext bytes and is `chunk size + 16` bytes of ciphertext
//! (XChaCha20 output followed by the 16-byte Poly1305 tag). The last chunk holds the remaining
//! 1..=`chunk size` bytes; it is empty only when the whole plaintext is, so an empty record is
//! the header and one 16-byte tag. Chunk `i` (counting from 0) is sealed with the 24-byte nonce
//! `prefix || i as u32 big-endian || last`, where `last` is 1 for the final chunk and 0
//! otherwise, so chunks cannot be reordered, duplicated, dropped or cut off at a chunk boundary
//! without detection.
//!
//! The associated data of every chunk is [`RecordIdentity::associated_data`] followed by the 64
//! header bytes: a ciphertext moved to another record (another program, patient, index, version
//! or class), or with a changed header, fails to decrypt. The ciphertext length is
//! [`ciphertext_len`]: `64 + n + 16 * max(1, ceil(n / chunk size))`.
//!
//! A reader accepts chunk sizes 1..=[`MAX_CHUNK_SIZE`] (1 MiB), so its memory stays bounded
//! whatever the header says; [`encrypt`] always writes [`CHUNK_SIZE`].
//!
//! ChaCha20-Poly1305 alone does not commit to its key: whoever holds two data keys could craft
//! one ciphertext that opens under both, to two plaintexts. The header's key commitment closes
//! that: a reader checks it before the first chunk, so a ciphertext (and so its anchored SHA-256
//! and CID) opens under one data key only, and a wrong key is named as such at once.
//!
//! # Key wrapping
//!
//! [`wrap_key`] is HPKE (RFC 9180) in base mode with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256
//! and ChaCha20-Poly1305, empty AAD: the output is the 32-byte encapsulated key followed by the
//! sealed data key (32 bytes and a 16-byte tag), [`WRAPPED_KEY_LEN`] = 80 bytes. The HPKE
//! `info` names what the key is released for, so a key wrapped for one grant does not unwrap as
//! another.
//!
//! # Randomness
//!
//! Keys, nonces and HPKE ephemeral keys come from the operating system (`getrandom`). As with
//! `OsRng`, the functions that draw them panic if the operating system cannot provide
//! randomness; they have no other panics.
//!
//! ```
//! use careledger_records::envelope::{self, DataKey, RecordIdentity};
//! use solana_pubkey::Pubkey;
//!
//! let identity = RecordIdentity::new(Pubkey::new_unique(), 0, 1, 2);
//! let key = DataKey::generate();
//! let mut ciphertext = Vec::new();
//! let sealed = envelope::encrypt(&identity, &key, &b"blood panel"[..], |bytes| {
//!     ciphertext.extend_from_slice(bytes);
//!     Ok(())
//! })
//! .unwrap();
//! assert_eq!(sealed.ciphertext_len, envelope::ciphertext_len(11));
//!
//! let mut plaintext = Vec::new();
//! envelope::decrypt(&identity, &key, &ciphertext[..], |bytes| {
//!     plaintext.extend_from_slice(bytes);
//!     Ok(())
//! })
//! .unwrap();
//! assert_eq!(plaintext, b"blood panel");
//! ```
use std::fmt;
use std::io::{ErrorKind, Read};

use careledger_stream_cipher as stream;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use rand_core::{OsRng, RngCore};
use solana_pubkey::Pubkey;
use zeroize::{Zeroize, Zeroizing};

use crate::RecordsError;

/// First 8 bytes of every record ciphertext: a non-ASCII byte, "CLREC", CR LF (a transfer that
/// rewrites line endings or strips the high bit shows up as a bad magic).
pub const MAGIC: [u8; 8] = *b"\x89CLREC\r\n";
/// The only format version this SDK writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Plaintext bytes per chunk written by [`encrypt`] and [`Encryptor`] (64 KiB).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Largest chunk size a reader accepts from a header (1 MiB).
pub const MAX_CHUNK_SIZE: usize = 1024 * 1024;
/// Poly1305 tag bytes added to every chunk.
pub const TAG_LEN: usize = 16;
/// Random STREAM nonce prefix bytes: XChaCha20's 24-byte nonce minus the 4-byte counter and
/// the 1-byte last-chunk flag.
pub const NONCE_PREFIX_LEN: usize = 19;
/// Bytes of the header's key commitment.
pub const COMMITMENT_LEN: usize = 32;
/// Header bytes: magic, version, chunk size, nonce prefix, key commitment.
pub const HEADER_LEN: usize = SIZED_PREFIX_LEN + NONCE_PREFIX_LEN + COMMITMENT_LEN;
/// Where the key commitment starts (what it commits to comes before).
const COMMITTED_LEN: usize = HEADER_LEN - COMMITMENT_LEN;
const COMMITMENT_TAG: &[u8] = b"careledger/key-commitment/v1";
/// Bytes of a wrapped data key: HPKE encapsulated key (32) and sealed data key (32 + 16).
pub const WRAPPED_KEY_LEN: usize = 32 + DATA_KEY_LEN + TAG_LEN;
/// Longest HPKE `info` accepted by [`wrap_key`] and [`unwrap_key`].
pub const MAX_INFO_LEN: usize = 4096;

const DATA_KEY_LEN: usize = 32;
const RECORD_AD_TAG: &[u8] = b"careledger/record-ciphertext/v1";
const RELEASE_INFO_TAG: &[u8] = b"careledger/release/v1";
const CUSTODY_INFO_TAG: &[u8] = b"careledger/custody/v1";

type HpkeKem = hpke::kem::X25519HkdfSha256;
type HpkeKdf = hpke::kdf::HkdfSha256;
type HpkeAead = hpke::aead::ChaCha20Poly1305;

/// Where ciphertext or plaintext bytes go, in order.
type Sink<'a> = dyn FnMut(&[u8]) -> Result<(), RecordsError> + 'a;

/// The record a ciphertext belongs to. Every chunk authenticates it, so a ciphertext only
/// decrypts for the record it was written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordIdentity {
    /// The careledger program the record is anchored with.
    pub program: Pubkey,
    /// The patient's wallet.
    pub patient: Pubkey,
    /// The anchor's index in the patient's sequence (the record PDA's seed).
    pub index: u32,
    /// The record version (1 for a first version).
    pub version: u32,
    /// The record class id.
    pub class: u8,
}

impl RecordIdentity {
    /// A record of the careledger program (`careledger::ID`).
    pub fn new(patient: Pubkey, index: u32, version: u32, class: u8) -> Self {
        RecordIdentity {
            program: careledger::ID,
            patient,
            index,
            version,
            class,
        }
    }

    /// `b"careledger/record-ciphertext/v1"` || program (32) || patient (32) || index (u32 LE)
    /// || version (u32 LE) || class (1): 104 bytes, every field at a fixed offset.
    pub fn associated_data(&self) -> Vec<u8> {
        let mut ad = Vec::with_capacity(RECORD_AD_TAG.len() + 32 + 32 + 4 + 4 + 1);
        ad.extend_from_slice(RECORD_AD_TAG);
        ad.extend_from_slice(self.program.as_ref());
        ad.extend_from_slice(self.patient.as_ref());
        ad.extend_from_slice(&self.index.to_le_bytes());
        ad.extend_from_slice(&self.version.to_le_bytes());
        ad.push(self.class);
        ad
    }
}

/// A record's 32-byte symmetric key. Zeroed on drop; `Debug` does not show it.
#[derive(Clone)]
pub struct DataKey([u8; DATA_KEY_LEN]);

impl DataKey {
    /// A fresh random key from the operating system.
    pub fn generate() -> Self {
        let mut key = DataKey([0; DATA_KEY_LEN]);
        OsRng.fill_bytes(&mut key.0);
        key
    }

    /// A key from its bytes (e.g. read back from an encrypted key store).
    pub fn from_bytes(bytes: [u8; DATA_KEY_LEN]) -> Self {
        DataKey(bytes)
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

// the stream cipher's nonce prefix is the header's
const _: () = assert!(NONCE_PREFIX_LEN == stream::NONCE_PREFIX_LEN);

impl Drop for DataKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// What [`encrypt`] or [`Encryptor::finish`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Plaintext bytes read.
    pub plaintext_len: u64,
    /// Ciphertext bytes given to `out` (always `ciphertext_len(plaintext_len)`).
    pub ciphertext_len: u64,
}

/// Ciphertext bytes for `plaintext_len` plaintext bytes written with [`CHUNK_SIZE`]:
/// `HEADER_LEN + plaintext_len + TAG_LEN * max(1, ceil(plaintext_len / CHUNK_SIZE))`.
/// Saturates at `u64::MAX` (far beyond what STREAM's 2^32 chunks can hold).
pub fn ciphertext_len(plaintext_len: u64) -> u64 {
    let chunks = plaintext_len.div_ceil(CHUNK_SIZE as u64).max(1);
    (HEADER_LEN as u64)
        .saturating_add(plaintext_len)
        .saturating_add(chunks.saturating_mul(TAG_LEN as u64))
}

/// Encrypts everything `plaintext` yields for `identity` under `key`, streaming: every
/// ciphertext byte (header, then chunks) goes to `out` exactly once and in order, in pieces of
/// at most `CHUNK_SIZE + TAG_LEN` bytes. Memory use is a few chunks whatever the input size;
/// short reads are fine (a chunk is sealed only once full or at end of input).
///
/// Errors: `RecordsError::Io` from `plaintext`, whatever `out` returns, and `InvalidInput` past
/// STREAM's 2^32 chunks (256 TiB). On an error, discard what `out` received.
pub fn encrypt(
    identity: &RecordIdentity,
    key: &DataKey,
    mut plaintext: impl Read,
    mut out: impl FnMut(&[u8]) -> Result<(), RecordsError>,
) -> Result<Sealed, RecordsError> {
    let mut encryptor = Encryptor::new(identity, key);
    let mut buf = Zeroizing::new(vec![0u8; CHUNK_SIZE]);
    loop {
        match read_some(&mut plaintext, &mut buf)? {
            0 => return encryptor.finish(&mut out),
            n => encryptor.update(&buf[..n], &mut out)?,
        }
    }
}

/// Decrypts a record ciphertext for `identity` with `key`, streaming, and returns the number of
/// plaintext bytes. Only authenticated chunks reach `out`, in order; a chunk is released once
/// the first byte after it has been read, and the final chunk at end of input.
///
/// An `Ok` is the only proof that the plaintext is complete: until then `out` may have received
/// a prefix of it (a truncated or altered ciphertext is detected at the chunk where it
/// happens). Write the plaintext to a temporary file and keep it only when this returns `Ok`;
/// on an error, delete it.
///
/// Errors: `RecordsError::Decrypt` for anything wrong with the ciphertext, key or identity (one
/// message per cause), `RecordsError::Io` from `ciphertext`, and whatever `out` returns.
pub fn decrypt(
    identity: &RecordIdentity,
    key: &DataKey,
    mut ciphertext: impl Read,
    mut out: impl FnMut(&[u8]) -> Result<(), RecordsError>,
) -> Result<u64, RecordsError> {
    let mut decryptor = Decryptor::new(identity, key);
    let mut buf = vec![0u8; CHUNK_SIZE + TAG_LEN];
    loop {
        match read_some(&mut ciphertext, &mut buf)? {
            0 => return decryptor.finish(&mut out),
            n => decryptor.update(&buf[..n], &mut out)?,
        }
    }
}

/// One `read`, retried when interrupted.
fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize, RecordsError> {
    loop {
        match reader.read(buf) {
            Err(err) if err.kind() == ErrorKind::Interrupted => continue,
            result => return Ok(result?),
        }
    }
}

/// Push-style encryption: feed plaintext with [`Encryptor::update`] in pieces of any size,
/// then call [`Encryptor::finish`]. Produces exactly what [`encrypt`] does. After an error
/// (from `out` or the chunk limit) every later call fails.
pub struct Encryptor {
    stream: stream::Encryptor,
    header: [u8; HEADER_LEN],
    /// Record identity AD || header: the associated data of every chunk.
    aad: Vec<u8>,
    chunk_size: usize,
    /// Plaintext of the chunk being filled, sealed in place (capacity for its tag, so it never
    /// reallocates and leaves plaintext behind).
    pending: Zeroizing<Vec<u8>>,
    header_sent: bool,
    failed: bool,
    plaintext_len: u64,
    ciphertext_len: u64,
}

impl Encryptor {
    /// An encryptor for `identity` under `key`, with a fresh random nonce prefix.
    pub fn new(identity: &RecordIdentity, key: &DataKey) -> Self {
        Self::with_chunk_size(identity, key, CHUNK_SIZE)
    }

    /// `chunk_size` must be 1..=MAX_CHUNK_SIZE (only tests use another size than CHUNK_SIZE).
    fn with_chunk_size(identity: &RecordIdentity, key: &DataKey, chunk_size: usize) -> Self {
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        OsRng.fill_bytes(&mut nonce_prefix);
        let header = encode_header(chunk_size, &nonce_prefix, key);
        let stream = stream::Encryptor::new(key.as_bytes(), &nonce_prefix);
        Encryptor {
            stream,
            header,
            aad: chunk_aad(identity, &header),
            chunk_size,
            pending: Zeroizing::new(Vec::with_capacity(chunk_size + TAG_LEN)),
            header_sent: false,
            failed: false,
            plaintext_len: 0,
            ciphertext_len: 0,
        }
    }

    /// Adds plaintext; gives `out` the header (on the first call) and every chunk that is now
    /// complete. The chunk being filled is kept until more plaintext or `finish` shows whether
    /// it is the last.
    pub fn update(
        &mut self,
        plaintext: &[u8],
        mut out: impl FnMut(&[u8]) -> Result<(), RecordsError>,
    ) -> Result<(), RecordsError> {
        if self.failed {
            return Err(encryptor_failed());
        }
        self.failed = true;
        self.push(plaintext, &mut out)?;
        self.failed = false;
        Ok(())
    }

    /// Seals the last chunk (possibly empty) and gives it to `out`, after the header if no
    /// `update` sent it yet.
    pub fn finish(
        mut self,
        mut out: impl FnMut(&[u8]) -> Result<(), RecordsError>,
    ) -> Result<Sealed, RecordsError> {
        if self.failed {
            return Err(encryptor_failed());
        }
        self.send_header(&mut out)?;
        let Encryptor {
            stream,
            aad,
            mut pending,
            plaintext_len,
            ciphertext_len,
            ..
        } = self;
        stream
            .encrypt_last_in_place(&aad, &mut pending)
            .map_err(|_| too_many_chunks())?;
        out(&pending)?;
        Ok(Sealed {
            plaintext_len,
            ciphertext_len: ciphertext_len + pending.len() as u64,
        })
    }

    fn push(&mut self, mut plaintext: &[u8], out: &mut Sink<'_>) -> Result<(), RecordsError> {
        self.send_header(out)?;
        while !plaintext.is_empty() {
            if self.pending.len() == self.chunk_size {
                self.seal_next(out)?;
            }
            let take = (self.chunk_size - self.pending.len()).min(plaintext.len());
            self.pending.extend_from_slice(&plaintext[..take]);
            self.plaintext_len += take as u64;
            plaintext = &plaintext[take..];
        }
        Ok(())
    }

    fn send_header(&mut self, out: &mut Sink<'_>) -> Result<(), RecordsError> {
        if !self.header_sent {
            out(&self.header)?;
            self.header_sent = true;
            self.ciphertext_len += HEADER_LEN as u64;
        }
        Ok(())
    }

    /// Seals the full pending chunk as a non-final chunk and sends it.
    fn seal_next(&mut self, out: &mut Sink<'_>) -> Result<(), RecordsError> {
        self.stream
            .encrypt_next_in_place(&self.aad, &mut self.pending)
            .map_err(|_| too_many_chunks())?;
        out(&self.pending)?;
        self.ciphertext_len += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }
}

fn encryptor_failed() -> RecordsError {
    RecordsError::InvalidInput("the encryptor already failed; start a new ciphertext".into())
}

fn too_many_chunks() -> RecordsError {
    RecordsError::InvalidInput("the plaintext exceeds STREAM's limit of 2^32 chunks".into())
}

/// Push-style decryption, e.g. of an HTTP body as it arrives: feed ciphertext with
/// [`Decryptor::update`] in pieces of any size (the header may be split too), then call
/// [`Decryptor::finish`], whose `Ok` alone proves the plaintext complete (see [`decrypt`]).
/// Only authenticated chunks reach `out`. After an error every later call fails. Chunk numbers
/// in error messages count from 0.
pub struct Decryptor {
    identity_ad: Vec<u8>,
    state: DecryptState,
}

enum DecryptState {
    /// Collecting the header's bytes.
    Header {
        /// For the stream, and the header's key commitment.
        key: DataKey,
        bytes: Vec<u8>,
    },
    Body(Body),
    Failed,
}

/// Decryption past the header.
struct Body {
    stream: stream::Decryptor,
    /// Record identity AD || header.
    aad: Vec<u8>,
    /// Ciphertext bytes of a full chunk: chunk size + tag.
    frame_len: usize,
    /// Index of the chunk in `pending`.
    chunk: u32,
    /// Ciphertext of chunk `chunk` (at most `frame_len` bytes), opened in place.
    pending: Zeroizing<Vec<u8>>,
    plaintext_len: u64,
}

impl Decryptor {
    /// A decryptor for a ciphertext of `identity` under `key`.
    pub fn new(identity: &RecordIdentity, key: &DataKey) -> Self {
        Decryptor {
            identity_ad: identity.associated_data(),
            state: DecryptState::Header {
                key: key.clone(),
                bytes: Vec::with_capacity(HEADER_LEN),
            },
        }
    }

    /// Adds ciphertext; gives `out` the plaintext of every chunk now known to be authentic and
    /// not the last. A bad magic or version is reported as soon as its bytes arrive.
    pub fn update(
        &mut self,
        ciphertext: &[u8],
        mut out: impl FnMut(&[u8]) -> Result<(), RecordsError>,
    ) -> Result<(), RecordsError> {
        let state = std::mem::replace(&mut self.state, DecryptState::Failed);
        self.state = self.advance(state, ciphertext, &mut out)?;
        Ok(())
    }

    /// Opens the final chunk, gives its plaintext to `out`, and returns the plaintext length.
    pub fn finish(
        self,
        mut out: impl FnMut(&[u8]) -> Result<(), RecordsError>,
    ) -> Result<u64, RecordsError> {
        match self.state {
            DecryptState::Header { bytes, .. } if bytes.is_empty() => {
                Err(decrypt_error("the ciphertext is empty"))
            }
            DecryptState::Header { bytes, .. } => Err(decrypt_error(format!(
                "the ciphertext was truncated inside its header ({} of {HEADER_LEN} bytes)",
                bytes.len()
            ))),
            DecryptState::Body(body) => body.finish(&mut out),
            DecryptState::Failed => Err(decryptor_failed()),
        }
    }

    fn advance(
        &self,
        state: DecryptState,
        ciphertext: &[u8],
        out: &mut Sink<'_>,
    ) -> Result<DecryptState, RecordsError> {
        match state {
            DecryptState::Header { key, mut bytes } => {
                let take = (HEADER_LEN - bytes.len()).min(ciphertext.len());
                bytes.extend_from_slice(&ciphertext[..take]);
                check_header_prefix(&bytes)?;
                let Ok(header) = <&[u8; HEADER_LEN]>::try_from(bytes.as_slice()) else {
                    return Ok(DecryptState::Header { key, bytes });
                };
                let mut body = Body::new(&key, &self.identity_ad, header)?;
                if header[COMMITTED_LEN..] != key_commitment(&key, header) {
                    return Err(decrypt_error(
                        "the data key does not open this ciphertext (its key commitment differs): the wrong key, or an altered header",
                    ));
                }
                body.push(&ciphertext[take..], out)?;
                Ok(DecryptState::Body(body))
            }
            DecryptState::Body(mut body) => {
                body.push(ciphertext, out)?;
                Ok(DecryptState::Body(body))
            }
            DecryptState::Failed => Err(decryptor_failed()),
        }
    }
}

impl Body {
    fn new(
        key: &DataKey,
        identity_ad: &[u8],
        header: &[u8; HEADER_LEN],
    ) -> Result<Self, RecordsError> {
        let (chunk_size, nonce_prefix) = parse_header(header)?;
        Ok(Body {
            stream: stream::Decryptor::new(key.as_bytes(), &nonce_prefix),
            aad: [identity_ad, header.as_slice()].concat(),
            frame_len: chunk_size + TAG_LEN,
            chunk: 0,
            pending: Zeroizing::new(Vec::with_capacity(chunk_size + TAG_LEN)),
            plaintext_len: 0,
        })
    }

    /// Buffers ciphertext; a full chunk followed by more bytes is not the last one, so it is
    /// opened as a non-final chunk.
    fn push(&mut self, mut ciphertext: &[u8], out: &mut Sink<'_>) -> Result<(), RecordsError> {
        while !ciphertext.is_empty() {
            if self.pending.len() == self.frame_len {
                self.open_next(out)?;
            }
            let take = (self.frame_len - self.pending.len()).min(ciphertext.len());
            self.pending.extend_from_slice(&ciphertext[..take]);
            ciphertext = &ciphertext[take..];
        }
        Ok(())
    }

    fn open_next(&mut self, out: &mut Sink<'_>) -> Result<(), RecordsError> {
        // StreamBE32 keeps the maximum counter for a final chunk.
        if self.chunk == u32::MAX {
            return Err(decrypt_error("more than 2^32 chunks"));
        }
        if self.open(false).is_err() {
            return Err(self.next_failure());
        }
        out(&self.pending)?;
        self.plaintext_len += self.pending.len() as u64;
        self.pending.clear();
        self.chunk += 1;
        Ok(())
    }

    fn finish(mut self, out: &mut Sink<'_>) -> Result<u64, RecordsError> {
        if self.pending.len() < TAG_LEN {
            return Err(self.short_final());
        }
        if self.open(true).is_err() {
            return Err(self.final_failure());
        }
        if self.pending.is_empty() && self.chunk > 0 {
            return Err(decrypt_error(format!(
                "chunk {} is an empty final chunk after data: not a canonical careledger \
                 ciphertext",
                self.chunk
            )));
        }
        out(&self.pending)?;
        Ok(self.plaintext_len + self.pending.len() as u64)
    }

    /// Authenticates and decrypts `pending` in place as chunk `chunk`.
    fn open(&mut self, last: bool) -> Result<(), stream::Error> {
        self.stream
            .decrypt_in_place(self.chunk, last, &self.aad, &mut self.pending)
    }

    /// Why a full chunk failed as a non-final chunk: it may be the final one with bytes after
    /// it. (This check only picks the message; nothing it opens is given out.)
    fn next_failure(&mut self) -> RecordsError {
        if self.open(true).is_ok() {
            return decrypt_error(format!(
                "unexpected bytes after the final chunk (chunk {})",
                self.chunk
            ));
        }
        chunk_failure(self.chunk)
    }

    /// Why the final chunk failed: it may be a full non-final chunk, i.e. the stream was cut
    /// at a chunk boundary. (Only picks the message; nothing it opens is given out.)
    fn final_failure(&mut self) -> RecordsError {
        if self.pending.len() == self.frame_len && self.open(false).is_ok() {
            return decrypt_error(format!(
                "the ciphertext was truncated: it ends after chunk {}, before the final chunk",
                self.chunk
            ));
        }
        decrypt_error(format!(
            "the final chunk (chunk {}) failed authentication: truncated or altered, or the \
             wrong key/record",
            self.chunk
        ))
    }

    fn short_final(&self) -> RecordsError {
        if self.pending.is_empty() && self.chunk == 0 {
            return decrypt_error("the ciphertext was truncated: it ends right after the header");
        }
        decrypt_error(format!(
            "the ciphertext was truncated inside chunk {} ({} bytes, shorter than a tag)",
            self.chunk,
            self.pending.len()
        ))
    }
}

fn chunk_failure(chunk: u32) -> RecordsError {
    decrypt_error(format!(
        "chunk {chunk} failed authentication: altered, reordered, or the wrong key/record"
    ))
}

fn decryptor_failed() -> RecordsError {
    decrypt_error("the decryptor already failed; discard what it gave out")
}

fn decrypt_error(message: impl Into<String>) -> RecordsError {
    RecordsError::Decrypt(message.into())
}

/// Identity AD || header: the associated data of every chunk.
fn chunk_aad(identity: &RecordIdentity, header: &[u8; HEADER_LEN]) -> Vec<u8> {
    [identity.associated_data().as_slice(), header.as_slice()].concat()
}

fn encode_header(
    chunk_size: usize,
    nonce_prefix: &[u8; NONCE_PREFIX_LEN],
    key: &DataKey,
) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(&MAGIC);
    header[8] = FORMAT_VERSION;
    // chunk sizes are at most MAX_CHUNK_SIZE (1 MiB), well inside u32
    header[MAGIC.len() + 1..SIZED_PREFIX_LEN].copy_from_slice(&(chunk_size as u32).to_le_bytes());
    header[SIZED_PREFIX_LEN..COMMITTED_LEN].copy_from_slice(nonce_prefix);
    let commitment = key_commitment(key, &header);
    header[COMMITTED_LEN..].copy_from_slice(&commitment);
    header
}

/// SHA-256 of the tag, the data key and the header's first bytes: binds the ciphertext to one
/// key (SHA-256 being collision resistant), which the AEAD alone does not.
fn key_commitment(key: &DataKey, header: &[u8; HEADER_LEN]) -> [u8; COMMITMENT_LEN] {
    use sha2::Digest;
    let mut sha = sha2::Sha256::new();
    sha.update(COMMITMENT_TAG);
    sha.update(key.as_bytes());
    sha.update(&header[..COMMITTED_LEN]);
    sha.finalize().into()
}

/// Checks the magic and version on the bytes of a header received so far.
fn check_header_prefix(bytes: &[u8]) -> Result<(), RecordsError> {
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(decrypt_error("not a careledger ciphertext (bad magic)"));
    }
    match bytes.get(MAGIC.len()) {
        Some(&version) if version != FORMAT_VERSION => Err(decrypt_error(format!(
            "unsupported format version {version} (this SDK reads version {FORMAT_VERSION})"
        ))),
        _ => Ok(()),
    }
}

/// Bytes of a header up to and with its chunk size: the magic, the version, the chunk size.
pub const SIZED_PREFIX_LEN: usize = MAGIC.len() + 1 + 4;

/// The chunk size a ciphertext's header declares, once `prefix` holds its first
/// [`SIZED_PREFIX_LEN`] bytes (`None` before). It reads the field alone: the magic, the version
/// and the size's range are [`Decryptor`]'s to check.
pub fn declared_chunk_size(prefix: &[u8]) -> Option<u32> {
    let field = prefix.get(MAGIC.len() + 1..SIZED_PREFIX_LEN)?;
    Some(u32::from_le_bytes(field.try_into().ok()?))
}

/// The chunk size and nonce prefix of a header whose magic and version were checked.
fn parse_header(
    header: &[u8; HEADER_LEN],
) -> Result<(usize, [u8; NONCE_PREFIX_LEN]), RecordsError> {
    let size = declared_chunk_size(header).unwrap_or_default();
    let chunk_size = usize::try_from(size)
        .ok()
        .filter(|size| (1..=MAX_CHUNK_SIZE).contains(size))
        .ok_or_else(|| {
            decrypt_error(format!(
                "unsupported chunk size {size} (a reader accepts 1..={MAX_CHUNK_SIZE})"
            ))
        })?;
    let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
    nonce_prefix.copy_from_slice(&header[SIZED_PREFIX_LEN..COMMITTED_LEN]);
    Ok((chunk_size, nonce_prefix))
}

/// An X25519 key-agreement secret (a gateway's custody key, a grantee's release key). Zeroed
/// on drop; `Debug` does not show it.
#[derive(Clone)]
pub struct KeyAgreementSecret([u8; 32]);

impl KeyAgreementSecret {
    /// A fresh random secret from the operating system.
    pub fn generate() -> Self {
        let mut secret = KeyAgreementSecret([0; 32]);
        OsRng.fill_bytes(&mut secret.0);
        secret
    }

    /// A secret from its 32 bytes (clamped as X25519 requires when used).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        KeyAgreementSecret(bytes)
    }

    /// The secret's bytes, as given or generated (unclamped).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The X25519 public key to wrap data keys to.
    pub fn public(&self) -> [u8; 32] {
        let public = <HpkeKem as Kem>::sk_to_pk(&self.hpke_private());
        public.to_bytes().into()
    }

    fn hpke_private(&self) -> <HpkeKem as Kem>::PrivateKey {
        // hpke checks only the length, which the array type fixes.
        <HpkeKem as Kem>::PrivateKey::from_bytes(&self.0)
            .expect("a 32-byte X25519 secret always deserializes")
    }
}

impl Drop for KeyAgreementSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for KeyAgreementSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyAgreementSecret(<redacted>)")
    }
}

/// HPKE `info` for releasing a record's data key to a grantee under a grant:
/// `b"careledger/release/v1"` || program || record || grant.
pub fn release_info(program: &Pubkey, record: &Pubkey, grant: &Pubkey) -> Vec<u8> {
    [
        RELEASE_INFO_TAG,
        program.as_ref(),
        record.as_ref(),
        grant.as_ref(),
    ]
    .concat()
}

/// HPKE `info` for the author wrapping a record's data key to the gateway's custody key:
/// `b"careledger/custody/v1"` || program || record.
pub fn custody_info(program: &Pubkey, record: &Pubkey) -> Vec<u8> {
    [CUSTODY_INFO_TAG, program.as_ref(), record.as_ref()].concat()
}

/// Wraps `key` to the X25519 public key `recipient` with HPKE base mode bound to `info`:
/// encapsulated key (32) || sealed key (48), [`WRAPPED_KEY_LEN`] bytes.
///
/// Errors: `InvalidInput` for an all-zero or other low-order recipient key (its shared secret
/// would be zero, so anyone could unwrap) and for an `info` longer than [`MAX_INFO_LEN`].
pub fn wrap_key(recipient: &[u8; 32], info: &[u8], key: &DataKey) -> Result<Vec<u8>, RecordsError> {
    check_info(info)?;
    if recipient.iter().all(|&b| b == 0) {
        return Err(RecordsError::InvalidInput(
            "the recipient's key-agreement public key is all zeros".into(),
        ));
    }
    let recipient = <HpkeKem as Kem>::PublicKey::from_bytes(recipient)
        .map_err(|err| RecordsError::InvalidInput(format!("recipient public key: {err}")))?;
    let (encapped, sealed) = hpke::single_shot_seal::<HpkeAead, HpkeKdf, HpkeKem>(
        &OpModeS::Base,
        &recipient,
        info,
        key.as_bytes(),
        &[],
    )
    .map_err(|err| match err {
        hpke::HpkeError::EncapError => RecordsError::InvalidInput(
            "the recipient's key-agreement public key is a low-order X25519 point (the shared \
             secret would be zero)"
                .into(),
        ),
        other => RecordsError::InvalidInput(format!("wrapping the data key failed: {other}")),
    })?;
    Ok([encapped.to_bytes().as_slice(), &sealed].concat())
}

/// Unwraps a data key wrapped by [`wrap_key`] to `secret`'s public key under the same `info`.
///
/// Errors: `Decrypt` for a wrapped key of the wrong length, a low-order encapsulated key, and
/// for one that fails authentication. The last covers both a wrong secret and a wrong `info`
/// (e.g. released for another grant): HPKE cannot tell them apart. `InvalidInput` for an `info`
/// longer than [`MAX_INFO_LEN`].
pub fn unwrap_key(
    secret: &KeyAgreementSecret,
    info: &[u8],
    wrapped: &[u8],
) -> Result<DataKey, RecordsError> {
    check_info(info)?;
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(decrypt_error(format!(
            "a wrapped key is {WRAPPED_KEY_LEN} bytes, got {}",
            wrapped.len()
        )));
    }
    let (encapped, sealed) = wrapped.split_at(32);
    let encapped = <HpkeKem as Kem>::EncappedKey::from_bytes(encapped)
        .map_err(|err| decrypt_error(format!("the wrapped key's encapsulated key: {err}")))?;
    let opened = hpke::single_shot_open::<HpkeAead, HpkeKdf, HpkeKem>(
        &OpModeR::Base,
        &secret.hpke_private(),
        &encapped,
        info,
        sealed,
        &[],
    )
    .map_err(unwrap_error)?;
    let opened = Zeroizing::new(opened);
    let mut key = DataKey([0; DATA_KEY_LEN]);
    if opened.len() != DATA_KEY_LEN {
        return Err(decrypt_error("the unwrapped data key is not 32 bytes"));
    }
    key.0.copy_from_slice(&opened);
    Ok(key)
}

fn unwrap_error(err: hpke::HpkeError) -> RecordsError {
    match err {
        hpke::HpkeError::DecapError => decrypt_error(
            "the wrapped key's encapsulated key is a low-order X25519 point: not a wrapped key",
        ),
        hpke::HpkeError::OpenError => decrypt_error(
            "the wrapped key failed authentication: the wrong key-agreement secret, or it was \
             wrapped for another record or grant (info)",
        ),
        other => decrypt_error(format!("unwrapping the data key failed: {other}")),
    }
}

/// hpke panics on an `info` near 64 KiB; ours are about 120 bytes.
fn check_info(info: &[u8]) -> Result<(), RecordsError> {
    if info.len() > MAX_INFO_LEN {
        return Err(RecordsError::InvalidInput(format!(
            "HPKE info is {} bytes, more than {MAX_INFO_LEN}",
            info.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: usize = CHUNK_SIZE;
    const FRAME: usize = CHUNK_SIZE + TAG_LEN;

    /// Deterministic test randomness (xorshift64).
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound as u64) as usize
        }
    }

    fn plaintext(len: usize) -> Vec<u8> {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ len as u64);
        (0..len).map(|_| rng.next() as u8).collect()
    }

    fn identity() -> RecordIdentity {
        RecordIdentity::new(Pubkey::new_from_array([7; 32]), 3, 2, 1)
    }

    /// Encrypts with `encrypt`; returns the ciphertext and the size of every piece `out` got.
    fn seal(id: &RecordIdentity, key: &DataKey, pt: &[u8]) -> (Vec<u8>, Sealed, Vec<usize>) {
        let (mut ct, mut pieces) = (Vec::new(), Vec::new());
        let sealed = encrypt(id, key, pt, |bytes| {
            pieces.push(bytes.len());
            ct.extend_from_slice(bytes);
            Ok(())
        })
        .unwrap();
        (ct, sealed, pieces)
    }

    /// Encrypts with a small chunk size through the push encryptor.
    fn seal_with_chunk(key: &DataKey, chunk_size: usize, pt: &[u8]) -> Vec<u8> {
        let mut ct = Vec::new();
        let mut encryptor = Encryptor::with_chunk_size(&identity(), key, chunk_size);
        let mut sink = |bytes: &[u8]| {
            ct.extend_from_slice(bytes);
            Ok(())
        };
        encryptor.update(pt, &mut sink).unwrap();
        encryptor.finish(&mut sink).unwrap();
        ct
    }

    /// Decrypts with `decrypt`; returns the result and everything `out` received.
    fn open(id: &RecordIdentity, key: &DataKey, ct: &[u8]) -> (Result<u64, RecordsError>, Vec<u8>) {
        let mut received = Vec::new();
        let result = decrypt(id, key, ct, |bytes| {
            received.extend_from_slice(bytes);
            Ok(())
        });
        (result, received)
    }

    /// Asserts a `Decrypt` failure; returns its message and what `out` received.
    fn fail(id: &RecordIdentity, key: &DataKey, ct: &[u8]) -> (String, Vec<u8>) {
        match open(id, key, ct) {
            (Err(RecordsError::Decrypt(message)), received) => (message, received),
            (other, _) => panic!("expected a Decrypt error, got {other:?}"),
        }
    }

    /// Pushes `ct` through a Decryptor in pieces of the sizes `piece` picks.
    fn push_open(key: &DataKey, ct: &[u8], mut piece: impl FnMut() -> usize) -> Vec<u8> {
        let mut received = Vec::new();
        let mut decryptor = Decryptor::new(&identity(), key);
        let mut sink = |bytes: &[u8]| {
            assert!(bytes.len() <= C);
            received.extend_from_slice(bytes);
            Ok(())
        };
        let mut rest = ct;
        while !rest.is_empty() {
            let (now, later) = rest.split_at(piece().clamp(1, rest.len()));
            decryptor.update(now, &mut sink).unwrap();
            rest = later;
        }
        let len = decryptor.finish(&mut sink).unwrap();
        assert_eq!(len as usize, received.len());
        received
    }

    fn chunk_start(k: usize) -> usize {
        HEADER_LEN + k * FRAME
    }

    #[test]
    fn round_trips_every_boundary_size() {
        let key = DataKey::generate();
        for n in [0, 1, C - 1, C, C + 1, 3 * C + 5] {
            let pt = plaintext(n);
            let (ct, sealed, pieces) = seal(&identity(), &key, &pt);
            assert_eq!(ct.len() as u64, ciphertext_len(n as u64), "size {n}");
            assert_eq!(
                sealed,
                Sealed {
                    plaintext_len: n as u64,
                    ciphertext_len: ct.len() as u64
                }
            );
            // memory bound: the header, then one chunk per call
            assert_eq!(pieces[0], HEADER_LEN);
            assert!(pieces.iter().all(|&p| p <= FRAME), "size {n}: {pieces:?}");
            assert_eq!(pieces.len(), 1 + n.div_ceil(C).max(1));
            let (result, received) = open(&identity(), &key, &ct);
            assert_eq!(result.unwrap(), n as u64);
            assert_eq!(received, pt, "size {n}");
        }
    }

    #[test]
    fn header_layout_and_empty_record() {
        let (ct, _, _) = seal(&identity(), &DataKey::generate(), b"");
        assert_eq!(ct.len(), HEADER_LEN + TAG_LEN);
        assert_eq!(HEADER_LEN, 64);
        assert_eq!(&ct[..8], b"\x89CLREC\r\n");
        assert_eq!(ct[8], 1);
        assert_eq!(ct[9..13], 65_536u32.to_le_bytes());
        // a fresh nonce prefix per ciphertext
        let (again, _, _) = seal(&identity(), &DataKey::generate(), b"");
        assert_ne!(ct[13..32], again[13..32]);
        // the key commitment, recomputed from its definition
        let key = DataKey::generate();
        let (ct, _, _) = seal(&identity(), &key, b"");
        let committed = [
            b"careledger/key-commitment/v1".as_slice(),
            key.as_bytes(),
            &ct[..32],
        ];
        let expected: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(committed.concat()).into();
        assert_eq!(ct[32..64], expected);
    }

    #[test]
    fn ciphertext_len_formula() {
        assert_eq!(ciphertext_len(0), 80);
        assert_eq!(ciphertext_len(1), 81);
        assert_eq!(ciphertext_len(C as u64), 64 + C as u64 + 16);
        assert_eq!(ciphertext_len(C as u64 + 1), 64 + C as u64 + 1 + 32);
        assert_eq!(ciphertext_len(u64::MAX), u64::MAX);
    }

    /// A reader that returns 1..=1000 bytes at a time, and sometimes `Interrupted`.
    struct Trickle<'a> {
        data: &'a [u8],
        rng: XorShift,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.rng.below(10) == 0 {
                return Err(ErrorKind::Interrupted.into());
            }
            let n = (self.rng.below(1000) + 1)
                .min(buf.len())
                .min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_reads_still_fill_whole_chunks() {
        let key = DataKey::generate();
        let pt = plaintext(2 * C + 77);
        let mut ct = Vec::new();
        let reader = Trickle {
            data: &pt,
            rng: XorShift(1),
        };
        encrypt(&identity(), &key, reader, |bytes| {
            ct.extend_from_slice(bytes);
            Ok(())
        })
        .unwrap();
        assert_eq!(ct.len() as u64, ciphertext_len(pt.len() as u64));
        let mut received = Vec::new();
        let reader = Trickle {
            data: &ct,
            rng: XorShift(2),
        };
        decrypt(&identity(), &key, reader, |bytes| {
            received.extend_from_slice(bytes);
            Ok(())
        })
        .unwrap();
        assert_eq!(received, pt);
    }

    #[test]
    fn push_encryptor_in_random_pieces_writes_the_same_layout() {
        let key = DataKey::generate();
        let pt = plaintext(3 * C + 5);
        let mut rng = XorShift(3);
        let mut ct = Vec::new();
        let mut sink = |bytes: &[u8]| {
            assert!(bytes.len() <= FRAME);
            ct.extend_from_slice(bytes);
            Ok(())
        };
        let mut encryptor = Encryptor::new(&identity(), &key);
        let mut rest = &pt[..];
        while !rest.is_empty() {
            let (now, later) = rest.split_at((rng.below(3 * C) + 1).min(rest.len()));
            encryptor.update(now, &mut sink).unwrap();
            encryptor.update(&[], &mut sink).unwrap();
            rest = later;
        }
        let sealed = encryptor.finish(&mut sink).unwrap();
        assert_eq!(sealed.ciphertext_len, ciphertext_len(pt.len() as u64));
        assert_eq!(ct.len() as u64, sealed.ciphertext_len);
        assert_eq!(open(&identity(), &key, &ct).1, pt);
    }

    #[test]
    fn push_decryptor_is_fragmentation_independent() {
        let key = DataKey::generate();
        let pt = plaintext(3 * C + 5);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        assert_eq!(push_open(&key, &ct, || 1), pt);
        assert_eq!(push_open(&key, &ct, || FRAME), pt);
        assert_eq!(push_open(&key, &ct, || ct.len()), pt);
        for seed in 1..=8 {
            let mut rng = XorShift(seed);
            assert_eq!(push_open(&key, &ct, || rng.below(2 * FRAME) + 1), pt);
            let mut rng = XorShift(seed);
            assert_eq!(push_open(&key, &ct, || rng.below(40) + 1), pt);
        }
        let (empty, _, _) = seal(&identity(), &key, b"");
        assert!(push_open(&key, &empty, || 1).is_empty());
    }

    #[test]
    fn bad_magic_or_version_is_reported_as_the_bytes_arrive() {
        let key = DataKey::generate();
        let mut decryptor = Decryptor::new(&identity(), &key);
        let err = decryptor.update(b"<htm", |_| Ok(())).unwrap_err();
        assert!(
            matches!(&err, RecordsError::Decrypt(m) if m.contains("bad magic")),
            "{err}"
        );
        // a failed decryptor stays failed
        let err = decryptor.update(b"\x89CLREC", |_| Ok(())).unwrap_err();
        assert!(matches!(&err, RecordsError::Decrypt(m) if m.contains("already failed")));

        let mut decryptor = Decryptor::new(&identity(), &key);
        decryptor.update(b"\x89CL", |_| Ok(())).unwrap();
        decryptor.update(b"REC\r\n", |_| Ok(())).unwrap();
        let err = decryptor.update(b"\x02", |_| Ok(())).unwrap_err();
        assert!(
            matches!(&err, RecordsError::Decrypt(m) if m.contains("version 2")),
            "{err}"
        );
    }

    #[test]
    fn a_flipped_bit_in_any_chunk_fails_at_that_chunk() {
        let key = DataKey::generate();
        let pt = plaintext(3 * C + 5);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        for k in 0..4 {
            let end = if k == 3 { ct.len() } else { chunk_start(k + 1) };
            for at in [
                chunk_start(k),
                chunk_start(k) + 1000.min(end - chunk_start(k) - 1),
                end - 1,
            ] {
                let mut bad = ct.clone();
                bad[at] ^= 0x20;
                let (message, received) = fail(&identity(), &key, &bad);
                assert!(message.contains(&format!("chunk {k}")), "{message}");
                assert_eq!(received, pt[..k * C], "flip at {at}");
            }
        }
    }

    #[test]
    fn every_header_byte_is_authenticated() {
        let key = DataKey::generate();
        let pt = plaintext(C + 1);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        for at in 0..HEADER_LEN {
            let mut bad = ct.clone();
            bad[at] ^= 0x01;
            let (message, received) = fail(&identity(), &key, &bad);
            assert!(received.is_empty(), "header byte {at}: {message}");
            let expected = match at {
                0..=7 => "bad magic",
                8 => "unsupported format version",
                _ => "",
            };
            assert!(message.contains(expected), "header byte {at}: {message}");
        }
        // a changed but valid chunk size is caught by the key commitment (and the AD)
        let mut bad = ct.clone();
        bad[9..13].copy_from_slice(&32_768u32.to_le_bytes());
        let (message, received) = fail(&identity(), &key, &bad);
        assert!(message.contains("key commitment differs"), "{message}");
        assert!(received.is_empty());
        // an unbounded chunk size is refused before anything is allocated
        bad[9..13].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(fail(&identity(), &key, &bad)
            .0
            .contains("unsupported chunk size"));
        bad[9..13].copy_from_slice(&0u32.to_le_bytes());
        assert!(fail(&identity(), &key, &bad)
            .0
            .contains("unsupported chunk size"));
    }

    #[test]
    fn truncation_anywhere_fails() {
        let key = DataKey::generate();
        let pt = plaintext(3 * C + 5);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        let cases = [
            (0, "empty"),
            (1, "inside its header"),
            (HEADER_LEN - 1, "inside its header"),
            (HEADER_LEN, "right after the header"),
            (HEADER_LEN + 10, "inside chunk 0"),
            (HEADER_LEN + 5000, "final chunk (chunk 0) failed"),
            (chunk_start(1), "ends after chunk 0, before the final chunk"),
            (chunk_start(1) + 5, "inside chunk 1"),
            (chunk_start(3), "ends after chunk 2, before the final chunk"),
            (ct.len() - 1, "final chunk (chunk 3) failed"),
        ];
        for (cut, expected) in cases {
            let (message, received) = fail(&identity(), &key, &ct[..cut]);
            assert!(message.contains(expected), "cut at {cut}: {message}");
            // chunks are released only once a byte after them arrived
            let released = if cut > HEADER_LEN {
                (cut - HEADER_LEN - 1) / FRAME
            } else {
                0
            };
            assert_eq!(received, pt[..released * C], "cut at {cut}");
        }
    }

    #[test]
    fn a_missing_full_final_chunk_is_truncation_and_extra_bytes_fail() {
        let key = DataKey::generate();
        let pt = plaintext(2 * C);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        assert_eq!(ct.len(), chunk_start(2));
        let (message, received) = fail(&identity(), &key, &ct[..chunk_start(1)]);
        assert!(message.contains("ends after chunk 0"), "{message}");
        assert!(received.is_empty());

        let mut longer = ct.clone();
        longer.push(0);
        let (message, received) = fail(&identity(), &key, &longer);
        assert!(message.contains("unexpected bytes after the final chunk (chunk 1)"));
        assert_eq!(received, pt[..C]);

        // after a short final chunk the extra bytes make it fail
        let pt = plaintext(3 * C + 5);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        for extra in [&b"x"[..], &ct[chunk_start(3)..]] {
            let longer = [&ct[..], extra].concat();
            let (message, received) = fail(&identity(), &key, &longer);
            assert!(message.contains("chunk 3"), "{message}");
            assert_eq!(received, pt[..3 * C]);
        }
    }

    #[test]
    fn reordered_duplicated_or_dropped_chunks_fail() {
        let key = DataKey::generate();
        let pt = plaintext(3 * C + 5);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        let header = &ct[..HEADER_LEN];
        let chunk = |k: usize| &ct[chunk_start(k)..chunk_start(k + 1).min(ct.len())];

        let swapped = [header, chunk(1), chunk(0), chunk(2), chunk(3)].concat();
        let (message, received) = fail(&identity(), &key, &swapped);
        assert!(message.contains("chunk 0 failed"), "{message}");
        assert!(received.is_empty());

        let duplicated = [header, chunk(0), chunk(1), chunk(1), chunk(2), chunk(3)].concat();
        let (message, received) = fail(&identity(), &key, &duplicated);
        assert!(message.contains("chunk 2 failed"), "{message}");
        assert_eq!(received, pt[..2 * C]);

        let dropped = [header, chunk(0), chunk(2), chunk(3)].concat();
        let (message, received) = fail(&identity(), &key, &dropped);
        assert!(message.contains("chunk 1 failed"), "{message}");
        assert_eq!(received, pt[..C]);

        // the final chunk moved to an earlier position
        let early_final = [header, chunk(0), chunk(3)].concat();
        assert!(fail(&identity(), &key, &early_final).1 == pt[..C]);
    }

    #[test]
    fn wrong_key_or_any_other_record_field_fails() {
        let key = DataKey::generate();
        let pt = plaintext(C + 1);
        let (ct, _, _) = seal(&identity(), &key, &pt);
        // a wrong key is named as such before any chunk is tried
        let (message, received) = fail(&identity(), &DataKey::generate(), &ct);
        assert!(message.contains("key commitment differs"), "{message}");
        assert!(received.is_empty());

        let id = identity();
        let others = [
            RecordIdentity {
                program: Pubkey::new_unique(),
                ..id
            },
            RecordIdentity {
                patient: Pubkey::new_unique(),
                ..id
            },
            RecordIdentity { index: 4, ..id },
            RecordIdentity { version: 3, ..id },
            RecordIdentity { class: 2, ..id },
        ];
        for other in others {
            let (message, received) = fail(&other, &key, &ct);
            assert!(
                message.contains("chunk 0 failed authentication"),
                "{other:?}"
            );
            assert!(received.is_empty());
        }
    }

    #[test]
    fn associated_data_layout() {
        let id = RecordIdentity {
            program: Pubkey::new_from_array([1; 32]),
            patient: Pubkey::new_from_array([2; 32]),
            index: 0x0403_0201,
            version: 7,
            class: 9,
        };
        let ad = id.associated_data();
        assert_eq!(ad.len(), 31 + 32 + 32 + 4 + 4 + 1);
        assert_eq!(&ad[..31], b"careledger/record-ciphertext/v1");
        assert_eq!(ad[31..63], [1; 32]);
        assert_eq!(ad[63..95], [2; 32]);
        assert_eq!(ad[95..99], [1, 2, 3, 4]);
        assert_eq!(ad[99..103], [7, 0, 0, 0]);
        assert_eq!(ad[103], 9);
        assert_eq!(
            RecordIdentity::new(id.patient, 1, 1, 1).program,
            careledger::ID
        );
    }

    /// With 4-byte chunks, every cut, every flipped bit position and an appended byte fail for
    /// every length up to three chunks and a bit, and nothing from a bad chunk is given out.
    #[test]
    fn exhaustive_tampering_with_small_chunks() {
        let key = DataKey::generate();
        let cs = 4;
        let frame = cs + TAG_LEN;
        // chunk index holding byte `at` (the header counts as chunk 0)
        let chunk_of = |at: usize| at.saturating_sub(HEADER_LEN) / frame;
        for n in 0..=13 {
            let pt = plaintext(n);
            let ct = seal_with_chunk(&key, cs, &pt);
            assert_eq!(ct.len(), HEADER_LEN + n + TAG_LEN * n.div_ceil(cs).max(1));
            assert_eq!(open(&identity(), &key, &ct).1, pt);
            for cut in 0..ct.len() {
                let (_, received) = fail(&identity(), &key, &ct[..cut]);
                assert!(received.len() <= chunk_of(cut) * cs, "n {n} cut {cut}");
                assert_eq!(received, pt[..received.len()]);
            }
            for at in 0..ct.len() {
                for bit in [0x01, 0x80] {
                    let mut bad = ct.clone();
                    bad[at] ^= bit;
                    let (_, received) = fail(&identity(), &key, &bad);
                    assert!(received.len() <= chunk_of(at) * cs, "n {n} flip {at}");
                    assert_eq!(received, pt[..received.len()]);
                }
            }
            fail(&identity(), &key, &[&ct[..], &[0]].concat());
        }
    }

    #[test]
    fn an_empty_final_chunk_after_data_is_not_canonical() {
        let key = DataKey::generate();
        let nonce_prefix = [5u8; NONCE_PREFIX_LEN];
        let header = encode_header(4, &nonce_prefix, &key);
        let aad = chunk_aad(&identity(), &header);
        let mut stream = stream::Encryptor::new(key.as_bytes(), &nonce_prefix);
        let mut first = b"abcd".to_vec();
        stream.encrypt_next_in_place(&aad, &mut first).unwrap();
        let mut last = Vec::new();
        stream.encrypt_last_in_place(&aad, &mut last).unwrap();
        let ct = [&header[..], &first, &last].concat();
        let (message, received) = fail(&identity(), &key, &ct);
        assert!(message.contains("empty final chunk"), "{message}");
        assert_eq!(received, b"abcd");
    }

    #[test]
    fn sink_errors_propagate_and_poison() {
        let key = DataKey::generate();
        let pt = plaintext(2 * C + 1);
        let sink_error = || RecordsError::InvalidInput("disk full".into());

        let err = encrypt(&identity(), &key, &pt[..], |_| Err(sink_error())).unwrap_err();
        assert!(matches!(&err, RecordsError::InvalidInput(m) if m == "disk full"));
        let mut encryptor = Encryptor::new(&identity(), &key);
        let mut calls = 0;
        let mut flaky = |_: &[u8]| {
            calls += 1;
            if calls == 2 {
                Err(sink_error())
            } else {
                Ok(())
            }
        };
        assert!(encryptor.update(&pt, &mut flaky).is_err());
        let err = encryptor.update(b"more", &mut flaky).unwrap_err();
        assert!(matches!(&err, RecordsError::InvalidInput(m) if m.contains("already failed")));
        assert!(encryptor.finish(&mut flaky).is_err());

        let (ct, _, _) = seal(&identity(), &key, &pt);
        let err = decrypt(&identity(), &key, &ct[..], |_| Err(sink_error())).unwrap_err();
        assert!(matches!(&err, RecordsError::InvalidInput(m) if m == "disk full"));
        let mut decryptor = Decryptor::new(&identity(), &key);
        assert!(decryptor.update(&ct, |_| Err(sink_error())).is_err());
        let err = decryptor.finish(|_| Ok(())).unwrap_err();
        assert!(matches!(&err, RecordsError::Decrypt(m) if m.contains("already failed")));
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let key = DataKey::from_bytes([0xAB; 32]);
        let secret = KeyAgreementSecret::from_bytes([0xAB; 32]);
        for shown in [format!("{key:?}"), format!("{secret:?}")] {
            assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "));
            assert!(shown.contains("redacted"));
        }
        assert_eq!(key.as_bytes(), &[0xAB; 32]);
        assert_eq!(secret.to_bytes(), [0xAB; 32]);
    }

    fn hex32(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn key_agreement_public_key_matches_rfc_7748() {
        // RFC 7748 section 6.1, Alice
        let secret = KeyAgreementSecret::from_bytes(hex32(
            "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
        ));
        let public = hex32("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
        assert_eq!(secret.public(), public);
        assert_eq!(
            KeyAgreementSecret::from_bytes(secret.to_bytes()).public(),
            public
        );
        assert_ne!(KeyAgreementSecret::generate().public(), public);
    }

    fn infos() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (record, grant_a, grant_b) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        (
            release_info(&careledger::ID, &record, &grant_a),
            release_info(&careledger::ID, &record, &grant_b),
            custody_info(&careledger::ID, &record),
        )
    }

    #[test]
    fn info_layouts() {
        let (program, record, grant) = (
            Pubkey::new_from_array([1; 32]),
            Pubkey::new_from_array([2; 32]),
            Pubkey::new_from_array([3; 32]),
        );
        let release = release_info(&program, &record, &grant);
        assert_eq!(release.len(), 21 + 96);
        assert_eq!(&release[..21], b"careledger/release/v1");
        assert_eq!(release[21..], [[1u8; 32], [2; 32], [3; 32]].concat());
        let custody = custody_info(&program, &record);
        assert_eq!(&custody[..21], b"careledger/custody/v1");
        assert_eq!(custody[21..], [[1u8; 32], [2; 32]].concat());
    }

    #[test]
    fn wrapped_keys_round_trip_only_for_their_secret_and_info() {
        let secret = KeyAgreementSecret::generate();
        let key = DataKey::generate();
        let (grant_a, grant_b, custody) = infos();
        let wrapped = wrap_key(&secret.public(), &grant_a, &key).unwrap();
        assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
        assert_eq!(WRAPPED_KEY_LEN, 80);
        let unwrapped = unwrap_key(&secret, &grant_a, &wrapped).unwrap();
        assert_eq!(unwrapped.as_bytes(), key.as_bytes());
        // a fresh ephemeral key every time
        assert_ne!(wrap_key(&secret.public(), &grant_a, &key).unwrap(), wrapped);

        let authentication = |result: Result<DataKey, RecordsError>| match result {
            Err(RecordsError::Decrypt(m)) => assert!(m.contains("failed authentication"), "{m}"),
            other => panic!("expected Decrypt, got {other:?}"),
        };
        authentication(unwrap_key(
            &KeyAgreementSecret::generate(),
            &grant_a,
            &wrapped,
        ));
        authentication(unwrap_key(&secret, &grant_b, &wrapped));
        authentication(unwrap_key(&secret, &custody, &wrapped));
        for at in 0..WRAPPED_KEY_LEN {
            let mut bad = wrapped.clone();
            bad[at] ^= 0x04;
            assert!(matches!(
                unwrap_key(&secret, &grant_a, &bad),
                Err(RecordsError::Decrypt(_))
            ));
        }
    }

    #[test]
    fn wrapped_keys_of_the_wrong_length_fail() {
        let secret = KeyAgreementSecret::generate();
        let (info, _, _) = infos();
        let wrapped = wrap_key(&secret.public(), &info, &DataKey::generate()).unwrap();
        for bad in [
            &wrapped[..79],
            &wrapped[..32],
            &[][..],
            &[&wrapped[..], &[0]].concat(),
        ] {
            match unwrap_key(&secret, &info, bad) {
                Err(RecordsError::Decrypt(m)) => assert!(m.contains("80 bytes"), "{m}"),
                other => panic!("expected Decrypt, got {other:?}"),
            }
        }
    }

    #[test]
    fn low_order_keys_are_refused() {
        let key = DataKey::generate();
        let (info, _, _) = infos();
        match wrap_key(&[0; 32], &info, &key) {
            Err(RecordsError::InvalidInput(m)) => assert!(m.contains("all zeros"), "{m}"),
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        let mut one = [0u8; 32];
        one[0] = 1;
        let order_eight = hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
        for low in [one, order_eight] {
            match wrap_key(&low, &info, &key) {
                Err(RecordsError::InvalidInput(m)) => assert!(m.contains("low-order"), "{m}"),
                other => panic!("expected InvalidInput, got {other:?}"),
            }
        }
        // a wrapped key whose encapsulated key is low-order
        let secret = KeyAgreementSecret::generate();
        let mut wrapped = wrap_key(&secret.public(), &info, &key).unwrap();
        wrapped[..32].copy_from_slice(&one);
        match unwrap_key(&secret, &info, &wrapped) {
            Err(RecordsError::Decrypt(m)) => assert!(m.contains("low-order"), "{m}"),
            other => panic!("expected Decrypt, got {other:?}"),
        }
    }

    #[test]
    fn oversized_info_is_refused_instead_of_panicking() {
        let secret = KeyAgreementSecret::generate();
        let info = vec![0u8; 70_000];
        let key = DataKey::generate();
        assert!(matches!(
            wrap_key(&secret.public(), &info, &key),
            Err(RecordsError::InvalidInput(_))
        ));
        assert!(matches!(
            unwrap_key(&secret, &info, &[0; WRAPPED_KEY_LEN]),
            Err(RecordsError::InvalidInput(_))
        ));
    }
}
