//! The typed request for Runway's `POST /v1/image_to_video`, with client-side validation.
//!
//! [`ImageToVideo`] builds the body; [`ImageToVideo::validate`] checks it against the per-model
//! rules in [`MODEL_RULES`] plus rules that hold for every model, and reports every violation at
//! once; [`ImageToVideo::to_body`] produces Runway's JSON.
//!
//! ```
//! use lowcodeapi_runwayml::image_to_video::{
//!     ContentModeration, ImageToVideo, Model, PromptImage, PublicFigureThreshold, Ratio,
//! };
//!
//! let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?)
//!     .prompt_text("the camera pulls back slowly")
//!     .ratio(Ratio::W1280H720)
//!     .duration(5)
//!     .seed(42)
//!     .content_moderation(
//!         ContentModeration::new().public_figure_threshold(PublicFigureThreshold::Low),
//!     )
//!     .extra("audio", false);
//! req.validate()?;
//! assert_eq!(
//!     req.to_body(),
//!     serde_json::json!({
//!         "model": "gen4_turbo",
//!         "promptImage": "https://example.com/a.jpg",
//!         "promptText": "the camera pulls back slowly",
//!         "ratio": "1280:720",
//!         "duration": 5,
//!         "seed": 42,
//!         "contentModeration": {"publicFigureThreshold": "low"},
//!         "audio": false,
//!     })
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Models, ratios and positions are open enums: a value this SDK does not know yet is kept as
//! `Other(String)` and sent unchanged. An unknown model is checked against the universal rules
//! only.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::media::{MediaError, MediaUri};

/// Defines an open enum: known values as unit variants plus `Other(String)` for anything else.
///
/// Equality and hashing compare the wire strings, so `Other("gen4_turbo")` equals `Gen4Turbo`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this SDK version does not know; sent to Runway unchanged.
            Other(String),
        }

        impl $name {
            /// Every value this SDK version knows, in declaration order.
            ///
            #[doc = concat!("```\nuse lowcodeapi_runwayml::image_to_video::", stringify!($name), ";\nassert!(", stringify!($name), "::KNOWN.iter().all(|v| v.is_known()));\n```")]
            pub const KNOWN: &'static [$name] = &[$($name::$variant),*];

            /// The string Runway uses for this value.
            ///
            #[doc = concat!("```\nuse lowcodeapi_runwayml::image_to_video::", stringify!($name), ";\nlet first = &", stringify!($name), "::KNOWN[0];\nassert_eq!(", stringify!($name), "::from(first.as_str()), *first);\nassert_eq!(", stringify!($name), "::from(\"not-yet-known\").as_str(), \"not-yet-known\");\n```")]
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $wire, )*
                    $name::Other(s) => s,
                }
            }

            /// Whether this is one of [`Self::KNOWN`] (an `Other` spelling a known value counts).
            ///
            #[doc = concat!("```\nuse lowcodeapi_runwayml::image_to_video::", stringify!($name), ";\nlet first = ", stringify!($name), "::KNOWN[0].as_str();\nassert!(", stringify!($name), "::Other(first.to_owned()).is_known());\nassert!(!", stringify!($name), "::from(\"not-yet-known\").is_known());\n```")]
            pub fn is_known(&self) -> bool {
                Self::KNOWN.iter().any(|k| k.as_str() == self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $wire => $name::$variant, )*
                    other => $name::Other(other.to_owned()),
                })
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s.parse() {
                    Ok(v) => v,
                    Err(never) => match never {},
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $( $wire => $name::$variant, )*
                    _ => $name::Other(s),
                }
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

open_enum! {
    /// A Runway image-to-video model.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Model;
    ///
    /// assert_eq!(Model::Gen45.as_str(), "gen4.5");
    /// assert_eq!("veo3.1_fast".parse::<Model>().unwrap(), Model::Veo31Fast);
    /// assert_eq!(Model::from("gen9"), Model::Other("gen9".to_owned()));
    /// ```
    pub enum Model {
        /// `gen4.5`.
        Gen45 = "gen4.5",
        /// `gen4_turbo`.
        Gen4Turbo = "gen4_turbo",
        /// `veo3.1`.
        Veo31 = "veo3.1",
        /// `veo3.1_fast`.
        Veo31Fast = "veo3.1_fast",
        /// `gemini_omni_flash`.
        GeminiOmniFlash = "gemini_omni_flash",
        /// `happyhorse_1_0`.
        HappyHorse10 = "happyhorse_1_0",
        /// `hailuo3`.
        Hailuo3 = "hailuo3",
        /// `seedance2`.
        Seedance2 = "seedance2",
        /// `seedance2_fast`.
        Seedance2Fast = "seedance2_fast",
        /// `seedance2_mini`.
        Seedance2Mini = "seedance2_mini",
        /// `seedance2_5`.
        Seedance25 = "seedance2_5",
        /// `gen3a_turbo`: retired by Runway on 2026-07-30. Kept so that a request naming it gets a
        /// clear "retired" violation instead of a server error.
        Gen3aTurbo = "gen3a_turbo",
    }
}

impl Model {
    /// This model's entry in [`MODEL_RULES`], `None` for a model the table does not know.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Model;
    ///
    /// assert_eq!(Model::Gen3aTurbo.rules().unwrap().retired, Some("2026-07-30"));
    /// assert!(Model::from("gen9").rules().is_none());
    /// ```
    pub fn rules(&self) -> Option<&'static ModelRules> {
        rules_for(self.as_str())
    }
}

open_enum! {
    /// An output resolution or aspect ratio (`ratio`).
    ///
    /// Most models take pixel sizes written `width:height` (variant `W{width}H{height}`); hailuo3
    /// takes aspect ratios (`Aspect{w}x{h}`) or `adaptive`.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Ratio;
    ///
    /// assert_eq!(Ratio::W1280H720.as_str(), "1280:720");
    /// assert_eq!(Ratio::Aspect16x9.as_str(), "16:9");
    /// assert_eq!("1440:1440".parse::<Ratio>().unwrap(), Ratio::Other("1440:1440".to_owned()));
    /// ```
    pub enum Ratio {
        /// `1280:720` (landscape 16:9).
        W1280H720 = "1280:720",
        /// `720:1280` (portrait 9:16).
        W720H1280 = "720:1280",
        /// `1104:832` (landscape 4:3).
        W1104H832 = "1104:832",
        /// `960:960` (square).
        W960H960 = "960:960",
        /// `832:1104` (portrait 3:4).
        W832H1104 = "832:1104",
        /// `1584:672` (landscape 21:9).
        W1584H672 = "1584:672",
        /// `1080:1920` (portrait 9:16, 1080p).
        W1080H1920 = "1080:1920",
        /// `1920:1080` (landscape 16:9, 1080p).
        W1920H1080 = "1920:1080",
        /// `1280:768` (gen3a_turbo landscape).
        W1280H768 = "1280:768",
        /// `768:1280` (gen3a_turbo portrait).
        W768H1280 = "768:1280",
        /// `adaptive`: follow the input image (hailuo3).
        Adaptive = "adaptive",
        /// `21:9`.
        Aspect21x9 = "21:9",
        /// `16:9`.
        Aspect16x9 = "16:9",
        /// `4:3`.
        Aspect4x3 = "4:3",
        /// `1:1`.
        Aspect1x1 = "1:1",
        /// `3:4`.
        Aspect3x4 = "3:4",
        /// `9:16`.
        Aspect9x16 = "9:16",
    }
}

