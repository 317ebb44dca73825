//! Cross-cutting behaviour of every request, in one place: progenitor's `ClientHooks`.
//!
//! - `pre`: the `api_token` query parameter and the user agent.
//! - `exec`: per-request timeout, retries with backoff and `Retry-After` (see [`crate::retry`]),
//!   tracing with the token redacted, and envelope unwrapping, so the generated code decodes
//!   Runway's payload whichever LowCodeAPI dialect answered.
//!
//! Because these hooks sit under the generated client, the escape hatch
//! ([`crate::Client::raw`]) gets all of this too.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Method, Request, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;

use crate::envelope::{self, Success};
use crate::format::{FormatMemory, UrlFormat};
use crate::generated;
use crate::redact::redact;
use crate::retry::RetryPolicy;

/// The user agent every request carries.
///
/// ```
/// assert!(lowcodeapi_runwayml::USER_AGENT.starts_with("lowcodeapi-runwayml/"));
/// ```
pub const USER_AGENT: &str = concat!("lowcodeapi-runwayml/", env!("CARGO_PKG_VERSION"));

/// State the generated client carries for the hooks; cheap to clone (one `Arc`).
///
/// ```
/// let client = lowcodeapi_runwayml::Client::builder().api_token("at_secret").build()?;
/// // What the generated client carries; its Debug never shows the token.
/// assert!(!format!("{:?}", client.raw()).contains("at_secret"));
/// # Ok::<(), lowcodeapi_runwayml::Error>(())
/// ```
#[derive(Clone)]
pub struct Transport {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) token: SecretString,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) format: FormatMemory,
    /// Held by the call that probes the URL format, so concurrent first calls try New only once.
    pub(crate) probe: tokio::sync::Mutex<()>,
    /// Requests in flight (sent, answer not yet read), at most `max_concurrent_requests`.
    pub(crate) in_flight: tokio::sync::Semaphore,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("token", &crate::redact::MASK)
            .field("retry", &self.shared.retry)
            .field("request_timeout", &self.shared.request_timeout)
            .field("url_format", &self.shared.format.get())
            .finish()
    }
}

/// Per-call settings that differ from the client's (set by the high-level layer).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallOptions {
    /// Overrides the request timeout.
    pub(crate) timeout: Option<Duration>,
    /// Do not retry after a timeout (a cancel that hangs is checked instead of repeated).
    pub(crate) no_retry_on_timeout: bool,
    /// Overrides the retry policy's maximum number of retries.
    pub(crate) max_retries: Option<u32>,
}

tokio::task_local! {
    pub(crate) static CALL: CallOptions;
}

