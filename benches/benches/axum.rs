//! Per-request cost of `RequestMetricsLayer` through a real axum `Router`, against the
//! same router bare and wrapped in axum-prometheus's `PrometheusMetricLayer`.
//!
//! `cargo bench -p metrics-benches --bench axum` runs the criterion group (wall time),
//! then an interleaved pass: every variant in turn, round after round, each round a
//! batch of requests timed in thread CPU time, and prints each variant's added cost per
//! request (variant − bare, round by round) and the goal ratio against axum-prometheus,
//! as median (min .. max) over rounds. `BENCH_ROUNDS` and `BENCH_BATCH` set its size; a
//! filter that matches nothing (`-- none`) skips to it.
//!
//! Every router is the same: ten routes like the example service's
//! (`metrics_benches::axum_request_app`), the measured one `GET /users/{id}`, called as
//! `axum::serve` calls it (`with_state(())` once, as it does per connection, so that the
//! handlers and the layers on them are turned into services once, not per request; then
//! `oneshot` on a clone of the router, the response body read to its end) on a
//! current-thread tokio runtime: one thread, as one worker serves it.
//! Before any timing, each variant is checked to count exactly the requests it was sent
//! (and the others nothing), so nothing is measured as cheap because it recorded nothing.

#![allow(clippy::print_stdout)] // the results table

use std::cell::Cell;
use std::hint::black_box;
use std::rc::Rc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum_prometheus::PrometheusMetricLayer;
use axum_prometheus::metrics_exporter_prometheus::PrometheusHandle;
use criterion::Criterion;
use metrics_benches::axum_request_app::routes;
use metrics_benches::{env_or, fmt_spread, text_sum};
use metrics_runtime::axum::RequestMetricsLayer;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// One variant: runs `n` requests and returns nothing; the caller times it.
type Run = Rc<dyn Fn(u64)>;

/// Which paths the requests take.
#[derive(Clone, Copy, Debug)]
enum Paths {
    Seen,
    New,
}

/// The name of the baseline; the last variant.
const BASELINE: &str = "axum-prometheus";

// `n` requests of `GET /users/{id}` through `app` on `rt`: ids 0..100 over and over
// (`Paths::Seen`), or an id never used before each time (`Paths::New`, such as UUIDs
// give). Both layers take the route from `MatchedPath`, so neither should care; the
// second kind is kept to show it (and to mirror benches/middleware.rs).
fn runner(rt: Rc<Runtime>, paths: Paths, app: Router) -> Run {
    // What `axum::serve` does for each connection.
    let app = app.with_state(());
    let next = Rc::new(Cell::new(0u64));
    Rc::new(move |n| {
        let (app, next) = (app.clone(), Rc::clone(&next));
        rt.block_on(async move {
            for i in 0..n {
                let id = match paths {
                    Paths::Seen => i % 100,
                    Paths::New => next.replace(next.get() + 1),
                };
                let req = Request::get(format!("/users/{id}"))
                    .body(Body::empty())
                    .expect("a valid request");
                let res = match app.clone().oneshot(req).await {
                    Ok(res) => res,
                    Err(never) => match never {},
                };
                assert!(res.status().is_success());
                let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .expect("a body");
                black_box(body);
            }
        });
    })
}

fn variants(
    rt: &Rc<Runtime>,
    prom: &PrometheusMetricLayer<'static>,
    paths: Paths,
) -> Vec<(&'static str, Run)> {
    let run = |app: Router| runner(Rc::clone(rt), paths, app);
    vec![
        ("bare", run(routes(false))),
        ("attribute", run(routes(true))),
        (
            "layer",
            run(routes(false).layer(RequestMetricsLayer::new())),
        ),
        (
            "layer+attribute",
            run(routes(true).layer(RequestMetricsLayer::new())),
        ),
        (BASELINE, run(routes(false).layer(prom.clone()))),
    ]
}

// Requests of `GET /users/{id}` answered 200 that each side has counted: ours by
// `handler` (`""`: the layer alone), axum-prometheus's by its `endpoint` label.
fn ours(handler: &str) -> f64 {
    text_sum(
        &metrics_runtime::render(),
        "http_requests_total",
        &[
            ("handler", handler),
            ("method", "GET"),
            ("route", "/users/{id}"),
            ("status", "200"),
        ],
    )
}

