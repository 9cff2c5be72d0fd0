//! [`Model`]: a model id plus default params, and the call/stream entry points (async first,
//! blocking forms for programs without a runtime).
//!
//! Layer: call (the crate docs list the layers: data, wire, call, observation).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::content::{Message, Prompt};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::genai::{self, span::CallInfo, StreamSpan};
use crate::params::Params;
use crate::provider::http::{self, CallOptions, HttpRequest, TransportOverrides};
use crate::provider::{self, DecodeContext, EncodeContext, WireFormat};
use crate::registry::{self, Resolved};
pub(crate) use crate::request::CallRequest;
use crate::response::Response;
use crate::stream::{BlockingStream, StreamResponse};
use crate::tool::Tool;
use crate::RetryPolicy;

/// A boxed future, as returned by the call builders.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A model: its Mirascope id (`provider/model-name`), default params and transport options.
///
/// ```no_run
/// # async fn run() -> Result<(), mirascope_llm::Error> {
/// use mirascope_llm as llm;
/// let model = llm::model("openai/gpt-4o-mini")?;
/// let response = model.call("What is the capital of France?").await?;
/// println!("{}", response.text());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Model {
    id: Arc<str>,
    params: Params,
    options: TransportOverrides,
}

/// A model for `model_id` (checked: it must be `provider/model-name`; the provider is resolved
/// when the model is called).
pub fn model(model_id: &str) -> Result<Model> {
    Model::new(model_id)
}

impl Model {
    /// A model for `model_id`.
    pub fn new(model_id: &str) -> Result<Self> {
        registry::validate_model_id(model_id)?;
        Ok(Model {
            id: Arc::from(model_id),
            params: Params::new(),
            options: TransportOverrides::default(),
        })
    }

    /// A model whose id's shape was already checked (by a macro at compile time; the provider
    /// is resolved when the model is called).
    #[doc(hidden)]
    pub fn unchecked(model_id: &str) -> Self {
        Model {
            id: Arc::from(model_id),
            params: Params::new(),
            options: TransportOverrides::default(),
        }
    }

    /// The Mirascope model id.
    pub(crate) fn shared_id(&self) -> Arc<str> {
        self.id.clone()
    }

