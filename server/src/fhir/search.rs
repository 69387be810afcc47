//! FHIR search over one trail: parameters (strict or lenient), dates with prefixes, filters on
//! the built resources, and searchset Bundles paged by `_count` and `_offset` with `next` links.
use super::outcome::Outcome;
use super::trail::{Entry, Needs};
use careledger_sdk::audit::KEY_SYSTEM;
use careledger_sdk::Pubkey;
use serde_json::{json, Value};

/// Resource types this server searches, each with its own search parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Consent,
    AuditEvent,
    DocumentReference,
    ClaimResponse,
    Provenance,
}

/// Parameters every search takes.
pub const COMMON: [&str; 4] = ["_count", "_offset", "_summary", "_format"];
/// The page size when a search names none, and the largest one asked for.
pub const DEFAULT_COUNT: usize = 50;
pub const MAX_COUNT: usize = 1_000;

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Consent,
        Kind::AuditEvent,
        Kind::DocumentReference,
        Kind::ClaimResponse,
        Kind::Provenance,
    ];

    /// The type named `name` (`Consent`, …), as a `target=` reference gives it.
    pub fn named(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Consent => "Consent",
            Kind::AuditEvent => "AuditEvent",
            Kind::DocumentReference => "DocumentReference",
            Kind::ClaimResponse => "ClaimResponse",
            Kind::Provenance => "Provenance",
        }
    }

    /// Its search parameters: name, FHIR type, and what it matches.
    pub fn params(self) -> &'static [(&'static str, &'static str, &'static str)] {
        const PATIENT: (&str, &str, &str) = (
            "patient",
            "reference",
            "The patient's wallet (base58, or urn:solana:pubkey|WALLET). Required: a search reads one patient's trail",
        );
        match self {
            Kind::Consent => &[
                PATIENT,
                ("actor", "reference", "The grantee's wallet"),
                ("status", "token", "active or inactive, by the program's own rule at the ledger's clock"),
                ("purpose", "token", "A v3 ActReason code: TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, ETREAT"),
                ("_lastUpdated", "date", "When the grant was made, narrowed or revoked"),
            ],
            Kind::AuditEvent => &[
                PATIENT,
                ("agent", "reference", "The wallet that acted"),
                ("date", "date", "When it happened (repeatable: date=ge…&date=le…)"),
                ("entity", "reference", "A record, grant or patient address the event names"),
            ],
            Kind::DocumentReference => &[
                PATIENT,
                ("category", "token", "A record class: lab-result, imaging, prescription, clinical-note, discharge-summary, immunization, genomic, claim-attachment"),
            ],
            Kind::ClaimResponse => &[PATIENT],
            Kind::Provenance => &[
                ("target", "reference", "Consent/ID, AuditEvent/ID, DocumentReference/ID or ClaimResponse/ID"),
                ("patient", "reference", "The patient's wallet: with it, every Provenance of their trail"),
            ],
        }
    }

    /// What its search or read needs read from the ledger.
    pub fn needs(self) -> Needs {
        let none = Needs {
            grants: false,
            records: false,
            claims: false,
            history: false,
        };
        match self {
            Kind::Consent => Needs {
                grants: true,
                history: true,
                ..none
            },
            Kind::AuditEvent => Needs {
                history: true,
                ..none
            },
            Kind::DocumentReference => Needs {
                records: true,
                ..none
            },
            Kind::ClaimResponse => Needs {
                claims: true,
                ..none
            },
            // targets are named by the grants and claims standing now
            Kind::Provenance => Needs {
                grants: true,
                claims: true,
                history: true,
                ..none
            },
        }
    }

    pub fn entries(self, trail: &super::trail::Trail) -> &[Entry] {
        match self {
            Kind::Consent => &trail.consents,
            Kind::AuditEvent => &trail.audit_events,
            Kind::DocumentReference => &trail.documents,
            Kind::ClaimResponse => &trail.claims,
            Kind::Provenance => &trail.provenance,
        }
    }
}

