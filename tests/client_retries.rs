//! Requirement 4: the retry matrix. GET and DELETE are retried on 429/502/503/504, timeouts and
//! refused connections; the create POST only when it provably was not processed (429, refused
//! connection) unless the caller opts in; `Retry-After` is honoured from the header and from the
//! self-hosted body, up to a cap; backoffs stay within their bounds.

mod common;

use std::time::{Duration, Instant};

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::{
    CancelOutcome, Client, Error, RetryPolicy, TaskStatus, TransportKind, UrlFormat,
};
use serde_json::{Value, json};

const RETRIES: u32 = 2;
const ATTEMPTS: usize = 1 + RETRIES as usize;

fn policy() -> RetryPolicy {
    fast_retry().max_retries(RETRIES)
}

fn client_with(server: &MockServer, policy: RetryPolicy) -> Client {
    builder(server.base_url())
        .retry_policy(policy)
        .url_format(UrlFormat::New)
        .build()
        .expect("client")
}

/// A self-hosted error body for `status`.
fn error_body(status: u16) -> Value {
    self_hosted_error(
        "Error received from the runwayml API",
        json!({"error": format!("upstream said {status}")}),
        json!({"content-type": "application/json"}),
    )
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Get,
    Delete,
    Create,
}

impl Op {
    fn route(self) -> Route {
        match self {
            Op::Get => Route::GetNew,
            Op::Delete => Route::DeleteNew,
            Op::Create => Route::Create,
        }
    }

    /// Runs the operation; the error when it failed, `None` when it succeeded.
    async fn run(self, client: &Client) -> Result<(), Error> {
        match self {
            Op::Get => client.get_task(&task_id()).await.map(drop),
            Op::Delete => client.cancel_task(&task_id()).await.map(drop),
            Op::Create => client.image_to_video(create_body()).await.map(drop),
        }
    }
}

/// Serves `status` on `op`'s route and returns (error, requests).
async fn fail_with(op: Op, status: u16, policy: RetryPolicy) -> (Result<(), Error>, usize) {
    let server = MockServer::start_async().await;
    if let Op::Delete = op {
        // The look a cancel takes before its DELETE.
        server
            .mock_async(|when, then| {
                Route::GetNew.when(when);
                json(then, 200, &hosted(task_json(TASK, "RUNNING")));
            })
            .await;
    }
    let body = error_body(status);
    let mock = server
        .mock_async(|when, then| {
            op.route().when(when);
            json(then, status, &body);
        })
        .await;
    let result = op.run(&client_with(&server, policy)).await;
    if let Err(error) = &result {
        assert_clean(error);
    }
    (result, mock.calls_async().await)
}

#[tokio::test]
async fn get_and_delete_are_retried_on_429_and_gateway_errors() {
    for op in [Op::Get, Op::Delete] {
        for status in [429, 502, 503, 504] {
            let (result, requests) = fail_with(op, status, policy()).await;
            let error = result.expect_err("still failing after the retries");
            assert_eq!(requests, ATTEMPTS, "{op:?} {status}");
            assert_eq!(error.status(), Some(status), "{op:?}");
            assert!(error.is_retryable());
            assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
        }
    }
}

#[tokio::test]
async fn get_and_delete_are_not_retried_on_other_errors() {
    for op in [Op::Get, Op::Delete] {
        for status in [400, 401, 403, 404, 500] {
            let (result, requests) = fail_with(op, status, policy()).await;
            assert_eq!(requests, 1, "{op:?} {status}");
            match (op, status) {
                // A DELETE on a task Runway no longer knows is done (the look saw it).
                (Op::Delete, 404) => assert!(result.is_ok()),
                _ => assert_eq!(result.expect_err("error").status(), Some(status)),
            }
        }
    }
}

#[tokio::test]
async fn a_get_succeeds_after_transient_failures() {
    let server = MockServer::start_async().await;
    let failing = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 503, &error_body(503)).up_to_n_times(2);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "SUCCEEDED")));
        })
        .await;

    let task = client_with(&server, policy())
        .get_task(&task_id())
        .await
        .expect("third attempt succeeds");

    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(failing.calls_async().await, 2);
    assert_eq!(ok.calls_async().await, 1);
}

