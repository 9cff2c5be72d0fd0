//! `#[ops::version(name = "..", tags = [..], metadata = {..})]`: a traced function whose span
//! also carries `mirascope.version.*`, with hashes computed at compile time.
//!
//! `mirascope.version.hash` is the SHA-256 of the function's canonical text ([`crate::canonical`]:
//! fixed spacing, no comments, no crate paths), with doc comments and the mirascope attributes
//! removed; for `#[llm::call]` functions the call's own options (model id, params, tools, format)
//! as written are included. `signature_hash` is that of the signature alone. Python Mirascope hashes
//! formatted Python source, so the values differ from Python's by nature; the names and meaning
//! are the same.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use sha2::{Digest, Sha256};
use syn::ItemFn;

use crate::options::{normalize_tags, Opts};
use crate::trace::{self, TraceOpts};
use crate::{canonical, fnsig, paths};

pub const OPTIONS: &[&str] = &["name", "tags", "metadata"];

fn sha256(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The function as hashed: no doc comments, no mirascope attributes.
fn normalized(func: &ItemFn) -> ItemFn {
    let mut f = func.clone();
    f.attrs.retain(|a| {
        !a.path().is_ident("doc")
            && !fnsig::is_attr(a, "version")
            && !fnsig::is_attr(a, "trace")
            && !fnsig::is_attr(a, "call")
    });
    f
}

/// The `static` VersionInfo, the expression referencing it, and the trace settings a version
/// implies (its tags and metadata also go on the trace).
pub fn info(
    func: &ItemFn,
    opts: &Opts,
    call_desc: &str,
) -> syn::Result<(TokenStream, TokenStream, TraceOpts)> {
    opts.check("#[ops::version]", OPTIONS)?;
    let ops = paths::ops();
    let p = quote!(#ops::__private);
    let norm = normalized(func);
    let hash = sha256(&format!("{call_desc}{}", canonical::render(&norm)));
    let signature_hash = sha256(&canonical::render(&norm.sig));
    let description = match fnsig::doc(&func.attrs) {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    let name_lit = opts.string("name")?;
    let name = match &name_lit {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let tags = normalize_tags(opts.strings("tags")?);
    let metadata = opts.map("metadata")?;
    let (mk, mv): (Vec<&String>, Vec<&String>) = metadata.iter().map(|(k, v)| (k, v)).unzip();
    let stat = quote! {
        static __MIRASCOPE_VERSION_INFO: #p::VersionInfo = #p::VersionInfo {
            hash: #hash,
            signature_hash: #signature_hash,
            description: #description,
            version: "1.0",
            name: #name,
            tags: &[#(#tags),*],
            metadata: &[#((#mk, #mv)),*],
        };
    };
    let trace = TraceOpts {
        name: None,
        tags,
        metadata,
        skip: Vec::new(),
        skip_all: false,
    };
    Ok((stat, quote!(&__MIRASCOPE_VERSION_INFO), trace))
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            return crate::fallback(e, item, "#[ops::version] applies to functions and methods")
        }
    };
    let opts: Opts = match syn::parse2(attr.clone()) {
        Ok(o) => o,
        Err(e) => return crate::fallback(e, item, ""),
    };
    if let Err(e) = opts.check("#[ops::version]", OPTIONS) {
        return crate::fallback(e, item, "");
    }
    if trace::forward_to_call(&mut func.attrs, quote!(__version(#attr))) {
        return func.into_token_stream();
    }
    // A #[ops::trace] below this attribute contributes its options.
    let mut trace_opts = TraceOpts::default();
    let mut attrs = Vec::new();
    for a in std::mem::take(&mut func.attrs) {
        if fnsig::is_attr(&a, "trace") {
            let parsed = match &a.meta {
                syn::Meta::List(l) => syn::parse2::<Opts>(l.tokens.clone()),
                _ => Ok(Opts(Vec::new())),
            };
            match parsed.and_then(|o| {
                o.check("#[ops::trace]", trace::OPTIONS)
                    .and_then(|_| TraceOpts::from_opts(&o))
            }) {
                Ok(t) => trace_opts.merge(t),
                Err(e) => return crate::fallback(e, item, ""),
            }
        } else {
            attrs.push(a);
        }
    }
    func.attrs = attrs;
    let (stat, reference, extra) = match info(&func, &opts, "") {
        Ok(v) => v,
        Err(e) => return crate::fallback(e, item, ""),
    };
    trace_opts.merge(extra);
    let traced = trace::expand_fn(func, &trace_opts, Some(reference));
    // The version static must be visible inside the function: wrap it into the body.
    inject_static(traced, stat)
}

/// Puts `stat` at the start of the generated function's body.
fn inject_static(func_tokens: TokenStream, stat: TokenStream) -> TokenStream {
    match syn::parse2::<ItemFn>(func_tokens.clone()) {
        Ok(mut f) => {
            let stmts = std::mem::take(&mut f.block.stmts);
            let block: syn::Block = syn::parse_quote!({ #stat #(#stmts)* });
            f.block = Box::new(block);
            f.into_token_stream()
        }
        Err(_) => func_tokens,
    }
}
