//! Maintenance tasks for the `lowcodeapi-runwayml` SDK: pinning LowCodeAPI's OpenAPI document,
//! preparing it for progenitor, and checking that the committed files agree.
//!
//! Run through the cargo alias: `cargo xtask fetch-spec`, `cargo xtask prepare`, `cargo xtask check`.

pub mod bench;
pub mod check;
pub mod drift;
pub mod fetch;
pub mod overlay;
pub mod package;
pub mod paths;
pub mod prepare;
