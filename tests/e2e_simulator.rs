//! End to end through the SDK against the simulator, for every LowCodeAPI dialect × URL-format
//! combination: create, wait, failure, cancel, URL-format settling, a 429 burst and the
//! self-hosted DELETE that never answers.
//!
//! Simulated time runs on a manual clock (moved with `sim.advance`) or 200× faster than real
//! time, so the whole file takes a few seconds.

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use lowcodeapi_runwayml::{
    CancelOutcome, Client, Error, ImageToVideo, Model, PromptImage, Ratio, TaskStatus,
    UrlFormatState,
};
use lowcodeapi_runwayml_sim::{
    DEFAULT_TOKEN, Dialect, Fault, Outcome, Removal, Route, Simulator, UrlFormat, UrlFormats,
};

/// Polling this fast is for the simulator only (Runway asks for 5 s or more).
const POLL: Duration = Duration::from_millis(20);
/// No wait in this file should come near this.
const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// A simulator whose clock moves only with `sim.advance`.
async fn manual(dialect: Dialect, formats: UrlFormats) -> Simulator {
    Simulator::builder()
        .dialect(dialect)
        .url_formats(formats)
        .manual_clock()
        .start()
        .await
        .expect("start the simulator")
}

/// A simulator 200× faster than real time: the default 22-second task takes 110 ms.
async fn fast(dialect: Dialect, formats: UrlFormats) -> Simulator {
    Simulator::builder()
        .dialect(dialect)
        .url_formats(formats)
        .time_scale(200.0)
        .start()
        .await
        .expect("start the simulator")
}

