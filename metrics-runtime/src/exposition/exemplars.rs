//! The exemplars of a scrape: per series of the duration histograms, the exemplar of
//! each bucket, looked up by the encoder from a gathered metric's labels.

use prometheus::proto::Metric;

use super::by_series::BySeries;
use crate::families::HttpFamilies;
use crate::storage::Exemplar;

/// What the OpenMetrics and protobuf encoders write after a bucket: for the duration
/// families' metrics, by their series, each bucket's exemplar.
#[derive(Default)]
pub(crate) struct Exemplars {
    by_series: BySeries<Vec<Option<Exemplar>>>,
}

impl Exemplars {
    /// The exemplars every series of `families` holds now.
    pub(crate) fn of(families: &HttpFamilies) -> Exemplars {
        Exemplars {
            by_series: BySeries::of(families, |series| {
                let exemplars = series.exemplars();
                (!exemplars.is_empty()).then_some(exemplars)
            }),
        }
    }

    /// The exemplar of each bucket (`+Inf` last) of `metric` in the family `family`;
    /// empty when it has none.
    pub(crate) fn buckets<'a>(
        &'a self,
        family: &str,
        metric: &'a Metric,
    ) -> &'a [Option<Exemplar>] {
        self.by_series
            .get(family, metric)
            .map_or(&[], Vec::as_slice)
    }
}
