//! Whether a tracked function's value is a response: the type its framework accepts
//! from a handler (actix-web's `Responder`). Only such a call can name the request a
//! middleware serves (see [`crate::recording::request`]); a helper returning anything else (a row
//! from the database, a `Result<User, DbError>`) counts on its own. With the `axum`
//! feature, an axum `IntoResponse` is a response too.
//!
//! Decided from the return type at compile time, by method resolution at the call site
//! where the type is concrete, as the status probe does: the call site writes
//! `(&&responds::<RET>()).__metrics_responds()` with [`IsResponse`] in scope, and
//! autoderef tries the impl for two references (axum's), then one (actix-web's), then
//! none (not a response). The macro writes the function's return type, with each
//! `impl Trait` replaced by [`AnyResponse`] when the trait is a responder one and by
//! [`NotResponse`] otherwise (an opaque type cannot be named).

use std::marker::PhantomData;

/// The type whose kind is probed: `(&&responds::<T>()).__metrics_responds()`.
#[inline(always)]
pub fn responds<T>() -> Responds<T> {
    Responds(PhantomData)
}

/// Stands for the type `T` in the probe.
pub struct Responds<T>(PhantomData<fn() -> T>);

impl<T> Clone for Responds<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Responds<T> {}

/// Whether a type is a response, one impl per framework on `Responds` behind as many
/// references as its priority.
pub trait IsResponse: Sized {
    /// Whether the type is a response.
    fn __metrics_responds(self) -> bool;
}

/// Any type: not a response.
impl<T> IsResponse for Responds<T> {
    #[inline(always)]
    fn __metrics_responds(self) -> bool {
        false
    }
}

/// With the `actix` feature: an actix-web `Responder` is a response.
#[cfg(feature = "actix")]
impl<T: actix_web::Responder> IsResponse for &Responds<T> {
    #[inline(always)]
    fn __metrics_responds(self) -> bool {
        true
    }
}

/// With the `axum` feature: an axum `IntoResponse` is a response. A depth of its own,
/// so that a type that is both (`String`) is not ambiguous.
#[cfg(feature = "axum")]
impl<T: axum::response::IntoResponse> IsResponse for &&Responds<T> {
    #[inline(always)]
    fn __metrics_responds(self) -> bool {
        true
    }
}

/// Stands for an `impl Trait` return type whose trait is a responder trait
/// (`impl Responder`): a response type that no value has.
pub enum AnyResponse {}

/// Stands for any other `impl Trait` return type: no response.
pub enum NotResponse {}

#[cfg(feature = "actix")]
impl actix_web::Responder for AnyResponse {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        match self {}
    }
}

#[cfg(feature = "axum")]
impl axum::response::IntoResponse for AnyResponse {
    fn into_response(self) -> axum::response::Response {
        match self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct User;

    // As the call site asks.
    macro_rules! responds {
        ($ty:ty) => {
            (&&responds::<$ty>()).__metrics_responds()
        };
    }

    #[test]
    fn responses_by_type() {
        let any = cfg!(any(feature = "actix", feature = "axum"));
        assert!(!responds!(User));
        assert!(!responds!(Result<User, std::io::Error>));
        assert!(!responds!(NotResponse));
        assert_eq!(responds!(AnyResponse), any);
        assert_eq!(responds!(String), any);
        #[cfg(feature = "actix")]
        {
            use actix_web::HttpResponse;
            assert!(responds!(HttpResponse));
            assert!(responds!(Result<HttpResponse, actix_web::Error>));
            assert!(responds!(Result<AnyResponse, std::io::Error>));
            assert!(responds!(actix_web::web::Json<u8>));
        }
        #[cfg(feature = "axum")]
        {
            use axum::http::StatusCode;
            assert!(responds!(StatusCode));
            assert!(responds!(axum::response::Response));
            assert!(responds!((StatusCode, axum::Json<u8>)));
            assert!(responds!(Result<axum::Json<u8>, StatusCode>));
            assert!(responds!(axum::response::Redirect));
        }
    }
}
