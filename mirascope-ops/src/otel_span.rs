//! The OpenTelemetry span behind one `tracing` span, as [`crate::OpsLayer`] keeps it: a value of
//! this module's own type ([`OtelSpan`]) in the span's `Registry` extensions.
//!
//! Why a type of our own, and why the `Registry`:
//! - Two layers can never fight over it. tracing-opentelemetry's layers all insert the same
//!   private type, so two of them that see one span panic; the application's own
//!   tracing-opentelemetry layer and ours each keep their own data here, side by side.
//! - It survives whatever wraps our layer. `reload::Layer` answers no downcast, so data found
//!   by downcasting to a layer is lost inside it; the `Registry` is reached through the
//!   subscriber stack whatever sits on it, so [`context`] and [`set_parent`] work through
//!   `reload`, `Option`, boxes and filters.
//!
//! A span starts lazily, as in tracing-opentelemetry: its OpenTelemetry span is built when it is
//! first entered, gets a child, is asked for its context, or closes, so that
//! [`set_parent`] (an incoming request's trace) can still change its parent after creation.
//! Each span is owned by the layer that created it; if that layer is dropped (a reload swapped
//! it out), the next of our layers to see the span adopts it, and a span no layer closes is
//! ended when the `Registry` drops it. Every span is ended exactly once.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::SystemTime;

use opentelemetry::trace::{
    SpanBuilder, SpanContext, SpanKind, Status, TraceContextExt, Tracer as _,
};
use opentelemetry::{Context, ContextGuard, Key, KeyValue, StringValue, Value};
use tracing::field::{Field, Visit};
use tracing::{span, Dispatch};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Registry;

use crate::tracer::SwitchableTracer;

/// `otel.name`: the span's name, when it is not a static string.
const NAME_FIELD: &str = "otel.name";
/// `otel.kind`: `client`, `server`, `producer`, `consumer` or `internal`.
const KIND_FIELD: &str = "otel.kind";
/// `otel.status_code`: `ok` or `error`.
const STATUS_CODE_FIELD: &str = "otel.status_code";
/// `otel.status_description`: an error status with this description.
const STATUS_DESCRIPTION_FIELD: &str = "otel.status_description";

/// What kind of span a layer took: it decides the tracer, and whether another OpenTelemetry
/// layer may own the span instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// A GenAI span (target `mirascope_llm::genai`), tracer `mirascope.llm`.
    Llm,
    /// Mirascope's own spans (target `mirascope_ops`), tracer `mirascope.ops`.
    Ops,
    /// The application's spans, tracer `tracing`; left to another OpenTelemetry layer that
    /// records them (so that each is exported once).
    App,
}

/// The value kept in a span's extensions.
#[derive(Clone)]
pub(crate) struct OtelSpan(Arc<Mutex<SpanState>>);

pub(crate) struct SpanState {
    phase: Phase,
    route: Route,
    /// The last time the span was exited: a span ends there (as tracing-opentelemetry's do),
    /// so a span handle kept alive after its work does not stretch it.
    end_time: Option<SystemTime>,
    /// The layer that created (or adopted) the span.
    owner: Weak<()>,
}

enum Phase {
    /// Not started yet.
    Pending(Box<Pending>),
    /// Started by us.
    Started(Context),
    /// An application span that another OpenTelemetry layer records: we only link to it.
    Foreign(Context),
    /// Ended (the context is kept for the ids).
    Ended(Context),
}

struct Pending {
    builder: SpanBuilder,
    parent: Context,
    status: Status,
    tracer: SwitchableTracer,
}

thread_local! {
    /// Set while we call into OpenTelemetry or another layer with a span's state locked:
    /// anything they emit through `tracing` is not recorded (it would lock the same state).
    static INSIDE: Cell<bool> = const { Cell::new(false) };
    /// The contexts attached by entering our spans, with their span ids.
    static ATTACHED: RefCell<Vec<(u64, ContextGuard)>> = const { RefCell::new(Vec::new()) };
}

