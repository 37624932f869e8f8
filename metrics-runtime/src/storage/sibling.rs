//! A series' *siblings*: series of the same labels told apart by a small key, for what
//! the OpenTelemetry naming (`Config::naming`) puts on a request beyond them: the URL
//! scheme and protocol version it arrived with, and the status it was answered with
//! (that naming's duration histogram has the status as a label). A request is in flight
//! in the sibling of its scheme and version, and counted in the one of its status too;
//! a series' own counts are then the tracked calls made outside requests.
//!
//! A series makes its siblings on first use, never frees them, and finds them without a
//! lock among the first [`SLOTS`] (a route has a few statuses per scheme and version);
//! a series with more keys finds the rest under a lock. The number of siblings is
//! bounded by the keys: 8 schemes × versions, 500 statuses.

use std::sync::{Mutex, OnceLock, PoisonError};

use super::Series;

/// Siblings a series finds without a lock.
const SLOTS: usize = 16;

/// The siblings of one series.
pub(crate) struct Siblings {
    // Filled in order, under `more`'s lock; each set once.
    slots: [OnceLock<&'static Series>; SLOTS],
    // Those beyond the slots.
    more: Mutex<Vec<&'static Series>>,
}

impl Series {
    /// The sibling of key `key` (never 0: the series' own key), made on first use with
    /// the bucket limits `limits` gives; the same labels, request label values and native
    /// window as this series.
    #[cfg(any(feature = "actix", feature = "axum"))]
    #[inline]
    pub(crate) fn sibling(
        &'static self,
        key: u32,
        limits: impl FnOnce() -> &'static [u64],
    ) -> &'static Series {
        if let Some(siblings) = self.siblings.get() {
            for slot in &siblings.slots {
                match slot.get() {
                    Some(sibling) if sibling.key == key => return sibling,
                    Some(_) => {}
                    None => break,
                }
            }
        }
        self.new_sibling(key, limits())
    }

    // Found under the lock, or made.
    #[cfg(any(feature = "actix", feature = "axum"))]
    #[cold]
    #[inline(never)]
    fn new_sibling(&'static self, key: u32, limits: &'static [u64]) -> &'static Series {
        let siblings = self.siblings.get_or_init(|| {
            Box::new(Siblings {
                slots: [const { OnceLock::new() }; SLOTS],
                more: Mutex::new(Vec::new()),
            })
        });
        let mut more = siblings.more.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sibling) = siblings.all(&more).find(|sibling| sibling.key == key) {
            return sibling;
        }
        let mut sibling = self.like(Series::next_index(), limits);
        sibling.key = key;
        // Leaked on purpose, as every series: bounded by the keys.
        let sibling: &'static Series = Box::leak(sibling);
        match siblings.slots.iter().find(|slot| slot.get().is_none()) {
            Some(slot) => {
                let _ = slot.set(sibling);
            }
            None => more.push(sibling),
        }
        sibling
    }

    /// This series' key among its siblings: 0 for a series of its own.
    #[inline]
    pub(crate) fn key(&self) -> u32 {
        self.key
    }

    /// Every sibling made so far, in the order made.
    pub(crate) fn siblings(&self) -> Vec<&'static Series> {
        let Some(siblings) = self.siblings.get() else {
            return Vec::new();
        };
        let more = siblings.more.lock().unwrap_or_else(PoisonError::into_inner);
        siblings.all(&more).collect()
    }
}

impl Siblings {
    // Every sibling: those of the slots, then `more` (the lock's, held by the caller).
    fn all<'a>(
        &'a self,
        more: &'a [&'static Series],
    ) -> impl Iterator<Item = &'static Series> + 'a {
        self.slots
            .iter()
            .map_while(OnceLock::get)
            .copied()
            .chain(more.iter().copied())
    }
}

#[cfg(all(test, any(feature = "actix", feature = "axum")))]
mod tests {
    use crate::storage::{HttpLabels, Series};

    #[test]
    fn a_sibling_per_key_with_the_labels_and_counts_of_its_own() {
        static LIMITS: [u64; 2] = [1_000, 2_000];
        let labels = HttpLabels {
            handler: "h",
            method: "GET",
            route: "/siblings",
        };
        let series = Series::new(&[10], labels, &[]);
        assert!(series.siblings().is_empty());
        // More keys than slots: the rest under the lock, found again all the same.
        let keys: Vec<u32> = (1..=40).collect();
        let made: Vec<&'static Series> = keys
            .iter()
            .map(|&key| series.sibling(key, || &LIMITS))
            .collect();
        for (&key, &sibling) in keys.iter().zip(&made) {
            assert!(std::ptr::eq(series.sibling(key, || &LIMITS), sibling));
            assert_eq!(sibling.key(), key);
            assert_eq!(sibling.labels().route, "/siblings");
            assert_eq!(sibling.limits, &LIMITS);
        }
        assert_eq!(series.siblings().len(), 40);
        assert_eq!(series.key(), 0);
        // A sibling counts on its own: in flight in one, counted in another.
        let (flying, counted) = (series.sibling(1, || &LIMITS), series.sibling(2, || &LIMITS));
        flying.enter();
        assert_eq!(flying.read(&mut Vec::new()).in_flight, 1);
        counted.record_nanos(200, 1_500, flying);
        let reading = counted.read(&mut Vec::new());
        assert_eq!((reading.count, reading.in_flight), (1, 0));
        assert_eq!(flying.read(&mut Vec::new()).in_flight, 0);
        assert_eq!(series.read(&mut Vec::new()).count, 0);
    }
}
