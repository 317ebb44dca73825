//! What goes on the wire: Runway's answers, and the two LowCodeAPI envelopes around them.
//!
//! Bodies are serde types serialized by `serde_json`: fields come out in declaration order,
//! compact, as `JSON.stringify` writes them, whatever features other crates in the build turn on
//! (no `serde_json::Value` map is ever written). Runway's body travels as JSON text
//! ([`RawValue`]) so the envelopes repeat it byte for byte.

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::{Dialect, HostedDelete};
use crate::state::Config;
use crate::validate::Issue;

pub(crate) const PROVIDER: &str = "runwayml";
pub(crate) const JSON_UTF8: &str = "application/json; charset=utf-8";
const UPSTREAM_DEFAULT_MESSAGE: &str = "Error received from the runwayml API";
pub(crate) const UNAUTHORIZED_MESSAGE: &str = "A valid API token is required to access this API.";
pub(crate) const INVALID_TOKEN_MESSAGE: &str = "Invalid api_token";
pub(crate) const NO_CREDENTIAL_MESSAGE: &str =
    "No access token is associated with this api_token, authorize your runwayml with LowCodeAPI.";
pub(crate) const RATE_LIMIT_MESSAGE: &str =
    "You have exceeded the rate limit. Please try again later.";
pub(crate) const ECONNREFUSED_MESSAGE: &str = "connect ECONNREFUSED 127.0.0.1:443";

/// An HTTP answer, before it becomes a hyper response.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
}

impl Reply {
    /// `body` as compact JSON, fields in declaration order.
    pub(crate) fn json(status: u16, body: &impl Serialize) -> Reply {
        Reply {
            status,
            content_type: Some(JSON_UTF8),
            headers: Vec::new(),
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_else(|_| b"null".to_vec())),
        }
    }
}

/// A value as JSON text, kept as text so an envelope repeats it byte for byte.
pub(crate) fn raw(value: &impl Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// Runway's body.
#[derive(Clone, Debug)]
pub(crate) enum UpBody {
    Json(Box<RawValue>),
    Text(String),
    /// `204`: no body.
    Empty,
}

/// Runway's answer, as the proxy receives it.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    pub(crate) status: u16,
    pub(crate) body: UpBody,
    pub(crate) retry_after: Option<u64>,
}

/// Runway's error body: `{"error": …}`, with `issues` and `docUrl` for validation errors.
#[derive(Serialize)]
pub(crate) struct RunwayError<'a> {
    pub(crate) error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issues: Option<&'a [Issue]>,
    #[serde(rename = "docUrl", skip_serializing_if = "Option::is_none")]
    pub(crate) doc_url: Option<&'a str>,
}

/// `{"credits": n}`: a task's `cost` or `estimatedCost`.
#[derive(Clone, Copy, Debug, Serialize)]
pub(crate) struct Credits {
    pub(crate) credits: u64,
}

/// Runway's answer to an accepted create.
#[derive(Serialize)]
pub(crate) struct Created<'a> {
    pub(crate) id: &'a str,
    #[serde(rename = "estimatedCost", skip_serializing_if = "Option::is_none")]
    pub(crate) estimated_cost: Option<Credits>,
}

impl Upstream {
    pub(crate) fn json(status: u16, body: &impl Serialize) -> Upstream {
        Upstream::raw(status, raw(body))
    }

    pub(crate) fn raw(status: u16, body: Box<RawValue>) -> Upstream {
        Upstream {
            status,
            body: UpBody::Json(body),
            retry_after: None,
        }
    }

    /// Runway's `{"error": message}`.
    pub(crate) fn error(status: u16, message: &str) -> Upstream {
        Upstream::json(
            status,
            &RunwayError {
                error: message,
                issues: None,
                doc_url: None,
            },
        )
    }

    pub(crate) fn rate_limited(retry_after: Duration) -> Upstream {
        let secs = retry_after
            .as_secs()
            .saturating_add(u64::from(retry_after.subsec_nanos() > 0));
        Upstream {
            retry_after: Some(secs),
            ..Upstream::error(429, RATE_LIMIT_MESSAGE)
        }
    }

    /// The lower-cased headers Runway sent, as the self-hosted envelope repeats them.
    fn headers(&self) -> UpHeaders {
        UpHeaders {
            content_type: match self.body {
                UpBody::Json(_) => JSON_UTF8,
                UpBody::Text(_) => "text/plain; charset=utf-8",
                // The self-hosted server answers a 204 only when it had a content type.
                UpBody::Empty => "application/json",
            },
            retry_after: self.retry_after.map(|s| s.to_string()),
        }
    }

    /// The top-level fields of a JSON body the envelopes look at.
    fn fields(&self) -> Fields<'_> {
        match &self.body {
            UpBody::Json(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
            _ => Fields::default(),
        }
    }

    /// What the envelope puts where Runway's body goes: the JSON as is, a text, or `""`.
    fn payload(&self) -> Payload<'_> {
        match &self.body {
            UpBody::Json(raw) => Payload::Json(raw),
            UpBody::Text(t) => Payload::Text(t),
            UpBody::Empty => Payload::Text(""),
        }
    }
}

