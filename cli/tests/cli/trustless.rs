//! The gateway as an IPFS trustless gateway (`/ipfs/{cid}`), and `provider get --ipfs`: the
//! ciphertext from any IPFS gateway, checked block by block before the read is logged, and
//! only the key from the custodian (issue 27 §1–2).
//!
//! Who gains by breaking each rule: a gateway that lies about bytes would have a grantee
//! decrypt (or store) something that is not the record; a request that a gateway answers
//! with something other than the CID asked wastes a client's trust; a key-only release that
//! skipped a check of the full release would give a grantee a read no event allows.
use super::records::{content, files_in, get_args, grant, put_lab, reads_logged, strs, world};
use super::records::{runtime, Gateway, Loopback};
use super::Cli;
use careledger_records::trustless;
use sha2::{Digest, Sha256};

/// What an `/ipfs` request answered: status, headers, body.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem+json refusal with this status and slug.
    fn refused(&self, status: u16, slug: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.header("content-type"), "application/problem+json");
        let p: serde_json::Value = serde_json::from_slice(&self.body).unwrap();
        assert!(
            p["type"].as_str().unwrap().ends_with(&format!("/{slug}")),
            "expected {slug}: {p}"
        );
    }
}

fn fetch(method: reqwest::Method, url: &str, headers: &[(&str, &str)]) -> Reply {
    runtime().block_on(async {
        let mut request = reqwest::Client::new().request(method, url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    })
}

fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    fetch(reqwest::Method::GET, url, headers)
}

fn binary_cid(text: &str) -> Vec<u8> {
    trustless::parse_cid(text).expect("a record CID")
}

