//! Providers: one module per wire format, all sharing the HTTP/SSE plumbing in [`http`].
//!
//! A wire format knows four things: the request path and auth header, how to encode a
//! [`EncodeContext`] into its JSON body, how to decode its answer (whole or as SSE events) into
//! the common [`Decoded`]/[`StreamChunk`] types, and how to read its error bodies. Everything
//! else (sending, retries, timeouts, SSE framing, error mapping) lives once in `http.rs`.
//!
//! Layer: wire (the crate docs list the layers: data, wire, call, observation).

pub(crate) mod anthropic;
pub(crate) mod anthropic_schema;
pub(crate) mod google;
pub(crate) mod google_schema;
pub(crate) mod http;
pub(crate) mod models;
pub(crate) mod openai_completions;
pub(crate) mod openai_responses;
pub(crate) mod ranges;
pub(crate) mod retry;
pub(crate) mod sse;

use serde_json::Value;

use crate::answer::StreamChunk;
use crate::answer::{Decoded, FinishReason, Usage};
use crate::content::Message;
use crate::error::{Error, ErrorClass, Result};
use crate::format::{FormatMode, ResolvedFormat};
use crate::params::Params;
use crate::registry::{Api, ApiKey};
use crate::tool::Tool;

/// What a wire format needs to encode one request.
#[derive(Debug)]
pub(crate) struct EncodeContext<'a> {
    pub provider_id: &'a str,
    /// The provider id this call's responses carry (see `Resolved::response_provider_id`).
    pub response_provider_id: &'a str,
    pub model_id: &'a str,
    pub model_name: &'a str,
    /// The messages with formatting instructions applied.
    pub messages: &'a [Message],
    pub tools: &'a [Tool],
    pub format: Option<&'a ResolvedFormat>,
    pub params: &'a Params,
    pub stream: bool,
}

impl EncodeContext<'_> {
    /// Whether an assistant message came from this provider and model, so that its raw
    /// encoding can be re-sent as is.
    pub fn is_own(&self, m: &crate::content::AssistantMessage) -> bool {
        m.provider_id.as_deref() == Some(self.response_provider_id)
            && m.model_id.as_deref() == Some(self.model_id)
    }
}

/// Whether an assistant message is OpenAI's own answer on this API, so that its raw encoding may
/// be re-sent (`_encode_message` of both OpenAI encoders): its provider is one of `providers`,
/// and its provider model name (the model's name with the API, `gpt-4o:responses`) is this
/// call's. The API shows in the raw message's shape (Responses: a list of items; Chat
/// Completions: one message object), so a conversation that changes API (audio sends a call to
/// Chat Completions) re-encodes the other API's answers.
pub(crate) fn openai_owns(
    ctx: &EncodeContext<'_>,
    m: &crate::content::AssistantMessage,
    providers: &[&str],
    responses_api: bool,
) -> bool {
    /// `openai/model_id.py::model_name` without the API: the second segment, no suffix.
    fn base(model_id: &str) -> &str {
        let name = model_id.split('/').nth(1).unwrap_or(model_id);
        name.strip_suffix(":responses")
            .or_else(|| name.strip_suffix(":completions"))
            .unwrap_or(name)
    }
    let same_api = match &m.raw_message {
        Some(Value::Array(_)) => responses_api,
        Some(Value::Object(_)) => !responses_api,
        _ => false,
    };
    same_api
        && m.provider_id
            .as_deref()
            .is_some_and(|p| providers.contains(&p))
        && m.model_id
            .as_deref()
            .is_some_and(|id| base(id) == base(ctx.model_id))
}

/// What a wire format needs to decode an answer.
#[derive(Debug, Clone)]
pub(crate) struct DecodeContext {
    pub provider_id: String,
    /// Whether thoughts belong in the content (`thinking.include_thoughts`).
    pub include_thoughts: bool,
}

/// The error details a provider puts in its error bodies.
#[derive(Debug, Default)]
pub(crate) struct ErrorDetails {
    pub error_type: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Turns SSE events into chunks, keeping what the final response needs.
pub(crate) trait StreamDecoder: Send {
    /// Handles one event (`event` is the SSE event name, often empty).
    fn event(&mut self, event: &str, data: &str, out: &mut Vec<StreamChunk>) -> Result<()>;
    /// Whether the provider said the answer is complete.
    fn is_done(&self) -> bool;
    /// The response id, the raw assistant message and the raw final object, once done.
    fn finish(&mut self) -> StreamMeta;
    /// The model the provider named so far (kept on the span of a failed or dropped stream).
    fn response_model(&self) -> Option<&str>;
    /// How many events of a type the wire format does not document were skipped.
    fn skipped_events(&self) -> u64 {
        0
    }
}

/// Counts and logs (at debug level) an event of an undocumented type: providers add event types,
/// so one is skipped, never an error, but never silently either.
pub(crate) fn skip_unknown_event(provider: &str, kind: &str, skipped: &mut u64) {
    *skipped += 1;
    tracing::debug!(
        target: "mirascope_llm",
        provider,
        event = kind,
        skipped = *skipped,
        "skipping a stream event of an unknown type"
    );
}

/// What a failed or dropped stream's partial response keeps of its metadata: the model that
/// answered, when the provider named it before the stream broke.
pub(crate) fn partial_meta(decoder: &dyn StreamDecoder) -> StreamMeta {
    StreamMeta {
        response_model: decoder.response_model().map(str::to_string),
        ..StreamMeta::default()
    }
}

/// The characters a model name may not carry raw into a URL path: controls, space, and what
/// would end the path (`?`, `#`) or change its meaning (`%`, `\\`, quotes, brackets). `/` and `:`
/// stay, as model names use them (`tunedModels/x`).
const PATH_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\\')
    .add(b'^')
    .add(b'|');

/// A model name as it goes into a URL path (Google's `/v1beta/models/{name}:generateContent`):
/// percent-encoded, so `gemini?key=x#frag` stays in the path and adds no query or fragment.
pub(crate) fn model_path_segment(name: &str) -> std::borrow::Cow<'_, str> {
    percent_encoding::utf8_percent_encode(name, PATH_UNSAFE).into()
}

