//! The composition matrix: `ops::layer` in every subscriber arrangement a user may build
//! (layer order; the user's own tracing-opentelemetry layer absent, unfiltered, filtered with
//! `exclude_mirascope()`, `llm_filter()`, `Targets` or `EnvFilter`, on the same provider or
//! another; `reload` of a filter, of the layer, of `Option<layer>` from `None` and from `Some`;
//! boxed and `Vec` layers; a `fmt` layer; the instrumentation switch flipped during a stream).
//!
//! Each arrangement runs three scenarios (a call inside an application span, a stream inside one,
//! and an `#[ops::trace]` function making a call), and the exported spans are checked exactly:
//! names, counts, parents, trace ids, instrumentation scopes, and that every GenAI span of ours
//! carries the same attribute keys (array attributes included) and events as with `ops::layer`
//! alone. The README's "Using your own subscriber" table names these arrangements.
//!
//! One test function runs them all, one after another, because some flip the process-wide
//! instrumentation switch: nothing else in this binary touches it. Each arrangement owns its
//! subscriber (`set_default`, on a current-thread runtime) and its in-memory exporters.

mod common;

use std::collections::BTreeSet;

use common::{json_response, serve, sse_response, Wire};
use mirascope::llm::Model;
use mirascope::ops;
use mirascope::ops::testing::{SpanData, SpanExporter};
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Dispatch;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{reload, Layer, Registry};

const THEIR_SCOPE: &str = "my-app";
const WIRE: Wire = Wire::Completions;

#[tracing::instrument(name = "handler", skip_all)]
async fn handler(model: &Model) {
    model.call("hi").await.expect("call");
}

#[tracing::instrument(name = "stream_handler", skip_all)]
async fn stream_handler(model: &Model) {
    let response = model.stream("hi").await.expect("stream");
    assert_eq!(response.finish().await.expect("finish").text(), "Hello");
}

#[ops::trace(skip_all)]
async fn traced(model: &Model) -> String {
    model.call("hi").await.expect("call").text()
}

/// A provider exporting to memory.
struct Sink {
    provider: SdkTracerProvider,
    exporter: SpanExporter,
}

impl Sink {
    fn new() -> Self {
        let (provider, exporter) = ops::testing::in_memory_provider();
        Sink { provider, exporter }
    }
    fn spans(&self) -> Vec<SpanData> {
        self.exporter.get_finished_spans().expect("spans")
    }
    fn reset(&self) {
        self.exporter.reset();
    }
}

/// The providers of one arrangement: ours (`a`), a second one of ours for swaps (`b`), and the
/// user's own (`theirs`, or `a` itself when the user's layer shares our provider).
struct Sinks {
    a: Sink,
    b: Sink,
    theirs: Sink,
}

impl Sinks {
    fn new() -> Self {
        Sinks {
            a: Sink::new(),
            b: Sink::new(),
            theirs: Sink::new(),
        }
    }

    fn theirs(&self, same_provider: bool) -> &SdkTracerProvider {
        if same_provider {
            &self.a.provider
        } else {
            &self.theirs.provider
        }
    }
    fn all(&self) -> Vec<SpanData> {
        [&self.a, &self.b, &self.theirs]
            .iter()
            .flat_map(|s| s.spans())
            .collect()
    }
    fn reset(&self) {
        self.a.reset();
        self.b.reset();
        self.theirs.reset();
    }
}

fn users_layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer(THEIR_SCOPE))
}

fn targets_without_mirascope() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("mirascope_llm", LevelFilter::OFF)
        .with_target("mirascope_ops", LevelFilter::OFF)
}

fn env_filter_without_mirascope() -> EnvFilter {
    EnvFilter::new("trace,mirascope_llm=off,mirascope_ops=off")
}

fn fmt_layer<S>() -> impl Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    tracing_subscriber::fmt::layer().with_test_writer()
}

