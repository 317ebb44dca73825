//! The HTTP side: accepting connections, routing, the proxy's checks, faults.
//!
//! # Why hyper and `matchit` rather than an axum `Router`
//!
//! Several faults act on the connection, not on a response: [`Fault::DropConnection`] closes
//! the socket without a word, [`Fault::Hang`] never answers, [`Fault::TruncatedBody`] promises a
//! `Content-Length` and closes half way. That needs the connection in our hands: each one is
//! served here with hyper's `http1` builder inside a `select!` that can drop it. axum's `serve`
//! owns the connections; its `Router` could still run as a tower service on such a connection,
//! but the simulator's routing is not axum-shaped either: the self-hosted dialect matches
//! ignoring case and a trailing slash, the same path is one route or another depending on the
//! URL formats switched on and on the query (`/v1/tasks/id` with or without `?id=`), and a
//! routing miss must not reach the token check. So the path table is `matchit` (the matcher
//! inside axum: a literal segment beats a parameter, exactly LowCodeAPI's `/v1/tasks/id` over
//! `/v1/tasks/{id}`), and the rules around it stay in [`route`], in plain code next to the
//! tests that pin them.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinSet;

use crate::config::{Dialect, UrlFormat};
use crate::fault::{Fault, Route};
use crate::log::LoggedRequest;
use crate::state::{Config, Shared};
use crate::util::{parse_query, percent_decode};
use crate::validate::{self, DOC_URL, Rejection};
use crate::wire::{
    self, Logging, NodeHeaders, NodeQuery, ProxyDetail, Reply, RunwayError, Upstream,
};

/// Request bodies past this answer 413 (a 5 MB data URI must still fit).
const MAX_REQUEST_BODY: usize = 32 * 1024 * 1024;

/// The largest body [`Fault::HugeBody`] makes.
pub(crate) const MAX_HUGE_BODY: usize = 256 * 1024 * 1024;

/// Statuses a fault may answer: a final (non-1xx) status hyper can send.
fn fault_status(status: u16) -> u16 {
    status.clamp(200, 599)
}

/// Accepts connections until `stop` fires (or its sender is dropped), then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<()>,
    done: oneshot::Sender<()>,
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
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
    let _ = done.send(());
}

async fn serve_conn(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<()>) {
    // A handler that wants the socket closed without an answer notifies this; dropping the
    // connection future closes the socket.
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

/// What to do with a request.
enum Action {
    Reply(Reply, Option<Shape>),
    Drop,
    Hang,
}

/// A body sent otherwise than whole.
enum Shape {
    /// Send only part of the body, under a `Content-Length` of the whole.
    Truncate,
    /// Stream `bytes` bytes of padding instead of the reply's body.
    Oversize { bytes: u64, content_length: bool },
}

/// The request, read.
pub(crate) struct Req {
    method: Method,
    path: String,
    raw_query: Option<String>,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Req {
    fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where a request goes.
#[derive(Debug, PartialEq)]
pub(crate) struct Routed {
    route: Route,
    format: Option<UrlFormat>,
    task_id: Option<String>,
}

impl Routed {
    fn to(route: Route) -> Routed {
        Routed {
            route,
            format: None,
            task_id: None,
        }
    }
}

/// The endpoints LowCodeAPI mounts for runwayml, as the router knows them.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Endpoint {
    OpenApi,
    Definition,
    CreateTask,
    /// `/v1/tasks/id`: the Old Format route (a literal segment wins over a parameter).
    TaskOld,
    /// `/v1/tasks/{id}`.
    TaskNew,
}

/// The route table, built once.
fn router() -> &'static matchit::Router<Endpoint> {
    static ROUTER: OnceLock<matchit::Router<Endpoint>> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let mut r = matchit::Router::new();
        for (path, endpoint) in [
            ("/runwayml/openapi", Endpoint::OpenApi),
            ("/runwayml/definition", Endpoint::Definition),
            ("/runwayml/v1/image_to_video", Endpoint::CreateTask),
            ("/runwayml/v1/tasks/id", Endpoint::TaskOld),
            ("/runwayml/v1/tasks/{id}", Endpoint::TaskNew),
        ] {
            // The table is fixed: an insert fails only if it conflicts with itself.
            let _ = r.insert(path, endpoint);
        }
        r
    })
}

