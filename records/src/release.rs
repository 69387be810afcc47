//! What a record gateway decides before it hands out a record: the checks behind "no on-chain
//! access event, no data". The gateway runs them; the grantee's tools can run them first.
//!
//! A release needs a transaction in which the grantee logged a read of the record under its
//! grant (an `AccessLogged` event), signed for by the grantee's wallet in a Sign-In With Solana
//! message (see [`crate::protocol::release_message`]). Then, over one consistent read of the ledger (one slot, or
//! one committed generation of a ledger folder):
//! - the event is the grantee's, for this grant and this record, and recent;
//! - the grant still allows the read now, by the program's own [`decide_access`];
//! - the record is the current version (not superseded, not entered in error);
//! - the grantee has published an X25519 key to wrap the data key to.
//!
//! Nothing else decides: a release is a function of the request, the ledger and the clock, so
//! every replica of a custodian decides it alike, and the same event presented again (to any
//! replica, while it is recent) releases the same data key to the same grantee
//! (docs/GATEWAY.md, "Replicas").
use crate::protocol::{ProbeRequest, Refused, ReleaseRequest, StagingRequest};
use anchor_lang::{AccountDeserialize, Discriminator};
use careledger::events::AccessLogged;
use careledger::logic::consent::{action, decide_access, AccessQuery, Refusal};
use careledger::logic::keys::is_usable_x25519;
use careledger::state::{
    Config, ConsentGrant, EncryptionKey, Patient, Provider, RecordAnchor, RecordStatus,
};
use careledger_sdk::events::CareledgerEvent;
use careledger_sdk::transport::AccountsAt;
use careledger_sdk::{LedgerView, SdkError};
use solana_account::Account;
use solana_pubkey::Pubkey;

/// A release that passed every check: what the gateway wraps and sends.
#[derive(Clone, Debug, PartialEq)]
pub struct Cleared {
    pub record: RecordAnchor,
    pub grant: ConsentGrant,
    pub event: AccessLogged,
    /// The grantee's published X25519 key, read in the same snapshot.
    pub recipient_key: [u8; 32],
    pub recipient_key_version: u32,
    /// The slot of the snapshot the checks read, and its clock (unix seconds).
    pub slot: u64,
    pub at: i64,
}

/// The access event a release stands on: the grantee's logged read of this record under this
/// grant in that transaction. A refusal in it, or an event of someone else, is named as such.
pub fn access_event(
    request: &ReleaseRequest,
    events: Option<&[CareledgerEvent]>,
) -> Result<AccessLogged, Refused> {
    let events = events.ok_or(Refused::UnknownTransaction(request.transaction))?;
    let mut others = None;
    for event in events {
        match event {
            CareledgerEvent::AccessLogged(e)
                if e.record == request.record && e.grant == request.grant =>
            {
                if e.grantee != request.grantee {
                    others = Some(e.grantee);
                } else if e.action == action::READ {
                    return Ok(e.clone());
                }
            }
            CareledgerEvent::AccessRefused(e)
                if e.record == request.record
                    && e.grant == request.grant
                    && e.grantee == request.grantee
                    && e.action == action::READ =>
            {
                return Err(Refused::AccessRefusedOnChain(e.reason));
            }
            _ => {}
        }
    }
    Err(match others {
        Some(grantee) => Refused::AnotherGrantee(grantee),
        None => Refused::NoAccessEvent(request.transaction),
    })
}

/// The accounts a release decision reads, in the order [`decide_release`] expects them.
pub fn release_accounts(event: &AccessLogged) -> [Pubkey; 6] {
    [
        careledger_sdk::pda::config(),
        event.grant,
        event.record,
        careledger_sdk::pda::provider(&event.grantee).0,
        careledger_sdk::pda::patient(&event.patient).0,
        careledger_sdk::pda::encryption_key(&event.grantee).0,
    ]
}

fn decode_at<T: AccountDeserialize + Discriminator>(
    address: &Pubkey,
    account: Option<&Account>,
    missing: Refused,
) -> Result<T, Refused> {
    match account {
        Some(a) if a.owner == careledger::ID && !a.data.is_empty() => {
            careledger_sdk::accounts::decode(address, &a.owner, &a.data)
                .map_err(|e| Refused::Corrupt(*address, e.to_string()))
        }
        _ => Err(missing),
    }
}

