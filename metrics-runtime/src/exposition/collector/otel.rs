//! The OpenTelemetry naming's two families as the collector builds them: from the
//! request series (the siblings of every series, see `storage::sibling`), the duration
//! histogram of each series answered with a status, and the active requests summed by
//! method, scheme and request label values. A family's metrics are built as the
//! Prometheus naming's are (`collector.rs`): the label pairs sorted, the buckets
//! cumulative. A request dropped before its response has the status `""`, which
//! Prometheus reads as no label at all (and every parser as the family's label set).

use std::borrow::Cow;
use std::collections::BTreeMap;

use prometheus::proto::{MetricFamily, MetricType};

use super::{Template, family, gauge, histogram, seconds};
use crate::families::OtelFamilies;
use crate::families::otel::Key;
use crate::storage::Series;

/// The label pairs of the two families with empty values.
pub(super) struct Templates {
    duration: Template,
    active: Template,
}

impl Templates {
    pub(super) fn new(otel: &OtelFamilies) -> Templates {
        Templates {
            duration: Template::new(&otel.duration),
            active: Template::new(&otel.active),
        }
    }

    /// The two families of the request series of `all` (every series of the HTTP
    /// families), `buckets` a buffer.
    pub(super) fn collect(
        &self,
        otel: &OtelFamilies,
        all: &[&'static Series],
        buckets: &mut Vec<u64>,
    ) -> [MetricFamily; 2] {
        let mut durations = Vec::new();
        // In flight by the gauge's label values: each method, scheme and request label
        // values once, summed over routes, handlers and versions.
        let mut active: BTreeMap<Vec<&'static str>, i64> = BTreeMap::new();
        for series in all {
            for sibling in series.siblings() {
                let Some(key) = Key::of(sibling.key()) else {
                    continue;
                };
                let reading = sibling.read(buckets);
                match key.status {
                    None => {
                        *active.entry(otel.active_values(sibling, &key)).or_default() +=
                            reading.in_flight;
                    }
                    Some(status) if reading.count > 0 => {
                        let values = otel.duration_values(sibling, &key, status);
                        durations.push(histogram(
                            self.duration.pairs(values.into_iter().map(Cow::Borrowed)),
                            &otel.bounds,
                            buckets,
                            reading.count,
                            seconds(reading.sum_nanos),
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
        let active = active
            .into_iter()
            .map(|(values, in_flight)| {
                let pairs = self.active.pairs(values.into_iter().map(Cow::Borrowed));
                gauge(pairs, in_flight as f64)
            })
            .collect();
        [
            family(&otel.duration, MetricType::HISTOGRAM, durations),
            family(&otel.active, MetricType::GAUGE, active),
        ]
    }
}
