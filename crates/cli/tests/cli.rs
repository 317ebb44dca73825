//! The `runway` CLI, run as a process.
//!
//! The binary is the one cargo builds for this test, run with a clean environment: either no token (the CLI starts its built-in
//! simulator), or `LOWCODEAPI_BASE_URL` pointing at a [`Simulator`] started by the test, whose
//! request log shows what the CLI sent. Every run is checked for token leaks.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use lowcodeapi_runwayml_sim::{
    DEFAULT_TOKEN, Dialect, Fault, Outcome, Removal, Route, Simulator, UrlFormat,
};
use serde_json::Value;

/// The token the external simulator accepts; distinctive, so a leak is easy to spot.
const TOKEN: &str = "at_cliTEST_d4e8f1a29b7c";
/// Tokens the simulator rejects: unknown (403) and malformed (401, echoed back in the body).
const WRONG_TOKEN: &str = "at_WRONGtoken_5a1c9e";
const MALFORMED_TOKEN: &str = "malformedTOKEN_8b2f";
/// Nothing any run prints may contain these.
const SECRETS: [&str; 4] = [TOKEN, WRONG_TOKEN, MALFORMED_TOKEN, DEFAULT_TOKEN];
/// An id no simulator knows.
const UNKNOWN_ID: &str = "0b6f8a52-3c1d-4e7f-9a20-5d4c3b2a1f00";
/// How long any run may take before the test gives up on it.
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// A cache directory for this test process (each simulator has its own base URL, so runs do not
/// share entries).
fn test_cache_home() -> PathBuf {
    std::env::temp_dir().join(format!("runway-cli-test-cache-{}", std::process::id()))
}

/// The `runway` binary cargo built for this test.
fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_runway"))
}

/// Where the CLI sends its requests.
#[derive(Clone, Copy)]
enum Target<'a> {
    /// No token: the CLI's built-in simulator.
    Builtin,
    /// A simulator started by the test, with this token.
    External(&'a Simulator, &'a str),
}

/// A fresh working directory for one run (where `generate` saves videos by default), removed
/// when dropped.
#[derive(Debug)]
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }

    /// The names of the files in it, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read the scratch directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The command, run in a fresh working directory.
fn command(target: Target<'_>, args: &[&str]) -> (Command, Scratch) {
    let cwd = Scratch::new();
    let mut command = Command::new(binary());
    command
        .current_dir(&cwd.0)
        .args(args)
        .env_remove("LOWCODEAPI_API_TOKEN")
        .env_remove("LOWCODEAPI_BASE_URL")
        .env_remove("LOWCODEAPI_URL_FORMAT")
        // The URL-format cache goes to a directory of this test run, never the user's.
        .env("XDG_CACHE_HOME", test_cache_home())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Target::External(sim, token) = target {
        command
            .env("LOWCODEAPI_BASE_URL", sim.base_url())
            .env("LOWCODEAPI_API_TOKEN", token);
    }
    (command, cwd)
}

/// One finished run.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Where it ran.
    cwd: Option<Scratch>,
}

impl Run {
    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// The only line on stderr.
    fn error_line(&self) -> &str {
        let lines = self.stderr_lines();
        assert_eq!(lines.len(), 1, "expected one line on stderr: {self:#?}");
        lines[0]
    }

    /// The only line on stderr after the built-in simulator's notice.
    fn error_line_after_notice(&self) -> &str {
        let lines = self.stderr_lines();
        assert_eq!(
            lines.len(),
            2,
            "expected the notice and one line: {self:#?}"
        );
        assert!(lines[0].contains("built-in simulator"), "{self:#?}");
        lines[1]
    }

    /// The one JSON object on stdout.
    fn json(&self) -> Value {
        let lines: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one JSON line on stdout: {self:#?}"
        );
        let value: Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"));
        assert!(value.is_object(), "{value}");
        assert!(value.get("task_id").is_some(), "no task_id: {value}");
        assert!(value.get("status").is_some(), "no status: {value}");
        value
    }
}

/// Waits for `child` (killing it past [`RUN_LIMIT`]), collects its output and checks it for
/// secrets.
fn finish(mut child: Child, what: &str) -> Run {
    let out = read_all(child.stdout.take());
    let err = read_all(child.stderr.take());
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the CLI") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`runway {what}` took longer than {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let run = Run {
        code: status.code(),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        cwd: None,
    };
    for secret in SECRETS {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "`runway {what}` printed a token: {run:#?}"
        );
    }
    run
}

/// Reads a pipe to the end on a thread (nothing when it was taken already).
fn read_all(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    })
}

