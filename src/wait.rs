//! Waiting for a task the way Runway asks: polling no faster than every five seconds.
//!
//! Runway has no webhook and no list endpoint: completion is known only by polling
//! `GET /v1/tasks/{id}`, and "consumers should not expect updates more frequent than once every
//! five seconds". [`Client::wait`] polls on a [`PollSchedule`] until the task ends;
//! [`Client::watch`] yields every snapshot along the way, for progress bars and dashboards.
//!
//! Both are lazy and cancel-safe: dropping the future or the stream stops polling at once.
//!
//! Both end in one [`Outcome`] (`wait.outcome().await`, `watch.outcome().await`): succeeded,
//! failed, cancelled, gone or timed out, with the task's id and last snapshot, so a caller needs
//! one `match`:
//!
//! ```no_run
//! # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
//! use lowcodeapi_runwayml::Outcome;
//! match client.wait(&id).outcome().await? {
//!     Outcome::Succeeded(task) => println!("video: {}", task.first_output().unwrap_or("none")),
//!     Outcome::Failed(task) => println!("failed: {:?}", task.failure_code),
//!     other => println!("{other}"),
//! }
//! # Ok(()) }
//! ```
//!
//! A wait on a task id (resuming, e.g. after a restart) looks at the task at once, then polls on
//! the schedule; a wait on a [`CreatedTask`] just returned by a create keeps the schedule's
//! initial delay, since the task cannot have finished yet.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use futures::Stream;
use futures::future::BoxFuture;
use rand::Rng;
use tokio::time::Instant;
use tracing::Instrument;

use crate::client::{CancelOutcome, Client};
use crate::error::Error;
use crate::task::{CreatedTask, Task, TaskId, TaskStatus};

/// When to poll. The default: first poll after 5 s, then every 5 s plus up to 1 s of jitter
/// (never faster than 5 s), stretching by ×1.25 per poll toward 20 s once a task has run for
/// 2 minutes.
///
/// ```
/// use std::time::Duration;
/// use lowcodeapi_runwayml::PollSchedule;
/// // A fast schedule for tests against the simulator.
/// let fast = PollSchedule::every(Duration::from_millis(20));
/// assert_eq!(fast.interval, Duration::from_millis(20));
/// assert_eq!(PollSchedule::default().interval, Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PollSchedule {
    /// Before the first poll.
    pub initial_delay: Duration,
    /// Between polls, before stretching.
    pub interval: Duration,
    /// Random extra delay added to each pause, from zero up to this (never subtracted).
    pub jitter: Duration,
    /// How long a task may run before the interval starts to stretch.
    pub stretch_after: Duration,
    /// The factor the interval grows by per poll once stretching.
    pub stretch_factor: f64,
    /// The longest interval stretching reaches.
    pub max_interval: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(5),
            interval: Duration::from_secs(5),
            jitter: Duration::from_secs(1),
            stretch_after: Duration::from_secs(120),
            stretch_factor: 1.25,
            max_interval: Duration::from_secs(20),
        }
    }
}

impl PollSchedule {
    /// A fixed schedule: poll every `interval` (first poll after one interval), no jitter, no
    /// stretching. Handy with the simulator and in tests.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::PollSchedule;
    /// let s = PollSchedule::every(Duration::from_millis(50));
    /// assert_eq!((s.initial_delay, s.jitter), (Duration::from_millis(50), Duration::ZERO));
    /// ```
    pub fn every(interval: Duration) -> Self {
        Self {
            initial_delay: interval,
            interval,
            jitter: Duration::ZERO,
            stretch_after: Duration::MAX,
            stretch_factor: 1.0,
            max_interval: interval,
        }
    }

    /// Sets the delay before the first poll (of a wait on a just-created task; a wait on a task
    /// id looks at once).
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::PollSchedule;
    /// let s = PollSchedule::default().initial_delay(Duration::from_secs(10));
    /// assert_eq!(s.initial_delay, Duration::from_secs(10));
    /// ```
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Every duration multiplied by `factor` (e.g. `0.1` against a simulator running at 10×
    /// real time); the stretch factor is kept.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::PollSchedule;
    /// let fast = PollSchedule::default().scaled(0.1);
    /// assert_eq!(fast.interval, Duration::from_millis(500));
    /// ```
    pub fn scaled(self, factor: f64) -> Self {
        let scale = |d: Duration| {
            if d == Duration::MAX {
                d
            } else {
                d.mul_f64(factor.max(0.0))
            }
        };
        Self {
            initial_delay: scale(self.initial_delay),
            interval: scale(self.interval),
            jitter: scale(self.jitter),
            stretch_after: scale(self.stretch_after),
            stretch_factor: self.stretch_factor,
            max_interval: scale(self.max_interval),
        }
    }

    /// Sets the jitter.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::PollSchedule;
    /// assert_eq!(PollSchedule::default().jitter(Duration::ZERO).jitter, Duration::ZERO);
    /// ```
    pub fn jitter(mut self, jitter: Duration) -> Self {
        self.jitter = jitter;
        self
    }

    fn jittered(&self, base: Duration) -> Duration {
        if self.jitter.is_zero() {
            return base;
        }
        base + self.jitter.mul_f64(rand::rng().random_range(0.0..=1.0))
    }
}

/// A client's defaults for every wait (set on the builder).
#[derive(Debug, Clone)]
pub(crate) struct WaitDefaults {
    pub(crate) schedule: PollSchedule,
    pub(crate) timeout: Option<Duration>,
}

impl Default for WaitDefaults {
    fn default() -> Self {
        Self {
            schedule: PollSchedule::default(),
            timeout: Some(Duration::from_secs(600)),
        }
    }
}

/// The ids a client (and its clones) sent a cancel for, most recent last, at most
/// [`CancelRecord::CAPACITY`]: a wait that finds one of them gone reports it cancelled.
#[derive(Debug, Default)]
pub(crate) struct CancelRecord {
    ids: Mutex<(VecDeque<TaskId>, HashSet<TaskId>)>,
}

impl CancelRecord {
    /// Bounds memory for a long-lived client that cancels many tasks.
    pub(crate) const CAPACITY: usize = 1024;

