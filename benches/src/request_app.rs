use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{App, HttpResponse, web};
use track_metrics::track_metrics;

async fn user(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(format!("user {id}"))
}

#[track_metrics(name = "user")]
async fn tracked_user(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(format!("user {id}"))
}

async fn other() -> &'static str {
    "other"
}

/// `app` with the routes; `tracked`: the measured handler has `#[track_metrics]`.
pub fn routes<T>(app: App<T>, tracked: bool) -> App<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    let app = app
        .route("/", web::get().to(other))
        .route("/users", web::post().to(other))
        .route("/slow", web::get().to(other))
        .route("/error", web::get().to(other))
        .route("/test-metrics", web::get().to(other))
        .route("/ws", web::get().to(other));
    let app = if tracked {
        app.route("/users/{id}", web::get().to(tracked_user))
    } else {
        app.route("/users/{id}", web::get().to(user))
    };
    app.route("/items/{id}/parts/{part}", web::get().to(other))
        .route("/health", web::get().to(other))
        .route("/metrics", web::get().to(other))
}