/// Where the application spans (`handler`, `stream_handler`) are exported.
#[derive(Clone, Copy, Debug, PartialEq)]
enum App {
    /// By our layer, tracer `tracing`, to the provider the spans go to.
    Ours,
    /// By the user's layer.
    Theirs,
    /// Nowhere (our application spans are off and no other layer records them, or a global
    /// filter disables them): GenAI spans are then roots.
    Nowhere,
}

/// What an arrangement exports.
#[derive(Clone, Copy, Debug)]
struct Expect {
    /// Our provider that receives Mirascope's spans (`None`: only the user's layer records
    /// them, through `llm_filter()`).
    ours: Option<Which>,
    app: App,
    /// The user's layer records Mirascope's spans too (unfiltered, or alone with
    /// `llm_filter()`).
    theirs_records_mirascope: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    A,
    B,
}

const OURS: Expect = Expect {
    ours: Some(Which::A),
    app: App::Ours,
    theirs_records_mirascope: false,
};
const OURS_THEIR_APP: Expect = Expect {
    app: App::Theirs,
    ..OURS
};
const BOTH: Expect = Expect {
    ours: Some(Which::A),
    app: App::Theirs,
    theirs_records_mirascope: true,
};

/// The attribute keys and event names of our GenAI and trace spans, by span name, as
/// `ops::layer` alone exports them (the reference every arrangement is compared with).
type Shape = Vec<(String, BTreeSet<String>, Vec<String>)>;

fn shape(spans: &[SpanData]) -> Shape {
    let mut out: Shape = spans
        .iter()
        .filter(|s| is_ours(s) && s.instrumentation_scope.name() != ops::APP_TRACER_NAME)
        .map(|s| {
            (
                // The model id differs per arrangement (a fresh provider scope each).
                s.name.split(' ').next().unwrap_or_default().to_string(),
                s.attributes.iter().map(|kv| kv.key.to_string()).collect(),
                s.events.iter().map(|e| e.name.to_string()).collect(),
            )
        })
        .collect();
    out.sort();
    out
}

fn is_ours(s: &SpanData) -> bool {
    [
        ops::DEFAULT_TRACER_NAME,
        ops::OPS_TRACER_NAME,
        ops::APP_TRACER_NAME,
    ]
    .contains(&s.instrumentation_scope.name())
}

fn named<'a>(spans: &'a [SpanData], name: &str, ours: bool) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.name == name && is_ours(s) == ours)
        .collect()
}

fn one<'a>(spans: &'a [SpanData], name: &str, ours: bool, what: &str) -> &'a SpanData {
    let found = named(spans, name, ours);
    assert_eq!(
        found.len(),
        1,
        "{what}: exactly one {} span {name:?}, got {:#?}",
        if ours { "mirascope" } else { "user" },
        spans
            .iter()
            .map(|s| (&s.name, s.instrumentation_scope.name()))
            .collect::<Vec<_>>()
    );
    found[0]
}