/// The model that answered, as the provider names it in its answer (OpenAI and Anthropic:
/// `model`, e.g. `gpt-4o-mini-2024-07-18`; Google: `modelVersion`), at `pointer` in `v`. This is
/// what the GenAI conventions define as `gen_ai.response.model`.
pub(crate) fn answering_model(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// What a stream leaves besides its chunks.
#[derive(Debug, Default, Clone)]
pub(crate) struct StreamMeta {
    pub id: Option<String>,
    /// The model that answered, as the provider named it (see [`answering_model`]).
    pub response_model: Option<String>,
    pub raw_message: Option<Value>,
    pub raw: Value,
}

/// One wire format.
pub(crate) trait WireFormat: Sync {
    /// The request path below the base URL.
    fn path(&self, model_name: &str, stream: bool) -> String;
    /// The auth header.
    fn auth_header(&self, key: &ApiKey) -> (&'static str, String);
    /// Fixed headers (API versions).
    fn fixed_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Params this API drops (with a warning) for the model instead of sending them: their
    /// range is not checked, since they never reach the provider.
    fn dropped_params(&self, _provider_id: &str, _model_name: &str) -> &'static [&'static str] {
        &[]
    }
    /// The format mode used when the user names none, for this provider and model.
    fn default_format_mode(
        &self,
        provider_id: &str,
        model_name: &str,
        has_tools: bool,
    ) -> FormatMode;
    /// How often a failed request is retried by default (what the provider's official SDK does).
    fn default_retries(&self) -> usize {
        2
    }
    /// Whether the provider's Python SDK sends a stream's request only when the stream is first
    /// read (anthropic's `messages.stream` and google-genai's `generate_content_stream` hand a
    /// lazy stream to Mirascope; openai's `create(stream=True)` sends at once). A request that
    /// fails then fails inside Mirascope's stream, whose span records the empty response.
    fn stream_opens_on_first_read(&self) -> bool {
        false
    }
    /// A query string for this call's URL (`?beta=true` for Anthropic's beta API), or `""`.
    fn query(&self, _ctx: &EncodeContext<'_>) -> &'static str {
        ""
    }
    /// Headers this call needs beyond [`WireFormat::fixed_headers`] (beta flags).
    fn variant_headers(&self, _ctx: &EncodeContext<'_>) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The JSON body.
    fn encode(&self, ctx: &EncodeContext<'_>) -> Result<Value>;
    /// Decodes a whole answer.
    fn decode(&self, ctx: &DecodeContext, body: Value) -> Result<Decoded>;
    /// A decoder for a streamed answer.
    fn stream_decoder(&self, ctx: &DecodeContext) -> Box<dyn StreamDecoder>;
    /// Mirascope's class for an HTTP error of this provider: its status, its parsed details and
    /// its body text (each provider's `_utils/errors.py` map).
    fn error_class(
        &self,
        provider_id: &str,
        status: u16,
        details: &ErrorDetails,
        body: &str,
    ) -> ErrorClass;
    /// Reads an error body.
    fn error_details(&self, body: &Value) -> ErrorDetails {
        let err = body.get("error").unwrap_or(body);
        ErrorDetails {
            error_type: err.get("type").and_then(Value::as_str).map(str::to_string),
            code: err.get("code").and_then(|c| {
                c.as_str()
                    .map(str::to_string)
                    .or_else(|| c.as_i64().map(|n| n.to_string()))
            }),
            message: err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

/// The wire format of an API.
pub(crate) fn wire(api: Api) -> &'static dyn WireFormat {
    match api {
        Api::OpenAiResponses => &openai_responses::OpenAiResponses,
        Api::OpenAiCompletions => &openai_completions::OpenAiCompletions,
        Api::Anthropic => &anthropic::ANTHROPIC,
        Api::AnthropicBeta => &anthropic::ANTHROPIC_BETA,
        Api::Google => &google::Google,
    }
}

/// The error classes of the OpenAI SDK's status mapping (shared by both OpenAI APIs and every
/// OpenAI-compatible server): `OPENAI_ERROR_MAP` (openai/_utils/errors.py), by the status the
/// openai SDK maps to each of its exception classes. The Responses provider adds one rule of its
/// own ([`openai_responses`]'s `error_class`).
pub(crate) fn openai_error_class(status: u16) -> ErrorClass {
    match status {
        400 | 409 | 422 => ErrorClass::BadRequest,
        401 => ErrorClass::Authentication,
        403 => ErrorClass::Permission,
        404 => ErrorClass::NotFound,
        429 => ErrorClass::RateLimit,
        s if s >= 500 => ErrorClass::Server,
        _ => ErrorClass::Provider,
    }
}

/// The error a provider reported inside a stream, read with its wire format's error parser.
pub(crate) fn stream_error(wire: &dyn WireFormat, provider: &str, body: &Value) -> crate::Error {
    let d = wire.error_details(body);
    crate::Error::Stream {
        provider: provider.to_string(),
        error_type: d.error_type.or(d.code),
        message: d
            .message
            .unwrap_or_else(|| "the provider reported a stream error".to_string()),
    }
}

/// One SSE event's JSON data.
pub(crate) fn parse_event(provider: &str, data: &str) -> crate::Result<Value> {
    serde_json::from_str(data).map_err(|e| {
        crate::Error::malformed(
            provider,
            format!("stream event is not JSON: {e}"),
            data.as_bytes(),
        )
    })
}

/// The URL OpenAI's APIs take for an image: the URL, or a base64 `data:` URL.
pub(crate) fn image_url(source: &crate::content::ImageSource) -> String {
    match source {
        crate::content::ImageSource::Url { url } => url.clone(),
        crate::content::ImageSource::Base64 { mime_type, data } => {
            format!("data:{mime_type};base64,{data}")
        }
    }
}

/// The array `key` of an answer, or a malformed-response error naming it.
pub(crate) fn required_array<'a>(
    provider: &str,
    body: &'a Value,
    key: &str,
) -> crate::Result<&'a Vec<Value>> {
    body.get(key).and_then(Value::as_array).ok_or_else(|| {
        crate::Error::malformed(
            provider,
            format!("no `{key}` array"),
            body.to_string().as_bytes(),
        )
    })
}

/// A token count (or another count) read from a provider's answer at `path`. Absent or `null`
/// is 0; a non-negative integer up to `i64::MAX` is itself; anything else (negative, above
/// `i64::MAX`, a float, a string, a bool) is a `MalformedResponse` naming the field. Never panics
/// and never wraps. The bound is [`Usage::MAX_TOKENS`]: OpenTelemetry attributes are `i64`, so
/// every decoded count can be recorded as it is.
pub(crate) fn count(provider: &str, v: &Value, path: &[&str]) -> Result<u64> {
    let mut cur = v;
    for k in path {
        match cur.get(k) {
            Some(next) => cur = next,
            None => return Ok(0),
        }
    }
    match cur {
        Value::Null => Ok(0),
        Value::Number(n) => match n.as_u64() {
            Some(i) if i <= Usage::MAX_TOKENS => Ok(i),
            _ => Err(bad_count(provider, path, cur)),
        },
        _ => Err(bad_count(provider, path, cur)),
    }
}

fn bad_count(provider: &str, path: &[&str], value: &Value) -> Error {
    Error::malformed(
        provider,
        format!(
            "`{}` is not a token count (a non-negative integer): {value}",
            path.join(".")
        ),
        b"",
    )
}

/// The sum of counts, a `MalformedResponse` naming `field` when it exceeds [`Usage::MAX_TOKENS`].
pub(crate) fn count_sum(provider: &str, field: &str, parts: &[u64]) -> Result<u64> {
    parts
        .iter()
        .try_fold(0u64, |acc, p| acc.checked_add(*p))
        .filter(|sum| *sum <= Usage::MAX_TOKENS)
        .ok_or_else(|| {
            Error::malformed(
                provider,
                format!("`{field}` overflows a token count: {parts:?}"),
                b"",
            )
        })
}

/// Appends `s` to the string at `key` of a JSON object in place (creating it when absent or not a
/// string): amortized O(1) per streamed piece, so building a raw message from n chunks is linear.
/// Anything but an object is left alone (indexing one would panic).
pub(crate) fn append_str(v: &mut Value, key: &str, s: &str) {
    if let Value::Object(map) = v {
        match map.get_mut(key) {
            Some(Value::String(prev)) => prev.push_str(s),
            _ => {
                map.insert(key.to_string(), Value::String(s.to_string()));
            }
        }
    }
}

/// What a provider's cumulative usage report adds to what was already counted: each count's
/// growth, never negative (a count that goes down adds nothing). Google streams cumulative usage
/// in every chunk; Anthropic in `message_start` and again in `message_delta`.
pub(crate) fn usage_growth(total: &Usage, counted: &Usage) -> Usage {
    let grew = |now: u64, before: u64| now.saturating_sub(before);
    Usage {
        input_tokens: grew(total.input_tokens, counted.input_tokens),
        output_tokens: grew(total.output_tokens, counted.output_tokens),
        cache_read_tokens: grew(total.cache_read_tokens, counted.cache_read_tokens),
        cache_write_tokens: grew(total.cache_write_tokens, counted.cache_write_tokens),
        reasoning_tokens: grew(total.reasoning_tokens, counted.reasoning_tokens),
    }
}

/// Usage from OpenAI's shapes (`input_tokens`/`prompt_tokens`, `*_details`).
pub(crate) fn openai_usage(provider: &str, u: &Value) -> Result<Usage> {
    let (input_key, output_key, in_details, out_details) = if u.get("prompt_tokens").is_some() {
        (
            "prompt_tokens",
            "completion_tokens",
            "prompt_tokens_details",
            "completion_tokens_details",
        )
    } else {
        (
            "input_tokens",
            "output_tokens",
            "input_tokens_details",
            "output_tokens_details",
        )
    };
    Ok(Usage {
        input_tokens: count(provider, u, &[input_key])?,
        output_tokens: count(provider, u, &[output_key])?,
        cache_read_tokens: count(provider, u, &[in_details, "cached_tokens"])?,
        cache_write_tokens: 0,
        reasoning_tokens: count(provider, u, &[out_details, "reasoning_tokens"])?,
    })
}

/// The text sent for a tool's result (OpenAI Chat Completions and Responses, Anthropic):
/// strings as they are, anything else as Python's `json.dumps` writes it. Follows Mirascope
/// 2.8.2 `llm/providers/base/_utils.py::encode_tool_output_content` (2.5.0 sent `str(result)`,
/// a Python repr).
pub(crate) fn tool_result_text(result: &Value) -> String {
    match result {
        Value::String(s) => s.clone(),
        other => crate::pyrepr::py_json_dumps(other),
    }
}

/// A tool call's arguments as Mirascope records them: blank ones (`""`, spaces) are `"{}"`.
/// Follows Mirascope 2.8.2 `openai/completions/_utils/decode.py::decode_response` and
/// `openai/responses/_utils/decode.py::decode_response`
/// (`arguments if arguments and arguments.strip() else "{}"`).
pub(crate) fn nonblank_args(args: &str) -> String {
    if args.trim().is_empty() {
        "{}".to_string()
    } else {
        args.to_string()
    }
}

/// Parses tool-call arguments, which must be JSON.
pub(crate) fn parse_args(tool: &str, args: &str) -> Result<Value> {
    if args.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(args).map_err(|e| {
        crate::Error::InvalidRequest(format!(
            "arguments of tool call '{tool}' are not JSON ({e}): {args}"
        ))
    })
}

/// A text document as both OpenAI encoders send it (`_encode_document`, openai/completions and
/// openai/responses `_utils/encode.py`): the UTF-8 text base64-encoded into a data URL, as a
/// file named `document.txt`.
pub(crate) fn text_document_data_url(media_type: &str, text: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("data:{media_type};base64,{encoded}")
}

/// Chat Completions' `finish_reason`: `OPENAI_FINISH_REASON_MAP`
/// (openai/completions/_utils/decode.py). Anything else (`stop`, `tool_calls`, an
/// OpenAI-compatible server's own values) is a normal finish.
pub(crate) fn completions_finish_reason(value: &str) -> Option<FinishReason> {
    match value {
        "length" => Some(FinishReason::MaxTokens),
        "content_filter" => Some(FinishReason::Refusal),
        _ => None,
    }
}

/// The Responses API's `incomplete_details.reason`: `INCOMPLETE_DETAILS_TO_FINISH_REASON`
/// (openai/responses/_utils/decode.py).
pub(crate) fn responses_finish_reason(value: &str) -> Option<FinishReason> {
    match value {
        "max_output_tokens" => Some(FinishReason::MaxTokens),
        "content_filter" => Some(FinishReason::Refusal),
        _ => None,
    }
}

/// Anthropic's `stop_reason`: `ANTHROPIC_FINISH_REASON_MAP` (anthropic/_utils/decode.py).
pub(crate) fn anthropic_finish_reason(value: &str) -> Option<FinishReason> {
    match value {
        "max_tokens" => Some(FinishReason::MaxTokens),
        "refusal" => Some(FinishReason::Refusal),
        "model_context_window_exceeded" => Some(FinishReason::ContextLengthExceeded),
        _ => None,
    }
}

/// Google's `finishReason`: `GOOGLE_FINISH_REASON_MAP` (google/_utils/decode.py).
pub(crate) fn google_finish_reason(value: &str) -> Option<FinishReason> {
    match value {
        "MAX_TOKENS" => Some(FinishReason::MaxTokens),
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => Some(FinishReason::Refusal),
        _ => None,
    }
}

/// An OpenAI function tool's `(parameters, strict)`: strict unless the tool says otherwise, and a
/// strict schema lists every property as required.
///
/// Follows `_convert_tool_to_tool_param` of both OpenAI encoders (openai/completions/_utils/encode.py
/// and openai/responses/_utils/encode.py): `strict = True if tool.strict is None else tool.strict`,
/// `ensure_additional_properties_false`, and `ensure_all_properties_required` when strict.
pub(crate) fn openai_tool_parameters(t: &crate::tool::ToolSchema) -> (Value, bool) {
    let mut params = t.parameters.to_wire_json();
    crate::format::ensure_additional_properties_false(&mut params);
    let strict = t.strict.unwrap_or(true);
    if strict {
        crate::format::ensure_all_properties_required(&mut params);
    }
    (params, strict)
}

/// The schema of an OpenAI strict output format: `additionalProperties: false` and every property
/// required, at every level (`_create_strict_response_format` of both OpenAI encoders).
pub(crate) fn openai_strict_schema(schema: &Value) -> Value {
    let mut schema = schema.clone();
    crate::format::ensure_additional_properties_false(&mut schema);
    crate::format::ensure_all_properties_required(&mut schema);
    schema
}

/// A string a stream event must carry (a text, thought or argument delta). Missing, `null` or of
/// another type, it is a `MalformedResponse` naming the event and the field: dropping it would
/// lose part of the answer without a trace.
pub(crate) fn event_str<'a>(
    provider: &str,
    event: &str,
    v: &'a Value,
    pointer: &str,
) -> crate::Result<&'a str> {
    match v.pointer(pointer) {
        Some(Value::String(s)) => Ok(s),
        other => Err(crate::Error::malformed(
            provider,
            format!(
                "stream event {event:?}: `{}` must be a string, got {}",
                pointer.trim_start_matches('/'),
                json_kind(other)
            ),
            v.to_string().as_bytes(),
        )),
    }
}

/// A string a stream event may carry: absent or `null` is `None`; another type is a
/// `MalformedResponse` naming the event and the field.
pub(crate) fn event_opt_str<'a>(
    provider: &str,
    event: &str,
    v: &'a Value,
    pointer: &str,
) -> crate::Result<Option<&'a str>> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => event_str(provider, event, v, pointer).map(Some),
    }
}

