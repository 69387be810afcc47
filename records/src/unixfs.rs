//! File CIDs computed exactly as IPFS computes them: the UnixFS DAG that the JavaScript importer
//! (npm `ipfs-unixfs-importer`, its `profile` option, IPIP-499) builds for a file, streamed.
//!
//! Two named profiles ([`Profile`]):
//! - `unixfs-v1-2025` (default): CIDv1, raw leaves, 1 MiB chunks, at most 1,024 links a node.
//! - `unixfs-v0-2015` (kubo's legacy default): CIDv0, 256 KiB chunks, 174 links a node, leaves
//!   are dag-pb nodes whose UnixFS `File` data holds the chunk.
//!
//! The rules reproduced, with the importer file each comes from:
//! - `chunker/fixed-size.ts`: fixed-size chunks, emitted as soon as one is full; the rest at the
//!   end if non-empty, and one empty chunk for an empty file.
//! - `dag-builder/buffer-importer.ts`: a leaf is the chunk itself (raw, 0x55, always CIDv1) or a
//!   dag-pb node with `Data = UnixFS { Type: File, Data: chunk, filesize }`.
//! - `dag-builder/file.ts` (`reduce`): the sole leaf of a one-chunk file is the file
//!   (`reduceSingleLeafToSelf`); any other group of nodes, even a group of one, becomes a
//!   parent: `Data = UnixFS { Type: File, filesize, blocksizes }` (one block size per link:
//!   the child's file bytes), one link per child with `Name = ""` and `Tsize` = the child's
//!   block length plus its own links' `Tsize`.
//! - `layout/balanced.ts`: groups of at most `max_links` nodes are reduced level by level until
//!   one node is left.
//! - `ipfs-unixfs` (`marshal`) and `@ipld/dag-pb` (`encodeNode`): the protobuf bytes; see
//!   [`unixfs_file_data`] and [`encode_parent`].
//!
//! [`DagBuilder`] holds one chunk and, for each tree level, the links not yet grouped (fewer
//! than `max_links`), so a file of any size streams in bounded memory.
use crate::RecordsError;
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::str::FromStr;

/// Multicodec of raw leaves.
pub const CODEC_RAW: u8 = 0x55;
/// Multicodec of dag-pb nodes.
pub const CODEC_DAG_PB: u8 = 0x70;
/// Multihash code of sha2-256.
const HASH_SHA2_256: u8 = 0x12;
/// UnixFS `Data.Type` of a file (`unixfs.proto`: RAW 0, DIRECTORY 1, FILE 2, ...).
const UNIXFS_TYPE_FILE: u64 = 2;

/// A named set of importer options (IPIP-499 profile names, as `ipfs-unixfs-importer` spells
/// them in its `index.ts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// CIDv1, raw leaves, 1 MiB chunks, 1,024 links a node, balanced.
    #[default]
    UnixfsV1_2025,
    /// CIDv0, dag-pb `File` leaves, 256 KiB chunks, 174 links a node, balanced.
    UnixfsV0_2015,
}

impl Profile {
    pub const ALL: [Profile; 2] = [Profile::UnixfsV1_2025, Profile::UnixfsV0_2015];

    pub fn name(self) -> &'static str {
        match self {
            Profile::UnixfsV1_2025 => "unixfs-v1-2025",
            Profile::UnixfsV0_2015 => "unixfs-v0-2015",
        }
    }

    pub fn from_name(name: &str) -> Result<Profile, RecordsError> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Profile::ALL.iter().map(|p| p.name()).collect();
                RecordsError::InvalidInput(format!(
                    "unknown CID profile {name:?}: expected one of {}",
                    names.join(", ")
                ))
            })
    }

    /// Bytes per leaf chunk.
    pub fn chunk_size(self) -> usize {
        self.params().chunk_size
    }

    /// Most links one dag-pb node has.
    pub fn max_links(self) -> usize {
        self.params().max_links
    }

    /// The profile a CID's form implies: CIDv0 (dag-pb, sha2-256) is `unixfs-v0-2015`; CIDv1
    /// raw or dag-pb with sha2-256 is `unixfs-v1-2025`. `None` for anything else (another
    /// codec or hash, or bytes that are not one whole CID).
    pub fn implied_by(cid_bytes: &[u8]) -> Option<Profile> {
        let mut rest = cid_bytes;
        let cid = cid::Cid::read_bytes(&mut rest).ok()?;
        if !rest.is_empty() || cid.hash().code() != u64::from(HASH_SHA2_256) {
            return None;
        }
        match (cid.version(), cid.codec()) {
            (cid::Version::V0, _) => Some(Profile::UnixfsV0_2015),
            (cid::Version::V1, codec)
                if codec == u64::from(CODEC_RAW) || codec == u64::from(CODEC_DAG_PB) =>
            {
                Some(Profile::UnixfsV1_2025)
            }
            _ => None,
        }
    }

    fn params(self) -> Params {
        match self {
            Profile::UnixfsV1_2025 => Params {
                cid_v0: false,
                chunk_size: 1_048_576,
                max_links: 1_024,
            },
            Profile::UnixfsV0_2015 => Params {
                cid_v0: true,
                chunk_size: 262_144,
                max_links: 174,
            },
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = RecordsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::from_name(s)
    }
}

