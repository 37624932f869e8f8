//! Exemplars: per bucket of a series' duration histogram, the last observation that
//! belonged to a sampled trace, with the trace's ids and when it was made.
//!
//! Cold by design: the slots are allocated on a series' first traced observation (one
//! per bucket, `+Inf` included: bounded per series), written only for a request with a
//! sampled trace, with a `try_lock` that gives up on contention (an exemplar is a
//! sample; losing one to a concurrent writer is fine), and read by a scrape.

use std::sync::{Mutex, PoisonError};
#[cfg(any(feature = "actix", feature = "axum", feature = "opentelemetry", test))]
use std::time::{SystemTime, UNIX_EPOCH};

use super::Series;
use crate::trace::Trace;

/// One observation of a sampled trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace: Trace,
    /// The observed duration, in nanoseconds.
    pub(crate) nanos: u64,
    /// When it was observed, in milliseconds since the Unix epoch.
    pub(crate) unix_millis: u64,
}

/// The slots of one series, one per bucket.
pub(super) struct Exemplars {
    slots: Box<[Mutex<Option<Exemplar>>]>,
}

impl Series {
    /// Counts a finished call as [`Series::record`] does, and keeps it as its bucket's
    /// exemplar, with `trace`.
    #[cfg(any(feature = "actix", feature = "axum", feature = "opentelemetry", test))]
    pub(crate) fn record_traced(
        &'static self,
        status: u16,
        start: u64,
        in_flight: &'static Series,
        trace: Trace,
    ) {
        let clock = super::clock();
        let nanos = clock.delta_as_nanos(start, clock.raw());
        self.record_nanos(status, nanos, in_flight);
        self.keep_exemplar(nanos, trace);
    }

    #[cfg(any(feature = "actix", feature = "axum", feature = "opentelemetry", test))]
    #[cold]
    fn keep_exemplar(&self, nanos: u64, trace: Trace) {
        let exemplars = self.exemplars.get_or_init(|| {
            let slots = (0..=self.limits.len()).map(|_| Mutex::new(None)).collect();
            Box::new(Exemplars { slots })
        });
        let bucket = self.bucket_of(nanos);
        let Some(slot) = exemplars.slots.get(bucket) else {
            return;
        };
        // Contended: another request is writing this bucket's exemplar; keep theirs.
        if let Ok(mut slot) = slot.try_lock() {
            let unix_millis = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| {
                    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
                });
            *slot = Some(Exemplar {
                trace,
                nanos,
                unix_millis,
            });
        }
    }

    /// The exemplar of each bucket (`+Inf` last), or an empty list when the series has
    /// never seen a sampled trace.
    pub(crate) fn exemplars(&self) -> Vec<Option<Exemplar>> {
        self.exemplars.get().map_or_else(Vec::new, |exemplars| {
            exemplars
                .slots
                .iter()
                .map(|slot| *slot.lock().unwrap_or_else(PoisonError::into_inner))
                .collect()
        })
    }
}
