//! JSON Schema in Google's dialect, as the google-genai SDK (1.75) puts it on the wire.
//!
//! Python Mirascope hands JSON schemas to the SDK, which validates them into its `types.Schema`
//! model and serializes that model: field names in snake case (`any_of`, `max_items`,
//! `property_ordering`), `type` as the upper-case `Type` enum (`STRING`, `OBJECT`), `null`s
//! dropped, keys the model does not know dropped. Response schemas additionally go through
//! `_transformers.process_schema` (inlined `$defs`, `nullable` for `null` variants,
//! `property_ordering`); tool parameters go through Mirascope's `_filter_schema` and
//! `_resolve_refs` (google/_utils/encode.py) instead.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::{Map, Value};

/// The fields of google-genai's `types.Schema`, in its declaration order (which `model_dump`
/// follows): (JSON alias, field name).
pub(crate) const SCHEMA_FIELDS: &[(&str, &str)] = &[
    ("additionalProperties", "additional_properties"),
    ("defs", "defs"),
    ("ref", "ref"),
    ("anyOf", "any_of"),
    ("default", "default"),
    ("description", "description"),
    ("enum", "enum"),
    ("example", "example"),
    ("format", "format"),
    ("items", "items"),
    ("maxItems", "max_items"),
    ("maxLength", "max_length"),
    ("maxProperties", "max_properties"),
    ("maximum", "maximum"),
    ("minItems", "min_items"),
    ("minLength", "min_length"),
    ("minProperties", "min_properties"),
    ("minimum", "minimum"),
    ("nullable", "nullable"),
    ("pattern", "pattern"),
    ("properties", "properties"),
    ("propertyOrdering", "property_ordering"),
    ("required", "required"),
    ("title", "title"),
    ("type", "type"),
];

/// The `types.Schema` field a JSON key populates (by alias or by name), if any.
fn schema_field(key: &str) -> Option<&'static str> {
    SCHEMA_FIELDS
        .iter()
        .find(|(alias, name)| *alias == key || *name == key)
        .map(|(_, name)| *name)
}

/// A schema node as the SDK serializes its `types.Schema`: known fields only, snake-case names,
/// upper-case types, no nulls; sub-schemas likewise. `minimum`/`maximum` are floats there.
pub(crate) fn sdk_schema(schema: &Value) -> Value {
    let Value::Object(obj) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in obj {
        let Some(field) = schema_field(key) else {
            continue;
        };
        if value.is_null() {
            continue;
        }
        let value = match field {
            "type" => match value.as_str() {
                Some(t) => Value::String(t.to_ascii_uppercase()),
                None => continue,
            },
            "properties" | "defs" => match value {
                Value::Object(m) => {
                    Value::Object(m.iter().map(|(k, v)| (k.clone(), sdk_schema(v))).collect())
                }
                _ => continue,
            },
            "items" => sdk_schema(value),
            "additional_properties" if value.is_object() => sdk_schema(value),
            "any_of" => match value {
                Value::Array(items) => Value::Array(items.iter().map(sdk_schema).collect()),
                _ => continue,
            },
            "minimum" | "maximum" => match value.as_f64() {
                Some(f) => serde_json::json!(f),
                None => continue,
            },
            _ => value.clone(),
        };
        out.insert(field.to_string(), value);
    }
    Value::Object(out)
}

/// Mirascope's `_filter_schema` (google/_utils/encode.py): keeps only the keys `types.Schema`
/// accepts, recursing into `properties`, `defs`, `items`, `additionalProperties` and `anyOf`.
/// [`sdk_schema`] applies the same filter, so this is the tool-parameter path in one step.
pub(crate) fn tool_parameters(properties: &Map<String, Value>, required: &[String]) -> Value {
    let props: Map<String, Value> = properties
        .iter()
        .map(|(k, v)| (k.clone(), sdk_schema(v)))
        .collect();
    serde_json::json!({"type": "OBJECT", "properties": props, "required": required})
}

/// google-genai's `t_schema` for a response schema given as a dict: `process_schema`, then the
/// `types.Schema` serialization.
pub(crate) fn response_schema(schema: &Value) -> Value {
    let mut schema = schema.clone();
    if let Value::Object(obj) = &mut schema {
        let raw_defs = match obj.remove("$defs") {
            Some(Value::Object(d)) => d,
            _ => Map::new(),
        };
        // The defs are processed first, each against the others (`process_schema` with
        // `defs=None` at the root).
        let mut defs = Map::new();
        for (name, def) in &raw_defs {
            let mut def = def.clone();
            if let Value::Object(d) = &mut def {
                process_schema(d, &raw_defs, &mut vec![name.clone()]);
            }
            defs.insert(name.clone(), def);
        }
        process_schema(obj, &defs, &mut Vec::new());
    }
    sdk_schema(&schema)
}

/// The `$defs` name a `$ref` points to (`ref.split('defs/')[-1]`).
fn ref_name(reference: &str) -> &str {
    reference.rsplit("defs/").next().unwrap_or(reference)
}

