//! One series per label set, process-wide ([`interned`]), in the runtime's HTTP
//! families; and, for request middleware, the series whose route is only known at run
//! time, found through a per-thread table (`series_of`) so that finding one again
//! takes no lock.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::storage::{HttpLabels, Series};

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
    interned_with(handler, method, route, &[])
}

/// [`interned`] with the request labels' values `extra` (an interned set's, see
/// `labels::LabelSet`: the same values are the same slice).
#[cold]
pub(crate) fn interned_with(
    handler: &'static str,
    method: &'static str,
    route: &str,
    extra: &'static [&'static str],
) -> &'static Series {
    // The set by its address; every set without values is the same, 0.
    let set = if extra.is_empty() {
        0
    } else {
        extra.as_ptr() as usize
    };
    let mut all = INTERNED.lock().unwrap_or_else(PoisonError::into_inner);
    let all = all.get_or_insert_with(HashMap::new);
    // The keys are `'static` to be kept; a lookup takes any (the map is covariant).
    let lookup: &HashMap<(&str, &str, &str, usize), &'static Series> = all;
    if let Some(series) = lookup.get(&(handler, method, route, set)) {
        return series;
    }
    // Leaked on purpose, as the series is: bounded by the program's label sets.
    let route: &'static str = Box::leak(route.into());
    let labels = HttpLabels {
        handler,
        method,
        route,
    };
    let series = super::http_families().new_labelled(labels, extra);
    all.insert((handler, method, route, set), series);
    series
}
// Every series, by labels (the request labels' as the address of their set), process-wide.
// Entries are never removed: there are at most as many as label sets in the program,
// times the request labels' sets.
type Interned = HashMap<(&'static str, &'static str, &'static str, usize), &'static Series>;
static INTERNED: Mutex<Option<Interned>> = Mutex::new(None);

// Series whose route is only known at run time, for request middleware.
#[cfg(feature = "axum")]
pub(crate) use table::{answered, expected};
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) use table::{labelled, series_of};

#[cfg(any(feature = "actix", feature = "axum"))]
mod table {
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::collections::hash_map::Entry;
    use std::hash::BuildHasher;

    use foldhash::fast::FixedState;

    use super::super::labels::LabelSet;
    use crate::storage::Series;

    // A thread's table: the hash of a label set (`hash`) to its series. Two label sets of
    // one 64-bit hash are told apart by the series' labels, checked on every hit: the
    // table keeps the first, the other is looked up in `INTERNED` each time (correct,
    // only slower, and with foldhash's 64 bits it does not happen in practice).
    type Table = HashMap<u64, &'static Series, FixedState>;

    const fn table() -> RefCell<Table> {
        RefCell::new(HashMap::with_hasher(FixedState::with_seed(
            0x1319_8a2e_0370_7344,
        )))
    }

