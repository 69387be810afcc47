//! The README's CLI commands, run as printed (issue 24: "the README's commands, as printed, work
//! verbatim on a fresh ledger folder; a test runs each one"). The blocks are read from README.md
//! itself, so a command edited there is the command run here. Three liberties, no more:
//! - `careledger` is the binary this test built (the README builds it and aliases it);
//! - the gateway listens on a port this test picks instead of 8080 (tests never take a fixed port);
//! - after the line that starts the gateway in the background, the script waits (bounded) for
//!   its port, as a person waits before typing the next command, and stops it at the end (each
//!   background job is its own process group, `set -m`, so the gateway under the shell function
//!   is stopped too).
use std::path::Path;

/// The fenced shell blocks of the README, in order (their lines, the fence excluded).
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

/// The one block that contains every marker.
fn block<'a>(blocks: &'a [Vec<String>], markers: &[&str]) -> &'a [String] {
    let found: Vec<_> = blocks
        .iter()
        .filter(|b| markers.iter().all(|m| b.iter().any(|l| l.contains(m))))
        .collect();
    assert_eq!(found.len(), 1, "README blocks with {markers:?}: {found:?}");
    found[0]
}

#[test]
fn readme_commands_run_verbatim_on_a_fresh_ledger_folder() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md");
    let blocks = shell_blocks(&readme);
    let walkthrough = block(&blocks, &["alias careledger=", "patient register"]);
    let gateway = block(
        &blocks,
        &["keys new --outfile hospital.x25519", "provider get"],
    );
    let supply = block(&blocks, &["supply parse", "supply commission"]);

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
    for line in walkthrough.iter().chain(gateway).chain(supply) {
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
        // each command is echoed first, so a failure names the README line
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
    assert!(commands >= 25, "only {commands} README commands found");

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
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a README command failed:\n{stdout}\n{stderr}"
    );
    // what the commands promise, checked on what they left
    // the README works in `careledger-try/`
    let work = dir.path().join("careledger-try");
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
    assert!(stdout.contains("$ careledger -k me.json verify lab.enc"));
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
