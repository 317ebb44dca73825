//! An offline simulator of LowCodeAPI in front of RunwayML's video generation API.
//!
//! A real HTTP server on `127.0.0.1`, started in-process by tests (or run as the
//! `lowcodeapi-runwayml-sim` binary), that speaks what the proxy speaks on the wire, byte for
//! byte where the reference gives the bodies:
//!
//! - both LowCodeAPI [dialects](Dialect) (hosted `{"data": …}`, self-hosted
//!   `{"message","provider","result","response_headers"}`) and both [URL formats](UrlFormats);
//! - the `api_token` check (401 with the request echoed back in `error.logging`, token included,
//!   so a client's redaction can be tested; 403 for unknown tokens and tokens without a Runway
//!   credential);
//! - Runway's three operations reachable through LowCodeAPI: `POST /v1/image_to_video` with
//!   Runway's per-model body validation, and `GET`/`DELETE` of a task that moves through
//!   `PENDING` → `THROTTLED` → `RUNNING` → an [`Outcome`] over simulated time;
//! - the outputs of `SUCCEEDED` tasks, as real, playable H.264 MP4 files of the requested ratio
//!   and duration (a slow pan over the prompt image when it is a data URI, else a generated
//!   pattern; see [`video`]), served by a second listener, the storage host
//!   ([`Simulator::storage_url`]), behind signed links that expire on the simulated clock
//!   ([`Builder::output_link_ttl`]), with `Range` support and download [faults](Fault);
//! - the OpenAPI document LowCodeAPI serves, at `/runwayml/openapi` and `/runwayml/definition`;
//! - [faults](Fault) on demand, per [route](Route), counted: 429 with `Retry-After` as each
//!   dialect sends it, 5xx in JSON or HTML, slow answers, dropped connections, the self-hosted
//!   `DELETE` that never answers, malformed, truncated and multi-megabyte bodies; and a hostile
//!   server's answers: a gzip bomb, an oversize streamed body, a redirect to
//!   [another origin](Simulator::other_origin) that logs what reaches it.
//!
//! It depends on nothing but the wire, not on the SDK, so it catches the SDK's mistakes. Every
//! request is [logged](Simulator::requests) and every task [kept](Simulator::tasks) for
//! assertions.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Dialect, Fault, Outcome, Route, Simulator};
//! use serde_json::{Value, json};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sim = Simulator::builder()
//!     .dialect(Dialect::SelfHosted) // Old Format only, like the real self-hosted server
//!     .manual_clock()               // simulated time moves only with sim.advance()
//!     .start()
//!     .await?;
//! // The next create is rate-limited; the task after that fails moderation.
//! sim.fault(Route::CreateTask, Fault::RateLimited { retry_after: Duration::from_secs(2) });
//! sim.next_outcome(Outcome::fail("SAFETY.INPUT.TEXT", "The prompt was flagged"));
//!
//! // Any HTTP client will do; an SDK client takes sim.base_url() and DEFAULT_TOKEN.
//! let http = reqwest::Client::builder().no_proxy().build()?;
//! let create = sim.url(&format!("/v1/image_to_video?api_token={DEFAULT_TOKEN}"));
//! let body = json!({"model": "gen4_turbo", "promptImage": "https://example.com/a.jpg", "ratio": "1280:720"});
//! assert_eq!(http.post(&create).json(&body).send().await?.status(), 429);
//! let created: Value = http.post(&create).json(&body).send().await?.json().await?;
//! let id = created["result"]["id"].as_str().unwrap();
//!
//! sim.advance(Duration::from_secs(60)); // past the default 22-second timeline
//! let get = sim.url(&format!("/v1/tasks/id?id={id}&api_token={DEFAULT_TOKEN}"));
//! let task: Value = http.get(&get).send().await?.json().await?;
//! assert_eq!(task["result"]["status"], "FAILED");
//! assert_eq!(task["result"]["failureCode"], "SAFETY.INPUT.TEXT");
//!
//! assert_eq!(sim.count(Route::CreateTask), 2);
//! assert_eq!(sim.accepted_creates(), 1); // exactly one task for one accepted create
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Time
//!
//! Tasks live in simulated time. By default it runs with real time times
//! [`time_scale`](Builder::time_scale) (1.0: real time; 1000.0: the default 22-second task
//! takes 22 ms). With [`manual_clock`](Builder::manual_clock) it only moves when a test calls
//! [`advance`](Simulator::advance), which makes lifecycle tests deterministic. `advance` also
//! works on a scaled clock, jumping it forward.
//!
//! # Choices where the reference is silent
//!
//! - Hosted `DELETE` success: `200 {"data":""}` by default, or `204` without a body
//!   ([`Builder::hosted_delete`]).
//! - Hosted documents (`/openapi`, `/definition`) are served unwrapped, as the document itself,
//!   in both dialects, without a token check.
//! - The routing miss `404 {"message":"Not Found"}` is the same in both dialects. Hosted paths
//!   match exactly (case and trailing slash count); self-hosted ones ignore both.
//! - The self-hosted 401's `error.logging` is `{"method","status_code","message","path","headers","query"}`,
//!   the fields the open-source server fills in (`path` is the full request path; `headers` as
//!   Node gives them, lower-cased, repeats joined with `, `; `query` as Express parses it).
//! - Hosted error bodies for Runway's validation errors keep `issues` and `docUrl` next to
//!   `message` and `code`: `{"data":{"error":{"message":"Validation of body failed","code":"BAD_REQUEST","issues":[…],"docUrl":"…"}}}`.
//! - The upstream headers echoed by the self-hosted envelope are only `content-type` (and
//!   `retry-after` on a 429), so bodies are deterministic.
//! - A request body is parsed only under a JSON `Content-Type` (as `express.json()` does);
//!   otherwise it reads as `{}`.
//! - `DELETE` of a task that is `PENDING`, `THROTTLED` or `RUNNING` cancels it; of a finished task
//!   deletes it ([`Removal`]); either way a later `GET` answers Runway's 404
//!   `{"error":"Task not found"}`, as does a `DELETE` of an unknown or already removed id.
//! - Runway's `HEAD` check of `https://` prompt images is not simulated (no network).

