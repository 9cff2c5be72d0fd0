//! The hook `mirascope-llm` reads the current session through (sessions live here, in
//! `mirascope-ops`). Arrays, events and the trace context of provider requests need no hook:
//! `mirascope-llm` writes them through the OpenTelemetry API itself (its `otel` feature).

/// Installs the hook once per process.
pub(crate) fn install() {
    mirascope_llm::genai::install_ops_hooks(mirascope_llm::genai::OpsHooks {
        session: || {
            crate::session::current_session().map(|s| (s.id, s.attributes.map(|a| a.to_string())))
        },
    });
}
