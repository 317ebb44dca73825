//! Requirement 2: every error shape of both dialects (and bare, text, HTML, empty, huge and
//! malformed bodies) becomes the one `Error`, with typed fields, a one-line readable Display
//! and the right predicates.

mod common;

use std::time::Duration;

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::{
    Client, Dialect, Error, FailureCode, Issue, RetryPolicy, TaskStatus, UrlFormat, UrlFormatState,
};
use serde_json::{Value, json};

/// The largest excerpt an error may hold: 300 bytes plus an ellipsis.
const EXCERPT_MAX: usize = 300 + '…'.len_utf8();

/// A client that never retries, so each error answer costs exactly one request.
fn no_retry(server: &MockServer, format: UrlFormat) -> Client {
    builder(server.base_url())
        .retry_policy(RetryPolicy::none())
        .url_format(format)
        .build()
        .expect("client")
}

/// Serves `status` + `body` on GET (New Format) and returns the get_task error.
async fn get_error(status: u16, body: &Value) -> Error {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, status, body);
        })
        .await;
    let error = expect_err(no_retry(&server, UrlFormat::New).get_task(&task_id()).await);
    assert_eq!(mock.calls_async().await, 1);
    error
}

/// Serves a raw body on GET (New Format) and returns the get_task result.
async fn get_raw(
    status: u16,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> Result<lowcodeapi_runwayml::Task, Error> {
    let server = MockServer::start_async().await;
    let body = body.as_ref().to_vec();
    let mock = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            raw(then, status, content_type, &body);
        })
        .await;
    let result = no_retry(&server, UrlFormat::New).get_task(&task_id()).await;
    assert_eq!(mock.calls_async().await, 1);
    result
}

/// The five predicates, in order: unauthorized, forbidden, not found, rate limited, retryable.
fn predicates(error: &Error) -> [bool; 5] {
    [
        error.is_unauthorized(),
        error.is_forbidden(),
        error.is_not_found(),
        error.is_rate_limited(),
        error.is_retryable(),
    ]
}

#[tokio::test]
async fn hosted_error_envelope_is_decoded() {
    let error = get_error(400, &hosted_error("Invalid request", "BAD_REQUEST")).await;

    let api = error.api().expect("an API error");
    assert_eq!(api.status, 400);
    assert_eq!(api.operation, "get_task");
    assert_eq!(api.dialect, Some(Dialect::Hosted));
    assert_eq!(api.message.as_deref(), Some("Invalid request"));
    assert_eq!(api.code.as_deref(), Some("BAD_REQUEST"));
    assert_eq!(api.runway_error, None);
    assert!(!api.routing_miss);
    assert_eq!(api.body_excerpt, None);
    assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
    assert_eq!(predicates(&error), [false; 5]);
    assert_eq!(
        error.to_string(),
        format!(
            "get_task failed with HTTP 400 for task {TASK}: Invalid request [BAD_REQUEST] — fix the request"
        )
    );
}

