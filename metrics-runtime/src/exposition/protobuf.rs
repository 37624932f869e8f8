//! The protobuf exposition (feature `native-histograms`): every family a registry
//! gathers as length-delimited `io.prometheus.client.MetricFamily` messages (see
//! `proto.rs`), the duration histogram with its native buckets beside the classic ones,
//! and the exemplars of its buckets.
//!
//! Sample names and label values are those of the text formats: the prometheus crate's
//! gathered families carry them already, so Prometheus stores the same series from any
//! format (but for a native histogram, which it stores as one series when its
//! `native-histograms` feature is on).

use prost::Message;

use super::exemplars::Exemplars;
use super::native::Natives;
use super::proto;
use crate::storage::{Exemplar, NativeLayout};
use prometheus::proto::{Metric, MetricFamily, MetricType};

/// The `Content-Type` of the protobuf exposition.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// `families` (as a registry gathers them), each a length-delimited message.
pub(crate) fn encode(
    families: &[MetricFamily],
    exemplars: &Exemplars,
    natives: &Natives,
) -> Result<Vec<u8>, prometheus::Error> {
    let mut out = Vec::with_capacity(16 * 1024);
    for family in families {
        let name = family.name();
        // What the text formats refuse too.
        if family.get_metric().is_empty() || name.is_empty() {
            return Err(prometheus::Error::Msg(format!(
                "a metric family without metrics or without a name: {name:?}"
            )));
        }
        let message = proto::MetricFamily {
            name: Some(name.to_owned()),
            help: Some(family.help().to_owned()),
            r#type: Some(kind(family.get_field_type()) as i32),
            metric: family
                .get_metric()
                .iter()
                .map(|metric| convert(name, family.get_field_type(), metric, exemplars, natives))
                .collect(),
        };
        message
            .encode_length_delimited(&mut out)
            .map_err(|err| prometheus::Error::Msg(err.to_string()))?;
    }
    Ok(out)
}

fn kind(kind: MetricType) -> proto::MetricType {
    match kind {
        MetricType::COUNTER => proto::MetricType::Counter,
        MetricType::GAUGE => proto::MetricType::Gauge,
        MetricType::SUMMARY => proto::MetricType::Summary,
        MetricType::UNTYPED => proto::MetricType::Untyped,
        MetricType::HISTOGRAM => proto::MetricType::Histogram,
    }
}

fn convert(
    family: &str,
    kind: MetricType,
    metric: &Metric,
    exemplars: &Exemplars,
    natives: &Natives,
) -> proto::Metric {
    let mut out = proto::Metric {
        label: metric
            .get_label()
            .iter()
            .map(|pair| label(pair.name(), pair.value()))
            .collect(),
        timestamp_ms: Some(metric.timestamp_ms()).filter(|&ms| ms != 0),
        ..proto::Metric::default()
    };
    match kind {
        MetricType::COUNTER => {
            out.counter = Some(proto::Counter {
                value: Some(metric.get_counter().get_value()),
                exemplar: None,
            });
        }
        MetricType::GAUGE => {
            out.gauge = Some(proto::Gauge {
                value: Some(metric.get_gauge().get_value()),
            });
        }
        #[allow(deprecated)]
        MetricType::UNTYPED => {
            out.untyped = Some(proto::Untyped {
                value: Some(metric.get_untyped().get_value()),
            });
        }
        MetricType::SUMMARY => {
            let summary = metric.get_summary();
            out.summary = Some(proto::Summary {
                sample_count: Some(summary.sample_count()),
                sample_sum: Some(summary.sample_sum()),
                quantile: summary
                    .get_quantile()
                    .iter()
                    .map(|q| proto::Quantile {
                        quantile: Some(q.quantile()),
                        value: Some(q.value()),
                    })
                    .collect(),
            });
        }
        MetricType::HISTOGRAM => {
            let exemplars = exemplars.buckets(family, metric);
            let native = natives.of_metric(family, metric);
            out.histogram = Some(histogram(metric, exemplars, native));
        }
    }
    out
}

fn label(name: &str, value: &str) -> proto::LabelPair {
    proto::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    }
}

