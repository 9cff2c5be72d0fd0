//! `#[ops::trace]`: wraps a function (sync or async, free or method, generic or not) in the
//! INTERNAL span of the `mirascope-ops` runtime. Over `#[llm::call]`, it forwards its options to
//! that attribute, which builds the traced call.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::{Attribute, ItemFn};

use crate::fnsig;
use crate::options::{normalize_tags, Opts};
use crate::paths;

pub const OPTIONS: &[&str] = &["name", "tags", "metadata", "skip", "skip_all"];

/// Trace settings, from `#[ops::trace(..)]` (or forwarded by `#[ops::version]`).
#[derive(Default, Clone)]
pub struct TraceOpts {
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub metadata: Vec<(String, String)>,
    pub skip: Vec<syn::Ident>,
    /// `skip_all`: no argument value is recorded.
    pub skip_all: bool,
}

impl TraceOpts {
    pub fn from_opts(opts: &Opts) -> syn::Result<Self> {
        Ok(TraceOpts {
            name: opts.string("name")?.map(|s| s.value()),
            tags: normalize_tags(opts.strings("tags")?),
            metadata: opts.map("metadata")?,
            skip: opts.idents("skip"),
            skip_all: opts.flag("skip_all"),
        })
    }

    /// Adds another attribute's settings (version tags and metadata also apply to the trace).
    pub fn merge(&mut self, other: TraceOpts) {
        self.name = self.name.take().or(other.name);
        self.tags.extend(other.tags);
        self.tags = normalize_tags(std::mem::take(&mut self.tags));
        for (k, v) in other.metadata {
            if !self.metadata.iter().any(|(mk, _)| *mk == k) {
                self.metadata.push((k, v));
            }
        }
        self.skip.extend(other.skip);
        self.skip_all |= other.skip_all;
    }
}

/// The `static` `TraceInfo` of a function, and the expressions for its qualname
/// (`Cow<'static, str>`) and arg values (a JSON `String`). Both expressions only borrow the
/// arguments, and the generated code evaluates them inside closures that run only when the span
/// is enabled.
pub struct Generated {
    pub info_static: TokenStream,
    pub qualname: TokenStream,
    pub arg_values: TokenStream,
    pub imports: TokenStream,
}

