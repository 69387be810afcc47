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
        format!(
            "{} does NOT match record #{}: it is not the anchored version",
            file.display(),
            anchor.index
        )
    };
    Ok((
        json!({ "matches": ok, "record": record.to_string(), "version": anchor.version }),
        text,
        ok,
    ))
}