fn theirs(handle: &PrometheusHandle) -> f64 {
    text_sum(
        &handle.render(),
        "axum_http_requests_total",
        &[
            ("method", "GET"),
            ("endpoint", "/users/{id}"),
            ("status", "200"),
        ],
    )
}

// Sends a few requests through each variant and checks that exactly that many were
// counted where they should be, and nothing anywhere else.
fn assert_counts(variants: &[(&'static str, Run)], handle: &PrometheusHandle) {
    const N: u64 = 3;
    let all = || [ours(""), ours("user"), theirs(handle)];
    for (name, run) in variants {
        let before = all();
        run(N);
        let after = all();
        let moved: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
        let want = match *name {
            "bare" => [0, 0, 0],
            // the attribute alone counts under its own labels: the same series as the
            // layer with the tracked handler
            "attribute" | "layer+attribute" => [0, N, 0],
            "layer" => [N, 0, 0],
            BASELINE => [0, 0, N],
            other => unreachable!("variant {other}"),
        };
        let want: Vec<f64> = want.iter().map(|&x| x as f64).collect();
        assert_eq!(
            moved, want,
            "{name}: {N} requests moved [ours handler=\"\", ours handler=\"user\", axum-prometheus] by {moved:?}"
        );
    }
}

fn criterion_group(c: &mut Criterion, variants: &[(&'static str, Run)]) {
    let mut group = c.benchmark_group("axum_request");
    for (name, run) in variants {
        group.bench_function(*name, |b| b.iter(|| run(1)));
    }
    group.finish();
}

// CPU ns per request of one batch.
fn time_batch(run: &Run, batch: u64) -> f64 {
    let start = cpu_time::ThreadTime::now();
    run(batch);
    start.elapsed().as_nanos() as f64 / batch as f64
}

fn report(variants: &[(&'static str, Run)], paths: Paths, rounds: usize, batch: u64) {
    let n = variants.len();
    for (_, run) in variants {
        run(batch); // warm-up: first-use registration, caches
    }
    let mut times = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let v = (round + k) % n;
            times[v].push(time_batch(&variants[v].1, batch));
        }
    }
    let added = |v: usize| -> Vec<f64> { (0..rounds).map(|r| times[v][r] - times[0][r]).collect() };
    println!(
        "\n## request through an axum Router, paths {paths:?}: {rounds} rounds x {batch} requests, CPU ns per request, median (min .. max)"
    );
    println!("{:<22} {:>30} {:>30}", "variant", "time", "added (- bare)");
    for (v, (name, _)) in variants.iter().enumerate() {
        println!(
            "{name:<22} {:>30} {:>30}",
            fmt_spread(times[v].clone(), 1),
            fmt_spread(added(v), 1)
        );
    }
    let prom = n - 1;
    for ours in ["layer", "layer+attribute"] {
        let v = variants
            .iter()
            .position(|(name, _)| *name == ours)
            .expect("a variant");
        let ratio: Vec<f64> = added(v)
            .iter()
            .zip(added(prom))
            .map(|(a, b)| a / b)
            .collect();
        println!(
            "ratio {ours}/{BASELINE} (added) {}   goal <= 0.75",
            fmt_spread(ratio, 3)
        );
    }
}

fn main() {
    let rt = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a tokio runtime"),
    );
    // Installs axum-prometheus's global recorder (once per process) and spawns its
    // upkeep task on `rt`, as `PrometheusMetricLayer::pair()` does in an app.
    let (prom, handle) = {
        let _rt = rt.enter();
        PrometheusMetricLayer::pair()
    };
    let seen = variants(&rt, &prom, Paths::Seen);
    assert_counts(&seen, &handle);
    let mut criterion = Criterion::default().configure_from_args();
    criterion_group(&mut criterion, &seen);
    criterion.final_summary();
    let rounds = env_or("BENCH_ROUNDS", 31) as usize;
    let batch = env_or("BENCH_BATCH", 2000);
    for paths in [Paths::Seen, Paths::New] {
        report(&variants(&rt, &prom, paths), paths, rounds, batch);
    }
}
