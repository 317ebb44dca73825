//! `cargo xtask prepare`: turn LowCodeAPI's document into one progenitor 0.15.1 can generate from.
//!
//! Two layers, kept apart on purpose:
//! - generic rewrites in code, for the systematic defects of LowCodeAPI's OpenAPI converter (they
//!   hit every provider, so they must not depend on anything Runway-specific);
//! - `spec/overlay.yaml`, for what only a Runway expert knows (real body shapes, response schemas).
//!
//! Every rewrite is reported, one line each, so a reviewer sees what was changed and why.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

use crate::overlay::Overlay;
use crate::paths;

/// The prepared document and the rewrites that produced it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// A valid OpenAPI 3.0.3 document.
    pub document: Value,
    /// One human-readable line per rewrite, in the order applied.
    pub rewrites: Vec<String>,
}

/// Where the New Format twin of an Old Format operation gets its name.
pub const OLD_FORMAT_SUFFIX: &str = "_old_format";

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Reads the pin and the overlay from `root` and prepares them.
pub fn prepare_files(root: &Path) -> Result<Prepared> {
    let upstream_path = root.join(paths::UPSTREAM);
    let text = fs::read_to_string(&upstream_path)
        .with_context(|| format!("cannot read {}", upstream_path.display()))?;
    let upstream: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", upstream_path.display()))?;
    let overlay_path = root.join(paths::OVERLAY);
    let overlay = fs::read_to_string(&overlay_path)
        .with_context(|| format!("cannot read {}", overlay_path.display()))?;
    prepare(&upstream, &overlay)
}

/// The exact text written to `spec/openapi.json`.
pub fn render(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("a JSON value always serializes");
    text.push('\n');
    text
}

