//! A user's tonic server: the standard health service behind tower-http's timeout (which
//! answers with a default body of its own, so the layer inside it must have one) and
//! track-metrics' `GrpcMetricsLayer`, which counts every RPC in go-grpc-prometheus'
//! families; and a counter of the user's own in `track_metrics::registry()`.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::IntCounter;
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use track_metrics::tonic::GrpcMetricsLayer;

/// The service the health service reports `SERVING` for.
pub const SERVICE: &str = "shop.Orders";

/// Servers started: the user's own counter.
pub static STARTS: LazyLock<IntCounter> = LazyLock::new(|| {
    let counter = IntCounter::new("shop_server_starts_total", "Servers started.").unwrap();
    track_metrics::registry()
        .register(Box::new(counter.clone()))
        .unwrap();
    counter
});

/// Serves the health service on `listener` until the process ends.
pub async fn serve(listener: TcpListener) -> Result<(), tonic::transport::Error> {
    STARTS.inc();
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status(SERVICE, ServingStatus::Serving)
        .await;
    let timeout = tower_http::timeout::TimeoutLayer::with_status_code(
        tonic::codegen::http::StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(30),
    );
    Server::builder()
        .layer(timeout)
        .layer(GrpcMetricsLayer::new())
        .add_service(health)
        .serve_with_incoming(TcpIncoming::from(listener))
        .await
}
