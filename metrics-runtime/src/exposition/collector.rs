//! The HTTP families as the registry gathers them: one `prometheus::core::Collector`
//! that reads every series (see [`crate::storage`]) and builds the three families'
//! protos, which the prometheus crate's registry sorts and its `TextEncoder` encodes
//! like those of its own metric types.
//!
//! Each metric is built as the prometheus crate builds its own: the label pairs of a
//! series (its values, and the constant labels) sorted by name, the histogram's buckets
//! cumulative with their bounds, the `+Inf` bucket left to the encoder (it writes the
//! count). What a series has not recorded is not shown, as before: its histogram
//! appears with its first observation, each status with its first count; its gauge
//! while something is in flight in it, and for good once it has counted anything. So a
//! series a request was only in flight in before a tracked handler named it (and moved
//! it to the handler's series) shows nothing: a route shows one series per handler.

use std::borrow::Cow;
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType,
};

use crate::families::HttpFamilies;

/// Registered in the registry in place of the three prometheus families (and, in the
/// OpenTelemetry naming, of its two: see `otel.rs`).
pub(crate) struct HttpCollector {
    families: Arc<HttpFamilies>,
    // The label pairs of each family with empty values, sorted as the prometheus crate
    // sorts them, and where each variable label's value goes.
    requests: Template,
    series: Template,
    otel: Option<otel::Templates>,
}

impl HttpCollector {
    pub(crate) fn new(families: Arc<HttpFamilies>) -> HttpCollector {
        HttpCollector {
            requests: Template::new(&families.requests),
            // The histogram and the gauge have the same labels.
            series: Template::new(&families.in_flight),
            otel: families.otel.as_ref().map(otel::Templates::new),
            families,
        }
    }
}

impl Collector for HttpCollector {
    fn desc(&self) -> Vec<&Desc> {
        let families = &*self.families;
        let mut descs = vec![&families.requests, &families.duration, &families.in_flight];
        if let Some(otel) = &families.otel {
            descs.extend([&otel.duration, &otel.active]);
        }
        descs
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let families = &*self.families;
        let all = families.series();
        // Sized as the prometheus crate sizes its own (a status counted between this and
        // the read below only costs a reallocation).
        let mut statuses = 0;
        for series in &all {
            series.statuses(|_, _| statuses += 1);
        }
        let mut requests = Vec::with_capacity(statuses);
        let mut durations = Vec::with_capacity(all.len());
        let mut in_flight = Vec::with_capacity(all.len());
        let mut buckets = Vec::with_capacity(families.bounds.len() + 1);
        for &series in &all {
            // The request labels' values after the three: none (`""` each) for a series
            // that has none.
            let values = families.values(series);
            let values = || values.clone().map(Cow::Borrowed);
            let reading = series.read(&mut buckets);
            if reading.count > 0 {
                durations.push(histogram(
                    self.series.pairs(values()),
                    &families.bounds,
                    &buckets,
                    reading.count,
                    seconds(reading.sum_nanos),
                ));
            }
            let counted = requests.len();
            series.statuses(|status, count| {
                // Moved into its pair, not copied: one allocation, as the prometheus
                // crate's clone of the value it keeps.
                let status = Cow::Owned(status.to_string());
                requests.push(counter(
                    self.requests.pairs(values().chain([status])),
                    count,
                ));
            });
            // Something to show: in flight now, or counted (a status read before its
            // observation included).
            if reading.in_flight > 0 || reading.count > 0 || requests.len() > counted {
                in_flight.push(gauge(self.series.pairs(values()), reading.in_flight as f64));
            }
        }
        let mut gathered = vec![
            family(&families.requests, MetricType::COUNTER, requests),
            family(&families.duration, MetricType::HISTOGRAM, durations),
            family(&families.in_flight, MetricType::GAUGE, in_flight),
        ];
        if let (Some(otel), Some(templates)) = (&families.otel, &self.otel) {
            gathered.extend(templates.collect(otel, &all, &mut buckets));
        }
        gathered
    }
}

