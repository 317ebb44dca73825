//! The bodies of the fuzz targets, shared by the libFuzzer binaries (`fuzz_targets/`, nightly,
//! `cargo fuzz run <target>`) and the stable driver (`examples/stable.rs`).
//!
//! Each target feeds arbitrary bytes to one decoder of wire input and checks what it promises:
//! never a panic, and for each an invariant (a payload is JSON, the token is never shown, an
//! accepted task id is URL-safe, ...). A broken invariant panics, which both engines report as a
//! crash with the input that caused it.

use arbitrary::Unstructured;
use lowcodeapi_runwayml::fuzzing::{self, Unwrapped};
use lowcodeapi_runwayml::{MAX_TASK_ID_LEN, MediaUri, TaskId, TaskStatus};
use serde_json::{Map, Value};

/// Every target, by name.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("envelope", envelope),
    ("error_body", error_body),
    ("task", task),
    ("task_id", task_id),
    ("media_uri", media_uri),
    ("redact", redact),
    ("prepare", prepare),
];

/// The token the error and redaction targets plant in bodies; it must never come back out.
pub const TOKEN: &str = "at_FUZZ_t0ken_9f8e7d6c";

/// A 2xx body: the success envelope of either dialect, then the task and create decoders.
pub fn envelope(data: &[u8]) {
    if let Unwrapped::Payload(_, payload) = fuzzing::unwrap_success_body(data) {
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(&payload).is_ok(),
            "unwrap_success returned a payload that is not JSON"
        );
    }
    if let Ok(task) = fuzzing::decode_task_response(data) {
        check_task(&task);
    }
    let _ = fuzzing::parse_created_json(data);
}

/// An error answer: `[status: 2 bytes][plant: 1][at: 1][header length: 1][header][body]`. The
/// token is planted in the body at `at` when `plant` is odd; the decoded error must not show it.
pub fn error_body(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let status = u16::from_be_bytes([data[0], data[1]]);
    let plant = data[2] & 1 == 1;
    let at = usize::from(data[3]);
    let header_len = usize::from(data[4]).min(data.len() - 5);
    let header = (header_len > 0).then(|| &data[5..5 + header_len]);
    let mut body = data[5 + header_len..].to_vec();
    if plant {
        let at = at.min(body.len());
        body.splice(at..at, TOKEN.bytes());
    }
    let error = fuzzing::decode_error_body(status, header, &body, Some(TOKEN));
    let shown = format!("{error} {error:?} {error:#?}");
    assert!(!shown.contains(TOKEN), "the token is shown: {shown}");
    assert_eq!(error.status, status);
    if let Some(after) = error.retry_after {
        assert!(after.as_secs() <= 1_000_000_000);
    }
    let _ = fuzzing::retry_after(header, &body);
    let miss = fuzzing::is_routing_miss(status, &body);
    assert!(!miss || matches!(status, 404 | 405));
}

/// An unwrapped task object.
pub fn task(data: &[u8]) {
    if let Ok(task) = fuzzing::parse_task_json(data) {
        check_task(&task);
    }
}

fn check_task(task: &lowcodeapi_runwayml::Task) {
    assert_eq!(TaskStatus::parse(task.status.as_str()), task.status);
    let _ = format!("{task:?} {} {}", task.id, task.status);
    if let Some(code) = &task.failure_code {
        let _ = (code.is_retryable(), code.to_string());
    }
}

/// A task id typed by a user: accepted ids are URL-safe and bounded.
pub fn task_id(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match TaskId::parse(text.as_ref()) {
        Ok(id) => {
            assert!(!text.is_empty() && text.len() <= MAX_TASK_ID_LEN);
            assert!(
                text.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{text:?} accepted"
            );
            assert_eq!(id.as_str(), text);
        }
        Err(error) => assert!(error.to_string().len() < 1000),
    }
    if let Ok(json) = serde_json::to_string(text.as_ref()) {
        let _ = serde_json::from_str::<TaskId>(&json);
    }
}

/// A prompt image: a URI typed by a user, or the bytes of a file.
pub fn media_uri(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(uri) = MediaUri::parse(&text) {
        assert!(
            !text.chars().any(|c| c.is_whitespace() || c.is_control()),
            "{text:?} accepted"
        );
        let _ = format!("{uri} {uri:?} {:?}", uri.kind());
    }
    if let Ok(uri) = MediaUri::from_bytes(data) {
        assert!(uri.as_str().starts_with("data:"));
        let _ = format!("{uri} {uri:?}");
    }
}

