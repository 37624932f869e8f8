//! `RequestMetrics`: every request an actix-web app answers, counted once with the route
//! actix matched and the status it sent.
//!
//! The shape of actix-web's own `Logger`: a `Transform` users `wrap` (the builder), the
//! `Service` it makes, and the response future: the recording layer's one response
//! future ([`Recorded`], shared with axum), with what actix needs on the way
//! ([`Routed`]: the route of a request not routed at its start).

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{FORWARDED, HeaderName, X_FORWARDED_PROTO};
use pin_project_lite::pin_project;

// The W3C trace context header: a sampled trace becomes the exemplar of the
// request's bucket.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

use super::matched::matched_route;
use super::route_cache::Routes;
use crate::config::label::Source;
use crate::families::otel::Version;
use crate::recording::request::Start;
use crate::recording::request::{self, Request};
use crate::recording::{self, Excluded, Hooks, OnResponse, Recorded, Served};
use crate::registry::LabelSet;
use crate::storage::Series;

/// An actix-web middleware that counts every request the app answers, once: in
/// `http_requests_total` with the status actix sends, timed into
/// `http_request_duration_seconds` and in flight in `http_requests_in_flight`.
///
/// | label | value |
/// |---|---|
/// | `route` | the full pattern actix matched, scope prefixes included (`/api/users/{id}`), also for `.route(..)` and `web::resource(..)`; `""` when no route matched, also when a route's path matched but its guards refused the request (a `#[get]` route hit with POST, scopes told apart by a header): a 404 of a default service |
/// | `method` | the request's method if it is one of the nine standard ones, else `_OTHER` |
/// | `status` | the status of the response actix sends (extractor rejections, 404, 405, `Either`, `Redirect`, errors of inner middleware); a panic counts `500` and keeps unwinding; a request dropped before its response (client gone, timeout) `499` |
/// | `handler` | the `name` of the `#[track_metrics]` handler that answered, `""` when none did |
///
/// The duration runs from the middleware receiving the request until the response is
/// ready: routing, extractors, inner middleware and the handler, not the streaming of
/// the body. Wrap it outermost, so that it sees what other middleware answer; an answer
/// of a middleware inside it, before routing is done (an auth 401), counts under the
/// route the request's path leads to.
///
/// In flight: a request is in flight from the moment the middleware receives it, in
/// one series, and moves with what is learnt of it (its route, the tracked handler
/// that names it), so a route shows one series per handler that answered it. Before
/// actix has routed it, that is a guess (the route its method and path took last on
/// this worker, else `route=""` until it waits), and the route it took decides where it
/// is counted and whether it is left out. A path whose route depends on more than the
/// path (guards on headers) can be in flight under the route it took last time until it
/// is answered.
///
/// A tracked handler under the middleware records nothing of its own: its name joins
/// the request's series. The call that names a request is the first tracked call that
/// starts while the request is served, is not inside another tracked call, and returns
/// a response (an actix-web `Responder`; a handler's value always is). Every other
/// tracked call, a database helper say, counts on its own. A tracked call in a task
/// spawned from the handler (`actix_web::rt::spawn`, `web::block`) runs outside the
/// request and counts on its own.
///
/// When metrics are disabled the middleware only forwards (one relaxed load) and
/// registers nothing. It never changes the response.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use track_metrics::actix::RequestMetrics;
///
/// # async fn items() -> HttpResponse { HttpResponse::Ok().finish() }
/// let app = App::new()
///     .wrap(RequestMetrics::default().exclude("/health"))
///     .route("/items/{id}", web::get().to(items))
///     .route("/health", web::get().to(HttpResponse::Ok));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestMetrics {
    exclude: Arc<Excluded>,
}

impl RequestMetrics {
    /// The middleware, counting every route.
    pub fn new() -> RequestMetrics {
        RequestMetrics::default()
    }

    /// Leaves out the requests whose route is this pattern, as registered
    /// (`"/health"`, `"/api/users/{id}"`): nothing is recorded for them, and a tracked
    /// handler answering them records nothing either. The route the request took
    /// decides, not its path: `exclude("/metrics")` with the endpoint mounted at
    /// `/internal/metrics` still counts a request to `/metrics` (under `route=""`, a
    /// 404), whatever the worker served before.
    #[must_use]
    pub fn exclude(mut self, route: impl Into<String>) -> RequestMetrics {
        Arc::make_mut(&mut self.exclude).insert(route.into());
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestMetrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RequestMetricsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<RequestMetricsMiddleware<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestMetricsMiddleware {
            service,
            routes: Rc::new(Routes::new(Arc::clone(&self.exclude))),
        }))
    }
}

/// The service [`RequestMetrics`] wraps around an app (one per worker).
pub struct RequestMetricsMiddleware<S> {
    service: S,
    routes: Rc<Routes>,
}