/// google-genai's `handle_null_fields`: a `null` type becomes `nullable`; a `null` variant of an
/// `anyOf` is removed and marks the schema `nullable`, and a single remaining variant is merged in.
fn handle_null_fields(schema: &mut Map<String, Value>) {
    if schema.get("type").and_then(Value::as_str) == Some("null") {
        schema.insert("nullable".into(), Value::Bool(true));
        schema.remove("type");
        return;
    }
    let Some(Value::Array(variants)) = schema.get_mut("anyOf") else {
        return;
    };
    let null = serde_json::json!({"type": "null"});
    if !variants
        .iter()
        .any(|v| v.get("type") == Some(&Value::from("null")))
    {
        return;
    }
    variants.retain(|v| *v != null);
    let single = (variants.len() == 1).then(|| variants[0].clone());
    schema.insert("nullable".into(), Value::Bool(true));
    if let Some(Value::Object(only)) = single {
        schema.remove("anyOf");
        for (k, v) in only {
            schema.insert(k, v);
        }
    }
}

/// google-genai's `process_schema` (`_transformers.py`), in place. `expanding` holds the `$defs`
/// being inlined on this path: a recursive reference becomes `{}`, as the SDK's
/// `visited_dicts_path` makes it.
fn process_schema(
    schema: &mut Map<String, Value>,
    defs: &Map<String, Value>,
    expanding: &mut Vec<String>,
) {
    if schema.get("title").and_then(Value::as_str) == Some("PlaceholderLiteralEnum") {
        schema.remove("title");
    }
    for (from, to) in [
        ("additional_properties", "additionalProperties"),
        ("any_of", "anyOf"),
        ("prefix_items", "prefixItems"),
        ("property_ordering", "propertyOrdering"),
    ] {
        if let Some(v) = schema.remove(from) {
            if !v.is_null() {
                schema.insert(to.into(), v);
            }
        }
    }
    handle_null_fields(schema);
    if let Some(Value::String(reference)) = schema.remove("$ref") {
        if let Some(Value::Object(def)) = defs.get(ref_name(&reference)) {
            for (k, v) in def {
                schema.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(Value::Array(variants)) = schema.get_mut("anyOf") {
        for v in variants.iter_mut() {
            *v = recurse(v, defs, expanding);
        }
        return;
    }
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase);
    if let Some(c) = schema.get("const").cloned() {
        if ty.as_deref() == Some("STRING") {
            schema.insert("enum".into(), Value::Array(vec![c]));
            schema.remove("const");
        }
    }
    match ty.as_deref() {
        Some("OBJECT") => {
            if let Some(Value::Object(props)) = schema.get_mut("properties") {
                for v in props.values_mut() {
                    *v = recurse(v, defs, expanding);
                }
                let keys: Vec<Value> = props.keys().cloned().map(Value::String).collect();
                if keys.len() > 1 && !schema.contains_key("propertyOrdering") {
                    schema.insert("property_ordering".into(), Value::Array(keys));
                }
            }
            if let Some(additional) = schema.get_mut("additionalProperties") {
                if additional.is_object() {
                    *additional = recurse(additional, defs, expanding);
                }
            }
        }
        Some("ARRAY") => {
            if let Some(items) = schema.get_mut("items") {
                *items = recurse(items, defs, expanding);
            }
            if let Some(Value::Array(prefixes)) = schema.get_mut("prefixItems") {
                for p in prefixes.iter_mut() {
                    *p = recurse(p, defs, expanding);
                }
            }
        }
        _ => {}
    }
}

/// `_recurse` inside `process_schema`: resolves a `$ref`, then processes the sub-schema.
fn recurse(sub: &Value, defs: &Map<String, Value>, expanding: &mut Vec<String>) -> Value {
    let (mut node, name) = match sub.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = ref_name(reference).to_string();
            if expanding.contains(&name) {
                return Value::Object(Map::new());
            }
            (
                defs.get(&name)
                    .cloned()
                    .unwrap_or(Value::Object(Map::new())),
                Some(name),
            )
        }
        None => (sub.clone(), None),
    };
    if let Some(n) = &name {
        expanding.push(n.clone());
    }
    if let Value::Object(obj) = &mut node {
        process_schema(obj, defs, expanding);
    }
    if name.is_some() {
        expanding.pop();
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The expected values are what google-genai 1.75 serializes for the same inputs
    /// (`models._GenerateContentParameters_to_mldev`, checked with the SDK).
    #[test]
    fn response_schema_matches_the_sdk() {
        let schema = json!({"type": "object", "properties": {
            "x": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null},
            "y": {"type": "string"}}});
        assert_eq!(
            response_schema(&schema),
            json!({"properties": {"x": {"nullable": true, "type": "INTEGER"}, "y": {"type": "STRING"}},
                   "property_ordering": ["x", "y"], "type": "OBJECT"})
        );
    }

    #[test]
    fn defs_are_inlined_and_recursion_stops() {
        let schema = json!({"$defs": {"Node": {"type": "object", "properties": {
                "next": {"$ref": "#/$defs/Node"}, "v": {"type": "integer", "maxItems": 2}}}},
            "type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}}});
        let out = response_schema(&schema);
        assert_eq!(out["properties"]["root"]["type"], "OBJECT");
        assert_eq!(out["properties"]["root"]["properties"]["next"], json!({}));
        assert_eq!(out["properties"]["root"]["properties"]["v"]["max_items"], 2);
    }

    #[test]
    fn tool_parameters_keep_any_of_in_snake_case() {
        let props = json!({"a": {"anyOf": [{"type": "integer"}, {"type": "string"}], "title": "A", "maxItems": 2, "unknown": 1}});
        let out = tool_parameters(props.as_object().unwrap(), &["a".to_string()]);
        assert_eq!(
            out,
            json!({"type": "OBJECT", "required": ["a"], "properties": {"a": {
                "any_of": [{"type": "INTEGER"}, {"type": "STRING"}], "max_items": 2, "title": "A"}}})
        );
    }
}
