//! The routes of the example service, each handler tracked with `#[track_metrics]`.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use actix_ws::{AggregatedMessage, CloseCode};
use once_cell::sync::Lazy;
use serde::{Deserialize, Serialize};
use track_metrics::prometheus::IntCounter;
use track_metrics::ws::{TrackedSession, TrackedStream};
use track_metrics::{Objective, track_metrics};

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

/// Mounts every route.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index)
        .service(get_user)
        .service(create_user)
        .service(slow)
        .service(error)
        .service(test_metrics)
        .service(ws)
        .service(health)
        .service(track_metrics::actix::metrics);
}

/// The manual pattern, next to the automatic one: a counter registered by hand.
static DEMO_COUNTER: Lazy<IntCounter> = Lazy::new(|| {
    let counter = IntCounter::new(
        "demo_test_metrics_total",
        "Calls of GET /test-metrics, counted by hand.",
    )
    .expect("a valid metric name");
    if let Err(err) = track_metrics::registry().register(Box::new(counter.clone())) {
        log::error!("cannot register demo_test_metrics_total: {err}");
    }
    counter
});

/// Registers the hand-written metrics at start-up, so they are scraped from the start.
pub(crate) fn register_demo_metrics() {
    Lazy::force(&DEMO_COUNTER);
}

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

/// The errors the service answers with, as JSON `{"error": "..."}`.
#[derive(Debug)]
enum ApiError {
    NotFound(String),
    BadRequest(String),
    Internal(&'static str),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::NotFound(msg) | ApiError::BadRequest(msg) => f.write_str(msg),
            ApiError::Internal(msg) => f.write_str(msg),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .json(serde_json::json!({ "error": self.to_string() }))
    }
}

#[track_metrics]
#[get("/")]
async fn index() -> &'static str {
    "actix-app: try /users/1, /slow?ms=100, /error, /test-metrics, /ws, /metrics\n"
}

// The id is parsed here, not by the extractor, so that a bad id is a counted 404.
#[track_metrics(objective = USERS)]
#[get("/users/{id}")]
async fn get_user(id: web::Path<String>) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    match id.parse::<u32>() {
        Ok(id @ 1..=KNOWN_USERS) => Ok(web::Json(User {
            id,
            name: format!("user-{id}"),
        })),
        _ => Err(ApiError::NotFound(format!("no user with id {id:?}"))),
    }
}

// Taking the extractor's `Result` answers malformed bodies with the service's own JSON
// error, and keeps them counted with the attribute alone (without `RequestMetrics`).
#[track_metrics(objective = USERS)]
#[post("/users")]
async fn create_user(
    body: Result<web::Json<NewUser>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    static NEXT_ID: AtomicU32 = AtomicU32::new(KNOWN_USERS + 1);
    let body = body.map_err(|err| ApiError::BadRequest(format!("invalid user: {err}")))?;
    let name = body.into_inner().name;
    if name.trim().is_empty() {
        return Err(ApiError::BadRequest("`name` must not be empty".to_owned()));
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    // Through the `metrics` facade, as a library would: `demo_users_created_total`.
    metrics::counter!("demo.users.created").increment(1);
    Ok(HttpResponse::Created().json(User { id, name }))
}

// A plain extractor: under `RequestMetrics` a malformed query is still counted, as the
// 400 actix answers (with `handler=""`, since no handler ran).
#[track_metrics(objective = DEMO)]
#[get("/slow")]
async fn slow(params: web::Query<SlowParams>) -> Result<String, ApiError> {
    let ms = params.ms;
    if ms > MAX_SLOW_MS {
        return Err(ApiError::BadRequest(format!(
            "ms must be at most {MAX_SLOW_MS}"
        )));
    }
    actix_web::rt::time::sleep(Duration::from_millis(ms)).await;
    Ok(format!("slept {ms} ms\n"))
}

#[track_metrics(objective = DEMO)]
#[get("/error")]
async fn error() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Internal("this route fails on purpose"))
}

#[track_metrics]
#[get("/test-metrics")]
async fn test_metrics() -> String {
    DEMO_COUNTER.inc();
    format!("demo_test_metrics_total {}\n", DEMO_COUNTER.get())
}

// The upgrade is counted here (status 101); the connection and its messages by
// `track_metrics::ws`, in the spawned echo task.
#[track_metrics]
#[get("/ws")]
async fn ws(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, actix_web::Error> {
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let (session, stream) = track_metrics::ws::track("ws", session, stream);
    actix_web::rt::spawn(echo(session, stream));
    Ok(response)
}

// Echoes text and binary messages (fragmented ones joined), answers a ping with a pong
// and a close with a close; a protocol error closes with code 1002.
async fn echo(mut session: TrackedSession, stream: TrackedStream) {
    let mut stream = stream.aggregate_continuations();
    loop {
        let sent = match stream.recv().await {
            Some(Ok(AggregatedMessage::Text(text))) => session.text(text).await,
            Some(Ok(AggregatedMessage::Binary(bytes))) => session.binary(bytes).await,
            Some(Ok(AggregatedMessage::Ping(bytes))) => session.pong(&bytes).await,
            Some(Ok(AggregatedMessage::Pong(_))) => Ok(()),
            Some(Ok(AggregatedMessage::Close(reason))) => {
                let _ = session.close(reason).await;
                return;
            }
            Some(Err(err)) => {
                log::debug!("ws: protocol error: {err}");
                let _ = session.close(Some(CloseCode::Protocol.into())).await;
                return;
            }
            // The client went away without a close frame.
            None => return,
        };
        if sent.is_err() {
            return;
        }
    }
}

#[track_metrics]
#[get("/health")]
async fn health() -> &'static str {
    "ok"
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, test};

    #[actix_web::test]
    async fn routes_answer_as_documented() {
        let app = test::init_service(App::new().configure(configure)).await;
        let cases: &[(&str, &str, Option<&str>, u16)] = &[
            ("GET", "/", None, 200),
            ("GET", "/users/7", None, 200),
            ("GET", "/users/101", None, 404),
            ("GET", "/users/abc", None, 404),
            ("POST", "/users", Some(r#"{"name":"ada"}"#), 201),
            ("POST", "/users", Some(r#"{"nam"#), 400),
            ("POST", "/users", Some(r#"{"name":" "}"#), 400),
            ("GET", "/slow?ms=1", None, 200),
            ("GET", "/slow?ms=5001", None, 400),
            ("GET", "/slow", None, 400),
            ("GET", "/error", None, 500),
            ("GET", "/test-metrics", None, 200),
            ("GET", "/ws", None, 400), // not an upgrade request
            ("GET", "/health", None, 200),
            ("GET", "/metrics", None, 200),
        ];
        for &(method, uri, body, status) in cases {
            let req = match body {
                Some(body) => test::TestRequest::post()
                    .uri(uri)
                    .insert_header(("content-type", "application/json"))
                    .set_payload(body),
                None => test::TestRequest::default()
                    .method(method.parse().unwrap())
                    .uri(uri),
            };
            let resp = test::call_service(&app, req.to_request()).await;
            assert_eq!(resp.status().as_u16(), status, "{method} {uri}");
        }
    }
}
