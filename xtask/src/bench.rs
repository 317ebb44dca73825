//! `cargo xtask bench`: every benchmark of BENCHMARKS.md, one command.
//!
//! 1. Makes sure Runway's Python SDK is available for the comparison (a venv under
//!    `target/bench-venv`, `pip install runwayml==`[`PYTHON_SDK_VERSION`]); without it that
//!    figure is skipped and says why.
//! 2. Runs the harness-less bench binaries (`benches/overhead.rs`, `benches/wait_scale.rs`,
//!    `benches/vs_python.rs`) with `cargo bench`; each writes a JSON file.
//! 3. Measures the build cost itself (see [`build_cost`]).
//! 4. Prints a summary table, writes it to `target/bench-results/summary.md`, and (full runs
//!    only) rewrites the figures section of `BENCHMARKS.md`, between [`BEGIN`] and [`END`].
//!
//! `--quick` is a smoke run: fewer rounds, 200 tasks, one build repetition; BENCHMARKS.md is left
//! alone.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// The Python SDK version compared against (pinned so runs compare like with like).
pub const PYTHON_SDK_VERSION: &str = "5.24.0";
/// Marks the start of the generated figures in BENCHMARKS.md.
pub const BEGIN: &str = "<!-- figures:begin (written by `cargo xtask bench`) -->";
/// Marks the end of the generated figures in BENCHMARKS.md.
pub const END: &str = "<!-- figures:end -->";

/// The SDK package, as named in its manifest.
const PACKAGE: &str = "lowcodeapi-runwayml";

/// What `cargo xtask bench` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// A short smoke run; prints the figures but leaves BENCHMARKS.md alone.
    #[arg(long)]
    pub quick: bool,
    /// Do not rewrite the figures section of BENCHMARKS.md.
    #[arg(long)]
    pub no_write: bool,
    /// Run only these parts (comma-separated); implies --no-write.
    #[arg(long, value_delimiter = ',', value_enum)]
    pub only: Vec<Part>,
    /// Repetitions of each build measurement (default 3; 1 with --quick).
    #[arg(long)]
    pub build_reps: Option<usize>,
}

/// A part of the benchmark suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Figures 1 and 2: per-call overhead, format fallback.
    Overhead,
    /// Figure 3: waiting on many tasks.
    Wait,
    /// Figure 5: against Runway's Python SDK.
    Python,
    /// Figure 4: build cost.
    Build,
}

impl BenchArgs {
    fn runs(&self, part: Part) -> bool {
        self.only.is_empty() || self.only.contains(&part)
    }
}

