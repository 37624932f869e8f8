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

#[cfg(feature = "actix")]
pub(crate) use imp::{Request, within};
#[cfg(feature = "actix")]
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
    #[cfg(feature = "actix")]
    return enter_current(handler, responds);
    // Without a framework there is no middleware, so never a current request.
    #[cfg(not(feature = "actix"))]
    {
        let _ = (handler, responds);
        Call::ALONE
    }
}

/// The tracked call `call` stands for has finished.
#[inline]
pub(crate) fn leave(call: Call) {
    if call.0 != 0 {
        #[cfg(feature = "actix")]
        leave_current(call);
    }
}

#[cfg(feature = "actix")]
mod imp {
    use std::cell::RefCell;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    use once_cell::race::OnceRef;

    use super::Call;
    use crate::series::Series;

    /// One request a middleware serves.
    pub(crate) struct Request {
        // The request's series from its start (handler `""`, the route known then), where
        // it is in flight until a call names it; `None` for a route left out.
        start: Option<&'static Series>,
        // Whether a call has named the request.
        named: AtomicBool,
        // The naming call's series, where the request is in flight from then on.
        joined: OnceRef<'static, Series>,
        // Tracked calls of this request that started and have not finished. Only touched
        // from polls of the request's future, which never run at the same time.
        depth: AtomicU32,
    }

    impl Request {
        pub(crate) fn new(start: Option<&'static Series>) -> Arc<Request> {
            Arc::new(Request {
                start,
                named: AtomicBool::new(false),
                joined: OnceRef::new(),
                depth: AtomicU32::new(0),
            })
        }

        /// The request's series from its start, `None` for a route left out.
        pub(crate) fn start(&self) -> Option<&'static Series> {
            self.start
        }

        /// The series the request is in flight in now.
        pub(crate) fn in_flight(&self) -> Option<&'static Series> {
            self.joined.get().or(self.start)
        }

        /// The `handler` label: the naming call's, `""` when none named the request.
        pub(crate) fn handler(&self) -> &'static str {
            self.joined.get().map_or("", Series::handler)
        }

        // `handler` names the request, unless a call did already; its in-flight count moves
        // to the handler's series.
        fn name(&self, handler: &'static str) -> bool {
            if self.named.swap(true, Ordering::Relaxed) {
                return false;
            }
            if let Some(start) = self.start {
                let joined = Series::of(handler, start.method(), start.route());
                joined.enter();
                start.leave();
                let _ = self.joined.set(joined);
            }
            true
        }
    }

    thread_local! {
        static CURRENT: RefCell<Option<Arc<Request>>> = const { RefCell::new(None) };
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
        f()
    }

    #[inline]
    pub(super) fn enter_current(handler: &'static str, responds: bool) -> Call {
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
            let mut current = Some(Request::new(Some(start)));
            within(&mut current, || {
                // A helper that is no response does not name it, nor does a response inside it.
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
            assert_eq!(request.handler(), "handler");
            let joined = request.in_flight().unwrap();
            assert_eq!(joined.route(), "/unit/request");
            assert_eq!(joined.method(), "GET");
            joined.leave();
            assert_eq!(request.depth.load(Ordering::Relaxed), 0);
        }

        #[test]
        fn outside_a_request_calls_are_alone() {
            assert_eq!(enter("x", true).0, 0);
            let mut other = Some(Request::new(None));
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
