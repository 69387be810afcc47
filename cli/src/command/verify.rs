//! `careledger verify FILE --record R`: does a file match a record anchor? A mismatch exits
//! non-zero, so scripts can rely on the exit code.
use crate::session::{explain, Session};
use anyhow::{Context, Result};
use careledger_sdk::cid;
use serde_json::{json, Value};
use solana_pubkey::Pubkey;
use std::path::Path;

/// The comparison, and whether the file matched.
pub async fn execute(s: &Session, file: &Path, record: &Pubkey) -> Result<(Value, String, bool)> {
    let anchor: careledger_sdk::RecordAnchor = s.client.fetch(record).await.map_err(explain)?;
    let check = cid::verify_file(file, &anchor)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let ok = check == cid::FileCheck::Matches;
    let text = if ok {
        format!(
            "{} matches record #{} v{} ({:?})",
            file.display(),
            anchor.index,
            anchor.version,
            anchor.status
        )
    } else {
        // a `patient put` record anchors its ciphertext: its plaintext never matches
        format!(
            "{} does NOT match record #{} (cid {}): it is not the anchored version. If it is the plaintext of a record stored with `patient put`, that is expected: the anchor is of the ciphertext. To check a plaintext, decrypt the record with `careledger provider get {record} --out FILE`, which writes nothing that does not match the anchor; or check the ciphertext itself with `careledger verify CIPHERTEXT --record {record}` (`careledger cid CIPHERTEXT` prints the anchored CID)",
            file.display(),
            anchor.index,
            cid::cid_to_string(&anchor.cid)
        )
    };
    Ok((
        json!({ "matches": ok, "record": record.to_string(), "version": anchor.version }),
        text,
        ok,
    ))
}
