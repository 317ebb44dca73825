//! The storage host: where a `SUCCEEDED` task's output links point, like Runway's CDN.
//!
//! Its own listener on `127.0.0.1` (another origin than the API), serving
//! `GET`/`HEAD /outputs/<task-id>/<n>.mp4?_jwt=<token>`:
//!
//! - the token is a JWT (`HS256`, base64url parts without padding) whose payload is
//!   `{"exp": <unix seconds>, "task": "<task-id>", "n": <n>}`, signed with a per-simulator key
//!   (derived from the [seed](crate::Builder::seed)); `exp` is on the simulator's clock
//!   ([epoch](crate::Builder::epoch) plus simulated time), issued
//!   [`output_link_ttl`](crate::Builder::output_link_ttl) ahead (24 h by default), afresh on
//!   every `GET` of the task;
//! - a bad or missing signature, or a token for another output: `403`
//!   `<Error><Code>AccessDenied</Code><Message>Signature mismatch</Message></Error>`
//!   (`Content-Type: application/xml`); an expired one: the same with
//!   `Request has expired`;
//! - a task that is unknown, deleted or not `SUCCEEDED`, or an output it does not have: `404`
//!   `<Error><Code>NoSuchKey</Code>…`;
//! - otherwise `200` with `Content-Type: video/mp4`, `Content-Length`, `Accept-Ranges: bytes`
//!   and the file; `Range: bytes=N-`, `bytes=N-M` or `bytes=-N` answer `206` with
//!   `Content-Range: bytes N-M/len`, an unsatisfiable range `416` with
//!   `Content-Range: bytes */len`. Several ranges in one header are served as the whole file.
//!
//! The file is a real MP4 ([`crate::video`]) of the task's `ratio` and `duration`, made on the
//! first download and kept for the next ones (the last few videos only: an evicted one is made
//! again, byte for byte the same). With
//! [`synthetic_output_len`](crate::Builder::synthetic_output_len) it is deterministic filler of
//! that length instead, streamed, never held in memory.
//!
//! Requests are logged with [`Route::Output`]; [faults](crate::Fault) queued on that route
//! fire after the token and the task were checked.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use sha2::Sha256;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OnceCell, watch};
use tokio::task::JoinSet;

use crate::fault::{Fault, Route};
use crate::log::LoggedRequest;
use crate::state::{Shared, lock};
use crate::task::{Outcome, Phase};
use crate::util::{Rng, parse_query};
use crate::video::{self, VideoOptions};

/// How long output links stay valid unless configured: 24 hours, like Runway's shortest.
pub const DEFAULT_OUTPUT_LINK_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// How many made videos are kept for later downloads (a few MB each).
const CACHED_VIDEOS: usize = 4;

/// The largest body chunk sent at once.
const CHUNK: usize = 64 * 1024;

type Video = Arc<OnceCell<Result<Bytes, String>>>;

/// The storage host's settings and its cache of made videos.
pub(crate) struct Outputs {
    base_url: OnceLock<String>,
    key: [u8; 32],
    ttl: Duration,
    synthetic_len: Option<u64>,
    fps: u32,
    cache: Mutex<VecDeque<((String, u32), Video)>>,
    /// Videos made at once (each holds an encoder and a canvas): the machine's cores.
    makers: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("base_url", &self.base_url.get())
            .field("ttl", &self.ttl)
            .field("synthetic_len", &self.synthetic_len)
            .field("fps", &self.fps)
            .finish_non_exhaustive()
    }
}

impl Outputs {
    pub(crate) fn new(seed: u64, ttl: Duration, synthetic_len: Option<u64>, fps: u32) -> Outputs {
        let mut rng = Rng::new(seed ^ 0x6f75_7470_7574_735f);
        let mut key = [0u8; 32];
        for part in key.chunks_mut(8) {
            part.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        Outputs {
            base_url: OnceLock::new(),
            key,
            ttl,
            synthetic_len,
            fps: fps.clamp(1, 120),
            cache: Mutex::new(VecDeque::new()),
            makers: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        }
    }

    /// Set once the listener is bound.
    pub(crate) fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map_or("http://127.0.0.1:0", String::as_str)
    }

