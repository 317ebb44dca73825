//! `runway`: turn an image into a video with RunwayML, through LowCodeAPI.
//!
//! The showcase of the `lowcodeapi-runwayml` SDK: build and validate a request, create the task,
//! watch it with a progress bar, print the result; and look up, wait for or cancel a task by id.
//!
//! ```text
//! runway generate [--image URL|PATH] [--prompt TEXT] [--model M] [--ratio R] [--duration S] [--seed N]
//!                 [--no-wait] [--timeout SECS] [--poll-interval SECS] [--json] [--sim]
//!                 [--out PATH] [--overwrite] [--no-download]
//! runway task get ID [--json]
//! runway task wait ID [--timeout SECS] [--poll-interval SECS] [--json]
//! runway task download ID [--out PATH] [--overwrite] [--json]
//! runway task cancel ID [--json]
//! runway batch REQUESTS.jsonl [--out DIR] [--db URL] [--workers N] [--max-in-flight N] [--json]
//! (every command also takes --url-format auto|new|old)
//! ```
//!
//! Try it with no account at all (it runs against the built-in simulator):
//!
//! ```text
//! cargo run -p lowcodeapi-runwayml-cli -- generate
//! cargo run -p lowcodeapi-runwayml-cli -- generate --image crates/cli/assets/sample.png --json
//! ```
//!
//! # Defaults
//!
//! `generate` alone sends Runway's own sample (an https image of the Eiffel Tower and
//! "A timelapse on a sunny day with clouds flying by") to `gen4_turbo`, `1280:720`, 5 seconds;
//! with the built-in simulator it sends the bundled sample image instead (inline), so the video
//! it makes shows it.
//!
//! # Saving the video
//!
//! `generate` downloads the video when the task succeeds, into the current directory as
//! `<task-id>.mp4` (`--out DIR` or `--out FILE.mp4` elsewhere; an existing file is kept unless
//! `--overwrite`), with a progress bar on a terminal, and prints the file, its size, duration and
//! resolution. The download resumes after dropped connections and refreshes expired links.
//! `runway task download ID` does the same for a task created earlier.
//!
//! Output links are signed and expire; Runway asks integrators not to hand them out. So they are
//! not printed when the video is saved (`--json` has `files` instead of `output`); with
//! `--no-download` the links are printed whole (they are what was asked for), to be used
//! quickly and kept private; `task get` and `task wait` show the task as Runway returns it,
//! links included.
//! `--image` takes an `https://`, `runway://` or `data:image/…` URI, or a local file, which is
//! sent inline as a data URI (it must stay under Runway's 5 MB data URI limit).
//!
//! # Configuration
//!
//! - `LOWCODEAPI_API_TOKEN`: your LowCodeAPI token (`at_…`). Without it, or with `--sim`,
//!   `generate` starts the simulator in this process (an offline LowCodeAPI + Runway running 10×
//!   faster than real time) and says so in one line on stderr. `task get|wait|cancel` need the
//!   token: the built-in simulator's tasks live only as long as the `generate` that made them
//!   (with `--sim` they ask a fresh, empty simulator).
//! - `LOWCODEAPI_BASE_URL`: another base URL, e.g. a self-hosted LowCodeAPI, or a simulator
//!   running on its own (`cargo run -p lowcodeapi-runwayml-sim --features cli -- --port 8080`, then
//!   `LOWCODEAPI_BASE_URL=http://127.0.0.1:8080/runwayml LOWCODEAPI_API_TOKEN=at_sim_0123456789abcdef`).
//! - `LOWCODEAPI_URL_FORMAT` (or `--url-format`): `new`, `old` or `auto`. LowCodeAPI routes task
//!   URLs in a New (`/v1/tasks/{id}`) and an Old Format (`/v1/tasks/id?id=…`); its open-source
//!   server routes only the Old one. Without a setting, the first run against a base URL probes
//!   (New, then Old on a routing miss) and remembers what worked in
//!   `$XDG_CACHE_HOME/lowcodeapi-runwayml/url-formats.json` (or the platform's cache directory),
//!   so later runs send one request per call. The file holds only a hash of the base URL (with
//!   the token masked) and the format, never the token; a damaged file is ignored. `auto` probes
//!   afresh; a remembered format that meets a routing miss is forgotten.
//!
//! Waiting polls the way Runway asks (every 5 s or more; 0.5 s with the built-in simulator,
//! which runs 10× faster); `--poll-interval` sets a fixed interval instead, `--timeout` bounds the
//! wait (default 10 minutes; the task keeps running after a timeout).
//!
//! # Output
//!
//! Human-readable on stdout by default, with a progress bar on stderr while waiting when stderr
//! is a terminal. With `--json`, exactly one JSON object on stdout at the end, and no bar:
//! `task_id` and `status` (`null` when unknown: never a status nobody saw), and where they apply
//! `progress` (0..1), `output` (an array of URLs; not after a download), `files` (saved
//! videos: `path`, `bytes`, `sha256`, and from the MP4 header `duration` in seconds, `width`,
//! `height`), `failure`, `failure_code`, `cost` (credits),
//! `error` (a message), `may_have_created_task` (`true` when a create failed in a way that does
//! not say whether the task exists: it may be billed, do not resubmit blindly), and for a cancel
//! `cancel_outcome`, `was` (the status seen just before the DELETE), `cancelled` and `deleted`.
//!
//! # Cancel
//!
//! `task cancel` looks at the task first, because Runway's DELETE cancels a running task but
//! deletes a finished one, and afterwards both (and an id that never existed) answer 404:
//!
//! | `cancel_outcome` | meaning | exit |
//! |---|---|---|
//! | `cancelled` | it was pending, throttled or running; Runway accepted the cancel (`status: CANCELLED`) | 0 |
//! | `deleted` | it had finished, so Runway deleted it: its outputs are gone | 0 |
//! | `confirmed_after_timeout` | the DELETE got no answer; a check then found the task gone | 0 |
//! | `not_found` | Runway does not know the id; nothing was sent but the look | 1 |
//! | `unknown` | the DELETE was sent but not confirmed; it may still take effect: `runway task get ID` | 1 |
//!
//! Every error is one line on stderr, naming the task when there is one; the token is never
//! printed.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | the task SUCCEEDED, or the action was done (`--no-wait` create, `task get` of any status, a cancel) |
//! | 1    | an API or network error, a FAILED or CANCELLED task, a task that is gone or not found, an unconfirmed cancel, or a timeout |
//! | 2    | a usage, configuration or validation error: nothing was sent |
//! | 130  | interrupted (Ctrl-C) while waiting: the task keeps running; `runway task wait ID` resumes. During a cancel: the cancel may have been sent; `runway task get ID` shows where it stands |

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::Duration;

