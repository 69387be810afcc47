//! The signed-message table: a signed request is good once. Each (signer, nonce) is remembered
//! until the message could no longer be accepted anyway, but only for a request that
//! succeeded: the ledger authorised it and the store did what it asked. A refused request,
//! however many a signer sends, takes no entry. Each signer holds at most
//! `max_per_signer` entries at once, so no one signer can take a large share of the table
//! (issue 23, G2).
use solana_pubkey::Pubkey;
use std::collections::{HashMap, HashSet, VecDeque};

/// Why a nonce cannot be recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum NonceRefusal {
    /// The message was used already.
    Replayed,
    /// This signer has `0` messages in the table already: it waits until they expire.
    SignerFull(usize),
    /// The whole table is full (only reachable by many signers, each with many successes).
    Full,
}

pub struct Nonces {
    seen: HashSet<[u8; 32]>,
    /// When each entry may be forgotten, oldest first, and whose it is.
    order: VecDeque<(i64, [u8; 32], Pubkey)>,
    per_signer: HashMap<Pubkey, usize>,
    max: usize,
    max_per_signer: usize,
}

/// The table's key: a hash of (signer, nonce), 32 bytes whatever the nonce's length.
fn key(signer: &Pubkey, nonce: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::new()
        .chain_update(signer.as_ref())
        .chain_update(nonce.as_bytes())
        .finalize()
        .into()
}

impl Nonces {
    pub fn new(max: usize, max_per_signer: usize) -> Nonces {
        Nonces {
            seen: HashSet::new(),
            order: VecDeque::new(),
            per_signer: HashMap::new(),
            max: max.max(1),
            max_per_signer: max_per_signer.max(1),
        }
    }

    /// Forgets what could no longer be accepted anyway (amortised O(1) per request).
    fn expire(&mut self, now: i64) {
        while self.order.front().is_some_and(|(until, _, _)| *until < now) {
            if let Some((_, key, signer)) = self.order.pop_front() {
                self.seen.remove(&key);
                match self.per_signer.get_mut(&signer) {
                    Some(n) if *n > 1 => *n -= 1,
                    _ => {
                        self.per_signer.remove(&signer);
                    }
                }
            }
        }
    }

    /// Whether this message was used already (read-only: checked first, so that a replay is
    /// refused before any work).
    pub fn is_used(&mut self, signer: &Pubkey, nonce: &str, now: i64) -> bool {
        self.expire(now);
        self.seen.contains(&key(signer, nonce))
    }

    /// Records a message at the point of success; `until` is when it expires anyway.
    pub fn record(
        &mut self,
        signer: &Pubkey,
        nonce: &str,
        now: i64,
        until: i64,
    ) -> Result<(), NonceRefusal> {
        self.expire(now);
        let key = key(signer, nonce);
        if self.seen.contains(&key) {
            return Err(NonceRefusal::Replayed);
        }
        let mine = self.per_signer.get(signer).copied().unwrap_or(0);
        if mine >= self.max_per_signer {
            return Err(NonceRefusal::SignerFull(mine));
        }
        if self.seen.len() >= self.max {
            return Err(NonceRefusal::Full);
        }
        self.seen.insert(key);
        self.order.push_back((until, key, *signer));
        self.per_signer.insert(*signer, mine + 1);
        Ok(())
    }

    /// Entries held now, in all and by `signer`.
    pub fn held(&self, signer: &Pubkey) -> (usize, usize) {
        (
            self.seen.len(),
            self.per_signer.get(signer).copied().unwrap_or(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_forgotten_only_once_they_could_not_be_accepted() {
        let mut n = Nonces::new(10, 10);
        let signer = Pubkey::new_unique();
        n.record(&signer, "first-nonce", 0, 10).unwrap();
        n.record(&signer, "second-nonce", 0, 20).unwrap();
        assert!(
            n.is_used(&signer, "first-nonce", 10),
            "acceptable at its last second"
        );
        assert!(!n.is_used(&signer, "first-nonce", 11));
        assert!(n.is_used(&signer, "second-nonce", 11));
        assert_eq!(n.held(&signer), (1, 1));
        assert_eq!(
            n.record(&signer, "second-nonce", 11, 30),
            Err(NonceRefusal::Replayed)
        );
    }

    /// Who gains by filling the table: whoever wants every signed request refused. One signer
    /// holds at most its share; the others are not affected by it.
    #[test]
    fn one_signer_takes_at_most_its_share() {
        let mut n = Nonces::new(100, 3);
        let (greedy, other) = (Pubkey::new_unique(), Pubkey::new_unique());
        for i in 0..3 {
            n.record(&greedy, &format!("nonce{i:04}"), 0, 100).unwrap();
        }
        assert_eq!(
            n.record(&greedy, "nonce0004", 0, 100),
            Err(NonceRefusal::SignerFull(3))
        );
        n.record(&other, "nonce0000", 0, 100).unwrap();
        assert_eq!(n.held(&greedy), (4, 3));
        // once its entries expire, the signer may sign again
        n.record(&greedy, "nonce0005", 101, 200).unwrap();
        assert_eq!(n.held(&greedy), (1, 1));
        let mut small = Nonces::new(2, 5);
        small.record(&greedy, "a0000000", 0, 100).unwrap();
        small.record(&other, "b0000000", 0, 100).unwrap();
        assert_eq!(
            small.record(&Pubkey::new_unique(), "c0000000", 0, 100),
            Err(NonceRefusal::Full)
        );
    }
}
