//! `cargo run -p careledger-tests --bin demo`: a whole consent-and-records story on the
//! embedded runtime. No keys, no validator, no setup.
use careledger_sdk::classes::RecordClass;
use careledger_sdk::{action, cid, ix, pda, AccessLogArgs, CareledgerEvent, TxOutcome};
use careledger_sdk::{
    Purpose, RecordAmendArgs, RequestApproveArgs, RequestCreateArgs, ReviewOutcome, ROLE_CLINICIAN,
    ROLE_EMERGENCY, ROLE_LAB,
};
use careledger_tests::{Env, DAY};
use sha2_free::digest;
use solana_signer::Signer;

mod sha2_free {
    /// The demo's "encrypted record" bytes and their SHA-256, via the SDK's hashing helper.
    pub fn digest(bytes: &[u8]) -> [u8; 32] {
        careledger_sdk::cid::sha256_reader(bytes, |_| {}).expect("in-memory read")
    }
}

fn show(step: &str, outcome: &TxOutcome) {
    println!("\n== {step}\n   tx {}", outcome.signature);
    for event in &outcome.events {
        println!("   event {}: {}", event.name(), summary(event));
    }
}

fn summary(event: &CareledgerEvent) -> String {
    match event {
        CareledgerEvent::RecordAnchored(e) => format!(
            "record #{} v{} class {} cid {}",
            e.index,
            e.version,
            RecordClass::from_id(e.class).map_or("?".into(), |c| c.to_string()),
            cid::cid_to_string(&e.cid)
        ),
        CareledgerEvent::GrantCreated(e) => format!(
            "{:?} grant to {} classes {:#06x} actions {} until {}",
            e.purpose, e.grantee, e.terms.classes, e.terms.actions, e.terms.expires_at
        ),
        CareledgerEvent::AccessLogged(e) => format!(
            "{} read record #{} ({:?}, access #{}{})",
            e.grantee,
            e.record_index,
            e.purpose,
            e.access_count,
            if e.emergency { ", EMERGENCY" } else { "" }
        ),
        CareledgerEvent::AccessRefused(e) => {
            format!(
                "{} refused on record #{}: {:?}",
                e.grantee, e.record_index, e.reason
            )
        }
        other => format!("{other:?}"),
    }
}

#[tokio::main]
async fn main() -> Result<(), careledger_sdk::SdkError> {
    // The embedded bank logs every instruction at debug level unless told otherwise.
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    println!("careledger demo: embedded Agave bank, careledger registered natively");
    let env = Env::new().await;
    println!(
        "config created by the upgrade authority; admin {}",
        env.admin.pubkey()
    );

    let patient = env.actor().await;
    let wallet = patient.pubkey();
    show(
        "patient registers",
        &env.send(ix::patient_register(&wallet), &[&patient]).await?,
    );

    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let lab = env.verified_provider(ROLE_LAB).await;
    let er = env.verified_provider(ROLE_CLINICIAN | ROLE_EMERGENCY).await;
    println!(
        "\nproviders verified by the credential authority: clinic {}, lab {}, ER {}",
        clinic.pubkey(),
        lab.pubkey(),
        er.pubkey()
    );

    let encrypted = b"(ciphertext of a lab report, stored off chain)";
    let sha = digest(encrypted);
    let args = careledger_sdk::RecordAnchorArgs {
        cid: cid::raw_cid_v1(&sha),
        content_sha256: sha,
        class: RecordClass::LabResult.id(),
    };
    show(
        "patient anchors a lab result (CID + SHA-256 only)",
        &env.send(
            ix::record_anchor(&wallet, 0, ix::Author::Patient, args),
            &[&patient],
        )
        .await?,
    );
    let record = pda::record(&wallet, 0).0;

    let grant = env
        .grant(
            &patient,
            &clinic.pubkey(),
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await?;
    println!("\n== patient grants the clinic treatment access to lab results for 30 days\n   grant {grant}");
    let read = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: false,
    };
    show(
        "clinic logs a read",
        &env.send(
            ix::access_log(&clinic.pubkey(), &wallet, &grant, &record, read.clone()),
            &[&clinic],
        )
        .await?,
    );

    let request = RequestCreateArgs {
        classes: RecordClass::LabResult.bit(),
        actions: action::READ | action::WRITE,
        purpose: Purpose::Treatment,
        reason_code: 12,
        duration_secs: 7 * DAY as u32,
    };
    show(
        "lab requests access",
        &env.send(ix::request_create(&lab.pubkey(), &wallet, request), &[&lab])
            .await?,
    );
    let approve = RequestApproveArgs {
        classes: RecordClass::LabResult.bit(),
        actions: action::READ | action::WRITE,
        expires_at: env.now().await + 7 * DAY,
    };
    show(
        "patient approves the request",
        &env.send(
            ix::request_approve(&wallet, &wallet, &lab.pubkey(), Purpose::Treatment, approve),
            &[&patient],
        )
        .await?,
    );
    let corrected = digest(b"(ciphertext of the corrected lab report)");
    let amend = RecordAmendArgs {
        cid: cid::raw_cid_v1(&corrected),
        content_sha256: corrected,
        expected_version: 1,
    };
    let author = ix::Author::Provider {
        wallet: lab.pubkey(),
        purpose: Purpose::Treatment,
    };
    show(
        "lab amends the record (v2 supersedes v1)",
        &env.send(ix::record_amend(&wallet, 0, 1, author, amend), &[&lab])
            .await?,
    );

    let emergency_grant = pda::grant(&wallet, &er.pubkey(), Purpose::Emergency).0;
    env.break_glass(&er, &wallet, 3600).await?;
    println!("\n== ER clinician breaks the glass (1 hour, flagged for review)\n   grant {emergency_grant}");
    let emergency = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Emergency,
        strict: false,
    };
    show(
        "ER reads the amended record",
        &env.send(
            ix::access_log(
                &er.pubkey(),
                &wallet,
                &emergency_grant,
                &pda::record(&wallet, 1).0,
                emergency,
            ),
            &[&er],
        )
        .await?,
    );
    show(
        "patient reviews the emergency access: accepted",
        &env.send(
            ix::break_glass_review(&wallet, &wallet, &emergency_grant, ReviewOutcome::Accepted),
            &[&patient],
        )
        .await?,
    );

    show(
        "patient revokes the clinic's grant",
        &env.send(ix::grant_revoke(&wallet, &wallet, &grant), &[&patient])
            .await?,
    );
    show(
        "clinic tries to read again: refused, and the refusal is on the record",
        &env.send(
            ix::access_log(&clinic.pubkey(), &wallet, &grant, &record, read),
            &[&clinic],
        )
        .await?,
    );
    show(
        "patient revokes everything at once",
        &env.send(ix::grant_revoke_all(&wallet, &wallet), &[&patient])
            .await?,
    );

    let records = env.client.records_by_patient(&wallet).await?;
    println!("\n== lineage of the patient's records");
    for (address, r) in records {
        println!(
            "   #{} v{} {:?} {} {}",
            r.index,
            r.version,
            r.status,
            cid::cid_to_string(&r.cid),
            address
        );
    }
    println!("\ndone: every step above is an on-chain audit event an auditor can export.");
    Ok(())
}
