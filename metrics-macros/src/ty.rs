//! The declared return type, as the expansion uses it: as a local's type, to pin an
//! `async` block's output, and to tell `-> !` apart.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
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
    erase_impl_trait(&mut ty);
    Some(ty.into_token_stream())
}

/// `if false { return identity::<RET>(loop {}); }` pins an `async` block's output type,
/// so `?` and `return` inside it infer as they would in the original function.
/// (Naming the type through a `Future<Output = RET>` bound, as `call::<RET, _>` does
/// for a closure, is not enough: rustc checks the block's `return`s before it.)
pub(crate) fn fake_return(output: &ReturnType) -> TokenStream {
    let (ReturnType::Type(_, declared), Some(ty)) = (output, return_type(output)) else {
        return TokenStream::new();
    };
    // Located at the return type, so a "return type inferred here" note points at it.
    let span = declared.span();
    quote_spanned! {span=>
        #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
        if false {
            return ::core::convert::identity::<#ty>(loop {});
        }
    }
}

/// `-> !`: the body can only leave by panicking.
pub(crate) fn is_never(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)))
}

// Whether `ident` occurs in `tokens` at any depth: a cheap test before parsing a type.
fn mentions(tokens: &TokenStream, ident: &str) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Ident(i) => i == ident,
        TokenTree::Group(g) => mentions(&g.stream(), ident),
        _ => false,
    })
}

// `impl Trait` cannot name a local's type: replace it (at any depth) with `_`.
fn erase_impl_trait(ty: &mut Type) {
    match ty {
        Type::ImplTrait(_) => *ty = syn::parse_quote!(_),
        Type::Path(path) => {
            if let Some(qself) = &mut path.qself {
                erase_impl_trait(&mut qself.ty);
            }
            for segment in &mut path.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        if let syn::GenericArgument::Type(ty) = arg {
                            erase_impl_trait(ty);
                        }
                    }
                }
            }
        }
        Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(erase_impl_trait),
        Type::Array(array) => erase_impl_trait(&mut array.elem),
        Type::Slice(slice) => erase_impl_trait(&mut slice.elem),
        Type::Reference(reference) => erase_impl_trait(&mut reference.elem),
        Type::Ptr(ptr) => erase_impl_trait(&mut ptr.elem),
        Type::Paren(paren) => erase_impl_trait(&mut paren.elem),
        Type::Group(group) => erase_impl_trait(&mut group.elem),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn output(sig: &str) -> ReturnType {
        syn::parse_str::<syn::Signature>(sig).unwrap().output
    }

    #[test]
    fn impl_trait_is_erased_at_any_depth() {
        let mut ty: Type = syn::parse_quote!(Result<(impl Responder, &impl Sized), E>);
        erase_impl_trait(&mut ty);
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
        assert!(fake_return(&output("fn f()")).is_empty());
        assert!(is_never(&output("fn f() -> !")));
        assert!(!is_never(&output("fn f() -> u8")));
    }
}
