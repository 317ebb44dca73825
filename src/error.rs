//! One error type for everything the SDK can report.
//!
//! Every variant says what happened and what to do, in one line. Errors raised after a task was
//! created carry its [`TaskId`] ([`Error::task_id`]), so nothing the caller paid for is lost. No
//! variant ever holds the API token: messages and body excerpts are redacted.

use std::fmt;
use std::time::Duration;

use crate::envelope::Dialect;
use crate::image_to_video::ValidationError;
use crate::media::MediaError;
use crate::task::{Task, TaskId};

/// Every failure of this crate.
///
/// Match the variants that need their own handling, and ask the rest the questions a caller
/// decides by ([`is_retryable`](Error::is_retryable), [`task_id`](Error::task_id), ...):
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
/// use lowcodeapi_runwayml::Error;
/// match client.wait(&id).await {
///     Ok(task) => println!("done: {:?}", task.first_output()),
///     Err(Error::TaskFailed(task)) => eprintln!("failed: {:?}", task.failure_code),
///     Err(error) if error.is_retryable() => eprintln!("try again later: {error}"),
///     Err(error) => eprintln!("{error} (task {:?})", error.task_id()),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client could not be configured (missing token, bad base URL, ...).
    #[error("configuration error: {message}")]
    Config {
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A task id was rejected before any request was sent.
    #[error("invalid task id {id:?}: {reason}")]
    InvalidTaskId {
        /// The id, shortened.
        id: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The image_to_video request broke one or more rules; nothing was sent.
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// An image could not be turned into a media URI; nothing was sent.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// LowCodeAPI or Runway answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request did not complete: connection refused, DNS failure, timeout, reset.
    #[error("{0}")]
    Transport(Box<TransportError>),
    /// A success answer whose body could not be understood.
    #[error("{0}")]
    Decode(Box<DecodeError>),
    /// The task ended as FAILED.
    #[error("task {} failed{}: {}", .0.id, .0.failure_code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default(), .0.failure.as_deref().unwrap_or("no reason given"))]
    TaskFailed(Box<Task>),
    /// The task ended as CANCELLED.
    #[error("task {} was cancelled", .0.id)]
    TaskCancelled(Box<Task>),
    /// The task no longer exists (Runway answers 404 for deleted and cancelled tasks).
    #[error(
        "task {task_id} is gone: Runway no longer knows it (deleted, cancelled, or never created with this key)"
    )]
    TaskGone {
        /// The task.
        task_id: TaskId,
    },
    /// Waiting gave up; the task may still be running and can be waited on again.
    ///
    /// Its message says only what is known: the last status if a poll answered, that none did
    /// otherwise, and whether a cancel was requested.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Error, TaskId};
    /// let error = Error::WaitTimeout {
    ///     task_id: TaskId::parse("t1")?,
    ///     waited: Duration::from_secs(3),
    ///     last: None,
    ///     cancelled: false,
    /// };
    /// assert_eq!(
    ///     error.to_string(),
    ///     "gave up waiting for task t1 after 3.0s, before any poll answered: its status is \
    ///      unknown; wait again with its id"
    /// );
    /// # Ok::<(), Error>(())
    /// ```
    #[error("{}", wait_timeout_message(task_id, *waited, last.as_deref(), *cancelled))]
    WaitTimeout {
        /// The task.
        task_id: TaskId,
        /// How long the wait lasted.
        waited: Duration,
        /// The last snapshot seen, if any poll succeeded.
        last: Option<Box<Task>>,
        /// Whether `cancel_on_timeout` asked Runway to cancel the task.
        cancelled: bool,
    },
    /// Saving a task's output failed (see [`crate::download`]).
    #[error("{0}")]
    Download(Box<crate::download::DownloadError>),
}

/// The hint that ends [`Error::WaitTimeout`]'s message when no cancel was requested.
pub(crate) const WAIT_AGAIN: &str = "wait again with its id";

fn wait_timeout_message(
    id: &TaskId,
    waited: Duration,
    last: Option<&Task>,
    cancelled: bool,
) -> String {
    let mut message = format!(
        "gave up waiting for task {id} after {:.1}s",
        waited.as_secs_f64()
    );
    match last {
        Some(task) => message.push_str(&format!(" (last status: {})", task.status)),
        None => message.push_str(", before any poll answered: its status is unknown"),
    }
    if cancelled {
        message.push_str("; a cancel was requested");
    } else {
        if last.is_some() {
            message.push_str("; it may still be running");
        }
        message.push_str("; ");
        message.push_str(WAIT_AGAIN);
    }
    message
}

