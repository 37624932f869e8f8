//! Records N times through the `metrics` facade for one variant, for instruction counts
//! under callgrind: `callgrind_facade <variant> <operations>`; see `benches/callgrind.sh
//! --facade`, which counts only inside the measured loop, for two values of N, and divides
//! the difference. The handles, values and loops are those of `benches/facade.rs`.
//!
//! Variants: `counter-ours`, `counter-theirs` (metrics-exporter-prometheus'),
//! `histogram-ours`, `histogram-theirs` (Prometheus' default buckets),
//! `histogram-theirs-summary` (its default), `histogram+drain-theirs` and
//! `histogram+drain-theirs-summary` (the N values recorded, then one `render()` that drains
//! them: what each value costs theirs in all), `macro-counter-ours`, `macro-counter-theirs`,
//! `macro-histogram-ours`, `macro-histogram-theirs` (the macro each time).

use std::hint::black_box;

use metrics_benches::facade::{self, counter_macros, histogram_macros, increments, records};

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_default();
    let operations: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let ours = facade::ours();
    let (buckets, theirs) = facade::theirs(true);
    let (summary, theirs_summary) = facade::theirs(false);
    let run: Box<dyn Fn(u64)> = match variant.as_str() {
        "counter-ours" => Box::new(|n| increments(&ours.counter, n)),
        "counter-theirs" => Box::new(|n| increments(&theirs.counter, n)),
        "histogram-ours" => Box::new(|n| records(&ours.histogram, n)),
        "histogram-theirs" => Box::new(|n| records(&theirs.histogram, n)),
        "histogram-theirs-summary" => Box::new(|n| records(&theirs_summary.histogram, n)),
        "histogram+drain-theirs" => Box::new(|n| {
            records(&theirs.histogram, n);
            black_box(buckets.handle().render());
        }),
        "histogram+drain-theirs-summary" => Box::new(|n| {
            records(&theirs_summary.histogram, n);
            black_box(summary.handle().render());
        }),
        "macro-counter-ours" => Box::new(counter_macros),
        "macro-counter-theirs" => {
            Box::new(|n| metrics::with_local_recorder(&buckets, || counter_macros(n)))
        }
        "macro-histogram-ours" => Box::new(histogram_macros),
        "macro-histogram-theirs" => {
            Box::new(|n| metrics::with_local_recorder(&buckets, || histogram_macros(n)))
        }
        other => {
            eprintln!(
                "callgrind_facade: unknown variant {other:?}; usage: callgrind_facade <variant> <operations>"
            );
            std::process::exit(2);
        }
    };
    // Operations first, so that first-use work (the macros' registration, their clock's
    // calibration, a summary's first drain) happens outside the loop callgrind counts;
    // then a render, so that theirs start the loop with no values held.
    run(100);
    black_box(buckets.handle().render());
    black_box(summary.handle().render());
    measured_loop(&*run, operations);
}

// callgrind.sh counts the instructions executed inside this function only.
#[inline(never)]
fn measured_loop(run: &dyn Fn(u64), operations: u64) {
    run(operations);
}