/// `cargo xtask prepare`: writes `spec/openapi.json` and prints each rewrite.
pub fn run(root: &Path) -> Result<ExitCode> {
    let prepared = prepare_files(root)?;
    for line in &prepared.rewrites {
        println!("{line}");
    }
    let target = root.join(paths::PREPARED);
    let text = render(&prepared.document);
    let temporary = target.with_extension("json.tmp");
    fs::write(&temporary, &text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    fs::rename(&temporary, &target)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    println!(
        "wrote {} ({} operations)",
        paths::PREPARED,
        operations(&prepared.document).len()
    );
    if paths::sync_sim_definition(root)
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

/// Applies the generic rewrites, then the overlay, then emits the Old Format twins.
pub fn prepare(upstream: &Value, overlay_yaml: &str) -> Result<Prepared> {
    let overlay = Overlay::from_yaml(overlay_yaml)?;
    let mut document = upstream.clone();
    let mut rewrites = Vec::new();
    let log = &mut rewrites;

    fix_version(&mut document, log)?;
    fix_info(&mut document, log);
    fix_servers(&mut document, log);
    fix_external_docs(&mut document, log);
    fix_schemas(&mut document, log);
    fix_examples(&mut document, log);
    let templated = fix_path_parameters(&mut document, log)?;
    fix_request_bodies(&mut document, log);
    fix_responses(&mut document, log);
    assign_operation_ids(&mut document, log);

    let overlay_lines = overlay.apply(&mut document)?;
    rewrites.extend(overlay_lines);
    let log = &mut rewrites;

    emit_old_format_twins(&mut document, &templated, log);
    check_result(&document, log)?;
    Ok(Prepared { document, rewrites })
}

fn fix_version(document: &mut Value, log: &mut Vec<String>) -> Result<()> {
    if document.get("swagger").is_some() {
        bail!("the document is Swagger 2.0; OpenAPI 3.0.x is required");
    }
    let version = document
        .get("openapi")
        .and_then(Value::as_str)
        .context("the document has no `openapi` version")?
        .to_owned();
    if !version.starts_with("3.0") {
        bail!("the document is OpenAPI {version}; OpenAPI 3.0.x is required");
    }
    if version != "3.0.3" {
        document["openapi"] = json!("3.0.3");
        log.push(format!(
            "rewrite: openapi {version} -> 3.0.3: the latest 3.0 patch release, same semantics"
        ));
    }
    let Some(paths) = document
        .get("paths")
        .and_then(Value::as_object)
        .filter(|paths| !paths.is_empty())
    else {
        bail!("the document has no operations (`paths` is empty or missing)");
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            bail!("path {path} is not an object");
        };
        for (method, operation) in item {
            if METHODS.contains(&method.as_str()) && !operation.is_object() {
                bail!(
                    "operation {} {path} is not an object",
                    method.to_uppercase()
                );
            }
        }
    }
    Ok(())
}

/// The provider name, from the last segment of the first server URL (`…/runwayml`).
fn provider(document: &Value) -> Option<String> {
    let url = document.pointer("/servers/0/url")?.as_str()?;
    let segment = url.trim_end_matches('/').rsplit('/').next()?;
    (!segment.is_empty() && !segment.contains(':')).then(|| segment.to_owned())
}

fn fix_info(document: &mut Value, log: &mut Vec<String>) {
    let provider = provider(document).unwrap_or_else(|| "provider".to_owned());
    let info = object_entry(document, "info");
    if !info.contains_key("title") {
        let title = format!("LowCodeAPI {provider}");
        log.push(format!(
            "rewrite: info.title missing -> {title:?}: openapiv3 refuses a document without it"
        ));
        info.insert("title".into(), json!(title));
    }
    if !info.contains_key("version") {
        log.push(
            "rewrite: info.version missing -> \"0.0.0\": openapiv3 refuses a document without it"
                .to_owned(),
        );
        info.insert("version".into(), json!("0.0.0"));
    }
}

fn fix_servers(document: &mut Value, log: &mut Vec<String>) {
    let provider = provider(document);
    let Some(servers) = document.get_mut("servers").and_then(Value::as_array_mut) else {
        return;
    };
    for server in servers {
        let Some(url) = server.get("url").and_then(Value::as_str) else {
            continue;
        };
        if url.contains("://undefined") {
            let fixed = format!(
                "https://api.lowcodeapi.com/{}",
                provider.as_deref().unwrap_or_default()
            );
            log.push(format!(
                "rewrite: servers url {url} -> {fixed}: the converter printed an unset host"
            ));
            server["url"] = json!(fixed);
        }
    }
}

fn fix_external_docs(document: &mut Value, log: &mut Vec<String>) {
    let mut fixed = 0;
    let mut dropped = 0;
    let mut visit = |docs: &mut Value| {
        let Some(map) = docs.as_object_mut() else {
            return;
        };
        let extra: Vec<String> = map
            .keys()
            .filter(|key| !matches!(key.as_str(), "url" | "description") && !key.starts_with("x-"))
            .cloned()
            .collect();
        for key in &extra {
            if let Some(value) = map.shift_remove(key) {
                map.insert(format!("x-{}", key.replace('_', "-")), value);
            }
        }
        if !map.contains_key("url") {
            if let Some(url) = map.get("x-api-ref").cloned() {
                map.insert("url".into(), url);
                fixed += 1;
            } else {
                dropped += 1;
            }
        }
    };
    if let Some(docs) = document.get_mut("externalDocs") {
        visit(docs);
    }
    for (_, _, operation) in operations_mut(document) {
        if let Some(docs) = operation.get_mut("externalDocs") {
            visit(docs);
        }
    }
    // A docs object with no URL at all cannot be made valid: drop it.
    if dropped > 0 {
        for (_, _, operation) in operations_mut(document) {
            if operation
                .get("externalDocs")
                .is_some_and(|docs| docs.get("url").is_none())
                && let Some(map) = operation.as_object_mut()
            {
                map.shift_remove("externalDocs");
            }
        }
        if document
            .get("externalDocs")
            .is_some_and(|docs| docs.get("url").is_none())
            && let Some(map) = document.as_object_mut()
        {
            map.shift_remove("externalDocs");
        }
        log.push(format!(
            "rewrite: externalDocs without url removed ({dropped}): `url` is required"
        ));
    }
    if fixed > 0 {
        log.push(format!(
            "rewrite: externalDocs.url set from api_ref ({fixed} operations), non-standard keys \
             kept as x-api-ref/x-api-endpoint: `url` is required"
        ));
    }
}

/// Calls `visit` on every schema object in the document, depth first.
fn walk_schemas(document: &mut Value, visit: &mut dyn FnMut(&mut Map<String, Value>)) {
    fn walk(schema: &mut Value, visit: &mut dyn FnMut(&mut Map<String, Value>)) {
        let Some(map) = schema.as_object_mut() else {
            return;
        };
        visit(map);
        if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
            for property in properties.values_mut() {
                walk(property, visit);
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(child) = map.get_mut(key) {
                walk(child, visit);
            }
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(children) = map.get_mut(key).and_then(Value::as_array_mut) {
                for child in children {
                    walk(child, visit);
                }
            }
        }
    }
    fn walk_content(content: Option<&mut Value>, visit: &mut dyn FnMut(&mut Map<String, Value>)) {
        if let Some(content) = content.and_then(Value::as_object_mut) {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    walk(schema, visit);
                }
            }
        }
    }
    for (_, _, operation) in operations_mut(document) {
        if let Some(parameters) = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut)
        {
            for parameter in parameters {
                if let Some(schema) = parameter.get_mut("schema") {
                    walk(schema, visit);
                }
            }
        }
        walk_content(operation.pointer_mut("/requestBody/content"), visit);
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            for response in responses.values_mut() {
                walk_content(response.get_mut("content"), visit);
            }
        }
    }
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for schema in schemas.values_mut() {
            walk(schema, visit);
        }
    }
}

