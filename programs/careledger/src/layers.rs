//! The layers point one way (lib.rs): `logic` reads `state` and the base, `state` reads only the
//! base. These tests read the source files and name every `crate::` path against the grain.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The base every layer may use.
const BASE: [&str; 3] = ["constants", "errors", "ID"];

/// What each layer may import from this crate besides the base, and why.
const LAYERS: [(&str, &[&str], &str); 2] = [
    (
        "logic",
        &["logic", "state"],
        "logic is pure rules over state types and plain values; it never imports instructions, \
         vault, create or events",
    ),
    (
        "state",
        &["state"],
        "state holds account types and their own shape; a rule an account needs lives in logic \
         and the instruction applies it",
    ),
];

/// `source` without its comments (line, block and doc), string literals kept.
fn strip_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut last = ' ';
                for skipped in chars.by_ref() {
                    if last == '*' && skipped == '/' {
                        break;
                    }
                    last = skipped;
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first path segment of each item in a `{...}` group that starts at `rest` (just after the
/// brace), at the group's top level.
fn group_heads(rest: &str, heads: &mut BTreeSet<String>) {
    let mut depth = 0usize;
    let mut item_start = true;
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            '*' if item_start && depth == 0 => {
                heads.insert("*".to_string());
                item_start = false;
            }
            c if item_start && depth == 0 && is_ident(c) => {
                let ident: String = rest[i..].chars().take_while(|c| is_ident(*c)).collect();
                for _ in 1..ident.chars().count() {
                    chars.next();
                }
                heads.insert(ident);
                item_start = false;
            }
            _ => {}
        }
    }
}

/// The modules (and items) of this crate that `source` names through `crate::`, whether in a
/// `use` or inline, grouped or not; a glob (`crate::*`) is reported as `*`. `super::super`
/// (which escapes a layer's directory) is reported as itself.
pub(crate) fn crate_paths(source: &str) -> BTreeSet<String> {
    paths_from(source, "crate", false)
}

/// As `crate_paths`, for a layer's own `mod.rs`, where `super::` outside any item (a nested
/// `mod tests` has its own `super`) is the crate root too.
fn root_paths(source: &str) -> BTreeSet<String> {
    let mut heads = crate_paths(source);
    heads.extend(
        paths_from(source, "super", true)
            .into_iter()
            .filter(|head| head != "super" && head != "super::super"),
    );
    heads
}

/// How many braces are open at the end of `code`.
fn depth(code: &str) -> usize {
    code.chars().fold(0usize, |open, c| match c {
        '{' => open.saturating_add(1),
        '}' => open.saturating_sub(1),
        _ => open,
    })
}

/// The first segment after each `<root>::` in `source`, comments left out; with `top_level`,
/// only those outside every brace.
fn paths_from(source: &str, root: &str, top_level: bool) -> BTreeSet<String> {
    let code = strip_comments(source);
    let mut heads = BTreeSet::new();
    if code.contains("super::super") {
        heads.insert("super::super".to_string());
    }
    let mut at = 0;
    while let Some(found) = code[at..].find(root) {
        let start = at + found;
        at = start + root.len();
        let before = code[..start].chars().next_back();
        if before.is_some_and(is_ident) || code[at..].starts_with(is_ident) {
            continue;
        }
        if top_level && depth(&code[..start]) > 0 {
            continue;
        }
        let rest = code[at..].trim_start();
        let Some(rest) = rest.strip_prefix("::") else {
            continue;
        };
        let rest = rest.trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            group_heads(group, &mut heads);
        } else if rest.starts_with('*') {
            heads.insert("*".to_string());
        } else {
            let ident: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !ident.is_empty() {
                heads.insert(ident);
            }
        }
    }
    heads
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import against the grain in the program's source, one line each.
pub(crate) fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for (layer, allowed, why) in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        files.sort();
        assert!(!files.is_empty(), "no source files under {layer}/");
        for file in files {
            let source = std::fs::read_to_string(&file).expect("read a source file");
            let heads = if file == src.join(layer).join("mod.rs") {
                root_paths(&source)
            } else {
                crate_paths(&source)
            };
            for head in heads {
                if !allowed.contains(&head.as_str()) && !BASE.contains(&head.as_str()) {
                    let name = file.strip_prefix(src).unwrap_or(&file).display();
                    found.push(format!("{name} imports crate::{head}: {why}"));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn layers_point_one_way() {
        let found = violations(&src());
        assert!(
            found.is_empty(),
            "imports against the layers (lib.rs):\n{}",
            found.join("\n")
        );
    }

    /// The check itself: each way an import can be written is seen, comments are not.
    #[test]
    fn layer_check_sees_every_way_to_import() {
        let heads = |s: &str| crate_paths(s).into_iter().collect::<Vec<_>>();
        assert_eq!(
            heads("use crate::instructions::ClaimSubmitArgs;"),
            ["instructions"]
        );
        assert_eq!(
            heads("use crate::{\n    errors::E,\n    logic::{a, b::{c}},\n    state::*,\n};"),
            ["errors", "logic", "state"]
        );
        assert_eq!(heads("let x = crate :: logic::keys::f(1);"), ["logic"]);
        assert_eq!(
            heads("use super::super::instructions::X;"),
            ["super::super"]
        );
        assert!(
            heads("// use crate::logic::x;\n/// `crate::logic::y`\n/* crate::vault */").is_empty()
        );
        assert_eq!(
            heads(r#"let s = "// not a comment"; use crate::vault::f;"#),
            ["vault"]
        );
        assert!(heads("use notcrate::logic; let my_crate = 1;").is_empty());
        assert_eq!(heads("use crate::*;"), ["*"]);
        assert_eq!(heads("use crate::{state::X, *};"), ["*", "state"]);
        assert!(heads("use crate_name::logic;").is_empty());
        let root = |s: &str| root_paths(s).into_iter().collect::<Vec<_>>();
        assert_eq!(
            root("pub mod a;\nuse super::instructions::X;\nuse super::*;"),
            ["*", "instructions"]
        );
        assert!(root("pub mod a;\nmod tests {\n    use super::*;\n}").is_empty());
    }

    /// A copy of the source with one import against the grain is reported, naming the file.
    #[test]
    fn layer_check_fails_on_a_state_file_that_imports_logic() {
        let dir = std::env::temp_dir().join(format!("careledger-layers-{}", std::process::id()));
        for layer in ["logic", "state"] {
            std::fs::create_dir_all(dir.join(layer)).expect("temp dirs");
        }
        std::fs::write(dir.join("logic/ok.rs"), "use crate::state::Patient;\n").expect("write");
        std::fs::write(
            dir.join("state/bad.rs"),
            "use crate::errors::E;\nuse crate::logic::keys::is_usable_x25519;\n",
        )
        .expect("write");
        let found = violations(&dir);
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("state/bad.rs imports crate::logic"),
            "{found:?}"
        );
    }
}
