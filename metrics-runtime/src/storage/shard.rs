//! Per-thread shards: each thread records in a shard of its own of a series, found in
//! its lease by the series' index, and gives the lease back to its pool when it exits.
//!
//! Two kinds of series are sharded so: the HTTP families' [`Series`] and, with the
//! `tonic` feature, the gRPC families' [`RpcCounts`](super::RpcCounts). Each kind has
//! its own indexes, leases and pool ([`Block`]).

use std::cell::RefCell;
use std::sync::{Mutex, PoisonError};
use std::thread::LocalKey;

use super::Series;

/// A kind of series that threads record in through shards of their own.
pub(super) trait Block: Sync + Sized + 'static {
    /// Where this thread's shard of the series is in its lease.
    fn index(&self) -> u32;

    /// A new shard of the series, all 0, listed in the series' shards.
    fn new_block(&'static self) -> &'static Self;

    /// This thread's lease of shards of this kind.
    fn lease() -> &'static LocalKey<RefCell<Lease<Self>>>;
}

// This thread's shard of `series` (`None` while the thread is being torn down: then the
// series' own counts, with atomic read-modify-writes).
#[inline]
pub(super) fn local<T: Block>(series: &'static T) -> Option<&'static T> {
    T::lease()
        .try_with(|lease| {
            let mut lease = lease.try_borrow_mut().ok()?;
            match lease.get(series) {
                Some(shard) => Some(shard),
                None => Some(lease.new_shard(series)),
            }
        })
        .ok()
        .flatten()
}

// Where this thread records in `series`, and whether it is the only writer there.
#[inline]
pub(super) fn writer<T: Block>(series: &'static T) -> (&'static T, bool) {
    match local(series) {
        Some(shard) => (shard, true),
        None => (series, false),
    }
}

impl Series {
    #[inline]
    pub(super) fn writer(&'static self) -> (&'static Series, bool) {
        writer(self)
    }
}

impl Block for Series {
    #[inline]
    fn index(&self) -> u32 {
        self.index
    }

    fn new_block(&'static self) -> &'static Series {
        listed(&self.shards, self.like(self.index, self.limits))
    }

    #[inline]
    fn lease() -> &'static LocalKey<RefCell<Lease<Series>>> {
        &LEASE
    }
}

/// `shard`, kept for the program's life and listed in its series' `shards`.
pub(super) fn listed<T>(shards: &Mutex<Vec<&'static T>>, shard: Box<T>) -> &'static T {
    let shard: &'static T = Box::leak(shard);
    shards
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(shard);
    shard
}

/// A thread's shards, by series index: the thread writes them alone, with plain stores,
/// and gives them back to its pool when it exits, for the next thread to go on counting
/// in (so that counts never go down and shards are bounded by the threads alive at
/// once).
pub(super) struct Lease<T: 'static> {
    shards: Vec<Option<&'static T>>,
    pool: &'static Pool<T>,
}

/// The leases no thread holds.
pub(super) struct Pool<T: 'static>(pub(super) Mutex<Vec<Vec<Option<&'static T>>>>);

static LEASES: Pool<Series> = Pool(Mutex::new(Vec::new()));

thread_local! {
    static LEASE: RefCell<Lease<Series>> = RefCell::new(LEASES.lease());
}

impl<T> Pool<T> {
    // A lease given back by a thread that exited, else a new one.
    pub(super) fn lease(&'static self) -> Lease<T> {
        let shards = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        Lease { shards, pool: self }
    }
}

impl<T: Block> Lease<T> {
    // This lease's shard of `series`, if it has one.
    #[inline]
    pub(super) fn get(&self, series: &T) -> Option<&'static T> {
        self.shards.get(series.index() as usize).copied().flatten()
    }

    // This lease's first call in `series`: a shard of it.
    #[cold]
    #[inline(never)]
    pub(super) fn new_shard(&mut self, series: &'static T) -> &'static T {
        let shard = series.new_block();
        let index = series.index() as usize;
        if self.shards.len() <= index {
            self.shards.resize(index + 1, None);
        }
        self.shards[index] = Some(shard);
        shard
    }
}

impl<T> Drop for Lease<T> {
    fn drop(&mut self) {
        let shards = std::mem::take(&mut self.shards);
        self.pool
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shards);
    }
}