fn fix_schemas(document: &mut Value, log: &mut Vec<String>) {
    let mut hoisted = 0;
    let mut empty_required = 0;
    walk_schemas(document, &mut |schema| {
        let mut required: Vec<String> = Vec::new();
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (name, property) in properties.iter_mut() {
                let Some(property) = property.as_object_mut() else {
                    continue;
                };
                if let Some(flag) = property.get("required").and_then(Value::as_bool) {
                    property.shift_remove("required");
                    hoisted += 1;
                    if flag {
                        required.push(name.clone());
                    }
                }
            }
        }
        if !required.is_empty() {
            let list = schema
                .entry("required")
                .or_insert_with(|| json!([]))
                .as_array_mut();
            if let Some(list) = list {
                for name in required {
                    if !list.iter().any(|existing| existing == &json!(name)) {
                        list.push(json!(name));
                    }
                }
            }
        }
        if schema
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            schema.shift_remove("required");
            empty_required += 1;
        }
    });
    if hoisted > 0 {
        log.push(format!(
            "rewrite: property-level `required: true|false` hoisted into the object's `required` \
             array ({hoisted} properties): JSON Schema has no boolean `required`"
        ));
    }
    if empty_required > 0 {
        log.push(format!(
            "rewrite: empty `required: []` removed ({empty_required} schemas): OpenAPI 3.0 needs \
             at least one entry"
        ));
    }
}

/// True when `value` fits the JSON type a schema names (objects checked property by property).
fn fits(value: &Value, schema: &Value) -> bool {
    let kind = schema.get("type").and_then(Value::as_str);
    match (kind, value) {
        (None, _) => true,
        (Some("string"), Value::String(_)) => true,
        (Some("number"), Value::Number(_)) => true,
        (Some("integer"), Value::Number(number)) => number.is_i64() || number.is_u64(),
        (Some("boolean"), Value::Bool(_)) => true,
        (Some("array"), Value::Array(items)) => match schema.get("items") {
            Some(item_schema) => items.iter().all(|item| fits(item, item_schema)),
            None => true,
        },
        (Some("object"), Value::Object(map)) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            map.iter().all(|(key, value)| {
                properties
                    .and_then(|properties| properties.get(key))
                    .is_none_or(|property| fits(value, property))
            })
        }
        _ => false,
    }
}

