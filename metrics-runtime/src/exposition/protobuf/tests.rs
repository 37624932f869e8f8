//! The protobuf exposition: native buckets as client_golang writes them, and a full
//! scrape decoded back.

use prost::Message;

use super::spans;
use crate::exposition::proto;
use crate::storage::NativeLayout;

// Counts per key into slots of `layout` (the zero bucket first).
fn slots(layout: &NativeLayout, zero: u64, keys: &[(i32, u64)]) -> Vec<u64> {
    let mut slots = vec![0; layout.slots()];
    slots[0] = zero;
    for &(key, count) in keys {
        let slot = (1..layout.slots()).find(|&s| layout.key(s) == key).unwrap();
        slots[slot] += count;
    }
    slots
}

fn pairs(spans: &[proto::BucketSpan]) -> Vec<(i32, u32)> {
    spans.iter().map(|s| (s.offset(), s.length())).collect()
}

// benches/reference/native_buckets.go: client_golang 1.14, the same observations.
#[test]
fn spans_and_deltas_are_client_golangs() {
    let layout = NativeLayout::new(3, (-20f64).exp2(), 1024.0);
    // 0, 1, 953 ns (zero); 954, 1000 (-159); 999999, 1000000, 1000001 (-79);
    // 1090507, 1090508 (-78); 5 ms (-61); 250 ms (-16); 500 ms (-8); 500 ms + 1 (-7);
    // 1 s (0); 1 s + 1, 1090507732 (1); 1090507733 (2); 2 s (8); 1000 s (80).
    let keys = [
        (-159, 2),
        (-79, 3),
        (-78, 2),
        (-61, 1),
        (-16, 1),
        (-8, 1),
        (-7, 1),
        (0, 1),
        (1, 2),
        (2, 1),
        (8, 1),
        (80, 1),
    ];
    let (found, deltas) = spans(&layout, &slots(&layout, 3, &keys));
    assert_eq!(
        pairs(&found),
        [
            (-159, 1),
            (79, 2),
            (16, 1),
            (44, 1),
            (7, 2),
            (6, 3),
            (5, 1),
            (71, 1)
        ]
    );
    assert_eq!(deltas, [2, 1, -1, -1, 0, 0, 0, 0, 1, -1, 0, 0]);

    let layout = NativeLayout::new(0, (-20f64).exp2(), 1024.0);
    let keys = [(-19, 1), (-18, 1), (-1, 1), (0, 2), (1, 1), (2, 2), (3, 1)];
    let (found, deltas) = spans(&layout, &slots(&layout, 0, &keys));
    assert_eq!(pairs(&found), [(-19, 2), (16, 5)]);
    assert_eq!(deltas, [1, 0, 0, 1, -1, 1, -1]);

    let layout = NativeLayout::new(1, (-16f64).exp2(), 1024.0);
    let keys = [(-31, 1), (-26, 1), (-1, 1), (0, 1), (1, 1), (2, 1)];
    let (found, deltas) = spans(&layout, &slots(&layout, 1, &keys));
    assert_eq!(pairs(&found), [(-31, 1), (4, 1), (24, 4)]);
    assert_eq!(deltas, [1, 0, 0, 0, 0, 0]);
}

#[test]
fn an_empty_native_histogram_has_one_empty_span() {
    let layout = NativeLayout::new(3, (-20f64).exp2(), 1024.0);
    let (found, deltas) = spans(&layout, &vec![0; layout.slots()]);
    assert_eq!(pairs(&found), [(0, 0)]);
    assert!(deltas.is_empty());
    // Only the zero bucket: the same.
    let mut only_zero = vec![0; layout.slots()];
    only_zero[0] = 4;
    assert_eq!(pairs(&spans_of(&layout, &only_zero)), [(0, 0)]);
}

fn spans_of(layout: &NativeLayout, slots: &[u64]) -> Vec<proto::BucketSpan> {
    spans(layout, slots).0
}

// Bytes as client_golang's proto package writes them: a family decoded by prost from
// bytes we wrote is the family we meant (the wire format itself is checked against the
// real Prometheus in tests/tests/native_histograms.rs).
#[test]
fn length_delimited_families_decode() {
    let family = proto::MetricFamily {
        name: Some("h".to_owned()),
        help: Some("help".to_owned()),
        r#type: Some(proto::MetricType::Histogram as i32),
        metric: vec![proto::Metric {
            histogram: Some(proto::Histogram {
                sample_count: Some(2),
                schema: Some(3),
                positive_span: vec![proto::BucketSpan {
                    offset: Some(-159),
                    length: Some(1),
                }],
                positive_delta: vec![-2],
                ..proto::Histogram::default()
            }),
            ..proto::Metric::default()
        }],
    };
    let mut bytes = Vec::new();
    family.encode_length_delimited(&mut bytes).unwrap();
    family.encode_length_delimited(&mut bytes).unwrap();
    let mut rest = bytes.as_slice();
    for _ in 0..2 {
        assert_eq!(
            proto::MetricFamily::decode_length_delimited(&mut rest).unwrap(),
            family
        );
    }
    assert!(rest.is_empty());
}

// The families of a registry with every kind the prometheus crate makes, gathered.
fn gathered() -> Vec<prometheus::proto::MetricFamily> {
    use prometheus::{CounterVec, Gauge, HistogramOpts, HistogramVec, Opts, Registry};
    let registry = Registry::new();
    let histograms = HistogramVec::new(
        HistogramOpts::new("h_seconds", "A histogram.").buckets(vec![0.1, 1.0]),
        &["route"],
    )
    .unwrap();
    let counters = CounterVec::new(Opts::new("c_total", "A counter."), &["a", "b"]).unwrap();
    let gauge = Gauge::new("g", "A gauge \"quoted\".").unwrap();
    registry.register(Box::new(histograms.clone())).unwrap();
    registry.register(Box::new(counters.clone())).unwrap();
    registry.register(Box::new(gauge.clone())).unwrap();
    histograms.with_label_values(&["/a"]).observe(0.05);
    histograms.with_label_values(&["/b/longer"]).observe(5.0);
    counters.with_label_values(&["x", "y"]).inc_by(3.0);
    counters
        .with_label_values(&["a much longer value", ""])
        .inc();
    gauge.set(-1.5);
    registry.gather()
}

