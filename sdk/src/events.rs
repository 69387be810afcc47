//! Typed audit events, decoded from the self-CPIs that `emit_cpi!` leaves in a transaction's
//! inner instructions. Both transports hand this module the same thing: the inner
//! instructions' program ids and data, in order.
use anchor_lang::{AnchorDeserialize, AnchorSerialize, Discriminator};
/// The program's event structs, re-exported: `careledger_sdk::events::RecordAnchored`.
pub use careledger::events::*;
use solana_pubkey::Pubkey;

macro_rules! events {
    ($($name:ident),* $(,)?) => {
        /// Every event the program emits.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum CareledgerEvent {
            $($name($name),)*
        }

        impl CareledgerEvent {
            /// The name of every event the SDK decodes, as the IDL spells it. A test checks this
            /// list against the committed IDL: an event missing here would silently vanish from
            /// `TxOutcome.events` and the FHIR export.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// The discriminator of the event named `name` (its first 8 bytes).
            pub fn discriminator_of(name: &str) -> Option<&'static [u8]> {
                match name {
                    $(stringify!($name) => Some($name::DISCRIMINATOR),)*
                    _ => None,
                }
            }

            /// Decodes one event from its bytes (discriminator + borsh), `None` if unknown.
            pub fn decode(data: &[u8]) -> Option<Self> {
                $(
                    if let Some(mut body) = data.strip_prefix($name::DISCRIMINATOR) {
                        return $name::deserialize(&mut body)
                            .ok()
                            .map(CareledgerEvent::$name)
                            .or_else(|| legacy::decode(data));
                    }
                )*
                None
            }

            /// The event's bytes as the program emits them (discriminator + borsh): `decode`
            /// reads them back. For storing an audit trail off chain.
            pub fn encode(&self) -> Vec<u8> {
                match self {
                    $(CareledgerEvent::$name(e) => {
                        let mut out = $name::DISCRIMINATOR.to_vec();
                        e.serialize(&mut out).expect("writing to a Vec cannot fail");
                        out
                    })*
                }
            }

            /// The event's type name, as the IDL spells it.
            pub fn name(&self) -> &'static str {
                match self {
                    $(CareledgerEvent::$name(_) => stringify!($name),)*
                }
            }
        }
    };
}

events!(
    ConfigInitialized,
    AdminProposed,
    AdminAccepted,
    PauseSet,
    ConfigUpdated,
    ProviderRegistered,
    ProviderVerified,
    ProviderCredentialSet,
    ProviderSuspended,
    PatientRegistered,
    GuardianChanged,
    StatementsRequired,
    EncryptionKeySet,
    RecordAnchored,
    RecordRetracted,
    GrantCreated,
    ConsentStatementSigned,
    GrantUpdated,
    GrantRevoked,
    AllGrantsRevoked,
    GrantClosed,
    AccessRequested,
    AccessRequestDecided,
    BreakGlassOpened,
    BreakGlassReviewed,
    AccessLogged,
    AccessRefused,
    PolicyCreated,
    PolicyFunded,
    PolicyStatusChanged,
    PolicyWithdrawn,
    PolicyClosed,
    CoverageRuleAdded,
    CoverageRuleUpdated,
    CoverageRuleRetired,
    ClaimSubmitted,
    ClaimAdjudicated,
    ClaimPaid,
    ClaimAppealed,
    ClaimCancelled,
    StudyCreated,
    StudyFunded,
    StudyStatusChanged,
    StudyWithdrawn,
    ParticipantEnrolled,
    RewardPaid,
    ParticipationEnded,
    PaymentMintAccepted,
    PaymentMintRemoved,
    NetworkMemberAdded,
    NetworkMemberRemoved,
    ParticipantInvited,
    InvitationClosed,
    StudySiteSet,
    ProviderSupplyRolesSet,
    ProductRegistered,
    BatchCommissioned,
    PackStatusChanged,
    SuspectPack,
    PackRecordSettled,
    BatchRecalled,
    ShipmentSent,
    ShipmentReceived,
    ProtocolRegistered,
    ProtocolAmended,
    AnalysisPlanAnchored,
    DataLocked,
    ResultsReported,
    ParticipantReconsented,
);

/// Events whose layout grew at the end, read in the layout an earlier careledger wrote (an
/// audit trail kept in a ledger folder outlives the version that wrote it). A field the old
/// layout lacks takes a value no new event carries.
mod legacy {
    use super::*;

    /// `AccessLogged` and `AccessRefused` before `grant_serial` (issue 23). Serial 0 is never a
    /// grant's (serials count from 1), so such an event matches no grant at release.
    #[derive(AnchorDeserialize)]
    struct AccessLoggedV1 {
        grant: Pubkey,
        patient: Pubkey,
        grantee: Pubkey,
        record: Pubkey,
        record_index: u32,
        action: u8,
        purpose: careledger::state::Purpose,
        emergency: bool,
        access_count: u32,
        at: i64,
    }

    #[derive(AnchorDeserialize)]
    struct AccessRefusedV1 {
        grant: Pubkey,
        patient: Pubkey,
        grantee: Pubkey,
        record: Pubkey,
        record_index: u32,
        action: u8,
        purpose: careledger::state::Purpose,
        reason: careledger::logic::consent::Refusal,
        at: i64,
    }

