//! Sealing a record for upload in one pass over the file: encrypt it ([`crate::envelope`]),
//! and compute the ciphertext's SHA-256 and UnixFS CID ([`crate::unixfs`]).
//!
//! The three are about equally costly and independent once the ciphertext exists, so they run
//! on three threads joined by bounded channels: this thread reads and encrypts, one hashes the
//! whole ciphertext, one builds the DAG (whose raw leaves are hashed again, chunk by chunk). At
//! most `IN_FLIGHT` batches of `BATCH` bytes wait between them, so memory stays flat whatever the
//! file's size.
use crate::envelope::{self, DataKey, RecordIdentity};
use crate::unixfs::{DagBuilder, NoBlocks, Profile};
use crate::RecordsError;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;

/// Ciphertext handed to the hashing threads at a time.
const BATCH: usize = 1 << 20;
/// Batches that may wait for each hashing thread.
const IN_FLIGHT: usize = 4;

/// What a sealed record's ciphertext is, for its anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedRecord {
    /// SHA-256 of the whole ciphertext (the anchor's `content_sha256`).
    pub sha256: [u8; 32],
    /// The ciphertext's binary CID under the profile.
    pub cid: Vec<u8>,
    pub plaintext_len: u64,
    pub ciphertext_len: u64,
}

fn hasher(batches: Receiver<Arc<Vec<u8>>>) -> [u8; 32] {
    let mut sha = Sha256::new();
    for batch in batches {
        sha.update(batch.as_slice());
    }
    sha.finalize().into()
}

fn dag(batches: Receiver<Arc<Vec<u8>>>, profile: Profile) -> Result<Vec<u8>, RecordsError> {
    let mut dag = DagBuilder::new(profile, NoBlocks);
    for batch in batches {
        dag.update(&batch)?;
    }
    Ok(dag.finish()?.0.cid)
}

/// A hashing thread stopped early (it only stops when its input ends): report, not hang.
fn gone() -> RecordsError {
    RecordsError::InvalidInput("a hashing thread stopped".into())
}

/// Batches handed over, kept to be reused once both hashing threads are done with them: a
/// fresh 1 MiB buffer per batch would cost the allocator a mapping and its page faults.
#[derive(Default)]
struct Pool {
    out: std::collections::VecDeque<Arc<Vec<u8>>>,
}

impl Pool {
    /// An empty buffer: the oldest batch both threads let go of, or a new one.
    fn take(&mut self) -> Vec<u8> {
        if let Some(mut oldest) = self.out.pop_front() {
            if let Some(buffer) = Arc::get_mut(&mut oldest) {
                let mut buffer = std::mem::take(buffer);
                buffer.clear();
                return buffer;
            }
            self.out.push_front(oldest);
        }
        Vec::with_capacity(BATCH)
    }
}

fn hand_over(
    batch: &mut Vec<u8>,
    pool: &mut Pool,
    to: &[&SyncSender<Arc<Vec<u8>>>; 2],
) -> Result<(), RecordsError> {
    let full = Arc::new(std::mem::replace(batch, pool.take()));
    for sender in to {
        sender.send(full.clone()).map_err(|_| gone())?;
    }
    pool.out.push_back(full);
    Ok(())
}

/// Encrypts `plaintext` for `identity` under `key`, passing every ciphertext byte to `write`
/// in order, and returns the ciphertext's SHA-256 and CID.
pub fn seal(
    identity: &RecordIdentity,
    key: &DataKey,
    profile: Profile,
    plaintext: impl Read,
    mut write: impl FnMut(&[u8]) -> Result<(), RecordsError>,
) -> Result<SealedRecord, RecordsError> {
    std::thread::scope(|scope| {
        let (to_sha, sha_in) = sync_channel(IN_FLIGHT);
        let (to_dag, dag_in) = sync_channel(IN_FLIGHT);
        let sha = scope.spawn(move || hasher(sha_in));
        let cid = scope.spawn(move || dag(dag_in, profile));
        let mut batch = Vec::with_capacity(BATCH);
        let mut pool = Pool::default();
        let sealed = envelope::encrypt(identity, key, plaintext, |piece| {
            write(piece)?;
            batch.extend_from_slice(piece);
            if batch.len() >= BATCH {
                hand_over(&mut batch, &mut pool, &[&to_sha, &to_dag])?;
            }
            Ok(())
        });
        let rest = match &sealed {
            Ok(_) if !batch.is_empty() => hand_over(&mut batch, &mut pool, &[&to_sha, &to_dag]),
            _ => Ok(()),
        };
        // closing the channels ends both threads, whatever happened above
        drop((to_sha, to_dag));
        let sha = sha.join().map_err(|_| gone())?;
        // a DAG error is the cause of a "stopped" send above: report it first
        let cid = cid.join().map_err(|_| gone())??;
        let sealed = sealed?;
        rest?;
        Ok(SealedRecord {
            sha256: sha,
            cid,
            plaintext_len: sealed.plaintext_len,
            ciphertext_len: sealed.ciphertext_len,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_pubkey::Pubkey;

    /// The threads must give exactly what one pass in order gives, at every size around the
    /// batch and chunk boundaries.
    #[test]
    fn threaded_sealing_equals_a_single_pass() {
        let identity = RecordIdentity::new(Pubkey::new_unique(), 3, 1, 2);
        let key = DataKey::generate();
        for len in [
            0usize,
            1,
            65_535,
            65_536,
            BATCH - 1,
            BATCH + 17,
            3 * BATCH + 5,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let mut ciphertext = Vec::new();
            let sealed = seal(&identity, &key, Profile::UnixfsV1_2025, &plain[..], |p| {
                ciphertext.extend_from_slice(p);
                Ok(())
            })
            .unwrap();
            assert_eq!(sealed.ciphertext_len, ciphertext.len() as u64);
            assert_eq!(sealed.plaintext_len, len as u64);
            assert_eq!(sealed.sha256, <[u8; 32]>::from(Sha256::digest(&ciphertext)));
            let root =
                crate::unixfs::cid_of_reader(&ciphertext[..], Profile::UnixfsV1_2025).unwrap();
            assert_eq!(sealed.cid, root.cid, "len {len}");
            let mut back = Vec::new();
            envelope::decrypt(&identity, &key, &ciphertext[..], |p| {
                back.extend_from_slice(p);
                Ok(())
            })
            .unwrap();
            assert_eq!(back, plain);
        }
    }

    #[test]
    fn a_failing_writer_stops_everything_and_is_reported() {
        let identity = RecordIdentity::new(Pubkey::new_unique(), 0, 1, 1);
        let plain = vec![1u8; 5 * BATCH];
        let mut calls = 0;
        let err = seal(
            &identity,
            &DataKey::generate(),
            Profile::UnixfsV0_2015,
            &plain[..],
            |_| {
                calls += 1;
                if calls > 20 {
                    Err(RecordsError::Io(std::io::Error::other("disk full")))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