#[tokio::test]
async fn create_is_retried_on_429_only_by_default() {
    let (result, requests) = fail_with(Op::Create, 429, policy()).await;
    assert_eq!(requests, ATTEMPTS);
    assert!(result.expect_err("429").is_rate_limited());

    for status in [400, 401, 403, 404, 500, 502, 503, 504] {
        let (result, requests) = fail_with(Op::Create, status, policy()).await;
        assert_eq!(
            requests, 1,
            "create {status}: the server holds exactly one create"
        );
        let error = result.expect_err("error");
        assert_eq!(error.status(), Some(status));
    }
}

#[tokio::test]
async fn create_succeeds_after_a_429() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(then, 429, &error_body(429)).up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(then, 200, &json!({"id": TASK}));
        })
        .await;

    let created = client_with(&server, policy())
        .image_to_video(create_body())
        .await
        .expect("created after the 429");

    assert_eq!(created.id.as_str(), TASK);
    assert_eq!(limited.calls_async().await, 1);
    assert_eq!(ok.calls_async().await, 1);
}

/// A create whose answer never comes in time: (error, requests).
async fn create_timing_out(policy: RetryPolicy) -> (Error, usize) {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(then, 200, &json!({"id": TASK})).delay(Duration::from_secs(3));
        })
        .await;
    let client = builder(server.base_url())
        .retry_policy(policy)
        .request_timeout(Duration::from_millis(150))
        .build()
        .expect("client");
    let error = expect_err(client.image_to_video(create_body()).await);
    (error, mock.calls_async().await)
}

#[tokio::test]
async fn create_is_not_retried_after_a_timeout_by_default() {
    let (error, requests) = create_timing_out(policy()).await;
    assert_eq!(requests, 1, "the server holds exactly one create");
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        matches!(&error, Error::Transport(t) if t.kind == TransportKind::Timeout && t.operation == "image_to_video"),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("may have been created"),
        "{error}"
    );
}

#[tokio::test]
async fn create_is_retried_after_ambiguous_failures_when_opted_in() {
    let opted_in = policy().retry_create_after_ambiguous_failure(true);
    assert!(opted_in.retries_create_after_ambiguous_failure());
    for status in [502, 503, 504] {
        let (result, requests) = fail_with(Op::Create, status, opted_in.clone()).await;
        assert_eq!(requests, ATTEMPTS, "create {status}");
        assert_eq!(result.expect_err("error").status(), Some(status));
    }
    // Not on errors that are answers.
    for status in [400, 500] {
        let (_, requests) = fail_with(Op::Create, status, opted_in.clone()).await;
        assert_eq!(requests, 1, "create {status}");
    }
    let (error, requests) = create_timing_out(opted_in).await;
    assert_eq!(requests, ATTEMPTS);
    assert!(error.is_timeout());
}