/// A wallet or account key as a search gives it: `KEY` or `urn:solana:pubkey|KEY`.
pub fn key_param(name: &str, value: &str) -> Result<Pubkey, Outcome> {
    let bare = value
        .strip_prefix(KEY_SYSTEM)
        .and_then(|v| v.strip_prefix('|'))
        .unwrap_or(value);
    bare.parse().map_err(|_| {
        Outcome::invalid(format!(
            "{name}=`{value}` is not a wallet or account address: give its base58 form, or {KEY_SYSTEM}|ADDRESS"
        ))
    })
}

/// A token as a search gives it: `code` or `system|code` (the system is not checked here).
fn token(value: &str) -> &str {
    value.rsplit('|').next().unwrap_or(value)
}

/// `[start, end)` of a FHIR date or dateTime at its precision, unix seconds.
pub fn date_range(text: &str) -> Option<(i64, i64)> {
    use chrono::{Datelike, NaiveDate};
    // byte offsets below slice ASCII only: anything else is no FHIR date
    if !text.is_ascii() {
        return None;
    }
    let ymd = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match text.len() {
        4 if digits(text) => {
            let y = text.parse().ok()?;
            Some((midnight(ymd(y, 1, 1)?)?, midnight(ymd(y + 1, 1, 1)?)?))
        }
        7 if digits(&text[..4]) && &text[4..5] == "-" && digits(&text[5..]) => {
            let y = text[..4].parse().ok()?;
            let m = text[5..].parse().ok()?;
            let start = ymd(y, m, 1)?;
            let next = if m == 12 {
                ymd(y + 1, 1, 1)?
            } else {
                ymd(y, m + 1, 1)?
            };
            Some((midnight(start)?, midnight(next)?))
        }
        10 => {
            let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
            let start = midnight(d)?;
            let _ = d.year();
            Some((start, start + 86_400))
        }
        _ => {
            // a dateTime carries a zone; to the minute or the second (a fraction is cut)
            let parsed = chrono::DateTime::parse_from_rfc3339(text).ok();
            if let Some(t) = parsed {
                return Some((t.timestamp(), t.timestamp() + 1));
            }
            let (head, zone) = text.split_at(
                text.find(['Z', '+'])
                    .or_else(|| text.rfind('-').filter(|&i| i > 10))?,
            );
            let t = chrono::DateTime::parse_from_rfc3339(&format!("{head}:00{zone}")).ok()?;
            Some((t.timestamp(), t.timestamp() + 60))
        }
    }
}

/// One `date=`/`_lastUpdated=` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateCondition {
    prefix: &'static str,
    start: i64,
    end: i64,
}

impl DateCondition {
    pub fn parse(name: &str, value: &str) -> Result<DateCondition, Outcome> {
        let (prefix, rest) = match value.get(..2) {
            Some(p @ ("eq" | "gt" | "lt" | "ge" | "le")) => (p, &value[2..]),
            Some("ne" | "sa" | "eb" | "ap") => {
                return Err(Outcome::invalid(format!(
                    "{name}=`{value}`: the prefixes this server takes are eq, gt, ge, lt and le"
                )))
            }
            _ => ("eq", value),
        };
        let prefix = match prefix {
            "gt" => "gt",
            "lt" => "lt",
            "ge" => "ge",
            "le" => "le",
            _ => "eq",
        };
        let (start, end) = date_range(rest).ok_or_else(|| {
            Outcome::invalid(format!(
                "{name}=`{value}` is not a FHIR date: use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime with its zone (2026-12-07T10:00:00Z), after an optional prefix (ge, le, gt, lt, eq)"
            ))
        })?;
        Ok(DateCondition { prefix, start, end })
    }

    /// Whether the instant `t` (unix seconds) meets the condition.
    pub fn holds(&self, t: i64) -> bool {
        match self.prefix {
            "gt" => t >= self.end,
            "ge" => t >= self.start,
            "lt" => t < self.start,
            "le" => t < self.end,
            _ => self.start <= t && t < self.end,
        }
    }
}

/// One filter a search applies to the built resources.
pub enum Filter {
    /// A key among the identifiers at these JSON paths.
    Key(&'static [&'static str], String),
    /// A code among the values at these paths.
    Code(&'static [&'static str], String),
    Updated(DateCondition),
    Target(String),
}

