//! Binary CID validation, as the program runs it. Accepts CIDv0 (bare sha2-256 multihash) and
//! CIDv1 with a known codec and a 32-byte sha2-256 or blake3 digest. The identity multihash
//! (content inlined in the CID) is refused: it would put record content on chain.
use crate::constants::CID_MAX_BYTES;
use crate::errors::CareledgerError;
// Stored in record anchors and protocol versions, so defined with them.
pub use crate::state::StoredCid;
use anchor_lang::prelude::*;

pub const CODEC_RAW: u16 = 0x55;
pub const CODEC_DAG_PB: u16 = 0x70;
pub const CODEC_DAG_CBOR: u16 = 0x71;
pub const CODEC_DAG_JSON: u16 = 0x0129;
pub const HASH_IDENTITY: u8 = 0x00;
pub const HASH_SHA2_256: u8 = 0x12;
pub const HASH_BLAKE3: u8 = 0x1e;
pub const DIGEST_LEN: usize = DIGEST_LEN_BYTE as usize;
/// The digest length as the multihash header writes it.
const DIGEST_LEN_BYTE: u8 = 32;
/// Bit offset and byte count of each byte of a varint of at most 3 bytes.
const VARINT_STEPS: [(u32, usize); 3] = [(0, 1), (7, 2), (14, 3)];

/// Reads an unsigned LEB128 varint of at most 3 bytes (every code we accept fits) and refuses
/// non-minimal encodings. Returns the value and the bytes read.
fn read_varint(bytes: &[u8]) -> std::result::Result<(u32, usize), CareledgerError> {
    let mut value: u32 = 0;
    for (byte, (shift, read)) in bytes.iter().zip(VARINT_STEPS) {
        // 7 bits at offset 14 at most: the value stays below 2^21
        value |= u32::from(byte & 0x7f).wrapping_shl(shift);
        if byte & 0x80 == 0 {
            if read > 1 && *byte == 0 {
                return Err(CareledgerError::CidVarint);
            }
            return Ok((value, read));
        }
    }
    if bytes.len() < 3 {
        Err(CareledgerError::CidTruncated)
    } else {
        Err(CareledgerError::CidVarint)
    }
}

fn read_digest(rest: &[u8]) -> std::result::Result<[u8; 32], CareledgerError> {
    match rest.len() {
        n if n < DIGEST_LEN => Err(CareledgerError::CidTruncated),
        n if n > DIGEST_LEN => Err(CareledgerError::CidTrailingBytes),
        _ => {
            let mut digest = [0u8; 32];
            digest.copy_from_slice(rest);
            if digest.iter().all(|b| *b == 0) {
                return Err(CareledgerError::ZeroHash);
            }
            Ok(digest)
        }
    }
}

/// Validates a binary CID. Bounded work: at most `CID_MAX_BYTES` bytes are looked at.
pub fn parse_cid(bytes: &[u8]) -> std::result::Result<StoredCid, CareledgerError> {
    if bytes.len() > usize::from(CID_MAX_BYTES) {
        return Err(CareledgerError::CidTooLong);
    }
    if bytes.len() == 34 && bytes[0] == HASH_SHA2_256 && bytes[1] == DIGEST_LEN_BYTE {
        return Ok(StoredCid {
            version: 0,
            codec: CODEC_DAG_PB,
            hash: HASH_SHA2_256,
            digest: read_digest(&bytes[2..])?,
        });
    }
    let (version, mut at) = read_varint(bytes)?;
    if version != 1 {
        return Err(CareledgerError::CidVersion);
    }
    let (codec, n) = read_varint(&bytes[at..])?;
    // `read_varint` reads at most 3 of the at most 40 bytes, so `at` stays within `bytes`
    at = at.saturating_add(n);
    let codec = match u16::try_from(codec) {
        Ok(c @ (CODEC_RAW | CODEC_DAG_PB | CODEC_DAG_CBOR | CODEC_DAG_JSON)) => c,
        _ => return Err(CareledgerError::CidCodec),
    };
    let (hash, n) = read_varint(&bytes[at..])?;
    at = at.saturating_add(n);
    let hash = match hash {
        0x00 => return Err(CareledgerError::CidIdentityHash),
        0x12 => HASH_SHA2_256,
        0x1e => HASH_BLAKE3,
        _ => return Err(CareledgerError::CidHashFunction),
    };
    let (len, n) = read_varint(&bytes[at..])?;
    at = at.saturating_add(n);
    if len != u32::from(DIGEST_LEN_BYTE) {
        return Err(CareledgerError::CidDigestLength);
    }
    Ok(StoredCid {
        version: 1,
        codec,
        hash,
        digest: read_digest(&bytes[at..])?,
    })
}