#![warn(missing_docs)]

mod bomb;
mod config;
mod fault;
mod log;
mod other;
mod server;
mod state;
mod storage;
mod task;
mod util;
mod validate;
pub mod video;
mod wire;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

pub use bomb::GZIP_BOMB_DECODED_BYTES;
pub use config::{Dialect, HostedDelete, Timeline, UrlFormat, UrlFormats};
pub use fault::{Fault, FaultHandle, Route};
pub use log::LoggedRequest;
pub use other::OtherOrigin;
pub use storage::DEFAULT_OUTPUT_LINK_TTL;
pub use task::{Outcome, Removal, TaskInfo};

use fault::FaultRule;
use state::{Clock, Config, Shared, State};

/// The token every simulator accepts, unless told otherwise; starts with `at_` like real ones.
pub const DEFAULT_TOKEN: &str = "at_sim_0123456789abcdef";

/// The OpenAPI document LowCodeAPI serves for runwayml (`spec/upstream/runwayml.json`), served
/// at `/runwayml/openapi` and `/runwayml/definition` unless replaced with
/// [`Builder::definition`].
pub const DEFINITION: &str = include_str!("../assets/runwayml-definition.json");

/// Runway's `error` text for a call without the `X-Runway-Version` header (see
/// [`Builder::forward_runway_version`]). The words are Runway's as integrators report them;
/// the final period and the `docUrl` next to it follow Runway's sibling answer for an invalid
/// version (`"The API version that was provided in the X-Runway-Version header is not valid."`).
pub const MISSING_VERSION_MESSAGE: &str =
    "The X-Runway-Version header was not provided in the request.";

/// The models whose create bodies the simulator validates (runway.md, 2026-08).
/// `gen3a_turbo` is retired: 403 `Model variant gen3a_turbo is not available`.
pub fn known_models() -> Vec<&'static str> {
    validate::model_names().collect()
}

