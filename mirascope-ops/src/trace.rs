//! The runtime of `#[ops::trace]`: the INTERNAL span of a traced function (target
//! `mirascope_ops`, scope `mirascope.ops`) with Mirascope's attributes, argument and output
//! recording, errors and panics; and [`traced_call`], the span around a traced `#[llm::call]`'s [`LazyCall`].

use mirascope_llm::genai::keys;
use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use mirascope_llm::genai::{self, resume::attach_response, AttrValue};
use mirascope_llm::model::BoxFuture;
use mirascope_llm::{CallWrapper, LazyCall, Response, StreamResponse, StreamWatcher};
use opentelemetry::trace::{SpanId, TraceId};
use serde_json::Value;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::session;

/// Static facts about a traced function, computed at compile time.
#[derive(Debug)]
pub struct TraceInfo {
    /// The function's name.
    pub name: &'static str,
    /// The span name given with `name = ".."`, if any.
    pub span_name: Option<&'static str>,
    /// `module_path!()`.
    pub module: &'static str,
    /// Whether the function is `async`.
    pub is_async: bool,
    /// `mirascope.trace.arg_types`: JSON of the types as written.
    pub arg_types: &'static str,
    /// Sorted, de-duplicated tags.
    pub tags: &'static [&'static str],
    /// Metadata, in the order given.
    pub metadata: &'static [(&'static str, &'static str)],
    /// `#[ops::version]` facts, if versioned.
    pub version: Option<&'static VersionInfo>,
}

/// `#[ops::version]` facts, computed at compile time.
#[derive(Debug)]
pub struct VersionInfo {
    /// SHA-256 of the function's normalized tokens.
    pub hash: &'static str,
    /// SHA-256 of the signature's normalized tokens.
    pub signature_hash: &'static str,
    /// The doc comment.
    pub description: Option<&'static str>,
    /// The version (`"1.0"`, as Mirascope computes today).
    pub version: &'static str,
    /// The custom name.
    pub name: Option<&'static str>,
    /// Sorted, de-duplicated tags.
    pub tags: &'static [&'static str],
    /// Metadata, recorded as `mirascope.version.meta.<key>`.
    pub metadata: &'static [(&'static str, &'static str)],
}

/// A function's result together with the ids of its trace span (Python's `.wrapped()`).
#[derive(Debug, Clone, PartialEq)]
pub struct Traced<R> {
    /// What the function returned.
    pub result: R,
    /// The span id (16 hex digits), `None` when tracing is off.
    pub span_id: Option<String>,
    /// The trace id (32 hex digits), `None` when tracing is off.
    pub trace_id: Option<String>,
}

thread_local! {
    /// The ids of the last traced function that ended on this thread, unformatted: they are
    /// formatted only when [`traced`] asks for them.
    static LAST_TRACE: Cell<Option<RawIds>> = const { Cell::new(None) };
    /// How many [`traced`] / [`traced_async`] scopes are running on this thread: the ids of a
    /// finished span are looked up only when one is (the lookup costs a context read).
    static LISTENING: Cell<u32> = const { Cell::new(0) };
}

/// Marks this thread as listening for span ids while it lives (also when unwinding).
struct Listening;

impl Listening {
    fn start() -> Self {
        LISTENING.with(|l| l.set(l.get().saturating_add(1)));
        Listening
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        LISTENING.with(|l| l.set(l.get().saturating_sub(1)));
    }
}

/// A span's ids, as the OpenTelemetry context holds them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawIds {
    span_id: SpanId,
    trace_id: TraceId,
}

impl RawIds {
    /// `(span_id, trace_id)` as 16 and 32 lower-case hex digits.
    fn formatted(self) -> (String, String) {
        (self.span_id.to_string(), self.trace_id.to_string())
    }
}

fn raw_ids(span: &Span) -> Option<RawIds> {
    use opentelemetry::trace::TraceContextExt;
    if span.is_disabled() {
        return None;
    }
    let cx = crate::otel_span::context(span);
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| RawIds {
        span_id: sc.span_id(),
        trace_id: sc.trace_id(),
    })
}

