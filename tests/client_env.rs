//! Requirement 7, environment part: `Client::from_env`. Environment variables are process-global,
//! so this file holds ONE test that changes them sequentially (each test file is its own process).

mod common;

use std::time::Duration;

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::{BASE_URL_ENV, Client, DEFAULT_BASE_URL, Error, TOKEN_ENV, TaskStatus};

fn set(key: &str, value: Option<&str>) {
    // SAFETY: this is the only test in this binary, and nothing else in the process reads or
    // writes the environment while it runs.
    unsafe {
        match value {
            Some(value) => std::env::set_var(key, value),
            None => std::env::remove_var(key),
        }
    }
}

fn config_message(result: Result<Client, Error>) -> String {
    match result {
        Err(Error::Config { message }) => message,
        Err(other) => panic!("expected a Config error, got {other:?}"),
        Ok(client) => panic!("expected a Config error, got {client:?}"),
    }
}

#[tokio::test]
async fn from_env_reads_the_token_and_the_base_url() {
    assert_eq!(TOKEN_ENV, "LOWCODEAPI_API_TOKEN");
    assert_eq!(BASE_URL_ENV, "LOWCODEAPI_BASE_URL");
    let saved = (
        std::env::var(TOKEN_ENV).ok(),
        std::env::var(BASE_URL_ENV).ok(),
    );
    set(BASE_URL_ENV, None);

    // Unset, empty or blank token: an error naming the variable.
    for token in [None, Some(""), Some("  ")] {
        set(TOKEN_ENV, token);
        let message = config_message(Client::from_env());
        assert_eq!(
            message,
            "LOWCODEAPI_API_TOKEN is not set (or empty): set it to your LowCodeAPI token (at_…)",
            "{token:?}"
        );
        let error = Client::from_env_builder().expect_err("no token");
        assert!(
            error.to_string().contains("LOWCODEAPI_API_TOKEN"),
            "{error}"
        );
        assert_clean(&error);
    }

    // A token and no base URL: hosted LowCodeAPI.
    set(TOKEN_ENV, Some(TOKEN));
    let client = Client::from_env().expect("client");
    assert_eq!(client.base_url(), DEFAULT_BASE_URL);
    assert_no_token("Client Debug", &format!("{client:?}"));

    // An empty base URL is ignored too.
    set(BASE_URL_ENV, Some(" "));
    assert_eq!(
        Client::from_env().expect("client").base_url(),
        DEFAULT_BASE_URL
    );

    // A base URL (with a trailing slash): requests go there, with the token.
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            Route::GetNew.at(when, "/runwayml", TASK);
            json(then, 200, &hosted(task_json(TASK, "SUCCEEDED")));
        })
        .await;
    set(
        BASE_URL_ENV,
        Some(&format!("{}/runwayml/", server.base_url())),
    );
    let client = Client::from_env_builder()
        .expect("builder")
        .request_timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    assert_eq!(client.base_url(), format!("{}/runwayml", server.base_url()));
    let task = client.get_task(&task_id()).await.expect("task");
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(get.calls_async().await, 1);

    // A bad base URL from the environment is a Config error, not a panic.
    set(BASE_URL_ENV, Some("ftp://example.com/runwayml"));
    let message = config_message(Client::from_env());
    assert!(message.contains("must use http or https"), "{message}");

    set(TOKEN_ENV, saved.0.as_deref());
    set(BASE_URL_ENV, saved.1.as_deref());
}
