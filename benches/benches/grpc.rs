//! Per-RPC cost of `GrpcMetricsLayer` through tonic 0.14's server stack, in process,
//! against the same stack bare and with tonic_prometheus_layer's `MetricsLayer`.
//!
//! `cargo bench -p metrics-benches --features grpc --bench grpc` runs the criterion
//! group (wall time), then an interleaved pass: every variant and shape in turn, round
//! after round, each round a batch of RPCs timed in thread CPU time, and prints each
//! variant's added cost (variant − bare, round by round) and the ratio against
//! tonic_prometheus_layer, as median (min .. max) over rounds. `BENCH_ROUNDS` and
//! `BENCH_BATCH` set its size; a filter that matches nothing (`-- none`) skips to it.
//! Last, the unary RPC with each variant in a process of its own (the bench runs itself
//! once per variant and round, `BENCH_PROCESS_ROUNDS` and `BENCH_PROCESS_BATCH`), as a
//! server runs one stack, each child reporting the median of its batches.
//!
//! The service is the example's `demo.Echo`, untracked
//! (`metrics_benches::grpc_request_app`), behind tonic's routes and the variant's layer,
//! called as hyper calls a connection's service (`oneshot` on a clone), with a real
//! `http::Request` (a length-prefixed protobuf message, `content-type:
//! application/grpc`); the response body is polled to its trailers and its end, on a
//! current-thread tokio runtime. Shapes: the unary `Say`; the server-streaming `Repeat`
//! of 1 and of 100 replies, whose difference / 99 is the cost per streamed message, with
//! the replies ready at once (tonic packs them into one data frame) or each after a
//! yield (a data frame each).
//! Before any timing, each variant is checked to answer every RPC (its replies, `OK`)
//! and to count exactly the RPCs it was sent (and the others nothing), so nothing is
//! measured as cheap because it recorded nothing.

#![allow(clippy::print_stdout)] // the results table

use std::rc::Rc;

use criterion::Criterion;
use metrics_benches::grpc_request_app::{
    BASELINE, LONG, SHAPES, STREAM, Shape, Stack, UNARY, VARIANTS, call, request, send, variant,
};
use metrics_benches::per_request::{Run, interleave};
use metrics_benches::{BATCHES, env_or, fmt_spread, median_batch, run_children_ns, text_sum};
use tokio::runtime::Runtime;

fn stack(name: &str, shape: Shape) -> Stack {
    variant(name, shape.frames).expect("a variant")
}

// `n` RPCs of `shape` through `stack` on `rt`.
fn runner(rt: &Rc<Runtime>, stack: Stack, shape: Shape) -> Run {
    let rt = Rc::clone(rt);
    Rc::new(move |n| {
        rt.block_on(async {
            for _ in 0..n {
                send(&stack, request(shape.method, shape.count)).await;
            }
        });
    })
}

// RPCs of `method` answered `OK` that each side has counted in `grpc_server_handled_total`:
// ours in `track_metrics::render()`, tonic_prometheus_layer's in its own registry.
fn ours(method: &str) -> f64 {
    handled(&track_metrics::render(), method)
}

fn theirs(method: &str) -> f64 {
    let text = tonic_prometheus_layer::metrics::encode_to_string().expect("their metrics");
    handled(&text, method)
}

fn handled(text: &str, method: &str) -> f64 {
    text_sum(
        text,
        "grpc_server_handled_total",
        &[
            ("grpc_service", "demo.Echo"),
            ("grpc_method", method),
            ("grpc_code", "OK"),
        ],
    )
}