open_enum! {
    /// Where a keyframe image sits in the video.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Position;
    ///
    /// assert_eq!(Position::Last.to_string(), "last");
    /// ```
    pub enum Position {
        /// `first`: the video starts on this image.
        First = "first",
        /// `last`: the video ends on this image.
        Last = "last",
    }
}

open_enum! {
    /// How strictly content moderation treats recognizable public figures.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::PublicFigureThreshold;
    ///
    /// assert_eq!(PublicFigureThreshold::Low.as_str(), "low");
    /// ```
    pub enum PublicFigureThreshold {
        /// `auto`: Runway's default.
        Auto = "auto",
        /// `low`: less strict about public figures.
        Low = "low",
    }
}

/// `contentModeration` settings (accepted by gen4.5 and gen4_turbo).
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{ContentModeration, PublicFigureThreshold};
///
/// let cm = ContentModeration::new().public_figure_threshold(PublicFigureThreshold::Low);
/// assert_eq!(
///     serde_json::to_value(&cm).unwrap(),
///     serde_json::json!({"publicFigureThreshold": "low"})
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ContentModeration {
    /// `publicFigureThreshold`; omitted when `None` (Runway then uses `auto`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_figure_threshold: Option<PublicFigureThreshold>,
}

impl ContentModeration {
    /// Empty settings: Runway's defaults.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::ContentModeration;
    /// assert_eq!(ContentModeration::new(), ContentModeration::default());
    /// ```
    pub fn new() -> ContentModeration {
        ContentModeration::default()
    }

    /// Sets `publicFigureThreshold`.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ContentModeration, PublicFigureThreshold};
    /// let cm = ContentModeration::new().public_figure_threshold(PublicFigureThreshold::Auto);
    /// assert_eq!(cm.public_figure_threshold, Some(PublicFigureThreshold::Auto));
    /// ```
    pub fn public_figure_threshold(
        mut self,
        threshold: PublicFigureThreshold,
    ) -> ContentModeration {
        self.public_figure_threshold = Some(threshold);
        self
    }
}

/// One image of a `promptImage` array: a keyframe (`first`/`last`) or a reference image without a
/// position.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Keyframe, Position};
/// use lowcodeapi_runwayml::media::MediaUri;
///
/// let k = Keyframe::last(MediaUri::parse("https://example.com/end.jpg")?);
/// assert_eq!(k.position(), Some(&Position::Last));
/// assert_eq!(Keyframe::reference(k.uri().clone()).position(), None);
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keyframe {
    uri: MediaUri,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<Position>,
}

impl Keyframe {
    /// The image the video starts on (`position: "first"`).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{Keyframe, Position};
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let k = Keyframe::first(MediaUri::parse("https://example.com/a.jpg")?);
    /// assert_eq!(k.position(), Some(&Position::First));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn first(uri: MediaUri) -> Keyframe {
        Keyframe::new(uri, Some(Position::First))
    }

    /// The image the video ends on (`position: "last"`).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{Keyframe, Position};
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let k = Keyframe::last(MediaUri::parse("https://example.com/b.jpg")?);
    /// assert_eq!(k.position(), Some(&Position::Last));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn last(uri: MediaUri) -> Keyframe {
        Keyframe::new(uri, Some(Position::Last))
    }

    /// A reference image: no `position` on the wire (hailuo3, seedance).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Keyframe;
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let k = Keyframe::reference(MediaUri::parse("https://example.com/a.jpg")?);
    /// assert_eq!(k.position(), None);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn reference(uri: MediaUri) -> Keyframe {
        Keyframe::new(uri, None)
    }

    /// Any position, including one this SDK does not know (`Position::Other`).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{Keyframe, Position};
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let k = Keyframe::new(MediaUri::parse("runway://a")?, Some(Position::from("middle")));
    /// assert_eq!(k.position().unwrap().as_str(), "middle");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn new(uri: MediaUri, position: Option<Position>) -> Keyframe {
        Keyframe { uri, position }
    }

    /// The image.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Keyframe;
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let k = Keyframe::first(MediaUri::parse("runway://a")?);
    /// assert_eq!(k.uri().as_str(), "runway://a");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn uri(&self) -> &MediaUri {
        &self.uri
    }

    /// The position, `None` for a reference image.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{Keyframe, Position};
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// assert_eq!(Keyframe::last(MediaUri::parse("runway://a")?).position(), Some(&Position::Last));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn position(&self) -> Option<&Position> {
        self.position.as_ref()
    }
}

/// The `promptImage` field: one URI, or an array of keyframes / reference images.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Keyframe, PromptImage};
/// use lowcodeapi_runwayml::media::MediaUri;
///
/// let one = PromptImage::url("https://example.com/a.jpg")?;
/// let two = PromptImage::keyframes([
///     Keyframe::first(MediaUri::parse("https://example.com/a.jpg")?),
///     Keyframe::last(MediaUri::parse("https://example.com/b.jpg")?),
/// ]);
/// assert_eq!(one.len(), 1);
/// assert_eq!(two.len(), 2);
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PromptImage {
    /// One image, sent as a bare URI string.
    Uri(MediaUri),
    /// An array of `{uri, position?}` objects.
    List(Vec<Keyframe>),
}

impl PromptImage {
    /// One image from a URI string, checked as by [`MediaUri::parse`].
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::PromptImage;
    /// assert!(PromptImage::url("https://example.com/a.jpg").is_ok());
    /// assert!(PromptImage::url("http://example.com/a.jpg").is_err());
    /// ```
    pub fn url(uri: &str) -> Result<PromptImage, MediaError> {
        MediaUri::parse(uri).map(PromptImage::Uri)
    }

    /// One image.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::PromptImage;
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let image = PromptImage::uri(MediaUri::parse("runway://uploads/1")?);
    /// assert_eq!(image.len(), 1);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn uri(uri: MediaUri) -> PromptImage {
        PromptImage::Uri(uri)
    }

    /// An array of keyframes and/or reference images, in order.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{Keyframe, PromptImage};
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let image = PromptImage::keyframes([Keyframe::first(MediaUri::parse("runway://a")?)]);
    /// assert_eq!(image.len(), 1);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn keyframes(items: impl IntoIterator<Item = Keyframe>) -> PromptImage {
        PromptImage::List(items.into_iter().collect())
    }

    /// An array of reference images without position (hailuo3, seedance).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::PromptImage;
    /// use lowcodeapi_runwayml::media::MediaUri;
    /// let image = PromptImage::references([MediaUri::parse("runway://a")?, MediaUri::parse("runway://b")?]);
    /// assert_eq!(image.len(), 2);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn references(uris: impl IntoIterator<Item = MediaUri>) -> PromptImage {
        PromptImage::List(uris.into_iter().map(Keyframe::reference).collect())
    }

    /// The number of images.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::PromptImage;
    /// assert_eq!(PromptImage::url("runway://a")?.len(), 1);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn len(&self) -> usize {
        match self {
            PromptImage::Uri(_) => 1,
            PromptImage::List(items) => items.len(),
        }
    }

    /// Whether there is no image (only possible with an empty list, which `validate()` rejects).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::PromptImage;
    /// assert!(PromptImage::keyframes([]).is_empty());
    /// assert!(!PromptImage::url("runway://a")?.is_empty());
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<MediaUri> for PromptImage {
    fn from(uri: MediaUri) -> Self {
        PromptImage::Uri(uri)
    }
}

