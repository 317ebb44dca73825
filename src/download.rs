//! Saving a task's outputs: to a file or directory, any [`AsyncWrite`], or (feature
//! `object-store`) an `object_store::ObjectStore`.
//!
//! Runway's output links are signed and expire 24–48 hours after they are issued, and Runway asks
//! integrators to download outputs rather than hand the links out. [`Client::download`] does
//! that, robustly:
//!
//! - **Streaming, bounded memory.** Bytes go from the socket to the destination as they arrive;
//!   nothing holds a whole video (an object store buffers one multipart part at a time).
//! - **Retries and resume.** A dropped connection, a timeout, a 429 or a 5xx is retried with
//!   backoff ([`RetryPolicy`]), and the next attempt asks for the rest only
//!   (`Range: bytes=N-`, `N` = the bytes already written). The `206`'s `Content-Range` must start
//!   at `N`; a server that ignores the range (`200`) is handled: a file starts over, a writer or an
//!   object store skips the bytes it already has.
//! - **Checks.** The length must match `Content-Length` / `Content-Range`; the content type must be
//!   a video: `video/*`, or `application/octet-stream` / `binary/octet-stream` (storage hosts
//!   serve objects uploaded without a type that way), or absent. Anything else (an HTML or XML
//!   error page answered with `200`) is refused, with [`DownloadErrorKind::ContentType`].
//! - **Atomic files.** A file is written to a temporary file in the same directory
//!   (`.<name>.<random>.part`), flushed to disk, then renamed: nothing half-written ever appears
//!   under the final name, and the temporary file is removed on error or when the download is
//!   dropped. An existing file is not replaced unless [`Download::overwrite`] says so.
//! - **Expired links heal themselves.** A link whose `_jwt` says it has expired, or a `401`/`403`
//!   from the storage host, makes the download fetch the task again for fresh links and carry on
//!   where it was. A task that is gone is [`Error::TaskGone`], naming it.
//! - **Hashed and flushed off the async threads.** Every byte saved is hashed
//!   ([`SavedOutput::sha256`]); the hashing and a file's writes run on the runtime's blocking pool
//!   (a thread each per download in progress, plus one that starts the flush to disk as a large
//!   file grows), handed the received chunks without copying them. Receiving, hashing and
//!   writing overlap, the final `fsync` waits for the last few MiB only, and a download holds a
//!   few MiB of memory at most whatever the video's size.
//! - **Links stay secret.** The storage host gets a plain request (no LowCodeAPI token, not in the
//!   query, not in a header). Links never appear in logs, `Debug` output or errors with their
//!   query: only the host and path are shown.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lowcodeapi_runwayml::Error> {
//! use lowcodeapi_runwayml::{Client, ImageToVideo, Model, PromptImage};
//! let client = Client::from_env()?;
//! let task = client
//!     .image_to_video(ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?))
//!     .await?;
//! let done = client.wait(&task).await?;
//! let saved = client.download(&done).to("videos/").await?;
//! for file in &saved.files {
//!     println!("{} ({} bytes, sha256 {})", file.location, file.bytes, file.sha256);
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::client::Client;
use crate::error::Error;
use crate::pipeline::{FileWriter, HashPipe};
use crate::redact::link;
use crate::retry::RetryPolicy;
use crate::task::{CreatedTask, Task, TaskId, TaskStatus};
use crate::transport::USER_AGENT;

/// How long connecting to the storage host may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest silence between two reads of a body before the attempt is abandoned (and
/// resumed). There is no limit on the whole download: a large video on a slow line takes time.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A link that expires within this margin is refreshed before it is used.
const EXPIRY_MARGIN: u64 = 5;
/// The part size of object-store uploads (S3's minimum part size).
#[cfg(feature = "object-store")]
const PART_SIZE: usize = 5 * 1024 * 1024;

/// What to download: a task (it must have SUCCEEDED), or a task id (the task is fetched first).
#[derive(Clone, PartialEq)]
pub enum DownloadSource {
    /// A task snapshot, e.g. what [`Client::wait`] returned.
    Task(Box<Task>),
    /// A task id: the task is fetched, and must have SUCCEEDED.
    Id(TaskId),
}

impl fmt::Debug for DownloadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Task(task) => f.debug_tuple("Task").field(task).finish(),
            Self::Id(id) => f.debug_tuple("Id").field(id).finish(),
        }
    }
}

impl DownloadSource {
    fn id(&self) -> &TaskId {
        match self {
            Self::Task(task) => &task.id,
            Self::Id(id) => id,
        }
    }
}

impl From<Task> for DownloadSource {
    fn from(task: Task) -> Self {
        Self::Task(Box::new(task))
    }
}

impl From<&Task> for DownloadSource {
    fn from(task: &Task) -> Self {
        Self::Task(Box::new(task.clone()))
    }
}

impl From<TaskId> for DownloadSource {
    fn from(id: TaskId) -> Self {
        Self::Id(id)
    }
}

impl From<&TaskId> for DownloadSource {
    fn from(id: &TaskId) -> Self {
        Self::Id(id.clone())
    }
}