/// Matches a request to a route; the self-hosted dialect ignores case and a trailing slash.
pub(crate) fn route(
    config: &Config,
    method: &Method,
    path: &str,
    query: &[(String, String)],
) -> Routed {
    let self_hosted = config.dialect == Dialect::SelfHosted;
    let mut path = path;
    if self_hosted && path.len() > 1 {
        path = path.strip_suffix('/').unwrap_or(path);
    }
    // ASCII folding keeps byte offsets, so a parameter matched in the folded path is the same
    // stretch of the original one.
    let folded;
    let cmp: &str = if self_hosted {
        folded = path.to_ascii_lowercase();
        &folded
    } else {
        path
    };
    let Ok(matched) = router().at(cmp) else {
        return Routed::to(Route::NotFound);
    };
    let task_route = match *method {
        Method::GET => Some(Route::GetTask),
        Method::DELETE => Some(Route::DeleteTask),
        _ => None,
    };
    let has_id_param = || query.iter().any(|(k, _)| k == "id");
    match (method, *matched.value, task_route) {
        (&Method::GET, Endpoint::OpenApi, _) => Routed::to(Route::OpenApi),
        (&Method::GET, Endpoint::Definition, _) => Routed::to(Route::Definition),
        (&Method::POST, Endpoint::CreateTask, _) => Routed::to(Route::CreateTask),
        (_, Endpoint::TaskOld, Some(route)) if config.formats.allows(UrlFormat::Old) => Routed {
            route,
            format: Some(UrlFormat::Old),
            task_id: query
                .iter()
                .find(|(k, _)| k == "id")
                .map(|(_, v)| v.clone()),
        },
        // With the Old Format off, `/v1/tasks/id?id=…` is an Old Format request all the same:
        // a routing miss. Without an `id` parameter it names a task called "id".
        (_, Endpoint::TaskOld, Some(_)) if has_id_param() => Routed::to(Route::NotFound),
        (_, Endpoint::TaskOld | Endpoint::TaskNew, Some(route))
            if config.formats.allows(UrlFormat::New) =>
        {
            let segment = &path[path.len() - cmp.rsplit('/').next().unwrap_or_default().len()..];
            Routed {
                route,
                format: Some(UrlFormat::New),
                task_id: Some(percent_decode(segment)),
            }
        }
        _ => Routed::to(Route::NotFound),
    }
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Response<SimBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let (body, too_large) = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => (collected.to_bytes(), false),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => (Bytes::new(), true),
        // The client went away mid-body; nobody will read an answer.
        Err(_) => return Ok(to_response(wire::routing_miss(), None)),
    };
    let req = Req {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().map(str::to_owned),
        query: parts.uri.query().map(parse_query).unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let routed = route(&shared.config, &req.method, &req.path, &req.query);
    let index = shared.log_request(LoggedRequest {
        index: 0,
        method: req.method.as_str().to_owned(),
        path: req.path.clone(),
        raw_query: parts.uri.query().map(str::to_owned),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
        route: routed.route,
        format: routed.format,
        task_id: routed.task_id.clone(),
        at: Duration::ZERO,
        sim_at: Duration::ZERO,
        status: None,
        fault: None,
    });

    let action = if too_large {
        Action::Reply(
            wire::proxy_error(&shared.config, 413, "request entity too large", None),
            None,
        )
    } else {
        process(&shared, index, &req, &routed).await
    };
    match action {
        Action::Reply(reply, shape) => {
            shared.record_status(index, reply.status);
            Ok(to_response(reply, shape))
        }
        Action::Drop => {
            kill.notify_one();
            std::future::pending().await
        }
        Action::Hang => std::future::pending().await,
    }
}

