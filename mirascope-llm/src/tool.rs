//! Tools the model may call, defined at runtime from a name, a description and a JSON schema.
//!
//! Layer: data (the crate docs list the layers: data, wire, call, observation).

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The name of the synthetic tool that carries structured output in `tool` format mode.
pub const FORMAT_TOOL_NAME: &str = "__mirascope_formatted_output_tool__";

/// The arguments schema of a tool, in Mirascope's normalized form: `properties`, `required`,
/// `additionalProperties` (always false) and `$defs`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ToolParameters {
    /// JSON schema of each argument, in declaration order.
    pub properties: Map<String, Value>,
    /// The required arguments.
    pub required: Vec<String>,
    /// Shared definitions referenced by `$ref`.
    #[serde(rename = "$defs", skip_serializing_if = "Option::is_none")]
    pub defs: Option<Map<String, Value>>,
}

impl ToolParameters {
    /// Reads an object JSON schema (`{"type":"object","properties":{..},"required":[..]}`).
    /// Top-level `type`, `title`, `description` and `additionalProperties` are normalized away.
    pub fn from_json_schema(schema: &Value) -> Result<Self> {
        let bad =
            |why: &str| Error::InvalidRequest(format!("tool parameters schema {why}: {schema}"));
        let obj = schema
            .as_object()
            .ok_or_else(|| bad("must be a JSON object"))?;
        if let Some(t) = obj.get("type") {
            if t != "object" {
                return Err(bad("must have \"type\": \"object\""));
            }
        }
        let properties = match obj.get("properties") {
            None => Map::new(),
            Some(Value::Object(p)) => p.clone(),
            Some(_) => return Err(bad("has non-object \"properties\"")),
        };
        let required = match obj.get("required") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("has a non-string in \"required\""))
                })
                .collect::<Result<_>>()?,
            Some(_) => return Err(bad("has non-array \"required\"")),
        };
        let defs = match obj.get("$defs") {
            None | Some(Value::Null) => None,
            Some(Value::Object(d)) => Some(d.clone()),
            Some(_) => return Err(bad("has non-object \"$defs\"")),
        };
        Ok(ToolParameters {
            properties,
            required,
            defs,
        })
    }

    /// The schema as providers receive it: `$defs` only when present, then `"type": "object"`.
    pub fn to_wire_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("properties".into(), Value::Object(self.properties.clone()));
        m.insert(
            "required".into(),
            self.required.iter().cloned().map(Value::String).collect(),
        );
        m.insert("additionalProperties".into(), Value::Bool(false));
        if let Some(defs) = &self.defs {
            m.insert("$defs".into(), Value::Object(defs.clone()));
        }
        m.insert("type".into(), Value::String("object".into()));
        Value::Object(m)
    }
}

/// A tool's definition.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolSchema {
    /// The name the model calls it by.
    pub name: String,
    /// What it does (the model reads this).
    pub description: String,
    /// Its arguments.
    pub parameters: ToolParameters,
    /// Strict schema adherence; `None` lets the provider choose (OpenAI Responses then sends
    /// `strict: true`).
    pub strict: Option<bool>,
}

impl ToolSchema {
    /// The schema of a tool known only by the name a model called it by (for the span of a call
    /// of a tool that was not offered).
    pub(crate) fn unknown(name: &str) -> Self {
        ToolSchema {
            name: name.to_string(),
            description: String::new(),
            parameters: ToolParameters::default(),
            strict: None,
        }
    }
}

/// Runs a tool: takes the parsed arguments, returns the JSON result.
pub type ToolHandler =
    Arc<dyn Fn(Value) -> futures_util::future::BoxFuture<'static, Result<Value>> + Send + Sync>;

/// A tool: its schema, and optionally the code that runs it (see [`crate::Response::execute_tools`]).
#[derive(Clone)]
pub struct Tool {
    schema: ToolSchema,
    handler: Option<ToolHandler>,
    provider: Option<ProviderTool>,
}

/// A tool the provider runs on its own side: the model uses it during the call and no code of
/// yours runs (Mirascope's `ProviderTool`). Each provider sends it in its own shape, or refuses
/// it with `Error::FeatureNotSupported` where it has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProviderTool {
    /// Web search (Mirascope's `WebSearchTool`): Anthropic (`web_search_20250305`), Google
    /// (`googleSearch`) and the OpenAI Responses API (`web_search`); Chat Completions has none.
    WebSearch,
}

impl ProviderTool {
    /// The tool's name (`web_search`).
    pub fn name(self) -> &'static str {
        match self {
            ProviderTool::WebSearch => "web_search",
        }
    }
}

/// Mirascope's `WebSearchTool`, as a tool list entry: `tools = [llm::WebSearchTool]` in
/// `#[llm::call]`, or [`Tool::web_search`].
pub struct WebSearchTool;

// Not offered as the fix when something else is not a tool.
#[diagnostic::do_not_recommend]
impl ToolFn for WebSearchTool {
    fn tool() -> Tool {
        Tool::web_search()
    }
}

