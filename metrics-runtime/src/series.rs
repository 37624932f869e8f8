//! One label set of the HTTP families (`handler`, `method`, `route`) and its own compact
//! storage, shared by everything that records HTTP calls: a tracked function's call site
//! and a request middleware.
//!
//! A series keeps plain atomic counts, not prometheus metric handles; the
//! `collector` module turns every series into the three families when the registry is
//! gathered. Each thread records in a shard of its own of the series (the same layout),
//! which it alone writes: with a plain load and store per count, no atomic
//! read-modify-write (a locked instruction waits for the core's store buffer to drain,
//! which in a busy server costs several times what it does in a microbenchmark). A
//! scrape sums the series' shards. Recording does no hashing, allocation or locking:
//! four counts per call, all relaxed or release, plus two clock reads:
//!
//! - start: `entered` + 1 (in flight = entered − counted − left, so finishing needs no
//!   decrement of its own; a call may start on one thread and finish on another, its
//!   counts in two shards: the sums are right);
//! - finish: the status' count + 1, the duration sum + the call's nanoseconds, its
//!   bucket + 1 (buckets are not cumulative, so the histogram's count is their sum and
//!   its `+Inf` bucket equals its count by construction).
//!
//! A thread's shards are its lease (one per series it recorded in, found by the series'
//! index: one thread-local access, one load); a thread that exits gives its lease back
//! and the next thread to start goes on counting in the same shards, so that counts
//! never go down and the shards are bounded by the threads alive at once times the
//! series. A thread's first call in a series makes its shard (locked, once). While a
//! thread is being torn down it records in the series' own counts, with atomic
//! read-modify-writes.
//!
//! A call counted in another series than the one it was in flight in (a request whose
//! route or handler became known late) adds two: `entered` of the counting series and
//! `left` of the other. What a call writes is in the shard's first cache line (beside
//! what it reads there: the bucket limits' address, the status codes) and
//! the line of its bucket: `entered`, the sum and the first status' count in line 0,
//! other statuses in line 1, the first 16 buckets in lines 2 and 3. Besides, it reads
//! the call site's `static`, its thread's lease, and lines every series shares and no
//! call writes: the bucket limits and the clock's calibration. Before this storage, a
//! call touched about seven separately allocated lines (the handles' box, each metric's
//! core, the histogram's shards) and made seven read-modify-writes.
//! The bucket search compares integer nanoseconds with limits converted once from the
//! configured seconds. The sum is integer nanoseconds: exact, and a `u64` holds 584
//! years of summed call time, which no process reaches.
//!
//! The clock is the cheapest monotonic one: the raw time-stamp counter through quanta
//! (its monotonic clock where there is no invariant TSC), scaled to nanoseconds once per
//! call, not twice.
//!
//! Every series is made once per label set ([`Series::interned`]), never freed, and
//! listed in the HTTP families, whose collector reads them all. A series whose
//! route is only known at run time (the pattern a framework matched) is found through
//! [`Series::of`]: interned once per label set, process-wide, and cached per thread, so
//! that finding it again is one hash lookup. Label values come from the program
//! (handler names, route patterns, ten method values), so the number of series, and the
//! memory they hold (384 bytes each, and as much per thread that records in them), is
//! bounded by the program, never by traffic.

use std::cell::RefCell;
use std::collections::HashMap;
use std::iter;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use once_cell::race::OnceBox;
use once_cell::sync::OnceCell;

use crate::families::{HttpFamilies, HttpLabels};
use crate::registry::http_families;

/// How many distinct status codes a series keeps in its first two cache lines; more
/// still count, in a table of every status allocated on the first one beyond.
const STATUS_SLOTS: usize = 8;

/// How many buckets (the `+Inf` one included) a series keeps inline: two cache lines,
/// enough for Prometheus' default 11 bounds and most configured lists. Longer lists
/// keep the rest in a boxed slice.
const INLINE_BUCKETS: usize = 16;

/// Every status code a series counts (`100..=599`; anything else counts as 500).
const STATUSES: std::ops::RangeInclusive<u16> = 100..=599;