impl From<Vec<Keyframe>> for PromptImage {
    fn from(items: Vec<Keyframe>) -> Self {
        PromptImage::List(items)
    }
}

/// A field of the request that the rules table can require.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Field, Model};
/// assert!(Model::Gen45.rules().unwrap().requires(Field::PromptText));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `promptText`.
    PromptText,
    /// `ratio`.
    Ratio,
    /// `duration`.
    Duration,
    /// `seed`.
    Seed,
    /// `contentModeration`.
    ContentModeration,
}

impl Field {
    /// The field's JSON name, also the violation path.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Field;
    /// assert_eq!(Field::ContentModeration.as_str(), "contentModeration");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Field::PromptText => "promptText",
            Field::Ratio => "ratio",
            Field::Duration => "duration",
            Field::Seed => "seed",
            Field::ContentModeration => "contentModeration",
        }
    }
}

/// The durations a model accepts, in whole seconds.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Durations, Model};
/// let rules = Model::Gen4Turbo.rules().unwrap();
/// assert!(rules.durations.allows(5));
/// assert!(!matches!(rules.durations, Durations::Any));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durations {
    /// Not checked client-side.
    Any,
    /// Any integer in the range.
    Range(RangeInclusive<u32>),
    /// One of these values.
    OneOf(&'static [u32]),
}

impl Durations {
    /// Whether `seconds` is accepted.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::Durations;
    /// assert!(Durations::Range(2..=10).allows(4));
    /// assert!(!Durations::OneOf(&[5, 10]).allows(7));
    /// assert!(Durations::Any.allows(1000));
    /// ```
    pub fn allows(&self, seconds: u32) -> bool {
        match self {
            Durations::Any => true,
            Durations::Range(range) => range.contains(&seconds),
            Durations::OneOf(values) => values.contains(&seconds),
        }
    }
}

impl fmt::Display for Durations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Durations::Any => f.write_str("any number of seconds"),
            Durations::Range(r) => {
                write!(f, "an integer from {} to {} seconds", r.start(), r.end())
            }
            Durations::OneOf(values) => {
                let (last, rest) = values.split_last().unwrap_or((&0, &[]));
                let rest: Vec<String> = rest.iter().map(u32::to_string).collect();
                if rest.is_empty() {
                    write!(f, "{last} seconds")
                } else {
                    write!(f, "{} or {last} seconds", rest.join(", "))
                }
            }
        }
    }
}

/// How the images of a `promptImage` array are positioned.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Model, Positions};
/// assert!(matches!(Model::Veo31.rules().unwrap().positions, Positions::FirstLast { .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Positions {
    /// Each image has position `first` (with `max_images: Some(1)`, one start frame).
    First,
    /// Keyframes: each image has position `first` or `last`, each position at most once. When
    /// `last_alone` is false, a `last` keyframe needs a `first` one.
    FirstLast {
        /// Whether a `last` keyframe may be given without a `first` one.
        last_alone: bool,
    },
    /// Reference images: no image has a position.
    Unpositioned,
    /// Either keyframes (as [`Positions::FirstLast`]) or reference images without position, never
    /// both in one request.
    KeyframesOrReferences {
        /// Whether a `last` keyframe may be given without a `first` one.
        last_alone: bool,
    },
}

/// What one model accepts. One row of [`MODEL_RULES`].
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Field, Model};
/// let rules = Model::Gen4Turbo.rules().unwrap();
/// assert_eq!(rules.model, "gen4_turbo");
/// assert!(rules.requires(Field::Ratio));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelRules {
    /// The model's wire name (what [`Model::as_str`] returns).
    pub model: &'static str,
    /// `Some(date)` when Runway retired the model (every request is then a violation).
    pub retired: Option<&'static str>,
    /// Fields the model requires besides `model` and `promptImage` (always required).
    pub required: &'static [Field],
    /// The accepted `promptText` length in UTF-16 code units; `None`: not checked.
    pub prompt_text: Option<RangeInclusive<usize>>,
    /// The accepted `ratio` values (wire strings); `None`: any, or not applicable.
    pub ratios: Option<&'static [&'static str]>,
    /// The accepted `duration` values.
    pub durations: Durations,
    /// The most images `promptImage` may hold; `None`: not checked.
    pub max_images: Option<usize>,
    /// How the images of a `promptImage` array must be positioned. A single bare URI is always
    /// accepted.
    pub positions: Positions,
    /// Whether the model accepts `contentModeration`.
    pub content_moderation: bool,
}

impl ModelRules {
    /// Whether the model requires `field`.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{Field, Model};
    /// assert!(Model::Gen4Turbo.rules().unwrap().requires(Field::Ratio));
    /// ```
    pub fn requires(&self, field: Field) -> bool {
        self.required.contains(&field)
    }
}

const GEN4_RATIOS: &[&str] = &[
    "1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672",
];
const VEO_RATIOS: &[&str] = &["1280:720", "720:1280", "1080:1920", "1920:1080"];
const GEMINI_RATIOS: &[&str] = &["1280:720", "720:1280"];
const HAILUO_RATIOS: &[&str] = &["adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"];
const GEN3A_RATIOS: &[&str] = &["1280:768", "768:1280"];