    pub(super) fn decode(data: &[u8]) -> Option<CareledgerEvent> {
        use anchor_lang::Discriminator;
        if let Some(mut body) = data.strip_prefix(AccessLogged::DISCRIMINATOR) {
            let e = AccessLoggedV1::deserialize(&mut body).ok()?;
            return Some(CareledgerEvent::AccessLogged(AccessLogged {
                grant: e.grant,
                patient: e.patient,
                grantee: e.grantee,
                record: e.record,
                record_index: e.record_index,
                action: e.action,
                purpose: e.purpose,
                emergency: e.emergency,
                access_count: e.access_count,
                at: e.at,
                grant_serial: 0,
            }));
        }
        let mut body = data.strip_prefix(AccessRefused::DISCRIMINATOR)?;
        let e = AccessRefusedV1::deserialize(&mut body).ok()?;
        Some(CareledgerEvent::AccessRefused(AccessRefused {
            grant: e.grant,
            patient: e.patient,
            grantee: e.grantee,
            record: e.record,
            record_index: e.record_index,
            action: e.action,
            purpose: e.purpose,
            reason: e.reason,
            at: e.at,
            grant_serial: 0,
        }))
    }
}

/// Events among a transaction's inner instructions: those invoked on careledger whose data
/// starts with Anchor's event-CPI tag.
pub fn decode_inner_instructions<'a>(
    inner: impl IntoIterator<Item = (Pubkey, &'a [u8])>,
) -> Vec<CareledgerEvent> {
    inner
        .into_iter()
        .filter(|(program, _)| *program == careledger::ID)
        .filter_map(|(_, data)| data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE))
        .filter_map(CareledgerEvent::decode)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Event;

    /// The SDK decodes every event the IDL declares, by the IDL's own discriminator.
    #[test]
    fn the_event_list_matches_the_idl() {
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../idl/careledger.json")).expect("the IDL");
        let declared: Vec<(String, Vec<u8>)> = idl["events"]
            .as_array()
            .expect("IDL events")
            .iter()
            .map(|e| {
                let name = e["name"].as_str().unwrap_or_default().to_string();
                let discriminator = e["discriminator"]
                    .as_array()
                    .expect("a discriminator")
                    .iter()
                    .map(|b| b.as_u64().unwrap_or_default() as u8)
                    .collect();
                (name, discriminator)
            })
            .collect();
        let mut ours: Vec<&str> = CareledgerEvent::NAMES.to_vec();
        let mut theirs: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(
            ours, theirs,
            "events! in sdk/src/events.rs must list every IDL event"
        );
        let distinct: std::collections::BTreeSet<&str> =
            CareledgerEvent::NAMES.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            CareledgerEvent::NAMES.len(),
            "an event listed twice"
        );
        for (name, discriminator) in &declared {
            assert_eq!(
                CareledgerEvent::discriminator_of(name),
                Some(discriminator.as_slice()),
                "{name}: the SDK and the IDL disagree on its discriminator"
            );
        }
    }

    /// An audit trail written before `grant_serial` existed still reads: the events keep every
    /// field they had, and serial 0, which no grant has.
    #[test]
    fn access_events_of_the_earlier_layout_still_decode() {
        let new = AccessLogged {
            grant: Pubkey::new_unique(),
            patient: Pubkey::new_unique(),
            grantee: Pubkey::new_unique(),
            record: Pubkey::new_unique(),
            record_index: 3,
            action: 1,
            purpose: careledger::state::Purpose::Treatment,
            emergency: false,
            access_count: 7,
            at: 1_700_000_000,
            grant_serial: 5,
        };
        let bytes = CareledgerEvent::AccessLogged(new.clone()).encode();
        assert_eq!(
            CareledgerEvent::decode(&bytes),
            Some(CareledgerEvent::AccessLogged(new.clone()))
        );
        let old = &bytes[..bytes.len() - 4];
        assert_eq!(
            CareledgerEvent::decode(old),
            Some(CareledgerEvent::AccessLogged(AccessLogged {
                grant_serial: 0,
                ..new.clone()
            }))
        );
        let refused = AccessRefused {
            grant: new.grant,
            patient: new.patient,
            grantee: new.grantee,
            record: new.record,
            record_index: 3,
            action: 1,
            purpose: careledger::state::Purpose::Treatment,
            reason: careledger::logic::consent::Refusal::Revoked,
            at: 9,
            grant_serial: 2,
        };
        let bytes = CareledgerEvent::AccessRefused(refused.clone()).encode();
        assert_eq!(
            CareledgerEvent::decode(&bytes[..bytes.len() - 4]),
            Some(CareledgerEvent::AccessRefused(AccessRefused {
                grant_serial: 0,
                ..refused
            }))
        );
        // anything shorter than either layout is not an event
        assert_eq!(CareledgerEvent::decode(&bytes[..bytes.len() - 5]), None);
    }

    #[test]
    fn decodes_tagged_self_cpis_only() {
        let event = PauseSet {
            admin: Pubkey::new_unique(),
            paused: true,
            at: 42,
        };
        let mut tagged = anchor_lang::event::EVENT_IX_TAG_LE.to_vec();
        tagged.extend(event.data());
        let other = Pubkey::new_unique();
        let decoded = decode_inner_instructions([
            (careledger::ID, tagged.as_slice()),
            (other, tagged.as_slice()),
            (careledger::ID, event.data().as_slice()),
        ]);
        assert_eq!(decoded, vec![CareledgerEvent::PauseSet(event)]);
        assert_eq!(decoded[0].name(), "PauseSet");
    }
}
