//! CIDs: strings parsed with the `cid` crate, then validated by the program's own
//! `parse_cid`, so the SDK refuses exactly what the program refuses, before sending.
use crate::SdkError;
use careledger::logic::cid::{parse_cid, StoredCid, CODEC_RAW, HASH_SHA2_256};
use cid::Cid;
use multihash::Multihash;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Parses a CID string (CIDv0 `Qm…` or any multibase CIDv1) into the program's binary form.
pub fn cid_to_bytes(text: &str) -> Result<Vec<u8>, SdkError> {
    let cid = Cid::try_from(text).map_err(|e| SdkError::InvalidCid(format!("{text}: {e}")))?;
    let bytes = cid.to_bytes();
    parse_cid(&bytes).map_err(|e| SdkError::InvalidCid(format!("{text}: {e}")))?;
    Ok(bytes)
}

/// Renders a stored CID the usual way: `Qm…` for v0, base32 `b…` for v1.
pub fn cid_to_string(stored: &StoredCid) -> String {
    match Cid::try_from(stored.to_bytes().as_slice()) {
        Ok(cid) => cid.to_string(),
        // Unreachable for anything the program stored; show hex rather than panic.
        Err(_) => stored
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    }
}

/// SHA-256 of a byte stream, read in 64 KiB chunks; `progress` is called with bytes read so far.
pub fn sha256_reader(
    mut reader: impl Read,
    mut progress: impl FnMut(u64),
) -> Result<[u8; 32], SdkError> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(SdkError::Io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
        progress(total);
    }
    Ok(hasher.finalize().into())
}

pub fn sha256_file(path: &Path) -> Result<[u8; 32], SdkError> {
    let file = std::fs::File::open(path).map_err(SdkError::Io)?;
    sha256_reader(std::io::BufReader::new(file), |_| {})
}

/// CIDv1 (raw codec, sha2-256) of bytes whose SHA-256 is `digest`: what `ipfs add --raw-leaves
/// --cid-version 1` gives for a single-block file.
pub fn raw_cid_v1(digest: &[u8; 32]) -> Vec<u8> {
    let hash =
        Multihash::<64>::wrap(u64::from(HASH_SHA2_256), digest).expect("32-byte digest fits");
    Cid::new_v1(u64::from(CODEC_RAW), hash).to_bytes()
}

/// Outcome of checking a file against a record anchor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileCheck {
    /// The file's SHA-256 equals the anchor's `content_sha256`.
    Matches,
    /// It does not: the file is not the anchored version.
    Differs { actual: [u8; 32] },
}

pub fn verify_file(
    path: &Path,
    anchor: &careledger::state::RecordAnchor,
) -> Result<FileCheck, SdkError> {
    let actual = sha256_file(path)?;
    Ok(if actual == anchor.content_sha256 {
        FileCheck::Matches
    } else {
        FileCheck::Differs { actual }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v0_and_v1_strings_round_trip() {
        let v0 = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
        let bytes = cid_to_bytes(v0).unwrap();
        assert_eq!(bytes.len(), 34);
        assert_eq!(cid_to_string(&parse_cid(&bytes).unwrap()), v0);
        let digest: [u8; 32] = Sha256::digest(b"hello").into();
        let v1 = raw_cid_v1(&digest);
        let text = cid_to_string(&parse_cid(&v1).unwrap());
        assert!(text.starts_with("bafkrei"), "{text}");
        assert_eq!(cid_to_bytes(&text).unwrap(), v1);
    }

    #[test]
    fn refuses_what_the_program_refuses() {
        // identity multihash CIDv1 (raw): content inlined in the CID
        let identity = Cid::new_v1(0x55, Multihash::<64>::wrap(0, b"secret").unwrap());
        let err = cid_to_bytes(&identity.to_string()).unwrap_err();
        assert!(err.to_string().contains("identity"), "{err}");
        assert!(cid_to_bytes("not-a-cid").is_err());
        let sha512 = Cid::new_v1(0x55, Multihash::<64>::wrap(0x13, &[1; 64]).unwrap());
        assert!(cid_to_bytes(&sha512.to_string()).is_err());
    }

    #[test]
    fn hashing_reports_progress() {
        let data = vec![7u8; 200_000];
        let mut seen = Vec::new();
        let digest = sha256_reader(&data[..], |n| seen.push(n)).unwrap();
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(seen.last(), Some(&200_000));
    }
}
