//! Call layer: running a tool for one call of the model, inside its `execute_tool {name}` span
//! (the data type [`Tool`] knows nothing of spans or wire formats).

use crate::error::{Error, Result};
use crate::tool::Tool;

impl Tool {
    /// Runs this tool for one call of the model (`execute_tool {name}` span, INTERNAL, with
    /// `gen_ai.tool.*` attributes; arguments and result recorded when content capture is on).
    pub async fn execute(&self, call_id: &str, args: &str) -> Result<crate::Part> {
        use tracing::Instrument;
        let span = crate::genai::span::start_tool(self.schema(), call_id, args);
        let result = async {
            let handler = self.handler().ok_or_else(|| Error::Tool {
                tool: self.schema().name.clone(),
                message: "the tool has no handler".into(),
            })?;
            let parsed = crate::provider::parse_args(&self.schema().name, args).map_err(|e| {
                Error::Tool {
                    tool: self.schema().name.clone(),
                    message: e.to_string(),
                }
            })?;
            handler(parsed).await
        }
        .instrument(span.clone())
        .await;
        crate::genai::span::end_tool(&span, &result);
        result.map(|value| crate::Part::ToolOutput {
            id: call_id.to_string(),
            name: self.schema().name.clone(),
            result: value,
        })
    }
}