/// The proxy's pipeline: body parsing, routing, token check, faults, Runway.
async fn process(shared: &Shared, index: usize, req: &Req, routed: &Routed) -> Action {
    let config = &shared.config;
    let parsed = parse_body(req);
    // The self-hosted server parses JSON bodies in a global middleware, before routing.
    if config.dialect == Dialect::SelfHosted
        && let Err(message) = &parsed
    {
        return Action::Reply(wire::proxy_error(config, 400, message, None), None);
    }
    match routed.route {
        Route::NotFound | Route::Any | Route::Output => {
            return Action::Reply(wire::routing_miss(), None);
        }
        Route::OpenApi | Route::Definition => {}
        Route::CreateTask | Route::GetTask | Route::DeleteTask => {
            if let Some(reply) = check_token(config, req) {
                return Action::Reply(reply, None);
            }
            if let Err(message) = &parsed {
                return Action::Reply(wire::proxy_error(config, 400, message, None), None);
            }
        }
    }

    let fault = shared.take_fault(routed.route);
    if let Some(f) = &fault {
        shared.record_fault(index, f);
    }
    match &fault {
        None => {}
        Some(Fault::RateLimited { retry_after }) => {
            return Action::Reply(
                wire::render(config, Upstream::rate_limited(*retry_after)),
                None,
            );
        }
        Some(Fault::Status(status)) => {
            let status = fault_status(*status);
            return Action::Reply(
                wire::render(config, Upstream::error(status, wire::reason(status))),
                None,
            );
        }
        Some(Fault::Html(status)) => {
            return Action::Reply(wire::html_page(fault_status(*status)), None);
        }
        Some(Fault::UpstreamText { status, body }) => {
            let up = Upstream {
                status: fault_status(*status),
                body: wire::UpBody::Text(body.clone()),
                retry_after: None,
            };
            return Action::Reply(wire::render(config, up), None);
        }
        Some(Fault::UpstreamUnreachable) => {
            let m = wire::ECONNREFUSED_MESSAGE;
            return Action::Reply(
                wire::proxy_error(
                    config,
                    500,
                    m,
                    Some(ProxyDetail {
                        message: Some(m),
                        ..ProxyDetail::default()
                    }),
                ),
                None,
            );
        }
        Some(Fault::DropConnection) => return Action::Drop,
        Some(Fault::Hang) => return Action::Hang,
        Some(Fault::GzipBomb { status }) => {
            let reply = Reply {
                status: fault_status(*status),
                content_type: Some(wire::JSON_UTF8),
                headers: vec![("content-encoding", "gzip".to_owned())],
                body: crate::bomb::gzip_bomb(),
            };
            return Action::Reply(reply, None);
        }
        Some(Fault::OversizeBody {
            status,
            bytes,
            content_length,
        }) => {
            let reply = Reply {
                status: fault_status(*status),
                content_type: Some(wire::JSON_UTF8),
                headers: Vec::new(),
                body: Bytes::new(),
            };
            let shape = Shape::Oversize {
                bytes: *bytes,
                content_length: *content_length,
            };
            return Action::Reply(reply, Some(shape));
        }
        Some(Fault::CrossOriginRedirect { status }) => {
            let status = match status {
                301 | 302 | 303 | 307 | 308 => *status,
                _ => 307,
            };
            let query = req
                .raw_query
                .as_deref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let location = format!("http://{}{}{query}", config.other_origin, req.path);
            let reply = Reply {
                status,
                content_type: None,
                headers: vec![("location", location)],
                body: Bytes::new(),
            };
            return Action::Reply(reply, None);
        }
        Some(_) => {}
    }

    let reply = match routed.route {
        Route::OpenApi | Route::Definition => Reply {
            status: 200,
            content_type: Some(wire::JSON_UTF8),
            headers: Vec::new(),
            body: config.definition.clone(),
        },
        _ => wire::render(
            config,
            runway(shared, index, routed, parsed.unwrap_or_default()),
        ),
    };

    match fault {
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Action::Reply(reply, None)
        }
        Some(Fault::DropAfterProcessing) => Action::Drop,
        Some(Fault::NoContentHang) => Action::Hang,
        Some(Fault::MalformedJson) => Action::Reply(malformed(reply), None),
        Some(Fault::TruncatedBody) => Action::Reply(reply, Some(Shape::Truncate)),
        Some(Fault::HugeBody { bytes }) => Action::Reply(pad(reply, bytes), None),
        _ => Action::Reply(reply, None),
    }
}

/// Runway's side of the three operations.
fn runway(shared: &Shared, index: usize, routed: &Routed, body: serde_json::Value) -> Upstream {
    if !shared.config.forward_runway_version {
        return Upstream::json(
            400,
            &RunwayError {
                error: crate::MISSING_VERSION_MESSAGE,
                issues: None,
                doc_url: Some(DOC_URL),
            },
        );
    }
    match routed.route {
        Route::CreateTask => match validate::validate(&body) {
            Ok(accepted) => Upstream::raw(200, shared.create_task(accepted, body, index)),
            Err(Rejection::Unavailable(message)) => Upstream::error(403, &message),
            Err(Rejection::Invalid(issues)) => Upstream::json(
                400,
                &RunwayError {
                    error: "Validation of body failed",
                    issues: Some(&issues),
                    doc_url: Some(DOC_URL),
                },
            ),
        },
        Route::GetTask | Route::DeleteTask => {
            let id = upstream_id(&shared.config, routed.task_id.as_deref());
            let found = if routed.route == Route::GetTask {
                shared.get_task(&id).map(|body| Upstream::raw(200, body))
            } else {
                shared.delete_task(&id).then_some(Upstream {
                    status: 204,
                    body: wire::UpBody::Empty,
                    retry_after: None,
                })
            };
            found.unwrap_or_else(|| Upstream::error(404, "Task not found"))
        }
        _ => Upstream::error(404, "Not found"),
    }
}

