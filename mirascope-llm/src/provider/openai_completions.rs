//! OpenAI Chat Completions (`POST {base}/chat/completions`), also spoken by OpenAI-compatible
//! servers (Ollama, Together, xAI, OpenRouter, vLLM, ...).
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

use serde_json::{json, Map, Value};

use super::{
    models, openai_error_class, openai_usage, tool_result_text, DecodeContext, EncodeContext,
    ErrorDetails, StreamDecoder, StreamMeta, WireFormat,
};
use crate::answer::StreamChunk;
use crate::answer::{Decoded, FinishReason};
use crate::content::{AudioSource, DocumentSource, Message, Part};
use crate::error::{Error, ErrorClass, Result};
use crate::format::FormatMode;
use crate::registry::ApiKey;
use crate::tool::{ToolSchema, FORMAT_TOOL_NAME};

pub(crate) struct OpenAiCompletions;

/// A Chat Completions function tool (`_convert_tool_to_tool_param`,
/// openai/completions/_utils/encode.py).
fn function_tool(t: &ToolSchema) -> Value {
    let (params, strict) = super::openai_tool_parameters(t);
    json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": params, "strict": strict}})
}

/// Params a reasoning model does not take (`encode_request`, openai/completions/_utils/encode.py:
/// `unsupported_params`); `top_k` is never sent on this API. (`thinking` is never sent either,
/// but Python reads it, for `encode_thoughts_as_text`, so it is not warned about.)
fn unsupported_params(reasoning: bool) -> &'static [&'static str] {
    if reasoning {
        &["top_k", "temperature", "top_p", "stop_sequences"]
    } else {
        &["top_k"]
    }
}

/// Where `max_tokens` goes: `max_completion_tokens` for reasoning models, `max_tokens` otherwise
/// (`encode_request`, openai/completions/_utils/encode.py).
fn max_tokens_key(reasoning: bool) -> &'static str {
    if reasoning {
        "max_completion_tokens"
    } else {
        "max_tokens"
    }
}

/// A user message, tool outputs as `tool` messages (`_encode_user_message`,
/// openai/completions/_utils/encode.py); `audio_support`: the model's feature (`False`
/// refuses audio inputs).
fn encode_user(
    content: &[Part],
    out: &mut Vec<Value>,
    provider: &str,
    audio_support: Option<bool>,
) -> Result<()> {
    let mut current: Vec<Value> = Vec::new();
    let flush = |current: &mut Vec<Value>, out: &mut Vec<Value>| {
        if current.is_empty() {
            return;
        }
        let parts = std::mem::take(current);
        if let [single] = parts.as_slice() {
            if single["type"] == "text" {
                out.push(json!({"role": "user", "content": single["text"]}));
                return;
            }
        }
        out.push(json!({"role": "user", "content": parts}));
    };
    for part in content {
        match part {
            Part::Text { text } => current.push(json!({"text": text, "type": "text"})),
            Part::Image { source } => {
                let url = super::image_url(source);
                current.push(json!({"type": "image_url", "image_url": {"url": url, "detail": "auto"}}));
            }
            Part::Audio { .. } if audio_support == Some(false) => {
                return Err(Error::unsupported(provider, "audio inputs with this model"));
            }
            Part::Audio { source: AudioSource::Base64 { mime_type, data } } => {
                let format = mime_type.split('/').nth(1).unwrap_or_default();
                let format = if format == "mpeg" { "mp3" } else { format };
                if !matches!(format, "wav" | "mp3") {
                    return Err(Error::unsupported(provider, format!("audio format '{mime_type}' (only wav and mp3)")));
                }
                current.push(json!({"type": "input_audio", "input_audio": {"data": data, "format": format}}));
            }
            Part::Document { source } => match source {
                DocumentSource::Base64 { data, media_type } => current.push(json!({"type": "file", "file": {"filename": "document.pdf", "file_data": format!("data:{media_type};base64,{data}")}})),
                DocumentSource::Text { data, media_type } => current.push(json!({"type": "file", "file": {"filename": "document.txt", "file_data": super::text_document_data_url(media_type, data)}})),
                DocumentSource::Url { .. } => return Err(Error::unsupported(provider, "URL documents with Chat Completions")),
            },
            Part::ToolOutput { id, result, .. } => {
                flush(&mut current, out);
                out.push(json!({"role": "tool", "content": tool_result_text(result), "tool_call_id": id}));
            }
            Part::ToolCall { .. } | Part::Thought { .. } => return Err(Error::InvalidRequest("user messages cannot contain tool calls or thoughts".into())),
        }
    }
    flush(&mut current, out);
    Ok(())
}

