//! Structured output: a response format given as a JSON schema, and how each mode asks for it.
//!
//! Layer: data (the crate docs list the layers: data, wire, call, observation).

use serde_json::{Map, Value};

use crate::content::{Message, SystemMessage, Text};
use crate::tool::{ToolParameters, ToolSchema, FORMAT_TOOL_NAME};

/// How structured output is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatMode {
    /// The provider's strict structured outputs (JSON schema enforced).
    Strict,
    /// A forced call of a synthetic tool whose arguments are the output.
    Tool,
    /// JSON mode, with the schema in the system instructions.
    Json,
}

impl FormatMode {
    /// `"strict"`, `"tool"` or `"json"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FormatMode::Strict => "strict",
            FormatMode::Tool => "tool",
            FormatMode::Json => "json",
        }
    }
}

/// What the formatting instructions appended to the system message are.
#[derive(Debug, Clone, PartialEq)]
enum Instructions {
    /// Mirascope's default for the mode.
    Default,
    /// The user's own (or none at all).
    Custom(Option<String>),
}

/// A response format: a named JSON schema and, optionally, the mode to use.
///
/// ```
/// use mirascope_llm::{Format, FormatMode};
/// let f = Format::new("Person", serde_json::json!({
///     "type": "object",
///     "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
///     "required": ["name", "age"]
/// })).mode(FormatMode::Tool);
/// assert_eq!(f.name(), "Person");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    name: String,
    description: Option<String>,
    mode: Option<FormatMode>,
    schema: Value,
    instructions: Instructions,
}

/// A format with its mode decided for one provider.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ResolvedFormat {
    pub name: String,
    pub description: Option<String>,
    pub mode: FormatMode,
    pub schema: Value,
    pub instructions: Option<String>,
}

impl Format {
    /// A format named `name` (the output type's name) with the given JSON schema.
    pub fn new(name: impl Into<String>, schema: Value) -> Self {
        Format {
            name: name.into(),
            description: None,
            mode: None,
            schema,
            instructions: Instructions::Default,
        }
    }

