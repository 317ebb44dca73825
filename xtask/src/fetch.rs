//! `cargo xtask fetch-spec`: fetch LowCodeAPI's OpenAPI document for a provider and pin it in
//! `spec/upstream/{provider}.json`, with a provenance file beside it; or, with `--check`, report
//! how the live document drifted from the pin without writing anything.
//!
//! LowCodeAPI serves the document at `{base}/{provider}/openapi` (hosted "New Format") and at
//! `{base}/{provider}/definition` (hosted "Old Format", and the only one the open-source server
//! has). The first is tried first; the second when the first is missing or unusable.
//!
//! Nothing is written unless the document validated (an OpenAPI 3.0.x object with a non-empty
//! `paths`), and both files are replaced atomically (temporary file in the same directory, then
//! rename), so a failed run leaves `spec/` as it was.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{drift, paths};

/// LowCodeAPI's hosted document server.
pub const DEFAULT_BASE: &str = "https://backend.lowcodeapi.com";
/// The provider this SDK is generated for.
pub const DEFAULT_PROVIDER: &str = "runwayml";
/// The user agent sent with every request.
pub const USER_AGENT: &str = concat!("lowcodeapi-runwayml-xtask/", env!("CARGO_PKG_VERSION"));

/// What to fetch and from where.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The document server, e.g. [`DEFAULT_BASE`] (a trailing `/` is ignored).
    pub base: String,
    /// The provider whose document to fetch, e.g. [`DEFAULT_PROVIDER`]; it also names the pin.
    pub provider: String,
    /// Read the document from this local file instead of the network.
    pub from: Option<PathBuf>,
    /// Bound on connecting and on each whole request.
    pub timeout: Duration,
    /// A note to record in the provenance (e.g. where a `--from` file came from).
    pub note: Option<String>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            base: DEFAULT_BASE.to_owned(),
            provider: DEFAULT_PROVIDER.to_owned(),
            from: None,
            timeout: Duration::from_secs(30),
            note: None,
        }
    }
}

/// Which source answered with the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// `{base}/{provider}/openapi`.
    Openapi,
    /// `{base}/{provider}/definition`.
    Definition,
    /// A local file given with `--from`.
    File,
}

impl Endpoint {
    /// The name recorded in the provenance file: `openapi`, `definition` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openapi => "openapi",
            Self::Definition => "definition",
            Self::File => "file",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated document and where it came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The provider the document is for; it names the pin.
    pub provider: String,
    /// The URL that answered, or the `--from` path as given.
    pub source: String,
    /// Which endpoint answered (or [`Endpoint::File`]).
    pub endpoint: Endpoint,
    /// The OpenAPI document, unwrapped from a `{"data": …}` envelope if it came in one.
    pub document: Value,
    /// What happened on the way that the provenance should tell: fallbacks, unwrapping.
    pub notes: Vec<String>,
}

/// The provenance file written beside the pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The provider the document is for.
    pub provider: String,
    /// The URL that answered, or the local file's path as given to `--from`.
    pub source: String,
    /// `url` or `file`.
    pub source_kind: String,
    /// `openapi`, `definition` or `file`.
    pub endpoint: Endpoint,
    /// When the pin was written, UTC, RFC 3339.
    pub pinned_at: String,
    /// Lower-case hex sha256 of the pinned file's bytes.
    pub sha256: String,
    /// Size of the pinned file in bytes.
    pub bytes: u64,
    /// The tool that wrote the pin: `xtask`.
    pub tool: String,
    /// Its version (the xtask crate's).
    pub tool_version: String,
    /// What happened on the way: fallbacks, unwrapping.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What [`pin`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// Both files were (re)written.
    Written,
    /// The document and its recorded source were already pinned: nothing was touched.
    Unchanged,
}

