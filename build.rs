//! Generates the LowCodeAPI runwayml client from `spec/openapi.json` with progenitor.
//!
//! The spec is prepared by `cargo xtask prepare`, and the hand-written layer lives in `src/`. One
//! rewrite of the generated text, the same for every operation: JSON answers are decoded by
//! `crate::transport::decode_response` instead of progenitor's `ResponseValue::from_response`
//! (see [`decode_through_transport`]). Output goes to `$OUT_DIR/codegen.rs` (the client) and
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
    let client = decode_through_transport(unparse(client)?)?;
    write(Path::new(&out).join("codegen.rs"), &client)?;
    write(
        Path::new(&out).join("codegen_httpmock.rs"),
        &unparse(mocks)?,
    )
}

/// What progenitor writes to decode a JSON answer, and what this crate decodes it with instead.
const FROM_RESPONSE: &str = "ResponseValue::from_response(response).await";
const DECODE: &str = "crate::transport::decode_response(response).await";

/// Every JSON answer of every operation is decoded by `crate::transport::decode_response`: the
/// same result as progenitor's `ResponseValue::from_response` (status, headers, typed body, the
/// same errors), without copying the headers or collecting the body the `exec` hook has already
/// read. A plain textual rewrite, the same for every operation; the count is checked so that a
/// progenitor that writes the call differently fails the build instead of silently decoding twice.
fn decode_through_transport(code: String) -> Result<String, String> {
    let operations = code.matches("let info = OperationInfo {").count();
    let calls = code.matches(FROM_RESPONSE).count();
    if operations > 0 && calls == 0 {
        return Err(format!(
            "progenitor's generated code no longer calls `{FROM_RESPONSE}`; update \
             build.rs's rewrite to the new form"
        ));
    }
    let mut code = code.replace(FROM_RESPONSE, DECODE);
    code.push_str(&json_only_at_200(&code));
    Ok(code)
}

/// `json_only_at_200(operation_id)`: the operations whose generated code decodes a 200 answer as
/// JSON with [`DECODE`] and treats every other status as unexpected. For those, the `exec` hook
/// leaves a hosted envelope `{"data": …}` to `decode_response`, which reads the payload out of it
/// in the same pass as the typed decode (any other answer is unwrapped by the hook, as always).
/// Found in the generated text, the same way for every operation.
fn json_only_at_200(code: &str) -> String {
    let only_json: String = format!(
        "matchresponse.status().as_u16(){{200u16=>{DECODE},_=>Err(Error::UnexpectedResponse(response)),}}"
    )
    .split_whitespace()
    .collect();
    let mut ids = Vec::new();
    for operation in code.split("let info = OperationInfo {").skip(1) {
        let Some(id) = operation
            .split_once("operation_id: \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(id, _)| id)
        else {
            continue;
        };
        let compact: String = operation.split_whitespace().collect();
        if compact.contains(&only_json) {
            ids.push(format!("{id:?}"));
        }
    }
    let body = if ids.is_empty() {
        "let _ = operation_id;\n    false".to_owned()
    } else {
        format!("matches!(operation_id, {})", ids.join(" | "))
    };
    format!(
        "\n/// Whether the operation answers JSON at 200 and nothing else (written by build.rs).\n\
         pub(crate) fn json_only_at_200(operation_id: &str) -> bool {{\n    {body}\n}}\n"
    )
}

fn unparse(tokens: proc_macro2::TokenStream) -> Result<String, String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    Ok(prettyplease::unparse(&file))
}

fn write(path: impl AsRef<Path>, code: &str) -> Result<(), String> {
    let path = path.as_ref();
    fs::write(path, code).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
