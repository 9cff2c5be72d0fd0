//! Layer: data. What a provider answered, in provider-independent form: why the model stopped
//! ([`FinishReason`]), token counts ([`Usage`]), the pieces of a streamed answer
//! ([`StreamChunk`]), and one decoded answer before it becomes a `Response`. The wire formats
//! produce these and the call layer assembles them, so they live below both.

use serde_json::Value;

use crate::content::Part;

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
    pub input_tokens: i64,
    /// All output tokens.
    pub output_tokens: i64,
    /// Input tokens read from the provider's prompt cache.
    pub cache_read_tokens: i64,
    /// Input tokens written to the provider's prompt cache.
    pub cache_write_tokens: i64,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: i64,
}

impl Usage {
    /// `input_tokens + output_tokens`.
    pub fn total_tokens(&self) -> i64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }

    /// Adds a delta (streams report usage in pieces).
    pub fn add(&mut self, d: &Usage) {
        // Counts are validated non-negative `i64`s; a sum of many never wraps or panics.
        self.input_tokens = self.input_tokens.saturating_add(d.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(d.output_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(d.cache_read_tokens);
        self.cache_write_tokens = self.cache_write_tokens.saturating_add(d.cache_write_tokens);
        self.reasoning_tokens = self.reasoning_tokens.saturating_add(d.reasoning_tokens);
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
