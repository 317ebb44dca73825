//! What goes on the wire: Runway's answers, and the two LowCodeAPI envelopes around them.

use std::time::Duration;

use bytes::Bytes;

use crate::config::{Dialect, HostedDelete};
use crate::json::J;
use crate::state::Config;

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
    pub(crate) fn json(status: u16, j: &J) -> Reply {
        Reply {
            status,
            content_type: Some(JSON_UTF8),
            headers: Vec::new(),
            body: Bytes::from(j.to_json()),
        }
    }
}

/// Runway's body.
#[derive(Clone, Debug)]
pub(crate) enum UpBody {
    Json(J),
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

impl Upstream {
    pub(crate) fn json(status: u16, j: J) -> Upstream {
        Upstream {
            status,
            body: UpBody::Json(j),
            retry_after: None,
        }
    }

    /// Runway's `{"error": message}`.
    pub(crate) fn error(status: u16, message: &str) -> Upstream {
        Upstream::json(status, J::obj([("error", J::from(message))]))
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
    fn headers_j(&self) -> J {
        let mut h = J::obj::<&str>([]);
        match self.body {
            UpBody::Json(_) => h.push("content-type", J::from(JSON_UTF8)),
            UpBody::Text(_) => h.push("content-type", J::from("text/plain; charset=utf-8")),
            // The self-hosted server answers a 204 only when it had a content type.
            UpBody::Empty => h.push("content-type", J::from("application/json")),
        }
        if let Some(secs) = self.retry_after {
            h.push("retry-after", J::from(secs.to_string()));
        }
        h
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

/// `{"data":{"error":{"message":…,"code":…}}}` with extra fields after `code`.
pub(crate) fn hosted_error(status: u16, message: &str, extra: Vec<(String, J)>) -> Reply {
    let mut error = J::obj([
        ("message", J::from(message)),
        ("code", J::from(hosted_code(status))),
    ]);
    for (k, v) in extra {
        error.push(&k, v);
    }
    Reply::json(status, &J::obj([("data", J::obj([("error", error)]))]))
}

/// Wraps Runway's answer in the dialect's envelope.
pub(crate) fn render(config: &Config, up: Upstream) -> Reply {
    let success = (200..300).contains(&up.status);
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
            let (message, result) = match &up.body {
                UpBody::Json(j) => (
                    j.get("message")
                        .and_then(J::as_str)
                        .unwrap_or("Request completed")
                        .to_owned(),
                    j.clone(),
                ),
                _ => ("Request completed".to_owned(), J::from("")),
            };
            Reply::json(
                200,
                &J::obj([
                    ("message", J::from(message)),
                    ("provider", J::from(PROVIDER)),
                    ("result", result),
                    ("response_headers", up.headers_j()),
                ]),
            )
        }
        (Dialect::SelfHosted, false) => {
            let (message, error) = match &up.body {
                UpBody::Json(j) => (
                    j.get("message")
                        .and_then(J::as_str)
                        .unwrap_or(UPSTREAM_DEFAULT_MESSAGE)
                        .to_owned(),
                    j.clone(),
                ),
                UpBody::Text(t) => (UPSTREAM_DEFAULT_MESSAGE.to_owned(), J::from(t)),
                UpBody::Empty => (UPSTREAM_DEFAULT_MESSAGE.to_owned(), J::from("")),
            };
            Reply::json(
                up.status,
                &J::obj([
                    ("message", J::from(message)),
                    ("provider", J::from(PROVIDER)),
                    ("error", error),
                    ("headers", up.headers_j()),
                ]),
            )
        }
        (Dialect::Hosted, true) => match up.body {
            UpBody::Json(j) => Reply::json(up.status, &J::obj([("data", j)])),
            UpBody::Text(t) => Reply::json(up.status, &J::obj([("data", J::from(t))])),
            UpBody::Empty => match config.hosted_delete {
                HostedDelete::EmptyData => Reply::json(200, &J::obj([("data", J::from(""))])),
                HostedDelete::NoContent => Reply {
                    status: 204,
                    content_type: None,
                    headers: Vec::new(),
                    body: Bytes::new(),
                },
            },
        },
        (Dialect::Hosted, false) => {
            let (message, extra) = match &up.body {
                UpBody::Json(j) => {
                    let message = j
                        .get("error")
                        .and_then(J::as_str)
                        .or_else(|| j.get("message").and_then(J::as_str))
                        .unwrap_or(UPSTREAM_DEFAULT_MESSAGE)
                        .to_owned();
                    let mut extra = Vec::new();
                    for key in ["issues", "docUrl"] {
                        if let Some(v) = j.get(key) {
                            extra.push((key.to_owned(), v.clone()));
                        }
                    }
                    (message, extra)
                }
                UpBody::Text(t) => (t.clone(), Vec::new()),
                UpBody::Empty => (reason(up.status).to_owned(), Vec::new()),
            };
            let mut reply = hosted_error(up.status, &message, extra);
            if let Some(secs) = up.retry_after {
                reply.headers.push(("retry-after", secs.to_string()));
            }
            reply
        }
    }
}

/// The routing miss, the same in both dialects: no provider key, no token check.
pub(crate) fn routing_miss() -> Reply {
    Reply::json(404, &J::obj([("message", J::from("Not Found"))]))
}

/// A proxy-level error that never reached Runway (token problems, unreadable bodies).
pub(crate) fn proxy_error(config: &Config, status: u16, message: &str, error: Option<J>) -> Reply {
    match config.dialect {
        Dialect::Hosted => hosted_error(status, message, Vec::new()),
        Dialect::SelfHosted => {
            let mut body = J::obj([("message", J::from(message))]);
            if let Some(error) = error {
                body.push("provider", J::from(PROVIDER));
                body.push("error", error);
            }
            Reply::json(status, &body)
        }
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
