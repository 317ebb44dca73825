//! `cargo xtask <command>`: see `cargo xtask --help`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use xtask::{check, fetch, paths, prepare};

#[derive(Parser)]
#[command(
    name = "xtask",
    about = "Spec pipeline for the lowcodeapi-runwayml SDK",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch LowCodeAPI's OpenAPI document and pin it in spec/upstream/ (or compare with --check).
    FetchSpec {
        /// LowCodeAPI's document server.
        #[arg(long, default_value = fetch::DEFAULT_BASE)]
        base: String,
        /// The provider whose document to fetch.
        #[arg(long, default_value = fetch::DEFAULT_PROVIDER)]
        provider: String,
        /// Pin from a local file instead of the network.
        #[arg(long, value_name = "FILE")]
        from: Option<PathBuf>,
        /// Compare with the pin and report drift; write nothing. Exit 0 when equal, 1 when not.
        #[arg(long)]
        check: bool,
        /// Give up on a request after this many seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// A note recorded in the provenance file (e.g. where a --from file came from).
        #[arg(long)]
        note: Option<String>,
    },
    /// Turn the pin plus spec/overlay.yaml into spec/openapi.json.
    Prepare,
    /// Prove the committed spec files agree: provenance hash, prepared document, and the
    /// simulator's copy of the pin.
    Check,
    /// Run every benchmark of BENCHMARKS.md, print the summary, rewrite its figures section.
    Bench(xtask::bench::BenchArgs),
    /// Package the published crates and build and test them as a user gets them (publishes nothing).
    PackageCheck(xtask::package::PackageArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match paths::workspace_root() {
        Ok((root, how)) => {
            eprintln!("workspace: {} ({how})", root.display());
            root
        }
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::FetchSpec {
            base,
            provider,
            from,
            check,
            timeout,
            note,
        } => {
            let options = fetch::FetchOptions {
                base,
                provider,
                from,
                timeout: Duration::from_secs(timeout),
                note,
            };
            fetch::run(&root, &options, check)
        }
        Command::Prepare => prepare::run(&root),
        Command::Check => check::run(&root),
        Command::Bench(args) => xtask::bench::run(&root, &args),
        Command::PackageCheck(args) => xtask::package::run(&root, &args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
