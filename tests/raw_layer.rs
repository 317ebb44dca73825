//! The escape hatch is safe to use: a raw call's error converts with `?` into this crate's
//! `Error` (status, Runway's message, a hint, the task id once named, never the token or a
//! placeholder URL), and the generated types convert into the high-level ones.

use lowcodeapi_runwayml::generated::{RawError, types as wire};
use lowcodeapi_runwayml::{
    Client, CreatedTask, Error, ImageToVideo, Model, PromptImage, Ratio, Task, TaskId, TaskStatus,
};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Fault, Route, Simulator};

fn client_with(sim: &Simulator, token: &str) -> Client {
    Client::builder()
        .api_token(token)
        .base_url(sim.base_url())
        .build()
        .unwrap()
}

async fn raw_get(client: &Client, id: &TaskId) -> Result<Task, Error> {
    let answer = client
        .raw()
        .get_task(id.as_str())
        .await
        .map_err(|e| Error::from(e).with_task_id(id))?;
    Ok(Task::from(answer.into_inner()))
}

#[tokio::test]
async fn raw_errors_become_this_crates_error() {
    let sim = Simulator::builder()
        .time_scale(200.0)
        .start()
        .await
        .unwrap();
    let client = client_with(&sim, DEFAULT_TOKEN);

    // A 404 for an unknown task: not found, with the status, the task and a message.
    let id = TaskId::parse("00000000-0000-0000-0000-000000000000").unwrap();
    let error = raw_get(&client, &id).await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.task_id(), Some(&id));
    let shown = error.to_string();
    assert!(shown.contains("HTTP 404"), "{shown}");
    assert!(shown.contains(id.as_str()), "{shown}");
    assert!(!shown.contains("no.url.provided"), "{shown}");

    // A 503 after the retries: retryable, with the hint.
    sim.fault(Route::GetTask, Fault::Status(503)).always();
    let created = client
        .image_to_video(
            ImageToVideo::new(
                Model::Gen4Turbo,
                PromptImage::url("https://example.com/a.jpg").unwrap(),
            )
            .ratio(Ratio::W1280H720),
        )
        .await
        .unwrap();
    let retry = lowcodeapi_runwayml::RetryPolicy::default().max_retries(0);
    let quick = Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .retry_policy(retry)
        .build()
        .unwrap();
    let error = raw_get(&quick, &created.id).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert!(error.is_retryable());
    assert!(error.to_string().contains("retry later"), "{error}");
    sim.clear_faults();

    // A bad token: unauthorized, and the token is not echoed back.
    let wrong = client_with(&sim, "at_WRONG_TOKEN_42");
    let error = raw_get(&wrong, &created.id).await.unwrap_err();
    assert!(error.is_unauthorized() || error.is_forbidden(), "{error:?}");
    assert!(
        !format!("{error} {error:?}").contains("WRONG_TOKEN"),
        "{error:?}"
    );

    // Success: the generated types convert into the high-level ones.
    let task = raw_get(&client, &created.id).await.unwrap();
    assert_eq!(task.id, created.id);
    assert!(matches!(
        task.status,
        TaskStatus::Pending | TaskStatus::Running | TaskStatus::Succeeded
    ));
    sim.shutdown().await;
}

#[test]
fn local_raw_failures_convert_without_a_placeholder_url() {
    let error: Error = RawError::InvalidRequest("the id is missing".into()).into();
    assert!(error.to_string().contains("the id is missing"), "{error}");
    assert!(!error.to_string().contains("no.url.provided"));
}

#[test]
fn generated_types_convert_into_the_high_level_ones() {
    let raw: wire::Task = serde_json::from_value(serde_json::json!({
        "id": "t1", "status": "FAILED", "failure": "no", "failureCode": "SAFETY.INPUT.IMAGE",
        "cost": {"credits": 0}
    }))
    .unwrap();
    let task = Task::from(raw);
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.cost, Some(0.0));

    let raw: wire::CreateTaskResponse =
        serde_json::from_value(serde_json::json!({"id": "t2", "estimatedCost": {"credits": 10}}))
            .unwrap();
    assert_eq!(CreatedTask::from(raw).estimated_cost, Some(10.0));

    let raw: wire::ImageToVideoRequest = serde_json::from_value(serde_json::json!({
        "model": "gen4_turbo", "promptImage": [{"uri": "https://example.com/a.jpg", "position": "first"}],
        "ratio": "1280:720", "duration": 5, "watermark": false
    }))
    .unwrap();
    let request = ImageToVideo::try_from(raw).unwrap();
    assert_eq!(request.get_duration(), Some(5));
    assert_eq!(
        request.extras().get("watermark"),
        Some(&serde_json::json!(false))
    );
    assert!(request.validate().is_ok(), "{:?}", request.validate());
}
