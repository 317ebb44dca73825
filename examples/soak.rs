//! The long soak: many concurrent callers, a few percent of random faults, for minutes; then every
//! task reconciled, and this process's memory followed across the run.
//!
//! ```text
//! cargo run --release --example soak -- --minutes 3 [--workers 32] [--fault-rate 0.03] [--seed N]
//! ```
//!
//! The simulators (one per dialect) run in a child process (this binary with `--sim-child`), so
//! that their growing task store does not blur this process's memory, which is then only the SDK
//! and the callers: a counting allocator gives the live heap, `/proc/self/statm` the RSS, sampled
//! at intervals. The engine, the checks and the CI version are in `tests/soak.rs`. Exit status 1
//! when a promise broke (a duplicate or lost task, a panic, a call past its time bound, an error
//! without its task id, or a heap that grew).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lowcodeapi_runwayml_sim::{Dialect, Route};
use serde_json::{Value, json};

#[path = "../tests/soak.rs"]
mod engine;

/// Counts live heap bytes and allocations.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

struct Args {
    minutes: f64,
    workers: usize,
    fault_rate: f64,
    seed: u64,
    child: bool,
}

fn args() -> Args {
    let mut args = Args {
        minutes: 3.0,
        workers: 32,
        fault_rate: 0.03,
        seed: 20261128,
        child: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().unwrap_or_default();
        match arg.as_str() {
            "--minutes" => args.minutes = value().parse().unwrap_or(args.minutes),
            "--seconds" => args.minutes = value().parse::<f64>().map_or(args.minutes, |s| s / 60.0),
            "--workers" => args.workers = value().parse().unwrap_or(args.workers),
            "--fault-rate" => args.fault_rate = value().parse().unwrap_or(args.fault_rate),
            "--seed" => args.seed = value().parse().unwrap_or(args.seed),
            "--sim-child" => args.child = true,
            "-h" | "--help" => {
                println!(
                    "usage: soak [--minutes M | --seconds S] [--workers N] [--fault-rate P] [--seed N]"
                );
                std::process::exit(0);
            }
            other => {
                eprintln!("soak: unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    args
}

fn config(args: &Args) -> engine::Config {
    let mut config = engine::Config::short();
    config.duration = Duration::from_secs_f64(args.minutes * 60.0);
    config.max_operations = u64::MAX;
    config.workers = args.workers;
    config.fault_rate = args.fault_rate;
    config.seed = args.seed;
    config
}

/// The child: simulators for both dialects with faults; answers `STATS` with a JSON summary.
fn child(args: &Args) -> ExitCode {
    let config = config(args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut sims = Vec::new();
        for dialect in &config.dialects {
            let sim = engine::start_simulator(*dialect, &config)
                .start()
                .await
                .expect("the simulator starts");
            let handles = engine::inject(&sim, &config);
            println!("SIM {dialect} {}", sim.base_url());
            sims.push((sim, handles, Arc::new(AtomicU64::new(0))));
        }
        println!("READY");
        let _ = std::io::stdout().flush();
        // The request log would grow for the whole run: count and clear it every second.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    for (sim, _, counter) in &sims {
                        counter.fetch_add(sim.count(Route::Any) as u64, Ordering::Relaxed);
                        sim.clear_requests();
                    }
                }
                line = rx.recv() => match line.as_deref() {
                    Some("STATS") => {
                        let mut out = Vec::new();
                        for (sim, handles, counter) in &sims {
                            let summary = engine::summarize(sim, handles, counter.load(Ordering::Relaxed));
                            out.push(json!({
                                "requests": summary.requests,
                                "faults": summary.faults,
                                "tasks": summary.tasks.iter().map(|t| json!([t.id, t.prompt, t.status, t.removed])).collect::<Vec<_>>(),
                            }));
                        }
                        println!("{}", Value::Array(out));
                        let _ = std::io::stdout().flush();
                    }
                    _ => break,
                },
            }
        }
    });
    ExitCode::SUCCESS
}

fn summaries(line: &str) -> Vec<engine::SimSummary> {
    let value: Value = serde_json::from_str(line).expect("the child's summary");
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|sim| engine::SimSummary {
            requests: sim["requests"].as_u64().unwrap_or(0),
            faults: sim["faults"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                .collect(),
            tasks: sim["tasks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| engine::SimTask {
                    id: t[0].as_str().unwrap_or_default().to_owned(),
                    prompt: t[1].as_str().unwrap_or_default().to_owned(),
                    status: t[2].as_str().unwrap_or_default().to_owned(),
                    removed: t[3].as_bool().unwrap_or(false),
                })
                .collect(),
        })
        .collect()
}

