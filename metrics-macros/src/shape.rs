//! The shape of the wrapper: how the body is run so that its outcome can be seen.
//! Decided once per function, from its signature and what its body can do.

use proc_macro2::{Delimiter, Group, TokenTree};
use quote::ToTokens;

use crate::body::Scan;
use crate::item::TrackedFn;
use crate::ty;

// Input:
//     #[get("/users/{id}")]
//     async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, ApiError> { #![INNER] BODY }
//
// Output: the attributes, the signature and the user's braces kept, the body wrapped:
//     #[get("/users/{id}")]
//     async fn get_user(id: web::Path<u32>) -> Result<HttpResponse, ApiError> {
//         #![INNER]
//         use __private::{IsResponse as _, Status as _};
//         static __METRICS_CALL_SITE: CallSite = CallSite::new("get_user", "GET", "/users/{id}");
//         let __metrics_guard = __METRICS_CALL_SITE.start(
//             (&&responds::<RET>()).__metrics_responds(),
//             ::core::module_path!(),
//             "",                          // `fn`'s name when `name = "…"` is given
//         );
//         let __metrics_out = RUN;
//         (&&&&&&Probe(&__metrics_out)).__metrics_finish(__metrics_guard);
//         __metrics_out
//     }
//
// where RUN, by shape (RET: the return type, `impl Trait` erased to `_`):
//     Value:      let __metrics_out: RET = { BODY };
//     Breaks:     let __metrics_out: RET = '__metrics_body: { BODY };  each `return` now `break '__metrics_body`
//     Closure:    let __metrics_out = call::<RET, _>(move || { BODY });
//     AsyncBlock: let __metrics_out = async move { FAKE_RETURN { BODY } }.await;
//
// Two shapes differ more:
//     Diverges:   fn never() -> ! { #![INNER] static __METRICS_CALL_SITE ..; let __metrics_guard = ..; { BODY } }
//     AsyncTrait, the input being what `#[async_trait]` makes of an `async fn` before this
//     attribute runs:
//         fn handle<'async_trait>(&self) -> Pin<Box<dyn Future<Output = R> + Send + 'async_trait>> {
//             Box::pin(async move { BODY })
//         }
//     output, the wrapper inside the block so that it times the future, not the
//     creation of the box:
//         fn handle<'async_trait>(&self) -> Pin<Box<dyn Future<Output = R> + Send + 'async_trait>> {
//             Box::pin(async move {
//                 static __METRICS_CALL_SITE ..; let __metrics_guard = ..;
//                 let __metrics_out = async move { BODY }.await;
//                 (&&&&&&Probe(&__metrics_out)).__metrics_finish(__metrics_guard);
//                 __metrics_out
//             })
//         }
/// How the tracked function runs its body (see the comment above for each output).
pub(crate) enum Shape {
    /// `#[async_trait]` ran first: the body is `pin(async move { .. })`.
    AsyncTrait {
        /// The `Box::pin` path, as written.
        pin: Box<syn::Expr>,
        /// The `async move` block it boxes.
        future: syn::ExprAsync,
    },
    /// `-> !`: the body never leaves but by panicking, which the guard records.
    Diverges,
    /// Nothing leaves the body but its value.
    Value,
    /// The body's only early exits are the function's own `return`s.
    Breaks,
    /// The body may leave through `?`, a macro, or a `return` that may be a closure's.
    Closure,
    /// As [`Shape::Closure`], in an `async fn` whose body may await.
    AsyncBlock,
}

impl Shape {
    /// The shape `func` needs, the cheapest to compile that still sees every outcome.
    pub(crate) fn of(func: &TrackedFn) -> Shape {
        if let Some((pin, future)) = async_trait_future(&func.sig, &func.body) {
            return Shape::AsyncTrait { pin, future };
        }
        if ty::is_never(&func.sig.output) {
            return Shape::Diverges;
        }
        let scan = Scan::of(func.body.stream());
        match (scan.returns, scan.other_exits) {
            // Nothing leaves the body but its value, or a `return` that can become a
            // `break` out of a labelled block: no closure or inner `async` block needed
            // (each costs type-checking time, an inner coroutine the most).
            (false, false) => Shape::Value,
            (true, false) if !scan.nested_scope => Shape::Breaks,
            // An `async fn` whose body awaits nothing needs no inner coroutine: a
            // closure catches `return` and `?` as well, and costs a fraction to compile.
            _ if func.sig.asyncness.is_some() && scan.may_await => Shape::AsyncBlock,
            _ => Shape::Closure,
        }
    }
}

