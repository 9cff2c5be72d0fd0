//! A tower layer (feature `axum`; use it with axum's `Router::layer`) that continues an incoming
//! request's trace and session: it extracts the propagated context and the
//! `Mirascope-Session-Id` header, and runs the handler inside a SERVER span parented to the
//! caller's span, inside the caller's session.
//!
//! ```ignore
//! let app = axum::Router::new().route("/", get(handler)).layer(mirascope_ops::PropagationLayer);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::propagation::{extract_context, extract_session_id};
use crate::session::{in_session, SessionContext};

/// The layer.
#[derive(Debug, Clone, Copy, Default)]
pub struct PropagationLayer;

impl<S> tower_layer::Layer<S> for PropagationLayer {
    type Service = PropagationService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PropagationService { inner }
    }
}

/// The service the layer wraps around yours.
#[derive(Debug, Clone)]
pub struct PropagationService<S> {
    inner: S,
}

impl<S, B> tower_service::Service<http::Request<B>> for PropagationService<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Continued<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let parent = extract_context(req.headers());
        let session = extract_session_id(req.headers()).map(SessionContext::new);
        let span = tracing::info_span!(
            target: mirascope_llm::genai::OPS_TARGET,
            "request",
            otel.name = %format_args!("{} {}", req.method(), req.uri().path()),
            otel.kind = "server",
            http.request.method = %req.method(),
            url.path = %req.uri().path(),
            mirascope.ops.session.id = session.as_ref().map(|s| s.id.as_str()),
        );
        crate::otel_span::set_parent(&span, parent);
        let fut = span.in_scope(|| self.inner.call(req));
        Continued {
            inner: Box::pin(Inner { fut, span }),
            session,
        }
    }
}

#[pin_project::pin_project]
struct Inner<F> {
    #[pin]
    fut: F,
    span: tracing::Span,
}

impl<F: Future> Future for Inner<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _e = this.span.enter();
        this.fut.poll(cx)
    }
}

/// The handler's future, run inside the request's span and session.
pub struct Continued<F> {
    inner: Pin<Box<Inner<F>>>,
    session: Option<SessionContext>,
}

impl<F: Future> Future for Continued<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.session.take() {
            Some(s) => {
                // Enter the session for this poll (and every later one: keep it).
                let ctx = s.clone();
                self.session = Some(s);
                let mut fut = in_session(ctx, self.inner.as_mut());
                Pin::new(&mut fut).poll(cx)
            }
            None => self.inner.as_mut().poll(cx),
        }
    }
}

impl<F> std::fmt::Debug for Continued<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Continued")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}
