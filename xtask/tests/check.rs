//! `cargo xtask check`: passes on a consistent copy of the workspace's `spec/`, fails with a
//! useful summary when the pin's hash is wrong, when `spec/openapi.json` was edited by hand,
//! and when a file is missing. Runs the real binary with `XTASK_ROOT` at a scratch copy.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use tempfile::TempDir;

const UPSTREAM: &str = "spec/upstream/runwayml.json";
const PROVENANCE: &str = "spec/upstream/runwayml.provenance.json";
const OVERLAY: &str = "spec/overlay.yaml";
const PREPARED: &str = "spec/openapi.json";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("XTASK_ROOT", root)
        .output()
        .expect("run xtask")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch copy of the workspace's committed pin, overlay and prepared document, with a
/// provenance file for the pin (recorded by `fetch-spec --from` itself, so its hash is right
/// whether or not the workspace has committed one yet).
fn consistent_copy() -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(dir.path().join("spec/upstream")).expect("mkdir");
    for file in [UPSTREAM, OVERLAY, PREPARED] {
        fs::copy(workspace().join(file), dir.path().join(file))
            .unwrap_or_else(|error| panic!("copy {file}: {error}"));
    }
    let pin = workspace().join(UPSTREAM);
    let output = xtask(
        dir.path(),
        &["fetch-spec", "--from", pin.to_str().expect("utf-8 path")],
    );
    assert!(output.status.success(), "pin: {}", stderr(&output));
    dir
}

fn assert_check_fails(root: &Path, needles: &[&str]) -> String {
    let output = xtask(root, &["check"]);
    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {out}\nstderr: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output)
            .lines()
            .any(|line| line.starts_with("error: spec check failed")),
        "stderr: {}",
        stderr(&output)
    );
    for needle in needles {
        assert!(out.contains(needle), "stdout lacks {needle:?}:\n{out}");
    }
    out
}

#[test]
fn passes_on_a_consistent_copy_of_the_committed_spec() {
    let root = consistent_copy();

    let output = xtask(root.path(), &["check"]);

    let out = stdout(&output);
    assert!(
        output.status.success(),
        "stdout: {out}\nstderr: {}",
        stderr(&output)
    );
    assert!(
        out.contains("ok: spec/upstream/runwayml.json matches the sha256"),
        "{out}"
    );
    assert!(
        out.contains("ok: spec/openapi.json is what `cargo xtask prepare` writes"),
        "{out}"
    );
}

#[test]
fn passes_in_process_too() {
    let root = consistent_copy();
    assert_eq!(
        xtask::check::run(root.path()).expect("check runs"),
        std::process::ExitCode::SUCCESS
    );
    assert!(xtask::check::check_provenance(root.path()).is_ok());
    assert!(xtask::check::check_prepared(root.path()).is_ok());
}

#[test]
fn fails_when_the_provenance_hash_is_wrong() {
    let root = consistent_copy();
    let path = root.path().join(PROVENANCE);
    let mut provenance: Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    provenance["sha256"] = json!("0".repeat(64));
    fs::write(
        &path,
        serde_json::to_string_pretty(&provenance).expect("json"),
    )
    .expect("write");

    let out = assert_check_fails(
        root.path(),
        &[
            "FAILED: spec/upstream/runwayml.json has sha256 ",
            &format!("records {}", "0".repeat(64)),
            "cargo xtask fetch-spec",
        ],
    );
    // The other check still ran and passed.
    assert!(out.contains("ok: spec/openapi.json"), "{out}");
}

#[test]
fn fails_when_the_pin_was_edited_after_pinning() {
    let root = consistent_copy();
    let path = root.path().join(UPSTREAM);
    let text = fs::read_to_string(&path).expect("read");
    // Still valid JSON, same document: only the bytes differ.
    fs::write(&path, format!("{text}\n")).expect("write");

    assert_check_fails(root.path(), &["the pin was changed after it was fetched"]);
}

