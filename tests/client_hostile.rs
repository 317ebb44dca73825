//! A broken or hostile server in LowCodeAPI's place: bodies are bounded (decoded), redirects never
//! leave the base URL's origin and never re-send a create, and a plain-http base URL to another
//! host is warned about.

mod common;
mod hostile;

use common::{TASK, TOKEN, assert_clean, assert_no_token, builder, create_body, task_id};
use hostile::{Tiny, gzip_bomb, http, http_until_close};
use std::sync::atomic::{AtomicUsize, Ordering};

use lowcodeapi_runwayml::{CancelOutcome, Client, Error, RetryPolicy, TransportKind, UrlFormat};

fn client(server: &Tiny) -> Client {
    builder(server.base())
        .url_format(UrlFormat::New)
        .build()
        .expect("client")
}

fn hosted_task() -> Vec<u8> {
    format!(r#"{{"data":{{"id":"{TASK}","status":"SUCCEEDED","createdAt":"2026-11-28T10:00:00.000Z","output":["https://example.com/v.mp4"]}}}}"#).into_bytes()
}

/// The error is a refusal of `kind`, one clean line, not retryable.
fn refused(error: &Error, kind: TransportKind) -> String {
    let display = assert_clean(error);
    assert!(
        matches!(error, Error::Transport(t) if t.kind == kind),
        "expected {kind:?}, got {error:?}"
    );
    assert!(!error.is_retryable(), "{display}");
    display
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_at_the_limit_and_not_retried() {
    let bomb = gzip_bomb(1024);
    assert!(bomb.len() < 1100 * 1024, "1 GiB of zeros in about 1 MiB");
    let server = Tiny::start(move |_| {
        http(
            200,
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
            &bomb,
        )
    })
    .await;
    let client = client(&server);
    let error = client.get_task(&task_id()).await.expect_err("refused");
    let display = refused(&error, TransportKind::ResponseTooLarge);
    assert_eq!(error.task_id(), Some(&task_id()));
    assert!(display.contains("8 MiB limit"), "{display}");
    assert!(display.contains("max_response_bytes"), "{display}");
    assert!(display.contains(TASK), "{display}");
    assert_eq!(server.hits(), 1, "not retried");
}

#[tokio::test]
async fn an_oversized_body_is_refused_whether_or_not_its_length_is_declared() {
    // The first GET and every DELETE get the oversized body; later GETs (the cancel's look and
    // check) an ordinary running task.
    let oversized = |declared: bool| {
        let gets = AtomicUsize::new(0);
        let big = vec![b' '; 256 * 1024];
        move |seen: &hostile::Seen| {
            if seen.method == "GET" && gets.fetch_add(1, Ordering::SeqCst) > 0 {
                let running = String::from_utf8(hosted_task())
                    .expect("utf-8")
                    .replace("SUCCEEDED", "RUNNING");
                return http(
                    200,
                    &[("content-type", "application/json")],
                    running.as_bytes(),
                );
            }
            if declared {
                http(200, &[("content-type", "application/json")], &big)
            } else {
                http_until_close(500, &[("content-type", "text/html")], &big)
            }
        }
    };
    let declared = Tiny::start(oversized(true)).await;
    let undeclared = Tiny::start(oversized(false)).await;
    for (server, what) in [(&declared, "declared"), (&undeclared, "until close")] {
        let client = builder(server.base())
            .url_format(UrlFormat::New)
            .max_response_bytes(64 * 1024)
            .build()
            .expect("client");
        let error = client.get_task(&task_id()).await.expect_err(what);
        let display = refused(&error, TransportKind::ResponseTooLarge);
        assert!(display.contains("64 KiB limit"), "{what}: {display}");
        assert_eq!(server.hits(), 1, "{what}: not retried");
        // The DELETE's answer is refused: it may have been processed, so the task is checked
        // (still running) and the outcome says why it is unknown.
        match client.cancel_task(&task_id()).await {
            Ok(CancelOutcome::Unknown { reason, .. }) => {
                assert!(reason.contains("64 KiB limit"), "{what}: {reason}");
                assert_no_token("the reason", &reason);
            }
            other => panic!("{what}: {other:?}"),
        }
        let methods: Vec<String> = server.seen().into_iter().map(|s| s.method).collect();
        assert_eq!(
            methods,
            ["GET", "GET", "DELETE", "GET"],
            "{what}: not retried"
        );
    }
    // Just under the limit is an ordinary answer.
    let fits = Tiny::start(|_| {
        let mut body = hosted_task();
        body.truncate(body.len() - 2);
        body.extend_from_slice(br#","padding":""#);
        body.resize(64 * 1024 - 3, b'x');
        body.extend_from_slice(br#""}}"#);
        http(200, &[("content-type", "application/json")], &body)
    })
    .await;
    let client = builder(fits.base())
        .url_format(UrlFormat::New)
        .max_response_bytes(64 * 1024)
        .build()
        .expect("client");
    client
        .get_task(&task_id())
        .await
        .expect("a body at the limit");
}

#[tokio::test]
async fn an_oversized_answer_to_a_create_may_have_created_the_task() {
    let server = Tiny::start(|_| http(200, &[], &vec![b'x'; 100_000])).await;
    let client = builder(server.base())
        .max_response_bytes(50_000)
        .retry_policy(RetryPolicy::default().max_retries(3))
        .build()
        .expect("client");
    let error = client
        .image_to_video(create_body())
        .await
        .expect_err("refused");
    let display = refused(&error, TransportKind::ResponseTooLarge);
    assert!(error.may_have_created_task(), "{display}");
    assert!(display.contains("may have been created"), "{display}");
    assert_eq!(server.hits(), 1);
}

/// The base URL's server redirects every request to `other` (keeping the query, token and all,
/// as many redirects do) with `status`.
async fn redirecting_to(other: &Tiny, status: u16) -> Tiny {
    let target = other.origin();
    Tiny::start(move |seen| {
        let location = format!("{target}{}", seen.target);
        http(status, &[("location", &location)], b"")
    })
    .await
}

#[tokio::test]
async fn no_request_follows_a_redirect_to_another_origin() {
    let other = Tiny::start(|_| http(200, &[], &hosted_task())).await;
    for status in [301, 302, 303, 307, 308] {
        let server = redirecting_to(&other, status).await;
        let client = client(&server);
        let get = client.get_task(&task_id()).await.expect_err("get");
        let cancel = client.cancel_task(&task_id()).await.expect_err("cancel");
        let create = client
            .image_to_video(create_body())
            .await
            .expect_err("create");
        for (error, what) in [(&get, "get"), (&cancel, "cancel"), (&create, "create")] {
            let display = refused(error, TransportKind::RedirectRefused);
            assert!(
                display.contains(&format!("to {}/runwayml/v1/", other.origin())),
                "{what} {status}: says where it pointed: {display}"
            );
            assert!(
                display.contains("another origin"),
                "{what} {status}: says why: {display}"
            );
            assert!(!display.contains("api_token"), "{what}: {display}");
        }
        assert_eq!(get.task_id(), Some(&task_id()));
        assert_eq!(cancel.task_id(), Some(&task_id()));
        assert!(!create.may_have_created_task());
        assert_eq!(
            server.hits(),
            3,
            "{status}: one request per call, none repeated"
        );
        assert_eq!(
            other.hits(),
            0,
            "{status}: the other origin received nothing"
        );
    }
}

#[tokio::test]
async fn a_create_is_never_sent_again_because_of_a_redirect() {
    let server = Tiny::start(|seen| {
        if seen.method == "POST" {
            http(
                307,
                &[("location", "/runwayml/v1/image_to_video_again")],
                b"",
            )
        } else {
            http(404, &[], b"")
        }
    })
    .await;
    let client = client(&server);
    let error = client
        .image_to_video(create_body())
        .await
        .expect_err("refused");
    let display = refused(&error, TransportKind::RedirectRefused);
    assert!(display.contains("never sent again"), "{display}");
    assert!(!error.may_have_created_task());
    assert_eq!(server.hits(), 1);
}

#[tokio::test]
async fn same_origin_redirects_are_followed_with_the_token_and_bounded() {
    // A moved route: the Location drops the query, the token is put back.
    let moved = Tiny::start(|seen| {
        if seen.target.starts_with("/runwayml/v1/") {
            http(
                301,
                &[("location", &format!("/runwayml/v2/tasks/{TASK}"))],
                b"",
            )
        } else {
            http(200, &[("content-type", "application/json")], &hosted_task())
        }
    })
    .await;
    let task = client(&moved).get_task(&task_id()).await.expect("followed");
    assert_eq!(task.id, task_id());
    let seen = moved.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[1].target,
        format!("/runwayml/v2/tasks/{TASK}?api_token={TOKEN}")
    );
    // A loop: five redirects are followed, the sixth is refused.
    let looping = Tiny::start(|seen| {
        let location = format!("{}x", seen.target.split('?').next().unwrap_or_default());
        http(302, &[("location", &location)], b"")
    })
    .await;
    let error = client(&looping)
        .get_task(&task_id())
        .await
        .expect_err("too many");
    let display = refused(&error, TransportKind::RedirectRefused);
    assert!(display.contains("more than 5 redirects"), "{display}");
    assert_eq!(looping.hits(), 6);
}

#[tokio::test]
async fn a_client_passed_in_that_follows_redirects_is_caught_after_the_fact() {
    let other = Tiny::start(|_| http(200, &[], &hosted_task())).await;
    let server = redirecting_to(&other, 307).await;
    let client = builder(server.base())
        .url_format(UrlFormat::New)
        .http_client(reqwest::Client::new())
        .build()
        .expect("client");
    let error = client.get_task(&task_id()).await.expect_err("refused");
    let display = refused(&error, TransportKind::RedirectRefused);
    assert!(display.contains("Policy::none()"), "{display}");
    // Documented: reqwest followed it before the hooks saw the answer.
    assert_eq!(other.hits(), 1);
    // With redirects off, the client passed in is as safe as one built here.
    let client = builder(server.base())
        .url_format(UrlFormat::New)
        .http_client(
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("reqwest client"),
        )
        .build()
        .expect("client");
    let error = client.get_task(&task_id()).await.expect_err("refused");
    refused(&error, TransportKind::RedirectRefused);
    assert_eq!(other.hits(), 1, "nothing more reached the other origin");
}

#[test]
fn a_plain_http_base_url_off_loopback_is_warned_about_once() {
    let warnings = |base: &str| -> String {
        let capture = common::Capture::default();
        let _guard = tracing::subscriber::set_default(capture.subscriber());
        Client::builder()
            .api_token(TOKEN)
            .base_url(base)
            .build()
            .expect("client");
        capture.text()
    };
    let text = warnings("http://api.example.com/runwayml");
    assert_eq!(text.matches("unencrypted").count(), 1, "{text}");
    assert!(text.contains("WARN"), "{text}");
    assert_no_token("the warning", &text);
    for quiet in [
        "https://api.example.com/runwayml",
        "http://127.0.0.1:8080/runwayml",
        "http://localhost:8080/runwayml",
        "http://[::1]:8080/runwayml",
    ] {
        let text = warnings(quiet);
        assert!(!text.contains("unencrypted"), "{quiet}: {text}");
    }
}
