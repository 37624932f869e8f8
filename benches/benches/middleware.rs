//! Per-request cost of `RequestMetrics` through actix-web's service stack, against the
//! same app bare and wrapped in actix-web-prom's `PrometheusMetrics`.
//!
//! `cargo bench -p metrics-benches --bench middleware` runs the criterion group (wall
//! time), then an interleaved pass: every variant in turn, round after round, each
//! round a batch of requests timed in thread CPU time, and prints each variant's added
//! cost per request (variant − bare, round by round) and the goal ratio against
//! actix-web-prom, as median (min .. max) over rounds. `BENCH_ROUNDS` and `BENCH_BATCH`
//! set its size; a filter that matches nothing (`-- none`) skips to it.
//!
//! Every app is the same: ten routes like the example service's, the measured one
//! `GET /users/{id}` (a dynamic pattern, so routing does real work), called through
//! `actix_web::test::call_service` on one thread, as a worker serves it.

#![allow(clippy::print_stdout)] // the results table

use std::hint::black_box;
use std::rc::Rc;

use actix_web::App;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{TestRequest, call_service, init_service};
use actix_web_prom::PrometheusMetricsBuilder;
use criterion::Criterion;
use metrics_benches::env_or;
use metrics_benches::per_request::{Run, report};
use metrics_benches::request_app::routes;
use track_metrics::actix::RequestMetrics;

/// Which paths the requests take.
#[derive(Clone, Copy, Debug)]
enum Paths {
    Seen,
    New,
}

// `n` requests of `GET /users/{id}` through `app`, on the current actix system: ids
// 0..100 over and over (`Paths::Seen`, each path served before), or an id never used
// before each time (`Paths::New`, such as UUIDs give).
fn runner<S, B>(system: Rc<actix_web::rt::SystemRunner>, paths: Paths, app: S) -> Run
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>
        + 'static,
    B: actix_web::body::MessageBody,
{
    let app = Rc::new(app);
    let next = Rc::new(std::cell::Cell::new(0u64));
    Rc::new(move |n| {
        let (app, next) = (Rc::clone(&app), Rc::clone(&next));
        system.block_on(async move {
            for i in 0..n {
                let id = match paths {
                    Paths::Seen => i % 100,
                    Paths::New => next.replace(next.get() + 1),
                };
                let req = TestRequest::get().uri(&format!("/users/{id}")).to_request();
                let res = call_service(&*app, req).await;
                assert!(res.status().is_success());
                black_box(res);
            }
        });
    })
}

fn variants(system: &Rc<actix_web::rt::SystemRunner>, paths: Paths) -> Vec<(&'static str, Run)> {
    let prom = PrometheusMetricsBuilder::new("bench")
        .registry(prometheus::Registry::new())
        .build()
        .expect("actix-web-prom builds");
    vec![
        (
            "bare",
            runner(
                Rc::clone(system),
                paths,
                system.block_on(init_service(routes(App::new(), false))),
            ),
        ),
        (
            "attribute",
            runner(
                Rc::clone(system),
                paths,
                system.block_on(init_service(routes(App::new(), true))),
            ),
        ),
        (
            "middleware",
            runner(
                Rc::clone(system),
                paths,
                system.block_on(init_service(routes(
                    App::new().wrap(RequestMetrics::default()),
                    false,
                ))),
            ),
        ),
        (
            "middleware+attribute",
            runner(
                Rc::clone(system),
                paths,
                system.block_on(init_service(routes(
                    App::new().wrap(RequestMetrics::default()),
                    true,
                ))),
            ),
        ),
        (
            "actix-web-prom",
            runner(
                Rc::clone(system),
                paths,
                system.block_on(init_service(routes(App::new().wrap(prom), false))),
            ),
        ),
    ]
}

fn criterion_group(c: &mut Criterion, variants: &[(&'static str, Run)]) {
    let mut group = c.benchmark_group("request");
    for (name, run) in variants {
        group.bench_function(*name, |b| b.iter(|| run(1)));
    }
    group.finish();
}

fn main() {
    let system = Rc::new(actix_web::rt::System::new());
    let mut criterion = Criterion::default().configure_from_args();
    criterion_group(&mut criterion, &variants(&system, Paths::Seen));
    criterion.final_summary();
    let rounds = env_or("BENCH_ROUNDS", 31) as usize;
    let batch = env_or("BENCH_BATCH", 2000);
    for paths in [Paths::Seen, Paths::New] {
        let title = format!("request through actix's service stack, paths {paths:?}");
        report(
            &title,
            &variants(&system, paths),
            &["middleware", "middleware+attribute"],
            rounds,
            batch,
        );
    }
}