fn fix_examples(document: &mut Value, log: &mut Vec<String>) {
    let mut removed = Vec::new();
    for (method, path, operation) in operations_mut(document) {
        let mut contents: Vec<&mut Value> = Vec::new();
        let (request_body, responses) = split_body_and_responses(operation);
        if let Some(content) = request_body {
            contents.push(content);
        }
        contents.extend(responses);
        for content in contents {
            let Some(content) = content.as_object_mut() else {
                continue;
            };
            for media in content.values_mut() {
                let Some(media) = media.as_object_mut() else {
                    continue;
                };
                let bad = match (media.get("example"), media.get("schema")) {
                    (Some(example), Some(schema)) => !fits(example, schema),
                    _ => false,
                };
                if bad {
                    media.shift_remove("example");
                    removed.push(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
    }
    if !removed.is_empty() {
        log.push(format!(
            "rewrite: examples whose types disagree with their schema removed ({}): they would \
             mislead readers and mock generators",
            removed.join(", ")
        ));
    }
}

fn split_body_and_responses(operation: &mut Value) -> (Option<&mut Value>, Vec<&mut Value>) {
    let Some(map) = operation.as_object_mut() else {
        return (None, Vec::new());
    };
    let mut request = None;
    let mut responses = Vec::new();
    for (key, value) in map.iter_mut() {
        match key.as_str() {
            "requestBody" => request = value.get_mut("content"),
            "responses" => {
                if let Some(all) = value.as_object_mut() {
                    responses.extend(all.values_mut().filter_map(|r| r.get_mut("content")));
                }
            }
            _ => {}
        }
    }
    (request, responses)
}

/// A path parameter the converter declared but did not template, keyed by the templated path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Templated {
    /// The path as LowCodeAPI serves it (the Old Format path).
    pub literal: String,
    /// The path with `{parameter}` templates (the New Format path).
    pub templated: String,
}

fn fix_path_parameters(document: &mut Value, log: &mut Vec<String>) -> Result<BTreeSet<String>> {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(BTreeSet::new());
    };
    let mut rebuilt = Map::new();
    let mut templated_paths = BTreeSet::new();
    for (path, item) in std::mem::take(paths) {
        let mut new_path = path.clone();
        if let Some(item_map) = item.as_object() {
            for (method, operation) in item_map {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                for parameter in path_parameters(operation) {
                    let template = format!("{{{parameter}}}");
                    if new_path.contains(&template) {
                        continue;
                    }
                    let segments: Vec<&str> = new_path.split('/').collect();
                    if segments.contains(&parameter.as_str()) {
                        new_path = segments
                            .iter()
                            .map(|segment| {
                                if *segment == parameter {
                                    template.clone()
                                } else {
                                    (*segment).to_owned()
                                }
                            })
                            .collect::<Vec<_>>()
                            .join("/");
                    }
                }
            }
        }
        let mut item = item;
        if let Some(item_map) = item.as_object_mut() {
            for (method, operation) in item_map.iter_mut() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                normalize_path_parameters(operation, &new_path, method, log);
            }
        }
        if new_path != path {
            log.push(format!(
                "rewrite: path {path} -> {new_path}: its `in: path` parameters were declared but \
                 not templated, so generated methods would never send them (New Format); the \
                 literal path is kept as the Old Format twin"
            ));
            templated_paths.insert(new_path.clone());
        }
        if rebuilt.contains_key(&new_path) {
            bail!("two upstream paths both become {new_path} once templated");
        }
        rebuilt.insert(new_path, item);
    }
    *paths = rebuilt;
    Ok(templated_paths)
}

fn path_parameters(operation: &Value) -> Vec<String> {
    operation
        .get("parameters")
        .and_then(Value::as_array)
        .map(|parameters| {
            parameters
                .iter()
                .filter(|p| p.get("in").and_then(Value::as_str) == Some("path"))
                .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Makes an operation's path parameters agree with its (templated) path: every template declared,
/// every declared path parameter templated (else moved to the query) and required.
fn normalize_path_parameters(
    operation: &mut Value,
    path: &str,
    method: &str,
    log: &mut Vec<String>,
) {
    let templates: Vec<String> = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect();
    let Some(map) = operation.as_object_mut() else {
        return;
    };
    let parameters = map
        .entry("parameters")
        .or_insert_with(|| json!([]))
        .as_array_mut();
    let Some(parameters) = parameters else {
        return;
    };
    let where_ = format!("{} {path}", method.to_uppercase());
    for parameter in parameters.iter_mut() {
        if parameter.get("in").and_then(Value::as_str) != Some("path") {
            continue;
        }
        let name = parameter
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !templates.contains(&name) {
            parameter["in"] = json!("query");
            log.push(format!(
                "rewrite: parameter {name} of {where_} moved from path to query: the path has no \
                 place for it"
            ));
        } else if parameter.get("required") != Some(&json!(true)) {
            parameter["required"] = json!(true);
            log.push(format!(
                "rewrite: path parameter {name} of {where_} made required: path parameters always are"
            ));
        }
    }
    for template in &templates {
        let declared = parameters.iter().any(|p| {
            p.get("in").and_then(Value::as_str) == Some("path")
                && p.get("name").and_then(Value::as_str) == Some(template)
        });
        if !declared {
            parameters.push(json!({
                "name": template, "in": "path", "required": true, "schema": {"type": "string"}
            }));
            log.push(format!(
                "rewrite: path parameter {template} of {where_} declared: it was templated but \
                 undeclared"
            ));
        }
    }
    if parameters.is_empty() {
        map.shift_remove("parameters");
    }
}

fn fix_request_bodies(document: &mut Value, log: &mut Vec<String>) {
    for (method, path, operation) in operations_mut(document) {
        let Some(map) = operation.as_object_mut() else {
            continue;
        };
        let Some(body) = map.get_mut("requestBody") else {
            continue;
        };
        let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        if content.len() > 1 && content.contains_key("application/json") {
            let dropped: Vec<String> = content
                .keys()
                .filter(|k| *k != "application/json")
                .cloned()
                .collect();
            content.retain(|key, _| key == "application/json");
            log.push(format!(
                "rewrite: {} {path} request body: kept application/json, dropped {}: progenitor \
                 supports one content type",
                method.to_uppercase(),
                dropped.join(", ")
            ));
        }
        let empty = content.values().all(|media| {
            media.get("schema").is_none_or(|schema| {
                schema.get("type").and_then(Value::as_str) == Some("object")
                    && schema
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_none_or(Map::is_empty)
                    && schema.get("additionalProperties").is_none()
            })
        });
        if empty && matches!(method.as_str(), "get" | "delete" | "head" | "options") {
            map.shift_remove("requestBody");
            log.push(format!(
                "rewrite: {} {path} request body removed: a required empty object adds nothing to \
                 the call (the proxy sends its own)",
                method.to_uppercase()
            ));
        }
    }
}

fn fix_responses(document: &mut Value, log: &mut Vec<String>) {
    for (method, path, operation) in operations_mut(document) {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let mut changes = Vec::new();
        if responses.shift_remove("default").is_some() {
            changes.push("removed `default`".to_owned());
        }
        let statuses: Vec<String> = responses.keys().cloned().collect();
        for status in statuses {
            let success = status.starts_with('2');
            let response = &mut responses[&status];
            let schemaless = response
                .get("content")
                .and_then(Value::as_object)
                .is_some_and(|content| content.values().any(|media| media.get("schema").is_none()));
            if schemaless && !success {
                responses.shift_remove(&status);
                changes.push(format!("removed schema-less {status}"));
            } else if schemaless {
                if let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) {
                    content.retain(|_, media| media.get("schema").is_some());
                }
                changes.push(format!("dropped schema-less content of {status}"));
            }
        }
        let successes: Vec<String> = responses
            .keys()
            .filter(|status| status.starts_with('2'))
            .cloned()
            .collect();
        for extra in successes.iter().skip(1) {
            responses.shift_remove(extra);
            changes.push(format!("removed second success response {extra}"));
        }
        if !changes.is_empty() {
            log.push(format!(
                "rewrite: {} {path} responses: {}: a response without a schema makes progenitor \
                 panic or discard the body; undeclared errors keep their bodies",
                method.to_uppercase(),
                changes.join(", ")
            ));
        }
    }
}

/// A readable, deterministic operation id from the method and the (templated) path:
/// `POST /v1/image_to_video` → `image_to_video`, `GET /v1/tasks/{id}` → `get_task`.
pub fn operation_id(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let is_version =
        |s: &str| s.len() >= 2 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit());
    let ends_with_parameter = segments.last().is_some_and(|s| s.starts_with('{'));
    let mut words: Vec<String> = segments
        .iter()
        .filter(|s| !s.starts_with('{') && !is_version(s))
        .map(|s| snake(s))
        .filter(|s| !s.is_empty())
        .collect();
    if words.is_empty() {
        words.push("root".to_owned());
    }
    if ends_with_parameter && let Some(last) = words.last_mut() {
        *last = singular(last);
    }
    let name = words.join("_");
    match method {
        "get" => format!("get_{name}"),
        "delete" => format!("delete_{name}"),
        "put" => format!("put_{name}"),
        "patch" => format!("update_{name}"),
        "post" if ends_with_parameter => format!("post_{name}"),
        "post" => name,
        other => format!("{other}_{name}"),
    }
}

fn snake(segment: &str) -> String {
    let mut out = String::new();
    for c in segment.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    }
}

fn assign_operation_ids(document: &mut Value, log: &mut Vec<String>) {
    let mut taken: BTreeSet<String> = operations(document)
        .iter()
        .filter_map(|(_, _, op)| op.get("operationId").and_then(Value::as_str))
        .map(str::to_owned)
        .collect();
    let mut assigned = Vec::new();
    for (method, path, operation) in operations_mut(document) {
        if operation.get("operationId").is_some() {
            continue;
        }
        let base = operation_id(&method, &path);
        let mut id = base.clone();
        let mut n = 2;
        while taken.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(id.clone());
        assigned.push(format!("{} {path} = {id}", method.to_uppercase()));
        operation["operationId"] = json!(id);
    }
    if !assigned.is_empty() {
        log.push(format!(
            "rewrite: operationIds assigned ({}): progenitor needs one per operation",
            assigned.join(", ")
        ));
    }
}

fn emit_old_format_twins(
    document: &mut Value,
    templated: &BTreeSet<String>,
    log: &mut Vec<String>,
) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let mut rebuilt = Map::new();
    for (path, item) in std::mem::take(paths) {
        let templates: Vec<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_owned)
            .collect();
        rebuilt.insert(path.clone(), item.clone());
        if templates.is_empty() {
            continue;
        }
        let literal = path
            .split('/')
            .map(|s| {
                s.strip_prefix('{')
                    .and_then(|s| s.strip_suffix('}'))
                    .unwrap_or(s)
            })
            .collect::<Vec<_>>()
            .join("/");
        let mut twin = item;
        let mut ids = Vec::new();
        if let Some(map) = twin.as_object_mut() {
            for (method, operation) in map.iter_mut() {
                if !METHODS.contains(&method.as_str()) {
                    continue;
                }
                if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                    let twin_id = format!("{id}{OLD_FORMAT_SUFFIX}");
                    // Said first in the twin's docs: which of the two to call, and when.
                    let note = format!(
                        "Old Format twin of `{id}`: the same operation with the path parameters \
                         sent as query parameters ({literal}?…). Call it on servers that route only \
                         the Old Format (LowCodeAPI's open-source server answers the New Format \
                         with a routing miss, 404 {{\"message\":\"Not Found\"}}); hosted LowCodeAPI \
                         routes both. The high-level client picks the format and remembers it."
                    );
                    let description = match operation.get("description").and_then(Value::as_str) {
                        Some(text) if !text.is_empty() => format!("{note}\n\n{text}"),
                        _ => note,
                    };
                    operation["description"] = json!(description);
                    ids.push(twin_id.clone());
                    operation["operationId"] = json!(twin_id);
                }
                if let Some(parameters) = operation
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                {
                    for parameter in parameters {
                        if parameter.get("in").and_then(Value::as_str) == Some("path") {
                            parameter["in"] = json!("query");
                            parameter["required"] = json!(true);
                        }
                    }
                }
            }
        }
        let origin = if templated.contains(&path) {
            "as LowCodeAPI serves it"
        } else {
            "derived"
        };
        log.push(format!(
            "rewrite: Old Format twin {literal} ({origin}; {}) emitted beside {path}: path \
             parameters travel as query parameters on servers that only route the Old Format",
            ids.join(", ")
        ));
        rebuilt.insert(literal, twin);
    }
    *paths = rebuilt;
}

