//! The example gRPC service: `demo.Echo` (see `proto/demo.proto`) on `BIND_ADDR`
//! (default `127.0.0.1:50051`), every RPC counted by the `GrpcMetricsLayer`, and
//! `/metrics` on `METRICS_ADDR` (default `127.0.0.1:9465`) through the exporter.
//! SIGINT or SIGTERM stops it cleanly, exit code 0: running RPCs get up to 5 seconds to
//! finish.
//!
//! ```sh
//! cargo run -p grpc-app
//! curl -s localhost:9465/metrics | grep grpc_server_
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use grpc_app::{EchoService, echo_server::EchoServer};
use tonic::transport::Server;
use track_metrics::tonic::GrpcMetricsLayer;

/// Where the service listens unless `BIND_ADDR` says otherwise.
const DEFAULT_BIND_ADDR: &str = "127.0.0.1:50051";
/// Where `/metrics` is served unless `METRICS_ADDR` says otherwise.
const DEFAULT_METRICS_ADDR: &str = "127.0.0.1:9465";
/// How long RPCs running at SIGINT or SIGTERM may take to finish.
const GRACE: Duration = Duration::from_secs(5);

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
        let exporter = track_metrics::exporter::spawn(metrics)
            .map_err(|err| format!("METRICS_ADDR: {err}"))?;
        let listener = tokio::net::TcpListener::bind(bind)
            .await
            .map_err(|err| format!("cannot listen on BIND_ADDR={bind}: {err}"))?;
        // The bound addresses: with port 0 the system picks them.
        let grpc = listener
            .local_addr()
            .map_err(|err| format!("BIND_ADDR={bind}: {err}"))?;
        log::info!("grpc-app serving gRPC on {grpc}");
        log::info!(
            "grpc-app metrics listening on http://{}",
            exporter.local_addr()
        );
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = Server::builder()
            .layer(GrpcMetricsLayer::new())
            .add_service(EchoServer::new(EchoService))
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stopped.await;
            });
        tokio::pin!(server);
        tokio::select! {
            served = &mut server => served.map_err(|err| format!("serving gRPC: {err}"))?,
            () = shutdown() => {
                // Running RPCs may finish; a stream a client keeps open does not hold the
                // process for ever.
                let _ = stop.send(());
                match tokio::time::timeout(GRACE, &mut server).await {
                    Ok(served) => served.map_err(|err| format!("serving gRPC: {err}"))?,
                    Err(_) => log::warn!("grpc-app: RPCs still running after {GRACE:?}, dropped"),
                }
            }
        }
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