/// Whether a raw Chat Completions message calls the format tool: such a message is re-encoded
/// from its content, never re-sent as it came. Follows Mirascope 2.8.2
/// `openai/completions/_utils/encode.py::_raw_message_has_format_tool`.
fn raw_message_has_format_tool(raw: Option<&Value>) -> bool {
    raw.and_then(|r| r.get("tool_calls"))
        .and_then(Value::as_array)
        .is_some_and(|calls| {
            calls.iter().any(|c| {
                c.pointer("/function/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.starts_with(crate::tool::FORMAT_TOOL_NAME))
            })
        })
}

/// An assistant message re-encoded from its parts (`_encode_assistant_message`,
/// openai/completions/_utils/encode.py).
fn encode_assistant(content: &[Part], encode_thoughts: bool) -> Result<Value> {
    let mut texts: Vec<Value> = Vec::new();
    let mut calls: Vec<Value> = Vec::new();
    for part in content {
        match part {
            Part::Text { text } => texts.push(json!({"text": text, "type": "text"})),
            Part::Thought { thought } if encode_thoughts => texts.push(json!({"text": format!("**Thinking:** {thought}"), "type": "text"})),
            Part::Thought { .. } => {}
            Part::ToolCall { id, name, args } => calls.push(json!({"id": id, "type": "function", "function": {"name": name, "arguments": super::nonblank_args(args)}})),
            _ => return Err(Error::InvalidRequest("assistant messages can only contain text, thoughts and tool calls".into())),
        }
    }
    let content = match texts.len() {
        0 => Value::Null,
        1 => texts[0]["text"].clone(),
        _ => Value::Array(texts),
    };
    let mut msg = json!({"role": "assistant", "content": content});
    if !calls.is_empty() {
        msg["tool_calls"] = Value::Array(calls);
    }
    Ok(msg)
}

impl WireFormat for OpenAiCompletions {
    fn path(&self, _model_name: &str, _stream: bool) -> String {
        "/chat/completions".into()
    }

    fn auth_header(&self, key: &ApiKey) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", key.expose()))
    }

    /// `strict` where the model is known to support JSON schema, `tool` otherwise (including
    /// every OpenAI-compatible server): `default_mode = "strict" if strict_supported else "tool"`.
    fn default_format_mode(
        &self,
        provider_id: &str,
        model_name: &str,
        _has_tools: bool,
    ) -> FormatMode {
        if models::completions_features(provider_id, model_name).strict == Some(true) {
            FormatMode::Strict
        } else {
            FormatMode::Tool
        }
    }

    fn dropped_params(&self, provider_id: &str, model_name: &str) -> &'static [&'static str] {
        unsupported_params(
            models::completions_features(provider_id, model_name).reasoning == Some(true),
        )
    }

    fn encode(&self, ctx: &EncodeContext<'_>) -> Result<Value> {
        let mut body = Map::new();
        body.insert("model".into(), json!(ctx.model_name));
        let p = ctx.params;
        let features = models::completions_features(ctx.provider_id, ctx.model_name);
        let reasoning = features.reasoning == Some(true);
        let skipped = unsupported_params(reasoning);
        for (ours, theirs) in [
            ("temperature", "temperature"),
            ("max_tokens", max_tokens_key(reasoning)),
            ("top_p", "top_p"),
            ("seed", "seed"),
            ("stop_sequences", "stop"),
        ] {
            if skipped.contains(&ours) {
                continue;
            }
            if let Some(v) = p.get(ours) {
                body.insert(theirs.into(), v.clone());
            }
        }
        for unsupported in skipped {
            if p.get(unsupported).is_some() {
                // `emit_warning_for_unused_param`, without the value (a stop sequence may be
                // the user's text).
                tracing::warn!(target: "mirascope_llm", "Skipping unsupported parameter: {unsupported} (provider: {})", ctx.provider_id);
            }
        }
        let encode_thoughts = p
            .get_thinking()
            .and_then(|t| t.encode_thoughts_as_text)
            .unwrap_or(false);

        let mut messages = Vec::new();
        for m in ctx.messages {
            match m {
                Message::System(s) => {
                    messages.push(json!({"role": "system", "content": s.content.text}))
                }
                // `_encode_message`: only OpenAI's own messages (`openai`, `openai:completions`)
                // are re-sent raw; an OpenAI-compatible server's are re-encoded.
                Message::Assistant(a)
                    if super::openai_owns(ctx, a, &["openai", "openai:completions"], false)
                        && !encode_thoughts
                        && a.raw_message.is_some()
                        && !raw_message_has_format_tool(a.raw_message.as_ref()) =>
                {
                    messages.extend(a.raw_message.clone())
                }
                Message::Assistant(a) => {
                    messages.push(encode_assistant(&a.content, encode_thoughts)?)
                }
                Message::User(u) => {
                    encode_user(&u.content, &mut messages, ctx.provider_id, features.audio)?
                }
            }
        }
        body.insert("messages".into(), Value::Array(messages));

        // `_convert_tool_to_tool_param`: Chat Completions has no provider tools.
        if ctx.tools.iter().any(|t| t.provider_tool().is_some()) {
            return Err(Error::unsupported(
                ctx.provider_id,
                "WebSearchTool: web search is only available in the OpenAI Responses API \
                 (use a model with the ':responses' suffix)",
            ));
        }
        let mut tools: Vec<Value> = ctx
            .tools
            .iter()
            .map(|t| function_tool(t.schema()))
            .collect();
        if let Some(f) = ctx.format {
            match f.mode {
                FormatMode::Strict => {
                    if features.strict == Some(false) {
                        return Err(Error::unsupported(
                            ctx.provider_id,
                            format!("the strict formatting mode with model {}", ctx.model_id),
                        ));
                    }
                    let schema = super::openai_strict_schema(&f.schema);
                    let mut js = json!({"name": f.name, "schema": schema, "strict": true});
                    if let Some(d) = f.description.as_deref().filter(|d| !d.is_empty()) {
                        js["description"] = json!(d);
                    }
                    body.insert(
                        "response_format".into(),
                        json!({"type": "json_schema", "json_schema": js}),
                    );
                }
                FormatMode::Tool => {
                    if tools.is_empty() {
                        body.insert(
                            "tool_choice".into(),
                            json!({"type": "function", "function": {"name": FORMAT_TOOL_NAME}}),
                        );
                        body.insert("parallel_tool_calls".into(), json!(false));
                    } else {
                        body.insert("tool_choice".into(), json!("required"));
                    }
                    tools.push(function_tool(&f.tool_schema()));
                }
                // `json_object` only where the model is known to take it; otherwise the
                // instructions alone ask for JSON.
                FormatMode::Json if features.json_object == Some(true) => {
                    body.insert("response_format".into(), json!({"type": "json_object"}));
                }
                FormatMode::Json => {}
            }
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        if ctx.stream {
            body.insert("stream".into(), json!(true));
            body.insert("stream_options".into(), json!({"include_usage": true}));
        }
        Ok(Value::Object(body))
    }

    fn decode(&self, ctx: &DecodeContext, body: Value) -> Result<Decoded> {
        let choice = body.pointer("/choices/0").ok_or_else(|| {
            Error::malformed(&ctx.provider_id, "no choices", body.to_string().as_bytes())
        })?;
        let message = &choice["message"];
        let mut content = Vec::new();
        let mut finish_reason = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .and_then(super::completions_finish_reason);
        if let Some(text) = message
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            content.push(Part::text(text));
        }
        if let Some(refusal) = message
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            content.push(Part::text(refusal));
            finish_reason = Some(FinishReason::Refusal);
        }
        for call in message
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            content.push(Part::ToolCall {
                id: call
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                name: call
                    .pointer("/function/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                args: super::nonblank_args(
                    call.pointer("/function/arguments")
                        .and_then(Value::as_str)
                        .unwrap_or_default(),
                ),
            });
        }
        // Mirascope re-sends `message.model_dump(exclude_none=True)`.
        let raw_message = without_nulls(message);
        Ok(Decoded {
            content,
            finish_reason,
            usage: body
                .get("usage")
                .filter(|u| u.is_object())
                .map(|u| openai_usage(&ctx.provider_id, u))
                .transpose()?,
            id: body.get("id").and_then(Value::as_str).map(str::to_string),
            response_model: super::answering_model(&body, "/model"),
            raw_message: Some(raw_message),
            raw: body,
        })
    }

    fn stream_decoder(&self, ctx: &DecodeContext) -> Box<dyn StreamDecoder> {
        Box::new(CompletionsStream {
            provider: ctx.provider_id.as_str().into(),
            ..Default::default()
        })
    }

    fn error_class(
        &self,
        _provider_id: &str,
        status: u16,
        _details: &ErrorDetails,
        _body: &str,
    ) -> ErrorClass {
        openai_error_class(status)
    }
}