fn check_result(document: &Value, log: &mut Vec<String>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (method, path, operation) in operations(document) {
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !seen.insert(id.to_owned()) {
            bail!(
                "operationId {id} is used twice (at {} {path})",
                method.to_uppercase()
            );
        }
        let has_success = operation
            .get("responses")
            .and_then(Value::as_object)
            .is_some_and(|r| r.keys().any(|status| status.starts_with('2')));
        if !has_success {
            log.push(format!(
                "note: {} {path} ({id}) declares no success response; its result stays an \
                 untyped byte stream until the overlay describes it",
                method.to_uppercase()
            ));
        }
    }
    serde_json::from_value::<openapiv3::OpenAPI>(document.clone())
        .context("the prepared document is not valid OpenAPI 3.0")?;
    Ok(())
}

fn object_entry<'a>(document: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !document.get(key).is_some_and(Value::is_object) {
        document[key] = json!({});
    }
    document[key].as_object_mut().expect("just made an object")
}

/// Every operation as (method, path, operation), in document order.
pub fn operations(document: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    if let Some(paths) = document.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            if let Some(item) = item.as_object() {
                for (method, operation) in item {
                    if METHODS.contains(&method.as_str()) {
                        out.push((method.clone(), path.clone(), operation));
                    }
                }
            }
        }
    }
    out
}

fn operations_mut(document: &mut Value) -> Vec<(String, String, &mut Value)> {
    let mut out = Vec::new();
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for (path, item) in paths.iter_mut() {
            if let Some(item) = item.as_object_mut() {
                for (method, operation) in item.iter_mut() {
                    if METHODS.contains(&method.as_str()) {
                        out.push((method.clone(), path.clone(), operation));
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_are_readable() {
        assert_eq!(operation_id("post", "/v1/image_to_video"), "image_to_video");
        assert_eq!(operation_id("get", "/v1/tasks/{id}"), "get_task");
        assert_eq!(operation_id("delete", "/v1/tasks/{id}"), "delete_task");
        assert_eq!(operation_id("post", "/v1/text_to_image"), "text_to_image");
        assert_eq!(operation_id("get", "/v1/organization"), "get_organization");
        assert_eq!(
            operation_id("get", "/v1/avatars/{avatar}/voices/{voice}"),
            "get_avatars_voice"
        );
        assert_eq!(operation_id("patch", "/v2/policies/{id}"), "update_policy");
        assert_eq!(operation_id("get", "/"), "get_root");
    }
}
