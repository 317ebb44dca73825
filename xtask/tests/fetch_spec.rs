//! `cargo xtask fetch-spec`: pinning from a loopback mock of LowCodeAPI (or a local file), the
//! fallback from `/openapi` to `/definition`, every kind of bad input, and `--check`.
//!
//! Process tests run the real binary with `XTASK_ROOT` pointing at a scratch workspace, and
//! every failing run asserts that `spec/` was left byte for byte as it was.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use httpmock::prelude::*;
use serde_json::{Value, json};
use tempfile::TempDir;
use xtask::fetch::{self, Endpoint, FetchOptions, PinOutcome};

/// LowCodeAPI's `/runwayml/definition` response, as the open-source server serves it.
const FIXTURE: &str = include_str!("fixtures/runwayml-definition.json");
const OPENAPI: &str = "/runwayml/openapi";
const DEFINITION: &str = "/runwayml/definition";

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

/// A scratch workspace whose `spec/upstream/` holds the fixture as pin, with its provenance.
fn scratch() -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = dir.path().join("source.json");
    fs::write(&source, FIXTURE).expect("write source");
    let fetched = fetch::read_file(&source, "runwayml").expect("fixture validates");
    assert_eq!(
        fetch::pin(dir.path(), &fetched).expect("pin"),
        PinOutcome::Written
    );
    fs::remove_file(&source).expect("remove source");
    dir
}

/// An empty scratch workspace: nothing pinned yet.
fn empty_scratch() -> TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Every file under `root`, with a hash of its bytes: equal snapshots mean nothing was touched
/// (no file changed, appeared or disappeared, including temporary files).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(dir: &Path, root: &Path, into: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(&path, root, into);
            } else {
                let bytes = fs::read(&path).expect("read file");
                let relative = path.strip_prefix(root).expect("under root").to_path_buf();
                into.insert(relative, fetch::sha256_hex(&bytes));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
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

/// Run `fetch-spec` against `server` with a short timeout.
fn fetch_spec(root: &Path, server: &MockServer, extra: &[&str]) -> Output {
    let base = server.base_url();
    let mut args = vec!["fetch-spec", "--base", base.as_str(), "--timeout", "5"];
    args.extend_from_slice(extra);
    xtask(root, &args)
}

fn provenance(root: &Path) -> Value {
    let text = fs::read_to_string(root.join("spec/upstream/runwayml.provenance.json"))
        .expect("provenance written");
    serde_json::from_str(&text).expect("provenance is JSON")
}

fn pinned_bytes(root: &Path) -> Vec<u8> {
    fs::read(root.join("spec/upstream/runwayml.json")).expect("pin written")
}

/// Assert a failed run: exit code 1, a single `error: …` line on stderr containing `needles`,
/// and `spec/` untouched.
fn assert_failed(
    output: &Output,
    before: &BTreeMap<PathBuf, String>,
    root: &Path,
    needles: &[&str],
) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(1), "stderr: {err}");
    // Every run first says which workspace root it used.
    assert!(err.starts_with("workspace: "), "stderr: {err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|line| !line.starts_with("workspace: "))
        .collect();
    assert_eq!(lines.len(), 1, "one error line on stderr, got: {err}");
    assert!(lines[0].starts_with("error: "), "stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
    assert_eq!(&snapshot(root), before, "spec/ must be left untouched");
}

#[test]
fn pins_the_openapi_endpoint_as_served_with_provenance() {
    let server = MockServer::start();
    let openapi = server.mock(|when, then| {
        when.method(GET).path(OPENAPI).header(
            "user-agent",
            concat!("lowcodeapi-runwayml-xtask/", env!("CARGO_PKG_VERSION")),
        );
        then.status(200)
            .header("content-type", "application/json")
            .body(serde_json::to_string(&fixture()).expect("compact"));
    });
    let definition = server.mock(|when, then| {
        when.method(GET).path(DEFINITION);
        then.status(200).body(FIXTURE);
    });
    let root = empty_scratch();

    let output = fetch_spec(root.path(), &server, &[]);

    assert!(output.status.success(), "stderr: {}", stderr(&output));
    openapi.assert_calls(1);
    definition.assert_calls(0);
    // Served compact, stored pretty-printed with two spaces, keys in served order, final newline.
    assert_eq!(pinned_bytes(root.path()), FIXTURE.as_bytes());
    let record = provenance(root.path());
    assert_eq!(record["provider"], "runwayml");
    assert_eq!(record["source"], server.url(OPENAPI));
    assert_eq!(record["source_kind"], "url");
    assert_eq!(record["endpoint"], "openapi");
    assert_eq!(record["sha256"], fetch::sha256_hex(FIXTURE.as_bytes()));
    assert_eq!(record["bytes"], FIXTURE.len());
    assert_eq!(record["tool"], "xtask");
    assert_eq!(record["tool_version"], env!("CARGO_PKG_VERSION"));
    let pinned_at = record["pinned_at"].as_str().expect("pinned_at");
    let parsed = chrono::DateTime::parse_from_rfc3339(pinned_at).expect("RFC 3339");
    assert_eq!(parsed.offset().local_minus_utc(), 0, "UTC: {pinned_at}");
    assert!(stdout(&output).contains("pinned spec/upstream/runwayml.json"));
}

#[test]
fn falls_back_to_definition_when_openapi_answers_404() {
    let server = MockServer::start();
    let openapi = server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(404).body("Not Found");
    });
    let definition = server.mock(|when, then| {
        when.method(GET).path(DEFINITION);
        then.status(200)
            .header("content-type", "application/json; charset=utf-8")
            .body(FIXTURE);
    });
    let root = empty_scratch();

    let output = fetch_spec(root.path(), &server, &[]);

    assert!(output.status.success(), "stderr: {}", stderr(&output));
    openapi.assert_calls(1);
    definition.assert_calls(1);
    assert_eq!(pinned_bytes(root.path()), FIXTURE.as_bytes());
    let record = provenance(root.path());
    assert_eq!(record["endpoint"], "definition");
    assert_eq!(record["source"], server.url(DEFINITION));
    let notes = record["notes"].to_string();
    assert!(notes.contains("HTTP 404"), "notes: {notes}");
    assert!(stderr(&output).contains("HTTP 404"), "the fallback is told");
}

