//! `careledger cid` and `careledger car` on the sizes where UnixFS layouts change, written as a
//! fixture for the IPFS project's own JavaScript importer: `.ci/run` then runs
//! `node tests/ipfs/check.mjs target/ipfs-fixture`, which imports each file with
//! `ipfs-unixfs-importer` under the same profile and reads each CAR back with `@ipld/car`.
use super::Cli;
use serde_json::{json, Value};

const KIB: usize = 1024;

/// Bytes that differ chunk to chunk (identical chunks would share one block).
fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + 7) % 251) as u8).collect()
}

#[test]
fn cids_and_cars_for_the_javascript_importer() {
    let cli = Cli::new();
    cli.keygen("any.json");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
        .join("ipfs-fixture");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sizes: [(&str, usize); 7] = [
        ("empty", 0),
        ("one-byte", 1),
        ("v0-one-chunk", 256 * KIB),
        ("v0-chunk-plus-one", 256 * KIB + 1),
        ("v1-one-chunk", 1024 * KIB),
        ("v1-chunk-plus-one", 1024 * KIB + 1),
        // more than 174 leaves of 256 KiB: a second level under the legacy profile
        ("v0-two-levels", 174 * 256 * KIB + 1),
    ];
    let mut fixtures = Vec::new();
    for (name, len) in sizes {
        let file = dir.join(format!("{name}.bin"));
        std::fs::write(&file, content(len)).unwrap();
        let file = file.display().to_string();
        for profile in ["unixfs-v1-2025", "unixfs-v0-2015"] {
            let out = cli.json("any.json", &["cid", &file, "--profile", profile]);
            let cid = out["cid"].as_str().unwrap().to_string();
            // a one-chunk file with raw leaves is its own block: the CID's digest is its SHA-256
            if profile == "unixfs-v1-2025" && len <= 1024 * KIB {
                assert!(cid.starts_with("bafkrei"), "{name}: {cid}");
            } else if profile == "unixfs-v0-2015" {
                assert!(cid.starts_with("Qm"), "{name}: {cid}");
            }
            let car = format!("{name}.{profile}.car");
            let written: Value = cli.json(
                "any.json",
                &[
                    "car",
                    &file,
                    "--out",
                    &dir.join(&car).display().to_string(),
                    "--profile",
                    profile,
                ],
            );
            assert_eq!(written["root"], cid, "the CAR's root is the file's CID");
            fixtures.push(json!({
                "file": format!("{name}.bin"),
                "profile": profile,
                "cid": cid,
                "car": car,
            }));
        }
    }
    std::fs::write(
        dir.join("fixtures.json"),
        serde_json::to_vec_pretty(&fixtures).unwrap(),
    )
    .unwrap();
    // the JS importer checks the values; here, only that the two profiles differ where they must
    let v1 = fixtures[12]["cid"].as_str().unwrap();
    let v0 = fixtures[13]["cid"].as_str().unwrap();
    assert_ne!(v1, v0);
}
