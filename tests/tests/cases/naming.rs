//! Issue 26 §8: a newcomer looking for how an instruction is tested finds it by name. Every
//! instruction in the IDL has at least one `#[test]` whose fn name contains the instruction's
//! name (`batch_commission_…`, `claim_settle_…`), in the program, the SDK, the CLI or these suites.
use std::path::{Path, PathBuf};

/// The source directories whose tests count, from the workspace root.
const TEST_DIRS: [&str; 4] = [
    "tests/tests",
    "cli/tests",
    "programs/careledger/src",
    "sdk/src",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn instruction_names() -> Vec<String> {
    let path = root().join("idl/careledger.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let idl: serde_json::Value = serde_json::from_str(&text).expect("the IDL is JSON");
    idl["instructions"]
        .as_array()
        .expect("the IDL has an instructions array")
        .iter()
        .map(|i| i["name"].as_str().expect("an instruction name").to_owned())
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The length of the attribute `#[…]` that opens `s`, brackets balanced.
fn attribute_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The name of the fn that follows, past further attributes, line comments and qualifiers.
fn fn_after(mut s: &str) -> Option<String> {
    loop {
        s = s.trim_start();
        if s.starts_with("#[") {
            s = &s[attribute_len(s)?..];
        } else if s.starts_with("//") {
            s = &s[s.find('\n')?..];
        } else if let Some(rest) = ["pub(crate) ", "pub ", "async ", "unsafe "]
            .iter()
            .find_map(|k| s.strip_prefix(k))
        {
            s = rest;
        } else {
            break;
        }
    }
    let name: String = s
        .strip_prefix("fn ")?
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// The fns marked `#[test]` or `#[tokio::test(…)]` in `source`: the attribute opens a line, and
/// other attributes and comments may stand between it and the fn.
fn test_fn_names(source: &str) -> Vec<String> {
    let mut names = vec![];
    for (at, _) in source.match_indices("#[") {
        let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
        if !source[line_start..at].trim().is_empty() {
            continue;
        }
        let rest = &source[at..];
        let Some(len) = attribute_len(rest) else {
            continue;
        };
        let attribute: String = rest[2..len - 1]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let path = attribute.split('(').next().unwrap_or_default();
        if path != "test" && path != "tokio::test" {
            continue;
        }
        names.extend(fn_after(&rest[len..]));
    }
    names
}

#[test]
fn every_instruction_has_a_test_named_after_it() {
    let mut tests = vec![];
    for dir in TEST_DIRS {
        let mut files = vec![];
        rust_files(&root().join(dir), &mut files);
        for file in files {
            let source = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
            tests.extend(test_fn_names(&source));
        }
    }
    assert!(
        tests.len() > 100,
        "only {} tests found in {TEST_DIRS:?}: the scan is broken",
        tests.len()
    );
    let instructions = instruction_names();
    assert!(!instructions.is_empty(), "the IDL names no instructions");
    let missing: Vec<&str> = instructions
        .iter()
        .map(String::as_str)
        .filter(|i| !tests.iter().any(|t| t.contains(i)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} instructions have no test whose fn name contains the instruction's name \
         (in {TEST_DIRS:?}); name a test that exercises each after it: {}",
        missing.len(),
        instructions.len(),
        missing.join(", ")
    );
}

#[test]
fn test_fns_are_found_under_stacked_attributes_and_nowhere_else() {
    let source = r##"
#[test]
fn plain() {}
    #[tokio::test(flavor = "multi_thread")]
    #[ignore = "needs [a] cluster"]
    // why it waits
    async fn stacked() {}
#[cfg(test)]
fn helper() {}
    let s = "#[test] fn in_a_string() {}";
#[test]
pub(crate) fn public_one() {}
/// #[test]
fn in_a_doc_comment() {}
"##;
    assert_eq!(test_fn_names(source), ["plain", "stacked", "public_one"]);
}