#[test]
fn fails_when_openapi_json_was_edited_by_hand() {
    let root = consistent_copy();
    let path = root.path().join(PREPARED);
    let mut document: Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    let (route, method) = first_operation(&document);
    document["paths"][&route][&method]["summary"] = json!("Edited by hand");
    fs::write(&path, xtask::prepare::render(&document)).expect("write");

    let out = assert_check_fails(
        root.path(),
        &[
            "FAILED: spec/openapi.json is not what `cargo xtask prepare` would write",
            "run `cargo xtask prepare` and commit spec/openapi.json",
            "committed → expected, by operation:",
            &format!("~ changed  {} {route}", method.to_ascii_uppercase()),
            "field changed: summary: value \"Edited by hand\" → ",
            "first differing line ",
        ],
    );
    let committed_line = out
        .lines()
        .find(|line| line.trim_start().starts_with("committed:"))
        .expect("the first differing line is shown");
    assert!(
        committed_line.ends_with("\"summary\": \"Edited by hand\","),
        "{out}"
    );
    // The provenance check still ran and passed.
    assert!(out.contains("ok: spec/upstream/runwayml.json"), "{out}");
}

#[test]
fn fails_when_openapi_json_is_reformatted() {
    let root = consistent_copy();
    let path = root.path().join(PREPARED);
    let document: Value =
        serde_json::from_str(&fs::read_to_string(&path).expect("read")).expect("json");
    fs::write(&path, serde_json::to_string(&document).expect("json")).expect("write");

    assert_check_fails(
        root.path(),
        &[
            "same JSON, different text",
            "first differing line 1:",
            "cargo xtask prepare",
        ],
    );
}

#[test]
fn fails_when_openapi_json_is_not_json() {
    let root = consistent_copy();
    fs::write(root.path().join(PREPARED), "<<<<<<< HEAD\n").expect("write");

    assert_check_fails(
        root.path(),
        &[
            "the committed file is not valid JSON",
            "first differing line 1:",
        ],
    );
}

#[test]
fn fails_clearly_when_files_are_missing() {
    let root = consistent_copy();
    fs::remove_file(root.path().join(PROVENANCE)).expect("remove");
    fs::remove_file(root.path().join(PREPARED)).expect("remove");

    let out = assert_check_fails(
        root.path(),
        &[
            "FAILED: spec/upstream/runwayml.provenance.json is missing",
            "FAILED: spec/openapi.json is missing; run `cargo xtask prepare`",
        ],
    );
    // Only the simulator's copy (still equal to the pin) holds.
    let oks: Vec<&str> = out.lines().filter(|l| l.starts_with("ok:")).collect();
    assert_eq!(
        oks,
        vec![
            "ok: crates/sim/assets/runwayml-definition.json is a copy of spec/upstream/runwayml.json"
        ],
        "{out}"
    );
}

#[test]
fn fails_clearly_when_the_pin_is_missing() {
    let root = consistent_copy();
    fs::remove_file(root.path().join(UPSTREAM)).expect("remove");

    assert_check_fails(
        root.path(),
        &[
            "FAILED: spec/upstream/runwayml.json is missing",
            "`prepare` fails on the committed pin and overlay",
        ],
    );
}

/// The first (path, method) in a document.
fn first_operation(document: &Value) -> (String, String) {
    let paths = document["paths"].as_object().expect("paths");
    for (route, item) in paths {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                return (route.clone(), method.to_owned());
            }
        }
    }
    panic!("no operation in spec/openapi.json");
}

// --- the workspace root is found at run time -----------------------------------------------------

/// A consistent copy that is also a cargo workspace (a `Cargo.toml` with `[workspace]`).
fn workspace_copy() -> TempDir {
    let root = consistent_copy();
    fs::write(
        root.path().join("Cargo.toml"),
        "[workspace]\nmembers = []\n",
    )
    .expect("write Cargo.toml");
    root
}

/// Runs `xtask check` with neither `XTASK_ROOT` nor `CARGO_MANIFEST_DIR` unless given.
fn check_from(dir: &Path, manifest_dir: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .arg("check")
        .current_dir(dir)
        .env_remove("XTASK_ROOT")
        .env_remove("CARGO_MANIFEST_DIR");
    if let Some(manifest_dir) = manifest_dir {
        command.env("CARGO_MANIFEST_DIR", manifest_dir);
    }
    command.output().expect("run xtask")
}

