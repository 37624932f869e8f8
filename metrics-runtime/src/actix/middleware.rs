//! `RequestMetrics`: every request an actix-web app answers, counted once with the route
//! actix matched and the status it sent.
//!
//! The shape of actix-web's own `Logger`: a `Transform` users `wrap` (the builder), the
//! `Service` it makes, and the response future, which records in exactly one place (its
//! completion, or its drop through the [`Served`] it holds).

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use pin_project_lite::pin_project;

use super::route_cache::Routes;
use crate::recording::{self, Excluded, Served};
use crate::request::Start;
use crate::request::{self, Request};
use crate::series::Series;

/// An actix-web middleware that counts every request the app answers, once: in
/// `http_requests_total` with the status actix sends, timed into
/// `http_request_duration_seconds` and in flight in `http_requests_in_flight`.
///
/// | label | value |
/// |---|---|
/// | `route` | the full pattern actix matched, scope prefixes included (`/api/users/{id}`), also for `.route(..)` and `web::resource(..)`; `""` when no route matched |
/// | `method` | the request's method if it is one of the nine standard ones, else `_OTHER` |
/// | `status` | the status of the response actix sends (extractor rejections, 404, 405, `Either`, `Redirect`, errors of inner middleware); a panic counts `500` and keeps unwinding; a request dropped before its response (client gone, timeout) `499` |
/// | `handler` | the `name` of the `#[track_metrics]` handler that answered, `""` when none did |
///
/// The duration runs from the middleware receiving the request until the response is
/// ready: routing, extractors, inner middleware and the handler, not the streaming of
/// the body. Wrap it outermost, so that it sees what other middleware answer.
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
    /// handler answering them records nothing either.
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
                inner: self.service.call(req),
                state: None,
            };
        }
        let method = recording::method_label(req.method().as_str());
        // Not routed yet: the route its path took last time on this worker, if any.
        let (start, unrouted) = self.routes.start(&req, method);
        let expected = match start {
            Start::Routed(series) => Some(series),
            Start::Unrouted | Start::Excluded => None,
        };
        let (request, in_flight) = Request::new(method, start);
        let mut served = Served::start(request, in_flight);
        // Routing and inner middleware run here already, with the request current.
        let inner = served.within(|| self.service.call(req));
        RequestMetricsFuture {
            inner,
            state: Some(State {
                served,
                method,
                unrouted,
                expected,
                routes: Rc::clone(&self.routes),
            }),
        }
    }
}

pin_project! {
    /// The response future of [`RequestMetricsMiddleware`]: the app's, with the request
    /// current while it is polled; records the request when it completes or is dropped.
    pub struct RequestMetricsFuture<F> {
        #[pin]
        inner: F,
        // `None` when metrics are disabled.
        state: Option<State>,
    }
}

struct State {
    served: Served,
    method: &'static str,
    // The path of a request whose route was not known when it started.
    unrouted: Option<Box<str>>,
    // Where it started, when its route was known.
    expected: Option<&'static Series>,
    routes: Rc<Routes>,
}

impl<F, B> Future for RequestMetricsFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        let Some(state) = this.state else {
            return inner.poll(cx);
        };
        // A panic in the app counts 500, under the request's route if it can be known.
        let unrouted = &mut state.unrouted;
        let routes = &state.routes;
        let poll = state.served.poll(
            |served| route_unrouted(served, unrouted, routes),
            || inner.poll(cx),
        );
        let Poll::Ready(out) = poll else {
            // It waits: in flight for a while, so under its route from now on.
            if state.served.is_recording() {
                route_unrouted(&mut state.served, &mut state.unrouted, &state.routes);
            }
            return Poll::Pending;
        };
        if state.served.is_recording() {
            match &out {
                Ok(res) => {
                    // Where actix routed it, kept in the request: no matching again.
                    let route = res.request().match_pattern();
                    let route = route.as_deref().unwrap_or("");
                    let excluded = state.routes.excluded(route);
                    let counted = state
                        .served
                        .finish(res.status().as_u16(), Some((route, excluded)));
                    state
                        .routes
                        .answered(res.request(), state.method, state.expected, counted);
                }
                Err(err) => {
                    route_unrouted(&mut state.served, &mut state.unrouted, &state.routes);
                    let _ = state
                        .served
                        .finish(err.error_response().status().as_u16(), None);
                }
            }
        }
        Poll::Ready(out)
    }
}

impl Drop for State {
    // Dropped before it was answered (the client went away, a timeout): counted 499,
    // under its route if it can be known.
    fn drop(&mut self) {
        if self.served.is_recording() {
            route_unrouted(&mut self.served, &mut self.unrouted, &self.routes);
        }
    }
}

// A request whose route was not known at its start: matched now, once (`unrouted` is
// then emptied).
fn route_unrouted(served: &mut Served, unrouted: &mut Option<Box<str>>, routes: &Routes) {
    if let Some(path) = unrouted
        && let Some(route) = routes.resolve(path)
    {
        served.route(&route, routes.excluded(&route));
        *unrouted = None;
    }
}
