//! Entry points for the fuzz targets (`fuzz/`) and the property tests of the decoders: thin
//! wrappers around the crate-private functions that read what comes off the wire.
//!
//! Not part of the API: hidden from the docs, and free to change in any release.

use std::time::Duration;

use bytes::Bytes;

use crate::envelope::{self, Dialect, Success};
use crate::error::ApiError;
use crate::generated::types as wire;
use crate::task::{CreatedTask, Task, TaskId};

/// What [`unwrap_success_body`] made of a 2xx body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwrapped {
    /// The provider's payload, out of its envelope.
    Payload(Option<Dialect>, Vec<u8>),
    /// An envelope around nothing.
    Empty(Dialect),
    /// Not an envelope: passed through untouched.
    Bare,
}

/// Finds the provider payload inside a 2xx body, as every success answer is read.
pub fn unwrap_success_body(body: &[u8]) -> Unwrapped {
    match envelope::unwrap_success(&Bytes::copy_from_slice(body)) {
        Success::Payload(dialect, payload) => Unwrapped::Payload(dialect, payload.to_vec()),
        Success::Empty(dialect) => Unwrapped::Empty(dialect),
        Success::Bare => Unwrapped::Bare,
    }
}

/// Whether the one-pass read of a hosted 200 answer (payload found and decoded together, as
/// `get_task` reads `{"data": …}`) agrees with unwrapping the body first and decoding the payload
/// after: whenever the one pass gives a value (as JSON, and as a wire task), the two-step read
/// gives the same one. When it gives none, the two-step read decides, so that cannot disagree.
pub fn hosted_one_pass_agrees(body: &[u8]) -> bool {
    let two_step = |as_task: bool| -> Option<serde_json::Value> {
        match envelope::unwrap_success(&Bytes::copy_from_slice(body)) {
            Success::Payload(Some(Dialect::Hosted), payload) if as_task => {
                serde_json::from_slice::<wire::Task>(&payload)
                    .ok()
                    .and_then(|task| serde_json::to_value(task).ok())
            }
            Success::Payload(Some(Dialect::Hosted), payload) => {
                serde_json::from_slice(&payload).ok()
            }
            _ => None,
        }
    };
    let value_agrees = match envelope::decode_hosted::<serde_json::Value>(body) {
        Some(value) => two_step(false) == Some(value),
        None => true,
    };
    let task_agrees = match envelope::decode_hosted::<wire::Task>(body) {
        Some(task) => two_step(true) == serde_json::to_value(task).ok(),
        None => true,
    };
    value_agrees && task_agrees
}

/// Decodes an error answer, as every non-2xx answer is read; `retry_after_header` is the
/// `Retry-After` header's value, when there is one.
pub fn decode_error_body(
    status: u16,
    retry_after_header: Option<&[u8]>,
    body: &[u8],
    token: Option<&str>,
) -> ApiError {
    envelope::decode_error("fuzz", status, &headers(retry_after_header), body, token)
}

/// Reads `Retry-After` from the header value and the body, as a 429 or 5xx answer is read.
pub fn retry_after(retry_after_header: Option<&[u8]>, body: &[u8]) -> Option<Duration> {
    envelope::retry_after(&headers(retry_after_header), body)
}

/// Whether an error answer is LowCodeAPI's routing miss.
pub fn is_routing_miss(status: u16, body: &[u8]) -> bool {
    envelope::is_routing_miss(status, body)
}

fn headers(retry_after_header: Option<&[u8]>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    if let Some(value) = retry_after_header.and_then(|v| http::HeaderValue::from_bytes(v).ok()) {
        headers.insert(http::header::RETRY_AFTER, value);
    }
    headers
}

/// Decodes a task object (an unwrapped `GET /v1/tasks/{id}` payload) the way the client does.
pub fn parse_task_json(payload: &[u8]) -> Result<Task, serde_json::Error> {
    serde_json::from_slice::<wire::Task>(payload).map(Task::from_wire)
}

/// Decodes a create answer (an unwrapped `POST /v1/image_to_video` payload) the way the client
/// does.
pub fn parse_created_json(payload: &[u8]) -> Result<CreatedTask, serde_json::Error> {
    serde_json::from_slice::<wire::CreateTaskResponse>(payload).map(|created| CreatedTask {
        id: TaskId::from_server(created.id),
        estimated_cost: created.estimated_cost.map(|c| c.credits),
    })
}

/// A whole 2xx task answer: envelope, then task, as `Client::get_task` reads it.
pub fn decode_task_response(body: &[u8]) -> Result<Task, serde_json::Error> {
    if let Some(task) = envelope::decode_hosted::<wire::Task>(body) {
        return Ok(Task::from_wire(task));
    }
    match unwrap_success_body(body) {
        Unwrapped::Payload(_, payload) => parse_task_json(&payload),
        Unwrapped::Empty(_) | Unwrapped::Bare => parse_task_json(body),
    }
}

/// Masks the token and every `api_token` value in `text`.
pub fn redact(text: &str, token: Option<&str>) -> String {
    crate::redact::redact(text, token)
}

/// A bounded, redacted, single-line excerpt of a body.
pub fn excerpt(body: &[u8], limit: usize, token: Option<&str>) -> String {
    crate::redact::excerpt(body, limit, token)
}

/// The mask the token is replaced with.
pub const MASK: &str = crate::redact::MASK;