/// The importer options a profile stands for. `cid_v0` also means dag-pb `File` leaves (the
/// v0 profile's `rawLeaves: false`); v1 means raw leaves.
#[derive(Clone, Copy, Debug)]
struct Params {
    cid_v0: bool,
    chunk_size: usize,
    max_links: usize,
}

/// Receives every block of the DAG as it is produced: leaves before their parents, root last.
/// Identical chunks give identical blocks, and each is handed over every time it occurs.
pub trait BlockSink {
    fn block(&mut self, cid: &[u8], data: &[u8]) -> Result<(), RecordsError>;

    /// A leaf block, with where its chunk lies in the file (`len` bytes from `offset`). By
    /// default just a [`BlockSink::block`]; an index of the file's blocks
    /// ([`crate::trustless::BlockIndex`]) keeps the place instead of the bytes.
    fn leaf(&mut self, cid: &[u8], data: &[u8], offset: u64, len: u64) -> Result<(), RecordsError> {
        let _ = (offset, len);
        self.block(cid, data)
    }
}

impl<S: BlockSink + ?Sized> BlockSink for &mut S {
    fn block(&mut self, cid: &[u8], data: &[u8]) -> Result<(), RecordsError> {
        (**self).block(cid, data)
    }

    fn leaf(&mut self, cid: &[u8], data: &[u8], offset: u64, len: u64) -> Result<(), RecordsError> {
        (**self).leaf(cid, data, offset, len)
    }
}

/// A sink that drops blocks, for computing only the CID.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBlocks;

impl BlockSink for NoBlocks {
    fn block(&mut self, _cid: &[u8], _data: &[u8]) -> Result<(), RecordsError> {
        Ok(())
    }
}

/// The root of a file's DAG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Root {
    /// Binary CID (CIDv0: the bare multihash).
    pub cid: Vec<u8>,
    /// Bytes of the file.
    pub file_size: u64,
    /// Bytes of all blocks of the DAG, counted as often as they are linked: the root's `Tsize`
    /// (what the importer reports as `size`).
    pub dag_size: u64,
    /// Blocks handed to the sink.
    pub blocks: u64,
}

