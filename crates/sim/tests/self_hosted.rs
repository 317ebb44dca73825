//! The self-hosted dialect, byte for byte where `reference/lowcodeapi.md` gives the bodies.

mod common;

use std::time::Duration;

use common::*;
use lowcodeapi_runwayml_sim::{Dialect, Fault, Route, Simulator, UrlFormats};

async fn sim() -> Simulator {
    Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .manual_clock()
        .epoch(epoch())
        .unauthorized_token("at_nocred")
        .start()
        .await
        .expect("start")
}

const HEADERS_JSON: &str = r#"{"content-type":"application/json; charset=utf-8"}"#;

#[tokio::test]
async fn missing_or_bad_token_is_401_echoing_the_request() {
    let sim = sim().await;
    let raw_request =
        b"GET /runwayml/v1/tasks/id?id=abc&api_token=bad HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n";
    let (status, headers, raw_body) =
        parse_raw(&raw(sim.addr(), raw_request).await.expect("answer"));
    assert_eq!(status, 401);
    assert!(headers.contains(&(
        "content-type".into(),
        "application/json; charset=utf-8".into()
    )));
    assert_eq!(
        String::from_utf8(raw_body).unwrap(),
        r#"{"message":"A valid API token is required to access this API.","provider":"runwayml","error":{"code":401,"logging":{"method":"GET","status_code":401,"message":"A valid API token is required to access this API.","path":"/runwayml/v1/tasks/id","headers":{"host":"sim","connection":"close"},"query":{"id":"abc","api_token":"bad"}}}}"#
    );

    // No token at all: same message, and the query echo is empty.
    let a = send("POST", &sim.url("/v1/image_to_video"), Some(&body())).await;
    assert_eq!(a.status, 401);
    let j = a.json();
    assert_eq!(j["error"]["logging"]["query"], serde_json::json!({}));
    assert_eq!(j["error"]["logging"]["method"], "POST");
    // Headers are read from the query only: a bearer header does not help.
    let a = client()
        .get(sim.url("/v1/tasks/id?id=x"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    assert_eq!(
        a.json::<serde_json::Value>().await.unwrap()["error"]["logging"]["headers"]["authorization"],
        format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn unknown_and_unauthorized_tokens_are_403() {
    let sim = sim().await;
    let a = send(
        "GET",
        &sim.url("/v1/tasks/id?id=x&api_token=at_unknown"),
        None,
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        r#"{"message":"Invalid api_token","provider":"runwayml","error":{"code":403}}"#
    );
    let a = send(
        "GET",
        &sim.url("/v1/tasks/id?id=x&api_token=at_nocred"),
        None,
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        r#"{"message":"No access token is associated with this api_token, authorize your runwayml with LowCodeAPI.","provider":"runwayml","error":{"code":403}}"#
    );
    assert_eq!(sim.accepted_creates(), 0);
}

#[tokio::test]
async fn new_format_is_a_routing_miss_without_token_check() {
    let sim = sim().await;
    let id = create(sim.base_url()).await;
    for url in [
        sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        sim.url(&format!("/v1/tasks/{id}")),
        sim.url("/v1/nothing"),
    ] {
        let a = send("GET", &url, None).await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (404, r#"{"message":"Not Found"}"#)
        );
    }
    let a = send(
        "DELETE",
        &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (404, r#"{"message":"Not Found"}"#)
    );
    assert_eq!(sim.count(Route::NotFound), 4);
    assert!(sim.task(&id).unwrap().removed.is_none());
}

#[tokio::test]
async fn create_get_delete_in_the_old_format() {
    let sim = sim().await;
    let a = send(
        "POST",
        &sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
        Some(&body()),
    )
    .await;
    assert_eq!(a.status, 200);
    let id = a.json()["result"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Request completed","provider":"runwayml","result":{{"id":"{id}"}},"response_headers":{HEADERS_JSON}}}"#
        )
    );
    assert_eq!(
        a.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert!(a.header("retry-after").is_none());

    let get = sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}"));
    let a = send("GET", &get, None).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Request completed","provider":"runwayml","result":{{"id":"{id}","status":"PENDING","createdAt":"{CREATED_AT}"}},"response_headers":{HEADERS_JSON}}}"#
        )
    );

    sim.advance(Duration::from_secs(7));
    let a = send("GET", &get, None).await;
    assert_eq!(
        a.json()["result"],
        serde_json::json!({"id": id, "status": "RUNNING", "createdAt": CREATED_AT, "progress": 0.25})
    );

    sim.advance(Duration::from_secs(15));
    let a = send("GET", &get, None).await;
    // One signed link to the storage host (tests/outputs.rs downloads it).
    let output = a.json()["result"]["output"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        output.starts_with(&format!("{}/outputs/{id}/0.mp4?_jwt=", sim.storage_url())),
        "{}",
        a.body
    );
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Request completed","provider":"runwayml","result":{{"id":"{id}","status":"SUCCEEDED","createdAt":"{CREATED_AT}","output":["{output}"],"cost":{{"credits":50}}}},"response_headers":{HEADERS_JSON}}}"#
        )
    );

    let a = send("DELETE", &get, Some("{}")).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        r#"{"message":"Request completed","provider":"runwayml","result":"","response_headers":{"content-type":"application/json"}}"#
    );

    for method in ["GET", "DELETE"] {
        let a = send(method, &get, None).await;
        assert_eq!(a.status, 404);
        assert_eq!(
            a.body,
            format!(
                r#"{{"message":"Error received from the runwayml API","provider":"runwayml","error":{{"error":"Task not found"}},"headers":{HEADERS_JSON}}}"#
            )
        );
    }
}