// Sends a few RPCs of every shape through each variant: each must be answered in full
// with `OK`, and counted exactly once where it should be, nowhere else.
fn assert_counts(rt: &Runtime) {
    const N: u32 = 3;
    for name in VARIANTS {
        for shape in SHAPES {
            let stack = stack(name, shape);
            let all = || [ours(shape.method), theirs(shape.method)];
            let before = all();
            for _ in 0..N {
                let (replies, status) =
                    rt.block_on(call(&stack, request(shape.method, shape.count)));
                let want = if shape.method == UNARY {
                    1
                } else {
                    shape.count
                };
                assert_eq!(
                    replies.len(),
                    want as usize,
                    "{name} {}: replies",
                    shape.name
                );
                assert!(replies.iter().all(|reply| reply.text == "hello"));
                assert_eq!(
                    status.as_deref(),
                    Some("0"),
                    "{name} {}: grpc-status",
                    shape.name
                );
            }
            let after = all();
            let moved: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
            let want = match name {
                "bare" => [0, 0],
                "layer" => [N, 0],
                BASELINE => [0, N],
                other => unreachable!("variant {other}"),
            };
            let want: Vec<f64> = want.iter().map(|&x| f64::from(x)).collect();
            assert_eq!(
                moved, want,
                "{name} {}: {N} RPCs moved [ours, tonic_prometheus_layer] by {moved:?}",
                shape.name
            );
        }
    }
}

fn criterion_group(c: &mut Criterion, rt: &Rc<Runtime>) {
    for shape in [SHAPES[0], SHAPES[2], SHAPES[4]] {
        let mut group = c.benchmark_group(format!("grpc_{}", shape.name));
        for name in VARIANTS {
            let run = runner(rt, stack(name, shape), shape);
            group.bench_function(name, |b| b.iter(|| run(1)));
        }
        group.finish();
    }
}

// The ratio of `ours` to `theirs`, round by round; `goal`, when there is one.
fn print_ratio(what: &str, ours: &[f64], theirs: &[f64], goal: &str) {
    let ratio: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
    println!(
        "ratio layer/{BASELINE} ({what}) {}{goal}",
        fmt_spread(ratio, 3)
    );
}

// RPCs of `shape` a batch: the long streams a tenth of `batch`, so that every run of a
// round takes about as long.
fn batch_of(shape: Shape, batch: u64) -> u64 {
    if shape.count == LONG {
        (batch / 10).max(1)
    } else {
        batch
    }
}

fn report(rt: &Rc<Runtime>, rounds: usize, batch: u64) {
    // Every variant and shape, interleaved: `times[v * SHAPES.len() + s]`.
    let mut runs = Vec::new();
    for name in VARIANTS {
        for shape in SHAPES {
            runs.push((
                runner(rt, stack(name, shape), shape),
                batch_of(shape, batch),
            ));
        }
    }
    let times = interleave(&runs, rounds);
    let time = |v: usize, s: usize| &times[v * SHAPES.len() + s];
    let minus =
        |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(a, b)| a - b).collect() };
    let per_message = |v: usize, short: usize, long: usize| -> Vec<f64> {
        minus(time(v, long), time(v, short))
            .iter()
            .map(|d| d / f64::from(LONG - 1))
            .collect()
    };
    let (layer, baseline) = (1, VARIANTS.len() - 1);

    println!(
        "\n## unary RPC ({UNARY}) through tonic's server stack: {rounds} rounds x {batch} RPCs, CPU ns per RPC, median (min .. max)"
    );
    println!("{:<24} {:>30} {:>30}", "variant", "time", "added (- bare)");
    for (v, name) in VARIANTS.iter().enumerate() {
        println!(
            "{name:<24} {:>30} {:>30}",
            fmt_spread(time(v, 0).clone(), 1),
            fmt_spread(minus(time(v, 0), time(0, 0)), 1)
        );
    }
    print_ratio(
        "added per RPC",
        &minus(time(layer, 0), time(0, 0)),
        &minus(time(baseline, 0), time(0, 0)),
        "   goal <= 0.5",
    );

    for (frames, short, long) in [
        ("packed into one data frame", 1, 2),
        ("a data frame each", 3, 4),
    ] {
        println!(
            "\n## server-streaming RPC ({STREAM}), replies {frames}: RPCs of 1 ({batch} a batch) and of {LONG} ({} a batch), {rounds} rounds, CPU ns, median (min .. max); per message = (RPC of {LONG} - RPC of 1) / {}",
            batch_of(SHAPES[long], batch),
            LONG - 1
        );
        println!(
            "{:<24} {:>28} {:>30} {:>26} {:>26}",
            "variant", "RPC of 1", "RPC of 100", "added per RPC of 100", "added per message"
        );
        for (v, name) in VARIANTS.iter().enumerate() {
            println!(
                "{name:<24} {:>28} {:>30} {:>26} {:>26}",
                fmt_spread(time(v, short).clone(), 1),
                fmt_spread(time(v, long).clone(), 1),
                fmt_spread(minus(time(v, long), time(0, long)), 1),
                fmt_spread(
                    minus(&per_message(v, short, long), &per_message(0, short, long)),
                    2
                ),
            );
        }
        // Per message, tonic_prometheus_layer does nothing (it never sees the body): no
        // ratio there, its added cost is noise around 0.
        print_ratio(
            &format!("added per RPC of {LONG}"),
            &minus(time(layer, long), time(0, long)),
            &minus(time(baseline, long), time(0, long)),
            "",
        );
    }
}

