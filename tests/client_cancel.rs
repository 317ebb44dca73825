//! cancel_task looks at the task before its DELETE, so its outcome can say what happened:
//! cancelled while running, deleted after finishing, not found (nothing sent), confirmed after a
//! DELETE that never answered (the self-hosted server can hang on a successful DELETE), or
//! unknown (sent, unconfirmed). The DELETE is never repeated after a timeout.

mod common;

use std::time::{Duration, Instant};

use common::*;
use httpmock::{Mock, MockServer};
use lowcodeapi_runwayml::{CancelOutcome, Client, TaskStatus, UrlFormat, UrlFormatState};
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

/// A DELETE that hangs, and a GET answering `status` + `body` (to the look before the DELETE
/// and to the check after it): (delete, get) mocks.
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
async fn a_hung_delete_of_a_task_showing_cancelled_is_confirmed() {
    let server = MockServer::start_async().await;
    let (delete, get) =
        hung_delete_then_get(&server, 200, &hosted(task_json(TASK, "CANCELLED"))).await;
    let client = cancel_client(&server, UrlFormat::New);
    let started = Instant::now();

    let outcome = client.cancel_task(&task_id()).await;

    let elapsed = started.elapsed();
    assert_eq!(
        outcome.expect("confirmed"),
        CancelOutcome::ConfirmedAfterTimeout {
            was: TaskStatus::Cancelled
        }
    );
    assert!(elapsed >= CANCEL_TIMEOUT, "{elapsed:?}");
    assert_eq!(
        delete.calls_async().await,
        1,
        "the DELETE is not retried after a timeout"
    );
    assert_eq!(get.calls_async().await, 2, "the look, then the check");
}

#[tokio::test]
async fn an_id_runway_does_not_know_is_not_found_and_nothing_is_deleted() {
    for body in [
        Wire::SelfHosted.runway_error(json!({"error": "Task not found"})),
        hosted_error("Task not found", "NOT_FOUND"),
        json!({"error": "Task not found"}),
    ] {
        let server = MockServer::start_async().await;
        let (delete, get) = hung_delete_then_get(&server, 404, &body).await;
        let client = cancel_client(&server, UrlFormat::New);

        let outcome = client.cancel_task(&task_id()).await.expect("an outcome");

        assert_eq!(outcome, CancelOutcome::NotFound, "{body}");
        assert!(!outcome.is_confirmed());
        assert_eq!(outcome.was(), None);
        assert!(!outcome.to_string().contains("cancelled ("), "{outcome}");
        assert_eq!(delete.calls_async().await, 0, "no DELETE for an unknown id");
        assert_eq!(get.calls_async().await, 1);
    }
}

#[tokio::test]
async fn a_hung_delete_of_a_task_still_running_is_unknown_and_says_so() {
    let server = MockServer::start_async().await;
    let (delete, get) =
        hung_delete_then_get(&server, 200, &hosted(task_json(TASK, "RUNNING"))).await;
    let client = cancel_client(&server, UrlFormat::New);

    let outcome = client.cancel_task(&task_id()).await.expect("an outcome");

    let CancelOutcome::Unknown { was, reason } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(*was, TaskStatus::Running);
    assert!(reason.contains("delete_task timed out"), "{reason}");
    assert!(reason.contains(TASK), "{reason}");
    assert!(reason.contains("still showed it RUNNING"), "{reason}");
    assert!(!outcome.is_confirmed());
    let shown = outcome.to_string();
    assert!(shown.contains("was sent"), "{shown}");
    assert!(shown.contains("may still take effect"), "{shown}");
    assert_no_token("unknown outcome", &shown);
    assert_eq!(delete.calls_async().await, 1);
    assert_eq!(get.calls_async().await, 2);
}

#[tokio::test]
async fn a_look_that_fails_sends_no_delete() {
    for (status, body) in [
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

        assert_eq!(error.status(), Some(status), "{error:?}");
        assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
        assert_eq!(delete.calls_async().await, 0, "HTTP {status}");
        assert_eq!(get.calls_async().await, 1);
    }
}

#[tokio::test]
async fn a_hung_self_hosted_cancel_in_auto_mode() {
    // The realistic case: self-hosted, nothing learned yet. The look misses on New and finds the
    // task on Old (settling it); the Old DELETE hangs; the check finds the task cancelled.
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
        CancelOutcome::ConfirmedAfterTimeout {
            was: TaskStatus::Cancelled
        }
    );
    assert_eq!(delete_new.calls_async().await, 0);
    assert_eq!(delete_old.calls_async().await, 1);
    assert_eq!(get_new.calls_async().await, 1);
    assert_eq!(get_old.calls_async().await, 2);
    assert_eq!(client.url_format(), UrlFormatState::Old);
}

#[tokio::test]
async fn a_task_gone_between_the_look_and_the_delete_is_confirmed_not_cancelled() {
    for wire in WIRES {
        let server = MockServer::start_async().await;
        let get = server
            .mock_async(|when, then| {
                Route::get(wire.format()).when(when);
                json(then, 200, &wire.success(task_json(TASK, "RUNNING")));
            })
            .await;
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
            CancelOutcome::ConfirmedAfterTimeout {
                was: TaskStatus::Running
            },
            "{wire:?}"
        );
        assert_eq!(get.calls_async().await, 1, "{wire:?}");
        assert_eq!(delete.calls_async().await, 1, "{wire:?}");
    }
}

#[tokio::test]
async fn a_routing_miss_on_the_delete_is_an_error() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "RUNNING")));
        })
        .await;
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
    assert_eq!(get.calls_async().await, 1);
    assert_eq!(miss.calls_async().await, 1);
}
