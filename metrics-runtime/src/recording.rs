//! What a request middleware does with the request it serves, whatever the framework:
//! it makes the request current while it polls the request's future ([`within`]) and
//! records it once, when the response is ready or the future is dropped ([`Recording`]).

use std::sync::Arc;

use crate::request::Request;
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

/// A middleware's hold on a request it records: in flight from its start, and counted
/// and timed once, when finished with the response's status, or when dropped (`500`
/// while panicking, `499` otherwise, as for a tracked call).
pub(crate) struct Recording {
    request: Arc<Request>,
    series: &'static Series,
    start: u64,
    finished: bool,
}

impl Recording {
    /// Starts the clock and puts the request in flight; `None` for a route left out.
    pub(crate) fn start(request: &Arc<Request>) -> Option<Recording> {
        let series = request.start()?;
        let start = series.now();
        series.enter();
        Some(Recording {
            request: Arc::clone(request),
            series,
            start,
            finished: false,
        })
    }

    /// Records the request with the status it was answered with; `route`: the pattern
    /// the framework matched, when it is known by now (else the route known at the
    /// start is kept).
    pub(crate) fn finish(mut self, status: u16, route: Option<&str>) {
        self.finished = true;
        self.record(status, route);
    }

    fn record(&self, status: u16, route: Option<&str>) {
        let Some(in_flight) = self.request.in_flight() else {
            return;
        };
        let route = route.unwrap_or(self.series.route());
        let counted = Series::of(self.request.handler(), self.series.method(), route);
        counted.record(status, self.start, in_flight);
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if !self.finished {
            self.record(crate::site::unfinished(), None);
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
