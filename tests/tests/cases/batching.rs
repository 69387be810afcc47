//! Batched sending through the SDK: many grants and revocations packed into as few
//! transactions as the packet size and the instruction trace allow, in order.
use careledger_sdk::batch::{legacy_size, trace_cost, MAX_INSTRUCTION_TRACE, PACKET_DATA_SIZE};
use careledger_sdk::{action, ix, pda, ConsentGrant, GrantCreateArgs, GrantStatus, Purpose};
use careledger_sdk::{ProviderRegisterArgs, NO_RECORD_SCOPE, ROLE_CLINICIAN};
use careledger_tests::{Env, DAY};
use solana_signer::Signer;

#[tokio::test]
async fn thirty_grants_and_their_revocations_go_out_in_packed_transactions() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let mut grantees = Vec::new();
    for _ in 0..30 {
        let provider = env.actor().await;
        let args = ProviderRegisterArgs {
            supply_roles: 0,
            roles: ROLE_CLINICIAN,
            credential_ref: [5; 32],
        };
        env.send(
            ix::ProviderRegister {
                wallet: provider.pubkey(),
                args,
            }
            .instruction(),
            &[&provider],
        )
        .await
        .unwrap();
        grantees.push(provider.pubkey());
    }
    let expires_at = env.now().await + 30 * DAY;
    let creates: Vec<_> = grantees
        .iter()
        .map(|g| {
            let args = GrantCreateArgs {
                purpose: Purpose::Treatment,
                classes: 1,
                actions: action::READ,
                record_scope: NO_RECORD_SCOPE,
                not_before: 0,
                expires_at,
            };
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: *g,
                args,
            }
            .instruction()
        })
        .collect();
    let payer = env.client.payer();
    let chunks = careledger_sdk::batch::pack(&payer, creates.clone());
    for chunk in &chunks {
        assert!(legacy_size(&payer, chunk) <= PACKET_DATA_SIZE);
        assert!(chunk.iter().map(trace_cost).sum::<usize>() <= MAX_INSTRUCTION_TRACE);
    }
    let outcomes = env.client.send_batched(creates, &[&patient]).await.unwrap();
    assert_eq!(outcomes.len(), chunks.len());
    assert!(
        outcomes.len() < 30 / 5,
        "30 grants took {} transactions",
        outcomes.len()
    );
    let events: usize = outcomes.iter().map(|o| o.events.len()).sum();
    assert_eq!(events, 30, "one GrantCreated per grant");
    let grants: Vec<_> = grantees
        .iter()
        .map(|g| pda::grant(&wallet, g, Purpose::Treatment).0)
        .collect();
    let revokes: Vec<_> = grants
        .iter()
        .map(|g| {
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant: *g,
            }
            .instruction()
        })
        .collect();
    let outcomes = env.client.send_batched(revokes, &[&patient]).await.unwrap();
    assert!(
        outcomes.len() <= 2,
        "30 revocations took {} transactions",
        outcomes.len()
    );
    for g in grants {
        let grant: ConsentGrant = env.client.fetch(&g).await.unwrap();
        assert_eq!(grant.status, GrantStatus::Revoked);
    }
}