fn runway(target: Target<'_>, args: &[&str]) -> Run {
    let (mut command, cwd) = command(target, args);
    let child = command.spawn().expect("start the CLI");
    let mut run = finish(child, &args.join(" "));
    run.cwd = Some(cwd);
    run
}

/// A simulator for one test: 22 simulated seconds per task take 0.11 s.
fn simulator() -> Simulator {
    Simulator::builder()
        .token(TOKEN)
        .time_scale(200.0)
        .start_blocking()
        .expect("start the simulator")
}

/// Creates a task through the CLI (`generate --no-wait --json`) and returns its id.
fn create(sim: &Simulator) -> String {
    let run = runway(
        Target::External(sim, TOKEN),
        &["generate", "--no-wait", "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    run.json()["task_id"]
        .as_str()
        .expect("a task id")
        .to_owned()
}

fn sample_image() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sample.png")
}

// --- generate against the built-in simulator -----------------------------------------------------

#[test]
fn generate_without_a_token_uses_the_builtin_simulator_and_succeeds() {
    let run = runway(Target::Builtin, &["generate"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let notice = run.stderr_lines();
    assert_eq!(notice.len(), 1, "only the simulator notice: {run:#?}");
    assert!(
        notice[0].starts_with(
            "no LOWCODEAPI_API_TOKEN: using the built-in simulator at http://127.0.0.1:"
        ),
        "{run:#?}"
    );
    let task_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("task:"))
        .unwrap_or_else(|| panic!("no task line: {run:#?}"));
    let id = task_line.trim_start_matches("task:").trim();
    assert_eq!(id.len(), 36, "a UUID: {id:?}");
    assert!(run.stdout.contains("SUCCEEDED"), "{run:#?}");
    // The video is saved in the current directory, and said so; the signed link is not shown.
    let saved = run
        .stdout
        .lines()
        .find(|l| l.starts_with("saved:"))
        .unwrap_or_else(|| panic!("no saved line: {run:#?}"));
    assert!(saved.contains(&format!("./{id}.mp4")), "{saved}");
    assert!(
        saved.contains("1280x720") && saved.contains(" s,"),
        "{saved}"
    );
    assert!(run.stdout.contains("play it with:"), "{run:#?}");
    assert!(!run.stdout.contains("_jwt") && !run.stdout.contains("output:"));
    let cwd = run.cwd.as_ref().unwrap();
    assert_eq!(cwd.names(), vec![format!("{id}.mp4")]);
    let video = std::fs::read(cwd.0.join(format!("{id}.mp4"))).unwrap();
    assert_eq!(&video[4..8], b"ftyp", "an MP4");
}

#[test]
fn generate_json_prints_exactly_one_object() {
    let run = runway(
        Target::Builtin,
        &["generate", "--json", "--poll-interval", "0.2"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    let id = report["task_id"].as_str().expect("task_id");
    assert_eq!(report["status"], "SUCCEEDED");
    // The video was saved: `files` says where, how big, its hash and what the header says; the
    // signed links are not printed.
    assert!(report.get("output").is_none(), "{report}");
    assert!(!run.stdout.contains("_jwt"), "{report}");
    let files = report["files"].as_array().expect("files array");
    assert_eq!(files.len(), 1, "{report}");
    let file = &files[0];
    assert_eq!(file["path"], format!("./{id}.mp4"));
    let bytes = std::fs::read(run.cwd.as_ref().unwrap().0.join(format!("{id}.mp4"))).unwrap();
    assert_eq!(file["bytes"], bytes.len());
    assert_eq!(file["sha256"], sha256_hex(&bytes));
    assert_eq!(file["width"], 1280);
    assert_eq!(file["height"], 720);
    let duration = file["duration"].as_f64().expect("a duration");
    assert!((duration - 5.0).abs() <= 0.1, "{report}");
    assert!(report.get("error").is_none(), "{report}");
    assert!(report.get("failure").is_none(), "{report}");
    assert_eq!(run.stderr_lines().len(), 1, "only the notice: {run:#?}");
}

#[test]
fn generate_no_wait_json_reports_the_new_task_at_once() {
    let started = Instant::now();
    let run = runway(Target::Builtin, &["generate", "--no-wait", "--json"]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(
        report["task_id"].as_str().map(str::len),
        Some(36),
        "{report}"
    );
    assert_eq!(report["status"], "PENDING");
    assert!(report.get("output").is_none(), "{report}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "it did not wait"
    );
}

#[test]
fn task_commands_without_a_token_say_what_they_need() {
    for args in [
        ["task", "get", UNKNOWN_ID],
        ["task", "wait", UNKNOWN_ID],
        ["task", "cancel", UNKNOWN_ID],
    ] {
        let run = runway(Target::Builtin, &args);
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        let line = run.error_line();
        assert!(line.contains("needs LOWCODEAPI_API_TOKEN"), "{line}");
        assert!(line.contains("--sim"), "{line}");
    }
}

#[test]
fn task_get_with_sim_asks_a_fresh_simulator() {
    let run = runway(
        Target::Builtin,
        &["task", "get", UNKNOWN_ID, "--sim", "--json"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], UNKNOWN_ID);
    assert!(
        report["error"].as_str().unwrap().contains("404"),
        "{report}"
    );
    assert!(
        run.error_line_after_notice().contains(UNKNOWN_ID),
        "{run:#?}"
    );
}

// --- validation: exit 2, nothing sent --------------------------------------------------------------

#[test]
fn validation_errors_exit_2_and_send_nothing() {
    let sim = simulator();
    let cases: [(&[&str], &str); 6] = [
        (&["generate", "--duration", "99"], "duration"),
        (&["generate", "--seed", "4294967296"], "seed"),
        (&["generate", "--ratio", "123:456"], "ratio"),
        (
            &["generate", "--image", "http://example.com/a.png"],
            "https://",
        ),
        (&["generate", "--prompt", &"x".repeat(1001)], "promptText"),
        (&["task", "get", "../admin"], "invalid task id"),
    ];
    for (args, mentions) in cases {
        let run = runway(Target::External(&sim, TOKEN), args);
        assert_eq!(run.code, Some(2), "{run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        let line = run.error_line();
        assert!(line.starts_with("error: "), "{line}");
        assert!(line.contains(mentions), "{line} should mention {mentions}");
    }
    // --json too: one object, with the error, and still nothing sent.
    let run = runway(
        Target::External(&sim, TOKEN),
        &["generate", "--duration", "99", "--json"],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    let report = run.json();
    assert!(report["task_id"].is_null(), "{report}");
    assert!(
        report["error"].as_str().unwrap().contains("duration"),
        "{report}"
    );
    run.error_line();

    assert_eq!(sim.count(Route::CreateTask), 0);
    assert!(sim.requests().is_empty(), "{:#?}", sim.requests());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["generate", "--duration", "-1"][..],
        &["generate", "--timeout", "soon"],
        &["generate", "--poll-interval", "0"],
        &["frobnicate"],
        &["task", "get"],
    ] {
        let run = runway(Target::Builtin, args);
        assert_eq!(run.code, Some(2), "{args:?}: {run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
    }
}

// --- images ----------------------------------------------------------------------------------------

#[test]
fn a_local_image_is_sent_as_a_data_uri() {
    let sim = simulator();
    let path = sample_image();
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "generate",
            "--image",
            path.to_str().unwrap(),
            "--no-wait",
            "--json",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let id = run.json()["task_id"].as_str().unwrap().to_owned();

    let creates: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.route == Route::CreateTask)
        .collect();
    assert_eq!(creates.len(), 1);
    let body = creates[0].json().expect("a JSON body");
    let image = body["promptImage"].as_str().expect("promptImage string");
    assert!(image.starts_with("data:image/"), "{image:.60}");
    let bytes = std::fs::read(&path).unwrap();
    let expected = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    );
    assert_eq!(image, expected);
    assert_eq!(body["model"], "gen4_turbo");
    assert_eq!(body["ratio"], "1280:720");
    assert_eq!(body["duration"], 5);
    assert!(body["promptText"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(sim.task(&id).is_some());
}

#[test]
fn a_missing_image_file_exits_2_naming_the_path() {
    let sim = simulator();
    let path = "/no/such/dir/first-frame.png";
    let run = runway(
        Target::External(&sim, TOKEN),
        &["generate", "--image", path],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(run.error_line().contains(path), "{run:#?}");
    assert!(sim.requests().is_empty());
}

#[test]
fn the_sample_asset_is_a_small_png() {
    let bytes = std::fs::read(sample_image()).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(bytes.len() < 8 * 1024, "{} bytes", bytes.len());
}

// --- task get / wait / cancel against a simulator of the test ---------------------------------------

#[test]
fn task_get_reports_any_status_with_exit_0() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .manual_clock()
        .start_blocking()
        .unwrap();
    let id = create(&sim);

    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "get", &id, "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], id.as_str());
    assert_eq!(report["status"], "PENDING");

    sim.advance(Duration::from_secs(12)); // halfway through RUNNING
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "get", &id, "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["status"], "RUNNING");
    let progress = report["progress"].as_f64().expect("progress");
    assert!((0.0..1.0).contains(&progress), "{report}");

    let run = runway(Target::External(&sim, TOKEN), &["task", "get", &id]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(
        run.stdout.contains(&id) && run.stdout.contains("RUNNING"),
        "{run:#?}"
    );
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn task_wait_reports_the_video() {
    let sim = simulator();
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05", "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], id.as_str());
    assert_eq!(report["status"], "SUCCEEDED");
    assert!(
        report["output"][0]
            .as_str()
            .unwrap()
            .contains(&format!("/outputs/{id}/0.mp4"))
    );
    assert!(run.stderr.is_empty(), "{run:#?}");
}

#[test]
fn generate_against_an_external_simulator_waits_for_the_video() {
    let sim = simulator();
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "generate",
            "--poll-interval",
            "0.05",
            "--prompt",
            "a red kite",
            "--seed",
            "7",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(run.stdout.contains("SUCCEEDED"), "{run:#?}");
    assert!(run.stderr.is_empty(), "no notice, no bar: {run:#?}");
    let task = &sim.tasks()[0];
    assert_eq!(task.prompt_text.as_deref(), Some("a red kite"));
    assert_eq!(task.request["seed"], 7);
    assert!(run.stdout.contains(&task.id), "{run:#?}");
    assert_eq!(
        run.cwd.as_ref().unwrap().names(),
        vec![format!("{}.mp4", task.id)]
    );
}

#[test]
fn a_failed_task_exits_1_with_its_failure_code() {
    let sim = simulator();
    sim.next_outcome(Outcome::fail("SAFETY.INPUT.TEXT", "The prompt was flagged"));
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05", "--json"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], id.as_str());
    assert_eq!(report["status"], "FAILED");
    assert_eq!(report["failure_code"], "SAFETY.INPUT.TEXT");
    assert_eq!(report["failure"], "The prompt was flagged");
    assert!(report.get("output").is_none(), "{report}");
    let line = run.error_line();
    assert!(
        line.contains(&id) && line.contains("SAFETY.INPUT.TEXT"),
        "{line}"
    );

    // Human output: the details on stdout, the one error line on stderr.
    sim.next_outcome(Outcome::fail("INTERNAL.BAD_OUTPUT.CODE01", "Bad output"));
    let run = runway(
        Target::External(&sim, TOKEN),
        &["generate", "--poll-interval", "0.05"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("FAILED") && run.stdout.contains("INTERNAL.BAD_OUTPUT.CODE01"));
    let id = &sim.tasks()[1].id;
    assert!(run.error_line().contains(id.as_str()), "{run:#?}");
}

#[test]
fn a_task_cancelled_by_runway_exits_1() {
    let sim = simulator();
    sim.next_outcome(Outcome::Cancel);
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05", "--json"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.json()["status"], "CANCELLED");
    assert!(run.error_line().contains(&id), "{run:#?}");
}

#[test]
fn task_cancel_exits_0_and_the_task_is_gone() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .time_scale(200.0)
        .start_blocking()
        .unwrap();
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "cancel", &id, "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], id.as_str());
    assert_eq!(report["status"], "CANCELLED");
    assert_eq!(report["cancelled"], true);
    assert_eq!(report["deleted"], false);
    assert_eq!(report["cancel_outcome"], "cancelled");
    assert!(
        matches!(report["was"].as_str(), Some("PENDING" | "RUNNING")),
        "{report}"
    );
    assert_eq!(sim.task(&id).unwrap().removed, Some(Removal::Cancelled));

    // Gone now: waiting for it fails naming it; cancelling again finds nothing to cancel.
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.error_line().contains(&id), "{run:#?}");
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "cancel", &id, "--json"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.json()["cancel_outcome"], "not_found");
    assert_eq!(sim.task(&id).unwrap().delete_calls, 1);
}

#[test]
fn cancelling_a_finished_task_says_deleted() {
    let sim = simulator();
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");

    let run = runway(Target::External(&sim, TOKEN), &["task", "cancel", &id]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert!(!run.stdout.contains("CANCELLED"), "{}", run.stdout);
    assert!(!run.stdout.contains("cancelled ("), "{}", run.stdout);
    assert!(run.stdout.contains("was:      SUCCEEDED"), "{}", run.stdout);
    assert!(run.stdout.contains("deleted"), "{}", run.stdout);
    assert!(run.stdout.contains("outputs are gone"), "{}", run.stdout);

    let id = create(&sim);
    runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05"],
    );
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "cancel", &id, "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["status"], Value::Null, "{report}");
    assert_eq!(report["cancel_outcome"], "deleted");
    assert_eq!(report["was"], "SUCCEEDED");
    assert_eq!(report["deleted"], true);
    assert_eq!(report["cancelled"], false);
    assert_eq!(sim.task(&id).unwrap().removed, Some(Removal::Deleted));
}

#[test]
fn cancelling_an_id_that_never_existed_exits_1_and_claims_nothing() {
    let sim = simulator();
    for id in [UNKNOWN_ID, "zz_not_a_uuid"] {
        let run = runway(
            Target::External(&sim, TOKEN),
            &["task", "cancel", id, "--json"],
        );
        assert_eq!(run.code, Some(1), "{run:#?}");
        let report = run.json();
        assert_eq!(report["status"], Value::Null, "{report}");
        assert_eq!(report["cancelled"], false, "{report}");
        assert_eq!(report["cancel_outcome"], "not_found", "{report}");
        assert!(!run.stdout.contains("CANCELLED"), "{report}");
        let line = run.error_line();
        assert!(line.contains("not found"), "{line}");
        assert!(line.contains("nothing was cancelled"), "{line}");

        let run = runway(Target::External(&sim, TOKEN), &["task", "cancel", id]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(!run.stdout.contains("CANCELLED"), "{run:#?}");
    }
    assert_eq!(
        sim.count(Route::DeleteTask),
        0,
        "no DELETE for an unknown id"
    );
}

#[test]
fn an_unconfirmed_cancel_says_it_was_sent_and_how_to_check() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .time_scale(200.0)
        .start_blocking()
        .unwrap();
    let id = create(&sim);
    // Every DELETE loses its connection before Runway sees it; the check still shows the task.
    sim.fault(Route::DeleteTask, Fault::DropConnection).always();

    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "cancel", &id, "--json"],
    );

    assert_eq!(run.code, Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(report["cancel_outcome"], "unknown", "{report}");
    assert_eq!(report["status"], Value::Null, "{report}");
    assert!(report.get("cancelled").is_none(), "{report}");
    let line = run.error_line();
    assert!(line.contains("was sent but not confirmed"), "{line}");
    assert!(line.contains("may still take effect"), "{line}");
    assert!(line.contains(&format!("runway task get {id}")), "{line}");
    assert!(sim.task(&id).unwrap().removed.is_none());
}

#[test]
fn a_wait_timeout_exits_1_and_says_how_to_resume() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .time_scale(200.0)
        .start_blocking()
        .unwrap();
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "task",
            "wait",
            &id,
            "--timeout",
            "0.4",
            "--poll-interval",
            "0.05",
            "--json",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(report["status"], "RUNNING");
    let line = run.error_line();
    assert!(line.contains(&format!("runway task wait {id}")), "{line}");
    assert!(
        sim.task(&id).unwrap().removed.is_none(),
        "a timeout does not cancel"
    );
}

#[test]
fn a_wait_timeout_before_any_answer_says_only_what_is_known() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .time_scale(200.0)
        .start_blocking()
        .unwrap();
    let id = create(&sim);
    // Every look hangs past the timeout: no status is ever seen.
    sim.fault(Route::GetTask, Fault::Delay(Duration::from_secs(5)))
        .always();
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--timeout", "0.3"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    let line = run.error_line();
    assert!(line.contains("its status is unknown"), "{line}");
    assert!(!line.contains("still running"), "{line}");
    assert!(!line.contains("wait again"), "{line}");
    assert_eq!(
        line.matches(&format!("runway task wait {id}")).count(),
        1,
        "{line}"
    );
}

#[test]
fn task_wait_looks_at_once() {
    let sim = simulator();
    let id = create(&sim);
    // 200× real time: the 22 s sample task is done within a fraction of a second.
    let started = Instant::now();
    while sim.task(&id).unwrap().status != "SUCCEEDED" {
        assert!(started.elapsed() < RUN_LIMIT, "the task never finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    // With a 60 s interval and a 20 s timeout, a first look after one interval could only time
    // out: a SUCCEEDED exit means the wait looked at once.
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "task",
            "wait",
            &id,
            "--poll-interval",
            "60",
            "--timeout",
            "20",
            "--json",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.json()["status"], "SUCCEEDED");
    // And an id that does not exist is reported gone, not timed out.
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "task",
            "wait",
            UNKNOWN_ID,
            "--poll-interval",
            "60",
            "--timeout",
            "20",
        ],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.error_line().contains("gone"), "{run:#?}");
}

#[test]
fn an_unknown_task_exits_1_naming_it() {
    let sim = simulator();
    for args in [
        &["task", "get", UNKNOWN_ID][..],
        &["task", "wait", UNKNOWN_ID, "--poll-interval", "0.05"],
    ] {
        let run = runway(Target::External(&sim, TOKEN), args);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(run.stdout.is_empty(), "{run:#?}");
        assert!(run.error_line().contains(UNKNOWN_ID), "{run:#?}");
    }
}

#[test]
fn a_bad_token_exits_1_and_is_never_printed() {
    let sim = simulator();
    for token in [WRONG_TOKEN, MALFORMED_TOKEN] {
        let run = runway(
            Target::External(&sim, token),
            &["generate", "--no-wait", "--json"],
        );
        assert_eq!(run.code, Some(1), "{run:#?}");
        let report = run.json();
        assert!(report["task_id"].is_null(), "{report}");
        let line = run.error_line();
        assert!(line.contains("40"), "the status is named: {line}");

        let run = runway(Target::External(&sim, token), &["task", "get", UNKNOWN_ID]);
        assert_eq!(run.code, Some(1), "{run:#?}");
        assert!(run.error_line().contains(UNKNOWN_ID), "{run:#?}");
    }
    // The 401 body echoed the malformed token back: the CLI got it and did not print it.
    assert!(sim.requests().iter().any(|r| r.status == Some(401)));
    assert_eq!(sim.accepted_creates(), 0);
}

// --- Ctrl-C --------------------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_says_how_to_resume() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .time_scale(200.0)
        .start_blocking()
        .unwrap();
    let (mut command, _cwd) = command(
        Target::External(&sim, TOKEN),
        &["generate", "--poll-interval", "0.05"],
    );
    let mut child = command.spawn().unwrap();
    // Read up to the "created task …" line, then interrupt the wait.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("created task "), "{first:?}");
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = finish(child, "generate (interrupted)");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();

    assert_eq!(run.code, Some(130), "{run:#?}");
    let id = &sim.tasks()[0].id;
    assert!(first.contains(id.as_str()));
    let line = run.error_line();
    assert!(line.contains("interrupted"), "{line}");
    assert!(line.contains(&format!("runway task wait {id}")), "{line}");
    assert!(
        rest.contains("RUNNING"),
        "the last status is shown: {rest:?}"
    );
    assert!(
        sim.task(id).unwrap().removed.is_none(),
        "the task keeps running"
    );
}

