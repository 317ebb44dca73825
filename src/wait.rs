//! Waiting for a task the way Runway asks: polling no faster than every five seconds.
//!
//! Runway has no webhook and no list endpoint: completion is known only by polling
//! `GET /v1/tasks/{id}`, and "consumers should not expect updates more frequent than once every
//! five seconds". [`Client::wait`] polls on a [`PollSchedule`] until the task ends;
//! [`Client::watch`] yields every snapshot along the way, for progress bars and dashboards.
//!
//! Both are lazy and cancel-safe: dropping the future or the stream stops polling at once.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use futures::future::BoxFuture;
use rand::Rng;
use tokio::time::Instant;

use crate::client::{CancelOutcome, Client};
use crate::error::Error;
use crate::task::{Task, TaskId, TaskStatus};

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

    /// Sets the delay before the first poll.
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

/// Settings shared by [`Wait`] and [`Watch`].
#[derive(Debug, Clone)]
struct Settings {
    schedule: PollSchedule,
    timeout: Option<Duration>,
    cancel_on_timeout: bool,
    transient_budget: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            schedule: PollSchedule::default(),
            timeout: Some(Duration::from_secs(600)),
            cancel_on_timeout: false,
            transient_budget: Duration::from_secs(120),
        }
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

    /// Drives the poller to the end and turns the terminal snapshot into the outcome.
    async fn finish(mut self) -> Result<Task, Error> {
        while let Some(step) = self.next().await {
            let task = step?;
            match task.status {
                TaskStatus::Succeeded => return Ok(task),
                TaskStatus::Failed => return Err(Error::TaskFailed(Box::new(task))),
                TaskStatus::Cancelled => return Err(Error::TaskCancelled(Box::new(task))),
                _ => {}
            }
        }
        unreachable!("a poller ends with a terminal snapshot or an error")
    }
}

macro_rules! settings_setters {
    () => {
        /// The poll schedule; default [`PollSchedule::default`].
        pub fn schedule(mut self, schedule: PollSchedule) -> Self {
            self.settings.schedule = schedule;
            self
        }

        /// Poll every `interval` (a fixed schedule; see [`PollSchedule::every`]).
        pub fn poll_interval(mut self, interval: Duration) -> Self {
            self.settings.schedule = PollSchedule::every(interval);
            self
        }

        /// Give up after this long (default 10 minutes); `None` waits forever. The task keeps
        /// running after a timeout, and the error carries its id and last snapshot.
        pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
            self.settings.timeout = timeout.into();
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

/// Waits for a task to end; `.await` it. Made by [`Client::wait`].
///
/// Resolves to the SUCCEEDED task, or to [`Error::TaskFailed`], [`Error::TaskCancelled`],
/// [`Error::TaskGone`], [`Error::WaitTimeout`] or the error that ended polling; every error
/// carries the task id.
#[must_use = "a Wait does nothing until awaited"]
pub struct Wait {
    client: Client,
    id: TaskId,
    settings: Settings,
}

impl Wait {
    settings_setters!();
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
#[must_use = "a Watch does nothing until polled"]
pub struct Watch {
    client: Client,
    id: TaskId,
    settings: Settings,
    /// Started at the first poll, with the settings as they are then.
    running: Option<Snapshots>,
}

type Snapshots = Pin<Box<dyn Stream<Item = Result<Task, Error>> + Send>>;

impl Watch {
    settings_setters!();
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
        let stream = this.running.get_or_insert_with(|| {
            Box::pin(snapshots(Poller::new(
                this.client.clone(),
                this.id.clone(),
                this.settings.clone(),
            )))
        });
        stream.as_mut().poll_next(cx)
    }
}

impl Client {
    /// Waits for a task to end, polling on the default schedule for up to 10 minutes.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use std::time::Duration;
    /// let task = client.wait(&id).timeout(Duration::from_secs(900)).await?;
    /// println!("video at {}", task.output[0]);
    /// # Ok(()) }
    /// ```
    pub fn wait(&self, id: impl AsRef<TaskId>) -> Wait {
        Wait {
            client: self.clone(),
            id: id.as_ref().clone(),
            settings: Settings::default(),
        }
    }

    /// A stream of the task's snapshots until it ends, for progress reporting.
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
    pub fn watch(&self, id: impl AsRef<TaskId>) -> Watch {
        Watch {
            client: self.clone(),
            id: id.as_ref().clone(),
            settings: Settings::default(),
            running: None,
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
