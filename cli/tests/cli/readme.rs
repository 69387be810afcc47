//! The CLI commands the README and docs/ print, run as printed (issue 24: "the README's commands,
//! as printed, work verbatim on a fresh ledger folder; a test runs each one"). The blocks are read
//! from the files themselves, so a command edited there is the command run here: the README's
//! quickstart on a folder of its own, then the CLI walkthrough and a record through a gateway
//! (docs/GUIDE.md) followed by the supply chain (docs/DOMAINS.md) on another. Each block is found
//! by markers that exactly one block of its file contains. Three liberties, no more:
//! - `careledger` is the binary this test built (the blocks build it and alias it);
//! - the gateway listens on a port this test picks instead of 8080 (tests never take a fixed port);
//! - after the line that starts the gateway in the background, the script waits (bounded) for
//!   its port, as a person waits before typing the next command, and stops it at the end (each
//!   background job is its own process group, `set -m`, so the gateway under the shell function
//!   is stopped too).
use std::path::Path;

/// The fenced shell blocks of a file, in order (their lines, the fence excluded).
fn shell_blocks(readme: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in readme.lines() {
        let fence = line.trim_start();
        match current.take() {
            None if fence == "```sh" || fence == "```bash" => current = Some(Vec::new()),
            None => {}
            Some(block) if fence == "```" => blocks.push(block),
            Some(mut block) => {
                block.push(line.to_string());
                current = Some(block);
            }
        }
    }
    blocks
}

/// The one shell block of `file` (relative to the repository root) that contains every marker.
fn block(file: &str, markers: &[&str]) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file))
        .expect(file);
    let found: Vec<_> = shell_blocks(&text)
        .into_iter()
        .filter(|b| markers.iter().all(|m| b.iter().any(|l| l.contains(m))))
        .collect();
    assert_eq!(found.len(), 1, "{file} blocks with {markers:?}: {found:?}");
    found.into_iter().next().expect("one block")
}

/// What running some blocks as one script left: its output, and the folder it ran in.
struct Run {
    stdout: String,
    dir: tempfile::TempDir,
}

/// Runs the blocks' lines, in order, as one bash script in a fresh temporary folder, and asserts
/// that every line succeeded and that there were at least `at_least` commands.
fn run_verbatim(blocks: &[&[String]], at_least: usize) -> Run {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut script = String::from(
        "set -euo pipefail\n\
         set -m\n\
         careledger() { \"$CARELEDGER_BIN\" \"$@\"; }\n\
         trap 'for j in $(jobs -p); do kill -- -$j 2>/dev/null || true; done; wait || true' EXIT\n",
    );
    let mut commands = 0;
    // a command continued with `\` is one command
    let mut lines: Vec<String> = Vec::new();
    let mut continued = false;
    for line in blocks.iter().flat_map(|b| b.iter()) {
        match lines.last_mut() {
            Some(last) if continued => {
                let kept = last.trim_end().trim_end_matches('\\').to_string();
                *last = format!("{kept} {}", line.trim_start());
            }
            _ => lines.push(line.clone()),
        }
        continued = line.trim_end().ends_with('\\');
    }
    for line in &lines {
        let line = line.replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
        let trimmed = line.trim();
        if trimmed.is_empty()
            || trimmed.starts_with('#')
            || trimmed.starts_with("alias careledger=")
            || trimmed.starts_with("cargo build -p careledger-cli")
        {
            continue;
        }
        commands += 1;
        // each command is echoed first, so a failure names the printed line
        script.push_str(&format!(
            "echo {}\n{line}\n",
            shell_quote(&format!("$ {trimmed}"))
        ));
        if trimmed.ends_with('&') {
            script.push_str(&format!(
                "for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done\n"
            ));
        }
    }
    assert!(
        commands >= at_least,
        "only {commands} printed commands found"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("CARELEDGER_BIN", assert_cmd::cargo::cargo_bin("careledger"))
        .env("CARELEDGER_NO_PROGRESS", "1")
        .env("HOME", dir.path())
        .env("RUST_LOG", "error")
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a printed command failed:\n{stdout}\n{stderr}"
    );
    Run { stdout, dir }
}

/// The README's five-minute quickstart: a read under consent, a revocation, a refused read.
#[test]
fn readme_quickstart_runs_verbatim_on_a_fresh_ledger_folder() {
    let quickstart = block(
        "README.md",
        &["careledger-try/quickstart", "provider log-access"],
    );
    let run = run_verbatim(&[&quickstart], 10);
    // what the commands promise, checked on what they left
    assert!(
        run.stdout.contains("access to record #0 logged"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("REFUSED"), "{}", run.stdout);
    let work = run.dir.path().join("careledger-try/quickstart");
    assert!(work.join("careledger-ledger/current").exists());
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("bundle.json")).expect("bundle.json"))
            .expect("json");
    assert_eq!(bundle["resourceType"], "Bundle");
    let refused = bundle["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["resource"]["outcomeDesc"] == "refused: Revoked")
        .count();
    assert_eq!(refused, 1, "the refused read is in the trail: {bundle}");
}

/// The CLI walkthrough and a record through a gateway (docs/GUIDE.md), then the supply chain
/// (docs/DOMAINS.md), in one folder as a person types them.
#[test]
fn guide_walkthrough_gateway_and_supply_run_verbatim_on_a_fresh_ledger_folder() {
    let walkthrough = block("docs/GUIDE.md", &["alias careledger=", "patient register"]);
    let gateway = block(
        "docs/GUIDE.md",
        &["keys new --outfile hospital.x25519", "provider get"],
    );
    let supply = block("docs/DOMAINS.md", &["supply parse", "supply commission"]);
    let run = run_verbatim(&[&walkthrough, &gateway, &supply], 25);
    // what the commands promise, checked on what they left
    // the walkthrough works in `careledger-try/`
    let work = run.dir.path().join("careledger-try");
    let read = |name: &str| std::fs::read(work.join(name)).expect(name);
    assert_eq!(
        read("lab.received.pdf"),
        read("lab.pdf"),
        "provider get released the record put"
    );
    let bundle: serde_json::Value = serde_json::from_slice(&read("bundle.json")).expect("json");
    assert_eq!(bundle["resourceType"], "Bundle");
    assert!(std::fs::metadata(work.join("lab.car")).is_ok());
    assert!(work.join("careledger-ledger/current").exists());
    assert!(run
        .stdout
        .contains("$ careledger -k me.json verify lab.enc"));
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
