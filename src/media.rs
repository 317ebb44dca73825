//! Image inputs for Runway: `https://` URLs, `runway://` uploads and `data:` URIs.
//!
//! A [`MediaUri`] is checked when it is built, so a request holding one cannot carry a URI that
//! Runway would reject for its form (an `http://` URL, an IP address host, a data URI that is too
//! large or not base64). What can only be known by fetching (the server answering `HEAD` with a
//! real `Content-Type` and `Content-Length`, no redirects) is left to Runway.
//!
//! ```
//! use lowcodeapi_runwayml::media::{MediaKind, MediaUri};
//!
//! let url = MediaUri::parse("https://example.com/cat.jpg")?;
//! assert_eq!(url.kind(), MediaKind::Https);
//!
//! let upload = MediaUri::parse("runway://uploads/abc123")?;
//! assert_eq!(upload.kind(), MediaKind::Runway);
//!
//! // A data URI built from bytes: the MIME type is sniffed from the content.
//! let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
//! let inline = MediaUri::from_bytes(&png)?;
//! assert_eq!(inline.mime_type(), Some("image/png"));
//! assert_eq!(inline.to_string(), "data:image/png;base64,<16 bytes>");
//! # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
//! ```

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Data URIs must be strictly shorter than this many bytes (the whole URI, `data:` prefix
/// included).
///
/// Runway documents the limit as "5MB" for an image data URI. This SDK reads it the strict way:
/// 5 MB as 5 000 000 bytes rather than 5 MiB, "under" as strictly less, and the whole URI rather
/// than only its payload. Whatever Runway actually measures, a URI this SDK accepts is under it.
/// That leaves room for about 3.75 MB of raw image.
///
/// ```
/// use lowcodeapi_runwayml::media::{DATA_URI_LIMIT, MediaError, MediaUri};
/// let huge = format!("data:image/png;base64,{}", "A".repeat(DATA_URI_LIMIT));
/// assert!(matches!(MediaUri::parse(&huge), Err(MediaError::DataUriTooLarge { .. })));
/// ```
pub const DATA_URI_LIMIT: usize = 5_000_000;

/// The shortest `https://` URI Runway accepts, in UTF-16 code units.
///
/// ```
/// use lowcodeapi_runwayml::media::{HTTPS_URI_MIN_LEN, MediaUri};
/// assert_eq!("https://a.io".len(), HTTPS_URI_MIN_LEN - 1);
/// assert!(MediaUri::parse("https://a.io").is_err());
/// ```
pub const HTTPS_URI_MIN_LEN: usize = 13;

/// The longest `https://` URI Runway accepts, in UTF-16 code units.
///
/// ```
/// use lowcodeapi_runwayml::media::{HTTPS_URI_MAX_LEN, MediaUri};
/// let long = format!("https://example.com/{}", "a".repeat(HTTPS_URI_MAX_LEN));
/// assert!(MediaUri::parse(&long).is_err());
/// ```
pub const HTTPS_URI_MAX_LEN: usize = 2048;

/// The image types [`MediaUri::from_bytes`] recognizes, for error messages.
const SNIFFED: &str = "PNG, JPEG, WebP or GIF";

/// What went wrong building a [`MediaUri`]. Each message says what to do instead.
///
/// ```
/// use lowcodeapi_runwayml::media::{MediaError, MediaUri};
/// let error = MediaUri::parse("http://example.com/a.jpg").unwrap_err();
/// assert!(matches!(error, MediaError::InsecureHttp { .. }));
/// assert!(error.to_string().contains("https://"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The string was empty.
    #[error(
        "the image URI is empty: pass an https:// URL, a runway:// upload URI or a data:image/... URI"
    )]
    Empty,

    /// The URI uses a scheme Runway does not accept.
    #[error(
        "unsupported URI `{uri}`: Runway accepts https:// URLs, runway:// upload URIs and data:image/<type>;base64,<payload> URIs"
    )]
    UnsupportedScheme {
        /// The start of the rejected URI (cut at 64 characters).
        uri: String,
    },

    /// An `http://` URL: Runway only fetches over HTTPS.
    #[error(
        "`{uri}` uses http://: Runway only fetches images over https://; serve it over HTTPS or upload it"
    )]
    InsecureHttp {
        /// The start of the rejected URI (cut at 64 characters).
        uri: String,
    },

    /// The URI contains whitespace or control characters.
    #[error(
        "the image URI contains whitespace or control characters: percent-encode them (e.g. a space as %20)"
    )]
    Whitespace,

    /// An `https://` URL outside 13..=2048 UTF-16 code units.
    #[error(
        "the https:// URL is {len} characters long; Runway accepts {HTTPS_URI_MIN_LEN}..={HTTPS_URI_MAX_LEN}: shorten it, or upload the file and use its runway:// URI"
    )]
    UrlLength {
        /// The length in UTF-16 code units.
        len: usize,
    },

    /// The `https://` URL does not parse.
    #[error("`{uri}` is not a valid URL ({reason}): check its spelling")]
    InvalidUrl {
        /// The start of the rejected URI (cut at 64 characters).
        uri: String,
        /// What the URL parser reported.
        reason: String,
    },

    /// The URL's host is an IP address literal.
    #[error(
        "the URL's host `{host}` is an IP address: Runway requires a domain name; serve the image from a named host or upload it"
    )]
    IpAddressHost {
        /// The host as written in the URL.
        host: String,
    },

    /// A `runway://` URI with nothing after the scheme.
    #[error(
        "the runway:// URI is empty after the scheme: use the URI returned by Runway's upload endpoint"
    )]
    EmptyRunwayUri,

    /// A `data:` URI that is not `data:image/<type>;base64,<payload>`.
    #[error("malformed data URI ({reason}): expected data:image/<type>;base64,<payload>")]
    MalformedDataUri {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The payload of a `data:` URI is not valid base64.
    #[error(
        "the data URI payload is not valid base64 ({reason}): encode the image with the standard base64 alphabet"
    )]
    InvalidBase64 {
        /// What the decoder reported.
        reason: String,
    },

    /// A data URI of `len` bytes, at or over [`DATA_URI_LIMIT`].
    #[error(
        "the data URI is {len} bytes; Runway accepts data URIs under {limit} bytes (about 3.75 MB of raw image): shrink the image, host it at an https:// URL, or upload it and use its runway:// URI"
    )]
    DataUriTooLarge {
        /// The length of the (would-be) data URI in bytes.
        len: u64,
        /// The limit, [`DATA_URI_LIMIT`].
        limit: usize,
    },

    /// [`MediaUri::from_bytes`] could not recognize the image type from the content.
    #[error(
        "unrecognized image format: expected {SNIFFED} content; convert the image, or build the data URI yourself and pass it to MediaUri::parse"
    )]
    UnknownImageFormat,

    /// The file could not be read.
    #[error("cannot read image file `{}`: {source}", path.display())]
    Io {
        /// The file's path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// The file was read but its content is not usable; `source` says why.
    #[error("image file `{}`: {source}", path.display())]
    File {
        /// The file's path.
        path: PathBuf,
        /// What is wrong with the content.
        source: Box<MediaError>,
    },
}

