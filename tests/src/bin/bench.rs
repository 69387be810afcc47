//! `cargo run --profile perf -p careledger-tests --bin bench [-- --patients 1000,10000]`
//! (`-- --wire`: over a careledger localnet in this process beside the embedded runtime;
//! `-- --url URL`: the compute units a cluster reports)
//!
//! Prints one markdown table: every figure beside its limit or reference, as a ratio measured in
//! the same run (docs/PERFORMANCE.md keeps the latest). Not a test: nothing here asserts.
use careledger::logic::cid::parse_cid;
use careledger::logic::claims::{adjudicate, Balances};
use careledger::logic::consent::{decide_access, AccessQuery};
use careledger::state::*;
use careledger_sdk::batch::{legacy_size, trace_cost, MAX_INSTRUCTION_TRACE, PACKET_DATA_SIZE};
use careledger_sdk::{action, cid, ix, pda, AccessLogArgs, GrantCreateArgs, RecordAnchorArgs};
use careledger_sdk::{RuleTerms, NO_RECORD_SCOPE, ROLE_CLINICIAN};
use careledger_tests::{sample_cid, EmbeddedOnly, Env, DAY};
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::{v0, AddressLookupTableAccount, Message, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "bench/wire.rs"]
mod wire;

struct Row {
    section: &'static str,
    what: String,
    value: String,
    reference: String,
    ratio: String,
}

fn row(
    section: &'static str,
    what: impl Into<String>,
    value: impl Into<String>,
    reference: impl Into<String>,
    ratio: impl Into<String>,
) -> Row {
    Row {
        section,
        what: what.into(),
        value: value.into(),
        reference: reference.into(),
        ratio: ratio.into(),
    }
}

/// Runs `f` repeatedly for about `budget` and returns calls per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..100 {
        f();
    }
    let start = Instant::now();
    let mut n: u64 = 0;
    while start.elapsed() < budget {
        for _ in 0..100 {
            f();
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn per_sec(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M/s", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k/s", x / 1e3)
    } else {
        format!("{x:.0} /s")
    }
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

// ------------------------------------------------------------------ accounts

async fn accounts(env: &Env, rows: &mut Vec<Row>) {
    use anchor_lang::Space;
    let t = env.client.transport().embedded();
    let sizes: [(&str, usize, usize, Option<usize>); 11] = [
        ("Config", Config::INIT_SPACE, 32, None),
        ("Provider", Provider::INIT_SPACE, 16, None),
        ("Patient", Patient::INIT_SPACE, 0, None),
        ("RecordAnchor", RecordAnchor::INIT_SPACE, 0, Some(160)),
        ("ConsentGrant", ConsentGrant::INIT_SPACE, 0, Some(120)),
        ("AccessRequest", AccessRequest::INIT_SPACE, 0, None),
        ("Policy", Policy::INIT_SPACE, 0, None),
        ("CoverageRule", CoverageRule::INIT_SPACE, 0, None),
        ("Claim", Claim::INIT_SPACE, 0, Some(256)),
        ("Study", Study::INIT_SPACE, 0, None),
        ("Participation", Participation::INIT_SPACE, 0, None),
    ];
    for (name, space, reserved, target) in sizes {
        let size = 8 + space;
        let rent = t.minimum_balance(size).await.expect("rent");
        let (reference, ratio) = match target {
            Some(target) => (
                format!("target ≤ {target} B"),
                pct(size as f64 / target as f64),
            ),
            None => ("-".into(), "-".into()),
        };
        rows.push(row(
            "account",
            name,
            format!("{size} B, rent {rent} lamports, {reserved} B reserved"),
            reference,
            ratio,
        ));
    }
}

// ------------------------------------------------------------------ packing

/// How many of `make(i)` fit one legacy transaction (packet and trace), and one v0 transaction
/// whose non-signer keys all come from a lookup table.
fn packing(
    rows: &mut Vec<Row>,
    name: &str,
    target: Option<usize>,
    payer: &Pubkey,
    make: impl Fn(usize) -> Instruction,
) {
    let mut legacy = 0;
    loop {
        let ixs: Vec<Instruction> = (0..=legacy).map(&make).collect();
        let trace: usize = ixs.iter().map(trace_cost).sum();
        if legacy_size(payer, &ixs) > PACKET_DATA_SIZE || trace > MAX_INSTRUCTION_TRACE {
            break;
        }
        legacy += 1;
    }
    let mut with_alt = 0;
    loop {
        let ixs: Vec<Instruction> = (0..=with_alt).map(&make).collect();
        let trace: usize = ixs.iter().map(trace_cost).sum();
        let mut keys: Vec<Pubkey> = ixs
            .iter()
            .flat_map(|i| i.accounts.iter().filter(|m| !m.is_signer).map(|m| m.pubkey))
            .chain(ixs.iter().map(|i| i.program_id))
            .collect();
        keys.sort();
        keys.dedup();
        keys.truncate(256);
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: keys,
        };
        let Ok(msg) = v0::Message::try_compile(payer, &ixs, &[table], Hash::default()) else {
            break;
        };
        let signers = usize::from(msg.header.num_required_signatures);
        let tx = VersionedTransaction {
            signatures: vec![Default::default(); signers],
            message: VersionedMessage::V0(msg),
        };
        let size = bincode::serialized_size(&tx).map_or(usize::MAX, |n| n as usize);
        if size > PACKET_DATA_SIZE || trace > MAX_INSTRUCTION_TRACE {
            break;
        }
        with_alt += 1;
    }
    let per_trace = MAX_INSTRUCTION_TRACE / trace_cost(&make(0));
    let (reference, ratio) = match target {
        Some(t) => (format!("target ≥ {t}"), pct(legacy as f64 / t as f64)),
        None => ("-".into(), "-".into()),
    };
    rows.push(row(
        "packing",
        format!("{name} per transaction"),
        format!("{legacy} legacy, {with_alt} v0 + lookup table (trace allows {per_trace})"),
        reference,
        ratio,
    ));
}

