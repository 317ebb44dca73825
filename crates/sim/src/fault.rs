//! Faults injected on demand, per route, counted.

use std::sync::Arc;
use std::time::Duration;

use crate::state::Shared;

/// The routes the simulator knows; used in the request log, in counts and to aim faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Route {
    /// `POST /runwayml/v1/image_to_video`.
    CreateTask,
    /// `GET` a task, in either URL format.
    GetTask,
    /// `DELETE` a task, in either URL format.
    DeleteTask,
    /// `GET /runwayml/openapi`.
    OpenApi,
    /// `GET /runwayml/definition`.
    Definition,
    /// Anything else, including a switched-off URL format: `404 {"message":"Not Found"}`.
    NotFound,
    /// `GET`/`HEAD` of an output link on the storage host
    /// ([`Simulator::storage_url`](crate::Simulator::storage_url)): a download.
    Output,
    /// Every route: matches any request in [`Simulator::count`](crate::Simulator::count) and
    /// [`Simulator::fault`](crate::Simulator::fault). Never the route of a logged request.
    Any,
}

impl Route {
    /// Whether a request on `self` is matched by a filter for `filter`.
    pub fn matches(self, filter: Route) -> bool {
        filter == Route::Any || filter == self
    }
}

/// Something going wrong on the way to Runway or back.
///
/// Faults fire only on requests that were routed (to [`Route::CreateTask`], [`Route::GetTask`],
/// [`Route::DeleteTask`], or a document route) and passed the token check: they stand for what
/// happens between the proxy and Runway, or on the way back to the client.
///
/// Two families, by what happens to the simulator's state:
/// - the request never reaches Runway, nothing changes: [`RateLimited`](Fault::RateLimited),
///   [`Status`](Fault::Status), [`Html`](Fault::Html), [`UpstreamText`](Fault::UpstreamText),
///   [`UpstreamUnreachable`](Fault::UpstreamUnreachable), [`DropConnection`](Fault::DropConnection),
///   [`Hang`](Fault::Hang), and the hostile-server answers [`GzipBomb`](Fault::GzipBomb),
///   [`OversizeBody`](Fault::OversizeBody) and [`CrossOriginRedirect`](Fault::CrossOriginRedirect);
/// - Runway did the work (a create made a task, a delete cancelled it) and only the answer is
///   lost or damaged: [`DropAfterProcessing`](Fault::DropAfterProcessing),
///   [`NoContentHang`](Fault::NoContentHang), [`MalformedJson`](Fault::MalformedJson),
///   [`TruncatedBody`](Fault::TruncatedBody), [`HugeBody`](Fault::HugeBody).
///
/// Statuses given to [`Status`](Fault::Status), [`Html`](Fault::Html) and
/// [`UpstreamText`](Fault::UpstreamText) are clamped to `200..=599`. Faults queued on
/// [`Route::NotFound`] never fire.
///
/// [`Delay`](Fault::Delay) is of the second family too: the work is done at once, only the
/// answer is late.
///
/// # On downloads ([`Route::Output`])
///
/// Faults queued on the storage host's route fire after the link's signature, its expiry and
/// the task were checked, and shape the download:
/// - [`DropBodyAfter(n)`](Fault::DropBodyAfter): the right headers, `n` bytes of the body, then
///   the connection closes (a dropped download, to resume with `Range`);
/// - [`SlowBody`](Fault::SlowBody): the body in small chunks with a pause between them;
/// - [`Status(s)`](Fault::Status): status `s` with an S3-style XML error body (e.g. 503);
///   [`Html(s)`](Fault::Html): an HTML error page;
///   [`RateLimited`](Fault::RateLimited): `503 SlowDown` with `Retry-After`;
///   [`UpstreamText`](Fault::UpstreamText): that status and text;
///   [`UpstreamUnreachable`](Fault::UpstreamUnreachable): `502`;
/// - [`LengthOver(n)`](Fault::LengthOver): a `Content-Length` `n` bytes larger than what is
///   sent, then the connection closes (a wrong length);
/// - [`TruncatedBody`](Fault::TruncatedBody): a right `Content-Length`, half the body, then
///   the connection closes;
/// - [`ContentType(t)`](Fault::ContentType): the file under another `Content-Type` (e.g.
///   `text/html`, what a captive portal or an error page looks like);
/// - [`Delay`](Fault::Delay) (the answer is late), [`DropConnection`](Fault::DropConnection) and
///   [`DropAfterProcessing`](Fault::DropAfterProcessing) (no answer, the connection closes),
///   [`Hang`](Fault::Hang) and [`NoContentHang`](Fault::NoContentHang) (no answer ever).
///
/// [`MalformedJson`](Fault::MalformedJson), [`HugeBody`](Fault::HugeBody),
/// [`GzipBomb`](Fault::GzipBomb), [`OversizeBody`](Fault::OversizeBody) and
/// [`CrossOriginRedirect`](Fault::CrossOriginRedirect) do nothing to a download (they fire and
/// are counted, and the file is served as usual), and the download faults (`DropBodyAfter`, `SlowBody`, `LengthOver`,
/// `ContentType`) do nothing on the API routes. A fault queued on [`Route::Any`] fires on
/// downloads too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// Runway answers `429 {"error":"You have exceeded the rate limit. Please try again later."}`.
    /// Hosted: a `Retry-After: <seconds>` header and
    /// `{"data":{"error":{"message":"…","code":"RATE_LIMITED"}}}`. Self-hosted: no header; the
    /// seconds appear only in the body, at `headers["retry-after"]`. Seconds are rounded up.
    RateLimited {
        /// The delay announced.
        retry_after: Duration,
    },
    /// Runway answers this status with a JSON body `{"error":"<reason>"}` (reason: e.g.
    /// `Internal server error`, `Bad gateway`, `Service unavailable`, `Gateway timeout`),
    /// in the dialect's error envelope. Hosted codes: 500 `INTERNAL_ERROR`, 502 `BAD_GATEWAY`,
    /// 503 `SERVICE_UNAVAILABLE`, 504 `GATEWAY_TIMEOUT`, 429 `RATE_LIMITED`, 400 `BAD_REQUEST`,
    /// 401 `UNAUTHORIZED`, 403 `FORBIDDEN`, 404 `NOT_FOUND`.
    Status(u16),
    /// A load balancer in front of the proxy answers this status with an nginx-style HTML page
    /// (`Content-Type: text/html`), no envelope at all.
    Html(u16),
    /// Runway answers `status` with a `text/plain` body. Self-hosted:
    /// `{"message":"Error received from the runwayml API","provider":"runwayml","error":"<body>","headers":{…}}`;
    /// hosted: the text becomes `data.error.message`.
    UpstreamText {
        /// The upstream status.
        status: u16,
        /// The upstream body.
        body: String,
    },
    /// The proxy cannot connect to Runway. Self-hosted: `500
    /// {"message":"connect ECONNREFUSED 127.0.0.1:443","provider":"runwayml","error":{"message":"connect ECONNREFUSED 127.0.0.1:443"}}`;
    /// hosted: `500` with code `INTERNAL_ERROR` and the same message.
    UpstreamUnreachable,
    /// Processes the request at once, then waits this long (real time, whatever the clock)
    /// before answering normally. A client that gives up meanwhile has still done what it asked
    /// (a create made its task): the "timed out, but it reached Runway" case.
    Delay(Duration),
    /// Reads the request, then closes the connection without any response; nothing changes.
    DropConnection,
    /// Processes the request (a create makes a task), then closes the connection without any
    /// response: the case where retrying a create bills twice.
    DropAfterProcessing,
    /// Reads the request and never answers; nothing changes. The connection stays open until
    /// the client gives up or the simulator shuts down.
    Hang,
    /// Processes the request, then never answers: the self-hosted server's behaviour when
    /// Runway's `204` to a `DELETE` has no `Content-Type` (the task *is* cancelled).
    NoContentHang,
    /// Processes the request and answers its normal status with a body that is not valid JSON:
    /// the normal body with a trailing comma before its final `}` (`{"data":{"id":"…"},}`),
    /// or `{` when the normal body is empty.
    MalformedJson,
    /// Processes the request and answers its normal status with a `Content-Length` of the full
    /// body but only the first half of it, then closes the connection.
    TruncatedBody,
    /// Processes the request and answers its normal status and body, padded to at least `bytes`
    /// bytes (at most 256 MiB): a JSON object gains a last field `"padding":"xxx…"` (still valid
    /// JSON); other bodies get trailing spaces.
    HugeBody {
        /// The minimum size of the body.
        bytes: usize,
    },
    /// A decompression bomb: answers `status` with `Content-Type: application/json`,
    /// `Content-Encoding: gzip` (whatever the request's `Accept-Encoding`) and a gzip body of
    /// about 1 MiB that inflates to 1 GiB of zero bytes
    /// ([`GZIP_BOMB_DECODED_BYTES`](crate::GZIP_BOMB_DECODED_BYTES)), with a valid checksum.
    /// No envelope; nothing reaches Runway. The body is made once per process, on first use
    /// (well under a second), and shared. [`Fault::gzip_bomb`] makes the `200` one.
    GzipBomb {
        /// The status answered (clamped to `200..=599`).
        status: u16,
    },
    /// An oversize plain body: answers `status` with `Content-Type: application/json` and a
    /// body of exactly `bytes` bytes (at least 14), `{"padding":"xxx…"}`, streamed in 64 KiB
    /// pieces from one static buffer, so the simulator's memory does not grow with it (any
    /// size up to `u64::MAX` works). With `content_length` the size is announced in
    /// `Content-Length` (a client can refuse it before reading); without it the body is
    /// chunked and a client only finds out by counting. No envelope; nothing reaches Runway.
    /// [`Fault::oversize_body`] makes the `200`, `Content-Length` one.
    OversizeBody {
        /// The status answered (clamped to `200..=599`).
        status: u16,
        /// The body's size.
        bytes: u64,
        /// Whether `Content-Length` announces it (else `Transfer-Encoding: chunked`).
        content_length: bool,
    },
    /// A redirect to another origin: answers `status` (a 3xx; anything else becomes `307`)
    /// with an empty body and `Location` pointing at the same path and query, token included,
    /// on the simulator's [other origin](crate::Simulator::other_origin) (same host, another
    /// port, so another origin). A client that follows it hands the request and the
    /// `api_token` to that listener, whose own log shows it; a client that refuses it leaves
    /// that log empty. Nothing reaches Runway. For `307`/`308` a follower must re-send the
    /// method and body (a create `POST` would create there). [`Fault::cross_origin_redirect`]
    /// makes the `307` one.
    CrossOriginRedirect {
        /// The redirect status: `301`, `302`, `303`, `307` or `308`.
        status: u16,
    },
    /// Downloads only: the right status and headers, then this many bytes of the body, then the
    /// connection closes.
    DropBodyAfter(u64),
    /// Downloads only: the body in chunks of `chunk` bytes (1 to 65536), with `delay` (real
    /// time) before each chunk after the first.
    SlowBody {
        /// Bytes per chunk.
        chunk: usize,
        /// The pause between chunks.
        delay: Duration,
    },
    /// Downloads only: `Content-Length` announces this many bytes more than the body has; the
    /// whole body is sent, then the connection closes.
    LengthOver(u64),
    /// Downloads only: the file is served with this `Content-Type` instead of `video/mp4`.
    ContentType(String),
}

