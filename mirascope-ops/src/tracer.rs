//! A tracer whose provider can be replaced at runtime: `configure()` may be called again (as in
//! Python Mirascope) without reinstalling the `tracing` subscriber.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

use opentelemetry::trace::{SpanBuilder, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

/// The tracer behind one of the OpenTelemetry layers.
#[derive(Clone, Debug)]
pub(crate) struct SwitchableTracer {
    inner: Arc<RwLock<SdkTracer>>,
}

/// A tracer of `provider` with the instrumentation scope `name` (and `version`). The SDK
/// clones the scope into every span it exports: a borrowed `'static` name (the default ones)
/// makes that clone free of allocation.
pub(crate) fn scoped_tracer(
    provider: &SdkTracerProvider,
    name: Cow<'static, str>,
    version: Option<Cow<'static, str>>,
) -> SdkTracer {
    let mut scope = InstrumentationScope::builder(name);
    if let Some(v) = version {
        scope = scope.with_version(v);
    }
    provider.tracer_with_scope(scope.build())
}

impl SwitchableTracer {
    pub(crate) fn new(tracer: SdkTracer) -> Self {
        SwitchableTracer {
            inner: Arc::new(RwLock::new(tracer)),
        }
    }

    pub(crate) fn replace(&self, tracer: SdkTracer) {
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = tracer;
    }
}

impl opentelemetry::trace::Tracer for SwitchableTracer {
    type Span = opentelemetry_sdk::trace::Span;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .build_with_context(builder, parent_cx)
    }
}
