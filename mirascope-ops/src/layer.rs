//! The `tracing` layer that turns spans into OpenTelemetry spans, and how it composes with the
//! user's own subscriber.
//!
//! [`layer`] builds one [`OpsLayer`] that routes every span it exports to one of three tracers:
//! - GenAI spans (target `mirascope_llm::genai`) to the tracer `mirascope.llm`, behind the
//!   instrumentation switch;
//! - Mirascope's own INTERNAL spans (target `mirascope_ops`: traces, explicit spans,
//!   `Response.resume`) to the tracer `mirascope.ops`;
//! - every other span at or above a level (default INFO: the user's `#[tracing::instrument]`
//!   spans) to the tracer `tracing`, so that a GenAI span's parent is in the exported trace.
//!
//! # Why one layer of our own, not tracing-opentelemetry's
//!
//! Two facts of tracing-subscriber 0.3 decide it (DESIGN.md, "Decisions already paid for"):
//! - a per-layer filter nested inside a layer that is added later panics ("a `Filtered` layer
//!   was used, but it had no `FilterId`", tokio-rs/tracing#1629), so a layer built from
//!   filtered tracing-opentelemetry layers cannot be reloaded in;
//! - `reload::Layer` forwards no downcast, so whatever is found by downcasting to a layer inside
//!   it (tracing-opentelemetry's `OpenTelemetrySpanExt`: array attributes, `set_parent`,
//!   `context()`) is lost; a downcast to the `Registry` still works.
//!
//! And two tracing-opentelemetry layers that see one span panic, since both insert the same
//! private type into its extensions. So [`OpsLayer`] is a plain layer that filters inside its
//! own callbacks and keeps each span's OpenTelemetry span in the `Registry`'s extensions under a
//! type of its own (`otel_span.rs`): it survives any wrapping, and it cannot fight with the
//! user's own tracing-opentelemetry layer, whichever sees what. Detecting that layer is not
//! needed to stay correct; it is only asked (through tracing-opentelemetry's public
//! `get_otel_context`) whether it already records an application span, which is then left to it.
//! This also removes the per-callback filter lookups of three filtered layers.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use opentelemetry::trace::{SpanBuilder, Status, TraceContextExt};
use opentelemetry::Context as OtelContext;
use tracing::dispatcher::WeakDispatch;
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::{LookupSpan, SpanRef};
use tracing_subscriber::Layer;

use crate::instrument;
use crate::otel_span::{self, foreign_context, reentrant, EventFields, Fields, OtelSpan, Route};
use crate::tracer::{scoped_tracer, SwitchableTracer};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// The default instrumentation scope of GenAI spans.
pub const DEFAULT_TRACER_NAME: &str = "mirascope.llm";
/// The instrumentation scope of trace, span and resume spans.
pub const OPS_TRACER_NAME: &str = "mirascope.ops";
/// The instrumentation scope of the application's own spans (`#[tracing::instrument]`, ...).
pub const APP_TRACER_NAME: &str = "tracing";

/// The route of a span or event with a Mirascope target (`mirascope_llm::genai` or below it:
/// GenAI; `mirascope_ops` or below it: Mirascope's own spans).
fn mirascope_route(target: &str) -> Option<Route> {
    let under =
        |t: &str| target == t || (target.starts_with(t) && target[t.len()..].starts_with("::"));
    if under(mirascope_llm::genai::TARGET) {
        Some(Route::Llm)
    } else if under(mirascope_llm::genai::OPS_TARGET) {
        Some(Route::Ops)
    } else {
        None
    }
}

/// The targets of every span Mirascope creates.
const MIRASCOPE_TARGETS: [&str; 2] = [
    mirascope_llm::genai::TARGET,
    mirascope_llm::genai::OPS_TARGET,
];

fn is_mirascope_target(target: &str) -> bool {
    MIRASCOPE_TARGETS
        .iter()
        .any(|t| target == *t || (target.starts_with(t) && target[t.len()..].starts_with("::")))
}

