//! Figures 1 and 2 of BENCHMARKS.md.
//!
//! 1. Per-call overhead: `Client::get_task` against a hand-written baseline (one raw `reqwest`
//!    GET of the same URL plus `serde_json` into a struct with the task's fields), both against
//!    the same fixed-answer loopback server, each with its own keep-alive `reqwest::Client`.
//!    Measured twice: with the server on the client's thread (the claim: no cross-thread
//!    wake-ups, whose latency on a shared virtual machine is large and erratic) and with the
//!    server on a thread of its own (context: what a real server's round trip looks like).
//!    Batches are interleaved round by round (the order flips every round) and the claim is the
//!    median of the per-round time ratios with its quartiles. Two more variants locate the cost:
//!    the baseline with reqwest's per-request timeout (what a timer costs; the SDK times every
//!    request with its own) and
//!    `client.raw().get_task` (generated code and hooks, without the high-level layer).
//!    Allocations per call are counted on the client's thread only (the server runs on another
//!    thread; the client's runtime is single-threaded, so its connection tasks are counted).
//!    `--profile baseline|baseline-timeout|raw|sdk [CALLS]` runs one variant alone, for `perf`.
//! 2. Format fallback, steady state: requests per `get_task` once the URL format has settled,
//!    against the simulator routing only the Old Format, counted in its request log.
//!
//! Run with `cargo bench --bench overhead` (add `-- --quick` for a smoke run), or through
//! `cargo xtask bench`.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::{
    CountingAlloc, FixedServer, Summary, TASK_ID, TOKEN, ThreadCount, hosted_task_body, micros,
};
use lowcodeapi_runwayml::{
    Client, ImageToVideo, Model, PromptImage, Ratio, TaskId, UrlFormat, UrlFormatState,
};
use lowcodeapi_runwayml_sim::{Dialect, Route, Simulator, UrlFormats};
use serde::Deserialize;
use serde_json::json;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// What a hand-written client would decode: the hosted envelope around the task's fields.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Envelope {
    data: BaselineTask,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct BaselineTask {
    id: String,
    status: String,
    #[serde(rename = "createdAt")]
    created_at: Option<String>,
    #[serde(default)]
    output: Vec<String>,
    progress: Option<f64>,
    failure: Option<String>,
    #[serde(rename = "failureCode")]
    failure_code: Option<String>,
    cost: Option<Credits>,
    #[serde(rename = "estimatedCost")]
    estimated_cost: Option<Credits>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Credits {
    credits: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(usize)]
enum Variant {
    /// reqwest GET + serde_json, by hand.
    Baseline,
    /// The same with reqwest's per-request timeout (the SDK times every request with its own).
    BaselineTimeout,
    /// `client.raw().get_task(..)`: generated code and hooks, no high-level layer.
    Raw,
    /// `client.get_task(..)`: everything.
    Sdk,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::Baseline,
        Variant::BaselineTimeout,
        Variant::Raw,
        Variant::Sdk,
    ];

    /// The name `--profile` takes.
    fn arg(self) -> &'static str {
        match self {
            Variant::Baseline => "baseline",
            Variant::BaselineTimeout => "baseline-timeout",
            Variant::Raw => "raw",
            Variant::Sdk => "sdk",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Variant::Baseline => "baseline",
            Variant::BaselineTimeout => "baseline_timeout",
            Variant::Raw => "raw",
            Variant::Sdk => "sdk",
        }
    }
}

struct Contestants {
    http: reqwest::Client,
    url: String,
    client: Client,
    id: TaskId,
}

