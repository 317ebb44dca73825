//! Runway's task object: [`Task`], [`TaskId`], [`TaskStatus`] and [`FailureCode`].
//!
//! Runway adds statuses, fields and failure codes over time. Nothing here fails on something new:
//! unknown statuses become [`TaskStatus::Unknown`], unknown codes [`FailureCode::Other`], and
//! unknown fields are ignored.
//!
//! Every type here is `Serialize` and `Deserialize` in Runway's own JSON (camelCase names, the
//! wire strings of statuses and codes, costs as `{"credits": n}`), so a service can store a task
//! in its database or return it from its own API, and read it back unchanged:
//!
//! ```
//! use lowcodeapi_runwayml::{Task, TaskStatus};
//! let task: Task = serde_json::from_str(
//!     r#"{"id":"17f20503-6c24-4c16-946b-35dbbce2af2f","status":"SUCCEEDED",
//!         "output":["https://example.com/v.mp4"],"cost":{"credits":25}}"#,
//! )?;
//! assert_eq!(task.status, TaskStatus::Succeeded);
//! assert_eq!(task.first_output(), Some("https://example.com/v.mp4"));
//! let stored = serde_json::to_string(&task)?;
//! assert_eq!(serde_json::from_str::<Task>(&stored)?, task);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use crate::generated::types as wire;

/// The most characters a task id may have (Runway's are 36-character UUIDs).
pub const MAX_TASK_ID_LEN: usize = 128;

/// A validated task id.
///
/// LowCodeAPI's self-hosted server splices the id into the upstream URL without encoding it, so
/// an id is checked before it is ever sent: ASCII letters, digits, `-` and `_` only, 1 to
/// [`MAX_TASK_ID_LEN`] characters.
///
/// ```
/// use lowcodeapi_runwayml::TaskId;
/// let id = TaskId::parse("17f20503-6c24-4c16-946b-35dbbce2af2f")?;
/// assert_eq!(id.as_str(), "17f20503-6c24-4c16-946b-35dbbce2af2f");
/// assert!(TaskId::parse("../admin").is_err());
/// # Ok::<(), lowcodeapi_runwayml::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct TaskId(String);

impl TaskId {
    /// Checks that `id` is a plausible task id.
    ///
    /// ```
    /// use lowcodeapi_runwayml::TaskId;
    /// assert!(TaskId::parse("task_01").is_ok());
    /// assert!(TaskId::parse("a b").is_err());
    /// ```
    pub fn parse(id: impl AsRef<str>) -> Result<Self, crate::Error> {
        let id = id.as_ref();
        let reason = if id.is_empty() {
            Some("it is empty".to_owned())
        } else if id.len() > MAX_TASK_ID_LEN {
            Some(format!(
                "it has {} characters, more than {MAX_TASK_ID_LEN}",
                id.len()
            ))
        } else {
            id.chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
                .map(|c| {
                    format!("it contains {c:?}; only letters, digits, '-' and '_' are allowed")
                })
        };
        match reason {
            Some(reason) => Err(crate::Error::InvalidTaskId {
                id: excerpt(id),
                reason,
            }),
            None => Ok(Self(id.to_owned())),
        }
    }

