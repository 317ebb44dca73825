//! The other origin: a second listener that [`Fault::CrossOriginRedirect`] points at, logging
//! whatever reaches it.
//!
//! [`Fault::CrossOriginRedirect`]: crate::Fault::CrossOriginRedirect

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::fault::Route;
use crate::log::LoggedRequest;
use crate::state::lock;
use crate::util::parse_query;

/// Bodies past this are not kept in the other origin's log (the request is still logged).
const MAX_LOGGED_BODY: usize = 32 * 1024 * 1024;

/// Another origin on `127.0.0.1` (same host, another port), started with every simulator: where
/// [`Fault::CrossOriginRedirect`](crate::Fault::CrossOriginRedirect) sends clients. It answers
/// every request `200` with the JSON body `{}` and logs it, so a test can assert that a client
/// refusing cross-origin redirects sent it nothing, token included. Got from
/// [`Simulator::other_origin`](crate::Simulator::other_origin); it stops with the simulator.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Fault, Route, Simulator};
/// let sim = Simulator::start().await?;
/// sim.fault(Route::GetTask, Fault::cross_origin_redirect());
/// // A client that does not follow redirects sees the 307 and where it points...
/// let http = reqwest::Client::builder()
///     .no_proxy()
///     .redirect(reqwest::redirect::Policy::none())
///     .build()?;
/// let url = sim.url(&format!("/v1/tasks/abc?api_token={DEFAULT_TOKEN}"));
/// let answer = http.get(&url).send().await?;
/// assert_eq!(answer.status(), 307);
/// let location = answer.headers()["location"].to_str()?;
/// assert!(location.starts_with(sim.other_origin().base_url()));
/// // ...and the other origin received nothing.
/// assert_eq!(sim.other_origin().count(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct OtherOrigin {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    base_url: String,
    started: Instant,
    log: Mutex<Vec<LoggedRequest>>,
}

impl std::fmt::Debug for OtherOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtherOrigin")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl OtherOrigin {
    pub(crate) fn new(addr: SocketAddr) -> OtherOrigin {
        OtherOrigin {
            inner: Arc::new(Inner {
                addr,
                base_url: format!("http://{addr}/runwayml"),
                started: Instant::now(),
                log: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT/runwayml`, the simulator's base URL on this origin.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Every request received, oldest first. Entries have [`Route::NotFound`] as their route,
    /// no format or task id, and zero [`sim_at`](LoggedRequest::sim_at): this origin routes
    /// nothing.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.inner.log).clone()
    }

    /// How many requests were received.
    pub fn count(&self) -> usize {
        lock(&self.inner.log).len()
    }
}

/// Accepts connections until `stop` fires (or its sender is dropped), then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    origin: OtherOrigin,
    mut stop: watch::Receiver<()>,
    done: oneshot::Sender<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve_conn(stream, origin.clone(), stop.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    conns.shutdown().await;
    let _ = done.send(());
}

async fn serve_conn(stream: TcpStream, origin: OtherOrigin, mut stop: watch::Receiver<()>) {
    let service = service_fn(move |req| handle(origin.clone(), req));
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        _ = conn => {}
        _ = stop.changed() => {}
    }
}

async fn handle(
    origin: OtherOrigin,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_LOGGED_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let entry = LoggedRequest {
        index: 0,
        method: parts.method.as_str().to_owned(),
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
        route: Route::NotFound,
        format: None,
        task_id: None,
        at: origin.inner.started.elapsed(),
        sim_at: Duration::ZERO,
        status: Some(200),
        fault: None,
    };
    {
        let mut log = lock(&origin.inner.log);
        let entry = LoggedRequest {
            index: log.len(),
            ..entry
        };
        log.push(entry);
    }
    let mut response = Response::new(Full::new(Bytes::from_static(b"{}")));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    Ok(response)
}
