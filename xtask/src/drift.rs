//! Operation-level differences between two OpenAPI 3.0 documents: what a reviewer needs to know
//! when LowCodeAPI's live document drifts from the pin, rather than a raw text diff.
//!
//! Operations are matched by METHOD and path. For an operation present in both, the report names
//! parameters (by location and name), request body fields (dotted property paths, with their type
//! and whether they are required, counting LowCodeAPI's property-level `"required": true` as well
//! as the standard `required` array) and responses (by status code) that were added, removed or
//! changed. Changes outside `paths` (info, components, …) get one line per section.
//!
//! Sections that describe where a document is served rather than the API ([`DEPLOYMENT_KEYS`]:
//! `servers`, at the top, on a path item or on an operation) differ between any two deployments:
//! an unconfigured self-hosted server writes `http://undefined/runwayml`, a configured one its
//! own URL, hosted LowCodeAPI its own. They are reported in [`DriftReport::deployment`], as
//! information, and are not drift ([`DriftReport::has_drift`]).
//!
//! ```
//! let pinned = serde_json::json!({"openapi": "3.0.0", "paths": {"/a": {"get": {}}}});
//! let live = serde_json::json!({"openapi": "3.0.0", "paths": {"/a": {"get": {}, "post": {}}}});
//! let report = xtask::drift::diff(&pinned, &live);
//! assert!(report.to_string().contains("POST /a"));
//! ```

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

/// The HTTP methods an OpenAPI 3.0 path item can hold, in the order the spec lists them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
/// Keys that say where a document is served, not what the API is: different on every deployment,
/// so never drift (top level, path items and operations alike).
pub const DEPLOYMENT_KEYS: [&str; 1] = ["servers"];

/// How many leaf differences to spell out for one item before summarising the rest.
const MAX_DETAILS: usize = 6;
/// The schema keys that [`describe`] sums up as a type.
const TYPE_KEYS: [&str; 8] = [
    "type", "format", "items", "nullable", "oneOf", "anyOf", "allOf", "$ref",
];
/// How deep to follow nested body properties (and `$ref`s) before giving up.
const MAX_DEPTH: usize = 8;

/// An operation's identity: upper-case METHOD and path template.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperationKey {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path as written in the document, e.g. `/v1/tasks/{id}`.
    pub path: String,
}

impl fmt::Display for OperationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Which part of an operation a [`Change`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// A parameter, named as `location \`name\``.
    Parameter,
    /// The request body as a whole (presence, required flag, content types, other details).
    RequestBody,
    /// A request body property, named by its dotted path (`[]` for array items).
    BodyField,
    /// A response, named by its status code.
    Response,
    /// Any other operation field (summary, security, tags, …), named by its key.
    Field,
}

impl Section {
    fn label(self) -> &'static str {
        match self {
            Self::Parameter => "parameter",
            Self::RequestBody => "request body",
            Self::BodyField => "body field",
            Self::Response => "response",
            Self::Field => "field",
        }
    }
}

/// Whether something appeared, disappeared or differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Only in the live document.
    Added,
    /// Only in the pinned document.
    Removed,
    /// In both, different.
    Changed,
}

impl ChangeKind {
    fn label(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Changed => "changed",
        }
    }
}

/// One difference inside an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What part of the operation.
    pub section: Section,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// The parameter, field, status code or key (empty for the request body itself).
    pub name: String,
    /// What exactly: a type, `type number → integer`, `now required`, … (may be empty).
    pub detail: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.section.label(), self.kind.label())?;
        match (self.name.is_empty(), self.detail.is_empty(), self.kind) {
            (true, true, _) => Ok(()),
            (true, false, _) => write!(f, ": {}", self.detail),
            (false, true, _) => write!(f, ": {}", self.name),
            (false, false, ChangeKind::Changed) => write!(f, ": {}: {}", self.name, self.detail),
            (false, false, _) => write!(f, ": {} ({})", self.name, self.detail),
        }
    }
}

/// An operation present in both documents, with what changed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationChange {
    /// Which operation.
    pub operation: OperationKey,
    /// What changed, in document order: parameters, request body, responses, other fields.
    pub changes: Vec<Change>,
}

