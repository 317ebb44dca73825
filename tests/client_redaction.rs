//! Requirement 6: the token never shows. Every failure path runs with a TRACE-level tracing
//! subscriber capturing into a buffer; the errors' Display, `{:?}` and `{:#?}`, the Client's and
//! ClientBuilder's Debug, and everything traced are searched for the token (and pieces of it).

mod common;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::{Client, Error, RetryPolicy, TransportKind, UrlFormat};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Runs `future` with a TRACE subscriber capturing into a buffer; returns its output and the text.
async fn traced<T>(future: impl Future<Output = T>) -> (T, String) {
    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(capture.subscriber());
    let output = future.await;
    drop(guard);
    (output, capture.text())
}

/// Checks an error and the trace of the call that produced it; returns the Display.
fn check(name: &str, error: &Error, trace: &str) -> String {
    let display = assert_clean(error);
    assert_no_token(&format!("{name}: trace"), trace);
    assert!(
        trace.contains("lowcodeapi.request")
            || trace.is_empty() && matches!(error, Error::Config { .. }),
        "{name}: nothing traced; is the capture working?\n{trace}"
    );
    display
}

fn client_for(server: &MockServer) -> Client {
    builder(server.base_url())
        .retry_policy(fast_retry().max_retries(1))
        .request_timeout(Duration::from_millis(300))
        .cancel_timeout(Duration::from_millis(300))
        .url_format(UrlFormat::Auto)
        .build()
        .expect("client")
}

/// An URL echoing the request, as proxies' error pages and the self-hosted 401 do.
fn echoed_url() -> String {
    format!("/runwayml/v1/tasks/id?id={TASK}&api_token={TOKEN}")
}

