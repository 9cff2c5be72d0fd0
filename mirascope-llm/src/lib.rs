//! # mirascope-llm
//!
//! Provider-agnostic LLM calls for Rust, the `llm` half of [Mirascope](https://mirascope.com):
//! OpenAI (Responses and Chat Completions), Anthropic Messages, Google Gemini, and any
//! OpenAI-compatible server, with one message/response model, async and blocking forms, and
//! streams. Every model call emits a `tracing` span carrying the OpenTelemetry GenAI attributes
//! (`gen_ai.*`), which `mirascope-ops` exports; with no subscriber installed they cost a few
//! nanoseconds.
//!
//! ```no_run
//! # async fn run() -> Result<(), mirascope_llm::Error> {
//! use mirascope_llm as llm;
//! let model = llm::model("openai/gpt-4o-mini")?;
//! let response = model.call("What is the capital of France?").await?;
//! println!("{}", response.text());
//!
//! // Blocking form, no runtime needed:
//! let response = model.call_blocking("And of Spain?")?;
//! # Ok(()) }
//! ```
//!
//! ## Layers
//!
//! The modules form four layers, and imports run one way, from a layer to the ones before it:
//!
//! 1. **data**: `content` (messages, parts, prompts), `params`, `tool` (schemas and handlers),
//!    `format`, `request` (everything about one call but the model), `answer` (what a provider
//!    answered: usage, finish reason, stream chunks, and the whole answer as `ResponseData`),
//!    `secret` (API keys), `error`, `cost` (prices);
//! 2. **wire**: `provider/` (one module per wire format, shared HTTP/SSE plumbing and retries in
//!    `provider/http.rs`), `registry` (which provider serves a model id), `pyrepr`;
//! 3. **call**: `model` (the call and stream entry points), `call` (`#[llm::call]`'s lazy call),
//!    `response`, `stream`, `execute` (running a tool inside its span);
//! 4. **observation**: `genai/` (every `gen_ai.*` attribute is computed in `genai/span.rs`, their
//!    JSON in `genai/encode.rs`, `mirascope.response.*` in `genai/mirascope.rs`).
//!
//! No import runs against this order: the observation layer describes a call from its
//! [`ResponseData`] (what a [`Response`] derefs to) and the request, both data. Each module's doc
//! comment names its layer.
#![warn(missing_docs)]

mod answer;
pub mod call;
#[cfg(feature = "replay")]
pub mod cassette;
pub mod content;
pub mod cost;
pub mod error;
mod execute;
pub mod format;
#[cfg(test)]
mod fuzz;
pub mod genai;
pub mod model;
pub mod params;
mod provider;
pub mod pyrepr;
pub mod registry;
#[cfg(feature = "replay")]
pub mod replay;
mod request;
pub mod response;
mod secret;
pub mod stream;
pub mod tool;

pub use call::{CallWrapper, Formattable, LazyCall};
pub use content::{
    AssistantMessage, AudioSource, DocumentSource, ImageSource, Message, Part, Prompt,
    SystemMessage, Text, UserMessage,
};
pub use cost::{set_price, Price};
pub use error::{ApiError, Error, ErrorClass, Result};
pub use format::{Format, FormatMode};
/// `next()` and the other stream combinators, for `while let Some(chunk) = stream.next().await`
/// (streams are `Unpin`; no `pin!` needed).
pub use futures_util::StreamExt;
pub use model::{model, Call, Model, StreamCall};
pub use params::{Params, ThinkingConfig, ThinkingLevel};
pub use provider::http::warm_up as warm_up_transport;
pub use provider::retry::RetryPolicy;
pub use registry::{reset_providers, validate_model_id, Api, ApiKey, Provider};
pub use response::{FinishReason, Response, ResponseData, ToolCall, Usage};
pub use stream::{BlockingStream, StreamChunk, StreamResponse, StreamWatcher};
pub use tool::{
    ProviderTool, Tool, ToolFn, ToolParameters, ToolSchema, WebSearchTool, FORMAT_TOOL_NAME,
};

/// `#[llm::call("provider/model", params.., tools = [..], format = T)]`: turns a prompt function
/// into a lazy model call. See [`LazyCall`].
pub use mirascope_ops_macros::call;
/// `#[llm::tool]`: makes a function a tool the model can call. See [`Tool`].
pub use mirascope_ops_macros::tool;

