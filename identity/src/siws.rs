//! Sign-In With Solana (SIWS): the text message a wallet signs with its ed25519 key to prove to
//! a server that it holds an address.
//!
//! The layout is Phantom's SIWS specification (derived from EIP-4361 and CAIP-122):
//!
//! ```text
//! ${domain} wants you to sign in with your Solana account:
//! ${address}
//!
//! ${statement}
//!
//! URI: ${uri}
//! Version: ${version}
//! Chain ID: ${chain-id}
//! Nonce: ${nonce}
//! Issued At: ${issued-at}
//! Expiration Time: ${expiration-time}
//! Not Before: ${not-before}
//! Request ID: ${request-id}
//! Resources:
//! - ${resources[0]}
//! - ${resources[1]}
//! ```
//!
//! Every part after the address is optional in the specification, and a part that is absent
//! leaves no line (nor blank line) behind. This SDK always writes `Version: 1`, so the field
//! block is always present, and [`SignInMessage::parse`] requires it.
//!
//! [`SignInMessage::parse`] is strict: it accepts exactly what [`SignInMessage::to_text`] writes
//! (LF line endings, no trailing line break, fields once each and in the order above) and
//! refuses anything else with a message naming the line or field at fault.
//! [`SignInMessage::verify`] is what a server runs on a signed message.
//!
//! ```
//! use careledger_identity::siws::{new_nonce, SignInMessage};
//! use solana_keypair::Keypair;
//! use solana_signer::Signer;
//!
//! let wallet = Keypair::new();
//! let message = SignInMessage {
//!     domain: "127.0.0.1:8080".into(),
//!     address: wallet.pubkey(),
//!     statement: Some("Sign in to CareLedger.".into()),
//!     uri: Some("http://127.0.0.1:8080/login".into()),
//!     version: "1".into(),
//!     chain_id: Some("localnet".into()),
//!     nonce: Some(new_nonce()),
//!     issued_at: Some("2026-03-01T09:30:00Z".into()),
//!     expiration_time: None,
//!     not_before: None,
//!     request_id: None,
//!     resources: vec![],
//! };
//! let signature = message.sign(&wallet).unwrap();
//! let now = 1_772_357_460; // 2026-03-01T09:31:00Z
//! let text = message.to_text();
//! let checked = SignInMessage::verify(&text, &signature, "127.0.0.1:8080", now, 300, 60).unwrap();
//! assert_eq!(checked, message);
//! ```
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat};
use rand_core::{OsRng, RngCore};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::Signer;

use crate::IdentityError;

/// Longest message [`SignInMessage::parse`] reads, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Most `- ` lines under `Resources:`.
pub const MAX_RESOURCES: usize = 16;
/// Fewest characters a nonce may have (the specification's `8*( ALPHA / DIGIT )`).
pub const MIN_NONCE_LEN: usize = 8;
/// Characters in a nonce from [`new_nonce`] (about 143 bits).
pub const NONCE_LEN: usize = 24;
/// The only message version the specification defines.
pub const VERSION: &str = "1";
/// The Chain ID values the specification allows.
pub const CHAIN_IDS: &[&str] = &[
    "mainnet",
    "testnet",
    "devnet",
    "localnet",
    "solana:mainnet",
    "solana:testnet",
    "solana:devnet",
];

/// What follows the domain on the first line.
const HEADER_SUFFIX: &str = " wants you to sign in with your Solana account:";
/// Longest piece of input quoted back in an error message, in characters.
const QUOTE_MAX: usize = 48;

/// A Sign-In With Solana message (see the [module documentation](self) for its layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInMessage {
    /// RFC 3986 authority of the site asking, e.g. "127.0.0.1:8080" or "records.clinic.example".
    pub domain: String,
    /// The wallet that signs in.
    pub address: Pubkey,
    /// One human-readable line (the specification's reserved and unreserved characters and
    /// spaces, so no line break).
    pub statement: Option<String>,
    /// RFC 3986 URI of the resource being signed in to.
    pub uri: Option<String>,
    /// Always "1".
    pub version: String,
    /// One of [`CHAIN_IDS`], e.g. "mainnet", "devnet", "localnet".
    pub chain_id: Option<String>,
    /// At least [`MIN_NONCE_LEN`] ASCII letters and digits; see [`new_nonce`].
    pub nonce: Option<String>,
    /// RFC 3339 timestamp, kept as written.
    pub issued_at: Option<String>,
    /// RFC 3339 timestamp, kept as written.
    pub expiration_time: Option<String>,
    /// RFC 3339 timestamp, kept as written.
    pub not_before: Option<String>,
    /// Characters of an RFC 3986 path segment (`pchar`), possibly none.
    pub request_id: Option<String>,
    /// URIs, one per `- ` line; at most [`MAX_RESOURCES`].
    pub resources: Vec<String>,
}

