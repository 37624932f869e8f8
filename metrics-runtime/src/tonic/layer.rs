//! The `Layer` users add to tonic's `Server::builder()`.

use tower_layer::Layer;

use super::GrpcMetricsService;

/// A tower `Layer` that counts every RPC a tonic server answers, once, in the families
/// of go-grpc-middleware's `providers/prometheus`:
///
/// | family | labels | when |
/// |---|---|---|
/// | `grpc_server_started_total` | `grpc_type`, `grpc_service`, `grpc_method` | the request arrives |
/// | `grpc_server_handled_total` | the same and `grpc_code` | the RPC ends |
/// | `grpc_server_handling_seconds` | `grpc_type`, `grpc_service`, `grpc_method` | from arrival to the end |
///
/// `grpc_service` (`pkg.Service`) and `grpc_method` (`Method`) come from the request's
/// path `/pkg.Service/Method`. `grpc_code` is Go's name of the status the client
/// receives: the `grpc-status` of the response headers (a trailers-only answer) or of the
/// trailers; `Canceled` when the response (or its body) is dropped before either;
/// `Internal` when the service or the body panics (the panic goes on unwinding); `Unknown`
/// when the status is missing or no code.
///
/// Labels are bounded by the program, never by clients: an RPC answered `Unimplemented`
/// (an unknown service or method) counts with `grpc_service` and `grpc_method` `""`, as
/// does a path that is not of a method's shape. A method counts under its own name
/// once it has answered anything else; until then (the very first RPC of a method) it
/// counts as started when its answer begins, and one dropped before any answer counts
/// with the `""` labels (one that panicked, with its own: only a handler panics).
///
/// This first version counts every RPC with `grpc_type="unary"`: streaming RPCs are
/// counted and timed (to the end of the stream), but not yet told apart, and the
/// message families (`grpc_server_msg_received_total`, `grpc_server_msg_sent_total`)
/// are not exposed yet.
///
/// When metrics are disabled the layer only forwards and registers nothing. It never
/// changes the response: its body is the inner one, wrapped to see its end.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tonic::transport::Server;
/// use track_metrics::tonic::GrpcMetricsLayer;
///
/// let (_, health) = tonic_health::server::health_reporter();
/// Server::builder()
///     .layer(GrpcMetricsLayer::new())
///     .add_service(health)
///     .serve("127.0.0.1:50051".parse()?)
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GrpcMetricsLayer {
    _private: (),
}

impl GrpcMetricsLayer {
    /// The layer.
    pub fn new() -> GrpcMetricsLayer {
        GrpcMetricsLayer::default()
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetricsService<S>;

    fn layer(&self, inner: S) -> GrpcMetricsService<S> {
        GrpcMetricsService { inner }
    }
}