#[test]
fn falls_back_when_openapi_serves_an_unusable_document() {
    let server = MockServer::start();
    let mut newer = fixture();
    newer["openapi"] = json!("3.1.0");
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(newer.clone());
    });
    server.mock(|when, then| {
        when.method(GET).path(DEFINITION);
        then.status(200).body(FIXTURE);
    });
    let options = FetchOptions {
        base: server.base_url(),
        timeout: Duration::from_secs(5),
        ..FetchOptions::default()
    };

    let fetched = fetch::fetch(&options).expect("definition is usable");

    assert_eq!(fetched.endpoint, Endpoint::Definition);
    assert_eq!(fetched.document, fixture());
    assert!(
        fetched.notes[0].contains("OpenAPI 3.1.0"),
        "{:?}",
        fetched.notes
    );
}

#[test]
fn unwraps_a_data_envelope() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(json!({ "data": fixture() }));
    });
    let root = empty_scratch();
    let options = FetchOptions {
        base: format!("{}/", server.base_url()),
        timeout: Duration::from_secs(5),
        ..FetchOptions::default()
    };

    let fetched = fetch::fetch(&options).expect("fetch");
    assert_eq!(fetched.endpoint, Endpoint::Openapi);
    assert_eq!(fetched.document, fixture());
    assert_eq!(
        fetch::pin(root.path(), &fetched).expect("pin"),
        PinOutcome::Written
    );

    assert_eq!(pinned_bytes(root.path()), FIXTURE.as_bytes());
    let notes = provenance(root.path())["notes"].to_string();
    assert!(notes.contains("envelope"), "notes: {notes}");
}

#[test]
fn html_502_on_both_endpoints_names_both() {
    let server = MockServer::start();
    for path in [OPENAPI, DEFINITION] {
        server.mock(|when, then| {
            when.method(GET).path(path);
            then.status(502)
                .header("content-type", "text/html")
                .body("<html><body><h1>502 Bad Gateway</h1></body></html>");
        });
    }
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(
        &output,
        &before,
        root.path(),
        &[
            &server.url(OPENAPI),
            &server.url(DEFINITION),
            "no usable OpenAPI document",
            "HTTP 502 Bad Gateway (an HTML page)",
        ],
    );
    assert_eq!(stderr(&output).matches("HTTP 502").count(), 2);
}

#[test]
fn html_page_with_200_is_not_json() {
    let server = MockServer::start();
    for path in [OPENAPI, DEFINITION] {
        server.mock(|when, then| {
            when.method(GET).path(path);
            then.status(200)
                .body("<!DOCTYPE html>\n<html><head><title>Login</title></head></html>");
        });
    }
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(&output, &before, root.path(), &["an HTML page, not JSON"]);
}

