//! One label set of the HTTP families (`handler`, `method`, `route`) and its own compact
//! storage, shared by everything that records HTTP calls: a tracked function's call site
//! and a request middleware.
//!
//! A series keeps plain atomic counts, not prometheus metric handles; the
//! exposition's `collector` turns every series into the three families when the registry is
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
//! Every series is made once per label set (the registry interns them), never freed, and
//! listed in the HTTP families, whose collector reads them all. A series whose
//! route is only known at run time (the pattern a framework matched) is found through
//! the registry's `series_of`: interned once per label set, process-wide, and cached per thread, so
//! that finding it again is one hash lookup. Label values come from the program
//! (handler names, route patterns, ten method values), so the number of series, and the
//! memory they hold (384 bytes each, and as much per thread that records in them), is
//! bounded by the program, never by traffic.
//!
//! The storage layer knows nothing of families or of the registry: a series is made
//! with its bucket limits and labels ([`Series::new`], called by the HTTP families).
//! Here the cells and what a call writes; in `shard.rs` the per-thread shards, their
//! leases and pool; in `read.rs` what a scrape reads; in `clock.rs` the clock; in
//! `buckets.rs` the bucket search, its limits and the inline buckets; in `rpc.rs`
//! (feature `tonic`) the gRPC families' counts, sharded the same way; in `facade.rs`
//! (feature `metrics-rs`) the `metrics` facade's counters, gauges and histograms, plain
//! atomics its handles share.

use std::iter;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};

use once_cell::race::OnceBox;

mod buckets;
mod clock;
mod exemplar;
#[cfg(feature = "metrics-rs")]
mod facade;
#[cfg(any(feature = "actix", feature = "axum"))]
mod links;
#[cfg(feature = "native-histograms")]
mod native;
mod read;
#[cfg(feature = "tonic")]
mod rpc;
mod shard;
mod sibling;
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use buckets::limit;
use buckets::{INLINE_BUCKETS, bucket, bucket_of, more_buckets};
use clock::clock;
pub(crate) use exemplar::Exemplar;
#[cfg(feature = "metrics-rs")]
pub(crate) use facade::{FacadeCounter, FacadeGauge, FacadeHistogram};
#[cfg(feature = "native-histograms")]
pub(crate) use native::NativeLayout;
#[cfg(test)]
pub(crate) use read::Reading;
#[cfg(feature = "tonic")]
pub(crate) use rpc::{CODES, RpcCounts, RpcReading};

/// How many distinct status codes a series keeps in its first two cache lines; more
/// still count, in a table of every status allocated on the first one beyond.
const STATUS_SLOTS: usize = 8;

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
    // Among a series' siblings (see `sibling.rs`), which one this is: 0 for the series.
    key: u32,
    // Per bound, the first nanosecond count above it (see [`limit`]).
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
    // Cold: read by the collector and by the registry's lookups.
    more: Box<[AtomicU64]>,
    overflow: OnceBox<[AtomicU64; 500]>,
    // Made on the first exemplar (see `exemplar.rs`); in the series only, not its shards.
    exemplars: OnceBox<exemplar::Exemplars>,
    // The native buckets (see `native.rs`), when the families keep them: the series'
    // and each shard's own.
    #[cfg(feature = "native-histograms")]
    native: Option<&'static native::NativeCounts>,
    labels: &'static HttpLabels<'static>,
    // The values of the request labels (`Config::label`), in their order; empty when
    // it has none (or none is configured): the families show `""`.
    extra: &'static [&'static str],
    // Made on the first sibling (see `sibling.rs`); in the series only.
    siblings: OnceBox<sibling::Siblings>,
    // Made on the first link (see `links.rs`); in the series only.
    #[cfg(any(feature = "actix", feature = "axum"))]
    links: OnceBox<links::Links>,
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