/// The form of a [`MediaUri`].
///
/// ```
/// use lowcodeapi_runwayml::media::{MediaKind, MediaUri};
/// assert_eq!(MediaUri::parse("runway://uploads/1")?.kind(), MediaKind::Runway);
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaKind {
    /// An `https://` URL Runway fetches.
    Https,
    /// A `runway://` URI from Runway's upload endpoint (valid 24 h).
    Runway,
    /// A `data:image/...;base64,...` URI carrying the image inline.
    Data,
    /// Anything else; only possible with [`MediaUri::unchecked`].
    Other,
}

/// An image URI in one of the forms Runway accepts: `https://`, `runway://` or `data:`.
///
/// Built with [`MediaUri::parse`], [`MediaUri::from_bytes`] or [`MediaUri::from_path`], it is
/// checked on construction; [`MediaUri::unchecked`] skips the check for the rare case where the
/// SDK's idea of a valid URI is behind Runway's (the request's `validate()` then reports it).
///
/// `Display` and `Debug` never print a data URI's payload: they show
/// `data:image/png;base64,<N bytes>`, N being the length of the base64 payload. Use
/// [`MediaUri::as_str`] for the full URI.
///
/// ```
/// use lowcodeapi_runwayml::media::MediaUri;
///
/// let uri: MediaUri = "https://example.com/a.jpg".parse()?;
/// assert_eq!(uri.as_str(), "https://example.com/a.jpg");
/// assert!(MediaUri::parse("http://example.com/a.jpg").is_err());
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MediaUri {
    /// Shared: a data URI can be megabytes, and a request is cloned per create (or per retry
    /// of a whole job); a clone must not copy it.
    uri: Arc<str>,
    kind: MediaKind,
    checked: bool,
}

