//! The API token never shows: not in an error's Display, `{:?}` or `{:#?}`, not in a value's
//! Debug, not in anything traced at TRACE level (the SDK's own events and spans, and the `log`
//! records of reqwest and hyper, bridged into tracing), not in what the CLI prints.
//!
//! The sweep runs every operation against the simulator under every fault of the fault matrix,
//! in both dialects, plus the authentication failures (the self-hosted 401 echoes the query, token
//! included, back in its body), transport failures (refused connection, timeout), configuration
//! errors (a base URL carrying the token, anywhere in it), and the CLI (`crates/cli`) on its error paths.
//! Each token is distinctive, so a hit anywhere is a leak.

use std::io::Write;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use lowcodeapi_runwayml::{
    Client, ClientBuilder, Error, ImageToVideo, Model, PromptImage, Ratio, RetryPolicy, TaskId,
    UrlFormat,
};
use lowcodeapi_runwayml_sim::{Dialect, Fault, Route, Simulator};
use tracing_subscriber::fmt::MakeWriter;

/// The token the simulator accepts.
const TOKEN: &str = "at_secrets_Z9q8W7e6R5t4";
/// Without `at_`: the proxy answers 401 and echoes the query (this token) back in the body.
const MALFORMED_TOKEN: &str = "malformed_Y6u5I4o3P2a1";
/// An `at_` token the proxy does not know: 403.
const UNKNOWN_TOKEN: &str = "at_unknown_A1s2D3f4G5h6";
/// A token the proxy knows, without a Runway credential: 403.
const NO_CREDENTIAL_TOKEN: &str = "at_nocred_H6j7K8l9M0n1";
/// What may never be seen: each token, and its distinctive middle alone.
const SECRETS: [&str; 8] = [
    TOKEN,
    "Z9q8W7e6R5t4",
    MALFORMED_TOKEN,
    "Y6u5I4o3P2a1",
    UNKNOWN_TOKEN,
    "A1s2D3f4G5h6",
    NO_CREDENTIAL_TOKEN,
    "H6j7K8l9M0n1",
];

fn leaks(text: &str) -> Vec<&'static str> {
    SECRETS.into_iter().filter(|s| text.contains(s)).collect()
}

// ---------------------------------------------------------------------------------------------
// Capture of everything traced, process-wide
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// A TRACE subscriber for the whole process (every runtime thread), with `log` records of the
/// HTTP stack bridged in. Installed once; every test of this file checks the whole capture.
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        use tracing_subscriber::util::SubscriberInitExt as _;
        let capture = Capture::default();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(capture.clone())
            .finish()
            .try_init()
            .expect("the only global subscriber of this test binary");
        capture
    })
}

fn traced() -> String {
    String::from_utf8_lossy(&capture().0.lock().unwrap()).into_owned()
}

/// Everything shown, per path, for the final check.
#[derive(Default)]
struct Shown {
    paths: usize,
    text: Vec<(String, String)>,
}

impl Shown {
    fn error(&mut self, path: impl Into<String>, error: &Error) {
        let mut text = format!("{error}\n{error:?}\n{error:#?}");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!("\n{cause}\n{cause:?}"));
            source = cause.source();
        }
        self.paths += 1;
        self.text.push((path.into(), text));
    }

    fn value(&mut self, path: impl Into<String>, value: &dyn std::fmt::Debug) {
        self.paths += 1;
        self.text
            .push((path.into(), format!("{value:?}\n{value:#?}")));
    }

    fn result<T: std::fmt::Debug>(&mut self, path: impl Into<String>, result: &Result<T, Error>) {
        match result {
            Ok(value) => self.value(path, value),
            Err(error) => self.error(path, error),
        }
    }

    fn assert_clean(&self) {
        let dirty: Vec<String> = self
            .text
            .iter()
            .filter(|(_, text)| !leaks(text).is_empty())
            .map(|(path, text)| format!("{path}: {:?}\n{text}", leaks(text)))
            .collect();
        assert!(
            dirty.is_empty(),
            "the token is shown:\n{}",
            dirty.join("\n\n")
        );
        let trace = traced();
        assert!(
            trace.contains("lowcodeapi.request"),
            "nothing traced: is the capture working?"
        );
        let hits = leaks(&trace);
        if !hits.is_empty() {
            let lines: Vec<&str> = trace
                .lines()
                .filter(|l| SECRETS.iter().any(|s| l.contains(s)))
                .take(10)
                .collect();
            panic!(
                "the token is in the TRACE output ({hits:?}):\n{}",
                lines.join("\n")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The SDK
// ---------------------------------------------------------------------------------------------

fn builder(base_url: &str, token: &str) -> ClientBuilder {
    Client::builder()
        .api_token(token)
        .base_url(base_url)
        .request_timeout(Duration::from_millis(300))
        .cancel_timeout(Duration::from_millis(300))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(1)
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(5))
                .max_retry_after(Duration::from_millis(50)),
        )
}

fn request() -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").unwrap(),
    )
    .ratio(Ratio::W1280H720)
    .duration(5)
}

