//! The image_to_video request: per-model rules, universal rules, the wire JSON, and MediaUri.

use lowcodeapi_runwayml::image_to_video::{
    ContentModeration, ImageToVideo, Keyframe, MODEL_RULES, Model, Position, PromptImage,
    PublicFigureThreshold, Ratio, ValidationError,
};
use lowcodeapi_runwayml::media::{DATA_URI_LIMIT, MediaError, MediaKind, MediaUri};
use serde_json::json;
use std::path::PathBuf;

const A: &str = "https://example.com/a.jpg";
const B: &str = "https://example.com/b.jpg";
const PIXEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pixel.png");

fn uri(s: &str) -> MediaUri {
    MediaUri::parse(s).unwrap()
}

fn image() -> PromptImage {
    PromptImage::url(A).unwrap()
}

fn refs(n: usize) -> PromptImage {
    PromptImage::references((0..n).map(|i| uri(&format!("https://example.com/{i}.jpg"))))
}

/// The paths of the violations, empty when the request is valid.
fn paths(req: &ImageToVideo) -> Vec<String> {
    match req.validate() {
        Ok(()) => Vec::new(),
        Err(e) => e.violations().iter().map(|v| v.path.clone()).collect(),
    }
}

fn error(req: &ImageToVideo) -> ValidationError {
    req.validate().expect_err("expected violations")
}

fn assert_valid(req: &ImageToVideo) {
    if let Err(e) = req.validate() {
        panic!("expected valid, got {e}");
    }
}

fn gen45() -> ImageToVideo {
    ImageToVideo::new(Model::Gen45, image())
        .prompt_text("a slow dolly zoom")
        .ratio(Ratio::W1280H720)
        .duration(5)
}

fn gen4_turbo() -> ImageToVideo {
    ImageToVideo::new(Model::Gen4Turbo, image()).ratio(Ratio::W1280H720)
}

fn veo(model: Model, image: PromptImage) -> ImageToVideo {
    ImageToVideo::new(model, image).ratio(Ratio::W1280H720)
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("i2v-validation-{}-{name}", std::process::id()))
}

// ---------------------------------------------------------------- gen4.5

#[test]
fn gen45_with_prompt_text_ratio_and_duration_is_valid() {
    assert_valid(&gen45());
    assert_valid(&gen45().seed(7).content_moderation(ContentModeration::new()));
}

#[test]
fn gen45_requires_prompt_text_ratio_and_duration() {
    let req = ImageToVideo::new(Model::Gen45, image());
    assert_eq!(paths(&req), ["promptText", "ratio", "duration"]);
    let err = error(&req);
    assert!(
        err.violations()[0]
            .message
            .contains("gen4.5 requires promptText")
    );
    assert!(err.violations()[1].message.contains("1280:720"));
    assert!(err.violations()[2].message.contains("from 2 to 10"));
}

#[test]
fn gen45_duration_is_2_to_10() {
    for ok in [2, 5, 10] {
        assert_valid(&gen45().duration(ok));
    }
    for bad in [0, 1, 11] {
        assert_eq!(paths(&gen45().duration(bad)), ["duration"], "{bad}");
    }
}

#[test]
fn gen45_ratio_set() {
    for ratio in [
        Ratio::W1280H720,
        Ratio::W720H1280,
        Ratio::W1104H832,
        Ratio::W960H960,
        Ratio::W832H1104,
        Ratio::W1584H672,
    ] {
        assert_valid(&gen45().ratio(ratio));
    }
    assert_eq!(paths(&gen45().ratio(Ratio::W1920H1080)), ["ratio"]);
}

#[test]
fn gen45_prompt_text_is_1_to_1000() {
    assert_eq!(paths(&gen45().prompt_text("")), ["promptText"]);
    assert_valid(&gen45().prompt_text("a".repeat(1000)));
    assert_eq!(
        paths(&gen45().prompt_text("a".repeat(1001))),
        ["promptText"]
    );
}

#[test]
fn gen45_takes_one_image_at_position_first() {
    let req = |image| {
        ImageToVideo::new(Model::Gen45, image)
            .prompt_text("x")
            .ratio(Ratio::W960H960)
            .duration(2)
    };
    assert_valid(&req(PromptImage::keyframes([Keyframe::first(uri(A))])));
    let last = PromptImage::keyframes([Keyframe::last(uri(A))]);
    assert_eq!(paths(&req(last)), ["promptImage[0].position"]);
    let unpositioned = PromptImage::keyframes([Keyframe::reference(uri(A))]);
    assert_eq!(paths(&req(unpositioned)), ["promptImage[0].position"]);
    let two = PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::first(uri(B))]);
    assert_eq!(paths(&req(two)), ["promptImage"]);
}

