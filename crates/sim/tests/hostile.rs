//! Answers from a hostile or broken server in LowCodeAPI's place: a gzip bomb, an oversize body,
//! a redirect to another origin.

mod common;

use std::io::Read;

use common::*;
use lowcodeapi_runwayml_sim::{Dialect, Fault, GZIP_BOMB_DECODED_BYTES, Route, Simulator};

async fn start(dialect: Dialect) -> Simulator {
    Simulator::builder()
        .dialect(dialect)
        .start()
        .await
        .expect("start")
}

/// A request for each operation, in the URL format each dialect routes by default.
fn operations(sim: &Simulator) -> [(&'static str, String, Option<String>); 3] {
    [
        (
            "POST",
            sim.url(&format!("/v1/image_to_video?api_token={TOKEN}")),
            Some(body()),
        ),
        (
            "GET",
            sim.url(&format!("/v1/tasks/id?id=abc&api_token={TOKEN}")),
            None,
        ),
        (
            "DELETE",
            sim.url(&format!("/v1/tasks/id?id=abc&api_token={TOKEN}")),
            None,
        ),
    ]
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn request(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&str>,
) -> reqwest::RequestBuilder {
    let mut req = client.request(method.parse().unwrap(), url);
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_owned());
    }
    req
}

#[tokio::test]
async fn gzip_bomb_is_a_mebibyte_that_inflates_to_a_gibibyte_of_zeros_on_every_route() {
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = start(dialect).await;
        let bomb = sim.fault(Route::Any, Fault::gzip_bomb()).always();
        for (method, url, body) in operations(&sim) {
            // reqwest here has no gzip support: it hands over the compressed bytes.
            let answer = request(&client(), method, &url, body.as_deref())
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), 200, "{dialect} {method}");
            assert_eq!(answer.headers()["content-encoding"], "gzip");
            assert_eq!(
                answer.headers()["content-type"],
                "application/json; charset=utf-8"
            );
            let gz = answer.bytes().await.unwrap();
            assert!((900_000..1_200_000).contains(&gz.len()), "{}", gz.len());
            let announced = u32::from_le_bytes(gz[gz.len() - 4..].try_into().unwrap());
            assert_eq!(u64::from(announced), GZIP_BOMB_DECODED_BYTES);
            // The first 8 MiB inflate to zeros (the rest repeats the same compressed bytes).
            let mut head = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .take(8 << 20)
                .read_to_end(&mut head)
                .unwrap();
            assert_eq!(head.len(), 8 << 20);
            assert!(head.iter().all(|&b| b == 0));
        }
        assert_eq!(bomb.fired(), 3);
        assert_eq!(sim.accepted_creates(), 0, "nothing reached Runway");
    }
}

#[tokio::test]
async fn gzip_bomb_can_answer_an_error_status() {
    let sim = start(Dialect::SelfHosted).await;
    sim.fault(Route::GetTask, Fault::GzipBomb { status: 502 });
    let (method, url, _) = &operations(&sim)[1];
    let answer = request(&client(), method, url, None).send().await.unwrap();
    assert_eq!(answer.status(), 502);
    assert_eq!(answer.headers()["content-encoding"], "gzip");
}

/// Reads the whole body piece by piece; returns its size, first and last bytes.
async fn drain(mut answer: reqwest::Response) -> (u64, Vec<u8>, Vec<u8>) {
    let mut total = 0u64;
    let mut first = Vec::new();
    let mut last = Vec::new();
    while let Some(chunk) = answer.chunk().await.unwrap() {
        if first.len() < 16 {
            first.extend_from_slice(&chunk[..chunk.len().min(16 - first.len())]);
        }
        total += chunk.len() as u64;
        last.extend_from_slice(&chunk);
        let keep = last.len().saturating_sub(16);
        last.drain(..keep);
    }
    (total, first, last)
}

