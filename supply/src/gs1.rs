//! GS1 identifiers of a serialized medicine pack (US DSCSA / EU FMD 2D DataMatrix).
//!
//! [`PackIdentifier`] reads the product identifier — (01) GTIN, (17) expiry, (10) lot,
//! (21) serial, and optionally an EU national reimbursement number (710)-(715) — from the three
//! forms a pharmacy meets: a scanner's element string (`]d2` + AIs, GS-separated), the
//! human-readable form with parentheses, and a GS1 Digital Link URI. It writes all three back.
//!
//! The parser is strict on purpose: an AI it cannot interpret is an error, never skipped, so a
//! verification request is never sent with half-read data.
//!
//! ```
//! use careledger_supply::gs1::PackIdentifier;
//!
//! let pack = PackIdentifier::parse_with_reference_year(
//!     "(01)09506000134352(17)271200(10)ABC123(21)SER1", 2026).unwrap();
//! assert_eq!(pack.expiry.to_iso(), "2027-12-31");
//! assert_eq!(pack.to_element_string(true), "]d2010950600013435217271200\
//!     10ABC123\u{1d}21SER1");
//! ```

use serde::Serialize;
use serde_json::{json, Value};

/// The GS separator (ASCII 0x1D), which the scanner outputs for FNC1.
pub const GS: char = '\u{1d}';

/// Longest value of (10), (21) and (710)-(715): the program's own limit.
const MAX_VAR: usize = careledger::constants::MAX_LOT_LEN as usize;

/// GS1 "character set 82", the only characters allowed in (10), (21) and (71x): the program's
/// own table (`batch_commission` checks the lot with it).
fn is_set82(c: char) -> bool {
    c.is_ascii() && careledger::logic::supply::is_set82(c as u8)
}