/// `cargo xtask fetch-spec [--check]`: pin the document, or compare it with the pin.
///
/// Returns exit code 0 on a pin or an up-to-date check, 1 on drift; errors for everything else.
pub fn run(root: &Path, options: &FetchOptions, check: bool) -> anyhow::Result<ExitCode> {
    let fetched = fetch(options)?;
    for note in &fetched.notes {
        eprintln!("note: {note}");
    }
    let upstream = upstream_path(root, &fetched.provider)?;
    if check {
        let pinned = read_json(&upstream)
            .context("cannot compare with the pin; pin it first with `cargo xtask fetch-spec`")?;
        let report = drift::diff(&pinned, &fetched.document);
        if report.is_empty() {
            println!("{} matches {}", rel(root, &upstream), fetched.source);
            Ok(ExitCode::SUCCESS)
        } else if !report.has_drift() {
            // Only where the document is served differs (e.g. `servers`): not drift.
            println!(
                "{} matches {} except for deployment-specific sections:",
                rel(root, &upstream),
                fetched.source
            );
            print!("{report}");
            Ok(ExitCode::SUCCESS)
        } else {
            println!(
                "{} drifted from the pin {}:",
                fetched.source,
                rel(root, &upstream)
            );
            print!("{report}");
            println!("To re-pin: cargo xtask fetch-spec");
            Ok(ExitCode::from(1))
        }
    } else {
        let text = render(&fetched.document);
        match pin(root, &fetched)? {
            PinOutcome::Written => println!(
                "pinned {} ({} bytes, sha256 {}) from {} [{}]",
                rel(root, &upstream),
                text.len(),
                sha256_hex(text.as_bytes()),
                fetched.source,
                fetched.endpoint
            ),
            PinOutcome::Unchanged => println!(
                "{} already pins this document from {}: nothing written",
                rel(root, &upstream),
                fetched.source
            ),
        }
        if root.join(paths::UPSTREAM) == upstream
            && paths::sync_sim_definition(root)
                .with_context(|| format!("cannot update {}", paths::SIM_DEFINITION))?
        {
            println!(
                "wrote {} (a copy of {})",
                paths::SIM_DEFINITION,
                paths::UPSTREAM
            );
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Get a validated document: from `options.from` if set, else from the network.
pub fn fetch(options: &FetchOptions) -> anyhow::Result<Fetched> {
    check_provider(&options.provider)?;
    let mut fetched = match &options.from {
        Some(path) => read_file(path, &options.provider)?,
        None => fetch_network(options)?,
    };
    if let Some(note) = &options.note {
        fetched.notes.push(note.clone());
    }
    Ok(fetched)
}

/// Read and validate a local document (`--from`).
pub fn read_file(path: &Path, provider: &str) -> anyhow::Result<Fetched> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let (document, mut notes) = interpret(None, &bytes)
        .map_err(|problem| anyhow::anyhow!("{}: {problem}", path.display()))?;
    notes.insert(
        0,
        "read from a local file (--from); not fetched from LowCodeAPI by this tool".to_owned(),
    );
    Ok(Fetched {
        provider: provider.to_owned(),
        source: path.display().to_string(),
        endpoint: Endpoint::File,
        document,
        notes,
    })
}

/// Fetch `{base}/{provider}/openapi`, falling back to `{base}/{provider}/definition` when the
/// first answers 404, 410 or 5xx, or a body that is not a usable OpenAPI 3.0 document.
///
/// Other statuses (401, 403, 429, …) and transport failures (connection refused, timeout) do
/// not fall back: they say something about the client or the server as a whole, which the
/// other endpoint on the same server would only repeat, and the fallback would double the wait.
pub fn fetch_network(options: &FetchOptions) -> anyhow::Result<Fetched> {
    let client = reqwest::blocking::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(options.timeout)
        .timeout(options.timeout)
        .build()
        .context("cannot build the HTTP client")?;
    let base = options.base.trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!(
            "--base must be an http:// or https:// URL, got `{}`",
            options.base
        );
    }
    let openapi = format!("{base}/{}/openapi", options.provider);
    let definition = format!("{base}/{}/definition", options.provider);

    let first = match attempt(&client, &openapi, options.timeout)? {
        Ok((document, notes)) => {
            return Ok(Fetched {
                provider: options.provider.clone(),
                source: openapi,
                endpoint: Endpoint::Openapi,
                document,
                notes,
            });
        }
        Err(problem) if problem.falls_back() => problem,
        Err(problem) => bail!("{openapi}: {problem}"),
    };
    match attempt(&client, &definition, options.timeout)? {
        Ok((document, mut notes)) => {
            notes.insert(0, format!("{openapi}: {first}; used {definition} instead"));
            Ok(Fetched {
                provider: options.provider.clone(),
                source: definition,
                endpoint: Endpoint::Definition,
                document,
                notes,
            })
        }
        Err(second) => {
            bail!("no usable OpenAPI document: {openapi}: {first}; {definition}: {second}")
        }
    }
}

/// Why one endpoint's answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A non-2xx status, with a hint about the body (e.g. "an HTML page").
    Status(u16, String),
    /// The body is not JSON (or is an HTML page).
    NotJson(String),
    /// JSON, but not an OpenAPI 3.0.x document with paths.
    NotOpenApi(String),
}

