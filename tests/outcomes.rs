//! Every outcome reported as it happened, against the simulator: what a cancel did (cancelled,
//! deleted, not found, unconfirmed), the may-have-been-created caveat on every ambiguous create
//! failure, task ids that collide with the Old Format's literal segment, and Runway's 400 for a
//! missing `X-Runway-Version` header.

mod common;

use std::time::Duration;

use lowcodeapi_runwayml::{
    CancelOutcome, Client, ImageToVideo, Model, PromptImage, Ratio, TaskId, TaskStatus, UrlFormat,
    UrlFormatState,
};
use lowcodeapi_runwayml_sim::{
    DEFAULT_TOKEN, Dialect, Fault, Removal, Route, Simulator, UrlFormat as SimFormat,
};

/// A Runway-shaped id no simulator knows.
const NEVER_CREATED: &str = "0b6f8a52-3c1d-4e7f-9a20-5d4c3b2a1f00";

async fn manual(dialect: Dialect) -> Simulator {
    Simulator::builder()
        .dialect(dialect)
        .manual_clock()
        .start()
        .await
        .expect("start the simulator")
}

fn client(sim: &Simulator) -> Client {
    Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .retry_policy(common::fast_retry().max_retries(1))
        .build()
        .expect("a client")
}

fn request(prompt: &str) -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/first-frame.jpg").unwrap(),
    )
    .prompt_text(prompt)
    .ratio(Ratio::W1280H720)
    .duration(5)
}

const DIALECTS: [Dialect; 2] = [Dialect::Hosted, Dialect::SelfHosted];

// --- cancel --------------------------------------------------------------------------------------