/// Errors, each naming the AI, the value or 1-based character position, and the rule broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[rustfmt::skip] // one line per variant keeps the message table readable
pub enum Gs1Error {
    #[error("the scan is empty")]
    Empty,
    #[error("symbology identifier {found} is not GS1 data: expected ]d2 (DataMatrix), ]C1 (GS1-128) or ]Q3 (GS1 QR Code)")]
    UnsupportedSymbology { found: String },
    #[error("unknown application identifier ({ai}) at character {position}: only (01), (17), (10), (21) and (710)-(715) are read")]
    UnknownAi { ai: String, position: usize },
    #[error("malformed input at character {position}: {reason}")]
    Malformed { position: usize, reason: &'static str },
    #[error("({ai}) must be exactly {expected} digits; found {found}")]
    FixedLength { ai: &'static str, expected: usize, found: usize },
    #[error("({ai}) must contain only digits; found {value:?}")]
    NotDigits { ai: &'static str, value: String },
    #[error("GTIN {gtin} has check digit {found}; the mod-10 check digit of its first 13 digits is {expected}")]
    CheckDigit { gtin: String, expected: u8, found: u8 },
    #[error("({ai}) {value} is not a date: {reason}")]
    ImpossibleDate { ai: &'static str, value: String, reason: String },
    #[error("({ai}) has {character:?} at character {position}, outside GS1 character set 82")]
    InvalidCharacter { ai: &'static str, character: char, position: usize },
    #[error("({ai}) runs past 20 characters: a variable-length field must end with the GS separator (0x1D) unless it is last")]
    MissingSeparator { ai: &'static str },
    #[error("({ai}) has {found} characters; at most 20 are allowed")]
    TooLong { ai: &'static str, found: usize },
    #[error("({ai}) is empty: it needs 1 to 20 characters")]
    EmptyField { ai: &'static str },
    #[error("({ai}) {} is missing: a DSCSA product identifier needs (01) GTIN, (17) expiry date, (10) lot number and (21) serial number", ai_label(.ai))]
    Missing { ai: &'static str },
    #[error("({ai}) appears more than once (a pack carries one of each, and at most one NHRN (710)-(715))")]
    Duplicate { ai: &'static str },
    #[error("not a GS1 Digital Link: {reason}")]
    BadDigitalLink { reason: String },
    #[error("invalid percent escape {escape:?} at character {position}: {reason}")]
    BadPercentEscape { escape: String, position: usize, reason: &'static str },
}

fn ai_label(ai: &str) -> &'static str {
    match ai {
        "01" => "GTIN",
        "17" => "expiry date",
        "10" => "lot number",
        _ => "serial number",
    }
}

/// The AIs this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ai {
    Gtin,
    Expiry,
    Lot,
    Serial,
    Nhrn(&'static str),
}

const NHRN_AIS: [&str; 6] = ["710", "711", "712", "713", "714", "715"];

impl Ai {
    fn from_code(code: &str) -> Option<Ai> {
        Some(match code {
            "01" => Ai::Gtin,
            "17" => Ai::Expiry,
            "10" => Ai::Lot,
            "21" => Ai::Serial,
            _ => Ai::Nhrn(NHRN_AIS.iter().find(|a| **a == code)?),
        })
    }
    fn code(self) -> &'static str {
        match self {
            Ai::Gtin => "01",
            Ai::Expiry => "17",
            Ai::Lot => "10",
            Ai::Serial => "21",
            Ai::Nhrn(code) => code,
        }
    }
    /// Predefined length, for the fixed-length AIs.
    fn fixed_len(self) -> Option<usize> {
        match self {
            Ai::Gtin => Some(14),
            Ai::Expiry => Some(6),
            _ => None,
        }
    }
}

/// A GTIN-14 with a verified check digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct Gtin([u8; 14]);

impl From<Gtin> for String {
    fn from(g: Gtin) -> String {
        g.as_str().to_string()
    }
}

/// The GS1 mod-10 check digit of `digits` (the digits before the check digit).
pub fn check_digit(digits: &[u8]) -> u8 {
    // Weights 3,1,3,1... starting from the rightmost digit.
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl Gtin {
    /// Exactly 14 ASCII digits whose last digit is the mod-10 check digit.
    pub fn parse(s: &str) -> Result<Gtin, Gs1Error> {
        if !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(Gs1Error::NotDigits {
                ai: "01",
                value: s.to_string(),
            });
        }
        let digits: [u8; 14] = s.as_bytes().try_into().map_err(|_| Gs1Error::FixedLength {
            ai: "01",
            expected: 14,
            found: s.len(),
        })?;
        let expected = check_digit(&digits[..13]);
        let found = digits[13] - b'0';
        if expected != found {
            return Err(Gs1Error::CheckDigit {
                gtin: s.to_string(),
                expected,
                found,
            });
        }
        Ok(Gtin(digits))
    }

    pub fn as_str(&self) -> &str {
        // Only `parse` builds a Gtin, so the bytes are ASCII digits.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The US NDC (10 digits) carried by a GTIN-14 of the form `N03` + NDC + check digit.
    pub fn ndc10(&self) -> Option<&str> {
        (&self.0[1..3] == b"03").then(|| &self.as_str()[3..13])
    }
}

/// An (17) expiry date; `day == 0` keeps the "end of month" encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Gs1Date {
    pub year: u16,
    pub month: u8,
    /// 0 = end of month as encoded
    pub day: u8,
}

const MONTHS: &str =
    "January February March April May June July August September October November December";

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm); total, so a
/// hand-built out-of-range `Gs1Date` cannot panic.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The four-digit year of `yy` by the GS1 GenSpecs 7.12 sliding window around `reference`.
fn century_window(yy: u16, reference: u16) -> Option<u16> {
    let (yy, reference) = (i32::from(yy), i32::from(reference));
    let current = reference % 100;
    let century = reference - current;
    let year = match yy - current {
        51..=99 => century - 100 + yy,
        -99..=-50 => century + 100 + yy,
        _ => century + yy,
    };
    u16::try_from(year).ok()
}

impl Gs1Date {
    /// Parses an (17) `YYMMDD` value, choosing the century from `reference_year`.
    pub fn from_yymmdd(value: &str, reference_year: u16) -> Result<Gs1Date, Gs1Error> {
        let b = value.as_bytes();
        if !b.iter().all(u8::is_ascii_digit) {
            return Err(Gs1Error::NotDigits {
                ai: "17",
                value: value.to_string(),
            });
        }
        if b.len() != 6 {
            return Err(Gs1Error::FixedLength {
                ai: "17",
                expected: 6,
                found: b.len(),
            });
        }
        let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        let (yy, month, day) = (two(0), two(2), two(4));
        let bad = |reason: String| Gs1Error::ImpossibleDate {
            ai: "17",
            value: value.to_string(),
            reason,
        };
        let year = century_window(u16::from(yy), reference_year).ok_or_else(|| {
            bad(format!(
                "its year is out of range for reference year {reference_year}"
            ))
        })?;
        if !(1..=12).contains(&month) {
            return Err(bad(format!("there is no month {month:02}")));
        }
        let last = days_in_month(i64::from(year), month);
        if day > last {
            let name = MONTHS
                .split(' ')
                .nth(usize::from(month - 1))
                .unwrap_or_default();
            return Err(bad(format!("{name} {year} has {last} days")));
        }
        Ok(Gs1Date { year, month, day })
    }

    /// The real day: `day`, or the last day of the month when encoded as 00.
    pub fn last_day(&self) -> u8 {
        if self.day == 0 {
            days_in_month(i64::from(self.year), self.month)
        } else {
            self.day
        }
    }

    /// The effective date, e.g. `2027-12-31`.
    pub fn to_iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.last_day())
    }

    /// The first second (UTC) after the effective day: the pack is expired when `now >= this`.
    pub fn end_of_day_unix(&self) -> i64 {
        let days = days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.last_day()),
        );
        (days + 1) * 86_400
    }

    /// The date as encoded in (17), keeping a 00 day.
    pub fn yymmdd(&self) -> String {
        format!("{:02}{:02}{:02}", self.year % 100, self.month, self.day)
    }
}

/// The DSCSA product identifier of one pack, plus an optional EU NHRN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackIdentifier {
    pub gtin: Gtin,
    pub expiry: Gs1Date,
    pub lot: String,
    pub serial: String,
    /// (AI 710-715, value)
    pub nhrn: Option<(String, String)>,
}

/// A value as characters with their 1-based positions in the original input.
type Chars = [(char, usize)];

fn text(v: &Chars) -> String {
    v.iter().map(|(c, _)| c).collect()
}

/// Index of the first `c` in `v`, or `v.len()`.
fn find(v: &Chars, c: char) -> usize {
    v.iter().position(|(x, _)| *x == c).unwrap_or(v.len())
}

/// Fields as they are read; `finish` checks all four are present.
#[derive(Default)]
struct Builder {
    gtin: Option<Gtin>,
    expiry: Option<Gs1Date>,
    lot: Option<String>,
    serial: Option<String>,
    nhrn: Option<(String, String)>,
    year: u16,
}

impl Builder {
    fn new(year: u16) -> Self {
        Builder {
            year,
            ..Default::default()
        }
    }

    /// Validates one value and stores it. Variable-length values are checked here for
    /// emptiness, set 82 and length (element strings check length earlier, while scanning);
    /// fixed-length ones by `Gtin::parse` and `Gs1Date::from_yymmdd`.
    fn set(&mut self, ai: Ai, value: &Chars) -> Result<(), Gs1Error> {
        let code = ai.code();
        let s = text(value);
        if ai.fixed_len().is_none() {
            if value.is_empty() {
                return Err(Gs1Error::EmptyField { ai: code });
            }
            if let Some(&(character, position)) = value.iter().find(|(c, _)| !is_set82(*c)) {
                return Err(Gs1Error::InvalidCharacter {
                    ai: code,
                    character,
                    position,
                });
            }
            if value.len() > MAX_VAR {
                return Err(Gs1Error::TooLong {
                    ai: code,
                    found: value.len(),
                });
            }
        }
        let dup = match ai {
            Ai::Gtin => self.gtin.replace(Gtin::parse(&s)?).is_some(),
            Ai::Expiry => self
                .expiry
                .replace(Gs1Date::from_yymmdd(&s, self.year)?)
                .is_some(),
            Ai::Lot => self.lot.replace(s).is_some(),
            Ai::Serial => self.serial.replace(s).is_some(),
            Ai::Nhrn(_) => self.nhrn.replace((code.to_string(), s)).is_some(),
        };
        if dup {
            return Err(Gs1Error::Duplicate { ai: code });
        }
        Ok(())
    }

    fn finish(self) -> Result<PackIdentifier, Gs1Error> {
        let missing = |ai| Gs1Error::Missing { ai };
        Ok(PackIdentifier {
            gtin: self.gtin.ok_or(missing("01"))?,
            expiry: self.expiry.ok_or(missing("17"))?,
            lot: self.lot.ok_or(missing("10"))?,
            serial: self.serial.ok_or(missing("21"))?,
            nhrn: self.nhrn,
        })
    }
}

/// The current UTC year, the default century reference for (17).
fn current_year() -> u16 {
    use chrono::Datelike;
    // SystemTime rather than `Utc::now()`, which needs chrono's "now" feature.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    chrono::DateTime::from_timestamp(secs, 0).map_or(2026, |t| t.year() as u16)
}

/// Percent-decodes a URI component by hand, keeping each decoded character's position.
/// Set-82 membership is checked later, by the field it belongs to.
fn percent_decode(raw: &Chars) -> Result<Vec<(char, usize)>, Gs1Error> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let (c, pos) = raw[i];
        if c != '%' {
            out.push((c, pos));
            i += 1;
            continue;
        }
        let esc = &raw[i..raw.len().min(i + 3)];
        let err = |reason| Gs1Error::BadPercentEscape {
            escape: text(esc),
            position: pos,
            reason,
        };
        let hex = |k: usize| esc.get(k).and_then(|(c, _)| c.to_digit(16));
        let (Some(hi), Some(lo)) = (hex(1), hex(2)) else {
            return Err(err("'%' must be followed by two hex digits"));
        };
        let byte = (hi * 16 + lo) as u8;
        if !byte.is_ascii() {
            return Err(err(
                "it decodes to a non-ASCII byte, outside GS1 character set 82",
            ));
        }
        out.push((char::from(byte), pos));
        i += 3;
    }
    Ok(out)
}

/// Percent-encodes a set-82 value for a URI: everything but letters, digits, `-`, `.`, `_`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
            out.push(c);
        } else {
            // Values are set 82, so every character is one ASCII byte.
            out.push_str(&format!("%{:02X}", u32::from(c)));
        }
    }
    out
}

