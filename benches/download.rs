//! Figure 7 of BENCHMARKS.md: downloading outputs.
//!
//! The simulator runs in a child process (this binary with `--server LEN`), serving every output
//! as `LEN` bytes of deterministic filler from its storage host (`synthetic_output_len`), so the
//! memory counted is the client's alone. The parent creates a task through the SDK, then:
//!
//! - **throughput**: interleaved rounds of the same file, saved by `Client::download(..).to(file)`
//!   (streaming, SHA-256, length checks, fsync, rename) and by a raw `reqwest` GET streamed chunk
//!   by chunk into a `tokio::fs::File` (no checks, no hash, no fsync), and `curl -o` when
//!   installed. The figure is the SDK's throughput ÷ the raw loop's, per round (median, IQR).
//!   The same pair with the bytes thrown away (`tokio::io::sink()`) isolates the streaming cost
//!   from the disk.
//! - **peak memory**: the heap's peak (counting allocator, live bytes) while the SDK saves one
//!   500 MB output to a file, minus the live bytes before; the raw loop's for context.
//!
//! Context, same run: the raw loop doing the SDK's whole job by hand (SHA-256, temporary file,
//! fsync, rename, all on the receiving task), CPU seconds per GB of each way (client and
//! server), SHA-256 alone (by the wall clock and by CPU time; on loopback receiving is
//! faster than hashing, so it bounds the ratio to a loop that does not hash), the SDK into a
//! plain file through `to_writer` (no fsync, no rename), and `curl -o` followed by `sha256sum`
//! (the same job by hand: the file and its hash).
//!
//! Run with `cargo bench --bench download` (`-- --quick`: 32 MiB and 100 MB files, 2 rounds;
//! `-- --rounds N`: N rounds; `-- --hash-only`: SHA-256 alone).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{CountingAlloc, Summary};
use lowcodeapi_runwayml::{
    Client, ImageToVideo, Model, PollSchedule, PromptImage, Ratio, Task, UrlFormat,
};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator};
use serde_json::json;
use tokio::io::AsyncWriteExt;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const MIB: u64 = 1024 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--server") {
        let len = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .expect("--server LEN");
        server(len);
        return;
    }
    if args.iter().any(|a| a == "--hash-only") {
        let (wall, cpu) = sha256_mb_per_s();
        let cpu = cpu.map_or_else(|| "?".to_owned(), |c| format!("{c:.0}"));
        println!("sha256: {wall:.0} MB/s (wall clock), {cpu} MB/s (CPU time)");
        return;
    }
    common::track_live();
    let quick = common::quick();
    let (speed_len, memory_len, rounds) = if quick {
        (32 * MIB, 100_000_000, 2)
    } else {
        (256 * MIB, 500_000_000, 7)
    };
    let rounds = common::arg_value("--rounds").unwrap_or(rounds);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-download");
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let throughput = runtime.block_on(throughput(speed_len, rounds, &dir));
    let memory = runtime.block_on(memory(memory_len, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    let (hash, hash_cpu) = sha256_mb_per_s();
    let result = json!({
        "throughput": throughput,
        "memory": memory,
        "sha256_mb_per_s": hash,
        "sha256_mb_per_cpu_s": hash_cpu,
    });
    println!("{}", serde_json::to_string_pretty(&result).unwrap());
    common::write_result("download", &result);
}

/// The simulator in this process, until stdin closes.
fn server(len: u64) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let sim = Simulator::builder()
            .synthetic_output_len(len)
            .time_scale(100.0)
            .start()
            .await
            .expect("simulator");
        println!("{}", sim.base_url());
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .unwrap();
        sim.shutdown().await;
    });
}

/// A child simulator serving `len`-byte outputs, and a client for it.
struct Remote {
    child: Child,
    client: Client,
}

