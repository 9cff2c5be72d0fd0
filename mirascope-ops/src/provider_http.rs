//! Spans and client metrics of the model calls an application makes over its own HTTP client:
//! `ReqwestMiddleware` (feature `reqwest-middleware`) for a `reqwest-middleware` client, and
//! `OpenAiLayer` (feature `async-openai`) for an `async-openai` client. Both recognize a Chat
//! Completions request by its method and path, and record it as
//! `opentelemetry-instrumentation-openai-v2` does for Python's `ops.instrument_openai()` (the
//! rules are in `mirascope_llm::genai::openai_v2`).
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
use mirascope_llm::genai::http_call::{HttpRequest, ObservedCall as ChatCall};
use reqwest::ResponseBuilderExt;
use tracing::Instrument;

/// The `reqwest-middleware` middleware. Requests other than Chat Completions calls, and every
/// request while [`crate::instrument_openai`] is off, go through untouched.
///
/// Put it first (outermost) in the chain, before a retry middleware: a call is then one span
/// however many attempts it took, as in Python, where the SDK's retries happen inside the
/// instrumented `create`.
#[cfg(feature = "reqwest-middleware")]
#[derive(Debug, Clone, Copy, Default)]
pub struct ReqwestMiddleware;

/// The [`ChatCall`] of a request, if it is one.
fn start(req: &reqwest::Request) -> Option<ChatCall> {
    let url = req.url();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    ChatCall::start(HttpRequest {
        method: req.method().as_str(),
        url: url.as_str(),
        path: url.path(),
        authorization: header("authorization"),
        api_key: header("x-api-key").or_else(|| header("x-goog-api-key")),
        body: req.body().and_then(reqwest::Body::as_bytes),
    })
}

/// The class and message the OpenAI SDK raises for a transport failure (`APITimeoutError`,
/// `APIConnectionError`).
fn transport_error(timeout: bool) -> (&'static str, &'static str) {
    if timeout {
        ("APITimeoutError", "Request timed out.")
    } else {
        ("APIConnectionError", "Connection error.")
    }
}

#[cfg(feature = "reqwest-middleware")]
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
                let timeout = matches!(&e, reqwest_middleware::Error::Reqwest(e) if e.is_timeout());
                let (class, message) = transport_error(timeout);
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
                    let (class, message) = transport_error(e.is_timeout());
                    call.failed(class, message);
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

/// The tower layer for an `async-openai` client (feature `async-openai`): put it above the
/// client's retry layer, so that a call is one span however many attempts it took (as in
/// Python, where the SDK retries inside the instrumented `create`). [`openai_http_service`]
/// builds the usual stack with it.
#[cfg(feature = "async-openai")]
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenAiLayer;

#[cfg(feature = "async-openai")]
impl<S> tower_layer::Layer<S> for OpenAiLayer {
    type Service = OpenAiService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        OpenAiService { inner }
    }
}

/// The service [`OpenAiLayer`] wraps around an `async-openai` HTTP service.
#[cfg(feature = "async-openai")]
#[derive(Debug, Clone)]
pub struct OpenAiService<S> {
    inner: S,
}

/// `async-openai`'s usual HTTP stack (its retry layer over `reqwest`) with [`OpenAiLayer`] on
/// top: `Client::new().with_http_service(mirascope_ops::openai_http_service(reqwest::Client::new()))`.
#[cfg(feature = "async-openai")]
pub fn openai_http_service(
    client: reqwest::Client,
) -> OpenAiService<
    async_openai::middleware::retry::OpenAIRetry<async_openai::middleware::ReqwestService>,
> {
    use tower_layer::Layer;
    OpenAiLayer.layer(
        async_openai::middleware::retry::OpenAIRetryLayer::default()
            .layer(async_openai::middleware::ReqwestService::new(client)),
    )
}

/// How an `async-openai` service's error ends a span: an API error by its status (the SDK's
/// class), a timeout or anything else as the SDK's transport errors.
#[cfg(feature = "async-openai")]
fn end_with_error(call: ChatCall, err: &(dyn std::any::Any + 'static)) {
    use async_openai::error::OpenAIError;
    match err.downcast_ref::<OpenAIError>() {
        Some(OpenAIError::ApiError(api)) => {
            let body = serde_json::json!({ "error": api.api_error });
            call.failed_with_status(api.status_code.as_u16(), body.to_string().as_bytes());
        }
        Some(OpenAIError::Reqwest(e)) => {
            let (class, message) = transport_error(e.is_timeout());
            call.failed(class, message);
        }
        _ => {
            let (class, message) = transport_error(false);
            call.failed(class, message);
        }
    }
}

#[cfg(feature = "async-openai")]
impl<S> tower_service::Service<async_openai::middleware::HttpRequestFactory> for OpenAiService<S>
where
    S: tower_service::Service<
            async_openai::middleware::HttpRequestFactory,
            Response = reqwest::Response,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = reqwest::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<reqwest::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, factory: async_openai::middleware::HttpRequestFactory) -> Self::Future {
        // The service that was made ready serves this call; a clone stays for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            if !mirascope_llm::genai::openai_v2::is_instrumented() {
                // (Only OpenAI requests go through an async-openai client.)
                return inner.call(factory).await;
            }
            // The factory rebuilds the request for each attempt; one build shows what it sends.
            let call = match factory.build().await {
                Ok(request) => start(&request),
                Err(_) => None,
            };
            let Some(call) = call else {
                return inner.call(factory).await;
            };
            let span = call.span().clone();
            match inner.call(factory).instrument(span).await {
                Ok(resp) => Ok(observe(call, resp)),
                Err(e) => {
                    end_with_error(call, &e);
                    Err(e)
                }
            }
        })
    }
}