    /// The id as sent to the API.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::TaskId;
    /// assert_eq!(TaskId::parse("task_01")?.as_str(), "task_01");
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn excerpt(id: &str) -> String {
    let mut short: String = id.chars().take(40).collect();
    if short.len() < id.len() {
        short.push('…');
    }
    short
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

impl std::str::FromStr for TaskId {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for TaskId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Deserializing checks the id as [`TaskId::parse`] does.
///
/// ```
/// use lowcodeapi_runwayml::TaskId;
/// let id: TaskId = serde_json::from_str("\"task_01\"")?;
/// assert_eq!(serde_json::to_string(&id)?, "\"task_01\"");
/// assert!(serde_json::from_str::<TaskId>("\"../admin\"").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
impl<'de> serde::Deserialize<'de> for TaskId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        TaskId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Where a task is in its life. Open: statuses Runway adds later arrive as [`TaskStatus::Unknown`].
///
/// Serialized as Runway's wire string; an unknown status survives a round trip.
///
/// ```
/// use lowcodeapi_runwayml::TaskStatus;
/// assert_eq!(serde_json::to_string(&TaskStatus::Running)?, "\"RUNNING\"");
/// let new: TaskStatus = serde_json::from_str("\"ARCHIVED\"")?;
/// assert_eq!(new, TaskStatus::Unknown("ARCHIVED".into()));
/// assert_eq!(serde_json::to_string(&new)?, "\"ARCHIVED\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskStatus {
    /// Queued.
    Pending,
    /// Stored but not yet queued: the organization is at its concurrency limit. Runs later.
    Throttled,
    /// Generating; see [`Task::progress`].
    Running,
    /// Done; see [`Task::output`].
    Succeeded,
    /// Failed; see [`Task::failure`] and [`Task::failure_code`].
    Failed,
    /// Cancelled by a client.
    Cancelled,
    /// A status this SDK does not know yet, kept verbatim.
    Unknown(String),
}

impl TaskStatus {
    /// Parses Runway's wire value; anything unknown is kept as [`TaskStatus::Unknown`].
    ///
    /// ```
    /// # use lowcodeapi_runwayml::TaskStatus;
    /// assert_eq!(TaskStatus::parse("SUCCEEDED"), TaskStatus::Succeeded);
    /// ```
    pub fn parse(value: &str) -> Self {
        match value {
            "PENDING" => Self::Pending,
            "THROTTLED" => Self::Throttled,
            "RUNNING" => Self::Running,
            "SUCCEEDED" => Self::Succeeded,
            "FAILED" => Self::Failed,
            "CANCELLED" => Self::Cancelled,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// Runway's wire value.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::TaskStatus;
    /// assert_eq!(TaskStatus::Throttled.as_str(), "THROTTLED");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::Throttled => "THROTTLED",
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
            Self::Unknown(other) => other,
        }
    }

    /// True once the task will not change again (succeeded, failed or cancelled).
    ///
    /// ```
    /// # use lowcodeapi_runwayml::TaskStatus;
    /// assert!(TaskStatus::Failed.is_terminal());
    /// assert!(!TaskStatus::Running.is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TaskStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for TaskStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::parse(&raw))
    }
}

/// Why a task failed, by family (see Runway's failure codes). Open: unknown codes are kept.
///
/// Serialized as the code Runway sent, so a round trip keeps it exactly.
///
/// ```
/// use lowcodeapi_runwayml::FailureCode;
/// let code: FailureCode = serde_json::from_str("\"SAFETY.INPUT.TEXT\"")?;
/// assert!(matches!(code, FailureCode::SafetyInput(_)));
/// assert!(!code.is_retryable());
/// assert_eq!(serde_json::to_string(&code)?, "\"SAFETY.INPUT.TEXT\"");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureCode {
    /// `SAFETY.INPUT.*`: moderation rejected an input. Not refunded; do not retry.
    SafetyInput(String),
    /// `SAFETY.OUTPUT.*`: moderation rejected the output. Do not retry.
    SafetyOutput(String),
    /// `INPUT_PREPROCESSING.SAFETY.TEXT`: the prompt was rejected. Do not retry.
    PromptRejected,
    /// `INPUT_PREPROCESSING.INTERNAL`: moderation itself failed. May succeed on retry.
    PreprocessingInternal,
    /// `INTERNAL.BAD_OUTPUT.*`: quality or system rejection. A retry is unlikely to help.
    BadOutput(String),
    /// `INTERNAL.*` (other): an internal error. Retry.
    Internal(String),
    /// A code this SDK does not know yet, kept verbatim.
    Other(String),
}

impl FailureCode {
    /// Sorts Runway's code into its family.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::FailureCode;
    /// assert_eq!(FailureCode::parse("INPUT_PREPROCESSING.INTERNAL"), FailureCode::PreprocessingInternal);
    /// ```
    pub fn parse(code: &str) -> Self {
        let owned = code.to_owned();
        if code.starts_with("SAFETY.INPUT") {
            Self::SafetyInput(owned)
        } else if code.starts_with("SAFETY.OUTPUT") {
            Self::SafetyOutput(owned)
        } else if code == "INPUT_PREPROCESSING.SAFETY.TEXT" {
            Self::PromptRejected
        } else if code == "INPUT_PREPROCESSING.INTERNAL" {
            Self::PreprocessingInternal
        } else if code.starts_with("INTERNAL.BAD_OUTPUT") {
            Self::BadOutput(owned)
        } else if code.starts_with("INTERNAL") {
            Self::Internal(owned)
        } else {
            Self::Other(owned)
        }
    }

