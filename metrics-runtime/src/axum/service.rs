//! The `Service` [`RequestMetricsLayer`](super::RequestMetricsLayer) wraps around each
//! route (and the fallback) of a router.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use axum::http::header::{CONTENT_TYPE, FORWARDED};
use axum::http::{HeaderName, Request, Response};
use tower_service::Service;

// The W3C trace context header: a sampled trace becomes the exemplar of the
// request's bucket.
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
// A proxy's scheme header (http has no constant of it).
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

use super::RequestMetricsFuture;
use crate::config::label::{Header, Source};
use crate::families::otel::{Variant, Version};
use crate::recording::headers::first;
use crate::recording::request::{self, Start};
use crate::recording::{self, Excluded, Served, rpc};
use crate::registry::LabelSet;

/// The service [`RequestMetricsLayer`](super::RequestMetricsLayer) makes: the inner
/// one, with every request it serves recorded once.
#[derive(Clone, Debug)]
pub struct RequestMetricsService<S> {
    inner: S,
    // axum clones the service for every request: `None` when nothing is left out, so
    // that a clone touches no shared count.
    exclude: Option<Arc<Excluded>>,
}

impl<S> RequestMetricsService<S> {
    pub(super) fn new(inner: S, exclude: Option<Arc<Excluded>>) -> RequestMetricsService<S> {
        RequestMetricsService { inner, exclude }
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
        // Off, inside a request another layer counts already, or a gRPC request (the
        // gRPC layer's to count).
        let content_type = req.headers().get(CONTENT_TYPE);
        if !crate::enabled()
            || request::is_current()
            || rpc::is_grpc(content_type.map(|value| value.as_bytes()))
        {
            return RequestMetricsFuture::forward(self.inner.call(req));
        }
        let method = recording::method_label(req.method().as_str());
        // Matched before the route's service (this one, under `Router::layer`) is called.
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("", MatchedPath::as_str);
        let excluded = self
            .exclude
            .as_ref()
            .is_some_and(|exclude| exclude.contains(route));
        let (start, expected) = if excluded {
            (Start::Excluded, None)
        } else {
            let expected = crate::registry::expected(method, route);
            (Start::Routed(expected), Some(expected))
        };
        let (labels, req) = arrival_labels(req);
        let otel = crate::registry::otel_families().map(|_| otel(&req));
        let (request, in_flight) = request::Request::new(method, start, labels, otel);
        let trace = Served::trace_of(req.headers().get(TRACEPARENT).map(|v| v.as_bytes()));
        let mut served = Served::start(request, in_flight, trace);
        // Inner layers may run here already, with the request current.
        let inner = served.within(|| self.inner.call(req));
        RequestMetricsFuture::recorded(inner, served, expected)
    }
}

// The request labels' values of `req` as it arrives: headers read in place; a closure
// over the request's head gets it, the request taken apart and put together again.
fn arrival_labels<B>(req: Request<B>) -> (LabelSet, Request<B>) {
    let Some(labels) = crate::registry::request_labels() else {
        return (LabelSet::NONE, req);
    };
    if !labels.has_axum_closure() {
        let set = labels.arrival(|source| match source {
            Source::Header(header) => header_value(req.headers(), header),
            _ => None,
        });
        return (set, req);
    }
    let (parts, body) = req.into_parts();
    let set = labels.arrival(|source| match source {
        Source::Header(header) => header_value(&parts.headers, header),
        Source::Axum(value) => value(&parts).map(str::as_bytes),
        #[allow(unreachable_patterns)]
        _ => None,
    });
    (set, Request::from_parts(parts, body))
}

// The request's part in the OpenTelemetry naming: `https` when a proxy's header says so,
// else when its URI does (an HTTP/2 request's `:scheme`, an absolute-form target), else
// when the configuration does (`Config::default_scheme`).
fn otel<B>(req: &Request<B>) -> Variant {
    use axum::http::Version as V;
    let headers = req.headers();
    let version = match req.version() {
        V::HTTP_09 | V::HTTP_10 => Version::Http10,
        V::HTTP_2 => Version::Http2,
        V::HTTP_3 => Version::Http3,
        _ => Version::Http11,
    };
    recording::otel::variant(
        match req.uri().scheme_str() {
            Some(scheme) => scheme.eq_ignore_ascii_case("https"),
            None => crate::registry::default_https(),
        },
        first(headers, &FORWARDED).map(|value| value.as_bytes()),
        first(headers, &X_FORWARDED_PROTO).map(|value| value.as_bytes()),
        version,
    )
}

// The first value of `header` in `headers`, by the name parsed once.
fn header_value<'h>(headers: &'h axum::http::HeaderMap, header: &Header) -> Option<&'h [u8]> {
    let name = header.axum.as_ref()?;
    first(headers, name).map(|value| value.as_bytes())
}
