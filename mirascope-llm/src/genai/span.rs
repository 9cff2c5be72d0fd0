//! The GenAI span of one model call: creation (name and kind fixed at creation), the request
//! attributes, the response attributes, errors, and the stream span's lifecycle.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use super::keys;
use serde_json::Value;
use tracing::field::Empty;
use tracing::Span;

use super::{capture_content, encode, mirascope, AttrValue, TARGET};
use crate::answer::ResponseData;
use crate::error::Error;
use crate::format::ResolvedFormat;
use crate::params::Params;
use crate::request::CallRequest;

/// What the span needs to know about the call at creation.
pub(crate) struct CallInfo<'a> {
    pub model_id: &'a str,
    pub provider_id: &'a str,
    pub request: &'a CallRequest,
    pub format: Option<&'a ResolvedFormat>,
    pub base_url: &'a str,
}

/// Opens the GenAI span `chat {model_id}` (CLIENT) as a child of the current span and records
/// the request attributes. Builds nothing when no subscriber is interested.
#[inline]
pub(crate) fn start(info: &CallInfo<'_>) -> Span {
    let output_type = if info.request.format.is_some() {
        "json"
    } else {
        "text"
    };
    let span = tracing::info_span!(
        target: TARGET,
        "chat",
        // Evaluated only when the span is enabled; a `&str` (not `format_args!`) so the layer
        // copies it instead of running the formatter.
        otel.name = ["chat ", info.model_id].concat().as_str(),
        otel.kind = "client",
        otel.status_code = Empty,
        otel.status_description = Empty,
        { keys::GEN_AI_OPERATION_NAME } = "chat",
        { keys::GEN_AI_PROVIDER_NAME } = info.provider_id,
        { keys::GEN_AI_REQUEST_MODEL } = info.model_id,
        { keys::GEN_AI_OUTPUT_TYPE } = output_type,
        { keys::GEN_AI_REQUEST_TEMPERATURE } = Empty,
        { keys::GEN_AI_REQUEST_MAX_TOKENS } = Empty,
        { keys::GEN_AI_REQUEST_TOP_P } = Empty,
        { keys::GEN_AI_REQUEST_TOP_K } = Empty,
        { keys::GEN_AI_REQUEST_SEED } = Empty,
        { keys::GEN_AI_REQUEST_FREQUENCY_PENALTY } = Empty,
        { keys::GEN_AI_REQUEST_PRESENCE_PENALTY } = Empty,
        { keys::GEN_AI_REQUEST_STOP_SEQUENCES } = Empty,
        { keys::GEN_AI_REQUEST_CHOICE_COUNT } = Empty,
        { keys::GEN_AI_SYSTEM_INSTRUCTIONS } = Empty,
        { keys::GEN_AI_INPUT_MESSAGES } = Empty,
        { keys::GEN_AI_TOOL_DEFINITIONS } = Empty,
        { keys::GEN_AI_RESPONSE_MODEL } = Empty,
        { keys::GEN_AI_RESPONSE_ID } = Empty,
        { keys::GEN_AI_RESPONSE_FINISH_REASONS } = Empty,
        { keys::GEN_AI_OUTPUT_MESSAGES } = Empty,
        { keys::GEN_AI_USAGE_INPUT_TOKENS } = Empty,
        { keys::GEN_AI_USAGE_OUTPUT_TOKENS } = Empty,
        { keys::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS } = Empty,
        { keys::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS } = Empty,
        { keys::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS } = Empty,
        { keys::GEN_AI_CONVERSATION_ID } = Empty,
        { keys::MIRASCOPE_RESPONSE_MESSAGES } = Empty,
        { keys::MIRASCOPE_RESPONSE_CONTENT } = Empty,
        { keys::MIRASCOPE_RESPONSE_USAGE } = Empty,
        { keys::MIRASCOPE_RESPONSE_COST } = Empty,
        { keys::SERVER_ADDRESS } = Empty,
        { keys::SERVER_PORT } = Empty,
        { keys::ERROR_TYPE } = Empty,
        { keys::ERROR_MESSAGE } = Empty,
        { keys::GEN_AI_REQUEST_STREAM } = Empty,
        { keys::OPENAI_RESPONSE_SERVICE_TIER } = Empty,
        { keys::OPENAI_RESPONSE_SYSTEM_FINGERPRINT } = Empty,
    );
    if !span.is_disabled() {
        record_request(&span, info);
    }
    span
}