/// The OpenTelemetry layers for a subscriber you build yourself (with your `fmt` layer, filters,
/// ...), exporting to `provider`. Calling it also counts as `configure()` for
/// [`crate::instrument_llm`]. Spans of your own code at INFO and above are exported too (tracer
/// `tracing`), so your `#[tracing::instrument]` spans are the parents of the GenAI spans; see
/// [`LayerBuilder::app_spans`] to change the level.
///
/// # Composition
///
/// The layer may be wrapped in anything (`reload::Layer`, `Option`, `Box<dyn Layer>`, a `Vec`,
/// a per-layer filter) and installed, removed or swapped at run time with
/// `tracing_subscriber::reload`; it does not filter what other layers see (only GenAI spans are
/// disabled while [`crate::uninstrument_llm`] has them off).
///
/// Beside your own tracing-opentelemetry layer, in either order:
/// - yours filtered with [`exclude_mirascope`] (or any filter that drops the `mirascope_llm`
///   and `mirascope_ops` targets): ours exports Mirascope's spans, yours your spans, each once,
///   parents linked across the two (an application span yours records is left to it);
/// - yours unfiltered: yours records Mirascope's spans too, so they are exported twice, once by
///   each layer to its own provider; [`another_layer_records_mirascope_spans`] says so, and one
///   `warn!` (target `mirascope_ops::layer`) names the fix.
///
/// Or only your layer, filtered with [`llm_filter`]: yours exports everything, GenAI spans
/// included, and the instrumentation switch still works.
///
/// # `EnvFilter`
///
/// GenAI and Mirascope spans are INFO spans of the targets `mirascope_llm` and `mirascope_ops`.
/// A global `EnvFilter` of `warn` drops them; keep them with
/// `warn,mirascope_llm=info,mirascope_ops=info`.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let provider = mirascope_ops::sdk::trace::SdkTracerProvider::builder().build();
/// let subscriber = tracing_subscriber::registry().with(mirascope_ops::layer(&provider));
/// let _default = tracing::subscriber::set_default(subscriber);
/// ```
pub fn layer<S>(provider: &SdkTracerProvider) -> OpsLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    LayerBuilder::new(provider).build()
}

/// Options of [`layer`].
#[derive(Debug, Clone)]
pub struct LayerBuilder {
    provider: SdkTracerProvider,
    tracer_name: Cow<'static, str>,
    tracer_version: Option<Cow<'static, str>>,
    app_spans: LevelFilter,
    follow_switch: bool,
}

impl LayerBuilder {
    /// Layers exporting to `provider`.
    pub fn new(provider: &SdkTracerProvider) -> Self {
        LayerBuilder {
            provider: provider.clone(),
            tracer_name: Cow::Borrowed(DEFAULT_TRACER_NAME),
            tracer_version: None,
            app_spans: LevelFilter::INFO,
            follow_switch: true,
        }
    }

    /// GenAI spans from this layer whatever the global switch says ([`crate::instrument_llm`] /
    /// [`crate::uninstrument_llm`] do not affect it). For a subscriber scoped to one test or one
    /// task, so that another part of the program turning the switch cannot change what it sees.
    pub fn llm_spans_always_on(mut self) -> Self {
        self.follow_switch = false;
        self
    }

    /// The instrumentation scope name of GenAI spans (default `mirascope.llm`). The SDK copies
    /// the scope into every span it exports: the default name is shared text, any other name is
    /// copied (one small allocation a span).
    pub fn tracer_name(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.tracer_name = if name == DEFAULT_TRACER_NAME {
            Cow::Borrowed(DEFAULT_TRACER_NAME)
        } else {
            Cow::Owned(name)
        };
        self
    }

    /// The instrumentation scope version of GenAI spans.
    pub fn tracer_version(mut self, version: impl Into<String>) -> Self {
        self.tracer_version = Some(Cow::Owned(version.into()));
        self
    }

    /// The least severe level of the application's own spans that are exported (default INFO;
    /// `LevelFilter::OFF` exports only Mirascope's spans).
    pub fn app_spans(mut self, level: LevelFilter) -> Self {
        self.app_spans = level;
        self
    }

    pub(crate) fn tracers(&self) -> (SdkTracers, LevelFilter) {
        (
            SdkTracers {
                llm: scoped_tracer(
                    &self.provider,
                    self.tracer_name.clone(),
                    self.tracer_version.clone(),
                ),
                ops: scoped_tracer(&self.provider, Cow::Borrowed(OPS_TRACER_NAME), None),
                app: scoped_tracer(&self.provider, Cow::Borrowed(APP_TRACER_NAME), None),
            },
            self.app_spans,
        )
    }

