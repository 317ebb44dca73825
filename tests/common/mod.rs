//! Shared helpers for the client integration tests: envelope builders for both LowCodeAPI
//! dialects (and bare Runway bodies), httpmock route matchers for New and Old Format, client
//! builders with fast retries, a tracing capture writer, and assertions that nothing shown leaks
//! the token.
//!
//! Each test file includes this module, so not every helper is used by every file.
#![allow(dead_code)]

use std::io;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use httpmock::{Method, MockServer, Then, When};
use lowcodeapi_runwayml::generated::types::ImageToVideoRequest;
use lowcodeapi_runwayml::{
    Client, ClientBuilder, Error, ImageToVideo, PromptImage, RetryPolicy, TaskId, UrlFormat,
};
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

/// The token every test uses; it must never appear in anything the SDK shows.
pub const TOKEN: &str = "at_SUPERSECRET_123";
/// A Runway-shaped task id.
pub const TASK: &str = "17f20503-6c24-4c16-946b-35dbbce2af2f";
/// LowCodeAPI's routing miss (self-hosted New Format answers this; no `provider` key).
pub const ROUTING_MISS: &str = r#"{"message":"Not Found"}"#;

/// Pieces of the token: finding any of them in a string is a (partial) leak.
const TOKEN_PIECES: [&str; 3] = [TOKEN, "SUPERSECRET", "at_SUPERSE"];

pub fn task_id() -> TaskId {
    TaskId::parse(TASK).expect("a valid task id")
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

/// Retries with tiny backoffs so tests stay fast.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

/// A builder with the test token, fast retries and short timeouts.
pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
    Client::builder()
        .api_token(TOKEN)
        .base_url(base_url)
        .retry_policy(fast_retry())
        .connect_timeout(Duration::from_secs(2))
        .request_timeout(Duration::from_secs(5))
        .cancel_timeout(Duration::from_secs(5))
}

/// A client for `server` in the given URL format.
pub fn client(server: &MockServer, format: UrlFormat) -> Client {
    builder(server.base_url())
        .url_format(format)
        .build()
        .expect("client builds")
}

/// A base URL on a loopback port where nothing listens (connection refused).
pub fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("local addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// A minimal valid create body.
/// The create request the client tests send.
pub fn create_body() -> ImageToVideo {
    ImageToVideo::new(
        "gen4_turbo",
        PromptImage::url("https://example.com/a.jpg").unwrap(),
    )
    .ratio("1280:720")
}

/// The same request as the generated type, for raw calls and typed mocks.
pub fn create_wire_body() -> ImageToVideoRequest {
    serde_json::from_value(json!({
        "model": "gen4_turbo",
        "promptImage": "https://example.com/a.jpg",
        "ratio": "1280:720"
    }))
    .expect("a valid ImageToVideoRequest")
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

/// How a success or error body is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// api.lowcodeapi.com: `{"data": X}`.
    Hosted,
    /// The open-source server: `{"message","provider","result": X,"response_headers"}`.
    SelfHosted,
    /// Runway's own body, no envelope.
    Bare,
}

pub const WIRES: [Wire; 3] = [Wire::Hosted, Wire::SelfHosted, Wire::Bare];

impl Wire {
    /// A success body around `payload`.
    pub fn success(self, payload: Value) -> Value {
        match self {
            Wire::Hosted => hosted(payload),
            Wire::SelfHosted => self_hosted(payload),
            Wire::Bare => payload,
        }
    }

    /// An error body carrying Runway's error body `runway` (`{"error": …, …}`).
    pub fn runway_error(self, runway: Value) -> Value {
        match self {
            // The hosted page documents `{"data":{"error":{"message","code"}}}`; Runway's
            // `issues` and `docUrl`, when present, are assumed to ride along.
            Wire::Hosted => {
                let mut inner = json!({ "message": runway["error"], "code": "PROVIDER_ERROR" });
                for key in ["issues", "docUrl"] {
                    if let Some(value) = runway.get(key) {
                        inner[key] = value.clone();
                    }
                }
                json!({ "data": { "error": inner } })
            }
            Wire::SelfHosted => self_hosted_error(
                "Error received from the runwayml API",
                runway,
                json!({"content-type": "application/json"}),
            ),
            Wire::Bare => runway,
        }
    }

    /// The URL format a deployment of this dialect routes (self-hosted routes only Old).
    pub fn format(self) -> UrlFormat {
        match self {
            Wire::SelfHosted => UrlFormat::Old,
            _ => UrlFormat::New,
        }
    }
}

pub fn hosted(payload: Value) -> Value {
    json!({ "data": payload })
}

pub fn self_hosted(payload: Value) -> Value {
    json!({
        "message": "Request completed",
        "provider": "runwayml",
        "result": payload,
        "response_headers": {"content-type": "application/json; charset=utf-8"}
    })
}

pub fn hosted_error(message: &str, code: &str) -> Value {
    json!({ "data": { "error": { "message": message, "code": code } } })
}

pub fn self_hosted_error(message: &str, error: Value, headers: Value) -> Value {
    json!({ "message": message, "provider": "runwayml", "error": error, "headers": headers })
}

/// A full task in `status`, with the fields that status carries.
pub fn task_json(id: &str, status: &str) -> Value {
    let mut task = json!({ "id": id, "status": status, "createdAt": "2026-08-01T12:00:00.000Z" });
    match status {
        "RUNNING" => {
            task["progress"] = json!(0.4);
            task["estimatedCost"] = json!({"credits": 25});
        }
        "PENDING" | "THROTTLED" => task["estimatedCost"] = json!({"credits": 25}),
        "SUCCEEDED" => {
            task["output"] = json!(["https://dnznrvs05pmza.cloudfront.net/out.mp4"]);
            task["cost"] = json!({"credits": 25});
        }
        "FAILED" => {
            task["failure"] = json!("Content moderation rejected the input");
            task["failureCode"] = json!("SAFETY.INPUT.IMAGE");
            task["cost"] = json!({"credits": 0});
        }
        "CANCELLED" => task["cost"] = json!({"credits": 0}),
        _ => {}
    }
    task
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/// One route of the API, as a matcher; every matcher also requires the token in the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    GetNew,
    GetOld,
    DeleteNew,
    DeleteOld,
    Create,
}

impl Route {
    pub fn get(format: UrlFormat) -> Self {
        if format == UrlFormat::Old {
            Route::GetOld
        } else {
            Route::GetNew
        }
    }

    pub fn delete(format: UrlFormat) -> Self {
        if format == UrlFormat::Old {
            Route::DeleteOld
        } else {
            Route::DeleteNew
        }
    }

    /// Matches this route for task `id` under the base path `prefix` ("" for the server root).
    pub fn at(self, when: When, prefix: &str, id: &str) -> When {
        let when = when.query_param("api_token", TOKEN);
        match self {
            Route::GetNew => when
                .method(Method::GET)
                .path(format!("{prefix}/v1/tasks/{id}")),
            Route::DeleteNew => when
                .method(Method::DELETE)
                .path(format!("{prefix}/v1/tasks/{id}")),
            Route::GetOld => when
                .method(Method::GET)
                .path(format!("{prefix}/v1/tasks/id"))
                .query_param("id", id),
            Route::DeleteOld => when
                .method(Method::DELETE)
                .path(format!("{prefix}/v1/tasks/id"))
                .query_param("id", id),
            Route::Create => when
                .method(Method::POST)
                .path(format!("{prefix}/v1/image_to_video")),
        }
    }

    /// Matches this route for [`TASK`] at the server root.
    pub fn when(self, when: When) -> When {
        self.at(when, "", TASK)
    }
}

/// Answers with `status` and a JSON body.
pub fn json(then: Then, status: u16, body: &Value) -> Then {
    then.status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string())
}

