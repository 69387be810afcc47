//! Small encodings and clocks the CLI's parts share.

/// Standard base64, as the ledger folder's account files and the gateway's headers use it.
pub fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Lowercase hex, as SHA-256 digests are shown (and sent in the gateway's headers).
pub use careledger_records::protocol::hex;

/// The wall clock, unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Now as an RFC 3339 timestamp (a sign-in message's Issued At).
pub use careledger_identity::siws::issued_now;
