//! LowCodeAPI's two response dialects, told apart by the shape of each body.
//!
//! | | success | error |
//! |---|---|---|
//! | hosted | `{"data": X}` | `{"data": {"error": {"message", "code"}}}` |
//! | self-hosted | `200 {"message", "provider", "result": X, "response_headers"}` | upstream status, `{"message", "provider", "error": <Runway body or text>, "headers"}` |
//!
//! A bare Runway body (no envelope) is accepted too. Nothing tells a client in advance which
//! dialect it talks to, so every response is inspected on its own.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::{ApiError, Issue};
use crate::redact::excerpt;

/// Which LowCodeAPI deployment answered.
///
/// ```
/// use lowcodeapi_runwayml::{Dialect, Error};
/// // Which LowCodeAPI answered an error, when its body said.
/// fn server_kind(error: &Error) -> Option<Dialect> {
///     error.api().and_then(|api| api.dialect)
/// }
/// assert_eq!(server_kind(&Error::TaskGone { task_id: "t1".parse()? }), None);
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dialect {
    /// api.lowcodeapi.com: bodies wrapped as `{"data": …}`.
    Hosted,
    /// The open-source server: bodies wrapped as `{"message", "provider", "result" | "error", …}`.
    SelfHosted,
}

/// The largest body excerpt kept in an error; also the bound of every text field taken from a body.
pub(crate) const EXCERPT_LIMIT: usize = 300;

/// The most `issues[]` entries kept in an error.
pub(crate) const MAX_ISSUES: usize = 50;

/// What a success body held.
#[derive(Debug, PartialEq)]
pub(crate) enum Success {
    /// The provider's payload, out of its envelope (a slice of the original body: no copy).
    Payload(Option<Dialect>, Bytes),
    /// An envelope around nothing (`"result": ""`, `"data": null`): e.g. a self-hosted DELETE.
    Empty(Dialect),
    /// Not JSON, or not an envelope: passed through untouched.
    Bare,
}

#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    data: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    provider: Option<&'a RawValue>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<&'a RawValue>,
}

/// A field that is present, even as `null` (`Option`'s own impl reads `null` as absent, which
/// would make `{"data": null}` a bare body instead of an envelope around nothing).
fn present<'a, D: serde::Deserializer<'a>>(
    deserializer: D,
) -> Result<Option<&'a RawValue>, D::Error> {
    <&'a RawValue>::deserialize(deserializer).map(Some)
}

/// Finds the provider payload inside a 2xx body.
pub(crate) fn unwrap_success(body: &Bytes) -> Success {
    if let Some(found) = hosted_only(body) {
        return found;
    }
    let Ok(probe) = serde_json::from_slice::<Probe<'_>>(body) else {
        return Success::Bare;
    };
    let (dialect, inner) = match (probe.provider, probe.result, probe.data) {
        (Some(_), Some(result), _) => (Dialect::SelfHosted, result),
        (_, _, Some(data)) if probe.id.is_none() && probe.status.is_none() => {
            (Dialect::Hosted, data)
        }
        _ => return Success::Bare,
    };
    payload(body, dialect, inner)
}

fn payload(body: &Bytes, dialect: Dialect, inner: &RawValue) -> Success {
    let raw = inner.get().trim();
    if matches!(raw, "\"\"" | "null" | "{}") {
        return Success::Empty(dialect);
    }
    Success::Payload(Some(dialect), body.slice_ref(raw.as_bytes()))
}

/// The hosted envelope as api.lowcodeapi.com writes it, `{"data":…}` and nothing else, read
/// without the general probe's field matching: the payload is still checked to be JSON.
fn hosted_only(body: &Bytes) -> Option<Success> {
    let rest = body.strip_prefix(b"{\"data\":")?;
    let mut reader = serde_json::Deserializer::from_slice(rest);
    let inner = <&RawValue>::deserialize(&mut reader).ok()?;
    // The raw value borrows from `rest`: where it ends there is where the envelope resumes.
    let end = inner.get().as_ptr() as usize - rest.as_ptr() as usize + inner.get().len();
    let after = rest.get(end..)?.trim_ascii();
    (after == b"}").then(|| payload(body, Dialect::Hosted, inner))
}

