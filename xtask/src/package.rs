//! `cargo xtask package-check`: the published crates as a user gets them.
//!
//! 1. The license copies under `crates/*/` equal the root files.
//! 2. `cargo package --no-verify` of the three published crates, and a check of what each
//!    `.crate` ships. (cargo's own verification is opt-in, `--cargo-verify`: it treats a packaged
//!    name and version as immutable, so with a reused target directory or `CARGO_HOME` it builds
//!    the dependents against an earlier run's copy of their dependencies. Step 3 builds every
//!    tarball without that flaw.)
//! 3. The `.crate` files are unpacked into a scratch directory outside the workspace, where a
//!    fresh project depends on the SDK (and, for its tests, the simulator) *by version*, with
//!    `[patch.crates-io]` pointing at the unpacked packages; the unpacked simulator and CLI are
//!    members of that scratch workspace, so their binaries are built from the tarballs too. The
//!    fresh project's test creates a task against the packaged simulator with the packaged SDK
//!    and waits until it succeeds.
//! 4. The packaged binaries run: `runway generate --json` with no token (the built-in
//!    simulator) must report `SUCCEEDED`, and `lowcodeapi-runwayml-sim --help` must answer.
//! 5. The builds left the unpacked sources as they were (as `cargo package` verifies: a build
//!    script writes only to `OUT_DIR`).
//!
//! Nothing is published. The builds share the workspace's target directory, so dependencies
//! compiled for the workspace are reused.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The SDK, at the workspace root.
pub const SDK: &str = "lowcodeapi-runwayml";
/// The simulator, `crates/sim`.
pub const SIM: &str = "lowcodeapi-runwayml-sim";
/// The `runway` CLI, `crates/cli`.
pub const CLI: &str = "lowcodeapi-runwayml-cli";
/// The durable job store, `crates/jobs`.
pub const JOBS: &str = "lowcodeapi-runwayml-jobs";
/// Every published crate, in dependency order.
pub const PUBLISHED: [&str; 4] = [SIM, SDK, JOBS, CLI];

/// The license files every published crate ships; the copies equal the root's.
pub const LICENSES: [&str; 2] = ["LICENSE-MIT", "LICENSE-APACHE"];
/// Directories of the published crates other than the root, relative to it.
pub const CRATE_DIRS: [&str; 3] = ["crates/sim", "crates/cli", "crates/jobs"];

/// Options of `cargo xtask package-check`.
#[derive(clap::Args, Debug, Default)]
pub struct PackageArgs {
    /// Keep the scratch directory (its path is printed) instead of deleting it after a success.
    #[arg(long)]
    pub keep: bool,
    /// Pass `--offline` to every cargo command (all dependencies must already be downloaded).
    #[arg(long)]
    pub offline: bool,
    /// Also let `cargo package` build each tarball itself. Redundant with the scratch workspace,
    /// and only trustworthy with a fresh target directory and `CARGO_HOME`: cargo treats a
    /// packaged name and version as immutable, so on a second run it reuses the first run's
    /// unpacked sources and compiled artifacts of the crates the others depend on.
    #[arg(long)]
    pub cargo_verify: bool,
}

/// Files each `.crate` must contain, and path prefixes it must not.
struct Expected {
    name: &'static str,
    required: &'static [&'static str],
    forbidden: &'static [&'static str],
}

const COMMON_FORBIDDEN: &[&str] = &[
    "tests/",
    "benches/",
    "examples/",
    "fuzz/",
    "xtask/",
    ".ci/",
    ".cargo/",
    "BENCHMARKS.md",
    "RELIABILITY.md",
    "CONTRIBUTING.md",
    "ARCHITECTURE.md",
    "target/",
];