/// A difference outside operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionChange {
    /// The top-level key (`info`, `servers`, `components`, …) or `path /v1/…` for a path item's
    /// own fields.
    pub section: String,
    /// What differs in it, e.g. `title added, version "1" → "2"`.
    pub detail: String,
}

impl fmt::Display for SectionChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.section, self.detail)
    }
}

/// The difference between a pinned and a live document. Its `Display` is the human report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftReport {
    /// Operations only in the live document.
    pub added: Vec<OperationKey>,
    /// Operations only in the pinned document.
    pub removed: Vec<OperationKey>,
    /// Operations in both that differ.
    pub changed: Vec<OperationChange>,
    /// Differences outside operations, one per section (`info`, `components`, …).
    pub other: Vec<SectionChange>,
    /// Deployment-specific differences ([`DEPLOYMENT_KEYS`], e.g. `servers`): information, not
    /// drift. Named `servers`, `path /p servers` or `GET /p servers`.
    pub deployment: Vec<SectionChange>,
}

impl DriftReport {
    /// True when the two documents are equal as JSON values (object key order aside).
    pub fn is_empty(&self) -> bool {
        !self.has_drift() && self.deployment.is_empty()
    }

    /// True when the API itself differs: operations added, removed or changed, or a section
    /// other than the deployment-specific ones. What `fetch-spec --check` fails on.
    pub fn has_drift(&self) -> bool {
        !(self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.other.is_empty())
    }
}

impl fmt::Display for DriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "no drift");
        }
        if !self.has_drift() {
            writeln!(
                f,
                "no drift; deployment-specific differences (information, not drift): {}",
                self.deployment_names()
            )?;
            return self.fmt_deployment(f);
        }
        write!(
            f,
            "operations: {} added, {} removed, {} changed",
            self.added.len(),
            self.removed.len(),
            self.changed.len()
        )?;
        if !self.other.is_empty() {
            let names: Vec<&str> = self
                .other
                .iter()
                .map(|other| other.section.as_str())
                .collect();
            write!(f, "; other sections changed: {}", names.join(", "))?;
        }
        writeln!(f)?;
        for key in &self.added {
            writeln!(f, "  + added    {key}")?;
        }
        for key in &self.removed {
            writeln!(f, "  - removed  {key}")?;
        }
        for change in &self.changed {
            writeln!(f, "  ~ changed  {}", change.operation)?;
            for item in &change.changes {
                writeln!(f, "      {item}")?;
            }
        }
        for line in &self.other {
            writeln!(f, "  ~ other    {line}")?;
        }
        if !self.deployment.is_empty() {
            writeln!(
                f,
                "deployment-specific differences (information, not drift): {}",
                self.deployment_names()
            )?;
            self.fmt_deployment(f)?;
        }
        Ok(())
    }
}

impl DriftReport {
    fn deployment_names(&self) -> String {
        let names: Vec<&str> = self.deployment.iter().map(|d| d.section.as_str()).collect();
        names.join(", ")
    }

    fn fmt_deployment(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.deployment {
            writeln!(f, "  i info     {line}")?;
        }
        Ok(())
    }
}

/// Compare `pinned` with `live`. Object key order is ignored everywhere.
pub fn diff(pinned: &Value, live: &Value) -> DriftReport {
    let mut report = DriftReport::default();
    if pinned == live {
        return report;
    }
    let old_ops = operations(pinned);
    let new_ops = operations(live);
    for (key, old) in &old_ops {
        if let Some((_, new)) = new_ops.iter().find(|(other, _)| other == key) {
            for name in DEPLOYMENT_KEYS {
                let (before, after) = (old.deployment.get(name), new.deployment.get(name));
                if before != after {
                    report.deployment.push(SectionChange {
                        section: format!("{key} {name}"),
                        detail: presence(before, after),
                    });
                }
            }
        }
        match new_ops.iter().find(|(other, _)| other == key) {
            None => report.removed.push(key.clone()),
            Some((_, new)) if !old.same_api(new) => {
                let mut changes = operation_changes(pinned, old, live, new);
                if changes.is_empty() {
                    changes.push(Change {
                        section: Section::Field,
                        kind: ChangeKind::Changed,
                        name: String::new(),
                        detail: "details differ".to_owned(),
                    });
                }
                report.changed.push(OperationChange {
                    operation: key.clone(),
                    changes,
                });
            }
            Some(_) => {}
        }
    }
    for (key, _) in &new_ops {
        if !old_ops.iter().any(|(other, _)| other == key) {
            report.added.push(key.clone());
        }
    }
    let (other, deployment): (Vec<Tagged>, Vec<Tagged>) = other_changes(pinned, live)
        .into_iter()
        .partition(|change| !change.deployment);
    report.other = other.into_iter().map(|c| c.change).collect();
    report
        .deployment
        .splice(0..0, deployment.into_iter().map(|c| c.change));
    report
}

