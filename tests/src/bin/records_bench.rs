//! `cargo run --profile perf -p careledger-tests --bin records_bench [-- --gib 1]`
//!
//! Records, measured side by side in one run (docs/PERFORMANCE.md keeps the latest table):
//! - encrypt + SHA-256 + UnixFS CID of a stream (one thread, and `sealing::seal`'s three),
//!   against raw SHA-256 and raw XChaCha20-Poly1305 of the same bytes on one core, and the same pipeline file to file as `patient put`
//!   runs it;
//! - the process's peak resident memory (VmHWM) before and after;
//! - releases per second from the gateway on loopback, at 1 and 8 concurrent grantees, with
//!   the ciphertext and key-only (`?content=key`, the ciphertext coming from IPFS); then the
//!   same across 3 replicas (each with its own store, peers of one another, requests spread
//!   round robin; the record put at the first, pulled by the others at their first release);
//! - the trustless gateway (`/ipfs/{cid}`) serving a 100 MiB DAG: as one CAR, as a CAR checked
//!   block by block into a file (what `provider get --ipfs` does), block by block as raw
//!   blocks (what Helia does), next to a plain read of the stored file.
//!
//! Not a test: nothing here asserts.
use careledger_cli::record_files::seal;
use careledger_records::client::GatewayClient;
use careledger_records::envelope::{self, DataKey, KeyAgreementSecret, RecordIdentity};
use careledger_records::protocol::ReleaseRequest;
use careledger_records::unixfs::{DagBuilder, NoBlocks, Profile};
use careledger_sdk::{action, ix, pda, AccessLogArgs, Keypair, Pubkey, Purpose, Signer};
use careledger_server::gateway::{self, store::Store, Gateway, Limits};
use careledger_tests::{Env, EnvView};
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

const MIB: u64 = 1 << 20;
/// Passes per throughput figure (the median is printed).
const RUNS: usize = 3;

/// `len` bytes of a repeating pseudo-random MiB, produced on demand (no disk in the way).
struct Source {
    block: Vec<u8>,
    left: u64,
    at: usize,
}

impl Source {
    fn new(len: u64) -> Source {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let block = (0..MIB)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Source {
            block,
            left: len,
            at: 0,
        }
    }
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf
            .len()
            .min(self.block.len() - self.at)
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at = (self.at + n) % self.block.len();
        self.left -= n as u64;
        Ok(n)
    }
}

/// Peak resident set size so far, from /proc (KiB).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn mib_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64()
}

fn raw_sha256(len: u64) -> Duration {
    let mut source = Source::new(len);
    let mut buf = vec![0u8; 64 * 1024];
    let started = Instant::now();
    let mut sha = Sha256::new();
    loop {
        let n = source.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    black_box(sha.finalize());
    started.elapsed()
}

/// XChaCha20-Poly1305 over 64 KiB chunks, in place: the AEAD alone, no framing.
fn raw_xchacha(len: u64) -> Duration {
    let mut source = Source::new(len);
    let cipher = chacha20poly1305::XChaCha20Poly1305::new(&[7u8; 32].into());
    let mut buf = vec![0u8; 64 * 1024];
    let mut counter = 0u64;
    let started = Instant::now();
    loop {
        let n = source.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        counter += 1;
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&counter.to_le_bytes());
        let tag = cipher
            .encrypt_in_place_detached(&nonce.into(), b"", &mut buf[..n])
            .expect("encrypt");
        black_box(tag);
    }
    started.elapsed()
}

/// The record pipeline on a stream: encrypt, and SHA-256 and the UnixFS CID of the ciphertext.
fn pipeline(len: u64, profile: Profile) -> (Duration, u64) {
    let identity = RecordIdentity::new(Pubkey::new_unique(), 0, 1, 1);
    let key = DataKey::generate();
    let started = Instant::now();
    let mut sha = Sha256::new();
    let mut dag = DagBuilder::new(profile, NoBlocks);
    let mut bytes = 0u64;
    envelope::encrypt(&identity, &key, Source::new(len), |piece| {
        sha.update(piece);
        bytes += piece.len() as u64;
        dag.update(piece)
    })
    .expect("encrypt");
    black_box(sha.finalize());
    black_box(dag.finish().expect("dag"));
    (started.elapsed(), bytes)
}