/// The counts of one label set (the series, listed in the families, holding its shards
/// and what a thread being torn down records), or one thread's shard of them.
///
/// `repr(C)` keeps the fields in this order, so that what a call touches shares lines.
#[repr(C, align(64))]
pub(crate) struct Series {
    // Line 0: read or written by every call.
    // Where this thread's shard of the series is in its lease (see `Series::local`).
    index: u32,
    // Per bound, the first nanosecond count above it (see `families::limit`).
    limits: &'static [u64],
    // Calls started here, plus calls counted here that were in flight elsewhere.
    entered: AtomicU64,
    // Nanoseconds, summed.
    sum: AtomicU64,
    // The status of each slot: 0 while free; claimed in order, once, never changed after.
    codes: [AtomicU16; STATUS_SLOTS],
    // The count of the first slot's status (usually the only one).
    first: AtomicU64,
    // Line 1: the other slots' counts, and the calls that left without being counted
    // here (`leave`, or counted in another series).
    counts: [AtomicU64; STATUS_SLOTS - 1],
    left: AtomicU64,
    // Lines 2 and 3: the first buckets, not cumulative.
    buckets: [AtomicU64; INLINE_BUCKETS],
    // Cold: read by the collector and by `Series::of`.
    more: Box<[AtomicU64]>,
    overflow: OnceBox<[AtomicU64; 500]>,
    labels: HttpLabels<'static>,
    // A series' shards, one per thread lease that recorded in it; empty in a shard.
    shards: Mutex<Vec<&'static Series>>,
}

// The layout the module docs promise, where pointers are 8 bytes.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(std::mem::offset_of!(Series, counts) == 64);
    assert!(std::mem::offset_of!(Series, buckets) == 128);
    assert!(std::mem::size_of::<Series>() == 384);
};

/// What one read of a series' histogram and gauge saw (its buckets go to a buffer).
pub(crate) struct Reading {
    /// The histogram's count: the sum of its buckets as read.
    pub(crate) count: u64,
    /// The sum of the durations, in nanoseconds.
    pub(crate) sum_nanos: u64,
    /// Calls in flight.
    pub(crate) in_flight: i64,
}

impl Series {
    // The series of `labels`, made and listed in the HTTP families: only through
    // `Series::interned`, so that there is one per label set.
    fn new(labels: HttpLabels<'static>) -> &'static Series {
        Series::new_in(http_families(), labels)
    }

    /// The same in `families`.
    pub(crate) fn new_in(
        families: &'static HttpFamilies,
        labels: HttpLabels<'static>,
    ) -> &'static Series {
        static INDEX: AtomicU32 = AtomicU32::new(0);
        let index = INDEX.fetch_add(1, Ordering::Relaxed);
        // Leaked on purpose: bounded by the program's label sets, and read by the
        // families' collector as long as the process lives.
        let series = Series::block(index, families.limits(), labels);
        families.list(series);
        series
    }

