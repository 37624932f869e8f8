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
pub(crate) use imp::{Request, Start, is_current, within};
#[cfg(any(feature = "actix", feature = "axum"))]
use imp::{enter_current, leave_current};

/// How a tracked call stands to the current request; packed in a word for the guard:
/// `0` no request, else the request's address, with the low bit set when the call
/// names it.
#[derive(Clone, Copy)]
pub(crate) struct Call(usize);

impl Call {
    pub(crate) const ALONE: Call = Call(0);

    /// Whether this call named the request (and so records nothing of its own).
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

#[cfg(any(feature = "actix", feature = "axum"))]
mod imp {
    use std::cell::{Cell, RefCell};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

    use super::Call;
    use crate::series::Series;

    /// Where a request is in flight when it starts.
    #[derive(Clone, Copy)]
    pub(crate) enum Start {
        /// Its route is known: in flight in that route's series, with the handler that
        /// answered its path last time (`""` if none did), until a call names it.
        Routed(&'static Series),
        /// Its route is not known yet: in flight under `route=""` until it is (actix
        /// routes after its middleware is called; axum before).
        #[cfg(feature = "actix")]
        Unrouted,
        /// Its route is left out: nothing is recorded.
        Excluded,
    }

    /// One request a middleware serves.
    pub(crate) struct Request {
        method: &'static str,
        // Only locked from polls of the request's future, which never run at the same
        // time: never waits.
        state: Mutex<State>,
        // Tracked calls of this request that started and have not finished; touched
        // under the same rule.
        depth: AtomicU32,
    }

    struct State {
        // The series the request is in flight in (its labels are the request's as known
        // or expected so far); `None` when left out.
        in_flight: Option<&'static Series>,
        // Whether `in_flight` is the route's series (else the route is not known yet).
        routed: bool,
        // The handler of the call that named it.
        handler: Option<&'static str>,
    }

    impl Request {
        /// A request of `method` (a label of `recording::method_label`), not in flight
        /// yet (see `Recording::start`), and the series it will be in flight in (`None`
        /// when left out).
        pub(crate) fn new(
            method: &'static str,
            start: Start,
        ) -> (Arc<Request>, Option<&'static Series>) {
            let (in_flight, routed) = match start {
                Start::Routed(series) => (Some(series), true),
                #[cfg(feature = "actix")]
                Start::Unrouted => (Some(Series::of("", method, "")), false),
                Start::Excluded => (None, true),
            };
            let request = Arc::new(Request {
                method,
                state: Mutex::new(State {
                    in_flight,
                    routed,
                    handler: None,
                }),
                depth: AtomicU32::new(0),
            });
            (request, in_flight)
        }

        fn state(&self) -> MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }

        /// The series the request is in flight in now; `None` when left out.
        #[cfg(all(test, feature = "actix"))]
        pub(crate) fn in_flight(&self) -> Option<&'static Series> {
            self.state().in_flight
        }

        /// Its route is `route` (known now, or known better: the one the framework
        /// matched); `excluded`: that route is left out. Its in-flight count moves to
        /// the route's series.
        #[cfg(feature = "actix")]
        pub(crate) fn route(&self, route: &str, excluded: bool) {
            self.state().route(self.method, route, excluded);
        }

        /// The series to count the finished request in, and the one it is in flight in
        /// (`None` when left out), after its route is `route` if given (as in
        /// [`Request::route`]): one lock for both.
        pub(crate) fn finish(
            &self,
            route: Option<(&str, bool)>,
        ) -> Option<(&'static Series, &'static Series)> {
            let mut state = self.state();
            if let Some((route, excluded)) = route {
                state.route(self.method, route, excluded);
            }
            state.finished(self.method)
        }

        /// The series to count the finished request in, and the one it is in flight in;
        /// `None` when left out.
        #[cfg(test)]
        pub(crate) fn finished(&self) -> Option<(&'static Series, &'static Series)> {
            self.state().finished(self.method)
        }

        // `handler` names the request, unless a call did already; once its route is
        // known its in-flight count is in the handler's series.
        fn name(&self, handler: &'static str) -> bool {
            let mut state = self.state();
            if state.handler.is_some() {
                return false;
            }
            state.handler = Some(handler);
            if state.routed
                && let Some(series) = state.in_flight
                // Expected: the handler that answered this path last time.
                && series.handler() != handler
            {
                let joined = Series::of(handler, self.method, series.route());
                joined.enter();
                series.leave();
                state.in_flight = Some(joined);
            }
            true
        }
    }

    impl State {
        fn route(&mut self, method: &'static str, route: &str, excluded: bool) {
            let state = self;
            if state.routed && state.in_flight.is_none_or(|series| series.route() == route) {
                return;
            }
            let target = (!excluded).then(|| {
                let series = Series::of(state.handler.unwrap_or(""), method, route);
                series.enter();
                series
            });
            if let Some(series) = state.in_flight {
                series.leave();
            }
            state.in_flight = target;
            state.routed = true;
        }

        fn finished(&self, method: &'static str) -> Option<(&'static Series, &'static Series)> {
            let state = self;
            let in_flight = state.in_flight?;
            let handler = state.handler.unwrap_or("");
            let route = if state.routed { in_flight.route() } else { "" };
            // Almost always the series it is in flight in; not when no handler (or
            // another one) answered than the one expected, or its route never got known.
            let counted = if in_flight.handler() == handler && in_flight.route() == route {
                in_flight
            } else {
                Series::of(handler, method, route)
            };
            Some((counted, in_flight))
        }
    }

