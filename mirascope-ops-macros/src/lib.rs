//! Attribute macros of mirascope (proc-macros only; the runtime lives in `mirascope-ops` and
//! `mirascope-llm`, reached through one hidden path that resolves whether the user depends on
//! `mirascope` or on the member crates).
//!
//! On a parse error the user's own tokens are emitted with a spanned `compile_error!`, so their
//! real error shows and rust-analyzer keeps working (as `tracing-attributes` does).
#![warn(missing_docs)]

mod call;
mod canonical;
mod fnsig;
mod options;
mod paths;
mod tool;
mod trace;
mod version;

use proc_macro::TokenStream;

/// Emits the error next to the user's item, untouched.
pub(crate) fn fallback(
    err: syn::Error,
    item: proc_macro2::TokenStream,
    hint: &str,
) -> proc_macro2::TokenStream {
    let err = if hint.is_empty() {
        err
    } else {
        syn::Error::new(err.span(), format!("{err} ({hint})"))
    };
    let mut out = err.to_compile_error();
    out.extend(item);
    out
}

/// Traces a function: one INTERNAL span per call (`mirascope.type = "trace"`, the function's
/// qualname, module, arguments, output), nested under the current span.
///
/// Nothing is paid for a disabled span (no subscriber, or one that filters out the
/// `mirascope_ops` target): the arguments are only borrowed, and their JSON, the output's and the
/// method's qualname are built inside closures that run only when the span is enabled, and the
/// argument and output values only when content capture is on.
///
/// Arguments are recorded with `serde` when their type is `Serialize`, else with `Debug`, else as
/// their type name. What is never recorded (neither value nor type):
/// - the parameters named in `skip(name, ..)` (a name that is not a parameter is a compile
///   error), or all of them with `skip_all`;
/// - a parameter marked `#[sensitive]` (or `#[ops::sensitive]`);
/// - a parameter whose type names a secret-holding type at any depth: `secrecy`'s `SecretString`,
///   `SecretBox<T>`, `SecretSlice<T>`, or any `Secret<T>` (`&SecretString`,
///   `Option<Secret<T>>` included).
///
/// ```ignore
/// #[ops::trace]
/// fn login(user: &str, #[sensitive] password: &str, token: SecretString) -> bool { .. }
/// // records `user` only
/// ```
///
/// Options: `name = ".."` (span name), `tags = ["a", ..]`, `metadata = {"k": "v", ..}`,
/// `skip(arg, ..)` (arguments not recorded; a name that is not a parameter is a compile error,
/// so a typo cannot record the argument it meant to hide), `skip_all` (no argument recorded).
/// Over `#[llm::call]` it traces the model call
/// (`{fn}.call` / `{fn}.stream` spans).
#[proc_macro_attribute]
pub fn trace(attr: TokenStream, item: TokenStream) -> TokenStream {
    trace::expand(attr.into(), item.into()).into()
}

/// Versions a function: traced as by `#[ops::trace]`, plus `mirascope.version.*`. Options:
/// `name`, `tags`, `metadata`.
///
/// `mirascope.version.hash` is computed when the macro expands: the SHA-256 of the function's
/// canonical token text (one space between tokens, none inside joined punctuation such as `::`),
/// without doc comments or mirascope attributes, plus a `#[llm::call]`'s own options as written.
/// Whitespace, comments, the compiler version and whether you depend on `mirascope` or on the
/// member crates do not change it; any change to the code does.
#[proc_macro_attribute]
pub fn version(attr: TokenStream, item: TokenStream) -> TokenStream {
    version::expand(attr.into(), item.into()).into()
}

/// Marks a parameter of an `#[ops::trace]`, `#[ops::version]` or `#[llm::call]` function as
/// sensitive: its value is never recorded. It means something only there, where those macros
/// remove it; anywhere else it is an error.
#[proc_macro_attribute]
pub fn sensitive(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: proc_macro2::TokenStream = item.into();
    fallback(
        syn::Error::new(
            proc_macro2::Span::call_site(),
            "#[sensitive] marks a parameter of an #[ops::trace], #[ops::version] or #[llm::call] function",
        ),
        item,
        "",
    )
    .into()
}

/// Turns a prompt function into a lazy model call:
/// `#[llm::call("provider/model", temperature = 0.7, tools = [..], format = T)]`.
///
/// What is checked when the macro expands: the options (names, kinds of value), and that the
/// model id has the shape `provider/model-name`. What is not: whether that provider exists. A
/// provider is resolved when the call runs, so an unknown one (a typo, or a scope nobody
/// registered with `llm::Provider`) fails then, with `Error::UnknownProvider`.
///
/// The function returns an `llm::LazyCall`, with or without `#[ops::trace]` (which adds a span
/// around the call and changes nothing callers write): `.await` it for the response,
/// `.stream().await` for the stream, or `.call_blocking()` / `.stream_blocking()` without a
/// runtime. An `async fn` prompt function returns it at once and builds its prompt when the call
/// runs, so it too is awaited once; its arguments may borrow.
///
/// `tools = [get_weather]` lists `#[llm::tool]` functions; any other name is an error at that
/// name.
#[proc_macro_attribute]
pub fn call(attr: TokenStream, item: TokenStream) -> TokenStream {
    call::expand(attr.into(), item.into()).into()
}

/// Makes a function a tool: its doc comment is the description, its arguments the schema.
/// Options: `name`, `description`, `strict = bool`.
///
/// Argument types must derive `serde::Deserialize` and `schemars::JsonSchema`; one that does not
/// is one error, at the type, naming them. Beside the function the attribute puts a marker type
/// of the same name: `llm::Tool::of::<get_weather>()` is the tool, and `#[llm::call(..,
/// tools = [get_weather])]` offers it.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(attr.into(), item.into()).into()
}