impl MediaUri {
    /// Parses and checks a URI.
    ///
    /// - `https://`: 13..=2048 UTF-16 code units, a valid URL whose host is a domain name (not an
    ///   IP address). `http://` is rejected.
    /// - `runway://`: anything non-empty after the scheme.
    /// - `data:image/<type>;base64,<payload>`: a non-empty, valid standard-alphabet base64
    ///   payload (padding optional), the whole URI under [`DATA_URI_LIMIT`] bytes.
    ///
    /// No URI may contain whitespace or control characters. The URI is kept exactly as given.
    ///
    /// ```
    /// use lowcodeapi_runwayml::media::{MediaError, MediaUri};
    ///
    /// assert!(MediaUri::parse("data:image/png;base64,iVBORw0KGgo=").is_ok());
    /// assert!(matches!(
    ///     MediaUri::parse("https://127.0.0.1/a.png"),
    ///     Err(MediaError::IpAddressHost { .. })
    /// ));
    /// ```
    pub fn parse(uri: &str) -> Result<MediaUri, MediaError> {
        let kind = check(uri)?;
        Ok(MediaUri {
            uri: uri.into(),
            kind,
            checked: true,
        })
    }

    /// Wraps a URI without checking it.
    ///
    /// The request's `validate()` still checks it and reports a violation; call
    /// `skip_validation()` on the request to send it regardless.
    ///
    /// ```
    /// use lowcodeapi_runwayml::media::{MediaKind, MediaUri};
    ///
    /// let uri = MediaUri::unchecked("s3://bucket/key.png");
    /// assert_eq!(uri.kind(), MediaKind::Other);
    /// assert!(!uri.is_checked());
    /// assert!(uri.check().is_err());
    /// ```
    pub fn unchecked(uri: impl Into<String>) -> MediaUri {
        let uri: String = uri.into();
        let kind = kind_of(&uri);
        MediaUri {
            uri: uri.into(),
            kind,
            checked: false,
        }
    }

    /// Builds a `data:` URI from image bytes, sniffing the MIME type from the content (PNG, JPEG,
    /// WebP, GIF).
    ///
    /// The size limit is enforced before encoding: bytes whose data URI would reach
    /// [`DATA_URI_LIMIT`] are rejected without being encoded.
    ///
    /// ```
    /// use lowcodeapi_runwayml::media::{MediaError, MediaUri};
    ///
    /// let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
    /// assert_eq!(MediaUri::from_bytes(&jpeg)?.mime_type(), Some("image/jpeg"));
    /// assert!(matches!(
    ///     MediaUri::from_bytes(b"plain text"),
    ///     Err(MediaError::UnknownImageFormat)
    /// ));
    /// # Ok::<(), MediaError>(())
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<MediaUri, MediaError> {
        let mime = sniff(bytes).ok_or(MediaError::UnknownImageFormat)?;
        check_encoded_len(mime, bytes.len() as u64)?;
        let mut uri = String::with_capacity(data_uri_len(mime, bytes.len() as u64) as usize);
        uri.push_str("data:");
        uri.push_str(mime);
        uri.push_str(";base64,");
        base64::engine::general_purpose::STANDARD.encode_string(bytes, &mut uri);
        Ok(MediaUri {
            uri: uri.into(),
            kind: MediaKind::Data,
            checked: true,
        })
    }

