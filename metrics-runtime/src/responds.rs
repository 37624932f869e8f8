//! Whether a tracked function's value is a response: the type its framework accepts
//! from a handler (actix-web's `Responder`). Only such a call can name the request a
//! middleware serves (see [`crate::recording::request`]); a helper returning anything else (a row
//! from the database, a `Result<User, DbError>`) counts on its own. With the `axum`
//! feature, an axum `IntoResponse` is a response too.
//!
//! Decided from the return type at compile time, by method resolution at the call site
//! where the type is concrete, as the status probe does: [`responds`] wraps the type in
//! three levels (axum's, actix-web's, none) and `.__metrics_responds()` runs the method of the outer level when its
//! impl applies. The macro writes the function's return type, with each `impl Trait`
//! replaced by [`AnyResponse`] when the trait is a responder one and by [`NotResponse`]
//! otherwise (an opaque type cannot be named).

use std::marker::PhantomData;
use std::ops::Deref;

/// `responds::<T>().__metrics_responds()`: whether `T` is a response type.
#[inline(always)]
pub fn responds<T>() -> Responds2<T> {
    Responds2(Responds1(Responds0(PhantomData)))
}

/// The inner level: any type; not a response.
pub struct Responds0<T>(PhantomData<fn() -> T>);

/// The outer level: a response type (with the `actix` feature: `T: Responder`).
pub struct Responds1<T>(Responds0<T>);

/// The outermost level: a response type (with the `axum` feature: `T: IntoResponse`).
/// A level of its own, so that a type that is both (`String`) is not ambiguous.
pub struct Responds2<T>(Responds1<T>);

impl<T> Deref for Responds2<T> {
    type Target = Responds1<T>;
    #[inline(always)]
    fn deref(&self) -> &Responds1<T> {
        &self.0
    }
}

impl<T> Deref for Responds1<T> {
    type Target = Responds0<T>;
    #[inline(always)]
    fn deref(&self) -> &Responds0<T> {
        &self.0
    }
}

impl<T> Responds0<T> {
    /// Whether the type is a response: not for this level.
    #[inline(always)]
    pub fn __metrics_responds(&self) -> bool {
        false
    }
}

#[cfg(feature = "actix")]
impl<T: actix_web::Responder> Responds1<T> {
    /// Whether the type is a response: an actix-web `Responder` is.
    #[inline(always)]
    pub fn __metrics_responds(&self) -> bool {
        true
    }
}

#[cfg(feature = "axum")]
impl<T: axum::response::IntoResponse> Responds2<T> {
    /// Whether the type is a response: an axum `IntoResponse` is.
    #[inline(always)]
    pub fn __metrics_responds(&self) -> bool {
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

    #[test]
    fn responses_by_type() {
        let any = cfg!(any(feature = "actix", feature = "axum"));
        assert!(!responds::<User>().__metrics_responds());
        assert!(!responds::<Result<User, std::io::Error>>().__metrics_responds());
        assert!(!responds::<NotResponse>().__metrics_responds());
        assert_eq!(responds::<AnyResponse>().__metrics_responds(), any);
        assert_eq!(responds::<String>().__metrics_responds(), any);
        #[cfg(feature = "actix")]
        {
            use actix_web::HttpResponse;
            assert!(responds::<HttpResponse>().__metrics_responds());
            assert!(responds::<Result<HttpResponse, actix_web::Error>>().__metrics_responds());
            assert!(responds::<Result<AnyResponse, std::io::Error>>().__metrics_responds());
            assert!(responds::<actix_web::web::Json<u8>>().__metrics_responds());
        }
        #[cfg(feature = "axum")]
        {
            use axum::http::StatusCode;
            assert!(responds::<StatusCode>().__metrics_responds());
            assert!(responds::<axum::response::Response>().__metrics_responds());
            assert!(responds::<(StatusCode, axum::Json<u8>)>().__metrics_responds());
            assert!(responds::<Result<axum::Json<u8>, StatusCode>>().__metrics_responds());
            assert!(responds::<axum::response::Redirect>().__metrics_responds());
        }
    }
}
