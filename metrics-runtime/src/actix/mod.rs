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
//!         // GET /metrics, registered before any catch-all (below)
//!         .service(track_metrics::actix::metrics)
//!         // or at any path
//!         .route("/internal/metrics", web::get().to(track_metrics::actix::metrics_handler))
//!         .service(web::scope("/api").service(get_user))
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run()
//! .await
//! # }
//! ```
//!
//! actix-web tries services in the order they are registered, and the first whose path
//! matches answers, even with a 404: register `/metrics` **before** any catch-all, such
//! as a `web::scope("")` (a scope without a prefix takes every path; a `.configure(..)`
//! often registers one), a `/{tail:.*}` route or a file service mounted at `/`. Registered
//! after one, `/metrics` answers 404 or the catch-all's page. `default_service` is asked
//! only when nothing matched, wherever it is written. An app-wide login middleware also
//! redirects Prometheus' scrapes: wrap the pages' scope instead of the app, with
//! `/metrics` registered before it, or serve `/metrics` on a second listener (the guide
//! `docs/exporter.md` of the repository has both, as tested code).

mod endpoint;
mod matched;
mod middleware;
mod route_cache;

pub use endpoint::{metrics, metrics_handler};
pub use middleware::{RequestMetrics, RequestMetricsFuture, RequestMetricsMiddleware};

pub use crate::settings::ENV_TOKEN;