fn all_packing(rows: &mut Vec<Row>) {
    let patient = Pubkey::new_unique();
    let grant_args = GrantCreateArgs {
        purpose: Purpose::Treatment,
        classes: 1,
        actions: action::READ,
        record_scope: NO_RECORD_SCOPE,
        not_before: 0,
        expires_at: 2_000_000_000,
    };
    let grantees: Vec<Pubkey> = (0..64).map(|_| Pubkey::new_unique()).collect();
    packing(rows, "grant_create", Some(10), &patient, |i| {
        ix::GrantCreate {
            authority: patient,
            patient_wallet: patient,
            grantee_wallet: grantees[i],
            args: grant_args.clone(),
        }
        .instruction()
    });
    let grants: Vec<Pubkey> = (0..64).map(|_| Pubkey::new_unique()).collect();
    packing(rows, "grant_revoke", Some(20), &patient, |i| {
        ix::GrantRevoke {
            authority: patient,
            patient_wallet: patient,
            grant: grants[i],
        }
        .instruction()
    });
    let clinic = Pubkey::new_unique();
    let records: Vec<Pubkey> = (0..64).map(|_| Pubkey::new_unique()).collect();
    let log = AccessLogArgs {
        action: action::READ,
        purpose: Purpose::Treatment,
        strict: false,
    };
    packing(rows, "access_log (one grant)", None, &clinic, |i| {
        ix::AccessLog {
            grantee: clinic,
            patient_wallet: patient,
            grant: grants[0],
            record: records[i],
            args: log.clone(),
        }
        .instruction()
    });
    packing(rows, "record_anchor", None, &patient, |i| {
        let args = RecordAnchorArgs {
            cid: sample_cid(i as u8 + 1),
            content_sha256: [i as u8 + 1; 32],
            class: 0,
        };
        ix::RecordAnchor {
            patient_wallet: patient,
            index: i as u32,
            author: ix::Author::Patient,
            args,
        }
        .instruction()
    });
}

