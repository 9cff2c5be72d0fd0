//! What a model call returns.
//!
//! Layer: call (the crate docs list the layers: data, wire, call, observation).

use crate::genai::resume;

pub use crate::answer::ResponseData;
use crate::content::{AssistantMessage, Message, Part};
use crate::error::Result;
use crate::format::FormatMode;
use crate::model::{CallRequest, Model};
use crate::tool::FORMAT_TOOL_NAME;

pub(crate) use crate::answer::Decoded;
pub use crate::answer::{FinishReason, ToolCall, Usage};

/// A completed model call: its data ([`ResponseData`], which it derefs to: content, usage,
/// text, cost, ..) and the model that answered, to execute tools and resume with.
#[derive(Debug, Clone)]
pub struct Response {
    pub(crate) model: Model,
    data: ResponseData,
}

impl std::ops::Deref for Response {
    type Target = ResponseData;

    fn deref(&self) -> &ResponseData {
        &self.data
    }
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
        let data = ResponseData::new(
            model.shared_id(),
            request,
            provider_id,
            messages,
            // Content and the raw assistant message now live in `messages`.
            Decoded {
                content: Vec::new(),
                raw_message: None,
                ..decoded
            },
        );
        Response { model, data }
    }

    /// The data of this response (what it derefs to).
    pub fn data(&self) -> &ResponseData {
        &self.data
    }

    /// Runs every tool call of the answer with the matching tool's handler, in order, and
    /// returns their outputs (ready for [`Response::resume`]).
    ///
    /// As in Python Mirascope 2.8.2 (`Toolkit.execute`), a call the model got wrong is an output
    /// the model can read, not an error: arguments that do not parse or a tool that fails give
    /// the error's text as the result (`ToolExecutionError` on the `execute_tool` span), and a
    /// tool that was not offered gives "Tool 'x' not found in registered tools"
    /// (`ToolNotFoundError`). It fails only for what the model cannot fix: a tool offered with a
    /// schema alone (no handler).
    pub async fn execute_tools(&self) -> Result<Vec<Part>> {
        let mut outputs = Vec::new();
        for call in self.tool_calls() {
            let tool = self
                .request
                .tools
                .iter()
                .find(|t| t.schema().name == call.name);
            outputs.push(match tool {
                Some(tool) => tool.execute(call.id, call.args).await?,
                None => crate::execute::tool_not_found(call.id, call.name, call.args),
            });
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
        let result = crate::genai::in_span::in_span(&span, model.call_request(request)).await;
        match &result {
            Ok(r) => resume::attach_resumed(&span, r),
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
        let result = crate::genai::in_span::in_span(&span, model.stream_request(request)).await;
        match &result {
            Ok(_) => resume::attach_unread_stream(&span, &input),
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
    use crate::answer::pretty;

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
