//! `configure` checks before it installs: when another global subscriber is already installed it
//! fails with `SubscriberAlreadySet` and leaves the global tracer provider as it was.

use mirascope::ops::{self, OpsError};
use opentelemetry::trace::{Tracer, TracerProvider as _};

#[test]
fn a_failed_configure_changes_no_global() {
    // The application's own global subscriber and tracer provider.
    tracing::subscriber::set_global_default(tracing_subscriber::registry())
        .expect("the app's subscriber");
    let (app_provider, app_exporter) = ops::testing::in_memory_provider();
    opentelemetry::global::set_tracer_provider(app_provider.clone());

    let (ours, our_exporter) = ops::testing::in_memory_provider();
    let err = ops::configure(ours).expect_err("a subscriber is already installed");
    assert!(matches!(err, OpsError::SubscriberAlreadySet), "{err:?}");
    // Nothing was switched on: the instrumentation still needs a configure() that worked.
    assert!(matches!(
        ops::instrument_llm(),
        Err(OpsError::NotConfigured)
    ));

    // The global tracer provider is still the application's.
    opentelemetry::global::tracer("probe").in_span("after", |_| {});
    let _ = app_provider.force_flush();
    let names: Vec<_> = app_exporter
        .get_finished_spans()
        .unwrap()
        .into_iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["after"]);
    assert!(our_exporter.get_finished_spans().unwrap().is_empty());
    let _ = app_provider.tracer("unused");
}
