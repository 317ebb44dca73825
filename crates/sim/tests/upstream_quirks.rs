//! What a cancel, a task named `id` and a server that drops `X-Runway-Version` look like on the
//! wire, in both dialects.

mod common;

use std::time::Duration;

use common::*;
use lowcodeapi_runwayml_sim::{
    Dialect, MISSING_VERSION_MESSAGE, Removal, Route, Simulator, UrlFormat, UrlFormats,
};

const SELF_HOSTED_404: &str = r#"{"message":"Error received from the runwayml API","provider":"runwayml","error":{"error":"Task not found"},"headers":{"content-type":"application/json; charset=utf-8"}}"#;
const HOSTED_404: &str = r#"{"data":{"error":{"message":"Task not found","code":"NOT_FOUND"}}}"#;

async fn start(dialect: Dialect, formats: UrlFormats) -> Simulator {
    Simulator::builder()
        .dialect(dialect)
        .url_formats(formats)
        .manual_clock()
        .epoch(epoch())
        .start()
        .await
        .expect("start")
}

/// The URL of task `id` in the format the simulator routes (Old when it routes both).
fn task_url(sim: &Simulator, id: &str) -> String {
    if sim.url_formats().allows(UrlFormat::Old) {
        sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}"))
    } else {
        sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}"))
    }
}

fn not_found(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Hosted => HOSTED_404,
        Dialect::SelfHosted => SELF_HOSTED_404,
    }
}

#[tokio::test]
async fn delete_cancels_a_running_task_and_deletes_a_finished_one_in_both_dialects() {
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = start(dialect, UrlFormats::default_for(dialect)).await;
        let finished = create(sim.base_url()).await;
        sim.advance(Duration::from_secs(60));
        let running = create(sim.base_url()).await;
        sim.advance(Duration::from_secs(5));

        for (id, removal, status) in [
            (&running, Removal::Cancelled, "CANCELLED"),
            (&finished, Removal::Deleted, "SUCCEEDED"),
        ] {
            let url = task_url(&sim, id);
            assert_eq!(send("DELETE", &url, None).await.status, 200, "{dialect}");
            let info = sim.task(id).unwrap();
            assert_eq!(info.removed, Some(removal), "{dialect}");
            assert_eq!(info.status, status, "{dialect}");
            // Either way the task is gone: Runway's 404, in the dialect's envelope.
            let a = send("GET", &url, None).await;
            assert_eq!((a.status, a.body.as_str()), (404, not_found(dialect)));
        }
    }
}

#[tokio::test]
async fn delete_of_an_unknown_id_is_runways_404_in_the_dialects_envelope() {
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = start(dialect, UrlFormats::default_for(dialect)).await;
        for id in ["6b0c1a4e-8a4f-4d8e-9a57-2f1f4f0c9d11", "zz_not_a_uuid"] {
            let a = send("DELETE", &task_url(&sim, id), None).await;
            assert_eq!((a.status, a.body.as_str()), (404, not_found(dialect)));
            assert_eq!(sim.requests().last().unwrap().task_id.as_deref(), Some(id));
        }
        assert_eq!(sim.accepted_creates(), 0);
    }
}

#[tokio::test]
async fn a_task_called_id_on_the_new_format_hits_the_old_route_and_runway_sees_null() {
    for formats in [UrlFormats::Both, UrlFormats::OldOnly] {
        let sim = start(Dialect::SelfHosted, formats).await;
        create(sim.base_url()).await;
        for (method, segment) in [
            ("GET", "id"),
            ("GET", "ID"),
            ("GET", "Id/"),
            ("DELETE", "id"),
            ("DELETE", "iD"),
        ] {
            let url = sim.url(&format!("/v1/tasks/{segment}?api_token={TOKEN}"));
            let a = send(method, &url, None).await;
            // A provider 404 (with `provider`), not the routing miss.
            assert_eq!(
                (a.status, a.body.as_str()),
                (404, SELF_HOSTED_404),
                "{formats} {method} {segment}"
            );
            let logged = sim.requests().pop().unwrap();
            let route = if method == "GET" {
                Route::GetTask
            } else {
                Route::DeleteTask
            };
            assert_eq!(logged.route, route);
            assert_eq!(logged.format, Some(UrlFormat::Old));
            assert_eq!(
                logged.task_id, None,
                "no id parameter: Runway is asked for null"
            );
        }
        // The real task is untouched.
        assert_eq!(sim.tasks()[0].removed, None);
        assert_eq!(sim.tasks()[0].delete_calls, 0);
    }
}

#[tokio::test]
async fn a_task_called_id_reaches_runway_as_id_where_only_the_new_format_is_routed() {
    let sim = start(Dialect::SelfHosted, UrlFormats::NewOnly).await;
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/id?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!((a.status, a.body.as_str()), (404, SELF_HOSTED_404));
    let logged = sim.requests().pop().unwrap();
    assert_eq!(logged.format, Some(UrlFormat::New));
    assert_eq!(logged.task_id.as_deref(), Some("id"));
}

#[tokio::test]
async fn without_the_version_header_runway_refuses_every_call_in_the_dialects_envelope() {
    const RUNWAY: &str = r#"{"error":"The X-Runway-Version header was not provided in the request.","docUrl":"https://docs.dev.runwayml.com/api"}"#;
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = Simulator::builder()
            .dialect(dialect)
            .manual_clock()
            .forward_runway_version(false)
            .start()
            .await
            .unwrap();
        let expected = match dialect {
            Dialect::Hosted => format!(
                r#"{{"data":{{"error":{{"message":"{MISSING_VERSION_MESSAGE}","code":"BAD_REQUEST","docUrl":"https://docs.dev.runwayml.com/api"}}}}}}"#
            ),
            Dialect::SelfHosted => format!(
                r#"{{"message":"Error received from the runwayml API","provider":"runwayml","error":{RUNWAY},"headers":{{"content-type":"application/json; charset=utf-8"}}}}"#
            ),
        };
        let create_url = sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"));
        let a = send("POST", &create_url, Some(&body())).await;
        assert_eq!((a.status, a.body.as_str()), (400, expected.as_str()));
        for method in ["GET", "DELETE"] {
            let a = send(method, &task_url(&sim, "abc"), None).await;
            assert_eq!((a.status, a.body.as_str()), (400, expected.as_str()));
        }
        // Nothing reached Runway's state; the proxy's own checks still come first.
        assert_eq!(sim.accepted_creates(), 0);
        let a = send("GET", &sim.url("/v1/tasks/id?id=abc"), None).await;
        assert_eq!(a.status, 401);
        let a = send("GET", &sim.url("/openapi"), None).await;
        assert_eq!(a.status, 200);
    }
}
