//! One label set of the HTTP families (`handler`, `method`, `route`) and its cached
//! metric handles, shared by everything that records HTTP calls: a tracked function's
//! call site and a request middleware.
//!
//! Recording into a series does no hashing, allocation or locking: its in-flight gauge
//! and histogram are resolved once, and each status code's counter once. What a record
//! costs is the prometheus crate's atomics (gauge up, the histogram's four, a counter,
//! gauge down) plus two clock reads. The clock is the cheapest monotonic one: the raw
//! time-stamp counter through quanta (its monotonic clock where there is no invariant
//! TSC), scaled to nanoseconds once per call, not twice.
//!
//! A series whose route is only known at run time (the pattern a framework matched) is
//! found through [`Series::of`]: interned once per label set, process-wide, and cached
//! per thread, so that finding it again is one hash lookup. Label values come from the
//! program (handler names, route patterns, ten method values), so the number of
//! series, and the memory they hold, is bounded by the program, never by traffic.

use std::sync::atomic::{AtomicU16, Ordering};

use once_cell::sync::OnceCell;
use prometheus::{Histogram, IntCounter, IntGauge};

use crate::families::HttpLabels;
use crate::registry::http_families;

/// How many distinct status codes a series caches; more still count, through a label
/// lookup.
const STATUS_SLOTS: usize = 8;

/// The handles of one label set.
pub(crate) struct Series {
    labels: HttpLabels<'static>,
    in_flight: IntGauge,
    // Made on the first observation: a request's series that only ever held it while
    // routing (see `request`) then exposes no empty histogram.
    duration: OnceCell<Histogram>,
    clock: &'static quanta::Clock,
    statuses: [StatusSlot; STATUS_SLOTS],
}

struct StatusSlot {
    // 0 while free; claimed once, never changed after.
    code: AtomicU16,
    counter: OnceCell<IntCounter>,
}

impl Series {
    pub(crate) fn new(labels: HttpLabels<'static>) -> Series {
        Series {
            labels,
            in_flight: http_families().in_flight(labels),
            duration: OnceCell::new(),
            clock: clock(),
            statuses: [const {
                StatusSlot {
                    code: AtomicU16::new(0),
                    counter: OnceCell::new(),
                }
            }; STATUS_SLOTS],
        }
    }

    /// A reading of the clock, to pass back to [`Series::record`].
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.clock.raw()
    }

    /// One more call in flight.
    #[inline]
    pub(crate) fn enter(&self) {
        self.in_flight.inc();
    }

    /// One call fewer in flight.
    #[inline]
    pub(crate) fn leave(&self) {
        self.in_flight.dec();
    }

    /// Counts a finished call with `status`, takes it out of `in_flight` (the series
    /// it was in flight in: this one, or a request's earlier series) and observes its
    /// duration from `start`.
    ///
    /// The histogram comes last: converting the reading to seconds then overlaps with
    /// the counter's and the gauge's atomics instead of delaying the histogram's. (A
    /// scrape gathers one family after another, so the order between families was never
    /// visible as a unit; everything is recorded when this returns.)
    #[inline]
    pub(crate) fn record(&self, status: u16, start: u64, in_flight: &Series) {
        let end = self.clock.raw();
        self.count(status);
        in_flight.leave();
        let nanos = self.clock.delta_as_nanos(start, end);
        self.duration
            .get_or_init(|| http_families().duration(self.labels))
            .observe(nanos as f64 / 1e9);
    }

    #[inline]
    fn count(&self, status: u16) {
        let status = if (100..=599).contains(&status) {
            status
        } else {
            500
        };
        for slot in &self.statuses {
            let mut code = slot.code.load(Ordering::Acquire);
            if code == 0 {
                // Claim the free slot, or learn which status another thread put there.
                code =
                    match slot
                        .code
                        .compare_exchange(0, status, Ordering::AcqRel, Ordering::Acquire)
                    {
                        Ok(_) => status,
                        Err(taken) => taken,
                    };
            }
            if code == status {
                return self.slot_counter(slot, status).inc();
            }
        }
        self.counter(status).inc();
    }

    #[inline]
    fn slot_counter<'a>(&self, slot: &'a StatusSlot, status: u16) -> &'a IntCounter {
        slot.counter.get_or_init(|| self.counter(status))
    }

    #[cold]
    fn counter(&self, status: u16) -> IntCounter {
        http_families().requests(self.labels, status)
    }
}

// Series whose route is only known at run time, for request middleware.
#[cfg(any(feature = "actix", feature = "axum"))]
mod table {
    use std::cell::RefCell;
    use std::hash::BuildHasher;
    use std::sync::{Mutex, PoisonError};

    use hashbrown::HashTable;

    use super::Series;
    use crate::families::HttpLabels;

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
                let series = intern(hash, handler, method, route);
                local.insert_unique(hash, series, |s| s.hash());
                Some(series)
            });
            match local {
                Ok(Some(series)) => series,
                _ => intern(hash, handler, method, route),
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

    // Every series found through `Series::of`, process-wide. Entries are never removed:
    // there are at most as many as label sets in the program.
    static INTERNED: Mutex<HashTable<&'static Series>> = Mutex::new(HashTable::new());

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
    fn intern(
        hash: u64,
        handler: &'static str,
        method: &'static str,
        route: &str,
    ) -> &'static Series {
        let mut all = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = all.find(hash, |s| s.is(handler, method, route)) {
            return series;
        }
        // Leaked on purpose: bounded by the program's label sets, and alive as long as the
        // registry that exports them.
        let route: &'static str = Box::leak(route.into());
        let series: &'static Series = Box::leak(Box::new(Series::new(HttpLabels {
            handler,
            method,
            route,
        })));
        all.insert_unique(hash, series, |s| s.hash());
        series
    }

    fn hash(handler: &str, method: &str, route: &str) -> u64 {
        // A fixed seed: the same hash in every thread's table and in `INTERNED`.
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
#[cold]
fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceCell<quanta::Clock> = OnceCell::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_count_status_and_duration() {
        let series = Series::of("unit_record", "GET", "/r");
        series.enter();
        assert_eq!(series.in_flight.get(), 1);
        let start = series.now();
        series.record(204, start, series);
        series.enter();
        series.record(700, start, series);
        assert_eq!(series.in_flight.get(), 0);
        assert_eq!(series.counter(204).get(), 1);
        assert_eq!(series.counter(500).get(), 1, "out of range counts as 500");
        assert_eq!(series.duration.get().unwrap().get_sample_count(), 2);
    }
}
