//! An OpenTelemetry span whose attribute keys stay unique. The OpenTelemetry SDK appends every
//! `set_attribute` to the span's list, so a key set twice (an `ops::span` attribute changed,
//! a field recorded again) would be exported twice; the specification wants one value a key,
//! the last, as Python's SDK keeps it. The attributes set after the span started are kept here,
//! one a key, and written to the span when it ends.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{Span, SpanContext, Status};
use opentelemetry::KeyValue;

/// The most attributes kept here; past it they go to the SDK span as they come (where its
/// own limit applies and counts what it drops).
const MAX_KEPT: usize = 128;

/// The room made for the attributes set after a span starts, at the first of them (16 × 56
/// bytes: under 1 KiB).
const LATER_CAPACITY: usize = 16;

/// An SDK span with unique attribute keys (see the module).
#[derive(Debug)]
pub(crate) struct KeyedSpan {
    inner: opentelemetry_sdk::trace::Span,
    /// Attributes set since the span started, one a key (the last value).
    later: Vec<KeyValue>,
}

impl KeyedSpan {
    pub(crate) fn new(inner: opentelemetry_sdk::trace::Span) -> Self {
        KeyedSpan {
            inner,
            later: Vec::new(),
        }
    }

    fn flush(&mut self) {
        if !self.later.is_empty() {
            self.inner.set_attributes(std::mem::take(&mut self.later));
        }
    }
}

/// Sets `attribute` in `list`, replacing the value of its key if the list has it.
pub(crate) fn upsert(list: &mut Vec<KeyValue>, attribute: KeyValue) {
    match list.iter_mut().find(|kv| kv.key == attribute.key) {
        Some(kv) => *kv = attribute,
        None => list.push(attribute),
    }
}

impl Span for KeyedSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        self.inner
            .add_event_with_timestamp(name, timestamp, attributes)
    }

    fn span_context(&self) -> &SpanContext {
        self.inner.span_context()
    }

    fn is_recording(&self) -> bool {
        self.inner.is_recording()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if !self.inner.is_recording() {
            return;
        }
        if self.later.len() >= MAX_KEPT && !self.later.iter().any(|kv| kv.key == attribute.key) {
            self.inner.set_attribute(attribute);
            return;
        }
        if self.later.capacity() == 0 {
            // The attributes a span gets after it starts come together (a response's dozen):
            // one allocation instead of a doubling series.
            self.later.reserve(LATER_CAPACITY);
        }
        upsert(&mut self.later, attribute);
    }

    fn set_status(&mut self, status: Status) {
        self.inner.set_status(status)
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.inner.update_name(new_name)
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        self.inner.add_link(span_context, attributes)
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.flush();
        self.inner.end_with_timestamp(timestamp)
    }
}

impl Drop for KeyedSpan {
    /// A span dropped without `end` is ended by the SDK span's own drop: its attributes first.
    fn drop(&mut self) {
        self.flush();
    }
}