/// The whole decision over one snapshot (`accounts` as [`release_accounts`] lists them, read
/// at `snapshot.slot`, whose clock is `now`).
pub fn decide_release(
    event: &AccessLogged,
    snapshot: &AccountsAt,
    max_event_age_secs: i64,
) -> Result<Cleared, Refused> {
    let addresses = release_accounts(event);
    let at = |i: usize| snapshot.accounts.get(i).and_then(Option::as_ref);
    let now = snapshot.unix_timestamp;
    let age = now.saturating_sub(event.at);
    if age > max_event_age_secs {
        return Err(Refused::StaleEvent {
            at: event.at,
            age,
            max: max_event_age_secs,
        });
    }
    let corrupt = |why: &str| Refused::Corrupt(addresses[0], why.to_string());
    let config: Config = decode_at(&addresses[0], at(0), corrupt("no config"))?;
    if config.paused {
        return Err(Refused::Paused);
    }
    let grant: ConsentGrant = decode_at(&addresses[1], at(1), Refused::UnknownGrant(event.grant))?;
    let record: RecordAnchor =
        decode_at(&addresses[2], at(2), Refused::UnknownRecord(event.record))?;
    let provider: Provider = decode_at(
        &addresses[3],
        at(3),
        Refused::GrantNotLive(Refusal::ProviderNotVerified),
    )?;
    let patient: Patient = decode_at(
        &addresses[4],
        at(4),
        Refused::Corrupt(addresses[4], "no patient account".into()),
    )?;
    if grant.grantee != event.grantee || grant.patient != event.patient {
        return Err(Refused::Corrupt(
            event.grant,
            "the grant names another patient or grantee than its event".into(),
        ));
    }
    // the address holds the consent given now: a read logged under an earlier one at the same
    // address (revoked, closed and given again) does not stand for a read under this one
    if event.grant_serial != grant.serial {
        return Err(Refused::GrantReplaced {
            grant: event.grant,
            logged: event.grant_serial,
            now: grant.serial,
        });
    }
    if record.patient != grant.patient {
        return Err(Refused::Corrupt(
            event.record,
            "the record belongs to another patient than the grant".into(),
        ));
    }
    match record.status {
        RecordStatus::EnteredInError => return Err(Refused::RecordRetracted(event.record)),
        RecordStatus::Superseded => return Err(Refused::RecordSuperseded(event.record)),
        RecordStatus::Current => {}
    }
    let query = AccessQuery {
        action: action::READ,
        purpose: event.purpose,
        record_class: record.class,
        record_index: record.index,
        now,
        patient_epoch: patient.consent_epoch,
    };
    decide_access(&grant, &provider, &query).map_err(Refused::GrantNotLive)?;
    let key: EncryptionKey =
        decode_at(&addresses[5], at(5), Refused::NoRecipientKey(event.grantee))?;
    if key.wallet != event.grantee || !is_usable_x25519(&key.x25519) {
        return Err(Refused::NoRecipientKey(event.grantee));
    }
    Ok(Cleared {
        record,
        grant,
        event: event.clone(),
        recipient_key: key.x25519,
        recipient_key_version: key.key_version,
        slot: snapshot.slot,
        at: snapshot.unix_timestamp,
    })
}

/// Looks the request up on the ledger and decides. The outer error is the ledger being
/// unreachable; the inner one is a refusal.
pub async fn clear_release<V: LedgerView>(
    view: &V,
    request: &ReleaseRequest,
    max_event_age_secs: i64,
) -> Result<Result<Cleared, Refused>, SdkError> {
    let events = view.transaction_events(&request.transaction).await?;
    let event = match access_event(request, events.as_deref()) {
        Ok(event) => event,
        Err(refused) => return Ok(Err(refused)),
    };
    let snapshot = view.accounts_at(&release_accounts(&event)).await?;
    Ok(decide_release(&event, &snapshot, max_event_age_secs))
}

/// What an upload needs: the record exists, is current, and `uploader` wrote it.
pub async fn clear_upload<V: LedgerView>(
    view: &V,
    record: &Pubkey,
    uploader: &Pubkey,
) -> Result<Result<RecordAnchor, Refused>, SdkError> {
    Ok(clear_current(view, record).await?.and_then(|anchor| {
        if anchor.author != *uploader {
            return Err(Refused::NotTheAuthor {
                uploader: *uploader,
                author: anchor.author,
            });
        }
        Ok(anchor)
    }))
}

