//! Helpers shared by the simulator's tests: a loopback client and a raw HTTP/1.1 client.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use lowcodeapi_runwayml_sim::DEFAULT_TOKEN as TOKEN;

/// 2026-08-01T12:00:00.000Z: tests set it as the epoch so `createdAt` is known.
pub fn epoch() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_785_585_600)
}

pub const CREATED_AT: &str = "2026-08-01T12:00:00.000Z";

pub const IMG: &str = "https://example.com/a.jpg";

/// A valid gen4_turbo body.
pub fn body() -> String {
    format!(r#"{{"model":"gen4_turbo","promptImage":"{IMG}","ratio":"1280:720"}}"#)
}

/// A body with a prompt.
pub fn body_with_prompt(prompt: &str) -> String {
    serde_json::json!({"model":"gen4_turbo","promptImage":IMG,"ratio":"1280:720","promptText":prompt})
        .to_string()
}

/// A client that never uses a proxy from the environment, never inflates gzip bodies (even
/// when a workspace-wide build turns on reqwest's `gzip` feature for the SDK) and gives up
/// after 5 s.
pub fn client() -> reqwest::Client {
    client_with_timeout(Duration::from_secs(5))
}

pub fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .timeout(timeout)
        .build()
        .expect("client")
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub async fn send(method: &str, url: &str, body: Option<&str>) -> Answer {
    try_send(&client(), method, url, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

pub async fn try_send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> Result<Answer, reqwest::Error> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Creates a task with a valid body; returns its id.
pub async fn create(base: &str) -> String {
    let a = send(
        "POST",
        &format!("{base}/v1/image_to_video?api_token={TOKEN}"),
        Some(&body()),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let j = a.json();
    let id = j
        .get("data")
        .or_else(|| j.get("result"))
        .and_then(|d| d.get("id"))
        .and_then(|i| i.as_str())
        .unwrap_or_else(|| panic!("no id in {}", a.body));
    id.to_owned()
}

/// Sends raw bytes, reads until the server closes; `None` when the read fails.
pub async fn raw(addr: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(addr).await.ok()?;
    s.write_all(request).await.ok()?;
    let mut out = Vec::new();
    match tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await {
        Ok(Ok(_)) => Some(out),
        _ => None,
    }
}

/// Splits a raw HTTP/1.1 response into status, lower-cased headers and body.
pub fn parse_raw(bytes: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let text = String::from_utf8_lossy(bytes);
    let head_end = text
        .find("\r\n\r\n")
        .unwrap_or_else(|| panic!("no full head in {text:?}"));
    let head = &text[..head_end];
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, bytes[head_end + 4..].to_vec())
}
