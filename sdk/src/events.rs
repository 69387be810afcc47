//! Typed audit events, decoded from the self-CPIs that `emit_cpi!` leaves in a transaction's
//! inner instructions. Both transports hand this module the same thing: the inner
//! instructions' program ids and data, in order.
use anchor_lang::{AnchorDeserialize, AnchorSerialize, Discriminator};
use careledger::events::*;
use solana_pubkey::Pubkey;

macro_rules! events {
    ($($name:ident),* $(,)?) => {
        /// Every event the program emits.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum CareledgerEvent {
            $($name($name),)*
        }

        impl CareledgerEvent {
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
    ProviderSuspended,
    PatientRegistered,
    GuardianChanged,
    RecordAnchored,
    RecordRetracted,
    GrantCreated,
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
