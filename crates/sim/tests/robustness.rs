//! No input makes the simulator panic: garbage paths, methods, headers and bodies, in both
//! dialects. A panic hook counts panics anywhere in this test binary (server tasks included).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use lowcodeapi_runwayml_sim::{Dialect, Simulator, UrlFormats};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

static PANICS: AtomicUsize = AtomicUsize::new(0);

fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
}

/// A tiny deterministic generator for the fuzz loop.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.next() % items.len()]
    }
}

const METHODS: &[&str] = &[
    "GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD", "FOO",
];
const SEGMENTS: &[&str] = &[
    "/runwayml",
    "/RunwayML",
    "/v1",
    "/tasks",
    "/id",
    "/image_to_video",
    "/openapi",
    "/definition",
    "/",
    "//",
    "/%",
    "/%ZZ",
    "/%00",
    "/%C3%28",
    "/..",
    "/😀",
    "/a%2Fb",
    "/null",
    "/x?",
    "/%3F",
];
const QUERIES: &[&str] = &[
    "",
    "?",
    "?api_token=at_sim_0123456789abcdef",
    "?api_token=",
    "?api_token=at_",
    "?id=&api_token=at_sim_0123456789abcdef",
    "?id=%&api_token=at_sim_0123456789abcdef",
    "?api_token=at_sim_0123456789abcdef&api_token=x",
    "?id=a%3Fb%23c&api_token=at_sim_0123456789abcdef",
    "?%%%=%%%&&&==",
    "?id=%FF%FE&api_token=at_sim_0123456789abcdef",
];
const BODIES: &[&str] = &[
    "",
    "{}",
    "[]",
    "null",
    "\"x\"",
    "{",
    "{\"model\":",
    "{model}",
    "{\"a\":1,}",
    "{} x",
    "\u{feff}{}",
    r#"{"model":"gen4_turbo","promptImage":[null,1,{"uri":5},{"uri":"https://[::1]/a","position":7}],"ratio":{},"duration":1e308,"seed":"x","contentModeration":[]}"#,
    r#"{"model":"veo3.1","promptImage":[{"uri":"https://a.b/c","position":"first"},{"uri":"https://a.b/c","position":"first"},{"uri":"x"}],"ratio":"1:1","duration":-0.0}"#,
    r#"{"model":"seedance2","promptImage":[{"uri":"data:image/png;base64,AA","position":"last"},{"uri":"runway://"}],"ratio":"0:9","duration":4.0000001}"#,
    r#"{"model":"hailuo3","promptImage":[],"promptText":""}"#,
    r#"{"model":"happyhorse_1_0","promptImage":"https://x","promptText":"é","seed":4294967296}"#,
    r#"{"model":null,"promptImage":"https://example.com/a.jpg"}"#,
    r#"{"model":"gen4.5","promptImage":"https://example.com/a.jpg","promptText":"\ud83d","ratio":"960:960","duration":10}"#,
];

fn garbage_request(rng: &mut Lcg) -> Vec<u8> {
    let mut path = String::new();
    for _ in 0..(1 + rng.next() % 5) {
        path.push_str(rng.pick(SEGMENTS));
    }
    path.push_str(rng.pick(QUERIES));
    let method = rng.pick(METHODS);
    let body = rng.pick(BODIES);
    let content_type = rng.pick(&[
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/vnd.api+json",
        "",
    ]);
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n");
    if !content_type.is_empty() {
        req.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    req.into_bytes()
}

async fn fuzz(sim: &Simulator, seed: u64, rounds: usize) {
    let mut rng = Lcg(seed);
    for _ in 0..rounds {
        let req = garbage_request(&mut rng);
        // Any answer, or a clean close for what is not HTTP at all.
        if let Some(bytes) = raw(sim.addr(), &req).await
            && !bytes.is_empty()
        {
            let (status, _, _) = parse_raw(&bytes);
            assert!(
                (200..600).contains(&status),
                "{}",
                String::from_utf8_lossy(&req)
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_never_panics() {
    count_panics();
    for (dialect, formats) in [
        (Dialect::Hosted, UrlFormats::Both),
        (Dialect::SelfHosted, UrlFormats::OldOnly),
        (Dialect::SelfHosted, UrlFormats::Both),
    ] {
        let sim = Simulator::builder()
            .dialect(dialect)
            .url_formats(formats)
            .time_scale(1000.0)
            .start()
            .await
            .unwrap();
        fuzz(&sim, 1, 300).await;

        // Not HTTP at all, a huge header, a deep JSON nest, a body past the limit.
        for req in [
            b"\x00\x01\x02garbage\r\n\r\n".to_vec(),
            format!("GET /runwayml/{} HTTP/1.1\r\nHost: sim\r\n\r\n", "a".repeat(100_000)).into_bytes(),
            format!(
                "POST /runwayml/v1/image_to_video?api_token={TOKEN} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 20000\r\n\r\n{}{}",
                "[".repeat(10_000),
                "]".repeat(10_000)
            )
            .into_bytes(),
            b"GET /runwayml/v1/tasks/id?id=\xff\xfe&api_token=at_x HTTP/1.1\r\nHost: sim\r\nX-Odd: \xff\r\nConnection: close\r\n\r\n".to_vec(),
        ] {
            let _ = raw(sim.addr(), &req).await;
        }
        let big = format!(
            "POST /runwayml/v1/image_to_video?api_token={TOKEN} HTTP/1.1\r\nHost: sim\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            40 << 20
        );
        // The client announces 40 MB, sends none of it and hangs up.
        let mut s = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
        s.write_all(big.as_bytes()).await.unwrap();
        s.shutdown().await.unwrap();
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut sink)).await;

        // Still serving.
        let a = send(
            "POST",
            &sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
            Some(&body()),
        )
        .await;
        assert_eq!(a.status, 200);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(PANICS.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let sim = Simulator::builder()
        .dialect(Dialect::SelfHosted)
        .start()
        .await
        .unwrap();
    let big = vec![b' '; 33 << 20];
    let a = client()
        .post(sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    // Either the 413, or the connection closed while the client was still sending.
    if let Ok(a) = a {
        assert_eq!(a.status(), 413);
        assert_eq!(
            a.text().await.unwrap(),
            r#"{"message":"request entity too large"}"#
        );
    }
    assert_eq!(sim.accepted_creates(), 0);
}