impl Problem {
    /// Whether the other endpoint is worth trying after this answer.
    pub fn falls_back(&self) -> bool {
        match self {
            Self::Status(status, _) => matches!(status, 404 | 410 | 500..=599),
            Self::NotJson(_) | Self::NotOpenApi(_) => true,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status, body) => {
                let reason = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|code| code.canonical_reason())
                    .unwrap_or("");
                write!(f, "HTTP {status} {reason}")?;
                if !body.is_empty() && !body.eq_ignore_ascii_case(reason) {
                    write!(f, " ({body})")?;
                }
                Ok(())
            }
            Self::NotJson(why) | Self::NotOpenApi(why) => f.write_str(why),
        }
    }
}

/// The most a document may weigh: LowCodeAPI's are kilobytes; anything past this is not one.
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// What came back from one GET.
struct Answer {
    status: reqwest::StatusCode,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// One GET. The outer error is a transport failure (no answer); the inner one an unusable answer.
fn attempt(
    client: &reqwest::blocking::Client,
    url: &str,
    timeout: Duration,
) -> anyhow::Result<Result<(Value, Vec<String>), Problem>> {
    let answer = get_within(client, url, timeout)?;
    if answer.body.len() as u64 > MAX_BODY_BYTES {
        return Ok(Err(Problem::NotJson(format!(
            "the body is larger than {} MiB, not a document",
            MAX_BODY_BYTES / (1024 * 1024)
        ))));
    }
    if !answer.status.is_success() {
        return Ok(Err(Problem::Status(
            answer.status.as_u16(),
            body_hint(answer.content_type.as_deref(), &answer.body),
        )));
    }
    Ok(interpret(answer.content_type.as_deref(), &answer.body))
}

/// GET `url`, bounded by `timeout` from start to the body's last byte.
///
/// reqwest's blocking client applies its timeout to sending (up to the headers) and then again
/// to reading the body, so a server trickling its body could hold us for twice as long or more.
/// The request runs on a worker thread instead, and we wait for it against one deadline; on
/// timeout the worker is abandoned (its own client timeout ends it soon after).
fn get_within(
    client: &reqwest::blocking::Client,
    url: &str,
    timeout: Duration,
) -> anyhow::Result<Answer> {
    let (sender, receiver) = mpsc::channel();
    let worker_client = client.clone();
    let target = url.to_owned();
    thread::Builder::new()
        .name("fetch-spec".to_owned())
        .spawn(move || {
            let result = (|| -> anyhow::Result<Answer> {
                let response = worker_client
                    .get(&target)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()?;
                let status = response.status();
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let mut body = Vec::new();
                // One byte past the limit is enough to know it is too large.
                response.take(MAX_BODY_BYTES + 1).read_to_end(&mut body)?;
                Ok(Answer {
                    status,
                    content_type,
                    body,
                })
            })();
            // The receiver is gone when we already gave up on this request.
            let _ = sender.send(result);
        })
        .context("cannot start the request thread")?;
    match receiver.recv_timeout(timeout) {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => Err(transport_error(url, timeout, error.as_ref())),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            bail!("{url}: timed out after {}", seconds(timeout))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => bail!("{url}: the request thread failed"),
    }
}

/// One line for a request that got no usable answer: timed out, could not connect, or else.
fn transport_error(
    url: &str,
    timeout: Duration,
    error: &(dyn std::error::Error + 'static),
) -> anyhow::Error {
    let mut timed_out = false;
    let mut connect = false;
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(error) = current.downcast_ref::<reqwest::Error>() {
            timed_out |= error.is_timeout();
            connect |= error.is_connect();
        }
        if let Some(error) = current.downcast_ref::<io::Error>() {
            timed_out |= error.kind() == io::ErrorKind::TimedOut;
        }
        cause = current.source();
    }
    if timed_out {
        anyhow::anyhow!("{url}: timed out after {}", seconds(timeout))
    } else if connect {
        anyhow::anyhow!("{url}: cannot connect: {}", root_cause(error))
    } else {
        anyhow::anyhow!("{url}: request failed: {}", root_cause(error))
    }
}

/// A hint at what an error status came with: "an HTML page", or the start of a short text body.
fn body_hint(content_type: Option<&str>, body: &[u8]) -> String {
    if looks_like_html(content_type, body) {
        return "an HTML page".to_owned();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return String::new();
    };
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        let cut: String = line.chars().take(80).collect();
        format!("{cut}…")
    } else {
        line
    }
}