/// What the attribute macros' generated code uses. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::{Formattable, LazyCall};
    pub use crate::model::Model;
    pub use crate::params::Params;
    pub use crate::tool::{Tool, ToolFn};
    pub use crate::{Error, Prompt, Result};
    pub use schemars;
    pub use serde;
    pub use serde_json;

    /// The model of a `#[llm::call]` attribute (its id's shape was checked when the macro
    /// expanded; its provider is resolved when it is called).
    pub fn model(id: &'static str, params: Params) -> Model {
        match Model::new(id) {
            Ok(m) => m.with_params(params),
            // Unreachable for ids the macro accepted; keep a value that fails at call time.
            Err(_) => Model::unchecked(id).with_params(params),
        }
    }

    /// What the type of an `#[llm::tool]` argument must be: parsed from the model's JSON
    /// (`serde::Deserialize`) and described to it by a JSON schema (`schemars::JsonSchema`).
    /// The generated argument type reads each argument through [`deserialize_argument`], which
    /// asks for this trait alone and is spanned at the argument's type, and describes it through
    /// a [`SchemaProbe`], which asks for nothing: a type missing a derive gets one error, at the
    /// type, that names the derives to add (the blanket impl is not looked through when it is
    /// reported).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be an `#[llm::tool]` argument: it needs `#[derive(serde::Deserialize, schemars::JsonSchema)]` with schemars 1.x",
        label = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to this type (serde 1, schemars 1)",
        note = "tool arguments are parsed from the model's JSON and described to it by a JSON schema",
        note = "the derives must come from serde 1 and schemars 1 (`schemars = \"1\"` in Cargo.toml): the `JsonSchema` of schemars 0.8 is another trait, and deriving it does not help"
    )]
    pub trait ToolArgument: serde::de::DeserializeOwned + schemars::JsonSchema {}

    #[diagnostic::do_not_recommend]
    impl<T: serde::de::DeserializeOwned + schemars::JsonSchema> ToolArgument for T {}

    /// Reads one `#[llm::tool]` argument (the generated argument type's `deserialize_with`).
    pub fn deserialize_argument<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: ToolArgument,
    {
        T::deserialize(d)
    }

    /// Probes whether `T` can be a tool argument, for the generated schema function of each
    /// argument: `(&&SchemaProbe::<T>::new()).argument_schema(g)` is `T`'s schema when it is a
    /// [`ToolArgument`] ([`SchemaOf`]), and an empty schema otherwise ([`SchemaFallback`]). The
    /// fallback never ends up in a program: reading the same argument
    /// ([`deserialize_argument`]) asks for `ToolArgument`, so a missing derive is one error,
    /// there, and not a second one from the schema.
    pub struct SchemaProbe<T>(std::marker::PhantomData<T>);

    impl<T> SchemaProbe<T> {
        /// The probe.
        #[allow(clippy::new_without_default)]
        pub fn new() -> Self {
            SchemaProbe(std::marker::PhantomData)
        }
    }

    /// See [`SchemaProbe`]: the schema of a [`ToolArgument`].
    pub trait SchemaOf {
        /// The schema, as the derive would give it for the type itself.
        fn argument_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;
    }

    impl<T: ToolArgument> SchemaOf for &SchemaProbe<T> {
        fn argument_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
            generator.subschema_for::<T>()
        }
    }

    /// See [`SchemaProbe`]: any other type (never in a program that compiles).
    pub trait SchemaFallback {
        /// An empty schema.
        fn argument_schema(&self, generator: &mut schemars::SchemaGenerator) -> schemars::Schema;
    }

    impl<T> SchemaFallback for SchemaProbe<T> {
        fn argument_schema(&self, _: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::Schema::default()
        }
    }

    /// A tool from a generated argument type.
    pub fn tool<A, F, Fut>(name: &str, description: &str, strict: Option<bool>, run: F) -> Tool
    where
        A: schemars::JsonSchema + serde::de::DeserializeOwned + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + Clone + 'static,
        Fut: std::future::Future<Output = Result<serde_json::Value>> + Send + 'static,
    {
        let mut schema = schemars::schema_for!(A).to_value();
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("$schema");
            obj.remove("title");
        }
        let tool = match Tool::new(name, description, &schema) {
            Ok(t) => t,
            Err(_) => Tool::from_schema(crate::ToolSchema {
                name: name.into(),
                description: description.into(),
                parameters: crate::ToolParameters {
                    properties: Default::default(),
                    required: Vec::new(),
                    defs: None,
                },
                strict: None,
            }),
        };
        let tool = match strict {
            Some(s) => tool.strict(s),
            None => tool,
        };
        let tool_name = name.to_string();
        tool.with_handler(move |args: serde_json::Value| {
            let run = run.clone();
            let tool_name = tool_name.clone();
            async move {
                let parsed: A = serde_json::from_value(args).map_err(|e| Error::Tool {
                    tool: tool_name,
                    message: format!("invalid arguments: {e}"),
                })?;
                run(parsed).await
            }
        })
    }

    /// Serializes a tool's return value.
    pub fn tool_result<T: serde::Serialize>(tool: &str, value: T) -> Result<serde_json::Value> {
        serde_json::to_value(value).map_err(|e| Error::Tool {
            tool: tool.into(),
            message: format!("result does not serialize: {e}"),
        })
    }
}
