//! Every decoder of wire input, on arbitrary input: it never panics, and what it accepts keeps
//! its promises.
//!
//! - the success envelope (`unwrap_success`) and the error decoder (`decode_error`, with
//!   `Retry-After` and routing-miss detection) on arbitrary bytes, arbitrary JSON and
//!   envelope-shaped JSON with random fields;
//! - the task decoder on task objects with random extra keys and random statuses;
//! - `xtask prepare` on mutated copies of LowCodeAPI's document: `Ok` with a document openapiv3
//!   parses, or a clear `Err`, never a panic;
//! - `TaskId::parse` and `MediaUri::parse` on arbitrary strings;
//! - redaction: a token put anywhere in a body never comes back out of an error.
//!
//! Case counts are modest (256 per property; `PROPTEST_CASES` overrides) so the file runs in
//! seconds; the fuzz targets in `fuzz/` run the same decoders for as long as one likes.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lowcodeapi_runwayml::fuzzing::{self, Unwrapped};
use lowcodeapi_runwayml::{Dialect, MAX_TASK_ID_LEN, MediaUri, TaskId, TaskStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Value, json};

const UPSTREAM: &str = include_str!("../spec/upstream/runwayml.json");
const OVERLAY: &str = include_str!("../spec/overlay.yaml");

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        // Failures are printed with their minimal input; nothing is written into the tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------------

/// Keys the decoders look at, so random objects hit their branches.
const KEYS: &[&str] = &[
    "data",
    "result",
    "provider",
    "error",
    "message",
    "headers",
    "response_headers",
    "retry-after",
    "Retry-After",
    "id",
    "status",
    "code",
    "issues",
    "path",
    "docUrl",
    "logging",
    "query",
    "api_token",
    "output",
    "failure",
    "failureCode",
    "progress",
    "cost",
    "estimatedCost",
    "credits",
    "createdAt",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(KEYS).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        (0u32..100_000).prop_map(Value::from),
        Just(json!(1e308)),
        Just(json!(-0.0)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
        proptest::sample::select(vec![
            "",
            "PENDING",
            "SUCCEEDED",
            "FAILED",
            "7",
            "1.5",
            "-3",
            "NaN",
            "inf",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "99999999999999999999",
            "runwayml",
            "Not Found",
            "\u{0}\u{7f}\n\r\t",
            "é漢字🎬",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

/// Any JSON value, nested up to a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Objects shaped like LowCodeAPI's envelopes (either dialect), with random contents and extra
/// random fields.
fn envelope_like() -> impl Strategy<Value = Value> {
    let opt = || proptest::option::of(json_value());
    (
        (opt(), opt(), opt(), opt(), opt()),
        (opt(), opt(), opt(), opt()),
        proptest::collection::vec((key(), json_value()), 0..4),
    )
        .prop_map(
            |((data, result, provider, error, message), (headers, retry, id, status), extra)| {
                let mut object = Map::new();
                let fields = [
                    ("data", data),
                    ("result", result),
                    ("provider", provider),
                    ("error", error),
                    ("message", message),
                    ("id", id),
                    ("status", status),
                ];
                for (name, value) in fields {
                    if let Some(value) = value {
                        object.insert(name.to_owned(), value);
                    }
                }
                if headers.is_some() || retry.is_some() {
                    let mut h = match headers {
                        Some(Value::Object(h)) => h,
                        _ => Map::new(),
                    };
                    if let Some(retry) = retry {
                        h.insert("retry-after".into(), retry);
                    }
                    object.insert("headers".into(), Value::Object(h));
                }
                for (k, v) in extra {
                    object.insert(k, v);
                }
                Value::Object(object)
            },
        )
}

/// A hosted error: `{"data":{"error":…}}` with random inner fields.
fn hosted_error() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(json_value()),
        proptest::option::of(json_value()),
        proptest::option::of(json_value()),
        proptest::option::of(json_value()),
    )
        .prop_map(|(message, code, issues, doc)| {
            let mut inner = Map::new();
            for (name, value) in [
                ("message", message),
                ("code", code),
                ("issues", issues),
                ("docUrl", doc),
            ] {
                if let Some(value) = value {
                    inner.insert(name.into(), value);
                }
            }
            json!({"data": {"error": inner}})
        })
}

/// Bytes: random, random JSON, envelope-shaped JSON, or a prefix of any of them.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        envelope_like().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        hosted_error().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        (envelope_like(), any::<prop::sample::Index>()).prop_map(|(v, cut)| {
            let bytes = serde_json::to_vec(&v).unwrap();
            let at = cut.index(bytes.len() + 1);
            bytes[..at].to_vec()
        }),
    ]
}