#[cfg(feature = "metrics-rs")]
mod facade;
#[cfg(feature = "tonic")]
mod grpc;
mod otel;

#[cfg(feature = "metrics-rs")]
pub(crate) use facade::FacadeCollector;
#[cfg(feature = "tonic")]
pub(crate) use grpc::GrpcCollector;

// A metric of `pairs` with the histogram of a reading's buckets, count and sum: buckets
// cumulative, as the prometheus crate's. A sum of nanoseconds is in seconds here
// (`seconds`).
fn histogram(
    pairs: Vec<LabelPair>,
    bounds: &[f64],
    buckets: &[u64],
    count: u64,
    sum: f64,
) -> Metric {
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
    histogram.set_sample_count(count);
    histogram.set_sample_sum(sum);
    histogram.set_bucket(buckets);
    let mut metric = Metric::from_label(pairs);
    metric.set_histogram(histogram);
    metric
}

// Nanoseconds in seconds, as a histogram's sum.
fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

// A metric of `pairs` with a counter of `value`.
fn counter(pairs: Vec<LabelPair>, value: u64) -> Metric {
    let mut counter = Counter::default();
    counter.set_value(value as f64);
    let mut metric = Metric::from_label(pairs);
    metric.set_counter(counter);
    metric
}

// A metric of `pairs` with a gauge of `value`.
fn gauge(pairs: Vec<LabelPair>, value: f64) -> Metric {
    let mut gauge = Gauge::default();
    gauge.set_value(value);
    let mut metric = Metric::from_label(pairs);
    metric.set_gauge(gauge);
    metric
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
    fn pairs<'v>(&self, values: impl IntoIterator<Item = Cow<'v, str>>) -> Vec<LabelPair> {
        let mut pairs = self.pairs.clone();
        for (&at, value) in self.at.iter().zip(values) {
            if let Some(pair) = pairs.get_mut(at) {
                pair.set_value(value.into_owned());
            }
        }
        pairs
    }
}