impl Root {
    /// The CID as IPFS prints it: `Qm…` for v0, base32 `b…` for v1.
    pub fn cid_string(&self) -> String {
        match cid::Cid::try_from(self.cid.as_slice()) {
            Ok(cid) => cid.to_string(),
            // Unreachable: the builder only makes well-formed CIDs.
            Err(_) => self.cid.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// A link from a parent to a child node, with what the parent records about the child.
#[derive(Clone, Debug)]
struct Link {
    cid: Vec<u8>,
    /// The child's `Tsize`: its block length plus the `Tsize` of its own links.
    tsize: u64,
    /// Bytes of the file under the child (the parent's `blocksizes` entry for it).
    file_size: u64,
}

/// Room kept before the chunk so that a v0 leaf's protobuf head can be written in place: tag +
/// varint of the Data length, `08 02`, tag + varint of the chunk length, at most
/// 1 + 10 + 2 + 1 + 10 bytes.
const LEAF_HEADROOM: usize = 24;
/// Room after the chunk for a v0 leaf's `filesize` field (tag + varint).
const LEAF_TAILROOM: usize = 11;

/// The chunk being filled, with [`LEAF_HEADROOM`] bytes in front of it.
struct ChunkBuf {
    buf: Vec<u8>,
}

impl ChunkBuf {
    fn new(chunk_size: usize) -> Self {
        let mut buf = Vec::with_capacity(LEAF_HEADROOM + chunk_size + LEAF_TAILROOM);
        buf.resize(LEAF_HEADROOM, 0);
        ChunkBuf { buf }
    }

    fn data(&self) -> &[u8] {
        self.buf.get(LEAF_HEADROOM..).unwrap_or_default()
    }

    fn len(&self) -> usize {
        self.buf.len() - LEAF_HEADROOM
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn clear(&mut self) {
        self.buf.truncate(LEAF_HEADROOM);
    }

    /// Frames the chunk, in place, as the dag-pb leaf block of `buffer-importer.ts` with
    /// `rawLeaves: false, leafType: 'file'`:
    /// `PBNode { Data: UnixFS { Type: File, Data: chunk, filesize: len } }`, no links.
    /// The chunk must be cleared afterwards.
    fn frame_file_leaf(&mut self) -> &[u8] {
        let n = self.len() as u64;
        let mut head = Vec::with_capacity(LEAF_HEADROOM);
        let unixfs_len = unixfs_file_data_len(n, n);
        put_field_len(&mut head, 1, unixfs_len);
        put_key(&mut head, 1, WIRE_VARINT);
        put_varint(&mut head, UNIXFS_TYPE_FILE);
        if n > 0 {
            put_field_len(&mut head, 2, n);
        }
        // head.len() <= LEAF_HEADROOM by construction
        let start = LEAF_HEADROOM - head.len();
        self.buf[start..LEAF_HEADROOM].copy_from_slice(&head);
        put_key(&mut self.buf, 3, WIRE_VARINT);
        put_varint(&mut self.buf, n);
        self.buf.get(start..).unwrap_or_default()
    }
}

/// Builds a file's UnixFS DAG from bytes fed in any slices, handing each block to its sink.
///
/// ```
/// use careledger_records::unixfs::{cid_of_reader, DagBuilder, NoBlocks, Profile};
/// use std::io::Write;
///
/// let mut builder = DagBuilder::new(Profile::UnixfsV1_2025, NoBlocks);
/// builder.write_all(b"hello ").unwrap();
/// builder.update(b"world").unwrap();
/// let (root, NoBlocks) = builder.finish().unwrap();
/// assert_eq!(root, cid_of_reader(&b"hello world"[..], Profile::UnixfsV1_2025).unwrap());
/// assert!(root.cid_string().starts_with("bafkrei"));
/// ```
pub struct DagBuilder<S: BlockSink> {
    params: Params,
    sink: S,
    chunk: ChunkBuf,
    /// Chunks emitted so far.
    leaves: u64,
    /// `levels[k]`: links to nodes of height `k` (0 = leaves) not yet given a parent; always
    /// fewer than `max_links` between calls.
    levels: Vec<Vec<Link>>,
    file_size: u64,
    blocks: u64,
}

impl<S: BlockSink> DagBuilder<S> {
    pub fn new(profile: Profile, sink: S) -> Self {
        Self::with_params(profile.params(), sink)
    }

    fn with_params(params: Params, sink: S) -> Self {
        DagBuilder {
            params,
            sink,
            chunk: ChunkBuf::new(params.chunk_size),
            leaves: 0,
            levels: Vec::new(),
            file_size: 0,
            blocks: 0,
        }
    }

    /// Feeds the next bytes of the file. Slices of any size give the same DAG. After an error
    /// (the sink's) the builder is in no defined state: drop it.
    pub fn update(&mut self, mut bytes: &[u8]) -> Result<(), RecordsError> {
        self.file_size = self
            .file_size
            .checked_add(bytes.len() as u64)
            .ok_or_else(|| RecordsError::InvalidInput("file larger than 2^64 bytes".into()))?;
        while !bytes.is_empty() {
            let room = self.params.chunk_size - self.chunk.len();
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.chunk.extend(now);
            bytes = later;
            if self.chunk.len() == self.params.chunk_size {
                self.emit_leaf()?;
            }
        }
        Ok(())
    }

    /// Ends the file: emits the last chunk and the parents still pending, and gives the root
    /// and the sink back.
    pub fn finish(mut self) -> Result<(Root, S), RecordsError> {
        if self.chunk.len() > 0 || self.leaves == 0 {
            self.emit_leaf()?;
        }
        let link = self.reduce_pending()?;
        let root = Root {
            cid: link.cid,
            file_size: self.file_size,
            dag_size: link.tsize,
            blocks: self.blocks,
        };
        Ok((root, self.sink))
    }

    /// Bytes of the file fed so far.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The sink, for a look at what it has received so far.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// Hashes the current chunk as a leaf, hands it to the sink and links it at level 0.
    fn emit_leaf(&mut self) -> Result<(), RecordsError> {
        let file_size = self.chunk.len() as u64;
        let (cid, block) = if self.params.cid_v0 {
            let block = self.chunk.frame_file_leaf();
            (block_cid(true, CODEC_DAG_PB, block), block)
        } else {
            // raw leaves are always CIDv1 (`buffer-importer.ts`)
            let block = self.chunk.data();
            (block_cid(false, CODEC_RAW, block), block)
        };
        // every chunk but the last is full, so this one starts at leaves * chunk_size
        let offset = self.leaves.saturating_mul(self.params.chunk_size as u64);
        self.sink.leaf(&cid, block, offset, file_size)?;
        let tsize = block.len() as u64;
        self.chunk.clear();
        self.blocks += 1;
        self.leaves += 1;
        self.push_link(
            0,
            Link {
                cid,
                tsize,
                file_size,
            },
        )
    }

    /// Adds a link at `level`; a full group (`max_links`) is reduced to its parent at once,
    /// as `balanced.ts` would (a full group is never the sole leaf of a one-chunk file).
    fn push_link(&mut self, mut level: usize, mut link: Link) -> Result<(), RecordsError> {
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::with_capacity(self.params.max_links));
            }
            let Some(pending) = self.levels.get_mut(level) else {
                return Err(RecordsError::InvalidInput("DAG level out of range".into()));
            };
            pending.push(link);
            if pending.len() < self.params.max_links {
                return Ok(());
            }
            link = self.emit_parent(level)?;
            level += 1;
        }
    }

    /// Reduces the pending links of `level` to one parent block, emitted to the sink, and
    /// returns the link to it.
    fn emit_parent(&mut self, level: usize) -> Result<Link, RecordsError> {
        let Some(pending) = self.levels.get_mut(level) else {
            return Err(RecordsError::InvalidInput("DAG level out of range".into()));
        };
        let (block, link) = encode_parent(self.params.cid_v0, pending);
        pending.clear();
        self.sink.block(&link.cid, &block)?;
        self.blocks += 1;
        Ok(link)
    }

    /// At the end of the file, what `balanced.ts` does with the partial groups: from the leaves
    /// up, a level's pending links get a parent unless they are one link with nothing pending
    /// above it (that one is the root). A level with nodes above it always had more than one
    /// node in all, so even a single pending link there gets a parent.
    fn reduce_pending(&mut self) -> Result<Link, RecordsError> {
        let mut level = 0;
        while level < self.levels.len() {
            let above = self.levels[level + 1..].iter().any(|l| !l.is_empty());
            let pending = &mut self.levels[level];
            if !above && pending.len() == 1 {
                if let Some(root) = pending.pop() {
                    return Ok(root);
                }
            }
            if !pending.is_empty() {
                let parent = self.emit_parent(level)?;
                self.push_link(level + 1, parent)?;
            }
            level += 1;
        }
        // Unreachable: `finish` always emits at least one leaf.
        Err(RecordsError::InvalidInput("the DAG has no root".into()))
    }

    /// Links held across all levels (the builder's memory besides the one chunk).
    #[cfg(test)]
    fn pending_links(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }
}

impl<S: BlockSink> Write for DagBuilder<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf).map_err(|e| match e {
            RecordsError::Io(e) => e,
            other => std::io::Error::other(other),
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The leaf block `profile` makes of one chunk of a file: the chunk itself (a raw leaf), or
/// the chunk framed as a dag-pb UnixFS `File` node (v0). What a gateway serves for a leaf it
/// indexed by its place in the file.
pub fn leaf_block(profile: Profile, chunk: &[u8]) -> Vec<u8> {
    if profile.params().cid_v0 {
        let mut buf = ChunkBuf::new(chunk.len());
        buf.extend(chunk);
        buf.frame_file_leaf().to_vec()
    } else {
        chunk.to_vec()
    }
}

/// What a dag-pb block of a UnixFS file says: the CIDs it links to, in order, and the file
/// bytes it holds itself (a v0 leaf's chunk; empty for a parent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileNode {
    pub links: Vec<Vec<u8>>,
    pub data: Vec<u8>,
}

/// Decodes a dag-pb block as a UnixFS file node (the inverse of the encoders above, for any
/// importer's output): `PBNode { Links: [PBLink { Hash, Name, Tsize }], Data: UnixFS }`.
/// Refused: a malformed protobuf, a link without a hash, a UnixFS type other than `File` or
/// `Raw` (a directory is not a record).
pub fn decode_file_node(block: &[u8]) -> Result<FileNode, RecordsError> {
    let bad = |what: &str| RecordsError::InvalidInput(format!("not a UnixFS file node: {what}"));
    let mut links = Vec::new();
    let mut unixfs: Option<&[u8]> = None;
    for field in pb_fields(block).map_err(|e| bad(&e))? {
        match field {
            (2, PbValue::Bytes(link)) => {
                let hash = pb_fields(link)
                    .map_err(|e| bad(&e))?
                    .into_iter()
                    .find_map(|f| match f {
                        (1, PbValue::Bytes(h)) => Some(h.to_vec()),
                        _ => None,
                    })
                    .ok_or_else(|| bad("a link has no hash"))?;
                links.push(hash);
            }
            (1, PbValue::Bytes(data)) => unixfs = Some(data),
            _ => return Err(bad("an unknown field")),
        }
    }
    let unixfs = unixfs.ok_or_else(|| bad("no UnixFS data"))?;
    let mut data = Vec::new();
    let mut kind = None;
    for field in pb_fields(unixfs).map_err(|e| bad(&e))? {
        match field {
            (1, PbValue::Varint(t)) => kind = Some(t),
            (2, PbValue::Bytes(d)) => data = d.to_vec(),
            _ => {}
        }
    }
    // UnixFS Data types: 0 Raw, 2 File
    if !matches!(kind, Some(0) | Some(UNIXFS_TYPE_FILE)) {
        return Err(bad("its UnixFS type is not a file"));
    }
    Ok(FileNode { links, data })
}

/// A protobuf field's value, as far as dag-pb and UnixFS need: varints and byte strings.
enum PbValue<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// The fields of a protobuf message, in order; fixed-width fields are refused (dag-pb and
/// UnixFS have none but `mtime`'s nanos, which a record never carries).
fn pb_fields(mut bytes: &[u8]) -> Result<Vec<(u64, PbValue<'_>)>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = take_varint(&mut bytes).ok_or("a truncated field key")?;
        let value = match key & 7 {
            0 => PbValue::Varint(take_varint(&mut bytes).ok_or("a truncated varint")?),
            2 => {
                let len = take_varint(&mut bytes).ok_or("a truncated length")?;
                let len = usize::try_from(len).map_err(|_| "a length out of range")?;
                if len > bytes.len() {
                    return Err("a field longer than its message".into());
                }
                let (value, rest) = bytes.split_at(len);
                bytes = rest;
                PbValue::Bytes(value)
            }
            other => return Err(format!("wire type {other}")),
        };
        out.push((key >> 3, value));
    }
    Ok(out)
}

