#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod calls;
mod client;
pub mod download;
mod envelope;
mod error;
mod format;
#[doc(hidden)]
pub mod fuzzing;
pub mod generated;
pub mod image_to_video;
pub mod media;
mod pipeline;
mod redact;
mod retry;
mod task;
mod tls;
mod transport;
mod wait;

pub use calls::{CancelTask, CreateImageToVideo, GetTask};
pub use client::{BASE_URL_ENV, CancelOutcome, Client, ClientBuilder, DEFAULT_BASE_URL, TOKEN_ENV};
pub use download::{
    Download, DownloadError, DownloadErrorKind, DownloadProgress, DownloadSource, Downloaded,
    Location, SavedOutput,
};
pub use envelope::Dialect;
pub use error::{ApiError, DecodeError, Error, Issue, TransportError, TransportKind};
pub use format::{UrlFormat, UrlFormatState};
pub use image_to_video::{ImageToVideo, Model, PromptImage, Ratio, ValidationError};
pub use media::{MediaError, MediaUri};
pub use retry::RetryPolicy;
pub use task::{CreatedTask, FailureCode, MAX_TASK_ID_LEN, Task, TaskId, TaskStatus};
pub use transport::{Transport, USER_AGENT};
pub use wait::{Outcome, PollSchedule, Wait, WaitTarget, Watch};
