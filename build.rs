//! Generates the LowCodeAPI runwayml client from `spec/openapi.json` with progenitor.
//!
//! The spec is prepared by `cargo xtask prepare`, and the hand-written layer lives in `src/`.
//! Three rewrites of the generated text, each the same for every operation and checked (the build
//! fails if progenitor's output stops matching): JSON answers are decoded by
//! `crate::transport::decode_response` instead of progenitor's `ResponseValue::from_response`
//! (see [`decode_through_transport`]); URLs are built by `crate::transport::operation_url` on the
//! base URL parsed once instead of formatted as text to parse (see [`urls_from_parsed_base`]);
//! the headers go into one map that becomes the request's (see [`headers_in_one_map`]). Output
//! goes to `$OUT_DIR/codegen.rs` (the client) and `$OUT_DIR/codegen_httpmock.rs` (typed httpmock
//! mocks, behind the `httpmock` feature).

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
    let code = urls_from_parsed_base(code.replace(FROM_RESPONSE, DECODE))?;
    let mut code = headers_in_one_map(code)?;
    code.push_str(&json_only_at_200(&code));
    Ok(code)
}

/// How progenitor starts an operation's URL: the base URL and the path template, formatted.
const URL_FORMAT: &str = "let url = format!(";

/// Every operation's URL is built by `crate::transport::operation_url` from the base URL the
/// transport parsed once, instead of formatted as text that reqwest parses again for every
/// request (`self.client.get(url)` takes a `Url` as well as a `String`). The same URL: the path
/// template's literal segments and its parameters' values (`encode_path(&x.to_string())` in
/// progenitor's code) are handed over as they are, and `operation_url` falls back to progenitor's
/// exact text whenever pushing a segment could differ from parsing it. An operation without query
/// parameters gets the token in the same step (a query parameter of its own would have to come
/// first, so the `pre` hook appends it there, as before). The literal segments a path starts
/// with are pushed once per client (`PATH_PREFIXES`, numbered in the call), the rest per request.
///
/// The statement is read strictly: if progenitor writes it differently, the build fails instead
/// of silently keeping the slower code. A template with segments that are neither plain words
/// nor a whole parameter keeps progenitor's statement.
fn urls_from_parsed_base(code: String) -> Result<String, String> {
    let operations = code.matches("let info = OperationInfo {").count();
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    let mut rewritten = 0;
    let mut with_token_ids = Vec::new();
    // The distinct runs of literal segments that paths start with.
    let mut prefixes: Vec<Vec<String>> = Vec::new();
    while let Some(at) = rest.find(URL_FORMAT) {
        out.push_str(&rest[..at]);
        let args_start = at + URL_FORMAT.len();
        let Some(args_len) = closing_paren(&rest[args_start..]) else {
            return Err(format!(
                "an unterminated `{URL_FORMAT}` in the generated code"
            ));
        };
        let args = &rest[args_start..args_start + args_len];
        let after = &rest[args_start + args_len + 1..];
        let Some(after) = after.strip_prefix(';') else {
            return Err(format!("`{URL_FORMAT}{args})` is not followed by `;`"));
        };
        // The operation's code up to its hooks: query parameters are added in there.
        let body = after.split("self.pre(").next().unwrap_or(after);
        let with_token = !body.contains(".query(");
        match url_segments(args)? {
            Some(segments) => {
                if with_token {
                    let id = body
                        .split_once("operation_id: \"")
                        .and_then(|(_, rest)| rest.split_once('"'))
                        .map(|(id, _)| id)
                        .ok_or_else(|| format!("no operation_id after `{URL_FORMAT}{args})`"))?;
                    with_token_ids.push(format!("{id:?}"));
                }
                let prefix: Vec<String> = segments
                    .iter()
                    .map_while(|part| match part {
                        PathPart::Literal(text) => Some(text.clone()),
                        PathPart::Param(_) => None,
                    })
                    .collect();
                let index = match prefixes.iter().position(|known| *known == prefix) {
                    Some(index) => index,
                    None => {
                        prefixes.push(prefix);
                        prefixes.len() - 1
                    }
                };
                let segments: Vec<String> = segments.iter().map(PathPart::code).collect();
                out.push_str(&format!(
                    "let url = crate::transport::operation_url(self, {index}, &[{}], {with_token})?;",
                    segments.join(", ")
                ));
                rewritten += 1;
            }
            None => {
                out.push_str(URL_FORMAT);
                out.push_str(args);
                out.push_str(");");
            }
        }
        rest = after;
    }
    out.push_str(rest);
    let body = if with_token_ids.is_empty() {
        "let _ = operation_id;\n    false".to_owned()
    } else {
        format!("matches!(operation_id, {})", with_token_ids.join(" | "))
    };
    let prefixes: Vec<String> = prefixes
        .iter()
        .map(|prefix| format!("&{prefix:?}"))
        .collect();
    out.push_str(&format!(
        "\n/// The literal segments that operations' paths start with, each run once \
         (`crate::transport::operation_url`; written by build.rs).\n\
         pub(crate) const PATH_PREFIXES: &[&[&str]] = &[{}];\n",
        prefixes.join(", ")
    ));
    out.push_str(&format!(
        "\n/// Whether the operation's URL carries the token already (`crate::transport::operation_url`; \
         written by build.rs).\n\
         pub(crate) fn token_in_url(operation_id: &str) -> bool {{\n    {body}\n}}\n"
    ));
    let found = code.matches(URL_FORMAT).count();
    if found != operations || (operations > 0 && rewritten == 0) {
        return Err(format!(
            "no operation's URL starts with `{URL_FORMAT}\"{{}}/…\", self.baseurl, …)` any more; \
             update build.rs's rewrite to progenitor's new form"
        ));
    }
    Ok(out)
}

