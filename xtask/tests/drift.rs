//! `xtask::drift::diff`: operation-level differences between two OpenAPI documents.

use serde_json::{Value, json};
use xtask::drift::{self, ChangeKind, OperationKey, Section};

const FIXTURE: &str = include_str!("fixtures/runwayml-definition.json");

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("the fixture is JSON")
}

fn key(method: &str, path: &str) -> OperationKey {
    OperationKey {
        method: method.to_owned(),
        path: path.to_owned(),
    }
}

fn body_properties<'a>(document: &'a mut Value, path: &str, method: &str) -> &'a mut Value {
    &mut document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["properties"]
}

/// The changes reported for one operation, as displayed.
fn lines_for(report: &drift::DriftReport, operation: &OperationKey) -> Vec<String> {
    report
        .changed
        .iter()
        .find(|change| &change.operation == operation)
        .unwrap_or_else(|| panic!("{operation} not reported as changed:\n{report}"))
        .changes
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn identical_documents_have_no_drift() {
    let report = drift::diff(&fixture(), &fixture());
    assert!(report.is_empty());
    assert_eq!(report.to_string(), "no drift\n");
}

/// `value` with the keys of every object, at every depth, in reverse order.
fn reversed(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .rev()
                .map(|(key, value)| (key.clone(), reversed(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(reversed).collect()),
        other => other.clone(),
    }
}

#[test]
fn object_key_order_is_not_drift() {
    let reordered = reversed(&fixture());
    assert_ne!(
        serde_json::to_string(&reordered).expect("json"),
        serde_json::to_string(&fixture()).expect("json"),
        "the test really reorders"
    );
    assert!(drift::diff(&fixture(), &reordered).is_empty());
}

#[test]
fn added_and_removed_operations_are_named_by_method_and_path() {
    let pinned = fixture();
    let mut live = fixture();
    live["paths"]["/v1/text_to_image"] = json!({ "post": { "responses": {} } });
    live["paths"]["/v1/tasks/id"]
        .as_object_mut()
        .expect("path item")
        .remove("delete");

    let report = drift::diff(&pinned, &live);

    assert_eq!(report.added, vec![key("POST", "/v1/text_to_image")]);
    assert_eq!(report.removed, vec![key("DELETE", "/v1/tasks/id")]);
    assert!(report.changed.is_empty());
    let text = report.to_string();
    assert!(
        text.starts_with("operations: 1 added, 1 removed, 0 changed\n"),
        "{text}"
    );
    assert!(text.contains("+ added    POST /v1/text_to_image"), "{text}");
    assert!(text.contains("- removed  DELETE /v1/tasks/id"), "{text}");
}

#[test]
fn parameters_are_compared_by_name_and_location() {
    let pinned = fixture();
    let mut live = fixture();
    let parameters = &mut live["paths"]["/v1/tasks/id"]["get"]["parameters"];
    parameters[0]["required"] = json!(false);
    parameters[0]["schema"]["type"] = json!("integer");
    parameters[0]["description"] = json!("The task's id.");
    parameters.as_array_mut().expect("array").push(
        json!({ "name": "id", "in": "query", "required": true, "schema": { "type": "string" } }),
    );
    // The DELETE loses its path parameter.
    live["paths"]["/v1/tasks/id"]["delete"]["parameters"] = json!([]);

    let report = drift::diff(&pinned, &live);

    let get = lines_for(&report, &key("GET", "/v1/tasks/id"));
    assert_eq!(get.len(), 2, "{get:#?}");
    assert!(get[0].starts_with(
        "parameter changed: path `id`: required true → false; type string → integer; description "
    ), "{get:#?}");
    assert_eq!(get[1], "parameter added: query `id` (string, required)");
    let delete = lines_for(&report, &key("DELETE", "/v1/tasks/id"));
    assert_eq!(delete, vec!["parameter removed: path `id`"]);
}

#[test]
fn path_level_parameters_count_for_each_operation() {
    let pinned = json!({ "openapi": "3.0.3", "paths": { "/t/{id}": {
        "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
        "get": { "responses": {} },
        "delete": { "responses": {} }
    } } });
    let mut live = pinned.clone();
    live["paths"]["/t/{id}"]["parameters"][0]["schema"]["type"] = json!("integer");

    let report = drift::diff(&pinned, &live);

    for method in ["GET", "DELETE"] {
        let lines = lines_for(&report, &key(method, "/t/{id}"));
        assert_eq!(
            lines,
            vec!["parameter changed: path `id`: type string → integer"]
        );
    }
    assert!(report.other.is_empty(), "{report}");
}

#[test]
fn body_fields_added_removed_retyped_and_required() {
    let pinned = fixture();
    let mut live = fixture();
    let properties = body_properties(&mut live, "/v1/image_to_video", "post");
    let properties = properties.as_object_mut().expect("properties");
    properties.insert(
        "callbackUrl".to_owned(),
        json!({ "type": "string", "format": "uri" }),
    );
    properties.remove("watermark");
    properties["seed"]["type"] = json!("integer");
    // LowCodeAPI marks required fields on the property itself; dropping it is a change.
    properties["position"]
        .as_object_mut()
        .expect("position")
        .remove("required");
    properties["ratio"]["description"] = json!("Output resolution.");

    let report = drift::diff(&pinned, &live);

    let lines = lines_for(&report, &key("POST", "/v1/image_to_video"));
    assert_eq!(
        lines,
        vec![
            "body field changed: `seed`: type number → integer",
            "body field changed: `ratio`: description \"The resolution of the output video.\" → \"Output resolution.\"",
            "body field changed: `position`: no longer required",
            "body field removed: `watermark`",
            "body field added: `callbackUrl` (string (uri))",
        ],
    );
}

#[test]
fn required_array_and_property_flag_are_the_same_thing() {
    // What `prepare` does to LowCodeAPI's quirk: `"required": true` on the property becomes the
    // object's `required` array. The field stays required, so only the body's text differs.
    let pinned = json!({ "openapi": "3.0.0", "paths": { "/x": { "post": { "requestBody": {
        "content": { "application/json": { "schema": { "type": "object", "required": [],
            "properties": { "uri": { "type": "string", "required": true } } } } } } } } } });
    let mut live = pinned.clone();
    let schema =
        &mut live["paths"]["/x"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    schema["required"] = json!(["uri"]);
    schema["properties"]["uri"] = json!({ "type": "string" });

    let report = drift::diff(&pinned, &live);

    let lines = lines_for(&report, &key("POST", "/x"));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("request body changed: "), "{lines:#?}");
    assert!(!lines[0].contains("body field"), "{lines:#?}");
}

#[test]
fn nested_body_fields_are_named_with_dotted_paths() {
    let pinned = json!({ "openapi": "3.0.3", "paths": { "/v1/image_to_video": { "post": {
        "requestBody": { "content": { "application/json": { "schema": {
            "type": "object",
            "properties": { "promptImage": { "type": "string" } }
        } } } }
    } } } });
    let mut live = pinned.clone();
    body_properties(&mut live, "/v1/image_to_video", "post")["promptImage"] = json!({
        "oneOf": [
            { "type": "string" },
            { "type": "array", "items": { "$ref": "#/components/schemas/Keyframe" } }
        ]
    });
    live["components"] = json!({ "schemas": { "Keyframe": {
        "type": "object",
        "required": ["uri"],
        "properties": { "uri": { "type": "string" }, "position": { "type": "string" } }
    } } });

    let report = drift::diff(&pinned, &live);

    let lines = lines_for(&report, &key("POST", "/v1/image_to_video"));
    assert_eq!(
        lines,
        vec![
            "body field changed: `promptImage`: type string → oneOf(string | array of $ref Keyframe)",
            "body field added: `promptImage[].uri` (string, required)",
            "body field added: `promptImage[].position` (string)",
        ],
    );
    assert_eq!(report.other.len(), 1);
    assert_eq!(report.other[0].to_string(), "components: added");
}

#[test]
fn request_body_presence_and_required_flag() {
    let pinned = fixture();
    let mut live = fixture();
    live["paths"]["/v1/tasks/id"]["delete"]
        .as_object_mut()
        .expect("delete")
        .remove("requestBody");
    live["paths"]["/v1/image_to_video"]["post"]["requestBody"]["required"] = json!(false);

    let report = drift::diff(&pinned, &live);

    assert_eq!(
        lines_for(&report, &key("DELETE", "/v1/tasks/id")),
        vec!["request body removed"]
    );
    assert_eq!(
        lines_for(&report, &key("POST", "/v1/image_to_video")),
        vec!["request body changed: no longer required"]
    );
}

#[test]
fn responses_are_compared_by_status_code() {
    let pinned = fixture();
    let mut live = fixture();
    let responses = live["paths"]["/v1/tasks/id"]["get"]["responses"]
        .as_object_mut()
        .expect("responses");
    responses.insert(
        "200".to_owned(),
        json!({ "description": "The task", "content": { "application/json": { "schema": { "type": "object" } } } }),
    );
    responses["401"]["description"] = json!("Unauthorized");
    live["paths"]["/v1/image_to_video"]["post"]["responses"] = json!({});

    let report = drift::diff(&pinned, &live);

    assert_eq!(
        lines_for(&report, &key("GET", "/v1/tasks/id")),
        vec![
            "response changed: 401: description \"API token required\" → \"Unauthorized\"",
            "response added: 200 (\"The task\")",
        ]
    );
    assert_eq!(
        lines_for(&report, &key("POST", "/v1/image_to_video")),
        vec!["response removed: 401"]
    );
    let get = report
        .changed
        .iter()
        .find(|change| change.operation == key("GET", "/v1/tasks/id"))
        .expect("GET changed");
    assert_eq!(get.changes[0].section, Section::Response);
    assert_eq!(get.changes[0].kind, ChangeKind::Changed);
    assert_eq!(get.changes[0].name, "401");
}

#[test]
fn other_operation_fields_are_named() {
    let pinned = fixture();
    let mut live = fixture();
    live["paths"]["/v1/image_to_video"]["post"]["summary"] = json!("Image to video");
    live["paths"]["/v1/image_to_video"]["post"]["operationId"] = json!("image_to_video");

    let report = drift::diff(&pinned, &live);

    assert_eq!(
        lines_for(&report, &key("POST", "/v1/image_to_video")),
        vec![
            "field changed: summary: value \"Generate a video from an image\" → \"Image to video\"",
            "field added: operationId",
        ]
    );
}

#[test]
fn changes_outside_operations_get_one_line_per_section() {
    let pinned = fixture();
    let mut live = fixture();
    live["info"]["title"] = json!("RunwayML");
    live["servers"][0]["url"] = json!("https://backend.lowcodeapi.com/runwayml");
    live["components"]["securitySchemes"]["ApiToken"]["in"] = json!("header");
    live["paths"]["/v1/tasks/id"]["summary"] = json!("Tasks");

    let report = drift::diff(&pinned, &live);

    assert!(report.added.is_empty() && report.removed.is_empty() && report.changed.is_empty());
    assert!(report.has_drift());
    let lines: Vec<String> = report.other.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec![
            "info: title added",
            "components: securitySchemes.ApiToken.in \"query\" → \"header\"",
            "path /v1/tasks/id: summary added",
        ]
    );
    let deployment: Vec<String> = report.deployment.iter().map(ToString::to_string).collect();
    assert_eq!(
        deployment,
        vec![
            "servers: [0].url \"http://undefined/runwayml\" → \"https://backend.lowcodeapi.com/runwayml\""
        ]
    );
    let text = report.to_string();
    assert!(text.starts_with(
        "operations: 0 added, 0 removed, 0 changed; other sections changed: info, components, path /v1/tasks/id\n"
    ), "{text}");
    assert!(
        text.contains("deployment-specific differences (information, not drift): servers\n"),
        "{text}"
    );
}

#[test]
fn servers_are_deployment_specific_not_drift_wherever_they_are() {
    // What a configured self-hosted server (or hosted LowCodeAPI) serves, against the pin an
    // unconfigured server wrote: only `servers` differs.
    let pinned = fixture();
    let mut live = fixture();
    live["servers"] = json!([{"url": "https://lowcode.example.com/runwayml"}]);
    live["paths"]["/v1/tasks/id"]["servers"] = json!([{"url": "https://a.example.com"}]);
    live["paths"]["/v1/image_to_video"]["post"]["servers"] =
        json!([{"url": "https://b.example.com"}]);

    let report = drift::diff(&pinned, &live);

    assert!(!report.has_drift(), "{report}");
    assert!(!report.is_empty());
    assert!(
        report.changed.is_empty() && report.other.is_empty(),
        "{report}"
    );
    let sections: Vec<&str> = report
        .deployment
        .iter()
        .map(|d| d.section.as_str())
        .collect();
    assert_eq!(
        sections,
        vec![
            "servers",
            "path /v1/tasks/id servers",
            "POST /v1/image_to_video servers"
        ],
        "{report}"
    );
    let text = report.to_string();
    assert!(
        text.starts_with(
            "no drift; deployment-specific differences (information, not drift): servers, "
        ),
        "{text}"
    );
    assert!(!text.contains("0 added"), "{text}");

    // Real drift next to a servers difference is still drift.
    live["paths"]["/v1/tasks/id"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    let report = drift::diff(&pinned, &live);
    assert!(report.has_drift());
    assert_eq!(report.removed, vec![key("DELETE", "/v1/tasks/id")]);
    assert_eq!(report.deployment.len(), 3);
}

#[test]
fn the_report_lists_operations_then_other_sections() {
    let pinned = fixture();
    let mut live = fixture();
    live["paths"]["/v1/text_to_image"] = json!({ "post": {} });
    live["paths"]["/v1/tasks/id"]["get"]["responses"]["200"] = json!({ "description": "ok" });
    live["info"]["version"] = json!("1");

    let text = drift::diff(&pinned, &live).to_string();

    assert_eq!(
        text,
        "operations: 1 added, 0 removed, 1 changed; other sections changed: info\n\
         \x20 + added    POST /v1/text_to_image\n\
         \x20 ~ changed  GET /v1/tasks/id\n\
         \x20     response added: 200 (\"ok\")\n\
         \x20 ~ other    info: version added\n"
    );
}
