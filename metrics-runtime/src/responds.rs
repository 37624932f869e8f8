//! Whether a tracked function's value is a response: the type its framework accepts
//! from a handler (actix-web's `Responder`). Only such a call can name the request a
//! middleware serves (see [`crate::request`]); a helper returning anything else (a row
//! from the database, a `Result<User, DbError>`) counts on its own.
//!
//! Decided from the return type at compile time, by method resolution at the call site
//! where the type is concrete, as the status probe does: [`responds`] wraps the type in
//! two levels and `.__metrics_responds()` runs the method of the outer level when its
//! impl applies. The macro writes the function's return type, with each `impl Trait`
//! replaced by [`AnyResponse`] when the trait is a responder one and by [`NotResponse`]
//! otherwise (an opaque type cannot be named).

use std::marker::PhantomData;
use std::ops::Deref;

/// `responds::<T>().__metrics_responds()`: whether `T` is a response type.
#[inline(always)]
pub fn responds<T>() -> Responds1<T> {
    Responds1(Responds0(PhantomData))
}

/// The inner level: any type; not a response.
pub struct Responds0<T>(PhantomData<fn() -> T>);

/// The outer level: a response type (with the `actix` feature: `T: Responder`).
pub struct Responds1<T>(Responds0<T>);

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

#[cfg(test)]
mod tests {
    use super::*;

    struct User;

    #[test]
    fn responses_by_type() {
        let actix = cfg!(feature = "actix");
        assert!(!responds::<User>().__metrics_responds());
        assert!(!responds::<Result<User, std::io::Error>>().__metrics_responds());
        assert!(!responds::<NotResponse>().__metrics_responds());
        assert_eq!(responds::<AnyResponse>().__metrics_responds(), actix);
        assert_eq!(responds::<String>().__metrics_responds(), actix);
        #[cfg(feature = "actix")]
        {
            use actix_web::HttpResponse;
            assert!(responds::<HttpResponse>().__metrics_responds());
            assert!(responds::<Result<HttpResponse, actix_web::Error>>().__metrics_responds());
            assert!(responds::<Result<AnyResponse, std::io::Error>>().__metrics_responds());
            assert!(responds::<actix_web::web::Json<u8>>().__metrics_responds());
        }
    }
}
