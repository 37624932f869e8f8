//! The HTTP families as the registry gathers them: one `prometheus::core::Collector`
//! that reads every series (see [`crate::series`]) and builds the three families'
//! protos, which the prometheus crate's registry sorts and its `TextEncoder` encodes
//! like those of its own metric types.
//!
//! Each metric is built as the prometheus crate builds its own: the label pairs of a
//! series (its values, and the constant labels) sorted by name, the histogram's buckets
//! cumulative with their bounds, the `+Inf` bucket left to the encoder (it writes the
//! count). What a series has not recorded is not shown, as before: its histogram
//! appears with its first observation, each status with its first count; its gauge is
//! there from the start.

use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};

use crate::families::HttpFamilies;

/// Registered in the registry in place of the three prometheus families.
pub(crate) struct HttpCollector {
    families: Arc<HttpFamilies>,
    // The label pairs of each family with empty values, sorted as the prometheus crate
    // sorts them, and where each variable label's value goes.
    requests: Template,
    series: Template,
}

impl HttpCollector {
    pub(crate) fn new(families: Arc<HttpFamilies>) -> HttpCollector {
        HttpCollector {
            requests: Template::new(&families.requests),
            // The histogram and the gauge have the same labels.
            series: Template::new(&families.in_flight),
            families,
        }
    }
}

impl Collector for HttpCollector {
    fn desc(&self) -> Vec<&Desc> {
        let families = &*self.families;
        vec![&families.requests, &families.duration, &families.in_flight]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let families = &*self.families;
        let all = families.series();
        let mut requests = Vec::new();
        let mut durations = Vec::new();
        let mut in_flight = Vec::with_capacity(all.len());
        let mut buckets = Vec::with_capacity(families.bounds.len() + 1);
        for series in all {
            let values = series.labels().values();
            let reading = series.read(&mut buckets);
            let mut gauge = Gauge::default();
            gauge.set_value(reading.in_flight as f64);
            let mut metric = Metric::from_label(self.series.pairs(&values));
            metric.set_gauge(gauge);
            in_flight.push(metric);
            if reading.count > 0 {
                let mut metric = Metric::from_label(self.series.pairs(&values));
                metric.set_histogram(histogram(&families.bounds, &buckets, &reading));
                durations.push(metric);
            }
            series.statuses(|status, count| {
                let [handler, method, route] = values;
                let status = status.to_string();
                let mut counter = Counter::default();
                counter.set_value(count as f64);
                let mut metric =
                    Metric::from_label(self.requests.pairs(&[handler, method, route, &status]));
                metric.set_counter(counter);
                requests.push(metric);
            });
        }
        vec![
            family(&families.requests, MetricType::COUNTER, requests),
            family(&families.duration, MetricType::HISTOGRAM, durations),
            family(&families.in_flight, MetricType::GAUGE, in_flight),
        ]
    }
}

// The histogram proto of one reading: buckets cumulative, as the prometheus crate's.
fn histogram(bounds: &[f64], buckets: &[u64], reading: &crate::series::Reading) -> Histogram {
    let mut cumulative = 0u64;
    let buckets = bounds
        .iter()
        .zip(buckets)
        .map(|(&bound, &count)| {
            cumulative = cumulative.wrapping_add(count);
            let mut bucket = Bucket::default();
            bucket.set_cumulative_count(cumulative);
            bucket.set_upper_bound(bound);
            bucket
        })
        .collect();
    let mut histogram = Histogram::default();
    // The count is the sum of the same buckets: `+Inf` (written from it) equals it.
    histogram.set_sample_count(reading.count);
    histogram.set_sample_sum(reading.sum_nanos as f64 / 1e9);
    histogram.set_bucket(buckets);
    histogram
}

fn family(desc: &Desc, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(desc.fq_name.clone());
    family.set_help(desc.help.clone());
    family.set_field_type(kind);
    family.set_metric(metrics);
    family
}

/// The label pairs of a family's metrics, as the prometheus crate makes them
/// (`make_label_pairs`): variable labels and constant labels, sorted by name.
struct Template {
    pairs: Vec<LabelPair>,
    // Per variable label, in the descriptor's order, its index in `pairs`.
    at: Vec<usize>,
}

impl Template {
    fn new(desc: &Desc) -> Template {
        let mut pairs: Vec<LabelPair> = desc
            .variable_labels
            .iter()
            .map(|name| {
                let mut pair = LabelPair::default();
                pair.set_name(name.clone());
                pair
            })
            .chain(desc.const_label_pairs.iter().cloned())
            .collect();
        pairs.sort();
        let at = desc
            .variable_labels
            .iter()
            .filter_map(|name| pairs.iter().position(|pair| pair.name() == name))
            .collect();
        Template { pairs, at }
    }

    // The pairs with these values of the variable labels.
    fn pairs(&self, values: &[&str]) -> Vec<LabelPair> {
        let mut pairs = self.pairs.clone();
        for (&at, value) in self.at.iter().zip(values) {
            if let Some(pair) = pairs.get_mut(at) {
                pair.set_value((*value).to_owned());
            }
        }
        pairs
    }
}
