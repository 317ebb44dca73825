//! The job store's behaviour in one process, on SQLite and (when configured) PostgreSQL.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt as _;
use lowcodeapi_runwayml_jobs::{Destination, Error, JobState, Jobs};
use lowcodeapi_runwayml_sim::{Fault, Outcome, Route, Simulator};
use sha2::Digest as _;

async fn open(url: &str, sim: &Simulator) -> Jobs {
    builder(url)
        .client(common::client(sim))
        .open()
        .await
        .expect("open")
}

fn builder(url: &str) -> lowcodeapi_runwayml_jobs::JobsBuilder {
    Jobs::builder(url)
        .poll_interval(Duration::from_millis(10))
        .idle_interval(Duration::from_millis(10))
        .retry_backoff(Duration::from_millis(50))
        .events_interval(Duration::from_millis(10))
        .lease(Duration::from_secs(5))
}

#[tokio::test]
async fn every_job_is_created_once_and_its_outputs_stored() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "end_to_end").await {
        let sim = common::simulator(1000.0, 10.0).await;
        let jobs = open(&url, &sim).await;
        let out = dir.path().join(format!("out-{kind}"));
        let mut ids = Vec::new();
        for n in 0..30 {
            ids.push(
                jobs.submit(common::request(n), Destination::directory(&out))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(sim.accepted_creates(), 0, "{kind}: submit sends nothing");
        jobs.run_until_settled(4).await.unwrap();
        assert_eq!(sim.accepted_creates(), 30, "{kind}");
        let mut tasks = std::collections::HashSet::new();
        for id in ids {
            let status = jobs.status(id).await.unwrap();
            assert_eq!(status.state, JobState::Succeeded, "{kind}: {status:?}");
            let task = status.task_id.clone().expect("task id recorded");
            assert!(
                sim.task(task.as_str()).is_some(),
                "{kind}: the simulator made {task}"
            );
            assert!(tasks.insert(task), "{kind}: one task per job");
            assert_eq!(status.outputs.len(), 1);
            let output = &status.outputs[0];
            let bytes = std::fs::read(&output.path).unwrap();
            assert_eq!(bytes.len() as u64, output.bytes);
            assert_eq!(hex(&sha2::Sha256::digest(&bytes)), output.sha256);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn invalid_requests_are_refused_at_submit_and_nothing_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "invalid").await {
        let sim = common::simulator(1000.0, 1.0).await;
        let jobs = open(&url, &sim).await;
        let bad = common::request(0)
            .ratio(lowcodeapi_runwayml::Ratio::W1920H1080)
            .seed(1 << 40);
        let err = jobs
            .submit(bad, Destination::directory(dir.path()))
            .await
            .unwrap_err();
        let Error::Invalid(validation) = &err else {
            panic!("{kind}: {err}")
        };
        let paths: Vec<&str> = validation
            .violations()
            .iter()
            .map(|v| v.path.as_str())
            .collect();
        assert_eq!(paths, ["ratio", "seed"], "{kind}");
        assert!(jobs.counts().await.unwrap().is_empty(), "{kind}");
    }
}

#[tokio::test]
async fn a_key_submitted_twice_is_one_job() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "keys").await {
        let sim = common::simulator(1000.0, 1.0).await;
        let jobs = open(&url, &sim).await;
        let dest = Destination::directory(dir.path());
        let a = jobs
            .submit_with_key("line-1", common::request(1), dest.clone())
            .await
            .unwrap();
        let b = jobs
            .submit_with_key("line-1", common::request(1), dest.clone())
            .await
            .unwrap();
        let c = jobs
            .submit_with_key("line-2", common::request(2), dest)
            .await
            .unwrap();
        assert_eq!(a, b, "{kind}");
        assert_ne!(a, c, "{kind}");
        assert_eq!(
            jobs.counts().await.unwrap(),
            [(JobState::Queued, 2)],
            "{kind}"
        );
    }
}

