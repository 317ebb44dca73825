//! [`Client`]: configuration, URL-format fallback, and the task operations.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::Either;
use progenitor_client::ResponseValue;
use secrecy::SecretString;

use crate::calls::{CallOverrides, CancelTask, CreateImageToVideo, GetTask};
use crate::error::{DecodeError, Error, TransportError, TransportKind};
use crate::format::{UrlFormat, UrlFormatState};
use crate::generated;
use crate::image_to_video::{ImageToVideo, ValidationError};
use crate::redact::{excerpt, redact};
use crate::retry::RetryPolicy;
use crate::task::{Task, TaskId, TaskStatus};
use crate::transport::{CALL, CallOptions, Transport, USER_AGENT};
use crate::wait::{CancelRecord, PollSchedule, WaitDefaults};

/// The base URL of hosted LowCodeAPI's runwayml provider.
///
/// ```
/// let client = lowcodeapi_runwayml::Client::builder().api_token("at_example").build()?;
/// assert_eq!(client.base_url(), lowcodeapi_runwayml::DEFAULT_BASE_URL);
/// # Ok::<(), lowcodeapi_runwayml::Error>(())
/// ```
pub const DEFAULT_BASE_URL: &str = "https://api.lowcodeapi.com/runwayml";
/// The environment variable holding the LowCodeAPI token.
///
/// ```
/// assert_eq!(lowcodeapi_runwayml::TOKEN_ENV, "LOWCODEAPI_API_TOKEN");
/// ```
pub const TOKEN_ENV: &str = "LOWCODEAPI_API_TOKEN";
/// The environment variable that overrides the base URL.
///
/// ```
/// assert_eq!(lowcodeapi_runwayml::BASE_URL_ENV, "LOWCODEAPI_BASE_URL");
/// ```
pub const BASE_URL_ENV: &str = "LOWCODEAPI_BASE_URL";

/// A RunwayML client through LowCodeAPI. Cheap to clone (clones share connections and the
/// learned URL format), `Send + Sync`.
///
/// ```no_run
/// # async fn demo() -> Result<(), lowcodeapi_runwayml::Error> {
/// use lowcodeapi_runwayml::{Client, TaskId};
/// let client = Client::from_env()?;
/// let task = client.get_task(&TaskId::parse("17f20503-6c24-4c16-946b-35dbbce2af2f")?).await?;
/// println!("{}: {}", task.id, task.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    raw: generated::Client,
    cancel_timeout: Duration,
    /// Shared by clones: wait defaults, and the ids this client cancelled.
    state: Arc<ClientState>,
}

pub(crate) struct ClientState {
    pub(crate) wait: WaitDefaults,
    pub(crate) cancelled: CancelRecord,
    /// The storage-host client for downloads, made on the first one. Per client, not per
    /// process: a reqwest client's pooled connections belong to the runtime that made them.
    pub(crate) storage: std::sync::OnceLock<reqwest::Client>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &redact(&self.raw.baseurl, Some(self.token())))
            .field("transport", &self.raw.inner)
            .finish()
    }
}

/// What [`Client::cancel_task`] did, as far as anyone saw it.
///
/// Runway's `DELETE /v1/tasks/{id}` cancels a task that is still pending, throttled or running,
/// and *deletes* one that has finished (its outputs are gone); afterwards a `GET` answers 404
/// either way, exactly as for an id that never existed. So `cancel_task` looks at the task before
/// the `DELETE`: the outcome says what the task was when it was last seen, and a `CANCELLED`
/// status is never claimed for a task nobody saw.
///
/// ```
/// use lowcodeapi_runwayml::{CancelOutcome, TaskStatus};
/// let outcome = CancelOutcome::Deleted { was: TaskStatus::Succeeded };
/// assert!(outcome.is_confirmed());
/// assert!(!CancelOutcome::NotFound.is_confirmed());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelOutcome {
    /// The task was pending, throttled or running, and Runway accepted the cancel.
    Cancelled {
        /// The status seen just before the cancel.
        was: TaskStatus,
    },
    /// The task had already finished, so Runway deleted it: its outputs are no longer available.
    Deleted {
        /// The status seen just before the delete (`SUCCEEDED`, `FAILED` or `CANCELLED`).
        was: TaskStatus,
    },
    /// Runway does not know this task (never created with this key, mistyped, or already
    /// cancelled or deleted). Nothing was cancelled; no `DELETE` was sent.
    NotFound,
    /// The `DELETE` got no usable answer (it timed out, or its connection was lost and the
    /// retried `DELETE` found the task gone), and then Runway no longer knew the task or showed
    /// it `CANCELLED`: it stopped (cancelled if it was running, deleted if it had finished).
    ConfirmedAfterTimeout {
        /// The status seen just before the `DELETE`.
        was: TaskStatus,
    },
    /// The `DELETE` was sent but nothing confirmed its effect (its answer was lost and the check
    /// failed, or still showed the task as it was). The cancel may still take effect: look at
    /// the task again with [`Client::get_task`] (a 404 then means it is gone).
    Unknown {
        /// The status seen just before the `DELETE`.
        was: TaskStatus,
        /// What went wrong, redacted, on one line.
        reason: String,
    },
}

