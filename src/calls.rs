//! Per-call settings for the single calls: [`GetTask`], [`CancelTask`] and
//! [`CreateImageToVideo`].
//!
//! Each is what [`Client::get_task`], [`Client::cancel_task`] and [`Client::image_to_video`]
//! return: a future (`.await` it, or hand it to `join_all`, `select!`, ...), whose settings can
//! be changed before it is first polled: the client's request timeout or retry count, for this
//! one call (as the AWS SDK's per-operation customization does). Nothing is sent until it is
//! polled.
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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
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

/// The call's future on the heap, made in place: a future made first and then boxed is copied
/// there (it takes a few KiB).
#[inline(always)]
fn boxed<F: Future>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    let slot = Box::new_uninit();
    Box::into_pin(Box::write(slot, make()))
}

/// A call on one task id: the struct, its `Future` (starting `Client::$start` on first poll)
/// and its `Debug`.
macro_rules! task_id_call {
    ($(#[$doc:meta])* $name:ident -> $output:ty, $start:ident) => {
        $(#[$doc])*
        #[must_use = "a call does nothing until awaited"]
        pub struct $name<'a> {
            client: &'a Client,
            id: &'a TaskId,
            overrides: CallOverrides,
            running: Option<CallFuture<'a, $output>>,
        }

        impl<'a> $name<'a> {
            pub(crate) fn new(client: &'a Client, id: &'a TaskId) -> Self {
                Self {
                    client,
                    id,
                    overrides: CallOverrides::default(),
                    running: None,
                }
            }

            call_setters!();
        }

        impl<'a> Future for $name<'a> {
            type Output = Result<$output, Error>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let this = self.get_mut();
                let (client, id, overrides) = (this.client, this.id, this.overrides);
                this.running
                    .get_or_insert_with(|| boxed(|| client.$start(id, overrides)))
                    .as_mut()
                    .poll(cx)
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("id", self.id)
                    .field("overrides", &self.overrides)
                    .field("started", &self.running.is_some())
                    .finish()
            }
        }
    };
}

task_id_call! {
    /// One `get_task` call; made by [`Client::get_task`]. A future: `.await` it.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use std::time::Duration;
    /// let task = client.get_task(&id).timeout(Duration::from_secs(5)).await?;
    /// println!("{}", task.status);
    /// # Ok(()) }
    /// ```
    GetTask -> Task, get_task_with
}

task_id_call! {
    /// One `cancel_task` call; made by [`Client::cancel_task`]. `.await` it.
    ///
    /// ```no_run
    /// # async fn demo(client: lowcodeapi_runwayml::Client, id: lowcodeapi_runwayml::TaskId) -> Result<(), lowcodeapi_runwayml::Error> {
    /// use std::time::Duration;
    /// client.cancel_task(&id).timeout(Duration::from_secs(30)).await?;
    /// # Ok(()) }
    /// ```
    CancelTask -> CancelOutcome, cancel_task_with
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
pub struct CreateImageToVideo<'a> {
    client: &'a Client,
    /// Moved into the call when it starts.
    request: Option<ImageToVideo>,
    overrides: CallOverrides,
    running: Option<CallFuture<'a, CreatedTask>>,
}

impl<'a> CreateImageToVideo<'a> {
    pub(crate) fn new(client: &'a Client, request: ImageToVideo) -> Self {
        Self {
            client,
            request: Some(request),
            overrides: CallOverrides::default(),
            running: None,
        }
    }

    call_setters!();
}

impl<'a> Future for CreateImageToVideo<'a> {
    type Output = Result<CreatedTask, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.running.is_none()
            && let Some(request) = this.request.take()
        {
            let (client, overrides) = (this.client, this.overrides);
            this.running = Some(boxed(|| client.image_to_video_with(request, overrides)));
        }
        match &mut this.running {
            Some(running) => running.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }
}

impl fmt::Debug for CreateImageToVideo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateImageToVideo")
            .field("request", &self.request)
            .field("overrides", &self.overrides)
            .field("started", &self.running.is_some())
            .finish()
    }
}
