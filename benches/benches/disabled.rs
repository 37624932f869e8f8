//! The cost of `#[track_metrics]` with metrics disabled (`PROMETHEUS_ENABLED=false`).
//!
//! `PROMETHEUS_ENABLED` is read once per process, so this bench runs in its own
//! process: started without the variable set to `false`, it runs itself again with
//! it (`cargo bench -p metrics-benches --bench disabled` is enough). Criterion
//! groups first, then an interleaved pass printing disabled − bare with
//! min/median/max over rounds (goal: at most 2 ns).

#![allow(clippy::print_stdout)] // the results table

use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::Duration;

use criterion::Criterion;
use metrics_benches::{
    Variant, bare, bare_async, env_or, fmt_spread, interleave, ready, tracked, tracked_async,
};

const VARIANTS: [Variant; 4] = [
    ("bare", bare),
    ("tracked-disabled", tracked),
    ("bare-async", |x| ready(bare_async(x))),
    ("tracked-disabled-async", |x| ready(tracked_async(x))),
];

// Each bare variant against its tracked twin, round by round.
fn report(rounds: usize, batch: u64) {
    let times = interleave(&VARIANTS, rounds, batch);
    println!(
        "\n## metrics disabled: {rounds} rounds x {batch} calls, CPU ns per call, median (min .. max)"
    );
    for (v, (name, _)) in VARIANTS.iter().enumerate() {
        println!("{name:<24} {}", fmt_spread(times[v].clone(), 3));
    }
    for (bare, tracked) in [(0, 1), (2, 3)] {
        let over = (0..rounds)
            .map(|r| times[tracked][r] - times[bare][r])
            .collect();
        println!(
            "{} - {}: {}   goal <= 2 ns",
            VARIANTS[tracked].0,
            VARIANTS[bare].0,
            fmt_spread(over, 3)
        );
    }
}

fn main() -> ExitCode {
    if track_metrics::enabled() {
        // Read once, and on: run this benchmark again in a process where it is off.
        let status = Command::new(std::env::current_exe().expect("the bench's own path"))
            .args(std::env::args_os().skip(1))
            .env(track_metrics::ENV_ENABLED, "false")
            .status()
            .expect("run the bench again with PROMETHEUS_ENABLED=false");
        return if status.success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let mut group = c.benchmark_group("disabled");
    for (name, f) in VARIANTS {
        group.bench_function(name, |b| {
            let mut i = 0u64;
            b.iter(|| {
                i = i.wrapping_add(1);
                f(black_box(i))
            });
        });
    }
    group.finish();
    c.final_summary();

    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--list") {
        return ExitCode::SUCCESS;
    }
    if !args.iter().any(|a| a == "--test") {
        report(
            env_or("BENCH_ROUNDS", 101) as usize,
            env_or("BENCH_BATCH", 1_000_000),
        );
    }
    // Disabled means nothing recorded and nothing registered.
    let text = track_metrics::render();
    assert!(
        !text.contains("http_requests_total"),
        "metrics are disabled, yet a family was registered:\n{text}"
    );
    ExitCode::SUCCESS
}
