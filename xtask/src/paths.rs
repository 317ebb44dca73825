//! Where the spec pipeline's files live, relative to the workspace root.

use std::path::{Path, PathBuf};

/// The pinned document, exactly as LowCodeAPI served it (pretty-printed, key order preserved).
pub const UPSTREAM: &str = "spec/upstream/runwayml.json";
/// Where the pin came from: source, endpoint, time, sha256, tool version.
pub const PROVENANCE: &str = "spec/upstream/runwayml.provenance.json";
/// Runway knowledge that LowCodeAPI's document lacks (OpenAPI Overlay 1.0).
pub const OVERLAY: &str = "spec/overlay.yaml";
/// The prepared document that build.rs feeds to progenitor.
pub const PREPARED: &str = "spec/openapi.json";

/// Environment variable that overrides [`workspace_root`], so tests can run the real binary
/// against a scratch copy of `spec/`.
pub const ROOT_ENV: &str = "XTASK_ROOT";

/// The workspace root: `$XTASK_ROOT` when set and not empty, else the parent of the xtask crate.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os(ROOT_ENV).filter(|root| !root.is_empty()) {
        return PathBuf::from(root);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}
