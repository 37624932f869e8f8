//! Recording through the `metrics` facade (metrics 0.24): our recorder (track-metrics'
//! feature `metrics-rs`, installed as the global recorder) against
//! metrics-exporter-prometheus 0.18's `PrometheusRecorder` (a local recorder), with its
//! histograms set to Prometheus' default buckets, as ours, and with its default
//! (summaries). Handles of both made once by the facade's macros, as a user caches them:
//! `counter.increment(1)` and `histogram.record(v)`, `v` cycling over one value in each
//! bucket; and the macro each time (`counter!(..).increment(1)`, the key looked up per
//! call), ours against theirs with buckets.
//!
//! `cargo bench -p metrics-benches --bench facade`: two passes of interleaved rounds (every
//! variant once per round, the order rotating), each variant a batch of operations per
//! round: one thread, timed in its CPU time; then two threads on the same handle at once,
//! in wall time from the first's start to the last's end, per operation of each thread
//! (also the slower thread's CPU time, and the share of the wall time both ran: on a
//! shared machine one may wait for a core). Theirs keep each histogram value in a queue
//! until a scrape drains it; after each of their histogram batches the bench renders
//! (untimed in the two-thread pass), so that the queue stays short and the drain's CPU
//! time per value is shown. Prints median (min .. max) and the ratios ours / theirs per
//! round (goal ≤ 1.0). `BENCH_ROUNDS` sets the rounds (default 31), `BENCH_BATCH` the
//! operations per batch and thread (default 100 000). Before timing and after, each
//! recorder's text is read back: every increment and every value counted where it should
//! be, exactly.

#![allow(clippy::print_stdout)] // the results table

use std::cell::Cell;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cpu_time::ThreadTime;
use metrics_benches::facade::{self, counter_macros, histogram_macros, increments, records};
use metrics_benches::{env_or, fmt_spread};
use metrics_exporter_prometheus::PrometheusRecorder;

/// Whose recorder a variant records through.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    Ours,
    TheirsBuckets,
    TheirsSummary,
}

const WHO: [(Who, &str); 3] = [
    (Who::Ours, "ours"),
    (Who::TheirsBuckets, "theirs, buckets"),
    (Who::TheirsSummary, "theirs, summary"),
];

/// What a variant does per operation.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    Increment,
    Record,
    CounterMacro,
    HistogramMacro,
}

const OPS: [(Op, &str); 4] = [
    (Op::Increment, "counter.increment(1)"),
    (Op::Record, "histogram.record(v)"),
    (Op::CounterMacro, "counter!(..).increment(1)"),
    (Op::HistogramMacro, "histogram!(..).record(v)"),
];

impl Op {
    fn counts(self) -> bool {
        matches!(self, Op::Increment | Op::CounterMacro)
    }
}

struct Variant<'a> {
    who: Who,
    op: Op,
    /// `batch` operations.
    run: Box<dyn Fn(u64) + Sync + 'a>,
    /// Their recorder, for the drain.
    theirs: Option<&'a PrometheusRecorder>,
    /// Operations run so far, every thread's.
    done: Cell<u64>,
}

fn variant<'a>(
    who: Who,
    op: Op,
    run: Box<dyn Fn(u64) + Sync + 'a>,
    theirs: Option<&'a PrometheusRecorder>,
) -> Variant<'a> {
    Variant {
        who,
        op,
        run,
        theirs,
        done: Cell::new(0),
    }
}

