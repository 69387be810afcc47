//! IPFS trustless gateway: a record's ciphertext served by CID, block by block or as a CAR,
//! to any IPFS client, which checks every block against its CID (the subset of the IPFS HTTP
//! Gateway specification that clients verify: specs.ipfs.tech/http-gateways/trustless-gateway).
//!
//! Both ends live here:
//! - the gateway's side: [`BlockIndex`], where each block of a stored file's DAG is (a leaf
//!   is a range of the file, kept as a place, not as bytes; a parent node is kept whole), and
//!   the block order of a CAR ([`ObjectBlocks::car_order`]);
//! - the reader's side: [`extract_car`], which takes a CAR from any gateway, checks every
//!   block's hash against its CID and its place in the DAG (depth first, from the anchored
//!   root), and writes the file's bytes out; the caller then checks them once more against the
//!   anchor (SHA-256, CID) while it decrypts them.
//!
//! No key and no consent is involved: the bytes are ciphertext.
use crate::car::{encode_header, CarReader};
use crate::unixfs::{self, BlockSink, Profile, CODEC_DAG_PB, CODEC_RAW};
use crate::RecordsError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom, Write};

/// `GET|HEAD`: a block or a DAG by CID (axum's route syntax).
pub const IPFS_PATH: &str = "/ipfs/{cid}";
/// A single block, its bytes as they hash to the CID.
pub const RAW_TYPE: &str = "application/vnd.ipld.raw";
/// A CARv1 of the DAG under the CID.
pub const CAR_TYPE: &str = "application/vnd.ipld.car";
/// What a CAR answer says of itself: version 1, blocks depth first, a block repeated
/// wherever the DAG repeats it (IPIP-412).
pub const CAR_RESPONSE_TYPE: &str = "application/vnd.ipld.car; version=1; order=dfs; dups=y";
/// A block never changes under its CID.
pub const IMMUTABLE: &str = "public, max-age=29030400, immutable";
/// Multihash code of sha2-256, the only hash a record's DAG uses.
const SHA2_256: u64 = 0x12;

/// The two answers a trustless gateway gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Raw,
    Car,
}

impl Format {
    /// The `?format=` value.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Car => "car",
        }
    }
}

/// Why a request names no answer this gateway gives.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("format={0} is not served here: ask for format=raw (a block) or format=car (the DAG)")]
    UnknownFormat(String),
    #[error("this is a trustless gateway: it answers only verifiable responses; ask with ?format=raw or ?format=car, or Accept: application/vnd.ipld.raw or application/vnd.ipld.car")]
    NotAcceptable,
}

/// The answer asked for: `?format=` wins over `Accept` (as the specification orders), and the
/// first trustless type in `Accept` counts.
pub fn format_of(query: Option<&str>, accept: Option<&str>) -> Result<Format, FormatError> {
    if let Some(format) = query {
        return match format {
            "raw" => Ok(Format::Raw),
            "car" => Ok(Format::Car),
            other => Err(FormatError::UnknownFormat(other.chars().take(64).collect())),
        };
    }
    accept
        .unwrap_or_default()
        .split(',')
        .find_map(
            |item| match item.split(';').next().unwrap_or_default().trim() {
                RAW_TYPE => Some(Format::Raw),
                CAR_TYPE => Some(Format::Car),
                _ => None,
            },
        )
        .ok_or(FormatError::NotAcceptable)
}

/// Why a CID in a path is refused before any lookup.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidRefusal {
    #[error("`{0}` is not a CID")]
    Malformed(String),
    #[error("{0}: a record's blocks are raw or dag-pb, hashed with sha2-256; this gateway holds nothing else")]
    NotOurs(String),
}

