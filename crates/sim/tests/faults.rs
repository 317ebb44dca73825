//! Every fault, what it does to the answer, and what it does (or not) to the simulator's state.

mod common;

use std::time::{Duration, Instant};

use common::*;
use lowcodeapi_runwayml_sim::{Dialect, Fault, Removal, Route, Simulator};

async fn hosted() -> Simulator {
    Simulator::builder().manual_clock().start().await.unwrap()
}

fn create_url(sim: &Simulator) -> String {
    sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"))
}

#[tokio::test]
async fn drop_connection_changes_nothing() {
    let sim = hosted().await;
    sim.fault(Route::CreateTask, Fault::DropConnection);
    let err = try_send(&client(), "POST", &create_url(&sim), Some(&body()))
        .await
        .expect_err("dropped");
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(sim.accepted_creates(), 0);
    let log = sim.requests();
    assert_eq!(log[0].status, None);
    assert_eq!(log[0].fault, Some(Fault::DropConnection));
    // The next request is served normally.
    create(sim.base_url()).await;
    assert_eq!(sim.accepted_creates(), 1);
}

#[tokio::test]
async fn drop_after_processing_still_creates_the_task() {
    let sim = hosted().await;
    sim.fault(Route::CreateTask, Fault::DropAfterProcessing);
    assert!(
        try_send(&client(), "POST", &create_url(&sim), Some(&body()))
            .await
            .is_err()
    );
    // Runway made the task: a blind retry would make a second one.
    assert_eq!(sim.accepted_creates(), 1);
    assert_eq!(sim.tasks()[0].create_request, 0);
}

#[tokio::test]
async fn hang_never_answers() {
    let sim = hosted().await;
    sim.fault(Route::GetTask, Fault::Hang);
    let quick = client_with_timeout(Duration::from_millis(200));
    let err = try_send(
        &quick,
        "GET",
        &sim.url(&format!("/v1/tasks/x?api_token={TOKEN}")),
        None,
    )
    .await
    .expect_err("hangs");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(sim.requests()[0].status, None);
}

#[tokio::test]
async fn self_hosted_delete_that_never_answers_still_cancels() {
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .manual_clock()
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    sim.fault(Route::DeleteTask, Fault::NoContentHang);
    let url = sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}"));
    let quick = client_with_timeout(Duration::from_millis(200));
    let err = try_send(&quick, "DELETE", &url, Some("{}"))
        .await
        .expect_err("hangs");
    assert!(err.is_timeout());
    assert_eq!(sim.task(&id).unwrap().removed, Some(Removal::Cancelled));
    // Checking the task tells the truth.
    assert_eq!(send("GET", &url, None).await.status, 404);
    // Shutting down closes the hanging connection.
    tokio::time::timeout(Duration::from_secs(5), sim.shutdown())
        .await
        .expect("shutdown does not wait for hanging requests");
}

