//! The request a middleware serves (`Request`: where it is in flight, which handler
//! named it, its request label values) and this thread's current one (`within`), which
//! the tracked calls it makes find (`enter_current`, `leave_current`) and `set_label`
//! changes.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Call;
use crate::families::otel::Variant;
use crate::recording::otel;
use crate::registry::{LabelSet, labelled};
use crate::storage::Series;

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
    /// Its route is left out, or expected to be (actix, before routing): in flight
    /// nowhere. Recorded all the same if the route it takes is not left out.
    Excluded,
}

/// One request a middleware serves: a few words, kept in its response future and
/// moved into this thread's slot while the future is polled ([`within`]), then back;
/// no allocation, lock or atomic operation. (It has no destructor, so neither has
/// the thread-local slot: reading it is a plain load.)
pub(crate) struct Request {
    method: &'static str,
    // Even, not 0, and no other request's while this one is served: how a tracked
    // call that finishes tells whether it started in this request.
    id: usize,
    // The series the request is in flight in (its labels are the request's as known
    // or expected so far); `None` when left out (so far).
    in_flight: Option<&'static Series>,
    // Whether `in_flight` is the route's series (else the route is not known yet).
    routed: bool,
    // The handler of the call that named it.
    handler: Option<&'static str>,
    // Tracked calls of this request that started and have not finished.
    depth: u16,
    // The values of the request labels when it arrived: those it is in flight with.
    // (The series above are without them: `labelled` gives the series with them.)
    arrival: LabelSet,
    // The values it is counted with: the arrival ones, or set since.
    values: LabelSet,
    // `in_flight` with the arrival values (and, in the OpenTelemetry naming, its
    // variant's sibling): where it is in flight in truth.
    flying: Option<&'static Series>,
    // Its scheme and version, in the OpenTelemetry naming; `None` in the Prometheus one.
    otel: Option<Variant>,
}

impl Request {
    /// A request of `method` (a label of `recording::method_label`) with the
    /// request labels' values `labels`, not in flight yet (see `Served::start`), and
    /// the series it will be in flight in (`None` when left out). `otel`: its part
    /// in the OpenTelemetry naming, `None` in the Prometheus one.
    pub(crate) fn new(
        method: &'static str,
        start: Start,
        labels: LabelSet,
        otel: Option<Variant>,
    ) -> (Request, Option<&'static Series>) {
        let (in_flight, routed) = match start {
            Start::Routed(series) => (Some(series), true),
            #[cfg(feature = "actix")]
            Start::Unrouted => (Some(crate::registry::series_of("", method, "")), false),
            Start::Excluded => (None, true),
        };
        let mut request = Request {
            method,
            id: next_id(),
            in_flight,
            routed,
            handler: None,
            depth: 0,
            arrival: labels,
            values: labels,
            flying: None,
            otel,
        };
        request.flying = in_flight.map(|series| request.flying_in(series));
        let flying = request.flying;
        (request, flying)
    }

    // Where the request is in flight while `series` (one without request label
    // values) holds it: that series with its arrival values, and in the
    // OpenTelemetry naming the sibling of its variant.
    #[inline]
    fn flying_in(&self, series: &'static Series) -> &'static Series {
        let series = labelled(series, self.arrival);
        match self.otel {
            None => series,
            Some(variant) => series.sibling(variant.in_flight(), otel::limits),
        }
    }

    /// The series `counted` and `in_flight` (as [`Request::finished`] gives them)
    /// with the request labels' values: those it is counted with, and those it is in
    /// flight with; in the OpenTelemetry naming, the siblings of its variant and
    /// `status` (answered with it), and of its variant (in flight).
    #[inline]
    pub(crate) fn with_labels(
        &self,
        (counted, in_flight): (&'static Series, &'static Series),
        status: u16,
    ) -> (&'static Series, &'static Series) {
        let flying = match self.flying {
            Some(flying) => flying,
            None => self.flying_in(in_flight),
        };
        if let Some(variant) = self.otel {
            let counted = labelled(counted, self.values);
            return (
                counted.sibling(variant.counted(status), otel::limits),
                flying,
            );
        }
        // Usually counted where it is in flight, with the values it arrived with.
        if std::ptr::eq(counted, in_flight)
            && std::ptr::eq(self.values.values(), self.arrival.values())
        {
            return (flying, flying);
        }
        (labelled(counted, self.values), flying)
    }

    /// The series the request is in flight in now; `None` when left out.
    #[cfg(all(test, feature = "actix"))]
    pub(crate) fn in_flight(&self) -> Option<&'static Series> {
        self.in_flight
    }

