//! Requirement 1: every operation succeeds in every dialect (hosted `{"data": X}`, self-hosted
//! `{"message","provider","result": X,"response_headers"}`, bare Runway bodies), in both URL
//! formats, and the escape hatch (`Client::raw`) unwraps envelopes too.

mod common;

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::generated::mock::MockServerExt;
use lowcodeapi_runwayml::generated::types as wire;
use lowcodeapi_runwayml::{CancelOutcome, FailureCode, TaskStatus, UrlFormat, UrlFormatState};
use serde_json::json;

const FORMATS: [UrlFormat; 2] = [UrlFormat::New, UrlFormat::Old];

#[tokio::test]
async fn get_task_succeeds_in_every_dialect_and_format() {
    for wire in WIRES {
        for format in FORMATS {
            let server = MockServer::start_async().await;
            let body = wire.success(task_json(TASK, "SUCCEEDED"));
            let mock = server
                .mock_async(|when, then| {
                    Route::get(format).when(when);
                    json(then, 200, &body);
                })
                .await;
            let client = client(&server, format);

            let task = client
                .get_task(&task_id())
                .await
                .unwrap_or_else(|e| panic!("{wire:?}/{format:?}: {e}"));

            assert_eq!(task.id.as_str(), TASK, "{wire:?}/{format:?}");
            assert_eq!(task.status, TaskStatus::Succeeded);
            assert_eq!(
                task.output,
                vec!["https://dnznrvs05pmza.cloudfront.net/out.mp4".to_owned()]
            );
            assert_eq!(task.cost, Some(25.0));
            assert_eq!(task.created_at.as_deref(), Some("2026-08-01T12:00:00.000Z"));
            assert!(task.is_terminal());
            assert_eq!(mock.calls_async().await, 1, "{wire:?}/{format:?}");
        }
    }
}

#[tokio::test]
async fn get_task_decodes_every_status_in_every_dialect() {
    for wire in WIRES {
        let server = MockServer::start_async().await;
        let client = client(&server, wire.format());
        for (status, expected) in [
            ("PENDING", TaskStatus::Pending),
            ("THROTTLED", TaskStatus::Throttled),
            ("RUNNING", TaskStatus::Running),
            ("FAILED", TaskStatus::Failed),
            ("CANCELLED", TaskStatus::Cancelled),
        ] {
            let body = wire.success(task_json(TASK, status));
            let mock = server
                .mock_async(|when, then| {
                    Route::get(wire.format()).when(when);
                    json(then, 200, &body);
                })
                .await;

            let task = client.get_task(&task_id()).await.expect("task");

            assert_eq!(task.status, expected, "{wire:?} {status}");
            match expected {
                TaskStatus::Running => {
                    assert_eq!(task.progress, Some(0.4));
                    assert_eq!(task.estimated_cost, Some(25.0));
                }
                TaskStatus::Pending | TaskStatus::Throttled => {
                    assert_eq!(task.estimated_cost, Some(25.0));
                    assert_eq!(task.progress, None);
                }
                TaskStatus::Failed => {
                    assert_eq!(
                        task.failure.as_deref(),
                        Some("Content moderation rejected the input")
                    );
                    assert_eq!(
                        task.failure_code,
                        Some(FailureCode::SafetyInput("SAFETY.INPUT.IMAGE".into()))
                    );
                    assert_eq!(task.cost, Some(0.0));
                }
                TaskStatus::Cancelled => assert_eq!(task.cost, Some(0.0)),
                _ => unreachable!(),
            }
            assert_eq!(mock.calls_async().await, 1);
            mock.delete_async().await;
        }
    }
}

#[tokio::test]
async fn cancel_task_succeeds_in_every_dialect() {
    // (dialect, format, status, body): hosted wraps the empty answer; self-hosted answers 200
    // with "result": ""; Runway itself answers 204 with no body.
    let cases = [
        (
            "hosted null",
            UrlFormat::New,
            200,
            Some(json!({"data": null})),
        ),
        (
            "hosted empty string",
            UrlFormat::New,
            200,
            Some(json!({"data": ""})),
        ),
        (
            "hosted empty object",
            UrlFormat::New,
            200,
            Some(json!({"data": {}})),
        ),
        (
            "self-hosted",
            UrlFormat::Old,
            200,
            Some(self_hosted(json!(""))),
        ),
        (
            "self-hosted, New Format",
            UrlFormat::New,
            200,
            Some(self_hosted(json!(""))),
        ),
        ("bare 204", UrlFormat::New, 204, None),
        ("bare 204, Old Format", UrlFormat::Old, 204, None),
        (
            "bare 200 with an empty object",
            UrlFormat::New,
            200,
            Some(json!({})),
        ),
    ];
    for (name, format, status, body) in cases {
        let server = MockServer::start_async().await;
        // The look before the DELETE (a bare task body decodes in every dialect).
        server
            .mock_async(|when, then| {
                Route::get(format).when(when);
                json(then, 200, &task_json(TASK, "RUNNING"));
            })
            .await;
        let mock = server
            .mock_async(|when, then| {
                Route::delete(format).when(when);
                match &body {
                    Some(body) => {
                        json(then, status, body);
                    }
                    None => {
                        then.status(status);
                    }
                }
            })
            .await;
        let client = client(&server, format);

        let outcome = client.cancel_task(&task_id()).await;

        assert_eq!(
            outcome.unwrap_or_else(|e| panic!("{name}: {e}")),
            CancelOutcome::Cancelled {
                was: TaskStatus::Running
            },
            "{name}"
        );
        assert_eq!(mock.calls_async().await, 1, "{name}");
    }
}

