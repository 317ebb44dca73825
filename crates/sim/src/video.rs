//! Real, playable videos for task outputs: H.264 in an MP4 file.
//!
//! A video is a slow diagonal pan over the prompt image (scaled to cover a canvas a quarter
//! larger than the frame, so the pan has room to move), or over a generated pattern when the
//! image cannot be read (an `https://` URL: the simulator is offline). The encoder is Cisco's
//! OpenH264 (constrained baseline, no B-frames, so presentation order is decoding order),
//! the container is written by the `mp4` crate.
//!
//! Rendering is cheap by design: the canvas is converted to YUV 4:2:0 once, and every frame
//! is a window into it (no per-frame pixel work), so the time goes into the encoder alone.

use std::fmt;
use std::io::Cursor;

use base64::Engine as _;
use bytes::Bytes;
use openh264::OpenH264API;
use openh264::encoder::{
    Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, QpRange,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::YUVSlices;

/// The frame rate of output videos unless configured
/// ([`Builder::output_fps`](crate::Builder::output_fps)).
pub const DEFAULT_FPS: u32 = 24;

/// The largest frame side rendered; larger requests are refused.
const MAX_SIDE: u32 = 4096;

/// The quantizer range (0 best .. 51 worst).
const QP: (u8, u8) = (22, 30);

/// The longest video rendered, in frames.
const MAX_FRAMES: u64 = 60 * 60;

/// What to render. Made with [`VideoOptions::new`].
///
/// ```
/// use lowcodeapi_runwayml_sim::video::{VideoOptions, render_mp4};
/// let mp4 = render_mp4(&VideoOptions::new(320, 180, 1).fps(12)).unwrap();
/// assert_eq!(&mp4[4..8], b"ftyp");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoOptions {
    width: u32,
    height: u32,
    seconds: u32,
    fps: u32,
    image: Option<Bytes>,
}

impl VideoOptions {
    /// A `width` x `height` video (rounded down to even numbers, at least 16) of `seconds`
    /// seconds (at least 1) at [`DEFAULT_FPS`], over a generated pattern.
    pub fn new(width: u32, height: u32, seconds: u32) -> VideoOptions {
        VideoOptions {
            width: even(width),
            height: even(height),
            seconds: seconds.max(1),
            fps: DEFAULT_FPS,
            image: None,
        }
    }

    /// Frames per second (1 to 120).
    pub fn fps(mut self, fps: u32) -> VideoOptions {
        self.fps = fps.clamp(1, 120);
        self
    }

    /// Pans over this image (PNG, JPEG or WebP bytes) instead of a pattern. An image that does
    /// not decode falls back to the pattern.
    pub fn image(mut self, bytes: impl Into<Bytes>) -> VideoOptions {
        self.image = Some(bytes.into());
        self
    }

    /// The frame width.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// The frame height.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// How many frames the video has: seconds x fps.
    pub fn frames(&self) -> u32 {
        self.seconds.saturating_mul(self.fps)
    }

    /// The frames per second.
    pub fn frame_rate(&self) -> u32 {
        self.fps
    }
}

/// Why a video could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoError(String);

impl fmt::Display for VideoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot make the video: {}", self.0)
    }
}

impl std::error::Error for VideoError {}

fn err(what: impl fmt::Display) -> VideoError {
    VideoError(what.to_string())
}

/// Even, and within `16..=MAX_SIDE`.
fn even(side: u32) -> u32 {
    (side.clamp(16, MAX_SIDE)) & !1
}