    pub(crate) fn insert(&self, id: &TaskId) {
        let mut guard = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let (order, set) = &mut *guard;
        if !set.insert(id.clone()) {
            return;
        }
        order.push_back(id.clone());
        if order.len() > Self::CAPACITY
            && let Some(oldest) = order.pop_front()
        {
            set.remove(&oldest);
        }
    }

    pub(crate) fn contains(&self, id: &TaskId) -> bool {
        let guard = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        guard.1.contains(id)
    }
}

/// Settings shared by [`Wait`] and [`Watch`].
#[derive(Debug, Clone)]
struct Settings {
    schedule: PollSchedule,
    timeout: Option<Duration>,
    cancel_on_timeout: bool,
    transient_budget: Duration,
    /// Look at the task at once instead of after the schedule's initial delay.
    poll_immediately: bool,
}

impl Default for Settings {
    /// A wait right after a create, with the default schedule and timeout.
    fn default() -> Self {
        Self::from_defaults(&WaitDefaults::default(), true)
    }
}

impl Settings {
    fn from_defaults(defaults: &WaitDefaults, just_created: bool) -> Self {
        Self {
            schedule: defaults.schedule.clone(),
            timeout: defaults.timeout,
            cancel_on_timeout: false,
            transient_budget: Duration::from_secs(120),
            poll_immediately: !just_created,
        }
    }
}

/// What a wait starts from: a task id (a resumed wait, whose first look is at once) or a task
/// just returned by a create (whose first look keeps the schedule's initial delay).
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, request: lowcodeapi_runwayml::ImageToVideo) -> Result<(), lowcodeapi_runwayml::Error> {
/// let created = client.image_to_video(request).await?;
/// let video = client.wait(&created).await?;        // first poll after 5 s
/// let again = client.get_task(&created.id).await?;  // later, by id:
/// let same = client.wait(&created.id).await?;       // looks at once
/// # Ok(()) }
/// ```
pub trait WaitTarget {
    /// The task to wait for.
    fn task_id(&self) -> &TaskId;
    /// Whether the task was created just now (so polling at once would only see it queued).
    fn just_created(&self) -> bool {
        false
    }
}

impl WaitTarget for TaskId {
    fn task_id(&self) -> &TaskId {
        self
    }
}

impl WaitTarget for CreatedTask {
    fn task_id(&self) -> &TaskId {
        &self.id
    }
    fn just_created(&self) -> bool {
        true
    }
}

impl<T: WaitTarget + ?Sized> WaitTarget for &T {
    fn task_id(&self) -> &TaskId {
        (**self).task_id()
    }
    fn just_created(&self) -> bool {
        (**self).just_created()
    }
}

/// A poll failure worth riding out: polling is safe to repeat, so besides what the client layer
/// retries (429, 502–504, transport), a 500 or a garbled answer is tried again on the next poll,
/// until the transient budget runs out.
fn is_transient(error: &Error) -> bool {
    error.is_retryable() || matches!(error, Error::Decode(_)) || error.status() == Some(500)
}

/// Where snapshots come from: the client, or a stand-in in tests.
pub(crate) trait TaskSource: Send + Sync + 'static {
    fn get(&self, id: &TaskId) -> BoxFuture<'_, Result<Task, Error>>;
    fn cancel(&self, id: &TaskId) -> BoxFuture<'_, Result<CancelOutcome, Error>>;
    /// Whether a cancel for `id` was sent through this source.
    fn cancelled_here(&self, id: &TaskId) -> bool;
}

impl TaskSource for Client {
    fn get(&self, id: &TaskId) -> BoxFuture<'_, Result<Task, Error>> {
        let id = id.clone();
        Box::pin(async move { self.get_task(&id).await })
    }

    fn cancel(&self, id: &TaskId) -> BoxFuture<'_, Result<CancelOutcome, Error>> {
        let id = id.clone();
        Box::pin(async move { self.cancel_task(&id).await })
    }

    fn cancelled_here(&self, id: &TaskId) -> bool {
        Client::cancelled_here(self, id)
    }
}

/// How a wait ended: one value for every way, from [`Wait::outcome`] or [`Watch::outcome`].
///
/// Errors that stop polling without saying how the task ended (a bad token, failures that
/// outlast the transient budget) stay errors: `Result<Outcome, Error>`.
///
/// ```
/// use lowcodeapi_runwayml::{Outcome, Task, TaskId, TaskStatus};
/// let id = TaskId::parse("task_01")?;
/// let mut task = Task::new(id.clone(), TaskStatus::Succeeded);
/// task.output.push("https://example.com/v.mp4".into());
/// let outcome = Outcome::Succeeded(task);
/// assert!(outcome.is_succeeded());
/// assert_eq!(outcome.task_id(), &id);
/// assert_eq!(outcome.to_string(), "task task_01 succeeded");
/// assert!(outcome.into_result().is_ok());
/// # Ok::<(), lowcodeapi_runwayml::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// SUCCEEDED: the output URLs are in the task ([`Task::first_output`]).
    Succeeded(Task),
    /// FAILED: see [`Task::failure`] and [`Task::failure_code`].
    Failed(Task),
    /// CANCELLED: the task reported it, or it was gone after this client (or a clone) cancelled
    /// it (Runway answers 404 for a cancelled task).
    Cancelled {
        /// The task.
        task_id: TaskId,
        /// The last snapshot seen, if any (CANCELLED when Runway reported it).
        last: Option<Task>,
    },
    /// The task no longer exists: deleted, cancelled elsewhere, or never created with this
    /// key (Runway answers 404 for all of them).
    Gone {
        /// The task.
        task_id: TaskId,
        /// The last snapshot seen, if any.
        last: Option<Task>,
    },
    /// The wait's timeout passed; the task may still be running (wait again with its id).
    TimedOut {
        /// The task.
        task_id: TaskId,
        /// How long the wait lasted.
        waited: Duration,
        /// The last snapshot seen, if any poll answered.
        last: Option<Task>,
        /// Whether a cancel was sent (`cancel_on_timeout`).
        cancel_requested: bool,
    },
}

impl Outcome {
    /// The task the wait was for.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Outcome, TaskId};
    /// let id = TaskId::parse("t1")?;
    /// assert_eq!(Outcome::Gone { task_id: id.clone(), last: None }.task_id(), &id);
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn task_id(&self) -> &TaskId {
        match self {
            Self::Succeeded(task) | Self::Failed(task) => &task.id,
            Self::Cancelled { task_id, .. }
            | Self::Gone { task_id, .. }
            | Self::TimedOut { task_id, .. } => task_id,
        }
    }

