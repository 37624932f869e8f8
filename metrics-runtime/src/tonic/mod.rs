//! gRPC on tonic 0.14: the [`GrpcMetricsLayer`], which counts every RPC of a server once
//! in the families Go services expose (go-grpc-middleware's `providers/prometheus`).
//! Cargo feature `tonic`; compiles no actix-web and no axum.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tonic::transport::Server;
//! use track_metrics::tonic::GrpcMetricsLayer;
//!
//! let (reporter, health) = tonic_health::server::health_reporter();
//! reporter.set_service_status("", tonic_health::ServingStatus::Serving).await;
//! Server::builder()
//!     .layer(GrpcMetricsLayer::new()) // every RPC, once
//!     .add_service(health)
//!     .serve("127.0.0.1:50051".parse()?)
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! Its families appear on the same `/metrics` as every other (`track_metrics::render()`,
//! the exporter):
//!
//! ```text
//! grpc_server_started_total{grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"} 1
//! grpc_server_handled_total{grpc_code="OK",grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"} 1
//! grpc_server_handling_seconds_bucket{grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary",le="0.005"} 1
//! ```
//!
//! Each RPC counts in `grpc_server_started_total` when it arrives (a method's first one
//! once it is known to exist), in `grpc_server_handled_total{grpc_code}` and
//! `grpc_server_handling_seconds` when it ends, and its length-prefixed messages in
//! `grpc_server_msg_received_total` / `grpc_server_msg_sent_total` as they pass.
//! `grpc_type` is exact for a method whose function is `#[track_metrics]` (its types say
//! it), inferred from the messages otherwise. The guide is `docs/grpc.md`.
//!
//! The shape of tower-http's `trace`: `layer.rs` (the `Layer`), `service.rs` (the
//! `Service` it makes), `future.rs` (the response future, which polls the inner one with
//! the thread marked for a tracked method to name the RPC, and hands the RPC on),
//! `body.rs` and `request.rs` (the response and request body wrappers: the trailers, the
//! messages), `frames.rs` (gRPC's length-prefixed messages, counted in place),
//! `methods.rs` (the methods known to exist: the bound on the labels, and each method's
//! kind) and `rpc.rs` (one RPC's series and code, recorded in exactly one place: its
//! drop).

mod body;
mod frames;
mod future;
mod layer;
mod methods;
mod request;
mod rpc;
mod service;

pub use body::GrpcMetricsBody;
pub use future::GrpcMetricsFuture;
pub use layer::GrpcMetricsLayer;
pub use request::GrpcRequestBody;
pub use service::GrpcMetricsService;