/// Reads an unsigned LEB128 off the front of `bytes` (at most 10 bytes).
fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *bytes = bytes.get(i + 1..)?;
            return Some(value);
        }
    }
    None
}

/// Feeds everything `reader` yields to a builder for `profile` whose blocks go to `sink`.
pub fn dag_of_reader<S: BlockSink>(
    mut reader: impl Read,
    profile: Profile,
    sink: S,
) -> Result<(Root, S), RecordsError> {
    let mut builder = DagBuilder::new(profile, sink);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RecordsError::Io(e)),
        };
        builder.update(buf.get(..n).unwrap_or_default())?;
    }
    builder.finish()
}

/// The root of the DAG of everything `reader` yields.
pub fn cid_of_reader(reader: impl Read, profile: Profile) -> Result<Root, RecordsError> {
    dag_of_reader(reader, profile, NoBlocks).map(|(root, _)| root)
}

/// The root of a file's DAG: its CID as `ipfs add` with the profile gives it.
pub fn cid_of_file(path: &Path, profile: Profile) -> Result<Root, RecordsError> {
    let file = std::fs::File::open(path).map_err(RecordsError::Io)?;
    cid_of_reader(file, profile)
}

/// Binary CID of a block with sha2-256: CIDv0 is the bare multihash (dag-pb implied), CIDv1
/// is `0x01 || codec || multihash` (both codecs used here are one-byte varints).
fn block_cid(cid_v0: bool, codec: u8, block: &[u8]) -> Vec<u8> {
    let digest = Sha256::digest(block);
    let mut cid = Vec::with_capacity(36);
    if !cid_v0 {
        cid.extend_from_slice(&[0x01, codec]);
    }
    cid.extend_from_slice(&[HASH_SHA2_256, 32]);
    cid.extend_from_slice(&digest);
    cid
}

