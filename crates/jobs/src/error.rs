//! Errors of the job store.

use crate::job::{JobId, JobState};

/// Every failure of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request broke the SDK's rules; nothing was recorded or sent.
    #[error("job not submitted: {0}")]
    Invalid(#[from] lowcodeapi_runwayml::ValidationError),
    /// The store URL is not one this crate opens.
    #[error(
        "unsupported job store URL {0:?}: use sqlite://PATH (one process) or postgres://… (a fleet)"
    )]
    UnsupportedUrl(String),
    /// The store could not be opened or read (missing server, wrong credentials, a file that is
    /// not a SQLite database).
    #[error("cannot open the job store {url}: {message}")]
    Unreadable {
        /// The store URL, password removed.
        url: String,
        /// What the database said.
        message: String,
    },
    /// The store was written by a newer version of this crate.
    #[error(
        "the job store has schema version {found}, newer than the {supported} this version of lowcodeapi-runwayml-jobs knows: upgrade it (nothing was changed)"
    )]
    SchemaTooNew {
        /// The version found in the store.
        found: i64,
        /// The newest version this crate knows.
        supported: i64,
    },
    /// A database operation failed.
    #[error("job store error: {0}")]
    Store(#[from] sqlx::Error),
    /// No such job.
    #[error("no job {0} in the store")]
    NotFound(JobId),
    /// The operation does not apply to a job in this state.
    #[error("job {job} is {state}: {what}")]
    WrongState {
        /// The job.
        job: JobId,
        /// Its state.
        state: JobState,
        /// What was asked and why it cannot be done.
        what: &'static str,
    },
    /// A call to Runway failed (cancelling a task, building the client).
    #[error(transparent)]
    Runway(#[from] lowcodeapi_runwayml::Error),
    /// The store holds something this crate did not write.
    #[error("job store holds an unreadable row: {0}")]
    Corrupt(String),
}