pub fn generate(
    item: &ItemFn,
    opts: &TraceOpts,
    version: Option<TokenStream>,
    is_async: bool,
) -> Generated {
    let ops = paths::ops();
    let p = quote!(#ops::__private);
    let sig = &item.sig;
    // `fn r#type` is traced as `type`.
    let name = syn::ext::IdentExt::unraw(&sig.ident).to_string();
    let args = if opts.skip_all {
        Vec::new()
    } else {
        fnsig::args(sig, &opts.skip)
    };
    let arg_types = fnsig::arg_types_json(&args);
    let tags = &opts.tags;
    let meta_k: Vec<&String> = opts.metadata.iter().map(|(k, _)| k).collect();
    let meta_v: Vec<&String> = opts.metadata.iter().map(|(_, v)| v).collect();
    let span_name = match &opts.name {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let version = match version {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let info_static = quote! {
        static __MIRASCOPE_TRACE_INFO: #p::TraceInfo = #p::TraceInfo {
            name: #name,
            span_name: #span_name,
            module: ::core::module_path!(),
            is_async: #is_async,
            arg_types: #arg_types,
            tags: &[#(#tags),*],
            metadata: &[#((#meta_k, #meta_v)),*],
            version: #version,
        };
    };
    let qualname = if fnsig::is_method(sig) {
        quote!(::std::borrow::Cow::Owned(#p::qualname::<Self>(#name)))
    } else {
        quote!(::std::borrow::Cow::Borrowed(#name))
    };
    let values = args.iter().filter_map(|a| {
        let ident = a.ident.as_ref()?;
        let n = &a.name;
        Some(quote!((#n, (&&&#p::Wrap(&#ident)).mirascope_arg())))
    });
    let arg_values = quote!(#p::arg_values_json(::std::vec![#(#values),*]));
    let imports = quote! {
        #[allow(unused_imports)]
        use #p::{ArgViaDebug as _, ArgViaName as _, ArgViaSerialize as _, OutViaDebug as _, OutViaName as _, OutViaResponse as _, OutViaResult as _, OutViaResultDebug as _, OutViaResultResponse as _, OutViaResultResponseLlm as _, OutViaResultSerialize as _, OutViaSerialize as _};
    };
    Generated {
        info_static,
        qualname,
        arg_values,
        imports,
    }
}

/// The traced function.
pub fn expand_fn(item: ItemFn, opts: &TraceOpts, version: Option<TokenStream>) -> TokenStream {
    let ops = paths::ops();
    let p = quote!(#ops::__private);
    let is_async = item.sig.asyncness.is_some();
    let Generated {
        info_static,
        qualname,
        arg_values,
        imports,
    } = generate(&item, opts, version, is_async);
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = item;
    fnsig::strip_sensitive_markers(&mut sig);
    let ret = fnsig::return_annotation(&sig);
    let body = if is_async {
        let annotated = ret.map(|r| quote!(: ::std::thread::Result<#r>));
        quote! {
            let __mirascope_span_handle = __mirascope_span.span().clone();
            let __mirascope_result #annotated = #p::Instrument::instrument(
                #p::FutureExt::catch_unwind(::std::panic::AssertUnwindSafe(async move #block)),
                __mirascope_span_handle,
            ).await;
            match __mirascope_result {
                ::core::result::Result::Ok(__mirascope_value) => {
                    __mirascope_span.finish(|| (&&&&&&&&&#p::Wrap(&__mirascope_value)).mirascope_output());
                    __mirascope_value
                }
                ::core::result::Result::Err(__mirascope_panic) => {
                    __mirascope_span.panicked(&*__mirascope_panic);
                    ::std::panic::resume_unwind(__mirascope_panic)
                }
            }
        }
    } else {
        let annotated = ret.map(|r| quote!(-> #r));
        // A disabled span (tracing off) runs the body as it is: no enter, no unwind catching.
        quote! {
            #[allow(unused_mut)]
            let mut __mirascope_body = || #annotated #block;
            if __mirascope_span.is_disabled() {
                return __mirascope_body();
            }
            // The traced path runs out of line, so the untraced one stays a few instructions.
            #p::run_traced(__mirascope_span, __mirascope_body, |__mirascope_value| {
                (&&&&&&&&&#p::Wrap(__mirascope_value)).mirascope_output()
            })
        }
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #imports
            #info_static
            // One load and compare when no subscriber wants INFO spans; the span itself is made
            // out of line.
            let __mirascope_span = if #p::level_enabled() {
                #p::start(&__MIRASCOPE_TRACE_INFO, || #qualname, || #arg_values)
            } else {
                #p::TraceSpan::none()
            };
            #body
        }
    }
}

/// Adds `extra` to the arguments of the function's `#[llm::call(..)]` attribute.
pub fn forward_to_call(attrs: &mut [Attribute], extra: TokenStream) -> bool {
    for a in attrs.iter_mut() {
        if fnsig::is_attr(a, "call") {
            if let syn::Meta::List(list) = &mut a.meta {
                let existing = list.tokens.clone();
                list.tokens = if existing.is_empty() {
                    extra
                } else {
                    quote!(#existing, #extra)
                };
                return true;
            }
        }
    }
    false
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            return crate::fallback(e, item, "#[ops::trace] applies to functions and methods")
        }
    };
    let opts: Opts = match syn::parse2(attr.clone()) {
        Ok(o) => o,
        Err(e) => return crate::fallback(e, item, ""),
    };
    let trace = match opts
        .check("#[ops::trace]", OPTIONS)
        .and_then(|_| TraceOpts::from_opts(&opts))
    {
        Ok(t) => t,
        Err(e) => return crate::fallback(e, item, ""),
    };
    if let Err(e) = check_skip(&func.sig, &trace.skip) {
        return crate::fallback(e, item, "");
    }
    if forward_to_call(&mut func.attrs, quote!(__trace(#attr))) {
        return func.into_token_stream();
    }
    // `#[ops::trace]` over `#[ops::version]`: the version expands first and takes this trace's
    // options, one span either way round (as `#[ops::version]` over `#[ops::trace]` does).
    if let Some(at) = func.attrs.iter().position(|a| fnsig::is_attr(a, "version")) {
        let version = func.attrs.remove(at);
        let mut path = version.path().clone();
        if let Some(last) = path.segments.last_mut() {
            last.ident = syn::Ident::new("trace", last.ident.span());
        }
        func.attrs.insert(0, syn::parse_quote!(#[#path(#attr)]));
        return quote!(#version #func);
    }
    if func.sig.constness.is_some() {
        return crate::fallback(
            syn::Error::new_spanned(
                func.sig.constness,
                "#[ops::trace] cannot trace a `const fn`",
            ),
            item,
            "",
        );
    }
    expand_fn(func, &trace, None)
}

/// Every name in `skip(..)` must be a parameter of the function: a typo (`pasword`) would
/// otherwise record the very argument it was meant to hide.
fn check_skip(sig: &syn::Signature, skip: &[syn::Ident]) -> syn::Result<()> {
    let params: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                _ => None,
            },
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    for s in skip {
        if !params.iter().any(|p| s == p) {
            return Err(syn::Error::new(
                s.span(),
                format!(
                    "`skip({s})`: `{}` has no parameter named `{s}` (its parameters: {})",
                    sig.ident,
                    if params.is_empty() {
                        "none".to_string()
                    } else {
                        params.join(", ")
                    }
                ),
            ));
        }
    }
    Ok(())
}