#[tokio::test]
async fn a_store_from_a_newer_version_or_not_a_database_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "schema").await {
        let jobs = Jobs::open(&url).await.unwrap();
        jobs.close().await;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO runway_jobs_schema (version) VALUES (99)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let err = Jobs::open(&url).await.err().expect("newer schema refused");
        assert!(
            matches!(
                err,
                Error::SchemaTooNew {
                    found: 99,
                    supported: lowcodeapi_runwayml_jobs::SCHEMA_VERSION
                }
            ),
            "{kind}: {err}"
        );
        assert!(err.to_string().contains("upgrade"), "{err}");
    }
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![b'x'; 4096]).unwrap();
    let err = Jobs::open(&format!("sqlite://{}", garbage.display()))
        .await
        .err()
        .expect("not a database");
    assert!(matches!(err, Error::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("garbage.db"), "{err}");
    let err = Jobs::open("mysql://localhost/x").await.err().unwrap();
    assert!(matches!(err, Error::UnsupportedUrl(_)), "{err}");
}

/// A store written by the first release (schema version 1, jobs queued in it) is upgraded in
/// place when this version opens it, and its jobs then run as any other.
#[tokio::test]
async fn a_version_1_store_with_jobs_in_it_is_upgraded_on_open_and_its_jobs_run() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "upgrade").await {
        let sim = common::simulator(1000.0, 10.0).await;
        let out = dir.path().join(format!("upgrade-{kind}"));
        let jobs = Jobs::open(&url).await.unwrap();
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(
                jobs.submit(common::request(n), Destination::directory(&out))
                    .await
                    .unwrap(),
            );
        }
        jobs.close().await;
        // Back to what version 1 left: no record of migration 2, nothing it made.
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("DELETE FROM runway_jobs_schema WHERE version >= 2")
            .execute(&pool)
            .await
            .unwrap();
        if kind == "postgres" {
            sqlx::raw_sql("DROP FUNCTION runway_jobs_claim")
                .execute(&pool)
                .await
                .unwrap();
        }
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM runway_jobs_schema")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(version, Some(1), "{kind}");
        let jobs = open(&url, &sim).await;
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM runway_jobs_schema")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(
            version,
            Some(lowcodeapi_runwayml_jobs::SCHEMA_VERSION),
            "{kind}: upgraded on open"
        );
        pool.close().await;
        assert_eq!(
            jobs.counts().await.unwrap(),
            [(JobState::Queued, 3)],
            "{kind}"
        );
        jobs.run_until_settled(2).await.unwrap();
        for id in ids {
            let status = jobs.status(id).await.unwrap();
            assert_eq!(status.state, JobState::Succeeded, "{kind}: {status:?}");
        }
        assert_eq!(sim.accepted_creates(), 3, "{kind}");
        // Opening again changes nothing.
        jobs.close().await;
        let again = Jobs::open(&url).await.unwrap();
        assert_eq!(
            again.counts().await.unwrap(),
            [(JobState::Succeeded, 3)],
            "{kind}"
        );
        again.close().await;
    }
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_ambiguous_and_never_sent_again_until_resubmitted() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "ambiguous").await {
        let sim = common::simulator(1000.0, 1.0).await;
        let jobs = open(&url, &sim).await;
        sim.fault(Route::CreateTask, Fault::DropAfterProcessing);
        let id = jobs
            .submit(common::request(0), Destination::directory(dir.path()))
            .await
            .unwrap();
        jobs.run_until_settled(2).await.unwrap();
        let status = jobs.status(id).await.unwrap();
        assert_eq!(status.state, JobState::Ambiguous, "{kind}");
        assert!(status.task_id.is_none());
        let why = status.error.unwrap();
        assert!(why.contains("answer was lost"), "{kind}: {why}");
        assert_eq!(
            sim.accepted_creates(),
            1,
            "{kind}: the task exists at Runway"
        );
        // Running again sends nothing.
        jobs.run_until_settled(2).await.unwrap();
        assert_eq!(sim.accepted_creates(), 1, "{kind}");
        // A job that is not ambiguous cannot be resubmitted.
        let other = jobs
            .submit(common::request(1), Destination::directory(dir.path()))
            .await
            .unwrap();
        assert!(matches!(
            jobs.resubmit(other).await,
            Err(Error::WrongState { .. })
        ));
        jobs.cancel(other).await.unwrap();
        // The operator decides to pay for a second task.
        jobs.resubmit(id).await.unwrap();
        jobs.run_until_settled(2).await.unwrap();
        assert_eq!(
            jobs.status(id).await.unwrap().state,
            JobState::Succeeded,
            "{kind}"
        );
        assert_eq!(sim.accepted_creates(), 2, "{kind}");
    }
}