impl<S, B> Service<ServiceRequest> for RequestMetricsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = RequestMetricsFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // Off, or inside a request another `RequestMetrics` counts already.
        if !crate::enabled() || request::is_current() {
            return RequestMetricsFuture {
                inner: Recorded::forward(self.service.call(req)),
            };
        }
        let method = recording::method_label(req.method().as_str());
        // Not routed yet: the route its path took last time on this worker, if any.
        let (start, unrouted) = self.routes.start(&req, method);
        let expected = match start {
            Start::Routed(series) => Some(series),
            Start::Unrouted | Start::Excluded => None,
        };
        let labels = crate::registry::request_labels().map_or(LabelSet::NONE, |labels| {
            labels.arrival(|source| match source {
                Source::Header(header) => header_value(req.headers(), header),
                Source::Actix(value) => value(&req).map(str::as_bytes),
                #[cfg(feature = "axum")]
                Source::Axum(_) => None,
            })
        });
        let otel = crate::registry::otel_families().map(|_| {
            let headers = req.headers();
            recording::otel::variant(
                req.app_config().secure(),
                headers.get(FORWARDED).map(|value| value.as_bytes()),
                headers.get(X_FORWARDED_PROTO).map(|value| value.as_bytes()),
                version(req.version()),
            )
        });
        let (request, in_flight) = Request::new(method, start, labels, otel);
        let trace = Served::trace_of(req.headers().get(TRACEPARENT).map(|v| v.as_bytes()));
        let mut served = Served::start(request, in_flight, trace);
        // Routing and inner middleware run here already, with the request current.
        let inner = served.within(|| self.service.call(req));
        let routed = Routed {
            method,
            unrouted,
            expected,
            routes: Rc::clone(&self.routes),
        };
        RequestMetricsFuture {
            inner: Recorded::serving(inner, served, routed),
        }
    }
}

pin_project! {
    /// The response future of [`RequestMetricsMiddleware`]: the app's, with the request
    /// current while it is polled; records the request when it completes or is dropped.
    pub struct RequestMetricsFuture<F> {
        #[pin]
        inner: Recorded<F, Routed>,
    }
}

/// What the middleware does while a request is served: tells it its route once actix
/// has matched it, and records it with the route and status of the response.
struct Routed {
    method: &'static str,
    // The path of a request whose route was not known when it started.
    unrouted: Option<Box<str>>,
    // Where it started, when its route was known.
    expected: Option<&'static Series>,
    routes: Rc<Routes>,
}

impl Routed {
    // A request whose route was not known at its start: matched now, once (`unrouted`
    // is then emptied).
    fn route_unrouted(&mut self, served: &mut Served) {
        if let Some(path) = &self.unrouted
            && let Some(route) = self.routes.resolve(path)
        {
            served.route(&route, self.routes.excluded(&route));
            self.unrouted = None;
        }
    }
}

impl Hooks for Routed {
    // It waits: in flight for a while, so under its route from now on.
    fn pending(&mut self, served: &mut Served) {
        self.route_unrouted(served);
    }

    // A panic in the app counts 500, under the request's route if it can be known.
    fn unwind(&mut self, served: &mut Served) {
        self.route_unrouted(served);
    }

    // Dropped before it was answered (the client went away, a timeout): counted 499,
    // under its route if it can be known.
    fn dropped(&mut self, served: &mut Served) {
        self.route_unrouted(served);
    }
}

impl<B> OnResponse<Result<ServiceResponse<B>, Error>> for Routed {
    fn ready(&mut self, served: &mut Served, out: &Result<ServiceResponse<B>, Error>) {
        match out {
            Ok(res) => {
                // Where actix routed it, kept in the request: no matching again (but
                // for a 404 with path left over, see `matched.rs`).
                let status = res.status().as_u16();
                let route = matched_route(res.request(), status);
                let route = route.as_deref().unwrap_or("");
                let excluded = self.routes.excluded(route);
                let counted = served.finish(status, Some((route, excluded)));
                self.routes
                    .answered(res.request(), self.method, self.expected, counted);
            }
            Err(err) => {
                self.route_unrouted(served);
                let _ = served.finish(err.error_response().status().as_u16(), None);
            }
        }
    }
}

impl<F, B> Future for RequestMetricsFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

// A protocol version as the OpenTelemetry conventions name it (HTTP/0.9 as 1.0).
fn version(version: actix_web::http::Version) -> Version {
    use actix_web::http::Version as V;
    match version {
        V::HTTP_09 | V::HTTP_10 => Version::Http10,
        V::HTTP_2 => Version::Http2,
        V::HTTP_3 => Version::Http3,
        _ => Version::Http11,
    }
}

// The first value of `header` in `headers` (found by the name parsed once).
fn header_value<'h>(
    headers: &'h actix_web::http::header::HeaderMap,
    header: &crate::config::label::Header,
) -> Option<&'h [u8]> {
    let name = header.actix.as_ref()?;
    headers.get(name).map(|value| value.as_bytes())
}