/// Runs the three scenarios under `dispatch` and checks what they exported.
fn run_scenarios(
    name: &str,
    dispatch: &Dispatch,
    sinks: &Sinks,
    expect: Expect,
    reference: &mut Option<Shape>,
) {
    let (_server, model) = serve(
        WIRE,
        vec![
            json_response(200, WIRE.text_body("Hello")),
            sse_response(WIRE.sse_body(&["Hel", "lo"], false)),
            json_response(200, WIRE.text_body("Hello")),
        ],
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::dispatcher::with_default(dispatch, || {
        runtime.block_on(async {
            handler(&model).await;
            stream_handler(&model).await;
            assert_eq!(traced(&model).await, "Hello");
        })
    });
    let chat = format!("chat {}", model.id());
    let spans = sinks.all();
    let what = name;

    // Our spans went to the provider we were given, and only there.
    if let Some(which) = expect.ours {
        let (to, other) = match which {
            Which::A => (&sinks.a, &sinks.b),
            Which::B => (&sinks.b, &sinks.a),
        };
        let got = to.spans();
        assert_eq!(
            named(&got, &chat, true).len(),
            3,
            "{what}: three chat spans in our provider"
        );
        assert!(
            named(&other.spans(), &chat, true).is_empty(),
            "{what}: nothing in the other provider of ours"
        );
        assert!(
            sinks.theirs.spans().iter().all(|s| !is_ours(s)),
            "{what}: none of ours in the user's provider"
        );
        let mut ours_shape = shape(&spans);
        ours_shape.dedup();
        match reference {
            None => *reference = Some(ours_shape),
            Some(r) => assert_eq!(&ours_shape, r, "{what}: attributes and events of our spans"),
        }
    } else {
        assert!(spans.iter().all(|s| !is_ours(s)), "{what}: none of ours");
    }
    let mirascope_spans_of_theirs = named(&spans, &chat, false).len();
    assert_eq!(
        mirascope_spans_of_theirs,
        if expect.theirs_records_mirascope {
            3
        } else {
            0
        },
        "{what}: chat spans recorded by the user's layer"
    );

    // Each application span exported once, where expected, and the parent of its chat span.
    let chats: Vec<&SpanData> = named(&spans, &chat, expect.ours.is_some());
    for (app_name, position) in [("handler", 0), ("stream_handler", 1)] {
        let app: Option<&SpanData> = match expect.app {
            App::Ours => Some(one(&spans, app_name, true, what)),
            App::Theirs => Some(one(&spans, app_name, false, what)),
            App::Nowhere => {
                assert!(
                    named(&spans, app_name, true).is_empty()
                        && named(&spans, app_name, false).is_empty(),
                    "{what}: {app_name} not exported"
                );
                None
            }
        };
        let chat_span = chats
            .iter()
            .find(|c| match app {
                Some(a) => c.parent_span_id == a.span_context.span_id(),
                None => c.parent_span_id == SpanId::INVALID,
            })
            .unwrap_or_else(|| {
                panic!(
                    "{what}: a chat span under {app_name} ({position}): {:#?}",
                    spans
                        .iter()
                        .map(|s| (
                            &s.name,
                            s.instrumentation_scope.name(),
                            s.span_context.span_id(),
                            s.parent_span_id
                        ))
                        .collect::<Vec<_>>()
                )
            });
        if let Some(a) = app {
            assert_eq!(
                chat_span.span_context.trace_id(),
                a.span_context.trace_id(),
                "{what}: {app_name} and its chat span in one trace"
            );
        }
        if expect.ours.is_some() {
            assert_eq!(
                chat_span.instrumentation_scope.name(),
                ops::DEFAULT_TRACER_NAME,
                "{what}"
            );
        }
        assert!(
            chat_span
                .attributes
                .iter()
                .any(|kv| kv.key.as_str() == "gen_ai.response.finish_reasons"),
            "{what}: the array attribute on the chat span under {app_name}"
        );
    }
    // The traced function's span is the parent of its chat span.
    let trace = one(&spans, "traced", expect.ours.is_some(), what);
    assert!(
        chats
            .iter()
            .any(|c| c.parent_span_id == trace.span_context.span_id()
                && c.span_context.trace_id() == trace.span_context.trace_id()),
        "{what}: the traced function's chat span is its child"
    );
    if expect.ours.is_some() {
        assert_eq!(trace.instrumentation_scope.name(), ops::OPS_TRACER_NAME);
    }
}

type Build = Box<dyn Fn(&Sinks) -> Dispatch>;

fn case(name: &'static str, expect: Expect, build: Build) -> (&'static str, Expect, Build) {
    (name, expect, build)
}

macro_rules! dispatch {
    ($e:expr) => {
        Box::new(move |s: &Sinks| {
            let _ = &s;
            Dispatch::new($e(s))
        }) as Build
    };
}

fn ours(s: &Sinks) -> ops::OpsLayer<Registry> {
    ops::layer(&s.a.provider)
}

/// Arrangements that are a subscriber built once.
fn static_cases() -> Vec<(&'static str, Expect, Build)> {
    vec![
        case(
            "ops_layer_alone",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry().with(ops::layer(&s.a.provider))),
        ),
        case(
            "env_filter_fmt_then_ops",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(EnvFilter::new("info"))
                .with(fmt_layer())
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "fmt_then_ops",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(fmt_layer())
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "ops_then_fmt",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(fmt_layer())),
        ),
        case(
            "ops_boxed",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(Box::new(ours(s)) as Box<dyn Layer<Registry> + Send + Sync>)),
        ),
        case(
            "vec_of_fmt_and_ops",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(vec![fmt_layer().boxed(), ops::layer(&s.a.provider).boxed()])),
        ),
        case(
            "vec_of_ops_and_users_excluded",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry().with(vec![
                ops::layer(&s.a.provider).boxed(),
                users_layer(s.theirs(false))
                    .with_filter(ops::exclude_mirascope())
                    .boxed(),
            ])),
        ),
        case(
            "ops_in_option_some",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry().with(Some(ours(s)))),
        ),
        case(
            "ops_with_its_own_env_filter",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider).with_filter(EnvFilter::new("info")))),
        ),
        case(
            "ops_with_a_global_level_filter",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(LevelFilter::INFO)
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "users_unfiltered_then_ops_other_provider",
            BOTH,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(false)))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "ops_then_users_unfiltered_other_provider",
            BOTH,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(users_layer(s.theirs(false)))),
        ),
        case(
            "users_unfiltered_then_ops_same_provider",
            BOTH,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(true)))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "ops_then_users_unfiltered_same_provider",
            BOTH,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(users_layer(s.theirs(true)))),
        ),
        case(
            "users_excluded_then_ops_defaults",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(false)).with_filter(ops::exclude_mirascope()))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "ops_defaults_then_users_excluded",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(users_layer(s.theirs(false)).with_filter(ops::exclude_mirascope()))),
        ),
        case(
            "users_excluded_then_ops_same_provider",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(true)).with_filter(ops::exclude_mirascope()))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "users_excluded_then_ops_app_spans_off",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(false)).with_filter(ops::exclude_mirascope()))
                .with(
                    ops::LayerBuilder::new(&s.a.provider)
                        .app_spans(LevelFilter::OFF)
                        .build()
                )),
        ),
        case(
            "users_targets_then_ops",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(false)).with_filter(targets_without_mirascope()))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "ops_then_users_targets",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(users_layer(s.theirs(false)).with_filter(targets_without_mirascope()))),
        ),
        case(
            "users_env_filter_then_ops",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(false)).with_filter(env_filter_without_mirascope()))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "ops_then_users_env_filter",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(users_layer(s.theirs(false)).with_filter(env_filter_without_mirascope()))),
        ),
        case(
            "users_alone_with_llm_filter",
            Expect {
                ours: None,
                app: App::Theirs,
                theirs_records_mirascope: true,
            },
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(users_layer(s.theirs(false)).with_filter(ops::llm_filter()))),
        ),
        case(
            "ops_app_spans_off_alone",
            Expect {
                app: App::Nowhere,
                ..OURS
            },
            dispatch!(|s: &Sinks| tracing_subscriber::registry().with(
                ops::LayerBuilder::new(&s.a.provider)
                    .app_spans(LevelFilter::OFF)
                    .build()
            )),
        ),
        case(
            "global_env_filter_keeping_only_mirascope",
            Expect {
                app: App::Nowhere,
                ..OURS
            },
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(EnvFilter::new("warn,mirascope_llm=info,mirascope_ops=info"))
                .with(ops::layer(&s.a.provider))),
        ),
        case(
            "two_ops_layers_first_wins",
            OURS,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(ops::layer(&s.a.provider))
                .with(ops::layer(&s.b.provider))),
        ),
        case(
            "ops_in_reload_from_the_start",
            OURS,
            dispatch!(
                |s: &Sinks| tracing_subscriber::registry().with(reload::Layer::new(ours(s)).0)
            ),
        ),
        case(
            "ops_in_reload_next_to_users_unfiltered",
            BOTH,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(reload::Layer::new(ours(s)).0)
                .with(users_layer(s.theirs(false)))),
        ),
        case(
            "boxed_users_excluded_then_boxed_ops",
            OURS_THEIR_APP,
            dispatch!(|s: &Sinks| tracing_subscriber::registry()
                .with(
                    users_layer(s.theirs(false))
                        .with_filter(ops::exclude_mirascope())
                        .boxed()
                )
                .with(Box::new(ops::layer(&s.a.provider)) as Box<dyn Layer<_> + Send + Sync>)),
        ),
    ]
}

