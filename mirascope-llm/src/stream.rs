//! Streamed answers: typed chunks, their accumulation into a [`Response`], and the async and
//! blocking stream types.
//!
//! Layer: call (the crate docs list the layers: data, wire, call, observation).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::StreamExt;

use crate::content::Part;
use crate::error::{Error, Result};
use crate::genai::StreamSpan;
use crate::model::{CallRequest, Model};
use crate::provider;
use crate::provider::http::EventStream;
use crate::provider::{StreamDecoder, StreamMeta};
use crate::response::{Decoded, FinishReason, Response, Usage};

pub use crate::answer::StreamChunk;

/// Builds the final content from chunks.
#[derive(Debug, Default, Clone)]
pub(crate) struct Accumulator {
    pub content: Vec<Part>,
    pub finish_reason: Option<FinishReason>,
    pub usage: Option<Usage>,
    /// Which kind of part the last start chunk opened.
    open_text: bool,
    open_thought: bool,
    /// Tool calls started and not yet ended: a call joins the content when it ends
    /// ([`Accumulator::end_tool_call`]).
    open_tool_calls: Vec<Part>,
}

impl Accumulator {
    pub fn push(&mut self, chunk: &StreamChunk) {
        match chunk {
            StreamChunk::TextStart => {
                self.content.push(Part::Text {
                    text: String::new(),
                });
                self.open_text = true;
            }
            StreamChunk::TextDelta(d) => {
                if !self.open_text || !matches!(self.content.last(), Some(Part::Text { .. })) {
                    self.content.push(Part::Text {
                        text: String::new(),
                    });
                    self.open_text = true;
                }
                if let Some(Part::Text { text }) = self.content.last_mut() {
                    text.push_str(d);
                }
            }
            StreamChunk::TextEnd => self.open_text = false,
            StreamChunk::ThoughtStart => {
                self.content.push(Part::Thought {
                    thought: String::new(),
                });
                self.open_thought = true;
            }
            StreamChunk::ThoughtDelta(d) => {
                if !self.open_thought || !matches!(self.content.last(), Some(Part::Thought { .. }))
                {
                    self.content.push(Part::Thought {
                        thought: String::new(),
                    });
                    self.open_thought = true;
                }
                if let Some(Part::Thought { thought }) = self.content.last_mut() {
                    thought.push_str(d);
                }
            }
            StreamChunk::ThoughtEnd => self.open_thought = false,
            StreamChunk::ToolCallStart { id, name } => {
                self.open_text = false;
                self.open_tool_calls.push(Part::ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    args: String::new(),
                });
            }
            StreamChunk::ToolCallDelta { id, delta } => {
                let found = self.open_tool_calls.iter_mut().rev().find_map(|p| match p {
                    Part::ToolCall { id: pid, args, .. } if pid == id => Some(args),
                    _ => None,
                });
                if let Some(args) = found {
                    args.push_str(delta);
                }
            }
            StreamChunk::ToolCallEnd { id } => self.end_tool_call(id),
            StreamChunk::FinishReason(r) => self.finish_reason = Some(*r),
            StreamChunk::UsageDelta(u) => self.usage.get_or_insert_with(Usage::default).add(u),
        }
    }

    /// A tool call ends: it joins the content, its blank arguments made `{}`, as
    /// `BaseStreamResponse._handle_chunk` finalizes a `tool_call_end_chunk` (Mirascope 2.8.2,
    /// `llm/responses/base_stream_response.py`). A call that never ends (a stream that broke
    /// inside it) is not part of the content, as in Python.
    fn end_tool_call(&mut self, id: &str) {
        let Some(i) = self
            .open_tool_calls
            .iter()
            .position(|p| matches!(p, Part::ToolCall { id: pid, .. } if pid == id))
        else {
            return;
        };
        let mut call = self.open_tool_calls.remove(i);
        if let Part::ToolCall { args, .. } = &mut call {
            if args.trim().is_empty() {
                *args = "{}".to_string();
            }
        }
        self.content.push(call);
    }

    pub fn decoded(&self, meta: StreamMeta) -> Decoded {
        Decoded {
            content: self.content.clone(),
            finish_reason: self.finish_reason,
            usage: self.usage.clone(),
            id: meta.id,
            response_model: meta.response_model,
            raw_message: meta.raw_message,
            raw: meta.raw,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Done,
    Failed,
}

/// A streamed answer: a [`Stream`] of [`StreamChunk`]s that also accumulates them into a
/// [`Response`] (see [`StreamResponse::finish`]).
///
/// The stream owns the call's GenAI span and ends it exactly once: when the answer is complete,
/// when it fails, or when the stream is dropped before the end.
#[pin_project::pin_project(PinnedDrop)]
pub struct StreamResponse {
    events: EventStream,
    decoder: Box<dyn StreamDecoder>,
    pending: VecDeque<StreamChunk>,
    acc: Accumulator,
    state: State,
    model: Model,
    request: CallRequest,
    provider_id: String,
    meta: Option<StreamMeta>,
    span: StreamSpan,
    /// What else watches this stream (a traced call's span), told when it ends or fails; dropped
    /// with the stream, after the call's own span.
    watcher: Option<Box<dyn StreamWatcher>>,
}

/// What watches a stream from outside the call: the span of an `#[ops::trace]` over an
/// `#[llm::call]`, which stays open until the stream ends, fails or is dropped (the watcher is
/// dropped then). The call layer knows only this trait; `mirascope-ops` implements it. Polls
/// run outside the watcher: reading a chunk runs no user code.
pub trait StreamWatcher: Send + std::fmt::Debug {
    /// The stream ended; `response` assembles the whole response (call it only if needed).
    fn ended(self: Box<Self>, response: &dyn Fn() -> Result<Response>);
    /// The stream failed with `error`.
    fn failed(self: Box<Self>, error: &Error);
}

impl std::fmt::Debug for StreamResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamResponse")
            .field("model_id", &self.model.id())
            .field("state", &self.state)
            .field("content", &self.acc.content)
            .finish()
    }
}