// ------------------------------------------------------------------ SDK and pure functions

fn sdk(rows: &mut Vec<Row>) {
    let budget = Duration::from_millis(700);
    let signer = Keypair::new();
    let patient = signer.pubkey();
    let grant = pda::grant(&patient, &Pubkey::new_unique(), Purpose::Treatment).0;
    let built = rate(budget, || {
        black_box(
            ix::GrantRevoke {
                authority: *black_box(&patient),
                patient_wallet: patient,
                grant: *black_box(&grant),
            }
            .instruction(),
        );
    });
    let fresh = rate(budget, || {
        let someone = Pubkey::new_unique();
        black_box(
            ix::GrantRevoke {
                authority: *black_box(&someone),
                patient_wallet: someone,
                grant: *black_box(&grant),
            }
            .instruction(),
        );
    });
    rows.push(row(
        "sdk",
        "grant_revoke instructions built, patient PDA cached per thread",
        per_sec(built),
        format!("{} with a new patient each time", per_sec(fresh)),
        format!("{:.0}x", built / fresh),
    ));
    let known = ix::GrantRevoke {
        authority: patient,
        patient_wallet: patient,
        grant,
    }
    .instruction();
    let blockhash = Hash::new_unique();
    let message_bytes = Message::new(std::slice::from_ref(&known), Some(&patient)).serialize();
    let raw = rate(budget, || {
        black_box(signer.sign_message(black_box(&message_bytes)));
    });
    let full = rate(budget, || {
        let tx = Transaction::new_signed_with_payer(
            std::slice::from_ref(black_box(&known)),
            Some(&patient),
            &[&signer],
            blockhash,
        );
        black_box(bincode::serialize(&tx).expect("serialize"));
    });
    rows.push(row(
        "sdk",
        "transactions built + signed + serialized (1 core)",
        per_sec(full),
        format!("raw ed25519 signing {}", per_sec(raw)),
        pct(full / raw),
    ));
}

fn pure(rows: &mut Vec<Row>) {
    let budget = Duration::from_millis(700);
    let grant = ConsentGrant {
        patient: Pubkey::new_unique(),
        grantee: Pubkey::new_unique(),
        classes: 0b1011,
        actions: action::READ,
        purpose: Purpose::Treatment,
        status: GrantStatus::Active,
        review: ReviewState::NotRequired,
        bump: 255,
        consent_epoch: 3,
        record_scope: NO_RECORD_SCOPE,
        access_count: 0,
        not_before: 0,
        expires_at: 2_000_000_000,
        created_at: 0,
        revoked_at: 0,
        serial: 1,
        narrowed_at: 0,
        payer: Default::default(),
        statement_hash: [0; 32],
    };
    let provider = Provider {
        wallet: grant.grantee,
        roles: ROLE_CLINICIAN,
        status: ProviderStatus::Verified,
        bump: 255,
        credential_ref: [1; 32],
        credential_expires_at: 2_000_000_000,
        verified_by: Pubkey::new_unique(),
        verified_at: 0,
        registered_at: 0,
        suspension_reason: 0,
        supply_roles: 0,
        reserved: [0; 15],
    };
    let mut q = AccessQuery {
        action: action::READ,
        purpose: Purpose::Treatment,
        record_class: 1,
        record_index: 4,
        now: 1_800_000_000,
        patient_epoch: 3,
    };
    let decisions = rate(budget, || {
        q.now += 1;
        black_box(decide_access(black_box(&grant), black_box(&provider), black_box(&q)).is_ok());
    });
    rows.push(row(
        "pure",
        "consent decisions (1 core)",
        per_sec(decisions),
        "target ≥ 5 M/s",
        pct(decisions / 5e6),
    ));
    let terms = RuleTerms {
        allowed_per_unit: 12_000,
        copay: 2_000,
        coinsurance_bps: 2_000,
        max_units_per_claim: 4,
        max_claims_per_period: 12,
        prior_auth_required: false,
    };
    let mut billed = 10_000u64;
    let adjudications = rate(budget, || {
        billed = billed.wrapping_add(7);
        black_box(adjudicate(
            black_box(&terms),
            2,
            billed,
            Balances {
                deductible_remaining: 5_000,
                benefit_remaining: 100_000,
            },
        ));
    });
    rows.push(row(
        "pure",
        "claim adjudications (1 core)",
        per_sec(adjudications),
        "-",
        "-",
    ));
    let bytes = cid::raw_cid_v1(&[7; 32]);
    let cids = rate(budget, || {
        black_box(parse_cid(black_box(&bytes)).is_ok());
    });
    rows.push(row(
        "pure",
        "CID validations, on-chain parser (1 core)",
        per_sec(cids),
        "-",
        "-",
    ));
}