mod download;

use clap::{Args, Parser, Subcommand};
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lowcodeapi_runwayml::{
    BASE_URL_ENV, CancelOutcome, Client, DEFAULT_BASE_URL, Error, ImageToVideo, MediaUri, Model,
    PollSchedule, PromptImage, Ratio, TOKEN_ENV, Task, TaskId, TaskStatus,
};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator};
use serde::Serialize;

mod batch;
mod format_cache;

use format_cache::FormatChoice;

/// The sample image Runway's own getting-started guide uses.
const SAMPLE_IMAGE: &str = "https://upload.wikimedia.org/wikipedia/commons/8/85/Tour_Eiffel_Wikimedia_Commons_(cropped).jpg";
/// The sample prompt from the same guide.
const SAMPLE_PROMPT: &str = "A timelapse on a sunny day with clouds flying by";
/// Simulated seconds per real second in the built-in simulator.
const SIM_TIME_SCALE: f64 = 10.0;

/// Generate videos from images with RunwayML through LowCodeAPI.
///
/// Set LOWCODEAPI_API_TOKEN (and optionally LOWCODEAPI_BASE_URL); without a token, `generate`
/// runs against a built-in simulator. Exit codes: 0 done, 1 API error / failed, cancelled or
/// timed-out task, 2 usage or validation error (nothing sent), 130 interrupted while waiting.
#[derive(Parser, Debug)]
#[command(name = "runway", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create an image-to-video task and wait for the video.
    Generate(GenerateArgs),
    /// Look up, wait for or cancel a task by id.
    #[command(subcommand)]
    Task(TaskCommand),
    /// Generate many videos from a JSON Lines file, durably: Ctrl-C, then the same command again,
    /// continues without creating anything twice.
    Batch(batch::BatchArgs),
}