impl SignInMessage {
    /// The message text in the exact SIWS layout: the header line and the address, then
    /// `"\n\n"` and the statement if there is one, then `"\n\n"` and the field lines. No line
    /// break ends it. Values are written as they are; [`SignInMessage::validate`] checks them.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}{HEADER_SUFFIX}\n{}", self.domain, self.address);
        if let Some(statement) = &self.statement {
            text.push_str("\n\n");
            text.push_str(statement);
        }
        let fields = self.field_lines();
        if !fields.is_empty() {
            text.push_str("\n\n");
            text.push_str(&fields.join("\n"));
        }
        text
    }

    /// The `Field: value` lines in the specification's order (and the `- ` resource lines).
    fn field_lines(&self) -> Vec<String> {
        let optional = |field: Field, value: &Option<String>| {
            value.as_ref().map(|v| format!("{}: {v}", field.name()))
        };
        let mut lines: Vec<String> = [
            optional(Field::Uri, &self.uri),
            Some(format!("{}: {}", Field::Version.name(), self.version)),
            optional(Field::ChainId, &self.chain_id),
            optional(Field::Nonce, &self.nonce),
            optional(Field::IssuedAt, &self.issued_at),
            optional(Field::ExpirationTime, &self.expiration_time),
            optional(Field::NotBefore, &self.not_before),
            optional(Field::RequestId, &self.request_id),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !self.resources.is_empty() {
            lines.push("Resources:".to_string());
            lines.extend(self.resources.iter().map(|r| format!("- {r}")));
        }
        lines
    }

    /// Reads a message, strictly: the exact inverse of [`SignInMessage::to_text`]. Refuses
    /// (naming the line and field) input over [`MAX_MESSAGE_BYTES`], a carriage return, a
    /// trailing line break, a malformed header, a non-base58 address, a misplaced or missing
    /// blank line, a multi-line statement, an unknown, duplicate or out-of-order field, a
    /// missing `Version`, a value outside its syntax (URI, version, Chain ID, nonce of fewer
    /// than [`MIN_NONCE_LEN`] letters and digits, RFC 3339 timestamps, request ID), an empty
    /// `Resources:` list or more than [`MAX_RESOURCES`] resources.
    pub fn parse(text: &str) -> Result<SignInMessage, IdentityError> {
        check_envelope(text)?;
        let lines: Vec<&str> = text.split('\n').collect();
        let domain = parse_header(lines.first().copied().unwrap_or_default())?;
        let address = parse_address(lines.get(1).copied())?;
        let (statement, fields_from) = split_blocks(&lines)?;
        let mut message = SignInMessage {
            domain,
            address,
            statement,
            uri: None,
            version: String::new(),
            chain_id: None,
            nonce: None,
            issued_at: None,
            expiration_time: None,
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        };
        let field_lines = lines.get(fields_from..).unwrap_or_default();
        parse_fields(field_lines, fields_from + 1, &mut message)?;
        Ok(message)
    }

    /// Checks that every value is within its syntax and that the message reads back unchanged
    /// (no value carries a line break into another line), so that a server's
    /// [`SignInMessage::parse`] will accept the text.
    pub fn validate(&self) -> Result<(), IdentityError> {
        let read_back = Self::parse(&self.to_text())?;
        if read_back != *self {
            return Err(sign_in_error(
                "the message changes when written and read back: a value contains a line break",
            ));
        }
        Ok(())
    }

    /// Signs the bytes of [`SignInMessage::to_text`] with `signer`. Refuses a signer whose
    /// public key is not `address`, and a message [`SignInMessage::validate`] refuses.
    pub fn sign(&self, signer: &(impl Signer + ?Sized)) -> Result<Signature, IdentityError> {
        let key = signer
            .try_pubkey()
            .map_err(|e| sign_in_error(format!("the signer has no public key: {e}")))?;
        if key != self.address {
            return Err(sign_in_error(format!(
                "the signer is {key}, but the message's address is {}",
                self.address
            )));
        }
        self.validate()?;
        signer
            .try_sign_message(self.to_text().as_bytes())
            .map_err(|e| sign_in_error(format!("the signer failed: {e}")))
    }

    /// Verifies a signed message as a server would, and returns it parsed. In order:
    /// - the text parses ([`SignInMessage::parse`]);
    /// - `signature` verifies for `address` over the exact bytes of `text`;
    /// - `domain` equals `expected_domain`;
    /// - a nonce is present (the caller still checks it is one it issued, and unused);
    /// - `Issued At` is present, at most `max_age_secs` before `now_unix` and at most
    ///   `max_skew_secs` after it (clock skew);
    /// - `now_unix` is before `Expiration Time` and not before `Not Before`, where present.
    ///
    /// Times are Unix seconds; both bounds must be non-negative.
    pub fn verify(
        text: &str,
        signature: &Signature,
        expected_domain: &str,
        now_unix: i64,
        max_age_secs: i64,
        max_skew_secs: i64,
    ) -> Result<SignInMessage, IdentityError> {
        if max_age_secs < 0 || max_skew_secs < 0 {
            return Err(sign_in_error(format!(
                "max_age_secs ({max_age_secs}) and max_skew_secs ({max_skew_secs}) must not be \
                 negative"
            )));
        }
        let message = Self::parse(text)?;
        if !signature.verify(message.address.as_ref(), text.as_bytes()) {
            return Err(sign_in_error(format!(
                "the signature does not verify for address {}",
                message.address
            )));
        }
        if message.domain != expected_domain {
            return Err(sign_in_error(format!(
                "domain is {}, expected {expected_domain}",
                message.domain
            )));
        }
        if message.nonce.is_none() {
            return Err(sign_in_error(
                "Nonce is missing: a server must bind each sign-in to a nonce it issued",
            ));
        }
        message.check_times(now_unix, max_age_secs, max_skew_secs)?;
        Ok(message)
    }

    /// The time checks of [`SignInMessage::verify`].
    fn check_times(
        &self,
        now: i64,
        max_age_secs: i64,
        max_skew_secs: i64,
    ) -> Result<(), IdentityError> {
        let issued_at = self.issued_at.as_deref().ok_or_else(|| {
            sign_in_error("Issued At is missing: a server must know when the sign-in was issued")
        })?;
        let issued = instant(Field::IssuedAt, issued_at).map_err(sign_in_error)?;
        let now_text = rfc3339(now);
        if issued < (now.saturating_sub(max_age_secs), 0) {
            return Err(sign_in_error(format!(
                "Issued At is {issued_at}, more than {max_age_secs} s before now ({now_text})"
            )));
        }
        if issued > (now.saturating_add(max_skew_secs), 0) {
            return Err(sign_in_error(format!(
                "Issued At is {issued_at}, more than {max_skew_secs} s after now ({now_text})"
            )));
        }
        if let Some(expiration) = &self.expiration_time {
            if (now, 0) >= instant(Field::ExpirationTime, expiration).map_err(sign_in_error)? {
                return Err(sign_in_error(format!(
                    "Expiration Time is {expiration}: the message expired (now is {now_text})"
                )));
            }
        }
        if let Some(not_before) = &self.not_before {
            if (now, 0) < instant(Field::NotBefore, not_before).map_err(sign_in_error)? {
                return Err(sign_in_error(format!(
                    "Not Before is {not_before}: the message is not valid yet (now is {now_text})"
                )));
            }
        }
        Ok(())
    }
}