pub(crate) fn ids(span: &Span) -> Option<(String, String)> {
    raw_ids(span).map(RawIds::formatted)
}

/// Runs `f` and returns its result with the ids of the last traced function it called on this
/// thread (the documented way to get a traced function's `span_id` / `trace_id`).
///
/// ```
/// #[mirascope_ops::trace]
/// fn double(x: i64) -> i64 { x * 2 }
/// let traced = mirascope_ops::traced(|| double(21));
/// assert_eq!(traced.result, 42);
/// ```
pub fn traced<R>(f: impl FnOnce() -> R) -> Traced<R> {
    LAST_TRACE.with(|l| l.take());
    let listening = Listening::start();
    let result = f();
    drop(listening);
    let ids = LAST_TRACE.with(|l| l.take()).map(RawIds::formatted);
    Traced {
        result,
        span_id: ids.as_ref().map(|i| i.0.clone()),
        trace_id: ids.map(|i| i.1),
    }
}

/// [`traced`] for a future: the ids of the traced `async fn` it awaits last.
pub async fn traced_async<F: Future>(fut: F) -> Traced<F::Output> {
    let span = Span::none();
    let out = TraceScope {
        inner: Box::pin(fut),
        last: None,
    }
    .instrument(span)
    .await;
    let ids = out.1.map(RawIds::formatted);
    Traced {
        result: out.0,
        span_id: ids.as_ref().map(|i| i.0.clone()),
        trace_id: ids.map(|i| i.1),
    }
}

struct TraceScope<F> {
    inner: Pin<Box<F>>,
    last: Option<RawIds>,
}

impl<F: Future> Future for TraceScope<F> {
    type Output = (F::Output, Option<RawIds>);
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        LAST_TRACE.with(|l| l.take());
        let listening = Listening::start();
        let poll = self.inner.as_mut().poll(cx);
        drop(listening);
        if let Some(ids) = LAST_TRACE.with(|l| l.take()) {
            self.last = Some(ids);
        }
        match poll {
            Poll::Ready(out) => Poll::Ready((out, self.last.take())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A traced function's span.
#[derive(Debug)]
pub struct TraceSpan {
    span: Span,
}

/// A name computed on first use: the span macro evaluates its fields only when the span is
/// enabled, so a disabled span never runs the closure.
struct LazyName<F: FnOnce() -> Cow<'static, str>> {
    make: Cell<Option<F>>,
    value: OnceCell<Cow<'static, str>>,
}

impl<F: FnOnce() -> Cow<'static, str>> LazyName<F> {
    fn new(make: F) -> Self {
        LazyName {
            make: Cell::new(Some(make)),
            value: OnceCell::new(),
        }
    }

    fn get(&self) -> &str {
        self.value
            .get_or_init(|| self.make.take().map(|f| f()).unwrap_or_default())
    }
}

/// `otel.name`: the `name = ".."` given, else the qualname.
struct SpanName<'a, F: FnOnce() -> Cow<'static, str>>(Option<&'static str>, &'a LazyName<F>);

impl<F: FnOnce() -> Cow<'static, str>> std::fmt::Display for SpanName<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.unwrap_or_else(|| self.1.get()))
    }
}

impl<F: FnOnce() -> Cow<'static, str>> std::fmt::Display for LazyName<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

/// Runs a traced sync function's body inside its enabled span: entered around the body, the
/// output recorded with `output` (made by the generated code, which knows the type), a panic
/// recorded and resumed. Out of line, so that the disabled path of the traced function stays
/// small.
#[inline(never)]
pub fn run_traced<R>(
    span: TraceSpan,
    body: impl FnOnce() -> R,
    output: impl for<'a> FnOnce(&'a R) -> Output<'a>,
) -> R {
    let entered = span.span.enter();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    drop(entered);
    match result {
        Ok(value) => {
            span.finish(|| output(&value));
            value
        }
        Err(panic) => {
            span.panicked(&*panic);
            std::panic::resume_unwind(panic)
        }
    }
}

