//! The demo (`cargo run -p careledger-tests --bin demo`, the README's first command) runs the
//! whole story, titles each step once, and prints every event as a readable line: no Rust
//! `Debug` dump of a struct reaches a reader.
use std::collections::BTreeSet;

#[test]
fn the_demo_prints_every_event_readably_under_its_own_title() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_demo"))
        .env("RUST_LOG", "error")
        .output()
        .expect("the demo runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("event "))
        .collect();
    assert!(events.len() >= 30, "{text}");
    for line in &events {
        let (_, summary) = line.split_once(": ").expect("event NAME: summary");
        assert!(
            !summary.contains(" { ") && !summary.contains(" }"),
            "a Debug dump: {line}"
        );
    }
    let titles: Vec<&str> = text.lines().filter(|l| l.starts_with("== ")).collect();
    let distinct: BTreeSet<&&str> = titles.iter().collect();
    assert_eq!(
        distinct.len(),
        titles.len(),
        "a title used twice: {titles:#?}"
    );
    assert!(text.contains("done: every step above is an on-chain audit event"));
    // the supply step: a dispensed pack, a counterfeit, a clone, then the recall of every pack
    for line in [
        "   verify again: verified: false (already_dispensed)",
        "== a counterfeit pack (serial FAKE00042): verified: false (unknown_serial)",
        "   event SuspectPack: SUSPECT:",
        "   every pack of the lot verified again: 1000 of 1000 fail (recalled)",
    ] {
        assert!(text.contains(line), "missing {line:?} in {text}");
    }
    // the records step: released against the clinic's read, then nothing after revocation
    assert!(
        text.contains("the gateway released it against that read: 57 bytes decrypted"),
        "{text}"
    );
    assert!(
        text.contains("the gateway released nothing: the gateway refused (403 access-refused): the access was refused on chain (Revoked)"),
        "{text}"
    );
}