/// Every fault of the fault matrix (429s with a short and a long `Retry-After`).
fn faults() -> Vec<Fault> {
    vec![
        Fault::RateLimited {
            retry_after: Duration::ZERO,
        },
        Fault::RateLimited {
            retry_after: Duration::from_secs(120),
        },
        Fault::Status(500),
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::Html(502),
        Fault::UpstreamText {
            status: 500,
            body: format!("boom ?api_token={TOKEN}"),
        },
        Fault::UpstreamUnreachable,
        Fault::Delay(Duration::from_millis(400)),
        Fault::Hang,
        Fault::DropConnection,
        Fault::DropAfterProcessing,
        Fault::NoContentHang,
        Fault::MalformedJson,
        Fault::TruncatedBody,
        Fault::HugeBody { bytes: 1 << 20 },
    ]
}

async fn sweep_dialect(dialect: Dialect, shown: &mut Shown) {
    let sim = Simulator::builder()
        .dialect(dialect)
        .token(TOKEN)
        .unauthorized_token(NO_CREDENTIAL_TOKEN)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let client = builder(sim.base_url(), TOKEN).build().unwrap();
    shown.value(format!("{dialect}: Client"), &client);
    shown.value(
        format!("{dialect}: ClientBuilder"),
        &builder(sim.base_url(), TOKEN),
    );

    for fault in faults() {
        let label = format!("{dialect} {fault:?}");
        // A task to look up, cancel and wait for, made before the fault is queued.
        let task = client.image_to_video(request()).await.unwrap();
        shown.value(format!("{label}: created"), &task);

        sim.fault(Route::CreateTask, fault.clone());
        let created = client.image_to_video(request()).await;
        shown.result(format!("{label}: create"), &created);
        sim.clear_faults();

        sim.fault(Route::GetTask, fault.clone()).times(2);
        shown.result(format!("{label}: get"), &client.get_task(&task.id).await);
        sim.clear_faults();

        sim.fault(Route::GetTask, fault.clone()).times(2);
        let waited = client
            .wait(&task)
            .poll_interval(Duration::from_millis(10))
            .timeout(Duration::from_millis(400))
            .transient_error_budget(Duration::from_millis(50))
            .await;
        shown.result(format!("{label}: wait"), &waited);
        sim.clear_faults();

        sim.fault(Route::GetTask, fault.clone()).times(2);
        let mut watch = client
            .watch(&task)
            .poll_interval(Duration::from_millis(10))
            .timeout(Duration::from_millis(200));
        let mut steps = 0;
        while let Some(step) = watch.next().await {
            shown.result(format!("{label}: watch step {steps}"), &step);
            steps += 1;
        }
        sim.clear_faults();

        sim.fault(Route::DeleteTask, fault.clone()).times(2);
        shown.result(
            format!("{label}: cancel"),
            &client.cancel_task(&task.id).await,
        );
        sim.clear_faults();
    }

    // Waits that time out and cancel, with the last snapshot in the error.
    let task = client.image_to_video(request()).await.unwrap();
    let waited = client
        .wait(&task)
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_millis(100))
        .cancel_on_timeout(true)
        .await;
    shown.result(format!("{dialect}: wait timeout + cancel"), &waited);

    // Authentication: the 401 body echoes the query back, token included.
    let unknown = TaskId::parse("00000000-0000-4000-8000-000000000000").unwrap();
    for token in [MALFORMED_TOKEN, UNKNOWN_TOKEN, NO_CREDENTIAL_TOKEN] {
        let wrong = builder(sim.base_url(), token)
            .url_format(UrlFormat::Old)
            .build()
            .unwrap();
        shown.result(
            format!("{dialect} token {token:.6}…: get"),
            &wrong.get_task(&task.id).await,
        );
        shown.result(
            format!("{dialect} token {token:.6}…: create"),
            &wrong.image_to_video(request()).await,
        );
        shown.result(
            format!("{dialect} token {token:.6}…: cancel"),
            &wrong.cancel_task(&unknown).await,
        );
        shown.result(
            format!("{dialect} token {token:.6}…: wait"),
            &wrong
                .wait(&task)
                .poll_interval(Duration::from_millis(5))
                .await,
        );
    }
    // Runway's own errors: an unknown task, a body Runway rejects.
    shown.result(
        format!("{dialect}: unknown task"),
        &client.get_task(&unknown).await,
    );
    let rejected = client
        .image_to_video(
            ImageToVideo::new(
                Model::Gen4Turbo,
                PromptImage::url("https://example.com/a.jpg").unwrap(),
            )
            .ratio("7:3")
            .skip_validation(),
        )
        .await;
    shown.result(format!("{dialect}: rejected body"), &rejected);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_hosted_path_shows_the_token() {
    capture();
    let mut shown = Shown::default();
    sweep_dialect(Dialect::Hosted, &mut shown).await;
    println!("{} hosted SDK paths checked", shown.paths);
    assert!(shown.paths > 200, "only {} paths", shown.paths);
    shown.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_self_hosted_path_shows_the_token() {
    capture();
    let mut shown = Shown::default();
    sweep_dialect(Dialect::SelfHosted, &mut shown).await;
    println!("{} self-hosted SDK paths checked", shown.paths);
    assert!(shown.paths > 200, "only {} paths", shown.paths);
    shown.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_transport_or_configuration_path_shows_the_token() {
    capture();
    let mut shown = Shown::default();
    // Something traced by the SDK, so that the capture is known to work.
    let sim = Simulator::builder().token(TOKEN).start().await.unwrap();
    let client = builder(sim.base_url(), TOKEN).build().unwrap();
    shown.result(
        "unknown task",
        &client.get_task(&TaskId::parse("t-0").unwrap()).await,
    );
    // Transport: nothing listening, and a timeout.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let refused = builder(&format!("http://127.0.0.1:{port}/runwayml"), TOKEN)
        .build()
        .unwrap();
    let id = TaskId::parse("t-1").unwrap();
    shown.result("refused: get", &refused.get_task(&id).await);
    shown.result("refused: create", &refused.image_to_video(request()).await);
    shown.result("refused: cancel", &refused.cancel_task(&id).await);

    // Configuration: a base URL carrying the token (LowCodeAPI's docs show URLs with it).
    for base in [
        format!("ftp://127.0.0.1/runwayml?api_token={TOKEN}"),
        format!("http://[::1/runwayml?api_token={TOKEN}"),
        format!("http://127.0.0.1:1/runwayml?api_token={TOKEN}"),
        format!("http://127.0.0.1:1/runwayml?id=1&api_token={TOKEN}#x"),
    ] {
        let built = builder(&base, TOKEN).build();
        shown.result(format!("config {:.12}…", base), &built);
        shown.value("config builder", &builder(&base, TOKEN));
    }
    shown.result(
        "config: empty token",
        &Client::builder().api_token("  ").build(),
    );

    println!("{} transport and configuration paths checked", shown.paths);
    shown.assert_clean();
}

/// The builder knows the token, so it masks it wherever a pasted base URL carries it, not only
/// after `api_token=` (it once masked only `api_token=` values).
#[test]
fn a_token_anywhere_in_a_base_url_is_never_shown() {
    let mut shown = Shown::default();
    for base in [
        format!("http://127.0.0.1:1/runwayml#{TOKEN}"),
        format!("http://127.0.0.1:1/runwayml/{TOKEN}"),
        format!("not a url {TOKEN}"),
        format!("ftp://127.0.0.1/{TOKEN}"),
    ] {
        shown.value("builder", &builder(&base, TOKEN));
        match builder(&base, TOKEN).build() {
            Ok(client) => shown.value("client", &client),
            Err(error) => shown.error("build", &error),
        }
    }
    let dirty: Vec<&String> = shown
        .text
        .iter()
        .filter(|(_, text)| !leaks(text).is_empty())
        .map(|(_, text)| text)
        .collect();
    assert!(dirty.is_empty(), "the token is shown:\n{dirty:#?}");
}
