//! The hosted dialect: `{"data": …}` and `{"data":{"error":{"message","code"}}}`.

mod common;

use std::time::Duration;

use common::*;
use lowcodeapi_runwayml_sim::{
    DEFINITION, Fault, HostedDelete, Route, Simulator, UrlFormat, UrlFormats,
};

async fn sim() -> Simulator {
    Simulator::builder()
        .manual_clock()
        .epoch(epoch())
        .unauthorized_token("at_nocred")
        .start()
        .await
        .expect("start")
}

#[tokio::test]
async fn token_errors() {
    let sim = sim().await;
    let cases = [
        (
            "/v1/tasks/x",
            401,
            r#"{"data":{"error":{"message":"A valid API token is required to access this API.","code":"UNAUTHORIZED"}}}"#,
        ),
        (
            "/v1/tasks/x?api_token=nope",
            401,
            r#"{"data":{"error":{"message":"A valid API token is required to access this API.","code":"UNAUTHORIZED"}}}"#,
        ),
        (
            "/v1/tasks/x?api_token=at_unknown",
            403,
            r#"{"data":{"error":{"message":"Invalid api_token","code":"FORBIDDEN"}}}"#,
        ),
        (
            "/v1/tasks/x?api_token=at_nocred",
            403,
            r#"{"data":{"error":{"message":"No access token is associated with this api_token, authorize your runwayml with LowCodeAPI.","code":"FORBIDDEN"}}}"#,
        ),
    ];
    for (path, status, body) in cases {
        let a = send("GET", &sim.url(path), None).await;
        assert_eq!((a.status, a.body.as_str()), (status, body), "{path}");
    }
}

#[tokio::test]
async fn both_url_formats_reach_the_same_task() {
    let sim = sim().await;
    assert_eq!(sim.url_formats(), UrlFormats::Both);
    let a = send(
        "POST",
        &sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
        Some(&body()),
    )
    .await;
    assert_eq!(a.status, 200);
    let id = a.json()["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(a.body, format!(r#"{{"data":{{"id":"{id}"}}}}"#));

    let pending =
        format!(r#"{{"data":{{"id":"{id}","status":"PENDING","createdAt":"{CREATED_AT}"}}}}"#);
    let new = sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}"));
    let old = sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}"));
    assert_eq!(send("GET", &new, None).await.body, pending);
    assert_eq!(send("GET", &old, None).await.body, pending);
    let formats: Vec<_> = sim.requests().iter().map(|r| r.format).collect();
    assert_eq!(formats, [None, Some(UrlFormat::New), Some(UrlFormat::Old)]);
    assert_eq!(sim.count(Route::GetTask), 2);
}

