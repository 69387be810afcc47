//! CARv1 archives (IPLD "Content Addressable aRchives", version 1) of a file's UnixFS DAG, the
//! form `ipfs dag import` and pinning services take.
//!
//! A CARv1 is a header then blocks, each prefixed by its length as an unsigned varint:
//! - header: `varint(n) || DAG-CBOR {"roots": [CID...], "version": 1}`, each CID as CBOR tag
//!   42 around the byte string `0x00 || binary CID`;
//! - block: `varint(len(cid) + len(data)) || cid || data`.
//!
//! The header is one fixed shape, so it is written and read by hand here rather than through a
//! general CBOR library: a map of two text keys in DAG-CBOR's canonical order (shorter key
//! first: "roots" before "version"), an array of tagged byte strings and the integer 1.
use crate::unixfs::{self, put_varint, BlockSink, Profile, Root};
use crate::RecordsError;
use sha2::{Digest, Sha256};
use std::collections::{HashSet, VecDeque};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// Longest header read back (a header with one root is under 60 bytes).
pub const MAX_HEADER_LEN: u64 = 1 << 20;
/// Longest block section read back: CID and data. Our blocks are at most one 1 MiB chunk (plus
/// a few bytes for a v0 leaf); IPFS implementations cap blocks at 1 to 2 MiB.
pub const MAX_SECTION_LEN: u64 = 4 << 20;
/// Distinct CIDs the writer remembers to skip repeats (see [`CarBlocks`]): about 5 MiB, all
/// the blocks of a 64 GiB file at 1 MiB chunks.
pub const DEDUP_CIDS: usize = 1 << 16;
/// Past [`DEDUP_CIDS`], the last written CIDs still remembered (runs of identical chunks).
const RECENT_CIDS: usize = 16;

/// CBOR major types used by the header.
const MAJOR_UINT: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
/// CBOR tag of an IPLD link (CID) in DAG-CBOR.
const TAG_CID: u64 = 42;

/// Writes the file's DAG for `profile` as a CARv1 with the DAG root as its only root.
///
/// Two passes over the file: the first finds the root (the header comes first), the second
/// writes the blocks, leaves before their parents and the root last. A file that changes
/// between the passes is an error (the CAR written is then not usable). Returns the root.
pub fn write_car(path: &Path, profile: Profile, out: impl Write) -> Result<Root, RecordsError> {
    let what = path.display().to_string();
    write_car_from(|| std::fs::File::open(path), profile, out, &what)
}

/// [`write_car`] over whatever `open` gives, once for each pass.
fn write_car_from<R: Read>(
    mut open: impl FnMut() -> std::io::Result<R>,
    profile: Profile,
    out: impl Write,
    what: &str,
) -> Result<Root, RecordsError> {
    let root = unixfs::cid_of_reader(open().map_err(RecordsError::Io)?, profile)?;
    let mut out = BufWriter::new(out);
    out.write_all(&encode_header(&[&root.cid]))
        .map_err(RecordsError::Io)?;
    let second = open().map_err(RecordsError::Io)?;
    let (again, _) = unixfs::dag_of_reader(second, profile, CarBlocks::new(&mut out))?;
    if again.cid != root.cid {
        return Err(RecordsError::InvalidInput(format!(
            "{what} changed while its CAR was being written"
        )));
    }
    out.flush().map_err(RecordsError::Io)?;
    Ok(root)
}

/// The CARv1 header with `roots`, its length prefix included.
pub fn encode_header(roots: &[&[u8]]) -> Vec<u8> {
    let mut cbor = Vec::with_capacity(32 + 40 * roots.len());
    cbor_head(&mut cbor, MAJOR_MAP, 2);
    cbor_text(&mut cbor, "roots");
    cbor_head(&mut cbor, MAJOR_ARRAY, roots.len() as u64);
    for cid in roots {
        cbor_head(&mut cbor, MAJOR_TAG, TAG_CID);
        // the 0x00 multibase "identity" prefix DAG-CBOR puts before a binary CID
        cbor_head(&mut cbor, MAJOR_BYTES, cid.len() as u64 + 1);
        cbor.push(0x00);
        cbor.extend_from_slice(cid);
    }
    cbor_text(&mut cbor, "version");
    cbor_head(&mut cbor, MAJOR_UINT, 1);
    let mut header = Vec::with_capacity(cbor.len() + 4);
    put_varint(&mut header, cbor.len() as u64);
    header.extend_from_slice(&cbor);
    header
}