fn client(sim: &Simulator) -> Client {
    Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
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

/// The format a client should settle on.
fn expected_format(formats: UrlFormats) -> (UrlFormatState, UrlFormat) {
    match formats {
        UrlFormats::OldOnly => (UrlFormatState::Old, UrlFormat::Old),
        _ => (UrlFormatState::New, UrlFormat::New),
    }
}

/// Create → wait → SUCCEEDED with the output, having seen it run on the way.
async fn create_and_wait_succeeds(dialect: Dialect, formats: UrlFormats) {
    let sim = fast(dialect, formats).await;
    let client = client(&sim);
    let created = client.image_to_video(request("a slow pan")).await.unwrap();

    let mut seen = Vec::new();
    let mut watch = client
        .watch(&created)
        .poll_interval(POLL)
        .timeout(WAIT_LIMIT);
    while let Some(step) = watch.next().await {
        seen.push(step.unwrap().status);
    }
    assert_eq!(seen.last(), Some(&TaskStatus::Succeeded), "{seen:?}");
    assert!(
        seen.iter()
            .any(|s| matches!(s, TaskStatus::Pending | TaskStatus::Running)),
        "{seen:?}"
    );

    let task = client
        .wait(&created)
        .poll_interval(POLL)
        .timeout(WAIT_LIMIT)
        .await
        .unwrap();
    assert_eq!(task.id, created.id);
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(task.output.len(), 1);
    // Outputs are served by the simulator's own storage host, another origin than the API.
    assert!(
        task.output[0].starts_with(&format!("{}/outputs/", sim.storage_url())),
        "{:?}",
        task.output
    );
    assert!(task.output[0].contains(created.id.as_str()));
    assert!(task.cost.is_some());

    let info = sim.task(created.id.as_str()).unwrap();
    assert_eq!(info.status, "SUCCEEDED");
    assert_eq!(info.prompt_text.as_deref(), Some("a slow pan"));
    assert_eq!(sim.accepted_creates(), 1);
    sim.shutdown().await;
}

/// A FAILED outcome ends the wait with Error::TaskFailed carrying the failure code.
async fn failed_task_is_an_error_with_its_code(dialect: Dialect, formats: UrlFormats) {
    let sim = manual(dialect, formats).await;
    let client = client(&sim);
    sim.next_outcome(Outcome::fail(
        "INTERNAL.BAD_OUTPUT.CODE01",
        "The output did not pass quality checks",
    ));
    let created = client.image_to_video(request("a storm")).await.unwrap();
    sim.advance(Duration::from_secs(60));

    let error = client
        .wait(&created)
        .poll_interval(POLL)
        .timeout(WAIT_LIMIT)
        .await
        .unwrap_err();
    let Error::TaskFailed(task) = &error else {
        panic!("expected TaskFailed, got {error:?}")
    };
    assert_eq!(task.status, TaskStatus::Failed);
    let code = task.failure_code.as_ref().expect("a failure code");
    assert_eq!(code.as_str(), "INTERNAL.BAD_OUTPUT.CODE01");
    assert!(!code.is_retryable());
    assert_eq!(
        task.failure.as_deref(),
        Some("The output did not pass quality checks")
    );
    assert_eq!(error.task_id(), Some(&created.id));
    assert!(error.to_string().contains("INTERNAL.BAD_OUTPUT.CODE01"));
    sim.shutdown().await;
}

/// Cancelling a running task: Ok, the simulator shows it cancelled, and it is gone.
async fn cancel_a_running_task(dialect: Dialect, formats: UrlFormats) {
    let sim = manual(dialect, formats).await;
    let client = client(&sim);
    let created = client.image_to_video(request("a river")).await.unwrap();
    sim.advance(Duration::from_secs(5));
    let task = client.get_task(&created.id).await.unwrap();
    assert_eq!(task.status, TaskStatus::Running);
    assert!(task.progress.is_some());

    let outcome = client.cancel_task(&created.id).await.unwrap();
    assert_eq!(
        outcome,
        CancelOutcome::Cancelled {
            was: TaskStatus::Running
        }
    );
    let info = sim.task(created.id.as_str()).unwrap();
    assert_eq!(info.removed, Some(Removal::Cancelled));
    assert_eq!(info.status, "CANCELLED");
    assert_eq!(info.delete_calls, 1);

    let gone = client.get_task(&created.id).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");
    assert_eq!(gone.task_id(), Some(&created.id));
    // Cancelling again is not an error (Runway says a 404 there is safe to ignore), but it is
    // not a cancel either: the task is not found, and no DELETE is sent.
    assert_eq!(
        client.cancel_task(&created.id).await.unwrap(),
        CancelOutcome::NotFound
    );
    assert_eq!(sim.task(created.id.as_str()).unwrap().delete_calls, 1);
    sim.shutdown().await;
}

/// The client settles the URL format the server routes; after that each get is one request.
async fn url_format_settles_and_gets_cost_one_request(dialect: Dialect, formats: UrlFormats) {
    let sim = manual(dialect, formats).await;
    let client = client(&sim);
    let (state, wire) = expected_format(formats);
    let created = client.image_to_video(request("a meadow")).await.unwrap();
    assert_eq!(
        client.url_format(),
        UrlFormatState::Unsettled,
        "a create has no id in its URL"
    );

    sim.clear_requests();
    client.get_task(&created.id).await.unwrap();
    assert_eq!(client.url_format(), state);
    // Settling costs a routing miss only where the New Format is not routed.
    let settling = if formats == UrlFormats::OldOnly { 2 } else { 1 };
    assert_eq!(sim.count(Route::Any), settling, "{:#?}", sim.requests());
    assert_eq!(sim.count(Route::NotFound), settling - 1);

    sim.clear_requests();
    for _ in 0..5 {
        let task = client.get_task(&created.id).await.unwrap();
        assert_eq!(task.id, created.id);
    }
    let requests = sim.requests();
    assert_eq!(requests.len(), 5, "{requests:#?}");
    for r in &requests {
        assert_eq!(r.route, Route::GetTask);
        assert_eq!(r.format, Some(wire));
        assert_eq!(r.task_id.as_deref(), Some(created.id.as_str()));
        assert_eq!(r.status, Some(200));
    }

    // Clones share what was learned; a cancel (a look, then the DELETE) uses the settled
    // format too.
    sim.clear_requests();
    client.clone().cancel_task(&created.id).await.unwrap();
    let requests = sim.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0].route, Route::GetTask);
    assert_eq!(requests[1].route, Route::DeleteTask);
    assert!(
        requests.iter().all(|r| r.format == Some(wire)),
        "{requests:#?}"
    );
    sim.shutdown().await;
}