    /// The layer.
    pub fn build<S>(self) -> OpsLayer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
    {
        crate::hooks::install();
        let (tracers, app) = self.tracers();
        let layer = OpsLayer::with_switch(Tracers::new(tracers), app, self.follow_switch);
        instrument::mark_configured();
        layer
    }
}

pub(crate) struct SdkTracers {
    pub(crate) llm: opentelemetry_sdk::trace::SdkTracer,
    pub(crate) ops: opentelemetry_sdk::trace::SdkTracer,
    pub(crate) app: opentelemetry_sdk::trace::SdkTracer,
}

/// The replaceable tracers behind the three layers.
#[derive(Clone, Debug)]
pub(crate) struct Tracers {
    pub(crate) llm: SwitchableTracer,
    pub(crate) ops: SwitchableTracer,
    pub(crate) app: SwitchableTracer,
}

impl Tracers {
    pub(crate) fn new(t: SdkTracers) -> Self {
        Tracers {
            llm: SwitchableTracer::new(t.llm),
            ops: SwitchableTracer::new(t.ops),
            app: SwitchableTracer::new(t.app),
        }
    }

    pub(crate) fn replace(&self, t: SdkTracers) {
        self.llm.replace(t.llm);
        self.ops.replace(t.ops);
        self.app.replace(t.app);
    }
}

/// The OpenTelemetry layer of mirascope-ops (see [`layer`] for what it exports and how it
/// composes). Made by [`layer`] or [`LayerBuilder`].
///
/// One plain layer, with no per-layer filters inside and no tracing-opentelemetry layer inside:
/// it routes each span to its tracer itself (`mirascope.llm`, `mirascope.ops`, `tracing`) and
/// keeps the OpenTelemetry span in the span's extensions under a type of its own
/// (`otel_span.rs`). So:
/// - it can be wrapped in anything (`reload::Layer`, `Option`, `Box<dyn Layer>`, a `Vec` of
///   layers, a per-layer filter) and added, removed or swapped at run time: nothing in it
///   needs a `FilterId` or a downcast to itself;
/// - it can sit beside any other layer, the application's own tracing-opentelemetry layer
///   included, in either order: the two keep different types in the extensions, so they never
///   fight over a span. An application span that the other layer records is left to it (ours
///   links GenAI spans to it, and does not export it again);
/// - it does not filter what other layers see. It disables one kind of callsite only: GenAI
///   spans while [`crate::uninstrument_llm`] has them off.
pub struct OpsLayer<S> {
    tracers: Tracers,
    app: LevelFilter,
    follow_switch: bool,
    /// Identifies this layer instance as the owner of the spans it creates.
    token: Arc<()>,
    dispatch: OnceLock<WeakDispatch>,
    checked_duplicates: AtomicBool,
    _subscriber: PhantomData<fn(S)>,
}

impl<S> std::fmt::Debug for OpsLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsLayer")
            .field("app_spans", &self.app)
            .field("follow_switch", &self.follow_switch)
            .finish_non_exhaustive()
    }
}

impl<S> OpsLayer<S> {
    pub(crate) fn new(tracers: Tracers, app: LevelFilter) -> Self {
        Self::with_switch(tracers, app, true)
    }

    /// `follow_switch`: GenAI spans follow the global switch; else they are always on.
    pub(crate) fn with_switch(tracers: Tracers, app: LevelFilter, follow_switch: bool) -> Self {
        OpsLayer {
            tracers,
            app,
            follow_switch,
            token: Arc::new(()),
            dispatch: OnceLock::new(),
            checked_duplicates: AtomicBool::new(false),
            _subscriber: PhantomData,
        }
    }

    /// Always true: the layer no longer steps aside for another OpenTelemetry layer (it keeps
    /// its spans in data of its own, so the two never conflict).
    #[deprecated(note = "OpsLayer always exports Mirascope's spans itself")]
    pub fn is_active(&self) -> bool {
        true
    }

    /// The route of a span: which tracer exports it, if any.
    fn route(&self, meta: &Metadata<'_>) -> Option<Route> {
        mirascope_route(meta.target()).or((self.app >= *meta.level()).then_some(Route::App))
    }

