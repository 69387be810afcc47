//! Account decoding and the memcmp filters used to list accounts.
use crate::SdkError;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_pubkey::Pubkey;

/// Accounts read at one point of the ledger, with that point's clock: a decision over them sees
/// one consistent state, never a grant from one slot and a record from another.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountsAt {
    /// The slot they were read at (over RPC, the node's context slot).
    pub slot: u64,
    /// The clock sysvar's unix time at that slot.
    pub unix_timestamp: i64,
    /// One entry per requested address, in order; `None` where no account lives.
    pub accounts: Vec<Option<solana_account::Account>>,
}

/// Decodes an account of type `T`, checking its owner and discriminator.
pub fn decode<T: AccountDeserialize + Discriminator>(
    address: &Pubkey,
    owner: &Pubkey,
    data: &[u8],
) -> Result<T, SdkError> {
    let fail = |reason: String| SdkError::Decode {
        address: *address,
        expected: std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("account"),
        reason,
    };
    if *owner != careledger::ID {
        return Err(fail(format!("owned by {owner}, not careledger")));
    }
    T::try_deserialize(&mut &data[..]).map_err(|e| fail(e.to_string()))
}

/// Decodes the `i`-th account of a snapshot read for `addresses` (missing: `AccountNotFound`).
pub fn decode_nth<T: AccountDeserialize + Discriminator>(
    at: &AccountsAt,
    addresses: &[Pubkey],
    i: usize,
) -> Result<T, SdkError> {
    let address = addresses
        .get(i)
        .ok_or_else(|| SdkError::InvalidInput(format!("no address {i} in the snapshot")))?;
    let account = at
        .accounts
        .get(i)
        .and_then(Option::as_ref)
        .ok_or(SdkError::AccountNotFound(*address))?;
    decode(address, &account.owner, &account.data)
}

/// A filter for account listings; the RPC transport turns it into `getProgramAccounts` filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memcmp {
    pub offset: usize,
    pub bytes: Vec<u8>,
}

impl Memcmp {
    pub fn discriminator<T: Discriminator>() -> Self {
        Memcmp {
            offset: 0,
            bytes: T::DISCRIMINATOR.to_vec(),
        }
    }

    pub fn key_at(offset: usize, key: &Pubkey) -> Self {
        Memcmp {
            offset,
            bytes: key.to_bytes().to_vec(),
        }
    }

    pub fn matches(&self, data: &[u8]) -> bool {
        data.get(self.offset..self.offset + self.bytes.len()) == Some(self.bytes.as_slice())
    }
}

/// Byte offsets of the keys listings filter on (8 = after the discriminator).
pub mod offsets {
    pub const GRANT_PATIENT: usize = 8;
    pub const GRANT_GRANTEE: usize = 40;
    pub const RECORD_PATIENT: usize = 8;
    pub const RECORD_AUTHOR: usize = 40;
    pub const REQUEST_PATIENT: usize = 8;
    pub const REQUEST_REQUESTER: usize = 40;
    pub const POLICY_INSURER: usize = 8;
    pub const POLICY_PATIENT: usize = 40;
    pub const CLAIM_POLICY: usize = 8;
    pub const CLAIM_PROVIDER: usize = 40;
    /// After policy, provider, record, rule_key, document (5 x 32), units (2), billed (8) and
    /// service_date (8).
    pub const CLAIM_STATE: usize = 8 + 5 * 32 + 2 + 8 + 8;
    pub const STUDY_SPONSOR: usize = 8;
    pub const PARTICIPATION_STUDY: usize = 8;
    pub const PARTICIPATION_PATIENT: usize = 40;
    pub const SHIPMENT_RECEIVER: usize = 40;
    pub const SHIPMENT_BATCH: usize = 72;
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::AccountSerialize;
    use careledger::state::*;

    #[test]
    fn offsets_match_the_layouts() {
        let grant = ConsentGrant {
            patient: Pubkey::new_unique(),
            grantee: Pubkey::new_unique(),
            classes: 1,
            actions: 1,
            purpose: Purpose::Treatment,
            status: GrantStatus::Active,
            review: ReviewState::NotRequired,
            bump: 1,
            consent_epoch: 0,
            record_scope: u32::MAX,
            access_count: 0,
            not_before: 0,
            expires_at: 1,
            created_at: 0,
            revoked_at: 0,
            serial: 1,
            narrowed_at: 0,
            payer: Default::default(),
            statement_hash: [0; 32],
        };
        let mut data = Vec::new();
        grant.try_serialize(&mut data).unwrap();
        assert!(Memcmp::discriminator::<ConsentGrant>().matches(&data));
        assert!(!Memcmp::discriminator::<RecordAnchor>().matches(&data));
        assert!(Memcmp::key_at(offsets::GRANT_PATIENT, &grant.patient).matches(&data));
        assert!(Memcmp::key_at(offsets::GRANT_GRANTEE, &grant.grantee).matches(&data));
        let back: ConsentGrant = decode(&Pubkey::new_unique(), &careledger::ID, &data).unwrap();
        assert_eq!(back, grant);
        let wrong_owner =
            decode::<ConsentGrant>(&Pubkey::new_unique(), &Pubkey::new_unique(), &data);
        assert!(matches!(wrong_owner, Err(SdkError::Decode { .. })));
        let wrong_type = decode::<RecordAnchor>(&Pubkey::new_unique(), &careledger::ID, &data);
        assert!(matches!(wrong_type, Err(SdkError::Decode { .. })));

        let shipment = Shipment {
            sender: Pubkey::new_unique(),
            receiver: Pubkey::new_unique(),
            batch: Pubkey::new_unique(),
            epcis_hash: [1; 32],
            quantity: 1,
            shipped_at: 1,
            received_at: 0,
            receipt_hash: [0; 32],
            bump: 1,
        };
        let mut data = Vec::new();
        shipment.try_serialize(&mut data).unwrap();
        assert!(Memcmp::key_at(offsets::SHIPMENT_RECEIVER, &shipment.receiver).matches(&data));
        assert!(Memcmp::key_at(offsets::SHIPMENT_BATCH, &shipment.batch).matches(&data));
    }
}
