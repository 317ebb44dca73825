//! Soak: thousands of mixed operations from many concurrent callers against the simulator, with a
//! few percent of random faults, then a reconciliation of every task.
//!
//! This file is the engine and its short CI run (a few seconds, a few hundred operations). The
//! long run is `cargo run --release --example soak -- --minutes 3`, which drives the same engine
//! against simulators in a child process and watches its own memory (see `examples/soak.rs`).
//!
//! What is checked:
//! - no panic in any caller;
//! - every create is accounted for: the simulator's tasks are exactly the creates the SDK
//!   returned an id for, plus creates whose error said the task may have been created (a timeout
//!   or broken connection after sending, or a garbled 2xx answer);
//! - no create made two tasks (each create carries a unique prompt, so a re-sent POST shows up
//!   as two tasks with one prompt), and no create the SDK reported as plainly failed made one;
//! - every wait ends with the task's end (SUCCEEDED, FAILED, CANCELLED or gone), a timeout, or an
//!   error, and every error carries the task id;
//! - no call outlives its time bound (its timeouts, retries and `Retry-After` cap, plus slack);
//! - the wait overhead: from the instant the task reached its end in the simulator (its
//!   `createdAt` plus the simulated timeline, on a real-time clock) to the instant `wait`
//!   returned. With a fixed poll interval P the ideal is at most P plus one round trip.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lowcodeapi_runwayml::{
    Client, Error, ImageToVideo, Model, PromptImage, Ratio, RetryPolicy, Task, TaskId, TaskStatus,
    UrlFormat,
};
use lowcodeapi_runwayml_sim::{Dialect, Fault, Outcome, Route, Simulator, Timeline};

/// The token the soak's simulators accept.
pub const TOKEN: &str = "at_soak_7c1f0e9d2b3a";
/// Prompt markers: how a task ends.
pub const FAIL_MARKER: &str = "[fail]";
pub const FOREVER_MARKER: &str = "[forever]";

/// What a soak run does.
#[derive(Debug, Clone)]
pub struct Config {
    pub duration: Duration,
    /// Stop starting operations after this many (whichever comes first).
    pub max_operations: u64,
    pub workers: usize,
    /// The probability that a request meets a fault.
    pub fault_rate: f64,
    pub seed: u64,
    pub dialects: Vec<Dialect>,
    pub request_timeout: Duration,
    pub cancel_timeout: Duration,
    pub poll_interval: Duration,
    pub wait_timeout: Duration,
    pub timeline: Timeline,
    pub retry: RetryPolicy,
    /// The largest `Retry-After` a fault announces that the client waits out.
    pub retry_after: Duration,
}

impl Config {
    /// The CI run: a few seconds.
    pub fn short() -> Config {
        Config {
            duration: Duration::from_secs(6),
            max_operations: 600,
            workers: 16,
            fault_rate: 0.04,
            seed: 20261128,
            dialects: vec![Dialect::Hosted, Dialect::SelfHosted],
            request_timeout: Duration::from_millis(300),
            cancel_timeout: Duration::from_millis(300),
            poll_interval: Duration::from_millis(40),
            wait_timeout: Duration::from_secs(3),
            timeline: Timeline {
                pending: Duration::from_millis(40),
                throttled: Duration::ZERO,
                running: Duration::from_millis(120),
            },
            retry: RetryPolicy::default()
                .max_retries(2)
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(50))
                .max_retry_after(Duration::from_secs(1)),
            retry_after: Duration::from_secs(1),
        }
    }

    /// The longest a single request may take, retries included.
    fn request_bound(&self) -> Duration {
        let attempts = self.retry.get_max_retries() + 1;
        self.request_timeout * attempts
            + (Duration::from_millis(50) + self.retry_after) * self.retry.get_max_retries()
    }

    /// Every call's bound, slack included.
    fn bound(&self, op: Op) -> Duration {
        let slack = Duration::from_secs(2);
        let cancel = self.cancel_timeout + self.request_bound();
        match op {
            Op::Create | Op::Get => self.request_bound() + slack,
            Op::Cancel => cancel + slack,
            Op::Wait => self.wait_timeout + cancel + slack,
        }
    }
}