    // The counts of one series, or of one of its shards, all 0.
    fn block(index: u32, limits: &'static [u64], labels: HttpLabels<'static>) -> &'static Series {
        // The buckets beyond the inline ones: `limits.len() + 1` in all.
        let more = (INLINE_BUCKETS..=limits.len())
            .map(|_| AtomicU64::new(0))
            .collect();
        Box::leak(Box::new(Series {
            index,
            limits,
            entered: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            codes: [const { AtomicU16::new(0) }; STATUS_SLOTS],
            first: AtomicU64::new(0),
            counts: [const { AtomicU64::new(0) }; STATUS_SLOTS - 1],
            left: AtomicU64::new(0),
            buckets: [const { AtomicU64::new(0) }; INLINE_BUCKETS],
            more,
            overflow: OnceBox::new(),
            labels,
            shards: Mutex::new(Vec::new()),
        }))
    }

    // This thread's shard of the series (`None` while the thread is being torn down:
    // then the series' own counts, with atomic read-modify-writes).
    #[inline]
    fn local(&'static self) -> Option<&'static Series> {
        LEASE
            .try_with(|lease| {
                let mut lease = lease.try_borrow_mut().ok()?;
                match lease.get(self) {
                    Some(shard) => Some(shard),
                    None => Some(lease.new_shard(self)),
                }
            })
            .ok()
            .flatten()
    }

    // Where this thread records in this series, and whether it is the only writer there.
    #[inline]
    fn writer(&'static self) -> (&'static Series, bool) {
        match self.local() {
            Some(shard) => (shard, true),
            None => (self, false),
        }
    }

    /// A reading of the clock, to pass back to [`Series::record`].
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        clock().raw()
    }

    /// One more call in flight.
    #[inline]
    pub(crate) fn enter(&'static self) {
        let (block, only) = self.writer();
        add(&block.entered, 1, only, Ordering::Relaxed);
    }

    /// One call fewer in flight.
    #[inline]
    pub(crate) fn leave(&'static self) {
        let (block, only) = self.writer();
        // Release: a scrape that sees it sees the `enter` it balances (see `read`).
        add(&block.left, 1, only, Ordering::Release);
    }

    /// Counts a finished call with `status`, takes it out of `in_flight` (the series
    /// it was in flight in: this one, or a request's earlier series) and observes its
    /// duration from `start`.
    ///
    /// The status first: scaling the reading to nanoseconds and finding the bucket then
    /// overlap with its atomic. Everything is recorded when this returns.
    #[inline]
    pub(crate) fn record(&'static self, status: u16, start: u64, in_flight: &'static Series) {
        let clock = clock();
        let end = clock.raw();
        self.record_nanos(status, clock.delta_as_nanos(start, end), in_flight);
    }

    /// [`Series::record`] with the duration given.
    #[inline]
    pub(crate) fn record_nanos(&'static self, status: u16, nanos: u64, in_flight: &'static Series) {
        let (block, only) = self.writer();
        block.count(status, only);
        if !std::ptr::eq(self, in_flight) {
            block.moved_from(in_flight, only);
        }
        block.observe_in(nanos, only);
    }

    // A call counted here was in flight in `other`: here the count grows without an
    // `enter`, there the call leaves without a count. Before `observe`, whose release
    // publishes `entered` with the count.
    #[cold]
    fn moved_from(&self, other: &'static Series, only: bool) {
        add(&self.entered, 1, only, Ordering::Relaxed);
        other.leave();
    }

    /// Observes one call of `nanos` (in the histogram only, for tests).
    #[cfg(test)]
    pub(crate) fn observe(&'static self, nanos: u64) {
        let (block, only) = self.writer();
        block.observe_in(nanos, only);
    }

    // Observes one call of `nanos`: its bucket is the first whose bound it does not
    // exceed (`le`).
    #[inline]
    fn observe_in(&self, nanos: u64, only: bool) {
        let bucket = self
            .limits
            .iter()
            .position(|&limit| nanos < limit)
            .unwrap_or(self.limits.len());
        add(&self.sum, nanos, only, Ordering::Relaxed);
        // Release, last: a scrape that sees the bucket sees the sum and `entered`.
        if let Some(bucket) = self.bucket(bucket) {
            add(bucket, 1, only, Ordering::Release);
        }
    }

    #[inline]
    fn bucket(&self, index: usize) -> Option<&AtomicU64> {
        match index.checked_sub(INLINE_BUCKETS) {
            None => self.buckets.get(index),
            Some(beyond) => self.more.get(beyond),
        }
    }

    #[inline]
    fn count(&self, status: u16, only: bool) {
        let status = if STATUSES.contains(&status) {
            status
        } else {
            500
        };
        let counts = iter::once(&self.first).chain(&self.counts);
        for (slot, count) in self.codes.iter().zip(counts) {
            let mut code = slot.load(Ordering::Acquire);
            if code == 0 {
                // Claim the free slot, or learn which status another thread put there.
                code = match slot.compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => status,
                    Err(taken) => taken,
                };
            }
            if code == status {
                add(count, 1, only, Ordering::Relaxed);
                return;
            }
        }
        self.count_beyond(status, only);
    }

    // Every slot holds another status (slots are claimed in order and never change, so
    // this status will never have one).
    #[cold]
    fn count_beyond(&self, status: u16, only: bool) {
        let all = self
            .overflow
            .get_or_init(|| Box::new([const { AtomicU64::new(0) }; 500]));
        if let Some(count) = all.get(usize::from(status - STATUSES.start())) {
            add(count, 1, only, Ordering::Relaxed);
        }
    }

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
            buckets.clear();
            buckets.resize(self.limits.len() + 1, 0);
            for block in blocks() {
                for (i, total) in buckets.iter_mut().enumerate() {
                    let n = block.bucket(i).map_or(0, |b| b.load(Ordering::Acquire));
                    *total = total.wrapping_add(n);
                }
            }
            let count = buckets.iter().fold(0u64, |sum, &n| sum.wrapping_add(n));
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

    /// Calls `f` with each status counted so far and its count.
    pub(crate) fn statuses(&self, mut f: impl FnMut(u16, u64)) {
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
            block.block_statuses(|code, count| {
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
            block.block_statuses(|code, count| {
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
    fn block_statuses(&self, mut f: impl FnMut(u16, u64)) {
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

    /// The labels.
    pub(crate) fn labels(&self) -> HttpLabels<'static> {
        self.labels
    }

    /// The one series of these labels, process-wide. Whatever records under the same
    /// labels counts together, as in the prometheus crate's families, which merged by
    /// label values: two functions of the same name, every instantiation of a generic
    /// one (they share its call site's `static` anyway), a handler's call site and a
    /// request middleware's series of the same labels.
    #[cold]
    pub(crate) fn interned(
        handler: &'static str,
        method: &'static str,
        route: &str,
    ) -> &'static Series {
        let mut all = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
        let all = all.get_or_insert_with(HashMap::new);
        // The keys are `'static` to be kept; a lookup takes any (the map is covariant).
        let lookup: &HashMap<(&str, &str, &str), &'static Series> = all;
        if let Some(series) = lookup.get(&(handler, method, route)) {
            return series;
        }
        // Leaked on purpose, as the series is: bounded by the program's label sets.
        let route: &'static str = Box::leak(route.into());
        let series = Series::new(HttpLabels {
            handler,
            method,
            route,
        });
        all.insert((handler, method, route), series);
        series
    }
}

// Every series, by labels, process-wide. Entries are never removed: there are at most as
// many as label sets in the program.
type Interned = HashMap<(&'static str, &'static str, &'static str), &'static Series>;
static INTERNED: Mutex<Option<Interned>> = Mutex::new(None);

// Series whose route is only known at run time, for request middleware.
#[cfg(any(feature = "actix", feature = "axum"))]
mod table {
    use std::cell::RefCell;
    use std::hash::BuildHasher;

    use hashbrown::HashTable;

    use super::Series;

    impl Series {
        /// The series of these labels: `handler` a name from the source code, `route` a
        /// pattern (or `""`), `method` a label of `recording::method_label`.
        pub(crate) fn of(
            handler: &'static str,
            method: &'static str,
            route: &str,
        ) -> &'static Series {
            let hash = hash(handler, method, route);
            let local = LOCAL.try_with(|local| {
                // Not reentrant; a thread being torn down has no table: the shared one.
                let mut local = local.try_borrow_mut().ok()?;
                if let Some(series) = local.find(hash, |s| s.is(handler, method, route)) {
                    return Some(*series);
                }
                let series = intern(handler, method, route);
                local.insert_unique(hash, series, |s| s.hash());
                Some(series)
            });
            match local {
                Ok(Some(series)) => series,
                _ => intern(handler, method, route),
            }
        }

        /// The `handler` label.
        pub(crate) fn handler(&self) -> &'static str {
            self.labels.handler
        }

        /// The `method` label.
        #[cfg(test)]
        pub(crate) fn method(&self) -> &'static str {
            self.labels.method
        }

        /// The `route` label.
        pub(crate) fn route(&self) -> &'static str {
            self.labels.route
        }

        fn is(&self, handler: &str, method: &str, route: &str) -> bool {
            self.labels.handler == handler
                && self.labels.method == method
                && self.labels.route == route
        }

        fn hash(&self) -> u64 {
            hash(self.labels.handler, self.labels.method, self.labels.route)
        }

        /// Where a request of `method` and `route` (known when it starts, as axum's
        /// are) starts in flight: in the series of the tracked handler that answered
        /// one last on this thread, so that naming it moves nothing; else in the
        /// route's series with no handler (kept as the expected one: one lookup).
        #[cfg(feature = "axum")]
        pub(crate) fn expected(method: &'static str, route: &str) -> &'static Series {
            let key = hash("", method, route);
            let expected = EXPECTED.try_with(|expected| {
                let mut expected = expected.try_borrow_mut().ok()?;
                let same =
                    |s: &&'static Series| s.labels.method == method && s.labels.route == route;
                if let Some(series) = expected.find(key, same) {
                    return Some(*series);
                }
                let series = Series::of("", method, route);
                expected.insert_unique(key, series, |s| hash("", s.labels.method, s.labels.route));
                Some(series)
            });
            match expected {
                Ok(Some(series)) => series,
                _ => Series::of("", method, route),
            }
        }

        /// A request was counted in this series, not the one it was expected in: the
        /// next one of its method and route on this thread is expected here, if a
        /// tracked handler answered it.
        #[cfg(feature = "axum")]
        pub(crate) fn answered(&'static self) {
            let labels = self.labels;
            if labels.handler.is_empty() {
                return;
            }
            let key = hash("", labels.method, labels.route);
            let _ = EXPECTED.try_with(|expected| {
                let Ok(mut expected) = expected.try_borrow_mut() else {
                    return;
                };
                let same = |s: &&'static Series| {
                    s.labels.method == labels.method && s.labels.route == labels.route
                };
                match expected.entry(key, same, |s| hash("", s.labels.method, s.labels.route)) {
                    hashbrown::hash_table::Entry::Occupied(mut entry) => *entry.get_mut() = self,
                    hashbrown::hash_table::Entry::Vacant(entry) => {
                        entry.insert(self);
                    }
                }
            });
        }
    }

    thread_local! {
        // This thread's copy of what it has looked up in `INTERNED`, so that a lookup
        // takes no lock and touches no cache line shared with other threads.
        static LOCAL: RefCell<HashTable<&'static Series>> = const { RefCell::new(HashTable::new()) };
        // By method and route, the series of the tracked handler that answered a request
        // of them last on this thread (`Series::expected`); as bounded as `INTERNED`.
        #[cfg(feature = "axum")]
        static EXPECTED: RefCell<HashTable<&'static Series>> = const { RefCell::new(HashTable::new()) };
    }

    #[cold]
    fn intern(handler: &'static str, method: &'static str, route: &str) -> &'static Series {
        Series::interned(handler, method, route)
    }

    fn hash(handler: &str, method: &str, route: &str) -> u64 {
        // A fixed seed: the same hash in every thread's table.
        foldhash::fast::FixedState::with_seed(0x243f_6a88_85a3_08d3)
            .hash_one((handler, method, route))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[cfg(feature = "axum")]
        #[test]
        fn a_request_is_expected_where_a_tracked_handler_answered_last() {
            let (method, route) = ("GET", "/unit/expected/{id}");
            let untracked = Series::expected(method, route);
            assert_eq!((untracked.handler(), untracked.route()), ("", route));
            assert!(std::ptr::eq(Series::expected(method, route), untracked));
            let tracked = Series::of("unit_expected", method, route);
            tracked.answered();
            assert!(std::ptr::eq(Series::expected(method, route), tracked));
            // A rejection (no handler) does not replace it; another handler does.
            untracked.answered();
            assert!(std::ptr::eq(Series::expected(method, route), tracked));
            let other = Series::of("unit_expected_other", method, route);
            other.answered();
            assert!(std::ptr::eq(Series::expected(method, route), other));
            // Per method: POST is not expected where GET was answered.
            assert_eq!(Series::expected("POST", route).handler(), "");
        }

        #[test]
        fn one_series_per_label_set_across_threads() {
            let here = Series::of("unit_series", "GET", "/a/{id}");
            assert!(std::ptr::eq(
                here,
                Series::of("unit_series", "GET", "/a/{id}")
            ));
            let there = std::thread::spawn(|| {
                Series::of("unit_series", "GET", "/a/{id}") as *const Series as usize
            })
            .join()
            .unwrap();
            assert_eq!(there, here as *const Series as usize);
            assert!(!std::ptr::eq(
                here,
                Series::of("unit_series", "POST", "/a/{id}")
            ));
            assert!(!std::ptr::eq(here, Series::of("", "GET", "/a/{id}")));
            assert!(!std::ptr::eq(
                here,
                Series::of("unit_series", "GET", "/a/{name}")
            ));
        }
    }
}

