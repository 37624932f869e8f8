//! The declared return type, as the expansion uses it: as a local's type, to pin an
//! `async` block's output, to ask whether it is a response, and to tell `-> !` apart.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ReturnType, Type};

/// The declared return type, usable as a local's type: `impl Trait` becomes `_`.
pub(crate) fn return_type(output: &ReturnType) -> Option<TokenStream> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let tokens = ty.to_token_stream();
    if !mentions(&tokens, "impl") {
        return Some(tokens);
    }
    // A copy to edit, made through tokens (spans kept): syn's `Clone` impls are an
    // optional feature. Printed types always parse back; if one did not, the type is
    // only an inference aid and can be left out.
    let mut ty = syn::parse2::<Type>(tokens).ok()?;
    replace_impl_trait(&mut ty, &|_| syn::parse_quote!(_));
    Some(ty.into_token_stream())
}

/// The return type as the `responds` probe names it (`()` when none is written): an
/// `impl Trait` cannot be named, so each becomes `AnyResponse` when its trait is a
/// responder trait (`Responder`, `IntoResponse`) and `NotResponse` otherwise.
pub(crate) fn probed_type(output: &ReturnType, private: &TokenStream) -> TokenStream {
    let ReturnType::Type(_, ty) = output else {
        return quote!(());
    };
    // Lifetimes become `'_`: the probe asks about the type, and a responder impl for
    // `&'static str` must not require the function's `&'a str` to be `'static`.
    let tokens = if mentions(&tokens_of(ty), "for") {
        tokens_of(ty)
    } else {
        infer_lifetimes(tokens_of(ty))
    };
    if !mentions(&tokens, "impl") {
        return tokens;
    }
    let stand_in = |responder: bool| -> Type {
        let name = if responder {
            "AnyResponse"
        } else {
            "NotResponse"
        };
        let name = proc_macro2::Ident::new(name, proc_macro2::Span::call_site());
        syn::parse_quote!(#private::#name)
    };
    let Ok(mut ty) = syn::parse2::<Type>(tokens) else {
        return stand_in(false).into_token_stream();
    };
    replace_impl_trait(&mut ty, &|opaque| stand_in(is_responder(opaque)));
    ty.into_token_stream()
}

fn tokens_of(ty: &Type) -> TokenStream {
    ty.to_token_stream()
}

// Every named lifetime in `tokens` (`'a`, `'static`) becomes `'_`.
fn infer_lifetimes(tokens: TokenStream) -> TokenStream {
    let mut after_quote = false;
    tokens
        .into_iter()
        .map(|token| {
            let token = match token {
                TokenTree::Ident(ident) if after_quote => {
                    TokenTree::Ident(proc_macro2::Ident::new("_", ident.span()))
                }
                TokenTree::Group(group) => {
                    let mut new =
                        proc_macro2::Group::new(group.delimiter(), infer_lifetimes(group.stream()));
                    new.set_span(group.span());
                    TokenTree::Group(new)
                }
                other => other,
            };
            after_quote = matches!(&token, TokenTree::Punct(p) if p.as_char() == '\'');
            token
        })
        .collect()
}

// `impl Responder`, `impl actix_web::Responder + 'static`, `impl IntoResponse`.
fn is_responder(opaque: &syn::TypeImplTrait) -> bool {
    opaque.bounds.iter().any(|bound| {
        matches!(bound, syn::TypeParamBound::Trait(t)
            if t.path.segments.last().is_some_and(|s| s.ident == "Responder" || s.ident == "IntoResponse"))
    })
}

/// `if false { return unreachable::<RET>(); }` pins an `async` block's output type,
/// so `?` and `return` inside it infer and coerce as they would in the original function.
/// (Naming the type through a `Future<Output = RET>` bound, as `call::<RET, _>` does
/// for a closure, is not enough: rustc checks the block's `return`s before it.) A call
/// of a generic function rather than `identity::<RET>(loop {})`: no unreachable
/// expression, so no lint to allow (each allowed lint costs rustc a lookup).
pub(crate) fn fake_return(output: &ReturnType, private: &TokenStream) -> TokenStream {
    let (ReturnType::Type(_, declared), Some(ty)) = (output, return_type(output)) else {
        return TokenStream::new();
    };
    // Located at the return type, so a "return type inferred here" note points at it.
    let span = declared.span();
    quote_spanned! {span=>
        if false {
            return #private::unreachable::<#ty>();
        }
    }
}

/// `-> !`: the body can only leave by panicking.
pub(crate) fn is_never(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)))
}

