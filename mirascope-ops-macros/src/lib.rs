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
/// Options: `name = ".."` (span name), `tags = ["a", ..]`, `metadata = {"k": "v", ..}`,
/// `skip(arg, ..)` (arguments not recorded; a name that is not a parameter is a compile error,
/// so a typo cannot record the argument it meant to hide), `skip_all` (no argument recorded).
/// Over `#[llm::call]` it traces the model call
/// (`{fn}.call` / `{fn}.stream` spans).
#[proc_macro_attribute]
pub fn trace(attr: TokenStream, item: TokenStream) -> TokenStream {
    trace::expand(attr.into(), item.into()).into()
}

/// Versions a function: traced as by `#[ops::trace]`, plus `mirascope.version.*` (hashes of the
/// function's tokens computed at compile time). Options: `name`, `tags`, `metadata`.
#[proc_macro_attribute]
pub fn version(attr: TokenStream, item: TokenStream) -> TokenStream {
    version::expand(attr.into(), item.into()).into()
}

/// Turns a prompt function into a lazy model call:
/// `#[llm::call("provider/model", temperature = 0.7, tools = [..], format = T)]`.
#[proc_macro_attribute]
pub fn call(attr: TokenStream, item: TokenStream) -> TokenStream {
    call::expand(attr.into(), item.into()).into()
}

/// Makes a function a tool: its doc comment is the description, its arguments the schema.
/// Options: `name`, `description`, `strict = bool`.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    tool::expand(attr.into(), item.into()).into()
}