// One `Metric` message filled again for every metric, and each family written as its
// header then its metrics: the same bytes as prost writes for whole messages of fresh
// metrics (nothing of one metric left in the next, across kinds too).
#[test]
fn a_reused_message_writes_what_whole_messages_do() {
    use crate::exposition::exemplars::Exemplars;
    use crate::exposition::native::Natives;

    let families = gathered();
    let (exemplars, natives) = (Exemplars::default(), Natives::default());
    let written = super::encode(&families, &exemplars, &natives).unwrap();
    let mut whole = Vec::new();
    for family in &families {
        let mut message = super::header(family);
        for metric in family.get_metric() {
            let mut fresh = proto::Metric::default();
            super::fill(
                &mut fresh,
                family.name(),
                family.get_field_type(),
                metric,
                &exemplars,
                &natives,
            );
            message.metric.push(fresh);
        }
        message.encode_length_delimited(&mut whole).unwrap();
    }
    assert_eq!(written, whole);
    // And what they say: three families, the counters' values, the histogram's buckets.
    let mut rest = written.as_slice();
    let decoded: Vec<proto::MetricFamily> = (0..3)
        .map(|_| proto::MetricFamily::decode_length_delimited(&mut rest).unwrap())
        .collect();
    assert!(rest.is_empty());
    let names: Vec<&str> = decoded.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["c_total", "g", "h_seconds"]);
    let counts: Vec<f64> = decoded[0]
        .metric
        .iter()
        .map(|m| m.counter.as_ref().unwrap().value())
        .collect();
    assert_eq!(counts, [1.0, 3.0]);
    assert!(
        decoded[0]
            .metric
            .iter()
            .all(|m| m.histogram.is_none() && m.gauge.is_none())
    );
    let slow = decoded[2].metric[1].histogram.as_ref().unwrap();
    let buckets: Vec<(f64, u64)> = slow
        .bucket
        .iter()
        .map(|b| (b.upper_bound(), b.cumulative_count()))
        .collect();
    assert_eq!(
        (slow.sample_count(), buckets),
        (1, vec![(0.1, 0), (1.0, 0)])
    );
    assert_eq!(decoded[1].help(), "A gauge \"quoted\".");
}

// The OpenTelemetry naming's duration histogram carries the native buckets of each
// request series (a sibling per status), beside the calls' in the Prometheus family.
#[cfg(any(feature = "actix", feature = "axum"))]
#[test]
fn the_opentelemetry_duration_has_each_series_native_buckets() {
    use std::collections::HashMap;
    use std::sync::Arc;

    use crate::config::OTEL_BUCKETS;
    use crate::exposition::collector::HttpCollector;
    use crate::exposition::exemplars::Exemplars;
    use crate::exposition::native::Natives;
    use crate::families::otel::{Variant, Version};
    use crate::families::{Builder, HttpFamilies, OtelFamilies};
    use crate::storage::HttpLabels;

    let builder = Builder::new(None, HashMap::new());
    let otel = OtelFamilies::new(&builder, &OTEL_BUCKETS, &[]).unwrap();
    let families = HttpFamilies::new(&builder, None, &[])
        .unwrap()
        .with_native(NativeLayout::new(3, (-20f64).exp2(), 1024.0))
        .with_otel(otel);
    let families: &'static Arc<HttpFamilies> = Box::leak(Box::new(Arc::new(families)));
    let registry = prometheus::Registry::new();
    registry
        .register(Box::new(HttpCollector::new(Arc::clone(families))))
        .unwrap();
    let limits: &'static [u64] = &families.otel.as_ref().unwrap().limits;
    let series = families.new_labelled(
        HttpLabels {
            handler: "h",
            method: "GET",
            route: "/native",
        },
        &[],
    );
    let variant = Variant::new(false, Version::Http11);
    let flying = series.sibling(variant.in_flight(), || limits);
    // 200: two requests of 1 s (native key 0); 503: one of 2 s (key 8).
    for (status, nanos) in [
        (200, 1_000_000_000),
        (200, 1_000_000_000),
        (503, 2_000_000_000),
    ] {
        flying.enter();
        series
            .sibling(variant.counted(status), || limits)
            .record_nanos(status, nanos, flying);
    }
    let gathered = registry.gather();
    let written = super::encode(&gathered, &Exemplars::default(), &Natives::of(families)).unwrap();
    let mut rest = written.as_slice();
    let mut found = Vec::new();
    while !rest.is_empty() {
        let family = proto::MetricFamily::decode_length_delimited(&mut rest).unwrap();
        if family.name() != "http_server_request_duration_seconds" {
            continue;
        }
        for metric in &family.metric {
            let status = metric
                .label
                .iter()
                .find(|pair| pair.name() == "http_response_status_code")
                .map(|pair| pair.value().to_owned())
                .unwrap();
            let histogram = metric.histogram.as_ref().unwrap();
            found.push((
                status,
                histogram.sample_count(),
                histogram.schema,
                pairs(&histogram.positive_span),
            ));
        }
    }
    found.sort();
    assert_eq!(
        found,
        [
            ("200".to_owned(), 2, Some(3), vec![(0, 1)]),
            ("503".to_owned(), 1, Some(3), vec![(8, 1)]),
        ]
    );
}
