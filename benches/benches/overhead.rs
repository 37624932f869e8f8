//! Per-call overhead of `#[track_metrics]` against the alternatives, sync and async.
//!
//! `cargo bench -p metrics-benches --bench overhead` runs the criterion groups (wall
//! time), then an interleaved pass (every variant in turn, round after round, timed
//! in thread CPU time, so a noisy neighbour hits them all alike and its time is not
//! counted) that prints each overhead (variant − bare) and the goal ratios with
//! min/median/max over rounds. `BENCH_ROUNDS` and `BENCH_BATCH` set its size; a
//! criterion filter that matches nothing (`-- none`) skips to it. The disabled case
//! needs its own process: see `disabled.rs`. With `--features opentelemetry`, it also
//! reports a tracked call in a sampled span (which records an exemplar) against one
//! with no trace.

#![allow(clippy::print_stdout)] // the results table

#[path = "common/auto.rs"]
mod auto;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use metrics_benches::{
    Variant, assert_counted, bare, bare_async, cached, cached_async, cached_native, contended,
    env_or, floor_atomics, floor_tsc, fmt_spread, hand_registry, interleave, naive, naive_async,
    ready, tracked, tracked_async,
};

// The first of each list is the baseline the others are compared to.
const SYNC: [Variant; 7] = [
    ("bare", bare),
    ("naive", naive),
    ("cached", cached),
    // prometheus-client 0.25 with native buckets beside the classic ones (issue 22).
    ("cached-native", cached_native),
    ("tracked", tracked),
    ("autometrics", auto::autometrics_sync),
    ("autometrics+gauge", auto::autometrics_gauge),
];

const ASYNC: [Variant; 6] = [
    ("bare", |x| ready(bare_async(x))),
    ("naive", |x| ready(naive_async(x))),
    ("cached", |x| ready(cached_async(x))),
    ("tracked", |x| ready(tracked_async(x))),
    ("autometrics", |x| ready(auto::autometrics_async(x))),
    ("autometrics+gauge", |x| {
        ready(auto::autometrics_gauge_async(x))
    }),
];

// Not variants a user picks: where the cost of recording comes from.
const FLOOR: [Variant; 3] = [
    ("bare", bare),
    ("atomics-only", floor_atomics),
    ("atomics+tsc", floor_tsc),
];

const CONTENDED: [Variant; 3] = [("bare", bare), ("cached", cached), ("tracked", tracked)];

// With the `opentelemetry` feature: a call with no trace, and one in a sampled span
// (which records the exemplar of its bucket). Making a span current costs more than
// the call, so both `-in-span` variants make it current: their difference is what the
// tracked call costs there.
#[cfg(feature = "opentelemetry")]
const TRACED: [Variant; 4] = [
    ("bare", bare),
    ("tracked", tracked),
    ("bare-in-span", |x| in_span(bare, x)),
    ("tracked-in-span", |x| in_span(tracked, x)),
];

// `f(x)` with a sampled span of a real SDK tracer (no exporter) current.
#[cfg(feature = "opentelemetry")]
fn in_span(f: fn(u64) -> u64, x: u64) -> u64 {
    thread_local! {
        static SAMPLED: opentelemetry::Context = metrics_benches::sampled_context();
    }
    SAMPLED.with(|cx| {
        let _current = cx.clone().attach();
        f(x)
    })
}

// Tracked with no trace and in a sampled span, each against its own baseline.
#[cfg(feature = "opentelemetry")]
fn report_traced(rounds: usize, batch: u64) {
    let times = interleave(&TRACED, rounds, batch);
    let minus = |a: usize, b: usize| -> Vec<f64> {
        (0..rounds).map(|r| times[a][r] - times[b][r]).collect()
    };
    println!(
        "\n## feature opentelemetry: {rounds} rounds x {batch} calls, CPU ns per call, median (min .. max)"
    );
    for (v, (name, _)) in TRACED.iter().enumerate() {
        println!("{name:<18} {:>30}", fmt_spread(times[v].clone(), 2));
    }
    println!(
        "tracked, no trace        (tracked - bare)                 {}",
        fmt_spread(minus(1, 0), 2)
    );
    println!(
        "tracked, sampled span    (tracked-in-span - bare-in-span) {}",
        fmt_spread(minus(3, 2), 2)
    );
}

fn criterion_groups(c: &mut Criterion) {
    for (group, variants) in [("sync", &SYNC[..]), ("async", &ASYNC[..])] {
        let mut group = c.benchmark_group(format!("overhead/{group}"));
        for &(name, f) in variants {
            group.bench_function(name, |b| {
                let mut i = 0u64;
                b.iter(|| {
                    i = i.wrapping_add(1);
                    f(black_box(i))
                });
            });
        }
        group.finish();
    }
    // Two threads call the same function: the shared counters' cache lines bounce.
    let mut group = c.benchmark_group("overhead/contended-2-threads");
    for &(name, f) in &CONTENDED {
        group.bench_function(name, |b| b.iter_custom(|iters| contended(2, iters, f)));
    }
    group.finish();
}