/// Parse, unwrap and validate a document's bytes.
fn interpret(content_type: Option<&str>, body: &[u8]) -> Result<(Value, Vec<String>), Problem> {
    if looks_like_html(content_type, body) {
        return Err(Problem::NotJson("an HTML page, not JSON".to_owned()));
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| Problem::NotJson(format!("not valid JSON: {error}")))?;
    let (document, notes) = unwrap_envelope(value);
    validate(&document).map_err(Problem::NotOpenApi)?;
    Ok((document, notes))
}

/// Unwrap a `{"data": {...}}` envelope (LowCodeAPI's hosted success shape) around a document.
pub fn unwrap_envelope(value: Value) -> (Value, Vec<String>) {
    match value {
        Value::Object(mut object)
            if !object.contains_key("openapi")
                && !object.contains_key("swagger")
                && object.get("data").is_some_and(Value::is_object) =>
        {
            let inner = object.remove("data").unwrap_or_default();
            (
                inner,
                vec!["unwrapped the document from a {\"data\": …} envelope".to_owned()],
            )
        }
        other => (other, Vec::new()),
    }
}

/// Check that `document` is an OpenAPI 3.0.x object with a non-empty `paths` object.
///
/// Only the envelope is checked, not the schema: LowCodeAPI's documents are known not to be
/// valid OpenAPI (see `prepare`), and pinning is about keeping them exactly as served.
pub fn validate(document: &Value) -> Result<(), String> {
    let Some(object) = document.as_object() else {
        return Err(format!("JSON {}, not an OpenAPI document", kind(document)));
    };
    if let Some(swagger) = object.get("swagger") {
        return Err(format!(
            "a Swagger {} document; OpenAPI 3.0.x is required",
            version_text(swagger)
        ));
    }
    let Some(version) = object.get("openapi") else {
        return Err("JSON, but not an OpenAPI document (no `openapi` field)".to_owned());
    };
    let Some(text) = version.as_str() else {
        return Err(format!(
            "`openapi` is {}, not a version string",
            kind(version)
        ));
    };
    if !is_3_0(text) {
        return Err(format!(
            "an OpenAPI {text} document; OpenAPI 3.0.x is required"
        ));
    }
    match object.get("paths") {
        None => Err("the document has no `paths`".to_owned()),
        Some(Value::Object(paths)) if paths.is_empty() => {
            Err("the document's `paths` is empty".to_owned())
        }
        Some(Value::Object(_)) => Ok(()),
        Some(other) => Err(format!("`paths` is {}, not an object", kind(other))),
    }
}

