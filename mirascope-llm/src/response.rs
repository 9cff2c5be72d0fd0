//! What a model call returns.
//!
//! Layer: call (the crate docs list the layers: data, wire, call, observation).

use serde_json::Value;
use tracing::Instrument;

use crate::genai::resume;

use crate::content::{AssistantMessage, Message, Part};
use crate::error::{Error, Result};
use crate::format::FormatMode;
use crate::model::{CallRequest, Model};
use crate::tool::FORMAT_TOOL_NAME;

pub(crate) use crate::answer::Decoded;
pub use crate::answer::{FinishReason, Usage};

/// A completed model call.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) model: Model,
    pub(crate) request: CallRequest,
    pub(crate) provider_id: String,
    pub(crate) messages: Vec<Message>,
    pub(crate) finish_reason: Option<FinishReason>,
    pub(crate) usage: Option<Usage>,
    pub(crate) id: Option<String>,
    pub(crate) response_model: Option<String>,
    pub(crate) raw: Value,
    /// [`Response::cost`], computed once (the span and the metrics both read it).
    cost: std::sync::OnceLock<Option<f64>>,
}

impl Response {
    pub(crate) fn assemble(
        model: Model,
        request: CallRequest,
        provider_id: String,
        decoded: Decoded,
    ) -> Self {
        let content = finalize_content(decoded.content, &request);
        let assistant = Message::Assistant(AssistantMessage {
            content,
            name: None,
            provider_id: Some(provider_id.clone()),
            model_id: Some(model.id().to_string()),
            raw_message: decoded.raw_message,
        });
        let mut messages = request.sent_messages().into_owned();
        messages.push(assistant);
        Response {
            model,
            request,
            provider_id,
            messages,
            finish_reason: decoded.finish_reason,
            usage: decoded.usage,
            id: decoded.id,
            response_model: decoded.response_model,
            raw: decoded.raw,
            cost: std::sync::OnceLock::new(),
        }
    }

    /// The Mirascope model id (`openai/gpt-4o-mini`).
    pub fn model_id(&self) -> &str {
        self.model.id()
    }

    /// The provider id (`openai`, `anthropic`, `google`, ...).
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The provider's response id, when it gave one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The model that answered, as the provider named it (`gpt-4o-mini-2024-07-18`; Google's
    /// `modelVersion`), when the answer names one. Recorded as `gen_ai.response.model`.
    pub fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    /// The provider's raw answer (the response body as JSON).
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The whole conversation: the input messages, then the assistant's answer.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The input messages (everything but the answer).
    pub fn input_messages(&self) -> &[Message] {
        &self.messages[..self.messages.len() - 1]
    }

    /// The answer's parts.
    pub fn content(&self) -> &[Part] {
        self.messages.last().map(Message::parts).unwrap_or(&[])
    }

    /// Why the model stopped (`None`: a normal end, tool-call turns included).
    pub fn finish_reason(&self) -> Option<FinishReason> {
        self.finish_reason
    }

    /// What this call cost in US dollars, from its usage and the price of the model that
    /// answered (see [`crate::cost`]); `None` without usage or without a known price.
    pub fn cost(&self) -> Option<f64> {
        *self.cost.get_or_init(|| self.compute_cost())
    }

    fn compute_cost(&self) -> Option<f64> {
        let usage = self.usage()?;
        let wire_name = self.request_model_name();
        let model = self.response_model().unwrap_or(wire_name);
        crate::cost::price_of(self.model_id(), &self.provider_id, model, usage).or_else(|| {
            (model != wire_name)
                .then(|| {
                    crate::cost::price_of(self.model_id(), &self.provider_id, wire_name, usage)
                })
                .flatten()
        })
    }

    /// The model name as sent (the Mirascope id without its provider prefix and API suffix).
    fn request_model_name(&self) -> &str {
        let id = self.model_id();
        let id = id
            .strip_suffix(":responses")
            .or_else(|| id.strip_suffix(":completions"))
            .unwrap_or(id);
        id.split_once('/').map(|(_, m)| m).unwrap_or(id)
    }

    /// Token usage, when the provider reported it.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The params the call was made with.
    pub fn params(&self) -> &crate::Params {
        &self.request.params
    }

    /// The tools the call offered.
    pub fn tools(&self) -> &[crate::Tool] {
        &self.request.tools
    }

    /// The requested format.
    pub fn format(&self) -> Option<&crate::Format> {
        self.request.format.as_ref()
    }

    /// The text parts joined by `"\n"`.
    pub fn text(&self) -> String {
        self.text_with("\n")
    }

    /// The text parts joined by `sep`.
    pub fn text_with(&self, sep: &str) -> String {
        let texts: Vec<&str> = self.content().iter().filter_map(Part::as_text).collect();
        texts.join(sep)
    }

    /// The tool calls as `(id, name, raw JSON args)`.
    pub fn tool_calls(&self) -> Vec<(&str, &str, &str)> {
        self.content()
            .iter()
            .filter_map(|p| match p {
                Part::ToolCall { id, name, args } => {
                    Some((id.as_str(), name.as_str(), args.as_str()))
                }
                _ => None,
            })
            .collect()
    }