impl Contestants {
    async fn call(&self, variant: Variant) {
        match variant {
            Variant::Baseline => {
                let response = self.http.get(&self.url).send().await.expect("baseline GET");
                assert!(response.status().is_success());
                let body = response.bytes().await.expect("baseline body");
                let envelope: Envelope = serde_json::from_slice(&body).expect("baseline JSON");
                black_box(envelope);
            }
            Variant::BaselineTimeout => {
                let response = self
                    .http
                    .get(&self.url)
                    .timeout(Duration::from_secs(60))
                    .send()
                    .await
                    .expect("baseline GET");
                assert!(response.status().is_success());
                let body = response.bytes().await.expect("baseline body");
                let envelope: Envelope = serde_json::from_slice(&body).expect("baseline JSON");
                black_box(envelope);
            }
            Variant::Raw => {
                let task = self
                    .client
                    .raw()
                    .get_task(self.id.as_str())
                    .await
                    .expect("raw get_task");
                black_box(task.into_inner());
            }
            Variant::Sdk => {
                let task = self.client.get_task(&self.id).await.expect("get_task");
                black_box(task);
            }
        }
    }

    async fn batch(&self, variant: Variant, calls: usize) -> Duration {
        let started = Instant::now();
        for _ in 0..calls {
            self.call(variant).await;
        }
        started.elapsed()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--profile") {
        profile(args.get(at + 1).map(String::as_str), args.get(at + 2));
        return;
    }
    let quick = common::quick();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let per_call = runtime.block_on(per_call_overhead(quick, true));
    let cross_thread = runtime.block_on(per_call_overhead(quick, false));
    let fallback = format_fallback(&runtime, quick);
    let instructions = instructions(quick);
    common::write_result(
        "overhead",
        &json!({
            "quick": quick,
            "per_call": per_call,
            "per_call_cross_thread": cross_thread,
            "instructions": instructions,
            "format_fallback": fallback,
        }),
    );
}

/// `--profile baseline|baseline-timeout|raw|sdk [CALLS]`: only that variant, for `perf`,
/// `heaptrack` or callgrind.
fn profile(variant: Option<&str>, calls: Option<&String>) {
    let Some(variant) = Variant::ALL.into_iter().find(|v| Some(v.arg()) == variant) else {
        panic!("--profile baseline|baseline-timeout|raw|sdk [CALLS], not {variant:?}");
    };
    let calls = calls.and_then(|c| c.parse().ok()).unwrap_or(100_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (_server, contestants) = contestants(false);
        contestants.batch(variant, 200).await;
        let switches = common::context_switches();
        let time = contestants.batch(variant, calls).await;
        let switched = common::context_switches() - switches;
        println!(
            "{variant:?}: {calls} calls, {:.1} us per call, {:.2} voluntary context switches \
             of the client thread per call",
            micros(time) / calls as f64,
            switched as f64 / calls as f64
        );
    });
}

/// The contestants and their server: on this thread (`local`, with a current-thread runtime) or
/// on a thread of its own.
fn contestants(local: bool) -> (FixedServer, Contestants) {
    let body = hosted_task_body(TASK_ID);
    let server = if local {
        FixedServer::start_local(body.as_bytes())
    } else {
        FixedServer::start(body.as_bytes())
    };
    let base = format!("http://{}/runwayml", server.addr);
    let contestants = Contestants {
        http: reqwest::Client::builder().build().expect("baseline client"),
        url: format!("{base}/v1/tasks/{TASK_ID}?api_token={TOKEN}"),
        client: Client::builder()
            .api_token(TOKEN)
            .base_url(&base)
            .build()
            .expect("SDK client"),
        id: TaskId::parse(TASK_ID).expect("task id"),
    };
    (server, contestants)
}