impl Fault {
    /// [`Fault::GzipBomb`] answering `200`.
    pub fn gzip_bomb() -> Fault {
        Fault::GzipBomb { status: 200 }
    }

    /// [`Fault::OversizeBody`] answering `200` with `bytes` bytes announced in `Content-Length`.
    pub fn oversize_body(bytes: u64) -> Fault {
        Fault::OversizeBody {
            status: 200,
            bytes,
            content_length: true,
        }
    }

    /// [`Fault::CrossOriginRedirect`] with status `307` (method and body kept).
    pub fn cross_origin_redirect() -> Fault {
        Fault::CrossOriginRedirect { status: 307 }
    }

    /// Whether the request is processed (state changes) before the fault shapes the answer.
    pub fn processes_request(&self) -> bool {
        matches!(
            self,
            Fault::Delay(_)
                | Fault::DropAfterProcessing
                | Fault::NoContentHang
                | Fault::MalformedJson
                | Fault::TruncatedBody
                | Fault::HugeBody { .. }
        )
    }
}

/// A queued fault, as stored.
#[derive(Clone, Debug)]
pub(crate) struct FaultRule {
    pub(crate) id: u64,
    pub(crate) route: Route,
    pub(crate) fault: Fault,
    /// `None`: always.
    pub(crate) remaining: Option<u64>,
    pub(crate) probability: f64,
    pub(crate) fired: u64,
}