#[tokio::test]
async fn paths_ignore_case_and_a_trailing_slash() {
    let sim = sim().await;
    let id = create(sim.base_url()).await;
    let base = format!("http://{}", sim.addr());
    for path in [
        format!("/RunwayML/V1/Tasks/ID/?id={id}&api_token={TOKEN}"),
        format!("/runwayml/v1/tasks/id/?id={id}&api_token={TOKEN}"),
    ] {
        let a = send("GET", &format!("{base}{path}"), None).await;
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_eq!(a.json()["result"]["id"], id.as_str());
    }
    let a = send(
        "POST",
        &format!("{base}/RUNWAYML/v1/Image_To_Video/?api_token={TOKEN}"),
        Some(&body()),
    )
    .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn the_raw_id_is_cut_at_a_question_mark_and_a_missing_id_is_null() {
    let sim = sim().await;
    let id = create(sim.base_url()).await;
    // The server pastes the decoded id into the upstream path unencoded.
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/id?id={id}%3Fx%3D1&api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/id?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(a.status, 404);
    let log = sim.requests();
    assert_eq!(log.last().unwrap().task_id, None);
}

#[tokio::test]
async fn new_format_can_be_switched_on() {
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .url_formats(UrlFormats::Both)
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/{id}?api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["result"]["id"], id.as_str());
}

#[tokio::test]
async fn validation_errors_pass_through_whole() {
    let sim = sim().await;
    let url = sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"));
    let a = send(
        "POST",
        &url,
        Some(r#"{"model":"gen4_turbo","promptImage":"https://example.com/a.jpg","ratio":"1:1","seed":1.5}"#),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Error received from the runwayml API","provider":"runwayml","error":{{"error":"Validation of body failed","issues":[{{"code":"invalid_enum_value","path":["ratio"],"message":"Invalid enum value. Expected '1280:720' | '720:1280' | '1104:832' | '960:960' | '832:1104' | '1584:672', received '1:1'"}},{{"code":"invalid_type","path":["seed"],"message":"Expected integer, received float"}}],"docUrl":"https://docs.dev.runwayml.com/api"}},"headers":{HEADERS_JSON}}}"#
        )
    );

    let a = send(
        "POST",
        &url,
        Some(r#"{"model":"gen3a_turbo","promptImage":"https://example.com/a.jpg"}"#),
    )
    .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Error received from the runwayml API","provider":"runwayml","error":{{"error":"Model variant gen3a_turbo is not available"}},"headers":{HEADERS_JSON}}}"#
        )
    );

    // The flattened shape LowCodeAPI's document describes is not what Runway accepts.
    let a = send(
        "POST",
        &url,
        Some(r#"{"model":"gen4_turbo","uri":"https://example.com/a.jpg","position":"first","ratio":"1280:720"}"#),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["error"]["issues"][0],
        serde_json::json!({"code":"invalid_type","path":["promptImage"],"message":"Required"})
    );
    assert_eq!(sim.accepted_creates(), 0);
}

