//! No two files import each other, directly or around a loop (issue 26: "no import cycle
//! remains between files"). Each crate's `src/` is read as text: every `crate::` and `super::`
//! path outside comments and `#[cfg(test)]` modules is an edge from its file to the deepest
//! module file it names; a file naming one of its own ancestors (a `mod.rs` or `lib.rs` that
//! declares it) is not an edge. The strongly connected components of that graph must be single
//! files, but for the cycles listed in `KNOWN`, with why each is still there.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each crate's source directory, from the workspace root.
const CRATES: &[&str] = &[
    "programs/careledger/src",
    "sdk/src",
    "records/src",
    "identity/src",
    "supply/src",
    "stream-cipher/src",
    "localnet/src",
    "cli/src",
    "server/src",
    "tests/src",
    "migrations/src",
];

/// Cycles still there, by crate and modules: none. (The last, the localnet's chain, PubSub and
/// JSON-RPC, was broken in issue 26: the subscriptions, the transaction record and the
/// parameter helpers are modules of their own that import none of the three.)
const KNOWN: &[(&str, &[&str])] = &[];

type Module = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(root: &Path, file: &Path) -> Module {
    let rel = file
        .strip_prefix(root)
        .expect("under root")
        .with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The code of a file: comment lines dropped, and everything from the first `#[cfg(test)]`
/// module on.
fn code_of(text: &str) -> String {
    let code: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    let code = code.join("\n");
    let mut cut = code.len();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]") {
        let after = code[from + at + "#[cfg(test)]".len()..].trim_start();
        if after.starts_with("mod ") || after.starts_with("pub mod ") {
            cut = from + at;
            break;
        }
        from += at + 1;
    }
    code[..cut].to_string()
}

fn ident_path(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        out.push(rest[..len].to_string());
        rest = &rest[len..];
        match rest.strip_prefix("::") {
            Some(next) => rest = next,
            None => break,
        }
    }
    out
}

/// The paths named after `prefix::` at `text`: one, or each item of a `{...}` group.
fn paths_after(text: &str) -> Vec<Vec<String>> {
    let head = ident_path(text);
    let consumed: usize = head.iter().map(|s| s.len() + 2).sum();
    let rest = text.get(consumed..).unwrap_or("");
    if let Some(group) = rest.strip_prefix('{') {
        let end = group.find('}').unwrap_or(group.len());
        return group[..end]
            .split(',')
            .map(|item| {
                let mut p = head.clone();
                p.extend(ident_path(item.trim()));
                p
            })
            .collect();
    }
    if head.is_empty() {
        Vec::new()
    } else {
        vec![head]
    }
}

fn edges(root: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let modules: BTreeMap<Module, PathBuf> = files
        .iter()
        .map(|f| (module_of(root, f), f.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let code = code_of(&std::fs::read_to_string(file).expect("source"));
        // `super::` names the parent module, from `a/b.rs` as from `a/b/mod.rs`
        let parent: Module = module[..module.len().saturating_sub(1)].to_vec();
        let mut deps = BTreeSet::new();
        for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
            let mut from = 0;
            while let Some(at) = code[from..].find(prefix) {
                let start = from + at;
                from = start + prefix.len();
                let before = code[..start].chars().last();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$') {
                    continue;
                }
                for path in paths_after(&code[from..]) {
                    let mut full = base.clone();
                    let mut best: Option<Module> = None;
                    for segment in path {
                        full.push(segment);
                        if modules.contains_key(&full) {
                            best = Some(full.clone());
                        }
                    }
                    if let Some(target) = best {
                        let ancestor = target.len() < module.len() && module.starts_with(&target);
                        if target != *module && !ancestor {
                            deps.insert(target);
                        }
                    }
                }
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<BTreeSet<Module>> {
    struct State<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on_stack: BTreeSet<&'a Module>,
        found: Vec<BTreeSet<Module>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.insert(w.clone());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

fn names(component: &BTreeSet<Module>) -> Vec<String> {
    component
        .iter()
        .map(|m| {
            if m.is_empty() {
                "lib".into()
            } else {
                m.join("::")
            }
        })
        .collect()
}

#[test]
fn no_file_imports_a_file_that_imports_it() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for krate in CRATES {
        for component in cycles(&edges(&workspace.join(krate))) {
            found.push((krate.to_string(), names(&component)));
        }
    }
    let known: Vec<(String, Vec<String>)> = KNOWN
        .iter()
        .map(|(k, m)| (k.to_string(), m.iter().map(|s| s.to_string()).collect()))
        .collect();
    assert_eq!(
        found, known,
        "import cycles between files (crate, modules); break the new one, or update KNOWN if one was broken"
    );
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let m = |s: &str| vec![s.to_string()];
    let graph: BTreeMap<Module, BTreeSet<Module>> = [
        (m("a"), [m("b")].into()),
        (m("b"), [m("c")].into()),
        (m("c"), [m("a")].into()),
        (m("d"), [m("a")].into()),
    ]
    .into();
    assert_eq!(
        cycles(&graph).iter().map(names).collect::<Vec<_>>(),
        vec![vec!["a", "b", "c"]]
    );
    assert_eq!(
        paths_after("{accounts::Memcmp, events}"),
        vec![vec!["accounts", "Memcmp"], vec!["events"]]
    );
}
