//! The native buckets of a scrape: per series of the duration histograms, its window
//! and each bucket's count, looked up by the protobuf encoder from a gathered metric's
//! labels (as `exemplars.rs` does for exemplars).

use prometheus::proto::Metric;

use super::by_series::BySeries;
use crate::families::HttpFamilies;
use crate::storage::NativeLayout;

/// What the protobuf encoder adds to the duration families' metrics: by their series,
/// the native buckets.
#[derive(Default)]
pub(crate) struct Natives {
    by_series: BySeries<(&'static NativeLayout, Vec<u64>)>,
}

impl Natives {
    /// The native buckets of every series of `families`, read now: call it after the
    /// registry was gathered (see `Series::read_native`).
    pub(crate) fn of(families: &HttpFamilies) -> Natives {
        Natives {
            by_series: BySeries::of(families, |series| {
                let mut slots = Vec::new();
                let layout = series.read_native(&mut slots)?;
                Some((layout, slots))
            }),
        }
    }

    /// The window and bucket counts (the zero bucket first) of `metric` in the family
    /// `family`, if it keeps native buckets.
    pub(crate) fn of_metric<'a>(
        &'a self,
        family: &str,
        metric: &'a Metric,
    ) -> Option<(&'a NativeLayout, &'a [u64])> {
        self.by_series
            .get(family, metric)
            .map(|(layout, slots)| (*layout, slots.as_slice()))
    }
}