    /// The final snapshot (succeeded, failed) or the last one seen, if any.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Outcome, Task, TaskId, TaskStatus};
    /// let task = Task::new(TaskId::parse("t1")?, TaskStatus::Failed);
    /// assert_eq!(Outcome::Failed(task.clone()).task(), Some(&task));
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn task(&self) -> Option<&Task> {
        match self {
            Self::Succeeded(task) | Self::Failed(task) => Some(task),
            Self::Cancelled { last, .. }
            | Self::Gone { last, .. }
            | Self::TimedOut { last, .. } => last.as_ref(),
        }
    }

    /// Whether the task succeeded.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Outcome, TaskId};
    /// assert!(!Outcome::Gone { task_id: TaskId::parse("t1")?, last: None }.is_succeeded());
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn is_succeeded(&self) -> bool {
        matches!(self, Self::Succeeded(_))
    }

    /// The succeeded task, or the error [`Wait`]'s `.await` gives for this outcome
    /// ([`Error::TaskFailed`], [`Error::TaskCancelled`], [`Error::TaskGone`],
    /// [`Error::WaitTimeout`]).
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Error, Outcome, TaskId};
    /// let gone = Outcome::Gone { task_id: TaskId::parse("t1")?, last: None };
    /// assert!(matches!(gone.into_result(), Err(Error::TaskGone { .. })));
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn into_result(self) -> Result<Task, Error> {
        match self {
            Self::Succeeded(task) => Ok(task),
            Self::Failed(task) => Err(Error::TaskFailed(Box::new(task))),
            Self::Cancelled { task_id, last } => Err(Error::TaskCancelled(Box::new(match last {
                Some(task) if task.status == TaskStatus::Cancelled => task,
                _ => Task::new(task_id, TaskStatus::Cancelled),
            }))),
            Self::Gone { task_id, .. } => Err(Error::TaskGone { task_id }),
            Self::TimedOut {
                task_id,
                waited,
                last,
                cancel_requested,
            } => Err(Error::WaitTimeout {
                task_id,
                waited,
                last: last.map(Box::new),
                cancelled: cancel_requested,
            }),
        }
    }

    /// A short name for logs and metrics: `succeeded`, `failed`, `cancelled`, `gone` or
    /// `timed_out`.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Outcome, TaskId};
    /// assert_eq!(Outcome::Gone { task_id: TaskId::parse("t1")?, last: None }.name(), "gone");
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Self::Succeeded(_) => "succeeded",
            Self::Failed(_) => "failed",
            Self::Cancelled { .. } => "cancelled",
            Self::Gone { .. } => "gone",
            Self::TimedOut { .. } => "timed_out",
        }
    }

    /// The outcome a terminal snapshot means.
    fn of_terminal(task: Task) -> Option<Self> {
        match task.status {
            TaskStatus::Succeeded => Some(Self::Succeeded(task)),
            TaskStatus::Failed => Some(Self::Failed(task)),
            TaskStatus::Cancelled => Some(Self::Cancelled {
                task_id: task.id.clone(),
                last: Some(task),
            }),
            _ => None,
        }
    }

    /// The outcome an error that ended polling means, if it says how the task ended.
    fn of_error(error: &Error, last: Option<&Task>) -> Option<Self> {
        match error {
            Error::TaskGone { task_id } => Some(Self::Gone {
                task_id: task_id.clone(),
                last: last.cloned(),
            }),
            Error::TaskCancelled(task) => Some(Self::Cancelled {
                task_id: task.id.clone(),
                last: last.cloned(),
            }),
            Error::TaskFailed(task) => Some(Self::Failed((**task).clone())),
            Error::WaitTimeout {
                task_id,
                waited,
                last: seen,
                cancelled,
            } => Some(Self::TimedOut {
                task_id: task_id.clone(),
                waited: *waited,
                last: seen.as_deref().or(last).cloned(),
                cancel_requested: *cancelled,
            }),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Succeeded(task) => write!(f, "task {} succeeded", task.id),
            Self::TimedOut { .. }
            | Self::Failed(_)
            | Self::Cancelled { .. }
            | Self::Gone { .. } => match self.clone().into_result() {
                Err(error) => write!(f, "{error}"),
                Ok(task) => write!(f, "task {} succeeded", task.id),
            },
        }
    }
}

/// One waiting task's polling state.
struct Poller<S> {
    source: S,
    id: TaskId,
    settings: Settings,
    started: Instant,
    polls: u32,
    interval: Duration,
    last: Option<Task>,
    failing_since: Option<Instant>,
    finished: bool,
}

impl<S: TaskSource> Poller<S> {
    fn new(source: S, id: TaskId, settings: Settings) -> Self {
        let interval = settings.schedule.interval;
        Self {
            source,
            id,
            settings,
            started: Instant::now(),
            polls: 0,
            interval,
            last: None,
            failing_since: None,
            finished: false,
        }
    }

    fn next_pause(&mut self) -> Duration {
        let schedule = &self.settings.schedule;
        if self.polls == 0 {
            if self.settings.poll_immediately {
                return Duration::ZERO;
            }
            return schedule.jittered(schedule.initial_delay);
        }
        if self.started.elapsed() >= schedule.stretch_after {
            self.interval = self
                .interval
                .mul_f64(schedule.stretch_factor.max(1.0))
                .min(schedule.max_interval.max(schedule.interval));
        }
        schedule.jittered(self.interval)
    }

