//! `track_metrics::axum::RequestMetricsLayer` (CONTRACT §8, §9) through axum's real
//! router (`tower::ServiceExt::oneshot`): every request counted once, with the route
//! axum matched (`MatchedPath`, `Router::nest` prefixes included, `""` for the
//! fallback), the status it sent and the tracked handler that answered; helpers on
//! their own; panics 500, dropped requests 499.
//!
//! `Router::layer` is the supported way: it wraps every route and the fallback, so
//! every request is counted. `Router::route_layer` works for the routes (405s
//! included) but never sees the fallback's 404s: `route_layer_counts_routes_but_not_the_fallback`.
//!
//! The registry is process-global and the tests of this binary run at once: each test
//! uses routes and handlers of its own under `/ax/…`, and the two that reach the
//! fallback (`route=""`) use methods of their own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Json, middleware};
use metrics_tests::scrape::Scrape;
use serde::Deserialize;
use tokio::sync::oneshot;
use tower::ServiceExt;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::track_metrics;

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

// Sends `req` through `app`; the status axum answered with.
async fn send(app: &Router, req: Request<Body>) -> u16 {
    app.clone().oneshot(req).await.unwrap().status().as_u16()
}

async fn get_status(app: &Router, uri: &str) -> u16 {
    send(app, request("GET", uri)).await
}

// ----------------------------------------------------------------- routes and nesting

#[track_metrics]
async fn ax_item(Path(id): Path<u32>) -> String {
    format!("item {id}")
}

#[track_metrics]
async fn ax_user(Path(id): Path<u32>) -> String {
    format!("user {id}")
}

#[track_metrics]
async fn ax_thing(Path((tenant, id)): Path<(String, u32)>) -> String {
    format!("{tenant} {id}")
}

#[track_metrics]
async fn ax_any() -> &'static str {
    "any"
}

async fn ax_plain() -> &'static str {
    "plain"
}

#[tokio::test]
async fn the_matched_route_nested_prefixes_included_and_the_handler_that_answered() {
    let app = Router::new()
        .route("/ax/items/{id}", get(ax_item))
        .route("/ax/plain", get(ax_plain))
        .route("/ax/any", any(ax_any))
        .nest(
            "/ax/api",
            Router::new().route("/users/{id}", get(ax_user)).nest(
                "/t/{tenant}",
                Router::new().route("/things/{id}", get(ax_thing)),
            ),
        )
        .layer(RequestMetricsLayer::new());
    for id in 1..=3 {
        assert_eq!(get_status(&app, &format!("/ax/items/{id}")).await, 200);
    }
    assert_eq!(get_status(&app, "/ax/api/users/7").await, 200);
    assert_eq!(get_status(&app, "/ax/api/t/acme/things/3").await, 200);
    assert_eq!(get_status(&app, "/ax/api/t/b/things/4").await, 200);
    assert_eq!(get_status(&app, "/ax/plain").await, 200);
    // Method not allowed: the route matched, no handler ran.
    assert_eq!(send(&app, request("POST", "/ax/items/1")).await, 405);
    assert_eq!(send(&app, request("BREW", "/ax/items/1")).await, 405);
    for method in ["HEAD", "DELETE", "BREW", "M-SEARCH"] {
        assert_eq!(
            send(&app, request(method, "/ax/any")).await,
            200,
            "{method}"
        );
    }

    let s = scrape();
    assert_eq!(s.requests("ax_item", "GET", "/ax/items/{id}", "200"), 3.0);
    assert_eq!(
        s.requests("ax_user", "GET", "/ax/api/users/{id}", "200"),
        1.0
    );
    let twice = "/ax/api/t/{tenant}/things/{id}";
    assert_eq!(s.requests("ax_thing", "GET", twice, "200"), 2.0);
    assert_eq!(s.requests("", "GET", "/ax/plain", "200"), 1.0);
    assert_eq!(s.requests("", "POST", "/ax/items/{id}", "405"), 1.0);
    assert_eq!(s.requests("", "_OTHER", "/ax/items/{id}", "405"), 1.0);
    assert_eq!(s.requests("ax_any", "HEAD", "/ax/any", "200"), 1.0);
    assert_eq!(s.requests("ax_any", "DELETE", "/ax/any", "200"), 1.0);
    assert_eq!(
        s.requests("ax_any", "_OTHER", "/ax/any", "200"),
        2.0,
        "no raw method"
    );
    assert!(!s.text.contains("M-SEARCH") && !s.text.contains("BREW"));
    // The tracked handlers recorded nothing of their own (their attribute's labels),
    // and every request of theirs is in exactly the series above.
    assert_eq!(s.requests("ax_item", "", "", "200"), 0.0);
    assert_eq!(s.total_of("ax_item"), 3.0);
    assert_eq!(s.total_of("ax_user"), 1.0);
    assert_eq!(s.total_of("ax_thing"), 2.0);
    assert_eq!(s.total_of("ax_any"), 4.0);
    assert_eq!(s.observed("ax_item", "GET", "/ax/items/{id}"), 3.0);
    assert_eq!(s.observed("", "POST", "/ax/items/{id}"), 1.0);
    assert_eq!(s.total_under("/ax/items/"), 5.0);
    assert_eq!(s.total_under("/ax/api/"), 3.0);
    assert_eq!(s.total_under("/ax/any"), 4.0);
    for prefix in ["/ax/items/", "/ax/api/", "/ax/plain", "/ax/any"] {
        s.assert_counted_once(prefix);
    }
}

