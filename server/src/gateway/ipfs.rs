//! `GET|HEAD /ipfs/{cid}`: the gateway as an IPFS trustless gateway. Any stored ciphertext,
//! or any block of its DAG, by CID, as a block (`application/vnd.ipld.raw`) or a CAR
//! (`application/vnd.ipld.car`), chosen by `?format=` or `Accept`. No signature and no
//! consent: the bytes are ciphertext, checked by the client against the CID, and the key is
//! released only against an access event (`/v1/records/{record}/release`).
//!
//! Only stored records are served: an upload staged before its anchor is not.
use super::Gateway;
use crate::problem::Problem;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use careledger_records::trustless::{self, CidRefusal, Format, FormatError, ObjectBlocks};
use careledger_sdk::LedgerView;
use std::collections::HashMap;
use std::sync::Arc;

/// Query parameters a trustless request may carry that this gateway acts on or accepts.
const KNOWN_PARAMS: [&str; 5] = [
    "format",
    "dag-scope",
    "car-version",
    "car-order",
    "car-dups",
];

pub async fn block_or_dag<V: LedgerView + 'static>(
    State(gw): State<Arc<Gateway<V>>>,
    Path(cid): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let mut params = HashMap::new();
    for (key, value) in pairs {
        if params.insert(key.clone(), value).is_some() {
            return Err(Problem::bad_request(
                "repeated-parameter",
                format!("?{key} is given more than once: give it once"),
            ));
        }
    }
    if let Some(param) = params.keys().find(|k| !KNOWN_PARAMS.contains(&k.as_str())) {
        return Err(Problem::bad_request(
            "unsupported-parameter",
            format!(
                "?{param} is not supported here: a record is one file, served whole (format, dag-scope=all|entity|block)"
            ),
        ));
    }
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = trustless::format_of(params.get("format").map(String::as_str), accept).map_err(
        |e| match e {
            FormatError::UnknownFormat(_) => Problem::bad_request("unknown-format", e.to_string()),
            FormatError::NotAcceptable => Problem::new(
                StatusCode::NOT_ACCEPTABLE,
                "not-acceptable",
                "Not acceptable",
                e.to_string(),
            ),
        },
    )?;
    let whole_dag = match params.get("dag-scope").map(String::as_str) {
        None | Some("all") | Some("entity") => true,
        Some("block") => false,
        Some(other) => {
            return Err(Problem::bad_request(
                "unknown-dag-scope",
                format!("dag-scope={other}: use all, entity or block"),
            ))
        }
    };
    let binary = trustless::parse_cid(&cid).map_err(|e| match e {
        CidRefusal::Malformed(_) => Problem::bad_request("bad-cid", e.to_string()),
        CidRefusal::NotOurs(_) => Problem::bad_request("not-a-record-cid", e.to_string()),
    })?;
    let dag = find(&gw, &binary).await?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-cid",
            "Unknown CID",
            format!("this gateway holds no block {cid}"),
        )
    })?;
    let canonical = trustless::cid_text(&binary).map_err(Problem::internal)?;
    let scope = if whole_dag || format == Format::Raw {
        ""
    } else {
        ".block"
    };
    let etag = format!("\"{canonical}.{}{scope}\"", format.name());
    // If-None-Match compares weakly (RFC 9110 §13.1.2): W/"x" matches "x"
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').map(str::trim).any(|t| {
                let t = t.strip_prefix("W/").unwrap_or(t);
                t == etag || t == "*"
            })
        })
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        common_headers(response.headers_mut(), &canonical, &etag)?;
        return Ok(response);
    }
    match format {
        Format::Raw => raw(&gw, dag, binary, &canonical, &etag, &headers).await,
        Format::Car => car(&gw, dag, binary, &canonical, &etag, whole_dag),
    }
}

/// The stored DAG holding `cid`, indexing a root stored since the gateway started.
async fn find<V: LedgerView + 'static>(
    gw: &Arc<Gateway<V>>,
    cid: &[u8],
) -> Result<Option<Arc<ObjectBlocks>>, Problem> {
    if let Some(dag) = gw.store.dag_of(cid) {
        return Ok(Some(dag));
    }
    let canonical = trustless::cid_text(cid).map_err(Problem::internal)?;
    if !gw.store.object_path(&canonical).is_file() {
        return Ok(None);
    }
    // one index is built at a time (many first requests for one new root read it once), and an
    // object that cannot be indexed is not read again until a restart
    let mut failed = gw.indexing.lock().await;
    if let Some(dag) = gw.store.dag_of(cid) {
        return Ok(Some(dag));
    }
    if failed.contains(&canonical) {
        return Err(not_indexable(&canonical));
    }
    let indexing = gw.clone();
    let name = canonical.clone();
    let built = tokio::task::spawn_blocking(move || indexing.store.index_object(&name))
        .await
        .map_err(Problem::internal)?;
    if let Err(e) = built {
        eprintln!("careledger serve: {canonical} is not served at /ipfs: {e:#}");
        if failed.len() >= MAX_REMEMBERED_FAILURES {
            failed.clear();
        }
        failed.insert(canonical.clone());
        return Err(not_indexable(&canonical));
    }
    Ok(gw.store.dag_of(cid))
}

/// Objects remembered as not indexable (then the list starts again).
const MAX_REMEMBERED_FAILURES: usize = 10_000;

