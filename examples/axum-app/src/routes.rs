//! The routes of the example service, each handler tracked with `#[track_metrics]`
//! (axum has no route attributes: the method and route are the attribute's arguments).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::prometheus::IntCounter;
use track_metrics::{Objective, ResponseStatus, track_metrics};

/// The objective of the user routes: 99.9 % of requests succeed, 99 % finish within
/// 250 ms (a default bucket boundary). `docker/objectives.yml` alerts on it.
const USERS: Objective = Objective::new("users")
    .success_rate(0.999)
    .latency(Duration::from_millis(250), 0.99);

/// The demo routes that fail or wait on request (`/error`, `/slow`), as an objective of
/// their own, so its alerts can be seen firing: 99 % succeed, 99 % within 250 ms.
const DEMO: Objective = Objective::new("demo")
    .success_rate(0.99)
    .latency(Duration::from_millis(250), 0.99);

/// The longest `/slow?ms=N` accepts.
const MAX_SLOW_MS: u64 = 5000;
/// Users 1..=100 exist.
const KNOWN_USERS: u32 = 100;

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct AppState {
    /// The id the next created user gets.
    next_id: Arc<AtomicU32>,
    /// The manual pattern, next to the automatic one: a counter registered by hand.
    test_metrics: IntCounter,
}

impl AppState {
    /// The state, with `demo_test_metrics_total` registered (once per process), so that it
    /// is scraped from the start.
    pub(crate) fn new() -> AppState {
        let test_metrics = IntCounter::new(
            "demo_test_metrics_total",
            "Calls of GET /test-metrics, counted by hand.",
        )
        .expect("a valid metric name");
        if let Err(err) = track_metrics::registry().register(Box::new(test_metrics.clone())) {
            log::error!("cannot register demo_test_metrics_total: {err}");
        }
        AppState {
            next_id: Arc::new(AtomicU32::new(KNOWN_USERS + 1)),
            test_metrics,
        }
    }
}

/// Every route, wrapped in the `RequestMetricsLayer`.
pub(crate) fn router(state: AppState) -> Router {
    routes(state)
        // The last layer, so that it wraps every route and the fallback: every request is
        // counted. Prometheus' own scrapes are left out: they are not the service's traffic.
        .layer(RequestMetricsLayer::new().exclude("/metrics"))
}

/// Every route, each handler counted by its `#[track_metrics]` alone.
pub(crate) fn routes(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/users/{id}", get(get_user))
        .route("/users", post(create_user))
        .route("/slow", get(slow))
        .route("/error", get(error))
        .route("/test-metrics", get(test_metrics))
        .route("/health", get(health))
        .route("/metrics", get(track_metrics::axum::metrics))
        .with_state(state)
}

/// A user, as the API answers it.
#[derive(Serialize)]
struct User {
    id: u32,
    name: String,
}

/// The body of `POST /users`.
#[derive(Deserialize)]
struct NewUser {
    name: String,
}

/// The query of `GET /slow`.
#[derive(Deserialize)]
struct SlowParams {
    ms: u64,
}

/// The errors the service answers with, as JSON `{"error": "..."}`.
#[derive(Debug)]
enum ApiError {
    /// 404.
    NotFound(String),
    /// 400.
    BadRequest(String),
    /// 500.
    Internal(&'static str),
}

impl ApiError {
    /// The status it answers with.
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The text of its `error` field.
    fn message(&self) -> &str {
        match self {
            ApiError::NotFound(msg) | ApiError::BadRequest(msg) => msg,
            ApiError::Internal(msg) => msg,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message() }));
        (self.status_code(), body).into_response()
    }
}

/// The status `#[track_metrics]` counts for an `Err` when the handler runs without the
/// layer (under it, the status is the response's).
impl ResponseStatus for ApiError {
    fn status(&self) -> u16 {
        self.status_code().as_u16()
    }
}

/// `GET /`: a short text naming the routes.
#[track_metrics(method = "GET", route = "/")]
async fn index() -> &'static str {
    "axum-app: try /users/1, /slow?ms=100, /error, /test-metrics, /metrics\n"
}

/// `GET /users/{id}`: the user, or a 404 JSON error.
///
/// The id is parsed here, not by the extractor, so that a bad id is a counted 404 (as in
/// actix-app), not axum's 400.
#[track_metrics(method = "GET", route = "/users/{id}", objective = USERS)]
async fn get_user(Path(id): Path<String>) -> Result<Json<User>, ApiError> {
    match id.parse::<u32>() {
        Ok(id @ 1..=KNOWN_USERS) => Ok(Json(User {
            id,
            name: format!("user-{id}"),
        })),
        _ => Err(ApiError::NotFound(format!("no user with id {id:?}"))),
    }
}

/// `POST /users`: 201 with the created user, 400 with a JSON error for a bad body.
///
/// Taking the extractor's `Result` answers every bad body (malformed, a missing field, not
/// JSON) with the service's 400 and its JSON error, where axum's own rejections would be
/// 400, 415 or 422; and the handler runs, so it is counted under its name.
#[track_metrics(method = "POST", route = "/users", objective = USERS)]
async fn create_user(
    State(state): State<AppState>,
    body: Result<Json<NewUser>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let Json(NewUser { name }) =
        body.map_err(|err| ApiError::BadRequest(format!("invalid user: {}", err.body_text())))?;
    if name.trim().is_empty() {
        return Err(ApiError::BadRequest("`name` must not be empty".to_owned()));
    }
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    Ok((StatusCode::CREATED, Json(User { id, name })))
}

/// `GET /slow?ms=N`: sleeps N ms (at most 5000), 400 otherwise.
///
/// A plain extractor: under the layer a malformed query is still counted, as the 400 axum
/// answers (with `handler=""`, since no handler ran), as in actix-app.
#[track_metrics(method = "GET", route = "/slow", objective = DEMO)]
async fn slow(Query(params): Query<SlowParams>) -> Result<String, ApiError> {
    let ms = params.ms;
    if ms > MAX_SLOW_MS {
        return Err(ApiError::BadRequest(format!(
            "ms must be at most {MAX_SLOW_MS}"
        )));
    }
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(format!("slept {ms} ms\n"))
}

/// `GET /error`: a 500 on purpose.
#[track_metrics(method = "GET", route = "/error", objective = DEMO)]
async fn error() -> Result<String, ApiError> {
    Err(ApiError::Internal("this route fails on purpose"))
}

/// `GET /test-metrics`: increments the hand-registered counter and answers its value.
#[track_metrics(method = "GET", route = "/test-metrics")]
async fn test_metrics(State(state): State<AppState>) -> String {
    state.test_metrics.inc();
    format!("demo_test_metrics_total {}\n", state.test_metrics.get())
}

/// `GET /health`: `ok`.
#[track_metrics(method = "GET", route = "/health")]
async fn health() -> &'static str {
    "ok"
}
