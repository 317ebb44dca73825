//! The fault matrix: every operation × every fault the simulator can inject × both dialects.
//!
//! For each cell the test asserts the typed outcome (which `Ok`, or which [`Error`] variant with
//! its predicates), how many requests the simulator saw on the operation's route, that the call
//! returned within its time bound (and, where a timeout or `Retry-After` must be waited out, not
//! before it), and, for creates, that the simulator holds exactly one task per create that
//! reached Runway and that no create was sent again after it may have been processed.
//!
//! Each test (one per operation × dialect) prints its table of cells (`cargo test --test
//! fault_matrix -- --nocapture`); with `FAULT_MATRIX_REPORT=<dir>` set it also writes the rows as
//! Markdown to `<dir>/<op>-<dialect>.md` (RELIABILITY.md is built from them).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use lowcodeapi_runwayml::{
    CancelOutcome, Client, CreatedTask, Error, ImageToVideo, Model, PromptImage, Ratio,
    RetryPolicy, Task, TaskId, TaskStatus, TransportKind, UrlFormat,
};
use lowcodeapi_runwayml_sim::{Dialect, Fault, Removal, Route, Simulator};

/// A token only this file uses, registered with every simulator: it must never be shown.
const TOKEN: &str = "at_matrix_S3CRET_f00dfeed";
const REQUEST_TIMEOUT: Duration = Duration::from_millis(300);
const CANCEL_TIMEOUT: Duration = Duration::from_millis(300);
const POLL: Duration = Duration::from_millis(20);
const WAIT_TIMEOUT: Duration = Duration::from_secs(5);
const SHORT_WAIT: Duration = Duration::from_millis(500);
const RETRY_AFTER_SHORT: Duration = Duration::from_secs(1);
const RETRY_AFTER_LONG: Duration = Duration::from_secs(120);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);
const SLOW_REQUEST_TIMEOUT: Duration = Duration::from_millis(1500);
const HUGE: usize = 4 * 1024 * 1024;
/// Twice the client's default response limit (8 MiB).
const OVERSIZE: u64 = 16 * 1024 * 1024;
/// Scheduling slack on a loaded 2-core machine, debug build, tests in parallel.
const SLACK: Duration = Duration::from_millis(1500);
/// An id no simulator ever hands out.
const UNKNOWN_TASK: &str = "00000000-0000-4000-8000-000000000000";

fn retry_policy() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(2)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
        .max_retry_after(MAX_RETRY_AFTER)
}

fn client_for(sim: &Simulator, request_timeout: Duration) -> Client {
    Client::builder()
        .api_token(TOKEN)
        .base_url(sim.base_url())
        .request_timeout(request_timeout)
        .cancel_timeout(CANCEL_TIMEOUT)
        .connect_timeout(Duration::from_secs(2))
        .retry_policy(retry_policy())
        .url_format(UrlFormat::Auto)
        .build()
        .expect("a valid client")
}

fn request(prompt: &str) -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").expect("a valid URL"),
    )
    .ratio(Ratio::W1280H720)
    .duration(5)
    .prompt_text(prompt)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Get,
    Cancel,
    Wait,
}

impl Op {
    fn route(self) -> Route {
        match self {
            Op::Create => Route::CreateTask,
            Op::Get | Op::Wait => Route::GetTask,
            Op::Cancel => Route::DeleteTask,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Get => "get_task",
            Op::Cancel => "cancel_task",
            Op::Wait => "wait",
        }
    }
}

/// The faults, by what the SDK should make of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    None,
    RateLimited,
    RateLimitedBeyondCap,
    S500,
    S502,
    S503,
    S504,
    S503Thrice,
    Html502,
    Text500,
    Unreachable,
    Slow,
    Hang,
    DropBefore,
    DropAfter,
    NoContentHang,
    Malformed,
    Truncated,
    Huge,
    GzipBomb,
    OversizeDeclared,
    OversizeChunked,
    Redirect307,
    Redirect302,
}

const FAULTS: [K; 24] = [
    K::None,
    K::RateLimited,
    K::RateLimitedBeyondCap,
    K::S500,
    K::S502,
    K::S503,
    K::S504,
    K::S503Thrice,
    K::Html502,
    K::Text500,
    K::Unreachable,
    K::Slow,
    K::Hang,
    K::DropBefore,
    K::DropAfter,
    K::NoContentHang,
    K::Malformed,
    K::Truncated,
    K::Huge,
    K::GzipBomb,
    K::OversizeDeclared,
    K::OversizeChunked,
    K::Redirect307,
    K::Redirect302,
];