/// The values at `path` (`a.b[].c`: `[]` walks an array), as strings.
fn values_at<'a>(v: &'a Value, path: &str) -> Vec<&'a str> {
    let mut current = vec![v];
    for part in path.split('.') {
        let (name, each) = match part.strip_suffix("[]") {
            Some(n) => (n, true),
            None => (part, false),
        };
        let mut next = Vec::new();
        for c in current {
            let field = &c[name];
            if each {
                next.extend(field.as_array().into_iter().flatten());
            } else if !field.is_null() {
                next.push(field);
            }
        }
        current = next;
    }
    current.into_iter().filter_map(Value::as_str).collect()
}

impl Filter {
    pub fn keeps(&self, entry: &Entry) -> bool {
        match self {
            Filter::Key(paths, key) | Filter::Code(paths, key) => paths
                .iter()
                .any(|p| values_at(&entry.resource, p).contains(&key.as_str())),
            Filter::Updated(c) => c.holds(entry.updated),
            Filter::Target(t) => values_at(&entry.resource, "target[].reference")
                .iter()
                .any(|r| r == t),
        }
    }
}

/// A parsed search: filters, the page asked for, and what was ignored.
pub struct Search {
    pub kind: Kind,
    pub patient: Option<Pubkey>,
    pub target: Option<String>,
    pub filters: Vec<Filter>,
    pub count: usize,
    pub offset: usize,
    pub summary_count: bool,
    /// The parameters as given, less paging, for the page links.
    pub kept: Vec<(String, String)>,
    pub ignored: Vec<String>,
}

impl Search {
    /// Parses `pairs` for `kind`; an unknown parameter fails the search when `strict`
    /// (`Prefer: handling=strict`), and is ignored, and reported, otherwise.
    pub fn parse(kind: Kind, pairs: &[(String, String)], strict: bool) -> Result<Search, Outcome> {
        let mut search = Search {
            kind,
            patient: None,
            target: None,
            filters: Vec::new(),
            count: DEFAULT_COUNT,
            offset: 0,
            summary_count: false,
            kept: Vec::new(),
            ignored: Vec::new(),
        };
        for (name, value) in pairs {
            let known =
                kind.params().iter().any(|(n, ..)| n == name) || COMMON.contains(&name.as_str());
            if !known {
                if strict {
                    let names: Vec<&str> = kind
                        .params()
                        .iter()
                        .map(|(n, ..)| *n)
                        .chain(COMMON)
                        .collect();
                    return Err(Outcome::invalid(format!(
                        "{} has no search parameter `{name}` here (handling=strict): it takes {}",
                        kind.name(),
                        names.join(", ")
                    )));
                }
                search.ignored.push(name.clone());
                continue;
            }
            let number = |what: &str| {
                value
                    .parse::<usize>()
                    .map_err(|_| Outcome::invalid(format!("{name}=`{value}` is not {what}")))
            };
            match name.as_str() {
                "_count" => {
                    search.count = number("a page size (0 to 1000)")?;
                    if search.count > MAX_COUNT {
                        return Err(Outcome::invalid(format!(
                            "_count={value} is more than this server pages by: at most {MAX_COUNT}"
                        )));
                    }
                    continue;
                }
                "_offset" => {
                    search.offset = number("an offset (a whole number)")?;
                    continue;
                }
                "_summary" => match value.as_str() {
                    "count" => search.summary_count = true,
                    "false" => {}
                    _ => {
                        return Err(Outcome::invalid(format!(
                            "_summary={value} is not supported: use count, or false"
                        )))
                    }
                },
                "_format" => {}
                "patient" => {
                    let key = key_param(name, value)?;
                    if search.patient.is_some_and(|p| p != key) {
                        return Err(Outcome::invalid(
                            "two different patients: a search reads one patient's trail".into(),
                        ));
                    }
                    search.patient = Some(key);
                }
                "actor" => search.filters.push(Filter::Key(
                    &["provision.actor[].reference.identifier.value"],
                    key_param(name, value)?.to_string(),
                )),
                "agent" => search.filters.push(Filter::Key(
                    &["agent[].who.identifier.value"],
                    key_param(name, value)?.to_string(),
                )),
                "entity" => search.filters.push(Filter::Key(
                    &["entity[].what.identifier.value"],
                    key_param(name, value)?.to_string(),
                )),
                "status" => {
                    let status = token(value);
                    if !matches!(status, "active" | "inactive") {
                        return Err(Outcome::invalid(format!(
                            "status=`{value}`: a Consent here is active or inactive"
                        )));
                    }
                    search
                        .filters
                        .push(Filter::Code(&["status"], status.to_owned()));
                }
                "purpose" => {
                    let code = token(value);
                    if careledger_sdk::audit::purpose_of_code(code).is_none() {
                        let known = careledger_sdk::audit::PURPOSES_OF_USE
                            .map(careledger_sdk::audit::purpose_code);
                        return Err(Outcome::invalid(format!(
                            "purpose=`{value}` is not a purpose of use careledger records: use one of {}",
                            known.join(", ")
                        )));
                    }
                    search
                        .filters
                        .push(Filter::Code(&["provision.purpose[].code"], code.to_owned()));
                }
                "category" => {
                    let label = token(value);
                    if label
                        .parse::<careledger_sdk::classes::RecordClass>()
                        .is_err()
                        && !label.starts_with("class-")
                    {
                        return Err(Outcome::invalid(format!(
                            "category=`{value}` is not a record class: use lab-result, imaging, prescription, clinical-note, discharge-summary, immunization, genomic or claim-attachment"
                        )));
                    }
                    search.filters.push(Filter::Code(
                        &["category[].coding[].code"],
                        label.to_owned(),
                    ));
                }
                "date" | "_lastUpdated" => search
                    .filters
                    .push(Filter::Updated(DateCondition::parse(name, value)?)),
                "target" => {
                    let target = value.rsplit("/fhir/").next().unwrap_or(value).to_owned();
                    search.target = Some(target.clone());
                    search.filters.push(Filter::Target(target));
                }
                _ => {}
            }
            search.kept.push((name.clone(), value.clone()));
        }
        Ok(search)
    }

