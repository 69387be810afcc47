//! `careledger demo`: this binary run step by step on a temporary ledger folder, as a user would.
use anyhow::{bail, Result};
use serde_json::{json, Value};

/// The demo: this binary run step by step on a temporary ledger folder, as a user would.
pub fn execute() -> Result<(Value, String)> {
    let dir = std::env::temp_dir().join(format!("careledger-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let exe = std::env::current_exe()?;
    let path = |name: &str| dir.join(name).display().to_string();
    let url = format!("embedded:{}", path("ledger"));
    let run = |keypair: &str, args: &[&str]| -> Result<String> {
        println!("$ careledger -k {keypair} {}", args.join(" "));
        let out = std::process::Command::new(&exe)
            .args(["--url", &url, "--keypair", &path(keypair)])
            .args(args)
            .env("CARELEDGER_NO_PROGRESS", "1")
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() {
            bail!("{}", String::from_utf8_lossy(&out.stderr).trim());
        }
        println!("{text}\n");
        Ok(text)
    };
    for k in ["admin.json", "patient.json", "clinic.json"] {
        run(k, &["keygen", "--outfile", &path(k)])?;
    }
    let patient = run("patient.json", &["address"])?;
    let clinic = run("clinic.json", &["address"])?;
    std::fs::write(dir.join("licence.pdf"), b"licence document")?;
    std::fs::write(dir.join("lab.enc"), b"an encrypted lab result")?;
    run("admin.json", &["config", "init"])?;
    run("patient.json", &["patient", "register"])?;
    run(
        "clinic.json",
        &[
            "provider",
            "register",
            "--roles",
            "clinician",
            "--credential-file",
            &path("licence.pdf"),
        ],
    )?;
    run(
        "admin.json",
        &["authority", "verify", &clinic, "--roles", "clinician"],
    )?;
    run(
        "patient.json",
        &[
            "patient",
            "anchor",
            &path("lab.enc"),
            "--class",
            "lab-result",
        ],
    )?;
    run(
        "clinic.json",
        &[
            "provider",
            "request-access",
            &patient,
            "--purpose",
            "treatment",
            "--classes",
            "lab-result",
            "--reason",
            "12",
        ],
    )?;
    run("patient.json", &["patient", "requests", "list"])?;
    run("patient.json", &["patient", "requests", "approve", &clinic])?;
    run(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    )?;
    run("patient.json", &["patient", "revoke-all"])?;
    run(
        "clinic.json",
        &["provider", "log-access", &patient, "--record", "0"],
    )?;
    run("patient.json", &["patient", "show"])?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok((
        json!({ "demo": "done" }),
        "done: every step above left an audit event (`careledger patient audit`)".into(),
    ))
}