async fn per_call_overhead(quick: bool, local: bool) -> serde_json::Value {
    let (rounds, calls) = if quick { (10, 100) } else { (60, 200) };
    let rounds = common::arg_value("--rounds").unwrap_or(rounds);
    let calls = common::arg_value("--calls").unwrap_or(calls);
    let (server, contestants) = contestants(local);

    // Warm up: connections open, the URL format settles (the server answers any path).
    for variant in Variant::ALL {
        contestants.batch(variant, 200).await;
    }
    assert_eq!(contestants.client.url_format(), UrlFormatState::New);
    let connections_before = server.accepts.load(std::sync::atomic::Ordering::Relaxed);

    // Per round: one batch of each variant, in an order that flips every round; then each
    // variant's time over the baseline's from the same round.
    let mut ratios: [Vec<f64>; 4] = Default::default();
    let mut per_call_us: [Vec<f64>; 4] = Default::default();
    for round in 0..rounds {
        let mut order = Variant::ALL;
        if round % 2 == 1 {
            order.reverse();
        }
        let mut times = [Duration::ZERO; 4];
        for variant in order {
            times[variant as usize] = contestants.batch(variant, calls).await;
        }
        let base = times[Variant::Baseline as usize].as_secs_f64();
        for variant in Variant::ALL {
            let time = times[variant as usize];
            ratios[variant as usize].push(time.as_secs_f64() / base);
            per_call_us[variant as usize].push(micros(time) / calls as f64);
        }
    }
    let connections = server.accepts.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        connections, connections_before,
        "keep-alive: no new connection during the timed rounds"
    );

    // Allocations, on this thread only (client, its connection tasks, its timers).
    let alloc_calls = 1000;
    let mut allocations = serde_json::Map::new();
    for variant in Variant::ALL {
        let count = ThreadCount::start();
        contestants.batch(variant, alloc_calls).await;
        let (allocs, bytes) = count.stop();
        allocations.insert(
            variant.key().to_owned(),
            json!({
                "allocs_per_call": allocs as f64 / alloc_calls as f64,
                "bytes_per_call": bytes as f64 / alloc_calls as f64,
            }),
        );
    }

    let mut over_baseline = serde_json::Map::new();
    let mut micros_per_call = serde_json::Map::new();
    for variant in Variant::ALL {
        let ratio = Summary::of(&ratios[variant as usize]);
        let us = Summary::of(&per_call_us[variant as usize]);
        println!(
            "per-call ({}) {:<16} {:>7.1} us/call (median of {rounds} rounds x {calls}); over \
             baseline: median {:.3}, IQR {:.3}..{:.3}; {} allocations/call",
            if local {
                "same thread"
            } else {
                "server thread"
            },
            variant.key(),
            us.median,
            ratio.median,
            ratio.q1,
            ratio.q3,
            allocations[variant.key()]["allocs_per_call"],
        );
        over_baseline.insert(variant.key().to_owned(), json!(ratio));
        micros_per_call.insert(variant.key().to_owned(), json!(us));
    }
    json!({
        "server": if local { "same thread" } else { "own thread" },
        "rounds": rounds,
        "calls_per_round": calls,
        "over_baseline": over_baseline,
        "per_call_us": micros_per_call,
        "allocations": allocations,
        "alloc_calls": alloc_calls,
        "connections": connections,
        "target_ratio": 1.10,
    })
}

/// The SDK functions whose inclusive instruction counts explain the difference to the baseline:
/// (label, a substring of the symbol callgrind reports).
const BREAKDOWN: [(&str, &str); 9] = [
    (
        "operation_url: the URL pushed onto the base URL parsed once (in place of format! and reqwest's parse)",
        "lowcodeapi_runwayml::transport::operation_url",
    ),
    (
        "  of which pushing the id",
        "url::path_segments::PathSegmentsMut::extend",
    ),
    (
        "set_headers: the request's headers, one map (in place of the builder's merge)",
        "lowcodeapi_runwayml::transport::set_headers",
    ),
    (
        "copy_request (one copy per attempt, for retries)",
        "lowcodeapi_runwayml::transport::copy_request",
    ),
    (
        "normalize: the answer handed back, marked for decode_response",
        "lowcodeapi_runwayml::transport::Transport::normalize",
    ),
    (
        "decode_response (in place of ResponseValue::from_response): envelope + typed decode, the answer dropped",
        "lowcodeapi_runwayml::transport::decode_response::{{closure}}",
    ),
    (
        "  of which envelope::decode_hosted (payload found and decoded in one pass)",
        "lowcodeapi_runwayml::envelope::decode_hosted",
    ),
    (
        "  of which envelope::unwrap_success (only when the one pass does not apply)",
        "lowcodeapi_runwayml::envelope::unwrap_success",
    ),
    (
        "Task::from_wire",
        "lowcodeapi_runwayml::task::Task::from_wire",
    ),
];

