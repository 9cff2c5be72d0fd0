//! The hooks `mirascope-llm` reads through: the current session (sessions live here, in
//! `mirascope-ops`), and the OpenTelemetry span our layer keeps for a `tracing` span, on which
//! `mirascope-llm` writes arrays, events and the trace context of provider requests through the
//! OpenTelemetry API (its `otel` feature).

/// Installs the hooks once per process.
pub(crate) fn install() {
    mirascope_llm::genai::install_span_context_lookup(crate::otel_span::lookup);
    mirascope_llm::genai::install_ops_hooks(mirascope_llm::genai::OpsHooks {
        session: || {
            crate::session::current_session().map(|s| (s.id, s.attributes.map(|a| a.to_string())))
        },
    });
}
