//! Shared pieces of the benchmarks; not a library for users.
//!
//! The same trivial function in every variant a user could pick, sync and async:
//! bare, hand-written prometheus code (naive and cached), and `#[track_metrics]`.
//! The `#[autometrics]` variant lives in the bench targets, since autometrics is a
//! dev-dependency only. Every variant is `#[inline(never)]` and lives in this crate,
//! so each pays the same call.

/// The app `benches/middleware.rs` and `examples/callgrind_request.rs` send requests
/// to: ten routes like the example service's, `GET /users/{id}` the measured one.
pub mod request_app;

/// [`request_app`] on axum, for `benches/axum.rs`: the same ten routes, `GET
/// /users/{id}` the measured one.
pub mod axum_request_app;

/// The gRPC app of `benches/grpc.rs` and `examples/callgrind_grpc.rs`: the example's
/// `demo.Echo` service, untracked, through tonic's server stack in process, a unary and a
/// server-streaming method measured. Feature `grpc`.
#[cfg(feature = "grpc")]
pub mod grpc_request_app;

/// The interleaved per-request pass of `benches/middleware.rs` and `benches/axum.rs`.
pub mod per_request;

/// The `main` of the axum servers of `scripts/bench-service` (`axum-prometheus-app`,
/// `axum-attribute-app`): reads `BIND_ADDR` (a bad one: one line, exit 2), runs `app`
/// (called inside the runtime, which some layers need) on tokio's multi-threaded
/// runtime, and stops on SIGINT or SIGTERM.
pub mod axum_server;

/// The floor under any request middleware, measured next to ours by
/// `benches/callgrind.sh` and `scripts/bench-service` (one definition, so that both
/// measure the same thing).
pub mod floor;

/// The handles `benches/facade.rs` and `examples/callgrind_facade.rs` record through: the
/// `metrics` facade's counter and histogram of our recorder (track-metrics' feature
/// `metrics-rs`) and of metrics-exporter-prometheus', the values recorded, and reading back
/// what each recorder counted.
pub mod facade;

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use once_cell::sync::Lazy;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use track_metrics::track_metrics;

/// The function being measured: a few cycles of arithmetic the optimiser cannot remove.
#[inline(always)]
pub fn work(x: u64) -> u64 {
    black_box(x)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17)
}

/// The registry of the hand-written variants, apart from ours so names cannot clash.
pub fn hand_registry() -> &'static Registry {
    &HAND.registry
}

/// The families a careful person registers by hand: the same three as ours.
pub struct HandFamilies {
    registry: Registry,
    /// `hand_requests_total{handler, method, route, status}`
    pub requests: IntCounterVec,
    /// `hand_request_duration_seconds{handler, method, route}`
    pub duration: HistogramVec,
    /// `hand_requests_in_flight{handler, method, route}`
    pub in_flight: IntGaugeVec,
}

/// The hand-written families, registered on first use.
pub static HAND: Lazy<HandFamilies> = Lazy::new(|| {
    let registry = Registry::new();
    let requests = IntCounterVec::new(
        Opts::new("hand_requests_total", "Requests, by status."),
        &["handler", "method", "route", "status"],
    )
    .expect("valid counter");
    let duration = HistogramVec::new(
        HistogramOpts::new("hand_request_duration_seconds", "Duration."),
        &["handler", "method", "route"],
    )
    .expect("valid histogram");
    let in_flight = IntGaugeVec::new(
        Opts::new("hand_requests_in_flight", "In flight."),
        &["handler", "method", "route"],
    )
    .expect("valid gauge");
    registry
        .register(Box::new(requests.clone()))
        .expect("register");
    registry
        .register(Box::new(duration.clone()))
        .expect("register");
    registry
        .register(Box::new(in_flight.clone()))
        .expect("register");
    HandFamilies {
        registry,
        requests,
        duration,
        in_flight,
    }
});

/// Handles resolved once: the best a careful person writes by hand.
pub struct Cached {
    in_flight: IntGauge,
    duration: Histogram,
    ok: IntCounter,
}

impl Cached {
    fn new(handler: &str) -> Cached {
        let labels = [handler, "GET", "/bench"];
        Cached {
            in_flight: HAND.in_flight.with_label_values(&labels),
            duration: HAND.duration.with_label_values(&labels),
            ok: HAND
                .requests
                .with_label_values(&[handler, "GET", "/bench", "200"]),
        }
    }
}

static CACHED: Lazy<Cached> = Lazy::new(|| Cached::new("cached"));
static CACHED_ASYNC: Lazy<Cached> = Lazy::new(|| Cached::new("cached_async"));

/// The bare function.
#[inline(never)]
pub fn bare(x: u64) -> u64 {
    work(x)
}