/// The record's anchor, if it exists and is the current version (what a replica hands on).
pub async fn clear_current<V: LedgerView>(
    view: &V,
    record: &Pubkey,
) -> Result<Result<RecordAnchor, Refused>, SdkError> {
    let snapshot = view.accounts_at(std::slice::from_ref(record)).await?;
    let anchor: RecordAnchor = match decode_at(
        record,
        snapshot.accounts.first().and_then(Option::as_ref),
        Refused::UnknownRecord(*record),
    ) {
        Ok(anchor) => anchor,
        Err(refused) => return Ok(Err(refused)),
    };
    Ok(match anchor.status {
        RecordStatus::EnteredInError => Err(Refused::RecordRetracted(*record)),
        RecordStatus::Superseded => Err(Refused::RecordSuperseded(*record)),
        RecordStatus::Current => Ok(anchor),
    })
}

/// The accounts a staging decision reads, in the order [`decide_staging`] expects them.
pub fn staging_accounts(request: &StagingRequest) -> Vec<Pubkey> {
    let mut addresses = vec![
        careledger_sdk::pda::config(),
        request.record(),
        careledger_sdk::pda::patient(&request.patient).0,
        careledger_sdk::pda::provider(&request.uploader).0,
    ];
    addresses.extend(request.grant);
    addresses
}

/// Whether `request.uploader` may stage the ciphertext of the patient's next record: the rule
/// `record_anchor` applies to its author (the program's `authorize_writer`): the patient
/// writes their own records; anyone else is a provider whose grant from the patient allows a
/// write of this class and index now, by the program's own [`decide_access`]. And the record
/// must be the patient's next one, not anchored yet, with the program not paused. The class is
/// the caller's to check (`logic::terms::validate_record_class`) before it reads the ledger.
pub fn decide_staging(request: &StagingRequest, snapshot: &AccountsAt) -> Result<(), Refused> {
    let addresses = staging_accounts(request);
    let at = |i: usize| snapshot.accounts.get(i).and_then(Option::as_ref);
    let config: Config = decode_at(
        &addresses[0],
        at(0),
        Refused::Corrupt(addresses[0], "no config".into()),
    )?;
    if config.paused {
        return Err(Refused::Paused);
    }
    let patient: Patient = decode_at(
        &addresses[2],
        at(2),
        Refused::UnknownPatient(request.patient),
    )?;
    let anchored = at(1).is_some_and(|a| !a.data.is_empty());
    if anchored || patient.record_count != request.index {
        return Err(Refused::NotNextRecord {
            record: addresses[1],
            next: patient.record_count,
        });
    }
    if request.uploader == patient.wallet {
        return Ok(());
    }
    let no_standing = Refused::NoStanding {
        signer: request.uploader,
        patient: request.patient,
    };
    let Some(grant_address) = request.grant else {
        return Err(no_standing);
    };
    let provider: Provider = decode_at(&addresses[3], at(3), no_standing.clone())?;
    let grant: ConsentGrant =
        decode_at(&addresses[4], at(4), Refused::UnknownGrant(grant_address))?;
    if grant.grantee != request.uploader
        || provider.wallet != request.uploader
        || grant.patient != request.patient
    {
        return Err(no_standing);
    }
    let query = AccessQuery {
        action: action::WRITE,
        purpose: grant.purpose,
        record_class: request.class,
        record_index: request.index,
        now: snapshot.unix_timestamp,
        patient_epoch: patient.consent_epoch,
    };
    decide_access(&grant, &provider, &query).map_err(Refused::GrantNotLive)
}

/// Reads the staging decision's accounts in one snapshot and decides. The outer error is the
/// ledger being unreachable; the inner one is a refusal.
pub async fn clear_staging<V: LedgerView>(
    view: &V,
    request: &StagingRequest,
) -> Result<Result<(), Refused>, SdkError> {
    let snapshot = view.accounts_at(&staging_accounts(request)).await?;
    Ok(decide_staging(request, &snapshot))
}

