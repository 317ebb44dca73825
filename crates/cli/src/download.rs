//! Saving videos: `generate` (by default) and `task download ID`.
//!
//! Output links are signed credentials that expire: by default the CLI downloads the video and
//! prints where the file is, never the link. `--no-download` prints the links instead (whole:
//! a link without its signature opens nothing), for piping into another tool; treat them as
//! secrets and do not hand them out (Runway asks integrators to download outputs instead).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lowcodeapi_runwayml::{Client, Error, Location, SavedOutput, TaskId};
use serde::Serialize;

/// The image `generate` sends to the built-in simulator when no `--image` is given: the
/// simulator makes its video from it, so the result shows something recognisable.
pub const SAMPLE_PNG: &[u8] = include_bytes!("../assets/sample.png");

/// Where videos go.
#[derive(Args, Debug, Clone)]
pub struct SaveArgs {
    /// Save the video here: a directory (it gets `<task-id>.mp4`) or a file name
    /// [default: the current directory].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace an existing file.
    #[arg(long)]
    pub overwrite: bool,
}

/// One saved video, as reported (`files` in `--json`).
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Where it is.
    pub path: String,
    /// Its size.
    pub bytes: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its duration in seconds, from the MP4 header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Its frame size, from the MP4 header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Its frame size, from the MP4 header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl FileReport {
    fn of(saved: &SavedOutput) -> FileReport {
        let path = match &saved.location {
            Location::Path(path) => path.clone(),
            other => PathBuf::from(other.to_string()),
        };
        let header = probe(&path);
        FileReport {
            path: path.display().to_string(),
            bytes: saved.bytes,
            sha256: saved.sha256.clone(),
            duration: header.as_ref().map(|h| h.seconds),
            width: header.as_ref().map(|h| h.width),
            height: header.as_ref().map(|h| h.height),
        }
    }

    /// `./id.mp4 (1.2 MB, 5.0 s, 1280x720)`.
    pub fn human(&self) -> String {
        let mut parts = vec![human_size(self.bytes)];
        if let Some(seconds) = self.duration {
            parts.push(format!("{seconds:.1} s"));
        }
        if let (Some(w), Some(h)) = (self.width, self.height) {
            parts.push(format!("{w}x{h}"));
        }
        format!("{} ({})", self.path, parts.join(", "))
    }
}

/// Downloads the task's outputs to `args.out` (default: the current directory), with a
/// progress bar on stderr when it is a terminal and `json` is off.
pub async fn save(
    client: &Client,
    id: &TaskId,
    args: &SaveArgs,
    json: bool,
) -> Result<Vec<FileReport>, Error> {
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from("."));
    let bar = bar(!json && std::io::stderr().is_terminal());
    let mut download = client.download(id).overwrite(args.overwrite);
    if let Some(bar) = bar.clone() {
        // A spinner until the storage host answers (it may take a while to start: Runway's and
        // the simulator's hosts make the file on the first request), then the bytes.
        let counting = std::sync::atomic::AtomicBool::new(false);
        download = download.on_progress(move |p| {
            match p.total {
                Some(total) if bar.length() != Some(total) => {
                    bar.set_length(total);
                    bar.set_style(style(WITH_TOTAL));
                    counting.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                None if p.bytes > 0
                    && !counting.swap(true, std::sync::atomic::Ordering::Relaxed) =>
                {
                    bar.set_style(style(WITHOUT_TOTAL));
                }
                _ => {}
            }
            bar.set_position(p.bytes);
        });
    }
    let result = download.to(&out).await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(result?.files.iter().map(FileReport::of).collect())
}

fn bar(enabled: bool) -> Option<ProgressBar> {
    if !enabled {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(style(WAITING));
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

/// Before the storage host's first byte.
const WAITING: &str = "{spinner} saving    waiting for the storage host  {elapsed}";
/// Once the size is known.
const WITH_TOTAL: &str = "{spinner} saving    [{bar:30}] {bytes}/{total_bytes}  {bytes_per_sec}";
/// Bytes arriving, size not announced.
const WITHOUT_TOTAL: &str = "{spinner} saving    {bytes}  {bytes_per_sec}";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ")
}

/// How to open a saved video, for the closing hint.
pub fn open_hint(files: &[FileReport]) -> Option<String> {
    let first = files.first()?;
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "start"
    } else {
        "xdg-open"
    };
    Some(format!(
        "play it with: {opener} {} (or any video player: VLC, mpv, a browser)",
        first.path
    ))
}

/// What the MP4 header says.
struct Header {
    seconds: f64,
    width: u32,
    height: u32,
}

/// Reads the MP4 header (the `moov` box; the media data is skipped, not read).
fn probe(path: &Path) -> Option<Header> {
    let file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let reader = mp4::Mp4Reader::read_header(std::io::BufReader::new(file), size).ok()?;
    let video = reader
        .tracks()
        .values()
        .find(|t| t.width() > 0 && t.height() > 0)?;
    // The video track's own duration (the movie header's can be rounded by muxers).
    let seconds = match video.duration().as_secs_f64() {
        s if s > 0.0 => s,
        _ => reader.duration().as_secs_f64(),
    };
    Some(Header {
        seconds,
        width: u32::from(video.width()),
        height: u32::from(video.height()),
    })
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bar's three looks are valid templates (a broken one would fall back to a bare spinner)
    /// and say what the user needs: waiting, or how much arrived.
    #[test]
    fn the_download_bar_waits_then_counts() {
        for (template, shows) in [
            (WAITING, "waiting for the storage host"),
            (WITH_TOTAL, "{total_bytes}"),
            (WITHOUT_TOTAL, "{bytes}"),
        ] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
            assert!(template.contains(shows), "{template}");
        }
        assert!(
            !WAITING.contains("bytes"),
            "no 0 B/0 B before the first byte"
        );
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(1_234_567), "1.2 MB");
    }

    #[test]
    fn the_builtin_simulator_gets_the_bundled_sample_image() {
        use base64::Engine as _;
        use clap::Parser as _;
        let cli = crate::Cli::try_parse_from(["runway", "generate", "--sim"]).unwrap();
        let crate::Command::Generate(args) = cli.command else {
            panic!("generate")
        };
        let request = crate::build_request(&args).unwrap();
        let expected = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(SAMPLE_PNG)
        );
        let lowcodeapi_runwayml::PromptImage::Uri(uri) = request.prompt_image() else {
            panic!("one image")
        };
        assert_eq!(uri.as_str(), expected);
        assert!(SAMPLE_PNG.starts_with(b"\x89PNG"));
    }
}