/// One failure answer for every route: (name, status, content type, body).
fn answers() -> Vec<(&'static str, u16, &'static str, Vec<u8>)> {
    let as_json = |v: Value| v.to_string().into_bytes();
    vec![
        (
            "hosted 400",
            400,
            "application/json",
            as_json(hosted_error(&format!("bad token {TOKEN}"), TOKEN)),
        ),
        (
            "self-hosted 401 echoing the request",
            401,
            "application/json",
            as_json(json!({
                "message": "A valid API token is required to access this API.",
                "provider": "runwayml",
                "error": {"code": 401, "logging": {
                    "headers": {"authorization": format!("Bearer {TOKEN}")},
                    "query": {"api_token": TOKEN},
                    "url": echoed_url(),
                }}
            })),
        ),
        (
            "403 invalid token",
            403,
            "application/json",
            as_json(
                json!({"message": format!("Invalid api_token {TOKEN}"), "provider": "runwayml", "error": {"code": 403}}),
            ),
        ),
        (
            "403 no credential",
            403,
            "application/json",
            as_json(
                json!({"message": "No access token is associated with this api_token, authorize your runwayml with LowCodeAPI.", "provider": "runwayml", "error": {"code": 403}}),
            ),
        ),
        (
            "Runway 404",
            404,
            "application/json",
            as_json(
                Wire::SelfHosted
                    .runway_error(json!({"error": format!("Task not found for {TOKEN}")})),
            ),
        ),
        (
            "Runway 400 with issues",
            400,
            "application/json",
            as_json(json!({
                "error": "Validation of body failed",
                "issues": [{"code": TOKEN, "path": ["promptImage", TOKEN], "message": format!("bad {TOKEN}")}],
                "docUrl": format!("https://docs.dev.runwayml.com/api?api_token={TOKEN}")
            })),
        ),
        (
            "429 with Retry-After beyond the cap",
            429,
            "application/json",
            as_json(self_hosted_error(
                "Error received from the runwayml API",
                json!({"error": format!("rate limited {TOKEN}")}),
                json!({"retry-after": "3600", "x-echo": TOKEN}),
            )),
        ),
        (
            "retried 503",
            503,
            "application/json",
            as_json(json!({"error": format!("busy {TOKEN}")})),
        ),
        (
            "500 text",
            500,
            "text/plain",
            format!("Internal boom while serving {} with {TOKEN}", echoed_url()).into_bytes(),
        ),
        (
            "HTML 502",
            502,
            "text/html",
            format!(
                "<html><body><h1>502 Bad Gateway</h1><p>GET {}</p><p>{TOKEN}</p></body></html>",
                echoed_url()
            )
            .into_bytes(),
        ),
        (
            "malformed JSON 200",
            200,
            "application/json",
            format!(r#"{{"id": "{TASK}", "echo": "{TOKEN}", "#).into_bytes(),
        ),
        (
            "token straddling the excerpt cut",
            500,
            "text/plain",
            format!("{}Bearer {TOKEN} and the rest", "x".repeat(290)).into_bytes(),
        ),
        ("empty 500", 500, "text/plain", Vec::new()),
        (
            "5 MB body starting with the token",
            500,
            "text/plain",
            format!("{TOKEN} {}", "y".repeat(5 * 1024 * 1024)).into_bytes(),
        ),
        (
            "routing miss",
            404,
            "application/json",
            ROUTING_MISS.as_bytes().to_vec(),
        ),
    ]
}

#[tokio::test]
async fn no_error_answer_shows_the_token() {
    for (name, status, content_type, body) in answers() {
        let server = MockServer::start_async().await;
        for route in [
            Route::GetNew,
            Route::GetOld,
            Route::DeleteNew,
            Route::DeleteOld,
            Route::Create,
        ] {
            server
                .mock_async(|when, then| {
                    route.when(when);
                    raw(then, status, content_type, &body);
                })
                .await;
        }
        let client = client_for(&server);

        let (get, trace) = traced(client.get_task(&task_id())).await;
        check(name, &get.expect_err(name), &trace);

        let (cancel, trace) = traced(client.cancel_task(&task_id())).await;
        match cancel {
            Err(error) => {
                check(name, &error, &trace);
            }
            // A DELETE answered 404 by Runway, or a 200 (the malformed body), is a success.
            Ok(_) => assert_no_token(name, &trace),
        }

        let (create, trace) = traced(client.image_to_video(create_body())).await;
        check(name, &create.expect_err(name), &trace);
    }
}

#[tokio::test]
async fn refused_connections_do_not_show_the_token() {
    let client = builder(closed_port_url())
        .retry_policy(fast_retry().max_retries(1))
        .build()
        .expect("client");

    let (get, trace) = traced(client.get_task(&task_id())).await;
    let error = get.expect_err("refused");
    assert!(matches!(&error, Error::Transport(t) if t.kind == TransportKind::Connect));
    let display = check("refused get", &error, &trace);
    assert!(trace.contains("retrying"), "{trace}");
    assert!(!display.contains("api_token"), "{display}");

    let (cancel, trace) = traced(client.cancel_task(&task_id())).await;
    check("refused cancel", &cancel.expect_err("refused"), &trace);

    let (create, trace) = traced(client.image_to_video(create_body())).await;
    check("refused create", &create.expect_err("refused"), &trace);
}

#[tokio::test]
async fn timeouts_do_not_show_the_token() {
    let server = MockServer::start_async().await;
    for route in [Route::GetNew, Route::DeleteNew, Route::Create] {
        server
            .mock_async(|when, then| {
                route.when(when);
                json(then, 200, &json!({"id": TASK, "status": "RUNNING"}))
                    .delay(Duration::from_secs(5));
            })
            .await;
    }
    let client = builder(server.base_url())
        .retry_policy(fast_retry().max_retries(1))
        .request_timeout(Duration::from_millis(150))
        .cancel_timeout(Duration::from_millis(150))
        .url_format(UrlFormat::New)
        .build()
        .expect("client");

    let (get, trace) = traced(client.get_task(&task_id())).await;
    let error = get.expect_err("timeout");
    assert!(error.is_timeout());
    check("get timeout", &error, &trace);
    assert!(trace.contains("no answer"), "{trace}");

    // A hung cancel, then its check (which times out too).
    let (cancel, trace) = traced(client.cancel_task(&task_id())).await;
    check("cancel timeout", &cancel.expect_err("timeout"), &trace);

    let (create, trace) = traced(client.image_to_video(create_body())).await;
    check("create timeout", &create.expect_err("timeout"), &trace);
}

/// A loopback server that answers every request with a 200 promising 1000 bytes and sending
/// a few, then closes: the body cannot be read. Returns its URL and a connection counter.
async fn truncating_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n{\"id\":",
                    )
                    .await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, connections)
}