/// Whether this thread is inside one of our calls into OpenTelemetry (see [`INSIDE`]).
pub(crate) fn reentrant() -> bool {
    INSIDE.with(|i| i.get())
}

fn guarded<R>(f: impl FnOnce() -> R) -> R {
    let was = INSIDE.with(|i| i.replace(true));
    let r = f();
    INSIDE.with(|i| i.set(was));
    r
}

/// The context of the application span `id` as another tracing-opentelemetry layer records
/// it, if one does. That crate's lookup `expect`s its own invariants; a panic there is caught
/// and read as "no", never passed on into the user's program.
pub(crate) fn foreign_context(id: &span::Id, dispatch: &Dispatch) -> Option<Context> {
    let lookup = || tracing_opentelemetry::get_otel_context(id, dispatch);
    let cx = guarded(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(lookup)))
        .ok()
        .flatten()?;
    cx.span().span_context().is_valid().then_some(cx)
}

impl OtelSpan {
    /// A span not started yet.
    pub(crate) fn new(
        builder: SpanBuilder,
        parent: Context,
        status: Status,
        tracer: SwitchableTracer,
        route: Route,
        owner: &Arc<()>,
    ) -> Self {
        OtelSpan(Arc::new(Mutex::new(SpanState {
            route,
            phase: Phase::Pending(Box::new(Pending {
                builder,
                parent,
                status,
                tracer,
            })),
            end_time: None,
            owner: Arc::downgrade(owner),
        })))
    }

    /// An application span that another OpenTelemetry layer records.
    pub(crate) fn foreign(cx: Context, owner: &Arc<()>) -> Self {
        OtelSpan(Arc::new(Mutex::new(SpanState {
            route: Route::App,
            phase: Phase::Foreign(cx),
            end_time: None,
            owner: Arc::downgrade(owner),
        })))
    }

