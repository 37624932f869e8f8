//! Scrape cost: `track_metrics::render()` with 10 000 request-count series (500
//! handlers × 20 statuses, plus their 500 histograms and 500 gauges) against encoding
//! the same registry with the prometheus crate's `TextEncoder` directly; and
//! `render_openmetrics()` (what a Prometheus scrape gets) against `render()`.
//!
//! `cargo bench -p metrics-benches --bench scrape`: criterion groups, then an
//! interleaved pass (time, min/median/max over rounds) and the allocations of one
//! scrape each, counted by a global allocator. With `SCRAPE_THREADS=N`, N threads make
//! every call (each series then has a shard per thread to sum: the worst case of a
//! server whose N workers all serve every route). With `--features opentelemetry`, every
//! call is made in a sampled span, so every series holds an exemplar, which the
//! OpenMetrics scrape writes (the worst case for its exemplar lookup). With
//! `--features native-histograms`, also `render_protobuf()`, native buckets included.

#![allow(clippy::print_stdout)] // the results table

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use metrics_benches::{HANDLERS, STATUSES, populate_requests};
use prometheus::{Encoder, TextEncoder};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

// What a user writes without our crate: gather and encode with the prometheus crate.
fn text_encoder() -> String {
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&track_metrics::registry().gather(), &mut buffer)
        .expect("encodes");
    String::from_utf8(buffer).expect("utf-8")
}

type Variant = (&'static str, fn() -> Vec<u8>);

const VARIANTS: &[Variant] = &[
    ("text-encoder", || text_encoder().into_bytes()),
    ("render", || track_metrics::render().into_bytes()),
    ("openmetrics", || {
        track_metrics::render_openmetrics().into_bytes()
    }),
    // With native buckets in every histogram.
    #[cfg(feature = "native-histograms")]
    ("protobuf", track_metrics::render_protobuf),
];

// The ratios reported: (variant, against, goal).
const RATIOS: &[(usize, usize, f64)] = &[
    (1, 0, 1.1),
    (2, 1, 1.2),
    #[cfg(feature = "native-histograms")]
    (3, 1, 1.2),
];

fn spread(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[0], xs[xs.len() / 2], xs[xs.len() - 1])
}

fn interleaved(rounds: usize) {
    let mut times = vec![Vec::new(); VARIANTS.len()];
    for round in 0..rounds {
        for k in 0..VARIANTS.len() {
            let v = (round + k) % VARIANTS.len();
            let start = Instant::now();
            black_box(VARIANTS[v].1());
            times[v].push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!(
        "\n## scrape, 10 000 counter series: {rounds} rounds, ms per scrape, median (min .. max)"
    );
    for (v, (name, _)) in VARIANTS.iter().enumerate() {
        let (min, med, max) = spread(times[v].clone());
        println!("{name:<14} {med:8.3}  ({min:.3} .. {max:.3})");
    }
    for &(v, against, goal) in RATIOS {
        let ratios = (0..rounds)
            .map(|r| times[v][r] / times[against][r])
            .collect();
        let (min, med, max) = spread(ratios);
        let name = format!("{}/{}", VARIANTS[v].0, VARIANTS[against].0);
        println!("ratio {name:<25} {med:.3}  ({min:.3} .. {max:.3})   goal <= {goal}");
    }
}

fn allocations() {
    println!("\n## allocations of one scrape");
    let mut counts = Vec::new();
    for &(name, f) in VARIANTS {
        black_box(f()); // warm: first-use work out of the way
        let region = Region::new(GLOBAL);
        let text = black_box(f());
        let stats = region.change();
        println!(
            "{name:<14} {:>7} allocations {:>7} reallocations {:>10} bytes allocated   ({} bytes written)",
            stats.allocations,
            stats.reallocations,
            stats.bytes_allocated,
            text.len()
        );
        counts.push((
            stats.allocations + stats.reallocations,
            stats.bytes_allocated,
        ));
    }
    for &(v, against, goal) in RATIOS {
        let name = format!("{}/{}", VARIANTS[v].0, VARIANTS[against].0);
        println!(
            "ratio {name:<25} allocations+reallocations {:.3}, bytes {:.3}   goal <= {goal}",
            counts[v].0 as f64 / counts[against].0 as f64,
            counts[v].1 as f64 / counts[against].1 as f64
        );
    }
}

fn main() {
    assert!(
        track_metrics::enabled(),
        "this benchmark needs metrics on; unset PROMETHEUS_ENABLED"
    );
    populate_requests(
        std::env::var("SCRAPE_THREADS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1),
    );
    let text = track_metrics::render();
    let series = text
        .lines()
        .filter(|l| l.starts_with("http_requests_total{"))
        .count();
    assert_eq!(
        series,
        HANDLERS * STATUSES.len(),
        "every series is exported"
    );
    #[cfg(feature = "opentelemetry")]
    assert!(
        track_metrics::render_openmetrics()
            .matches(" # {trace_id=")
            .count()
            >= HANDLERS,
        "every histogram holds an exemplar"
    );

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30)
        .configure_from_args();
    let mut group = c.benchmark_group("scrape-10k-series");
    for &(name, f) in VARIANTS {
        group.bench_function(name, |b| b.iter(f));
    }
    group.finish();
    c.final_summary();

    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--test" || a == "--list") {
        let rounds = std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(41);
        interleaved(rounds);
        allocations();
    }
}