/// The accounts a probe decision reads (`patient` is the record's, which never changes), in
/// the order [`decide_probe`] expects them.
pub fn probe_accounts(request: &ProbeRequest, patient: &Pubkey) -> Vec<Pubkey> {
    let mut addresses = vec![
        careledger_sdk::pda::config(),
        request.record,
        careledger_sdk::pda::patient(patient).0,
        careledger_sdk::pda::provider(&request.signer).0,
    ];
    addresses.extend(request.grant);
    addresses
}

/// Whether a gateway may tell `request.signer` if it holds the record: only the record's
/// patient or author, or a grantee whose read of it [`decide_access`] allows now (so, as for a
/// release, nobody else learns which records a custodian holds). Returns the anchor.
pub fn decide_probe(
    request: &ProbeRequest,
    snapshot: &AccountsAt,
) -> Result<RecordAnchor, Refused> {
    let at = |i: usize| snapshot.accounts.get(i).and_then(Option::as_ref);
    let record: RecordAnchor = decode_at(
        &request.record,
        at(1),
        Refused::UnknownRecord(request.record),
    )?;
    let addresses = probe_accounts(request, &record.patient);
    let config: Config = decode_at(
        &addresses[0],
        at(0),
        Refused::Corrupt(addresses[0], "no config".into()),
    )?;
    if config.paused {
        return Err(Refused::Paused);
    }
    match record.status {
        RecordStatus::EnteredInError => return Err(Refused::RecordRetracted(request.record)),
        RecordStatus::Superseded => return Err(Refused::RecordSuperseded(request.record)),
        RecordStatus::Current => {}
    }
    if request.signer == record.patient || request.signer == record.author {
        return Ok(record);
    }
    let no_standing = Refused::NoStanding {
        signer: request.signer,
        patient: record.patient,
    };
    let Some(grant_address) = request.grant else {
        return Err(no_standing);
    };
    let grant: ConsentGrant =
        decode_at(&addresses[4], at(4), Refused::UnknownGrant(grant_address))?;
    if grant.grantee != request.signer {
        return Err(Refused::AnotherGrantee(grant.grantee));
    }
    if grant.patient != record.patient {
        return Err(no_standing);
    }
    let provider: Provider = decode_at(&addresses[3], at(3), no_standing)?;
    let patient: Patient = decode_at(
        &addresses[2],
        at(2),
        Refused::UnknownPatient(record.patient),
    )?;
    let query = AccessQuery {
        action: action::READ,
        purpose: grant.purpose,
        record_class: record.class,
        record_index: record.index,
        now: snapshot.unix_timestamp,
        patient_epoch: patient.consent_epoch,
    };
    decide_access(&grant, &provider, &query).map_err(Refused::GrantNotLive)?;
    Ok(record)
}

/// Reads the record (for its patient), then every account [`decide_probe`] needs in one
/// snapshot, and decides.
pub async fn clear_probe<V: LedgerView>(
    view: &V,
    request: &ProbeRequest,
) -> Result<Result<RecordAnchor, Refused>, SdkError> {
    let first = view
        .accounts_at(std::slice::from_ref(&request.record))
        .await?;
    let record: RecordAnchor = match decode_at(
        &request.record,
        first.accounts.first().and_then(Option::as_ref),
        Refused::UnknownRecord(request.record),
    ) {
        Ok(record) => record,
        Err(refused) => return Ok(Err(refused)),
    };
    let snapshot = view
        .accounts_at(&probe_accounts(request, &record.patient))
        .await?;
    Ok(decide_probe(request, &snapshot))
}

#[cfg(test)]
mod tests {
    //! The gateway's decision against each way round it: who gains, and the refusal they get.
    use super::*;
    use crate::protocol::*;
    use anchor_lang::AccountSerialize;
    use careledger::logic::cid::parse_cid;
    use careledger::state::{GrantStatus, ProviderStatus, Purpose, ReviewState, ROLE_CLINICIAN};
    use careledger::NO_RECORD_SCOPE;
    use careledger_identity::siws::SignInMessage;
    use solana_signature::Signature;

    const NOW: i64 = 1_800_000_000;

    struct World {
        patient: Pubkey,
        clinic: Pubkey,
        config: Config,
        grant: ConsentGrant,
        record: RecordAnchor,
        provider: Provider,
        patient_account: Patient,
        key: Option<EncryptionKey>,
        event: AccessLogged,
    }

