//! OpenAI Responses API (`POST {base}/responses`), encoded as Python Mirascope 2.8.2 does.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::{json, Map, Value};

use super::{
    openai_error_class, openai_usage, tool_result_text, DecodeContext, EncodeContext, ErrorDetails,
    StreamDecoder, StreamMeta, WireFormat,
};
use crate::answer::StreamChunk;
use crate::answer::{Decoded, FinishReason};
use crate::content::{DocumentSource, Message, Part};
use crate::error::{Error, ErrorClass, Result};
use crate::format::FormatMode;
use crate::params::ThinkingLevel;
use crate::registry::ApiKey;
use crate::tool::{ToolSchema, FORMAT_TOOL_NAME};

const PROVIDER: &str = "openai";

pub(crate) struct OpenAiResponses;

/// Models that reject a `reasoning` config.
fn effort(level: ThinkingLevel) -> &'static str {
    match level {
        ThinkingLevel::Default | ThinkingLevel::Medium => "medium",
        ThinkingLevel::None => "none",
        ThinkingLevel::Minimal => "minimal",
        ThinkingLevel::Low => "low",
        ThinkingLevel::High => "high",
        ThinkingLevel::Max => "xhigh",
    }
}

/// A Responses function tool (`_convert_tool_to_tool_param`, openai/responses/_utils/encode.py).
pub(crate) fn function_tool(t: &ToolSchema) -> Value {
    let (params, strict) = super::openai_tool_parameters(t);
    json!({"type": "function", "name": t.name, "description": t.description, "parameters": params, "strict": strict})
}

/// A user message as input items (`_encode_user_message`, openai/responses/_utils/encode.py).
fn encode_user(content: &[Part], out: &mut Vec<Value>) -> Result<()> {
    if let [Part::Text { text }] = content {
        out.push(json!({"content": text, "role": "user"}));
        return Ok(());
    }
    let mut current: Vec<Value> = Vec::new();
    let flush = |current: &mut Vec<Value>, out: &mut Vec<Value>| {
        if !current.is_empty() {
            out.push(
                json!({"content": std::mem::take(current), "role": "user", "type": "message"}),
            );
        }
    };
    for part in content {
        match part {
            Part::Text { text } => current.push(json!({"text": text, "type": "input_text"})),
            Part::Image { source } => {
                let url = super::image_url(source);
                current.push(json!({"image_url": url, "detail": "auto", "type": "input_image"}));
            }
            Part::Document { source } => current.push(match source {
                DocumentSource::Base64 { data, media_type } => json!({"type": "input_file", "filename": "document.pdf", "file_data": format!("data:{media_type};base64,{data}")}),
                DocumentSource::Url { url } => json!({"type": "input_file", "file_url": url}),
                DocumentSource::Text { data, media_type } => json!({"type": "input_file", "filename": "document.txt", "file_data": super::text_document_data_url(media_type, data)}),
            }),
            Part::ToolOutput { id, result, .. } => {
                flush(&mut current, out);
                out.push(json!({"call_id": id, "output": tool_result_text(result), "type": "function_call_output"}));
            }
            Part::Audio { .. } => return Err(Error::unsupported(PROVIDER, "audio input with the Responses API (use the ':completions' model suffix)")),
            Part::ToolCall { .. } | Part::Thought { .. } => return Err(Error::InvalidRequest("user messages cannot contain tool calls or thoughts".into())),
        }
    }
    flush(&mut current, out);
    Ok(())
}

/// An assistant message re-encoded from its parts (`_encode_assistant_message`,
/// openai/responses/_utils/encode.py).
fn encode_assistant(content: &[Part], encode_thoughts: bool, out: &mut Vec<Value>) -> Result<()> {
    for part in content {
        match part {
            Part::Text { text } => out.push(json!({"content": text, "role": "assistant"})),
            Part::Thought { thought } if encode_thoughts => out
                .push(json!({"content": format!("**Thinking:** {thought}"), "role": "assistant"})),
            Part::Thought { .. } => {}
            // `_encode_assistant_message`: blank arguments are sent as `{}`.
            Part::ToolCall { id, name, args } => out.push(json!({
                "call_id": id,
                "name": name,
                "arguments": super::nonblank_args(args),
                "type": "function_call"
            })),
            _ => {
                return Err(Error::InvalidRequest(
                    "assistant messages can only contain text, thoughts and tool calls".into(),
                ))
            }
        }
    }
    Ok(())
}