/// Now as an RFC 3339 timestamp in whole seconds (a message's Issued At), from the wall clock.
pub fn issued_now() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fresh nonce: [`NONCE_LEN`] ASCII letters and digits drawn uniformly from the operating
/// system's CSPRNG.
///
/// # Panics
/// If the operating system's random source fails, as `OsRng` does.
pub fn new_nonce() -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // 248 = 4 * 62: bytes at or above it are dropped, so every character is equally likely.
    const LIMIT: u8 = 248;
    let mut nonce = String::with_capacity(NONCE_LEN);
    let mut bytes = [0u8; 32];
    while nonce.len() < NONCE_LEN {
        OsRng.fill_bytes(&mut bytes);
        for byte in bytes.iter().filter(|b| **b < LIMIT) {
            if nonce.len() == NONCE_LEN {
                break;
            }
            nonce.push(char::from(ALPHABET[usize::from(byte % 62)]));
        }
    }
    nonce
}

/// The fields after the address, in the order the specification writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Uri,
    Version,
    ChainId,
    Nonce,
    IssuedAt,
    ExpirationTime,
    NotBefore,
    RequestId,
    Resources,
}

impl Field {
    /// Every field, in order.
    const ALL: [Field; 9] = [
        Field::Uri,
        Field::Version,
        Field::ChainId,
        Field::Nonce,
        Field::IssuedAt,
        Field::ExpirationTime,
        Field::NotBefore,
        Field::RequestId,
        Field::Resources,
    ];

    /// The field's name as written before the colon.
    fn name(self) -> &'static str {
        match self {
            Field::Uri => "URI",
            Field::Version => "Version",
            Field::ChainId => "Chain ID",
            Field::Nonce => "Nonce",
            Field::IssuedAt => "Issued At",
            Field::ExpirationTime => "Expiration Time",
            Field::NotBefore => "Not Before",
            Field::RequestId => "Request ID",
            Field::Resources => "Resources",
        }
    }

    /// How the field's line is written.
    fn template(self) -> String {
        match self {
            Field::Resources => "Resources:".to_string(),
            _ => format!("{}: <value>", self.name()),
        }
    }

    /// The field called `name`, if any.
    fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A [`IdentityError::SignIn`] with `message`.
fn sign_in_error(message: impl Into<String>) -> IdentityError {
    IdentityError::SignIn(message.into())
}

/// `s` for quoting in an error message, cut to [`QUOTE_MAX`] characters.
fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("`{}...`", &s[..cut]),
        None => format!("`{s}`"),
    }
}

/// Unix time `unix` as RFC 3339 (UTC, whole seconds), for error messages.
fn rfc3339(unix: i64) -> String {
    DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("Unix time {unix}"))
}

/// Checks what holds for the text as a whole: its size, LF-only line endings, no trailing
/// line break.
fn check_envelope(text: &str) -> Result<(), IdentityError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(sign_in_error(format!(
            "the message is {} bytes, more than the {MAX_MESSAGE_BYTES} allowed",
            text.len()
        )));
    }
    if let Some(at) = text.find('\r') {
        let line = text[..at].matches('\n').count() + 1;
        return Err(sign_in_error(format!(
            "line {line} contains a carriage return: lines must end with LF only, not CRLF"
        )));
    }
    if text.ends_with('\n') {
        return Err(sign_in_error(
            "the message ends with a line break: nothing may follow its last line",
        ));
    }
    Ok(())
}

/// The domain from line 1, `<domain> wants you to sign in with your Solana account:`.
fn parse_header(line: &str) -> Result<String, IdentityError> {
    let domain = line.strip_suffix(HEADER_SUFFIX).ok_or_else(|| {
        sign_in_error(format!(
            "line 1 must read `<domain>{HEADER_SUFFIX}`, found {}",
            quote(line)
        ))
    })?;
    check_domain(domain).map_err(|e| sign_in_error(format!("line 1: {e}")))?;
    Ok(domain.to_string())
}

/// The address from line 2: a Solana address in canonical base58.
fn parse_address(line: Option<&str>) -> Result<Pubkey, IdentityError> {
    let line = line.ok_or_else(|| sign_in_error("line 2 (the address) is missing"))?;
    let address = Pubkey::from_str(line).map_err(|e| {
        sign_in_error(format!(
            "line 2: address {} is not a base58 Solana address ({e})",
            quote(line)
        ))
    })?;
    if address.to_string() != line {
        return Err(sign_in_error(format!(
            "line 2: address {} is not in canonical base58 (expected {address})",
            quote(line)
        )));
    }
    Ok(address)
}

