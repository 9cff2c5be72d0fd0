//! The one hidden path generated code uses to reach the runtime, whether the user depends on
//! `mirascope` (the facade) or on the member crates.

use proc_macro2::TokenStream;
use proc_macro_crate::{crate_name, FoundCrate};
use quote::{format_ident, quote};

fn found(name: &str) -> Option<TokenStream> {
    match crate_name(name).ok()? {
        FoundCrate::Itself => {
            let ident = format_ident!("{}", name.replace('-', "_"));
            Some(quote!(::#ident))
        }
        FoundCrate::Name(n) => {
            let ident = format_ident!("{}", n);
            Some(quote!(::#ident))
        }
    }
}

/// `::mirascope::llm`, or `::mirascope_llm`.
pub fn llm() -> TokenStream {
    if let Some(root) = found("mirascope") {
        return quote!(#root::llm);
    }
    found("mirascope-llm")
        .or_else(|| found("mirascope-ops").map(|ops| quote!(#ops::__private::mirascope_llm)))
        .unwrap_or_else(|| quote!(::mirascope::llm))
}

/// `::mirascope::ops`, or `::mirascope_ops`.
pub fn ops() -> TokenStream {
    if let Some(root) = found("mirascope") {
        return quote!(#root::ops);
    }
    found("mirascope-ops").unwrap_or_else(|| quote!(::mirascope::ops))
}