    /// The Mirascope model id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The default params.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Replaces the default params.
    pub fn with_params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// Sets the retry policy (default: 2 retries with exponential backoff; a provider
    /// registration may set another, see [`crate::Provider`]; this setting wins over both).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.options.retry = Some(retry);
        self
    }

    /// Sets the deadline of the whole answer: a call's request and answer (per attempt), or a
    /// stream from its request to its last event. Without it, a call's attempt has 600 s (as the
    /// OpenAI and Anthropic SDKs), a stream's head 60 s and the whole stream 30 min
    /// ([`Model::with_stream_deadline`]). The total of all attempts is bounded by
    /// [`RetryPolicy::total_deadline`] (default 15 min); the connect timeout is 5 s. A zero
    /// timeout is refused when the call is made (`Error::InvalidRequest`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Sets the deadline of a whole stream, from its request to its last event (default 30 min;
    /// `None` lifts it, leaving the 120 s idle timeout between events as the only bound). A
    /// stream past it ends with `Error::Timeout`.
    pub fn with_stream_deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.options.stream_deadline = Some(deadline.into());
        self
    }

    /// Sets the longest silence between an answer's bytes (calls) or events (streams) before
    /// the request fails with `Error::Timeout` (default 120 s).
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Self {
        self.options.idle_timeout = Some(timeout);
        self
    }

    /// Sets the most bytes one answer may have: a call's body, or all of a stream's events
    /// (default 64 MiB). A larger answer fails with `Error::ResponseTooLarge` without being read
    /// further.
    pub fn with_max_response_bytes(mut self, limit: u64) -> Self {
        self.options.max_response_bytes = Some(limit);
        self
    }

    /// Starts a call; add tools, a format or params, then `.await` it (or `.blocking()`).
    pub fn call(&self, prompt: impl Into<Prompt>) -> Call<'_> {
        Call {
            model: self,
            request: self.request(prompt.into()),
        }
    }

    /// Calls the model, blocking the current thread (no async runtime needed).
    pub fn call_blocking(&self, prompt: impl Into<Prompt>) -> Result<Response> {
        self.call(prompt).blocking()
    }

    /// Starts a streamed call; `.await` gives a [`StreamResponse`] once the answer begins.
    pub fn stream(&self, prompt: impl Into<Prompt>) -> StreamCall<'_> {
        StreamCall {
            model: self,
            request: self.request(prompt.into()),
        }
    }

    /// Streams, blocking the current thread: an iterator of chunks.
    pub fn stream_blocking(&self, prompt: impl Into<Prompt>) -> Result<BlockingStream> {
        self.stream(prompt).blocking()
    }

    /// The request of a call with these tools and format (params: the model's).
    pub(crate) fn request_with(
        &self,
        prompt: Prompt,
        tools: Vec<Tool>,
        format: Option<Format>,
    ) -> CallRequest {
        CallRequest {
            tools,
            format,
            ..self.request(prompt)
        }
    }

    fn request(&self, prompt: Prompt) -> CallRequest {
        CallRequest {
            messages: prompt.into_messages(),
            params: self.params.clone(),
            ..Default::default()
        }
    }

    fn prepare(&self, request: &mut CallRequest) -> Result<(Resolved, &'static dyn WireFormat)> {
        if request.messages.is_empty() {
            return Err(Error::InvalidRequest(
                "a call needs at least one message".into(),
            ));
        }
        let has_audio = request.messages.iter().any(Message::has_audio);
        let resolved = registry::resolve_for(&self.id, has_audio)?;
        request.params.check_finite()?;
        let options = CallOptions::default()
            .overlaid(&resolved.transport)
            .overlaid(&self.options);
        if options.timeout.is_zero() || options.idle_timeout.is_zero() {
            return Err(Error::InvalidRequest(
                "a zero timeout would fail every call; set a positive duration".into(),
            ));
        }
        let wire = provider::wire(resolved.api);
        if !request.unchecked_params {
            provider::ranges::check(
                resolved.api,
                &resolved.provider_id,
                &request.params,
                wire.dropped_params(&resolved.provider_id, &resolved.model_name),
            )?;
        }
        request.resolved_format = request.format.as_ref().map(|f| {
            f.resolve(wire.default_format_mode(
                &resolved.provider_id,
                &resolved.model_name,
                !request.tools.is_empty(),
            ))
        });
        Ok((resolved, wire))
    }

    /// Where a call of this model goes (for the metrics of a cancelled call).
    fn call_target<'a>(&'a self, resolved: &'a Resolved) -> genai::span::CallTarget<'a> {
        genai::span::CallTarget {
            base_url: &resolved.base_url,
            model_id: &self.id,
            provider_id: &resolved.provider_id,
        }
    }

    fn start_span(&self, resolved: &Resolved, request: &CallRequest) -> tracing::Span {
        genai::span::start(&CallInfo {
            model_id: &self.id,
            provider_id: &resolved.provider_id,
            request,
            format: request.resolved_format.as_ref(),
            base_url: &resolved.base_url,
        })
    }

    fn http_request(
        &self,
        resolved: &Resolved,
        wire: &'static dyn WireFormat,
        request: &CallRequest,
        span: &tracing::Span,
        stream: bool,
    ) -> Result<HttpRequest> {
        let messages = request.sent_messages();
        let ctx = EncodeContext {
            provider_id: &resolved.provider_id,
            response_provider_id: resolved.response_provider_id(),
            model_id: &self.id,
            model_name: &resolved.model_name,
            messages: &messages,
            tools: &request.tools,
            format: request.resolved_format.as_ref(),
            params: &request.params,
            stream,
        };
        let body = wire.encode(&ctx)?;
        let auth = resolved.api_key.as_ref().map(|k| wire.auth_header(k));
        let mut pairs: Vec<(&str, &str)> = wire.fixed_headers().to_vec();
        pairs.extend_from_slice(wire.variant_headers(&ctx));
        if let Some((name, value)) = &auth {
            pairs.push((name, value.as_str()));
        }
        let mut headers = http::headers(&pairs)?;
        if genai::propagate_trace_context() && !span.is_disabled() {
            if let Some(cx) = genai::trace_context(span) {
                http::add_trace_context(&mut headers, cx);
            }
        }
        Ok(HttpRequest {
            provider_id: resolved.provider_id.clone(),
            url: format!(
                "{}{}{}",
                resolved.base_url,
                wire.path(&resolved.model_name, stream),
                wire.query(&ctx)
            ),
            headers,
            body: serde_json::to_vec(&body)
                .map_err(|e| Error::InvalidRequest(format!("request does not serialize: {e}")))?
                .into(),
            wire,
            options: CallOptions::default()
                .overlaid(&resolved.transport)
                .overlaid(&self.options),
            secret: resolved.api_key.clone(),
        })
    }

    pub(crate) async fn call_request(&self, mut request: CallRequest) -> Result<Response> {
        let (resolved, wire) = self.prepare(&mut request)?;
        http::ready()?;
        let span = self.start_span(&resolved, &request);
        let cancelled = genai::span::CallGuard::new(&span, self.call_target(&resolved));
        let result = async {
            let req = self.http_request(&resolved, wire, &request, &span, false)?;
            let body = http::send(req).await?;
            let json: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
                Error::malformed(
                    &resolved.provider_id,
                    format!("body is not JSON: {e}"),
                    &body,
                )
                .redacted(resolved.api_key.as_ref())
            })?;
            wire.decode(&decode_context(&resolved, &request), json)
                .map_err(|e| e.redacted(resolved.api_key.as_ref()))
        };
        let result = genai::in_span::in_span(&span, result).await;
        // The request moves into the response (no copy of its messages).
        let result = result.map(|decoded| {
            Response::assemble(
                self.clone(),
                request,
                resolved.response_provider_id().to_string(),
                decoded,
            )
        });
        let mut timing = cancelled.finished();
        if let Some(t) = timing.as_mut() {
            t.end();
        }
        match &result {
            Ok(resp) => {
                genai::span::record_response(&span, resp);
                genai::span::record_untracked_params(&span, &resp.request.params);
            }
            Err(e) => genai::span::record_error(&span, e, false),
        }
        genai::metrics::record(
            &span,
            &resolved.base_url,
            &self.id,
            &resolved.provider_id,
            timing.as_ref(),
            result.as_ref().ok().map(Response::data),
            result.as_ref().err(),
        );
        result
    }

    pub(crate) async fn stream_request(&self, mut request: CallRequest) -> Result<StreamResponse> {
        let (resolved, wire) = self.prepare(&mut request)?;
        http::ready()?;
        let span = self.start_span(&resolved, &request);
        let cancelled = genai::span::CallGuard::new(&span, self.call_target(&resolved));
        let mut sent = false;
        let opened = async {
            let req = self.http_request(&resolved, wire, &request, &span, true)?;
            sent = true;
            http::open_stream(req).await
        };
        let opened = genai::in_span::in_span(&span, opened).await;
        let mut timing = cancelled.finished();
        if opened.is_err() && sent && wire.stream_opens_on_first_read() {
            // The SDK's stream had already been handed to Mirascope when the request failed, so
            // Python ends the span as a stream that broke before its first chunk.
            let empty = Response::assemble(
                self.clone(),
                request.clone(),
                resolved.response_provider_id().to_string(),
                Default::default(),
            );
            genai::span::record_partial_response(&span, &empty);
        }
        match opened {
            Ok(events) => {
                genai::span::record_untracked_params(&span, &request.params);
                let decoder = wire.stream_decoder(&decode_context(&resolved, &request));
                Ok(StreamResponse::new(
                    events,
                    decoder,
                    self.clone(),
                    request,
                    resolved.response_provider_id().to_string(),
                    StreamSpan::new(span, resolved.base_url, resolved.provider_id, timing),
                ))
            }
            Err(e) => {
                if let Some(t) = timing.as_mut() {
                    t.end();
                }
                genai::span::record_error(&span, &e, true);
                genai::metrics::record(
                    &span,
                    &resolved.base_url,
                    &self.id,
                    &resolved.provider_id,
                    timing.as_ref(),
                    None,
                    Some(&e),
                );
                Err(e)
            }
        }
    }
}