impl Remote {
    fn start(len: u64) -> Remote {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--server", &len.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the simulator process");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("the simulator's base URL");
        let client = Client::builder()
            .api_token(DEFAULT_TOKEN)
            .base_url(line.trim())
            .url_format(UrlFormat::New)
            .build()
            .expect("client");
        Remote { child, client }
    }

    /// A SUCCEEDED task with fresh links.
    async fn task(&self) -> Task {
        let created = self
            .client
            .image_to_video(
                ImageToVideo::new(
                    Model::Gen4Turbo,
                    PromptImage::url("https://example.com/a.jpg").unwrap(),
                )
                .ratio(Ratio::W1280H720),
            )
            .await
            .expect("create");
        self.client
            .wait(&created)
            .schedule(PollSchedule::every(Duration::from_millis(50)))
            .await
            .expect("wait")
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The baseline: a plain GET, each chunk written as it comes.
async fn raw_to_file(http: &reqwest::Client, link: &str, path: &Path) -> u64 {
    let mut response = http.get(link).send().await.expect("GET");
    assert!(response.status().is_success());
    let mut file = tokio::fs::File::create(path).await.expect("create");
    let mut n = 0;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        file.write_all(&chunk).await.expect("write");
        n += chunk.len() as u64;
    }
    file.flush().await.expect("flush");
    n
}

/// The same job by hand: the raw loop plus what the SDK does besides streaming (SHA-256 of every
/// byte, a temporary file, fsync, rename), written the plain way, all on the receiving task.
async fn raw_same_job(http: &reqwest::Client, link: &str, path: &Path) -> u64 {
    use sha2::Digest as _;
    let mut response = http.get(link).send().await.expect("GET");
    assert!(response.status().is_success());
    let temp = path.with_extension("part");
    let mut file = tokio::fs::File::create(&temp).await.expect("create");
    let mut hasher = sha2::Sha256::new();
    let mut n = 0;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        file.write_all(&chunk).await.expect("write");
        hasher.update(&chunk);
        n += chunk.len() as u64;
    }
    file.flush().await.expect("flush");
    file.sync_all().await.expect("fsync");
    drop(file);
    tokio::fs::rename(&temp, path).await.expect("rename");
    std::hint::black_box(hasher.finalize());
    n
}

async fn raw_to_sink(http: &reqwest::Client, link: &str) -> u64 {
    let mut response = http.get(link).send().await.expect("GET");
    let mut sink = tokio::io::sink();
    let mut n = 0;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        sink.write_all(&chunk).await.expect("write");
        n += chunk.len() as u64;
    }
    n
}

fn curl_to_file(link: &str, path: &Path) -> Option<u64> {
    let status = Command::new("curl")
        .args(["-s", "-f", "-o"])
        .arg(path)
        .arg(link)
        .status()
        .ok()?;
    status
        .success()
        .then(|| std::fs::metadata(path).map_or(0, |m| m.len()))
}

/// SHA-256 alone on this machine (the SDK hashes every byte it saves), 5 runs over 256 MiB:
/// the median by the wall clock (what a loaded machine leaves), and by this thread's CPU time
/// (what the code costs; Linux only, else `None`).
fn sha256_mb_per_s() -> (f64, Option<f64>) {
    use sha2::Digest as _;
    let buf = vec![7u8; 64 * 1024];
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (start, cpu_start) = (Instant::now(), thread_cpu_ns());
        let mut hasher = sha2::Sha256::new();
        for _ in 0..4096 {
            hasher.update(&buf);
        }
        std::hint::black_box(hasher.finalize());
        wall.push(mb_per_s(256 * MIB, start.elapsed()));
        if let (Some(a), Some(b)) = (cpu_start, thread_cpu_ns()) {
            cpu.push(mb_per_s(
                256 * MIB,
                Duration::from_nanos(b.saturating_sub(a).max(1)),
            ));
        }
    }
    (
        Summary::of(&wall).median,
        (!cpu.is_empty()).then(|| Summary::of(&cpu).median),
    )
}

/// CPU time of every thread of process `pid` (`self` for this one) so far, in nanoseconds
/// (Linux's schedstat; `None` elsewhere).
fn process_cpu_ns(pid: &str) -> Option<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = entry.ok()?.path().join("schedstat");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        total += text
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Some(total)
}

/// This thread's CPU time so far, in nanoseconds (Linux's schedstat).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn mb_per_s(len: u64, elapsed: Duration) -> f64 {
    len as f64 / 1e6 / elapsed.as_secs_f64()
}

