//! A future polled inside a span it borrows: what `tracing::Instrument` does for a model call,
//! without its two extra costs on every call. `Instrumented` owns a clone of the span (one
//! more reference for the subscriber to count and close) and enters the span again to drop the
//! future it wraps; a call's future is dropped right after it completes, so that last enter
//! runs every layer's enter and exit hooks for nothing.
//!
//! Layer: observation (the crate docs list the layers: data, wire, call, observation).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tracing::Span;

/// `inner`, entered in `span` at each poll (see the module).
#[pin_project::pin_project]
pub(crate) struct InSpan<'a, F> {
    span: &'a Span,
    #[pin]
    inner: F,
}

/// Polls `inner` inside `span`.
pub(crate) fn in_span<F: Future>(span: &Span, inner: F) -> InSpan<'_, F> {
    InSpan { span, inner }
}

impl<F: Future> Future for InSpan<'_, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        this.inner.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    /// Counts enters, and which span is current when an event is emitted.
    #[derive(Default)]
    struct Counting {
        enters: AtomicUsize,
        inside: AtomicUsize,
        depth: AtomicUsize,
    }

    struct Sub(Arc<Counting>);

    impl Subscriber for Sub {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, _: &Event<'_>) {
            if self.0.depth.load(Ordering::SeqCst) > 0 {
                self.0.inside.fetch_add(1, Ordering::SeqCst);
            }
        }
        fn enter(&self, _: &Id) {
            self.0.enters.fetch_add(1, Ordering::SeqCst);
            self.0.depth.fetch_add(1, Ordering::SeqCst);
        }
        fn exit(&self, _: &Id) {
            self.0.depth.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn each_poll_runs_inside_the_span_and_the_drop_does_not_enter_it() {
        let counts = Arc::new(Counting::default());
        tracing::subscriber::with_default(Sub(counts.clone()), || {
            let span = tracing::info_span!("call");
            let mut polls = 0;
            let fut = std::future::poll_fn(|cx| {
                tracing::info!("polled");
                polls += 1;
                if polls < 3 {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(polls)
                }
            });
            assert_eq!(pollster::block_on(in_span(&span, fut)), 3);
        });
        assert_eq!(counts.enters.load(Ordering::SeqCst), 3, "one enter a poll");
        assert_eq!(
            counts.inside.load(Ordering::SeqCst),
            3,
            "every event inside"
        );
        assert_eq!(counts.depth.load(Ordering::SeqCst), 0, "every enter exited");
    }
}