/// Runs the suite under `root` (the workspace root).
pub fn run(root: &Path, args: &BenchArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let results = root.join("target/bench-results");
    fs::create_dir_all(&results).with_context(|| format!("create {}", results.display()))?;
    for name in ["overhead", "wait_scale", "vs_python", "build"] {
        let _ = fs::remove_file(results.join(format!("{name}.json")));
    }
    let load_before = load_average();

    let mut benches = Vec::new();
    if args.runs(Part::Overhead) {
        benches.push("overhead");
    }
    if args.runs(Part::Wait) {
        benches.push("wait_scale");
    }
    let mut python = None;
    if args.runs(Part::Python) {
        match ensure_python(root) {
            Ok(path) => python = Some(path),
            Err(reason) => {
                println!("bench: skipping the Python comparison: {reason}");
                write_json(&results.join("vs_python.json"), &json!({"skipped": reason}))?;
            }
        }
        if python.is_some() {
            benches.push("vs_python");
        }
    }
    if !benches.is_empty() {
        let mut command = Command::new(cargo());
        command.current_dir(root).args(["bench", "-p", PACKAGE]);
        for bench in &benches {
            command.args(["--bench", bench]);
        }
        command.env("BENCH_RESULTS_DIR", &results);
        if args.quick {
            command.env("BENCH_QUICK", "1");
        }
        if let Some(python) = &python {
            command.env("RUNWAYML_PYTHON", python);
        }
        println!("bench: running {}", benches.join(", "));
        let status = command.status().context("run cargo bench")?;
        if !status.success() {
            bail!("cargo bench failed ({status})");
        }
    }
    if args.runs(Part::Build) {
        let reps = args.build_reps.unwrap_or(if args.quick { 1 } else { 3 });
        let build = build_cost(root, reps.max(1))?;
        write_json(&results.join("build.json"), &build)?;
    }
    let load_after = load_average();

    let context = RunContext {
        date: chrono::Local::now().format("%Y-%m-%d").to_string(),
        quick: args.quick,
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        rustc: command_line("rustc", &["--version"]).unwrap_or_else(|| "rustc ?".into()),
        load: format!("{load_before} before, {load_after} after"),
        duration: started.elapsed(),
    };
    let figures = render(&results, &context)?;
    println!("\n{figures}");
    fs::write(results.join("summary.md"), &figures)?;
    if args.quick || args.no_write || !args.only.is_empty() {
        println!(
            "bench: summary in {}; BENCHMARKS.md left alone",
            results.join("summary.md").display()
        );
    } else {
        rewrite_figures(&root.join("BENCHMARKS.md"), &figures)?;
        println!("bench: figures section of BENCHMARKS.md rewritten");
    }
    Ok(ExitCode::SUCCESS)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    fs::write(path, serde_json::to_string_pretty(value)?)
        .with_context(|| format!("write {}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The Python SDK
// ---------------------------------------------------------------------------------------------

/// A Python with `runwayml==PYTHON_SDK_VERSION`, in `target/bench-venv` (created on first use).
fn ensure_python(root: &Path) -> std::result::Result<PathBuf, String> {
    let venv = root.join("target/bench-venv");
    let python = venv.join("bin/python");
    let probe = "import runwayml; print(runwayml.__version__)";
    let installed = || command_line(python.to_str().unwrap_or_default(), &["-c", probe]);
    if installed().as_deref() == Some(PYTHON_SDK_VERSION) {
        return Ok(python);
    }
    if !python.exists() {
        println!("bench: creating {}", venv.display());
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|e| format!("cannot run python3: {e}"))?;
        if !status.success() {
            return Err(format!("python3 -m venv failed ({status})"));
        }
    }
    println!("bench: pip install runwayml=={PYTHON_SDK_VERSION}");
    let status = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet"])
        .arg(format!("runwayml=={PYTHON_SDK_VERSION}"))
        .status()
        .map_err(|e| format!("cannot run pip: {e}"))?;
    if !status.success() {
        return Err(format!(
            "pip install runwayml=={PYTHON_SDK_VERSION} failed ({status})"
        ));
    }
    match installed() {
        Some(version) if version == PYTHON_SDK_VERSION => Ok(python),
        other => Err(format!("runwayml not importable after install ({other:?})")),
    }
}

// ---------------------------------------------------------------------------------------------
// Build cost
// ---------------------------------------------------------------------------------------------

/// Figure 4: what generating the client in `build.rs` costs a build of the SDK crate.
///
/// Two copies of the crate under `target/bench-build/`: `as-is` (build.rs runs progenitor) and
/// `pregenerated` (no build.rs, no build-dependencies, `src/generated.rs` includes a copy of the
/// code `as-is` generated). Both share one target directory, so dependencies are compiled once
/// (minutes, the first time only) and every timed build compiles the SDK crate alone:
///
/// - clean build: `cargo clean -p lowcodeapi-runwayml`, then `cargo build` — for `as-is` this
///   compiles and runs the build script too; the variants alternate, `reps` times;
/// - edit of a hand-written file: `touch src/client.rs`, then `cargo build -v`, whose output
///   says whether the build script ran again (it must not);
/// - control: `touch spec/openapi.json` in `as-is` must rerun it.
///
/// Cold caches are not timed: compiling the build-dependencies themselves (progenitor, syn, …)
/// is a one-time cost per machine, counted here as the number of extra crates `as-is` builds.
pub fn build_cost(root: &Path, reps: usize) -> Result<Value> {
    let work = root.join("target/bench-build");
    let target = work.join("target");
    let as_is = work.join("as-is");
    let pregenerated = work.join("pregenerated");
    for dir in [&as_is, &pregenerated] {
        if dir.exists() {
            fs::remove_dir_all(dir).with_context(|| format!("remove {}", dir.display()))?;
        }
    }
    copy_crate(root, &as_is, false)?;
    println!("bench: build cost: warming the dependency cache (slow the first time only)");
    let warm = cargo_build(&as_is, &target, false)?;
    let out_dir = newest_out_dir(&target)?;
    copy_crate(root, &pregenerated, true)?;
    for file in ["codegen.rs", "codegen_httpmock.rs"] {
        fs::copy(out_dir.join(file), pregenerated.join("src").join(file))
            .with_context(|| format!("copy the generated {file}"))?;
    }
    cargo_build(&pregenerated, &target, false)?;
    let build_only_crates = build_only_crates(&as_is, &pregenerated, &target);

    let mut clean = [Vec::new(), Vec::new()];
    let mut touch = [Vec::new(), Vec::new()];
    let mut reran_after_touch = [false, false];
    for rep in 0..reps {
        let order: [usize; 2] = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
        for variant in order {
            let dir = if variant == 0 { &as_is } else { &pregenerated };
            cargo_clean(dir, &target)?;
            let built = cargo_build(dir, &target, false)?;
            clean[variant].push(built.seconds);
            touch_file(&dir.join("src/client.rs"))?;
            let rebuilt = cargo_build(dir, &target, true)?;
            touch[variant].push(rebuilt.seconds);
            reran_after_touch[variant] |= rebuilt.build_script_ran;
            println!(
                "bench: build cost rep {}: {:<12} clean {:>6.1} s, after touching src/client.rs \
                 {:>5.1} s (build script ran: {})",
                rep + 1,
                if variant == 0 {
                    "as-is"
                } else {
                    "pregenerated"
                },
                built.seconds,
                rebuilt.seconds,
                rebuilt.build_script_ran
            );
        }
    }
    touch_file(&as_is.join("spec/openapi.json"))?;
    let control = cargo_build(&as_is, &target, true)?;

    let ratios: Vec<f64> = clean[0].iter().zip(&clean[1]).map(|(a, p)| a / p).collect();
    let touch_ratios: Vec<f64> = touch[0].iter().zip(&touch[1]).map(|(a, p)| a / p).collect();
    Ok(json!({
        "reps": reps,
        "clean_s": {"as_is": summary(&clean[0]), "pregenerated": summary(&clean[1])},
        "clean_ratio": summary(&ratios),
        "touch_s": {"as_is": summary(&touch[0]), "pregenerated": summary(&touch[1])},
        "touch_ratio": summary(&touch_ratios),
        "build_script_reran_after_touching_client_rs": reran_after_touch[0],
        "control_build_script_reran_after_touching_spec": control.build_script_ran,
        "warm_up_s": warm.seconds,
        "build_only_crates": build_only_crates,
    }))
}

struct Built {
    seconds: f64,
    build_script_ran: bool,
}

fn cargo_build(dir: &Path, target: &Path, verbose: bool) -> Result<Built> {
    let mut command = Command::new(cargo());
    command
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .args(["build", "--offline"]);
    if verbose {
        command.arg("-v");
    }
    let started = Instant::now();
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .context("run cargo build")?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("cargo build in {} failed:\n{stderr}", dir.display());
    }
    let build_script_ran = stderr.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("Running") && line.contains("build-script-build")
    });
    Ok(Built {
        seconds,
        build_script_ran,
    })
}