/// Renders the video described by `options` as the bytes of an MP4 file.
///
/// Fails only when the encoder or the muxer does (or the video would exceed an hour).
pub fn render_mp4(options: &VideoOptions) -> Result<Vec<u8>, VideoError> {
    let (w, h, fps) = (options.width, options.height, options.fps);
    let frames = options.frames();
    if u64::from(frames) > MAX_FRAMES {
        return Err(err(format!("{frames} frames is too long")));
    }
    let canvas = Canvas::new(w, h, options.image.as_deref());

    // No rate control: a fixed quantizer range (good quality for a slow pan, about 1 MB for
    // ten seconds of 720p), and every frame comes out, which the frame count relies on.
    let config = EncoderConfig::new()
        .usage_type(UsageType::CameraVideoRealTime)
        .rate_control_mode(RateControlMode::Off)
        .qp(QpRange::new(QP.0, QP.1))
        .max_frame_rate(FrameRate::from_hz(fps as f32))
        .skip_frames(false)
        .complexity(Complexity::Low)
        .scene_change_detect(false)
        .background_detection(false)
        .intra_frame_period(IntraFramePeriod::from_num_frames(fps * 2))
        .vui(VuiConfig::bt601())
        // One thread: the same request makes the same bytes, so a download resumed after the
        // video was evicted from the cache and made again still fits together.
        .num_threads(1);
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config).map_err(err)?;

    let mut sps: Option<Vec<u8>> = None;
    let mut pps: Option<Vec<u8>> = None;
    let mut samples: Vec<(Vec<u8>, bool)> = Vec::with_capacity(frames as usize);
    for i in 0..frames {
        let frame = canvas.frame(i, frames);
        let stream = encoder.encode(&frame).map_err(err)?;
        let mut sample = Vec::new();
        let mut sync = stream.frame_type() == FrameType::IDR;
        for l in 0..stream.num_layers() {
            let Some(layer) = stream.layer(l) else {
                continue;
            };
            for n in 0..layer.nal_count() {
                let Some(nal) = layer.nal_unit(n).map(strip_start_code) else {
                    continue;
                };
                match nal.first().map(|b| b & 0x1f) {
                    None => {}
                    Some(7) => {
                        sps.get_or_insert_with(|| nal.to_vec());
                    }
                    Some(8) => {
                        pps.get_or_insert_with(|| nal.to_vec());
                    }
                    Some(t) => {
                        sync |= t == 5;
                        let len = u32::try_from(nal.len()).map_err(err)?;
                        sample.extend_from_slice(&len.to_be_bytes());
                        sample.extend_from_slice(nal);
                    }
                }
            }
        }
        if sample.is_empty() {
            return Err(err(format!("the encoder skipped frame {i}")));
        }
        samples.push((sample, sync));
    }
    let (Some(sps), Some(pps)) = (sps, pps) else {
        return Err(err("the encoder gave no parameter sets"));
    };
    mux(w, h, fps, &sps, &pps, samples)
}

/// The NAL unit without its Annex B start code.
fn strip_start_code(nal: &[u8]) -> &[u8] {
    if let Some(rest) = nal.strip_prefix(&[0, 0, 0, 1]) {
        rest
    } else if let Some(rest) = nal.strip_prefix(&[0, 0, 1]) {
        rest
    } else {
        nal
    }
}

/// Ticks per frame in the track's timescale (`fps * TICKS` per second).
const TICKS: u32 = 1000;

fn mux(
    w: u32,
    h: u32,
    fps: u32,
    sps: &[u8],
    pps: &[u8],
    samples: Vec<(Vec<u8>, bool)>,
) -> Result<Vec<u8>, VideoError> {
    let brand = |s: &str| s.parse::<mp4::FourCC>().map_err(err);
    let config = mp4::Mp4Config {
        major_brand: brand("isom")?,
        minor_version: 512,
        compatible_brands: vec![
            brand("isom")?,
            brand("iso2")?,
            brand("avc1")?,
            brand("mp41")?,
        ],
        // The movie's timescale is the track's: the muxer converts each sample's duration to it
        // with an integer division, which must be exact for the durations to add up.
        timescale: fps * TICKS,
    };
    let size: usize = samples.iter().map(|(s, _)| s.len()).sum();
    let mut writer =
        mp4::Mp4Writer::write_start(Cursor::new(Vec::with_capacity(size + 64 * 1024)), &config)
            .map_err(err)?;
    writer
        .add_track(&mp4::TrackConfig {
            track_type: mp4::TrackType::Video,
            timescale: fps * TICKS,
            language: "und".into(),
            media_conf: mp4::MediaConfig::AvcConfig(mp4::AvcConfig {
                width: u16::try_from(w).map_err(err)?,
                height: u16::try_from(h).map_err(err)?,
                seq_param_set: sps.to_vec(),
                pic_param_set: pps.to_vec(),
            }),
        })
        .map_err(err)?;
    for (i, (bytes, is_sync)) in samples.into_iter().enumerate() {
        let sample = mp4::Mp4Sample {
            start_time: i as u64 * u64::from(TICKS),
            duration: TICKS,
            rendering_offset: 0,
            is_sync,
            bytes: Bytes::from(bytes),
        };
        writer.write_sample(1, &sample).map_err(err)?;
    }
    writer.write_end().map_err(err)?;
    Ok(writer.into_writer().into_inner())
}