/// The variable that makes the bench a child running one variant.
const CHILD: &str = "GRPC_BENCH_VARIANT";

// One variant alone in this process: warms up, times `BATCHES` batches of unary RPCs,
// checks that it counted every one where it should (and nowhere else), and prints the
// median CPU ns per RPC.
fn child(name: &str) {
    const WARM_UP: u64 = 2_000;
    let batch = env_or("BENCH_BATCH", 20_000);
    let rt = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime"),
    );
    let shape = SHAPES[0];
    let run = runner(&rt, stack(name, shape), shape);
    run(WARM_UP);
    let ns = median_batch(|| run(batch), batch);
    let total = (WARM_UP + BATCHES * batch) as f64;
    let want = match name {
        "bare" => [0.0, 0.0],
        "layer" => [total, 0.0],
        BASELINE => [0.0, total],
        other => unreachable!("variant {other}"),
    };
    assert_eq!(
        [ours(UNARY), theirs(UNARY)],
        want,
        "{name}: RPCs counted [ours, tonic_prometheus_layer]"
    );
    println!("{ns}");
}

// The unary RPC again, each variant in a process of its own, as a server runs one
// stack: no other variant's code and data share its caches and branch predictors.
fn report_processes(rounds: usize, batch: u64) {
    let times = run_children_ns(
        CHILD,
        &VARIANTS,
        rounds,
        &[("BENCH_BATCH", batch.to_string())],
    );
    let added = |v: usize| -> Vec<f64> {
        times[v]
            .iter()
            .zip(&times[0])
            .map(|(with, bare)| with - bare)
            .collect()
    };
    println!(
        "\n## unary RPC ({UNARY}), a process per variant and round: {rounds} rounds x {BATCHES} batches of {batch} RPCs (a child's time the median of its batches), CPU ns per RPC, median (min .. max)"
    );
    println!("{:<24} {:>30} {:>30}", "variant", "time", "added (- bare)");
    for (v, name) in VARIANTS.iter().enumerate() {
        println!(
            "{name:<24} {:>30} {:>30}",
            fmt_spread(times[v].clone(), 1),
            fmt_spread(added(v), 1)
        );
    }
    print_ratio(
        "added per RPC",
        &added(1),
        &added(VARIANTS.len() - 1),
        "   goal <= 0.5",
    );
}

fn main() {
    if let Ok(variant) = std::env::var(CHILD) {
        child(&variant);
        return;
    }
    let rt = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime"),
    );
    assert_counts(&rt);
    let mut criterion = Criterion::default().configure_from_args();
    criterion_group(&mut criterion, &rt);
    criterion.final_summary();
    let rounds = env_or("BENCH_ROUNDS", 61) as usize;
    let batch = env_or("BENCH_BATCH", 2000);
    report(&rt, rounds, batch);
    report_processes(
        env_or("BENCH_PROCESS_ROUNDS", 21) as usize,
        env_or("BENCH_PROCESS_BATCH", 20_000),
    );
}
