//! The storage host: signed, expiring output links to real, playable MP4 files; ranges; faults.

use std::io::Cursor;
use std::time::Duration;

use base64::Engine as _;
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Fault, Route, Simulator};
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client builds")
}

/// Starts a manual-clock simulator, creates a task from `body`, lets it succeed; returns the
/// simulator, the task id and the task's output link.
async fn succeeded(
    builder: lowcodeapi_runwayml_sim::Builder,
    body: Value,
) -> (Simulator, String, String) {
    let sim = builder.manual_clock().seed(7).start().await.unwrap();
    let created: Value = http()
        .post(sim.url(&format!("/v1/image_to_video?api_token={DEFAULT_TOKEN}")))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["data"]["id"].as_str().unwrap().to_owned();
    sim.advance(Duration::from_secs(60));
    let link = output_link(&sim, &id).await;
    (sim, id, link)
}

async fn output_link(sim: &Simulator, id: &str) -> String {
    let task: Value = http()
        .get(sim.url(&format!("/v1/tasks/{id}?api_token={DEFAULT_TOKEN}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(task["data"]["status"], "SUCCEEDED", "{task}");
    task["data"]["output"][0].as_str().unwrap().to_owned()
}

fn request(ratio: &str, duration: u64, image: &str) -> Value {
    json!({"model": "gen4_turbo", "promptImage": image, "ratio": ratio, "duration": duration})
}

/// A small PNG: left half red, right half blue.
fn png_data_uri() -> String {
    let mut img = image::RgbImage::new(64, 36);
    for (x, _, p) in img.enumerate_pixels_mut() {
        p.0 = if x < 32 { [220, 20, 20] } else { [20, 20, 220] };
    }
    let mut png = Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png.into_inner())
    )
}

/// What a decoder sees in an MP4 file.
#[derive(Debug)]
struct Decoded {
    width: u16,
    height: u16,
    frames: usize,
    samples: u32,
    duration: Duration,
    /// The average (Y, U, V) of the first decoded frame's left and right thirds.
    first_frame_sides: ([u8; 3], [u8; 3]),
}

/// Reads the MP4 container and decodes every frame of its H.264 track.
fn decode(mp4_bytes: &[u8]) -> Decoded {
    let size = mp4_bytes.len() as u64;
    let mut reader = mp4::Mp4Reader::read_header(Cursor::new(mp4_bytes), size).unwrap();
    let (&track_id, track) = reader.tracks().iter().next().expect("one track");
    assert_eq!(track.media_type().unwrap(), mp4::MediaType::H264);
    let (width, height) = (track.width(), track.height());
    let samples = track.sample_count();
    let duration = track.duration();
    // The movie's duration (what players show) is the track's.
    let movie = Duration::from_secs_f64(
        reader.moov.mvhd.duration as f64 / f64::from(reader.moov.mvhd.timescale),
    );
    assert_eq!(movie, duration);
    let avc = &track.trak.mdia.minf.stbl.stsd.avc1.as_ref().unwrap().avcc;
    let mut parameter_sets = Vec::new();
    for nal in avc
        .sequence_parameter_sets
        .iter()
        .chain(&avc.picture_parameter_sets)
    {
        parameter_sets.extend_from_slice(&[0, 0, 0, 1]);
        parameter_sets.extend_from_slice(&nal.bytes);
    }
    let mut decoder = openh264::decoder::Decoder::new().unwrap();
    let mut frames = 0;
    let mut sides = None;
    for i in 1..=samples {
        let sample = reader
            .read_sample(track_id, i)
            .unwrap()
            .expect("the sample exists");
        // Length-prefixed NAL units to Annex B.
        let mut annex_b = if i == 1 {
            parameter_sets.clone()
        } else {
            Vec::new()
        };
        let mut rest = &sample.bytes[..];
        while rest.len() >= 4 {
            let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            annex_b.extend_from_slice(&[0, 0, 0, 1]);
            annex_b.extend_from_slice(&rest[4..4 + len]);
            rest = &rest[4 + len..];
        }
        assert!(rest.is_empty(), "sample {i} ends mid NAL unit");
        if let Some(yuv) = decoder.decode(&annex_b).unwrap() {
            use openh264::formats::YUVSource;
            assert_eq!(yuv.dimensions(), (width as usize, height as usize));
            if sides.is_none() {
                sides = Some(side_averages(&yuv));
            }
            frames += 1;
        }
    }
    frames += decoder.flush_remaining().unwrap().len();
    Decoded {
        width,
        height,
        frames,
        samples,
        duration,
        first_frame_sides: sides.expect("a frame decoded"),
    }
}

fn side_averages(yuv: &impl openh264::formats::YUVSource) -> ([u8; 3], [u8; 3]) {
    let (w, h) = yuv.dimensions();
    let (sy, su, sv) = yuv.strides();
    let avg = |x0: usize, x1: usize| {
        let mut sum = [0u64; 3];
        let mut n = [0u64; 3];
        for y in 0..h {
            for x in x0..x1 {
                sum[0] += u64::from(yuv.y()[y * sy + x]);
                n[0] += 1;
                if x % 2 == 0 && y % 2 == 0 {
                    sum[1] += u64::from(yuv.u()[(y / 2) * su + x / 2]);
                    sum[2] += u64::from(yuv.v()[(y / 2) * sv + x / 2]);
                    n[1] += 1;
                    n[2] += 1;
                }
            }
        }
        [0, 1, 2].map(|k| (sum[k] / n[k]) as u8)
    };
    (avg(0, w / 3), avg(w - w / 3, w))
}

#[tokio::test]
async fn an_output_link_downloads_a_playable_mp4_of_the_requested_ratio_and_duration() {
    let (sim, id, link) = succeeded(
        Simulator::builder(),
        request("1280:720", 2, &png_data_uri()),
    )
    .await;
    assert!(
        link.starts_with(&format!("{}/outputs/{id}/0.mp4?_jwt=", sim.storage_url())),
        "{link}"
    );
    assert_ne!(sim.storage_url(), sim.addr().to_string());

    let answer = http().get(&link).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "video/mp4");
    assert_eq!(answer.headers()["accept-ranges"], "bytes");
    let length: u64 = answer.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = answer.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, length);

    let video = decode(&bytes);
    assert_eq!((video.width, video.height), (1280, 720), "{video:?}");
    assert_eq!(video.samples, 48, "2 s at 24 fps: {video:?}");
    assert_eq!(
        video.frames, 48,
        "every sample decodes to a frame: {video:?}"
    );
    let one_frame = Duration::from_secs(1) / 24;
    assert!(
        video.duration.abs_diff(Duration::from_secs(2)) <= one_frame,
        "{video:?}"
    );
    // It is the prompt image: red on the left (V high), blue on the right (U high).
    let (left, right) = video.first_frame_sides;
    assert!(left[2] > 180 && left[1] < 120, "{video:?}");
    assert!(right[1] > 180 && right[2] < 120, "{video:?}");

    // The same file again (from the cache), and the download was logged without a token.
    let again = http()
        .get(&link)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(again, bytes);
    let downloads: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.route == Route::Output)
        .collect();
    assert_eq!(downloads.len(), 2);
    assert!(downloads.iter().all(|d| !d.carries_api_token()));
    assert!(
        downloads
            .iter()
            .all(|d| d.task_id.as_deref() == Some(id.as_str()))
    );
    assert!(downloads.iter().all(|d| d.status == Some(200)));
}