/// Is `chars[i..]` an HRI AI in parentheses, `(` + 2 to 4 digits + `)`? Returns the digits.
fn hri_ai_at(chars: &Chars, i: usize) -> Option<String> {
    if chars.get(i)?.0 != '(' {
        return None;
    }
    let digits: String = chars[i + 1..]
        .iter()
        .take_while(|(c, _)| c.is_ascii_digit())
        .take(5)
        .map(|(c, _)| c)
        .collect();
    let close = chars.get(i + 1 + digits.len())?.0 == ')';
    (close && (2..=4).contains(&digits.len())).then_some(digits)
}

impl PackIdentifier {
    /// Auto-detects the form: `http://` / `https://` is a Digital Link, `(` is the
    /// human-readable form, anything else an element string. The century of (17) is chosen
    /// around the current UTC year.
    pub fn parse(input: &str) -> Result<Self, Gs1Error> {
        Self::parse_with_reference_year(input, current_year())
    }

    /// [`parse`](Self::parse) with an explicit century reference year. One trailing line
    /// ending is dropped, since keyboard-wedge scanners send Enter after the data.
    pub fn parse_with_reference_year(input: &str, year: u16) -> Result<Self, Gs1Error> {
        let input = input
            .strip_suffix("\r\n")
            .or_else(|| input.strip_suffix(['\n', '\r']))
            .unwrap_or(input);
        let lower = input.get(..8).unwrap_or(input).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Self::parse_digital_link(input, year)
        } else if input.starts_with('(') {
            Self::parse_hri(input, year)
        } else {
            Self::parse_element_string(input, year)
        }
    }

    /// A scanner's element string: optional `]d2` / `]C1` / `]Q3`, optional leading GS, then
    /// AIs; a variable-length value ends at GS or at the end.
    pub fn parse_element_string(input: &str, year: u16) -> Result<Self, Gs1Error> {
        let chars: Vec<(char, usize)> = input.chars().zip(1..).collect();
        let mut pos = 0;
        if input.starts_with(']') {
            let id = text(&chars[..chars.len().min(3)]);
            if !matches!(id.as_str(), "]d2" | "]C1" | "]Q3") {
                return Err(Gs1Error::UnsupportedSymbology { found: id });
            }
            pos = 3;
        }
        // FNC1 in first position comes out as a GS on some scanners.
        if chars.get(pos).is_some_and(|(c, _)| *c == GS) {
            pos += 1;
        }
        if pos == chars.len() {
            return Err(Gs1Error::Empty);
        }
        let mut b = Builder::new(year);
        while pos < chars.len() {
            let here = chars[pos].1;
            let two = text(&chars[pos..chars.len().min(pos + 2)]);
            if two.len() < 2 || !two.bytes().all(|c| c.is_ascii_digit()) {
                let reason = "expected a 2-digit application identifier";
                return Err(Gs1Error::Malformed {
                    position: here,
                    reason,
                });
            }
            // 71x are 3-digit AIs; every other AI we read has 2 digits.
            let code_len = if two == "71" { 3 } else { 2 };
            let code = text(&chars[pos..chars.len().min(pos + code_len)]);
            let ai = Ai::from_code(&code).ok_or(Gs1Error::UnknownAi {
                ai: code,
                position: here,
            })?;
            let start = pos + code_len;
            let mut end = start;
            match ai.fixed_len() {
                Some(n) => {
                    while end < chars.len() && end - start < n && chars[end].0 != GS {
                        end += 1;
                    }
                    if end - start < n {
                        let found = end - start;
                        return Err(Gs1Error::FixedLength {
                            ai: ai.code(),
                            expected: n,
                            found,
                        });
                    }
                }
                None => {
                    while end < chars.len() && chars[end].0 != GS {
                        let (character, position) = chars[end];
                        if end - start == MAX_VAR {
                            // Most likely a forgotten GS before the next AI.
                            return Err(Gs1Error::MissingSeparator { ai: ai.code() });
                        }
                        if !is_set82(character) {
                            return Err(Gs1Error::InvalidCharacter {
                                ai: ai.code(),
                                character,
                                position,
                            });
                        }
                        end += 1;
                    }
                }
            }
            b.set(ai, &chars[start..end])?;
            pos = end;
            // A GS ends a variable field; after a fixed one it is redundant but allowed, and
            // one at the very end is tolerated.
            if chars.get(pos).is_some_and(|(c, _)| *c == GS) {
                pos += 1;
            }
        }
        b.finish()
    }

    /// The human-readable form `(01)…(17)…(10)…(21)…`. A value ends where the next
    /// `(` + 2-4 digits + `)` begins, so a lot or serial containing such text cannot be
    /// written in this form (use the element string).
    pub fn parse_hri(input: &str, year: u16) -> Result<Self, Gs1Error> {
        let chars: Vec<(char, usize)> = input.chars().zip(1..).collect();
        if chars.is_empty() {
            return Err(Gs1Error::Empty);
        }
        let mut b = Builder::new(year);
        let mut pos = 0;
        while pos < chars.len() {
            let here = chars[pos].1;
            let code = hri_ai_at(&chars, pos).ok_or(Gs1Error::Malformed {
                position: here,
                reason: "expected an application identifier in parentheses, like (01)",
            })?;
            let start = pos + code.len() + 2;
            let ai = Ai::from_code(&code).ok_or(Gs1Error::UnknownAi {
                ai: code,
                position: here,
            })?;
            let mut end = start;
            while end < chars.len() && hri_ai_at(&chars, end).is_none() {
                end += 1;
            }
            b.set(ai, &chars[start..end])?;
            pos = end;
        }
        b.finish()
    }

    /// A GS1 Digital Link: `http(s)://host[/prefix]/01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD`.
    /// Non-numeric query keys (`linkType`, …) are ignored; numeric ones must be 17 or 71x.
    pub fn parse_digital_link(uri: &str, year: u16) -> Result<Self, Gs1Error> {
        let bad = |reason: String| Gs1Error::BadDigitalLink { reason };
        let chars: Vec<(char, usize)> = uri.chars().zip(1..).collect();
        let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
        let scheme = if lower.starts_with("https://") {
            8
        } else if lower.starts_with("http://") {
            7
        } else {
            return Err(bad("it must start with http:// or https://".into()));
        };
        let rest = &chars[scheme..];
        // The fragment is for the browser, not part of the identifier.
        let rest = &rest[..find(rest, '#')];
        let q = find(rest, '?');
        let (path, query) = (&rest[..q], rest.get(q + 1..).unwrap_or(&[]));
        let host_end = find(path, '/');
        if host_end == 0 {
            return Err(bad("it has no host".into()));
        }
        let segments: Vec<&Chars> = path
            .get(host_end + 1..)
            .unwrap_or(&[])
            .split(|(c, _)| *c == '/')
            .collect();
        // A path prefix before /01/ is allowed by the Digital Link standard.
        let first = segments
            .iter()
            .position(|s| text(s) == "01")
            .ok_or_else(|| bad("its path has no /01/{gtin}".into()))?;
        let pairs = &segments[first..];
        if !pairs.len().is_multiple_of(2) {
            let last = text(pairs[pairs.len() - 1]);
            return Err(bad(format!("path segment {last:?} has no value after it")));
        }
        let mut b = Builder::new(year);
        for pair in pairs.chunks(2) {
            let (key, value) = (text(pair[0]), percent_decode(pair[1])?);
            let position = pair[0].first().map_or(0, |(_, p)| *p);
            let ai = match Ai::from_code(&key) {
                Some(ai @ (Ai::Gtin | Ai::Lot | Ai::Serial)) => ai,
                Some(other) => {
                    let code = other.code();
                    return Err(bad(format!(
                        "({code}) belongs in the query string, not the path"
                    )));
                }
                None if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) => {
                    return Err(Gs1Error::UnknownAi { ai: key, position });
                }
                None => {
                    return Err(bad(format!(
                        "path segment {key:?} is not an application identifier"
                    )))
                }
            };
            if ai == Ai::Lot && b.serial.is_some() {
                return Err(bad("(10) must come before (21) in the path".into()));
            }
            if ai == Ai::Gtin {
                b.set(ai, &pad_gtin(&value)?)?;
            } else {
                b.set(ai, &value)?;
            }
        }
        for item in query.split(|(c, _)| *c == '&').filter(|s| !s.is_empty()) {
            let eq = find(item, '=');
            let key = text(&item[..eq]);
            if !key.chars().all(|c| c.is_ascii_digit()) {
                continue; // linkType, context, … are for the resolver
            }
            let position = item[0].1;
            let ai = match Ai::from_code(&key) {
                Some(ai @ (Ai::Expiry | Ai::Nhrn(_))) => ai,
                Some(other) => {
                    let code = other.code();
                    return Err(bad(format!(
                        "({code}) belongs in the path, not the query string"
                    )));
                }
                None => return Err(Gs1Error::UnknownAi { ai: key, position }),
            };
            b.set(ai, &percent_decode(item.get(eq + 1..).unwrap_or(&[]))?)?;
        }
        b.finish()
    }

    /// The element string a DataMatrix carries: 01, 17, 10, [71x], 21 — the serial last, so it
    /// needs no GS. `symbology_prefix` adds `]d2`.
    pub fn to_element_string(&self, symbology_prefix: bool) -> String {
        let prefix = if symbology_prefix { "]d2" } else { "" };
        let (gtin, expiry, lot) = (self.gtin.as_str(), self.expiry.yymmdd(), &self.lot);
        let nhrn = self.nhrn.as_ref().map(|(ai, v)| format!("{ai}{v}{GS}"));
        let (nhrn, serial) = (nhrn.unwrap_or_default(), &self.serial);
        format!("{prefix}01{gtin}17{expiry}10{lot}{GS}{nhrn}21{serial}")
    }

    /// The human-readable form, e.g. `(01)09506000134352(17)271231(10)ABC123(21)SER1`.
    pub fn to_hri(&self) -> String {
        let (gtin, expiry, lot) = (self.gtin.as_str(), self.expiry.yymmdd(), &self.lot);
        let nhrn = self.nhrn.as_ref().map(|(ai, v)| format!("({ai}){v}"));
        let (nhrn, serial) = (nhrn.unwrap_or_default(), &self.serial);
        format!("(01){gtin}(17){expiry}(10){lot}{nhrn}(21){serial}")
    }

    /// A Digital Link on `base` (e.g. `https://id.gs1.org`; one trailing `/` is dropped).
    pub fn to_digital_link(&self, base: &str) -> String {
        let base = base.strip_suffix('/').unwrap_or(base);
        let mut s = format!(
            "{base}/01/{}/10/{}/21/{}?17={}",
            self.gtin.as_str(),
            percent_encode(&self.lot),
            percent_encode(&self.serial),
            self.expiry.yymmdd()
        );
        if let Some((ai, value)) = &self.nhrn {
            s += &format!("&{ai}={}", percent_encode(value));
        }
        s
    }

    /// A JSON summary for APIs and audit records.
    pub fn to_json(&self) -> Value {
        json!({
            "gtin": self.gtin.as_str(),
            "ndc10": self.gtin.ndc10(),
            "lot": self.lot,
            "expiry": self.expiry.to_iso(),
            "expiry_encoded": self.expiry.yymmdd(),
            "serial": self.serial,
            "nhrn": self.nhrn.as_ref().map(|(ai, value)| json!({"ai": ai, "value": value})),
        })
    }
}

