//! Native histogram buckets (feature `native-histograms`): Prometheus' exponential
//! buckets, recorded beside the classic ones on the same call.
//!
//! A bucket's key `k` holds the durations in `(2^((k-1)/2^schema), 2^(k/2^schema)]`
//! seconds; durations at or below the zero threshold go to the zero bucket. Which
//! durations a bucket holds is decided as for the classic buckets (see
//! [`limit`](super::limit)): a call of `n` nanoseconds is in the first bucket whose
//! upper bound is not below `n as f64 / 1e9`, the value client_golang would observe.
//!
//! Every series (and each thread's shard of it) keeps a fixed window of buckets, from
//! the zero threshold to a top bound: 8 bytes per bucket, made with the series, so that
//! recording allocates nothing and memory is bounded by the program, as for the classic
//! buckets. A duration above the top is counted in the top bucket. The window's
//! [`NativeLayout`] is shared by every series: per bucket the last nanosecond count
//! in it, and a table that finds a duration's bucket from its bit length and next
//! four bits, then at most a compare or two against those limits.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::limit;

/// The window and resolution of the native buckets: how a duration finds its bucket.
pub(crate) struct NativeLayout {
    schema: i8,
    // The zero bucket's upper bound, in seconds.
    zero_threshold: f64,
    // The key of slot 1 (slot 0 is the zero bucket).
    first_key: i32,
    // Per slot, the last nanosecond count in it; the top one `u64::MAX`.
    lasts: Box<[u64]>,
    // Per cell of nanosecond counts (see `cell`), the slot of the cell's lowest count.
    cells: Box<[u16]>,
}

/// The cells: 16 of one nanosecond each, then 16 per bit length from 5 to 64.
const CELLS: usize = 16 + 60 * 16;

// The cell of `nanos`: by its bit length and the four bits after its leading one. A cell
// spans less than a factor 2^(1/16) of durations, so it holds at most one bucket limit
// up to schema 3 (two at schema 4, more beyond: `slot` steps over them).
#[inline]
fn cell(nanos: u64) -> usize {
    if nanos < 16 {
        return nanos as usize;
    }
    let high = 63 - nanos.leading_zeros(); // 4..=63
    let next = (nanos >> (high - 4)) & 15;
    16 + (high as usize - 4) * 16 + next as usize
}

// The lowest count in `cell`.
fn cell_low(cell: usize) -> u64 {
    if cell < 16 {
        return cell as u64;
    }
    let (high, next) = ((cell - 16) / 16 + 4, (cell - 16) % 16);
    (16 + next as u64) << (high - 4)
}

/// The upper bound of the bucket `key` at `schema`, in seconds: `2^(key / 2^schema)`.
fn upper_bound(schema: i8, key: i32) -> f64 {
    (f64::from(key) * (-f64::from(schema)).exp2()).exp2()
}

impl NativeLayout {
    /// Buckets at `schema` (-4..=8) from `zero_threshold` (a power of two, in seconds) up to
    /// the first bound at or above `top` seconds.
    pub(crate) fn new(schema: i8, zero_threshold: f64, top: f64) -> NativeLayout {
        debug_assert!((-4..=8).contains(&schema) && zero_threshold > 0.0 && top > zero_threshold);
        let scale = f64::from(schema).exp2();
        // The first bucket above the zero bucket: the one whose lower bound is the
        // threshold (for a negative schema, the one the threshold falls in).
        let first_key = (zero_threshold.log2() * scale).floor() as i32 + 1;
        let last_key = (top.log2() * scale).ceil() as i32;
        // `limit` is above 0 for a bound above 0.
        let lasts: Box<[u64]> = std::iter::once(limit(zero_threshold) - 1)
            .chain((first_key..last_key).map(|key| limit(upper_bound(schema, key)) - 1))
            .chain(std::iter::once(u64::MAX))
            .collect();
        let cells = (0..CELLS)
            .map(|cell| {
                let low = cell_low(cell);
                lasts.partition_point(|&last| last < low) as u16
            })
            .collect();
        NativeLayout {
            schema,
            zero_threshold,
            first_key,
            lasts,
            cells,
        }
    }