// ----------------------------------------------------------------- the fallback

#[track_metrics]
async fn ax_fallback_routed() -> &'static str {
    "routed"
}

#[track_metrics]
async fn ax_custom_fallback() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "nothing here")
}

async fn ax_untracked_fallback() -> StatusCode {
    StatusCode::GONE
}

// The default fallback and a custom one (tracked, then untracked) count under
// `route=""`. Methods of its own (PUT, OPTIONS, TRACE) keep the `""` series apart from
// the other tests'.
#[tokio::test]
async fn the_fallback_counts_under_an_empty_route() {
    let default = Router::new()
        .route("/ax/fb/routed", get(ax_fallback_routed))
        .layer(RequestMetricsLayer::new());
    for path in ["/ax/fb/nowhere", "/ax/fb/routed/deeper", "/"] {
        assert_eq!(send(&default, request("PUT", path)).await, 404, "{path}");
    }
    let custom = Router::new()
        .route("/ax/fb/routed", get(ax_fallback_routed))
        .fallback(ax_custom_fallback)
        .layer(RequestMetricsLayer::new());
    assert_eq!(send(&custom, request("OPTIONS", "/ax/fb/a")).await, 404);
    assert_eq!(send(&custom, request("OPTIONS", "/ax/fb/b/c")).await, 404);
    let untracked = Router::new()
        .route("/ax/fb/routed", get(ax_fallback_routed))
        .fallback(ax_untracked_fallback)
        .layer(RequestMetricsLayer::new());
    assert_eq!(send(&untracked, request("TRACE", "/ax/fb/x")).await, 410);
    assert_eq!(get_status(&untracked, "/ax/fb/routed").await, 200);

    let s = scrape();
    assert_eq!(s.requests("", "PUT", "", "404"), 3.0);
    assert_eq!(s.observed("", "PUT", ""), 3.0);
    assert_eq!(s.in_flight("", "PUT", ""), 0.0);
    assert_eq!(s.requests("ax_custom_fallback", "OPTIONS", "", "404"), 2.0);
    assert_eq!(s.total_of("ax_custom_fallback"), 2.0);
    assert_eq!(s.requests("", "TRACE", "", "410"), 1.0);
    assert_eq!(
        s.requests("ax_fallback_routed", "GET", "/ax/fb/routed", "200"),
        1.0
    );
    assert!(!s.text.contains("/ax/fb/nowhere") && !s.text.contains("/ax/fb/x"));
}