const EXPECTED: [Expected; 4] = [
    Expected {
        name: SDK,
        required: &[
            "Cargo.toml",
            "build.rs",
            "spec/openapi.json",
            "src/lib.rs",
            "README.md",
            "CHANGELOG.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ],
        forbidden: &["spec/upstream/", "spec/overlay.yaml", "crates/"],
    },
    Expected {
        name: SIM,
        required: &[
            "Cargo.toml",
            "src/lib.rs",
            "src/main.rs",
            "assets/runwayml-definition.json",
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ],
        forbidden: &[],
    },
    Expected {
        name: JOBS,
        required: &[
            "Cargo.toml",
            "src/lib.rs",
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ],
        forbidden: &[],
    },
    Expected {
        name: CLI,
        required: &[
            "Cargo.toml",
            "src/main.rs",
            "assets/sample.png",
            "README.md",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ],
        forbidden: &[],
    },
];

/// Runs the whole check; prints each step, the package sizes and the time taken.
pub fn run(root: &Path, args: &PackageArgs) -> Result<ExitCode> {
    let started = Instant::now();

    step("license copies equal the root files");
    let mismatched = license_mismatches(root)?;
    if !mismatched.is_empty() {
        bail!(
            "these copies differ from the root's: {} (copy the root files over them)",
            mismatched.join(", ")
        );
    }

    let metadata = Metadata::load(root, args.offline)?;
    let target = metadata.target_dir.clone();

    if args.cargo_verify {
        step("cargo package, cargo building each tarball");
    } else {
        step("cargo package --no-verify (the tarballs are built below)");
    }
    let mut package = cargo(args.offline);
    package
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .args(["package", "--allow-dirty"]);
    if !args.cargo_verify {
        package.arg("--no-verify");
    }
    for name in PUBLISHED {
        package.args(["-p", name]);
    }
    run_quieter(&mut package, "cargo package")?;

    let scratch = scratch_dir(root);
    if scratch.exists() {
        fs::remove_dir_all(&scratch)
            .with_context(|| format!("remove the last run's {}", scratch.display()))?;
    }
    let packages = scratch.join("packages");
    let workspace = scratch.join("consumer");
    fs::create_dir_all(&packages)?;
    fs::create_dir_all(&workspace)?;

    step("unpack the .crate files and check what they ship");
    let mut unpacked = BTreeMap::new();
    let mut sizes = Vec::new();
    for expected in &EXPECTED {
        let version = metadata.version(expected.name)?;
        let file = target
            .join("package")
            .join(format!("{}-{version}.crate", expected.name));
        let size = fs::metadata(&file)
            .with_context(|| format!("{} was not packaged", file.display()))?
            .len();
        // The simulator and the CLI become members of the scratch workspace (to build their
        // binaries); the SDK stays outside it, patched in like any dependency.
        let into = if expected.name == SDK || expected.name == JOBS {
            &packages
        } else {
            &workspace
        };
        let dir = unpack(&file, into)?;
        let files = list_files(&dir)?;
        check_contents(expected, &files)?;
        sizes.push(format!(
            "{}-{version}.crate: {:.1} KiB, {} files",
            expected.name,
            size as f64 / 1024.0,
            files.len()
        ));
        unpacked.insert(expected.name, (version.to_owned(), dir, files));
    }

    let (sdk_version, sdk_dir, _) = &unpacked[SDK];
    let (sim_version, sim_dir, _) = &unpacked[SIM];
    let (_, cli_dir, _) = &unpacked[CLI];
    let (_, jobs_dir, _) = &unpacked[JOBS];
    write_consumer(
        &workspace,
        ConsumerDeps {
            sdk_version,
            sdk_dir,
            sim_version,
            sim_dir,
            cli_dir,
            jobs_dir,
        },
    )?;
    fs::copy(root.join("Cargo.lock"), workspace.join("Cargo.lock"))
        .context("copy Cargo.lock into the scratch workspace")?;
    // The same profiles as the workspace, so that its compiled dependencies are reused.
    let profiles =
        profile_sections(&fs::read_to_string(root.join("Cargo.toml")).context("read Cargo.toml")?);
    let mut scratch_manifest = fs::read_to_string(workspace.join("Cargo.toml"))?;
    scratch_manifest.push_str(&profiles);
    fs::write(workspace.join("Cargo.toml"), scratch_manifest)?;

    // One feature selection for both commands, so the second reuses all of the first's work.
    let selection = [
        "--workspace",
        "--features",
        "lowcodeapi-runwayml-sim/cli",
        "--lib",
        "--bins",
        "--tests",
    ];
    let manifest = workspace.join("Cargo.toml");
    step("build the packaged crates, their binaries and a fresh project using them");
    let mut build = cargo(args.offline);
    build
        .current_dir(&workspace)
        .env("CARGO_TARGET_DIR", &target)
        .arg("build")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(selection);
    run_command(&mut build, "cargo build in the scratch workspace")?;

    step("the fresh project's test: the packaged SDK against the packaged simulator");
    let mut test = cargo(args.offline);
    test.current_dir(&workspace)
        .env("CARGO_TARGET_DIR", &target)
        .arg("test")
        .arg("--manifest-path")
        .arg(&manifest)
        .args(selection);
    run_command(&mut test, "cargo test in the scratch workspace")?;

    step("the packaged binaries run: `runway generate --json` with no token succeeds");
    let bin = |name: &str| {
        target
            .join("debug")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    };
    let status = run_generate(&bin("runway"), &workspace)?;
    println!("runway generate --json: status {status}");
    run_sim_help(&bin(SIM), &workspace)?;
    println!("{SIM} --help: ok");

    step("the builds left the packaged sources as they were");
    for (name, (_, dir, before)) in &unpacked {
        let after = list_files(dir)?;
        if &after != before {
            let added: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
            let removed: Vec<_> = before.iter().filter(|f| !after.contains(f)).collect();
            bail!(
                "building {name} changed its sources (added {added:?}, removed {removed:?}): \
                 a build script must write only to OUT_DIR"
            );
        }
    }

    if args.keep {
        println!(
            "package-check: scratch directory kept at {}",
            scratch.display()
        );
    } else {
        fs::remove_dir_all(&scratch).with_context(|| format!("remove {}", scratch.display()))?;
    }
    println!("package-check: sizes:");
    for line in sizes {
        println!("  {line}");
    }
    println!(
        "package-check: all passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// The scratch directory, outside the workspace: one per checkout, at the same path every run,
/// so that the packaged crates' build artifacts replace the last run's in the shared target
/// directory instead of piling up. Removed after a successful run (unless `--keep`); a failed
/// run leaves it for inspection, and the next run starts by removing it.
fn scratch_dir(root: &Path) -> PathBuf {
    use std::hash::{Hash as _, Hasher as _};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    root.hash(&mut hasher);
    std::env::temp_dir().join(format!(
        "lowcodeapi-runwayml-package-check-{:016x}",
        hasher.finish()
    ))
}

/// The license copies (under [`CRATE_DIRS`]) that are missing or differ from the root files.
pub fn license_mismatches(root: &Path) -> Result<Vec<String>> {
    let mut mismatched = Vec::new();
    for license in LICENSES {
        let original = fs::read(root.join(license)).with_context(|| format!("read {license}"))?;
        for dir in CRATE_DIRS {
            let copy = Path::new(dir).join(license);
            if fs::read(root.join(&copy)).ok().as_deref() != Some(&original[..]) {
                mismatched.push(copy.display().to_string());
            }
        }
    }
    Ok(mismatched)
}

fn step(what: &str) {
    println!("== package-check: {what}");
}

fn cargo(offline: bool) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    if offline {
        command.arg("--offline");
    }
    command
}

fn run_command(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("run {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Runs `command`, passing its stderr through except cargo's notes that tests and benches are
/// not packaged (they are left out on purpose: `include` in each Cargo.toml).
fn run_quieter(command: &mut Command, what: &str) -> Result<()> {
    let mut child = command
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("run {what}"))?;
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut skipped = 0;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        let not_packaged = line.starts_with("warning: ignoring ")
            && line.ends_with("is not included in the published package");
        if not_packaged {
            skipped += 1;
        } else {
            eprintln!("{line}");
        }
    }
    let status = child.wait().with_context(|| format!("wait for {what}"))?;
    if skipped > 0 {
        eprintln!("({skipped} tests and benches are not packaged, as intended)");
    }
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// What `cargo metadata` says: the target directory and each published crate's version.
struct Metadata {
    target_dir: PathBuf,
    versions: BTreeMap<String, String>,
}

impl Metadata {
    fn load(root: &Path, offline: bool) -> Result<Self> {
        let output = cargo(offline)
            .current_dir(root)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .stderr(Stdio::inherit())
            .output()
            .context("run cargo metadata")?;
        if !output.status.success() {
            bail!("cargo metadata failed ({})", output.status);
        }
        let value: Value =
            serde_json::from_slice(&output.stdout).context("parse cargo metadata")?;
        let target_dir = value["target_directory"]
            .as_str()
            .context("cargo metadata has no target_directory")?
            .into();
        let mut versions = BTreeMap::new();
        for package in value["packages"].as_array().into_iter().flatten() {
            if let (Some(name), Some(version)) =
                (package["name"].as_str(), package["version"].as_str())
            {
                versions.insert(name.to_owned(), version.to_owned());
            }
        }
        Ok(Metadata {
            target_dir,
            versions,
        })
    }

    fn version(&self, name: &str) -> Result<&str> {
        self.versions
            .get(name)
            .map(String::as_str)
            .with_context(|| format!("{name} is not a member of the workspace"))
    }
}

/// Unpacks a `.crate` (a gzipped tar of `<name>-<version>/…`) into `into`; returns that directory.
fn unpack(file: &Path, into: &Path) -> Result<PathBuf> {
    let stem = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".crate"))
        .context("a .crate file name")?;
    let mut tar = Command::new("tar");
    // `-m`: the files get the time of unpacking, not the fixed time cargo stores in a .crate;
    // otherwise cargo would take a previous run's build of the same path for up to date.
    tar.arg("-xzmf").arg(file).arg("-C").arg(into);
    run_command(&mut tar, &format!("tar -xzf {}", file.display()))?;
    let dir = into.join(stem);
    if !dir.join("Cargo.toml").is_file() {
        bail!("{} did not unpack into {}", file.display(), dir.display());
    }
    Ok(dir)
}

/// Every file under `dir`, as `/`-separated paths relative to it.
fn list_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(base, &path, out)?;
            } else {
                let relative = path.strip_prefix(base).expect("under base");
                let parts: Vec<_> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files)?;
    files.sort();
    Ok(files)
}

