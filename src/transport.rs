//! Cross-cutting behaviour of every request, in one place: progenitor's `ClientHooks`.
//!
//! - [`operation_url`] and [`set_headers`]: what the generated code builds its requests with
//!   (`build.rs` puts them in place of progenitor's `format!` of the URL and the builder's header
//!   merge): the URL on the base URL parsed once, with the `api_token` query parameter for
//!   operations without query parameters of their own.
//! - `pre`: the `api_token` query parameter for the others (and the user agent, on a client passed
//!   in).
//! - `exec`: per-request timeout, retries with backoff and `Retry-After` (see [`crate::retry`]),
//!   redirects (same origin only, never for a create, at most [`MAX_REDIRECTS`]), a bound on every
//!   response body (decoded), tracing with the token redacted, and envelope unwrapping, so the
//!   generated code decodes Runway's payload whichever LowCodeAPI dialect answered.
//! - [`decode_response`]: what the generated code decodes JSON answers with (`build.rs` puts it
//!   in place of progenitor's `ResponseValue::from_response`), once, from the buffer `exec` read.
//!
//! Because these hooks sit under the generated client, the escape hatch
//! ([`crate::Client::raw`]) gets all of this too.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::{Method, Request, Response, ResponseBuilderExt, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tracing::Instrument;
use url::Url;

use crate::envelope::{self, Success};
use crate::error::TransportKind;
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

/// The default bound on a response body, decoded: far above any Runway answer (a task is a few
/// KiB), far below what a decompression bomb would inflate to.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The most same-origin redirects followed for one request.
pub const MAX_REDIRECTS: u32 = 5;

/// The query parameter that carries the token.
const TOKEN_PARAMETER: &str = "api_token";

/// One segment of an operation's path (see [`operation_url`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Segment<'a> {
    /// As the path template writes it: letters, digits, `-`, `_`, `.`, `~` (checked by build.rs).
    Literal(&'static str),
    /// A parameter's value, not yet encoded.
    Param(&'a str),
}

impl Segment<'_> {
    fn as_str(&self) -> &str {
        match self {
            Segment::Literal(text) | Segment::Param(text) => text,
        }
    }

    /// Whether pushing the segment onto a parsed URL gives what parsing progenitor's text
    /// (`encode_path` of the value, after a `/`) gives. The two encode the same characters,
    /// except that the parser reads `\\` as a slash, drops tabs and line breaks, and resolves
    /// `.` and `..`, where pushing encodes, keeps or ignores them.
    fn pushes_as_parsed(&self) -> bool {
        let text = self.as_str();
        text != "."
            && text != ".."
            && !text
                .bytes()
                .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    }
}

/// Puts an operation's headers in its request, for the generated code (`build.rs` puts it in
/// place of the request builder's `.headers(header_map)`): the same as that merge, which on a
/// request without headers yet is the map itself.
pub(crate) fn set_headers(request: &mut Request, headers: http::HeaderMap) {
    let target = request.headers_mut();
    if target.is_empty() {
        *target = headers;
        return;
    }
    // reqwest's merge: each name's values replace the request's.
    let mut previous: Option<http::header::OccupiedEntry<'_, http::HeaderValue>> = None;
    for (name, value) in headers {
        match name {
            Some(name) => match target.entry(name) {
                http::header::Entry::Occupied(mut entry) => {
                    entry.insert(value);
                    previous = Some(entry);
                }
                http::header::Entry::Vacant(entry) => previous = Some(entry.insert_entry(value)),
            },
            None => {
                if let Some(entry) = previous.as_mut() {
                    entry.append(value);
                }
            }
        }
    }
}