fn main() -> ExitCode {
    let args = args();
    if args.child {
        return child(&args);
    }
    let config = Arc::new(config(&args));
    println!(
        "soak: {:.1} min, {} callers, {:.1}% faults, seed {}, dialects {:?}",
        args.minutes,
        config.workers,
        config.fault_rate * 100.0,
        config.seed,
        config.dialects
    );
    let mut child = Command::new(std::env::current_exe().expect("this binary"))
        .args([
            "--sim-child",
            "--seed",
            &args.seed.to_string(),
            "--fault-rate",
            &args.fault_rate.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the simulator process starts");
    let mut stdin = child.stdin.take().expect("piped");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut urls = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("the child's output");
        if line == "READY" {
            break;
        }
        if let Some(rest) = line.strip_prefix("SIM ") {
            let (dialect, url) = rest.split_once(' ').expect("SIM <dialect> <url>");
            let dialect: Dialect = dialect.parse().expect("a dialect");
            urls.push((dialect, url.to_owned()));
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let samples = Arc::new(std::sync::Mutex::new(Vec::with_capacity(1024)));
    let (ledger, panics, elapsed) = runtime.block_on(async {
        let sampler = {
            let samples = samples.clone();
            let every = (config.duration / 20).max(Duration::from_secs(1));
            tokio::spawn(async move {
                let started = Instant::now();
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    let sample = (
                        started.elapsed(),
                        LIVE.load(Ordering::Relaxed),
                        rss_bytes(),
                        ALLOCATIONS.load(Ordering::Relaxed),
                    );
                    samples.lock().unwrap().push(sample);
                }
            })
        };
        let result = engine::drive(config.clone(), &urls).await;
        sampler.abort();
        result
    });
    let final_sample = (
        elapsed,
        LIVE.load(Ordering::Relaxed),
        rss_bytes(),
        ALLOCATIONS.load(Ordering::Relaxed),
    );
    samples.lock().unwrap().push(final_sample);

    writeln!(stdin, "STATS").expect("ask the child");
    let line = lines
        .next()
        .expect("the child answers")
        .expect("the child's summary");
    let _ = writeln!(stdin, "QUIT");
    drop(stdin);
    let _ = child.wait();
    let report = engine::reconcile(&config, &ledger, panics, elapsed, &summaries(&line));
    report.print();

    // Memory: the first quarter of the run is warm-up (connection pools, buffers, the runtime).
    let samples = samples.lock().unwrap();
    println!("\n| t (s) | live heap (KiB) | RSS (KiB) | allocations |");
    println!("|---|---|---|---|");
    for (t, live, rss, allocations) in samples.iter() {
        println!(
            "| {:.0} | {} | {} | {} |",
            t.as_secs_f64(),
            live / 1024,
            rss / 1024,
            allocations
        );
    }
    let warm = samples.len() / 4;
    let steady = &samples[warm..samples.len() - 1];
    let (low, high) = steady.iter().fold((i64::MAX, i64::MIN), |(lo, hi), s| {
        (lo.min(s.1), hi.max(s.1))
    });
    let first_half: Vec<i64> = steady[..steady.len() / 2].iter().map(|s| s.1).collect();
    let second_half: Vec<i64> = steady[steady.len() / 2..].iter().map(|s| s.1).collect();
    let mean = |v: &[i64]| v.iter().sum::<i64>() as f64 / v.len().max(1) as f64;
    let drift = mean(&second_half) - mean(&first_half);
    let creates = report.creates.max(1) as f64;
    println!(
        "\nlive heap after warm-up: {} .. {} KiB; mean of the second half minus the first: {:+.0} KiB ({:+.1} bytes per create)",
        low / 1024,
        high / 1024,
        drift / 1024.0,
        drift / creates
    );
    // In-flight requests (up to 256 KiB bodies, 32 callers) make the heap move by a few MiB;
    // a leak of even 100 bytes per create over the run would drift steadily.
    let leaked = drift > 4.0 * 1024.0 * 1024.0 || drift / creates > 100.0;
    if leaked {
        println!("VIOLATION: the live heap grew across the run");
    }
    if report.ok() && !leaked {
        println!("\nsoak: every promise held");
        ExitCode::SUCCESS
    } else {
        println!("\nsoak: a promise broke");
        ExitCode::FAILURE
    }
}