/// The binary CID a path names, if it is one a record's DAG could contain.
pub fn parse_cid(text: &str) -> Result<Vec<u8>, CidRefusal> {
    let shown = || text.chars().take(100).collect::<String>();
    let cid = cid::Cid::try_from(text).map_err(|_| CidRefusal::Malformed(shown()))?;
    let ours = cid.hash().code() == SHA2_256
        && cid.hash().size() == 32
        && (cid.codec() == u64::from(CODEC_RAW) || cid.codec() == u64::from(CODEC_DAG_PB));
    if !ours {
        return Err(CidRefusal::NotOurs(shown()));
    }
    Ok(cid.to_bytes())
}

/// Where a block of a stored file is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// A leaf: the chunk at `len` bytes from `offset` of the file (framed as a dag-pb leaf
    /// for the v0 profile).
    Leaf { offset: u64, len: u64 },
    /// A parent node, whole (standard base64).
    Node { data: String },
}

/// Every distinct block of a stored file's DAG, by CID, as the gateway keeps it next to the
/// file. A parent is about 40 bytes a link, so a 1 GiB file's index is a few kilobytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockIndex {
    /// The root CID, as IPFS prints it.
    pub root: String,
    /// The profile the DAG was built with.
    pub profile: String,
    pub file_size: u64,
    /// (CID as IPFS prints it, where the block is), leaves before their parents.
    pub blocks: Vec<(String, Place)>,
}

/// Collects the places of a DAG's blocks as the builder hands them over.
struct IndexSink {
    blocks: Vec<(String, Place)>,
    seen: std::collections::HashSet<Vec<u8>>,
}

/// A binary CID as IPFS prints it (base58 `Qm…` for v0, base32 `b…` for v1): a stored
/// object's file name.
pub fn cid_text(cid: &[u8]) -> Result<String, RecordsError> {
    cid::Cid::try_from(cid)
        .map(|c| c.to_string())
        .map_err(|e| RecordsError::InvalidCid(e.to_string()))
}

impl BlockSink for IndexSink {
    fn block(&mut self, cid: &[u8], data: &[u8]) -> Result<(), RecordsError> {
        if self.seen.insert(cid.to_vec()) {
            let data = crate::protocol::base64().encode(data);
            self.blocks.push((cid_text(cid)?, Place::Node { data }));
        }
        Ok(())
    }

    fn leaf(
        &mut self,
        cid: &[u8],
        _data: &[u8],
        offset: u64,
        len: u64,
    ) -> Result<(), RecordsError> {
        if self.seen.insert(cid.to_vec()) {
            self.blocks
                .push((cid_text(cid)?, Place::Leaf { offset, len }));
        }
        Ok(())
    }
}

use base64::Engine;

impl BlockIndex {
    /// Indexes the file `reader` yields, whose DAG under `profile` must have the root `root`
    /// (binary): a stored object that is not what its name says is refused.
    pub fn build(
        reader: impl Read,
        profile: Profile,
        root: &[u8],
    ) -> Result<BlockIndex, RecordsError> {
        let sink = IndexSink {
            blocks: Vec::new(),
            seen: Default::default(),
        };
        let (built, sink) = unixfs::dag_of_reader(reader, profile, sink)?;
        if built.cid != root {
            return Err(RecordsError::InvalidInput(format!(
                "the file's {} root is {}, not {}",
                profile.name(),
                built.cid_string(),
                cid_text(root)?
            )));
        }
        Ok(BlockIndex {
            root: built.cid_string(),
            profile: profile.name().into(),
            file_size: built.file_size,
            blocks: sink.blocks,
        })
    }
}

/// A [`BlockIndex`] ready for lookups: binary CIDs, decoded parents, and each parent's links.
#[derive(Debug)]
pub struct ObjectBlocks {
    /// The root CID, as IPFS prints it (the stored file's name).
    pub root: String,
    pub profile: Profile,
    pub file_size: u64,
    blocks: Vec<(Vec<u8>, Stored)>,
    position: HashMap<Vec<u8>, usize>,
}

#[derive(Debug)]
enum Stored {
    Leaf { offset: u64, len: u64 },
    Node { data: Vec<u8>, links: Vec<Vec<u8>> },
}