#[derive(Args, Debug)]
struct GenerateArgs {
    /// The first frame: an https://, runway:// or data:image/ URI, or a local image file
    /// [default: Runway's sample image].
    #[arg(long, value_name = "URL|PATH")]
    image: Option<String>,
    /// What should happen in the video [default: Runway's sample prompt].
    #[arg(long, value_name = "TEXT")]
    prompt: Option<String>,
    /// The model; names this SDK does not know are sent as they are.
    #[arg(long, value_name = "M", default_value = "gen4_turbo")]
    model: String,
    /// The output resolution, width:height.
    #[arg(long, value_name = "R", default_value = "1280:720")]
    ratio: String,
    /// The video's length in seconds.
    #[arg(long, value_name = "S", default_value_t = 5)]
    duration: u32,
    /// A seed (0..=4294967295) for a reproducible generation.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Print the new task's id and status, and do not wait for it.
    #[arg(long)]
    no_wait: bool,
    /// Print the output links instead of saving the video (they are signed and expire: keep
    /// them private).
    #[arg(long, conflicts_with_all = ["out", "overwrite"])]
    no_download: bool,
    #[command(flatten)]
    save: download::SaveArgs,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args, Debug)]
struct WaitArgs {
    /// Stop waiting after this many seconds (the task keeps running) [default: 600].
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    timeout: Option<Duration>,
    /// Poll every SECS seconds instead of Runway's schedule (every 5 s or more).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    poll_interval: Option<Duration>,
}

#[derive(Args, Debug)]
struct CommonArgs {
    /// Print exactly one JSON object on stdout, and no progress bar.
    #[arg(long)]
    json: bool,
    /// Use the built-in simulator even when LOWCODEAPI_API_TOKEN is set.
    #[arg(long)]
    sim: bool,
    /// LowCodeAPI's URL format: new, old (the only one LowCodeAPI's open-source server routes),
    /// or auto (probe, and remember what worked for this base URL) [default: what worked before,
    /// else auto; env: LOWCODEAPI_URL_FORMAT].
    #[arg(long, value_name = "FORMAT", value_enum)]
    url_format: Option<FormatChoice>,
}

#[derive(Subcommand, Debug)]
enum TaskCommand {
    /// Print a task's status (exit 0 whatever it is).
    Get {
        /// The task id.
        id: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Wait for a task to end.
    Wait {
        /// The task id.
        id: String,
        #[command(flatten)]
        wait: WaitArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Save a succeeded task's video (fresh links are fetched; the download resumes after drops).
    Download {
        /// The task id.
        id: String,
        #[command(flatten)]
        save: download::SaveArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Cancel a running task (or delete a finished one).
    Cancel {
        /// The task id.
        id: String,
        #[command(flatten)]
        common: CommonArgs,
    },
}

impl Command {
    fn common(&self) -> &CommonArgs {
        match self {
            Command::Generate(args) => &args.common,
            Command::Batch(args) => &args.common,
            Command::Task(
                TaskCommand::Get { common, .. }
                | TaskCommand::Wait { common, .. }
                | TaskCommand::Download { common, .. }
                | TaskCommand::Cancel { common, .. },
            ) => common,
        }
    }
}

/// Parses a positive number of seconds, fractions allowed.
fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("{text:?}: expected a positive number of seconds"));
    }
    Duration::try_from_secs_f64(value).map_err(|e| format!("{text:?}: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.common().json;
    let ending = match cli.command {
        Command::Generate(args) => generate(args).await,
        Command::Batch(args) => return batch::run(args).await,
        Command::Task(TaskCommand::Get { id, common }) => get(&id, &common).await,
        Command::Task(TaskCommand::Wait { id, wait, common }) => {
            wait_command(&id, &wait, &common).await
        }
        Command::Task(TaskCommand::Download { id, save, common }) => {
            download_command(&id, &save, &common).await
        }
        Command::Task(TaskCommand::Cancel { id, common }) => cancel(&id, &common).await,
    };
    ending.print(json)
}

// ---------------------------------------------------------------------------------------------
// What a command ends with

/// The exit codes, as documented at the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Done = 0,
    Failed = 1,
    Usage = 2,
    Interrupted = 130,
}

/// What is printed at the end: with `--json` exactly this object, else its fields as text.
#[derive(Debug, Default, Serialize)]
struct Report {
    task_id: Option<String>,
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<Vec<download::FileReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_outcome: Option<&'static str>,
    /// The status a cancel saw just before its DELETE.
    #[serde(skip_serializing_if = "Option::is_none")]
    was: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// A create failed in a way that does not say whether the task exists: do not resubmit.
    #[serde(skip_serializing_if = "Option::is_none")]
    may_have_created_task: Option<bool>,
    /// A last line for people: what happened, or what to do next (human output only).
    #[serde(skip)]
    hint: Option<String>,
}

impl Report {
    fn of_task(task: &Task) -> Report {
        Report {
            task_id: Some(task.id.to_string()),
            status: Some(task.status.to_string()),
            progress: task.progress,
            output: (task.status == TaskStatus::Succeeded).then(|| task.output.clone()),
            failure: task.failure.clone(),
            failure_code: task.failure_code.as_ref().map(|c| c.to_string()),
            cost: task.cost,
            ..Report::default()
        }
    }