fn check_contents(expected: &Expected, files: &[String]) -> Result<()> {
    let missing: Vec<_> = expected
        .required
        .iter()
        .filter(|required| !files.iter().any(|f| f == *required))
        .collect();
    let unwanted: Vec<_> = files
        .iter()
        .filter(|file| {
            COMMON_FORBIDDEN
                .iter()
                .chain(expected.forbidden)
                .any(|prefix| file.starts_with(prefix))
        })
        .collect();
    if !missing.is_empty() || !unwanted.is_empty() {
        bail!(
            "{}: the package misses {missing:?} and ships {unwanted:?}; fix `include` in its \
             Cargo.toml",
            expected.name
        );
    }
    Ok(())
}

struct ConsumerDeps<'a> {
    sdk_version: &'a str,
    sdk_dir: &'a Path,
    sim_version: &'a str,
    sim_dir: &'a Path,
    cli_dir: &'a Path,
    jobs_dir: &'a Path,
}

/// The scratch workspace: the consumer project and the unpacked simulator and CLI as members,
/// the unpacked SDK and simulator patched in for crates.io.
fn write_consumer(workspace: &Path, deps: ConsumerDeps<'_>) -> Result<()> {
    let member = |dir: &Path| -> Result<String> {
        let relative = dir
            .strip_prefix(workspace)
            .context("a member inside the scratch workspace")?;
        Ok(toml_string(relative))
    };
    fs::write(
        workspace.join("Cargo.toml"),
        format!(
            r#"[workspace]
members = ["package-consumer", {sim_member}, {cli_member}]
resolver = "3"

# The unpacked .crate files stand in for crates.io; nothing is published.
[patch.crates-io]
{SDK} = {{ path = {sdk} }}
{SIM} = {{ path = {sim_member} }}
{JOBS} = {{ path = {jobs} }}
"#,
            sim_member = member(deps.sim_dir)?,
            cli_member = member(deps.cli_dir)?,
            sdk = toml_string(deps.sdk_dir),
            jobs = toml_string(deps.jobs_dir),
        ),
    )?;
    let consumer = workspace.join("package-consumer");
    fs::create_dir_all(consumer.join("src"))?;
    fs::create_dir_all(consumer.join("tests"))?;
    fs::write(
        consumer.join("Cargo.toml"),
        format!(
            r#"[package]
name = "package-consumer"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
{SDK} = "{sdk_version}"

[dev-dependencies]
{SIM} = "{sim_version}"
tokio = {{ version = "1", features = ["macros", "rt-multi-thread"] }}
"#,
            sdk_version = deps.sdk_version,
            sim_version = deps.sim_version,
        ),
    )?;
    fs::write(consumer.join("src/lib.rs"), CONSUMER_LIB)?;
    fs::write(consumer.join("tests/packaged.rs"), CONSUMER_TEST)?;
    Ok(())
}