/// A handle on a queued fault, returned by [`Simulator::fault`](crate::Simulator::fault).
///
/// The fault is queued as soon as `fault` returns, to fire on the next matching request
/// (`times(1)`); the methods below change that. Dropping the handle leaves the fault queued.
///
/// ```no_run
/// # async fn demo(sim: &lowcodeapi_runwayml_sim::Simulator) {
/// use std::time::Duration;
/// use lowcodeapi_runwayml_sim::{Fault, Route};
/// sim.fault(Route::CreateTask, Fault::RateLimited { retry_after: Duration::from_secs(2) }).times(2);
/// let flaky = sim.fault(Route::GetTask, Fault::Status(503)).always().probability(0.3);
/// // … later
/// println!("fired {} times", flaky.fired());
/// flaky.remove();
/// # }
/// ```
#[derive(Clone)]
pub struct FaultHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) id: u64,
}

impl std::fmt::Debug for FaultHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultHandle").field("id", &self.id).finish()
    }
}

impl FaultHandle {
    fn update(&self, f: impl FnOnce(&mut FaultRule)) {
        self.shared.with_state(|s| {
            if let Some(rule) = s.faults.iter_mut().find(|r| r.id == self.id) {
                f(rule);
            }
        });
    }

    /// Fires on the next `n` matching requests (counting only those it fires on), then retires.
    pub fn times(self, n: u64) -> Self {
        self.update(|r| r.remaining = Some(n));
        self
    }

