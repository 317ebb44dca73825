//! One way a wait ends, against the simulator: `Wait` and `Watch` reach the same `Outcome`; a
//! cancel sent through this client (or a clone) ends the wait as cancelled, one sent elsewhere as
//! gone; client-wide wait defaults apply and a wait overrides them; single calls take their own
//! timeout and retry count. (The wait's tracing span is checked in `wait_span.rs`.)

use std::time::Duration;

use futures::StreamExt as _;
use lowcodeapi_runwayml::{
    Client, Error, ImageToVideo, Model, Outcome, PollSchedule, PromptImage, Ratio, RetryPolicy,
    TaskStatus,
};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Fault, Outcome as SimOutcome, Route, Simulator};

/// Polling this fast is for the simulator only (Runway asks for 5 s or more).
const POLL: Duration = Duration::from_millis(20);

/// A simulator 200× faster than real time: the default 22-second task takes 110 ms.
async fn fast() -> Simulator {
    Simulator::builder()
        .time_scale(200.0)
        .start()
        .await
        .expect("start the simulator")
}

fn builder(sim: &Simulator) -> lowcodeapi_runwayml::ClientBuilder {
    Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .poll_schedule(PollSchedule::every(POLL))
        .wait_timeout(Duration::from_secs(10))
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

#[tokio::test]
async fn wait_and_watch_reach_the_same_outcome() {
    let sim = fast().await;
    let client = builder(&sim).build().unwrap();

    // Succeeded: both say so, with the output.
    let created = client.image_to_video(request("a field")).await.unwrap();
    let by_wait = client.wait(&created).outcome().await.unwrap();
    let by_watch = client.watch(&created.id).outcome().await.unwrap();
    let Outcome::Succeeded(task) = &by_wait else {
        panic!("{by_wait:?}")
    };
    assert!(task.first_output().is_some());
    assert!(matches!(by_watch, Outcome::Succeeded(_)), "{by_watch:?}");
    assert_eq!(by_wait.task_id(), &created.id);

    // Failed: `Wait` still errs and the stream still ends on the FAILED snapshot, but the
    // outcome is the same for both.
    sim.next_outcome(SimOutcome::Fail {
        code: Some("SAFETY.INPUT.TEXT".into()),
        failure: "rejected".into(),
    });
    let created = client.image_to_video(request("a storm")).await.unwrap();
    let by_wait = client.wait(&created).outcome().await.unwrap();
    let Outcome::Failed(task) = &by_wait else {
        panic!("{by_wait:?}")
    };
    assert_eq!(
        task.failure_code.as_ref().unwrap().as_str(),
        "SAFETY.INPUT.TEXT"
    );
    let mut watch = client.watch(&created);
    let mut statuses = Vec::new();
    while let Some(step) = watch.next().await {
        statuses.push(step.unwrap().status);
    }
    assert_eq!(statuses.last(), Some(&TaskStatus::Failed));
    // The stream is over; its outcome is still there.
    assert_eq!(watch.outcome().await.unwrap(), by_wait);
    assert!(matches!(
        client.wait(&created).await,
        Err(Error::TaskFailed(_))
    ));

    // A task that never existed here: gone, for both.
    let unknown =
        lowcodeapi_runwayml::TaskId::parse("00000000-0000-0000-0000-000000000000").unwrap();
    assert!(matches!(
        client.wait(&unknown).outcome().await.unwrap(),
        Outcome::Gone { .. }
    ));
    assert!(matches!(
        client.watch(&unknown).outcome().await.unwrap(),
        Outcome::Gone { .. }
    ));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_cancel_through_this_client_ends_the_wait_cancelled_and_one_from_elsewhere_gone() {
    let sim = fast().await;
    sim.set_default_outcome(SimOutcome::RunForever);
    let client = builder(&sim).build().unwrap();

    // Cancelled through a clone while a wait runs: the 404 that follows means cancelled.
    let created = client.image_to_video(request("a river")).await.unwrap();
    let waiting = tokio::spawn(client.wait(&created).outcome());
    tokio::time::sleep(POLL * 3).await;
    client.clone().cancel_task(&created.id).await.unwrap();
    let outcome = waiting.await.unwrap().unwrap();
    assert!(
        matches!(&outcome, Outcome::Cancelled { task_id, .. } if task_id == &created.id),
        "{outcome:?}"
    );
    assert!(matches!(
        client.wait(&created.id).await,
        Err(Error::TaskCancelled(task)) if task.status == TaskStatus::Cancelled
    ));
    let mut watch = client.watch(&created.id);
    assert!(matches!(
        watch.next().await,
        Some(Err(Error::TaskCancelled(_)))
    ));

    // Cancelled by another client (another process, the dashboard): nothing says cancelled.
    let created = client.image_to_video(request("a lake")).await.unwrap();
    let other = builder(&sim).build().unwrap();
    other.cancel_task(&created.id).await.unwrap();
    let outcome = client.wait(&created.id).outcome().await.unwrap();
    assert!(matches!(outcome, Outcome::Gone { .. }), "{outcome:?}");

    // A finished task this client "cancels" is deleted, not cancelled: a later wait says gone.
    sim.set_default_outcome(SimOutcome::Succeed);
    let created = client.image_to_video(request("a bay")).await.unwrap();
    assert!(
        client
            .wait(&created)
            .outcome()
            .await
            .unwrap()
            .is_succeeded()
    );
    client.cancel_task(&created.id).await.unwrap();
    let outcome = client.wait(&created.id).outcome().await.unwrap();
    assert!(matches!(outcome, Outcome::Gone { .. }), "{outcome:?}");
    sim.shutdown().await;
}

#[tokio::test]
async fn client_wide_wait_defaults_apply_and_a_wait_overrides_them() {
    let sim = fast().await;
    sim.set_default_outcome(SimOutcome::RunForever);
    let client = builder(&sim)
        .wait_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let created = client.image_to_video(request("a road")).await.unwrap();

    sim.clear_requests();
    let outcome = client.wait(&created).outcome().await.unwrap();
    let Outcome::TimedOut { waited, last, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(*waited >= Duration::from_millis(150), "{waited:?}");
    assert!(
        *waited < Duration::from_secs(5),
        "the client's timeout, not 10 minutes"
    );
    assert_eq!(last.as_ref().unwrap().status, TaskStatus::Running);
    // The client's 20 ms schedule, not Runway's 5 s: several polls in 150 ms.
    assert!(
        sim.count(Route::GetTask) >= 3,
        "{}",
        sim.count(Route::GetTask)
    );

    // Per wait: a longer schedule and timeout win over the client's.
    sim.clear_requests();
    let outcome = client
        .wait(&created)
        .schedule(PollSchedule::every(Duration::from_millis(100)))
        .timeout(Duration::from_millis(250))
        .outcome()
        .await
        .unwrap();
    let Outcome::TimedOut { waited, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(
        sim.count(Route::GetTask) <= 3,
        "{}",
        sim.count(Route::GetTask)
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn single_calls_take_their_own_timeout_and_retry_count() {
    let sim = fast().await;
    let client = builder(&sim)
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(10)),
        )
        .request_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let created = client.image_to_video(request("a hill")).await.unwrap();
    client.get_task(&created.id).await.unwrap(); // settles the URL format

    // The client retries a 503 by default...
    sim.clear_requests();
    sim.fault(Route::GetTask, Fault::Status(503)).times(1);
    client.get_task(&created.id).await.unwrap();
    assert_eq!(sim.count(Route::GetTask), 2);

    // ...this call does not.
    sim.clear_requests();
    sim.fault(Route::GetTask, Fault::Status(503)).times(1);
    let error = client
        .get_task(&created.id)
        .max_retries(0)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.task_id(), Some(&created.id));
    assert_eq!(sim.count(Route::GetTask), 1);

    // A call's own timeout beats the client's 30 s.
    sim.fault(Route::GetTask, Fault::Delay(Duration::from_secs(5)))
        .times(1);
    let started = std::time::Instant::now();
    let error = client
        .get_task(&created.id)
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(4));

    // And a create with no retries is sent once.
    sim.clear_requests();
    sim.fault(Route::CreateTask, Fault::Status(429)).times(1);
    let error = client
        .image_to_video(request("a cliff"))
        .max_retries(0)
        .await
        .unwrap_err();
    assert!(error.is_rate_limited(), "{error:?}");
    assert_eq!(sim.count(Route::CreateTask), 1);
    sim.shutdown().await;
}
