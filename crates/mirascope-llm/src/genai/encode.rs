//! The `gen_ai.*` JSON attributes (OpenTelemetry GenAI semantic conventions v1.41), byte-identical
//! to what Python Mirascope 2.8.2 emits: compact, keys in Mirascope's order, non-ASCII raw.
//!
//! - `gen_ai.system_instructions`: a flat list of parts from every system message.
//! - `gen_ai.input.messages`: the other messages as `{"role","parts","name"?}`; tool results stay
//!   in `user` messages as `tool_call_response` parts.
//! - `gen_ai.output.messages`: one `{"role":"assistant","parts","finish_reason"}`.
//! - `gen_ai.tool.definitions`: `{"name","description","type":"function","parameters","strict"?}`.

use serde_json::{Map, Value};

use crate::content::{AudioSource, DocumentSource, ImageSource, Message, Part};
use crate::format::{FormatMode, ResolvedFormat};
use crate::response::FinishReason;
use crate::tool::{Tool, ToolSchema};

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::with_capacity(pairs.len());
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// One content part in GenAI form.
pub(crate) fn part(p: &Part) -> Value {
    match p {
        Part::Text { text } => obj(vec![("type", s("text")), ("content", s(text))]),
        Part::ToolCall { id, name, args } => obj(vec![
            ("type", s("tool_call")),
            ("id", s(id)),
            ("name", s(name)),
            (
                "arguments",
                serde_json::from_str(args).unwrap_or_else(|_| s("")),
            ),
        ]),
        Part::ToolOutput { id, result, .. } => obj(vec![
            ("type", s("tool_call_response")),
            ("id", s(id)),
            ("response", result.clone()),
        ]),
        Part::Thought { thought } => obj(vec![("type", s("reasoning")), ("content", s(thought))]),
        Part::Image {
            source: ImageSource::Base64 { mime_type, data },
        } => blob("image", mime_type, data),
        Part::Image {
            source: ImageSource::Url { url },
        } => obj(vec![
            ("type", s("uri")),
            ("modality", s("image")),
            ("uri", s(url)),
        ]),
        Part::Audio {
            source: AudioSource::Base64 { mime_type, data },
        } => blob("audio", mime_type, data),
        // Python Mirascope raises on documents (and fails the user's call); we record them with
        // the `document` modality of the GenAI conventions' head.
        Part::Document {
            source: DocumentSource::Base64 { data, media_type },
        } => blob("document", media_type, data),
        Part::Document {
            source: DocumentSource::Text { data, .. },
        } => obj(vec![("type", s("text")), ("content", s(data))]),
        Part::Document {
            source: DocumentSource::Url { url },
        } => obj(vec![
            ("type", s("uri")),
            ("modality", s("document")),
            ("uri", s(url)),
        ]),
    }
}

fn blob(modality: &str, mime_type: &str, data: &str) -> Value {
    obj(vec![
        ("type", s("blob")),
        ("modality", s(modality)),
        ("mime_type", s(mime_type)),
        ("content", s(data)),
    ])
}

fn parts(content: &[Part]) -> Value {
    Value::Array(content.iter().map(part).collect())
}

/// `gen_ai.system_instructions`, or `None` when there is no system message.
pub(crate) fn system_instructions(messages: &[Message]) -> Option<String> {
    let items: Vec<Value> = messages
        .iter()
        .filter_map(|m| match m {
            Message::System(sys) => Some(obj(vec![
                ("type", s("text")),
                ("content", s(&sys.content.text)),
            ])),
            _ => None,
        })
        .collect();
    (!items.is_empty()).then(|| Value::Array(items).to_string())
}

/// `gen_ai.input.messages`, or `None` when there are only system messages.
pub(crate) fn input_messages(messages: &[Message]) -> Option<String> {
    let items: Vec<Value> = messages
        .iter()
        .filter_map(|m| {
            let (role, content, name) = match m {
                Message::System(_) => return None,
                Message::User(u) => ("user", &u.content, u.name.as_deref()),
                Message::Assistant(a) => ("assistant", &a.content, a.name.as_deref()),
            };
            let mut fields = vec![("role", s(role)), ("parts", parts(content))];
            if let Some(n) = name.filter(|n| !n.is_empty()) {
                fields.push(("name", s(n)));
            }
            Some(obj(fields))
        })
        .collect();
    (!items.is_empty()).then(|| Value::Array(items).to_string())
}

/// Mirascope's finish-reason mapping: normal ends (tool-call turns included) are `stop`.
///
/// Python Mirascope raises on `context_length_exceeded` (breaking the user's call); we map it
/// to `length`.
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
    reason: Option<FinishReason>,
    name: Option<&str>,
) -> String {
    let mut fields = vec![
        ("role", s("assistant")),
        ("parts", parts(content)),
        ("finish_reason", s(finish_reason(reason))),
    ];
    if let Some(n) = name.filter(|n| !n.is_empty()) {
        fields.push(("name", s(n)));
    }
    Value::Array(vec![obj(fields)]).to_string()
}

fn tool_definition(t: &ToolSchema) -> Value {
    let mut fields = vec![
        ("name", s(&t.name)),
        ("description", s(&t.description)),
        ("type", s("function")),
        ("parameters", t.parameters.to_mirascope_json()),
    ];
    if let Some(strict) = t.strict {
        fields.push(("strict", Value::Bool(strict)));
    }
    obj(fields)
}

/// `gen_ai.tool.definitions`, or `None` without tools (the tool-mode format tool counts).
pub(crate) fn tool_definitions(tools: &[Tool], format: Option<&ResolvedFormat>) -> Option<String> {
    let mut items: Vec<Value> = tools.iter().map(|t| tool_definition(t.schema())).collect();
    if let Some(f) = format.filter(|f| f.mode == FormatMode::Tool) {
        // Mirascope records the format tool without its `strict` flag.
        let schema = ToolSchema {
            strict: None,
            ..f.tool_schema()
        };
        items.push(tool_definition(&schema));
    }
    (!items.is_empty()).then(|| Value::Array(items).to_string())
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
        let tc = Part::ToolCall {
            id: "c".into(),
            name: "f".into(),
            args: "not json".into(),
        };
        assert_eq!(
            part(&tc).to_string(),
            r#"{"type":"tool_call","id":"c","name":"f","arguments":""}"#
        );
        assert_eq!(
            output_messages(&[Part::text("72°F")], Some(FinishReason::MaxTokens), None),
            r#"[{"role":"assistant","parts":[{"type":"text","content":"72°F"}],"finish_reason":"length"}]"#
        );
    }
}
