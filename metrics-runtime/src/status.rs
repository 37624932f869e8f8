//! Deciding the `status` label of a finished call.
//!
//! The macro cannot see types (aliases, `impl Trait`), so the status is picked by
//! method resolution at the call site, where the type is concrete ("autoref
//! specialization"): the impl on the most references wins, and a missing impl falls
//! through to the next level.
//!
//! Value: `ResponseStatus` > `Result`/`Option` split > `200`.
//! Error: `ResponseStatus` > actix-web `ResponseError` > `500`.

/// A value that knows the HTTP status it answers with.
///
/// Implemented for `HttpResponse`, `(T, StatusCode)` and `actix_web::Error`. Implement
/// it for your own responders and error types so that `#[track_metrics]` counts them
/// with the status they really send. (Errors that implement actix-web's
/// `ResponseError` need nothing: their `status_code()` is used.)
///
/// ```
/// use metrics_runtime::ResponseStatus;
///
/// struct Created(u32);
///
/// impl ResponseStatus for Created {
///     fn status(&self) -> u16 {
///         201
///     }
/// }
/// # assert_eq!(Created(1).status(), 201);
/// ```
pub trait ResponseStatus {
    /// The status code this value responds with, `100..=599` (anything else counts as `500`).
    fn status(&self) -> u16;
}

impl<T: ResponseStatus + ?Sized> ResponseStatus for &T {
    fn status(&self) -> u16 {
        (**self).status()
    }
}

impl<T: ResponseStatus + ?Sized> ResponseStatus for Box<T> {
    fn status(&self) -> u16 {
        (**self).status()
    }
}

#[cfg(feature = "actix")]
mod actix_impls {
    use super::ResponseStatus;
    use actix_web::http::StatusCode;

    impl<B> ResponseStatus for actix_web::HttpResponse<B> {
        fn status(&self) -> u16 {
            actix_web::HttpResponse::status(self).as_u16()
        }
    }

    impl<T> ResponseStatus for (T, StatusCode) {
        fn status(&self) -> u16 {
            self.1.as_u16()
        }
    }

    impl ResponseStatus for actix_web::Error {
        fn status(&self) -> u16 {
            self.as_response_error().status_code().as_u16()
        }
    }
}

/// A borrowed value under inspection; the number of `&` in front of it selects the level.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// What the first look at a value found.
pub enum Split<'a, V: ?Sized, E: ?Sized> {
    /// The status is known.
    Known(u16),
    /// A success value (or `Ok`/`Some` content) whose status is decided next.
    Value(&'a V),
    /// An `Err` whose status is decided next.
    Error(&'a E),
}

/// The whole value knows its status.
pub trait SplitKnown<'a> {
    /// See [`Split`].
    fn __metrics_split(&self) -> Split<'a, (), ()>;
}
impl<'a, T: ResponseStatus + ?Sized> SplitKnown<'a> for &&Probe<'a, T> {
    fn __metrics_split(&self) -> Split<'a, (), ()> {
        Split::Known(self.0.status())
    }
}

/// `Result` and `Option` are looked into.
pub trait SplitResult<'a, V: ?Sized, E: ?Sized> {
    /// See [`Split`].
    fn __metrics_split(&self) -> Split<'a, V, E>;
}
impl<'a, V, E> SplitResult<'a, V, E> for &Probe<'a, Result<V, E>> {
    fn __metrics_split(&self) -> Split<'a, V, E> {
        match self.0 {
            Ok(value) => Split::Value(value),
            Err(err) => Split::Error(err),
        }
    }
}
impl<'a, V> SplitResult<'a, V, ()> for &Probe<'a, Option<V>> {
    // actix-web answers `None` with 404 Not Found.
    fn __metrics_split(&self) -> Split<'a, V, ()> {
        match self.0 {
            Some(value) => Split::Value(value),
            None => Split::Known(404),
        }
    }
}

/// Anything else is a plain success value.
pub trait SplitOther<'a, T: ?Sized> {
    /// See [`Split`].
    fn __metrics_split(&self) -> Split<'a, T, ()>;
}
impl<'a, T: ?Sized> SplitOther<'a, T> for Probe<'a, T> {
    fn __metrics_split(&self) -> Split<'a, T, ()> {
        Split::Value(self.0)
    }
}

/// A success value that knows its status.
pub trait ValueKnown {
    /// The status of a success value.
    fn __metrics_value_status(&self) -> u16;
}
impl<T: ResponseStatus + ?Sized> ValueKnown for &Probe<'_, T> {
    fn __metrics_value_status(&self) -> u16 {
        self.0.status()
    }
}

/// Any other success value: `200 OK`.
pub trait ValueOther {
    /// The status of a success value.
    fn __metrics_value_status(&self) -> u16;
}
impl<T: ?Sized> ValueOther for Probe<'_, T> {
    fn __metrics_value_status(&self) -> u16 {
        200
    }
}

/// An error that knows its status.
pub trait ErrorKnown {
    /// The status of an error.
    fn __metrics_error_status(&self) -> u16;
}
impl<E: ResponseStatus + ?Sized> ErrorKnown for &&Probe<'_, E> {
    fn __metrics_error_status(&self) -> u16 {
        self.0.status()
    }
}

/// An actix-web `ResponseError`: its `status_code()` (no impls without the `actix` feature).
pub trait ErrorActix {
    /// The status of an error.
    fn __metrics_error_status(&self) -> u16;
}
#[cfg(feature = "actix")]
impl<E: actix_web::ResponseError + ?Sized> ErrorActix for &Probe<'_, E> {
    fn __metrics_error_status(&self) -> u16 {
        self.0.status_code().as_u16()
    }
}

/// Any other error: `500 Internal Server Error`.
pub trait ErrorOther {
    /// The status of an error.
    fn __metrics_error_status(&self) -> u16;
}
impl<E: ?Sized> ErrorOther for Probe<'_, E> {
    fn __metrics_error_status(&self) -> u16 {
        500
    }
}

/// The status code of `&value`, by the rules above. Used by generated code.
#[doc(hidden)]
#[macro_export]
macro_rules! __metrics_status_of {
    ($value:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::status::{
            ErrorActix as _, ErrorKnown as _, ErrorOther as _, SplitKnown as _, SplitOther as _,
            SplitResult as _, ValueKnown as _, ValueOther as _,
        };
        match (&&&$crate::__private::status::Probe($value)).__metrics_split() {
            $crate::__private::status::Split::Known(status) => status,
            $crate::__private::status::Split::Value(value) => {
                (&&$crate::__private::status::Probe(value)).__metrics_value_status()
            }
            $crate::__private::status::Split::Error(err) => {
                (&&&$crate::__private::status::Probe(err)).__metrics_error_status()
            }
        }
    }};
}