impl ObjectBlocks {
    /// Checks an index read back from disk: every CID parses, every parent decodes and hashes
    /// to its CID, every leaf is at most a chunk and lies within the file, every link is
    /// indexed. (The caller checks `file_size` against the object on disk.)
    pub fn new(index: &BlockIndex) -> Result<ObjectBlocks, RecordsError> {
        let profile = Profile::from_name(&index.profile)?;
        let mut blocks = Vec::with_capacity(index.blocks.len());
        let mut position = HashMap::with_capacity(index.blocks.len());
        for (text, place) in &index.blocks {
            let cid = parse_cid(text).map_err(|e| RecordsError::InvalidCid(e.to_string()))?;
            let stored = match place {
                Place::Leaf { offset, len } => {
                    if offset
                        .checked_add(*len)
                        .is_none_or(|end| end > index.file_size)
                        || *len > profile.chunk_size() as u64
                    {
                        return Err(RecordsError::InvalidInput(format!(
                            "block {text} lies past the end of the file, or is longer than a chunk"
                        )));
                    }
                    Stored::Leaf {
                        offset: *offset,
                        len: *len,
                    }
                }
                Place::Node { data } => {
                    let data = crate::protocol::base64()
                        .decode(data)
                        .map_err(|e| RecordsError::InvalidInput(e.to_string()))?;
                    check_hash(&cid, &data)?;
                    let links = unixfs::decode_file_node(&data)?.links;
                    Stored::Node { data, links }
                }
            };
            position.insert(cid.clone(), blocks.len());
            blocks.push((cid, stored));
        }
        let indexed = |c: &Vec<u8>| position.contains_key(c);
        let root = parse_cid(&index.root).map_err(|e| RecordsError::InvalidCid(e.to_string()))?;
        let whole = indexed(&root)
            && blocks.iter().all(|(_, s)| match s {
                Stored::Node { links, .. } => links.iter().all(indexed),
                Stored::Leaf { .. } => true,
            });
        if !whole {
            return Err(RecordsError::InvalidInput(format!(
                "the index of {} lacks blocks its DAG links to",
                index.root
            )));
        }
        Ok(ObjectBlocks {
            root: index.root.clone(),
            profile,
            file_size: index.file_size,
            blocks,
            position,
        })
    }

    /// The binary CIDs of every block.
    pub fn cids(&self) -> impl Iterator<Item = &[u8]> {
        self.blocks.iter().map(|(cid, _)| cid.as_slice())
    }

    /// Whether `cid` is a block of this DAG.
    pub fn holds(&self, cid: &[u8]) -> bool {
        self.position.contains_key(cid)
    }

    /// A block's bytes, a leaf read from `file` (the stored object).
    pub fn block(
        &self,
        cid: &[u8],
        file: &mut (impl Read + Seek),
    ) -> Result<Option<Vec<u8>>, RecordsError> {
        let Some(&i) = self.position.get(cid) else {
            return Ok(None);
        };
        let Some((_, stored)) = self.blocks.get(i) else {
            return Ok(None);
        };
        Ok(Some(match stored {
            Stored::Node { data, .. } => data.clone(),
            Stored::Leaf { offset, len } => {
                file.seek(SeekFrom::Start(*offset))?;
                let mut chunk = vec![0u8; usize::try_from(*len).unwrap_or(usize::MAX)];
                file.read_exact(&mut chunk)?;
                let block = unixfs::leaf_block(self.profile, &chunk);
                // the file on disk may have been changed under the index: never serve a
                // block that is not its CID
                check_hash(cid, &block)?;
                block
            }
        }))
    }

