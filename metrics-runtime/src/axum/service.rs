//! The `Service` [`RequestMetricsLayer`](super::RequestMetricsLayer) wraps around each
//! route (and the fallback) of a router.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use axum::http::{Request, Response};
use tower_service::Service;

use super::RequestMetricsFuture;
use crate::recording::{self, Served};
use crate::request::{self, Start};
use crate::series::Series;

/// The service [`RequestMetricsLayer`](super::RequestMetricsLayer) makes: the inner
/// one, with every request it serves recorded once.
#[derive(Clone, Debug)]
pub struct RequestMetricsService<S> {
    inner: S,
    exclude: Arc<HashSet<String>>,
    answered: Arc<Answered>,
}

/// The series of the tracked handler that answered a request of this service first, by
/// method: where the next one starts in flight, so that naming it moves nothing.
/// (`Router::layer` makes a service per route and method, so this is that route's.)
#[derive(Default)]
pub(super) struct Answered([OnceLock<&'static Series>; recording::METHODS.len()]);

impl std::fmt::Debug for Answered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let handlers = self
            .0
            .iter()
            .map(|slot| slot.get().map(|series| series.handler()));
        f.debug_list().entries(handlers).finish()
    }
}

impl Answered {
    /// The series to count a request in, at its start: the handler's that answered
    /// before, else the route's with no handler.
    fn start(&self, slot: usize, method: &'static str, route: &str) -> &'static Series {
        match self.0[slot].get() {
            Some(series) if series.route() == route => series,
            _ => Series::of("", method, route),
        }
    }

    /// A request of `slot` was counted in `series`.
    pub(super) fn answered(&self, slot: usize, series: &'static Series) {
        if !series.handler().is_empty() {
            let _ = self.0[slot].set(series);
        }
    }

    fn knows(&self, slot: usize) -> bool {
        self.0[slot].get().is_some()
    }
}

impl<S> RequestMetricsService<S> {
    pub(super) fn new(inner: S, exclude: Arc<HashSet<String>>) -> RequestMetricsService<S> {
        RequestMetricsService {
            inner,
            exclude,
            answered: Arc::default(),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequestMetricsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = RequestMetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // Off, or inside a request another layer counts already.
        if !crate::enabled() || request::is_current() {
            return RequestMetricsFuture::forward(self.inner.call(req));
        }
        let method = recording::method_label(req.method().as_str());
        // Matched before the route's service (this one, under `Router::layer`) is called.
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("", MatchedPath::as_str);
        let slot = recording::method_index(method);
        let start = if self.exclude.contains(route) {
            Start::Excluded
        } else {
            Start::Routed(self.answered.start(slot, method, route))
        };
        let (request, in_flight) = request::Request::new(method, start);
        let mut served = Served::start(request, in_flight);
        // Told who answered until a tracked handler has.
        let learn = (!self.answered.knows(slot)).then(|| (Arc::clone(&self.answered), slot));
        // Inner layers may run here already, with the request current.
        let inner = served.within(|| self.inner.call(req));
        RequestMetricsFuture::recorded(inner, served, learn)
    }
}
