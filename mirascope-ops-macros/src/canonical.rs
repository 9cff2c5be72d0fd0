//! The canonical text of a token stream, written by us so that `mirascope.version.hash` depends
//! only on the code: not on rustc's `Display` of token streams (which may change between
//! compiler versions), not on whitespace or comments (which tokens do not carry), and not on the
//! crate path the generated code uses (the facade `mirascope` or the member crates).
//!
//! Rules: tokens are separated by one space; a punctuation character that is joined to the next
//! one (`::`, `->`, `+=`) is written without the space, and so is the first token of a group; groups are written as their delimiters
//! around their contents (an invisible group as its contents); identifiers and literals as they
//! are written (raw identifiers keep `r#`).

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// The canonical text of `tokens`.
pub fn render(tokens: impl ToTokens) -> String {
    let mut out = String::new();
    write(&mut out, tokens.into_token_stream());
    out
}

fn write(out: &mut String, tokens: TokenStream) {
    // No space at the start of a group, nor after a punctuation joined to the next one.
    let mut joined = true;
    for tree in tokens {
        if !joined {
            out.push(' ');
        }
        joined = false;
        match tree {
            TokenTree::Ident(i) => out.push_str(&i.to_string()),
            TokenTree::Literal(l) => out.push_str(&l.to_string()),
            TokenTree::Punct(p) => {
                out.push(p.as_char());
                joined = p.spacing() == Spacing::Joint;
            }
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                write(out, g.stream());
                out.push_str(close);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::render;

    fn canon(source: &str) -> String {
        render(source.parse::<proc_macro2::TokenStream>().unwrap())
    }

    #[test]
    fn whitespace_and_comments_do_not_matter() {
        let a =
            canon("fn recommend(genre: &str) -> String { format!(\"Recommend a {genre} book\") }");
        let b = canon(
            "fn recommend( genre : &str )->String{\n    // a comment\n    format!( \"Recommend a {genre} book\" ) /* another */\n}",
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "fn recommend (genre : & str) -> String {format ! (\"Recommend a {genre} book\")}"
        );
    }

    #[test]
    fn joined_punctuation_stays_joined_and_code_changes_show() {
        assert_eq!(canon("a::b += c"), "a :: b += c");
        assert_eq!(canon("a ::b+=c"), canon("a::b += c"));
        assert_ne!(canon("a + b"), canon("a - b"));
        assert_ne!(canon("x(1)"), canon("x[1]"));
        assert_ne!(canon("\"a\""), canon("\"b\""));
    }
}
