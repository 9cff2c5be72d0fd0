//! `#[llm::call("provider/model", params.., tools = [..], format = T)]`: the prompt function
//! becomes a lazy model call. With trace or version options (from `#[ops::trace]` /
//! `#[ops::version]`, in either attribute order), a traced call.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ItemFn, ReturnType};

use crate::options::{Opt, Opts};
use crate::trace::{self, TraceOpts};
use crate::{fnsig, paths, version};

/// Params checked at compile time: Mirascope's params (typed builder methods) and the
/// pass-through extras.
const TYPED_PARAMS: &[&str] = &[
    "temperature",
    "max_tokens",
    "top_p",
    "top_k",
    "seed",
    "stop_sequences",
    "thinking",
];
const EXTRA_PARAMS: &[&str] = &["frequency_penalty", "presence_penalty", "stop", "n"];
const OTHER: &[&str] = &["tools", "format"];

/// A spanned error about one option.
fn opt_error(opt: &Opt, message: &str) -> syn::Error {
    syn::Error::new(
        opt.key()
            .map(|k| k.span())
            .unwrap_or_else(proc_macro2::Span::call_site),
        message,
    )
}

fn allowed() -> Vec<&'static str> {
    TYPED_PARAMS
        .iter()
        .chain(EXTRA_PARAMS)
        .chain(OTHER)
        .copied()
        .collect()
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => return crate::fallback(e, item, "#[llm::call] applies to prompt functions"),
    };
    let opts: Opts = match syn::parse2(attr) {
        Ok(o) => o,
        Err(e) => return crate::fallback(e, item, ""),
    };
    match build(&mut func, &opts) {
        Ok(ts) => ts,
        Err(e) => crate::fallback(e, item, ""),
    }
}

