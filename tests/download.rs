//! `Client::download` against a loopback storage host that misbehaves on request: saving to
//! files, directories and writers; resume after a drop; retries; content-type and length checks;
//! atomic, non-clobbering files; expired links refreshed from the task; a task that is gone;
//! links and the token kept out of every output.

mod common;
#[path = "support/storage.rs"]
mod storage;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use httpmock::MockServer;
use lowcodeapi_runwayml::{
    Client, DownloadErrorKind, DownloadProgress, Error, Location, RetryPolicy, Task, TaskId,
    TaskStatus, UrlFormat,
};
use serde_json::json;
use storage::{Serve, Storage, TempDir, now_unix, object, object_sha256};

const LEN: u64 = 300_000;
/// A day from now: links that are not expired.
fn later() -> u64 {
    now_unix() + 86_400
}

fn fast() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5))
}

/// A SUCCEEDED task whose outputs are these links.
fn succeeded(links: Vec<String>) -> Task {
    let mut task = Task::new(task_id(), TaskStatus::Succeeded);
    task.output = links;
    task
}

/// A client whose API is `server` (for task GETs during refreshes).
fn api_client(server: &MockServer) -> Client {
    client(server, UrlFormat::New)
}

/// A client whose API is nowhere: a download that needs the API fails loudly.
fn offline_client() -> Client {
    builder(closed_port_url())
        .retry_policy(RetryPolicy::none())
        .url_format(UrlFormat::New)
        .build()
        .expect("client")
}

/// The task GET answers a SUCCEEDED task with `links`.
async fn serve_task(server: &MockServer, links: Vec<String>) -> httpmock::Mock<'_> {
    let mut task = task_json(TASK, "SUCCEEDED");
    task["output"] = json!(links);
    server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 200, &hosted(task));
        })
        .await
}