impl From<&CreatedTask> for DownloadSource {
    fn from(task: &CreatedTask) -> Self {
        Self::Id(task.id.clone())
    }
}

/// Where one download stands; handed to [`Download::on_progress`] as bytes arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadProgress {
    /// Which output (index into [`Task::output`]).
    pub output: usize,
    /// How many outputs this download saves.
    pub outputs: usize,
    /// Bytes of this output written so far (a resumed download starts where it was).
    pub bytes: u64,
    /// The output's length, once the storage host said.
    pub total: Option<u64>,
}

type ProgressFn = Arc<dyn Fn(&DownloadProgress) + Send + Sync>;

/// Where a saved output went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A file, under its final name.
    Path(PathBuf),
    /// The writer given to [`Download::to_writer`].
    Writer,
    /// An object in the store given to `Download::to_object_store`.
    Object(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(f, "{}", path.display()),
            Self::Writer => f.write_str("(writer)"),
            Self::Object(path) => f.write_str(path),
        }
    }
}

/// One output, saved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedOutput {
    /// Its index in [`Task::output`].
    pub index: usize,
    /// Where it is.
    pub location: Location,
    /// Its length in bytes.
    pub bytes: u64,
    /// The SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
    /// The content type the storage host gave, if any.
    pub content_type: Option<String>,
}

/// What [`Client::download`] saved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Downloaded {
    /// The task.
    pub task_id: TaskId,
    /// One entry per output saved, in output order.
    pub files: Vec<SavedOutput>,
}

/// What went wrong while saving an output (see [`DownloadError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadErrorKind {
    /// The task has not succeeded (or has no outputs): there is nothing to download yet.
    NotSucceeded(TaskStatus),
    /// The task has no output with this index.
    NoSuchOutput(usize),
    /// The task has several outputs and the destination takes one: pick it with
    /// [`Download::output`].
    SeveralOutputs(usize),
    /// The destination file exists; [`Download::overwrite`] replaces it.
    FileExists(PathBuf),
    /// The storage host answered this status (after retries and link refreshes where they apply).
    Status(u16),
    /// The storage host answered with a content type that is not a video.
    ContentType(String),
    /// The body's length disagreed with what the storage host announced, or a range answer did
    /// not match the request.
    Length {
        /// What was announced (or asked for).
        expected: u64,
        /// What arrived.
        got: u64,
    },
    /// The connection failed, and kept failing through every retry.
    Transport,
    /// Writing to the destination failed.
    Io,
}

/// Saving a task's output failed. Carries the task id, the output index, and the link's host
/// and path (never its query, which holds the signature).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DownloadError {
    /// The task.
    pub task_id: TaskId,
    /// Which output (index into [`Task::output`]), when one was being saved.
    pub output: Option<usize>,
    /// What went wrong.
    pub kind: DownloadErrorKind,
    /// The link's scheme, host and path (no query), when one was involved.
    pub link: Option<String>,
    /// Details (an I/O or transport error, a body excerpt), links removed.
    pub message: Option<String>,
}

impl DownloadError {
    fn new(task_id: &TaskId, output: Option<usize>, kind: DownloadErrorKind) -> Self {
        Self {
            task_id: task_id.clone(),
            output,
            kind,
            link: None,
            message: None,
        }
    }

    fn link(mut self, url: &str) -> Self {
        self.link = Some(link(url));
        self
    }

    fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    fn into_error(self) -> Error {
        Error::Download(Box::new(self))
    }