/// The request attributes (only for enabled spans).
fn record_request(span: &Span, info: &CallInfo<'_>) {
    record_params(span, &info.request.params);
    let capture = capture_content();
    let messages = &info.request.messages;
    let system = capture
        .then(|| encode::system_instructions(messages))
        .flatten();
    let input = capture.then(|| encode::input_messages(messages)).flatten();
    let tools = encode::tool_definitions(
        &info.request.tools,
        info.request
            .format
            .as_ref()
            .and_then(|f| f.requested_mode()),
        info.format,
    );
    let (host, port) = server(info.base_url);
    let mut batch = Batch::default();
    batch.set(
        const { field_index(keys::GEN_AI_SYSTEM_INSTRUCTIONS) },
        system.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_INPUT_MESSAGES) },
        input.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_TOOL_DEFINITIONS) },
        tools.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::SERVER_ADDRESS) },
        host.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::SERVER_PORT) },
        port.as_ref().map(|v| v as &dyn tracing::Value),
    );
    let session = match &info.request.conversation_id {
        Some(_) => None,
        None => super::current_session().map(|(id, _)| id),
    };
    let conversation = info.request.conversation_id.as_ref().or(session.as_ref());
    batch.set(
        const { field_index(keys::GEN_AI_CONVERSATION_ID) },
        conversation.map(|v| v as &dyn tracing::Value),
    );
    batch.record(span);
}

/// The scheme, host and port text of a URL (`https://[::1]:8080/v1` -> `https`, `::1`,
/// `8080`), or `None` when it has no scheme or no host.
pub(crate) fn authority(url: &str) -> Option<(&str, &str, Option<&str>)> {
    // One pass over bytes (this runs on every call): the text after `://`, up to the path.
    let b = url.as_bytes();
    let sep = (0..b.len().saturating_sub(2))
        .find(|&i| b[i] == b':' && b[i + 1] == b'/' && b[i + 2] == b'/')?;
    let (scheme, rest) = (&url[..sep], &url[sep + 3..]);
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = match authority.bytes().rposition(|b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.bytes().position(|b| b == b']')?;
        (&v6[..close], v6[close + 1..].strip_prefix(':'))
    } else {
        match authority.bytes().rposition(|b| b == b':') {
            Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
            None => (authority, None),
        }
    };
    (!host.is_empty()).then_some((scheme, host, port))
}

/// Host and port of a base URL (`https://api.openai.com/v1` -> `api.openai.com`, 443). A
/// program's calls go to a few base URLs, so each thread keeps the last one read (the URL,
/// where its host is, and the port): a call to the same server compares the text instead of
/// reading it again.
pub(crate) fn server(base_url: &str) -> (Option<&str>, Option<i64>) {
    type Read = (String, Option<std::ops::Range<usize>>, Option<i64>);
    thread_local! {
        static LAST: std::cell::RefCell<Option<Read>> = const { std::cell::RefCell::new(None) };
    }
    // `try_with`: a thread being torn down reads the URL instead.
    let known = LAST
        .try_with(|last| match &*last.borrow() {
            Some((url, host, port)) if url == base_url => Some((host.clone(), *port)),
            _ => None,
        })
        .ok()
        .flatten();
    let (host, port) = match known {
        Some(read) => read,
        None => {
            let (host, port) = read_server(base_url);
            // Where the host is in the URL (it is a slice of it), to find it again.
            let range = host.map(|h| {
                let start = h.as_ptr() as usize - base_url.as_ptr() as usize;
                start..start + h.len()
            });
            let _ = LAST.try_with(|last| {
                *last.borrow_mut() = Some((base_url.to_string(), range.clone(), port));
            });
            (range, port)
        }
    };
    (host.and_then(|r| base_url.get(r)), port)
}

/// [`server`], read from the text.
fn read_server(base_url: &str) -> (Option<&str>, Option<i64>) {
    let Some((scheme, host, port)) = authority(base_url) else {
        return (None, None);
    };
    let port = match port {
        Some(p) => p.parse::<u16>().ok().map(i64::from),
        None => match scheme {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        },
    };
    (Some(host), port)
}

/// The fields of the GenAI span, in declaration order (checked by a test).
const FIELDS: [&str; 41] = [
    "otel.name",
    "otel.kind",
    "otel.status_code",
    "otel.status_description",
    keys::GEN_AI_OPERATION_NAME,
    keys::GEN_AI_PROVIDER_NAME,
    keys::GEN_AI_REQUEST_MODEL,
    keys::GEN_AI_OUTPUT_TYPE,
    keys::GEN_AI_REQUEST_TEMPERATURE,
    keys::GEN_AI_REQUEST_MAX_TOKENS,
    keys::GEN_AI_REQUEST_TOP_P,
    keys::GEN_AI_REQUEST_TOP_K,
    keys::GEN_AI_REQUEST_SEED,
    keys::GEN_AI_REQUEST_FREQUENCY_PENALTY,
    keys::GEN_AI_REQUEST_PRESENCE_PENALTY,
    keys::GEN_AI_REQUEST_STOP_SEQUENCES,
    keys::GEN_AI_REQUEST_CHOICE_COUNT,
    keys::GEN_AI_SYSTEM_INSTRUCTIONS,
    keys::GEN_AI_INPUT_MESSAGES,
    keys::GEN_AI_TOOL_DEFINITIONS,
    keys::GEN_AI_RESPONSE_MODEL,
    keys::GEN_AI_RESPONSE_ID,
    keys::GEN_AI_RESPONSE_FINISH_REASONS,
    keys::GEN_AI_OUTPUT_MESSAGES,
    keys::GEN_AI_USAGE_INPUT_TOKENS,
    keys::GEN_AI_USAGE_OUTPUT_TOKENS,
    keys::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    keys::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    keys::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    keys::GEN_AI_CONVERSATION_ID,
    keys::MIRASCOPE_RESPONSE_MESSAGES,
    keys::MIRASCOPE_RESPONSE_CONTENT,
    keys::MIRASCOPE_RESPONSE_USAGE,
    keys::MIRASCOPE_RESPONSE_COST,
    keys::SERVER_ADDRESS,
    keys::SERVER_PORT,
    keys::ERROR_TYPE,
    keys::ERROR_MESSAGE,
    keys::GEN_AI_REQUEST_STREAM,
    keys::OPENAI_RESPONSE_SERVICE_TIER,
    keys::OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
];