// Prints each variant's time and overhead (variant − bare, round by round), then the
// goal ratios of overheads, each as median (min .. max) over rounds.
fn report(title: &str, variants: &[Variant], rounds: usize, batch: u64) {
    let times = interleave(variants, rounds, batch);
    let overhead =
        |v: usize| -> Vec<f64> { (0..rounds).map(|r| times[v][r] - times[0][r]).collect() };
    println!("\n## {title}: {rounds} rounds x {batch} calls, CPU ns per call, median (min .. max)");
    println!(
        "{:<18} {:>30} {:>30}",
        "variant", "time", "overhead (- bare)"
    );
    for (v, (name, _)) in variants.iter().enumerate() {
        println!(
            "{name:<18} {:>30} {:>30}",
            fmt_spread(times[v].clone(), 2),
            fmt_spread(overhead(v), 2)
        );
    }
    let index = |name: &str| variants.iter().position(|(n, _)| *n == name);
    let ratio = |a: usize, b: usize| -> Vec<f64> {
        let (a, b) = (overhead(a), overhead(b));
        a.iter().zip(&b).map(|(a, b)| a / b).collect()
    };
    if let (Some(t), Some(b)) = (index("tracked"), index("cached-native")) {
        println!(
            "ratio tracked/cached-native        {}   (reported)",
            fmt_spread(ratio(t, b), 3)
        );
    }
    for (base, goal) in [
        ("cached", 0.75),
        ("autometrics", 0.25),
        ("autometrics+gauge", 0.25),
    ] {
        if let (Some(t), Some(b)) = (index("tracked"), index(base)) {
            println!(
                "ratio tracked/{base:<18}     {}   goal <= {goal}",
                fmt_spread(ratio(t, b), 3)
            );
        }
        // The same ratio for the least any tracked call can cost (see FLOOR).
        if let (Some(f), Some(b)) = (index("atomics+tsc"), index(base)) {
            println!(
                "ratio atomics+tsc/{base:<18} {}   (the floor of the ratio above)",
                fmt_spread(ratio(f, b), 3)
            );
        }
    }
}

fn report_contended(rounds: usize, batch: u64) {
    let n = CONTENDED.len();
    let mut times = vec![Vec::new(); n];
    for round in 0..rounds {
        for k in 0..n {
            let v = (round + k) % n;
            let took = contended(2, batch, CONTENDED[v].1);
            times[v].push(took.as_nanos() as f64 / batch as f64);
        }
    }
    println!(
        "\n## contended, 2 threads calling the same function: {rounds} rounds x {batch} calls per thread, CPU ns per call (slower thread)"
    );
    println!(
        "{:<12} {:>30} {:>30}",
        "variant", "time", "overhead (- bare)"
    );
    for (v, (name, _)) in CONTENDED.iter().enumerate() {
        let over = (0..rounds).map(|r| times[v][r] - times[0][r]).collect();
        println!(
            "{name:<12} {:>30} {:>30}",
            fmt_spread(times[v].clone(), 2),
            fmt_spread(over, 2)
        );
    }
}

fn assert_recorded() {
    assert_counted(
        track_metrics::registry(),
        "http_requests_total",
        "handler",
        &["tracked", "tracked_async"],
    );
    assert_counted(
        hand_registry(),
        "hand_requests_total",
        "handler",
        &["naive", "naive_async", "cached", "cached_async"],
    );
    assert_counted(
        prometheus::default_registry(),
        "function_calls_total",
        "function",
        &[
            "autometrics_sync",
            "autometrics_async",
            "autometrics_gauge",
            "autometrics_gauge_async",
        ],
    );
}

fn main() {
    assert!(
        track_metrics::enabled(),
        "this benchmark measures metrics on; unset PROMETHEUS_ENABLED"
    );
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    criterion_groups(&mut c);
    c.final_summary();

    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `--test` (cargo test --benches) only checks that everything runs and records.
    let quick = std::env::args().any(|a| a == "--test");
    if !quick {
        let rounds = env_or("BENCH_ROUNDS", 101) as usize;
        let batch = env_or("BENCH_BATCH", 20_000);
        let with_floor: Vec<Variant> = SYNC.iter().chain(&FLOOR[1..]).copied().collect();
        report("sync", &with_floor, rounds, batch);
        report("async", &ASYNC, rounds, batch);
        report_contended(rounds.min(21), batch * 5);
        #[cfg(feature = "opentelemetry")]
        report_traced(rounds, batch);
    }
    assert_recorded();
}