/// What `summarise` says, or `added` / `removed`.
fn presence(before: Option<&Value>, after: Option<&Value>) -> String {
    match (before, after) {
        (Some(before), Some(after)) => summarise(before, after),
        (Some(_), None) => "removed".to_owned(),
        _ => "added".to_owned(),
    }
}

/// An operation with its path-level parameters merged in (operation-level ones win).
#[derive(Debug, Clone, PartialEq)]
struct Operation {
    parameters: Vec<Value>,
    body: Option<Value>,
    responses: Map<String, Value>,
    rest: Map<String, Value>,
    /// [`DEPLOYMENT_KEYS`] found on the operation, kept out of the comparison.
    deployment: Map<String, Value>,
}

impl Operation {
    /// Equal but for deployment-specific keys.
    fn same_api(&self, other: &Operation) -> bool {
        self.parameters == other.parameters
            && self.body == other.body
            && self.responses == other.responses
            && self.rest == other.rest
    }
}

fn operations(document: &Value) -> Vec<(OperationKey, Operation)> {
    let mut found = Vec::new();
    let Some(paths) = document.get("paths").and_then(Value::as_object) else {
        return found;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared = parameter_list(document, item.get("parameters"));
        for method in METHODS {
            let Some(operation) = item.get(method).and_then(Value::as_object) else {
                continue;
            };
            let mut parameters = parameter_list(document, operation.get("parameters"));
            for parameter in &shared {
                if !parameters
                    .iter()
                    .any(|own| parameter_id(own) == parameter_id(parameter))
                {
                    parameters.push(parameter.clone());
                }
            }
            let mut rest = operation.clone();
            rest.remove("parameters");
            let deployment = DEPLOYMENT_KEYS
                .iter()
                .filter_map(|key| rest.remove(*key).map(|value| ((*key).to_owned(), value)))
                .collect();
            let body = rest
                .remove("requestBody")
                .map(|body| resolve(document, &body).clone());
            let responses = match rest.remove("responses") {
                Some(Value::Object(responses)) => responses
                    .into_iter()
                    .map(|(code, response)| {
                        let response = resolve(document, &response).clone();
                        (code, response)
                    })
                    .collect(),
                _ => Map::new(),
            };
            found.push((
                OperationKey {
                    method: method.to_ascii_uppercase(),
                    path: path.clone(),
                },
                Operation {
                    parameters,
                    body,
                    responses,
                    rest,
                    deployment,
                },
            ));
        }
    }
    found
}

fn parameter_list(document: &Value, parameters: Option<&Value>) -> Vec<Value> {
    parameters
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|parameter| resolve(document, parameter).clone())
                .collect()
        })
        .unwrap_or_default()
}

/// `location \`name\`` — parameters are identified by both.
fn parameter_id(parameter: &Value) -> String {
    let name = parameter.get("name").and_then(Value::as_str).unwrap_or("?");
    let location = parameter.get("in").and_then(Value::as_str).unwrap_or("?");
    format!("{location} `{name}`")
}