#[tokio::test]
async fn create_succeeds_in_every_dialect_and_sends_the_body_verbatim() {
    for wire in WIRES {
        for payload in [
            json!({"id": "0a1b2c3d-0000-4000-8000-000000000001", "estimatedCost": {"credits": 25}}),
            json!({"id": "0a1b2c3d-0000-4000-8000-000000000001"}),
        ] {
            let server = MockServer::start_async().await;
            let body = wire.success(payload.clone());
            let mock = server
                .mock_async(|when, then| {
                    Route::Create
                        .when(when)
                        .header("content-type", "application/json")
                        .json_body(json!({
                            "model": "gen4_turbo",
                            "promptImage": "https://example.com/a.jpg",
                            "ratio": "1280:720"
                        }));
                    json(then, 200, &body);
                })
                .await;
            let client = client(&server, UrlFormat::Auto);

            let created = client
                .image_to_video(create_body())
                .await
                .unwrap_or_else(|e| panic!("{wire:?}: {e}"));

            assert_eq!(created.id.as_str(), "0a1b2c3d-0000-4000-8000-000000000001");
            let expected_cost = payload.get("estimatedCost").map(|_| 25.0);
            assert_eq!(created.estimated_cost, expected_cost, "{wire:?}");
            assert_eq!(mock.calls_async().await, 1, "{wire:?}");
        }
    }
}

#[tokio::test]
async fn raw_get_task_returns_the_unwrapped_task_in_both_dialects() {
    for wire in [Wire::Hosted, Wire::SelfHosted] {
        let server = MockServer::start_async().await;
        let body = wire.success(task_json(TASK, "RUNNING"));
        let new = server
            .mock_async(|when, then| {
                Route::GetNew.when(when);
                json(then, 200, &body);
            })
            .await;
        let old = server
            .mock_async(|when, then| {
                Route::GetOld.when(when);
                json(then, 200, &body);
            })
            .await;
        let client = client(&server, UrlFormat::Auto);

        let task: wire::Task = client
            .raw()
            .get_task(TASK)
            .await
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"))
            .into_inner();
        assert_eq!(task.id, TASK);
        assert_eq!(task.status, "RUNNING");
        assert_eq!(task.progress, Some(0.4));
        assert_eq!(task.estimated_cost.map(|c| c.credits), Some(25.0));

        let task: wire::Task = client
            .raw()
            .get_task_old_format(TASK)
            .await
            .unwrap_or_else(|e| panic!("{wire:?} old: {e}"))
            .into_inner();
        assert_eq!(task.id, TASK);
        assert_eq!(task.status, "RUNNING");

        assert_eq!(new.calls_async().await, 1);
        assert_eq!(old.calls_async().await, 1);
        // The escape hatch leaves the URL-format choice to the caller: nothing was learned.
        assert_eq!(client.url_format(), UrlFormatState::Unsettled);
    }
}

#[tokio::test]
async fn raw_delete_and_create_unwrap_self_hosted_envelopes() {
    let server = MockServer::start_async().await;
    let delete = server
        .mock_async(|when, then| {
            Route::DeleteOld.when(when);
            json(then, 200, &self_hosted(json!("")));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            Route::Create.when(when);
            json(then, 200, &self_hosted(json!({"id": TASK})));
        })
        .await;
    let client = client(&server, UrlFormat::Auto);

    let deleted = client
        .raw()
        .delete_task_old_format(TASK)
        .await
        .expect("raw delete");
    assert_eq!(deleted.status().as_u16(), 204);
    let created = client
        .raw()
        .image_to_video(&create_wire_body())
        .await
        .expect("raw create")
        .into_inner();
    assert_eq!(created.id, TASK);
    assert!(created.estimated_cost.is_none());
    assert_eq!(delete.calls_async().await, 1);
    assert_eq!(create.calls_async().await, 1);
}

