//! The function as the attribute sees it, and the checks on it.
//!
//! Input: the item the attribute is on. Output: a [`TrackedFn`], or the errors that
//! say why the item cannot be tracked (not a function, a `const fn`, the attribute
//! applied twice).

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;

use crate::errors::Errors;

/// A function as the attribute needs it: attributes, visibility and signature
/// parsed, the body kept as tokens.
///
/// Like tokio-macros' `ItemFn`, and for the same reason: parsing every statement of
/// the body with syn and printing it back is most of what a proc macro costs per
/// function, and the body is only moved, never inspected (except for inner
/// attributes and the `#[async_trait]` shape, see
/// [`Shape::AsyncTrait`](crate::shape::Shape::AsyncTrait)). The body is split off
/// before syn sees the item, so its tokens are not even visited; syntax errors in it
/// are reported by rustc itself, where they are.
pub(crate) struct TrackedFn {
    pub(crate) attrs: Vec<syn::Attribute>,
    pub(crate) vis: syn::Visibility,
    pub(crate) sig: syn::Signature,
    pub(crate) inner_attrs: Vec<syn::Attribute>,
    /// The body, braces included, inner attributes taken out.
    pub(crate) body: Group,
}

impl TrackedFn {
    /// The function `item` is, if it is one the attribute can track; else `None`, with
    /// every reason recorded in `errors`.
    pub(crate) fn from_item(item: TokenStream, errors: &mut Errors) -> Option<TrackedFn> {
        let func = match TrackedFn::parse(item.clone()) {
            Ok(func) => func,
            // Not a function with a body: the full item parse says what it is instead.
            Err(_) => {
                match syn::parse2::<syn::Item>(item) {
                    Ok(other) => errors.push(not_a_function(&other)),
                    Err(err) => errors.push(err),
                }
                return None;
            }
        };
        check_function(&func, errors);
        Some(func)
    }

    // Splits the body off first, so that syn parses only the head.
    fn parse(item: TokenStream) -> syn::Result<TrackedFn> {
        let mut head: Vec<TokenTree> = item.into_iter().collect();
        let body = match head.pop() {
            Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => body,
            _ => {
                return Err(syn::Error::new(
                    Span::call_site(),
                    "expected a function body",
                ));
            }
        };
        let (attrs, vis, sig) = (|input: ParseStream| {
            let attrs = input.call(syn::Attribute::parse_outer)?;
            let vis = input.parse()?;
            let sig = input.parse()?;
            Ok((attrs, vis, sig))
        })
        .parse2(head.into_iter().collect())?;
        let mut func = TrackedFn {
            attrs,
            vis,
            sig,
            inner_attrs: Vec::new(),
            body,
        };
        // `#![..]` first in the body (rare): split the inner attributes off.
        let mut tokens = func.body.stream().into_iter();
        if let (Some(TokenTree::Punct(hash)), Some(TokenTree::Punct(bang))) =
            (tokens.next(), tokens.next())
            && hash.as_char() == '#'
            && bang.as_char() == '!'
        {
            let (inner_attrs, rest) = (|input: ParseStream| {
                let attrs = input.call(syn::Attribute::parse_inner)?;
                Ok((attrs, input.parse::<TokenStream>()?))
            })
            .parse2(func.body.stream())?;
            let mut body = Group::new(Delimiter::Brace, rest);
            body.set_span(func.body.span());
            func.inner_attrs = inner_attrs;
            func.body = body;
        }
        Ok(func)
    }
}

// Function shapes the attribute cannot track.
fn check_function(func: &TrackedFn, errors: &mut Errors) {
    if let Some(constness) = &func.sig.constness {
        errors.push(syn::Error::new(
            constness.span,
            "`#[track_metrics]` cannot be used on a `const fn`: metrics are recorded at run time",
        ));
    }
    for attr in &func.attrs {
        if attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "track_metrics")
        {
            errors.push(syn::Error::new_spanned(
                attr,
                "`#[track_metrics]` is applied more than once to this function",
            ));
        }
    }
}

// The error for an item that is not a function, at its keyword, naming what it is.
fn not_a_function(item: &syn::Item) -> syn::Error {
    let (span, kind) = match item {
        syn::Item::Struct(i) => (i.struct_token.span, "a struct"),
        syn::Item::Enum(i) => (i.enum_token.span, "an enum"),
        syn::Item::Union(i) => (i.union_token.span, "a union"),
        syn::Item::Const(i) => (i.const_token.span, "a const"),
        syn::Item::Static(i) => (i.static_token.span, "a static"),
        syn::Item::Type(i) => (i.type_token.span, "a type alias"),
        syn::Item::Trait(i) => (i.trait_token.span, "a trait"),
        // A `#[tonic::async_trait]` service impl, say: each method is tracked on its own.
        syn::Item::Impl(i) => {
            return syn::Error::new(
                i.impl_token.span,
                "`#[track_metrics]` can only be used on functions, not on an impl block; put it on each method to track",
            );
        }
        syn::Item::Mod(i) => (i.mod_token.span, "a module"),
        syn::Item::Use(i) => (i.use_token.span, "a use declaration"),
        syn::Item::Verbatim(tokens) => {
            // A method declared in a trait without a default body.
            if let Ok(decl) = syn::parse2::<syn::TraitItemFn>(tokens.clone()) {
                return syn::Error::new_spanned(
                    decl.sig,
                    "`#[track_metrics]` needs a function body; put it on the method in each `impl` block",
                );
            }
            (item.span(), "this item")
        }
        other => (other.span(), "this item"),
    };
    syn::Error::new(
        span,
        format!("`#[track_metrics]` can only be used on functions, not on {kind}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(item: &str) -> (Option<TrackedFn>, Result<(), syn::Error>) {
        let mut errors = Errors::default();
        let func = TrackedFn::from_item(item.parse().unwrap(), &mut errors);
        (func, errors.finish())
    }

    fn messages(errors: Result<(), syn::Error>) -> Vec<String> {
        errors
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn inner_attributes_are_split_off_the_body() {
        let (func, errors) = parse("#[inline] fn f() { #![allow(unused)] let x = 1; }");
        assert!(errors.is_ok());
        let func = func.unwrap();
        assert!(func.attrs.len() == 1 && func.attrs[0].path().is_ident("inline"));
        assert!(func.inner_attrs.len() == 1 && func.inner_attrs[0].path().is_ident("allow"));
        let first = func.body.stream().into_iter().next();
        assert!(matches!(first, Some(TokenTree::Ident(let_)) if let_ == "let"));
    }

    #[test]
    fn items_that_cannot_be_tracked() {
        let (func, errors) = parse("struct S;");
        assert!(func.is_none());
        assert_eq!(
            messages(errors),
            ["`#[track_metrics]` can only be used on functions, not on a struct"]
        );
        let (_, errors) = parse("#[track_metrics] const fn f() {}");
        assert_eq!(
            messages(errors),
            [
                "`#[track_metrics]` cannot be used on a `const fn`: metrics are recorded at run time",
                "`#[track_metrics]` is applied more than once to this function",
            ]
        );
    }
}
