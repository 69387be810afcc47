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
                        return $name::deserialize(&mut body).ok().map(CareledgerEvent::$name);
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
);

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
