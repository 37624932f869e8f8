//! The `Layer` users add to a `Router`, and its options.

use std::sync::Arc;

use tower_layer::Layer;

use super::RequestMetricsService;
use crate::recording::Excluded;

/// A tower `Layer` that counts every request an axum `Router` answers, once: in
/// `http_requests_total` with the status of the response, timed into
/// `http_request_duration_seconds` and in flight in `http_requests_in_flight`.
///
/// | label | value |
/// |---|---|
/// | `route` | the route axum matched (`MatchedPath`), the prefixes of `Router::nest` included (`/api/users/{id}`); `""` for the fallback (no route matched) |
/// | `method` | the request's method if it is one of the nine standard ones, else `_OTHER` |
/// | `status` | the status of the response (extractor rejections: 400, 415, 422; 405; errors turned into responses); a panic counts `500` and keeps unwinding; a request dropped before its response (client gone, timeout) `499` |
/// | `handler` | the `name` of the `#[track_metrics]` handler that answered, `""` when none did |
///
/// Add it with [`Router::layer`](https://docs.rs/axum/0.8/axum/struct.Router.html#method.layer),
/// after the routes and nested routers it should see (a layer wraps what is added
/// before it), so that it also wraps the fallback: then every request is counted.
/// `Router::route_layer` works too, but sees only requests that matched a route (not
/// the fallback's 404s). Outside the router (`ServiceBuilder`, around
/// `Router::into_service`, a plain hyper or tonic service) it counts every request too,
/// but cannot see a matched route: `route` is `""`. A layer inside another one (on a
/// nested router as well as on the outer) only forwards: each request is counted once.
///
/// The duration runs from the layer receiving the request until the response is
/// ready: extractors, inner layers and the handler, not the streaming of the body.
///
/// A tracked handler under the layer records nothing of its own: its name joins the
/// request's series. The call that names a request is the first tracked call that
/// starts while the request is served, is not inside another tracked call, and returns
/// a response (an axum `IntoResponse`; a handler's value always is). Every other
/// tracked call, a database helper say, counts on its own, as does one in a task the
/// handler spawns.
///
/// When metrics are disabled the layer only forwards (one relaxed load) and registers
/// nothing. It never changes the response.
///
/// ```
/// use axum::{Router, routing::get};
/// use track_metrics::axum::RequestMetricsLayer;
///
/// let app: Router = Router::new()
///     .route("/items/{id}", get(|| async { "item" }))
///     .route("/health", get(|| async { "ok" }))
///     .layer(RequestMetricsLayer::new().exclude("/health"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestMetricsLayer {
    exclude: Arc<Excluded>,
}

impl RequestMetricsLayer {
    /// The layer, counting every route.
    pub fn new() -> RequestMetricsLayer {
        RequestMetricsLayer::default()
    }

    /// Leaves out the requests whose route is this pattern, as axum matched it
    /// (`"/health"`, `"/api/users/{id}"`): nothing is recorded for them, and a tracked
    /// handler answering them records nothing either.
    #[must_use]
    pub fn exclude(mut self, route: impl Into<String>) -> RequestMetricsLayer {
        Arc::make_mut(&mut self.exclude).insert(route.into());
        self
    }
}

impl<S> Layer<S> for RequestMetricsLayer {
    type Service = RequestMetricsService<S>;

    fn layer(&self, inner: S) -> RequestMetricsService<S> {
        let exclude = (!self.exclude.is_empty()).then(|| Arc::clone(&self.exclude));
        RequestMetricsService::new(inner, exclude)
    }
}
