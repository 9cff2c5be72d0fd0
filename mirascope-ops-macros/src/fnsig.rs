//! What the macros read off a function signature: arguments and their types as written, whether
//! it is a method, the return type, the doc comment.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::visit::Visit;
use syn::{Attribute, FnArg, Ident, Pat, ReturnType, Signature, Type};

/// One recorded argument.
pub struct Arg {
    pub name: String,
    pub ty: String,
    /// The binding to read the value from (ident patterns only).
    pub ident: Option<Ident>,
}

/// Renders tokens of a type the way a person writes it: `&str`, `Vec<String>`, `HashMap<K, V>`.
pub fn type_string(ty: &impl ToTokens) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = out.chars().last().unwrap_or(' ');
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let glue_prev = matches!(prev, '&' | '<' | ':' | '(' | '[' | '*' | '\'');
            let glue_next = matches!(next, '<' | '>' | ':' | ',' | ')' | ']' | ';');
            if glue_prev || glue_next {
                continue;
            }
            // `& 'a str` -> `&'a str` handled by the glue rules; keep `dyn Trait`, `mut T`.
        }
        out.push(c);
    }
    out.replace(",", ", ")
        .replace(",  ", ", ")
        .replace(";", "; ")
        .replace(";  ", "; ")
}

/// Type names that hold a secret by convention (the `secrecy` crate's types, and any `Secret<T>`):
/// a parameter of such a type, at any depth (`&SecretString`, `Option<Secret<T>>`), is never
/// recorded.
const SECRET_TYPES: &[&str] = &[
    "Secret",
    "SecretString",
    "SecretBox",
    "SecretSlice",
    "SecretVec",
];

/// Whether the type names a secret-holding type anywhere inside it.
pub fn is_secret_type(ty: &Type) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            if SECRET_TYPES.iter().any(|t| seg.ident == t) {
                self.0 = true;
            }
            syn::visit::visit_path_segment(self, seg);
        }
    }
    let mut f = Finder(false);
    f.visit_type(ty);
    f.0
}

/// Whether a parameter carries `#[sensitive]` / `#[ops::sensitive]`.
pub fn is_marked_sensitive(pt: &syn::PatType) -> bool {
    pt.attrs.iter().any(|a| is_attr(a, "sensitive"))
}

/// Removes the `#[sensitive]` markers from the parameters (they mean something only to our
/// macros; the compiler would not know them).
pub fn strip_sensitive_markers(sig: &mut Signature) {
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(pt) = input {
            pt.attrs.retain(|a| !is_attr(a, "sensitive"));
        }
    }
}

/// The arguments (receivers excluded), minus `skip`ped and sensitive ones.
pub fn args(sig: &Signature, skip: &[Ident]) -> Vec<Arg> {
    sig.inputs
        .iter()
        .filter_map(|a| match a {
            FnArg::Receiver(_) => None,
            FnArg::Typed(pt) => {
                let (name, ident) = match &*pt.pat {
                    // `r#type` is recorded as `type`, the name the caller knows.
                    Pat::Ident(pi) => (
                        syn::ext::IdentExt::unraw(&pi.ident).to_string(),
                        Some(pi.ident.clone()),
                    ),
                    other => (type_string(other), None),
                };
                if skip.iter().any(|s| syn::ext::IdentExt::unraw(s) == name)
                    || is_marked_sensitive(pt)
                    || is_secret_type(&pt.ty)
                {
                    return None;
                }
                Some(Arg {
                    name,
                    ty: type_string(&pt.ty),
                    ident,
                })
            }
        })
        .collect()
}

/// `mirascope.trace.arg_types` as a JSON literal.
pub fn arg_types_json(args: &[Arg]) -> String {
    let mut s = String::from("{");
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&json_str(&a.name));
        s.push(':');
        s.push_str(&json_str(&a.ty));
    }
    s.push('}');
    s
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct FindSelf(bool);
impl Visit<'_> for FindSelf {
    fn visit_ident(&mut self, i: &Ident) {
        if i == "Self" {
            self.0 = true;
        }
    }
}

struct FindImpl(bool);
impl Visit<'_> for FindImpl {
    fn visit_type_impl_trait(&mut self, _: &syn::TypeImplTrait) {
        self.0 = true;
    }
}

/// Whether the function is a method or associated function (has a receiver, or names `Self`).
pub fn is_method(sig: &Signature) -> bool {
    if sig.receiver().is_some() {
        return true;
    }
    let mut f = FindSelf(false);
    f.visit_signature(sig);
    f.0
}