/// The id Runway ends up seeing. The self-hosted server pastes the id into the upstream path
/// unencoded (a missing one becomes `null`), so a `?` or `#` inside it cuts it short there.
fn upstream_id(config: &Config, id: Option<&str>) -> String {
    let id = id.unwrap_or("null");
    match config.dialect {
        Dialect::SelfHosted => id.split(['?', '#']).next().unwrap_or_default().to_owned(),
        Dialect::Hosted => id.to_owned(),
    }
}

/// Parses a JSON body as Express's `express.json()` does: only with a JSON content type; an
/// empty or non-JSON body reads as `{}`. Errors carry Node's `JSON.parse` message.
fn parse_body(req: &Req) -> Result<serde_json::Value, String> {
    let is_json = req.header("content-type").is_some_and(|ct| {
        let ct = ct.trim().to_ascii_lowercase();
        ct.starts_with("application/json")
            || ct.split(';').next().is_some_and(|t| t.ends_with("+json"))
    });
    if !is_json || req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    serde_json::from_slice(&req.body).map_err(|e| node_parse_message(&req.body, &e))
}

/// What Node's `JSON.parse` says about the text serde rejected (close, not exhaustive).
fn node_parse_message(body: &[u8], e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "Unexpected end of JSON input".into();
    }
    let text = String::from_utf8_lossy(body);
    // serde counts lines and columns from 1; Node counts a position from 0.
    let mut position = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        if i + 1 == e.line() {
            position += e.column().saturating_sub(1);
            break;
        }
        position += line.len() + 1;
    }
    let message = e.to_string();
    if message.starts_with("key must be a string") {
        format!("Expected property name or '}}' in JSON at position {position}")
    } else if message.starts_with("trailing comma") {
        format!("Expected double-quoted property name in JSON at position {position}")
    } else if message.starts_with("trailing characters") {
        format!("Unexpected non-whitespace character after JSON at position {position}")
    } else {
        let token = text
            .get(position..)
            .and_then(|s| s.chars().next())
            .unwrap_or('?');
        let snippet: String = text.chars().take(30).collect();
        let more = if text.chars().count() > 30 { "..." } else { "" };
        format!("Unexpected token '{token}', \"{snippet}\"{more} is not valid JSON")
    }
}

fn check_token(config: &Config, req: &Req) -> Option<Reply> {
    let forbidden = |message| {
        let detail = ProxyDetail {
            code: Some(403),
            ..ProxyDetail::default()
        };
        Some(wire::proxy_error(config, 403, message, Some(detail)))
    };
    match req.query_param("api_token") {
        Some(t) if t.starts_with("at_") => {
            if config.unauthorized_tokens.iter().any(|u| u == t) {
                forbidden(wire::NO_CREDENTIAL_MESSAGE)
            } else if config.tokens.iter().any(|a| a == t) {
                None
            } else {
                forbidden(wire::INVALID_TOKEN_MESSAGE)
            }
        }
        _ => {
            let message = wire::UNAUTHORIZED_MESSAGE;
            let detail = ProxyDetail {
                code: Some(401),
                logging: Some(Logging {
                    method: req.method.as_str(),
                    status_code: 401,
                    message,
                    path: &req.path,
                    headers: NodeHeaders(&req.headers),
                    query: NodeQuery(&req.query),
                }),
                message: None,
            };
            Some(wire::proxy_error(config, 401, message, Some(detail)))
        }
    }
}

fn malformed(mut reply: Reply) -> Reply {
    let body = &reply.body;
    reply.body = if body.last() == Some(&b'}') {
        let mut v = body[..body.len() - 1].to_vec();
        v.extend_from_slice(b",}");
        Bytes::from(v)
    } else {
        Bytes::from_static(b"{")
    };
    if reply.content_type.is_none() {
        reply.content_type = Some(wire::JSON_UTF8);
    }
    if reply.status == 204 {
        reply.status = 200;
    }
    reply
}

