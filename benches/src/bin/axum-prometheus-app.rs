//! The axum example's routes, measured by axum-prometheus's `PrometheusMetricLayer`
//! instead of `RequestMetricsLayer` and `#[track_metrics]`: the axum baseline of
//! `scripts/bench-service --framework axum`.
//!
//! Listens on `BIND_ADDR` (default `127.0.0.1:8081`) and prints `listening on
//! http://ADDR`; `/metrics` is axum-prometheus's handle
//! (`axum_http_requests_total{method, status, endpoint}`, `endpoint` the route axum
//! matched, the path itself for unrouted requests). Stops on SIGINT or SIGTERM.

#![allow(clippy::print_stdout)] // the listening line

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_prometheus::PrometheusMetricLayer;
use serde::{Deserialize, Serialize};

const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8081";
const MAX_SLOW_MS: u64 = 5000;
const KNOWN_USERS: u32 = 100;

#[derive(Serialize)]
struct User {
    id: u32,
    name: String,
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

#[derive(Deserialize)]
struct SlowParams {
    ms: u64,
}

/// `{"error": "..."}` with a status.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

// The same handlers as examples/axum-app, without the attribute.
async fn index() -> &'static str {
    "axum-app: try /users/1, /slow?ms=100, /error, /test-metrics, /metrics\n"
}

async fn get_user(Path(id): Path<String>) -> Result<Json<User>, ApiError> {
    match id.parse::<u32>() {
        Ok(id @ 1..=KNOWN_USERS) => Ok(Json(User {
            id,
            name: format!("user-{id}"),
        })),
        _ => Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no user with id {id:?}"),
        )),
    }
}

async fn create_user(
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    static NEXT_ID: AtomicU32 = AtomicU32::new(KNOWN_USERS + 1);
    let Json(NewUser { name }) =
        body.map_err(|err| ApiError(StatusCode::BAD_REQUEST, format!("invalid user: {err}")))?;
    if name.trim().is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "`name` must not be empty".to_owned(),
        ));
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    Ok((StatusCode::CREATED, Json(User { id, name })))
}

async fn slow(Query(params): Query<SlowParams>) -> Result<String, ApiError> {
    if params.ms > MAX_SLOW_MS {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("ms must be at most {MAX_SLOW_MS}"),
        ));
    }
    tokio::time::sleep(Duration::from_millis(params.ms)).await;
    Ok(format!("slept {} ms\n", params.ms))
}

async fn error() -> ApiError {
    ApiError(
        StatusCode::INTERNAL_SERVER_ERROR,
        "this route fails on purpose".to_owned(),
    )
}

async fn test_metrics() -> String {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    axum_prometheus::metrics::counter!("demo_test_metrics_total").increment(1);
    let n = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    format!("demo_test_metrics_total {n}\n")
}

async fn health() -> &'static str {
    "ok"
}

fn main() -> ExitCode {
    metrics_benches::axum_server::main("axum-prometheus-app", DEFAULT_BIND_ADDR, || {
        // Installs the global recorder and spawns its upkeep task: inside the runtime.
        let (layer, handle) = PrometheusMetricLayer::pair();
        Router::new()
            .route("/", get(index))
            .route("/users/{id}", get(get_user))
            .route("/users", post(create_user))
            .route("/slow", get(slow))
            .route("/error", get(error))
            .route("/test-metrics", get(test_metrics))
            .route("/health", get(health))
            .route("/metrics", get(move || async move { handle.render() }))
            .layer(layer)
    })
}
