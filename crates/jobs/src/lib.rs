#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod fetch;
mod job;
mod store;
mod worker;

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::Stream;
use lowcodeapi_runwayml::{Client, ImageToVideo};
use rand::Rng as _;

pub use error::Error;
pub use job::{Destination, JobEvent, JobId, JobState, JobStatus, StoredOutput};

use fetch::Fetch;
use store::{Backend, Store, ms, now_ms};

/// A stream of state changes, made by [`Jobs::events`].
pub type JobEvents = std::pin::Pin<Box<dyn Stream<Item = Result<JobEvent, Error>> + Send>>;

/// The newest store schema this version reads and writes.
pub const SCHEMA_VERSION: i64 = store::SCHEMA_VERSION;

/// A durable queue of video generations in SQLite or PostgreSQL, and the workers that run it.
///
/// Cheap to clone: clones share the store's connections and the stop signal.
///
/// ```no_run
/// use lowcodeapi_runwayml::{Client, ImageToVideo, Model, PromptImage, Ratio};
/// use lowcodeapi_runwayml_jobs::{Destination, Jobs};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let jobs = Jobs::builder("sqlite://jobs.db").client(Client::from_env()?).open().await?;
/// let id = jobs
///     .submit(
///         ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?)
///             .ratio(Ratio::W1280H720)
///             .duration(5),
///         Destination::directory("videos"),
///     )
///     .await?; // recorded: it survives a crash from here on
/// jobs.run_until_settled(4).await?;
/// println!("{:?}", jobs.status(id).await?.outputs);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Jobs {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) config: Config,
    client: OnceLock<Client>,
    pub(crate) fetch: Box<dyn Fetch>,
    stop: tokio::sync::watch::Sender<bool>,
    last_reap: AtomicI64,
}

impl Inner {
    pub(crate) fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    pub(crate) fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub max_in_flight: i64,
    pub lease: Duration,
    pub poll_interval: Option<Duration>,
    pub idle_interval: Duration,
    pub retry_backoff: Duration,
    pub rate_limit_backoff: Duration,
    pub events_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_in_flight: 10,
            lease: Duration::from_secs(30),
            poll_interval: None,
            idle_interval: Duration::from_millis(500),
            retry_backoff: Duration::from_secs(10),
            rate_limit_backoff: Duration::from_secs(30),
            events_interval: Duration::from_millis(250),
        }
    }
}

/// Opens a job store with settings; made by [`Jobs::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// use lowcodeapi_runwayml_jobs::Jobs;
///
/// # async fn demo() -> Result<(), lowcodeapi_runwayml_jobs::Error> {
/// let jobs = Jobs::builder("postgres://runway@db.internal/runway")
///     .max_in_flight(20) // your Runway tier's concurrency, shared by every worker of the fleet
///     .lease(Duration::from_secs(60))
///     .open()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct JobsBuilder {
    url: String,
    config: Config,
    client: Option<Client>,
}

impl JobsBuilder {
    /// The client workers use (default: [`Client::from_env`], made when first needed).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The most tasks in flight (being created, or created and not ended) across every worker
    /// of every process sharing the store; default 10. Match it to your Runway tier: beyond it,
    /// Runway holds tasks as THROTTLED.
    pub fn max_in_flight(mut self, n: u32) -> Self {
        self.config.max_in_flight = i64::from(n.max(1));
        self
    }

