use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};

use crate::text_sum;

/// The counter's name, as recorded (`bench_facade_total` in our text, `bench_facade` in
/// theirs).
pub const COUNTER: &str = "bench.facade";

/// The histogram's name, as recorded (`bench_facade_seconds` in both texts).
pub const HISTOGRAM: &str = "bench.facade_seconds";

/// Prometheus' default buckets (the Go client's `DefBuckets`), ours by default: theirs are
/// set to the same.
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The values every histogram records, over and over: one in each bucket of [`BUCKETS`],
/// `+Inf`'s last.
pub const VALUES: [f64; 12] = [
    0.003, 0.007, 0.02, 0.04, 0.07, 0.2, 0.4, 0.7, 2.0, 4.0, 7.0, 20.0,
];

/// The value operation `i` records.
#[inline(always)]
pub fn value(i: u64) -> f64 {
    VALUES[(i % VALUES.len() as u64) as usize]
}

/// A recorder's handles for the counter `bench.facade{k="v"}` and the histogram
/// `bench.facade_seconds{k="v"}`.
pub struct Handles {
    /// The counter.
    pub counter: Counter,
    /// The histogram.
    pub histogram: Histogram,
}

impl Handles {
    /// The current recorder's handles (a local one if set, else the global one), as the
    /// facade's macros hand them out.
    pub fn current() -> Handles {
        Handles {
            counter: metrics::counter!(COUNTER, "k" => "v"),
            histogram: metrics::histogram!(HISTOGRAM, "k" => "v"),
        }
    }
}

/// Installs our recorder as the facade's global one (once per process) and returns its
/// handles.
pub fn ours() -> Handles {
    track_metrics::metrics_rs::install().expect("no recorder installed before ours");
    Handles::current()
}

/// metrics-exporter-prometheus' recorder, not installed (used as a local recorder), and
/// its handles: with [`BUCKETS`] (`buckets`), or its default, summaries for histograms.
pub fn theirs(buckets: bool) -> (PrometheusRecorder, Handles) {
    let builder = PrometheusBuilder::new();
    let builder = if buckets {
        builder.set_buckets(&BUCKETS).expect("valid buckets")
    } else {
        builder
    };
    let recorder = builder.build_recorder();
    let handles = metrics::with_local_recorder(&recorder, Handles::current);
    (recorder, handles)
}

/// What our recorder counted in `bench_facade_total{k="v"}` and
/// `bench_facade_seconds_count{k="v"}`, read from `track_metrics::render()`.
pub fn ours_counts() -> (f64, f64) {
    let text = track_metrics::render();
    assert!(
        text_sum(
            &text,
            "bench_facade_seconds_bucket",
            &[("k", "v"), ("le", "0.005")]
        ) > 0.0,
        "our histogram has Prometheus' default buckets"
    );
    (
        text_sum(&text, "bench_facade_total", &[("k", "v")]),
        text_sum(&text, "bench_facade_seconds_count", &[("k", "v")]),
    )
}

/// What `recorder` counted in `bench_facade{k="v"}` and `bench_facade_seconds_count{k="v"}`,
/// read from its `render()` (which also drains the values its histograms hold), after
/// checking that its histogram is what `buckets` says.
pub fn theirs_counts(recorder: &PrometheusRecorder, buckets: bool) -> (f64, f64) {
    let text = recorder.handle().render();
    let bucket = text_sum(
        &text,
        "bench_facade_seconds_bucket",
        &[("k", "v"), ("le", "0.005")],
    );
    let median = text_sum(&text, "bench_facade_seconds", &[("quantile", "0.5")]);
    if buckets {
        assert!(bucket > 0.0, "their histogram has the buckets set");
    } else {
        assert!(
            bucket == 0.0 && median > 0.0,
            "their default histogram is a summary"
        );
    }
    (
        text_sum(&text, "bench_facade", &[("k", "v")]),
        text_sum(&text, "bench_facade_seconds_count", &[("k", "v")]),
    )
}

// The loops, one function each, called for ours and theirs alike: the same code around the
// facade's call, only the recorder behind it differs.

/// `counter.increment(1)`, `batch` times.
#[inline(never)]
pub fn increments(counter: &Counter, batch: u64) {
    for _ in 0..batch {
        counter.increment(1);
    }
}

/// `histogram.record(value(i))` for `i` in `0..batch`.
#[inline(never)]
pub fn records(histogram: &Histogram, batch: u64) {
    for i in 0..batch {
        histogram.record(value(i));
    }
}

/// `counter!(COUNTER, "k" => "v").increment(1)`, `batch` times: the current recorder asked
/// for the handle each time.
#[inline(never)]
pub fn counter_macros(batch: u64) {
    for _ in 0..batch {
        metrics::counter!(COUNTER, "k" => "v").increment(1);
    }
}

/// `histogram!(HISTOGRAM, "k" => "v").record(value(i))` for `i` in `0..batch`: the current
/// recorder asked for the handle each time.
#[inline(never)]
pub fn histogram_macros(batch: u64) {
    for i in 0..batch {
        metrics::histogram!(HISTOGRAM, "k" => "v").record(value(i));
    }
}
