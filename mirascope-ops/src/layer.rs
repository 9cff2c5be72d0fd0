//! The `tracing` layer that turns spans into OpenTelemetry spans, and how it composes with the
//! user's own subscriber.
//!
//! [`layer`] builds three tracing-opentelemetry layers behind per-layer filters, wrapped in one
//! [`OpsLayer`]:
//! - GenAI spans (target `mirascope_llm::genai`) go to the tracer `mirascope.llm`, behind the
//!   instrumentation switch;
//! - Mirascope's own INTERNAL spans (target `mirascope_ops`: traces, explicit spans,
//!   `Response.resume`) go to the tracer `mirascope.ops`;
//! - every other span at or above a level (default INFO: the user's `#[tracing::instrument]`
//!   spans) goes to the tracer `tracing`, so that a GenAI span's parent is in the exported trace.
//!
//! Parent links cross the three through the activated OpenTelemetry context.
//!
//! # Another tracing-opentelemetry layer in the same subscriber
//!
//! Two tracing-opentelemetry layers (of the same version) that both see one span panic inside
//! tracing-opentelemetry. Supported arrangements:
//! - only [`layer`] (or [`crate::configure`]);
//! - [`layer`] plus your own layer filtered with [`exclude_mirascope`]: ours exports
//!   Mirascope's spans, yours everything else;
//! - only your own layer, filtered with [`llm_filter`]: yours exports everything, GenAI spans
//!   included, and the switch still works.
//!
//! [`OpsLayer`] detects the remaining arrangement (your unfiltered layer next to ours) when the
//! subscriber is built: it then steps aside, so every span (GenAI spans included) is exported
//! once, through your layer, and it says so in a `warn!` (target `mirascope_ops::layer`) at the
//! first Mirascope span.

use std::any::TypeId;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::dispatcher::WeakDispatch;
use tracing::span;
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{reload, Layer};

use crate::instrument;
use crate::tracer::{scoped_tracer, SwitchableTracer};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// The default instrumentation scope of GenAI spans.
pub const DEFAULT_TRACER_NAME: &str = "mirascope.llm";
/// The instrumentation scope of trace, span and resume spans.
pub const OPS_TRACER_NAME: &str = "mirascope.ops";
/// The instrumentation scope of the application's own spans (`#[tracing::instrument]`, ...).
pub const APP_TRACER_NAME: &str = "tracing";

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
/// # Your own tracing-opentelemetry layer in the same subscriber
///
/// Two tracing-opentelemetry layers that both see one span would panic inside
/// tracing-opentelemetry. Supported arrangements:
/// - only this layer (or [`crate::configure`]);
/// - this layer plus yours filtered with [`exclude_mirascope`]: ours exports Mirascope's spans,
///   yours everything else, parents linked across the two;
/// - only your layer, filtered with [`llm_filter`]: yours exports everything, GenAI spans
///   included, and the instrumentation switch still works.
///
/// The remaining arrangement (your unfiltered layer next to ours, in either order) is detected
/// when the subscriber is built or at its first span: [`OpsLayer`] then steps aside, so every
/// span (GenAI spans included) is exported once, through your layer, and it says so in one
/// `warn!` (target `mirascope_ops::layer`); [`stepped_aside_for_another_layer`] tells the
/// program.
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
    tracer_name: String,
    tracer_version: Option<String>,
    app_spans: LevelFilter,
    follow_switch: bool,
}

impl LayerBuilder {
    /// Layers exporting to `provider`.
    pub fn new(provider: &SdkTracerProvider) -> Self {
        LayerBuilder {
            provider: provider.clone(),
            tracer_name: DEFAULT_TRACER_NAME.into(),
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

    /// The instrumentation scope name of GenAI spans (default `mirascope.llm`).
    pub fn tracer_name(mut self, name: impl Into<String>) -> Self {
        self.tracer_name = name.into();
        self
    }

    /// The instrumentation scope version of GenAI spans.
    pub fn tracer_version(mut self, version: impl Into<String>) -> Self {
        self.tracer_version = Some(version.into());
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
                    &self.tracer_name,
                    self.tracer_version.as_deref(),
                ),
                ops: scoped_tracer(&self.provider, OPS_TRACER_NAME, None),
                app: scoped_tracer(&self.provider, APP_TRACER_NAME, None),
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

fn otel_layer<S>(
    tracer: SwitchableTracer,
) -> tracing_opentelemetry::OpenTelemetryLayer<S, SwitchableTracer>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // Context activation stays on for all three layers, GenAI spans included, although a
    // model call runs no user code inside its span. Activation is also what starts a span's
    // OpenTelemetry span with its own layer's tracer: `OpenTelemetrySpanExt::context()` (the
    // `traceparent` header) starts a span not yet entered with the tracer of whichever of the
    // three layers answers its lookup first, which gives it the wrong instrumentation scope
    // (tested in `tests/composition.rs`). Streams avoid the per-poll cost by not entering
    // their span after the request is sent (`StreamResponse::poll_chunk`).
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
        .with_error_events_to_exceptions(false)
        .with_error_events_to_status(false)
}

/// An OpenTelemetry layer that does nothing with spans and events while its [`OpsLayer`] has
/// stepped aside for another OpenTelemetry layer (which then owns every span's data). It sits
/// inside the per-layer filter, so the filter's bookkeeping runs either way.
struct Gate<L> {
    layer: L,
    active: Arc<AtomicBool>,
}

impl<L> Gate<L> {
    #[inline]
    fn on(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }
}

impl<S, L> Layer<S> for Gate<L>
where
    S: Subscriber,
    L: Layer<S>,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.layer.on_layer(subscriber)
    }
    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        self.layer.on_register_dispatch(dispatch)
    }
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.layer.register_callsite(metadata)
    }
    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.layer.enabled(metadata, ctx)
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.layer.max_level_hint()
    }
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_new_span(attrs, id, ctx)
        }
    }
    fn on_record(&self, span: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_record(span, values, ctx)
        }
    }
    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_follows_from(span, follows, ctx)
        }
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_event(event, ctx)
        }
    }
    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_enter(id, ctx)
        }
    }
    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_exit(id, ctx)
        }
    }
    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_close(id, ctx)
        }
    }
    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        if self.on() {
            self.layer.on_id_change(old, new, ctx)
        }
    }
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        // SAFETY: forwarded to the wrapped layer, which upholds the contract.
        unsafe { self.layer.downcast_raw(id) }
    }
}