#[cfg(test)]
pub(crate) mod scrapes;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use prometheus::core::Collector;
    use prometheus::{Encoder, HistogramVec, IntCounterVec, IntGaugeVec, Registry, TextEncoder};

    use super::scrapes::families;
    use crate::families::Builder;
    use crate::storage::HttpLabels;
    use crate::storage::Series;

    // The prometheus crate's own families, as the runtime used them before: built by
    // the same builder with the same options, in a registry of their own.
    struct Before {
        requests: IntCounterVec,
        duration: HistogramVec,
        in_flight: IntGaugeVec,
        registry: Registry,
    }

    impl Before {
        fn new(builder: &Builder, buckets: Option<&[f64]>) -> Before {
            let labels = ["handler", "method", "route"];
            let before = Before {
                requests: builder
                    .counter(
                        "http_requests_total",
                        "HTTP requests answered and tracked calls made, by status code.",
                        &["handler", "method", "route", "status"],
                    )
                    .unwrap(),
                duration: builder
                    .histogram(
                        "http_request_duration_seconds",
                        "Time to answer an HTTP request or to run a tracked call, in seconds.",
                        buckets,
                        &labels,
                    )
                    .unwrap(),
                in_flight: builder
                    .gauge(
                        "http_requests_in_flight",
                        "HTTP requests and tracked calls in progress.",
                        &labels,
                    )
                    .unwrap(),
                registry: Registry::new(),
            };
            for collector in [
                Box::new(before.requests.clone()) as Box<dyn Collector>,
                Box::new(before.duration.clone()),
                Box::new(before.in_flight.clone()),
            ] {
                before.registry.register(collector).unwrap();
            }
            before
        }
    }

    enum Call {
        // A series starts in flight.
        Enter(usize),
        // A call counted in one series with a status, a duration, and in flight in the
        // other.
        Record(usize, u16, u64, usize),
    }

    // The same calls through the series (and their collector) and through the prometheus
    // crate's families, as `Series` recorded them before: the gauge made with the series,
    // `inc` to enter, then a counter, a `dec` and an observation in seconds.
    fn both(builder: &Builder, buckets: Option<&[f64]>) -> (String, String) {
        let labels = [
            ("get_user", "GET", "/users/{id}"),
            ("create_user", "POST", "/users"),
            ("", "GET", ""),
            ("zeta", "DELETE", "/a"),
            ("alpha", "PUT", "/b"),
            ("in_flight_only", "GET", "/slow"),
        ];
        let before = Before::new(builder, buckets);
        let (after, registry) = families(builder, buckets);
        let series: Vec<&'static Series> = labels
            .iter()
            .map(|&(handler, method, route)| {
                before
                    .in_flight
                    .with_label_values(&[handler, method, route]);
                after.new_series(HttpLabels {
                    handler,
                    method,
                    route,
                })
            })
            .collect();
        let edges = [
            0,
            1,
            5_000_000,
            5_000_001,
            10_000_000,
            25_000_000,
            99_999_999,
            100_000_000,
            250_000_000,
            1_000_000_000,
            2_500_000_000,
            9_999_999_999,
            10_000_000_000,
            10_000_000_001,
            123_456_789_012,
        ];
        let statuses = [
            200, 404, 200, 500, 700, 201, 301, 302, 400, 401, 403, 418, 503, 99,
        ];
        let mut calls = Vec::new();
        for (i, &nanos) in edges.iter().enumerate() {
            for (s, &status) in statuses.iter().enumerate() {
                let at = (i + s) % 5;
                calls.push(Call::Enter(at));
                calls.push(Call::Record(at, status, nanos + s as u64, at));
            }
            calls.push(Call::Enter(0));
            calls.push(Call::Record(0, 200, nanos, 0));
        }
        // Counted in another series than the one it was in flight in, and two left in
        // flight: one in a series that never finished a call.
        calls.push(Call::Enter(2));
        calls.push(Call::Record(1, 201, 7_000_000, 2));
        calls.push(Call::Enter(3));
        calls.push(Call::Enter(5));
        for call in calls {
            match call {
                Call::Enter(at) => {
                    let (h, m, r) = labels[at];
                    before.in_flight.with_label_values(&[h, m, r]).inc();
                    series[at].enter();
                }
                Call::Record(at, status, nanos, in_flight) => {
                    let (h, m, r) = labels[at];
                    let counted = if (100..=599).contains(&status) {
                        status
                    } else {
                        500
                    };
                    before
                        .requests
                        .with_label_values(&[h, m, r, &counted.to_string()])
                        .inc();
                    let (fh, fm, fr) = labels[in_flight];
                    before.in_flight.with_label_values(&[fh, fm, fr]).dec();
                    before
                        .duration
                        .with_label_values(&[h, m, r])
                        .observe(nanos as f64 / 1e9);
                    series[at].record_nanos(status, nanos, series[in_flight]);
                }
            }
        }
        (encode(&before.registry), encode(&registry))
    }

    fn encode(registry: &Registry) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&registry.gather(), &mut buffer)
            .unwrap();
        String::from_utf8(buffer).unwrap()
    }

    // Line by line the same, but for `_sum` values, equal within 1e-9 relative: the
    // integer nanoseconds are exact, the f64 sum of seconds is rounded at every add.
    fn assert_same(before: &str, after: &str) {
        let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
        assert_eq!(b.len(), a.len(), "before:\n{before}\nafter:\n{after}");
        let mut sums = 0;
        for (b, a) in b.iter().zip(&a) {
            let (Some((bk, bv)), Some((ak, av))) = (b.rsplit_once(' '), a.rsplit_once(' ')) else {
                panic!("{b} / {a}");
            };
            if bk.contains("_sum") && !bk.starts_with('#') {
                sums += 1;
                assert_eq!(bk, ak);
                let (bv, av): (f64, f64) = (bv.parse().unwrap(), av.parse().unwrap());
                assert!(
                    (bv - av).abs() <= 1e-9 * bv.abs().max(av.abs()),
                    "{b} / {a}"
                );
            } else {
                assert_eq!(b, a, "before:\n{before}\nafter:\n{after}");
            }
        }
        assert!(sums >= 5, "{sums} histograms compared");
    }

    #[test]
    fn the_exposition_is_the_prometheus_crates_for_the_same_calls() {
        let (before, after) = both(&Builder::new(None, HashMap::new()), None);
        assert_same(&before, &after);
        // A series only in flight shows its gauge and nothing else; a status counted
        // shows, one never counted does not.
        assert!(after.contains(
            r#"http_requests_in_flight{handler="in_flight_only",method="GET",route="/slow"} 1"#
        ));
        assert!(!after.contains(r#"http_request_duration_seconds_count{handler="in_flight_only""#));
        assert!(
            after.contains(r#"http_requests_total{handler="",method="GET",route="",status="418"}"#)
        );
        assert!(!after.contains(r#"status="99""#));
    }

    #[test]
    fn a_gauge_shows_while_in_flight_and_once_counted() {
        let (after, registry) = families(&Builder::new(None, HashMap::new()), None);
        let new = |handler| {
            after.new_series(HttpLabels {
                handler,
                method: "GET",
                route: "/moved",
            })
        };
        let (placeholder, named, never) = (new(""), new("named"), new("never"));
        let gauge = |handler: &str, value: u8| {
            format!(
                r#"http_requests_in_flight{{handler="{handler}",method="GET",route="/moved"}} {value}"#
            )
        };
        placeholder.enter();
        let text = encode(&registry);
        assert!(text.contains(&gauge("", 1)), "{text}");
        assert!(!text.contains(r#"handler="named""#));
        // Named: in flight in the handler's series, none left where it started.
        named.enter();
        placeholder.leave();
        let text = encode(&registry);
        assert!(text.contains(&gauge("named", 1)), "{text}");
        assert!(!text.contains(r#"handler="","#), "{text}");
        named.record_nanos(200, 1_000, named);
        let text = encode(&registry);
        assert!(text.contains(&gauge("named", 0)), "{text}");
        assert!(!text.contains(r#"handler="","#), "{text}");
        assert!(!text.contains(r#"handler="never""#), "{text}");
        // Counted, but in flight elsewhere: its gauge shows for good.
        placeholder.enter();
        never.record_nanos(404, 1_000, placeholder);
        let text = encode(&registry);
        assert!(text.contains(&gauge("never", 0)), "{text}");
        assert!(!text.contains(r#"handler="","#), "{text}");
    }

    #[test]
    fn the_exposition_is_the_same_with_a_namespace_const_labels_and_buckets() {
        let const_labels = HashMap::from([
            ("service".to_owned(), "checkout".to_owned()),
            ("zone".to_owned(), "eu-1".to_owned()),
            ("a_first".to_owned(), "x".to_owned()),
        ]);
        let builder = Builder::new(Some("shop".to_owned()), const_labels);
        let buckets = [0.005, 0.01, 0.1, 1.0, 2.5, 10.0, f64::INFINITY];
        let (before, after) = both(&builder, Some(&buckets));
        assert_same(&before, &after);
        assert!(after.contains(r#"shop_http_requests_total{a_first="x",handler="alpha",method="PUT",route="/b",service="checkout",status="200",zone="eu-1"}"#), "{after}");
        let many: Vec<f64> = (1..=30).map(|i| f64::from(i) * 0.37).collect();
        let (before, after) = both(&builder, Some(&many));
        assert_same(&before, &after);
    }
}