/// Whether any subscriber may want INFO spans: one atomic load (`tracing::level_enabled!`), so
/// that the generated code skips [`start`] entirely when tracing is off.
#[inline(always)]
pub fn level_enabled() -> bool {
    tracing::level_enabled!(tracing::Level::INFO)
}

/// Opens the span of a traced function (`qualname` is `Type::method` for methods).
///
/// Nothing is computed for a disabled span: `qualname` runs only when the span is enabled, and
/// `arg_values` (the JSON of the arguments) only when it is enabled and content capture is on.
/// Kept out of line: the span's field set needs a large stack frame.
#[inline(never)]
pub fn start(
    info: &TraceInfo,
    qualname: impl FnOnce() -> Cow<'static, str>,
    arg_values: impl FnOnce() -> String,
) -> TraceSpan {
    start_with(info, qualname, || Some(arg_values()))
}

/// [`start`], with argument values that may be unknown (a traced `#[llm::call]` built where its
/// span could not record them): then the attribute is left out, never recorded as `""`.
#[inline(never)]
fn start_with(
    info: &TraceInfo,
    qualname: impl FnOnce() -> Cow<'static, str>,
    arg_values: impl FnOnce() -> Option<String>,
) -> TraceSpan {
    let qualname = LazyName::new(qualname);
    let span = tracing::info_span!(
        target: genai::OPS_TARGET,
        "trace",
        otel.name = %SpanName(info.span_name, &qualname),
        otel.kind = "internal",
        otel.status_code = Empty,
        { keys::MIRASCOPE_TYPE } = "trace",
        { keys::MIRASCOPE_FN_QUALNAME } = %qualname,
        { keys::MIRASCOPE_FN_MODULE } = info.module,
        { keys::MIRASCOPE_FN_IS_ASYNC } = info.is_async,
        { keys::MIRASCOPE_TRACE_ARG_TYPES } = info.arg_types,
        // Argument values are content; their names and types are not. Made here, in the
        // enabled branch of the macro, so that they are part of the span's creation.
        { keys::MIRASCOPE_TRACE_ARG_VALUES } = genai::capture_content().then(arg_values).flatten(),
        { keys::MIRASCOPE_TRACE_METADATA } = Empty,
        { keys::MIRASCOPE_TRACE_OUTPUT } = Empty,
        { keys::MIRASCOPE_RESPONSE_PROVIDER_ID } = Empty,
        { keys::MIRASCOPE_RESPONSE_MODEL_ID } = Empty,
        { keys::MIRASCOPE_RESPONSE_MESSAGES } = Empty,
        { keys::MIRASCOPE_RESPONSE_CONTENT } = Empty,
        { keys::MIRASCOPE_RESPONSE_USAGE } = Empty,
        { keys::MIRASCOPE_OPS_SESSION_ID } = Empty,
        { keys::MIRASCOPE_OPS_SESSION_ATTRIBUTES } = Empty,
        { keys::MIRASCOPE_VERSION_HASH } = info.version.map(|v| v.hash),
        { keys::MIRASCOPE_VERSION_SIGNATURE_HASH } = info.version.map(|v| v.signature_hash),
        { keys::MIRASCOPE_VERSION_DESCRIPTION } = info.version.and_then(|v| v.description),
        { keys::MIRASCOPE_VERSION_VERSION } = info.version.map(|v| v.version),
        { keys::MIRASCOPE_VERSION_NAME } = info.version.and_then(|v| v.name),
        user.id = Empty,
        session.id = Empty,
        { keys::ERROR_TYPE } = Empty,
    );
    if !span.is_disabled() {
        record_start(&span, info);
    }
    TraceSpan { span }
}

