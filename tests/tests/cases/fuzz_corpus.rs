//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the same functions the cargo-fuzz
//! targets call, so every input a campaign kept stays a regression test without nightly Rust.
use careledger_tests::{fuzz, skip_on_cluster};
use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            (path, data)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "empty corpus {}", dir.display());
    inputs
}

#[test]
fn pure_corpus_replays() {
    let inputs = corpus("pure");
    for (_, data) in &inputs {
        fuzz::pure(data);
    }
    println!("replayed {} pure inputs", inputs.len());
}

#[tokio::test]
async fn instruction_corpus_replays() {
    if skip_on_cluster("starts a fresh embedded bank per input") {
        return;
    }
    let inputs = corpus("instructions");
    for (_, data) in &inputs {
        fuzz::instructions(data).await;
    }
    println!("replayed {} instruction sequences", inputs.len());
}
