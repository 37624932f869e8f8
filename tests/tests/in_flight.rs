//! `http_requests_in_flight` under `RequestMetrics` and `RequestMetricsLayer` (CONTRACT
//! §8, §9): a request is in flight from its start, and when a tracked handler names it,
//! its count moves with it, so a route shows one series per handler (none of
//! `handler=""` beside it: a series shows its gauge only once it has something to show),
//! and the gauge is exact while the handler runs.
//!
//! The tests of this binary run at once in one registry: each uses routes of its own
//! under `/if/…` and a method of its own.

use std::rc::Rc;
use std::sync::{Arc, Mutex};

use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpResponse, web};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode};
use metrics_tests::scrape::Scrape;
use tokio::sync::oneshot;
use tower::ServiceExt;
use track_metrics::actix::RequestMetrics;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::track_metrics;

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

// The in-flight series of `method` whose route is `route`, as `handler|method|route|`,
// with the gauges' sum.
fn in_flight_of(s: &Scrape, method: &str, route: &str) -> (Vec<String>, f64) {
    let sets = s
        .label_sets("http_requests_in_flight")
        .into_iter()
        .filter(|set| {
            let mut labels = set.split('|').skip(1);
            labels.next() == Some(method) && labels.next() == Some(route)
        })
        .collect();
    let total = s
        .samples("http_requests_in_flight")
        .iter()
        .filter(|(labels, _)| {
            let value = |name| {
                labels
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            value("method") == Some(method) && value("route") == Some(route)
        })
        .map(|(_, v)| v)
        .sum();
    (sets, total)
}

// A handler that tells the test it runs, then waits until the test releases it.
type Waiter = Arc<Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>>;

async fn wait_for_release(waiter: &Waiter) {
    let (started, release) = waiter.lock().unwrap().take().expect("one call");
    let _ = started.send(());
    let _ = release.await;
}

fn waiter() -> (Waiter, oneshot::Receiver<()>, oneshot::Sender<()>) {
    let (started_tx, started_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel();
    let waiter = Arc::new(Mutex::new(Some((started_tx, release_rx))));
    (waiter, started_rx, release_tx)
}

// ----------------------------------------------------------------- actix

#[track_metrics]
async fn if_item(id: web::Path<u32>) -> String {
    format!("item {id}")
}

async fn if_warm() -> &'static str {
    "warm"
}

// The first request of a worker (matched up front), and paths new to a worker that has
// answered before (in flight under `route=""` until routed): one series, the handler's.
#[actix_web::test]
async fn actix_one_in_flight_series_per_handler() {
    let app = init_service(
        App::new()
            .wrap(RequestMetrics::default())
            .route("/if/items/{id}", web::get().to(if_item))
            .route("/if/warm", web::get().to(if_warm)),
    )
    .await;
    for uri in ["/if/items/1", "/if/warm", "/if/items/2", "/if/items/2"] {
        let res = call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), 200, "{uri}");
    }
    let s = scrape();
    assert_eq!(s.requests("if_item", "GET", "/if/items/{id}", "200"), 3.0);
    let (sets, total) = in_flight_of(&s, "GET", "/if/items/{id}");
    assert_eq!(sets, ["if_item|GET|/if/items/{id}|"], "{}", s.text);
    assert_eq!(total, 0.0);
    // Nothing matched no route: no series of it.
    assert_eq!(in_flight_of(&s, "GET", "").0, Vec::<String>::new());
}

#[track_metrics]
async fn if_waits(state: web::Data<Waiter>) -> HttpResponse {
    wait_for_release(&state).await;
    HttpResponse::Ok().finish()
}