/// A JSON value with every null member removed, at any depth.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Chat Completions chunks, closed by `data: [DONE]`.
#[derive(Default)]
struct CompletionsStream {
    provider: std::sync::Arc<str>,
    in_text: bool,
    text: String,
    /// Every tool call of the answer, in order: (slot, id, name, arguments).
    calls: Vec<(i64, String, String, String)>,
    /// The calls started since the last finish, by slot (their position in `calls`).
    current: std::collections::BTreeMap<i64, usize>,
    /// The slot each wire index maps to (see `tool_call_slot`).
    index_slots: std::collections::HashMap<i64, i64>,
    finished: bool,
    done: bool,
    refused: bool,
    id: Option<String>,
    response_model: Option<String>,
    skipped: u64,
}

impl CompletionsStream {
    fn close_open(&mut self, out: &mut Vec<StreamChunk>) {
        if self.in_text {
            out.push(StreamChunk::TextEnd);
            self.in_text = false;
        }
        // Every call open so far ends together, as Python's processor ends them at the finish.
        for (_, at) in std::mem::take(&mut self.current) {
            out.push(StreamChunk::ToolCallEnd {
                id: self.calls[at].1.clone(),
            });
        }
        self.index_slots.clear();
    }

    /// The slot of a streamed tool-call fragment. A provider may reuse one index for several
    /// calls, so an index maps to a new slot when a new id arrives on it; fragments without an
    /// index (Gemini's OpenAI-compatible endpoint) continue the latest call unless a new id
    /// starts another. Follows Mirascope 2.8.2
    /// `openai/completions/_utils/decode.py::_OpenAIChunkProcessor._tool_call_index`.
    fn tool_call_slot(&mut self, index: Option<i64>, id: Option<&str>) -> i64 {
        let latest = self.current.keys().next_back().copied().unwrap_or(-1);
        let id_at = |slot: i64| self.current.get(&slot).map(|&at| self.calls[at].1.as_str());
        match index {
            Some(index) => {
                let slot = match self.index_slots.get(&index) {
                    None if self.current.contains_key(&index) => latest.saturating_add(1),
                    None => index,
                    Some(&mapped)
                        if id.is_some()
                            && self.current.contains_key(&mapped)
                            && id != id_at(mapped) =>
                    {
                        latest.saturating_add(1)
                    }
                    Some(&mapped) => mapped,
                };
                self.index_slots.insert(index, slot);
                slot
            }
            None if latest < 0 => 0,
            None if id.is_some() && id != id_at(latest) => latest.saturating_add(1),
            None => latest,
        }
    }
}