/// Whether an assistant message's raw items may be re-sent as they came: never when they call
/// the format tool (`_raw_message_has_format_tool`); whose message it is, is
/// [`super::openai_owns`]'s question (only OpenAI's own, `openai` / `openai:responses`: xAI's
/// are re-encoded). Follows Mirascope 2.8.2 `openai/responses/_utils/encode.py::_encode_message`.
fn replays_raw(raw: Option<&Value>) -> bool {
    let Some(raw) = raw else {
        return false;
    };
    let calls_format_tool = raw.as_array().is_some_and(|items| {
        items.iter().any(|item| {
            item.get("type").and_then(Value::as_str) == Some("function_call")
                && item
                    .get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with(FORMAT_TOOL_NAME))
        })
    });
    !calls_format_tool
}

impl WireFormat for OpenAiResponses {
    fn path(&self, _model_name: &str, _stream: bool) -> String {
        "/responses".into()
    }

    fn auth_header(&self, key: &ApiKey) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", key.expose()))
    }

    /// Always `strict`: Mirascope's Responses encoder looks the *model id* (`openai/gpt-4o`) up in
    /// `MODELS_WITHOUT_JSON_SCHEMA_SUPPORT`, a table of bare names, so no model is ever found
    /// there (`encode_request`, openai/responses/_utils/encode.py).
    fn default_format_mode(
        &self,
        _provider_id: &str,
        _model_name: &str,
        _has_tools: bool,
    ) -> FormatMode {
        FormatMode::Strict
    }

    fn encode(&self, ctx: &EncodeContext<'_>) -> Result<Value> {
        let mut body = Map::new();
        body.insert("model".into(), json!(ctx.model_name));
        let p = ctx.params;
        if let Some(v) = p.get("temperature") {
            body.insert("temperature".into(), v.clone());
        }
        if let Some(v) = p.get("max_tokens") {
            body.insert("max_output_tokens".into(), v.clone());
        }
        if let Some(v) = p.get("top_p") {
            body.insert("top_p".into(), v.clone());
        }
        for unsupported in ["top_k", "seed", "stop_sequences"] {
            if p.get(unsupported).is_some() {
                tracing::warn!(target: "mirascope_llm", "skipping unsupported parameter {unsupported} (provider: openai:responses)");
            }
        }
        let thinking = p.get_thinking();
        let encode_thoughts = thinking
            .as_ref()
            .and_then(|t| t.encode_thoughts_as_text)
            .unwrap_or(false);
        if let Some(t) = &thinking {
            if !super::models::openai_is_reasoning(ctx.model_name) {
                tracing::warn!(target: "mirascope_llm", "skipping unsupported parameter thinking for non-reasoning model {}", ctx.model_id);
            } else {
                let mut reasoning = json!({"effort": effort(t.level)});
                if t.include_thoughts == Some(true) {
                    reasoning["summary"] = json!("auto");
                }
                body.insert("reasoning".into(), reasoning);
            }
        }

        let mut input = Vec::new();
        for m in ctx.messages {
            match m {
                Message::System(s) => {
                    input.push(json!({"role": "developer", "content": s.content.text}))
                }
                Message::Assistant(a)
                    if replays_raw(a.raw_message.as_ref())
                        && super::openai_owns(ctx, a, &["openai", "openai:responses"], true)
                        && !encode_thoughts =>
                {
                    match a.raw_message.as_ref() {
                        Some(Value::Array(items)) => input.extend(items.iter().cloned()),
                        Some(other) => input.push(other.clone()),
                        None => {}
                    }
                }
                Message::Assistant(a) => encode_assistant(&a.content, encode_thoughts, &mut input)?,
                Message::User(u) => encode_user(&u.content, &mut input)?,
            }
        }
        body.insert("input".into(), Value::Array(input));

        // `_convert_tool_to_tool_param`: web search as `{"type": "web_search"}`.
        let user_tools: Vec<Value> = ctx
            .tools
            .iter()
            .map(|t| match t.provider_tool() {
                Some(crate::ProviderTool::WebSearch) => json!({"type": "web_search"}),
                None => function_tool(t.schema()),
            })
            .collect();
        let mut tools = user_tools.clone();
        if let Some(f) = ctx.format {
            match f.mode {
                FormatMode::Strict => {
                    let schema = super::openai_strict_schema(&f.schema);
                    let mut fmt = json!({"type": "json_schema", "name": f.name, "schema": schema});
                    if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                        fmt["description"] = json!(d);
                    }
                    fmt["strict"] = json!(true);
                    body.insert("text".into(), json!({"format": fmt}));
                }
                FormatMode::Tool => {
                    tools.push(function_tool(&f.tool_schema()));
                    let choice = if user_tools.is_empty() {
                        json!({"type": "function", "name": FORMAT_TOOL_NAME})
                    } else {
                        // Only function tools (not web search) in `tool_choice`.
                        let names: Vec<Value> = tools
                            .iter()
                            .filter(|t| t["type"] == "function")
                            .map(|t| json!({"type": "function", "name": t["name"]}))
                            .collect();
                        json!({"type": "allowed_tools", "mode": "required", "tools": names})
                    };
                    body.insert("tool_choice".into(), choice);
                }
                FormatMode::Json => {
                    body.insert("text".into(), json!({"format": {"type": "json_object"}}));
                }
            }
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        if ctx.stream {
            body.insert("stream".into(), json!(true));
        }
        Ok(Value::Object(body))
    }

    fn decode(&self, ctx: &DecodeContext, body: Value) -> Result<Decoded> {
        let output = super::required_array(PROVIDER, &body, "output")?;
        let mut content = Vec::new();
        let mut refused = false;
        for item in output {
            decode_item(item, &mut content, &mut refused);
        }
        if !ctx.include_thoughts {
            content.retain(|p| !matches!(p, Part::Thought { .. }));
        }
        // A refusal wins over the incomplete reason, as in Mirascope.
        let finish_reason = if refused {
            Some(FinishReason::Refusal)
        } else {
            body.pointer("/incomplete_details/reason")
                .and_then(Value::as_str)
                .and_then(super::responses_finish_reason)
        };
        Ok(Decoded {
            content,
            finish_reason,
            usage: body
                .get("usage")
                .filter(|u| u.is_object())
                .map(|u| openai_usage(PROVIDER, u))
                .transpose()?,
            id: body.get("id").and_then(Value::as_str).map(str::to_string),
            response_model: super::answering_model(&body, "/model"),
            raw_message: Some(raw_items(output)),
            raw: body,
        })
    }

    fn stream_decoder(&self, ctx: &DecodeContext) -> Box<dyn StreamDecoder> {
        Box::new(ResponsesStream {
            include_thoughts: ctx.include_thoughts,
            ..ResponsesStream::default()
        })
    }

    /// `OPENAI_ERROR_MAP`, and `OpenAIResponsesProvider.error_map`'s own rule: a 400 whose
    /// `code` is `model_not_found` is a NotFoundError (for every provider on this API:
    /// `openai` routed here, `openai:responses`, `xai`).
    fn error_class(
        &self,
        _provider_id: &str,
        status: u16,
        details: &ErrorDetails,
        _body: &str,
    ) -> ErrorClass {
        if status == 400 && details.code.as_deref() == Some("model_not_found") {
            return ErrorClass::NotFound;
        }
        openai_error_class(status)
    }
}