    /// Its route is `route` (known now, or known better: the one the framework
    /// matched); `excluded`: that route is left out. Its in-flight count moves to
    /// the route's series, or out of any when left out; a request that started left
    /// out (expected so) and is not goes in flight there now, to be counted there.
    pub(crate) fn route(&mut self, route: &str, excluded: bool) {
        let there = match self.in_flight {
            Some(series) => !excluded && series.route() == route,
            None => excluded,
        };
        if self.routed && there {
            return;
        }
        let target = (!excluded)
            .then(|| crate::registry::series_of(self.handler.unwrap_or(""), self.method, route));
        let flying = target.map(|series| self.flying_in(series));
        if let Some(series) = flying {
            series.enter();
        }
        if let Some(series) = self.flying {
            series.leave();
        }
        self.in_flight = target;
        self.flying = flying;
        self.routed = true;
    }

    /// The series to count the finished request in, and the one it is in flight in
    /// (`None` when left out), after its route is `route` if given (as in
    /// [`Request::route`]).
    pub(crate) fn finish(
        &mut self,
        route: Option<(&str, bool)>,
    ) -> Option<(&'static Series, &'static Series)> {
        if let Some((route, excluded)) = route {
            self.route(route, excluded);
        }
        self.finished()
    }

    /// The series to count the finished request in, and the one it is in flight in;
    /// `None` when left out.
    pub(crate) fn finished(&self) -> Option<(&'static Series, &'static Series)> {
        let in_flight = self.in_flight?;
        let handler = self.handler.unwrap_or("");
        // Almost always the series it is in flight in (a routed request is in flight
        // under its route); not when no handler (or another one) answered than the
        // one expected, or its route never got known.
        let counted = if same(in_flight.handler(), handler)
            && (self.routed || in_flight.route().is_empty())
        {
            in_flight
        } else {
            let route = if self.routed { in_flight.route() } else { "" };
            crate::registry::series_of(handler, self.method, route)
        };
        Some((counted, in_flight))
    }

    // `handler` names the request, unless a call did already; once its route is
    // known its in-flight count is in the handler's series.
    fn name(&mut self, handler: &'static str) -> bool {
        if self.handler.is_some() {
            return false;
        }
        self.handler = Some(handler);
        if self.routed
            && let Some(series) = self.in_flight
            // Expected: the handler that answered this path last time.
            && !same(series.handler(), handler)
        {
            let joined = crate::registry::series_of(handler, self.method, series.route());
            let flying = self.flying_in(joined);
            flying.enter();
            if let Some(series) = self.flying {
                series.leave();
            }
            self.in_flight = Some(joined);
            self.flying = Some(flying);
        }
        true
    }
}

// Whether two labels are equal: for names from the source (the same `&'static str`,
// usually), without comparing their bytes.
#[inline]
fn same(a: &str, b: &str) -> bool {
    (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
}

// A request's id: from blocks of ids each thread takes from a shared count, so that
// making one touches nothing shared but once every `BLOCK` requests.
fn next_id() -> usize {
    const BLOCK: usize = 1 << 16;
    static BLOCKS: AtomicUsize = AtomicUsize::new(1);
    thread_local! {
        // The next id of this thread's block, and the block's end.
        static IDS: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }
    IDS.with(|ids| {
        let (mut next, mut end) = ids.get();
        if next == end {
            next = BLOCKS.fetch_add(1, Ordering::Relaxed).wrapping_mul(BLOCK);
            end = next.wrapping_add(BLOCK);
        }
        ids.set((next.wrapping_add(1), end));
        next << 2
    })
}

thread_local! {
    // The request this thread is polling the future of, if any.
    static CURRENT: RefCell<Option<Request>> = const { RefCell::new(None) };
}

/// Runs `f` (a poll of the request's future) with `request` as this thread's current
/// request, then puts it back in `request`, also when `f` panics: two swaps of the
/// slot with `request` (which holds the previous current request, if any, meanwhile).
#[inline]
pub(crate) fn within<R>(request: &mut Option<Request>, f: impl FnOnce() -> R) -> R {
    struct Restore<'a>(&'a mut Option<Request>);
    impl Drop for Restore<'_> {
        #[inline]
        fn drop(&mut self) {
            swap_current(self.0);
        }
    }
    // Never borrowed here (a borrow never outlasts `enter_current`, `leave_current`
    // or `is_current`); if it were, the call would still run, outside the request.
    if !swap_current(request) {
        return f();
    }
    let _restore = Restore(request);
    f()
}

// Swaps this thread's current request with `request`; false if it could not.
#[inline]
fn swap_current(request: &mut Option<Request>) -> bool {
    CURRENT.with(|current| match current.try_borrow_mut() {
        Ok(mut current) => {
            std::mem::swap(&mut *current, request);
            true
        }
        Err(_) => false,
    })
}

/// Whether this thread is polling a request's future (or starting it) right now:
/// a request middleware called from inside another one's request (a layer on a
/// nested router as well as on the outer one) only forwards, so it is counted once.
#[inline]
pub(crate) fn is_current() -> bool {
    CURRENT.with(|current| matches!(current.try_borrow().as_deref(), Ok(Some(_))))
}

