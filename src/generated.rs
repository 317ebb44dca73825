//! The client progenitor generates from `spec/openapi.json` (see `build.rs`): the escape hatch.
//!
//! [`Client`] has every operation LowCodeAPI exposes for runwayml, typed as the prepared spec
//! describes it ([`types`]). Requests made through it still go through this crate's hooks
//! (token, retries, timeouts, envelope unwrapping, redaction), so a raw call returns Runway's
//! payload whichever LowCodeAPI dialect answered. Get one with [`crate::Client::raw`].
//!
//! What is left to you:
//!
//! - **Errors.** A raw call fails with progenitor's [`RawError`]; `?` turns it into this crate's
//!   [`Error`](crate::Error) (status, Runway's message and issues, a redacted body excerpt, a
//!   hint), and [`Error::with_task_id`](crate::Error::with_task_id) names the task:
//!
//!   ```no_run
//!   # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
//!   use lowcodeapi_runwayml::{Error, Task};
//!   let raw = client
//!       .raw()
//!       .get_task(id.as_str())
//!       .await
//!       .map_err(|e| Error::from(e).with_task_id(&id))?;
//!   let task = Task::from(raw.into_inner());
//!   # Ok(()) }
//!   ```
//!
//! - **Types.** The generated [`types`] are the wire as the spec has it (closed strings, `i64`
//!   durations). `From`/`TryFrom` turn them into this crate's types: [`types::Task`] into
//!   [`Task`](crate::Task), [`types::CreateTaskResponse`] into
//!   [`CreatedTask`](crate::CreatedTask), [`types::ImageToVideoRequest`] into
//!   [`ImageToVideo`](crate::ImageToVideo).
//!
//! - **The URL format.** Every operation with a path parameter comes twice:
//!   `get_task`/`delete_task` use the New Format (`/v1/tasks/{id}`), the `*_old_format` twins
//!   (`get_task_old_format`, `delete_task_old_format`) the Old Format (`/v1/tasks/id?id=…`), the
//!   only one LowCodeAPI's open-source server routes. Hosted LowCodeAPI routes both. Call the
//!   twin when your server answers the New Format with a routing miss (`404
//!   {"message":"Not Found"}`); [`crate::Client::get_task`] and [`crate::Client::cancel_task`]
//!   make that choice for you and remember it, the raw client does not.

#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unused_qualifications,
    irrefutable_let_patterns,
    mismatched_lifetime_syntaxes
)]
mod codegen {
    include!(concat!(env!("OUT_DIR"), "/codegen.rs"));
}

pub use codegen::{Client, types};
pub(crate) use codegen::{PATH_PREFIXES, json_only_at_200, token_in_url};
/// A raw call's answer: the decoded payload ([`ResponseValue::into_inner`]), status and headers.
pub use progenitor_client::ResponseValue;

/// What a raw call fails with (progenitor's error). Convert it with `?` or
/// [`Error::from`](crate::Error::from) into this crate's [`Error`](crate::Error), whose message
/// carries the status, Runway's error, a redacted body excerpt and a hint.
///
/// ```
/// use lowcodeapi_runwayml::generated::RawError;
/// let raw: RawError = RawError::InvalidRequest("no body".into());
/// let error = lowcodeapi_runwayml::Error::from(raw);
/// assert!(error.to_string().contains("no body"));
/// ```
pub type RawError = progenitor_client::Error<()>;

/// Typed httpmock helpers for every generated operation (feature `httpmock`).
#[cfg(feature = "httpmock")]
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod mock {
    include!(concat!(env!("OUT_DIR"), "/codegen_httpmock.rs"));
}