impl CancelOutcome {
    /// True when the task is known to have stopped: [`Cancelled`](Self::Cancelled),
    /// [`Deleted`](Self::Deleted) or [`ConfirmedAfterTimeout`](Self::ConfirmedAfterTimeout).
    pub fn is_confirmed(&self) -> bool {
        matches!(
            self,
            Self::Cancelled { .. } | Self::Deleted { .. } | Self::ConfirmedAfterTimeout { .. }
        )
    }

    /// The status seen just before the `DELETE`; `None` for [`NotFound`](Self::NotFound).
    pub fn was(&self) -> Option<&TaskStatus> {
        match self {
            Self::Cancelled { was }
            | Self::Deleted { was }
            | Self::ConfirmedAfterTimeout { was }
            | Self::Unknown { was, .. } => Some(was),
            Self::NotFound => None,
        }
    }

    /// A stable name for logs and JSON: `cancelled`, `deleted`, `not_found`,
    /// `confirmed_after_timeout` or `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Cancelled { .. } => "cancelled",
            Self::Deleted { .. } => "deleted",
            Self::NotFound => "not_found",
            Self::ConfirmedAfterTimeout { .. } => "confirmed_after_timeout",
            Self::Unknown { .. } => "unknown",
        }
    }
}

impl fmt::Display for CancelOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cancelled { was } => write!(f, "cancelled (it was {was})"),
            Self::Deleted { was } => write!(
                f,
                "deleted: it had already finished ({was}), so Runway deleted it and its outputs are gone"
            ),
            Self::NotFound => f.write_str(
                "not found: Runway does not know this task (never created with this key, or already \
                 cancelled or deleted); nothing was cancelled",
            ),
            Self::ConfirmedAfterTimeout { was } if was.is_terminal() => write!(
                f,
                "deleted: the delete got no answer in time, then a check found the task gone (it was {was})"
            ),
            Self::ConfirmedAfterTimeout { was } => write!(
                f,
                "cancelled: the cancel got no answer in time, then a check found the task cancelled or gone (it was {was})"
            ),
            Self::Unknown { was, reason } => write!(
                f,
                "unconfirmed: the cancel was sent but not confirmed and may still take effect (the task was {was}; {reason})"
            ),
        }
    }
}