impl Series {
    /// A new series of `labels`, its buckets' upper `limits` in nanoseconds (see
    /// [`limit`]). Made by the families, which list it for their collector.
    pub(crate) fn new(
        limits: &'static [u64],
        labels: HttpLabels<'static>,
        extra: &'static [&'static str],
    ) -> &'static Series {
        // Leaked on purpose: bounded by the program's label sets, and read by the
        // families' collector as long as the process lives.
        Box::leak(Series::block(
            Series::next_index(),
            limits,
            Box::leak(Box::new(labels)),
            extra,
        ))
    }

    /// [`Series::new`] with native buckets in `layout`'s window besides.
    #[cfg(feature = "native-histograms")]
    pub(crate) fn with_native(
        limits: &'static [u64],
        layout: &'static NativeLayout,
        labels: HttpLabels<'static>,
        extra: &'static [&'static str],
    ) -> &'static Series {
        let labels = Box::leak(Box::new(labels));
        let mut series = Series::block(Series::next_index(), limits, labels, extra);
        series.native = Some(native::NativeCounts::leaked(layout));
        Box::leak(series)
    }

    fn next_index() -> u32 {
        static INDEX: AtomicU32 = AtomicU32::new(0);
        INDEX.fetch_add(1, Ordering::Relaxed)
    }

    // The counts of one series, or of one of its shards, all 0.
    fn block(
        index: u32,
        limits: &'static [u64],
        labels: &'static HttpLabels<'static>,
        extra: &'static [&'static str],
    ) -> Box<Series> {
        Box::new(Series {
            index,
            key: 0,
            limits,
            entered: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            codes: [const { AtomicU16::new(0) }; STATUS_SLOTS],
            first: AtomicU64::new(0),
            counts: [const { AtomicU64::new(0) }; STATUS_SLOTS - 1],
            left: AtomicU64::new(0),
            buckets: [const { AtomicU64::new(0) }; INLINE_BUCKETS],
            more: more_buckets(limits),
            overflow: OnceBox::new(),
            exemplars: OnceBox::new(),
            #[cfg(feature = "native-histograms")]
            native: None,
            labels,
            extra,
            siblings: OnceBox::new(),
            #[cfg(any(feature = "actix", feature = "axum"))]
            links: OnceBox::new(),
            shards: Mutex::new(Vec::new()),
        })
    }

    // New counts of this series' labels, request label values and native window (native
    // counts of their own), all 0: one of its shards, or a sibling (`index`, `limits`).
    fn like(&self, index: u32, limits: &'static [u64]) -> Box<Series> {
        #[cfg_attr(not(feature = "native-histograms"), allow(unused_mut))]
        let mut block = Series::block(index, limits, self.labels, self.extra);
        #[cfg(feature = "native-histograms")]
        {
            block.native = self
                .native
                .map(|native| native::NativeCounts::leaked(native.layout()));
        }
        block
    }

    /// A reading of the clock, to pass back to [`Series::record`].
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        now()
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
        let bucket = self.bucket_of(nanos);
        add(&self.sum, nanos, only, Ordering::Relaxed);
        // Before the classic bucket: a scrape that sees that sees this.
        #[cfg(feature = "native-histograms")]
        if let Some(native) = self.native {
            native.observe(nanos, only);
        }
        // Release, last: a scrape that sees the bucket sees the sum and `entered`.
        if let Some(bucket) = self.bucket(bucket) {
            add(bucket, 1, only, Ordering::Release);
        }
    }

    #[inline]
    fn bucket_of(&self, nanos: u64) -> usize {
        bucket_of(self.limits, nanos)
    }

    #[inline]
    fn bucket(&self, index: usize) -> Option<&AtomicU64> {
        bucket(&self.buckets, &self.more, index)
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

    /// The labels.
    #[inline]
    pub(crate) fn labels(&self) -> HttpLabels<'static> {
        *self.labels
    }

    /// The values of the request labels, in their order (empty when it has none).
    #[inline]
    pub(crate) fn extra(&self) -> &'static [&'static str] {
        self.extra
    }

    /// The `handler` label.
    #[cfg(any(feature = "actix", feature = "axum"))]
    #[inline]
    pub(crate) fn handler(&self) -> &'static str {
        self.labels.handler
    }

    /// The `method` label.
    #[cfg(all(test, any(feature = "actix", feature = "axum")))]
    pub(crate) fn method(&self) -> &'static str {
        self.labels.method
    }

    /// The `route` label.
    #[cfg(any(feature = "actix", feature = "axum"))]
    #[inline]
    pub(crate) fn route(&self) -> &'static str {
        self.labels.route
    }
}

/// A reading of the clock, to pass back to [`Series::record`]; also for a request not in
/// flight in any series yet (one whose route may be left out).
#[inline]
pub(crate) fn now() -> u64 {
    clock().raw()
}

/// The nanoseconds since `start`, a reading of [`now`].
#[cfg(feature = "tonic")]
#[inline]
pub(crate) fn nanos_since(start: u64) -> u64 {
    let clock = clock();
    clock.delta_as_nanos(start, clock.raw())
}

/// The values of the HTTP families' labels (`handler`, `method`, `route`) of one
/// series; the families know their names and order (`HttpLabels::values`).
#[derive(Clone, Copy)]
pub(crate) struct HttpLabels<'a> {
    pub(crate) handler: &'a str,
    pub(crate) method: &'a str,
    pub(crate) route: &'a str,
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