/// Splits what follows the address into the statement (if any) and the index of the first
/// field line. Line 3 is blank; then either the field block, or the statement, a blank line
/// and the field block.
fn split_blocks(lines: &[&str]) -> Result<(Option<String>, usize), IdentityError> {
    match lines.get(2) {
        None => {
            return Err(sign_in_error(
                "the message ends after the address: the fields (at least `Version: 1`) are \
                 missing",
            ))
        }
        Some(line) if !line.is_empty() => {
            return Err(sign_in_error(format!(
                "line 3 must be blank (it separates the address from the statement and the \
                 fields), found {}",
                quote(line)
            )))
        }
        Some(_) => {}
    }
    let first = lines.get(3).copied().unwrap_or_default();
    let next_blank = lines
        .iter()
        .enumerate()
        .skip(3)
        .find(|(_, line)| line.is_empty())
        .map(|(at, _)| at);
    match next_blank {
        None if lines.len() == 4
            && split_field(first).is_err()
            && check_statement(first).is_ok() =>
        {
            Err(sign_in_error(
                "line 4 reads as a statement, but no blank line and fields follow it: the \
                 fields (at least `Version: 1`) are missing",
            ))
        }
        None => Ok((None, 3)),
        Some(3) => Err(sign_in_error(
            "line 4 is blank: only one blank line may follow the address",
        )),
        Some(4) => {
            check_statement(first).map_err(|e| sign_in_error(format!("line 4: {e}")))?;
            Ok((Some(first.to_string()), 5))
        }
        Some(blank) if split_field(first).is_ok() => Err(sign_in_error(format!(
            "line {}: a blank line after the fields (the fields form the last block)",
            blank + 1
        ))),
        Some(_) => Err(sign_in_error(
            "the statement (line 4) must be one line, but line 5 follows it before the blank line",
        )),
    }
}

/// Reads the field lines into `message`; `first_line` is the 1-based number of the first.
/// Each field appears at most once and in order, `Version` is required, and `Resources:`
/// (last) is followed by one to [`MAX_RESOURCES`] `- <URI>` lines.
fn parse_fields(
    lines: &[&str],
    first_line: usize,
    message: &mut SignInMessage,
) -> Result<(), IdentityError> {
    let mut seen = [false; Field::ALL.len()];
    let mut last: Option<Field> = None;
    for (offset, line) in lines.iter().enumerate() {
        let number = first_line + offset;
        let at_line = |e: String| sign_in_error(format!("line {number}: {e}"));
        if last == Some(Field::Resources) {
            if let Some(uri) = line.strip_prefix("- ") {
                if message.resources.len() == MAX_RESOURCES {
                    return Err(at_line(format!("more than {MAX_RESOURCES} resources")));
                }
                check_uri("resource", uri).map_err(at_line)?;
                message.resources.push(uri.to_string());
                continue;
            }
        }
        if line.is_empty() {
            return Err(at_line(
                "unexpected blank line: the fields form one block, the last of the message"
                    .to_string(),
            ));
        }
        let (field, value) = split_field(line).map_err(at_line)?;
        if seen[field as usize] {
            return Err(at_line(format!("duplicate field {}", field.name())));
        }
        if let Some(previous) = last.filter(|previous| field < *previous) {
            return Err(at_line(format!(
                "field {} is out of order: it must come before {}",
                field.name(),
                previous.name()
            )));
        }
        seen[field as usize] = true;
        last = Some(field);
        set_field(message, field, value).map_err(at_line)?;
    }
    if last == Some(Field::Resources) && message.resources.is_empty() {
        return Err(sign_in_error(
            "`Resources:` lists no URI: write at least one `- <URI>` line, or leave it out",
        ));
    }
    if !seen[Field::Version as usize] {
        return Err(sign_in_error("the Version field is missing (`Version: 1`)"));
    }
    Ok(())
}

/// The field a line holds and its value; the error says what is wrong with the line.
fn split_field(line: &str) -> Result<(Field, &str), String> {
    if line == "Resources:" {
        return Ok((Field::Resources, ""));
    }
    let named = line.split_once(": ");
    if let Some((field, value)) = named.and_then(|(n, v)| Some((Field::from_name(n)?, v))) {
        if field != Field::Resources {
            return Ok((field, value));
        }
    }
    let name = line.split_once(':').map_or(line, |(name, _)| name);
    match Field::from_name(name) {
        Some(field) => Err(format!(
            "field {} must be written `{}`",
            field.name(),
            field.template()
        )),
        None if line.starts_with("- ") => Err(format!(
            "resource line {} is not under `Resources:`",
            quote(line)
        )),
        None => Err(format!("unknown field {}", quote(name))),
    }
}

/// Checks `value` against its field's syntax and stores it in `message`.
fn set_field(message: &mut SignInMessage, field: Field, value: &str) -> Result<(), String> {
    let owned = Some(value.to_string());
    match field {
        Field::Uri => {
            check_uri(field.name(), value)?;
            message.uri = owned;
        }
        Field::Version => {
            if value != VERSION {
                return Err(format!(
                    "Version is {}, but only `{VERSION}` is defined",
                    quote(value)
                ));
            }
            message.version = value.to_string();
        }
        Field::ChainId => {
            if !CHAIN_IDS.contains(&value) {
                return Err(format!(
                    "Chain ID {} is not one of {}",
                    quote(value),
                    CHAIN_IDS.join(", ")
                ));
            }
            message.chain_id = owned;
        }
        Field::Nonce => {
            check_nonce(value)?;
            message.nonce = owned;
        }
        Field::IssuedAt => {
            instant(field, value)?;
            message.issued_at = owned;
        }
        Field::ExpirationTime => {
            instant(field, value)?;
            message.expiration_time = owned;
        }
        Field::NotBefore => {
            instant(field, value)?;
            message.not_before = owned;
        }
        Field::RequestId => {
            check_chars("Request ID", value, is_pchar, true)?;
            message.request_id = owned;
        }
        // its values follow on `- ` lines
        Field::Resources => {}
    }
    Ok(())
}