/// The value at `pointer`, which may be absent or `null` (`None`), or must be of the kind `ok`
/// accepts; another kind is a `MalformedResponse` naming the event and the field.
fn event_opt<'a, T>(
    provider: &str,
    event: &str,
    v: &'a Value,
    pointer: &str,
    expected: &str,
    ok: impl FnOnce(&'a Value) -> Option<T>,
) -> crate::Result<Option<T>> {
    match v.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(found) => ok(found).map(Some).ok_or_else(|| {
            crate::Error::malformed(
                provider,
                format!(
                    "stream event {event:?}: `{}` must be {expected}, got {}",
                    pointer.trim_start_matches('/'),
                    json_kind(Some(found))
                ),
                v.to_string().as_bytes(),
            )
        }),
    }
}

/// An array a stream event may carry (absent or `null`: `None`).
pub(crate) fn event_opt_array<'a>(
    provider: &str,
    event: &str,
    v: &'a Value,
    pointer: &str,
) -> crate::Result<Option<&'a Vec<Value>>> {
    event_opt(provider, event, v, pointer, "an array", Value::as_array)
}

/// An object a stream event may carry (absent or `null`: `None`).
pub(crate) fn event_opt_object<'a>(
    provider: &str,
    event: &str,
    v: &'a Value,
    pointer: &str,
) -> crate::Result<Option<&'a serde_json::Map<String, Value>>> {
    event_opt(provider, event, v, pointer, "an object", Value::as_object)
}