    fn world() -> World {
        let patient = Pubkey::new_unique();
        let clinic = Pubkey::new_unique();
        let grant_address = careledger_sdk::pda::grant(&patient, &clinic, Purpose::Treatment).0;
        let record_address = careledger_sdk::pda::record(&patient, 0).0;
        let mut cid = vec![0x01, 0x55, 0x12, 0x20];
        cid.extend_from_slice(&[7; 32]);
        World {
            patient,
            clinic,
            config: Config {
                admin: Pubkey::new_unique(),
                pending_admin: Pubkey::default(),
                credential_authority: Pubkey::new_unique(),
                paused: false,
                max_break_glass_secs: 3600,
                bump: 255,
                reserved: [0; 32],
            },
            grant: ConsentGrant {
                patient,
                grantee: clinic,
                classes: 0b10,
                actions: action::READ,
                purpose: Purpose::Treatment,
                status: GrantStatus::Active,
                review: ReviewState::NotRequired,
                bump: 255,
                consent_epoch: 0,
                record_scope: NO_RECORD_SCOPE,
                access_count: 1,
                not_before: NOW - 100,
                expires_at: NOW + 86_400,
                created_at: (NOW - 100) as u32,
                revoked_at: 0,
                serial: 1,
                narrowed_at: 0,
                payer: patient,
                statement_hash: [0; 32],
            },
            record: RecordAnchor {
                patient,
                author: patient,
                cid: parse_cid(&cid).unwrap(),
                content_sha256: [7; 32],
                class: 1,
                status: RecordStatus::Current,
                bump: 255,
                index: 0,
                version: 1,
                previous: careledger::NO_PREVIOUS_VERSION,
                anchored_at: 0,
                care_authored: false,
                care_since: 0,
            },
            provider: Provider {
                wallet: clinic,
                roles: ROLE_CLINICIAN,
                status: ProviderStatus::Verified,
                bump: 255,
                credential_ref: [1; 32],
                credential_expires_at: NOW + 86_400,
                verified_by: Pubkey::new_unique(),
                verified_at: NOW - 200,
                registered_at: NOW - 300,
                suspension_reason: 0,
                supply_roles: 0,
                reserved: [0; 15],
            },
            patient_account: Patient {
                wallet: patient,
                guardian: Pubkey::default(),
                guardian_expires_at: 0,
                consent_epoch: 0,
                record_count: 1,
                grant_count: 1,
                emergency_count: 0,
                registered_at: NOW - 400,
                bump: 255,
                epoch_changed_at: 0,
                consent_flags: 0,
                reserved: [0; 7],
            },
            key: Some(EncryptionKey {
                wallet: clinic,
                x25519: [0x40; 32],
                key_version: 1,
                set_at: NOW - 50,
                bump: 255,
            }),
            event: AccessLogged {
                grant: grant_address,
                patient,
                grantee: clinic,
                record: record_address,
                record_index: 0,
                action: action::READ,
                purpose: Purpose::Treatment,
                emergency: false,
                access_count: 1,
                at: NOW - 10,
                grant_serial: 1,
            },
        }
    }

    fn account<T: AccountSerialize>(value: &T) -> Option<Account> {
        let mut data = Vec::new();
        value.try_serialize(&mut data).unwrap();
        Some(Account {
            lamports: 1,
            data,
            owner: careledger::ID,
            executable: false,
            rent_epoch: 0,
        })
    }

    fn snapshot(w: &World) -> AccountsAt {
        AccountsAt {
            slot: 9,
            unix_timestamp: NOW,
            accounts: vec![
                account(&w.config),
                account(&w.grant),
                account(&w.record),
                account(&w.provider),
                account(&w.patient_account),
                w.key.as_ref().and_then(account),
            ],
        }
    }

    fn decide(w: &World) -> Result<Cleared, Refused> {
        decide_release(&w.event, &snapshot(w), DEFAULT_MAX_EVENT_AGE_SECS)
    }

    fn request(w: &World, grantee: Pubkey) -> ReleaseRequest {
        ReleaseRequest {
            grantee,
            record: w.event.record,
            grant: w.event.grant,
            transaction: Signature::from([3; 64]),
        }
    }