#[test]
fn content_moderation_only_for_gen45_and_gen4_turbo() {
    let cm = ContentModeration::new().public_figure_threshold(PublicFigureThreshold::Low);
    assert_valid(&gen45().content_moderation(cm.clone()));
    assert_valid(&gen4_turbo().content_moderation(cm.clone()));
    let req = veo(Model::Veo31, image()).content_moderation(cm.clone());
    assert_eq!(paths(&req), ["contentModeration"]);
    let req = ImageToVideo::new(Model::GeminiOmniFlash, image()).content_moderation(cm);
    assert_eq!(paths(&req), ["contentModeration"]);
}

// ---------------------------------------------------------------- gen4_turbo

#[test]
fn gen4_turbo_requires_ratio_from_its_set() {
    assert_valid(&gen4_turbo());
    assert_valid(&gen4_turbo().ratio(Ratio::W1584H672).duration(10));
    assert_eq!(
        paths(&ImageToVideo::new(Model::Gen4Turbo, image())),
        ["ratio"]
    );
    assert_eq!(paths(&gen4_turbo().ratio(Ratio::W1080H1920)), ["ratio"]);
    // A ratio the SDK does not know is sent as is, but gen4_turbo's row does not list it.
    let err = error(&gen4_turbo().ratio("1440:1440"));
    assert_eq!(err.violations()[0].path, "ratio");
    assert!(
        err.violations()[0]
            .message
            .contains("`1440:1440` is not accepted by gen4_turbo")
    );
}

#[test]
fn gen4_turbo_prompt_text_is_optional() {
    assert_valid(&gen4_turbo());
    assert_valid(&gen4_turbo().prompt_text("x"));
}

#[test]
fn prompt_text_length_counts_utf16_code_units() {
    // 1000 emoji are 1000 chars but 2000 UTF-16 code units: too long for gen4_turbo.
    let emoji = "😀".repeat(1000);
    assert_eq!(emoji.chars().count(), 1000);
    let err = error(&gen4_turbo().prompt_text(emoji));
    assert_eq!(err.violations().len(), 1);
    let v = &err.violations()[0];
    assert_eq!(v.path, "promptText");
    assert!(
        v.message.contains("2000 UTF-16 code units"),
        "{}",
        v.message
    );
    assert!(v.message.contains("1000 characters"), "{}", v.message);

    // 500 emoji are exactly 1000 units.
    assert_valid(&gen4_turbo().prompt_text("😀".repeat(500)));
    // 'é' is 2 bytes in UTF-8 but 1 UTF-16 unit: 999 of them fit.
    let accents = "é".repeat(999);
    assert_eq!(accents.len(), 1998);
    assert_valid(&gen4_turbo().prompt_text(accents));
    assert_valid(&gen4_turbo().prompt_text("é".repeat(1000)));
    assert_eq!(
        paths(&gen4_turbo().prompt_text("é".repeat(1001))),
        ["promptText"]
    );
}

// ---------------------------------------------------------------- veo3.1, veo3.1_fast

#[test]
fn veo_durations_are_4_6_or_8() {
    for model in [Model::Veo31, Model::Veo31Fast] {
        for ok in [4, 6, 8] {
            assert_valid(&veo(model.clone(), image()).duration(ok));
        }
        for bad in [2, 5, 7, 10] {
            let err = error(&veo(model.clone(), image()).duration(bad));
            assert_eq!(err.violations()[0].path, "duration");
            assert!(err.violations()[0].message.contains("4, 6 or 8 seconds"));
        }
    }
}

#[test]
fn veo_requires_ratio_from_its_set() {
    assert_eq!(paths(&ImageToVideo::new(Model::Veo31, image())), ["ratio"]);
    for ok in [
        Ratio::W1280H720,
        Ratio::W720H1280,
        Ratio::W1080H1920,
        Ratio::W1920H1080,
    ] {
        assert_valid(&veo(Model::Veo31Fast, image()).ratio(ok));
    }
    assert_eq!(
        paths(&veo(Model::Veo31, image()).ratio(Ratio::W960H960)),
        ["ratio"]
    );
}

#[test]
fn veo_keyframes_first_and_last() {
    let both = PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::last(uri(B))]);
    assert_valid(&veo(Model::Veo31, both));
    let reversed = PromptImage::keyframes([Keyframe::last(uri(B)), Keyframe::first(uri(A))]);
    assert_valid(&veo(Model::Veo31, reversed));
    let first = PromptImage::keyframes([Keyframe::first(uri(A))]);
    assert_valid(&veo(Model::Veo31Fast, first));
}

#[test]
fn veo_rejects_a_last_keyframe_alone() {
    let last = PromptImage::keyframes([Keyframe::last(uri(A))]);
    let err = error(&veo(Model::Veo31, last));
    assert_eq!(err.violations().len(), 1);
    assert_eq!(err.violations()[0].path, "promptImage[0].position");
    assert!(
        err.violations()[0]
            .message
            .contains("`last` keyframe alone")
    );
}