#[test]
fn invalid_json_is_rejected() {
    let server = MockServer::start();
    let truncated = &FIXTURE[..FIXTURE.len() / 2];
    for path in [OPENAPI, DEFINITION] {
        server.mock(|when, then| {
            when.method(GET).path(path);
            then.status(200)
                .header("content-type", "application/json")
                .body(truncated);
        });
    }
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(&output, &before, root.path(), &["not valid JSON"]);
    assert_eq!(stderr(&output).matches("not valid JSON").count(), 2);
}

#[test]
fn openapi_3_1_is_rejected_with_the_version_found() {
    let server = MockServer::start();
    let mut newer = fixture();
    newer["openapi"] = json!("3.1.0");
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(newer.clone());
    });
    server.mock(|when, then| {
        when.method(GET).path(DEFINITION);
        then.status(404);
    });
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(
        &output,
        &before,
        root.path(),
        &[
            "an OpenAPI 3.1.0 document; OpenAPI 3.0.x is required",
            "HTTP 404",
        ],
    );
}

#[test]
fn swagger_2_is_rejected_with_the_version_found() {
    let server = MockServer::start();
    let swagger = json!({
        "swagger": "2.0",
        "info": { "title": "RunwayML", "version": "1" },
        "paths": { "/v1/tasks/{id}": { "get": { "responses": { "200": { "description": "ok" } } } } }
    });
    for path in [OPENAPI, DEFINITION] {
        server.mock(|when, then| {
            when.method(GET).path(path);
            then.status(200).json_body(swagger.clone());
        });
    }
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(
        &output,
        &before,
        root.path(),
        &["a Swagger 2.0 document; OpenAPI 3.0.x is required"],
    );
}

#[test]
fn empty_or_missing_paths_are_rejected() {
    let root = scratch();
    let before = snapshot(root.path());
    let inputs = tempfile::tempdir().expect("tempdir");
    let mut empty = fixture();
    empty["paths"] = json!({});
    let mut missing = fixture();
    missing.as_object_mut().expect("object").remove("paths");

    for (name, document, message) in [
        ("empty.json", empty, "the document's `paths` is empty"),
        ("missing.json", missing, "the document has no `paths`"),
    ] {
        let file = inputs.path().join(name);
        fs::write(&file, serde_json::to_string(&document).expect("json")).expect("write");
        let output = xtask(
            root.path(),
            &["fetch-spec", "--from", file.to_str().expect("utf-8 path")],
        );
        assert_failed(&output, &before, root.path(), &[message, name]);
    }
}

#[test]
fn empty_paths_from_the_server_is_rejected() {
    let server = MockServer::start();
    let mut empty = fixture();
    empty["paths"] = json!({});
    for path in [OPENAPI, DEFINITION] {
        server.mock(|when, then| {
            when.method(GET).path(path);
            then.status(200).json_body(empty.clone());
        });
    }
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(&output, &before, root.path(), &["`paths` is empty"]);
}

#[test]
fn a_slow_server_times_out_without_falling_back() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).delay(Duration::from_secs(3)).body(FIXTURE);
    });
    let definition = server.mock(|when, then| {
        when.method(GET).path(DEFINITION);
        then.status(200).body(FIXTURE);
    });
    let root = scratch();
    let before = snapshot(root.path());
    let base = server.base_url();

    let output = xtask(
        root.path(),
        &["fetch-spec", "--base", &base, "--timeout", "1"],
    );

    assert_failed(
        &output,
        &before,
        root.path(),
        &[&server.url(OPENAPI), "timed out after 1 second"],
    );
    definition.assert_calls(0);
}

#[test]
fn the_timeout_bounds_the_whole_request_not_each_read() {
    // A server that answers at once, then trickles the body: every read is well within the
    // timeout, the whole request is not. httpmock cannot trickle, so this is a bare socket.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut request = [0_u8; 4096];
        let _ = stream.read(&mut request);
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            FIXTURE.len()
        );
        let _ = stream.write_all(head.as_bytes());
        // 12 chunks, 300 ms apart: 3.3 s in all, bounded whatever the client does.
        for chunk in FIXTURE.as_bytes().chunks(FIXTURE.len().div_ceil(12)) {
            if stream
                .write_all(chunk)
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let root = scratch();
    let before = snapshot(root.path());

    let output = xtask(
        root.path(),
        &["fetch-spec", "--base", &base, "--timeout", "1"],
    );

    assert_failed(&output, &before, root.path(), &["timed out after 1 second"]);
    server.join().expect("server thread");
}