/// A Digital Link GTIN may be written as GTIN-8, -12, -13 or -14: left-pad it to 14 digits.
fn pad_gtin(value: &Chars) -> Result<Vec<(char, usize)>, Gs1Error> {
    if !value.iter().all(|(c, _)| c.is_ascii_digit()) {
        return Err(Gs1Error::NotDigits {
            ai: "01",
            value: text(value),
        });
    }
    if !matches!(value.len(), 8 | 12 | 13 | 14) {
        let n = value.len();
        return Err(Gs1Error::BadDigitalLink {
            reason: format!("(01) has {n} digits; a GTIN has 8, 12, 13 or 14"),
        });
    }
    let at = value.first().map_or(0, |(_, p)| *p);
    let mut out = vec![('0', at); 14 - value.len()];
    out.extend_from_slice(value);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const Y: u16 = 2026;
    const GTIN: &str = "09506000134352";

    fn parse(s: &str) -> Result<PackIdentifier, Gs1Error> {
        PackIdentifier::parse_with_reference_year(s, Y)
    }

    fn err(s: &str) -> Gs1Error {
        parse(s).unwrap_err()
    }

    fn sample() -> PackIdentifier {
        PackIdentifier {
            gtin: Gtin::parse(GTIN).unwrap(),
            expiry: Gs1Date {
                year: 2027,
                month: 12,
                day: 31,
            },
            lot: "ABC123".into(),
            serial: "SER1".into(),
            nhrn: None,
        }
    }

    #[test]
    fn element_string_forms() {
        let plain = "01095060001343521727123110ABC123\x1d21SER1";
        assert_eq!(parse(plain), Ok(sample()));
        assert_eq!(parse(&format!("]d2{plain}")), Ok(sample()));
        assert_eq!(parse(&format!("]C1\x1d{plain}")), Ok(sample()));
        assert_eq!(parse(&format!("\x1d{plain}")), Ok(sample()));
        assert_eq!(parse(&format!("]Q3{plain}\r\n")), Ok(sample()));
        // Any order, a redundant GS after a fixed field, serial not last.
        assert_eq!(
            parse("21SER1\x1d0109506000134352\x1d10ABC123\x1d17271231"),
            Ok(sample())
        );
        assert_eq!(sample().to_element_string(true), format!("]d2{plain}"));
    }

    #[test]
    fn hri_and_digital_link() {
        let hri = "(01)09506000134352(17)271231(10)ABC123(21)SER1";
        assert_eq!(parse(hri), Ok(sample()));
        assert_eq!(sample().to_hri(), hri);
        // A 13-digit GTIN, an encoded serial, extra query keys and a fragment.
        let mut p = sample();
        p.serial = "S/1&%".into();
        let dl = "https://example.com/dl/01/9506000134352/10/ABC123/21/S%2F1%26%25?linkType=gs1:pip&17=271231#x";
        assert_eq!(parse(dl), Ok(p.clone()));
        assert_eq!(
            p.to_digital_link("https://id.gs1.org/"),
            "https://id.gs1.org/01/09506000134352/10/ABC123/21/S%2F1%26%25?17=271231"
        );
        // An EU pack with an NHRN, and a GTIN-8.
        let eu = "HTTP://id.gs1.org/01/96385074/10/L%31/21/S?714=12345678&17=290200";
        let p = parse(eu).unwrap();
        assert_eq!(p.gtin.as_str(), "00000096385074");
        assert_eq!(
            (p.lot.as_str(), p.expiry.to_iso()),
            ("L1", "2029-02-28".to_string())
        );
        assert_eq!(p.nhrn, Some(("714".into(), "12345678".into())));
        assert_eq!(parse(&p.to_element_string(false)), Ok(p.clone()));
        assert_eq!(parse(&p.to_hri()), Ok(p));
    }

    #[test]
    fn end_of_month_and_unix_time() {
        let leap = Gs1Date::from_yymmdd("280200", Y).unwrap();
        assert_eq!(
            (leap.day, leap.last_day(), leap.to_iso()),
            (0, 29, "2028-02-29".into())
        );
        assert_eq!(leap.yymmdd(), "280200");
        let common = Gs1Date::from_yymmdd("270200", Y).unwrap();
        assert_eq!(
            (common.last_day(), common.to_iso()),
            (28, "2027-02-28".into())
        );
        assert!(Gs1Date::from_yymmdd("280229", Y).is_ok());
        // 2000 is a leap year, 2100 is not (reference 2080 puts 00 in the next century).
        assert!(Gs1Date::from_yymmdd("000229", Y).is_ok());
        assert!(Gs1Date::from_yymmdd("000229", 2080).is_err());

        // 1970..=2027 is 58 years with 14 leap days (1972..=2024): 2028-01-01 is day
        // 58 * 365 + 14 = 21184, and 21184 * 86400 = 1_830_297_600.
        let d = Gs1Date::from_yymmdd("271231", Y).unwrap();
        assert_eq!(d.end_of_day_unix(), 1_830_297_600);
        assert_eq!(
            Gs1Date::from_yymmdd("271200", Y).unwrap().end_of_day_unix(),
            1_830_297_600
        );
        for (v, y, m, day) in [
            ("280200", 2028, 2, 29),
            ("991231", 1999, 12, 31),
            ("500101", 2050, 1, 1),
        ] {
            let next = chrono::NaiveDate::from_ymd_opt(y, m, day)
                .unwrap()
                .succ_opt()
                .unwrap();
            let want = next.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
            assert_eq!(
                Gs1Date::from_yymmdd(v, Y).unwrap().end_of_day_unix(),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn century_window() {
        let year = |v: &str, r| Gs1Date::from_yymmdd(v, r).unwrap().year;
        assert_eq!(year("760101", 2026), 2076); // diff 50: this century
        assert_eq!(year("770101", 2026), 1977); // diff 51: previous century
        assert_eq!(year("260101", 2026), 2026);
        assert_eq!(year("300101", 2080), 2130); // diff -50: next century
        assert_eq!(year("310101", 2080), 2031); // diff -49: this century
        assert_eq!(year("990101", 2000), 1999);
    }

    #[test]
    fn gtin_check_digits_and_ndc() {
        for (gtin, ok) in [
            ("09506000134352", true),
            ("00312345678906", true),
            ("04006381333931", true),
            ("10614141000026", true),
            ("00301230456781", true),
            ("09506000134353", false),
            ("00312345678900", false),
        ] {
            assert_eq!(Gtin::parse(gtin).is_ok(), ok, "{gtin}");
        }
        let g = Gtin::parse("00301230456781").unwrap();
        assert_eq!(g.ndc10(), Some("0123045678"));
        assert_eq!(Gtin::parse(GTIN).unwrap().ndc10(), None);
        assert_eq!(serde_json::to_value(g).unwrap(), json!("00301230456781"));
        let mut p = sample();
        p.gtin = g;
        p.nhrn = Some(("710".into(), "X".into()));
        assert_eq!(
            p.to_json(),
            json!({"gtin": "00301230456781", "ndc10": "0123045678", "lot": "ABC123",
                   "expiry": "2027-12-31", "expiry_encoded": "271231", "serial": "SER1",
                   "nhrn": {"ai": "710", "value": "X"}})
        );
        assert_eq!(sample().to_json()["nhrn"], Value::Null);
    }

    #[test]
    fn errors() {
        use Gs1Error::*;
        let cases: Vec<(&str, Gs1Error, &str)> = vec![
            ("", Empty, "the scan is empty"),
            ("]d1010", UnsupportedSymbology { found: "]d1".into() },
             "symbology identifier ]d1 is not GS1 data: expected ]d2 (DataMatrix), ]C1 (GS1-128) or ]Q3 (GS1 QR Code)"),
            ("]d2010950600013435211271231", UnknownAi { ai: "11".into(), position: 20 },
             "unknown application identifier (11) at character 20: only (01), (17), (10), (21) and (710)-(715) are read"),
            ("10A\x1d716X", UnknownAi { ai: "716".into(), position: 5 },
             "unknown application identifier (716) at character 5: only (01), (17), (10), (21) and (710)-(715) are read"),
            ("10A\x1dXY", Malformed { position: 5, reason: "expected a 2-digit application identifier" },
             "malformed input at character 5: expected a 2-digit application identifier"),
            ("01095060001343\x1d", FixedLength { ai: "01", expected: 14, found: 12 },
             "(01) must be exactly 14 digits; found 12"),
            ("(17)27123A", NotDigits { ai: "17", value: "27123A".into() },
             "(17) must contain only digits; found \"27123A\""),
            ("0109506000134353", CheckDigit { gtin: "09506000134353".into(), expected: 2, found: 3 },
             "GTIN 09506000134353 has check digit 3; the mod-10 check digit of its first 13 digits is 2"),
            ("17270230", ImpossibleDate { ai: "17", value: "270230".into(), reason: "February 2027 has 28 days".into() },
             "(17) 270230 is not a date: February 2027 has 28 days"),
            ("17271301", ImpossibleDate { ai: "17", value: "271301".into(), reason: "there is no month 13".into() },
             "(17) 271301 is not a date: there is no month 13"),
            ("10AB#", InvalidCharacter { ai: "10", character: '#', position: 5 },
             "(10) has '#' at character 5, outside GS1 character set 82"),
            ("21ABCDEFGHIJKLMNOPQRST17271231", MissingSeparator { ai: "21" },
             "(21) runs past 20 characters: a variable-length field must end with the GS separator (0x1D) unless it is last"),
            ("(10)ABCDEFGHIJKLMNOPQRSTU", TooLong { ai: "10", found: 21 },
             "(10) has 21 characters; at most 20 are allowed"),
            ("10\x1d21X", EmptyField { ai: "10" }, "(10) is empty: it needs 1 to 20 characters"),
            ("01095060001343521727123110ABC", Missing { ai: "21" },
             "(21) serial number is missing: a DSCSA product identifier needs (01) GTIN, (17) expiry date, (10) lot number and (21) serial number"),
            ("10A\x1d10B", Duplicate { ai: "10" },
             "(10) appears more than once (a pack carries one of each, and at most one NHRN (710)-(715))"),
            ("https://x/01/123/10/A/21/B?17=271231", BadDigitalLink { reason: "(01) has 3 digits; a GTIN has 8, 12, 13 or 14".into() },
             "not a GS1 Digital Link: (01) has 3 digits; a GTIN has 8, 12, 13 or 14"),
            ("https://x/01/09506000134352/10/A%2G", BadPercentEscape { escape: "%2G".into(), position: 33, reason: "'%' must be followed by two hex digits" },
             "invalid percent escape \"%2G\" at character 33: '%' must be followed by two hex digits"),
        ];
        for (input, want, message) in cases {
            let got = err(input);
            assert_eq!(got, want, "{input:?}");
            assert_eq!(got.to_string(), message, "{input:?}");
        }
        // Further variants and Digital Link rules, by variant only.
        let dl = |tail: &str| err(&format!("https://id.gs1.org/01/{GTIN}{tail}"));
        assert!(
            matches!(dl("/22/X/10/A/21/B?17=271231"), UnknownAi { ai, position: 38 } if ai == "22")
        );
        assert!(matches!(dl("/10/A/21/B?17=271231&99=1"), UnknownAi { ai, .. } if ai == "99"));
        assert!(matches!(dl("/21/B/10/A?17=271231"), BadDigitalLink { .. }));
        assert!(matches!(dl("/10/A/21/B/17/271231"), BadDigitalLink { .. }));
        assert!(matches!(
            dl("/10/A/21/B?17=271231&10=C"),
            BadDigitalLink { .. }
        ));
        assert!(matches!(dl("/10/A/21?17=271231"), BadDigitalLink { .. }));
        assert!(matches!(
            dl("/10/A/21/B?17=271231&17=271231"),
            Duplicate { ai: "17" }
        ));
        assert!(matches!(
            dl("/10/A/21/B%20C?17=271231"),
            InvalidCharacter {
                ai: "21",
                character: ' ',
                ..
            }
        ));
        assert!(matches!(
            dl("/10/A/21/%C3%A9?17=271231"),
            BadPercentEscape { .. }
        ));
        assert!(matches!(dl("/10/A/21/B"), Missing { ai: "17" }));
        assert!(matches!(err("https:///01/1"), BadDigitalLink { .. }));
        assert!(matches!(
            err("(01)09506000134352(17)271231(10)A(21)B(714)1(711)2"),
            Duplicate { ai: "711" }
        ));
        assert!(matches!(err("(1)x"), Malformed { position: 1, .. }));
        assert!(matches!(
            err("10A\x1d\x1d21B"),
            Malformed { position: 5, .. }
        ));
    }

    fn set82_string() -> impl Strategy<Value = String> {
        let chars: Vec<char> = (0u8..128)
            .map(char::from)
            .filter(|&c| is_set82(c))
            .collect();
        assert_eq!(chars.len(), 82);
        proptest::collection::vec(proptest::sample::select(chars), 1..=MAX_VAR)
            .prop_map(|v| v.into_iter().collect())
    }

    prop_compose! {
        fn pack()(body in proptest::collection::vec(0u8..10, 13), yy in 0u16..100,
                  month in 1u8..=12, day in 0u8..=31, lot in set82_string(),
                  serial in set82_string(),
                  nhrn in proptest::option::of((0usize..6, set82_string()))) -> PackIdentifier {
            let mut digits: Vec<u8> = body.iter().map(|d| b'0' + d).collect();
            digits.push(b'0' + check_digit(&digits));
            let year = super::century_window(yy, Y).unwrap();
            let day = day % (days_in_month(i64::from(year), month) + 1);
            PackIdentifier {
                gtin: Gtin::parse(std::str::from_utf8(&digits).unwrap()).unwrap(),
                expiry: Gs1Date { year, month, day },
                lot,
                serial,
                nhrn: nhrn.map(|(i, v)| (NHRN_AIS[i].to_string(), v)),
            }
        }
    }

    /// Does a value contain text the HRI reader takes for the next AI?
    fn hri_ambiguous(s: &str) -> bool {
        let chars: Vec<(char, usize)> = s.chars().zip(1..).collect();
        (0..chars.len()).any(|i| hri_ai_at(&chars, i).is_some())
    }

    proptest! {
        #[test]
        fn round_trips(p in pack()) {
            for prefix in [true, false] {
                prop_assert_eq!(parse(&p.to_element_string(prefix)), Ok(p.clone()));
            }
            let nhrn = p.nhrn.as_ref().map_or("", |(_, v)| v.as_str());
            if ![p.lot.as_str(), &p.serial, nhrn].iter().any(|v| hri_ambiguous(v)) {
                prop_assert_eq!(parse(&p.to_hri()), Ok(p.clone()));
            }
            prop_assert_eq!(parse(&p.to_digital_link("https://id.gs1.org")), Ok(p.clone()));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80), year: u16) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = PackIdentifier::parse_with_reference_year(&s, year);
            let _ = PackIdentifier::parse_element_string(&s, year);
            let _ = PackIdentifier::parse_hri(&s, year);
            let _ = PackIdentifier::parse_digital_link(&s, year);
        }

        #[test]
        fn near_misses_never_panic(
            s in "(\\]d2|\\]|\x1d|\\(01\\)|https://a/01/|http://)?[0-9()\x1d%/?=&A-Fa-z#]{0,60}",
            year: u16,
        ) {
            // Anything accepted must also survive its own formatting.
            if let Ok(p) = PackIdentifier::parse_with_reference_year(&s, year) {
                let again = PackIdentifier::parse_with_reference_year(&p.to_element_string(true), year);
                prop_assert_eq!(again, Ok(p));
            }
        }
    }
}