    /// Polls until the next snapshot (`Ok`), or until the wait ends with an error. A terminal
    /// snapshot is returned once; after it, or after an error, the poller is finished.
    async fn next(&mut self) -> Option<Result<Task, Error>> {
        if self.finished {
            return None;
        }
        loop {
            let pause = self.next_pause();
            if let Some(timeout) = self.settings.timeout {
                let deadline = self.started + timeout;
                if Instant::now() + pause > deadline {
                    tokio::time::sleep_until(deadline).await;
                    self.finished = true;
                    return Some(Err(self.timed_out().await));
                }
            }
            tokio::time::sleep(pause).await;
            self.polls += 1;
            // A poll in flight (with its own retries) must not run past the wait's deadline.
            let poll = self.source.get(&self.id);
            let polled = match self.settings.timeout {
                Some(timeout) => tokio::time::timeout_at(self.started + timeout, poll).await,
                None => Ok(poll.await),
            };
            let Ok(polled) = polled else {
                self.finished = true;
                return Some(Err(self.timed_out().await));
            };
            match polled {
                Ok(task) => {
                    self.failing_since = None;
                    if task.is_terminal() {
                        self.finished = true;
                    }
                    if let TaskStatus::Unknown(status) = &task.status {
                        tracing::debug!(task = %self.id, status, "unknown task status; still waiting");
                    }
                    self.last = Some(task.clone());
                    return Some(Ok(task));
                }
                Err(error) if error.is_not_found() => {
                    self.finished = true;
                    // Runway answers 404 for a cancelled task as for a deleted one: a cancel
                    // this client sent tells them apart.
                    if self.source.cancelled_here(&self.id) {
                        return Some(Err(Error::TaskCancelled(Box::new(Task::new(
                            self.id.clone(),
                            TaskStatus::Cancelled,
                        )))));
                    }
                    return Some(Err(Error::TaskGone {
                        task_id: self.id.clone(),
                    }));
                }
                Err(error) if is_transient(&error) => {
                    let since = *self.failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.settings.transient_budget {
                        self.finished = true;
                        return Some(Err(error.with_task_id(&self.id)));
                    }
                    tracing::debug!(task = %self.id, error = %error, "poll failed; will poll again");
                }
                Err(error) => {
                    self.finished = true;
                    return Some(Err(error.with_task_id(&self.id)));
                }
            }
        }
    }

    async fn timed_out(&mut self) -> Error {
        let mut cancelled = false;
        if self.settings.cancel_on_timeout {
            match self.source.cancel(&self.id).await {
                Ok(outcome) if outcome.is_confirmed() => cancelled = true,
                Ok(outcome) => {
                    tracing::warn!(task = %self.id, outcome = %outcome, "cancel after timeout not confirmed")
                }
                Err(error) => {
                    tracing::warn!(task = %self.id, error = %error, "cancel after timeout failed")
                }
            }
        }
        Error::WaitTimeout {
            task_id: self.id.clone(),
            waited: self.started.elapsed(),
            last: self.last.take().map(Box::new),
            cancelled,
        }
    }

    /// Drives the poller to the end: the outcome, or the error that stopped polling.
    async fn outcome(mut self) -> Result<Outcome, Error> {
        let span = wait_span(&self.id);
        let result = async {
            let mut last: Option<Task> = None;
            while let Some(step) = self.next().await {
                match step {
                    Ok(task) if task.is_terminal() => {
                        if let Some(outcome) = Outcome::of_terminal(task) {
                            return Ok(outcome);
                        }
                    }
                    Ok(task) => last = Some(task),
                    Err(error) => {
                        return match Outcome::of_error(&error, last.as_ref()) {
                            Some(outcome) => Ok(outcome),
                            None => Err(error),
                        };
                    }
                }
            }
            Err(ended_without_status(&self.id))
        }
        .instrument(span.clone())
        .await;
        record_end(&span, self.polls, &result);
        result
    }

    /// Drives the poller to the end and turns the outcome into a task or an error.
    async fn finish(self) -> Result<Task, Error> {
        self.outcome().await?.into_result()
    }
}

/// The span around one whole wait: task id, then polls and outcome once it ends.
fn wait_span(id: &TaskId) -> tracing::Span {
    tracing::info_span!(
        "lowcodeapi.wait",
        task = %id,
        polls = tracing::field::Empty,
        outcome = tracing::field::Empty,
    )
}

fn record_end(span: &tracing::Span, polls: u32, result: &Result<Outcome, Error>) {
    let outcome = match result {
        Ok(outcome) => outcome.name(),
        Err(_) => "error",
    };
    span.record("polls", polls);
    span.record("outcome", outcome);
    span.in_scope(|| tracing::debug!(polls, outcome, "wait ended"));
}

/// A poller only stops after a terminal snapshot or an error; this is never expected.
fn ended_without_status(id: &TaskId) -> Error {
    Error::TaskGone {
        task_id: id.clone(),
    }
}

macro_rules! settings_setters {
    () => {
        /// The poll schedule; default the client's
        /// ([`ClientBuilder::poll_schedule`](crate::ClientBuilder::poll_schedule)).
        pub fn schedule(mut self, schedule: PollSchedule) -> Self {
            self.settings.schedule = schedule;
            self
        }

        /// Poll every `interval` (a fixed schedule; see [`PollSchedule::every`]).
        pub fn poll_interval(mut self, interval: Duration) -> Self {
            self.settings.schedule = PollSchedule::every(interval);
            self
        }

        /// Give up after this long (default the client's
        /// [`wait_timeout`](crate::ClientBuilder::wait_timeout), 10 minutes unless set); `None`
        /// waits forever. The task keeps running after a timeout, and the error carries its id
        /// and last snapshot.
        pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
            self.settings.timeout = timeout.into();
            self
        }

        /// Look at the task at once (`true`), or only after the schedule's initial delay
        /// (`false`). Default: at once for a wait on a task id, after the delay for a wait on a
        /// [`CreatedTask`] just returned by a create.
        pub fn poll_immediately(mut self, now: bool) -> Self {
            self.settings.poll_immediately = now;
            self
        }

        /// Ask Runway to cancel the task when the timeout is reached (default: no).
        pub fn cancel_on_timeout(mut self, cancel: bool) -> Self {
            self.settings.cancel_on_timeout = cancel;
            self
        }

        /// How long polls may keep failing with retryable errors (429, 502–504, transport)
        /// before the wait gives up; default 2 minutes.
        pub fn transient_error_budget(mut self, budget: Duration) -> Self {
            self.settings.transient_budget = budget;
            self
        }
    };
}

