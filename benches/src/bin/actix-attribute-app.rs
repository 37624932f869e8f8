//! The example service (`examples/actix-app`'s very routes, included from its source)
//! without the `RequestMetrics` middleware: every handler counted by its
//! `#[track_metrics]` alone. `scripts/bench-service` measures it next to the example, to
//! tell the attribute's cost in a service from the middleware's. With `BENCH_FLOOR` set,
//! wrapped in the least a middleware that labels requests by route does: forward, and
//! ask actix the pattern the response took (`match_pattern`), as `RequestMetrics` and
//! actix-web-prom do; the floor under any such middleware.
//!
//! Listens on `BIND_ADDR` (default `127.0.0.1:8080`).

use std::process::ExitCode;

use actix_web::{App, HttpServer};
use metrics_benches::floor;

#[path = "../../../examples/actix-app/src/routes.rs"]
mod routes;

fn main() -> ExitCode {
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    let served = actix_web::rt::System::new().block_on(async move {
        routes::register_demo_metrics();
        let server = if std::env::var_os("BENCH_FLOOR").is_some() {
            HttpServer::new(|| {
                App::new()
                    .wrap_fn(floor::actix_route_labelling)
                    .configure(routes::configure)
            })
            .bind(&addr)?
            .shutdown_timeout(5)
            .run()
        } else {
            HttpServer::new(|| App::new().configure(routes::configure))
                .bind(&addr)?
                .shutdown_timeout(5)
                .run()
        };
        server.await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("actix-attribute-app: {err}");
            ExitCode::from(2)
        }
    }
}
