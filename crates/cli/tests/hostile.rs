//! `runway` against a hostile server in LowCodeAPI's place: a gzip bomb and a cross-origin
//! redirect each end the command with one clear line on stderr and exit status 1, and the
//! other origin receives nothing.

use std::process::{Command, Stdio};

use lowcodeapi_runwayml_sim::{Fault, Route, Simulator};

const TOKEN: &str = "at_cli_hostile_4e1d9c";
const TASK: &str = "17f20503-6c24-4c16-946b-35dbbce2af2f";

/// Runs `runway task get TASK` against `sim`; returns the exit code and stderr.
fn task_get(sim: &Simulator) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_runway"))
        .args(["task", "get", TASK])
        .env("LOWCODEAPI_BASE_URL", sim.base_url())
        .env("LOWCODEAPI_API_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run the CLI");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains(TOKEN), "{stderr}");
    (output.status.code(), stderr)
}

fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {stderr}");
    lines[0]
}

#[test]
fn a_gzip_bomb_ends_task_get_with_one_line() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .start_blocking()
        .expect("simulator");
    sim.fault(Route::GetTask, Fault::gzip_bomb()).always();
    let (code, stderr) = task_get(&sim);
    assert_eq!(code, Some(1), "{stderr}");
    let line = one_line(&stderr);
    assert!(
        line.starts_with("error: get_task refused the answer"),
        "{line}"
    );
    assert!(
        line.contains("8 MiB limit") && line.contains(TASK),
        "{line}"
    );
}

#[test]
fn a_cross_origin_redirect_ends_task_get_with_one_line_and_reaches_nothing() {
    let sim = Simulator::builder()
        .token(TOKEN)
        .start_blocking()
        .expect("simulator");
    sim.fault(Route::GetTask, Fault::cross_origin_redirect())
        .always();
    let (code, stderr) = task_get(&sim);
    assert_eq!(code, Some(1), "{stderr}");
    let line = one_line(&stderr);
    assert!(line.contains("another origin"), "{line}");
    assert!(line.contains(sim.other_origin().base_url()), "{line}");
    assert_eq!(
        sim.other_origin().count(),
        0,
        "the other origin received nothing"
    );
}