/// The parent node `reduce` in `file.ts` makes for `children`, and the link to it.
///
/// Children with no file bytes are left out, as `file.ts` filters them (only the empty chunk
/// of an empty file has none, and that one is always reduced to itself).
/// Bytes (`@ipld/dag-pb` `encodeNode`, links first):
/// `PBNode { Links: [PBLink { Hash, Name: "", Tsize }...], Data: UnixFS { File, filesize,
/// blocksizes } }`.
fn encode_parent(cid_v0: bool, children: &[Link]) -> (Vec<u8>, Link) {
    let kept = || children.iter().filter(|c| c.file_size > 0);
    let file_size: u64 = kept().map(|c| c.file_size).sum();
    let mut data = Vec::with_capacity(16 + 5 * children.len());
    unixfs_file_data(&mut data, None, file_size, kept().map(|c| c.file_size));
    let mut block = Vec::with_capacity(data.len() + 48 * children.len() + 8);
    let mut link_bytes = Vec::with_capacity(48);
    for child in kept() {
        link_bytes.clear();
        put_field_len(&mut link_bytes, 1, child.cid.len() as u64);
        link_bytes.extend_from_slice(&child.cid);
        // Name "" is still written (dag-pb encodes a Name that is a string, even empty)
        put_field_len(&mut link_bytes, 2, 0);
        put_key(&mut link_bytes, 3, WIRE_VARINT);
        put_varint(&mut link_bytes, child.tsize);
        put_field_len(&mut block, 2, link_bytes.len() as u64);
        block.extend_from_slice(&link_bytes);
    }
    put_field_len(&mut block, 1, data.len() as u64);
    block.extend_from_slice(&data);
    let tsize = kept().fold(block.len() as u64, |sum, c| sum.saturating_add(c.tsize));
    let cid = block_cid(cid_v0, CODEC_DAG_PB, &block);
    let link = Link {
        cid,
        tsize,
        file_size,
    };
    (block, link)
}

