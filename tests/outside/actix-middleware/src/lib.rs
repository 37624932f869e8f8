//! A user's actix-web app: `RequestMetrics` outermost, then actix-web's `Logger`,
//! `NormalizePath::trim()`, `Compress` and `DefaultHeaders`; two `/api` scopes told apart
//! by a header guard, a guarded resource, a resource that answers `405` for a method it
//! has no route for, and a default service for everything no route accepts.

use actix_web::middleware::{Compress, DefaultHeaders, Logger, NormalizePath};
use actix_web::{HttpResponse, get, guard, web};
use track_metrics::actix::RequestMetrics;
use track_metrics::track_metrics;

/// The header that picks the API version: its scope's guard.
pub const API_VERSION: &str = "x-api-version";
/// The header the admin resource's guard wants (`yes`).
pub const ADMIN: &str = "x-admin";
/// A header `DefaultHeaders` adds to every response.
pub const DEFAULT_HEADER: (&str, &str) = ("x-content-type-options", "nosniff");

/// Version 1 of the API.
pub mod v1 {
    use super::*;

    #[track_metrics(name = "v1::get_user")]
    #[get("/users/{id}")]
    pub async fn get_user(id: web::Path<u32>) -> HttpResponse {
        if *id <= 100 {
            HttpResponse::Ok().body(format!("user {id} (v1)"))
        } else {
            HttpResponse::NotFound().finish()
        }
    }
}

/// Version 2 of the API: the same path, its own pattern.
pub mod v2 {
    use super::*;

    #[track_metrics(name = "v2::get_user")]
    #[get("/users/{user_id}")]
    pub async fn get_user(user_id: web::Path<u32>) -> HttpResponse {
        HttpResponse::Ok().body(format!("user {user_id} (v2)"))
    }
}

#[track_metrics]
async fn admin_stats() -> HttpResponse {
    HttpResponse::Ok().body("all good")
}

#[track_metrics]
async fn list_items() -> HttpResponse {
    HttpResponse::Ok().body("[]")
}

/// What `GET /report` answers: long enough for `Compress` to compress it.
pub fn report_text() -> String {
    "id,name,total\n".repeat(200)
}

#[track_metrics]
#[get("/report")]
async fn report() -> String {
    report_text()
}

/// The default service: what answers a request no route accepts.
#[track_metrics]
async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().body("no such page")
}

/// The app: every request counted once by `RequestMetrics`, `/metrics` left out.
pub fn app() -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .service(
            web::scope("/api")
                .guard(guard::Header(API_VERSION, "1"))
                .service(v1::get_user),
        )
        .service(
            web::scope("/api")
                .guard(guard::Header(API_VERSION, "2"))
                .service(v2::get_user),
        )
        .service(
            web::resource("/admin/stats")
                .guard(guard::Header(ADMIN, "yes"))
                .route(web::get().to(admin_stats)),
        )
        .service(web::resource("/items").route(web::get().to(list_items)))
        .service(report)
        .service(track_metrics::actix::metrics)
        .default_service(web::to(not_found))
        // Innermost first: `RequestMetrics`, wrapped last, is outermost.
        .wrap(DefaultHeaders::new().add(DEFAULT_HEADER))
        .wrap(Compress::default())
        .wrap(NormalizePath::trim())
        .wrap(Logger::default())
        .wrap(RequestMetrics::default().exclude("/metrics"))
}