// While a tracked handler runs, exactly one request is in flight for its route, in its
// series; both for a worker's first request and for a path new to a warm worker.
#[actix_web::test]
async fn actix_exactly_one_in_flight_while_the_handler_runs() {
    for (uri, warm) in [("/if/waits/1", false), ("/if/waits/2", true)] {
        let (waiter, started, release) = waiter();
        let app = Rc::new(
            init_service(
                App::new()
                    .wrap(RequestMetrics::default())
                    .app_data(web::Data::new(waiter))
                    .route("/if/waits/{id}", web::put().to(if_waits))
                    .route("/if/warm-put", web::put().to(if_warm)),
            )
            .await,
        );
        if warm {
            let req = TestRequest::put().uri("/if/warm-put").to_request();
            assert_eq!(call_service(&*app, req).await.status(), 200);
        }
        let call = {
            let app = Rc::clone(&app);
            actix_web::rt::spawn(async move {
                call_service(&*app, TestRequest::put().uri(uri).to_request())
                    .await
                    .status()
            })
        };
        started.await.unwrap();
        let s = scrape();
        let route = "/if/waits/{id}";
        let (sets, total) = in_flight_of(&s, "PUT", route);
        assert_eq!(sets, ["if_waits|PUT|/if/waits/{id}|"], "{uri}: {}", s.text);
        assert_eq!(total, 1.0, "{uri}");
        assert_eq!(s.in_flight("if_waits", "PUT", route), 1.0);
        assert_eq!(
            in_flight_of(&s, "PUT", "").1,
            0.0,
            "{uri}: not under no route"
        );
        release.send(()).unwrap();
        assert_eq!(call.await.unwrap(), 200);
        let s = scrape();
        assert_eq!(in_flight_of(&s, "PUT", route).1, 0.0);
        assert_eq!(in_flight_of(&s, "PUT", "").0, Vec::<String>::new());
    }
    let s = scrape();
    assert_eq!(s.requests("if_waits", "PUT", "/if/waits/{id}", "200"), 2.0);
    s.assert_counted_once("/if/waits/");
}

// ----------------------------------------------------------------- axum

#[track_metrics]
async fn if_ax_item(axum::extract::Path(id): axum::extract::Path<u32>) -> String {
    format!("item {id}")
}

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn axum_one_in_flight_series_per_handler() {
    let app = Router::new()
        .route("/if/ax/{id}", axum::routing::delete(if_ax_item))
        .layer(RequestMetricsLayer::new());
    for id in 1..=3 {
        let res = app
            .clone()
            .oneshot(request("DELETE", &format!("/if/ax/{id}")))
            .await;
        assert_eq!(res.unwrap().status(), StatusCode::OK);
    }
    let s = scrape();
    let route = "/if/ax/{id}";
    assert_eq!(s.requests("if_ax_item", "DELETE", route, "200"), 3.0);
    let (sets, total) = in_flight_of(&s, "DELETE", route);
    assert_eq!(sets, ["if_ax_item|DELETE|/if/ax/{id}|"], "{}", s.text);
    assert_eq!(total, 0.0);
}

#[track_metrics]
async fn if_ax_waits(State(waiter): State<Waiter>) -> StatusCode {
    wait_for_release(&waiter).await;
    StatusCode::OK
}

#[tokio::test]
async fn axum_exactly_one_in_flight_while_the_handler_runs() {
    let (waiter, started, release) = waiter();
    let app = Router::new()
        .route("/if/ax-waits/{id}", axum::routing::patch(if_ax_waits))
        .with_state(waiter)
        .layer(RequestMetricsLayer::new());
    let call = tokio::spawn(app.oneshot(request("PATCH", "/if/ax-waits/1")));
    started.await.unwrap();
    let route = "/if/ax-waits/{id}";
    let s = scrape();
    let (sets, total) = in_flight_of(&s, "PATCH", route);
    assert_eq!(sets, ["if_ax_waits|PATCH|/if/ax-waits/{id}|"], "{}", s.text);
    assert_eq!(total, 1.0);
    release.send(()).unwrap();
    assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
    let s = scrape();
    assert_eq!(
        in_flight_of(&s, "PATCH", route),
        (vec!["if_ax_waits|PATCH|/if/ax-waits/{id}|".to_owned()], 0.0)
    );
    assert_eq!(s.requests("if_ax_waits", "PATCH", route, "200"), 1.0);
    s.assert_counted_once("/if/ax-waits/");
}
