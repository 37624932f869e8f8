//! Per-request cost of one request label (`Config::label(RequestLabel::header("tenant",
//! "x-tenant"))`) under `RequestMetrics` (actix-web) and `RequestMetricsLayer` (axum):
//! the same request (`GET /users/{id}` to a tracked handler, with `x-tenant: acme`)
//! with the label configured against without.
//!
//! Labels are process-wide configuration, so each variant runs in a process of its own:
//! `cargo bench -p metrics-benches --bench labels` re-runs itself once per variant and
//! round (the order rotating from round to round), each child timing a batch of requests
//! in thread CPU time after a warm-up, and prints per framework the time with and without
//! the label and the difference, round by round, as median (min .. max); a child's time
//! is the median of its five batches. `BENCH_ROUNDS`
//! and `BENCH_BATCH` set its size. Each child first checks that it counted every request
//! under the tenant it expects (`acme` with the label, none without).

#![allow(clippy::print_stdout)] // the results table

use std::hint::black_box;

use actix_web::App;
use actix_web::test::{TestRequest, call_service, init_service};
use metrics_benches::axum_request_app::send_with;
use metrics_benches::{
    BATCHES, configure_tenant_label, env_or, fmt_spread, median_batch, run_children_ns, text_sum,
};
use track_metrics::actix::RequestMetrics;
use track_metrics::axum::RequestMetricsLayer;

/// The variable that makes the bench a child running one variant.
const CHILD: &str = "LABELS_BENCH_VARIANT";

const VARIANTS: [&str; 4] = ["actix", "actix+label", "axum", "axum+label"];

fn main() {
    if let Ok(variant) = std::env::var(CHILD) {
        child(&variant);
        return;
    }
    let rounds = env_or("BENCH_ROUNDS", 21) as usize;
    let batch = env_or("BENCH_BATCH", 20_000);
    let times = run_children_ns(
        CHILD,
        &VARIANTS,
        rounds,
        &[("BENCH_BATCH", batch.to_string())],
    );
    println!(
        "\n## one request label (header `x-tenant`, allow-list of 2): {rounds} rounds x {batch} requests, a process per variant and round, CPU ns per request, median (min .. max)"
    );
    println!(
        "{:<10} {:>30} {:>30} {:>30}",
        "framework", "without", "with the label", "added"
    );
    for (framework, plain, label) in [("actix", 0, 1), ("axum", 2, 3)] {
        let added: Vec<f64> = times[label]
            .iter()
            .zip(&times[plain])
            .map(|(with, without)| with - without)
            .collect();
        println!(
            "{framework:<10} {:>30} {:>30} {:>30}   goal <= 60",
            fmt_spread(times[plain].clone(), 1),
            fmt_spread(times[label].clone(), 1),
            fmt_spread(added, 1)
        );
    }
}

// One variant: configures the label or not, warms up, times a batch, checks the counts
// and prints the CPU ns per request.
fn child(variant: &str) {
    let batch = env_or("BENCH_BATCH", 20_000);
    let labelled = variant.ends_with("+label");
    if labelled {
        configure_tenant_label();
    }
    const WARM_UP: u64 = 2_000;
    let ns = if variant.starts_with("axum") {
        axum_batches(WARM_UP, batch)
    } else {
        actix_batches(WARM_UP, batch)
    };
    let text = track_metrics::render();
    let tenant = if labelled { "acme" } else { "" };
    let counted = text_sum(
        &text,
        "http_requests_total",
        &[("handler", "user"), ("status", "200")],
    );
    let with_tenant = if labelled {
        text_sum(&text, "http_requests_total", &[("tenant", tenant)])
    } else {
        counted
    };
    assert_eq!(
        (counted, with_tenant),
        (
            (WARM_UP + BATCHES * batch) as f64,
            (WARM_UP + BATCHES * batch) as f64
        ),
        "{variant}: every request counted, under tenant {tenant:?}"
    );
    println!("{ns}");
}

fn axum_batches(warm_up: u64, batch: u64) -> f64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a tokio runtime");
    let app = metrics_benches::axum_request_app::routes(true)
        .layer(RequestMetricsLayer::new())
        .with_state(());
    let run = |n: u64| {
        rt.block_on(async {
            for i in 0..n {
                send_with(&app, i % 100, Some("acme")).await;
            }
        })
    };
    run(warm_up);
    median_batch(|| run(batch), batch)
}

fn actix_batches(warm_up: u64, batch: u64) -> f64 {
    let system = actix_web::rt::System::new();
    let app = system.block_on(init_service(metrics_benches::request_app::routes(
        App::new().wrap(RequestMetrics::default()),
        true,
    )));
    let run = |n: u64| {
        system.block_on(async {
            for i in 0..n {
                let req = TestRequest::get()
                    .uri(&format!("/users/{}", i % 100))
                    .insert_header(("x-tenant", "acme"))
                    .to_request();
                let res = call_service(&app, req).await;
                assert!(res.status().is_success());
                black_box(res);
            }
        })
    };
    run(warm_up);
    median_batch(|| run(batch), batch)
}