#[tokio::test]
async fn refused_connections_are_retried_for_every_method() {
    let initial = Duration::from_millis(40);
    // Two retries: at least 40 ms + 80 ms of backoff.
    let least = initial + initial * 2;
    for op in [Op::Get, Op::Delete, Op::Create] {
        let client = builder(closed_port_url())
            .retry_policy(
                RetryPolicy::default()
                    .max_retries(RETRIES)
                    .initial_backoff(initial)
                    .max_backoff(Duration::from_secs(1)),
            )
            .url_format(UrlFormat::New)
            .build()
            .expect("client");
        let started = Instant::now();

        let error = op.run(&client).await.expect_err("nothing listens");

        let elapsed = started.elapsed();
        assert_clean(&error);
        assert!(
            matches!(&error, Error::Transport(t) if t.kind == TransportKind::Connect),
            "{op:?}: {error:?}"
        );
        assert!(error.is_retryable());
        assert!(!error.is_timeout());
        assert!(elapsed >= least, "{op:?}: {elapsed:?} < {least:?}");
        assert!(elapsed < Duration::from_secs(3), "{op:?}: {elapsed:?}");
    }

    // Without retries there is no backoff at all.
    let client = builder(closed_port_url())
        .retry_policy(RetryPolicy::none().initial_backoff(Duration::from_secs(5)))
        .build()
        .expect("client");
    let started = Instant::now();
    let error = expect_err(client.image_to_video(create_body()).await);
    assert!(matches!(&error, Error::Transport(t) if t.kind == TransportKind::Connect));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn get_timeouts_are_retried() {
    let server = MockServer::start_async().await;
    let slow = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "RUNNING"))).delay(Duration::from_secs(3));
        })
        .await;
    let timeout = Duration::from_millis(150);
    let client = builder(server.base_url())
        .retry_policy(policy())
        .request_timeout(timeout)
        .url_format(UrlFormat::New)
        .build()
        .expect("client");
    let started = Instant::now();

    let error = expect_err(client.get_task(&task_id()).await);

    assert!(error.is_timeout(), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
    assert_eq!(slow.calls_async().await, ATTEMPTS);
    assert!(started.elapsed() >= timeout * ATTEMPTS as u32);
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(
                then,
                429,
                &hosted_error("Too many requests", "RATE_LIMITED"),
            )
            .header("retry-after", "1")
            .up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "RUNNING")));
        })
        .await;
    let started = Instant::now();

    let task = client_with(&server, policy())
        .get_task(&task_id())
        .await
        .expect("succeeds after waiting");

    let elapsed = started.elapsed();
    assert_eq!(task.status, TaskStatus::Running);
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
    assert_eq!(limited.calls_async().await, 1);
    assert_eq!(ok.calls_async().await, 1);
}

#[tokio::test]
async fn retry_after_in_the_self_hosted_body_is_honoured() {
    // The self-hosted server sends no header: the value is only in the body's headers.
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(
                then,
                429,
                &self_hosted_error(
                    "Error received from the runwayml API",
                    json!({"error": "You have exceeded the rate limit"}),
                    json!({"retry-after": "1", "content-type": "application/json"}),
                ),
            )
            .up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(then, 200, &self_hosted(json!({"id": TASK})));
        })
        .await;
    let started = Instant::now();

    let created = client_with(&server, policy())
        .image_to_video(create_body())
        .await
        .expect("created after waiting");

    let elapsed = started.elapsed();
    assert_eq!(created.id.as_str(), TASK);
    assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
    assert_eq!(limited.calls_async().await, 1);
    assert_eq!(ok.calls_async().await, 1);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    for in_header in [true, false] {
        let server = MockServer::start_async().await;
        let body = if in_header {
            hosted_error("Too many requests", "RATE_LIMITED")
        } else {
            self_hosted_error(
                "Error received from the runwayml API",
                json!({"error": "Daily generation limit reached"}),
                json!({"retry-after": "120"}),
            )
        };
        let limited = server
            .mock_async(|when, then| {
                Route::GetNew.when(when);
                let then = json(then, 429, &body);
                if in_header {
                    then.header("retry-after", "120");
                }
            })
            .await;
        let client = client_with(&server, policy().max_retry_after(Duration::from_secs(2)));
        let started = Instant::now();

        let error = expect_err(client.get_task(&task_id()).await);

        assert!(
            started.elapsed() < Duration::from_millis(900),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(limited.calls_async().await, 1, "header: {in_header}");
        assert!(error.is_rate_limited());
        assert_eq!(error.retry_after(), Some(Duration::from_secs(120)));
        assert!(error.to_string().contains("retry after 120s"), "{error}");
    }
}

#[tokio::test]
async fn retries_without_retry_after_wait_the_backoff() {
    let server = MockServer::start_async().await;
    let busy = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 503, &error_body(503));
        })
        .await;
    let initial = Duration::from_millis(60);
    let client = client_with(
        &server,
        RetryPolicy::default()
            .max_retries(RETRIES)
            .initial_backoff(initial)
            .max_backoff(Duration::from_secs(1)),
    );
    let started = Instant::now();

    expect_err(client.get_task(&task_id()).await);

    let elapsed = started.elapsed();
    // 60 ms then 120 ms, each plus at most 50% jitter.
    assert!(elapsed >= initial * 3, "{elapsed:?}");
    assert!(
        elapsed < initial * 3 * 3 / 2 + Duration::from_millis(500),
        "{elapsed:?}"
    );
    assert_eq!(busy.calls_async().await, ATTEMPTS);
}