/// The `[profile…]` sections of a manifest, verbatim.
pub fn profile_sections(manifest: &str) -> String {
    let mut out = String::new();
    let mut in_profile = false;
    for line in manifest.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_profile = trimmed.starts_with("[profile.") || trimmed.starts_with("[profile]");
            if in_profile {
                out.push('\n');
            }
        }
        if in_profile {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A TOML basic string holding a path.
fn toml_string(path: &Path) -> String {
    serde_json::to_string(&path.to_string_lossy()).expect("a string serializes")
}

const CONSUMER_LIB: &str = r#"//! A project that depends on the packaged SDK, as a crates.io user would.

/// A client for `base_url`, built the way the README shows.
pub fn client(token: &str, base_url: &str) -> Result<lowcodeapi_runwayml::Client, lowcodeapi_runwayml::Error> {
    lowcodeapi_runwayml::Client::builder().api_token(token).base_url(base_url).build()
}
"#;

const CONSUMER_TEST: &str = r#"//! The packaged SDK against the packaged simulator.

use std::time::Duration;

use lowcodeapi_runwayml::{ImageToVideo, Model, PromptImage, Ratio, TaskStatus};
use lowcodeapi_runwayml_sim::{DEFAULT_TOKEN, Simulator};

#[tokio::test(flavor = "multi_thread")]
async fn creates_a_task_and_waits_until_it_succeeds() {
    // 100x real time: the default 22-second task takes about a quarter of a second.
    let sim = Simulator::builder().time_scale(100.0).start().await.expect("start the simulator");
    let client = package_consumer::client(DEFAULT_TOKEN, &sim.base_url()).expect("a client");
    let image = PromptImage::url("https://example.com/first-frame.jpg").expect("an image URL");
    let request = ImageToVideo::new(Model::Gen4Turbo, image)
        .prompt_text("a packaged pan")
        .ratio(Ratio::W1280H720)
        .duration(5);

    let created = client.image_to_video(request).await.expect("create the task");
    let task = client
        .wait(&created)
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(60))
        .await
        .expect("the task succeeds");

    assert_eq!(task.id, created.id);
    assert_eq!(task.status, TaskStatus::Succeeded);
    assert_eq!(sim.accepted_creates(), 1);
    sim.shutdown().await;
}
"#;

