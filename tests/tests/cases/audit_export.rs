//! The audit trail exported as a FHIR R4 Bundle, checked here field by field and, when
//! CARELEDGER_FHIR_PYTHON points at a Python with `fhir.resources` (`.ci/run` installs one in a
//! virtual environment), validated by that independent FHIR implementation.
use careledger_sdk::claims::{rule_key, service_day};
use careledger_sdk::classes::RecordClass;
use careledger_sdk::ix::PolicyKeys;
use careledger_sdk::{action, ix, pda, AccessLogArgs, CareledgerEvent, Purpose, ROLE_CLINICIAN};
use careledger_sdk::{BreakGlassOpenArgs, ClaimSubmitArgs, PolicyCreateArgs, RuleTerms};
use careledger_sdk::{ConsentGrant, GrantCreateArgs, ReviewOutcome};
use careledger_sdk::{ROLE_EMERGENCY, ROLE_INSURER};
use careledger_tests::Env;
use serde_json::Value;
use solana_signer::Signer;

fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == kind)
        .collect()
}

#[tokio::test]
async fn a_patients_trail_exports_as_a_valid_fhir_bundle() {
    let env = Env::new().await;
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let er = env.verified_provider(ROLE_EMERGENCY).await;
    let record = env
        .anchor_as_patient(&patient, RecordClass::LabResult.id(), 1)
        .await;
    let mut events: Vec<CareledgerEvent> = Vec::new();
    let grant = env
        .grant(
            &patient,
            &clinic.pubkey(),
            Purpose::Treatment,
            RecordClass::LabResult.bit(),
            action::READ,
            30,
        )
        .await
        .unwrap();
    let read = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: false,
    };
    let out = env
        .send(
            ix::AccessLog {
                grantee: clinic.pubkey(),
                patient_wallet: wallet,
                grant,
                record,
                args: read.clone(),
            }
            .instruction(),
            &[&clinic],
        )
        .await
        .unwrap();
    events.extend(out.events);
    let bg = BreakGlassOpenArgs {
        classes: u16::MAX,
        actions: action::READ,
        window_secs: 3600,
        reason_code: 3,
    };
    let out = env
        .send(
            ix::BreakGlassOpen {
                clinician: er.pubkey(),
                patient_wallet: wallet,
                serial: 1,
                args: bg,
            }
            .instruction(),
            &[&er],
        )
        .await
        .unwrap();
    events.extend(out.events);
    // a claim paid automatically, to export as a ClaimResponse (billed while the clinic treats
    // the patient)
    let insurer = env.verified_provider(ROLE_INSURER).await;
    env.grant(
        &patient,
        &insurer.pubkey(),
        Purpose::Payment,
        u16::MAX,
        action::READ,
        30,
    )
    .await
    .unwrap();
    let (mint, authority) = env.mint(2).await;
    let insurer_tokens = env.token_account(&mint, &insurer.pubkey()).await;
    env.mint_to(&mint, &authority, &insurer_tokens, 10_000)
        .await;
    let payee = env.token_account(&mint, &clinic.pubkey()).await;
    let keys = PolicyKeys::new(&insurer.pubkey(), 1, &wallet, &mint);
    let now = env.now().await;
    let policy = PolicyCreateArgs {
        policy_id: 1,
        coverage_start: now - 86_400,
        coverage_end: now + 86_400 * 300,
        benefit_cap: 10_000,
        deductible: 0,
        network_only: false,
    };
    env.send(
        ix::PolicyCreate { keys, args: policy }.instruction(),
        &[&insurer],
    )
    .await
    .unwrap();
    let rule = rule_key(&[1; 32], "CPT", "99213", "");
    let terms = RuleTerms {
        allowed_per_unit: 1_000,
        copay: 100,
        coinsurance_bps: 0,
        max_units_per_claim: 1,
        max_claims_per_period: 5,
        prior_auth_required: false,
    };
    env.send(
        ix::RuleAdd {
            keys,
            rule_key: rule,
            terms,
        }
        .instruction(),
        &[&insurer],
    )
    .await
    .unwrap();
    env.send(
        ix::PolicyFund {
            funder: insurer.pubkey(),
            keys,
            source: insurer_tokens,
            amount: 5_000,
        }
        .instruction(),
        &[&insurer],
    )
    .await
    .unwrap();
    let claim = ClaimSubmitArgs {
        units: 1,
        billed: 1_200,
        service_date: service_day(now),
        document_commitment: [4; 32],
        expected_terms: terms,
    };
    // billed while the clinic's treatment grant (its care relationship) is live
    let care = ix::CareBasis::Grant(Purpose::Treatment);
    env.send(
        ix::ClaimSubmit {
            provider: clinic.pubkey(),
            keys,
            record,
            rule_key: rule,
            payee,
            care,
            args: claim,
        }
        .instruction(),
        &[&clinic],
    )
    .await
    .unwrap();

    let out = env
        .send(
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    events.extend(out.events);
    let out = env
        .send(
            ix::AccessLog {
                grantee: clinic.pubkey(),
                patient_wallet: wallet,
                grant,
                record,
                args: read,
            }
            .instruction(),
            &[&clinic],
        )
        .await
        .unwrap();
    events.extend(out.events);
    // the patient disputes the emergency access, which revokes it
    let emergency = pda::emergency_grant(&wallet, &er.pubkey(), 1).0;
    let out = env
        .send(
            ix::BreakGlassReview {
                authority: wallet,
                patient_wallet: wallet,
                grant: emergency,
                outcome: ReviewOutcome::Disputed,
            }
            .instruction(),
            &[&patient],
        )
        .await
        .unwrap();
    events.extend(out.events);
    // the treatment grant, revoked, is closed and given again: another consent, another id
    let first_id = {
        let g: ConsentGrant = env.client.fetch(&grant).await.unwrap();
        careledger_sdk::audit::consent_id(&grant, &g)
    };
    env.send(
        ix::GrantClose {
            authority: wallet,
            patient_wallet: wallet,
            grant,
            rent_to: wallet,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let now = env.now().await;
    let later = GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: RecordClass::LabResult.bit(),
        actions: action::READ,
        record_scope: careledger_sdk::NO_RECORD_SCOPE,
        not_before: now + 5 * 86_400,
        expires_at: now + 30 * 86_400,
    };
    env.send(
        ix::GrantCreate {
            authority: wallet,
            patient_wallet: wallet,
            grantee_wallet: clinic.pubkey(),
            args: later,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    // a grant the patient signed a consent statement for, from a wallet
    let signed_args = careledger_sdk::GrantCreateArgs {
        purpose: Purpose::PublicHealth,
        classes: RecordClass::Immunization.bit(),
        actions: action::READ,
        record_scope: careledger_sdk::NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: now + 90 * 86_400,
    };
    let (signed_ixs, statement) = env
        .signed_grant(
            &patient,
            &wallet,
            &clinic.pubkey(),
            signed_args,
            careledger_sdk::statement::SignedForm::OffchainV0,
        )
        .await;
    let out = env.send_all(&signed_ixs, &[&patient]).await.unwrap();
    events.extend(out.events);
    let signed_grant =
        careledger_sdk::pda::grant(&wallet, &clinic.pubkey(), Purpose::PublicHealth).0;
    // the guardian revokes every consent
    let guardian = env.actor().await;
    env.send(
        ix::PatientSetGuardian {
            wallet,
            guardian: Some(guardian.pubkey()),
            expires_at: now + 86_400,
        }
        .instruction(),
        &[&patient],
    )
    .await
    .unwrap();
    let out = env
        .send(
            ix::GrantRevokeAll {
                authority: guardian.pubkey(),
                patient_wallet: wallet,
            }
            .instruction(),
            &[&guardian],
        )
        .await
        .unwrap();
    events.extend(out.events);

    let bundle = env.client.audit_bundle(&wallet, &events).await.unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let consents = resources(&bundle, "Consent");
    assert_eq!(
        consents.len(),
        4,
        "treatment (given again), break-glass, payment and signed public-health grants"
    );
    // the signed grant carries the words the patient signed; the others have none
    let with_statement: Vec<&&serde_json::Value> = consents
        .iter()
        .filter(|c| c.get("sourceAttachment").is_some())
        .collect();
    assert_eq!(with_statement.len(), 1);
    let attachment = &with_statement[0]["sourceAttachment"];
    assert_eq!(
        with_statement[0]["identifier"][0]["value"],
        signed_grant.to_string()
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let data = base64::Engine::decode(&b64, attachment["data"].as_str().unwrap()).unwrap();
    assert_eq!(data, statement);
    let stored: ConsentGrant = env.client.fetch(&signed_grant).await.unwrap();
    let sha256 = base64::Engine::decode(
        &b64,
        attachment["extension"][0]["valueBase64Binary"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(sha256, stored.statement_hash);
    let sha1 = base64::Engine::decode(&b64, attachment["hash"].as_str().unwrap()).unwrap();
    assert_eq!(sha1.len(), 20, "FHIR's Attachment.hash is SHA-1");
    let regranted: ConsentGrant = env.client.fetch(&grant).await.unwrap();
    let second_id = careledger_sdk::audit::consent_id(&grant, &regranted);
    assert_ne!(first_id, second_id);
    let treatment = consents
        .iter()
        .find(|c| c["id"] == second_id)
        .expect("treatment consent");
    assert_eq!(treatment["identifier"][0]["value"], grant.to_string());
    // not yet valid (and voided by the revoke-all besides): never reported active
    assert_eq!(treatment["status"], "inactive");
    assert_eq!(treatment["provision"]["purpose"][0]["code"], "TREAT");
    assert_eq!(treatment["provision"]["class"][0]["code"], "lab-result");
    assert_eq!(
        treatment["provision"]["actor"][0]["reference"]["identifier"]["value"],
        clinic.pubkey().to_string()
    );
    let bg = consents
        .iter()
        .find(|c| c["identifier"][0]["value"] == emergency.to_string())
        .unwrap();
    assert_eq!(bg["status"], "inactive");
    assert_eq!(bg["provision"]["purpose"][0]["code"], "ETREAT");
    let responses = resources(&bundle, "ClaimResponse");
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["outcome"], "complete");
    // 900 base units of a 2-decimal token: 9.00, in that token, never an ISO currency
    let paid = &responses[0]["payment"]["amount"];
    assert_eq!(paid["value"], serde_json::json!(9.0));
    assert!(paid.get("currency").is_none());
    assert_eq!(
        paid["extension"][0]["url"],
        careledger_sdk::audit::TOKEN_MINT_EXTENSION
    );
    assert_eq!(
        paid["extension"][0]["valueIdentifier"]["value"],
        mint.to_string()
    );
    let totals: Vec<(&str, f64)> = responses[0]["total"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let code = t["category"]["coding"][0]["code"].as_str().unwrap();
            (code, t["amount"]["value"].as_f64().unwrap())
        })
        .collect();
    assert_eq!(
        totals,
        [
            ("submitted", 12.0),
            ("eligible", 10.0),
            ("deductible", 0.0),
            ("copay", 1.0),
            ("coinsurance", 0.0),
            ("benefit", 9.0)
        ]
    );
    let audits = resources(&bundle, "AuditEvent");
    let outcomes: Vec<&str> = audits
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["0", "0", "0", "4", "0", "0"],
        "access, break-glass, revoke, refusal, disputed review, revoke-all"
    );
    assert_eq!(audits[3]["outcomeDesc"], "refused: Revoked");
    assert_eq!(audits[4]["action"], "D");
    assert_eq!(
        audits[4]["outcomeDesc"],
        "break-glass disputed by the patient: grant revoked"
    );
    assert_eq!(audits[5]["action"], "D");
    assert_eq!(
        audits[5]["agent"][0]["who"]["identifier"]["value"],
        guardian.pubkey().to_string()
    );
    assert!(audits[5]["outcomeDesc"]
        .as_str()
        .unwrap()
        .starts_with("every consent revoked by the guardian"));
    assert_eq!(
        audits[1]["purposeOfEvent"][0]["coding"][0]["code"],
        "ETREAT"
    );

    let path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("careledger-fhir-bundle.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
    let Some(python) = std::env::var_os("CARELEDGER_FHIR_PYTHON") else {
        eprintln!("CARELEDGER_FHIR_PYTHON unset: bundle written to {} but not validated (bash .ci/run validates it)", path.display());
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/fhir/validate.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&path)
        .output()
        .expect("run the FHIR validator");
    assert!(
        out.status.success(),
        "fhir.resources rejected the bundle: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary == "AuditEvent=6 ClaimResponse=1 Consent=4\n",
        "{summary}"
    );
}