#[tokio::test]
async fn cancelling_a_running_task_says_cancelled() {
    for dialect in DIALECTS {
        let sim = manual(dialect).await;
        let client = client(&sim);
        let created = client.image_to_video(request("a river")).await.unwrap();
        sim.advance(Duration::from_secs(5));

        let outcome = client.cancel_task(&created.id).await.unwrap();

        assert_eq!(
            outcome,
            CancelOutcome::Cancelled {
                was: TaskStatus::Running
            },
            "{dialect:?}"
        );
        assert!(outcome.is_confirmed());
        assert_eq!(outcome.as_str(), "cancelled");
        let info = sim.task(created.id.as_str()).unwrap();
        assert_eq!(info.removed, Some(Removal::Cancelled));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn cancelling_a_finished_task_says_deleted_not_cancelled() {
    for dialect in DIALECTS {
        let sim = manual(dialect).await;
        let client = client(&sim);
        let created = client.image_to_video(request("a meadow")).await.unwrap();
        sim.advance(Duration::from_secs(3600));
        assert_eq!(
            client.get_task(&created.id).await.unwrap().status,
            TaskStatus::Succeeded
        );

        let outcome = client.cancel_task(&created.id).await.unwrap();

        assert_eq!(
            outcome,
            CancelOutcome::Deleted {
                was: TaskStatus::Succeeded
            },
            "{dialect:?}"
        );
        assert_eq!(outcome.as_str(), "deleted");
        let shown = outcome.to_string();
        assert!(shown.starts_with("deleted"), "{shown}");
        assert!(shown.contains("outputs are gone"), "{shown}");
        assert!(!shown.contains("cancelled"), "{shown}");
        // Runway deleted it: the video is gone and the task answers 404.
        let info = sim.task(created.id.as_str()).unwrap();
        assert_eq!(info.removed, Some(Removal::Deleted));
        assert!(
            client
                .get_task(&created.id)
                .await
                .unwrap_err()
                .is_not_found()
        );
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn cancelling_an_id_that_never_existed_is_not_found_and_sends_no_delete() {
    for dialect in DIALECTS {
        let sim = manual(dialect).await;
        let client = client(&sim);
        for id in [NEVER_CREATED, "zz_not_a_uuid"] {
            let outcome = client
                .cancel_task(&TaskId::parse(id).unwrap())
                .await
                .unwrap();

            assert_eq!(outcome, CancelOutcome::NotFound, "{dialect:?} {id}");
            assert!(!outcome.is_confirmed());
            assert_eq!(outcome.as_str(), "not_found");
            assert!(outcome.to_string().contains("nothing was cancelled"));
        }
        assert_eq!(sim.count(Route::DeleteTask), 0, "{:#?}", sim.requests());
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn a_cancel_whose_delete_and_check_both_time_out_is_unknown_and_says_how_to_check() {
    let sim = manual(Dialect::SelfHosted).await;
    let cancel_timeout = Duration::from_millis(800);
    let client = Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .retry_policy(common::fast_retry().max_retries(0))
        .request_timeout(Duration::from_millis(200))
        .cancel_timeout(cancel_timeout)
        .build()
        .unwrap();
    let created = client.image_to_video(request("a lantern")).await.unwrap();
    sim.advance(Duration::from_secs(5));
    sim.fault(Route::DeleteTask, Fault::Hang);

    let cancelling = tokio::spawn({
        let client = client.clone();
        let id = created.id.clone();
        async move { client.cancel_task(&id).await }
    });
    // Once the DELETE hangs, make the check hang too.
    while sim.count(Route::DeleteTask) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sim.fault(Route::GetTask, Fault::Hang);
    let outcome = cancelling.await.unwrap().unwrap();

    let CancelOutcome::Unknown { was, reason } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(*was, TaskStatus::Running);
    assert!(reason.contains("delete_task timed out"), "{reason}");
    assert!(reason.contains("the check failed too"), "{reason}");
    assert!(reason.contains("get_task timed out"), "{reason}");
    let shown = outcome.to_string();
    assert!(shown.contains("was sent"), "{shown}");
    assert!(shown.contains("may still take effect"), "{shown}");
    assert!(!shown.contains(DEFAULT_TOKEN));
    assert_eq!(sim.count(Route::DeleteTask), 1, "never sent twice");
    sim.shutdown().await;
}

// --- ids that are the Old Format's literal segment -----------------------------------------------

#[tokio::test]
async fn an_id_named_id_never_goes_on_the_new_format_nor_settles_it() {
    let sim = manual(Dialect::SelfHosted).await;
    let client = client(&sim);
    for id in ["id", "ID", "Id"] {
        let error = client
            .get_task(&TaskId::parse(id).unwrap())
            .await
            .unwrap_err();
        assert!(error.is_not_found(), "{id}: {error}");
        assert_eq!(client.url_format(), UrlFormatState::Unsettled, "{id}");
        assert_eq!(
            client
                .cancel_task(&TaskId::parse(id).unwrap())
                .await
                .unwrap(),
            CancelOutcome::NotFound
        );
    }
    for r in sim.requests() {
        // Sent as `/v1/tasks/id?id=<id>`: never the bare Old route that makes Runway see `null`.
        assert_eq!(r.format, Some(SimFormat::Old), "{r:#?}");
        let sent = r.query_param("id").map(str::to_ascii_lowercase);
        assert_eq!(sent.as_deref(), Some("id"), "{r:#?}");
    }
    // The client still works: a real task settles the Old Format.
    let created = client.image_to_video(request("a harbour")).await.unwrap();
    client.get_task(&created.id).await.unwrap();
    assert_eq!(client.url_format(), UrlFormatState::Old);
    sim.shutdown().await;

    // Forced New, hosted: `id` still goes Old (its New URL would be the Old route).
    let sim = manual(Dialect::Hosted).await;
    let forced = Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .url_format(UrlFormat::New)
        .build()
        .unwrap();
    let error = forced
        .get_task(&TaskId::parse("ID").unwrap())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
    let requests = sim.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].format, Some(SimFormat::Old));
    assert_eq!(requests[0].query_param("id"), Some("ID"));
    sim.shutdown().await;
}

// --- the create's caveat -------------------------------------------------------------------------

#[tokio::test]
async fn every_ambiguous_create_failure_says_the_task_may_exist() {
    let faults = [
        Fault::Status(502),
        Fault::Status(503),
        Fault::Status(504),
        Fault::Html(502),
        Fault::DropAfterProcessing,
        Fault::Hang,
        Fault::MalformedJson,
    ];
    for dialect in DIALECTS {
        let sim = manual(dialect).await;
        let client = Client::builder()
            .api_token(DEFAULT_TOKEN)
            .base_url(sim.base_url())
            .retry_policy(common::fast_retry())
            .request_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        for fault in &faults {
            sim.fault(Route::CreateTask, fault.clone()).times(1);
            let error = client
                .image_to_video(request("ambiguous"))
                .await
                .unwrap_err();
            sim.clear_faults();
            assert!(
                error.may_have_created_task(),
                "{dialect:?} {fault:?}: {error:?}"
            );
            assert!(!error.is_retryable(), "{dialect:?} {fault:?}");
            let shown = error.to_string();
            assert!(
                shown.contains("the task may have been created"),
                "{dialect:?} {fault:?}: {shown}"
            );
            assert!(!shown.contains("retry later"), "{shown}");
        }
        // Not ambiguous: nothing was created, no caveat.
        sim.fault(Route::CreateTask, Fault::Status(500)).times(1);
        let error = client.image_to_video(request("plain")).await.unwrap_err();
        assert!(!error.may_have_created_task());
        assert!(!error.to_string().contains("may have been created"));
        sim.shutdown().await;
    }
}

// --- Runway's missing X-Runway-Version -----------------------------------------------------------

#[tokio::test]
async fn runways_missing_version_400_says_the_server_in_between_is_at_fault() {
    use common::{Route as Mocked, json, self_hosted_error};
    use httpmock::MockServer;
    let server = MockServer::start_async().await;
    for (wording, route) in [
        ("X-Runway-Version header is required", Mocked::GetOld),
        (
            "The API version that was provided in the x-runway-version header is not valid.",
            Mocked::Create,
        ),
    ] {
        let body = self_hosted_error(
            "Error received from the runwayml API",
            serde_json::json!({"error": wording}),
            serde_json::json!({"content-type": "application/json"}),
        );
        server
            .mock_async(|when, then| {
                route.when(when);
                json(then, 400, &body);
            })
            .await;
    }
    let client = common::client(&server, UrlFormat::Old);

    let errors = [
        client.get_task(&common::task_id()).await.unwrap_err(),
        client
            .image_to_video(common::create_body())
            .await
            .unwrap_err(),
    ];
    for error in errors {
        let api = error.api().expect("an API error");
        assert!(api.is_runway_version_rejected(), "{error:?}");
        let shown = error.to_string();
        assert!(shown.contains("LowCodeAPI server in between"), "{shown}");
        assert!(shown.contains("nothing in the request is wrong"), "{shown}");
        assert!(!shown.contains("fix the request"), "{shown}");
        common::assert_clean(&error);
    }
}

#[tokio::test]
async fn other_400s_still_say_fix_the_request() {
    let sim = manual(Dialect::SelfHosted).await;
    let client = client(&sim);
    let error = client
        .image_to_video(request("x").skip_validation().duration(99))
        .await
        .unwrap_err();
    let api = error.api().expect("an API error");
    assert_eq!(api.status, 400);
    assert!(!api.is_runway_version_rejected());
    assert!(error.to_string().contains("fix the request"), "{error}");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_server_that_does_not_forward_the_version_gets_the_hint_on_every_call() {
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .manual_clock()
        .forward_runway_version(false)
        .start()
        .await
        .unwrap();
    let client = client(&sim);
    let create = client.image_to_video(request("x")).await.unwrap_err();
    let get = client
        .get_task(&TaskId::parse(NEVER_CREATED).unwrap())
        .await
        .unwrap_err();
    for error in [create, get] {
        assert_eq!(error.status(), Some(400), "{error}");
        assert!(
            error.api().unwrap().is_runway_version_rejected(),
            "{error:?}"
        );
        let shown = error.to_string();
        assert!(
            shown.contains("does not send the header") || shown.contains("did not send"),
            "{shown}"
        );
        assert!(shown.contains("nothing in the request is wrong"), "{shown}");
    }
    sim.shutdown().await;
}
