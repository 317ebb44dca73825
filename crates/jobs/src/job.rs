//! What a job is: its id, its state, where its video goes, and what is known about it.

use std::fmt;
use std::path::PathBuf;

use lowcodeapi_runwayml::TaskId;
use serde::{Deserialize, Serialize};

/// A job's id in the store: stable across processes and restarts.
///
/// ```
/// use lowcodeapi_runwayml_jobs::JobId;
///
/// let id = JobId::from_raw(42);
/// assert_eq!(id.to_string(), "42");
/// assert_eq!(id.get(), 42);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobId(i64);

impl JobId {
    /// A job id from its number (as printed, or as stored in the `id` column).
    pub fn from_raw(id: i64) -> JobId {
        JobId(id)
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a job's video goes.
///
/// ```
/// use lowcodeapi_runwayml_jobs::Destination;
///
/// // One file per output in a directory, named after the task.
/// let dir = Destination::directory("videos");
/// // Or exactly this path (a task with several outputs adds `-1`, `-2`, ... before the extension).
/// let file = Destination::file("videos/cat.mp4");
/// assert_ne!(dir, file);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Destination {
    /// A directory: each output is written as `<task id>.mp4` (then `<task id>-1.mp4`, ...).
    Directory(PathBuf),
    /// A file path for the first output (`name-1.ext`, ... for the others).
    File(PathBuf),
}

impl Destination {
    /// A directory destination.
    pub fn directory(path: impl Into<PathBuf>) -> Destination {
        Destination::Directory(path.into())
    }

    /// A file destination.
    pub fn file(path: impl Into<PathBuf>) -> Destination {
        Destination::File(path.into())
    }
}

/// Where a job is in its life.
///
/// ```text
/// Queued ─► Creating ─► Waiting ─► Downloading ─► Succeeded
///              │           └────────────────────► Failed | Cancelled
///              └─► Ambiguous (the create may have reached Runway; an operator decides)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum JobState {
    /// Recorded, nothing sent yet.
    Queued,
    /// A worker recorded its intent to create the task and is sending (or has sent) the POST.
    Creating,
    /// The task exists at Runway (its id is recorded); a worker polls it.
    Waiting,
    /// The task succeeded; a worker downloads its outputs.
    Downloading,
    /// The outputs are stored: see [`JobStatus::outputs`].
    Succeeded,
    /// The task failed, or Runway refused the request: see [`JobStatus::error`].
    Failed,
    /// Cancelled with [`Jobs::cancel`](crate::Jobs::cancel).
    Cancelled,
    /// A create may have reached Runway but its answer was lost (a crash, a timeout, a gateway
    /// error): the task may exist and be billed. Never re-sent automatically; see
    /// [`Jobs::resubmit`](crate::Jobs::resubmit).
    Ambiguous,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [JobState; 8] = [
        JobState::Queued,
        JobState::Creating,
        JobState::Waiting,
        JobState::Downloading,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
        JobState::Ambiguous,
    ];

    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Creating => "creating",
            JobState::Waiting => "waiting",
            JobState::Downloading => "downloading",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
            JobState::Ambiguous => "ambiguous",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// No worker will touch the job again (an ambiguous job waits for an operator).
    ///
    /// ```
    /// use lowcodeapi_runwayml_jobs::JobState;
    /// assert!(JobState::Ambiguous.is_settled());
    /// assert!(!JobState::Waiting.is_settled());
    /// ```
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled | JobState::Ambiguous
        )
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoredOutput {
    /// Where the file is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
}

/// Everything the store knows about a job.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobStatus {
    /// The job.
    pub id: JobId,
    /// The key it was submitted with, if any ([`Jobs::submit_with_key`](crate::Jobs::submit_with_key)).
    pub key: Option<String>,
    /// Its state.
    pub state: JobState,
    /// Runway's task, once created.
    pub task_id: Option<TaskId>,
    /// The estimated cost in credits, when Runway said.
    pub cost: Option<f64>,
    /// How many creates were attempted (more than one only after a 429, a refused connection, or
    /// an operator's [`resubmit`](crate::Jobs::resubmit)).
    pub attempts: i64,
    /// Where the video goes.
    pub destination: Destination,
    /// The stored outputs, once [`JobState::Succeeded`].
    pub outputs: Vec<StoredOutput>,
    /// Why the job failed, or why it is ambiguous.
    pub error: Option<String>,
    /// Runway's failure code, for a task that failed.
    pub failure_code: Option<String>,
    /// A cancel was asked for.
    pub cancel_requested: bool,
    /// When it was submitted (milliseconds since the Unix epoch).
    pub created_at_ms: i64,
    /// When it last changed state (milliseconds since the Unix epoch).
    pub updated_at_ms: i64,
}

/// A state change, as [`Jobs::events`](crate::Jobs::events) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobEvent {
    /// The event's position in the store's log (increasing).
    pub seq: i64,
    /// The job.
    pub job: JobId,
    /// Its new state.
    pub state: JobState,
    /// When (milliseconds since the Unix epoch, the writer's clock).
    pub at_ms: i64,
}