/// The faults of the fault matrix, for random injection.
pub fn faults(retry_after: Duration) -> Vec<(&'static str, Fault)> {
    vec![
        ("429", Fault::RateLimited { retry_after }),
        (
            "429 beyond cap",
            Fault::RateLimited {
                retry_after: Duration::from_secs(120),
            },
        ),
        ("500", Fault::Status(500)),
        ("502", Fault::Status(502)),
        ("503", Fault::Status(503)),
        ("504", Fault::Status(504)),
        ("HTML 502", Fault::Html(502)),
        ("upstream unreachable", Fault::UpstreamUnreachable),
        ("slow", Fault::Delay(Duration::from_millis(500))),
        ("hang", Fault::Hang),
        ("drop before", Fault::DropConnection),
        ("drop after", Fault::DropAfterProcessing),
        ("no-content hang", Fault::NoContentHang),
        ("malformed JSON", Fault::MalformedJson),
        ("truncated", Fault::TruncatedBody),
        ("huge body", Fault::HugeBody { bytes: 256 * 1024 }),
    ]
}

const ROUTES: [Route; 3] = [Route::CreateTask, Route::GetTask, Route::DeleteTask];

/// Queues every fault on every task route, each with its share of the fault rate.
pub fn inject(
    sim: &Simulator,
    config: &Config,
) -> Vec<(&'static str, lowcodeapi_runwayml_sim::FaultHandle)> {
    let kinds = faults(config.retry_after);
    let p = config.fault_rate / kinds.len() as f64;
    let mut handles = Vec::new();
    for route in ROUTES {
        for (name, fault) in &kinds {
            handles.push((
                *name,
                sim.fault(route, fault.clone()).always().probability(p),
            ));
        }
    }
    handles
}

pub fn start_simulator(dialect: Dialect, config: &Config) -> lowcodeapi_runwayml_sim::Builder {
    Simulator::builder()
        .dialect(dialect)
        .token(TOKEN)
        .seed(config.seed ^ (dialect as u64 + 1))
        .task_timeline(config.timeline)
        .outcome_for_prompt(
            FAIL_MARKER,
            Outcome::fail("INTERNAL.SOAK", "Failed on purpose."),
        )
        .outcome_for_prompt(FOREVER_MARKER, Outcome::RunForever)
}

/// One task as the simulator holds it, for reconciliation.
#[derive(Debug, Clone)]
pub struct SimTask {
    pub id: String,
    pub prompt: String,
    pub status: String,
    pub removed: bool,
}

/// What a simulator saw, at the end.
#[derive(Debug, Clone, Default)]
pub struct SimSummary {
    pub tasks: Vec<SimTask>,
    pub requests: u64,
    pub faults: HashMap<String, u64>,
}

