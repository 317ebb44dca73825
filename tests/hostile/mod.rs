//! A hostile server for the transport's defences: a tiny loopback HTTP/1.1 server that answers
//! each request with bytes chosen by the test (one request per connection), and a gzip bomb.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target, query included.
    pub target: String,
}

/// A loopback server; every request is counted, then answered by the test's function.
pub struct Tiny {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    hits: Arc<AtomicUsize>,
}

type Answer = dyn Fn(&Seen) -> Vec<u8> + Send + Sync;

impl Tiny {
    /// Starts a server on a free loopback port.
    pub async fn start(answer: impl Fn(&Seen) -> Vec<u8> + Send + Sync + 'static) -> Tiny {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let answer: Arc<Answer> = Arc::new(answer);
        let (s, h) = (seen.clone(), hits.clone());
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (seen, hits, answer) = (s.clone(), h.clone(), answer.clone());
                tokio::spawn(async move {
                    let _ = serve(socket, seen, hits, answer).await;
                });
            }
        });
        Tiny { addr, seen, hits }
    }

    /// The base URL a client uses.
    pub fn base(&self) -> String {
        format!("http://{}/runwayml", self.addr)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen lock").clone()
    }
}

async fn serve(
    mut socket: tokio::net::TcpStream,
    seen: Arc<Mutex<Vec<Seen>>>,
    hits: Arc<AtomicUsize>,
    answer: Arc<Answer>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let length: usize = text
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = head.len() - end;
    while body < length {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body += n;
    }
    let mut parts = text.split_whitespace();
    let request = Seen {
        method: parts.next().unwrap_or_default().to_owned(),
        target: parts.next().unwrap_or_default().to_owned(),
    };
    seen.lock().expect("seen lock").push(request.clone());
    hits.fetch_add(1, Ordering::SeqCst);
    let bytes = answer(&request);
    socket.write_all(&bytes).await?;
    socket.shutdown().await
}

/// A whole HTTP/1.1 answer with a `Content-Length`, closing the connection.
pub fn http(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// An HTTP/1.1 answer without a length: the body runs until the connection closes.
pub fn http_until_close(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} X\r\nconnection: close\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// A valid gzip stream of `mib` MiB of zeros, about 1 KiB per MiB: the deflate output of one
/// MiB after a full flush (which resets the compressor) is the same every time, so it is
/// computed twice and repeated, and the CRC is combined rather than computed over the whole.
pub fn gzip_bomb(mib: u32) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    assert!(mib >= 3);
    let zeros = vec![0u8; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut segment = |flush| {
        let mut out = Vec::with_capacity(64 * 1024);
        let input: &[u8] = if flush == FlushCompress::Finish {
            &[]
        } else {
            &zeros
        };
        compress
            .compress_vec(input, &mut out, flush)
            .expect("deflate");
        out
    };
    let first = segment(FlushCompress::Full);
    let second = segment(FlushCompress::Full);
    let third = segment(FlushCompress::Full);
    assert_eq!(second, third, "a full flush makes segments repeat");
    let finish = segment(FlushCompress::Finish);
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(&one);
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255];
    out.extend_from_slice(&first);
    for _ in 1..mib {
        out.extend_from_slice(&second);
    }
    out.extend_from_slice(&finish);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((u64::from(mib) << 20) as u32).to_le_bytes());
    out
}
