//! `Client::image_to_video`: the typed request reaches the wire in Runway's shape, and an invalid
//! one is rejected before any request is sent.

use httpmock::Method::POST;
use httpmock::MockServer;
use lowcodeapi_runwayml::image_to_video::{Keyframe, Model, PromptImage, Ratio};
use lowcodeapi_runwayml::{
    Client, ClientBuilder, Error, ImageToVideo, MediaUri, RetryPolicy, UrlFormat,
};
use serde_json::json;

const TOKEN: &str = "at_test_token";

/// A client for the mock server, with the defaults (URL-format probing, retries).
fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .api_token(TOKEN)
        .base_url(server.base_url())
}

/// The New Format and no retries: one request per call.
fn client(server: &MockServer) -> Client {
    builder(server)
        .url_format(UrlFormat::New)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

fn image() -> PromptImage {
    PromptImage::url("https://example.com/a.jpg").unwrap()
}

#[tokio::test]
async fn a_valid_request_is_sent_in_runways_shape() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/image_to_video")
                .query_param("api_token", TOKEN)
                .json_body(json!({
                    "model": "gen4_turbo",
                    "promptImage": "https://example.com/a.jpg",
                    "promptText": "the camera pulls back",
                    "ratio": "1280:720",
                    "duration": 5,
                    "seed": 4294967295u64
                }));
            then.status(200)
                .json_body(json!({"data": {"id": "0b7f3c9e-1111-4222-8333-444455556666"}}));
        })
        .await;
    let created = client(&server)
        .image_to_video(
            ImageToVideo::new(Model::Gen4Turbo, image())
                .prompt_text("the camera pulls back")
                .ratio(Ratio::W1280H720)
                .duration(5)
                .seed(4_294_967_295),
        )
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "0b7f3c9e-1111-4222-8333-444455556666");
    assert_eq!(create.calls_async().await, 1);
}

#[tokio::test]
async fn keyframes_and_extra_fields_pass_through_unchanged() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/image_to_video")
                .json_body(json!({
                    "model": "veo3.1",
                    "promptImage": [
                        {"uri": "https://example.com/first.jpg", "position": "first"},
                        {"uri": "https://example.com/last.jpg", "position": "last"}
                    ],
                    "ratio": "1280:720",
                    "duration": 8,
                    "audio": false
                }));
            then.status(200).json_body(json!({
                "message": "Request completed", "provider": "runwayml",
                "result": {"id": "task-2"}, "response_headers": {}
            }));
        })
        .await;
    let request = ImageToVideo::new(
        Model::Veo31,
        PromptImage::keyframes([
            Keyframe::first(MediaUri::parse("https://example.com/first.jpg").unwrap()),
            Keyframe::last(MediaUri::parse("https://example.com/last.jpg").unwrap()),
        ]),
    )
    .ratio(Ratio::W1280H720)
    .duration(8)
    .extra("audio", false);
    let created = client(&server).image_to_video(request).await.unwrap();
    assert_eq!(created.id.as_str(), "task-2");
    assert_eq!(create.calls_async().await, 1);
}

#[tokio::test]
async fn an_invalid_request_sends_nothing_and_reports_every_violation() {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(500);
        })
        .await;
    let error = client(&server)
        .image_to_video(
            ImageToVideo::new(Model::Gen45, image())
                .ratio(Ratio::Other("1:2".into()))
                .duration(11)
                .seed(1 << 33),
        )
        .await
        .unwrap_err();
    let Error::Validation(validation) = &error else {
        panic!("{error:?}")
    };
    let paths: Vec<&str> = validation
        .violations()
        .iter()
        .map(|v| v.path.as_str())
        .collect();
    assert_eq!(paths, ["promptText", "ratio", "duration", "seed"]);
    assert_eq!(error.task_id(), None);
    assert_eq!(
        any.calls_async().await,
        0,
        "nothing may be sent for an invalid request"
    );
}