/// An operation's URL, for the generated code (`build.rs` puts it in place of progenitor's
/// `format!` of the base URL and the path): the URL reqwest would parse out of progenitor's text,
/// without parsing it. `segments` is the whole path, which starts with the literal segments
/// `generated::PATH_PREFIXES[prefix]`: the rest are pushed onto the base URL with those, which the
/// transport made once; with `with_token`, that URL already carries the token (as the `pre` hook
/// would append it).
///
/// Anything pushing could render differently (see [`Segment::pushes_as_parsed`]), or a
/// generated client whose base URL is not the transport's, takes progenitor's text and reqwest's
/// parse, errors included.
pub(crate) fn operation_url(
    client: &generated::Client,
    prefix: usize,
    segments: &[Segment<'_>],
    with_token: bool,
) -> reqwest::Result<Url> {
    let shared = &client.inner().shared;
    let literals = generated::PATH_PREFIXES.get(prefix).copied().unwrap_or(&[]);
    if client.baseurl() == shared.base_text
        && let Some([plain, tokened]) = shared.prefixes.get(prefix)
        && segments.len() >= literals.len()
        && let (start, rest) = segments.split_at(literals.len())
        && start
            .iter()
            .map(Segment::as_str)
            .eq(literals.iter().copied())
        && rest.iter().all(Segment::pushes_as_parsed)
    {
        let mut url = if with_token { tokened } else { plain }.clone();
        if rest.is_empty() {
            return Ok(url);
        }
        let pushed = match url.path_segments_mut() {
            Ok(mut path) => {
                path.extend(rest.iter().map(Segment::as_str));
                true
            }
            Err(()) => false,
        };
        if pushed {
            return Ok(url);
        }
    }
    let mut text = client.baseurl().to_owned();
    for segment in segments {
        text.push('/');
        match segment {
            Segment::Literal(literal) => text.push_str(literal),
            Segment::Param(value) => text.push_str(&progenitor_client::encode_path(value)),
        }
    }
    let mut url = client.client().get(text).build()?.url().clone();
    if with_token {
        url.query_pairs_mut()
            .append_pair(TOKEN_PARAMETER, shared.token.expose_secret());
    }
    Ok(url)
}

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
    /// The largest response body read, counted after decompression.
    pub(crate) max_response_bytes: usize,
    /// The base URL: whose origin redirects must keep, and the URL the buffered responses handed
    /// to the generated code carry (never the request's, which holds the token).
    base: Url,
    /// The base URL as the generated client has it (its `baseurl`), which `base` was parsed from.
    base_text: String,
    /// [`generated::PATH_PREFIXES`] pushed onto `base`, without the token and with it as the
    /// query: what [`operation_url`] builds on.
    prefixes: Box<[[Url; 2]]>,
    /// The `reqwest::Client` was passed in: its redirect policy and user agent are its own.
    foreign_client: bool,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("token", &crate::redact::MASK)
            .field("retry", &self.shared.retry)
            .field("request_timeout", &self.shared.request_timeout)
            .field("url_format", &self.shared.format.get())
            .field("max_response_bytes", &self.shared.max_response_bytes)
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

/// How the transport is set up; see [`crate::ClientBuilder`].
pub(crate) struct Settings {
    pub(crate) token: SecretString,
    /// The generated client's `baseurl`, and the same parsed.
    pub(crate) base_text: String,
    pub(crate) base_url: Url,
    pub(crate) retry: RetryPolicy,
    pub(crate) request_timeout: Duration,
    pub(crate) url_format: UrlFormat,
    pub(crate) max_concurrent_requests: usize,
    pub(crate) max_response_bytes: usize,
    pub(crate) foreign_client: bool,
}

impl Transport {
    pub(crate) fn new(settings: Settings) -> Self {
        warn_if_cleartext(&settings.base_url, settings.token.expose_secret());
        let prefixes = generated::PATH_PREFIXES
            .iter()
            .map(|prefix| {
                let mut url = settings.base_url.clone();
                if let Ok(mut path) = url.path_segments_mut() {
                    path.extend(prefix.iter());
                }
                let mut with_token = url.clone();
                with_token
                    .query_pairs_mut()
                    .append_pair(TOKEN_PARAMETER, settings.token.expose_secret());
                [url, with_token]
            })
            .collect();
        Self {
            shared: Arc::new(Shared {
                token: settings.token,
                retry: settings.retry,
                request_timeout: settings.request_timeout,
                format: FormatMemory::new(settings.url_format),
                probe: tokio::sync::Mutex::new(()),
                in_flight: tokio::sync::Semaphore::new(settings.max_concurrent_requests.max(1)),
                max_response_bytes: settings.max_response_bytes,
                base: settings.base_url,
                base_text: settings.base_text,
                prefixes,
                foreign_client: settings.foreign_client,
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

    /// Sends a request (see the module docs). Everything before the first attempt is done when
    /// called; the future returned is the attempts alone, so that no async level around them
    /// holds, and moves, another copy.
    fn execute(
        &self,
        client: &reqwest::Client,
        mut request: Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<Response>> {
        let call = CALL.try_with(|call| *call).unwrap_or_default();
        let create = request.method() == Method::POST;
        // The transport's own timer, around sending and reading the whole answer: cheaper than
        // reqwest's per-request timeout (no boxed timer, no body wrapper), and the same bound.
        let timeout = call.timeout.unwrap_or(self.shared.request_timeout);
        let policy = &self.shared.retry;
        let max_retries = call.max_retries.unwrap_or(policy.get_max_retries());
        let span = tracing::debug_span!(
            "lowcodeapi.request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
        );
        let attempts = async move {
            let mut retry = 0u32;
            let mut hops = 0u32;
            loop {
                let attempt = copy_request(&request);
                // Bounds connections and buffered bodies: 1,000 waits polled in the same instant
                // share a few dozen connections instead of opening 1,000.
                let in_flight = &self.shared.in_flight;
                let permit = match in_flight.try_acquire() {
                    Ok(permit) => permit,
                    Err(_) => in_flight
                        .acquire()
                        .await
                        .expect("the semaphore is never closed"),
                };
                let started = tracing::enabled!(tracing::Level::DEBUG).then(Instant::now);
                let elapsed_ms = || started.map_or(0, |t| t.elapsed().as_millis() as u64);
                let outcome = tokio::time::timeout(timeout, async {
                    let mut response = client.execute(attempt).await.map_err(Attempt::Send)?;
                    let answered = match self.redirect(&response, create, hops) {
                        Redirect::None => {
                            match read_capped(&mut response, self.shared.max_response_bytes).await {
                                Ok(body) => Answered::Body(body),
                                Err(failure) => return Err(Attempt::Read(failure)),
                            }
                        }
                        Redirect::Follow(target) => Answered::Follow(target),
                        Redirect::Refuse(refused) => Answered::Refuse(refused),
                    };
                    Ok((response, answered))
                })
                .await
                .unwrap_or(Err(Attempt::TimedOut));
                let pause = match outcome {
                    Ok((response, Answered::Follow(target))) => {
                        let status = response.status();
                        drop(response);
                        drop(permit);
                        tracing::debug!(
                            status = status.as_u16(),
                            to = target.path(),
                            "following a same-origin redirect"
                        );
                        if status == StatusCode::SEE_OTHER {
                            *request.method_mut() = Method::GET;
                            *request.body_mut() = None;
                        }
                        *request.url_mut() = target;
                        hops += 1;
                        continue;
                    }
                    Ok((response, Answered::Refuse(refused))) => {
                        tracing::warn!(status = response.status().as_u16(), "{}", refused.message);
                        return Err(refused.into_error().await);
                    }
                    Ok((response, Answered::Body(body))) => {
                        let status = response.status();
                        tracing::debug!(
                            attempt = retry + 1,
                            status = status.as_u16(),
                            elapsed_ms = elapsed_ms(),
                            "answered"
                        );
                        if !(retry < max_retries && self.retryable_status(status, create)) {
                            return Ok(self.normalize(response, body, info));
                        }
                        match envelope::retry_after(response.headers(), &body) {
                            Some(wait) if wait > policy.get_max_retry_after() => {
                                tracing::debug!(
                                    retry_after_s = wait.as_secs(),
                                    "Retry-After beyond the cap: not retrying"
                                );
                                return Ok(self.normalize(response, body, info));
                            }
                            Some(wait) => wait,
                            None => policy.backoff(retry),
                        }
                    }
                    Err(Attempt::Read(ReadFailure::TooLarge(refused))) => {
                        tracing::warn!("{}", refused.message);
                        return Err(refused.into_error().await);
                    }
                    Err(Attempt::Send(error) | Attempt::Read(ReadFailure::Failed(error))) => {
                        tracing::debug!(
                            attempt = retry + 1,
                            elapsed_ms = elapsed_ms(),
                            error = %redact(&error.to_string(), Some(self.token())),
                            "no answer"
                        );
                        if !(retry < max_retries && self.retryable_error(&error, create, call)) {
                            // reqwest's Display would print the URL (token and all).
                            return Err(error.without_url());
                        }
                        policy.backoff(retry)
                    }
                    Err(Attempt::TimedOut) => {
                        tracing::debug!(
                            attempt = retry + 1,
                            timeout_ms = timeout.as_millis() as u64,
                            "no answer in time"
                        );
                        // Sent, maybe processed: a create is not sent again, a cancel is checked.
                        let again = !call.no_retry_on_timeout
                            && (!create || policy.retries_create_after_ambiguous_failure());
                        if !(retry < max_retries && again) {
                            return Err(Refused {
                                kind: TransportKind::Timeout,
                                message: format!(
                                    "no complete answer within {:.1} s (the request timeout)",
                                    timeout.as_secs_f64()
                                ),
                            }
                            .into_error()
                            .await);
                        }
                        policy.backoff(retry)
                    }
                };
                drop(permit);
                self.log_retry(retry, "retryable answer");
                tokio::time::sleep(pause).await;
                retry += 1;
            }
        };
        // Without a subscriber that wants the span, polling through it would only cost.
        if span.is_disabled() {
            futures::future::Either::Left(attempts)
        } else {
            futures::future::Either::Right(attempts.instrument(span))
        }
    }

    fn log_retry(&self, retry: u32, why: &str) {
        tracing::info!(
            retry = retry + 1,
            of = self.shared.retry.get_max_retries(),
            reason = %redact(why, Some(self.token())),
            "retrying"
        );
    }

    /// What to do with an answer that may be a redirect.
    fn redirect(&self, response: &Response, create: bool, hops: u32) -> Redirect {
        let base = &self.shared.base;
        if self.shared.foreign_client && !same_origin(response.url(), base) {
            // The client passed in followed a redirect itself, before these hooks could stop it.
            return Redirect::Refuse(Refused::redirect(format!(
                "the HTTP client given to ClientBuilder::http_client followed a redirect to {}, \
                 another origin than the base URL's ({}); build that client with \
                 reqwest::redirect::Policy::none() so that no request leaves the base URL's origin",
                self.shown(response.url()),
                base.origin().ascii_serialization(),
            )));
        }
        let status = response.status();
        if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return Redirect::None;
        }
        let Some(location) = response.headers().get(http::header::LOCATION) else {
            return Redirect::None;
        };
        let target = location
            .to_str()
            .ok()
            .and_then(|location| response.url().join(location).ok());
        let Some(mut target) = target else {
            return Redirect::Refuse(Refused::redirect(format!(
                "HTTP {} with a Location that is not a valid URL: not followed; check the base \
                 URL ({})",
                status.as_u16(),
                self.shown(base),
            )));
        };
        let code = status.as_u16();
        if !same_origin(&target, base) {
            return Redirect::Refuse(Refused::redirect(format!(
                "HTTP {code} to {}, another origin than the base URL's ({}): not followed, so \
                 neither the token nor the request left {}; check the base URL, or what answers \
                 in its place",
                self.shown(&target),
                base.origin().ascii_serialization(),
                base.origin().ascii_serialization(),
            )));
        }
        if create {
            return Redirect::Refuse(Refused::redirect(format!(
                "HTTP {code} to {}: a create is never sent again because of a redirect (it could \
                 create a second task); nothing was created by this client after the redirect; \
                 set the base URL to where the server points",
                self.shown(&target),
            )));
        }
        if hops >= MAX_REDIRECTS {
            return Redirect::Refuse(Refused::redirect(format!(
                "more than {MAX_REDIRECTS} redirects (the last, HTTP {code}, to {}): not followed; \
                 check the base URL",
                self.shown(&target),
            )));
        }
        // Same origin: the token may travel there, and must, if the Location dropped the query.
        let has_token = target.query_pairs().any(|(key, _)| key == TOKEN_PARAMETER);
        if !has_token {
            target
                .query_pairs_mut()
                .append_pair(TOKEN_PARAMETER, self.token());
        }
        Redirect::Follow(target)
    }

    /// A URL as errors show it: origin and path, no query, redacted.
    fn shown(&self, url: &Url) -> String {
        redact(
            &format!("{}{}", url.origin().ascii_serialization(), url.path()),
            Some(self.token()),
        )
    }

    /// Hands an answer to the generated code, with its success body taken out of its envelope.
    ///
    /// A 200 answer to an operation that decodes JSON at 200 and nothing else is handed back as
    /// it came, its body (read) marked [`Deferred`]: the generated code hands it to
    /// [`decode_response`] and to nothing else, which unwraps it, in the same pass as the typed
    /// decode, with the same outcome, and never shows its URL (which holds the token).
    fn normalize(&self, mut response: Response, mut body: Bytes, info: &OperationInfo) -> Response {
        let mut status = response.status();
        if status == StatusCode::OK && generated::json_only_at_200(info.operation_id) {
            response.extensions_mut().insert(Deferred {
                body,
                transport: self.clone(),
            });
            return response;
        }
        let version = response.version();
        let mut headers = {
            let mut response = response;
            std::mem::take(response.headers_mut())
        };
        if status.is_success() {
            match envelope::unwrap_success(&body) {
                Success::Payload(_, payload) => {
                    body = payload;
                    payload_headers(&mut headers);
                }
                Success::Empty(_) => {
                    status = StatusCode::NO_CONTENT;
                    body = Bytes::new();
                    strip_length(&mut headers);
                }
                Success::Bare => {}
            }
        }
        let mut builder = http::Response::builder()
            .status(status)
            .version(version)
            .url(self.shared.base.clone());
        if let Some(slot) = builder.headers_mut() {
            *slot = headers;
        }
        Response::from(
            builder
                .body(body)
                .expect("status and headers came from a valid response"),
        )
    }
}

/// A copy of a request to send, the original kept for a retry: what `Request::try_clone` makes.
///
/// A request without a body or a timeout of its own (the generated code's GETs and DELETEs) is
/// copied here: method, URL, headers and version are all it has (a request made by reqwest's
/// builder keeps nothing else but that timeout in its extensions), and reqwest's copy would also
/// make an extension map for the timeout it does not have, then drop it for a copy of the
/// original's (empty) one.
fn copy_request(request: &Request) -> Request {
    if request.body().is_some() || request.timeout().is_some() {
        return request
            .try_clone()
            .expect("generated requests have buffered bodies");
    }
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    copy
}

/// The headers of a payload taken out of its envelope: its own length, JSON.
fn payload_headers(headers: &mut http::HeaderMap) {
    strip_length(headers);
    let json = http::HeaderValue::from_static("application/json");
    if headers.get(http::header::CONTENT_TYPE) != Some(&json) {
        headers.insert(http::header::CONTENT_TYPE, json);
    }
}

fn strip_length(headers: &mut http::HeaderMap) {
    headers.remove(http::header::CONTENT_LENGTH);
    headers.remove(http::header::CONTENT_ENCODING);
}

/// Scheme, host and port (the port the scheme implies when none is written).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// One warning per client whose token would cross a network in clear text.
fn warn_if_cleartext(base: &Url, token: &str) {
    if base.scheme() != "http" {
        return;
    }
    let loopback = match base.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if !loopback {
        tracing::warn!(
            base_url = %redact(base.as_str(), Some(token)),
            "the base URL uses plain http to a host that is not loopback: the API token travels \
             unencrypted in every request's query string; use https"
        );
    }
}

/// What one attempt that got an answer makes of it.
enum Answered {
    /// The body, read whole (within the limit).
    Body(Bytes),
    /// A same-origin redirect to follow.
    Follow(Url),
    /// A redirect this client does not follow.
    Refuse(Refused),
}

/// How one attempt failed.
enum Attempt {
    /// No answer (connection refused, reset, ...).
    Send(reqwest::Error),
    /// The answer's body could not be read, or was too large.
    Read(ReadFailure),
    /// No complete answer within the request timeout.
    TimedOut,
}

enum Redirect {
    /// Not a redirect: an ordinary answer.
    None,
    /// A same-origin redirect to follow, token included.
    Follow(Url),
    /// A redirect this client does not follow.
    Refuse(Refused),
}

/// An answer this client refused (or gave up waiting for); reaches [`crate::Error`] as a
/// transport error of its kind.
#[derive(Debug)]
pub(crate) struct Refused {
    pub(crate) kind: TransportKind,
    pub(crate) message: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refused {}

impl Refused {
    fn redirect(message: String) -> Self {
        Self {
            kind: TransportKind::RedirectRefused,
            message,
        }
    }

    /// The hook interface only returns `reqwest::Error`s, which have no public constructor: a body
    /// that fails at once makes one, with this refusal as its source (see [`Refused::find`]).
    async fn into_error(self) -> reqwest::Error {
        let failing =
            reqwest::Body::wrap_stream(futures::stream::once(async move { Err::<Bytes, _>(self) }));
        let mut response = Response::from(http::Response::new(failing));
        loop {
            match response.chunk().await {
                Err(error) => return error,
                // The stream's only item is the error.
                Ok(_) => continue,
            }
        }
    }

    /// The refusal inside an error's chain of sources, if any.
    pub(crate) fn find<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(refused) = error.downcast_ref::<Refused>() {
                return Some(refused);
            }
            current = error.source();
        }
        None
    }
}

enum ReadFailure {
    /// Reading failed (a broken connection, a bad encoding).
    Failed(reqwest::Error),
    /// The body passed the bound.
    TooLarge(Refused),
}

/// Reads a body, decoded, stopping as soon as it passes `limit` bytes: a compressed body never
/// inflates further than that. One chunk (the usual answer) is returned as is, without a copy.
async fn read_capped(response: &mut Response, limit: usize) -> Result<Bytes, ReadFailure> {
    let too_large = |response: &Response, declared: Option<u64>| {
        let status = response.status().as_u16();
        let declared = declared
            .map(|n| format!(" (it declared {n} bytes)"))
            .unwrap_or_default();
        ReadFailure::TooLarge(Refused {
            kind: TransportKind::ResponseTooLarge,
            message: format!(
                "the HTTP {status} answer's body is larger than the {} limit, counted after \
                 decompression{declared}; reading stopped there. The server, or a proxy in front of \
                 it, sent far more than any Runway answer; if such answers are expected, raise \
                 ClientBuilder::max_response_bytes",
                human_bytes(limit),
            ),
        })
    };
    let declared = response.content_length();
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(response, declared));
    }
    let first = match response.chunk().await {
        Ok(Some(chunk)) => chunk,
        Ok(None) => return Ok(Bytes::new()),
        Err(error) => return Err(ReadFailure::Failed(error)),
    };
    if first.len() > limit {
        return Err(too_large(response, None));
    }
    let second = match response.chunk().await {
        Ok(Some(chunk)) => chunk,
        Ok(None) => return Ok(first),
        Err(error) => return Err(ReadFailure::Failed(error)),
    };
    // More than one chunk: the bytes are copied (a chunk can pin a buffer far larger than
    // itself), into one buffer of the declared size, or into blocks joined at the end, so that
    // nothing grows by doubling past the limit.
    let mut exact = declared.map(|n| {
        let mut body = Vec::with_capacity(n as usize);
        body.extend_from_slice(&first);
        body
    });
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    let mut total = first.len();
    let mut next = Some(second);
    while let Some(chunk) = next {
        total += chunk.len();
        if total > limit {
            return Err(too_large(response, None));
        }
        match &mut exact {
            Some(body) => body.extend_from_slice(&chunk),
            None => {
                let mut rest: &[u8] = &chunk;
                while !rest.is_empty() {
                    if blocks.last().is_none_or(|b| b.len() == b.capacity()) {
                        blocks.push(Vec::with_capacity(BLOCK.min(limit)));
                    }
                    let block = blocks.last_mut().expect("a block was just pushed");
                    let take = rest.len().min(block.capacity() - block.len());
                    block.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                }
            }
        }
        next = match response.chunk().await {
            Ok(chunk) => chunk,
            Err(error) => return Err(ReadFailure::Failed(error)),
        };
    }
    let body = match exact {
        Some(body) => body,
        None => {
            let mut body = Vec::with_capacity(total);
            body.extend_from_slice(&first);
            drop(first);
            for block in blocks {
                body.extend_from_slice(&block);
            }
            body
        }
    };
    Ok(Bytes::from(body))
}

/// Decodes a JSON answer for the generated code, in place of progenitor's
/// `ResponseValue::from_response` (`build.rs` rewrites every call): the same status, headers,
/// typed value and errors, but the headers are moved rather than copied, and the body the `exec`
/// hook has already read is taken as it is instead of being collected again. A 200 answer the
/// hook marked [`Deferred`] still has its envelope: the hosted payload is found and decoded in
/// one pass, anything else is unwrapped as the hook would have done it.
pub(crate) async fn decode_response<T, E>(
    mut response: Response,
) -> Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>
where
    T: serde::de::DeserializeOwned,
{
    let status = response.status();
    let mut headers = std::mem::take(response.headers_mut());
    let Some(Deferred { body, transport }) = response.extensions_mut().remove::<Deferred>() else {
        let body = buffered_body(&mut response)
            .await
            .map_err(progenitor_client::Error::ResponseBodyError)?;
        return decode(body, status, headers);
    };
    // The hook left the envelope in place (see `Transport::normalize`): the same outcome as if
    // it had unwrapped it, the usual hosted answer decoded in one pass.
    if let Some(inner) = envelope::decode_hosted::<T>(&body) {
        payload_headers(&mut headers);
        return Ok(progenitor_client::ResponseValue::new(
            inner, status, headers,
        ));
    }
    match envelope::unwrap_success(&body) {
        Success::Payload(_, payload) => {
            payload_headers(&mut headers);
            decode(payload, status, headers)
        }
        Success::Empty(_) => {
            // Unwrapped by the hook, this would have been a 204, which these operations do not
            // expect.
            strip_length(&mut headers);
            let mut builder = http::Response::builder()
                .status(StatusCode::NO_CONTENT)
                .version(response.version())
                // The base URL, as on every answer the hook rebuilds: not the request's.
                .url(transport.shared.base.clone());
            if let Some(slot) = builder.headers_mut() {
                *slot = headers;
            }
            let empty = builder
                .body(Bytes::new())
                .expect("status and headers came from a valid response");
            Err(progenitor_client::Error::UnexpectedResponse(
                Response::from(empty),
            ))
        }
        Success::Bare => decode(body, status, headers),
    }
}

// progenitor's error type, as the generated code returns it.
#[allow(clippy::result_large_err)]
fn decode<T: serde::de::DeserializeOwned, E>(
    body: Bytes,
    status: StatusCode,
    headers: http::HeaderMap,
) -> Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>> {
    match serde_json::from_slice(&body) {
        Ok(inner) => Ok(progenitor_client::ResponseValue::new(
            inner, status, headers,
        )),
        Err(error) => Err(progenitor_client::Error::InvalidResponsePayload(
            body, error,
        )),
    }
}

/// Marks a 200 answer whose envelope the hook left for [`decode_response`]: its whole body, and
/// the transport (whose base URL an answer made from it carries).
#[derive(Clone)]
struct Deferred {
    body: Bytes,
    transport: Transport,
}

/// The whole body: the buffer itself when it comes in one piece (as the `exec` hook hands it
/// back), else the pieces joined.
async fn buffered_body(response: &mut Response) -> reqwest::Result<Bytes> {
    let Some(first) = response.chunk().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = response.chunk().await? else {
        return Ok(first);
    };
    let mut body = Vec::with_capacity(first.len() + second.len());
    body.extend_from_slice(&first);
    body.extend_from_slice(&second);
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

/// The size of the blocks a body of unknown length is read into.
const BLOCK: usize = 64 * 1024;

/// `8 MiB`, `1.5 KiB`, `300 bytes`.
fn human_bytes(n: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if n >= MIB
        && n.checked_mul(10)
            .is_some_and(|tenths| tenths.is_multiple_of(MIB))
    {
        format!("{} MiB", n as f64 / MIB as f64)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let shared = &self.inner().shared;
        // An operation without query parameters of its own has it already (`operation_url`);
        // otherwise it is appended to the serialized URL as it stands: nothing else is parsed
        // again.
        if !generated::token_in_url(info.operation_id) {
            request
                .url_mut()
                .query_pairs_mut()
                .append_pair(TOKEN_PARAMETER, shared.token.expose_secret());
        }
        // A client built here sends it as a default header already.
        if shared.foreign_client {
            request.headers_mut().insert(
                reqwest::header::USER_AGENT,
                reqwest::header::HeaderValue::from_static(USER_AGENT),
            );
        }
        Ok(())
    }

    // The transport's future itself, not one more async level around it: the generated code
    // awaits it directly (a level would hold, and move, a copy of the whole future).
    fn exec(
        &self,
        request: Request,
        info: &OperationInfo,
    ) -> impl Future<Output = reqwest::Result<Response>> {
        self.inner().execute(self.client(), request, info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What progenitor's generated code sends: its text (`encode_path` of the value), parsed by
    /// reqwest, and the token appended by the `pre` hook.
    fn progenitor_url(baseurl: &str, value: &str) -> Url {
        let mut url = Url::parse(&format!(
            "{baseurl}/v1/tasks/{}",
            progenitor_client::encode_path(value)
        ))
        .unwrap();
        url.query_pairs_mut().append_pair("api_token", "at_t/k+n&");
        url
    }

    fn client(base: &str) -> crate::Client {
        crate::Client::builder()
            .api_token("at_t/k+n&")
            .base_url(base)
            .build()
            .unwrap()
    }

    fn built(raw: &generated::Client, value: &str) -> Url {
        let segments = [
            Segment::Literal("v1"),
            Segment::Literal("tasks"),
            Segment::Param(value),
        ];
        let prefix = generated::PATH_PREFIXES
            .iter()
            .position(|p| *p == ["v1", "tasks"])
            .unwrap();
        operation_url(raw, prefix, &segments, true).unwrap()
    }

    const AWKWARD: &[&str] = &[
        "17f20503-6c24-4c16-946b-35dbbce2af2f",
        "",
        ".",
        "..",
        "...",
        "%2e",
        "%2e%2E",
        ".%2e",
        "a/b",
        "a%2Fb",
        "a\\b",
        "a\tb\nc\r",
        "a b?c#d",
        "{x}`<>\"'",
        "ü€😀",
        "\u{0}\u{1f}\u{7f}",
        "id",
        "~-_.!$&'()*+,;=:@",
    ];

    #[test]
    fn operation_urls_are_what_progenitor_s_text_parses_to() {
        for base in [
            "http://127.0.0.1:8080/runwayml",
            "https://api.lowcodeapi.com/runwayml/",
            "http://example.com",
            "https://example.com:443/a%20b/c d/",
        ] {
            let client = client(base);
            let raw = client.raw();
            for value in AWKWARD {
                assert_eq!(
                    built(raw, value),
                    progenitor_url(raw.baseurl(), value),
                    "{base} {value:?}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_value_makes_progenitor_s_url(value in "(?s)(.|[\\\\./%]){0,16}") {
            let client = client("http://127.0.0.1:8080/runwayml");
            proptest::prop_assert_eq!(
                built(client.raw(), &value),
                progenitor_url(client.raw().baseurl(), &value)
            );
        }
    }

    #[test]
    fn headers_are_set_as_the_request_builder_merges_them() {
        use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
        let map = || {
            let mut map = HeaderMap::new();
            map.append(ACCEPT, HeaderValue::from_static("application/json"));
            map.append("api-version", HeaderValue::from_static("2024-11-06"));
            map.append("x-two", HeaderValue::from_static("a"));
            map.append("x-two", HeaderValue::from_static("b"));
            map
        };
        let http = reqwest::Client::new();
        for before in [
            vec![],
            vec![(CONTENT_TYPE, "application/json")],
            vec![(ACCEPT, "*/*"), (ACCEPT, "text/plain")],
        ] {
            let mut builder = http.get("http://127.0.0.1/");
            for (name, value) in &before {
                builder = builder.header(name, *value);
            }
            let merged = builder.try_clone().unwrap().headers(map()).build().unwrap();
            let mut set = builder.build().unwrap();
            set_headers(&mut set, map());
            let pairs = |request: &Request| -> Vec<(String, String)> {
                request
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
                    .collect()
            };
            assert_eq!(pairs(&set), pairs(&merged), "{before:?}");
        }
    }

    #[test]
    fn requests_are_copied_as_reqwest_copies_them() {
        let http = reqwest::Client::new();
        let requests = [
            http.get("http://127.0.0.1/v1/tasks/x?api_token=t")
                .header("accept", "application/json")
                .header("x-two", "a")
                .header("x-two", "b")
                .version(http::Version::HTTP_2)
                .timeout(Duration::from_secs(7))
                .build()
                .unwrap(),
            http.delete("http://127.0.0.1/").build().unwrap(),
            http.post("http://127.0.0.1/v1/image_to_video")
                .body("{}")
                .build()
                .unwrap(),
        ];
        for request in requests {
            let (ours, theirs) = (copy_request(&request), request.try_clone().unwrap());
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
            assert_eq!(ours.headers(), theirs.headers());
            assert_eq!(ours.version(), theirs.version());
            assert_eq!(ours.timeout(), theirs.timeout());
            assert_eq!(
                ours.body().and_then(|b| b.as_bytes()),
                theirs.body().and_then(|b| b.as_bytes())
            );
        }
    }

    #[test]
    fn a_generated_client_on_another_base_url_gets_its_own() {
        let client = client("http://127.0.0.1:8080/runwayml");
        let raw = generated::Client::new_with_client(
            "http://127.0.0.1:9090/other",
            reqwest::Client::new(),
            client.raw().inner().clone(),
        );
        for value in AWKWARD {
            assert_eq!(
                built(&raw, value),
                progenitor_url("http://127.0.0.1:9090/other", value),
                "{value:?}"
            );
        }
        // An invalid base URL fails as reqwest fails to parse progenitor's text.
        let raw = generated::Client::new_with_client(
            "not a url",
            reqwest::Client::new(),
            client.raw().inner().clone(),
        );
        let error = operation_url(&raw, 0, &[Segment::Literal("v1")], false).unwrap_err();
        assert!(error.is_builder(), "{error:?}");
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let base = Url::parse("http://127.0.0.1:8080/runwayml").unwrap();
        assert!(same_origin(
            &Url::parse("http://127.0.0.1:8080/other?x=1").unwrap(),
            &base
        ));
        assert!(!same_origin(
            &Url::parse("http://127.0.0.1:8081/runwayml").unwrap(),
            &base
        ));
        assert!(!same_origin(
            &Url::parse("https://127.0.0.1:8080/runwayml").unwrap(),
            &base
        ));
        assert!(!same_origin(
            &Url::parse("http://localhost:8080/runwayml").unwrap(),
            &base
        ));
        let https = Url::parse("https://api.lowcodeapi.com/runwayml").unwrap();
        assert!(same_origin(
            &Url::parse("https://api.lowcodeapi.com:443/x").unwrap(),
            &https
        ));
    }

    #[test]
    fn limits_read_as_people_write_them() {
        assert_eq!(human_bytes(DEFAULT_MAX_RESPONSE_BYTES), "8 MiB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(human_bytes(4096), "4 KiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }

    #[tokio::test]
    async fn a_refusal_survives_the_trip_through_reqwest_error() {
        let error = Refused::redirect("HTTP 307 to elsewhere".to_owned())
            .into_error()
            .await;
        let found = Refused::find(&error).expect("the refusal is in the chain");
        assert_eq!(found.kind, TransportKind::RedirectRefused);
        assert_eq!(found.message, "HTTP 307 to elsewhere");
    }
}
