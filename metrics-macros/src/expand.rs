//! Turning a function into a tracked one.
//!
//! The pipeline is `Args::parse → Args::build → expand`: the first two collect every
//! error; `expand` works on valid options only and cannot fail. On any error the
//! original item is emitted unchanged, followed by the errors, so the rest of the
//! crate still type-checks and IDEs keep working.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, ReturnType, Type};

use crate::attr::{Args, Errors, Options, not_a_function};
use crate::route::RouteInfo;

/// The attribute's entry point, on `proc_macro2` tokens so it can be unit-tested.
pub(crate) fn track_metrics(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = Args::parse(args, &mut errors).build(&mut errors);
    let func = match TrackedFn::parse(item.clone()) {
        Ok(func) => Some(func),
        // Not a function with a body: the full item parse says what it is instead.
        Err(_) => {
            match syn::parse2::<syn::Item>(item.clone()) {
                Ok(other) => errors.push(not_a_function(&other)),
                Err(err) => errors.push(err),
            }
            None
        }
    };
    if let Some(func) = &func {
        check_function(func, &mut errors);
    }
    match (func, errors.finish()) {
        (Some(func), Ok(())) => expand(func, options),
        (_, Err(err)) => {
            let mut out = item;
            out.extend(err.to_compile_error());
            out
        }
        // Unreachable: an item that is not a function always records an error.
        (None, Ok(())) => item,
    }
}

/// A function as the attribute needs it: attributes, visibility and signature
/// parsed, the body kept as tokens.
///
/// Like tokio-macros' `ItemFn`, and for the same reason: parsing every statement of
/// the body with syn and printing it back is most of what a proc macro costs per
/// function, and the body is only moved, never inspected (except for inner
/// attributes and the `#[async_trait]` shape, see [`async_trait_future`]). The body
/// is split off before syn sees the item, so its tokens are not even visited; syntax
/// errors in it are reported by rustc itself, where they are.
struct TrackedFn {
    attrs: Vec<syn::Attribute>,
    vis: syn::Visibility,
    sig: syn::Signature,
    inner_attrs: Vec<syn::Attribute>,
    /// The body, braces included.
    body: Group,
}