#[tokio::test]
async fn skipping_validation_sends_an_unknown_model_unchanged() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v1/image_to_video")
                .json_body(json!({
                    "model": "gen9_preview",
                    "promptImage": "https://example.com/a.jpg",
                    "duration": 99
                }));
            then.status(200)
                .json_body(json!({"data": {"id": "task-3"}}));
        })
        .await;
    let created = client(&server)
        .image_to_video(
            ImageToVideo::new(Model::Other("gen9_preview".into()), image())
                .duration(99)
                .skip_validation(),
        )
        .await
        .unwrap();
    assert_eq!(created.id.as_str(), "task-3");
    assert_eq!(create.calls_async().await, 1);
}

#[tokio::test]
async fn runways_400_comes_back_with_its_issues() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/image_to_video");
            then.status(400).json_body(json!({
                "message": "Error received from the runwayml API",
                "provider": "runwayml",
                "error": {
                    "error": "Validation of body failed",
                    "issues": [{"code": "custom", "path": ["promptImage"], "message": "Image could not be fetched"}],
                    "docUrl": "https://docs.dev.runwayml.com/api"
                },
                "headers": {}
            }));
        })
        .await;
    let error = client(&server)
        .image_to_video(ImageToVideo::new(Model::Gen4Turbo, image()).ratio(Ratio::W1280H720))
        .await
        .unwrap_err();
    let api = error.api().expect("an API error");
    assert_eq!(api.status, 400);
    assert_eq!(
        api.runway_error.as_deref(),
        Some("Validation of body failed")
    );
    assert_eq!(api.issues[0].path, "promptImage");
    assert_eq!(api.issues[0].message, "Image could not be fetched");
    assert!(!error.is_retryable());
    let line = error.to_string();
    assert!(
        line.contains("promptImage: Image could not be fetched"),
        "{line}"
    );
    assert!(!line.contains('\n'));
}

#[tokio::test]
async fn a_create_does_not_settle_the_url_format_for_task_routes() {
    use httpmock::Method::GET;
    use lowcodeapi_runwayml::UrlFormatState;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/image_to_video");
            then.status(200).json_body(json!({
                "message": "Request completed", "provider": "runwayml",
                "result": {"id": "task-4"}, "response_headers": {}
            }));
        })
        .await;
    let new_format = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/tasks/task-4");
            then.status(404).json_body(json!({"message": "Not Found"}));
        })
        .await;
    let old_format = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/tasks/id").query_param("id", "task-4");
            then.status(200).json_body(json!({
                "message": "Request completed", "provider": "runwayml",
                "result": {"id": "task-4", "status": "PENDING", "createdAt": "2026-11-28T10:00:00Z"},
                "response_headers": {}
            }));
        })
        .await;
    let client = builder(&server).build().unwrap();
    let created = client
        .image_to_video(ImageToVideo::new(Model::Gen4Turbo, image()).ratio(Ratio::W1280H720))
        .await
        .unwrap();
    assert_eq!(client.url_format(), UrlFormatState::Unsettled);
    let task = client.get_task(&created.id).await.unwrap();
    assert_eq!(task.id, created.id);
    assert_eq!(client.url_format(), UrlFormatState::Old);
    assert_eq!(new_format.calls_async().await, 1);
    assert_eq!(old_format.calls_async().await, 1);
}

#[tokio::test]
async fn a_create_that_timed_out_says_the_task_may_exist_and_is_not_retryable() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/v1/image_to_video");
            then.status(200)
                .json_body(json!({"data": {"id": "task-5"}}))
                .delay(std::time::Duration::from_secs(2));
        })
        .await;
    let client = builder(&server)
        .request_timeout(std::time::Duration::from_millis(200))
        .build()
        .unwrap();
    let error = client
        .image_to_video(ImageToVideo::new(Model::Gen4Turbo, image()).ratio(Ratio::W1280H720))
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(error.may_have_created_task());
    assert!(!error.is_retryable(), "retrying could bill a second task");
    assert!(
        error.to_string().contains("may have been created"),
        "{error}"
    );
    assert_eq!(
        create.calls_async().await,
        1,
        "the create is never sent twice"
    );
}