#[tokio::test]
async fn no_retries_means_one_request() {
    for op in [Op::Get, Op::Delete, Op::Create] {
        let (result, requests) = fail_with(op, 503, RetryPolicy::none()).await;
        assert_eq!(requests, 1, "{op:?}");
        assert_eq!(result.expect_err("503").status(), Some(503));
    }
}

#[test]
fn backoff_bounds() {
    let default = RetryPolicy::default();
    assert_eq!(default.get_max_retries(), 2);
    assert_eq!(default.get_max_retry_after(), Duration::from_secs(60));
    assert!(!default.retries_create_after_ambiguous_failure());
    assert_eq!(RetryPolicy::none().get_max_retries(), 0);

    let initial = Duration::from_millis(100);
    let max = Duration::from_secs(2);
    let policy = RetryPolicy::default()
        .initial_backoff(initial)
        .max_backoff(max);
    for _ in 0..200 {
        for retry in 0..8u32 {
            let base = (initial * 2u32.pow(retry)).min(max);
            let pause = policy.backoff(retry);
            assert!(pause >= base, "retry {retry}: {pause:?} < {base:?}");
            assert!(
                pause <= (base * 3 / 2).min(max),
                "retry {retry}: {pause:?} beyond 150% or the cap"
            );
        }
        // Huge retry numbers neither overflow nor exceed the cap.
        assert_eq!(policy.backoff(u32::MAX), max);
    }
    // Jitter is random: not every pause is the same.
    let pauses: std::collections::HashSet<_> = (0..50).map(|_| policy.backoff(0)).collect();
    assert!(pauses.len() > 1);
}

#[tokio::test]
async fn a_rate_limited_cancel_is_retried_then_succeeds() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "RUNNING")));
        })
        .await;
    let limited = server
        .mock_async(|when, then| {
            Route::DeleteNew.when(when);
            json(then, 429, &error_body(429)).up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            Route::DeleteNew.when(when);
            then.status(204);
        })
        .await;

    let outcome = client_with(&server, policy())
        .cancel_task(&task_id())
        .await
        .expect("cancelled");

    assert_eq!(
        outcome,
        CancelOutcome::Cancelled {
            was: TaskStatus::Running
        }
    );
    assert_eq!(limited.calls_async().await, 1);
    assert_eq!(ok.calls_async().await, 1);
}

/// A loopback listener whose accept queue is full, so new connections never complete (Linux
/// drops their SYNs): connecting times out and nothing is ever sent. Keep the result alive.
async fn unconnectable() -> (String, tokio::net::TcpListener, Vec<tokio::net::TcpStream>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    let listener = socket.listen(0).expect("listen");
    let mut held = Vec::new();
    while let Ok(Ok(stream)) = tokio::time::timeout(
        Duration::from_millis(100),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    {
        held.push(stream);
        assert!(held.len() < 64, "the accept queue never filled");
    }
    (format!("http://{addr}"), listener, held)
}

#[tokio::test]
async fn a_connect_timeout_is_retried_even_for_a_create() {
    let (url, _listener, _held) = unconnectable().await;
    let connect_timeout = Duration::from_millis(150);
    let client = builder(url)
        .connect_timeout(connect_timeout)
        .retry_policy(policy())
        .build()
        .expect("client");
    let started = Instant::now();

    let error = expect_err(client.image_to_video(create_body()).await);

    // Three attempts, each waiting out the connect timeout: nothing was sent, so it is safe.
    let elapsed = started.elapsed();
    assert!(elapsed >= connect_timeout * ATTEMPTS as u32, "{elapsed:?}");
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
}

#[tokio::test]
async fn a_connect_timeout_is_a_connect_failure() {
    let (url, _listener, _held) = unconnectable().await;
    let client = builder(url)
        .connect_timeout(Duration::from_millis(150))
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");

    let error = expect_err(client.image_to_video(create_body()).await);

    assert!(
        matches!(&error, Error::Transport(t) if t.kind == TransportKind::Connect),
        "{error:?}"
    );
    assert!(!error.is_timeout());
    assert!(
        !error.to_string().contains("may have been created"),
        "nothing was sent: {error}"
    );
}