#[tokio::test]
async fn malformed_json_is_the_servers_own_400() {
    let sim = sim().await;
    let a = send(
        "POST",
        &sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
        Some("{model: 1}"),
    )
    .await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        r#"{"message":"Expected property name or '}' in JSON at position 1"}"#
    );
    // Parsed before routing and before the token check.
    let a = send("POST", &sim.url("/v1/image_to_video"), Some("{\"a\":")).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (400, r#"{"message":"Unexpected end of JSON input"}"#)
    );
    // Without a JSON content type the body is not parsed: it reads as {}.
    let a = client()
        .post(sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")))
        .body(body())
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 400);
    let j: serde_json::Value = a.json().await.unwrap();
    assert_eq!(j["error"]["error"], "Validation of body failed");
}

#[tokio::test]
async fn rate_limit_has_no_header_only_the_body() {
    let sim = sim().await;
    sim.fault(
        Route::CreateTask,
        Fault::RateLimited {
            retry_after: Duration::from_millis(1500),
        },
    );
    let url = sim.url(&format!("/v1/image_to_video?api_token={TOKEN}"));
    let a = send("POST", &url, Some(&body())).await;
    assert_eq!(a.status, 429);
    assert!(a.header("retry-after").is_none());
    assert_eq!(
        a.body,
        r#"{"message":"Error received from the runwayml API","provider":"runwayml","error":{"error":"You have exceeded the rate limit. Please try again later."},"headers":{"content-type":"application/json; charset=utf-8","retry-after":"2"}}"#
    );
    assert_eq!(sim.accepted_creates(), 0);
    assert_eq!(send("POST", &url, Some(&body())).await.status, 200);
    assert_eq!(sim.accepted_creates(), 1);
}

#[tokio::test]
async fn upstream_errors_in_the_envelope() {
    let sim = sim().await;
    let url = sim.url(&format!("/v1/tasks/id?id=x&api_token={TOKEN}"));
    sim.fault(Route::GetTask, Fault::Status(503));
    let a = send("GET", &url, None).await;
    assert_eq!(a.status, 503);
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Error received from the runwayml API","provider":"runwayml","error":{{"error":"Service unavailable"}},"headers":{HEADERS_JSON}}}"#
        )
    );
    sim.fault(
        Route::GetTask,
        Fault::UpstreamText {
            status: 500,
            body: "Internal boom".into(),
        },
    );
    let a = send("GET", &url, None).await;
    assert_eq!(a.status, 500);
    assert_eq!(
        a.body,
        r#"{"message":"Error received from the runwayml API","provider":"runwayml","error":"Internal boom","headers":{"content-type":"text/plain; charset=utf-8"}}"#
    );
    sim.fault(Route::GetTask, Fault::UpstreamUnreachable);
    let a = send("GET", &url, None).await;
    assert_eq!(a.status, 500);
    assert_eq!(
        a.body,
        r#"{"message":"connect ECONNREFUSED 127.0.0.1:443","provider":"runwayml","error":{"message":"connect ECONNREFUSED 127.0.0.1:443"}}"#
    );
}

#[tokio::test]
async fn failed_task_body() {
    let sim = sim().await;
    sim.next_outcome(lowcodeapi_runwayml_sim::Outcome::fail(
        "SAFETY.INPUT.TEXT",
        "The prompt was flagged.",
    ));
    let id = create(sim.base_url()).await;
    sim.advance(Duration::from_secs(60));
    let a = send(
        "GET",
        &sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}")),
        None,
    )
    .await;
    assert_eq!(
        a.body,
        format!(
            r#"{{"message":"Request completed","provider":"runwayml","result":{{"id":"{id}","status":"FAILED","createdAt":"{CREATED_AT}","failure":"The prompt was flagged.","failureCode":"SAFETY.INPUT.TEXT"}},"response_headers":{HEADERS_JSON}}}"#
        )
    );
}