    /// Fresh links to a task's outputs, issued at `now` (simulated time).
    pub(crate) fn links(&self, task_id: &str, epoch: SystemTime, now: Duration) -> Vec<String> {
        let exp = unix_secs(epoch, now.saturating_add(self.ttl));
        vec![format!(
            "{}/outputs/{task_id}/0.mp4?_jwt={}",
            self.base_url(),
            self.token(task_id, 0, exp)
        )]
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        Hmac::<Sha256>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    fn token(&self, task: &str, n: u32, exp: u64) -> String {
        let header = B64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = B64.encode(serde_json::json!({"exp": exp, "task": task, "n": n}).to_string());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = B64.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The token's `exp`, when it is signed by this simulator for this output.
    fn verify(&self, token: &str, task: &str, n: u32) -> Option<u64> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let signature = B64.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let (_, payload) = signing_input.split_once('.')?;
        let claims: serde_json::Value = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        let same_output =
            claims["task"].as_str() == Some(task) && claims["n"].as_u64() == Some(n.into());
        same_output.then(|| claims["exp"].as_u64()).flatten()
    }

    /// The cell holding a task's video, made or being made; the least recently used ones go.
    fn video_cell(&self, task: &str, n: u32) -> Video {
        let mut cache = lock(&self.cache);
        let key = (task.to_owned(), n);
        if let Some(pos) = cache.iter().position(|(k, _)| *k == key)
            && let Some(entry) = cache.remove(pos)
        {
            let cell = entry.1.clone();
            cache.push_front(entry);
            return cell;
        }
        let cell = Video::default();
        cache.push_front((key, cell.clone()));
        cache.truncate(CACHED_VIDEOS);
        cell
    }
}

/// Seconds since the Unix epoch at simulated instant `at`.
fn unix_secs(epoch: SystemTime, at: Duration) -> u64 {
    epoch
        .checked_add(at)
        .unwrap_or(epoch)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Accepts connections until `stop` fires, then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve_conn(stream, shared.clone(), stop.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
}

async fn serve_conn(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<()>) {
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = kill.clone();
        service_fn(move |req| handle(shared.clone(), kill.clone(), req))
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = kill.notified() => {}
        _ = stop.changed() => {}
    }
}

/// `/outputs/<task-id>/<n>.mp4`, matched with `matchit` like the API's routes.
fn parse_path(path: &str) -> Option<(String, u32)> {
    static ROUTER: std::sync::OnceLock<matchit::Router<()>> = std::sync::OnceLock::new();
    let router = ROUTER.get_or_init(|| {
        let mut r = matchit::Router::new();
        // A fixed, valid pattern: the insert cannot fail.
        let _ = r.insert("/outputs/{task}/{file}", ());
        r
    });
    let matched = router.at(path).ok()?;
    let task = matched.params.get("task")?;
    let n = matched
        .params
        .get("file")?
        .strip_suffix(".mp4")?
        .parse()
        .ok()?;
    Some((task.to_owned(), n))
}

/// What a download serves.
#[derive(Clone)]
enum Content {
    Video(Bytes),
    Synthetic(u64),
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Video(b) => b.len() as u64,
            Content::Synthetic(n) => *n,
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<OutBody>, Infallible> {
    let (parts, _body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(parse_query).unwrap_or_default();
    let target = parse_path(&path);
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let range = parts
        .headers
        .get(hyper::header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let index = shared.log_request(LoggedRequest {
        index: 0,
        method: parts.method.as_str().to_owned(),
        path: path.clone(),
        raw_query: parts.uri.query().map(str::to_owned),
        query: query.clone(),
        headers,
        body: Bytes::new(),
        route: if target.is_some() {
            Route::Output
        } else {
            Route::NotFound
        },
        format: None,
        task_id: target.as_ref().map(|(t, _)| t.clone()),
        at: Duration::ZERO,
        sim_at: Duration::ZERO,
        status: None,
        fault: None,
    });
    let head = parts.method == Method::HEAD;
    let answer = match (&parts.method, target) {
        (&Method::GET | &Method::HEAD, Some((task, n))) => {
            let token = query
                .iter()
                .find(|(k, _)| k == "_jwt")
                .map(|(_, v)| v.as_str());
            download(&shared, index, &task, n, token, range.as_deref(), head).await
        }
        (_, Some(_)) => Answer::reply(xml(405, "MethodNotAllowed", "The method is not allowed")),
        (_, None) => Answer::reply(xml(404, "NoSuchKey", "The specified key does not exist.")),
    };
    match answer {
        Answer::Reply(reply) => {
            shared.record_status(index, reply.status().as_u16());
            Ok(*reply)
        }
        Answer::Drop => {
            kill.notify_one();
            std::future::pending().await
        }
        Answer::Hang => std::future::pending().await,
    }
}

impl Answer {
    fn reply(response: Response<OutBody>) -> Answer {
        Answer::Reply(Box::new(response))
    }
}

enum Answer {
    Reply(Box<Response<OutBody>>),
    Drop,
    Hang,
}

/// An S3-style XML error.
fn xml(status: u16, code: &str, message: &str) -> Response<OutBody> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    response(status)
        .header("content-type", "application/xml")
        .body(OutBody::whole(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(OutBody::empty()))
}

fn response(status: u16) -> hyper::http::response::Builder {
    Response::builder().status(status)
}

/// What the task behind a link needs for its video, if it has outputs now.
fn task_video(shared: &Shared, task: &str, n: u32) -> Option<VideoOptions> {
    let now = shared.clock.now();
    shared.with_state(|s| {
        let t = s.task_index.get(task).and_then(|&i| s.tasks.get(i))?;
        let done =
            t.removed.is_none() && t.outcome == Outcome::Succeed && t.phase(now) == Phase::Done;
        if !done || n != 0 {
            return None;
        }
        let (w, h) = video::frame_size(t.request.get("ratio").and_then(|r| r.as_str()));
        let seconds = t
            .request
            .get("duration")
            .and_then(serde_json::Value::as_u64)
            .or_else(|| crate::validate::default_duration(&t.model))
            .unwrap_or(5);
        let mut options = VideoOptions::new(w, h, u32::try_from(seconds).unwrap_or(u32::MAX))
            .fps(shared.config.outputs.fps);
        if let Some(bytes) = prompt_image(&t.request).and_then(video::data_uri_bytes) {
            options = options.image(bytes);
        }
        Some(options)
    })
}

/// The create request's prompt image: the string, or the `first` (else the first) of a list.
fn prompt_image(request: &serde_json::Value) -> Option<&str> {
    match request.get("promptImage")? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Array(items) => items
            .iter()
            .find(|i| i.get("position").and_then(|p| p.as_str()) == Some("first"))
            .or_else(|| items.first())
            .and_then(|i| i.get("uri"))
            .and_then(|u| u.as_str()),
        _ => None,
    }
}

async fn download(
    shared: &Shared,
    index: usize,
    task: &str,
    n: u32,
    token: Option<&str>,
    range: Option<&str>,
    head: bool,
) -> Answer {
    let outputs = &shared.config.outputs;
    let Some(exp) = token.and_then(|t| outputs.verify(t, task, n)) else {
        return Answer::reply(xml(403, "AccessDenied", "Signature mismatch"));
    };
    if unix_secs(shared.config.epoch, shared.clock.now()) >= exp {
        return Answer::reply(xml(403, "AccessDenied", "Request has expired"));
    }
    let Some(options) = task_video(shared, task, n) else {
        return Answer::reply(xml(404, "NoSuchKey", "The specified key does not exist."));
    };

    let fault = shared.take_fault(Route::Output);
    if let Some(f) = &fault {
        shared.record_fault(index, f);
    }
    let mut shape = Shape::default();
    match fault {
        None => {}
        Some(Fault::Status(status)) => {
            let status = status.clamp(200, 599);
            let reason = hyper::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Error");
            return Answer::reply(xml(status, "ServiceError", reason));
        }
        Some(Fault::RateLimited { retry_after }) => {
            let mut reply = xml(503, "SlowDown", "Please reduce your request rate.");
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(v) = secs.to_string().parse() {
                reply.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
            return Answer::reply(reply);
        }
        Some(Fault::Html(status)) => {
            let reply = crate::wire::html_page(status.clamp(200, 599));
            return Answer::reply(
                response(reply.status)
                    .header("content-type", "text/html")
                    .body(OutBody::whole(reply.body))
                    .unwrap_or_else(|_| Response::new(OutBody::empty())),
            );
        }
        Some(Fault::UpstreamText { status, body }) => {
            return Answer::reply(
                response(status.clamp(200, 599))
                    .header("content-type", "text/plain; charset=utf-8")
                    .body(OutBody::whole(Bytes::from(body)))
                    .unwrap_or_else(|_| Response::new(OutBody::empty())),
            );
        }
        Some(Fault::UpstreamUnreachable) => {
            return Answer::reply(xml(502, "BadGateway", "Bad Gateway"));
        }
        Some(Fault::DropConnection | Fault::DropAfterProcessing) => return Answer::Drop,
        Some(Fault::Hang | Fault::NoContentHang) => return Answer::Hang,
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropBodyAfter(bytes)) => shape.cut_after = Some(bytes),
        Some(Fault::TruncatedBody) => shape.half = true,
        Some(Fault::SlowBody { chunk, delay }) => {
            shape.chunk = chunk.clamp(1, CHUNK);
            shape.delay = Some(delay);
        }
        Some(Fault::LengthOver(extra)) => shape.extra_length = extra,
        Some(Fault::ContentType(ct)) => shape.content_type = Some(ct),
        Some(_) => {}
    }

    let content = match outputs.synthetic_len {
        Some(len) => Content::Synthetic(len),
        None => {
            let cell = outputs.video_cell(task, n);
            let made = cell
                .get_or_init(|| async move {
                    let _permit = outputs.makers.acquire().await;
                    tokio::task::spawn_blocking(move || video::render_mp4(&options))
                        .await
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map(Bytes::from).map_err(|e| e.to_string()))
                })
                .await;
            match made {
                Ok(bytes) => Content::Video(bytes.clone()),
                Err(e) => return Answer::reply(xml(500, "InternalError", e)),
            }
        }
    };
    Answer::reply(serve_content(content, range, head, shape))
}

/// How a fault bends a good answer.
struct Shape {
    cut_after: Option<u64>,
    half: bool,
    chunk: usize,
    delay: Option<Duration>,
    extra_length: u64,
    content_type: Option<String>,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            cut_after: None,
            half: false,
            chunk: CHUNK,
            delay: None,
            extra_length: 0,
            content_type: None,
        }
    }
}

