//! The actix-web example of docs/exporter.md ("Metrics on a second port"), word for word
//! after these lines: `separate_port.rs` runs `serve` and checks that the guide shows
//! this file.

use std::net::TcpListener;

use actix_web::{App, HttpResponse, HttpServer, get, web};
use track_metrics::actix::RequestMetrics;
use track_metrics::track_metrics;

#[track_metrics]
#[get("/orders/{id}")]
async fn get_order(id: web::Path<u32>) -> HttpResponse {
    HttpResponse::Ok().body(format!("order {id}"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // The public port, and /metrics on an internal interface only Prometheus reaches.
    let public = TcpListener::bind("0.0.0.0:8080")?;
    let metrics = TcpListener::bind("10.0.0.5:9464")?;
    serve(public, metrics).await
}

/// The app on `public`, `/metrics` alone on `metrics`, until both stop (SIGINT, SIGTERM).
pub async fn serve(public: TcpListener, metrics: TcpListener) -> std::io::Result<()> {
    let public = HttpServer::new(|| {
        App::new()
            .wrap(RequestMetrics::default())
            .service(get_order) // no /metrics here
    })
    .listen(public)?
    .run();
    let metrics = HttpServer::new(|| App::new().service(track_metrics::actix::metrics))
        .listen(metrics)?
        .run();
    // Both servers on the app's actix runtime: no tokio or futures dependency of its own.
    let metrics = actix_web::rt::spawn(metrics);
    public.await?;
    metrics.await?
}
