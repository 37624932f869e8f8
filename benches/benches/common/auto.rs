//! The `#[autometrics]` variants (autometrics is a dev-dependency, so they live here).

use autometrics::autometrics;
use metrics_benches::work;

/// `#[autometrics]` as its README shows it: call counter and duration histogram.
#[autometrics]
#[inline(never)]
pub fn autometrics_sync(x: u64) -> u64 {
    work(x)
}

/// The same, async.
#[autometrics]
#[inline(never)]
pub async fn autometrics_async(x: u64) -> u64 {
    work(x)
}

/// `#[autometrics(track_concurrency)]`: also a gauge of calls in flight, so the same
/// three metrics as `#[track_metrics]`.
#[autometrics(track_concurrency)]
#[inline(never)]
pub fn autometrics_gauge(x: u64) -> u64 {
    work(x)
}

/// The same, async.
#[autometrics(track_concurrency)]
#[inline(never)]
pub async fn autometrics_gauge_async(x: u64) -> u64 {
    work(x)
}