    fn hint(&self) -> &'static str {
        match &self.kind {
            DownloadErrorKind::NotSucceeded(_) => "wait for the task to succeed first",
            DownloadErrorKind::SeveralOutputs(_) => "choose one with Download::output(n)",
            DownloadErrorKind::FileExists(_) => {
                "choose another path, or replace it with overwrite(true) (--overwrite)"
            }
            DownloadErrorKind::Status(_) | DownloadErrorKind::Transport => {
                "try again later: the download resumes from the task id"
            }
            _ => "",
        }
    }
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "download of task {}", self.task_id)?;
        if let Some(n) = self.output {
            write!(f, " output {n}")?;
        }
        match &self.kind {
            DownloadErrorKind::NotSucceeded(status) => {
                write!(f, " failed: the task is {status}, not SUCCEEDED")?
            }
            DownloadErrorKind::NoSuchOutput(n) => write!(f, " failed: the task has no output {n}")?,
            DownloadErrorKind::SeveralOutputs(n) => write!(
                f,
                " failed: the task has {n} outputs and the destination takes one"
            )?,
            DownloadErrorKind::FileExists(path) => {
                write!(f, " failed: {} already exists", path.display())?
            }
            DownloadErrorKind::Status(status) => {
                write!(f, " failed: the storage host answered HTTP {status}")?
            }
            DownloadErrorKind::ContentType(ct) => write!(
                f,
                " failed: the storage host answered {ct:?}, not a video (an error page?)"
            )?,
            DownloadErrorKind::Length { expected, got } => write!(
                f,
                " failed: expected {expected} bytes, got {got} (the file on the server changed, or \
                 the answer was cut)"
            )?,
            DownloadErrorKind::Transport => f.write_str(" failed in transit")?,
            DownloadErrorKind::Io => f.write_str(" failed: could not write the destination")?,
        }
        if let Some(link) = &self.link {
            write!(f, " ({link})")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        let hint = self.hint();
        if !hint.is_empty() {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

/// A download being configured; see [`Client::download`]. Finish it with [`Download::to`],
/// [`Download::to_writer`] or `Download::to_object_store` (feature `object-store`).
#[must_use = "a download does nothing until .to(…), .to_writer(…) or .to_object_store(…) is awaited"]
pub struct Download<'a> {
    client: &'a Client,
    source: DownloadSource,
    overwrite: bool,
    output: Option<usize>,
    retry: RetryPolicy,
    max_refreshes: u32,
    progress: Option<ProgressFn>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for Download<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("source", &self.source)
            .field("overwrite", &self.overwrite)
            .field("output", &self.output)
            .field("retry", &self.retry)
            .field("max_refreshes", &self.max_refreshes)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Saves a task's outputs: pass a SUCCEEDED [`Task`] (e.g. what [`Client::wait`] returned),
    /// or a [`TaskId`] (the task is fetched first). Nothing happens until a destination is
    /// awaited: [`Download::to`] (a file or a directory), [`Download::to_writer`], or
    /// `Download::to_object_store` (feature `object-store`). See the [module](crate::download)
    /// for what is checked, retried and resumed.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// // A task created earlier: its outputs go to ./videos/<task-id>.mp4, with progress.
    /// let saved = client
    ///     .download(&id)
    ///     .on_progress(|p| eprint!("\r{} / {:?} bytes", p.bytes, p.total))
    ///     .to("videos/")
    ///     .await?;
    /// println!("{} sha256 {}", saved.files[0].location, saved.files[0].sha256);
    /// # Ok(()) }
    /// ```
    pub fn download(&self, task: impl Into<DownloadSource>) -> Download<'_> {
        Download {
            client: self,
            source: task.into(),
            overwrite: false,
            output: None,
            retry: RetryPolicy::default().max_retries(5),
            max_refreshes: 3,
            progress: None,
            http: None,
        }
    }
}

impl<'a> Download<'a> {
    /// Replace an existing file at the destination (default: refuse, with
    /// [`DownloadErrorKind::FileExists`]).
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// Save only output `n` (an index into [`Task::output`]); default: every output.
    pub fn output(mut self, n: usize) -> Self {
        self.output = Some(n);
        self
    }

    /// How failed attempts are retried. Default: 5 retries without progress, exponential
    /// backoff from 500 ms; an attempt that wrote bytes resets the count (the next one resumes).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many times in a row (without progress in between) an expired or refused link is
    /// replaced by a fresh one from the task; default 3.
    pub fn max_refreshes(mut self, refreshes: u32) -> Self {
        self.max_refreshes = refreshes;
        self
    }