    /// The searchset Bundle of one page of `entries` (those the filters keep), with `self`,
    /// `next` and `previous` links under `base` (`…/fhir`).
    pub fn bundle(&self, base: &str, entries: &[Entry], trail: &super::trail::Trail) -> Value {
        let matched: Vec<&Entry> = entries
            .iter()
            .filter(|e| self.filters.iter().all(|f| f.keeps(e)))
            .collect();
        let total = matched.len();
        let link = |offset: usize| {
            let mut query: Vec<String> = self
                .kept
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect();
            if !self.summary_count {
                query.push(format!("_count={}", self.count));
                query.push(format!("_offset={offset}"));
            }
            format!("{base}/{}?{}", self.kind.name(), query.join("&"))
        };
        let mut links = vec![json!({ "relation": "self", "url": link(self.offset) })];
        let mut entry: Vec<Value> = Vec::new();
        if !self.summary_count {
            let end = self.offset.saturating_add(self.count).min(total);
            if end < total && self.count > 0 {
                links.push(json!({ "relation": "next", "url": link(end) }));
            }
            if self.offset > 0 && self.count > 0 {
                links.push(json!({ "relation": "previous", "url": link(self.offset.saturating_sub(self.count)) }));
            }
            entry = matched
                .iter()
                .skip(self.offset)
                .take(self.count)
                .map(|e| {
                    let id = e.resource["id"].as_str().unwrap_or_default();
                    json!({
                        "fullUrl": format!("{base}/{}/{id}", self.kind.name()),
                        "resource": e.resource,
                        "search": { "mode": "match" },
                    })
                })
                .collect();
        }
        let mut warnings = Vec::new();
        if !self.ignored.is_empty() {
            warnings.push(format!(
                "ignored unknown search parameters: {} (send Prefer: handling=strict to have them refused)",
                self.ignored.join(", ")
            ));
        }
        if trail.history_cut {
            warnings.push(format!(
                "this patient's history has more than {} transactions: only the newest were read",
                careledger_sdk::transport::MAX_HISTORY
            ));
        }
        if let Some(wallet) = trail.unregistered {
            warnings.push(format!(
                "{wallet} is not a registered patient on this ledger: nothing is recorded for it"
            ));
        }
        if trail.policies_cut {
            warnings.push(format!(
                "this patient has more than {} policies: the claims of the rest were not read",
                super::trail::MAX_POLICIES
            ));
        }
        if !warnings.is_empty() {
            entry.push(json!({
                "resource": Outcome::warnings(&warnings),
                "search": { "mode": "outcome" },
            }));
        }
        let mut bundle = json!({
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
        });
        if !entry.is_empty() {
            bundle["entry"] = json!(entry);
        }
        bundle
    }
}

