//! A download's work off the task that receives it: SHA-256 on a thread of its own, and a file's
//! writes on another, with the disk's write-back started as the file grows. Receiving, hashing,
//! writing and flushing then overlap instead of taking turns, and the final `fsync` only waits
//! for the last few MiB.
//!
//! Chunks travel as [`Bytes`] (reference-counted: the hasher and the writer see the same
//! memory, nothing is copied), through bounded queues, so memory stays at a few chunks whatever
//! the output's size.

use std::fs::File;
use std::io::{self, Seek as _, SeekFrom, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};

use bytes::Bytes;
use sha2::{Digest as _, Sha256};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Batches queued ahead of each thread.
const DEPTH: usize = 4;

/// Chunks are handed over in batches of about this many bytes (a chunk is one read of the body,
/// up to about 400 KiB), so that a thread is woken a few times per MiB at most. A queue then
/// holds at most `DEPTH` batches of a little over this size.
const BATCH: usize = 512 * 1024;

/// At most this many chunks to a batch: a slow body arrives in small reads, each of which may
/// keep a whole read buffer alive.
const BATCH_CHUNKS: usize = 32;

/// Chunks gathered for the next hand-over.
#[derive(Default)]
struct Batch {
    chunks: Vec<Bytes>,
    len: usize,
}

impl Batch {
    /// Adds `bytes`; the batch to hand over once it is large enough.
    fn push(&mut self, bytes: Bytes) -> Option<Vec<Bytes>> {
        self.len += bytes.len();
        self.chunks.push(bytes);
        (self.len >= BATCH || self.chunks.len() >= BATCH_CHUNKS).then(|| self.take())
    }

    fn take(&mut self) -> Vec<Bytes> {
        self.len = 0;
        std::mem::take(&mut self.chunks)
    }

    fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// Bytes written since the last write-back after which the next one is started.
const WRITEBACK_EVERY: u64 = 8 * 1024 * 1024;

/// SHA-256 of a stream, computed on a blocking thread as chunks arrive.
pub(crate) struct HashPipe {
    tx: Option<mpsc::Sender<HashMsg>>,
    done: JoinHandle<[u8; 32]>,
    batch: Batch,
}

enum HashMsg {
    Data(Vec<Bytes>),
    Reset,
}

impl HashPipe {
    /// Starts the hashing thread (on the runtime's blocking pool).
    pub(crate) fn new() -> HashPipe {
        let (tx, mut rx) = mpsc::channel(DEPTH);
        let done = tokio::task::spawn_blocking(move || {
            let mut hasher = Sha256::new();
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    HashMsg::Data(chunks) => chunks.iter().for_each(|c| hasher.update(c)),
                    HashMsg::Reset => hasher = Sha256::new(),
                }
            }
            hasher.finalize().into()
        });
        HashPipe {
            tx: Some(tx),
            done,
            batch: Batch::default(),
        }
    }

    /// Adds `bytes`; waits only when the hasher is [`DEPTH`] batches behind.
    pub(crate) async fn update(&mut self, bytes: Bytes) {
        if let Some(batch) = self.batch.push(bytes) {
            self.send(HashMsg::Data(batch)).await;
        }
    }

    /// Starts over: what was added so far no longer counts.
    pub(crate) async fn reset(&mut self) {
        self.batch.take();
        self.send(HashMsg::Reset).await;
    }

    /// The digest of everything added since the start (or the last reset).
    pub(crate) async fn finish(mut self) -> io::Result<[u8; 32]> {
        if !self.batch.is_empty() {
            let batch = self.batch.take();
            self.send(HashMsg::Data(batch)).await;
        }
        drop(self.tx.take());
        (&mut self.done).await.map_err(join_error)
    }

    async fn send(&self, msg: HashMsg) {
        if let Some(tx) = &self.tx {
            // Fails only if the thread is gone, which `finish` then reports.
            let _ = tx.send(msg).await;
        }
    }
}

/// A file written on a blocking thread. Dropped without [`commit`](FileWriter::commit), the
/// thread closes the file and removes it.
pub(crate) struct FileWriter {
    tx: Option<mpsc::Sender<FileMsg>>,
    done: Option<JoinHandle<io::Result<()>>>,
    batch: Batch,
}

enum FileMsg {
    Data(Vec<Bytes>),
    Restart(oneshot::Sender<io::Result<()>>),
    Commit(oneshot::Sender<io::Result<()>>),
    Abort(oneshot::Sender<()>),
}

impl FileWriter {
    /// Takes over `file` (open for writing, at `path`, which is removed unless committed).
    pub(crate) fn start(file: File, path: PathBuf) -> FileWriter {
        let (tx, rx) = mpsc::channel(DEPTH);
        let done = tokio::task::spawn_blocking(move || write_loop(file, &path, rx));
        FileWriter {
            tx: Some(tx),
            done: Some(done),
            batch: Batch::default(),
        }
    }