/// The per-model rules [`ImageToVideo::validate`] applies, one row per model (Runway, 2026-08).
///
/// **Updating:** a new or changed model is a one-row change here. Rows are keyed by the model's
/// wire name, so a model without a [`Model`] variant (sent as `Model::Other`) is validated as soon
/// as it has a row; adding a named variant is a convenience, not a requirement. Ratios are wire
/// strings for the same reason. Models without a row get the universal rules only.
///
/// Where Runway's reference gives only a maximum `promptText` length, the row requires a non-empty
/// text (Runway describes `promptText` as a non-empty string). Where it is silent (seedance image
/// counts and ratios, whether seedance accepts a `last` keyframe alone), the row does not restrict.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{MODEL_RULES, Model};
///
/// let gen45 = MODEL_RULES.iter().find(|r| r.model == "gen4.5").unwrap();
/// assert_eq!(gen45.prompt_text, Some(1..=1000));
/// assert_eq!(Model::Gen45.rules(), Some(gen45));
/// ```
pub static MODEL_RULES: &[ModelRules] = &[
    ModelRules {
        model: "gen4.5",
        retired: None,
        required: &[Field::PromptText, Field::Ratio, Field::Duration],
        prompt_text: Some(1..=1000),
        ratios: Some(GEN4_RATIOS),
        durations: Durations::Range(2..=10),
        max_images: Some(1),
        positions: Positions::First,
        content_moderation: true,
    },
    ModelRules {
        model: "gen4_turbo",
        retired: None,
        required: &[Field::Ratio],
        prompt_text: Some(1..=1000),
        ratios: Some(GEN4_RATIOS),
        durations: Durations::Range(2..=10),
        max_images: Some(1),
        positions: Positions::First,
        content_moderation: true,
    },
    ModelRules {
        model: "veo3.1",
        retired: None,
        required: &[Field::Ratio],
        prompt_text: Some(1..=1000),
        ratios: Some(VEO_RATIOS),
        durations: Durations::OneOf(&[4, 6, 8]),
        max_images: Some(2),
        positions: Positions::FirstLast { last_alone: false },
        content_moderation: false,
    },
    ModelRules {
        model: "veo3.1_fast",
        retired: None,
        required: &[Field::Ratio],
        prompt_text: Some(1..=1000),
        ratios: Some(VEO_RATIOS),
        durations: Durations::OneOf(&[4, 6, 8]),
        max_images: Some(2),
        positions: Positions::FirstLast { last_alone: false },
        content_moderation: false,
    },
    ModelRules {
        model: "gemini_omni_flash",
        retired: None,
        required: &[],
        prompt_text: Some(1..=4000),
        ratios: Some(GEMINI_RATIOS),
        durations: Durations::Range(3..=10),
        max_images: Some(1),
        positions: Positions::First,
        content_moderation: false,
    },
    ModelRules {
        model: "happyhorse_1_0",
        retired: None,
        required: &[],
        prompt_text: Some(2..=2500),
        ratios: None,
        durations: Durations::Range(3..=15),
        max_images: Some(1),
        positions: Positions::First,
        content_moderation: false,
    },
    ModelRules {
        model: "hailuo3",
        retired: None,
        required: &[Field::PromptText],
        prompt_text: Some(1..=6000),
        ratios: Some(HAILUO_RATIOS),
        durations: Durations::Range(5..=15),
        max_images: Some(9),
        positions: Positions::Unpositioned,
        content_moderation: false,
    },
    ModelRules {
        model: "seedance2",
        retired: None,
        required: &[],
        prompt_text: Some(1..=3500),
        ratios: None,
        durations: Durations::Range(4..=15),
        max_images: None,
        positions: Positions::KeyframesOrReferences { last_alone: true },
        content_moderation: false,
    },
    ModelRules {
        model: "seedance2_fast",
        retired: None,
        required: &[],
        prompt_text: Some(1..=3500),
        ratios: None,
        durations: Durations::Range(4..=15),
        max_images: None,
        positions: Positions::KeyframesOrReferences { last_alone: true },
        content_moderation: false,
    },
    ModelRules {
        model: "seedance2_mini",
        retired: None,
        required: &[],
        prompt_text: Some(1..=3500),
        ratios: None,
        durations: Durations::Range(4..=15),
        max_images: None,
        positions: Positions::KeyframesOrReferences { last_alone: true },
        content_moderation: false,
    },
    ModelRules {
        model: "seedance2_5",
        retired: None,
        required: &[],
        prompt_text: Some(1..=15000),
        ratios: None,
        durations: Durations::Range(4..=30),
        max_images: None,
        positions: Positions::KeyframesOrReferences { last_alone: true },
        content_moderation: false,
    },
    ModelRules {
        model: "gen3a_turbo",
        retired: Some("2026-07-30"),
        required: &[],
        prompt_text: None,
        ratios: Some(GEN3A_RATIOS),
        durations: Durations::OneOf(&[5, 10]),
        max_images: Some(2),
        positions: Positions::FirstLast { last_alone: true },
        content_moderation: false,
    },
];

/// The row of [`MODEL_RULES`] for a model's wire name.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::rules_for;
/// assert_eq!(rules_for("gen4.5").unwrap().model, "gen4.5");
/// assert!(rules_for("gen9").is_none());
/// ```
pub fn rules_for(model: &str) -> Option<&'static ModelRules> {
    MODEL_RULES.iter().find(|r| r.model == model)
}

/// The largest `seed` Runway accepts.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, MAX_SEED, Model, PromptImage, Ratio};
/// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?)
///     .ratio(Ratio::W1280H720);
/// assert!(req.clone().seed(MAX_SEED).validate().is_ok());
/// assert!(req.seed(MAX_SEED + 1).validate().is_err());
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
pub const MAX_SEED: u64 = u32::MAX as u64;

/// JSON keys the typed API owns; `extra()` may not set them (see [`ImageToVideo::extra`]).
const TYPED_KEYS: &[(&str, &str)] = &[
    ("model", "ImageToVideo::new"),
    ("promptImage", "ImageToVideo::new"),
    ("promptText", "ImageToVideo::prompt_text"),
    ("ratio", "ImageToVideo::ratio"),
    ("duration", "ImageToVideo::duration"),
    ("seed", "ImageToVideo::seed"),
    ("contentModeration", "ImageToVideo::content_moderation"),
];

/// One problem found by [`ImageToVideo::validate`].
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
/// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
/// let error = req.validate().unwrap_err(); // gen4_turbo needs a ratio
/// let first = &error.violations()[0];
/// assert_eq!(first.path, "ratio");
/// assert!(first.to_string().starts_with("ratio: "));
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Violation {
    /// Where: the JSON path in Runway's body, e.g. `ratio` or `promptImage[1].position`.
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every violation found in an [`ImageToVideo`] request.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
///
/// let err = ImageToVideo::new(Model::Gen45, PromptImage::url("https://example.com/a.jpg")?)
///     .seed(1 << 40)
///     .validate()
///     .unwrap_err();
/// let paths: Vec<&str> = err.violations().iter().map(|v| v.path.as_str()).collect();
/// assert_eq!(paths, ["promptText", "ratio", "duration", "seed"]);
/// assert!(err.to_string().starts_with("invalid image_to_video request: promptText: "));
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image_to_video request: {}", join(.violations))]
pub struct ValidationError {
    violations: Vec<Violation>,
}

fn join(violations: &[Violation]) -> String {
    let parts: Vec<String> = violations.iter().map(Violation::to_string).collect();
    parts.join("; ")
}

impl ValidationError {
    /// One violation, for checks made outside the rules table.
    pub(crate) fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            violations: vec![Violation {
                path: path.into(),
                message: message.into(),
            }],
        }
    }

    /// The violations, in body order (model, promptImage, promptText, ratio, duration, seed,
    /// contentModeration, then extras in key order).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.validate().unwrap_err().violations().len(), 1);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Consumes the error, returning the violations.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// let all = req.validate().unwrap_err().into_violations();
    /// assert_eq!(all[0].path, "ratio");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}