/// The fields of Runway's body an envelope copies, as JSON text.
#[derive(Default, Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    message: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
    #[serde(borrow)]
    issues: Option<&'a RawValue>,
    #[serde(borrow, rename = "docUrl")]
    doc_url: Option<&'a RawValue>,
}

/// The string inside a JSON value, if it is a string.
fn as_str(raw: Option<&RawValue>) -> Option<String> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

#[derive(Serialize)]
#[serde(untagged)]
enum Payload<'a> {
    Json(&'a RawValue),
    Text(&'a str),
}

#[derive(Serialize)]
struct UpHeaders {
    #[serde(rename = "content-type")]
    content_type: &'static str,
    #[serde(rename = "retry-after", skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
}

/// The self-hosted envelope of a success.
#[derive(Serialize)]
struct SelfHostedOk<'a> {
    message: &'a str,
    provider: &'static str,
    result: Payload<'a>,
    response_headers: UpHeaders,
}

/// The self-hosted envelope of an upstream error.
#[derive(Serialize)]
struct SelfHostedError<'a> {
    message: &'a str,
    provider: &'static str,
    error: Payload<'a>,
    headers: UpHeaders,
}

/// `{"data": …}`.
#[derive(Serialize)]
struct Data<T> {
    data: T,
}

/// `{"error": …}`.
#[derive(Serialize)]
struct ErrorOf<T> {
    error: T,
}

/// The hosted dialect's error, with Runway's `issues` and `docUrl` when it sent them.
#[derive(Serialize)]
struct HostedError<'a> {
    message: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    issues: Option<&'a RawValue>,
    #[serde(rename = "docUrl", skip_serializing_if = "Option::is_none")]
    doc_url: Option<&'a RawValue>,
}

/// `{"message": …}`: the routing miss, and self-hosted proxy errors with no detail.
#[derive(Serialize)]
struct Message<'a> {
    message: &'a str,
}

/// What the self-hosted server puts in `error` for its own errors.
#[derive(Default, Serialize)]
pub(crate) struct ProxyDetail<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) logging: Option<Logging<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) message: Option<&'a str>,
}

/// The request, as the self-hosted 401 echoes it in `error.logging`.
#[derive(Serialize)]
pub(crate) struct Logging<'a> {
    pub(crate) method: &'a str,
    pub(crate) status_code: u16,
    pub(crate) message: &'a str,
    pub(crate) path: &'a str,
    pub(crate) headers: NodeHeaders<'a>,
    pub(crate) query: NodeQuery<'a>,
}

/// Node's `req.headers`: lower-cased names in arrival order, repeats joined with `, `.
pub(crate) struct NodeHeaders<'a>(pub(crate) &'a [(String, String)]);

impl Serialize for NodeHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut merged: Vec<(&str, String)> = Vec::new();
        for (k, v) in self.0 {
            match merged.iter_mut().find(|(name, _)| name == k) {
                Some((_, existing)) => {
                    existing.push_str(", ");
                    existing.push_str(v);
                }
                None => merged.push((k, v.clone())),
            }
        }
        s.collect_map(merged)
    }
}

/// Express's `req.query` (qs): keys in arrival order, repeated keys as arrays.
pub(crate) struct NodeQuery<'a>(pub(crate) &'a [(String, String)]);

impl Serialize for NodeQuery<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum OneOrMany<'a> {
            One(&'a str),
            Many(Vec<&'a str>),
        }
        let mut merged: Vec<(&str, Vec<&str>)> = Vec::new();
        for (k, v) in self.0 {
            match merged.iter_mut().find(|(name, _)| name == k) {
                Some((_, values)) => values.push(v),
                None => merged.push((k, vec![v])),
            }
        }
        s.collect_map(merged.into_iter().map(|(k, values)| {
            let value = match values.as_slice() {
                [one] => OneOrMany::One(one),
                _ => OneOrMany::Many(values),
            };
            (k, value)
        }))
    }
}

/// The reason phrase Runway puts in `{"error": …}` for a bare status.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        408 => "Request timeout",
        409 => "Conflict",
        429 => RATE_LIMIT_MESSAGE,
        500 => "Internal server error",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Error",
    }
}

/// The hosted dialect's `code` for a status.
pub(crate) fn hosted_code(status: u16) -> &'static str {
    match status {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        429 => "RATE_LIMITED",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        s if s >= 500 => "INTERNAL_ERROR",
        _ => "CLIENT_ERROR",
    }
}

/// `{"data":{"error":{"message":…,"code":…}}}`, then Runway's `issues` and `docUrl` if given.
fn hosted_error(
    status: u16,
    message: &str,
    issues: Option<&RawValue>,
    doc_url: Option<&RawValue>,
) -> Reply {
    let error = HostedError {
        message,
        code: hosted_code(status),
        issues,
        doc_url,
    };
    Reply::json(
        status,
        &Data {
            data: ErrorOf { error },
        },
    )
}

