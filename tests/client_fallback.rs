//! Requirement 3: URL-format fallback. New Format is tried first, a routing miss falls back to
//! Old once, the answer is remembered (shared by clones, settled once under concurrency), a
//! provider's 404 is an answer, forced formats never probe, and failures that prove nothing
//! settle nothing.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::future::join_all;
use httpmock::{Mock, MockServer};
use lowcodeapi_runwayml::{
    CancelOutcome, Error, RetryPolicy, TaskStatus, TransportKind, UrlFormat, UrlFormatState,
};
use serde_json::json;

/// A self-hosted-like server: only the Old Format is routed; New answers the routing miss.
struct OldOnly<'a> {
    get_new: Mock<'a>,
    get_old: Mock<'a>,
    delete_new: Mock<'a>,
    delete_old: Mock<'a>,
}

impl OldOnly<'_> {
    async fn counts(&self) -> [usize; 4] {
        [
            self.get_new.calls_async().await,
            self.get_old.calls_async().await,
            self.delete_new.calls_async().await,
            self.delete_old.calls_async().await,
        ]
    }
}

async fn old_only(server: &MockServer) -> OldOnly<'_> {
    let miss = |route: Route| {
        server.mock_async(move |when, then| {
            route.when(when);
            raw(then, 404, "application/json; charset=utf-8", ROUTING_MISS);
        })
    };
    let get_new = miss(Route::GetNew).await;
    let delete_new = miss(Route::DeleteNew).await;
    let get_old = server
        .mock_async(|when, then| {
            Route::GetOld.when(when);
            json(then, 200, &self_hosted(task_json(TASK, "RUNNING")));
        })
        .await;
    let delete_old = server
        .mock_async(|when, then| {
            Route::DeleteOld.when(when);
            json(then, 200, &self_hosted(json!("")));
        })
        .await;
    OldOnly {
        get_new,
        get_old,
        delete_new,
        delete_old,
    }
}

#[tokio::test]
async fn first_call_tries_new_once_then_old_and_remembers_old() {
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let client = client(&server, UrlFormat::Auto);
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);

    let task = client.get_task(&task_id()).await.expect("Old answers");
    assert_eq!(task.status, TaskStatus::Running);
    assert_eq!(client.url_format(), UrlFormatState::Old);
    assert_eq!(routes.counts().await, [1, 1, 0, 0]);

    for _ in 0..10 {
        let task = client.get_task(&task_id()).await.expect("Old answers");
        assert_eq!(task.id.as_str(), TASK);
    }
    // 10 further calls cost exactly 10 requests, all Old.
    assert_eq!(routes.counts().await, [1, 11, 0, 0]);

    // Other operations use what was learned: no New DELETE either (a cancel looks first).
    assert_eq!(
        client.cancel_task(&task_id()).await.expect("cancel"),
        CancelOutcome::Cancelled {
            was: TaskStatus::Running
        }
    );
    assert_eq!(routes.counts().await, [1, 12, 0, 1]);
    assert_eq!(client.url_format(), UrlFormatState::Old);
}

#[tokio::test]
async fn a_first_cancel_falls_back_and_settles_too() {
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let client = client(&server, UrlFormat::Auto);

    // The look before the DELETE probes: New misses, Old answers and settles; the DELETE then
    // goes straight to Old.
    assert_eq!(
        client.cancel_task(&task_id()).await.expect("cancel"),
        CancelOutcome::Cancelled {
            was: TaskStatus::Running
        }
    );
    assert_eq!(client.url_format(), UrlFormatState::Old);
    assert_eq!(routes.counts().await, [1, 1, 0, 1]);

    client.get_task(&task_id()).await.expect("get");
    assert_eq!(routes.counts().await, [1, 2, 0, 1]);
}