/// The position of a field in [`FIELDS`] (evaluated at compile time).
const fn field_index(name: &str) -> usize {
    let mut i = 0;
    while i < FIELDS.len() {
        let (a, b) = (FIELDS[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a field of the GenAI span")
}

/// Several field values recorded in one dispatch (`Span::record_all`): one trip through the
/// subscriber stack instead of one per attribute. Only the values present go into the set:
/// every layer that records the span walks the whole set, and a batch sets a few of the 41
/// fields.
struct Batch<'a> {
    /// `(field index, value)`, the first `len` of them set.
    entries: [(usize, Option<&'a dyn tracing::Value>); PACKED],
    len: usize,
    /// Values past [`PACKED`] (none of this module's batches has that many), recorded one by
    /// one.
    more: Vec<(usize, &'a dyn tracing::Value)>,
}

/// The most values a [`Batch`] records in one dispatch.
const PACKED: usize = 16;

impl Default for Batch<'_> {
    fn default() -> Self {
        Batch {
            entries: [(0, None); PACKED],
            len: 0,
            more: Vec::new(),
        }
    }
}

/// The span's `Field` handles, looked up once (there is one callsite).
static FIELD_HANDLES: std::sync::OnceLock<Option<Vec<tracing::field::Field>>> =
    std::sync::OnceLock::new();

impl<'a> Batch<'a> {
    /// Sets field `index` (of [`FIELDS`]) to `value`, if there is one.
    fn set(&mut self, index: usize, value: Option<&'a dyn tracing::Value>) {
        let Some(value) = value else { return };
        match self.entries.get_mut(self.len) {
            Some(slot) => {
                *slot = (index, Some(value));
                self.len += 1;
            }
            None => self.more.push((index, value)),
        }
    }

    fn record(&self, span: &Span) {
        let Some(meta) = span.metadata() else { return };
        let fields = meta.fields();
        let handles = FIELD_HANDLES.get_or_init(|| {
            let all: Vec<tracing::field::Field> = fields.iter().collect();
            (all.len() == FIELDS.len() && all.iter().zip(FIELDS).all(|(f, n)| f.name() == n))
                .then_some(all)
        });
        match handles {
            Some(all)
                if fields
                    .iter()
                    .next()
                    .is_some_and(|f| f.callsite() == all[0].callsite()) =>
            {
                // Entries past `len` carry no value: a `ValueSet` entry without one is skipped.
                let pairs: [(&tracing::field::Field, Option<&dyn tracing::Value>); PACKED] =
                    std::array::from_fn(|i| {
                        let (index, value) = self.entries[i];
                        (&all[index], value)
                    });
                span.record_all(&fields.value_set(&pairs));
            }
            _ => {
                for (index, value) in &self.entries[..self.len] {
                    if let Some(v) = value {
                        span.record(FIELDS[*index], *v);
                    }
                }
            }
        }
        for (index, value) in &self.more {
            span.record(FIELDS[*index], *value);
        }
    }
}

/// A param value Mirascope records as an attribute (`str|int|float|bool|list[str]`).
fn is_primitive(v: &Value) -> bool {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
        Value::Array(items) => items.iter().all(Value::is_string),
        _ => false,
    }
}

fn record_value(span: &Span, key: &'static str, v: &Value) {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                span.record(key, i);
            }
            None => {
                span.record(key, n.as_f64().unwrap_or_default());
            }
        },
        Value::Bool(b) => {
            span.record(key, *b);
        }
        Value::String(s) => {
            span.record(key, s.as_str());
        }
        other => {
            span.record(key, other.to_string());
        }
    }
}