/// Configures and starts a [`Simulator`]. Made by [`Simulator::builder`].
#[derive(Clone, Debug)]
pub struct Builder {
    dialect: Dialect,
    formats: Option<UrlFormats>,
    tokens: Vec<String>,
    default_token: bool,
    unauthorized_tokens: Vec<String>,
    time_scale: f64,
    manual_clock: bool,
    timeline: Timeline,
    default_outcome: Outcome,
    prompt_outcomes: Vec<(String, Outcome)>,
    seed: Option<u64>,
    port: u16,
    hosted_delete: HostedDelete,
    estimated_cost: bool,
    definition: Bytes,
    epoch: Option<SystemTime>,
    output_link_ttl: Duration,
    synthetic_output_len: Option<u64>,
    output_fps: u32,
    storage_port: u16,
    forward_runway_version: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            dialect: Dialect::Hosted,
            formats: None,
            tokens: Vec::new(),
            default_token: true,
            unauthorized_tokens: Vec::new(),
            time_scale: 1.0,
            manual_clock: false,
            timeline: Timeline::default(),
            default_outcome: Outcome::Succeed,
            prompt_outcomes: Vec::new(),
            seed: None,
            port: 0,
            hosted_delete: HostedDelete::default(),
            estimated_cost: false,
            definition: Bytes::from_static(DEFINITION.as_bytes()),
            epoch: None,
            output_link_ttl: DEFAULT_OUTPUT_LINK_TTL,
            synthetic_output_len: None,
            output_fps: video::DEFAULT_FPS,
            storage_port: 0,
            forward_runway_version: true,
        }
    }
}

impl Builder {
    /// The dialect to speak. Default: [`Dialect::Hosted`].
    pub fn dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// The URL formats to route. Default: [`UrlFormats::default_for`] the dialect
    /// (`Both` hosted, `OldOnly` self-hosted).
    pub fn url_formats(mut self, formats: UrlFormats) -> Self {
        self.formats = Some(formats);
        self
    }

    /// Accepts this token too (in addition to [`DEFAULT_TOKEN`]). A token that does not start
    /// with `at_` can never pass: the proxy answers 401 before looking it up.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// Stops accepting [`DEFAULT_TOKEN`] (it then answers 403 `Invalid api_token`).
    pub fn without_default_token(mut self) -> Self {
        self.default_token = false;
        self
    }

    /// A token the proxy knows but that has no Runway credential: 403
    /// `No access token is associated with this api_token, authorize your runwayml with LowCodeAPI.`
    pub fn unauthorized_token(mut self, token: impl Into<String>) -> Self {
        self.unauthorized_tokens.push(token.into());
        self
    }

    /// Simulated seconds per real second. Default 1.0 (real time). Values that are not finite
    /// or not positive are ignored. Has no effect with [`manual_clock`](Builder::manual_clock).
    pub fn time_scale(mut self, scale: f64) -> Self {
        if scale.is_finite() && scale > 0.0 {
            self.time_scale = scale;
        }
        self
    }

    /// Simulated time moves only through [`Simulator::advance`].
    pub fn manual_clock(mut self) -> Self {
        self.manual_clock = true;
        self
    }

    /// How long new tasks spend in each state. Default [`Timeline::default`]
    /// (2 s pending, 0 throttled, 20 s running).
    pub fn task_timeline(mut self, timeline: Timeline) -> Self {
        self.timeline = timeline;
        self
    }

    /// How tasks end unless told otherwise. Default [`Outcome::Succeed`].
    pub fn default_outcome(mut self, outcome: Outcome) -> Self {
        self.default_outcome = outcome;
        self
    }

    /// Tasks whose `promptText` contains `marker` end with `outcome` (first matching marker
    /// wins; markers win over [`Simulator::next_outcome`]).
    pub fn outcome_for_prompt(mut self, marker: impl Into<String>, outcome: Outcome) -> Self {
        self.prompt_outcomes.push((marker.into(), outcome));
        self
    }

