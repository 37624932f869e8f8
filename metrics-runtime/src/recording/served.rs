//! What a request middleware does with the request it serves, whatever the framework:
//! it labels its method, makes the request current while it polls the request's future
//! and records it once, when the response is ready or the future is dropped
//! ([`Served`]).

use std::collections::HashSet;

use crate::recording::request::{self, Request};
use crate::storage::Series;
use crate::trace::Trace;

/// The `method` label of a request: one of the nine standard methods or of those
/// configured (`Config::known_methods`), else `_OTHER`, so that no request can add a
/// label value.
pub(crate) fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => crate::registry::known_method(method).unwrap_or("_OTHER"),
    }
}

/// The routes a middleware leaves out (`exclude`), by pattern; checked once a request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Excluded {
    routes: HashSet<String, foldhash::fast::RandomState>,
    // Bit `n` set when a route left out is `n` bytes long, modulo 64: most routes are
    // told apart by their length alone, without hashing.
    lengths: u64,
}

impl Excluded {
    /// Leaves out `route` too.
    pub(crate) fn insert(&mut self, route: String) {
        self.lengths |= Excluded::length_bit(&route);
        self.routes.insert(route);
    }

    /// Whether no route is left out.
    #[cfg(feature = "axum")]
    pub(crate) fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Whether `route` is left out.
    #[inline]
    pub(crate) fn contains(&self, route: &str) -> bool {
        self.lengths & Excluded::length_bit(route) != 0 && self.routes.contains(route)
    }

    #[inline]
    fn length_bit(route: &str) -> u64 {
        1 << (route.len() % 64)
    }
}

/// A request a middleware serves, as its response future holds it: the request (while
/// the future is not being polled) and, until it is recorded, the clock's reading at its
/// start. In flight from its start (unless its route is expected to be left out);
/// counted and timed once, when finished with the response's status, or when dropped
/// (`500` while panicking, `499` otherwise, as for a tracked call), under the route it
/// took by then: nothing is recorded if that one is left out.
pub(crate) struct Served {
    // `None` only while a poll has made it this thread's current request.
    current: Option<Request>,
    // `None` once finished (recorded, or left out).
    start: Option<u64>,
    // The sampled trace the request belongs to: its observation becomes an exemplar.
    trace: Option<Trace>,
}

impl Served {
    /// Starts serving `request`: starts the clock and puts it in flight in `in_flight`
    /// (where `Request::new` said it starts; `None` for a route expected to be left out,
    /// which the route it takes may still contradict: the clock runs for it too).
    /// `trace`: the sampled trace of its `traceparent` header, if any (see
    /// [`Served::trace_of`]).
    pub(crate) fn start(
        request: Request,
        in_flight: Option<&'static Series>,
        trace: Option<Trace>,
    ) -> Served {
        // The clock first, then the in-flight count.
        let start = crate::storage::now();
        if let Some(series) = in_flight {
            series.enter();
        }
        Served {
            current: Some(request),
            start: Some(start),
            trace,
        }
    }

    /// The sampled trace of a request's `traceparent` header value, if well formed.
    #[inline]
    pub(crate) fn trace_of(traceparent: Option<&[u8]>) -> Option<Trace> {
        traceparent.and_then(Trace::from_traceparent)
    }

    /// Runs `f` (the call of the inner service) with the request current.
    #[inline]
    pub(crate) fn within<R>(&mut self, f: impl FnOnce() -> R) -> R {
        request::within(&mut self.current, f)
    }

