//! Deciding the `status` label of a finished call.
//!
//! The macro cannot see types (aliases, `impl Trait`), so the status is picked by
//! method resolution at the call site, where the type is concrete ("autoderef
//! specialization"): [`probe`] wraps the value in eight nested levels, and
//! `.__metrics_finish(guard)` (or `.__metrics_status()`) runs the method of the
//! outermost level whose impl applies.
//!
//! Value: `ResponseStatus` > `Result`/`Option` split > `200`.
//! Error: `ResponseStatus` > actix-web `ResponseError` > `500`.
//!
//! One method call, no `match` and no imports at the call site: each probed level and
//! each generated `match` costs type-checking time in every tracked function, so the
//! rules are flattened into one chain. Below the top, a level may hold impls that
//! cannot overlap (no `Result` or `Option` implements `ResponseStatus`: the trait is
//! ours and the types are foreign). The top level holds one impl: when the body has a
//! type error, the value's type is rustc's error type, which every impl accepts, and a
//! level with several would add a bogus "multiple applicable items" error to the
//! user's real one.
//!
//! | level | applies to | status |
//! |---|---|---|
//! | 7 | `T: ResponseStatus` | its status |
//! | 6 | `Result<V, E>` with both `ResponseStatus`; `Option<V: ResponseStatus>` | theirs; `None` → 404 |
//! | 5 | `Result<V: ResponseStatus, E: ResponseError>` | theirs |
//! | 4 | `Result<V: ResponseStatus, E>`; `Option<V>` | `V`'s or 500; 200 or 404 |
//! | 3 | `Result<V, E: ResponseStatus>` | 200 or `E`'s |
//! | 2 | `Result<V, E: ResponseError>` | 200 or `E`'s |
//! | 1 | `Result<V, E>` | 200 or 500 |
//! | 0 | anything else | 200 |
//!
//! Levels 5 and 2 and the `ResponseStatus` impls of actix-web's types are in `actix.rs`
//! (cargo feature `actix`); without it, those two levels apply to nothing. The impls
//! of axum's types (`http` 1) are in `axum.rs` (cargo feature `axum`).

use std::ops::Deref;

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

/// Wraps `value` for the status probe: `probe(&out).__metrics_finish(guard)`.
#[inline(always)]
pub fn probe<T: ?Sized>(value: &T) -> Level7<'_, T> {
    Level7(Level6(Level5(Level4(Level3(Level2(Level1(Level0(
        value,
    ))))))))
}

/// The innermost level: holds the value; its status is `200`.
pub struct Level0<'a, T: ?Sized>(&'a T);

impl<T: ?Sized> Clone for Level0<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Level0<'_, T> {}

impl<'a, T: ?Sized> Level0<'a, T> {
    #[inline(always)]
    fn value(self) -> &'a T {
        self.0
    }
}

// Level N wraps level N - 1 and derefs to it, so method resolution tries N first.
macro_rules! levels {
    ($($(#[$doc:meta])* $level:ident => $inner:ident;)*) => {$(
        $(#[$doc])*
        pub struct $level<'a, T: ?Sized>($inner<'a, T>);

        impl<T: ?Sized> Clone for $level<'_, T> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<T: ?Sized> Copy for $level<'_, T> {}

        impl<'a, T: ?Sized> $level<'a, T> {
            #[inline(always)]
            fn value(self) -> &'a T {
                self.0.value()
            }
        }

        impl<'a, T: ?Sized> Deref for $level<'a, T> {
            type Target = $inner<'a, T>;
            #[inline(always)]
            fn deref(&self) -> &$inner<'a, T> {
                &self.0
            }
        }
    )*};
}

levels! {
    /// Level 1: `Result<V, E>`, 200 or 500.
    Level1 => Level0;
    /// Level 2: `Result<V, E: ResponseError>`.
    Level2 => Level1;
    /// Level 3: `Result<V, E: ResponseStatus>`.
    Level3 => Level2;
    /// Level 4: `Result<V: ResponseStatus, E>`, `Option<V>`.
    Level4 => Level3;
    /// Level 5: `Result<V: ResponseStatus, E: ResponseError>`.
    Level5 => Level4;
    /// Level 6: `Result` of two `ResponseStatus`, `Option<V: ResponseStatus>`.
    Level6 => Level5;
    /// Level 7: `T: ResponseStatus`.
    Level7 => Level6;
}