    /// Seeds the generator behind task ids and [`FaultHandle::probability`]. Default: random,
    /// readable afterwards with [`Simulator::seed`] to replay a run.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The port to bind on 127.0.0.1. Default 0: any free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// What the hosted dialect answers to a successful `DELETE`. Default
    /// [`HostedDelete::EmptyData`] (`200 {"data":""}`).
    pub fn hosted_delete(mut self, answer: HostedDelete) -> Self {
        self.hosted_delete = answer;
        self
    }

    /// Adds `estimatedCost: {"credits": n}` to create answers and unfinished tasks, as newer
    /// Runway API versions do. Default off: a create answers `{"id": …}` only.
    pub fn estimated_cost(mut self, on: bool) -> Self {
        self.estimated_cost = on;
        self
    }

    /// Serves this document at `/runwayml/openapi` and `/runwayml/definition` instead of
    /// [`DEFINITION`] (e.g. to test spec drift detection).
    pub fn definition(mut self, document: impl Into<Bytes>) -> Self {
        self.definition = document.into();
        self
    }

    /// The wall-clock instant simulated time 0 stands for, used in `createdAt`. Default: when
    /// the simulator starts. Set it for byte-exact task bodies.
    pub fn epoch(mut self, epoch: SystemTime) -> Self {
        self.epoch = Some(epoch);
        self
    }

    /// How long the output links of a `SUCCEEDED` task stay valid, in simulated time from the
    /// `GET` that issued them. Default [`DEFAULT_OUTPUT_LINK_TTL`] (24 h). With a
    /// [`manual_clock`](Builder::manual_clock), [`Simulator::advance`] past it makes links
    /// expire (`403`), and the next `GET` of the task issues fresh ones.
    pub fn output_link_ttl(mut self, ttl: Duration) -> Self {
        self.output_link_ttl = ttl;
        self
    }

    /// Serves every output as `len` bytes of deterministic filler (`Content-Type: video/mp4`,
    /// streamed, never held in memory) instead of a real video: for benchmarks of large
    /// downloads. Byte `i` is the same in every download, so resumed downloads can be checked.
    pub fn synthetic_output_len(mut self, len: u64) -> Self {
        self.synthetic_output_len = Some(len);
        self
    }

    /// Frames per second of output videos (1 to 120). Default [`video::DEFAULT_FPS`] (24).
    pub fn output_fps(mut self, fps: u32) -> Self {
        self.output_fps = fps;
        self
    }

    /// The port of the storage host on 127.0.0.1. Default 0: any free port.
    pub fn storage_port(mut self, port: u16) -> Self {
        self.storage_port = port;
        self
    }

    /// Whether the simulated LowCodeAPI sends Runway the `X-Runway-Version` header Runway
    /// requires. Default `true`. With `false`, it behaves like LowCodeAPI's open-source server,
    /// which sends Runway no version header: every call that reaches Runway (create, get,
    /// delete) gets Runway's `400`, in the dialect's error envelope, and nothing changes (no task
    /// is made or removed). Runway's body is
    /// `{"error":"The X-Runway-Version header was not provided in the request.","docUrl":"https://docs.dev.runwayml.com/api"}`
    /// ([`MISSING_VERSION_MESSAGE`]). Token checks, routing misses, the documents and
    /// [faults](Fault) that stand for an answer from before Runway are unchanged.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Dialect, Simulator};
    /// let sim = Simulator::builder()
    ///     .dialect(Dialect::SelfHosted)
    ///     .forward_runway_version(false)
    ///     .start()
    ///     .await?;
    /// let url = sim.url(&format!("/v1/tasks/id?id=x&api_token={DEFAULT_TOKEN}"));
    /// let answer = reqwest::Client::builder().no_proxy().build()?.get(&url).send().await?;
    /// assert_eq!(answer.status(), 400);
    /// let body: serde_json::Value = answer.json().await?;
    /// assert_eq!(body["provider"], "runwayml");
    /// assert_eq!(body["error"]["error"], lowcodeapi_runwayml_sim::MISSING_VERSION_MESSAGE);
    /// # Ok(())
    /// # }
    /// ```
    pub fn forward_runway_version(mut self, forward: bool) -> Self {
        self.forward_runway_version = forward;
        self
    }