/// Write `fetched` as the pin and its provenance, atomically; touch nothing if the same document
/// from the same source is already pinned.
pub fn pin(root: &Path, fetched: &Fetched) -> anyhow::Result<PinOutcome> {
    validate(&fetched.document)
        .map_err(|problem| anyhow::anyhow!("{}: {problem}", fetched.source))?;
    let upstream = upstream_path(root, &fetched.provider)?;
    let provenance_file = provenance_path(root, &fetched.provider)?;
    let text = render(&fetched.document);
    let sha256 = sha256_hex(text.as_bytes());

    if let (Ok(current), Ok(recorded)) = (fs::read(&upstream), read_provenance(&provenance_file))
        && current == text.as_bytes()
        && recorded.sha256 == sha256
        && recorded.source == fetched.source
        && recorded.endpoint == fetched.endpoint
    {
        return Ok(PinOutcome::Unchanged);
    }

    let provenance = Provenance {
        provider: fetched.provider.clone(),
        source: fetched.source.clone(),
        source_kind: match fetched.endpoint {
            Endpoint::File => "file",
            Endpoint::Openapi | Endpoint::Definition => "url",
        }
        .to_owned(),
        endpoint: fetched.endpoint,
        pinned_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        sha256,
        bytes: text.len() as u64,
        tool: env!("CARGO_PKG_NAME").to_owned(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        notes: fetched.notes.clone(),
    };
    let mut provenance_text = serde_json::to_string_pretty(&provenance)?;
    provenance_text.push('\n');

    let dir = upstream
        .parent()
        .context("the pin's path has no parent directory")?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Both temporary files are complete before either rename, so a failure while writing
    // leaves the old pin and provenance in place.
    let staged_upstream = stage(&upstream, text.as_bytes())?;
    let staged_provenance = stage(&provenance_file, provenance_text.as_bytes())?;
    staged_upstream
        .persist(&upstream)
        .with_context(|| format!("cannot replace {}", upstream.display()))?;
    staged_provenance
        .persist(&provenance_file)
        .with_context(|| format!("cannot replace {}", provenance_file.display()))?;
    Ok(PinOutcome::Written)
}

/// The pin's text: pretty-printed with two-space indent, keys in served order, final newline.
pub fn render(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
    text.push('\n');
    text
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `spec/upstream/{provider}.json` under `root`.
pub fn upstream_path(root: &Path, provider: &str) -> anyhow::Result<PathBuf> {
    check_provider(provider)?;
    Ok(root.join("spec/upstream").join(format!("{provider}.json")))
}

/// `spec/upstream/{provider}.provenance.json` under `root`.
pub fn provenance_path(root: &Path, provider: &str) -> anyhow::Result<PathBuf> {
    check_provider(provider)?;
    Ok(root
        .join("spec/upstream")
        .join(format!("{provider}.provenance.json")))
}

/// Read a provenance file.
pub fn read_provenance(path: &Path) -> anyhow::Result<Provenance> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a provenance file", path.display()))
}

/// Provider names become URL segments and file names: keep them to `[a-z0-9_-]`.
fn check_provider(provider: &str) -> anyhow::Result<()> {
    let valid = !provider.is_empty()
        && provider.bytes().all(|byte| {
            byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_'
        });
    if valid {
        Ok(())
    } else {
        bail!("invalid provider `{provider}`: use lower-case letters, digits, `-` and `_`")
    }
}

/// Write `bytes` to a temporary file beside `target`, with `target`'s permissions if it exists.
fn stage(target: &Path, bytes: &[u8]) -> anyhow::Result<tempfile::NamedTempFile> {
    let dir = target.parent().context("no parent directory")?;
    let mut file = tempfile::Builder::new()
        .prefix(".xtask-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let context = || format!("cannot write a temporary file in {}", dir.display());
    file.write_all(bytes).with_context(context)?;
    file.as_file().sync_all().with_context(context)?;
    let permissions = match fs::metadata(target) {
        Ok(metadata) => Some(metadata.permissions()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => default_permissions(),
        Err(error) => {
            return Err(error).with_context(|| format!("cannot stat {}", target.display()));
        }
    };
    if let Some(permissions) = permissions {
        fs::set_permissions(file.path(), permissions).with_context(context)?;
    }
    Ok(file)
}

/// Temporary files are created private (0600); a new pin should be readable like any source file.
fn default_permissions() -> Option<fs::Permissions> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(fs::Permissions::from_mode(0o644))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not valid JSON", path.display()))
}

fn looks_like_html(content_type: Option<&str>, body: &[u8]) -> bool {
    if content_type.is_some_and(|value| value.to_ascii_lowercase().contains("text/html")) {
        return true;
    }
    let start = body
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .map_or(&body[..0], |at| &body[at..]);
    let head = String::from_utf8_lossy(&start[..start.len().min(64)]).to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

fn is_3_0(version: &str) -> bool {
    version
        .strip_prefix("3.0.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|byte| byte.is_ascii_digit()))
}

fn version_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs == 1.0 {
        "1 second".to_owned()
    } else {
        format!("{secs} seconds")
    }
}

/// reqwest's Display is "error sending request for url (…)"; the innermost cause says why.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// `path` relative to `root` for messages, or as is.
fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}
