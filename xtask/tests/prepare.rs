//! `prepare` on the pinned document and on synthetic upstream documents: every rewrite applied,
//! idempotent, and the result generates with progenitor 0.15.1.

use serde_json::{Value, json};
use xtask::paths::workspace_root;

/// The checkout the tests run in (cargo sets CARGO_MANIFEST_DIR at run time).
fn root() -> std::path::PathBuf {
    workspace_root().expect("the workspace root").0
}
use xtask::prepare::{Prepared, prepare, prepare_files, render};

fn pinned() -> Value {
    let text = std::fs::read_to_string(root().join("spec/upstream/runwayml.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn overlay() -> String {
    std::fs::read_to_string(root().join("spec/overlay.yaml")).unwrap()
}

/// Generates Rust from a prepared document the way build.rs does; panics are failures too.
fn generate(document: &Value) -> String {
    let spec: openapiv3::OpenAPI = serde_json::from_value(document.clone()).unwrap();
    let mut settings = progenitor::GenerationSettings::default();
    settings.with_interface(progenitor::InterfaceStyle::Positional);
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&spec)
        .expect("progenitor generates");
    let file: syn::File = syn::parse2(tokens).expect("generated code parses");
    prettyplease::unparse(&file)
}

fn operation_ids(document: &Value) -> Vec<String> {
    xtask::prepare::operations(document)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn todays_document_gets_every_rewrite() {
    let Prepared { document, rewrites } = prepare(&pinned(), &overlay()).unwrap();
    let all = rewrites.join("\n");
    for expected in [
        "openapi 3.0.0 -> 3.0.3",
        "info.title missing",
        "info.version missing",
        "servers url http://undefined/runwayml -> https://api.lowcodeapi.com/runwayml",
        "externalDocs.url set from api_ref",
        "property-level `required: true|false` hoisted",
        "empty `required: []` removed",
        "examples whose types disagree",
        "path /v1/tasks/id -> /v1/tasks/{id}",
        "DELETE /v1/tasks/{id} request body removed",
        "removed schema-less 401",
        "operationIds assigned",
        "overlay: updated $.components",
        "Old Format twin /v1/tasks/id",
    ] {
        assert!(
            all.contains(expected),
            "missing rewrite {expected:?} in:\n{all}"
        );
    }
    assert_eq!(document["openapi"], "3.0.3");
    assert_eq!(document["info"]["version"], "2024-11-06");
    assert_eq!(
        document["servers"][0]["url"],
        "https://api.lowcodeapi.com/runwayml"
    );
    assert_eq!(
        operation_ids(&document),
        [
            "image_to_video",
            "get_task",
            "delete_task",
            "get_task_old_format",
            "delete_task_old_format"
        ]
    );
    let old = &document["paths"]["/v1/tasks/id"]["get"]["parameters"][0];
    assert_eq!(old["in"], "query");
    assert_eq!(old["required"], true);
    let new = &document["paths"]["/v1/tasks/{id}"]["get"]["parameters"][0];
    assert_eq!(new["in"], "path");
    // A twin's docs say first which operation it mirrors and when to call it.
    let twin_docs = document["paths"]["/v1/tasks/id"]["get"]["description"]
        .as_str()
        .unwrap();
    assert!(
        twin_docs.starts_with("Old Format twin of `get_task`"),
        "{twin_docs}"
    );
    assert!(twin_docs.contains("open-source server"), "{twin_docs}");
    let original = document["paths"]["/v1/tasks/{id}"]["get"]["description"]
        .as_str()
        .unwrap();
    assert!(!original.contains("Old Format twin"), "{original}");
    assert!(twin_docs.ends_with(original), "{twin_docs}");
    let body = &document["paths"]["/v1/image_to_video"]["post"]["requestBody"]["content"]["application/json"];
    assert_eq!(
        body["schema"],
        json!({"$ref": "#/components/schemas/ImageToVideoRequest"})
    );
    assert!(body.get("example").is_none());
    assert!(
        document["paths"]["/v1/tasks/{id}"]["delete"]
            .get("requestBody")
            .is_none()
    );
    // No error response is schema-less; the only responses are the typed successes.
    for (_, path, op) in xtask::prepare::operations(&document) {
        for (status, response) in op["responses"].as_object().unwrap() {
            assert!(
                status.starts_with('2'),
                "{path}: undeclared errors keep their bodies"
            );
            if let Some(content) = response.get("content") {
                assert!(
                    content["application/json"].get("schema").is_some(),
                    "{path} {status}"
                );
            }
        }
    }
    // The status stays an open string: an unknown status must not break decoding.
    assert_eq!(
        document["components"]["schemas"]["Task"]["properties"]["status"],
        json!({"type": "string"})
    );
}

#[test]
fn prepare_is_idempotent() {
    let once = prepare(&pinned(), &overlay()).unwrap().document;
    // Preparing the prepared document changes nothing but the (already applied) overlay.
    let no_overlay = "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []\n";
    let twice = prepare(&once, no_overlay).unwrap();
    // The Old Format twin is itself prepared again: it must come out identical.
    assert_eq!(render(&twice.document), render(&once));
    assert!(
        twice
            .rewrites
            .iter()
            .all(|line| !line.starts_with("rewrite: ") || line.contains("Old Format twin")),
        "{:#?}",
        twice.rewrites
    );
}

#[test]
fn the_committed_prepared_document_is_current() {
    let expected = render(&prepare_files(&root()).unwrap().document);
    let committed = std::fs::read_to_string(root().join("spec/openapi.json")).unwrap();
    assert!(
        committed == expected,
        "spec/openapi.json is stale: run `cargo xtask prepare`"
    );
}

#[test]
fn the_prepared_document_generates_every_operation_and_twin() {
    let code = generate(&prepare(&pinned(), &overlay()).unwrap().document);
    for method in [
        "pub async fn image_to_video",
        "pub async fn get_task",
        "pub async fn delete_task",
        "pub async fn get_task_old_format",
        "pub async fn delete_task_old_format",
    ] {
        assert!(code.contains(method), "generated code lacks {method}");
    }
}

/// An upstream with a new intent and a path with two untemplated parameters, in the converter's style.
fn synthetic_upstream() -> Value {
    let mut document = pinned();
    let intent = json!({
        "post": {
            "parameters": [],
            "responses": {"401": {"description": "API token required", "content": {"application/json": {}}}},
            "externalDocs": {"api_ref": "https://docs.example.com/t2i"},
            "summary": "Generate an image from text",
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"type": "object", "required": [], "properties": {
                    "promptText": {"type": "string", "required": true},
                    "model": {"type": "string", "required": true},
                    "seed": {"type": "number"}
                }},
                "example": {"promptText": "", "model": "", "seed": ""}
            }}}
        }
    });
    let two_params = json!({
        "get": {
            "parameters": [
                {"name": "avatar", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "voice", "in": "path", "required": true, "schema": {"type": "string"}}
            ],
            "responses": {"401": {"description": "API token required", "content": {"application/json": {}}}},
            "externalDocs": {"api_ref": "https://docs.example.com/voices"}
        }
    });
    let paths = document["paths"].as_object_mut().unwrap();
    paths.insert("/v1/text_to_image".into(), intent);
    paths.insert("/v1/avatars/avatar/voices/voice".into(), two_params);
    document
}