/// A typed payload read straight out of the hosted envelope `{"data":…}` (nothing else), in one
/// pass: `Some` exactly when [`unwrap_success`] would find that payload (not an empty one) and it
/// decodes as `T`. Anything else is `None`, for the general path to decide.
pub(crate) fn decode_hosted<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    let rest = body.strip_prefix(b"{\"data\":")?;
    let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
    let value = values.next()?.ok()?;
    let end = values.byte_offset();
    let raw = rest.get(..end)?.trim_ascii();
    if matches!(raw, b"\"\"" | b"null" | b"{}") {
        return None;
    }
    (rest.get(end..)?.trim_ascii() == b"}").then_some(value)
}

/// True when the body carries a provider answer: the route exists, whatever the status.
fn is_provider_payload(body: &Value) -> bool {
    body.get("provider").is_some()
        || body.pointer("/data/error").is_some()
        || body.get("error").is_some()
}

/// Whether an error answer is LowCodeAPI's routing miss (`404 {"message":"Not Found"}`, no
/// provider payload): the URL format is not routed here, so the other format should be tried.
pub(crate) fn is_routing_miss(status: u16, body: &[u8]) -> bool {
    if !matches!(status, 404 | 405) {
        return false;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => !is_provider_payload(&value),
        Err(_) => true,
    }
}

/// Reads `Retry-After` from the HTTP header, or from the self-hosted body's
/// `headers["retry-after"]`; seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, body: &[u8]) -> Option<Duration> {
    if let Some(value) = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        return parse_retry_after(value);
    }
    if !body
        .windows(11)
        .any(|w| w.eq_ignore_ascii_case(b"retry-after"))
    {
        return None;
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    let found = value
        .get("headers")
        .or_else(|| value.get("response_headers"))
        .and_then(Value::as_object)?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("retry-after"))
        .map(|(_, value)| value.clone())?;
    match found {
        Value::String(text) => parse_retry_after(&text),
        Value::Number(number) => number.as_f64().and_then(seconds),
        _ => None,
    }
}

/// The longest `Retry-After` kept, whatever its form (about 31 years): enough to say "not now".
const MAX_RETRY_AFTER_SECS: u64 = 1_000_000_000;

fn seconds(value: f64) -> Option<Duration> {
    (value.is_finite() && value >= 0.0)
        .then(|| Duration::from_secs_f64(value.min(MAX_RETRY_AFTER_SECS as f64)))
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(number) = value.parse::<f64>() {
        return seconds(number);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(MAX_RETRY_AFTER_SECS)),
    )
}

fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn issues(value: Option<&Value>) -> Vec<Issue> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .take(MAX_ISSUES)
        .map(|item| Issue {
            code: text(item.get("code")),
            path: match item.get("path") {
                Some(Value::Array(parts)) => {
                    let mut path = String::new();
                    for part in parts {
                        match part {
                            Value::Number(n) => path.push_str(&format!("[{n}]")),
                            Value::String(s) if path.is_empty() => path.push_str(s),
                            Value::String(s) => {
                                path.push('.');
                                path.push_str(s);
                            }
                            _ => {}
                        }
                    }
                    path
                }
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            message: text(item.get("message")).unwrap_or_default(),
        })
        .collect()
}

