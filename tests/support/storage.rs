//! A tiny storage host on loopback, for download tests: serves deterministic bytes of any length
//! with `Range` support, checks a `_jwt`-style signature and expiry like a CDN, and misbehaves on
//! request (drops, short bodies, statuses, content types, ignored ranges). Every request is
//! logged with its headers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The `n`-th byte of every served object: deterministic, not constant, not all zero.
pub fn byte_at(i: u64) -> u8 {
    ((i.wrapping_mul(31).wrapping_add(i >> 11)) % 251) as u8
}

/// The bytes of an object of `len` bytes.
pub fn object(len: u64) -> Vec<u8> {
    (0..len).map(byte_at).collect()
}

/// The lower-case hex SHA-256 of an object of `len` bytes.
pub fn object_sha256(len: u64) -> String {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = 0u64;
    while at < len {
        let n = (len - at).min(buf.len() as u64) as usize;
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = byte_at(at + k as u64);
        }
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How the next request is answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Serve {
    /// Normally (the default once the plan is empty).
    Normal,
    /// The status line and headers of a normal answer, then this many body bytes, then close.
    DropAfter(u64),
    /// This status, with a small text body.
    Status(u16),
    /// A normal answer with this content type.
    ContentType(&'static str),
    /// A `200` with the whole object whatever the `Range` asked.
    IgnoreRange,
}

/// One request as the host saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names lower-cased, values as sent.
    pub headers: Vec<(String, String)>,
    pub status: u16,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Inner {
    len: u64,
    content_type: &'static str,
    plan: Mutex<VecDeque<Serve>>,
    log: Mutex<Vec<Seen>>,
    /// Signatures the host refuses (403), as if revoked or expired on its own clock.
    refused: Mutex<Vec<String>>,
}

/// A running storage host; stops when dropped (its task is aborted).
pub struct Storage {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Storage {
    /// Serves objects of `len` bytes at any `/outputs/...` path.
    pub async fn start(len: u64) -> Storage {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let inner = Arc::new(Inner {
            len,
            content_type: "video/mp4",
            plan: Mutex::new(VecDeque::new()),
            log: Mutex::new(Vec::new()),
            refused: Mutex::new(Vec::new()),
        });
        let shared = inner.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let inner = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, inner).await;
                });
            }
        });
        Storage { addr, inner, task }
    }

    /// Answers the next requests this way, in order.
    pub fn plan(&self, serves: impl IntoIterator<Item = Serve>) {
        self.inner.plan.lock().unwrap().extend(serves);
    }

    /// Refuses links signed `signature` with 403.
    pub fn refuse(&self, signature: &str) {
        self.inner
            .refused
            .lock()
            .unwrap()
            .push(signature.to_owned());
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.inner.log.lock().unwrap().clone()
    }

    /// A signed link to output `n` of `task`, expiring at `exp` (unix seconds).
    pub fn link(&self, task: &str, n: usize, exp: u64, signature: &str) -> String {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "http://{}/outputs/{task}/{n}.mp4?_jwt={}.{}.{signature}",
            self.addr,
            enc(r#"{"alg":"HS256","typ":"JWT"}"#),
            enc(&format!(r#"{{"exp":{exp},"task":"{task}","n":{n}}}"#)),
        )
    }
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn serve(mut socket: TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await? == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_owned();
    let target = first.next().unwrap_or("").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut seen = Seen {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        status: 0,
    };
    let signature = query
        .split('&')
        .find_map(|p| p.strip_prefix("_jwt="))
        .and_then(|jwt| jwt.rsplit('.').next())
        .unwrap_or("")
        .to_owned();
    let exp = query
        .split('&')
        .find_map(|p| p.strip_prefix("_jwt="))
        .and_then(|jwt| jwt.split('.').nth(1))
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["exp"].as_u64())
        .unwrap_or(0);
    let refused = inner.refused.lock().unwrap().contains(&signature) || exp < now_unix();
    // A refused link consumes nothing from the plan.
    let serve = if refused {
        Serve::Normal
    } else {
        inner
            .plan
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Serve::Normal)
    };
    let len = inner.len;
    let range_start = seen
        .header("range")
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|r| r.parse::<u64>().ok());

    let simple = |status: u16, content_type: &str, body: &str, extra: &str| {
        format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n{body}",
            body.len()
        )
    };
    if refused {
        seen.status = 403;
        inner.log.lock().unwrap().push(seen);
        let body = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        socket
            .write_all(simple(403, "application/xml", body, "").as_bytes())
            .await?;
        return socket.shutdown().await;
    }
    if let Serve::Status(status) = serve {
        seen.status = status;
        inner.log.lock().unwrap().push(seen);
        let extra = if status == 503 {
            "retry-after: 0\r\n"
        } else {
            ""
        };
        socket
            .write_all(simple(status, "text/plain", "unavailable", extra).as_bytes())
            .await?;
        return socket.shutdown().await;
    }
    let start = match (range_start, &serve) {
        (Some(_), Serve::IgnoreRange) | (None, _) => None,
        (Some(start), _) => Some(start),
    };
    if let Some(start) = start
        && start >= len
    {
        seen.status = 416;
        inner.log.lock().unwrap().push(seen);
        let extra = format!("content-range: bytes */{len}\r\n");
        socket
            .write_all(simple(416, "text/plain", "", &extra).as_bytes())
            .await?;
        return socket.shutdown().await;
    }
    let content_type = match serve {
        Serve::ContentType(ct) => ct,
        _ => inner.content_type,
    };
    let from = start.unwrap_or(0);
    let status = if start.is_some() { 206 } else { 200 };
    seen.status = status;
    inner.log.lock().unwrap().push(seen);
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\naccept-ranges: bytes\r\nconnection: close\r\n",
        len - from
    );
    if status == 206 {
        head.push_str(&format!(
            "content-range: bytes {from}-{}/{len}\r\n",
            len - 1
        ));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    let stop = match serve {
        Serve::DropAfter(n) => (from + n).min(len),
        _ => len,
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut at = from;
    while at < stop {
        let n = (stop - at).min(buf.len() as u64) as usize;
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = byte_at(at + k as u64);
        }
        socket.write_all(&buf[..n]).await?;
        at += n as u64;
    }
    socket.flush().await?;
    socket.shutdown().await
}

/// A directory removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "runway-dl-{name}-{}-{:x}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// The names of the files in it, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(now_unix());
    h.finish()
}
