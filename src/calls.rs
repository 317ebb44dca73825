//! Per-call settings for the single calls: [`GetTask`], [`CancelTask`] and
//! [`CreateImageToVideo`].
//!
//! Each is what [`Client::get_task`], [`Client::cancel_task`] and [`Client::image_to_video`]
//! return: `.await` it as it is, or first override the client's request timeout or retry count
//! for this one call (as the AWS SDK's per-operation customization does).
//!
//! ```no_run
//! # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
//! use std::time::Duration;
//! // A dashboard refresh: answer fast or not at all.
//! let task = client
//!     .get_task(&id)
//!     .timeout(Duration::from_secs(3))
//!     .max_retries(0)
//!     .await?;
//! # Ok(()) }
//! ```

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use crate::client::{CancelOutcome, Client};
use crate::error::Error;
use crate::image_to_video::ImageToVideo;
use crate::task::{CreatedTask, Task, TaskId};
use crate::transport::CallOptions;

/// What one call overrides of the client's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CallOverrides {
    timeout: Option<Duration>,
    max_retries: Option<u32>,
}

impl CallOverrides {
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `base` with this call's overrides on top.
    pub(crate) fn apply(self, base: CallOptions) -> CallOptions {
        CallOptions {
            timeout: self.timeout.or(base.timeout),
            max_retries: self.max_retries.or(base.max_retries),
            ..base
        }
    }
}

macro_rules! call_setters {
    () => {
        /// The longest each request of this call may take, answer included (instead of the
        /// client's request timeout, or for a cancel its cancel timeout).
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.overrides.timeout = Some(timeout);
            self
        }

        /// How many times this call is retried at most (instead of the client's
        /// [`RetryPolicy`](crate::RetryPolicy)); `0` sends it once. What is retried does not
        /// change: a create is never re-sent after it may have been processed.
        pub fn max_retries(mut self, retries: u32) -> Self {
            self.overrides.max_retries = Some(retries);
            self
        }
    };
}

type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// One `get_task` call; made by [`Client::get_task`]. `.await` it.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
/// use std::time::Duration;
/// let task = client.get_task(&id).timeout(Duration::from_secs(5)).await?;
/// println!("{}", task.status);
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until awaited"]
#[derive(Debug)]
pub struct GetTask<'a> {
    client: &'a Client,
    id: &'a TaskId,
    overrides: CallOverrides,
}

impl<'a> GetTask<'a> {
    pub(crate) fn new(client: &'a Client, id: &'a TaskId) -> Self {
        Self {
            client,
            id,
            overrides: CallOverrides::default(),
        }
    }

    call_setters!();
}

impl<'a> IntoFuture for GetTask<'a> {
    type Output = Result<Task, Error>;
    type IntoFuture = CallFuture<'a, Task>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.client.get_task_with(self.id, self.overrides))
    }
}

/// One `cancel_task` call; made by [`Client::cancel_task`]. `.await` it.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
/// use std::time::Duration;
/// client.cancel_task(&id).timeout(Duration::from_secs(30)).await?;
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until awaited"]
#[derive(Debug)]
pub struct CancelTask<'a> {
    client: &'a Client,
    id: &'a TaskId,
    overrides: CallOverrides,
}

impl<'a> CancelTask<'a> {
    pub(crate) fn new(client: &'a Client, id: &'a TaskId) -> Self {
        Self {
            client,
            id,
            overrides: CallOverrides::default(),
        }
    }

    call_setters!();
}

impl<'a> IntoFuture for CancelTask<'a> {
    type Output = Result<CancelOutcome, Error>;
    type IntoFuture = CallFuture<'a, CancelOutcome>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.client.cancel_task_with(self.id, self.overrides))
    }
}

/// One `image_to_video` call; made by [`Client::image_to_video`]. `.await` it.
///
/// ```no_run
/// # async fn demo(client: lowcodeapi_runwayml::Client, request: lowcodeapi_runwayml::ImageToVideo) -> Result<(), lowcodeapi_runwayml::Error> {
/// use std::time::Duration;
/// let created = client.image_to_video(request).timeout(Duration::from_secs(120)).await?;
/// println!("created {}", created.id);
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until awaited"]
#[derive(Debug)]
pub struct CreateImageToVideo<'a> {
    client: &'a Client,
    request: ImageToVideo,
    overrides: CallOverrides,
}

impl<'a> CreateImageToVideo<'a> {
    pub(crate) fn new(client: &'a Client, request: ImageToVideo) -> Self {
        Self {
            client,
            request,
            overrides: CallOverrides::default(),
        }
    }

    call_setters!();
}

impl<'a> IntoFuture for CreateImageToVideo<'a> {
    type Output = Result<CreatedTask, Error>;
    type IntoFuture = CallFuture<'a, CreatedTask>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(
            self.client
                .image_to_video_with(self.request, self.overrides),
        )
    }
}