    /// Called as bytes arrive (and once when each output starts), e.g. to draw a progress bar.
    /// Keep it quick: it runs on the download's task.
    pub fn on_progress(mut self, f: impl Fn(&DownloadProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Use this HTTP client for the storage host (its proxy, TLS and timeout settings). It must
    /// not add credentials of its own; the default client follows redirects, times out a connect
    /// after 10 s and a silent read after 30 s, and never decompresses (ranges are byte ranges).
    /// The default client is made on the first download and kept by the [`Client`] (and its
    /// clones), so its connections are reused from one download to the next.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Saves to a file or a directory, created if needed. `path` is a directory when it exists as
    /// one or ends with a separator: output 0 becomes `<dir>/<task-id>.<ext>`, output `n ≥ 1`
    /// `<dir>/<task-id>-<n>.<ext>` (the extension from the link, else the content type, else
    /// `mp4`). Otherwise it is the file for output 0, and output `n ≥ 1` goes next to it as
    /// `<stem>-<n>.<ext>`.
    pub async fn to(self, path: impl AsRef<Path>) -> Result<Downloaded, Error> {
        let path = path.as_ref().to_owned();
        let mut run = Run::start(self).await?;
        let id = run.id.clone();
        let is_dir = path.is_dir() || path.as_os_str().to_string_lossy().ends_with(['/', '\\']);
        let mut plans = Vec::new();
        for &index in &run.indices {
            let target = if is_dir {
                let ext = extension(&run.links[index]).unwrap_or("mp4");
                path.join(numbered(id.as_str(), index, ext))
            } else if index == 0 {
                path.clone()
            } else {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                let ext = path
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
                    .or_else(|| extension(&run.links[index]).map(str::to_owned))
                    .unwrap_or_else(|| "mp4".to_owned());
                path.with_file_name(numbered(
                    stem.as_deref().unwrap_or(id.as_str()),
                    index,
                    &ext,
                ))
            };
            // Refuse before any byte is fetched.
            if !run.overwrite && tokio::fs::try_exists(&target).await.unwrap_or(false) {
                return Err(DownloadError::new(
                    &id,
                    Some(index),
                    DownloadErrorKind::FileExists(target),
                )
                .into_error());
            }
            plans.push((index, target));
        }
        let mut files = Vec::new();
        for (index, target) in plans {
            let mut sink = FileSink::create(&target, &id, index).await?;
            let fetched = match run.fetch(index, &mut sink).await {
                Ok(fetched) => fetched,
                Err(error) => {
                    // Gone before this returns: no temporary file outlives a failed download.
                    sink.abort().await;
                    return Err(error);
                }
            };
            sink.commit(run.overwrite, &id, index).await?;
            files.push(fetched.saved(index, Location::Path(target)));
        }
        Ok(Downloaded { task_id: id, files })
    }

    /// Streams one output into `writer` (flushed at the end, not closed): output 0, or the one
    /// chosen with [`Download::output`]. A task with several outputs needs that choice. A
    /// download that is retried after a drop resumes: the writer never sees a byte twice.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, task: lowcodeapi_runwayml::Task) -> Result<(), lowcodeapi_runwayml::Error> {
    /// let mut video = Vec::new(); // any tokio AsyncWrite: a socket, a pipe, a file
    /// let saved = client.download(&task).to_writer(&mut video).await?;
    /// assert_eq!(saved.bytes, video.len() as u64);
    /// # Ok(()) }
    /// ```
    pub async fn to_writer<W>(self, writer: &mut W) -> Result<SavedOutput, Error>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        let mut run = Run::start(self).await?;
        let index = run.single_output()?;
        let mut sink = WriterSink { writer };
        let fetched = run.fetch(index, &mut sink).await?;
        sink.writer
            .flush()
            .await
            .map_err(|e| io_error(&run.id, index, &e))?;
        Ok(fetched.saved(index, Location::Writer))
    }

    /// Streams one output into an object store (S3, GCS, Azure, local files, memory) at
    /// `location`, as a multipart upload: memory holds one part (5 MiB) plus the parts in
    /// flight, whatever the video's size. Output 0, or the one chosen with [`Download::output`].
    /// On error the upload is aborted: no partial object is left.
    #[cfg(feature = "object-store")]
    pub async fn to_object_store(
        self,
        store: &dyn object_store::ObjectStore,
        location: &object_store::path::Path,
    ) -> Result<SavedOutput, Error> {
        let mut run = Run::start(self).await?;
        let index = run.single_output()?;
        let id = run.id.clone();
        let mut sink = StoreSink {
            store,
            location,
            upload: None,
        };
        match run.fetch(index, &mut sink).await {
            Ok(fetched) => {
                sink.finish(&id, index).await?;
                Ok(fetched.saved(index, Location::Object(location.to_string())))
            }
            Err(error) => {
                if let Some(upload) = sink.upload.take() {
                    let _ = upload.abort().await;
                }
                Err(error)
            }
        }
    }
}

/// `<base>.<ext>` for output 0, `<base>-<n>.<ext>` after.
fn numbered(base: &str, index: usize, ext: &str) -> String {
    if index == 0 {
        format!("{base}.{ext}")
    } else {
        format!("{base}-{index}.{ext}")
    }
}

/// The link's file extension, when it is a short alphanumeric one.
fn extension(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(ext)
}

/// When the link's `_jwt` says it expires (unix seconds), if it says.
fn link_expiry(url: &str) -> Option<u64> {
    use base64::Engine as _;
    let parsed = url::Url::parse(url).ok()?;
    let (_, jwt) = parsed.query_pairs().find(|(k, _)| k == "_jwt")?;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_f64().map(|exp| exp.max(0.0) as u64)
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The default storage-host client of `client` (made once, shared by its clones): no token
/// hook, no decompression, redirects followed.
fn storage_client(client: &Client) -> Result<reqwest::Client, Error> {
    let slot = &client.state().storage;
    if let Some(http) = slot.get() {
        return Ok(http.clone());
    }
    let tls = crate::tls::client_config()
        .map_err(|e| Error::config(format!("cannot set up TLS (rustls): {e}")))?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .no_gzip()
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|e| {
            Error::config(format!(
                "cannot build the download HTTP client: {}",
                e.without_url()
            ))
        })?;
    Ok(slot.get_or_init(|| client).clone())
}

fn io_error(id: &TaskId, index: usize, error: &std::io::Error) -> Error {
    DownloadError::new(id, Some(index), DownloadErrorKind::Io)
        .message(error.to_string())
        .into_error()
}

/// A reqwest error's message and causes, without its URL.
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), &link(url.as_str()));
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A download in progress: the task, its current links, and the settings.
struct Run<'a> {
    client: &'a Client,
    http: reqwest::Client,
    id: TaskId,
    links: Vec<String>,
    /// Whether `links` were fetched by this download (so not worth refreshing for a stale `exp`).
    fresh: bool,
    indices: Vec<usize>,
    selected: Option<usize>,
    overwrite: bool,
    retry: RetryPolicy,
    max_refreshes: u32,
    progress: Option<ProgressFn>,
}

