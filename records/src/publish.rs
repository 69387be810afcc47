//! Publishing a record's ciphertext to IPFS: the CAR of its UnixFS DAG (the one whose root CID
//! is anchored) handed to an IPFS node through
//! - Kubo's RPC API: `POST /api/v0/dag/import?pin-roots=true`, the CAR as the multipart `file`
//!   part; Kubo answers NDJSON lines `{"Root":{"Cid":{"/":CID},"PinErrorMsg":TEXT}}`;
//! - the IPFS Pinning Service API: `POST /pins` with a bearer token and a `Pin`
//!   (`{cid, name, origins, meta}`), the custodian's gateway as origin (a multiaddr); the
//!   service answers `202` with a `PinStatus` and fetches the blocks itself.
//!
//! The CAR sent is built from ciphertext fetched back from the custodian's trustless gateway
//! and checked block by block against the anchored CID ([`crate::trustless::extract_car`])
//! before it goes anywhere, so a record is published only as the custodian serves it. Every
//! request has a connect timeout, a timeout between reads and one in all. Nothing here is
//! ever logged with the token, and an error never carries it.
use crate::unixfs::Profile;
use crate::RecordsError;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// The environment variable `--pinning-service` reads its access token from: never a
/// command-line argument, which other users of the machine can read in the process list.
pub const TOKEN_VARIABLE: &str = "CARELEDGER_PINNING_TOKEN";
/// How long an IPFS node may take to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a node may pause while it reads a CAR or answers.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest one publication may take in all (4 GiB at 8 MiB/s).
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(512);
/// The most of a node's answer that is read: Kubo's NDJSON for one root, a PinStatus or an
/// error are a few hundred bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// Why a record was not published. The messages are what `careledger` prints.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{flag} {url} {reason}")]
    BadUrl {
        flag: &'static str,
        url: String,
        reason: String,
    },
    #[error("--pinning-service needs its access token in the environment variable {0} (it is never read from the command line); e.g. `read -rs {0} && export {0}`")]
    NoToken(&'static str),
    #[error("the gateway {url} cannot be given to a pinning service as an origin: {reason}")]
    NoOrigin { url: String, reason: String },
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}{text}")]
    Status {
        url: String,
        status: u16,
        text: String,
    },
    #[error("{url} answered HTTP {status} with {what} that careledger cannot read: {reason}")]
    BadAnswer {
        url: String,
        status: u16,
        what: &'static str,
        reason: String,
    },
    #[error("{url} imported root {got}, not the anchored CID {expected}")]
    WrongRoot {
        url: String,
        got: String,
        expected: String,
    },
    #[error("{url} imported {cid} but did not pin it: {message}")]
    NotPinned {
        url: String,
        cid: String,
        message: String,
    },
    #[error("{url} reports the pin of {cid} as failed{info}")]
    PinFailed {
        url: String,
        cid: String,
        info: String,
    },
    #[error("cannot build the CAR: {0}")]
    Car(String),
}

/// An IPFS node to publish to, as the user named it.
pub enum Target {
    /// Kubo's RPC API at this base URL (e.g. http://127.0.0.1:5001).
    Kubo { url: reqwest::Url },
    /// An IPFS Pinning Service API endpoint (the URL `/pins` is under) and its token.
    PinningService { url: reqwest::Url, token: String },
}

// The token never reaches a log through `{:?}`.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

