//! The counts of one label set of the gRPC families (feature `tonic`): RPCs started,
//! messages received and sent, RPCs handled by code, and the handling time's histogram.
//!
//! Kept as the HTTP [`Series`](super::Series) keeps its own: each thread records in a
//! shard of its own (`shard.rs`), with a plain load and store per count, and a scrape
//! sums the shards. An RPC writes its shard's first cache line (started, the messages,
//! the sum, the first codes) and the line of its bucket; the buckets are not
//! cumulative, so the histogram's count is their sum. The storage knows nothing of gRPC
//! beyond the number of codes: the families give the labels.

use std::cell::RefCell;
use std::iter;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread::LocalKey;

use super::add;
use super::buckets::{INLINE_BUCKETS, bucket, bucket_of, more_buckets};
use super::read::sum_buckets;
use super::shard::{self, Block, Lease, Pool};

/// How many codes an RPC can end with (gRPC's 17, by number).
pub(crate) const CODES: usize = 17;

/// The counts of one gRPC label set, or one thread's shard of them.
#[repr(C, align(64))]
pub(crate) struct RpcCounts {
    // Line 0: started, messages, the sum, and the codes most RPCs end with.
    index: u32,
    limits: &'static [u64],
    started: AtomicU64,
    received: AtomicU64,
    sent: AtomicU64,
    // Nanoseconds, summed.
    sum: AtomicU64,
    // RPCs handled, by code.
    handled: [AtomicU64; CODES],
    buckets: [AtomicU64; INLINE_BUCKETS],
    more: Box<[AtomicU64]>,
    // The series' shards, one per thread lease that recorded in it; empty in a shard.
    shards: Mutex<Vec<&'static RpcCounts>>,
}

/// What one read of the counts saw (the buckets go to a buffer).
pub(crate) struct RpcReading {
    pub(crate) started: u64,
    pub(crate) received: u64,
    pub(crate) sent: u64,
    /// RPCs handled, by code.
    pub(crate) handled: [u64; CODES],
    /// The histogram's count: the sum of its buckets as read.
    pub(crate) count: u64,
    /// The sum of the handling times, in nanoseconds.
    pub(crate) sum_nanos: u64,
}

static LEASES: Pool<RpcCounts> = Pool(Mutex::new(Vec::new()));

thread_local! {
    static LEASE: RefCell<Lease<RpcCounts>> = RefCell::new(LEASES.lease());
}

impl RpcCounts {
    /// New counts, all 0, their buckets' upper `limits` in nanoseconds (see
    /// [`limit`](super::limit)). Made once per label set by the gRPC families, which
    /// keep them (in the series they list) for the program's life: counting takes a
    /// `&'static` (`shard.rs`).
    pub(crate) fn new(limits: &'static [u64]) -> RpcCounts {
        static INDEX: AtomicU32 = AtomicU32::new(0);
        RpcCounts::block(INDEX.fetch_add(1, Ordering::Relaxed), limits)
    }

    fn block(index: u32, limits: &'static [u64]) -> RpcCounts {
        RpcCounts {
            index,
            limits,
            started: AtomicU64::new(0),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            sum: AtomicU64::new(0),
            handled: [const { AtomicU64::new(0) }; CODES],
            buckets: [const { AtomicU64::new(0) }; INLINE_BUCKETS],
            more: more_buckets(limits),
            shards: Mutex::new(Vec::new()),
        }
    }

    /// One RPC more started.
    #[inline]
    pub(crate) fn start(&'static self) {
        self.add(|counts| &counts.started, 1, Ordering::Relaxed);
    }

    /// `messages` more received.
    #[inline]
    pub(crate) fn received(&'static self, messages: u64) {
        self.add(|counts| &counts.received, messages, Ordering::Relaxed);
    }

    /// `messages` more sent.
    #[inline]
    pub(crate) fn sent(&'static self, messages: u64) {
        self.add(|counts| &counts.sent, messages, Ordering::Relaxed);
    }

    /// One RPC handled with `code` (its number; anything past the last counts as
    /// `fallback`) after `nanos`: timed first, counted last (release), so that a scrape
    /// that sees it handled sees it timed.
    #[inline]
    pub(crate) fn handled(&'static self, code: usize, fallback: usize, nanos: u64) {
        let (block, only) = shard::writer(self);
        let bucket = bucket_of(block.limits, nanos);
        add(&block.sum, nanos, only, Ordering::Relaxed);
        if let Some(bucket) = block.bucket(bucket) {
            add(bucket, 1, only, Ordering::Release);
        }
        if let Some(handled) = block.handled.get(code).or(block.handled.get(fallback)) {
            add(handled, 1, only, Ordering::Release);
        }
    }