#[tokio::test]
async fn malformed_json_keeps_the_status() {
    let sim = hosted().await;
    sim.fault(Route::CreateTask, Fault::MalformedJson);
    let a = send("POST", &create_url(&sim), Some(&body())).await;
    assert_eq!(a.status, 200);
    let id = &sim.tasks()[0].id;
    assert_eq!(a.body, format!(r#"{{"data":{{"id":"{id}"}},}}"#));
    assert!(serde_json::from_str::<serde_json::Value>(&a.body).is_err());
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8")
    );
}

#[tokio::test]
async fn truncated_body_stops_short_of_its_content_length() {
    let sim = hosted().await;
    let id = create(sim.base_url()).await;
    sim.fault(Route::GetTask, Fault::TruncatedBody);
    let request =
        format!("GET /runwayml/v1/tasks/{id}?api_token={TOKEN} HTTP/1.1\r\nHost: sim\r\n\r\n");
    let bytes = raw(sim.addr(), request.as_bytes())
        .await
        .expect("closed by the server");
    let (status, headers, partial) = parse_raw(&bytes);
    assert_eq!(status, 200);
    let announced: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap();
    let full = format!(
        r#"{{"data":{{"id":"{id}","status":"PENDING","createdAt":"{}"}}}}"#,
        // createdAt depends on the start time; only its length matters here.
        "2026-08-01T12:00:00.000Z"
    );
    assert_eq!(announced, full.len());
    assert_eq!(partial.len(), announced / 2);

    sim.fault(Route::GetTask, Fault::TruncatedBody);
    let err = try_send(
        &client(),
        "GET",
        &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        None,
    )
    .await
    .expect_err("truncated");
    assert!(
        err.is_body() || err.is_decode() || err.is_request(),
        "{err}"
    );
}

#[tokio::test]
async fn huge_body_is_valid_json() {
    let sim = hosted().await;
    sim.fault(Route::CreateTask, Fault::HugeBody { bytes: 3 << 20 });
    let a = send("POST", &create_url(&sim), Some(&body())).await;
    assert_eq!(a.status, 200);
    assert!(a.body.len() >= 3 << 20);
    let j = a.json();
    assert_eq!(j["data"]["id"], sim.tasks()[0].id.as_str());
    assert!(j["padding"].as_str().unwrap().len() > 3_000_000);
}

#[tokio::test]
async fn html_error_page() {
    let sim = hosted().await;
    sim.fault(Route::CreateTask, Fault::Html(502));
    let a = send("POST", &create_url(&sim), Some(&body())).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.header("content-type"), Some("text/html"));
    assert_eq!(
        a.body,
        "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    assert_eq!(sim.accepted_creates(), 0);
}

#[tokio::test]
async fn delay_then_answer() {
    let sim = hosted().await;
    sim.fault(Route::CreateTask, Fault::Delay(Duration::from_millis(150)));
    let started = Instant::now();
    let a = send("POST", &create_url(&sim), Some(&body())).await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(a.status, 200);
    assert_eq!(sim.accepted_creates(), 1);
    // A client that gives up first sees a timeout, but the task exists anyway.
    sim.fault(Route::CreateTask, Fault::Delay(Duration::from_millis(300)));
    let quick = client_with_timeout(Duration::from_millis(100));
    assert!(
        try_send(&quick, "POST", &create_url(&sim), Some(&body()))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(sim.accepted_creates(), 2);
}

#[tokio::test]
async fn times_always_remove_and_counts() {
    let sim = hosted().await;
    let url = sim.url(&format!("/v1/tasks/x?api_token={TOKEN}"));
    let twice = sim.fault(Route::GetTask, Fault::Status(503)).times(2);
    let statuses = async || {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(send("GET", &url, None).await.status);
        }
        v
    };
    assert_eq!(statuses().await, [503, 503, 404]);
    assert_eq!(twice.fired(), 2);
    assert_eq!(twice.remaining(), Some(0));

    let always = sim.fault(Route::Any, Fault::Status(500)).always();
    assert_eq!(statuses().await, [500, 500, 500]);
    assert_eq!(always.remaining(), None);
    assert_eq!(
        send("POST", &create_url(&sim), Some(&body())).await.status,
        500
    );
    assert_eq!(always.fired(), 4);
    always.remove();
    assert_eq!(statuses().await, [404, 404, 404]);

    // Faults fire only on routed requests that passed the token check.
    sim.fault(Route::Any, Fault::Status(500)).always();
    assert_eq!(send("GET", &sim.url("/v1/tasks/x"), None).await.status, 401);
    assert_eq!(send("GET", &sim.url("/nowhere"), None).await.status, 404);
    sim.clear_faults();
    assert_eq!(send("GET", &url, None).await.status, 404);

    // Queued on one route, it waits for that route.
    sim.fault(Route::DeleteTask, Fault::Status(502));
    assert_eq!(send("GET", &url, None).await.status, 404);
    assert_eq!(send("DELETE", &url, None).await.status, 502);
    assert_eq!(sim.count_where(|r| r.fault == Some(Fault::Status(503))), 2);
}

#[tokio::test]
async fn probability_is_seeded() {
    async fn run(seed: u64) -> Vec<u16> {
        let sim = Simulator::builder().seed(seed).start().await.unwrap();
        sim.fault(Route::GetTask, Fault::Status(503))
            .always()
            .probability(0.5);
        let url = sim.url(&format!("/v1/tasks/x?api_token={TOKEN}"));
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(send("GET", &url, None).await.status);
        }
        statuses
    }
    let a = run(42).await;
    assert_eq!(a, run(42).await);
    let failures = a.iter().filter(|&&s| s == 503).count();
    assert!((8..=32).contains(&failures), "{failures} of 40");
}

#[tokio::test]
async fn extreme_fault_parameters_are_tamed() {
    let sim = hosted().await;
    let url = sim.url(&format!("/v1/tasks/x?api_token={TOKEN}"));
    sim.fault(Route::GetTask, Fault::Status(42));
    assert_eq!(send("GET", &url, None).await.status, 200);
    sim.fault(Route::GetTask, Fault::Html(1000));
    assert_eq!(send("GET", &url, None).await.status, 599);
    sim.fault(
        Route::GetTask,
        Fault::RateLimited {
            retry_after: Duration::MAX,
        },
    );
    let a = send("GET", &url, None).await;
    assert_eq!(a.header("retry-after"), Some(u64::MAX.to_string().as_str()));
    // Never fires: routing misses are answered before faults are looked at.
    let never = sim.fault(Route::NotFound, Fault::Status(500)).always();
    assert_eq!(send("GET", &sim.url("/nowhere"), None).await.status, 404);
    assert_eq!(never.fired(), 0);
}