fn pad(mut reply: Reply, bytes: usize) -> Reply {
    let bytes = bytes.min(MAX_HUGE_BODY);
    let body = &reply.body;
    const FIELD: &[u8] = b",\"padding\":\"\"}";
    if body.len() >= bytes {
        return reply;
    }
    let fill = bytes.saturating_sub(body.len() + FIELD.len() - 1);
    let mut v = Vec::with_capacity(bytes + FIELD.len());
    if body.last() == Some(&b'}') {
        v.extend_from_slice(&body[..body.len() - 1]);
        v.extend_from_slice(b",\"padding\":\"");
        v.resize(v.len() + fill, b'x');
        v.extend_from_slice(b"\"}");
    } else {
        // Not an object: trailing whitespace keeps any JSON valid.
        v.extend_from_slice(body);
        v.resize(bytes, b' ');
    }
    reply.body = Bytes::from(v);
    if reply.status == 204 {
        reply.status = 200;
        reply.content_type = Some(wire::JSON_UTF8);
    }
    reply
}

fn to_response(reply: Reply, shape: Option<Shape>) -> Response<SimBody> {
    let status = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    if let Some(ct) = reply.content_type {
        builder = builder.header("content-type", ct);
    }
    for (k, v) in &reply.headers {
        builder = builder.header(*k, v.as_str());
    }
    let body = match shape {
        Some(Shape::Truncate) => {
            builder = builder.header("content-length", reply.body.len().to_string());
            let half = reply.body.slice(..reply.body.len() / 2);
            SimBody::Truncated(Some(half), None)
        }
        Some(Shape::Oversize {
            bytes,
            content_length,
        }) => SimBody::Oversize(Padding::new(bytes, content_length)),
        None if reply.body.is_empty() => SimBody::Full(None),
        None => SimBody::Full(Some(reply.body)),
    };
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(SimBody::Full(None)))
}

/// A response body: whole, or cut short with an error so hyper drops the connection.
pub(crate) enum SimBody {
    Full(Option<Bytes>),
    /// The part to send, then a pause (so hyper flushes it), then an error.
    Truncated(Option<Bytes>, Option<Pin<Box<tokio::time::Sleep>>>),
    /// A padding object of any size, streamed.
    Oversize(Padding),
}

/// `{"padding":"xxx…"}` of an exact size, streamed from one static buffer.
pub(crate) struct Padding {
    head: Option<Bytes>,
    fill: u64,
    tail: Option<Bytes>,
    total: u64,
    announce: bool,
}

const PADDING_HEAD: &[u8] = b"{\"padding\":\"";
const PADDING_TAIL: &[u8] = b"\"}";
static FILL: [u8; 64 * 1024] = [b'x'; 64 * 1024];

impl Padding {
    fn new(bytes: u64, announce: bool) -> Padding {
        let frame = (PADDING_HEAD.len() + PADDING_TAIL.len()) as u64;
        let total = bytes.max(frame);
        Padding {
            head: Some(Bytes::from_static(PADDING_HEAD)),
            fill: total - frame,
            tail: Some(Bytes::from_static(PADDING_TAIL)),
            total,
            announce,
        }
    }

    fn next(&mut self) -> Option<Bytes> {
        if let Some(head) = self.head.take() {
            return Some(head);
        }
        if self.fill > 0 {
            let n = usize::try_from(self.fill).map_or(FILL.len(), |f| f.min(FILL.len()));
            self.fill -= n as u64;
            return Some(Bytes::from_static(&FILL[..n]));
        }
        self.tail.take()
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match this {
            SimBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            SimBody::Oversize(padding) => Poll::Ready(padding.next().map(|d| Ok(Frame::data(d)))),
            SimBody::Truncated(data, pause) => {
                if let Some(d) = data.take().filter(|d| !d.is_empty()) {
                    return Poll::Ready(Some(Ok(Frame::data(d))));
                }
                // hyper writes buffered data out only while the body is pending; erroring at
                // once would discard the part already handed over.
                let sleep = pause
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(Duration::from_millis(20))));
                match sleep.as_mut().poll(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(()) => Poll::Ready(Some(Err(std::io::Error::other(
                        "body truncated on purpose",
                    )))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SimBody::Full(data) => data.is_none(),
            SimBody::Oversize(p) => p.head.is_none() && p.fill == 0 && p.tail.is_none(),
            SimBody::Truncated(..) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(Some(d)) => SizeHint::with_exact(d.len() as u64),
            SimBody::Full(None) => SizeHint::with_exact(0),
            SimBody::Truncated(..) => SizeHint::default(),
            SimBody::Oversize(p) if p.announce => SizeHint::with_exact(p.total),
            SimBody::Oversize(_) => SizeHint::default(),
        }
    }
}
