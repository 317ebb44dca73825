//! The job store's figures for BENCHMARKS.md: jobs per second end to end, store round trips per
//! job, and a worker's memory with a long queue against a short one.
//!
//! ```text
//! cargo run --release -p lowcodeapi-runwayml-jobs --example throughput
//! RUNWAY_JOBS_TEST_PG=postgres://… cargo run --release -p lowcodeapi-runwayml-jobs --example throughput
//! ```
//!
//! The simulator runs in this process at full speed (tasks end at once); the outputs are small.
//! The memory figures come from a worker process (this example started again with `--worker`),
//! read from `/proc` after it finished 100 jobs.

use std::time::{Duration, Instant};

use lowcodeapi_runwayml::{Client, ImageToVideo, Model, PromptImage, Ratio};
use lowcodeapi_runwayml_jobs::{Destination, JobState, Jobs};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator, Timeline};

const PG_ENV: &str = "RUNWAY_JOBS_TEST_PG";

fn request(n: usize) -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").expect("a valid URL"),
    )
    .prompt_text(format!("job-{n}"))
    .ratio(Ratio::W1280H720)
    .duration(5)
}

fn client(base_url: &str) -> Client {
    Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(base_url)
        .build()
        .expect("a client")
}

fn builder(url: &str, base_url: &str) -> lowcodeapi_runwayml_jobs::JobsBuilder {
    Jobs::builder(url)
        .client(client(base_url))
        .max_in_flight(64)
        .poll_interval(Duration::from_millis(1))
        .idle_interval(Duration::from_millis(5))
}

async fn fresh_store(kind: &str, dir: &std::path::Path, name: &str) -> Option<String> {
    match kind {
        "sqlite" => Some(format!(
            "sqlite://{}",
            dir.join(format!("{name}.db")).display()
        )),
        _ => {
            use sqlx::Connection as _;
            let admin = std::env::var(PG_ENV).ok()?;
            sqlx::any::install_default_drivers();
            let db = format!("bench_{name}_{}", std::process::id());
            let mut conn = sqlx::AnyConnection::connect(&admin).await.ok()?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db}"))
                .execute(&mut conn)
                .await
                .ok()?;
            sqlx::raw_sql(&format!("CREATE DATABASE {db}"))
                .execute(&mut conn)
                .await
                .ok()?;
            let (base, _) = admin.rsplit_once('/')?;
            Some(format!("{base}/{db}"))
        }
    }
}

async fn submit(url: &str, base_url: &str, dir: &std::path::Path, n: usize) {
    let jobs = builder(url, base_url).open().await.expect("open");
    for i in 0..n {
        jobs.submit(request(i), Destination::directory(dir))
            .await
            .expect("submit");
    }
    jobs.close().await;
}

/// Jobs per second with `workers` workers in one process, and store statements per job.
async fn throughput(
    kind: &str,
    url: &str,
    sim: &Simulator,
    dir: &std::path::Path,
    n: usize,
    workers: usize,
) -> (f64, f64) {
    submit(url, sim.base_url(), dir, n).await;
    let jobs = builder(url, sim.base_url()).open().await.expect("open");
    let start = Instant::now();
    jobs.run_until_settled(workers).await.expect("run");
    let elapsed = start.elapsed();
    let counts = jobs.counts().await.expect("counts");
    assert_eq!(counts, [(JobState::Succeeded, n as i64)], "{kind}");
    let per_job = jobs.store_round_trips() as f64 / n as f64;
    jobs.close().await;
    (n as f64 / elapsed.as_secs_f64(), per_job)
}

/// The resident memory (kB) of a worker process after it finished 100 jobs of a queue of
/// `queued`.
async fn worker_memory(url: &str, sim: &Simulator, dir: &std::path::Path, queued: usize) -> u64 {
    submit(url, sim.base_url(), dir, queued).await;
    let mut child = std::process::Command::new(std::env::current_exe().expect("this example"))
        .args(["--worker", url, sim.base_url()])
        .spawn()
        .expect("a worker process");
    let jobs = Jobs::open(url).await.expect("open");
    let rss = loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let done = jobs
            .counts()
            .await
            .expect("counts")
            .iter()
            .find(|(s, _)| *s == JobState::Succeeded)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        if done >= 100 {
            let status =
                std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
            break status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
                .unwrap_or(0);
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    jobs.close().await;
    rss
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--worker") {
        let jobs = builder(&args[2], &args[3])
            .max_in_flight(4)
            .open()
            .await
            .expect("open");
        jobs.run(4).await.expect("run");
        return;
    }
    let n: usize = std::env::var("JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let sim = Simulator::builder()
        .task_timeline(Timeline {
            pending: Duration::ZERO,
            throttled: Duration::ZERO,
            running: Duration::ZERO,
        })
        .synthetic_output_len(1024)
        .start()
        .await
        .expect("simulator");
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("| store | workers | jobs | jobs/s | store statements per job |");
    println!("|---|---|---|---|---|");
    for kind in ["sqlite", "postgres"] {
        for workers in [1, 4] {
            let Some(url) = fresh_store(kind, dir.path(), &format!("t{workers}")).await else {
                println!("| {kind} | {workers} | - | SKIPPED: {PG_ENV} not set | - |");
                continue;
            };
            let (rate, trips) = throughput(kind, &url, &sim, dir.path(), n, workers).await;
            println!("| {kind} | {workers} | {n} | {rate:.0} | {trips:.1} |");
        }
    }
    println!();
    println!("| store | queued | worker RSS after 100 jobs (kB) |");
    println!("|---|---|---|");
    for kind in ["sqlite", "postgres"] {
        let mut figures = Vec::new();
        for queued in [100, 10_000] {
            let Some(url) = fresh_store(kind, dir.path(), &format!("m{queued}")).await else {
                continue;
            };
            let rss = worker_memory(&url, &sim, dir.path(), queued).await;
            println!("| {kind} | {queued} | {rss} |");
            figures.push(rss);
        }
        if let [short, long] = figures[..] {
            println!(
                "| {kind} | ratio | {:.3} (10,000 / 100) |",
                long as f64 / short.max(1) as f64
            );
        }
    }
}
