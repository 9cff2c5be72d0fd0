//! The runtime of `#[llm::call]`: the lazy call a prompt function returns, and structured-output
//! types (`format = T`).
//!
//! Layer: call (the crate docs list the layers: data, wire, call, observation).

use std::future::IntoFuture;

use crate::content::Prompt;
use crate::error::Result;
use crate::format::Format;
use crate::model::{BoxFuture, Model};
use crate::response::Response;
use crate::stream::{BlockingStream, StreamResponse};
use crate::tool::Tool;

/// A model call waiting to happen: what a `#[llm::call]` function returns, traced or not.
///
/// `.await` it (or `.call().await`) to call the model; `.stream()`, `.call_blocking()`,
/// `.stream_blocking()` for the other forms; `.with_model(..)` to use another model than the
/// one in the attribute. An `async fn` prompt function gives the same type: its prompt is built
/// when the call runs, so `f(x).await` is the response and `f(x).stream().await` the stream, and
/// its arguments may borrow (the lifetime `'a`). `#[ops::trace]` over `#[llm::call]` gives the
/// same type too, with a span around the call: adding it never changes what callers write.
#[must_use = "a call does nothing until it is awaited: add `.await` (then `?`) to get the response, e.g. `f(x).await?.text()`"]
pub struct LazyCall<'a> {
    model: Model,
    tools: Vec<Tool>,
    format: Option<Format>,
    prompt: PromptSource<'a>,
    unchecked_params: bool,
    wrapper: Option<Box<dyn CallWrapper>>,
}

/// A prompt built, or the future of an `async fn` prompt function that builds it.
enum PromptSource<'a> {
    Ready(Prompt),
    Pending(BoxFuture<'a, Prompt>),
}

impl std::fmt::Debug for LazyCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyCall")
            .field("model", &self.model)
            .field("tools", &self.tools.len())
            .field("format", &self.format)
            .field("prompt", &self.prompt())
            .field("wrapper", &self.wrapper)
            .finish()
    }
}

/// What runs around a lazy call when it runs: the span of an `#[ops::trace]` over an
/// `#[llm::call]`. The call layer knows only this trait; `mirascope-ops` implements it.
pub trait CallWrapper: Send + std::fmt::Debug {
    /// Runs `call` inside the wrapper.
    fn call<'a>(
        self: Box<Self>,
        call: BoxFuture<'a, Result<Response>>,
    ) -> BoxFuture<'a, Result<Response>>;
    /// Opens the stream inside the wrapper, which may watch it to its end
    /// ([`StreamResponse::watched_by`]).
    fn stream<'a>(
        self: Box<Self>,
        open: BoxFuture<'a, Result<StreamResponse>>,
    ) -> BoxFuture<'a, Result<StreamResponse>>;
}

impl LazyCall<'static> {
    /// A call of `model` with `prompt` (used by the generated code).
    pub fn new(model: Model, prompt: impl Into<Prompt>) -> Self {
        LazyCall::with_prompt_source(model, PromptSource::Ready(prompt.into()))
    }
}

impl<'a> LazyCall<'a> {
    /// A call of `model` with the prompt `prompt` will build when the call runs (an `async fn`
    /// prompt function; used by the generated code).
    pub fn deferred<P: Into<Prompt>>(
        model: Model,
        prompt: impl std::future::Future<Output = P> + Send + 'a,
    ) -> Self {
        LazyCall::with_prompt_source(
            model,
            PromptSource::Pending(Box::pin(async move { prompt.await.into() })),
        )
    }

    fn with_prompt_source(model: Model, prompt: PromptSource<'a>) -> Self {
        LazyCall {
            model,
            tools: Vec::new(),
            format: None,
            prompt,
            unchecked_params: false,
            wrapper: None,
        }
    }

    /// Offers tools.
    pub fn tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// Asks for structured output.
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Sends params even when they are outside the provider's documented range.
    pub fn unchecked_params(mut self) -> Self {
        self.unchecked_params = true;
        self
    }

    /// Uses `model` (its id and params) instead of the attribute's.
    pub fn with_model(mut self, model: Model) -> Self {
        self.model = model;
        self
    }

    /// Runs the call inside `wrapper` (used by the code `#[ops::trace]` generates).
    pub fn wrapped_in(mut self, wrapper: Box<dyn CallWrapper>) -> Self {
        self.wrapper = Some(wrapper);
        self
    }

    /// The prompt the function built; `None` for an `async fn` prompt function, whose prompt is
    /// built when the call runs.
    pub fn prompt(&self) -> Option<&Prompt> {
        match &self.prompt {
            PromptSource::Ready(p) => Some(p),
            PromptSource::Pending(_) => None,
        }
    }

    /// The model that will be called.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The model and the request, once the prompt is built.
    async fn into_request(self) -> (Model, crate::model::CallRequest) {
        let LazyCall {
            model,
            tools,
            format,
            prompt,
            unchecked_params,
            wrapper: _,
        } = self;
        let prompt = match prompt {
            PromptSource::Ready(p) => p,
            PromptSource::Pending(f) => f.await,
        };
        let mut request = model.request_with(prompt, tools, format);
        request.unchecked_params = unchecked_params;
        (model, request)
    }

    /// Calls the model.
    pub fn call(mut self) -> BoxFuture<'a, Result<Response>> {
        let wrapper = self.wrapper.take();
        let call: BoxFuture<'a, Result<Response>> = Box::pin(async move {
            let (model, request) = self.into_request().await;
            model.call_request(request).await
        });
        match wrapper {
            Some(w) => w.call(call),
            None => call,
        }
    }

    /// Streams the model's answer.
    pub fn stream(mut self) -> BoxFuture<'a, Result<StreamResponse>> {
        let wrapper = self.wrapper.take();
        let open: BoxFuture<'a, Result<StreamResponse>> = Box::pin(async move {
            let (model, request) = self.into_request().await;
            model.stream_request(request).await
        });
        match wrapper {
            Some(w) => w.stream(open),
            None => open,
        }
    }

    /// Calls the model, blocking the current thread.
    pub fn call_blocking(self) -> Result<Response> {
        pollster::block_on(self.call())
    }

    /// Streams, blocking the current thread for each chunk.
    pub fn stream_blocking(self) -> Result<BlockingStream> {
        pollster::block_on(self.stream()).map(StreamResponse::into_blocking)
    }
}

impl<'a> IntoFuture for LazyCall<'a> {
    type Output = Result<Response>;
    type IntoFuture = BoxFuture<'a, Result<Response>>;

    fn into_future(self) -> Self::IntoFuture {
        self.call()
    }
}

/// A type that can be asked for as structured output (`format = T`): any type deriving
/// `schemars::JsonSchema` (and `serde::Deserialize` to read it back with
/// [`ResponseData::parse`](crate::ResponseData::parse)).
pub trait Formattable {
    /// The format: the type's name, doc comment and JSON schema.
    fn format() -> Format;
}

impl<T: schemars::JsonSchema> Formattable for T {
    fn format() -> Format {
        let mut schema = schemars::schema_for!(T).to_value();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("$schema");
        }
        let description = schema
            .get("description")
            .and_then(|d| d.as_str())
            .map(str::to_string);
        let mut format = Format::new(T::schema_name(), schema);
        if let Some(d) = description {
            format = format.description(d);
        }
        format
    }
}
