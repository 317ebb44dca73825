//! The request log.

use std::time::Duration;

use bytes::Bytes;

use crate::config::UrlFormat;
use crate::fault::{Fault, Route};

/// One request the simulator received, as it arrived (see
/// [`Simulator::requests`](crate::Simulator::requests)).
///
/// It holds the client's `api_token` in clear, on purpose: tests use it to check what the SDK
/// sent. Do not print a log entry where a real token could be.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedRequest {
    /// Its number, from 0, in arrival order; its position in
    /// [`Simulator::requests`](crate::Simulator::requests) until
    /// [`clear_requests`](crate::Simulator::clear_requests) is called (numbers keep counting).
    pub index: usize,
    /// `GET`, `POST`, `DELETE`, …
    pub method: String,
    /// The path as sent, still percent-encoded.
    pub path: String,
    /// The query string as sent (without `?`), if any.
    pub raw_query: Option<String>,
    /// The query string decoded into pairs, in order, repeats kept.
    pub query: Vec<(String, String)>,
    /// The headers, names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Bytes,
    /// The route it was matched to ([`Route::NotFound`] for a routing miss).
    pub route: Route,
    /// The URL format of a task route.
    pub format: Option<UrlFormat>,
    /// The task id a `GET`/`DELETE` named (the `id` query parameter in the Old Format).
    pub task_id: Option<String>,
    /// Real time since the simulator started.
    pub at: Duration,
    /// Simulated time since the simulator started.
    pub sim_at: Duration,
    /// The status answered; `None` while in flight, or when no answer was sent (dropped or
    /// hanging connections).
    pub status: Option<u16>,
    /// The fault that fired on it, if any.
    pub fault: Option<Fault>,
}

impl LoggedRequest {
    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a header (name compared ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `api_token` query parameter.
    pub fn token(&self) -> Option<&str> {
        self.query_param("api_token")
    }

    /// Whether the request carried a LowCodeAPI token anywhere: an `api_token` query
    /// parameter, an `api_token` or `x-api-token` header, an `Authorization` header, or a
    /// [`DEFAULT_TOKEN`](crate::DEFAULT_TOKEN)-like value (a word starting with `at_`) in any
    /// header or parameter. Downloads ([`Route::Output`]) should never carry one.
    pub fn carries_api_token(&self) -> bool {
        let named = |k: &str| {
            ["api_token", "x-api-token", "authorization"]
                .iter()
                .any(|n| k.eq_ignore_ascii_case(n))
        };
        let token_like = |v: &str| v.split_whitespace().any(|w| w.starts_with("at_"));
        self.query.iter().any(|(k, v)| named(k) || token_like(v))
            || self.headers.iter().any(|(k, v)| named(k) || token_like(v))
    }
}
