//! The example service: every request counted by the `RequestMetrics` middleware, every
//! route handler named with `#[track_metrics]`.
//!
//! `cargo run -p actix-app`, then `curl 127.0.0.1:8080/metrics`. Listens on
//! `BIND_ADDR` (default `127.0.0.1:8080`).

mod routes;

use std::net::SocketAddr;
use std::process::ExitCode;

use actix_web::{App, HttpServer};
use track_metrics::actix::RequestMetrics;

const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    // build_info{service, version, revision}: the revision is GIT_REVISION at build time.
    track_metrics::build_info!();
    // What this program and its libraries record through the `metrics` facade is served
    // on the same /metrics (the created users, in routes.rs). Nothing else installs a
    // recorder here, so this cannot fail; if it did, the facade's metrics would be lost,
    // not the service.
    if let Err(err) = track_metrics::metrics_rs::install() {
        log::warn!("actix-app: {err}");
    }
    metrics::describe_counter!("demo.users.created", "Users created by POST /users.");

    let raw = std::env::var("BIND_ADDR").unwrap_or_else(|_| DEFAULT_BIND_ADDR.to_owned());
    let addr: SocketAddr = match raw.parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!(
                "actix-app: invalid BIND_ADDR {raw:?}: {err} (expected IP:PORT, such as {DEFAULT_BIND_ADDR})"
            );
            return ExitCode::from(2);
        }
    };

    match actix_web::rt::System::new().block_on(serve(addr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("actix-app: cannot serve on {addr}: {err}");
            ExitCode::from(2)
        }
    }
}

// Serves until SIGINT or SIGTERM (actix-web's default signal handling), then drains.
async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    routes::register_demo_metrics();
    // Outermost, so that it sees every request, what other middleware answer included.
    // Prometheus' own scrapes are left out: they are not the service's traffic.
    let server = HttpServer::new(|| {
        App::new()
            .wrap(RequestMetrics::default().exclude("/metrics"))
            .configure(routes::configure)
    })
    .bind(addr)?
    .shutdown_timeout(5);
    for bound in server.addrs() {
        log::info!("actix-app listening on http://{bound}");
    }
    server.run().await
}
