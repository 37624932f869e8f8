//! Sends N requests of `GET /users/{id}` through an axum Router for one variant, for
//! instruction counts under callgrind: `callgrind_axum <variant> <requests> [seen|new]`;
//! see `benches/callgrind.sh --axum`, which counts only inside the measured loop, for
//! two values of N, and divides the difference. The app is the one of
//! `benches/axum.rs`.

use axum::Router;
use axum_prometheus::PrometheusMetricLayer;
use metrics_benches::axum_request_app::{routes, send_with};
use tokio::runtime::Runtime;
use track_metrics::axum::RequestMetricsLayer;

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let requests: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let new_paths = args.next().as_deref() == Some("new");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let app = match variant.as_str() {
        "bare" => routes(false),
        "attribute" => routes(true),
        "layer" => routes(false).layer(RequestMetricsLayer::new()),
        "layer+attribute" => routes(true).layer(RequestMetricsLayer::new()),
        // The floor of any layer on a Router: one that only passes the request on
        // (axum still makes a boxed, cloned route service of it).
        "noop-layer" => routes(false).layer(metrics_benches::floor::axum_pass_through()),
        // Every request with an `x-tenant: acme` header; `+label`: a request label reads
        // it (`Config::label`), else nothing does (the same request, for the difference).
        "layer+attribute+tenant" => routes(true).layer(RequestMetricsLayer::new()),
        // The OpenTelemetry naming (`Config::naming`).
        "layer+attribute+otel" => {
            metrics_benches::configure_otel_naming();
            routes(true).layer(RequestMetricsLayer::new())
        }
        "layer+attribute+label" => {
            metrics_benches::configure_tenant_label();
            routes(true).layer(RequestMetricsLayer::new())
        }
        "axum-prometheus" => {
            let _rt = rt.enter();
            routes(false).layer(PrometheusMetricLayer::new())
        }
        other => {
            eprintln!(
                "callgrind_axum: unknown variant {other:?}; usage: callgrind_axum <variant> <requests> [seen|new]"
            );
            std::process::exit(2);
        }
    };
    // What `axum::serve` does for each connection: the handlers and the layers on them
    // become services once, not per request.
    let app = app.with_state(());
    let tenant = variant.ends_with("+tenant") || variant.ends_with("+label");
    // Requests first, so that first-use work (registration, clock calibration, the
    // route's first answered request) happens outside the loop callgrind counts.
    for i in 0..100 {
        rt.block_on(send_with(&app, i, tenant.then_some("acme")));
    }
    measured_loop(&rt, &app, requests, new_paths, tenant);
}

// callgrind.sh counts the instructions executed inside this function only.
#[inline(never)]
fn measured_loop(rt: &Runtime, app: &Router, requests: u64, new_paths: bool, tenant: bool) {
    for i in 0..requests {
        // Ids 0..100 over and over (paths served before), or never the same twice.
        let id = if new_paths { 1000 + i } else { i % 100 };
        rt.block_on(send_with(app, id, tenant.then_some("acme")));
    }
}
