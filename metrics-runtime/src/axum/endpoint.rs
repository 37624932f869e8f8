//! The axum `/metrics` handler.

use axum::body::Body;
use axum::http::header::{ACCEPT, AUTHORIZATION};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};

use crate::registry::Scrape;

/// Serves the registry: `Router::route("/metrics", get(track_metrics::axum::metrics))`
/// (at any path).
///
/// Answers `200` with [`CONTENT_TYPE`](crate::CONTENT_TYPE); `404` when metrics are
/// disabled (`PROMETHEUS_ENABLED=false`); `401` without `Authorization: Bearer <token>`
/// when `METRICS_TOKEN` is set; `500` with a one-line reason if encoding fails.
///
/// ```
/// use axum::{Router, routing::get};
///
/// let app: Router = Router::new().route("/metrics", get(track_metrics::axum::metrics));
/// ```
pub async fn metrics(headers: HeaderMap) -> Response<Body> {
    let authorization = headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
    let accept = headers.get(ACCEPT).map(HeaderValue::as_bytes);
    let (status, header, body) = Scrape::answer(authorization, accept).into_parts();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some((name, value)) = header {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}