impl K {
    fn fault(self) -> Option<(Fault, u64)> {
        Some(match self {
            K::None => return None,
            K::RateLimited => (
                Fault::RateLimited {
                    retry_after: RETRY_AFTER_SHORT,
                },
                1,
            ),
            K::RateLimitedBeyondCap => (
                Fault::RateLimited {
                    retry_after: RETRY_AFTER_LONG,
                },
                1,
            ),
            K::S500 => (Fault::Status(500), 1),
            K::S502 => (Fault::Status(502), 1),
            K::S503 => (Fault::Status(503), 1),
            K::S504 => (Fault::Status(504), 1),
            K::S503Thrice => (Fault::Status(503), 3),
            K::Html502 => (Fault::Html(502), 1),
            K::Text500 => (
                Fault::UpstreamText {
                    status: 500,
                    body: "Internal boom".into(),
                },
                1,
            ),
            K::Unreachable => (Fault::UpstreamUnreachable, 1),
            K::Slow => (Fault::Delay(Duration::from_secs(1)), 1),
            K::Hang => (Fault::Hang, 1),
            K::DropBefore => (Fault::DropConnection, 1),
            K::DropAfter => (Fault::DropAfterProcessing, 1),
            K::NoContentHang => (Fault::NoContentHang, 1),
            K::Malformed => (Fault::MalformedJson, 1),
            K::Truncated => (Fault::TruncatedBody, 1),
            K::Huge => (Fault::HugeBody { bytes: HUGE }, 1),
            K::GzipBomb => (Fault::gzip_bomb(), 1),
            K::OversizeDeclared => (Fault::oversize_body(OVERSIZE), 1),
            K::OversizeChunked => (
                Fault::OversizeBody {
                    status: 200,
                    bytes: OVERSIZE,
                    content_length: false,
                },
                1,
            ),
            K::Redirect307 => (Fault::cross_origin_redirect(), 1),
            K::Redirect302 => (Fault::CrossOriginRedirect { status: 302 }, 1),
        })
    }

    fn name(self) -> &'static str {
        match self {
            K::None => "no fault",
            K::RateLimited => "429, Retry-After 1 s",
            K::RateLimitedBeyondCap => "429, Retry-After 120 s (beyond the 2 s cap)",
            K::S500 => "500",
            K::S502 => "502",
            K::S503 => "503",
            K::S504 => "504",
            K::S503Thrice => "503 three times (retries exhausted)",
            K::Html502 => "502 HTML page from a load balancer",
            K::Text500 => "500 with a text/plain upstream body",
            K::Unreachable => "500 upstream unreachable (ECONNREFUSED)",
            K::Slow => "answer 1 s late (past the 300 ms timeout), processed",
            K::Hang => "never answers, not processed",
            K::DropBefore => "connection dropped before processing",
            K::DropAfter => "connection dropped after processing",
            K::NoContentHang => "processed, then never answers (self-hosted 204 DELETE)",
            K::Malformed => "malformed JSON (trailing comma)",
            K::Truncated => "truncated body (half of Content-Length)",
            K::Huge => "4 MiB body",
            K::GzipBomb => "gzip bomb: 1 MiB inflating to 1 GiB",
            K::OversizeDeclared => "16 MiB body, Content-Length announced",
            K::OversizeChunked => "16 MiB body, chunked",
            K::Redirect307 => "307 to another origin (token in the query)",
            K::Redirect302 => "302 to another origin (token in the query)",
        }
    }

    /// The client refuses the answer itself, with this kind: never retried, never followed.
    fn refusal(self) -> Option<TransportKind> {
        match self {
            K::GzipBomb | K::OversizeDeclared | K::OversizeChunked => {
                Some(TransportKind::ResponseTooLarge)
            }
            K::Redirect307 | K::Redirect302 => Some(TransportKind::RedirectRefused),
            _ => None,
        }
    }

    /// A timeout must be waited out once before the answer can come.
    fn times_out(self) -> bool {
        matches!(self, K::Slow | K::Hang | K::NoContentHang)
    }

    /// The status of a rate-limit or error fault.
    fn status(self) -> u16 {
        match self {
            K::RateLimited | K::RateLimitedBeyondCap => 429,
            K::S500 | K::Text500 | K::Unreachable => 500,
            K::S502 | K::Html502 => 502,
            K::S503 | K::S503Thrice => 503,
            K::S504 => 504,
            _ => 0,
        }
    }
}

/// What a call returned, reduced to what the matrix checks.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Created,
    Task(TaskStatus),
    /// [`CancelOutcome::as_str`].
    Cancel(&'static str),
    Api(u16),
    Timeout,
    Transport,
    Decode,
    WaitTimeout {
        cancelled: bool,
    },
    Gone,
    Other(String),
}

impl Outcome {
    fn short(&self) -> String {
        match self {
            Outcome::Created => "Ok(created)".into(),
            Outcome::Task(s) => format!("Ok({s})"),
            Outcome::Cancel(c) => format!("Ok({c})"),
            Outcome::Api(s) => format!("Err(Api {s})"),
            Outcome::Timeout => "Err(Transport timeout)".into(),
            Outcome::Transport => "Err(Transport)".into(),
            Outcome::Decode => "Err(Decode)".into(),
            Outcome::WaitTimeout { cancelled } => {
                format!("Err(WaitTimeout, cancelled={cancelled})")
            }
            Outcome::Gone => "Err(TaskGone)".into(),
            Outcome::Other(s) => format!("other: {s}"),
        }
    }
}

