//! A readable console exporter: each finished trace is printed as an indented tree with span
//! names, kinds, durations and the key GenAI attributes.

use mirascope_llm::genai::keys;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::Value;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Attributes shown next to a span, in this order, with short labels.
const SHOWN: &[(&str, &str)] = &[
    (keys::GEN_AI_PROVIDER_NAME, "provider"),
    (keys::GEN_AI_REQUEST_MODEL, "model"),
    (keys::GEN_AI_USAGE_INPUT_TOKENS, "in"),
    (keys::GEN_AI_USAGE_OUTPUT_TOKENS, "out"),
    (keys::GEN_AI_RESPONSE_FINISH_REASONS, "finish"),
    (keys::GEN_AI_RESPONSE_ID, "id"),
    (keys::GEN_AI_TOOL_NAME, "tool"),
    (keys::MIRASCOPE_TRACE_TAGS, "tags"),
    (keys::MIRASCOPE_OPS_SESSION_ID, "session"),
    (keys::ERROR_TYPE, "error"),
];

/// The most finished spans of one open trace held before they are printed (as a part of the
/// trace, its root still running): a long-lived root (a server's lifetime span, a session) must
/// not hold every span under it in memory.
pub const MAX_HELD_SPANS_PER_TRACE: usize = 256;

/// The most finished spans held across all open traces; past it, every held span is printed.
pub const MAX_HELD_SPANS: usize = 4096;

/// Prints finished traces as trees (to stdout by default). A trace is printed when its root
/// ends; the spans of a trace whose root is still open are printed in parts of
/// [`MAX_HELD_SPANS_PER_TRACE`] (and all at once past [`MAX_HELD_SPANS`]), so memory stays
/// bounded however long a root lives.
///
/// ```
/// use mirascope_ops::export::ConsoleExporter;
/// let exporter = ConsoleExporter::new(std::io::sink());
/// ```
#[derive(Clone)]
pub struct ConsoleExporter {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    pending: Arc<Mutex<Pending>>,
}

/// The finished spans of open traces, and how many there are.
#[derive(Default)]
struct Pending {
    traces: HashMap<TraceId, Vec<SpanData>>,
    held: usize,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter").finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::stdout()
    }
}

impl ConsoleExporter {
    /// Prints to stdout.
    pub fn stdout() -> Self {
        Self::new(std::io::stdout())
    }

    /// Prints to `out`.
    pub fn new(out: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            out: Arc::new(Mutex::new(Box::new(out))),
            pending: Arc::default(),
        }
    }

    /// Writes one trace in one write, after an empty line: the tree starts on a line of its own
    /// even when the program's last output did not end its line (`print!`), and stands apart
    /// from what the program printed before it.
    fn print(&self, spans: Vec<SpanData>) {
        let text = format!("\n{}", render(&spans));
        self.write(&text);
    }

    /// Prints the finished spans of a trace whose root is still open.
    fn print_part(&self, spans: Vec<SpanData>) {
        let text = format!(
            "\n(part of a trace still open: {} finished spans)\n{}",
            spans.len(),
            render(&spans)
        );
        self.write(&text);
    }

    fn write(&self, text: &str) {
        if let Ok(mut out) = self.out.lock() {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }

    fn flush_pending(&self) {
        let all: Vec<Vec<SpanData>> = match self.pending.lock() {
            Ok(mut p) => {
                p.held = 0;
                p.traces.drain().map(|(_, v)| v).collect()
            }
            Err(_) => return,
        };
        for spans in all {
            self.print(spans);
        }
    }

    /// How many finished spans are held for open traces (for tests of the bound).
    pub fn held_spans(&self) -> usize {
        self.pending.lock().map(|p| p.held).unwrap_or(0)
    }
}

fn kind(k: &SpanKind) -> &'static str {
    match k {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Array(opentelemetry::Array::String(items)) => items
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

fn duration(s: &SpanData) -> String {
    let d = s
        .end_time
        .duration_since(s.start_time)
        .unwrap_or(Duration::ZERO);
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{} µs", d.as_micros())
    }
}

fn line(s: &SpanData) -> String {
    let mut out = format!("{} ({}, {})", s.name, kind(&s.span_kind), duration(s));
    for (key, label) in SHOWN {
        if let Some(kv) = s.attributes.iter().find(|kv| kv.key.as_str() == *key) {
            out.push_str(&format!(" {label}={}", show(&kv.value)));
        }
    }
    if let Status::Error { description } = &s.status {
        out.push_str(" !! ERROR");
        if !description.is_empty() {
            out.push_str(&format!(": {description}"));
        }
    }
    out
}