/// `gen_ai.request.*` from the user's params (not from the wire request).
fn record_params(span: &Span, params: &Params) {
    // Later entries of each list win, whatever order the user set them in.
    const SCALARS: &[(&str, &[&str])] = &[
        (keys::GEN_AI_REQUEST_TEMPERATURE, &["temperature"]),
        (
            keys::GEN_AI_REQUEST_MAX_TOKENS,
            &["max_tokens", "max_output_tokens", "max_completion_tokens"],
        ),
        (keys::GEN_AI_REQUEST_TOP_P, &["top_p"]),
        (keys::GEN_AI_REQUEST_TOP_K, &["top_k"]),
        (keys::GEN_AI_REQUEST_SEED, &["seed"]),
        (
            keys::GEN_AI_REQUEST_FREQUENCY_PENALTY,
            &["frequency_penalty"],
        ),
        (keys::GEN_AI_REQUEST_PRESENCE_PENALTY, &["presence_penalty"]),
        (keys::GEN_AI_REQUEST_CHOICE_COUNT, &["n", "choice_count"]),
    ];
    for (attr, names) in SCALARS {
        if let Some(v) = names
            .iter()
            .rev()
            .filter_map(|n| params.get(n))
            .find(|v| is_primitive(v) && !v.is_array())
        {
            record_value(span, attr, v);
        }
    }
    let stop = ["stop", "stop_sequences"]
        .iter()
        .filter_map(|n| params.get(n))
        .find(|v| is_primitive(v));
    if let Some(stop) = stop {
        let list: Vec<String> = match stop {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Value::String(s) => vec![s.clone()],
            other => vec![other.to_string()],
        };
        set_string_array(span, keys::GEN_AI_REQUEST_STOP_SEQUENCES, list);
    }
}

/// Adds the `gen_ai.request.params.untracked` event for params that are not primitive values.
pub(crate) fn record_untracked_params(span: &Span, params: &Params) {
    if span.is_disabled() {
        return;
    }
    let untracked: Vec<(&str, &Value)> = params
        .iter()
        .filter(|(_, v)| !v.is_null() && !is_primitive(v))
        .collect();
    if untracked.is_empty() {
        return;
    }
    let mut json = serde_json::Map::new();
    for (k, v) in &untracked {
        json.insert(k.to_string(), (*v).clone());
    }
    add_event(
        span,
        keys::GEN_AI_REQUEST_PARAMS_UNTRACKED,
        vec![
            (
                keys::GEN_AI_UNTRACKED_PARAMS_COUNT,
                AttrValue::I64(untracked.len() as i64),
            ),
            (
                keys::GEN_AI_UNTRACKED_PARAMS_KEYS,
                AttrValue::StrArray(untracked.iter().map(|(k, _)| k.to_string()).collect()),
            ),
            (
                keys::GEN_AI_UNTRACKED_PARAMS_JSON,
                AttrValue::Str(Value::Object(json).to_string()),
            ),
        ],
    );
}

fn set_string_array(span: &Span, key: &'static str, values: Vec<String>) {
    if super::otel_records(span) {
        super::set_attribute(span, key, AttrValue::StrArray(values));
    } else {
        span.record(key, Value::from(values).to_string());
    }
}

use super::add_event;

/// Records the response attributes.
#[inline]
pub(crate) fn record_response(span: &Span, resp: &ResponseData) {
    if !span.is_disabled() {
        record_response_enabled(
            span,
            resp,
            Some(encode::finish_reason(resp.finish_reason())),
        );
    }
}

/// The finish reason of a stream that failed or was dropped: the one the provider sent, if it
/// sent one before the stream broke; never an assumed `stop`. (Mirascope's finish reason `None`
/// means "stopped normally", which a broken stream did not.)
fn partial_finish_reason(partial: &ResponseData) -> Option<&'static str> {
    partial
        .finish_reason()
        .map(|r| encode::finish_reason(Some(r)))
}

/// Where a call goes, for the metrics of a call that is cancelled.
pub(crate) struct CallTarget<'a> {
    pub base_url: &'a str,
    pub model_id: &'a str,
    pub provider_id: &'a str,
}

/// Marks a call's span cancelled when the call's future is dropped before the call ended (a
/// timeout, `select!`, an aborted task), so the span is not read as a success: it ends with a
/// `mirascope.call.cancelled` event, and the call's duration is recorded with `error.type` =
/// `cancelled`. Holds the call's timing until [`CallGuard::finished`] hands it back.
pub(crate) struct CallGuard<'a> {
    span: &'a Span,
    target: CallTarget<'a>,
    timing: Option<super::metrics::Timing>,
    armed: bool,
}

impl<'a> CallGuard<'a> {
    pub(crate) fn new(span: &'a Span, target: CallTarget<'a>) -> Self {
        CallGuard {
            span,
            target,
            timing: super::metrics::Timing::start_for(span),
            armed: !span.is_disabled(),
        }
    }