// --- saving videos --------------------------------------------------------------------------------

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn generate_no_download_prints_the_links_and_saves_nothing() {
    let run = runway(
        Target::Builtin,
        &[
            "generate",
            "--no-download",
            "--json",
            "--poll-interval",
            "0.2",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    let id = report["task_id"].as_str().unwrap();
    let link = report["output"][0].as_str().expect("a link");
    assert!(
        link.contains(&format!("/outputs/{id}/0.mp4?_jwt=")),
        "{link}"
    );
    assert!(report.get("files").is_none(), "{report}");
    assert!(run.cwd.as_ref().unwrap().names().is_empty());
}

#[test]
fn generate_out_names_the_file_and_keeps_an_existing_one_unless_overwrite() {
    let dir = Scratch::new();
    let target = dir.0.join("clip.mp4");
    let out = target.to_str().unwrap();
    let run = runway(
        Target::Builtin,
        &["generate", "--out", out, "--json", "--poll-interval", "0.2"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.json()["files"][0]["path"], out);
    let first = std::fs::read(&target).unwrap();
    assert_eq!(&first[4..8], b"ftyp");

    // Again: the file is there; nothing is replaced, and the error says what to do.
    let run = runway(
        Target::Builtin,
        &["generate", "--out", out, "--poll-interval", "0.2"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    let line = run.error_line_after_notice();
    assert!(
        line.contains("already exists") && line.contains("--overwrite"),
        "{line}"
    );
    assert_eq!(std::fs::read(&target).unwrap(), first);
    assert_eq!(
        dir.names(),
        vec!["clip.mp4".to_owned()],
        "no temporary file left"
    );

    let run = runway(
        Target::Builtin,
        &[
            "generate",
            "--out",
            out,
            "--overwrite",
            "--json",
            "--poll-interval",
            "0.2",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        run.json()["files"][0]["sha256"],
        sha256_hex(&std::fs::read(&target).unwrap())
    );
}

#[test]
fn task_download_saves_a_task_created_earlier_without_the_token_at_the_storage_host() {
    let sim = simulator();
    let id = create(&sim);
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "wait", &id, "--poll-interval", "0.05", "--json"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let dir = Scratch::new();
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "task",
            "download",
            &id,
            "--out",
            dir.0.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], id.as_str());
    assert_eq!(report["status"], "SUCCEEDED");
    assert!(report.get("output").is_none() && !run.stdout.contains("_jwt"));
    let path = dir.0.join(format!("{id}.mp4"));
    assert_eq!(report["files"][0]["path"], path.to_str().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(report["files"][0]["sha256"], sha256_hex(&bytes));
    let downloads: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.route == Route::Output)
        .collect();
    assert_eq!(downloads.len(), 1);
    assert!(!downloads[0].carries_api_token(), "{:?}", downloads[0]);

    // Human output: the file, its size, duration and resolution.
    let run = runway(
        Target::External(&sim, TOKEN),
        &[
            "task",
            "download",
            &id,
            "--out",
            dir.0.to_str().unwrap(),
            "--overwrite",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    let saved = run
        .stdout
        .lines()
        .find(|l| l.starts_with("saved:"))
        .unwrap();
    assert!(saved.contains("kB") || saved.contains("MB"), "{saved}");
    assert!(
        saved.contains("5.0 s") && saved.contains("1280x720"),
        "{saved}"
    );
}

#[test]
fn task_download_of_a_task_that_is_gone_exits_1_naming_it() {
    let sim = simulator();
    let run = runway(
        Target::External(&sim, TOKEN),
        &["task", "download", UNKNOWN_ID, "--json"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(report["task_id"], UNKNOWN_ID);
    assert!(report["status"].is_null(), "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains(UNKNOWN_ID) && error.contains("gone"),
        "{error}"
    );
    assert!(run.cwd.as_ref().unwrap().names().is_empty());
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_cancel_says_it_may_have_been_sent_and_how_to_check() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .default_outcome(Outcome::RunForever)
        .time_scale(200.0)
        .start_blocking()
        .unwrap();
    let id = create(&sim);
    sim.fault(Route::DeleteTask, Fault::Hang);
    let (mut command, _cwd) = command(Target::External(&sim, TOKEN), &["task", "cancel", &id]);
    let child = command.spawn().unwrap();
    // Interrupt once the DELETE reached the server.
    let deadline = Instant::now() + RUN_LIMIT;
    while sim.count(Route::DeleteTask) == 0 {
        assert!(Instant::now() < deadline, "the DELETE never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let run = finish(child, "task cancel (interrupted)");

    assert_eq!(run.code, Some(130), "{run:#?}");
    let line = run.error_line();
    assert!(line.contains("interrupted"), "{line}");
    assert!(line.contains("may already have been sent"), "{line}");
    assert!(line.contains(&format!("runway task get {id}")), "{line}");
}

// --- the create's caveat and the missing-version hint ---------------------------------------------

#[test]
fn an_ambiguous_create_failure_says_the_task_may_exist_in_json_too() {
    let sim = simulator();
    for status in [502, 503, 504] {
        sim.fault(Route::CreateTask, Fault::Status(status)).times(1);
        let run = runway(
            Target::External(&sim, TOKEN),
            &["generate", "--no-wait", "--json"],
        );
        assert_eq!(run.code, Some(1), "{run:#?}");
        let report = run.json();
        assert_eq!(report["may_have_created_task"], true, "{report}");
        let error = report["error"].as_str().unwrap();
        assert!(error.contains("may have been created"), "{error}");
        assert!(
            run.error_line().contains("may have been created"),
            "{run:#?}"
        );
    }
    // One request per attempt: nothing was submitted twice.
    assert_eq!(sim.count(Route::CreateTask), 3);
}

#[test]
fn a_server_that_drops_the_version_header_gets_a_hint_naming_it() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .dialect(Dialect::SelfHosted)
        .forward_runway_version(false)
        .start_blocking()
        .unwrap();
    let run = runway(Target::External(&sim, TOKEN), &["generate", "--no-wait"]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    let line = run.error_line();
    assert!(line.contains("X-Runway-Version"), "{line}");
    assert!(line.contains("LowCodeAPI server in between"), "{line}");
    assert!(line.contains("nothing in the request is wrong"), "{line}");
    assert!(!line.contains("fix the request"), "{line}");
}

// --- the URL format: fixed up front, or remembered between runs ---------------------------------------

fn self_hosted() -> Simulator {
    Simulator::builder()
        .token(TOKEN)
        .dialect(Dialect::SelfHosted)
        .time_scale(200.0)
        .start_blocking()
        .unwrap()
}

/// A fresh cache directory for one test.
fn cache_home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("runway-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn runway_with(sim: &Simulator, cache: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let (mut command, cwd) = command(Target::External(sim, TOKEN), args);
    command.env("XDG_CACHE_HOME", cache);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut run = finish(command.spawn().expect("start the CLI"), &args.join(" "));
    run.cwd = Some(cwd);
    run
}

/// Requests a run sent, as (New Format task calls, Old Format task calls).
fn task_calls(sim: &Simulator) -> (usize, usize) {
    let requests = sim.requests();
    let new = requests
        .iter()
        .filter(|r| r.format == Some(UrlFormat::New) || r.route == Route::NotFound)
        .count();
    let old = requests
        .iter()
        .filter(|r| r.format == Some(UrlFormat::Old))
        .count();
    (new, old)
}

#[test]
fn the_url_format_that_worked_is_remembered_per_base_url_without_the_token() {
    let sim = self_hosted();
    let cache = cache_home("remembered");
    let id = create(&sim);

    sim.clear_requests();
    let run = runway_with(&sim, &cache, &[], &["task", "get", &id]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(
        task_calls(&sim),
        (1, 1),
        "the first run probes: {:#?}",
        sim.requests()
    );

    for _ in 0..3 {
        sim.clear_requests();
        let run = runway_with(&sim, &cache, &[], &["task", "get", &id]);
        assert_eq!(run.code, Some(0), "{run:#?}");
        assert_eq!(task_calls(&sim), (0, 1), "later runs send one request");
    }

    let file = cache.join("lowcodeapi-runwayml/url-formats.json");
    let text = std::fs::read_to_string(&file).expect("the cache file");
    assert!(text.contains("\"old\""), "{text}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("at_"), "{text}");
    assert!(!text.contains(&sim.addr().port().to_string()), "{text}");

    // A damaged file is ignored (the run probes again) and replaced.
    std::fs::write(&file, b"{\"formats\": [garbage").unwrap();
    sim.clear_requests();
    let run = runway_with(&sim, &cache, &[], &["task", "get", &id]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(task_calls(&sim), (1, 1));
    assert!(std::fs::read_to_string(&file).unwrap().contains("\"old\""));
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn the_url_format_can_be_fixed_by_flag_or_environment() {
    let sim = self_hosted();
    let cache = cache_home("fixed");
    let id = create(&sim);

    sim.clear_requests();
    let run = runway_with(
        &sim,
        &cache,
        &[],
        &["task", "get", &id, "--url-format", "old"],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(task_calls(&sim), (0, 1));

    sim.clear_requests();
    let run = runway_with(
        &sim,
        &cache,
        &[("LOWCODEAPI_URL_FORMAT", "OLD")],
        &["task", "get", &id],
    );
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(task_calls(&sim), (0, 1));
    assert!(!cache.exists(), "a fixed format is not remembered");

    // The flag wins over the environment; New is not routed by this server.
    sim.clear_requests();
    let run = runway_with(
        &sim,
        &cache,
        &[("LOWCODEAPI_URL_FORMAT", "old")],
        &["task", "get", &id, "--url-format", "new"],
    );
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.error_line().contains("base URL"), "{run:#?}");
    assert_eq!(task_calls(&sim), (1, 0));

    let run = runway_with(
        &sim,
        &cache,
        &[("LOWCODEAPI_URL_FORMAT", "sideways")],
        &["task", "get", &id],
    );
    assert_eq!(run.code, Some(2), "{run:#?}");
    assert!(
        run.error_line().contains("LOWCODEAPI_URL_FORMAT"),
        "{run:#?}"
    );
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn a_remembered_format_that_stopped_working_is_forgotten() {
    let sim = self_hosted();
    let cache = cache_home("stale");
    let id = create(&sim);
    let run = runway_with(&sim, &cache, &[], &["task", "get", &id]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    // Make the remembered entry wrong for this server.
    let file = cache.join("lowcodeapi-runwayml/url-formats.json");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("\"old\"", "\"new\"")).unwrap();

    let run = runway_with(&sim, &cache, &[], &["task", "get", &id]);
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(
        run.stderr.contains("no longer works and was forgotten"),
        "{run:#?}"
    );

    sim.clear_requests();
    let run = runway_with(&sim, &cache, &[], &["task", "get", &id]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(task_calls(&sim), (1, 1), "probes again, then remembers Old");
    let _ = std::fs::remove_dir_all(&cache);
}
