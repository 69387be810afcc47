//! `careledger cid` and `careledger car`: a file's CID as IPFS computes it for an import
//! profile, and its blocks as a CARv1 for `ipfs dag import` or a pinning service.
use anyhow::{anyhow, Result};
use careledger_records::car;
use careledger_records::unixfs::{self, Profile};
use careledger_sdk::cid;
use careledger_sdk::program::logic::cid::parse_cid;
use serde_json::{json, Value};
use std::path::Path;

fn cid_text(bytes: &[u8]) -> Result<String> {
    Ok(cid::cid_to_string(&parse_cid(bytes).map_err(|e| {
        anyhow!("internal error: an unparsable CID ({e})")
    })?))
}

pub fn cid_of(file: &Path, profile: &str) -> Result<(Value, String)> {
    let profile = Profile::from_name(profile).map_err(|e| anyhow!("{e}"))?;
    let root = unixfs::cid_of_file(file, profile)
        .map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
    let text = cid_text(&root.cid)?;
    Ok((
        json!({
            "cid": text,
            "profile": profile.name(),
            "file_bytes": root.file_size,
            "dag_bytes": root.dag_size,
            "blocks": root.blocks,
        }),
        text,
    ))
}

pub fn car_of(file: &Path, out: &Path, profile: &str, force: bool) -> Result<(Value, String)> {
    let profile = Profile::from_name(profile).map_err(|e| anyhow!("{e}"))?;
    if out.exists() && !force {
        return Err(anyhow!(
            "{} exists: pass --force to replace it",
            out.display()
        ));
    }
    let partial = out.with_extension("car.partial");
    let writer = std::io::BufWriter::new(
        std::fs::File::create(&partial)
            .map_err(|e| anyhow!("cannot write {}: {e}", partial.display()))?,
    );
    let root = match car::write_car(file, profile, writer) {
        Ok(root) => root,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(anyhow!("cannot export {}: {e}", file.display()));
        }
    };
    std::fs::rename(&partial, out)?;
    let text = cid_text(&root.cid)?;
    Ok((
        json!({"root": text, "car": out.display().to_string(), "profile": profile.name(), "blocks": root.blocks}),
        format!(
            "wrote {} (root {text}, {} blocks)",
            out.display(),
            root.blocks
        ),
    ))
}