// A histogram's classic buckets (an explicit `+Inf` one only to carry its exemplar, as
// client_golang does) and, when it keeps them, its native buckets.
fn histogram(
    metric: &Metric,
    exemplars: &[Option<Exemplar>],
    native: Option<(&NativeLayout, &[u64])>,
) -> proto::Histogram {
    let classic = metric.get_histogram();
    let exemplar = |i: usize| exemplars.get(i).copied().flatten().map(exemplar);
    let mut bucket: Vec<proto::Bucket> = classic
        .get_bucket()
        .iter()
        .enumerate()
        .map(|(i, b)| proto::Bucket {
            cumulative_count: Some(b.cumulative_count()),
            upper_bound: Some(b.upper_bound()),
            exemplar: exemplar(i),
        })
        .collect();
    let mut count = classic.get_sample_count();
    let mut out = proto::Histogram {
        sample_sum: Some(classic.get_sample_sum()),
        ..proto::Histogram::default()
    };
    if let Some((layout, slots)) = native {
        // Read after the classic buckets, so at least as many: the count is theirs, as
        // Prometheus checks a native histogram's count against its buckets.
        count = slots.iter().fold(0u64, |sum, &n| sum.wrapping_add(n));
        let (spans, deltas) = spans(layout, slots);
        out.schema = Some(i32::from(layout.schema()));
        out.zero_threshold = Some(layout.zero_threshold());
        out.zero_count = Some(slots.first().copied().unwrap_or(0));
        out.positive_span = spans;
        out.positive_delta = deltas;
    }
    let inf = bucket.len();
    if bucket
        .last()
        .is_none_or(|b| b.upper_bound() != f64::INFINITY)
        && let Some(exemplar) = exemplar(inf)
    {
        bucket.push(proto::Bucket {
            cumulative_count: Some(count),
            upper_bound: Some(f64::INFINITY),
            exemplar: Some(exemplar),
        });
    }
    out.sample_count = Some(count);
    out.bucket = bucket;
    out
}

fn exemplar(exemplar: Exemplar) -> proto::Exemplar {
    let millis = exemplar.unix_millis;
    proto::Exemplar {
        label: vec![
            label("trace_id", &exemplar.trace.trace_id().to_string()),
            label("span_id", &exemplar.trace.span_id().to_string()),
        ],
        value: Some(exemplar.nanos as f64 / 1e9),
        timestamp: Some(proto::Timestamp {
            seconds: (millis / 1000) as i64,
            nanos: (millis % 1000 * 1_000_000) as i32,
        }),
    }
}

// The spans and deltas of the native buckets in `slots` (the zero bucket first), as
// client_golang writes them: a gap of one or two empty buckets stays inside a span, as
// zero counts; a longer one starts a new span. With no bucket, one empty span, so that
// an empty histogram still reads as a native one.
fn spans(layout: &NativeLayout, slots: &[u64]) -> (Vec<proto::BucketSpan>, Vec<i64>) {
    let mut spans: Vec<proto::BucketSpan> = Vec::new();
    let mut deltas = Vec::new();
    let (mut previous, mut next_key) = (0i64, 0i32);
    for (slot, &count) in slots.iter().enumerate().skip(1) {
        if count == 0 {
            continue;
        }
        let key = layout.key(slot);
        let gap = key - next_key;
        match spans.last_mut() {
            Some(span) if gap <= 2 => {
                for _ in 0..gap {
                    deltas.push(-previous);
                    previous = 0;
                }
                *span.length.get_or_insert(0) += gap as u32;
            }
            _ => spans.push(proto::BucketSpan {
                offset: Some(gap),
                length: Some(0),
            }),
        }
        if let Some(span) = spans.last_mut() {
            *span.length.get_or_insert(0) += 1;
        }
        let count = count as i64;
        deltas.push(count - previous);
        previous = count;
        next_key = key + 1;
    }
    if spans.is_empty() {
        spans.push(proto::BucketSpan {
            offset: Some(0),
            length: Some(0),
        });
    }
    (spans, deltas)
}

#[cfg(test)]
mod tests;