/// Wraps Runway's answer in the dialect's envelope.
pub(crate) fn render(config: &Config, up: Upstream) -> Reply {
    let success = (200..300).contains(&up.status);
    let fields = up.fields();
    match (config.dialect, success) {
        (Dialect::SelfHosted, true) => {
            if let UpBody::Text(t) = &up.body {
                // Non-JSON upstream content types pass through raw.
                return Reply {
                    status: up.status,
                    content_type: Some("text/plain; charset=utf-8"),
                    headers: Vec::new(),
                    body: Bytes::from(t.clone()),
                };
            }
            let message = as_str(fields.message);
            let body = SelfHostedOk {
                message: message.as_deref().unwrap_or("Request completed"),
                provider: PROVIDER,
                result: up.payload(),
                response_headers: up.headers(),
            };
            Reply::json(200, &body)
        }
        (Dialect::SelfHosted, false) => {
            let message = as_str(fields.message);
            let body = SelfHostedError {
                message: message.as_deref().unwrap_or(UPSTREAM_DEFAULT_MESSAGE),
                provider: PROVIDER,
                error: up.payload(),
                headers: up.headers(),
            };
            Reply::json(up.status, &body)
        }
        (Dialect::Hosted, true) => match &up.body {
            UpBody::Empty => match config.hosted_delete {
                HostedDelete::EmptyData => Reply::json(200, &Data { data: "" }),
                HostedDelete::NoContent => Reply {
                    status: 204,
                    content_type: None,
                    headers: Vec::new(),
                    body: Bytes::new(),
                },
            },
            _ => Reply::json(up.status, &Data { data: up.payload() }),
        },
        (Dialect::Hosted, false) => {
            let mut reply = match &up.body {
                UpBody::Json(_) => {
                    let message = as_str(fields.error)
                        .or_else(|| as_str(fields.message))
                        .unwrap_or_else(|| UPSTREAM_DEFAULT_MESSAGE.to_owned());
                    hosted_error(up.status, &message, fields.issues, fields.doc_url)
                }
                UpBody::Text(t) => hosted_error(up.status, t, None, None),
                UpBody::Empty => hosted_error(up.status, reason(up.status), None, None),
            };
            if let Some(secs) = up.retry_after {
                reply.headers.push(("retry-after", secs.to_string()));
            }
            reply
        }
    }
}

/// The routing miss, the same in both dialects: no provider key, no token check.
pub(crate) fn routing_miss() -> Reply {
    Reply::json(
        404,
        &Message {
            message: "Not Found",
        },
    )
}

/// A proxy-level error that never reached Runway (token problems, unreadable bodies).
pub(crate) fn proxy_error(
    config: &Config,
    status: u16,
    message: &str,
    error: Option<ProxyDetail<'_>>,
) -> Reply {
    #[derive(Serialize)]
    struct WithDetail<'a> {
        message: &'a str,
        provider: &'static str,
        error: ProxyDetail<'a>,
    }
    match (config.dialect, error) {
        (Dialect::Hosted, _) => hosted_error(status, message, None, None),
        (Dialect::SelfHosted, None) => Reply::json(status, &Message { message }),
        (Dialect::SelfHosted, Some(error)) => Reply::json(
            status,
            &WithDetail {
                message,
                provider: PROVIDER,
                error,
            },
        ),
    }
}

/// An nginx-style HTML error page.
pub(crate) fn html_page(status: u16) -> Reply {
    let reason = hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let page = format!(
        "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    Reply {
        status,
        content_type: Some("text/html"),
        headers: Vec::new(),
        body: Bytes::from(page),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn node_headers_and_query_keep_arrival_order_and_merge_repeats() {
        let headers = pairs(&[("z", "1"), ("a", "x\"y\n\u{1}"), ("z", "2")]);
        assert_eq!(
            serde_json::to_string(&NodeHeaders(&headers)).unwrap(),
            r#"{"z":"1, 2","a":"x\"y\n\u0001"}"#
        );
        let query = pairs(&[("id", "b"), ("api_token", "t"), ("id", "c"), ("id", "d")]);
        assert_eq!(
            serde_json::to_string(&NodeQuery(&query)).unwrap(),
            r#"{"id":["b","c","d"],"api_token":"t"}"#
        );
    }

    #[test]
    fn runways_body_is_repeated_byte_for_byte_in_both_envelopes() {
        let up = Upstream::raw(
            404,
            RawValue::from_string(r#"{"z":1,"error":"gone","a":[1.50,2]}"#.into()).unwrap(),
        );
        let body = match up.payload() {
            Payload::Json(raw) => raw.get().to_owned(),
            Payload::Text(_) => unreachable!(),
        };
        assert_eq!(body, r#"{"z":1,"error":"gone","a":[1.50,2]}"#);
        assert_eq!(as_str(up.fields().error).as_deref(), Some("gone"));
        assert_eq!(as_str(up.fields().message), None);
    }
}