/// Everything that is not Mirascope's, at or above `level`.
#[derive(Clone)]
struct AppSpans(LevelFilter);

impl<S> Filter<S> for AppSpans {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        meta.is_span() && self.0 >= *meta.level() && !is_mirascope_target(meta.target())
    }
    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() && self.0 >= *meta.level() && !is_mirascope_target(meta.target()) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.0)
    }
}

type Inner<S> = Box<dyn Layer<S> + Send + Sync + 'static>;

/// The OpenTelemetry layer of mirascope-ops (see [`layer`] for what it exports and how it
/// composes with other OpenTelemetry layers). Made by [`layer`] or [`LayerBuilder`].
pub struct OpsLayer<S> {
    inner: Inner<S>,
    active: Arc<AtomicBool>,
    warned: AtomicBool,
    probed: AtomicBool,
    dispatch: OnceLock<WeakDispatch>,
    with_context: Option<TypeId>,
}

impl<S> std::fmt::Debug for OpsLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsLayer")
            .field("active", &self.is_active())
            .finish_non_exhaustive()
    }
}

impl<S> OpsLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    pub(crate) fn new(tracers: Tracers, app: LevelFilter) -> Self {
        Self::with_switch(tracers, app, true)
    }

    /// `follow_switch`: GenAI spans follow the global switch; else they are always on.
    pub(crate) fn with_switch(tracers: Tracers, app: LevelFilter, follow_switch: bool) -> Self {
        let active = Arc::new(AtomicBool::new(true));
        let initial = if !follow_switch || instrument::is_llm_instrumented() {
            LevelFilter::TRACE
        } else {
            LevelFilter::OFF
        };
        let (switch, handle) = reload::Layer::new(initial);
        if follow_switch {
            instrument::register_switch(move |on| {
                let level = if on {
                    LevelFilter::TRACE
                } else {
                    LevelFilter::OFF
                };
                handle.modify(|f| *f = level).is_ok()
            });
        }
        let genai = Targets::new().with_target(mirascope_llm::genai::TARGET, LevelFilter::TRACE);
        let internal =
            Targets::new().with_target(mirascope_llm::genai::OPS_TARGET, LevelFilter::TRACE);
        let gate = |tracer| Gate {
            layer: otel_layer(tracer),
            active: active.clone(),
        };
        let inner = gate(tracers.llm)
            .with_filter(genai.and(switch))
            .and_then(gate(tracers.ops).with_filter(internal))
            .and_then(gate(tracers.app).with_filter(AppSpans(app)));
        OpsLayer {
            inner: Box::new(inner),
            active,
            warned: AtomicBool::new(false),
            probed: AtomicBool::new(false),
            dispatch: OnceLock::new(),
            with_context: with_context_type_id(),
        }
    }
}

impl<S> OpsLayer<S> {
    /// Whether this layer exports spans itself (false when it found another OpenTelemetry layer
    /// that sees Mirascope's spans and stepped aside for it).
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    fn step_aside(&self) {
        self.active.store(false, Ordering::Relaxed);
        CONFLICT.store(true, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    Idle,
    Probing,
    ReachedUs,
}

thread_local! {
    static PROBE: Cell<Probe> = const { Cell::new(Probe::Idle) };
}

impl<S> OpsLayer<S> {
    /// Whether a lookup of tracing-opentelemetry's context (what `OpenTelemetrySpanExt` does)
    /// is answered by a layer above this one, before it reaches this one. `id` is a live span
    /// that no OpenTelemetry layer above has seen yet, so the lookup finds no data and changes
    /// nothing.
    fn outer_layer_answers(&self, id: &span::Id) -> bool {
        let Some(dispatch) = self.dispatch.get().and_then(|d| d.upgrade()) else {
            return false;
        };
        if self.with_context.is_none() {
            return false;
        }
        PROBE.with(|p| p.set(Probe::Probing));
        let _ = tracing_opentelemetry::get_otel_context(id, &dispatch);
        let reached = PROBE.with(|p| p.replace(Probe::Idle)) == Probe::ReachedUs;
        let excluded = dispatch.downcast_ref::<ExcludeMirascope>().is_some();
        !reached && !excluded
    }

    fn warn_once(&self) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "mirascope_ops::layer",
                "another tracing-opentelemetry layer sees mirascope's spans: mirascope_ops::layer \
                 steps aside and they are exported through that layer (the instrumentation \
                 switch and the mirascope.* scopes do not apply). Filter your layer with \
                 `mirascope_ops::exclude_mirascope()` to export them through mirascope_ops, or \
                 with `mirascope_ops::llm_filter()` and drop mirascope_ops::layer"
            );
        }
    }
}