    /// How long a worker's claim on a job lasts without renewal (renewed every third of it
    /// while the worker lives); default 30 s. A job whose worker died is taken over this long
    /// after its last renewal.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.config.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// Poll tasks at this fixed interval instead of the SDK's schedule (Runway asks for 5 s or
    /// more; shorter intervals are for simulators).
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.config.poll_interval = Some(every);
        self
    }

    /// How often an idle worker looks for work; default 500 ms (with jitter).
    pub fn idle_interval(mut self, every: Duration) -> Self {
        self.config.idle_interval = every;
        self
    }

    /// How long a job waits after a temporary failure (no connection, a failed poll or
    /// download) before any worker tries it again; default 10 s.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.config.retry_backoff = backoff;
        self
    }

    /// How long the whole fleet stops creating after a 429 that gave no `Retry-After`;
    /// default 30 s.
    pub fn rate_limit_backoff(mut self, backoff: Duration) -> Self {
        self.config.rate_limit_backoff = backoff;
        self
    }

    /// How often [`Jobs::events`] reads the store; default 250 ms.
    pub fn events_interval(mut self, every: Duration) -> Self {
        self.config.events_interval = every;
        self
    }

    /// Opens (creating it if needed) and migrates the store.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedUrl`], [`Error::Unreadable`] (no server, wrong credentials, not a
    /// database), [`Error::SchemaTooNew`] (a newer version of this crate wrote it).
    pub async fn open(self) -> Result<Jobs, Error> {
        let store = Store::open(&self.url).await?;
        let client = OnceLock::new();
        if let Some(c) = self.client {
            let _ = client.set(c);
        }
        Ok(Jobs {
            inner: Arc::new(Inner {
                store,
                config: self.config,
                client,
                fetch: Box::new(fetch::SdkDownload),
                stop: tokio::sync::watch::channel(false).0,
                last_reap: AtomicI64::new(0),
            }),
        })
    }
}

