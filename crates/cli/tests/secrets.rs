//! The API token never shows in what the `runway` CLI prints, on any of its error paths: every
//! run against a simulator (both dialects, faults, bad tokens, odd ids, a base URL carrying the
//! token) is captured with `RUST_LOG=trace`, and each token is distinctive, so a hit anywhere is a
//! leak.

use std::process::{Command, Stdio};
use std::time::Duration;

use lowcodeapi_runwayml::{
    Client, ClientBuilder, ImageToVideo, Model, PromptImage, Ratio, RetryPolicy,
};
use lowcodeapi_runwayml_sim::{Dialect, Fault, Route, Simulator};

/// The token the simulator accepts.
const TOKEN: &str = "at_secrets_Z9q8W7e6R5t4";
/// Without `at_`: the proxy answers 401 and echoes the query (this token) back in the body.
const MALFORMED_TOKEN: &str = "malformed_Y6u5I4o3P2a1";
/// An `at_` token the proxy does not know: 403.
const UNKNOWN_TOKEN: &str = "at_unknown_A1s2D3f4G5h6";
/// A token the proxy knows, without a Runway credential: 403.
const NO_CREDENTIAL_TOKEN: &str = "at_nocred_H6j7K8l9M0n1";
/// What may never be seen: each token, and its distinctive middle alone.
const SECRETS: [&str; 8] = [
    TOKEN,
    "Z9q8W7e6R5t4",
    MALFORMED_TOKEN,
    "Y6u5I4o3P2a1",
    UNKNOWN_TOKEN,
    "A1s2D3f4G5h6",
    NO_CREDENTIAL_TOKEN,
    "H6j7K8l9M0n1",
];

fn leaks(text: &str) -> Vec<&'static str> {
    SECRETS.into_iter().filter(|s| text.contains(s)).collect()
}

fn builder(base_url: &str, token: &str) -> ClientBuilder {
    Client::builder()
        .api_token(token)
        .base_url(base_url)
        .request_timeout(Duration::from_millis(300))
        .cancel_timeout(Duration::from_millis(300))
        .retry_policy(
            RetryPolicy::default()
                .max_retries(1)
                .initial_backoff(Duration::from_millis(2))
                .max_backoff(Duration::from_millis(5))
                .max_retry_after(Duration::from_millis(50)),
        )
}

fn request() -> ImageToVideo {
    ImageToVideo::new(
        Model::Gen4Turbo,
        PromptImage::url("https://example.com/a.jpg").unwrap(),
    )
    .ratio(Ratio::W1280H720)
    .duration(5)
}

// ---------------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------------

/// The `runway` binary cargo built for this test.
fn runway_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_runway"))
}

/// A fault to queue (if any), the token to use, the arguments.
type Scenario<'a> = (Option<(Route, Fault)>, &'a str, Vec<&'a str>);

struct Run {
    args: String,
    code: Option<i32>,
    output: String,
}

/// Where the CLI's URL-format cache goes in this test.
fn cache_home() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("runway-secrets-cache-{}", std::process::id()))
}