    fn into_parts(self, other_origin: SocketAddr) -> (Arc<Shared>, u16) {
        let seed = self.seed.unwrap_or_else(util::random_seed);
        let mut tokens = self.tokens;
        if self.default_token {
            tokens.push(DEFAULT_TOKEN.to_owned());
        }
        let config = Config {
            dialect: self.dialect,
            formats: self
                .formats
                .unwrap_or_else(|| UrlFormats::default_for(self.dialect)),
            tokens,
            unauthorized_tokens: self.unauthorized_tokens,
            hosted_delete: self.hosted_delete,
            estimated_cost: self.estimated_cost,
            definition: self.definition,
            epoch: self.epoch.unwrap_or_else(SystemTime::now),
            outputs: storage::Outputs::new(
                seed,
                self.output_link_ttl,
                self.synthetic_output_len,
                self.output_fps,
            ),
            forward_runway_version: self.forward_runway_version,
            other_origin,
        };
        let clock = Clock::new(self.time_scale, self.manual_clock);
        let state = State::new(
            seed,
            self.default_outcome,
            self.prompt_outcomes,
            self.timeline,
        );
        (Arc::new(Shared::new(config, clock, seed, state)), self.port)
    }

    /// Binds `127.0.0.1` and starts serving on the current Tokio runtime.
    ///
    /// Fails when the port is taken, or when called outside a Tokio runtime.
    pub async fn start(self) -> std::io::Result<Simulator> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(std::io::Error::other(
                "Simulator::start needs a Tokio runtime; use start_blocking outside one",
            ));
        }
        let other_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let other = OtherOrigin::new(other_listener.local_addr()?);
        let storage_port = self.storage_port;
        let (shared, port) = self.into_parts(other.addr());
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let storage = TcpListener::bind((Ipv4Addr::LOCALHOST, storage_port)).await?;
        shared
            .config
            .outputs
            .set_base_url(format!("http://{}", storage.local_addr()?));
        let (stop_tx, stop_rx) = watch::channel(());
        let (done_tx, done_rx) = oneshot::channel();
        let (other_done_tx, other_done_rx) = oneshot::channel();
        tokio::spawn(other::serve(
            other_listener,
            other.clone(),
            stop_rx.clone(),
            other_done_tx,
        ));
        tokio::spawn(serve_both(
            listener,
            storage,
            shared.clone(),
            stop_rx,
            done_tx,
        ));
        Ok(Simulator::new(
            shared,
            addr,
            stop_tx,
            [done_rx, other_done_rx],
            other,
        ))
    }

    /// Starts the simulator on a background thread with its own Tokio runtime: for code that
    /// has no runtime (or must not share one, like benchmarks timing a client).
    pub fn start_blocking(self) -> std::io::Result<Simulator> {
        let std_other = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        std_other.set_nonblocking(true)?;
        let other = OtherOrigin::new(std_other.local_addr()?);
        let storage_port = self.storage_port;
        let (shared, port) = self.into_parts(other.addr());
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let std_storage = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, storage_port))?;
        std_storage.set_nonblocking(true)?;
        shared
            .config
            .outputs
            .set_base_url(format!("http://{}", std_storage.local_addr()?));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lowcodeapi-runwayml-sim")
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = watch::channel(());
        let (done_tx, done_rx) = oneshot::channel();
        let (other_done_tx, other_done_rx) = oneshot::channel();
        let server_shared = shared.clone();
        let server_other = other.clone();
        std::thread::Builder::new()
            .name("lowcodeapi-runwayml-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    if let Ok(listener) = TcpListener::from_std(std_other) {
                        tokio::spawn(other::serve(
                            listener,
                            server_other,
                            stop_rx.clone(),
                            other_done_tx,
                        ));
                    }
                    if let (Ok(listener), Ok(storage)) = (
                        TcpListener::from_std(std_listener),
                        TcpListener::from_std(std_storage),
                    ) {
                        serve_both(listener, storage, server_shared, stop_rx, done_tx).await;
                    }
                });
            })?;
        Ok(Simulator::new(
            shared,
            addr,
            stop_tx,
            [done_rx, other_done_rx],
            other,
        ))
    }
}