#[tokio::test]
async fn clones_share_the_learned_format() {
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let client = client(&server, UrlFormat::Auto);
    let early = client.clone();

    client.get_task(&task_id()).await.expect("get");
    let late = client.clone();

    assert_eq!(early.url_format(), UrlFormatState::Old);
    assert_eq!(late.url_format(), UrlFormatState::Old);
    early.get_task(&task_id()).await.expect("get");
    late.get_task(&task_id()).await.expect("get");
    assert_eq!(routes.counts().await, [1, 3, 0, 0]);
}

#[tokio::test]
async fn a_provider_404_on_new_is_an_answer_but_settles_nothing() {
    for (name, body) in [
        (
            "self-hosted",
            Wire::SelfHosted.runway_error(json!({"error": "Task not found"})),
        ),
        ("hosted", hosted_error("Task not found", "NOT_FOUND")),
        ("bare", json!({"error": "Task not found"})),
    ] {
        let server = MockServer::start_async().await;
        let new = server
            .mock_async(|when, then| {
                Route::GetNew.when(when);
                json(then, 404, &body);
            })
            .await;
        let old = server
            .mock_async(|when, then| {
                Route::GetOld.when(when);
                json(then, 200, &self_hosted(task_json(TASK, "RUNNING")));
            })
            .await;
        let client = client(&server, UrlFormat::Auto);

        let error = expect_err(client.get_task(&task_id()).await);

        assert!(error.is_not_found(), "{name}: {error}");
        // The answer stands (no fallback to Old), but a 404 may be a routing artefact (the New
        // Format URL of a task named `id` is the Old Format route): it settles nothing.
        assert_eq!(client.url_format(), UrlFormatState::Unsettled, "{name}");
        assert_eq!(new.calls_async().await, 1, "{name}");
        assert_eq!(old.calls_async().await, 0, "{name}: no Old request");
    }
}

#[tokio::test]
async fn forced_formats_never_probe() {
    // Forced Old on an Old-only server: New is never tried.
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let old_client = client(&server, UrlFormat::Old);
    assert_eq!(old_client.url_format(), UrlFormatState::Old);
    old_client.get_task(&task_id()).await.expect("get");
    old_client.cancel_task(&task_id()).await.expect("cancel");
    assert_eq!(routes.counts().await, [0, 2, 0, 1]);

    // Forced New on the same kind of server: the routing miss is the answer; Old is never tried.
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let client = client(&server, UrlFormat::New);
    assert_eq!(client.url_format(), UrlFormatState::New);
    let error = expect_err(client.get_task(&task_id()).await);
    assert!(error.api().expect("api").routing_miss);
    let error = expect_err(client.cancel_task(&task_id()).await);
    assert!(error.api().expect("api").routing_miss, "{error}");
    // The cancel's look missed: no DELETE was sent.
    assert_eq!(routes.counts().await, [2, 0, 0, 0]);
    assert_eq!(client.url_format(), UrlFormatState::New);
}

#[tokio::test]
async fn concurrent_first_calls_try_new_exactly_once() {
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let client = client(&server, UrlFormat::Auto);
    let clients: Vec<_> = (0..20).map(|_| client.clone()).collect();
    let id = task_id();

    let results = join_all(clients.iter().map(|c| c.get_task(&id))).await;

    for result in results {
        assert_eq!(
            result.expect("every call succeeds").status,
            TaskStatus::Running
        );
    }
    assert_eq!(routes.counts().await, [1, 20, 0, 0]);
    assert_eq!(client.url_format(), UrlFormatState::Old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_calls_on_spawned_tasks_try_new_exactly_once() {
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let client = client(&server, UrlFormat::Auto);

    let handles: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_task(&task_id()).await })
        })
        .collect();
    for handle in handles {
        handle.await.expect("joined").expect("every call succeeds");
    }
    assert_eq!(routes.counts().await, [1, 20, 0, 0]);
}