/// What an enabled trace span records when it opens (kept out of [`start`], so that the
/// disabled path stays small enough to inline).
#[inline(never)]
fn record_start(span: &Span, info: &TraceInfo) {
    session::record_on(span);
    if !info.tags.is_empty() {
        let tags: Vec<String> = info.tags.iter().map(|t| t.to_string()).collect();
        genai::set_attribute(
            span,
            keys::MIRASCOPE_TRACE_TAGS,
            AttrValue::StrArray(tags.clone()),
        );
        genai::set_attribute(span, "tags", AttrValue::StrArray(tags));
    }
    if !info.metadata.is_empty() {
        let json: serde_json::Map<String, Value> = info
            .metadata
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        span.record(
            keys::MIRASCOPE_TRACE_METADATA,
            Value::Object(json).to_string(),
        );
        for (k, v) in info.metadata {
            match *k {
                "user_id" => {
                    span.record("user.id", *v);
                }
                "session_id" => {
                    span.record("session.id", *v);
                }
                other => genai::set_attribute(
                    span,
                    format!("metadata.{other}"),
                    AttrValue::Str(v.to_string()),
                ),
            }
        }
    }
    // The version's hashes, description, version and name were set when the span was created.
    if let Some(v) = info.version {
        if !v.tags.is_empty() {
            genai::set_attribute(
                span,
                keys::MIRASCOPE_VERSION_TAGS,
                AttrValue::StrArray(v.tags.iter().map(|t| t.to_string()).collect()),
            );
        }
        for (k, val) in v.metadata {
            genai::set_attribute(
                span,
                format!("mirascope.version.meta.{k}"),
                AttrValue::Str(val.to_string()),
            );
        }
    }
}

/// What a traced function returned, as it is recorded.
#[derive(Debug)]
pub enum Output<'a> {
    /// Nothing to record (`()`, `None`).
    Nothing,
    /// A JSON value (native attribute for strings, numbers and booleans).
    Json(Value),
    /// Text (a `Debug` rendering, or a type name).
    Text(String),
    /// A model response: its pretty text plus `mirascope.response.*`.
    Response(&'a Response),
    /// A Mirascope LLM error: recorded with its Mirascope class (`AuthenticationError`, ...), as
    /// Python records the class on every span the exception passes through.
    LlmError(&'a mirascope_llm::Error),
    /// An `Err`: the error's type name and message.
    Error {
        /// The error's type.
        type_name: &'static str,
        /// Its `Display` (or `Debug`) text.
        message: String,
    },
}

impl TraceSpan {
    /// The span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// A span that records nothing (tracing is off).
    #[inline]
    pub fn none() -> TraceSpan {
        TraceSpan { span: Span::none() }
    }

    /// Whether the span records nothing (no subscriber, or one that filters it out).
    #[inline]
    pub fn is_disabled(&self) -> bool {
        self.span.is_disabled()
    }

    /// Records the output and ends the span. With content capture off, the output is not
    /// recorded (errors keep their type, not their message).
    ///
    /// `output` runs only when the span is enabled.
    #[inline]
    pub fn finish<'a>(self, output: impl FnOnce() -> Output<'a>) {
        if self.span.is_disabled() {
            return;
        }
        self.record_output(output());
    }

    fn record_output(self, output: Output<'_>) {
        let span = &self.span;
        let output = match output {
            Output::Json(_) | Output::Text(_) if !genai::capture_content() => Output::Nothing,
            other => other,
        };
        if !span.is_disabled() {
            match output {
                Output::Nothing => {}
                Output::Json(Value::String(s)) => {
                    span.record(keys::MIRASCOPE_TRACE_OUTPUT, s);
                }
                Output::Json(Value::Bool(b)) => {
                    span.record(keys::MIRASCOPE_TRACE_OUTPUT, b);
                }
                Output::Json(Value::Number(n)) => match n.as_i64() {
                    Some(i) => {
                        span.record(keys::MIRASCOPE_TRACE_OUTPUT, i);
                    }
                    None => {
                        span.record(keys::MIRASCOPE_TRACE_OUTPUT, n.as_f64().unwrap_or_default());
                    }
                },
                Output::Json(Value::Null) => {}
                Output::Json(other) => {
                    span.record(keys::MIRASCOPE_TRACE_OUTPUT, other.to_string());
                }
                Output::Text(t) => {
                    span.record(keys::MIRASCOPE_TRACE_OUTPUT, t);
                }
                Output::Response(r) => attach_response(span, r),
                failure @ (Output::Error { .. } | Output::LlmError(_)) => {
                    record_failure(span, failure)
                }
            }
        }
        if LISTENING.with(Cell::get) > 0 {
            if let Some(ids) = raw_ids(span) {
                LAST_TRACE.with(|l| l.set(Some(ids)));
            }
        }
    }

    /// Records a panic (status ERROR, one exception event) and ends the span; the caller
    /// resumes unwinding.
    pub fn panicked(self, payload: &(dyn std::any::Any + Send)) {
        record_panic(&self.span, Some(payload));
    }
}