    /// The output type's description (its doc comment).
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Forces a mode (otherwise each provider picks its default: strict where the model supports
    /// JSON schemas (OpenAI, Google, and Anthropic models with strict structured outputs, which
    /// then go to the beta API), tool otherwise).
    pub fn mode(mut self, mode: FormatMode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Replaces the formatting instructions added to the system message (`None`: add nothing).
    pub fn instructions(mut self, instructions: Option<String>) -> Self {
        self.instructions = Instructions::Custom(instructions);
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The JSON schema.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The mode asked for, if any.
    pub fn requested_mode(&self) -> Option<FormatMode> {
        self.mode
    }

    pub(crate) fn resolve(&self, default_mode: FormatMode) -> ResolvedFormat {
        let mode = self.mode.unwrap_or(default_mode);
        let instructions = match &self.instructions {
            Instructions::Custom(i) => i.clone(),
            Instructions::Default => default_instructions(&self.schema, mode),
        };
        ResolvedFormat {
            name: self.name.clone(),
            description: self.description.clone(),
            mode,
            schema: self.schema.clone(),
            instructions,
        }
    }
}

fn default_instructions(schema: &Value, mode: FormatMode) -> Option<String> {
    match mode {
        FormatMode::Strict => None,
        FormatMode::Tool => Some(format!(
            "Always respond to the user's query using the {FORMAT_TOOL_NAME} tool for structured output."
        )),
        FormatMode::Json => Some(format!(
            "Respond only with valid JSON that matches this exact schema:\n{}",
            crate::pyrepr::py_json_dumps_indented(schema)
        )),
    }
}

impl ResolvedFormat {
    /// The synthetic tool of `tool` mode.
    pub(crate) fn tool_schema(&self) -> ToolSchema {
        let properties = self
            .schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let required = properties.keys().cloned().collect();
        let defs = self.schema.get("$defs").and_then(Value::as_object).cloned();
        let mut description = format!(
            "Use this tool to extract data in {} format for a final response.",
            self.name
        );
        if let Some(d) = self.description.as_deref().filter(|d| !d.is_empty()) {
            description.push('\n');
            description.push_str(d);
        }
        ToolSchema {
            name: FORMAT_TOOL_NAME.to_string(),
            description,
            parameters: ToolParameters {
                properties,
                required,
                defs,
            },
            // `Format.create_tool_schema` leaves `strict` unset: each provider's default applies
            // (OpenAI: strict; the Anthropic beta API: strict where the model supports it).
            strict: None,
        }
    }

    /// The messages with the formatting instructions added to the first system message (or a
    /// new one), unless it already ends with them.
    pub(crate) fn apply_instructions(&self, messages: &[Message]) -> Vec<Message> {
        let Some(instructions) = &self.instructions else {
            return messages.to_vec();
        };
        match messages.first() {
            Some(Message::System(sys)) => {
                if sys.content.text.ends_with(instructions.as_str()) {
                    return messages.to_vec();
                }
                let mut out = messages.to_vec();
                out[0] = Message::System(SystemMessage {
                    content: Text {
                        text: format!("{}\n{}", sys.content.text, instructions),
                    },
                });
                out
            }
            _ => {
                let mut out = Vec::with_capacity(messages.len() + 1);
                out.push(Message::system(instructions.clone()));
                out.extend_from_slice(messages);
                out
            }
        }
    }
}

/// Recursively adds `"additionalProperties": false` to every object schema that lacks it
/// (required by strict modes).
pub(crate) fn ensure_additional_properties_false(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            if obj.get("type").and_then(Value::as_str) == Some("object")
                && !obj.contains_key("additionalProperties")
            {
                obj.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in obj.values_mut() {
                ensure_additional_properties_false(v);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(ensure_additional_properties_false),
        _ => {}
    }
}

/// Recursively makes every property of every object schema required (OpenAI strict mode).
///
/// Follows `ensure_all_properties_required` (providers/base/_utils.py): only objects whose
/// `type` is `"object"` are touched.
pub(crate) fn ensure_all_properties_required(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            let is_object = obj.get("type").and_then(Value::as_str) == Some("object");
            if let (true, Some(Value::Object(props))) = (is_object, obj.get("properties")) {
                let all: Vec<Value> = props.keys().cloned().map(Value::String).collect();
                obj.insert("required".into(), Value::Array(all));
            }
            for v in obj.values_mut() {
                ensure_all_properties_required(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(ensure_all_properties_required),
        _ => {}
    }
}

/// Replaces `{"$ref": "#/$defs/X"}` with the definition (for APIs without `$ref` support).
///
/// A definition that refers to itself (a tree: `Node { children: Vec<Node> }`) cannot be
/// inlined: `Err` names it. Mirascope's `_resolve_refs` (google/_utils/encode.py) recurses until
/// Python's `RecursionError`; here the recursion is bounded, so no schema can overflow the stack.
pub(crate) fn resolve_refs(
    value: &Value,
    defs: &Map<String, Value>,
) -> std::result::Result<Value, String> {
    fn walk<'a>(
        value: &'a Value,
        defs: &'a Map<String, Value>,
        expanding: &mut Vec<&'a str>,
    ) -> std::result::Result<Value, String> {
        match value {
            Value::Object(obj) => {
                if let Some((name, def)) = obj
                    .get("$ref")
                    .and_then(Value::as_str)
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .and_then(|name| defs.get_key_value(name))
                {
                    if expanding.contains(&name.as_str()) || expanding.len() >= MAX_REF_DEPTH {
                        return Err(format!(
                            "the schema definition `{name}` refers to itself, which cannot be inlined"
                        ));
                    }
                    expanding.push(name);
                    let resolved = walk(def, defs, expanding);
                    expanding.pop();
                    return resolved;
                }
                obj.iter()
                    .map(|(k, v)| Ok((k.clone(), walk(v, defs, expanding)?)))
                    .collect::<std::result::Result<Map<_, _>, String>>()
                    .map(Value::Object)
            }
            Value::Array(items) => items
                .iter()
                .map(|v| walk(v, defs, expanding))
                .collect::<std::result::Result<Vec<_>, String>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }
    walk(value, defs, &mut Vec::new())
}

/// How many definitions deep `resolve_refs` inlines (a chain of distinct definitions that long
/// is not a real schema).
const MAX_REF_DEPTH: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_mode_instructions_are_appended_once() {
        let f = Format::new("Book", json!({"properties": {}})).resolve(FormatMode::Tool);
        let msgs = vec![Message::user("hi")];
        let out = f.apply_instructions(&msgs);
        assert_eq!(out.len(), 2);
        let again = f.apply_instructions(&out);
        assert_eq!(again, out);
        let with_sys = f.apply_instructions(&[Message::system("Be nice."), Message::user("hi")]);
        match &with_sys[0] {
            Message::System(s) => assert!(s.content.text.starts_with("Be nice.\nAlways respond")),
            _ => panic!("system first"),
        }
    }

    #[test]
    fn strict_has_no_instructions() {
        let f = Format::new("X", json!({})).resolve(FormatMode::Strict);
        assert_eq!(f.instructions, None);
    }

    #[test]
    fn schema_helpers() {
        let mut s = json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}}});
        ensure_additional_properties_false(&mut s);
        ensure_all_properties_required(&mut s);
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["a"]["additionalProperties"], json!(false));
        assert_eq!(s["required"], json!(["a"]));
        assert_eq!(s["properties"]["a"]["required"], json!(["b"]));
        let defs = json!({"A": {"type": "string"}});
        let r = resolve_refs(
            &json!({"x": {"$ref": "#/$defs/A"}}),
            defs.as_object().unwrap(),
        );
        assert_eq!(r, Ok(json!({"x": {"type": "string"}})));
        // A recursive definition is an error, not a stack overflow.
        let defs = json!({"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}});
        let r = resolve_refs(
            &json!({"root": {"$ref": "#/$defs/Node"}}),
            defs.as_object().unwrap(),
        );
        assert!(r.unwrap_err().contains("`Node` refers to itself"));
    }
}
