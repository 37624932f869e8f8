//! One scrape of `/metrics` (or of `render()`), parsed into series.

use std::collections::HashMap;

/// One sample: its labels, sorted by name, and its value.
pub type Sample = (Vec<(String, String)>, f64);

/// One scrape, indexed by series: `name{label="value",...}` (labels sorted) → value.
#[derive(Debug, Default)]
pub struct Scrape {
    samples: HashMap<String, f64>,
    // The same samples, by family name, with their labels (sorted).
    families: HashMap<String, Vec<Sample>>,
    /// The raw text.
    pub text: String,
}

impl Scrape {
    /// Parses the text exposition format; histograms become `_bucket` (with `le`),
    /// `_sum` and `_count` series as on the wire.
    pub fn parse(text: &str) -> Scrape {
        use openmetrics_parser::{MetricNumber, PrometheusValue};
        let parsed = openmetrics_parser::prometheus::parse_prometheus(text)
            .unwrap_or_else(|err| panic!("an invalid exposition ({err:?}):\n{text}"));
        let mut scrape = Scrape {
            text: text.to_owned(),
            ..Scrape::default()
        };
        for (name, family) in parsed.families {
            for sample in family.iter_samples() {
                let labelset = sample.get_labelset().expect("labels match their names");
                let mut labels: Vec<(String, String)> = labelset
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                labels.sort();
                match &sample.value {
                    PrometheusValue::Counter(counter) => {
                        scrape.insert(&name, &labels, counter.value.as_f64());
                    }
                    PrometheusValue::Gauge(v) | PrometheusValue::Unknown(v) => {
                        scrape.insert(&name, &labels, v.as_f64());
                    }
                    PrometheusValue::Histogram(h) => {
                        let sum = h.sum.as_ref().map_or(0.0, MetricNumber::as_f64);
                        scrape.insert(&format!("{name}_sum"), &labels, sum);
                        let count = h.count.unwrap_or_default() as f64;
                        scrape.insert(&format!("{name}_count"), &labels, count);
                        for bucket in &h.buckets {
                            let mut labels = labels.clone();
                            labels.push(("le".to_owned(), format_le(bucket.upper_bound)));
                            labels.sort();
                            scrape.insert(
                                &format!("{name}_bucket"),
                                &labels,
                                bucket.count.as_f64(),
                            );
                        }
                    }
                    PrometheusValue::Summary(_) => {}
                }
            }
        }
        scrape
    }

    fn insert(&mut self, name: &str, labels: &[(String, String)], value: f64) {
        self.samples.insert(key(name, labels), value);
        self.families
            .entry(name.to_owned())
            .or_default()
            .push((labels.to_vec(), value));
    }

    /// The value of one series, `None` if absent.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples.get(&key(name, &labels)).copied()
    }

    /// `http_requests_total` for one label set, `0` if absent.
    pub fn requests(&self, handler: &str, method: &str, route: &str, status: &str) -> f64 {
        self.value(
            "http_requests_total",
            &[
                ("handler", handler),
                ("method", method),
                ("route", route),
                ("status", status),
            ],
        )
    }

    /// `http_request_duration_seconds_count` for one label set, `0` if absent.
    pub fn observed(&self, handler: &str, method: &str, route: &str) -> f64 {
        self.value(
            "http_request_duration_seconds_count",
            &[("handler", handler), ("method", method), ("route", route)],
        )
    }

    /// `http_requests_in_flight` for one label set, `0` if absent.
    pub fn in_flight(&self, handler: &str, method: &str, route: &str) -> f64 {
        self.value(
            "http_requests_in_flight",
            &[("handler", handler), ("method", method), ("route", route)],
        )
    }

    /// Every sample of a family (a histogram's `_count`, `_sum` and `_bucket` are
    /// families of their own here), as `(labels, value)`, labels sorted by name.
    pub fn samples(&self, name: &str) -> &[Sample] {
        self.families.get(name).map_or(&[], Vec::as_slice)
    }

    /// The value of one series, `0` if absent (a counter not yet created).
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels).unwrap_or(0.0)
    }

    /// Every series of a family, as `(labels, value)`.
    pub fn series(&self, name: &str) -> Vec<(String, f64)> {
        let prefix = format!("{name}{{");
        let mut out: Vec<(String, f64)> = self
            .samples
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix) || k.as_str() == name)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

// `le` as the text format writes it.
fn format_le(le: f64) -> String {
    if le.is_infinite() {
        "+Inf".to_owned()
    } else {
        le.to_string()
    }
}

// The index of one series: its name and its labels, sorted.
fn key(name: &str, labels: &[(String, String)]) -> String {
    let mut labels = labels.to_vec();
    labels.sort();
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(","))
}