/// Decodes an error answer of either dialect (or a bare or non-JSON body) into an [`ApiError`].
pub(crate) fn decode_error(
    operation: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    token: Option<&str>,
) -> ApiError {
    let mut error = ApiError {
        operation,
        status,
        dialect: None,
        message: None,
        runway_error: None,
        issues: Vec::new(),
        doc_url: None,
        code: None,
        retry_after: retry_after(headers, body),
        routing_miss: is_routing_miss(status, body),
        task_id: None,
        body_excerpt: None,
    };
    let parsed = serde_json::from_slice::<Value>(body).ok();
    match parsed {
        Some(value) if value.pointer("/data/error").is_some() => {
            let inner = &value["data"]["error"];
            error.dialect = Some(crate::envelope::Dialect::Hosted);
            match inner {
                Value::String(message) => error.message = Some(message.clone()),
                _ => {
                    error.message = text(inner.get("message"));
                    error.code = text(inner.get("code"));
                    error.runway_error = text(inner.get("error"));
                    error.issues = issues(inner.get("issues"));
                    error.doc_url = text(inner.get("docUrl"));
                }
            }
        }
        Some(value) if value.is_object() => {
            if value.get("provider").is_some() {
                error.dialect = Some(Dialect::SelfHosted);
            }
            error.message = text(value.get("message"));
            match value.get("error") {
                Some(Value::String(runway)) => {
                    error.runway_error = Some(runway.clone());
                    // A bare Runway body: `issues` and `docUrl` sit next to `error`.
                    error.issues = issues(value.get("issues"));
                    error.doc_url = text(value.get("docUrl"));
                }
                Some(runway @ Value::Object(_)) => {
                    error.runway_error = text(runway.get("error")).or_else(|| {
                        // Self-hosted transport failures carry {"message": …} as the error.
                        text(runway.get("message")).filter(|m| Some(m) != error.message.as_ref())
                    });
                    error.issues = issues(runway.get("issues"));
                    error.doc_url = text(runway.get("docUrl"));
                    error.code = text(runway.get("code"));
                }
                _ => {}
            }
            if error.message.is_none() && error.runway_error.is_none() {
                error.body_excerpt = Some(excerpt(body, EXCERPT_LIMIT, token));
            }
        }
        _ => {
            if !body.is_empty() {
                error.body_excerpt = Some(excerpt(body, EXCERPT_LIMIT, token));
            }
        }
    }
    // Bodies can echo the request (the self-hosted 401 does), carry multi-line stack traces or
    // megabytes of text: everything kept is redacted, on one line and bounded.
    for field in [
        &mut error.message,
        &mut error.runway_error,
        &mut error.doc_url,
        &mut error.code,
    ]
    .into_iter()
    .flatten()
    {
        *field = one_line(field, token);
    }
    for issue in &mut error.issues {
        issue.message = one_line(&issue.message, token);
        issue.path = one_line(&issue.path, token);
        if let Some(code) = &mut issue.code {
            *code = one_line(code, token);
        }
    }
    error
}