/// The picture the frames pan over, in YUV 4:2:0, a quarter larger than a frame each way.
struct Canvas {
    w: usize,
    h: usize,
    cw: usize,
    ch: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32, image: Option<&[u8]>) -> Canvas {
        let (w, h) = (w as usize, h as usize);
        let cw = (w + w / 4 + 1) & !1;
        let ch = (h + h / 4 + 1) & !1;
        let rgb = image
            .and_then(|bytes| image::load_from_memory(bytes).ok())
            .map(|img| img.to_rgb8())
            .filter(|img| img.width() > 0 && img.height() > 0);
        let mut canvas = Canvas {
            w,
            h,
            cw,
            ch,
            // One extra row so every frame's window, stride included, stays inside the plane.
            y: vec![0; cw * (ch + 1)],
            u: vec![0; (cw / 2) * (ch / 2 + 1)],
            v: vec![0; (cw / 2) * (ch / 2 + 1)],
        };
        match rgb {
            Some(img) => canvas.fill(|x, y| cover(&img, cw, ch, x, y)),
            None => canvas.fill(pattern(cw, ch)),
        }
        canvas
    }

    /// Fills the planes from an RGB sampler (BT.601, limited range); chroma from the top-left
    /// pixel of each 2x2 block.
    fn fill(&mut self, mut rgb_at: impl FnMut(usize, usize) -> [u8; 3]) {
        let (cw, ch) = (self.cw, self.ch);
        let cw2 = cw / 2;
        for y in 0..ch {
            let row = &mut self.y[y * cw..(y + 1) * cw];
            for (x, out) in row.iter_mut().enumerate() {
                let [r, g, b] = rgb_at(x, y);
                let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
                *out = (((66 * r + 129 * g + 25 * b + 128) >> 8) + 16) as u8;
                if x % 2 == 0 && y % 2 == 0 {
                    let i = (y / 2) * cw2 + x / 2;
                    self.u[i] = (((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128) as u8;
                    self.v[i] = (((112 * r - 94 * g - 18 * b + 128) >> 8) + 128) as u8;
                }
            }
        }
    }

    /// Frame `i` of `n`: the window moves from the top-left corner to the bottom-right one.
    fn frame(&self, i: u32, n: u32) -> YUVSlices<'_> {
        let t = if n > 1 {
            f64::from(i) / f64::from(n - 1)
        } else {
            0.0
        };
        // Even offsets, so the chroma window moves with the luma one.
        let x0 = ((t * (self.cw - self.w) as f64) as usize) & !1;
        let y0 = ((t * (self.ch - self.h) as f64) as usize) & !1;
        let (cw, cw2) = (self.cw, self.cw / 2);
        let y_start = y0 * cw + x0;
        let c_start = (y0 / 2) * cw2 + x0 / 2;
        let c_len = (self.h / 2) * cw2;
        YUVSlices::new(
            (
                &self.y[y_start..y_start + self.h * cw],
                &self.u[c_start..c_start + c_len],
                &self.v[c_start..c_start + c_len],
            ),
            (self.w, self.h),
            (cw, cw2, cw2),
        )
    }
}