fn operation_changes(
    old_doc: &Value,
    old: &Operation,
    new_doc: &Value,
    new: &Operation,
) -> Vec<Change> {
    let mut changes = Vec::new();
    parameter_changes(old, new, &mut changes);
    body_changes(old_doc, old, new_doc, new, &mut changes);
    response_changes(old, new, &mut changes);
    let mut fields: Vec<&String> = old.rest.keys().collect();
    fields.extend(new.rest.keys().filter(|key| !old.rest.contains_key(*key)));
    for field in fields {
        let (before, after) = (old.rest.get(field), new.rest.get(field));
        if before != after {
            let kind = match (before, after) {
                (None, _) => ChangeKind::Added,
                (_, None) => ChangeKind::Removed,
                _ => ChangeKind::Changed,
            };
            let detail = match (before, after) {
                (Some(before), Some(after)) => summarise(before, after),
                _ => String::new(),
            };
            changes.push(Change {
                section: Section::Field,
                kind,
                name: field.clone(),
                detail,
            });
        }
    }
    changes
}

fn parameter_changes(old: &Operation, new: &Operation, changes: &mut Vec<Change>) {
    let find = |list: &[Value], id: &str| {
        list.iter()
            .find(|parameter| parameter_id(parameter) == id)
            .cloned()
    };
    for parameter in &old.parameters {
        let id = parameter_id(parameter);
        match find(&new.parameters, &id) {
            None => changes.push(Change {
                section: Section::Parameter,
                kind: ChangeKind::Removed,
                name: id,
                detail: String::new(),
            }),
            Some(now) if &now != parameter => {
                let mut details = Vec::new();
                let required = |p: &Value| p.get("required").and_then(Value::as_bool) == Some(true);
                if required(parameter) != required(&now) {
                    details.push(format!(
                        "required {} → {}",
                        required(parameter),
                        required(&now)
                    ));
                }
                let old_type = parameter.get("schema").map(describe);
                let new_type = now.get("schema").map(describe);
                if old_type != new_type {
                    details.push(format!(
                        "type {} → {}",
                        old_type.as_deref().unwrap_or("none"),
                        new_type.as_deref().unwrap_or("none")
                    ));
                }
                let (mut before, mut after) = (
                    without(parameter, &["required"]),
                    without(&now, &["required"]),
                );
                if old_type != new_type {
                    (before, after) = (strip_schema_type(before), strip_schema_type(after));
                }
                if before != after {
                    details.push(summarise(&before, &after));
                }
                changes.push(Change {
                    section: Section::Parameter,
                    kind: ChangeKind::Changed,
                    name: id,
                    detail: details.join("; "),
                });
            }
            Some(_) => {}
        }
    }
    for parameter in &new.parameters {
        let id = parameter_id(parameter);
        if find(&old.parameters, &id).is_none() {
            let mut detail = parameter.get("schema").map(describe).unwrap_or_default();
            if parameter.get("required").and_then(Value::as_bool) == Some(true) {
                detail = join_detail(&detail, "required");
            }
            changes.push(Change {
                section: Section::Parameter,
                kind: ChangeKind::Added,
                name: id,
                detail,
            });
        }
    }
}