/// A text field from a body as kept in an error: redacted, control characters flattened, at most
/// [`EXCERPT_LIMIT`] bytes.
fn one_line(text: &str, token: Option<&str>) -> String {
    excerpt(text.as_bytes(), EXCERPT_LIMIT, token)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn success(body: &str) -> Success {
        unwrap_success(&Bytes::copy_from_slice(body.as_bytes()))
    }

    #[test]
    fn the_one_pass_hosted_read_takes_only_what_unwrapping_would_give() {
        for (body, fast) in [
            (r#"{"data":{"id":"t1","status":"PENDING"}}"#, true),
            (r#"{"data": [1, 2] }  "#, true),
            (r#"{"data":1 }"#, true),
            (r#"{"data":"text"}"#, true),
            // Envelopes around nothing: the general path makes them empty answers.
            (r#"{"data":null}"#, false),
            (r#"{"data":{}}"#, false),
            (r#"{"data":"" }"#, false),
            // Not the hosted envelope alone: the general path decides.
            (r#"{"data":{"a":1},"id":"t1","status":"PENDING"}"#, false),
            (r#"{"data":{"a":1},"x":{}}"#, false),
            (r#"{"data":{"a":1}}}"#, false),
            (r#"{"data":{"a":1}"#, false),
            (r#"{"data":tru}"#, false),
            (r#"{"data":1x}"#, false),
            (r#"{ "data":{"a":1}}"#, false),
        ] {
            let one_pass = decode_hosted::<Value>(body.as_bytes());
            assert_eq!(one_pass.is_some(), fast, "{body}");
            if let Some(value) = one_pass {
                let Success::Payload(Some(Dialect::Hosted), payload) = success(body) else {
                    panic!("{body}: unwrapping finds no hosted payload");
                };
                assert_eq!(serde_json::from_slice::<Value>(&payload).unwrap(), value);
            }
        }
    }

    #[test]
    fn success_bodies_of_both_dialects_unwrap() {
        assert_eq!(
            success(r#"{"data": {"id": "t1"}}"#),
            Success::Payload(
                Some(Dialect::Hosted),
                Bytes::from_static(br#"{"id": "t1"}"#)
            )
        );
        assert_eq!(
            success(
                r#"{"message":"Request completed","provider":"runwayml","result":{"id":"t1"},"response_headers":{}}"#
            ),
            Success::Payload(
                Some(Dialect::SelfHosted),
                Bytes::from_static(br#"{"id":"t1"}"#)
            )
        );
        assert_eq!(
            success(
                r#"{"message":"Request completed","provider":"runwayml","result":"","response_headers":{}}"#
            ),
            Success::Empty(Dialect::SelfHosted)
        );
        assert_eq!(success(r#"{"id":"t1","status":"PENDING"}"#), Success::Bare);
        assert_eq!(
            success(r#"{"data": null}"#),
            Success::Empty(Dialect::Hosted)
        );
        assert_eq!(
            success(r#"{"message":"m","provider":"runwayml","result":null}"#),
            Success::Empty(Dialect::SelfHosted)
        );
        assert_eq!(success("plain text"), Success::Bare);
        // The hosted fast path: only `{"data":…}`; anything more goes through the full probe.
        assert_eq!(
            success(r#"{"data":{"id":"t1"},"padding":"x"}"#),
            Success::Payload(Some(Dialect::Hosted), Bytes::from_static(br#"{"id":"t1"}"#))
        );
        assert_eq!(success(r#"{"data":{"id":"t1"},}"#), Success::Bare);
        assert_eq!(success(r#"{"data":{"id":"t1",}}"#), Success::Bare);
        assert_eq!(success(r#"{"data":{"id":"t1"}"#), Success::Bare);
        assert_eq!(success(r#"{"data":{"id":"t1"}} x"#), Success::Bare);
        assert_eq!(success(r#"{"data":null}"#), Success::Empty(Dialect::Hosted));
        assert_eq!(
            success(r#"{"data":{"id":"t1","status":"RUNNING"},"id":"x"}"#),
            Success::Bare
        );
        assert_eq!(success(""), Success::Bare);
    }

    #[test]
    fn routing_misses_are_told_from_provider_404s() {
        assert!(is_routing_miss(404, br#"{"message":"Not Found"}"#));
        assert!(is_routing_miss(405, b"<html>Method Not Allowed</html>"));
        assert!(!is_routing_miss(
            404,
            br#"{"message":"Error received from the runwayml API","provider":"runwayml","error":{"error":"Task not found"},"headers":{}}"#
        ));
        assert!(!is_routing_miss(
            404,
            br#"{"data":{"error":{"message":"Task not found","code":"NOT_FOUND"}}}"#
        ));
        assert!(!is_routing_miss(500, br#"{"message":"Not Found"}"#));
    }

    #[test]
    fn retry_after_from_header_or_body() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, b"{}"), None);
        assert_eq!(
            retry_after(&headers, br#"{"headers":{"retry-after":"7"}}"#),
            Some(Duration::from_secs(7))
        );
        headers.insert(http::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&headers, b""), Some(Duration::from_secs(3)));
        let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        headers.insert(http::header::RETRY_AFTER, date.parse().unwrap());
        let after = retry_after(&headers, b"").unwrap();
        assert!(after <= Duration::from_secs(30) && after >= Duration::from_secs(28));
        // A date centuries ahead is bounded like a huge number of seconds.
        headers.insert(
            http::header::RETRY_AFTER,
            "Wed, 21 Oct 2415 07:28:00 GMT".parse().unwrap(),
        );
        let bound = Duration::from_secs(MAX_RETRY_AFTER_SECS);
        assert_eq!(retry_after(&headers, b""), Some(bound));
        headers.insert(http::header::RETRY_AFTER, "1e300".parse().unwrap());
        assert_eq!(retry_after(&headers, b""), Some(bound));
    }

    #[test]
    fn self_hosted_401_is_decoded_and_scrubbed() {
        let body = br#"{"message":"A valid API token is required to access this API.","provider":"runwayml","error":{"code":401,"logging":{"query":{"api_token":"bad_secret"},"headers":{}}}}"#;
        let error = decode_error("get_task", 401, &HeaderMap::new(), body, Some("bad_secret"));
        assert_eq!(error.dialect, Some(Dialect::SelfHosted));
        assert_eq!(
            error.message.as_deref(),
            Some("A valid API token is required to access this API.")
        );
        assert_eq!(error.code.as_deref(), Some("401"));
        assert!(!format!("{error:?} {error}").contains("bad_secret"));
    }

    #[test]
    fn runway_400_with_issues_passes_through_both_dialects() {
        let runway = r#"{"error":"Validation of body failed","issues":[{"code":"invalid_enum_value","path":["promptImage",0,"position"],"message":"Invalid enum value"}],"docUrl":"https://docs.dev.runwayml.com/api"}"#;
        let self_hosted = format!(
            r#"{{"message":"Error received from the runwayml API","provider":"runwayml","error":{runway},"headers":{{}}}}"#
        );
        let error = decode_error(
            "image_to_video",
            400,
            &HeaderMap::new(),
            self_hosted.as_bytes(),
            None,
        );
        assert_eq!(
            error.runway_error.as_deref(),
            Some("Validation of body failed")
        );
        assert_eq!(error.issues[0].path, "promptImage[0].position");
        assert_eq!(error.issues[0].code.as_deref(), Some("invalid_enum_value"));
        assert_eq!(
            error.doc_url.as_deref(),
            Some("https://docs.dev.runwayml.com/api")
        );
        let bare = decode_error(
            "image_to_video",
            400,
            &HeaderMap::new(),
            runway.as_bytes(),
            None,
        );
        assert_eq!(bare.issues, error.issues);
        assert_eq!(bare.dialect, None);
    }

    #[test]
    fn text_fields_are_bounded_and_on_one_line() {
        let huge = "boom\n".repeat(200_000);
        let body = serde_json::json!({
            "message": huge,
            "provider": "runwayml",
            "error": {"error": "a\r\nb", "issues": vec![serde_json::json!({"path": ["x"], "message": "y".repeat(1000)}); 500]},
        });
        let error = decode_error(
            "get_task",
            500,
            &HeaderMap::new(),
            body.to_string().as_bytes(),
            None,
        );
        assert!(error.message.as_ref().unwrap().len() <= EXCERPT_LIMIT + 3);
        assert_eq!(error.runway_error.as_deref(), Some("a  b"));
        assert_eq!(error.issues.len(), MAX_ISSUES);
        assert!(error.issues[0].message.len() <= EXCERPT_LIMIT + 3);
        assert!(!format!("{error:?}").contains('\n'));
    }

    #[test]
    fn hosted_errors_and_text_bodies() {
        let hosted = decode_error(
            "get_task",
            429,
            &HeaderMap::new(),
            br#"{"data":{"error":{"message":"Too many requests","code":"RATE_LIMITED"}}}"#,
            None,
        );
        assert_eq!(hosted.dialect, Some(Dialect::Hosted));
        assert_eq!(hosted.code.as_deref(), Some("RATE_LIMITED"));
        let text = decode_error(
            "get_task",
            500,
            &HeaderMap::new(),
            br#"{"message":"Error received from the runwayml API","provider":"runwayml","error":"Internal boom","headers":{}}"#,
            None,
        );
        assert_eq!(text.runway_error.as_deref(), Some("Internal boom"));
        let html = decode_error(
            "get_task",
            502,
            &HeaderMap::new(),
            b"<html><body>Bad Gateway</body></html>",
            None,
        );
        assert_eq!(
            html.body_excerpt.as_deref(),
            Some("<html><body>Bad Gateway</body></html>")
        );
        assert!(html.to_string().contains("HTTP 502"));
    }
}