/// A [`BlockSink`] writing each block as a CARv1 section.
///
/// Identical chunks give identical blocks (and identical parents above them); each is written
/// once: the writer remembers the first [`DEDUP_CIDS`] distinct CIDs and, past those, the last
/// 16, so memory stays bounded. Only a repeat of a block outside both (in a DAG of more than
/// 65,536 distinct blocks) is written again; CARv1 allows duplicate blocks and readers such as
/// `@ipld/car` accept them.
pub struct CarBlocks<W: Write> {
    out: W,
    seen: HashSet<Vec<u8>>,
    recent: VecDeque<Vec<u8>>,
    written: u64,
}

impl<W: Write> CarBlocks<W> {
    pub fn new(out: W) -> Self {
        CarBlocks {
            out,
            seen: HashSet::new(),
            recent: VecDeque::with_capacity(RECENT_CIDS),
            written: 0,
        }
    }

    /// Blocks written (repeats skipped).
    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    /// Whether `cid` was written already, as far as the writer remembers; records it if not.
    fn repeat(&mut self, cid: &[u8]) -> bool {
        if self.seen.contains(cid) || self.recent.iter().any(|c| c.as_slice() == cid) {
            return true;
        }
        if self.seen.len() < DEDUP_CIDS {
            self.seen.insert(cid.to_vec());
        } else {
            if self.recent.len() == RECENT_CIDS {
                self.recent.pop_front();
            }
            self.recent.push_back(cid.to_vec());
        }
        false
    }
}

impl<W: Write> BlockSink for CarBlocks<W> {
    fn block(&mut self, cid: &[u8], data: &[u8]) -> Result<(), RecordsError> {
        if self.repeat(cid) {
            return Ok(());
        }
        self.out
            .write_all(&section_head(cid, data.len()))
            .map_err(RecordsError::Io)?;
        self.out.write_all(data).map_err(RecordsError::Io)?;
        self.written += 1;
        Ok(())
    }
}

/// What comes before a block's data in a CARv1 section: `varint(len(cid) + len(data)) || cid`.
pub fn section_head(cid: &[u8], data_len: usize) -> Vec<u8> {
    let mut head = Vec::with_capacity(cid.len() + 10);
    put_varint(&mut head, (cid.len() + data_len) as u64);
    head.extend_from_slice(cid);
    head
}

/// A block read from a CAR: (binary CID, data).
pub type Block = (Vec<u8>, Vec<u8>);

/// Reads a CARv1 back: its roots and all its blocks, each checked to hash (sha2-256) to its
/// CID. For tests and `careledger car --check`; [`CarReader`] streams instead.
pub fn read_car(reader: impl Read) -> Result<(Vec<Vec<u8>>, Vec<Block>), RecordsError> {
    let mut car = CarReader::new(reader)?;
    let mut blocks = Vec::new();
    while let Some(block) = car.next_block()? {
        blocks.push(block);
    }
    Ok((car.roots, blocks))
}

/// A streaming CARv1 reader: the header is read by [`CarReader::new`], then one block at a
/// time by [`CarReader::next_block`], each checked against its CID.
pub struct CarReader<R: Read> {
    reader: BufReader<R>,
    roots: Vec<Vec<u8>>,
    /// Blocks read so far (for error messages).
    index: u64,
}