fn http_url(flag: &'static str, text: &str) -> Result<reqwest::Url, PublishError> {
    let bad = |reason: String| PublishError::BadUrl {
        flag,
        url: text.to_string(),
        reason,
    };
    let url = reqwest::Url::parse(text)
        .map_err(|e| bad(format!("is not an http:// or https:// URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("is not an http:// or https:// URL".into()));
    }
    if url.host_str().is_none() {
        return Err(bad("names no host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("has a ? or #: give the API's base URL".into()));
    }
    // a password in a URL is in the process list and in every message that names the URL
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "carries a user name or password: give the URL without them".into(),
        ));
    }
    Ok(url)
}

/// Whether `url` names this machine (plain http to it does not cross a network).
fn is_loopback(url: &reqwest::Url) -> bool {
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Target {
    /// `--kubo URL`: Kubo's RPC base URL, without `/api/v0` (which is added).
    pub fn kubo(text: &str) -> Result<Target, PublishError> {
        let url = http_url("--kubo", text)?;
        if url.path().trim_end_matches('/').ends_with("/api/v0") {
            return Err(PublishError::BadUrl {
                flag: "--kubo",
                url: text.to_string(),
                reason: "ends in /api/v0: give the node's base URL (e.g. http://127.0.0.1:5001), to which /api/v0 is added"
                    .into(),
            });
        }
        Ok(Target::Kubo { url })
    }

    /// `--pinning-service URL`, with the token read from [`TOKEN_VARIABLE`] (`token` is that
    /// variable's value, if it is set).
    pub fn pinning_service(text: &str, token: Option<String>) -> Result<Target, PublishError> {
        let url = http_url("--pinning-service", text)?;
        // the bearer token goes with every request: never in clear text over a network
        if url.scheme() == "http" && !is_loopback(&url) {
            return Err(PublishError::BadUrl {
                flag: "--pinning-service",
                url: text.to_string(),
                reason: "is plain http to another machine: the access token would cross the network in clear text (use https://, or http:// to this machine only)".into(),
            });
        }
        if url.path().trim_end_matches('/').ends_with("/pins") {
            return Err(PublishError::BadUrl {
                flag: "--pinning-service",
                url: text.to_string(),
                reason: "ends in /pins: give the service's endpoint, to which /pins is added"
                    .into(),
            });
        }
        let token = token
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or(PublishError::NoToken(TOKEN_VARIABLE))?;
        Ok(Target::PinningService { url, token })
    }

    /// E.g. "Kubo at http://127.0.0.1:5001".
    pub fn describe(&self) -> String {
        match self {
            Target::Kubo { url } => format!("Kubo at {}", base(url)),
            Target::PinningService { url, .. } => format!("the pinning service {}", base(url)),
        }
    }

    /// The flag that names this target again, e.g. `--kubo http://127.0.0.1:5001`.
    pub fn flag(&self) -> String {
        match self {
            Target::Kubo { url } => format!("--kubo {}", base(url)),
            Target::PinningService { url, .. } => format!("--pinning-service {}", base(url)),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Target::Kubo { .. } => "kubo",
            Target::PinningService { .. } => "pinning-service",
        }
    }
}

fn base(url: &reqwest::Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

/// The multiaddr a pinning service reaches `gateway` (an http(s) URL) at, as the spec's
/// `origins` are: `http://127.0.0.1:8080` → `/ip4/127.0.0.1/tcp/8080/http`,
/// `https://records.example` → `/dns/records.example/tcp/443/https`. A gateway under a path
/// has no multiaddr (its /ipfs is not at the root), and is refused.
pub fn origin_multiaddr(gateway: &str) -> Result<String, PublishError> {
    let no = |reason: &str| PublishError::NoOrigin {
        url: gateway.to_string(),
        reason: reason.to_string(),
    };
    let url = reqwest::Url::parse(gateway).map_err(|e| no(&e.to_string()))?;
    let scheme = match url.scheme() {
        "http" => "http",
        "https" => "https",
        _ => return Err(no("it is not an http:// or https:// URL")),
    };
    if url.path() != "/" && !url.path().is_empty() {
        return Err(no(
            "it is under a path, and a multiaddr names only a host and port",
        ));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| no("it has no port"))?;
    let host = match url.host_str() {
        None | Some("") => return Err(no("it names no host")),
        Some(h) if h.starts_with('[') => format!("/ip6/{}", h.trim_matches(['[', ']'])),
        Some(h) if h.parse::<std::net::Ipv4Addr>().is_ok() => format!("/ip4/{h}"),
        Some(h) => format!("/dns/{h}"),
    };
    Ok(format!("{host}/tcp/{port}/{scheme}"))
}

/// What a node said it did with the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The root CID the node imported or will pin (checked to be the anchored one).
    pub cid: String,
    /// Kubo: "pinned"; a pinning service: its PinStatus.status (queued, pinning, pinned).
    pub status: String,
    /// A pinning service's requestid, to follow the pin with `GET /pins/{requestid}`.
    pub request_id: Option<String>,
}

/// What a record is published as: its anchored root CID, a name and metadata for a pinning
/// service, and the custodian's gateway as origin.
pub struct Publication<'a> {
    pub cid: &'a str,
    /// The pin's name (e.g. `careledger record PATIENT/INDEX`).
    pub name: &'a str,
    /// The custodian's gateway URL: a pinning service fetches the blocks from its /ipfs.
    pub gateway: &'a str,
    /// String keys and values for `Pin.meta`.
    pub meta: &'a [(&'a str, String)],
}