fn body_changes(
    old_doc: &Value,
    old: &Operation,
    new_doc: &Value,
    new: &Operation,
    changes: &mut Vec<Change>,
) {
    let body_change = |kind, detail: String| Change {
        section: Section::RequestBody,
        kind,
        name: String::new(),
        detail,
    };
    let (old_body, new_body) = match (&old.body, &new.body) {
        (None, None) => return,
        (Some(_), None) => {
            changes.push(body_change(ChangeKind::Removed, String::new()));
            return;
        }
        (None, Some(_)) => {
            changes.push(body_change(ChangeKind::Added, String::new()));
            let fields = body_fields(new_doc, new.body.as_ref());
            push_added_fields(&fields, changes);
            return;
        }
        (Some(old_body), Some(new_body)) if old_body == new_body => return,
        (Some(old_body), Some(new_body)) => (old_body, new_body),
    };
    let before = changes.len();
    let required = |body: &Value| body.get("required").and_then(Value::as_bool) == Some(true);
    if required(old_body) != required(new_body) {
        let detail = if required(new_body) {
            "now required"
        } else {
            "no longer required"
        };
        changes.push(body_change(ChangeKind::Changed, detail.to_owned()));
    }
    let types = |body: &Value| -> Vec<String> {
        body.get("content")
            .and_then(Value::as_object)
            .map(|content| content.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (old_types, new_types) = (types(old_body), types(new_body));
    for media in old_types.iter().filter(|media| !new_types.contains(media)) {
        changes.push(body_change(
            ChangeKind::Changed,
            format!("content type {media} removed"),
        ));
    }
    for media in new_types.iter().filter(|media| !old_types.contains(media)) {
        changes.push(body_change(
            ChangeKind::Changed,
            format!("content type {media} added"),
        ));
    }

    let old_fields = body_fields(old_doc, Some(old_body));
    let new_fields = body_fields(new_doc, Some(new_body));
    for field in &old_fields {
        match new_fields.iter().find(|now| now.name == field.name) {
            None => changes.push(Change {
                section: Section::BodyField,
                kind: ChangeKind::Removed,
                name: format!("`{}`", field.name),
                detail: String::new(),
            }),
            Some(now) if now != field => {
                let mut details = Vec::new();
                let mut told = vec!["required"];
                if now.kind != field.kind {
                    details.push(format!("type {} → {}", field.kind, now.kind));
                    told.extend(TYPE_KEYS);
                }
                if now.required != field.required {
                    details.push(
                        if now.required {
                            "now required"
                        } else {
                            "no longer required"
                        }
                        .to_owned(),
                    );
                }
                let (before, after) = (without(&field.schema, &told), without(&now.schema, &told));
                if before != after {
                    details.push(summarise(&before, &after));
                }
                // Only the spelling of "required" changed (property flag ↔ parent's array):
                // not a change of this field; the body-level summary will show the text.
                if details.is_empty() {
                    continue;
                }
                changes.push(Change {
                    section: Section::BodyField,
                    kind: ChangeKind::Changed,
                    name: format!("`{}`", field.name),
                    detail: details.join("; "),
                });
            }
            Some(_) => {}
        }
    }
    let added: Vec<Field> = new_fields
        .into_iter()
        .filter(|field| !old_fields.iter().any(|old| old.name == field.name))
        .collect();
    push_added_fields(&added, changes);
    if changes.len() == before {
        changes.push(body_change(
            ChangeKind::Changed,
            summarise(old_body, new_body),
        ));
    }
}

fn push_added_fields(fields: &[Field], changes: &mut Vec<Change>) {
    for field in fields {
        let detail = if field.required {
            join_detail(&field.kind, "required")
        } else {
            field.kind.clone()
        };
        changes.push(Change {
            section: Section::BodyField,
            kind: ChangeKind::Added,
            name: format!("`{}`", field.name),
            detail,
        });
    }
}

fn response_changes(old: &Operation, new: &Operation, changes: &mut Vec<Change>) {
    for (code, response) in &old.responses {
        match new.responses.get(code) {
            None => changes.push(Change {
                section: Section::Response,
                kind: ChangeKind::Removed,
                name: code.clone(),
                detail: String::new(),
            }),
            Some(now) if now != response => changes.push(Change {
                section: Section::Response,
                kind: ChangeKind::Changed,
                name: code.clone(),
                detail: summarise(response, now),
            }),
            Some(_) => {}
        }
    }
    for (code, response) in &new.responses {
        if !old.responses.contains_key(code) {
            let detail = response
                .get("description")
                .and_then(Value::as_str)
                .filter(|text| !text.is_empty())
                .map(|text| format!("{text:?}"))
                .unwrap_or_default();
            changes.push(Change {
                section: Section::Response,
                kind: ChangeKind::Added,
                name: code.clone(),
                detail,
            });
        }
    }
}

/// One request body property, flattened.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    /// Dotted path: `promptImage`, `promptImage[].uri`.
    name: String,
    /// Its type as [`describe`] writes it.
    kind: String,
    /// Required by its parent's `required` array or by its own `"required": true`.
    required: bool,
    /// The property schema without nested properties/items (those are fields of their own).
    schema: Value,
}

/// The properties of a request body's schema (the JSON media type's, else the first one's).
fn body_fields(document: &Value, body: Option<&Value>) -> Vec<Field> {
    let mut fields = Vec::new();
    let Some(content) = body
        .and_then(|body| body.get("content"))
        .and_then(Value::as_object)
    else {
        return fields;
    };
    let media = content
        .get("application/json")
        .or_else(|| content.values().next());
    if let Some(schema) = media.and_then(|media| media.get("schema")) {
        flatten(document, schema, "", 0, &mut HashSet::new(), &mut fields);
    }
    fields
}

fn flatten(
    document: &Value,
    schema: &Value,
    prefix: &str,
    depth: usize,
    seen: &mut HashSet<String>,
    fields: &mut Vec<Field>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let reference = schema.get("$ref").and_then(Value::as_str);
    if let Some(reference) = reference
        && !seen.insert(reference.to_owned())
    {
        return;
    }
    let schema = resolve(document, schema);
    let required_list: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (key, property) in properties {
            let name = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            let resolved = resolve(document, property);
            let required = required_list.contains(&key.as_str())
                || property.get("required").and_then(Value::as_bool) == Some(true);
            let mut own = resolved.clone();
            if let Some(own) = own.as_object_mut() {
                own.remove("properties");
                own.remove("items");
                if own.get("required").is_some_and(Value::is_array) {
                    own.remove("required");
                }
            }
            if !fields.iter().any(|field| field.name == name) {
                fields.push(Field {
                    name: name.clone(),
                    kind: describe(property),
                    required,
                    schema: own,
                });
            }
            flatten(document, property, &name, depth + 1, seen, fields);
        }
    }
    if let Some(items) = schema.get("items") {
        let name = format!("{prefix}[]");
        flatten(document, items, &name, depth + 1, seen, fields);
    }
    for combinator in ["allOf", "oneOf", "anyOf"] {
        for variant in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            flatten(document, variant, prefix, depth + 1, seen, fields);
        }
    }
    if let Some(reference) = reference {
        seen.remove(reference);
    }
}