/// Renders spans of one trace as a tree (roots are spans whose parent is not among them).
pub fn render(spans: &[SpanData]) -> String {
    let ids: std::collections::HashSet<SpanId> =
        spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| spans[i].start_time);
    // Children by parent, in start order: one pass, not one scan of all spans per span.
    let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
    for &i in &order {
        children.entry(spans[i].parent_span_id).or_default().push(i);
    }
    let mut out = String::new();
    fn walk(
        i: usize,
        spans: &[SpanData],
        children: &HashMap<SpanId, Vec<usize>>,
        prefix: &str,
        last: bool,
        root: bool,
        out: &mut String,
    ) {
        let branch = if root {
            ""
        } else if last {
            "└─ "
        } else {
            "├─ "
        };
        out.push_str(&format!("{prefix}{branch}{}\n", line(&spans[i])));
        let id = spans[i].span_context.span_id();
        let mine: Vec<usize> = children
            .get(&id)
            .map(|c| c.iter().copied().filter(|&j| j != i).collect())
            .unwrap_or_default();
        let child_prefix = if root {
            prefix.to_string()
        } else {
            format!("{prefix}{}", if last { "   " } else { "│  " })
        };
        for (n, &c) in mine.iter().enumerate() {
            walk(
                c,
                spans,
                children,
                &child_prefix,
                n + 1 == mine.len(),
                false,
                out,
            );
        }
    }
    for &i in &order {
        if !ids.contains(&spans[i].parent_span_id) {
            walk(i, spans, &children, "", true, true, &mut out);
        }
    }
    out
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut done = Vec::new();
        let mut parts = Vec::new();
        if let Ok(mut guard) = self.pending.lock() {
            let pending = &mut *guard;
            for span in batch {
                let trace = span.span_context.trace_id();
                let is_root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
                let entry = pending.traces.entry(trace).or_default();
                entry.push(span);
                pending.held += 1;
                if is_root {
                    if let Some(spans) = pending.traces.remove(&trace) {
                        pending.held -= spans.len();
                        done.push(spans);
                    }
                } else if entry.len() >= MAX_HELD_SPANS_PER_TRACE {
                    let part = std::mem::take(entry);
                    pending.traces.remove(&trace);
                    pending.held -= part.len();
                    parts.push(part);
                }
                if pending.held >= MAX_HELD_SPANS {
                    pending.held = 0;
                    parts.extend(pending.traces.drain().map(|(_, v)| v));
                }
            }
        }
        for spans in parts {
            self.print_part(spans);
        }
        for spans in done {
            self.print(spans);
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.flush_pending();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.flush_pending();
        Ok(())
    }
}

#[cfg(test)]
mod print_tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, TraceFlags, TraceState};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use std::borrow::Cow;
    use std::time::SystemTime;

    /// A `Write` whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn root_span(name: &'static str) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(7u128),
                SpanId::from(9u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Borrowed(name),
            start_time: SystemTime::UNIX_EPOCH,
            end_time: SystemTime::UNIX_EPOCH,
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: opentelemetry::trace::Status::Unset,
            instrumentation_scope: Default::default(),
        }
    }

    /// Many open traces together stay under `MAX_HELD_SPANS`.
    #[test]
    fn many_open_traces_stay_bounded() {
        let exporter = ConsoleExporter::new(std::io::sink());
        let mut most = 0;
        // (One open trace under its bound is `tests/hostile_shapes.rs`.)
        for t in 0..20_000u128 {
            let mut child = root_span("chat");
            child.span_context = SpanContext::new(
                TraceId::from(t + 1),
                SpanId::from(5u64),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            );
            child.parent_span_id = SpanId::from(9u64);
            pollster::block_on(exporter.export(vec![child])).unwrap();
            most = most.max(exporter.held_spans());
        }
        assert!(most <= MAX_HELD_SPANS, "{most} held");
    }

    #[test]
    fn a_tree_starts_on_its_own_line_after_unfinished_output() {
        let out = Shared::default();
        let exporter = ConsoleExporter::new(out.clone());
        out.clone().write_all(b"Answer: 42").unwrap();
        exporter.print(vec![root_span("pipeline")]);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.starts_with("Answer: 42\npipeline (internal"),
            "{text:?}"
        );
    }
}
