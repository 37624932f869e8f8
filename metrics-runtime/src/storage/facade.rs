//! The values of the `metrics` facade's series (feature `metrics-rs`): a counter, a gauge
//! or a histogram of one label set, each one allocation that the facade's handles share
//! (an `Arc`) and the families list for the scrape.
//!
//! Plain atomics, one read-modify-write per counter increment and two per histogram
//! record (its bucket, its sum): the facade's handles are called from any thread through
//! a shared pointer, and a scrape reads them without stopping anyone. A histogram's
//! buckets are not cumulative; its count is their sum, so its `+Inf` bucket equals its
//! count by construction, as the HTTP series'.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A facade counter: `u64`, as the facade counts.
#[derive(Debug, Default)]
pub(crate) struct FacadeCounter(AtomicU64);

impl FacadeCounter {
    pub(crate) fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }

    /// At least `value` from now on: a counter never goes down.
    pub(crate) fn absolute(&self, value: u64) {
        self.0.fetch_max(value, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A facade gauge: an `f64`, kept as its bits.
#[derive(Debug, Default)]
pub(crate) struct FacadeGauge(AtomicU64);

impl FacadeGauge {
    pub(crate) fn add(&self, delta: f64) {
        add(&self.0, delta);
    }

    pub(crate) fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A facade histogram: its bounds (shared by the family's series), a count per bucket
/// (the last one `+Inf`'s) and the sum of the values recorded.
#[derive(Debug)]
pub(crate) struct FacadeHistogram {
    bounds: Arc<[f64]>,
    buckets: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl FacadeHistogram {
    pub(crate) fn new(bounds: Arc<[f64]>) -> FacadeHistogram {
        FacadeHistogram {
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            bounds,
            sum: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// `count` values of `value`. A value above every bound, and NaN, count in `+Inf`'s
    /// bucket (as Prometheus' Go client counts them).
    pub(crate) fn record(&self, value: f64, count: u64) {
        let at = self
            .bounds
            .iter()
            .position(|&bound| value <= bound)
            .unwrap_or(self.bounds.len());
        if let Some(bucket) = self.buckets.get(at) {
            bucket.fetch_add(count, Ordering::Relaxed);
        }
        add(
            &self.sum,
            if count == 1 {
                value
            } else {
                value * count as f64
            },
        );
    }

    /// The bucket counts (not cumulative, `+Inf`'s last) into `buckets`, and the count and
    /// the sum.
    pub(crate) fn read(&self, buckets: &mut Vec<u64>) -> (u64, f64) {
        buckets.clear();
        buckets.extend(
            self.buckets
                .iter()
                .map(|count| count.load(Ordering::Relaxed)),
        );
        let count = buckets
            .iter()
            .fold(0u64, |sum, &count| sum.wrapping_add(count));
        (count, f64::from_bits(self.sum.load(Ordering::Relaxed)))
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        &self.bounds
    }
}

// Adds `delta` to the `f64` whose bits `cell` holds.
fn add(cell: &AtomicU64, delta: f64) {
    let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
        Some((f64::from_bits(bits) + delta).to_bits())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_counts_and_never_goes_down() {
        let counter = FacadeCounter::default();
        counter.increment(3);
        counter.absolute(2);
        assert_eq!(counter.get(), 3);
        counter.absolute(10);
        assert_eq!(counter.get(), 10);
    }

    #[test]
    fn a_gauge_adds_and_sets() {
        let gauge = FacadeGauge::default();
        gauge.add(2.5);
        gauge.add(-1.0);
        assert_eq!(gauge.get(), 1.5);
        gauge.set(-7.25);
        assert_eq!(gauge.get(), -7.25);
    }

    #[test]
    fn a_histogram_counts_each_value_in_its_bucket() {
        let histogram = FacadeHistogram::new(Arc::from([0.1, 1.0]));
        histogram.record(0.1, 1); // on the bound: in it
        histogram.record(0.5, 2);
        histogram.record(7.0, 1);
        histogram.record(f64::NAN, 1);
        let mut buckets = Vec::new();
        let (count, sum) = histogram.read(&mut buckets);
        assert_eq!(buckets, [1, 2, 2]);
        assert_eq!(count, 5);
        assert!(sum.is_nan());

        let histogram = FacadeHistogram::new(Arc::from([1.0]));
        histogram.record(0.25, 4);
        histogram.record(-3.0, 1);
        assert_eq!(histogram.read(&mut buckets), (5, -2.0));
        assert_eq!(buckets, [5, 0]);
    }
}
