//! The `lowcodeapi-runwayml-sim` binary starts, prints its base URL and token, and serves.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

/// Kills the child even when an assertion fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_base_url_and_token_then_serves() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_lowcodeapi-runwayml-sim"))
            .args([
                "--port",
                "0",
                "--dialect",
                "self-hosted",
                "--time-scale",
                "1000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the binary"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .take(5)
        .collect();
    assert!(
        lines[0].contains("self-hosted dialect, URL formats: old"),
        "{lines:?}"
    );
    let base = lines[1].strip_prefix("base URL: ").expect("base URL line");
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/runwayml"));
    assert_eq!(lines[2], format!("token:    {TOKEN}"));
    let storage = lines[3]
        .strip_prefix("storage:  ")
        .and_then(|l| l.split(' ').next())
        .expect("storage line");
    assert!(storage.starts_with("http://127.0.0.1:"), "{lines:?}");
    assert!(!base.starts_with(storage), "another origin: {lines:?}");
    // The storage host answers: an unsigned link is refused, in S3's XML.
    let miss = send("GET", &format!("{storage}/outputs/none/0.mp4"), None).await;
    assert_eq!(miss.status, 403);
    assert!(
        miss.body.contains("<Code>AccessDenied</Code>"),
        "{}",
        miss.body
    );

    let id = create(base).await;
    let a = send(
        "GET",
        &format!("{base}/v1/tasks/id?id={id}&api_token={TOKEN}"),
        None,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["provider"], "runwayml");
}

#[tokio::test]
async fn can_play_a_server_that_drops_the_runway_version_header() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_lowcodeapi-runwayml-sim"))
            .args(["--port", "0", "--no-runway-version"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the binary"),
    );
    // Kept open to the end: the binary would fail writing to a closed pipe.
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let line = stdout
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("base URL: ").map(str::to_owned))
        .expect("base URL line");
    let a = send(
        "POST",
        &format!("{line}/v1/image_to_video?api_token={TOKEN}"),
        Some(&body()),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        a.json()["data"]["error"]["message"],
        lowcodeapi_runwayml_sim::MISSING_VERSION_MESSAGE
    );
    drop(stdout);
}

#[test]
fn rejects_unknown_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_lowcodeapi-runwayml-sim"))
        .args(["--dialect", "cloud"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown dialect"));
}