/// The image scaled to cover a `cw` x `ch` canvas (centred, cropped), sampled bilinearly.
fn cover(img: &image::RgbImage, cw: usize, ch: usize, x: usize, y: usize) -> [u8; 3] {
    let (iw, ih) = (img.width() as f64, img.height() as f64);
    let scale = (cw as f64 / iw).max(ch as f64 / ih);
    let ox = (iw - cw as f64 / scale) / 2.0;
    let oy = (ih - ch as f64 / scale) / 2.0;
    let sx = ((x as f64 + 0.5) / scale + ox - 0.5).clamp(0.0, iw - 1.0);
    let sy = ((y as f64 + 0.5) / scale + oy - 0.5).clamp(0.0, ih - 1.0);
    let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
    let (x1, y1) = (
        (x0 + 1).min(img.width() - 1),
        (y0 + 1).min(img.height() - 1),
    );
    let (fx, fy) = (sx - f64::from(x0), sy - f64::from(y0));
    let p = |x, y| img.get_pixel(x, y).0;
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = f64::from(a[k]) * (1.0 - fx) + f64::from(b[k]) * fx;
        let bottom = f64::from(c[k]) * (1.0 - fx) + f64::from(d[k]) * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round() as u8;
    }
    out
}

/// A generated picture: a diagonal colour gradient under a grid of soft squares.
fn pattern(cw: usize, ch: usize) -> impl FnMut(usize, usize) -> [u8; 3] {
    let cell = (cw.min(ch) / 8).max(8);
    move |x, y| {
        let r = (x * 255 / cw.max(1)) as u8;
        let g = (y * 255 / ch.max(1)) as u8;
        let b = 255 - ((x + y) * 255 / (cw + ch).max(1)) as u8;
        let (cx, cy) = (x % cell, y % cell);
        let inside = cx > cell / 5 && cx < cell * 4 / 5 && cy > cell / 5 && cy < cell * 4 / 5;
        if inside && (x / cell + y / cell).is_multiple_of(2) {
            [r / 2 + 120, g / 2 + 120, b / 2 + 120]
        } else {
            [r, g, b]
        }
    }
}

/// The bytes of an image given as a data URI (`data:image/png;base64,…`), if it is one.
pub(crate) fn data_uri_bytes(uri: &str) -> Option<Vec<u8>> {
    let rest = uri.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    if !meta.ends_with(";base64") {
        return None;
    }
    let data = data.trim();
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(data))
        .ok()
}

/// The frame size for a create request's `ratio` (`"1280:720"`; aspect ratios such as `"16:9"`
/// are scaled to a 1280-pixel long side; none or `"adaptive"`: 1280x720).
pub(crate) fn frame_size(ratio: Option<&str>) -> (u32, u32) {
    let parsed = ratio.and_then(|r| {
        let (w, h) = r.split_once(':')?;
        let (w, h) = (w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?);
        (w > 0 && h > 0).then_some((w, h))
    });
    match parsed {
        None => (1280, 720),
        Some((w, h)) if w.max(h) < 256 => {
            let long = 1280.0;
            let (w, h) = (f64::from(w), f64::from(h));
            if w >= h {
                (1280, even((long * h / w) as u32))
            } else {
                (even((long * w / h) as u32), 1280)
            }
        }
        Some((w, h)) => (even(w), even(h)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_become_even_frame_sizes() {
        assert_eq!(frame_size(Some("1280:720")), (1280, 720));
        assert_eq!(frame_size(Some("832:1104")), (832, 1104));
        assert_eq!(frame_size(Some("16:9")), (1280, 720));
        assert_eq!(frame_size(Some("9:16")), (720, 1280));
        assert_eq!(frame_size(Some("adaptive")), (1280, 720));
        assert_eq!(frame_size(None), (1280, 720));
        assert_eq!(frame_size(Some("1001:1001")), (1000, 1000));
    }

    #[test]
    fn the_same_options_make_the_same_bytes() {
        let options = VideoOptions::new(96, 64, 1).fps(6);
        let a = render_mp4(&options).unwrap();
        assert_eq!(a, render_mp4(&options).unwrap());
        assert_ne!(a, render_mp4(&VideoOptions::new(64, 96, 1).fps(6)).unwrap());
    }

    #[test]
    fn data_uris_decode_and_urls_do_not() {
        assert_eq!(
            data_uri_bytes("data:image/png;base64,AAEC"),
            Some(vec![0, 1, 2])
        );
        assert_eq!(
            data_uri_bytes("data:image/png;base64,AAE"),
            Some(vec![0, 1])
        );
        assert_eq!(data_uri_bytes("https://example.com/a.png"), None);
        assert_eq!(data_uri_bytes("data:text/plain,hello"), None);
    }
}
