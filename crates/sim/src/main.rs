//! `lowcodeapi-runwayml-sim`: runs the simulator until Ctrl-C.
//!
//! ```text
//! cargo run -p lowcodeapi-runwayml-sim --features cli -- --port 8080 --dialect self-hosted --url-formats old --time-scale 10
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Dialect, Simulator, Timeline, UrlFormats};

/// An offline LowCodeAPI + RunwayML simulator, on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// hosted or self-hosted.
    #[arg(long, default_value = "hosted")]
    dialect: Dialect,
    /// new, old or both (default: both for hosted, old for self-hosted).
    #[arg(long)]
    url_formats: Option<UrlFormats>,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Another accepted token (repeatable); the default token is always accepted.
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// A token known to the proxy but without a Runway credential (repeatable).
    #[arg(long = "unauthorized-token")]
    unauthorized_tokens: Vec<String>,
    /// Simulated seconds a task stays PENDING.
    #[arg(long, default_value_t = 2.0)]
    pending_secs: f64,
    /// Simulated seconds a task stays THROTTLED.
    #[arg(long, default_value_t = 0.0)]
    throttled_secs: f64,
    /// Simulated seconds a task stays RUNNING.
    #[arg(long, default_value_t = 20.0)]
    running_secs: f64,
    /// Seed for task ids (and the key that signs output links).
    #[arg(long)]
    seed: Option<u64>,
    /// Port of the storage host serving task outputs, on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    storage_port: u16,
    /// Hours of simulated time an output link stays valid.
    #[arg(long, default_value_t = 24.0)]
    output_link_ttl_hours: f64,
    /// Frames per second of output videos.
    #[arg(long, default_value_t = 24)]
    output_fps: u32,
    /// Serve every output as this many bytes of filler instead of a video (for download
    /// benchmarks).
    #[arg(long)]
    synthetic_output_len: Option<u64>,
    /// Play a LowCodeAPI that does not send Runway the X-Runway-Version header (as the
    /// open-source server does): every call that reaches Runway gets Runway's 400.
    #[arg(long)]
    no_runway_version: bool,
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::ZERO)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = Simulator::builder()
        .dialect(args.dialect)
        .port(args.port)
        .time_scale(args.time_scale)
        .storage_port(args.storage_port)
        .output_link_ttl(secs(args.output_link_ttl_hours * 3600.0))
        .output_fps(args.output_fps)
        .forward_runway_version(!args.no_runway_version)
        .task_timeline(Timeline {
            pending: secs(args.pending_secs),
            throttled: secs(args.throttled_secs),
            running: secs(args.running_secs),
        });
    if let Some(formats) = args.url_formats {
        builder = builder.url_formats(formats);
    }
    for t in args.tokens {
        builder = builder.token(t);
    }
    for t in args.unauthorized_tokens {
        builder = builder.unauthorized_token(t);
    }
    if let Some(len) = args.synthetic_output_len {
        builder = builder.synthetic_output_len(len);
    }
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    let sim = match builder.start().await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("lowcodeapi-runwayml-sim: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "lowcodeapi-runwayml-sim: {} dialect, URL formats: {}, time scale {}, seed {}",
        sim.dialect(),
        sim.url_formats(),
        args.time_scale,
        sim.seed()
    );
    println!("base URL: {}", sim.base_url());
    println!("token:    {DEFAULT_TOKEN}");
    println!(
        "storage:  {} (output videos of SUCCEEDED tasks)",
        sim.storage_url()
    );
    println!(
        "try:      curl -s -X POST '{}/v1/image_to_video?api_token={DEFAULT_TOKEN}' -H 'content-type: application/json' -d '{{\"model\":\"gen4_turbo\",\"promptImage\":\"https://example.com/a.jpg\",\"ratio\":\"1280:720\"}}'",
        sim.base_url()
    );
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("lowcodeapi-runwayml-sim: cannot listen for Ctrl-C; stopping");
    }
    sim.shutdown().await;
    ExitCode::SUCCESS
}
