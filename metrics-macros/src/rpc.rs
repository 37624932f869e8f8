//! A tonic service method, as the signature shows it: one argument of a `…Request<_>`
//! type and a `Result<_, _>` value (`#[tonic::async_trait]`'s boxed future's `Output`, or
//! an `async fn`'s). Its two types go to the runtime's `RpcKind` probe, which tells from
//! the types, not their spelling, whether they are tonic's and which kind of RPC they
//! make; a function that only looks like one counts as any function.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Signature, Type, TypeParamBound};

use crate::ty::mentions;

/// The request's type and the value's, as written.
pub(crate) struct RpcTypes {
    pub(crate) request: TokenStream,
    pub(crate) value: TokenStream,
}

impl RpcTypes {
    /// The types of `sig` if it has a tonic method's shape; `boxed`: `#[async_trait]`
    /// made it (its value is the boxed future's `Output`).
    pub(crate) fn of(sig: &Signature, boxed: bool) -> Option<RpcTypes> {
        if !boxed && sig.asyncness.is_none() {
            return None;
        }
        let mut typed = sig.inputs.iter().filter_map(|arg| match arg {
            FnArg::Typed(arg) => Some(&*arg.ty),
            FnArg::Receiver(_) => None,
        });
        let (Some(request), None) = (typed.next(), typed.next()) else {
            return None;
        };
        let ReturnType::Type(_, output) = &sig.output else {
            return None;
        };
        let value = if boxed {
            future_output(output)?
        } else {
            output
        };
        let named = |ty: &Type, name: &str| last_segment(ty).is_some_and(|last| last == name);
        if !named(request, "Request") || !named(value, "Result") {
            return None;
        }
        let (request, value) = (request.to_token_stream(), value.to_token_stream());
        // An `impl Trait` cannot be named in the probe's turbofish.
        let opaque = |tokens: &TokenStream| mentions(tokens, "impl");
        (!opaque(&request) && !opaque(&value)).then_some(RpcTypes { request, value })
    }
}

// The last segment's name of a path type.
fn last_segment(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => Some(path.path.segments.last()?.ident.to_string()),
        _ => None,
    }
}

// The first type argument of a path type whose last segment is `name`.
fn argument<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

// `R` of `Pin<Box<dyn Future<Output = R> + Send + 'async_trait>>`.
fn future_output(ty: &Type) -> Option<&Type> {
    let boxed = argument(argument(ty, "Pin")?, "Box")?;
    let Type::TraitObject(object) = boxed else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(sig: &str, boxed: bool) -> Option<(String, String)> {
        let sig: Signature = syn::parse_str(sig).unwrap();
        RpcTypes::of(&sig, boxed).map(|t| (t.request.to_string(), t.value.to_string()))
    }

    #[test]
    fn tonic_methods() {
        assert_eq!(
            types(
                "fn say<'life0, 'async_trait>(&'life0 self, request: Request<HelloRequest>) \
                 -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Result<Response<HelloReply>, Status>> \
                 + ::core::marker::Send + 'async_trait>>",
                true
            ),
            Some((
                "Request < HelloRequest >".to_owned(),
                "Result < Response < HelloReply > , Status >".to_owned()
            ))
        );
        assert_eq!(
            types(
                "async fn chat(&self, r: tonic::Request<tonic::Streaming<M>>) \
                 -> std::result::Result<tonic::Response<Self::ChatStream>, tonic::Status>",
                false
            )
            .map(|t| t.0),
            Some("tonic :: Request < tonic :: Streaming < M > >".to_owned())
        );
        // A path through a module named like the keyword is no `impl Trait`.
        assert!(
            types(
                "async fn f(&self, r: my_impl::Request<M>) -> Result<R, S>",
                false
            )
            .is_some()
        );
    }

    #[test]
    fn other_functions() {
        for (sig, boxed) in [
            // Not async.
            ("fn f(r: Request<M>) -> Result<Response<R>, Status>", false),
            // Two arguments, or none.
            ("async fn f(r: Request<M>, x: u8) -> Result<R, S>", false),
            ("async fn f(&self) -> Result<R, S>", false),
            // Not a request, not a `Result`.
            ("async fn f(r: HttpRequest) -> Result<R, S>", false),
            ("async fn f(r: Request<M>) -> Option<R>", false),
            ("async fn f(r: Request<M>)", false),
            ("async fn f(r: Request<M>) -> Result<impl Sized, S>", false),
            // Boxed, but not a future's output.
            ("fn f(r: Request<M>) -> Pin<Box<dyn Sized>>", true),
        ] {
            assert_eq!(types(sig, boxed), None, "{sig}");
        }
    }
}