    /// Fires on every matching request until removed.
    pub fn always(self) -> Self {
        self.update(|r| r.remaining = None);
        self
    }

    /// Fires on each matching request with probability `p` (clamped to `0..=1`), drawn from the
    /// simulator's seeded generator (see [`Builder::seed`](crate::Builder::seed)).
    pub fn probability(self, p: f64) -> Self {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self.update(|r| r.probability = p);
        self
    }

    /// How many requests this fault has fired on so far.
    pub fn fired(&self) -> u64 {
        self.shared.with_state(|s| {
            s.faults
                .iter()
                .find(|r| r.id == self.id)
                .map(|r| r.fired)
                .or_else(|| s.retired_faults.get(&self.id).copied())
                .unwrap_or(0)
        })
    }

    /// How many more times it will fire (`None`: no limit; `Some(0)`: retired or removed).
    pub fn remaining(&self) -> Option<u64> {
        self.shared.with_state(|s| {
            s.faults
                .iter()
                .find(|r| r.id == self.id)
                .map_or(Some(0), |r| r.remaining)
        })
    }

    /// Removes the fault from the queue.
    pub fn remove(self) {
        self.shared.with_state(|s| {
            if let Some(pos) = s.faults.iter().position(|r| r.id == self.id) {
                let rule = s.faults.remove(pos);
                s.retired_faults.insert(rule.id, rule.fired);
            }
        });
    }
}
