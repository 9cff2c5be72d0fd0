//! The one option parser shared by the attribute macros: a leading string literal (the model id
//! of `#[llm::call]`), then `key = value` pairs, `key(a, b)` lists and the hidden forwarded
//! `__trace(..)` / `__version(..)` groups.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{braced, bracketed, parenthesized, Expr, Ident, LitStr, Token};

/// One option.
pub enum Opt {
    /// `"openai/gpt-4o-mini"`.
    Lit(LitStr),
    /// `key = expr`.
    Value(Ident, Expr),
    /// `key = ["a", "b"]` of string literals.
    Strings(Ident, Vec<LitStr>),
    /// `key = {"k": "v", ...}`.
    Map(Ident, Vec<(LitStr, LitStr)>),
    /// `key = [path, path]` (tools).
    Paths(Ident, Vec<syn::Path>),
    /// `key(a, b)`.
    Idents(Ident, Vec<Ident>),
    /// `__trace(..)` / `__version(..)`: options forwarded by another mirascope attribute.
    Forwarded(Ident, TokenStream),
    /// A bare `key` (a switch such as `skip_all`).
    Flag(Ident),
}

impl Opt {
    pub fn key(&self) -> Option<&Ident> {
        match self {
            Opt::Lit(_) => None,
            Opt::Value(k, _)
            | Opt::Strings(k, _)
            | Opt::Map(k, _)
            | Opt::Paths(k, _)
            | Opt::Idents(k, _)
            | Opt::Forwarded(k, _)
            | Opt::Flag(k) => Some(k),
        }
    }
}

/// The options that are bare switches.
const FLAGS: &[&str] = &["skip_all"];

/// All options of one attribute.
pub struct Opts(pub Vec<Opt>);

impl Parse for Opt {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Opt::Lit(input.parse()?));
        }
        let key: Ident = input.parse()?;
        if input.peek(syn::token::Paren) {
            let content;
            parenthesized!(content in input);
            if key == "__trace" || key == "__version" {
                return Ok(Opt::Forwarded(key, content.parse()?));
            }
            let idents = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
            return Ok(Opt::Idents(key, idents.into_iter().collect()));
        }
        if input.is_empty() || input.peek(Token![,]) {
            return Ok(Opt::Flag(key));
        }
        input.parse::<Token![=]>()?;
        if input.peek(syn::token::Brace) {
            let content;
            braced!(content in input);
            let mut pairs = Vec::new();
            while !content.is_empty() {
                let k: LitStr = content.parse()?;
                content.parse::<Token![:]>()?;
                let v: LitStr = content.parse()?;
                pairs.push((k, v));
                if content.is_empty() {
                    break;
                }
                content.parse::<Token![,]>()?;
            }
            return Ok(Opt::Map(key, pairs));
        }
        if input.peek(syn::token::Bracket) && (key == "tags" || key == "tools") {
            let content;
            bracketed!(content in input);
            if key == "tags" {
                let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                return Ok(Opt::Strings(key, items.into_iter().collect()));
            }
            let items = Punctuated::<syn::Path, Token![,]>::parse_terminated(&content)?;
            return Ok(Opt::Paths(key, items.into_iter().collect()));
        }
        Ok(Opt::Value(key, input.parse()?))
    }
}

impl Parse for Opts {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let items = Punctuated::<Opt, Token![,]>::parse_terminated(input)?;
        Ok(Opts(items.into_iter().collect()))
    }
}

impl Opts {
    /// The options as written, in canonical text ([`crate::canonical`]), without the forwarded
    /// `__trace(..)` / `__version(..)` groups: what a `#[llm::call]` contributes to its version
    /// hash.
    pub fn canonical(&self) -> String {
        use crate::canonical::render;
        let items: Vec<String> = self
            .0
            .iter()
            .filter_map(|o| {
                Some(match o {
                    Opt::Lit(l) => render(l),
                    Opt::Value(k, v) => format!("{k} = {}", render(v)),
                    Opt::Strings(k, items) => format!("{k} = [{}]", join(items.iter().map(render))),
                    Opt::Map(k, pairs) => format!(
                        "{k} = {{{}}}",
                        join(
                            pairs
                                .iter()
                                .map(|(a, b)| format!("{} : {}", render(a), render(b)))
                        )
                    ),
                    Opt::Paths(k, paths) => format!("{k} = [{}]", join(paths.iter().map(render))),
                    Opt::Idents(k, idents) => format!("{k}({})", join(idents.iter().map(render))),
                    Opt::Flag(k) => k.to_string(),
                    Opt::Forwarded(..) => return None,
                })
            })
            .collect();
        join(items.into_iter())
    }

