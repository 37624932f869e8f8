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
//! For now every RPC counts with `grpc_type="unary"` (streams are counted and timed to
//! their end, not yet told apart), and the message families are not exposed yet.
//!
//! The shape of tower-http's `trace`: `layer.rs` (the `Layer`), `service.rs` (the
//! `Service` it makes), `future.rs` (the response future, which hands the RPC on),
//! `body.rs` (the body wrapper, which sees the trailers), and `rpc.rs` (one RPC's labels
//! and code, recorded in exactly one place: its drop).

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