    /// Queues `bytes`; waits only when the disk is [`DEPTH`] batches behind. An error is that
    /// of an earlier write, reported here or at the latest by [`commit`](FileWriter::commit).
    pub(crate) async fn write(&mut self, bytes: Bytes) -> io::Result<()> {
        if self.tx.is_none() {
            return Err(closed());
        }
        match self.batch.push(bytes) {
            Some(batch) => self.send(batch).await,
            None => Ok(()),
        }
    }

    /// Hands over what is gathered.
    async fn flush(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = self.batch.take();
        self.send(batch).await
    }

    async fn send(&mut self, batch: Vec<Bytes>) -> io::Result<()> {
        let sent = match &self.tx {
            Some(tx) => tx.send(FileMsg::Data(batch)).await.is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            Err(self.failure().await)
        }
    }

    /// Empties the file, to write it again from byte 0.
    pub(crate) async fn restart(&mut self) -> io::Result<()> {
        self.batch.take();
        let (reply, answer) = oneshot::channel();
        self.ask(FileMsg::Restart(reply), answer).await?
    }

    /// Waits for every queued write, then for the data to reach the disk (`fsync`), and closes
    /// the file, which then stays.
    pub(crate) async fn commit(&mut self) -> io::Result<()> {
        self.flush().await?;
        let (reply, answer) = oneshot::channel();
        self.ask(FileMsg::Commit(reply), answer).await??;
        self.tx = None;
        if let Some(done) = self.done.take() {
            done.await.map_err(join_error)??;
        }
        Ok(())
    }