/// Serves the API and the storage host until `stop` fires; then reports on `done`.
async fn serve_both(
    api: TcpListener,
    storage: TcpListener,
    shared: Arc<Shared>,
    stop: watch::Receiver<()>,
    done: oneshot::Sender<()>,
) {
    let (api_done, api_stopped) = oneshot::channel();
    tokio::join!(
        server::serve(api, shared.clone(), stop.clone(), api_done),
        storage::serve(storage, shared, stop),
    );
    let _ = api_stopped.await;
    let _ = done.send(());
}

/// A running simulator. Shuts down when dropped (or with [`shutdown`](Simulator::shutdown)).
///
/// All methods are cheap and synchronous except `start` and `shutdown`; they can be called while
/// requests are in flight.
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
    stop: Option<watch::Sender<()>>,
    done: Vec<oneshot::Receiver<()>>,
    other: OtherOrigin,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("base_url", &self.base_url)
            .field("dialect", &self.shared.config.dialect)
            .field("url_formats", &self.shared.config.formats)
            .field("seed", &self.shared.seed)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    fn new(
        shared: Arc<Shared>,
        addr: SocketAddr,
        stop: watch::Sender<()>,
        done: [oneshot::Receiver<()>; 2],
        other: OtherOrigin,
    ) -> Simulator {
        Simulator {
            shared,
            addr,
            base_url: format!("http://{addr}/runwayml"),
            stop: Some(stop),
            done: done.into(),
            other,
        }
    }

    /// A builder with the defaults: hosted, both URL formats, real time, tasks succeed.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Starts a simulator with the defaults (see [`Simulator::builder`]).
    pub async fn start() -> std::io::Result<Simulator> {
        Builder::default().start().await
    }

    /// The base URL a client uses, e.g. `http://127.0.0.1:PORT/runwayml`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The storage host's base URL, `http://127.0.0.1:PORT`: another origin than
    /// [`base_url`](Simulator::base_url), where the output links of `SUCCEEDED` tasks point,
    /// like Runway's CDN: `/outputs/<task-id>/0.mp4?_jwt=<JWT>`.
    ///
    /// - The JWT (`HS256`, base64url parts) carries `{"exp": <unix seconds>, "task": "<id>", "n": 0}`,
    ///   signed with a key derived from the [seed](Builder::seed). `exp` is on the simulated
    ///   clock ([`epoch`](Builder::epoch) + [`now`](Simulator::now)), [`output_link_ttl`](Builder::output_link_ttl)
    ///   ahead; every `GET` of the task issues a fresh link.
    /// - `GET`/`HEAD`: `200`, `Content-Type: video/mp4`, `Content-Length`, `Accept-Ranges: bytes`.
    ///   `Range: bytes=N-`, `N-M`, `-N`: `206` with `Content-Range`; unsatisfiable: `416` with
    ///   `Content-Range: bytes */len`.
    /// - A bad or missing signature: `403` `<Error><Code>AccessDenied</Code><Message>Signature mismatch</Message></Error>`
    ///   (`application/xml`); an expired link: the same with `Request has expired`; a task that
    ///   is unknown, deleted or not `SUCCEEDED`: `404` `NoSuchKey`.
    /// - The file is a real MP4 ([`video`]) of the task's `ratio` and `duration`, made on the
    ///   first download (about a second per 5 s of 720p) and kept for the next ones (the last
    ///   four; an evicted one is made again, byte for byte the same); or, with
    ///   [`synthetic_output_len`](Builder::synthetic_output_len), filler of that length.
    ///
    /// Its requests are logged with [`Route::Output`] (see
    /// [`LoggedRequest::carries_api_token`]); [faults](Fault#on-downloads-routeoutput) queued on
    /// that route shape downloads.
    pub fn storage_url(&self) -> &str {
        self.shared.config.outputs.base_url()
    }

    /// `base_url` followed by `path_and_query` (which should start with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url)
    }

    /// The second listener, another origin, that
    /// [`Fault::CrossOriginRedirect`] points at, with its own request log.
    pub fn other_origin(&self) -> &OtherOrigin {
        &self.other
    }

    /// The dialect spoken.
    pub fn dialect(&self) -> Dialect {
        self.shared.config.dialect
    }

    /// The URL formats routed.
    pub fn url_formats(&self) -> UrlFormats {
        self.shared.config.formats
    }

    /// The seed of the generator behind task ids and fault probabilities.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.with_state(|s| s.log.clone())
    }

    /// How many requests were received on `route` ([`Route::Any`]: all of them).
    pub fn count(&self, route: Route) -> usize {
        self.shared
            .with_state(|s| s.log.iter().filter(|r| r.route.matches(route)).count())
    }

    /// How many requests satisfy `predicate`.
    pub fn count_where(&self, predicate: impl Fn(&LoggedRequest) -> bool) -> usize {
        self.shared
            .with_state(|s| s.log.iter().filter(|r| predicate(r)).count())
    }

    /// Empties the request log (tasks and faults stay), e.g. between phases of a soak test.
    /// [`LoggedRequest::index`] keeps counting from where it was.
    pub fn clear_requests(&self) {
        self.shared.with_state(|s| {
            s.log_cleared += s.log.len();
            s.log.clear();
        });
    }

    /// Every task created so far, oldest first, including removed ones.
    pub fn tasks(&self) -> Vec<TaskInfo> {
        self.shared.task_infos()
    }

    /// One task, by id.
    pub fn task(&self, id: &str) -> Option<TaskInfo> {
        self.tasks().into_iter().find(|t| t.id == id)
    }

    /// How many creates were accepted, which is how many tasks exist (each accepted create
    /// makes exactly one).
    pub fn accepted_creates(&self) -> usize {
        self.shared.with_state(|s| s.tasks.len())
    }

    /// Queues `fault` on `route`, to fire once on the next matching request; the returned handle
    /// changes that ([`times`](FaultHandle::times), [`always`](FaultHandle::always),
    /// [`probability`](FaultHandle::probability)). Faults queued on a route fire in the order
    /// they were queued.
    pub fn fault(&self, route: Route, fault: Fault) -> FaultHandle {
        let id = self.shared.with_state(|s| {
            let id = s.next_fault_id;
            s.next_fault_id += 1;
            s.faults.push(FaultRule {
                id,
                route,
                fault,
                remaining: Some(1),
                probability: 1.0,
                fired: 0,
            });
            id
        });
        FaultHandle {
            shared: self.shared.clone(),
            id,
        }
    }

    /// Removes every queued fault.
    pub fn clear_faults(&self) {
        self.shared.with_state(|s| {
            for rule in s.faults.drain(..) {
                s.retired_faults.insert(rule.id, rule.fired);
            }
        });
    }

    /// The next created task (not matched by a prompt marker) ends with `outcome`. Calls queue up.
    pub fn next_outcome(&self, outcome: Outcome) {
        self.shared
            .with_state(|s| s.queued_outcomes.push_back(outcome));
    }

    /// Changes how tasks end unless told otherwise.
    pub fn set_default_outcome(&self, outcome: Outcome) {
        self.shared.with_state(|s| s.default_outcome = outcome);
    }

    /// Tasks created from now on whose `promptText` contains `marker` end with `outcome`.
    pub fn outcome_for_prompt(&self, marker: impl Into<String>, outcome: Outcome) {
        let marker = marker.into();
        self.shared
            .with_state(|s| s.prompt_outcomes.push((marker, outcome)));
    }

    /// Changes the timeline of tasks created from now on.
    pub fn set_task_timeline(&self, timeline: Timeline) {
        self.shared.with_state(|s| s.timeline = timeline);
    }

    /// Moves simulated time forward by `by` (with either clock).
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Simulated time since the simulator started.
    pub fn now(&self) -> Duration {
        self.shared.clock.now()
    }

    /// Stops accepting, closes every connection (hanging ones too) and waits until done.
    pub async fn shutdown(mut self) {
        self.stop.take();
        for done in std::mem::take(&mut self.done) {
            let _ = done.await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // Dropping the sender wakes the accept loop and every connection.
        self.stop.take();
    }
}
