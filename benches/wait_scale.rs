//! Figure 3 of BENCHMARKS.md: waiting on 1,000 tasks of mixed durations at once, from one client.
//!
//! The bench runs as two processes so that the memory counted is the client's alone:
//!
//! - the child (this binary with `--server`) runs the simulator (hosted dialect, time scaled
//!   ×10) behind a TCP proxy that counts the connections it accepts, creates the tasks (mixed
//!   durations, every tenth one failing) straight on the simulator, hands their ids and simulated
//!   end times to the parent, and at the end reports the GETs from the simulator's request log;
//! - the parent waits on every task concurrently from one `Client` (one spawned Tokio task per
//!   wait, starts spread over one poll interval as tasks created one after another would be),
//!   with `poll_interval(500 ms)`: Runway's 5 s rule in simulated time. A second run starts every
//!   wait in the same instant, the worst case for connection pooling, and a third adds jitter as
//!   Runway's default schedule does (`PollSchedule::every(500 ms).jitter(100 ms)`, which is
//!   `poll_interval` plus jitter; the ideal count assumes no jitter, so there it is only an upper
//!   bound). A counting global
//!   allocator tracks live bytes; the peak during the waits minus the live bytes before them,
//!   divided by the number of tasks, is the memory per waiting task.
//!
//! The ideal GET count is what the fixed schedule implies: a wait that starts at `s` polls at
//! `s + k·interval`, so a task ending at `e` needs `max(1, ceil((e - s) / interval))` polls.
//!
//! Run with `cargo bench --bench wait_scale` (`-- --quick`: 200 tasks), or `cargo xtask bench`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{CountingAlloc, Summary, TOKEN};
use lowcodeapi_runwayml::{Client, Error, PollSchedule, TaskId, UrlFormat};
use lowcodeapi_runwayml_sim::{Dialect, Outcome, Route, Simulator, Timeline};
use serde_json::{Value, json};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Simulated seconds per real second.
const TIME_SCALE: f64 = 10.0;
/// Real time between polls: 5 simulated seconds.
const INTERVAL: Duration = Duration::from_millis(500);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--server") {
        let tasks = args
            .get(at + 1)
            .and_then(|n| n.parse().ok())
            .expect("--server TASKS");
        server(tasks);
        return;
    }
    common::track_live();
    let tasks = if common::quick() { 200 } else { 1000 };
    // The main scenario, repeated: its connection count (and so its memory) follows the server's
    // latency, which moves with the machine's load.
    let reps = if common::quick() { 1 } else { 3 };
    let runs: Vec<Value> = (0..reps).map(|_| parent(tasks, Start::Staggered)).collect();
    let summary = |key: &str| {
        let values: Vec<f64> = runs.iter().filter_map(|r| r[key].as_f64()).collect();
        json!(Summary::of(&values))
    };
    let repeats = json!({
        "runs": reps,
        "gets_over_ideal": summary("gets_over_ideal"),
        "bytes_per_waiting_task": summary("bytes_per_waiting_task"),
        "tcp_connections": summary("tcp_connections"),
        "max_excess_per_task": summary("max_excess_per_task"),
    });
    let mut result = runs[0].clone();
    result["repeats"] = repeats;
    result["runs"] = json!(runs);
    // The worst case for pooling: every wait starts in the same instant, so with a fixed interval
    // (no jitter) every poll of a round goes out at once.
    result["simultaneous_starts"] = parent(tasks, Start::Simultaneous);
    // The same with jitter as in Runway's default schedule (up to 1 s per 5 s), time-scaled.
    result["simultaneous_starts_jitter"] = parent(tasks, Start::SimultaneousJitter);
    common::write_result("wait_scale", &result);
}

/// Total simulated duration of task `i`: 10 to 120 s, spread without a pattern a schedule could
/// align with.
fn duration_of(i: usize) -> Duration {
    Duration::from_secs(10 + (i as u64 * 7919) % 111)
}

// ---------------------------------------------------------------------------------------------
// Child: simulator, counting proxy, task creation, report
// ---------------------------------------------------------------------------------------------

