//! actix-web: the `/metrics` endpoint and the [`RequestMetrics`] middleware.
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, get, web};
//! use track_metrics::track_metrics;
//!
//! #[track_metrics]
//! #[get("/users/{id}")]
//! async fn get_user(id: web::Path<u32>) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("user {id}"))
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! HttpServer::new(|| {
//!     App::new()
//!         // every request counted once, with the route actix matched and the status it sent
//!         .wrap(track_metrics::actix::RequestMetrics::default())
//!         .service(web::scope("/api").service(get_user))
//!         // GET /metrics
//!         .service(track_metrics::actix::metrics)
//!         // or at any path
//!         .route("/internal/metrics", web::get().to(track_metrics::actix::metrics_handler))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```

mod endpoint;
mod matched;
mod middleware;
mod route_cache;

pub use endpoint::{metrics, metrics_handler};
pub use middleware::{RequestMetrics, RequestMetricsFuture, RequestMetricsMiddleware};

pub use crate::settings::ENV_TOKEN;
