//! How long the simulator takes to make its output videos: a 5 s and a 10 s 1280x720 MP4
//! (H.264, 24 fps), over a generated pattern and over a decoded PNG.
//!
//! ```text
//! cargo run --release -p lowcodeapi-runwayml-sim --example video_speed
//! cargo run -p lowcodeapi-runwayml-sim --example video_speed      # debug build
//! ```

use std::time::{Duration, Instant};

use lowcodeapi_runwayml_sim::video::{VideoOptions, render_mp4};

/// A 640x360 PNG made here: a photo-like smooth gradient with some texture.
fn sample_png() -> Vec<u8> {
    let (w, h) = (640u32, 360u32);
    let mut img = image::RgbImage::new(w, h);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let noise = ((x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) >> 7) as u8 & 15;
        p.0 = [
            (x * 255 / w) as u8 ^ noise,
            (y * 255 / h) as u8,
            ((x + y) * 255 / (w + h)) as u8,
        ];
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("a PNG encodes in memory");
    out.into_inner()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let png = sample_png();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("profile: {profile}, rounds: {rounds} (median shown)");
    for seconds in [5, 10] {
        for (source, image) in [("pattern", None), ("png", Some(png.clone()))] {
            let mut options = VideoOptions::new(1280, 720, seconds);
            if let Some(bytes) = image {
                options = options.image(bytes);
            }
            let mut times = Vec::new();
            let mut size = 0;
            for _ in 0..rounds {
                let start = Instant::now();
                match render_mp4(&options) {
                    Ok(mp4) => size = mp4.len(),
                    Err(e) => {
                        eprintln!("{e}");
                        return;
                    }
                }
                times.push(start.elapsed());
            }
            let t = median(times);
            println!(
                "{seconds:>2} s 1280x720 {} frames, {source:<7}: {:>7.2} s  ({:.0} frames/s, {:.2} MB)",
                options.frames(),
                t.as_secs_f64(),
                f64::from(options.frames()) / t.as_secs_f64(),
                size as f64 / 1e6
            );
        }
    }
}