enum Got {
    Created(CreatedTask),
    Task(Task),
    Cancel(CancelOutcome),
    Err(Error),
}

impl Got {
    fn outcome(&self) -> Outcome {
        match self {
            Got::Created(_) => Outcome::Created,
            Got::Task(t) => Outcome::Task(t.status.clone()),
            Got::Cancel(c) => Outcome::Cancel(c.as_str()),
            Got::Err(e) => match e {
                Error::Api(api) => Outcome::Api(api.status),
                Error::Transport(_) if e.is_timeout() => Outcome::Timeout,
                Error::Transport(_) => Outcome::Transport,
                Error::Decode(_) => Outcome::Decode,
                Error::WaitTimeout { cancelled, .. } => Outcome::WaitTimeout {
                    cancelled: *cancelled,
                },
                Error::TaskGone { .. } => Outcome::Gone,
                other => Outcome::Other(other.to_string()),
            },
        }
    }
}

/// What one cell must show.
struct Expect {
    outcome: Outcome,
    /// Requests on the operation's route.
    requests: usize,
    /// `GET`s a cancel makes: the look before its `DELETE`, and a check after a `DELETE` that
    /// got no answer.
    checks: usize,
    /// Tasks the simulator holds afterwards from this cell's create (create cells).
    tasks: usize,
    /// Whether the task ends removed by the cancel (cancel cells).
    removed: bool,
    min: Duration,
    max: Duration,
}

impl Expect {
    fn new(outcome: Outcome, requests: usize) -> Self {
        Expect {
            outcome,
            requests,
            checks: 0,
            tasks: 0,
            removed: false,
            min: Duration::ZERO,
            max: SLACK,
        }
    }
}

/// The documented behaviour, cell by cell (see `src/retry.rs` and `Client::cancel_task`).
fn expect(op: Op, k: K) -> Expect {
    let ok = match op {
        Op::Create => Outcome::Created,
        Op::Get => Outcome::Task(TaskStatus::Pending),
        Op::Wait => Outcome::Task(TaskStatus::Succeeded),
        Op::Cancel => Outcome::Cancel("cancelled"),
    };
    let mut e = match (op, k) {
        (_, K::None | K::Huge) => Expect::new(ok, 1),
        (_, K::RateLimited) => Expect::new(ok, 2),
        // The server asked for more than the cap: the error comes back at once (a wait rides
        // it out like any transient error and polls again).
        (Op::Wait, K::RateLimitedBeyondCap) => Expect::new(ok, 2),
        (_, K::RateLimitedBeyondCap) => Expect::new(Outcome::Api(429), 1),
        // 500 is not retried by any call; a wait polls again after it (polling is safe).
        (Op::Wait, K::S500 | K::Text500 | K::Unreachable) => Expect::new(ok, 2),
        (_, K::S500 | K::Text500 | K::Unreachable) => Expect::new(Outcome::Api(500), 1),
        // 502/503/504 are never retried for a create: it may have been processed.
        (Op::Create, K::S502 | K::S503 | K::S504 | K::S503Thrice | K::Html502) => {
            Expect::new(Outcome::Api(k.status()), 1)
        }
        (_, K::S502 | K::S503 | K::S504 | K::Html502) => Expect::new(ok, 2),
        // Two retries, then the error; a wait polls again after it.
        (Op::Wait, K::S503Thrice) => Expect::new(ok, 4),
        (_, K::S503Thrice) => Expect::new(Outcome::Api(503), 3),
        // Create: never re-sent after it may have been processed.
        (Op::Create, K::Slow | K::Hang | K::NoContentHang) => Expect::new(Outcome::Timeout, 1),
        (Op::Create, K::DropBefore | K::DropAfter | K::Truncated) => {
            Expect::new(Outcome::Transport, 1)
        }
        (Op::Create, K::Malformed) => Expect::new(Outcome::Decode, 1),
        // Cancel: a DELETE that times out is checked with a GET, not repeated.
        (Op::Cancel, K::Slow | K::NoContentHang) => {
            let mut e = Expect::new(Outcome::Cancel("confirmed_after_timeout"), 1);
            e.checks = 2;
            e
        }
        // Never reached Runway: the check still shows the task running, and the outcome says
        // the cancel was sent but is unconfirmed.
        (Op::Cancel, K::Hang) => {
            let mut e = Expect::new(Outcome::Cancel("unknown"), 1);
            e.checks = 2;
            e
        }
        (Op::Cancel, K::DropBefore) => Expect::new(ok, 2),
        // Processed, answer lost: the retry finds the task gone, which is what was wanted.
        (Op::Cancel, K::DropAfter | K::Truncated) => {
            Expect::new(Outcome::Cancel("confirmed_after_timeout"), 2)
        }
        // A 2xx whose body is garbage is still a cancel.
        (Op::Cancel, K::Malformed) => Expect::new(ok, 1),
        (Op::Get | Op::Wait, K::Slow | K::Hang | K::NoContentHang) => Expect::new(ok, 2),
        (Op::Get | Op::Wait, K::DropBefore | K::DropAfter | K::Truncated) => Expect::new(ok, 2),
        // A garbled answer: a wait polls again.
        (Op::Wait, K::Malformed) => Expect::new(ok, 2),
        (Op::Get, K::Malformed) => Expect::new(Outcome::Decode, 1),
        // A cancel whose answer was refused as too large may have been processed: the task is
        // checked (still running here: nothing reached Runway), and the outcome says why.
        (Op::Cancel, K::GzipBomb | K::OversizeDeclared | K::OversizeChunked) => {
            let mut e = Expect::new(Outcome::Cancel("unknown"), 1);
            e.checks = 2;
            e
        }
        // Refused by the client: one request, not retried, and a wait ends with the error (it
        // would be refused again). A refused redirect was not processed: nothing to check.
        (
            _,
            K::GzipBomb
            | K::OversizeDeclared
            | K::OversizeChunked
            | K::Redirect307
            | K::Redirect302,
        ) => Expect::new(Outcome::Transport, 1),
    };
    let processed_create = matches!(
        k,
        K::None
            | K::RateLimited
            | K::Huge
            | K::Slow
            | K::DropAfter
            | K::NoContentHang
            | K::Malformed
            | K::Truncated
    );
    if op == Op::Create && processed_create {
        e.tasks = 1;
    }
    if op == Op::Cancel {
        // The look before the DELETE.
        e.checks = e.checks.max(1);
        e.removed = matches!(
            e.outcome,
            Outcome::Cancel("cancelled" | "deleted" | "confirmed_after_timeout")
        );
    }
    // Time: one timeout per hanging attempt, Retry-After when honoured, plus slack.
    let timeout = if op == Op::Cancel {
        CANCEL_TIMEOUT
    } else {
        REQUEST_TIMEOUT
    };
    if k.times_out() {
        e.min += timeout;
        e.max += timeout;
    }
    if k == K::GzipBomb {
        // Inflating 8 MiB in a debug build, on a loaded machine.
        e.max += Duration::from_secs(2);
    }
    if k == K::RateLimited {
        e.min += RETRY_AFTER_SHORT;
        e.max += RETRY_AFTER_SHORT;
    }
    if op == Op::Cancel && e.checks > 1 {
        e.max += REQUEST_TIMEOUT;
    }
    e
}