impl Transport {
    pub(crate) fn new(
        token: SecretString,
        retry: RetryPolicy,
        request_timeout: Duration,
        url_format: UrlFormat,
        max_concurrent_requests: usize,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                token,
                retry,
                request_timeout,
                format: FormatMemory::new(url_format),
                probe: tokio::sync::Mutex::new(()),
                in_flight: tokio::sync::Semaphore::new(max_concurrent_requests.max(1)),
            }),
        }
    }

    pub(crate) fn token(&self) -> &str {
        self.shared.token.expose_secret()
    }

    fn retryable_status(&self, status: StatusCode, create: bool) -> bool {
        match status.as_u16() {
            429 => true,
            502..=504 => !create || self.shared.retry.retries_create_after_ambiguous_failure(),
            _ => false,
        }
    }

    fn retryable_error(&self, error: &reqwest::Error, create: bool, call: CallOptions) -> bool {
        if error.is_connect() {
            // Nothing reached the server: safe for every method.
            return true;
        }
        if error.is_timeout() && call.no_retry_on_timeout {
            return false;
        }
        !create || self.shared.retry.retries_create_after_ambiguous_failure()
    }

    async fn execute(
        &self,
        client: &reqwest::Client,
        request: Request,
        info: &OperationInfo,
    ) -> reqwest::Result<Response> {
        let call = CALL.try_with(|call| *call).unwrap_or_default();
        let create = request.method() == Method::POST;
        let timeout = call.timeout.unwrap_or(self.shared.request_timeout);
        let policy = &self.shared.retry;
        let max_retries = call.max_retries.unwrap_or(policy.get_max_retries());
        let span = tracing::debug_span!(
            "lowcodeapi.request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
        );
        async move {
            let mut retry = 0u32;
            loop {
                let mut attempt = request
                    .try_clone()
                    .expect("generated requests have buffered bodies");
                *attempt.timeout_mut() = Some(timeout);
                // Bounds connections and buffered bodies: 1,000 waits polled in the same instant
                // share a few dozen connections instead of opening 1,000.
                let permit = self
                    .shared
                    .in_flight
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                let started = Instant::now();
                let pause = match client.execute(attempt).await {
                    Ok(response) => {
                        let status = response.status();
                        let (response, retry_after) = match buffer(response).await {
                            Ok(buffered) => buffered,
                            Err(error) => {
                                if retry < max_retries && self.retryable_error(&error, create, call)
                                {
                                    drop(permit);
                                    self.log_retry(retry, &error.to_string());
                                    tokio::time::sleep(policy.backoff(retry)).await;
                                    retry += 1;
                                    continue;
                                }
                                // Like a failed send: reqwest's Display would print the
                                // URL (token and all) and the caller's message an empty shell.
                                return Err(error.without_url());
                            }
                        };
                        tracing::debug!(
                            attempt = retry + 1,
                            status = status.as_u16(),
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "answered"
                        );
                        if !(retry < max_retries && self.retryable_status(status, create)) {
                            return Ok(normalize(response));
                        }
                        match retry_after {
                            Some(wait) if wait > policy.get_max_retry_after() => {
                                tracing::debug!(
                                    retry_after_s = wait.as_secs(),
                                    "Retry-After beyond the cap: not retrying"
                                );
                                return Ok(normalize(response));
                            }
                            Some(wait) => wait,
                            None => policy.backoff(retry),
                        }
                    }
                    Err(error) => {
                        tracing::debug!(
                            attempt = retry + 1,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            error = %redact(&error.to_string(), Some(self.token())),
                            "no answer"
                        );
                        if !(retry < max_retries && self.retryable_error(&error, create, call)) {
                            return Err(error.without_url());
                        }
                        policy.backoff(retry)
                    }
                };
                drop(permit);
                self.log_retry(retry, "retryable answer");
                tokio::time::sleep(pause).await;
                retry += 1;
            }
        }
        .instrument(span)
        .await
    }

    fn log_retry(&self, retry: u32, why: &str) {
        tracing::info!(
            retry = retry + 1,
            of = self.shared.retry.get_max_retries(),
            reason = %redact(why, Some(self.token())),
            "retrying"
        );
    }
}

/// A response whose body has been read, plus the `Retry-After` it asked for.
struct Buffered {
    status: StatusCode,
    version: http::Version,
    headers: http::HeaderMap,
    body: Bytes,
}

async fn buffer(mut response: Response) -> reqwest::Result<(Buffered, Option<Duration>)> {
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await?;
    let retry_after = if status.is_success() {
        None
    } else {
        envelope::retry_after(&headers, &body)
    };
    Ok((
        Buffered {
            status,
            version,
            headers,
            body,
        },
        retry_after,
    ))
}

impl From<Buffered> for Response {
    fn from(buffered: Buffered) -> Self {
        let mut builder = http::Response::builder()
            .status(buffered.status)
            .version(buffered.version);
        if let Some(headers) = builder.headers_mut() {
            *headers = buffered.headers;
        }
        Response::from(
            builder
                .body(buffered.body)
                .expect("status and headers came from a valid response"),
        )
    }
}

/// Takes a success body out of its envelope; errors pass through untouched.
fn normalize(mut buffered: Buffered) -> Response {
    if buffered.status.is_success() {
        match envelope::unwrap_success(&buffered.body) {
            Success::Payload(_, payload) => {
                buffered.body = payload;
                strip_length(&mut buffered.headers);
                buffered.headers.insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
            }
            Success::Empty(_) => {
                buffered.status = StatusCode::NO_CONTENT;
                buffered.body = Bytes::new();
                strip_length(&mut buffered.headers);
            }
            Success::Bare => {}
        }
    }
    buffered.into()
}

fn strip_length(headers: &mut http::HeaderMap) {
    headers.remove(http::header::CONTENT_LENGTH);
    headers.remove(http::header::CONTENT_ENCODING);
}

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        request
            .url_mut()
            .query_pairs_mut()
            .append_pair("api_token", self.inner().token());
        request.headers_mut().insert(
            reqwest::header::USER_AGENT,
            reqwest::header::HeaderValue::from_static(USER_AGENT),
        );
        Ok(())
    }

    async fn exec(&self, request: Request, info: &OperationInfo) -> reqwest::Result<Response> {
        self.inner().execute(self.client(), request, info).await
    }
}
