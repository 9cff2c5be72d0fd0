//! `#[llm::tool]`: keeps the function as written and adds, next to it, a marker type of the same
//! name (types and functions live in different namespaces) implementing `llm::ToolFn`: its
//! `Tool` (name, doc comment as description, JSON schema of the arguments via `schemars`, typed
//! argument parsing, the call). `tools = [get_weather]` resolves through the marker, so a name
//! that is not an `#[llm::tool]` function is an error at that name.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat};

use crate::options::Opts;
use crate::{fnsig, paths};

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => return crate::fallback(e, item, "#[llm::tool] applies to functions"),
    };
    let opts: Opts = match syn::parse2(attr) {
        Ok(o) => o,
        Err(e) => return crate::fallback(e, item, ""),
    };
    match build(&func, &opts) {
        Ok(companion) => {
            // Doc comments on parameters document the schema; Rust itself does not allow them.
            let mut func = func;
            for input in func.sig.inputs.iter_mut() {
                if let FnArg::Typed(pt) = input {
                    pt.attrs.retain(|a| !a.path().is_ident("doc"));
                }
            }
            let mut out = func.into_token_stream();
            out.extend(companion);
            out
        }
        Err(e) => crate::fallback(e, item, ""),
    }
}

fn build(func: &ItemFn, opts: &Opts) -> syn::Result<TokenStream> {
    opts.check("#[llm::tool]", &["name", "description", "strict"])?;
    let llm = paths::llm();
    let p = quote!(#llm::__private);
    let p_str = p.to_string().replace(' ', "");
    let sig = &func.sig;
    if let Some(r) = sig.receiver() {
        return Err(syn::Error::new_spanned(
            r,
            "#[llm::tool] functions cannot take `self`: make the tool a free function",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "#[llm::tool] functions cannot be generic: the model needs one schema",
        ));
    }
    let fn_name = &sig.ident;
    let name = opts
        .string("name")?
        .map(|s| s.value())
        .unwrap_or_else(|| fn_name.to_string());
    let description = match opts.string("description")? {
        Some(d) => d.value(),
        None => fnsig::doc(&func.attrs).unwrap_or_default(),
    };
    let strict = match opts.get("strict") {
        Some(crate::options::Opt::Value(_, e)) => quote!(::core::option::Option::Some(#e)),
        _ => quote!(::core::option::Option::None),
    };
    let args_ty = format_ident!("__MirascopeToolArgs_{}", sig.ident);
    let mut fields = Vec::new();
    let mut names = Vec::new();
    let mut schema_fns = Vec::new();
    for a in &sig.inputs {
        let FnArg::Typed(pt) = a else { continue };
        let Pat::Ident(pi) = &*pt.pat else {
            return Err(syn::Error::new_spanned(
                &pt.pat,
                "#[llm::tool] arguments must be plain names (they become the schema's properties)",
            ));
        };
        let ident = &pi.ident;
        let ty = &pt.ty;
        if matches!(&**ty, syn::Type::Reference(_)) {
            return Err(syn::Error::new_spanned(ty, "#[llm::tool] arguments must be owned types (`String`, not `&str`): they are parsed from the model's JSON"));
        }
        let docs: Vec<_> = pt
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .collect();
        // Each argument is read through a function that asks only for `ToolArgument`, spanned
        // at the type, and described through a probe that asks for nothing: a missing derive is
        // one error, at the type, naming the derives to add (not several from inside the
        // derives' expansion).
        let span = ty.span();
        let de = syn::LitStr::new(&format!("{p_str}::deserialize_argument"), span);
        let schema_fn = format_ident!("__mirascope_schema_{}", ident);
        let schema = syn::LitStr::new(&format!("{args_ty}::{schema_fn}"), span);
        schema_fns.push(quote! {
            fn #schema_fn(
                generator: &mut #p::schemars::SchemaGenerator,
            ) -> #p::schemars::Schema {
                #[allow(unused_imports)]
                use #p::{SchemaFallback as _, SchemaOf as _};
                (&&#p::SchemaProbe::<#ty>::new()).argument_schema(generator)
            }
        });
        // serde lets a missing `Option` field be `None` only when it reads the field itself:
        // say `default` for it, and `skip_serializing_if` so that schemars, which reads serde's
        // attributes, writes no `"default": null` into the schema.
        let default = if is_option(ty) {
            quote!(#[serde(default, skip_serializing_if = "::core::option::Option::is_none")])
        } else {
            quote!()
        };
        fields.push(quote_spanned! {span=>
            #(#docs)* #[serde(deserialize_with = #de)] #default #[schemars(schema_with = #schema)] #ident: #ty
        });
        names.push(ident.clone());
    }
    let call = if sig.asyncness.is_some() {
        quote!(#fn_name(#(__a.#names),*).await)
    } else {
        quote!(#fn_name(#(__a.#names),*))
    };
    let result = if fnsig::returns_result(sig) {
        quote!(match #call {
            ::core::result::Result::Ok(v) => #p::tool_result(#name, v),
            ::core::result::Result::Err(e) => ::core::result::Result::Err(#p::Error::Tool { tool: #name.into(), message: ::std::string::ToString::to_string(&e) }),
        })
    } else {
        quote!(#p::tool_result(#name, #call))
    };
    let vis = &func.vis;
    let serde_crate = format!("{p_str}::serde");
    let schemars_crate = format!("{p_str}::schemars");
    Ok(quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(#p::serde::Deserialize, #p::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        #vis struct #args_ty {
            #(#fields),*
        }

        impl #args_ty {
            #(#schema_fns)*
        }

        /// The `#[llm::tool]` marker of the function of the same name: `llm::Tool::of::<name>()`
        /// is its tool.
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #fn_name {}

        impl #p::ToolFn for #fn_name {
            fn tool() -> #p::Tool {
                #p::tool::<#args_ty, _, _>(#name, #description, #strict, |__a: #args_ty| async move { #result })
            }
        }
    })
}

/// Whether `ty` is written as an `Option` (as serde's derive decides it: by the last segment).
fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
        syn::Type::Group(g) => is_option(&g.elem),
        syn::Type::Paren(p) => is_option(&p.elem),
        _ => false,
    }
}