    /// The code as Runway sent it.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::FailureCode;
    /// assert_eq!(FailureCode::parse("INTERNAL.TIMEOUT").as_str(), "INTERNAL.TIMEOUT");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            Self::PromptRejected => "INPUT_PREPROCESSING.SAFETY.TEXT",
            Self::PreprocessingInternal => "INPUT_PREPROCESSING.INTERNAL",
            Self::SafetyInput(code)
            | Self::SafetyOutput(code)
            | Self::BadOutput(code)
            | Self::Internal(code)
            | Self::Other(code) => code,
        }
    }

    /// Whether submitting the same generation again may succeed (Runway's guidance: internal
    /// errors and moderation outages yes; safety rejections and bad outputs no).
    ///
    /// ```
    /// # use lowcodeapi_runwayml::FailureCode;
    /// assert!(FailureCode::parse("INTERNAL.TIMEOUT").is_retryable());
    /// assert!(!FailureCode::parse("SAFETY.OUTPUT.VIDEO").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Internal(_) | Self::PreprocessingInternal)
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for FailureCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for FailureCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::parse(&raw))
    }
}

/// A snapshot of a task, as `GET /v1/tasks/{id}` returned it.
///
/// `Serialize`/`Deserialize` use Runway's own task JSON (camelCase names, the wire strings of
/// statuses and codes, costs as `{"credits": n}`), so a service can store a task in its database
/// or return it from its own API: a stored task reads back equal, unknown status and failure code
/// included.
///
/// ```
/// use lowcodeapi_runwayml::{Task, TaskStatus};
/// let task: Task = serde_json::from_str(
///     r#"{"id":"17f20503-6c24-4c16-946b-35dbbce2af2f","status":"SUCCEEDED",
///         "output":["https://example.com/v.mp4"],"cost":{"credits":25}}"#,
/// )?;
/// assert_eq!(task.status, TaskStatus::Succeeded);
/// assert_eq!(task.first_output(), Some("https://example.com/v.mp4"));
/// let stored = serde_json::to_string(&task)?;
/// assert_eq!(serde_json::from_str::<Task>(&stored)?, task);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// Its `Debug` shows output links without their query: they are signed, and the signature is a
/// credential.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Task {
    /// The task's id.
    pub id: TaskId,
    /// Where the task is.
    pub status: TaskStatus,
    /// When it was created (RFC 3339), when Runway said.
    pub created_at: Option<String>,
    /// 0..1 while running.
    pub progress: Option<f64>,
    /// Output URLs once succeeded (empty otherwise: Runway may send none, or `null`). They expire
    /// within 24–48 h; fetch the task again for fresh ones. [`Task::first_output`] reads the first
    /// without indexing.
    pub output: Vec<String>,
    /// Runway's failure text (meant for developers, not end users).
    pub failure: Option<String>,
    /// Runway's failure code, by family.
    pub failure_code: Option<FailureCode>,
    /// Credits charged (succeeded, failed or cancelled tasks).
    pub cost: Option<f64>,
    /// Credits Runway expects to charge (pending or running tasks).
    pub estimated_cost: Option<f64>,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let output: Vec<String> = self.output.iter().map(|u| crate::redact::link(u)).collect();
        f.debug_struct("Task")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("progress", &self.progress)
            .field("output", &output)
            .field("failure", &self.failure)
            .field("failure_code", &self.failure_code)
            .field("cost", &self.cost)
            .field("estimated_cost", &self.estimated_cost)
            .finish()
    }
}