impl TrackedFn {
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

// Input:
//     #[get("/users/{id}")]
//     async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, ApiError> { #![INNER] BODY }
//
// Output:
//     #[get("/users/{id}")]
//     async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, ApiError> {
//         #![INNER]
//         static __METRICS_CALL_SITE: CallSite = CallSite::new("get_user", "GET", "/users/{id}");
//         let __metrics_guard = __METRICS_CALL_SITE.start();
//         let __metrics_out = async move { FAKE_RETURN BODY }.await;
//         if let Some(__metrics_guard) = __metrics_guard {
//             __metrics_guard.finish(probe(&__metrics_out).__metrics_status());
//         }
//         __metrics_out
//     }
//
// A plain `fn` runs `call(move || { FAKE_RETURN BODY })` instead of the async block, so
// that `return` and `?` in BODY land where the outcome can be seen.
fn expand(func: TrackedFn, options: Options) -> TokenStream {
    let route_info = RouteInfo::from_attrs(&func.attrs);
    let name = options.name.unwrap_or_else(|| func.sig.ident.to_string());
    let method = options
        .method
        .unwrap_or_else(|| route_info.methods.join(","));
    let route = options.route.unwrap_or_else(|| route_info.routes.join(","));
    let krate = options.krate.map_or_else(
        || quote!(::metrics_runtime),
        |path| path.into_token_stream(),
    );

    let TrackedFn {
        attrs: outer_attrs,
        vis,
        sig,
        inner_attrs,
        body: block,
    } = func;
    // Inner attributes (`#![allow(..)]`, `//!`) written in the body belong to the whole
    // function: they go first in the new body, not before `fn`.
    let brace = syn::token::Brace {
        span: block.delim_span(),
    };

    let private = quote!(#krate::__private);
    let site = Ident::new("__METRICS_CALL_SITE", Span::call_site());
    let guard = Ident::new("__metrics_guard", Span::mixed_site());
    let out = Ident::new("__metrics_out", Span::mixed_site());
    let track = |run: TokenStream| {
        quote! {
            static #site: #private::CallSite = #private::CallSite::new(#name, #method, #route);
            let #guard = #site.start();
            let #out = #run;
            if let ::core::option::Option::Some(#guard) = #guard {
                #guard.finish(#private::probe(&#out).__metrics_status());
            }
            #out
        }
    };
    let wrapper = if let Some((pin, future)) = async_trait_future(&sig, &block) {
        // `#[async_trait]` ran first: track the boxed future, not its creation.
        let inner = &future.block;
        let tracked = track(quote!(async move #inner.await));
        let attrs = &future.attrs;
        let inner_attrs = &inner_attrs;
        quote! {
            #(#inner_attrs)*
            #pin(#(#attrs)* async move { #tracked })
        }
    } else {
        let fake_return = fake_return(&sig.output);
        let body = quote!({ #fake_return #block });
        let run = if sig.asyncness.is_some() {
            quote!(async move #body.await)
        } else {
            quote!(#private::call(move || #body))
        };
        let tracked = track(run);
        quote!(#(#inner_attrs)* #tracked)
    };
    // The new body keeps the user's braces: with them the function's span is the
    // user's, so rustc still reports lints on it (`dead_code` on an unused function)
    // instead of treating it as code from an external macro.
    let mut tokens = quote!(#(#outer_attrs)* #vis #sig);
    brace.surround(&mut tokens, |tokens| tokens.extend(wrapper));
    tokens
}

// Input (what `#[async_trait]` makes of an `async fn` before this attribute runs):
//     fn handle<'async_trait>(&self) -> Pin<Box<dyn Future<Output = R> + Send + 'async_trait>> {
//         Box::pin(async move { BODY })
//     }
// Output: the `Box::pin` call and the `async move` block, found so that the wrapper
// goes inside the block and times the future, not the creation of the box.
//
// Only a plain `fn` whose body ends in `pin(...)` is parsed further (most bodies never
// are, see `TrackedFn`).
fn async_trait_future(sig: &syn::Signature, block: &Group) -> Option<(syn::Expr, syn::ExprAsync)> {
    if sig.asyncness.is_some() || !ends_in_pin_call(block) {
        return None;
    }
    let block = syn::parse2::<syn::Block>(block.to_token_stream()).ok()?;
    let Ok([syn::Stmt::Expr(syn::Expr::Call(call), None)]) = <[_; 1]>::try_from(block.stmts) else {
        return None;
    };
    let syn::Expr::Path(func) = &*call.func else {
        return None;
    };
    let segments: Vec<String> = func
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    if !segments.ends_with(&["Box".to_owned(), "pin".to_owned()]) {
        return None;
    }
    let Ok([syn::Expr::Async(future)]) =
        <[_; 1]>::try_from(call.args.into_iter().collect::<Vec<_>>())
    else {
        return None;
    };
    future.capture.is_some().then_some((*call.func, future))
}

// `{ .. pin(..) }`: the last two tokens of the body are the ident `pin` and a
// parenthesized group.
fn ends_in_pin_call(block: &Group) -> bool {
    let tokens: Vec<TokenTree> = block.stream().into_iter().collect();
    matches!(
        tokens.as_slice(),
        [.., TokenTree::Ident(pin), TokenTree::Group(args)]
            if pin == "pin" && args.delimiter() == Delimiter::Parenthesis
    )
}

// `if false { let x: RET = loop {}; return x; }` pins the body's type, so `?` and
// `return` inside the wrapper infer as they would in the original function.
fn fake_return(output: &ReturnType) -> TokenStream {
    let ReturnType::Type(_, ty) = output else {
        return TokenStream::new();
    };
    // A copy to edit, made through tokens (spans kept): syn's `Clone` impls are an
    // optional feature. Printed types always parse back; if one did not, the fake
    // return is only an inference aid and can be left out.
    let Ok(mut ty) = syn::parse2::<Type>(ty.to_token_stream()) else {
        return TokenStream::new();
    };
    erase_impl_trait(&mut ty);
    // Located at the return type, so a "return type inferred here" note points at it.
    let fake = Ident::new(
        "__metrics_fake_return",
        ty.span().resolved_at(Span::mixed_site()),
    );
    quote_spanned! {ty.span()=>
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let #fake: #ty = loop {};
            return #fake;
        }
    }
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

    fn expand_str(args: &str, item: &str) -> String {
        track_metrics(args.parse().unwrap(), item.parse().unwrap()).to_string()
    }

    #[test]
    fn labels_come_from_the_route_attribute() {
        let out = expand_str(
            "",
            "#[get(\"/users/{id}\")] async fn get_user() -> u8 { 1 }",
        );
        assert!(
            out.contains("CallSite :: new (\"get_user\" , \"GET\" , \"/users/{id}\")"),
            "{out}"
        );
        assert!(out.contains("async move"), "{out}");
    }

    #[test]
    fn arguments_override_the_route_attribute() {
        let out = expand_str(
            "name = \"Users::get\", method = \"POST\", route = \"/u\", crate = \"my::rt\"",
            "#[get(\"/users/{id}\")] fn get_user() {}",
        );
        assert!(
            out.contains("CallSite :: new (\"Users::get\" , \"POST\" , \"/u\")"),
            "{out}"
        );
        assert!(out.contains("my :: rt :: __private :: call"), "{out}");
        assert!(!out.contains("metrics_runtime"), "{out}");
    }

    #[test]
    fn errors_keep_the_original_item() {
        let out = expand_str("bogus = \"x\", name = \"\"", "fn keep_me() {}");
        assert!(out.starts_with("fn keep_me () { }"), "{out}");
        assert!(out.contains("unknown argument `bogus`"), "{out}");
        assert!(out.contains("`name` must not be empty"), "{out}");
        assert!(!out.contains("CallSite"), "{out}");
    }

    #[test]
    fn inner_attributes_stay_inside_the_body() {
        let out = expand_str("", "#[inline] fn f() { #![allow(unused)] let x = 1; }");
        assert!(
            out.starts_with("# [inline] fn f () { # ! [allow (unused)] static"),
            "{out}"
        );
    }

    #[test]
    fn async_trait_futures_are_tracked_inside() {
        let out = expand_str(
            "",
            "fn handle<'a>(&'a self) -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> { \
             Box::pin(async move { let __ret: u8 = { 1 }; __ret }) }",
        );
        let pin = out.find("Box :: pin (async move { static __METRICS_CALL_SITE");
        assert!(pin.is_some(), "{out}");
        assert!(!out.contains("__private :: call"), "{out}");
    }

    #[test]
    fn impl_trait_is_erased_at_any_depth() {
        let mut ty: Type = syn::parse_quote!(Result<(impl Responder, &impl Sized), E>);
        erase_impl_trait(&mut ty);
        assert_eq!(ty.to_token_stream().to_string(), "Result < (_ , & _) , E >");
    }
}