    fn of_id(id: &TaskId) -> Report {
        Report {
            task_id: Some(id.to_string()),
            ..Report::default()
        }
    }

    /// The human-readable form: one `label: value` line per known field.
    fn human(&self) -> String {
        let mut text = String::new();
        let mut line = |label: &str, value: &str| {
            let _ = writeln!(text, "{label:<9} {value}");
        };
        if let Some(id) = &self.task_id {
            line("task:", id);
        }
        if let Some(status) = &self.status {
            line("status:", status);
        }
        if let Some(was) = &self.was {
            line("was:", was);
        }
        if let Some(progress) = self.progress {
            line("progress:", &format!("{:.0}%", progress * 100.0));
        }
        for (n, url) in self.output.iter().flatten().enumerate() {
            line(if n == 0 { "output:" } else { "" }, url);
        }
        for (n, file) in self.files.iter().flatten().enumerate() {
            line(if n == 0 { "saved:" } else { "" }, &file.human());
        }
        if let Some(failure) = &self.failure {
            line("failure:", failure);
        }
        if let Some(code) = &self.failure_code {
            line("code:", code);
        }
        if let Some(cost) = self.cost {
            line("cost:", &format!("{cost} credits"));
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(text, "{hint}");
        }
        text
    }
}

/// A command's result: the report and the exit code.
#[derive(Debug)]
struct Ending {
    report: Report,
    exit: Exit,
}

impl Ending {
    fn done(report: Report) -> Ending {
        Ending {
            report,
            exit: Exit::Done,
        }
    }

    /// Ends with `message` as the error, keeping what is known about the task.
    fn failed(mut report: Report, exit: Exit, message: impl Into<String>) -> Ending {
        report.error = Some(one_line(&message.into()));
        Ending { report, exit }
    }

    /// Ends with an SDK error: the exit code and message follow from it.
    fn error(error: &Error, report: Report) -> Ending {
        let mut report = report;
        if report.task_id.is_none() {
            report.task_id = error.task_id().map(ToString::to_string);
        }
        if error.may_have_created_task() {
            report.may_have_created_task = Some(true);
        }
        format_cache::note_error(error);
        Ending::failed(report, exit_code(error), describe(error))
    }

