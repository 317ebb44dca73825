//! `runway batch`: killed twice and run again, it gets every video with no create sent twice.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator, Timeline};
use serde_json::Value;

fn simulator() -> Simulator {
    Simulator::builder()
        .time_scale(1000.0)
        .task_timeline(Timeline {
            pending: Duration::from_secs(5),
            throttled: Duration::ZERO,
            running: Duration::from_secs(45),
        })
        .synthetic_output_len(2048)
        .start_blocking()
        .expect("simulator")
}

fn batch(sim: &Simulator, dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runway"));
    command
        .arg("batch")
        .arg(dir.join("requests.jsonl"))
        .args(["--workers", "8", "--max-in-flight", "8"])
        .args(["--lease", "0.3", "--poll-interval", "0.01"])
        .args(extra)
        .env("LOWCODEAPI_API_TOKEN", DEFAULT_TOKEN)
        .env("LOWCODEAPI_BASE_URL", sim.base_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn requests(dir: &Path, n: usize) {
    let lines: Vec<String> = (1..=n)
        .map(|i| format!(r#"{{"prompt":"job-{i} clouds over a city","seed":{i}}}"#))
        .collect();
    std::fs::write(dir.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
}

fn creates_per_line(sim: &Simulator) -> HashMap<String, usize> {
    let mut per_line = HashMap::new();
    for task in sim.tasks() {
        let marker = task.prompt_text.unwrap_or_default();
        let marker = marker
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        *per_line.entry(marker).or_default() += 1;
    }
    per_line
}

fn kill_after(mut child: Child, after: Duration) {
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[test]
fn killed_twice_then_run_again_gets_every_video_and_creates_nothing_twice() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let n = 200;
    requests(dir.path(), n);
    let json = ["--json"];
    kill_after(
        batch(&sim, dir.path(), &json).spawn().unwrap(),
        Duration::from_millis(700),
    );
    let after_first = sim.accepted_creates();
    kill_after(
        batch(&sim, dir.path(), &json).spawn().unwrap(),
        Duration::from_millis(700),
    );
    let output = batch(&sim, dir.path(), &json).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("one JSON object ({e}): {stderr}"));

    let succeeded = summary["succeeded"].as_u64().unwrap() as usize;
    let ambiguous = summary["ambiguous"].as_u64().unwrap() as usize;
    eprintln!(
        "runway batch, {n} requests, killed twice: {after_first} creates before the first kill, \
         {} in all; {succeeded} succeeded, {ambiguous} ambiguous",
        sim.accepted_creates()
    );
    assert!(
        after_first < n,
        "the first run was cut short: {after_first}"
    );
    let per_line = creates_per_line(&sim);
    let twice: Vec<_> = per_line.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "created twice: {twice:?}");
    // A kill during a create leaves that job ambiguous (never re-sent); every other is a video.
    assert_eq!(succeeded + ambiguous, n, "{summary}");
    assert!(sim.accepted_creates() <= n);
    assert!(sim.accepted_creates() >= succeeded);
    assert_eq!(summary["unfinished"], 0);
    let code = output.status.code();
    assert_eq!(code, Some(if ambiguous == 0 { 0 } else { 1 }), "{stderr}");
    for job in summary["jobs"].as_array().unwrap() {
        if job["state"] == "succeeded" {
            let file = job["file"].as_str().unwrap();
            assert!(Path::new(file).exists(), "{file}");
        } else {
            assert_eq!(job["state"], "ambiguous", "{job}");
        }
    }
    // Once more: everything is settled, nothing is sent.
    let creates = sim.accepted_creates();
    let again = batch(&sim, dir.path(), &json).output().unwrap();
    assert_eq!(
        again.status.code(),
        code,
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(sim.accepted_creates(), creates);
}

#[test]
fn ctrl_c_stops_cleanly_and_the_same_command_continues() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    let n = 60;
    requests(dir.path(), n);
    let child = batch(&sim, dir.path(), &[]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let interrupt = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let stopped = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&stopped.stdout);
    assert_eq!(stopped.status.code(), Some(130), "{text}");
    assert!(text.contains("run the same command again"), "{text}");
    // A clean stop leaves nothing ambiguous and nothing to wait for: the next run continues.
    let output = batch(&sim, dir.path(), &["--json"]).output().unwrap();
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["succeeded"], n as u64, "{summary}");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(sim.accepted_creates(), n);
    assert!(creates_per_line(&sim).values().all(|c| *c == 1));
}

#[test]
fn a_bad_line_submits_nothing_and_says_which() {
    let sim = simulator();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("requests.jsonl"),
        "{\"prompt\":\"fine\"}\n{\"prompt\":\"x\",\"ratio\":\"1920:1080\"}\n{\"colour\":1}\n",
    )
    .unwrap();
    let output = batch(&sim, dir.path(), &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("line 2: invalid image_to_video request: ratio"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3: unknown field `colour`"),
        "{stderr}"
    );
    assert_eq!(sim.accepted_creates(), 0);
}