fn not_indexable(cid: &str) -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "not-indexable",
        "Stored object unreadable",
        format!("the stored object {cid} is not the DAG its name says: the custodian's store needs a look (said in its log)"),
    )
}

fn common_headers(h: &mut HeaderMap, canonical: &str, etag: &str) -> Result<(), Problem> {
    let value = |v: &str| HeaderValue::from_str(v).map_err(Problem::internal);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(trustless::IMMUTABLE),
    );
    h.insert(header::ETAG, value(etag)?);
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    h.insert("x-ipfs-path", value(&format!("/ipfs/{canonical}"))?);
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(())
}

/// Reads one block of `dag` from its stored object.
async fn read_block<V: LedgerView + 'static>(
    gw: &Arc<Gateway<V>>,
    dag: Arc<ObjectBlocks>,
    cid: Vec<u8>,
) -> Result<Vec<u8>, Problem> {
    let path = gw.store.object_path(&dag.root);
    if !path.is_file() {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-cid",
            "Unknown CID",
            format!("this gateway no longer holds {}", dag.root),
        ));
    }
    tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        let mut file = std::fs::File::open(path)?;
        dag.block(&cid, &mut file)?
            .ok_or_else(|| anyhow::anyhow!("the block left its DAG's index"))
    })
    .await
    .map_err(Problem::internal)?
    .map_err(Problem::internal)
}

async fn raw<V: LedgerView + 'static>(
    gw: &Arc<Gateway<V>>,
    dag: Arc<ObjectBlocks>,
    cid: Vec<u8>,
    canonical: &str,
    etag: &str,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let block = read_block(gw, dag, cid).await?;
    let len = block.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|r| byte_range(r, len))
        .transpose()?
        .flatten();
    let (status, body) = match range {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            Bytes::from(block).slice(start as usize..=end as usize),
        ),
        None => (StatusCode::OK, Bytes::from(block)),
    };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    common_headers(h, canonical, etag)?;
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(trustless::RAW_TYPE),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some((start, end)) = range {
        let value = format!("bytes {start}-{end}/{len}");
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&value).map_err(Problem::internal)?,
        );
    }
    Ok(response)
}

/// A single `bytes=` range of a `len`-byte block, as (first, last) inclusive; `None` to
/// answer the whole block (several ranges, or another unit: a server may ignore a Range).
/// A range that starts past the end is 416.
fn byte_range(text: &str, len: u64) -> Result<Option<(u64, u64)>, Problem> {
    let Some(spec) = text.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let unsatisfiable = || {
        Problem::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range-not-satisfiable",
            "Range not satisfiable",
            format!("the block is {len} bytes: Range {text} asks for none of them"),
        )
        .with_header(header::CONTENT_RANGE, format!("bytes */{len}"))
    };
    // a Range that does not parse is ignored (RFC 9110 §14.2): the whole block is sent
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (first, last) = match (first.trim(), last.trim()) {
        ("", suffix) => {
            let Ok(n) = suffix.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 || len == 0 {
                return Err(unsatisfiable());
            }
            (len.saturating_sub(n), len - 1)
        }
        (first, last) => {
            let Ok(first) = first.parse::<u64>() else {
                return Ok(None);
            };
            let last = match last {
                "" => u64::MAX,
                text => match text.parse::<u64>() {
                    Ok(last) if last >= first => last,
                    _ => return Ok(None),
                },
            };
            (first, last)
        }
    };
    if first >= len {
        return Err(unsatisfiable());
    }
    Ok(Some((first, last.min(len - 1))))
}

fn car<V: LedgerView + 'static>(
    gw: &Arc<Gateway<V>>,
    dag: Arc<ObjectBlocks>,
    cid: Vec<u8>,
    canonical: &str,
    etag: &str,
    whole_dag: bool,
) -> Result<Response, Problem> {
    let order = if whole_dag {
        dag.car_order(&cid).map_err(Problem::internal)?
    } else {
        vec![cid.clone()]
    };
    let header_bytes = Bytes::from(trustless::car_header(&cid));
    let gw = gw.clone();
    let sections = futures_util::stream::unfold(order.into_iter(), move |mut order| {
        let gw = gw.clone();
        let dag = dag.clone();
        async move {
            let next = order.next()?;
            let section = read_block(&gw, dag, next.clone())
                .await
                .map(|data| Bytes::from(trustless::car_section(&next, &data)))
                .map_err(|p| std::io::Error::other(p.detail));
            Some((section, order))
        }
    });
    let stream = futures_util::StreamExt::chain(
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(header_bytes) }),
        sections,
    );
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    common_headers(h, canonical, etag)?;
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(trustless::CAR_RESPONSE_TYPE),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(byte_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(byte_range("bytes=50-500", 100).unwrap(), Some((50, 99)));
        assert_eq!(byte_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(byte_range("items=0-1", 100).unwrap(), None);
        assert_eq!(
            byte_range("bytes=100-", 100).unwrap_err().status.as_u16(),
            416
        );
        assert_eq!(
            byte_range("bytes=-0", 100).unwrap_err().status.as_u16(),
            416
        );
        // malformed ranges are ignored: the whole block
        assert_eq!(byte_range("bytes=9-1", 100).unwrap(), None);
        assert_eq!(byte_range("bytes=a-b", 100).unwrap(), None);
        assert_eq!(byte_range("bytes=5", 100).unwrap(), None);
    }
}