/// What most people write: `with_label_values` (a hash and a read lock) on each call.
#[inline(never)]
pub fn naive(x: u64) -> u64 {
    let labels = ["naive", "GET", "/bench"];
    let in_flight = HAND.in_flight.with_label_values(&labels);
    in_flight.inc();
    let start = Instant::now();
    let out = work(x);
    HAND.duration
        .with_label_values(&labels)
        .observe(start.elapsed().as_secs_f64());
    HAND.requests
        .with_label_values(&["naive", "GET", "/bench", "200"])
        .inc();
    in_flight.dec();
    out
}

/// Cached handles, the in-flight gauge, the histogram and the counter, timed with
/// `std::time::Instant`. (It counts no status, panic or cancellation: cheaper than
/// what `#[track_metrics]` does.)
#[inline(never)]
pub fn cached(x: u64) -> u64 {
    let m = &*CACHED;
    m.in_flight.inc();
    let start = Instant::now();
    let out = work(x);
    m.duration.observe(start.elapsed().as_secs_f64());
    m.ok.inc();
    m.in_flight.dec();
    out
}

/// [`cached`] with prometheus-client 0.25 instead: its histogram with native buckets
/// (schema 3, as ours) beside the same classic ones; a counter and a gauge.
#[inline(never)]
pub fn cached_native(x: u64) -> u64 {
    let m = &*CACHED_NATIVE;
    m.in_flight.inc();
    let start = Instant::now();
    let out = work(x);
    m.duration.observe(start.elapsed().as_secs_f64());
    m.ok.inc();
    m.in_flight.dec();
    out
}

/// The handles of [`cached_native`].
pub struct CachedNative {
    /// Requests.
    pub ok: prometheus_client::metrics::counter::Counter,
    /// Classic and native buckets.
    pub duration: prometheus_client::metrics::histogram::Histogram,
    /// In flight.
    pub in_flight: prometheus_client::metrics::gauge::Gauge,
}

/// The handles of [`cached_native`], made once.
pub static CACHED_NATIVE: Lazy<CachedNative> = Lazy::new(|| {
    use prometheus_client::metrics::histogram::{Histogram, NativeHistogramConfig};
    CachedNative {
        ok: Default::default(),
        duration: Histogram::new_classic_and_native(
            prometheus::DEFAULT_BUCKETS.iter().copied(),
            NativeHistogramConfig::with_schema(3),
        ),
        in_flight: Default::default(),
    }
});

/// The attribute.
#[track_metrics(name = "tracked", method = "GET", route = "/bench")]
#[inline(never)]
pub fn tracked(x: u64) -> u64 {
    work(x)
}

/// The floor: the atomics every variant that records the three metrics pays (gauge
/// up, the histogram's four, a counter, gauge down), without a clock.
#[inline(never)]
pub fn floor_atomics(x: u64) -> u64 {
    let m = &*FLOOR;
    m.in_flight.inc();
    let out = work(x);
    m.duration.observe(1e-6);
    m.ok.inc();
    m.in_flight.dec();
    out
}

/// The atomics and two raw time-stamp-counter reads: the least a call that records
/// the three metrics with a measured duration can cost.
#[inline(never)]
pub fn floor_tsc(x: u64) -> u64 {
    let m = &*FLOOR;
    let clock = &*CLOCK;
    let start = clock.raw();
    m.in_flight.inc();
    let out = work(x);
    let end = clock.raw();
    m.ok.inc();
    m.in_flight.dec();
    m.duration
        .observe(clock.delta_as_nanos(start, end) as f64 / 1e9);
    out
}

static FLOOR: Lazy<Cached> = Lazy::new(|| Cached::new("floor"));
static CLOCK: Lazy<quanta::Clock> = Lazy::new(quanta::Clock::new);

/// The bare function, async.
#[inline(never)]
pub async fn bare_async(x: u64) -> u64 {
    work(x)
}

/// [`naive`], async.
#[inline(never)]
pub async fn naive_async(x: u64) -> u64 {
    let labels = ["naive_async", "GET", "/bench"];
    let in_flight = HAND.in_flight.with_label_values(&labels);
    in_flight.inc();
    let start = Instant::now();
    let out = async { work(x) }.await;
    HAND.duration
        .with_label_values(&labels)
        .observe(start.elapsed().as_secs_f64());
    HAND.requests
        .with_label_values(&["naive_async", "GET", "/bench", "200"])
        .inc();
    in_flight.dec();
    out
}

/// [`cached`], async (not cancel-safe: a dropped future leaves the gauge up).
#[inline(never)]
pub async fn cached_async(x: u64) -> u64 {
    let m = &*CACHED_ASYNC;
    m.in_flight.inc();
    let start = Instant::now();
    let out = async { work(x) }.await;
    m.duration.observe(start.elapsed().as_secs_f64());
    m.ok.inc();
    m.in_flight.dec();
    out
}

