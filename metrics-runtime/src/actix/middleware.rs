//! `RequestMetrics`: every request an actix-web app answers, counted once with the route
//! actix matched and the status it sent.
//!
//! The shape of actix-web's own `Logger`: a `Transform` users `wrap` (the builder), the
//! `Service` it makes, and the response future, which records in exactly one place (its
//! completion, or its drop through the [`Recording`] it holds).

use std::collections::HashSet;
use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::Error;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use pin_project_lite::pin_project;

use crate::recording::{self, Recording};
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
/// use metrics_runtime::actix::RequestMetrics;
///
/// # async fn items() -> HttpResponse { HttpResponse::Ok().finish() }
/// let app = App::new()
///     .wrap(RequestMetrics::default().exclude("/health"))
///     .route("/items/{id}", web::get().to(items))
///     .route("/health", web::get().to(HttpResponse::Ok));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestMetrics {
    exclude: Arc<HashSet<String>>,
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
            exclude: Arc::clone(&self.exclude),
        }))
    }
}

/// The service [`RequestMetrics`] wraps around an app.
pub struct RequestMetricsMiddleware<S> {
    service: S,
    exclude: Arc<HashSet<String>>,
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
        if !crate::enabled() {
            return RequestMetricsFuture {
                inner: self.service.call(req),
                state: None,
            };
        }
        let method = recording::method_label(req.method().as_str());
        // Not routed yet: actix looks the pattern up from the path. The response's
        // request says, after routing, what actix really matched.
        let route = req.match_pattern();
        let route = route.as_deref().unwrap_or("");
        let excluded = !self.exclude.is_empty() && self.exclude.contains(route);
        let start = (!excluded).then(|| Series::of("", method, route));
        let mut current = Some(Request::new(start));
        let recording = current.as_ref().and_then(Recording::start);
        // Routing and inner middleware run here already, with the request current.
        let inner = request::within(&mut current, || self.service.call(req));
        RequestMetricsFuture {
            inner,
            state: Some(State { current, recording }),
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
    // The request, while the future is not being polled.
    current: Option<Arc<Request>>,
    // `None` once recorded, or for a route left out.
    recording: Option<Recording>,
}

impl<F, B> Future for RequestMetricsFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        let Some(State { current, recording }) = this.state else {
            return inner.poll(cx);
        };
        let poll = {
            // A panic in the app unwinds through this poll: the recording is dropped
            // while unwinding and counts 500. (The future itself is only dropped later,
            // once the panic has been caught.)
            let _on_unwind = DropOnUnwind(recording);
            request::within(current, || inner.poll(cx))
        };
        let Poll::Ready(out) = poll else {
            return Poll::Pending;
        };
        if let Some(recording) = recording.take() {
            match &out {
                Ok(res) => recording.finish(
                    res.status().as_u16(),
                    Some(res.request().match_pattern().as_deref().unwrap_or("")),
                ),
                Err(err) => recording.finish(err.error_response().status().as_u16(), None),
            }
        }
        Poll::Ready(out)
    }
}

// Drops the recording if dropped itself while the thread panics.
struct DropOnUnwind<'a>(&'a mut Option<Recording>);

impl Drop for DropOnUnwind<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            drop(self.0.take());
        }
    }
}
