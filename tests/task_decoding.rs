//! Task bodies Runway may send that must still decode: nulls, unknown statuses, extra fields.

use httpmock::Method::GET;
use httpmock::MockServer;
use lowcodeapi_runwayml::{Client, TaskId, TaskStatus, UrlFormat};
use serde_json::{Value, json};

async fn decode(task: Value) -> lowcodeapi_runwayml::Task {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/tasks/task-1");
            then.status(200).json_body(json!({ "data": task }));
        })
        .await;
    let client = Client::builder()
        .api_token("at_test")
        .base_url(server.base_url())
        .url_format(UrlFormat::New)
        .build()
        .unwrap();
    client
        .get_task(&TaskId::parse("task-1").unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn null_optional_fields_decode_as_absent() {
    let task = decode(json!({
        "id": "task-1", "status": "RUNNING", "createdAt": null, "progress": null,
        "output": null, "failure": null, "failureCode": null, "cost": null, "estimatedCost": null
    }))
    .await;
    assert_eq!(task.status, TaskStatus::Running);
    assert!(task.output.is_empty());
    assert_eq!(task.progress, None);
    assert_eq!(task.cost, None);
}

#[tokio::test]
async fn a_new_status_and_new_fields_decode() {
    let task = decode(json!({
        "id": "task-1", "status": "QUEUED_FOR_REVIEW", "createdAt": "2026-11-28T10:00:00Z",
        "reviewer": {"team": "safety"}, "progress": 0.25
    }))
    .await;
    assert_eq!(task.status, TaskStatus::Unknown("QUEUED_FOR_REVIEW".into()));
    assert_eq!(task.progress, Some(0.25));
    assert_eq!(task.created_at.as_deref(), Some("2026-11-28T10:00:00Z"));
}