// The process' clock, shared by every series. `quanta::Clock::new` calibrates the
// counter once per process (quanta keeps the calibration); `raw` reads it unscaled.
#[inline]
fn clock() -> &'static quanta::Clock {
    match CLOCK.get() {
        Some(clock) => clock,
        None => first_clock(),
    }
}

static CLOCK: OnceCell<quanta::Clock> = OnceCell::new();

#[cold]
fn first_clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(quanta::Clock::new)
}

// Adds `n` to `cell`: a plain load and store when this thread is its only writer (its
// shard), else an atomic read-modify-write.
#[inline]
fn add(cell: &AtomicU64, n: u64, only: bool, order: Ordering) {
    if only {
        cell.store(cell.load(Ordering::Relaxed).wrapping_add(n), order);
    } else {
        cell.fetch_add(n, order);
    }
}

/// A thread's shards, by series index: the thread writes them alone, with plain stores,
/// and gives them back to its pool when it exits, for the next thread to go on counting
/// in (so that counts never go down and shards are bounded by the threads alive at
/// once).
struct Lease {
    shards: Vec<Option<&'static Series>>,
    pool: &'static Pool,
}

/// The leases no thread holds.
struct Pool(Mutex<Vec<Vec<Option<&'static Series>>>>);

static LEASES: Pool = Pool(Mutex::new(Vec::new()));

thread_local! {
    static LEASE: RefCell<Lease> = RefCell::new(LEASES.lease());
}

impl Pool {
    // A lease given back by a thread that exited, else a new one.
    fn lease(&'static self) -> Lease {
        let shards = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        Lease { shards, pool: self }
    }
}

impl Lease {
    // This lease's shard of `series`, if it has one.
    #[inline]
    fn get(&self, series: &Series) -> Option<&'static Series> {
        self.shards.get(series.index as usize).copied().flatten()
    }

    // This lease's first call in `series`: a shard of it.
    #[cold]
    #[inline(never)]
    fn new_shard(&mut self, series: &'static Series) -> &'static Series {
        let shard = Series::block(series.index, series.limits, series.labels);
        series
            .shards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shard);
        let index = series.index as usize;
        if self.shards.len() <= index {
            self.shards.resize(index + 1, None);
        }
        self.shards[index] = Some(shard);
        shard
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let shards = std::mem::take(&mut self.shards);
        self.pool
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shards);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use prometheus::Registry;
    use prometheus::proto::MetricFamily;

    use super::*;
    use crate::collector::HttpCollector;
    use crate::families::{Builder, limit};

    /// HTTP families of their own (not the runtime's), with their collector registered
    /// in a registry of their own.
    pub(crate) fn families(
        builder: &Builder,
        buckets: Option<&[f64]>,
    ) -> (&'static HttpFamilies, Registry) {
        let families = Arc::new(HttpFamilies::new(builder, buckets).unwrap());
        let registry = Registry::new();
        registry
            .register(Box::new(HttpCollector::new(Arc::clone(&families))))
            .unwrap();
        (&**Box::leak(Box::new(families)), registry)
    }

    fn plain(buckets: Option<&[f64]>) -> (&'static HttpFamilies, Registry) {
        families(&Builder::new(None, HashMap::new()), buckets)
    }

    fn labels(handler: &'static str) -> HttpLabels<'static> {
        HttpLabels {
            handler,
            method: "GET",
            route: "/r",
        }
    }

    fn buckets(series: &Series) -> (Vec<u64>, Reading) {
        let mut buckets = Vec::new();
        let reading = series.read(&mut buckets);
        (buckets, reading)
    }

    fn statuses(series: &Series) -> Vec<(u16, u64)> {
        let mut all = Vec::new();
        series.statuses(|code, count| all.push((code, count)));
        all.sort();
        all
    }

    #[test]
    fn records_count_status_and_duration() {
        let series = Series::of("unit_record", "GET", "/r");
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
        let (families, _) = plain(None);
        let series = Series::new_in(families, labels("unit_edges"));
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
        let (families, _) = plain(Some(&bounds));
        let series = Series::new_in(families, labels("unit_many"));
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
        let (families, _) = plain(None);
        let series = Series::new_in(families, labels("unit_shards"));
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
        static POOL: Pool = Pool(Mutex::new(Vec::new()));
        let (families, _) = plain(None);
        let series = Series::new_in(families, labels("unit_lease"));
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
        let (families, _) = plain(None);
        let series = Series::new_in(families, labels("unit_churn"));
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
        let (families, _) = plain(None);
        let series = Series::new_in(families, labels("unit_spilled"));
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
    fn the_count_is_the_sum_of_the_buckets() {
        let (families, registry) = plain(Some(&[0.001, 0.1]));
        let series = Series::new_in(families, labels("unit_count"));
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
        let counted = family(&gathered, "http_requests_total").get_metric()[0]
            .get_counter()
            .get_value();
        assert_eq!(counted, 6.0);
    }

    #[test]
    fn the_sum_stays_exact_over_long_uptimes() {
        let (families, _) = plain(None);
        let series = Series::new_in(families, labels("unit_sum"));
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
        let (families, _) = plain(None);
        let first = Series::new_in(families, labels("unit_first"));
        let then = Series::new_in(families, labels("unit_then"));
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

    #[test]
    fn a_scrape_never_sees_a_torn_series() {
        const THREADS: u64 = 4;
        const CALLS: u64 = 100_000;
        let (families, registry) = plain(None);
        let series = Series::new_in(families, labels("unit_torn"));
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
                    let requests = family(&gathered, "http_requests_total").get_metric()[0]
                        .get_counter()
                        .get_value() as u64;
                    let gauge = family(&gathered, "http_requests_in_flight").get_metric()[0]
                        .get_gauge()
                        .get_value();
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
}
