//! The download step, behind a small trait: the worker asks for a succeeded task's outputs to be
//! stored at a destination and gets back what was stored.

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use lowcodeapi_runwayml::{Client, Task};
use sha2::{Digest, Sha256};

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

/// The path of output `n` of `task` at `destination`.
pub(crate) fn output_path(destination: &Destination, task: &Task, n: usize) -> PathBuf {
    fn numbered(path: &Path, n: usize) -> PathBuf {
        if n == 0 {
            return path.to_path_buf();
        }
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let name = match path.extension() {
            Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
            None => format!("{stem}-{n}"),
        };
        path.with_file_name(name)
    }
    match destination {
        Destination::Directory(dir) => numbered(&dir.join(format!("{}.mp4", task.id)), n),
        Destination::File(path) => numbered(path, n),
    }
}

/// Writes a small record of each output (the task and output number, never the signed link)
/// atomically at its destination. It stands where the SDK's download goes, so that the state
/// machine, the store and the crash tests run end to end.
pub(crate) struct RecordOutputs;

impl Fetch for RecordOutputs {
    fn fetch<'a>(
        &'a self,
        _client: &'a Client,
        task: &'a Task,
        destination: &'a Destination,
    ) -> BoxFuture<'a, Result<Vec<StoredOutput>, FetchError>> {
        Box::pin(async move {
            let mut stored = Vec::new();
            for n in 0..task.output.len() {
                let path = output_path(destination, task, n);
                let bytes = format!("task {} output {n}\n", task.id).into_bytes();
                write_atomically(&path, &bytes)
                    .await
                    .map_err(|e| FetchError {
                        message: format!("cannot write {}: {e}", path.display()),
                        retryable: true,
                    })?;
                stored.push(StoredOutput {
                    path,
                    bytes: bytes.len() as u64,
                    sha256: hex(&Sha256::digest(&bytes)),
                });
            }
            Ok(stored)
        })
    }
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".part");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
