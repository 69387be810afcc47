//! The ledger folder under many writers, SIGKILL, a full disk and a read-only mount (issue 13).
//!
//! The promise under test: every command that reports success has persisted; a command that
//! fails, or is killed, leaves the folder loadable, holding the state before it or after it;
//! nothing acknowledged earlier is ever lost. The folder is read here with an independent reader
//! of the documented layout (`current/accounts/*.json` in solana-test-validator's JSON,
//! `current/events.log`), not with the CLI's own loader.
use super::Cli;
use base64::Engine;
use careledger_sdk::{accounts::decode, pda, CareledgerEvent, ConsentGrant, Patient, RecordAnchor};
use serde_json::Value;
use sha2::{Digest, Sha256};
use solana_pubkey::Pubkey;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
struct Stored {
    owner: Pubkey,
    lamports: u64,
    data: Vec<u8>,
}

/// What the folder's committed generation holds, read from the files themselves.
#[derive(Clone, Debug, PartialEq, Default)]
struct FolderState {
    generation: u64,
    accounts: BTreeMap<Pubkey, Stored>,
    events: Vec<CareledgerEvent>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn read_folder(root: &Path) -> FolderState {
    let link = std::fs::read_link(root.join("current")).expect("current names a generation");
    let generation = link
        .to_str()
        .and_then(|n| n.strip_prefix("gen-"))
        .and_then(|n| n.parse().ok())
        .expect("gen-NNNNNNNNNN");
    let current = root.join("current");
    let mut accounts = BTreeMap::new();
    for entry in std::fs::read_dir(current.join("accounts")).unwrap() {
        let path = entry.unwrap().path();
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let a = &value["account"];
        assert_eq!(a["data"][1], "base64");
        let address = Pubkey::from_str(value["pubkey"].as_str().unwrap()).unwrap();
        assert_eq!(
            path.file_stem().unwrap().to_str().unwrap(),
            address.to_string()
        );
        accounts.insert(
            address,
            Stored {
                owner: Pubkey::from_str(a["owner"].as_str().unwrap()).unwrap(),
                lamports: a["lamports"].as_u64().unwrap(),
                data: b64().decode(a["data"][0].as_str().unwrap()).unwrap(),
            },
        );
    }
    let log = std::fs::read_to_string(current.join("events.log")).unwrap();
    assert!(log.is_empty() || log.ends_with('\n'), "a torn last line");
    let events = log
        .lines()
        .map(|line| {
            let bytes = b64().decode(line).unwrap();
            // a line names its transaction: the tag, the signature, the generation, the index
            let event = bytes
                .strip_prefix(b"cl-tx-v1")
                .map_or(&bytes[..], |rest| &rest[76..]);
            CareledgerEvent::decode(event).expect("an event")
        })
        .collect();
    FolderState {
        generation,
        accounts,
        events,
    }
}

impl FolderState {
    fn get<T: anchor_lang::AccountDeserialize + anchor_lang::Discriminator>(
        &self,
        address: &Pubkey,
    ) -> Option<T> {
        self.accounts
            .get(address)
            .map(|a| decode::<T>(address, &a.owner, &a.data).expect("a careledger account"))
    }

    fn patient(&self, wallet: &Pubkey) -> Patient {
        self.get(&pda::patient(wallet).0)
            .expect("a patient account")
    }

    fn record(&self, wallet: &Pubkey, index: u32) -> Option<RecordAnchor> {
        self.get(&pda::record(wallet, index).0)
    }

