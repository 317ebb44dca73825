//! End to end against the simulator: create → wait → download a real MP4 from its storage host
//! (its own origin, signed links that expire on the simulator's clock), with the simulator's
//! download faults.

#[path = "support/storage.rs"]
mod storage;

use std::time::Duration;

use lowcodeapi_runwayml::{
    Client, DownloadErrorKind, Error, ImageToVideo, Model, PollSchedule, PromptImage, Ratio,
    RetryPolicy, Task,
};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Fault, Route, Simulator};
use sha2::{Digest as _, Sha256};
use storage::TempDir;

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

fn client(sim: &Simulator) -> Client {
    Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .retry_policy(fast())
        .build()
        .expect("client")
}

/// A manual-clock simulator and a SUCCEEDED task made through the SDK.
async fn succeeded() -> (Simulator, Client, Task) {
    let sim = Simulator::builder()
        .manual_clock()
        .start()
        .await
        .expect("simulator");
    let client = client(&sim);
    let created = client
        .image_to_video(
            ImageToVideo::new(
                Model::Gen4Turbo,
                PromptImage::url("https://example.com/first-frame.jpg").unwrap(),
            )
            .ratio(Ratio::W1280H720)
            .duration(5),
        )
        .await
        .expect("create");
    sim.advance(Duration::from_secs(60));
    let task = client
        .wait(&created)
        .schedule(PollSchedule::every(Duration::from_millis(5)))
        .await
        .expect("wait");
    (sim, client, task)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn outputs(sim: &Simulator) -> Vec<lowcodeapi_runwayml_sim::LoggedRequest> {
    sim.requests()
        .into_iter()
        .filter(|r| r.route == Route::Output)
        .collect()
}

#[tokio::test]
async fn create_wait_download_gives_an_mp4_and_the_token_stays_home() {
    let (sim, client, task) = succeeded().await;
    let dir = TempDir::new("sim-e2e");
    let saved = client
        .download(&task)
        .to(dir.path())
        .await
        .expect("download");
    let file = &saved.files[0];
    let bytes = std::fs::read(dir.path().join(format!("{}.mp4", task.id))).unwrap();
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4");
    assert_eq!(file.bytes, bytes.len() as u64);
    assert_eq!(file.sha256, sha256_hex(&bytes));
    assert_eq!(file.content_type.as_deref(), Some("video/mp4"));
    let downloads = outputs(&sim);
    assert_eq!(downloads.len(), 1);
    assert!(
        downloads.iter().all(|r| !r.carries_api_token()),
        "{downloads:?}"
    );
    assert!(sim.storage_url() != sim.base_url());
}

#[tokio::test]
async fn a_drop_mid_body_resumes_from_the_bytes_written() {
    let (sim, client, task) = succeeded().await;
    let mut reference = Vec::new();
    client
        .download(&task)
        .to_writer(&mut reference)
        .await
        .expect("reference download");
    sim.clear_requests();
    sim.fault(Route::Output, Fault::DropBodyAfter(20_000));
    let dir = TempDir::new("sim-resume");
    let saved = client
        .download(&task)
        .retry_policy(fast())
        .to(dir.path())
        .await
        .expect("download");
    let downloads = outputs(&sim);
    assert_eq!(downloads.len(), 2, "{downloads:#?}");
    assert_eq!(downloads[0].header("range"), None);
    let range = downloads[1].header("range").expect("a range");
    let from: u64 = range
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("{range}"));
    assert!(from > 0 && from <= 20_000, "{range}");
    assert_eq!(downloads[1].status, Some(206));
    assert_eq!(saved.files[0].sha256, sha256_hex(&reference));
    assert_eq!(
        std::fs::read(dir.path().join(format!("{}.mp4", task.id))).unwrap(),
        reference
    );
}