/// Waits for a task to end; `.await` it, or call [`Wait::outcome`]. Made by [`Client::wait`].
///
/// `.await` resolves to the SUCCEEDED task, or to [`Error::TaskFailed`],
/// [`Error::TaskCancelled`], [`Error::TaskGone`], [`Error::WaitTimeout`] or the error that ended
/// polling; every error carries the task id.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
/// use std::time::Duration;
/// let task = client
///     .wait(&id)
///     .timeout(Duration::from_secs(900))
///     .cancel_on_timeout(true)
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a Wait does nothing until awaited"]
#[derive(Debug)]
pub struct Wait {
    client: Client,
    id: TaskId,
    settings: Settings,
}

impl Wait {
    settings_setters!();

    /// Waits and returns how the wait ended as one [`Outcome`]; `Err` only for errors that
    /// stopped polling without saying how the task ended (a bad token, persistent failures).
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use lowcodeapi_runwayml::Outcome;
    /// match client.wait(&id).outcome().await? {
    ///     Outcome::Succeeded(task) => println!("{}", task.first_output().unwrap_or("no output")),
    ///     other => eprintln!("{other}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn outcome(self) -> Result<Outcome, Error> {
        Poller::new(self.client, self.id, self.settings)
            .outcome()
            .await
    }
}

impl IntoFuture for Wait {
    type Output = Result<Task, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(Poller::new(self.client, self.id, self.settings).finish())
    }
}

/// Every snapshot of a task until it ends. Made by [`Client::watch`]; use it as a [`Stream`]
/// (it is `Unpin`), after setting the schedule and timeout like [`Wait`]'s (settings made after
/// the first poll do not apply).
///
/// Yields `Ok(task)` for each poll, the terminal snapshot (SUCCEEDED, FAILED or CANCELLED)
/// last; or one `Err` (gone, timeout, persistent failures) and then ends.
///
/// [`Watch::outcome`] drives it to the end (from wherever the stream is) and says how it ended,
/// like [`Wait::outcome`]: a FAILED snapshot is `Outcome::Failed` for both.
#[must_use = "a Watch does nothing until polled"]
pub struct Watch {
    client: Client,
    id: TaskId,
    settings: Settings,
    /// Started at the first poll, with the settings as they are then.
    running: Option<Snapshots>,
    /// The latest snapshot, for the outcome of a wait that ends in an error.
    last: Option<Task>,
    /// How the stream ended, once it has.
    end: Option<Result<Outcome, Error>>,
    span: Option<tracing::Span>,
    polls: u32,
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watch")
            .field("id", &self.id)
            .field("settings", &self.settings)
            .field("started", &self.running.is_some())
            .field("last", &self.last)
            .finish()
    }
}

type Snapshots = Pin<Box<dyn Stream<Item = Result<Task, Error>> + Send>>;

impl Watch {
    settings_setters!();

    /// Polls to the end (or takes the end already reached) and returns how the wait ended;
    /// `Err` only for errors that stopped polling without saying how the task ended.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use futures::StreamExt;
    /// let mut watch = client.watch(&id);
    /// // Show the first few snapshots, then just wait for the end.
    /// for _ in 0..3 {
    ///     if let Some(Ok(task)) = watch.next().await {
    ///         println!("{} {:?}", task.status, task.progress);
    ///     }
    /// }
    /// println!("{}", watch.outcome().await?);
    /// # Ok(()) }
    /// ```
    pub async fn outcome(mut self) -> Result<Outcome, Error> {
        use futures::StreamExt;
        while self.end.is_none() {
            if self.next().await.is_none() && self.end.is_none() {
                return Err(ended_without_status(&self.id));
            }
        }
        self.end
            .take()
            .unwrap_or_else(|| Err(ended_without_status(&self.id)))
    }

    fn record(&mut self, item: &Option<Result<Task, Error>>) {
        match item {
            Some(Ok(task)) => {
                self.polls += 1;
                if task.is_terminal() {
                    self.end = Outcome::of_terminal(task.clone()).map(Ok);
                }
                self.last = Some(task.clone());
            }
            Some(Err(error)) => {
                self.end = Some(match Outcome::of_error(error, self.last.as_ref()) {
                    Some(outcome) => Ok(outcome),
                    None => Err(error.duplicate()),
                });
            }
            None => {}
        }
        if let (Some(end), Some(span)) = (&self.end, &self.span) {
            record_end(span, self.polls, end);
            self.span = None;
        }
    }
}

fn snapshots<S: TaskSource>(poller: Poller<S>) -> impl Stream<Item = Result<Task, Error>> + Send {
    futures::stream::unfold(poller, |mut poller| async move {
        let item = poller.next().await?;
        Some((item, poller))
    })
}

impl Stream for Watch {
    type Item = Result<Task, Error>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.running.is_none() {
            this.span = Some(wait_span(&this.id));
        }
        let stream = this.running.get_or_insert_with(|| {
            Box::pin(snapshots(Poller::new(
                this.client.clone(),
                this.id.clone(),
                this.settings.clone(),
            )))
        });
        let polled = match &this.span {
            Some(span) => span.in_scope(|| stream.as_mut().poll_next(cx)),
            None => stream.as_mut().poll_next(cx),
        };
        if let std::task::Poll::Ready(item) = &polled {
            this.record(item);
        }
        polled
    }
}

