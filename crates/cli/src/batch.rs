//! `runway batch REQUESTS.jsonl`: many videos, durably, with `lowcodeapi-runwayml-jobs`.
//!
//! One request per line, a JSON object with the `generate` flags as fields (all optional):
//! `{"image": "https://…" | "path/to/file.png", "prompt": "…", "model": "gen4_turbo",
//! "ratio": "1280:720", "duration": 5, "seed": 42}`. Every line is checked before anything is
//! recorded. Each line becomes a job in a SQLite file (default: next to the output directory),
//! keyed by its line number and content, so running the same command again continues where it
//! stopped and creates nothing twice. Ctrl-C stops cleanly (creates in flight are recorded first).
//! Videos are written as `line-0001.mp4`, … in the output directory.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use futures::StreamExt as _;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lowcodeapi_runwayml::{ImageToVideo, MediaUri, Model, PromptImage, Ratio};
use lowcodeapi_runwayml_jobs::{Destination, JobId, JobState, JobStatus, Jobs};
use serde::{Deserialize, Serialize};

use crate::{Backend, CommonArgs, SAMPLE_IMAGE, SAMPLE_PROMPT, SIM_TIME_SCALE, seconds};

#[derive(Args, Debug)]
pub(crate) struct BatchArgs {
    /// The requests: one JSON object per line with the `generate` flags as fields
    /// (image, prompt, model, ratio, duration, seed).
    #[arg(value_name = "REQUESTS.jsonl")]
    requests: PathBuf,
    /// Where the videos go [default: REQUESTS-videos next to the requests file].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The job store: sqlite://PATH or postgres://… [default: a SQLite file next to DIR].
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Jobs worked on at once by this process.
    #[arg(long, value_name = "N", default_value_t = 4)]
    workers: usize,
    /// The most tasks in flight at Runway (your tier's concurrency), shared by every process
    /// using the same store.
    #[arg(long, value_name = "N", default_value_t = 4)]
    max_in_flight: u32,
    /// How long a job stays with a process that stopped answering before another run takes it.
    #[arg(long, value_name = "SECS", value_parser = seconds, default_value = "15")]
    lease: Duration,
    /// Poll every SECS seconds instead of Runway's schedule.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    poll_interval: Option<Duration>,
    #[command(flatten)]
    pub(crate) common: CommonArgs,
}

/// One line of the requests file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    image: Option<String>,
    prompt: Option<String>,
    model: Option<String>,
    ratio: Option<String>,
    duration: Option<u32>,
    seed: Option<u64>,
}

impl Line {
    fn request(&self, base: &Path) -> Result<ImageToVideo, String> {
        let image = match &self.image {
            None => PromptImage::url(SAMPLE_IMAGE).map_err(|e| e.to_string())?,
            Some(uri) if uri.contains("://") || uri.starts_with("data:") => {
                PromptImage::url(uri).map_err(|e| e.to_string())?
            }
            Some(path) => {
                let path = base.join(path);
                PromptImage::uri(MediaUri::from_path(&path).map_err(|e| e.to_string())?)
            }
        };
        let mut request = ImageToVideo::new(
            Model::from(self.model.as_deref().unwrap_or("gen4_turbo")),
            image,
        )
        .prompt_text(self.prompt.as_deref().unwrap_or(SAMPLE_PROMPT))
        .ratio(Ratio::from(self.ratio.as_deref().unwrap_or("1280:720")))
        .duration(self.duration.unwrap_or(5));
        if let Some(seed) = self.seed {
            request = request.seed(seed);
        }
        request.validate().map_err(|e| e.to_string())?;
        Ok(request)
    }
}