    fn count(&self, name: &str) -> usize {
        self.events.iter().filter(|e| e.name() == name).count()
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn pubkey(text: &str) -> Pubkey {
    Pubkey::from_str(text.trim()).unwrap()
}

impl Cli {
    /// The binary as a child process, for commands that run side by side or get killed.
    fn spawn(&self, keypair: &str, args: &[&str]) -> Child {
        self.process(keypair, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn careledger")
    }

    fn process(&self, keypair: &str, args: &[&str]) -> Command {
        self.process_at(&self.ledger(), keypair, args)
    }

    /// The binary on the ledger folder `folder` (a copy of this one, say).
    fn process_at(&self, folder: &Path, keypair: &str, args: &[&str]) -> Command {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("careledger"));
        c.env("CARELEDGER_NO_PROGRESS", "1")
            .env("RUST_LOG", "error")
            .args(["--url", &format!("embedded:{}", folder.display())])
            .args(["--keypair", &self.path(keypair), "--output", "json-compact"])
            .args(args);
        c
    }

    fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }
}

/// Writes the figures of a test where `cat target/reports/*.txt` in `.ci/run` prints them.
pub(crate) fn report(name: &str, text: &str) {
    println!("{text}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/reports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), format!("{text}\n")).unwrap();
}

fn stdout_json(output: &Output) -> Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn concurrent_writers_each_persist_or_fail_clearly() {
    let cli = Cli::new();
    let admin = cli.keygen("admin.json");
    std::fs::write(cli.path("licence.pdf"), b"licence").unwrap();
    cli.ok("admin.json", &["config", "init"]);
    let providers: Vec<Pubkey> = (0..5)
        .map(|i| {
            let name = format!("p{i}.json");
            let key = pubkey(&cli.keygen(&name));
            let licence = cli.path("licence.pdf");
            cli.ok(
                &name,
                &[
                    "provider",
                    "register",
                    "--roles",
                    "clinician",
                    "--credential-file",
                    &licence,
                ],
            );
            cli.ok(
                "admin.json",
                &[
                    "authority",
                    "verify",
                    &key.to_string(),
                    "--roles",
                    "clinician",
                ],
            );
            key
        })
        .collect();
    let patients: Vec<Pubkey> = ["a.json", "b.json", "c.json"]
        .iter()
        .map(|name| {
            let key = pubkey(&cli.keygen(name));
            cli.ok(name, &["patient", "register"]);
            key
        })
        .collect();
    let (a, b, c) = (patients[0], patients[1], patients[2]);
    std::fs::write(cli.path("seed.enc"), b"first record").unwrap();
    cli.ok(
        "a.json",
        &[
            "patient",
            "anchor",
            &cli.path("seed.enc"),
            "--class",
            "lab-result",
        ],
    );
    let p0 = providers[0].to_string();
    cli.ok(
        "a.json",
        &[
            "patient",
            "grant",
            &p0,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
        ],
    );
    let before = read_folder(&cli.ledger());
    let _ = admin;

    // 24 processes at once: 20 writers of four kinds, and 4 readers
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Kind {
        AnchorA,
        AnchorB,
        Grant,
        Access,
        Read,
    }
    let mut jobs: Vec<(Kind, Option<[u8; 32]>, Child)> = Vec::new();
    for i in 0..8 {
        let file = cli.path(&format!("a{i}.enc"));
        let content = format!("patient a, record {i}").repeat(40);
        std::fs::write(&file, &content).unwrap();
        let child = cli.spawn(
            "a.json",
            &["patient", "anchor", &file, "--class", "lab-result"],
        );
        jobs.push((Kind::AnchorA, Some(sha256(content.as_bytes())), child));
    }
    for i in 0..4 {
        let file = cli.path(&format!("b{i}.enc"));
        let content = format!("patient b, record {i}").repeat(40);
        std::fs::write(&file, &content).unwrap();
        let child = cli.spawn(
            "b.json",
            &["patient", "anchor", &file, "--class", "imaging"],
        );
        jobs.push((Kind::AnchorB, Some(sha256(content.as_bytes())), child));
    }
    for provider in &providers[1..] {
        let child = cli.spawn(
            "c.json",
            &[
                "patient",
                "grant",
                &provider.to_string(),
                "--purpose",
                "treatment",
                "--classes",
                "lab-result",
            ],
        );
        jobs.push((Kind::Grant, None, child));
    }
    for _ in 0..4 {
        let child = cli.spawn(
            "p0.json",
            &[
                "provider",
                "log-access",
                &a.to_string(),
                "--record",
                "0",
                "--strict",
            ],
        );
        jobs.push((Kind::Access, None, child));
    }
    for i in 0..4 {
        let args: &[&str] = if i % 2 == 0 {
            &["patient", "show"]
        } else {
            &["ledger", "check"]
        };
        jobs.push((Kind::Read, None, cli.spawn("a.json", args)));
    }
    let processes = jobs.len();
    let mut succeeded: BTreeMap<String, usize> = BTreeMap::new();
    let mut busy = 0;
    let mut anchored: Vec<(Pubkey, u32, [u8; 32])> = Vec::new();
    for (kind, hash, child) in jobs {
        let output = child.wait_with_output().unwrap();
        if output.status.success() {
            *succeeded.entry(format!("{kind:?}")).or_default() += 1;
            let value = stdout_json(&output);
            match kind {
                Kind::AnchorA | Kind::AnchorB => {
                    let wallet = if kind == Kind::AnchorA { a } else { b };
                    let index = value["index"].as_u64().unwrap() as u32;
                    anchored.push((wallet, index, hash.unwrap()));
                }
                // a reader sees a whole committed state: the patient's seed record, or a
                // generation no older than the one before the writers started
                Kind::Read => assert!(
                    value["records"].as_array().is_some_and(|r| !r.is_empty())
                        || value["generation"]
                            .as_u64()
                            .is_some_and(|g| g >= before.generation),
                    "{value}"
                ),
                _ => {}
            }
        } else {
            // the only acceptable failure is a clear "busy" after the bounded wait
            let err = stderr(&output);
            assert!(err.contains("is busy"), "{kind:?} failed unclearly: {err}");
            busy += 1;
        }
    }
    let n = |k: &str| succeeded.get(k).copied().unwrap_or(0);

    let after = read_folder(&cli.ledger());
    // records and counters equal the successes exactly
    assert_eq!(after.patient(&a).record_count as usize, 1 + n("AnchorA"));
    assert_eq!(after.patient(&b).record_count as usize, n("AnchorB"));
    assert_eq!(after.patient(&c).grant_count as usize, n("Grant"));
    let grant = pda::grant(&a, &providers[0], careledger_sdk::Purpose::Treatment).0;
    let grant: ConsentGrant = after.get(&grant).unwrap();
    assert_eq!(grant.access_count as usize, n("Access"));
    // each acknowledged anchor got its own index and holds its file's hash
    let mut indices: Vec<(Pubkey, u32)> = anchored.iter().map(|(w, i, _)| (*w, *i)).collect();
    indices.sort();
    indices.dedup();
    assert_eq!(
        indices.len(),
        anchored.len(),
        "two anchors reported the same record"
    );
    for (wallet, index, hash) in &anchored {
        let record = after
            .record(wallet, *index)
            .expect("an acknowledged record");
        assert_eq!(&record.content_sha256, hash);
    }
    // ... and the log holds exactly the events of the successes, after everything it held before
    assert_eq!(after.events[..before.events.len()], before.events[..]);
    assert_eq!(
        after.count("RecordAnchored") - before.count("RecordAnchored"),
        n("AnchorA") + n("AnchorB")
    );
    assert_eq!(
        after.count("GrantCreated") - before.count("GrantCreated"),
        n("Grant")
    );
    assert_eq!(
        after.count("AccessLogged") - before.count("AccessLogged"),
        n("Access")
    );
    // a grant from the CLI is made against the consent statement its wallet signed: two events
    assert_eq!(
        after.count("ConsentStatementSigned") - before.count("ConsentStatementSigned"),
        n("Grant")
    );
    assert_eq!(
        after.events.len() - before.events.len(),
        n("AnchorA") + n("AnchorB") + 2 * n("Grant") + n("Access")
    );
    report(
        "ledger_folder_concurrency",
        &format!(
            "ledger folder, concurrency: {processes} processes at once on one folder (8+4 anchors, 4 grants, 4 access logs, 4 readers): {} succeeded ({succeeded:?}), {busy} gave up busy, 0 lost or duplicated; generation {} -> {}",
            processes - busy,
            before.generation,
            after.generation
        ),
    );
}

/// A tiny deterministic generator (xorshift), seeded from the clock and printed, so a failing
/// trial can be replayed with CARELEDGER_CRASH_SEED.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn sigkill_at_random_moments_leaves_the_state_before_or_after() {
    const TRIALS: usize = 120;
    const BUDGET: Duration = Duration::from_secs(300);
    let cli = Cli::new();
    let patient = pubkey(&cli.keygen("patient.json"));
    cli.keygen("admin.json");
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    let anchor = |i: usize| -> (Command, [u8; 32]) {
        let file = cli.path(&format!("r{i}.enc"));
        let content = format!("record {i} ").repeat(100 + i);
        std::fs::write(&file, &content).unwrap();
        let command = cli.process(
            "patient.json",
            &["patient", "anchor", &file, "--class", "lab-result"],
        );
        (command, sha256(content.as_bytes()))
    };
    // how long one anchor takes, unkilled
    let mut durations = Vec::new();
    let mut persisted: Vec<[u8; 32]> = Vec::new();
    for i in 0..3 {
        let (mut command, hash) = anchor(i);
        let started = Instant::now();
        assert!(command.output().unwrap().status.success());
        durations.push(started.elapsed());
        persisted.push(hash);
    }
    durations.sort();
    let typical = durations[1];
    let seed = std::env::var("CARELEDGER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut state = read_folder(&cli.ledger());
    let (mut trials, mut before_commit, mut after_unacknowledged, mut completed) = (0, 0, 0, 0);
    let (mut staged_next, mut unswept_previous) = (0, 0);
    for i in 3..3 + TRIALS {
        if started.elapsed() > BUDGET {
            break;
        }
        trials += 1;
        let (mut command, hash) = anchor(i);
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // a random moment from the start to a little past a typical run's end
        let delay = Duration::from_micros(rng.next() % (typical.as_micros() as u64 * 13 / 10 + 1));
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; fails only if the command already exited
        let status = child.wait().unwrap();
        let acknowledged = status.success();
        // what a kill inside a save leaves: the next generation half-written (before the switch),
        // or the previous one not yet removed (after it); the next writer sweeps either
        let current = read_folder(&cli.ledger()).generation;
        for entry in std::fs::read_dir(cli.ledger()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            match name
                .strip_prefix("gen-")
                .and_then(|n| n.parse::<u64>().ok())
            {
                Some(g) if g > current => staged_next += 1,
                Some(g) if g < current => unswept_previous += 1,
                _ => {}
            }
        }
        // the folder loads as a command loads it ...
        let check = cli
            .process("patient.json", &["ledger", "check"])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "seed {seed}, trial {i}: the folder does not load: {}",
            stderr(&check)
        );
        // ... and holds the state before this command or after it
        let now = read_folder(&cli.ledger());
        let count = state.patient(&patient).record_count;
        if now == state {
            assert!(
                !acknowledged,
                "seed {seed}, trial {i}: success reported, nothing persisted"
            );
            before_commit += 1;
        } else {
            assert_eq!(
                now.generation,
                state.generation + 1,
                "seed {seed}, trial {i}"
            );
            assert_eq!(
                now.patient(&patient).record_count,
                count + 1,
                "seed {seed}, trial {i}"
            );
            let record = now.record(&patient, count).expect("the new record");
            assert_eq!(record.content_sha256, hash, "seed {seed}, trial {i}");
            assert_eq!(now.events[..state.events.len()], state.events[..]);
            assert_eq!(
                now.events.len(),
                state.events.len() + 1,
                "seed {seed}, trial {i}"
            );
            match &now.events[state.events.len()] {
                CareledgerEvent::RecordAnchored(e) => assert_eq!(e.index, count),
                other => panic!("seed {seed}, trial {i}: unexpected event {}", other.name()),
            }
            let changed: Vec<Pubkey> = now
                .accounts
                .iter()
                .filter(|(k, v)| state.accounts.get(k) != Some(v))
                .map(|(k, _)| *k)
                .collect();
            let allowed = [
                pda::patient(&patient).0,
                pda::record(&patient, count).0,
                patient,
            ];
            assert!(
                changed.iter().all(|k| allowed.contains(k)),
                "seed {seed}, trial {i}: {changed:?}"
            );
            assert!(state.accounts.keys().all(|k| now.accounts.contains_key(k)));
            if acknowledged {
                completed += 1;
            } else {
                after_unacknowledged += 1;
            }
            persisted.push(hash);
        }
        // every record persisted so far is still there
        for (index, hash) in persisted.iter().enumerate() {
            let record = now
                .record(&patient, index as u32)
                .expect("an earlier record");
            assert_eq!(
                &record.content_sha256, hash,
                "seed {seed}, trial {i}: record {index}"
            );
        }
        state = now;
    }
    assert!(trials >= 100, "only {trials} trials in {BUDGET:?}");
    // the folder still takes writes after all that
    let (mut command, _) = anchor(10_000);
    assert!(command.output().unwrap().status.success());
    report(
        "ledger_folder_crashes",
        &format!(
            "ledger folder, SIGKILL: {trials} trials in {:.1} s (seed {seed}, kill at a random moment in 0..{:.0} ms, a typical anchor taking {:.0} ms): {before_commit} left the state before, {after_unacknowledged} the state after without reporting it, {completed} finished before the kill; kills inside a save left {staged_next} half-written next generations and {unswept_previous} previous ones not yet removed, all swept by the next writer; 0 failures, {} records all intact",
            started.elapsed().as_secs_f64(),
            typical.as_secs_f64() * 1300.0,
            typical.as_secs_f64() * 1000.0,
            persisted.len()
        ),
    );
}

/// Every step of a save, one by one: on a fresh copy of the same folder, the binary aborts at
/// step N (CARELEDGER_CRASH_AT), for N = 1, 2, ... until the command runs through. Each crash
/// must leave the state before (up to the rename) or after (from it on), and the folder must
/// load and take the next write.
#[test]
fn a_crash_at_each_step_of_a_save_leaves_the_state_before_or_after() {
    let cli = Cli::new();
    let patient = pubkey(&cli.keygen("patient.json"));
    cli.keygen("admin.json");
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    std::fs::write(cli.path("r0.enc"), b"an earlier record").unwrap();
    cli.ok(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("r0.enc"),
            "--class",
            "lab-result",
        ],
    );
    let base = read_folder(&cli.ledger());
    let content = "the record being saved ".repeat(30);
    std::fs::write(cli.path("new.enc"), &content).unwrap();
    let run = |folder: &Path, args: &[&str], crash_at: Option<u32>| -> Output {
        let mut c = cli.process_at(folder, "patient.json", args);
        if let Some(n) = crash_at {
            c.env("CARELEDGER_CRASH_AT", n.to_string());
        }
        c.output().unwrap()
    };
    let (mut before, mut after) = (Vec::new(), Vec::new());
    let mut ran_through = None;
    for step in 1..=64u32 {
        let trial = cli.dir.path().join(format!("trial-{step}"));
        let copied = Command::new("cp")
            .arg("-a")
            .arg(cli.ledger())
            .arg(&trial)
            .status()
            .unwrap();
        assert!(copied.success());
        let anchor = [
            "patient",
            "anchor",
            &cli.path("new.enc"),
            "--class",
            "lab-result",
        ];
        let output = run(&trial, &anchor, Some(step));
        let check = run(&trial, &["ledger", "check"], None);
        assert!(check.status.success(), "step {step}: {}", stderr(&check));
        let now = read_folder(&trial);
        if now == base {
            assert!(
                !output.status.success(),
                "step {step}: success without a save"
            );
            before.push(step);
        } else {
            assert_eq!(now.generation, base.generation + 1, "step {step}");
            assert_eq!(now.patient(&patient).record_count, 2, "step {step}");
            let record = now.record(&patient, 1).expect("the new record");
            assert_eq!(
                record.content_sha256,
                sha256(content.as_bytes()),
                "step {step}"
            );
            assert_eq!(now.events[..base.events.len()], base.events[..]);
            assert_eq!(now.events.len(), base.events.len() + 1, "step {step}");
            after.push(step);
        }
        // the next writer sweeps what the crash left and saves normally
        assert!(run(
            &trial,
            &[
                "patient",
                "anchor",
                &cli.path("r0.enc"),
                "--class",
                "lab-result"
            ],
            None
        )
        .status
        .success());
        let swept: Vec<String> = std::fs::read_dir(&trial)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with("gen-") || n == "current.next")
            .collect();
        assert_eq!(swept.len(), 1, "step {step}: {swept:?}");
        if output.status.success() {
            ran_through = Some(step);
            break;
        }
    }
    let steps = ran_through.expect("the command ran through past its last step") - 1;
    let first_after = after[0];
    // crashes before the rename keep the old state; from the rename on, the new one
    assert!(
        before.iter().all(|s| *s < first_after),
        "before {before:?}, after {after:?}"
    );
    assert_eq!(before.len() + after.len(), steps as usize + 1);
    assert!(
        before.len() >= 5,
        "a save has at least five steps before its switch: {before:?}"
    );
    report(
        "ledger_folder_crash_points",
        &format!(
            "ledger folder, crash points: a save of `patient anchor` has {steps} steps; an abort at steps 1..{} left the state before, at {first_after}..{steps} the state after; the folder loaded, and took the next write, after every one",
            first_after - 1,
        ),
    );
}