/// User-space instructions per call on the client's thread, counted by callgrind: deterministic,
/// so the ratio does not depend on the machine's load. Each variant runs twice (`small` and
/// `large` calls after the same warm-up); the difference divided by `large - small` is per call.
fn instructions(quick: bool) -> serde_json::Value {
    let valgrind = std::process::Command::new("valgrind")
        .arg("--version")
        .output();
    let version = match valgrind {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        _ => {
            println!("instructions per call: skipped (no valgrind on PATH)");
            return json!({"skipped": "valgrind not found on PATH"});
        }
    };
    let (small, large) = if quick { (100, 600) } else { (200, 1200) };
    let exe = std::env::current_exe().expect("current exe");
    let dir = common::results_dir().join("callgrind");
    std::fs::create_dir_all(&dir).expect("callgrind directory");
    let run = |variant: Variant, calls: usize| -> std::path::PathBuf {
        let out = dir.join(format!("{}-{calls}.out", variant.key()));
        let status = std::process::Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg("--separate-threads=yes")
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .args(["--profile", variant.arg(), &calls.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("run valgrind");
        assert!(status.success(), "callgrind run of {variant:?} failed");
        // Thread 1 is this process's main thread: the client (the server has its own thread).
        dir.join(format!("{}-{calls}.out-01", variant.key()))
    };
    let mut per_call = serde_json::Map::new();
    let mut sdk_files = None;
    for variant in Variant::ALL {
        let (a, b) = (run(variant, small), run(variant, large));
        let count = (total_instructions(&b) - total_instructions(&a)) / (large - small) as f64;
        per_call.insert(variant.key().to_owned(), json!(count));
        if variant == Variant::Sdk {
            sdk_files = Some((a, b));
        }
    }
    let base = per_call["baseline"].as_f64().unwrap_or(f64::NAN);
    let ratios: serde_json::Map<_, _> = per_call
        .iter()
        .map(|(k, v)| (k.clone(), json!(v.as_f64().unwrap_or(f64::NAN) / base)))
        .collect();
    let mut breakdown = Vec::new();
    if let Some((a, b)) = sdk_files {
        let (fa, fb) = (inclusive(&a), inclusive(&b));
        for (label, pattern) in BREAKDOWN {
            let sum = |map: &[(String, f64)]| -> f64 {
                map.iter()
                    .filter(|(name, _)| name.contains(pattern))
                    .map(|(_, n)| n)
                    .sum()
            };
            let count = (sum(&fb) - sum(&fa)) / (large - small) as f64;
            breakdown.push(json!({"what": label, "instructions_per_call": count}));
        }
    }
    println!(
        "instructions per call (callgrind, client thread): {}; over baseline {}",
        serde_json::Value::Object(per_call.clone()),
        serde_json::Value::Object(ratios.clone())
    );
    json!({
        "tool": version,
        "calls": large - small,
        "per_call": per_call,
        "over_baseline": ratios,
        "sdk_breakdown": breakdown,
    })
}

/// The `summary:` (or `totals:`) line of a callgrind output file.
fn total_instructions(path: &std::path::Path) -> f64 {
    let text = std::fs::read_to_string(path).expect("callgrind output");
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|n| n.trim().parse().ok())
        .expect("a summary line")
}

/// Inclusive instruction counts per function, from `callgrind_annotate --inclusive=yes`.
fn inclusive(path: &std::path::Path) -> Vec<(String, f64)> {
    let output = std::process::Command::new("callgrind_annotate")
        .args(["--inclusive=yes", "--threshold=100"])
        .arg(path)
        .output();
    let Ok(output) = output else {
        return Vec::new();
    };
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (count, rest) = line.split_once(' ')?;
            let count: f64 = count.replace(',', "").parse().ok()?;
            Some((rest.to_owned(), count))
        })
        .collect()
}

