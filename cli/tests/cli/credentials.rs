//! Provider credentials end to end: the credential authority issues a W3C credential and names
//! its hash on chain, anyone checks it against the ledger folder, and the did:sol documents
//! behind issuer and subject.
//!
//! Who gains by a false "valid", and the test here that they do not get one:
//! - a provider suspended after its credential was issued, still showing the credential;
//! - a provider that edits its credential (a later expiry, one more role): the proof breaks;
//! - a provider showing an older credential after the authority issued another;
//! - a stranger issuing credentials: the program refuses to name them, and nothing is written.
use super::Cli;
use base64::Engine;
use careledger_identity::{did, vc};
use careledger_sdk::{accounts::decode, pda, Provider, Pubkey};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::str::FromStr;

/// What the ledger folder's committed generation is, and the bytes of one account in it: a
/// command that changed nothing leaves both alone.
fn chain_state(cli: &Cli, address: &Pubkey) -> (std::path::PathBuf, Option<Vec<u8>>) {
    let root = Path::new(&cli.path("ledger")).to_path_buf();
    let generation = std::fs::read_link(root.join("current")).expect("current names a generation");
    let file = root
        .join("current/accounts")
        .join(format!("{address}.json"));
    (generation, std::fs::read(file).ok())
}

/// The provider account as the folder holds it, read from its file.
fn provider_account(cli: &Cli, wallet: &Pubkey) -> Provider {
    let address = pda::provider(wallet).0;
    let (_, bytes) = chain_state(cli, &address);
    let saved: Value = serde_json::from_slice(&bytes.expect("a provider account")).unwrap();
    let data = base64::engine::general_purpose::STANDARD
        .decode(saved["account"]["data"][0].as_str().unwrap())
        .unwrap();
    let owner = Pubkey::from_str(saved["account"]["owner"].as_str().unwrap()).unwrap();
    decode(&address, &owner, &data).expect("a provider account")
}