    /// Stops writing, closes and removes the file, and waits until that is done.
    pub(crate) async fn abort(&mut self) {
        self.batch.take();
        let (reply, answer) = oneshot::channel();
        let _ = self.ask(FileMsg::Abort(reply), answer).await;
        self.tx = None;
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    async fn ask<T>(&mut self, msg: FileMsg, answer: oneshot::Receiver<T>) -> io::Result<T> {
        let sent = match &self.tx {
            Some(tx) => tx.send(msg).await.is_ok(),
            None => false,
        };
        if sent && let Ok(value) = answer.await {
            return Ok(value);
        }
        Err(self.failure().await)
    }

    /// Why the writing thread stopped.
    async fn failure(&mut self) -> io::Error {
        self.tx = None;
        match self.done.take() {
            Some(done) => match done.await {
                Ok(Err(e)) => e,
                Ok(Ok(())) => closed(),
                Err(e) => join_error(e),
            },
            None => closed(),
        }
    }
}

/// The writing thread: every message in turn until a commit, an abort or the sender's drop.
fn write_loop(
    mut file: File,
    path: &std::path::Path,
    mut rx: mpsc::Receiver<FileMsg>,
) -> io::Result<()> {
    let mut writeback: Option<Writeback> = None;
    let mut pending = 0u64;
    let outcome = loop {
        let Some(msg) = rx.blocking_recv() else {
            break Err(io::Error::other("the download was abandoned"));
        };
        match msg {
            FileMsg::Data(chunks) => {
                if let Err(e) = write_all(&mut file, &chunks) {
                    break Err(e);
                }
                pending += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
                if pending >= WRITEBACK_EVERY {
                    pending = 0;
                    if writeback.is_none() {
                        writeback = Writeback::start(&file);
                    }
                    if let Some(w) = &writeback {
                        w.poke();
                    }
                }
            }
            FileMsg::Restart(reply) => {
                let result = file
                    .set_len(0)
                    .and_then(|()| file.seek(SeekFrom::Start(0)).map(drop));
                let failed = result
                    .as_ref()
                    .err()
                    .map(|e| io::Error::new(e.kind(), e.to_string()));
                let _ = reply.send(result);
                if let Some(e) = failed {
                    break Err(e);
                }
            }
            FileMsg::Commit(reply) => {
                let earlier = writeback.take().and_then(Writeback::stop);
                let result = match earlier {
                    Some(e) => Err(e),
                    None => file.sync_all(),
                };
                drop(file);
                let failed = result
                    .as_ref()
                    .err()
                    .map(|e| io::Error::new(e.kind(), e.to_string()));
                let _ = reply.send(result);
                if failed.is_some() {
                    let _ = std::fs::remove_file(path);
                }
                return failed.map_or(Ok(()), Err);
            }
            FileMsg::Abort(reply) => {
                drop(writeback.take().map(Writeback::stop));
                drop(file);
                let _ = std::fs::remove_file(path);
                let _ = reply.send(());
                return Ok(());
            }
        }
    };
    drop(writeback.take().map(Writeback::stop));
    drop(file);
    let _ = std::fs::remove_file(path);
    outcome
}

/// Writes every chunk, in order, with as few system calls as the platform allows.
fn write_all(file: &mut File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<io::IoSlice<'_>> = chunks.iter().map(|c| io::IoSlice::new(c)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Hands the file's written data to the disk in the background (`fdatasync` on a thread of its
/// own), so that the final `fsync` has little left to wait for.
struct Writeback {
    tx: std_mpsc::SyncSender<()>,
    thread: std::thread::JoinHandle<()>,
    /// The first error of a background flush: the kernel reports a write-back error once per
    /// open file, so the final `fsync` would not see it again.
    error: Arc<Mutex<Option<io::Error>>>,
}

impl Writeback {
    /// `None` when the file cannot be shared with a thread; the final `fsync` then does it all.
    fn start(file: &File) -> Option<Writeback> {
        let file = file.try_clone().ok()?;
        let (tx, rx) = std_mpsc::sync_channel::<()>(1);
        let error = Arc::new(Mutex::new(None));
        let slot = Arc::clone(&error);
        let thread = std::thread::Builder::new()
            .name("runway-writeback".to_owned())
            .spawn(move || {
                while rx.recv().is_ok() {
                    if let Err(e) = file.sync_data() {
                        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert(e);
                    }
                }
            })
            .ok()?;
        Some(Writeback { tx, thread, error })
    }

    /// Asks for a flush of what is written so far (one pending request covers any number).
    fn poke(&self) {
        let _ = self.tx.try_send(());
    }

    /// Waits for the flush in progress; the first error any flush met.
    fn stop(self) -> Option<io::Error> {
        drop(self.tx);
        let _ = self.thread.join();
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

fn closed() -> io::Error {
    io::Error::other("the file was already closed")
}

fn join_error(error: tokio::task::JoinError) -> io::Error {
    match error.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(_) => io::Error::other("the runtime shut down during the download"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "runway-pipeline-{}-{name}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// 20 MiB in uneven chunks: more than one write-back.
    fn chunks() -> Vec<Bytes> {
        let data: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
        let data = Bytes::from(data);
        let mut out = Vec::new();
        let mut at = 0;
        for step in [1, 7000, 65536, 300_000].iter().cycle() {
            if at >= data.len() {
                break;
            }
            let end = (at + step).min(data.len());
            out.push(data.slice(at..end));
            at = end;
        }
        out
    }

    #[tokio::test]
    async fn the_hash_is_that_of_every_chunk_since_the_last_reset() {
        let mut pipe = HashPipe::new();
        pipe.update(Bytes::from_static(b"thrown away")).await;
        pipe.reset().await;
        let mut expected = Sha256::new();
        for chunk in chunks() {
            expected.update(&chunk);
            pipe.update(chunk).await;
        }
        let digest: [u8; 32] = expected.finalize().into();
        assert_eq!(pipe.finish().await.unwrap(), digest);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_committed_file_holds_every_byte_in_order_even_after_a_restart() {
        let dir = scratch("commit");
        let path = dir.join("out.part");
        let mut writer = FileWriter::start(File::create(&path).unwrap(), path.clone());
        writer
            .write(Bytes::from_static(b"a first attempt"))
            .await
            .unwrap();
        writer.restart().await.unwrap();
        let mut expected = Vec::new();
        for chunk in chunks() {
            expected.extend_from_slice(&chunk);
            writer.write(chunk).await.unwrap();
        }
        writer.commit().await.unwrap();
        assert!(std::fs::read(&path).unwrap() == expected);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn an_aborted_file_is_gone_when_abort_returns() {
        let dir = scratch("abort");
        let path = dir.join("out.part");
        let mut writer = FileWriter::start(File::create(&path).unwrap(), path.clone());
        for chunk in chunks().into_iter().take(50) {
            writer.write(chunk).await.unwrap();
        }
        writer.abort().await;
        assert!(!path.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn a_writer_dropped_midway_removes_its_file() {
        let dir = scratch("drop");
        let path = dir.join("out.part");
        let mut writer = FileWriter::start(File::create(&path).unwrap(), path.clone());
        writer.write(Bytes::from_static(b"partial")).await.unwrap();
        drop(writer);
        // The thread removes it once it sees the queue closed.
        for _ in 0..500 {
            if !path.exists() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        assert!(!path.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A full disk: the error of a queued write is reported, by a later write or by the commit.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_write_error_is_reported_not_lost() {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let dir = scratch("full");
        let mut writer = FileWriter::start(file, dir.join("never-created"));
        let mut error = None;
        for chunk in chunks().into_iter().take(40) {
            if let Err(e) = writer.write(chunk).await {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(e) => e,
            None => writer.commit().await.expect_err("a write to a full disk"),
        };
        assert_eq!(error.raw_os_error(), Some(28), "{error}"); // ENOSPC
        // Once failed, it stays failed.
        assert!(writer.write(Bytes::from_static(b"more")).await.is_err());
        assert!(writer.commit().await.is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