/// What fetching one output produced.
struct Fetched {
    bytes: u64,
    sha256: String,
    content_type: Option<String>,
}

impl Fetched {
    fn saved(self, index: usize, location: Location) -> SavedOutput {
        SavedOutput {
            index,
            location,
            bytes: self.bytes,
            sha256: self.sha256,
            content_type: self.content_type,
        }
    }
}

/// How one attempt ended, when it did not finish the output.
enum Attempt {
    /// Worth another try (after a backoff), resuming: what happened, and the server's
    /// `Retry-After`.
    Retry(String, Option<Duration>),
    /// The link was refused or expired: fetch fresh links.
    Refresh(u16),
}

impl<'a> Run<'a> {
    async fn start(download: Download<'a>) -> Result<Run<'a>, Error> {
        let http = match download.http {
            Some(http) => http,
            None => storage_client(download.client)?,
        };
        let id = download.source.id().clone();
        let (task, fresh) = match download.source {
            DownloadSource::Task(task) => (*task, false),
            DownloadSource::Id(id) => (fetch_task(download.client, &id).await?, true),
        };
        check_succeeded(&task)?;
        let indices = match download.output {
            Some(n) if n >= task.output.len() => {
                return Err(
                    DownloadError::new(&id, Some(n), DownloadErrorKind::NoSuchOutput(n))
                        .into_error(),
                );
            }
            Some(n) => vec![n],
            None => (0..task.output.len()).collect(),
        };
        Ok(Run {
            client: download.client,
            http,
            id,
            links: task.output,
            fresh,
            indices,
            selected: download.output,
            overwrite: download.overwrite,
            retry: download.retry,
            max_refreshes: download.max_refreshes,
            progress: download.progress,
        })
    }

    /// The one output a single-object destination takes.
    fn single_output(&self) -> Result<usize, Error> {
        match (self.selected, self.links.len()) {
            (Some(n), _) => Ok(n),
            (None, 1) => Ok(0),
            (None, n) => {
                Err(
                    DownloadError::new(&self.id, None, DownloadErrorKind::SeveralOutputs(n))
                        .into_error(),
                )
            }
        }
    }

    /// Fresh links from the task.
    async fn refresh(&mut self) -> Result<(), Error> {
        let task = fetch_task(self.client, &self.id).await?;
        check_succeeded(&task)?;
        if task.output.len() != self.links.len() {
            tracing::warn!(task = %self.id, before = self.links.len(), now = task.output.len(), "the task's output count changed");
        }
        for &index in &self.indices {
            if index >= task.output.len() {
                return Err(DownloadError::new(
                    &self.id,
                    Some(index),
                    DownloadErrorKind::NoSuchOutput(index),
                )
                .into_error());
            }
        }
        self.links = task.output;
        self.fresh = true;
        Ok(())
    }

    fn report(&self, index: usize, bytes: u64, total: Option<u64>) {
        if let Some(progress) = &self.progress {
            progress(&DownloadProgress {
                output: index,
                outputs: self.indices.len(),
                bytes,
                total,
            });
        }
    }

    /// Fetches output `index` into `sink`, retrying, resuming and refreshing links as needed.
    async fn fetch(&mut self, index: usize, sink: &mut dyn Sink) -> Result<Fetched, Error> {
        let mut state = State {
            hasher: HashPipe::new(),
            written: 0,
            total: None,
            content_type: None,
        };
        let mut failures = 0u32;
        let mut refreshes = 0u32;
        loop {
            let url = self.links[index].clone();
            if !self.fresh && link_expiry(&url).is_some_and(|exp| exp <= now_unix() + EXPIRY_MARGIN)
            {
                tracing::debug!(task = %self.id, output = index, link = %link(&url), "output link expired; fetching fresh links");
                self.refresh().await?;
                continue;
            }
            let before = state.written;
            let outcome = self.attempt(index, &url, sink, &mut state).await?;
            let Some(outcome) = outcome else {
                self.report(index, state.written, state.total);
                let digest = state
                    .hasher
                    .finish()
                    .await
                    .map_err(|e| io_error(&self.id, index, &e))?;
                return Ok(Fetched {
                    bytes: state.written,
                    sha256: hex(&digest),
                    content_type: state.content_type,
                });
            };
            if state.written > before {
                failures = 0;
                refreshes = 0;
            }
            match outcome {
                Attempt::Refresh(status) => {
                    refreshes += 1;
                    if refreshes > self.max_refreshes {
                        return Err(DownloadError::new(
                            &self.id,
                            Some(index),
                            DownloadErrorKind::Status(status),
                        )
                        .link(&url)
                        .message("the link was refused even after fetching fresh links")
                        .into_error());
                    }
                    tracing::debug!(task = %self.id, output = index, status, link = %link(&url), "output link refused; fetching fresh links");
                    self.refresh().await?;
                }
                Attempt::Retry(why, retry_after) => {
                    failures += 1;
                    if failures > self.retry.get_max_retries() {
                        let kind = why
                            .strip_prefix("HTTP ")
                            .and_then(|s| s.parse().ok())
                            .map_or(DownloadErrorKind::Transport, DownloadErrorKind::Status);
                        return Err(DownloadError::new(&self.id, Some(index), kind)
                            .link(&url)
                            .message(format!("{why} (gave up after {} attempts)", failures))
                            .into_error());
                    }
                    let mut pause = self.retry.backoff(failures - 1);
                    if let Some(after) = retry_after {
                        pause = pause.max(after.min(self.retry.get_max_retry_after()));
                    }
                    tracing::debug!(task = %self.id, output = index, written = state.written, error = %why, pause_ms = pause.as_millis() as u64, "download attempt failed; resuming after a pause");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// One request. `Ok(None)`: the output is complete.
    async fn attempt(
        &self,
        index: usize,
        url: &str,
        sink: &mut dyn Sink,
        state: &mut State,
    ) -> Result<Option<Attempt>, Error> {
        let id = &self.id;
        let mut request = self.http.get(url);
        if state.written > 0 {
            request = request.header(http::header::RANGE, format!("bytes={}-", state.written));
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Ok(Some(Attempt::Retry(describe(&e), None))),
        };
        let status = response.status().as_u16();
        let headers = response.headers();
        let retry_after = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        match status {
            200 | 206 => {}
            401 | 403 => return Ok(Some(Attempt::Refresh(status))),
            404 | 410 => {
                // The link's object is gone: if the task is gone too, say that.
                fetch_task(self.client, id).await?;
                return Err(
                    DownloadError::new(id, Some(index), DownloadErrorKind::Status(status))
                        .link(url)
                        .message("the task exists but its output is not on the storage host")
                        .into_error(),
                );
            }
            416 => {
                let total = headers
                    .get(http::header::CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes */"))
                    .and_then(|v| v.trim().parse::<u64>().ok());
                // Everything had arrived before the connection dropped.
                if total == Some(state.written) && state.written > 0 {
                    state.total = total;
                    return Ok(None);
                }
                return Err(DownloadError::new(
                    id,
                    Some(index),
                    DownloadErrorKind::Length {
                        expected: total.unwrap_or(0),
                        got: state.written,
                    },
                )
                .link(url)
                .message("the storage host refused the range asked for")
                .into_error());
            }
            408 | 429 | 500..=599 => {
                return Ok(Some(Attempt::Retry(format!("HTTP {status}"), retry_after)));
            }
            _ => {
                return Err(
                    DownloadError::new(id, Some(index), DownloadErrorKind::Status(status))
                        .link(url)
                        .into_error(),
                );
            }
        }
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        if let Some(ct) = &content_type
            && !is_video_type(ct)
        {
            return Err(DownloadError::new(
                id,
                Some(index),
                DownloadErrorKind::ContentType(crate::redact::excerpt(ct.as_bytes(), 100, None)),
            )
            .link(url)
            .into_error());
        }
        state.content_type = content_type;
        let length = response.content_length();
        // Bytes of this answer to drop before writing: a writer cannot rewind, so a full answer
        // to a range request is skipped up to where it stands.
        let mut skip = 0u64;
        if status == 206 {
            let range = headers
                .get(http::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_content_range);
            match range {
                Some((start, _, total)) if start == state.written => {
                    if total.is_some() {
                        state.total = total;
                    }
                }
                _ => {
                    return Err(DownloadError::new(
                        id,
                        Some(index),
                        DownloadErrorKind::Length {
                            expected: state.written,
                            got: range.map_or(0, |(start, _, _)| start),
                        },
                    )
                    .link(url)
                    .message("the range answered does not start where the download stands")
                    .into_error());
                }
            }
        } else {
            if state.written > 0 {
                if sink.restart().await.map_err(|e| io_error(id, index, &e))? {
                    tracing::debug!(task = %id, output = index, "the storage host ignored the range; starting over");
                    state.written = 0;
                    state.hasher.reset().await;
                } else {
                    skip = state.written;
                }
            }
            state.total = length;
        }
        self.report(index, state.written, state.total);
        let mut response = response;
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Ok(Some(Attempt::Retry(describe(&e), None))),
            };
            let mut bytes = chunk;
            if skip > 0 {
                let n = skip.min(bytes.len() as u64) as usize;
                bytes = bytes.slice(n..);
                skip -= n as u64;
            }
            if bytes.is_empty() {
                continue;
            }
            if let Some(total) = state.total
                && state.written + bytes.len() as u64 > total
            {
                return Err(DownloadError::new(
                    id,
                    Some(index),
                    DownloadErrorKind::Length {
                        expected: total,
                        got: state.written + bytes.len() as u64,
                    },
                )
                .link(url)
                .into_error());
            }
            let len = bytes.len() as u64;
            state.hasher.update(bytes.clone()).await;
            sink.write(bytes)
                .await
                .map_err(|e| io_error(id, index, &e))?;
            state.written += len;
            self.report(index, state.written, state.total);
        }
        match state.total {
            Some(total) if state.written < total => Ok(Some(Attempt::Retry(
                format!("the answer ended at {} of {total} bytes", state.written),
                None,
            ))),
            _ if skip > 0 => Ok(Some(Attempt::Retry(
                "the full answer to a range request was shorter than what was already saved"
                    .to_owned(),
                None,
            ))),
            _ => Ok(None),
        }
    }
}

struct State {
    /// SHA-256 of what was written, on a thread of its own (receiving and hashing overlap).
    hasher: HashPipe,
    written: u64,
    total: Option<u64>,
    content_type: Option<String>,
}

/// Fetches the task, turning "not found" into [`Error::TaskGone`].
async fn fetch_task(client: &Client, id: &TaskId) -> Result<Task, Error> {
    match client.get_task(id).await {
        Ok(task) => Ok(task),
        Err(e) if e.is_not_found() => Err(Error::TaskGone {
            task_id: id.clone(),
        }),
        Err(e) => Err(e),
    }
}

fn check_succeeded(task: &Task) -> Result<(), Error> {
    if task.status != TaskStatus::Succeeded || task.output.is_empty() {
        return Err(DownloadError::new(
            &task.id,
            None,
            DownloadErrorKind::NotSucceeded(task.status.clone()),
        )
        .into_error());
    }
    Ok(())
}

/// `video/*`, or the generic binary types storage hosts use for objects uploaded without one.
fn is_video_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("video/")
        || essence == "application/octet-stream"
        || essence == "binary/octet-stream"
}

/// `bytes start-end/total` (total may be `*`).
fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start.trim().parse().ok()?, end.trim().parse().ok()?, total))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Where bytes go.
trait Sink: Send {
    fn write(&mut self, bytes: Bytes) -> futures::future::BoxFuture<'_, std::io::Result<()>>;
    /// Starts over from byte 0; `false` when this destination cannot (the bytes are then skipped).
    fn restart(&mut self) -> futures::future::BoxFuture<'_, std::io::Result<bool>>;
}

struct WriterSink<'w, W: ?Sized> {
    writer: &'w mut W,
}

