//! Figure 5 of BENCHMARKS.md: this SDK's `get_task` against Runway's official Python SDK
//! (`runwayml` on PyPI, synchronous client) retrieving the same task from the same loopback
//! server, in the same run.
//!
//! The fixed-answer server answers every path with the bare Runway task body, so the Python SDK
//! (`GET /v1/tasks/{id}`) and ours (`GET /runwayml/v1/tasks/{id}?api_token=…`, bare body accepted)
//! get the same bytes. Both keep one client and its keep-alive connection. Rounds interleave a
//! Python batch (timed inside Python with `perf_counter_ns`, so process start and the pipe are
//! not counted) with one of ours; the order flips every round; the claim is the median of the
//! per-round ratios, as context rather than a target.
//!
//! The interpreter is `$RUNWAYML_PYTHON`, else `target/bench-venv/bin/python` (which
//! `cargo xtask bench` creates: `pip install runwayml==5.24.0`). Without it the bench records
//! why it was skipped.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{CountingAlloc, FixedServer, Summary, TASK_ID, TOKEN, micros, task_body};
use lowcodeapi_runwayml::{Client, TaskId};
use serde_json::json;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn python() -> PathBuf {
    std::env::var_os("RUNWAYML_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv/bin/python")
        })
}

fn main() {
    let quick = common::quick();
    let (rounds, calls) = if quick { (6, 100) } else { (30, 200) };
    let python = python();
    if !python.exists() {
        let reason = format!(
            "no Python interpreter with runwayml at {} (run `cargo xtask bench`, which creates it)",
            python.display()
        );
        println!("vs_python skipped: {reason}");
        common::write_result("vs_python", &json!({"skipped": reason}));
        return;
    }
    let server = FixedServer::start(task_body(TASK_ID).as_bytes());
    let driver = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/python/runway_driver.py");
    let mut child = Command::new(&python)
        .arg(&driver)
        .arg(format!("http://{}", server.addr))
        .arg(TASK_ID)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the Python driver");
    let mut to_python = child.stdin.take().expect("driver stdin");
    let mut from_python = BufReader::new(child.stdout.take().expect("driver stdout"));
    let mut line = String::new();
    from_python.read_line(&mut line).expect("driver ready line");
    let Some(version) = line.trim().strip_prefix("ready ").map(str::to_owned) else {
        panic!("the Python driver did not start: {line:?}");
    };
    let mut python_batch = |calls: usize| -> Duration {
        writeln!(to_python, "{calls}").expect("to driver");
        let mut reply = String::new();
        from_python.read_line(&mut reply).expect("driver reply");
        Duration::from_nanos(reply.trim().parse().expect("nanoseconds"))
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(format!("http://{}/runwayml", server.addr))
        .build()
        .expect("client");
    let id = TaskId::parse(TASK_ID).expect("id");
    let ours = |calls: usize| -> Duration {
        runtime.block_on(async {
            let started = Instant::now();
            for _ in 0..calls {
                std::hint::black_box(client.get_task(&id).await.expect("get_task"));
            }
            started.elapsed()
        })
    };

    // Warm up both (connections, caches, the URL format).
    python_batch(200);
    ours(200);

    let mut ratios = Vec::new();
    let mut python_us = Vec::new();
    let mut ours_us = Vec::new();
    for round in 0..rounds {
        let (p, o) = if round % 2 == 0 {
            let p = python_batch(calls);
            (p, ours(calls))
        } else {
            let o = ours(calls);
            (python_batch(calls), o)
        };
        ratios.push(p.as_secs_f64() / o.as_secs_f64());
        python_us.push(micros(p) / calls as f64);
        ours_us.push(micros(o) / calls as f64);
    }
    writeln!(to_python).expect("stop driver");
    let _ = child.wait();

    let ratio = Summary::of(&ratios);
    let python_us = Summary::of(&python_us);
    let ours_us = Summary::of(&ours_us);
    println!(
        "vs Python runwayml {version}: {rounds} rounds x {calls} calls; Python/ours median {:.2} \
         (IQR {:.2}..{:.2}); per call: Python {:.1} us, ours {:.1} us",
        ratio.median, ratio.q1, ratio.q3, python_us.median, ours_us.median
    );
    common::write_result(
        "vs_python",
        &json!({
            "python_sdk": format!("runwayml {version}"),
            "rounds": rounds,
            "calls_per_round": calls,
            "python_over_ours": ratio,
            "per_call_us": {"python": python_us, "ours": ours_us},
            "connections": server.accepts.load(std::sync::atomic::Ordering::Relaxed),
        }),
    );
}
