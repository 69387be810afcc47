//! Small encodings and clocks the CLI's parts share.

/// Standard base64, as the ledger folder's account files and the gateway's headers use it.
pub fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// Lowercase hex, as SHA-256 digests are shown.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The wall clock, unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Now as an RFC 3339 timestamp (a sign-in message's Issued At).
pub fn issued_now() -> String {
    chrono::DateTime::from_timestamp(unix_now(), 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