impl Jobs {
    /// Opens the store at `url` with default settings: `sqlite://PATH` (created if missing) for
    /// one process, or `postgres://USER:PASSWORD@HOST/DB` for a fleet. See [`Jobs::builder`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lowcodeapi_runwayml_jobs::{Jobs, JobState};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let jobs = Jobs::open(&format!("sqlite://{}", dir.path().join("jobs.db").display())).await?;
    /// assert!(jobs.counts().await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn open(url: &str) -> Result<Jobs, Error> {
        Jobs::builder(url).open().await
    }

    /// A builder for a store with settings.
    pub fn builder(url: impl Into<String>) -> JobsBuilder {
        JobsBuilder {
            url: url.into(),
            config: Config::default(),
            client: None,
        }
    }

    fn client(&self) -> Result<&Client, Error> {
        if let Some(c) = self.inner.client.get() {
            return Ok(c);
        }
        let client = Client::from_env()?;
        Ok(self.inner.client.get_or_init(|| client))
    }

    /// Records a job and returns its id once it is durably in the store; nothing is sent to
    /// Runway until a worker takes it.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] with every violation when the request breaks the SDK's rules (nothing
    /// is recorded), or a store error.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lowcodeapi_runwayml::{ImageToVideo, Model, PromptImage, Ratio};
    /// use lowcodeapi_runwayml_jobs::{Destination, Error, Jobs, JobState};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let jobs = Jobs::open(&format!("sqlite://{}", dir.path().join("jobs.db").display())).await?;
    /// let image = PromptImage::url("https://example.com/a.jpg")?;
    ///
    /// let id = jobs
    ///     .submit(
    ///         ImageToVideo::new(Model::Gen4Turbo, image.clone()).ratio(Ratio::W1280H720),
    ///         Destination::directory(dir.path()),
    ///     )
    ///     .await?;
    /// assert_eq!(jobs.status(id).await?.state, JobState::Queued);
    ///
    /// // gen4_turbo has no 1920:1080: refused, and nothing is recorded.
    /// let bad = ImageToVideo::new(Model::Gen4Turbo, image).ratio(Ratio::W1920H1080);
    /// let err = jobs.submit(bad, Destination::directory(dir.path())).await.unwrap_err();
    /// assert!(matches!(err, Error::Invalid(_)));
    /// # Ok(()) }
    /// ```
    pub async fn submit(
        &self,
        request: ImageToVideo,
        destination: Destination,
    ) -> Result<JobId, Error> {
        let body = request.validated_body()?;
        self.inner
            .store
            .insert(None, &body.to_string(), &destination)
            .await
    }

    /// Like [`submit`](Self::submit), with a key unique in the store: submitting the same key
    /// again records nothing and returns the first job's id (the first submission's request and
    /// destination stay). A batch that is run again with the same keys submits nothing twice.
    pub async fn submit_with_key(
        &self,
        key: &str,
        request: ImageToVideo,
        destination: Destination,
    ) -> Result<JobId, Error> {
        let body = request.validated_body()?;
        self.inner
            .store
            .insert(Some(key), &body.to_string(), &destination)
            .await
    }

    /// What the store knows about a job.
    pub async fn status(&self, id: JobId) -> Result<JobStatus, Error> {
        self.inner.store.status(id).await
    }

    /// Jobs in id order, all of them or those in one state; `after` pages (the last id seen).
    pub async fn list(
        &self,
        state: Option<JobState>,
        after: Option<JobId>,
        limit: u32,
    ) -> Result<Vec<JobStatus>, Error> {
        self.inner.store.list(state, after, i64::from(limit)).await
    }

    /// How many jobs are in each state (states with none are left out).
    pub async fn counts(&self) -> Result<Vec<(JobState, i64)>, Error> {
        self.inner.store.counts().await
    }

    /// Cancels a job. A queued (or ambiguous) job is cancelled at once; a job whose task exists
    /// has its task cancelled at Runway; a job being created is cancelled as soon as its task id
    /// is known (the returned status then says `cancel_requested`).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::WrongState`] for a job that already succeeded or failed;
    /// [`Error::Runway`] when Runway's cancel failed (the job is left as it was, with
    /// `cancel_requested` set).
    pub async fn cancel(&self, id: JobId) -> Result<JobStatus, Error> {
        let store = &self.inner.store;
        match store.request_cancel(id).await? {
            None => {
                let status = store.status(id).await?;
                if status.state == JobState::Cancelled {
                    Ok(status)
                } else {
                    Err(Error::WrongState {
                        job: id,
                        state: status.state,
                        what: "it already ended; there is nothing to cancel",
                    })
                }
            }
            Some((JobState::Waiting | JobState::Downloading, Some(task))) => {
                self.client()?.cancel_task(&task).await?;
                store.cancelled(id).await?;
                store.status(id).await
            }
            Some(_) => store.status(id).await,
        }
    }

    /// An operator's decision to send an [`Ambiguous`](JobState::Ambiguous) job's create again,
    /// knowing that the first one may have created (and billed) a task.
    ///
    /// # Errors
    ///
    /// [`Error::WrongState`] for a job that is not ambiguous; [`Error::NotFound`].
    pub async fn resubmit(&self, id: JobId) -> Result<(), Error> {
        if self.inner.store.resubmit(id).await? {
            return Ok(());
        }
        let status = self.inner.store.status(id).await?;
        Err(Error::WrongState {
            job: id,
            state: status.state,
            what: "only an ambiguous job can be resubmitted",
        })
    }

    /// A stream of state changes from now on, written by any process sharing the store (it
    /// reads the store's event log every [`events_interval`](JobsBuilder::events_interval)).
    pub async fn events(&self) -> Result<JobEvents, Error> {
        let last = self.inner.store.last_event().await?;
        Ok(self.events_after(last))
    }

    /// The state changes after event `seq` (0: from the first job).
    pub fn events_after(&self, seq: i64) -> JobEvents {
        // PostgreSQL hands out sequence numbers before commit, so a later number can become
        // visible first: each read looks back a little way and skips what it already gave.
        const LOOK_BACK: i64 = 256;
        struct Reader {
            inner: Arc<Inner>,
            last: i64,
            seen: BTreeSet<i64>,
            ready: VecDeque<JobEvent>,
            first: bool,
        }
        let reader = Reader {
            inner: self.inner.clone(),
            last: seq,
            seen: BTreeSet::new(),
            ready: VecDeque::new(),
            first: true,
        };
        Box::pin(futures::stream::unfold(reader, |mut r| async move {
            loop {
                if let Some(event) = r.ready.pop_front() {
                    return Some((Ok(event), r));
                }
                if !r.first {
                    tokio::time::sleep(r.inner.config.events_interval).await;
                }
                r.first = false;
                let floor = match r.inner.store.backend() {
                    Backend::Sqlite => r.last,
                    Backend::Postgres => (r.last - LOOK_BACK).max(0),
                };
                match r.inner.store.events_after(floor, 1000).await {
                    Ok(events) => {
                        for event in events {
                            if event.seq > floor && r.seen.insert(event.seq) {
                                r.last = r.last.max(event.seq);
                                r.ready.push_back(event);
                            }
                        }
                        let keep = (r.last - LOOK_BACK).max(0);
                        r.seen = r.seen.split_off(&keep);
                    }
                    Err(e) => return Some((Err(e), r)),
                }
            }
        }))
    }

    /// Runs `workers` concurrent workers in this process until [`stop`](Self::stop) is called
    /// (any number of processes may run workers on one store). Each worker takes a job, creates
    /// its task (within the fleet's cap), waits for it, stores its outputs and records the
    /// result; jobs whose worker died are taken over when their lease runs out.
    pub async fn run(&self, workers: usize) -> Result<(), Error> {
        self.run_inner(workers, false).await
    }

    /// Like [`run`](Self::run), returning once no job is left to work on (every job succeeded,
    /// failed, was cancelled or is ambiguous), or on [`stop`](Self::stop).
    pub async fn run_until_settled(&self, workers: usize) -> Result<(), Error> {
        self.run_inner(workers, true).await
    }

    /// Asks this process's workers to stop: no new task is created, creates in flight are
    /// recorded, waits and downloads are let go for the next run (or another process) to resume
    /// at once. [`run`](Self::run) returns when they have. Final for this handle and its clones:
    /// open the store again to run workers again.
    pub fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    /// How many statements this handle sent to the store so far (for measuring).
    pub fn store_round_trips(&self) -> u64 {
        self.inner.store.round_trips()
    }

    /// Closes the store's connections.
    pub async fn close(&self) {
        self.inner.store.close().await;
    }

    async fn run_inner(&self, workers: usize, until_settled: bool) -> Result<(), Error> {
        let client = self.client()?.clone();
        let owner = worker::random_token(&format!("pid{}", std::process::id()));
        let slots = (0..workers.max(1)).map(|_| self.slot(&client, &owner, until_settled));
        let result = futures::future::try_join_all(slots).await;
        self.inner.store.release_all(&owner).await?;
        result.map(|_| ())
    }

    async fn slot(&self, client: &Client, owner: &str, until_settled: bool) -> Result<(), Error> {
        let inner = &self.inner;
        let mut stop = inner.stop.subscribe();
        let mut failures = 0u32;
        loop {
            if inner.stopping() {
                return Ok(());
            }
            let outcome = match self.reap_if_due().await {
                Ok(()) => worker::pass(inner, client, owner).await,
                Err(e) => Err(e),
            };
            let idle = match outcome {
                Ok(worker::Pass::Worked) => {
                    failures = 0;
                    continue;
                }
                Ok(worker::Pass::Idle) => {
                    failures = 0;
                    if until_settled && inner.store.unsettled().await? == 0 {
                        return Ok(());
                    }
                    inner.config.idle_interval
                }
                Err(e) => {
                    // The store may be restarting: keep trying for a while.
                    failures += 1;
                    if failures > 20 {
                        return Err(e);
                    }
                    tracing::warn!(error = %e, "job store error; retrying");
                    inner.config.idle_interval.max(Duration::from_millis(200))
                }
            };
            let jitter = rand::rng().random_range(0.5..1.5);
            tokio::select! {
                _ = tokio::time::sleep(idle.mul_f64(jitter)) => {}
                _ = worker::stopped(&mut stop) => {}
            }
        }
    }

    /// Creates whose worker died become ambiguous, once per quarter lease per process.
    async fn reap_if_due(&self) -> Result<(), Error> {
        let now = now_ms();
        let last = self.inner.last_reap.load(Ordering::Relaxed);
        if now - last < ms(self.inner.config.lease / 4)
            || self
                .inner
                .last_reap
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(());
        }
        let reaped = self.inner.store.reap().await?;
        if reaped > 0 {
            tracing::warn!(
                jobs = reaped,
                "creates whose worker stopped are now ambiguous: the task may exist; an operator decides"
            );
        }
        Ok(())
    }
}