    /// Reads an image file and builds a `data:` URI from it, as [`MediaUri::from_bytes`] does.
    ///
    /// Errors name the path. A file too large for a data URI is rejected from its size alone,
    /// without reading it whole.
    ///
    /// ```
    /// use lowcodeapi_runwayml::media::{MediaError, MediaUri};
    ///
    /// let err = MediaUri::from_path("/no/such/image.png").unwrap_err();
    /// assert!(matches!(err, MediaError::Io { .. }));
    /// assert!(err.to_string().contains("/no/such/image.png"));
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<MediaUri, MediaError> {
        let path = path.as_ref();
        let io = |source| MediaError::Io {
            path: path.to_owned(),
            source,
        };
        let in_file = |source| MediaError::File {
            path: path.to_owned(),
            source: Box::new(source),
        };

        let mut file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        let mut bytes = Vec::new();
        (&mut file)
            .take(MAGIC_LEN as u64)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let mime = sniff(&bytes).ok_or_else(|| in_file(MediaError::UnknownImageFormat))?;
        check_encoded_len(mime, size).map_err(in_file)?;
        // The size check bounds what is read even if the file grows meanwhile.
        let max_raw = max_raw_len(mime);
        bytes.reserve(size as usize);
        file.take(max_raw + 1 - bytes.len() as u64)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        MediaUri::from_bytes(&bytes).map_err(in_file)
    }

    /// Like [`MediaUri::from_path`], without blocking the async runtime: the file is read on
    /// tokio's blocking pool (as `tokio::fs` does, in one hop instead of one per read).
    ///
    /// ```
    /// use lowcodeapi_runwayml::media::{MediaError, MediaUri};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let err = MediaUri::from_path_async("/no/such/image.png").await.unwrap_err();
    /// assert!(matches!(err, MediaError::Io { .. }));
    /// # }
    /// ```
    pub async fn from_path_async(path: impl AsRef<Path>) -> Result<MediaUri, MediaError> {
        let path = path.as_ref().to_owned();
        let shown = path.clone();
        tokio::task::spawn_blocking(move || MediaUri::from_path(path))
            .await
            .unwrap_or_else(|join| {
                Err(MediaError::Io {
                    path: shown,
                    source: std::io::Error::other(join),
                })
            })
    }