#[test]
fn the_root_comes_from_cargo_manifest_dir_at_run_time() {
    // This binary was built from the workspace; it must check the tree it is run for.
    let root = workspace_copy();
    let elsewhere = tempfile::tempdir().expect("tempdir");

    let output = check_from(elsewhere.path(), Some(&root.path().join("xtask")));

    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "workspace: {} (from CARGO_MANIFEST_DIR)",
            root.path().display()
        )),
        "{err}"
    );
}

#[test]
fn the_root_is_found_by_walking_up_from_the_current_directory() {
    let root = workspace_copy();
    // Make the copy's check fail, so a pass would mean another tree was checked.
    fs::write(root.path().join(PREPARED), "{}\n").expect("spoil the prepared document");

    let output = check_from(&root.path().join("spec/upstream"), None);

    assert_eq!(output.status.code(), Some(1), "stdout: {}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "workspace: {} (found from the current directory)",
            root.path().display()
        )),
        "{err}"
    );
    assert!(
        stdout(&output).contains("FAILED: spec/openapi.json"),
        "{}",
        stdout(&output)
    );

    // A CARGO_MANIFEST_DIR that is not inside a workspace is not trusted either.
    let stray = tempfile::tempdir().expect("tempdir");
    let output = check_from(&root.path().join("spec"), Some(&stray.path().join("xtask")));
    assert!(
        stderr(&output).contains("found from the current directory"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn outside_any_workspace_it_says_how_to_name_one() {
    let nowhere = tempfile::tempdir().expect("tempdir");
    if nowhere
        .path()
        .ancestors()
        .any(|dir| dir.join("Cargo.toml").exists())
    {
        return; // the temporary directory sits inside a workspace on this machine
    }

    let output = check_from(nowhere.path(), None);

    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("no cargo workspace"), "{err}");
    assert!(err.contains("XTASK_ROOT"), "{err}");
}

// --- the simulator's copy of the pin -------------------------------------------------------------

const SIM_DEFINITION: &str = "crates/sim/assets/runwayml-definition.json";

#[test]
fn the_committed_simulator_copy_is_the_pin() {
    assert_eq!(
        fs::read(workspace().join(SIM_DEFINITION)).expect("the simulator's copy"),
        fs::read(workspace().join(UPSTREAM)).expect("the pin"),
        "run `cargo xtask prepare`"
    );
}

#[test]
fn check_fails_when_the_simulator_copy_differs_and_prepare_restores_it() {
    let root = consistent_copy();
    let copy = root.path().join(SIM_DEFINITION);
    assert_eq!(
        fs::read(&copy).expect("fetch-spec wrote the copy"),
        fs::read(root.path().join(UPSTREAM)).expect("pin")
    );
    let output = xtask(root.path(), &["check"]);
    assert!(
        stdout(&output).contains(&format!("ok: {SIM_DEFINITION} is a copy of {UPSTREAM}")),
        "{}",
        stdout(&output)
    );

    let mut edited = fs::read_to_string(&copy).expect("read");
    edited = edited.replacen("\"openapi\"", "\"openapi\" ", 1);
    fs::write(&copy, edited).expect("edit the copy");
    assert_check_fails(
        root.path(),
        &[
            &format!("FAILED: {SIM_DEFINITION} differs from {UPSTREAM}"),
            "first differing line",
            "cargo xtask prepare",
        ],
    );

    let output = xtask(root.path(), &["prepare"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("wrote {SIM_DEFINITION}")),
        "{}",
        stdout(&output)
    );
    let output = xtask(root.path(), &["check"]);
    assert!(output.status.success(), "{}", stdout(&output));

    fs::remove_file(&copy).expect("remove the copy");
    assert_check_fails(root.path(), &[&format!("{SIM_DEFINITION} is missing")]);
}