/// A `POST /v1/image_to_video` request.
///
/// Build it with [`ImageToVideo::new`] and the setters; check it with
/// [`ImageToVideo::validate`]; turn it into Runway's JSON with [`ImageToVideo::to_body`] (or
/// serialize it: `Serialize` writes the same JSON).
///
/// Getters: fields without a same-named setter have plain names ([`model`](Self::model),
/// [`prompt_image`](Self::prompt_image), [`extras`](Self::extras)); the others are `get_*` (as in
/// the AWS SDK builders), since `prompt_text(…)` etc. are the setters.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage, Ratio};
/// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?)
///     .ratio(Ratio::W1280H720)
///     .duration(5);
/// assert!(req.validate().is_ok());
/// assert_eq!(req.to_body()["ratio"], "1280:720");
/// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ImageToVideo {
    model: Model,
    prompt_image: PromptImage,
    prompt_text: Option<String>,
    ratio: Option<Ratio>,
    duration: Option<u32>,
    seed: Option<u64>,
    content_moderation: Option<ContentModeration>,
    extras: Map<String, Value>,
    skip_validation: bool,
}

impl ImageToVideo {
    /// A request for `model` animating `prompt_image`; every other field unset.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, PromptImage};
    ///
    /// // Any model name works; unknown ones are sent unchanged.
    /// let req = ImageToVideo::new("gen9_preview", PromptImage::url("runway://upload/1")?);
    /// assert_eq!(req.model().as_str(), "gen9_preview");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn new(model: impl Into<Model>, prompt_image: impl Into<PromptImage>) -> ImageToVideo {
        ImageToVideo {
            model: model.into(),
            prompt_image: prompt_image.into(),
            prompt_text: None,
            ratio: None,
            duration: None,
            seed: None,
            content_moderation: None,
            extras: Map::new(),
            skip_validation: false,
        }
    }

    /// Sets `promptText`. Its length is counted in UTF-16 code units, as Runway counts it.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?).prompt_text("a slow pan");
    /// assert_eq!(req.get_prompt_text(), Some("a slow pan"));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn prompt_text(mut self, text: impl Into<String>) -> ImageToVideo {
        self.prompt_text = Some(text.into());
        self
    }

    /// Sets `ratio`.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage, Ratio};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?).ratio(Ratio::W960H960);
    /// assert_eq!(req.get_ratio(), Some(&Ratio::W960H960));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn ratio(mut self, ratio: impl Into<Ratio>) -> ImageToVideo {
        self.ratio = Some(ratio.into());
        self
    }

    /// Sets `duration`, in seconds.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?).duration(10);
    /// assert_eq!(req.get_duration(), Some(10));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn duration(mut self, seconds: u32) -> ImageToVideo {
        self.duration = Some(seconds);
        self
    }

    /// Sets `seed`. Runway accepts 0..=4294967295 ([`MAX_SEED`]); a larger value is a
    /// violation. Unset, Runway picks a random seed.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?).seed(42);
    /// assert_eq!(req.get_seed(), Some(42));
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn seed(mut self, seed: u64) -> ImageToVideo {
        self.seed = Some(seed);
        self
    }

    /// Sets `contentModeration` (accepted by gen4.5 and gen4_turbo).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ContentModeration, ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?).content_moderation(ContentModeration::new());
    /// assert!(req.get_content_moderation().is_some());
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn content_moderation(mut self, settings: ContentModeration) -> ImageToVideo {
        self.content_moderation = Some(settings);
        self
    }

    /// Adds a field the typed API does not model (e.g. `audio`, `negativePrompt`, `resolution`,
    /// `outputFormat`, `watermark`), sent unchanged. Setting the same key again replaces the value.
    ///
    /// Extras may not carry a field the typed API owns (`model`, `promptImage`, `promptText`,
    /// `ratio`, `duration`, `seed`, `contentModeration`): [`validate`](Self::validate) reports
    /// such a key as a violation. If validation is skipped, typed fields win: a typed field that is
    /// set replaces an extra of the same key in [`to_body`](Self::to_body).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage, Ratio};
    ///
    /// let req = ImageToVideo::new(Model::Veo31, PromptImage::url("https://example.com/a.jpg")?)
    ///     .ratio(Ratio::W1280H720)
    ///     .extra("audio", false)
    ///     .extra("negativePrompt", "blurry");
    /// assert_eq!(req.to_body()["negativePrompt"], "blurry");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> ImageToVideo {
        self.extras.insert(key.into(), value.into());
        self
    }

    /// Turns client-side validation off for this request: [`validate`](Self::validate) then
    /// returns `Ok(())` and Runway alone judges the request.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    ///
    /// let req = ImageToVideo::new(Model::Gen45, PromptImage::url("https://example.com/a.jpg")?);
    /// assert!(req.validate().is_err());
    /// assert!(req.skip_validation().validate().is_ok());
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn skip_validation(mut self) -> ImageToVideo {
        self.skip_validation = true;
        self
    }

    /// The model.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.model(), &Model::Gen4Turbo);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The `promptImage`.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.prompt_image().len(), 1);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn prompt_image(&self) -> &PromptImage {
        &self.prompt_image
    }

    /// The `promptText`, if set.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.get_prompt_text(), None);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn get_prompt_text(&self) -> Option<&str> {
        self.prompt_text.as_deref()
    }

    /// The `ratio`, if set.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.get_ratio(), None);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn get_ratio(&self) -> Option<&Ratio> {
        self.ratio.as_ref()
    }

    /// The `duration` in seconds, if set.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.get_duration(), None);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn get_duration(&self) -> Option<u32> {
        self.duration
    }

    /// The `seed`, if set.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.get_seed(), None);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn get_seed(&self) -> Option<u64> {
        self.seed
    }

    /// The `contentModeration`, if set.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert_eq!(req.get_content_moderation(), None);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn get_content_moderation(&self) -> Option<&ContentModeration> {
        self.content_moderation.as_ref()
    }

    /// The extra fields.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?).extra("audio", false);
    /// assert_eq!(req.extras()["audio"], false);
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn extras(&self) -> &Map<String, Value> {
        &self.extras
    }

    /// Whether [`skip_validation`](Self::skip_validation) was called.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert!(!req.is_validation_skipped());
    /// assert!(req.skip_validation().is_validation_skipped());
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn is_validation_skipped(&self) -> bool {
        self.skip_validation
    }

    /// Checks the request against the universal rules and its model's row of [`MODEL_RULES`],
    /// reporting every violation at once. `Ok(())` when validation is skipped.
    ///
    /// Universal rules (every model, known or not): `model` is not empty; `promptImage` holds at
    /// least one image; every image URI has a valid form (see [`MediaUri::parse`]); `seed` is in
    /// 0..=4294967295; extras do not set typed fields. A known model adds its row: retired models,
    /// required fields, `promptText` length in UTF-16 code units, `ratio`, `duration`, image count
    /// and positions, `contentModeration`.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage, Ratio};
    ///
    /// let err = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?)
    ///     .ratio(Ratio::W1920H1080)
    ///     .duration(11)
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(err.violations().len(), 2);
    /// assert_eq!(err.violations()[0].path, "ratio");
    /// assert_eq!(err.violations()[1].path, "duration");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.skip_validation {
            return Ok(());
        }
        let violations = Checker::new(self).run();
        if violations.is_empty() {
            Ok(())
        } else {
            Err(ValidationError { violations })
        }
    }

    /// Runway's JSON body: `model`, `promptImage` (a URI string or an array of
    /// `{"uri", "position"?}`), then each set field in camelCase, plus the extras. Typed fields win
    /// over extras with the same key.
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Keyframe, Model, PromptImage};
    /// use lowcodeapi_runwayml::media::MediaUri;
    ///
    /// let req = ImageToVideo::new(
    ///     Model::Veo31,
    ///     PromptImage::keyframes([
    ///         Keyframe::first(MediaUri::parse("https://example.com/a.jpg")?),
    ///         Keyframe::last(MediaUri::parse("runway://b")?),
    ///     ]),
    /// );
    /// assert_eq!(
    ///     req.to_body(),
    ///     serde_json::json!({
    ///         "model": "veo3.1",
    ///         "promptImage": [
    ///             {"uri": "https://example.com/a.jpg", "position": "first"},
    ///             {"uri": "runway://b", "position": "last"},
    ///         ],
    ///     })
    /// );
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), self.model.as_str().into());
        body.insert("promptImage".into(), to_value(&self.prompt_image));
        if let Some(text) = &self.prompt_text {
            body.insert("promptText".into(), text.as_str().into());
        }
        if let Some(ratio) = &self.ratio {
            body.insert("ratio".into(), ratio.as_str().into());
        }
        if let Some(duration) = self.duration {
            body.insert("duration".into(), duration.into());
        }
        if let Some(seed) = self.seed {
            body.insert("seed".into(), seed.into());
        }
        if let Some(cm) = &self.content_moderation {
            body.insert("contentModeration".into(), to_value(cm));
        }
        for (key, value) in &self.extras {
            body.entry(key.as_str()).or_insert_with(|| value.clone());
        }
        Value::Object(body)
    }

    /// [`validate`](Self::validate), then [`to_body`](Self::to_body).
    ///
    /// ```
    /// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage, Ratio};
    /// let req = ImageToVideo::new(Model::Gen4Turbo, PromptImage::url("https://example.com/a.jpg")?);
    /// assert!(req.validated_body().is_err()); // no ratio
    /// let body = req.ratio(Ratio::W1280H720).validated_body().unwrap();
    /// assert_eq!(body["model"], "gen4_turbo");
    /// # Ok::<(), lowcodeapi_runwayml::media::MediaError>(())
    /// ```
    pub fn validated_body(&self) -> Result<Value, ValidationError> {
        self.validate()?;
        Ok(self.to_body())
    }
}