#[test]
fn connection_refused_is_a_clear_error() {
    // A port that was just free: nothing listens on it any more.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let root = scratch();
    let before = snapshot(root.path());
    let base = format!("http://127.0.0.1:{port}");

    let output = xtask(
        root.path(),
        &["fetch-spec", "--base", &base, "--timeout", "2"],
    );

    assert_failed(&output, &before, root.path(), &["cannot connect", &base]);
}

#[test]
fn other_client_errors_do_not_fall_back() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(403).body("forbidden");
    });
    let definition = server.mock(|when, then| {
        when.method(GET).path(DEFINITION);
        then.status(200).body(FIXTURE);
    });
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &[]);

    assert_failed(&output, &before, root.path(), &["HTTP 403 Forbidden"]);
    definition.assert_calls(0);
}

#[test]
fn a_missing_from_file_is_a_clear_error() {
    let root = scratch();
    let before = snapshot(root.path());

    let output = xtask(
        root.path(),
        &["fetch-spec", "--from", "/nonexistent/runwayml.json"],
    );

    assert_failed(
        &output,
        &before,
        root.path(),
        &["cannot read /nonexistent/runwayml.json"],
    );
}

#[test]
fn an_invalid_provider_name_is_rejected() {
    let root = scratch();
    let before = snapshot(root.path());

    let output = xtask(
        root.path(),
        &[
            "fetch-spec",
            "--provider",
            "../escape",
            "--from",
            "/dev/null",
        ],
    );

    assert_failed(
        &output,
        &before,
        root.path(),
        &["invalid provider `../escape`"],
    );
}

#[test]
fn pinning_from_a_file_records_it_as_a_file() {
    let root = empty_scratch();
    let inputs = tempfile::tempdir().expect("tempdir");
    let file = inputs.path().join("lowcodeapi-runwayml-definition.json");
    fs::write(&file, FIXTURE).expect("write");
    let given = file.to_str().expect("utf-8 path");

    let output = xtask(root.path(), &["fetch-spec", "--from", given]);

    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert_eq!(pinned_bytes(root.path()), FIXTURE.as_bytes());
    let record = provenance(root.path());
    assert_eq!(record["source"], given);
    assert_eq!(record["source_kind"], "file");
    assert_eq!(record["endpoint"], "file");
    assert_eq!(record["sha256"], fetch::sha256_hex(FIXTURE.as_bytes()));
    let notes = record["notes"].to_string();
    assert!(notes.contains("local file"), "notes: {notes}");
}

#[test]
fn re_pinning_the_committed_pin_changes_nothing() {
    // The workspace's own pin, not the fixture: a re-pin of it must be byte-identical.
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/upstream/runwayml.json");
    let bytes = fs::read(&committed).expect("the workspace has a pin");
    let document: Value = serde_json::from_slice(&bytes).expect("pin is JSON");
    assert_eq!(fetch::render(&document).as_bytes(), bytes.as_slice());

    let root = empty_scratch();
    let upstream = root.path().join("spec/upstream");
    fs::create_dir_all(&upstream).expect("mkdir");
    fs::write(upstream.join("runwayml.json"), &bytes).expect("copy pin");
    let given = committed.to_str().expect("utf-8 path");

    let first = xtask(root.path(), &["fetch-spec", "--from", given]);
    assert!(first.status.success(), "stderr: {}", stderr(&first));
    assert_eq!(pinned_bytes(root.path()), bytes);
    let after_first = snapshot(root.path());

    // Same document, same source: nothing is rewritten, not even the provenance's time.
    let second = xtask(root.path(), &["fetch-spec", "--from", given]);
    assert!(second.status.success(), "stderr: {}", stderr(&second));
    assert!(
        stdout(&second).contains("nothing written"),
        "{}",
        stdout(&second)
    );
    assert_eq!(snapshot(root.path()), after_first);
}

#[test]
fn check_passes_when_the_live_document_equals_the_pin() {
    let server = MockServer::start();
    // Same document, keys in another order and compact: equal as JSON.
    let mut reordered = serde_json::Map::new();
    let document = fixture();
    for (key, value) in document.as_object().expect("object").iter().rev() {
        reordered.insert(key.clone(), value.clone());
    }
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(Value::Object(reordered.clone()));
    });
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &["--check"]);

    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    assert!(stdout(&output).contains("matches"), "{}", stdout(&output));
    assert_eq!(snapshot(root.path()), before, "--check writes nothing");
}