/// The attribute, async.
#[track_metrics(name = "tracked_async", method = "GET", route = "/bench")]
#[inline(never)]
pub async fn tracked_async(x: u64) -> u64 {
    work(x)
}

/// Polls a future that is ready at once (every variant here is), without a runtime.
#[inline(always)]
pub fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the benchmarked futures never wait"),
    }
}

/// A variant under measurement: its name and the function to call.
pub type Variant = (&'static str, fn(u64) -> u64);

/// CPU time of this thread, in ns per call of `f` over `batch` calls.
///
/// CPU time, not wall time: on a shared machine a batch that loses its core to
/// another process would otherwise count the other process' time too.
pub fn time_batch(f: fn(u64) -> u64, batch: u64) -> f64 {
    let start = cpu_time::ThreadTime::now();
    for i in 0..batch {
        black_box(f(black_box(i)));
    }
    start.elapsed().as_nanos() as f64 / batch as f64
}

/// `times[v][r]`: ns per call of variant `v` in round `r`. Each round times every
/// variant over one batch, in an order that rotates from round to round, so a slow
/// phase of the machine hits all variants alike; compare variants round by round.
pub fn interleave(variants: &[Variant], rounds: usize, batch: u64) -> Vec<Vec<f64>> {
    let n = variants.len();
    for &(_, f) in variants {
        time_batch(f, batch); // warm-up: caches, first-use registration
    }
    let mut times = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let v = (round + k) % n;
            times[v].push(time_batch(variants[v].1, batch));
        }
    }
    times
}

/// `threads` threads each call `f` `iters` times at once; returns the CPU time of
/// the slowest, so that time / iters is the cost of one call while the others run
/// too.
pub fn contended(threads: usize, iters: u64, f: fn(u64) -> u64) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let start = cpu_time::ThreadTime::now();
                    for i in 0..iters {
                        black_box(f(black_box(i)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a benchmark thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

/// (min, median, max) of `xs`.
pub fn spread(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[0], xs[xs.len() / 2], xs[xs.len() - 1])
}

/// `median  (min .. max)` with `digits` decimals.
pub fn fmt_spread(xs: Vec<f64>, digits: usize) -> String {
    let (min, med, max) = spread(xs);
    format!("{med:8.digits$}  ({min:.digits$} .. {max:.digits$})")
}

/// A whole number from the environment, or `default`.
pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The sum of the counter family `family` over the series labelled `label = value`.
pub fn counter_sum(registry: &Registry, family: &str, label: &str, value: &str) -> f64 {
    registry
        .gather()
        .iter()
        .filter(|mf| mf.name() == family)
        .flat_map(|mf| mf.get_metric())
        .filter(|m| {
            m.get_label()
                .iter()
                .any(|l| l.name() == label && l.value() == value)
        })
        .map(counter_value)
        .sum()
}

// A gathered counter's value. tonic_prometheus_layer (feature `grpc`) turns on the
// prometheus crate's `protobuf` feature, whose model reads it another way.
#[cfg(not(feature = "grpc"))]
fn counter_value(metric: &prometheus::proto::Metric) -> f64 {
    metric.get_counter().get_value()
}

#[cfg(feature = "grpc")]
fn counter_value(metric: &prometheus::proto::Metric) -> f64 {
    metric.get_counter().value()
}

/// The sum of the samples of `family` in the Prometheus text `text` whose labels
/// include every `(name, value)` of `labels` (label order does not matter).
pub fn text_sum(text: &str, family: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(family)?.strip_prefix('{')?;
            let (set, value) = rest.rsplit_once("} ")?;
            // `a="x",b="",c="y"`: split at `",`, then each `name="value` (the last `"` kept).
            let has = |name: &str, want: &str| {
                set.split("\",").any(|kv| {
                    kv.split_once('=').is_some_and(|(k, v)| {
                        k == name
                            && v.strip_prefix('"').map(|v| v.trim_end_matches('"')) == Some(want)
                    })
                })
            };
            labels
                .iter()
                .all(|(name, want)| has(name, want))
                .then(|| value.trim().parse::<f64>().ok())?
        })
        .sum()
}

/// Panics unless the counter of every variant in `handlers` moved: a variant that
/// recorded nothing would be measured as cheap for the wrong reason.
pub fn assert_counted(registry: &Registry, family: &str, label: &str, handlers: &[&str]) {
    for handler in handlers {
        let n = counter_sum(registry, family, label, handler);
        assert!(n > 0.0, "{family}{{{label}={handler:?}}} did not move");
    }
}

