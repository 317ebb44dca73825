//! Which LowCodeAPI URL format to use, and what worked before, per base URL.
//!
//! The SDK learns the format per client (New first, Old on a routing miss), so each `runway`
//! process would probe again and pay a routing miss on every `task get` against a self-hosted
//! server. The format can be fixed up front (`--url-format`, `LOWCODEAPI_URL_FORMAT`), and what a
//! run learned is remembered in a small JSON file in the user's cache directory
//! (`$XDG_CACHE_HOME/lowcodeapi-runwayml/url-formats.json`, or the platform's cache directory).
//!
//! The file never holds the token: entries are keyed by a SHA-256 of the base URL with the token
//! masked out of it, and hold only `"new"` or `"old"`. A file that cannot be read or parsed is
//! ignored (and replaced on the next save); failing to write it is not an error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use lowcodeapi_runwayml::{Error, UrlFormat, UrlFormatState};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The environment variable that fixes the URL format: `new`, `old` or `auto`.
pub const URL_FORMAT_ENV: &str = "LOWCODEAPI_URL_FORMAT";
/// The directory under the cache directory.
const DIR: &str = "lowcodeapi-runwayml";
/// The file in it.
const FILE: &str = "url-formats.json";
/// The most base URLs remembered; the file stays tiny whatever happens.
const MAX_ENTRIES: usize = 64;

/// Set when this run met a routing miss: a remembered format may be stale.
static ROUTING_MISS: AtomicBool = AtomicBool::new(false);

/// Notes an error this run ends with (a routing miss makes a remembered format stale).
pub fn note_error(error: &Error) {
    if error.api().is_some_and(|api| api.routing_miss) {
        ROUTING_MISS.store(true, Ordering::Relaxed);
    }
}

/// A URL format as the user writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatChoice {
    /// Use what worked before for this base URL, else probe (New, then Old) and remember.
    Auto,
    /// Always the New Format (`/v1/tasks/{id}`).
    New,
    /// Always the Old Format (`/v1/tasks/id?id={id}`); LowCodeAPI's open-source server routes
    /// only this one.
    Old,
}

impl FormatChoice {
    /// Parses `new`, `old` or `auto`, in any case.
    pub fn parse(text: &str) -> Option<FormatChoice> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(FormatChoice::Auto),
            "new" => Some(FormatChoice::New),
            "old" => Some(FormatChoice::Old),
            _ => None,
        }
    }
}

/// Where the format in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `--url-format` or `LOWCODEAPI_URL_FORMAT` named `new` or `old`: nothing is remembered.
    Fixed,
    /// The cache file had an entry for this base URL.
    Remembered,
    /// Probing: whatever the client settles on is remembered.
    Probe,
}

/// The format decided for one run, and how to remember what it learns.
#[derive(Debug)]
pub struct Decision {
    /// What the client is built with.
    pub format: UrlFormat,
    /// Where it came from.
    pub source: Source,
    file: Option<PathBuf>,
    key: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    /// Key: SHA-256 (hex) of the base URL with the token masked. Value: `new` or `old`.
    formats: BTreeMap<String, String>,
}

/// The cache file's path: `$XDG_CACHE_HOME` when set to an absolute path (on every platform),
/// else the platform's cache directory.
pub fn cache_file() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
        .or_else(dirs::cache_dir)
        .map(|dir| dir.join(DIR).join(FILE))
}