impl<R: Read> CarReader<R> {
    /// Reads and checks the header: a DAG-CBOR map of exactly "roots" (CIDs) and "version" 1.
    pub fn new(reader: R) -> Result<Self, RecordsError> {
        let mut reader = BufReader::new(reader);
        let len = read_varint(&mut reader)?
            .ok_or_else(|| malformed("empty input: no CAR header".into()))?;
        if len == 0 || len > MAX_HEADER_LEN {
            return Err(malformed(format!("header length {len} out of range")));
        }
        let bytes = read_exactly(&mut reader, len, "header")?;
        let roots = decode_header(&bytes)?;
        Ok(CarReader {
            reader,
            roots,
            index: 0,
        })
    }

    /// Binary CIDs of the header's roots.
    pub fn roots(&self) -> &[Vec<u8>] {
        &self.roots
    }

    /// The next block as (binary CID, data), `None` at the end of the CAR. Errors for a
    /// truncated or oversized section, a malformed CID, a hash other than sha2-256, or data
    /// that does not hash to its CID.
    pub fn next_block(&mut self) -> Result<Option<Block>, RecordsError> {
        let Some(len) = read_varint(&mut self.reader)? else {
            return Ok(None);
        };
        let index = self.index;
        if len == 0 || len > MAX_SECTION_LEN {
            return Err(malformed(format!(
                "block {index}: section length {len} out of range"
            )));
        }
        let mut section = read_exactly(&mut self.reader, len, "block")?;
        let cid_len = checked_cid_len(&section, index)?;
        let data = section.split_off(cid_len);
        verify_block(&section, &data, index)?;
        self.index += 1;
        Ok(Some((section, data)))
    }
}

/// Length of the CID at the start of a block section, which must be followed by data.
fn checked_cid_len(section: &[u8], index: u64) -> Result<usize, RecordsError> {
    let mut rest = section;
    cid::Cid::read_bytes(&mut rest)
        .map_err(|e| RecordsError::InvalidCid(format!("block {index}: {e}")))?;
    Ok(section.len() - rest.len())
}

/// Checks that `data` hashes to `cid` (sha2-256 only: what both UnixFS profiles use).
fn verify_block(cid: &[u8], data: &[u8], index: u64) -> Result<(), RecordsError> {
    let parsed = cid::Cid::try_from(cid)
        .map_err(|e| RecordsError::InvalidCid(format!("block {index}: {e}")))?;
    if parsed.hash().code() != 0x12 || parsed.hash().size() != 32 {
        return Err(RecordsError::InvalidCid(format!(
            "block {index} ({parsed}): hash function {:#x} is not sha2-256",
            parsed.hash().code()
        )));
    }
    if Sha256::digest(data).as_slice() != parsed.hash().digest() {
        return Err(RecordsError::InvalidCid(format!(
            "block {index} ({parsed}): its data does not hash to its CID"
        )));
    }
    Ok(())
}

fn malformed(reason: String) -> RecordsError {
    RecordsError::InvalidInput(format!("malformed CAR: {reason}"))
}

/// Reads `len` bytes (already bounded by the caller), a short read being a truncated CAR.
fn read_exactly(reader: &mut impl Read, len: u64, what: &str) -> Result<Vec<u8>, RecordsError> {
    let mut bytes = Vec::new();
    reader
        .take(len)
        .read_to_end(&mut bytes)
        .map_err(RecordsError::Io)?;
    if (bytes.len() as u64) < len {
        return Err(malformed(format!(
            "{what} truncated: {} of {len} bytes",
            bytes.len()
        )));
    }
    Ok(bytes)
}

/// An unsigned LEB128 varint as multiformats defines it (minimal, at most 9 bytes for the
/// 63-bit values it allows); `None` at a clean end of input.
fn read_varint(reader: &mut impl Read) -> Result<Option<u64>, RecordsError> {
    let mut value = 0u64;
    for i in 0..9 {
        let mut byte = [0u8];
        let n = loop {
            match reader.read(&mut byte) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other.map_err(RecordsError::Io)?,
            }
        };
        if n == 0 {
            return if i == 0 {
                Ok(None)
            } else {
                Err(malformed("truncated length varint".into()))
            };
        }
        let b = byte[0];
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(malformed("length varint not minimally encoded".into()));
            }
            return Ok(Some(value));
        }
    }
    Err(malformed("length varint longer than 9 bytes".into()))
}