/// The self-hosted DELETE that never answers: a short cancel timeout, then a check, confirms it.
async fn delete_that_never_answers_is_confirmed(dialect: Dialect, formats: UrlFormats) {
    let sim = manual(dialect, formats).await;
    let client = Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .cancel_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let created = client.image_to_video(request("a lantern")).await.unwrap();
    sim.advance(Duration::from_secs(5));
    client.get_task(&created.id).await.unwrap(); // settles the format
    let hang = sim.fault(Route::DeleteTask, Fault::NoContentHang);

    let started = Instant::now();
    let outcome = tokio::time::timeout(WAIT_LIMIT, client.cancel_task(&created.id))
        .await
        .expect("the cancel returned")
        .unwrap();
    let took = started.elapsed();
    assert_eq!(
        outcome,
        CancelOutcome::ConfirmedAfterTimeout {
            was: TaskStatus::Running
        }
    );
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(hang.fired(), 1);
    let info = sim.task(created.id.as_str()).unwrap();
    assert_eq!(info.removed, Some(Removal::Cancelled));
    assert_eq!(info.delete_calls, 1, "a timed-out DELETE is not sent again");
    sim.shutdown().await;
}

/// Two 429s on GET are waited out (Retry-After as the dialect sends it): three requests, one
/// result.
async fn rate_limit_burst_is_ridden_out(dialect: Dialect, formats: UrlFormats) {
    let sim = manual(dialect, formats).await;
    let client = client(&sim);
    let created = client.image_to_video(request("a harbour")).await.unwrap();
    client.get_task(&created.id).await.unwrap(); // settles the format
    sim.clear_requests();
    let burst = sim
        .fault(
            Route::GetTask,
            Fault::RateLimited {
                retry_after: Duration::from_millis(100), // announced as 1 s
            },
        )
        .times(2);

    let task = client.get_task(&created.id).await.unwrap();
    assert_eq!(task.id, created.id);
    assert_eq!(burst.fired(), 2);
    let requests = sim.requests();
    let statuses: Vec<_> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)], "{requests:#?}");
    for pair in requests.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(900),
            "Retry-After: 1 s not honoured: {gap:?}"
        );
    }
    sim.shutdown().await;
}

macro_rules! combinations {
    ($($name:ident => $dialect:expr, $formats:expr;)*) => {$(
        mod $name {
            use super::*;

            #[tokio::test]
            async fn create_and_wait_succeeds() {
                super::create_and_wait_succeeds($dialect, $formats).await;
            }

            #[tokio::test]
            async fn failed_task_is_an_error_with_its_code() {
                super::failed_task_is_an_error_with_its_code($dialect, $formats).await;
            }

            #[tokio::test]
            async fn cancel_a_running_task() {
                super::cancel_a_running_task($dialect, $formats).await;
            }

            #[tokio::test]
            async fn url_format_settles_and_gets_cost_one_request() {
                super::url_format_settles_and_gets_cost_one_request($dialect, $formats).await;
            }

            #[tokio::test]
            async fn delete_that_never_answers_is_confirmed() {
                super::delete_that_never_answers_is_confirmed($dialect, $formats).await;
            }
        }
    )*};
}

combinations! {
    hosted_new_only => Dialect::Hosted, UrlFormats::NewOnly;
    hosted_old_only => Dialect::Hosted, UrlFormats::OldOnly;
    hosted_both => Dialect::Hosted, UrlFormats::Both;
    self_hosted_new_only => Dialect::SelfHosted, UrlFormats::NewOnly;
    self_hosted_old_only => Dialect::SelfHosted, UrlFormats::OldOnly;
    self_hosted_both => Dialect::SelfHosted, UrlFormats::Both;
}

// The 429 burst waits two real seconds (Retry-After is announced in whole seconds): once per
// dialect, each with the URL formats it has by default.

#[tokio::test]
async fn hosted_rate_limit_burst_is_ridden_out() {
    rate_limit_burst_is_ridden_out(Dialect::Hosted, UrlFormats::Both).await;
}

#[tokio::test]
async fn self_hosted_rate_limit_burst_is_ridden_out() {
    rate_limit_burst_is_ridden_out(Dialect::SelfHosted, UrlFormats::OldOnly).await;
}