/// The return type to annotate a wrapping closure or block with (`None` for `impl Trait`
/// returns, which cannot be written there).
pub fn return_annotation(sig: &Signature) -> Option<TokenStream> {
    match &sig.output {
        ReturnType::Default => Some(quote!(())),
        ReturnType::Type(_, ty) => {
            let mut f = FindImpl(false);
            f.visit_type(ty);
            (!f.0).then(|| quote!(#ty))
        }
    }
}

/// The return type, if it is `Result<..>` (by its last path segment).
pub fn returns_result(sig: &Signature) -> bool {
    match &sig.output {
        ReturnType::Type(_, ty) => {
            matches!(&**ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Result"))
        }
        ReturnType::Default => false,
    }
}

/// The doc comment, cleaned like Python's `inspect.cleandoc`.
pub fn doc(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let cleaned: Vec<String> = lines
        .iter()
        .map(|l| {
            if l.len() >= indent {
                l[indent..].trim_end().to_string()
            } else {
                l.trim().to_string()
            }
        })
        .collect();
    let text = cleaned.join("\n").trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// The paths our attributes are reached by, before their name: `ops::trace`,
/// `mirascope::ops::trace`, `mirascope_ops::trace` (a leading `::` allowed), and the same with
/// `llm` for `call` and `tool`.
fn our_prefixes(name: &str) -> &'static [&'static [&'static str]] {
    match name {
        "call" | "tool" => &[&["llm"], &["mirascope", "llm"], &["mirascope_llm"]],
        _ => &[&["ops"], &["mirascope", "ops"], &["mirascope_ops"]],
    }
}

/// Whether an attribute is our `name` attribute: a bare `#[name]` (as after
/// `use mirascope::ops::trace;`), or a path through one of our crates (`#[ops::trace]`,
/// `#[mirascope::ops::trace]`, `#[mirascope_ops::trace]`). Another crate's attribute of the
/// same name (`#[fastrace::trace]`) is not ours and is left alone.
pub fn is_attr(a: &Attribute, name: &str) -> bool {
    is_our_path(a.path(), name)
}

fn is_our_path(path: &syn::Path, name: &str) -> bool {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let Some((last, prefix)) = segments.split_last() else {
        return false;
    };
    if last != name {
        return false;
    }
    if prefix.is_empty() {
        return path.leading_colon.is_none();
    }
    our_prefixes(name)
        .iter()
        .any(|p| p.iter().copied().eq(prefix.iter().map(String::as_str)))
}

/// Makes `sig` (an `async fn`'s, with `async` removed) able to return a value that holds its
/// arguments, for `lt`: every elided lifetime of the arguments (`&T`, `&'_ T`) becomes `lt`,
/// every named lifetime and type parameter outlives it, `impl Trait` arguments get `+ lt`, and
/// `lt` is the first generic parameter. The caller's borrows shrink to their shortest, which is
/// what an `async fn`'s future already asks of them.
pub fn capture_arguments(sig: &mut Signature, lt: &syn::Lifetime) {
    use syn::visit_mut::VisitMut;

    struct Elided<'l>(&'l syn::Lifetime);
    impl VisitMut for Elided<'_> {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            match &r.lifetime {
                None => r.lifetime = Some(self.0.clone()),
                Some(l) if l.ident == "_" => r.lifetime = Some(self.0.clone()),
                Some(_) => {}
            }
            self.visit_type_mut(&mut r.elem);
        }
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident == "_" {
                *l = self.0.clone();
            }
        }
        fn visit_type_impl_trait_mut(&mut self, t: &mut syn::TypeImplTrait) {
            syn::visit_mut::visit_type_impl_trait_mut(self, t);
            t.bounds.push(syn::TypeParamBound::Lifetime(self.0.clone()));
        }
    }
    for input in sig.inputs.iter_mut() {
        if let FnArg::Typed(pt) = input {
            Elided(lt).visit_type_mut(&mut pt.ty);
        }
    }
    // Each parameter outlives `lt`, bounded where its other bounds are (clippy's
    // `multiple_bound_locations` would flag a second place in the user's code).
    let in_where = |ident: &dyn Fn(&syn::WherePredicate) -> bool| {
        sig.generics
            .where_clause
            .as_ref()
            .is_some_and(|w| w.predicates.iter().any(ident))
    };
    let mut extra: Vec<syn::WherePredicate> = Vec::new();
    let mut inline = Vec::new();
    for (i, p) in sig.generics.params.iter().enumerate() {
        match p {
            syn::GenericParam::Lifetime(l) => {
                let name = &l.lifetime;
                let listed = in_where(
                    &|w| matches!(w, syn::WherePredicate::Lifetime(pl) if pl.lifetime == *name),
                );
                if listed {
                    extra.push(syn::parse_quote!(#name: #lt));
                } else {
                    inline.push(i);
                }
            }
            syn::GenericParam::Type(t) => {
                let name = &t.ident;
                let listed = in_where(&|w| {
                    matches!(w, syn::WherePredicate::Type(pt)
                        if matches!(&pt.bounded_ty, Type::Path(tp) if tp.path.is_ident(name)))
                });
                if listed {
                    extra.push(syn::parse_quote!(#name: #lt));
                } else {
                    inline.push(i);
                }
            }
            syn::GenericParam::Const(_) => {}
        }
    }
    for i in inline {
        match &mut sig.generics.params[i] {
            syn::GenericParam::Lifetime(l) => l.bounds.push(lt.clone()),
            syn::GenericParam::Type(t) => t.bounds.push(syn::TypeParamBound::Lifetime(lt.clone())),
            syn::GenericParam::Const(_) => {}
        }
    }
    sig.generics.params.insert(
        0,
        syn::GenericParam::Lifetime(syn::LifetimeParam::new(lt.clone())),
    );
    if !extra.is_empty() {
        sig.generics.make_where_clause().predicates.extend(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::is_attr;

    fn attr(src: &str) -> syn::Attribute {
        let mut attrs = syn::parse_str::<syn::DeriveInput>(&format!("{src} struct S;"))
            .unwrap()
            .attrs;
        attrs.remove(0)
    }

    #[test]
    fn attributes_are_ours_by_their_full_path() {
        for ours in [
            "#[trace]",
            "#[ops::trace]",
            "#[mirascope::ops::trace]",
            "#[::mirascope::ops::trace]",
            "#[mirascope_ops::trace(name = \"x\")]",
        ] {
            assert!(is_attr(&attr(ours), "trace"), "{ours}");
        }
        for foreign in [
            "#[fastrace::trace]",
            "#[other::ops::trace]",
            "#[::trace]",
            "#[llm::trace]",
            "#[tracing::instrument]",
        ] {
            assert!(!is_attr(&attr(foreign), "trace"), "{foreign}");
        }
        assert!(is_attr(
            &attr("#[mirascope::llm::call(\"openai/m\")]"),
            "call"
        ));
        assert!(!is_attr(&attr("#[ops::call]"), "call"));
    }
}
