//! Shared by the harness-less bench binaries: a counting allocator, a fixed-answer loopback HTTP
//! server, robust statistics and the JSON result files `cargo xtask bench` reads.
//!
//! Not every binary uses every item.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------------------------------------
// Counting allocator
// ---------------------------------------------------------------------------------------------

/// Wraps the system allocator. Two independent, switchable counters:
///
/// - per thread ([`ThreadCount`]): allocations and bytes requested by the current thread while
///   counting is on for it; other threads (e.g. an in-process server) are not counted;
/// - process-wide live bytes and their peak, while [`track_live`] is on (turn it on before the
///   first allocation you care about and keep it on: frees are subtracted).
///
/// When both are off an allocation costs one relaxed load and one thread-local read more than the
/// system allocator, so timing runs in the same binary are not skewed by counting.
pub struct CountingAlloc;

static TRACK_LIVE: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicI64 = AtomicI64::new(0);

thread_local! {
    static COUNT_THREAD: Cell<bool> = const { Cell::new(false) };
    static THREAD_ALLOCS: Cell<u64> = const { Cell::new(0) };
    static THREAD_BYTES: Cell<u64> = const { Cell::new(0) };
}

impl CountingAlloc {
    #[inline]
    fn on_alloc(size: usize) {
        if TRACK_LIVE.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(size as i64, Ordering::Relaxed) + size as i64;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        let _ = COUNT_THREAD.try_with(|on| {
            if on.get() {
                let _ = THREAD_ALLOCS.try_with(|n| n.set(n.get() + 1));
                let _ = THREAD_BYTES.try_with(|n| n.set(n.get() + size as u64));
            }
        });
    }

    #[inline]
    fn on_free(size: usize) {
        if TRACK_LIVE.load(Ordering::Relaxed) {
            LIVE.fetch_sub(size as i64, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters never touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            Self::on_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Self::on_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) };
        Self::on_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // A realloc is one allocation request; live bytes move by the difference.
            Self::on_free(layout.size());
            Self::on_alloc(new_size);
        }
        new
    }
}

/// Starts process-wide live-byte tracking (call first thing in `main`).
pub fn track_live() {
    TRACK_LIVE.store(true, Ordering::SeqCst);
}

/// Live bytes now (since [`track_live`]).
pub fn live_bytes() -> i64 {
    LIVE.load(Ordering::SeqCst)
}

/// Resets the peak to the current live bytes and returns that value.
pub fn reset_peak() -> i64 {
    let live = LIVE.load(Ordering::SeqCst);
    PEAK.store(live, Ordering::SeqCst);
    live
}

/// The highest live-byte count since the last [`reset_peak`].
pub fn peak_bytes() -> i64 {
    PEAK.load(Ordering::SeqCst)
}

/// Allocations made by the current thread between [`ThreadCount::start`] and
/// [`ThreadCount::stop`].
pub struct ThreadCount;

impl ThreadCount {
    pub fn start() -> ThreadCount {
        THREAD_ALLOCS.with(|n| n.set(0));
        THREAD_BYTES.with(|n| n.set(0));
        COUNT_THREAD.with(|on| on.set(true));
        ThreadCount
    }

    /// (allocations, bytes requested).
    pub fn stop(self) -> (u64, u64) {
        COUNT_THREAD.with(|on| on.set(false));
        (THREAD_ALLOCS.with(Cell::get), THREAD_BYTES.with(Cell::get))
    }
}

// ---------------------------------------------------------------------------------------------
// A fixed-answer HTTP/1.1 server
// ---------------------------------------------------------------------------------------------

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request with the same `200`
/// JSON body, whatever the method and path. It allocates nothing per request once a connection
/// is open. Lives until the process (or its runtime) ends.
pub struct FixedServer {
    pub addr: SocketAddr,
    /// Requests answered.
    pub requests: Arc<AtomicU64>,
    /// Connections accepted.
    pub accepts: Arc<AtomicU64>,
}