fn format_fallback(runtime: &tokio::runtime::Runtime, quick: bool) -> serde_json::Value {
    let calls = if quick { 1_000 } else { 10_000 };
    let mut rows = Vec::new();
    for (name, dialect) in [
        ("hosted, Old Format only", Dialect::Hosted),
        ("self-hosted (Old Format only)", Dialect::SelfHosted),
    ] {
        let sim = Simulator::builder()
            .dialect(dialect)
            .url_formats(UrlFormats::OldOnly)
            .seed(7)
            .start_blocking()
            .expect("simulator");
        let row = runtime.block_on(steady_state(&sim, name, calls));
        rows.push(row);
    }
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .seed(8)
        .start_blocking()
        .expect("simulator");
    let concurrent = runtime.block_on(concurrent_first_calls(&sim, 64));
    let create_first = runtime.block_on(create_then_get(&sim));
    json!({
        "calls": calls,
        "steady_state": rows,
        "concurrent_first_calls": concurrent,
        "create_then_get": create_first,
        "target": 1.0,
    })
}

/// Creates a task behind the SDK's back (so no SDK call has settled anything).
async fn create_task(sim: &Simulator) -> String {
    let http = reqwest::Client::new();
    let created: serde_json::Value = http
        .post(sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")))
        .json(&json!({
            "model": "gen4_turbo",
            "promptImage": "https://example.com/a.jpg",
            "ratio": "1280:720",
        }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("create JSON");
    let inner = created.get("data").or_else(|| created.get("result"));
    inner
        .and_then(|v| v["id"].as_str())
        .expect("created id")
        .to_owned()
}

fn client_for(sim: &Simulator) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(sim.base_url())
        .url_format(UrlFormat::Auto)
        .build()
        .expect("client")
}

async fn steady_state(sim: &Simulator, name: &str, calls: usize) -> serde_json::Value {
    let id = TaskId::parse(create_task(sim).await).expect("id");
    let client = client_for(sim);
    sim.clear_requests();
    client.get_task(&id).await.expect("first get_task");
    let first = sim.count(Route::Any);
    assert_eq!(client.url_format(), UrlFormatState::Old);
    sim.clear_requests();
    for _ in 0..calls {
        black_box(client.get_task(&id).await.expect("get_task"));
    }
    let requests = sim.count(Route::Any);
    let misses = sim.count(Route::NotFound);
    println!(
        "format fallback ({name}): first call {first} requests; then {requests} requests for \
         {calls} calls ({:.4} per call), {misses} routing misses",
        requests as f64 / calls as f64
    );
    json!({
        "server": name,
        "first_call_requests": first,
        "calls": calls,
        "requests": requests,
        "routing_misses": misses,
        "requests_per_call": requests as f64 / calls as f64,
    })
}

/// Many first calls at once on a fresh client: the probe lock should let one of them find the
/// format while the others wait.
async fn concurrent_first_calls(sim: &Simulator, calls: usize) -> serde_json::Value {
    let id = TaskId::parse(create_task(sim).await).expect("id");
    let client = client_for(sim);
    sim.clear_requests();
    let results = futures::future::join_all((0..calls).map(|_| client.get_task(&id))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let requests = sim.count(Route::Any);
    println!(
        "format fallback: {calls} concurrent first calls on a fresh client: {ok} succeeded, \
         {requests} requests"
    );
    json!({"calls": calls, "succeeded": ok, "requests": requests})
}

/// The usual first call is a create: does its success settle a format that then fails GETs on
/// a server that routes only the Old Format?
async fn create_then_get(sim: &Simulator) -> serde_json::Value {
    let client = client_for(sim);
    sim.clear_requests();
    let request = ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").expect("image URL"),
    )
    .ratio(Ratio::W1280H720)
    .duration(5);
    let created = client.image_to_video(request).await.expect("create");
    let settled_after_create = format!("{:?}", client.url_format());
    let got = client.get_task(&created.id).await;
    let requests = sim.count(Route::Any);
    let misses = sim.count(Route::NotFound);
    let outcome = match &got {
        Ok(task) => format!("ok ({})", task.status),
        Err(error) => format!("error: {error}"),
    };
    println!(
        "format fallback: create then get_task on a self-hosted simulator: format after create \
         {settled_after_create}, get_task {outcome}, {requests} requests, {misses} routing misses"
    );
    json!({
        "format_after_create": settled_after_create,
        "get_task": outcome,
        "get_ok": got.is_ok(),
        "requests": requests,
        "routing_misses": misses,
    })
}