/// The key of a base URL: a hash of it with the token masked, so neither the token nor a token
/// pasted into the URL ever reaches the file.
pub fn key(base_url: &str, token: &str) -> String {
    let masked = if token.is_empty() {
        base_url.to_owned()
    } else {
        base_url.replace(token, "***")
    };
    let digest = Sha256::digest(masked.trim_end_matches('/').as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decides the format: the flag, else the environment, else the cache, else probing.
/// `Err` carries a message for a bad `LOWCODEAPI_URL_FORMAT`.
pub fn decide(flag: Option<FormatChoice>, base_url: &str, token: &str) -> Result<Decision, String> {
    let env = match std::env::var(URL_FORMAT_ENV) {
        Ok(text) if !text.trim().is_empty() => {
            Some(FormatChoice::parse(&text).ok_or_else(|| {
                format!("{URL_FORMAT_ENV}={text:?} is not a URL format: use new, old or auto")
            })?)
        }
        _ => None,
    };
    let file = cache_file();
    let key = key(base_url, token);
    let decision = |format, source| Decision {
        format,
        source,
        file: file.clone(),
        key: key.clone(),
    };
    Ok(match flag.or(env) {
        Some(FormatChoice::New) => decision(UrlFormat::New, Source::Fixed),
        Some(FormatChoice::Old) => decision(UrlFormat::Old, Source::Fixed),
        // An explicit `auto` probes afresh (and remembers the result).
        Some(FormatChoice::Auto) => decision(UrlFormat::Auto, Source::Probe),
        None => match file.as_deref().and_then(|f| load(f).formats.remove(&key)) {
            Some(format) if format == "new" => decision(UrlFormat::New, Source::Remembered),
            Some(format) if format == "old" => decision(UrlFormat::Old, Source::Remembered),
            _ => decision(UrlFormat::Auto, Source::Probe),
        },
    })
}

impl Decision {
    /// After the run: remembers the format the client settled on (when it probed), or forgets a
    /// remembered format that met a routing miss (`stale`). Returns a note for stderr when an
    /// entry was forgotten.
    pub fn finish(&self, settled: UrlFormatState) -> Option<String> {
        self.finish_with(settled, ROUTING_MISS.load(Ordering::Relaxed))
    }

    fn finish_with(&self, settled: UrlFormatState, stale: bool) -> Option<String> {
        let file = self.file.as_deref()?;
        match self.source {
            Source::Fixed => None,
            Source::Remembered if stale => {
                let mut cache = load(file);
                cache.formats.remove(&self.key);
                let _ = save(file, &cache);
                Some(format!(
                    "note: the URL format remembered for this base URL no longer works and was \
                     forgotten; run the command again (or set {URL_FORMAT_ENV})"
                ))
            }
            Source::Remembered => None,
            Source::Probe => {
                let value = match settled {
                    UrlFormatState::New => "new",
                    UrlFormatState::Old => "old",
                    UrlFormatState::Unsettled => return None,
                };
                let mut cache = load(file);
                if cache.formats.get(&self.key).map(String::as_str) == Some(value) {
                    return None;
                }
                if cache.formats.len() >= MAX_ENTRIES && !cache.formats.contains_key(&self.key) {
                    // Bounded: drop an arbitrary (first by key) entry; it is only a cache.
                    let first = cache.formats.keys().next().cloned();
                    if let Some(first) = first {
                        cache.formats.remove(&first);
                    }
                }
                cache.formats.insert(self.key.clone(), value.to_owned());
                let _ = save(file, &cache);
                None
            }
        }
    }
}

/// Reads the file; anything unreadable or malformed is an empty cache.
fn load(file: &Path) -> CacheFile {
    std::fs::read(file)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CacheFile>(&bytes).ok())
        .map(|mut cache| {
            cache.formats.retain(|_, v| v == "new" || v == "old");
            cache
        })
        .unwrap_or_default()
}

/// Writes the file atomically (a temporary file renamed over it).
fn save(file: &Path, cache: &CacheFile) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_vec_pretty(cache).map_err(std::io::Error::other)?;
    let temporary = file.with_extension(format!("json.{}.tmp", std::process::id()));
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hide_the_token_and_ignore_a_trailing_slash() {
        let token = "at_secret_token_123";
        let url = format!("http://127.0.0.1:8080/{token}/runwayml");
        let k = key(&url, token);
        assert_eq!(k.len(), 64);
        assert!(!k.contains("secret"));
        assert_eq!(k, key(&format!("{url}/"), token));
        assert_ne!(k, key("http://127.0.0.1:8081/x/runwayml", token));
    }

    #[test]
    fn choices_parse_in_any_case() {
        assert_eq!(FormatChoice::parse("OLD"), Some(FormatChoice::Old));
        assert_eq!(FormatChoice::parse(" new "), Some(FormatChoice::New));
        assert_eq!(FormatChoice::parse("Auto"), Some(FormatChoice::Auto));
        assert_eq!(FormatChoice::parse("newest"), None);
    }

    #[test]
    fn a_corrupt_file_reads_as_empty_and_is_replaced() {
        let dir = std::env::temp_dir().join(format!("runway-format-cache-{}", std::process::id()));
        let file = dir.join(FILE);
        std::fs::create_dir_all(&dir).unwrap();
        for corrupt in [
            &b"{not json"[..],
            b"[]",
            b"{\"formats\":{\"k\":42}}",
            b"\xff\xfe",
        ] {
            std::fs::write(&file, corrupt).unwrap();
            assert!(load(&file).formats.is_empty());
        }
        let decision = Decision {
            format: UrlFormat::Auto,
            source: Source::Probe,
            file: Some(file.clone()),
            key: "k".into(),
        };
        assert_eq!(decision.finish_with(UrlFormatState::Old, false), None);
        assert_eq!(
            load(&file).formats.get("k").map(String::as_str),
            Some("old")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
