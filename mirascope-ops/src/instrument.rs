//! The runtime switch of GenAI instrumentation: one atomic that [`crate::OpsLayer`] reads when a
//! GenAI span's callsite asks whether it is enabled (its interest is "sometimes", so the answer
//! is asked each time). Off, a model call's span is disabled at that check: a few nanoseconds.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::OpsError;

static CONFIGURED: AtomicBool = AtomicBool::new(false);
static INSTRUMENTED: AtomicBool = AtomicBool::new(false);

static DISABLED: AtomicBool = AtomicBool::new(false);

/// The environment disabled export (`OTEL_SDK_DISABLED`, `OTEL_TRACES_EXPORTER=none`): the
/// switch becomes a no-op.
pub(crate) fn mark_disabled() {
    DISABLED.store(true, Ordering::SeqCst);
}

pub(crate) fn mark_configured() {
    CONFIGURED.store(true, Ordering::SeqCst);
}

fn set(on: bool) {
    INSTRUMENTED.store(on, Ordering::SeqCst);
}

/// Turns GenAI spans on: every model call, stream and resume, async or blocking, from now on
/// produces a `chat {model_id}` CLIENT span. Errors if [`crate::configure`] (or
/// [`crate::layer`]) was not called first, as in Python Mirascope. Safe from any thread while
/// calls are in flight. A no-op (and `Ok`) when [`crate::configure_from_env`] found export
/// disabled by the environment.
pub fn instrument_llm() -> Result<(), OpsError> {
    if DISABLED.load(Ordering::SeqCst) && !CONFIGURED.load(Ordering::SeqCst) {
        // Export is disabled by the environment: nothing to switch on.
        return Ok(());
    }
    if !CONFIGURED.load(Ordering::SeqCst) {
        return Err(OpsError::NotConfigured);
    }
    set(true);
    Ok(())
}

/// Turns GenAI spans off. A call that started instrumented still ends its span normally.
pub fn uninstrument_llm() {
    set(false);
}

/// Whether GenAI spans are on.
pub fn is_llm_instrumented() -> bool {
    INSTRUMENTED.load(Ordering::SeqCst)
}

/// Whether the content of the calls [`instrument_openai_with`] instruments is captured, as
/// Python's `capture_content` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContentCapture {
    /// Capture message content, tool-call arguments and error bodies.
    Enabled,
    /// Do not.
    Disabled,
    /// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true` captures; anything else (or
    /// nothing) does not: the instrumentor's default.
    #[default]
    Default,
}

/// Turns on spans and client metrics for the Chat Completions calls the application makes
/// itself, through `ReqwestMiddleware` (feature `reqwest-middleware`): Python
/// Mirascope's `ops.instrument_openai()`, whose spans are those of
/// `opentelemetry-instrumentation-openai-v2` (see `mirascope_llm::genai::openai_v2`). Content
/// capture follows `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (off unless `true`).
/// Calling it again while on changes nothing, as in Python.
pub fn instrument_openai() {
    instrument_openai_with(ContentCapture::Default);
}

/// [`instrument_openai`] with an explicit content capture mode.
pub fn instrument_openai_with(capture: ContentCapture) {
    use mirascope_llm::genai::openai_v2;
    if openai_v2::is_instrumented() {
        return;
    }
    let capture = capture_for(
        capture,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        openai_v2::content_enabled_from_env_value,
    );
    openai_v2::SWITCH.set(true, capture);
}

/// Turns them off: calls that start afterwards are not recorded (one in flight ends its span
/// normally).
pub fn uninstrument_openai() {
    mirascope_llm::genai::openai_v2::SWITCH.set(false, false);
}

/// Whether [`instrument_openai`] is on.
pub fn is_openai_instrumented() -> bool {
    mirascope_llm::genai::openai_v2::is_instrumented()
}

/// The capture setting `mode` gives, `variable` deciding `ContentCapture::Default` with `rule`.
fn capture_for(mode: ContentCapture, variable: &str, rule: fn(Option<&str>) -> bool) -> bool {
    match mode {
        ContentCapture::Enabled => true,
        ContentCapture::Disabled => false,
        ContentCapture::Default => rule(std::env::var(variable).ok().as_deref()),
    }
}

/// Turns on spans and client metrics for the Anthropic Messages calls the application makes
/// itself, through `ReqwestMiddleware` (feature `reqwest-middleware`): Python Mirascope's
/// `ops.instrument_anthropic()`, whose spans are those of
/// `opentelemetry-instrumentation-anthropic` (see `mirascope_llm::genai::anthropic_instrumentor`).
/// Content capture follows `TRACELOOP_TRACE_CONTENT` (on unless it says otherwise). Calling it
/// again while on changes nothing, as in Python.
pub fn instrument_anthropic() {
    instrument_anthropic_with(ContentCapture::Default);
}

/// [`instrument_anthropic`] with an explicit content capture mode.
pub fn instrument_anthropic_with(capture: ContentCapture) {
    use mirascope_llm::genai::anthropic_instrumentor as a;
    if a::is_instrumented() {
        return;
    }
    let capture = capture_for(
        capture,
        "TRACELOOP_TRACE_CONTENT",
        a::content_enabled_from_env_value,
    );
    a::SWITCH.set(true, capture);
}

/// Turns them off (a call in flight ends its span normally).
pub fn uninstrument_anthropic() {
    mirascope_llm::genai::anthropic_instrumentor::SWITCH.set(false, true);
}

/// Whether [`instrument_anthropic`] is on.
pub fn is_anthropic_instrumented() -> bool {
    mirascope_llm::genai::anthropic_instrumentor::is_instrumented()
}

/// Turns on spans and client metrics for the Gemini `generateContent` /
/// `streamGenerateContent` calls the application makes itself, through `ReqwestMiddleware`
/// (feature `reqwest-middleware`): Python Mirascope's `ops.instrument_google_genai()`, whose
/// spans are those of `opentelemetry-instrumentation-google-genai` (see
/// `mirascope_llm::genai::google_genai_instrumentor`). Content capture follows
/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` (`SPAN_ONLY` or `SPAN_AND_EVENT`
/// capture). Calling it again while on changes nothing, as in Python.
pub fn instrument_google_genai() {
    instrument_google_genai_with(ContentCapture::Default);
}

/// [`instrument_google_genai`] with an explicit content capture mode.
pub fn instrument_google_genai_with(capture: ContentCapture) {
    use mirascope_llm::genai::google_genai_instrumentor as g;
    if g::is_instrumented() {
        return;
    }
    let capture = capture_for(
        capture,
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        g::content_enabled_from_env_value,
    );
    g::SWITCH.set(true, capture);
}

/// Turns them off (a call in flight ends its span normally).
pub fn uninstrument_google_genai() {
    mirascope_llm::genai::google_genai_instrumentor::SWITCH.set(false, false);
}

/// Whether [`instrument_google_genai`] is on.
pub fn is_google_genai_instrumented() -> bool {
    mirascope_llm::genai::google_genai_instrumentor::is_instrumented()
}