/// The roots of a CARv1 header's DAG-CBOR bytes.
fn decode_header(bytes: &[u8]) -> Result<Vec<Vec<u8>>, RecordsError> {
    let mut cbor = Cbor { bytes, pos: 0 };
    let entries = cbor.expect(MAJOR_MAP, "header map")?;
    let mut roots = None;
    let mut version = None;
    for _ in 0..entries {
        let key_len = cbor.expect(MAJOR_TEXT, "header key")?;
        match cbor.take(key_len)? {
            b"roots" if roots.is_none() => roots = Some(decode_roots(&mut cbor)?),
            b"version" if version.is_none() => version = Some(cbor.expect(MAJOR_UINT, "version")?),
            key => {
                return Err(malformed(format!(
                    "unexpected or repeated header key {:?}",
                    String::from_utf8_lossy(key)
                )))
            }
        }
    }
    if cbor.pos != bytes.len() {
        return Err(malformed("bytes after the header map".into()));
    }
    match version {
        Some(1) => {}
        Some(2) => {
            return Err(malformed(
                "this is a CARv2 (version 2); only CARv1 is read".into(),
            ))
        }
        Some(v) => return Err(malformed(format!("unsupported CAR version {v}"))),
        None => return Err(malformed("header has no version".into())),
    }
    roots.ok_or_else(|| malformed("header has no roots".into()))
}

/// The "roots" array: CIDs as tag 42 of `0x00 || binary CID`.
fn decode_roots(cbor: &mut Cbor<'_>) -> Result<Vec<Vec<u8>>, RecordsError> {
    let count = cbor.expect(MAJOR_ARRAY, "roots array")?;
    let mut roots = Vec::new();
    for _ in 0..count {
        if cbor.expect(MAJOR_TAG, "root CID tag")? != TAG_CID {
            return Err(malformed("a root is not a CID (tag 42)".into()));
        }
        let len = cbor.expect(MAJOR_BYTES, "root CID bytes")?;
        let bytes = cbor.take(len)?;
        let Some((&0x00, cid)) = bytes.split_first() else {
            return Err(malformed("a root CID lacks its 0x00 prefix".into()));
        };
        let mut rest = cid;
        cid::Cid::read_bytes(&mut rest)
            .map_err(|e| RecordsError::InvalidCid(format!("CAR root: {e}")))?;
        if !rest.is_empty() {
            return Err(RecordsError::InvalidCid(
                "CAR root: bytes after the CID".into(),
            ));
        }
        roots.push(cid.to_vec());
    }
    Ok(roots)
}

/// A cursor over the few CBOR items a CARv1 header holds (definite lengths only, as DAG-CBOR
/// requires).
struct Cbor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cbor<'_> {
    /// The next item's head, which must be of major type `major`: its argument (a count, a
    /// length, a tag or an integer).
    fn expect(&mut self, major: u8, what: &str) -> Result<u64, RecordsError> {
        let initial = *self.take(1)?.first().unwrap_or(&0xff);
        if initial >> 5 != major {
            return Err(malformed(format!(
                "expected {what} (CBOR major type {major}), found {initial:#04x}"
            )));
        }
        let value = match initial & 0x1f {
            small @ 0..=23 => u64::from(small),
            24 => u64::from(self.take(1)?.first().copied().unwrap_or(0)),
            25 => self.take_be(2)?,
            26 => self.take_be(4)?,
            27 => self.take_be(8)?,
            _ => return Err(malformed(format!("{what}: indefinite or reserved length"))),
        };
        Ok(value)
    }

    fn take_be(&mut self, n: usize) -> Result<u64, RecordsError> {
        Ok(self
            .take(n as u64)?
            .iter()
            .fold(0u64, |v, b| (v << 8) | u64::from(*b)))
    }

    fn take(&mut self, n: u64) -> Result<&[u8], RecordsError> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| malformed("header ends inside a CBOR item".into()))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }
}

