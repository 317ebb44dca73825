//! A worker: takes a job, creates its task, waits for it, stores its outputs, records the result;
//! every step recorded before the next, so that any other worker can take over after a crash.

use std::future::IntoFuture as _;
use std::sync::Arc;
use std::time::Duration;

use lowcodeapi_runwayml::{Client, Error as SdkError, ImageToVideo, Task, TaskId, TransportKind};
use rand::Rng as _;

use crate::Inner;
use crate::error::Error;
use crate::job::JobState;
use crate::store::{Change, Claim, ms, now_ms};

/// What one pass of a worker did.
pub(crate) enum Pass {
    /// It worked on a job (whatever came of it).
    Worked,
    /// Nothing to take.
    Idle,
}

pub(crate) fn random_token(prefix: &str) -> String {
    let n: u64 = rand::rng().random();
    format!("{prefix}-{n:016x}")
}

/// Takes one job, if there is one this worker may take, and works on it until it settles or is
/// released.
pub(crate) async fn pass(inner: &Arc<Inner>, client: &Client, owner: &str) -> Result<Pass, Error> {
    let config = &inner.config;
    let token = random_token("create");
    // No new task once the workers are asked to stop; jobs whose task exists are still taken.
    match inner
        .store
        .claim(
            owner,
            config.lease,
            config.max_in_flight,
            &token,
            !inner.stopping(),
        )
        .await?
    {
        Some(claim) => {
            work(inner, client, owner, claim).await?;
            Ok(Pass::Worked)
        }
        None => Ok(Pass::Idle),
    }
}

async fn work(inner: &Arc<Inner>, client: &Client, owner: &str, claim: Claim) -> Result<(), Error> {
    if let Some(reason) = inner.fetch.cannot_store(&claim.destination) {
        match claim.state {
            JobState::Creating => {
                // Nothing was sent: fail now rather than pay for a video this worker could
                // not store.
                let token = claim.create_token.clone().unwrap_or_default();
                inner
                    .store
                    .create_ended(claim.id, &token, JobState::Failed, &reason, None)
                    .await?;
            }
            state @ (JobState::Waiting | JobState::Downloading) => {
                // The task exists: leave it for a worker that has the store.
                release(inner, owner, claim.id, state, &reason).await?;
            }
            _ => {}
        }
        return Ok(());
    }
    match claim.state {
        JobState::Creating => create(inner, client, owner, claim).await,
        JobState::Waiting | JobState::Downloading => {
            let Some(task) = claim.task_id.clone() else {
                return Err(Error::Corrupt(format!(
                    "job {} is {} without a task id",
                    claim.id, claim.state
                )));
            };
            follow(inner, client, owner, &claim, task, claim.state).await
        }
        _ => Ok(()),
    }
}