/// One row of the table.
struct Row {
    op: Op,
    dialect: Dialect,
    fault: String,
    expected: String,
    got: String,
    requests: String,
    elapsed: Duration,
    problems: Vec<String>,
}

impl Row {
    fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The simulator and a client whose URL format is already settled.
struct Bench {
    sim: Simulator,
    client: Client,
    /// The same with 5 s timeouts, for the answers the client refuses: inflating a bomb up to
    /// the limit takes a debug build a few hundred milliseconds on a loaded machine, which must
    /// not turn into a timeout.
    roomy: Client,
    dialect: Dialect,
}

async fn bench(dialect: Dialect) -> Bench {
    let sim = Simulator::builder()
        .dialect(dialect)
        .token(TOKEN)
        .manual_clock()
        .seed(7)
        .start()
        .await
        .expect("the simulator starts");
    let client = client_for(&sim, REQUEST_TIMEOUT);
    // Settle the URL format first, so that each cell's request counts are its own (the
    // self-hosted routing miss of the first task call is covered by
    // `self_hosted_create_first_then_get_and_wait`).
    // A 404 settles nothing (it may be a routing artefact), so settle on a real task.
    let unknown = TaskId::parse(UNKNOWN_TASK).unwrap();
    let error = client.get_task(&unknown).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let settling = client
        .image_to_video(request("matrix settles the URL format"))
        .await
        .unwrap();
    client.get_task(&settling.id).await.unwrap();
    sim.clear_requests();
    assert_ne!(
        client.url_format(),
        lowcodeapi_runwayml::UrlFormatState::Unsettled
    );
    let roomy = Client::builder()
        .api_token(TOKEN)
        .base_url(sim.base_url())
        .request_timeout(Duration::from_secs(5))
        .cancel_timeout(Duration::from_secs(5))
        .retry_policy(retry_policy())
        .url_format(match client.url_format() {
            lowcodeapi_runwayml::UrlFormatState::Old => UrlFormat::Old,
            _ => UrlFormat::New,
        })
        .build()
        .expect("a valid client");
    Bench {
        sim,
        client,
        roomy,
        dialect,
    }
}

fn no_token(text: &str) -> bool {
    !text.contains(TOKEN) && !text.contains("S3CRET")
}

/// Runs one cell and checks it.
async fn cell(b: &Bench, op: Op, k: K, n: usize) -> Row {
    let sim = &b.sim;
    let client = if k.refusal().is_some() {
        &b.roomy
    } else {
        &b.client
    };
    let marker = format!("matrix {} {:?} {n}", op.name(), k);
    // A task to work on, made before the fault is queued.
    let id = match op {
        Op::Create => None,
        _ => {
            let created = client
                .image_to_video(request(&marker))
                .await
                .expect("the setup create succeeds");
            if op == Op::Wait {
                sim.advance(Duration::from_secs(3600));
            }
            Some(created.id)
        }
    };
    sim.clear_requests();
    let handle = k.fault().map(|(fault, times)| {
        let handle = sim.fault(op.route(), fault);
        if times > 1 {
            handle.times(times)
        } else {
            handle
        }
    });

    let started = Instant::now();
    let got = match op {
        Op::Create => match client.image_to_video(request(&marker)).await {
            Ok(created) => Got::Created(created),
            Err(e) => Got::Err(e),
        },
        Op::Get => match client.get_task(id.as_ref().unwrap()).await {
            Ok(task) => Got::Task(task),
            Err(e) => Got::Err(e),
        },
        Op::Cancel => match client.cancel_task(id.as_ref().unwrap()).await {
            Ok(outcome) => Got::Cancel(outcome),
            Err(e) => Got::Err(e),
        },
        Op::Wait => match client
            .wait(id.as_ref().unwrap())
            .poll_interval(POLL)
            .timeout(WAIT_TIMEOUT)
            .await
        {
            Ok(task) => Got::Task(task),
            Err(e) => Got::Err(e),
        },
    };
    let elapsed = started.elapsed();
    let fired = handle.as_ref().map(|h| h.fired());
    sim.clear_faults();

    let want = expect(op, k);
    let outcome = got.outcome();
    let mut problems = Vec::new();
    if outcome != want.outcome {
        problems.push(format!("outcome {}", outcome.short()));
    }
    if fired == Some(0) {
        problems.push("the fault never fired".into());
    }
    let requests = sim.count(op.route());
    // Nothing ever reaches the other origin: no redirect there is followed.
    let elsewhere = sim.other_origin().count();
    if elsewhere != 0 {
        problems.push(format!("{elsewhere} requests reached the other origin"));
    }
    let checks = if op == Op::Cancel {
        sim.count(Route::GetTask)
    } else {
        0
    };
    if requests != want.requests {
        problems.push(format!("{requests} requests, expected {}", want.requests));
    }
    if checks != want.checks {
        problems.push(format!("{checks} check GETs, expected {}", want.checks));
    }
    if sim.count(Route::NotFound) != 0 {
        problems.push("a request missed the routes".into());
    }
    if elapsed < want.min {
        problems.push(format!("returned after {elapsed:?}, before {:?}", want.min));
    }
    if elapsed > want.max {
        problems.push(format!("took {elapsed:?}, more than {:?}", want.max));
    }

    // Predicates on the value or error.
    match &got {
        Got::Created(created) => match sim.task(created.id.as_str()) {
            Some(task) if task.prompt_text.as_deref() == Some(marker.as_str()) => {}
            _ => problems.push("the returned id is not the simulator's task".into()),
        },
        Got::Task(task) => {
            if Some(&task.id) != id.as_ref() {
                problems.push("a snapshot of another task".into());
            }
            if task.status == TaskStatus::Succeeded && task.output.is_empty() {
                problems.push("a SUCCEEDED task without output".into());
            }
        }
        Got::Cancel(CancelOutcome::Unknown { reason, .. })
            if k.refusal() == Some(TransportKind::ResponseTooLarge) =>
        {
            if !reason.contains("refused the answer") {
                problems.push(format!(
                    "the reason does not say the answer was refused: {reason}"
                ));
            }
        }
        Got::Cancel(_) => {}
        Got::Err(error) => {
            let shown = format!("{error} {error:?} {error:#?}");
            if !no_token(&shown) {
                problems.push("the token is shown".into());
            }
            if let Some(id) = &id
                && error.task_id() != Some(id)
            {
                problems.push("the error lost the task id".into());
            }
            if let Error::Api(api) = error {
                if k == K::RateLimitedBeyondCap && api.retry_after != Some(RETRY_AFTER_LONG) {
                    problems.push(format!("retry_after {:?}", api.retry_after));
                }
                if k == K::RateLimitedBeyondCap && !error.is_rate_limited() {
                    problems.push("not is_rate_limited()".into());
                }
                if matches!(api.status, 502..=504) {
                    if op == Op::Create {
                        if error.is_retryable() || !error.may_have_created_task() {
                            problems.push(
                                "an ambiguous create is retryable or not may_have_created_task()"
                                    .into(),
                            );
                        }
                    } else if !error.is_retryable() {
                        problems.push("a 5xx gateway error not is_retryable()".into());
                    }
                }
                if k == K::Html502
                    && !api
                        .body_excerpt
                        .as_deref()
                        .is_some_and(|x| x.contains("502 Bad Gateway"))
                {
                    problems.push("the HTML page is not in the excerpt".into());
                }
                if k == K::Text500 && !error.to_string().contains("Internal boom") {
                    problems.push("the upstream text is not in the message".into());
                }
            }
            if let Some(kind) = k.refusal() {
                if !matches!(error, Error::Transport(t) if t.kind == kind) {
                    problems.push(format!("not a {kind:?} refusal"));
                }
                if error.is_retryable() {
                    problems.push("a refusal is_retryable()".into());
                }
                if kind == TransportKind::RedirectRefused {
                    let other = sim.other_origin().base_url().to_owned();
                    if !error.to_string().contains(&other) {
                        problems.push(format!("the error does not name {other}"));
                    }
                    if error.may_have_created_task() {
                        problems.push("a refused redirect may_have_created_task()".into());
                    }
                }
            }
            if error.is_timeout() && k.times_out() && op != Op::Wait {
                if op == Op::Create {
                    if error.is_retryable() || !error.may_have_created_task() {
                        problems.push(
                            "a timed-out create is retryable or not may_have_created_task()".into(),
                        );
                    }
                } else if !error.is_retryable() {
                    problems.push("a timeout not is_retryable()".into());
                }
            }
        }
    }

    // Creates: one task per create that reached Runway, never a second POST after one that may
    // have been processed, and an ambiguous failure says so.
    if op == Op::Create {
        let made: Vec<_> = sim
            .tasks()
            .into_iter()
            .filter(|t| t.prompt_text.as_deref() == Some(marker.as_str()))
            .collect();
        if made.len() != want.tasks {
            problems.push(format!("{} tasks, expected {}", made.len(), want.tasks));
        }
        let posts: Vec<usize> = sim
            .requests()
            .iter()
            .filter(|r| r.route == Route::CreateTask)
            .map(|r| r.index)
            .collect();
        for task in &made {
            if posts.iter().any(|&p| p > task.create_request) {
                problems.push("a create was re-sent after it was processed".into());
            }
        }
        if let Got::Err(error) = &got {
            match error {
                Error::Transport(t)
                    if t.kind != TransportKind::RedirectRefused
                        && !error.to_string().contains("may have been created") =>
                {
                    problems
                        .push("an ambiguous create failure does not say the task may exist".into());
                }
                Error::Decode(decode) => {
                    if let Some(task) = made.first()
                        && !decode.body_excerpt.contains(&task.id)
                    {
                        problems.push("the created id is not in the error".into());
                    }
                }
                _ => {}
            }
        }
    }
    if op == Op::Cancel {
        let removed = sim
            .task(id.as_ref().unwrap().as_str())
            .is_some_and(|t| t.removed == Some(Removal::Cancelled));
        if removed != want.removed {
            problems.push(format!(
                "task removed: {removed}, expected {}",
                want.removed
            ));
        }
    }

    Row {
        op,
        dialect: b.dialect,
        fault: k.name().into(),
        expected: want.outcome.short(),
        got: outcome.short(),
        requests: if op == Op::Cancel {
            format!("{requests} + {checks} GET")
        } else {
            requests.to_string()
        },
        elapsed,
        problems,
    }
}

/// Extra wait cells: timeouts, cancel-on-timeout with a `DELETE` that misbehaves, a task gone
/// meanwhile, polls that hang.
async fn wait_cells(b: &Bench) -> Vec<Row> {
    let sim = &b.sim;
    let client = &b.client;
    let mut rows = Vec::new();
    let cases: [(&str, Option<Fault>, bool); 4] = [
        ("task never finishes: wait timeout 500 ms", None, false),
        ("timeout + cancel_on_timeout, DELETE answered", None, true),
        (
            "timeout + cancel_on_timeout, DELETE processed but never answered",
            Some(Fault::NoContentHang),
            true,
        ),
        (
            "timeout + cancel_on_timeout, DELETE never answered, not processed",
            Some(Fault::Hang),
            true,
        ),
    ];
    for (n, (name, fault, cancel)) in cases.into_iter().enumerate() {
        let created = client
            .image_to_video(request(&format!("matrix wait extra {n}")))
            .await
            .unwrap();
        sim.clear_requests();
        if let Some(fault) = fault.clone() {
            sim.fault(Route::DeleteTask, fault);
        }
        let started = Instant::now();
        let result = client
            .wait(&created)
            .poll_interval(Duration::from_millis(50))
            .timeout(SHORT_WAIT)
            .cancel_on_timeout(cancel)
            .await;
        let elapsed = started.elapsed();
        sim.clear_faults();
        let got = match result {
            Ok(task) => Got::Task(task),
            Err(e) => Got::Err(e),
        };
        let outcome = got.outcome();
        let cancelled_expected = cancel && !matches!(fault, Some(Fault::Hang));
        let want = Outcome::WaitTimeout {
            cancelled: cancelled_expected,
        };
        let mut problems = Vec::new();
        if outcome != want {
            problems.push(format!("outcome {}", outcome.short()));
        }
        let mut max = SHORT_WAIT + SLACK;
        if cancel {
            max += CANCEL_TIMEOUT + REQUEST_TIMEOUT;
        }
        if elapsed < SHORT_WAIT || elapsed > max {
            problems.push(format!(
                "took {elapsed:?}, expected {SHORT_WAIT:?}..{max:?}"
            ));
        }
        if let Got::Err(Error::WaitTimeout { task_id, last, .. }) = &got {
            if task_id != &created.id {
                problems.push("the error lost the task id".into());
            }
            if last.as_ref().map(|t| t.status.clone()) != Some(TaskStatus::Pending) {
                problems.push("no last snapshot".into());
            }
        }
        let removed = sim
            .task(created.id.as_str())
            .is_some_and(|t| t.removed.is_some());
        if removed != cancelled_expected {
            problems.push(format!("task removed: {removed}"));
        }
        let deletes = sim.count(Route::DeleteTask);
        if deletes != usize::from(cancel) {
            problems.push(format!("{deletes} DELETEs"));
        }
        rows.push(Row {
            op: Op::Wait,
            dialect: b.dialect,
            fault: name.into(),
            expected: want.short(),
            got: outcome.short(),
            requests: format!("{} GET + {deletes} DELETE", sim.count(Route::GetTask)),
            elapsed,
            problems,
        });
    }

    // A task cancelled by someone else (another client) while it is waited on: gone, with its
    // id. (Cancelled through this client, it would end as cancelled.)
    let created = client
        .image_to_video(request("matrix wait gone"))
        .await
        .unwrap();
    let elsewhere = Client::builder()
        .api_token(TOKEN)
        .base_url(sim.base_url())
        .build()
        .unwrap();
    elsewhere.cancel_task(&created.id).await.unwrap();
    sim.clear_requests();
    let started = Instant::now();
    let result = client.wait(&created).poll_interval(POLL).await;
    let elapsed = started.elapsed();
    let got = match result {
        Ok(task) => Got::Task(task),
        Err(e) => Got::Err(e),
    };
    let mut problems = Vec::new();
    if got.outcome() != Outcome::Gone {
        problems.push(format!("outcome {}", got.outcome().short()));
    }
    if let Got::Err(e) = &got
        && e.task_id() != Some(&created.id)
    {
        problems.push("the error lost the task id".into());
    }
    if elapsed > SLACK {
        problems.push(format!("took {elapsed:?}"));
    }
    rows.push(Row {
        op: Op::Wait,
        dialect: b.dialect,
        fault: "task cancelled elsewhere while waited on (404)".into(),
        expected: Outcome::Gone.short(),
        got: got.outcome().short(),
        requests: format!("{} GET", sim.count(Route::GetTask)),
        elapsed,
        problems,
    });

    // Every poll hangs, with a request timeout (1.5 s) longer than the wait timeout (500 ms): the
    // wait must still end at its own timeout.
    let slow_client = Client::builder()
        .api_token(TOKEN)
        .base_url(sim.base_url())
        .request_timeout(SLOW_REQUEST_TIMEOUT)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let _ = slow_client
        .get_task(&TaskId::parse(UNKNOWN_TASK).unwrap())
        .await;
    let created = client
        .image_to_video(request("matrix wait hang"))
        .await
        .unwrap();
    sim.clear_requests();
    let hang = sim.fault(Route::GetTask, Fault::Hang).always();
    let started = Instant::now();
    let result = slow_client
        .wait(&created)
        .poll_interval(POLL)
        .timeout(SHORT_WAIT)
        .await;
    let elapsed = started.elapsed();
    hang.remove();
    let got = match result {
        Ok(task) => Got::Task(task),
        Err(e) => Got::Err(e),
    };
    let want = Outcome::WaitTimeout { cancelled: false };
    let mut problems = Vec::new();
    if got.outcome() != want {
        problems.push(format!("outcome {}", got.outcome().short()));
    }
    let max = SHORT_WAIT + Duration::from_millis(500);
    if elapsed > max {
        problems.push(format!("took {elapsed:?}, more than {max:?}"));
    }
    rows.push(Row {
        op: Op::Wait,
        dialect: b.dialect,
        fault: "every poll hangs; request timeout 1.5 s > wait timeout 500 ms".into(),
        expected: want.short(),
        got: got.outcome().short(),
        requests: format!("{} GET", sim.count(Route::GetTask)),
        elapsed,
        problems,
    });
    rows
}

fn report(op: Op, dialect: Dialect, rows: &[Row]) {
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| operation | dialect | fault | expected | got | requests | elapsed | holds |"
    );
    let _ = writeln!(table, "|---|---|---|---|---|---|---|---|");
    for r in rows {
        let holds = if r.holds() {
            "yes".to_owned()
        } else {
            format!("**NO**: {}", r.problems.join("; "))
        };
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} ms | {holds} |",
            r.op.name(),
            r.dialect,
            r.fault,
            r.expected,
            r.got,
            r.requests,
            r.elapsed.as_millis(),
        );
    }
    let holding = rows.iter().filter(|r| r.holds()).count();
    let _ = writeln!(
        table,
        "\n{} × {dialect}: {} cells, {holding} hold",
        op.name(),
        rows.len(),
    );
    println!("{table}");
    if let Ok(dir) = std::env::var("FAULT_MATRIX_REPORT") {
        let _ = std::fs::create_dir_all(&dir);
        let name = format!("{dir}/{}-{dialect}.md", op.name());
        let _ = std::fs::write(name, &table);
    }
}