/// Records a panic on `span`: status ERROR, `error.type` `panic`, one `exception` event whose
/// message is the panic's (with content capture on; `panic` otherwise, or when the payload is
/// not known).
pub(crate) fn record_panic(span: &Span, payload: Option<&(dyn std::any::Any + Send)>) {
    let message = payload
        .and_then(|p| {
            p.downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
        })
        .filter(|_| genai::capture_content())
        .unwrap_or_else(|| "panic".to_string());
    fail(span, "panic", "panic", &message, None);
}

/// Records an error on `span` (status ERROR, `error.type`, one `exception` event), as Python's
/// `Span.__exit__` records an exception that escapes (`mirascope.ops._internal.spans.Span.__exit__`,
/// `TracedFunction.__call__`). A `mirascope_llm::Error` keeps its Mirascope class; any other
/// error is recorded by its type. With content capture off, the message is the class or type
/// name only. Outputs that are not errors record nothing.
pub(crate) fn record_failure(span: &Span, failure: Output<'_>) {
    match failure {
        Output::Error { type_name, message } => {
            let message = if genai::capture_content() {
                message
            } else {
                short_type_name(type_name).to_string()
            };
            fail(span, short_type_name(type_name), type_name, &message, None)
        }
        Output::LlmError(e) => {
            let class = e.class().name();
            let message = if genai::capture_content() {
                e.to_string()
            } else {
                e.content_free_message()
            };
            fail(
                span,
                class,
                &format!("mirascope_llm::{class}"),
                &message,
                None,
            )
        }
        _ => {}
    }
}

/// An error as an [`Output`] to record ([`record_failure`]): a `mirascope_llm::Error` keeps its
/// class; any other error its type name and `Display` text.
pub(crate) fn error_to_output<E: std::fmt::Display + 'static>(e: &E) -> Output<'_> {
    if let Some(llm) = (e as &dyn std::any::Any).downcast_ref::<mirascope_llm::Error>() {
        return Output::LlmError(llm);
    }
    Output::Error {
        type_name: std::any::type_name::<E>(),
        message: e.to_string(),
    }
}

fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Status ERROR, `error.type`, and one `exception` event with `exception.type`.
fn fail(span: &Span, error_type: &str, type_name: &str, message: &str, stacktrace: Option<String>) {
    if span.is_disabled() {
        return;
    }
    span.record(keys::ERROR_TYPE, error_type);
    span.record("otel.status_code", "error");
    genai::add_event(
        span,
        "exception",
        vec![
            (keys::EXCEPTION_TYPE, AttrValue::Str(type_name.to_string())),
            (keys::EXCEPTION_MESSAGE, AttrValue::Str(message.to_string())),
            (
                keys::EXCEPTION_STACKTRACE,
                AttrValue::Str(stacktrace.unwrap_or_else(|| message.to_string())),
            ),
            (keys::EXCEPTION_ESCAPED, AttrValue::Str("False".into())),
        ],
    );
}

