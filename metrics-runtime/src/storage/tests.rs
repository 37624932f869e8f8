//! The storage's tests: recording, reading, shards and leases. (What a scrape reads
//! of it through the collector, torn reads included, is tested in
//! `exposition::collector::scrapes`.)

use std::sync::Arc;

use super::shard::Pool;
use super::*;

/// A series of `handler` with these bucket bounds (Prometheus' default ones for
/// `None`), made as the HTTP families make theirs, but listed nowhere.
pub(crate) fn series(buckets: Option<&[f64]>, handler: &'static str) -> &'static Series {
    let bounds = buckets.unwrap_or(prometheus::DEFAULT_BUCKETS);
    let limits: Vec<u64> = bounds.iter().map(|&bound| limit(bound)).collect();
    Series::new(Box::leak(limits.into_boxed_slice()), labels(handler), &[])
}

pub(crate) fn labels(handler: &'static str) -> HttpLabels<'static> {
    HttpLabels {
        handler,
        method: "GET",
        route: "/r",
    }
}

pub(crate) fn buckets(series: &Series) -> (Vec<u64>, Reading) {
    let mut buckets = Vec::new();
    let reading = series.read(&mut buckets);
    (buckets, reading)
}

pub(crate) fn statuses(series: &Series) -> Vec<(u16, u64)> {
    let mut all = Vec::new();
    series.statuses(|code, count| all.push((code, count)));
    all.sort();
    all
}

#[test]
fn records_count_status_and_duration() {
    let series = series(None, "unit_record");
    series.enter();
    assert_eq!(buckets(series).1.in_flight, 1);
    let start = series.now();
    series.record(204, start, series);
    series.enter();
    series.record(700, start, series);
    let (_, reading) = buckets(series);
    assert_eq!(reading.in_flight, 0);
    assert_eq!(
        statuses(series),
        [(204, 1), (500, 1)],
        "out of range counts as 500"
    );
    assert_eq!(reading.count, 2);
}

#[test]
fn a_duration_equal_to_a_bound_is_in_that_bucket() {
    let series = series(None, "unit_edges");
    // Default bounds: 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10.
    for nanos in [0, 5_000_000] {
        series.observe(nanos);
    }
    series.observe(5_000_001);
    series.observe(10_000_000_000);
    series.observe(10_000_000_001);
    let (counts, reading) = buckets(series);
    assert_eq!(counts, [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert_eq!(reading.count, 5);
    // Every limit is where the prometheus crate's compare (`le`, on seconds as
    // `nanos as f64 / 1e9`) changes its answer.
    for &bound in prometheus::DEFAULT_BUCKETS
        .iter()
        .chain(&[0.0, 1e-9, 0.3, 7.77, 1e9])
    {
        let limit = limit(bound);
        assert!((limit - 1) as f64 / 1e9 <= bound, "{bound}");
        assert!(limit as f64 / 1e9 > bound, "{bound}");
    }
    assert_eq!(limit(-1.0), 0, "no duration is below zero");
    assert_eq!(
        limit(1e12),
        u64::MAX,
        "above the longest duration a u64 holds"
    );
    assert_eq!(limit(0.005), 5_000_001);
}

#[test]
fn more_buckets_than_inline_and_more_statuses_than_slots() {
    let bounds: Vec<f64> = (1..=40).map(|i| f64::from(i) / 100.0).collect();
    let series = series(Some(&bounds), "unit_many");
    for i in 1..=41u64 {
        series.observe(i * 10_000_000);
    }
    let (counts, reading) = buckets(series);
    assert_eq!(counts, vec![1; 41]);
    assert_eq!(reading.count, 41);
    for status in 200..212 {
        for _ in 0..status - 199 {
            // In the series' own counts (as a thread being torn down records).
            series.count(status, false);
        }
    }
    let expected: Vec<(u16, u64)> = (200..212).map(|s| (s, u64::from(s - 199))).collect();
    assert_eq!(statuses(series), expected);
}

#[test]
fn each_thread_counts_in_its_own_shard_and_a_scrape_sums_them() {
    let series = series(None, "unit_shards");
    // Statuses in different slot orders per shard, one beyond the slots, and the
    // series' own counts: each status once, summed.
    let threads: Vec<_> = (0..3u16)
        .map(|t| {
            std::thread::spawn(move || {
                for status in [200 + t, 404, 500, 200, 201, 202, 203, 204, 205, 599] {
                    series.enter();
                    series.record_nanos(status, 1_000, series);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    series.count(404, false);
    let shards = series.shards.lock().unwrap().len();
    assert!((1..=3).contains(&shards), "{shards}");
    let mut seen = statuses(series);
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            (200, 4),
            (201, 4),
            (202, 4),
            (203, 3),
            (204, 3),
            (205, 3),
            (404, 4),
            (500, 3),
            (599, 3)
        ]
    );
    let (_, reading) = buckets(series);
    assert_eq!((reading.count, reading.in_flight), (30, 0));
    assert_eq!(reading.sum_nanos, 30_000);
}

#[test]
fn a_lease_given_back_is_the_next_one_taken_with_its_shards() {
    static POOL: Pool<Series> = Pool(Mutex::new(Vec::new()));
    let series = series(None, "unit_lease");
    let mut first = POOL.lease();
    assert!(first.get(series).is_none());
    let shard = first.new_shard(series);
    assert!(std::ptr::eq(first.get(series).unwrap(), shard));
    drop(first);
    // The next thread's lease: the same shard, no new one.
    let next = POOL.lease();
    assert!(std::ptr::eq(next.get(series).unwrap(), shard));
    assert_eq!(series.shards.lock().unwrap().len(), 1);
    // With the pool empty, a new lease has no shard of the series.
    assert!(POOL.lease().get(series).is_none());
}

#[test]
fn threads_that_come_and_go_hand_their_shards_on_and_lose_nothing() {
    const ROUNDS: u64 = 8;
    const THREADS: u64 = 4;
    const CALLS: u64 = 10_000;
    let series = series(None, "unit_churn");
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let scraper = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let (mut last, mut scrapes) = (0, 0);
            while !done.load(Ordering::Acquire) {
                let (_, reading) = buckets(series);
                let counted: u64 = statuses(series).iter().map(|(_, n)| n).sum();
                assert!(reading.count >= last, "the count went down");
                assert!(counted >= last, "a counter went down");
                assert!((0..=THREADS as i64).contains(&reading.in_flight));
                last = reading.count;
                scrapes += 1;
            }
            scrapes
        })
    };
    // Each round's threads exit before the next round's start: their leases, and the
    // shards in them, go to the next ones.
    for _ in 0..ROUNDS {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..CALLS {
                        series.enter();
                        series.record_nanos(200, 1, series);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
    }
    done.store(true, Ordering::Release);
    assert!(scraper.join().unwrap() > 0);
    let (_, reading) = buckets(series);
    assert_eq!(reading.count, ROUNDS * THREADS * CALLS);
    assert_eq!(reading.in_flight, 0);
    assert_eq!(statuses(series), [(200, ROUNDS * THREADS * CALLS)]);
}

#[test]
fn more_statuses_than_a_scrape_merges_on_the_stack_still_sum() {
    let series = series(None, "unit_spilled");
    let threads: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                for status in 200..240 {
                    series.record_nanos(status, 1, series);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let mut seen = statuses(series);
    seen.sort_unstable();
    let expected: Vec<(u16, u64)> = (200..240).map(|s| (s, 2)).collect();
    assert_eq!(seen, expected);
}

#[test]
fn the_sum_stays_exact_over_long_uptimes() {
    let series = series(None, "unit_sum");
    // 31.7 years of summed time, then a million calls of one nanosecond: an f64
    // sum of seconds (1e9 s, 1.2e-7 s apart) would drop every one of them.
    series.observe(1_000_000_000_000_000_000);
    for _ in 0..1_000_000 {
        series.observe(1);
    }
    let (_, reading) = buckets(series);
    assert_eq!(reading.sum_nanos, 1_000_000_000_001_000_000);
    let seconds = reading.sum_nanos as f64 / 1e9;
    assert!((seconds - 1_000_000_000.001).abs() < 1e-6, "{seconds}");
    let mut float = 1e9f64;
    for _ in 0..1_000_000 {
        float += 1e-9;
    }
    assert_eq!(float, 1e9, "what the f64 sum would have shown");
}

#[test]
fn a_call_counted_elsewhere_leaves_where_it_was_in_flight() {
    let first = series(None, "unit_first");
    let then = series(None, "unit_then");
    first.enter();
    first.enter();
    then.record_nanos(200, 1, first);
    assert_eq!(buckets(first).1.in_flight, 1);
    assert_eq!(buckets(first).1.count, 0);
    assert_eq!(buckets(then).1.in_flight, 0);
    assert_eq!(buckets(then).1.count, 1);
    first.leave();
    assert_eq!(buckets(first).1.in_flight, 0);
}