impl<W: AsyncWrite + Unpin + Send + ?Sized> Sink for WriterSink<'_, W> {
    fn write(&mut self, bytes: Bytes) -> futures::future::BoxFuture<'_, std::io::Result<()>> {
        Box::pin(async move { self.writer.write_all(&bytes).await })
    }

    fn restart(&mut self) -> futures::future::BoxFuture<'_, std::io::Result<bool>> {
        Box::pin(async { Ok(false) })
    }
}

/// A temporary file next to the target, renamed over it once complete; written on a thread of
/// its own ([`FileWriter`]). Removed if dropped before.
struct FileSink {
    writer: FileWriter,
    temp: PathBuf,
    target: PathBuf,
}

impl FileSink {
    async fn create(target: &Path, id: &TaskId, index: usize) -> Result<FileSink, Error> {
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error(id, index, &e).with_path(&dir))?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| id.to_string());
        let temp = dir.join(format!(".{name}.{:016x}.part", rand::random::<u64>()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(|e| io_error(id, index, &e).with_path(&temp))?;
        let writer = FileWriter::start(file.into_std().await, temp.clone());
        Ok(FileSink {
            writer,
            temp,
            target: target.to_owned(),
        })
    }

    /// Stops writing and removes the temporary file (waiting until it is gone).
    async fn abort(&mut self) {
        self.writer.abort().await;
    }

    /// Flushes the data to disk and moves it under its final name (refusing to replace an
    /// existing file unless `overwrite`).
    async fn commit(&mut self, overwrite: bool, id: &TaskId, index: usize) -> Result<(), Error> {
        let io = |e: std::io::Error, path: &Path| io_error(id, index, &e).with_path(path);
        self.writer.commit().await.map_err(|e| io(e, &self.temp))?;
        let result = self.publish(overwrite, id, index).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&self.temp).await;
        }
        result
    }

    /// Moves the complete temporary file under its final name.
    async fn publish(&self, overwrite: bool, id: &TaskId, index: usize) -> Result<(), Error> {
        let io = |e: std::io::Error, path: &Path| io_error(id, index, &e).with_path(path);
        if overwrite {
            tokio::fs::rename(&self.temp, &self.target)
                .await
                .map_err(|e| io(e, &self.target))?;
        } else {
            // A hard link fails if the target exists, atomically; then the temporary name goes.
            match tokio::fs::hard_link(&self.temp, &self.target).await {
                Ok(()) => {
                    let _ = tokio::fs::remove_file(&self.temp).await;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(DownloadError::new(
                        id,
                        Some(index),
                        DownloadErrorKind::FileExists(self.target.clone()),
                    )
                    .into_error());
                }
                // No hard links here (some network and FAT file systems): check, then rename.
                Err(_) => {
                    if tokio::fs::try_exists(&self.target).await.unwrap_or(false) {
                        return Err(DownloadError::new(
                            id,
                            Some(index),
                            DownloadErrorKind::FileExists(self.target.clone()),
                        )
                        .into_error());
                    }
                    tokio::fs::rename(&self.temp, &self.target)
                        .await
                        .map_err(|e| io(e, &self.target))?;
                }
            }
        }
        // Make the rename itself durable (best effort: not every platform can open a directory).
        if let Some(dir) = self.target.parent() {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            if let Ok(handle) = tokio::fs::File::open(dir).await {
                let _ = handle.sync_all().await;
            }
        }
        Ok(())
    }
}

