//! The actix-web `/metrics` endpoint.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::registry::Scrape;

/// Serves the registry on `GET /metrics`: mount it with `App::service`.
///
/// Answers `200` with [`CONTENT_TYPE`](crate::CONTENT_TYPE); `404` when metrics are
/// disabled (`PROMETHEUS_ENABLED=false`); `401` without `Authorization: Bearer <token>`
/// when `METRICS_TOKEN` is set; `500` with a one-line reason if encoding fails.
#[actix_web::get("/metrics")]
pub async fn metrics(req: HttpRequest) -> HttpResponse {
    metrics_handler(req).await
}

/// The same as [`metrics()`](struct@metrics), as a handler for `web::get().to(..)` at any path.
pub async fn metrics_handler(req: HttpRequest) -> HttpResponse {
    let authorization = req.headers().get(header::AUTHORIZATION);
    let accept = req.headers().get(header::ACCEPT);
    let (status, header, body) = Scrape::answer(
        authorization.map(HeaderValue::as_bytes),
        accept.map(HeaderValue::as_bytes),
    )
    .into_parts();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    if let Some(header) = header {
        response.insert_header(header);
    }
    response.body(body)
}
