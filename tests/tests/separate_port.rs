//! `/metrics` on a port of its own in an actix-web and an axum app (docs/exporter.md): the
//! public listener has no `/metrics` (a 404 there, counted like any unmatched request),
//! the second one serves only `/metrics`, and every public request reads back exactly
//! from it; the metrics listener's own requests are not counted. Also the same with the
//! standalone exporter beside an axum app. Real sockets throughout.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use axum::Router;
use axum::routing::get as axum_get;
use metrics_tests::http::get;
use metrics_tests::scrape::Scrape;
use metrics_tests::server::serve_on_own_runtime;
use track_metrics::track_metrics;

/// Sends a request to each of `paths` on the public base URL `public`; then the public
/// listener has no `/metrics`, the listener at `metrics` counts exactly these requests as
/// (`handler`, `GET`, `route`, 200), and its own scrapes are not counted.
fn only_public_requests_counted(
    public: &str,
    paths: &[String],
    metrics: &str,
    (handler, route): (&str, &str),
) {
    for path in paths {
        assert_eq!(get(&format!("{public}{path}"), &[]).status, 200, "{path}");
    }
    assert_eq!(get(&format!("{public}/metrics"), &[]).status, 404);
    let sent = paths.len() as f64;
    let first = Scrape::fetch(metrics);
    assert_eq!(first.requests(handler, "GET", route, "200"), sent);
    let again = Scrape::fetch(metrics);
    assert_eq!(again.total_under("/metrics"), 0.0);
    assert_eq!(again.requests(handler, "GET", route, "200"), sent);
}

/// `path`, `n` times.
fn times(path: &str, n: usize) -> Vec<String> {
    vec![path.to_owned(); n]
}

#[track_metrics]
async fn sp_actix_order(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(id.to_string())
}

// The actix-web app on one port, `/metrics` alone on another; their base URLs.
fn actix_app() -> (String, String) {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let public = HttpServer::new(|| {
                App::new()
                    .wrap(track_metrics::actix::RequestMetrics::default())
                    .route("/sp/orders/{id}", web::get().to(sp_actix_order))
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            let metrics = HttpServer::new(|| App::new().service(track_metrics::actix::metrics))
                .workers(1)
                .bind(("127.0.0.1", 0))
                .unwrap();
            let urls = (
                format!("http://{}", public.addrs()[0]),
                format!("http://{}", metrics.addrs()[0]),
            );
            tx.send(urls).unwrap();
            let (public, metrics) = (public.run(), metrics.run());
            let _ = tokio::join!(public, metrics);
        });
    });
    rx.recv_timeout(Duration::from_secs(20)).unwrap()
}

#[test]
fn actix_web_serves_metrics_on_a_port_of_its_own() {
    let (public, metrics) = actix_app();
    // The metrics listener has no middleware: its scrapes are not requests of the app.
    only_public_requests_counted(
        &public,
        &(1..=7)
            .map(|id| format!("/sp/orders/{id}"))
            .collect::<Vec<_>>(),
        &metrics,
        ("sp_actix_order", "/sp/orders/{id}"),
    );
}

#[track_metrics]
async fn sp_axum_order() -> &'static str {
    "order"
}

#[test]
fn axum_serves_metrics_on_a_port_of_its_own() {
    let public = serve_on_own_runtime(|listener| async move {
        let app = Router::new()
            .route("/sp/axum/orders", axum_get(sp_axum_order))
            .layer(track_metrics::axum::RequestMetricsLayer::new());
        axum::serve(listener, app).await.unwrap();
    });
    let metrics = serve_on_own_runtime(|listener| async move {
        let app = Router::new().route("/metrics", axum_get(track_metrics::axum::metrics));
        axum::serve(listener, app).await.unwrap();
    });
    only_public_requests_counted(
        &format!("http://{public}"),
        &times("/sp/axum/orders", 5),
        &format!("http://{metrics}"),
        ("sp_axum_order", "/sp/axum/orders"),
    );
}

#[track_metrics]
async fn sp_exported() -> &'static str {
    "exported"
}

#[test]
fn the_exporter_serves_an_axum_apps_metrics() {
    let exporter = track_metrics::exporter::spawn("127.0.0.1:0".parse().unwrap()).unwrap();
    let public = serve_on_own_runtime(|listener| async move {
        let app = Router::new()
            .route("/sp/exported", axum_get(sp_exported))
            .layer(track_metrics::axum::RequestMetricsLayer::new());
        axum::serve(listener, app).await.unwrap();
    });
    only_public_requests_counted(
        &format!("http://{public}"),
        &times("/sp/exported", 3),
        &format!("http://{}", exporter.local_addr()),
        ("sp_exported", "/sp/exported"),
    );
}