/// Builds the CAR of the ciphertext in `ciphertext` (fetched and verified against `cid`) into
/// a scratch file in `dir`, and checks its root is `cid` once more.
pub fn car_of_ciphertext(
    ciphertext: &Path,
    cid: &[u8],
    dir: &Path,
) -> Result<tempfile::NamedTempFile, PublishError> {
    let profile = Profile::implied_by(cid)
        .ok_or_else(|| PublishError::Car("not a UnixFS file CID".into()))?;
    let mut out = tempfile::Builder::new()
        .prefix(".publish.")
        .suffix(".car")
        .tempfile_in(dir)
        .map_err(|e| {
            PublishError::Car(format!("cannot create a file in {}: {e}", dir.display()))
        })?;
    let writer = std::io::BufWriter::new(out.as_file_mut());
    let root = crate::car::write_car(ciphertext, profile, writer)
        .map_err(|e: RecordsError| PublishError::Car(e.to_string()))?;
    if root.cid != cid {
        return Err(PublishError::Car(
            "the fetched ciphertext does not give the anchored CID".into(),
        ));
    }
    Ok(out)
}

/// The HTTP client every publication uses: bounded at each step.
pub fn http_client() -> Result<reqwest::Client, PublishError> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .build()
        .map_err(|e| PublishError::Car(format!("cannot start an HTTP client: {e}")))
}

/// Publishes the CAR at `car` (whose root is `publication.cid`) to `target`.
pub async fn publish(
    http: &reqwest::Client,
    target: &Target,
    car: &Path,
    publication: &Publication<'_>,
) -> Result<Published, PublishError> {
    match target {
        Target::Kubo { url } => kubo_import(http, url, car, publication.cid).await,
        Target::PinningService { url, token } => pin(http, url, token, publication).await,
    }
}

/// `POST {url}/api/v0/dag/import?pin-roots=true` with the CAR as the multipart `file` part,
/// then the NDJSON answer's root checked against `cid` with no pin error.
pub async fn kubo_import(
    http: &reqwest::Client,
    url: &reqwest::Url,
    car: &Path,
    cid: &str,
) -> Result<Published, PublishError> {
    let endpoint = format!("{}/api/v0/dag/import?pin-roots=true", base(url));
    let file = tokio::fs::File::open(car)
        .await
        .map_err(|e| PublishError::Car(format!("cannot read {}: {e}", car.display())))?;
    let car_len = file
        .metadata()
        .await
        .map_err(|e| PublishError::Car(e.to_string()))?
        .len();
    let boundary = format!("careledger-{}", careledger_identity::siws::new_nonce());
    let (head, tail) = multipart_frame(&boundary);
    let length = head.len() as u64 + car_len + tail.len() as u64;
    let car_stream = tokio_util::io::ReaderStream::with_capacity(file, 1 << 16)
        .map(|piece| piece.map(|bytes| bytes.to_vec()));
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(head.into_bytes())])
        .chain(car_stream)
        .chain(futures_util::stream::iter([Ok(tail.into_bytes())]));
    let response = http
        .post(&endpoint)
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(reqwest::header::CONTENT_LENGTH, length)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .map_err(|e| unreachable(&endpoint, &e))?;
    let status = response.status();
    let text = read_answer(response, &endpoint).await?;
    if !status.is_success() {
        // Kubo's errors are {"Message", "Code", "Type"}
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["Message"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(status_error(&endpoint, status.as_u16(), &message));
    }
    parse_kubo_import(&endpoint, status.as_u16(), &text, cid)
}

/// Kubo's `dag import` answer: one `{"Root": ...}` line per root (and `{"Stats": ...}` when
/// asked), or an error object in the stream.
pub fn parse_kubo_import(
    endpoint: &str,
    status: u16,
    text: &str,
    cid: &str,
) -> Result<Published, PublishError> {
    let bad = |reason: String| PublishError::BadAnswer {
        url: endpoint.to_string(),
        status,
        what: "NDJSON",
        reason,
    };
    let mut roots = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let value: Value =
            serde_json::from_str(line).map_err(|e| bad(format!("{e} in `{}`", clip(line))))?;
        if let Some(message) = value["Message"].as_str() {
            return Err(status_error(endpoint, status, message));
        }
        if let Some(root) = value.get("Root") {
            let got = root["Cid"]["/"]
                .as_str()
                .ok_or_else(|| bad(format!("a Root without Cid./ in `{}`", clip(line))))?;
            let pin_error = root["PinErrorMsg"].as_str().unwrap_or_default();
            roots.push((got.to_string(), pin_error.to_string()));
        }
    }
    let Some((got, pin_error)) = roots.iter().find(|(got, _)| got == cid).or(roots.first()) else {
        return Err(bad("no Root line".into()));
    };
    if got != cid {
        return Err(PublishError::WrongRoot {
            url: endpoint.to_string(),
            got: got.clone(),
            expected: cid.to_string(),
        });
    }
    if !pin_error.is_empty() {
        return Err(PublishError::NotPinned {
            url: endpoint.to_string(),
            cid: cid.to_string(),
            message: pin_error.clone(),
        });
    }
    Ok(Published {
        cid: cid.to_string(),
        status: "pinned".into(),
        request_id: None,
    })
}