    /// The URI exactly as it is sent to Runway.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::media::MediaUri;
    /// assert_eq!(MediaUri::parse("runway://uploads/1")?.as_str(), "runway://uploads/1");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// Consumes the value, returning the URI.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::media::MediaUri;
    /// let uri = MediaUri::parse("runway://uploads/1")?;
    /// assert_eq!(uri.into_string(), "runway://uploads/1");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn into_string(self) -> String {
        self.uri.to_string()
    }

    /// The URI as a shared string: cloning it (or the `MediaUri`) never copies the URI, however
    /// large a data URI is.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::media::MediaUri;
    /// let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
    /// let uri = MediaUri::from_bytes(&png)?;
    /// let copy = uri.clone();
    /// assert!(std::sync::Arc::ptr_eq(&uri.shared(), &copy.shared()));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.uri)
    }

    /// The URI's form.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::media::{MediaKind, MediaUri};
    /// assert_eq!(MediaUri::parse("https://example.com/a.jpg")?.kind(), MediaKind::Https);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn kind(&self) -> MediaKind {
        self.kind
    }

    /// For a data URI, its MIME type (e.g. `image/png`); `None` for other forms.
    ///
    /// ```
    /// use lowcodeapi_runwayml::media::MediaUri;
    ///
    /// let uri = MediaUri::parse("data:image/webp;base64,UklGRg==")?;
    /// assert_eq!(uri.mime_type(), Some("image/webp"));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn mime_type(&self) -> Option<&str> {
        if self.kind != MediaKind::Data {
            return None;
        }
        let rest = &self.uri["data:".len()..];
        Some(rest.split([';', ',']).next().unwrap_or(rest))
    }

    /// Whether the URI was checked on construction (false only for [`MediaUri::unchecked`]).
    ///
    /// ```
    /// # use lowcodeapi_runwayml::media::MediaUri;
    /// assert!(MediaUri::parse("runway://uploads/1")?.is_checked());
    /// assert!(!MediaUri::unchecked("ftp://x").is_checked());
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn is_checked(&self) -> bool {
        self.checked
    }

    /// Checks the URI as [`MediaUri::parse`] does; a no-op for a checked URI.
    ///
    /// ```
    /// # use lowcodeapi_runwayml::media::MediaUri;
    /// assert!(MediaUri::unchecked("http://example.com/a.jpg").check().is_err());
    /// assert!(MediaUri::unchecked("https://example.com/a.jpg").check().is_ok());
    /// ```
    pub fn check(&self) -> Result<(), MediaError> {
        if self.checked {
            Ok(())
        } else {
            check(&self.uri).map(|_| ())
        }
    }
}

impl fmt::Display for MediaUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if has_prefix(&self.uri, "data:") {
            // Never print the payload: it can be megabytes.
            match self.uri.split_once(',') {
                Some((head, payload)) if head.len() <= 128 => {
                    write!(f, "{head},<{} bytes>", payload.len())
                }
                _ => write!(f, "data:<{} bytes>", self.uri.len() - "data:".len()),
            }
        } else {
            f.write_str(&self.uri)
        }
    }
}

impl fmt::Debug for MediaUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaUri({self})")
    }
}

impl AsRef<str> for MediaUri {
    fn as_ref(&self) -> &str {
        &self.uri
    }
}

impl FromStr for MediaUri {
    type Err = MediaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaUri::parse(s)
    }
}

impl TryFrom<&str> for MediaUri {
    type Error = MediaError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        MediaUri::parse(s)
    }
}

impl TryFrom<String> for MediaUri {
    type Error = MediaError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let kind = check(&s)?;
        Ok(MediaUri {
            uri: s.into(),
            kind,
            checked: true,
        })
    }
}

impl MediaUri {
    /// A URI read back from storage: checked when it passes, kept unchecked when it does not (so
    /// a stored request always loads, and `validate()` reports what is wrong with it).
    pub(crate) fn lenient(uri: String) -> MediaUri {
        match check(&uri) {
            Ok(kind) => MediaUri {
                uri: uri.into(),
                kind,
                checked: true,
            },
            Err(_) => MediaUri::unchecked(uri),
        }
    }
}

impl serde::Serialize for MediaUri {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.uri)
    }
}

impl<'de> serde::Deserialize<'de> for MediaUri {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        MediaUri::try_from(s).map_err(serde::de::Error::custom)
    }
}

/// Case-insensitive ASCII prefix test.
fn has_prefix(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

fn kind_of(uri: &str) -> MediaKind {
    if has_prefix(uri, "https://") {
        MediaKind::Https
    } else if has_prefix(uri, "runway://") {
        MediaKind::Runway
    } else if has_prefix(uri, "data:") {
        MediaKind::Data
    } else {
        MediaKind::Other
    }
}

/// The first 64 characters of a URI, for error messages.
fn excerpt(uri: &str) -> String {
    match uri.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &uri[..i]),
        None => uri.to_owned(),
    }
}