// ----------------------------------------------------------------- rejections

#[derive(Deserialize)]
struct AxNew {
    #[allow(dead_code)]
    name: String,
}

#[derive(Deserialize)]
struct AxPage {
    #[allow(dead_code)]
    page: u32,
}

#[track_metrics]
async fn ax_json(Json(_): Json<AxNew>) -> StatusCode {
    StatusCode::CREATED
}

#[track_metrics]
async fn ax_number(Path(id): Path<u32>) -> String {
    id.to_string()
}

#[track_metrics]
async fn ax_query(Query(_): Query<AxPage>) -> &'static str {
    "page"
}

#[tokio::test]
async fn rejections_count_with_the_status_axum_sent() {
    let app = Router::new()
        .route("/ax/rj/json", post(ax_json))
        .route("/ax/rj/number/{id}", get(ax_number))
        .route("/ax/rj/query", get(ax_query))
        .layer(RequestMetricsLayer::new());
    let json = |body: &'static str, content_type: Option<&'static str>| {
        let mut req = Request::post("/ax/rj/json");
        if let Some(content_type) = content_type {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        req.body(Body::from(body)).unwrap()
    };
    const JSON: Option<&str> = Some("application/json");
    let cases = [
        (json(r#"{"name":"a"}"#, JSON), 201),
        (json(r#"{"name":"#, JSON), 400),
        (json(r#"{"name":"#, JSON), 400),
        (json(r#"{"nom":"a"}"#, JSON), 422),
        (json(r#"{"name":"a"}"#, None), 415),
        (json(r#"{"name":"a"}"#, Some("text/plain")), 415),
        (request("GET", "/ax/rj/number/12"), 200),
        (request("GET", "/ax/rj/number/abc"), 400),
        (request("GET", "/ax/rj/query?page=2"), 200),
        (request("GET", "/ax/rj/query?page=two"), 400),
        (request("GET", "/ax/rj/query"), 400),
    ];
    for (req, expected) in cases {
        let uri = req.uri().to_string();
        assert_eq!(send(&app, req).await, expected, "{uri}");
    }

    let s = scrape();
    assert_eq!(s.requests("ax_json", "POST", "/ax/rj/json", "201"), 1.0);
    // Rejected by the extractor: the handler never ran, the request still counts.
    assert_eq!(s.requests("", "POST", "/ax/rj/json", "400"), 2.0);
    assert_eq!(s.requests("", "POST", "/ax/rj/json", "422"), 1.0);
    assert_eq!(s.requests("", "POST", "/ax/rj/json", "415"), 2.0);
    assert_eq!(
        s.requests("ax_number", "GET", "/ax/rj/number/{id}", "200"),
        1.0
    );
    assert_eq!(s.requests("", "GET", "/ax/rj/number/{id}", "400"), 1.0);
    assert_eq!(s.requests("ax_query", "GET", "/ax/rj/query", "200"), 1.0);
    assert_eq!(s.requests("", "GET", "/ax/rj/query", "400"), 2.0);
    assert_eq!(s.total_of("ax_json"), 1.0);
    assert_eq!(s.total_under("/ax/rj/"), 11.0, "each request once");
    s.assert_counted_once("/ax/rj/");
}

// ----------------------------------------------------------------- statuses hidden in values

#[track_metrics]
async fn ax_opaque() -> impl IntoResponse {
    (
        StatusCode::ACCEPTED,
        [(HeaderName::from_static("x-queued"), "1")],
        "queued",
    )
}

#[track_metrics]
async fn ax_redirect(Path(kind): Path<String>) -> Redirect {
    match kind.as_str() {
        "to" => Redirect::to("/elsewhere"),
        "temporary" => Redirect::temporary("/elsewhere"),
        _ => Redirect::permanent("/elsewhere"),
    }
}

// A body the attribute alone cannot read the status of (see axum_status.rs): the
// layer counts what axum sent.
#[track_metrics]
async fn ax_unlisted() -> (StatusCode, &'static [u8]) {
    (StatusCode::IM_A_TEAPOT, b"stout")
}

#[track_metrics]
async fn ax_fails() -> Result<String, StatusCode> {
    Err(StatusCode::CONFLICT)
}

#[tokio::test]
async fn impl_into_response_redirects_and_errors_count_what_axum_sent() {
    let app = Router::new()
        .route("/ax/vals/opaque", get(ax_opaque))
        .route("/ax/vals/redirect/{kind}", get(ax_redirect))
        .route("/ax/vals/unlisted", get(ax_unlisted))
        .route("/ax/vals/fails", get(ax_fails))
        .layer(RequestMetricsLayer::new());
    assert_eq!(get_status(&app, "/ax/vals/opaque").await, 202);
    assert_eq!(get_status(&app, "/ax/vals/redirect/to").await, 303);
    assert_eq!(get_status(&app, "/ax/vals/redirect/temporary").await, 307);
    assert_eq!(get_status(&app, "/ax/vals/redirect/permanent").await, 308);
    assert_eq!(get_status(&app, "/ax/vals/unlisted").await, 418);
    assert_eq!(get_status(&app, "/ax/vals/fails").await, 409);

    let s = scrape();
    assert_eq!(
        s.requests("ax_opaque", "GET", "/ax/vals/opaque", "202"),
        1.0
    );
    let r = "/ax/vals/redirect/{kind}";
    assert_eq!(s.requests("ax_redirect", "GET", r, "303"), 1.0);
    assert_eq!(s.requests("ax_redirect", "GET", r, "307"), 1.0);
    assert_eq!(s.requests("ax_redirect", "GET", r, "308"), 1.0);
    assert_eq!(
        s.requests("ax_unlisted", "GET", "/ax/vals/unlisted", "418"),
        1.0
    );
    assert_eq!(s.requests("ax_fails", "GET", "/ax/vals/fails", "409"), 1.0);
    for handler in ["ax_opaque", "ax_unlisted", "ax_fails"] {
        assert_eq!(s.total_of(handler), 1.0, "{handler}");
    }
    assert_eq!(s.total_of("ax_redirect"), 3.0);
    assert_eq!(s.total_under("/ax/vals/"), 6.0, "each request once");
    s.assert_counted_once("/ax/vals/");
}

// ----------------------------------------------------------------- helpers on their own

#[derive(Debug)]
struct DbError;

struct AxUser {
    name: String,
}

#[track_metrics(name = "ax::db::load_user")]
async fn ax_load_user(id: u32) -> Result<AxUser, DbError> {
    if id == 0 {
        return Err(DbError);
    }
    Ok(AxUser {
        name: format!("user{id}"),
    })
}

#[track_metrics(name = "ax::render")]
fn ax_render(user: &AxUser) -> String {
    user.name.clone()
}

#[track_metrics]
async fn ax_tracked_with_helper(Path(id): Path<u32>) -> Result<String, StatusCode> {
    let user = ax_load_user(id).await.map_err(|_| StatusCode::NOT_FOUND)?;
    Ok(user.name)
}

// Untracked: the helper starts first but is no response, so it names nothing; the
// response-returning `ax_render` is inside nothing tracked, so it names the request.
async fn ax_untracked_with_helpers(Path(id): Path<u32>) -> Result<String, StatusCode> {
    let user = ax_load_user(id).await.map_err(|_| StatusCode::NOT_FOUND)?;
    Ok(ax_render(&user))
}

async fn ax_untracked_with_helper_only(Path(id): Path<u32>) -> StatusCode {
    let _ = ax_load_user(id).await;
    StatusCode::NO_CONTENT
}

#[tokio::test]
async fn tracked_helpers_count_on_their_own_exactly_once() {
    let app = Router::new()
        .route("/ax/helper/tracked/{id}", get(ax_tracked_with_helper))
        .route("/ax/helper/untracked/{id}", get(ax_untracked_with_helpers))
        .route("/ax/helper/only/{id}", get(ax_untracked_with_helper_only))
        .layer(RequestMetricsLayer::new());
    assert_eq!(get_status(&app, "/ax/helper/tracked/1").await, 200);
    assert_eq!(get_status(&app, "/ax/helper/tracked/0").await, 404);
    assert_eq!(get_status(&app, "/ax/helper/untracked/2").await, 200);
    assert_eq!(get_status(&app, "/ax/helper/untracked/0").await, 404);
    assert_eq!(get_status(&app, "/ax/helper/only/3").await, 204);

    let s = scrape();
    let r = "/ax/helper/tracked/{id}";
    assert_eq!(s.requests("ax_tracked_with_helper", "GET", r, "200"), 1.0);
    assert_eq!(s.requests("ax_tracked_with_helper", "GET", r, "404"), 1.0);
    let r = "/ax/helper/untracked/{id}";
    assert_eq!(s.requests("ax::render", "GET", r, "200"), 1.0);
    // No tracked response ran: the request has no handler.
    assert_eq!(s.requests("", "GET", r, "404"), 1.0);
    assert_eq!(s.requests("", "GET", "/ax/helper/only/{id}", "204"), 1.0);
    // The helper: its own series, as without the layer, once per call.
    assert_eq!(s.requests("ax::db::load_user", "", "", "200"), 3.0);
    assert_eq!(s.requests("ax::db::load_user", "", "", "500"), 2.0);
    assert_eq!(s.total_of("ax::db::load_user"), 5.0);
    assert_eq!(s.observed("ax::db::load_user", "", ""), 5.0);
    assert_eq!(
        s.requests("ax::render", "", "", "200"),
        0.0,
        "ax_render named a request"
    );
    assert_eq!(s.total_of("ax_tracked_with_helper"), 2.0);
    assert_eq!(s.total_under("/ax/helper/"), 5.0, "each request once");
    s.assert_counted_once("/ax/helper/");
}

// ----------------------------------------------------------------- layer vs route_layer

#[track_metrics]
async fn ax_rl_item() -> &'static str {
    "rl"
}

/// `route_layer` wraps each route (its 405 included) but not the fallback: a request
/// that matches no route is not counted. `layer` (the supported way) counts it.
#[tokio::test]
async fn route_layer_counts_routes_but_not_the_fallback() {
    let app = Router::new()
        .route("/ax/rl/item", get(ax_rl_item))
        .route_layer(RequestMetricsLayer::new());
    assert_eq!(get_status(&app, "/ax/rl/item").await, 200);
    assert_eq!(send(&app, request("POST", "/ax/rl/item")).await, 405);
    // Only this test sends PATCH to the fallback in this binary.
    assert_eq!(send(&app, request("PATCH", "/ax/rl/nowhere")).await, 404);

    let s = scrape();
    assert_eq!(s.requests("ax_rl_item", "GET", "/ax/rl/item", "200"), 1.0);
    assert_eq!(s.requests("", "POST", "/ax/rl/item", "405"), 1.0);
    assert_eq!(
        s.requests("", "PATCH", "", "404"),
        0.0,
        "route_layer does not see the fallback"
    );
    assert_eq!(s.observed("", "PATCH", ""), 0.0);
    s.assert_counted_once("/ax/rl/");

    let app = Router::new()
        .route("/ax/rl/item", get(ax_rl_item))
        .layer(RequestMetricsLayer::new());
    assert_eq!(send(&app, request("PATCH", "/ax/rl/nowhere")).await, 404);
    assert_eq!(get_status(&app, "/ax/rl/item").await, 200);
    let s = scrape();
    assert_eq!(s.requests("", "PATCH", "", "404"), 1.0, "layer does");
    assert_eq!(s.requests("ax_rl_item", "GET", "/ax/rl/item", "200"), 2.0);
}

// ----------------------------------------------------------------- layers inside layers

#[track_metrics]
async fn ax_twice_inner() -> &'static str {
    "inner"
}

#[track_metrics]
async fn ax_twice_outer() -> StatusCode {
    StatusCode::ACCEPTED
}

#[tokio::test]
async fn a_layer_on_the_nested_router_and_the_outer_one_counts_once() {
    let inner = Router::new()
        .route("/item", get(ax_twice_inner))
        .layer(RequestMetricsLayer::new());
    let app = Router::new()
        .route("/ax/twice/outer", get(ax_twice_outer))
        .nest("/ax/twice/api", inner)
        .layer(RequestMetricsLayer::new())
        .layer(RequestMetricsLayer::new());
    for _ in 0..3 {
        assert_eq!(get_status(&app, "/ax/twice/api/item").await, 200);
    }
    assert_eq!(get_status(&app, "/ax/twice/outer").await, 202);

    let s = scrape();
    assert_eq!(
        s.requests("ax_twice_inner", "GET", "/ax/twice/api/item", "200"),
        3.0
    );
    assert_eq!(s.total_of("ax_twice_inner"), 3.0);
    assert_eq!(
        s.observed("ax_twice_inner", "GET", "/ax/twice/api/item"),
        3.0
    );
    assert_eq!(
        s.requests("ax_twice_outer", "GET", "/ax/twice/outer", "202"),
        1.0
    );
    assert_eq!(s.total_of("ax_twice_outer"), 1.0);
    assert_eq!(
        s.total_under("/ax/twice/"),
        4.0,
        "each request once, not once per layer:\n{}",
        s.text
    );
    s.assert_counted_once("/ax/twice/");
}

// An auth middleware inside the layer that answers early.
#[track_metrics]
async fn ax_secret() -> &'static str {
    "secret"
}

async fn ax_auth(req: axum::extract::Request, next: middleware::Next) -> Response {
    match req.headers().get("x-key").map(|v| v.as_bytes()) {
        Some(b"ok") => next.run(req).await,
        Some(_) => StatusCode::FORBIDDEN.into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

#[tokio::test]
async fn what_an_inner_middleware_answers_is_counted() {
    let app = Router::new()
        .route("/ax/auth/secret", get(ax_secret))
        .layer(middleware::from_fn(ax_auth))
        .layer(RequestMetricsLayer::new());
    let with_key = |key: &str| {
        Request::get("/ax/auth/secret")
            .header("x-key", key)
            .body(Body::empty())
            .unwrap()
    };
    assert_eq!(get_status(&app, "/ax/auth/secret").await, 401);
    assert_eq!(get_status(&app, "/ax/auth/secret").await, 401);
    assert_eq!(send(&app, with_key("bad")).await, 403);
    assert_eq!(send(&app, with_key("ok")).await, 200);

    let s = scrape();
    assert_eq!(s.requests("", "GET", "/ax/auth/secret", "401"), 2.0);
    assert_eq!(s.requests("", "GET", "/ax/auth/secret", "403"), 1.0);
    assert_eq!(
        s.requests("ax_secret", "GET", "/ax/auth/secret", "200"),
        1.0
    );
    assert_eq!(s.total_under("/ax/auth/"), 4.0, "each request once");
    s.assert_counted_once("/ax/auth/");
}

// ----------------------------------------------------------------- left out; outside the request

#[track_metrics]
async fn ax_health() -> &'static str {
    "ok"
}

#[track_metrics(name = "ax_spawned_job")]
async fn ax_spawned_job() -> &'static str {
    "done"
}

#[track_metrics]
async fn ax_spawns() -> String {
    // A tracked call in a spawned task is outside the request: it counts on its own.
    tokio::spawn(ax_spawned_job()).await.unwrap().to_owned()
}

#[tokio::test]
async fn left_out_routes_and_spawned_tasks() {
    let app = Router::new()
        .route("/ax/health", get(ax_health))
        .route("/ax/spawns", get(ax_spawns))
        .layer(RequestMetricsLayer::new().exclude("/ax/health"));
    for _ in 0..3 {
        assert_eq!(get_status(&app, "/ax/health").await, 200);
    }
    assert_eq!(get_status(&app, "/ax/spawns").await, 200);

    let s = scrape();
    assert!(!s.text.contains("/ax/health"), "left out:\n{}", s.text);
    assert!(
        !s.text.contains(r#"handler="ax_health""#),
        "nor its handler:\n{}",
        s.text
    );
    assert_eq!(s.requests("ax_spawns", "GET", "/ax/spawns", "200"), 1.0);
    assert_eq!(s.requests("ax_spawned_job", "", "", "200"), 1.0);
    assert_eq!(s.total_of("ax_spawned_job"), 1.0);
    s.assert_counted_once("/ax/spawns");
}

// ----------------------------------------------------------------- in flight, panics, drops

// A handler that tells the test it runs, then waits until the test releases it.
type Waiter = Arc<Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>>;

#[track_metrics]
async fn ax_waits(State(waiter): State<Waiter>) -> StatusCode {
    let (started, release) = waiter.lock().unwrap().take().expect("one call");
    let _ = started.send(());
    let _ = release.await;
    StatusCode::OK
}

#[tokio::test]
async fn in_flight_under_the_handlers_labels_while_served() {
    let (started_tx, started_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let waiter: Waiter = Arc::new(Mutex::new(Some((started_tx, release_rx))));
    let app = Router::new()
        .route("/ax/waits/{id}", get(ax_waits))
        .with_state(waiter)
        .layer(RequestMetricsLayer::new());
    let call = tokio::spawn(app.oneshot(request("GET", "/ax/waits/1")));
    started_rx.await.unwrap();
    let route = "/ax/waits/{id}";
    let s = scrape();
    assert_eq!(s.in_flight("ax_waits", "GET", route), 1.0);
    assert_eq!(
        s.in_flight("", "GET", route),
        0.0,
        "in the handler's series"
    );
    assert_eq!(s.in_flight("ax_waits", "GET", ""), 0.0, "under its route");
    assert_eq!(s.requests("ax_waits", "GET", route, "200"), 0.0);
    release_tx.send(()).unwrap();
    assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
    let s = scrape();
    assert_eq!(s.in_flight("ax_waits", "GET", route), 0.0);
    assert_eq!(s.requests("ax_waits", "GET", route, "200"), 1.0);
    assert_eq!(s.total_of("ax_waits"), 1.0);
    assert_eq!(s.total_under("/ax/waits/"), 1.0, "once");
    s.assert_counted_once(route);
}

#[track_metrics]
async fn ax_panics() -> StatusCode {
    panic!("the handler fails")
}

async fn ax_untracked_panics() -> StatusCode {
    panic!("the handler fails")
}

#[track_metrics]
async fn ax_sleeps() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(30)).await;
    StatusCode::OK
}

async fn ax_untracked_sleeps() -> StatusCode {
    tokio::time::sleep(Duration::from_secs(30)).await;
    StatusCode::OK
}

#[tokio::test]
async fn a_panic_counts_500_and_keeps_unwinding_a_dropped_request_499() {
    let app = Router::new()
        .route("/ax/panics", get(ax_panics))
        .route("/ax/untracked-panics", get(ax_untracked_panics))
        .route("/ax/sleeps", get(ax_sleeps))
        .route("/ax/untracked-sleeps", get(ax_untracked_sleeps))
        .layer(RequestMetricsLayer::new());
    for uri in ["/ax/panics", "/ax/untracked-panics"] {
        let outcome = tokio::spawn(app.clone().oneshot(request("GET", uri))).await;
        assert!(
            outcome.unwrap_err().is_panic(),
            "{uri}: the panic kept unwinding"
        );
    }
    for uri in ["/ax/sleeps", "/ax/untracked-sleeps"] {
        let dropped = tokio::time::timeout(
            Duration::from_millis(100),
            app.clone().oneshot(request("GET", uri)),
        )
        .await;
        assert!(dropped.is_err(), "{uri}: timed out, the request dropped");
    }

    let s = scrape();
    assert_eq!(s.requests("ax_panics", "GET", "/ax/panics", "500"), 1.0);
    assert_eq!(s.total_of("ax_panics"), 1.0, "no series of its own");
    assert_eq!(s.requests("", "GET", "/ax/untracked-panics", "500"), 1.0);
    assert_eq!(s.requests("ax_sleeps", "GET", "/ax/sleeps", "499"), 1.0);
    assert_eq!(s.total_of("ax_sleeps"), 1.0);
    assert_eq!(s.requests("", "GET", "/ax/untracked-sleeps", "499"), 1.0);
    assert_eq!(s.total_under("/ax/panics"), 1.0);
    assert_eq!(s.total_under("/ax/untracked-panics"), 1.0);
    assert_eq!(s.total_under("/ax/sleeps"), 1.0);
    assert_eq!(s.total_under("/ax/untracked-sleeps"), 1.0);
    for prefix in [
        "/ax/panics",
        "/ax/untracked-panics",
        "/ax/sleeps",
        "/ax/untracked-sleeps",
    ] {
        s.assert_counted_once(prefix);
    }
}

// ----------------------------------------------------------------- interleaved requests

#[track_metrics(name = "ax::mix::lookup")]
async fn ax_mix_lookup(n: u32) -> Result<u32, DbError> {
    tokio::task::yield_now().await;
    Ok(n)
}

#[track_metrics]
async fn ax_mix_a(Path(n): Path<u32>) -> String {
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    ax_mix_lookup(n).await.unwrap_or_default().to_string()
}

#[track_metrics]
async fn ax_mix_b(Path(n): Path<u32>) -> (StatusCode, String) {
    let n = ax_mix_lookup(n).await.unwrap_or_default();
    tokio::task::yield_now().await;
    (StatusCode::CREATED, n.to_string())
}

// Many requests at once on two worker threads, each suspending several times (and
// moving between threads): each is named by its own handler, and the helper they
// share counts on its own once per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_interleaved_each_see_their_own() {
    let app = Router::new()
        .route("/ax/mix/a/{n}", get(ax_mix_a))
        .route("/ax/mix/b/{n}", get(ax_mix_b))
        .layer(RequestMetricsLayer::new());
    let calls: Vec<_> = (0..200u32)
        .map(|i| {
            let uri = format!("/ax/mix/{}/{i}", if i % 2 == 0 { "a" } else { "b" });
            tokio::spawn(app.clone().oneshot(request("GET", &uri)))
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        let expected = if i % 2 == 0 { 200 } else { 201 };
        assert_eq!(call.await.unwrap().unwrap().status().as_u16(), expected);
    }
    let s = scrape();
    assert_eq!(s.requests("ax_mix_a", "GET", "/ax/mix/a/{n}", "200"), 100.0);
    assert_eq!(s.requests("ax_mix_b", "GET", "/ax/mix/b/{n}", "201"), 100.0);
    assert_eq!(s.total_of("ax_mix_a"), 100.0);
    assert_eq!(s.total_of("ax_mix_b"), 100.0);
    assert_eq!(s.requests("", "GET", "/ax/mix/a/{n}", "200"), 0.0);
    assert_eq!(s.requests("ax::mix::lookup", "", "", "200"), 200.0);
    assert_eq!(s.total_of("ax::mix::lookup"), 200.0);
    assert_eq!(s.total_under("/ax/mix/"), 200.0, "each request once");
    s.assert_counted_once("/ax/mix/");
}