    /// Rejects keys outside `allowed` and duplicates.
    pub fn check(&self, what: &str, allowed: &[&str]) -> syn::Result<()> {
        let mut seen: Vec<String> = Vec::new();
        for o in &self.0 {
            let Some(k) = o.key() else { continue };
            let name = k.to_string();
            if !allowed.contains(&name.as_str()) && !name.starts_with("__") {
                return Err(syn::Error::new(
                    k.span(),
                    format!(
                        "unknown option `{name}` for {what}; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if matches!(o, Opt::Flag(_)) && !FLAGS.contains(&name.as_str()) {
                return Err(syn::Error::new(
                    k.span(),
                    format!("option `{name}` of {what} needs a value"),
                ));
            }
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    k.span(),
                    format!("duplicate option `{name}`"),
                ));
            }
            seen.push(name);
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&Opt> {
        self.0.iter().find(|o| o.key().is_some_and(|k| k == key))
    }

    pub fn strings(&self, key: &str) -> syn::Result<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Opt::Strings(_, v)) => Ok(v.iter().map(LitStr::value).collect()),
            Some(other) => Err(syn::Error::new(
                other.key().map_or_else(Span::call_site, Ident::span),
                format!("`{key}` takes a list of string literals: {key} = [\"a\", \"b\"]"),
            )),
        }
    }

    pub fn map(&self, key: &str) -> syn::Result<Vec<(String, String)>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Opt::Map(_, v)) => Ok(v.iter().map(|(k, v)| (k.value(), v.value())).collect()),
            Some(other) => Err(syn::Error::new(
                other.key().map_or_else(Span::call_site, Ident::span),
                format!("`{key}` takes a map of string literals: {key} = {{\"k\": \"v\"}}"),
            )),
        }
    }

    pub fn string(&self, key: &str) -> syn::Result<Option<LitStr>> {
        match self.get(key) {
            None => Ok(None),
            Some(Opt::Value(
                _,
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }),
            )) => Ok(Some(s.clone())),
            Some(other) => Err(syn::Error::new(
                other.key().map_or_else(Span::call_site, Ident::span),
                format!("`{key}` takes a string literal"),
            )),
        }
    }

    /// Whether the bare switch `key` is present.
    pub fn flag(&self, key: &str) -> bool {
        self.0.iter().any(|o| matches!(o, Opt::Flag(k) if k == key))
    }

    pub fn idents(&self, key: &str) -> Vec<Ident> {
        match self.get(key) {
            Some(Opt::Idents(_, v)) => v.clone(),
            _ => Vec::new(),
        }
    }

    pub fn forwarded(&self, key: &str) -> Option<&TokenStream> {
        match self.get(key) {
            Some(Opt::Forwarded(_, t)) => Some(t),
            _ => None,
        }
    }
}

/// Sorted, de-duplicated tags (Mirascope's normalization).
pub fn normalize_tags(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags.dedup();
    tags
}

fn join(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(" , ")
}

#[cfg(test)]
mod tests {
    use super::Opts;

    #[test]
    fn canonical_options_leave_out_forwarded_groups_and_spacing() {
        let a: Opts = syn::parse_str(
            r#""openai/gpt-4o-mini", temperature = 0.5, tools = [get_weather], __trace(name = "x")"#,
        )
        .unwrap();
        let b: Opts =
            syn::parse_str(r#""openai/gpt-4o-mini",temperature=0.5,tools=[ get_weather ]"#)
                .unwrap();
        assert_eq!(a.canonical(), b.canonical());
        assert_eq!(
            a.canonical(),
            r#""openai/gpt-4o-mini" , temperature = 0.5 , tools = [get_weather]"#
        );
    }
}