impl Error {
    /// The task this error is about, when there is one.
    ///
    /// ```
    /// use lowcodeapi_runwayml::{Error, TaskId};
    /// let id = TaskId::parse("t1")?;
    /// assert_eq!(Error::TaskGone { task_id: id.clone() }.task_id(), Some(&id));
    /// assert_eq!(TaskId::parse("a/b").unwrap_err().task_id(), None);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn task_id(&self) -> Option<&TaskId> {
        match self {
            Self::Api(e) => e.task_id.as_ref(),
            Self::Transport(e) => e.task_id.as_ref(),
            Self::Decode(e) => e.task_id.as_ref(),
            Self::TaskFailed(task) | Self::TaskCancelled(task) => Some(&task.id),
            Self::TaskGone { task_id } | Self::WaitTimeout { task_id, .. } => Some(task_id),
            Self::Download(e) => Some(&e.task_id),
            _ => None,
        }
    }

    /// The HTTP status, for errors that came with one.
    ///
    /// ```
    /// use lowcodeapi_runwayml::{Error, TaskId};
    /// // Errors raised before anything was sent have none.
    /// assert_eq!(TaskId::parse("").unwrap_err().status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::Decode(e) => Some(e.status),
            _ => None,
        }
    }

    /// The API answered 401: the token is missing or malformed.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
    /// if let Err(error) = client.get_task(&id).await {
    ///     if error.is_unauthorized() || error.is_forbidden() {
    ///         eprintln!("check LOWCODEAPI_API_TOKEN: {error}");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401)
    }

    /// The API answered 403: the token is unknown, has no Runway credential, or lacks access.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Error, TaskId};
    /// assert!(!Error::TaskGone { task_id: TaskId::parse("t1")? }.is_forbidden());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// The thing asked for does not exist (Runway's 404, or a task that is gone). A routing miss
    /// (the server does not route the URL at all: a wrong base URL) is not "not found".
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Error, TaskId};
    /// assert!(Error::TaskGone { task_id: TaskId::parse("t1")? }.is_not_found());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn is_not_found(&self) -> bool {
        match self {
            Self::TaskGone { .. } => true,
            Self::Api(e) => e.status == 404 && !e.routing_miss,
            _ => false,
        }
    }

    /// The API answered 429.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
    /// if let Err(error) = client.get_task(&id).await
    ///     && error.is_rate_limited()
    /// {
    ///     let pause = error.retry_after().unwrap_or(std::time::Duration::from_secs(10));
    ///     tokio::time::sleep(pause).await;
    /// }
    /// # }
    /// ```
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429)
    }

    /// The request timed out (the operation may or may not have happened), or a wait gave up.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Error, TaskId};
    /// let error = Error::WaitTimeout {
    ///     task_id: TaskId::parse("t1")?,
    ///     waited: Duration::from_secs(600),
    ///     last: None,
    ///     cancelled: false,
    /// };
    /// assert!(error.is_timeout());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(e) if e.kind == TransportKind::Timeout)
            || matches!(self, Self::WaitTimeout { .. })
    }

    /// Trying the same call again later may succeed and is safe (429, 502, 503, 504, transport
    /// failures), except for a create that [may have created its task](Self::may_have_created_task):
    /// sending it again could create, and bill, a second task.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Error, TaskId};
    /// // A task that is gone will not come back.
    /// assert!(!Error::TaskGone { task_id: TaskId::parse("t1")? }.is_retryable());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn is_retryable(&self) -> bool {
        if self.may_have_created_task() {
            return false;
        }
        match self {
            Self::Api(e) => matches!(e.status, 429 | 502 | 503 | 504),
            Self::Transport(e) => !e.kind.is_refusal(),
            _ => false,
        }
    }

    /// A create (`image_to_video`) failed after its request was sent, in a way that does not say
    /// whether Runway created the task: a timeout, a connection lost mid-answer, a gateway
    /// error (502, 503, 504), or a success answer whose body could not be read. The task may exist and be billed; Runway offers no way to look it up
    /// without its id, so retrying risks a duplicate.
    ///
    /// Its `Display` says so (and the `runway` CLI's `--json` error carries that message):
    ///
    /// ```
    /// # use lowcodeapi_runwayml::Error;
    /// fn report(error: &Error) {
    ///     if error.may_have_created_task() {
    ///         // The message already warns that the task may exist: do not submit it again.
    ///         eprintln!("{error}");
    ///     }
    /// }
    /// ```
    pub fn may_have_created_task(&self) -> bool {
        match self {
            Self::Transport(e) => e.may_have_created_task(),
            Self::Api(e) => e.may_have_created_task(),
            Self::Decode(e) => e.operation == "image_to_video",
            _ => false,
        }
    }

    /// How long the server asked to wait before retrying, when it said.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Error, TaskId};
    /// assert_eq!(Error::TaskGone { task_id: TaskId::parse("t1")? }.retry_after(), None);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after,
            _ => None,
        }
    }

    /// The API error details, when the server answered with an error status.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, request: lowcodeapi_runwayml::ImageToVideo) {
    /// if let Err(error) = client.image_to_video(request).await
    ///     && let Some(api) = error.api()
    /// {
    ///     for issue in &api.issues {
    ///         eprintln!("{}: {}", issue.path, issue.message);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }

    /// Names the task this error is about, for an error from a call that named one (a raw call,
    /// see [`crate::generated`]). Errors that already name their task are left as they are.
    ///
    /// ```
    /// use lowcodeapi_runwayml::{Error, TaskId, generated::RawError};
    /// let id = TaskId::parse("t1")?;
    /// let error = Error::from(RawError::InvalidRequest("bad".into())).with_task_id(&id);
    /// assert_eq!(error.task_id(), Some(&id));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn with_task_id(mut self, id: &TaskId) -> Self {
        match &mut self {
            Self::Api(e) => e.task_id = Some(id.clone()),
            Self::Transport(e) => e.task_id = Some(id.clone()),
            Self::Decode(e) => e.task_id = Some(id.clone()),
            _ => {}
        }
        self
    }

    /// A copy, for an error that must be both returned and remembered (a [`crate::Watch`]'s
    /// end). Media errors, whose I/O source cannot be copied, keep their message.
    pub(crate) fn duplicate(&self) -> Self {
        match self {
            Self::Config { message } => Self::Config {
                message: message.clone(),
            },
            Self::InvalidTaskId { id, reason } => Self::InvalidTaskId {
                id: id.clone(),
                reason: reason.clone(),
            },
            Self::Validation(e) => Self::Validation(e.clone()),
            Self::Api(e) => Self::Api(e.clone()),
            Self::Transport(e) => Self::Transport(e.clone()),
            Self::Decode(e) => Self::Decode(e.clone()),
            Self::TaskFailed(task) => Self::TaskFailed(task.clone()),
            Self::TaskCancelled(task) => Self::TaskCancelled(task.clone()),
            Self::TaskGone { task_id } => Self::TaskGone {
                task_id: task_id.clone(),
            },
            Self::WaitTimeout {
                task_id,
                waited,
                last,
                cancelled,
            } => Self::WaitTimeout {
                task_id: task_id.clone(),
                waited: *waited,
                last: last.clone(),
                cancelled: *cancelled,
            },
            other => Self::config(other.to_string()),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }
}