impl StreamDecoder for CompletionsStream {
    fn event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamChunk>) -> Result<()> {
        if data.trim() == "[DONE]" {
            self.close_open(out);
            self.done = true;
            return Ok(());
        }
        const CHUNK: &str = "chat.completion.chunk";
        let provider = self.provider.clone();
        let p: &str = &provider;
        let v = super::parse_event(p, data)?;
        super::event_object(p, CHUNK, &v)?;
        if v.get("error").is_some() {
            return Err(super::stream_error(&OpenAiCompletions, p, &v));
        }
        // Every chunk carries `choices` (possibly empty) or, last, `usage`: anything else is a
        // shape this wire format does not document, skipped and counted.
        let choices = super::event_opt_array(p, CHUNK, &v, "/choices")?;
        let usage = super::event_opt_object(p, CHUNK, &v, "/usage")?;
        if choices.is_none() && usage.is_none() {
            super::skip_unknown_event(p, "(a chunk without choices or usage)", &mut self.skipped);
            return Ok(());
        }
        if self.id.is_none() {
            self.id = super::event_opt_str(p, CHUNK, &v, "/id")?.map(str::to_string);
        }
        if self.response_model.is_none() {
            self.response_model = super::answering_model(&v, "/model");
        }
        if let Some(choice) = choices.and_then(|c| c.first()) {
            if !choice.is_object() {
                super::event_opt_object(p, CHUNK, &v, "/choices/0")?;
            }
            super::event_opt_object(p, CHUNK, &v, "/choices/0/delta")?;
            let refusal = super::event_opt_str(p, CHUNK, &v, "/choices/0/delta/refusal")?
                .filter(|t| !t.is_empty());
            self.refused |= refusal.is_some();
            if let Some(text) = super::event_opt_str(p, CHUNK, &v, "/choices/0/delta/content")?
                .filter(|t| !t.is_empty())
                .or(refusal)
            {
                if !self.in_text {
                    self.close_open(out);
                    out.push(StreamChunk::TextStart);
                    self.in_text = true;
                }
                self.text.push_str(text);
                out.push(StreamChunk::TextDelta(text.to_string()));
            }
            for call in super::event_opt_array(p, CHUNK, &v, "/choices/0/delta/tool_calls")?
                .into_iter()
                .flatten()
            {
                super::event_object(p, CHUNK, call)?;
                if self.in_text {
                    out.push(StreamChunk::TextEnd);
                    self.in_text = false;
                }
                let index = super::event_opt_i64(p, CHUNK, call, "/index")?;
                // An empty id is no id (Python tests the id's truthiness).
                let id = super::event_opt_str(p, CHUNK, call, "/id")?.filter(|i| !i.is_empty());
                let slot = self.tool_call_slot(index, id);
                if !self.current.contains_key(&slot) {
                    let name = super::event_opt_str(p, CHUNK, call, "/function/name")?
                        .filter(|n| !n.is_empty());
                    let (Some(id), Some(name)) = (id, name) else {
                        return Err(crate::Error::malformed(
                            p,
                            format!(
                                "stream event {CHUNK:?}: the tool call at index {} starts without {}",
                                index.unwrap_or(slot),
                                if id.is_none() { "an id" } else { "a name" }
                            ),
                            data.as_bytes(),
                        ));
                    };
                    out.push(StreamChunk::ToolCallStart {
                        id: id.to_string(),
                        name: name.to_string(),
                    });
                    self.current.insert(slot, self.calls.len());
                    self.calls
                        .push((slot, id.to_string(), name.to_string(), String::new()));
                }
                if let Some(args) = super::event_opt_str(p, CHUNK, call, "/function/arguments")?
                    .filter(|a| !a.is_empty())
                {
                    if let Some(&at) = self.current.get(&slot) {
                        let c = &mut self.calls[at];
                        c.3.push_str(args);
                        out.push(StreamChunk::ToolCallDelta {
                            id: c.1.clone(),
                            delta: args.to_string(),
                        });
                    }
                }
            }
            if let Some(reason) = super::event_opt_str(p, CHUNK, choice, "/finish_reason")? {
                self.close_open(out);
                self.finished = true;
                let r = if self.refused {
                    Some(FinishReason::Refusal)
                } else {
                    super::completions_finish_reason(reason)
                };
                if let Some(r) = r {
                    out.push(StreamChunk::FinishReason(r));
                }
            }
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            out.push(StreamChunk::UsageDelta(openai_usage(p, u)?));
        }
        Ok(())
    }

    fn is_done(&self) -> bool {
        self.done || self.finished
    }

    fn skipped_events(&self) -> u64 {
        self.skipped
    }

    fn response_model(&self) -> Option<&str> {
        self.response_model.as_deref()
    }

    /// No raw message: `decode_stream` (openai/completions/_utils/decode.py) emits no
    /// `RawMessageChunk`, so a streamed answer is re-encoded from its content when the
    /// conversation goes on (blank arguments then become `{}`).
    fn finish(&mut self) -> StreamMeta {
        StreamMeta {
            id: self.id.take(),
            response_model: self.response_model.take(),
            raw_message: None,
            raw: Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_raw_message_as_mirascope() {
        let ctx = DecodeContext {
            provider_id: "openai".into(),
            include_thoughts: false,
        };
        let body = serde_json::json!({"id": "c", "choices": [{"message": {"role": "assistant", "content": "", "refusal": "I can't.", "annotations": [], "audio": null}, "finish_reason": "stop"}]});
        let d = OpenAiCompletions.decode(&ctx, body).unwrap();
        assert_eq!(d.content, vec![Part::text("I can't.")]);
        assert_eq!(d.finish_reason, Some(FinishReason::Refusal));
        assert_eq!(
            d.raw_message.unwrap(),
            serde_json::json!({"role": "assistant", "content": "", "refusal": "I can't.", "annotations": []})
        );

        let mut s = OpenAiCompletions.stream_decoder(&ctx);
        let mut out = Vec::new();
        s.event(
            "",
            r#"{"choices":[{"index":0,"delta":{"refusal":"No"},"finish_reason":null}]}"#,
            &mut out,
        )
        .unwrap();
        s.event(
            "",
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                StreamChunk::TextStart,
                StreamChunk::TextDelta("No".into()),
                StreamChunk::TextEnd,
                StreamChunk::FinishReason(FinishReason::Refusal)
            ]
        );
    }
}

