//! axum (and any tower service over `http` 1): the [`RequestMetricsLayer`] and the
//! `/metrics` handler, [`metrics()`]. Cargo feature `axum`.
//!
//! ```
//! use axum::{Router, extract::Path, http::StatusCode, routing::get};
//! use track_metrics::axum::RequestMetricsLayer;
//! use track_metrics::track_metrics;
//!
//! #[track_metrics(method = "GET", route = "/users/{id}")]
//! async fn get_user(Path(id): Path<u32>) -> Result<String, StatusCode> {
//!     if id > 100 {
//!         return Err(StatusCode::NOT_FOUND);
//!     }
//!     Ok(format!("user {id}"))
//! }
//!
//! let app: Router = Router::new()
//!     .nest("/api", Router::new().route("/users/{id}", get(get_user)))
//!     .route("/metrics", get(track_metrics::axum::metrics))
//!     // every request counted once, with the route axum matched and the status it sent;
//!     // the last `layer`, so that it also sees the fallback and everything inside
//!     .layer(RequestMetricsLayer::new().exclude("/metrics"));
//! ```
//!
//! The shape of tower-http's `trace`: `layer.rs` (the `Layer` and its options),
//! `service.rs` (the `Service` it makes), `future.rs` (the response future, which
//! records in exactly one place: its completion, or its drop), and `endpoint.rs`.

mod endpoint;
mod future;
mod layer;
mod service;

pub use endpoint::metrics;
pub use future::RequestMetricsFuture;
pub use layer::RequestMetricsLayer;
pub use service::RequestMetricsService;

pub use crate::settings::ENV_TOKEN;