/// UnixFS `Data` of a file node as `ipfs-unixfs` marshals it: `Type` (1) = File always;
/// `Data` (2) only when non-empty; `filesize` (3) always for a file, even 0; one unpacked
/// `blocksizes` (4) varint per child; no `mode` (the default 0644 is omitted) nor `mtime`.
fn unixfs_file_data(
    out: &mut Vec<u8>,
    data: Option<&[u8]>,
    file_size: u64,
    block_sizes: impl Iterator<Item = u64>,
) {
    put_key(out, 1, WIRE_VARINT);
    put_varint(out, UNIXFS_TYPE_FILE);
    if let Some(bytes) = data.filter(|d| !d.is_empty()) {
        put_field_len(out, 2, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
    put_key(out, 3, WIRE_VARINT);
    put_varint(out, file_size);
    for size in block_sizes {
        put_key(out, 4, WIRE_VARINT);
        put_varint(out, size);
    }
}

/// Length of [`unixfs_file_data`] for a leaf holding `data_len` bytes of a `file_size` file.
fn unixfs_file_data_len(data_len: u64, file_size: u64) -> u64 {
    let data_field = if data_len > 0 {
        1 + varint_len(data_len) + data_len
    } else {
        0
    };
    2 + data_field + 1 + varint_len(file_size)
}

const WIRE_VARINT: u8 = 0;
const WIRE_LEN: u8 = 2;

/// A protobuf field key (field numbers here are all below 16: one byte).
fn put_key(out: &mut Vec<u8>, field: u8, wire: u8) {
    out.push((field << 3) | wire);
}

/// A length-delimited field's key and length (its bytes follow).
fn put_field_len(out: &mut Vec<u8>, field: u8, len: u64) {
    put_key(out, field, WIRE_LEN);
    put_varint(out, len);
}

/// Unsigned LEB128, as protobuf and multiformats (`unsigned-varint`) write it.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Bytes of [`put_varint`]'s encoding of `value`.
fn varint_len(value: u64) -> u64 {
    let bits = 64 - u64::from(value.max(1).leading_zeros());
    bits.div_ceil(7)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The deterministic test content, also used by the JS that produced the vectors below:
    /// byte `i` is `(i * 31 + 7) % 251`.
    pub(crate) fn content(len: usize) -> Vec<u8> {
        (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
    }

    const KIB256: usize = 262_144;
    const MIB: usize = 1_048_576;

    /// The issue's rule: a file of one chunk with raw leaves has a CID whose digest is the
    /// SHA-256 the record anchors (CIDv1, raw codec 0x55, sha2-256 0x12, 32 bytes); one byte more
    /// and it is a dag-pb root whose digest is not the file's.
    #[test]
    fn a_one_chunk_raw_leaf_cid_is_the_anchored_sha256() {
        for len in [0, 1, 4_096, MIB] {
            let bytes = content(len);
            let root = cid_of_reader(bytes.as_slice(), Profile::UnixfsV1_2025).unwrap();
            let sha: [u8; 32] = Sha256::digest(&bytes).into();
            assert_eq!(
                root.cid,
                [&[0x01, 0x55, 0x12, 0x20][..], &sha].concat(),
                "{len} B"
            );
        }
        let bytes = content(MIB + 1);
        let root = cid_of_reader(bytes.as_slice(), Profile::UnixfsV1_2025).unwrap();
        let sha: [u8; 32] = Sha256::digest(&bytes).into();
        assert_eq!(&root.cid[..4], &[0x01, 0x70, 0x12, 0x20]);
        assert_ne!(&root.cid[4..], &sha[..]);
    }

    /// (size, CID, dag size) from `ipfs-unixfs-importer` 17.1.1,
    /// `importBytes(content(size), blockstore, { profile })`.
    const V1_VECTORS: &[(usize, &str, u64)] = &[
        (
            0,
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
            0,
        ),
        (
            1,
            "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe",
            1,
        ),
        (
            MIB,
            "bafkreia4lg4goabhhbaug6a2rkf76lz3is6yqggq6u5rhmdeyi3vugx6ha",
            1_048_576,
        ),
        (
            MIB + 1,
            "bafybeiaqfhzf4fft5arkdimw7quirxuglvotfah44yawdjg6zujvn6lidu",
            1_048_681,
        ),
        (
            174 * KIB256 + 1,
            "bafybeib73cpidbr4wedb4tlvakpcg5nlzvdhzhkijr2shoivxdj3g46xs4",
            45_615_267,
        ),
    ];
    const V0_VECTORS: &[(usize, &str, u64)] = &[
        (0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH", 6),
        (1, "QmXC9WjuLo7EfydBdbWyvpGif62nrxbDCX2vcz9ZqLTQvV", 9),
        (
            KIB256,
            "QmNjsPT1urL55WXngMVgvZrn2apSux229uFBoAgmKTtjAd",
            262_158,
        ),
        (
            KIB256 + 1,
            "QmP8yTqWQcb3qVoBcdE4pTUzxh9kazndg5ELrbXBmdj17M",
            262_267,
        ),
        (
            174 * KIB256 + 1,
            "QmPq9MH6i6cgAMc9uYJe8xYeVstRr2D2mSpLVDYbYMLPta",
            45_624_016,
        ),
    ];

    /// Small trees (16 B chunks, 3 links a node) that reach five levels, from the importer with
    /// `{ chunker: fixedSize({ chunkSize: 16 }), layout: balanced({ maxChildrenPerNode: 3 }) }`
    /// and `{ cidVersion: 1, rawLeaves: true }` or `{ cidVersion: 0, rawLeaves: false }`:
    /// (size, v1 CID, v0 CID, unique blocks).
    const SMALL_VECTORS: &[(usize, &str, &str, u64)] = &[
        (
            16,
            "bafkreiezi5ohjfmp4qyublx3tzyawsj5v7qzvdx5alldo4fecwxlcsrkim",
            "QmWhWcopzToe7BuMjYktpjjfExwTMCZSymuqoinJbYu3iN",
            1,
        ),
        (
            17,
            "bafybeig3ogxbzyqch76gue6l2wg6iep6mm5q34l7vemjnnvznpem5tcwfa",
            "QmbseQ62iZ1n74XwDM4EuYNoSpceKZAnemx1671REpeLT5",
            3,
        ),
        (
            48,
            "bafybeic45eehszx3cifxpuyrzbcnnusyi6xzlfwfqa2aovecgj7ogie3zm",
            "QmTxotmfJvgSAuk3CK6b3yg7YALd1RUjxCreoWmdMZM6no",
            4,
        ),
        (
            49,
            "bafybeib4yukse4hgvay3kccfo3oawupcbrbwneb552b7a42muxafkyddae",
            "QmedYgVsqp2Ju5e2fV67TCg2wkTsMpCx9bALd6F9rYG9JB",
            7,
        ),
        (
            144,
            "bafybeicgkcq2jgpluq3l35xj6e3q7yy7mq6v4vlnxiwbozh3v24u2jt4ey",
            "Qmf2k2eYqyh2K4iBhhjQEy78No6AXiyZR4YmdHMyJB6DCu",
            13,
        ),
        (
            145,
            "bafybeiabekzbtij234wqshl7c5g6464ibqiekswjuwul6yaoxlcsxp7aie",
            "QmQrtWH6Dve3Hcq4YWDUFfec2h2pExqANem6fdhLm2uBZa",
            17,
        ),
        (
            433,
            "bafybeig42wrfktcvomtyo5qkejjdbdr7ydwo2f63ybcimfslittf7qpqia",
            "QmSYQ3fGemRVNjErWtDK3utNFF9BRcndoaywDQC2Pur3dJ",
            45,
        ),
        (
            1000,
            "bafybeihrtywkl5kri5cfqnabwsr7lp5iaofrqo5ftg5kgukjy5urxzoi3m",
            "QmeRCgUoZX562hQhRu69rB88vKNUZxekcSxon8SzGwcKbY",
            95,
        ),
    ];

    fn small(cid_v0: bool) -> Params {
        Params {
            cid_v0,
            chunk_size: 16,
            max_links: 3,
        }
    }

    /// Every block handed over, in order.
    #[derive(Default)]
    pub(crate) struct Collect(pub(crate) Vec<(Vec<u8>, Vec<u8>)>);

    impl BlockSink for Collect {
        fn block(&mut self, cid: &[u8], data: &[u8]) -> Result<(), RecordsError> {
            self.0.push((cid.to_vec(), data.to_vec()));
            Ok(())
        }
    }

    fn build(params: Params, pieces: &[&[u8]]) -> (Root, Collect) {
        let mut builder = DagBuilder::with_params(params, Collect::default());
        for piece in pieces {
            builder.update(piece).unwrap();
        }
        builder.finish().unwrap()
    }

    #[test]
    fn profiles_by_name() {
        for profile in Profile::ALL {
            assert_eq!(Profile::from_name(profile.name()).unwrap(), profile);
            assert_eq!(profile.to_string().parse::<Profile>().unwrap(), profile);
        }
        assert_eq!(Profile::default().name(), "unixfs-v1-2025");
        assert_eq!(Profile::UnixfsV1_2025.chunk_size(), 1_048_576);
        assert_eq!(Profile::UnixfsV1_2025.max_links(), 1_024);
        assert_eq!(Profile::UnixfsV0_2015.chunk_size(), 262_144);
        assert_eq!(Profile::UnixfsV0_2015.max_links(), 174);
        let err = Profile::from_name("unixfs-v2").unwrap_err().to_string();
        assert!(
            err.contains("unixfs-v1-2025") && err.contains("unixfs-v0-2015"),
            "{err}"
        );
    }

    #[test]
    fn profile_implied_by_cid_form() {
        let v0 = careledger_sdk::cid::cid_to_bytes(V0_VECTORS[0].1).unwrap();
        assert_eq!(Profile::implied_by(&v0), Some(Profile::UnixfsV0_2015));
        for (_, text, _) in V1_VECTORS {
            let v1 = careledger_sdk::cid::cid_to_bytes(text).unwrap();
            assert_eq!(Profile::implied_by(&v1), Some(Profile::UnixfsV1_2025));
        }
        let digest = [7u8; 32];
        let dag_cbor = [&[0x01, 0x71, 0x12, 0x20][..], &digest].concat();
        assert_eq!(Profile::implied_by(&dag_cbor), None);
        let sha512 = [&[0x01, 0x55, 0x13, 0x40][..], &[1u8; 64]].concat();
        assert_eq!(Profile::implied_by(&sha512), None);
        let trailing = [&v0[..], &[0]].concat();
        assert_eq!(Profile::implied_by(&trailing), None);
        assert_eq!(Profile::implied_by(&v0[..20]), None);
        assert_eq!(Profile::implied_by(&[]), None);
    }

    #[test]
    fn matches_the_js_importer_for_both_profiles() {
        for (profile, vectors) in [
            (Profile::UnixfsV1_2025, V1_VECTORS),
            (Profile::UnixfsV0_2015, V0_VECTORS),
        ] {
            for &(size, expected, dag_size) in vectors {
                let root = cid_of_reader(&content(size)[..], profile).unwrap();
                assert_eq!(root.cid_string(), expected, "{profile} {size} B");
                assert_eq!(root.file_size, size as u64);
                assert_eq!(root.dag_size, dag_size, "{profile} {size} B");
            }
        }
    }

    #[test]
    fn matches_the_js_importer_for_deep_trees() {
        for &(size, v1, v0, blocks) in SMALL_VECTORS {
            for (cid_v0, expected) in [(false, v1), (true, v0)] {
                let (root, collected) = build(small(cid_v0), &[&content(size)]);
                assert_eq!(root.cid_string(), expected, "v0={cid_v0} {size} B");
                // the content has no repeated chunk below 251 chunks: every block is unique
                assert_eq!(root.blocks, blocks);
                assert_eq!(collected.0.len() as u64, blocks);
            }
        }
    }

    #[test]
    fn blocks_hash_to_their_cids_leaves_first_root_last() {
        let (root, collected) = build(small(false), &[&content(433)]);
        let (last_cid, _) = collected.0.last().unwrap();
        assert_eq!(last_cid, &root.cid);
        let total: u64 = collected.0.iter().map(|(_, d)| d.len() as u64).sum();
        // no block is linked twice here, so the DAG size is the sum of the blocks
        assert_eq!(total, root.dag_size);
        for (cid, data) in &collected.0 {
            let raw = cid[1] == CODEC_RAW;
            assert_eq!(cid, &block_cid(false, cid[1], data));
            assert_eq!(raw, data.len() <= 16, "leaves are raw, parents dag-pb");
        }
        // a dag-pb parent lists its links before its data
        let (_, parent) = collected
            .0
            .iter()
            .find(|(c, _)| c[1] == CODEC_DAG_PB)
            .unwrap();
        assert_eq!(parent[0], 0x12, "first field is a PBLink (field 2)");
    }

    #[test]
    fn empty_v0_leaf_bytes() {
        let (root, collected) = build(Profile::UnixfsV0_2015.params(), &[]);
        // PBNode { Data: UnixFS { Type: File, filesize: 0 } }: no Data field, filesize 0 kept
        assert_eq!(
            collected.0,
            vec![(root.cid.clone(), vec![0x0a, 4, 0x08, 2, 0x18, 0])]
        );
        assert_eq!(root.cid_string(), V0_VECTORS[0].1);
    }

    #[test]
    fn v0_leaf_framed_in_place_matches_the_plain_encoding() {
        for len in [1usize, 127, 128, 16_383, 16_384, KIB256] {
            let chunk = content(len);
            let mut buf = ChunkBuf::new(len);
            buf.extend(&chunk);
            let framed = buf.frame_file_leaf().to_vec();
            let mut data = Vec::new();
            unixfs_file_data(&mut data, Some(&chunk), len as u64, std::iter::empty());
            let mut plain = Vec::new();
            put_field_len(&mut plain, 1, data.len() as u64);
            plain.extend_from_slice(&data);
            assert_eq!(framed, plain, "{len} B");
            assert_eq!(
                unixfs_file_data_len(len as u64, len as u64),
                data.len() as u64
            );
            buf.clear();
            assert_eq!(buf.len(), 0);
        }
    }

    #[test]
    fn any_split_of_the_input_gives_the_same_root() {
        for cid_v0 in [false, true] {
            let params = small(cid_v0);
            let data = content(433);
            let (whole, whole_blocks) = build(params, &[&data]);
            let bytes: Vec<&[u8]> = data.chunks(1).collect();
            let (by_byte, by_byte_blocks) = build(params, &bytes);
            assert_eq!(by_byte, whole);
            assert_eq!(by_byte_blocks.0, whole_blocks.0);
            // pseudo-random splits, empty slices included
            let mut state = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..20 {
                let mut pieces = Vec::new();
                let mut rest = &data[..];
                while !rest.is_empty() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let (piece, tail) = rest.split_at((state % 40) as usize % (rest.len() + 1));
                    pieces.push(piece);
                    rest = tail;
                }
                assert_eq!(build(params, &pieces).0, whole);
            }
        }
        // the real profile through `Write`, in odd slices across chunk boundaries
        let data = content(MIB * 2 + 3);
        let mut builder = DagBuilder::new(Profile::UnixfsV1_2025, NoBlocks);
        for piece in data.chunks(65_537) {
            builder.write_all(piece).unwrap();
        }
        let (root, _) = builder.finish().unwrap();
        assert_eq!(
            root,
            cid_of_reader(&data[..], Profile::UnixfsV1_2025).unwrap()
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let params = small(false);
        let mut builder = DagBuilder::with_params(params, NoBlocks);
        let data = content(16 * 3_000);
        let mut most = 0;
        for piece in data.chunks(16) {
            builder.update(piece).unwrap();
            most = most.max(builder.pending_links());
            let levels = builder.levels.len();
            assert!(builder.levels.iter().all(|l| l.len() < params.max_links));
            assert!(levels <= 9, "3,000 chunks need 8 levels of 3 ({levels})");
            assert!(builder.chunk.buf.capacity() <= LEAF_HEADROOM + 16 + LEAF_TAILROOM);
        }
        assert!(
            most <= builder.levels.len() * (params.max_links - 1),
            "{most}"
        );
        assert_eq!(builder.finish().unwrap().0.file_size, 16 * 3_000);
    }

    #[test]
    fn identical_chunks_are_handed_over_each_time() {
        let (root, collected) = build(small(false), &[&[0u8; 64]]);
        // four identical leaves, one parent of three, one of one, the root
        assert_eq!(root.blocks, 7);
        assert_eq!(collected.0.len(), 7);
        assert_eq!(collected.0[0], collected.0[1]);
    }

    #[test]
    fn reader_errors_are_reported() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk gone"))
            }
        }
        let err = cid_of_reader(Failing, Profile::default()).unwrap_err();
        assert!(matches!(err, RecordsError::Io(_)), "{err}");
        let missing = cid_of_file(Path::new("/nonexistent/careledger"), Profile::default());
        assert!(matches!(missing, Err(RecordsError::Io(_))));
    }

    #[test]
    fn varint_lengths() {
        for value in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out.len() as u64, varint_len(value), "{value}");
        }
    }
}
