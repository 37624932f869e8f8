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

use crate::attr::{Args, Options, not_a_function};
use crate::errors::Errors;
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
// Output, when BODY can exit early (`return`, `?`, a macro that is not std's):
//     #[get("/users/{id}")]
//     async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, ApiError> {
//         #![INNER]
//         static __METRICS_CALL_SITE: CallSite = CallSite::new("get_user", "GET", "/users/{id}");
//         let __metrics_guard = __METRICS_CALL_SITE.start();
//         let __metrics_out = async move { FAKE_RETURN BODY }.await;
//         probe(&__metrics_out).__metrics_finish(__metrics_guard);
//         __metrics_out
//     }
//
// A plain `fn`, or an `async fn` whose BODY awaits nothing, runs
// `call::<RET, _>(move || BODY)` instead of the async block, so that `return` and `?`
// in BODY land where the outcome can be seen. When BODY cannot exit early, neither is
// needed: `let __metrics_out: RET = BODY;`; when its only early exits are `return`s,
// they become `break '__metrics_body` out of `'__metrics_body: { BODY }`.
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
    let brace = syn::token::Brace {
        span: block.delim_span(),
    };

    let private = quote!(#krate::__private);
    let site = Ident::new("__METRICS_CALL_SITE", Span::call_site());
    let guard = Ident::new("__metrics_guard", Span::mixed_site());
    let out = Ident::new("__metrics_out", Span::mixed_site());
    let start = quote! {
        static #site: #private::CallSite = #private::CallSite::new(#name, #method, #route);
        let #guard = #site.start();
    };
    // `ty`: the type of the outcome, when `run` needs it as expected type.
    let track = |ty: Option<TokenStream>, run: TokenStream| {
        let ty = ty.map(|ty| quote!(: #ty));
        quote! {
            #start
            let #out #ty = #run;
            // A body that always diverges (`panic!`, `loop {}`) makes what follows
            // unreachable; that is expected here, not the user's to fix.
            #[allow(unreachable_code)]
            #private::probe(&#out).__metrics_finish(#guard);
            #out
        }
    };
    let exits = Exits::of(block.stream());
    let wrapper = if let Some((pin, future)) = async_trait_future(&sig, &block) {
        // `#[async_trait]` ran first: track the boxed future, not its creation.
        let inner = &future.block;
        let tracked = track(None, quote!(async move #inner.await));
        let attrs = &future.attrs;
        quote!(#pin(#(#attrs)* async move { #tracked }))
    } else if is_never(&sig.output) {
        // `-> !`: the body never leaves but by panicking, which the guard records.
        quote!(#start #block)
    } else if !exits.any() || exits.returns_only() {
        // Nothing leaves the body but its value, or a `return` that can become a
        // `break` out of a labelled block: no closure or inner `async` block needed
        // (each costs type-checking time, an inner coroutine the most). The annotation
        // gives the body the return type as expected type, as `fn` does.
        let body = if exits.returns_only() {
            let label = syn::Lifetime::new("'__metrics_body", Span::mixed_site());
            let mut body = Group::new(Delimiter::Brace, break_returns(block.stream(), &label));
            body.set_span(block.span());
            quote!(#label: #body)
        } else {
            block.into_token_stream()
        };
        track(return_type(&sig.output), body)
    } else {
        // The return type is named where the boundary is made, so that `return` and
        // `?` in the body infer and coerce as they do in the function itself.
        // An `async fn` whose body awaits nothing needs no inner coroutine: a closure
        // catches `return` and `?` as well, and costs a fraction to compile.
        let run = if sig.asyncness.is_some() && exits.awaits {
            let fake_return = fake_return(&sig.output);
            quote!(async move { #fake_return #block }.await)
        } else {
            let ty = return_type(&sig.output).unwrap_or_else(|| quote!(()));
            quote!(#private::call::<#ty, _>(move || #block))
        };
        track(None, run)
    };
    // The new body keeps the user's braces: with them the function's span is the
    // user's, so rustc still reports lints on it (`dead_code` on an unused function)
    // instead of treating it as code from an external macro. Inner attributes
    // (`#![allow(..)]`, `//!`) written in the body belong to the whole function: they
    // go first in the new body, not before `fn`.
    let mut tokens = quote!(#(#outer_attrs)* #vis #sig);
    brace.surround(&mut tokens, |tokens| {
        tokens.extend(quote!(#(#inner_attrs)* #wrapper));
    });
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

// `if false { return identity::<RET>(loop {}); }` pins an `async` block's output type,
// so `?` and `return` inside it infer as they would in the original function.
// (Naming the type through a `Future<Output = RET>` bound, as `call::<RET, _>` does
// for a closure, is not enough: rustc checks the block's `return`s before it.)
fn fake_return(output: &ReturnType) -> TokenStream {
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

fn is_never(output: &ReturnType) -> bool {
    matches!(output, ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)))
}

// The declared return type, usable as a local's type: `impl Trait` becomes `_`.
fn return_type(output: &ReturnType) -> Option<TokenStream> {
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

fn mentions(tokens: &TokenStream, ident: &str) -> bool {
    tokens.clone().into_iter().any(|token| match token {
        TokenTree::Ident(i) => i == ident,
        TokenTree::Group(g) => mentions(&g.stream(), ident),
        _ => false,
    })
}

// How control can leave a body other than through its value. Token-level and
// conservative: whatever cannot be told apart counts, and only costs the closure or
// `async` block emitted then.
#[derive(Default)]
struct Exits {
    // A `return`.
    returns: bool,
    // A `?`, or a macro that could expand to `return` or `?`: std's that cannot
    // (`format!`, `vec!`, `println!`, ...) do not count; anything else (`bail!`,
    // `ensure!`, a `try!`-like macro of yours) does. Only a closure or an `async`
    // block catches these. (`?Sized` in a nested item counts too.)
    others: bool,
    // A closure, an `async` block or a nested item (`|`, `async`, `fn`, `impl`, ...):
    // a `return` in one is not the function's, so `return`s are not rewritten.
    nested: bool,
    // An `.await` (the word `await` anywhere), or a macro that is not std's.
    awaits: bool,
}

impl Exits {
    fn of(body: TokenStream) -> Exits {
        let mut exits = Exits::default();
        exits.scan(body);
        exits
    }

    fn any(&self) -> bool {
        self.returns || self.others
    }

    // `return`s alone, none in a nested closure or item: they can become
    // `break 'label` out of a labeled block holding the body (`break_returns`).
    fn returns_only(&self) -> bool {
        self.returns && !self.others && !self.nested
    }

    fn scan(&mut self, body: TokenStream) {
        let mut previous: Option<TokenTree> = None;
        let mut bang_after: Option<Ident> = None;
        for token in body {
            match &token {
                TokenTree::Ident(ident) if ident == "return" => self.returns = true,
                TokenTree::Ident(ident) if ident == "await" => self.awaits = true,
                TokenTree::Ident(ident) if NESTING_KEYWORDS.iter().any(|k| ident == k) => {
                    self.nested = true;
                }
                TokenTree::Punct(p) if p.as_char() == '?' => self.others = true,
                TokenTree::Punct(p) if p.as_char() == '|' => self.nested = true,
                TokenTree::Punct(p) if p.as_char() == '!' => {
                    bang_after = match &previous {
                        Some(TokenTree::Ident(name)) => Some(name.clone()),
                        _ => None,
                    };
                }
                TokenTree::Group(group) => {
                    if let Some(name) = bang_after.take()
                        && !NON_EXITING_MACROS.iter().any(|known| name == known)
                    {
                        // It may expand to `?`, `return` or `.await` (`select!`, `join!`).
                        self.others = true;
                        self.awaits = true;
                    }
                    self.scan(group.stream());
                }
                _ => bang_after = None,
            }
            previous = Some(token);
        }
    }
}

// Keywords that open a scope of their own for `return`: closures (`move`, `async`
// blocks and closures) and nested items.
const NESTING_KEYWORDS: &[&str] = &["async", "move", "fn", "impl", "trait", "mod", "macro_rules"];

// Every `return` in `body` becomes `break 'label`: the body then runs in place, in a
// block labelled `label`, and its early returns land at the end of that block. Only
// for bodies where `Exits::returns_only` holds.
fn break_returns(body: TokenStream, label: &syn::Lifetime) -> TokenStream {
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

// std macros that never leave the enclosing function (a `return` or `?` in their
// arguments is seen by the scan), and keywords that a `!` can follow.
const NON_EXITING_MACROS: &[&str] = &[
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
    // keywords: `if !(..)`, `while !(..)`, `match !(..)`, `in !(..)`
    "if",
    "while",
    "match",
    "in",
];

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
            "#[get(\"/users/{id}\")] async fn get_user() -> Option<u8> { Some(x().await?) }",
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
            "#[get(\"/users/{id}\")] fn get_user() -> Option<u8> { Some(x()?) }",
        );
        assert!(
            out.contains("CallSite :: new (\"Users::get\" , \"POST\" , \"/u\")"),
            "{out}"
        );
        assert!(out.contains("my :: rt :: __private :: call"), "{out}");
        assert!(!out.contains("metrics_runtime"), "{out}");
    }

    #[test]
    fn bodies_without_early_exits_are_not_wrapped() {
        let out = expand_str("", "async fn f() -> Result<u8, E> { g().await; Ok(1) }");
        assert!(!out.contains("async move"), "{out}");
        assert!(
            out.contains("let __metrics_out : Result < u8 , E > = { g () . await ; Ok (1) } ;"),
            "{out}"
        );
        let out = expand_str("", "fn f() -> impl Sized { format!(\"{}\", 1) }");
        assert!(!out.contains("__private :: call"), "{out}");
        assert!(out.contains("let __metrics_out : _ = {"), "{out}");
    }

    #[test]
    fn what_counts_as_an_early_exit() {
        let exits = |body: &str| Exits::of(body.parse().unwrap()).any();
        for body in [
            "return 1",
            "let x = y?;",
            "if a { if b { return; } }",
            "bail!(\"no\")",
            "anyhow::ensure!(x > 1)",
            "let c = || return 2;",
            "println!(\"{}\", f()?)",
            "fn inner<T: ?Sized>() {}",
        ] {
            assert!(exits(body), "{body}");
        }
        for body in [
            "1",
            "let s = format!(\"{}\", 1); s",
            "vec![1, 2]",
            "if !(a && b) { 1 } else { 2 }",
            "x != (y)",
            "!done",
            "assert!(ok); f().await",
        ] {
            assert!(!exits(body), "{body}");
        }
    }

    #[test]
    fn returns_become_breaks_when_nothing_else_exits() {
        let out = expand_str(
            "",
            "async fn f(x: u8) -> Option<u8> { if x == 0 { return None; } loop { return Some(x); } }",
        );
        assert!(!out.contains("async move"), "{out}");
        assert!(
            out.contains(
                "let __metrics_out : Option < u8 > = '__metrics_body : { \
                 if x == 0 { break '__metrics_body None ; } \
                 loop { break '__metrics_body Some (x) ; } } ;"
            ),
            "{out}"
        );
        // A `return` next to a `?`, or that may be a closure's, keeps the boundary.
        for body in [
            "{ if x == 0 { return None; } Some(g()?) }",
            "{ let f = |y: u8| { return y; }; Some(f(x)) }",
            "{ let f = async move { return 1; }; Some(x) }",
            "{ fn inner() -> u8 { return 1; } Some(inner()) }",
        ] {
            let out = expand_str("", &format!("async fn f(x: u8) -> Option<u8> {body}"));
            assert!(out.contains("__private :: call :: <"), "{out}");
            assert!(!out.contains("'__metrics_body"), "{out}");
        }
    }

    #[test]
    fn async_bodies_that_await_nothing_get_a_closure() {
        let out = expand_str(
            "",
            "async fn f(x: &str) -> Option<u8> { Some(x.parse().ok()?) }",
        );
        assert!(
            out.contains("__private :: call :: < Option < u8 > , _ > (move ||"),
            "{out}"
        );
        assert!(!out.contains("async move"), "{out}");
        for body in [
            "{ Some(g().await?) }",
            "{ tokio::select! { x = g() => Some(x?) } }",
        ] {
            let out = expand_str("", &format!("async fn f() -> Option<u8> {body}"));
            assert!(out.contains("async move"), "{out}");
        }
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