fn check(uri: &str) -> Result<MediaKind, MediaError> {
    if uri.is_empty() {
        return Err(MediaError::Empty);
    }
    let kind = kind_of(uri);
    match kind {
        MediaKind::Https => check_https(uri)?,
        MediaKind::Runway => check_runway(uri)?,
        MediaKind::Data => check_data(uri)?,
        MediaKind::Other if has_prefix(uri, "http://") => {
            return Err(MediaError::InsecureHttp { uri: excerpt(uri) });
        }
        MediaKind::Other => return Err(MediaError::UnsupportedScheme { uri: excerpt(uri) }),
    }
    Ok(kind)
}

fn check_no_whitespace(uri: &str) -> Result<(), MediaError> {
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(MediaError::Whitespace)
    } else {
        Ok(())
    }
}

fn check_https(uri: &str) -> Result<(), MediaError> {
    check_no_whitespace(uri)?;
    // Runway measures string lengths in UTF-16 code units (JavaScript's `length`).
    let len = uri.encode_utf16().count();
    if !(HTTPS_URI_MIN_LEN..=HTTPS_URI_MAX_LEN).contains(&len) {
        return Err(MediaError::UrlLength { len });
    }
    let url = url::Url::parse(uri).map_err(|e| MediaError::InvalidUrl {
        uri: excerpt(uri),
        reason: e.to_string(),
    })?;
    match url.host() {
        Some(url::Host::Domain(_)) => Ok(()),
        Some(host @ (url::Host::Ipv4(_) | url::Host::Ipv6(_))) => Err(MediaError::IpAddressHost {
            host: host.to_string(),
        }),
        None => Err(MediaError::InvalidUrl {
            uri: excerpt(uri),
            reason: "no host".to_owned(),
        }),
    }
}

fn check_runway(uri: &str) -> Result<(), MediaError> {
    check_no_whitespace(uri)?;
    if uri.len() == "runway://".len() {
        return Err(MediaError::EmptyRunwayUri);
    }
    Ok(())
}

fn check_data(uri: &str) -> Result<(), MediaError> {
    // Cheap checks first: a too-large URI is rejected without decoding it.
    if uri.len() >= DATA_URI_LIMIT {
        return Err(MediaError::DataUriTooLarge {
            len: uri.len() as u64,
            limit: DATA_URI_LIMIT,
        });
    }
    let rest = &uri["data:".len()..];
    let Some((media_type, payload)) = rest.split_once(',') else {
        return Err(MediaError::MalformedDataUri {
            reason: "no `,` before the payload",
        });
    };
    let Some(subtype) = media_type
        .get(.."image/".len())
        .filter(|p| p.eq_ignore_ascii_case("image/"))
        .map(|_| &media_type["image/".len()..])
    else {
        return Err(MediaError::MalformedDataUri {
            reason: "the media type must be image/<type>",
        });
    };
    let Some(subtype) = subtype.strip_suffix(";base64") else {
        return Err(MediaError::MalformedDataUri {
            reason: "the media type must be followed by `;base64` and nothing else",
        });
    };
    if subtype.is_empty()
        || !subtype
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return Err(MediaError::MalformedDataUri {
            reason: "the image type must be a token such as png or jpeg",
        });
    }
    if payload.is_empty() {
        return Err(MediaError::MalformedDataUri {
            reason: "the payload is empty",
        });
    }
    check_no_whitespace(payload)?;
    BASE64_LENIENT_PADDING
        .decode(payload)
        .map_err(|e| MediaError::InvalidBase64 {
            reason: e.to_string(),
        })?;
    Ok(())
}

/// Standard alphabet; padding may be present or absent (decoders on the other side accept both).
const BASE64_LENIENT_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Bytes needed to sniff every supported type (WebP: `RIFF` + 4 size bytes + `WEBP`).
const MAGIC_LEN: usize = 12;

/// The MIME type of an image from its first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

/// The length of `data:<mime>;base64,<payload>` for `raw_len` bytes of image.
fn data_uri_len(mime: &str, raw_len: u64) -> u64 {
    let prefix = ("data:".len() + mime.len() + ";base64,".len()) as u64;
    prefix + raw_len.div_ceil(3) * 4
}

