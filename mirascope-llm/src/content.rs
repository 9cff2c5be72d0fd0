//! Messages and their content parts.
//!
//! The serde form of these types *is* Mirascope's own JSON shape (the `mirascope.response.messages`
//! and `mirascope.response.content` span attributes, and the `messages` of the conformance
//! fixtures): system content is one text object, user/assistant content a list of parts,
//! `name` always present (null when unset).
//!
//! Layer: data (the crate docs list the layers: data, wire, call, observation).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One text part as it appears in a system message: `{"type":"text","text":"..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "text")]
pub struct Text {
    /// The text.
    pub text: String,
}

/// A system message: instructions for the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemMessage {
    /// The instructions.
    pub content: Text,
}

/// A user message: text, media, and tool outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    /// The parts, in order.
    pub content: Vec<Part>,
    /// An optional participant name.
    #[serde(default)]
    pub name: Option<String>,
}

/// An assistant message: what a model answered (text, thoughts, tool calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// The parts, in order.
    pub content: Vec<Part>,
    /// An optional participant name.
    #[serde(default)]
    pub name: Option<String>,
    /// The provider that produced this message, when it came from a call.
    #[serde(skip)]
    pub provider_id: Option<String>,
    /// The Mirascope model id that produced this message.
    #[serde(skip)]
    pub model_id: Option<String>,
    /// The provider's own encoding of this message, re-sent verbatim when the conversation
    /// continues with the same provider and model (keeps ids, signatures, reasoning items).
    #[serde(skip)]
    pub raw_message: Option<Value>,
}

/// A message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    /// Instructions.
    System(SystemMessage),
    /// The user's turn.
    User(UserMessage),
    /// The model's turn.
    Assistant(AssistantMessage),
}

/// A content part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// Where the image is.
        source: ImageSource,
    },
    /// An audio clip.
    Audio {
        /// The clip.
        source: AudioSource,
    },
    /// A document (PDF or plain text).
    Document {
        /// Where the document is.
        source: DocumentSource,
    },
    /// A call of a tool, made by the model.
    ToolCall {
        /// The provider's call id.
        id: String,
        /// The tool name.
        name: String,
        /// The arguments as the raw JSON text the model produced.
        args: String,
    },
    /// The result of a tool call, sent back to the model.
    ToolOutput {
        /// The id of the call this answers.
        id: String,
        /// The tool name.
        name: String,
        /// The result.
        result: Value,
    },
    /// The model's reasoning.
    Thought {
        /// The reasoning text.
        thought: String,
    },
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ImageSource {
    /// Inline base64 data.
    #[serde(rename = "base64_image_source")]
    Base64 {
        /// e.g. `image/png`.
        mime_type: String,
        /// Standard base64.
        data: String,
    },
    /// A URL the provider fetches.
    #[serde(rename = "url_image_source")]
    Url {
        /// The URL.
        url: String,
    },
}

/// Where an audio clip comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum AudioSource {
    /// Inline base64 data.
    #[serde(rename = "base64_audio_source")]
    Base64 {
        /// e.g. `audio/mp3`, `audio/wav`.
        mime_type: String,
        /// Standard base64.
        data: String,
    },
}

/// Where a document comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DocumentSource {
    /// Inline base64 data (PDF).
    #[serde(rename = "base64_document_source")]
    Base64 {
        /// Standard base64.
        data: String,
        /// e.g. `application/pdf`.
        media_type: String,
    },
    /// Inline plain text.
    #[serde(rename = "text_document_source")]
    Text {
        /// The text.
        data: String,
        /// e.g. `text/plain`.
        media_type: String,
    },
    /// A URL the provider fetches.
    #[serde(rename = "url_document_source")]
    Url {
        /// The URL.
        url: String,
    },
}

impl Part {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        Part::Text { text: text.into() }
    }

    /// An image by URL.
    pub fn image_url(url: impl Into<String>) -> Self {
        Part::Image {
            source: ImageSource::Url { url: url.into() },
        }
    }

    /// An inline base64 image.
    pub fn image_base64(mime_type: impl Into<String>, data: impl Into<String>) -> Self {
        Part::Image {
            source: ImageSource::Base64 {
                mime_type: mime_type.into(),
                data: data.into(),
            },
        }
    }

    /// An inline base64 audio clip.
    pub fn audio_base64(mime_type: impl Into<String>, data: impl Into<String>) -> Self {
        Part::Audio {
            source: AudioSource::Base64 {
                mime_type: mime_type.into(),
                data: data.into(),
            },
        }
    }

    /// A tool output answering the call `id` of tool `name`.
    pub fn tool_output(id: impl Into<String>, name: impl Into<String>, result: Value) -> Self {
        Part::ToolOutput {
            id: id.into(),
            name: name.into(),
            result,
        }
    }

    /// The text of a text part.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Part::Text { text } => Some(text),
            _ => None,
        }
    }
}