/// `Type::method` from `std::any::type_name::<Self>()` (generics and paths dropped).
pub fn qualname<T: ?Sized>(method: &str) -> String {
    format!("{}::{method}", short_type_name(std::any::type_name::<T>()))
}

/// Wraps a borrowed value for autoref specialization of argument and output recording.
#[derive(Debug)]
pub struct Wrap<'a, T: ?Sized>(pub &'a T);

/// Arguments: `serde` when the type is `Serialize`.
pub trait ArgViaSerialize {
    /// The JSON value.
    fn mirascope_arg(&self) -> Value;
}
impl<T: serde::Serialize + ?Sized> ArgViaSerialize for &&Wrap<'_, T> {
    fn mirascope_arg(&self) -> Value {
        serde_json::to_value(self.0)
            .unwrap_or_else(|e| Value::String(format!("<unserializable: {e}>")))
    }
}
/// Arguments: `Debug` otherwise.
pub trait ArgViaDebug {
    /// The JSON value.
    fn mirascope_arg(&self) -> Value;
}
impl<T: Debug + ?Sized> ArgViaDebug for &Wrap<'_, T> {
    fn mirascope_arg(&self) -> Value {
        Value::String(format!("{:?}", self.0))
    }
}
/// Arguments: the type name as a last resort.
pub trait ArgViaName {
    /// The JSON value.
    fn mirascope_arg(&self) -> Value;
}
impl<T: ?Sized> ArgViaName for Wrap<'_, T> {
    fn mirascope_arg(&self) -> Value {
        Value::String(std::any::type_name::<T>().to_string())
    }
}

macro_rules! output_levels {
    ($($trait:ident $(<$($gen:ident),*>)? for $ty:ty where [$($bounds:tt)*] => |$v:ident| $body:expr;)*) => {
        $(
            /// One level of output recording (most specific first).
            pub trait $trait<'a> {
                /// What is recorded (borrowing the value, not the wrapper, so that it can be
                /// made inside a closure).
                fn mirascope_output(&self) -> Output<'a>;
            }
            impl<'a, $($($gen),*)?> $trait<'a> for $ty where $($bounds)* {
                fn mirascope_output(&self) -> Output<'a> {
                    let $v = self.0;
                    $body
                }
            }
        )*
    };
}

/// A returned error. A `mirascope_llm::Error` (a traced function that makes a call and returns
/// `llm::Result<T>` for any `T`) keeps its Mirascope class, as the exception Python propagates
/// through `@ops.trace` does.
fn error_output<E: Debug + 'static>(e: &E) -> Output<'_> {
    if let Some(llm) = (e as &dyn std::any::Any).downcast_ref::<mirascope_llm::Error>() {
        return Output::LlmError(llm);
    }
    Output::Error {
        type_name: std::any::type_name::<E>(),
        message: format!("{e:?}"),
    }
}