/// A context whose span is a sampled one of a real SDK tracer (no exporter): made current,
/// every tracked call in it records an exemplar (feature `opentelemetry`).
#[cfg(feature = "opentelemetry")]
pub fn sampled_context() -> opentelemetry::Context {
    use opentelemetry::trace::{TraceContextExt, Tracer, TracerProvider};
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOn)
        .build();
    let span = provider.tracer("metrics-benches").start("calls");
    opentelemetry::Context::current_with_span(span)
}

/// [`sampled_context`], current until the guard is dropped.
#[cfg(feature = "opentelemetry")]
pub fn sampled_span() -> opentelemetry::ContextGuard {
    sampled_context().attach()
}

/// Handlers of [`populate_requests`].
pub const HANDLERS: usize = 500;

/// The statuses each handler of [`populate_requests`] is finished with.
pub const STATUSES: [u16; 20] = [
    200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 422, 429, 499, 500, 502, 503,
    504,
];

/// 10 000 request-count series (and their 500 histograms and 500 gauges) in the process'
/// registry: [`HANDLERS`] call sites, each finished once with each of the [`STATUSES`] by
/// each of `threads` threads. Real handlers get their call sites from `#[track_metrics]`;
/// here they are made at run time. With the `opentelemetry` feature every call is made in a
/// sampled span (every series holds an exemplar).
pub fn populate_requests(threads: usize) {
    use track_metrics::__private::CallSite;
    let sites: Vec<&'static CallSite> = (0..HANDLERS)
        .map(|h| {
            let handler: &'static str = Box::leak(format!("handler_{h:03}").into_boxed_str());
            let route: &'static str =
                Box::leak(format!("/api/v1/resource_{h:03}/{{id}}").into_boxed_str());
            &*Box::leak(Box::new(CallSite::new(handler, "GET", route)))
        })
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                #[cfg(feature = "opentelemetry")]
                let _span = sampled_span();
                for site in &sites {
                    for status in STATUSES {
                        site.start(false, module_path!(), "")
                            .expect("metrics are enabled")
                            .finish(status);
                    }
                }
            });
        }
    });
}

/// How many batches a bench's child process times ([`median_batch`]).
pub const BATCHES: u64 = 5;

/// The median CPU ns per operation of [`BATCHES`] runs of `run`, each of `batch`
/// operations, timed in this thread's CPU time.
pub fn median_batch(mut run: impl FnMut(), batch: u64) -> f64 {
    let mut times: Vec<f64> = (0..BATCHES)
        .map(|_| {
            let start = cpu_time::ThreadTime::now();
            run();
            start.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// Runs this bench's own executable again once per variant and round, the order rotating
/// from round to round, with `child` set to the variant and `envs` besides, for benches
/// of process-wide configuration (a process per variant); each child must succeed.
/// Returns per variant what its children printed (trimmed), round by round.
pub fn run_children(
    child: &str,
    variants: &[&str],
    rounds: usize,
    envs: &[(&str, String)],
) -> Vec<Vec<String>> {
    let exe = std::env::current_exe().expect("the bench's own path");
    let mut outputs = vec![Vec::with_capacity(rounds); variants.len()];
    for round in 0..rounds {
        for k in 0..variants.len() {
            let v = (round + k) % variants.len();
            let out = std::process::Command::new(&exe)
                .env(child, variants[v])
                .envs(envs.iter().map(|(name, value)| (name, value)))
                .output()
                .expect("the bench runs itself");
            assert!(
                out.status.success(),
                "{}: {}",
                variants[v],
                String::from_utf8_lossy(&out.stderr)
            );
            outputs[v].push(String::from_utf8_lossy(&out.stdout).trim().to_owned());
        }
    }
    outputs
}

/// [`run_children`] whose children each print one number (their CPU ns per operation):
/// per variant, the numbers, round by round.
pub fn run_children_ns(
    child: &str,
    variants: &[&str],
    rounds: usize,
    envs: &[(&str, String)],
) -> Vec<Vec<f64>> {
    run_children(child, variants, rounds, envs)
        .into_iter()
        .map(|outputs| {
            outputs
                .iter()
                .map(|out| {
                    out.parse()
                        .unwrap_or_else(|err| panic!("a child prints its ns ({err}): {out:?}"))
                })
                .collect()
        })
        .collect()
}

/// Configures the OpenTelemetry naming (`Config::naming`), before first use: the
/// benches' `+otel` variants.
pub fn configure_otel_naming() {
    track_metrics::configure(
        track_metrics::Config::new().naming(track_metrics::Naming::OpenTelemetry),
    )
    .expect("configured before first use");
}

/// Configures the request label the label benches measure: `tenant` from the `x-tenant`
/// header, two tenants allowed (the requests send `acme`).
pub fn configure_tenant_label() {
    track_metrics::configure(track_metrics::Config::new().label(
        track_metrics::RequestLabel::header("tenant", "x-tenant").allow(["acme", "globex"]),
    ))
    .expect("configured before first use");
}
