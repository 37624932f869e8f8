//! What a scrape reads of a series: its histogram and gauge ([`Series::read`]) and its
//! statuses ([`Series::statuses`]), summed over the series and its shards.

use std::iter;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{STATUSES, Series};

/// What one read of a series' histogram and gauge saw (its buckets go to a buffer).
pub(crate) struct Reading {
    /// The histogram's count: the sum of its buckets as read.
    pub(crate) count: u64,
    /// The sum of the durations, in nanoseconds.
    pub(crate) sum_nanos: u64,
    /// Calls in flight.
    pub(crate) in_flight: i64,
}

/// The buckets (not cumulative) of `blocks` (a series and its shards), `len` of them,
/// summed into `buckets` with acquire loads; returns their sum, the histogram's count.
pub(super) fn sum_buckets<'a, B: 'a>(
    buckets: &mut Vec<u64>,
    len: usize,
    blocks: impl Iterator<Item = &'a B>,
    bucket: fn(&B, usize) -> Option<&AtomicU64>,
) -> u64 {
    buckets.clear();
    buckets.resize(len, 0);
    for block in blocks {
        for (i, total) in buckets.iter_mut().enumerate() {
            let n = bucket(block, i).map_or(0, |b| b.load(Ordering::Acquire));
            *total = total.wrapping_add(n);
        }
    }
    buckets.iter().fold(0u64, |sum, &n| sum.wrapping_add(n))
}

impl Series {
    /// Reads the histogram and the gauge: the buckets (not cumulative) into `buckets`.
    ///
    /// Acquire loads, `entered` first and last, the buckets next: whatever call the
    /// buckets include, the sum and `entered` read after include too (the sum holds at
    /// least the counted calls). In flight is `entered` − counted − left with the first
    /// `entered`: never below what was in flight when it was read (a call counted in
    /// between is subtracted, so it may be below by the calls that finished while this
    /// read), never above it, never negative. When `entered` did not move while the
    /// counts were read (retried a few times for that), it is a value the gauge had.
    pub(crate) fn read(&self, buckets: &mut Vec<u64>) -> Reading {
        let mut tries = 0;
        let shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        let blocks = || iter::once(self).chain(shards.iter().copied());
        let total = |field: fn(&Series) -> &AtomicU64| {
            blocks().fold(0u64, |sum, block| {
                sum.wrapping_add(field(block).load(Ordering::Acquire))
            })
        };
        loop {
            tries += 1;
            let entered = total(|block| &block.entered);
            let count = sum_buckets(buckets, self.limits.len() + 1, blocks(), Series::bucket);
            let sum_nanos = total(|block| &block.sum);
            let left = total(|block| &block.left);
            if tries < 4 && total(|block| &block.entered) != entered {
                continue;
            }
            return Reading {
                count,
                sum_nanos,
                in_flight: (entered.wrapping_sub(count).wrapping_sub(left) as i64).max(0),
            };
        }
    }

    /// Reads the native buckets into `slots` (the zero bucket first, see `native.rs`),
    /// summed over the series and its shards, and gives their window; `None` when the
    /// series keeps none.
    ///
    /// After [`Series::read`]: a call records its native bucket before its classic one,
    /// so these hold at least the calls that read counted.
    #[cfg(feature = "native-histograms")]
    pub(crate) fn read_native(&self, slots: &mut Vec<u64>) -> Option<&'static super::NativeLayout> {
        let native = self.native?;
        let layout = native.layout();
        slots.clear();
        slots.resize(layout.slots(), 0);
        let shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        for block in iter::once(self).chain(shards.iter().copied()) {
            if let Some(native) = block.native {
                native.add_to(slots);
            }
        }
        Some(layout)
    }

    /// Calls `f` with each status counted so far and its count.
    pub(crate) fn statuses(&self, mut f: impl FnMut(u16, u64)) {
        self.each_status(&mut f);
    }

    // `statuses` compiled once, not once per closure (nor its closures per caller):
    // a scrape calls `f` once per status, where a dynamic call costs nothing measurable.
    fn each_status(&self, f: &mut dyn FnMut(u16, u64)) {
        let shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        if shards.is_empty() {
            return self.block_statuses(f);
        }
        let blocks = || iter::once(self).chain(shards.iter().copied());
        // Each status once, its counts summed over the blocks: in a small table on the
        // stack, for up to `MERGED` statuses (a series rarely has more).
        const MERGED: usize = 32;
        let mut merged = [(0u16, 0u64); MERGED];
        let mut len = 0;
        let mut spilled = false;
        for block in blocks() {
            block.block_statuses(&mut |code, count| {
                if let Some(entry) = merged[..len].iter_mut().find(|(c, _)| *c == code) {
                    entry.1 = entry.1.wrapping_add(count);
                } else if len < MERGED {
                    merged[len] = (code, count);
                    len += 1;
                } else {
                    spilled = true;
                }
            });
        }
        if !spilled {
            for &(code, count) in &merged[..len] {
                f(code, count);
            }
            return;
        }
        // More: each status summed at the first block that counted it.
        for (at, block) in blocks().enumerate() {
            block.block_statuses(&mut |code, count| {
                if blocks().take(at).any(|earlier| earlier.count_of(code) > 0) {
                    return;
                }
                let rest = blocks().skip(at + 1).map(|later| later.count_of(code));
                f(code, rest.fold(count, u64::wrapping_add));
            });
        }
    }

    // One block's count of `status`.
    fn count_of(&self, status: u16) -> u64 {
        let counts = iter::once(&self.first).chain(&self.counts);
        for (slot, count) in self.codes.iter().zip(counts) {
            if slot.load(Ordering::Acquire) == status {
                return count.load(Ordering::Relaxed);
            }
        }
        self.overflow
            .get()
            .and_then(|all| all.get(usize::from(status.checked_sub(*STATUSES.start())?)))
            .map_or(0, |count| count.load(Ordering::Relaxed))
    }

    // One block's statuses and their counts.
    fn block_statuses(&self, f: &mut dyn FnMut(u16, u64)) {
        let counts = iter::once(&self.first).chain(&self.counts);
        for (slot, count) in self.codes.iter().zip(counts) {
            let code = slot.load(Ordering::Acquire);
            let count = count.load(Ordering::Relaxed);
            // A slot just claimed, not yet counted, is not shown: as before, a status
            // appears once counted.
            if code != 0 && count > 0 {
                f(code, count);
            }
        }
        if let Some(all) = self.overflow.get() {
            for (code, count) in STATUSES.zip(all.iter()) {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    f(code, count);
                }
            }
        }
    }
}
