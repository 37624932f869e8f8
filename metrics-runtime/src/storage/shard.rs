//! Per-thread shards: each thread records in a shard of its own of a series, found in
//! its lease by the series' index, and gives the lease back to its pool when it exits.

use std::cell::RefCell;
use std::sync::{Mutex, PoisonError};

use super::Series;

impl Series {
    // This thread's shard of the series (`None` while the thread is being torn down:
    // then the series' own counts, with atomic read-modify-writes).
    #[inline]
    pub(super) fn local(&'static self) -> Option<&'static Series> {
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
    pub(super) fn writer(&'static self) -> (&'static Series, bool) {
        match self.local() {
            Some(shard) => (shard, true),
            None => (self, false),
        }
    }
}

/// A thread's shards, by series index: the thread writes them alone, with plain stores,
/// and gives them back to its pool when it exits, for the next thread to go on counting
/// in (so that counts never go down and shards are bounded by the threads alive at
/// once).
pub(super) struct Lease {
    shards: Vec<Option<&'static Series>>,
    pool: &'static Pool,
}

/// The leases no thread holds.
pub(super) struct Pool(pub(super) Mutex<Vec<Vec<Option<&'static Series>>>>);

static LEASES: Pool = Pool(Mutex::new(Vec::new()));

thread_local! {
    static LEASE: RefCell<Lease> = RefCell::new(LEASES.lease());
}

impl Pool {
    // A lease given back by a thread that exited, else a new one.
    pub(super) fn lease(&'static self) -> Lease {
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
    pub(super) fn get(&self, series: &Series) -> Option<&'static Series> {
        self.shards.get(series.index as usize).copied().flatten()
    }

    // This lease's first call in `series`: a shard of it.
    #[cold]
    #[inline(never)]
    pub(super) fn new_shard(&mut self, series: &'static Series) -> &'static Series {
        #[cfg_attr(not(feature = "native-histograms"), allow(unused_mut))]
        let mut shard = Series::block(series.index, series.limits, series.labels, series.extra);
        #[cfg(feature = "native-histograms")]
        {
            shard.native = series
                .native
                .map(|native| super::native::NativeCounts::leaked(native.layout()));
        }
        let shard: &'static Series = Box::leak(shard);
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
