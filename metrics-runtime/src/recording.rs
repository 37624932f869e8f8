//! What a request middleware does with the request it serves, whatever the framework:
//! it labels its method, makes the request current while it polls the request's future
//! (`request::within`), and records it once, when the response is ready or the future
//! is dropped ([`Recording`]).

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
