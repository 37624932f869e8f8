//! What a request middleware does with the request it serves, whatever the framework:
//! it labels its method, makes the request current while it polls the request's future
//! ([`Served`]), and records it once, when the response is ready or the future
//! is dropped ([`Recording`]).

use std::collections::HashSet;
use std::sync::Arc;

use crate::request::{self, Request};
use crate::series::Series;

/// The `method` label of a request: one of the nine standard methods, else `_OTHER`,
/// so that no request can add a label value.
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
        _ => "_OTHER",
    }
}

/// The routes a middleware leaves out (`exclude`), by pattern; checked once a request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Excluded(HashSet<String, foldhash::fast::RandomState>);

impl Excluded {
    /// Leaves out `route` too.
    pub(crate) fn insert(&mut self, route: String) {
        self.0.insert(route);
    }

    /// Whether no route is left out.
    #[cfg(feature = "axum")]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `route` is left out.
    #[inline]
    pub(crate) fn contains(&self, route: &str) -> bool {
        !self.0.is_empty() && self.0.contains(route)
    }
}

/// A middleware's hold on a request it records: in flight from its start, and counted
/// and timed once, when finished with the response's status, or when dropped (`500`
/// while panicking, `499` otherwise, as for a tracked call).
pub(crate) struct Recording {
    request: Arc<Request>,
    start: u64,
    finished: bool,
}

impl Recording {
    /// Starts the clock and puts the request in flight in `series` (where
    /// `Request::new` said it starts); `None` for a route left out.
    pub(crate) fn start(
        request: &Arc<Request>,
        series: Option<&'static Series>,
    ) -> Option<Recording> {
        let series = series?;
        let start = series.now();
        series.enter();
        Some(Recording {
            request: Arc::clone(request),
            start,
            finished: false,
        })
    }

    /// The request recorded.
    #[cfg(feature = "actix")]
    pub(crate) fn request(&self) -> &Request {
        &self.request
    }

    /// Records the request with the status it was answered with, under what the request
    /// knows of its labels by now, its route `route` if given (see `Request::finish`);
    /// returns the series it was counted in, `None` when left out.
    pub(crate) fn finish(
        mut self,
        status: u16,
        route: Option<(&str, bool)>,
    ) -> Option<&'static Series> {
        self.finished = true;
        self.record(status, route)
    }

    fn record(&self, status: u16, route: Option<(&str, bool)>) -> Option<&'static Series> {
        let (counted, in_flight) = self.request.finish(route)?;
        counted.record(status, self.start, in_flight);
        Some(counted)
    }
}

/// A request a middleware serves, as its response future holds it: the request while
/// the future is not being polled, and its recording until it is recorded.
pub(crate) struct Served {
    current: Option<Arc<Request>>,
    // `None` once recorded, or for a route left out.
    recording: Option<Recording>,
}

impl Served {
    /// Starts serving `request`: in flight in `in_flight` (where `Request::new` said it
    /// starts; `None` for a route left out).
    pub(crate) fn start(request: Arc<Request>, in_flight: Option<&'static Series>) -> Served {
        let recording = Recording::start(&request, in_flight);
        Served {
            current: Some(request),
            recording,
        }
    }

    /// Runs `f` (the call of the inner service) with the request current.
    pub(crate) fn within<R>(&mut self, f: impl FnOnce() -> R) -> R {
        request::within(&mut self.current, f)
    }

    /// Runs `poll` (a poll of the request's future) with the request current. A panic
    /// unwinding through it drops the recording while the thread panics, so that it
    /// counts `500`, after `on_unwind` has seen it (to tell the request its route). (The
    /// future itself is only dropped later, once the panic has been caught, when the
    /// thread no longer panics.)
    pub(crate) fn poll<R>(
        &mut self,
        on_unwind: impl FnOnce(&Recording),
        poll: impl FnOnce() -> R,
    ) -> R {
        struct OnUnwind<'a, F: FnOnce(&Recording)> {
            recording: &'a mut Option<Recording>,
            on_unwind: Option<F>,
        }
        impl<F: FnOnce(&Recording)> Drop for OnUnwind<'_, F> {
            fn drop(&mut self) {
                if let Some(on_unwind) = self.on_unwind.take()
                    && std::thread::panicking()
                    && let Some(recording) = self.recording.take()
                {
                    on_unwind(&recording);
                    drop(recording);
                }
            }
        }
        let mut guard = OnUnwind {
            recording: &mut self.recording,
            on_unwind: Some(on_unwind),
        };
        let out = request::within(&mut self.current, poll);
        // Returned: not unwinding.
        guard.on_unwind = None;
        out
    }

    /// The recording, until it is taken.
    #[cfg(feature = "actix")]
    pub(crate) fn recording(&self) -> Option<&Recording> {
        self.recording.as_ref()
    }

    /// Takes the recording, to finish it with the response.
    pub(crate) fn take(&mut self) -> Option<Recording> {
        self.recording.take()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if !self.finished {
            let _ = self.record(crate::site::unfinished(), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::method_label;

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