    #[test]
    fn a_live_grant_and_a_fresh_read_are_released_to_the_published_key() {
        let w = world();
        let cleared = decide(&w).unwrap();
        assert_eq!(cleared.recipient_key, [0x40; 32]);
        assert_eq!(cleared.slot, 9);
        let events = [CareledgerEvent::AccessLogged(w.event.clone())];
        assert_eq!(
            access_event(&request(&w, w.clinic), Some(&events)),
            Ok(w.event.clone())
        );
    }

    /// R3-3. Who gains: a grantee whose consent was revoked, closed and given again. Its read
    /// logged under the old grant must not be released under the new one, whose own trail
    /// shows no access; an event of the layout before serials (0) matches no grant.
    #[test]
    fn a_read_logged_under_a_grant_made_again_is_not_released() {
        let mut w = world();
        w.grant.serial = 2;
        w.grant.created_at = (NOW - 5) as u32;
        assert_eq!(
            decide(&w),
            Err(Refused::GrantReplaced {
                grant: w.event.grant,
                logged: 1,
                now: 2
            })
        );
        assert_eq!(decide(&w).unwrap_err().slug(), "grant-replaced");
        assert_eq!(decide(&w).unwrap_err().status(), 403);
        w.event.grant_serial = 0;
        assert!(matches!(
            decide(&w),
            Err(Refused::GrantReplaced { logged: 0, .. })
        ));
        w.event.grant_serial = 2;
        assert!(
            decide(&w).is_ok(),
            "a read logged under the grant as it is now"
        );
    }

    /// A stranger (or a second clinic) presents the clinic's transaction as its own.
    #[test]
    fn another_grantees_event_is_not_yours() {
        let w = world();
        let events = [CareledgerEvent::AccessLogged(w.event.clone())];
        let thief = Pubkey::new_unique();
        assert_eq!(
            access_event(&request(&w, thief), Some(&events)),
            Err(Refused::AnotherGrantee(w.clinic))
        );
    }

    /// A transaction for another record, another grant, a write, or none at all.
    #[test]
    fn only_a_logged_read_of_this_record_under_this_grant_counts() {
        let w = world();
        let r = request(&w, w.clinic);
        assert_eq!(
            access_event(&r, None),
            Err(Refused::UnknownTransaction(r.transaction))
        );
        let mut other_record = w.event.clone();
        other_record.record = Pubkey::new_unique();
        let mut write = w.event.clone();
        write.action = action::WRITE;
        for event in [other_record, write] {
            let events = [CareledgerEvent::AccessLogged(event)];
            assert_eq!(
                access_event(&r, Some(&events)),
                Err(Refused::NoAccessEvent(r.transaction))
            );
        }
    }

    /// The program recorded a refusal: it must not be turned into a release.
    #[test]
    fn a_refusal_on_chain_releases_nothing() {
        let w = world();
        let refused = careledger::events::AccessRefused {
            grant: w.event.grant,
            patient: w.patient,
            grantee: w.clinic,
            record: w.event.record,
            record_index: 0,
            action: action::READ,
            purpose: Purpose::Treatment,
            reason: Refusal::Revoked,
            at: NOW,
            grant_serial: 1,
        };
        let events = [CareledgerEvent::AccessRefused(refused)];
        assert_eq!(
            access_event(&request(&w, w.clinic), Some(&events)),
            Err(Refused::AccessRefusedOnChain(Refusal::Revoked))
        );
    }

    /// An event logged long ago, kept to fetch the record after consent ends.
    #[test]
    fn an_old_event_is_stale() {
        let mut w = world();
        w.event.at = NOW - DEFAULT_MAX_EVENT_AGE_SECS - 1;
        assert!(matches!(decide(&w), Err(Refused::StaleEvent { .. })));
    }

    /// The patient revoked (one grant, or all of them) after the read was logged.
    #[test]
    fn revocation_after_the_event_stops_the_release() {
        let mut w = world();
        w.grant.status = GrantStatus::Revoked;
        assert_eq!(decide(&w), Err(Refused::GrantNotLive(Refusal::Revoked)));
        let mut w = world();
        w.patient_account.consent_epoch = 1;
        assert_eq!(decide(&w), Err(Refused::GrantNotLive(Refusal::StaleEpoch)));
        let mut w = world();
        w.grant.expires_at = NOW;
        assert_eq!(decide(&w), Err(Refused::GrantNotLive(Refusal::Expired)));
        let mut w = world();
        w.provider.status = ProviderStatus::Suspended;
        assert_eq!(
            decide(&w),
            Err(Refused::GrantNotLive(Refusal::ProviderSuspended))
        );
    }