// `&self` methods: an impl for `&^n Wrap` is reached from `&^(n+1) Wrap`; call sites use nine.
output_levels! {
    OutViaResultResponseLlm for &&&&&&&&Wrap<'a, Result<Response, mirascope_llm::Error>> where [] => |v| match v { Ok(r) => Output::Response(r), Err(e) => Output::LlmError(e) };
    OutViaResultResponse<E> for &&&&&&&Wrap<'a, Result<Response, E>> where [E: Debug + 'static] => |v| match v { Ok(r) => Output::Response(r), Err(e) => error_output(e) };
    OutViaResponse for &&&&&&Wrap<'a, Response> where [] => |v| Output::Response(v);
    OutViaResultSerialize<T, E> for &&&&&Wrap<'a, Result<T, E>> where [T: serde::Serialize, E: Debug + 'static] => |v| match v { Ok(t) => Output::Json(serde_json::to_value(t).unwrap_or(Value::Null)), Err(e) => error_output(e) };
    OutViaResultDebug<T, E> for &&&&Wrap<'a, Result<T, E>> where [T: Debug, E: Debug + 'static] => |v| match v { Ok(t) => Output::Text(format!("{t:?}")), Err(e) => error_output(e) };
    OutViaResult<T, E> for &&&Wrap<'a, Result<T, E>> where [E: Debug + 'static] => |v| match v { Ok(_) => Output::Text(std::any::type_name::<T>().to_string()), Err(e) => error_output(e) };
    OutViaSerialize<T> for &&Wrap<'a, T> where [T: serde::Serialize] => |v| match serde_json::to_value(v) { Ok(j) => Output::Json(j), Err(_) => Output::Nothing };
    OutViaDebug<T> for &Wrap<'a, T> where [T: Debug] => |v| Output::Text(format!("{v:?}"));
    OutViaName<T> for Wrap<'a, T> where [] => |_v| Output::Text(std::any::type_name::<T>().to_string());
}

/// Whether a `#[ops::trace]` span can be enabled here and would record argument values: the
/// arguments of a traced `#[llm::call]` are captured when the function is called, before its
/// span exists, so this is asked instead.
#[inline]
pub fn records_arguments() -> bool {
    tracing::enabled!(target: genai::OPS_TARGET, tracing::Level::INFO) && genai::capture_content()
}

/// A traced `#[llm::call]` (used by the generated code): the same [`LazyCall`], run inside the
/// spans `{fn}.call` / `{fn}.stream` (INTERNAL) with the trace attributes and
/// `mirascope.response.*`. The `{fn}.stream` span stays open until the stream ends, fails or is
/// dropped (unlike Python, where it ends before the stream is read).
pub fn traced_call<'a>(
    call: LazyCall<'a>,
    info: &'static TraceInfo,
    qualname: Cow<'static, str>,
    arg_values: Option<String>,
) -> LazyCall<'a> {
    call.wrapped_in(Box::new(TraceWrapper {
        info,
        qualname,
        arg_values,
    }))
}

/// The trace span around a lazy call (see [`traced_call`]).
#[derive(Debug)]
struct TraceWrapper {
    info: &'static TraceInfo,
    qualname: Cow<'static, str>,
    /// The arguments' JSON, made when the call is built only if a trace span could record it.
    arg_values: Option<String>,
}

impl TraceWrapper {
    fn start(self, suffix: &str) -> TraceSpan {
        let TraceWrapper {
            info,
            qualname,
            arg_values,
        } = self;
        start_with(
            info,
            || format!("{qualname}.{suffix}").into(),
            || arg_values,
        )
    }
}

impl CallWrapper for TraceWrapper {
    fn call<'a>(
        self: Box<Self>,
        call: BoxFuture<'a, mirascope_llm::Result<Response>>,
    ) -> BoxFuture<'a, mirascope_llm::Result<Response>> {
        Box::pin(async move {
            let trace = self.start("call");
            let result = call.instrument(trace.span.clone()).await;
            trace.finish(|| match &result {
                Ok(r) => Output::Response(r),
                Err(e) => Output::LlmError(e),
            });
            result
        })
    }

    fn stream<'a>(
        self: Box<Self>,
        open: BoxFuture<'a, mirascope_llm::Result<StreamResponse>>,
    ) -> BoxFuture<'a, mirascope_llm::Result<StreamResponse>> {
        Box::pin(async move {
            let trace = self.start("stream");
            match open.instrument(trace.span.clone()).await {
                Ok(stream) => Ok(stream.watched_by(Box::new(TraceWatcher(Some(trace))))),
                Err(e) => {
                    trace.finish(|| Output::LlmError(&e));
                    Err(e)
                }
            }
        })
    }
}

/// The trace span of a traced stream, ended with it. The span is not entered while chunks are
/// read (that would cost a subscriber round trip and a context attach per chunk), and
/// tracing-opentelemetry ends a span at its last exit, so the span is entered once when the
/// stream ends, fails or is dropped ([`TraceWatcher::end`]).
#[derive(Debug)]
struct TraceWatcher(Option<TraceSpan>);

