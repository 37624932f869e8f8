//! Scrape cost in both namings (`Config::naming`): the same requests through axum's
//! `RequestMetricsLayer` (500 routes × 20 statuses, one request each: 10 000 request
//! series), then `render()` timed, in the Prometheus naming and in the OpenTelemetry one.
//!
//! The two expose the same requests differently: the Prometheus naming a counter series
//! per route and status and a histogram per route; the OpenTelemetry naming a histogram
//! per route and status (the conventions put the status on it), 17 sample lines each. So
//! a scrape of the same traffic writes about ten times the lines, and the cost to compare
//! is per series written (a sample line: what Prometheus stores and charges for), beside
//! the time per scrape.
//!
//! The naming is process-wide, so `cargo bench -p metrics-benches --bench naming` re-runs
//! itself once per variant and round (the order rotating), each child populating, then
//! timing `BENCH_SCRAPES` scrapes in thread CPU time; it prints per variant the CPU time
//! per scrape, the sample lines and the time per line, median (min .. max) over
//! `BENCH_ROUNDS` rounds. Each child first checks that every request is in its families.

#![allow(clippy::print_stdout)] // the results table

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use metrics_benches::{configure_otel_naming, env_or, fmt_spread, run_children, text_sum};
use tower::ServiceExt;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::track_metrics;

/// The variable that makes the bench a child running one variant.
const CHILD: &str = "NAMING_BENCH_VARIANT";

const VARIANTS: [&str; 2] = ["prometheus", "opentelemetry"];

const ROUTES: usize = 500;
const STATUSES: [u16; 20] = [
    200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 422, 429, 451, 500, 502, 503,
    504,
];

fn main() {
    if let Ok(variant) = std::env::var(CHILD) {
        child(&variant);
        return;
    }
    let rounds = env_or("BENCH_ROUNDS", 7) as usize;
    let scrapes = env_or("BENCH_SCRAPES", 20);
    // Per variant: (ns per text scrape, sample lines, bytes, ns per OpenMetrics scrape) of
    // each round.
    let results: Vec<Vec<(f64, f64, f64, f64)>> = run_children(
        CHILD,
        &VARIANTS,
        rounds,
        &[("BENCH_SCRAPES", scrapes.to_string())],
    )
    .into_iter()
    .map(|outputs| {
        outputs
            .iter()
            .map(|out| {
                let fields: Vec<f64> = out
                    .split(' ')
                    .map(|field| field.parse().expect("a number"))
                    .collect();
                match fields[..] {
                    [ns, lines, bytes, om] => (ns, lines, bytes, om),
                    _ => panic!("a child prints its ns per scrape, lines, bytes, ns per OpenMetrics scrape: {out}"),
                }
            })
            .collect()
    })
    .collect();
    println!(
        "\n## scrape of 10 000 request series ({ROUTES} routes x {} statuses), {rounds} rounds x {scrapes} scrapes, a process per variant and round, CPU time, median (min .. max)",
        STATUSES.len()
    );
    println!(
        "{:<15} {:>32} {:>14} {:>12} {:>28} {:>24}",
        "naming", "ms per scrape", "sample lines", "bytes", "ns per sample line", "ns per byte"
    );
    let mut per_line = Vec::new();
    for (format, at) in [("text 0.0.4", 0), ("OpenMetrics", 3)] {
        println!("{format}:");
        let ns = |r: &(f64, f64, f64, f64)| if at == 0 { r.0 } else { r.3 };
        for (v, name) in VARIANTS.iter().enumerate() {
            let ms: Vec<f64> = results[v].iter().map(|r| ns(r) / 1e6).collect();
            let (_, lines, bytes, _) = results[v][0];
            let per: Vec<f64> = results[v].iter().map(|r| ns(r) / r.1).collect();
            let per_byte: Vec<f64> = results[v].iter().map(|r| ns(r) / r.2).collect();
            per_line.push(per.clone());
            println!(
                "{name:<15} {:>32} {lines:>14} {bytes:>12} {:>28} {:>24}",
                fmt_spread(ms, 2),
                fmt_spread(per, 1),
                fmt_spread(per_byte, 2)
            );
        }
        let (prom, otel) = (&per_line[per_line.len() - 2], &per_line[per_line.len() - 1]);
        let ratios: Vec<f64> = otel.iter().zip(prom).map(|(o, p)| o / p).collect();
        println!(
            "ratio opentelemetry/prometheus per sample line, round by round: {}   goal <= 1.02",
            fmt_spread(ratios, 3)
        );
    }
}

#[track_metrics]
async fn answer(Path((_, status)): Path<(usize, u16)>) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

// One variant: configures the naming, sends every route every status once, checks the
// counts, times the scrapes and prints the CPU ns per scrape, the sample lines and the
// bytes of one scrape.
fn child(variant: &str) {
    let scrapes = env_or("BENCH_SCRAPES", 20);
    let otel = variant == "opentelemetry";
    if otel {
        configure_otel_naming();
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    let mut app = Router::new();
    for route in 0..ROUTES {
        app = app.route(&format!("/r{route}/{{route}}/{{status}}"), get(answer));
    }
    let app = app.layer(RequestMetricsLayer::new());
    rt.block_on(async {
        for route in 0..ROUTES {
            for status in STATUSES {
                let request = Request::get(format!("/r{route}/{route}/{status}"))
                    .body(Body::empty())
                    .expect("a request");
                let answer = app.clone().oneshot(request).await.expect("an answer");
                assert_eq!(answer.status().as_u16(), status);
            }
        }
    });
    let text = track_metrics::render();
    let (family, label) = if otel {
        (
            "http_server_request_duration_seconds_count",
            "code_function_name",
        )
    } else {
        ("http_requests_total", "handler")
    };
    assert_eq!(
        text_sum(&text, family, &[(label, "answer")]),
        (ROUTES * STATUSES.len()) as f64,
        "{variant}: every request counted"
    );
    let lines = text.lines().filter(|line| !line.starts_with('#')).count();
    let median = |render: fn() -> String| {
        let mut times: Vec<f64> = (0..scrapes)
            .map(|_| {
                let start = cpu_time::ThreadTime::now();
                black_box(render());
                start.elapsed().as_nanos() as f64
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let text_ns = median(track_metrics::render);
    let om_ns = median(track_metrics::render_openmetrics);
    println!("{text_ns} {lines} {} {om_ns}", text.len());
}