/// Runs `script` as root of a new user and mount namespace, where it may mount a small tmpfs;
/// None when this machine does not allow unprivileged user namespaces.
fn in_mount_namespace(script: &str, env: &[(&str, String)]) -> Option<Output> {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output()
        .ok()?;
    if !probe.status.success() {
        return None;
    }
    let mut c = Command::new("unshare");
    c.args(["--user", "--map-root-user", "--mount", "sh", "-c", script]);
    for (k, v) in env {
        c.env(k, v);
    }
    Some(c.output().unwrap())
}

#[test]
fn a_full_disk_or_a_read_only_folder_is_a_clear_error_and_loses_nothing() {
    let cli = Cli::new();
    let patient = pubkey(&cli.keygen("patient.json"));
    cli.keygen("admin.json");
    cli.ok("admin.json", &["config", "init"]);
    cli.ok("patient.json", &["patient", "register"]);
    let mut hashes = Vec::new();
    let steps: Vec<u32> = vec![0, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 64, 128, 256];
    for (i, _) in std::iter::once(&0).chain(steps.iter()).enumerate() {
        let content = format!("record {i} ").repeat(50 + i);
        std::fs::write(cli.path(&format!("r{i}.enc")), &content).unwrap();
        hashes.push(sha256(content.as_bytes()));
    }
    cli.ok(
        "patient.json",
        &[
            "patient",
            "anchor",
            &cli.path("r0.enc"),
            "--class",
            "lab-result",
        ],
    );
    let start = read_folder(&cli.ledger());
    let out = cli.path("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::create_dir(cli.path("mnt")).unwrap();
    // In the namespace: copy the folder onto a 4 MiB tmpfs, fill the tmpfs, then before each
    // anchor free `k` KiB; copy the folder out after each. Then remount read-only and try again.
    let script = r#"
set -u
mount -t tmpfs -o size=4m careledger-test "$MNT" || exit 90
cp -a "$LEDGER" "$MNT/ledger"
run() { "$BIN" --url "embedded:$MNT/ledger" --keypair "$KEY" --output json-compact "$@"; }
i=1
for k in $STEPS; do
  rm -f "$MNT/filler"
  dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
  truncate -s "-${k}K" "$MNT/filler"
  run patient anchor "$FILES/r$i.enc" --class lab-result >"$OUT/$k.out" 2>"$OUT/$k.err"
  echo $? >"$OUT/$k.rc"
  cp -a "$MNT/ledger" "$OUT/$k.ledger"
  i=$((i+1))
done
rm -f "$MNT/filler"
mount -o remount,ro "$MNT" || exit 91
run patient anchor "$FILES/r1.enc" --class lab-result >"$OUT/ro.out" 2>"$OUT/ro.err"
echo $? >"$OUT/ro.rc"
run patient show >"$OUT/ro-show.out" 2>"$OUT/ro-show.err" || exit 92
run ledger check >"$OUT/ro-check.out" 2>"$OUT/ro-check.err" || exit 93
cp -a "$MNT/ledger" "$OUT/ro.ledger"
"#;
    let env = [
        ("MNT", cli.path("mnt")),
        ("LEDGER", cli.ledger().display().to_string()),
        ("BIN", env!("CARGO_BIN_EXE_careledger").to_string()),
        ("KEY", cli.path("patient.json")),
        ("FILES", cli.dir.path().display().to_string()),
        ("OUT", out.clone()),
        (
            "STEPS",
            steps
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("CARELEDGER_NO_PROGRESS", "1".to_string()),
        ("RUST_LOG", "error".to_string()),
    ];
    let Some(result) = in_mount_namespace(script, &env) else {
        report(
            "ledger_folder_full_disk",
            "ledger folder, full disk and read-only mount: NOT RUN: this machine does not allow unprivileged user namespaces (`unshare --user --map-root-user --mount`), which the test needs to mount a small tmpfs",
        );
        return;
    };
    assert!(
        result.status.success(),
        "namespace script failed ({:?}): {}",
        result.status,
        stderr(&result)
    );
    let read = |name: &str| std::fs::read_to_string(Path::new(&out).join(name)).unwrap();
    let mut state = start;
    let (mut refused, mut saved) = (Vec::new(), Vec::new());
    let mut expected_records = 1u32;
    let mut persisted = vec![hashes[0]];
    for (step, k) in steps.iter().enumerate() {
        let rc: i32 = read(&format!("{k}.rc")).trim().parse().unwrap();
        let err = read(&format!("{k}.err"));
        let now = read_folder(&Path::new(&out).join(format!("{k}.ledger")));
        if rc == 0 {
            expected_records += 1;
            saved.push(*k);
            let record = now
                .record(&patient, expected_records - 1)
                .expect("the new record");
            assert_eq!(record.content_sha256, hashes[step + 1]);
            persisted.push(hashes[step + 1]);
            assert_eq!(now.generation, state.generation + 1);
        } else {
            refused.push(*k);
            assert!(
                err.contains("No space left on device"),
                "{k} KiB free: {err}"
            );
            assert!(err.contains("nothing was changed"), "{k} KiB free: {err}");
            assert!(err.contains("free some disk space"), "{k} KiB free: {err}");
            assert_eq!(
                now, state,
                "{k} KiB free: a refused save changed the folder"
            );
        }
        assert_eq!(now.patient(&patient).record_count, expected_records);
        for (index, hash) in persisted.iter().enumerate() {
            assert_eq!(
                &now.record(&patient, index as u32).unwrap().content_sha256,
                hash
            );
        }
        state = now;
    }
    assert!(
        !refused.is_empty() && !saved.is_empty(),
        "refused {refused:?}, saved {saved:?}"
    );
    // read-only: the writer is refused clearly, readers still work, nothing changed
    assert_ne!(read("ro.rc").trim(), "0");
    let err = read("ro.err");
    assert!(
        err.contains("Read-only file system") && err.contains("write commands cannot run here"),
        "{err}"
    );
    let shown: Value = serde_json::from_str(read("ro-show.out").trim()).unwrap();
    assert_eq!(
        shown["records"].as_array().unwrap().len() as u32,
        expected_records
    );
    assert_eq!(read_folder(&Path::new(&out).join("ro.ledger")), state);
    report(
        "ledger_folder_full_disk",
        &format!(
            "ledger folder, full disk: anchors with 0..256 KiB free on a full tmpfs: refused with ENOSPC at {refused:?} KiB (state unchanged each time), saved at {saved:?} KiB; read-only remount: write refused, show and `ledger check` still work, nothing lost ({expected_records} records)"
        ),
    );
}

/// Issue 24: `ledger check` (any read-only command) on a folder careledger did not write says so
/// and exits non-zero, changing nothing: no lock file is left there. A read of a real folder
/// leaves it byte for byte as it was.
#[test]
fn ledger_check_refuses_a_folder_it_does_not_recognise_and_changes_nothing() {
    let cli = Cli::new();
    let foreign = cli.path("photos");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(Path::new(&foreign).join("holiday.jpg"), b"not a ledger").unwrap();
    let url = format!("embedded:{foreign}");
    for args in [
        vec!["--url", url.as_str(), "ledger", "check"],
        vec![
            "--url",
            url.as_str(),
            "patient",
            "show",
            &Pubkey::new_unique().to_string(),
        ],
    ] {
        let out = cli.cmd("none.json", &args).failure();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(
            stderr.contains("is not a careledger ledger folder: it holds `holiday.jpg`"),
            "{stderr}"
        );
    }
    let names: Vec<String> = std::fs::read_dir(&foreign)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        ["holiday.jpg"],
        "a read-only command changed the folder"
    );

    // a real folder: reads leave every file as it was
    cli.keygen("admin.json");
    cli.ok("admin.json", &["config", "init"]);
    let root = PathBuf::from(cli.path("ledger"));
    let listing = |root: &Path| -> Vec<(String, Vec<u8>)> {
        let mut all = vec![];
        for entry in walk(root) {
            let bytes = if entry.is_file() {
                std::fs::read(&entry).unwrap()
            } else {
                vec![]
            };
            all.push((entry.display().to_string(), bytes));
        }
        all.sort();
        all
    };
    let before = listing(&root);
    cli.ok("admin.json", &["ledger", "check"]);
    cli.ok("admin.json", &["config", "show"]);
    assert_eq!(before, listing(&root));
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() && !path.is_symlink() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