/// A schema's type in a few words: `string`, `integer (int64)`, `array of string`,
/// `oneOf(string | array of object)`, `$ref Task`.
fn describe(schema: &Value) -> String {
    describe_at(schema, 0)
}

fn describe_at(schema: &Value, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "…".to_owned();
    }
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return format!("$ref {}", reference.rsplit('/').next().unwrap_or(reference));
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(variants) = schema.get(combinator).and_then(Value::as_array) {
            let parts: Vec<String> = variants
                .iter()
                .map(|variant| describe_at(variant, depth + 1))
                .collect();
            return format!("{combinator}({})", parts.join(" | "));
        }
    }
    let base = match schema.get("type") {
        Some(Value::String(kind)) if kind == "array" => {
            let items = schema
                .get("items")
                .map(|items| describe_at(items, depth + 1))
                .unwrap_or_else(|| "any".to_owned());
            format!("array of {items}")
        }
        Some(Value::String(kind)) => kind.clone(),
        Some(other) => other.to_string(),
        None if schema.get("properties").is_some() => "object".to_owned(),
        None => "any".to_owned(),
    };
    let mut extras = Vec::new();
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        extras.push(format.to_owned());
    }
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        extras.push("nullable".to_owned());
    }
    if extras.is_empty() {
        base
    } else {
        format!("{base} ({})", extras.join(", "))
    }
}

/// Follow a local `$ref` (`#/components/...`), once per hop, up to [`MAX_DEPTH`] hops.
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..MAX_DEPTH {
        let Some(target) = current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .and_then(|pointer| document.pointer(pointer))
        else {
            break;
        };
        current = target;
    }
    current
}

/// A difference outside operations, and whether it is deployment-specific.
struct Tagged {
    change: SectionChange,
    deployment: bool,
}