fn download_error(error: &Error) -> &lowcodeapi_runwayml::DownloadError {
    match error {
        Error::Download(e) => e,
        other => panic!("expected a download error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_directory_gets_the_task_id_and_the_file_its_bytes_and_hash() {
    let storage = Storage::start(LEN).await;
    let dir = TempDir::new("dir");
    let task = succeeded(vec![storage.link(TASK, 0, later(), "sig")]);
    let seen = Arc::new(Mutex::new(Vec::<DownloadProgress>::new()));
    let log = seen.clone();
    let saved = offline_client()
        .download(&task)
        .on_progress(move |p| log.lock().unwrap().push(*p))
        .to(dir.path())
        .await
        .expect("download");
    assert_eq!(saved.task_id, task_id());
    assert_eq!(saved.files.len(), 1);
    let file = &saved.files[0];
    let path = dir.path().join(format!("{TASK}.mp4"));
    assert_eq!(file.location, Location::Path(path.clone()));
    assert_eq!(file.bytes, LEN);
    assert_eq!(file.sha256, object_sha256(LEN));
    assert_eq!(file.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(std::fs::read(&path).unwrap(), object(LEN));
    // Only the file: no temporary file left behind.
    assert_eq!(dir.names(), vec![format!("{TASK}.mp4")]);
    // Progress climbs to the total, which was known from the start.
    let seen = seen.lock().unwrap();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.iter().all(|p| p.total == Some(LEN) || p.bytes == 0));
    assert!(seen.windows(2).all(|w| w[0].bytes <= w[1].bytes));
    assert_eq!(seen.last().unwrap().bytes, LEN);
}

#[tokio::test]
async fn a_dropped_connection_resumes_with_a_range_from_the_bytes_written() {
    let storage = Storage::start(LEN).await;
    storage.plan([Serve::DropAfter(100_000)]);
    let dir = TempDir::new("resume");
    let target = dir.path().join("clip.mp4");
    let saved = offline_client()
        .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
        .retry_policy(fast())
        .to(&target)
        .await
        .expect("download");
    let requests = storage.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!(requests[0].header("range"), None);
    // The second request asks for exactly what is missing. (The first attempt may have written
    // less than was sent if the drop cut a read short; never more.)
    let range = requests[1].header("range").expect("a range request");
    let from: u64 = range
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("unexpected range {range:?}"));
    assert!(from > 0 && from <= 100_000, "{range}");
    assert_eq!(requests[1].status, 206);
    assert_eq!(saved.files[0].sha256, object_sha256(LEN));
    assert_eq!(saved.files[0].bytes, LEN);
    assert_eq!(std::fs::read(&target).unwrap(), object(LEN));
    assert_eq!(dir.names(), vec!["clip.mp4".to_owned()]);
}

#[tokio::test]
async fn a_server_that_ignores_the_range_is_handled_for_files_and_writers() {
    // A file starts over.
    let storage = Storage::start(LEN).await;
    storage.plan([Serve::DropAfter(50_000), Serve::IgnoreRange]);
    let dir = TempDir::new("norange");
    let saved = offline_client()
        .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
        .retry_policy(fast())
        .to(dir.path())
        .await
        .expect("download");
    assert_eq!(saved.files[0].sha256, object_sha256(LEN));
    assert_eq!(storage.requests()[1].status, 200);
    // A writer cannot rewind: the bytes it has are skipped, never written twice.
    let storage = Storage::start(LEN).await;
    storage.plan([Serve::DropAfter(50_000), Serve::IgnoreRange]);
    let mut sink = Vec::new();
    let saved = offline_client()
        .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
        .retry_policy(fast())
        .to_writer(&mut sink)
        .await
        .expect("download");
    assert_eq!(sink, object(LEN));
    assert_eq!(saved.bytes, LEN);
    assert_eq!(saved.sha256, object_sha256(LEN));
    assert_eq!(saved.location, Location::Writer);
}

#[tokio::test]
async fn a_5xx_is_retried_then_the_download_succeeds() {
    let storage = Storage::start(LEN).await;
    storage.plan([Serve::Status(503), Serve::Status(500)]);
    let mut sink = Vec::new();
    offline_client()
        .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
        .retry_policy(fast())
        .to_writer(&mut sink)
        .await
        .expect("download");
    assert_eq!(sink, object(LEN));
    assert_eq!(storage.requests().len(), 3);
}

#[tokio::test]
async fn a_wrong_content_type_is_refused_and_leaves_nothing() {
    let storage = Storage::start(LEN).await;
    storage.plan([Serve::ContentType("text/html; charset=utf-8")]);
    let dir = TempDir::new("ctype");
    let error = expect_err(
        offline_client()
            .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
            .retry_policy(fast())
            .to(dir.path())
            .await,
    );
    let e = download_error(&error);
    assert_eq!(
        e.kind,
        DownloadErrorKind::ContentType("text/html; charset=utf-8".into())
    );
    assert_eq!(error.task_id(), Some(&task_id()));
    assert!(error.to_string().contains("not a video"), "{error}");
    assert_eq!(storage.requests().len(), 1, "not retried");
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn a_body_that_keeps_ending_short_fails_and_leaves_nothing() {
    let storage = Storage::start(LEN).await;
    storage.plan([
        Serve::DropAfter(1000),
        Serve::DropAfter(0),
        Serve::DropAfter(0),
        Serve::DropAfter(0),
    ]);
    let dir = TempDir::new("short");
    let error = expect_err(
        offline_client()
            .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
            .retry_policy(fast())
            .to(dir.path())
            .await,
    );
    let e = download_error(&error);
    assert_eq!(e.kind, DownloadErrorKind::Transport, "{error}");
    assert_eq!(e.output, Some(0));
    assert!(error.to_string().contains(TASK), "{error}");
    // The transport error's message names the host and path, never the signed query.
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("_jwt") && !shown.contains("sig"), "{shown}");
    // First attempt, then 3 retries without progress.
    assert_eq!(storage.requests().len(), 4);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[tokio::test]
async fn an_existing_file_is_kept_unless_overwrite_is_asked() {
    let storage = Storage::start(LEN).await;
    let dir = TempDir::new("exists");
    let target = dir.path().join("video.mp4");
    std::fs::write(&target, b"precious").unwrap();
    let task = succeeded(vec![storage.link(TASK, 0, later(), "sig")]);
    let error = expect_err(offline_client().download(&task).to(&target).await);
    assert_eq!(
        download_error(&error).kind,
        DownloadErrorKind::FileExists(target.clone())
    );
    assert!(error.to_string().contains("overwrite"), "{error}");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
    assert!(storage.requests().is_empty(), "nothing fetched for nothing");
    // Asked to: replaced, atomically.
    let saved = offline_client()
        .download(&task)
        .overwrite(true)
        .to(&target)
        .await
        .expect("download");
    assert_eq!(saved.files[0].sha256, object_sha256(LEN));
    assert_eq!(std::fs::read(&target).unwrap(), object(LEN));
    assert_eq!(dir.names(), vec!["video.mp4".to_owned()]);
}

#[tokio::test]
async fn a_refused_link_is_replaced_by_one_task_get_and_the_download_continues() {
    let storage = Storage::start(LEN).await;
    storage.refuse("old");
    // The link is refused (expired on the storage host's clock): the task is fetched once for a
    // fresh link, whose first answer drops midway, and the download resumes.
    storage.plan([Serve::DropAfter(120_000)]);
    let server = MockServer::start_async().await;
    let get = serve_task(&server, vec![storage.link(TASK, 0, later(), "new")]).await;
    let old = storage.link(TASK, 0, later(), "old");
    let mut sink = Vec::new();
    let saved = api_client(&server)
        .download(succeeded(vec![old]))
        .retry_policy(fast())
        .to_writer(&mut sink)
        .await
        .expect("download");
    assert_eq!(get.calls_async().await, 1, "exactly one extra task GET");
    assert_eq!(sink, object(LEN));
    assert_eq!(saved.sha256, object_sha256(LEN));
    let requests = storage.requests();
    assert_eq!(requests[0].status, 403);
    assert!(requests[0].query.ends_with(".old"));
    assert!(requests[1..].iter().all(|r| r.query.ends_with(".new")));
    // The drop happened on the fresh link; the last request resumed it.
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert!(requests[2].header("range").is_some());
}

#[tokio::test]
async fn a_link_whose_jwt_has_expired_is_refreshed_before_it_is_used() {
    let storage = Storage::start(LEN).await;
    let server = MockServer::start_async().await;
    let get = serve_task(&server, vec![storage.link(TASK, 0, later(), "new")]).await;
    let expired = storage.link(TASK, 0, now_unix() - 60, "old");
    let mut sink = Vec::new();
    api_client(&server)
        .download(succeeded(vec![expired]))
        .to_writer(&mut sink)
        .await
        .expect("download");
    assert_eq!(get.calls_async().await, 1);
    let requests = storage.requests();
    assert_eq!(requests.len(), 1, "the expired link was never sent");
    assert!(requests[0].query.ends_with(".new"));
    assert_eq!(sink.len() as u64, LEN);
}

#[tokio::test]
async fn a_task_that_is_gone_is_named_in_the_error() {
    let storage = Storage::start(LEN).await;
    storage.refuse("old");
    let server = MockServer::start_async().await;
    let body = hosted_error("Task not found", "NOT_FOUND");
    let get = server
        .mock_async(|when, then| {
            Route::GetNew.when(when);
            json(then, 404, &body);
        })
        .await;
    let dir = TempDir::new("gone");
    // A task snapshot whose link the storage host refuses: the refresh finds the task gone.
    let error = expect_err(
        api_client(&server)
            .download(succeeded(vec![storage.link(TASK, 0, later(), "old")]))
            .to(dir.path())
            .await,
    );
    assert!(matches!(error, Error::TaskGone { .. }), "{error:?}");
    assert_eq!(error.task_id(), Some(&task_id()));
    assert!(error.to_string().contains(TASK), "{error}");
    assert!(dir.names().is_empty());
    // By id: the same.
    let error = expect_err(api_client(&server).download(task_id()).to(dir.path()).await);
    assert!(matches!(error, Error::TaskGone { .. }), "{error:?}");
    assert_eq!(get.calls_async().await, 2);
}

#[tokio::test]
async fn a_task_that_has_not_succeeded_has_nothing_to_download() {
    let mut task = Task::new(task_id(), TaskStatus::Running);
    task.output = vec![];
    let error = expect_err(
        offline_client()
            .download(&task)
            .to_writer(&mut Vec::new())
            .await,
    );
    assert_eq!(
        download_error(&error).kind,
        DownloadErrorKind::NotSucceeded(TaskStatus::Running)
    );
    assert_eq!(error.task_id(), Some(&task_id()));
}

#[tokio::test]
async fn several_outputs_get_numbered_names_and_a_writer_needs_a_choice() {
    let storage = Storage::start(LEN).await;
    let dir = TempDir::new("several");
    let task = succeeded(vec![
        storage.link(TASK, 0, later(), "sig"),
        storage.link(TASK, 1, later(), "sig"),
    ]);
    let saved = offline_client()
        .download(&task)
        .to(dir.path())
        .await
        .expect("download");
    assert_eq!(saved.files.len(), 2);
    assert_eq!(
        dir.names(),
        vec![format!("{TASK}-1.mp4"), format!("{TASK}.mp4")]
    );
    let error = expect_err(
        offline_client()
            .download(&task)
            .to_writer(&mut Vec::new())
            .await,
    );
    assert_eq!(
        download_error(&error).kind,
        DownloadErrorKind::SeveralOutputs(2)
    );
    let mut sink = Vec::new();
    let one = offline_client()
        .download(&task)
        .output(1)
        .to_writer(&mut sink)
        .await
        .expect("download");
    assert_eq!(one.index, 1);
    assert_eq!(sink.len() as u64, LEN);
}

#[tokio::test]
async fn the_storage_host_never_sees_the_api_token_and_links_never_show() {
    let capture = Capture::default();
    // Process-wide, not scoped: tracing caches each callsite's interest, and a scoped subscriber
    // can miss an event whose callsite another test of this binary registered at the same
    // moment. Every test's logs land here then, and none may show a link's query either.
    tracing::subscriber::set_global_default(capture.subscriber())
        .expect("the only global subscriber of this test binary");
    let storage = Storage::start(LEN).await;
    storage.refuse("OLDSIGNATURE");
    storage.plan([Serve::DropAfter(10_000), Serve::Status(503)]);
    let server = MockServer::start_async().await;
    serve_task(
        &server,
        vec![storage.link(TASK, 0, later(), "NEWSIGNATURE")],
    )
    .await;
    let task = succeeded(vec![storage.link(TASK, 0, later(), "OLDSIGNATURE")]);
    assert!(!format!("{task:?}").contains("SIGNATURE"), "{task:?}");
    let dir = TempDir::new("secrets");
    let saved = api_client(&server)
        .download(&task)
        .retry_policy(fast())
        .to(dir.path())
        .await
        .expect("download");
    assert!(!format!("{saved:?}").contains("SIGNATURE"));
    // A failing download's error shows the host and path, not the query.
    storage.plan([Serve::ContentType("text/html")]);
    let error = expect_err(
        offline_client()
            .download(succeeded(vec![storage.link(
                TASK,
                0,
                later(),
                "NEWSIGNATURE",
            )]))
            .to_writer(&mut Vec::new())
            .await,
    );
    let shown = format!("{error} {error:?} {error:#?}");
    assert!(
        !shown.contains("SIGNATURE") && !shown.contains("_jwt"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("http://{}/outputs/{TASK}/0.mp4", storage.addr)),
        "{shown}"
    );
    let logs = capture.text();
    assert!(
        logs.contains("download attempt failed"),
        "retries are logged"
    );
    assert!(
        !logs.contains("SIGNATURE") && !logs.contains("_jwt"),
        "{logs}"
    );
    assert_no_token("logs", &logs);
    for request in storage.requests() {
        assert!(!request.query.contains("api_token"), "{request:?}");
        for (name, value) in &request.headers {
            assert_no_token(name, value);
            assert_ne!(name, "authorization");
        }
    }
}

#[cfg(feature = "object-store")]
#[tokio::test]
async fn an_object_store_receives_the_stream_and_resumes_after_a_drop() {
    use object_store::ObjectStoreExt as _;
    let storage = Storage::start(12 * 1024 * 1024).await;
    storage.plan([Serve::DropAfter(7 * 1024 * 1024)]);
    let store = object_store::memory::InMemory::new();
    let location = object_store::path::Path::from("videos/clip.mp4");
    let saved = offline_client()
        .download(succeeded(vec![storage.link(TASK, 0, later(), "sig")]))
        .retry_policy(fast())
        .to_object_store(&store, &location)
        .await
        .expect("download");
    assert_eq!(saved.location, Location::Object("videos/clip.mp4".into()));
    let stored = store.get(&location).await.unwrap().bytes().await.unwrap();
    assert_eq!(stored.len(), 12 * 1024 * 1024);
    assert_eq!(saved.sha256, object_sha256(12 * 1024 * 1024));
    assert!(storage.requests()[1].header("range").is_some());
}

#[test]
fn downloads_can_be_spawned() {
    fn send<T: Send>(_: &T) {}
    let client = offline_client();
    let task = succeeded(vec![]);
    send(&client.download(&task).to("x"));
    send(&client.download(&task).to_writer(&mut Vec::new()));
}

#[tokio::test]
async fn downloading_by_id_fetches_the_task_once() {
    let storage = Storage::start(LEN).await;
    let server = MockServer::start_async().await;
    let get = serve_task(&server, vec![storage.link(TASK, 0, later(), "sig")]).await;
    let dir = TempDir::new("byid");
    let id = TaskId::parse(TASK).unwrap();
    let saved = api_client(&server)
        .download(&id)
        .to(dir.path())
        .await
        .expect("download");
    assert_eq!(saved.files[0].sha256, object_sha256(LEN));
    assert_eq!(get.calls_async().await, 1);
}