fn build(func: &mut ItemFn, opts: &Opts) -> syn::Result<TokenStream> {
    let llm = paths::llm();
    let allowed = allowed();
    opts.check("#[llm::call]", &allowed)?;
    let model = match opts.0.first() {
        Some(Opt::Lit(l)) => l.clone(),
        _ => {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[llm::call] needs the model id first: #[llm::call(\"openai/gpt-4o-mini\")]",
            ))
        }
    };
    let id = model.value();
    match id.split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() && !m.starts_with(':') => {}
        _ => return Err(syn::Error::new(model.span(), format!("invalid model id {id:?}: expected 'provider/model-name' (e.g. 'openai/gpt-4o-mini')"))),
    }
    if func.sig.receiver().is_some() {
        return Err(syn::Error::new_spanned(&func.sig.inputs[0], "#[llm::call] prompt functions cannot take `self`; pass what the prompt needs as arguments"));
    }

    // Params: typed builder calls for Mirascope's params, pass-through for the extras.
    let mut params = quote!(#llm::__private::Params::new());
    for o in &opts.0 {
        match o {
            Opt::Value(k, v) if TYPED_PARAMS.iter().any(|p| k == p) => {
                params = quote!(#params.#k(#v))
            }
            Opt::Value(k, v) if EXTRA_PARAMS.iter().any(|p| k == p) => {
                let name = k.to_string();
                params = quote!(#params.extra(#name, #v));
            }
            Opt::Value(k, _) | Opt::Strings(k, _) | Opt::Map(k, _) | Opt::Idents(k, _)
                if k != "format" && k != "tools" =>
            {
                return Err(syn::Error::new(
                    k.span(),
                    format!("`{k}` does not take this kind of value"),
                ));
            }
            _ => {}
        }
    }
    let tools = match opts.get("tools") {
        None => quote!(),
        Some(Opt::Paths(_, paths)) => {
            // Through the marker type `#[llm::tool]` puts beside the function: a name that is
            // not a tool is an error at that name (see `llm::ToolFn`).
            let makers = paths.iter().map(
                |path| quote_spanned!(path.span()=> <#path as #llm::__private::ToolFn>::tool()),
            );
            quote!(.tools(::std::vec![#(#makers),*]))
        }
        Some(Opt::Value(_, e)) => quote!(.tools(#e)),
        Some(other) => {
            return Err(opt_error(
                other,
                "`tools` takes a list of #[llm::tool] functions: tools = [get_weather]",
            ))
        }
    };
    let format = match opts.get("format") {
        None => quote!(),
        Some(Opt::Value(_, Expr::Path(p))) => {
            quote!(.format(<#p as #llm::__private::Formattable>::format()))
        }
        Some(Opt::Value(_, e)) => quote!(.format(#e)),
        Some(other) => {
            return Err(opt_error(
                other,
                "`format` takes a type deriving schemars::JsonSchema, or an llm::Format",
            ))
        }
    };

    // Trace and version options, forwarded by #[ops::trace] / #[ops::version] above, or given by
    // those attributes below this one.
    let mut trace_opts: Option<TraceOpts> = None;
    let mut version_tokens: Option<TokenStream> = None;
    if let Some(t) = opts.forwarded("__trace") {
        let o: Opts = syn::parse2(t.clone())?;
        o.check("#[ops::trace]", trace::OPTIONS)?;
        trace_opts = Some(TraceOpts::from_opts(&o)?);
    }
    let mut inner_attrs = Vec::new();
    // The attributes below this one that it takes over: the names they were reached by are
    // still "used" (`use mirascope::ops;` for `#[ops::trace]` must not be reported unused).
    let mut consumed = Vec::new();
    for a in std::mem::take(&mut func.attrs) {
        if fnsig::is_attr(&a, "trace") || fnsig::is_attr(&a, "version") {
            consumed.push(a.path().clone());
        }
        if fnsig::is_attr(&a, "trace") {
            let o: Opts = match &a.meta {
                syn::Meta::List(l) => syn::parse2(l.tokens.clone())?,
                _ => Opts(Vec::new()),
            };
            o.check("#[ops::trace]", trace::OPTIONS)?;
            trace_opts
                .get_or_insert_with(TraceOpts::default)
                .merge(TraceOpts::from_opts(&o)?);
        } else if fnsig::is_attr(&a, "version") {
            let tokens = match &a.meta {
                syn::Meta::List(l) => l.tokens.clone(),
                _ => quote!(),
            };
            version_tokens = Some(tokens);
        } else {
            inner_attrs.push(a);
        }
    }
    func.attrs = inner_attrs;
    if let Some(v) = opts.forwarded("__version") {
        version_tokens = Some(v.clone());
    }
    let mut version_static = quote!();
    let mut version_ref = None;
    if let Some(v) = version_tokens {
        let vopts: Opts = syn::parse2(v)?;
        let call_desc = opts.canonical();
        let (stat, reference, extra_trace) = version::info(func, &vopts, &call_desc)?;
        trace_opts
            .get_or_insert_with(TraceOpts::default)
            .merge(extra_trace);
        version_static = stat;
        version_ref = Some(reference);
    }

    let is_async = func.sig.asyncness.is_some();
    let block = &func.block;
    let prompt_ty = match &func.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let model = quote!(#llm::__private::model(#model, #params));
    // A sync prompt is built when the function is called; an `async fn`'s when the call runs,
    // so the function returns the lazy call at once and `f(x).await` is the response.
    let (prompt, lazy) = if is_async {
        (
            quote!(),
            quote! {
                #llm::__private::LazyCall::deferred(#model, async move {
                    let __mirascope_prompt: #prompt_ty = async move #block.await;
                    __mirascope_prompt
                }) #tools #format
            },
        )
    } else {
        (
            quote! {
                #[allow(clippy::redundant_closure_call)]
                let __mirascope_prompt: #prompt_ty = (|| -> #prompt_ty #block)();
            },
            quote!(#llm::__private::LazyCall::new(#model, __mirascope_prompt) #tools #format),
        )
    };
    let ItemFn {
        attrs, vis, sig, ..
    } = func.clone();
    let mut sig = sig;
    fnsig::strip_sensitive_markers(&mut sig);
    let lifetime = if is_async {
        let lt: syn::Lifetime = syn::parse_quote!('__mirascope);
        sig.asyncness = None;
        fnsig::capture_arguments(&mut sig, &lt);
        lt
    } else {
        syn::parse_quote!('static)
    };
    sig.output = syn::parse_quote!(-> #llm::__private::LazyCall<#lifetime>);
    let uses = consumed_names(&consumed);
    let body = match &trace_opts {
        None => {
            quote! {
                #uses
                #prompt
                #lazy
            }
        }
        Some(t) => {
            let ops = paths::ops();
            let p = quote!(#ops::__private);
            let gen = trace::generate(func, t, version_ref, is_async);
            let (info_static, qualname, arg_values, imports) =
                (gen.info_static, gen.qualname, gen.arg_values, gen.imports);
            quote! {
                #uses
                #imports
                #version_static
                #info_static
                let __mirascope_args = if #p::records_arguments() {
                    ::core::option::Option::Some(#arg_values)
                } else {
                    ::core::option::Option::None
                };
                #prompt
                #p::traced_call(#lazy, &__MIRASCOPE_TRACE_INFO, #qualname, __mirascope_args)
            }
        }
    };
    Ok(quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    })
}

/// `use <first segment> as _;` for each attribute path this macro took over (`ops` of
/// `ops::trace`), so that the import the user wrote for it counts as used, whichever order the
/// attributes are in. Paths from the crate root (`::x`, `crate::`) need nothing.
fn consumed_names(paths: &[syn::Path]) -> TokenStream {
    let names = paths.iter().filter_map(|p| {
        if p.leading_colon.is_some() {
            return None;
        }
        let first = &p.segments.first()?.ident;
        (!matches!(first.to_string().as_str(), "crate" | "self" | "super")).then_some(first)
    });
    quote! { #( #[allow(unused_imports)] use #names as _; )* }
}