#[tokio::test]
async fn a_body_cut_short_does_not_show_the_token() {
    let (url, connections) = truncating_server().await;
    let client = builder(url)
        .retry_policy(fast_retry().max_retries(1))
        .url_format(UrlFormat::New)
        .build()
        .expect("client");

    let (get, trace) = traced(client.get_task(&task_id())).await;
    let error = get.expect_err("cut short");
    let display = check("cut body", &error, &trace);
    assert!(
        matches!(&error, Error::Transport(t) if t.kind == TransportKind::Other),
        "{error:?}"
    );
    // The URL is dropped from the message, not left as an empty shell.
    assert!(!display.contains("for url"), "{display}");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "a GET is retried");

    let (create, trace) = traced(client.image_to_video(create_body())).await;
    check("cut create body", &create.expect_err("cut short"), &trace);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "a create whose answer was cut is not sent again"
    );
}

#[tokio::test]
async fn client_and_builder_debug_do_not_show_the_token() {
    let server = MockServer::start_async().await;
    let builder = builder(server.base_url());
    for text in [format!("{builder:?}"), format!("{builder:#?}")] {
        assert_no_token("ClientBuilder Debug", &text);
        assert!(text.contains("[REDACTED]"), "{text}");
    }
    let client = builder.build().expect("client");
    for text in [
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.raw()),
        format!("{:#?}", client.raw()),
    ] {
        assert_no_token("Client Debug", &text);
        assert!(text.contains(&server.base_url()), "{text}");
    }
}

#[tokio::test]
async fn successful_calls_trace_nothing_secret_either() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    server
        .mock_async(|when, then| {
            Route::GetOld.when(when);
            json(then, 200, &self_hosted(task_json(TASK, "SUCCEEDED")));
        })
        .await;
    let client = client_for(&server);

    let (task, trace) = traced(client.get_task(&task_id())).await;

    task.expect("task");
    assert_no_token("trace", &trace);
    assert!(trace.contains("URL format settled"), "{trace}");
}

#[test]
fn config_errors_do_not_show_the_token() {
    let with_token = format!("https://api.lowcodeapi.com/runwayml?api_token={TOKEN}");
    let error = Client::builder()
        .api_token(TOKEN)
        .base_url(&with_token)
        .build()
        .expect_err("a query is rejected");
    assert!(matches!(error, Error::Config { .. }));
    assert_clean(&error);
}

/// Base URLs that fail other checks, still holding the token (a pasted full URL).
#[test]
fn config_errors_for_bad_urls_do_not_echo_the_token() {
    for bad in [
        format!("api.lowcodeapi.com/runwayml?api_token={TOKEN}"),
        format!("ftp://api.lowcodeapi.com/runwayml?api_token={TOKEN}"),
    ] {
        let error = Client::builder()
            .api_token(TOKEN)
            .base_url(&bad)
            .retry_policy(RetryPolicy::none())
            .build()
            .expect_err("rejected");
        assert!(matches!(error, Error::Config { .. }));
        assert_clean(&error);
    }
}

/// A 200 answer whose envelope holds nothing, on an operation that expects a payload: the raw
/// call's unexpected response carries the base URL, not the request's (which holds the token).
#[tokio::test]
async fn an_empty_envelope_s_unexpected_response_does_not_carry_the_token() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &json!({"data": null}));
        })
        .await;
    let client = builder(server.base_url())
        .url_format(UrlFormat::New)
        .build()
        .expect("client");

    let (raw, trace) = traced(client.raw().get_task(TASK)).await;
    let Err(lowcodeapi_runwayml::generated::RawError::UnexpectedResponse(response)) = raw else {
        panic!("expected an unexpected response, got {raw:?}");
    };
    assert_eq!(response.status().as_u16(), 204);
    assert_eq!(
        response.url().as_str().trim_end_matches('/'),
        client.base_url()
    );
    assert_no_token("response", &format!("{response:?}"));
    assert_no_token("trace", &trace);

    let (task, trace) = traced(client.get_task(&task_id())).await;
    let error = task.expect_err("no task in an empty envelope");
    check("empty envelope", &error, &trace);
}