impl StreamResponse {
    pub(crate) fn new(
        events: EventStream,
        decoder: Box<dyn StreamDecoder>,
        model: Model,
        request: CallRequest,
        provider_id: String,
        span: StreamSpan,
    ) -> Self {
        StreamResponse {
            events,
            decoder,
            pending: VecDeque::new(),
            acc: Accumulator::default(),
            state: State::Running,
            model,
            request,
            provider_id,
            meta: None,
            span,
            watcher: None,
        }
    }

    /// Attaches `watcher`, told when the stream ends or fails (used by traced calls).
    pub fn watched_by(mut self, watcher: Box<dyn StreamWatcher>) -> Self {
        self.watcher = Some(watcher);
        self
    }

    /// The Mirascope model id.
    pub fn model_id(&self) -> &str {
        self.model.id()
    }

    /// The content received so far.
    pub fn content(&self) -> &[Part] {
        &self.acc.content
    }

    /// Whether the answer is complete.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// How many events of a type the provider's wire format does not document were skipped so
    /// far (each is also logged at debug level, target `mirascope_llm`).
    pub fn skipped_events(&self) -> u64 {
        self.decoder.skipped_events()
    }

    /// Reads the rest of the stream and returns the whole response.
    pub async fn finish(mut self) -> Result<Response> {
        while let Some(item) = self.next().await {
            item?;
        }
        self.response()
    }

    /// The response, once the stream is complete.
    pub fn response(&self) -> Result<Response> {
        if self.state != State::Done {
            return Err(Error::StreamEndedEarly {
                provider: self.provider_id.clone(),
            });
        }
        let meta = self.meta.clone().unwrap_or_default();
        Ok(Response::assemble(
            self.model.clone(),
            self.request.clone(),
            self.provider_id.clone(),
            self.acc.decoded(meta),
        ))
    }

    /// Only the text deltas.
    pub fn text_stream(self) -> impl Stream<Item = Result<String>> + Send {
        self.filter_map(|item| async move {
            match item {
                Ok(StreamChunk::TextDelta(d)) => Some(Ok(d)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            }
        })
    }

    /// This stream as a blocking iterator.
    pub fn into_blocking(self) -> BlockingStream {
        BlockingStream { inner: self }
    }

    /// The partial response (what was received so far), for the span on error or drop.
    fn partial(&self) -> Response {
        Response::assemble(
            self.model.clone(),
            self.request.clone(),
            self.provider_id.clone(),
            self.acc
                .decoded(provider::partial_meta(self.decoder.as_ref())),
        )
    }
}

impl Stream for StreamResponse {
    type Item = Result<StreamChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(watcher) = self.as_mut().project().watcher.take() else {
            return self.poll_chunk(cx);
        };
        let poll = self.as_mut().poll_chunk(cx);
        match &poll {
            Poll::Ready(None) => watcher.ended(&|| self.response()),
            Poll::Ready(Some(Err(e))) => watcher.failed(e),
            _ => *self.as_mut().project().watcher = Some(watcher),
        }
        poll
    }
}

impl StreamResponse {
    /// The next chunk. The call's span is not entered: a poll runs no user code, and every
    /// record is written to the span by name, so entering would only cost a subscriber round
    /// trip per chunk (the one part of a stream's overhead that grows with its length).
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<StreamChunk>>> {
        let this = self.project();
        loop {
            if let Some(chunk) = this.pending.pop_front() {
                this.acc.push(&chunk);
                return Poll::Ready(Some(Ok(chunk)));
            }
            if *this.state != State::Running {
                return Poll::Ready(None);
            }
            let failure = match this.events.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(ev))) => {
                    let mut out = Vec::new();
                    match this.decoder.event(&ev.event, &ev.data, &mut out) {
                        Ok(()) => {
                            if out.iter().any(|c| {
                                matches!(
                                    c,
                                    StreamChunk::TextDelta(_)
                                        | StreamChunk::ThoughtDelta(_)
                                        | StreamChunk::ToolCallDelta { .. }
                                )
                            }) {
                                this.span.chunk();
                            }
                            this.pending.extend(out);
                            continue;
                        }
                        Err(e) => {
                            // Chunks decoded before the error still count.
                            for c in out {
                                this.acc.push(&c);
                            }
                            this.events.redact(e)
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => e,
                Poll::Ready(None) => {
                    if this.decoder.is_done() {
                        *this.state = State::Done;
                        let meta = this.decoder.finish();
                        *this.meta = Some(meta.clone());
                        let resp = Response::assemble(
                            this.model.clone(),
                            this.request.clone(),
                            this.provider_id.clone(),
                            this.acc.decoded(meta),
                        );
                        this.span.complete(&resp);
                        return Poll::Ready(None);
                    }
                    Error::StreamEndedEarly {
                        provider: this.provider_id.clone(),
                    }
                }
            };
            *this.state = State::Failed;
            let partial = Response::assemble(
                this.model.clone(),
                this.request.clone(),
                this.provider_id.clone(),
                this.acc
                    .decoded(provider::partial_meta(this.decoder.as_ref())),
            );
            this.span.fail(&partial, &failure);
            return Poll::Ready(Some(Err(failure)));
        }
    }
}