impl Serialize for ImageToVideo {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_body().serialize(serializer)
    }
}

/// Reads Runway's image_to_video body back, as [`ImageToVideo::to_body`] writes it: known fields
/// into the typed setters, every other key into [`extras`](ImageToVideo::extras), unknown models,
/// ratios and positions kept as `Other`. An image URI that would not pass [`MediaUri::parse`] is
/// kept unchecked (so a stored request always loads; [`validate`](ImageToVideo::validate)
/// reports it). Validation is on again after loading.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{ImageToVideo, Model, PromptImage, Ratio};
/// let request = ImageToVideo::new("gen9_preview", PromptImage::url("https://example.com/a.jpg")?)
///     .ratio("1:1")
///     .extra("audio", true);
/// let stored = serde_json::to_string(&request)?;
/// let loaded: ImageToVideo = serde_json::from_str(&stored)?;
/// assert_eq!(loaded, request);
/// assert_eq!(loaded.model(), &Model::Other("gen9_preview".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl<'de> Deserialize<'de> for ImageToVideo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut body = Map::deserialize(deserializer)?;
        fn take<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            body: &mut Map<String, Value>,
            key: &str,
        ) -> Result<Option<T>, E> {
            match body.remove(key) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => serde_json::from_value(value)
                    .map(Some)
                    .map_err(|e| E::custom(format_args!("{key}: {e}"))),
            }
        }
        let model: String =
            take(&mut body, "model")?.ok_or_else(|| D::Error::missing_field("model"))?;
        let prompt_image: PromptImage = take(&mut body, "promptImage")?
            .ok_or_else(|| D::Error::missing_field("promptImage"))?;
        Ok(ImageToVideo {
            model: model.into(),
            prompt_image,
            prompt_text: take(&mut body, "promptText")?,
            ratio: take::<String, _>(&mut body, "ratio")?.map(Ratio::from),
            duration: take(&mut body, "duration")?,
            seed: take(&mut body, "seed")?,
            content_moderation: take(&mut body, "contentModeration")?,
            extras: body,
            skip_validation: false,
        })
    }
}

/// For users of [`Client::raw`](crate::Client::raw): a generated request body as an
/// [`ImageToVideo`] (fields the generated type models separately, like `watermark`, become
/// extras).
///
/// ```
/// use lowcodeapi_runwayml::generated::types as wire;
/// use lowcodeapi_runwayml::ImageToVideo;
/// let raw: wire::ImageToVideoRequest = serde_json::from_value(serde_json::json!({
///     "model": "gen4_turbo", "promptImage": "https://example.com/a.jpg", "ratio": "1280:720"
/// }))?;
/// let request = ImageToVideo::try_from(raw)?;
/// assert_eq!(request.model().as_str(), "gen4_turbo");
/// # Ok::<(), serde_json::Error>(())
/// ```
impl TryFrom<crate::generated::types::ImageToVideoRequest> for ImageToVideo {
    type Error = serde_json::Error;

    fn try_from(raw: crate::generated::types::ImageToVideoRequest) -> Result<Self, Self::Error> {
        serde_json::to_value(raw).and_then(serde_json::from_value)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PromptImageJson {
    One(String),
    Many(Vec<KeyframeJson>),
}

#[derive(Deserialize)]
struct KeyframeJson {
    uri: String,
    #[serde(default)]
    position: Option<Position>,
}

/// Reads `promptImage` as Runway's body has it: a URI string, or an array of
/// `{"uri", "position"?}`. URIs are checked when they pass, kept unchecked when they do not.
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::PromptImage;
/// let one: PromptImage = serde_json::from_str(r#""https://example.com/a.jpg""#)?;
/// let two: PromptImage = serde_json::from_str(
///     r#"[{"uri":"https://example.com/a.jpg","position":"first"},{"uri":"runway://b"}]"#,
/// )?;
/// assert_eq!((one.len(), two.len()), (1, 2));
/// # Ok::<(), serde_json::Error>(())
/// ```
impl<'de> Deserialize<'de> for PromptImage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match PromptImageJson::deserialize(deserializer)? {
            PromptImageJson::One(uri) => PromptImage::Uri(MediaUri::lenient(uri)),
            PromptImageJson::Many(items) => PromptImage::List(
                items
                    .into_iter()
                    .map(|item| Keyframe::new(MediaUri::lenient(item.uri), item.position))
                    .collect(),
            ),
        })
    }
}

