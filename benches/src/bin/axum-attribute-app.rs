//! The axum example (`examples/axum-app`'s very routes, included from its source)
//! without the `RequestMetricsLayer`: every handler counted by its `#[track_metrics]`
//! alone. `scripts/bench-service --framework axum` measures it next to the example, to
//! tell the attribute's cost in a service from the layer's. With `BENCH_FLOOR` set, under
//! a layer that only passes requests on: what axum itself costs for any layer on a
//! Router (it makes a boxed, cloned route service of it), the floor under any metrics
//! layer.
//!
//! Listens on `BIND_ADDR` (default `127.0.0.1:8081`); stops on SIGINT or SIGTERM.

use std::process::ExitCode;

// `router`, the example's routes with the layer, is not used here.
#[allow(dead_code)]
#[path = "../../../examples/axum-app/src/routes.rs"]
mod routes;

fn main() -> ExitCode {
    metrics_benches::axum_server::main("axum-attribute-app", "127.0.0.1:8081", || {
        let app = routes::routes(routes::AppState::new());
        if std::env::var_os("BENCH_FLOOR").is_some() {
            app.layer(metrics_benches::floor::axum_pass_through())
        } else {
            app
        }
    })
}