#[cfg(test)]
mod tool_slot_tests {
    use super::*;

    fn run(chunks: &[Value]) -> Vec<StreamChunk> {
        let mut d = OpenAiCompletions.stream_decoder(&DecodeContext {
            provider_id: "openai".into(),
            include_thoughts: false,
        });
        let mut out = Vec::new();
        for c in chunks {
            d.event("", &c.to_string(), &mut out).expect("decodes");
        }
        out
    }

    fn calls(chunk: Value) -> Value {
        json!({"choices": [{"index": 0, "delta": {"tool_calls": chunk}}]})
    }

    fn args_by_id(out: &[StreamChunk]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = Vec::new();
        for c in out {
            match c {
                StreamChunk::ToolCallStart { id, .. } => v.push((id.clone(), String::new())),
                StreamChunk::ToolCallDelta { id, delta } => v
                    .iter_mut()
                    .find(|(i, _)| i == id)
                    .expect("started")
                    .1
                    .push_str(delta),
                _ => {}
            }
        }
        v
    }

    /// An index reused with a new id starts a new call; fragments with no index continue the
    /// latest call (2.8.2 `_OpenAIChunkProcessor._tool_call_index`).
    #[test]
    fn a_reused_index_with_a_new_id_starts_a_new_call() {
        let finish = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]});
        let out = run(&[
            calls(
                json!([{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{\"x\":"}}]),
            ),
            calls(json!([{"index": 0, "function": {"arguments": "1}"}}])),
            calls(json!([{"index": 0, "id": "b", "function": {"name": "g", "arguments": "{}"}}])),
            finish.clone(),
        ]);
        assert_eq!(
            args_by_id(&out),
            vec![("a".into(), "{\"x\":1}".into()), ("b".into(), "{}".into())]
        );
        let ends = out
            .iter()
            .filter(|c| matches!(c, StreamChunk::ToolCallEnd { .. }))
            .count();
        assert_eq!(ends, 2);

        let out = run(&[
            calls(json!([{"id": "a", "function": {"name": "f", "arguments": "{"}}])),
            calls(json!([{"function": {"arguments": "}"}}])),
            calls(json!([{"id": "b", "function": {"name": "g", "arguments": "{}"}}])),
            finish,
        ]);
        assert_eq!(
            args_by_id(&out),
            vec![("a".into(), "{}".into()), ("b".into(), "{}".into())]
        );
    }
}
