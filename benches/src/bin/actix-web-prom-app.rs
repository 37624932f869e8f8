//! The example service's `GET /` and `GET /users/{id}`, measured by actix-web-prom's
//! middleware instead of `#[track_metrics]`: the baseline of `scripts/bench-service`.
//!
//! Listens on `BIND_ADDR` (default `127.0.0.1:8081`); the middleware serves `/metrics`
//! (`api_http_requests_total{endpoint, method, status}`).

use std::fmt;
use std::process::ExitCode;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, ResponseError, get, web};
use actix_web_prom::PrometheusMetricsBuilder;
use serde::Serialize;

const KNOWN_USERS: u32 = 100;

#[derive(Serialize)]
struct User {
    id: u32,
    name: String,
}

#[derive(Debug)]
struct NotFound(String);

impl fmt::Display for NotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl ResponseError for NotFound {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(serde_json::json!({ "error": self.0 }))
    }
}

// The same handlers as examples/actix-app, without the attribute.
#[get("/")]
async fn index() -> &'static str {
    "actix-app: try /users/1, /slow?ms=100, /error, /test-metrics, /metrics\n"
}

#[get("/users/{id}")]
async fn get_user(id: web::Path<String>) -> Result<web::Json<User>, NotFound> {
    let id = id.into_inner();
    match id.parse::<u32>() {
        Ok(id @ 1..=KNOWN_USERS) => Ok(web::Json(User {
            id,
            name: format!("user-{id}"),
        })),
        _ => Err(NotFound(format!("no user with id {id:?}"))),
    }
}

fn main() -> ExitCode {
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    let prometheus = match PrometheusMetricsBuilder::new("api")
        .endpoint("/metrics")
        .build()
    {
        Ok(prometheus) => prometheus,
        Err(err) => {
            eprintln!("actix-web-prom-app: {err}");
            return ExitCode::FAILURE;
        }
    };
    let served = actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .wrap(prometheus.clone())
                .service(index)
                .service(get_user)
        })
        .bind(&addr)?
        .shutdown_timeout(5)
        .run()
        .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("actix-web-prom-app: {err}");
            ExitCode::from(2)
        }
    }
}