#[test]
fn veo_rejects_repeated_missing_or_unknown_positions_and_a_third_image() {
    let twice = PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::first(uri(B))]);
    assert_eq!(
        paths(&veo(Model::Veo31, twice)),
        ["promptImage[1].position"]
    );

    let unpositioned =
        PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::reference(uri(B))]);
    assert_eq!(
        paths(&veo(Model::Veo31, unpositioned)),
        ["promptImage[1].position"]
    );

    let middle = PromptImage::keyframes([
        Keyframe::first(uri(A)),
        Keyframe::new(uri(B), Some(Position::Other("middle".into()))),
    ]);
    assert_eq!(
        paths(&veo(Model::Veo31, middle)),
        ["promptImage[1].position"]
    );

    let three = PromptImage::keyframes([
        Keyframe::first(uri(A)),
        Keyframe::last(uri(B)),
        Keyframe::last(uri(B)),
    ]);
    assert_eq!(
        paths(&veo(Model::Veo31, three)),
        ["promptImage", "promptImage[2].position"]
    );
}

#[test]
fn veo_prompt_text_is_at_most_1000() {
    assert_valid(&veo(Model::Veo31, image()).prompt_text("a".repeat(1000)));
    assert_eq!(
        paths(&veo(Model::Veo31, image()).prompt_text("a".repeat(1001))),
        ["promptText"]
    );
}

// ---------------------------------------------------------------- gemini_omni_flash

#[test]
fn gemini_duration_is_3_to_10() {
    let req = |d| ImageToVideo::new(Model::GeminiOmniFlash, image()).duration(d);
    assert_valid(&req(3));
    assert_valid(&req(10));
    assert_eq!(paths(&req(2)), ["duration"]);
    assert_eq!(paths(&req(11)), ["duration"]);
}

#[test]
fn gemini_ratio_and_prompt_text() {
    let req = || ImageToVideo::new(Model::GeminiOmniFlash, image());
    assert_valid(&req());
    assert_valid(&req().ratio(Ratio::W720H1280).prompt_text("a".repeat(4000)));
    assert_eq!(paths(&req().ratio(Ratio::W1104H832)), ["ratio"]);
    assert_eq!(paths(&req().prompt_text("a".repeat(4001))), ["promptText"]);
}

// ---------------------------------------------------------------- happyhorse_1_0

#[test]
fn happyhorse_prompt_text_is_2_to_2500() {
    let req = || ImageToVideo::new(Model::HappyHorse10, image());
    assert_valid(&req());
    assert_eq!(paths(&req().prompt_text("a")), ["promptText"]);
    assert_valid(&req().prompt_text("ab"));
    assert_valid(&req().prompt_text("a".repeat(2500)));
    assert_eq!(paths(&req().prompt_text("a".repeat(2501))), ["promptText"]);
    let err = error(&req().prompt_text("a"));
    assert!(err.violations()[0].message.contains("at least 2"));
}

#[test]
fn happyhorse_duration_is_3_to_15_and_ratio_is_unchecked() {
    let req = |d| ImageToVideo::new(Model::HappyHorse10, image()).duration(d);
    assert_valid(&req(3));
    assert_valid(&req(15));
    assert_eq!(paths(&req(2)), ["duration"]);
    assert_eq!(paths(&req(16)), ["duration"]);
    assert_valid(&req(5).ratio("whatever").extra("resolution", "1080P"));
}

// ---------------------------------------------------------------- hailuo3

#[test]
fn hailuo_requires_prompt_text_up_to_6000() {
    let req = || ImageToVideo::new(Model::Hailuo3, image());
    assert_eq!(paths(&req()), ["promptText"]);
    assert_valid(&req().prompt_text("a".repeat(6000)));
    assert_eq!(paths(&req().prompt_text("a".repeat(6001))), ["promptText"]);
}

#[test]
fn hailuo_takes_up_to_9_reference_images_without_position() {
    let req = |image| ImageToVideo::new(Model::Hailuo3, image).prompt_text("x");
    assert_valid(&req(refs(1)));
    assert_valid(&req(refs(9)));
    let err = error(&req(refs(10)));
    assert_eq!(err.violations().len(), 1);
    assert_eq!(err.violations()[0].path, "promptImage");
    assert!(
        err.violations()[0]
            .message
            .contains("at most 9 images, got 10")
    );

    let positioned = PromptImage::keyframes([Keyframe::reference(uri(A)), Keyframe::first(uri(B))]);
    assert_eq!(paths(&req(positioned)), ["promptImage[1].position"]);
    // A bare URI is one image, always accepted.
    assert_valid(&req(image()));
}

#[test]
fn hailuo_ratio_and_duration() {
    let req = || ImageToVideo::new(Model::Hailuo3, image()).prompt_text("x");
    for ok in [
        Ratio::Adaptive,
        Ratio::Aspect21x9,
        Ratio::Aspect16x9,
        Ratio::Aspect4x3,
        Ratio::Aspect1x1,
        Ratio::Aspect3x4,
        Ratio::Aspect9x16,
    ] {
        assert_valid(&req().ratio(ok));
    }
    assert_eq!(paths(&req().ratio(Ratio::W1280H720)), ["ratio"]);
    assert_valid(&req().duration(5));
    assert_valid(&req().duration(15));
    assert_eq!(paths(&req().duration(4)), ["duration"]);
    assert_eq!(paths(&req().duration(16)), ["duration"]);
}

