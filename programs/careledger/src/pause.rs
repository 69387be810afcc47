//! What still works while the program is paused, written once. Every other instruction's
//! accounts refuse a paused config (`constraint = !config.paused`); the tests below hold this
//! list against those accounts, the instruction docs in lib.rs (which go into the IDL),
//! README.md and docs/SECURITY.md, and name any instruction one of them has wrong.

/// How an instruction runs while the program is paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhilePaused {
    /// Whole: it only limits harm or manages the program.
    Runs,
    /// Only in the case these words name (the docs say them right after the instruction).
    Only(&'static str),
}

use WhilePaused::{Only, Runs};

/// The instructions a pause does not stop. `config_init` is not among them: it creates the
/// config, so there is nothing to pause before it.
pub const WORKS_WHILE_PAUSED: [(&str, WhilePaused); 18] = [
    // the admin's own settings and hand-over, and the accepted-mint list
    ("config_propose_admin", Runs),
    ("config_accept_admin", Runs),
    ("config_set_paused", Runs),
    ("config_update", Runs),
    ("mint_accept", Runs),
    ("mint_remove", Runs),
    // acts that only take rights away, end something, or protect a party
    ("provider_suspend", Runs),
    ("encryption_key_set", Runs),
    ("patient_set_guardian", Only("only clearing the guardian")),
    ("patient_require_statements", Runs),
    ("grant_revoke", Runs),
    ("grant_revoke_all", Runs),
    ("policy_set_status", Only("only suspending")),
    ("network_remove", Runs),
    ("study_close_enrolment", Runs),
    ("invitation_close", Runs),
    ("participation_end", Runs),
    ("batch_recall", Runs),
];

