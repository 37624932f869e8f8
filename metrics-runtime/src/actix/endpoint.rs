//! The actix-web `/metrics` endpoint.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::settings;

/// Serves the registry on `GET /metrics`: mount it with `App::service`.
///
/// Answers `200` with [`CONTENT_TYPE`](crate::CONTENT_TYPE); `404` when metrics are
/// disabled (`PROMETHEUS_ENABLED=false`); `401` without `Authorization: Bearer <token>`
/// when `METRICS_TOKEN` is set; `500` with a one-line reason if encoding fails.
#[actix_web::get("/metrics")]
pub async fn metrics(req: HttpRequest) -> HttpResponse {
    metrics_handler(req).await
}

/// The same as [`metrics`](struct@metrics), as a handler for `web::get().to(..)` at any path.
pub async fn metrics_handler(req: HttpRequest) -> HttpResponse {
    if !crate::enabled() {
        return HttpResponse::NotFound().body("metrics are disabled\n");
    }
    let authorization = req.headers().get(header::AUTHORIZATION);
    if !settings::scrape_allowed(authorization.map(HeaderValue::as_bytes)) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .body("a bearer token is required\n");
    }
    match crate::try_render() {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, crate::CONTENT_TYPE))
            .body(body),
        Err(err) => HttpResponse::InternalServerError().body(format!(
            "cannot encode metrics: {}\n",
            one_line(&err.to_string())
        )),
    }
}

// The message of an error, on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