#[tokio::test]
async fn an_unreadable_image_gives_a_pattern_video_of_another_ratio() {
    let (_sim, _id, link) = succeeded(
        Simulator::builder().output_fps(12),
        request("720:1280", 2, "https://example.com/a.jpg"),
    )
    .await;
    let bytes = http()
        .get(&link)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let video = decode(&bytes);
    assert_eq!((video.width, video.height), (720, 1280), "{video:?}");
    assert_eq!((video.samples, video.frames), (24, 24), "{video:?}");
}

async fn get_with_range(link: &str, range: &str) -> reqwest::Response {
    http()
        .get(link)
        .header("range", range)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn ranges_and_head_are_served_like_a_cdn() {
    let (sim, _id, link) = succeeded(
        Simulator::builder().synthetic_output_len(100_000),
        request("1280:720", 5, "https://example.com/a.jpg"),
    )
    .await;
    let whole = http().get(&link).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    let whole = whole.bytes().await.unwrap();
    assert_eq!(whole.len(), 100_000);

    let tail = get_with_range(&link, "bytes=99000-").await;
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.headers()["content-range"], "bytes 99000-99999/100000");
    assert_eq!(tail.headers()["content-length"], "1000");
    assert_eq!(tail.bytes().await.unwrap(), whole.slice(99_000..));

    let middle = get_with_range(&link, "bytes=10-19").await;
    assert_eq!(middle.status(), 206);
    assert_eq!(middle.bytes().await.unwrap(), whole.slice(10..20));

    let past = get_with_range(&link, "bytes=100000-").await;
    assert_eq!(past.status(), 416);
    assert_eq!(past.headers()["content-range"], "bytes */100000");

    let head = http().head(&link).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "100000");
    assert_eq!(head.headers()["content-type"], "video/mp4");

    let ranges: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.route == Route::Output)
        .map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert_eq!(
        ranges,
        [
            None,
            Some("bytes=99000-".into()),
            Some("bytes=10-19".into()),
            Some("bytes=100000-".into()),
            None
        ]
    );
}

