//! `/metrics` on a port of its own in an actix-web and an axum app (docs/exporter.md): the
//! public listener has no `/metrics` (a 404 there, counted like any unmatched request),
//! the second one serves only `/metrics`, and every public request reads back exactly
//! from it; the metrics listener's own requests are not counted. Also the same with the
//! standalone exporter beside an axum app. Real sockets throughout. The actix-web setup
//! is the guide's own code (`guides/actix_second_listener.rs`, which the guide shows word
//! for word: `the_guide_shows_the_tested_actix_code`).

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

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

// The guide's code; its `main` binds addresses of the guide's, the test calls `serve`.
#[allow(dead_code)]
#[path = "guides/actix_second_listener.rs"]
mod guide;

// The guide's actix-web app on one port, `/metrics` alone on another; their base URLs.
fn actix_app() -> (String, String) {
    let public = TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics = TcpListener::bind("127.0.0.1:0").unwrap();
    let urls = (
        format!("http://{}", public.local_addr().unwrap()),
        format!("http://{}", metrics.local_addr().unwrap()),
    );
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            // The listeners are bound already: the servers accept once `serve` runs them.
            tx.send(()).unwrap();
            guide::serve(public, metrics).await.unwrap();
        });
    });
    rx.recv_timeout(Duration::from_secs(20)).unwrap();
    urls
}

#[test]
fn actix_web_serves_metrics_on_a_port_of_its_own() {
    let (public, metrics) = actix_app();
    // The metrics listener has no middleware: its scrapes are not requests of the app.
    only_public_requests_counted(
        &public,
        &(1..=7)
            .map(|id| format!("/orders/{id}"))
            .collect::<Vec<_>>(),
        &metrics,
        ("get_order", "/orders/{id}"),
    );
}

/// The guide's actix-web example is the code tested above, word for word: the block that
/// follows its marker in docs/exporter.md is `guides/actix_second_listener.rs` without its
/// leading `//!` lines.
#[test]
fn the_guide_shows_the_tested_actix_code() {
    let root = metrics_tests::workspace_root();
    let guide = std::fs::read_to_string(root.join("docs/exporter.md")).unwrap();
    let marker = "<!-- tests/tests/guides/actix_second_listener.rs -->\n```rust\n";
    let start = guide.find(marker).expect("the marker in docs/exporter.md") + marker.len();
    let shown = &guide[start..start + guide[start..].find("```\n").unwrap()];
    let tested =
        std::fs::read_to_string(root.join("tests/tests/guides/actix_second_listener.rs")).unwrap();
    let tested: String = tested
        .lines()
        .skip_while(|line| line.starts_with("//!"))
        .skip_while(|line| line.is_empty())
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        shown, tested,
        "docs/exporter.md shows other code than the tested file"
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