/// How `instruction` runs while paused; `None` when a pause refuses it.
pub fn while_paused(instruction: &str) -> Option<WhilePaused> {
    WORKS_WHILE_PAUSED
        .iter()
        .find(|(name, _)| *name == instruction)
        .map(|(_, how)| *how)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    /// The instruction that creates the config: no pause can come before it.
    const BEFORE_ANY_CONFIG: &str = "config_init";

    fn crate_dir() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// `text` with every run of whitespace (line breaks and `///` continuations included) made
    /// one space.
    fn one_line(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Each instruction of the `#[program]` module in lib.rs, with its doc comment on one line.
    fn lib_instructions() -> Vec<(String, String)> {
        let lib = read(&crate_dir().join("src/lib.rs"));
        let mut out = Vec::new();
        let mut doc = Vec::new();
        for line in lib.lines().map(str::trim) {
            if let Some(text) = line.strip_prefix("///") {
                doc.push(text.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("pub fn ") {
                let name: String = rest.chars().take_while(|c| *c != '(').collect();
                out.push((name, one_line(&doc.join(" "))));
                doc.clear();
            } else if !line.starts_with("#[") {
                doc.clear();
            }
        }
        assert!(out.len() > 50, "lib.rs lists {} instructions", out.len());
        out
    }

    fn names(list: &[(String, String)]) -> BTreeSet<String> {
        list.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The paragraph of `doc` that starts at the line containing `marker`: up to a blank line,
    /// a heading, a table row or the next list item.
    fn paragraph(doc: &str, marker: &str) -> String {
        let mut lines = doc.lines().skip_while(|l| !l.contains(marker));
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("no paragraph with {marker:?}"));
        let rest = lines.take_while(|l| {
            let l = l.trim_start();
            !(l.is_empty() || l.starts_with("- ") || l.starts_with('#') || l.starts_with('|'))
        });
        one_line(
            &std::iter::once(first)
                .chain(rest)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    /// The instructions a paragraph names (in backticks).
    fn named_in(text: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .filter(|word| known.contains(*word))
            .map(str::to_string)
            .collect()
    }

    /// Where `text` (the doc at `place`) disagrees with the list: instructions missing or extra,
    /// and a conditional one named without its condition.
    fn disagreements(place: &str, text: &str, known: &BTreeSet<String>) -> Vec<String> {
        let listed: BTreeSet<String> = WORKS_WHILE_PAUSED
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        let named = named_in(text, known);
        let mut found = Vec::new();
        for missing in listed.difference(&named) {
            found.push(format!(
                "{place} does not name `{missing}`, which works while paused"
            ));
        }
        for extra in named.difference(&listed) {
            found.push(format!("{place} names `{extra}`, which a pause stops"));
        }
        for (name, how) in WORKS_WHILE_PAUSED {
            if let Only(case) = how {
                if named.contains(name) && !text.contains(&format!("`{name}` ({case}")) {
                    found.push(format!("{place} names `{name}` without \"({case}\""));
                }
            }
        }
        found
    }

    #[test]
    fn works_while_paused_lists_real_instructions() {
        let known = names(&lib_instructions());
        for (name, _) in WORKS_WHILE_PAUSED {
            assert!(known.contains(name), "`{name}` is not an instruction");
        }
        assert_eq!(while_paused("grant_revoke"), Some(Runs));
        assert_eq!(while_paused("grant_create"), None);
    }

    /// The list matches the code: every instruction whose accounts lack the `!config.paused`
    /// constraint is on it, and those that read `config.paused` themselves are conditional.
    #[test]
    fn works_while_paused_matches_the_accounts() {
        let mut found = Vec::new();
        for (name, _) in lib_instructions() {
            let files: Vec<PathBuf> = std::fs::read_dir(crate_dir().join("src/instructions"))
                .expect("instructions/")
                .map(|domain| domain.expect("entry").path().join(format!("{name}.rs")))
                .filter(|path| path.exists())
                .collect();
            assert_eq!(files.len(), 1, "one file for `{name}`: {files:?}");
            let source = read(&files[0]);
            let refused = source.contains("constraint = !config.paused @ CareledgerError::Paused");
            let decides = source.contains("self.config.paused");
            let expected = match (refused, decides) {
                (true, _) => None,
                (false, true) => Some("conditional"),
                (false, false) if name == BEFORE_ANY_CONFIG => None,
                (false, false) => Some("whole"),
            };
            let listed = match while_paused(&name) {
                None => None,
                Some(Only(_)) => Some("conditional"),
                Some(Runs) => Some("whole"),
            };
            if expected != listed {
                found.push(format!(
                    "`{name}`: its accounts make it {}, WORKS_WHILE_PAUSED {}",
                    expected.map_or("stop while paused".into(), |h| format!(
                        "run {h} while paused"
                    )),
                    listed.map_or("omits it".into(), |h| format!("says it runs {h}")),
                ));
            }
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    /// The IDL's docs: each instruction on the list says it works while paused, or (the admin's
    /// settings and hand-over) `config_set_paused` says so for it; none off the list says so.
    #[test]
    fn lib_docs_say_what_works_while_paused() {
        let instructions = lib_instructions();
        let doc = |name: &str| {
            instructions
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d.clone())
                .unwrap_or_default()
        };
        let admin_phrase = "the admin's own settings and hand-over";
        let mut found = Vec::new();
        for (name, text) in &instructions {
            let says = text.contains("while paused");
            let by_config_set_paused =
                name.starts_with("config_") && doc("config_set_paused").contains(admin_phrase);
            match while_paused(name) {
                Some(_) if !says && !by_config_set_paused => found.push(format!(
                    "lib.rs: the doc of `{name}` does not say it works while paused"
                )),
                None if says => found.push(format!(
                    "lib.rs: the doc of `{name}` says it works while paused; a pause stops it"
                )),
                _ => {}
            }
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    fn check_doc(relative: &str, marker: &str) {
        let path = crate_dir().join("../..").join(relative);
        let text = paragraph(&read(&path), marker);
        let found = disagreements(relative, &text, &names(&lib_instructions()));
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    #[test]
    fn readme_names_what_works_while_paused() {
        check_doc("README.md", "Pause stops every state change except");
    }

    #[test]
    fn security_names_what_works_while_paused() {
        check_doc(
            "docs/SECURITY.md",
            "The pause switch stops every state change except",
        );
    }

    /// The doc check itself: a missing, an extra and an unqualified instruction are each named.
    #[test]
    fn pause_doc_check_names_each_disagreement() {
        let known = names(&lib_instructions());
        let all: Vec<String> = WORKS_WHILE_PAUSED
            .iter()
            .map(|(name, how)| match how {
                Runs => format!("`{name}`"),
                Only(case) => format!("`{name}` ({case})"),
            })
            .collect();
        let good = all.join(", ");
        assert!(disagreements("doc", &good, &known).is_empty());
        let without_recall = good.replace("`batch_recall`", "recalls");
        assert_eq!(
            disagreements("doc", &without_recall, &known),
            ["doc does not name `batch_recall`, which works while paused"]
        );
        let with_create = format!("{good}, `grant_create`");
        assert_eq!(
            disagreements("doc", &with_create, &known),
            ["doc names `grant_create`, which a pause stops"]
        );
        let unqualified = good.replace(
            "`policy_set_status` (only suspending)",
            "`policy_set_status`",
        );
        assert_eq!(
            disagreements("doc", &unqualified, &known),
            ["doc names `policy_set_status` without \"(only suspending\""]
        );
        let doc = "intro\n- Pause stops every state change except `a`,\n  `b`.\n- next `c`";
        assert_eq!(
            paragraph(doc, "Pause stops"),
            "- Pause stops every state change except `a`, `b`."
        );
    }
}