/// The most raw bytes whose data URI stays under [`DATA_URI_LIMIT`].
fn max_raw_len(mime: &str) -> u64 {
    let prefix = ("data:".len() + mime.len() + ";base64,".len()) as u64;
    let payload = DATA_URI_LIMIT as u64 - 1 - prefix;
    payload / 4 * 3
}

fn check_encoded_len(mime: &str, raw_len: u64) -> Result<(), MediaError> {
    let len = data_uri_len(mime, raw_len);
    if len >= DATA_URI_LIMIT as u64 {
        Err(MediaError::DataUriTooLarge {
            len,
            limit: DATA_URI_LIMIT,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_a_large_data_uri_instead_of_copying_it() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.resize(3_000_000, 7);
        let uri = MediaUri::from_bytes(&png).unwrap();
        let request = crate::image_to_video::ImageToVideo::new(
            "gen4_turbo",
            crate::image_to_video::PromptImage::uri(uri.clone()),
        );
        let copies: Vec<_> = (0..100).map(|_| request.clone()).collect();
        for copy in &copies {
            let crate::image_to_video::PromptImage::Uri(shared) = copy.prompt_image() else {
                panic!("one image")
            };
            // The same 4 MB buffer, not a copy of it.
            assert_eq!(shared.as_str().as_ptr(), uri.as_str().as_ptr());
        }
        assert_eq!(Arc::strong_count(&uri.shared()), 1 + 1 + 1 + 100);
    }

    #[tokio::test]
    async fn the_async_reader_gives_what_the_blocking_one_gives() {
        let path = std::env::temp_dir().join(format!("media-async-{}.png", std::process::id()));
        std::fs::write(&path, b"\x89PNG\r\n\x1a\n1234").unwrap();
        let blocking = MediaUri::from_path(&path).unwrap();
        let non_blocking = MediaUri::from_path_async(&path).await.unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(blocking, non_blocking);
        assert_eq!(non_blocking.mime_type(), Some("image/png"));
        let missing = MediaUri::from_path_async(&path).await.unwrap_err();
        assert!(matches!(missing, MediaError::Io { .. }), "{missing}");
    }

    #[test]
    fn data_uri_len_matches_the_encoder() {
        for n in 0..20usize {
            let bytes = vec![0u8; n];
            let mut uri = String::from("data:image/png;base64,");
            base64::engine::general_purpose::STANDARD.encode_string(&bytes, &mut uri);
            assert_eq!(
                data_uri_len("image/png", n as u64),
                uri.len() as u64,
                "n = {n}"
            );
        }
    }

    #[test]
    fn max_raw_len_is_the_boundary() {
        for mime in ["image/png", "image/jpeg", "image/webp", "image/gif"] {
            let max = max_raw_len(mime);
            assert!(data_uri_len(mime, max) < DATA_URI_LIMIT as u64);
            assert!(data_uri_len(mime, max + 1) >= DATA_URI_LIMIT as u64);
        }
    }

    #[test]
    fn sniffs_the_four_types() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xDB]), Some("image/jpeg"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"GIF87a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
    }

    #[test]
    fn kind_is_case_insensitive_on_the_scheme() {
        assert_eq!(kind_of("HTTPS://example.com/a"), MediaKind::Https);
        assert_eq!(kind_of("Runway://x"), MediaKind::Runway);
        assert_eq!(kind_of("DATA:image/png;base64,AA=="), MediaKind::Data);
        assert_eq!(kind_of("ftp://x"), MediaKind::Other);
        assert_eq!(kind_of("é"), MediaKind::Other);
    }

    #[test]
    fn excerpt_cuts_long_uris_on_a_char_boundary() {
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 65);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn display_of_a_malformed_unchecked_data_uri_is_still_short() {
        let uri = MediaUri::unchecked(format!("data:{}", "A".repeat(10_000)));
        assert_eq!(uri.to_string(), "data:<10000 bytes>");
        assert_eq!(format!("{uri:?}"), "MediaUri(data:<10000 bytes>)");
    }
}