/// Answers with `status` and a raw body of `content_type`.
pub fn raw(then: Then, status: u16, content_type: &str, body: impl AsRef<[u8]>) -> Then {
    then.status(status)
        .header("content-type", content_type)
        .body(body)
}

// ---------------------------------------------------------------------------------------------
// Assertions
// ---------------------------------------------------------------------------------------------

/// Panics when `text` holds the token or a recognisable piece of it.
pub fn assert_no_token(what: &str, text: &str) {
    for piece in TOKEN_PIECES {
        assert!(
            !text.contains(piece),
            "{what} leaks the token ({piece:?} found):\n{text}"
        );
    }
}

/// The error's Display is one readable line, and none of Display, `{:?}`, `{:#?}` leaks the token.
/// Returns the Display.
pub fn assert_clean(error: &Error) -> String {
    let display = error.to_string();
    assert!(
        !display.contains('\n') && !display.contains('\r'),
        "Display is not one line: {display:?}"
    );
    assert!(!display.trim().is_empty(), "Display is empty");
    assert_no_token("Display", &display);
    assert_no_token("Debug", &format!("{error:?}"));
    assert_no_token("pretty Debug", &format!("{error:#?}"));
    display
}

/// Unwraps an `Err`, checking it with [`assert_clean`].
#[track_caller]
pub fn expect_err<T: std::fmt::Debug>(result: Result<T, Error>) -> Error {
    let error = result.expect_err("expected an error");
    assert_clean(&error);
    error
}

// ---------------------------------------------------------------------------------------------
// Tracing capture
// ---------------------------------------------------------------------------------------------

/// A `MakeWriter` collecting everything a fmt subscriber writes.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    /// A TRACE-level fmt subscriber writing here, span events included. The mock server's own
    /// logs (it runs on its own thread, and logs request URIs) are filtered out in case.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace,httpmock=off"))
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish()
    }

    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("capture lock")).into_owned()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

/// `data` as a gzip stream (deflate "stored" blocks: valid, uncompressed), for serving
/// `content-encoding: gzip` bodies as LowCodeAPI does above 512 bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