/// `POST {url}/pins` with the bearer token and `{cid, name, origins, meta}`; the `PinStatus`
/// answer's `pin.cid` checked against the anchored CID.
pub async fn pin(
    http: &reqwest::Client,
    url: &reqwest::Url,
    token: &str,
    publication: &Publication<'_>,
) -> Result<Published, PublishError> {
    let endpoint = format!("{}/pins", base(url));
    let origin = origin_multiaddr(publication.gateway)?;
    let meta: serde_json::Map<String, Value> = publication
        .meta
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
        .collect();
    let body = json!({
        "cid": publication.cid,
        "name": publication.name,
        "origins": [origin],
        "meta": meta,
    });
    let response = http
        .post(&endpoint)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| unreachable(&endpoint, &e))?;
    let status = response.status();
    let text = read_answer(response, &endpoint).await?;
    if !status.is_success() {
        // the spec's Failure: {"error": {"reason", "details"}}
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                let reason = v["error"]["reason"].as_str()?.to_string();
                Some(match v["error"]["details"].as_str() {
                    Some(details) => format!("{reason}: {details}"),
                    None => reason,
                })
            })
            .unwrap_or(text);
        return Err(status_error(&endpoint, status.as_u16(), &message));
    }
    parse_pin_status(&endpoint, status.as_u16(), &text, publication.cid)
}

/// A `PinStatus`: `{requestid, status, created, pin: {cid, ...}, delegates, info?}`.
pub fn parse_pin_status(
    endpoint: &str,
    status: u16,
    text: &str,
    cid: &str,
) -> Result<Published, PublishError> {
    let bad = |reason: String| PublishError::BadAnswer {
        url: endpoint.to_string(),
        status,
        what: "a PinStatus",
        reason,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    let request_id = value["requestid"]
        .as_str()
        .ok_or_else(|| bad("no requestid".into()))?;
    let pin_status = value["status"]
        .as_str()
        .ok_or_else(|| bad("no status".into()))?;
    let got = value["pin"]["cid"]
        .as_str()
        .ok_or_else(|| bad("no pin.cid".into()))?;
    if got != cid {
        return Err(PublishError::WrongRoot {
            url: endpoint.to_string(),
            got: got.to_string(),
            expected: cid.to_string(),
        });
    }
    match pin_status {
        "queued" | "pinning" | "pinned" => {}
        "failed" => {
            let info = value["info"]["status_details"]
                .as_str()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(PublishError::PinFailed {
                url: endpoint.to_string(),
                cid: cid.to_string(),
                info,
            });
        }
        other => return Err(bad(format!("an unknown status `{}`", clip(other)))),
    }
    Ok(Published {
        cid: cid.to_string(),
        status: pin_status.to_string(),
        request_id: Some(request_id.to_string()),
    })
}

/// The multipart/form-data text before and after the CAR's bytes.
fn multipart_frame(boundary: &str) -> (String, String) {
    (
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"record.car\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ),
        format!("\r\n--{boundary}--\r\n"),
    )
}

fn unreachable(endpoint: &str, e: &reqwest::Error) -> PublishError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    if e.is_timeout() {
        reason = format!("timed out ({reason})");
    }
    PublishError::Unreachable {
        url: endpoint.to_string(),
        reason,
    }
}

fn status_error(endpoint: &str, status: u16, message: &str) -> PublishError {
    let message = clip(message.trim());
    PublishError::Status {
        url: endpoint.to_string(),
        status,
        text: if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        },
    }
}

/// At most 300 characters of a node's words.
fn clip(text: &str) -> String {
    // a node's words are printed to a terminal: no control characters from it
    let mut clipped: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    if text.chars().count() > 300 {
        clipped.push('…');
    }
    clipped
}