/// A failed raw call ([`crate::Client::raw`]) as this crate's error, so `?` converts it: the
/// status, Runway's message and issues, a bounded body excerpt with any `api_token` masked, and
/// a hint, instead of progenitor's `Error<()>` (whose message shows a placeholder URL). The
/// operation is reported as `raw call`; add the task with [`Error::with_task_id`].
///
/// ```
/// use lowcodeapi_runwayml::{Error, generated::RawError};
/// fn call() -> Result<(), RawError> {
///     Err(RawError::InvalidRequest("missing id".into()))
/// }
/// fn mine() -> Result<(), Error> {
///     call()?;
///     Ok(())
/// }
/// let error = mine().unwrap_err();
/// assert!(matches!(error, Error::Transport(_)));
/// assert!(!error.to_string().contains("no.url.provided"));
/// ```
impl<T: fmt::Debug> From<progenitor_client::Error<T>> for Error {
    fn from(error: progenitor_client::Error<T>) -> Self {
        crate::client::raw_error("raw call", error, None)
    }
}

/// One entry of Runway's `issues[]`: which field broke which rule.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, request: lowcodeapi_runwayml::ImageToVideo) {
/// if let Err(error) = client.image_to_video(request.skip_validation()).await {
///     let issues = error.api().map(|api| api.issues.as_slice()).unwrap_or_default();
///     for issue in issues {
///         eprintln!("{} ({:?}): {}", issue.path, issue.code, issue.message);
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Runway's code for the rule, e.g. `invalid_enum_value`.
    pub code: Option<String>,
    /// The field path, e.g. `["promptImage", 0, "uri"]` as `promptImage[0].uri`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// How many of Runway's issues an [`ApiError`]'s Display lists.