    /// The span's route.
    pub(crate) fn route(&self) -> Route {
        self.lock().route
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SpanState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SpanState {
    /// Whether the layer holding `token` acts on this span: it created it, or the layer that
    /// did is gone (swapped out by a reload) and this one adopts it.
    pub(crate) fn claim(&mut self, token: &Arc<()>) -> bool {
        if std::ptr::eq(self.owner.as_ptr(), Arc::as_ptr(token)) {
            return true;
        }
        if self.owner.strong_count() == 0 {
            self.owner = Arc::downgrade(token);
            return true;
        }
        false
    }

    /// The span's context, starting it first if it has not started. An application span
    /// that another layer has taken meanwhile (`dispatch` finds it there) becomes theirs.
    pub(crate) fn context(&mut self, id: &span::Id, dispatch: Option<&Dispatch>) -> Context {
        if let Phase::Pending(_) = &self.phase {
            if self.route == Route::App {
                if let Some(cx) = dispatch.and_then(|d| foreign_context(id, d)) {
                    self.phase = Phase::Foreign(cx.clone());
                    return cx;
                }
            }
        }
        match &self.phase {
            Phase::Started(cx) | Phase::Foreign(cx) | Phase::Ended(cx) => cx.clone(),
            Phase::Pending(_) => {
                let Phase::Pending(p) =
                    std::mem::replace(&mut self.phase, Phase::Ended(Context::new()))
                else {
                    unreachable!("matched above")
                };
                let Pending {
                    builder,
                    parent,
                    status,
                    tracer,
                    ..
                } = *p;
                let cx = guarded(|| {
                    let mut span = crate::keyed_span::KeyedSpan::new(
                        tracer.build_with_context(builder, &parent),
                    );
                    if status != Status::Unset {
                        opentelemetry::trace::Span::set_status(&mut span, status);
                    }
                    parent.with_span(span)
                });
                self.phase = Phase::Started(cx.clone());
                cx
            }
        }
    }

    /// Whether the span is ours to export (not another layer's), whatever its phase.
    pub(crate) fn is_foreign(&self) -> bool {
        matches!(self.phase, Phase::Foreign(_))
    }

    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    /// Replaces the parent of a span that has not started (an incoming request's context).
    /// Returns false once it has started.
    pub(crate) fn set_parent(&mut self, cx: Context) -> bool {
        match &mut self.phase {
            Phase::Pending(p) => {
                p.parent = cx;
                true
            }
            _ => false,
        }
    }

    /// Applies recorded fields.
    pub(crate) fn record(&mut self, fields: Fields) {
        match &mut self.phase {
            Phase::Pending(p) => {
                if let Some(name) = fields.name {
                    p.builder.name = name.into();
                }
                if let Some(kind) = fields.kind {
                    p.builder.span_kind = Some(kind);
                }
                if let Some(status) = fields.status {
                    p.status = status;
                }
                if !fields.attributes.is_empty() {
                    let list = p.builder.attributes.get_or_insert_with(Vec::new);
                    // One value a key, the last (crate::keyed_span).
                    for kv in fields.attributes {
                        crate::keyed_span::upsert(list, kv);
                    }
                }
            }
            Phase::Started(cx) => {
                let span = cx.span();
                guarded(|| {
                    if let Some(name) = fields.name {
                        span.update_name(name);
                    }
                    if let Some(status) = fields.status {
                        span.set_status(status);
                    }
                    span.set_attributes(fields.attributes);
                });
            }
            Phase::Foreign(_) | Phase::Ended(_) => {}
        }
    }

    /// Adds an event (and, for an ERROR event, an error status if none is set yet, as
    /// tracing-opentelemetry does).
    pub(crate) fn add_event(&mut self, event: opentelemetry::trace::Event, error: bool) {
        match &mut self.phase {
            Phase::Pending(p) => {
                if error && p.status == Status::Unset {
                    p.status = Status::error("");
                }
                p.builder.events.get_or_insert_with(Vec::new).push(event);
            }
            Phase::Started(cx) => {
                let span = cx.span();
                guarded(|| {
                    if error {
                        span.set_status(Status::error(""));
                    }
                    span.add_event_with_timestamp(event.name, event.timestamp, event.attributes);
                });
            }
            Phase::Foreign(_) | Phase::Ended(_) => {}
        }
    }

    /// Links the span to another span's context (`follows_from`).
    pub(crate) fn add_link(&mut self, to: SpanContext) {
        match &mut self.phase {
            Phase::Pending(p) => p
                .builder
                .links
                .get_or_insert_with(Vec::new)
                .push(opentelemetry::trace::Link::with_context(to)),
            Phase::Started(cx) => {
                let span = cx.span();
                guarded(|| span.add_link(to, Vec::new()));
            }
            Phase::Foreign(_) | Phase::Ended(_) => {}
        }
    }

    /// Notes an exit (the span ends at its last one).
    pub(crate) fn exited(&mut self) {
        self.end_time = Some(SystemTime::now());
    }

    /// Ends the span (starting it first if it never started), once.
    pub(crate) fn end(&mut self, id: &span::Id, dispatch: Option<&Dispatch>) {
        if matches!(self.phase, Phase::Foreign(_) | Phase::Ended(_)) {
            return;
        }
        let cx = self.context(id, dispatch);
        if self.is_foreign() {
            return;
        }
        let end = self.end_time.unwrap_or_else(SystemTime::now);
        guarded(|| cx.span().end_with_timestamp(end));
        self.phase = Phase::Ended(cx);
    }
}

impl Drop for SpanState {
    /// A span whose layer was removed before it closed (a reload to `None`) still ends, when
    /// the `Registry` drops it.
    fn drop(&mut self) {
        let end = self.end_time.unwrap_or_else(SystemTime::now);
        match std::mem::replace(&mut self.phase, Phase::Ended(Context::new())) {
            Phase::Pending(p) => guarded(|| {
                let mut span = p.tracer.build_with_context(p.builder, &p.parent);
                use opentelemetry::trace::Span as _;
                span.set_status(p.status);
                span.end_with_timestamp(end);
            }),
            Phase::Started(cx) => guarded(|| cx.span().end_with_timestamp(end)),
            Phase::Foreign(_) | Phase::Ended(_) => {}
        }
    }
}

/// Attaches `cx` as the current OpenTelemetry context while span `id` is entered on this
/// thread, so that OpenTelemetry code running inside it (the user's, another tracer's) sees it.
pub(crate) fn attach(id: &span::Id, cx: Context) {
    let guard = cx.attach();
    ATTACHED.with(|a| a.borrow_mut().push((id.into_u64(), guard)));
}

/// Detaches what entering span `id` attached on this thread (the last entry, if several).
pub(crate) fn detach(id: &span::Id) {
    let id = id.into_u64();
    let guard = ATTACHED.with(|a| {
        let mut a = a.borrow_mut();
        a.iter()
            .rposition(|(i, _)| *i == id)
            .map(|pos| a.remove(pos))
    });
    drop(guard);
}

/// What a set of `tracing` fields says about a span: its attributes, and the special
/// `otel.*` fields (name, kind, status), read as tracing-opentelemetry reads them.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) name: Option<String>,
    pub(crate) kind: Option<SpanKind>,
    pub(crate) status: Option<Status>,
    pub(crate) attributes: Vec<KeyValue>,
}

/// The most attributes a span's vector is sized for at creation (see [`Fields::with_capacity`]):
/// 18 × 56 bytes stays under 1 KiB.
const MAX_PRESIZED: usize = 18;

impl Fields {
    /// Fields with room for `n` attributes, at most [`MAX_PRESIZED`]. A new span's vector
    /// becomes the OpenTelemetry span's own (the SDK keeps the builder's), so sizing it for
    /// the fields the callsite declares spares the reallocations of the attributes recorded
    /// later. Not past [`MAX_PRESIZED`]: a GenAI span declares 41 fields and records about 17,
    /// and a block over 1 KiB is dearer to allocate than the reallocations it saves (glibc's
    /// large bins, merged on each such request; freed on the exporter's thread).
    pub(crate) fn with_capacity(n: usize) -> Self {
        Fields {
            attributes: Vec::with_capacity(n.min(MAX_PRESIZED)),
            ..Fields::default()
        }
    }