fn decode_context(resolved: &Resolved, request: &CallRequest) -> DecodeContext {
    DecodeContext {
        provider_id: resolved.provider_id.clone(),
        include_thoughts: request
            .params
            .get_thinking()
            .and_then(|t| t.include_thoughts)
            .unwrap_or(false),
    }
}

macro_rules! call_builder_methods {
    () => {
        /// Offers tools to the model.
        pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
            self.request.tools.extend(tools);
            self
        }

        /// Asks for structured output.
        pub fn format(mut self, format: Format) -> Self {
            self.request.format = Some(format);
            self
        }

        /// Params for this call (merged over the model's defaults).
        pub fn params(mut self, params: Params) -> Self {
            self.request.params = self.request.params.merged(&params);
            self
        }

        /// Sends params even when they are outside the provider's documented range (which is
        /// otherwise an `Error::InvalidParam` before any network traffic), for providers that
        /// accept more than they document.
        pub fn unchecked_params(mut self) -> Self {
            self.request.unchecked_params = true;
            self
        }

        /// Records `gen_ai.conversation.id` on the call's span.
        pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
            self.request.conversation_id = Some(id.into());
            self
        }
    };
}

/// A call being built; `.await` it, or run it with [`Call::blocking`].
#[derive(Debug)]
#[must_use = "a call does nothing until awaited or run with .blocking()"]
pub struct Call<'a> {
    model: &'a Model,
    request: CallRequest,
}

impl Call<'_> {
    call_builder_methods!();

    /// Runs the call on the current thread, blocking until the answer is complete.
    pub fn blocking(self) -> Result<Response> {
        pollster::block_on(self.into_future())
    }
}

impl<'a> IntoFuture for Call<'a> {
    type Output = Result<Response>;
    type IntoFuture = BoxFuture<'a, Result<Response>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.model.call_request(self.request))
    }
}

/// A streamed call being built; `.await` it, or run it with [`StreamCall::blocking`].
#[derive(Debug)]
#[must_use = "a stream does nothing until awaited or run with .blocking()"]
pub struct StreamCall<'a> {
    model: &'a Model,
    request: CallRequest,
}

impl StreamCall<'_> {
    call_builder_methods!();

    /// Opens the stream on the current thread; the iterator blocks for each chunk.
    pub fn blocking(self) -> Result<BlockingStream> {
        pollster::block_on(self.into_future()).map(StreamResponse::into_blocking)
    }
}

impl<'a> IntoFuture for StreamCall<'a> {
    type Output = Result<StreamResponse>;
    type IntoFuture = BoxFuture<'a, Result<StreamResponse>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.model.stream_request(self.request))
    }
}
