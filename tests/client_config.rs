//! Requirement 7: configuration. Builder errors are clear Config errors; the base URL is checked
//! and normalised; every request carries the user agent and exactly one `api_token`; the client
//! is Send + Sync + Clone; bad task ids never reach the wire. (Environment variables are tested
//! in `client_env.rs`, alone in their process.)

mod common;

use std::time::Duration;

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::{
    Client, ClientBuilder, DEFAULT_BASE_URL, Error, MAX_TASK_ID_LEN, RetryPolicy, TaskId,
    TaskStatus, USER_AGENT, UrlFormat,
};
use serde_json::json;

// The client is Send + Sync + Clone (+ 'static), and so is its builder; errors can cross
// threads and box into `dyn Error + Send + Sync`. Checked at compile time.
const _: () = {
    const fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    const fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_shareable::<Client>();
    assert_shareable::<ClientBuilder>();
    assert_error::<Error>();
};

fn config_message(result: Result<Client, Error>) -> String {
    match result {
        Err(Error::Config { message }) => {
            assert!(!message.contains('\n'));
            message
        }
        Err(other) => panic!("expected a Config error, got {other:?}"),
        Ok(client) => panic!("expected a Config error, got {client:?}"),
    }
}

#[test]
fn a_builder_without_a_token_says_how_to_set_one() {
    let message = config_message(Client::builder().base_url("http://127.0.0.1:9").build());
    assert_eq!(
        message,
        "no API token: call ClientBuilder::api_token or set LOWCODEAPI_API_TOKEN"
    );
    let error = Client::builder().build().expect_err("no token");
    assert_eq!(
        error.to_string(),
        "configuration error: no API token: call ClientBuilder::api_token or set LOWCODEAPI_API_TOKEN"
    );
}

#[test]
fn an_empty_token_is_rejected() {
    for token in ["", "   ", "\t\n"] {
        let message = config_message(Client::builder().api_token(token).build());
        assert_eq!(message, "the API token is empty", "{token:?}");
    }
}

#[test]
fn bad_base_urls_are_rejected() {
    let build = |url: &str| Client::builder().api_token(TOKEN).base_url(url).build();

    for url in ["not a url", "", "api.lowcodeapi.com/runwayml", "http//x"] {
        let message = config_message(build(url));
        assert!(
            message.contains("is not a valid URL") && message.contains(DEFAULT_BASE_URL),
            "{url:?}: {message}"
        );
    }
    for url in [
        "ftp://example.com/runwayml",
        "file:///tmp/runwayml",
        "ws://example.com",
    ] {
        let message = config_message(build(url));
        assert!(
            message.contains("must use http or https"),
            "{url:?}: {message}"
        );
    }
    for url in [
        "https://api.lowcodeapi.com/runwayml?x=1",
        "https://api.lowcodeapi.com/runwayml?",
        "https://api.lowcodeapi.com/runwayml#frag",
    ] {
        let message = config_message(build(url));
        assert!(
            message.contains("must not carry a query or fragment"),
            "{url:?}: {message}"
        );
    }
}

#[test]
fn the_default_base_url_is_hosted_lowcodeapi() {
    let client = Client::builder().api_token(TOKEN).build().expect("client");
    assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    assert_eq!(DEFAULT_BASE_URL, "https://api.lowcodeapi.com/runwayml");
}

#[tokio::test]
async fn a_trailing_slash_is_tolerated() {
    for suffix in ["/runwayml/", "/runwayml//", "/runwayml", " /runwayml/ "] {
        let server = MockServer::start_async().await;
        let get = server
            .mock_async(|when, then| {
                Route::GetNew.at(when, "/runwayml", TASK);
                json(then, 200, &hosted(task_json(TASK, "RUNNING")));
            })
            .await;
        let create = server
            .mock_async(|when, then| {
                Route::Create.at(when, "/runwayml", TASK);
                json(then, 200, &hosted(json!({"id": TASK})));
            })
            .await;
        let doubled = server
            .mock_async(|when, then| {
                when.path_includes("//");
                then.status(500);
            })
            .await;
        let base = format!("{}{}", server.base_url(), suffix.trim());
        let client = builder(format!(" {base}"))
            .url_format(UrlFormat::New)
            .build()
            .expect("client");

        assert_eq!(
            client.base_url(),
            format!("{}/runwayml", server.base_url()),
            "{suffix:?}"
        );
        client.get_task(&task_id()).await.expect("get");
        client.image_to_video(create_body()).await.expect("create");
        assert_eq!(get.calls_async().await, 1, "{suffix:?}");
        assert_eq!(create.calls_async().await, 1, "{suffix:?}");
        assert_eq!(doubled.calls_async().await, 0, "no '//' in any path");
    }
}

