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
use std::rc::Rc;

use axum::Router;
use axum_prometheus::PrometheusMetricLayer;
use axum_prometheus::metrics_exporter_prometheus::PrometheusHandle;
use criterion::Criterion;
use metrics_benches::axum_request_app::{routes, send};
use metrics_benches::per_request::{Run, report};
use metrics_benches::{env_or, text_sum};
use tokio::runtime::Runtime;
use track_metrics::axum::RequestMetricsLayer;

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
                send(&app, id).await;
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
        &track_metrics::render(),
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
        let title = format!("request through an axum Router, paths {paths:?}");
        report(
            &title,
            &variants(&rt, &prom, paths),
            &["layer", "layer+attribute"],
            rounds,
            batch,
        );
    }
}