/// Percent-encodes a query component: all but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const COMPONENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(s, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_their_precision() {
        let day = date_range("2026-12-07").unwrap();
        assert_eq!(day.1 - day.0, 86_400);
        let month = date_range("2026-02").unwrap();
        assert_eq!(month.1 - month.0, 28 * 86_400);
        let year = date_range("2026").unwrap();
        assert_eq!(year.1 - year.0, 365 * 86_400);
        let second = date_range("2026-12-07T10:00:00Z").unwrap();
        assert_eq!(second, (day.0 + 36_000, day.0 + 36_001));
        let minute = date_range("2026-12-07T10:00+01:00").unwrap();
        assert_eq!(minute, (day.0 + 32_400, day.0 + 32_460));
        for bad in [
            "",
            "2026éx",
            "202éxx",
            "2026-13",
            "2026-12-32",
            "7 Dec",
            "2026-12-07T10:00:00",
            "20261",
        ] {
            assert_eq!(date_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn date_prefixes_compare_as_fhir_says() {
        let (start, end) = date_range("2026-12-07").unwrap();
        let at = |v: &str, t: i64| DateCondition::parse("date", v).unwrap().holds(t);
        assert!(at("2026-12-07", start) && at("2026-12-07", end - 1) && !at("2026-12-07", end));
        assert!(at("ge2026-12-07", start) && !at("ge2026-12-07", start - 1));
        assert!(at("le2026-12-07", end - 1) && !at("le2026-12-07", end));
        assert!(at("gt2026-12-07", end) && !at("gt2026-12-07", end - 1));
        assert!(at("lt2026-12-07", start - 1) && !at("lt2026-12-07", start));
        assert!(DateCondition::parse("date", "ne2026").is_err());
        assert!(DateCondition::parse("date", "ge7 December").is_err());
    }

    #[test]
    fn unknown_parameters_are_refused_only_when_strict() {
        let pairs = vec![
            ("patient".to_owned(), Pubkey::new_unique().to_string()),
            ("colour".to_owned(), "red".to_owned()),
        ];
        assert!(Search::parse(Kind::Consent, &pairs, true).is_err());
        let lenient = Search::parse(Kind::Consent, &pairs, false).ok().unwrap();
        assert_eq!(lenient.ignored, ["colour"]);
        // a parameter of another type is unknown here
        let agent = vec![("agent".to_owned(), Pubkey::new_unique().to_string())];
        assert!(Search::parse(Kind::Consent, &agent, true).is_err());
        assert!(Search::parse(Kind::AuditEvent, &agent, true).is_ok());
    }

    #[test]
    fn bad_values_are_refused_in_the_users_words() {
        let bad = |k: &str, v: &str| {
            Search::parse(Kind::Consent, &[(k.to_owned(), v.to_owned())], false)
                .err()
                .unwrap()
                .diagnostics
        };
        assert!(bad("patient", "alice").contains("not a wallet or account address"));
        assert!(bad("status", "draft").contains("active or inactive"));
        assert!(bad("purpose", "FUN").contains("TREAT"));
        assert!(bad("_count", "ten").contains("not a page size"));
        assert!(bad("_count", "5000").contains("at most 1000"));
        assert!(bad("_lastUpdated", "yesterday").contains("not a FHIR date"));
    }
}
