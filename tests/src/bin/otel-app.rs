//! `otel-app`: an axum service in the OpenTelemetry naming
//! (`Config::naming(Naming::OpenTelemetry)`, CONTRACT §16), for the live ops tests
//! (`tests/tests/ops_live/otel.rs`): the stack's Prometheus scrapes it with the shipped rule
//! files. A process of its own, as the naming is set once per process and the tests' own
//! process already serves an app in the Prometheus naming (`tenant-app`).
//!
//! Every request is counted by `RequestMetricsLayer` (the unmatched ones too, with no route
//! and no handler), every handler is tracked:
//! - `GET /orders/{id}`: 200, or 500 for id 0 (an error on demand); objective `checkout`
//!   (99 % succeed, 99 % within 300 ms).
//! - `GET /slow/{ms}`: answers 200 after `ms` milliseconds; objective `browse` (99 % succeed,
//!   99 % within 1 s).
//! - `GET /metrics`, outside the layer: its scrapes are not the service's traffic.
//!
//! Listens on `BIND_ADDR` (a loopback address; default `127.0.0.1:8090`) and writes
//! `otel-app listening on http://ADDR` to stderr; a bad address exits 2.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::{Config, Naming, Objective, track_metrics};

/// Where it listens without `BIND_ADDR`.
const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8090";

/// The objective of `/orders/{id}`; its latency threshold is a bound of the histogram
/// (`Config::objectives`), not one of the conventions' buckets.
const CHECKOUT: Objective = Objective::new("checkout")
    .success_rate(0.99)
    .latency(Duration::from_millis(300), 0.99);

/// The objective of `/slow/{ms}`.
const BROWSE: Objective = Objective::new("browse")
    .success_rate(0.99)
    .latency(Duration::from_secs(1), 0.99);

/// The longest `/slow/{ms}` waits.
const MAX_SLOW_MS: u64 = 5000;

/// `GET /orders/{id}`: 500 for the order 0, else 200.
#[track_metrics(objective = CHECKOUT)]
async fn get_order(Path(id): Path<u32>) -> StatusCode {
    if id == 0 {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::OK
    }
}

/// `GET /slow/{ms}`: 200 after `ms` milliseconds (at most [`MAX_SLOW_MS`]).
#[track_metrics(objective = BROWSE)]
async fn slow(Path(ms): Path<u64>) -> StatusCode {
    tokio::time::sleep(Duration::from_millis(ms.min(MAX_SLOW_MS))).await;
    StatusCode::OK
}

fn main() -> ExitCode {
    if let Err(err) = track_metrics::configure(
        Config::new()
            .naming(Naming::OpenTelemetry)
            .objectives(&[CHECKOUT, BROWSE]),
    ) {
        eprintln!("otel-app: cannot configure track-metrics: {err}");
        return ExitCode::from(2);
    }
    track_metrics::build_info!();

    let raw = std::env::var("BIND_ADDR").unwrap_or_else(|_| DEFAULT_BIND_ADDR.to_owned());
    let addr: SocketAddr = match raw.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("otel-app: invalid BIND_ADDR {raw:?}: {err} (expected IP:PORT)");
            return ExitCode::from(2);
        }
    };
    let served = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .and_then(|runtime| runtime.block_on(serve(addr)));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("otel-app: cannot serve on {addr}: {err}");
            ExitCode::from(2)
        }
    }
}

/// Serves until the process is killed.
async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let app = Router::new()
        .route("/orders/{id}", get(get_order))
        .route("/slow/{ms}", get(slow))
        .layer(RequestMetricsLayer::new())
        .route("/metrics", get(track_metrics::axum::metrics));
    eprintln!("otel-app listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