#[pin_project::pinned_drop]
impl PinnedDrop for StreamResponse {
    fn drop(self: Pin<&mut Self>) {
        if self.state == State::Running && self.span.is_open() {
            let partial = self.partial();
            let this = self.project();
            this.span.cancel(&partial);
        }
    }
}

/// A streamed answer for programs without an async runtime: an [`Iterator`] of chunks.
///
/// Each `next()` blocks the current thread until the next chunk arrives. Dropping it before the
/// end stops the download and ends the span.
#[derive(Debug)]
pub struct BlockingStream {
    inner: StreamResponse,
}

impl BlockingStream {
    /// Reads the rest and returns the whole response.
    pub fn finish(self) -> Result<Response> {
        pollster::block_on(self.inner.finish())
    }

    /// The content received so far.
    pub fn content(&self) -> &[Part] {
        self.inner.content()
    }

    /// The response, once the stream is complete.
    pub fn response(&self) -> Result<Response> {
        self.inner.response()
    }

    /// Only the text deltas.
    pub fn text_stream(self) -> impl Iterator<Item = Result<String>> {
        self.filter_map(|item| match item {
            Ok(StreamChunk::TextDelta(d)) => Some(Ok(d)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    }
}

impl Iterator for BlockingStream {
    type Item = Result<StreamChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        pollster::block_on(self.inner.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_call_joins_the_content_when_it_ends_with_blank_arguments_as_braces() {
        let mut acc = Accumulator::default();
        for c in [
            StreamChunk::ToolCallStart {
                id: "a".into(),
                name: "f".into(),
            },
            StreamChunk::ToolCallDelta {
                id: "a".into(),
                delta: " ".into(),
            },
            StreamChunk::ToolCallStart {
                id: "b".into(),
                name: "g".into(),
            },
        ] {
            acc.push(&c);
        }
        assert!(acc.content.is_empty(), "no call has ended yet");
        acc.push(&StreamChunk::ToolCallEnd { id: "a".into() });
        acc.push(&StreamChunk::ToolCallEnd {
            id: "unknown".into(),
        });
        // `b` never ends (the stream broke inside it): not part of the content, as in Python.
        assert_eq!(
            acc.content,
            vec![Part::ToolCall {
                id: "a".into(),
                name: "f".into(),
                args: "{}".into()
            }]
        );
    }

    #[test]
    fn accumulates_text_thoughts_and_parallel_tool_calls() {
        let mut acc = Accumulator::default();
        for c in [
            StreamChunk::ThoughtStart,
            StreamChunk::ThoughtDelta("hm".into()),
            StreamChunk::ThoughtEnd,
            StreamChunk::TextDelta("He".into()),
            StreamChunk::TextDelta("llo".into()),
            StreamChunk::ToolCallStart {
                id: "a".into(),
                name: "f".into(),
            },
            StreamChunk::ToolCallStart {
                id: "b".into(),
                name: "f".into(),
            },
            StreamChunk::ToolCallDelta {
                id: "a".into(),
                delta: "{}".into(),
            },
            StreamChunk::ToolCallDelta {
                id: "b".into(),
                delta: "[]".into(),
            },
            StreamChunk::ToolCallEnd { id: "a".into() },
            StreamChunk::ToolCallEnd { id: "b".into() },
            StreamChunk::UsageDelta(Usage {
                input_tokens: 2,
                ..Default::default()
            }),
            StreamChunk::UsageDelta(Usage {
                output_tokens: 3,
                ..Default::default()
            }),
        ] {
            acc.push(&c);
        }
        assert_eq!(
            acc.content,
            vec![
                Part::Thought {
                    thought: "hm".into()
                },
                Part::text("Hello"),
                Part::ToolCall {
                    id: "a".into(),
                    name: "f".into(),
                    args: "{}".into()
                },
                Part::ToolCall {
                    id: "b".into(),
                    name: "f".into(),
                    args: "[]".into()
                },
            ]
        );
        assert_eq!(acc.usage.unwrap().total_tokens(), 5);
    }
}