/// The same work as `patient put` does it: `sealing::seal`, the output discarded.
fn threaded(len: u64, profile: Profile) -> Duration {
    let identity = RecordIdentity::new(Pubkey::new_unique(), 0, 1, 1);
    let started = Instant::now();
    let sealed = careledger_records::sealing::seal(
        &identity,
        &DataKey::generate(),
        profile,
        Source::new(len),
        |piece| {
            black_box(piece);
            Ok(())
        },
    )
    .expect("seal");
    black_box(sealed);
    started.elapsed()
}

fn row(what: &str, value: String, reference: String) {
    println!("| {what} | {value} | {reference} |");
}

fn gib_arg() -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--gib")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

fn throughput(len: u64) -> Result<(), Error> {
    let start_peak = peak_kib();
    // each figure is the median of RUNS passes, taken in turn so that a noisy neighbour on the
    // machine spreads over all of them
    let mut runs: [Vec<Duration>; 5] = Default::default();
    for _ in 0..RUNS {
        runs[0].push(raw_sha256(len));
        runs[1].push(raw_xchacha(len));
        runs[2].push(pipeline(len, Profile::UnixfsV1_2025).0);
        runs[3].push(threaded(len, Profile::UnixfsV1_2025));
        runs[4].push(threaded(len, Profile::UnixfsV0_2015));
    }
    let [sha, chacha, one_thread, v1, v0] = runs.map(|mut r| {
        r.sort();
        r[r.len() / 2]
    });
    let slower = mib_per_s(len, sha).min(mib_per_s(len, chacha));
    let gib = len as f64 / (1u64 << 30) as f64;
    println!("\n### Encrypt + hash + CID, {gib:.2} GiB, median of {RUNS} passes\n");
    println!("| what | figure | reference |\n|---|---|---|");
    row(
        "raw SHA-256",
        format!("{:.0} MiB/s", mib_per_s(len, sha)),
        "sha2 crate (SHA-NI where the CPU has it)".into(),
    );
    row(
        "raw XChaCha20-Poly1305 (64 KiB chunks)",
        format!("{:.0} MiB/s", mib_per_s(len, chacha)),
        "chacha20poly1305 crate".into(),
    );
    for (name, took) in [
        ("unixfs-v1-2025, one thread", one_thread),
        (
            "unixfs-v1-2025, `sealing::seal`: encrypt, SHA-256 and DAG on 3 threads",
            v1,
        ),
        ("unixfs-v0-2015, `sealing::seal`", v0),
    ] {
        let rate = mib_per_s(len, took);
        row(
            &format!("encrypt + SHA-256 + CID ({name})"),
            format!("{rate:.0} MiB/s"),
            format!(
                "{:.0} % of the slower raw figure (goal: at least 70 %)",
                100.0 * rate / slower
            ),
        );
    }
    // the work itself: every byte is encrypted once and hashed twice (the anchor's SHA-256,
    // and the CID's leaves); spread perfectly over the cores, no pipeline does better
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let per_mib = 1.0 / mib_per_s(len, chacha) + 2.0 / mib_per_s(len, sha);
    let ceiling = (cores / per_mib).min(mib_per_s(len, chacha));
    row(
        &format!("ceiling for that work on this machine's {cores} cores"),
        format!("{ceiling:.0} MiB/s"),
        format!("{:.0} % of the slower raw figure", 100.0 * ceiling / slower),
    );
    let after = peak_kib();
    row(
        "peak resident memory (VmHWM) over all those passes",
        format!("{:.1} MiB", after as f64 / 1024.0),
        format!(
            "{:.1} MiB before them (goal: flat, under 64 MiB)",
            start_peak as f64 / 1024.0
        ),
    );

    // as `patient put` runs it: a file on disk to a ciphertext file on disk
    let dir = std::env::temp_dir().join(format!("careledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let plain = dir.join("plain.bin");
    std::io::copy(&mut Source::new(len), &mut std::fs::File::create(&plain)?)?;
    let identity = RecordIdentity::new(Pubkey::new_unique(), 0, 1, 1);
    let started = Instant::now();
    let sealed = seal(
        &plain,
        &identity,
        &DataKey::generate(),
        Profile::UnixfsV1_2025,
        &dir.join("cipher.bin"),
    )?;
    let took = started.elapsed();
    std::fs::remove_dir_all(&dir)?;
    row(
        "`patient put`'s seal, file to file (read, encrypt, hash, CID, write, fsync)",
        format!("{:.0} MiB/s", mib_per_s(len, took)),
        format!(
            "{} ciphertext bytes; peak resident memory now {:.1} MiB",
            sealed.bytes,
            peak_kib() as f64 / 1024.0
        ),
    );
    Ok(())
}

/// A verified clinic with a live grant and a published key.
struct Grantee {
    wallet: Keypair,
    secret: KeyAgreementSecret,
    grant: Pubkey,
}

async fn releases(per_grantee: usize) -> Result<(), Error> {
    let env = Arc::new(Env::new().await);
    env.set_invariant_checks(false);
    let patient = env.register_patient().await;
    let wallet = patient.pubkey();
    let hospital = env.actor().await;
    let custody = KeyAgreementSecret::generate();
    env.send(
        ix::EncryptionKeySet {
            wallet: hospital.pubkey(),
            x25519: custody.public(),
        }
        .instruction(),
        &[&hospital],
    )
    .await?;
    let mut grantees = Vec::new();
    for _ in 0..8 {
        let clinic = env.verified_provider(careledger_sdk::ROLE_CLINICIAN).await;
        let secret = KeyAgreementSecret::generate();
        env.send(
            ix::EncryptionKeySet {
                wallet: clinic.pubkey(),
                x25519: secret.public(),
            }
            .instruction(),
            &[&clinic],
        )
        .await?;
        let grant = env
            .grant(
                &patient,
                &clinic.pubkey(),
                Purpose::Treatment,
                0b10,
                action::READ,
                30,
            )
            .await?;
        grantees.push(Grantee {
            wallet: clinic,
            secret,
            grant,
        });
    }
    let dir = std::env::temp_dir().join(format!("careledger-bench-gw-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let domain = listener.local_addr()?.to_string();
    // two more replicas of the same custodian, each with its own store, peers of one another
    let more = [
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
        tokio::net::TcpListener::bind("127.0.0.1:0").await?,
    ];
    let urls: Vec<String> = std::iter::once(format!("http://{domain}"))
        .chain(
            more.iter()
                .map(|l| l.local_addr().map(|a| format!("http://{a}")))
                .collect::<Result<Vec<_>, _>>()?,
        )
        .collect();
    let mut servers = Vec::new();
    for (i, listener) in std::iter::once(listener).chain(more).enumerate() {
        let domain = listener.local_addr()?.to_string();
        let peers: Vec<String> = (0..3)
            .filter(|j| *j != i)
            .map(|j| urls[j].clone())
            .collect();
        let replica = Gateway::new(
            EnvView(env.clone()),
            Store::open(&dir.join(format!("store{i}")))?,
            hospital.pubkey(),
            custody.clone(),
            Vec::new(),
            domain,
            Limits {
                max_event_age_secs: 3600,
                ..Limits::default()
            },
        )
        .with_peers(gateway::replicas::Peers::new(
            &peers,
            hospital.insecure_clone(),
        )?);
        let app = careledger_server::Server::new()
            .gateway(Arc::new(replica))
            .header_timeout(Duration::from_secs(30));
        servers.push(tokio::spawn(async move {
            let _ = app.serve(listener).await;
        }));
    }
    let mut clients = Vec::new();
    for url in &urls {
        let client = Arc::new(GatewayClient::new(url)?);
        client.info().await?;
        clients.push(client);
    }
    let client = clients[0].clone();
    let info = client.info().await?;

    // one 16 KiB lab result (the usual size of a report), put as `patient put` does
    let (record, anchor, _) =
        put_record(&env, &patient, &client, &info, &dir, 0, 16 * 1024).await?;

    // every release needs its own access event: log them all first
    let mut events: Vec<Vec<ReleaseRequest>> = Vec::new();
    for (i, g) in grantees.iter().enumerate() {
        let mut list = Vec::new();
        // the first grantee runs alone first, then with the others
        // ... in both modes (with the ciphertext, then key-only), at one gateway, then at three
        let count = if i == 0 {
            8 * per_grantee
        } else {
            4 * per_grantee
        };
        for n in 0..count {
            // a transfer of a different amount each time makes each transaction unique, so
            // none waits for a new blockhash as an identical one would
            let unique = solana_system_interface::instruction::transfer(
                &g.wallet.pubkey(),
                &wallet,
                1 + n as u64,
            );
            let outcome = env
                .send_all(
                    &[
                        unique,
                        ix::AccessLog {
                            grantee: g.wallet.pubkey(),
                            patient_wallet: wallet,
                            grant: g.grant,
                            record,
                            args: AccessLogArgs {
                                action: action::READ,
                                purpose: Purpose::Treatment,
                                strict: true,
                            },
                        }
                        .instruction(),
                    ],
                    &[&g.wallet],
                )
                .await?;
            list.push(ReleaseRequest {
                grantee: g.wallet.pubkey(),
                record,
                grant: g.grant,
                transaction: outcome.signature,
            });
        }
        events.push(list);
    }
    let grantees = Arc::new(grantees);
    let anchor = Arc::new(anchor);
    let dir = Arc::new(dir);
    println!("\n### Releases on loopback (16 KiB record, each against its own access event)\n");
    println!("| what | figure | reference |\n|---|---|---|");
    let mut one_per_s = 0.0;
    let runs = [(1usize, false), (8, false), (1, true), (8, true)];
    for (replicas, (concurrent, key_only)) in runs
        .iter()
        .map(|r| (1usize, *r))
        .chain(runs.iter().map(|r| (3usize, *r)))
    {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (i, list) in events.iter_mut().enumerate().take(concurrent) {
            let take = list.len().min(per_grantee);
            let mine: Vec<ReleaseRequest> = list.drain(..take).collect();
            let (clients, grantees, anchor, dir) = (
                clients[..replicas].to_vec(),
                grantees.clone(),
                anchor.clone(),
                dir.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let g = &grantees[i];
                let out = dir.join(format!("out-{concurrent}-{i}.bin"));
                for (n, request) in mine.iter().enumerate() {
                    // round robin, as a load balancer in front of the replicas would
                    let client = &clients[(n + i) % clients.len()];
                    if key_only {
                        client
                            .release_key(&g.wallet, request, &g.secret, &anchor)
                            .await
                            .map_err(|e| e.to_string())?;
                    } else {
                        client
                            .release(&g.wallet, request, &g.secret, &anchor, &out, true)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
                Ok::<usize, String>(mine.len())
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.map_err(|e| e.to_string())??;
        }
        let took = started.elapsed();
        let per_s = total as f64 / took.as_secs_f64();
        if concurrent == 1 {
            one_per_s = per_s;
        }
        row(
            &format!(
                "{replicas} replica(s), {concurrent} concurrent grantee(s), {}",
                if key_only {
                    "key only"
                } else {
                    "key and ciphertext"
                }
            ),
            format!("{per_s:.0} releases/s"),
            format!(
                "{total} releases in {:.2} s{}",
                took.as_secs_f64(),
                if concurrent == 1 {
                    String::new()
                } else {
                    format!(", {:.1}x the single grantee", per_s / one_per_s)
                }
            ),
        );
    }
    trustless_throughput(&env, &patient, &client, &info, &dir).await?;
    for server in servers {
        server.abort();
    }
    std::fs::remove_dir_all(dir.as_ref())?;
    Ok(())
}

/// Seals `len` bytes as the patient's record `index` (as `patient put` does), anchors it and
/// stores it at the gateway; the record's address, its anchor and the ciphertext's length.
async fn put_record(
    env: &Arc<Env>,
    patient: &Keypair,
    client: &GatewayClient,
    info: &careledger_records::client::GatewayInfo,
    dir: &std::path::Path,
    index: u32,
    len: u64,
) -> Result<(Pubkey, careledger_sdk::RecordAnchor, u64), Error> {
    let wallet = patient.pubkey();
    let plain = dir.join(format!("record-{index}.bin"));
    std::io::copy(&mut Source::new(len), &mut std::fs::File::create(&plain)?)?;
    let key = DataKey::generate();
    let identity = RecordIdentity::new(wallet, index, 1, 1);
    let cipher = dir.join(format!("record-{index}.enc"));
    let sealed = seal(&plain, &identity, &key, Profile::UnixfsV1_2025, &cipher)?;
    env.send(
        ix::RecordAnchor {
            patient_wallet: wallet,
            index,
            author: ix::Author::Patient,
            args: careledger_sdk::RecordAnchorArgs {
                cid: sealed.cid.clone(),
                content_sha256: sealed.sha256,
                class: 1,
            },
        }
        .instruction(),
        &[patient],
    )
    .await?;
    let record = pda::record(&wallet, index).0;
    client
        .upload(patient, &record, &cipher, sealed.bytes, &key, &info.x25519)
        .await?;
    let anchor = env.client.fetch(&record).await?;
    Ok((record, anchor, sealed.bytes))
}

/// Median of `RUNS` timings of `f`.
async fn median<F, Fut>(mut f: F) -> Result<Duration, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let mut took = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        f().await?;
        took.push(started.elapsed());
    }
    took.sort();
    Ok(took[RUNS / 2])
}

/// The trustless gateway serving a 100 MiB record (1 MiB chunks: 100 leaves and a parent).
async fn trustless_throughput(
    env: &Arc<Env>,
    patient: &Keypair,
    client: &GatewayClient,
    info: &careledger_records::client::GatewayInfo,
    dir: &std::path::Path,
) -> Result<(), Error> {
    let (_, anchor, bytes) = put_record(env, patient, client, info, dir, 1, 100 * MIB).await?;
    let cid = careledger_sdk::cid::cid_to_string(&anchor.cid);
    let object = dir.join("store0").join("objects").join(&cid);
    let base = client.base().to_string();
    let http = reqwest::Client::new();

    // the first request indexes the object (one read of it), as after an upload
    let started = Instant::now();
    http.get(format!("{base}/ipfs/{cid}?format=raw"))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let indexing = started.elapsed();

    let file_read = median(|| {
        let object = object.clone();
        async move {
            tokio::task::spawn_blocking(move || -> Result<(), Error> {
                let mut file = std::fs::File::open(&object)?;
                let mut buf = vec![0u8; MIB as usize];
                while file.read(&mut buf)? > 0 {}
                Ok(())
            })
            .await
            .map_err(|e| e.to_string())?
        }
    })
    .await?;
    let car = median(|| {
        let (http, url) = (http.clone(), format!("{base}/ipfs/{cid}?format=car"));
        async move {
            let mut response = http.get(url).send().await?.error_for_status()?;
            while response.chunk().await?.is_some() {}
            Ok(())
        }
    })
    .await?;
    let checked = median(|| {
        let (gateways, dir) = (vec![base.clone()], dir.to_path_buf());
        let anchor = &anchor;
        async move {
            careledger_records::client::fetch_from_ipfs(
                &gateways,
                anchor,
                &dir,
                u64::MAX,
                Duration::from_secs(30),
            )
            .await?;
            Ok(())
        }
    })
    .await?;
    // every block by CID, one request each (the root's links give the leaves)
    let root_block = http
        .get(format!("{base}/ipfs/{cid}?format=raw"))
        .send()
        .await?
        .bytes()
        .await?;
    let leaves = careledger_records::unixfs::decode_file_node(&root_block)?.links;
    let raw = median(|| {
        let (http, base, leaves) = (http.clone(), base.clone(), leaves.clone());
        async move {
            for leaf in &leaves {
                let text = careledger_records::trustless::cid_text(leaf)?;
                http.get(format!("{base}/ipfs/{text}?format=raw"))
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes()
                    .await?;
            }
            Ok(())
        }
    })
    .await?;
    println!(
        "\n### The trustless gateway: a {} MiB record ({} blocks), on loopback\n",
        bytes / MIB,
        leaves.len() + 1
    );
    println!("| what | figure | reference |\n|---|---|---|");
    let plain_rate = mib_per_s(bytes, file_read);
    let rate = |took: Duration| {
        let r = mib_per_s(bytes, took);
        (
            format!("{r:.0} MiB/s"),
            format!(
                "{:.3} s, {:.0} % of the plain read",
                took.as_secs_f64(),
                100.0 * r / plain_rate
            ),
        )
    };
    row(
        "plain read of the stored file",
        format!("{plain_rate:.0} MiB/s"),
        format!("{:.3} s (page cache)", file_read.as_secs_f64()),
    );
    for (what, took) in [
        ("one CAR, body drained", car),
        (
            "one CAR, checked block by block into a file (get --ipfs)",
            checked,
        ),
        (
            "every block by CID, one request each (as Helia fetches)",
            raw,
        ),
    ] {
        let (figure, reference) = rate(took);
        row(what, figure, reference);
    }
    row(
        "indexing at the first request",
        format!("{:.0} ms", indexing.as_secs_f64() * 1000.0),
        "one read and hash of the object; the index is kept in STORE/blocks".into(),
    );
    Ok(())
}

fn main() -> Result<(), Error> {
    careledger_tests::run_main(records_bench)
}

async fn records_bench() -> Result<(), Error> {
    let len = gib_arg() << 30;
    tokio::task::spawn_blocking(move || throughput(len))
        .await
        .map_err(|e| e.to_string())??;
    releases(200).await
}
