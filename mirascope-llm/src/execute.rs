//! Call layer: running a tool for one call of the model, inside its `execute_tool {name}` span
//! (the data type [`Tool`] knows nothing of spans or wire formats).

use serde_json::Value;

use crate::error::{Error, Result};
use crate::tool::{Tool, ToolSchema};

impl Tool {
    /// Runs this tool for one call of the model (`execute_tool {name}` span, INTERNAL, with
    /// `gen_ai.tool.*` attributes; arguments and result recorded when content capture is on).
    ///
    /// As Python Mirascope's `Tool.execute` (2.8.2, `llm/tools/tools.py`): arguments that do not
    /// parse, and a tool that fails, give a tool output whose result is the error's text, so that
    /// the model can correct itself; the span is marked failed with `error.type`
    /// `ToolExecutionError`. Only a tool with no handler (a schema alone) is an `Err`: no answer
    /// of the model's can fix that.
    pub async fn execute(&self, call_id: &str, args: &str) -> Result<crate::Part> {
        use tracing::Instrument;
        let name = &self.schema().name;
        let handler = self.handler().ok_or_else(|| Error::Tool {
            tool: name.clone(),
            message: "the tool has no handler".into(),
        })?;
        let span = crate::genai::span::start_tool(self.schema(), call_id, args);
        let result = async {
            let parsed = crate::provider::parse_args(name, args).map_err(|e| Error::Tool {
                tool: name.clone(),
                message: e.to_string(),
            })?;
            handler(parsed).await
        }
        .instrument(span.clone())
        .await;
        crate::genai::span::end_tool(&span, &result);
        Ok(crate::Part::ToolOutput {
            id: call_id.to_string(),
            name: name.clone(),
            result: result.unwrap_or_else(|e| Value::String(tool_error_text(&e))),
        })
    }
}

/// What the model reads of a tool's error: the error's own message (Python's `str(e)`), without
/// the `tool 'name':` prefix our `Display` adds.
pub(crate) fn tool_error_text(e: &Error) -> String {
    match e {
        Error::Tool { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The output for a call of a tool that was not offered (Python's `Toolkit.execute`: a
/// `ToolNotFoundError` as the result), with its `execute_tool` span marked failed.
pub(crate) fn tool_not_found(call_id: &str, name: &str, args: &str) -> crate::Part {
    let schema = ToolSchema::unknown(name);
    let span = crate::genai::span::start_tool(&schema, call_id, args);
    let error = Error::ToolNotFound {
        tool: name.to_string(),
    };
    let text = error.to_string();
    crate::genai::span::end_tool(&span, &Err(error));
    crate::Part::ToolOutput {
        id: call_id.to_string(),
        name: name.to_string(),
        result: Value::String(text),
    }
}