/// One job's line in the summary.
#[derive(Debug, Serialize)]
struct Row {
    line: usize,
    job: i64,
    state: JobState,
    task_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    jobs: Vec<Row>,
    succeeded: usize,
    failed: usize,
    cancelled: usize,
    ambiguous: usize,
    unfinished: usize,
    interrupted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn usage(json: bool, message: String) -> ExitCode {
    finish(
        json,
        Summary {
            error: Some(message),
            ..Summary::default()
        },
        2,
    )
}

fn finish(json: bool, summary: Summary, code: u8) -> ExitCode {
    if json {
        match serde_json::to_string(&summary) {
            Ok(text) => println!("{text}"),
            Err(e) => println!(r#"{{"error":"cannot encode the summary: {e}"}}"#),
        }
    } else if !(summary.jobs.is_empty() && summary.error.is_some()) {
        print!("{}", table(&summary));
    }
    if let Some(error) = &summary.error {
        eprintln!("error: {error}");
    }
    ExitCode::from(code)
}

fn table(summary: &Summary) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    if !summary.jobs.is_empty() {
        let _ = writeln!(
            text,
            "{:>5}  {:<11}  {:<36}  result",
            "line", "state", "task"
        );
        for row in &summary.jobs {
            let result = match (&row.file, &row.failure_code, &row.error) {
                (Some(file), _, _) => file.display().to_string(),
                (None, Some(code), Some(e)) => format!("{code}: {e}"),
                (None, None, Some(e)) => e.clone(),
                _ => String::new(),
            };
            let _ = writeln!(
                text,
                "{:>5}  {:<11}  {:<36}  {}",
                row.line,
                row.state.as_str(),
                row.task_id.as_deref().unwrap_or("-"),
                crate::one_line(&result)
            );
        }
    }
    let mut codes: HashMap<&str, usize> = HashMap::new();
    for row in &summary.jobs {
        if row.state == JobState::Failed {
            *codes
                .entry(row.failure_code.as_deref().unwrap_or("no code"))
                .or_default() += 1;
        }
    }
    let mut codes: Vec<_> = codes.into_iter().collect();
    codes.sort();
    let codes: Vec<String> = codes.iter().map(|(c, n)| format!("{n}× {c}")).collect();
    let _ = writeln!(
        text,
        "{} succeeded, {} failed{}, {} ambiguous, {} cancelled, {} unfinished; {} files",
        summary.succeeded,
        summary.failed,
        if codes.is_empty() {
            String::new()
        } else {
            format!(" ({})", codes.join(", "))
        },
        summary.ambiguous,
        summary.cancelled,
        summary.unfinished,
        summary.jobs.iter().filter(|r| r.file.is_some()).count(),
    );
    if summary.ambiguous > 0 {
        let _ = writeln!(
            text,
            "ambiguous: the create may have reached Runway (and be billed) but its answer was lost; \
             nothing was sent again. Check your Runway dashboard before resubmitting."
        );
    }
    if summary.unfinished > 0 {
        let _ = writeln!(
            text,
            "run the same command again to continue: nothing is created twice"
        );
    }
    text
}

fn row(line: usize, status: &JobStatus) -> Row {
    let first = status.outputs.first();
    Row {
        line,
        job: status.id.get(),
        state: status.state,
        task_id: status.task_id.as_ref().map(|t| t.to_string()),
        file: first.map(|o| o.path.clone()),
        bytes: first.map(|o| o.bytes),
        sha256: first.map(|o| o.sha256.clone()),
        failure_code: status.failure_code.clone(),
        error: status.error.clone(),
    }
}

pub(crate) async fn run(args: BatchArgs) -> ExitCode {
    let json = args.common.json;
    let text = match std::fs::read_to_string(&args.requests) {
        Ok(text) => text,
        Err(e) => {
            return usage(
                json,
                format!("cannot read {}: {e}", args.requests.display()),
            );
        }
    };
    let base = args
        .requests
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    // Every line is checked before anything is recorded.
    let mut requests = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<Line>(raw)
            .map_err(|e| e.to_string())
            .and_then(|line| line.request(&base));
        match parsed {
            Ok(request) => requests.push((number, raw.trim().to_string(), request)),
            Err(e) => problems.push(format!("line {number}: {e}")),
        }
    }
    if !problems.is_empty() {
        return usage(
            json,
            format!("nothing was submitted: {}", problems.join("; ")),
        );
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .requests
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "batch".into());
        base.join(format!("{stem}-videos"))
    });
    let db = args.db.clone().unwrap_or_else(|| {
        let name = out
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "videos".into());
        let parent = out.parent().map(Path::to_path_buf).unwrap_or_default();
        format!(
            "sqlite://{}",
            parent.join(format!("{name}.jobs.db")).display()
        )
    });
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return usage(json, format!("cannot create {}: {e}", parent.display()));
    }

    let backend = match Backend::connect(&args.common, "batch", true).await {
        Ok(backend) => backend,
        Err(ending) => return ending.print(json),
    };
    let poll = match (args.poll_interval, &backend.sim) {
        (Some(every), _) => Some(every),
        (None, Some(_)) => Some(Duration::from_secs_f64(5.0 / SIM_TIME_SCALE)),
        (None, None) => None,
    };
    let mut builder = Jobs::builder(&db)
        .client(backend.client.clone())
        .max_in_flight(args.max_in_flight)
        .lease(args.lease)
        .idle_interval(Duration::from_millis(200))
        .events_interval(Duration::from_millis(100));
    if let Some(every) = poll {
        builder = builder.poll_interval(every);
    }
    let jobs = match builder.open().await {
        Ok(jobs) => jobs,
        Err(e) => return usage(json, e.to_string()),
    };

    // Keyed by line number and content: a re-run submits nothing twice; an edited line is a new job.
    let mut lines: HashMap<JobId, usize> = HashMap::new();
    let mut order = Vec::new();
    for (number, raw, request) in requests {
        let key = format!("line-{number}-{}", short_hash(&raw));
        let destination = Destination::file(out.join(format!("line-{number:04}.mp4")));
        match jobs.submit_with_key(&key, request, destination).await {
            Ok(id) => {
                lines.insert(id, number);
                order.push((number, id));
            }
            Err(e) => return usage(json, e.to_string()),
        }
    }

    let live = !json && std::io::stderr().is_terminal();
    let display = if live {
        Some(tokio::spawn(progress(jobs.clone(), lines.clone())))
    } else {
        None
    };
    let runner = jobs.clone();
    let mut run = tokio::spawn(async move { runner.run_until_settled(args.workers).await });
    let mut interrupted = false;
    let result = tokio::select! {
        r = &mut run => r,
        _ = tokio::signal::ctrl_c() => {
            interrupted = true;
            if !json {
                eprintln!("stopping: recording creates in flight; run the same command again to continue");
            }
            jobs.stop();
            run.await
        }
    };
    if let Some(display) = display {
        display.abort();
        let _ = display.await;
    }
    let failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(format!("the workers stopped: {e}")),
    };

    let mut summary = Summary {
        interrupted,
        error: failure,
        ..Summary::default()
    };
    for (number, id) in order {
        match jobs.status(id).await {
            Ok(status) => {
                match status.state {
                    JobState::Succeeded => summary.succeeded += 1,
                    JobState::Failed => summary.failed += 1,
                    JobState::Cancelled => summary.cancelled += 1,
                    JobState::Ambiguous => summary.ambiguous += 1,
                    _ => summary.unfinished += 1,
                }
                summary.jobs.push(row(number, &status));
            }
            Err(e) => {
                summary.error.get_or_insert(e.to_string());
            }
        }
    }
    jobs.close().await;
    drop(backend);
    let code = if interrupted {
        130
    } else if summary.error.is_some() || summary.failed + summary.ambiguous + summary.unfinished > 0
    {
        1
    } else {
        0
    };
    finish(json, summary, code)
}