/// How progenitor starts the headers of an operation that has any.
const HEADER_MAP: &str = "let mut header_map = ::reqwest::header::HeaderMap::with_capacity(";

/// Where progenitor builds the request, after the headers.
const REQUEST: &str = "let mut request = self";

/// An operation's headers go into one map, which becomes the request's: progenitor writes its
/// `.header(name, value)` calls (`accept`) on the request builder and its other headers into
/// `header_map`, which the builder's `.headers(header_map)` merges in, one entry at a time.
/// Where that merge cannot change anything, the `.header` calls are appended to `header_map`
/// first (the same order), and `crate::transport::set_headers` puts it in the built request
/// (whose headers are still empty then): each header is hashed and stored once instead of twice.
///
/// That holds when the builder chain is `METHOD(url)`, `.header(…)` and `.query(…)` calls,
/// `.headers(header_map)`, `.build()?`, and `header_map` gets only fixed names, none of them the
/// name of a `.header` call; other operations (a JSON body sets its content type in between) keep
/// progenitor's code. The build fails if no operation has that form any more.
fn headers_in_one_map(code: String) -> Result<String, String> {
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    let mut rewritten = 0;
    while let Some(at) = rest.find(HEADER_MAP) {
        out.push_str(&rest[..at]);
        let operation = &rest[at..];
        let end = operation
            .find("let info = OperationInfo {")
            .ok_or_else(|| format!("`{HEADER_MAP}` without an operation after it"))?;
        match one_header_map(&operation[..end]) {
            Some(code) => {
                out.push_str(&code);
                rewritten += 1;
            }
            None => out.push_str(&operation[..end]),
        }
        rest = &operation[end..];
    }
    out.push_str(rest);
    if code.contains(HEADER_MAP) && rewritten == 0 {
        return Err(format!(
            "no operation builds its headers as `{HEADER_MAP}N); header_map.append(…); \
             let mut request = self.client.METHOD(url).header(…).headers(header_map).build()?;` \
             any more; update build.rs's rewrite to progenitor's new form"
        ));
    }
    Ok(out)
}

/// The headers part of one operation (from [`HEADER_MAP`] to its `OperationInfo`), rewritten as
/// [`headers_in_one_map`] describes, or `None` to keep it.
fn one_header_map(code: &str) -> Option<String> {
    let after = code.strip_prefix(HEADER_MAP)?;
    let (capacity, after) = after.split_once("usize);")?;
    let capacity: usize = capacity.trim().parse().ok()?;
    let (appends, request) = after.split_once(REQUEST)?;
    // Only `header_map.append(HeaderName::from_static("…"), …);` before the request.
    let appends = appends
        .trim()
        .trim_end_matches("#[allow(unused_mut)]")
        .trim();
    let mut map_names = Vec::new();
    let mut rest = appends;
    while !rest.is_empty() {
        let call = rest.strip_prefix("header_map")?.trim_start();
        let call = call.strip_prefix(".append(")?;
        let len = closing_paren(call)?;
        let args = split_top_level(&call[..len]);
        let name = args
            .first()?
            .strip_prefix("::reqwest::header::HeaderName::from_static(\"")?
            .strip_suffix("\")")?;
        map_names.push(name.to_ascii_lowercase());
        rest = call[len + 1..].trim_start().strip_prefix(';')?.trim_start();
    }
    // The builder chain: `.client.METHOD(url)`, then `.name(args)` calls up to `.build()`.
    let mut chain = request.trim_start().strip_prefix(".client")?.trim_start();
    let mut calls: Vec<(&str, &str)> = Vec::new();
    loop {
        chain = chain.strip_prefix('.')?.trim_start();
        let open = chain.find('(')?;
        let name = chain[..open].trim();
        if !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()) {
            return None;
        }
        let len = closing_paren(&chain[open + 1..])?;
        calls.push((name, &chain[open + 1..open + 1 + len]));
        chain = chain[open + 1 + len + 1..].trim_start();
        if name == "build" {
            break;
        }
    }
    let tail = chain.strip_prefix("?;")?;
    if !tail.trim().is_empty() {
        return None;
    }
    let [(method, url), middle @ .., (headers, map), (build, none)] = calls.as_slice() else {
        return None;
    };
    let methods = ["get", "post", "put", "patch", "delete", "head"];
    if !methods.contains(method)
        || url.trim() != "url"
        || *headers != "headers"
        || map.trim() != "header_map"
        || *build != "build"
        || !none.trim().is_empty()
    {
        return None;
    }
    let mut moved = Vec::new();
    let mut queries = Vec::new();
    for (name, args) in middle {
        match *name {
            "header" => {
                let pieces = split_top_level(args);
                let [key, value] = pieces.as_slice() else {
                    return None;
                };
                let lower = match key.as_str() {
                    "::reqwest::header::ACCEPT" => "accept".to_owned(),
                    _ => key
                        .strip_prefix("::reqwest::header::HeaderName::from_static(\"")?
                        .strip_suffix("\")")?
                        .to_ascii_lowercase(),
                };
                if map_names.contains(&lower) {
                    return None;
                }
                moved.push(format!("header_map.append({key}, {value});"));
            }
            "query" => queries.push(format!(".query({args})")),
            _ => return None,
        }
    }
    Some(format!(
        "{HEADER_MAP}{}usize); {} {appends}\n        #[allow(unused_mut)]\n        \
         let mut request = self.client.{method}(url){}.build()?;\n        \
         crate::transport::set_headers(&mut request, header_map);\n        ",
        // Room for what reqwest adds when sending (user agent, accept-encoding) without
        // growing: at least the 6 entries a map that started empty grows to at once.
        (capacity + moved.len()).max(6),
        moved.join(" "),
        queries.join(""),
    ))
}