    #[inline]
    fn add(&'static self, cell: fn(&RpcCounts) -> &AtomicU64, n: u64, order: Ordering) {
        let (block, only) = shard::writer(self);
        add(cell(block), n, only, order);
    }

    #[inline]
    fn bucket(&self, index: usize) -> Option<&AtomicU64> {
        bucket(&self.buckets, &self.more, index)
    }

    /// Reads the counts, summed over the series and its shards; the buckets (not
    /// cumulative) into `buckets`.
    ///
    /// Acquire loads, in the reverse order of an RPC's writes: the codes first, then the
    /// buckets, then the sum, the messages and the starts. So whatever RPC the codes
    /// include, the histogram includes too, and every RPC handled was started.
    pub(crate) fn read(&self, buckets: &mut Vec<u64>) -> RpcReading {
        let shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        let blocks = || iter::once(self).chain(shards.iter().copied());
        let total = |cell: &dyn Fn(&RpcCounts) -> &AtomicU64| {
            blocks().fold(0u64, |sum, block| {
                sum.wrapping_add(cell(block).load(Ordering::Acquire))
            })
        };
        let mut handled = [0; CODES];
        for (code, count) in handled.iter_mut().enumerate() {
            *count = total(&|block| &block.handled[code]);
        }
        let count = sum_buckets(buckets, self.limits.len() + 1, blocks(), RpcCounts::bucket);
        RpcReading {
            handled,
            count,
            sum_nanos: total(&|block| &block.sum),
            received: total(&|block| &block.received),
            sent: total(&|block| &block.sent),
            started: total(&|block| &block.started),
        }
    }
}

impl Block for RpcCounts {
    #[inline]
    fn index(&self) -> u32 {
        self.index
    }

    fn new_block(&'static self) -> &'static RpcCounts {
        shard::listed(
            &self.shards,
            Box::new(RpcCounts::block(self.index, self.limits)),
        )
    }

    #[inline]
    fn lease() -> &'static LocalKey<RefCell<Lease<RpcCounts>>> {
        &LEASE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> &'static [u64] {
        Box::leak(vec![1_000, 1_000_000].into_boxed_slice())
    }

    // Counts kept for the program's life, as the families keep theirs.
    fn kept(limits: &'static [u64]) -> &'static RpcCounts {
        Box::leak(Box::new(RpcCounts::new(limits)))
    }

    #[test]
    fn every_thread_s_counts_are_summed() {
        const NANOS: [u64; 3] = [0, 500_000, 2_000_000];
        let counts = kept(limits());
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..1_000usize {
                        counts.start();
                        counts.received(1);
                        counts.sent(t);
                        // One per bucket, `+Inf` included, each with its own code.
                        counts.handled(i % 3, 2, NANOS[i % 3]);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut buckets = Vec::new();
        let reading = counts.read(&mut buckets);
        assert_eq!(
            (reading.started, reading.received, reading.sent),
            (4_000, 4_000, 6_000)
        );
        assert_eq!(&reading.handled[..4], &[1_336, 1_332, 1_332, 0]);
        assert_eq!(buckets, [1_336, 1_332, 1_332]);
        assert_eq!(reading.count, 4_000);
        assert_eq!(reading.sum_nanos, 4 * 333 * (500_000 + 2_000_000));
    }

    #[test]
    fn a_code_past_the_last_counts_as_the_fallback() {
        let counts = kept(limits());
        counts.handled(CODES, 2, 0);
        counts.handled(usize::MAX, 2, 0);
        let reading = counts.read(&mut Vec::new());
        assert_eq!(reading.handled[2], 2);
        assert_eq!(reading.count, 2);
    }

    #[test]
    fn long_bucket_lists_count_past_the_inline_ones() {
        let limits: Vec<u64> = (1..=20).map(|n| n * 10).collect();
        let counts = kept(Box::leak(limits.into_boxed_slice()));
        for nanos in [5, 195, 205, 10_000] {
            counts.handled(0, 2, nanos);
        }
        let mut buckets = Vec::new();
        counts.read(&mut buckets);
        assert_eq!(buckets.len(), 21);
        assert_eq!((buckets[0], buckets[19], buckets[20]), (1, 1, 2));
    }
}