/// Redaction: `[token length: 1][token tail][text]`, the token planted at several places.
pub fn redact(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 32).min(rest.len());
    // Real tokens: `at_` and URL-safe characters.
    let tail: String = rest[..n]
        .iter()
        .map(|b| {
            const SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
            SAFE[usize::from(*b) % SAFE.len()] as char
        })
        .collect();
    let token = format!("at_{tail}x");
    let text = String::from_utf8_lossy(&rest[n..]);
    let mid = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    let planted = format!(
        "{token}{}{token}?api_token={token}&{}\"api_token\":\"{token}\"",
        &text[..mid],
        &text[mid..]
    );
    let out = fuzzing::redact(&planted, Some(&token));
    assert!(!out.contains(&token), "the token survived: {out}");
    let short = fuzzing::excerpt(planted.as_bytes(), usize::from(data[0]), Some(&token));
    assert!(
        !short.contains(&token),
        "the token survived an excerpt: {short}"
    );
    assert!(!short.contains('\n'));
}

const UPSTREAM: &str = include_str!("../../spec/upstream/runwayml.json");
const OVERLAY: &str = include_str!("../../spec/overlay.yaml");

/// Keys the decoders and `prepare` look at.
const KEYS: &[&str] = &[
    "openapi",
    "info",
    "title",
    "version",
    "servers",
    "url",
    "paths",
    "get",
    "post",
    "delete",
    "parameters",
    "in",
    "name",
    "path",
    "query",
    "required",
    "schema",
    "type",
    "properties",
    "items",
    "requestBody",
    "content",
    "application/json",
    "responses",
    "200",
    "401",
    "operationId",
    "components",
    "schemas",
    "$ref",
    "externalDocs",
    "oneOf",
    "anyOf",
    "allOf",
    "data",
    "result",
    "provider",
    "error",
    "message",
    "headers",
    "retry-after",
    "id",
    "status",
];

