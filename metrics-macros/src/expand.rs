//! Turning a function into a tracked one.
//!
//! The pipeline is `Args::parse → Args::build`, `TrackedFn::from_item`, `Shape::of`,
//! then one `match` on the shape. The first stages collect every error; the last works
//! on valid options only and cannot fail. On any error the original item is emitted
//! unchanged, followed by the errors, so the rest of the crate still type-checks and
//! IDEs keep working.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::{Args, Options};
use crate::body::break_returns;
use crate::errors::Errors;
use crate::item::TrackedFn;
use crate::route::RouteInfo;
use crate::rpc::RpcTypes;
use crate::shape::Shape;
use crate::ty::{fake_return, probed_type, return_type};

/// The attribute's entry point, on `proc_macro2` tokens so it can be unit-tested.
pub(crate) fn track_metrics(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let options = Args::parse(args, &mut errors).build(&mut errors);
    let func = TrackedFn::from_item(item.clone(), &mut errors);
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

/// The labels of a function's call site.
#[derive(Debug, PartialEq, Eq)]
struct Labels {
    name: String,
    method: String,
    route: String,
}

impl Labels {
    // The arguments win; else the function's name and its actix-web route attribute.
    fn of(func: &TrackedFn, options: &Options) -> Labels {
        let route_info = RouteInfo::from_attrs(&func.attrs);
        let or = |arg: &Option<String>, default: String| arg.clone().unwrap_or(default);
        Labels {
            name: or(&options.name, func.sig.ident.to_string()),
            method: or(&options.method, route_info.methods.join(",")),
            route: or(&options.route, route_info.routes.join(",")),
        }
    }
}

// The function with its body wrapped as its `Shape` says (outputs: see `Shape`).
fn expand(func: TrackedFn, options: Options) -> TokenStream {
    let Labels {
        name,
        method,
        route,
    } = Labels::of(&func, &options);
    let krate = options
        .krate
        .map_or_else(|| quote!(::track_metrics), |path| path.into_token_stream());
    let shape = Shape::of(&func);
    // A tonic method's types, for the runtime to tell its kind of RPC.
    let rpc = RpcTypes::of(&func.sig, matches!(shape, Shape::AsyncTrait { .. }));
    // Which function this is, for the runtime's warning when two use one handler name:
    // its module, and its name unless it is the handler's (`""`: taken by default); the
    // file and line come with the call (`#[track_caller]`). Arguments of `start`, not
    // fields of the `static`: constants only the first call reads, they cost rustc less
    // than a larger constant to evaluate for every function.
    let function = match options.name {
        Some(_) => func.sig.ident.to_string(),
        None => String::new(),
    };
    let origin = quote!(::core::module_path!(), #function);

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
    // Whether the value is a response, the one kind of call that can name the request
    // a middleware serves: asked of the return type, at compile time.
    let responds = match &shape {
        Shape::AsyncTrait { .. } | Shape::Diverges => quote!(false),
        _ => {
            let ty = probed_type(&sig.output, &private);
            quote!((&&#private::responds::<#ty>()).__metrics_responds())
        }
    };
    // With an objective, a `static` of its own (see `ObjectiveSite`), spanned on the
    // objective's path: a path that is not an objective is reported there. The call
    // sites of every other function stay as small as they were.
    let new_site = match &options.objective {
        None => {
            quote!(static #site: #private::CallSite = #private::CallSite::new(#name, #method, #route);)
        }
        Some(objective) => {
            let objective_site = Ident::new("__METRICS_OBJECTIVE", Span::call_site());
            let new_objective = quote_spanned! {objective.span()=>
                #private::ObjectiveSite::new(&#objective)
            };
            quote! {
                static #objective_site: #private::ObjectiveSite = #new_objective;
                static #site: #private::CallSite =
                    #private::CallSite::with_objective(#name, #method, #route, &#objective_site);
            }
        }
    };
    // The probes' traits, for method resolution only (`as _`: no name is added).
    let traits = match &shape {
        Shape::AsyncTrait { .. } => quote!(use #private::Status as _;),
        Shape::Diverges => quote!(use #private::IsResponse as _;),
        _ => quote!(use #private::{IsResponse as _, Status as _};),
    };
    let start = match rpc {
        // Under the gRPC layer its first call names the RPC's kind (see
        // `recording/rpc.rs` in the runtime); otherwise it starts as any call.
        Some(RpcTypes { request, value }) => quote! {
            #traits
            use #private::RpcKindOf as _;
            #new_site
            let #guard = #site.start_rpc(
                (&&&&#private::RpcKind::<#request, #value>::new()).__metrics_rpc_kind(),
                #origin,
            );
        },
        None => quote! {
            #traits
            #new_site
            let #guard = #site.start(#responds, #origin);
        },
    };
    // `ty`: the type of the outcome, when `run` needs it as expected type.
    let track = |ty: Option<TokenStream>, run: TokenStream| {
        let ty = ty.map(|ty| quote!(: #ty));
        quote! {
            #start
            // A body whose value diverges (`panic!(..)` as its last expression) is a
            // diverging sub-expression of this `let`, which clippy flags; in the function
            // itself it was not one.
            #[allow(clippy::diverging_sub_expression)]
            let #out #ty = #run;
            // A body that always diverges (`panic!`, `loop {}`) makes what follows
            // unreachable; that is expected here, not the user's to fix.
            #[allow(unreachable_code)]
            (&&&&&&#private::Probe(&#out)).__metrics_finish(#guard);
            #out
        }
    };
    let wrapper = match shape {
        // Track the boxed future, not its creation.
        Shape::AsyncTrait { pin, future } => {
            let inner = &future.block;
            let tracked = track(None, quote!(async move #inner.await));
            let attrs = &future.attrs;
            quote!(#pin(#(#attrs)* async move { #tracked }))
        }
        Shape::Diverges => quote!(#start #block),
        // The annotation gives the body the return type as expected type, as `fn` does.
        Shape::Value => track(return_type(&sig.output), block.into_token_stream()),
        Shape::Breaks => {
            let label = syn::Lifetime::new("'__metrics_body", Span::mixed_site());
            let mut body = Group::new(Delimiter::Brace, break_returns(block.stream(), &label));
            body.set_span(block.span());
            track(return_type(&sig.output), quote!(#label: #body))
        }
        // The return type is named where the boundary is made, so that `return` and
        // `?` in the body infer and coerce as they do in the function itself.
        Shape::AsyncBlock => {
            let fake_return = fake_return(&sig.output, &private);
            track(None, quote!(async move { #fake_return #block }.await))
        }
        Shape::Closure => {
            let ty = return_type(&sig.output).unwrap_or_else(|| quote!(()));
            track(None, quote!(#private::call::<#ty, _>(move || #block)))
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(args: &str, item: &str) -> Labels {
        let mut errors = Errors::default();
        let options = Args::parse(args.parse().unwrap(), &mut errors).build(&mut errors);
        let func = TrackedFn::from_item(item.parse().unwrap(), &mut errors).unwrap();
        assert!(errors.finish().is_ok());
        Labels::of(&func, &options)
    }

    fn label(name: &str, method: &str, route: &str) -> Labels {
        Labels {
            name: name.to_owned(),
            method: method.to_owned(),
            route: route.to_owned(),
        }
    }

    #[test]
    fn labels_come_from_the_route_attribute() {
        assert_eq!(
            labels(
                "",
                "#[get(\"/users/{id}\")] async fn get_user() -> Option<u8> { Some(x().await?) }"
            ),
            label("get_user", "GET", "/users/{id}")
        );
        assert_eq!(labels("", "fn plain() {}"), label("plain", "", ""));
    }

    #[test]
    fn arguments_override_the_route_attribute() {
        assert_eq!(
            labels(
                "name = \"Users::get\", method = \"POST\", route = \"/u\", crate = \"my::rt\"",
                "#[get(\"/users/{id}\")] fn get_user() -> Option<u8> { Some(x()?) }",
            ),
            label("Users::get", "POST", "/u")
        );
    }

    #[test]
    fn errors_keep_the_original_item() {
        let out = track_metrics(
            "bogus = \"x\", name = \"\"".parse().unwrap(),
            "fn keep_me() {}".parse().unwrap(),
        );
        let file: syn::File = syn::parse2(out).unwrap();
        let [syn::Item::Fn(kept), errors @ ..] = file.items.as_slice() else {
            panic!("the original function does not come first");
        };
        assert_eq!(kept.sig.ident, "keep_me");
        assert!(kept.block.stmts.is_empty());
        let messages: Vec<String> = errors
            .iter()
            .map(|item| match item {
                syn::Item::Macro(m)
                    if m.mac.path.segments.last().unwrap().ident == "compile_error" =>
                {
                    m.mac.parse_body::<syn::LitStr>().unwrap().value()
                }
                _ => panic!("only errors follow the original function"),
            })
            .collect();
        assert_eq!(
            messages,
            [
                "unknown argument `bogus`; expected one of `name`, `method`, `route`, `crate`, `objective`",
                "`name` must not be empty",
            ]
        );
    }

    #[test]
    fn inner_attributes_stay_inside_the_body() {
        let out = track_metrics(
            TokenStream::new(),
            "#[inline] fn f() { #![allow(unused)] let x = 1; }"
                .parse()
                .unwrap(),
        );
        // An inner attribute before `fn` would not parse: it is first in the body.
        let func: syn::ItemFn = syn::parse2(out).unwrap();
        let styles: Vec<(String, bool)> = func
            .attrs
            .iter()
            .map(|attr| {
                let name = attr.path().get_ident().unwrap().to_string();
                (name, matches!(attr.style, syn::AttrStyle::Inner(_)))
            })
            .collect();
        assert_eq!(
            styles,
            [("inline".to_owned(), false), ("allow".to_owned(), true)]
        );
        // Then the probes' traits (`use .. as _`) and the call site.
        assert!(matches!(
            func.block.stmts.as_slice(),
            [syn::Stmt::Item(syn::Item::Use(_)), syn::Stmt::Item(syn::Item::Static(site)), ..]
                if site.ident == "__METRICS_CALL_SITE"
        ));
    }
}
