//! The exemplars of a scrape: per series of `http_request_duration_seconds`, the
//! exemplar of each bucket, looked up by the encoder from a gathered metric's labels.

use std::collections::HashMap;

use prometheus::proto::Metric;

use crate::families::{HTTP_LABELS, HttpFamilies};
use crate::storage::Exemplar;

/// What the OpenMetrics encoder writes after a bucket: for the duration family's
/// metrics, by their `handler`, `method` and `route`, each bucket's exemplar.
#[derive(Default)]
pub(crate) struct Exemplars {
    // The duration family's full name.
    family: String,
    by_labels: HashMap<[&'static str; 3], Vec<Option<Exemplar>>>,
}

impl Exemplars {
    /// The exemplars every series of `families` holds now.
    pub(crate) fn of(families: &HttpFamilies) -> Exemplars {
        let by_labels: HashMap<_, _> = families
            .series()
            .into_iter()
            .filter_map(|series| {
                let exemplars = series.exemplars();
                (!exemplars.is_empty()).then(|| (series.labels().values(), exemplars))
            })
            .collect();
        Exemplars {
            family: families.duration.fq_name.clone(),
            by_labels,
        }
    }

    /// The exemplar of each bucket (`+Inf` last) of `metric` in the family `family`;
    /// empty when it has none.
    pub(crate) fn buckets<'a>(
        &'a self,
        family: &str,
        metric: &'a Metric,
    ) -> &'a [Option<Exemplar>] {
        if self.by_labels.is_empty() || family != self.family {
            return &[];
        }
        let key = http_label_values(metric);
        // The map's keys are `'static`; a shorter-lived key looks them up.
        let by_labels: &HashMap<[&str; 3], Vec<Option<Exemplar>>> = &self.by_labels;
        by_labels.get(&key).map_or(&[], Vec::as_slice)
    }
}

/// The values of `metric`'s HTTP labels (`handler`, `method`, `route`), `""` for one it
/// does not have: how the encoders find a gathered metric's series.
pub(crate) fn http_label_values(metric: &Metric) -> [&str; 3] {
    HTTP_LABELS.map(|name| {
        metric
            .get_label()
            .iter()
            .find(|pair| pair.name() == name)
            .map_or("", |pair| pair.value())
    })
}