#[inline]
pub(super) fn enter_current(handler: &'static str, responds: bool) -> Call {
    CURRENT.with(|current| {
        let Ok(mut current) = current.try_borrow_mut() else {
            return Call::ALONE;
        };
        let Some(request) = current.as_mut() else {
            return Call::ALONE;
        };
        // Laid out of the way of a call outside any request.
        cold();
        let depth = request.depth;
        request.depth = depth.saturating_add(1);
        if depth == 0 && responds && request.name(handler) {
            Call(request.id | 1)
        } else {
            // Bit 1 when it carries label values: one `Call` either way.
            Call(request.id | usize::from(!request.values.is_none()) << 1)
        }
    })
}

// Marks the path that calls it as the unlikely one, for the code's layout (the
// stable form of `std::hint::cold_path`, which needs Rust 1.95).
#[cold]
#[inline(always)]
fn cold() {}

#[inline]
pub(super) fn leave_current(call: Call) {
    CURRENT.with(|current| {
        if let Ok(mut current) = current.try_borrow_mut()
            && let Some(request) = current.as_mut()
            // Finished under another request (a future moved between requests):
            // that one's depth is not this call's to change.
            && request.id == call.0 & !3
        {
            request.depth = request.depth.saturating_sub(1);
        }
    });
}

/// The request label values of the request this thread serves (`NONE` outside
/// one): what a tracked call that does not name it counts with.
#[cold]
pub(crate) fn current_labels() -> LabelSet {
    CURRENT
        .try_with(|current| match current.try_borrow().as_deref() {
            Ok(Some(request)) => request.values,
            _ => LabelSet::NONE,
        })
        .unwrap_or(LabelSet::NONE)
}

/// Sets the value of the request label `label` (declared with
/// [`Config::label`](crate::Config::label)) for the request being served: code that
/// learns the value after the request arrived (an authentication layer inside the
/// request middleware, the handler) hands it over. The request is counted and timed
/// with the last value set; it stays in flight with the value it arrived with.
/// Tracked calls that start afterwards while the request is served carry it too.
/// The label's bound applies as to any value (`_other` past it; an empty value is
/// `""`).
///
/// Returns whether it was set: `false` outside a request the middleware serves
/// (a spawned task, no middleware), for a label that is not declared, or when
/// metrics are disabled.
///
/// ```
/// use track_metrics::set_label;
///
/// async fn orders(/* an authenticated user */) -> &'static str {
///     set_label("tenant", "acme");
///     "orders"
/// }
/// // Outside a request served by the middleware it does nothing.
/// assert!(!set_label("tenant", "acme"));
/// ```
pub fn set_label(label: &str, value: &str) -> bool {
    if !crate::enabled() {
        return false;
    }
    let Some(labels) = crate::registry::request_labels() else {
        return false;
    };
    let Some(index) = labels.index_of(label) else {
        return false;
    };
    CURRENT
        .try_with(|current| {
            let Ok(mut current) = current.try_borrow_mut() else {
                return false;
            };
            let Some(request) = current.as_mut() else {
                return false;
            };
            request.values = labels.with_value(request.values, index, value.as_bytes());
            true
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::super::{enter, leave};
    use super::*;

    #[test]
    fn the_first_outer_responding_call_names_the_request() {
        let start = crate::registry::series_of("", "GET", "/unit/request");
        start.enter();
        let mut current = Some(Request::new("GET", Start::Routed(start), LabelSet::NONE, None).0);
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
        assert_eq!(request.depth, 0);
        in_flight.leave();
    }

    #[cfg(feature = "actix")]
    #[test]
    fn a_request_named_before_its_route_is_known_moves_once_it_is() {
        let mut request = Request::new("PUT", Start::Unrouted, LabelSet::NONE, None).0;
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
    fn a_request_expected_left_out_is_in_flight_and_counted_where_it_went() {
        let in_flight_of = |series: &'static Series| series.read(&mut Vec::new()).in_flight;
        let mut request = Request::new("OPTIONS", Start::Excluded, LabelSet::NONE, None).0;
        assert!(request.finished().is_none());
        request.route("/unit/expected-out/left-out", true);
        assert!(request.finished().is_none());
        // Not left out after all: in flight there from now, to be counted there.
        request.route("/unit/expected-out/kept", false);
        let (counted, in_flight) = request.finished().unwrap();
        assert!(std::ptr::eq(counted, in_flight));
        assert_eq!(
            (counted.handler(), counted.method(), counted.route()),
            ("", "OPTIONS", "/unit/expected-out/kept")
        );
        assert_eq!(in_flight_of(in_flight), 1);
        // Left out after all: out of flight, nothing to count.
        request.route("/unit/expected-out/left-out", true);
        assert!(request.finished().is_none());
        assert_eq!(in_flight_of(in_flight), 0);
    }

    #[test]
    fn outside_a_request_calls_are_alone() {
        assert_eq!(enter("x", true).0, 0);
        let mut other = Some(Request::new("GET", Start::Excluded, LabelSet::NONE, None).0);
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