fn short_hash(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The live display: one bar for the batch, one line per job being worked on.
async fn progress(jobs: Jobs, lines: HashMap<JobId, usize>) {
    /// Clears the display when the batch ends (this task is aborted then).
    struct Clear(MultiProgress);
    impl Drop for Clear {
        fn drop(&mut self) {
            let _ = self.0.clear();
        }
    }
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let _clear = Clear(multi.clone());
    let total = lines.len() as u64;
    let overall = multi.add(ProgressBar::new(total));
    overall.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} settled  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let spinner = ProgressStyle::with_template("  {spinner} line {prefix}: {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut states: HashMap<JobId, JobState> = HashMap::new();
    let mut bars: HashMap<JobId, ProgressBar> = HashMap::new();
    let mut after = None;
    loop {
        match jobs.list(None, after, 1000).await {
            Ok(page) if !page.is_empty() => {
                after = page.last().map(|s| s.id);
                for status in page {
                    if lines.contains_key(&status.id) {
                        states.insert(status.id, status.state);
                    }
                }
            }
            _ => break,
        }
    }
    let Ok(mut events) = jobs.events().await else {
        return;
    };
    loop {
        let settled = states.values().filter(|s| s.is_settled()).count() as u64;
        overall.set_position(settled);
        let count = |want: JobState| states.values().filter(|s| **s == want).count();
        overall.set_message(format!(
            "{} creating · {} waiting · {} downloading · {} failed · {} ambiguous",
            count(JobState::Creating),
            count(JobState::Waiting),
            count(JobState::Downloading),
            count(JobState::Failed),
            count(JobState::Ambiguous)
        ));
        let Some(Ok(event)) = events.next().await else {
            return;
        };
        let Some(line) = lines.get(&event.job) else {
            continue;
        };
        states.insert(event.job, event.state);
        if event.state.is_settled() || event.state == JobState::Queued {
            if let Some(bar) = bars.remove(&event.job) {
                bar.finish_and_clear();
                multi.remove(&bar);
            }
            if event.state.is_settled() && event.state != JobState::Succeeded {
                let _ = multi.println(format!("line {line}: {}", event.state));
            }
        } else {
            let bar = bars.entry(event.job).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(spinner.clone());
                bar.set_prefix(line.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            bar.set_message(event.state.to_string());
        }
    }
}