#[test]
fn check_reports_a_different_servers_section_as_information_and_exits_0() {
    let server = MockServer::start();
    let mut live = fixture();
    live["servers"] = json!([{"url": "https://lowcode.example.com/runwayml"}]);
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(live.clone());
    });
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &["--check"]);

    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout: {out}\nstderr: {}",
        stderr(&output)
    );
    assert!(
        out.contains("except for deployment-specific sections"),
        "{out}"
    );
    assert!(out.contains("information, not drift"), "{out}");
    assert!(
        out.contains("https://lowcode.example.com/runwayml"),
        "{out}"
    );
    assert!(!out.contains("To re-pin"), "{out}");
    assert_eq!(snapshot(root.path()), before, "--check writes nothing");

    // With a real change as well, the check fails and still shows the servers line apart.
    let server = MockServer::start();
    let mut live = drifted();
    live["servers"] = json!([{"url": "https://lowcode.example.com/runwayml"}]);
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(live.clone());
    });
    let output = fetch_spec(root.path(), &server, &["--check"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.contains("operations: 1 added, 1 removed, 2 changed"),
        "{out}"
    );
    assert!(out.contains("information, not drift"), "{out}");
}

/// The fixture with POST /v1/text_to_image added, DELETE /v1/tasks/id removed, and
/// POST /v1/image_to_video and GET /v1/tasks/id changed.
fn drifted() -> Value {
    let mut live = fixture();
    let paths = live["paths"].as_object_mut().expect("paths");
    paths.insert(
        "/v1/text_to_image".to_owned(),
        json!({ "post": { "summary": "Generate an image from text", "responses": {} } }),
    );
    paths["/v1/tasks/id"]
        .as_object_mut()
        .expect("tasks")
        .remove("delete");
    let image = &mut paths["/v1/image_to_video"]["post"];
    image["requestBody"]["content"]["application/json"]["schema"]["properties"]["callbackUrl"] =
        json!({ "type": "string", "description": "Called when the task ends." });
    image["responses"]["200"] = json!({ "description": "Task created" });
    paths["/v1/tasks/id"]["get"]["parameters"][0]["schema"]["type"] = json!("integer");
    live
}

#[test]
fn check_reports_added_removed_and_changed_operations() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).json_body(drifted());
    });
    let root = scratch();
    let before = snapshot(root.path());

    let output = fetch_spec(root.path(), &server, &["--check"]);

    let out = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {out}\nstderr: {}",
        stderr(&output)
    );
    for needle in [
        "operations: 1 added, 1 removed, 2 changed",
        "+ added    POST /v1/text_to_image",
        "- removed  DELETE /v1/tasks/id",
        "~ changed  POST /v1/image_to_video",
        "body field added: `callbackUrl` (string)",
        "response added: 200 (\"Task created\")",
        "~ changed  GET /v1/tasks/id",
        "parameter changed: path `id`: type string → integer",
        "cargo xtask fetch-spec",
    ] {
        assert!(out.contains(needle), "stdout lacks {needle:?}:\n{out}");
    }
    assert_eq!(snapshot(root.path()), before, "--check writes nothing");
}

#[test]
fn check_from_a_file_reports_drift_in_process_too() {
    let root = scratch();
    let inputs = tempfile::tempdir().expect("tempdir");
    let file = inputs.path().join("live.json");
    fs::write(
        &file,
        serde_json::to_string_pretty(&drifted()).expect("json"),
    )
    .expect("write");
    let before = snapshot(root.path());
    let options = FetchOptions {
        from: Some(file),
        ..FetchOptions::default()
    };

    let code = fetch::run(root.path(), &options, true).expect("run");

    assert_eq!(code, std::process::ExitCode::from(1));
    assert_eq!(snapshot(root.path()), before);
}

#[test]
fn check_without_a_pin_says_to_pin_first() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path(OPENAPI);
        then.status(200).body(FIXTURE);
    });
    let root = empty_scratch();

    let output = fetch_spec(root.path(), &server, &["--check"]);

    assert_failed(
        &output,
        &BTreeMap::new(),
        root.path(),
        &["pin it first with `cargo xtask fetch-spec`"],
    );
}
