//! Sends N requests of `GET /users/{id}` through actix-web's service stack for one
//! variant, for instruction counts under callgrind:
//! `callgrind_request <variant> <requests> [seen|new]`; see `benches/callgrind.sh
//! --requests`, which counts only inside the measured loop, for two values of N, and
//! divides the difference. The app is the one of `benches/middleware.rs`.

use std::hint::black_box;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web::{App, HttpResponse, web};
use actix_web_prom::PrometheusMetricsBuilder;
use metrics_runtime::actix::RequestMetrics;
use metrics_runtime::track_metrics;

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

macro_rules! routes {
    ($app:expr, $user:expr) => {
        $app.route("/", web::get().to(other))
            .route("/users", web::post().to(other))
            .route("/slow", web::get().to(other))
            .route("/error", web::get().to(other))
            .route("/test-metrics", web::get().to(other))
            .route("/ws", web::get().to(other))
            .route("/users/{id}", web::get().to($user))
            .route("/items/{id}/parts/{part}", web::get().to(other))
            .route("/health", web::get().to(other))
            .route("/metrics", web::get().to(other))
    };
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let requests: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let new_paths = args.next().as_deref() == Some("new");
    actix_web::rt::System::new().block_on(async move {
        match variant.as_str() {
            "bare" => run(init_service(routes!(App::new(), user)).await, requests, new_paths).await,
            "attribute" => {
                run(init_service(routes!(App::new(), tracked_user)).await, requests, new_paths).await;
            }
            "middleware" => {
                let app = routes!(App::new().wrap(RequestMetrics::default()), user);
                run(init_service(app).await, requests, new_paths).await;
            }
            "middleware+attribute" => {
                let app = routes!(App::new().wrap(RequestMetrics::default()), tracked_user);
                run(init_service(app).await, requests, new_paths).await;
            }
            "actix-web-prom" => {
                let prom = PrometheusMetricsBuilder::new("bench")
                    .registry(prometheus::Registry::new())
                    .build()
                    .expect("actix-web-prom builds");
                let app = routes!(App::new().wrap(prom), user);
                run(init_service(app).await, requests, new_paths).await;
            }
            other => {
                eprintln!(
                    "callgrind_request: unknown variant {other:?}; usage: callgrind_request <variant> <requests> [seen|new]"
                );
                std::process::exit(2);
            }
        }
    });
}

async fn run<S, B>(app: S, requests: u64, new_paths: bool)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    // Requests first, so that first-use work (registration, clock calibration, the
    // worker's first answered request) happens outside the loop callgrind counts.
    for i in 0..100 {
        send(&app, i).await;
    }
    measured_loop(&app, requests, new_paths).await;
}

// callgrind.sh counts the instructions executed inside this function only.
#[inline(never)]
async fn measured_loop<S, B>(app: &S, requests: u64, new_paths: bool)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    for i in 0..requests {
        // Ids 0..100 over and over (paths served before), or never the same twice.
        let id = if new_paths { 1000 + i } else { i % 100 };
        send(app, id).await;
    }
}

async fn send<S, B>(app: &S, id: u64)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let req = TestRequest::get().uri(&format!("/users/{id}")).to_request();
    let res = call_service(app, req).await;
    assert!(res.status().is_success());
    black_box(res);
}