fn read_json(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &str, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

impl Cli {
    /// `credential verify FILE`: its exit code and its JSON answer.
    fn verdict(&self, keypair: &str, file: &str) -> (Option<i32>, Value) {
        let out = self.cmd(
            keypair,
            &["--output", "json-compact", "credential", "verify", file],
        );
        let output = out.get_output();
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        let answer = serde_json::from_str(text.lines().last().unwrap_or_default())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        (output.status.code(), answer)
    }

    /// `credential verify FILE` refuses the credential (exit 1), for `reason`, in both outputs,
    /// and the ledger is as it was.
    fn invalid(&self, file: &str, reason: &str, watched: &Pubkey) {
        let before = chain_state(self, watched);
        let (code, answer) = self.verdict("stranger.json", file);
        assert_eq!(code, Some(1), "{answer}");
        assert_eq!(answer["valid"], false);
        let said = answer["reason"].as_str().unwrap();
        assert!(said.contains(reason), "expected `{reason}` in: {said}");
        let out = self
            .cmd("stranger.json", &["credential", "verify", file])
            .failure();
        let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(text.starts_with("invalid: "), "{text}");
        assert!(text.contains(reason), "expected `{reason}` in: {text}");
        assert_eq!(
            before,
            chain_state(self, watched),
            "a verify changed the ledger"
        );
    }
}

#[test]
fn credentials_hold_only_while_the_ledger_names_them() {
    let cli = Cli::new();
    let authority = cli.keygen("admin.json");
    let clinic = cli.keygen("clinic.json");
    let stranger = cli.keygen("stranger.json");
    let clinic_key = Pubkey::from_str(&clinic).unwrap();
    let clinic_account = pda::provider(&clinic_key).0;
    std::fs::write(cli.path("licence.pdf"), b"licence document").unwrap();
    cli.ok("admin.json", &["config", "init"]);
    let licence = cli.path("licence.pdf");
    cli.ok(
        "clinic.json",
        &[
            "provider",
            "register",
            "--roles",
            "clinician",
            "--credential-file",
            &licence,
        ],
    );
    let cred = cli.path("cred.json");
    let issue = |keypair: &str, wallet: &str, roles: &str, out: &str| {
        cli.cmd(
            keypair,
            &[
                "--output",
                "json-compact",
                "authority",
                "issue-credential",
                wallet,
                "--roles",
                roles,
                "--days",
                "365",
                "--out",
                out,
            ],
        )
    };

    // an unregistered provider gets no credential: nothing on chain, no file
    let before = chain_state(
        &cli,
        &pda::provider(&Pubkey::from_str(&stranger).unwrap()).0,
    );
    cli.fails(
        "admin.json",
        &[
            "authority",
            "issue-credential",
            &stranger,
            "--roles",
            "lab",
            "--out",
            &cred,
        ],
        &format!("{stranger} is not a registered provider"),
    );
    assert_eq!(before.1, None);
    assert_eq!(
        before,
        chain_state(
            &cli,
            &pda::provider(&Pubkey::from_str(&stranger).unwrap()).0
        )
    );
    assert!(!Path::new(&cred).exists());

    // only the credential authority names a credential on chain; a refused one leaves no file
    let before = chain_state(&cli, &clinic_account);
    let refused = issue("stranger.json", &clinic, "clinician,lab", &cred).failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    assert!(
        stderr.contains("careledger refused: NotCredentialAuthority (6006)"),
        "{stderr}"
    );
    assert_eq!(before, chain_state(&cli, &clinic_account));
    let left: Vec<_> = std::fs::read_dir(cli.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with(".credential-") || name == "cred.json")
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // the authority issues: the provider is verified with the credential's roles, expiry and hash
    let issued = issue("admin.json", &clinic, "lab,clinician", &cred).success();
    let issued: Value = serde_json::from_slice(&issued.get_output().stdout).unwrap();
    assert_eq!(issued["events"][0], "ProviderVerified");
    assert_eq!(issued["events"][1], "ProviderCredentialSet");
    assert_eq!(issued["roles"], serde_json::json!(["clinician", "lab"]));
    let mode = std::fs::metadata(&cred).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    let credential = read_json(&cred);
    let verified = vc::verify_proof(&credential).unwrap();
    let on_chain = provider_account(&cli, &clinic_key);
    assert_eq!(on_chain.credential_ref, vc::credential_ref(&credential));
    assert_eq!(
        issued["credential_ref"],
        careledger_server::common::hex(&on_chain.credential_ref)
    );
    assert_eq!(on_chain.credential_expires_at, verified.claims.valid_until);
    assert_eq!(on_chain.roles, verified.claims.role_mask().unwrap());
    assert_eq!(on_chain.verified_by.to_string(), authority);
    assert_eq!(credential["issuer"], did::did_of(&on_chain.verified_by));
    // --out is not overwritten by accident
    let before = chain_state(&cli, &clinic_account);
    cli.fails(
        "admin.json",
        &[
            "authority",
            "issue-credential",
            &clinic,
            "--roles",
            "lab",
            "--out",
            &cred,
        ],
        "cred.json exists: refusing to overwrite it",
    );
    assert_eq!(before, chain_state(&cli, &clinic_account));

    // anyone checks it against the ledger
    let before = chain_state(&cli, &clinic_account);
    let (code, answer) = cli.verdict("stranger.json", &cred);
    assert_eq!(code, Some(0), "{answer}");
    assert_eq!(answer["valid"], true);
    assert_eq!(answer["provider"], format!("did:sol:{clinic}"));
    assert_eq!(answer["issuer"], format!("did:sol:{authority}"));
    let text = cli.ok("stranger.json", &["credential", "verify", &cred]);
    assert!(
        text.starts_with(&format!(
            "valid: did:sol:{clinic} roles clinician, lab until {}",
            credential["validUntil"].as_str().unwrap()
        )),
        "{text}"
    );
    assert_eq!(before, chain_state(&cli, &clinic_account));

    // one byte of the credential changed: a later expiry (by seconds), or one more role
    let text = std::fs::read_to_string(&cred).unwrap();
    let until = credential["validUntil"].as_str().unwrap();
    let last = until.as_bytes()[until.len() - 2];
    let later = format!(
        "{}{}Z",
        &until[..until.len() - 2],
        if last == b'9' {
            '8'
        } else {
            (last + 1) as char
        }
    );
    assert_eq!(text.matches(until).count(), 1);
    let later_path = cli.path("later.json");
    std::fs::write(&later_path, text.replace(until, &later)).unwrap();
    let broken = "the proof does not verify: the credential was changed after it was signed";
    cli.invalid(&later_path, broken, &clinic_account);
    let mut more_roles = credential.clone();
    more_roles["credentialSubject"]["roles"] = serde_json::json!(["clinician", "lab", "emergency"]);
    let roles_path = cli.path("more-roles.json");
    write_json(&roles_path, &more_roles);
    cli.invalid(&roles_path, broken, &clinic_account);

    // files that are no credential at all
    let not_json = cli.path("not-json.json");
    std::fs::write(&not_json, &text[..text.len() / 2]).unwrap();
    let out = cli
        .cmd("stranger.json", &["credential", "verify", &not_json])
        .failure();
    assert_eq!(out.get_output().status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("not-json.json is not JSON"), "{stderr}");
    let empty = cli.path("empty-object.json");
    std::fs::write(&empty, "{}").unwrap();
    cli.invalid(
        &empty,
        "malformed credential: `@context` is missing",
        &clinic_account,
    );
    let missing = cli.path("no-such.json");
    let out = cli
        .cmd("stranger.json", &["credential", "verify", &missing])
        .failure();
    assert_eq!(out.get_output().status.code(), Some(2));

    // the authority issues another credential: the first one names another credential now
    let second = cli.path("second.json");
    issue("admin.json", &clinic, "clinician", &second).success();
    let replaced = provider_account(&cli, &clinic_key);
    assert_eq!(
        replaced.credential_ref,
        vc::credential_ref(&read_json(&second))
    );
    cli.invalid(
        &cred,
        "the on-chain credential_ref names a different credential",
        &clinic_account,
    );
    assert_eq!(cli.verdict("stranger.json", &second).0, Some(0));

    // suspended: the current credential stops holding
    cli.ok(
        "admin.json",
        &["authority", "suspend", &clinic, "--reason", "7"],
    );
    cli.invalid(
        &second,
        "the provider is suspended on chain (reason code 7)",
        &clinic_account,
    );
}

#[test]
fn did_documents_show_the_published_key_agreement() {
    let cli = Cli::new();
    cli.keygen("admin.json");
    let clinic = cli.keygen("clinic.json");
    cli.ok("admin.json", &["config", "init"]);
    let id = format!("did:sol:{clinic}");

    let doc = cli.json("admin.json", &["did", &clinic]);
    assert_eq!(doc["id"], id);
    assert_eq!(doc["assertionMethod"][0], format!("{id}#default"));
    assert_eq!(doc.get("keyAgreement"), None, "{doc}");
    // the human form is the same document
    let text = cli.ok("admin.json", &["did", &clinic]);
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), doc);

    let made = cli.json(
        "clinic.json",
        &["keys", "new", "--outfile", &cli.path("clinic.x25519")],
    );
    let public: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(made["x25519"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    cli.ok(
        "clinic.json",
        &[
            "keys",
            "publish",
            "--x25519-key",
            &cli.path("clinic.x25519"),
        ],
    );
    let doc = cli.json("admin.json", &["did", &clinic]);
    let agreement = format!("{id}#key-agreement");
    assert_eq!(doc["keyAgreement"], serde_json::json!([agreement]));
    let method = doc["verificationMethod"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == agreement)
        .expect("the key-agreement method");
    assert_eq!(method["publicKeyMultibase"], did::x25519_multikey(&public));
    assert_eq!(
        did::decode_x25519_multikey(method["publicKeyMultibase"].as_str().unwrap()).unwrap(),
        public
    );

    // --out writes the same document (0644) and does not overwrite a file
    let out = cli.path("clinic-did.json");
    let said = cli.ok("admin.json", &["did", &clinic, "--out", &out]);
    assert!(said.contains("keyAgreement: its X25519 key v1"), "{said}");
    assert_eq!(read_json(&out), doc);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    cli.fails(
        "admin.json",
        &["did", &clinic, "--out", &out],
        "clinic-did.json exists: refusing to overwrite it",
    );
    cli.fails(
        "admin.json",
        &["did", "abc"],
        "`abc` is not a valid address",
    );
}
