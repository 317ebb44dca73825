//! `cargo xtask check`: prove that the committed spec files agree with each other.
//!
//! 1. The provenance file's `sha256` is the hash of `spec/upstream/runwayml.json`'s bytes: the
//!    pin was not edited by hand since it was fetched.
//! 2. `spec/openapi.json` is byte for byte what `cargo xtask prepare` would write from the pin
//!    and the overlay: nobody edited the prepared document, or forgot to regenerate it.
//! 3. `crates/sim/assets/runwayml-definition.json` (the simulator's copy of the pin, which it
//!    compiles in so that it packages on its own) is byte for byte the pin.
//!
//! Every problem is reported (not just the first), each with the command that fixes it.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use crate::{drift, fetch, paths, prepare};

/// Run both checks under `root`; print what was found.
///
/// Returns success when both hold, failure (exit 1) with a summary on stdout otherwise.
/// Errors only for failures unrelated to the files' content (e.g. an unreadable directory).
pub fn run(root: &Path) -> anyhow::Result<ExitCode> {
    let mut problems = Vec::new();
    match check_provenance(root) {
        Ok(message) => println!("ok: {message}"),
        Err(problem) => problems.push(problem),
    }
    match check_prepared(root) {
        Ok(message) => println!("ok: {message}"),
        Err(problem) => problems.push(problem),
    }
    match check_sim_definition(root) {
        Ok(message) => println!("ok: {message}"),
        Err(problem) => problems.push(problem),
    }
    if problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        println!("FAILED: {problem}");
    }
    eprintln!(
        "error: spec check failed: {} problem{}",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    Ok(ExitCode::FAILURE)
}

/// Check (a): the provenance's `sha256` matches the pinned file's bytes.
///
/// `Ok` carries a one-line confirmation; `Err` the problem, with its fix.
pub fn check_provenance(root: &Path) -> Result<String, String> {
    let refetch = "re-pin with `cargo xtask fetch-spec` (or `--from FILE`)";
    let upstream =
        read(root, paths::UPSTREAM).map_err(|problem| format!("{problem}; {refetch}"))?;
    let provenance_text = read(root, paths::PROVENANCE)
        .map_err(|problem| format!("{problem}; it records where the pin came from: {refetch}"))?;
    let provenance: Value = serde_json::from_slice(&provenance_text).map_err(|error| {
        format!(
            "{} is not valid JSON: {error}; {refetch}",
            paths::PROVENANCE
        )
    })?;
    let Some(recorded) = provenance.get("sha256").and_then(Value::as_str) else {
        return Err(format!(
            "{} has no `sha256` string; {refetch}",
            paths::PROVENANCE
        ));
    };
    let actual = fetch::sha256_hex(&upstream);
    if recorded.eq_ignore_ascii_case(&actual) {
        Ok(format!(
            "{} matches the sha256 in {} ({actual})",
            paths::UPSTREAM,
            paths::PROVENANCE
        ))
    } else {
        Err(format!(
            "{} has sha256 {actual}, but {} records {recorded}: the pin was changed after it was \
             fetched (it must stay exactly as served); restore it with `git checkout {}` or {refetch}",
            paths::UPSTREAM,
            paths::PROVENANCE,
            paths::UPSTREAM
        ))
    }
}

/// Check (b): `spec/openapi.json` is exactly what `prepare` would write.
///
/// `Ok` carries a one-line confirmation; `Err` the problem: an operation-level drift report
/// (committed → expected), the first differing line, and the fix.
pub fn check_prepared(root: &Path) -> Result<String, String> {
    let fix = "run `cargo xtask prepare` and commit spec/openapi.json";
    let committed = read(root, paths::PREPARED).map_err(|problem| format!("{problem}; {fix}"))?;
    let expected = prepare::prepare_files(root)
        .map_err(|error| format!("`prepare` fails on the committed pin and overlay: {error:#}"))?;
    let expected_text = prepare::render(&expected.document);
    if committed == expected_text.as_bytes() {
        return Ok(format!(
            "{} is what `cargo xtask prepare` writes",
            paths::PREPARED
        ));
    }
    let committed_text = String::from_utf8_lossy(&committed);
    let mut message = format!(
        "{} is not what `cargo xtask prepare` would write; {fix}",
        paths::PREPARED
    );
    match serde_json::from_slice::<Value>(&committed) {
        Ok(committed_value) => {
            let report = drift::diff(&committed_value, &expected.document);
            if report.is_empty() {
                message.push_str(
                    "\n  same JSON, different text (formatting or key order: edited by hand?)",
                );
            } else {
                message.push_str("\n  committed → expected, by operation:\n");
                for line in report.to_string().lines() {
                    let _ = writeln!(message, "    {line}");
                }
                message.pop();
            }
        }
        Err(error) => {
            let _ = write!(message, "\n  the committed file is not valid JSON: {error}");
        }
    }
    if let Some((number, left, right)) = first_difference(&committed_text, &expected_text) {
        let _ = write!(
            message,
            "\n  first differing line {number}:\n    committed: {}\n    expected:  {}",
            left.unwrap_or("(end of file)"),
            right.unwrap_or("(end of file)")
        );
    }
    Err(message)
}

/// Check (c): the simulator's copy of the pin is the pin.
///
/// `Ok` carries a one-line confirmation; `Err` the problem, with its fix.
pub fn check_sim_definition(root: &Path) -> Result<String, String> {
    let fix = "run `cargo xtask prepare` (it copies the pin there) and commit it";
    let pin = read(root, paths::UPSTREAM)?;
    let copy = read(root, paths::SIM_DEFINITION).map_err(|problem| format!("{problem}; {fix}"))?;
    if copy == pin {
        return Ok(format!(
            "{} is a copy of {}",
            paths::SIM_DEFINITION,
            paths::UPSTREAM
        ));
    }
    let (copy_text, pin_text) = (
        String::from_utf8_lossy(&copy),
        String::from_utf8_lossy(&pin),
    );
    let mut message = format!(
        "{} differs from {} (the simulator would serve another document); {fix}",
        paths::SIM_DEFINITION,
        paths::UPSTREAM
    );
    if let Some((number, left, right)) = first_difference(&copy_text, &pin_text) {
        let _ = write!(
            message,
            "\n  first differing line {number}:\n    copy: {}\n    pin:  {}",
            left.unwrap_or("(end of file)"),
            right.unwrap_or("(end of file)")
        );
    }
    Err(message)
}

/// The first line (1-based) where `left` and `right` differ, with both versions of it.
pub fn first_difference<'a>(
    left: &'a str,
    right: &'a str,
) -> Option<(usize, Option<&'a str>, Option<&'a str>)> {
    let mut left_lines = left.split('\n');
    let mut right_lines = right.split('\n');
    let mut number = 0;
    loop {
        number += 1;
        match (left_lines.next(), right_lines.next()) {
            (None, None) => return None,
            (a, b) if a != b => return Some((number, a, b)),
            _ => {}
        }
    }
}

fn read(root: &Path, relative: &str) -> Result<Vec<u8>, String> {
    fs::read(root.join(relative)).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => format!("{relative} is missing"),
        _ => format!("cannot read {relative}: {error}"),
    })
}
