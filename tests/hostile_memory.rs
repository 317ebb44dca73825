//! Memory while a decompression bomb is refused: a 1 MiB gzip of 1 GiB of zeros, answered to
//! `get_task`, costs at most the response limit plus the client's ordinary footprint.
//!
//! A binary of its own: its global allocator counts every byte of this process (the loopback
//! server included, which only holds the compressed bytes it sends).

mod hostile;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};

use hostile::{Tiny, gzip_bomb, http};
use lowcodeapi_runwayml::{Client, Error, TaskId, TransportKind, UrlFormat};

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

fn grew(bytes: i64) {
    let now = LIVE.fetch_add(bytes, Ordering::SeqCst) + bytes;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the allocator may do it: the new block before the old one is freed.
        grew(new_size as i64);
        LIVE.fetch_sub(layout.size() as i64, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const TASK: &str = "17f20503-6c24-4c16-946b-35dbbce2af2f";
const MIB: i64 = 1024 * 1024;

/// Peak live bytes above the level when `run` started.
async fn peak_of<T>(run: impl Future<Output = T>) -> (T, i64) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let out = run.await;
    (out, PEAK.load(Ordering::SeqCst) - before)
}

#[tokio::test]
async fn refusing_a_one_gib_gzip_bomb_stays_within_the_limit_plus_the_ordinary_footprint() {
    let bomb = gzip_bomb(1024);
    let task = format!(
        r#"{{"data":{{"id":"{TASK}","status":"RUNNING","createdAt":"2026-11-28T10:00:00.000Z"}}}}"#
    );
    let server = Tiny::start(move |seen| {
        if seen.target.contains("/ordinary/") {
            http(
                200,
                &[("content-type", "application/json")],
                task.as_bytes(),
            )
        } else {
            http(
                200,
                &[
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                ],
                &bomb,
            )
        }
    })
    .await;
    let id = TaskId::parse(TASK).expect("task id");
    let client = |path: &str, limit: usize| {
        Client::builder()
            .api_token("at_memory_test")
            .base_url(format!("{}/{path}", server.origin()))
            .url_format(UrlFormat::New)
            .max_response_bytes(limit)
            .build()
            .expect("client")
    };
    let ordinary_client = client("ordinary", 8 * 1024 * 1024);
    ordinary_client.get_task(&id).await.expect("warm-up");
    let (task, ordinary) = peak_of(ordinary_client.get_task(&id)).await;
    task.expect("an ordinary answer");

    for limit in [8 * 1024 * 1024, 1024 * 1024] {
        let bombed = client("runwayml", limit);
        let (result, peak) = peak_of(bombed.get_task(&id)).await;
        let error = result.expect_err("the bomb is refused");
        assert!(
            matches!(&error, Error::Transport(t) if t.kind == TransportKind::ResponseTooLarge),
            "{error}"
        );
        println!(
            "limit {} MiB: peak {:.2} MiB above the start while refusing a 1 GiB bomb (an \
             ordinary get_task: {:.1} KiB)",
            limit / 1024 / 1024,
            peak as f64 / MIB as f64,
            ordinary as f64 / 1024.0
        );
        // The body buffer never passes the limit; the rest (about 0.1 MiB) is the decoder's
        // window and buffers, hyper's read buffer and the call itself.
        assert!(
            peak <= limit as i64 + MIB / 2 + ordinary,
            "peak {peak} bytes for a limit of {limit}"
        );
        assert!(
            peak >= limit as i64 / 2,
            "the bomb was inflated toward the limit before the refusal (peak {peak})"
        );
    }
}
