//! Where `/metrics` goes in an app (README, docs/status.md "Where `/metrics` goes"):
//! actix-web matches services in the order they are registered, so `/metrics` must come
//! before a catch-all scope (`web::scope("")`, often registered by a `configure(..)`) or a
//! catch-all route, which would otherwise answer it (404, or the catch-all's own
//! answer); `default_service` is asked only when nothing matched. An app-wide login
//! redirect also redirects scrapes: wrapping only the scope of the pages leaves
//! `/metrics` alone. axum 0.8 routes by specificity, not order: a fallback or a
//! wildcard route never takes `/metrics`, whichever is added first; what order changes
//! is which routes a `Router::layer` wraps (those added before it). Through the
//! frameworks' real service stacks (actix's `init_service`, axum's `Router`).

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use actix_web::{App, HttpResponse, web};
use axum::body::Body;
use axum::http::{Request, Response as AxumResponse};
use axum::response::{IntoResponse, Redirect};
use tower::ServiceExt;

/// What `/metrics` answered: its status, and whether it was the metrics endpoint (its
/// text exposition's content type).
#[derive(Debug, PartialEq)]
enum Answer {
    Metrics,
    Other(u16),
}

// ------------------------------------------------------------------------------ actix-web

/// The pages of an app, as a module registers them: a catch-all scope (`web::scope("")`
/// matches every path, so nothing registered after it is reached).
fn pages(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("").route("/app", web::get().to(|| async { "app" })));
}

async fn actix_answer<S, B>(app: &S, path: &str, cookie: bool) -> Answer
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = TestRequest::get().uri(path);
    if cookie {
        req = req.insert_header(("cookie", "session=1"));
    }
    let resp = call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let metrics = resp
        .headers()
        .get("content-type")
        .is_some_and(|value| value.as_bytes().starts_with(b"text/plain; version=0.0.4"));
    read_body(resp).await;
    if status == 200 && metrics {
        Answer::Metrics
    } else {
        Answer::Other(status)
    }
}

#[actix_web::test]
async fn actix_metrics_before_a_catch_all_scope() {
    let app = init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default().exclude("/metrics"))
            .service(track_metrics::actix::metrics) // before the catch-all
            .configure(pages),
    )
    .await;
    assert_eq!(actix_answer(&app, "/metrics", false).await, Answer::Metrics);
    assert_eq!(actix_answer(&app, "/app", false).await, Answer::Other(200));
}

#[actix_web::test]
async fn actix_metrics_after_a_catch_all_scope_is_not_found() {
    let app = init_service(
        App::new()
            .configure(pages)
            .service(track_metrics::actix::metrics), // never reached
    )
    .await;
    assert_eq!(
        actix_answer(&app, "/metrics", false).await,
        Answer::Other(404)
    );
}

#[actix_web::test]
async fn actix_a_catch_all_route_answers_metrics_registered_after_it() {
    let shell = || async { HttpResponse::Ok().body("the app's shell") };
    let after = init_service(
        App::new()
            .route("/{tail:.*}", web::get().to(shell))
            .service(track_metrics::actix::metrics),
    )
    .await;
    assert_eq!(
        actix_answer(&after, "/metrics", false).await,
        Answer::Other(200)
    );
    let before = init_service(
        App::new()
            .service(track_metrics::actix::metrics)
            .route("/{tail:.*}", web::get().to(shell)),
    )
    .await;
    assert_eq!(
        actix_answer(&before, "/metrics", false).await,
        Answer::Metrics
    );
}

#[actix_web::test]
async fn actix_default_service_never_takes_metrics() {
    let app = init_service(
        App::new()
            .default_service(web::to(|| async {
                HttpResponse::NotFound().body("no such page")
            }))
            .service(track_metrics::actix::metrics),
    )
    .await;
    assert_eq!(actix_answer(&app, "/metrics", false).await, Answer::Metrics);
    assert_eq!(
        actix_answer(&app, "/nothing", false).await,
        Answer::Other(404)
    );
}

