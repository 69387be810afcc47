//! Opening a record's ciphertext as it streams in, and the one check that it is the ciphertext
//! its anchor names: it decrypts as the record it is bound to (every chunk authenticates, the
//! last one included), and its SHA-256 and UnixFS CID are the anchor's. The gateway runs it on
//! an upload (and drops the plaintext), a grantee's client on a release (and writes it), so
//! both ends accept exactly the same bytes. [`crate::sealing::seal`] is its inverse.
use crate::envelope::{DataKey, Decryptor, RecordIdentity};
use crate::unixfs::{DagBuilder, NoBlocks, Profile};
use crate::RecordsError;
use careledger::state::RecordAnchor;
use sha2::{Digest, Sha256};

/// The identity a record's ciphertext is bound to.
pub fn identity_of(anchor: &RecordAnchor) -> RecordIdentity {
    RecordIdentity::new(anchor.patient, anchor.index, anchor.version, anchor.class)
}

/// What a ciphertext must prove: the record it is bound to, and the SHA-256 and CID (under
/// `profile`) it must hash to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    pub identity: RecordIdentity,
    pub sha256: [u8; 32],
    pub cid: Vec<u8>,
    pub profile: Profile,
}

impl Expected {
    /// What an anchored record's ciphertext must be; `None` when the anchored CID is not a
    /// UnixFS file CID of a profile this crate computes.
    pub fn of_anchor(anchor: &RecordAnchor) -> Option<Expected> {
        let cid = anchor.cid.to_bytes();
        Some(Expected {
            identity: identity_of(anchor),
            sha256: anchor.content_sha256,
            profile: Profile::implied_by(&cid)?,
            cid,
        })
    }
}

/// Why a ciphertext is not the one expected. Each end words it for its own reader.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A chunk did not authenticate (or the header is not a careledger ciphertext for this
    /// record and key), or the plaintext sink failed.
    #[error("the ciphertext does not decrypt: {0}")]
    Decrypt(RecordsError),
    /// The stream ended early, or its last chunk did not authenticate.
    #[error("the ciphertext is incomplete or altered: {0}")]
    Incomplete(RecordsError),
    #[error("the ciphertext's SHA-256 is not the anchor's")]
    Sha256 {
        actual: [u8; 32],
        expected: [u8; 32],
    },
    #[error("the ciphertext's CID is not the anchored CID")]
    Cid,
    /// Computing the CID failed (not a property of the bytes).
    #[error("{0}")]
    Dag(RecordsError),
}

/// What an opened ciphertext was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opened {
    pub plaintext_len: u64,
    pub ciphertext_len: u64,
}

/// Decrypts a ciphertext fed in pieces of any size while hashing it and building its CID.
pub struct Opener {
    sha: Sha256,
    dag: DagBuilder<NoBlocks>,
    decryptor: Decryptor,
    sha256: [u8; 32],
    cid: Vec<u8>,
    ciphertext_len: u64,
}

impl Opener {
    pub fn new(expected: &Expected, key: &DataKey) -> Opener {
        Opener {
            sha: Sha256::new(),
            dag: DagBuilder::new(expected.profile, NoBlocks),
            decryptor: Decryptor::new(&expected.identity, key),
            sha256: expected.sha256,
            cid: expected.cid.clone(),
            ciphertext_len: 0,
        }
    }

    /// Adds ciphertext; `plaintext` gets every chunk known to be authentic (not the last).
    pub fn update(
        &mut self,
        ciphertext: &[u8],
        plaintext: impl FnMut(&[u8]) -> Result<(), RecordsError>,
    ) -> Result<(), OpenError> {
        self.ciphertext_len += ciphertext.len() as u64;
        self.sha.update(ciphertext);
        self.dag.update(ciphertext).map_err(OpenError::Dag)?;
        self.decryptor
            .update(ciphertext, plaintext)
            .map_err(OpenError::Decrypt)
    }

    /// Opens the last chunk, then checks the SHA-256 and the CID: only a ciphertext that
    /// passes all three is the anchored one.
    pub fn finish(
        self,
        plaintext: impl FnMut(&[u8]) -> Result<(), RecordsError>,
    ) -> Result<Opened, OpenError> {
        let plaintext_len = self
            .decryptor
            .finish(plaintext)
            .map_err(OpenError::Incomplete)?;
        let actual: [u8; 32] = self.sha.finalize().into();
        if actual != self.sha256 {
            return Err(OpenError::Sha256 {
                actual,
                expected: self.sha256,
            });
        }
        let (root, NoBlocks) = self.dag.finish().map_err(OpenError::Dag)?;
        if root.cid != self.cid {
            return Err(OpenError::Cid);
        }
        Ok(Opened {
            plaintext_len,
            ciphertext_len: self.ciphertext_len,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealing::seal;
    use solana_pubkey::Pubkey;

    fn sealed(plain: &[u8]) -> (Expected, DataKey, Vec<u8>) {
        let identity = RecordIdentity::new(Pubkey::new_unique(), 4, 1, 0);
        let key = DataKey::generate();
        let mut ciphertext = Vec::new();
        let sealed = seal(&identity, &key, Profile::UnixfsV0_2015, plain, |p| {
            ciphertext.extend_from_slice(p);
            Ok(())
        })
        .unwrap();
        let expected = Expected {
            identity,
            sha256: sealed.sha256,
            cid: sealed.cid,
            profile: Profile::UnixfsV0_2015,
        };
        (expected, key, ciphertext)
    }

    fn open(expected: &Expected, key: &DataKey, ciphertext: &[u8]) -> Result<Vec<u8>, OpenError> {
        let mut opener = Opener::new(expected, key);
        let mut plain = Vec::new();
        for piece in ciphertext.chunks(7_000) {
            opener.update(piece, |p| {
                plain.extend_from_slice(p);
                Ok(())
            })?;
        }
        let opened = opener.finish(|p| {
            plain.extend_from_slice(p);
            Ok(())
        })?;
        assert_eq!(opened.plaintext_len, plain.len() as u64);
        assert_eq!(opened.ciphertext_len, ciphertext.len() as u64);
        Ok(plain)
    }

    /// Who gains by bytes that are not the anchored ones: a custodian or a path that swaps or
    /// alters a record. Each way of differing is refused as such.
    #[test]
    fn only_the_anchored_ciphertext_opens() {
        let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (expected, key, ciphertext) = sealed(&plain);
        assert_eq!(open(&expected, &key, &ciphertext).unwrap(), plain);

        let mut altered = ciphertext.clone();
        altered[100_000] ^= 1;
        assert!(matches!(
            open(&expected, &key, &altered),
            Err(OpenError::Decrypt(_))
        ));
        let truncated = &ciphertext[..ciphertext.len() - 1];
        assert!(matches!(
            open(&expected, &key, truncated),
            Err(OpenError::Incomplete(_))
        ));
        let other_sha = Expected {
            sha256: [0; 32],
            ..expected.clone()
        };
        assert!(matches!(
            open(&other_sha, &key, &ciphertext),
            Err(OpenError::Sha256 { .. })
        ));
        let other_cid = Expected {
            cid: sealed(b"another record").0.cid,
            ..expected.clone()
        };
        assert!(matches!(
            open(&other_cid, &key, &ciphertext),
            Err(OpenError::Cid)
        ));
        let other_record = Expected {
            identity: RecordIdentity::new(Pubkey::new_unique(), 4, 1, 0),
            ..expected
        };
        assert!(matches!(
            open(&other_record, &key, &ciphertext),
            Err(OpenError::Decrypt(_))
        ));
    }
}