#[test]
fn the_gateway_serves_stored_ciphertext_by_cid() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    let gw = Gateway::start(&cli, &[]);
    // three 1 MiB chunks: three raw leaves under one dag-pb parent
    let put = put_lab(&cli, &gw, "lab.bin", &content(2 * 1024 * 1024 + 77, 5));
    let cid = put["cid"].as_str().unwrap().to_string();
    let root = binary_cid(&cid);
    let ciphertext = std::fs::read(cli.path(&format!("store/objects/{cid}"))).unwrap();
    let at = |query: &str| format!("{}/ipfs/{cid}{query}", gw.url);

    // the DAG as a CAR: every block hashes to its CID, depth first from the root, and the
    // file it gives is the stored ciphertext, whose SHA-256 is the anchored one
    let car = get(&at("?format=car"), &[]);
    assert_eq!(car.status, 200);
    assert_eq!(car.header("content-type"), trustless::CAR_RESPONSE_TYPE);
    assert_eq!(car.header("cache-control"), trustless::IMMUTABLE);
    let (roots, blocks) = careledger_records::car::read_car(&car.body[..]).unwrap();
    assert_eq!((roots, blocks.len()), (vec![root.clone()], 4));
    assert_eq!(blocks[0].0, root, "the root comes first");
    let mut file = Vec::new();
    trustless::extract_car(&car.body[..], &root, u64::MAX, &mut file).unwrap();
    assert_eq!(file, ciphertext);
    assert_eq!(
        careledger_records::protocol::hex(&Sha256::digest(&file)),
        put["sha256"].as_str().unwrap()
    );
    // the same by Accept
    let by_accept = get(&at(""), &[("accept", trustless::CAR_TYPE)]);
    assert_eq!((by_accept.status, &by_accept.body), (200, &car.body));

    // each block alone, as it hashes
    for (block_cid, data) in &blocks {
        let text = trustless::cid_text(block_cid).unwrap();
        let raw = get(
            &format!("{}/ipfs/{text}", gw.url),
            &[("accept", trustless::RAW_TYPE)],
        );
        assert_eq!(raw.status, 200, "{text}");
        assert_eq!(raw.header("content-type"), trustless::RAW_TYPE);
        assert_eq!(&raw.body, data);
        assert_eq!(raw.header("etag"), format!("\"{text}.raw\""));
    }
    // a CAR of one block
    let one = get(&at("?format=car&dag-scope=block"), &[]);
    let (_, only) = careledger_records::car::read_car(&one.body[..]).unwrap();
    assert_eq!(only.len(), 1);

    // HEAD: the headers, no body
    let head = fetch(reqwest::Method::HEAD, &at("?format=raw"), &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), trustless::RAW_TYPE);
    assert!(head.body.is_empty());
    // a cached copy is still good
    let etag = format!("\"{cid}.raw\"");
    let again = get(&at("?format=raw"), &[("if-none-match", &etag)]);
    assert_eq!(again.status, 304);
    // compared weakly, as RFC 9110 says for If-None-Match
    let weak = get(
        &at("?format=raw"),
        &[("if-none-match", &format!("W/{etag}"))],
    );
    assert_eq!(weak.status, 304);
    // a CAR of one block is not the CAR of the DAG: its own tag
    assert_eq!(one.header("etag"), format!("\"{cid}.car.block\""));
    assert_eq!(car.header("etag"), format!("\"{cid}.car\""));

    // ranges of a block, and one past its end
    let leaf = trustless::cid_text(&blocks[1].0).unwrap();
    let leaf_url = format!("{}/ipfs/{leaf}?format=raw", gw.url);
    let part = get(&leaf_url, &[("range", "bytes=10-19")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, blocks[1].1[10..20]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 10-19/{}", blocks[1].1.len())
    );
    // a Range that does not parse is ignored: the whole block
    let ignored = get(&leaf_url, &[("range", "bytes=5")]);
    assert_eq!((ignored.status, &ignored.body), (200, &blocks[1].1));
    let past = get(&leaf_url, &[("range", "bytes=99999999-")]);
    past.refused(416, "range-not-satisfiable");
    assert_eq!(
        past.header("content-range"),
        format!("bytes */{}", blocks[1].1.len())
    );

    // bad input, each with its own answer
    get(&format!("{}/ipfs/hello?format=raw", gw.url), &[]).refused(400, "bad-cid");
    // a dag-cbor CID: never a record's
    let cbor = "bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    get(&format!("{}/ipfs/{cbor}?format=raw", gw.url), &[]).refused(400, "not-a-record-cid");
    // well formed, but held by no record here
    let other = careledger_records::unixfs::cid_of_reader(
        &b"not here"[..],
        careledger_records::unixfs::Profile::UnixfsV1_2025,
    )
    .unwrap()
    .cid_string();
    get(&format!("{}/ipfs/{other}?format=raw", gw.url), &[]).refused(404, "unknown-cid");
    // a file in the store under a CID it does not hash to (a disk fault, an operator's copy):
    // refused, and not read again
    std::fs::write(
        cli.path(&format!("store/objects/{other}")),
        b"something else",
    )
    .unwrap();
    for _ in 0..2 {
        get(&format!("{}/ipfs/{other}?format=raw", gw.url), &[]).refused(500, "not-indexable");
    }
    std::fs::remove_file(cli.path(&format!("store/objects/{other}"))).unwrap();
    get(&at(""), &[("accept", "text/html")]).refused(406, "not-acceptable");
    get(&at("?format=tar"), &[]).refused(400, "unknown-format");
    get(&at("?format=car&entity-bytes=0:9"), &[]).refused(400, "unsupported-parameter");
    get(&at("?format=car&dag-scope=everything"), &[]).refused(400, "unknown-dag-scope");
    get(&at("?format=raw&format=car"), &[]).refused(400, "repeated-parameter");
    // a release that asks for an answer there is not (before anything is signed or read)
    let release = format!(
        "{}/v1/records/{}/release?content=everything",
        gw.url,
        put["record"].as_str().unwrap()
    );
    fetch(reqwest::Method::POST, &release, &[]).refused(400, "bad-query");

    // after a restart the index is read back: a leaf is served before its root is asked for
    drop(gw);
    let gw = Gateway::start(&cli, &[]);
    let raw = get(
        &format!("{}/ipfs/{leaf}", gw.url),
        &[("accept", trustless::RAW_TYPE)],
    );
    assert_eq!((raw.status, &raw.body), (200, &blocks[1].1));

    // an object gone from the store is no longer served, and says so
    std::fs::remove_file(cli.path(&format!("store/objects/{cid}"))).unwrap();
    get(&format!("{}/ipfs/{cid}?format=raw", gw.url), &[]).refused(404, "unknown-cid");
}

/// A trustless gateway the test serves at 127.0.0.1: one CAR at `/ipfs/{cid}`, as given
/// (honest or not), 404 for anything else.
fn other_gateway(cid: &str, car: Vec<u8>) -> Loopback {
    Loopback::serve(axum::Router::new().route(
        &format!("/ipfs/{cid}"),
        axum::routing::get(move || {
            let car = car.clone();
            async move { ([("content-type", trustless::CAR_RESPONSE_TYPE)], car) }
        }),
    ))
}

