//! Where the spec pipeline's files live, relative to the workspace root, and where that root is.

use std::fmt;
use std::path::{Path, PathBuf};

/// The pinned document, exactly as LowCodeAPI served it (pretty-printed, key order preserved).
pub const UPSTREAM: &str = "spec/upstream/runwayml.json";
/// Where the pin came from: source, endpoint, time, sha256, tool version.
pub const PROVENANCE: &str = "spec/upstream/runwayml.provenance.json";
/// Runway knowledge that LowCodeAPI's document lacks (OpenAPI Overlay 1.0).
pub const OVERLAY: &str = "spec/overlay.yaml";
/// The prepared document that build.rs feeds to progenitor.
pub const PREPARED: &str = "spec/openapi.json";
/// The simulator's copy of the pin (it serves it at `/definition` and `include_str!`s it, so the
/// simulator crate packages on its own). Must equal [`UPSTREAM`] byte for byte; `fetch-spec`
/// and `prepare` keep it in sync, `check` proves it.
pub const SIM_DEFINITION: &str = "crates/sim/assets/runwayml-definition.json";

/// Environment variable that overrides [`workspace_root`], so tests can run the real binary
/// against a scratch copy of `spec/`.
pub const ROOT_ENV: &str = "XTASK_ROOT";

/// How [`workspace_root`] found the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootSource {
    /// `$XTASK_ROOT`.
    Env,
    /// `$CARGO_MANIFEST_DIR` at run time (cargo sets it for `cargo run`, so `cargo xtask` works
    /// on the checkout it was run in): its parent.
    CargoManifestDir,
    /// The nearest directory above the current one whose `Cargo.toml` has a `[workspace]`.
    CurrentDir,
}

impl fmt::Display for RootSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Env => "from XTASK_ROOT",
            Self::CargoManifestDir => "from CARGO_MANIFEST_DIR",
            Self::CurrentDir => "found from the current directory",
        })
    }
}

/// The workspace root, found at run time: `$XTASK_ROOT` when set and not empty; else the parent
/// of `$CARGO_MANIFEST_DIR` when cargo set it (`cargo run`/`cargo xtask`) and it holds the
/// workspace's `Cargo.toml`; else the nearest workspace above the current directory.
///
/// Never the directory the binary was *built* from: with a target directory shared between
/// checkouts (a global `CARGO_TARGET_DIR`, git worktrees), cargo may reuse a binary built for
/// another checkout, which would then check the wrong tree.
pub fn workspace_root() -> Result<(PathBuf, RootSource), String> {
    if let Some(root) = std::env::var_os(ROOT_ENV).filter(|root| !root.is_empty()) {
        return Ok((PathBuf::from(root), RootSource::Env));
    }
    if let Some(parent) = std::env::var_os("CARGO_MANIFEST_DIR")
        .filter(|dir| !dir.is_empty())
        .and_then(|dir| Path::new(&dir).parent().map(Path::to_path_buf))
        && is_workspace(&parent)
    {
        return Ok((parent, RootSource::CargoManifestDir));
    }
    let current = std::env::current_dir()
        .map_err(|error| format!("cannot read the current directory: {error}"))?;
    current
        .ancestors()
        .find(|dir| is_workspace(dir))
        .map(|dir| (dir.to_path_buf(), RootSource::CurrentDir))
        .ok_or_else(|| {
            format!(
                "no cargo workspace (a Cargo.toml with [workspace]) at or above {}: run from \
                 inside the checkout, through `cargo xtask`, or set {ROOT_ENV}",
                current.display()
            )
        })
}

/// Whether `dir` holds a `Cargo.toml` declaring a workspace.
fn is_workspace(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|text| {
        text.lines()
            .any(|line| line.trim_start().starts_with("[workspace]"))
    })
}

/// Makes [`SIM_DEFINITION`] a byte-for-byte copy of [`UPSTREAM`]; `true` when it wrote.
pub fn sync_sim_definition(root: &Path) -> std::io::Result<bool> {
    let pin = std::fs::read(root.join(UPSTREAM))?;
    let copy = root.join(SIM_DEFINITION);
    if std::fs::read(&copy).is_ok_and(|current| current == pin) {
        return Ok(false);
    }
    if let Some(dir) = copy.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = copy.with_extension("json.tmp");
    std::fs::write(&temporary, &pin)?;
    std::fs::rename(&temporary, &copy)?;
    Ok(true)
}