#[test]
fn composition_matrix() {
    // Building a layer counts as configuring, as in Python (instrument_llm needs it first).
    drop(ops::layer::<Registry>(&Sink::new().provider));
    ops::instrument_llm().expect("instrument");
    let mut reference = None;
    let mut ran = 0;

    for (name, expect, build) in static_cases() {
        let sinks = Sinks::new();
        let dispatch = build(&sinks);
        run_scenarios(name, &dispatch, &sinks, expect, &mut reference);
        ran += 1;
    }

    // reload::Layer<Option<OpsLayer>> from None: nothing exported, then everything.
    {
        let sinks = Sinks::new();
        let (layer, handle) = reload::Layer::new(None::<ops::OpsLayer<Registry>>);
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        quiet_call(&dispatch);
        assert!(sinks.all().is_empty(), "option from None: nothing yet");
        reload_in(&dispatch, || {
            handle.reload(Some(ops::layer(&sinks.a.provider)))
        });
        run_scenarios("option_from_none", &dispatch, &sinks, OURS, &mut reference);
        ran += 1;

        // From Some back to None, then to a layer on another provider.
        sinks.reset();
        reload_in(&dispatch, || handle.reload(None));
        quiet_call(&dispatch);
        assert!(sinks.all().is_empty(), "option back to None: nothing");
        reload_in(&dispatch, || {
            handle.reload(Some(ops::layer(&sinks.b.provider)))
        });
        run_scenarios(
            "option_from_some_to_none_to_another_provider",
            &dispatch,
            &sinks,
            Expect {
                ours: Some(Which::B),
                ..OURS
            },
            &mut reference,
        );
        ran += 1;
    }

    // reload::Layer<OpsLayer> swapped to a layer on another provider.
    {
        let sinks = Sinks::new();
        let (layer, handle) = reload::Layer::new(ops::layer(&sinks.a.provider));
        let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
        run_scenarios(
            "reload_layer_before",
            &dispatch,
            &sinks,
            OURS,
            &mut reference,
        );
        sinks.reset();
        reload_in(&dispatch, || handle.reload(ops::layer(&sinks.b.provider)));
        run_scenarios(
            "reload_layer_to_another_provider",
            &dispatch,
            &sinks,
            Expect {
                ours: Some(Which::B),
                ..OURS
            },
            &mut reference,
        );
        ran += 2;
    }

    // A reloadable per-layer filter on our layer: off, then on.
    {
        let sinks = Sinks::new();
        let (filter, handle) = reload::Layer::new(EnvFilter::new("off"));
        let dispatch = Dispatch::new(
            tracing_subscriber::registry().with(ops::layer(&sinks.a.provider).with_filter(filter)),
        );
        quiet_call(&dispatch);
        assert!(sinks.all().is_empty(), "reloadable filter at off");
        reload_in(&dispatch, || handle.reload(EnvFilter::new("info")));
        run_scenarios(
            "reload_of_ops_filter",
            &dispatch,
            &sinks,
            OURS,
            &mut reference,
        );
        ran += 1;
    }

    // A reloadable filter on the user's layer next to ours: from everything to no Mirascope.
    {
        let sinks = Sinks::new();
        let (filter, handle) = reload::Layer::new(EnvFilter::new("trace"));
        let dispatch = Dispatch::new(
            tracing_subscriber::registry()
                .with(users_layer(&sinks.theirs.provider).with_filter(filter))
                .with(ops::layer(&sinks.a.provider)),
        );
        run_scenarios(
            "reload_of_users_filter_before",
            &dispatch,
            &sinks,
            BOTH,
            &mut reference,
        );
        sinks.reset();
        reload_in(&dispatch, || handle.reload(env_filter_without_mirascope()));
        run_scenarios(
            "reload_of_users_filter_after",
            &dispatch,
            &sinks,
            OURS_THEIR_APP,
            &mut reference,
        );
        ran += 2;
    }

    ran += in_flight_cases();
    println!("composition matrix: {ran} arrangements passed");
    assert!(ran >= 30, "the matrix has at least 30 arrangements ({ran})");
}