    thread_local! {
        static CURRENT: RefCell<Option<Arc<Request>>> = const { RefCell::new(None) };
        // Whether `CURRENT` holds a request: what every tracked call looks at first, a
        // plain load (no destructor to register, unlike `CURRENT`).
        static ACTIVE: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` (a poll of the request's future) with `request` as this thread's current
    /// request, then puts it back in `request`, also when `f` panics.
    pub(crate) fn within<R>(request: &mut Option<Arc<Request>>, f: impl FnOnce() -> R) -> R {
        struct Restore<'a> {
            slot: &'a mut Option<Arc<Request>>,
            previous: Option<Arc<Request>>,
        }
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                let previous = self.previous.take();
                ACTIVE.set(previous.is_some());
                let current = CURRENT.try_with(|current| current.replace(previous));
                if let Ok(current) = current {
                    *self.slot = current;
                }
            }
        }
        let Ok(previous) = CURRENT.try_with(|current| current.replace(request.take())) else {
            // The thread is being torn down: no request context, the call still runs.
            return f();
        };
        let _restore = Restore {
            slot: request,
            previous,
        };
        ACTIVE.set(
            CURRENT
                .try_with(|current| current.borrow().is_some())
                .unwrap_or(false),
        );
        f()
    }

    /// Whether this thread is polling a request's future (or starting it) right now:
    /// a request middleware called from inside another one's request (a layer on a
    /// nested router as well as on the outer one) only forwards, so it is counted once.
    #[inline]
    pub(crate) fn is_current() -> bool {
        ACTIVE.get()
    }

    #[inline]
    pub(super) fn enter_current(handler: &'static str, responds: bool) -> Call {
        if !ACTIVE.get() {
            return Call::ALONE;
        }
        CURRENT
            .try_with(|current| {
                let Ok(current) = current.try_borrow() else {
                    return Call::ALONE;
                };
                let Some(request) = current.as_ref() else {
                    return Call::ALONE;
                };
                let id = Arc::as_ptr(request) as usize;
                let depth = request.depth.load(Ordering::Relaxed);
                request.depth.store(depth + 1, Ordering::Relaxed);
                if depth == 0 && responds && request.name(handler) {
                    Call(id | 1)
                } else {
                    Call(id)
                }
            })
            .unwrap_or(Call::ALONE)
    }

    #[inline]
    pub(super) fn leave_current(call: Call) {
        if !ACTIVE.get() {
            return;
        }
        let _ = CURRENT.try_with(|current| {
            if let Ok(current) = current.try_borrow()
            && let Some(request) = current.as_ref()
            // Finished under another request (a future moved between requests): that
            // one's depth is not this call's to change.
            && Arc::as_ptr(request) as usize == call.0 & !1
            {
                let depth = request.depth.load(Ordering::Relaxed);
                request
                    .depth
                    .store(depth.saturating_sub(1), Ordering::Relaxed);
            }
        });
    }

    #[cfg(test)]
    mod tests {
        use super::super::{enter, leave};
        use super::*;

        #[test]
        fn the_first_outer_responding_call_names_the_request() {
            let start = Series::of("", "GET", "/unit/request");
            start.enter();
            let mut current = Some(Request::new("GET", Start::Routed(start)).0);
            within(&mut current, || {
                // A helper that is no response does not name it, nor does a response
                // inside it.
                let helper = enter("helper", false);
                assert!(!helper.names());
                let nested = enter("nested", true);
                assert!(!nested.names());
                leave(nested);
                leave(helper);
                let handler = enter("handler", true);
                assert!(handler.names());
                // Once named, later calls count on their own.
                let after = enter("later", true);
                assert!(!after.names());
                leave(after);
                leave(handler);
            });
            let request = current.expect("put back");
            let (counted, in_flight) = request.finished().unwrap();
            assert!(std::ptr::eq(counted, in_flight));
            assert_eq!(
                (in_flight.handler(), in_flight.method(), in_flight.route()),
                ("handler", "GET", "/unit/request")
            );
            assert_eq!(request.depth.load(Ordering::Relaxed), 0);
            in_flight.leave();
        }

        #[cfg(feature = "actix")]
        #[test]
        fn a_request_named_before_its_route_is_known_moves_once_it_is() {
            let request = Request::new("PUT", Start::Unrouted).0;
            let provisional = request.in_flight().unwrap();
            assert_eq!((provisional.handler(), provisional.route()), ("", ""));
            assert!(request.name("unit_unrouted"));
            let (counted, in_flight) = request.finished().unwrap();
            assert_eq!((counted.handler(), counted.route()), ("unit_unrouted", ""));
            assert!(std::ptr::eq(in_flight, provisional));
            provisional.enter();
            request.route("/unit/unrouted/{id}", false);
            let (counted, in_flight) = request.finished().unwrap();
            assert!(std::ptr::eq(counted, in_flight));
            assert_eq!(
                (in_flight.handler(), in_flight.route()),
                ("unit_unrouted", "/unit/unrouted/{id}")
            );
            // Left out once its route is known: in flight nowhere, counted nowhere.
            request.route("/unit/other", true);
            assert!(request.finished().is_none());
            in_flight.enter();
            in_flight.leave();
        }

        #[test]
        fn outside_a_request_calls_are_alone() {
            assert_eq!(enter("x", true).0, 0);
            let mut other = Some(Request::new("GET", Start::Excluded).0);
            within(&mut other, || {
                let call = enter("x", true);
                assert!(call.names());
                leave(call);
            });
            assert!(other.is_some());
            assert_eq!(enter("x", true).0, 0, "the previous (no) request is back");
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                within(&mut other, || panic!("in a poll"))
            }));
            assert!(panicked.is_err());
            assert!(other.is_some(), "put back while unwinding");
            assert_eq!(enter("x", true).0, 0);
        }
    }
}
