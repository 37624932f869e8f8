//! The axum example (`examples/axum-app`'s very routes, included from its source)
//! without the `RequestMetricsLayer`: every handler counted by its `#[track_metrics]`
//! alone. `scripts/bench-service --framework axum` measures it next to the example, to
//! tell the attribute's cost in a service from the layer's. With `BENCH_FLOOR` set, under
//! a layer that only passes requests on: what axum itself costs for any layer on a
//! Router (it makes a boxed, cloned route service of it), the floor under any metrics
//! layer.
//!
//! Listens on `BIND_ADDR` (default `127.0.0.1:8081`); stops on SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

// `router`, the example's routes with the layer, is not used here.
#[allow(dead_code)]
#[path = "../../../examples/axum-app/src/routes.rs"]
mod routes;

fn main() -> ExitCode {
    let raw = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    let addr: SocketAddr = match raw.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("axum-attribute-app: invalid BIND_ADDR {raw:?}: {err}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("axum-attribute-app: cannot start tokio: {err}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("axum-attribute-app: cannot serve on {addr}: {err}");
            ExitCode::from(2)
        }
    }
}

async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let app = routes::routes(routes::AppState::new());
    let app = if std::env::var_os("BENCH_FLOOR").is_some() {
        app.layer(tower::util::MapRequestLayer::new(
            |req: axum::extract::Request| req,
        ))
    } else {
        app
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                let _ = tokio::signal::ctrl_c().await;
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        })
        .await
}