    #[test]
    fn retracted_superseded_and_unknown_records_are_refused() {
        let mut w = world();
        w.record.status = RecordStatus::EnteredInError;
        assert_eq!(decide(&w), Err(Refused::RecordRetracted(w.event.record)));
        w.record.status = RecordStatus::Superseded;
        assert_eq!(decide(&w), Err(Refused::RecordSuperseded(w.event.record)));
        let w = world();
        let mut s = snapshot(&w);
        s.accounts[2] = None;
        assert_eq!(
            decide_release(&w.event, &s, DEFAULT_MAX_EVENT_AGE_SECS),
            Err(Refused::UnknownRecord(w.event.record))
        );
    }

    /// A record of another patient presented under this patient's grant.
    #[test]
    fn a_record_of_another_patient_is_refused() {
        let mut w = world();
        w.record.patient = Pubkey::new_unique();
        assert!(matches!(decide(&w), Err(Refused::Corrupt(..))));
    }

    #[test]
    fn no_usable_key_no_release() {
        let mut w = world();
        w.key = None;
        assert_eq!(decide(&w), Err(Refused::NoRecipientKey(w.clinic)));
        let mut w = world();
        if let Some(k) = w.key.as_mut() {
            k.x25519 = [0; 32];
        }
        assert_eq!(decide(&w), Err(Refused::NoRecipientKey(w.clinic)));
    }

    #[test]
    fn paused_means_no_access() {
        let mut w = world();
        w.config.paused = true;
        assert_eq!(decide(&w), Err(Refused::Paused));
    }

    #[test]
    fn release_and_upload_messages_read_back() {
        let w = world();
        let r = request(&w, w.clinic);
        let m = release_message(
            "127.0.0.1:8080",
            &r,
            "abcdefgh12".into(),
            "2026-12-01T10:00:00Z".into(),
        );
        let parsed = SignInMessage::parse(&m.to_text()).unwrap();
        assert_eq!(release_request_of(&parsed).unwrap(), r);
        // an upload message is no release request, and the other way round
        let u = upload_message(
            "127.0.0.1:8080",
            &w.patient,
            &w.event.record,
            "abcdefgh12".into(),
            "2026-12-01T10:00:00Z".into(),
        );
        assert_eq!(upload_record_of(&u).unwrap(), w.event.record);
        assert!(release_request_of(&u).is_err());
        assert!(upload_record_of(&m).is_err());
    }

    fn staging(w: &World, uploader: Pubkey, grant: Option<Pubkey>) -> StagingRequest {
        StagingRequest {
            uploader,
            patient: w.patient,
            index: w.patient_account.record_count,
            class: 1,
            grant,
        }
    }

    fn staging_snapshot(w: &World, request: &StagingRequest) -> AccountsAt {
        let mut accounts = vec![
            account(&w.config),
            None,
            account(&w.patient_account),
            account(&w.provider),
        ];
        if request.grant.is_some() {
            accounts.push(account(&w.grant));
        }
        AccountsAt {
            slot: 9,
            unix_timestamp: NOW,
            accounts,
        }
    }