/// `Range` as (first, last) inclusive; `Err(())`: unsatisfiable; `Ok(None)`: the whole file.
fn parse_range(range: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            let Ok(suffix) = last.parse::<u64>() else {
                return Ok(None);
            };
            if suffix == 0 || len == 0 {
                return Err(());
            }
            (len.saturating_sub(suffix), len - 1)
        }
        (false, _) => {
            let Ok(first) = first.parse::<u64>() else {
                return Ok(None);
            };
            let last = if last.is_empty() {
                u64::MAX
            } else {
                match last.parse::<u64>() {
                    Ok(l) if l >= first => l,
                    _ => return Ok(None),
                }
            };
            if first >= len {
                return Err(());
            }
            (first, last.min(len - 1))
        }
    };
    Ok(Some(parsed))
}

fn serve_content(
    content: Content,
    range: Option<&str>,
    head: bool,
    shape: Shape,
) -> Response<OutBody> {
    let len = content.len();
    let (status, start, end) = match parse_range(range, len) {
        Err(()) => {
            return response(416)
                .header("content-range", format!("bytes */{len}"))
                .header("content-type", "application/xml")
                .body(OutBody::whole(Bytes::from_static(
                    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message></Error>",
                )))
                .unwrap_or_else(|_| Response::new(OutBody::empty()));
        }
        Ok(None) => (200, 0, len),
        Ok(Some((first, last))) => (206, first, last + 1),
    };
    let announced = end - start + shape.extra_length;
    let mut builder = response(status)
        .header(
            "content-type",
            shape.content_type.as_deref().unwrap_or("video/mp4"),
        )
        .header("content-length", announced.to_string())
        .header("accept-ranges", "bytes")
        .header("cache-control", "private, max-age=86400");
    if status == 206 {
        builder = builder.header("content-range", format!("bytes {start}-{}/{len}", end - 1));
    }
    let body = if head {
        OutBody::empty()
    } else {
        let mut stop = end;
        let mut cut = shape.extra_length > 0;
        if shape.half {
            stop = start + (end - start) / 2;
            cut = true;
        }
        if let Some(n) = shape.cut_after
            && start + n < stop
        {
            stop = start + n;
            cut = true;
        }
        OutBody {
            content: Some(content),
            pos: start,
            stop,
            cut,
            chunk: shape.chunk,
            delay: shape.delay,
            sleep: None,
            sent_any: false,
        }
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(OutBody::empty()))
}

