//! Crash tests with real processes: worker processes (this test binary, started again as a
//! worker) are killed with SIGKILL at random points and restarted until every job settles, on
//! SQLite and PostgreSQL; then the simulator's own record is checked: no task created twice, no
//! created task lost, and every ambiguous job explained. And the fleet's in-flight cap, across
//! four worker processes, checked against the simulator's task list.
//!
//! The short versions run with `cargo test`; the long campaign is
//! `cargo test -p lowcodeapi-runwayml-jobs --test crash -- --ignored --nocapture long_`.

mod common;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lowcodeapi_runwayml_jobs::{Destination, JobState, Jobs};
use lowcodeapi_runwayml_sim::{Fault, Route, Simulator};
use rand::{Rng as _, SeedableRng as _};

const CHILD_DB: &str = "RUNWAY_JOBS_CHILD_DB";
const CHILD_BASE: &str = "RUNWAY_JOBS_CHILD_BASE_URL";
const CHILD_SLOTS: &str = "RUNWAY_JOBS_CHILD_SLOTS";
const CHILD_CAP: &str = "RUNWAY_JOBS_CHILD_CAP";
const CHILD_LEASE_MS: &str = "RUNWAY_JOBS_CHILD_LEASE_MS";

/// Not a test of its own: the worker process the tests below start (and kill).
#[test]
#[ignore = "the worker process of the crash tests; started by them"]
fn child_worker() {
    let Ok(db) = std::env::var(CHILD_DB) else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = lowcodeapi_runwayml::Client::builder()
            .api_token(lowcodeapi_runwayml_sim::DEFAULT_TOKEN)
            .base_url(var(CHILD_BASE))
            .build()
            .unwrap();
        let jobs = Jobs::builder(db)
            .client(client)
            .max_in_flight(var(CHILD_CAP).parse().unwrap())
            .lease(Duration::from_millis(var(CHILD_LEASE_MS).parse().unwrap()))
            .poll_interval(Duration::from_millis(5))
            .idle_interval(Duration::from_millis(10))
            .retry_backoff(Duration::from_millis(50))
            .open()
            .await
            .unwrap();
        jobs.run_until_settled(var(CHILD_SLOTS).parse().unwrap())
            .await
            .unwrap();
    });
}

struct Fleet {
    db: String,
    base_url: String,
    slots: usize,
    cap: u32,
    lease: Duration,
}

impl Fleet {
    fn spawn(&self) -> Child {
        Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "child_worker", "--nocapture", "-q"])
            .env(CHILD_DB, &self.db)
            .env(CHILD_BASE, &self.base_url)
            .env(CHILD_SLOTS, self.slots.to_string())
            .env(CHILD_CAP, self.cap.to_string())
            .env(CHILD_LEASE_MS, self.lease.as_millis().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a worker process")
    }
}

/// What a campaign found.
#[derive(Debug, Default)]
struct Report {
    jobs: usize,
    kills: usize,
    creates: usize,
    duplicate_creates: usize,
    lost_tasks: usize,
    succeeded: usize,
    failed: usize,
    ambiguous_killed_mid_create: usize,
    ambiguous_answer_lost: usize,
    ambiguous_with_task_at_runway: usize,
    elapsed: Duration,
}