#[test]
fn a_new_intent_and_two_path_parameters_prepare_and_generate() {
    let Prepared { document, .. } = prepare(&synthetic_upstream(), &overlay()).unwrap();
    let ids = operation_ids(&document);
    assert!(ids.contains(&"text_to_image".to_owned()), "{ids:?}");
    assert!(ids.contains(&"get_avatars_voice".to_owned()), "{ids:?}");
    assert!(
        ids.contains(&"get_avatars_voice_old_format".to_owned()),
        "{ids:?}"
    );
    assert_eq!(
        document["paths"]["/v1/text_to_image"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["required"],
        json!(["promptText", "model"])
    );
    let code = generate(&document);
    assert!(code.contains("pub async fn text_to_image"));
    assert!(code.contains("pub async fn get_avatars_voice<"));
    assert!(code.contains("pub async fn get_avatars_voice_old_format"));
}

#[test]
fn documents_prepare_refuses_say_why() {
    let overlay = overlay();
    let mut v31 = pinned();
    v31["openapi"] = json!("3.1.0");
    let error = prepare(&v31, &overlay).unwrap_err().to_string();
    assert!(
        error.contains("3.1.0") && error.contains("3.0.x"),
        "{error}"
    );
    let error = prepare(&json!({"swagger": "2.0"}), &overlay)
        .unwrap_err()
        .to_string();
    assert!(error.contains("Swagger 2.0"), "{error}");
    let mut empty = pinned();
    empty["paths"] = json!({});
    let error = prepare(&empty, &overlay).unwrap_err().to_string();
    assert!(error.contains("no operations"), "{error}");
    let mut broken = pinned();
    broken["paths"]["/v1/image_to_video"]["post"] = json!("not an operation");
    let error = prepare(&broken, &overlay).unwrap_err().to_string();
    assert!(
        error.contains("POST /v1/image_to_video is not an object"),
        "{error}"
    );
    // An overlay whose target no longer exists upstream is an error, not a silent no-op.
    let mut renamed = pinned();
    let item = renamed["paths"]
        .as_object_mut()
        .unwrap()
        .shift_remove("/v1/image_to_video")
        .unwrap();
    renamed["paths"]["/v1/image_to_video_v2"] = item;
    let error = format!("{:#}", prepare(&renamed, &overlay).unwrap_err());
    assert!(error.contains("selects nothing"), "{error}");
}