const DISPLAYED_ISSUES: usize = 5;

/// An error answer from LowCodeAPI or Runway, decoded from either dialect.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
/// use lowcodeapi_runwayml::Error;
/// if let Err(Error::Api(api)) = client.get_task(&id).await {
///     eprintln!("HTTP {} from {:?}: {:?}", api.status, api.dialect, api.runway_error);
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation that failed, e.g. `get_task`.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// Which LowCodeAPI dialect answered, when the body said.
    pub dialect: Option<Dialect>,
    /// LowCodeAPI's own message (hosted `data.error.message`, self-hosted `message`).
    pub message: Option<String>,
    /// Runway's `error` message, when the body carried Runway's error.
    pub runway_error: Option<String>,
    /// Runway's `issues[]`, for validation errors.
    pub issues: Vec<Issue>,
    /// Runway's `docUrl`.
    pub doc_url: Option<String>,
    /// An error code (hosted `data.error.code`, self-hosted `error.code`).
    pub code: Option<String>,
    /// How long the server asked to wait (HTTP `Retry-After`, or the self-hosted body's
    /// `headers["retry-after"]`).
    pub retry_after: Option<Duration>,
    /// The answer was a routing miss (`404 {"message":"Not Found"}` with no provider payload):
    /// this server does not route this URL at all.
    pub routing_miss: bool,
    /// The task the call was about.
    pub task_id: Option<TaskId>,
    /// A bounded, redacted excerpt of the body, for bodies that were not understood.
    pub body_excerpt: Option<String>,
}

/// What every create failure that may have created its task says.
pub(crate) const MAY_HAVE_CREATED: &str = "the task may have been created (and billed); it was not \
     submitted again to avoid a duplicate charge: do not retry blindly";

impl ApiError {
    /// A gateway error (502, 503, 504) on a create: the request reached something that may have
    /// passed it on; see [`Error::may_have_created_task`].
    fn may_have_created_task(&self) -> bool {
        self.operation == "image_to_video" && matches!(self.status, 502..=504)
    }

    /// Runway rejected the call for its `X-Runway-Version` header (missing or not valid). Clients
    /// never send that header: the LowCodeAPI server in between must, and LowCodeAPI's
    /// open-source server does not. Nothing in the request itself is wrong.
    pub fn is_runway_version_rejected(&self) -> bool {
        const NEEDLE: &[u8] = b"x-runway-version";
        self.status == 400
            && [&self.runway_error, &self.message, &self.body_excerpt]
                .into_iter()
                .flatten()
                .any(|text| {
                    text.as_bytes()
                        .windows(NEEDLE.len())
                        .any(|w| w.eq_ignore_ascii_case(NEEDLE))
                })
    }

