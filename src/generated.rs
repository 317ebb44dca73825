//! The client progenitor generates from `spec/openapi.json` (see `build.rs`).
//!
//! This is the escape hatch: every operation LowCodeAPI exposes for runwayml, typed as the
//! prepared spec describes it, including the Old Format twins (`*_old_format`). Requests made
//! through it still go through this crate's hooks (token, retries, timeouts, envelope unwrapping,
//! redaction), so a raw call returns Runway's payload whichever LowCodeAPI dialect answered.
//! Get one with [`crate::Client::raw`].

#![allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    unused_imports,
    unused_qualifications,
    irrefutable_let_patterns,
    mismatched_lifetime_syntaxes
)]

include!(concat!(env!("OUT_DIR"), "/codegen.rs"));

/// Typed httpmock helpers for every generated operation (feature `httpmock`).
#[cfg(feature = "httpmock")]
pub mod mock {
    include!(concat!(env!("OUT_DIR"), "/codegen_httpmock.rs"));
}
