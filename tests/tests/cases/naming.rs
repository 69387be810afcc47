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

// ---- Issue 26 §9: events are named for what changed (`PackStatusChanged`), not always for the
// instruction that emits them. docs/ARCHITECTURE.md, "Events by instruction", maps each
// instruction to the events it emits; this test derives the map from the program's source and
// the IDL and fails when the two differ.

/// The heading of the table in docs/ARCHITECTURE.md.
const EVENTS_HEADING: &str = "## Events by instruction";

fn idl_names(key: &str) -> Vec<String> {
    let path = root().join("idl/careledger.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let idl: serde_json::Value = serde_json::from_str(&text).expect("the IDL is JSON");
    idl[key]
        .as_array()
        .unwrap_or_else(|| panic!("the IDL has no {key} array"))
        .iter()
        .map(|i| i["name"].as_str().expect("a name").to_owned())
        .collect()
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Source without its comment lines (doc comments name events an instruction does not emit).
fn code_of(source: &str) -> String {
    source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `text` holds `word` as a whole word followed (past spaces) by `next`.
fn word_then(text: &str, word: &str, next: char) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let rest = text[i + word.len()..].trim_start();
        !before.is_some_and(is_word) && rest.starts_with(next)
    })
}

/// Each `fn` with a body in `code`: its name and its text from `fn` to the closing brace.
fn fn_bodies(code: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    for (i, _) in code.match_indices("fn ") {
        if code[..i].chars().next_back().is_some_and(is_word) {
            continue;
        }
        let name: String = code[i + 3..].chars().take_while(|&c| is_word(c)).collect();
        // the body opens at the first `{` outside brackets; a `;` there first ends a
        // declaration without one (`[u8; 32]` in a signature is inside brackets)
        let mut depth = 0i32;
        let mut open = None;
        for (j, c) in code[i..].char_indices() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                '{' if depth == 0 => {
                    open = Some(i + j);
                    break;
                }
                ';' if depth == 0 => break,
                _ => {}
            }
        }
        let Some(open) = open else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        let mut depth = 0usize;
        let mut end = None;
        for (j, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(open + j + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        if let Some(end) = end {
            out.push((name, code[i..end].to_owned()));
        }
    }
    out
}

/// The events each instruction's source builds: in its own file, under an alias it imports from
/// `crate::events`, or in a helper of its domain (its `mod.rs` or a sibling instruction's file)
/// that it calls, three calls deep.
fn events_by_instruction() -> std::collections::BTreeMap<String, Vec<String>> {
    let events = idl_names("events");
    let instructions = idl_names("instructions");
    let mut out = std::collections::BTreeMap::new();
    let mut files = vec![];
    rust_files(
        &root().join("programs/careledger/src/instructions"),
        &mut files,
    );
    for file in &files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !instructions.iter().any(|i| i == stem) {
            continue;
        }
        let read = |p: &Path| {
            code_of(
                &std::fs::read_to_string(p)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", p.display())),
            )
        };
        let own = read(file);
        let helpers: Vec<(String, String)> = files
            .iter()
            .filter(|f| f.parent() == file.parent() && *f != file)
            .flat_map(|f| fn_bodies(&read(f)))
            .filter(|(name, _)| !matches!(name.as_str(), "handler" | "validate" | "new"))
            .collect();
        let mut text = own.clone();
        let mut frontier = vec![own.clone()];
        let mut called: Vec<&str> = vec![];
        for _ in 0..3 {
            let mut next = vec![];
            for t in &frontier {
                for (name, body) in &helpers {
                    if !called.contains(&name.as_str()) && word_then(t, name, '(') {
                        called.push(name);
                        next.push(body.clone());
                        text.push_str(body);
                    }
                }
            }
            frontier = next;
        }
        let aliases: Vec<(String, String)> = own
            .split("events::")
            .skip(1)
            .filter_map(|s| {
                let mut words = s.split_whitespace();
                let event = words.next()?;
                (words.next()? == "as").then(|| {
                    let alias: String = words.next()?.chars().take_while(|&c| is_word(c)).collect();
                    Some((event.to_owned(), alias))
                })?
            })
            .collect();
        let built: Vec<String> = events
            .iter()
            .filter(|e| {
                word_then(&text, e, '{')
                    || aliases
                        .iter()
                        .any(|(event, alias)| event == *e && word_then(&text, alias, '{'))
            })
            .cloned()
            .collect();
        out.insert(stem.to_owned(), built);
    }
    out
}

/// The table under [`EVENTS_HEADING`]: `| `instruction` | `Event`, `Event` |` rows.
fn documented_events() -> std::collections::BTreeMap<String, Vec<String>> {
    let path = root().join("docs/ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let section = text
        .split_once(EVENTS_HEADING)
        .unwrap_or_else(|| panic!("docs/ARCHITECTURE.md has no `{EVENTS_HEADING}` section"))
        .1;
    let section = section.split("\n## ").next().unwrap_or_default();
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().strip_prefix('|')?.split('|').collect();
            let name = ticked(cells.first()?).into_iter().next()?;
            let mut events = ticked(cells.get(1)?);
            events.sort();
            Some((name, events))
        })
        .collect()
}

#[test]
fn every_instruction_maps_to_the_events_it_emits_in_the_architecture_doc() {
    let derived = events_by_instruction();
    let instructions = idl_names("instructions");
    assert_eq!(
        derived.len(),
        instructions.len(),
        "an instruction file was not found for each IDL instruction: the scan is broken"
    );
    for event in idl_names("events") {
        assert!(
            derived.values().any(|list| list.contains(&event)),
            "no instruction builds the event {event}: the scan is broken, or the event is dead"
        );
    }
    let documented = documented_events();
    let table: String = derived
        .iter()
        .map(|(ix, events)| {
            let events: Vec<String> = events.iter().map(|e| format!("`{e}`")).collect();
            format!("| `{ix}` | {} |\n", events.join(", "))
        })
        .collect();
    assert!(
        documented == derived,
        "docs/ARCHITECTURE.md's `{EVENTS_HEADING}` table differs from the program's source; \
         its rows should read:\n{table}"
    );
}

#[test]
fn events_are_found_in_helpers_and_under_aliases_but_not_in_comments() {
    let code = code_of(
        "use crate::events::KeySet as KeySetEvent;\n\
         /// emits `Stray { .. }`\n\
         fn handler() { let e = KeySetEvent { a: 1 }; let p = pay(x); }\n\
         fn pay(x: [u8; 2]) -> Paid { Paid { x } }\n\
         fn declared(x: u8);",
    );
    assert!(word_then(&code, "KeySetEvent", '{'));
    assert!(!word_then(&code, "Stray", '{'));
    assert!(
        !word_then(&code, "Set", '{'),
        "a word's tail is not the word"
    );
    let bodies = fn_bodies(&code);
    let names: Vec<&str> = bodies.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["handler", "pay"]);
    assert!(word_then(&bodies[1].1, "Paid", '{'));
}
