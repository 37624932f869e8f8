//! What a scrape reads of the storage through the collector: the histogram whole, and
//! never a torn series while calls are recorded.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus::Registry;
use prometheus::proto::MetricFamily;

use super::HttpCollector;
use crate::exposition::model;
use crate::families::{Builder, HttpFamilies};
use crate::storage::tests::{buckets, labels, statuses};

/// HTTP families of their own (not the runtime's), with their collector registered
/// in a registry of their own.
pub(crate) fn families(
    builder: &Builder,
    buckets: Option<&[f64]>,
) -> (&'static HttpFamilies, Registry) {
    let families = Arc::new(HttpFamilies::new(builder, buckets, &[]).unwrap());
    let registry = Registry::new();
    registry
        .register(Box::new(HttpCollector::new(Arc::clone(&families))))
        .unwrap();
    (&**Box::leak(Box::new(families)), registry)
}

fn plain(buckets: Option<&[f64]>) -> (&'static HttpFamilies, Registry) {
    families(&Builder::new(None, HashMap::new()), buckets)
}

#[test]
fn the_count_is_the_sum_of_the_buckets() {
    let (families, registry) = plain(Some(&[0.001, 0.1]));
    let series = families.new_series(labels("unit_count"));
    for nanos in [
        1,
        1_000_000,
        1_000_001,
        100_000_000,
        100_000_001,
        u64::MAX / 4,
    ] {
        series.record_nanos(200, nanos, series);
    }
    let gathered = registry.gather();
    let histogram =
        family(&gathered, "http_request_duration_seconds").get_metric()[0].get_histogram();
    assert_eq!(histogram.get_sample_count(), 6);
    let cumulative: Vec<u64> = histogram
        .get_bucket()
        .iter()
        .map(|b| b.cumulative_count())
        .collect();
    assert_eq!(cumulative, [2, 4]);
    let counted = model::counter(&family(&gathered, "http_requests_total").get_metric()[0]);
    assert_eq!(counted, 6.0);
}

#[test]
fn a_scrape_never_sees_a_torn_series() {
    const THREADS: u64 = 4;
    const CALLS: u64 = 100_000;
    let (families, registry) = plain(None);
    let series = families.new_series(labels("unit_torn"));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scraper = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut last = (0u64, 0u64, 0f64, Vec::new());
            let mut scrapes = 0;
            while !done.load(Ordering::Acquire) || scrapes == 0 {
                let gathered = registry.gather();
                scrapes += 1;
                let Some(h) = find(&gathered, "http_request_duration_seconds") else {
                    continue;
                };
                let h = h.get_metric()[0].get_histogram();
                let cumulative: Vec<u64> = h
                    .get_bucket()
                    .iter()
                    .map(|b| b.cumulative_count())
                    .collect();
                // Cumulative, so no bucket above the `+Inf` one (the count).
                assert!(cumulative.windows(2).all(|w| w[0] <= w[1]));
                assert!(cumulative.last().is_none_or(|&c| c <= h.get_sample_count()));
                let requests =
                    model::counter(&family(&gathered, "http_requests_total").get_metric()[0])
                        as u64;
                let gauge =
                    model::gauge(&family(&gathered, "http_requests_in_flight").get_metric()[0]);
                assert!((0.0..=THREADS as f64).contains(&gauge), "{gauge}");
                // The sum holds at least every counted call (1 µs or more each).
                assert!(h.get_sample_sum() >= h.get_sample_count() as f64 * 0.999e-6);
                assert!(h.get_sample_count() >= last.0, "the count went down");
                assert!(requests >= last.1, "a counter went down");
                assert!(h.get_sample_sum() >= last.2, "the sum went down");
                assert!(
                    cumulative
                        .iter()
                        .zip(&last.3)
                        .all(|(now, then)| now >= then),
                    "a bucket went down"
                );
                last = (
                    h.get_sample_count(),
                    requests,
                    h.get_sample_sum(),
                    cumulative,
                );
            }
            (scrapes, last)
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..CALLS {
                    series.enter();
                    series.record_nanos(200, 1_000 + (t * CALLS + i) % 20_000_000, series);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    done.store(true, Ordering::Release);
    let (scrapes, _) = scraper.join().unwrap();
    assert!(scrapes > 1, "{scrapes}");
    let (counts, reading) = buckets(series);
    assert_eq!(reading.count, THREADS * CALLS);
    assert_eq!(counts.iter().sum::<u64>(), THREADS * CALLS);
    assert_eq!(reading.in_flight, 0);
    assert_eq!(statuses(series), [(200, THREADS * CALLS)]);
    let sum: u64 = (0..THREADS * CALLS).map(|n| 1_000 + n % 20_000_000).sum();
    assert_eq!(reading.sum_nanos, sum);
}

fn find<'a>(gathered: &'a [MetricFamily], name: &str) -> Option<&'a MetricFamily> {
    gathered.iter().find(|f| f.name() == name)
}

fn family<'a>(gathered: &'a [MetricFamily], name: &str) -> &'a MetricFamily {
    find(gathered, name).unwrap_or_else(|| panic!("no {name}"))
}