async fn matrix(op: Op, dialect: Dialect) {
    let b = bench(dialect).await;
    let mut rows = Vec::new();
    for (n, k) in FAULTS.into_iter().enumerate() {
        rows.push(cell(&b, op, k, n).await);
    }
    if op == Op::Wait {
        rows.extend(wait_cells(&b).await);
    }
    report(op, dialect, &rows);
    let unexpected: Vec<String> = rows
        .iter()
        .filter(|r| !r.holds())
        .map(|r| format!("{} / {}: {}", r.op.name(), r.fault, r.problems.join("; ")))
        .collect();
    assert!(
        unexpected.is_empty(),
        "cells that do not hold:\n{}",
        unexpected.join("\n")
    );
    b.sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_hosted() {
    matrix(Op::Create, Dialect::Hosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_self_hosted() {
    matrix(Op::Create, Dialect::SelfHosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_task_hosted() {
    matrix(Op::Get, Dialect::Hosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_task_self_hosted() {
    matrix(Op::Get, Dialect::SelfHosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_task_hosted() {
    matrix(Op::Cancel, Dialect::Hosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_task_self_hosted() {
    matrix(Op::Cancel, Dialect::SelfHosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_hosted() {
    matrix(Op::Wait, Dialect::Hosted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_self_hosted() {
    matrix(Op::Wait, Dialect::SelfHosted).await;
}

// ---------------------------------------------------------------------------------------------
// Regressions for the bugs the matrix found (all fixed): each states the behaviour on its own.
// ---------------------------------------------------------------------------------------------

/// A fresh client (URL format `Auto`) on the self-hosted simulator, used the way every user
/// starts: create first, then look the task up and wait. A create proves nothing about the task
/// routes, so it must not settle the URL format (it once did, and every later call was a
/// routing miss).
#[tokio::test]
async fn self_hosted_create_first_then_get_and_wait() {
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .token(TOKEN)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let client = client_for(&sim, REQUEST_TIMEOUT);
    let created = client.image_to_video(request("first")).await.unwrap();
    let got = client.get_task(&created.id).await;
    assert!(
        matches!(&got, Ok(task) if task.status == TaskStatus::Pending),
        "get_task after the first create: {got:?} (URL format now {:?})",
        client.url_format()
    );
    sim.advance(Duration::from_secs(3600));
    let waited = client.wait(&created).poll_interval(POLL).await;
    assert!(waited.is_ok(), "wait after the first create: {waited:?}");
}

/// A create whose connection broke after the request was sent may have made a task: the error
/// says so, as it does for a timeout (it once warned only on timeouts).
#[tokio::test]
async fn ambiguous_create_failures_say_the_task_may_exist() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let client = client_for(&sim, REQUEST_TIMEOUT);
    for fault in [Fault::DropAfterProcessing, Fault::TruncatedBody] {
        sim.fault(Route::CreateTask, fault.clone());
        let error = client
            .image_to_video(request("ambiguous"))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("may have been created"),
            "{fault:?}: {error}"
        );
    }
    assert_eq!(sim.accepted_creates(), 2, "both creates did make a task");
}

/// `Wait::timeout` bounds the whole wait, a poll in flight included (the deadline was once
/// checked only between polls, so a hanging poll ran to its own request timeout).
#[tokio::test]
async fn wait_timeout_bounds_a_poll_in_flight() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .api_token(TOKEN)
        .base_url(sim.base_url())
        .request_timeout(Duration::from_secs(3))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let created = client.image_to_video(request("hang")).await.unwrap();
    sim.fault(Route::GetTask, Fault::Hang).always();
    let started = Instant::now();
    let error = client
        .wait(&created)
        .poll_interval(POLL)
        .timeout(SHORT_WAIT)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::WaitTimeout { .. }), "{error:?}");
    assert!(
        started.elapsed() < SHORT_WAIT + Duration::from_millis(300),
        "a 500 ms wait took {:?}",
        started.elapsed()
    );
}