#[tokio::test]
async fn a_switched_off_format_is_a_routing_miss() {
    let sim = Simulator::builder()
        .url_formats(UrlFormats::NewOnly)
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    // An Old Format request: the routing miss, no token check.
    for url in [
        sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}")),
        sim.url(&format!("/v1/tasks/id?id={id}")),
    ] {
        let a = send("GET", &url, None).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (404, r#"{"message":"Not Found"}"#)
        );
    }
    // Without an `id` parameter, `/v1/tasks/id` is still the Old Format route: Runway is asked
    // for `/v1/tasks/null` and answers 404.
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/id?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(a.status, 404);
    assert_eq!(
        a.body,
        r#"{"data":{"error":{"message":"Task not found","code":"NOT_FOUND"}}}"#
    );

    let sim = Simulator::builder()
        .url_formats(UrlFormats::OldOnly)
        .start()
        .await
        .unwrap();
    let a = send("GET", &sim.url("/v1/tasks/abc"), None).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (404, r#"{"message":"Not Found"}"#)
    );
    // Hosted paths are exact: no case folding.
    let a = send(
        "POST",
        &format!(
            "http://{}/RUNWAYML/v1/image_to_video?api_token={TOKEN}",
            sim.addr()
        ),
        Some(&body()),
    )
    .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn delete_answers_and_then_404() {
    let sim = sim().await;
    let id = create(sim.base_url()).await;
    let url = sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}"));
    let a = send("DELETE", &url, None).await;
    assert_eq!((a.status, a.body.as_str()), (200, r#"{"data":""}"#));
    let gone = r#"{"data":{"error":{"message":"Task not found","code":"NOT_FOUND"}}}"#;
    assert_eq!(send("GET", &url, None).await.body, gone);
    assert_eq!(send("DELETE", &url, None).await.body, gone);

    let sim = Simulator::builder()
        .hosted_delete(HostedDelete::NoContent)
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    let a = send(
        "DELETE",
        &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!((a.status, a.body.as_str()), (204, ""));
    assert!(a.header("content-type").is_none());
}

#[tokio::test]
async fn rate_limit_sends_a_real_header() {
    let sim = sim().await;
    sim.fault(
        Route::GetTask,
        Fault::RateLimited {
            retry_after: Duration::from_secs(3),
        },
    );
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/x?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(a.status, 429);
    assert_eq!(a.header("retry-after"), Some("3"));
    assert_eq!(
        a.body,
        r#"{"data":{"error":{"message":"You have exceeded the rate limit. Please try again later.","code":"RATE_LIMITED"}}}"#
    );
}

#[tokio::test]
async fn upstream_errors_map_to_codes() {
    let sim = sim().await;
    let url = sim.url(&format!("/v1/tasks/x?api_token={TOKEN}"));
    for (status, body) in [
        (
            500,
            r#"{"data":{"error":{"message":"Internal server error","code":"INTERNAL_ERROR"}}}"#,
        ),
        (
            502,
            r#"{"data":{"error":{"message":"Bad gateway","code":"BAD_GATEWAY"}}}"#,
        ),
        (
            503,
            r#"{"data":{"error":{"message":"Service unavailable","code":"SERVICE_UNAVAILABLE"}}}"#,
        ),
        (
            504,
            r#"{"data":{"error":{"message":"Gateway timeout","code":"GATEWAY_TIMEOUT"}}}"#,
        ),
    ] {
        sim.fault(Route::GetTask, Fault::Status(status));
        let a = send("GET", &url, None).await;
        assert_eq!((a.status, a.body.as_str()), (status, body));
    }
    sim.fault(
        Route::GetTask,
        Fault::UpstreamText {
            status: 500,
            body: "Internal boom".into(),
        },
    );
    assert_eq!(
        send("GET", &url, None).await.body,
        r#"{"data":{"error":{"message":"Internal boom","code":"INTERNAL_ERROR"}}}"#
    );
    sim.fault(Route::GetTask, Fault::UpstreamUnreachable);
    assert_eq!(
        send("GET", &url, None).await.body,
        r#"{"data":{"error":{"message":"connect ECONNREFUSED 127.0.0.1:443","code":"INTERNAL_ERROR"}}}"#
    );
}

#[tokio::test]
async fn validation_errors_keep_issues_and_doc_url() {
    let sim = sim().await;
    let url = sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"));
    let a = send(
        "POST",
        &url,
        Some(r#"{"model":"gen4.5","promptImage":[{"uri":"https://example.com/a.jpg","position":"last"}],"ratio":"1280:720"}"#),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        r#"{"data":{"error":{"message":"Validation of body failed","code":"BAD_REQUEST","issues":[{"code":"invalid_literal","path":["promptImage",0,"position"],"message":"Invalid literal value, expected \"first\""},{"code":"invalid_type","path":["promptText"],"message":"Required"},{"code":"invalid_type","path":["duration"],"message":"Required"}],"docUrl":"https://docs.dev.runwayml.com/api"}}}"#
    );
    let a = send("POST", &url, Some(r#"{"model":"gen3a_turbo"}"#)).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (
            403,
            r#"{"data":{"error":{"message":"Model variant gen3a_turbo is not available","code":"FORBIDDEN"}}}"#
        )
    );
    let a = send("POST", &url, Some("not json")).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        r#"{"data":{"error":{"message":"Unexpected token 'o', \"not json\" is not valid JSON","code":"BAD_REQUEST"}}}"#
    );
}

#[tokio::test]
async fn documents_are_served_unwrapped_without_a_token() {
    let sim = sim().await;
    for path in ["/openapi", "/definition"] {
        let a = send("GET", &sim.url(path), None).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body, DEFINITION);
    }
    assert_eq!(sim.count(Route::OpenApi), 1);
    assert_eq!(sim.count(Route::Definition), 1);

    let sim = Simulator::builder()
        .definition(r#"{"openapi":"3.0.0"}"#)
        .start()
        .await
        .unwrap();
    assert_eq!(
        send("GET", &sim.url("/definition"), None).await.body,
        r#"{"openapi":"3.0.0"}"#
    );
}

#[tokio::test]
async fn estimated_cost_when_asked() {
    let sim = Simulator::builder()
        .estimated_cost(true)
        .manual_clock()
        .epoch(epoch())
        .start()
        .await
        .unwrap();
    let a = send(
        "POST",
        &sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
        Some(&body()),
    )
    .await;
    let id = a.json()["data"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a.body,
        format!(r#"{{"data":{{"id":"{id}","estimatedCost":{{"credits":50}}}}}}"#)
    );
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(
        a.body,
        format!(
            r#"{{"data":{{"id":"{id}","status":"PENDING","createdAt":"{CREATED_AT}","estimatedCost":{{"credits":50}}}}}}"#
        )
    );
}