fn server(tasks: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let sim = Simulator::builder()
            .dialect(Dialect::Hosted)
            .time_scale(TIME_SCALE)
            .seed(11)
            .start()
            .await
            .expect("simulator");
        let accepts = Arc::new(AtomicU64::new(0));
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy bind");
        let proxy_addr = proxy.local_addr().expect("proxy addr");
        let upstream = sim.addr();
        let counter = accepts.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = proxy.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });

        // Create the tasks straight on the simulator (not through the proxy).
        let http = reqwest::Client::new();
        let create = sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"));
        let mut ends = Vec::with_capacity(tasks);
        for i in 0..tasks {
            let total = duration_of(i);
            sim.set_task_timeline(Timeline {
                pending: Duration::from_secs(2),
                throttled: Duration::ZERO,
                running: total - Duration::from_secs(2),
            });
            if i % 10 == 9 {
                sim.next_outcome(Outcome::fail("INTERNAL.BAD_OUTPUT.CODE01", "bench failure"));
            }
            let created: Value = http
                .post(&create)
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
            let id = created["data"]["id"].as_str().expect("id").to_owned();
            ends.push((id, total));
        }
        let created_at: std::collections::HashMap<String, Duration> = sim
            .tasks()
            .into_iter()
            .map(|t| (t.id, t.created_at))
            .collect();
        let tasks_json: Vec<Value> = ends
            .iter()
            .map(|(id, total)| {
                let end = created_at[id] + *total;
                json!({"id": id, "end_sim_ms": end.as_secs_f64() * 1e3})
            })
            .collect();
        sim.clear_requests();
        let hello = json!({
            "base_url": format!("http://{proxy_addr}/runwayml"),
            "now_sim_ms": sim.now().as_secs_f64() * 1e3,
            "tasks": tasks_json,
        });
        println!("{hello}");
        std::io::stdout().flush().expect("flush");

        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|_| line)
        })
        .await;

        let log = sim.requests();
        let mut per_task = std::collections::HashMap::<String, u64>::new();
        for request in log.iter().filter(|r| r.route == Route::GetTask) {
            if let Some(id) = &request.task_id {
                *per_task.entry(id.clone()).or_default() += 1;
            }
        }
        let gets: Vec<u64> = ends
            .iter()
            .map(|(id, _)| per_task.get(id).copied().unwrap_or(0))
            .collect();
        let report = json!({
            "accepts": accepts.load(Ordering::SeqCst),
            "requests": log.len(),
            "gets": gets,
            "not_200": log.iter().filter(|r| r.status != Some(200)).count(),
        });
        println!("{report}");
        std::io::stdout().flush().expect("flush");
    });
}

// ---------------------------------------------------------------------------------------------
// Parent: the waits, measured
// ---------------------------------------------------------------------------------------------

/// How the waits start.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Start {
    /// Spread evenly over one poll interval; fixed interval.
    Staggered,
    /// All in the same instant; fixed interval.
    Simultaneous,
    /// All in the same instant; the interval plus up to a fifth of it at random, as
    /// `PollSchedule::default` (5 s + up to 1 s) does.
    SimultaneousJitter,
}

struct Waited {
    start: Instant,
    end: Instant,
    outcome: String,
}