    /// Who gains by staging without standing: anyone who wants to fill a custodian's disk or
    /// upload slots, or to plant bytes at another patient's next record. Only the patient, or a
    /// provider whose grant allows the write now, stages; and only the next record.
    #[test]
    fn only_the_patient_or_a_live_writer_stages_the_next_record() {
        let mut w = world();
        let own = staging(&w, w.patient, None);
        assert_eq!(decide_staging(&own, &staging_snapshot(&w, &own)), Ok(()));

        let stranger = staging(&w, Pubkey::new_unique(), None);
        assert!(matches!(
            decide_staging(&stranger, &staging_snapshot(&w, &stranger)),
            Err(Refused::NoStanding { .. })
        ));
        let grant = Some(w.event.grant);
        let reader = staging(&w, w.clinic, grant);
        assert_eq!(
            decide_staging(&reader, &staging_snapshot(&w, &reader)),
            Err(Refused::GrantNotLive(Refusal::ActionNotGranted)),
            "a read grant does not write"
        );
        w.grant.actions = action::READ | action::WRITE;
        assert_eq!(
            decide_staging(&reader, &staging_snapshot(&w, &reader)),
            Ok(())
        );
        let thief = staging(&w, Pubkey::new_unique(), grant);
        assert!(matches!(
            decide_staging(&thief, &staging_snapshot(&w, &thief)),
            Err(Refused::NoStanding { .. })
        ));
        w.grant.status = GrantStatus::Revoked;
        assert_eq!(
            decide_staging(&reader, &staging_snapshot(&w, &reader)),
            Err(Refused::GrantNotLive(Refusal::Revoked))
        );

        // not the next record, an anchored one, an unregistered patient, a paused program
        let w = world();
        let own = staging(&w, w.patient, None);
        let mut taken = staging(&w, w.patient, None);
        taken.index = 0;
        assert_eq!(
            decide_staging(&taken, &staging_snapshot(&w, &taken)),
            Err(Refused::NotNextRecord {
                record: taken.record(),
                next: 1
            })
        );
        let mut anchored = staging_snapshot(&w, &own);
        anchored.accounts[1] = account(&w.record);
        assert!(matches!(
            decide_staging(&own, &anchored),
            Err(Refused::NotNextRecord { .. })
        ));
        let mut unregistered = staging_snapshot(&w, &own);
        unregistered.accounts[2] = None;
        assert_eq!(
            decide_staging(&own, &unregistered),
            Err(Refused::UnknownPatient(w.patient))
        );
        let mut w = world();
        let own = staging(&w, w.patient, None);
        w.config.paused = true;
        assert_eq!(
            decide_staging(&own, &staging_snapshot(&w, &own)),
            Err(Refused::Paused)
        );
    }

    fn probe_snapshot(w: &World, request: &ProbeRequest) -> AccountsAt {
        let mut accounts = vec![
            account(&w.config),
            account(&w.record),
            account(&w.patient_account),
            account(&w.provider),
        ];
        if request.grant.is_some() {
            accounts.push(account(&w.grant));
        }
        AccountsAt {
            slot: 9,
            unix_timestamp: NOW,
            accounts,
        }
    }

    /// Who gains by probing: anyone mapping which custodian holds which patient's records.
    /// Only the patient, the author, or a grantee whose read is allowed now learns it.
    #[test]
    fn only_the_patient_the_author_or_a_live_reader_learns_what_is_held() {
        let mut w = world();
        let probe = |signer: Pubkey, grant: Option<Pubkey>| ProbeRequest {
            signer,
            record: w.event.record,
            grant,
        };
        let own = probe(w.patient, None);
        assert!(decide_probe(&own, &probe_snapshot(&w, &own)).is_ok());
        let reader = probe(w.clinic, Some(w.event.grant));
        assert!(decide_probe(&reader, &probe_snapshot(&w, &reader)).is_ok());
        let no_grant = probe(w.clinic, None);
        assert!(matches!(
            decide_probe(&no_grant, &probe_snapshot(&w, &no_grant)),
            Err(Refused::NoStanding { .. })
        ));
        let thief = probe(Pubkey::new_unique(), Some(w.event.grant));
        assert_eq!(
            decide_probe(&thief, &probe_snapshot(&w, &thief)),
            Err(Refused::AnotherGrantee(w.clinic))
        );
        w.grant.status = GrantStatus::Revoked;
        assert_eq!(
            decide_probe(&reader, &probe_snapshot(&w, &reader)),
            Err(Refused::GrantNotLive(Refusal::Revoked))
        );
        w.record.status = RecordStatus::EnteredInError;
        assert_eq!(
            decide_probe(&own, &probe_snapshot(&w, &own)),
            Err(Refused::RecordRetracted(w.event.record))
        );
        let message = probe_message(
            "g:1",
            &reader,
            "abcdefgh12".into(),
            "2026-12-01T10:00:00Z".into(),
        );
        let parsed = SignInMessage::parse(&message.to_text()).unwrap();
        assert_eq!(probe_request_of(&parsed).unwrap(), reader);
        assert!(upload_record_of(&parsed).is_err() && release_request_of(&parsed).is_err());
        let own_message = probe_message(
            "g:1",
            &own,
            "abcdefgh12".into(),
            "2026-12-01T10:00:00Z".into(),
        );
        assert!(
            upload_record_of(&own_message).is_err(),
            "a probe naming one record is no upload"
        );
    }
}