#[tokio::test]
async fn an_expired_link_costs_exactly_one_task_get_then_succeeds() {
    let (sim, client, task) = succeeded().await;
    // A day and an hour later on the simulator's clock: the links in `task` have expired there.
    sim.advance(Duration::from_secs(25 * 3600));
    let gets = sim.count(Route::GetTask);
    let mut video = Vec::new();
    let saved = client
        .download(&task)
        .to_writer(&mut video)
        .await
        .expect("download");
    assert_eq!(
        sim.count(Route::GetTask),
        gets + 1,
        "exactly one extra task GET"
    );
    let downloads = outputs(&sim);
    assert_eq!(downloads.len(), 2, "{downloads:#?}");
    assert_eq!(downloads[0].status, Some(403));
    assert_eq!(downloads[1].status, Some(200));
    assert_eq!(saved.bytes, video.len() as u64);
    assert_eq!(&video[4..8], b"ftyp");
}

#[tokio::test]
async fn a_deleted_task_is_reported_gone_with_its_id() {
    let (sim, client, task) = succeeded().await;
    client.cancel_task(&task.id).await.expect("delete");
    let dir = TempDir::new("sim-gone");
    let error = client
        .download(&task)
        .to(dir.path())
        .await
        .expect_err("the task is gone");
    assert!(matches!(error, Error::TaskGone { .. }), "{error:?}");
    assert_eq!(error.task_id(), Some(&task.id));
    assert!(error.to_string().contains(task.id.as_str()), "{error}");
    assert!(dir.names().is_empty());
    assert_eq!(outputs(&sim)[0].status, Some(404));
}

#[tokio::test]
async fn a_wrong_content_type_is_refused() {
    let (sim, client, task) = succeeded().await;
    sim.fault(Route::Output, Fault::ContentType("text/html".into()));
    let error = client
        .download(&task)
        .to_writer(&mut Vec::new())
        .await
        .expect_err("not a video");
    let Error::Download(e) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(e.kind, DownloadErrorKind::ContentType("text/html".into()));
    assert_eq!(e.task_id, task.id);
}

#[tokio::test]
async fn short_bodies_are_resumed_or_reported_and_never_saved() {
    let (sim, client, task) = succeeded().await;
    let mut reference = Vec::new();
    client
        .download(&task)
        .to_writer(&mut reference)
        .await
        .unwrap();
    // Half the body under a full Content-Length, once: resumed.
    sim.fault(Route::Output, Fault::TruncatedBody);
    sim.fault(Route::Output, Fault::Status(503));
    let mut video = Vec::new();
    client
        .download(&task)
        .retry_policy(fast())
        .to_writer(&mut video)
        .await
        .expect("resumed");
    assert_eq!(video, reference);
    // A Content-Length that promises more than the file has: the resumed range request is
    // answered 416 with the real length, which the bytes saved match: the right file.
    sim.fault(Route::Output, Fault::LengthOver(1000)).always();
    let mut video = Vec::new();
    client
        .download(&task)
        .retry_policy(fast())
        .to_writer(&mut video)
        .await
        .expect("the real length is confirmed");
    assert_eq!(video, reference);
    sim.clear_faults();
    // Bodies that always end before their first byte: an error naming the task, and no file.
    sim.fault(Route::Output, Fault::DropBodyAfter(0)).always();
    let dir = TempDir::new("sim-short");
    let error = client
        .download(&task)
        .retry_policy(fast())
        .to(dir.path())
        .await
        .expect_err("always short");
    let Error::Download(e) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(e.kind, DownloadErrorKind::Transport, "{error}");
    assert_eq!(error.task_id(), Some(&task.id));
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

/// Two clients on two runtimes, the first kept alive but idle (a second runtime in a service, or
/// one per test): the second client's download does not pick up a pooled keep-alive connection
/// that belongs to the first runtime, which nobody drives any more.
#[test]
fn clients_on_different_runtimes_do_not_share_storage_connections() {
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (sim, _, task) = server.block_on(succeeded());
    let download = |runtime: &tokio::runtime::Runtime| {
        runtime.block_on(async {
            let mut bytes = Vec::new();
            let saved = tokio::time::timeout(
                Duration::from_secs(10),
                client(&sim).download(&task).to_writer(&mut bytes),
            )
            .await
            .expect("the download went nowhere in 10 s")
            .expect("download");
            assert_eq!(bytes.len() as u64, saved.bytes);
            sha256_hex(&bytes)
        })
    };
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let second = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(download(&first), download(&second));
    drop(first);
}
