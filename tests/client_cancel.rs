//! Requirement 5: cancel_task when the DELETE never answers (the self-hosted server can hang on a
//! successful DELETE): the task is checked instead of the DELETE being repeated; and a DELETE on
//! a task that is already gone is a success.

mod common;

use std::time::{Duration, Instant};

use common::*;
use httpmock::{Mock, MockServer};
use lowcodeapi_runwayml::{CancelOutcome, Client, Error, TransportKind, UrlFormat, UrlFormatState};
use serde_json::{Value, json};

const CANCEL_TIMEOUT: Duration = Duration::from_millis(300);
/// Far beyond the cancel timeout: the DELETE "never" answers.
const NEVER: Duration = Duration::from_secs(10);

fn cancel_client(server: &MockServer, format: UrlFormat) -> Client {
    builder(server.base_url())
        // Retries are allowed: the hung DELETE must still be sent once.
        .retry_policy(fast_retry().max_retries(2))
        .request_timeout(Duration::from_secs(5))
        .cancel_timeout(CANCEL_TIMEOUT)
        .url_format(format)
        .build()
        .expect("client")
}

/// A DELETE that hangs, and a GET answering `status` + `body`: (delete, get) mocks.
async fn hung_delete_then_get<'a>(
    server: &'a MockServer,
    status: u16,
    body: &Value,
) -> (Mock<'a>, Mock<'a>) {
    let delete = server
        .mock_async(|when, then| {
            Route::DeleteNew.when(when);
            then.status(204).delay(NEVER);
        })
        .await;
    let get = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, status, body);
        })
        .await;
    (delete, get)
}

#[tokio::test]
async fn a_hung_cancel_confirmed_by_a_cancelled_task() {
    let server = MockServer::start_async().await;
    let (delete, get) =
        hung_delete_then_get(&server, 200, &hosted(task_json(TASK, "CANCELLED"))).await;
    let client = cancel_client(&server, UrlFormat::New);
    let started = Instant::now();

    let outcome = client.cancel_task(&task_id()).await;

    let elapsed = started.elapsed();
    assert_eq!(
        outcome.expect("confirmed"),
        CancelOutcome::ConfirmedAfterTimeout
    );
    assert!(elapsed >= CANCEL_TIMEOUT, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(
        delete.calls_async().await,
        1,
        "the DELETE is not retried after a timeout"
    );
    assert_eq!(get.calls_async().await, 1);
}

#[tokio::test]
async fn a_hung_cancel_confirmed_by_a_gone_task() {
    for body in [
        Wire::SelfHosted.runway_error(json!({"error": "Task not found"})),
        hosted_error("Task not found", "NOT_FOUND"),
        json!({"error": "Task not found"}),
    ] {
        let server = MockServer::start_async().await;
        let (delete, get) = hung_delete_then_get(&server, 404, &body).await;
        let client = cancel_client(&server, UrlFormat::New);

        let outcome = client.cancel_task(&task_id()).await;

        assert_eq!(
            outcome.expect("confirmed"),
            CancelOutcome::ConfirmedAfterTimeout,
            "{body}"
        );
        assert_eq!(delete.calls_async().await, 1);
        assert_eq!(get.calls_async().await, 1);
    }
}

#[tokio::test]
async fn a_hung_cancel_of_a_task_still_running_is_an_error_with_the_task_id() {
    let server = MockServer::start_async().await;
    let (delete, get) =
        hung_delete_then_get(&server, 200, &hosted(task_json(TASK, "RUNNING"))).await;
    let client = cancel_client(&server, UrlFormat::New);

    let error = expect_err(client.cancel_task(&task_id()).await);

    assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        matches!(&error, Error::Transport(t) if t.kind == TransportKind::Timeout && t.operation == "delete_task"),
        "{error:?}"
    );
    assert!(error.to_string().contains(TASK), "{error}");
    assert_eq!(delete.calls_async().await, 1);
    assert_eq!(get.calls_async().await, 1);
}