// The `Box::pin` call and its `async move` block, when `#[async_trait]` made the body.
//
// Only a plain `fn` whose body ends in `pin(...)` is parsed further (most bodies never
// are, see `TrackedFn`).
fn async_trait_future(
    sig: &syn::Signature,
    block: &Group,
) -> Option<(Box<syn::Expr>, syn::ExprAsync)> {
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
    future.capture.is_some().then_some((call.func, future))
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

#[cfg(test)]
impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Shape::AsyncTrait { .. } => "AsyncTrait",
            Shape::Diverges => "Diverges",
            Shape::Value => "Value",
            Shape::Breaks => "Breaks",
            Shape::Closure => "Closure",
            Shape::AsyncBlock => "AsyncBlock",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::Errors;

    fn shape(item: &str) -> Shape {
        let func = TrackedFn::from_item(item.parse().unwrap(), &mut Errors::default());
        Shape::of(&func.unwrap())
    }

    macro_rules! assert_shape {
        ($item:expr, $shape:pat) => {{
            let item: &str = &$item;
            let shape = shape(item);
            assert!(matches!(shape, $shape), "{item}: {shape:?}");
        }};
    }

    #[test]
    fn bodies_without_early_exits_run_in_place() {
        assert_shape!(
            "async fn f() -> Result<u8, E> { g().await; Ok(1) }",
            Shape::Value
        );
        assert_shape!("fn f() -> impl Sized { format!(\"{}\", 1) }", Shape::Value);
        assert_shape!("fn f() { let c = |x: u8| x + 1; c(1); }", Shape::Value);
    }

    #[test]
    fn returns_become_breaks_when_nothing_else_exits() {
        assert_shape!(
            "async fn f(x: u8) -> Option<u8> { if x == 0 { return None; } loop { return Some(x); } }",
            Shape::Breaks
        );
        assert_shape!("fn f(x: u8) -> u8 { return x; }", Shape::Breaks);
        // A `return` next to a `?`, or that may be a closure's, keeps the boundary.
        for body in [
            "{ if x == 0 { return None; } Some(g()?) }",
            "{ let f = |y: u8| { return y; }; Some(f(x)) }",
            "{ let f = async move { return 1; }; Some(x) }",
            "{ fn inner() -> u8 { return 1; } Some(inner()) }",
        ] {
            assert_shape!(
                format!("async fn f(x: u8) -> Option<u8> {body}"),
                Shape::Closure
            );
        }
    }

    #[test]
    fn question_marks_and_macros_get_a_boundary() {
        assert_shape!("fn get_user() -> Option<u8> { Some(x()?) }", Shape::Closure);
        assert_shape!(
            "fn f() -> anyhow::Result<()> { bail!(\"no\") }",
            Shape::Closure
        );
        assert_shape!(
            "async fn f() -> anyhow::Result<()> { bail!(\"no\") }",
            Shape::AsyncBlock
        );
    }

    #[test]
    fn async_bodies_that_await_nothing_get_a_closure() {
        assert_shape!(
            "async fn f(x: &str) -> Option<u8> { Some(x.parse().ok()?) }",
            Shape::Closure
        );
        for body in [
            "{ Some(g().await?) }",
            "{ tokio::select! { x = g() => Some(x?) } }",
        ] {
            assert_shape!(
                format!("async fn f() -> Option<u8> {body}"),
                Shape::AsyncBlock
            );
        }
    }

    #[test]
    fn never_returning_functions_diverge() {
        assert_shape!("fn f() -> ! { loop {} }", Shape::Diverges);
        assert_shape!("fn f() -> ! { let x = g()?; panic!() }", Shape::Diverges);
    }

    #[test]
    fn async_trait_futures_are_tracked_inside() {
        let item = "fn handle<'a>(&'a self) -> Pin<Box<dyn Future<Output = u8> + Send + 'a>> { \
                    Box::pin(async move { let __ret: u8 = { 1 }; __ret }) }";
        let Shape::AsyncTrait { pin, future } = shape(item) else {
            panic!("{item}: {:?}", shape(item));
        };
        let syn::Expr::Path(pin) = *pin else {
            panic!("`pin` is not a path");
        };
        let segments: Vec<String> = pin
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        assert_eq!(segments, ["Box", "pin"]);
        assert_eq!(future.block.stmts.len(), 2);
        // Not `#[async_trait]`'s: an `async fn`, or a future that is not `move`.
        assert_shape!(
            "async fn f() -> Pin<Box<dyn Future<Output = u8>>> { Box::pin(async move { 1 }) }",
            Shape::Value
        );
        assert_shape!(
            "fn f() -> Pin<Box<dyn Future<Output = u8>>> { Box::pin(async { 1 }) }",
            Shape::Value
        );
    }
}