// ------------------------------------------------------------------ embedded runtime

/// Registers `n` patients cheaply (lamports placed directly, one register transaction each).
async fn patients(env: &Env, n: usize) -> Vec<Keypair> {
    let t = env.client.transport().embedded();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let k = Keypair::new();
        let account = solana_account::Account {
            lamports: 1_000_000_000,
            ..Default::default()
        };
        t.set_account(&k.pubkey(), account).await;
        env.send(
            ix::PatientRegister { wallet: k.pubkey() }.instruction(),
            &[&k],
        )
        .await
        .expect("register");
        out.push(k);
    }
    out
}

async fn runtime(rows: &mut Vec<Row>, scale: &[usize]) {
    let env = Env::new().await;
    env.set_invariant_checks(false);
    let clinic = env.verified_provider(ROLE_CLINICIAN).await;
    let mut baseline = None;
    let mut have: Vec<Keypair> = Vec::new();
    for &n in scale {
        let more = patients(&env, n.saturating_sub(have.len())).await;
        let fresh = more.len();
        have.extend(more);
        // time grants for up to 500 of the patients registered in this round (fresh grants)
        let sample = &have[have.len() - 500.min(fresh)..];
        let start = Instant::now();
        for p in sample {
            let args = GrantCreateArgs {
                purpose: Purpose::Treatment,
                classes: 1,
                actions: action::READ,
                record_scope: NO_RECORD_SCOPE,
                not_before: 0,
                expires_at: env.now().await + DAY,
            };
            env.send(
                ix::GrantCreate {
                    authority: p.pubkey(),
                    patient_wallet: p.pubkey(),
                    grantee_wallet: clinic.pubkey(),
                    args,
                }
                .instruction(),
                &[p],
            )
            .await
            .expect("grant");
        }
        let grants = sample.len() as f64 / start.elapsed().as_secs_f64();
        // log_access under those grants (each patient anchors one record first)
        let mut logs = Vec::new();
        for p in sample.iter().take(100) {
            let args = RecordAnchorArgs {
                cid: sample_cid(3),
                content_sha256: [3; 32],
                class: 0,
            };
            env.send(
                ix::RecordAnchor {
                    patient_wallet: p.pubkey(),
                    index: 0,
                    author: ix::Author::Patient,
                    args,
                }
                .instruction(),
                &[p],
            )
            .await
            .expect("anchor");
            let grant = pda::grant(&p.pubkey(), &clinic.pubkey(), Purpose::Treatment).0;
            logs.push(
                ix::AccessLog {
                    grantee: clinic.pubkey(),
                    patient_wallet: p.pubkey(),
                    grant,
                    record: pda::record(&p.pubkey(), 0).0,
                    args: AccessLogArgs {
                        action: action::READ,
                        purpose: Purpose::Treatment,
                        strict: true,
                    },
                }
                .instruction(),
            );
        }
        let start = Instant::now();
        let count = logs.len();
        for l in logs {
            env.send(l, &[&clinic]).await.expect("log");
        }
        let log_rate = count as f64 / start.elapsed().as_secs_f64();
        let (reference, ratio) = match baseline {
            None => {
                baseline = Some(grants);
                ("baseline".to_string(), "100 %".to_string())
            }
            Some(b) => (format!("{} at {}", per_sec(b), scale[0]), pct(grants / b)),
        };
        rows.push(row(
            "runtime",
            format!("grant_create tx through the SDK, {n} patients"),
            per_sec(grants),
            reference,
            ratio,
        ));
        rows.push(row(
            "runtime",
            format!("access_log tx through the SDK, {n} patients"),
            per_sec(log_rate),
            "-",
            "-",
        ));
    }
}