// Whether `ident` occurs in `tokens` at any depth: a cheap test before parsing a type.
pub(crate) fn mentions(tokens: &TokenStream, ident: &str) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Ident(i) => i == ident,
        TokenTree::Group(g) => mentions(&g.stream(), ident),
        _ => false,
    })
}

// `impl Trait` cannot be named: replace it (at any depth) with what `with` makes of it.
fn replace_impl_trait(ty: &mut Type, with: &dyn Fn(&syn::TypeImplTrait) -> Type) {
    let recurse = |ty: &mut Type| replace_impl_trait(ty, with);
    match ty {
        Type::ImplTrait(opaque) => *ty = with(opaque),
        Type::Path(path) => {
            if let Some(qself) = &mut path.qself {
                recurse(&mut qself.ty);
            }
            for segment in &mut path.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        if let syn::GenericArgument::Type(ty) = arg {
                            recurse(ty);
                        }
                    }
                }
            }
        }
        Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(recurse),
        Type::Array(array) => recurse(&mut array.elem),
        Type::Slice(slice) => recurse(&mut slice.elem),
        Type::Reference(reference) => recurse(&mut reference.elem),
        Type::Ptr(ptr) => recurse(&mut ptr.elem),
        Type::Paren(paren) => recurse(&mut paren.elem),
        Type::Group(group) => recurse(&mut group.elem),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(sig: &str) -> ReturnType {
        syn::parse_str::<syn::Signature>(sig).unwrap().output
    }

    #[test]
    fn impl_trait_is_erased_at_any_depth() {
        let mut ty: Type = syn::parse_quote!(Result<(impl Responder, &impl Sized), E>);
        replace_impl_trait(&mut ty, &|_| syn::parse_quote!(_));
        let expected: Type = syn::parse_quote!(Result<(_, &_), E>);
        // Compared through tokens: syn's `PartialEq` impls are an optional feature.
        assert_eq!(
            ty.to_token_stream().to_string(),
            expected.to_token_stream().to_string()
        );
    }

    #[test]
    fn return_types() {
        let erased = return_type(&output("fn f() -> impl Sized")).unwrap();
        assert!(matches!(syn::parse2(erased), Ok(Type::Infer(_))));
        let kept = return_type(&output("fn f() -> Result<u8, E>")).unwrap();
        assert_eq!(kept.to_string(), quote!(Result<u8, E>).to_string());
        assert!(return_type(&output("fn f()")).is_none());
        assert!(fake_return(&output("fn f()"), &quote!(rt::__private)).is_empty());
        assert!(is_never(&output("fn f() -> !")));
        assert!(!is_never(&output("fn f() -> u8")));
    }

    #[test]
    fn probed_types_stand_in_for_impl_trait() {
        let private = quote!(rt::__private);
        let probed = |sig: &str| probed_type(&output(sig), &private).to_string();
        assert_eq!(probed("fn f()"), quote!(()).to_string());
        assert_eq!(probed("fn f() -> Json<T>"), quote!(Json<T>).to_string());
        assert_eq!(
            probed("fn f<'a>() -> Cow<'a, &'static str>"),
            quote!(Cow<'_, &'_ str>).to_string()
        );
        assert_eq!(
            probed("fn f() -> Result<impl actix_web::Responder + 'static, E>"),
            quote!(Result<rt::__private::AnyResponse, E>).to_string()
        );
        assert_eq!(
            probed("fn f() -> impl IntoResponse"),
            quote!(rt::__private::AnyResponse).to_string()
        );
        assert_eq!(
            probed("fn f() -> (impl Sized, impl Future<Output = u8>)"),
            quote!((rt::__private::NotResponse, rt::__private::NotResponse)).to_string()
        );
    }
}