async fn throughput(len: u64, rounds: usize, dir: &Path) -> serde_json::Value {
    let remote = Remote::start(len);
    let http = reqwest::Client::builder().no_gzip().build().expect("http");
    let curl = Command::new("curl").arg("--version").output().is_ok();
    let (mut file_ratio, mut sink_ratio, mut curl_ratio) = (Vec::new(), Vec::new(), Vec::new());
    let (mut sdk_speed, mut raw_speed, mut curl_speed) = (Vec::new(), Vec::new(), Vec::new());
    let mut curl_sum_ratio = Vec::new();
    let (mut same_job_ratio, mut same_job_speed) = (Vec::new(), Vec::new());
    let (mut sdk_sink_speed, mut raw_sink_speed, mut sdk_nosync_speed) =
        (Vec::new(), Vec::new(), Vec::new());
    let sdk_path = dir.join("sdk.mp4");
    let raw_path = dir.join("raw.mp4");
    let curl_path = dir.join("curl.mp4");
    // One warm-up of each, not counted.
    let task = remote.task().await;
    let link = task.output[0].clone();
    let _ = raw_to_file(&http, &link, &raw_path).await;
    let _ = remote
        .client
        .download(&task)
        .overwrite(true)
        .to(&sdk_path)
        .await;
    for round in 0..rounds {
        let task = remote.task().await;
        let link = task.output[0].clone();
        let sdk = || async {
            let start = Instant::now();
            let saved = remote
                .client
                .download(&task)
                .overwrite(true)
                .to(&sdk_path)
                .await
                .expect("SDK download");
            assert_eq!(saved.files[0].bytes, len);
            start.elapsed()
        };
        let raw = || async {
            let start = Instant::now();
            assert_eq!(raw_to_file(&http, &link, &raw_path).await, len);
            start.elapsed()
        };
        // Alternate which goes first.
        let (t_sdk, t_raw) = if round % 2 == 0 {
            let a = sdk().await;
            (a, raw().await)
        } else {
            let b = raw().await;
            (sdk().await, b)
        };
        file_ratio.push(t_raw.as_secs_f64() / t_sdk.as_secs_f64());
        sdk_speed.push(mb_per_s(len, t_sdk));
        raw_speed.push(mb_per_s(len, t_raw));
        if curl {
            let start = Instant::now();
            if curl_to_file(&link, &curl_path) == Some(len) {
                let t_curl = start.elapsed();
                curl_ratio.push(t_curl.as_secs_f64() / t_sdk.as_secs_f64());
                curl_speed.push(mb_per_s(len, t_curl));
                // The same job by hand: the file and its SHA-256.
                let ok = Command::new("sha256sum")
                    .arg(&curl_path)
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if ok {
                    let t_both = start.elapsed();
                    curl_sum_ratio.push(t_both.as_secs_f64() / t_sdk.as_secs_f64());
                }
            }
        }
        // The same job by hand (hash, fsync, rename on the receiving task).
        let start = Instant::now();
        assert_eq!(raw_same_job(&http, &link, &raw_path).await, len);
        let t_same = start.elapsed();
        same_job_ratio.push(t_same.as_secs_f64() / t_sdk.as_secs_f64());
        same_job_speed.push(mb_per_s(len, t_same));
        let _ = std::fs::remove_file(&raw_path);
        // Streaming alone: the bytes thrown away.
        let start = Instant::now();
        let mut sink = tokio::io::sink();
        remote
            .client
            .download(&task)
            .to_writer(&mut sink)
            .await
            .expect("SDK to a sink");
        let t_sdk_sink = start.elapsed();
        let start = Instant::now();
        assert_eq!(raw_to_sink(&http, &link).await, len);
        let t_raw_sink = start.elapsed();
        sink_ratio.push(t_raw_sink.as_secs_f64() / t_sdk_sink.as_secs_f64());
        sdk_sink_speed.push(mb_per_s(len, t_sdk_sink));
        raw_sink_speed.push(mb_per_s(len, t_raw_sink));
        // The SDK into a plain file through `to_writer`: no fsync, no rename (what the durable
        // commit costs on this disk).
        let start = Instant::now();
        let mut file = tokio::fs::File::create(&raw_path).await.expect("create");
        remote
            .client
            .download(&task)
            .to_writer(&mut file)
            .await
            .expect("SDK to a writer");
        drop(file);
        sdk_nosync_speed.push(mb_per_s(len, start.elapsed()));
        for path in [&sdk_path, &raw_path, &curl_path] {
            let _ = std::fs::remove_file(path);
        }
    }
    let cpu = cpu_per_gb(&remote, &http, len, dir).await;
    json!({
        "bytes": len,
        "rounds": rounds,
        "sdk_file_over_raw_reqwest_file": Summary::of(&file_ratio),
        "sdk_file_over_curl": (!curl_ratio.is_empty()).then(|| Summary::of(&curl_ratio)),
        "sdk_file_over_curl_then_sha256sum":
            (!curl_sum_ratio.is_empty()).then(|| Summary::of(&curl_sum_ratio)),
        "sdk_file_over_raw_reqwest_same_job": Summary::of(&same_job_ratio),
        "sdk_sink_over_raw_reqwest_sink": Summary::of(&sink_ratio),
        "cpu_s_per_gb": cpu,
        "mb_per_s": {
            "sdk_file": Summary::of(&sdk_speed),
            "raw_reqwest_file": Summary::of(&raw_speed),
            "curl_file": (!curl_speed.is_empty()).then(|| Summary::of(&curl_speed)),
            "sdk_writer_file_no_fsync": Summary::of(&sdk_nosync_speed),
            "raw_reqwest_same_job": Summary::of(&same_job_speed),
            "sdk_sink": Summary::of(&sdk_sink_speed),
            "raw_reqwest_sink": Summary::of(&raw_sink_speed),
        }
    })
}