impl Client {
    /// Waits for a task to end, polling on the client's schedule (Runway's five seconds unless
    /// [set on the builder](crate::ClientBuilder::poll_schedule)) for up to its wait timeout (10
    /// minutes unless set). A wait on a task id looks at once; a wait on a just-created
    /// [`CreatedTask`] first waits the schedule's initial delay (see [`WaitTarget`]).
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use std::time::Duration;
    /// let task = client.wait(&id).timeout(Duration::from_secs(900)).await?;
    /// if let Some(url) = task.first_output() {
    ///     println!("video at {url}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn wait(&self, target: impl WaitTarget) -> Wait {
        Wait {
            client: self.clone(),
            id: target.task_id().clone(),
            settings: Settings::from_defaults(self.wait_defaults(), target.just_created()),
        }
    }

    /// A stream of the task's snapshots until it ends, for progress reporting; settings and the
    /// first look as for [`Client::wait`].
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
    /// use futures::StreamExt;
    /// let mut updates = client.watch(&id);
    /// while let Some(update) = updates.next().await {
    ///     match update {
    ///         Ok(task) => println!("{} {:?}", task.status, task.progress),
    ///         Err(error) => eprintln!("{error}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn watch(&self, target: impl WaitTarget) -> Watch {
        Watch {
            client: self.clone(),
            id: target.task_id().clone(),
            settings: Settings::from_defaults(self.wait_defaults(), target.just_created()),
            running: None,
            last: None,
            end: None,
            span: None,
            polls: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use crate::error::{ApiError, TransportError, TransportKind};
    use crate::task::FailureCode;

    /// A scripted task: its status as a function of time since the test began, with a log of
    /// when it was polled and cancelled.
    #[derive(Clone)]
    struct Script {
        began: Instant,
        timeline: Arc<dyn Fn(Duration, u32) -> Result<Task, Error> + Send + Sync>,
        polls: Arc<Mutex<Vec<Duration>>>,
        cancels: Arc<Mutex<u32>>,
    }

    impl Script {
        fn new(
            timeline: impl Fn(Duration, u32) -> Result<Task, Error> + Send + Sync + 'static,
        ) -> Self {
            Self {
                began: Instant::now(),
                timeline: Arc::new(timeline),
                polls: Arc::default(),
                cancels: Arc::default(),
            }
        }
        fn poll_times(&self) -> Vec<Duration> {
            self.polls.lock().unwrap().clone()
        }
    }

    impl TaskSource for Script {
        fn get(&self, _id: &TaskId) -> BoxFuture<'_, Result<Task, Error>> {
            let at = self.began.elapsed();
            let n = {
                let mut polls = self.polls.lock().unwrap();
                polls.push(at);
                polls.len() as u32
            };
            let result = (self.timeline)(at, n);
            Box::pin(async move { result })
        }
        fn cancel(&self, _id: &TaskId) -> BoxFuture<'_, Result<CancelOutcome, Error>> {
            *self.cancels.lock().unwrap() += 1;
            Box::pin(async {
                Ok(CancelOutcome::Cancelled {
                    was: crate::TaskStatus::Running,
                })
            })
        }
        fn cancelled_here(&self, _id: &TaskId) -> bool {
            *self.cancels.lock().unwrap() > 0
        }
    }

    fn id() -> TaskId {
        TaskId::parse("task-1").unwrap()
    }

    fn task(status: TaskStatus) -> Task {
        let mut task = Task::new(id(), status);
        if task.status == TaskStatus::Succeeded {
            task.output = vec!["https://example.com/out.mp4".into()];
        }
        task
    }

    /// Runs for `length`, then ends in `end`.
    fn lasting(length: Duration, end: TaskStatus) -> Script {
        Script::new(move |at, _| {
            Ok(task(if at >= length {
                end.clone()
            } else if at < Duration::from_secs(2) {
                TaskStatus::Pending
            } else {
                TaskStatus::Running
            }))
        })
    }

    fn settings(schedule: PollSchedule) -> Settings {
        Settings {
            schedule,
            ..Settings::default()
        }
    }

    /// A fixed 5 s schedule, no jitter: exact poll times.
    fn every_5s() -> Settings {
        settings(PollSchedule::every(Duration::from_secs(5)))
    }

    fn api_error(status: u16) -> Error {
        Error::Api(Box::new(ApiError {
            operation: "get_task",
            status,
            dialect: None,
            message: None,
            runway_error: Some("scripted".into()),
            issues: Vec::new(),
            doc_url: None,
            code: None,
            retry_after: None,
            routing_miss: false,
            task_id: None,
            body_excerpt: None,
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn default_schedule_for_a_60_second_task() {
        let script = lasting(Duration::from_secs(60), TaskStatus::Succeeded);
        let done = Poller::new(script.clone(), id(), Settings::default())
            .finish()
            .await
            .unwrap();
        assert_eq!(done.status, TaskStatus::Succeeded);
        let times = script.poll_times();
        println!(
            "a 60 s task with the default schedule: {} polls at {times:.1?}",
            times.len()
        );
        // First poll after 5–6 s, then every 5–6 s: never faster than Runway's five seconds.
        assert!(
            times[0] >= Duration::from_secs(5) && times[0] <= Duration::from_secs(6),
            "{times:?}"
        );
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_secs(5) && gap <= Duration::from_secs(6),
                "{times:?}"
            );
        }
        assert!(
            (10..=12).contains(&times.len()),
            "{} polls: {times:?}",
            times.len()
        );
        assert!(*times.last().unwrap() >= Duration::from_secs(60));
        assert!(*times.last().unwrap() <= Duration::from_secs(66));
    }

    #[tokio::test(start_paused = true)]
    async fn long_tasks_stretch_toward_the_cap() {
        let script = lasting(Duration::from_secs(600), TaskStatus::Succeeded);
        let wait = Settings {
            timeout: None,
            ..Settings::default()
        };
        Poller::new(script.clone(), id(), wait)
            .finish()
            .await
            .unwrap();
        let times = script.poll_times();
        let gaps: Vec<Duration> = times.windows(2).map(|p| p[1] - p[0]).collect();
        assert!(gaps.iter().all(|g| *g >= Duration::from_secs(5)));
        assert!(
            gaps.iter().all(|g| *g <= Duration::from_secs(21)),
            "{gaps:?}"
        );
        // After the stretch point the gaps reach the 20 s cap.
        assert!(
            gaps.iter()
                .rev()
                .take(5)
                .all(|g| *g >= Duration::from_secs(20)),
            "{gaps:?}"
        );
        // Far fewer polls than a flat 5 s schedule (120 polls for 10 minutes).
        assert!(times.len() < 60, "{} polls", times.len());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_schedule_polls_exactly_on_time() {
        let script = lasting(Duration::from_millis(1000), TaskStatus::Succeeded);
        Poller::new(
            script.clone(),
            id(),
            settings(PollSchedule::every(Duration::from_millis(100))),
        )
        .finish()
        .await
        .unwrap();
        let times = script.poll_times();
        let expected: Vec<Duration> = (1..=10).map(|n| Duration::from_millis(100 * n)).collect();
        assert_eq!(times, expected);
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_returns_the_id_and_last_snapshot_and_can_cancel() {
        let script = lasting(Duration::from_secs(3600), TaskStatus::Succeeded);
        let wait = Settings {
            timeout: Some(Duration::from_secs(30)),
            ..every_5s()
        };
        let started = Instant::now();
        let error = Poller::new(script.clone(), id(), wait.clone())
            .finish()
            .await
            .unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_secs(30));
        match &error {
            Error::WaitTimeout {
                task_id,
                last,
                cancelled,
                waited,
            } => {
                assert_eq!(task_id, &id());
                assert_eq!(last.as_ref().unwrap().status, TaskStatus::Running);
                assert!(!cancelled);
                assert_eq!(*waited, Duration::from_secs(30));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(error.task_id(), Some(&id()));
        assert_eq!(*script.cancels.lock().unwrap(), 0);

        let script = lasting(Duration::from_secs(3600), TaskStatus::Succeeded);
        let cancelling = Settings {
            cancel_on_timeout: true,
            ..wait
        };
        let error = Poller::new(script.clone(), id(), cancelling)
            .finish()
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::WaitTimeout {
                    cancelled: true,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(*script.cancels.lock().unwrap(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_wait_stops_polling() {
        let script = lasting(Duration::from_secs(3600), TaskStatus::Succeeded);
        let poller = Poller::new(script.clone(), id(), every_5s());
        tokio::select! {
            _ = poller.finish() => panic!("the task never ends"),
            _ = tokio::time::sleep(Duration::from_secs(12)) => {}
        }
        assert_eq!(script.poll_times().len(), 2);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(
            script.poll_times().len(),
            2,
            "polling went on after the drop"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_and_unknown_statuses_keep_waiting_and_are_visible() {
        let script = Script::new(|_, n| {
            Ok(task(match n {
                1 => TaskStatus::Throttled,
                2 => TaskStatus::Unknown("WARMING_UP".into()),
                3 => TaskStatus::Running,
                _ => TaskStatus::Succeeded,
            }))
        });
        let poller = Poller::new(script.clone(), id(), every_5s());
        let seen: Vec<TaskStatus> = futures::StreamExt::collect::<Vec<_>>(snapshots(poller))
            .await
            .into_iter()
            .map(|step| step.unwrap().status)
            .collect();
        assert_eq!(
            seen,
            [
                TaskStatus::Throttled,
                TaskStatus::Unknown("WARMING_UP".into()),
                TaskStatus::Running,
                TaskStatus::Succeeded
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn transient_errors_are_ridden_out_until_the_budget() {
        // A 503 and a 500, then success: the wait goes on.
        let script = Script::new(|_, n| match n {
            1 => Err(api_error(503)),
            2 => Err(api_error(500)),
            _ => Ok(task(TaskStatus::Succeeded)),
        });
        let done = Poller::new(script.clone(), id(), every_5s())
            .finish()
            .await
            .unwrap();
        assert_eq!(done.status, TaskStatus::Succeeded);
        assert_eq!(script.poll_times().len(), 3);

        // Failures that persist past the budget end the wait, with the task id.
        let script = Script::new(|_, _| {
            Err(Error::Transport(Box::new(TransportError {
                operation: "get_task",
                kind: TransportKind::Connect,
                message: "connection refused".into(),
                task_id: None,
            })))
        });
        let wait = Settings {
            transient_budget: Duration::from_secs(20),
            ..every_5s()
        };
        let error = Poller::new(script.clone(), id(), wait)
            .finish()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Transport(_)), "{error:?}");
        assert_eq!(error.task_id(), Some(&id()));
        // Polls at 5 (first failure), 10, 15, 20, 25: 20 s after the first failure.
        assert_eq!(script.poll_times().len(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn a_404_mid_wait_means_the_task_is_gone() {
        let script = Script::new(|_, n| match n {
            1 => Ok(task(TaskStatus::Running)),
            _ => Err(api_error(404)),
        });
        let error = Poller::new(script, id(), every_5s())
            .finish()
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::TaskGone { task_id } if task_id == &id()),
            "{error:?}"
        );
        assert!(error.is_not_found());
    }

    #[tokio::test(start_paused = true)]
    async fn non_transient_errors_end_the_wait_with_the_id() {
        let script = Script::new(|_, _| Err(api_error(401)));
        let error = Poller::new(script.clone(), id(), every_5s())
            .finish()
            .await
            .unwrap_err();
        assert!(error.is_unauthorized());
        assert_eq!(error.task_id(), Some(&id()));
        assert_eq!(script.poll_times().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_tasks_report_each_failure_code_family() {
        for (code, retryable) in [
            ("SAFETY.INPUT.IMAGE", false),
            ("SAFETY.OUTPUT.VIDEO", false),
            ("INPUT_PREPROCESSING.SAFETY.TEXT", false),
            ("INPUT_PREPROCESSING.INTERNAL", true),
            ("INTERNAL.BAD_OUTPUT.CODE01", false),
            ("INTERNAL.SERVER", true),
            ("SOMETHING.NEW", false),
        ] {
            let script = Script::new(move |_, _| {
                let mut failed = task(TaskStatus::Failed);
                failed.failure = Some("It failed.".into());
                failed.failure_code = Some(FailureCode::parse(code));
                failed.cost = Some(0.0);
                Ok(failed)
            });
            let error = Poller::new(script, id(), every_5s())
                .finish()
                .await
                .unwrap_err();
            let Error::TaskFailed(task) = &error else {
                panic!("{error:?}")
            };
            let failure_code = task.failure_code.as_ref().unwrap();
            assert_eq!(failure_code.as_str(), code);
            assert_eq!(failure_code.is_retryable(), retryable, "{code}");
            assert_eq!(task.cost, Some(0.0));
            assert_eq!(error.task_id(), Some(&id()));
            assert!(error.to_string().contains(code), "{error}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_tasks_end_the_wait_with_their_own_error() {
        let script = Script::new(|_, _| Ok(task(TaskStatus::Cancelled)));
        let error = Poller::new(script, id(), every_5s())
            .finish()
            .await
            .unwrap_err();
        assert!(matches!(error, Error::TaskCancelled(_)), "{error:?}");
        assert_eq!(error.task_id(), Some(&id()));
    }

    /// A wait resumed on a task id (`runway task wait ID`).
    fn resumed(schedule: PollSchedule) -> Settings {
        Settings {
            poll_immediately: true,
            ..settings(schedule)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_resumed_wait_looks_at_once_then_keeps_runways_schedule() {
        // Already finished: reported at once, not after 5 s.
        let script = lasting(Duration::ZERO, TaskStatus::Succeeded);
        let started = Instant::now();
        let outcome = Poller::new(script.clone(), id(), resumed(PollSchedule::default()))
            .outcome()
            .await
            .unwrap();
        assert!(outcome.is_succeeded());
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert_eq!(script.poll_times(), [Duration::ZERO]);

        // Still running: the first look at once, then never faster than every 5 s.
        let script = lasting(Duration::from_secs(30), TaskStatus::Succeeded);
        Poller::new(script.clone(), id(), resumed(PollSchedule::default()))
            .finish()
            .await
            .unwrap();
        let times = script.poll_times();
        assert_eq!(times[0], Duration::ZERO);
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= Duration::from_secs(5) && gap <= Duration::from_secs(6),
                "{times:?}"
            );
        }

        // An id that does not exist: gone at once.
        let script = Script::new(|_, _| Err(api_error(404)));
        let outcome = Poller::new(script.clone(), id(), resumed(PollSchedule::default()))
            .outcome()
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Gone { .. }), "{outcome:?}");
        assert_eq!(script.poll_times(), [Duration::ZERO]);

        // A wait right after a create keeps the initial delay.
        let script = lasting(Duration::ZERO, TaskStatus::Succeeded);
        Poller::new(script.clone(), id(), Settings::default())
            .finish()
            .await
            .unwrap();
        assert!(script.poll_times()[0] >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_before_any_poll_says_only_what_is_known() {
        let script = lasting(Duration::from_secs(3600), TaskStatus::Succeeded);
        let wait = Settings {
            timeout: Some(Duration::from_secs(3)),
            ..Settings::default()
        };
        let error = Poller::new(script.clone(), id(), wait)
            .finish()
            .await
            .unwrap_err();
        assert!(script.poll_times().is_empty());
        let message = error.to_string();
        assert_eq!(
            message,
            "gave up waiting for task task-1 after 3.0s, before any poll answered: its status is \
             unknown; wait again with its id"
        );
        assert!(!message.contains("still running"), "{message}");

        // After polls: the last status, and a single hint.
        let wait = Settings {
            timeout: Some(Duration::from_secs(12)),
            ..every_5s()
        };
        let message = Poller::new(script, id(), wait)
            .finish()
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "gave up waiting for task task-1 after 12.0s (last status: RUNNING); it may still be \
             running; wait again with its id"
        );
        assert_eq!(message.matches("wait again").count(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn outcomes_name_every_ending() {
        let failed = Script::new(|_, _| Ok(task(TaskStatus::Failed)));
        let outcome = Poller::new(failed, id(), every_5s())
            .outcome()
            .await
            .unwrap();
        assert!(matches!(&outcome, Outcome::Failed(t) if t.status == TaskStatus::Failed));
        assert_eq!(outcome.name(), "failed");

        let cancelled = Script::new(|_, _| Ok(task(TaskStatus::Cancelled)));
        let outcome = Poller::new(cancelled, id(), every_5s())
            .outcome()
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Cancelled { .. }), "{outcome:?}");

        // Gone after a cancel sent through this source: cancelled, with the last snapshot.
        let script = Script::new(|_, n| match n {
            1 => Ok(task(TaskStatus::Running)),
            _ => Err(api_error(404)),
        });
        *script.cancels.lock().unwrap() = 1;
        let outcome = Poller::new(script, id(), every_5s())
            .outcome()
            .await
            .unwrap();
        let Outcome::Cancelled { task_id, last } = &outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(task_id, &id());
        assert_eq!(last.as_ref().unwrap().status, TaskStatus::Running);
        assert!(
            matches!(outcome.into_result(), Err(Error::TaskCancelled(t)) if t.status == TaskStatus::Cancelled)
        );

        // A timeout carries the last snapshot and whether a cancel was sent.
        let script = lasting(Duration::from_secs(3600), TaskStatus::Succeeded);
        let wait = Settings {
            timeout: Some(Duration::from_secs(12)),
            cancel_on_timeout: true,
            ..every_5s()
        };
        let outcome = Poller::new(script, id(), wait).outcome().await.unwrap();
        assert!(
            matches!(
                &outcome,
                Outcome::TimedOut {
                    cancel_requested: true,
                    last: Some(_),
                    ..
                }
            ),
            "{outcome:?}"
        );

        // Errors that do not say how the task ended stay errors.
        let script = Script::new(|_, _| Err(api_error(401)));
        assert!(
            Poller::new(script, id(), every_5s())
                .outcome()
                .await
                .unwrap_err()
                .is_unauthorized()
        );
    }

    #[test]
    fn the_cancel_record_is_bounded_and_forgets_the_oldest() {
        let record = CancelRecord::default();
        let ids: Vec<TaskId> = (0..CancelRecord::CAPACITY + 10)
            .map(|n| TaskId::parse(format!("task-{n}")).unwrap())
            .collect();
        for id in &ids {
            record.insert(id);
            record.insert(id); // twice: counted once
        }
        assert!(!record.contains(&ids[0]));
        assert!(!record.contains(&ids[9]));
        assert!(record.contains(&ids[10]));
        assert!(record.contains(ids.last().unwrap()));
        let guard = record.ids.lock().unwrap();
        assert_eq!(guard.0.len(), CancelRecord::CAPACITY);
        assert_eq!(guard.1.len(), CancelRecord::CAPACITY);
    }

    #[tokio::test(start_paused = true)]
    async fn a_thousand_waits_each_keep_their_own_schedule() {
        let scripts: Vec<Script> = (0..1000)
            .map(|n| lasting(Duration::from_secs(10 + (n % 50)), TaskStatus::Succeeded))
            .collect();
        let waits = scripts
            .iter()
            .map(|script| Poller::new(script.clone(), id(), every_5s()).finish());
        let results = futures::future::join_all(waits).await;
        assert!(results.iter().all(Result::is_ok));
        for (n, script) in scripts.iter().enumerate() {
            let length = 10 + (n as u64 % 50);
            let expected = length.div_ceil(5) as usize;
            assert_eq!(script.poll_times().len(), expected, "task {n}");
            for pair in script.poll_times().windows(2) {
                assert_eq!(pair[1] - pair[0], Duration::from_secs(5));
            }
        }
    }
}
