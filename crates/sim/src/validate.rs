//! Runway's validation of a `POST /v1/image_to_video` body, from the per-model table in
//! `reference/runway.md`. Issue codes and messages follow the zod style Runway answers with.
//!
//! What cannot be checked offline is not: Runway also sends a `HEAD` to each `https://` image.

use serde_json::{Map, Value};

use serde::Serialize;

/// Where Runway documents its API; every validation error carries it.
pub(crate) const DOC_URL: &str = "https://docs.dev.runwayml.com/api";

/// Why a body was refused.
#[derive(Debug)]
pub(crate) enum Rejection {
    /// 400 `{"error":"Validation of body failed","issues":[…],"docUrl":…}`.
    Invalid(Vec<Issue>),
    /// 403 `{"error":"Model variant … is not available"}`.
    Unavailable(String),
}

/// One zod-style issue: `{"code","path","message"}`.
#[derive(Debug, Serialize)]
pub(crate) struct Issue {
    pub(crate) code: &'static str,
    pub(crate) path: Vec<Seg>,
    pub(crate) message: String,
}

/// A step in an issue's path: a key or an array index.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum Seg {
    Key(&'static str),
    Index(usize),
}

/// What the simulator keeps from an accepted body.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) model: String,
    pub(crate) prompt_text: Option<String>,
    /// A made-up, deterministic price: a per-model rate times the duration.
    pub(crate) credits: u64,
}

/// Credits per second of video; plausible, not Runway's price list.
fn credits_per_second(model: &str) -> u64 {
    match model {
        "gen4_turbo" => 5,
        "gen4.5" => 12,
        "veo3.1" => 40,
        "veo3.1_fast" => 15,
        _ => 10,
    }
}

#[derive(Clone, Copy)]
enum Images {
    /// One item, `position: "first"`.
    FirstOnly,
    /// One or two items, `first`/`last`, not `last` alone.
    Keyframes,
    /// 1..=max items without `position`.
    Unpositioned(usize),
    /// Keyframes, or up to max reference images without position; never mixed.
    KeyframesOrRefs(usize),
}

#[derive(Clone, Copy)]
enum Ratio {
    Required(&'static [&'static str]),
    Optional(&'static [&'static str]),
    /// Any `W:H` (or `adaptive`): the reference does not pin the set.
    AnyWh,
    /// Not part of the model's schema; ignored when sent.
    Ignored,
}