    /// The blocks of the DAG under `cid`, depth first (a parent, then each child's subtree in
    /// link order), each as often as the DAG links to it: the order of a CAR with
    /// `order=dfs; dups=y`. Bounded: a DAG the builder made is a tree of at most
    /// `file_size / chunk + levels` nodes, and the walk stops at twice the index's size.
    pub fn car_order(&self, cid: &[u8]) -> Result<Vec<Vec<u8>>, RecordsError> {
        let limit = self.blocks.len().saturating_mul(2).saturating_add(16);
        let mut order = Vec::new();
        let mut stack = vec![cid.to_vec()];
        while let Some(next) = stack.pop() {
            if order.len() >= limit {
                return Err(RecordsError::InvalidInput(format!(
                    "the DAG of {} repeats blocks past {limit}",
                    self.root
                )));
            }
            let Some((_, stored)) = self.position.get(&next).and_then(|&i| self.blocks.get(i))
            else {
                return Err(RecordsError::InvalidInput(format!(
                    "block {} is not in the index of {}",
                    cid_text(&next)?,
                    self.root
                )));
            };
            if let Stored::Node { links, .. } = stored {
                stack.extend(links.iter().rev().cloned());
            }
            order.push(next);
        }
        Ok(order)
    }
}

/// The CARv1 header with `root` as its only root.
pub fn car_header(root: &[u8]) -> Vec<u8> {
    encode_header(&[root])
}

/// One CARv1 section: `varint(len(cid) + len(data)) || cid || data`.
pub fn car_section(cid: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = crate::car::section_head(cid, data.len());
    out.extend_from_slice(data);
    out
}

fn check_hash(cid: &[u8], data: &[u8]) -> Result<(), RecordsError> {
    use sha2::Digest;
    let parsed = cid::Cid::try_from(cid).map_err(|e| RecordsError::InvalidCid(e.to_string()))?;
    if parsed.hash().digest() != sha2::Sha256::digest(data).as_slice() {
        return Err(RecordsError::InvalidInput(format!(
            "block {parsed} does not hash to its CID"
        )));
    }
    Ok(())
}

