//! OpenAPI Overlay 1.0: a list of actions, each with an RFC 9535 JSONPath `target` and either an
//! `update` (merged into every node the target selects) or `remove: true`.
//!
//! Merge rules follow the Overlay specification: objects merge recursively, an update applied to an
//! array is appended to it, and any other value replaces the old one.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::Value;
use serde_json_path::JsonPath;

/// A parsed overlay document.
#[derive(Debug, Deserialize)]
pub struct Overlay {
    /// The overlay specification version; only 1.x is understood.
    pub overlay: String,
    /// The overlay's own title and version.
    pub info: OverlayInfo,
    /// Applied in order.
    pub actions: Vec<Action>,
}

/// `info` of an overlay.
#[derive(Debug, Deserialize)]
pub struct OverlayInfo {
    /// What the overlay is.
    pub title: String,
    /// The overlay's own version.
    pub version: String,
}

/// One overlay action.
#[derive(Debug, Deserialize)]
pub struct Action {
    /// JSONPath (RFC 9535) selecting the nodes to change.
    pub target: String,
    /// Why the action exists; printed when it is applied.
    #[serde(default)]
    pub description: Option<String>,
    /// Merged into each selected node.
    #[serde(default)]
    pub update: Option<Value>,
    /// Removes each selected node.
    #[serde(default)]
    pub remove: bool,
}

impl Overlay {
    /// Parses an overlay from YAML text.
    pub fn from_yaml(text: &str) -> Result<Self> {
        let overlay: Overlay =
            serde_yaml_ng::from_str(text).context("spec/overlay.yaml is not a valid overlay")?;
        if !overlay.overlay.starts_with("1.") {
            bail!(
                "overlay version {} is not supported (1.x is)",
                overlay.overlay
            );
        }
        for (index, action) in overlay.actions.iter().enumerate() {
            if action.update.is_none() && !action.remove {
                bail!(
                    "overlay action {index} ({}) has neither update nor remove",
                    action.target
                );
            }
        }
        Ok(overlay)
    }

    /// Applies every action in order. Returns one line per action saying what it did.
    ///
    /// A target that selects nothing is an error: a silently skipped action would hide the fact
    /// that the upstream document changed shape under the overlay.
    pub fn apply(&self, document: &mut Value) -> Result<Vec<String>> {
        let mut report = Vec::new();
        for action in &self.actions {
            let count = apply_action(document, action)?;
            let why = action.description.as_deref().unwrap_or("(no description)");
            let verb = if action.remove { "removed" } else { "updated" };
            report.push(format!(
                "overlay: {verb} {} ({count} node{}): {}",
                action.target,
                if count == 1 { "" } else { "s" },
                why.trim()
            ));
        }
        Ok(report)
    }
}

fn apply_action(document: &mut Value, action: &Action) -> Result<usize> {
    let path = JsonPath::parse(&action.target)
        .with_context(|| format!("overlay target {:?} is not valid JSONPath", action.target))?;
    // Collect locations first: the query borrows the document immutably.
    let mut locations: Vec<Vec<Segment>> = path
        .query_located(document)
        .locations()
        .map(|location| {
            location
                .iter()
                .map(|element| match element.as_index() {
                    Some(index) => Segment::Index(index),
                    None => Segment::Name(element.as_name().unwrap_or_default().to_owned()),
                })
                .collect()
        })
        .collect();
    if locations.is_empty() {
        bail!(
            "overlay target {} selects nothing in the upstream document",
            action.target
        );
    }
    if action.remove {
        // Remove deepest and highest indices first so earlier removals do not shift later ones.
        locations.sort();
        locations.reverse();
        for location in &locations {
            remove_at(document, location);
        }
    } else if let Some(update) = &action.update {
        for location in &locations {
            if let Some(node) = node_mut(document, location) {
                merge(node, update);
            }
        }
    }
    Ok(locations.len())
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Name(String),
    Index(usize),
}

fn node_mut<'a>(mut node: &'a mut Value, location: &[Segment]) -> Option<&'a mut Value> {
    for segment in location {
        node = match segment {
            Segment::Name(name) => node.get_mut(name.as_str())?,
            Segment::Index(index) => node.get_mut(*index)?,
        };
    }
    Some(node)
}

fn remove_at(document: &mut Value, location: &[Segment]) {
    let Some((last, parent)) = location.split_last() else {
        *document = Value::Null;
        return;
    };
    match (node_mut(document, parent), last) {
        (Some(Value::Object(map)), Segment::Name(name)) => {
            map.shift_remove(name);
        }
        (Some(Value::Array(items)), Segment::Index(index)) if *index < items.len() => {
            items.remove(*index);
        }
        _ => {}
    }
}

/// Overlay merge: objects recursively, arrays append, anything else replaces.
pub fn merge(target: &mut Value, update: &Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => {
            for (key, value) in update {
                match target.get_mut(key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(items), update) => items.push(update.clone()),
        (target, update) => *target = update.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(actions: &str) -> Overlay {
        Overlay::from_yaml(&format!(
            "overlay: 1.0.0\ninfo: {{title: t, version: '1'}}\nactions:\n{actions}"
        ))
        .unwrap()
    }

    #[test]
    fn update_merges_objects_and_replaces_scalars() {
        let mut doc = json!({"info": {"title": "a", "x": {"y": 1}}});
        overlay("  - target: $.info\n    update: {title: b, x: {z: 2}}\n")
            .apply(&mut doc)
            .unwrap();
        assert_eq!(doc, json!({"info": {"title": "b", "x": {"y": 1, "z": 2}}}));
    }

    #[test]
    fn update_on_an_array_appends() {
        let mut doc = json!({"tags": ["a"]});
        overlay("  - target: $.tags\n    update: b\n")
            .apply(&mut doc)
            .unwrap();
        assert_eq!(doc, json!({"tags": ["a", "b"]}));
    }

    #[test]
    fn remove_deletes_every_selected_node() {
        let mut doc =
            json!({"paths": {"/a": {"get": {"example": 1}}, "/b": {"post": {"example": 2}}}});
        overlay("  - target: $.paths.*.*.example\n    remove: true\n")
            .apply(&mut doc)
            .unwrap();
        assert_eq!(
            doc,
            json!({"paths": {"/a": {"get": {}}, "/b": {"post": {}}}})
        );
    }

    #[test]
    fn a_target_that_selects_nothing_is_an_error() {
        let mut doc = json!({});
        let error = overlay("  - target: $.nothing\n    update: {a: 1}\n")
            .apply(&mut doc)
            .unwrap_err();
        assert!(error.to_string().contains("selects nothing"), "{error}");
    }

    #[test]
    fn an_action_without_update_or_remove_is_rejected() {
        let error = Overlay::from_yaml(
            "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - target: $.a\n",
        )
        .unwrap_err();
        assert!(error.to_string().contains("neither update nor remove"));
    }
}
