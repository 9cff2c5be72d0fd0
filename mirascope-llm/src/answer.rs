//! Layer: data. What a provider answered, in provider-independent form: why the model stopped
//! ([`FinishReason`]), token counts ([`Usage`]), the pieces of a streamed answer
//! ([`StreamChunk`]), one decoded answer before it becomes a `Response`, and the whole answer as
//! data ([`ResponseData`], what a `Response` derefs to). The wire formats produce these, the call
//! layer assembles them and the observation layer describes them, so they live below all three.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::content::{Message, Part};
use crate::error::{Error, Result};
use crate::request::CallRequest;

/// Why a model stopped, when it was not a normal end (a normal end is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FinishReason {
    /// The output hit the token limit.
    MaxTokens,
    /// The provider refused or filtered the output.
    Refusal,
    /// The input did not fit the model's context window.
    ContextLengthExceeded,
}

impl FinishReason {
    /// Mirascope's name: `max_tokens`, `refusal`, `context_length_exceeded`.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::MaxTokens => "max_tokens",
            FinishReason::Refusal => "refusal",
            FinishReason::ContextLengthExceeded => "context_length_exceeded",
        }
    }
}

/// Token usage, normalized across providers.
///
/// `input_tokens` includes cached input (Anthropic's cache reads and writes are added in);
/// `output_tokens` includes reasoning (Google's thoughts are added in).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// All input tokens.
    pub input_tokens: u64,
    /// All output tokens.
    pub output_tokens: u64,
    /// Input tokens read from the provider's prompt cache.
    pub cache_read_tokens: u64,
    /// Input tokens written to the provider's prompt cache.
    pub cache_write_tokens: u64,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: u64,
}

impl Usage {
    /// The largest count a `Usage` holds: `i64::MAX`, the largest integer an OpenTelemetry
    /// attribute holds. Decoders reject a provider's count above it; sums stop at it.
    pub const MAX_TOKENS: u64 = i64::MAX as u64;

    /// `input_tokens + output_tokens`.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.output_tokens)
            .min(Self::MAX_TOKENS)
    }

    /// Adds a delta (streams report usage in pieces).
    pub fn add(&mut self, d: &Usage) {
        // Counts come from remote servers: a sum of many never wraps or panics, and stays
        // recordable as an OpenTelemetry integer.
        let sum = |a: u64, b: u64| a.saturating_add(b).min(Self::MAX_TOKENS);
        self.input_tokens = sum(self.input_tokens, d.input_tokens);
        self.output_tokens = sum(self.output_tokens, d.output_tokens);
        self.cache_read_tokens = sum(self.cache_read_tokens, d.cache_read_tokens);
        self.cache_write_tokens = sum(self.cache_write_tokens, d.cache_write_tokens);
        self.reasoning_tokens = sum(self.reasoning_tokens, d.reasoning_tokens);
    }
}

/// The provider-independent result of decoding one answer, before it becomes a [`Response`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Decoded {
    pub content: Vec<Part>,
    pub finish_reason: Option<FinishReason>,
    pub usage: Option<Usage>,
    pub id: Option<String>,
    /// The model that answered, as the provider named it.
    pub response_model: Option<String>,
    /// The provider's encoding of the assistant turn, to re-send when resuming.
    pub raw_message: Option<Value>,
    /// The whole raw answer (the response body; for streams the final response object if any).
    pub raw: Value,
}

/// One piece of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamChunk {
    /// A text part begins.
    TextStart,
    /// More text.
    TextDelta(String),
    /// The text part ends.
    TextEnd,
    /// A thought begins.
    ThoughtStart,
    /// More of the thought.
    ThoughtDelta(String),
    /// The thought ends.
    ThoughtEnd,
    /// A tool call begins.
    ToolCallStart {
        /// The call id.
        id: String,
        /// The tool name.
        name: String,
    },
    /// More of a tool call's JSON arguments.
    ToolCallDelta {
        /// The call id.
        id: String,
        /// The next piece of the arguments.
        delta: String,
    },
    /// The tool call ends.
    ToolCallEnd {
        /// The call id.
        id: String,
    },
    /// Why the model stopped (only sent for non-normal ends).
    FinishReason(FinishReason),
    /// Token usage to add to the total.
    UsageDelta(Usage),
}