/// An integer a stream event may carry (absent or `null`: `None`).
pub(crate) fn event_opt_i64(
    provider: &str,
    event: &str,
    v: &Value,
    pointer: &str,
) -> crate::Result<Option<i64>> {
    event_opt(provider, event, v, pointer, "an integer", Value::as_i64)
}

/// A stream event's JSON must be an object.
pub(crate) fn event_object(provider: &str, event: &str, v: &Value) -> crate::Result<()> {
    if v.is_object() {
        return Ok(());
    }
    Err(crate::Error::malformed(
        provider,
        format!(
            "stream event {event:?} must be a JSON object, got {}",
            json_kind(Some(v))
        ),
        v.to_string().as_bytes(),
    ))
}

fn json_kind(v: Option<&Value>) -> &'static str {
    match v {
        None => "nothing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "an array",
        Some(Value::Object(_)) => "an object",
    }
}

#[cfg(test)]
mod strict_stream_tests {
    use super::*;

    fn decoder(api: Api) -> Box<dyn StreamDecoder> {
        wire(api).stream_decoder(&DecodeContext {
            provider_id: "p".into(),
            include_thoughts: true,
        })
    }

    fn feed(api: Api, events: &[&str]) -> (crate::Result<()>, u64) {
        let mut d = decoder(api);
        let mut out = Vec::new();
        for e in events {
            if let Err(err) = d.event("", e, &mut out) {
                return (Err(err), d.skipped_events());
            }
        }
        (Ok(()), d.skipped_events())
    }

