//! Deciding the `status` label of a finished call.
//!
//! The macro cannot see types (aliases, `impl Trait`), so the status is picked by
//! method resolution at the call site, where the type is concrete ("autoref
//! specialization"): the call site writes `(&&&&&&Probe(&out)).__metrics_finish(guard)`
//! with the [`Status`] trait in scope (`use .. as _`), and autoderef strips one `&` per
//! step, trying the impls for six references first, then five, and so on: the first
//! depth whose impl applies decides.
//!
//! Value: `ResponseStatus` > `Result`/`Option` split > `200`.
//! Error: `ResponseStatus` > actix-web `ResponseError` > `500`.
//!
//! One trait, one method call, no `match` at the call site: each autoderef step and each
//! generated `match` costs type-checking time in every tracked function, so the rules
//! are flattened into one chain. The steps are built-in dereferences of references
//! (an earlier chain of wrapper types, each `Deref` to the next, cost rustc an
//! overloaded `deref` call per step in every tracked function). A depth may hold several
//! impls when they cannot overlap: no `Result` or `Option` implements `ResponseStatus`
//! (the trait is ours and the types are foreign, so no other crate can add it). When
//! the body has a type error, the value's type is rustc's error type: there is one
//! candidate, the trait, and rustc reports nothing more about it.
//!
//! | depth | applies to | status |
//! |---|---|---|
//! | 6 | `T: ResponseStatus`; `Result<V, E>` with both `ResponseStatus`; `Option<V: ResponseStatus>` | its status; theirs; `None` → 404 |
//! | 5 | `Result<V: ResponseStatus, E: ResponseError>` | theirs |
//! | 4 | `Result<V: ResponseStatus, E>`; `Option<V>` | `V`'s or 500; 200 or 404 |
//! | 3 | `Result<V, E: ResponseStatus>` | 200 or `E`'s |
//! | 2 | `Result<V, E: ResponseError>` | 200 or `E`'s |
//! | 1 | `Result<V, E>` | 200 or 500 |
//! | 0 | anything else | 200 |
//!
//! Depths 5 and 2 and the `ResponseStatus` impls of actix-web's types are in `actix.rs`
//! (cargo feature `actix`); without it, those two depths apply to nothing. The impls
//! of axum's types (`http` 1) are in `axum.rs` (cargo feature `axum`).

/// A value that knows the HTTP status it answers with.
///
/// Implemented for actix-web's `HttpResponse`, `(T, StatusCode)` and `actix_web::Error`
/// (cargo feature `actix`), and for axum's `StatusCode`, `Response<B>`,
/// `(StatusCode, T)`, `(StatusCode, headers, T)`, `Redirect` and its `Json`, `Path` and
/// `Query` rejections (cargo feature `axum`). Implement
/// it for your own responders and error types so that `#[track_metrics]` counts them
/// with the status they really send. (Errors that implement actix-web's
/// `ResponseError` need nothing: their `status_code()` is used.)
///
/// ```
/// use track_metrics::ResponseStatus;
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

/// The value whose status is probed, seen through six references at the call site:
/// `(&&&&&&Probe(&out)).__metrics_finish(guard)`, with [`Status`] in scope.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

impl<T: ?Sized> Clone for Probe<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Probe<'_, T> {}

/// The status rules, one impl per rule on `Probe` behind as many references as the
/// rule's depth (see the module docs).
pub trait Status: Sized {
    /// The status of the value.
    fn __metrics_status(self) -> u16;

    /// Records the call `guard` stands for with the status of the value, computing it
    /// only when there is a guard (metrics on), so no user code (`status()`,
    /// `status_code()`) runs while metrics are off.
    #[inline]
    fn __metrics_finish(self, guard: Option<crate::recording::site::Guard>) {
        if let Some(guard) = guard {
            guard.finish(self.__metrics_status());
        }
    }
}

// One rule: the impl for some values at a depth (written as that many `&`), with the
// status it gives them.
macro_rules! rule {
    (impl[$($generics:tt)*] ($($refs:tt)*) $ty:ty => |$value:ident| $status:expr) => {
        impl<$($generics)*> $crate::status::Status for $($refs)* $crate::status::Probe<'_, $ty> {
            #[inline]
            fn __metrics_status(self) -> u16 {
                let $value: &$ty = self.0;
                $status
            }
        }
    };
}

rule!(impl[T: ResponseStatus + ?Sized] (&&&&&&) T => |value| value.status());