impl Message {
    /// Whether a user or assistant message holds an audio part (`_has_audio_content` of
    /// Mirascope 2.8.2's `openai/provider.py`; system messages hold text only).
    pub(crate) fn has_audio(&self) -> bool {
        let parts = match self {
            Message::System(_) => return false,
            Message::User(u) => &u.content,
            Message::Assistant(a) => &a.content,
        };
        parts.iter().any(|p| matches!(p, Part::Audio { .. }))
    }

    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        Message::System(SystemMessage {
            content: Text { text: text.into() },
        })
    }

    /// A user message with one text part.
    pub fn user(text: impl Into<String>) -> Self {
        Message::user_parts(vec![Part::text(text)])
    }

    /// A user message with the given parts.
    pub fn user_parts(content: Vec<Part>) -> Self {
        Message::User(UserMessage {
            content,
            name: None,
        })
    }

    /// An assistant message with one text part (e.g. to replay a conversation).
    pub fn assistant(text: impl Into<String>) -> Self {
        Message::assistant_parts(vec![Part::text(text)])
    }

    /// An assistant message with the given parts and no provider origin.
    pub fn assistant_parts(content: Vec<Part>) -> Self {
        Message::Assistant(AssistantMessage {
            content,
            name: None,
            provider_id: None,
            model_id: None,
            raw_message: None,
        })
    }

    /// Sets the participant name (user and assistant messages; ignored for system messages).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        match &mut self {
            Message::User(m) => m.name = Some(name.into()),
            Message::Assistant(m) => m.name = Some(name.into()),
            Message::System(_) => {}
        }
        self
    }

    /// `"system"`, `"user"` or `"assistant"`.
    pub fn role(&self) -> &'static str {
        match self {
            Message::System(_) => "system",
            Message::User(_) => "user",
            Message::Assistant(_) => "assistant",
        }
    }

    /// The participant name, if any.
    pub fn name(&self) -> Option<&str> {
        match self {
            Message::User(m) => m.name.as_deref(),
            Message::Assistant(m) => m.name.as_deref(),
            Message::System(_) => None,
        }
    }

    /// The parts of a user or assistant message (empty for system messages).
    pub fn parts(&self) -> &[Part] {
        match self {
            Message::User(m) => &m.content,
            Message::Assistant(m) => &m.content,
            Message::System(_) => &[],
        }
    }
}

/// What a model call takes as input: a conversation, or content that becomes one user message.
///
/// ```
/// use mirascope_llm::{Message, Prompt};
/// let p: Prompt = "What is the capital of France?".into();
/// assert_eq!(p.messages().len(), 1);
/// let p: Prompt = vec![Message::system("Be brief."), Message::user("Hi")].into();
/// assert_eq!(p.messages()[0].role(), "system");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prompt {
    messages: Vec<Message>,
}

impl Prompt {
    /// The messages.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Takes the messages.
    pub fn into_messages(self) -> Vec<Message> {
        self.messages
    }
}

impl From<&str> for Prompt {
    fn from(text: &str) -> Self {
        Message::user(text).into()
    }
}
impl From<String> for Prompt {
    fn from(text: String) -> Self {
        Message::user(text).into()
    }
}
impl From<&String> for Prompt {
    fn from(text: &String) -> Self {
        Message::user(text.as_str()).into()
    }
}
impl From<Message> for Prompt {
    fn from(m: Message) -> Self {
        Prompt { messages: vec![m] }
    }
}
impl From<Vec<Message>> for Prompt {
    fn from(messages: Vec<Message>) -> Self {
        Prompt { messages }
    }
}
impl From<&[Message]> for Prompt {
    fn from(messages: &[Message]) -> Self {
        Prompt {
            messages: messages.to_vec(),
        }
    }
}
impl<const N: usize> From<[Message; N]> for Prompt {
    fn from(messages: [Message; N]) -> Self {
        Prompt {
            messages: messages.into(),
        }
    }
}
impl From<Part> for Prompt {
    fn from(p: Part) -> Self {
        Message::user_parts(vec![p]).into()
    }
}
impl From<Vec<Part>> for Prompt {
    fn from(parts: Vec<Part>) -> Self {
        Message::user_parts(parts).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirascope_shape_round_trips() {
        let json = r#"[{"role":"system","content":{"type":"text","text":"Be brief."}},{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"image","source":{"type":"url_image_source","url":"https://x/y.png"}}],"name":null},{"role":"assistant","content":[{"type":"tool_call","id":"c1","name":"f","args":"{\"a\":1}"}],"name":"bot"},{"role":"user","content":[{"type":"tool_output","id":"c1","name":"f","result":{"ok":true}}],"name":null}]"#;
        let messages: Vec<Message> = serde_json::from_str(json).unwrap();
        assert_eq!(messages.len(), 4);
        assert_eq!(serde_json::to_string(&messages).unwrap(), json);
    }

    #[test]
    fn name_only_on_user_and_assistant() {
        assert_eq!(Message::user("x").with_name("n").name(), Some("n"));
        assert_eq!(Message::system("x").with_name("n").name(), None);
    }
}