/// The typed mocks generated with the client (feature `httpmock`) describe bare Runway answers.
#[tokio::test]
async fn typed_generated_mocks_serve_bare_runway_answers() {
    let server = MockServer::start_async().await;
    let task: wire::Task = serde_json::from_value(task_json(TASK, "SUCCEEDED")).expect("task");
    let get = server.get_task(|when, then| {
        when.id(TASK);
        then.ok(&task);
    });
    let delete = server.delete_task(|when, then| {
        when.id(TASK);
        then.no_content();
    });
    let created: wire::CreateTaskResponse =
        serde_json::from_value(json!({"id": TASK, "estimatedCost": {"credits": 12.5}}))
            .expect("created");
    let create = server.image_to_video(|when, then| {
        when.body(&create_wire_body());
        then.ok(&created);
    });
    let client = client(&server, UrlFormat::Auto);

    let got = client.get_task(&task_id()).await.expect("get");
    assert_eq!(got.status, TaskStatus::Succeeded);
    assert_eq!(got.cost, Some(25.0));
    assert_eq!(client.url_format(), UrlFormatState::New);
    // The task had finished: the DELETE deletes it, and the outcome says so.
    assert_eq!(
        client.cancel_task(&task_id()).await.expect("cancel"),
        CancelOutcome::Deleted {
            was: TaskStatus::Succeeded
        }
    );
    let made = client.image_to_video(create_body()).await.expect("create");
    assert_eq!(made.id.as_str(), TASK);
    assert_eq!(made.estimated_cost, Some(12.5));
    // The get, and the cancel's look before its DELETE.
    assert_eq!(get.calls(), 2);
    assert_eq!(delete.calls(), 1);
    assert_eq!(create.calls(), 1);
}

/// LowCodeAPI gzips bodies over 512 bytes when asked: envelopes are unwrapped after decoding.
#[tokio::test]
async fn gzip_encoded_bodies_are_unwrapped_in_every_dialect() {
    let mut payload = task_json(TASK, "SUCCEEDED");
    let outputs: Vec<String> = (0..20)
        .map(|i| {
            format!("https://dnznrvs05pmza.cloudfront.net/{i:02}/video.mp4?expires=1786000000")
        })
        .collect();
    payload["output"] = json!(outputs);
    for wire in WIRES {
        let server = MockServer::start_async().await;
        let body = wire.success(payload.clone()).to_string();
        assert!(body.len() > 512);
        let mock = server
            .mock_async(|when, then| {
                Route::get(wire.format())
                    .when(when)
                    .header_includes("accept-encoding", "gzip");
                then.status(200)
                    .header("content-type", "application/json; charset=utf-8")
                    .header("content-encoding", "gzip")
                    .header("vary", "Accept-Encoding")
                    .body(gzip(body.as_bytes()));
            })
            .await;
        let client = client(&server, wire.format());

        let task = client
            .get_task(&task_id())
            .await
            .unwrap_or_else(|e| panic!("{wire:?}: {e}"));

        assert_eq!(task.status, TaskStatus::Succeeded);
        assert_eq!(task.output, outputs, "{wire:?}");
        assert_eq!(mock.calls_async().await, 1);
    }
}

/// A hosted 200 answer is read in one pass (payload found and decoded together); answers that
/// only look like it are read the general way, with the same outcome as unwrapping first.
#[tokio::test]
async fn raw_get_task_reads_every_hosted_looking_answer_as_unwrapping_would() {
    let server = MockServer::start_async().await;
    let client = client(&server, UrlFormat::New);
    let task = task_json(TASK, "RUNNING");
    let mut bare_with_data = task.clone();
    bare_with_data["data"] = json!(1);
    let cases = [
        ("hosted", json!({"data": task}).to_string()),
        ("hosted, spaced", format!("{{\"data\":  {task} }}\n")),
        (
            "hosted with another key",
            json!({"data": task, "note": 1}).to_string(),
        ),
        ("bare, with a data field", bare_with_data.to_string()),
    ];
    for (case, body) in cases {
        let mock = server
            .mock_async(|when, then| {
                Route::GetNew.when(when);
                raw(then, 200, "application/json; charset=utf-8", &body);
            })
            .await;
        let answer = client
            .raw()
            .get_task(TASK)
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let unwrapped = case.starts_with("hosted");
        assert_eq!(
            answer.headers().get("content-type").unwrap(),
            if unwrapped {
                "application/json"
            } else {
                "application/json; charset=utf-8"
            },
            "{case}"
        );
        assert_eq!(
            answer.headers().contains_key("content-length"),
            !unwrapped,
            "{case}"
        );
        let task = answer.into_inner();
        assert_eq!(task.id, TASK, "{case}");
        assert_eq!(task.status, "RUNNING", "{case}");
        mock.delete_async().await;
    }

    // An envelope around nothing is an empty answer, which get_task does not expect.
    let mock = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &json!({"data": null}));
        })
        .await;
    match client.raw().get_task(TASK).await {
        Err(progenitor_client::Error::UnexpectedResponse(response)) => {
            assert_eq!(response.status().as_u16(), 204);
            assert!(!response.headers().contains_key("content-length"));
        }
        other => panic!("{{\"data\": null}}: {other:?}"),
    }
    mock.delete_async().await;

    // A payload that is not a task: the error carries the payload, out of its envelope.
    server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &json!({"data": {"id": 5}}));
        })
        .await;
    match client.raw().get_task(TASK).await {
        Err(progenitor_client::Error::InvalidResponsePayload(payload, _)) => {
            assert_eq!(&payload[..], br#"{"id":5}"#);
        }
        other => panic!("a payload that is not a task: {other:?}"),
    }
}