/// RFC 3986 `unreserved`.
fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// RFC 3986 `sub-delims`.
fn is_sub_delim(c: char) -> bool {
    matches!(
        c,
        '!' | '$' | '&' | '\'' | '(' | ')' | '*' | '+' | ',' | ';' | '='
    )
}

/// RFC 3986 `reserved` (`gen-delims` and `sub-delims`).
fn is_reserved(c: char) -> bool {
    is_sub_delim(c) || matches!(c, ':' | '/' | '?' | '#' | '[' | ']' | '@')
}

/// RFC 3986 `pchar`, less the `%` of `pct-encoded`.
fn is_pchar(c: char) -> bool {
    is_unreserved(c) || is_sub_delim(c) || matches!(c, ':' | '@')
}

/// Characters of an RFC 3986 `authority` (userinfo, host with IP literals, port), less `%`.
fn is_authority_char(c: char) -> bool {
    is_pchar(c) || matches!(c, '[' | ']')
}

/// Characters of an RFC 3986 URI, less `%`.
fn is_uri_char(c: char) -> bool {
    is_unreserved(c) || is_reserved(c)
}

/// Characters of a statement: the specification's `reserved / unreserved / " "`.
fn is_statement_char(c: char) -> bool {
    is_unreserved(c) || is_reserved(c) || c == ' '
}

/// Checks that every character of `value` is `allowed`, or (if `percent`) a `%` followed by
/// two hex digits. `what` names the value in the error.
fn check_chars(
    what: &str,
    value: &str,
    allowed: fn(char) -> bool,
    percent: bool,
) -> Result<(), String> {
    let mut chars = value.char_indices();
    while let Some((at, c)) = chars.next() {
        if percent && c == '%' {
            let hex = value.get(at + 1..at + 3);
            if !hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) {
                return Err(format!(
                    "{what} {} has a `%` at byte {at} not followed by two hex digits",
                    quote(value)
                ));
            }
            chars.nth(1);
        } else if !allowed(c) {
            return Err(format!(
                "{what} {} contains {c:?}, which is not allowed there",
                quote(value)
            ));
        }
    }
    Ok(())
}

/// Checks an RFC 3986 authority (the domain).
fn check_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("the domain is empty".to_string());
    }
    check_chars("domain", domain, is_authority_char, true)
}

