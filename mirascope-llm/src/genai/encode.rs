//! The `gen_ai.*` JSON attributes (OpenTelemetry GenAI semantic conventions v1.41), byte-identical
//! to what Python Mirascope 2.8.2 emits: compact, keys in Mirascope's order, non-ASCII raw.
//!
//! - `gen_ai.system_instructions`: a flat list of parts from every system message.
//! - `gen_ai.input.messages`: the other messages as `{"role","parts","name"?}`; tool results stay
//!   in `user` messages as `tool_call_response` parts.
//! - `gen_ai.output.messages`: one `{"role":"assistant","parts","finish_reason"}`.
//! - `gen_ai.tool.definitions`: `{"name","description","type":"function","parameters","strict"?}`.
//!
//! Everything serializes straight from borrowed data (no intermediate JSON values): this runs on
//! every instrumented call.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::answer::FinishReason;
use crate::content::{AudioSource, DocumentSource, ImageSource, Message, Part};
use crate::format::{FormatMode, ResolvedFormat};
use crate::tool::{Tool, ToolParameters, ToolSchema};

/// Tool-call arguments: the parsed JSON object, or `""` when they are not valid JSON.
struct Arguments<'a>(&'a str);

impl Serialize for Arguments<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<Value>(self.0) {
            Ok(v) => v.serialize(s),
            Err(_) => s.serialize_str(""),
        }
    }
}

/// One content part in GenAI form.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum GenPart<'a> {
    Text {
        content: &'a str,
    },
    ToolCall {
        id: &'a str,
        name: &'a str,
        arguments: Arguments<'a>,
    },
    ToolCallResponse {
        id: &'a str,
        response: &'a Value,
    },
    Reasoning {
        content: &'a str,
    },
    Blob {
        modality: &'static str,
        mime_type: &'a str,
        content: &'a str,
    },
    Uri {
        modality: &'static str,
        uri: &'a str,
    },
}

fn gen_part(p: &Part) -> GenPart<'_> {
    match p {
        Part::Text { text } => GenPart::Text { content: text },
        Part::ToolCall { id, name, args } => GenPart::ToolCall {
            id,
            name,
            arguments: Arguments(args),
        },
        Part::ToolOutput { id, result, .. } => GenPart::ToolCallResponse {
            id,
            response: result,
        },
        Part::Thought { thought } => GenPart::Reasoning { content: thought },
        Part::Image {
            source: ImageSource::Base64 { mime_type, data },
        } => GenPart::Blob {
            modality: "image",
            mime_type,
            content: data,
        },
        Part::Image {
            source: ImageSource::Url { url },
        } => GenPart::Uri {
            modality: "image",
            uri: url,
        },
        Part::Audio {
            source: AudioSource::Base64 { mime_type, data },
        } => GenPart::Blob {
            modality: "audio",
            mime_type,
            content: data,
        },
        // Python Mirascope raises on documents (and fails the user's call); we record them with
        // the `document` modality of the GenAI conventions' head.
        Part::Document {
            source: DocumentSource::Base64 { data, media_type },
        } => GenPart::Blob {
            modality: "document",
            mime_type: media_type,
            content: data,
        },
        Part::Document {
            source: DocumentSource::Text { data, .. },
        } => GenPart::Text { content: data },
        Part::Document {
            source: DocumentSource::Url { url },
        } => GenPart::Uri {
            modality: "document",
            uri: url,
        },
    }
}

struct Parts<'a>(&'a [Part]);

impl Serialize for Parts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for p in self.0 {
            seq.serialize_element(&gen_part(p))?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    parts: Parts<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct OutputMessage<'a> {
    role: &'static str,
    parts: Parts<'a>,
    /// Absent only for a stream that broke or was dropped before the provider said why it
    /// stopped (see `span::partial_finish_reason`).
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// `gen_ai.system_instructions`, or `None` when there is no system message.
pub(crate) fn system_instructions(messages: &[Message]) -> Option<String> {
    let items: Vec<GenPart<'_>> = messages
        .iter()
        .filter_map(|m| match m {
            Message::System(sys) => Some(GenPart::Text {
                content: &sys.content.text,
            }),
            _ => None,
        })
        .collect();
    (!items.is_empty()).then(|| to_json(&items))
}

/// `gen_ai.input.messages`, or `None` when there are only system messages.
pub(crate) fn input_messages(messages: &[Message]) -> Option<String> {
    let items: Vec<ChatMessage<'_>> = messages
        .iter()
        .filter_map(|m| {
            let (role, content, name) = match m {
                Message::System(_) => return None,
                Message::User(u) => ("user", &u.content, u.name.as_deref()),
                Message::Assistant(a) => ("assistant", &a.content, a.name.as_deref()),
            };
            Some(ChatMessage {
                role,
                parts: Parts(content),
                name: name.filter(|n| !n.is_empty()),
            })
        })
        .collect();
    (!items.is_empty()).then(|| to_json(&items))
}

/// Mirascope's finish-reason mapping: normal ends (tool-call turns included) are `stop`, and
/// `max_tokens` and `context_length_exceeded` are `length`. Follows Mirascope 2.8.2
/// `ops/_internal/instrumentation/llm/encode.py::map_finish_reason` (2.5.0 raised on
/// `context_length_exceeded`).
pub(crate) fn finish_reason(r: Option<FinishReason>) -> &'static str {
    match r {
        None => "stop",
        Some(FinishReason::MaxTokens) | Some(FinishReason::ContextLengthExceeded) => "length",
        Some(FinishReason::Refusal) => "content_filter",
    }
}

