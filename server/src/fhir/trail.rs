//! One patient's trail, read from the ledger for one request: their grants, records and claims
//! as they stand (program accounts), and the audit events of the transactions behind their
//! `Patient` account, each resource built by the SDK's FHIR builders (`careledger_sdk::audit`).
use anchor_lang::{AccountDeserialize, Discriminator};
use careledger_sdk::accounts::{decode, offsets, Memcmp};
use careledger_sdk::audit;
use careledger_sdk::{
    pda, CareledgerEvent, Claim, ConsentGrant, HistoryEntry, LedgerArchive, Patient, Policy,
    Pubkey, RecordAnchor, SdkError,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A resource of the trail, with what searches filter and sort it by.
pub struct Entry {
    pub resource: Value,
    /// When it last changed (`meta.lastUpdated`, and `date` for an AuditEvent), unix seconds.
    pub updated: i64,
}

/// What one request read: every resource of one patient, in the order searches list them.
#[derive(Default)]
pub struct Trail {
    pub consents: Vec<Entry>,
    /// Oldest first: a new event lands on the last page, so earlier pages never shift.
    pub audit_events: Vec<Entry>,
    pub documents: Vec<Entry>,
    pub claims: Vec<Entry>,
    pub provenance: Vec<Entry>,
    /// Whether older transactions (past [`careledger_sdk::transport::MAX_HISTORY`]) were left out.
    pub history_cut: bool,
    /// Whether policies past [`MAX_POLICIES`] (and their claims) were left out.
    pub policies_cut: bool,
    /// A wallet searched for that is no registered patient (an empty trail, said so).
    pub unregistered: Option<Pubkey>,
}

/// A stable id for the `n`th event of a transaction on `patient`'s trail:
/// `PATIENT.HASH.n`, where HASH is 12 hex digits of the SHA-256 of the transaction's place (a
/// signature's base58 is 88 characters, and FHIR ids are at most 64). The patient comes first
/// so that a read by id knows whose trail to read.
pub fn event_id(patient: &Pubkey, entry: &HistoryEntry, n: usize) -> String {
    let mut h = Sha256::new();
    h.update(entry.signature.as_ref());
    h.update(entry.slot.to_le_bytes());
    h.update(entry.index.to_le_bytes());
    let hex = careledger_records::protocol::hex(&h.finalize()[..6]);
    format!("{patient}.{hex}.{n}")
}

/// The patient an event id (or a Provenance id, which ends in `.p`) names.
pub fn patient_of_id(id: &str) -> Option<Pubkey> {
    id.split('.').next()?.parse().ok()
}

/// The patient an audit-trail event belongs to.
fn patient_of(event: &CareledgerEvent) -> Option<Pubkey> {
    use CareledgerEvent as E;
    Some(match event {
        E::AccessLogged(e) => e.patient,
        E::AccessRefused(e) => e.patient,
        E::BreakGlassOpened(e) => e.patient,
        E::BreakGlassReviewed(e) => e.patient,
        E::GrantRevoked(e) => e.patient,
        E::AllGrantsRevoked(e) => e.patient,
        E::GrantCreated(e) => e.patient,
        E::GrantUpdated(e) => e.patient,
        E::GrantClosed(e) => e.patient,
        E::ConsentStatementSigned(e) => e.patient,
        E::RecordAnchored(e) => e.patient,
        E::RecordRetracted(e) => e.patient,
        E::ClaimSubmitted(e) => e.patient,
        E::ClaimAdjudicated(e) => e.patient,
        _ => return None,
    })
}

/// The resource an event made or changed (`Type/id`), its signer, and when.
fn provenance_target(
    event: &CareledgerEvent,
    id: &str,
    consents: &[(Pubkey, ConsentGrant)],
    claims: &[(Pubkey, Claim, Policy, u8)],
) -> Option<(String, Pubkey, i64)> {
    use CareledgerEvent as E;
    // a grant's events belong to the Consent standing at its address only if they came after
    // it was made (a grant closed and made again is another Consent)
    let consent = |grant: &Pubkey, at: i64, serial: Option<u32>| {
        consents
            .iter()
            .find(|(a, g)| {
                a == grant
                    && match serial {
                        Some(serial) => g.serial == serial,
                        None => at >= i64::from(g.created_at),
                    }
            })
            .map(|(a, g)| format!("Consent/{}", audit::consent_id(a, g)))
    };
    let claim = |c: &Pubkey| {
        claims
            .iter()
            .any(|(a, ..)| a == c)
            .then(|| format!("ClaimResponse/{c}"))
    };
    match event {
        E::AccessLogged(e) => Some((format!("AuditEvent/{id}"), e.grantee, e.at)),
        E::AccessRefused(e) => Some((format!("AuditEvent/{id}"), e.grantee, e.at)),
        E::BreakGlassOpened(e) => Some((format!("AuditEvent/{id}"), e.provider, e.at)),
        E::BreakGlassReviewed(e) => Some((format!("AuditEvent/{id}"), e.by, e.at)),
        E::GrantRevoked(e) => Some((format!("AuditEvent/{id}"), e.by, e.at)),
        E::AllGrantsRevoked(e) => Some((format!("AuditEvent/{id}"), e.by, e.at)),
        // a grant's creation and changes carry no serial: the Consent made at or before them
        E::GrantCreated(e) => consent(&e.grant, e.at, None).map(|t| (t, e.by, e.at)),
        E::GrantUpdated(e) => consent(&e.grant, e.at, None).map(|t| (t, e.by, e.at)),
        E::ConsentStatementSigned(e) => {
            consent(&e.grant, e.at, Some(e.serial)).map(|t| (t, e.signer, e.at))
        }
        E::RecordAnchored(e) => Some((format!("DocumentReference/{}", e.record), e.author, e.at)),
        E::RecordRetracted(e) => Some((format!("DocumentReference/{}", e.record), e.by, e.at)),
        E::ClaimSubmitted(e) => claim(&e.claim).map(|t| (t, e.provider, e.at)),
        E::ClaimAdjudicated(e) => claim(&e.claim).map(|t| (t, e.by, e.at)),
        E::ClaimPaid(e) => claim(&e.claim).map(|t| (t, e.provider, e.at)),
        _ => None,
    }
}

async fn listed<T, L>(ledger: &L, offset: usize, key: &Pubkey) -> Result<Vec<(Pubkey, T)>, SdkError>
where
    T: AccountDeserialize + Discriminator,
    L: LedgerArchive,
{
    let filters = [Memcmp::discriminator::<T>(), Memcmp::key_at(offset, key)];
    ledger
        .program_accounts(&filters)
        .await?
        .into_iter()
        .map(|(k, a)| Ok((k, decode::<T>(&k, &a.owner, &a.data)?)))
        .collect()
}

/// Where a record's ciphertext can be fetched: the origin of a trustless gateway that holds it,
/// and its size there (`None` where this server knows of none).
pub type HolderFn = dyn Fn(&Pubkey) -> Option<(String, u64)> + Send + Sync;

/// The most policies of one patient a trail reads claims under.
pub const MAX_POLICIES: usize = 200;

/// What a request needs read: each part costs its own ledger reads (docs/FHIR.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    pub grants: bool,
    pub records: bool,
    pub claims: bool,
    /// The transactions (AuditEvents, Provenance, and the statements attached to Consents).
    pub history: bool,
}