// ---------------------------------------------------------------- seedance

const SEEDANCE: [Model; 4] = [
    Model::Seedance2,
    Model::Seedance2Fast,
    Model::Seedance2Mini,
    Model::Seedance25,
];

#[test]
fn seedance_takes_keyframes_or_references() {
    for model in SEEDANCE {
        let keyframes = PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::last(uri(B))]);
        assert_valid(&ImageToVideo::new(model.clone(), keyframes));
        assert_valid(&ImageToVideo::new(model.clone(), refs(4)));
        assert_valid(&ImageToVideo::new(model, image()).extra("audio", true));
    }
}

#[test]
fn seedance_rejects_keyframes_mixed_with_references() {
    for model in SEEDANCE {
        let mixed = PromptImage::keyframes([
            Keyframe::first(uri(A)),
            Keyframe::reference(uri(B)),
            Keyframe::last(uri(B)),
        ]);
        let err = error(&ImageToVideo::new(model.clone(), mixed));
        assert_eq!(err.violations().len(), 1, "{model}");
        let v = &err.violations()[0];
        assert_eq!(v.path, "promptImage");
        assert!(v.message.contains("not both"), "{}", v.message);
        assert!(
            v.message
                .contains("images 0, 2 have a position, images 1 do not"),
            "{}",
            v.message
        );
    }
}

#[test]
fn seedance_keyframes_may_not_repeat_a_position() {
    let twice = PromptImage::keyframes([Keyframe::last(uri(A)), Keyframe::last(uri(B))]);
    assert_eq!(
        paths(&ImageToVideo::new(Model::Seedance2, twice)),
        ["promptImage[1].position"]
    );
}

#[test]
fn seedance_durations() {
    for model in [Model::Seedance2, Model::Seedance2Fast, Model::Seedance2Mini] {
        let req = |d| ImageToVideo::new(model.clone(), image()).duration(d);
        assert_valid(&req(4));
        assert_valid(&req(15));
        assert_eq!(paths(&req(3)), ["duration"]);
        assert_eq!(paths(&req(16)), ["duration"]);
    }
    let req = |d| ImageToVideo::new(Model::Seedance25, image()).duration(d);
    assert_valid(&req(16));
    assert_valid(&req(30));
    assert_eq!(paths(&req(3)), ["duration"]);
    assert_eq!(paths(&req(31)), ["duration"]);
}

#[test]
fn seedance_prompt_text_lengths() {
    let req = |m: Model, n| ImageToVideo::new(m, image()).prompt_text("a".repeat(n));
    assert_valid(&req(Model::Seedance2, 3500));
    assert_eq!(paths(&req(Model::Seedance2Mini, 3501)), ["promptText"]);
    assert_valid(&req(Model::Seedance25, 15000));
    assert_eq!(paths(&req(Model::Seedance25, 15001)), ["promptText"]);
}

// ---------------------------------------------------------------- gen3a_turbo

#[test]
fn gen3a_turbo_is_retired() {
    let req = ImageToVideo::new(Model::Gen3aTurbo, image())
        .ratio(Ratio::W1280H768)
        .duration(5);
    let err = error(&req);
    assert_eq!(err.violations().len(), 1);
    assert_eq!(err.violations()[0].path, "model");
    assert!(err.violations()[0].message.contains("retired"));
    assert!(err.violations()[0].message.contains("2026-07-30"));
    // Still a known variant, and still sent as written if validation is skipped.
    assert_eq!("gen3a_turbo".parse::<Model>().unwrap(), Model::Gen3aTurbo);
    assert_eq!(req.skip_validation().to_body()["model"], "gen3a_turbo");
}

// ---------------------------------------------------------------- universal rules

#[test]
fn seed_is_u32_range() {
    assert_valid(&gen4_turbo().seed(0));
    assert_valid(&gen4_turbo().seed(4_294_967_295));
    let err = error(&gen4_turbo().seed(4_294_967_296));
    assert_eq!(err.violations().len(), 1);
    assert_eq!(err.violations()[0].path, "seed");
    assert!(err.violations()[0].message.contains("0..=4294967295"));
    // For unknown models too.
    let other = ImageToVideo::new("gen9", image()).seed(u64::MAX);
    assert_eq!(paths(&other), ["seed"]);
}

#[test]
fn every_violation_is_reported_at_once_with_its_path() {
    let req = ImageToVideo::new(
        Model::Gen45,
        PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::last(uri(B))]),
    )
    .prompt_text("😀".repeat(501))
    .ratio(Ratio::Aspect16x9)
    .duration(1)
    .seed(1 << 32)
    .extra("ratio", "1280:720");
    let err = error(&req);
    let got: Vec<&str> = err.violations().iter().map(|v| v.path.as_str()).collect();
    assert_eq!(
        got,
        [
            "promptImage",
            "promptImage[1].position",
            "promptText",
            "ratio",
            "duration",
            "seed",
            "ratio",
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("invalid image_to_video request: promptImage: "),
        "{text}"
    );
    let joined: Vec<String> = err
        .violations()
        .iter()
        .map(|v| format!("{}: {}", v.path, v.message))
        .collect();
    assert_eq!(
        text,
        format!("invalid image_to_video request: {}", joined.join("; "))
    );
    assert!(!text.contains('\n'));
}

