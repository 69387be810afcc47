//! `cargo run -p careledger-tests --bin idl [-- --check]`: builds the program's IDL with
//! Anchor's own builder (`anchor-lang-idl`, what `anchor idl build` runs: the program's
//! `idl-build` feature on the host, no SBF toolchain) and writes `idl/careledger.json`, or with
//! `--check` fails if the committed file differs from a fresh build.
use anchor_lang_idl::build::IdlBuilder;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let check = std::env::args().any(|a| a == "--check");
    // A separate target dir: the builder sets RUSTFLAGS, which would otherwise invalidate the
    // workspace's build cache.
    let target = root.join("target").join("idl-build");
    // anchor-lang-idl 0.1.4 turns a set RUSTUP_TOOLCHAIN (cargo run sets it) into a literal
    // `+{toolchain}` argument and a rustup download: build with the toolchain in use instead.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = match IdlBuilder::new()
        .program_path(root.join("programs").join("careledger"))
        .cargo_args(vec!["--target-dir".into(), target.display().to_string()])
        .build()
    {
        Ok(idl) => idl,
        Err(e) => {
            eprintln!("building the IDL failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = serde_json::to_string_pretty(&idl).expect("IDL serializes") + "\n";
    let path = root.join("idl").join("careledger.json");
    if check {
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != json {
            eprintln!(
                "{} is out of date: run `cargo run -p careledger-tests --bin idl` and commit it",
                path.display()
            );
            return ExitCode::FAILURE;
        }
        println!("{} matches the program", path.display());
        return ExitCode::SUCCESS;
    }
    std::fs::create_dir_all(path.parent().expect("idl dir")).expect("create idl/");
    std::fs::write(&path, json).expect("write the IDL");
    println!("wrote {}", path.display());
    ExitCode::SUCCESS
}