/// 64 KiB of deterministic, incompressible-looking filler: byte `i` of a synthetic output is
/// `FILLER[i % 65536]`.
fn filler() -> &'static Bytes {
    static FILLER: OnceLock<Bytes> = OnceLock::new();
    FILLER.get_or_init(|| {
        let mut rng = Rng::new(0x5eed_f111);
        let mut v = Vec::with_capacity(CHUNK);
        while v.len() < CHUNK {
            v.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
        Bytes::from(v)
    })
}

/// A body streamed from the content, in chunks, maybe slowly, maybe cut short (then the
/// connection is closed: an error after a pause so hyper flushes what was sent).
pub(crate) struct OutBody {
    content: Option<Content>,
    pos: u64,
    stop: u64,
    cut: bool,
    chunk: usize,
    delay: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    sent_any: bool,
}

impl OutBody {
    fn empty() -> OutBody {
        OutBody::whole(Bytes::new())
    }

    fn whole(bytes: Bytes) -> OutBody {
        let len = bytes.len() as u64;
        OutBody {
            content: Some(Content::Video(bytes)),
            pos: 0,
            stop: len,
            cut: false,
            chunk: usize::MAX,
            delay: None,
            sleep: None,
            sent_any: false,
        }
    }
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.pos >= this.stop {
            if !this.cut {
                return Poll::Ready(None);
            }
            // hyper writes buffered data out only while the body is pending.
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
            return match sleep.as_mut().poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other(
                    "download cut short on purpose",
                )))),
            };
        }
        if let Some(delay) = this.delay.filter(|_| this.sent_any) {
            let sleep = this
                .sleep
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.sleep = None;
        }
        let want = (this.stop - this.pos).min(this.chunk as u64) as usize;
        let data = match &this.content {
            Some(Content::Video(bytes)) => {
                let at = this.pos as usize;
                bytes.slice(at..at + want)
            }
            Some(Content::Synthetic(_)) => {
                let at = (this.pos % CHUNK as u64) as usize;
                filler().slice(at..(at + want).min(CHUNK))
            }
            None => return Poll::Ready(None),
        };
        this.pos += data.len() as u64;
        this.sent_any = true;
        Poll::Ready(Some(Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.stop && !self.cut
    }

    fn size_hint(&self) -> SizeHint {
        if self.cut {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.stop - self.pos)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_as_rfc_9110_says() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=10-19"), 100), Ok(Some((10, 19))));
        assert_eq!(parse_range(Some("bytes=90-200"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-200"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=5-2"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
    }

    #[test]
    fn tokens_verify_only_for_their_output_and_key() {
        let a = Outputs::new(1, DEFAULT_OUTPUT_LINK_TTL, None, 24);
        let b = Outputs::new(2, DEFAULT_OUTPUT_LINK_TTL, None, 24);
        let t = a.token("task", 0, 123);
        assert_eq!(a.verify(&t, "task", 0), Some(123));
        assert_eq!(a.verify(&t, "other", 0), None);
        assert_eq!(a.verify(&t, "task", 1), None);
        assert_eq!(b.verify(&t, "task", 0), None);
        let mut tampered = t.clone();
        tampered.insert(tampered.len() - 2, 'A');
        assert_eq!(a.verify(&tampered, "task", 0), None);
    }

    #[test]
    fn paths_name_a_task_and_an_output() {
        assert_eq!(parse_path("/outputs/abc/0.mp4"), Some(("abc".into(), 0)));
        assert_eq!(parse_path("/outputs/abc/x.mp4"), None);
        assert_eq!(parse_path("/outputs//0.mp4"), None);
        assert_eq!(parse_path("/other/abc/0.mp4"), None);
    }
}

#[cfg(test)]
mod path_tests {
    use super::parse_path;

    #[test]
    fn output_paths_name_a_task_and_a_numbered_file() {
        assert_eq!(parse_path("/outputs/abc/0.mp4"), Some(("abc".into(), 0)));
        assert_eq!(parse_path("/outputs/abc/12.mp4"), Some(("abc".into(), 12)));
        for miss in [
            "/outputs/abc/x.mp4",
            "/outputs/abc/0.mov",
            "/outputs//0.mp4",
            "/outputs/a/b/0.mp4",
            "/outputs/abc",
            "/elsewhere",
        ] {
            assert_eq!(parse_path(miss), None, "{miss}");
        }
    }
}