impl StoredCid {
    /// The binary CID this compact form came from.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(37);
        if self.version == 0 {
            out.extend_from_slice(&[HASH_SHA2_256, DIGEST_LEN_BYTE]);
        } else {
            out.push(1);
            let mut codec = self.codec;
            loop {
                let [byte, _] = (codec & 0x7f).to_le_bytes();
                codec >>= 7;
                if codec == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
            out.extend_from_slice(&[self.hash, DIGEST_LEN_BYTE]);
        }
        out.extend_from_slice(&self.digest);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(codec: &[u8], hash: u8, digest_len: u8, digest: &[u8]) -> Vec<u8> {
        let mut b = vec![1];
        b.extend_from_slice(codec);
        b.push(hash);
        b.push(digest_len);
        b.extend_from_slice(digest);
        b
    }

    #[test]
    fn accepts_v0_and_v1_and_round_trips() {
        let mut v0 = vec![0x12, 0x20];
        v0.extend_from_slice(&[7; 32]);
        let c = parse_cid(&v0).unwrap();
        assert_eq!(
            (c.version, c.codec, c.hash),
            (0, CODEC_DAG_PB, HASH_SHA2_256)
        );
        assert_eq!(c.to_bytes(), v0);
        for (codec, value) in [
            (&[0x55][..], CODEC_RAW),
            (&[0x70], CODEC_DAG_PB),
            (&[0x71], CODEC_DAG_CBOR),
            (&[0xa9, 0x02], CODEC_DAG_JSON),
        ] {
            for hash in [HASH_SHA2_256, HASH_BLAKE3] {
                let b = v1(codec, hash, 32, &[9; 32]);
                let c = parse_cid(&b).unwrap();
                assert_eq!((c.codec, c.hash), (value, hash));
                assert_eq!(c.to_bytes(), b);
            }
        }
    }

    #[test]
    fn rejects_malformed() {
        use CareledgerError::*;
        let ok = v1(&[0x55], 0x12, 32, &[9; 32]);
        assert_eq!(parse_cid(&[0u8; 41]), Err(CidTooLong));
        assert_eq!(parse_cid(&[]), Err(CidTruncated));
        assert_eq!(parse_cid(&ok[..20]), Err(CidTruncated));
        let mut trailing = ok.clone();
        trailing.push(0);
        assert_eq!(parse_cid(&trailing), Err(CidTrailingBytes));
        assert_eq!(
            parse_cid(&v1(&[0x55], 0x00, 32, &[9; 32])),
            Err(CidIdentityHash)
        );
        assert_eq!(
            parse_cid(&v1(&[0x55], 0x13, 32, &[9; 32])),
            Err(CidHashFunction)
        );
        assert_eq!(parse_cid(&v1(&[0x56], 0x12, 32, &[9; 32])), Err(CidCodec));
        assert_eq!(
            parse_cid(&v1(&[0x55], 0x12, 31, &[9; 31])),
            Err(CidDigestLength)
        );
        assert_eq!(parse_cid(&v1(&[0x55], 0x12, 32, &[0; 32])), Err(ZeroHash));
        // non-minimal varint for raw (0x55 written as 0xd5 0x00)
        assert_eq!(
            parse_cid(&v1(&[0xd5, 0x00], 0x12, 32, &[9; 32])),
            Err(CidVarint)
        );
        // varint that never ends
        assert_eq!(parse_cid(&[0x01, 0xff, 0xff, 0xff, 0x01]), Err(CidVarint));
        let mut v2 = ok.clone();
        v2[0] = 2;
        assert_eq!(parse_cid(&v2), Err(CidVersion));
        // first byte 0x12 but not a 34-byte v0: "there will be no CIDv18"
        assert_eq!(parse_cid(&[0x12, 0x20, 1, 2]), Err(CidVersion));
    }
}