    fn tracer(&self, route: Route) -> &SwitchableTracer {
        match route {
            Route::Llm => &self.tracers.llm,
            Route::Ops => &self.tracers.ops,
            Route::App => &self.tracers.app,
        }
    }

    /// Whether `meta` is a GenAI span that the switch has turned off.
    #[inline]
    fn switched_off(&self, meta: &Metadata<'_>) -> bool {
        self.follow_switch
            && meta.is_span()
            && meta.target() == mirascope_llm::genai::TARGET
            && !instrument::is_llm_instrumented()
    }

    /// The dispatch this layer is part of, to ask another OpenTelemetry layer about span `id`
    /// (whose state is `state`): the one registered when the subscriber was built, else (a
    /// layer inside a `Vec`, which forwards no registration, or one added later by a reload)
    /// the current default, kept once its `Registry` is seen to hold this very `state`.
    /// Inside `on_new_span` the current default cannot be read (`tracing` hides it while it
    /// dispatches), so such a layer learns it at the first span entered.
    fn dispatch_for(&self, id: &span::Id, state: &OtelSpan) -> Option<Dispatch> {
        if let Some(d) = self.dispatch.get() {
            return d.upgrade();
        }
        let current = tracing::dispatcher::get_default(|d| d.clone());
        if otel_span::holds(&current, id, state) {
            let _ = self.dispatch.set(current.downgrade());
            return Some(current);
        }
        None
    }

    /// The parent context of a new span: the OpenTelemetry span of its `tracing` parent (ours,
    /// or another layer's), else the current OpenTelemetry context (an incoming request's trace,
    /// another tracer's span).
    fn parent_context(&self, attrs: &span::Attributes<'_>, ctx: &Context<'_, S>) -> OtelContext
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(parent) = attrs.parent() {
            let Some(parent) = ctx.span(parent) else {
                return OtelContext::new();
            };
            for ancestor in parent.scope() {
                if let Some(cx) = self.context_of(&ancestor) {
                    return cx;
                }
            }
            OtelContext::new()
        } else if attrs.is_contextual() {
            ctx.lookup_current()
                .and_then(|current| self.context_of(&current))
                .unwrap_or_else(OtelContext::current)
        } else {
            OtelContext::new()
        }
    }

    /// The OpenTelemetry context of `span`: ours (started now if needed), or another layer's.
    fn context_of<'a>(&self, span: &SpanRef<'a, S>) -> Option<OtelContext>
    where
        S: Subscriber + LookupSpan<'a>,
    {
        let id = span.id();
        let state = span.extensions().get::<OtelSpan>().cloned();
        match state {
            Some(state) => {
                let dispatch = self.dispatch_for(&id, &state);
                let cx = state.lock().context(&id, dispatch.as_ref());
                Some(cx)
            }
            None => self
                .dispatch
                .get()
                .and_then(|d| d.upgrade())
                .and_then(|d| foreign_context(&id, &d)),
        }
    }

    /// Our state of span `id`, if this layer acts on it (see `SpanState::claim`).
    fn claimed<'a>(&self, id: &span::Id, ctx: &Context<'a, S>) -> Option<OtelSpan>
    where
        S: Subscriber + for<'b> LookupSpan<'b>,
    {
        let state = ctx.span(id)?.extensions().get::<OtelSpan>().cloned()?;
        let claimed = state.lock().claim(&self.token);
        claimed.then_some(state)
    }

    /// Notes, once per layer, whether another OpenTelemetry layer records Mirascope's spans too
    /// (it then exports them a second time, to its own provider).
    fn check_duplicates(&self, id: &span::Id, state: &OtelSpan) {
        if self.checked_duplicates.load(Ordering::Relaxed) {
            return;
        }
        let Some(dispatch) = self.dispatch_for(id, state) else {
            // Not known yet (see `dispatch_for`): asked again at the next span.
            return;
        };
        if self.checked_duplicates.swap(true, Ordering::Relaxed) {
            return;
        }
        if foreign_context(id, &dispatch).is_some() {
            DUPLICATES.store(true, Ordering::Relaxed);
            tracing::warn!(
                target: "mirascope_ops::layer",
                "another tracing-opentelemetry layer also records mirascope's spans, so they are \
                 exported twice: by mirascope_ops::layer (to the provider you gave it) and by \
                 that layer. Filter that layer with `mirascope_ops::exclude_mirascope()` to \
                 export each once"
            );
        }
    }
}

