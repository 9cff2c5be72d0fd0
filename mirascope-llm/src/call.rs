//! The runtime of `#[llm::call]`: the lazy call a prompt function returns, and structured-output
//! types (`format = T`).

use std::future::IntoFuture;

use crate::content::Prompt;
use crate::error::Result;
use crate::format::Format;
use crate::model::{BoxFuture, Model};
use crate::response::Response;
use crate::stream::{BlockingStream, StreamResponse};
use crate::tool::Tool;

/// A model call waiting to happen: what a `#[llm::call]` function returns.
///
/// `.await` it (or `.call().await`) to call the model; `.stream()`, `.call_blocking()`,
/// `.stream_blocking()` for the other forms; `.with_model(..)` to use another model than the
/// one in the attribute.
#[derive(Debug, Clone)]
#[must_use = "a lazy call does nothing until awaited or run"]
pub struct LazyCall {
    model: Model,
    tools: Vec<Tool>,
    format: Option<Format>,
    prompt: Prompt,
    unchecked_params: bool,
}

impl LazyCall {
    /// A call of `model` with `prompt` (used by the generated code).
    pub fn new(model: Model, prompt: impl Into<Prompt>) -> Self {
        LazyCall {
            model,
            tools: Vec::new(),
            format: None,
            prompt: prompt.into(),
            unchecked_params: false,
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

    /// The prompt the function built.
    pub fn prompt(&self) -> &Prompt {
        &self.prompt
    }

    /// The model that will be called.
    pub fn model(&self) -> &Model {
        &self.model
    }

    fn into_request(self) -> (Model, crate::model::CallRequest) {
        let LazyCall {
            model,
            tools,
            format,
            prompt,
            unchecked_params,
        } = self;
        let mut request = model.request_with(prompt, tools, format);
        request.unchecked_params = unchecked_params;
        (model, request)
    }

    /// Calls the model.
    pub async fn call(self) -> Result<Response> {
        let (model, request) = self.into_request();
        model.call_request(request).await
    }

    /// Streams the model's answer.
    pub async fn stream(self) -> Result<StreamResponse> {
        let (model, request) = self.into_request();
        model.stream_request(request).await
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

impl IntoFuture for LazyCall {
    type Output = Result<Response>;
    type IntoFuture = BoxFuture<'static, Result<Response>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.call())
    }
}

/// A type that can be asked for as structured output (`format = T`): any type deriving
/// `schemars::JsonSchema` (and `serde::Deserialize` to read it back with
/// [`Response::parse`]).
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
