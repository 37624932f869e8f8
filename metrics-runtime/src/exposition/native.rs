//! The native buckets of a scrape: per series of `http_request_duration_seconds`, its
//! window and each bucket's count, looked up by the protobuf encoder from a gathered
//! metric's labels (as `exemplars.rs` does for exemplars).

use std::collections::HashMap;

use prometheus::proto::Metric;

use super::exemplars::http_label_values;
use crate::families::HttpFamilies;
use crate::storage::NativeLayout;

/// What the protobuf encoder adds to the duration family's metrics: by their `handler`,
/// `method` and `route`, the native buckets.
#[derive(Default)]
pub(crate) struct Natives {
    // The duration family's full name.
    family: String,
    by_labels: HashMap<[&'static str; 3], (&'static NativeLayout, Vec<u64>)>,
}

impl Natives {
    /// The native buckets of every series of `families`, read now: call it after the
    /// registry was gathered (see `Series::read_native`).
    pub(crate) fn of(families: &HttpFamilies) -> Natives {
        let by_labels = families
            .series()
            .into_iter()
            .filter_map(|series| {
                let mut slots = Vec::new();
                let layout = series.read_native(&mut slots)?;
                Some((series.labels().values(), (layout, slots)))
            })
            .collect();
        Natives {
            family: families.duration.fq_name.clone(),
            by_labels,
        }
    }

    /// The window and bucket counts (the zero bucket first) of `metric` in the family
    /// `family`, if it keeps native buckets.
    pub(crate) fn of_metric<'a>(
        &'a self,
        family: &str,
        metric: &'a Metric,
    ) -> Option<(&'a NativeLayout, &'a [u64])> {
        if self.by_labels.is_empty() || family != self.family {
            return None;
        }
        let key = http_label_values(metric);
        let by_labels: &HashMap<[&str; 3], (&'static NativeLayout, Vec<u64>)> = &self.by_labels;
        by_labels
            .get(&key)
            .map(|(layout, slots)| (*layout, slots.as_slice()))
    }
}