/// A distinctive token: what a user pastes.
fn token() -> impl Strategy<Value = String> {
    "at_[A-Za-z0-9]{12,32}"
}

// ---------------------------------------------------------------------------------------------
// Envelope and error decoding
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn success_envelopes_never_panic_and_payloads_are_json(body in body()) {
        match fuzzing::unwrap_success_body(&body) {
            Unwrapped::Payload(_, payload) => {
                prop_assert!(
                    serde_json::from_slice::<Value>(&payload).is_ok(),
                    "a payload that is not JSON: {:?}",
                    String::from_utf8_lossy(&payload)
                );
            }
            Unwrapped::Empty(_) | Unwrapped::Bare => {}
        }
        // The whole GET path: envelope, then task. Errors are fine, panics are not.
        let _ = fuzzing::decode_task_response(&body);
        let _ = fuzzing::parse_created_json(&body);
    }

    #[test]
    fn the_one_pass_hosted_read_agrees_with_unwrapping_then_decoding(body in body()) {
        prop_assert!(fuzzing::hosted_one_pass_agrees(&body));
        let mut hosted = b"{\"data\":".to_vec();
        hosted.extend_from_slice(&body);
        hosted.push(b'}');
        prop_assert!(fuzzing::hosted_one_pass_agrees(&hosted));
    }

    #[test]
    fn success_envelopes_of_both_dialects_give_back_their_payload(
        payload in json_value(),
        extra in proptest::collection::vec((key(), json_value()), 0..3),
    ) {
        let empty = matches!(&payload, Value::Null)
            || payload == json!("")
            || payload == json!({});
        let mut hosted = Map::new();
        hosted.insert("data".into(), payload.clone());
        let mut self_hosted = Map::new();
        self_hosted.insert("message".into(), json!("Request completed"));
        self_hosted.insert("provider".into(), json!("runwayml"));
        self_hosted.insert("result".into(), payload.clone());
        for (k, v) in extra {
            if !matches!(k.as_str(), "data" | "result" | "provider" | "id" | "status") {
                hosted.insert(k.clone(), v.clone());
                self_hosted.insert(k, v);
            }
        }
        for (envelope, dialect) in [(hosted, Dialect::Hosted), (self_hosted, Dialect::SelfHosted)] {
            let bytes = serde_json::to_vec(&Value::Object(envelope)).unwrap();
            match fuzzing::unwrap_success_body(&bytes) {
                Unwrapped::Payload(Some(d), inner) => {
                    prop_assert_eq!(d, dialect);
                    prop_assert!(!empty);
                    // The payload comes back byte for byte, a slice of the envelope.
                    prop_assert_eq!(inner, serde_json::to_vec(&payload).unwrap());
                }
                Unwrapped::Empty(d) => {
                    prop_assert_eq!(d, dialect);
                    prop_assert!(empty, "{payload} read as empty");
                }
                other => prop_assert!(false, "{dialect:?} envelope read as {other:?}"),
            }
        }
    }

    #[test]
    fn error_bodies_never_panic(
        status in prop_oneof![100u16..600, any::<u16>()],
        header in proptest::option::of(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            "[0-9]{1,25}(\\.[0-9]{0,5})?".prop_map(String::into_bytes),
            Just(b"Wed, 21 Oct 2015 07:28:00 GMT".to_vec()),
            Just(b"-1".to_vec()),
            Just(b"1e400".to_vec()),
        ]),
        body in body(),
        token in proptest::option::of(token()),
    ) {
        let error = fuzzing::decode_error_body(status, header.as_deref(), &body, token.as_deref());
        let shown = format!("{error} {error:?} {error:#?}");
        if let Some(token) = &token {
            prop_assert!(!shown.contains(token.as_str()), "the token is shown: {shown}");
        }
        prop_assert_eq!(error.status, status);
        if let Some(after) = error.retry_after {
            prop_assert!(after.as_secs() <= 1_000_000_000);
        }
        let _ = fuzzing::retry_after(header.as_deref(), &body);
        let _ = fuzzing::is_routing_miss(status, &body);
    }

    #[test]
    fn routing_misses_are_only_404_or_405_without_a_provider_payload(
        status in 100u16..600,
        body in body(),
    ) {
        let miss = fuzzing::is_routing_miss(status, &body);
        if miss {
            prop_assert!(matches!(status, 404 | 405));
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                prop_assert!(value.get("provider").is_none());
                prop_assert!(value.get("error").is_none());
            }
        }
    }

    #[test]
    fn retry_after_in_the_self_hosted_body_is_read(seconds in 0u32..100_000, as_text in any::<bool>()) {
        let value = if as_text { json!(seconds.to_string()) } else { json!(seconds) };
        let body = serde_json::to_vec(&json!({
            "message": "Error received from the runwayml API",
            "provider": "runwayml",
            "error": {"error": "You have exceeded the rate limit."},
            "headers": {"content-type": "application/json", "retry-after": value},
        }))
        .unwrap();
        let after = fuzzing::retry_after(None, &body);
        prop_assert_eq!(after, Some(std::time::Duration::from_secs(u64::from(seconds))));
        let error = fuzzing::decode_error_body(429, None, &body, None);
        prop_assert_eq!(error.retry_after, after);
        prop_assert_eq!(error.dialect, Some(Dialect::SelfHosted));
    }

    /// The self-hosted 401 echoes the query back, token included; so can any body. Whatever
    /// the body, wherever the token sits in it, the decoded error never shows it.
    #[test]
    fn a_token_anywhere_in_an_error_body_is_never_shown(
        token in token(),
        doc in envelope_like(),
        at in any::<prop::sample::Index>(),
        status in 400u16..600,
    ) {
        let mut text = serde_json::to_string(&doc).unwrap();
        // Inside a string value, in the query form, and as the echoed `logging.query`.
        let cut = {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        text.insert_str(cut, &token);
        let bodies = [
            text.into_bytes(),
            serde_json::to_vec(&json!({
                "message": format!("bad ?api_token={token}&id=1"),
                "provider": "runwayml",
                "error": {"code": 401, "logging": {"query": {"api_token": token}, "path": format!("/runwayml/v1/tasks/id?api_token={token}")}},
            }))
            .unwrap(),
            serde_json::to_vec(&json!({"data": {"error": {"message": token, "code": token, "docUrl": token, "issues": [{"path": [token], "message": token, "code": token}]}}})).unwrap(),
        ];
        for body in bodies {
            let error = fuzzing::decode_error_body(status, None, &body, Some(&token));
            let shown = format!("{error} {error:?} {error:#?}");
            prop_assert!(!shown.contains(token.as_str()), "the token is shown: {shown}");
        }
    }

    #[test]
    fn redaction_masks_the_token_and_every_api_token_value(
        before in ".{0,40}",
        after in ".{0,40}",
        token in token(),
        other in "[A-Za-z0-9_]{1,30}",
    ) {
        let text = format!("{before}{token}{after} GET /v1/tasks/x?api_token={other}&id=1 {{\"api_token\":\"{other}\"}}");
        let out = fuzzing::redact(&text, Some(&token));
        prop_assert!(!out.contains(token.as_str()), "{out}");
        prop_assert!(!out.contains(&format!("api_token={other}")), "{out}");
        prop_assert!(!out.contains(&format!("\"api_token\":\"{other}\"")), "{out}");
        prop_assert!(out.contains(fuzzing::MASK));
    }

    #[test]
    fn excerpts_are_bounded_single_line_and_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..2000),
        limit in 0usize..600,
        token in proptest::option::of(token()),
    ) {
        let short = fuzzing::excerpt(&body, limit, token.as_deref());
        prop_assert!(!short.contains('\n') && !short.contains('\r'));
        // The cut is at most `limit` bytes of the body; masks and the ellipsis may add a little.
        prop_assert!(short.len() <= limit + 3 + 64, "{} bytes for a limit of {limit}", short.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Task decoding
// ---------------------------------------------------------------------------------------------

const KNOWN_STATUSES: [&str; 6] = [
    "PENDING",
    "THROTTLED",
    "RUNNING",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
];

fn status() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(&KNOWN_STATUSES[..]).prop_map(str::to_owned),
        "[A-Z_]{1,20}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Runway adds statuses and fields: a task with unknown ones still decodes, unknown
    /// statuses kept as `Unknown`, unknown fields ignored, the id kept as sent.
    #[test]
    fn tasks_with_unknown_statuses_and_fields_decode(
        id in prop_oneof!["[0-9a-f-]{36}", any::<String>()],
        status in status(),
        extra in proptest::collection::vec(("[a-zA-Z_]{1,16}", json_value()), 0..8),
        progress in proptest::option::of(0.0f64..=1.0),
        output in proptest::collection::vec("https://[a-z]{1,10}\\.invalid/[a-z0-9]{1,10}\\.mp4", 0..3),
        code in proptest::option::of(prop_oneof![
            Just("SAFETY.INPUT.TEXT".to_owned()),
            Just("INTERNAL.BAD_OUTPUT.CODE01".to_owned()),
            any::<String>(),
        ]),
        wrapped in 0u8..3,
    ) {
        const KNOWN: [&str; 9] = [
            "id", "status", "createdAt", "progress", "output", "failure", "failureCode", "cost",
            "estimatedCost",
        ];
        let mut task = Map::new();
        for (k, v) in extra {
            if !KNOWN.contains(&k.as_str()) {
                task.insert(k, v);
            }
        }
        task.insert("id".into(), json!(id));
        task.insert("status".into(), json!(status));
        task.insert("createdAt".into(), json!("2026-11-28T12:00:00.000Z"));
        if let Some(p) = progress {
            task.insert("progress".into(), json!(p));
        }
        task.insert("output".into(), json!(output));
        if let Some(code) = &code {
            task.insert("failureCode".into(), json!(code));
            task.insert("failure".into(), json!("It failed."));
        }
        task.insert("cost".into(), json!({"credits": 25, "currency": "credits"}));
        let task = Value::Object(task);
        let body = match wrapped {
            0 => task,
            1 => json!({"data": task}),
            _ => json!({"message": "Request completed", "provider": "runwayml", "result": task, "response_headers": {}}),
        };
        let bytes = serde_json::to_vec(&body).unwrap();
        let decoded = fuzzing::decode_task_response(&bytes);
        prop_assert!(decoded.is_ok(), "{:?}", decoded);
        let decoded = decoded.unwrap();
        prop_assert_eq!(decoded.id.as_str(), id.as_str());
        prop_assert_eq!(decoded.status.as_str(), status.as_str());
        prop_assert_eq!(
            matches!(decoded.status, TaskStatus::Unknown(_)),
            !KNOWN_STATUSES.contains(&status.as_str())
        );
        prop_assert_eq!(decoded.output, output);
        // serde_json reads floats to within an ulp (no `float_roundtrip`): close is exact enough.
        prop_assert_eq!(decoded.progress.is_some(), progress.is_some());
        if let (Some(got), Some(sent)) = (decoded.progress, progress) {
            prop_assert!((got - sent).abs() <= 1e-12, "progress {got} for {sent}");
        }
        prop_assert_eq!(decoded.failure_code.map(|c| c.as_str().to_owned()), code);
        prop_assert_eq!(decoded.cost, Some(25.0));
    }

    /// Known fields with the wrong type are an error, never a panic.
    #[test]
    fn tasks_with_wrongly_typed_fields_are_errors_not_panics(
        field in proptest::sample::select(&["id", "status", "progress", "output", "cost", "failureCode", "createdAt"][..]),
        value in json_value(),
    ) {
        let mut task = json!({"id": "t-1", "status": "RUNNING"});
        task[field] = value;
        let _ = fuzzing::parse_task_json(&serde_json::to_vec(&task).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Task ids and media URIs
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn task_ids_accept_only_url_safe_characters(
        id in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9_-]{0,140}",
            "[A-Za-z0-9_./?#%& -]{1,40}",
        ],
    ) {
        let parsed = TaskId::parse(&id);
        let safe = !id.is_empty()
            && id.len() <= MAX_TASK_ID_LEN
            && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        match parsed {
            Ok(task_id) => {
                prop_assert!(safe, "{id:?} accepted");
                prop_assert_eq!(task_id.as_str(), id.as_str());
                prop_assert_eq!(task_id.to_string(), id.clone());
            }
            Err(error) => {
                prop_assert!(!safe, "{id:?} rejected: {error}");
                // The message is bounded even for a huge id.
                prop_assert!(error.to_string().len() < 400);
            }
        }
    }

    #[test]
    fn media_uris_never_panic(
        uri in prop_oneof![
            any::<String>(),
            ("https://", any::<String>()).prop_map(|(a, b)| format!("{a}{b}")),
            ("https://", "[a-z0-9.-]{0,30}", "[/a-zA-Z0-9?#%:@ ]{0,30}").prop_map(|(a, b, c)| format!("{a}{b}{c}")),
            ("runway://", any::<String>()).prop_map(|(a, b)| format!("{a}{b}")),
            ("data:image/", "[a-z+.-]{0,10}", prop_oneof![Just(";base64,"), Just(","), Just(";")], "[A-Za-z0-9+/=]{0,64}")
                .prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}")),
            ("DATA:", any::<String>()).prop_map(|(a, b)| format!("{a}{b}")),
        ],
    ) {
        if let Ok(media) = MediaUri::parse(&uri) {
            prop_assert!(!uri.chars().any(|c| c.is_whitespace() || c.is_control()), "{uri:?} accepted");
            prop_assert_eq!(media.as_str(), uri.as_str());
            let _ = media.to_string();
            let _ = format!("{media:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// xtask prepare on mutated documents
// ---------------------------------------------------------------------------------------------

/// One change to a document: at the node numbered `at` (in a walk of all nodes), do `what`.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(prop::sample::Index),
    Replace(prop::sample::Index, Value),
    Rename(prop::sample::Index, String),
    Duplicate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        3 => index().prop_map(Mutation::Delete),
        3 => (index(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => (index(), key()).prop_map(|(i, k)| Mutation::Rename(i, k)),
        1 => index().prop_map(Mutation::Duplicate),
    ]
}

/// Every node's JSON pointer, in document order (the root is not a candidate).
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let child = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(child.clone());
                pointers(v, child, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let child = format!("{at}/{i}");
                out.push(child.clone());
                pointers(v, child, out);
            }
        }
        _ => {}
    }
}

fn split(pointer: &str) -> (&str, String) {
    let (parent, last) = pointer.rsplit_once('/').expect("a child pointer");
    (parent, last.replace("~1", "/").replace("~0", "~"))
}

fn apply(document: &mut Value, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(document, String::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let pick = |i: &prop::sample::Index| all[i.index(all.len())].clone();
    match mutation {
        Mutation::Delete(i) => {
            let pointer = pick(i);
            let (parent, last) = split(&pointer);
            match document.pointer_mut(parent) {
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
            }
        }
        Mutation::Replace(i, value) => {
            if let Some(node) = document.pointer_mut(&pick(i)) {
                *node = value.clone();
            }
        }
        Mutation::Rename(i, key) => {
            let pointer = pick(i);
            let (parent, last) = split(&pointer);
            if let Some(Value::Object(map)) = document.pointer_mut(parent)
                && let Some(value) = map.remove(&last)
            {
                map.insert(key.clone(), value);
            }
        }
        Mutation::Duplicate(i) => {
            let pointer = pick(i);
            let (parent, last) = split(&pointer);
            if let Some(Value::Array(items)) = document.pointer_mut(parent)
                && let Ok(n) = last.parse::<usize>()
                && let Some(item) = items.get(n).cloned()
            {
                items.push(item);
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn check_prepare(document: &Value, overlay: &str) -> Result<(), TestCaseError> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        xtask::prepare::prepare(document, overlay)
    }));
    match outcome {
        Err(panic) => {
            let reason = panic_message(panic.as_ref());
            Err(TestCaseError::fail(format!("prepare panicked: {reason}")))
        }
        Ok(Err(error)) => {
            // A clear error: one non-empty message.
            let message = format!("{error:#}");
            prop_assert!(!message.trim().is_empty());
            Ok(())
        }
        Ok(Ok(prepared)) => {
            let parsed = serde_json::from_value::<openapiv3::OpenAPI>(prepared.document.clone());
            prop_assert!(
                parsed.is_ok(),
                "prepare returned a document openapiv3 refuses: {parsed:?}"
            );
            prop_assert!(!xtask::prepare::operations(&prepared.document).is_empty());
            Ok(())
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn prepare_survives_mutated_upstream_documents(
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut document: Value = serde_json::from_str(UPSTREAM).unwrap();
        for m in &mutations {
            apply(&mut document, m);
        }
        check_prepare(&document, OVERLAY)?;
    }

    #[test]
    fn prepare_survives_arbitrary_documents(document in json_value()) {
        check_prepare(&document, OVERLAY)?;
    }

    #[test]
    fn prepare_survives_mutated_overlays(
        cut in any::<prop::sample::Index>(),
        insert in prop_oneof![any::<String>(), Just("\n  - target: $.paths\n    remove: true\n".to_owned()), Just(": [".to_owned())],
    ) {
        let document: Value = serde_json::from_str(UPSTREAM).unwrap();
        let mut overlay = OVERLAY.to_owned();
        let mut at = cut.index(overlay.len() + 1);
        while !overlay.is_char_boundary(at) {
            at -= 1;
        }
        overlay.insert_str(at, &insert);
        check_prepare(&document, &overlay)?;
    }
}

#[test]
fn the_pinned_document_prepares() {
    let document: Value = serde_json::from_str(UPSTREAM).unwrap();
    let prepared = xtask::prepare::prepare(&document, OVERLAY).expect("the pin prepares");
    serde_json::from_value::<openapiv3::OpenAPI>(prepared.document).expect("openapiv3 parses it");
}

/// Found by `prepare_survives_mutated_upstream_documents`: an operation (`paths./p.get`) that is
/// an array, a string, a number or a boolean once made `assign_operation_ids` panic indexing it
/// as an object. It is an error now.
#[test]
fn prepare_rejects_operations_that_are_not_objects() {
    for bad in [json!([]), json!("get"), json!(1), json!(true)] {
        let mut document: Value = serde_json::from_str(UPSTREAM).unwrap();
        let paths = document["paths"].as_object_mut().unwrap();
        let (_, item) = paths.iter_mut().next().unwrap();
        item["get"] = bad.clone();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            xtask::prepare::prepare(&document, OVERLAY)
        }));
        match outcome {
            Err(panic) => panic!(
                "prepare panicked on an operation {bad}: {}",
                panic_message(panic.as_ref())
            ),
            Ok(result) => assert!(result.is_err(), "an operation {bad} was accepted"),
        }
    }
}