    /// The call ended (with a response or an error), or a stream's head arrived: nothing to
    /// mark. Hands back the timing (not ended: a stream's goes on with its chunks).
    pub(crate) fn finished(mut self) -> Option<super::metrics::Timing> {
        self.armed = false;
        self.timing.take()
    }
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            add_event(
                self.span,
                keys::MIRASCOPE_CALL_CANCELLED,
                Vec::<(&str, AttrValue)>::new(),
            );
            if let Some(t) = self.timing.as_mut() {
                t.end();
            }
            super::metrics::record_outcome(
                self.span,
                self.target.base_url,
                self.target.model_id,
                self.target.provider_id,
                self.timing.as_ref(),
                None,
                Some(super::metrics::CANCELLED),
            );
        }
    }
}

/// A failed or dropped stream's partial response: what was received, with no claimed `stop`.
pub(crate) fn record_partial_response(span: &Span, partial: &ResponseData) {
    if !span.is_disabled() {
        record_response_enabled(span, partial, partial_finish_reason(partial));
    }
}

/// `gen_ai.response.model`: the model named in the provider's answer (`gpt-4o-mini-2024-07-18`),
/// as the GenAI conventions define it; the Mirascope model id when the answer names none. Python
/// Mirascope 2.8.2 records the Mirascope id here (`_utils.py` `_assign_response_attributes`); we
/// differ (README "Differences"), so that backends can price calls.
fn response_model(resp: &ResponseData) -> &str {
    resp.response_model().unwrap_or(resp.model_id())
}

/// `openai.response.service_tier` and `openai.response.system_fingerprint` (OpenAI conventions
/// v1.41), read from an OpenAI answer's top-level `service_tier` / `system_fingerprint`.
fn openai_response_details(resp: &ResponseData) -> (Option<&str>, Option<&str>) {
    // OpenAI through either API (`openai`, `openai:completions`, `openai:responses`).
    if crate::registry::base_provider(resp.provider_id()) != "openai" {
        return (None, None);
    }
    let (mut tier, mut fingerprint) = (None, None);
    // One walk over the answer's top-level keys (a dozen) instead of two hashed lookups.
    for (k, v) in resp.raw().as_object().into_iter().flatten() {
        let text = v.as_str().filter(|s| !s.is_empty());
        match k.as_str() {
            "service_tier" => tier = text,
            "system_fingerprint" => fingerprint = text,
            _ => {}
        }
    }
    (tier, fingerprint)
}

fn record_response_enabled(span: &Span, resp: &ResponseData, finish_reason: Option<&'static str>) {
    let capture = capture_content();
    if let Some(reason) = finish_reason {
        set_string_array(
            span,
            keys::GEN_AI_RESPONSE_FINISH_REASONS,
            vec![reason.to_string()],
        );
    }
    let name = resp.messages().last().and_then(|m| m.name());
    let output = capture.then(|| encode::output_messages(resp.content(), finish_reason, name));
    // Python records the messages the call was given (`common.py`, `request_messages`), before
    // the format instructions are added.
    let input = capture.then(|| mirascope::messages(&resp.request.messages));
    let content = capture.then(|| mirascope::content(resp.content()));
    let usage = resp.usage();
    let usage_json = usage.map(mirascope::usage);
    let nonzero = |v: u64| (v > 0).then_some(v);
    let (cache_read, cache_write, reasoning) = match usage {
        Some(u) => (
            nonzero(u.cache_read_tokens),
            nonzero(u.cache_write_tokens),
            nonzero(u.reasoning_tokens),
        ),
        None => (None, None, None),
    };
    let response_model = response_model(resp);
    let (service_tier, fingerprint) = openai_response_details(resp);
    let mut batch = Batch::default();
    batch.set(
        const { field_index(keys::GEN_AI_RESPONSE_MODEL) },
        Some(&response_model),
    );
    batch.set(
        const { field_index(keys::OPENAI_RESPONSE_SERVICE_TIER) },
        service_tier.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::OPENAI_RESPONSE_SYSTEM_FINGERPRINT) },
        fingerprint.as_ref().map(|v| v as &dyn tracing::Value),
    );
    // Python Mirascope never records the id of streamed responses; we do when the provider sent one.
    batch.set(
        const { field_index(keys::GEN_AI_RESPONSE_ID) },
        resp.id.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_OUTPUT_MESSAGES) },
        output.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_USAGE_INPUT_TOKENS) },
        usage.map(|u| &u.input_tokens as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_USAGE_OUTPUT_TOKENS) },
        usage.map(|u| &u.output_tokens as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) },
        cache_read.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS) },
        cache_write.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::GEN_AI_USAGE_REASONING_OUTPUT_TOKENS) },
        reasoning.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::MIRASCOPE_RESPONSE_USAGE) },
        usage_json.as_ref().map(|v| v as &dyn tracing::Value),
    );
    // `mirascope.response.cost` (USD): the key Python Mirascope reserves and leaves unset.
    let cost = resp.cost();
    batch.set(
        const { field_index(keys::MIRASCOPE_RESPONSE_COST) },
        cost.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::MIRASCOPE_RESPONSE_MESSAGES) },
        input.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.set(
        const { field_index(keys::MIRASCOPE_RESPONSE_CONTENT) },
        content.as_ref().map(|v| v as &dyn tracing::Value),
    );
    batch.record(span);
}