#[derive(Clone, Copy)]
enum Dur {
    Range(u64, u64),
    OneOf(&'static [u64]),
}

#[derive(Clone, Copy)]
enum Extra {
    Bool(&'static str),
    OneOf(&'static str, &'static [&'static str]),
    Text(&'static str, usize),
    AnyString(&'static str),
    ContentModeration,
}

struct Model {
    name: &'static str,
    text_required: bool,
    text_min: usize,
    text_max: usize,
    images: Images,
    ratio: Ratio,
    duration_required: bool,
    duration: Dur,
    default_duration: u64,
    extras: &'static [Extra],
}

const SIX: &[&str] = &[
    "1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672",
];
const VEO: &[&str] = &["1280:720", "720:1280", "1080:1920", "1920:1080"];
const GEMINI: &[&str] = &["1280:720", "720:1280"];
const HAILUO: &[&str] = &["adaptive", "21:9", "16:9", "4:3", "1:1", "3:4", "9:16"];

const WATERMARK: Extra = Extra::Bool("watermark");

const fn seedance(name: &'static str, max_duration: u64, text_max: usize) -> Model {
    Model {
        name,
        text_required: false,
        text_min: 0,
        text_max,
        images: Images::KeyframesOrRefs(9),
        ratio: Ratio::AnyWh,
        duration_required: false,
        duration: Dur::Range(4, max_duration),
        default_duration: 5,
        extras: &[Extra::Bool("audio"), WATERMARK],
    }
}

const fn veo(name: &'static str) -> Model {
    Model {
        name,
        text_required: false,
        text_min: 0,
        text_max: 1000,
        images: Images::Keyframes,
        ratio: Ratio::Required(VEO),
        duration_required: false,
        duration: Dur::OneOf(&[4, 6, 8]),
        default_duration: 8,
        extras: &[
            Extra::Bool("audio"),
            Extra::Text("negativePrompt", 1000),
            WATERMARK,
        ],
    }
}

/// The per-model rules (runway.md, 2026-08). One table, easy to update.
const MODELS: &[Model] = &[
    Model {
        name: "gen4.5",
        text_required: true,
        text_min: 1,
        text_max: 1000,
        images: Images::FirstOnly,
        ratio: Ratio::Required(SIX),
        duration_required: true,
        duration: Dur::Range(2, 10),
        default_duration: 5,
        extras: &[
            Extra::ContentModeration,
            Extra::OneOf("outputFormat", &["mp4", "prores", "png_sequence"]),
            Extra::AnyString("proresProfile"),
            WATERMARK,
        ],
    },
    Model {
        name: "gen4_turbo",
        text_required: false,
        text_min: 0,
        text_max: 1000,
        images: Images::FirstOnly,
        ratio: Ratio::Required(SIX),
        duration_required: false,
        duration: Dur::Range(2, 10),
        default_duration: 10,
        extras: &[Extra::ContentModeration, WATERMARK],
    },
    veo("veo3.1"),
    veo("veo3.1_fast"),
    Model {
        name: "gemini_omni_flash",
        text_required: false,
        text_min: 0,
        text_max: 4000,
        images: Images::FirstOnly,
        ratio: Ratio::Optional(GEMINI),
        duration_required: false,
        duration: Dur::Range(3, 10),
        default_duration: 5,
        extras: &[WATERMARK],
    },
    Model {
        name: "happyhorse_1_0",
        text_required: false,
        text_min: 2,
        text_max: 2500,
        images: Images::FirstOnly,
        ratio: Ratio::Ignored,
        duration_required: false,
        duration: Dur::Range(3, 15),
        default_duration: 5,
        extras: &[Extra::OneOf("resolution", &["720P", "1080P"]), WATERMARK],
    },
    Model {
        name: "hailuo3",
        text_required: true,
        text_min: 1,
        text_max: 6000,
        images: Images::Unpositioned(9),
        ratio: Ratio::Optional(HAILUO),
        duration_required: false,
        duration: Dur::Range(5, 15),
        default_duration: 6,
        extras: &[Extra::OneOf("resolution", &["2K", "768P"]), WATERMARK],
    },
    seedance("seedance2", 15, 3500),
    seedance("seedance2_fast", 15, 3500),
    seedance("seedance2_mini", 15, 3500),
    seedance("seedance2_5", 30, 15000),
];

/// Models Runway has retired: a 403 rather than a validation error.
const RETIRED: &[&str] = &["gen3a_turbo"];

/// The names of the models the simulator accepts.
pub(crate) fn model_names() -> impl Iterator<Item = &'static str> {
    MODELS.iter().map(|m| m.name)
}

/// The duration a model's videos have when a create does not say.
pub(crate) fn default_duration(model: &str) -> Option<u64> {
    MODELS
        .iter()
        .find(|m| m.name == model)
        .map(|m| m.default_duration)
}

/// Validates a create body as Runway would.
pub(crate) fn validate(body: &Value) -> Result<Accepted, Rejection> {
    let Some(obj) = body.as_object() else {
        return Err(Rejection::Invalid(vec![Issue {
            code: "invalid_type",
            path: vec![],
            message: format!("Expected object, received {}", type_name(Some(body))),
        }]));
    };
    let model_value = obj.get("model");
    let model_name = model_value.and_then(Value::as_str).unwrap_or_default();
    if RETIRED.contains(&model_name) {
        return Err(Rejection::Unavailable(format!(
            "Model variant {model_name} is not available"
        )));
    }
    let Some(model) = MODELS.iter().find(|m| m.name == model_name) else {
        let expected: Vec<String> = MODELS.iter().map(|m| format!("'{}'", m.name)).collect();
        return Err(Rejection::Invalid(vec![Issue {
            code: "invalid_union_discriminator",
            path: vec![Seg::Key("model")],
            message: format!(
                "Invalid discriminator value. Expected {}",
                expected.join(" | ")
            ),
        }]));
    };

    let mut issues = Vec::new();
    check_images(model.images, obj.get("promptImage"), &mut issues);
    let prompt_text = check_text(
        obj,
        "promptText",
        model.text_required,
        model.text_min,
        model.text_max,
        &mut issues,
    );
    check_ratio(model.ratio, obj.get("ratio"), &mut issues);
    let duration = check_duration(model, obj.get("duration"), &mut issues);
    if let Some(seed) = obj.get("seed") {
        check_integer(seed, Seg::Key("seed"), 0, 4_294_967_295, &mut issues);
    }
    for extra in model.extras {
        check_extra(*extra, obj, &mut issues);
    }

    if issues.is_empty() {
        let duration = duration.unwrap_or(model.default_duration);
        Ok(Accepted {
            model: model.name.to_owned(),
            prompt_text,
            credits: credits_per_second(model.name) * duration,
        })
    } else {
        Err(Rejection::Invalid(issues))
    }
}

fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn required(path: Vec<Seg>) -> Issue {
    Issue {
        code: "invalid_type",
        path,
        message: "Required".into(),
    }
}

fn wrong_type(path: Vec<Seg>, expected: &str, got: &Value) -> Issue {
    Issue {
        code: "invalid_type",
        path,
        message: format!("Expected {expected}, received {}", type_name(Some(got))),
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn check_len(s: &str, path: Vec<Seg>, min: usize, max: usize, issues: &mut Vec<Issue>) {
    let n = utf16_len(s);
    if n < min {
        issues.push(Issue {
            code: "too_small",
            path,
            message: format!("String must contain at least {min} character(s)"),
        });
    } else if n > max {
        issues.push(Issue {
            code: "too_big",
            path,
            message: format!("String must contain at most {max} character(s)"),
        });
    }
}

fn check_text(
    obj: &Map<String, Value>,
    key: &'static str,
    is_required: bool,
    min: usize,
    max: usize,
    issues: &mut Vec<Issue>,
) -> Option<String> {
    match obj.get(key) {
        None if is_required => {
            issues.push(required(vec![Seg::Key(key)]));
            None
        }
        None => None,
        Some(Value::String(s)) => {
            check_len(s, vec![Seg::Key(key)], min, max, issues);
            Some(s.clone())
        }
        Some(other) => {
            issues.push(wrong_type(vec![Seg::Key(key)], "string", other));
            None
        }
    }
}

/// Checks a prompt image URI; `path` points at it.
fn check_uri(uri: &Value, path: Vec<Seg>, issues: &mut Vec<Issue>) {
    let Value::String(s) = uri else {
        issues.push(wrong_type(path, "string", uri));
        return;
    };
    if let Some(rest) = s.strip_prefix("https://") {
        let n = utf16_len(s);
        if n < 13 {
            issues.push(Issue {
                code: "too_small",
                path,
                message: "String must contain at least 13 character(s)".into(),
            });
            return;
        }
        if n > 2048 {
            issues.push(Issue {
                code: "too_big",
                path,
                message: "String must contain at most 2048 character(s)".into(),
            });
            return;
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        let host_no_port = if host.starts_with('[') {
            host
        } else {
            host.split(':').next().unwrap_or_default()
        };
        let is_ip = host_no_port.starts_with('[')
            || (!host_no_port.is_empty()
                && host_no_port.chars().all(|c| c.is_ascii_digit() || c == '.'));
        if host_no_port.is_empty() || is_ip {
            issues.push(Issue {
                code: "custom",
                path,
                message: "The URL must use a domain name, not an IP address".into(),
            });
        }
    } else if s.starts_with("runway://") {
        if s.len() <= "runway://".len() {
            issues.push(Issue {
                code: "invalid_string",
                path,
                message: "Invalid runway:// URI".into(),
            });
        }
    } else if s.starts_with("data:image/") {
        if !s.contains(";base64,") {
            issues.push(Issue {
                code: "invalid_string",
                path,
                message: "Data URIs must be base64-encoded images".into(),
            });
        } else if s.len() >= 5 * 1024 * 1024 {
            issues.push(Issue {
                code: "too_big",
                path,
                message: "Data URIs must be under 5 MB".into(),
            });
        }
    } else {
        issues.push(Issue {
            code: "invalid_string",
            path,
            message: "Invalid url: expected an https:// URL, a runway:// URI or a data:image/ URI"
                .into(),
        });
    }
}

fn check_images(rule: Images, value: Option<&Value>, issues: &mut Vec<Issue>) {
    let root = || vec![Seg::Key("promptImage")];
    let items = match value {
        None => {
            issues.push(required(root()));
            return;
        }
        Some(v @ Value::String(_)) => {
            check_uri(v, root(), issues);
            return;
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            issues.push(wrong_type(root(), "string", other));
            return;
        }
    };

    let max = match rule {
        Images::FirstOnly => 1,
        Images::Keyframes => 2,
        Images::Unpositioned(max) => max,
        Images::KeyframesOrRefs(max) => {
            let positioned = items.iter().filter(|i| i.get("position").is_some()).count();
            if positioned == 0 || items.is_empty() {
                max
            } else if positioned == items.len() {
                2
            } else {
                issues.push(Issue {
                    code: "custom",
                    path: root(),
                    message:
                        "Keyframes (with a position) and reference images (without) cannot be mixed"
                            .into(),
                });
                return;
            }
        }
    };
    if items.is_empty() {
        issues.push(Issue {
            code: "too_small",
            path: root(),
            message: "Array must contain at least 1 element(s)".into(),
        });
        return;
    }
    if items.len() > max {
        issues.push(Issue {
            code: "too_big",
            path: root(),
            message: format!("Array must contain at most {max} element(s)"),
        });
        return;
    }

    let positions_allowed: &[&str] = match rule {
        Images::FirstOnly => &["first"],
        Images::Keyframes => &["first", "last"],
        Images::Unpositioned(_) => &[],
        Images::KeyframesOrRefs(_) => {
            if items.iter().any(|i| i.get("position").is_some()) {
                &["first", "last"]
            } else {
                &[]
            }
        }
    };
    let before = issues.len();
    let mut seen: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |k: &'static str| vec![Seg::Key("promptImage"), Seg::Index(i), Seg::Key(k)];
        let Some(o) = item.as_object() else {
            issues.push(wrong_type(
                vec![Seg::Key("promptImage"), Seg::Index(i)],
                "object",
                item,
            ));
            continue;
        };
        match o.get("uri") {
            None => issues.push(required(at("uri"))),
            Some(uri) => check_uri(uri, at("uri"), issues),
        }
        let position = o.get("position");
        if positions_allowed.is_empty() {
            if position.is_some() {
                issues.push(Issue {
                    code: "unrecognized_keys",
                    path: vec![Seg::Key("promptImage"), Seg::Index(i)],
                    message: "Unrecognized key(s) in object: 'position'".into(),
                });
            }
            continue;
        }
        match position {
            None => issues.push(required(at("position"))),
            Some(Value::String(p)) if positions_allowed.contains(&p.as_str()) => {
                if seen.contains(&p.as_str()) {
                    issues.push(Issue {
                        code: "custom",
                        path: at("position"),
                        message: format!("Duplicate position '{p}'"),
                    });
                } else {
                    seen.push(p);
                }
            }
            Some(Value::String(_)) if positions_allowed.len() == 1 => issues.push(Issue {
                code: "invalid_literal",
                path: at("position"),
                message: format!(
                    "Invalid literal value, expected \"{}\"",
                    positions_allowed[0]
                ),
            }),
            Some(Value::String(p)) => issues.push(Issue {
                code: "invalid_enum_value",
                path: at("position"),
                message: format!("Invalid enum value. Expected 'first' | 'last', received '{p}'"),
            }),
            Some(other) => issues.push(wrong_type(at("position"), "string", other)),
        }
    }
    if issues.len() == before && seen == ["last"] {
        issues.push(Issue {
            code: "custom",
            path: root(),
            message: "A 'last' keyframe needs a 'first' keyframe".into(),
        });
    }
}

fn enum_message(allowed: &[&str], got: &str) -> String {
    let expected: Vec<String> = allowed.iter().map(|a| format!("'{a}'")).collect();
    format!(
        "Invalid enum value. Expected {}, received '{got}'",
        expected.join(" | ")
    )
}

fn check_one_of(value: &Value, key: &'static str, allowed: &[&str], issues: &mut Vec<Issue>) {
    match value {
        Value::String(s) if allowed.contains(&s.as_str()) => {}
        Value::String(s) => issues.push(Issue {
            code: "invalid_enum_value",
            path: vec![Seg::Key(key)],
            message: enum_message(allowed, s),
        }),
        other => issues.push(wrong_type(vec![Seg::Key(key)], "string", other)),
    }
}

fn check_ratio(rule: Ratio, value: Option<&Value>, issues: &mut Vec<Issue>) {
    match (rule, value) {
        (Ratio::Ignored, _) => {}
        (Ratio::Required(_), None) => issues.push(required(vec![Seg::Key("ratio")])),
        (_, None) => {}
        (Ratio::Required(set) | Ratio::Optional(set), Some(v)) => {
            check_one_of(v, "ratio", set, issues)
        }
        (Ratio::AnyWh, Some(Value::String(s))) => {
            let ok = s == "adaptive"
                || s.split_once(':').is_some_and(|(w, h)| {
                    matches!((w.parse::<u32>(), h.parse::<u32>()), (Ok(w), Ok(h)) if w > 0 && h > 0)
                });
            if !ok {
                issues.push(Issue {
                    code: "invalid_string",
                    path: vec![Seg::Key("ratio")],
                    message: format!("Invalid ratio '{s}': expected W:H"),
                });
            }
        }
        (Ratio::AnyWh, Some(other)) => {
            issues.push(wrong_type(vec![Seg::Key("ratio")], "string", other))
        }
    }
}

/// A JSON number as JavaScript sees it: `5.0` is the integer 5.
fn as_integer(v: &Value, path: &Seg, issues: &mut Vec<Issue>) -> Option<f64> {
    let Some(n) = v.as_f64() else {
        issues.push(wrong_type(vec![path.clone()], "number", v));
        return None;
    };
    if n.fract() != 0.0 {
        issues.push(Issue {
            code: "invalid_type",
            path: vec![path.clone()],
            message: "Expected integer, received float".into(),
        });
        return None;
    }
    Some(n)
}

fn check_integer(v: &Value, path: Seg, min: u64, max: u64, issues: &mut Vec<Issue>) -> Option<u64> {
    let n = as_integer(v, &path, issues)?;
    if n < min as f64 {
        issues.push(Issue {
            code: "too_small",
            path: vec![path],
            message: format!("Number must be greater than or equal to {min}"),
        });
        None
    } else if n > max as f64 {
        issues.push(Issue {
            code: "too_big",
            path: vec![path],
            message: format!("Number must be less than or equal to {max}"),
        });
        None
    } else {
        Some(n as u64)
    }
}

fn check_duration(model: &Model, value: Option<&Value>, issues: &mut Vec<Issue>) -> Option<u64> {
    let Some(v) = value else {
        if model.duration_required {
            issues.push(required(vec![Seg::Key("duration")]));
        }
        return None;
    };
    match model.duration {
        Dur::Range(min, max) => check_integer(v, Seg::Key("duration"), min, max, issues),
        Dur::OneOf(set) => {
            let n = as_integer(v, &Seg::Key("duration"), issues)?;
            if set.iter().any(|&d| d as f64 == n) {
                Some(n as u64)
            } else {
                let expected: Vec<String> = set.iter().map(u64::to_string).collect();
                issues.push(Issue {
                    code: "invalid_enum_value",
                    path: vec![Seg::Key("duration")],
                    message: format!(
                        "Invalid enum value. Expected {}, received {}",
                        expected.join(" | "),
                        v
                    ),
                });
                None
            }
        }
    }
}

fn check_extra(extra: Extra, obj: &Map<String, Value>, issues: &mut Vec<Issue>) {
    match extra {
        Extra::Bool(key) => {
            if let Some(v) = obj.get(key)
                && !v.is_boolean()
            {
                issues.push(wrong_type(vec![Seg::Key(key)], "boolean", v));
            }
        }
        Extra::OneOf(key, allowed) => {
            if let Some(v) = obj.get(key) {
                check_one_of(v, key, allowed, issues);
            }
        }
        Extra::Text(key, max) => {
            check_text(obj, key, false, 0, max, issues);
        }
        Extra::AnyString(key) => {
            if let Some(v) = obj.get(key)
                && !v.is_string()
            {
                issues.push(wrong_type(vec![Seg::Key(key)], "string", v));
            }
        }
        Extra::ContentModeration => {
            let key = "contentModeration";
            match obj.get(key) {
                None => {}
                Some(Value::Object(cm)) => {
                    if let Some(v) = cm.get("publicFigureThreshold") {
                        let path = vec![Seg::Key(key), Seg::Key("publicFigureThreshold")];
                        match v {
                            Value::String(s) if s == "auto" || s == "low" => {}
                            Value::String(s) => issues.push(Issue {
                                code: "invalid_enum_value",
                                path,
                                message: enum_message(&["auto", "low"], s),
                            }),
                            other => issues.push(wrong_type(path, "string", other)),
                        }
                    }
                }
                Some(other) => issues.push(wrong_type(vec![Seg::Key(key)], "object", other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues(body: Value) -> Vec<String> {
        match validate(&body) {
            Err(Rejection::Invalid(issues)) => issues
                .iter()
                .map(|i| serde_json::to_string(i).unwrap())
                .collect(),
            Err(Rejection::Unavailable(m)) => vec![m],
            Ok(_) => vec![],
        }
    }

    #[test]
    fn accepts_minimal_bodies() {
        for body in [
            json!({"model":"gen4_turbo","promptImage":"https://example.com/a.jpg","ratio":"1280:720"}),
            json!({"model":"gen4.5","promptImage":[{"uri":"https://example.com/a.jpg","position":"first"}],"promptText":"x","ratio":"960:960","duration":5.0}),
            json!({"model":"veo3.1","promptImage":[{"uri":"runway://up/1","position":"first"},{"uri":"data:image/png;base64,AAAA","position":"last"}],"ratio":"1080:1920","duration":8}),
            json!({"model":"hailuo3","promptImage":[{"uri":"https://example.com/a.jpg"},{"uri":"https://example.com/b.jpg"}],"promptText":"x"}),
            json!({"model":"seedance2_5","promptImage":"https://example.com/a.jpg","duration":30,"ratio":"21:9"}),
            json!({"model":"happyhorse_1_0","promptImage":"https://example.com/a.jpg","seed":4294967295u64}),
        ] {
            assert_eq!(issues(body.clone()), Vec::<String>::new(), "{body}");
        }
    }

    #[test]
    fn refuses_with_zod_style_issues() {
        assert_eq!(
            issues(
                json!({"model":"gen4_turbo","promptImage":"https://example.com/a.jpg","ratio":"1:1","seed":-1,"duration":2.5})
            ),
            vec![
                r#"{"code":"invalid_enum_value","path":["ratio"],"message":"Invalid enum value. Expected '1280:720' | '720:1280' | '1104:832' | '960:960' | '832:1104' | '1584:672', received '1:1'"}"#,
                r#"{"code":"invalid_type","path":["duration"],"message":"Expected integer, received float"}"#,
                r#"{"code":"too_small","path":["seed"],"message":"Number must be greater than or equal to 0"}"#,
            ]
        );
        assert_eq!(
            issues(json!({"model":"gen3a_turbo"})),
            vec!["Model variant gen3a_turbo is not available"]
        );
        // promptText is counted in UTF-16 code units: 500 emoji are 1000 units, 501 are too many.
        let ok = "😀".repeat(500);
        let long = "😀".repeat(501);
        assert!(issues(json!({"model":"gen4_turbo","promptImage":"https://example.com/a.jpg","ratio":"960:960","promptText":ok})).is_empty());
        assert_eq!(
            issues(
                json!({"model":"gen4_turbo","promptImage":"https://example.com/a.jpg","ratio":"960:960","promptText":long})
            ),
            vec![
                r#"{"code":"too_big","path":["promptText"],"message":"String must contain at most 1000 character(s)"}"#
            ]
        );
        assert_eq!(
            issues(
                json!({"model":"veo3.1","promptImage":[{"uri":"https://example.com/a.jpg","position":"last"}],"ratio":"1280:720"})
            ),
            vec![
                r#"{"code":"custom","path":["promptImage"],"message":"A 'last' keyframe needs a 'first' keyframe"}"#
            ]
        );
        assert_eq!(
            issues(
                json!({"model":"gen4_turbo","promptImage":"https://10.0.0.1/a.jpg","ratio":"960:960"})
            ),
            vec![
                r#"{"code":"custom","path":["promptImage"],"message":"The URL must use a domain name, not an IP address"}"#
            ]
        );
        assert_eq!(
            issues(json!([1])),
            vec![
                r#"{"code":"invalid_type","path":[],"message":"Expected object, received array"}"#
            ]
        );
    }
}