    /// A documented field of the wrong type ends a stream with a `MalformedResponse` naming it,
    /// on every wire format; an event of a shape the format does not document is skipped and
    /// counted, never silently.
    #[test]
    fn wrong_shapes_fail_and_unknown_shapes_are_counted() {
        let wrong: &[(Api, &str, &str)] = &[
            (Api::OpenAiCompletions, "[1, 2]", "JSON object"),
            (
                Api::OpenAiCompletions,
                r#"{"choices": {"0": 1}}"#,
                "choices",
            ),
            (
                Api::OpenAiCompletions,
                r#"{"choices": [{"delta": {"content": 5}}]}"#,
                "content",
            ),
            (
                Api::OpenAiCompletions,
                r#"{"choices": [{"delta": {"tool_calls": {}}}]}"#,
                "tool_calls",
            ),
            (
                Api::OpenAiCompletions,
                r#"{"choices": [{"delta": {"tool_calls": [{"index": "0", "id": "c"}]}}]}"#,
                "index",
            ),
            (
                Api::OpenAiCompletions,
                r#"{"choices": [{"delta": {"tool_calls": [{"index": 0, "id": 7}]}}]}"#,
                "id",
            ),
            (
                Api::OpenAiCompletions,
                r#"{"choices": [{"delta": {}, "finish_reason": 1}]}"#,
                "finish_reason",
            ),
            (Api::Google, "\"text\"", "JSON object"),
            (Api::Google, r#"{"candidates": {"a": 1}}"#, "candidates"),
            (
                Api::Google,
                r#"{"candidates": [{"content": {"parts": "hi"}}]}"#,
                "parts",
            ),
            (
                Api::Google,
                r#"{"candidates": [{"finishReason": 3}]}"#,
                "finishReason",
            ),
            (Api::Anthropic, "5", "JSON object"),
            (Api::Anthropic, r#"{"type": 5}"#, "type"),
            (
                Api::Anthropic,
                r#"{"type": "content_block_start", "content_block": {"type": "tool_use", "id": 1, "name": "f"}}"#,
                "id",
            ),
            (
                Api::Anthropic,
                r#"{"type": "content_block_start", "content_block": {"type": 9}}"#,
                "type",
            ),
            (
                Api::Anthropic,
                r#"{"type": "message_delta", "delta": {"stop_reason": 1}, "usage": {}}"#,
                "stop_reason",
            ),
            (
                Api::OpenAiResponses,
                r#"{"type": "response.output_text.delta", "delta": 1}"#,
                "delta",
            ),
        ];
        for (api, event, field) in wrong {
            let (result, _) = feed(*api, &[event]);
            match result {
                Err(crate::Error::MalformedResponse { reason, .. }) => {
                    assert!(reason.contains(field), "{api:?} {event}: {reason}")
                }
                other => panic!("{api:?} {event}: expected MalformedResponse, got {other:?}"),
            }
        }
        let unknown: &[(Api, &[&str])] = &[
            (
                Api::OpenAiCompletions,
                &[r#"{"id": "x", "object": "something.else"}"#],
            ),
            (Api::Google, &[r#"{"weird": true}"#]),
            (Api::Anthropic, &[r#"{"type": "brand_new_event"}"#]),
            (
                Api::Anthropic,
                &[
                    r#"{"type": "content_block_start", "content_block": {"type": "text", "text": ""}}"#,
                    r#"{"type": "content_block_delta", "delta": {"type": "brand_new_delta"}}"#,
                ],
            ),
            (Api::OpenAiResponses, &[r#"{"type": "brand.new"}"#]),
        ];
        for (api, events) in unknown {
            let (result, skipped) = feed(*api, events);
            assert!(result.is_ok(), "{api:?} {events:?}: {result:?}");
            assert_eq!(skipped, 1, "{api:?} {events:?}: counted");
        }
    }
}

/// Rules of the 2.8.2 release that differ from the 2.5.0 source the port first followed, each
/// against the function it follows (the fidelity issue's list).
#[cfg(test)]
mod release_2_8_2_tests {
    use super::*;
    use crate::content::{AssistantMessage, Message, UserMessage};
    use serde_json::json;

    fn ctx() -> DecodeContext {
        DecodeContext {
            provider_id: "openai".into(),
            include_thoughts: false,
        }
    }

    /// `base/_utils.py::encode_tool_output_content`: non-string results are `json.dumps`.
    #[test]
    fn non_string_tool_results_are_json_dumps() {
        assert_eq!(
            tool_result_text(&json!({"temp": 72, "ok": true, "city": "Zürich"})),
            r#"{"temp": 72, "ok": true, "city": "Z\u00fcrich"}"#
        );
        assert_eq!(tool_result_text(&json!([1, 2.5, null])), "[1, 2.5, null]");
        assert_eq!(tool_result_text(&json!("as is")), "as is");
    }

    /// `decode_response` of Completions and Responses: blank arguments are `"{}"`.
    #[test]
    fn blank_tool_call_arguments_are_an_empty_object() {
        let body = json!({"id": "c", "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": ""}}]}, "finish_reason": "tool_calls"}]});
        let d = wire(Api::OpenAiCompletions).decode(&ctx(), body).unwrap();
        assert!(matches!(&d.content[0], crate::Part::ToolCall { args, .. } if args == "{}"));
        let body = json!({"id": "r", "status": "completed", "output": [{"type": "function_call", "call_id": "t", "name": "f", "arguments": "  "}]});
        let d = wire(Api::OpenAiResponses).decode(&ctx(), body).unwrap();
        assert!(matches!(&d.content[0], crate::Part::ToolCall { args, .. } if args == "{}"));
    }

    /// `google/_utils/decode.py::_decode_usage`: input includes `toolUsePromptTokenCount`.
    #[test]
    fn google_input_tokens_include_tool_use_prompt_tokens() {
        let body = json!({"candidates": [{"content": {"parts": [{"text": "hi"}], "role": "model"}, "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 10, "toolUsePromptTokenCount": 7, "candidatesTokenCount": 2}});
        let d = wire(Api::Google).decode(&ctx(), body).unwrap();
        assert_eq!(d.usage.unwrap().input_tokens, 17);
    }

    /// `openai/responses/_utils/decode.py`: `response.failed` with no error event before it.
    #[test]
    fn a_failed_response_is_an_api_error() {
        let mut d = wire(Api::OpenAiResponses).stream_decoder(&ctx());
        let mut out = Vec::new();
        let err = d
            .event("", r#"{"type": "response.failed", "response": {"error": {"code": "server_error", "message": "boom"}}}"#, &mut out)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "OpenAI response failed: server_error: boom"
        );
        assert_eq!(err.class().name(), "APIError");
        let mut d = wire(Api::OpenAiResponses).stream_decoder(&ctx());
        let err = d
            .event(
                "",
                r#"{"type": "response.failed", "response": {"error": null}}"#,
                &mut out,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "OpenAI response failed: unknown_error: no error message"
        );
    }

    /// `_GoogleChunkProcessor.process_chunk`: an empty text part opens nothing (`elif
    /// part.text:`), and ends open text.
    #[test]
    fn google_streams_skip_empty_text_parts() {
        let mut d = wire(Api::Google).stream_decoder(&ctx());
        let mut out = Vec::new();
        for chunk in [
            r#"{"candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "a"}], "role": "model"}}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": ""}], "role": "model"}}]}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": "b"}], "role": "model"}, "finishReason": "STOP"}]}"#,
        ] {
            d.event("", chunk, &mut out).unwrap();
        }
        use crate::provider::StreamChunk::*;
        let text_chunks: Vec<_> = out
            .iter()
            .filter(|c| !matches!(c, UsageDelta(_) | FinishReason(_)))
            .cloned()
            .collect();
        assert_eq!(
            text_chunks,
            vec![
                TextStart,
                TextDelta("a".into()),
                TextEnd,
                TextStart,
                TextDelta("b".into()),
                TextEnd
            ]
        );
    }

    /// `openai/completions/_utils/encode.py::_encode_assistant_message`: a message that called
    /// the format tool is re-encoded from its content, not re-sent raw.
    #[test]
    fn completions_format_tool_answers_are_re_encoded() {
        let raw = json!({"role": "assistant", "content": null, "tool_calls": [{"id": "t", "type": "function", "function": {"name": crate::tool::FORMAT_TOOL_NAME, "arguments": "{\"a\":1}"}}]});
        let assistant = AssistantMessage {
            content: vec![crate::Part::text("{\"a\":1}")],
            name: None,
            provider_id: Some("openai".into()),
            model_id: Some("openai/gpt-4o-mini".into()),
            raw_message: Some(raw),
        };
        let messages = vec![
            Message::User(UserMessage {
                content: vec![crate::Part::text("hi")],
                name: None,
            }),
            Message::Assistant(assistant),
        ];
        let params = crate::Params::new();
        let body = wire(Api::OpenAiCompletions)
            .encode(&EncodeContext {
                provider_id: "openai",
                response_provider_id: "openai",
                model_id: "openai/gpt-4o-mini",
                model_name: "gpt-4o-mini",
                messages: &messages,
                tools: &[],
                format: None,
                params: &params,
                stream: false,
            })
            .unwrap();
        assert_eq!(
            body["messages"][1],
            json!({"role": "assistant", "content": "{\"a\":1}"})
        );
    }

    fn anthropic_ctx<'a>(
        model_name: &'a str,
        messages: &'a [Message],
        tools: &'a [Tool],
        params: &'a Params,
        stream: bool,
    ) -> EncodeContext<'a> {
        EncodeContext {
            provider_id: "anthropic",
            response_provider_id: "anthropic",
            model_id: "anthropic/m",
            model_name,
            messages,
            tools,
            format: None,
            params,
            stream,
        }
    }

    /// The anthropic SDK's `_make_status_error`: 503 and 504 are `InternalServerError`
    /// (Mirascope's ServerError); only 529 has a class Mirascope does not map (ProviderError).
    #[test]
    fn anthropic_statuses_map_as_the_sdk_does() {
        let w = wire(Api::Anthropic);
        let class = |status| w.error_class("anthropic", status, &ErrorDetails::default(), "");
        assert_eq!(class(503), ErrorClass::Server);
        assert_eq!(class(504), ErrorClass::Server);
        assert_eq!(class(529), ErrorClass::Provider);
        assert_eq!(class(413), ErrorClass::Provider);
    }

    /// `beta.messages.parse` (a call) adds `structured-outputs-2025-12-15` to the betas;
    /// `beta.messages.stream` does not.
    #[test]
    fn anthropic_beta_header_of_calls_and_streams() {
        let messages = vec![Message::User(UserMessage {
            content: vec![crate::Part::text("hi")],
            name: None,
        })];
        let params = Params::new();
        let w = wire(Api::AnthropicBeta);
        let call = anthropic_ctx("claude-sonnet-4-5", &messages, &[], &params, false);
        assert_eq!(
            w.variant_headers(&call),
            &[(
                "anthropic-beta",
                "structured-outputs-2025-11-13,structured-outputs-2025-12-15"
            )]
        );
        let stream = anthropic_ctx("claude-sonnet-4-5", &messages, &[], &params, true);
        assert_eq!(
            w.variant_headers(&stream),
            &[("anthropic-beta", "structured-outputs-2025-11-13")]
        );
    }

    /// `beta_encode_request`: strict tools on a model without strict structured outputs are
    /// refused on the beta API too, and a bare format there defaults to strict.
    #[test]
    fn anthropic_beta_refuses_strict_tools_on_models_without_strict_outputs() {
        let messages = vec![Message::User(UserMessage {
            content: vec![crate::Part::text("hi")],
            name: None,
        })];
        let params = Params::new();
        let tools = vec![
            Tool::new("t", "d", &json!({"type": "object", "properties": {}}))
                .unwrap()
                .strict(true),
        ];
        let w = wire(Api::AnthropicBeta);
        let ctx = anthropic_ctx("claude-3-haiku-20240307", &messages, &tools, &params, false);
        assert!(matches!(
            w.encode(&ctx),
            Err(Error::FeatureNotSupported { .. })
        ));
        assert_eq!(
            w.default_format_mode("anthropic-beta", "claude-3-haiku-20240307", false),
            FormatMode::Strict
        );
        assert_eq!(
            wire(Api::Anthropic).default_format_mode("anthropic", "claude-3-haiku-20240307", false),
            FormatMode::Tool
        );
    }

    /// `_AnthropicChunkProcessor.process_event`: a usage field a `message_delta` omits keeps
    /// its value from the preceding usage event, not from `message_start`.
    #[test]
    fn anthropic_stream_usage_follows_the_previous_usage_event() {
        let mut d = wire(Api::Anthropic).stream_decoder(&DecodeContext {
            provider_id: "anthropic".into(),
            include_thoughts: false,
        });
        let mut out = Vec::new();
        for e in [
            json!({"type": "message_start", "message": {"id": "m", "model": "claude", "usage": {"input_tokens": 5, "output_tokens": 1, "cache_read_input_tokens": 10}}}),
            json!({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 3, "cache_read_input_tokens": 20}}),
            json!({"type": "message_delta", "delta": {}, "usage": {"output_tokens": 7}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 9, "cache_read_input_tokens": 20}}),
            json!({"type": "message_stop"}),
        ] {
            d.event("", &e.to_string(), &mut out).unwrap();
        }
        let mut total = Usage::default();
        for c in &out {
            if let StreamChunk::UsageDelta(u) = c {
                total.add(u);
            }
        }
        assert_eq!(total.cache_read_tokens, 20);
        assert_eq!(total.input_tokens, 25);
        assert_eq!(total.output_tokens, 9);
    }

    fn openai_ctx<'a>(
        provider_id: &'a str,
        model_name: &'a str,
        messages: &'a [Message],
        params: &'a Params,
    ) -> EncodeContext<'a> {
        EncodeContext {
            provider_id,
            response_provider_id: provider_id,
            model_id: "openai/m",
            model_name,
            messages,
            tools: &[],
            format: None,
            params,
            stream: false,
        }
    }

    fn user(parts: Vec<crate::Part>) -> Vec<Message> {
        vec![Message::User(UserMessage {
            content: parts,
            name: None,
        })]
    }

    /// `_encode_document` of both OpenAI encoders: a text document is a base64 file named
    /// `document.txt`.
    #[test]
    fn openai_text_documents_are_base64_files() {
        let messages = user(vec![crate::Part::Document {
            source: crate::content::DocumentSource::Text {
                data: "héllo".into(),
                media_type: "text/plain".into(),
            },
        }]);
        let params = Params::new();
        let url = "data:text/plain;base64,aMOpbGxv";
        let body = wire(Api::OpenAiCompletions)
            .encode(&openai_ctx("openai", "gpt-4o", &messages, &params))
            .unwrap();
        assert_eq!(
            body["messages"][0]["content"][0],
            json!({"type": "file", "file": {"filename": "document.txt", "file_data": url}})
        );
        let body = wire(Api::OpenAiResponses)
            .encode(&openai_ctx("openai", "gpt-4o", &messages, &params))
            .unwrap();
        assert_eq!(
            body["input"][0]["content"][0],
            json!({"type": "input_file", "filename": "document.txt", "file_data": url})
        );
    }

    /// `_encode_user_message`: audio to a model whose `audio_support` is False is refused
    /// before any traffic; an unknown model (an OpenAI-compatible server's) may take it.
    #[test]
    fn openai_completions_refuse_audio_where_the_model_has_none() {
        let messages = user(vec![crate::Part::Audio {
            source: crate::content::AudioSource::Base64 {
                mime_type: "audio/wav".into(),
                data: "UklGRg==".into(),
            },
        }]);
        let params = Params::new();
        let w = wire(Api::OpenAiCompletions);
        assert!(matches!(
            w.encode(&openai_ctx("openai", "gpt-4o", &messages, &params)),
            Err(Error::FeatureNotSupported { .. })
        ));
        assert!(w
            .encode(&openai_ctx(
                "openai",
                "gpt-4o-audio-preview",
                &messages,
                &params
            ))
            .is_ok());
        assert!(w
            .encode(&openai_ctx("ollama", "gpt-4o", &messages, &params))
            .is_ok());
    }

    /// `OpenAIResponsesProvider.error_map`: `model_not_found` is NotFound on the Responses API
    /// (any provider there), BadRequest on Chat Completions (`OPENAI_ERROR_MAP`).
    #[test]
    fn model_not_found_is_a_responses_rule() {
        let details = ErrorDetails {
            code: Some("model_not_found".into()),
            ..ErrorDetails::default()
        };
        for provider in ["openai", "openai:responses", "xai"] {
            assert_eq!(
                wire(Api::OpenAiResponses).error_class(provider, 400, &details, ""),
                ErrorClass::NotFound
            );
        }
        for provider in ["openai", "openai:completions"] {
            assert_eq!(
                wire(Api::OpenAiCompletions).error_class(provider, 400, &details, ""),
                ErrorClass::BadRequest
            );
        }
    }

    /// Each provider's own finish-reason map: values of another provider's map are a normal
    /// finish.
    #[test]
    fn finish_reasons_follow_each_providers_map() {
        assert_eq!(
            completions_finish_reason("length"),
            Some(FinishReason::MaxTokens)
        );
        assert_eq!(completions_finish_reason("max_tokens"), None);
        assert_eq!(
            responses_finish_reason("max_output_tokens"),
            Some(FinishReason::MaxTokens)
        );
        assert_eq!(responses_finish_reason("length"), None);
        assert_eq!(
            anthropic_finish_reason("model_context_window_exceeded"),
            Some(FinishReason::ContextLengthExceeded)
        );
        assert_eq!(
            google_finish_reason("IMAGE_SAFETY"),
            Some(FinishReason::Refusal)
        );
        assert_eq!(google_finish_reason("STOP"), None);
    }

    /// `_encode_assistant_message` (Responses): blank tool arguments are sent as `{}`.
    #[test]
    fn responses_reencode_blank_arguments_as_an_empty_object() {
        let messages = vec![Message::Assistant(AssistantMessage {
            content: vec![crate::Part::ToolCall {
                id: "c".into(),
                name: "t".into(),
                args: " ".into(),
            }],
            name: None,
            provider_id: None,
            model_id: None,
            raw_message: None,
        })];
        let params = Params::new();
        let body = wire(Api::OpenAiResponses)
            .encode(&openai_ctx("openai", "gpt-4o", &messages, &params))
            .unwrap();
        assert_eq!(body["input"][0]["arguments"], "{}");
    }

    /// Google: the SDK's `t_model` keeps `models/` and `tunedModels/` names; other 4xx are
    /// `APIError` (`map_google_error`); empty text and empty call ids as `_decode_content_part`;
    /// a recursive tool schema is an error, not a stack overflow.
    #[test]
    fn google_rules_of_the_release() {
        let g = wire(Api::Google);
        assert_eq!(
            g.path("gemini-2.5-flash", false),
            "/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            g.path("tunedModels/my-model", true),
            "/v1beta/tunedModels/my-model:streamGenerateContent?alt=sse"
        );
        assert_eq!(
            g.path("models/gemini-2.5-flash", false),
            "/v1beta/models/gemini-2.5-flash:generateContent"
        );
        let class = |status| g.error_class("google", status, &ErrorDetails::default(), "");
        assert_eq!(class(408), ErrorClass::Api);
        assert_eq!(class(413), ErrorClass::Api);
        assert_eq!(class(404), ErrorClass::NotFound);
        assert_eq!(class(503), ErrorClass::Server);

        let body = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": ""},
            {"text": "", "thought": true},
            {"functionCall": {"id": "", "name": "t", "args": {}}},
        ]}, "finishReason": "STOP"}]});
        let d = g
            .decode(
                &DecodeContext {
                    provider_id: "google".into(),
                    include_thoughts: true,
                },
                body,
            )
            .unwrap();
        assert_eq!(d.content.len(), 1, "{:?}", d.content);
        assert!(
            matches!(&d.content[0], crate::Part::ToolCall { id, .. } if id == "google_unknown_tool_id")
        );

        let messages = vec![Message::User(UserMessage {
            content: vec![crate::Part::text("hi")],
            name: None,
        })];
        let params = Params::new();
        let tool = Tool::new(
            "walk",
            "d",
            &json!({"type": "object", "properties": {"root": {"$ref": "#/$defs/Node"}},
                    "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}}),
        )
        .unwrap();
        let tools = vec![tool];
        let ctx = EncodeContext {
            provider_id: "google",
            response_provider_id: "google",
            model_id: "google/gemini-2.5-flash",
            model_name: "gemini-2.5-flash",
            messages: &messages,
            tools: &tools,
            format: None,
            params: &params,
            stream: false,
        };
        assert!(matches!(
            g.encode(&ctx),
            Err(Error::FeatureNotSupported { .. })
        ));
    }

    /// `_encode_message` of both OpenAI encoders: raw replay needs OpenAI's own answer from the
    /// same API (the provider model name carries the API: `gpt-4o:responses`), whatever the
    /// API suffix of the model id; an answer from the other API is re-encoded.
    #[test]
    fn openai_raw_replay_needs_the_same_api() {
        let assistant = |provider: &str, model: &str, raw: Value| AssistantMessage {
            content: vec![crate::Part::text("hi")],
            name: None,
            provider_id: Some(provider.into()),
            model_id: Some(model.into()),
            raw_message: Some(raw),
        };
        let params = Params::new();
        let ctx = |model_id: &'static str| EncodeContext {
            provider_id: "openai",
            response_provider_id: "openai",
            model_id,
            model_name: "gpt-4o",
            messages: &[],
            tools: &[],
            format: None,
            params: &params,
            stream: false,
        };
        let items = json!([{"type": "message", "role": "assistant", "content": []}]);
        let object = json!({"role": "assistant", "content": "hi"});
        let responses = ["openai", "openai:responses"];
        let completions = ["openai", "openai:completions"];
        // Same API, suffix or not.
        assert!(openai_owns(
            &ctx("openai/gpt-4o"),
            &assistant("openai", "openai/gpt-4o:responses", items.clone()),
            &responses,
            true
        ));
        // A Responses answer on Chat Completions (audio switched the API), and back.
        assert!(!openai_owns(
            &ctx("openai/gpt-4o"),
            &assistant("openai", "openai/gpt-4o", items.clone()),
            &completions,
            false
        ));
        assert!(!openai_owns(
            &ctx("openai/gpt-4o"),
            &assistant("openai", "openai/gpt-4o", object.clone()),
            &responses,
            true
        ));
        assert!(openai_owns(
            &ctx("openai/gpt-4o"),
            &assistant("openai", "openai/gpt-4o", object),
            &completions,
            false
        ));
        // Another model, or another provider (xAI), is re-encoded.
        assert!(!openai_owns(
            &ctx("openai/gpt-4o"),
            &assistant("openai", "openai/gpt-4o-mini", items.clone()),
            &responses,
            true
        ));
        assert!(!openai_owns(
            &ctx("openai/gpt-4o"),
            &assistant("xai", "openai/gpt-4o", items),
            &responses,
            true
        ));
    }
}
