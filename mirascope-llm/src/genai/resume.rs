//! Mirascope's `Response.resume` / `StreamResponse.resume` spans (INTERNAL, scope
//! `mirascope.ops`), and `attach_response`, which records a response on such a span (also used by
//! traced `#[llm::call]` functions).
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

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
        mirascope.type = "response_resume",
        mirascope.response.provider_id = provider_id,
        mirascope.response.model_id = model_id,
        mirascope.trace.output = Empty,
        mirascope.response.messages = Empty,
        mirascope.response.content = Empty,
        mirascope.response.usage = Empty,
        mirascope.ops.session.id = Empty,
        mirascope.ops.session.attributes = Empty,
    );
    if !span.is_disabled() {
        if let Some((id, attributes)) = super::current_session() {
            span.record("mirascope.ops.session.id", id);
            if let Some(a) = attributes {
                span.record("mirascope.ops.session.attributes", a);
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
    span.record("mirascope.response.provider_id", resp.provider_id());
    span.record("mirascope.response.model_id", resp.model_id());
    if capture_content() {
        span.record("mirascope.trace.output", resp.pretty());
        span.record(
            "mirascope.response.messages",
            mirascope::messages(resp.input_messages()),
        );
        span.record(
            "mirascope.response.content",
            mirascope::content(resp.content()),
        );
    }
    if let Some(u) = resp.usage() {
        span.record("mirascope.response.usage", mirascope::usage(u));
    }
}

/// Records what Mirascope records for a stream that has not been read yet: the input messages,
/// empty content and output.
pub fn attach_unread_stream(
    span: &Span,
    provider_id: &str,
    model_id: &str,
    input: &[crate::Message],
) {
    if span.is_disabled() {
        return;
    }
    span.record("mirascope.response.provider_id", provider_id);
    span.record("mirascope.response.model_id", model_id);
    span.record("mirascope.trace.output", "");
    if capture_content() {
        span.record("mirascope.response.messages", mirascope::messages(input));
        span.record("mirascope.response.content", "[]");
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
