//! The histogram's buckets as every kind of series keeps them: the bucket search over
//! limits in integer nanoseconds (a bound in seconds converted once, as the prometheus
//! crate decides `le`), and the first buckets inline, the rest boxed.

use std::sync::atomic::AtomicU64;

/// How many buckets (the `+Inf` one included) a series keeps inline: two cache lines,
/// enough for Prometheus' default 11 bounds and most configured lists. Longer lists
/// keep the rest in a boxed slice.
pub(super) const INLINE_BUCKETS: usize = 16;

// The index of the bucket of a call of `nanos` among buckets of upper `limits` (see
// [`limit`]), `+Inf` (`limits.len()`) included: the first whose limit is above it.
#[inline]
pub(super) fn bucket_of(limits: &[u64], nanos: u64) -> usize {
    limits
        .iter()
        .position(|&limit| nanos < limit)
        .unwrap_or(limits.len())
}

// Bucket `index` of a block that keeps its first buckets `inline` and the rest in `more`.
#[inline]
pub(super) fn bucket<'a>(
    inline: &'a [AtomicU64; INLINE_BUCKETS],
    more: &'a [AtomicU64],
    index: usize,
) -> Option<&'a AtomicU64> {
    match index.checked_sub(INLINE_BUCKETS) {
        None => inline.get(index),
        Some(beyond) => more.get(beyond),
    }
}

// The buckets of `limits` beyond the inline ones: `limits.len() + 1` in all.
pub(super) fn more_buckets(limits: &[u64]) -> Box<[AtomicU64]> {
    (INLINE_BUCKETS..=limits.len())
        .map(|_| AtomicU64::new(0))
        .collect()
}

/// The smallest whole number of nanoseconds above `bound` seconds, as the prometheus
/// crate decides it: it observed `nanos as f64 / 1e9` in the first bucket whose bound
/// is not below it (`le`, less or equal). So a call of `n` nanoseconds goes in the first
/// bucket whose limit is above `n`, with integer compares only, exactly as before.
pub(crate) fn limit(bound: f64) -> u64 {
    let fits = |nanos: u64| nanos as f64 / 1e9 <= bound;
    if !fits(0) {
        return 0;
    }
    if fits(u64::MAX) {
        return u64::MAX;
    }
    // `fits` is monotonic: find the first count that does not fit, between one that
    // fits (`low`) and one that does not (`high`).
    let (mut low, mut high) = (0u64, u64::MAX);
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        if fits(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
}