async fn denied(link: &str, status: u16, message: &str) {
    let answer = http().get(link).send().await.unwrap();
    assert_eq!(answer.status(), status);
    assert_eq!(answer.headers()["content-type"], "application/xml");
    let body = answer.text().await.unwrap();
    assert!(body.contains(message), "{body}");
}

#[tokio::test]
async fn links_expire_on_the_simulated_clock_and_every_get_issues_fresh_ones() {
    let (sim, id, link) = succeeded(
        Simulator::builder()
            .synthetic_output_len(1000)
            .output_link_ttl(Duration::from_secs(3600)),
        request("1280:720", 5, "https://example.com/a.jpg"),
    )
    .await;
    assert_eq!(http().get(&link).send().await.unwrap().status(), 200);
    sim.advance(Duration::from_secs(3599));
    assert_eq!(http().get(&link).send().await.unwrap().status(), 200);
    sim.advance(Duration::from_secs(1));
    denied(
        &link,
        403,
        "<Code>AccessDenied</Code><Message>Request has expired</Message>",
    )
    .await;

    let fresh = output_link(&sim, &id).await;
    assert_ne!(fresh, link);
    assert_eq!(http().get(&fresh).send().await.unwrap().status(), 200);

    // A tampered signature, a missing one, a token for another output.
    let tampered = format!("{}x", fresh);
    denied(&tampered, 403, "Signature mismatch").await;
    let unsigned = fresh.split('?').next().unwrap().to_owned();
    denied(&unsigned, 403, "Signature mismatch").await;
    let jwt = fresh.split("_jwt=").nth(1).unwrap();
    let elsewhere = format!("{}/outputs/{id}/1.mp4?_jwt={jwt}", sim.storage_url());
    denied(&elsewhere, 403, "Signature mismatch").await;

    // The payload says what the contract says.
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["task"], id.as_str());
    assert_eq!(claims["n"], 0);
    assert!(claims["exp"].as_u64().is_some());
}