impl FixedServer {
    /// On a thread and runtime of its own: each request crosses threads, as with a real server.
    pub fn start(body: &[u8]) -> FixedServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        let (server, response) = FixedServer::new(&listener, body);
        let (requests, accepts) = (server.requests.clone(), server.accepts.clone());
        std::thread::Builder::new()
            .name("fixed-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .expect("server runtime");
                runtime.block_on(accept_loop(listener, response, requests, accepts));
            })
            .expect("server thread");
        server
    }

    /// On the current Tokio runtime. With a current-thread runtime the server and the client
    /// share one thread: no request waits for another thread to be woken, which takes the
    /// scheduler's wake-up latency (large and erratic on a shared virtual machine) out of the
    /// measurement.
    pub fn start_local(body: &[u8]) -> FixedServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking");
        let (server, response) = FixedServer::new(&listener, body);
        let (requests, accepts) = (server.requests.clone(), server.accepts.clone());
        tokio::spawn(accept_loop(listener, response, requests, accepts));
        server
    }

    fn new(listener: &std::net::TcpListener, body: &[u8]) -> (FixedServer, Arc<[u8]>) {
        let mut response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(body);
        let server = FixedServer {
            addr: listener.local_addr().expect("local addr"),
            requests: Arc::new(AtomicU64::new(0)),
            accepts: Arc::new(AtomicU64::new(0)),
        };
        (server, response.into())
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    response: Arc<[u8]>,
    requests: Arc<AtomicU64>,
    accepts: Arc<AtomicU64>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        accepts.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_fixed(stream, response.clone(), requests.clone()));
    }
}

async fn serve_fixed(
    mut stream: tokio::net::TcpStream,
    response: Arc<[u8]>,
    count: Arc<AtomicU64>,
) {
    let mut pending: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&chunk[..n]);
        // Requests here carry no body: every blank line ends one request.
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            if stream.write_all(&response).await.is_err() {
                return;
            }
            count.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/// Median, quartiles and range of a sample.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    pub fn of(values: &[f64]) -> Summary {
        assert!(!values.is_empty(), "no values to summarize");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            n: sorted.len(),
            median: quantile(&sorted, 0.5),
            q1: quantile(&sorted, 0.25),
            q3: quantile(&sorted, 0.75),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Linear interpolation between closest ranks (R type 7) on a sorted sample.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

pub fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

// ---------------------------------------------------------------------------------------------
// Run settings and results
// ---------------------------------------------------------------------------------------------

/// `--quick` (or `BENCH_QUICK=1`): a short smoke run. Other arguments (cargo passes `--bench`)
/// are ignored.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
        || std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The number after `name` on the command line (`--rounds 100`), if any.
pub fn arg_value(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

/// Voluntary context switches of the calling thread so far (each one a sleep: the thread
/// blocked, e.g. in `epoll_wait`, and had to be woken); 0 where `/proc` does not say.
pub fn context_switches() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Where result files go: `$BENCH_RESULTS_DIR`, else `target/bench-results`.
pub fn results_dir() -> PathBuf {
    std::env::var_os("BENCH_RESULTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-results"))
}

/// Writes `value` as `<results_dir>/<name>.json` and says where.
pub fn write_result(name: &str, value: &serde_json::Value) {
    let dir = results_dir();
    std::fs::create_dir_all(&dir).expect("create the results directory");
    let path = dir.join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(value).expect("serialize results");
    std::fs::write(&path, text).expect("write results");
    println!("results written to {}", path.display());
}

/// A Runway task body (SUCCEEDED, one output), as Runway answers `GET /v1/tasks/{id}`.
pub fn task_body(id: &str) -> String {
    serde_json::json!({
        "id": id,
        "status": "SUCCEEDED",
        "createdAt": "2026-11-28T10:00:00.000Z",
        "output": [format!("https://sim.invalid/outputs/{id}/0.mp4")],
        "cost": {"credits": 25}
    })
    .to_string()
}

/// The same body in the hosted LowCodeAPI envelope.
pub fn hosted_task_body(id: &str) -> String {
    format!("{{\"data\":{}}}", task_body(id))
}

/// The token the benches send (the simulator's default one).
pub const TOKEN: &str = lowcodeapi_runwayml_sim::DEFAULT_TOKEN;
/// The task id the fixed servers answer for.
pub const TASK_ID: &str = "17f20503-6c24-4c16-946b-35dbbce2af2f";