impl Sink for FileSink {
    fn write(&mut self, bytes: Bytes) -> futures::future::BoxFuture<'_, std::io::Result<()>> {
        Box::pin(self.writer.write(bytes))
    }

    fn restart(&mut self) -> futures::future::BoxFuture<'_, std::io::Result<bool>> {
        Box::pin(async move { self.writer.restart().await.map(|()| true) })
    }
}

#[cfg(feature = "object-store")]
struct StoreSink<'s> {
    store: &'s dyn object_store::ObjectStore,
    location: &'s object_store::path::Path,
    upload: Option<object_store::WriteMultipart>,
}

#[cfg(feature = "object-store")]
impl StoreSink<'_> {
    async fn finish(&mut self, id: &TaskId, index: usize) -> Result<(), Error> {
        let store_error = |e: object_store::Error| {
            DownloadError::new(id, Some(index), DownloadErrorKind::Io)
                .message(e.to_string())
                .into_error()
        };
        let upload = match self.upload.take() {
            Some(upload) => upload,
            // An empty output: still an object.
            None => open_upload(self.store, self.location)
                .await
                .map_err(|e| io_error(id, index, &e))?,
        };
        upload.finish().await.map_err(store_error)?;
        Ok(())
    }
}

#[cfg(feature = "object-store")]
async fn open_upload(
    store: &dyn object_store::ObjectStore,
    location: &object_store::path::Path,
) -> std::io::Result<object_store::WriteMultipart> {
    let upload = store
        .put_multipart_opts(location, object_store::PutMultipartOptions::default())
        .await
        .map_err(std::io::Error::other)?;
    Ok(object_store::WriteMultipart::new_with_chunk_size(
        upload, PART_SIZE,
    ))
}