/// Reads one `{"uri", "position"?}` item (see [`PromptImage`]'s `Deserialize`).
///
/// ```
/// use lowcodeapi_runwayml::image_to_video::{Keyframe, Position};
/// let k: Keyframe = serde_json::from_str(r#"{"uri":"runway://a","position":"middle"}"#)?;
/// assert_eq!(k.position(), Some(&Position::Other("middle".into())));
/// # Ok::<(), serde_json::Error>(())
/// ```
impl<'de> Deserialize<'de> for Keyframe {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let item = KeyframeJson::deserialize(deserializer)?;
        Ok(Keyframe::new(MediaUri::lenient(item.uri), item.position))
    }
}

fn to_value(value: &impl Serialize) -> Value {
    // Infallible: these types serialize to strings, arrays and string-keyed objects only.
    serde_json::to_value(value).expect("request parts serialize to JSON")
}

/// Collects violations in body order.
struct Checker<'a> {
    req: &'a ImageToVideo,
    model: &'a str,
    rules: Option<&'static ModelRules>,
    violations: Vec<Violation>,
}

impl<'a> Checker<'a> {
    fn new(req: &'a ImageToVideo) -> Checker<'a> {
        Checker {
            req,
            model: req.model.as_str(),
            rules: req.model.rules(),
            violations: Vec::new(),
        }
    }

    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation {
            path: path.into(),
            message: message.into(),
        });
    }

    fn run(mut self) -> Vec<Violation> {
        self.check_model();
        self.check_prompt_image();
        self.check_prompt_text();
        self.check_ratio();
        self.check_duration();
        self.check_seed();
        self.check_content_moderation();
        self.check_extras();
        self.violations
    }

    /// A "requires X" violation when the model's row requires a field that is unset.
    fn check_required(&mut self, field: Field, is_set: bool, hint: Option<String>) -> bool {
        let Some(rules) = self.rules else {
            return false;
        };
        if is_set || !rules.requires(field) {
            return false;
        }
        let hint = hint.map(|h| format!(": {h}")).unwrap_or_default();
        let message = format!("{} requires {}{hint}", self.model, field.as_str());
        self.push(field.as_str(), message);
        true
    }

    fn check_model(&mut self) {
        if self.model.trim().is_empty() {
            self.push(
                "model",
                "the model name is empty: use a Model variant, or Model::Other with Runway's model id",
            );
        }
        if let Some(date) = self.rules.and_then(|r| r.retired) {
            let message = format!(
                "{} was retired by Runway on {date}: choose a current model such as gen4_turbo or gen4.5",
                self.model
            );
            self.push("model", message);
        }
    }

    fn check_prompt_image(&mut self) {
        let items = match &self.req.prompt_image {
            PromptImage::Uri(uri) => {
                if let Err(e) = uri.check() {
                    self.push("promptImage", e.to_string());
                }
                return;
            }
            PromptImage::List(items) => items,
        };
        if items.is_empty() {
            self.push(
                "promptImage",
                "no image given: pass at least one (PromptImage::url, ::keyframes or ::references)",
            );
            return;
        }
        for (i, item) in items.iter().enumerate() {
            if let Err(e) = item.uri.check() {
                self.push(format!("promptImage[{i}].uri"), e.to_string());
            }
        }
        let Some(rules) = self.rules else {
            return;
        };
        if let Some(max) = rules.max_images
            && items.len() > max
        {
            let message = format!(
                "{} accepts at most {max} image{}, got {}: remove {}",
                self.model,
                if max == 1 { "" } else { "s" },
                items.len(),
                items.len() - max,
            );
            self.push("promptImage", message);
        }
        match rules.positions {
            Positions::First => self.check_first_only(items),
            Positions::FirstLast { last_alone } => self.check_keyframes(items, last_alone),
            Positions::Unpositioned => self.check_unpositioned(items),
            Positions::KeyframesOrReferences { last_alone } => {
                let (keyframes, references): (Vec<_>, Vec<_>) =
                    (0..items.len()).partition(|&i| items[i].position.is_some());
                if references.is_empty() {
                    self.check_keyframes(items, last_alone);
                } else if !keyframes.is_empty() {
                    let message = format!(
                        "{} takes either keyframes (first/last) or reference images without a position, not both: images {} have a position, images {} do not; use only Keyframe::first/last or only Keyframe::reference",
                        self.model,
                        list(&keyframes),
                        list(&references),
                    );
                    self.push("promptImage", message);
                }
            }
        }
    }

    fn check_first_only(&mut self, items: &[Keyframe]) {
        for (i, item) in items.iter().enumerate() {
            let message = match item.position.as_ref().map(Position::as_str) {
                Some("first") => continue,
                None => format!(
                    "{} needs position `first` on its image: use Keyframe::first, or PromptImage::uri for a bare URI",
                    self.model
                ),
                Some(other) => format!(
                    "`{other}` is not accepted by {}: its image must be at position `first`",
                    self.model
                ),
            };
            self.push(position_path(i), message);
        }
    }

    fn check_keyframes(&mut self, items: &[Keyframe], last_alone: bool) {
        let mut first = None;
        let mut last = None;
        for (i, item) in items.iter().enumerate() {
            let position = item.position.as_ref().map(Position::as_str);
            let seen = match position {
                Some("first") => &mut first,
                Some("last") => &mut last,
                None => {
                    let message = format!(
                        "{} needs a position on each keyframe: use Keyframe::first or Keyframe::last",
                        self.model
                    );
                    self.push(position_path(i), message);
                    continue;
                }
                Some(other) => {
                    let message = format!(
                        "`{other}` is not a position {} accepts: use first or last",
                        self.model
                    );
                    self.push(position_path(i), message);
                    continue;
                }
            };
            if let Some(earlier) = *seen {
                let message = format!(
                    "`{}` is already the position of promptImage[{earlier}]: each position may appear once",
                    position.unwrap_or_default()
                );
                self.push(position_path(i), message);
            } else {
                *seen = Some(i);
            }
        }
        if !last_alone
            && first.is_none()
            && let Some(i) = last
        {
            let message = format!(
                "{} does not accept a `last` keyframe alone: add a `first` keyframe (Keyframe::first)",
                self.model
            );
            self.push(position_path(i), message);
        }
    }

    fn check_unpositioned(&mut self, items: &[Keyframe]) {
        for (i, item) in items.iter().enumerate() {
            if let Some(position) = &item.position {
                let message = format!(
                    "{} takes reference images without a position: remove `{position}` (use Keyframe::reference)",
                    self.model
                );
                self.push(position_path(i), message);
            }
        }
    }

    fn check_prompt_text(&mut self) {
        let range = self.rules.and_then(|r| r.prompt_text.clone());
        let hint = range
            .as_ref()
            .map(|r| format!("a text of {}..={} UTF-16 code units", r.start(), r.end()));
        let text = self.req.prompt_text.as_deref();
        if self.check_required(Field::PromptText, text.is_some(), hint) {
            return;
        }
        let (Some(text), Some(range)) = (text, range) else {
            return;
        };
        let units = text.encode_utf16().count();
        if range.contains(&units) {
            return;
        }
        let chars = text.chars().count();
        let note = if chars == units {
            String::new()
        } else {
            format!(
                " ({chars} characters: emoji and other characters outside the Basic Multilingual Plane count as 2)"
            )
        };
        let message = if units > *range.end() {
            format!(
                "promptText is {units} UTF-16 code units long{note}; {} accepts at most {}: shorten it",
                self.model,
                range.end()
            )
        } else {
            format!(
                "promptText is {units} UTF-16 code units long{note}; {} needs at least {}",
                self.model,
                range.start()
            )
        };
        self.push("promptText", message);
    }

    fn check_ratio(&mut self) {
        let allowed = self.rules.and_then(|r| r.ratios);
        let hint = allowed.map(|a| format!("one of {}", a.join(", ")));
        let ratio = self.req.ratio.as_ref();
        if self.check_required(Field::Ratio, ratio.is_some(), hint) {
            return;
        }
        if let (Some(ratio), Some(allowed)) = (ratio, allowed)
            && !allowed.contains(&ratio.as_str())
        {
            let message = format!(
                "`{ratio}` is not accepted by {}: use one of {}",
                self.model,
                allowed.join(", ")
            );
            self.push("ratio", message);
        }
    }

    fn check_duration(&mut self) {
        let durations = self.rules.map(|r| &r.durations);
        let hint = durations.map(Durations::to_string);
        let duration = self.req.duration;
        if self.check_required(Field::Duration, duration.is_some(), hint) {
            return;
        }
        if let (Some(seconds), Some(durations)) = (duration, durations)
            && !durations.allows(seconds)
        {
            let message = format!(
                "{seconds} seconds is not accepted by {}: use {durations}",
                self.model
            );
            self.push("duration", message);
        }
    }

    fn check_seed(&mut self) {
        let seed = self.req.seed;
        if self.check_required(Field::Seed, seed.is_some(), None) {
            return;
        }
        if let Some(seed) = seed
            && seed > MAX_SEED
        {
            self.push(
                "seed",
                format!("{seed} is out of range: Runway accepts 0..={MAX_SEED}"),
            );
        }
    }

    fn check_content_moderation(&mut self) {
        let is_set = self.req.content_moderation.is_some();
        if self.check_required(Field::ContentModeration, is_set, None) {
            return;
        }
        if let Some(rules) = self.rules
            && is_set
            && !rules.content_moderation
        {
            let accepting: Vec<&str> = MODEL_RULES
                .iter()
                .filter(|r| r.content_moderation && r.retired.is_none())
                .map(|r| r.model)
                .collect();
            let message = format!(
                "{} does not accept contentModeration (only {} do): remove it",
                self.model,
                accepting.join(", ")
            );
            self.push("contentModeration", message);
        }
    }

    fn check_extras(&mut self) {
        // Sorted: the map keeps insertion order when serde_json's `preserve_order` is on.
        let mut keys: Vec<&String> = self.req.extras.keys().collect();
        keys.sort();
        for key in keys {
            if let Some((_, setter)) = TYPED_KEYS.iter().find(|(k, _)| k == key) {
                let message = format!(
                    "`{key}` is a typed field: set it with {setter}, not ImageToVideo::extra"
                );
                self.push(key.as_str(), message);
            }
        }
    }
}