/// Reloads with `dispatch` as the default, as a program does with its own subscriber (the
/// interest cache is rebuilt against the current default).
fn reload_in(dispatch: &Dispatch, reload: impl FnOnce() -> Result<(), reload::Error>) {
    tracing::dispatcher::with_default(dispatch, reload).expect("reload");
}

/// A call with nothing expected (the layer is off or absent): it must not panic.
fn quiet_call(dispatch: &Dispatch) {
    let (_server, model) = serve(WIRE, vec![json_response(200, WIRE.text_body("Hello"))]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    tracing::dispatcher::with_default(dispatch, || {
        runtime.block_on(handler(&model));
    });
}

/// Streams in flight while the layer is swapped, removed, or the switch flipped: each chat
/// span ends exactly once, in the provider of the layer that started it.
fn in_flight_cases() -> usize {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let chats = |sink: &Sink, id: &str| {
        sink.spans()
            .into_iter()
            .filter(|s| s.name == format!("chat {id}"))
            .collect::<Vec<_>>()
    };
    let stream_server = || {
        serve(
            WIRE,
            vec![
                sse_response(WIRE.sse_body(&["Hel", "lo"], false)),
                json_response(200, WIRE.text_body("Hello")),
            ],
        )
    };

    // Swapped to another provider while a stream is read.
    let (a, b) = (Sink::new(), Sink::new());
    let (layer, handle) = reload::Layer::new(ops::layer(&a.provider));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let (_server, model) = stream_server();
    tracing::dispatcher::with_default(&dispatch, || {
        runtime.block_on(async {
            let stream = model.stream("hi").await.expect("stream");
            handle.reload(ops::layer(&b.provider)).expect("reload");
            stream.finish().await.expect("finish");
            model.call("hi").await.expect("call");
        })
    });
    let (in_a, in_b) = (chats(&a, model.id()), chats(&b, model.id()));
    assert_eq!(
        in_a.len(),
        1,
        "the stream's span ends once, where it started"
    );
    assert_eq!(in_b.len(), 1, "the next call goes to the new layer");
    assert!(in_a[0]
        .attributes
        .iter()
        .any(|kv| kv.key.as_str() == "gen_ai.response.finish_reasons"));

    // Removed (Option to None) while a stream is read: its span still ends once.
    let a = Sink::new();
    let (layer, handle) = reload::Layer::new(Some(ops::layer(&a.provider)));
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(layer));
    let (_server, model) = stream_server();
    tracing::dispatcher::with_default(&dispatch, || {
        runtime.block_on(async {
            let stream = model.stream("hi").await.expect("stream");
            handle.reload(None).expect("reload");
            stream.finish().await.expect("finish");
            model.call("hi").await.expect("call");
        })
    });
    assert_eq!(
        chats(&a, model.id()).len(),
        1,
        "the stream's span ends once; the call after removal has none"
    );

    // The switch flipped off while a stream is read, and on again.
    let a = Sink::new();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(ops::layer(&a.provider)));
    let (_server, model) = serve(
        WIRE,
        vec![
            sse_response(WIRE.sse_body(&["Hel", "lo"], false)),
            json_response(200, WIRE.text_body("Hello")),
            json_response(200, WIRE.text_body("Hello")),
        ],
    );
    tracing::dispatcher::with_default(&dispatch, || {
        runtime.block_on(async {
            let stream = model.stream("hi").await.expect("stream");
            ops::uninstrument_llm();
            stream.finish().await.expect("finish");
            model.call("hi").await.expect("call while off");
            ops::instrument_llm().expect("instrument");
            model.call("hi").await.expect("call");
        })
    });
    assert_eq!(
        chats(&a, model.id()).len(),
        2,
        "the stream started on ends once; off: no span; on again: one"
    );
    3
}