#[tokio::test]
async fn self_hosted_error_envelope_with_an_object_or_a_string() {
    // Runway's body passed through as an object.
    let error = get_error(
        403,
        &self_hosted_error(
            "Error received from the runwayml API",
            json!({"error": "Model variant gen3_alphaturbo is not available"}),
            json!({"content-type": "application/json"}),
        ),
    )
    .await;
    let api = error.api().expect("api");
    assert_eq!(api.dialect, Some(Dialect::SelfHosted));
    assert_eq!(
        api.message.as_deref(),
        Some("Error received from the runwayml API")
    );
    assert_eq!(
        api.runway_error.as_deref(),
        Some("Model variant gen3_alphaturbo is not available")
    );
    assert!(error.is_forbidden());
    assert!(
        error
            .to_string()
            .contains(": Model variant gen3_alphaturbo is not available"),
        "{error}"
    );

    // A text upstream body arrives as a string.
    let error = get_error(
        500,
        &self_hosted_error(
            "Error received from the runwayml API",
            json!("Internal boom"),
            json!({"content-type": "text/plain"}),
        ),
    )
    .await;
    let api = error.api().expect("api");
    assert_eq!(api.status, 500);
    assert_eq!(api.dialect, Some(Dialect::SelfHosted));
    assert_eq!(api.runway_error.as_deref(), Some("Internal boom"));
    assert_eq!(predicates(&error), [false; 5], "500 is not retried");
    assert_eq!(
        error.to_string(),
        format!("get_task failed with HTTP 500 for task {TASK}: Internal boom — retry later")
    );

    // The self-hosted server's own transport failure to Runway.
    let error = get_error(
        500,
        &json!({
            "message": "connect ECONNREFUSED 127.0.0.1:9",
            "provider": "runwayml",
            "error": {"message": "connect ECONNREFUSED 127.0.0.1:9"}
        }),
    )
    .await;
    let api = error.api().expect("api");
    assert_eq!(
        api.message.as_deref(),
        Some("connect ECONNREFUSED 127.0.0.1:9")
    );
    assert_eq!(api.runway_error, None, "the same text is not kept twice");
}

#[tokio::test]
async fn routing_miss_is_flagged_and_points_at_the_base_url() {
    let server = MockServer::start_async().await;
    let miss = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let client = no_retry(&server, UrlFormat::New);

    let error = expect_err(client.get_task(&task_id()).await);

    let api = error.api().expect("api");
    assert!(api.routing_miss);
    assert_eq!(api.status, 404);
    assert_eq!(api.dialect, None);
    assert_eq!(api.message.as_deref(), Some("Not Found"));
    assert_eq!(api.runway_error, None);
    assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
    // LowCodeAPI not routing the URL says nothing about the task: not "not found".
    assert!(
        !error.is_not_found(),
        "a routing miss is not a missing task"
    );
    assert_eq!(predicates(&error), [false; 5]);
    assert!(error.to_string().contains("check the base URL"), "{error}");
    assert_eq!(miss.calls_async().await, 1);
}

#[tokio::test]
async fn runway_400_issues_and_doc_url_in_every_dialect() {
    let runway = json!({
        "error": "Validation of body failed",
        "issues": [
            {"code": "invalid_enum_value", "path": ["promptImage", 0, "position"], "message": "Invalid enum value. Expected 'first' | 'last'"},
            {"code": "too_small", "path": ["duration"], "message": "Number must be greater than or equal to 2"}
        ],
        "docUrl": "https://docs.dev.runwayml.com/api"
    });
    for wire in WIRES {
        let server = MockServer::start_async().await;
        let body = wire.runway_error(runway.clone());
        let mock = server
            .mock_async(|when, then| {
                Route::Create.when(when);
                json(then, 400, &body);
            })
            .await;
        let client = no_retry(&server, UrlFormat::Auto);

        let error = expect_err(client.image_to_video(create_body()).await);

        let api = error.api().expect("api");
        assert_eq!(api.status, 400, "{wire:?}");
        assert_eq!(api.operation, "image_to_video");
        assert_eq!(
            api.issues,
            vec![
                Issue {
                    code: Some("invalid_enum_value".into()),
                    path: "promptImage[0].position".into(),
                    message: "Invalid enum value. Expected 'first' | 'last'".into(),
                },
                Issue {
                    code: Some("too_small".into()),
                    path: "duration".into(),
                    message: "Number must be greater than or equal to 2".into(),
                },
            ],
            "{wire:?}"
        );
        assert_eq!(
            api.doc_url.as_deref(),
            Some("https://docs.dev.runwayml.com/api"),
            "{wire:?}"
        );
        match wire {
            Wire::Hosted => {
                assert_eq!(api.dialect, Some(Dialect::Hosted));
                assert_eq!(api.message.as_deref(), Some("Validation of body failed"));
            }
            Wire::SelfHosted => {
                assert_eq!(api.dialect, Some(Dialect::SelfHosted));
                assert_eq!(
                    api.runway_error.as_deref(),
                    Some("Validation of body failed")
                );
            }
            Wire::Bare => {
                assert_eq!(api.dialect, None);
                assert_eq!(
                    api.runway_error.as_deref(),
                    Some("Validation of body failed")
                );
            }
        }
        assert_eq!(error.task_id(), None, "a create names no task");
        assert_eq!(predicates(&error), [false; 5]);
        let display = error.to_string();
        assert!(
            display.starts_with("image_to_video failed with HTTP 400: Validation of body failed"),
            "{display}"
        );
        assert!(
            display.contains(
                "; promptImage[0].position: Invalid enum value. Expected 'first' | 'last'; duration: Number must be greater than or equal to 2"
            ),
            "{display}"
        );
        assert!(
            display.contains("(see https://docs.dev.runwayml.com/api)"),
            "{display}"
        );
        assert_eq!(mock.calls_async().await, 1);
    }
}