impl Task {
    /// True once the task will not change again.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Task, TaskId, TaskStatus};
    /// assert!(Task::new(TaskId::parse("t1")?, TaskStatus::Succeeded).is_terminal());
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// The first output URL, if there is one: the video of a succeeded task. Never panics,
    /// unlike `output[0]` on a task whose output was empty or `null`.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Task, TaskId, TaskStatus};
    /// let mut task = Task::new(TaskId::parse("t1")?, TaskStatus::Succeeded);
    /// assert_eq!(task.first_output(), None);
    /// task.output.push("https://example.com/v.mp4".into());
    /// assert_eq!(task.first_output(), Some("https://example.com/v.mp4"));
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn first_output(&self) -> Option<&str> {
        self.output.first().map(String::as_str)
    }

    /// Builds a task from the generated wire type. The id comes from the server; it is kept even
    /// when it would not pass [`TaskId::parse`], so nothing the caller paid for is lost.
    pub(crate) fn from_wire(task: wire::Task) -> Self {
        Self {
            id: TaskId(task.id),
            status: TaskStatus::parse(&task.status),
            created_at: task.created_at,
            progress: task.progress,
            output: task.output.unwrap_or_default(),
            failure: task.failure,
            failure_code: task.failure_code.as_deref().map(FailureCode::parse),
            cost: task.cost.map(|c| c.credits),
            estimated_cost: task.estimated_cost.map(|c| c.credits),
        }
    }

    /// A task in a status, with nothing else known. Handy in tests and simulators.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::{Task, TaskId, TaskStatus};
    /// let task = Task::new(TaskId::parse("t1")?, TaskStatus::Pending);
    /// assert_eq!(task.status, TaskStatus::Pending);
    /// assert!(task.output.is_empty());
    /// # Ok::<(), lowcodeapi_runwayml::Error>(())
    /// ```
    pub fn new(id: TaskId, status: TaskStatus) -> Self {
        Self {
            id,
            status,
            created_at: None,
            progress: None,
            output: Vec::new(),
            failure: None,
            failure_code: None,
            cost: None,
            estimated_cost: None,
        }
    }
}

/// For users of [`Client::raw`](crate::Client::raw): the generated task as this crate's [`Task`]
/// (a `null` output becomes an empty list; the server's id is kept as sent).
///
/// ```
/// use lowcodeapi_runwayml::generated::types as wire;
/// use lowcodeapi_runwayml::{Task, TaskStatus};
/// let raw: wire::Task = serde_json::from_str(r#"{"id":"t1","status":"THROTTLED","output":null}"#)?;
/// let task = Task::from(raw);
/// assert_eq!(task.status, TaskStatus::Throttled);
/// assert!(task.output.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
impl From<wire::Task> for Task {
    fn from(task: wire::Task) -> Self {
        Self::from_wire(task)
    }
}

/// Runway's `{"credits": n}`; whole numbers are written as integers, as Runway writes them.
#[derive(serde::Serialize)]
struct Credits {
    #[serde(serialize_with = "credits")]
    credits: f64,
}

fn credits<S: serde::Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact in f64
    if value.fract() == 0.0 && value.abs() < EXACT {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

/// Runway's task JSON, borrowed from a [`Task`] for serializing.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskJson<'a> {
    id: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<f64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    output: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<Credits>,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_cost: Option<Credits>,
}

impl serde::Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TaskJson {
            id: self.id.as_str(),
            status: self.status.as_str(),
            created_at: self.created_at.as_deref(),
            progress: self.progress,
            output: &self.output,
            failure: self.failure.as_deref(),
            failure_code: self.failure_code.as_ref().map(FailureCode::as_str),
            cost: self.cost.map(|credits| Credits { credits }),
            estimated_cost: self.estimated_cost.map(|credits| Credits { credits }),
        }
        .serialize(serializer)
    }
}

/// Reads Runway's task JSON, exactly as [`Client::get_task`](crate::Client::get_task) decodes it:
/// unknown fields are ignored, the id is kept as stored.
impl<'de> serde::Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        wire::Task::deserialize(deserializer).map(Self::from_wire)
    }
}

