//! X25519 key-agreement keys: who gains by breaking each rule, and the test that they cannot.
//! - A stranger who could set a grantee's key would have every later release wrapped to itself.
//! - A low-order key gives a shared secret fixed in advance: anyone on the path could unwrap.
//! - A rotation must be visible (a new version and the previous key in its event).
use careledger_sdk::{ix, pda, CareledgerError as E, CareledgerEvent, EncryptionKey};
use careledger_tests::{skip_unless_own_cluster, swap_account, Env};
use solana_signer::Signer;

/// An X25519 public key for tests: any 32 bytes off the low-order list.
fn key(seed: u8) -> [u8; 32] {
    let mut k = [seed; 32];
    k[0] = 0x40;
    k
}

#[tokio::test]
async fn encryption_key_set_publishes_and_rotates_a_wallets_own_key() {
    let env = Env::new().await;
    let clinic = env.actor().await;
    let publish = |x25519| {
        ix::EncryptionKeySet {
            wallet: clinic.pubkey(),
            x25519,
        }
        .instruction()
    };
    let outcome = env.send(publish(key(1)), &[&clinic]).await.unwrap();
    let address = pda::encryption_key(&clinic.pubkey()).0;
    let stored: EncryptionKey = env.client.fetch(&address).await.unwrap();
    assert_eq!((stored.x25519, stored.key_version), (key(1), 1));
    assert!(
        matches!(&outcome.events[..], [CareledgerEvent::EncryptionKeySet(e)]
        if e.previous == [0; 32] && e.key_version == 1 && e.key_account == address)
    );

    let outcome = env.send(publish(key(2)), &[&clinic]).await.unwrap();
    let stored: EncryptionKey = env.client.fetch(&address).await.unwrap();
    assert_eq!((stored.x25519, stored.key_version), (key(2), 2));
    assert!(
        matches!(&outcome.events[..], [CareledgerEvent::EncryptionKeySet(e)]
        if e.previous == key(1) && e.x25519 == key(2) && e.key_version == 2)
    );

    // the same key again is no rotation, and changes nothing
    env.expect_rejected(
        publish(key(2)),
        &[&clinic],
        E::EncryptionKeyUnchanged,
        &[address],
    )
    .await;
}

#[tokio::test]
async fn a_stranger_cannot_set_or_rotate_someone_elses_key() {
    let env = Env::new().await;
    let clinic = env.actor().await;
    let thief = env.actor().await;
    let victim_key = pda::encryption_key(&clinic.pubkey()).0;
    // before the clinic publishes: the thief names the clinic's key account as its own
    let mut squat = ix::EncryptionKeySet {
        wallet: thief.pubkey(),
        x25519: key(66),
    }
    .instruction();
    swap_account(
        &mut squat,
        &pda::encryption_key(&thief.pubkey()).0,
        victim_key,
    );
    let seeds = 2006; // Anchor ConstraintSeeds
    env.expect_anchor_error(squat.clone(), &[&thief], seeds, &[victim_key])
        .await;
    env.send(
        ix::EncryptionKeySet {
            wallet: clinic.pubkey(),
            x25519: key(1),
        }
        .instruction(),
        &[&clinic],
    )
    .await
    .unwrap();
    // after: the same substitution cannot rotate it either
    env.expect_anchor_error(squat, &[&thief], seeds, &[victim_key])
        .await;
    let stored: EncryptionKey = env.client.fetch(&victim_key).await.unwrap();
    assert_eq!((stored.x25519, stored.key_version), (key(1), 1));
}

#[tokio::test]
async fn low_order_keys_are_refused() {
    let env = Env::new().await;
    let clinic = env.actor().await;
    let address = pda::encryption_key(&clinic.pubkey()).0;
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut p_minus_one = [0xff; 32];
    p_minus_one[0] = 0xec;
    p_minus_one[31] = 0x7f;
    let mut zero_high_bit = [0u8; 32];
    zero_high_bit[31] = 0x80;
    for bad in [[0; 32], one, p_minus_one, zero_high_bit] {
        env.expect_rejected(
            ix::EncryptionKeySet {
                wallet: clinic.pubkey(),
                x25519: bad,
            }
            .instruction(),
            &[&clinic],
            E::UnusableEncryptionKey,
            &[address],
        )
        .await;
    }
}

#[tokio::test]
async fn a_compromised_key_can_be_rotated_while_paused() {
    if skip_unless_own_cluster("pauses the config").await {
        return;
    }
    let env = Env::new().await;
    let clinic = env.actor().await;
    let publish = |x25519| {
        ix::EncryptionKeySet {
            wallet: clinic.pubkey(),
            x25519,
        }
        .instruction()
    };
    env.send(publish(key(1)), &[&clinic]).await.unwrap();
    let admin = &env.admin;
    let pause = |paused| {
        ix::ConfigSetPaused {
            admin: admin.pubkey(),
            paused,
        }
        .instruction()
    };
    env.send(pause(true), &[admin]).await.unwrap();
    env.send(publish(key(3)), &[&clinic]).await.unwrap();
    env.send(pause(false), &[admin]).await.unwrap();
    let stored: EncryptionKey = env
        .client
        .fetch(&pda::encryption_key(&clinic.pubkey()).0)
        .await
        .unwrap();
    assert_eq!((stored.x25519, stored.key_version), (key(3), 2));
}