/// A CBOR item head: major type and argument in the shortest form (DAG-CBOR's rule).
fn cbor_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, MAJOR_TEXT, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unixfs::tests::{content, Collect};
    use crate::unixfs::{dag_of_reader, CODEC_RAW};
    use std::collections::BTreeSet;

    /// The data in a temporary file, removed when dropped (nothing is left in TMPDIR).
    fn temp_file(data: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, data).unwrap();
        file
    }

    fn car_of(data: &[u8], profile: Profile, _name: &str) -> (Root, Vec<u8>) {
        let file = temp_file(data);
        let mut car = Vec::new();
        let root = write_car(file.path(), profile, &mut car).unwrap();
        (root, car)
    }

    #[test]
    fn header_bytes() {
        let cid =
            careledger_sdk::cid::cid_to_bytes("QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH")
                .unwrap();
        let header = encode_header(&[&cid]);
        let mut expected = vec![56, 0xa2, 0x65];
        expected.extend_from_slice(b"roots");
        expected.extend_from_slice(&[0x81, 0xd8, 0x2a, 0x58, 0x23, 0x00]);
        expected.extend_from_slice(&cid);
        expected.push(0x67);
        expected.extend_from_slice(b"version");
        expected.push(0x01);
        assert_eq!(header, expected);
        assert_eq!(decode_header(&header[1..]).unwrap(), vec![cid]);
    }

    #[test]
    fn round_trip_both_profiles() {
        for profile in Profile::ALL {
            let data = content(profile.chunk_size() * 2 + 5);
            let (root, car) = car_of(&data, profile, &format!("rt-{profile}"));
            assert_eq!(root, unixfs::cid_of_reader(&data[..], profile).unwrap());
            let (roots, blocks) = read_car(&car[..]).unwrap();
            assert_eq!(roots, vec![root.cid.clone()]);
            let (_, collected) = dag_of_reader(&data[..], profile, Collect::default()).unwrap();
            assert_eq!(blocks, collected.0, "{profile}: blocks in DAG order");
            assert_eq!(blocks.last().map(|(c, _)| c), Some(&root.cid));
            if profile == Profile::UnixfsV1_2025 {
                let leaves: Vec<u8> = blocks
                    .iter()
                    .filter(|(c, _)| c[1] == CODEC_RAW)
                    .flat_map(|(_, d)| d.iter().copied())
                    .collect();
                assert_eq!(leaves, data, "raw leaves in file order");
            }
        }
    }

    #[test]
    fn single_block_and_empty_files() {
        for profile in Profile::ALL {
            for len in [0, 1] {
                let (root, car) = car_of(&content(len), profile, &format!("small-{profile}-{len}"));
                let (roots, blocks) = read_car(&car[..]).unwrap();
                assert_eq!(roots, vec![root.cid.clone()]);
                assert_eq!(blocks.len(), 1);
                assert_eq!(blocks[0].0, root.cid);
            }
        }
    }

    #[test]
    fn repeated_chunks_are_written_once() {
        let profile = Profile::UnixfsV0_2015;
        let chunk = profile.chunk_size();
        // chunks A B A B A: five leaves of two kinds, and their parent
        let data: Vec<u8> = (0..5 * chunk).map(|i| (i / chunk % 2) as u8).collect();
        let (root, car) = car_of(&data, profile, "repeats");
        assert_eq!(root.blocks, 6);
        let (_, blocks) = read_car(&car[..]).unwrap();
        let cids: BTreeSet<&Vec<u8>> = blocks.iter().map(|(c, _)| c).collect();
        assert_eq!(blocks.len(), 3);
        assert_eq!(cids.len(), 3);
        assert_eq!(blocks[2].0, root.cid);
    }

    #[test]
    fn repeats_past_the_remembered_set_are_caught_in_runs() {
        let mut sink = CarBlocks::new(Vec::new());
        let cid = |i: u32| [&[0x01, 0x55, 0x12, 0x20][..], &[0; 28], &i.to_be_bytes()].concat();
        for i in 0..DEDUP_CIDS as u32 {
            sink.block(&cid(i), b"").unwrap();
        }
        sink.block(&cid(5), b"").unwrap(); // remembered
        let fresh = DEDUP_CIDS as u32 + 1;
        sink.block(&cid(fresh), b"").unwrap();
        sink.block(&cid(fresh), b"").unwrap(); // in the recent window
        assert_eq!(sink.written(), DEDUP_CIDS as u64 + 1);
        assert_eq!(sink.seen.len(), DEDUP_CIDS, "the set stays bounded");
    }

    #[test]
    fn malformed_headers_are_refused() {
        let cid = unixfs::cid_of_reader(&b"x"[..], Profile::default())
            .unwrap()
            .cid;
        let good = encode_header(&[&cid]);
        let with_len = |cbor: &[u8]| {
            let mut out = Vec::new();
            put_varint(&mut out, cbor.len() as u64);
            out.extend_from_slice(cbor);
            out
        };
        let mut version2 = good.clone();
        *version2.last_mut().unwrap() = 0x02;
        let mut wrong_tag = good.clone();
        assert_eq!(&wrong_tag[9..11], &[0xd8, 42]);
        wrong_tag[10] = 43;
        let carv2_pragma = [
            0x0a, 0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x02,
        ];
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("zero length", vec![0x00]),
            ("truncated", good[..good.len() - 3].to_vec()),
            ("too long", vec![0xff, 0xff, 0xff, 0x7f]),
            ("overlong varint", vec![0x80, 0x00]),
            ("not a map", with_len(&[0x80])),
            ("version 2", version2),
            ("carv2 pragma", carv2_pragma.to_vec()),
            ("root not tag 42", wrong_tag),
            (
                "no roots",
                with_len(&[0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 1]),
            ),
            ("indefinite map", with_len(&[0xbf, 0xff])),
            ("trailing", with_len(&[&good[1..], &[0x00][..]].concat())),
        ];
        for (what, bytes) in cases {
            let err = match CarReader::new(&bytes[..]) {
                Ok(_) => panic!("{what}: accepted"),
                Err(e) => e,
            };
            assert!(
                matches!(
                    err,
                    RecordsError::InvalidInput(_) | RecordsError::InvalidCid(_)
                ),
                "{what}: {err}"
            );
        }
        let err = CarReader::new(&carv2_pragma[..]).err().unwrap().to_string();
        assert!(err.contains("CARv2"), "{err}");
    }

    #[test]
    fn tampered_blocks_are_refused() {
        let data = content(Profile::UnixfsV0_2015.chunk_size() + 1);
        let (_, car) = car_of(&data, Profile::UnixfsV0_2015, "tamper");
        // flip a byte in the first leaf's data (after header, varint, 34-byte CID)
        let header_len = car[0] as usize + 1;
        let mut tampered = car.clone();
        tampered[header_len + 3 + 34 + 100] ^= 1;
        let err = read_car(&tampered[..]).unwrap_err().to_string();
        assert!(
            err.contains("block 0") && err.contains("does not hash"),
            "{err}"
        );
        // cut short inside the last block
        let err = read_car(&car[..car.len() - 1]).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        // a CID that is not one
        let mut bad_cid = encode_header(&[]);
        bad_cid.extend_from_slice(&[3, 0x05, 0x05, 0x05]);
        assert!(matches!(
            read_car(&bad_cid[..]),
            Err(RecordsError::InvalidCid(_))
        ));
        // an oversized section is refused before it is read
        let mut huge = encode_header(&[]);
        put_varint(&mut huge, MAX_SECTION_LEN + 1);
        let err = read_car(&huge[..]).unwrap_err().to_string();
        assert!(err.contains("out of range"), "{err}");
    }

    #[test]
    fn a_file_that_changes_between_passes_is_an_error() {
        let mut passes = [&b"original"[..], &b"changed"[..]].into_iter();
        let open = || {
            passes
                .next()
                .ok_or_else(|| std::io::Error::other("third pass"))
        };
        let err = write_car_from(open, Profile::default(), Vec::new(), "f.txt").unwrap_err();
        assert!(err.to_string().contains("f.txt changed"), "{err}");
    }
}