impl TaskId {
    pub(crate) fn from_server(id: String) -> Self {
        Self(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_that_could_change_the_url_are_rejected() {
        for bad in [
            "", "a/b", "a?b", "a#b", "a%2F", "a b", "a\tb", "a\n", "é", "..", "a.b",
        ] {
            assert!(TaskId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(TaskId::parse("x".repeat(MAX_TASK_ID_LEN + 1)).is_err());
        assert!(TaskId::parse("x".repeat(MAX_TASK_ID_LEN)).is_ok());
        assert!(TaskId::parse("17f20503-6c24-4c16-946b-35dbbce2af2f").is_ok());
        assert!(TaskId::parse("task_01").is_ok());
    }

    #[test]
    fn statuses_round_trip_and_unknown_ones_are_kept() {
        for s in [
            "PENDING",
            "THROTTLED",
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
            "CANCELLED",
        ] {
            assert_eq!(TaskStatus::parse(s).as_str(), s);
            assert!(!matches!(TaskStatus::parse(s), TaskStatus::Unknown(_)));
        }
        assert_eq!(
            TaskStatus::parse("ARCHIVED"),
            TaskStatus::Unknown("ARCHIVED".into())
        );
        assert!(!TaskStatus::parse("ARCHIVED").is_terminal());
    }

    #[test]
    fn tasks_round_trip_through_json_with_unknown_values_kept() {
        let json = serde_json::json!({
            "id": "17f20503-6c24-4c16-946b-35dbbce2af2f",
            "status": "ARCHIVED",
            "createdAt": "2024-06-01T12:00:00Z",
            "progress": 0.25,
            "output": ["https://example.com/a.mp4", "https://example.com/b.mp4"],
            "failure": "It failed.",
            "failureCode": "SOMETHING.NEW",
            "cost": {"credits": 12.5},
            "estimatedCost": {"credits": 25},
            "somethingRunwayAddsLater": {"x": 1}
        });
        let task: Task = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(task.status, TaskStatus::Unknown("ARCHIVED".into()));
        assert_eq!(
            task.failure_code,
            Some(FailureCode::Other("SOMETHING.NEW".into()))
        );
        assert_eq!(task.cost, Some(12.5));
        let stored = serde_json::to_value(&task).unwrap();
        // Runway's names and shapes, minus the field this SDK does not model.
        let mut expected = json;
        expected
            .as_object_mut()
            .unwrap()
            .remove("somethingRunwayAddsLater");
        assert_eq!(stored, expected);
        assert_eq!(serde_json::from_value::<Task>(stored).unwrap(), task);

        // A null output reads as no output, and an empty one is not written.
        let task: Task =
            serde_json::from_str(r#"{"id":"t1","status":"SUCCEEDED","output":null}"#).unwrap();
        assert_eq!(task.first_output(), None);
        assert_eq!(
            serde_json::to_value(&task).unwrap(),
            serde_json::json!({"id": "t1", "status": "SUCCEEDED"})
        );
        // A stored id that TaskId::parse would refuse is kept, as the server's ids are.
        let task: Task = serde_json::from_str(r#"{"id":"odd.id","status":"RUNNING"}"#).unwrap();
        assert_eq!(task.id.as_str(), "odd.id");
        assert!(serde_json::from_str::<Task>(r#"{"status":"RUNNING"}"#).is_err());
    }

    #[test]
    fn statuses_codes_ids_and_created_tasks_round_trip() {
        for status in [
            "PENDING",
            "THROTTLED",
            "RUNNING",
            "SUCCEEDED",
            "FAILED",
            "CANCELLED",
            "NEW",
        ] {
            let parsed: TaskStatus = serde_json::from_value(status.into()).unwrap();
            assert_eq!(parsed, TaskStatus::parse(status));
            assert_eq!(serde_json::to_value(&parsed).unwrap(), status);
        }
        for code in [
            "SAFETY.INPUT.TEXT",
            "INPUT_PREPROCESSING.SAFETY.TEXT",
            "ASSET.NEW",
        ] {
            let parsed: FailureCode = serde_json::from_value(code.into()).unwrap();
            assert_eq!(parsed, FailureCode::parse(code));
            assert_eq!(serde_json::to_value(&parsed).unwrap(), code);
        }
        let id: TaskId = serde_json::from_value("task_01".into()).unwrap();
        assert_eq!(serde_json::to_value(&id).unwrap(), "task_01");
        assert!(serde_json::from_value::<TaskId>("a/b".into()).is_err());
        for json in [
            serde_json::json!({"id": "t1"}),
            serde_json::json!({"id": "t1", "estimatedCost": {"credits": 40}}),
        ] {
            let created: CreatedTask = serde_json::from_value(json.clone()).unwrap();
            assert_eq!(serde_json::to_value(&created).unwrap(), json);
        }
    }

    #[test]
    fn failure_codes_sort_into_families() {
        assert!(matches!(
            FailureCode::parse("SAFETY.INPUT.TEXT"),
            FailureCode::SafetyInput(_)
        ));
        assert!(matches!(
            FailureCode::parse("SAFETY.OUTPUT.VIDEO"),
            FailureCode::SafetyOutput(_)
        ));
        assert_eq!(
            FailureCode::parse("INPUT_PREPROCESSING.SAFETY.TEXT"),
            FailureCode::PromptRejected
        );
        assert_eq!(
            FailureCode::parse("INPUT_PREPROCESSING.INTERNAL"),
            FailureCode::PreprocessingInternal
        );
        assert!(matches!(
            FailureCode::parse("INTERNAL.BAD_OUTPUT.CODE01"),
            FailureCode::BadOutput(_)
        ));
        assert!(matches!(
            FailureCode::parse("INTERNAL.TIMEOUT"),
            FailureCode::Internal(_)
        ));
        assert!(matches!(
            FailureCode::parse("ASSET.INVALID"),
            FailureCode::Other(_)
        ));
        assert!(FailureCode::parse("INTERNAL.TIMEOUT").is_retryable());
        assert!(FailureCode::parse("INPUT_PREPROCESSING.INTERNAL").is_retryable());
        assert!(!FailureCode::parse("SAFETY.INPUT.TEXT").is_retryable());
        assert!(!FailureCode::parse("INTERNAL.BAD_OUTPUT.CODE01").is_retryable());
        assert_eq!(
            FailureCode::parse("INTERNAL.BAD_OUTPUT.CODE01").as_str(),
            "INTERNAL.BAD_OUTPUT.CODE01"
        );
    }
}

/// A task that was just created: its id, and the credits Runway expects to charge when it said.
///
/// Serialized as Runway's create answer (`{"id": …, "estimatedCost": {"credits": …}}`).
///
/// ```
/// use lowcodeapi_runwayml::CreatedTask;
/// let created: CreatedTask = serde_json::from_str(r#"{"id":"t1","estimatedCost":{"credits":25}}"#)?;
/// assert_eq!(created.id.as_str(), "t1");
/// assert_eq!(created.estimated_cost, Some(25.0));
/// assert_eq!(serde_json::from_str::<CreatedTask>(&serde_json::to_string(&created)?)?, created);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreatedTask {
    /// The new task's id: keep it, it is how the task is found again.
    pub id: TaskId,
    /// The estimated cost in credits (newer API versions only).
    pub estimated_cost: Option<f64>,
}

/// For users of [`Client::raw`](crate::Client::raw): the generated create answer as a
/// [`CreatedTask`].
///
/// ```
/// use lowcodeapi_runwayml::generated::types as wire;
/// use lowcodeapi_runwayml::CreatedTask;
/// let raw: wire::CreateTaskResponse = serde_json::from_str(r#"{"id":"t1"}"#)?;
/// assert_eq!(CreatedTask::from(raw).id.as_str(), "t1");
/// # Ok::<(), serde_json::Error>(())
/// ```
impl From<wire::CreateTaskResponse> for CreatedTask {
    fn from(created: wire::CreateTaskResponse) -> Self {
        Self {
            id: TaskId(created.id),
            estimated_cost: created.estimated_cost.map(|c| c.credits),
        }
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedJson<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    estimated_cost: Option<Credits>,
}

impl serde::Serialize for CreatedTask {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CreatedJson {
            id: self.id.as_str(),
            estimated_cost: self.estimated_cost.map(|credits| Credits { credits }),
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for CreatedTask {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        wire::CreateTaskResponse::deserialize(deserializer).map(Self::from)
    }
}

impl AsRef<TaskId> for CreatedTask {
    fn as_ref(&self) -> &TaskId {
        &self.id
    }
}

impl AsRef<TaskId> for TaskId {
    fn as_ref(&self) -> &TaskId {
        self
    }
}