#[tokio::test]
async fn links_last_24_hours_of_simulated_time_by_default() {
    let epoch = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let (sim, _id, link) = succeeded(
        Simulator::builder().epoch(epoch).synthetic_output_len(10),
        request("1280:720", 5, "https://example.com/a.jpg"),
    )
    .await;
    let jwt = link.split("_jwt=").nth(1).unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    // Issued 60 s after the epoch (when the task was read), valid for 24 h from then.
    assert_eq!(claims["exp"], 1_800_000_000u64 + 60 + 24 * 3600);
    sim.advance(Duration::from_secs(24 * 3600 - 1));
    assert_eq!(http().get(&link).send().await.unwrap().status(), 200);
    sim.advance(Duration::from_secs(1));
    assert_eq!(http().get(&link).send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn a_deleted_task_has_no_outputs() {
    let (sim, id, link) = succeeded(
        Simulator::builder().synthetic_output_len(1000),
        request("1280:720", 5, "https://example.com/a.jpg"),
    )
    .await;
    let deleted = http()
        .delete(sim.url(&format!("/v1/tasks/{id}?api_token={DEFAULT_TOKEN}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    denied(&link, 404, "<Code>NoSuchKey</Code>").await;
    let elsewhere = format!("{}/elsewhere", sim.storage_url());
    denied(&elsewhere, 404, "<Code>NoSuchKey</Code>").await;
}

#[tokio::test]
async fn a_token_sent_to_the_storage_host_is_logged_as_such() {
    let (sim, _id, link) = succeeded(
        Simulator::builder().synthetic_output_len(10),
        request("1280:720", 5, "https://example.com/a.jpg"),
    )
    .await;
    http().get(&link).send().await.unwrap();
    http()
        .get(format!("{link}&api_token={DEFAULT_TOKEN}"))
        .send()
        .await
        .unwrap();
    let carried: Vec<bool> = sim
        .requests()
        .iter()
        .filter(|r| r.route == Route::Output)
        .map(|r| r.carries_api_token())
        .collect();
    assert_eq!(carried, [false, true]);
}

/// Reads a body until the connection ends; returns the bytes read and whether it ended in error.
async fn read_all(mut answer: reqwest::Response) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    loop {
        match answer.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (got, false),
            Err(_) => return (got, true),
        }
    }
}

#[tokio::test]
async fn download_faults_drop_slow_down_fail_mislabel_and_mismeasure() {
    let (sim, _id, link) = succeeded(
        Simulator::builder().synthetic_output_len(200_000),
        request("1280:720", 5, "https://example.com/a.jpg"),
    )
    .await;
    let whole = http()
        .get(&link)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();

    // Dropped after 70 000 bytes; the rest resumes with a range.
    let drop = sim.fault(Route::Output, Fault::DropBodyAfter(70_000));
    let answer = http().get(&link).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-length"], "200000");
    let (got, failed) = read_all(answer).await;
    assert!(failed);
    assert_eq!(got.len(), 70_000);
    assert_eq!(drop.fired(), 1);
    let rest = get_with_range(&link, "bytes=70000-").await;
    let mut resumed = got;
    resumed.extend_from_slice(&rest.bytes().await.unwrap());
    assert_eq!(resumed, whole);

    // 503, with an XML body.
    sim.fault(Route::Output, Fault::Status(503));
    denied(&link, 503, "<Error>").await;

    // A wrong length: all the bytes, but a longer Content-Length, then the connection closes.
    sim.fault(Route::Output, Fault::LengthOver(1000));
    let answer = http().get(&link).send().await.unwrap();
    assert_eq!(answer.headers()["content-length"], "201000");
    let (got, failed) = read_all(answer).await;
    assert!(failed);
    assert_eq!(got, whole);

    // A wrong content type.
    sim.fault(Route::Output, Fault::ContentType("text/html".into()));
    let answer = http().get(&link).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "text/html");

    // A slow body arrives whole, in small chunks.
    sim.fault(
        Route::Output,
        Fault::SlowBody {
            chunk: 50_000,
            delay: Duration::from_millis(5),
        },
    );
    let answer = http().get(&link).send().await.unwrap();
    let (got, failed) = read_all(answer).await;
    assert!(!failed);
    assert_eq!(got, whole);

    // The connection drops before any answer.
    sim.fault(Route::Output, Fault::DropConnection);
    assert!(http().get(&link).send().await.is_err());

    let faults: Vec<_> = sim.requests().into_iter().filter_map(|r| r.fault).collect();
    assert_eq!(faults.len(), 6, "{faults:?}");
}
