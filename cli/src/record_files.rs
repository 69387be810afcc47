//! Records as files in the CLI: sealing a file into a file with a progress bar, and the bar a
//! release shows. The gateway's protocol and client are `careledger_records`.
use anyhow::{anyhow, Context, Result};
use careledger_records::envelope::{DataKey, RecordIdentity};
use careledger_records::unixfs::Profile;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Removes a file on drop unless kept (`keep`).
pub struct Scratch(Option<PathBuf>);

impl Scratch {
    pub fn new(path: PathBuf) -> Scratch {
        Scratch(Some(path))
    }

    pub fn keep(&mut self) {
        self.0 = None;
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A progress bar for large files (hidden below 8 MiB, or with CARELEDGER_NO_PROGRESS set).
pub fn progress(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    if total < 8 << 20 || std::env::var_os("CARELEDGER_NO_PROGRESS").is_some() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

/// What a sealed ciphertext hashed to while it was written.
pub struct Sealed {
    pub sha256: [u8; 32],
    pub cid: Vec<u8>,
    pub bytes: u64,
}

/// Encrypts `file` into `out`, hashing and computing the CID of the ciphertext in the same pass
/// (`careledger_records::sealing`: the file is read once, never held in memory).
pub fn seal(
    file: &Path,
    identity: &RecordIdentity,
    key: &DataKey,
    profile: Profile,
    out: &Path,
) -> Result<Sealed> {
    let out_file =
        std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?;
    seal_into(file, identity, key, profile, out_file)
}

/// [`seal`], appending the ciphertext to an open file at its current position.
pub fn seal_into(
    file: &Path,
    identity: &RecordIdentity,
    key: &DataKey,
    profile: Profile,
    out: std::fs::File,
) -> Result<Sealed> {
    let size = std::fs::metadata(file)
        .with_context(|| format!("cannot read {}", file.display()))?
        .len();
    let bar = progress(size);
    let reader =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let reader = bar.wrap_read(std::io::BufReader::with_capacity(1 << 20, reader));
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, out);
    let sealed = careledger_records::sealing::seal(identity, key, profile, reader, |piece| {
        writer
            .write_all(piece)
            .map_err(careledger_records::RecordsError::Io)
    })
    .map_err(|e| anyhow!("cannot encrypt {}: {e}", file.display()))?;
    writer.flush()?;
    writer.get_ref().sync_all()?;
    bar.finish_and_clear();
    Ok(Sealed {
        sha256: sealed.sha256,
        cid: sealed.cid,
        bytes: sealed.ciphertext_len,
    })
}

/// The bar a release's transfer shows ([`progress`]'s rules).
pub fn release_progress(total: u64) -> Box<dyn careledger_records::client::Progress> {
    Box::new(Bar(progress(total)))
}

struct Bar(indicatif::ProgressBar);

impl careledger_records::client::Progress for Bar {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}