async fn create(
    inner: &Arc<Inner>,
    client: &Client,
    owner: &str,
    claim: Claim,
) -> Result<(), Error> {
    let store = &inner.store;
    let config = &inner.config;
    let token = claim.create_token.clone().unwrap_or_default();
    let request: ImageToVideo = match serde_json::from_str(&claim.request) {
        Ok(request) => request,
        Err(e) => {
            // Nothing was sent: a request this version cannot send fails, it is not retried.
            let error = format!("the stored request cannot be sent: {e}");
            store
                .create_ended(claim.id, &token, JobState::Failed, &error, None)
                .await?;
            return Ok(());
        }
    };
    // The lease is kept while the POST runs (the SDK may be honouring a Retry-After), so that
    // a live create is never mistaken for a dead one; it is never abandoned half-way.
    let result = renewing(
        inner,
        owner,
        claim.id,
        client.image_to_video(request).into_future(),
    )
    .await;
    match result {
        Ok(created) => {
            let recorded = store
                .created(
                    claim.id,
                    &token,
                    owner,
                    config.lease,
                    &created.id,
                    created.estimated_cost,
                )
                .await?;
            match recorded {
                Some(false) => {
                    follow(inner, client, owner, &claim, created.id, JobState::Waiting).await
                }
                Some(true) => {
                    cancel_task(inner, client, claim.id, &created.id).await;
                    Ok(())
                }
                None => {
                    // An operator resubmitted or cancelled the job while this create was in
                    // flight: the task is not wanted. Say so, with its id, and cancel it.
                    tracing::warn!(job = %claim.id, task = %created.id, "a create answered after its job moved on; cancelling the task");
                    let _ = client.cancel_task(&created.id).await;
                    Ok(())
                }
            }
        }
        Err(e) if e.is_rate_limited() => {
            let wait = e.retry_after().unwrap_or(config.rate_limit_backoff);
            let until = now_ms() + ms(wait);
            tracing::info!(job = %claim.id, wait_ms = ms(wait), "429 on create: the fleet backs off");
            store.back_off(until).await?;
            store
                .requeue(
                    claim.id,
                    &token,
                    until,
                    "Runway answered 429; retried after the fleet's backoff",
                )
                .await?;
            Ok(())
        }
        Err(e) if e.may_have_created_task() => {
            let error = format!("the create's answer was lost: {e}");
            store
                .create_ended(claim.id, &token, JobState::Ambiguous, &error, None)
                .await?;
            Ok(())
        }
        Err(SdkError::Transport(t)) if t.kind == TransportKind::Connect => {
            // Nothing reached the server: safe to send again, later.
            let run_after = now_ms() + ms(config.retry_backoff);
            store
                .requeue(
                    claim.id,
                    &token,
                    run_after,
                    &format!("could not connect: {}", t.message),
                )
                .await?;
            Ok(())
        }
        Err(e) => {
            let code = e.status().map(|s| format!("HTTP {s}"));
            store
                .create_ended(
                    claim.id,
                    &token,
                    JobState::Failed,
                    &e.to_string(),
                    code.as_deref(),
                )
                .await?;
            Ok(())
        }
    }
}

/// Best effort: cancel the task at Runway and record the job as cancelled.
async fn cancel_task(inner: &Arc<Inner>, client: &Client, job: crate::JobId, task: &TaskId) {
    match client.cancel_task(task).await {
        Ok(_) => {
            let _ = inner.store.cancelled(job).await;
        }
        Err(e) => {
            tracing::warn!(%job, %task, error = %e, "cancelling the task failed; the job stays as it is")
        }
    }
}

/// Waits for the task (resuming from its id), then stores its outputs.
async fn follow(
    inner: &Arc<Inner>,
    client: &Client,
    owner: &str,
    claim: &Claim,
    task_id: TaskId,
    state: JobState,
) -> Result<(), Error> {
    let store = &inner.store;
    let config = &inner.config;
    let id = claim.id;
    let task = if state == JobState::Waiting {
        let mut wait = client.wait(&task_id).timeout(None);
        if let Some(every) = config.poll_interval {
            wait = wait.poll_interval(every);
        }
        let outcome = match with_lease(inner, owner, id, wait.into_future()).await? {
            Some(outcome) => outcome,
            None => return Ok(()),
        };
        match outcome {
            Ok(task) => {
                if !store
                    .advance(
                        id,
                        owner,
                        &[JobState::Waiting],
                        JobState::Downloading,
                        Change::default(),
                    )
                    .await?
                {
                    return Ok(());
                }
                task
            }
            Err(SdkError::TaskFailed(task)) => {
                let error = task
                    .failure
                    .clone()
                    .unwrap_or_else(|| "the task failed".into());
                let code = task.failure_code.as_ref().map(|c| c.as_str().to_string());
                store
                    .fail(id, owner, JobState::Waiting, &error, code.as_deref())
                    .await?;
                return Ok(());
            }
            Err(e @ (SdkError::TaskCancelled(_) | SdkError::TaskGone { .. })) => {
                let status = store.status(id).await?;
                if status.cancel_requested {
                    store.cancelled(id).await?;
                } else {
                    let error = e.to_string();
                    store
                        .fail(id, owner, JobState::Waiting, &error, None)
                        .await?;
                }
                return Ok(());
            }
            Err(e) => {
                release(inner, owner, id, JobState::Waiting, &e.to_string()).await?;
                return Ok(());
            }
        }
    } else {
        // Resuming a download: fresh links come with a fresh read of the task.
        match client.get_task(&task_id).await {
            Ok(task) => task,
            Err(e) if e.is_not_found() => {
                let error = format!("the outputs are gone: {e}");
                store
                    .fail(id, owner, JobState::Downloading, &error, None)
                    .await?;
                return Ok(());
            }
            Err(e) => {
                release(inner, owner, id, JobState::Downloading, &e.to_string()).await?;
                return Ok(());
            }
        }
    };
    download(inner, client, owner, claim, &task).await
}