pub fn summarize(
    sim: &Simulator,
    handles: &[(&'static str, lowcodeapi_runwayml_sim::FaultHandle)],
    earlier_requests: u64,
) -> SimSummary {
    let mut faults = HashMap::new();
    for (name, handle) in handles {
        *faults.entry((*name).to_owned()).or_insert(0) += handle.fired();
    }
    SimSummary {
        tasks: sim
            .tasks()
            .into_iter()
            .map(|t| SimTask {
                id: t.id,
                prompt: t.prompt_text.unwrap_or_default(),
                status: t.status,
                removed: t.removed.is_some(),
            })
            .collect(),
        requests: earlier_requests + sim.count(Route::Any) as u64,
        faults,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Get,
    Cancel,
    Wait,
}

/// How a create ended, as the SDK told its caller. `Copy`, and ids are numbers: recording
/// allocates nothing, so the heap measures the SDK alone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Created {
    /// Not returned yet.
    Pending,
    /// The task's UUID.
    Id(u128),
    /// The error said the task may have been created (or a 2xx came back garbled).
    Ambiguous,
    /// A plain failure, with its HTTP status (0 for none): no task should exist.
    Failed(u16),
}

/// A UUID as a number, and back.
pub fn uuid_number(id: &str) -> Option<u128> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    (hex.len() == 32)
        .then(|| u128::from_str_radix(&hex, 16).ok())
        .flatten()
}

pub fn uuid_text(n: u128) -> String {
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ended {
    Succeeded,
    Failed,
    Cancelled,
    Gone,
    TimedOut,
    Error,
}

/// One create, recorded compactly (preallocated, so the record keeping does not grow the heap).
#[derive(Debug, Clone, Copy)]
pub struct Record {
    pub created: Created,
    pub ended: Option<Ended>,
}

/// A fixed-size latency histogram (1 ms buckets up to 60 s): no allocation while recording.
pub struct Histogram {
    buckets: Vec<AtomicU64>,
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram {
            buckets: (0..60_001).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub fn record(&self, value: Duration) {
        let ms = (value.as_millis() as usize).min(self.buckets.len() - 1);
        self.buckets[ms].fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The value at quantile `q` (0..=1), in ms.
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (ms, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return ms as u64;
            }
        }
        (self.buckets.len() - 1) as u64
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

/// Everything the callers saw.
pub struct Ledger {
    pub records: Mutex<Vec<Record>>,
    /// Created tasks (client index, UUID), for gets and cancels to pick from (preallocated too).
    pub known: Mutex<Vec<(u8, u128)>>,
    pub operations: AtomicU64,
    pub op_counts: Mutex<HashMap<Op, u64>>,
    pub violations: Mutex<Vec<String>>,
    pub overhead: Histogram,
    pub max_elapsed: Mutex<HashMap<Op, Duration>>,
    pub errors_without_id: AtomicU64,
    pub decode_with_id: AtomicU64,
    pub stop: AtomicBool,
}

impl Ledger {
    fn new(capacity: usize) -> Ledger {
        Ledger {
            records: Mutex::new(Vec::with_capacity(capacity)),
            known: Mutex::new(Vec::with_capacity(capacity)),
            operations: AtomicU64::new(0),
            op_counts: Mutex::new(HashMap::new()),
            violations: Mutex::new(Vec::new()),
            overhead: Histogram::new(),
            max_elapsed: Mutex::new(HashMap::new()),
            errors_without_id: AtomicU64::new(0),
            decode_with_id: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    fn violation(&self, what: String) {
        let mut v = self.violations.lock().unwrap();
        if v.len() < 100 {
            v.push(what);
        }
    }

    fn timed(&self, config: &Config, op: Op, elapsed: Duration) {
        *self.op_counts.lock().unwrap().entry(op).or_insert(0) += 1;
        let mut max = self.max_elapsed.lock().unwrap();
        let slot = max.entry(op).or_insert(Duration::ZERO);
        *slot = (*slot).max(elapsed);
        if elapsed > config.bound(op) {
            drop(max);
            self.violation(format!(
                "{op:?} took {elapsed:?}, more than its bound {:?}",
                config.bound(op)
            ));
        }
    }
}

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// `2026-11-28T12:00:00.123Z` → instant.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<u64>());
    let (h, min, s) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let millis: u64 = format!("{frac:0<3}")[..3].parse().ok()?;
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let secs = days * 86_400 + h * 3600 + min * 60 + s;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
}

fn request(prompt: &str) -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/soak.jpg").expect("a valid URL"),
    )
    .ratio(Ratio::W1280H720)
    .duration(5)
    .prompt_text(prompt)
}

pub fn client(base_url: &str, config: &Config) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(base_url)
        .request_timeout(config.request_timeout)
        .cancel_timeout(config.cancel_timeout)
        .retry_policy(config.retry.clone())
        .url_format(UrlFormat::Auto)
        .build()
        .expect("a valid client")
}

fn ended(result: &Result<Task, Error>) -> Ended {
    match result {
        Ok(task) if task.status == TaskStatus::Succeeded => Ended::Succeeded,
        Ok(_) => Ended::Error,
        Err(Error::TaskFailed(_)) => Ended::Failed,
        Err(Error::TaskCancelled(_)) => Ended::Cancelled,
        Err(Error::TaskGone { .. }) => Ended::Gone,
        Err(Error::WaitTimeout { .. }) => Ended::TimedOut,
        Err(_) => Ended::Error,
    }
}

async fn create_and_wait(
    ledger: &Ledger,
    config: &Config,
    client: &Client,
    client_index: u8,
    rng: &mut Rng,
) {
    let seq = {
        let mut records = ledger.records.lock().unwrap();
        records.push(Record {
            created: Created::Pending,
            ended: None,
        });
        records.len() - 1
    };
    let marker = match rng.below(100) {
        0..=4 => FAIL_MARKER,
        5 => FOREVER_MARKER,
        _ => "",
    };
    let prompt = format!("soak {seq}{marker}");
    let started = Instant::now();
    let result = client.image_to_video(request(&prompt)).await;
    ledger.timed(config, Op::Create, started.elapsed());
    let created = match &result {
        Ok(task) => match uuid_number(task.id.as_str()) {
            Some(n) => Created::Id(n),
            None => {
                ledger.violation(format!("a task id that is not a UUID: {}", task.id));
                Created::Ambiguous
            }
        },
        Err(Error::Decode(_)) => Created::Ambiguous,
        Err(error) if error.to_string().contains("may have been created") => Created::Ambiguous,
        Err(error) => Created::Failed(error.status().unwrap_or(0)),
    };
    ledger.records.lock().unwrap()[seq].created = created;
    if let Err(Error::Decode(decode)) = &result {
        // A garbled 2xx: the task exists, and its id is in the excerpt for the caller to see.
        if decode.body_excerpt.contains("\"id\"") {
            ledger.decode_with_id.fetch_add(1, Ordering::Relaxed);
        }
    }
    let Ok(task) = result else {
        return;
    };
    if let Created::Id(n) = created {
        ledger.known.lock().unwrap().push((client_index, n));
    }
    let cancel_on_timeout = rng.below(2) == 0;
    let started = Instant::now();
    let waited = client
        .wait(&task)
        .poll_interval(config.poll_interval)
        .timeout(config.wait_timeout)
        .cancel_on_timeout(cancel_on_timeout)
        .await;
    let returned = SystemTime::now();
    ledger.timed(config, Op::Wait, started.elapsed());
    let end = ended(&waited);
    match &waited {
        Ok(done) => {
            if let Some(created) = done.created_at.as_deref().and_then(parse_rfc3339) {
                let finished = created + config.timeline.total();
                ledger
                    .overhead
                    .record(returned.duration_since(finished).unwrap_or(Duration::ZERO));
            }
        }
        Err(error) => {
            if error.task_id() != Some(&task.id) {
                ledger.errors_without_id.fetch_add(1, Ordering::Relaxed);
                ledger.violation(format!("a wait error without the task id: {error}"));
            }
        }
    }
    if end == Ended::Error && waited.is_ok() {
        ledger.violation(format!(
            "a wait returned a task that has not ended: {waited:?}"
        ));
    }
    ledger.records.lock().unwrap()[seq].ended = Some(end);
}

fn pick(ledger: &Ledger, clients: &[(Dialect, Client)], rng: &mut Rng) -> Option<(Client, TaskId)> {
    let known = ledger.known.lock().unwrap();
    if known.is_empty() {
        return None;
    }
    // Mostly recent tasks (still running), sometimes old ones (finished or gone).
    let n = known.len() as u64;
    let at = if rng.below(4) == 0 {
        rng.below(n)
    } else {
        n - 1 - rng.below(n.min(64))
    };
    let (client, n) = *known.get(at as usize)?;
    drop(known);
    let id = TaskId::parse(uuid_text(n)).ok()?;
    Some((clients[usize::from(client)].1.clone(), id))
}

async fn worker(
    ledger: Arc<Ledger>,
    config: Arc<Config>,
    clients: Arc<Vec<(Dialect, Client)>>,
    n: usize,
    deadline: Instant,
) {
    let mut rng = Rng(config.seed.wrapping_mul(n as u64 + 1));
    let index = n % clients.len();
    let client = clients[index].1.clone();
    while Instant::now() < deadline && !ledger.stop.load(Ordering::Relaxed) {
        if ledger.operations.fetch_add(1, Ordering::Relaxed) >= config.max_operations {
            break;
        }
        match rng.below(10) {
            0..=5 => create_and_wait(&ledger, &config, &client, index as u8, &mut rng).await,
            6..=8 => {
                if let Some((client, id)) = pick(&ledger, &clients, &mut rng) {
                    let started = Instant::now();
                    let got = client.get_task(&id).await;
                    ledger.timed(&config, Op::Get, started.elapsed());
                    if let Err(error) = &got
                        && error.task_id() != Some(&id)
                    {
                        ledger.violation(format!("a get error without the task id: {error}"));
                    }
                }
            }
            _ => {
                if let Some((client, id)) = pick(&ledger, &clients, &mut rng) {
                    let started = Instant::now();
                    let cancelled = client.cancel_task(&id).await;
                    ledger.timed(&config, Op::Cancel, started.elapsed());
                    if let Err(error) = &cancelled
                        && error.task_id() != Some(&id)
                    {
                        ledger.violation(format!("a cancel error without the task id: {error}"));
                    }
                }
            }
        }
    }
}

/// The figures of one run.
#[derive(Debug, Default)]
pub struct Report {
    pub elapsed: Duration,
    pub operations: u64,
    pub creates: u64,
    pub gets: u64,
    pub cancels: u64,
    pub waits: u64,
    pub requests: u64,
    pub faults_injected: u64,
    pub faults: Vec<(String, u64)>,
    pub sim_tasks: u64,
    pub created_with_id: u64,
    pub ambiguous: u64,
    pub ambiguous_with_task: u64,
    pub plain_failures: u64,
    pub reconciled: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub ends: Vec<(String, u64)>,
    pub decode_with_id: u64,
    pub overhead_p50_ms: u64,
    pub overhead_p99_ms: u64,
    pub overhead_max_ms: u64,
    pub overhead_samples: u64,
    pub max_elapsed: Vec<(String, Duration)>,
    pub panics: u64,
    pub violations: Vec<String>,
}

impl Report {
    pub fn print(&self) {
        println!("| figure | value |");
        println!("|---|---|");
        let rows: Vec<(&str, String)> = vec![
            ("elapsed", format!("{:.1} s", self.elapsed.as_secs_f64())),
            (
                "operations (create+wait / get / cancel)",
                format!(
                    "{} ({} / {} / {})",
                    self.operations, self.creates, self.gets, self.cancels
                ),
            ),
            (
                "HTTP requests the simulators saw",
                self.requests.to_string(),
            ),
            ("faults injected", self.faults_injected.to_string()),
            ("tasks in the simulators", self.sim_tasks.to_string()),
            (
                "creates that returned an id",
                self.created_with_id.to_string(),
            ),
            (
                "creates reported as 'may have been created' (with a task / without)",
                format!(
                    "{} ({} / {})",
                    self.ambiguous,
                    self.ambiguous_with_task,
                    self.ambiguous - self.ambiguous_with_task
                ),
            ),
            (
                "creates that plainly failed (no task)",
                self.plain_failures.to_string(),
            ),
            (
                "tasks reconciled",
                format!("{} of {}", self.reconciled, self.sim_tasks),
            ),
            ("duplicate creates", self.duplicates.to_string()),
            (
                "lost tasks (a task the caller was told did not exist)",
                self.lost.to_string(),
            ),
            (
                "wait ends",
                self.ends
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "wait overhead p50 / p99 / max (samples)",
                format!(
                    "{} / {} / {} ms ({})",
                    self.overhead_p50_ms,
                    self.overhead_p99_ms,
                    self.overhead_max_ms,
                    self.overhead_samples
                ),
            ),
            (
                "longest call per operation",
                self.max_elapsed
                    .iter()
                    .map(|(k, v)| format!("{k} {} ms", v.as_millis()))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("panics", self.panics.to_string()),
            ("violations", self.violations.len().to_string()),
        ];
        for (k, v) in rows {
            println!("| {k} | {v} |");
        }
        println!(
            "\nfaults by kind: {}",
            self.faults
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for v in &self.violations {
            println!("VIOLATION: {v}");
        }
    }

    pub fn ok(&self) -> bool {
        self.violations.is_empty() && self.panics == 0 && self.duplicates == 0 && self.lost == 0
    }
}

/// Runs the callers against clients of the given base URLs until the deadline, and returns the
/// ledger; `summaries` is called after the callers stop, for the simulators' view.
pub async fn drive(
    config: Arc<Config>,
    base_urls: &[(Dialect, String)],
) -> (Arc<Ledger>, u64, Duration) {
    // Room for every create the run can make (a caller makes at most a few per second), so the
    // ledger never reallocates while the heap is watched.
    let most = config.workers as u64 * config.duration.as_secs().max(1) * 25;
    let capacity = config.max_operations.min(most).max(1024) as usize;
    let ledger = Arc::new(Ledger::new(capacity));
    let clients: Vec<(Dialect, Client)> = base_urls
        .iter()
        .map(|(dialect, url)| (*dialect, client(url, &config)))
        .collect();
    // Settle each client's URL format before the faults matter.
    for (_, client) in &clients {
        let _ = client
            .get_task(&TaskId::parse("00000000-0000-4000-8000-000000000000").unwrap())
            .await;
    }
    let clients = Arc::new(clients);
    let started = Instant::now();
    let deadline = started + config.duration;
    let mut handles = Vec::new();
    for n in 0..config.workers {
        handles.push(tokio::spawn(worker(
            ledger.clone(),
            config.clone(),
            clients.clone(),
            n,
            deadline,
        )));
    }
    let mut panics = 0;
    for handle in handles {
        if let Err(error) = handle.await
            && error.is_panic()
        {
            panics += 1;
        }
    }
    (ledger, panics, started.elapsed())
}

/// Reconciles what the callers saw with what the simulators hold.
pub fn reconcile(
    config: &Config,
    ledger: &Ledger,
    panics: u64,
    elapsed: Duration,
    summaries: &[SimSummary],
) -> Report {
    let records = ledger.records.lock().unwrap();
    let mut report = Report {
        elapsed,
        panics,
        operations: ledger
            .operations
            .load(Ordering::Relaxed)
            .min(config.max_operations),
        ..Report::default()
    };
    let counts = ledger.op_counts.lock().unwrap();
    report.creates = counts.get(&Op::Create).copied().unwrap_or(0);
    report.gets = counts.get(&Op::Get).copied().unwrap_or(0);
    report.cancels = counts.get(&Op::Cancel).copied().unwrap_or(0);
    report.waits = counts.get(&Op::Wait).copied().unwrap_or(0);
    report.operations = report.creates + report.gets + report.cancels;
    let mut violations = ledger.violations.lock().unwrap().clone();

    let mut by_prompt: HashMap<u64, Vec<&SimTask>> = HashMap::new();
    let mut faults: HashMap<String, u64> = HashMap::new();
    for summary in summaries {
        report.requests += summary.requests;
        for (k, v) in &summary.faults {
            *faults.entry(k.clone()).or_insert(0) += v;
        }
        for task in &summary.tasks {
            report.sim_tasks += 1;
            let seq = task
                .prompt
                .strip_prefix("soak ")
                .and_then(|rest| rest.split('[').next())
                .and_then(|n| n.parse::<u64>().ok());
            match seq {
                Some(seq) => by_prompt.entry(seq).or_default().push(task),
                None => violations.push(format!("a task no caller made: {task:?}")),
            }
        }
    }
    report.faults_injected = faults.values().sum();
    let mut faults: Vec<(String, u64)> = faults.into_iter().collect();
    faults.sort();
    report.faults = faults;

    let mut ends: HashMap<Ended, u64> = HashMap::new();
    for (seq, record) in records.iter().enumerate() {
        let tasks = by_prompt.remove(&(seq as u64)).unwrap_or_default();
        if tasks.len() > 1 {
            report.duplicates += tasks.len() as u64 - 1;
            violations.push(format!("create {seq} made {} tasks", tasks.len()));
        }
        match record.created {
            Created::Pending => {
                violations.push(format!("create {seq} never returned"));
            }
            Created::Id(n) => {
                report.created_with_id += 1;
                if tasks.iter().any(|t| uuid_number(&t.id) == Some(n)) {
                    report.reconciled += tasks.len() as u64;
                } else {
                    violations.push(format!(
                        "create {seq} returned {}, which the simulator does not hold",
                        uuid_text(n)
                    ));
                }
                match record.ended {
                    Some(end) => *ends.entry(end).or_insert(0) += 1,
                    None => violations.push(format!("the wait of create {seq} never ended")),
                }
            }
            Created::Ambiguous => {
                report.ambiguous += 1;
                if !tasks.is_empty() {
                    report.ambiguous_with_task += 1;
                    report.reconciled += tasks.len() as u64;
                }
            }
            Created::Failed(status) => {
                report.plain_failures += 1;
                if !tasks.is_empty() {
                    report.lost += tasks.len() as u64;
                    violations.push(format!(
                        "create {seq} failed plainly (HTTP {status}) but made a task"
                    ));
                }
            }
        }
    }
    for (seq, tasks) in by_prompt {
        violations.push(format!(
            "{} task(s) for create {seq}, which no caller recorded",
            tasks.len()
        ));
    }
    let mut ends: Vec<(String, u64)> = ends
        .into_iter()
        .map(|(k, v)| (format!("{k:?}"), v))
        .collect();
    ends.sort();
    report.ends = ends;
    report.decode_with_id = ledger.decode_with_id.load(Ordering::Relaxed);
    report.overhead_samples = ledger.overhead.count();
    report.overhead_p50_ms = ledger.overhead.quantile(0.50);
    report.overhead_p99_ms = ledger.overhead.quantile(0.99);
    report.overhead_max_ms = ledger.overhead.quantile(1.0);
    let mut max: Vec<(String, Duration)> = ledger
        .max_elapsed
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| (format!("{k:?}"), *v))
        .collect();
    max.sort();
    report.max_elapsed = max;
    report.violations = violations;
    report
}

/// A whole run against simulators in this process.
pub async fn run_in_process(config: Config) -> Report {
    let config = Arc::new(config);
    let mut sims = Vec::new();
    for dialect in &config.dialects {
        let sim = start_simulator(*dialect, &config)
            .start()
            .await
            .expect("the simulator starts");
        let handles = inject(&sim, &config);
        sims.push((*dialect, sim, handles));
    }
    let urls: Vec<(Dialect, String)> = sims
        .iter()
        .map(|(d, sim, _)| (*d, sim.base_url().to_owned()))
        .collect();
    let (ledger, panics, elapsed) = drive(config.clone(), &urls).await;
    let summaries: Vec<SimSummary> = sims
        .iter()
        .map(|(_, sim, handles)| summarize(sim, handles, 0))
        .collect();
    for (_, sim, _) in sims {
        sim.shutdown().await;
    }
    reconcile(&config, &ledger, panics, elapsed, &summaries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_instants_parse() {
        let t = parse_rfc3339("2026-11-28T12:34:56.789Z").unwrap();
        let secs = t.duration_since(UNIX_EPOCH).unwrap();
        // 2026-11-28T12:34:56Z is 1_795_869_296 s after the epoch.
        assert_eq!(secs.as_secs(), 1_795_869_296);
        assert_eq!(secs.subsec_millis(), 789);
        assert!(parse_rfc3339("not a date").is_none());
    }

    #[test]
    fn uuids_round_trip_as_numbers() {
        let id = "17f20503-6c24-4c16-946b-35dbbce2af2f";
        assert_eq!(uuid_text(uuid_number(id).unwrap()), id);
        assert_eq!(uuid_number("t-1"), None);
    }

    #[test]
    fn histogram_quantiles() {
        let h = Histogram::new();
        for ms in 1..=100 {
            h.record(Duration::from_millis(ms));
        }
        assert_eq!(h.quantile(0.5), 50);
        assert_eq!(h.quantile(0.99), 99);
        assert_eq!(h.quantile(1.0), 100);
    }

    /// The CI soak: a few seconds, a few hundred operations, both dialects, 4% faults.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn soak_short() {
        let config = Config::short();
        let report = run_in_process(config).await;
        report.print();
        assert!(report.ok(), "the soak broke a promise");
        assert!(
            report.operations >= 100,
            "only {} operations",
            report.operations
        );
        assert!(report.faults_injected > 0, "no fault was injected");
        assert_eq!(report.duplicates, 0);
        assert_eq!(report.lost, 0);
        assert_eq!(
            report.reconciled, report.sim_tasks,
            "every task is accounted for"
        );
        assert!(report.overhead_samples > 0);
    }
}
