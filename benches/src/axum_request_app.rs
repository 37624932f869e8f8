use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use track_metrics::track_metrics;

async fn user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

#[track_metrics(name = "user", method = "GET", route = "/users/{id}")]
async fn tracked_user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

async fn other() -> &'static str {
    "other"
}

/// `GET /users/{id}` through `app` as `axum::serve` sends it (on a clone of the
/// router), its body read to the end; it must answer 2xx.
pub async fn send(app: &Router, id: u64) {
    send_with(app, id, None).await;
}

/// [`send`] with an `x-tenant` header of `tenant`, if given.
pub async fn send_with(app: &Router, id: u64, tenant: Option<&str>) {
    use tower::ServiceExt;
    let mut req = axum::http::Request::get(format!("/users/{id}"));
    if let Some(tenant) = tenant {
        req = req.header("x-tenant", tenant);
    }
    let req = req
        .body(axum::body::Body::empty())
        .expect("a valid request");
    let res = match app.clone().oneshot(req).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    assert!(res.status().is_success());
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body");
    std::hint::black_box(body);
}

/// The router; `tracked`: the measured handler has `#[track_metrics]`. Layers go
/// on top with `Router::layer`.
pub fn routes(tracked: bool) -> Router {
    let app = Router::new()
        .route("/", get(other))
        .route("/users", post(other))
        .route("/slow", get(other))
        .route("/error", get(other))
        .route("/test-metrics", get(other))
        .route("/ws", get(other));
    let app = if tracked {
        app.route("/users/{id}", get(tracked_user))
    } else {
        app.route("/users/{id}", get(user))
    };
    app.route("/items/{id}/parts/{part}", get(other))
        .route("/health", get(other))
        .route("/metrics", get(other))
}
