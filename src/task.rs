//! Runway's task object: [`Task`], [`TaskId`], [`TaskStatus`] and [`FailureCode`].
//!
//! Runway adds statuses, fields and failure codes over time. Nothing here fails on something new:
//! unknown statuses become [`TaskStatus::Unknown`], unknown codes [`FailureCode::Other`], and
//! unknown fields are ignored.

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

impl<'de> serde::Deserialize<'de> for TaskId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        TaskId::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Where a task is in its life. Open: statuses Runway adds later arrive as [`TaskStatus::Unknown`].
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
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a task failed, by family (see Runway's failure codes). Open: unknown codes are kept.
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
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Internal(_) | Self::PreprocessingInternal)
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot of a task, as `GET /v1/tasks/{id}` returned it.
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
    /// Output URLs once succeeded. They expire within 24–48 h; fetch the task again for fresh ones.
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
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
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
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CreatedTask {
    /// The new task's id: keep it, it is how the task is found again.
    pub id: TaskId,
    /// The estimated cost in credits (newer API versions only).
    pub estimated_cost: Option<f64>,
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
