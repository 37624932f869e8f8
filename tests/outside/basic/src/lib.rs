//! A user's service: one handler tracked, the middleware around the app, `/metrics`
//! mounted; for actix-web (feature `actix`) or axum (feature `axum`).

use serde::Serialize;
use track_metrics::track_metrics;

/// What `GET /users/{id}` answers.
#[derive(Serialize)]
pub struct User {
    /// The id from the path.
    pub id: u32,
}

/// The same helper in both services: counted on its own, under its own name.
#[track_metrics(name = "db::load_user")]
pub fn load_user(id: u32) -> Option<User> {
    (id <= 100).then_some(User { id })
}

/// The actix-web service.
#[cfg(feature = "actix")]
pub mod actix {
    use actix_web::{HttpResponse, get, web};
    use track_metrics::actix::RequestMetrics;
    use track_metrics::track_metrics;

    #[track_metrics]
    #[get("/users/{id}")]
    async fn get_user(id: web::Path<u32>) -> HttpResponse {
        match super::load_user(*id) {
            Some(user) => HttpResponse::Ok().json(user),
            None => HttpResponse::NotFound().finish(),
        }
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
            .wrap(RequestMetrics::default().exclude("/metrics"))
            .service(web::scope("/api").service(get_user))
            .service(track_metrics::actix::metrics)
    }
}

/// The axum service.
#[cfg(feature = "axum")]
pub mod axum {
    use axum::extract::Path;
    use axum::http::StatusCode;
    use axum::routing::get;
    use axum::{Json, Router};
    use track_metrics::axum::RequestMetricsLayer;
    use track_metrics::track_metrics;

    #[track_metrics(method = "GET", route = "/users/{id}")]
    async fn get_user(Path(id): Path<u32>) -> Result<Json<super::User>, StatusCode> {
        super::load_user(id).map(Json).ok_or(StatusCode::NOT_FOUND)
    }

    /// The app: every request counted once by the layer, `/metrics` left out.
    pub fn app() -> Router {
        Router::new()
            .nest("/api", Router::new().route("/users/{id}", get(get_user)))
            .route("/metrics", get(track_metrics::axum::metrics))
            .layer(RequestMetricsLayer::new().exclude("/metrics"))
    }
}