#[tokio::test]
async fn every_request_carries_the_user_agent_and_one_api_token() {
    assert_eq!(
        USER_AGENT,
        format!("lowcodeapi-runwayml/{}", env!("CARGO_PKG_VERSION"))
    );
    // A token that needs encoding in a query: it must arrive intact, as one parameter.
    let token = "at_a+b&c=d e/%";
    let server = MockServer::start_async().await;
    let tagged = |when: httpmock::When| {
        when.header("user-agent", USER_AGENT)
            .query_param("api_token", token)
            .query_param_count("^api_token$", ".*", 1)
    };
    let get_new = server
        .mock_async(|when, then| {
            tagged(when).method("GET").path(format!("/v1/tasks/{TASK}"));
            raw(then, 404, "application/json", ROUTING_MISS);
        })
        .await;
    let get_old = server
        .mock_async(|when, then| {
            tagged(when)
                .method("GET")
                .path("/v1/tasks/id")
                .query_param("id", TASK);
            // Rate limited once (retries must carry both too), then the task.
            json(then, 429, &json!({"error": "slow down"})).up_to_n_times(1);
        })
        .await;
    let get_old_ok = server
        .mock_async(|when, then| {
            tagged(when)
                .method("GET")
                .path("/v1/tasks/id")
                .query_param("id", TASK);
            json(then, 200, &self_hosted(task_json(TASK, "RUNNING")));
        })
        .await;
    let delete = server
        .mock_async(|when, then| {
            tagged(when)
                .method("DELETE")
                .path("/v1/tasks/id")
                .query_param("id", TASK);
            json(then, 200, &self_hosted(json!("")));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            tagged(when).method("POST").path("/v1/image_to_video");
            json(then, 200, &self_hosted(json!({"id": TASK})));
        })
        .await;
    let untagged = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(599);
        })
        .await;
    let client = Client::builder()
        .api_token(token)
        .base_url(server.base_url())
        .retry_policy(fast_retry())
        .build()
        .expect("client");

    let task = client.get_task(&task_id()).await.expect("get");
    assert_eq!(task.status, TaskStatus::Running);
    client.cancel_task(&task_id()).await.expect("cancel");
    client.image_to_video(create_body()).await.expect("create");
    client
        .raw()
        .get_task_old_format(TASK)
        .await
        .expect("raw get");

    assert_eq!(get_new.calls_async().await, 1);
    assert_eq!(get_old.calls_async().await, 1);
    // The get, the cancel's look before its DELETE, the raw get.
    assert_eq!(get_old_ok.calls_async().await, 3);
    assert_eq!(delete.calls_async().await, 1);
    assert_eq!(create.calls_async().await, 1);
    assert_eq!(
        untagged.calls_async().await,
        0,
        "a request without the user agent or with no/several api_token"
    );
}

#[tokio::test]
async fn a_custom_http_client_still_gets_the_user_agent_token_and_request_timeout() {
    let server = MockServer::start_async().await;
    let slow = server
        .mock_async(|when, then| {
            Route::GetNew.when(when).header("user-agent", USER_AGENT);
            json(then, 200, &hosted(task_json(TASK, "RUNNING"))).delay(Duration::from_secs(3));
        })
        .await;
    let http = reqwest::Client::builder()
        .user_agent("someone-else/1.0")
        .build()
        .expect("reqwest client");
    let client = builder(server.base_url())
        .http_client(http)
        .request_timeout(Duration::from_millis(150))
        .retry_policy(RetryPolicy::none())
        .url_format(UrlFormat::New)
        .build()
        .expect("client");
    let started = std::time::Instant::now();

    let error = expect_err(client.get_task(&task_id()).await);

    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(slow.calls_async().await, 1);
}

#[tokio::test]
async fn client_futures_are_send_and_clones_work_across_tasks() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task_json(TASK, "PENDING")));
        })
        .await;
    let client = client(&server, UrlFormat::New);

    let spawned = tokio::spawn({
        let client = client.clone();
        async move { client.get_task(&task_id()).await }
    });
    let task = spawned.await.expect("joined").expect("task");
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(get.calls_async().await, 1);
}

#[tokio::test]
async fn bad_task_ids_never_reach_the_wire() {
    let server = MockServer::start_async().await;
    let anything = server
        .mock_async(|when, then| {
            when.any_request();
            json(then, 200, &hosted(task_json(TASK, "RUNNING")));
        })
        .await;
    let client = client(&server, UrlFormat::Auto);
    let too_long = "a".repeat(MAX_TASK_ID_LEN + 1);
    let bad = [
        "",
        "a/b",
        "../tasks",
        "a?b",
        "a?id=other",
        "a#b",
        "a%2Fb",
        "%",
        "a b",
        " ",
        "a\tb",
        "a\n",
        "é",
        "a.b",
        too_long.as_str(),
    ];

    for id in bad {
        for op in 0..3 {
            let result = async {
                let id = TaskId::parse(id)?;
                match op {
                    0 => client.get_task(&id).await.map(drop),
                    1 => client.cancel_task(&id).await.map(drop),
                    _ => client
                        .raw()
                        .get_task(id.as_str())
                        .await
                        .map(drop)
                        .map_err(|_| unreachable!("a request was made")),
                }
            }
            .await;
            let error = expect_err(result);
            match &error {
                Error::InvalidTaskId { id: shown, reason } => {
                    assert!(shown.chars().count() <= 41, "{shown:?}");
                    assert!(!reason.is_empty());
                }
                other => panic!("{id:?}: expected InvalidTaskId, got {other:?}"),
            }
        }
        assert!(id.parse::<TaskId>().is_err(), "{id:?}");
        assert!(
            serde_json::from_value::<TaskId>(json!(id)).is_err(),
            "{id:?} deserialised"
        );
    }
    assert_eq!(anything.calls_async().await, 0, "no request was sent");

    // The longest allowed id, and the usual shapes, are fine.
    for id in [
        "a".repeat(MAX_TASK_ID_LEN),
        TASK.to_owned(),
        "task_01".to_owned(),
    ] {
        client
            .get_task(&TaskId::parse(&id).expect("valid"))
            .await
            .expect("sent");
    }
    assert_eq!(anything.calls_async().await, 3);
}