#[tokio::test]
async fn self_hosted_401_echoing_the_token_is_scrubbed() {
    let body = json!({
        "message": "A valid API token is required to access this API.",
        "provider": "runwayml",
        "error": {
            "code": 401,
            "logging": {
                "headers": {"user-agent": "lowcodeapi-runwayml/0.1.0", "host": "127.0.0.1"},
                "query": {"api_token": TOKEN},
                "url": format!("/runwayml/v1/tasks/id?id={TASK}&api_token={TOKEN}")
            }
        }
    });
    let error = get_error(401, &body).await;

    let api = error.api().expect("api");
    assert_eq!(api.dialect, Some(Dialect::SelfHosted));
    assert_eq!(
        api.message.as_deref(),
        Some("A valid API token is required to access this API.")
    );
    assert_eq!(api.code.as_deref(), Some("401"));
    assert!(error.is_unauthorized());
    assert_eq!(predicates(&error), [true, false, false, false, false]);
    assert!(
        error.to_string().contains("LOWCODEAPI_API_TOKEN"),
        "the hint says what to set: {error}"
    );
    // assert_clean (in get_error) already checked Display and both Debug forms.
}

#[tokio::test]
async fn both_403_bodies_are_forbidden() {
    for message in [
        "Invalid api_token",
        "No access token is associated with this api_token, authorize your runwayml with LowCodeAPI.",
    ] {
        let error = get_error(
            403,
            &json!({"message": message, "provider": "runwayml", "error": {"code": 403}}),
        )
        .await;
        let api = error.api().expect("api");
        assert_eq!(api.dialect, Some(Dialect::SelfHosted));
        assert_eq!(api.message.as_deref(), Some(message));
        assert_eq!(api.code.as_deref(), Some("403"));
        assert_eq!(predicates(&error), [false, true, false, false, false]);
        assert!(
            error
                .to_string()
                .contains("runwayml is authorized for it in LowCodeAPI"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn runway_404_task_not_found_in_every_dialect() {
    for wire in WIRES {
        let server = MockServer::start_async().await;
        let body = wire.runway_error(json!({"error": "Task not found"}));
        let mock = server
            .mock_async(|when, then| {
                Route::get(wire.format()).when(when);
                json(then, 404, &body);
            })
            .await;
        // Auto: a provider's 404 is an answer, whatever the dialect.
        let client = no_retry(&server, UrlFormat::Auto);
        if wire == Wire::SelfHosted {
            server
                .mock_async(|when, then| {
                    Route::GetNew.when(when);
                    raw(then, 404, "application/json", ROUTING_MISS);
                })
                .await;
        }

        let error = expect_err(client.get_task(&task_id()).await);

        assert!(error.is_not_found(), "{wire:?}");
        assert_eq!(predicates(&error), [false, false, true, false, false]);
        assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
        let api = error.api().expect("api");
        assert!(!api.routing_miss);
        let text = match wire {
            Wire::Hosted => api.message.as_deref(),
            _ => api.runway_error.as_deref(),
        };
        assert_eq!(text, Some("Task not found"), "{wire:?}");
        let display = error.to_string();
        assert!(
            display.starts_with(&format!(
                "get_task failed with HTTP 404 for task {TASK}: Task not found"
            )),
            "{display}"
        );
        assert_eq!(mock.calls_async().await, 1, "{wire:?}");
        // A provider's 404 may be a routing artefact (the New Format URL of a task named `id` is
        // the Old Format route): it never settles the format.
        assert_eq!(client.url_format(), UrlFormatState::Unsettled, "{wire:?}");
    }
}

#[tokio::test]
async fn rate_limited_429_with_retry_after() {
    // Runway's 429 with an HTTP header (hosted), and inside the body (self-hosted).
    for (name, wire) in [("hosted", Wire::Hosted), ("self-hosted", Wire::SelfHosted)] {
        let server = MockServer::start_async().await;
        let body = wire.runway_error(json!({"error": "Daily generation limit reached"}));
        let body = if wire == Wire::SelfHosted {
            self_hosted_error(
                "Error received from the runwayml API",
                json!({"error": "Daily generation limit reached"}),
                json!({"retry-after": "7", "content-type": "application/json"}),
            )
        } else {
            body
        };
        let mock = server
            .mock_async(|when, then| {
                Route::Create.when(when);
                let then = json(then, 429, &body);
                if wire == Wire::Hosted {
                    then.header("retry-after", "7");
                }
            })
            .await;
        let client = no_retry(&server, UrlFormat::Auto);

        let error = expect_err(client.image_to_video(create_body()).await);

        assert!(error.is_rate_limited(), "{name}");
        assert!(error.is_retryable(), "{name}");
        assert_eq!(predicates(&error), [false, false, false, true, true]);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)), "{name}");
        assert_eq!(
            error.api().unwrap().retry_after,
            Some(Duration::from_secs(7))
        );
        let display = error.to_string();
        assert!(
            display.contains("Daily generation limit reached"),
            "{display}"
        );
        assert!(display.contains("retry after 7s"), "{display}");
        assert_eq!(mock.calls_async().await, 1);
    }
}

#[tokio::test]
async fn text_500_and_html_502_keep_a_short_excerpt() {
    let error = get_raw(500, "text/plain", "Internal boom")
        .await
        .expect_err("500");
    assert_clean(&error);
    let api = error.api().expect("api");
    assert_eq!(api.status, 500);
    assert_eq!(api.dialect, None);
    assert_eq!(api.message, None);
    assert_eq!(api.runway_error, None);
    assert_eq!(api.body_excerpt.as_deref(), Some("Internal boom"));
    assert_eq!(predicates(&error), [false; 5]);
    assert_eq!(
        error.to_string(),
        format!("get_task failed with HTTP 500 for task {TASK}: Internal boom — retry later")
    );

    let html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
    let error = get_raw(502, "text/html", html).await.expect_err("502");
    assert_clean(&error);
    let api = error.api().expect("api");
    assert_eq!(api.status, 502);
    assert_eq!(api.dialect, None);
    assert!(!api.routing_miss);
    let excerpt = api.body_excerpt.as_deref().expect("excerpt");
    assert!(excerpt.contains("<h1>502 Bad Gateway</h1>"), "{excerpt}");
    assert!(!excerpt.contains('\n'));
    assert_eq!(predicates(&error), [false, false, false, false, true]);
}

#[tokio::test]
async fn malformed_json_on_200_is_a_decode_error_with_a_bounded_excerpt() {
    let body = format!(r#"{{"id": "{TASK}", "status": "RUNNING", "progress": 0.4,"#);
    let error = get_raw(200, "application/json", &body)
        .await
        .expect_err("malformed");
    assert_clean(&error);
    let Error::Decode(decode) = &error else {
        panic!("expected a Decode error, got {error:?}");
    };
    assert_eq!(decode.status, 200);
    assert_eq!(decode.operation, "get_task");
    assert_eq!(decode.body_excerpt, body);
    assert!(!decode.message.is_empty());
    assert_eq!(error.task_id().map(|t| t.as_str()), Some(TASK));
    assert_eq!(error.status(), Some(200));
    assert_eq!(predicates(&error), [false; 5]);
    assert!(
        error.to_string().starts_with(&format!(
            "get_task answered HTTP 200 with a body that could not be decoded for task {TASK}: "
        )),
        "{error}"
    );

    // Well-formed JSON that is not a task (no id), inside an envelope.
    let error = get_raw(
        200,
        "application/json",
        hosted(json!({"status": "RUNNING"})).to_string(),
    )
    .await
    .expect_err("no id");
    assert_clean(&error);
    let Error::Decode(decode) = &error else {
        panic!("expected a Decode error, got {error:?}");
    };
    assert!(decode.message.contains("id"), "{}", decode.message);
}

#[tokio::test]
async fn empty_bodies() {
    // 200 with nothing: a task was promised, nothing came.
    let error = get_raw(200, "application/json", "")
        .await
        .expect_err("empty");
    assert_clean(&error);
    let Error::Decode(decode) = &error else {
        panic!("expected a Decode error, got {error:?}");
    };
    assert_eq!(decode.status, 200);
    assert_eq!(decode.body_excerpt, "");

    // An error status with nothing.
    let error = get_raw(500, "text/plain", "").await.expect_err("empty 500");
    assert_clean(&error);
    let api = error.api().expect("api");
    assert_eq!(api.status, 500);
    assert_eq!(api.message, None);
    assert_eq!(api.runway_error, None);
    assert_eq!(api.body_excerpt, None);
    assert_eq!(
        error.to_string(),
        format!("get_task failed with HTTP 500 for task {TASK} — retry later")
    );

    // A self-hosted GET whose result is empty is not a task either.
    let error = get_raw(200, "application/json", self_hosted(json!("")).to_string())
        .await
        .expect_err("empty result");
    assert_clean(&error);
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
}

const FIVE_MB: usize = 5 * 1024 * 1024;

fn assert_bounded(error: &Error) {
    let display = assert_clean(error);
    assert!(
        display.len() < 4_096,
        "Display is {} bytes long: {}…",
        display.len(),
        &display[..200]
    );
    let debug = format!("{error:?}");
    assert!(debug.len() < 64_000, "Debug is {} bytes long", debug.len());
    match error {
        Error::Decode(decode) => {
            assert!(decode.body_excerpt.len() <= EXCERPT_MAX);
            assert!(
                decode.message.len() <= 1_000,
                "a decoder message of {} bytes",
                decode.message.len()
            );
        }
        Error::Api(api) => {
            for text in [
                &api.message,
                &api.runway_error,
                &api.body_excerpt,
                &api.code,
            ]
            .into_iter()
            .flatten()
            {
                assert!(text.len() <= EXCERPT_MAX, "a field of {} bytes", text.len());
            }
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn five_mb_text() -> String {
    "x".repeat(FIVE_MB)
}

fn five_mb_json() -> String {
    format!("[{}1]", "1,".repeat(FIVE_MB / 2))
}

/// A 200 whose several-MB body is not a task: a Decode error with a bounded excerpt.
async fn huge_success(body: String) {
    let error = get_raw(200, "application/json", body)
        .await
        .expect_err("5 MB");
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert_bounded(&error);
}

/// An error status with a several-MB body: an Api error with a bounded excerpt.
async fn huge_failure(status: u16, body: String) {
    let error = get_raw(status, "text/plain", body).await.expect_err("5 MB");
    assert_eq!(error.status(), Some(status));
    assert_bounded(&error);
    let excerpt = error.api().unwrap().body_excerpt.clone().expect("excerpt");
    assert!(excerpt.ends_with('…'), "{excerpt}");
}

// The several-MB cases are separate tests so they run in parallel (each takes a while in debug
// builds).

#[tokio::test]
async fn five_mb_of_text_on_a_200_is_a_bounded_decode_error() {
    huge_success(five_mb_text()).await;
}

#[tokio::test]
async fn five_mb_of_json_on_a_200_is_a_bounded_decode_error() {
    huge_success(five_mb_json()).await;
}

#[tokio::test]
async fn five_mb_of_text_on_a_500_is_a_bounded_api_error() {
    huge_failure(500, five_mb_text()).await;
}

#[tokio::test]
async fn five_mb_of_json_on_a_502_is_a_bounded_api_error() {
    huge_failure(502, five_mb_json()).await;
}

/// serde's message quotes the offending value: a 5 MB string where a number belongs.
#[tokio::test]
async fn a_huge_wrongly_typed_value_gives_a_bounded_decode_error() {
    let body = hosted(json!({"id": TASK, "status": "RUNNING", "progress": "p".repeat(FIVE_MB)}));
    let error = get_raw(200, "application/json", body.to_string())
        .await
        .expect_err("a string is not a progress");
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert_bounded(&error);
}

fn huge_message() -> String {
    "boom ".repeat(FIVE_MB / 5)
}

/// An error envelope holding several MB of text: every field kept is bounded.
async fn huge_envelope(body: Value) {
    let error = get_error(500, &body).await;
    assert_bounded(&error);
    let api = error.api().expect("api");
    assert!(api.issues.len() <= 50, "{} issues kept", api.issues.len());
    if !api.issues.is_empty() {
        let display = error.to_string();
        assert_eq!(display.matches("; promptText: ").count(), 5, "{display}");
        assert!(
            display.contains(&format!(
                "; and {} more (see ApiError::issues)",
                api.issues.len() - 5
            )),
            "{display}"
        );
    }
}

#[tokio::test]
async fn a_self_hosted_error_passing_5_mb_of_upstream_text_is_bounded() {
    huge_envelope(self_hosted_error(
        "Error received from the runwayml API",
        json!(huge_message()),
        json!({}),
    ))
    .await;
}

#[tokio::test]
async fn a_hosted_error_with_a_5_mb_message_is_bounded() {
    huge_envelope(hosted_error(&huge_message(), "INTERNAL")).await;
}

#[tokio::test]
async fn a_runway_400_with_thousands_of_issues_is_bounded() {
    huge_envelope(json!({
        "error": "Validation of body failed",
        "issues": vec![json!({"code": "custom", "path": ["promptText"], "message": "m".repeat(1000)}); 5000]
    }))
    .await;
}

#[tokio::test]
async fn multi_line_upstream_text_keeps_display_on_one_line() {
    let trace =
        "Internal boom\n    at handler (/srv/app.js:10:5)\r\n    at next (/srv/router.js:3:1)\n";
    for body in [
        self_hosted_error(
            "Error received from the runwayml API",
            json!(trace),
            json!({}),
        ),
        hosted_error(trace, "INTERNAL\nERROR"),
        json!({"error": trace, "issues": [{"path": ["a\nb"], "message": "line\nbreak"}], "docUrl": "https://docs\n"}),
    ] {
        let error = get_error(500, &body).await;
        let display = assert_clean(&error);
        assert!(
            display.contains("Internal boom") || display.contains("line break"),
            "{display}"
        );
    }
}

#[tokio::test]
async fn unknown_status_is_kept() {
    let task = get_raw(
        200,
        "application/json",
        hosted(task_json(TASK, "ARCHIVED")).to_string(),
    )
    .await
    .expect("a task with an unknown status");
    assert_eq!(task.status, TaskStatus::Unknown("ARCHIVED".into()));
    assert_eq!(task.status.as_str(), "ARCHIVED");
    assert!(!task.is_terminal());
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_optional_fields_may_be_missing() {
    // Extra fields everywhere, an unknown failure code.
    let body = self_hosted(json!({
        "id": TASK,
        "status": "FAILED",
        "createdAt": "2026-08-01T12:00:00.000Z",
        "failure": "Something new",
        "failureCode": "ASSET.NEW_KIND",
        "cost": {"credits": 5, "currency": "credits"},
        "organizationId": "org-1",
        "metadata": {"nested": [1, 2, {"deep": true}]},
        "progressText": null
    }));
    let task = get_raw(200, "application/json", body.to_string())
        .await
        .expect("extra fields are ignored");
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(task.failure.as_deref(), Some("Something new"));
    assert_eq!(
        task.failure_code,
        Some(FailureCode::Other("ASSET.NEW_KIND".into()))
    );
    assert_eq!(task.cost, Some(5.0));

    // Only the two required fields.
    let task = get_raw(
        200,
        "application/json",
        json!({"id": TASK, "status": "SUCCEEDED"}).to_string(),
    )
    .await
    .expect("optional fields may be missing");
    assert_eq!(task.id.as_str(), TASK);
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(task.created_at, None);
    assert_eq!(task.progress, None);
    assert!(task.output.is_empty());
    assert_eq!(task.failure, None);
    assert_eq!(task.failure_code, None);
    assert_eq!(task.cost, None);
    assert_eq!(task.estimated_cost, None);
}

#[tokio::test]
async fn predicate_matrix() {
    // (status, body, [unauthorized, forbidden, not found, rate limited, retryable])
    let cases: Vec<(u16, Value, [bool; 5])> = vec![
        (400, hosted_error("bad", "BAD_REQUEST"), [false; 5]),
        (
            401,
            hosted_error("Unauthorized", "UNAUTHORIZED"),
            [true, false, false, false, false],
        ),
        (
            403,
            hosted_error("Forbidden", "FORBIDDEN"),
            [false, true, false, false, false],
        ),
        (
            404,
            hosted_error("Task not found", "NOT_FOUND"),
            [false, false, true, false, false],
        ),
        (405, json!({"error": "Method not allowed"}), [false; 5]),
        (
            429,
            hosted_error("Too many requests", "RATE_LIMITED"),
            [false, false, false, true, true],
        ),
        (500, hosted_error("Internal", "INTERNAL"), [false; 5]),
        (
            502,
            json!({"error": "Bad gateway"}),
            [false, false, false, false, true],
        ),
        (
            503,
            json!({"error": "Service unavailable"}),
            [false, false, false, false, true],
        ),
        (
            504,
            json!({"error": "Gateway timeout"}),
            [false, false, false, false, true],
        ),
    ];
    for (status, body, expected) in cases {
        let error = get_error(status, &body).await;
        assert_eq!(error.status(), Some(status));
        assert_eq!(predicates(&error), expected, "HTTP {status}");
        assert!(!error.is_timeout());
    }
}

/// Error bodies arrive gzip-encoded too (LowCodeAPI compresses bodies over 512 bytes).
#[tokio::test]
async fn gzip_encoded_error_bodies_are_decoded() {
    let body = self_hosted_error(
        "Error received from the runwayml API",
        json!({"error": "Task not found", "padding": "p".repeat(600)}),
        json!({"content-type": "application/json", "retry-after": "4"}),
    )
    .to_string();
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            then.status(404)
                .header("content-type", "application/json; charset=utf-8")
                .header("content-encoding", "gzip")
                .body(gzip(body.as_bytes()));
        })
        .await;

    let error = expect_err(no_retry(&server, UrlFormat::New).get_task(&task_id()).await);

    assert!(error.is_not_found(), "{error:?}");
    let api = error.api().expect("api");
    assert_eq!(api.dialect, Some(Dialect::SelfHosted));
    assert_eq!(api.runway_error.as_deref(), Some("Task not found"));
    assert_eq!(api.retry_after, Some(Duration::from_secs(4)));
    assert_eq!(mock.calls_async().await, 1);
}
