//! The request log, counts, the task snapshot, and the handle's lifecycle.

mod common;

use std::time::Duration;

use common::*;
use lowcodeapi_runwayml_sim::{
    DEFAULT_TOKEN, Dialect, Route, Simulator, UrlFormat, UrlFormats, known_models,
};

#[tokio::test]
async fn the_log_keeps_what_arrived() {
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .start()
        .await
        .unwrap();
    let id = create(sim.base_url()).await;
    send(
        "GET",
        &sim.url(&format!("/v1/tasks/id?id={id}&api_token={TOKEN}&x=a+b%21")),
        None,
    )
    .await;
    send("GET", &sim.url(&format!("/v1/tasks/{id}")), None).await;

    let log = sim.requests();
    assert_eq!(log.len(), 3);
    let create_req = &log[0];
    assert_eq!(create_req.index, 0);
    assert_eq!(create_req.method, "POST");
    assert_eq!(create_req.path, "/runwayml/v1/image_to_video");
    assert_eq!(create_req.route, Route::CreateTask);
    assert_eq!(create_req.status, Some(200));
    assert_eq!(create_req.token(), Some(DEFAULT_TOKEN));
    assert_eq!(create_req.json().unwrap()["model"], "gen4_turbo");
    assert_eq!(create_req.body_text(), body());
    assert_eq!(create_req.header("Content-Type"), Some("application/json"));

    let get = &log[1];
    assert_eq!(get.route, Route::GetTask);
    assert_eq!(get.format, Some(UrlFormat::Old));
    assert_eq!(get.task_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        get.raw_query.as_deref(),
        Some(format!("id={id}&api_token={TOKEN}&x=a+b%21").as_str())
    );
    assert_eq!(get.query_param("x"), Some("a b!"));
    assert!(get.at >= create_req.at);

    assert_eq!(log[2].route, Route::NotFound);
    assert_eq!(log[2].status, Some(404));

    assert_eq!(sim.count(Route::Any), 3);
    assert_eq!(sim.count(Route::GetTask), 1);
    assert_eq!(sim.count(Route::DeleteTask), 0);
    assert_eq!(sim.count_where(|r| r.status == Some(404)), 1);
    assert_eq!(sim.count_where(|r| r.token().is_none()), 1);

    sim.clear_requests();
    assert!(sim.requests().is_empty());
    assert_eq!(sim.tasks().len(), 1);
    // Numbers keep counting after a clear, so tasks still point at their creates.
    let second = create(sim.base_url()).await;
    let log = sim.requests();
    assert_eq!(log[0].index, 3);
    assert_eq!(sim.task(&second).unwrap().create_request, 3);
    assert_eq!(log[0].status, Some(200));
}

#[tokio::test]
async fn exactly_one_task_per_accepted_create_under_concurrency() {
    let sim = Simulator::builder().manual_clock().start().await.unwrap();
    let base = sim.base_url().to_owned();
    let mut joins = Vec::new();
    for i in 0..40 {
        let base = base.clone();
        joins.push(tokio::spawn(async move {
            // Every fifth body is invalid.
            let body = if i % 5 == 0 {
                r#"{"model":"gen4_turbo"}"#.to_owned()
            } else {
                body()
            };
            send(
                "POST",
                &format!("{base}/v1/image_to_video?api_token={TOKEN}"),
                Some(&body),
            )
            .await
            .status
        }));
    }
    let mut ok = 0;
    for j in joins {
        if j.await.unwrap() == 200 {
            ok += 1;
        }
    }
    assert_eq!(ok, 32);
    assert_eq!(sim.accepted_creates(), 32);
    let tasks = sim.tasks();
    let mut ids: Vec<_> = tasks.iter().map(|t| t.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 32);
    // Each task points back at the create that made it.
    let log = sim.requests();
    for t in &tasks {
        assert_eq!(log[t.create_request].status, Some(200));
        assert_eq!(log[t.create_request].route, Route::CreateTask);
    }
}

#[tokio::test]
async fn tokens_can_be_added_and_the_default_removed() {
    let sim = Simulator::builder()
        .token("at_mytoken")
        .without_default_token()
        .start()
        .await
        .unwrap();
    let url = |t: &str| sim.url(&format!("/v1/tasks/x?api_token={t}"));
    assert_eq!(send("GET", &url("at_mytoken"), None).await.status, 404);
    assert_eq!(send("GET", &url(DEFAULT_TOKEN), None).await.status, 403);
}

#[tokio::test]
async fn seeds_make_ids_reproducible() {
    let a = Simulator::builder().seed(7).start().await.unwrap();
    let b = Simulator::builder().seed(7).start().await.unwrap();
    assert_eq!(create(a.base_url()).await, create(b.base_url()).await);
    assert_eq!(a.seed(), 7);
    assert!(format!("{a:?}").contains("seed: 7"));
}

#[tokio::test]
async fn defaults() {
    let sim = Simulator::start().await.unwrap();
    assert_eq!(sim.dialect(), Dialect::Hosted);
    assert_eq!(sim.url_formats(), UrlFormats::Both);
    assert!(
        sim.base_url()
            .starts_with(&format!("http://127.0.0.1:{}", sim.addr().port()))
    );
    assert!(sim.base_url().ends_with("/runwayml"));
    assert!(DEFAULT_TOKEN.starts_with("at_"));
    let self_hosted = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .start()
        .await
        .unwrap();
    assert_eq!(self_hosted.url_formats(), UrlFormats::OldOnly);
    assert!(known_models().contains(&"gen4_turbo"));
    assert!(!known_models().contains(&"gen3a_turbo"));
}

#[tokio::test]
async fn shutdown_and_drop_close_the_port() {
    let sim = Simulator::start().await.unwrap();
    let addr = sim.addr();
    sim.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());

    let sim = Simulator::start().await.unwrap();
    let addr = sim.addr();
    drop(sim);
    let mut closed = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(closed);
}

#[test]
fn start_blocking_needs_no_runtime() {
    let sim = Simulator::builder()
        .manual_clock()
        .start_blocking()
        .unwrap();
    // Use it from a separate runtime, as a benchmark would.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = rt.block_on(create(sim.base_url()));
    assert_eq!(sim.tasks()[0].id, id);
    sim.advance(Duration::from_secs(30));
    assert_eq!(sim.tasks()[0].status, "SUCCEEDED");
    rt.block_on(sim.shutdown());
}

#[test]
fn start_outside_a_runtime_is_an_error_not_a_panic() {
    // Polled with no Tokio runtime around, `start` must fail cleanly.
    let result =
        std::panic::catch_unwind(|| block_on_without_runtime(Simulator::builder().start()));
    assert!(matches!(result, Ok(Err(_))));
}

/// Polls a future to completion on this thread without any runtime.
fn block_on_without_runtime<F: std::future::Future>(f: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}