rule!(impl[V: ResponseStatus, E: ResponseStatus] (&&&&&&) Result<V, E> => |value| match value {
    Ok(value) => value.status(),
    Err(err) => err.status(),
});

// actix-web answers `None` with 404 Not Found.
rule!(impl[V: ResponseStatus] (&&&&&&) Option<V> => |value| value.as_ref().map_or(404, V::status));

rule!(impl[V: ResponseStatus, E] (&&&&) Result<V, E> => |value| value.as_ref().map_or(500, V::status));

rule!(impl[V] (&&&&) Option<V> => |value| if value.is_some() { 200 } else { 404 });

rule!(impl[V, E: ResponseStatus] (&&&) Result<V, E> => |value| value.as_ref().map_or_else(E::status, |_| 200));

rule!(impl[V, E] (&) Result<V, E> => |value| if value.is_ok() { 200 } else { 500 });

// Nothing says otherwise: `200 OK`.
rule!(impl[T: ?Sized] () T => |_value| 200);

/// `status!(&value)`: the status the call site's probe gives `value` (tests).
#[cfg(test)]
macro_rules! status {
    ($value:expr) => {{
        use $crate::status::Status as _;
        (&&&&&&$crate::status::Probe($value)).__metrics_status()
    }};
}

// After the macros, which it uses.
#[cfg(feature = "actix")]
mod actix;
#[cfg(feature = "axum")]
mod axum;
#[cfg(feature = "tonic")]
mod tonic;

#[cfg(test)]
mod tests {
    use super::ResponseStatus;

    struct Created;
    impl ResponseStatus for Created {
        fn status(&self) -> u16 {
            201
        }
    }

    struct Gone;
    impl ResponseStatus for Gone {
        fn status(&self) -> u16 {
            410
        }
    }

    #[derive(Debug)]
    struct Teapot;
    impl std::fmt::Display for Teapot {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("teapot")
        }
    }
    #[cfg(feature = "actix")]
    impl actix_web::ResponseError for Teapot {
        fn status_code(&self) -> actix_web::http::StatusCode {
            actix_web::http::StatusCode::IM_A_TEAPOT
        }
    }

    // Both: `ResponseStatus` wins over `ResponseError`.
    #[derive(Debug)]
    struct Both;
    impl std::fmt::Display for Both {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("both")
        }
    }
    impl ResponseStatus for Both {
        fn status(&self) -> u16 {
            409
        }
    }
    #[cfg(feature = "actix")]
    impl actix_web::ResponseError for Both {}

    struct Plain;

    fn opaque() -> impl Sized {
        Created
    }

    // One line per level and branch of the table in the module docs.
    #[test]
    fn every_level_and_branch() {
        let teapot = if cfg!(feature = "actix") { 418 } else { 500 };
        let cases = [
            // level 7
            (status!(&Created), 201),
            (status!(&&Created), 201),
            (status!(&Box::new(Created)), 201),
            // level 6
            (status!(&Ok::<_, Gone>(Created)), 201),
            (status!(&Err::<Created, _>(Gone)), 410),
            (status!(&Err::<Created, _>(Both)), 409),
            (status!(&Some(Created)), 201),
            (status!(&None::<Created>), 404),
            // level 5 (level 4 without actix)
            (status!(&Ok::<_, Teapot>(Created)), 201),
            (status!(&Err::<Created, _>(Teapot)), teapot),
            // level 4
            (status!(&Ok::<_, Plain>(Created)), 201),
            (status!(&Err::<Created, _>(Plain)), 500),
            (status!(&Some(Plain)), 200),
            (status!(&None::<Plain>), 404),
            // level 3
            (status!(&Ok::<_, Gone>(Plain)), 200),
            (status!(&Err::<Plain, _>(Gone)), 410),
            (status!(&Err::<Plain, _>(Both)), 409),
            // level 2 (level 1 without actix)
            (status!(&Ok::<_, Teapot>(Plain)), 200),
            (status!(&Err::<Plain, _>(Teapot)), teapot),
            // level 1
            (status!(&Ok::<_, Plain>(Plain)), 200),
            (status!(&Err::<Plain, _>(Plain)), 500),
            // level 0: not looked into further
            (status!(&Plain), 200),
            (status!(&()), 200),
            (status!(&"text"), 200),
            (status!(&opaque()), 200),
            (status!(&Some(Err::<Plain, _>(Gone))), 200),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, want, "case {i}");
        }
    }
}