/// A completed model call as data: the conversation with the answer, usage, finish reason, ids,
/// the raw body and the request it answered. [`Response`](crate::Response) derefs to it; the
/// observation layer describes calls from it alone.
#[derive(Debug, Clone)]
pub struct ResponseData {
    pub(crate) model_id: Arc<str>,
    pub(crate) request: CallRequest,
    pub(crate) provider_id: String,
    pub(crate) messages: Vec<Message>,
    pub(crate) finish_reason: Option<FinishReason>,
    pub(crate) usage: Option<Usage>,
    pub(crate) id: Option<String>,
    pub(crate) response_model: Option<String>,
    pub(crate) raw: Value,
    /// [`ResponseData::cost`], computed once (the span and the metrics both read it).
    cost: OnceLock<Option<f64>>,
}

impl ResponseData {
    pub(crate) fn new(
        model_id: Arc<str>,
        request: CallRequest,
        provider_id: String,
        messages: Vec<Message>,
        decoded: Decoded,
    ) -> Self {
        ResponseData {
            model_id,
            request,
            provider_id,
            messages,
            finish_reason: decoded.finish_reason,
            usage: decoded.usage,
            id: decoded.id,
            response_model: decoded.response_model,
            raw: decoded.raw,
            cost: OnceLock::new(),
        }
    }

    /// The Mirascope model id (`openai/gpt-4o-mini`).
    pub fn model_id(&self) -> &str {
        &self.model_id
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

    /// The tool calls of the answer, in order.
    ///
    /// ```
    /// # use mirascope_llm::{ResponseData, Part, ToolCall};
    /// # fn show(r: &ResponseData) {
    /// for call in r.tool_calls() {
    ///     println!("{} called {} with {}", call.id, call.name, call.args);
    /// }
    /// # }
    /// ```
    pub fn tool_calls(&self) -> Vec<ToolCall<'_>> {
        self.content()
            .iter()
            .filter_map(|p| match p {
                Part::ToolCall { id, name, args } => Some(ToolCall { id, name, args }),
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

/// One tool call of a model's answer (see [`ResponseData::tool_calls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ToolCall<'a> {
    /// The call's id, which its output must carry back.
    pub id: &'a str,
    /// The tool's name.
    pub name: &'a str,
    /// The arguments, as the model wrote them (JSON text).
    pub args: &'a str,
}

impl ToolCall<'_> {
    /// The arguments parsed as JSON (blank arguments are an empty object, as Mirascope reads
    /// them).
    pub fn args_json(&self) -> Result<serde_json::Value, serde_json::Error> {
        if self.args.trim().is_empty() {
            return Ok(serde_json::Value::Object(Default::default()));
        }
        serde_json::from_str(self.args)
    }
}

#[cfg(test)]
mod usage_tests {
    use super::Usage;

    #[test]
    fn sums_stop_at_the_largest_recordable_count() {
        let mut total = Usage {
            input_tokens: Usage::MAX_TOKENS - 1,
            output_tokens: 5,
            ..Usage::default()
        };
        total.add(&Usage {
            input_tokens: 10,
            output_tokens: Usage::MAX_TOKENS,
            reasoning_tokens: 2,
            ..Usage::default()
        });
        assert_eq!(total.input_tokens, Usage::MAX_TOKENS);
        assert_eq!(total.output_tokens, Usage::MAX_TOKENS);
        assert_eq!(total.reasoning_tokens, 2);
        assert_eq!(total.total_tokens(), Usage::MAX_TOKENS);
        assert!(i64::try_from(total.total_tokens()).is_ok());
    }
}