// ------------------------------------------------------------------ compute units on a cluster

/// With `--url`, runs the consent path on a real cluster (program deployed, the keypair at
/// ANCHOR_WALLET or the Solana CLI default being its upgrade authority), simulating each
/// instruction before sending it, and prints the compute units the cluster reports.
async fn compute_units(url: String) {
    use careledger_sdk::rpc::RpcTransport;
    std::env::set_var(careledger_tests::RPC_URL_VAR, &url);
    let env = Env::new().await;
    env.set_invariant_checks(false);
    let rpc = RpcTransport::new(url, Default::default());
    let patient = env.actor().await;
    let clinic = env.actor().await;
    let wallet = patient.pubkey();
    let grant = pda::grant(&wallet, &clinic.pubkey(), Purpose::Treatment).0;
    let now = env.now().await;
    let steps: Vec<(&str, Instruction, Vec<&Keypair>)> = vec![
        (
            "patient_register",
            ix::PatientRegister { wallet }.instruction(),
            vec![&patient],
        ),
        (
            "provider_register",
            ix::ProviderRegister {
                wallet: clinic.pubkey(),
                args: careledger_sdk::ProviderRegisterArgs {
                    supply_roles: 0,
                    roles: ROLE_CLINICIAN,
                    credential_ref: [1; 32],
                },
            }
            .instruction(),
            vec![&clinic],
        ),
        (
            "provider_verify",
            ix::ProviderVerify {
                authority: env.credential_authority.pubkey(),
                provider_wallet: clinic.pubkey(),
                args: careledger_sdk::ProviderVerifyArgs {
                    supply_roles: 0,
                    roles: ROLE_CLINICIAN,
                    credential_expires_at: now + 30 * DAY,
                    credential_ref: [0; 32],
                },
            }
            .instruction(),
            vec![&env.credential_authority],
        ),
        (
            "record_anchor",
            ix::RecordAnchor {
                patient_wallet: wallet,
                index: 0,
                author: ix::Author::Patient,
                args: RecordAnchorArgs {
                    cid: sample_cid(1),
                    content_sha256: [1; 32],
                    class: 0,
                },
            }
            .instruction(),
            vec![&patient],
        ),
        (
            "grant_create",
            ix::GrantCreate {
                authority: wallet,
                patient_wallet: wallet,
                grantee_wallet: clinic.pubkey(),
                args: GrantCreateArgs {
                    purpose: Purpose::Treatment,
                    classes: 1,
                    actions: action::READ,
                    record_scope: NO_RECORD_SCOPE,
                    not_before: 0,
                    expires_at: now + DAY,
                },
            }
            .instruction(),
            vec![&patient],
        ),
        (
            "access_log",
            ix::AccessLog {
                grantee: clinic.pubkey(),
                patient_wallet: wallet,
                grant,
                record: pda::record(&wallet, 0).0,
                args: AccessLogArgs {
                    action: action::READ,
                    purpose: Purpose::Treatment,
                    strict: false,
                },
            }
            .instruction(),
            vec![&clinic],
        ),
        (
            "grant_revoke",
            ix::GrantRevoke {
                authority: wallet,
                patient_wallet: wallet,
                grant,
            }
            .instruction(),
            vec![&patient],
        ),
    ];
    println!("| instruction | compute units (simulated on the cluster) |");
    println!("| --- | --- |");
    for (name, instruction, signers) in steps {
        measure(&env, &rpc, name, instruction, &signers).await;
    }
    claims_and_rewards(&env, &rpc, &patient, &clinic).await;
}