#[tokio::test]
async fn a_hung_cancel_whose_check_fails_or_misses_is_an_error() {
    for (status, body) in [
        // The check itself fails.
        (
            401,
            json!({"message": "A valid API token is required to access this API.", "provider": "runwayml", "error": {"code": 401}}),
        ),
        // A routing miss says nothing about the task.
        (404, serde_json::from_str(ROUTING_MISS).unwrap()),
    ] {
        let server = MockServer::start_async().await;
        let (delete, get) = hung_delete_then_get(&server, status, &body).await;
        let client = cancel_client(&server, UrlFormat::New);

        let error = expect_err(client.cancel_task(&task_id()).await);

        assert!(error.is_timeout(), "HTTP {status}: {error:?}");
        assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
        assert_eq!(delete.calls_async().await, 1);
        assert_eq!(get.calls_async().await, 1);
    }
}

#[tokio::test]
async fn a_hung_self_hosted_cancel_in_auto_mode() {
    // The realistic case: self-hosted, nothing learned yet. New misses, the Old DELETE hangs,
    // the check then finds the Old Format and the task cancelled.
    let server = MockServer::start_async().await;
    let miss = |route: Route| {
        server.mock_async(move |when, then| {
            route.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
    };
    let delete_new = miss(Route::DeleteNew).await;
    let get_new = miss(Route::GetNew).await;
    let delete_old = server
        .mock_async(|when, then| {
            Route::DeleteOld.when(when);
            then.status(200).delay(NEVER);
        })
        .await;
    let get_old = server
        .mock_async(|when, then| {
            Route::GetOld.when(when);
            json(then, 200, &self_hosted(task_json(TASK, "CANCELLED")));
        })
        .await;
    let client = cancel_client(&server, UrlFormat::Auto);

    let outcome = client.cancel_task(&task_id()).await;

    assert_eq!(
        outcome.expect("confirmed"),
        CancelOutcome::ConfirmedAfterTimeout
    );
    assert_eq!(delete_new.calls_async().await, 1);
    assert_eq!(delete_old.calls_async().await, 1);
    assert_eq!(get_new.calls_async().await, 1);
    assert_eq!(get_old.calls_async().await, 1);
    assert_eq!(client.url_format(), UrlFormatState::Old);
}

#[tokio::test]
async fn cancelling_a_task_that_is_already_gone() {
    for wire in WIRES {
        let server = MockServer::start_async().await;
        let body = wire.runway_error(json!({"error": "Task not found"}));
        let delete = server
            .mock_async(|when, then| {
                Route::delete(wire.format()).when(when);
                json(then, 404, &body);
            })
            .await;
        let client = cancel_client(&server, wire.format());

        let outcome = client.cancel_task(&task_id()).await;

        assert_eq!(
            outcome.unwrap_or_else(|e| panic!("{wire:?}: {e}")),
            CancelOutcome::AlreadyGone,
            "{wire:?}"
        );
        assert_eq!(delete.calls_async().await, 1, "{wire:?}");
    }
}

#[tokio::test]
async fn cancelling_a_gone_task_on_self_hosted_in_auto_mode() {
    let server = MockServer::start_async().await;
    let miss = server
        .mock_async(|when, then| {
            Route::DeleteNew.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let gone = server
        .mock_async(|when, then| {
            Route::DeleteOld.when(when);
            json(
                then,
                404,
                &Wire::SelfHosted.runway_error(json!({"error": "Task not found"})),
            );
        })
        .await;
    let client = cancel_client(&server, UrlFormat::Auto);

    assert_eq!(
        client.cancel_task(&task_id()).await.expect("gone"),
        CancelOutcome::AlreadyGone
    );
    assert_eq!(miss.calls_async().await, 1);
    assert_eq!(gone.calls_async().await, 1);
    assert_eq!(client.url_format(), UrlFormatState::Old);
}

#[tokio::test]
async fn a_routing_miss_on_cancel_is_not_already_gone() {
    let server = MockServer::start_async().await;
    let miss = server
        .mock_async(|when, then| {
            Route::DeleteNew.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let client = cancel_client(&server, UrlFormat::New);

    let error = expect_err(client.cancel_task(&task_id()).await);

    assert!(error.api().expect("api").routing_miss);
    assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
    assert_eq!(miss.calls_async().await, 1);
}