#[test]
fn unknown_model_gets_universal_rules_only_and_is_sent_unchanged() {
    let req = ImageToVideo::new(
        Model::Other("gen5_preview".into()),
        PromptImage::keyframes([
            Keyframe::new(uri(A), Some(Position::Other("middle".into()))),
            Keyframe::reference(uri(B)),
            Keyframe::last(uri(B)),
        ]),
    )
    .prompt_text("😀".repeat(100_000))
    .ratio("7:3")
    .duration(999)
    .content_moderation(
        ContentModeration::new()
            .public_figure_threshold(PublicFigureThreshold::Other("off".into())),
    );
    assert_valid(&req);
    assert_eq!(req.model().as_str(), "gen5_preview");
    let body = req.to_body();
    assert_eq!(body["model"], "gen5_preview");
    assert_eq!(body["ratio"], "7:3");
    assert_eq!(body["duration"], 999);
    assert_eq!(
        body["promptImage"][0],
        json!({"uri": A, "position": "middle"})
    );
    assert_eq!(
        body["contentModeration"],
        json!({"publicFigureThreshold": "off"})
    );
}

#[test]
fn universal_rules_apply_to_unknown_models() {
    let empty = ImageToVideo::new("gen5_preview", PromptImage::keyframes([]));
    assert_eq!(paths(&empty), ["promptImage"]);
    let no_name = ImageToVideo::new("", image());
    assert_eq!(paths(&no_name), ["model"]);
    let bad_uri = ImageToVideo::new(
        "gen5_preview",
        PromptImage::keyframes([
            Keyframe::first(uri(A)),
            Keyframe::last(MediaUri::unchecked("http://example.com/b.jpg")),
        ]),
    );
    let err = error(&bad_uri);
    assert_eq!(err.violations()[0].path, "promptImage[1].uri");
    assert!(err.violations()[0].message.contains("https://"));
    let bad_single = ImageToVideo::new("gen5_preview", MediaUri::unchecked("ftp://x/y.png"));
    assert_eq!(paths(&bad_single), ["promptImage"]);
}

#[test]
fn unknown_model_matches_a_row_by_its_wire_name() {
    // `Other("gen4_turbo")` is gen4_turbo: same rules, same equality.
    let req = ImageToVideo::new(Model::Other("gen4_turbo".into()), image());
    assert_eq!(paths(&req), ["ratio"]);
    assert_eq!(req.model(), &Model::Gen4Turbo);
}

#[test]
fn extras_are_sent_unchanged() {
    let req = veo(Model::Veo31, image())
        .extra("audio", false)
        .extra("negativePrompt", "blurry")
        .extra("nested", json!({"a": [1, 2, {"b": null}]}));
    assert_valid(&req);
    let body = req.to_body();
    assert_eq!(body["audio"], false);
    assert_eq!(body["negativePrompt"], "blurry");
    assert_eq!(body["nested"], json!({"a": [1, 2, {"b": null}]}));
    assert_eq!(req.extras().len(), 3);
}

#[test]
fn extras_may_not_set_typed_fields_and_typed_fields_win() {
    let req = gen4_turbo()
        .duration(5)
        .extra("duration", 7)
        .extra("seed", 3)
        .extra("model", "gen4.5");
    let err = error(&req);
    let got: Vec<&str> = err.violations().iter().map(|v| v.path.as_str()).collect();
    // Extras are reported in key order.
    assert_eq!(got, ["duration", "model", "seed"]);
    assert!(
        err.violations()[0]
            .message
            .contains("ImageToVideo::duration")
    );

    // Skipped validation: typed fields replace clashing extras; others go through.
    let body = req.skip_validation().to_body();
    assert_eq!(body["duration"], 5);
    assert_eq!(body["model"], "gen4_turbo");
    assert_eq!(body["seed"], 3);
}

#[test]
fn skip_validation_sends_an_invalid_request_as_is() {
    let req = ImageToVideo::new(Model::Gen45, image())
        .duration(99)
        .seed(1 << 40);
    assert!(req.validate().is_err());
    assert!(!req.is_validation_skipped());
    let unchecked = req.clone().skip_validation();
    assert!(unchecked.is_validation_skipped());
    assert_eq!(unchecked.validate(), Ok(()));
    assert_eq!(unchecked.to_body(), req.to_body());
    assert_eq!(unchecked.to_body()["seed"], 1u64 << 40);
    assert!(req.validated_body().is_err());
    assert!(unchecked.validated_body().is_ok());
}

// ---------------------------------------------------------------- the wire JSON