    fn hint(&self) -> &'static str {
        match self.status {
            _ if self.routing_miss => {
                "check the base URL: it should end in /runwayml (e.g. https://api.lowcodeapi.com/runwayml)"
            }
            401 => "set LOWCODEAPI_API_TOKEN to your LowCodeAPI token (it starts with at_)",
            403 => "check the token, and that runwayml is authorized for it in LowCodeAPI",
            429 => "slow down and retry later",
            _ if self.may_have_created_task() => MAY_HAVE_CREATED,
            400 if self.is_runway_version_rejected() => {
                "Runway wants an X-Runway-Version header, which the LowCodeAPI server in between \
                 did not send (LowCodeAPI's open-source server does not): nothing in the request \
                 is wrong; the server must add the header (or use hosted LowCodeAPI)"
            }
            400 | 422 => "fix the request",
            500..=599 => "retry later",
            _ => "",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with HTTP {}", self.operation, self.status)?;
        if let Some(id) = &self.task_id {
            write!(f, " for task {id}")?;
        }
        let mut said = false;
        for text in [&self.runway_error, &self.message].into_iter().flatten() {
            if !said {
                write!(f, ": {text}")?;
                said = true;
            }
        }
        if !said && let Some(excerpt) = &self.body_excerpt {
            write!(f, ": {excerpt}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " [{code}]")?;
        }
        // The first few issues; all of them are in `issues`.
        for issue in self.issues.iter().take(DISPLAYED_ISSUES) {
            write!(f, "; {}: {}", issue.path, issue.message)?;
        }
        let more = self.issues.len().saturating_sub(DISPLAYED_ISSUES);
        if more > 0 {
            write!(f, "; and {more} more (see ApiError::issues)")?;
        }
        if let Some(after) = self.retry_after {
            write!(f, "; retry after {}s", after.as_secs_f64().ceil())?;
        }
        if let Some(url) = &self.doc_url {
            write!(f, " (see {url})")?;
        }
        let hint = self.hint();
        if !hint.is_empty() {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

/// What kind of transport failure happened.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
/// use lowcodeapi_runwayml::{Error, TransportKind};
/// if let Err(Error::Transport(e)) = client.get_task(&id).await
///     && e.kind == TransportKind::Connect
/// {
///     eprintln!("nothing was sent: check the base URL");
/// }
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made (refused, DNS failure): nothing was sent.
    Connect,
    /// The request or its answer took longer than the timeout: it may have been processed.
    Timeout,
    /// Anything else: reset connections, broken bodies, TLS failures.
    Other,
    /// The answer's body was larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes) once
    /// decompressed: reading stopped at the limit. Not retryable: the same server would send it
    /// again. A create that gets this answer was processed, and may have created its task.
    ResponseTooLarge,
    /// The server redirected the request where this client does not follow: to another origin
    /// (scheme, host or port) than the base URL's, for a create, or past the bound on redirects.
    /// Nothing was sent to the redirect's target. Not retryable; the message says where it
    /// pointed (without its query).
    RedirectRefused,
}

impl TransportKind {
    /// This client refused the answer (too large, or a redirect it does not follow).
    fn is_refusal(self) -> bool {
        matches!(self, Self::ResponseTooLarge | Self::RedirectRefused)
    }
}

/// A request that did not complete.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
/// use lowcodeapi_runwayml::Error;
/// if let Err(Error::Transport(e)) = client.get_task(&id).await {
///     eprintln!("{} ({:?}): {}", e.operation, e.kind, e.message);
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportError {
    /// The operation, e.g. `image_to_video`.
    pub operation: &'static str,
    /// What went wrong.
    pub kind: TransportKind,
    /// The underlying error, with the URL and token removed.
    pub message: String,
    /// The task the call was about.
    pub task_id: Option<TaskId>,
}

impl TransportError {
    /// A create whose request may have been sent and processed: anything but a failure to
    /// connect, or a redirect that was refused (the server answered "not here").
    fn may_have_created_task(&self) -> bool {
        self.operation == "image_to_video"
            && !matches!(
                self.kind,
                TransportKind::Connect | TransportKind::RedirectRefused
            )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "failed in transit",
            TransportKind::ResponseTooLarge => "refused the answer",
            TransportKind::RedirectRefused => "was redirected",
        };
        write!(f, "{} {what}", self.operation)?;
        if let Some(id) = &self.task_id {
            write!(f, " for task {id}")?;
        }
        write!(f, ": {}", self.message)?;
        if self.may_have_created_task() {
            write!(f, " — {MAY_HAVE_CREATED}")
        } else if self.kind == TransportKind::Connect {
            write!(f, " — check the base URL and the network")
        } else {
            Ok(())
        }
    }
}

/// A success answer whose body could not be decoded.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) {
/// use lowcodeapi_runwayml::Error;
/// if let Err(Error::Decode(e)) = client.get_task(&id).await {
///     eprintln!("HTTP {} but the body was not a task: {}", e.status, e.body_excerpt);
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The operation, e.g. `get_task`.
    pub operation: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// What the decoder said.
    pub message: String,
    /// A bounded, redacted excerpt of the body.
    pub body_excerpt: String,
    /// The task the call was about.
    pub task_id: Option<TaskId>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} answered HTTP {} with a body that could not be decoded",
            self.operation, self.status
        )?;
        if let Some(id) = &self.task_id {
            write!(f, " for task {id}")?;
        }
        write!(f, ": {}; body starts: {}", self.message, self.body_excerpt)?;
        if self.operation == "image_to_video" {
            // A success status: Runway most likely created the task, whose id is unreadable here.
            write!(f, " — {MAY_HAVE_CREATED}")?;
        }
        Ok(())
    }
}
