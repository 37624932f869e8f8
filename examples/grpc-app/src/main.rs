//! The example gRPC service: `demo.Echo` (see `proto/demo.proto`) on `BIND_ADDR`
//! (default `127.0.0.1:50051`), every RPC counted by the `GrpcMetricsLayer`, and
//! `/metrics` on `METRICS_ADDR` (default `127.0.0.1:9465`) through the exporter.
//! SIGINT or SIGTERM stops it cleanly, exit code 0.
//!
//! ```sh
//! cargo run -p grpc-app
//! curl -s localhost:9465/metrics | grep grpc_server_
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;

use grpc_app::{EchoService, echo_server::EchoServer};
use tonic::transport::Server;
use track_metrics::tonic::GrpcMetricsLayer;

/// Where the service listens unless `BIND_ADDR` says otherwise.
const DEFAULT_BIND_ADDR: &str = "127.0.0.1:50051";
/// Where `/metrics` is served unless `METRICS_ADDR` says otherwise.
const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9465";

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("grpc-app: {message}");
            ExitCode::from(2)
        }
    }
}

fn address(var: &str, default: &str) -> Result<SocketAddr, String> {
    let addr = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    addr.parse()
        .map_err(|err| format!("{var}={addr:?} is not an address: {err}"))
}

fn run() -> Result<(), String> {
    // build_info{service="grpc-app", version, revision}.
    track_metrics::build_info!();
    let bind = address("BIND_ADDR", DEFAULT_BIND_ADDR)?;
    let metrics = address("METRICS_ADDR", DEFAULT_METRICS_ADDR)?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|err| format!("cannot start the runtime: {err}"))?;
    runtime.block_on(async {
        let exporter = track_metrics::exporter::spawn(metrics).map_err(|err| err.to_string())?;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|err| format!("cannot listen on BIND_ADDR={bind}: {err}"))?;
        log::info!("grpc-app listening on {bind}, metrics on http://{metrics}/metrics");
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        Server::builder()
            .layer(GrpcMetricsLayer::new())
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming_shutdown(incoming, shutdown())
            .await
            .map_err(|err| format!("serving gRPC: {err}"))?;
        drop(exporter);
        log::info!("grpc-app stopped");
        Ok(())
    })
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            log::error!("grpc-app: cannot handle SIGTERM: {err}");
            std::future::pending::<()>().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    log::info!("grpc-app: stopping");
}
