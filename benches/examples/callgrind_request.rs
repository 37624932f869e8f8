//! Sends N requests of `GET /users/{id}` through actix-web's service stack for one
//! variant, for instruction counts under callgrind:
//! `callgrind_request <variant> <requests> [seen|new]`; see `benches/callgrind.sh
//! --requests`, which counts only inside the measured loop, for two values of N, and
//! divides the difference. The app is the one of `benches/middleware.rs`.

use std::hint::black_box;

use actix_web::App;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web_prom::PrometheusMetricsBuilder;
use metrics_benches::floor;
use metrics_benches::request_app::routes;
use track_metrics::actix::RequestMetrics;

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let requests: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let new_paths = args.next().as_deref() == Some("new");
    let system = actix_web::rt::System::new();
    match variant.as_str() {
        "bare" => run(
            &system,
            requests,
            new_paths,
            system.block_on(init_service(routes(App::new(), false))),
        ),
        "attribute" => run(
            &system,
            requests,
            new_paths,
            system.block_on(init_service(routes(App::new(), true))),
        ),
        "middleware" => run(
            &system,
            requests,
            new_paths,
            system.block_on(init_service(routes(
                App::new().wrap(RequestMetrics::default()),
                false,
            ))),
        ),
        // `+traceparent`: every request with a sampled W3C `traceparent` (its exemplar is
        // kept). `+tenant` and `+label`: every request with an `x-tenant: acme` header,
        // which with `+label` a request label reads (`Config::label`) and else nothing
        // does (the same request, for the difference). `+otel`: the OpenTelemetry naming
        // (`Config::naming`).
        "middleware+attribute"
        | "middleware+attribute+otel"
        | "middleware+attribute+traceparent"
        | "middleware+attribute+tenant"
        | "middleware+attribute+label" => {
            use std::sync::atomic::Ordering::Relaxed;
            TRACED.store(variant.ends_with("+traceparent"), Relaxed);
            TENANT.store(
                variant.ends_with("+tenant") || variant.ends_with("+label"),
                Relaxed,
            );
            if variant.ends_with("+label") {
                metrics_benches::configure_tenant_label();
            }
            if variant.ends_with("+otel") {
                metrics_benches::configure_otel_naming();
            }
            run(
                &system,
                requests,
                new_paths,
                system.block_on(init_service(routes(
                    App::new().wrap(RequestMetrics::default()),
                    true,
                ))),
            )
        }
        "actix-web-prom" => {
            let prom = PrometheusMetricsBuilder::new("bench")
                .registry(prometheus::Registry::new())
                .build()
                .expect("actix-web-prom builds");
            run(
                &system,
                requests,
                new_paths,
                system.block_on(init_service(routes(App::new().wrap(prom), false))),
            )
        }
        // The floor of any middleware here: one `wrap` that only forwards (actix boxes
        // its future), and one that also asks actix which route the response took.
        "noop-wrap" => run(
            &system,
            requests,
            new_paths,
            system.block_on(init_service(routes(
                App::new().wrap_fn(|req, srv| srv.call(req)),
                false,
            ))),
        ),
        "match-pattern-wrap" => run(
            &system,
            requests,
            new_paths,
            system.block_on(init_service(routes(
                App::new().wrap_fn(floor::actix_route_labelling),
                false,
            ))),
        ),
        other => {
            eprintln!(
                "callgrind_request: unknown variant {other:?}; usage: callgrind_request <variant> <requests> [seen|new]"
            );
            std::process::exit(2);
        }
    }
}

// Whether requests carry a sampled `traceparent` (variant `middleware+attribute+traceparent`).
static TRACED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
// Whether requests carry `x-tenant: acme` (variants `middleware+attribute+{tenant,label}`).
static TENANT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn run<S, B>(system: &actix_web::rt::SystemRunner, requests: u64, new_paths: bool, app: S)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    // Requests first, so that first-use work (registration, clock calibration, the
    // worker's first answered request) happens outside the loop callgrind counts.
    for i in 0..100 {
        system.block_on(send(&app, i));
    }
    measured_loop(system, &app, requests, new_paths);
}

// callgrind.sh counts the instructions executed inside this function only.
#[inline(never)]
fn measured_loop<S, B>(
    system: &actix_web::rt::SystemRunner,
    app: &S,
    requests: u64,
    new_paths: bool,
) where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    for i in 0..requests {
        // Ids 0..100 over and over (paths served before), or never the same twice.
        let id = if new_paths { 1000 + i } else { i % 100 };
        system.block_on(send(app, id));
    }
}

async fn send<S, B>(app: &S, id: u64)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut req = TestRequest::get().uri(&format!("/users/{id}"));
    if TRACED.load(std::sync::atomic::Ordering::Relaxed) {
        req = req.insert_header((
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ));
    }
    if TENANT.load(std::sync::atomic::Ordering::Relaxed) {
        req = req.insert_header(("x-tenant", "acme"));
    }
    let req = req.to_request();
    let res = call_service(app, req).await;
    assert!(res.status().is_success());
    black_box(res);
}
