//! The download step, behind a small trait: the worker asks for a succeeded task's outputs to be
//! stored at a destination and gets back what was stored.

use futures::future::BoxFuture;
use lowcodeapi_runwayml::download::{DownloadErrorKind, Location};
use lowcodeapi_runwayml::{Client, Error as SdkError, Task};

use crate::job::{Destination, StoredOutput};

/// Why outputs could not be stored.
#[derive(Debug)]
pub(crate) struct FetchError {
    pub message: String,
    /// Trying again later may work (a network failure, a 5xx, an expired link).
    pub retryable: bool,
}

pub(crate) trait Fetch: Send + Sync {
    fn fetch<'a>(
        &'a self,
        client: &'a Client,
        task: &'a Task,
        destination: &'a Destination,
    ) -> BoxFuture<'a, Result<Vec<StoredOutput>, FetchError>>;
}

/// The SDK's download ([`Client::download`]): resumable, checked (length, content type), atomic;
/// expired links are refreshed from the task.
pub(crate) struct SdkDownload;

impl Fetch for SdkDownload {
    fn fetch<'a>(
        &'a self,
        client: &'a Client,
        task: &'a Task,
        destination: &'a Destination,
    ) -> BoxFuture<'a, Result<Vec<StoredOutput>, FetchError>> {
        Box::pin(async move {
            let target = match destination {
                Destination::Directory(dir) => {
                    // An existing directory is a directory destination for the SDK.
                    tokio::fs::create_dir_all(dir)
                        .await
                        .map_err(|e| FetchError {
                            message: format!("cannot create {}: {e}", dir.display()),
                            retryable: true,
                        })?;
                    dir.clone()
                }
                Destination::File(path) => path.clone(),
            };
            // A file left by an earlier attempt of this same job (its worker died after writing
            // it, before recording it) holds this task's output: replace it.
            match client.download(task).overwrite(true).to(&target).await {
                Ok(done) => Ok(done
                    .files
                    .into_iter()
                    .filter_map(|file| match file.location {
                        Location::Path(path) => Some(StoredOutput {
                            path,
                            bytes: file.bytes,
                            sha256: file.sha256,
                        }),
                        _ => None,
                    })
                    .collect()),
                Err(e) => Err(FetchError {
                    retryable: retryable(&e),
                    message: e.to_string(),
                }),
            }
        })
    }
}

/// Whether a later attempt (with a fresh read of the task) may succeed.
fn retryable(error: &SdkError) -> bool {
    match error {
        SdkError::Download(d) => !matches!(
            d.kind,
            DownloadErrorKind::NotSucceeded(_)
                | DownloadErrorKind::NoSuchOutput(_)
                | DownloadErrorKind::SeveralOutputs(_)
                | DownloadErrorKind::Status(404 | 410)
        ),
        other => !other.is_not_found(),
    }
}