/// The answer's text, at most [`MAX_ANSWER`] bytes of it.
async fn read_answer(response: reqwest::Response, endpoint: &str) -> Result<String, PublishError> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| unreachable(endpoint, &e))?;
        body.extend_from_slice(&piece);
        if body.len() >= MAX_ANSWER {
            body.truncate(MAX_ANSWER);
            break;
        }
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_multiaddrs() {
        assert_eq!(
            origin_multiaddr("http://127.0.0.1:8080").unwrap(),
            "/ip4/127.0.0.1/tcp/8080/http"
        );
        assert_eq!(
            origin_multiaddr("https://records.example").unwrap(),
            "/dns/records.example/tcp/443/https"
        );
        assert_eq!(
            origin_multiaddr("http://[::1]:9000/").unwrap(),
            "/ip6/::1/tcp/9000/http"
        );
        assert!(origin_multiaddr("http://h.example/under/a/path").is_err());
        assert!(origin_multiaddr("ftp://h.example").is_err());
    }

    #[test]
    fn urls_and_the_token_are_checked_before_any_request() {
        assert!(Target::kubo("http://127.0.0.1:5001").is_ok());
        for bad in [
            "127.0.0.1:5001",
            "ftp://x",
            "http://127.0.0.1:5001/api/v0",
            "http://h?x=1",
            // a password would be in the process list and every message naming the URL
            "http://user:secret@127.0.0.1:5001",
        ] {
            assert!(
                matches!(Target::kubo(bad), Err(PublishError::BadUrl { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            Target::pinning_service("https://pins.example", None),
            Err(PublishError::NoToken(TOKEN_VARIABLE))
        ));
        assert!(matches!(
            Target::pinning_service("https://pins.example", Some("  ".into())),
            Err(PublishError::NoToken(_))
        ));
        // the token would cross a network in clear text; to this machine it need not
        assert!(matches!(
            Target::pinning_service("http://pins.example", Some("t".into())),
            Err(PublishError::BadUrl { .. })
        ));
        for local in [
            "http://127.0.0.1:9000",
            "http://[::1]:9000",
            "http://localhost:9000",
        ] {
            assert!(
                Target::pinning_service(local, Some("t".into())).is_ok(),
                "{local}"
            );
        }
        assert!(clip("a\x1b[2Jb").chars().all(|c| !c.is_control()));
        let target =
            Target::pinning_service("https://pins.example/", Some("s3cret".into())).unwrap();
        assert!(!format!("{target:?} {} {}", target.describe(), target.flag()).contains("s3cret"));
    }

    #[test]
    fn kubo_answers_are_checked() {
        let cid = "bafkreiroot";
        let ok = r#"{"Root":{"Cid":{"/":"bafkreiroot"},"PinErrorMsg":""}}"#;
        assert_eq!(parse_kubo_import("u", 200, ok, cid).unwrap().cid, cid);
        let with_stats =
            format!("{ok}\n{{\"Stats\":{{\"BlockCount\":1,\"BlockBytesCount\":3}}}}\n");
        assert!(parse_kubo_import("u", 200, &with_stats, cid).is_ok());
        let wrong = r#"{"Root":{"Cid":{"/":"bafkreiother"},"PinErrorMsg":""}}"#;
        assert!(matches!(
            parse_kubo_import("u", 200, wrong, cid),
            Err(PublishError::WrongRoot { .. })
        ));
        let unpinned = r#"{"Root":{"Cid":{"/":"bafkreiroot"},"PinErrorMsg":"disk full"}}"#;
        let e = parse_kubo_import("u", 200, unpinned, cid).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        let error = r#"{"Message":"block was not found locally","Code":0,"Type":"error"}"#;
        let e = parse_kubo_import("u", 200, error, cid).unwrap_err();
        assert!(e.to_string().contains("block was not found locally"), "{e}");
        assert!(parse_kubo_import("u", 200, "", cid).is_err());
        assert!(parse_kubo_import("u", 200, "<html>", cid).is_err());
    }

    #[test]
    fn pin_statuses_are_checked() {
        let cid = "bafkreiroot";
        let status = |s: &str, c: &str| {
            format!(
                r#"{{"requestid":"r1","status":"{s}","created":"2026-01-01T00:00:00Z","pin":{{"cid":"{c}"}},"delegates":["/ip4/1.2.3.4/tcp/4001/p2p/x"]}}"#
            )
        };
        let ok = parse_pin_status("u", 202, &status("queued", cid), cid).unwrap();
        assert_eq!(ok.request_id.as_deref(), Some("r1"));
        assert!(matches!(
            parse_pin_status("u", 202, &status("queued", "bafkreiother"), cid),
            Err(PublishError::WrongRoot { .. })
        ));
        assert!(matches!(
            parse_pin_status("u", 202, &status("failed", cid), cid),
            Err(PublishError::PinFailed { .. })
        ));
        assert!(parse_pin_status("u", 202, "{}", cid).is_err());
    }
}
