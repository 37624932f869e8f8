//! What the encoders add to the duration histograms' metrics (exemplars, native
//! buckets), by series: a gathered metric finds its series by its family's name and the
//! values of the family's variable labels, as the collector wrote them. Both namings'
//! duration families (`http_request_duration_seconds`, and in the OpenTelemetry naming
//! `http_server_request_duration_seconds`) are looked up alike.

use std::collections::HashMap;

use prometheus::proto::Metric;

use crate::families::HttpFamilies;
use crate::families::otel::Key;
use crate::storage::Series;

/// A value per series of the duration families, found from a gathered metric.
pub(crate) struct BySeries<V> {
    families: Vec<Family<V>>,
}

struct Family<V> {
    // The family's full name, and its variable labels in the descriptor's order.
    name: String,
    labels: Vec<String>,
    by_values: HashMap<Vec<&'static str>, V>,
}

impl<V> Default for BySeries<V> {
    fn default() -> Self {
        BySeries {
            families: Vec::new(),
        }
    }
}

impl<V> BySeries<V> {
    /// `value` of each series of `families` that has one: the series that counts calls
    /// (and requests, in the Prometheus naming) and, in the OpenTelemetry naming, the
    /// request series that were answered.
    pub(crate) fn of(
        families: &HttpFamilies,
        mut value: impl FnMut(&'static Series) -> Option<V>,
    ) -> BySeries<V> {
        let all = families.series();
        let mut own = Family::new(&families.duration);
        let mut otel = families
            .otel
            .as_ref()
            .map(|otel| (otel, Family::new(&otel.duration)));
        for &series in &all {
            if let Some(value) = value(series) {
                own.insert(families.values(series).collect(), value);
            }
            let Some((otel, family)) = otel.as_mut() else {
                continue;
            };
            for sibling in series.siblings() {
                if let Some(key) = Key::of(sibling.key())
                    && let Some(status) = key.status
                    && let Some(value) = value(sibling)
                {
                    family.insert(otel.duration_values(sibling, &key, status), value);
                }
            }
        }
        BySeries {
            families: [Some(own), otel.map(|(_, family)| family)]
                .into_iter()
                .flatten()
                .filter(|family| !family.by_values.is_empty())
                .collect(),
        }
    }

    /// The value of `metric`'s series, `metric` a metric of the family `family`; `None`
    /// when it has none (or is of no duration family).
    pub(crate) fn get<'a>(&'a self, family: &str, metric: &'a Metric) -> Option<&'a V> {
        let family = self.families.iter().find(|each| each.name == family)?;
        let values: Vec<&str> = family
            .labels
            .iter()
            .map(|name| {
                let pair = metric.get_label().iter().find(|pair| pair.name() == name);
                pair.map_or("", |pair| pair.value())
            })
            .collect();
        // The map's keys are `'static`; a shorter-lived key looks them up.
        let by_values: &HashMap<Vec<&str>, V> = &family.by_values;
        by_values.get(&values)
    }
}

impl<V> Family<V> {
    fn new(desc: &prometheus::core::Desc) -> Family<V> {
        Family {
            name: desc.fq_name.clone(),
            labels: desc.variable_labels.clone(),
            by_values: HashMap::new(),
        }
    }

    fn insert(&mut self, values: Vec<&'static str>, value: V) {
        self.by_values.insert(values, value);
    }
}

#[cfg(all(test, any(feature = "actix", feature = "axum")))]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use prometheus::Registry;

    use super::BySeries;
    use crate::config::OTEL_BUCKETS;
    use crate::exposition::collector::HttpCollector;
    use crate::families::otel::{Variant, Version};
    use crate::families::{Builder, HttpFamilies, OtelFamilies};
    use crate::storage::HttpLabels;

    #[test]
    fn each_gathered_duration_metric_finds_its_own_series() {
        let builder = Builder::new(None, HashMap::new());
        let otel = OtelFamilies::new(&builder, &OTEL_BUCKETS, &["tenant"]).unwrap();
        let families = HttpFamilies::new(&builder, None, &["tenant"])
            .unwrap()
            .with_otel(otel);
        let families: &'static Arc<HttpFamilies> = Box::leak(Box::new(Arc::new(families)));
        let registry = Registry::new();
        registry
            .register(Box::new(HttpCollector::new(Arc::clone(families))))
            .unwrap();
        let limits = &families.otel.as_ref().unwrap().limits;
        // Two series told apart by their request label only, each with calls of its own
        // and requests of two variants and statuses: every one a different count.
        let labels = HttpLabels {
            handler: "h",
            method: "GET",
            route: "/by-series",
        };
        let mut calls = 0;
        for tenant in [&["acme"][..], &["globex"]] {
            let series = families.new_labelled(labels, tenant);
            for (variant, status) in [
                (Variant::new(false, Version::Http11), 200),
                (Variant::new(true, Version::Http2), 503),
            ] {
                let flying = series.sibling(variant.in_flight(), || limits);
                let counted = series.sibling(variant.counted(status), || limits);
                calls += 1;
                for _ in 0..calls {
                    flying.enter();
                    counted.record_nanos(status, 1_000, flying);
                }
            }
            calls += 1;
            for _ in 0..calls {
                series.enter();
                series.record_nanos(200, 1_000, series);
            }
        }
        let by_series = BySeries::of(families, |series| Some(series.read(&mut Vec::new()).count));
        let mut found = 0;
        for family in registry.gather() {
            if !family.name().ends_with("duration_seconds") {
                continue;
            }
            for metric in family.get_metric() {
                let count = by_series.get(family.name(), metric);
                assert_eq!(
                    count,
                    Some(&metric.get_histogram().get_sample_count()),
                    "{}: {:?}",
                    family.name(),
                    metric.get_label()
                );
                found += 1;
            }
        }
        assert_eq!(found, 6, "two series of calls, four of requests");
    }
}