static CONFLICT: AtomicBool = AtomicBool::new(false);

/// Whether an [`OpsLayer`] found another tracing-opentelemetry layer that also sees Mirascope's
/// spans, and stepped aside (see the [`layer`] docs).
pub fn stepped_aside_for_another_layer() -> bool {
    CONFLICT.load(Ordering::Relaxed)
}

/// The `TypeId` of tracing-opentelemetry's private `WithContext`, the marker its layers answer
/// `downcast_raw` for (and that `OpenTelemetrySpanExt` looks up). Learned once, by asking
/// `get_otel_context` on a subscriber that records what it is asked for.
fn with_context_type_id() -> Option<TypeId> {
    static ID: OnceLock<Option<TypeId>> = OnceLock::new();
    static ASKED: Mutex<Vec<TypeId>> = Mutex::new(Vec::new());
    struct Spy;
    impl Subscriber for Spy {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            false
        }
        fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
            span::Id::from_u64(1)
        }
        fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
        fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
        fn event(&self, _: &Event<'_>) {}
        fn enter(&self, _: &span::Id) {}
        fn exit(&self, _: &span::Id) {}
        unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
            if id == TypeId::of::<Self>() {
                return Some(self as *const Self as *const ());
            }
            ASKED.lock().unwrap_or_else(|e| e.into_inner()).push(id);
            None
        }
    }
    *ID.get_or_init(|| {
        let dispatch = Dispatch::new(Spy);
        ASKED.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let _ = tracing_opentelemetry::get_otel_context(&span::Id::from_u64(1), &dispatch);
        let asked = std::mem::take(&mut *ASKED.lock().unwrap_or_else(|e| e.into_inner()));
        match asked.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    })
}

/// Whether `dispatch` (or a subscriber) holds a layer filtered with [`exclude_mirascope`].
fn has_exclusion(downcast: impl Fn(TypeId) -> bool) -> bool {
    downcast(TypeId::of::<ExcludeMirascope>())
}

impl<S> Layer<S> for OpsLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        // A tracing-opentelemetry layer below this one (added to the registry before it).
        if let Some(id) = self.with_context {
            // SAFETY: only compared with null; the pointer is never dereferenced.
            let below = unsafe { subscriber.downcast_raw(id) }.is_some();
            let excluded = has_exclusion(|t| unsafe { subscriber.downcast_raw(t) }.is_some());
            if below && !excluded {
                self.step_aside();
            }
        }
        self.inner.on_layer(subscriber);
    }

    fn on_register_dispatch(&self, dispatch: &Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
        self.inner.on_register_dispatch(dispatch);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let ours = is_mirascope_target(attrs.metadata().target());
        // A plain load first: after the first span, no read-modify-write on the hot path.
        if self.is_active()
            && !self.probed.load(Ordering::Relaxed)
            && !self.probed.swap(true, Ordering::Relaxed)
        {
            // A tracing-opentelemetry layer added after this one would panic on a span that
            // ours has taken: look for one before handing the first span to ours.
            if self.outer_layer_answers(id) {
                // The gates close before the span reaches ours; the per-layer filters still
                // see it, so their bookkeeping stays right.
                self.step_aside();
            }
        }
        if ours && !self.is_active() {
            self.warn_once();
        }
        self.inner.on_new_span(attrs, id, ctx)
    }

    fn on_record(&self, span: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(span, values, ctx)
    }

    fn on_follows_from(&self, span: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx)
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.inner.on_event(event, ctx)
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_enter(id, ctx)
    }

    fn on_exit(&self, id: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_exit(id, ctx)
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        self.inner.on_close(id, ctx)
    }

    fn on_id_change(&self, old: &span::Id, new: &span::Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            return Some(self as *const Self as *const ());
        }
        if Some(id) == self.with_context {
            // Probing for a layer above this one: note that the lookup reached us.
            if PROBE.with(|p| p.get()) == Probe::Probing {
                PROBE.with(|p| p.set(Probe::ReachedUs));
                return None;
            }
            // Stepped aside: `OpenTelemetrySpanExt` must reach the other layer, which holds
            // the data.
            if !self.is_active() {
                return None;
            }
        }
        // SAFETY: forwarded to the inner layer, which upholds the contract.
        unsafe { self.inner.downcast_raw(id) }
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