async fn campaign(
    kind: &str,
    url: &str,
    n: usize,
    kills: usize,
    processes: usize,
    seed: u64,
) -> Report {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let sim = common::simulator(200.0, 20.0).await;
    // Now and then a create's answer is lost after Runway made the task.
    sim.fault(Route::CreateTask, Fault::DropAfterProcessing)
        .always()
        .probability(0.01);
    let jobs = Jobs::open(url).await.unwrap();
    for i in 0..n {
        jobs.submit(common::request(i), Destination::directory(dir.path()))
            .await
            .unwrap();
    }
    let fleet = Fleet {
        db: url.to_string(),
        base_url: sim.base_url().to_string(),
        slots: 4,
        cap: 16,
        lease: Duration::from_millis(400),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut children: Vec<Child> = (0..processes).map(|_| fleet.spawn()).collect();
    let mut report = Report {
        jobs: n,
        ..Report::default()
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let unsettled = jobs
            .counts()
            .await
            .unwrap()
            .iter()
            .filter(|(s, _)| !s.is_settled())
            .map(|(_, c)| c)
            .sum::<i64>();
        if unsettled == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{kind}: jobs still unsettled after 10 minutes"
        );
        if report.kills < kills {
            tokio::time::sleep(Duration::from_millis(rng.random_range(10..150))).await;
            let victim = rng.random_range(0..children.len());
            children[victim].kill().unwrap(); // SIGKILL
            children[victim].wait().unwrap();
            report.kills += 1;
            children[victim] = fleet.spawn();
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            // A worker that ran out of work exits; keep the fleet up until every lease is over.
            for child in &mut children {
                if child.try_wait().unwrap().is_some() {
                    *child = fleet.spawn();
                }
            }
        }
    }
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }

    // The simulator's record against the store's.
    let tasks = sim.tasks();
    report.creates = tasks.len();
    let mut by_marker: HashMap<String, Vec<String>> = HashMap::new();
    for task in &tasks {
        let marker = common::marker(task.prompt_text.as_deref()).expect("a marked prompt");
        by_marker.entry(marker).or_default().push(task.id.clone());
    }
    report.duplicate_creates = by_marker
        .values()
        .map(|ids| ids.len().saturating_sub(1))
        .sum();
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = jobs.list(None, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    assert_eq!(all.len(), n);
    let mut recorded = std::collections::HashSet::new();
    for (i, job) in all.iter().enumerate() {
        let marker = format!("job-{i}");
        let at_runway = by_marker.get(&marker).map(Vec::len).unwrap_or(0);
        match job.state {
            JobState::Succeeded => {
                report.succeeded += 1;
                let task = job.task_id.as_ref().expect("a succeeded job has its task");
                recorded.insert(task.as_str().to_string());
                assert!(
                    job.outputs.iter().all(|o| o.path.exists()),
                    "{kind}: {job:?}"
                );
            }
            JobState::Failed => report.failed += 1,
            JobState::Ambiguous => {
                let why = job.error.clone().unwrap_or_default();
                if why.contains("answer was lost") {
                    report.ambiguous_answer_lost += 1;
                } else {
                    report.ambiguous_killed_mid_create += 1;
                }
                if at_runway > 0 {
                    report.ambiguous_with_task_at_runway += 1;
                }
            }
            other => panic!("{kind}: job {} left {other}", job.id),
        }
        if let Some(task) = &job.task_id {
            recorded.insert(task.as_str().to_string());
        }
    }
    // A lost task: Runway made it, and no job knows it or says it may exist.
    report.lost_tasks = tasks
        .iter()
        .filter(|t| !recorded.contains(&t.id))
        .filter(|t| {
            let marker = common::marker(t.prompt_text.as_deref()).unwrap();
            let i: usize = marker.trim_start_matches("job-").parse().unwrap();
            all[i].state != JobState::Ambiguous
        })
        .count();
    report.elapsed = started.elapsed();
    eprintln!("crash campaign ({kind}): {report:?}");
    assert_eq!(report.duplicate_creates, 0, "{kind}: {report:?}");
    assert_eq!(report.lost_tasks, 0, "{kind}: {report:?}");
    assert_eq!(report.failed, 0, "{kind}: {report:?}");
    assert_eq!(
        report.succeeded + report.ambiguous_answer_lost + report.ambiguous_killed_mid_create,
        report.jobs
    );
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_killed_at_random_create_nothing_twice_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "crash").await {
        campaign(kind, &url, 120, 12, 3, 7).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the long crash campaign (minutes); run on demand"]
async fn long_crash_campaign() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "long_crash").await {
        campaign(kind, &url, 600, 100, 4, 11).await;
    }
}

/// The most tasks running at once at the simulator: each task runs from its creation for the
/// timeline's length (simulated time).
fn max_concurrent(sim: &Simulator, length: Duration) -> usize {
    let mut edges: Vec<(Duration, i32)> = Vec::new();
    for task in sim.tasks() {
        edges.push((task.created_at, 1));
        edges.push((task.created_at + length, -1));
    }
    // An end and a start at the same instant: the end first.
    edges.sort();
    let (mut now, mut max) = (0i32, 0i32);
    for (_, step) in edges {
        now += step;
        max = max.max(now);
    }
    max as usize
}

async fn cap_run(kind: &str, url: &str, n: usize) {
    let sim = common::simulator(1000.0, 20.0).await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::open(url).await.unwrap();
    for i in 0..n {
        jobs.submit(common::request(i), Destination::directory(dir.path()))
            .await
            .unwrap();
    }
    let cap = 8;
    let fleet = Fleet {
        db: url.to_string(),
        base_url: sim.base_url().to_string(),
        slots: 4,
        cap,
        lease: Duration::from_secs(10),
    };
    let children: Vec<Child> = (0..4).map(|_| fleet.spawn()).collect();
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "{kind}: a worker process failed: {status}"
        );
    }
    assert_eq!(
        jobs.counts().await.unwrap(),
        [(JobState::Succeeded, n as i64)],
        "{kind}"
    );
    assert_eq!(sim.accepted_creates(), n, "{kind}");
    let max = max_concurrent(&sim, Duration::from_secs(20));
    eprintln!(
        "in-flight cap ({kind}): 4 processes x 4 workers, {n} jobs, cap {cap}: at most {max} tasks at once at the simulator"
    );
    assert!(
        max <= cap as usize,
        "{kind}: {max} tasks at once, over the cap of {cap}"
    );
    assert!(
        max >= 2,
        "{kind}: the fleet never ran tasks in parallel ({max})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_never_exceed_the_fleet_cap() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "cap").await {
        cap_run(kind, &url, 500).await;
    }
}
