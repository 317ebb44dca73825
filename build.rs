//! Generates the LowCodeAPI runwayml client from `spec/openapi.json` with progenitor.
//!
//! Nothing else happens here: the spec is prepared by `cargo xtask prepare`, and the hand-written
//! layer lives in `src/`. Output goes to `$OUT_DIR/codegen.rs` (the client) and
//! `$OUT_DIR/codegen_httpmock.rs` (typed httpmock mocks, behind the `httpmock` feature).

use std::path::Path;
use std::{env, fs};

const SPEC: &str = "spec/openapi.json";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    if let Err(message) = generate() {
        // One clear line instead of a panic backtrace: which file, which operation, what to do.
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn generate() -> Result<(), String> {
    let text = fs::read_to_string(SPEC).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text).map_err(|e| {
        format!("{SPEC} is not valid OpenAPI 3.0 ({e}); regenerate it with `cargo xtask prepare`")
    })?;

    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_tag(progenitor::TagStyle::Merged)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_inner_type("crate::transport::Transport".parse().expect("a type path"));
    let mut generator = progenitor::Generator::new(&settings);

    // progenitor panics on some inputs (see the spec pipeline docs); report them as errors.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let client = generator.generate_tokens(&spec)?;
        let mocks = generator.httpmock(&spec, "crate::generated")?;
        Ok::<_, progenitor::Error>((client, mocks))
    }));
    let (client, mocks) = match result {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(error)) => {
            return Err(format!(
                "progenitor cannot generate from {SPEC}: {error}; fix the upstream pin or \
                 spec/overlay.yaml, then `cargo xtask prepare`"
            ));
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("unknown panic");
            return Err(format!(
                "progenitor panicked on {SPEC}: {reason}; `cargo xtask prepare` must remove the \
                 construct it cannot handle"
            ));
        }
    };

    let out = env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?;
    write(Path::new(&out).join("codegen.rs"), client)?;
    write(Path::new(&out).join("codegen_httpmock.rs"), mocks)
}

fn write(path: impl AsRef<Path>, tokens: proc_macro2::TokenStream) -> Result<(), String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let path = path.as_ref();
    fs::write(path, prettyplease::unparse(&file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}