/// Two threads running `run(batch)` at once: wall ns per operation of each (from the
/// first thread's start to the last one's end, over `batch`), the slower thread's CPU ns
/// per operation, and the share of that wall time both ran (how much they really
/// contended: on a shared machine one may wait for a core).
fn two_threads(run: &(dyn Fn(u64) + Sync), batch: u64) -> (f64, f64, f64) {
    // Both spin until both are there: a parked thread would start late.
    let ready = AtomicUsize::new(0);
    let spans: Vec<(Instant, Instant, Duration)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    ready.fetch_add(1, Ordering::AcqRel);
                    let mut spins = 0u32;
                    while ready.load(Ordering::Acquire) < 2 {
                        spins += 1;
                        if spins.is_multiple_of(1024) {
                            std::thread::yield_now(); // the other may need this core
                        } else {
                            std::hint::spin_loop();
                        }
                    }
                    let (start, cpu) = (Instant::now(), ThreadTime::now());
                    run(batch);
                    (start, Instant::now(), cpu.elapsed())
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a benchmark thread panicked"))
            .collect()
    });
    let first_start = spans.iter().map(|s| s.0).min().expect("two threads");
    let last_start = spans.iter().map(|s| s.0).max().expect("two threads");
    let first_end = spans.iter().map(|s| s.1).min().expect("two threads");
    let last_end = spans.iter().map(|s| s.1).max().expect("two threads");
    let cpu = spans.iter().map(|s| s.2).max().expect("two threads");
    let wall = last_end - first_start;
    let both = first_end.saturating_duration_since(last_start);
    (
        wall.as_nanos() as f64 / batch as f64,
        cpu.as_nanos() as f64 / batch as f64,
        both.as_secs_f64() / wall.as_secs_f64(),
    )
}

/// Panics unless each recorder counted exactly what the variants did.
fn check(variants: &[Variant], theirs: [(&PrometheusRecorder, bool); 2]) {
    let expected = |who: Who, counts: bool| -> f64 {
        variants
            .iter()
            .filter(|v| v.who == who && v.op.counts() == counts)
            .map(|v| v.done.get() as f64)
            .sum()
    };
    let read = [
        (Who::Ours, facade::ours_counts()),
        (
            Who::TheirsBuckets,
            facade::theirs_counts(theirs[0].0, theirs[0].1),
        ),
        (
            Who::TheirsSummary,
            facade::theirs_counts(theirs[1].0, theirs[1].1),
        ),
    ];
    for (who, (counter, histogram)) in read {
        let name = WHO.iter().find(|w| w.0 == who).expect("named").1;
        assert_eq!(counter, expected(who, true), "{name}: the counter");
        assert_eq!(
            histogram,
            expected(who, false),
            "{name}: the histogram's count"
        );
        assert!(counter > 0.0 && histogram > 0.0, "{name} recorded");
    }
}