    /// Prints the report (stdout) and the error line (stderr), and returns the exit code.
    fn print(self, json: bool) -> ExitCode {
        if json {
            let object = serde_json::to_string(&self.report)
                .unwrap_or_else(|e| format!(r#"{{"error":"cannot encode the report: {e}"}}"#));
            println!("{object}");
        } else if self.report.status.is_some() || self.report.error.is_none() {
            print!("{}", self.report.human());
        }
        if let Some(error) = &self.report.error {
            eprintln!("error: {error}");
        }
        ExitCode::from(self.exit as u8)
    }
}

/// Validation, configuration and bad ids are caught before anything is sent: exit 2.
fn exit_code(error: &Error) -> Exit {
    match error {
        Error::Validation(_)
        | Error::Media(_)
        | Error::InvalidTaskId { .. }
        | Error::Config { .. } => Exit::Usage,
        _ => Exit::Failed,
    }
}

/// The error's message, naming its task when the message does not already.
fn describe(error: &Error) -> String {
    let mut message = error.to_string();
    if let Some(id) = error.task_id()
        && !message.contains(id.as_str())
    {
        let _ = write!(message, " (task {id})");
    }
    message
}

/// Folds a message onto one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------------------------
// Where requests go

/// The client, and the in-process simulator when requests go there (it stops when dropped).
struct Backend {
    client: Client,
    sim: Option<Simulator>,
    /// The URL format chosen for this run, and where to remember what it learned.
    format: Option<format_cache::Decision>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(note) = self
            .format
            .as_ref()
            .and_then(|decision| decision.finish(self.client.url_format()))
        {
            eprintln!("{note}");
        }
    }
}

/// Whether `generate` will run against the built-in simulator (`--sim`, or no token).
fn uses_builtin_simulator(common: &CommonArgs) -> bool {
    common.sim || !std::env::var(TOKEN_ENV).is_ok_and(|t| !t.trim().is_empty())
}

impl Backend {
    /// Connects as the environment says. `fallback`: without a token, start the simulator (for
    /// `generate`) instead of failing (for `task …`, whose ids a fresh simulator cannot know).
    async fn connect(common: &CommonArgs, command: &str, fallback: bool) -> Result<Self, Ending> {
        let has_token = std::env::var(TOKEN_ENV).is_ok_and(|t| !t.trim().is_empty());
        if common.sim || (!has_token && fallback) {
            let why = if common.sim {
                "--sim".to_owned()
            } else {
                format!("no {TOKEN_ENV}")
            };
            return Self::simulated(&why).await;
        }
        if !has_token {
            return Err(Ending::failed(
                Report::default(),
                Exit::Usage,
                format!(
                    "`runway {command}` needs {TOKEN_ENV} (and {BASE_URL_ENV} unless you use hosted \
                     LowCodeAPI): the built-in simulator's tasks live only as long as the \
                     `runway generate` that made them; add --sim to ask a fresh, empty simulator"
                ),
            ));
        }
        let token = std::env::var(TOKEN_ENV).unwrap_or_default();
        let base_url = std::env::var(BASE_URL_ENV)
            .ok()
            .filter(|b| !b.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let format = format_cache::decide(common.url_format, base_url.trim(), &token)
            .map_err(|message| Ending::failed(Report::default(), Exit::Usage, message))?;
        let client = Client::from_env_builder()
            .and_then(|builder| builder.url_format(format.format).build())
            .map_err(|e| Ending::error(&e, Report::default()))?;
        Ok(Backend {
            client,
            sim: None,
            format: Some(format),
        })
    }

    /// Starts the simulator in this process and says so in one line on stderr.
    async fn simulated(why: &str) -> Result<Self, Ending> {
        let sim = Simulator::builder()
            .time_scale(SIM_TIME_SCALE)
            .start()
            .await
            .map_err(|e| {
                Ending::failed(
                    Report::default(),
                    Exit::Failed,
                    format!("cannot start the built-in simulator: {e}"),
                )
            })?;
        let client = Client::builder()
            .api_token(DEFAULT_TOKEN)
            .base_url(sim.base_url())
            .build()
            .map_err(|e| Ending::error(&e, Report::default()))?;
        eprintln!(
            "{why}: using the built-in simulator at {} ({SIM_TIME_SCALE}× real time)",
            sim.base_url()
        );
        Ok(Backend {
            client,
            sim: Some(sim),
            format: None,
        })
    }

    /// How to poll: `--poll-interval` if given, else Runway's schedule (sped up like the
    /// simulator's clock when polling the built-in simulator).
    fn schedule(&self, poll_interval: Option<Duration>) -> PollSchedule {
        match (poll_interval, &self.sim) {
            (Some(interval), _) => PollSchedule::every(interval),
            (None, Some(_)) => PollSchedule::default().scaled(1.0 / SIM_TIME_SCALE),
            (None, None) => PollSchedule::default(),
        }
    }

    /// How to come back to a task this process stopped waiting for, when that is possible.
    fn resume(&self, id: &TaskId) -> String {
        if self.sim.is_some() {
            "it ran on the built-in simulator, which stops with this process".to_owned()
        } else {
            format!("resume with `runway task wait {id}`")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The commands

async fn generate(args: GenerateArgs) -> Ending {
    // Everything that can be checked locally is, before connecting: nothing is sent on error.
    let request = match build_request(&args) {
        Ok(request) => request,
        Err(error) => return Ending::error(&error, Report::default()),
    };
    let backend = match Backend::connect(&args.common, "generate", true).await {
        Ok(backend) => backend,
        Err(ending) => return ending,
    };
    let created = match backend.client.image_to_video(request).await {
        Ok(created) => created,
        Err(error) => return Ending::error(&error, Report::default()),
    };
    let id = created.id;
    if args.no_wait {
        return current_status(&backend, &id).await;
    }
    if !args.common.json {
        println!(
            "created task {id} ({}, {}, {} s)",
            args.model, args.ratio, args.duration
        );
    }
    let ending = wait_for(&backend, &id, &args.wait, args.common.json, true).await;
    if args.no_download || ending.exit != Exit::Done {
        return ending;
    }
    save(&backend, &id, &args.save, args.common.json, ending.report).await
}

/// Downloads the video of a succeeded task and reports the files instead of the links.
async fn save(
    backend: &Backend,
    id: &TaskId,
    args: &download::SaveArgs,
    json: bool,
    mut report: Report,
) -> Ending {
    report.output = None;
    match download::save(&backend.client, id, args, json).await {
        Ok(files) => {
            report.hint = download::open_hint(&files);
            report.files = Some(files);
            Ending::done(report)
        }
        Err(error) => {
            let mut ending = Ending::error(&error, report);
            if backend.sim.is_none() && !error.is_not_found() {
                let message = ending.report.error.take().unwrap_or_default();
                ending.report.error = Some(format!(
                    "{message}; try again with `runway task download {id}`"
                ));
            }
            ending
        }
    }
}

async fn download_command(id: &str, args: &download::SaveArgs, common: &CommonArgs) -> Ending {
    let id = match TaskId::parse(id) {
        Ok(id) => id,
        Err(error) => return Ending::error(&error, Report::default()),
    };
    let backend = match Backend::connect(common, "task download", false).await {
        Ok(backend) => backend,
        Err(ending) => return ending,
    };
    let report = Report {
        status: Some(TaskStatus::Succeeded.to_string()),
        ..Report::of_id(&id)
    };
    let ending = save(&backend, &id, args, common.json, report).await;
    if ending.exit == Exit::Done {
        ending
    } else {
        // Nothing is known about the status when the download failed.
        Ending {
            report: Report {
                status: None,
                ..ending.report
            },
            exit: ending.exit,
        }
    }
}

/// The request the arguments describe, validated against the model's rules.
fn build_request(args: &GenerateArgs) -> Result<ImageToVideo, Error> {
    let image = match &args.image {
        // The simulator makes its video from the image: send one it can read.
        None if uses_builtin_simulator(&args.common) => {
            PromptImage::uri(MediaUri::from_bytes(download::SAMPLE_PNG)?)
        }
        None => PromptImage::url(SAMPLE_IMAGE)?,
        Some(uri) if uri.contains("://") || uri.starts_with("data:") => PromptImage::url(uri)?,
        Some(path) => PromptImage::uri(MediaUri::from_path(path)?),
    };
    let mut request = ImageToVideo::new(Model::from(args.model.as_str()), image)
        .prompt_text(args.prompt.as_deref().unwrap_or(SAMPLE_PROMPT))
        .ratio(Ratio::from(args.ratio.as_str()))
        .duration(args.duration);
    if let Some(seed) = args.seed {
        request = request.seed(seed);
    }
    request.validate()?;
    Ok(request)
}

/// `--no-wait`: the task was created; report its status as one GET shows it.
async fn current_status(backend: &Backend, id: &TaskId) -> Ending {
    let mut report = match backend.client.get_task(id).await {
        Ok(task) => Report::of_task(&task),
        Err(error) => {
            // The create worked: that is what was asked. Say what is unknown, and carry on.
            eprintln!(
                "warning: created task {id}, but could not read its status: {}",
                one_line(&describe(&error))
            );
            Report::of_id(id)
        }
    };
    if backend.sim.is_none() {
        report.hint = Some(format!("wait for it with: runway task wait {id}"));
    }
    Ending::done(report)
}

async fn get(id: &str, common: &CommonArgs) -> Ending {
    let id = match TaskId::parse(id) {
        Ok(id) => id,
        Err(error) => return Ending::error(&error, Report::default()),
    };
    let backend = match Backend::connect(common, "task get", false).await {
        Ok(backend) => backend,
        Err(ending) => return ending,
    };
    match backend.client.get_task(&id).await {
        Ok(task) => Ending::done(Report::of_task(&task)),
        Err(error) => Ending::error(&error, Report::of_id(&id)),
    }
}

async fn wait_command(id: &str, wait: &WaitArgs, common: &CommonArgs) -> Ending {
    let id = match TaskId::parse(id) {
        Ok(id) => id,
        Err(error) => return Ending::error(&error, Report::default()),
    };
    let backend = match Backend::connect(common, "task wait", false).await {
        Ok(backend) => backend,
        Err(ending) => return ending,
    };
    wait_for(&backend, &id, wait, common.json, false).await
}

async fn cancel(id: &str, common: &CommonArgs) -> Ending {
    let id = match TaskId::parse(id) {
        Ok(id) => id,
        Err(error) => return Ending::error(&error, Report::default()),
    };
    let backend = match Backend::connect(common, "task cancel", false).await {
        Ok(backend) => backend,
        Err(ending) => return ending,
    };
    let check = format!("check with `runway task get {id}` (a 404 then means it is gone)");
    let outcome = tokio::select! {
        outcome = backend.client.cancel_task(&id) => outcome,
        _ = tokio::signal::ctrl_c() => {
            return Ending::failed(
                Report::of_id(&id),
                Exit::Interrupted,
                format!(
                    "interrupted: the cancel of task {id} may already have been sent and may \
                     still take effect; {check}"
                ),
            );
        }
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => return Ending::error(&error, Report::of_id(&id)),
    };
    cancel_ending(&id, &outcome, &check)
}

/// What a cancel's outcome is reported as. `status` is `CANCELLED` only when Runway accepted the
/// cancel of a task seen running; nothing claims a status nobody saw.
fn cancel_ending(id: &TaskId, outcome: &CancelOutcome, check: &str) -> Ending {
    let was = outcome.was().map(ToString::to_string);
    let finished = outcome.was().is_some_and(|w| w.is_terminal());
    let mut report = Report {
        cancel_outcome: Some(outcome.as_str()),
        was,
        ..Report::of_id(id)
    };
    match outcome {
        CancelOutcome::Cancelled { .. } => {
            report.status = Some(TaskStatus::Cancelled.to_string());
            report.cancelled = Some(true);
            report.deleted = Some(false);
        }
        CancelOutcome::Deleted { .. } => {
            report.cancelled = Some(false);
            report.deleted = Some(true);
        }
        CancelOutcome::ConfirmedAfterTimeout { .. } => {
            report.cancelled = Some(!finished);
            report.deleted = Some(finished);
        }
        CancelOutcome::NotFound => {
            report.cancelled = Some(false);
            report.deleted = Some(false);
            return Ending::failed(
                report,
                Exit::Failed,
                format!(
                    "task {id} not found: Runway does not know it (a mistyped id, another key, or \
                     already cancelled or deleted); nothing was cancelled"
                ),
            );
        }
        CancelOutcome::Unknown { reason, .. } => {
            return Ending::failed(
                report,
                Exit::Failed,
                format!(
                    "the cancel of task {id} was sent but not confirmed and may still take \
                     effect; {check} ({reason})"
                ),
            );
        }
        _ => {
            return Ending::failed(
                report,
                Exit::Failed,
                format!("cancel of task {id}: {outcome}; {check}"),
            );
        }
    }
    report.hint = Some(outcome.to_string());
    Ending::done(report)
}

// ---------------------------------------------------------------------------------------------
// Waiting

/// Watches the task until it ends, with a progress bar unless `json` or stderr is not a terminal;
/// Ctrl-C stops waiting (the task keeps running). A task `just_created` is first looked at after
/// the schedule's initial delay; any other (`task wait ID`, resuming) at once.
async fn wait_for(
    backend: &Backend,
    id: &TaskId,
    args: &WaitArgs,
    json: bool,
    just_created: bool,
) -> Ending {
    let mut watch = backend
        .client
        .watch(id)
        .schedule(backend.schedule(args.poll_interval))
        .poll_immediately(!just_created);
    if let Some(timeout) = args.timeout {
        watch = watch.timeout(timeout);
    }
    let bar = Progress::new(!json && std::io::stderr().is_terminal());
    let mut last: Option<Task> = None;
    let ended = {
        let watching = async {
            while let Some(step) = watch.next().await {
                let task = step?;
                bar.update(&task);
                last = Some(task);
            }
            Ok::<(), Error>(())
        };
        tokio::select! {
            result = watching => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        }
    };
    bar.clear();
    match ended {
        None => interrupted(backend, id, last.as_ref()),
        Some(Err(error)) => {
            // The freshest snapshot: a timeout carries the last one it saw.
            let snapshot = match &error {
                Error::WaitTimeout {
                    last: Some(task), ..
                } => Some(task.as_ref()),
                _ => last.as_ref(),
            };
            let report = snapshot.map_or_else(|| Report::of_id(id), Report::of_task);
            let mut ending = Ending::error(&error, report);
            if error.is_timeout() {
                // The SDK's generic "wait again with its id" becomes the command that does it.
                let message = ending.report.error.take().unwrap_or_default();
                let known = message
                    .strip_suffix("; wait again with its id")
                    .unwrap_or(&message);
                ending.report.error = Some(format!("{known}; {}", backend.resume(id)));
            }
            ending
        }
        Some(Ok(())) => match last {
            Some(task) => finished(task),
            None => Ending::failed(
                Report::of_id(id),
                Exit::Failed,
                format!("the wait for task {id} ended without a final status"),
            ),
        },
    }
}

/// The end of a wait: exit 0 for SUCCEEDED, 1 with the SDK's message for FAILED or CANCELLED.
fn finished(task: Task) -> Ending {
    let report = Report::of_task(&task);
    match task.status {
        TaskStatus::Succeeded => Ending::done(report),
        TaskStatus::Failed => Ending::error(&Error::TaskFailed(Box::new(task)), report),
        TaskStatus::Cancelled => Ending::error(&Error::TaskCancelled(Box::new(task)), report),
        _ => Ending::failed(
            report,
            Exit::Failed,
            format!("task {} stopped in status {}", task.id, task.status),
        ),
    }
}

/// Ctrl-C while waiting: say which task and how to come back to it; exit 130.
fn interrupted(backend: &Backend, id: &TaskId, last: Option<&Task>) -> Ending {
    let status = last.map_or("unknown", |t| t.status.as_str());
    let report = last.map_or_else(|| Report::of_id(id), Report::of_task);
    let next = match backend.sim {
        Some(_) => backend.resume(id),
        None => format!("it keeps running: {}", backend.resume(id)),
    };
    Ending::failed(
        report,
        Exit::Interrupted,
        format!("interrupted: stopped waiting for task {id} (last status: {status}); {next}"),
    )
}

/// The progress bar on stderr, or nothing.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(enabled: bool) -> Progress {
        if !enabled {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(100), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg:<9} [{bar:30}] {pos:>3}%  {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message("waiting");
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn update(&self, task: &Task) {
        let Some(bar) = &self.0 else { return };
        bar.set_message(task.status.to_string());
        if task.status == TaskStatus::Succeeded {
            bar.set_position(100);
        } else if let Some(progress) = task.progress {
            bar.set_position((progress.clamp(0.0, 1.0) * 100.0).round() as u64);
        }
    }

    fn clear(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
