//! One client bounds its requests in flight, so thousands of concurrent waits share a few
//! connections instead of opening one each.

use std::time::{Duration, Instant};

use httpmock::Method::GET;
use httpmock::MockServer;
use lowcodeapi_runwayml::{Client, TaskId, UrlFormat};
use serde_json::json;

async fn timed_burst(limit: usize) -> Duration {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/tasks/task-1");
            then.status(200)
                .json_body(json!({"data": {"id": "task-1", "status": "RUNNING"}}))
                .delay(Duration::from_millis(200));
        })
        .await;
    let client = Client::builder()
        .api_token("at_test")
        .base_url(server.base_url())
        .url_format(UrlFormat::New)
        .max_concurrent_requests(limit)
        .build()
        .unwrap();
    let id = TaskId::parse("task-1").unwrap();
    let started = Instant::now();
    let calls = (0..10).map(|_| client.get_task(&id));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    started.elapsed()
}

#[tokio::test]
async fn requests_beyond_the_limit_wait_their_turn() {
    // 10 calls of 200 ms, 2 at a time: five rounds.
    let capped = timed_burst(2).await;
    assert!(capped >= Duration::from_millis(1000), "{capped:?}");
    // With room for all of them they overlap.
    let open = timed_burst(32).await;
    assert!(open < Duration::from_millis(900), "{open:?}");
}