/// The output items as Mirascope re-sends them: top-level nulls dropped.
fn raw_items(items: &[Value]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|item| match item {
                Value::Object(m) => Value::Object(
                    m.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                ),
                other => other.clone(),
            })
            .collect(),
    )
}

fn decode_item(item: &Value, content: &mut Vec<Part>, refused: &mut bool) {
    let texts = |key: &str, kind: &str| -> Vec<String> {
        item.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|c| c.get("type").and_then(Value::as_str) == Some(kind))
            .filter_map(|c| c.get("text").and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    match item.get("type").and_then(Value::as_str) {
        Some("message") => {
            for c in item
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match c.get("type").and_then(Value::as_str) {
                    Some("output_text") => content.push(Part::text(
                        c.get("text").and_then(Value::as_str).unwrap_or_default(),
                    )),
                    Some("refusal") => {
                        content.push(Part::text(
                            c.get("refusal").and_then(Value::as_str).unwrap_or_default(),
                        ));
                        *refused = true;
                    }
                    _ => {}
                }
            }
        }
        Some("function_call") => content.push(Part::ToolCall {
            id: str_of(item, "call_id"),
            name: str_of(item, "name"),
            args: super::nonblank_args(&str_of(item, "arguments")),
        }),
        Some("reasoning") => {
            for thought in texts("summary", "summary_text")
                .into_iter()
                .chain(texts("content", "reasoning_text"))
            {
                content.push(Part::Thought { thought });
            }
        }
        _ => {}
    }
}

