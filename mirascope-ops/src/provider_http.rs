//! Spans and client metrics of the model calls an application makes over its own HTTP client
//! (feature `reqwest-middleware`): [`ReqwestMiddleware`] recognizes a Chat Completions request
//! by its method and path, and records it as `opentelemetry-instrumentation-openai-v2` does for
//! Python's `ops.instrument_openai()` (the rules are in `mirascope_llm::genai::openai_v2`).
//!
//! The request and the answer pass through unchanged: the answer's body is read as it reaches
//! the caller, chunk by chunk (a stream is never buffered), and the span ends when the caller
//! has read the body, when it fails, or when the caller drops it.
//!
//! ```
//! # #[cfg(feature = "reqwest-middleware")] {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(mirascope_ops::ReqwestMiddleware)
//!     .build();
//! mirascope_ops::instrument_openai();
//! # drop(client);
//! # }
//! ```

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};
use mirascope_llm::genai::openai_v2::{ChatCall, HttpRequest};
use reqwest::ResponseBuilderExt;
use tracing::Instrument;

/// The `reqwest-middleware` middleware. Requests other than Chat Completions calls, and every
/// request while [`crate::instrument_openai`] is off, go through untouched.
///
/// Put it first (outermost) in the chain, before a retry middleware: a call is then one span
/// however many attempts it took, as in Python, where the SDK's retries happen inside the
/// instrumented `create`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReqwestMiddleware;

/// The [`ChatCall`] of a request, if it is one.
fn start(req: &reqwest::Request) -> Option<ChatCall> {
    let url = req.url();
    let authorization = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    ChatCall::start(HttpRequest {
        method: req.method().as_str(),
        url: url.as_str(),
        path: url.path(),
        authorization,
        body: req.body().and_then(reqwest::Body::as_bytes),
    })
}

/// The class and message the OpenAI SDK raises for a transport failure (`APITimeoutError`,
/// `APIConnectionError`).
fn transport_error(err: &reqwest_middleware::Error) -> (&'static str, &'static str) {
    match err {
        reqwest_middleware::Error::Reqwest(e) if e.is_timeout() => {
            ("APITimeoutError", "Request timed out.")
        }
        _ => ("APIConnectionError", "Connection error."),
    }
}

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for ReqwestMiddleware {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let Some(call) = start(&req) else {
            return next.run(req, extensions).await;
        };
        // Dropping this future drops `call`, which ends its span (a cancelled call).
        let span = call.span().clone();
        match next.run(req, extensions).instrument(span).await {
            Ok(resp) => Ok(observe(call, resp)),
            Err(e) => {
                let (class, message) = transport_error(&e);
                call.failed(class, message);
                Err(e)
            }
        }
    }
}

/// The same answer, whose body `call` reads as the caller does.
fn observe(mut call: ChatCall, resp: reqwest::Response) -> reqwest::Response {
    call.response_started(resp.status().as_u16());
    let url = resp.url().clone();
    let (parts, body) = http::Response::<reqwest::Body>::from(resp).into_parts();
    let mut builder = http::Response::builder()
        .status(parts.status)
        .version(parts.version)
        .url(url);
    if let Some(headers) = builder.headers_mut() {
        *headers = parts.headers;
    }
    if let Some(extensions) = builder.extensions_mut() {
        // Added to (not replacing) the URL the builder keeps there.
        extensions.extend(parts.extensions);
    }
    let observed = ObservedBody {
        inner: body,
        call: Some(call),
    };
    match builder.body(reqwest::Body::wrap(observed)) {
        Ok(resp) => reqwest::Response::from(resp),
        // Unreachable: every part came from a valid response.
        Err(_) => reqwest::Response::from(http::Response::new(reqwest::Body::from(Vec::new()))),
    }
}

/// A body that shows each frame's bytes to its call on the way to the caller.
#[pin_project::pin_project]
struct ObservedBody {
    #[pin]
    inner: reqwest::Body,
    call: Option<ChatCall>,
}

impl HttpBody for ObservedBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(call), Some(data)) = (this.call.as_mut(), frame.data_ref()) {
                    call.body_bytes(data);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                if let Some(call) = this.call.take() {
                    let message = if e.is_timeout() {
                        "Request timed out."
                    } else {
                        "Connection error."
                    };
                    call.failed(
                        if e.is_timeout() {
                            "APITimeoutError"
                        } else {
                            "APIConnectionError"
                        },
                        message,
                    );
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.body_ended();
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    /// Not at the end while the call still waits to see it (a consumer that stops at
    /// `is_end_stream` would otherwise leave the call to end as dropped).
    fn is_end_stream(&self) -> bool {
        self.call.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
