//! The request a middleware is serving, as the tracked calls it makes see it.
//!
//! A request middleware (`actix::RequestMetrics`) counts every request once, under the
//! route the framework matched. While it polls the request's future it makes the
//! request the *current* one of its thread ([`within`]); a tracked call that starts
//! then ([`enter`]) either names the request, joining its series and recording none of
//! its own, or counts on its own, as without a middleware. The first call that starts
//! while the request is served, is not inside another tracked call of the request, and
//! returns a response (its type implements the framework's responder trait) names it.
//!
//! The current request is per thread and per poll, so requests that interleave on one
//! thread each see their own, and a task spawned from a handler (`rt::spawn`,
//! `web::block`) runs outside any request: its tracked calls count on their own.

#[cfg(any(feature = "actix", feature = "axum"))]
mod current;

#[cfg(any(feature = "actix", feature = "axum"))]
pub use current::set_label;
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use current::{Request, Start, current_labels, is_current, within};
#[cfg(any(feature = "actix", feature = "axum"))]
use current::{enter_current, leave_current};

/// How a tracked call stands to the current request; packed in a word for the guard:
/// `0` no request, else the request's id (a multiple of 4), with bit 0 set when the
/// call names it, bit 1 when it does not and the request carries request label values
/// (the call then counts with them).
#[derive(Clone, Copy)]
pub(crate) struct Call(usize);

impl Call {
    pub(crate) const ALONE: Call = Call(0);

    /// Whether this call named the request or carries its label values: one test for
    /// both, so that a call outside any request pays for one.
    #[inline]
    pub(crate) fn is_special(self) -> bool {
        self.0 & 3 != 0
    }

    /// Whether this call named the request (and so records nothing of its own; else a
    /// special call carries the request's label values).
    #[cfg(any(feature = "actix", feature = "axum"))]
    #[inline]
    pub(crate) fn names(self) -> bool {
        self.0 & 1 == 1
    }
}

/// A tracked call of `handler` starts; `responds`: its value is a response.
#[inline]
pub(crate) fn enter(handler: &'static str, responds: bool) -> Call {
    #[cfg(any(feature = "actix", feature = "axum"))]
    return enter_current(handler, responds);
    // Without a framework there is no middleware, so never a current request.
    #[cfg(not(any(feature = "actix", feature = "axum")))]
    {
        let _ = (handler, responds);
        Call::ALONE
    }
}

/// The tracked call `call` stands for has finished.
#[inline]
pub(crate) fn leave(call: Call) {
    if call.0 != 0 {
        #[cfg(any(feature = "actix", feature = "axum"))]
        leave_current(call);
    }
}
