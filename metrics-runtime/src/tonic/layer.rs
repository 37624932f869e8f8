//! The `Layer` users add to tonic's `Server::builder()`.

use tower_layer::Layer;

use super::GrpcMetricsService;

/// A tower `Layer` that counts every RPC a tonic server answers, once, in the families
/// of go-grpc-middleware's `providers/prometheus` (formerly go-grpc-prometheus), so that
/// dashboards and alerts written for Go services work unchanged:
///
/// | family | labels | when |
/// |---|---|---|
/// | `grpc_server_started_total` | `grpc_type`, `grpc_service`, `grpc_method` | the request arrives |
/// | `grpc_server_handled_total` | the same and `grpc_code` | the RPC ends |
/// | `grpc_server_handling_seconds` | `grpc_type`, `grpc_service`, `grpc_method` | from arrival to the end |
/// | `grpc_server_msg_received_total` | `grpc_type`, `grpc_service`, `grpc_method` | each message of the request |
/// | `grpc_server_msg_sent_total` | `grpc_type`, `grpc_service`, `grpc_method` | each message of the response |
///
/// - `grpc_service` (`pkg.Service`) and `grpc_method` (`Method`) come from the request's
///   path `/pkg.Service/Method`.
/// - `grpc_type` (`unary`, `client_stream`, `server_stream`, `bidi_stream`) is exact for a
///   method whose function is `#[track_metrics]`: its types say it (`tonic::Streaming` in
///   the request, a `Stream` in the response), and under the layer the function records
///   nothing of its own. For any other method it is inferred from the messages: more than
///   one received, the client streams; more than one sent, the server streams. A method
///   whose streams happened to carry one message so far counts as `unary` until one
///   carries more (from its next RPC on).
/// - `grpc_code` is Go's name of the status the client receives: the `grpc-status` of the
///   response headers (a trailers-only answer) or of the trailers; `DeadlineExceeded` once
///   the request's `grpc-timeout` has passed (also when tonic's own timeout drops the
///   call); `Canceled` when the response (or its body) is dropped before a status;
///   `Internal` when the service or the body panics (the panic goes on unwinding);
///   `Unknown` when the status is missing or no code.
/// - Messages are gRPC's length-prefixed ones, counted as the bodies' bytes pass, never
///   copied.
///
/// Labels are bounded by the program, never by clients: a method counts under its own
/// name once it is known to exist (its tracked function ran, or an RPC of it answered
/// something other than `Unimplemented`); an RPC answered `Unimplemented` (an unknown
/// service or method), or dropped before any answer while its method is not known,
/// counts with `grpc_service` and `grpc_method` `""` and `grpc_type="unary"`. A method's
/// series appear with its first RPC (Go's `Register` creates them up front; a layer cannot
/// see the methods before); the first RPC of an untracked method counts as started when
/// it ends.
///
/// Only gRPC requests (`content-type: application/grpc…`) are counted; any other passes
/// through, so an axum router on the same port keeps its own counts (see
/// `docs/grpc.md`). The inner service gets the request with its body wrapped
/// ([`GrpcRequestBody`](super::GrpcRequestBody)), so the layer goes where the inner service
/// takes any body: `Server::builder().layer(..)`, or around a tonic service
/// (`GrpcMetricsLayer::new().layer(GreeterServer::new(..))`), not `axum::Router::layer`.
///
/// When metrics are disabled the layer only forwards and registers nothing. It never
/// changes the response: its body is the inner one, wrapped to see its frames.
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