/// Why a CAR from a gateway is not the file under the anchored root.
#[derive(Debug, thiserror::Error)]
pub enum CarRefusal {
    #[error("the CAR's roots are not the anchored CID {0}")]
    WrongRoot(String),
    #[error("block {index} is {got}, where the DAG of {root} has {expected}")]
    OutOfPlace {
        index: u64,
        got: String,
        expected: String,
        root: String,
    },
    #[error("the CAR ended before the DAG of {root} did ({missing} blocks missing)")]
    Truncated { root: String, missing: usize },
    #[error("the CAR gives more than {max} bytes, the largest record the custodian stores")]
    TooLarge { max: u64 },
    #[error("block {index} ({cid}) is not part of a UnixFS file: {why}")]
    NotAFile {
        index: u64,
        cid: String,
        why: String,
    },
    #[error("{0}")]
    Car(#[from] RecordsError),
}

/// Reads a CAR of the DAG under `root` (binary CID) from any gateway and writes the file's
/// bytes to `out`, in order: every block must hash to its CID (checked by [`CarReader`]) and
/// be the next block of the DAG, depth first from `root`; at most `max_bytes` are written.
/// Reading stops when the DAG is whole. Returns the bytes written. Nothing but the file's own bytes reaches `out`, but a refusal
/// may come after some were written: write to a scratch file.
pub fn extract_car(
    reader: impl Read,
    root: &[u8],
    max_bytes: u64,
    mut out: impl Write,
) -> Result<u64, CarRefusal> {
    let root_text = cid_text(root)?;
    let mut car = CarReader::new(reader)?;
    if car.roots() != [root.to_vec()] {
        return Err(CarRefusal::WrongRoot(root_text));
    }
    let mut expected = vec![root.to_vec()];
    let mut written = 0u64;
    let mut index = 0u64;
    // each link is at least 34 bytes of some block, and the blocks are bounded by max_bytes
    // plus their framing: a stack past this is no file of that size
    let max_pending = usize::try_from(max_bytes / 1024)
        .unwrap_or(usize::MAX)
        .saturating_add(4096);
    // stops as soon as the DAG is whole: what a gateway sends after it (or a connection it
    // holds open) is never read
    while let Some(want) = expected.pop() {
        let Some((cid, data)) = car.next_block()? else {
            return Err(CarRefusal::Truncated {
                root: root_text,
                missing: expected.len() + 1,
            });
        };
        if cid != want {
            return Err(CarRefusal::OutOfPlace {
                index,
                got: cid_text(&cid)?,
                expected: cid_text(&want)?,
                root: root_text,
            });
        }
        let bytes = match cid.first() {
            // CIDv1: 0x01, then the codec
            Some(1) if cid.get(1) == Some(&CODEC_RAW) => data,
            _ => {
                let node = unixfs::decode_file_node(&data).map_err(|e| CarRefusal::NotAFile {
                    index,
                    cid: cid_text(&cid).unwrap_or_default(),
                    why: e.to_string(),
                })?;
                if expected.len().saturating_add(node.links.len()) > max_pending {
                    return Err(CarRefusal::TooLarge { max: max_bytes });
                }
                expected.extend(node.links.into_iter().rev());
                node.data
            }
        };
        written = written.saturating_add(bytes.len() as u64);
        if written > max_bytes {
            return Err(CarRefusal::TooLarge { max: max_bytes });
        }
        out.write_all(&bytes).map_err(RecordsError::Io)?;
        index += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unixfs::tests::content;
    use sha2::Digest;
    use std::io::Cursor;

    /// The whole CAR of a stored file, in [`ObjectBlocks::car_order`]: the sections the
    /// gateway streams, written at once.
    fn write_car(
        blocks: &ObjectBlocks,
        cid: &[u8],
        file: &mut (impl Read + Seek),
        mut out: impl Write,
    ) -> Result<(), RecordsError> {
        out.write_all(&car_header(cid))?;
        for next in blocks.car_order(cid)? {
            let data = blocks
                .block(&next, file)?
                .ok_or_else(|| RecordsError::InvalidInput("a block left the index".into()))?;
            out.write_all(&car_section(&next, &data))?;
        }
        Ok(())
    }

    fn stored(len: usize, profile: Profile) -> (Vec<u8>, Vec<u8>, ObjectBlocks) {
        let file = content(len);
        let root = unixfs::cid_of_reader(&file[..], profile).unwrap();
        let index = BlockIndex::build(&file[..], profile, &root.cid).unwrap();
        // what the gateway writes and reads back
        let json = serde_json::to_vec(&index).unwrap();
        let index: BlockIndex = serde_json::from_slice(&json).unwrap();
        (file, root.cid, ObjectBlocks::new(&index).unwrap())
    }

    #[test]
    fn a_car_of_the_index_gives_the_file_back_for_both_profiles() {
        for profile in Profile::ALL {
            for len in [0, 1, profile.chunk_size(), 3 * profile.chunk_size() + 7] {
                let (file, root, blocks) = stored(len, profile);
                let mut car = Vec::new();
                write_car(&blocks, &root, &mut Cursor::new(&file), &mut car).unwrap();
                // an independent reading: every block hashes to its CID
                let (roots, all) = crate::car::read_car(&car[..]).unwrap();
                assert_eq!(roots, vec![root.clone()]);
                assert_eq!(all.first().map(|b| b.0.clone()), Some(root.clone()));
                let mut out = Vec::new();
                let n = extract_car(&car[..], &root, len as u64, &mut out).unwrap();
                assert_eq!((n, out), (len as u64, file), "{profile:?} {len}");
            }
        }
    }

    #[test]
    fn every_block_is_served_as_it_hashes() {
        let profile = Profile::UnixfsV0_2015;
        let (file, _, blocks) = stored(2 * profile.chunk_size() + 5, profile);
        let cids: Vec<Vec<u8>> = blocks.cids().map(<[u8]>::to_vec).collect();
        assert_eq!(cids.len(), 4, "three leaves and a parent");
        for cid in cids {
            let block = blocks
                .block(&cid, &mut Cursor::new(&file))
                .unwrap()
                .unwrap();
            check_hash(&cid, &block).unwrap();
        }
    }

    #[test]
    fn a_file_changed_under_its_index_is_not_served() {
        let profile = Profile::UnixfsV1_2025;
        let (mut file, _, blocks) = stored(profile.chunk_size() + 1, profile);
        let leaf = blocks.cids().next().unwrap().to_vec();
        file[3] ^= 1;
        assert!(blocks.block(&leaf, &mut Cursor::new(&file)).is_err());
    }

    #[test]
    fn an_index_of_another_file_is_refused() {
        let profile = Profile::UnixfsV1_2025;
        let other = unixfs::cid_of_reader(&b"other"[..], profile).unwrap();
        assert!(BlockIndex::build(&content(10)[..], profile, &other.cid).is_err());
    }

    /// The CAR of a two-chunk file, and its root.
    fn car_of(len: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let profile = Profile::UnixfsV1_2025;
        let (file, root, blocks) = stored(len, profile);
        let mut car = Vec::new();
        write_car(&blocks, &root, &mut Cursor::new(&file), &mut car).unwrap();
        (file, root, car)
    }

    #[test]
    fn a_lying_gateway_is_caught_block_by_block() {
        let len = Profile::UnixfsV1_2025.chunk_size() + 10;
        let (_, root, car) = car_of(len);
        let max = len as u64;
        // a flipped byte in the last leaf: its hash no longer matches its CID
        let mut flipped = car.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x40;
        let e = extract_car(&flipped[..], &root, max, Vec::new()).unwrap_err();
        assert!(e.to_string().contains("does not hash"), "{e}");
        // a CAR of another file under its own root
        let (_, other_root, other) = car_of(len + 1);
        let e = extract_car(&other[..], &root, max, Vec::new()).unwrap_err();
        assert!(matches!(e, CarRefusal::WrongRoot(_)), "{e}");
        // blocks that hash but are not this DAG's: the other CAR's sections after our header
        let header = car_header(&root);
        let other_header = car_header(&other_root);
        let mut mixed = header.clone();
        mixed.extend_from_slice(&other[other_header.len()..]);
        let e = extract_car(&mixed[..], &root, max + 1, Vec::new()).unwrap_err();
        assert!(matches!(e, CarRefusal::OutOfPlace { .. }), "{e}");
        // cut short, and padded
        let short = &car[..car.len() - len / 2];
        assert!(extract_car(short, &root, max, Vec::new()).is_err());
        // what follows a whole DAG is not read: a bad section after it changes nothing
        let mut padded = car.clone();
        padded.extend_from_slice(&car_section(&root, b"x"));
        let mut out = Vec::new();
        assert_eq!(extract_car(&padded[..], &root, max, &mut out).unwrap(), max);
        assert_eq!(out.len() as u64, max);
        // more bytes than the anchor says
        let e = extract_car(&car[..], &root, max - 1, Vec::new()).unwrap_err();
        assert!(matches!(e, CarRefusal::TooLarge { .. }), "{e}");
    }

    /// A dag-pb file node linking to `links` CIDv0s that exist nowhere, and its CIDv1.
    fn node_with_links(links: usize) -> (Vec<u8>, Vec<u8>) {
        let mut block = Vec::new();
        for i in 0..links {
            let mut hash = vec![0x12, 32];
            hash.extend_from_slice(&sha2::Sha256::digest(i.to_le_bytes()));
            // PBLink { Hash }
            block.extend_from_slice(&[0x12, 36, 0x0a, 34]);
            block.extend_from_slice(&hash);
        }
        // Data: UnixFS { Type: File }
        block.extend_from_slice(&[0x0a, 2, 0x08, 2]);
        let mut cid = vec![0x01, CODEC_DAG_PB, 0x12, 32];
        cid.extend_from_slice(&sha2::Sha256::digest(&block));
        (block, cid)
    }

    #[test]
    fn a_root_with_more_links_than_the_size_allows_is_refused_before_its_children() {
        let (block, cid) = node_with_links(5_000);
        let mut car = car_header(&cid);
        car.extend_from_slice(&car_section(&cid, &block));
        // 5,000 pending links for a file of at most 1 KiB: refused at the root
        let e = extract_car(&car[..], &cid, 1024, Vec::new()).unwrap_err();
        assert!(matches!(e, CarRefusal::TooLarge { .. }), "{e}");
        // with room for them, the walk asks for the first child, which is not there
        let e = extract_car(&car[..], &cid, 1 << 30, Vec::new()).unwrap_err();
        assert!(
            matches!(e, CarRefusal::Truncated { missing: 5_000, .. }),
            "{e}"
        );
    }

    #[test]
    fn an_index_read_back_is_checked_whole() {
        let profile = Profile::UnixfsV1_2025;
        let file = content(2 * profile.chunk_size() + 3);
        let root = unixfs::cid_of_reader(&file[..], profile).unwrap();
        let good = BlockIndex::build(&file[..], profile, &root.cid).unwrap();
        assert!(ObjectBlocks::new(&good).is_ok());
        // a linked block missing
        let mut missing = good.clone();
        missing.blocks.remove(0);
        assert!(ObjectBlocks::new(&missing).is_err());
        // a leaf past the end, and a leaf longer than a chunk (the file size raised to match)
        let mut past = good.clone();
        past.blocks[0].1 = Place::Leaf {
            offset: good.file_size,
            len: 1,
        };
        assert!(ObjectBlocks::new(&past).is_err());
        let mut long = good.clone();
        long.file_size = 1 << 46;
        long.blocks[0].1 = Place::Leaf {
            offset: 0,
            len: 1 << 45,
        };
        assert!(ObjectBlocks::new(&long).is_err());
        // a parent that does not hash to its CID
        let mut forged = good.clone();
        let last = forged.blocks.len() - 1;
        forged.blocks[last].1 = Place::Node {
            data: crate::protocol::base64().encode(b"not the node"),
        };
        assert!(ObjectBlocks::new(&forged).is_err());
    }

    #[test]
    fn formats_and_cids_are_read_as_the_specification_says() {
        assert_eq!(format_of(Some("car"), Some(RAW_TYPE)), Ok(Format::Car));
        assert_eq!(
            format_of(None, Some("text/html, application/vnd.ipld.raw;q=0.9")),
            Ok(Format::Raw)
        );
        assert_eq!(
            format_of(None, Some("*/*")),
            Err(FormatError::NotAcceptable)
        );
        assert!(matches!(
            format_of(Some("tar"), None),
            Err(FormatError::UnknownFormat(_))
        ));
        let raw = unixfs::cid_of_reader(&b"x"[..], Profile::UnixfsV1_2025).unwrap();
        assert_eq!(parse_cid(&raw.cid_string()), Ok(raw.cid.clone()));
        let v0 = unixfs::cid_of_reader(&b"x"[..], Profile::UnixfsV0_2015).unwrap();
        assert_eq!(parse_cid(&v0.cid_string()), Ok(v0.cid.clone()));
        assert!(matches!(parse_cid("hello"), Err(CidRefusal::Malformed(_))));
        // dag-cbor (0x71), and an identity hash
        let cbor = cid::Cid::new_v1(
            0x71,
            cid::multihash::Multihash::wrap(0x12, &[7; 32]).unwrap(),
        );
        assert!(matches!(
            parse_cid(&cbor.to_string()),
            Err(CidRefusal::NotOurs(_))
        ));
        let identity = cid::Cid::new_v1(0x55, cid::multihash::Multihash::wrap(0, b"hi").unwrap());
        assert!(matches!(
            parse_cid(&identity.to_string()),
            Err(CidRefusal::NotOurs(_))
        ));
    }
}