/// Builds a [`Client`]; see [`Client::builder`].
///
/// ```
/// let builder = lowcodeapi_runwayml::Client::builder().api_token("at_example");
/// assert!(!format!("{builder:?}").contains("at_example"));
/// let client = builder.build()?;
/// # Ok::<(), lowcodeapi_runwayml::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    token: Option<SecretString>,
    base_url: String,
    http: Option<reqwest::Client>,
    request_timeout: Duration,
    connect_timeout: Duration,
    cancel_timeout: Duration,
    retry: RetryPolicy,
    url_format: UrlFormat,
    max_concurrent_requests: usize,
    wait: WaitDefaults,
    max_response_bytes: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("token", &self.token.as_ref().map(|_| crate::redact::MASK))
            .field(
                "base_url",
                &redact(
                    &self.base_url,
                    self.token
                        .as_ref()
                        .map(|t| -> &str { secrecy::ExposeSecret::expose_secret(t) }),
                ),
            )
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("cancel_timeout", &self.cancel_timeout)
            .field("retry", &self.retry)
            .field("url_format", &self.url_format)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("poll_schedule", &self.wait.schedule)
            .field("wait_timeout", &self.wait.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            http: None,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            cancel_timeout: Duration::from_secs(15),
            retry: RetryPolicy::default(),
            url_format: UrlFormat::Auto,
            max_concurrent_requests: 32,
            wait: WaitDefaults::default(),
            max_response_bytes: crate::transport::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

impl ClientBuilder {
    /// The LowCodeAPI token (`at_…`). Required. Kept as a secret: never printed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// The provider's base URL; default [`DEFAULT_BASE_URL`]. A trailing slash is fine.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .base_url("http://127.0.0.1:3000/runwayml/")
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Use this `reqwest::Client` (its own timeouts and TLS settings apply; the request timeout
    /// is still set on every request).
    ///
    /// Its redirect policy applies too, before this crate sees the answer: build it with
    /// `reqwest::redirect::Policy::none()`. Then redirects are handled as on a client built here
    /// (same origin only, never for a create, at most 5). With a policy that follows redirects,
    /// an answer that ended on another origin than the base URL's is refused, but the request
    /// (with the token in its query, and a create's body) has already been sent there.
    ///
    /// ```
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .http_client(reqwest::Client::new())
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The longest a request may take, answer included; default 60 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .request_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The longest connecting may take; default 10 s. Ignored with [`Self::http_client`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::Client;
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .connect_timeout(Duration::from_secs(3))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest a cancel waits for its answer before checking the task instead; default 15 s.
    /// (The self-hosted server can leave a successful DELETE unanswered forever.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .cancel_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn cancel_timeout(mut self, timeout: Duration) -> Self {
        self.cancel_timeout = timeout;
        self
    }

    /// How failed requests are retried; see [`RetryPolicy`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .retry_policy(RetryPolicy::default().max_retries(5))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Which URL format to use; default [`UrlFormat::Auto`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .url_format(UrlFormat::Old)
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn url_format(mut self, format: UrlFormat) -> Self {
        self.url_format = format;
        self
    }

    /// The most requests one client (and its clones) has in flight at once; default 32. More
    /// wait their turn. This bounds connections and memory when many tasks are waited on at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, RetryPolicy, UrlFormat};
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .max_concurrent_requests(8)
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn max_concurrent_requests(mut self, limit: usize) -> Self {
        self.max_concurrent_requests = limit.max(1);
        self
    }

    /// The poll schedule every [`Client::wait`] and [`Client::watch`] of this client starts with;
    /// default [`PollSchedule::default`] (Runway's five seconds). A wait can still set its own.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::{Client, PollSchedule};
    /// // Against a simulator running at 10x real time.
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .poll_schedule(PollSchedule::default().scaled(0.1))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn poll_schedule(mut self, schedule: PollSchedule) -> Self {
        self.wait.schedule = schedule;
        self
    }

    /// How long every wait of this client lasts before giving up (default 10 minutes; `None`
    /// waits forever). A wait can still set its own with [`Wait::timeout`](crate::Wait::timeout).
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::Client;
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .wait_timeout(Duration::from_secs(1800))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn wait_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.wait.timeout = timeout.into();
        self
    }

    /// The largest response body read, counted after decompression; default 8 MiB (a Runway
    /// answer is a few KiB). Past it the read stops at once and the call fails with
    /// [`TransportKind::ResponseTooLarge`], not retried: a broken proxy or a decompression bomb
    /// costs at most this much memory per request in flight.
    ///
    /// ```
    /// use lowcodeapi_runwayml::Client;
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .max_response_bytes(1024 * 1024)
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// ```
    /// use lowcodeapi_runwayml::Client;
    /// assert!(Client::builder().build().is_err()); // no token
    /// assert!(Client::builder().api_token("at_example").build().is_ok());
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        use secrecy::ExposeSecret;
        let token = self.token.ok_or_else(|| {
            Error::config(format!(
                "no API token: call ClientBuilder::api_token or set {TOKEN_ENV}"
            ))
        })?;
        if token.expose_secret().trim().is_empty() {
            return Err(Error::config("the API token is empty"));
        }
        let base_url = normalize_base_url(&self.base_url, Some(token.expose_secret()))?;
        let foreign_client = self.http.is_some();
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .tls_backend_preconfigured(
                    crate::tls::client_config()
                        .map_err(|e| Error::config(format!("cannot set up TLS (rustls): {e}")))?,
                )
                .user_agent(USER_AGENT)
                // Redirects are the transport's to judge (same origin, never a create).
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| {
                    Error::config(format!("cannot build the HTTP client: {}", e.without_url()))
                })?,
        };
        let transport = Transport::new(crate::transport::Settings {
            token,
            base_text: base_url.clone(),
            base_url: url::Url::parse(&base_url)
                .map_err(|e| Error::config(format!("the base URL cannot be used: {e}")))?,
            retry: self.retry,
            request_timeout: self.request_timeout,
            url_format: self.url_format,
            max_concurrent_requests: self.max_concurrent_requests,
            max_response_bytes: self.max_response_bytes,
            foreign_client,
        });
        Ok(Client {
            raw: generated::Client::new_with_client(&base_url, http, transport),
            cancel_timeout: self.cancel_timeout,
            state: Arc::new(ClientState {
                wait: self.wait,
                cancelled: CancelRecord::default(),
                storage: std::sync::OnceLock::new(),
            }),
        })
    }
}