/// Differences outside operations: top-level sections other than `paths`, and path items'
/// own fields (summary, description, servers; their parameters are counted per operation).
/// Deployment-specific keys come out as their own entries, tagged.
fn other_changes(pinned: &Value, live: &Value) -> Vec<Tagged> {
    let mut lines = Vec::new();
    let empty = Map::new();
    let old = pinned.as_object().unwrap_or(&empty);
    let new = live.as_object().unwrap_or(&empty);
    for key in union_keys(old, new) {
        if key == "paths" {
            continue;
        }
        let detail = match (old.get(&key), new.get(&key)) {
            (Some(before), Some(after)) if before != after => summarise(before, after),
            (Some(_), None) => "removed".to_owned(),
            (None, Some(_)) => "added".to_owned(),
            _ => continue,
        };
        let deployment = DEPLOYMENT_KEYS.contains(&key.as_str());
        lines.push(Tagged {
            change: SectionChange {
                section: key,
                detail,
            },
            deployment,
        });
    }
    let paths = |object: &Map<String, Value>| {
        object
            .get("paths")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (old_paths, new_paths) = (paths(old), paths(new));
    for path in union_keys(&old_paths, &new_paths) {
        let item_fields = |paths: &Map<String, Value>| {
            let mut item = paths
                .get(&path)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            item.retain(|key, _| key != "parameters" && !METHODS.contains(&key.as_str()));
            Value::Object(item)
        };
        let (mut before, mut after) = (item_fields(&old_paths), item_fields(&new_paths));
        for name in DEPLOYMENT_KEYS {
            let (was, is) = (
                before.as_object_mut().and_then(|o| o.remove(name)),
                after.as_object_mut().and_then(|o| o.remove(name)),
            );
            if was != is {
                lines.push(Tagged {
                    change: SectionChange {
                        section: format!("path {path} {name}"),
                        detail: presence(was.as_ref(), is.as_ref()),
                    },
                    deployment: true,
                });
            }
        }
        if before != after {
            lines.push(Tagged {
                change: SectionChange {
                    section: format!("path {path}"),
                    detail: summarise(&before, &after),
                },
                deployment: false,
            });
        }
    }
    lines
}

fn union_keys(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = old.keys().cloned().collect();
    keys.extend(new.keys().filter(|key| !old.contains_key(*key)).cloned());
    keys
}

/// The leaf differences between two values, as `a.b: x → y` items, at most [`MAX_DETAILS`].
fn summarise(before: &Value, after: &Value) -> String {
    let mut found = Vec::new();
    leaves(before, after, "", &mut found);
    if found.is_empty() {
        return "changed".to_owned();
    }
    let extra = found.len().saturating_sub(MAX_DETAILS);
    found.truncate(MAX_DETAILS);
    let mut text = found.join(", ");
    if extra > 0 {
        text.push_str(&format!(", and {extra} more"));
    }
    text
}

fn leaves(before: &Value, after: &Value, path: &str, found: &mut Vec<String>) {
    if before == after {
        return;
    }
    let at = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for key in union_keys(old, new) {
                match (old.get(&key), new.get(&key)) {
                    (Some(a), Some(b)) => leaves(a, b, &at(&key), found),
                    (Some(_), None) => found.push(format!("{} removed", at(&key))),
                    (None, Some(_)) => found.push(format!("{} added", at(&key))),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (index, (a, b)) in old.iter().zip(new).enumerate() {
                leaves(a, b, &format!("{path}[{index}]"), found);
            }
        }
        (Value::Array(old), Value::Array(new)) => found.push(format!(
            "{} {} → {} items",
            label(path),
            old.len(),
            new.len()
        )),
        (a, b) if is_short(a) && is_short(b) => {
            found.push(format!("{} {a} → {b}", label(path)));
        }
        _ => found.push(format!("{} changed", label(path))),
    }
}

fn label(path: &str) -> &str {
    if path.is_empty() { "value" } else { path }
}

fn is_short(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
        Value::String(text) => text.chars().count() <= 40,
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// `value` without the given top-level keys (those already reported in their own words).
fn without(value: &Value, keys: &[&str]) -> Value {
    let mut value = value.clone();
    if let Some(object) = value.as_object_mut() {
        object.retain(|key, _| !keys.contains(&key.as_str()));
    }
    value
}

/// A parameter without its schema's [`TYPE_KEYS`], which [`describe`] already told.
fn strip_schema_type(mut parameter: Value) -> Value {
    let Some(object) = parameter.as_object_mut() else {
        return parameter;
    };
    if let Some(schema) = object.get("schema") {
        let rest = without(schema, &TYPE_KEYS);
        if rest.as_object().is_some_and(Map::is_empty) {
            object.remove("schema");
        } else {
            object.insert("schema".to_owned(), rest);
        }
    }
    parameter
}

fn join_detail(first: &str, second: &str) -> String {
    if first.is_empty() {
        second.to_owned()
    } else {
        format!("{first}, {second}")
    }
}