/// A gateway that answers every request with a head promising `len` bytes and then only
/// `sent`, holding the connection open until dropped (at most 60 s).
struct Staller {
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Staller {
    fn start(sent: Vec<u8>, len: usize) -> Staller {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for _ in 0..1200 {
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok((mut stream, _)) = listener.accept() {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: {}\r\ncontent-length: {len}\r\n\r\n",
                        trustless::CAR_RESPONSE_TYPE
                    );
                    let _ = stream.write_all(head.as_bytes());
                    let _ = stream.write_all(&sent);
                    held.push(stream);
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        Staller {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Staller {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn get_takes_the_ciphertext_from_ipfs_and_only_the_key_from_the_custodian() {
    let cli = Cli::new();
    let (_patient, wallets) = world(&cli, &["clinic"]);
    grant(&cli, &wallets[0]);
    let gw = Gateway::start(&cli, &[]);
    let lab = content(1024 * 1024 + 500, 9);
    let put = put_lab(&cli, &gw, "lab.bin", &lab);
    let (record, cid) = (
        put["record"].as_str().unwrap().to_string(),
        put["cid"].as_str().unwrap().to_string(),
    );
    let car = get(&format!("{}/ipfs/{cid}?format=car", gw.url), &[]).body;
    // the custodian no longer has the bytes: they are only elsewhere now
    std::fs::remove_file(cli.path(&format!("store/objects/{cid}"))).unwrap();
    let honest = other_gateway(&cid, car.clone());
    // a gateway that lies: one byte of the last block flipped
    let mut flipped = car.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let liar = other_gateway(&cid, flipped);
    // a gateway that gives the CAR cut short
    let mut cut = car.clone();
    cut.truncate(car.len() - 100);
    let short = other_gateway(&cid, cut);
    // a gateway that sends half the CAR, then nothing, holding the connection open
    let staller = Staller::start(car[..car.len() / 2].to_vec(), car.len());
    let get_via = |out: &str, ipfs: &[&str]| {
        let mut args = get_args(&cli, &gw, "clinic", &record, out);
        for url in ipfs {
            args.push("--ipfs".into());
            args.push(url.to_string());
        }
        args
    };
    let before = reads_logged(&cli);

    // lies are caught before anything is logged or written
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_via(&cli.path("lab.out"), &[&liar.url, &short.url])),
    );
    assert!(
        err.contains("no IPFS gateway gave the anchored ciphertext"),
        "{err}"
    );
    assert!(err.contains("does not hash to its CID"), "{err}");
    assert!(err.contains("nothing was logged on chain"), "{err}");
    assert_eq!(reads_logged(&cli), before);
    assert!(!std::path::Path::new(&cli.path("lab.out")).exists());
    assert!(
        files_in(&cli, "")
            .iter()
            .all(|f| !f.contains("careledger-partial")),
        "no scratch file is left: {:?}",
        files_in(&cli, "")
    );
    // a URL with the /ipfs path in it: the gateway's own answer, and what to give instead
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_via(
            &cli.path("lab.out"),
            &[&format!("{}/ipfs", gw.url)],
        )),
    );
    assert!(err.contains("answered 404"), "{err}");
    assert!(err.contains("without /ipfs"), "{err}");
    assert_eq!(reads_logged(&cli), before);
    // not an http URL
    let err = cli.stderr_of_failure(
        "clinic.json",
        &strs(&get_via(&cli.path("lab.out"), &["ftp://example"])),
    );
    assert!(err.contains("--ipfs ftp://example is not an http"), "{err}");

    // an honest gateway after one that lies and one that stalls (passed over after
    // --ipfs-timeout): the record, its key from the custodian
    let mut args = get_via(
        &cli.path("lab.out"),
        &[&liar.url, &staller.url, &honest.url],
    );
    args.extend(["--ipfs-timeout".to_string(), "1".to_string()]);
    let got = cli.json("clinic.json", &strs(&args));
    assert_eq!(std::fs::read(cli.path("lab.out")).unwrap(), lab);
    assert_eq!(got["ciphertext_from"], honest.url.as_str());
    assert_eq!(reads_logged(&cli).0, before.0 + 1);

    // a key-only release is the same decision as a full one: the same event asked again,
    // while recent, gives the same record and logs no new read
    let tx = got["transaction"].as_str().unwrap();
    let mut again = get_via(&cli.path("lab2.out"), &[&honest.url]);
    again.extend(["--event".to_string(), tx.to_string()]);
    cli.json("clinic.json", &strs(&again));
    assert_eq!(std::fs::read(cli.path("lab2.out")).unwrap(), lab);
    assert_eq!(reads_logged(&cli).0, before.0 + 1);
}
