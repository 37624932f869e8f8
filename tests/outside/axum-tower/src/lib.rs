//! A user's axum app with tower-http's layers: a request timeout and a body limit inside
//! `RequestMetricsLayer` (what they answer is counted, with the route), compression and
//! tracing around it (they see the response it passed on); and an authentication layer of
//! its own inside, which hands the tenant it finds to the metrics (`set_label`: a no-op
//! unless a `tenant` request label is configured, as in `tests/labels.rs`). Its uploads
//! are also counted through the `metrics` facade (`tests/facade.rs`).

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::track_metrics;

/// The largest body `POST /upload` takes, in bytes.
pub const BODY_LIMIT: usize = 64;
/// How long a request may take before the timeout answers `408 Request Timeout`.
pub const TIMEOUT: Duration = Duration::from_millis(100);

#[track_metrics]
async fn get_user(Path(id): Path<u32>) -> Result<String, StatusCode> {
    if id <= 100 {
        Ok(format!("user {id}"))
    } else {
        Err(StatusCode::NOT_FOUND)
    }
}

#[track_metrics]
async fn upload(body: Bytes) -> String {
    // Through the `metrics` facade (served on `/metrics` once `metrics_rs::install` ran;
    // recorded nowhere otherwise).
    let size = if body.is_empty() { "empty" } else { "some" };
    metrics::counter!("shop.uploads", "size" => size).increment(1);
    format!("{} bytes", body.len())
}

#[track_metrics]
async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(60)).await;
    "too late"
}

/// What `GET /report` answers: long enough for the compression layer to compress it.
pub fn report_text() -> String {
    "id,name,total\n".repeat(200)
}

#[track_metrics]
async fn report() -> String {
    report_text()
}

// The user's own authentication: `authorization: tenant <name>` names the tenant.
async fn auth(req: Request, next: Next) -> Response {
    if let Some(tenant) = req
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("tenant "))
    {
        track_metrics::set_label("tenant", tenant);
    }
    next.run(req).await
}

/// The app: every request counted once by the metrics layer, `/metrics` left out.
pub fn app() -> Router {
    Router::new()
        .route("/users/{id}", get(get_user))
        .route("/upload", post(upload))
        .route("/slow", get(slow))
        .route("/report", get(report))
        .route("/metrics", get(track_metrics::axum::metrics))
        // Inside the metrics layer: their answers are counted, with the route.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            TIMEOUT,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(auth))
        .layer(RequestMetricsLayer::new().exclude("/metrics"))
        // Around it.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}