/// Checks an RFC 3986 URI: a scheme, a colon, then URI characters.
fn check_uri(what: &str, uri: &str) -> Result<(), String> {
    let scheme = uri.split_once(':').map(|(scheme, _)| scheme);
    let scheme_ok = scheme.is_some_and(|s| {
        s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok {
        return Err(format!(
            "{what} {} is not a URI: it must start with a scheme such as `https:`",
            quote(uri)
        ));
    }
    check_chars(what, uri, is_uri_char, true)
}

/// Checks a statement: non-empty, one line of the specification's characters.
fn check_statement(statement: &str) -> Result<(), String> {
    if statement.is_empty() {
        return Err("the statement is empty (leave it out instead)".to_string());
    }
    check_chars("statement", statement, is_statement_char, false)
}

/// Checks a nonce: at least [`MIN_NONCE_LEN`] ASCII letters and digits.
fn check_nonce(nonce: &str) -> Result<(), String> {
    if let Some(c) = nonce.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(format!(
            "Nonce {} contains {c:?}: only ASCII letters and digits are allowed",
            quote(nonce)
        ));
    }
    if nonce.len() < MIN_NONCE_LEN {
        return Err(format!(
            "Nonce {} has {} characters, fewer than the {MIN_NONCE_LEN} required",
            quote(nonce),
            nonce.len()
        ));
    }
    Ok(())
}

/// An RFC 3339 timestamp of `field` as (Unix seconds, nanoseconds), which order as instants.
fn instant(field: Field, value: &str) -> Result<(i64, u32), String> {
    if value.as_bytes().get(10) == Some(&b' ') {
        return Err(format!(
            "{} {} separates date and time with a space; RFC 3339 needs `T`",
            field.name(),
            quote(value)
        ));
    }
    let time = DateTime::parse_from_rfc3339(value).map_err(|e| {
        format!(
            "{} {} is not an RFC 3339 timestamp such as 2026-03-01T09:30:00Z ({e})",
            field.name(),
            quote(value)
        )
    })?;
    Ok((time.timestamp(), time.timestamp_subsec_nanos()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_keypair::Keypair;

    const DOMAIN: &str = "127.0.0.1:8080";
    const TOKEN_PROGRAM: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
    const MAX_AGE: i64 = 300;
    const SKEW: i64 = 60;

    /// Unix seconds of an RFC 3339 timestamp.
    fn unix(timestamp: &str) -> i64 {
        DateTime::parse_from_rfc3339(timestamp)
            .expect("a test timestamp")
            .timestamp()
    }

    /// The message of an `Err`, or a panic naming the unexpected `Ok`.
    fn refusal<T: std::fmt::Debug>(result: Result<T, IdentityError>) -> String {
        match result {
            Err(IdentityError::SignIn(message)) => message,
            other => panic!("expected a sign-in refusal, got {other:?}"),
        }
    }

    fn wallet() -> Keypair {
        Keypair::new_from_array([7; 32])
    }

    /// Every field set.
    fn full_message() -> SignInMessage {
        SignInMessage {
            domain: "records.clinic.example".to_string(),
            address: Pubkey::from_str(TOKEN_PROGRAM).expect("a valid address"),
            statement: Some("Sign in to CareLedger to view your records.".to_string()),
            uri: Some("https://records.clinic.example/login".to_string()),
            version: "1".to_string(),
            chain_id: Some("devnet".to_string()),
            nonce: Some("k3J9xQ2mP7vR".to_string()),
            issued_at: Some("2026-03-01T09:30:00Z".to_string()),
            expiration_time: Some("2026-03-01T09:40:00Z".to_string()),
            not_before: Some("2026-03-01T09:30:00Z".to_string()),
            request_id: Some("req-42".to_string()),
            resources: vec![
                "https://records.clinic.example/terms".to_string(),
                "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".to_string(),
            ],
        }
    }

    /// Only the required parts: domain, address, version.
    fn minimal_message() -> SignInMessage {
        SignInMessage {
            domain: DOMAIN.to_string(),
            address: Pubkey::from_str(TOKEN_PROGRAM).expect("a valid address"),
            statement: None,
            uri: None,
            version: "1".to_string(),
            chain_id: None,
            nonce: None,
            issued_at: None,
            expiration_time: None,
            not_before: None,
            request_id: None,
            resources: vec![],
        }
    }

    /// What a server would issue to `wallet()`: nonce, issued at 09:30:00Z.
    fn server_message() -> SignInMessage {
        SignInMessage {
            domain: DOMAIN.to_string(),
            address: wallet().pubkey(),
            statement: Some("Sign in to CareLedger.".to_string()),
            uri: Some("http://127.0.0.1:8080/login".to_string()),
            chain_id: Some("localnet".to_string()),
            nonce: Some("Abcdef0123456789".to_string()),
            issued_at: Some("2026-03-01T09:30:00Z".to_string()),
            ..minimal_message()
        }
    }

    /// Signs `message` with `wallet()` and verifies it at `now`.
    fn sign_and_verify(message: &SignInMessage, now: &str) -> Result<SignInMessage, IdentityError> {
        let signature = message.sign(&wallet())?;
        SignInMessage::verify(
            &message.to_text(),
            &signature,
            DOMAIN,
            unix(now),
            MAX_AGE,
            SKEW,
        )
    }

    #[test]
    fn siws_exact_text_of_a_full_message() {
        let expected = "records.clinic.example wants you to sign in with your Solana account:\n\
            TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA\n\
            \n\
            Sign in to CareLedger to view your records.\n\
            \n\
            URI: https://records.clinic.example/login\n\
            Version: 1\n\
            Chain ID: devnet\n\
            Nonce: k3J9xQ2mP7vR\n\
            Issued At: 2026-03-01T09:30:00Z\n\
            Expiration Time: 2026-03-01T09:40:00Z\n\
            Not Before: 2026-03-01T09:30:00Z\n\
            Request ID: req-42\n\
            Resources:\n\
            - https://records.clinic.example/terms\n\
            - ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        assert_eq!(full_message().to_text(), expected);
    }

    #[test]
    fn siws_exact_text_without_statement_or_optional_fields() {
        assert_eq!(
            minimal_message().to_text(),
            "127.0.0.1:8080 wants you to sign in with your Solana account:\n\
             TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA\n\
             \n\
             Version: 1"
        );
        let with_statement = SignInMessage {
            statement: Some("Hello.".to_string()),
            ..minimal_message()
        };
        assert_eq!(
            with_statement.to_text(),
            "127.0.0.1:8080 wants you to sign in with your Solana account:\n\
             TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA\n\
             \n\
             Hello.\n\
             \n\
             Version: 1"
        );
    }

    #[test]
    fn siws_round_trips() {
        let messages = [
            full_message(),
            minimal_message(),
            server_message(),
            SignInMessage {
                request_id: Some(String::new()),
                statement: Some("URI: looks like a field".to_string()),
                ..minimal_message()
            },
        ];
        for message in messages {
            let text = message.to_text();
            assert_eq!(SignInMessage::parse(&text).expect(&text), message);
            message.validate().expect("valid");
        }
    }

    #[test]
    fn siws_verify_accepts_a_fresh_signed_message() {
        let message = SignInMessage {
            expiration_time: Some("2026-03-01T09:40:00Z".to_string()),
            not_before: Some("2026-03-01T09:30:00Z".to_string()),
            ..server_message()
        };
        let checked = sign_and_verify(&message, "2026-03-01T09:31:00Z").expect("valid");
        assert_eq!(checked, message);
        // issued slightly in the future, within the skew
        sign_and_verify(&server_message(), "2026-03-01T09:29:30Z").expect("within skew");
        // exactly max_age old
        sign_and_verify(&server_message(), "2026-03-01T09:35:00Z").expect("at max age");
    }

    #[test]
    fn siws_verify_refuses_a_wrong_domain() {
        let message = SignInMessage {
            domain: "evil.example".to_string(),
            ..server_message()
        };
        assert_eq!(
            refusal(sign_and_verify(&message, "2026-03-01T09:31:00Z")),
            "domain is evil.example, expected 127.0.0.1:8080"
        );
    }

    #[test]
    fn siws_verify_refuses_an_expired_message() {
        let message = SignInMessage {
            expiration_time: Some("2026-03-01T09:32:00Z".to_string()),
            ..server_message()
        };
        sign_and_verify(&message, "2026-03-01T09:31:59Z").expect("not yet expired");
        assert_eq!(
            refusal(sign_and_verify(&message, "2026-03-01T09:32:00Z")),
            "Expiration Time is 2026-03-01T09:32:00Z: the message expired \
             (now is 2026-03-01T09:32:00Z)"
        );
    }

    #[test]
    fn siws_verify_refuses_before_not_before() {
        let message = SignInMessage {
            not_before: Some("2026-03-01T09:33:00Z".to_string()),
            ..server_message()
        };
        let error = refusal(sign_and_verify(&message, "2026-03-01T09:31:00Z"));
        assert!(
            error.starts_with("Not Before is 2026-03-01T09:33:00Z"),
            "{error}"
        );
        sign_and_verify(&message, "2026-03-01T09:33:00Z").expect("valid from Not Before");
    }

    #[test]
    fn siws_verify_refuses_issued_in_the_future_beyond_skew() {
        assert_eq!(
            refusal(sign_and_verify(&server_message(), "2026-03-01T09:28:59Z")),
            "Issued At is 2026-03-01T09:30:00Z, more than 60 s after now (2026-03-01T09:28:59Z)"
        );
    }

    #[test]
    fn siws_verify_refuses_a_message_too_old() {
        assert_eq!(
            refusal(sign_and_verify(&server_message(), "2026-03-01T09:35:01Z")),
            "Issued At is 2026-03-01T09:30:00Z, more than 300 s before now (2026-03-01T09:35:01Z)"
        );
    }

    #[test]
    fn siws_verify_refuses_missing_nonce_or_issued_at() {
        let no_nonce = SignInMessage {
            nonce: None,
            ..server_message()
        };
        let error = refusal(sign_and_verify(&no_nonce, "2026-03-01T09:31:00Z"));
        assert!(error.starts_with("Nonce is missing"), "{error}");
        let no_issued_at = SignInMessage {
            issued_at: None,
            ..server_message()
        };
        let error = refusal(sign_and_verify(&no_issued_at, "2026-03-01T09:31:00Z"));
        assert!(error.starts_with("Issued At is missing"), "{error}");
    }

    #[test]
    fn siws_refuses_a_short_or_non_alphanumeric_nonce() {
        let text = server_message()
            .to_text()
            .replace("Nonce: Abcdef0123456789", "Nonce: Abc123");
        assert_eq!(
            refusal(SignInMessage::parse(&text)),
            "line 9: Nonce `Abc123` has 6 characters, fewer than the 8 required"
        );
        let short = SignInMessage {
            nonce: Some("Abc123".to_string()),
            ..server_message()
        };
        let error = refusal(short.sign(&wallet()));
        assert!(error.contains("fewer than the 8 required"), "{error}");
        let dashed = text.replace("Nonce: Abc123", "Nonce: Abc-123456");
        let error = refusal(SignInMessage::parse(&dashed));
        assert!(error.contains("contains '-'"), "{error}");
    }

    #[test]
    fn siws_verify_refuses_a_signature_by_another_key() {
        let message = server_message();
        let text = message.to_text();
        let other = Keypair::new_from_array([8; 32]);
        let signature = other.sign_message(text.as_bytes());
        let error = refusal(SignInMessage::verify(
            &text,
            &signature,
            DOMAIN,
            unix("2026-03-01T09:31:00Z"),
            MAX_AGE,
            SKEW,
        ));
        assert_eq!(
            error,
            format!(
                "the signature does not verify for address {}",
                wallet().pubkey()
            )
        );
    }

    #[test]
    fn siws_verify_refuses_text_altered_after_signing() {
        let message = server_message();
        let signature = message.sign(&wallet()).expect("signed");
        let text = message.to_text();
        let altered = text.replace("CareLedger.", "CareLedgex.");
        assert_eq!(altered.len(), text.len());
        assert_ne!(altered, text);
        let error = refusal(SignInMessage::verify(
            &altered,
            &signature,
            DOMAIN,
            unix("2026-03-01T09:31:00Z"),
            MAX_AGE,
            SKEW,
        ));
        assert!(
            error.starts_with("the signature does not verify"),
            "{error}"
        );
    }

    #[test]
    fn siws_sign_refuses_a_mismatched_signer() {
        let other = Keypair::new_from_array([8; 32]);
        assert_eq!(
            refusal(server_message().sign(&other)),
            format!(
                "the signer is {}, but the message's address is {}",
                other.pubkey(),
                wallet().pubkey()
            )
        );
    }

    #[test]
    fn siws_sign_refuses_a_value_with_a_line_break() {
        let message = SignInMessage {
            resources: vec!["https://a.example\n- https://b.example".to_string()],
            ..server_message()
        };
        let error = refusal(message.sign(&wallet()));
        assert!(error.contains("line break"), "{error}");
        let message = SignInMessage {
            statement: Some("two\nlines".to_string()),
            ..server_message()
        };
        let error = refusal(message.sign(&wallet()));
        assert!(error.contains("must be one line"), "{error}");
    }

    #[test]
    fn siws_parse_refuses_an_unknown_field() {
        let text = full_message()
            .to_text()
            .replace("Request ID: req-42", "Session: req-42");
        assert_eq!(
            refusal(SignInMessage::parse(&text)),
            "line 13: unknown field `Session`"
        );
    }

    #[test]
    fn siws_parse_refuses_a_duplicate_field() {
        let text = full_message()
            .to_text()
            .replace("Version: 1", "Version: 1\nVersion: 1");
        assert_eq!(
            refusal(SignInMessage::parse(&text)),
            "line 8: duplicate field Version"
        );
    }

    #[test]
    fn siws_parse_refuses_fields_out_of_order() {
        let text = full_message().to_text().replace(
            "Chain ID: devnet\nNonce: k3J9xQ2mP7vR",
            "Nonce: k3J9xQ2mP7vR\nChain ID: devnet",
        );
        assert_eq!(
            refusal(SignInMessage::parse(&text)),
            "line 9: field Chain ID is out of order: it must come before Nonce"
        );
        let after_resources = format!("{}\nURI: https://x.example", minimal_message().to_text())
            .replace("Version: 1", "Version: 1\nResources:\n- https://r.example");
        let error = refusal(SignInMessage::parse(&after_resources));
        assert_eq!(
            error,
            "line 7: field URI is out of order: it must come before Resources"
        );
    }

    #[test]
    fn siws_parse_refuses_crlf_and_trailing_data() {
        let text = full_message().to_text().replace('\n', "\r\n");
        assert_eq!(
            refusal(SignInMessage::parse(&text)),
            "line 1 contains a carriage return: lines must end with LF only, not CRLF"
        );
        let trailing = format!("{}\n", full_message().to_text());
        let error = refusal(SignInMessage::parse(&trailing));
        assert!(
            error.starts_with("the message ends with a line break"),
            "{error}"
        );
        let extra_block = format!("{}\n\nmore", full_message().to_text());
        let error = refusal(SignInMessage::parse(&extra_block));
        assert_eq!(
            error,
            "line 17: unexpected blank line: the fields form one block, the last of the message"
        );
        // "Version: 1" then a blank line reads as a statement, so "more" is a field line
        let after_fields = format!("{}\n\nmore", minimal_message().to_text());
        let error = refusal(SignInMessage::parse(&after_fields));
        assert_eq!(error, "line 6: unknown field `more`");
        let after_two_fields = format!("{}\n\nmore", server_message().to_text())
            .replace("\n\nSign in to CareLedger.", "");
        let error = refusal(SignInMessage::parse(&after_two_fields));
        assert_eq!(
            error,
            "line 9: a blank line after the fields (the fields form the last block)"
        );
    }

    #[test]
    fn siws_parse_refuses_oversize_input_and_too_many_resources() {
        let statement = "a".repeat(MAX_MESSAGE_BYTES);
        let big = SignInMessage {
            statement: Some(statement),
            ..minimal_message()
        };
        let error = refusal(SignInMessage::parse(&big.to_text()));
        assert!(error.ends_with("more than the 4096 allowed"), "{error}");
        let many = SignInMessage {
            resources: (0..=MAX_RESOURCES)
                .map(|i| format!("https://r.example/{i}"))
                .collect(),
            ..minimal_message()
        };
        assert_eq!(
            refusal(SignInMessage::parse(&many.to_text())),
            "line 22: more than 16 resources"
        );
        let empty = format!("{}\nResources:", minimal_message().to_text());
        let error = refusal(SignInMessage::parse(&empty));
        assert!(error.starts_with("`Resources:` lists no URI"), "{error}");
    }

    #[test]
    fn siws_parse_refuses_a_bad_header_or_address() {
        let text = minimal_message().to_text();
        let error = refusal(SignInMessage::parse(&text.replace("wants you", "asks you")));
        assert!(error.starts_with("line 1 must read"), "{error}");
        let error = refusal(SignInMessage::parse(
            &text.replace("127.0.0.1", "127.0.0 .1"),
        ));
        assert!(error.contains("contains ' '"), "{error}");
        let not_base58 = text.replace(TOKEN_PROGRAM, "Tokenkeg0feZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
        let error = refusal(SignInMessage::parse(&not_base58));
        assert!(error.starts_with("line 2: address `Tokenkeg0fe"), "{error}");
        let error = refusal(SignInMessage::parse(&text.replace(TOKEN_PROGRAM, "abc")));
        assert!(error.contains("is not a base58 Solana address"), "{error}");
    }

    #[test]
    fn siws_parse_refuses_bad_values() {
        let text = full_message().to_text();
        let cases = [
            (
                "Issued At: 2026-03-01T09:30:00Z",
                "Issued At: 2026-03-01 09:30:00Z",
                "line 10: Issued At `2026-03-01 09:30:00Z` separates date and time with a space",
            ),
            (
                "Expiration Time: 2026-03-01T09:40:00Z",
                "Expiration Time: 2026-02-30T09:40:00Z",
                "line 11: Expiration Time `2026-02-30T09:40:00Z` is not an RFC 3339 timestamp",
            ),
            (
                "Chain ID: devnet",
                "Chain ID: solana:localnet",
                "line 8: Chain ID `solana:localnet` is not one of mainnet",
            ),
            (
                "Version: 1",
                "Version: 2",
                "line 7: Version is `2`, but only `1` is defined",
            ),
            (
                "URI: https://records.clinic.example/login",
                "URI: records.clinic.example/login",
                "line 6: URI `records.clinic.example/login` is not a URI",
            ),
            (
                "Request ID: req-42",
                "Request ID: req 42",
                "line 13: Request ID `req 42` contains ' '",
            ),
            (
                "Version: 1",
                "Version:1",
                "line 7: field Version must be written `Version: <value>`",
            ),
            (
                "Resources:",
                "Resources: https://x.example",
                "line 14: field Resources must be written `Resources:`",
            ),
        ];
        for (from, to, expected) in cases {
            let error = refusal(SignInMessage::parse(&text.replace(from, to)));
            assert!(error.starts_with(expected), "{error} / {expected}");
        }
    }

    #[test]
    fn siws_parse_refuses_misplaced_blank_lines_and_missing_version() {
        let header =
            format!("{DOMAIN} wants you to sign in with your Solana account:\n{TOKEN_PROGRAM}");
        let cases = [
            (header.clone(), "the message ends after the address"),
            (format!("{header}\nVersion: 1"), "line 3 must be blank"),
            (format!("{header}\n\n\nVersion: 1"), "line 4 is blank"),
            (format!("{header}\n\nHello."), "line 4 reads as a statement"),
            (
                format!("{header}\n\nHello.\nWorld.\n\nVersion: 1"),
                "the statement (line 4) must be one line",
            ),
            (
                format!("{header}\n\nChain ID: devnet"),
                "the Version field is missing",
            ),
        ];
        for (text, expected) in cases {
            let error = refusal(SignInMessage::parse(&text));
            assert!(error.starts_with(expected), "{error} / {expected}");
        }
    }

    #[test]
    fn siws_new_nonce_is_long_random_and_alphanumeric() {
        let a = new_nonce();
        let b = new_nonce();
        assert_eq!(a.len(), NONCE_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        check_nonce(&a).expect("a valid nonce");
    }
}