/// Simulates `instruction` on the cluster, prints its compute units, then sends it.
async fn measure(
    env: &Env,
    rpc: &careledger_sdk::rpc::RpcTransport,
    name: &str,
    instruction: Instruction,
    signers: &[&Keypair],
) {
    let payer = &env.upgrade_authority;
    let blockhash = rpc
        .client()
        .get_latest_blockhash()
        .await
        .expect("blockhash");
    let mut all: Vec<&Keypair> = vec![payer];
    all.extend(
        signers
            .iter()
            .copied()
            .filter(|k| k.pubkey() != payer.pubkey()),
    );
    let tx = Transaction::new_signed_with_payer(
        std::slice::from_ref(&instruction),
        Some(&payer.pubkey()),
        &all,
        blockhash,
    );
    let sim = rpc
        .client()
        .simulate_transaction(&tx)
        .await
        .expect("simulate");
    // a careledger localnet runs the program natively and reports no figure (null): say so
    // rather than print a number
    let units = sim
        .value
        .units_consumed
        .map_or("not metered (native)".into(), |u| u.to_string());
    println!("| {name} | {units} |");
    env.send(instruction, signers).await.expect(name);
}

/// The claim and reward instructions that need no waiting: a policy paid automatically, a study
/// enrolment.
async fn claims_and_rewards(
    env: &Env,
    rpc: &careledger_sdk::rpc::RpcTransport,
    patient: &Keypair,
    clinic: &Keypair,
) {
    use careledger_sdk::ix::{PolicyKeys, StudyKeys};
    use careledger_sdk::{ClaimSubmitArgs, PolicyCreateArgs, RewardTerms, StudyCreateArgs};
    let wallet = patient.pubkey();
    let insurer = env.verified_provider(careledger_sdk::ROLE_INSURER).await;
    let sponsor = env.verified_provider(careledger_sdk::ROLE_RESEARCHER).await;
    let (mint, authority) = env.mint(2).await;
    let insurer_tokens = env.token_account(&mint, &insurer.pubkey()).await;
    let sponsor_tokens = env.token_account(&mint, &sponsor.pubkey()).await;
    let payee = env.token_account(&mint, &clinic.pubkey()).await;
    env.mint_to(&mint, &authority, &insurer_tokens, 1_000_000)
        .await;
    env.mint_to(&mint, &authority, &sponsor_tokens, 1_000_000)
        .await;
    env.grant(
        patient,
        &insurer.pubkey(),
        Purpose::Payment,
        1,
        action::READ,
        30,
    )
    .await
    .expect("payment grant");
    env.grant(
        patient,
        &sponsor.pubkey(),
        Purpose::Research,
        1,
        action::READ,
        30,
    )
    .await
    .expect("research grant");
    let now = env.now().await;
    let policy_id = u64::from_le_bytes(Pubkey::new_unique().to_bytes()[..8].try_into().unwrap());
    let keys = PolicyKeys::new(&insurer.pubkey(), policy_id, &wallet, &mint);
    let policy = PolicyCreateArgs {
        policy_id,
        coverage_start: now - 30 * DAY,
        coverage_end: now + 300 * DAY,
        benefit_cap: 100_000,
        deductible: 0,
        network_only: false,
    };
    measure(
        env,
        rpc,
        "policy_create",
        ix::PolicyCreate { keys, args: policy }.instruction(),
        &[&insurer],
    )
    .await;
    let rule_key = careledger_sdk::claims::rule_key(&[1; 32], "CPT", "99213", "");
    let terms = RuleTerms {
        allowed_per_unit: 10_000,
        copay: 1_000,
        coinsurance_bps: 2_000,
        max_units_per_claim: 2,
        max_claims_per_period: 10,
        prior_auth_required: false,
    };
    measure(
        env,
        rpc,
        "rule_add",
        ix::RuleAdd {
            keys,
            rule_key,
            terms,
        }
        .instruction(),
        &[&insurer],
    )
    .await;
    let fund = ix::PolicyFund {
        funder: insurer.pubkey(),
        keys,
        source: insurer_tokens,
        amount: 500_000,
    }
    .instruction();
    measure(env, rpc, "policy_fund", fund, &[&insurer]).await;
    let submit = ClaimSubmitArgs {
        units: 1,
        billed: 12_000,
        service_date: careledger_sdk::claims::service_day(now),
        document_commitment: [9; 32],
        expected_terms: terms,
    };
    let record = pda::record(&wallet, 0).0;
    let care = ix::CareBasis::Grant(Purpose::Treatment);
    let claim = ix::ClaimSubmit {
        provider: clinic.pubkey(),
        keys,
        record,
        rule_key,
        payee,
        care,
        args: submit,
    }
    .instruction();
    measure(env, rpc, "claim_submit (auto-paid)", claim, &[clinic]).await;
    let study_id = policy_id;
    let study = StudyKeys::new(&sponsor.pubkey(), study_id, &mint);
    let args = StudyCreateArgs {
        study_id,
        terms: RewardTerms {
            enrolment_reward: 500,
            period_reward: 100,
            period_secs: DAY as u32,
            periods: 4,
        },
        classes: 1,
        data_use_code: 0,
        enrol_start: now - 60,
        enrol_end: now + 30 * DAY,
        max_participants: 10,
    };
    measure(
        env,
        rpc,
        "study_create",
        ix::StudyCreate { keys: study, args }.instruction(),
        &[&sponsor],
    )
    .await;
    let fund = ix::StudyFund {
        funder: sponsor.pubkey(),
        keys: study,
        source: sponsor_tokens,
        amount: 100_000,
    }
    .instruction();
    measure(env, rpc, "study_fund", fund, &[&sponsor]).await;
    let invite = ix::InvitationCreate {
        inviter: sponsor.pubkey(),
        keys: study,
        patient_wallet: wallet,
        expires_at: now + 7 * DAY,
    }
    .instruction();
    measure(env, rpc, "invitation_create", invite, &[&sponsor]).await;
    let (protocol, _) = careledger_tests::register_protocol(env, &sponsor, &study.study, 10).await;
    let enrol = ix::StudyEnroll {
        authority: wallet,
        patient_wallet: wallet,
        keys: study,
        protocol,
    }
    .instruction();
    measure(
        env,
        rpc,
        "study_enroll (new token account)",
        enrol,
        &[patient],
    )
    .await;
}

fn main() {
    careledger_tests::run_main(bench)
}

async fn bench() {
    let scale: Vec<usize> = std::env::args()
        .skip_while(|a| a != "--patients")
        .nth(1)
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000]);
    if let Some(url) = std::env::args().skip_while(|a| a != "--url").nth(1) {
        compute_units(url).await;
        return;
    }
    if std::env::args().any(|a| a == "--wire") {
        let figures = wire::run().await;
        println!("| over the wire (careledger localnet, JSON-RPC on 127.0.0.1) | measured | embedded runtime, same run |");
        println!("| --- | --- | --- |");
        for (what, wire, embedded) in figures.rows {
            println!("| {what} | {wire} | {embedded} |");
        }
        return;
    }
    let mut rows = Vec::new();
    let env = Env::new().await;
    env.set_invariant_checks(false);
    accounts(&env, &mut rows).await;
    all_packing(&mut rows);
    sdk(&mut rows);
    pure(&mut rows);
    runtime(&mut rows, &scale).await;
    println!("| section | what | measured | limit / reference | ratio |");
    println!("| --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.section, r.what, r.value, r.reference, r.ratio
        );
    }
}