async fn download(
    inner: &Arc<Inner>,
    client: &Client,
    owner: &str,
    claim: &Claim,
    task: &Task,
) -> Result<(), Error> {
    let store = &inner.store;
    let id = claim.id;
    let fetched = with_lease(
        inner,
        owner,
        id,
        inner.fetch.fetch(client, task, &claim.destination),
    )
    .await?;
    match fetched {
        None => Ok(()),
        Some(Ok(outputs)) => {
            let outputs =
                serde_json::to_string(&outputs).map_err(|e| Error::Corrupt(e.to_string()))?;
            store
                .advance(
                    id,
                    owner,
                    &[JobState::Downloading],
                    JobState::Succeeded,
                    Change {
                        outputs: Some(&outputs),
                        ..Change::default()
                    },
                )
                .await?;
            Ok(())
        }
        Some(Err(e)) if e.retryable => {
            release(inner, owner, id, JobState::Downloading, &e.message).await
        }
        Some(Err(e)) => {
            store
                .fail(id, owner, JobState::Downloading, &e.message, None)
                .await?;
            Ok(())
        }
    }
}

/// Lets go of a job that hit a temporary problem, for any worker to take again after a backoff.
async fn release(
    inner: &Arc<Inner>,
    owner: &str,
    id: crate::JobId,
    state: JobState,
    error: &str,
) -> Result<(), Error> {
    tracing::info!(job = %id, %error, "released for a later attempt");
    inner
        .store
        .advance(
            id,
            owner,
            &[state],
            state,
            Change {
                error: Some(error),
                release: true,
                run_after: now_ms() + ms(inner.config.retry_backoff),
                ..Change::default()
            },
        )
        .await?;
    Ok(())
}

/// Runs `work` while renewing the job's lease; `None` when the lease was lost (another worker
/// took the job, or it was cancelled) or the workers are stopping, in which case the work is
/// dropped (waits and downloads resume from the store).
async fn with_lease<T>(
    inner: &Arc<Inner>,
    owner: &str,
    id: crate::JobId,
    work: impl Future<Output = T>,
) -> Result<Option<T>, Error> {
    let every = inner.config.lease / 3;
    let mut work = std::pin::pin!(work);
    let mut stop = inner.stop_signal();
    loop {
        tokio::select! {
            out = &mut work => return Ok(Some(out)),
            _ = stopped(&mut stop) => return Ok(None),
            _ = tokio::time::sleep(every.max(Duration::from_millis(10))) => {
                if !inner.store.renew(id, owner, inner.config.lease).await? {
                    tracing::info!(job = %id, "lease lost; leaving the job to its new owner");
                    return Ok(None);
                }
            }
        }
    }
}

/// Runs `work` to its end, renewing the job's lease meanwhile.
async fn renewing<T>(
    inner: &Arc<Inner>,
    owner: &str,
    id: crate::JobId,
    work: impl Future<Output = T>,
) -> T {
    let every = (inner.config.lease / 3).max(Duration::from_millis(10));
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tokio::time::sleep(every) => {
                if let Err(e) = inner.store.renew(id, owner, inner.config.lease).await {
                    tracing::warn!(job = %id, error = %e, "could not renew the lease of a create in flight");
                }
            }
        }
    }
}

/// Resolves once the workers are asked to stop.
pub(crate) async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it before anything else is awaited.
    let _ = stop.wait_for(|s| *s).await.is_ok();
}