    /// The thoughts.
    pub fn thoughts(&self) -> Vec<&str> {
        self.content()
            .iter()
            .filter_map(|p| match p {
                Part::Thought { thought } => Some(thought.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Human-readable text: parts joined by blank lines, tool calls and thoughts marked.
    pub fn pretty(&self) -> String {
        pretty(self.content())
    }

    /// Parses the structured output (the text of a formatted response) into `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let text = self.text_with("");
        serde_json::from_str(&text).map_err(|e| {
            Error::malformed(
                &self.provider_id,
                format!("output does not parse as the format: {e}"),
                text.as_bytes(),
            )
        })
    }

    /// Runs every tool call of the answer with the matching tool's handler, in order, and
    /// returns their outputs (ready for [`Response::resume`]).
    pub async fn execute_tools(&self) -> Result<Vec<Part>> {
        let mut outputs = Vec::new();
        for (id, name, args) in self.tool_calls() {
            let tool = self
                .request
                .tools
                .iter()
                .find(|t| t.schema().name == name)
                .ok_or_else(|| Error::Tool {
                    tool: name.to_string(),
                    message: "the model called a tool that was not offered".into(),
                })?;
            outputs.push(tool.execute(id, args).await?);
        }
        Ok(outputs)
    }

    /// [`Response::execute_tools`], blocking.
    pub fn execute_tools_blocking(&self) -> Result<Vec<Part>> {
        pollster::block_on(self.execute_tools())
    }

    /// Continues the conversation: the history plus `content` as a new user turn (tool outputs
    /// included), with the same model, params, tools and format.
    ///
    /// Emits a `Response.resume {model_id}` span (INTERNAL) around the new call, as Python
    /// Mirascope does.
    pub async fn resume(&self, content: impl Into<crate::Prompt>) -> Result<Response> {
        let (model, request) = self.resume_request(content.into());
        let span = resume::start("Response", model.id(), &self.provider_id);
        let result = model.call_request(request).instrument(span.clone()).await;
        match &result {
            Ok(r) => resume::attach_response(&span, r),
            Err(e) => resume::record_failure(&span, e),
        }
        result
    }

    /// [`Response::resume`] for programs without an async runtime.
    pub fn resume_blocking(&self, content: impl Into<crate::Prompt>) -> Result<Response> {
        pollster::block_on(self.resume(content))
    }

    /// Continues the conversation as a stream.
    ///
    /// Emits a `StreamResponse.resume {model_id}` span that, as in Python Mirascope, ends when
    /// the stream is returned (before it is read).
    pub async fn resume_stream(
        &self,
        content: impl Into<crate::Prompt>,
    ) -> Result<crate::StreamResponse> {
        let (model, request) = self.resume_request(content.into());
        let span = resume::start("StreamResponse", model.id(), &self.provider_id);
        let input = request.messages.clone();
        let result = model.stream_request(request).instrument(span.clone()).await;
        match &result {
            Ok(_) => resume::attach_unread_stream(&span, &self.provider_id, model.id(), &input),
            Err(e) => resume::record_failure(&span, e),
        }
        result
    }

    pub(crate) fn resume_request(&self, content: crate::Prompt) -> (Model, CallRequest) {
        let mut messages = self.messages.clone();
        for m in content.into_messages() {
            messages.push(m);
        }
        // Python resumes with `response.format`, the *resolved* format: the mode a provider
        // picked becomes the mode asked for (so the resumed span lists a format tool).
        let format = match (&self.request.format, &self.request.resolved_format) {
            (Some(f), Some(r)) => Some(f.clone().mode(r.mode)),
            (f, _) => f.clone(),
        };
        let request = CallRequest {
            messages,
            format,
            ..self.request.clone()
        };
        (self.model.clone(), request)
    }
}

/// Mirascope's `pretty()`: parts joined by `"\n\n"`.
pub(crate) fn pretty(content: &[Part]) -> String {
    let parts: Vec<String> = content
        .iter()
        .filter_map(|p| match p {
            Part::Text { text } => Some(text.clone()),
            Part::ToolCall { name, args, .. } => Some(format!("**ToolCall ({name}):** {args}")),
            Part::Thought { thought } => {
                let indented: Vec<String> = thought.lines().map(|l| format!("  {l}")).collect();
                Some(format!("**Thinking:**\n{}", indented.join("\n")))
            }
            _ => None,
        })
        .collect();
    parts.join("\n\n")
}

/// A call of the format tool in `tool` mode is the structured output: it becomes a text part.
pub(crate) fn finalize_content(content: Vec<Part>, request: &CallRequest) -> Vec<Part> {
    let tool_mode = request
        .resolved_format
        .as_ref()
        .is_some_and(|f| f.mode == FormatMode::Tool);
    if !tool_mode {
        return content;
    }
    content
        .into_iter()
        .map(|p| match p {
            Part::ToolCall { name, args, .. } if name.starts_with(FORMAT_TOOL_NAME) => {
                Part::Text { text: args }
            }
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_marks_tool_calls_and_thoughts() {
        let c = vec![
            Part::Thought {
                thought: "a\nb".into(),
            },
            Part::text("hi"),
            Part::ToolCall {
                id: "1".into(),
                name: "f".into(),
                args: "{}".into(),
            },
        ];
        assert_eq!(
            pretty(&c),
            "**Thinking:**\n  a\n  b\n\nhi\n\n**ToolCall (f):** {}"
        );
    }

    #[test]
    fn usage_total_and_add() {
        let mut u = Usage {
            input_tokens: 3,
            ..Default::default()
        };
        u.add(&Usage {
            output_tokens: 4,
            reasoning_tokens: 1,
            ..Default::default()
        });
        assert_eq!(u.total_tokens(), 7);
        assert_eq!(u.reasoning_tokens, 1);
    }
}