async fn cli(binary: &std::path::Path, base_url: &str, token: &str, args: &[&str]) -> Run {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env("LOWCODEAPI_API_TOKEN", token)
        .env("LOWCODEAPI_BASE_URL", base_url)
        .env("RUST_LOG", "trace")
        .env("XDG_CACHE_HOME", cache_home())
        .env_remove("LOWCODEAPI_URL_FORMAT")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let args = args.join(" ");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the CLI runs");
    Run {
        args,
        code: output.status.code(),
        output: format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cli_path_shows_the_token() {
    let binary = runway_binary();
    let mut runs = Vec::new();
    for dialect in [Dialect::Hosted, Dialect::SelfHosted] {
        let sim = Simulator::builder()
            .dialect(dialect)
            .token(TOKEN)
            .unauthorized_token(NO_CREDENTIAL_TOKEN)
            .manual_clock()
            .start()
            .await
            .unwrap();
        let base = sim.base_url().to_owned();
        let client = builder(&base, TOKEN).build().unwrap();
        let task = client.image_to_video(request()).await.unwrap();
        let id = task.id.as_str().to_owned();
        let unknown = "00000000-0000-4000-8000-000000000000";
        let scenarios: Vec<Scenario<'_>> = vec![
            (None, TOKEN, vec!["generate", "--no-wait"]),
            (
                Some((Route::CreateTask, Fault::Status(500))),
                TOKEN,
                vec!["generate", "--no-wait"],
            ),
            (
                Some((Route::CreateTask, Fault::DropAfterProcessing)),
                TOKEN,
                vec!["generate", "--no-wait"],
            ),
            (
                Some((Route::CreateTask, Fault::MalformedJson)),
                TOKEN,
                vec!["generate", "--no-wait"],
            ),
            (
                Some((
                    Route::CreateTask,
                    Fault::RateLimited {
                        retry_after: Duration::from_secs(3600),
                    },
                )),
                TOKEN,
                vec!["generate", "--no-wait"],
            ),
            (None, TOKEN, vec!["task", "get", unknown]),
            (None, TOKEN, vec!["task", "get", "../not an id"]),
            (
                Some((Route::GetTask, Fault::Status(500))),
                TOKEN,
                vec!["task", "get", &id],
            ),
            (
                Some((Route::GetTask, Fault::MalformedJson)),
                TOKEN,
                vec!["task", "get", &id],
            ),
            (
                None,
                TOKEN,
                vec![
                    "task",
                    "wait",
                    &id,
                    "--timeout",
                    "0.5",
                    "--poll-interval",
                    "0.1",
                ],
            ),
            (
                Some((Route::DeleteTask, Fault::Status(500))),
                TOKEN,
                vec!["task", "cancel", &id],
            ),
            (None, MALFORMED_TOKEN, vec!["task", "get", &id]),
            (None, UNKNOWN_TOKEN, vec!["task", "get", &id]),
            (None, NO_CREDENTIAL_TOKEN, vec!["generate", "--no-wait"]),
            (None, TOKEN, vec!["task", "cancel", &id]),
        ];
        for (fault, token, args) in scenarios {
            for json in [false, true] {
                if let Some((route, fault)) = &fault {
                    sim.fault(*route, fault.clone());
                }
                let mut args = args.clone();
                if json {
                    args.push("--json");
                }
                let mut run = cli(&binary, &base, token, &args).await;
                run.args = format!("[{dialect}] {}", run.args);
                runs.push(run);
                sim.clear_faults();
            }
        }
        // A base URL that carries the token, and one where nothing listens.
        let with_token = format!("{base}?api_token={TOKEN}");
        runs.push(cli(&binary, &with_token, TOKEN, &["task", "get", &id]).await);
        runs.push(
            cli(
                &binary,
                &format!("ftp://127.0.0.1/runwayml?api_token={TOKEN}"),
                TOKEN,
                &["task", "get", &id],
            )
            .await,
        );
        sim.shutdown().await;
    }
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    runs.push(
        cli(
            &binary,
            &format!("http://127.0.0.1:{port}/runwayml"),
            TOKEN,
            &["task", "get", "t-1", "--json"],
        )
        .await,
    );

    let mut dirty = Vec::new();
    for run in &runs {
        if !leaks(&run.output).is_empty() {
            dirty.push(format!(
                "runway {} (exit {:?}): {:?}\n{}",
                run.args,
                run.code,
                leaks(&run.output),
                run.output
            ));
        }
    }
    // The URL-format cache the runs wrote holds no token either.
    let cache = cache_home().join("lowcodeapi-runwayml/url-formats.json");
    let cached = std::fs::read_to_string(&cache).expect("the runs remembered a URL format");
    if !leaks(&cached).is_empty() {
        dirty.push(format!("the URL-format cache: {cached}"));
    }
    let _ = std::fs::remove_dir_all(cache_home());
    let failures = runs.iter().filter(|r| r.code != Some(0)).count();
    println!(
        "{} CLI runs checked ({failures} ending in an error)",
        runs.len()
    );
    assert!(failures > 20, "the error paths did not run");
    assert!(
        dirty.is_empty(),
        "the CLI shows a token:\n{}",
        dirty.join("\n")
    );
}
