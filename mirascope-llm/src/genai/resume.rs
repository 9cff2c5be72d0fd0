//! Mirascope's `Response.resume` / `StreamResponse.resume` spans (INTERNAL, scope
//! `mirascope.ops`), and `attach_response`, which records a response on such a span (also used by
//! traced `#[llm::call]` functions).
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use super::keys;
use tracing::field::Empty;
use tracing::Span;

use super::{capture_content, mirascope, OPS_TARGET};
use crate::answer::ResponseData;

/// Opens `{class}.resume {model_id}` (`class` is `Response` or `StreamResponse`).
pub(crate) fn start(class: &str, model_id: &str, provider_id: &str) -> Span {
    let span = tracing::info_span!(
        target: OPS_TARGET,
        "resume",
        otel.name = %format_args!("{class}.resume {model_id}"),
        otel.kind = "internal",
        otel.status_code = Empty,
        { keys::MIRASCOPE_TYPE } = "response_resume",
        { keys::MIRASCOPE_RESPONSE_PROVIDER_ID } = provider_id,
        { keys::MIRASCOPE_RESPONSE_MODEL_ID } = model_id,
        { keys::MIRASCOPE_TRACE_OUTPUT } = Empty,
        { keys::MIRASCOPE_RESPONSE_MESSAGES } = Empty,
        { keys::MIRASCOPE_RESPONSE_CONTENT } = Empty,
        { keys::MIRASCOPE_RESPONSE_USAGE } = Empty,
        { keys::MIRASCOPE_OPS_SESSION_ID } = Empty,
        { keys::MIRASCOPE_OPS_SESSION_ATTRIBUTES } = Empty,
    );
    if !span.is_disabled() {
        if let Some((id, attributes)) = super::current_session() {
            span.record(keys::MIRASCOPE_OPS_SESSION_ID, id);
            if let Some(a) = attributes {
                span.record(keys::MIRASCOPE_OPS_SESSION_ATTRIBUTES, a);
            }
        }
    }
    span
}

/// Records `mirascope.response.*` and `mirascope.trace.output` (the response's pretty text) on a
/// span that declared those fields.
pub fn attach_response(span: &Span, resp: &ResponseData) {
    if span.is_disabled() {
        return;
    }
    span.record(keys::MIRASCOPE_RESPONSE_PROVIDER_ID, resp.provider_id());
    span.record(keys::MIRASCOPE_RESPONSE_MODEL_ID, resp.model_id());
    attach_resumed(span, resp);
}

/// [`attach_response`] on a resume span, which [`start`] opened with the provider and model
/// ids (Python sets them there and again from the response, to the same values; recorded once,
/// as an OpenTelemetry span keeps one value a key).
pub(crate) fn attach_resumed(span: &Span, resp: &ResponseData) {
    if span.is_disabled() {
        return;
    }
    if capture_content() {
        span.record(keys::MIRASCOPE_TRACE_OUTPUT, resp.pretty());
        span.record(
            keys::MIRASCOPE_RESPONSE_MESSAGES,
            mirascope::messages(resp.input_messages()),
        );
        span.record(
            keys::MIRASCOPE_RESPONSE_CONTENT,
            mirascope::content(resp.content()),
        );
    }
    if let Some(u) = resp.usage() {
        span.record(keys::MIRASCOPE_RESPONSE_USAGE, mirascope::usage(u));
    }
}

/// Records what Mirascope records for a stream that has not been read yet: the input messages,
/// empty content and output (the provider and model ids are those [`start`] recorded).
pub(crate) fn attach_unread_stream(span: &Span, input: &[crate::Message]) {
    if span.is_disabled() {
        return;
    }
    span.record(keys::MIRASCOPE_TRACE_OUTPUT, "");
    if capture_content() {
        span.record(
            keys::MIRASCOPE_RESPONSE_MESSAGES,
            mirascope::messages(input),
        );
        span.record(keys::MIRASCOPE_RESPONSE_CONTENT, "[]");
    }
}

/// Marks an INTERNAL span failed (status ERROR without description, one `exception` event).
pub fn record_failure(span: &Span, err: &crate::Error) {
    if span.is_disabled() {
        return;
    }
    span.record("otel.status_code", "error");
    super::span::exception_event(span, err);
}