fn normalize_base_url(raw: &str, token: Option<&str>) -> Result<String, Error> {
    // A pasted URL may carry the token (`?api_token=…` or anywhere else): never echo it.
    let shown = redact(raw, token);
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        Error::config(format!(
            "base URL {shown:?} is not a valid URL ({e}); expected e.g. {DEFAULT_BASE_URL}"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!(
            "base URL {shown:?} must use http or https"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(
            "the base URL must not carry a query or fragment (the token is set with api_token)",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

type RawResult<T> = Result<ResponseValue<T>, progenitor_client::Error<()>>;

impl Client {
    /// Shared state of this client and its clones.
    pub(crate) fn state(&self) -> &ClientState {
        &self.state
    }

    /// A builder; only the API token is required.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lowcodeapi_runwayml::Client;
    /// let client = Client::builder()
    ///     .api_token("at_example")
    ///     .base_url("http://127.0.0.1:8080/runwayml/")
    ///     .request_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// assert!(!format!("{client:?}").contains("at_example"));
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `LOWCODEAPI_API_TOKEN` (required) and `LOWCODEAPI_BASE_URL`
    /// (optional).
    ///
    /// ```no_run
    /// let client = lowcodeapi_runwayml::Client::from_env()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_env_builder()?.build()
    }

    /// The builder [`Client::from_env`] uses, for adjusting before building.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let client = lowcodeapi_runwayml::Client::from_env_builder()?
    ///     .request_timeout(Duration::from_secs(20))
    ///     .build()?;
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn from_env_builder() -> Result<ClientBuilder, Error> {
        let token = std::env::var(TOKEN_ENV).unwrap_or_default();
        if token.trim().is_empty() {
            return Err(Error::config(format!(
                "{TOKEN_ENV} is not set (or empty): set it to your LowCodeAPI token (at_…)"
            )));
        }
        let mut builder = Self::builder().api_token(token);
        if let Ok(base) = std::env::var(BASE_URL_ENV)
            && !base.trim().is_empty()
        {
            builder = builder.base_url(base);
        }
        Ok(builder)
    }

    /// The generated client, for operations this layer does not wrap. Its requests still get the
    /// token, retries, timeouts and envelope unwrapping; the URL-format choice and typed errors
    /// are yours (see [`generated`](crate::generated)).
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use lowcodeapi_runwayml::Task;
    /// // A server that routes only the Old Format, called directly.
    /// let answer = client.raw().get_task_old_format("17f20503-6c24-4c16-946b-35dbbce2af2f").await?;
    /// let task = Task::from(answer.into_inner());
    /// # Ok(()) }
    /// ```
    pub fn raw(&self) -> &generated::Client {
        &self.raw
    }

    /// The base URL in use (no trailing slash).
    ///
    /// ```
    /// let client = lowcodeapi_runwayml::Client::builder()
    ///     .api_token("at_example")
    ///     .base_url("http://127.0.0.1:3000/runwayml/")
    ///     .build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:3000/runwayml");
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn base_url(&self) -> &str {
        &self.raw.baseurl
    }

    /// What this client has learned about the URL format.
    ///
    /// ```
    /// use lowcodeapi_runwayml::{Client, UrlFormatState};
    /// let client = Client::builder().api_token("at_example").build()?;
    /// assert_eq!(client.url_format(), UrlFormatState::Unsettled); // nothing sent yet
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn url_format(&self) -> UrlFormatState {
        self.raw.inner.shared.format.get()
    }

    pub(crate) fn token(&self) -> &str {
        self.raw.inner.token()
    }

    /// Fetches a task. `.await` it, or set a timeout or retry count for this call first (see
    /// [`GetTask`]).
    ///
    /// Errors carry the task id; Runway's 404 (unknown, cancelled or deleted task) satisfies
    /// [`Error::is_not_found`].
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use std::time::Duration;
    /// let task = client.get_task(&id).await?;
    /// let quick = client.get_task(&id).timeout(Duration::from_secs(5)).max_retries(0).await?;
    /// # Ok(()) }
    /// ```
    pub fn get_task<'a>(&'a self, id: &'a TaskId) -> GetTask<'a> {
        GetTask::new(self, id)
    }

    pub(crate) async fn get_task_with(
        &self,
        id: &TaskId,
        overrides: CallOverrides,
    ) -> Result<Task, Error> {
        let raw = &self.raw;
        let call = self.routed("get_task", id, |format| match format {
            UrlFormatState::Old => Either::Right(raw.get_task_old_format(id.as_str())),
            _ => Either::Left(raw.get_task(id.as_str())),
        });
        let value = if overrides.is_empty() {
            call.await
        } else {
            CALL.scope(overrides.apply(CallOptions::default()), call)
                .await
        }
        .map_err(|e| e.with_task_id(id))?;
        Ok(Task::from_wire(value.into_inner()))
    }

    /// Cancels a pending, throttled or running task, or deletes a finished one; the outcome says
    /// which (see [`CancelOutcome`]).
    ///
    /// The task is looked at first (one `GET`), because nothing after Runway's `DELETE` can tell
    /// a cancelled task from a deleted one or from an id that never existed (all three answer
    /// 404). An id Runway does not know is [`CancelOutcome::NotFound`] and no `DELETE` is sent;
    /// if the look itself fails, its error is returned and nothing is sent. A task that finishes
    /// between the look and the `DELETE` is deleted although the outcome says cancelled: Runway's
    /// answer does not say which it did.
    ///
    /// When the `DELETE` gets no answer within the cancel timeout (the self-hosted server can
    /// hang on a successful DELETE) or loses its connection, it is not repeated: the task is
    /// checked instead ([`CancelOutcome::ConfirmedAfterTimeout`] or [`CancelOutcome::Unknown`]).
    /// Other failures are errors carrying the task id.
    ///
    /// `.await` it, or set a timeout (instead of the client's cancel timeout) or a retry count
    /// for this call first (see [`CancelTask`]). A wait on a task this client (or a clone of it)
    /// cancelled ends as [`Outcome::Cancelled`](crate::Outcome::Cancelled), although Runway
    /// answers a cancelled task's poll with 404 as it does a deleted one.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use lowcodeapi_runwayml::CancelOutcome;
    /// match client.cancel_task(&id).await? {
    ///     CancelOutcome::Deleted { was } => println!("it had finished ({was}); now deleted"),
    ///     outcome if outcome.is_confirmed() => println!("{outcome}"),
    ///     outcome => eprintln!("{outcome}; check with get_task"),
    /// }
    /// # Ok(()) }
    /// ```
    pub fn cancel_task<'a>(&'a self, id: &'a TaskId) -> CancelTask<'a> {
        CancelTask::new(self, id)
    }

    pub(crate) async fn cancel_task_with(
        &self,
        id: &TaskId,
        overrides: CallOverrides,
    ) -> Result<CancelOutcome, Error> {
        let was = match self.get_task_with(id, overrides).await {
            Ok(task) => task.status,
            Err(e) if e.is_not_found() => return Ok(CancelOutcome::NotFound),
            Err(e) => return Err(e),
        };
        let raw = &self.raw;
        let call = overrides.apply(CallOptions {
            timeout: Some(self.cancel_timeout),
            no_retry_on_timeout: true,
            ..CallOptions::default()
        });
        let result = CALL
            .scope(
                call,
                self.routed("delete_task", id, |format| match format {
                    UrlFormatState::Old => Either::Right(raw.delete_task_old_format(id.as_str())),
                    _ => Either::Left(raw.delete_task(id.as_str())),
                }),
            )
            .await;
        if !was.is_terminal() {
            self.note_cancelled(id, &result);
        }
        let done = |was: TaskStatus| {
            if was.is_terminal() {
                CancelOutcome::Deleted { was }
            } else {
                CancelOutcome::Cancelled { was }
            }
        };
        match result {
            Ok(_) => Ok(done(was)),
            // Any other 2xx (e.g. 200 with a body) is a success too.
            Err(Error::Decode(e)) if (200..300).contains(&e.status) => Ok(done(was)),
            // Seen a moment ago, gone now: an earlier attempt whose answer was lost (the transport
            // retries a DELETE whose connection failed) or another client removed it.
            Err(e) if e.is_not_found() => Ok(CancelOutcome::ConfirmedAfterTimeout { was }),
            // Not sent (no connection), or not followed (a refused redirect): nothing to check.
            Err(e @ Error::Transport(_))
                if !matches!(&e, Error::Transport(t)
                    if matches!(t.kind, TransportKind::Connect | TransportKind::RedirectRefused)) =>
            {
                tracing::info!(task = %id, "cancel got no answer; checking the task");
                let reason = one_line(&e.with_task_id(id).to_string());
                Ok(match self.get_task(id).await {
                    Ok(task) if task.status == crate::TaskStatus::Cancelled => {
                        CancelOutcome::ConfirmedAfterTimeout { was }
                    }
                    Err(check) if check.is_not_found() => {
                        CancelOutcome::ConfirmedAfterTimeout { was }
                    }
                    Ok(task) => CancelOutcome::Unknown {
                        was,
                        reason: format!("{reason}; a check then still showed it {}", task.status),
                    },
                    Err(check) => CancelOutcome::Unknown {
                        was,
                        reason: format!(
                            "{reason}; the check failed too: {}",
                            one_line(&check.to_string())
                        ),
                    },
                })
            }
            Err(e) => Err(e.with_task_id(id)),
        }
    }

    /// Starts generating a video from an image; returns the new task (poll it with
    /// [`Client::wait`] or [`Client::watch`]). `.await` it, or set a timeout or retry count for
    /// this call first (see [`CreateImageToVideo`]).
    ///
    /// The request is checked against the per-model rules first (unless
    /// [`ImageToVideo::skip_validation`] was called, which sends the body as is): every violation
    /// is reported at once and nothing is sent.
    ///
    /// It is retried only when the request provably was not processed (429, or no connection);
    /// a timeout or a 5xx after sending is returned, not retried, because Runway has no
    /// idempotency key and a retry could create a second, billed task
    /// ([`Error::may_have_created_task`]).
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use lowcodeapi_runwayml::{ImageToVideo, Model, PromptImage, Ratio};
    /// let task = client
    ///     .image_to_video(
    ///         ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?)
    ///             .prompt_text("the camera pulls back slowly")
    ///             .ratio(Ratio::W1280H720)
    ///             .duration(5),
    ///     )
    ///     .await?;
    /// let video = client.wait(&task).await?;
    /// println!("{}", video.first_output().unwrap_or("(no output)"));
    /// # Ok(()) }
    /// ```
    pub fn image_to_video(&self, request: ImageToVideo) -> CreateImageToVideo<'_> {
        CreateImageToVideo::new(self, request)
    }

    pub(crate) async fn image_to_video_with(
        &self,
        request: ImageToVideo,
        overrides: CallOverrides,
    ) -> Result<crate::CreatedTask, Error> {
        let body = request.validated_body()?;
        let typed: generated::types::ImageToVideoRequest = serde_json::from_value(body)
            .map_err(|e| Error::Validation(ValidationError::single("body", e.to_string())))?;
        let raw = &self.raw;
        // No path parameters: both URL formats are the same URL, and a success here proves
        // nothing about how task URLs are routed, so the format is neither probed nor settled.
        let call = raw.image_to_video(&typed);
        let result = if overrides.is_empty() {
            call.await
        } else {
            CALL.scope(overrides.apply(CallOptions::default()), call)
                .await
        };
        let created = self.finish("image_to_video", result).await?.into_inner();
        Ok(crate::CreatedTask::from(created))
    }

    /// Remembers that a cancel for `id` was sent (anything but a failure to connect), so that a
    /// wait finding the task gone afterwards reports it cancelled rather than gone.
    pub(crate) fn note_cancelled<T>(&self, id: &TaskId, result: &Result<T, Error>) {
        let unsent = matches!(result, Err(Error::Transport(e)) if e.kind == TransportKind::Connect);
        if !unsent {
            self.state.cancelled.insert(id);
        }
    }

    /// Whether this client (or a clone) sent a cancel for `id`.
    pub(crate) fn cancelled_here(&self, id: &TaskId) -> bool {
        self.state.cancelled.contains(id)
    }

    pub(crate) fn wait_defaults(&self) -> &WaitDefaults {
        &self.state.wait
    }

    /// Runs one call in the learned URL format; while the format is unsettled, tries New and falls
    /// back to Old on a routing miss, and settles on the first format an answer proves.
    ///
    /// An id that equals the Old Format's literal segment (`id`, in any case) always goes on the
    /// Old Format: on the New Format its URL *is* the Old Format route (with no `id` query), which
    /// the self-hosted server answers by asking Runway for task `null`.
    async fn routed<T, F, Fut>(
        &self,
        operation: &'static str,
        id: &TaskId,
        call: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(UrlFormatState) -> Fut,
        Fut: Future<Output = RawResult<T>>,
    {
        let settled = if crate::format::is_old_format_segment(id.as_str()) {
            UrlFormatState::Old
        } else {
            self.raw.inner.shared.format.get()
        };
        if settled != UrlFormatState::Unsettled {
            return self.finish(operation, call(settled).await).await;
        }
        // Once per client: boxed, so that the calls after it do not carry its state.
        Box::pin(self.probe_format(operation, call)).await
    }

    /// [`Self::routed`] while the format is unsettled.
    async fn probe_format<T, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<ResponseValue<T>, Error>
    where
        F: Fn(UrlFormatState) -> Fut,
        Fut: Future<Output = RawResult<T>>,
    {
        let memory = &self.raw.inner.shared.format;
        let _probe = self.raw.inner.shared.probe.lock().await;
        let settled = memory.get();
        if settled != UrlFormatState::Unsettled {
            return self.finish(operation, call(settled).await).await;
        }
        let new = self
            .finish(operation, call(UrlFormatState::New).await)
            .await;
        match proof(&new) {
            Proof::Route => {
                self.settle(UrlFormatState::New);
                new
            }
            Proof::RoutingMiss => {
                tracing::debug!(
                    operation,
                    "New Format is not routed here; trying the Old Format"
                );
                let old = self
                    .finish(operation, call(UrlFormatState::Old).await)
                    .await;
                if proof(&old) == Proof::Route {
                    self.settle(UrlFormatState::Old);
                }
                old
            }
            Proof::Nothing => new,
        }
    }

    fn settle(&self, format: UrlFormatState) {
        if self.raw.inner.shared.format.settle(format) {
            tracing::info!(format = ?format, base_url = %self.base_url(), "LowCodeAPI URL format settled");
        }
    }

    /// Turns a generated-client result into this crate's types, reading error bodies.
    async fn finish<T>(
        &self,
        operation: &'static str,
        result: RawResult<T>,
    ) -> Result<ResponseValue<T>, Error> {
        match result {
            Ok(value) => Ok(value),
            Err(error) => Err(self.convert(operation, error).await),
        }
    }

    pub(crate) async fn convert(
        &self,
        operation: &'static str,
        error: progenitor_client::Error<()>,
    ) -> Error {
        let token = Some(self.token());
        match error {
            progenitor_client::Error::UnexpectedResponse(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.bytes().await;
                answer_error(operation, status, &headers, body, token)
            }
            other => raw_error(operation, other, token),
        }
    }
}

/// Turns an error answer (status, headers, body) into this crate's error.
fn answer_error(
    operation: &'static str,
    status: u16,
    headers: &http::HeaderMap,
    body: reqwest::Result<bytes::Bytes>,
    token: Option<&str>,
) -> Error {
    match body {
        Ok(body) if (200..300).contains(&status) => Error::Decode(Box::new(DecodeError {
            operation,
            status,
            message: format!("unexpected success status {status}"),
            body_excerpt: excerpt(&body, crate::envelope::EXCERPT_LIMIT, token),
            task_id: None,
        })),
        Ok(body) => Error::Api(Box::new(crate::envelope::decode_error(
            operation, status, headers, &body, token,
        ))),
        Err(e) => transport_error(operation, &e, token),
    }
}

/// Turns a generated-client error into this crate's error, without waiting: the hooks buffer
/// every body, so an error answer's body is read at once (if it were not, it is left out).
pub(crate) fn raw_error<T: fmt::Debug>(
    operation: &'static str,
    error: progenitor_client::Error<T>,
    token: Option<&str>,
) -> Error {
    use futures::FutureExt as _;
    use progenitor_client::Error as Raw;
    match error {
        Raw::CommunicationError(e) | Raw::ResponseBodyError(e) => {
            transport_error(operation, &e, token)
        }
        Raw::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .now_or_never()
                .unwrap_or_else(|| Ok(bytes::Bytes::new()));
            answer_error(operation, status, &headers, body, token)
        }
        Raw::InvalidResponsePayload(body, e) => Error::Decode(Box::new(DecodeError {
            operation,
            status: 200,
            // serde quotes the offending value, which can be megabytes long.
            message: excerpt(
                e.to_string().as_bytes(),
                crate::envelope::EXCERPT_LIMIT,
                token,
            ),
            body_excerpt: excerpt(&body, crate::envelope::EXCERPT_LIMIT, token),
            task_id: None,
        })),
        Raw::ErrorResponse(value) => {
            let status = value.status().as_u16();
            Error::Api(Box::new(crate::envelope::decode_error(
                operation,
                status,
                value.headers(),
                b"",
                token,
            )))
        }
        other => Error::Transport(Box::new(TransportError {
            operation,
            kind: TransportKind::Other,
            message: redact(&other.to_string(), token),
            task_id: None,
        })),
    }
}

fn transport_error(operation: &'static str, error: &reqwest::Error, token: Option<&str>) -> Error {
    if let Some(refused) = crate::transport::Refused::find(error) {
        return Error::Transport(Box::new(TransportError {
            operation,
            kind: refused.kind,
            message: redact(&refused.message, token),
            task_id: None,
        }));
    }
    // A connect timeout is a connect failure: nothing was sent.
    let kind = if error.is_connect() {
        TransportKind::Connect
    } else if error.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Other
    };
    // reqwest's Display includes the URL, which holds the token: drop it, and say the cause.
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if let Some(url) = error.url() {
        message = message.replace(url.as_str(), "");
    }
    Error::Transport(Box::new(TransportError {
        operation,
        kind,
        message: redact(&message, token),
        task_id: None,
    }))
}

#[derive(Debug, PartialEq, Eq)]
enum Proof {
    /// The answer came from a route that exists (a success, or a provider's error).
    Route,
    /// LowCodeAPI does not route this URL.
    RoutingMiss,
    /// No conclusion (transport failure, a gateway's error page).
    Nothing,
}

fn proof<T>(result: &Result<T, Error>) -> Proof {
    match result {
        Ok(_) | Err(Error::Decode(_)) => Proof::Route,
        Err(Error::Api(e)) if e.routing_miss => Proof::RoutingMiss,
        // A provider's 404 may come from a route other than the one meant (the New Format URL of
        // a task named `id` is the Old Format route): it proves nothing about the format.
        Err(Error::Api(e)) if e.status == 404 => Proof::Nothing,
        Err(Error::Api(e)) if e.dialect.is_some() || e.runway_error.is_some() => Proof::Route,
        Err(_) => Proof::Nothing,
    }
}

/// Folds a message onto one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