#[test]
fn body_for_a_single_uri() {
    let req = ImageToVideo::new(Model::Gen4Turbo, image())
        .prompt_text("the camera pulls back slowly")
        .ratio(Ratio::W1280H720)
        .duration(5)
        .seed(42)
        .content_moderation(
            ContentModeration::new().public_figure_threshold(PublicFigureThreshold::Low),
        )
        .extra("audio", json!(false));
    assert_eq!(
        req.to_body(),
        json!({
            "model": "gen4_turbo",
            "promptImage": "https://example.com/a.jpg",
            "promptText": "the camera pulls back slowly",
            "ratio": "1280:720",
            "duration": 5,
            "seed": 42,
            "contentModeration": {"publicFigureThreshold": "low"},
            "audio": false
        })
    );
    assert_eq!(serde_json::to_value(&req).unwrap(), req.to_body());
}

#[test]
fn body_for_the_minimal_request_has_only_model_and_prompt_image() {
    let req = ImageToVideo::new(
        Model::GeminiOmniFlash,
        PromptImage::url("runway://abc").unwrap(),
    );
    assert_eq!(
        req.to_body(),
        json!({"model": "gemini_omni_flash", "promptImage": "runway://abc"})
    );
    let empty_cm =
        ImageToVideo::new(Model::Gen45, image()).content_moderation(ContentModeration::new());
    assert_eq!(empty_cm.to_body()["contentModeration"], json!({}));
}

#[test]
fn body_for_keyframes_and_references() {
    let req = ImageToVideo::new(
        Model::Veo31,
        PromptImage::keyframes([Keyframe::first(uri(A)), Keyframe::last(uri(B))]),
    )
    .ratio(Ratio::W1920H1080)
    .duration(8);
    assert_eq!(
        req.to_body(),
        json!({
            "model": "veo3.1",
            "promptImage": [
                {"uri": "https://example.com/a.jpg", "position": "first"},
                {"uri": "https://example.com/b.jpg", "position": "last"}
            ],
            "ratio": "1920:1080",
            "duration": 8
        })
    );

    let req = ImageToVideo::new(Model::Hailuo3, PromptImage::references([uri(A), uri(B)]))
        .prompt_text("two friends")
        .ratio(Ratio::Adaptive);
    assert_eq!(
        req.to_body(),
        json!({
            "model": "hailuo3",
            "promptImage": [{"uri": A}, {"uri": B}],
            "promptText": "two friends",
            "ratio": "adaptive"
        })
    );
}

#[test]
fn body_carries_a_data_uri_in_full() {
    let bytes = std::fs::read(PIXEL).unwrap();
    let media = MediaUri::from_bytes(&bytes).unwrap();
    let body = ImageToVideo::new(Model::Gen4Turbo, media.clone()).to_body();
    assert_eq!(body["promptImage"], media.as_str());
    assert!(media.as_str().len() > media.to_string().len());
}

#[test]
fn getters_return_what_was_set() {
    let req = gen45().seed(9).content_moderation(ContentModeration::new());
    assert_eq!(req.model(), &Model::Gen45);
    assert_eq!(req.prompt_image(), &image());
    assert_eq!(req.get_prompt_text(), Some("a slow dolly zoom"));
    assert_eq!(req.get_ratio(), Some(&Ratio::W1280H720));
    assert_eq!(req.get_duration(), Some(5));
    assert_eq!(req.get_seed(), Some(9));
    assert_eq!(
        req.get_content_moderation(),
        Some(&ContentModeration::new())
    );
}

#[test]
fn the_table_has_a_row_per_known_model() {
    // Rows may exist without a named variant (a new model is a one-row change), not the reverse.
    assert!(MODEL_RULES.len() >= Model::KNOWN.len());
    for model in Model::KNOWN {
        assert!(model.rules().is_some(), "{model}");
    }
}

// ---------------------------------------------------------------- MediaUri

#[test]
fn https_uri_accepted() {
    let u = MediaUri::parse("https://example.com/images/cat.jpg?size=large").unwrap();
    assert_eq!(u.kind(), MediaKind::Https);
    assert_eq!(u.as_str(), "https://example.com/images/cat.jpg?size=large");
    assert_eq!(u.to_string(), u.as_str());
    assert!(u.is_checked());
    assert_eq!(u.mime_type(), None);
    assert!(MediaUri::parse("https://sub.example.co.uk:8443/a.png").is_ok());
}

#[test]
fn http_uri_rejected() {
    let err = MediaUri::parse("http://example.com/a.jpg").unwrap_err();
    assert!(matches!(err, MediaError::InsecureHttp { .. }), "{err:?}");
    assert!(err.to_string().contains("https://"));
    assert!(PromptImage::url("http://example.com/a.jpg").is_err());
}

#[test]
fn ip_address_hosts_rejected() {
    for ip in [
        "https://192.168.1.10/a.jpg",
        "https://[2001:db8::1]/a.jpg",
        "https://0x7f.1/a.jpg",
    ] {
        let err = MediaUri::parse(ip).unwrap_err();
        assert!(
            matches!(err, MediaError::IpAddressHost { .. }),
            "{ip}: {err:?}"
        );
        assert!(err.to_string().contains("domain name"));
    }
}

