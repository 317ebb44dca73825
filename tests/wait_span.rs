//! Every wait runs inside one `lowcodeapi.wait` span carrying the task id, the number of polls
//! and the outcome. Alone in its file: the subscriber is process-wide, so no other test's
//! callsites can race with it.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lowcodeapi_runwayml::{Client, ImageToVideo, Model, PollSchedule, PromptImage, Ratio};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator};

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn each_wait_runs_in_one_span_with_task_polls_and_outcome() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let sim = Simulator::builder()
        .time_scale(200.0)
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .api_token(DEFAULT_TOKEN)
        .base_url(sim.base_url())
        .poll_schedule(PollSchedule::every(Duration::from_millis(20)))
        .build()
        .unwrap();
    let request = ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").unwrap(),
    )
    .ratio(Ratio::W1280H720);
    let created = client.image_to_video(request).await.unwrap();
    client.wait(&created).await.unwrap();
    client.watch(&created.id).outcome().await.unwrap();
    sim.shutdown().await;

    let text = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let closed: Vec<&str> = text.lines().filter(|l| l.contains("wait: close")).collect();
    assert_eq!(closed.len(), 2, "{text}");
    for line in closed {
        assert!(line.contains(&format!("task={}", created.id)), "{line}");
        assert!(
            line.contains("outcome=\"succeeded\"") || line.contains("outcome=succeeded"),
            "{line}"
        );
        assert!(line.contains("polls="), "{line}");
    }
}