fn value(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    let top = if depth == 0 { 4 } else { 6 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::String(if u.arbitrary()? {
            (*u.choose(KEYS)?).to_owned()
        } else {
            u.arbitrary()?
        }),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => {
            let n = u.int_in_range(0..=4)?;
            Value::Array(
                (0..n)
                    .map(|_| value(u, depth - 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut map = Map::new();
            for _ in 0..n {
                map.insert(key(u)?, value(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

fn key(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    Ok(if u.ratio(3, 4)? {
        (*u.choose(KEYS)?).to_owned()
    } else {
        u.arbitrary()?
    })
}

fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let child = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(child.clone());
                pointers(v, &child, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let child = format!("{at}/{i}");
                out.push(child.clone());
                pointers(v, &child, out);
            }
        }
        _ => {}
    }
}

fn mutate(document: &mut Value, u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let mut all = Vec::new();
    pointers(document, "", &mut all);
    if all.is_empty() {
        return Ok(());
    }
    let pointer = u.choose(&all)?.clone();
    let (parent, last) = pointer.rsplit_once('/').expect("a child pointer");
    let last = last.replace("~1", "/").replace("~0", "~");
    match u.int_in_range(0..=3)? {
        0 => match document.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&last);
            }
            Some(Value::Array(items)) => {
                if let Ok(n) = last.parse::<usize>()
                    && n < items.len()
                {
                    items.remove(n);
                }
            }
            _ => {}
        },
        1 => {
            let replacement = value(u, 3)?;
            if let Some(node) = document.pointer_mut(&pointer) {
                *node = replacement;
            }
        }
        2 => {
            let new_key = key(u)?;
            if let Some(Value::Object(map)) = document.pointer_mut(parent)
                && let Some(moved) = map.remove(&last)
            {
                map.insert(new_key, moved);
            }
        }
        _ => {
            if let Some(Value::Array(items)) = document.pointer_mut(parent)
                && let Ok(n) = last.parse::<usize>()
                && let Some(item) = items.get(n).cloned()
            {
                items.push(item);
            }
        }
    }
    Ok(())
}

/// `xtask prepare` on LowCodeAPI's document after up to 8 random mutations (or on the input
/// itself when it is a JSON document): `Ok` with a document openapiv3 parses, or `Err`.
pub fn prepare(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let document = match u.int_in_range(0..=7u8) {
        Ok(0) => match serde_json::from_slice::<Value>(u.take_rest()) {
            Ok(document) => document,
            Err(_) => return,
        },
        _ => {
            let mut document: Value = serde_json::from_str(UPSTREAM).expect("the pin is JSON");
            let n = u.int_in_range(1..=8u8).unwrap_or(1);
            for _ in 0..n {
                if mutate(&mut document, &mut u).is_err() {
                    break;
                }
            }
            document
        }
    };
    if let Ok(prepared) = xtask::prepare::prepare(&document, OVERLAY) {
        let parsed = serde_json::from_value::<openapiv3::OpenAPI>(prepared.document);
        assert!(
            parsed.is_ok(),
            "prepare returned a document that is not OpenAPI 3.0: {parsed:?}"
        );
    }
}

/// Inputs every engine starts from, per target.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let task = r#"{"id":"17f20503-6c24-4c16-946b-35dbbce2af2f","status":"SUCCEEDED","createdAt":"2026-11-28T12:00:00.000Z","output":["https://x.invalid/0.mp4"],"cost":{"credits":25}}"#;
    let running = r#"{"id":"t-1","status":"RUNNING","progress":0.42,"estimatedCost":{"credits":5},"newField":[1,{"a":null}]}"#;
    let failed = r#"{"id":"t-2","status":"FAILED","failure":"It failed.","failureCode":"SAFETY.INPUT.TEXT"}"#;
    let bodies: Vec<String> = vec![
        task.to_owned(),
        running.to_owned(),
        failed.to_owned(),
        format!(r#"{{"data":{task}}}"#),
        format!(
            r#"{{"message":"Request completed","provider":"runwayml","result":{running},"response_headers":{{"content-type":"application/json"}}}}"#
        ),
        r#"{"data":{"id":"17f20503-6c24-4c16-946b-35dbbce2af2f","estimatedCost":{"credits":25}}}"#
            .to_owned(),
        r#"{"message":"Request completed","provider":"runwayml","result":"","response_headers":{}}"#
            .to_owned(),
        r#"{"data":""}"#.to_owned(),
        r#"{"data":null}"#.to_owned(),
    ];
    let errors: Vec<&[u8]> = vec![
        br#"{"message":"A valid API token is required to access this API.","provider":"runwayml","error":{"code":401,"logging":{"query":{"api_token":"at_FUZZ_t0ken_9f8e7d6c"},"headers":{}}}}"#,
        br#"{"message":"Error received from the runwayml API","provider":"runwayml","error":{"error":"Validation of body failed","issues":[{"code":"invalid_enum_value","path":["promptImage",0,"position"],"message":"Invalid enum value"}],"docUrl":"https://docs.dev.runwayml.com/api"},"headers":{"retry-after":"7"}}"#,
        br#"{"data":{"error":{"message":"Too many requests","code":"RATE_LIMITED"}}}"#,
        br#"{"message":"Not Found"}"#,
        b"<html><body><center><h1>502 Bad Gateway</h1></center></body></html>",
        br#"{"message":"Error received from the runwayml API","provider":"runwayml","error":"Internal boom","headers":{}}"#,
    ];
    match target {
        "envelope" => bodies.into_iter().map(String::into_bytes).collect(),
        "task" => vec![task.into(), running.into(), failed.into()],
        "error_body" => {
            let mut out = Vec::new();
            for (i, body) in errors.iter().enumerate() {
                for (status, header) in [
                    (429u16, &b"3"[..]),
                    (401, b""),
                    (404, b""),
                    (502, b"Wed, 21 Oct 2015 07:28:00 GMT"),
                ] {
                    let mut input = status.to_be_bytes().to_vec();
                    input.push(i as u8);
                    input.push(40);
                    input.push(header.len() as u8);
                    input.extend_from_slice(header);
                    input.extend_from_slice(body);
                    out.push(input);
                }
            }
            out
        }
        "task_id" => [
            "17f20503-6c24-4c16-946b-35dbbce2af2f",
            "task_01",
            "../admin",
            "a%2F",
            "",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect(),
        "media_uri" => vec![
            b"https://example.com/a.jpg".to_vec(),
            b"runway://uploads/abc".to_vec(),
            b"data:image/png;base64,iVBORw0KGgo=".to_vec(),
            b"http://127.0.0.1/a.png".to_vec(),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec(),
            b"\xff\xd8\xff\xe0\0\x10JFIF\0".to_vec(),
            b"RIFF\0\0\0\0WEBPVP8 ".to_vec(),
        ],
        "redact" => vec![
            b"\x08abcdefgh GET /runwayml/v1/tasks/id?id=1&api_token=at_x".to_vec(),
            b"\x00{\"query\":{\"api_token\":\"at_y\"}}".to_vec(),
        ],
        "prepare" => vec![
            vec![1, 1, 0, 0, 0, 0],
            vec![3, 5, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            [&[0u8][..], UPSTREAM.as_bytes()].concat(),
        ],
        _ => Vec::new(),
    }
}

/// Tokens the stable driver splices into inputs.
pub const DICTIONARY: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"\"",
    b"null",
    b"true",
    b"false",
    b"0",
    b"-1",
    b"1e999",
    b"\"data\"",
    b"\"result\"",
    b"\"provider\"",
    b"\"error\"",
    b"\"message\"",
    b"\"headers\"",
    b"\"retry-after\"",
    b"\"id\"",
    b"\"status\"",
    b"\"issues\"",
    b"\"path\"",
    b"\"docUrl\"",
    b"\"code\"",
    b"\"api_token\"",
    b"api_token=",
    b"\\u0000",
    b"\\\"",
    b"\xf0\x9f\x8e\xac",
    b"https://",
    b"runway://",
    b"data:image/png;base64,",
    b"PENDING",
    b"SUCCEEDED",
    b"FAILED",
    b"at_FUZZ_t0ken_9f8e7d6c",
];