fn main() {
    let rounds = env_or("BENCH_ROUNDS", 31) as usize;
    let batch = env_or("BENCH_BATCH", 100_000);

    let ours = facade::ours();
    let (buckets, theirs_buckets) = facade::theirs(true);
    let (summary, theirs_summary) = facade::theirs(false);

    let variants = vec![
        variant(
            Who::Ours,
            Op::Increment,
            Box::new(|n| increments(&ours.counter, n)),
            None,
        ),
        variant(
            Who::TheirsBuckets,
            Op::Increment,
            Box::new(|n| increments(&theirs_buckets.counter, n)),
            Some(&buckets),
        ),
        variant(
            Who::TheirsSummary,
            Op::Increment,
            Box::new(|n| increments(&theirs_summary.counter, n)),
            Some(&summary),
        ),
        variant(
            Who::Ours,
            Op::Record,
            Box::new(|n| records(&ours.histogram, n)),
            None,
        ),
        variant(
            Who::TheirsBuckets,
            Op::Record,
            Box::new(|n| records(&theirs_buckets.histogram, n)),
            Some(&buckets),
        ),
        variant(
            Who::TheirsSummary,
            Op::Record,
            Box::new(|n| records(&theirs_summary.histogram, n)),
            Some(&summary),
        ),
        variant(Who::Ours, Op::CounterMacro, Box::new(counter_macros), None),
        variant(
            Who::TheirsBuckets,
            Op::CounterMacro,
            Box::new(|n| metrics::with_local_recorder(&buckets, || counter_macros(n))),
            Some(&buckets),
        ),
        variant(
            Who::Ours,
            Op::HistogramMacro,
            Box::new(histogram_macros),
            None,
        ),
        variant(
            Who::TheirsBuckets,
            Op::HistogramMacro,
            Box::new(|n| metrics::with_local_recorder(&buckets, || histogram_macros(n))),
            Some(&buckets),
        ),
    ];
    let theirs = [(&buckets, true), (&summary, false)];
    let n = variants.len();

    // Warm-up (caches, the macros' first registration), then the check that every
    // variant records where it should: none is measured as cheap for doing nothing.
    for v in &variants {
        (v.run)(batch);
        v.done.set(v.done.get() + batch);
    }
    check(&variants, theirs);

    // One thread: CPU ns per operation, and the drain of their histograms' values.
    let mut cpu = vec![Vec::with_capacity(rounds); n];
    let mut drain = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let v = &variants[i];
            let start = ThreadTime::now();
            (v.run)(batch);
            cpu[i].push(start.elapsed().as_nanos() as f64 / batch as f64);
            v.done.set(v.done.get() + batch);
            if let (Some(recorder), false) = (v.theirs, v.op.counts()) {
                let start = ThreadTime::now();
                black_box(recorder.handle().render());
                drain[i].push(start.elapsed().as_nanos() as f64 / batch as f64);
            }
        }
    }

    // Two threads on the same handle: wall ns per operation of each, and CPU ns of the
    // slower.
    let mut wall = vec![Vec::with_capacity(rounds); n];
    let mut wall_cpu = vec![Vec::with_capacity(rounds); n];
    let mut overlap = Vec::with_capacity(rounds * n);
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let v = &variants[i];
            let (w, c, both) = two_threads(&*v.run, batch);
            overlap.push(both);
            wall[i].push(w);
            wall_cpu[i].push(c);
            v.done.set(v.done.get() + 2 * batch);
            if let (Some(recorder), false) = (v.theirs, v.op.counts()) {
                black_box(recorder.handle().render());
            }
        }
    }
    check(&variants, theirs);

    let at = |who: Who, op: Op| variants.iter().position(|v| v.who == who && v.op == op);
    let row = |name: &str, cells: [String; 3]| {
        println!(
            "{name:<32} {:>32} {:>32} {:>32}",
            cells[0], cells[1], cells[2]
        );
    };
    let none = || "–".to_owned();
    let table = |title: &str, times: &[Vec<f64>], drains: bool| {
        println!("\n## {title}");
        row("", WHO.map(|(_, name)| name.to_owned()));
        let cell = |i: Option<usize>, xs: &[Vec<f64>]| {
            i.map_or_else(none, |i| fmt_spread(xs[i].clone(), 2))
        };
        for (op, name) in OPS {
            row(name, WHO.map(|(who, _)| cell(at(who, op), times)));
        }
        if drains {
            for (op, name) in [(Op::Record, "record"), (Op::HistogramMacro, "macro")] {
                row(
                    &format!("their drain per value ({name})"),
                    [
                        none(),
                        cell(at(WHO[1].0, op), &drain),
                        cell(at(WHO[2].0, op), &drain),
                    ],
                );
            }
        }
        row(
            "ratio per round (goal <= 1.0)",
            [
                String::new(),
                "ours / theirs, buckets".to_owned(),
                "ours / theirs, summary".to_owned(),
            ],
        );
        let ratio = |op: Op, who: Who, with_drain: bool| -> String {
            let (Some(a), Some(b)) = (at(Who::Ours, op), at(who, op)) else {
                return none();
            };
            let ratios = (0..rounds)
                .map(|r| {
                    let theirs = times[b][r] + if with_drain { drain[b][r] } else { 0.0 };
                    times[a][r] / theirs
                })
                .collect();
            fmt_spread(ratios, 3)
        };
        for (op, name) in OPS {
            row(
                name,
                [
                    String::new(),
                    ratio(op, WHO[1].0, false),
                    ratio(op, WHO[2].0, false),
                ],
            );
        }
        if drains {
            row(
                "histogram.record(v) + drain",
                [
                    String::new(),
                    ratio(Op::Record, WHO[1].0, true),
                    ratio(Op::Record, WHO[2].0, true),
                ],
            );
        }
    };
    table(
        &format!(
            "the metrics facade, 1 thread: {rounds} rounds × {batch} operations, CPU ns per operation, median (min .. max)"
        ),
        &cpu,
        true,
    );
    table(
        &format!(
            "the metrics facade, 2 threads on the same handle: {rounds} rounds × {batch} operations each, wall ns per operation of each thread, median (min .. max)"
        ),
        &wall,
        false,
    );
    println!(
        "both threads running: {} of each batch's wall time (every batch, median (min .. max))",
        fmt_spread(overlap, 3)
    );
    table(
        "the same 2 threads, the slower one's CPU ns per operation, median (min .. max)",
        &wall_cpu,
        false,
    );
}