#[tokio::test]
async fn a_timeout_settles_nothing_and_the_next_call_probes_again() {
    let server = MockServer::start_async().await;
    let slow_new = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "RUNNING"))).delay(Duration::from_secs(3));
        })
        .await;
    let old = server
        .mock_async(|when, then| {
            Route::GetOld.when(when);
            json(then, 200, &self_hosted(task_json(TASK, "RUNNING")));
        })
        .await;
    let client = builder(server.base_url())
        .retry_policy(RetryPolicy::none())
        .request_timeout(Duration::from_millis(200))
        .build()
        .expect("client");

    let error = expect_err(client.get_task(&task_id()).await);
    assert!(error.is_timeout(), "{error}");
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);
    assert_eq!(slow_new.calls_async().await, 1);
    assert_eq!(
        old.calls_async().await,
        0,
        "a timeout is not a routing miss"
    );

    // The server now misses on New: the next call probes New again, then settles Old.
    slow_new.delete_async().await;
    let miss = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    client.get_task(&task_id()).await.expect("Old answers");
    assert_eq!(client.url_format(), UrlFormatState::Old);
    assert_eq!(miss.calls_async().await, 1);
    assert_eq!(old.calls_async().await, 1);
}

#[tokio::test]
async fn a_gateway_error_page_or_a_refused_connection_settles_nothing() {
    // An HTML 502 from something in front of LowCodeAPI proves no route.
    let server = MockServer::start_async().await;
    let gateway = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            raw(
                then,
                502,
                "text/html",
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            );
        })
        .await;
    let client = builder(server.base_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let error = expect_err(client.get_task(&task_id()).await);
    assert_eq!(error.status(), Some(502));
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);
    assert_eq!(gateway.calls_async().await, 1);

    // Nothing listening.
    let client = builder(closed_port_url())
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client");
    let error = expect_err(client.get_task(&task_id()).await);
    assert!(
        matches!(&error, Error::Transport(t) if t.kind == TransportKind::Connect),
        "{error:?}"
    );
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);
}

#[tokio::test]
async fn neither_format_routed_settles_nothing_and_is_not_not_found() {
    // A wrong base URL: both formats miss.
    let server = MockServer::start_async().await;
    let miss_new = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let miss_old = server
        .mock_async(|when, then| {
            Route::GetOld.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let client = client(&server, UrlFormat::Auto);

    for round in 1..=2 {
        let error = expect_err(client.get_task(&task_id()).await);
        let api = error.api().expect("api");
        assert!(api.routing_miss);
        assert!(
            !error.is_not_found(),
            "a wrong base URL is not a vanished task"
        );
        assert!(error.to_string().contains("check the base URL"), "{error}");
        assert_eq!(client.url_format(), UrlFormatState::Unsettled);
        assert_eq!(miss_new.calls_async().await, round);
        assert_eq!(miss_old.calls_async().await, round);
    }
}

#[tokio::test]
async fn a_create_neither_probes_nor_settles() {
    let server = MockServer::start_async().await;
    let routes = old_only(&server).await;
    let create = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(then, 200, &self_hosted(json!({"id": TASK})));
        })
        .await;
    let client = client(&server, UrlFormat::Auto);

    let created = client.image_to_video(create_body()).await.expect("create");
    assert_eq!(created.id.as_str(), TASK);
    assert_eq!(create.calls_async().await, 1);
    // The create URL is the same in both formats: it proves nothing about task routes.
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);

    client.get_task(&created.id).await.expect("get via Old");
    assert_eq!(client.url_format(), UrlFormatState::Old);
    assert_eq!(routes.counts().await, [1, 1, 0, 0]);
}

#[tokio::test]
async fn a_create_that_misses_is_sent_once() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let client = client(&server, UrlFormat::Auto);
    let started = Instant::now();

    let error = expect_err(client.image_to_video(create_body()).await);

    assert!(error.api().expect("api").routing_miss);
    assert_eq!(
        create.calls_async().await,
        1,
        "the same URL is not sent twice"
    );
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);
    assert!(started.elapsed() < Duration::from_secs(2));
}