/// Records a failure: `error.type` (Mirascope's class name), `error.message`, status ERROR and
/// one `exception` event.
pub(crate) fn record_error(span: &Span, err: &Error, stream: bool) {
    if span.is_disabled() {
        return;
    }
    let class = err.class().name();
    let message = error_message(err);
    span.record(keys::ERROR_TYPE, class);
    if !message.is_empty() {
        span.record(keys::ERROR_MESSAGE, message.as_str());
    }
    span.record("otel.status_code", "error");
    let description = if stream || message.is_empty() {
        message.clone()
    } else {
        format!("{class}: {message}")
    };
    span.record("otel.status_description", description.as_str());
    exception_event(span, err);
}

/// An error's message on a span: the whole message, or with content capture off one that
/// carries no provider or user text (`Error::content_free_message`).
fn error_message(err: &Error) -> String {
    if capture_content() {
        err.to_string()
    } else {
        err.content_free_message()
    }
}

/// The OpenTelemetry `exception` event of an error.
pub(crate) fn exception_event(span: &Span, err: &Error) {
    add_event(
        span,
        "exception",
        vec![
            (
                keys::EXCEPTION_TYPE,
                AttrValue::Str(format!("mirascope_llm::{}", err.class().name())),
            ),
            (keys::EXCEPTION_MESSAGE, AttrValue::Str(error_message(err))),
            (
                keys::EXCEPTION_STACKTRACE,
                AttrValue::Str(if capture_content() {
                    format!("{err:?}")
                } else {
                    error_message(err)
                }),
            ),
            (keys::EXCEPTION_ESCAPED, AttrValue::Str("False".into())),
        ],
    );
}

/// The span of a stream: open until the stream completes, fails or is dropped, ended once.
#[derive(Debug)]
pub struct StreamSpan {
    span: Option<Span>,
    /// For the client metrics: the provider's base URL and the call's timing.
    base_url: String,
    /// `gen_ai.provider.name` as on the span (`anthropic-beta` stays so in the metrics).
    provider_id: String,
    timing: Option<super::metrics::Timing>,
}

impl StreamSpan {
    pub(crate) fn new(
        span: Span,
        base_url: String,
        provider_id: String,
        timing: Option<super::metrics::Timing>,
    ) -> Self {
        StreamSpan {
            span: Some(span),
            base_url,
            provider_id,
            timing,
        }
    }