    /// How many buckets a series keeps, the zero bucket included.
    pub(crate) fn slots(&self) -> usize {
        self.lasts.len()
    }

    /// The slot of a duration of `nanos`: 0 for the zero bucket, else `1 + key -
    /// first_key`, the top one for anything above it.
    #[inline]
    pub(crate) fn slot(&self, nanos: u64) -> usize {
        let mut slot = usize::from(self.cells[cell(nanos)]);
        // The top slot's last is `u64::MAX`: no count is above it.
        while nanos > self.lasts[slot] {
            slot += 1;
        }
        slot
    }

    /// The schema.
    pub(crate) fn schema(&self) -> i8 {
        self.schema
    }

    /// The zero bucket's upper bound, in seconds.
    pub(crate) fn zero_threshold(&self) -> f64 {
        self.zero_threshold
    }

    /// The key of slot `slot` (1 and above).
    pub(crate) fn key(&self, slot: usize) -> i32 {
        self.first_key + slot as i32 - 1
    }
}

/// One block's native buckets (a series', or a thread's shard of it).
pub(crate) struct NativeCounts {
    layout: &'static NativeLayout,
    counts: Box<[AtomicU64]>,
    // The slot of this block's last call (see `observe`).
    hint: AtomicUsize,
}

impl NativeCounts {
    /// All zero, in `layout`'s window.
    pub(crate) fn new(layout: &'static NativeLayout) -> NativeCounts {
        NativeCounts {
            layout,
            counts: (0..layout.slots()).map(|_| AtomicU64::new(0)).collect(),
            hint: AtomicUsize::new(0),
        }
    }

    /// [`NativeCounts::new`], for as long as the process lives (with its series).
    pub(crate) fn leaked(layout: &'static NativeLayout) -> &'static NativeCounts {
        Box::leak(Box::new(NativeCounts::new(layout)))
    }

    /// The window.
    pub(crate) fn layout(&self) -> &'static NativeLayout {
        self.layout
    }

    /// One more call of `nanos`.
    ///
    /// In the bucket of this block's last call when it holds `nanos` too (two compares),
    /// else in the one [`NativeLayout::slot`] finds. Why: a count whose address is
    /// computed from the duration (through the table) must wait for the clock's reading,
    /// and a call then costs about 12 ns more; the slot of the last call is known before
    /// the clock is read, and the compares are branches the processor predicts.
    #[inline]
    pub(super) fn observe(&self, nanos: u64, only: bool) {
        let lasts = &self.layout.lasts;
        let hint = self.hint.load(Ordering::Relaxed);
        let hit = lasts.get(hint).is_some_and(|&last| nanos <= last)
            && (hint == 0 || lasts.get(hint - 1).is_some_and(|&last| nanos > last));
        let slot = if hit {
            hint
        } else {
            let slot = self.layout.slot(nanos);
            self.hint.store(slot, Ordering::Relaxed);
            slot
        };
        if let Some(count) = self.counts.get(slot) {
            super::add(count, 1, only, Ordering::Relaxed);
        }
    }