fn parent(tasks: usize, start: Start) -> Value {
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .arg("--server")
        .arg(tasks.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server process");
    let mut stdin = child.stdin.take().expect("child stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("child stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("server hello");
    let handoff = Instant::now();
    let hello: Value = serde_json::from_str(&line).expect("hello JSON");
    let base_url = hello["base_url"].as_str().expect("base_url").to_owned();
    let now_sim_ms = hello["now_sim_ms"].as_f64().expect("now_sim_ms");
    let entries = hello["tasks"].as_array().expect("tasks");
    let ids: Vec<TaskId> = entries
        .iter()
        .map(|t| TaskId::parse(t["id"].as_str().expect("id")).expect("task id"))
        .collect();
    let ends: Vec<f64> = entries
        .iter()
        .map(|t| t["end_sim_ms"].as_f64().expect("end"))
        .collect();
    drop(hello);
    drop(line);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(&base_url)
        .url_format(UrlFormat::New)
        .build()
        .expect("client");

    let baseline = common::reset_peak();
    let started = Instant::now();
    let waited: Vec<Waited> = runtime.block_on(async {
        let mut handles = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let client = client.clone();
            let id = id.clone();
            let offset = if start == Start::Staggered {
                INTERVAL.mul_f64(i as f64 / tasks as f64)
            } else {
                Duration::ZERO
            };
            let jitter = if start == Start::SimultaneousJitter {
                INTERVAL / 5
            } else {
                Duration::ZERO
            };
            handles.push(tokio::spawn(async move {
                tokio::time::sleep_until((started + offset).into()).await;
                let start = Instant::now();
                let result = client
                    .wait(&id)
                    .schedule(PollSchedule::every(INTERVAL).jitter(jitter))
                    // Waits right after their creates: the first poll after one interval.
                    .poll_immediately(false)
                    .timeout(Duration::from_secs(120))
                    .await;
                let outcome = match result {
                    Ok(task) => task.status.to_string(),
                    Err(Error::TaskFailed(task)) => task.status.to_string(),
                    Err(error) => format!("error: {error}"),
                };
                Waited {
                    start,
                    end: Instant::now(),
                    outcome,
                }
            }));
        }
        let mut waited = Vec::with_capacity(handles.len());
        for handle in handles {
            waited.push(handle.await.expect("wait task"));
        }
        waited
    });
    let wall = started.elapsed();
    let peak = common::peak_bytes();
    let after = common::live_bytes();
    drop(runtime);
    drop(client);

    writeln!(stdin, "report").expect("ask for the report");
    let mut line = String::new();
    stdout.read_line(&mut line).expect("server report");
    let report: Value = serde_json::from_str(&line).expect("report JSON");
    let _ = child.wait();

    let gets: Vec<u64> = report["gets"]
        .as_array()
        .expect("gets")
        .iter()
        .map(|g| g.as_u64().expect("count"))
        .collect();
    let interval_sim_ms = INTERVAL.as_secs_f64() * 1e3 * TIME_SCALE;
    let mut ideal_total = 0u64;
    let mut over = 0usize;
    let mut max_excess = 0i64;
    let mut excess = Vec::new();
    for ((w, end), actual) in waited.iter().zip(&ends).zip(&gets) {
        let start_sim = now_sim_ms + (w.start - handoff).as_secs_f64() * 1e3 * TIME_SCALE;
        let ideal = ((end - start_sim) / interval_sim_ms).ceil().max(1.0) as u64;
        ideal_total += ideal;
        let diff = *actual as i64 - ideal as i64;
        if diff > 0 {
            over += 1;
        }
        max_excess = max_excess.max(diff);
        excess.push(diff as f64);
    }
    let gets_total: u64 = gets.iter().sum();
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for w in &waited {
        *outcomes.entry(w.outcome.clone()).or_default() += 1;
    }
    let wait_secs: Vec<f64> = waited
        .iter()
        .map(|w| (w.end - w.start).as_secs_f64())
        .collect();
    let per_task_bytes = (peak - baseline) as f64 / tasks as f64;
    let accepts = report["accepts"].as_u64().expect("accepts");
    println!(
        "waiting at scale ({}): {tasks} tasks in {:.1} s; {gets_total} GETs vs {ideal_total} ideal \
         ({:.4}x); {over} tasks polled more than ideal (max +{max_excess}); peak {:.0} B per \
         waiting task ({:.2} KiB); {accepts} TCP connections; outcomes {outcomes:?}",
        match start {
            Start::Staggered => "starts spread over one interval",
            Start::Simultaneous => "simultaneous starts",
            Start::SimultaneousJitter => "simultaneous starts, jitter",
        },
        wall.as_secs_f64(),
        gets_total as f64 / ideal_total as f64,
        per_task_bytes,
        per_task_bytes / 1024.0,
    );
    json!({
        "tasks": tasks,
        "start": format!("{start:?}"),
        "time_scale": TIME_SCALE,
        "poll_interval_ms_real": INTERVAL.as_millis() as u64,
        "wall_s": wall.as_secs_f64(),
        "gets": gets_total,
        "ideal_gets": ideal_total,
        "gets_over_ideal": gets_total as f64 / ideal_total as f64,
        "tasks_over_ideal": over,
        "max_excess_per_task": max_excess,
        "excess_per_task": Summary::of(&excess),
        "other_requests": report["requests"].as_u64().unwrap_or(0) - gets_total,
        "not_200": report["not_200"],
        "peak_bytes_over_baseline": peak - baseline,
        "live_bytes_after_over_baseline": after - baseline,
        "bytes_per_waiting_task": per_task_bytes,
        "target_bytes_per_task": 16 * 1024,
        "tcp_connections": accepts,
        "outcomes": outcomes,
        "wait_seconds": Summary::of(&wait_secs),
        "target_gets_ratio": 1.05,
    })
}
