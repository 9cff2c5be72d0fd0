//! JSON Schema as the anthropic SDK (0.125) sends a structured-output format:
//! `anthropic.lib._parse._transform.transform_schema`, which `beta.messages.parse(output_format=..)`
//! applies to the model's JSON schema before it goes out as `output_config.format.schema`.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::{Map, Value};

/// String formats the strict schema keeps (`SupportedStringFormats`); others are described.
const SUPPORTED_STRING_FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "uri",
    "ipv4",
    "ipv6",
    "uuid",
];

/// `transform_schema`: a strict copy of `schema`. Objects get `additionalProperties: false`;
/// `oneOf` becomes `anyOf`; keywords strict mode does not support are appended to the
/// description as `{key: value, ...}`.
pub(crate) fn transform_schema(schema: &Value) -> Value {
    let Value::Object(source) = schema else {
        return schema.clone();
    };
    let mut rest = source.clone();
    let mut strict = Map::new();
    if let Some(Value::Object(defs)) = rest.remove("$defs") {
        let defs: Map<String, Value> = defs
            .iter()
            .map(|(k, v)| (k.clone(), transform_schema(v)))
            .collect();
        strict.insert("$defs".into(), Value::Object(defs));
    }
    if let Some(reference) = rest.remove("$ref") {
        strict.insert("$ref".into(), reference);
        return Value::Object(strict);
    }
    let ty = rest.remove("type");
    let any_of = rest.remove("anyOf");
    let one_of = rest.remove("oneOf");
    let all_of = rest.remove("allOf");
    let variants = |v: &Value| -> Value {
        Value::Array(
            v.as_array()
                .into_iter()
                .flatten()
                .map(transform_schema)
                .collect(),
        )
    };
    if let Some(v) = any_of.as_ref().filter(|v| v.is_array()) {
        strict.insert("anyOf".into(), variants(v));
    } else if let Some(v) = one_of.as_ref().filter(|v| v.is_array()) {
        strict.insert("anyOf".into(), variants(v));
    } else if let Some(v) = all_of.as_ref().filter(|v| v.is_array()) {
        strict.insert("allOf".into(), variants(v));
    } else if let Some(t) = &ty {
        strict.insert("type".into(), t.clone());
    }
    if let Some(e) = rest.remove("enum").filter(Value::is_array) {
        strict.insert("enum".into(), e);
    }
    if let Some(d) = rest.remove("description").filter(|d| !d.is_null()) {
        strict.insert("description".into(), d);
    }
    if let Some(t) = rest.remove("title").filter(|t| !t.is_null()) {
        strict.insert("title".into(), t);
    }
    match ty.as_ref().and_then(Value::as_str) {
        Some("object") => {
            let props = match rest.remove("properties") {
                Some(Value::Object(p)) => p
                    .iter()
                    .map(|(k, v)| (k.clone(), transform_schema(v)))
                    .collect(),
                _ => Map::new(),
            };
            strict.insert("properties".into(), Value::Object(props));
            rest.remove("additionalProperties");
            strict.insert("additionalProperties".into(), Value::Bool(false));
            if let Some(r) = rest.remove("required").filter(|r| !r.is_null()) {
                strict.insert("required".into(), r);
            }
        }
        Some("string") => {
            if let Some(f) = rest.remove("format") {
                if f.as_str()
                    .is_some_and(|f| SUPPORTED_STRING_FORMATS.contains(&f))
                {
                    strict.insert("format".into(), f);
                } else if !f.is_null() && f != Value::String(String::new()) {
                    rest.insert("format".into(), f);
                }
            }
        }
        Some("array") => {
            if let Some(items) = rest.remove("items").filter(|i| !i.is_null()) {
                strict.insert("items".into(), transform_schema(&items));
            }
            if let Some(min) = rest.remove("minItems") {
                if min.as_i64().is_some_and(|m| m == 0 || m == 1) {
                    strict.insert("minItems".into(), min);
                } else if !min.is_null() {
                    rest.insert("minItems".into(), min);
                }
            }
        }
        _ => {}
    }
    if !rest.is_empty() {
        let leftover: Vec<String> = rest
            .iter()
            .map(|(k, v)| format!("{k}: {}", crate::pyrepr::py_str(v)))
            .collect();
        let prefix = match strict.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d}\n\n"),
            None => String::new(),
        };
        strict.insert(
            "description".into(),
            Value::String(format!("{prefix}{{{}}}", leftover.join(", "))),
        );
    }
    Value::Object(strict)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Expected values produced by the anthropic SDK's `transform_schema` for the same input.
    #[test]
    fn follows_the_sdk() {
        let schema = json!({"$defs": {"Author": {"description": "The author of a book.",
                "properties": {"first_name": {"title": "First Name", "type": "string"}},
                "required": ["first_name"], "title": "Author", "type": "object"}},
            "properties": {"author": {"$ref": "#/$defs/Author"},
                "n": {"type": "integer", "minimum": 1, "title": "N"}},
            "required": ["author", "n"], "title": "Book", "type": "object"});
        assert_eq!(
            transform_schema(&schema),
            json!({"$defs": {"Author": {"type": "object", "description": "The author of a book.",
                    "title": "Author", "properties": {"first_name": {"type": "string", "title": "First Name"}},
                    "additionalProperties": false, "required": ["first_name"]}},
                "type": "object", "title": "Book", "properties": {
                    "author": {"$ref": "#/$defs/Author"},
                    "n": {"type": "integer", "title": "N", "description": "{minimum: 1}"}},
                "additionalProperties": false, "required": ["author", "n"]})
        );
    }
}
