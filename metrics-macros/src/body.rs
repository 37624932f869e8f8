//! What a body can do besides yielding its value, read from its tokens: leave early,
//! await, open a scope of its own for `return`.
//!
//! Token-level and conservative: whatever cannot be told apart counts, and only costs
//! the closure or `async` block emitted then (see [`Shape`](crate::shape::Shape)).

use proc_macro2::{Group, Ident, TokenStream, TokenTree};
use quote::{ToTokens, quote};

/// What the scan of a body found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// A `return`.
    pub(crate) returns: bool,
    /// A `?`, or a macro that could expand to `return` or `?`: std's that cannot
    /// (`format!`, `vec!`, `println!`, ...) do not count; anything else (`bail!`,
    /// `ensure!`, a `try!`-like macro of yours) does. Only a closure or an `async`
    /// block catches these. (`?Sized` in a nested item counts too.)
    pub(crate) other_exits: bool,
    /// A closure, an `async` block or a nested item (`|`, `async`, `fn`, `impl`, ...):
    /// a `return` in one is not the function's, so `return`s are not rewritten.
    pub(crate) nested_scope: bool,
    /// An `.await` (the word `await` anywhere), or a macro that is not std's.
    pub(crate) may_await: bool,
}

impl Scan {
    /// Scans `body` and every group in it.
    pub(crate) fn of(body: TokenStream) -> Scan {
        let mut scan = Scan::default();
        scan.tokens(body);
        scan
    }

    // One level of tokens; groups recurse.
    fn tokens(&mut self, body: TokenStream) {
        let mut previous: Option<TokenTree> = None;
        // The ident before a `!`: a macro's name if a group follows.
        let mut macro_name: Option<String> = None;
        for token in body {
            match &token {
                // The name once: comparing a compiler `Ident` with a string formats it.
                TokenTree::Ident(ident) => match ident.to_string().as_str() {
                    "return" => self.returns = true,
                    "await" => self.may_await = true,
                    name if SCOPE_KEYWORDS.contains(&name) => self.nested_scope = true,
                    _ => macro_name = None,
                },
                TokenTree::Punct(p) if p.as_char() == '?' => self.other_exits = true,
                TokenTree::Punct(p) if p.as_char() == '|' => self.nested_scope = true,
                TokenTree::Punct(p) if p.as_char() == '!' => {
                    macro_name = match &previous {
                        Some(TokenTree::Ident(name)) => Some(name.to_string()),
                        _ => None,
                    };
                }
                TokenTree::Group(group) => {
                    if let Some(name) = macro_name.take()
                        && !NON_EXITING_STD_MACROS.contains(&name.as_str())
                        && !KEYWORDS_BEFORE_BANG.contains(&name.as_str())
                    {
                        // It may expand to `?`, `return` or `.await` (`select!`, `join!`).
                        self.other_exits = true;
                        self.may_await = true;
                    }
                    self.tokens(group.stream());
                }
                _ => macro_name = None,
            }
            previous = Some(token);
        }
    }
}

// Keywords that open a scope of their own for `return`: closures (`move`, `async`
// blocks and closures) and nested items.
const SCOPE_KEYWORDS: &[&str] = &["async", "move", "fn", "impl", "trait", "mod", "macro_rules"];

// std macros that never leave the enclosing function (a `return` or `?` in their
// arguments is seen by the scan).
const NON_EXITING_STD_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
];

// Keywords that a `!` can follow without making a macro call: `if !(..)`,
// `while !(..)`, `match !(..)`, `in !(..)`.
const KEYWORDS_BEFORE_BANG: &[&str] = &["if", "while", "match", "in"];

/// Every `return` in `body` becomes `break 'label`: the body then runs in place, in a
/// block labelled `label`, and its early returns land at the end of that block. Only
/// for bodies whose only early exits are `return`s outside any nested scope
/// ([`Shape::Breaks`](crate::shape::Shape::Breaks)).
pub(crate) fn break_returns(body: TokenStream, label: &syn::Lifetime) -> TokenStream {
    body.into_iter()
        .flat_map(|token| match token {
            TokenTree::Ident(ident) if ident == "return" => {
                // `break` where the user wrote `return`, for diagnostics.
                let kw = Ident::new("break", ident.span());
                quote!(#kw #label)
            }
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), break_returns(group.stream(), label));
                new.set_span(group.span());
                TokenTree::Group(new).into_token_stream()
            }
            other => other.into_token_stream(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::Span;

    fn scan(body: &str) -> Scan {
        Scan::of(body.parse().unwrap())
    }

    #[test]
    fn what_counts_as_an_early_exit() {
        let returns = Scan {
            returns: true,
            ..Scan::default()
        };
        let question = Scan {
            other_exits: true,
            ..Scan::default()
        };
        let unknown_macro = Scan {
            other_exits: true,
            may_await: true,
            ..Scan::default()
        };
        assert_eq!(scan("return 1"), returns);
        assert_eq!(scan("let x = y?;"), question);
        assert_eq!(scan("if a { if b { return; } }"), returns);
        assert_eq!(scan("bail!(\"no\")"), unknown_macro);
        assert_eq!(scan("anyhow::ensure!(x > 1)"), unknown_macro);
        assert_eq!(
            scan("let c = || return 2;"),
            Scan {
                returns: true,
                nested_scope: true,
                ..Scan::default()
            }
        );
        assert_eq!(scan("println!(\"{}\", f()?)"), question);
        assert_eq!(
            scan("fn inner<T: ?Sized>() {}"),
            Scan {
                other_exits: true,
                nested_scope: true,
                ..Scan::default()
            }
        );
    }

    #[test]
    fn what_does_not() {
        for body in [
            "1",
            "let s = format!(\"{}\", 1); s",
            "vec![1, 2]",
            "if !(a && b) { 1 } else { 2 }",
            "x != (y)",
            "!done",
        ] {
            assert_eq!(scan(body), Scan::default(), "{body}");
        }
        assert_eq!(
            scan("assert!(ok); f().await"),
            Scan {
                may_await: true,
                ..Scan::default()
            }
        );
    }

    #[test]
    fn awaits_and_nested_scopes() {
        let select = scan("tokio::select! { x = g() => Some(x?) }");
        assert!(select.may_await && select.other_exits);
        for body in [
            "let f = |y: u8| { return y; }; Some(f(x))",
            "let f = async move { return 1; }; Some(x)",
            "fn inner() -> u8 { return 1; } Some(inner())",
        ] {
            let scan = scan(body);
            assert!(scan.returns && scan.nested_scope, "{body}");
        }
    }

    #[test]
    fn returns_become_breaks_at_any_depth() {
        let label = syn::Lifetime::new("'__metrics_body", Span::call_site());
        let body = "if x == 0 { return None; } loop { return Some(x); }";
        assert_eq!(
            break_returns(body.parse().unwrap(), &label).to_string(),
            quote!(if x == 0 { break #label None; } loop { break #label Some(x); }).to_string()
        );
    }
}