impl std::fmt::Debug for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tool")
            .field("schema", &self.schema)
            .field("executable", &self.handler.is_some())
            .field("provider", &self.provider)
            .finish()
    }
}

impl PartialEq for Tool {
    fn eq(&self, other: &Self) -> bool {
        self.schema == other.schema && self.provider == other.provider
    }
}

/// A function marked `#[llm::tool]`, named as a type: the attribute puts a marker type beside the
/// function, under the same name in the type namespace (functions live in the value namespace),
/// and implements this trait for it. `tools = [get_weather]` of `#[llm::call]` resolves through
/// it, and so does [`Tool::of`]; naming anything else is an error at the name.
///
/// ```
/// use mirascope_llm as llm;
///
/// /// Get the current weather for a location.
/// #[llm::tool]
/// fn get_weather(location: String) -> String {
///     format!("Weather in {location}: sunny")
/// }
///
/// let tool = llm::Tool::of::<get_weather>();
/// assert_eq!(tool.schema().name, "get_weather");
/// assert_eq!(get_weather("Paris".into()), "Weather in Paris: sunny");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an `#[llm::tool]` function",
    label = "not an `#[llm::tool]` function",
    note = "`tools = [..]` lists functions marked with `#[llm::tool]`"
)]
pub trait ToolFn {
    /// The tool: name, description, argument schema and handler.
    fn tool() -> Tool;
}

impl Tool {
    /// The tool of a function marked `#[llm::tool]` (see [`ToolFn`]).
    pub fn of<T: ToolFn>() -> Tool {
        T::tool()
    }

    /// A tool from a name, a description and the JSON schema of its arguments.
    ///
    /// ```
    /// use mirascope_llm::Tool;
    /// let t = Tool::new("get_weather", "Get the weather.", &serde_json::json!({
    ///     "type": "object",
    ///     "properties": {"location": {"type": "string"}},
    ///     "required": ["location"]
    /// })).unwrap();
    /// assert_eq!(t.schema().name, "get_weather");
    /// ```
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: &Value,
    ) -> Result<Self> {
        let name = name.into();
        if name.is_empty() {
            return Err(Error::InvalidRequest("tool name must not be empty".into()));
        }
        Ok(Tool {
            schema: ToolSchema {
                name,
                description: description.into(),
                parameters: ToolParameters::from_json_schema(parameters)?,
                strict: None,
            },
            handler: None,
            provider: None,
        })
    }

    /// A tool from a ready schema.
    pub fn from_schema(schema: ToolSchema) -> Self {
        Tool {
            schema,
            handler: None,
            provider: None,
        }
    }

    /// Web search, run by the provider ([`ProviderTool::WebSearch`], Mirascope's
    /// `WebSearchTool`).
    ///
    /// ```
    /// use mirascope_llm as llm;
    /// let search = llm::Tool::web_search();
    /// assert_eq!(search.provider_tool(), Some(llm::ProviderTool::WebSearch));
    /// assert_eq!(search.schema().name, "web_search");
    /// ```
    pub fn web_search() -> Self {
        Tool {
            schema: ToolSchema::unknown(ProviderTool::WebSearch.name()),
            handler: None,
            provider: Some(ProviderTool::WebSearch),
        }
    }

    /// The provider tool this is, if it is one (then it has no handler and no argument schema).
    pub fn provider_tool(&self) -> Option<ProviderTool> {
        self.provider
    }

    /// Sets the `strict` flag.
    pub fn strict(mut self, strict: bool) -> Self {
        self.schema.strict = Some(strict);
        self
    }

    /// Attaches the code that runs this tool.
    pub fn with_handler<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value>> + Send + 'static,
    {
        self.handler = Some(Arc::new(move |args| Box::pin(f(args))));
        self
    }

    /// The definition.
    pub fn schema(&self) -> &ToolSchema {
        &self.schema
    }

    /// The handler, if any.
    pub fn handler(&self) -> Option<&ToolHandler> {
        self.handler.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalizes_to_mirascope_and_wire_forms() {
        let p = ToolParameters::from_json_schema(&json!({
            "properties": {"location": {"title": "Location", "type": "string"}},
            "required": ["location"], "additionalProperties": false, "type": "object"
        }))
        .unwrap();
        assert_eq!(
            p.to_mirascope_json().to_string(),
            r#"{"properties":{"location":{"title":"Location","type":"string"}},"required":["location"],"additionalProperties":false,"$defs":null}"#
        );
        assert_eq!(
            p.to_wire_json().to_string(),
            r#"{"properties":{"location":{"title":"Location","type":"string"}},"required":["location"],"additionalProperties":false,"type":"object"}"#
        );
    }

    #[test]
    fn rejects_non_object_schemas() {
        assert!(ToolParameters::from_json_schema(&json!({"type": "string"})).is_err());
        assert!(ToolParameters::from_json_schema(&json!([1])).is_err());
        assert!(ToolParameters::from_json_schema(&json!({"required": [1]})).is_err());
        assert!(Tool::new("", "d", &json!({})).is_err());
    }
}