/// Reads what `needs` says of one patient's trail; the rest stays empty.
pub async fn read<L: LedgerArchive>(
    ledger: &L,
    patient: &Pubkey,
    holder: Option<&HolderFn>,
    needs: Needs,
) -> Result<Trail, SdkError> {
    let patient_account = pda::patient(patient).0;
    let at = ledger.accounts_at(&[patient_account]).await?;
    let now = at.unix_timestamp;
    let epoch = match at.accounts.into_iter().next().flatten() {
        Some(a) => decode::<Patient>(&patient_account, &a.owner, &a.data)?.consent_epoch,
        None => return Err(SdkError::AccountNotFound(patient_account)),
    };
    let mut grants: Vec<(Pubkey, ConsentGrant)> = match needs.grants {
        true => listed(ledger, offsets::GRANT_PATIENT, patient).await?,
        false => Vec::new(),
    };
    // by address: a grant closed and made again keeps its place, so pages do not shift
    grants.sort_by_key(|(a, _)| *a);
    let mut records: Vec<(Pubkey, RecordAnchor)> = match needs.records {
        true => listed(ledger, offsets::RECORD_PATIENT, patient).await?,
        false => Vec::new(),
    };
    records.sort_by_key(|(_, r)| r.index);
    let mut claims = Vec::new();
    let mut policies: Vec<(Pubkey, Policy)> = match needs.claims {
        true => listed(ledger, offsets::POLICY_PATIENT, patient).await?,
        false => Vec::new(),
    };
    policies.sort_by_key(|(a, _)| *a);
    // anyone verified as an insurer can open a policy for a patient: bounded, and said so
    let policies_cut = policies.len() > MAX_POLICIES;
    policies.truncate(MAX_POLICIES);
    let mut decimals = std::collections::HashMap::new();
    for chunk in policies.chunks(careledger_sdk::transport::MAX_SNAPSHOT_ADDRESSES) {
        let mints: Vec<Pubkey> = chunk.iter().map(|(_, p)| p.mint).collect();
        let read = ledger.accounts_at(&mints).await?;
        for (mint, account) in mints.iter().zip(read.accounts) {
            let account = account.ok_or(SdkError::AccountNotFound(*mint))?;
            decimals.insert(
                *mint,
                careledger_sdk::tokens::decode_mint_decimals(mint, &account.data)?,
            );
        }
    }
    for (policy_address, policy) in &policies {
        let mut of_policy: Vec<(Pubkey, Claim)> =
            listed(ledger, offsets::CLAIM_POLICY, policy_address).await?;
        of_policy.sort_by_key(|(a, c)| (c.submitted_at, *a));
        let d = decimals.get(&policy.mint).copied().unwrap_or_default();
        claims.extend(
            of_policy
                .into_iter()
                .map(|(a, c)| (a, c, policy.clone(), d)),
        );
    }
    let (history, history_cut) = match needs.history {
        true => {
            let h = ledger
                .history(&patient_account, careledger_sdk::transport::MAX_HISTORY)
                .await?;
            (h.entries, h.truncated)
        }
        false => (Vec::new(), false),
    };
    // a payment names its claim, not the patient
    let mine = |e: &CareledgerEvent| match e {
        CareledgerEvent::ClaimPaid(p) => claims.iter().any(|(a, ..)| *a == p.claim),
        _ => patient_of(e) == Some(*patient),
    };
    let events: Vec<CareledgerEvent> = history
        .iter()
        .flat_map(|h| h.events.iter().filter(|e| mine(e)).cloned())
        .collect();

    let consents = grants
        .iter()
        .map(|(a, g)| {
            let updated = i64::from(g.created_at.max(g.narrowed_at).max(g.revoked_at));
            Entry {
                resource: stamped(audit::consent(a, g, now, epoch, &events), updated),
                updated,
            }
        })
        .collect();
    let mut audit_events = Vec::new();
    let mut provenance = Vec::new();
    for entry in &history {
        for (n, event) in entry.events.iter().enumerate() {
            if !mine(event) {
                continue;
            }
            let id = event_id(patient, entry, n);
            if let Some(resource) = audit::audit_event_of(id.clone(), event) {
                let updated = at_of(&resource);
                audit_events.push(Entry {
                    resource: stamped(resource, updated),
                    updated,
                });
            }
            if let Some((target, who, at)) = provenance_target(event, &id, &grants, &claims) {
                let resource = audit::provenance(
                    &format!("{id}.p"),
                    &target,
                    &entry.signature.to_string(),
                    entry.slot,
                    at,
                    &who,
                );
                provenance.push(Entry {
                    resource: stamped(resource, at),
                    updated: at,
                });
            }
        }
    }
    let documents = records
        .iter()
        .map(|(a, r)| {
            let held = holder.and_then(|h| h(a));
            let updated = i64::from(r.anchored_at);
            let held = held.as_ref().map(|(origin, size)| (origin.as_str(), *size));
            Entry {
                resource: stamped(audit::document_reference(a, r, held), updated),
                updated,
            }
        })
        .collect();
    let claims = claims
        .iter()
        .map(|(a, c, p, d)| {
            let updated = c.submitted_at.max(c.paid_at);
            Entry {
                resource: stamped(audit::claim_response(a, c, p, *d), updated),
                updated,
            }
        })
        .collect();
    Ok(Trail {
        consents,
        audit_events,
        documents,
        claims,
        provenance,
        history_cut,
        policies_cut,
        unregistered: None,
    })
}

fn at_of(resource: &Value) -> i64 {
    resource["recorded"]
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(0, |t| t.timestamp())
}

/// The resource with `meta.lastUpdated`.
fn stamped(mut resource: Value, updated: i64) -> Value {
    resource["meta"] = serde_json::json!({ "lastUpdated": audit::instant(updated) });
    resource
}