/// `gen_ai.output.messages`.
pub(crate) fn output_messages(
    content: &[Part],
    finish_reason: Option<&'static str>,
    name: Option<&str>,
) -> String {
    to_json(&[OutputMessage {
        role: "assistant",
        parts: Parts(content),
        finish_reason,
        name: name.filter(|n| !n.is_empty()),
    }])
}

/// Mirascope's parameter schema: `$defs` always present (null when none), no `type`.
pub(crate) struct MirascopeParameters<'a>(pub &'a ToolParameters);

impl Serialize for MirascopeParameters<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("properties", &self.0.properties)?;
        m.serialize_entry("required", &self.0.required)?;
        m.serialize_entry("additionalProperties", &false)?;
        m.serialize_entry("$defs", &self.0.defs)?;
        m.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum ToolDefinition<'a> {
    Function {
        name: &'a str,
        description: &'a str,
        #[serde(rename = "type")]
        kind: &'static str,
        parameters: MirascopeParameters<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    },
    /// A provider tool (`serialize.py::_serialize_tool`: `{"name": ..., "type": "extension"}`).
    Extension {
        name: &'static str,
        #[serde(rename = "type")]
        kind: &'static str,
    },
}

fn tool_definition(t: &ToolSchema) -> ToolDefinition<'_> {
    ToolDefinition::Function {
        name: &t.name,
        description: &t.description,
        kind: "function",
        parameters: MirascopeParameters(&t.parameters),
        strict: t.strict,
    }
}

/// `gen_ai.tool.definitions`, or `None` without tools (the tool-mode format tool counts).
/// `gen_ai.tool.definitions`: the call's tools, plus the format tool when the user *asked* for
/// tool mode. Follows the span code of Python Mirascope (ops/_internal/instrumentation/llm/
/// common.py: `if isinstance(format, Format) and format.mode == "tool"`), which looks at the
/// format as given: a format without a mode that a provider resolves to tool mode adds no
/// definition.
pub(crate) fn tool_definitions(
    tools: &[Tool],
    requested_mode: Option<FormatMode>,
    format: Option<&ResolvedFormat>,
) -> Option<String> {
    let format_tool = format
        .filter(|f| f.mode == FormatMode::Tool && requested_mode == Some(FormatMode::Tool))
        .map(|f| f.tool_schema());
    let mut items: Vec<ToolDefinition<'_>> = tools
        .iter()
        .map(|t| match t.provider_tool() {
            Some(p) => ToolDefinition::Extension {
                name: p.name(),
                kind: "extension",
            },
            None => tool_definition(t.schema()),
        })
        .collect();
    if let Some(t) = &format_tool {
        // Mirascope records the format tool without its `strict` flag.
        let mut definition = tool_definition(t);
        if let ToolDefinition::Function { strict, .. } = &mut definition {
            *strict = None;
        }
        items.push(definition);
    }
    (!items.is_empty()).then(|| to_json(&items))
}

impl crate::tool::ToolParameters {
    /// Mirascope's form as recorded in `gen_ai.tool.definitions`: `$defs` always present
    /// (null when none), no `type`.
    pub fn to_mirascope_json(&self) -> Value {
        serde_json::to_value(MirascopeParameters(self)).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_match_mirascope() {
        let msgs = vec![
            Message::system("You are a concise assistant."),
            Message::user("Say hello to the user named Kai.").with_name("kai"),
        ];
        assert_eq!(
            system_instructions(&msgs).unwrap(),
            r#"[{"type":"text","content":"You are a concise assistant."}]"#
        );
        assert_eq!(
            input_messages(&msgs).unwrap(),
            r#"[{"role":"user","parts":[{"type":"text","content":"Say hello to the user named Kai."}],"name":"kai"}]"#
        );
        assert_eq!(input_messages(&msgs[..1]), None);
        let tc = [
            Part::ToolCall {
                id: "c".into(),
                name: "f".into(),
                args: "not json".into(),
            },
            Part::ToolCall {
                id: "d".into(),
                name: "f".into(),
                args: r#"{"a": 1}"#.into(),
            },
        ];
        assert_eq!(
            output_messages(&tc, Some(finish_reason(None)), None),
            r#"[{"role":"assistant","parts":[{"type":"tool_call","id":"c","name":"f","arguments":""},{"type":"tool_call","id":"d","name":"f","arguments":{"a":1}}],"finish_reason":"stop"}]"#
        );
        assert_eq!(
            output_messages(
                &[Part::text("72°F")],
                Some(finish_reason(Some(FinishReason::MaxTokens))),
                None
            ),
            r#"[{"role":"assistant","parts":[{"type":"text","content":"72°F"}],"finish_reason":"length"}]"#
        );
        let img = [
            Part::image_base64("image/png", "AAAA"),
            Part::image_url("https://x/y.png"),
        ];
        assert_eq!(
            serde_json::from_str::<Value>(&output_messages(&img, Some("stop"), None)).unwrap()[0]
                ["parts"]
                .to_string(),
            r#"[{"type":"blob","modality":"image","mime_type":"image/png","content":"AAAA"},{"type":"uri","modality":"image","uri":"https://x/y.png"}]"#
        );
    }
}