impl TraceWatcher {
    /// Marks the trace span as ending now, and hands it over for its output.
    fn end(&mut self) -> Option<TraceSpan> {
        let trace = self.0.take()?;
        trace.span.in_scope(|| {});
        Some(trace)
    }
}

impl Drop for TraceWatcher {
    /// Dropped before its end: the span ends now, with no output.
    fn drop(&mut self) {
        self.end();
    }
}

impl StreamWatcher for TraceWatcher {
    fn ended(mut self: Box<Self>, response: &dyn Fn() -> mirascope_llm::Result<Response>) {
        let Some(trace) = self.end() else { return };
        // The response is assembled only for an enabled span.
        if !trace.span.is_disabled() {
            match response() {
                Ok(r) => trace.record_output(Output::Response(&r)),
                Err(_) => trace.record_output(Output::Nothing),
            }
        }
    }

    fn failed(mut self: Box<Self>, error: &mirascope_llm::Error) {
        if let Some(trace) = self.end() {
            trace.finish(|| Output::LlmError(error));
        }
    }
}

/// Python's `.wrapped()` of a traced call: the response together with the ids of its trace
/// span. For any future, [`traced_async`] does the same.
///
/// ```no_run
/// # async fn run() {
/// use mirascope_ops::{self as ops, WrappedCall};
/// use mirascope_llm as llm;
///
/// #[ops::trace]
/// #[llm::call("openai/gpt-4o-mini")]
/// fn recommend(genre: &str) -> String {
///     format!("Recommend a {genre} book.")
/// }
///
/// let traced = recommend("fantasy").wrapped().await;
/// println!("{:?} in trace {:?}", traced.result.map(|r| r.text()), traced.trace_id);
/// # }
/// ```
pub trait WrappedCall<'a> {
    /// Calls the model; the result comes with the trace span's ids (`None` when tracing is off).
    fn wrapped(self) -> BoxFuture<'a, Traced<mirascope_llm::Result<Response>>>;
}

impl<'a> WrappedCall<'a> for LazyCall<'a> {
    fn wrapped(self) -> BoxFuture<'a, Traced<mirascope_llm::Result<Response>>> {
        Box::pin(traced_async(self.call()))
    }
}

/// A traced `#[llm::call]` is a [`LazyCall`] now: the same type, traced or not.
#[deprecated(note = "a traced `#[llm::call]` returns `llm::LazyCall`, the same type as untraced")]
pub type TracedCall<'a> = LazyCall<'a>;

/// The stream of a traced call is a [`StreamResponse`] now.
#[deprecated(note = "a traced call's stream is an `llm::StreamResponse`")]
pub type TracedStream = StreamResponse;

/// The blocking stream of a traced call is a [`mirascope_llm::BlockingStream`] now.
#[deprecated(note = "a traced call's blocking stream is an `llm::BlockingStream`")]
pub type BlockingTracedStream = mirascope_llm::BlockingStream;

/// Helpers the generated code calls.
pub fn arg_types_json(pairs: &[(&str, &str)]) -> String {
    let map: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::from(*v)))
        .collect();
    Value::Object(map).to_string()
}

/// `mirascope.trace.arg_values`.
pub fn arg_values_json(pairs: Vec<(&str, Value)>) -> String {
    let map: serde_json::Map<String, Value> =
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Value::Object(map).to_string()
}

#[cfg(test)]
mod dispatch_tests {
    use super::*;

    #[test]
    fn llm_errors_keep_their_class() {
        let result: mirascope_llm::Result<Response> =
            Err(mirascope_llm::Error::InvalidRequest("x".into()));
        assert!(matches!(
            (&&&&&&&&&Wrap(&result)).mirascope_output(),
            Output::LlmError(_)
        ));
    }
}