fn position_path(i: usize) -> String {
    format!("promptImage[{i}].position")
}

fn list(indices: &[usize]) -> String {
    let parts: Vec<String> = indices.iter().map(usize::to_string).collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_known_model_has_exactly_one_row() {
        for model in Model::KNOWN {
            let rows = MODEL_RULES
                .iter()
                .filter(|r| r.model == model.as_str())
                .count();
            assert_eq!(rows, 1, "{model}");
        }
        let names: HashSet<_> = MODEL_RULES.iter().map(|r| r.model).collect();
        assert_eq!(names.len(), MODEL_RULES.len(), "duplicate rows");
    }

    #[test]
    fn table_rows_are_consistent() {
        for rules in MODEL_RULES {
            if let Some(range) = &rules.prompt_text {
                assert!(range.start() <= range.end(), "{}", rules.model);
            }
            if let Durations::Range(r) = &rules.durations {
                assert!(r.start() <= r.end(), "{}", rules.model);
            }
            if let Some(ratios) = rules.ratios {
                for ratio in ratios {
                    assert!(Ratio::from(*ratio).is_known(), "{}: {ratio}", rules.model);
                }
            }
            if rules.positions == Positions::First {
                assert_eq!(rules.max_images, Some(1), "{}", rules.model);
            }
            assert_ne!(rules.max_images, Some(0), "{}", rules.model);
        }
    }

    #[test]
    fn open_enums_round_trip_and_compare_by_wire_string() {
        for model in Model::KNOWN {
            assert_eq!(&model.as_str().parse::<Model>().unwrap(), model);
            assert_eq!(Model::from(model.as_str().to_owned()), *model);
        }
        for ratio in Ratio::KNOWN {
            assert_eq!(&Ratio::from(ratio.as_str()), ratio);
        }
        assert_eq!(Model::Other("gen4_turbo".into()), Model::Gen4Turbo);
        assert!(Model::Other("gen4_turbo".into()).is_known());
        assert!(!Model::from("nope").is_known());
        let set: HashSet<Model> = [Model::Gen4Turbo, Model::Other("gen4_turbo".into())].into();
        assert_eq!(set.len(), 1);
        assert_eq!(
            serde_json::to_value(Ratio::Adaptive).unwrap(),
            serde_json::json!("adaptive")
        );
        assert_eq!(
            serde_json::from_value::<Position>(serde_json::json!("middle")).unwrap(),
            Position::Other("middle".into())
        );
    }

    #[test]
    fn durations_display() {
        assert_eq!(
            Durations::Range(2..=10).to_string(),
            "an integer from 2 to 10 seconds"
        );
        assert_eq!(
            Durations::OneOf(&[4, 6, 8]).to_string(),
            "4, 6 or 8 seconds"
        );
        assert_eq!(Durations::OneOf(&[5]).to_string(), "5 seconds");
    }

    #[test]
    fn content_moderation_message_lists_the_models_from_the_table() {
        let req = ImageToVideo::new(
            Model::Hailuo3,
            PromptImage::url("https://example.com/a.jpg").unwrap(),
        )
        .prompt_text("x")
        .content_moderation(ContentModeration::new());
        let err = req.validate().unwrap_err();
        assert_eq!(err.violations().len(), 1);
        assert_eq!(err.violations()[0].path, "contentModeration");
        assert!(
            err.violations()[0]
                .message
                .contains("only gen4.5, gen4_turbo do"),
            "{}",
            err.violations()[0].message
        );
    }
}
