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

fn scrape(metrics: &str) -> Scrape {
    let answer = get(&format!("{metrics}/metrics"), &[]);
    assert_eq!(answer.status, 200);
    Scrape::parse(&answer.body)
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
    for id in 1..=7 {
        assert_eq!(get(&format!("{public}/sp/orders/{id}"), &[]).status, 200);
    }
    assert_eq!(get(&format!("{public}/metrics"), &[]).status, 404);
    let scrape = scrape(&metrics);
    assert_eq!(
        scrape.requests("sp_actix_order", "GET", "/sp/orders/{id}", "200"),
        7.0
    );
    // The metrics listener has no middleware: its scrapes are not requests of the app.
    let again = self::scrape(&metrics);
    assert_eq!(again.total_under("/metrics"), 0.0);
    assert_eq!(
        again.requests("sp_actix_order", "GET", "/sp/orders/{id}", "200"),
        7.0
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
    for _ in 0..5 {
        assert_eq!(
            get(&format!("http://{public}/sp/axum/orders"), &[]).status,
            200
        );
    }
    assert_eq!(get(&format!("http://{public}/metrics"), &[]).status, 404);
    let scrape = scrape(&format!("http://{metrics}"));
    assert_eq!(
        scrape.requests("sp_axum_order", "GET", "/sp/axum/orders", "200"),
        5.0
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
    for _ in 0..3 {
        assert_eq!(
            get(&format!("http://{public}/sp/exported"), &[]).status,
            200
        );
    }
    let scrape = scrape(&format!("http://{}", exporter.local_addr()));
    assert_eq!(
        scrape.requests("sp_exported", "GET", "/sp/exported", "200"),
        3.0
    );
}