    /// The series of these labels: `handler` a name from the source code, `route` a
    /// pattern (or `""`), `method` a label of `recording::method_label`.
    pub(crate) fn series_of(
        handler: &'static str,
        method: &'static str,
        route: &str,
    ) -> &'static Series {
        let hash = hash(handler, method, route);
        let local = LOCAL.try_with(|local| {
            // Not reentrant; a thread being torn down has no table: the shared one.
            let mut local = local.try_borrow_mut().ok()?;
            match local.entry(hash) {
                Entry::Occupied(entry) => {
                    let series = *entry.get();
                    is(series, handler, method, route).then_some(series)
                }
                Entry::Vacant(entry) => Some(*entry.insert(intern(handler, method, route))),
            }
        });
        match local {
            Ok(Some(series)) => series,
            _ => intern(handler, method, route),
        }
    }

    fn is(series: &Series, handler: &str, method: &str, route: &str) -> bool {
        let labels = series.labels();
        labels.handler == handler && labels.method == method && labels.route == route
    }

    /// `series` (one without request label values) with the values of `set` instead:
    /// itself for [`LabelSet::NONE`], else linked from `series` by the set's number (the
    /// first sets seen), or found in this thread's table by the two addresses.
    #[inline]
    pub(crate) fn labelled(series: &'static Series, set: LabelSet) -> &'static Series {
        if set.is_none() {
            return series;
        }
        // The first sets seen are linked from the series: two loads.
        match series.linked(set.number()) {
            Some(labelled) => labelled,
            None => labelled_in_table(series, set),
        }
    }

    fn labelled_in_table(series: &'static Series, set: LabelSet) -> &'static Series {
        let key = (
            series as *const Series as usize,
            set.values().as_ptr() as usize,
        );
        let intern = || {
            let labels = series.labels();
            super::interned_with(labels.handler, labels.method, labels.route, set.values())
        };
        let local = LABELLED.try_with(|labelled| {
            let mut labelled = labelled.try_borrow_mut().ok()?;
            Some(*labelled.entry(key).or_insert_with(intern))
        });
        let labelled = local.ok().flatten().unwrap_or_else(intern);
        series.link(set.number(), labelled);
        labelled
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
            match expected.entry(key) {
                Entry::Occupied(entry) => {
                    let series = *entry.get();
                    let labels = series.labels();
                    (labels.method == method && labels.route == route).then_some(series)
                }
                Entry::Vacant(entry) => Some(*entry.insert(series_of("", method, route))),
            }
        });
        match expected {
            Ok(Some(series)) => series,
            _ => series_of("", method, route),
        }
    }

    /// A request was counted in this series, not the one it was expected in: the
    /// next one of its method and route on this thread is expected here, if a
    /// tracked handler answered it.
    #[cfg(feature = "axum")]
    pub(crate) fn answered(series: &'static Series) {
        let labels = series.labels();
        if labels.handler.is_empty() {
            return;
        }
        let key = hash("", labels.method, labels.route);
        let _ = EXPECTED.try_with(|expected| {
            if let Ok(mut expected) = expected.try_borrow_mut() {
                expected.insert(key, series);
            }
        });
    }

    thread_local! {
        // This thread's copy of what it has looked up in `INTERNED`, so that a lookup
        // takes no lock and touches no cache line shared with other threads.
        static LOCAL: RefCell<Table> = const { table() };
        // By method and route, the series of the tracked handler that answered a request
        // of them last on this thread (`expected`); as bounded as `INTERNED`.
        #[cfg(feature = "axum")]
        static EXPECTED: RefCell<Table> = const { table() };
        // By the addresses of a series without request label values and of a set of
        // them, the series with those values; as bounded as `INTERNED`.
        static LABELLED: RefCell<HashMap<(usize, usize), &'static Series, FixedState>> =
            const { RefCell::new(HashMap::with_hasher(FixedState::with_seed(0x4528_21e6_38d0_1377))) };
    }

    #[cold]
    fn intern(handler: &'static str, method: &'static str, route: &str) -> &'static Series {
        super::interned(handler, method, route)
    }

    fn hash(handler: &str, method: &str, route: &str) -> u64 {
        // A fixed seed: the same hash in every thread's table.
        FixedState::with_seed(0x243f_6a88_85a3_08d3).hash_one((handler, method, route))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[cfg(feature = "axum")]
        #[test]
        fn a_request_is_expected_where_a_tracked_handler_answered_last() {
            let (method, route) = ("GET", "/unit/expected/{id}");
            let untracked = expected(method, route);
            assert_eq!((untracked.handler(), untracked.route()), ("", route));
            assert!(std::ptr::eq(expected(method, route), untracked));
            let tracked = series_of("unit_expected", method, route);
            answered(tracked);
            assert!(std::ptr::eq(expected(method, route), tracked));
            // A rejection (no handler) does not replace it; another handler does.
            answered(untracked);
            assert!(std::ptr::eq(expected(method, route), tracked));
            let other = series_of("unit_expected_other", method, route);
            answered(other);
            assert!(std::ptr::eq(expected(method, route), other));
            // Per method: POST is not expected where GET was answered.
            assert_eq!(expected("POST", route).handler(), "");
        }

        #[test]
        fn one_series_per_label_set_across_threads() {
            let here = series_of("unit_series", "GET", "/a/{id}");
            assert!(std::ptr::eq(
                here,
                series_of("unit_series", "GET", "/a/{id}")
            ));
            let there = std::thread::spawn(|| {
                series_of("unit_series", "GET", "/a/{id}") as *const Series as usize
            })
            .join()
            .unwrap();
            assert_eq!(there, here as *const Series as usize);
            assert!(!std::ptr::eq(
                here,
                series_of("unit_series", "POST", "/a/{id}")
            ));
            assert!(!std::ptr::eq(here, series_of("", "GET", "/a/{id}")));
            assert!(!std::ptr::eq(
                here,
                series_of("unit_series", "GET", "/a/{name}")
            ));
        }
    }
}