fn cargo_clean(dir: &Path, target: &Path) -> Result<()> {
    let status = Command::new(cargo())
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .args(["clean", "--offline", "--quiet", "-p", PACKAGE])
        .status()
        .context("run cargo clean")?;
    if !status.success() {
        bail!("cargo clean -p {PACKAGE} failed ({status})");
    }
    // Incremental state is per crate too: a clean build starts without it.
    let incremental = target.join("debug/incremental");
    if let Ok(entries) = fs::read_dir(&incremental) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("lowcodeapi_runwayml-")
            {
                fs::remove_dir_all(entry.path())?;
            }
        }
    }
    Ok(())
}

fn touch_file(path: &Path) -> Result<()> {
    let file = fs::File::options()
        .write(true)
        .open(path)
        .with_context(|| format!("open {}", path.display()))?;
    file.set_modified(SystemTime::now())
        .with_context(|| format!("touch {}", path.display()))
}

/// The `OUT_DIR` of the most recent run of the SDK's build script under `target`.
fn newest_out_dir(target: &Path) -> Result<PathBuf> {
    let build = target.join("debug/build");
    let mut best: Option<(SystemTime, PathBuf)> = None;
    for entry in fs::read_dir(&build).with_context(|| format!("read {}", build.display()))? {
        let out = entry?.path().join("out");
        let codegen = out.join("codegen.rs");
        if !out
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n.to_string_lossy().starts_with("lowcodeapi-runwayml-"))
        {
            continue;
        }
        if let Ok(modified) = fs::metadata(&codegen).and_then(|m| m.modified())
            && best.as_ref().is_none_or(|(t, _)| modified > *t)
        {
            best = Some((modified, out));
        }
    }
    best.map(|(_, out)| out)
        .context("no generated codegen.rs under target/bench-build/target/debug/build")
}