    /// Reads one of the special `otel.*` fields; false for any other field. `value` is
    /// borrowed where the field only needs parsing (`otel.kind`, `otel.status_code`), so only
    /// a name or a description is copied.
    fn special(&mut self, field: &Field, value: std::borrow::Cow<'_, str>) -> bool {
        if !is_special(field.name()) {
            return false;
        }
        match field.name() {
            NAME_FIELD => self.name = Some(value.into_owned()),
            KIND_FIELD => self.kind = span_kind(&value),
            STATUS_CODE_FIELD => self.status = Some(status(&value)),
            STATUS_DESCRIPTION_FIELD => self.status = Some(Status::error(value.into_owned())),
            _ => return false,
        }
        true
    }
}

/// Whether `name` is one of the special `otel.*` fields ([`Fields::special`]). Asked for every
/// field recorded: the common answer (no) is one comparison of the prefix.
fn is_special(name: &str) -> bool {
    name.starts_with("otel.")
        && matches!(
            name,
            NAME_FIELD | KIND_FIELD | STATUS_CODE_FIELD | STATUS_DESCRIPTION_FIELD
        )
}

fn span_kind(s: &str) -> Option<SpanKind> {
    [
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
        ("internal", SpanKind::Internal),
    ]
    .into_iter()
    .find(|(name, _)| s.eq_ignore_ascii_case(name))
    .map(|(_, kind)| kind)
}

fn status(s: &str) -> Status {
    if s.eq_ignore_ascii_case("ok") {
        Status::Ok
    } else if s.eq_ignore_ascii_case("error") {
        Status::error("")
    } else {
        Status::Unset
    }
}

impl Visit for Fields {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push(KeyValue::new(field.name(), value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        // OpenTelemetry integers are `i64`; a larger `u64` is kept as its decimal text (as
        // tracing-opentelemetry does), never wrapped to a negative number.
        match i64::try_from(value) {
            Ok(v) => self.record_i64(field, v),
            Err(_) => self.record_str(field, &value.to_string()),
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.special(field, std::borrow::Cow::Borrowed(value)) {
            self.attributes
                .push(KeyValue::new(field.name(), value.to_string()));
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if is_special(field.name()) {
            self.special(field, std::borrow::Cow::Owned(text));
        } else {
            self.attributes.push(KeyValue::new(field.name(), text));
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let mut chain: Vec<StringValue> = Vec::new();
        let mut next = value.source();
        while let Some(e) = next {
            chain.push(e.to_string().into());
            next = e.source();
        }
        self.attributes
            .push(KeyValue::new(field.name(), value.to_string()));
        self.attributes.push(KeyValue::new(
            format!("{}.chain", field.name()),
            Value::Array(chain.into()),
        ));
    }
}

/// An event's fields as an OpenTelemetry event: its `message` is the name, its other fields
/// the attributes, after `level` and `target` (as tracing-opentelemetry writes them).
pub(crate) struct EventFields {
    pub(crate) name: Option<String>,
    pub(crate) attributes: Vec<KeyValue>,
}

impl EventFields {
    pub(crate) fn new(meta: &tracing::Metadata<'_>) -> Self {
        EventFields {
            name: None,
            attributes: vec![
                KeyValue::new(Key::new("level"), meta.level().as_str()),
                KeyValue::new(Key::new("target"), meta.target().to_string()),
            ],
        }
    }

    fn push(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.name = Some(value.as_str().into_owned());
        } else {
            self.attributes.push(KeyValue::new(field.name(), value));
        }
    }
}

impl Visit for EventFields {
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.push(field, v.into()),
            Err(_) => self.push(field, value.to_string().into()),
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value.to_string().into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, format!("{value:?}").into());
    }
}

/// The state our layer keeps for the span `id` of `dispatch`'s `Registry`, if any.
fn state_in(dispatch: &Dispatch, id: &span::Id) -> Option<OtelSpan> {
    let registry = dispatch.downcast_ref::<Registry>()?;
    let span = registry.span(id)?;
    let ext = span.extensions();
    ext.get::<OtelSpan>().cloned()
}

/// Whether `dispatch`'s `Registry` holds `state` for span `id` (so that `dispatch` is the one
/// `state` belongs to).
pub(crate) fn holds(dispatch: &Dispatch, id: &span::Id, state: &OtelSpan) -> bool {
    state_in(dispatch, id).is_some_and(|found| Arc::ptr_eq(&found.0, &state.0))
}

/// The OpenTelemetry context our layer keeps for `span` (starting its span if needed), or
/// `None` when no layer of ours records it. Installed as mirascope-llm's lookup.
pub(crate) fn lookup(span: &tracing::Span) -> Option<Context> {
    span.with_subscriber(|(id, dispatch)| {
        let state = state_in(dispatch, id)?;
        let mut st = state.lock();
        Some(st.context(id, Some(dispatch)))
    })
    .flatten()
}

/// The OpenTelemetry context of `span`: ours, else a tracing-opentelemetry layer's.
pub(crate) fn context(span: &tracing::Span) -> Context {
    mirascope_llm::genai::span_context(span)
}

#[cfg_attr(not(feature = "axum"), allow(dead_code))]
/// Makes `cx` the parent of `span` (which must not have started: set it right after
/// creating the span). Through our layer when it records the span, else through a
/// tracing-opentelemetry layer's `OpenTelemetrySpanExt::set_parent`.
pub(crate) fn set_parent(span: &tracing::Span, cx: Context) {
    let ours = span
        .with_subscriber(|(id, dispatch)| state_in(dispatch, id))
        .flatten();
    match ours {
        Some(state) => {
            state.lock().set_parent(cx);
        }
        None => {
            use tracing_opentelemetry::OpenTelemetrySpanExt;
            let _ = span.set_parent(cx);
        }
    }
}