#[tokio::test]
async fn a_429_on_create_holds_back_every_worker_of_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "rate_limit").await {
        let sim = common::simulator(1000.0, 1.0).await;
        // Two handles: two processes of one fleet. A meets the 429 alone. Their client does not
        // retry, so the first 429 reaches the store.
        let no_retry = || {
            lowcodeapi_runwayml::Client::builder()
                .api_token(lowcodeapi_runwayml_sim::DEFAULT_TOKEN)
                .base_url(sim.base_url())
                .retry_policy(lowcodeapi_runwayml::RetryPolicy::none())
                .build()
                .unwrap()
        };
        let a = builder(&url).client(no_retry()).open().await.unwrap();
        let b = builder(&url).client(no_retry()).open().await.unwrap();
        sim.fault(
            Route::CreateTask,
            Fault::RateLimited {
                retry_after: Duration::from_secs(1),
            },
        );
        let first = a
            .submit(common::request(0), Destination::directory(dir.path()))
            .await
            .unwrap();
        let mut events = b.events_after(0);
        let runner = a.clone();
        let run_a = tokio::spawn(async move { runner.run_until_settled(2).await });
        let mut queued = 0;
        while queued < 2 {
            let event = events.next().await.unwrap().unwrap();
            if event.job == first && event.state == JobState::Queued {
                queued += 1;
            }
        }
        // The 429 is recorded: from now on no worker of the fleet creates before it ends.
        for n in 1..6 {
            b.submit(common::request(n), Destination::directory(dir.path()))
                .await
                .unwrap();
        }
        b.run_until_settled(2).await.unwrap();
        run_a.await.unwrap().unwrap();
        assert_eq!(
            a.counts().await.unwrap(),
            [(JobState::Succeeded, 6)],
            "{kind}"
        );
        let creates: Vec<_> = sim
            .requests()
            .into_iter()
            .filter(|r| r.route == Route::CreateTask)
            .collect();
        assert_eq!(creates[0].status, Some(429), "{kind}");
        for later in &creates[1..] {
            assert!(
                later.at >= creates[0].at + Duration::from_millis(900),
                "{kind}: a create {:?} after the 429, inside the fleet's backoff",
                later.at - creates[0].at
            );
        }
        assert_eq!(sim.accepted_creates(), 6, "{kind}");
    }
}

#[tokio::test]
async fn cancel_stops_the_task_at_runway() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "cancel").await {
        let sim = common::simulator(1000.0, 1.0).await;
        sim.set_default_outcome(Outcome::RunForever);
        let jobs = open(&url, &sim).await;
        let id = jobs
            .submit(common::request(0), Destination::directory(dir.path()))
            .await
            .unwrap();
        let queued = jobs
            .submit(common::request(1), Destination::directory(dir.path()))
            .await
            .unwrap();
        assert_eq!(
            jobs.cancel(queued).await.unwrap().state,
            JobState::Cancelled
        );
        let runner = jobs.clone();
        let run = tokio::spawn(async move { runner.run_until_settled(1).await });
        let mut events = jobs.events_after(0);
        while let Some(event) = events.next().await {
            let event = event.unwrap();
            if event.job == id && event.state == JobState::Waiting {
                break;
            }
        }
        let status = jobs.cancel(id).await.unwrap();
        assert_eq!(status.state, JobState::Cancelled, "{kind}");
        run.await.unwrap().unwrap();
        let task = sim.task(status.task_id.unwrap().as_str()).unwrap();
        assert!(
            task.removed.is_some(),
            "{kind}: cancelled at Runway: {task:?}"
        );
        assert_eq!(
            sim.accepted_creates(),
            1,
            "{kind}: the queued job was never sent"
        );
        let err = jobs
            .cancel(lowcodeapi_runwayml_jobs::JobId::from_raw(9999))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err}");
    }
}