/// A string field, empty when absent (fields of completed output items).
fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The Responses event stream: `response.created` ... `response.completed`, decoded as
/// Mirascope's chunk processor does.
#[derive(Default)]
struct ResponsesStream {
    include_thoughts: bool,
    in_text: bool,
    in_thought: bool,
    /// The call id of the function call being streamed.
    call: Option<String>,
    refused: bool,
    done: bool,
    id: Option<String>,
    response_model: Option<String>,
    items: Vec<Value>,
    raw: Value,
    skipped: u64,
}

impl StreamDecoder for ResponsesStream {
    fn event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamChunk>) -> Result<()> {
        let v = super::parse_event(PROVIDER, data)?;
        match v.get("type").and_then(Value::as_str).unwrap_or_default() {
            "response.created" | "response.in_progress" => {
                if let Some(id) = v.pointer("/response/id").and_then(Value::as_str) {
                    self.id = Some(id.to_string());
                }
                if let Some(m) = super::answering_model(&v, "/response/model") {
                    self.response_model = Some(m);
                }
            }
            kind @ ("response.output_text.delta" | "response.refusal.delta") => {
                let delta = super::event_str(PROVIDER, kind, &v, "/delta")?;
                if !self.in_text {
                    out.push(StreamChunk::TextStart);
                    self.in_text = true;
                }
                out.push(StreamChunk::TextDelta(delta.to_string()));
            }
            kind @ ("response.output_text.done" | "response.refusal.done") => {
                out.push(StreamChunk::TextEnd);
                self.in_text = false;
                self.refused |= kind == "response.refusal.done";
            }
            "response.output_item.added" => {
                let item = &v["item"];
                if item.get("type").and_then(Value::as_str) == Some("function_call") {
                    let kind = "response.output_item.added";
                    let call_id =
                        super::event_str(PROVIDER, kind, &v, "/item/call_id")?.to_string();
                    let name = super::event_str(PROVIDER, kind, &v, "/item/name")?.to_string();
                    self.call = Some(call_id.clone());
                    out.push(StreamChunk::ToolCallStart { id: call_id, name });
                }
            }
            kind @ "response.function_call_arguments.delta" => {
                let delta = super::event_str(PROVIDER, kind, &v, "/delta")?;
                if let Some(id) = &self.call {
                    out.push(StreamChunk::ToolCallDelta {
                        id: id.clone(),
                        delta: delta.to_string(),
                    });
                }
            }
            "response.function_call_arguments.done" => {
                if let Some(id) = self.call.take() {
                    out.push(StreamChunk::ToolCallEnd { id });
                }
            }
            kind @ ("response.reasoning_text.delta" | "response.reasoning_summary_text.delta")
                if self.include_thoughts =>
            {
                let delta = super::event_str(PROVIDER, kind, &v, "/delta")?;
                if !self.in_thought {
                    out.push(StreamChunk::ThoughtStart);
                    self.in_thought = true;
                }
                out.push(StreamChunk::ThoughtDelta(delta.to_string()));
            }
            "response.reasoning_text.done" | "response.reasoning_summary_text.done" => {
                if self.include_thoughts && self.in_thought {
                    out.push(StreamChunk::ThoughtEnd);
                }
                self.in_thought = false;
            }
            "response.output_item.done" => self.items.push(v["item"].clone()),
            kind @ ("response.completed" | "response.incomplete") => {
                let resp = &v["response"];
                if kind == "response.incomplete" {
                    if let Some(r) = resp
                        .pointer("/incomplete_details/reason")
                        .and_then(Value::as_str)
                        .and_then(super::responses_finish_reason)
                    {
                        out.push(StreamChunk::FinishReason(r));
                    }
                }
                if self.refused {
                    out.push(StreamChunk::FinishReason(FinishReason::Refusal));
                }
                if let Some(u) = resp.get("usage").filter(|u| u.is_object()) {
                    out.push(StreamChunk::UsageDelta(openai_usage(PROVIDER, u)?));
                }
                if let Some(id) = resp.get("id").and_then(Value::as_str) {
                    self.id = Some(id.to_string());
                }
                if let Some(m) = super::answering_model(resp, "/model") {
                    self.response_model = Some(m);
                }
                if let Some(output) = resp
                    .get("output")
                    .and_then(Value::as_array)
                    .filter(|o| !o.is_empty())
                {
                    self.items = output.clone();
                }
                self.raw = resp.clone();
                self.done = true;
            }
            // Reached only without an `error` event before it (that one ends the stream first).
            // Follows Mirascope 2.8.2 `openai/responses/_utils/decode.py` (`response.failed`:
            // `APIError(f"OpenAI response failed: {code}: {message}")`).
            "response.failed" => {
                let error = v.pointer("/response/error").filter(|e| e.is_object());
                let field = |k: &str| {
                    error
                        .and_then(|e| e.get(k))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                return Err(crate::Error::ResponseFailed {
                    provider: PROVIDER.to_string(),
                    message: format!(
                        "OpenAI response failed: {}: {}",
                        field("code").unwrap_or_else(|| "unknown_error".into()),
                        field("message").unwrap_or_else(|| "no error message".into())
                    ),
                });
            }
            "error" => return Err(super::stream_error(&OpenAiResponses, PROVIDER, &v)),
            // Every documented event type is `response.*`; those not needed here are ignored.
            kind if kind.starts_with("response.") => {}
            kind => super::skip_unknown_event(PROVIDER, kind, &mut self.skipped),
        }
        Ok(())
    }

    fn skipped_events(&self) -> u64 {
        self.skipped
    }

    fn is_done(&self) -> bool {
        self.done
    }

    fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    fn finish(&mut self) -> StreamMeta {
        StreamMeta {
            id: self.id.take(),
            response_model: self.response_model.take(),
            raw_message: Some(raw_items(&std::mem::take(&mut self.items))),
            raw: std::mem::take(&mut self.raw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(include_thoughts: bool, events: &[&str]) -> Vec<StreamChunk> {
        let mut d = OpenAiResponses.stream_decoder(&DecodeContext {
            provider_id: PROVIDER.into(),
            include_thoughts,
        });
        let mut out = Vec::new();
        for e in events {
            d.event("", e, &mut out).unwrap();
        }
        assert!(d.is_done());
        out
    }

    #[test]
    fn thoughts_only_when_asked_for_and_refusals_win() {
        let events = [
            r#"{"type":"response.reasoning_summary_text.delta","delta":"hm"}"#,
            r#"{"type":"response.reasoning_summary_text.done"}"#,
            r#"{"type":"response.refusal.delta","delta":"No."}"#,
            r#"{"type":"response.refusal.done"}"#,
            r#"{"type":"response.completed","response":{"id":"r","output":[],"usage":{"input_tokens":1,"output_tokens":2}}}"#,
        ];
        let without = run(false, &events);
        assert!(!without
            .iter()
            .any(|c| matches!(c, StreamChunk::ThoughtDelta(_))));
        assert!(without.contains(&StreamChunk::FinishReason(FinishReason::Refusal)));
        let with = run(true, &events);
        assert_eq!(
            &with[..3],
            &[
                StreamChunk::ThoughtStart,
                StreamChunk::ThoughtDelta("hm".into()),
                StreamChunk::ThoughtEnd
            ]
        );

        let body = serde_json::json!({"id": "r", "output": [{"type": "message", "content": [{"type": "refusal", "refusal": "No."}], "status": null}], "incomplete_details": {"reason": "max_output_tokens"}});
        let d = OpenAiResponses
            .decode(
                &DecodeContext {
                    provider_id: PROVIDER.into(),
                    include_thoughts: false,
                },
                body,
            )
            .unwrap();
        assert_eq!(d.finish_reason, Some(FinishReason::Refusal));
        assert_eq!(
            d.raw_message.unwrap()[0].get("status"),
            None,
            "top-level nulls are not re-sent"
        );
    }
}