// One rule: a level's impl for some values, with the status it gives them.
// `__metrics_status` says the status; `__metrics_finish`, what generated code calls,
// records the call with it, computing it only when there is a guard (metrics on), so
// no user code (`status()`, `status_code()`) runs while metrics are off.
macro_rules! rule {
    (impl[$($generics:tt)*] $level:ident<$ty:ty> => |$value:ident| $status:expr) => {
        impl<$($generics)*> $level<'_, $ty> {
            /// The status of the value.
            #[inline]
            pub fn __metrics_status(self) -> u16 {
                let $value = self.value();
                $status
            }

            /// Records the call `guard` stands for with the status of the value.
            #[inline]
            pub fn __metrics_finish(self, guard: Option<$crate::recording::site::Guard>) {
                if let Some(guard) = guard {
                    guard.finish(self.__metrics_status());
                }
            }
        }
    };
}

rule!(impl[T: ResponseStatus + ?Sized] Level7<T> => |value| value.status());

rule!(impl[V: ResponseStatus, E: ResponseStatus] Level6<Result<V, E>> => |value| match value {
    Ok(value) => value.status(),
    Err(err) => err.status(),
});

// actix-web answers `None` with 404 Not Found.
rule!(impl[V: ResponseStatus] Level6<Option<V>> => |value| value.as_ref().map_or(404, V::status));

rule!(impl[V: ResponseStatus, E] Level4<Result<V, E>> => |value| value.as_ref().map_or(500, V::status));

rule!(impl[V] Level4<Option<V>> => |value| if value.is_some() { 200 } else { 404 });

rule!(impl[V, E: ResponseStatus] Level3<Result<V, E>> => |value| value.as_ref().map_or_else(E::status, |_| 200));

rule!(impl[V, E] Level1<Result<V, E>> => |value| if value.is_ok() { 200 } else { 500 });

// Nothing says otherwise: `200 OK`.
rule!(impl[T: ?Sized] Level0<T> => |_value| 200);

// After the macros, which it uses.
#[cfg(feature = "actix")]
mod actix;
#[cfg(feature = "axum")]
mod axum;

#[cfg(test)]
mod tests {
    use super::{ResponseStatus, probe};

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
            (probe(&Created).__metrics_status(), 201),
            (probe(&&Created).__metrics_status(), 201),
            (probe(&Box::new(Created)).__metrics_status(), 201),
            // level 6
            (probe(&Ok::<_, Gone>(Created)).__metrics_status(), 201),
            (probe(&Err::<Created, _>(Gone)).__metrics_status(), 410),
            (probe(&Err::<Created, _>(Both)).__metrics_status(), 409),
            (probe(&Some(Created)).__metrics_status(), 201),
            (probe(&None::<Created>).__metrics_status(), 404),
            // level 5 (level 4 without actix)
            (probe(&Ok::<_, Teapot>(Created)).__metrics_status(), 201),
            (probe(&Err::<Created, _>(Teapot)).__metrics_status(), teapot),
            // level 4
            (probe(&Ok::<_, Plain>(Created)).__metrics_status(), 201),
            (probe(&Err::<Created, _>(Plain)).__metrics_status(), 500),
            (probe(&Some(Plain)).__metrics_status(), 200),
            (probe(&None::<Plain>).__metrics_status(), 404),
            // level 3
            (probe(&Ok::<_, Gone>(Plain)).__metrics_status(), 200),
            (probe(&Err::<Plain, _>(Gone)).__metrics_status(), 410),
            (probe(&Err::<Plain, _>(Both)).__metrics_status(), 409),
            // level 2 (level 1 without actix)
            (probe(&Ok::<_, Teapot>(Plain)).__metrics_status(), 200),
            (probe(&Err::<Plain, _>(Teapot)).__metrics_status(), teapot),
            // level 1
            (probe(&Ok::<_, Plain>(Plain)).__metrics_status(), 200),
            (probe(&Err::<Plain, _>(Plain)).__metrics_status(), 500),
            // level 0: not looked into further
            (probe(&Plain).__metrics_status(), 200),
            (probe(&()).__metrics_status(), 200),
            (probe(&"text").__metrics_status(), 200),
            (probe(&opaque()).__metrics_status(), 200),
            (probe(&Some(Err::<Plain, _>(Gone))).__metrics_status(), 200),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, want, "case {i}");
        }
    }
}