#[tokio::test]
async fn oversize_body_streams_exactly_the_size_asked_with_or_without_content_length() {
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = start(dialect).await;
        for (bytes, content_length) in [(40u64 << 20, true), ((40 << 20) + 3, false), (5, true)] {
            for (method, url, body) in operations(&sim) {
                sim.fault(
                    Route::Any,
                    Fault::OversizeBody {
                        status: 200,
                        bytes,
                        content_length,
                    },
                );
                let answer = request(&client(), method, &url, body.as_deref())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200);
                let expected = bytes.max(14);
                let announced = answer
                    .headers()
                    .get("content-length")
                    .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
                if content_length {
                    assert_eq!(announced, Some(expected));
                } else {
                    assert_eq!(announced, None);
                    assert_eq!(answer.headers()["transfer-encoding"], "chunked");
                }
                let (total, first, last) = drain(answer).await;
                assert_eq!(total, expected, "{dialect} {method}");
                assert!(first.starts_with(br#"{"padding":""#));
                assert!(last.ends_with(br#""}"#));
            }
        }
        assert_eq!(sim.accepted_creates(), 0, "nothing reached Runway");
    }
}

#[tokio::test]
async fn oversize_body_larger_than_memory_can_be_announced_and_abandoned() {
    let sim = start(Dialect::Hosted).await;
    let huge = 1u64 << 40; // 1 TiB: only streaming can serve it.
    sim.fault(Route::GetTask, Fault::oversize_body(huge));
    let (method, url, _) = &operations(&sim)[1];
    let mut answer = request(&client(), method, url, None).send().await.unwrap();
    assert_eq!(answer.content_length(), Some(huge));
    let mut read = 0usize;
    while read < 1 << 20 {
        read += answer.chunk().await.unwrap().unwrap().len();
    }
    drop(answer);
    // The simulator carries on.
    let (method, url, body) = &operations(&sim)[0];
    let answer = request(&client(), method, url, body.as_deref())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn cross_origin_redirect_points_every_method_at_the_other_origin_with_the_query() {
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = start(dialect).await;
        let other = sim.other_origin();
        assert_ne!(other.addr(), sim.addr());
        for status in [307u16, 308] {
            for (method, url, body) in operations(&sim) {
                sim.fault(Route::Any, Fault::CrossOriginRedirect { status });
                let answer = request(&no_redirects(), method, &url, body.as_deref())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status().as_u16(), status, "{dialect} {method}");
                let path_and_query = url.strip_prefix(&format!("http://{}", sim.addr())).unwrap();
                assert_eq!(
                    answer.headers()["location"],
                    format!("http://{}{path_and_query}", other.addr()).as_str()
                );
                assert_eq!(answer.bytes().await.unwrap().len(), 0);
            }
        }
        // A client that refuses the redirects sent the other origin nothing.
        assert_eq!(other.count(), 0);
        assert_eq!(sim.accepted_creates(), 0, "nothing reached Runway");
    }
}

#[tokio::test]
async fn a_client_that_follows_the_redirect_hands_the_other_origin_the_request_and_token() {
    let sim = start(Dialect::Hosted).await;
    let other = sim.other_origin();
    let (method, url, body) = &operations(&sim)[0];
    sim.fault(Route::CreateTask, Fault::cross_origin_redirect());
    // reqwest follows redirects by default, re-sending a POST on a 307.
    let answer = request(&client(), method, url, body.as_deref())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "{}");
    let seen = other.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/runwayml/v1/image_to_video");
    assert_eq!(seen[0].token(), Some(TOKEN));
    assert_eq!(seen[0].body_text(), body.clone().unwrap());
    assert_eq!(other.count(), 1);
    assert_eq!(sim.accepted_creates(), 0);
    assert_eq!(sim.count(Route::CreateTask), 1);
}

#[tokio::test]
async fn a_redirect_status_that_is_not_3xx_becomes_307_and_the_other_origin_stops_with_the_simulator()
 {
    let sim = start(Dialect::SelfHosted).await;
    sim.fault(Route::GetTask, Fault::CrossOriginRedirect { status: 200 });
    let (method, url, _) = &operations(&sim)[1];
    let answer = request(&no_redirects(), method, url, None)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 307);
    let other = sim.other_origin().addr();
    assert!(tokio::net::TcpStream::connect(other).await.is_ok());
    sim.shutdown().await;
    assert!(tokio::net::TcpStream::connect(other).await.is_err());
}