/// The crates a build of `as_is` compiles that `pregenerated` does not: progenitor and the rest
/// of the build-dependency tree, compiled once per machine and cache.
fn build_only_crates(as_is: &Path, pregenerated: &Path, target: &Path) -> Value {
    let tree = |dir: &Path| -> Option<std::collections::BTreeSet<String>> {
        let output = Command::new(cargo())
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target)
            .args([
                "tree",
                "--offline",
                "--prefix",
                "none",
                "-e",
                "normal,build",
            ])
            .output()
            .ok()?;
        output.status.success().then(|| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| {
                    let mut words = line.split_whitespace();
                    Some(format!("{} {}", words.next()?, words.next()?))
                })
                .collect()
        })
    };
    match (tree(as_is), tree(pregenerated)) {
        (Some(a), Some(p)) => json!(a.difference(&p).count()),
        _ => Value::Null,
    }
}

/// Copies what building the SDK crate needs (not tests, benches or examples) into `dest`, as a
/// workspace of its own; `pregenerated` drops build.rs and reads the generated code from `src/`.
fn copy_crate(root: &Path, dest: &Path, pregenerated: bool) -> Result<()> {
    fs::create_dir_all(dest.join("spec"))?;
    copy_dir(&root.join("src"), &dest.join("src"))?;
    for file in ["Cargo.lock", "README.md", "spec/openapi.json"] {
        fs::copy(root.join(file), dest.join(file)).with_context(|| format!("copy {file}"))?;
    }
    let manifest = fs::read_to_string(root.join("Cargo.toml")).context("read Cargo.toml")?;
    fs::write(
        dest.join("Cargo.toml"),
        standalone_manifest(&manifest, pregenerated),
    )?;
    if pregenerated {
        let path = dest.join("src/generated.rs");
        let text = fs::read_to_string(&path)?;
        let needle = "concat!(env!(\"OUT_DIR\"), \"/";
        if !text.contains(needle) {
            bail!(
                "src/generated.rs no longer includes from OUT_DIR as {needle:?}: update bench.rs"
            );
        }
        fs::write(&path, text.replace(needle, "concat!(\""))?;
    } else {
        fs::copy(root.join("build.rs"), dest.join("build.rs")).context("copy build.rs")?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()))?;
        } else {
            fs::copy(&path, to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The root manifest as a single-package workspace: `members = ["."]`, without the sections a
/// library build does not need (dev-dependencies, benches, tests, examples) and, when
/// `pregenerated`, without the build script and its dependencies.
pub fn standalone_manifest(manifest: &str, pregenerated: bool) -> String {
    let mut out = String::new();
    let mut section = String::new();
    let mut in_members = false;
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_owned();
        }
        let dropped = matches!(
            section.as_str(),
            "[dev-dependencies]" | "[[bench]]" | "[[test]]" | "[[example]]"
        ) || (pregenerated && section == "[build-dependencies]");
        if dropped {
            continue;
        }
        if in_members {
            in_members = !trimmed.contains(']');
            continue;
        }
        if section == "[workspace]" && trimmed.starts_with("members") {
            out.push_str("members = [\".\"]\n");
            in_members = !trimmed.contains(']');
            continue;
        }
        if pregenerated && section == "[package]" && trimmed.starts_with("build ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

struct RunContext {
    date: String,
    quick: bool,
    cores: usize,
    rustc: String,
    load: String,
    duration: Duration,
}

fn summary(values: &[f64]) -> Value {
    if values.is_empty() {
        return Value::Null;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| {
        let position = q * (sorted.len() - 1) as f64;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
    };
    json!({
        "n": sorted.len(),
        "median": quantile(0.5),
        "q1": quantile(0.25),
        "q3": quantile(0.75),
        "min": sorted[0],
        "max": sorted[sorted.len() - 1],
    })
}

fn read_result(dir: &Path, name: &str) -> Option<Value> {
    let text = fs::read_to_string(dir.join(format!("{name}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

fn num(value: &Value, pointer: &str) -> f64 {
    value
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// `median (IQR q1–q3, n)` of a summary object.
fn spread(summary: &Value, digits: usize, what: &str) -> String {
    format!(
        "{:.digits$} (IQR {:.digits$}–{:.digits$}, {} {what})",
        num(summary, "/median"),
        num(summary, "/q1"),
        num(summary, "/q3"),
        num(summary, "/n"),
    )
}

/// `median (min–max, n)`, for small samples.
fn range(summary: &Value, digits: usize, what: &str) -> String {
    format!(
        "{:.digits$} (range {:.digits$}–{:.digits$}, {} {what})",
        num(summary, "/median"),
        num(summary, "/min"),
        num(summary, "/max"),
        num(summary, "/n"),
    )
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "context",
    }
}

/// The figures section: the table, then the details of each figure.
fn render(dir: &Path, context: &RunContext) -> Result<String> {
    let mut rows: Vec<[String; 4]> = Vec::new();
    let mut details = String::new();

    if let Some(o) = read_result(dir, "overhead") {
        let per_call = &o["per_call"];
        let cross = &o["per_call_cross_thread"];
        let ratio = &per_call["over_baseline"]["sdk"];
        let allocs = |k: &str| num(per_call, &format!("/allocations/{k}/allocs_per_call"));
        rows.push([
            "1. Per-call latency: `get_task` ÷ reqwest GET + serde_json (server on the client's thread)"
                .into(),
            spread(ratio, 3, "rounds"),
            "≤ 1.10".into(),
            verdict(Some(num(ratio, "/median") <= 1.10)).into(),
        ]);
        if cross.is_object() {
            rows.push([
                "1. Same, server on a thread of its own (adds the VM's wake-up latency to both)"
                    .into(),
                spread(&cross["over_baseline"]["sdk"], 3, "rounds"),
                "—".into(),
                verdict(None).into(),
            ]);
        }
        rows.push([
            "1. Allocations per call: SDK vs baseline".into(),
            format!("{:.0} vs {:.0}", allocs("sdk"), allocs("baseline")),
            "—".into(),
            verdict(None).into(),
        ]);
        for (data, title) in [
            (per_call, "server on the client's thread"),
            (cross, "server on a thread of its own"),
        ] {
            if !data.is_object() {
                continue;
            }
            writeln!(
                details,
                "\n**1. Per-call overhead, {title}** — {} rounds × {} calls per variant, order \
                 reversed every other round; time ratio to the baseline's batch of the same \
                 round:\n",
                data["rounds"], data["calls_per_round"]
            )?;
            writeln!(
                details,
                "| variant | µs per call, median (IQR) | ÷ baseline, median (IQR) | allocations per call | bytes allocated per call |"
            )?;
            writeln!(details, "|---|---|---|---|---|")?;
            for (key, name) in [
                ("baseline", "baseline: reqwest GET + serde_json"),
                ("baseline_timeout", "baseline + per-request timeout"),
                ("raw", "`client.raw().get_task` (generated + hooks)"),
                ("sdk", "`client.get_task` (everything)"),
            ] {
                let us = &data["per_call_us"][key];
                let r = &data["over_baseline"][key];
                writeln!(
                    details,
                    "| {name} | {:.1} ({:.1}–{:.1}) | {:.3} ({:.3}–{:.3}) | {:.0} | {:.0} |",
                    num(us, "/median"),
                    num(us, "/q1"),
                    num(us, "/q3"),
                    num(r, "/median"),
                    num(r, "/q1"),
                    num(r, "/q3"),
                    num(data, &format!("/allocations/{key}/allocs_per_call")),
                    num(data, &format!("/allocations/{key}/bytes_per_call")),
                )?;
            }
        }

        let instructions = &o["instructions"];
        if let Some(reason) = instructions["skipped"].as_str() {
            writeln!(details, "\nInstructions per call: skipped ({reason}).")?;
        } else if instructions.is_object() {
            let ratio = num(instructions, "/over_baseline/sdk");
            rows.push([
                "1. CPU work per call: `get_task` ÷ baseline (callgrind instructions, client thread)"
                    .into(),
                format!(
                    "{ratio:.3} ({:.0} vs {:.0} instructions; deterministic)",
                    num(instructions, "/per_call/sdk"),
                    num(instructions, "/per_call/baseline")
                ),
                "≤ 1.10".into(),
                verdict(Some(ratio <= 1.10)).into(),
            ]);
            writeln!(
                details,
                "\nUser-space instructions per call on the client's thread (callgrind, {} \
                 calls, {}): baseline {:.0}, + timeout {:.0}, raw {:.0}, SDK {:.0}. Where the \
                 SDK's go (inclusive, per call):\n",
                instructions["calls"],
                instructions["tool"].as_str().unwrap_or("valgrind"),
                num(instructions, "/per_call/baseline"),
                num(instructions, "/per_call/baseline_timeout"),
                num(instructions, "/per_call/raw"),
                num(instructions, "/per_call/sdk"),
            )?;
            writeln!(details, "| SDK function | instructions per call |")?;
            writeln!(details, "|---|---|")?;
            for row in instructions["sdk_breakdown"]
                .as_array()
                .into_iter()
                .flatten()
            {
                writeln!(
                    details,
                    "| {} | {:.0} |",
                    row["what"].as_str().unwrap_or("?"),
                    num(row, "/instructions_per_call")
                )?;
            }
            writeln!(
                details,
                "| the high-level layer (SDK − raw) | {:.0} |\n| the per-request timeout \
                 (baseline + timeout − baseline) | {:.0} |",
                num(instructions, "/per_call/sdk") - num(instructions, "/per_call/raw"),
                num(instructions, "/per_call/baseline_timeout")
                    - num(instructions, "/per_call/baseline"),
            )?;
        }

        let fallback = &o["format_fallback"];
        if let Some(steady) = fallback["steady_state"].as_array() {
            let worst = steady
                .iter()
                .map(|row| num(row, "/requests_per_call"))
                .fold(f64::NAN, f64::max);
            let calls = num(fallback, "/calls");
            rows.push([
                "2. Format fallback, steady state: requests per `get_task` (Old Format only server)"
                    .into(),
                format!(
                    "{} ({} calls per server)",
                    steady
                        .iter()
                        .map(|row| format!("{:.4}", num(row, "/requests_per_call")))
                        .collect::<Vec<_>>()
                        .join(" / "),
                    calls
                ),
                "exactly 1.00".into(),
                verdict(Some(worst == 1.0)).into(),
            ]);
            writeln!(
                details,
                "\n**2. Format fallback** — a fresh client (URL format `Auto`) against the \
                 simulator routing only the Old Format; requests counted in its log:\n"
            )?;
            writeln!(
                details,
                "| server | first call | then: requests ÷ calls | routing misses |"
            )?;
            writeln!(details, "|---|---|---|---|")?;
            for row in steady {
                writeln!(
                    details,
                    "| {} | {} requests | {} ÷ {} = {:.4} | {} |",
                    row["server"].as_str().unwrap_or("?"),
                    row["first_call_requests"],
                    row["requests"],
                    row["calls"],
                    num(row, "/requests_per_call"),
                    row["routing_misses"],
                )?;
            }
            let concurrent = &fallback["concurrent_first_calls"];
            let create = &fallback["create_then_get"];
            writeln!(
                details,
                "\n{} concurrent first calls on a fresh client: {} succeeded with {} requests \
                 (one probe). A create first, then `get_task` (self-hosted): format after the \
                 create {}, `get_task` {}, {} requests.",
                concurrent["calls"],
                concurrent["succeeded"],
                concurrent["requests"],
                create["format_after_create"].as_str().unwrap_or("?"),
                create["get_task"].as_str().unwrap_or("?"),
                create["requests"],
            )?;
        }
    }

    if let Some(w) = read_result(dir, "wait_scale") {
        let tasks = num(&w, "/tasks");
        let repeats = &w["repeats"];
        let worst = |key: &str| num(repeats, &format!("/{key}/max"));
        rows.push([
            format!("3. Waiting on {tasks} tasks: GETs ÷ ideal"),
            format!(
                "{} (first run: {} ÷ {}; per task at most +{})",
                range(&repeats["gets_over_ideal"], 4, "runs"),
                w["gets"],
                w["ideal_gets"],
                worst("max_excess_per_task"),
            ),
            "≤ 1.05".into(),
            verdict(Some(worst("gets_over_ideal") <= 1.05)).into(),
        ]);
        let memory = &repeats["bytes_per_waiting_task"];
        rows.push([
            "3. Peak memory per waiting task, KiB".into(),
            format!(
                "{:.2} (range {:.2}–{:.2}, {} runs)",
                num(memory, "/median") / 1024.0,
                num(memory, "/min") / 1024.0,
                num(memory, "/max") / 1024.0,
                num(memory, "/n"),
            ),
            "≤ 16 KiB".into(),
            verdict(Some(worst("bytes_per_waiting_task") <= 16.0 * 1024.0)).into(),
        ]);
        rows.push([
            "3. TCP connections opened".into(),
            format!(
                "{} for {tasks} tasks",
                range(&repeats["tcp_connections"], 0, "runs")
            ),
            "far fewer than tasks (≤ 10 %)".into(),
            verdict(Some(worst("tcp_connections") * 10.0 <= tasks)).into(),
        ]);
        for (key, what) in [
            (
                "simultaneous_starts",
                "every wait started in the same instant, no jitter",
            ),
            (
                "simultaneous_starts_jitter",
                "same instant, jitter as Runway's default schedule",
            ),
        ] {
            let herd = &w[key];
            if herd.is_object() {
                let memory = num(herd, "/bytes_per_waiting_task");
                rows.push([
                    format!("3. Same, {what}: connections; GETs ÷ ideal; memory per task"),
                    format!(
                        "{} connections; {:.4}; {:.2} KiB",
                        herd["tcp_connections"],
                        num(herd, "/gets_over_ideal"),
                        memory / 1024.0
                    ),
                    "memory ≤ 16 KiB".into(),
                    verdict(Some(memory <= 16.0 * 1024.0)).into(),
                ]);
            }
        }
        writeln!(
            details,
            "\n**3. Waiting at scale** — {} tasks of 10–120 simulated seconds (time ×{}), \
             `poll_interval({} ms)` = 5 simulated seconds, starts spread over one interval, \
             {} runs. First run: wall {:.1} s; outcomes {}; {} tasks polled more often than \
             ideal; peak live bytes over the baseline {} B (still live after the waits: {} B); \
             non-200 answers: {}.",
            w["tasks"],
            w["time_scale"],
            w["poll_interval_ms_real"],
            w["repeats"]["runs"],
            num(&w, "/wall_s"),
            w["outcomes"],
            w["tasks_over_ideal"],
            w["peak_bytes_over_baseline"],
            w["live_bytes_after_over_baseline"],
            w["not_200"],
        )?;
    }

    if let Some(b) = read_result(dir, "build") {
        rows.push([
            "4. Clean build of the SDK crate, build.rs ÷ pre-generated".into(),
            range(&b["clean_ratio"], 2, "reps"),
            "—".into(),
            verdict(None).into(),
        ]);
        let reran = b["build_script_reran_after_touching_client_rs"].as_bool();
        let control = b["control_build_script_reran_after_touching_spec"].as_bool();
        rows.push([
            "4. Editing src/client.rs reruns build.rs?".into(),
            format!(
                "{} (control: touching spec/openapi.json reruns it: {})",
                if reran == Some(false) { "no" } else { "YES" },
                if control == Some(true) { "yes" } else { "NO" }
            ),
            "must not".into(),
            verdict(Some(reran == Some(false) && control == Some(true))).into(),
        ]);
        writeln!(
            details,
            "\n**4. Build cost** — seconds, `cargo build` (debug) of the SDK crate alone, \
             dependencies prebuilt and shared: clean as-is {}, clean pre-generated {}; after \
             `touch src/client.rs`: as-is {}, pre-generated {} (ratio {}). A cold cache \
             compiles {} more crates for as-is (the build-dependency tree).",
            range(&b["clean_s"]["as_is"], 1, "reps"),
            range(&b["clean_s"]["pregenerated"], 1, "reps"),
            range(&b["touch_s"]["as_is"], 1, "reps"),
            range(&b["touch_s"]["pregenerated"], 1, "reps"),
            range(&b["touch_ratio"], 2, "reps"),
            b["build_only_crates"],
        )?;
    }

    if let Some(p) = read_result(dir, "vs_python") {
        if let Some(reason) = p["skipped"].as_str() {
            rows.push([
                "5. vs Runway's Python SDK".into(),
                format!("skipped: {reason}"),
                "—".into(),
                verdict(None).into(),
            ]);
        } else {
            rows.push([
                format!(
                    "5. Python `{}` per call ÷ ours (sync client)",
                    p["python_sdk"].as_str().unwrap_or("runwayml")
                ),
                spread(&p["python_over_ours"], 1, "rounds"),
                "—".into(),
                verdict(None).into(),
            ]);
            writeln!(
                details,
                "\n**5. Versus the Python SDK** — {} rounds × {} calls each, interleaved: \
                 Python {:.0} µs per call (IQR {:.0}–{:.0}), ours {:.0} µs (IQR {:.0}–{:.0}).",
                p["rounds"],
                p["calls_per_round"],
                num(&p, "/per_call_us/python/median"),
                num(&p, "/per_call_us/python/q1"),
                num(&p, "/per_call_us/python/q3"),
                num(&p, "/per_call_us/ours/median"),
                num(&p, "/per_call_us/ours/q1"),
                num(&p, "/per_call_us/ours/q3"),
            )?;
        }
    }

    let mut out = String::new();
    writeln!(
        out,
        "Run of {}{}: {} cores, {}, load average {}; `cargo xtask bench` took {:.0} s.\n",
        context.date,
        if context.quick { " (--quick)" } else { "" },
        context.cores,
        context.rustc,
        context.load,
        context.duration.as_secs_f64(),
    )?;
    writeln!(out, "| figure | result | target | verdict |")?;
    writeln!(out, "|---|---|---|---|")?;
    for [figure, result, target, verdict] in &rows {
        writeln!(out, "| {figure} | {result} | {target} | {verdict} |")?;
    }
    out.push_str(&details);
    Ok(out)
}

/// Replaces what lies between [`BEGIN`] and [`END`] in `path`.
fn rewrite_figures(path: &Path, figures: &str) -> Result<()> {
    let text = fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let (Some(begin), Some(end)) = (text.find(BEGIN), text.find(END)) else {
        bail!(
            "{} has no figures section: add the lines\n{BEGIN}\n{END}",
            path.display()
        );
    };
    if end < begin {
        bail!("{}: the figures markers are out of order", path.display());
    }
    let updated = format!(
        "{}{BEGIN}\n\n{}\n{}",
        &text[..begin],
        figures.trim_end(),
        &text[end..]
    );
    fs::write(path, updated).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_manifest_keeps_the_library_and_drops_the_rest() {
        let manifest = "[workspace]\nmembers = [\".\", \"xtask\",\n  \"sim\"]\nresolver = \"3\"\n\n\
                        [package]\nname = \"x\"\nbuild = \"build.rs\"\n\n[dependencies]\na = \"1\"\n\n\
                        [dev-dependencies]\nb = \"1\"\n\n[build-dependencies]\nc = \"1\"\n\n\
                        [[bench]]\nname = \"o\"\nharness = false\n";
        let as_is = standalone_manifest(manifest, false);
        assert!(as_is.contains("members = [\".\"]\nresolver"));
        assert!(!as_is.contains("sim"));
        assert!(as_is.contains("build = \"build.rs\""));
        assert!(as_is.contains("c = \"1\""));
        assert!(!as_is.contains("b = \"1\""));
        assert!(!as_is.contains("[[bench]]"));
        let pregenerated = standalone_manifest(manifest, true);
        assert!(!pregenerated.contains("build = "));
        assert!(!pregenerated.contains("c = \"1\""));
        assert!(pregenerated.contains("a = \"1\""));
    }

    #[test]
    fn figures_are_replaced_between_the_markers_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("B.md");
        fs::write(&path, format!("intro\n{BEGIN}\nold\n{END}\nafter\n")).expect("write");
        rewrite_figures(&path, "new table\n").expect("rewrite");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("intro\n{BEGIN}\n\nnew table\n{END}\nafter\n"));
    }
}