/// Walks Rust code outside its string literals: `visit(index, char, depth)` for each character,
/// `depth` being how many brackets are open before it. Stops early when `visit` returns `false`.
fn scan_code(text: &str, mut visit: impl FnMut(usize, char, usize) -> bool) {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if !visit(i, c, depth) {
            return;
        }
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// The length of the text up to the parenthesis that closes the one just opened.
fn closing_paren(text: &str) -> Option<usize> {
    let mut found = None;
    scan_code(text, |i, c, depth| {
        if c == ')' && depth == 0 {
            found = Some(i);
        }
        found.is_none()
    });
    found
}

/// The arguments of progenitor's `format!` as `crate::transport::Segment`s: `Some` for a template
/// `"{}/word/{}/…"` with `self.baseurl` and one `encode_path(&x.to_string())` per `{}`; `None`
/// for a template with other segments (kept as progenitor wrote it); an error for arguments of
/// another form.
fn url_segments(args: &str) -> Result<Option<Vec<PathPart>>, String> {
    let mut parts = split_top_level(args).into_iter();
    let unexpected = || format!("unexpected `{URL_FORMAT}{args})` in the generated code");
    let template = parts
        .next()
        .and_then(|t| Some(t.strip_prefix('"')?.strip_suffix('"')?.to_owned()))
        .filter(|t| !t.contains('\\'))
        .ok_or_else(unexpected)?;
    if parts.next().as_deref() != Some("self.baseurl") {
        return Err(unexpected());
    }
    let mut params = Vec::new();
    for part in parts {
        let name = part
            .strip_prefix("encode_path(&")
            .and_then(|p| p.strip_suffix(".to_string())"))
            .filter(|name| {
                let name = name.strip_prefix("r#").unwrap_or(name);
                !name.is_empty() && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
            })
            .ok_or_else(unexpected)?;
        params.push(name.to_owned());
    }
    let Some(path) = template.strip_prefix("{}") else {
        return Err(unexpected());
    };
    if path.matches("{}").count() != params.len() {
        return Err(unexpected());
    }
    let Some(path) = path.strip_prefix('/') else {
        return Ok(None);
    };
    let mut params = params.into_iter();
    let mut segments = Vec::new();
    for segment in path.split('/') {
        if segment == "{}" {
            let name = params.next().ok_or_else(unexpected)?;
            segments.push(PathPart::Param(name));
        } else if plain_segment(segment) {
            segments.push(PathPart::Literal(segment.to_owned()));
        } else {
            return Ok(None);
        }
    }
    Ok(Some(segments))
}

/// One segment of a path template.
enum PathPart {
    /// Written in the template.
    Literal(String),
    /// The parameter of this name.
    Param(String),
}

impl PathPart {
    /// As a `crate::transport::Segment`.
    fn code(&self) -> String {
        match self {
            PathPart::Literal(text) => format!("crate::transport::Segment::Literal({text:?})"),
            PathPart::Param(name) => {
                format!("crate::transport::Segment::Param(&{name}.to_string())")
            }
        }
    }
}

/// A literal path segment that reads the same pushed or parsed: letters, digits, `-`, `_`, `~`
/// and inner dots.
fn plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
}

/// `args` split at its top-level commas, each piece without whitespace, empty pieces dropped.
fn split_top_level(args: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    scan_code(args, |i, c, depth| {
        if c == ',' && depth == 0 {
            pieces.push(&args[start..i]);
            start = i + 1;
        }
        true
    });
    pieces.push(&args[start..]);
    pieces
        .into_iter()
        .map(|piece| {
            if piece.trim_start().starts_with('"') {
                // The template: only its surrounding whitespace goes.
                piece.trim().to_owned()
            } else {
                piece.split_whitespace().collect()
            }
        })
        .filter(|piece: &String| !piece.is_empty())
        .collect()
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
