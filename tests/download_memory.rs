//! 100 downloads at once, measured with a counting allocator (its own test binary, so no other
//! test's allocations count): the heap's peak does not grow with the size of the videos.

mod common;
#[path = "support/storage.rs"]
mod storage;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use lowcodeapi_runwayml::{RetryPolicy, Task, TaskStatus, UrlFormat};
use storage::{Storage, TempDir, now_unix, object_sha256};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const DOWNLOADS: usize = 100;

/// Downloads `DOWNLOADS` outputs of `len` bytes at once into files; returns the heap's peak
/// above where it started.
async fn peak_for(len: u64) -> usize {
    let storage = Storage::start(len).await;
    let dir = TempDir::new("memory");
    let client = builder(closed_port_url())
        .url_format(UrlFormat::New)
        .build()
        .expect("client");
    let tasks: Vec<Task> = (0..DOWNLOADS)
        .map(|n| {
            let mut task = Task::new(
                lowcodeapi_runwayml::TaskId::parse(format!("task-{n:03}")).unwrap(),
                TaskStatus::Succeeded,
            );
            task.output = vec![storage.link(&format!("task-{n:03}"), 0, now_unix() + 3600, "s")];
            task
        })
        .collect();
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let downloads = tasks.iter().map(|task| {
        client
            .download(task)
            .retry_policy(RetryPolicy::none())
            .to(dir.path())
    });
    let results = futures::future::join_all(downloads).await;
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let sha = object_sha256(len);
    for result in results {
        let saved = result.expect("download");
        assert_eq!(saved.files[0].bytes, len);
        assert_eq!(saved.files[0].sha256, sha);
    }
    assert_eq!(dir.names().len(), DOWNLOADS);
    peak
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_downloads_keep_memory_flat_whatever_the_size() {
    const MIB: u64 = 1024 * 1024;
    let small = peak_for(2 * MIB).await;
    let large = peak_for(8 * MIB).await;
    eprintln!(
        "peak heap for {DOWNLOADS} concurrent downloads: {:.1} MiB at 2 MiB each, {:.1} MiB at 8 MiB each",
        small as f64 / MIB as f64,
        large as f64 / MIB as f64
    );
    // Each download holds at most a socket read buffer, the chunk being written and a file write
    // buffer (about 1 MiB together), whatever the video's size: 800 MiB go through well under
    // 2 MiB per download.
    assert!(
        large < DOWNLOADS * 2 * MIB as usize,
        "peak {large} bytes for {DOWNLOADS} downloads of 8 MiB"
    );
    // Four times the bytes (600 MiB more) cost at most the socket and file buffers reaching their
    // bounded size (how far they grow in the smaller run depends on the machine's load), never
    // the bytes themselves.
    let growth = large.saturating_sub(small);
    assert!(
        growth < DOWNLOADS * 3 * MIB as usize / 2,
        "memory grew with the size: {small} -> {large} bytes"
    );
}