/// Runs the simulator's binary with `--help`: it must exit 0 and describe its options.
fn run_sim_help(sim: &Path, dir: &Path) -> Result<()> {
    let output = Command::new(sim)
        .current_dir(dir)
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {}", sim.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || !stdout.contains("--dialect") {
        bail!(
            "{SIM} --help failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Runs `runway generate --json` with no token and no base URL: the built-in simulator. Returns
/// the reported status, which must be `SUCCEEDED`.
fn run_generate(runway: &Path, dir: &Path) -> Result<String> {
    let output = Command::new(runway)
        .current_dir(dir)
        .args(["generate", "--json"])
        .env_remove("LOWCODEAPI_API_TOKEN")
        .env_remove("LOWCODEAPI_BASE_URL")
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("run {}", runway.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!(
            "runway generate --json failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
    }
    let report: Value = serde_json::from_str(stdout.trim()).with_context(|| {
        format!("runway --json printed something else than one object: {stdout}")
    })?;
    let status = report["status"].as_str().unwrap_or("null").to_owned();
    if status != "SUCCEEDED" {
        bail!("runway generate --json ended with status {status}: {stdout}");
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_published_crate_ships_license_copies_equal_to_the_root_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives in the workspace");
        assert_eq!(license_mismatches(root).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn profile_sections_are_copied_verbatim_and_nothing_else() {
        let manifest = "[package]\nname = \"x\"\n\n[profile.dev.package.png]\nopt-level = 3\n\
                        [dependencies]\nserde = \"1\"\n[profile.release]\nlto = true\n";
        assert_eq!(
            profile_sections(manifest),
            "\n[profile.dev.package.png]\nopt-level = 3\n\n[profile.release]\nlto = true\n"
        );
    }

    #[test]
    fn contents_check_names_what_is_missing_and_what_should_not_ship() {
        let sdk = EXPECTED.iter().find(|e| e.name == SDK).unwrap();
        let mut files: Vec<String> = sdk.required.iter().map(|f| f.to_string()).collect();
        check_contents(sdk, &files).unwrap();

        files.retain(|f| f != "spec/openapi.json");
        files.push("tests/fixtures/pixel.png".into());
        files.push("BENCHMARKS.md".into());
        let message = check_contents(sdk, &files).unwrap_err().to_string();
        assert!(message.contains("spec/openapi.json"), "{message}");
        assert!(message.contains("tests/fixtures/pixel.png"), "{message}");
        assert!(message.contains("BENCHMARKS.md"), "{message}");
    }
}