/// The global filter of the subscriber that [`crate::configure`] installs, where [`OpsLayer`] is
/// the only layer: it enables exactly what the layer records (spans it routes, and Mirascope's
/// own events), so nothing else is even dispatched (a library's DEBUG and TRACE events, say).
pub(crate) struct RecordedOnly {
    pub(crate) app: LevelFilter,
}

impl RecordedOnly {
    fn wants(&self, meta: &Metadata<'_>) -> bool {
        mirascope_route(meta.target()).is_some() || (meta.is_span() && self.app >= *meta.level())
    }
}

impl<S: Subscriber> Layer<S> for RecordedOnly {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if self.wants(meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        self.wants(meta)
    }
}

static DUPLICATES: AtomicBool = AtomicBool::new(false);

/// Whether an [`OpsLayer`] found another tracing-opentelemetry layer that also records
/// Mirascope's spans (so that they are exported by both; see the [`layer`] docs). Checked on
/// the first Mirascope span each layer sees.
pub fn another_layer_records_mirascope_spans() -> bool {
    DUPLICATES.load(Ordering::Relaxed)
}

/// Former name of [`another_layer_records_mirascope_spans`] (the layer no longer steps aside).
#[deprecated(note = "use another_layer_records_mirascope_spans")]
pub fn stepped_aside_for_another_layer() -> bool {
    another_layer_records_mirascope_spans()
}