    /// One output chunk arrived (for `time_to_first_chunk` / `time_per_output_chunk`).
    pub(crate) fn chunk(&mut self) {
        if let Some(t) = self.timing.as_mut() {
            t.chunk();
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.span.is_some()
    }

    /// The stream's metrics, with what it received and how it ended (`error_type`).
    fn record_metrics(&self, span: &Span, resp: &ResponseData, error_type: Option<&'static str>) {
        super::metrics::record_outcome(
            span,
            &self.base_url,
            resp.model_id(),
            &self.provider_id,
            self.timing.as_ref(),
            Some(resp),
            error_type,
        );
    }

    /// The stream completed.
    pub(crate) fn complete(&mut self, resp: &ResponseData) {
        if let Some(t) = self.timing.as_mut() {
            t.end();
        }
        if let Some(span) = self.span.take() {
            record_response(&span, resp);
            self.record_metrics(&span, resp, None);
            end_now(&span);
        }
    }

    /// The stream failed: partial response plus the error.
    pub(crate) fn fail(&mut self, partial: &ResponseData, err: &Error) {
        if let Some(t) = self.timing.as_mut() {
            t.end();
        }
        if let Some(span) = self.span.take() {
            record_partial_response(&span, partial);
            record_error(&span, err, true);
            self.record_metrics(&span, partial, Some(err.class().name()));
            end_now(&span);
        }
    }

    /// The stream was dropped before its end: what was received, plus a cancellation event.
    pub(crate) fn cancel(&mut self, partial: &ResponseData) {
        if let Some(span) = self.span.take() {
            if span.is_disabled() {
                return;
            }
            if let Some(t) = self.timing.as_mut() {
                t.end();
            }
            record_partial_response(&span, partial);
            self.record_metrics(&span, partial, Some(super::metrics::CANCELLED));
            add_event(
                &span,
                keys::MIRASCOPE_STREAM_CANCELLED,
                vec![(
                    keys::MIRASCOPE_STREAM_RECEIVED_PARTS,
                    AttrValue::I64(partial.content().len() as i64),
                )],
            );
            end_now(&span);
        }
    }
}

/// Marks the stream's span as ending now. tracing-opentelemetry ends a span at its last exit,
/// and a stream's span is not entered while its chunks are read (`StreamResponse::poll_chunk`),
/// so without this its end would be when the request was sent.
fn end_now(span: &Span) {
    span.in_scope(|| {});
}

/// Opens `execute_tool {name}` (INTERNAL) for one tool execution.
pub(crate) fn start_tool(tool: &crate::ToolSchema, call_id: &str, args: &str) -> Span {
    let span = tracing::info_span!(
        target: TARGET,
        "execute_tool",
        otel.name = %format_args!("execute_tool {}", tool.name),
        otel.kind = "internal",
        otel.status_code = Empty,
        otel.status_description = Empty,
        { keys::GEN_AI_OPERATION_NAME } = "execute_tool",
        { keys::GEN_AI_TOOL_NAME } = tool.name.as_str(),
        { keys::GEN_AI_TOOL_CALL_ID } = call_id,
        { keys::GEN_AI_TOOL_DESCRIPTION } = tool.description.as_str(),
        { keys::GEN_AI_TOOL_TYPE } = "function",
        { keys::GEN_AI_TOOL_CALL_ARGUMENTS } = Empty,
        { keys::GEN_AI_TOOL_CALL_RESULT } = Empty,
        { keys::GEN_AI_CONVERSATION_ID } = Empty,
        { keys::ERROR_TYPE } = Empty,
    );
    if !span.is_disabled() {
        if capture_content() {
            span.record(keys::GEN_AI_TOOL_CALL_ARGUMENTS, args);
        }
        // Inside a session, as its sibling chat spans.
        if let Some((id, _)) = super::current_session() {
            span.record(keys::GEN_AI_CONVERSATION_ID, id.as_str());
        }
    }
    span
}

/// Ends a tool execution span with its result or error.
pub(crate) fn end_tool(span: &Span, result: &crate::Result<Value>) {
    if span.is_disabled() {
        return;
    }
    match result {
        Ok(v) if capture_content() => {
            span.record(keys::GEN_AI_TOOL_CALL_RESULT, v.to_string());
        }
        Ok(_) => {}
        Err(e) => {
            span.record(keys::ERROR_TYPE, e.class().name());
            span.record("otel.status_code", "error");
            // The tool's own error text is content (it may echo arguments): not with capture off.
            span.record("otel.status_description", error_message(e).as_str());
            exception_event(span, e);
        }
    }
}

/// Benchmark hook: opens the GenAI span of `resp`'s call as a real call would, records the
/// response, and ends it. Returns whether the span was enabled.
#[doc(hidden)]
pub fn bench_lifecycle(resp: &ResponseData) -> bool {
    let span = start(&CallInfo {
        model_id: resp.model_id(),
        provider_id: resp.provider_id(),
        request: &resp.request,
        format: resp.request.resolved_format.as_ref(),
        base_url: "https://api.openai.com/v1",
    });
    let enabled = !span.is_disabled();
    let mut timing = super::metrics::Timing::start_for(&span);
    if let Some(t) = timing.as_mut() {
        t.end();
    }
    record_response(&span, resp);
    super::metrics::record(
        &span,
        "https://api.openai.com/v1",
        resp.model_id(),
        resp.provider_id(),
        timing.as_ref(),
        Some(resp),
        None,
    );
    enabled
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `start` needs for a call to `model` (an OpenAI model at `http://h`).
    fn call_info<'a>(model: &'a crate::Model, request: &'a CallRequest) -> CallInfo<'a> {
        CallInfo {
            model_id: model.id(),
            provider_id: "openai",
            request,
            format: None,
            base_url: "http://h",
        }
    }

    #[test]
    fn field_table_matches_the_span_declaration() {
        let model = crate::Model::new("openai/x").unwrap();
        let request = CallRequest {
            messages: vec![crate::Message::user("hi")],
            ..Default::default()
        };
        let info = call_info(&model, &request);
        let dispatch = tracing::Dispatch::new(tracing_subscriber_like::Everything::default());
        tracing::dispatcher::with_default(&dispatch, || {
            let span = start(&info);
            let names: Vec<&str> = span
                .metadata()
                .unwrap()
                .fields()
                .iter()
                .map(|f| f.name())
                .collect();
            assert_eq!(names, FIELDS);
        });
    }

    #[test]
    fn server_of_base_urls() {
        assert_eq!(
            server("https://api.openai.com/v1"),
            (Some("api.openai.com"), Some(443))
        );
        assert_eq!(
            server("http://127.0.0.1:8080/v1"),
            (Some("127.0.0.1"), Some(8080))
        );
        assert_eq!(server("http://[::1]:9/x"), (Some("::1"), Some(9)));
        assert_eq!(server("not a url"), (None, None));
        assert_eq!(
            server("https://user:pw@host.example:444/x?y#z"),
            (Some("host.example"), Some(444))
        );
        assert_eq!(server("https://h?q=a:1"), (Some("h"), Some(443)));
        assert_eq!(server("http://[::1/"), (None, None));
        // The same URL again (the thread's last one, not read again), then another, then a
        // URL without a host twice.
        for url in [
            "http://127.0.0.1:8080/v1",
            "http://127.0.0.1:8080/v1",
            "https://a.example/v1",
            "https://a.example/v1",
            "http://127.0.0.1:8080/v1",
            "not a url",
            "not a url",
        ] {
            assert_eq!(server(url), read_server(url), "{url}");
        }
        assert_eq!(
            server("https://a.example/v1"),
            (Some("a.example"), Some(443))
        );
    }

    /// The split-based reading `authority` had before it became one pass over bytes.
    fn authority_by_splits(url: &str) -> Option<(&str, &str, Option<&str>)> {
        let (scheme, rest) = url.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, p) = v6.split_once(']')?;
            (h, p.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        (!host.is_empty()).then_some((scheme, host, port))
    }

    proptest::proptest! {
        #[test]
        fn authority_reads_any_text_as_the_splits_did(
            url in "(https?://)?[a-z:/@?#\\[\\]0-9é.]{0,24}"
        ) {
            proptest::prop_assert_eq!(authority(&url), authority_by_splits(&url));
        }
    }

    /// A batch records every value set, in one dispatch up to `PACKED` values and the rest
    /// one by one, and nothing else.
    #[test]
    fn a_batch_records_every_value_set_and_only_those() {
        let model = crate::Model::new("openai/x").unwrap();
        let request = CallRequest::default();
        let info = call_info(&model, &request);
        for n in [0, 1, PACKED - 1, PACKED, PACKED + 1, FIELDS.len() - 4] {
            let recorded = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let dispatches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let dispatch = tracing::Dispatch::new(tracing_subscriber_like::Everything {
                recorded: Some(recorded.clone()),
                dispatches: Some(dispatches.clone()),
            });
            tracing::dispatcher::with_default(&dispatch, || {
                let span = start(&info);
                recorded.lock().unwrap().clear();
                let values: Vec<i64> = (0..FIELDS.len() as i64).collect();
                let mut batch = Batch::default();
                // Past the four `otel.*` fields, which the layer reads differently.
                for (i, v) in values.iter().enumerate().skip(4).take(n) {
                    batch.set(i, Some(v as &dyn tracing::Value));
                }
                batch.set(5, None);
                dispatches.store(0, std::sync::atomic::Ordering::SeqCst);
                batch.record(&span);
            });
            assert_eq!(
                dispatches.load(std::sync::atomic::Ordering::SeqCst),
                1 + n.saturating_sub(PACKED),
                "one dispatch for the first {PACKED} values, one for each after: {n} values"
            );
            let mut got = recorded.lock().unwrap().clone();
            got.sort();
            let mut want: Vec<(String, String)> = (4..4 + n)
                .map(|i| (FIELDS[i].to_string(), i.to_string()))
                .collect();
            want.sort();
            assert_eq!(got, want, "{n} values");
        }
    }

    /// A minimal subscriber that enables everything (no tracing-subscriber dependency).
    mod tracing_subscriber_like {
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};
        use tracing::field::{Field, Visit};
        use tracing::span::{Attributes, Id, Record};
        use tracing::{Event, Metadata, Subscriber};

        /// Field names and values as recorded.
        pub type Recorded = Arc<Mutex<Vec<(String, String)>>>;

        /// Enables everything; keeps the fields recorded after creation when asked to.
        #[derive(Default)]
        pub struct Everything {
            pub recorded: Option<Recorded>,
            /// Counts the calls to `record`.
            pub dispatches: Option<Arc<AtomicUsize>>,
        }
        static NEXT: AtomicU64 = AtomicU64::new(1);

        struct Keep<'a>(&'a mut Vec<(String, String)>);
        impl Visit for Keep<'_> {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0
                    .push((field.name().to_string(), format!("{value:?}")));
            }
        }

        impl Subscriber for Everything {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &Attributes<'_>) -> Id {
                Id::from_u64(NEXT.fetch_add(1, Ordering::Relaxed))
            }
            fn record(&self, _: &Id, values: &Record<'_>) {
                if let Some(n) = &self.dispatches {
                    n.fetch_add(1, Ordering::SeqCst);
                }
                if let Some(recorded) = &self.recorded {
                    values.record(&mut Keep(&mut recorded.lock().unwrap()));
                }
            }
            fn record_follows_from(&self, _: &Id, _: &Id) {}
            fn event(&self, _: &Event<'_>) {}
            fn enter(&self, _: &Id) {}
            fn exit(&self, _: &Id) {}
        }
    }
}