/// Where the time goes: CPU seconds per GB, of the client (all its threads) and of the server
/// process, and wall seconds per GB, for each way of downloading (3 runs each, after the rounds).
async fn cpu_per_gb(
    remote: &Remote,
    http: &reqwest::Client,
    len: u64,
    dir: &Path,
) -> serde_json::Value {
    let pid = remote.child.id().to_string();
    let (sdk_path, raw_path) = (dir.join("cpu-sdk.mp4"), dir.join("cpu-raw.mp4"));
    let mut table = serde_json::Map::new();
    for variant in [
        "raw_reqwest_file",
        "sdk_file",
        "raw_reqwest_sink",
        "sdk_sink",
    ] {
        let (mut client, mut server, mut wall) = (0u64, 0u64, Duration::ZERO);
        let runs = 3;
        for _ in 0..runs {
            let task = remote.task().await;
            let link = task.output[0].clone();
            let (c0, s0) = (process_cpu_ns("self"), process_cpu_ns(&pid));
            let start = Instant::now();
            match variant {
                "raw_reqwest_file" => {
                    raw_to_file(http, &link, &raw_path).await;
                }
                "sdk_file" => {
                    let download = remote.client.download(&task).overwrite(true);
                    download.to(&sdk_path).await.expect("SDK download");
                }
                "raw_reqwest_sink" => {
                    raw_to_sink(http, &link).await;
                }
                _ => {
                    let mut sink = tokio::io::sink();
                    let download = remote.client.download(&task);
                    download.to_writer(&mut sink).await.expect("SDK to a sink");
                }
            }
            wall += start.elapsed();
            let (c1, s1) = (process_cpu_ns("self"), process_cpu_ns(&pid));
            client += c1.zip(c0).map_or(0, |(b, a)| b.saturating_sub(a));
            server += s1.zip(s0).map_or(0, |(b, a)| b.saturating_sub(a));
            for path in [&sdk_path, &raw_path] {
                let _ = std::fs::remove_file(path);
            }
        }
        let gb = (len * runs) as f64 / 1e9;
        table.insert(
            variant.to_owned(),
            json!({
                "wall": wall.as_secs_f64() / gb,
                "client_cpu": client as f64 / 1e9 / gb,
                "server_cpu": server as f64 / 1e9 / gb,
            }),
        );
    }
    serde_json::Value::Object(table)
}

async fn memory(len: u64, dir: &Path) -> serde_json::Value {
    let remote = Remote::start(len);
    let http = reqwest::Client::builder().no_gzip().build().expect("http");
    let path = dir.join("big.mp4");
    let task = remote.task().await;
    let base = common::reset_peak();
    let saved = remote
        .client
        .download(&task)
        .overwrite(true)
        .to(&path)
        .await
        .expect("SDK download");
    let sdk_peak = common::peak_bytes() - base;
    assert_eq!(saved.files[0].bytes, len);
    let _ = std::fs::remove_file(&path);
    let task = remote.task().await;
    let base = common::reset_peak();
    assert_eq!(raw_to_file(&http, &task.output[0], &path).await, len);
    let raw_peak = common::peak_bytes() - base;
    let _ = std::fs::remove_file(&path);
    json!({
        "bytes": len,
        "sdk_peak_mib": sdk_peak as f64 / MIB as f64,
        "raw_reqwest_peak_mib": raw_peak as f64 / MIB as f64,
    })
}