    /// Runs `poll` (a poll of the request's future) with the request current. A panic
    /// unwinding through it records the request while the thread panics, so that it
    /// counts `500`, after `on_unwind` has seen it (to tell the request its route). (The
    /// future itself is only dropped later, once the panic has been caught, when the
    /// thread no longer panics.)
    #[inline]
    pub(crate) fn poll<R>(
        &mut self,
        on_unwind: impl FnOnce(&mut Served),
        poll: impl FnOnce() -> R,
    ) -> R {
        struct OnUnwind<'a, F: FnOnce(&mut Served)> {
            served: &'a mut Served,
            on_unwind: Option<F>,
        }
        impl<F: FnOnce(&mut Served)> Drop for OnUnwind<'_, F> {
            fn drop(&mut self) {
                if let Some(on_unwind) = self.on_unwind.take()
                    && std::thread::panicking()
                    && self.served.is_recording()
                {
                    on_unwind(self.served);
                    let _ = self
                        .served
                        .finish(crate::recording::site::unfinished(), None);
                }
            }
        }
        let mut guard = OnUnwind {
            served: self,
            on_unwind: Some(on_unwind),
        };
        let out = request::within(&mut guard.served.current, poll);
        // Returned: not unwinding.
        guard.on_unwind = None;
        out
    }

    /// Whether the request is still to be finished: recorded, or found left out.
    pub(crate) fn is_recording(&self) -> bool {
        self.start.is_some()
    }

    /// The request's route is `route` (see `Request::route`).
    #[cfg(feature = "actix")]
    pub(crate) fn route(&mut self, route: &str, excluded: bool) {
        if let Some(request) = self.current.as_mut() {
            request.route(route, excluded);
        }
    }

    /// Records the request with the status it was answered with, under what the request
    /// knows of its labels by now, its route `route` if given (see `Request::finish`);
    /// returns the series it was counted in: `None` when left out, or finished already.
    /// Either way the request is finished: nothing more is recorded for it.
    pub(crate) fn finish(
        &mut self,
        status: u16,
        route: Option<(&str, bool)>,
    ) -> Option<&'static Series> {
        let start = self.start.take()?;
        let request = self.current.as_mut()?;
        let series = request.finish(route)?;
        // Where it counts and leaves, with the request labels' values (the route
        // caches keep the series without them: `counted` is returned).
        let (counted, in_flight) = request.with_labels(series, status);
        // The current OpenTelemetry span first (feature `opentelemetry`), else the
        // request's `traceparent`.
        #[cfg(feature = "opentelemetry")]
        let trace = Trace::current().or(self.trace);
        #[cfg(not(feature = "opentelemetry"))]
        let trace = self.trace;
        match trace {
            None => counted.record(status, start, in_flight),
            Some(trace) => counted.record_traced(status, start, in_flight, trace),
        }
        Some(series.0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.finish(crate::recording::site::unfinished(), None);
    }
}

#[cfg(test)]
mod tests {
    use super::{Excluded, Served, method_label};
    use crate::recording::request::{Request, Start};
    use crate::storage::Series;

    // Counted, observed and in flight in `series`.
    fn counts(series: &Series) -> (u64, u64, i64) {
        let mut counted = 0;
        series.statuses(|_, n| counted += n);
        let reading = series.read(&mut Vec::new());
        (counted, reading.count, reading.in_flight)
    }

    #[test]
    fn the_route_taken_decides_whether_a_request_is_recorded() {
        // Expected left out, but it took a route that is not: counted there, once.
        let (request, in_flight) = Request::new(
            "TRACE",
            Start::Excluded,
            crate::registry::LabelSet::NONE,
            None,
        );
        assert!(in_flight.is_none());
        let mut served = Served::start(request, in_flight, None);
        assert!(served.is_recording());
        let counted = served.finish(404, Some(("/unit/served/kept", false)));
        let counted = counted.expect("counted");
        assert_eq!(counted.route(), "/unit/served/kept");
        assert!(!served.is_recording());
        assert!(
            served
                .finish(404, Some(("/unit/served/kept", false)))
                .is_none()
        );
        drop(served);
        assert_eq!(counts(counted), (1, 1, 0));
        // In flight under a route, but it took one left out: nothing, and out of flight.
        let start = crate::registry::series_of("", "TRACE", "/unit/served/expected");
        let (request, in_flight) = Request::new(
            "TRACE",
            Start::Routed(start),
            crate::registry::LabelSet::NONE,
            None,
        );
        let mut served = Served::start(request, in_flight, None);
        assert_eq!(counts(start), (0, 0, 1));
        assert!(
            served
                .finish(200, Some(("/unit/served/out", true)))
                .is_none()
        );
        assert!(!served.is_recording());
        drop(served);
        assert_eq!(counts(start), (0, 0, 0));
    }

    #[test]
    fn excluded_routes() {
        let mut excluded = Excluded::default();
        assert!(!excluded.contains("/metrics"));
        excluded.insert("/metrics".to_owned());
        excluded.insert("/a/{id}".to_owned());
        assert!(excluded.contains("/metrics"));
        assert!(excluded.contains("/a/{id}"));
        // Same length, another route; 64 bytes more, the same bit.
        assert!(!excluded.contains("/metricz"));
        assert!(!excluded.contains(&format!("/metrics{}", "x".repeat(64))));
        assert!(!excluded.contains(""));
    }

    #[test]
    fn methods() {
        for m in [
            "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT",
        ] {
            assert_eq!(method_label(m), m);
        }
        for m in ["get", "PROPFIND", "", "BREW"] {
            assert_eq!(method_label(m), "_OTHER");
        }
    }
}