    /// Adds each slot's count to `totals`.
    pub(super) fn add_to(&self, totals: &mut [u64]) {
        for (total, count) in totals.iter_mut().zip(self.counts.iter()) {
            *total = total.wrapping_add(count.load(Ordering::Relaxed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Figures from client_golang 1.14 (`NativeHistogramBucketFactor` picking the schema,
    // `Observe(float64(ns) / 1e9)`, the key read off `Write`): per schema and zero
    // threshold, each duration's key, `None` for the zero bucket.
    // (benches/reference/native_buckets.go prints them.)
    // A schema, the zero threshold's power of two, and (nanoseconds, key) pairs.
    type Case = (i8, i32, &'static [(u64, Option<i32>)]);

    const GO: [Case; 5] = [
        (
            3,
            -20,
            &[
                (0, None),
                (1, None),
                (953, None),
                (954, Some(-159)),
                (1_000, Some(-159)),
                (999_999, Some(-79)),
                (1_000_000, Some(-79)),
                (1_000_001, Some(-79)),
                (1_090_507, Some(-78)),
                (1_090_508, Some(-78)),
                (5_000_000, Some(-61)),
                (250_000_000, Some(-16)),
                (500_000_000, Some(-8)),
                (500_000_001, Some(-7)),
                (1_000_000_000, Some(0)),
                (1_000_000_001, Some(1)),
                (1_090_507_732, Some(1)),
                (1_090_507_733, Some(2)),
                (2_000_000_000, Some(8)),
                (1_000_000_000_000, Some(80)),
            ],
        ),
        (
            0,
            -20,
            &[
                (1_000, Some(-19)),
                (2_000, Some(-18)),
                (500_000_000, Some(-1)),
                (500_000_001, Some(0)),
                (1_000_000_000, Some(0)),
                (1_000_000_001, Some(1)),
                (3_000_000_000, Some(2)),
                (4_000_000_000, Some(2)),
                (4_000_000_001, Some(3)),
            ],
        ),
        (
            1,
            -16,
            &[
                (15_258, None),
                (15_259, Some(-31)),
                (100_000, Some(-26)),
                (707_106_781, Some(-1)),
                (707_106_782, Some(0)),
                (1_414_213_562, Some(1)),
                (1_414_213_563, Some(2)),
            ],
        ),
        (
            -2,
            -20,
            &[
                (1_000, Some(-4)),
                // client_golang 1.14 says 0: its integer division rounds a negative key
                // toward zero (fixed in later versions, which shift). 2^-4 s is the
                // upper bound of bucket -1 at schema -2.
                (62_500_000, Some(-1)),
                (62_500_001, Some(0)),
                (1_000_000_000, Some(0)),
                (1_000_000_001, Some(1)),
                (16_000_000_000, Some(1)),
                (16_000_000_001, Some(2)),
            ],
        ),
        (
            8,
            -20,
            &[
                (999_999_999, Some(0)),
                (1_000_000_000, Some(0)),
                (1_000_000_001, Some(1)),
                (1_002_711_000, Some(1)),
                (1_002_711_001, Some(1)),
                (1_002_711, Some(-2550)),
                (1_002_712, Some(-2550)),
                (1_002_713, Some(-2550)),
            ],
        ),
    ];

    fn key_of(layout: &NativeLayout, nanos: u64) -> Option<i32> {
        match layout.slot(nanos) {
            0 => None,
            slot => Some(layout.key(slot)),
        }
    }

    #[test]
    fn keys_are_client_golangs() {
        for (schema, zero, cases) in GO {
            // A top above every case: 2^10 s.
            let layout = NativeLayout::new(schema, f64::from(zero).exp2(), 1024.0);
            for &(nanos, key) in cases {
                assert_eq!(key_of(&layout, nanos), key, "schema {schema}, {nanos} ns");
            }
        }
    }

    // Every slot against a plain search, around every boundary, for every schema.
    #[test]
    fn slots_agree_with_a_search_of_the_limits() {
        for schema in -4..=8 {
            let layout = NativeLayout::new(schema, (-20f64).exp2(), 1024.0);
            let search = |nanos: u64| layout.lasts.partition_point(|&last| last < nanos);
            for &last in layout.lasts.iter().filter(|&&l| l < u64::MAX) {
                for nanos in [last.saturating_sub(1), last, last + 1] {
                    assert_eq!(
                        layout.slot(nanos),
                        search(nanos),
                        "schema {schema}, {nanos} ns"
                    );
                }
            }
            for nanos in (0..64)
                .map(|bits| 1u64 << bits)
                .chain([u64::MAX, 12_345_678])
            {
                assert_eq!(
                    layout.slot(nanos),
                    search(nanos),
                    "schema {schema}, {nanos} ns"
                );
            }
        }
    }

    #[test]
    fn the_window_and_beyond_it() {
        let layout = NativeLayout::new(3, (-20f64).exp2(), 1024.0);
        // 2^-20 s .. 2^10 s at 8 buckets per doubling, and the zero bucket.
        assert_eq!(layout.slots(), 30 * 8 + 1);
        assert_eq!(layout.key(1), -159);
        assert_eq!(layout.key(layout.slots() - 1), 80);
        // Above the top: in the top bucket.
        assert_eq!(key_of(&layout, 1_024_000_000_001), Some(80));
        assert_eq!(key_of(&layout, u64::MAX), Some(80));
        // Exactly the threshold: zero; 0 ns too.
        assert_eq!(key_of(&layout, 0), None);
        let counts = NativeCounts::new(Box::leak(Box::new(layout)));
        counts.observe(0, true);
        counts.observe(1_000_000_000, true);
        counts.observe(u64::MAX, false);
        let mut totals = vec![0; counts.layout().slots()];
        counts.add_to(&mut totals);
        assert_eq!(totals.iter().sum::<u64>(), 3);
        assert_eq!((totals[0], totals[160], totals[240]), (1, 1, 1));
    }

    // 4 threads × 100 000 calls while a scrape reads again and again: every read sees at
    // least the native buckets of the calls its classic read counted, and at the end the
    // native buckets, the count and the sum are exact.
    #[test]
    fn concurrent_calls_and_scrapes_agree() {
        use std::sync::atomic::AtomicBool;

        use crate::storage::{Series, limit, tests::labels};

        const THREADS: u64 = 4;
        const CALLS: u64 = 100_000;
        let layout: &'static NativeLayout =
            Box::leak(Box::new(NativeLayout::new(3, (-20f64).exp2(), 1024.0)));
        let limits: Vec<u64> = prometheus::DEFAULT_BUCKETS
            .iter()
            .map(|&b| limit(b))
            .collect();
        let series = Series::with_native(
            Box::leak(limits.into()),
            layout,
            labels("native_exact"),
            &[],
        );
        // Durations from 0 to about 3 s, spread over the window.
        let nanos =
            |thread: u64, call: u64| (call * 7_919 + thread * 104_729).pow(2) % 3_000_000_000;
        let done = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let (mut classic, mut native) = (Vec::new(), Vec::new());
                while !done.load(Ordering::Relaxed) {
                    let reading = series.read(&mut classic);
                    series.read_native(&mut native);
                    assert!(native.iter().sum::<u64>() >= reading.count);
                }
            });
            let calls: Vec<_> = (0..THREADS)
                .map(|thread| {
                    scope.spawn(move || {
                        for call in 0..CALLS {
                            series.enter();
                            series.record_nanos(200, nanos(thread, call), series);
                        }
                    })
                })
                .collect();
            for call in calls {
                call.join().unwrap();
            }
            done.store(true, Ordering::Relaxed);
        });
        let mut want = vec![0u64; layout.slots()];
        let mut sum = 0u64;
        for thread in 0..THREADS {
            for call in 0..CALLS {
                want[layout.slot(nanos(thread, call))] += 1;
                sum += nanos(thread, call);
            }
        }
        let mut native = Vec::new();
        assert_eq!(
            series.read_native(&mut native).map(NativeLayout::slots),
            Some(layout.slots())
        );
        assert_eq!(native, want);
        let reading = series.read(&mut Vec::new());
        assert_eq!((reading.count, reading.sum_nanos), (THREADS * CALLS, sum));
        // Spread over many buckets, the zero one included.
        assert!(want[0] > 0 && want.iter().filter(|&&n| n > 0).count() > 100);
    }
}