/// A login middleware: a request without a session cookie is redirected to `/login`.
async fn login(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.headers().contains_key("cookie") {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let redirect = HttpResponse::Found()
        .insert_header(("location", "/login"))
        .finish();
    Ok(req.into_response(redirect).map_into_right_body())
}

#[actix_web::test]
async fn actix_an_app_wide_login_redirects_scrapes() {
    let app = init_service(
        App::new()
            .wrap(from_fn(login))
            .service(track_metrics::actix::metrics)
            .route("/app", web::get().to(|| async { "app" })),
    )
    .await;
    assert_eq!(
        actix_answer(&app, "/metrics", false).await,
        Answer::Other(302)
    );
}

#[actix_web::test]
async fn actix_login_on_the_pages_scope_leaves_metrics_alone() {
    let app = init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default().exclude("/metrics"))
            .service(track_metrics::actix::metrics) // outside the login
            .service(
                web::scope("")
                    .wrap(from_fn(login))
                    .route("/app", web::get().to(|| async { "app" })),
            ),
    )
    .await;
    assert_eq!(actix_answer(&app, "/metrics", false).await, Answer::Metrics);
    assert_eq!(actix_answer(&app, "/app", false).await, Answer::Other(302));
    assert_eq!(actix_answer(&app, "/app", true).await, Answer::Other(200));

    // The same scope registered first takes `/metrics` too: redirected.
    let wrong = init_service(
        App::new()
            .service(
                web::scope("")
                    .wrap(from_fn(login))
                    .route("/app", web::get().to(|| async { "app" })),
            )
            .service(track_metrics::actix::metrics),
    )
    .await;
    assert_eq!(
        actix_answer(&wrong, "/metrics", false).await,
        Answer::Other(302)
    );
}

// ----------------------------------------------------------------------------------- axum

async fn axum_answer(app: &axum::Router, path: &str) -> Answer {
    let req = Request::builder().uri(path).body(Body::empty()).unwrap();
    let resp: AxumResponse<Body> = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let metrics = resp
        .headers()
        .get("content-type")
        .is_some_and(|value| value.as_bytes().starts_with(b"text/plain; version=0.0.4"));
    if status == 200 && metrics {
        Answer::Metrics
    } else {
        Answer::Other(status)
    }
}

async fn shell() -> &'static str {
    "the app's shell"
}

#[tokio::test]
async fn axum_fallbacks_and_wildcards_never_take_metrics() {
    use axum::routing::get;
    let metrics = get(track_metrics::axum::metrics);
    // Each app, and what it answers for a path it has no route for.
    let apps = [
        (
            axum::Router::new()
                .fallback(shell)
                .route("/metrics", metrics.clone()),
            200,
        ),
        (
            axum::Router::new()
                .route("/metrics", metrics.clone())
                .fallback(shell),
            200,
        ),
        (
            axum::Router::new()
                .route("/{*path}", get(shell))
                .route("/metrics", metrics.clone()),
            200,
        ),
        (
            axum::Router::new()
                .route("/{page}", get(shell))
                .route("/metrics", metrics.clone()),
            200,
        ),
        // A nested router's fallback answers under its prefix only.
        (
            axum::Router::new()
                .nest(
                    "/api",
                    axum::Router::new().route("/x", get(shell)).fallback(shell),
                )
                .route("/metrics", metrics),
            404,
        ),
    ];
    for (app, elsewhere) in &apps {
        assert_eq!(axum_answer(app, "/metrics").await, Answer::Metrics);
        assert_eq!(
            axum_answer(app, "/elsewhere").await,
            Answer::Other(*elsewhere)
        );
    }
    assert_eq!(
        axum_answer(&apps[4].0, "/api/nothing").await,
        Answer::Other(200)
    );
}

#[test]
#[should_panic(expected = "Nesting at the root is no longer supported")]
fn axum_cannot_nest_at_the_root() {
    let _ = axum::Router::<()>::new().nest("/", axum::Router::new());
}

/// A login layer: a request without a session cookie is redirected to `/login`.
async fn axum_login(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.headers().contains_key("cookie") {
        next.run(req).await
    } else {
        Redirect::to("/login").into_response()
    }
}

#[tokio::test]
async fn axum_a_layer_wraps_only_the_routes_added_before_it() {
    use axum::middleware::from_fn;
    use axum::routing::get;
    // `/metrics` after the login layer: not redirected; the pages are.
    let app = axum::Router::new()
        .route("/app", get(shell))
        .layer(from_fn(axum_login))
        .route("/metrics", get(track_metrics::axum::metrics))
        .layer(track_metrics::axum::RequestMetricsLayer::new().exclude("/metrics"));
    assert_eq!(axum_answer(&app, "/metrics").await, Answer::Metrics);
    assert_eq!(axum_answer(&app, "/app").await, Answer::Other(303));

    // Before it: redirected like the pages.
    let wrong = axum::Router::new()
        .route("/app", get(shell))
        .route("/metrics", get(track_metrics::axum::metrics))
        .layer(from_fn(axum_login));
    assert_eq!(axum_answer(&wrong, "/metrics").await, Answer::Other(303));
}