#[test]
fn https_length_is_13_to_2048() {
    let thirteen = "https://ab.co";
    assert_eq!(thirteen.len(), 13);
    assert!(MediaUri::parse(thirteen).is_ok());
    let err = MediaUri::parse("https://a.co").unwrap_err();
    assert!(matches!(err, MediaError::UrlLength { len: 12 }), "{err:?}");

    let base = "https://example.com/";
    let max = format!("{base}{}", "a".repeat(2048 - base.len()));
    assert_eq!(max.len(), 2048);
    assert!(MediaUri::parse(&max).is_ok());
    let err = MediaUri::parse(&format!("{max}a")).unwrap_err();
    assert!(
        matches!(err, MediaError::UrlLength { len: 2049 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("runway://"));
}

#[test]
fn malformed_uris_rejected() {
    assert!(matches!(MediaUri::parse(""), Err(MediaError::Empty)));
    assert!(matches!(
        MediaUri::parse("ftp://example.com/a.jpg"),
        Err(MediaError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        MediaUri::parse("/local/file.png"),
        Err(MediaError::UnsupportedScheme { .. })
    ));
    assert!(matches!(
        MediaUri::parse("https://example.com/a cat.jpg"),
        Err(MediaError::Whitespace)
    ));
    assert!(matches!(
        MediaUri::parse("https://exa mple.com/a.jpg"),
        Err(MediaError::Whitespace)
    ));
    assert!(matches!(
        MediaUri::parse("https://exa%zzmple.com/a.jpg"),
        Err(MediaError::InvalidUrl { .. })
    ));
}

#[test]
fn runway_uri() {
    let u = MediaUri::parse("runway://uploads/7f3c").unwrap();
    assert_eq!(u.kind(), MediaKind::Runway);
    assert_eq!(u.to_string(), "runway://uploads/7f3c");
    assert!(matches!(
        MediaUri::parse("runway://"),
        Err(MediaError::EmptyRunwayUri)
    ));
}

#[test]
fn data_uri_accepted() {
    let u = MediaUri::parse("data:image/png;base64,iVBORw0KGgo=").unwrap();
    assert_eq!(u.kind(), MediaKind::Data);
    assert_eq!(u.mime_type(), Some("image/png"));
    assert_eq!(u.to_string(), "data:image/png;base64,<12 bytes>");
    // Padding is optional.
    assert!(MediaUri::parse("data:image/png;base64,iVBORw0KGgo").is_ok());
    assert!(MediaUri::parse("data:image/svg+xml;base64,PHN2Zz4=").is_ok());
}

#[test]
fn data_uri_invalid_rejected() {
    for (bad, what) in [
        ("data:image/png;base64,iVBOR*0KGgo=", "base64"),
        ("data:image/png;base64,!!!!", "base64"),
        ("data:image/png;base64,A", "base64"),
        ("data:text/plain;base64,aGVsbG8=", "image/"),
        ("data:image/png,iVBORw0KGgo=", ";base64"),
        ("data:image/png;charset=x;base64,iVBORw0KGgo=", ";base64"),
        ("data:image/;base64,iVBORw0KGgo=", "token"),
        ("data:image/png;base64,", "empty"),
        ("data:image/png;base64", "`,`"),
    ] {
        let err = MediaUri::parse(bad).unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::InvalidBase64 { .. } | MediaError::MalformedDataUri { .. }
            ),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains(what), "{bad}: {err}");
    }
}

#[test]
fn data_uri_size_limit_boundary() {
    assert_eq!(DATA_URI_LIMIT, 5_000_000);
    let prefix = "data:image/jpeg;base64,";
    // Whole URI length DATA_URI_LIMIT - 1: accepted (the payload length is a multiple of 4).
    let ok = format!("{prefix}{}", "A".repeat(DATA_URI_LIMIT - 1 - prefix.len()));
    assert_eq!(ok.len(), 4_999_999);
    let u = MediaUri::parse(&ok).unwrap();
    assert_eq!(u.to_string(), "data:image/jpeg;base64,<4999976 bytes>");
    // Whole URI length DATA_URI_LIMIT: rejected.
    let too_big = format!("{ok}A");
    let err = MediaUri::parse(&too_big).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::DataUriTooLarge {
                len: 5_000_000,
                limit: 5_000_000
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("runway://"));
}

#[test]
fn from_bytes_sniffs_png_jpeg_webp_gif() {
    let png = std::fs::read(PIXEL).unwrap();
    let u = MediaUri::from_bytes(&png).unwrap();
    assert_eq!(u.mime_type(), Some("image/png"));
    assert!(u.as_str().starts_with("data:image/png;base64,iVBORw0KGgo"));
    assert_eq!(MediaUri::parse(u.as_str()).unwrap(), u);

    let jpeg = [
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    assert_eq!(
        MediaUri::from_bytes(&jpeg).unwrap().mime_type(),
        Some("image/jpeg")
    );
    let webp = b"RIFF\x24\0\0\0WEBPVP8 ";
    assert_eq!(
        MediaUri::from_bytes(webp).unwrap().mime_type(),
        Some("image/webp")
    );
    let gif = b"GIF89a\x01\0\x01\0\0\0\0;";
    assert_eq!(
        MediaUri::from_bytes(gif).unwrap().mime_type(),
        Some("image/gif")
    );
}

#[test]
fn from_bytes_rejects_unknown_content() {
    for bytes in [&b""[..], b"hello world", b"%PDF-1.7", b"\x89PNX"] {
        let err = MediaUri::from_bytes(bytes).unwrap_err();
        assert!(matches!(err, MediaError::UnknownImageFormat), "{err:?}");
        assert!(err.to_string().contains("PNG, JPEG, WebP or GIF"));
    }
}

#[test]
fn from_bytes_enforces_the_size_limit() {
    // "data:image/png;base64," is 22 bytes; 3_749_982 raw bytes encode to 4_999_976.
    let mut bytes = vec![0u8; 3_749_982];
    bytes[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    let u = MediaUri::from_bytes(&bytes).unwrap();
    assert_eq!(u.as_str().len(), 4_999_998);
    bytes.push(0);
    let err = MediaUri::from_bytes(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            MediaError::DataUriTooLarge {
                len: 5_000_002,
                limit: 5_000_000
            }
        ),
        "{err:?}"
    );
}

#[test]
fn from_path_reads_a_file() {
    let u = MediaUri::from_path(PIXEL).unwrap();
    let direct = MediaUri::from_bytes(&std::fs::read(PIXEL).unwrap()).unwrap();
    assert_eq!(u, direct);
}

#[test]
fn from_path_missing_file_names_the_path() {
    let path = temp_path("does-not-exist.png");
    let err = MediaUri::from_path(&path).unwrap_err();
    match &err {
        MediaError::Io { path: p, source } => {
            assert_eq!(p, &path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn from_path_content_errors_name_the_path() {
    let text = temp_path("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let err = MediaUri::from_path(&text).unwrap_err();
    std::fs::remove_file(&text).unwrap();
    assert!(
        matches!(&err, MediaError::File { source, .. } if matches!(**source, MediaError::UnknownImageFormat))
    );
    assert!(
        err.to_string().contains(&text.display().to_string()),
        "{err}"
    );

    let big = temp_path("big.png");
    let mut bytes = vec![0u8; 3_749_983];
    bytes[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    std::fs::write(&big, &bytes).unwrap();
    let err = MediaUri::from_path(&big).unwrap_err();
    std::fs::remove_file(&big).unwrap();
    assert!(
        matches!(&err, MediaError::File { source, .. } if matches!(**source, MediaError::DataUriTooLarge { .. }))
    );
    assert!(
        err.to_string().contains(&big.display().to_string()),
        "{err}"
    );
}

#[test]
fn data_uri_display_and_debug_are_short() {
    let mut bytes = vec![7u8; 1_000_000];
    bytes[..8].copy_from_slice(b"\x89PNG\r\n\x1a\n");
    let u = MediaUri::from_bytes(&bytes).unwrap();
    assert!(u.as_str().len() > 1_000_000);
    let payload = u.as_str().len() - "data:image/png;base64,".len();
    assert_eq!(
        u.to_string(),
        format!("data:image/png;base64,<{payload} bytes>")
    );
    assert_eq!(
        format!("{u:?}"),
        format!("MediaUri(data:image/png;base64,<{payload} bytes>)")
    );
    // Nor does a request's Debug.
    let req = ImageToVideo::new(Model::Gen4Turbo, u);
    assert!(format!("{req:?}").len() < 1000);
}

#[test]
fn media_uri_serde_round_trip_checks_the_uri() {
    let u = uri(A);
    assert_eq!(serde_json::to_value(&u).unwrap(), json!(A));
    let back: MediaUri = serde_json::from_value(json!(A)).unwrap();
    assert_eq!(back, u);
    assert!(serde_json::from_value::<MediaUri>(json!("http://example.com/a.jpg")).is_err());
}

#[test]
fn unchecked_uris_are_checked_by_validate() {
    let bad = MediaUri::unchecked("https://10.0.0.1/a.jpg");
    assert!(!bad.is_checked());
    assert!(bad.check().is_err());
    let req = ImageToVideo::new(Model::Gen4Turbo, bad).ratio(Ratio::W1280H720);
    let err = error(&req);
    assert_eq!(err.violations().len(), 1);
    assert_eq!(err.violations()[0].path, "promptImage");
    assert!(err.violations()[0].message.contains("IP address"));
    assert_eq!(
        req.skip_validation().to_body()["promptImage"],
        "https://10.0.0.1/a.jpg"
    );
    assert!(MediaUri::unchecked(A).check().is_ok());
}
