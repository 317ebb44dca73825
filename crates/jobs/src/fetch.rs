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
    /// Why this process cannot store outputs at `destination` (an object store that is not
    /// registered here, or a build without the `object-store` feature); `None` when it can.
    fn cannot_store(&self, destination: &Destination) -> Option<String>;

    fn fetch<'a>(
        &'a self,
        client: &'a Client,
        task: &'a Task,
        destination: &'a Destination,
    ) -> BoxFuture<'a, Result<Vec<StoredOutput>, FetchError>>;
}

/// The SDK's download ([`Client::download`]): resumable, checked (length, content type), atomic;
/// expired links are refreshed from the task.
#[derive(Default)]
pub(crate) struct SdkDownload {
    /// The object stores registered on the builder, by name.
    #[cfg(feature = "object-store")]
    pub stores: std::collections::HashMap<String, std::sync::Arc<dyn object_store::ObjectStore>>,
}

impl Fetch for SdkDownload {
    fn cannot_store(&self, destination: &Destination) -> Option<String> {
        let name = destination.object_store_name()?;
        #[cfg(feature = "object-store")]
        {
            if self.stores.contains_key(name) {
                return None;
            }
            Some(format!(
                "no object store named {name:?} is registered in this worker's process \
                 (JobsBuilder::object_store)"
            ))
        }
        #[cfg(not(feature = "object-store"))]
        Some(format!(
            "the destination is the object store {name:?}, and this worker was built without \
             the jobs crate's `object-store` feature"
        ))
    }

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
                #[cfg(feature = "object-store")]
                Destination::ObjectStore { store, prefix } => {
                    return self.to_object_store(client, task, store, prefix).await;
                }
                #[cfg(not(feature = "object-store"))]
                Destination::ObjectStore { .. } => {
                    return Err(FetchError {
                        message: self.cannot_store(destination).unwrap_or_default(),
                        retryable: true,
                    });
                }
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
                            store: None,
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

#[cfg(feature = "object-store")]
impl SdkDownload {
    /// Each output in turn, as `<prefix><task id>.<ext>` (`-1`, `-2`, ... for the others). An
    /// upload that fails is aborted by the SDK (no partial object); a later attempt writes the
    /// whole object again, replacing any left by an earlier attempt of this job.
    async fn to_object_store(
        &self,
        client: &Client,
        task: &Task,
        name: &str,
        prefix: &str,
    ) -> Result<Vec<StoredOutput>, FetchError> {
        let Some(store) = self.stores.get(name) else {
            return Err(FetchError {
                message: self
                    .cannot_store(&Destination::object_store(name, prefix))
                    .unwrap_or_default(),
                retryable: true,
            });
        };
        let mut stored = Vec::with_capacity(task.output.len());
        for (index, url) in task.output.iter().enumerate() {
            let ext = extension(url).unwrap_or("mp4");
            let object = if index == 0 {
                format!("{prefix}{}.{ext}", task.id)
            } else {
                format!("{prefix}{}-{index}.{ext}", task.id)
            };
            let location = object_store::path::Path::parse(&object).map_err(|e| FetchError {
                message: format!("{object:?} is not a valid object location: {e}"),
                retryable: false,
            })?;
            match client
                .download(task)
                .output(index)
                .to_object_store(store.as_ref(), &location)
                .await
            {
                Ok(saved) => stored.push(StoredOutput {
                    path: location.to_string().into(),
                    store: Some(name.to_string()),
                    bytes: saved.bytes,
                    sha256: saved.sha256,
                }),
                Err(e) => {
                    return Err(FetchError {
                        retryable: retryable(&e),
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(stored)
    }
}

/// The output link's file extension, when it is a short alphanumeric one.
#[cfg(feature = "object-store")]
fn extension(url: &str) -> Option<&str> {
    let path = url.split(['?', '#']).next()?;
    let name = path.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(ext)
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