impl<S> Layer<S> for OpsLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // No opinion on anything but GenAI spans, which the switch may turn off: other layers
        // see what they would see without us.
        if self.follow_switch && meta.is_span() && meta.target() == mirascope_llm::genai::TARGET {
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        !self.switched_off(meta)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if reentrant() {
            return;
        }
        let meta = attrs.metadata();
        let Some(route) = self.route(meta) else {
            return;
        };
        if self.switched_off(meta) {
            // Enabled by another layer's interest while the switch is off.
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        if span.extensions().get::<OtelSpan>().is_some() {
            // Another of our layers (in the same subscriber) records it already.
            return;
        }
        let state = match route {
            // An application span that a tracing-opentelemetry layer below this one records
            // is that layer's (one above it is found when the span starts).
            Route::App => self
                .dispatch
                .get()
                .and_then(|d| d.upgrade())
                .and_then(|d| foreign_context(id, &d))
                .map(|cx| OtelSpan::foreign(cx, &self.token)),
            Route::Llm | Route::Ops => None,
        };
        let state = state.unwrap_or_else(|| {
            let mut fields = Fields::with_capacity(meta.fields().len());
            attrs.record(&mut fields);
            let mut builder = SpanBuilder::from_name(fields.name.take().map_or(
                std::borrow::Cow::Borrowed(meta.name()),
                std::borrow::Cow::Owned,
            ))
            .with_start_time(SystemTime::now())
            .with_attributes(fields.attributes);
            builder.span_kind = fields.kind;
            let parent = self.parent_context(attrs, &ctx);
            OtelSpan::new(
                builder,
                parent,
                fields.status.unwrap_or(Status::Unset),
                self.tracer(route).clone(),
                route,
                &self.token,
            )
        });
        span.extensions_mut().insert(state.clone());
        if route != Route::App {
            self.check_duplicates(id, &state);
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if reentrant() {
            return;
        }
        if let Some(state) = self.claimed(id, &ctx) {
            let mut fields = Fields::with_capacity(values.len());
            values.record(&mut fields);
            state.lock().record(fields);
        }
    }

    fn on_follows_from(&self, id: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        if reentrant() {
            return;
        }
        let Some(state) = self.claimed(id, &ctx) else {
            return;
        };
        let Some(follows) = ctx.span(follows) else {
            return;
        };
        if let Some(cx) = self.context_of(&follows) {
            state.lock().add_link(cx.span().span_context().clone());
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if reentrant() {
            return;
        }
        let span = match event.parent() {
            Some(parent) => ctx.span(parent),
            None if event.is_contextual() => ctx.lookup_current(),
            None => None,
        };
        let meta = event.metadata();
        // Events are recorded as span events only when Mirascope emits them, on the nearest
        // span of their own kind (a GenAI event on its GenAI span): a library's log lines
        // (a WARN about an unsupported parameter, say) are not telemetry of the call.
        let Some(route) = mirascope_route(meta.target()) else {
            return;
        };
        let Some(span) = span.into_iter().flat_map(|s| s.scope()).find(|s| {
            s.extensions()
                .get::<OtelSpan>()
                .is_some_and(|state| state.route() == route)
        }) else {
            return;
        };
        let Some(state) = self.claimed(&span.id(), &ctx) else {
            return;
        };
        let mut fields = EventFields::new(meta);
        event.record(&mut fields);
        let name = fields.name.map_or(
            std::borrow::Cow::Borrowed(meta.name()),
            std::borrow::Cow::Owned,
        );
        let otel_event =
            opentelemetry::trace::Event::new(name, SystemTime::now(), fields.attributes, 0);
        state
            .lock()
            .add_event(otel_event, *meta.level() == tracing::Level::ERROR);
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if reentrant() {
            return;
        }
        let Some(state) = self.claimed(id, &ctx) else {
            return;
        };
        let dispatch = self.dispatch_for(id, &state);
        let cx = {
            let mut st = state.lock();
            let cx = st.context(id, dispatch.as_ref());
            (!st.is_foreign()).then_some(cx)
        };
        if let Some(cx) = cx {
            otel_span::attach(id, cx);
        }
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        // Whichever of our layers attached the context (one swapped out since may have), it
        // is detached on exit.
        otel_span::detach(id);
        if let Some(state) = self.claimed(id, &ctx) {
            state.lock().exited();
        }
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if let Some(state) = self.claimed(&id, &ctx) {
            let dispatch = self.dispatch_for(&id, &state);
            state.lock().end(&id, dispatch.as_ref());
        }
    }
}

/// A per-layer filter for your own tracing-opentelemetry layer when [`layer`] is in the same
/// subscriber: it keeps Mirascope's spans away from your layer, so each span is exported once
/// (Mirascope's through ours, the rest through yours, parents linked across the two).
///
/// ```
/// use tracing_subscriber::{filter::LevelFilter, layer::SubscriberExt, Layer};
/// let provider = mirascope_ops::sdk::trace::SdkTracerProvider::builder().build();
/// let mine = tracing_opentelemetry::layer()
///     .with_tracer(opentelemetry::trace::TracerProvider::tracer(&provider, "my-app"))
///     .with_filter(mirascope_ops::exclude_mirascope());
/// let subscriber = tracing_subscriber::registry()
///     .with(mine)
///     .with(mirascope_ops::LayerBuilder::new(&provider).app_spans(LevelFilter::OFF).build());
/// # drop(subscriber);
/// ```
pub fn exclude_mirascope() -> ExcludeMirascope {
    ExcludeMirascope(())
}

/// See [`exclude_mirascope`].
#[derive(Debug, Clone)]
pub struct ExcludeMirascope(());

impl<S> Filter<S> for ExcludeMirascope {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        !is_mirascope_target(meta.target())
    }
    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_mirascope_target(meta.target()) {
            Interest::never()
        } else {
            Interest::always()
        }
    }
}

/// A per-layer filter for your own tracing-opentelemetry layer when it is the only one (no
/// [`layer`]): it lets everything through except GenAI spans while the instrumentation switch
/// is off, so [`crate::instrument_llm`] / [`crate::uninstrument_llm`] keep working. Calling it
/// counts as `configure()` and installs what mirascope-llm needs to set array attributes and
/// events through your layer.
pub fn llm_filter() -> LlmFilter {
    crate::hooks::install();
    instrument::mark_configured();
    LlmFilter(())
}

/// See [`llm_filter`].
#[derive(Debug, Clone)]
pub struct LlmFilter(());

impl<S> Filter<S> for LlmFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        meta.target() != mirascope_llm::genai::TARGET || instrument::is_llm_instrumented()
    }
    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.target() == mirascope_llm::genai::TARGET {
            Interest::sometimes()
        } else {
            Interest::always()
        }
    }
}
