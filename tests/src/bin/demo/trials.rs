//! The demo's clinical-trial integrity story: the protocol registered before enrolment, a
//! material amendment that stops accrual until the participant consents again with a signed
//! statement naming the new version, then the analysis plan, the data lock and results that
//! reveal the pre-specified outcomes (a switch would be marked for every reader).
use super::show;
use careledger_sdk::statement::signed_message_for;
use careledger_sdk::trials::{outcome_hash, reconsent_statement, switch_verdict};
use careledger_sdk::{ix, pda, Keypair, ProtocolAmendArgs, ResultsReportArgs, Signer};
use careledger_tests::{register_protocol, Env, TrialOutcomes};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Registers the study's protocol before anyone enrols: the version the patient then consents to.
pub(crate) async fn register(
    env: &Env,
    sponsor: &Keypair,
    study: &ix::StudyKeys,
) -> Result<(ix::ProtocolRef, TrialOutcomes), Error> {
    let registered = register_protocol(env, sponsor, &study.study, 100).await;
    let status = env.client.trial_status(&study.study).await?;
    println!(
        "\n== sponsor registers the study's protocol before enrolment: registry {}, version 1 (document {}), one primary and two secondary outcomes committed with salted hashes, at the ledger's time",
        careledger_sdk::trials::registry_id_text(&status.protocol.registry_id),
        hex8(&registered.0.document_sha256),
    );
    Ok(registered)
}

/// After enrolment: amend, consent again, lock, report.
pub(crate) async fn story(
    env: &Env,
    sponsor: &Keypair,
    patient: &Keypair,
    study: &ix::StudyKeys,
    outcomes: &TrialOutcomes,
) -> Result<(), Error> {
    let wallet = patient.pubkey();
    let v2 = [0x52; 32];
    show(
        "sponsor amends the protocol (a new visit schedule): version 2, material, so accrual stops until the participant consents again",
        &env.send(
            ix::ProtocolAmend {
                sponsor: sponsor.pubkey(),
                study: study.study,
                current: 1,
                args: ProtocolAmendArgs {
                    document_sha256: v2,
                    document_cid: vec![],
                    primary_outcomes: outcomes.primary.commitment(),
                    secondary_outcomes: outcomes.secondary.commitment(),
                    reason_code: 3,
                    material: true,
                },
            }
            .instruction(),
            &[sponsor],
        )
        .await?,
    );
    let status = env.client.trial_status(&study.study).await?;
    for s in &status.subjects {
        println!(
            "   participant {}: consented to version {}, current: {}",
            s.patient, s.consented_version, s.current
        );
    }
    let record = env.client.fetch(&pda::patient(&wallet).0).await?;
    let statement = reconsent_statement(&study.study, &record, &wallet, 2, &v2, env.now().await)?;
    println!(
        "\n== the participant reads version 2 and signs this statement in their wallet:\n{}",
        String::from_utf8_lossy(&statement)
            .lines()
            .map(|l| format!("   | {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let signature: [u8; 64] = patient.sign_message(&statement).into();
    let (signed_message, _) = signed_message_for(&statement, &wallet, &signature)?;
    show(
        "the participant consents to version 2 (the program checks the statement byte for byte)",
        &env.send_all(
            &ix::ParticipationReconsent {
                authority: wallet,
                patient_wallet: wallet,
                study: study.study,
                sponsor: sponsor.pubkey(),
                version: 2,
                signed_message,
                signature,
                next_material: Some(2),
            }
            .instructions(),
            &[patient],
        )
        .await?,
    );
    show(
        "sponsor anchors the statistical analysis plan before unblinding",
        &env.send(
            ix::AnalysisPlanAnchor {
                sponsor: sponsor.pubkey(),
                study: study.study,
                analysis_plan_sha256: [0x53; 32],
            }
            .instruction(),
            &[sponsor],
        )
        .await?,
    );
    show(
        "sponsor locks the data: the results dataset's hash",
        &env.send(
            ix::DataLock {
                sponsor: sponsor.pubkey(),
                study: study.study,
                dataset_sha256: [0x54; 32],
            }
            .instruction(),
            &[sponsor],
        )
        .await?,
    );
    let reported_primary = vec![outcome_hash("change in HbA1c at 26 weeks")];
    let out = env
        .send(
            ix::ResultsReport {
                sponsor: sponsor.pubkey(),
                study: study.study,
                args: ResultsReportArgs {
                    primary_salt: outcomes.primary.salt,
                    prespecified_primary: outcomes.primary.outcomes.clone(),
                    secondary_salt: outcomes.secondary.salt,
                    prespecified_secondary: outcomes.secondary.outcomes.clone(),
                    reported_primary,
                    reported_secondary: outcomes.secondary.outcomes.clone(),
                },
            }
            .instruction(),
            &[sponsor],
        )
        .await?;
    show(
        "sponsor reports the results, revealing the outcomes it pre-specified",
        &out,
    );
    let status = env.client.trial_status(&study.study).await?;
    println!("   {}", switch_verdict(status.protocol.outcomes_switched));
    Ok(())
}

fn hex8(bytes: &[u8; 32]) -> String {
    bytes[..4].iter().map(|b| format!("{b:02x}")).collect()
}