#[tokio::test]
async fn failed_tasks_keep_their_code_and_events_reach_another_process() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "events").await {
        let sim = common::simulator(1000.0, 1.0).await;
        sim.outcome_for_prompt("job-3", Outcome::fail("SAFETY.INPUT.TEXT", "flagged"));
        let runner = open(&url, &sim).await;
        let watcher = open(&url, &sim).await;
        let events = watcher.events().await.unwrap();
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(
                runner
                    .submit(common::request(n), Destination::directory(dir.path()))
                    .await
                    .unwrap(),
            );
        }
        runner.run_until_settled(2).await.unwrap();
        let failed = runner.status(ids[3]).await.unwrap();
        assert_eq!(failed.state, JobState::Failed, "{kind}");
        assert_eq!(failed.failure_code.as_deref(), Some("SAFETY.INPUT.TEXT"));
        assert_eq!(failed.error.as_deref(), Some("flagged"));
        // The watcher saw every job's life, in order.
        let mut seen: HashMap<_, Vec<JobState>> = HashMap::new();
        let mut events = events;
        let mut settled = 0;
        while settled < 5 {
            let event = tokio::time::timeout(Duration::from_secs(30), events.next())
                .await
                .expect("events keep coming")
                .unwrap()
                .unwrap();
            if event.state.is_settled() {
                settled += 1;
            }
            seen.entry(event.job).or_default().push(event.state);
        }
        use JobState::*;
        for (n, id) in ids.iter().enumerate() {
            let want: &[JobState] = if n == 3 {
                &[Queued, Creating, Waiting, Failed]
            } else {
                &[Queued, Creating, Waiting, Downloading, Succeeded]
            };
            assert_eq!(seen[id], want, "{kind}: job {id}");
        }
    }
}

#[tokio::test]
async fn stop_lets_go_of_a_long_wait_and_another_run_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "stop").await {
        let sim = common::simulator(1000.0, 1.0).await;
        sim.next_outcome(Outcome::RunForever);
        let jobs = open(&url, &sim).await;
        let id = jobs
            .submit(common::request(0), Destination::directory(dir.path()))
            .await
            .unwrap();
        let runner = jobs.clone();
        let run = tokio::spawn(async move { runner.run(2).await });
        let mut events = jobs.events_after(0);
        while let Some(event) = events.next().await {
            if event.unwrap().state == JobState::Waiting {
                break;
            }
        }
        jobs.stop();
        tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("run returns on stop")
            .unwrap()
            .unwrap();
        let status = jobs.status(id).await.unwrap();
        assert_eq!(status.state, JobState::Waiting, "{kind}");
        // Another process takes the wait over at once (the lease was let go), and cancels it.
        let other = open(&url, &sim).await;
        let runner = other.clone();
        let run = tokio::spawn(async move { runner.run_until_settled(1).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        other.cancel(id).await.unwrap();
        run.await.unwrap().unwrap();
        assert_eq!(
            other.status(id).await.unwrap().state,
            JobState::Cancelled,
            "{kind}"
        );
        assert_eq!(sim.accepted_creates(), 1, "{kind}");
    }
}

#[tokio::test]
async fn a_download_that_keeps_failing_is_taken_up_again_from_the_task() {
    let dir = tempfile::tempdir().unwrap();
    for (kind, url) in common::stores(dir.path(), "download").await {
        let sim = common::simulator(1000.0, 1.0).await;
        // The storage host refuses the links until the SDK's download gives up (it refreshes
        // them from the task a few times), then cuts the next body halfway.
        sim.fault(Route::Output, Fault::Status(403)).times(4);
        sim.fault(Route::Output, Fault::DropBodyAfter(1000));
        let jobs = open(&url, &sim).await;
        let id = jobs
            .submit(
                common::request(0),
                Destination::file(dir.path().join(format!("{kind}.mp4"))),
            )
            .await
            .unwrap();
        jobs.run_until_settled(1).await.unwrap();
        let status = jobs.status(id).await.unwrap();
        assert_eq!(status.state, JobState::Succeeded, "{kind}: {status:?}");
        let output = &status.outputs[0];
        let bytes = std::fs::read(&output.path).unwrap();
        assert_eq!(bytes.len(), 4096, "{kind}");
        assert_eq!(hex(&sha2::Sha256::digest(&bytes)), output.sha256);
        assert!(
            sim.count(Route::Output) >= 6,
            "{kind}: {}",
            sim.count(Route::Output)
        );
        assert_eq!(sim.accepted_creates(), 1, "{kind}");
    }
}