#[cfg(feature = "object-store")]
impl Sink for StoreSink<'_> {
    fn write(&mut self, bytes: Bytes) -> futures::future::BoxFuture<'_, std::io::Result<()>> {
        Box::pin(async move {
            if self.upload.is_none() {
                self.upload = Some(open_upload(self.store, self.location).await?);
            }
            let upload = self.upload.as_mut().expect("opened above");
            // At most two parts in flight: memory stays at a few parts whatever the size.
            upload
                .wait_for_capacity(2)
                .await
                .map_err(std::io::Error::other)?;
            upload.write(&bytes);
            Ok(())
        })
    }

    fn restart(&mut self) -> futures::future::BoxFuture<'_, std::io::Result<bool>> {
        Box::pin(async { Ok(false) })
    }
}

impl Error {
    /// Adds the path to an I/O download error's message.
    fn with_path(self, path: &Path) -> Error {
        match self {
            Error::Download(mut e) => {
                let message = e.message.take().unwrap_or_default();
                e.message = Some(format!("{}: {message}", path.display()));
                Error::Download(e)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn jwt_link(exp: u64) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "http://127.0.0.1:9/outputs/t/0.mp4?_jwt={}.{}.c2ln",
            enc(r#"{"alg":"HS256"}"#),
            enc(&format!(r#"{{"exp":{exp},"task":"t","n":0}}"#))
        )
    }

    #[test]
    fn the_expiry_is_read_from_the_jwt() {
        assert_eq!(link_expiry(&jwt_link(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(link_expiry("https://cdn.example/a.mp4?sig=x"), None);
        assert_eq!(link_expiry("https://cdn.example/a.mp4?_jwt=garbage"), None);
    }

    #[test]
    fn content_types() {
        for ok in [
            "video/mp4",
            "Video/MP4; codecs=avc1",
            "application/octet-stream",
            "binary/octet-stream",
        ] {
            assert!(is_video_type(ok), "{ok}");
        }
        for bad in [
            "text/html",
            "application/xml",
            "application/json",
            "image/png",
        ] {
            assert!(!is_video_type(bad), "{bad}");
        }
    }

    #[test]
    fn content_ranges_and_names() {
        assert_eq!(
            parse_content_range("bytes 10-99/100"),
            Some((10, 99, Some(100)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, 9, None)));
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(extension("https://h/x/0.mp4?_jwt=a.b.c"), Some("mp4"));
        assert_eq!(extension("https://h/x/video?_jwt=a.b"), None);
        assert_eq!(numbered("id", 0, "mp4"), "id.mp4");
        assert_eq!(numbered("id", 2, "webm"), "id-2.webm");
    }
}
