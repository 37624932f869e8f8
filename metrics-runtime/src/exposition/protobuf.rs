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
use super::model;
use super::native::Natives;
use super::proto;
use crate::storage::{Exemplar, NativeLayout};
use prometheus::proto::{Metric, MetricFamily, MetricType};

/// The `Content-Type` of the protobuf exposition.
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// `families` (as a registry gathers them), each a length-delimited message.
///
/// A family's metrics are written one by one as its repeated field `metric` (4), after
/// its other fields: the bytes prost writes for the whole message, in that order too,
/// without holding every metric's message at once. One `Metric` message is filled again
/// for each metric, its strings and lists reused, so that a scrape allocates about what
/// the gathered families hold already.
pub(crate) fn encode(
    families: &[MetricFamily],
    exemplars: &Exemplars,
    natives: &Natives,
) -> Result<Vec<u8>, prometheus::Error> {
    // Field 4 (`metric`), length-delimited: (4 << 3) | 2.
    const METRIC_KEY: u8 = 0x22;
    let failed = |err: prost::EncodeError| prometheus::Error::Msg(err.to_string());
    let mut out = Vec::with_capacity(16 * 1024);
    let mut metrics = Vec::new();
    let mut message = proto::Metric::default();
    for family in families.iter().filter(|family| model::readable(family)) {
        let name = family.name();
        // What the text formats refuse too.
        if family.get_metric().is_empty() || name.is_empty() {
            return Err(prometheus::Error::Msg(format!(
                "a metric family without metrics or without a name: {name:?}"
            )));
        }
        metrics.clear();
        for metric in family.get_metric() {
            fill(
                &mut message,
                name,
                family.get_field_type(),
                metric,
                exemplars,
                natives,
            );
            metrics.push(METRIC_KEY);
            prost::encode_length_delimiter(message.encoded_len(), &mut metrics).map_err(failed)?;
            message.encode(&mut metrics).map_err(failed)?;
        }
        let header = header(family);
        prost::encode_length_delimiter(header.encoded_len() + metrics.len(), &mut out)
            .map_err(failed)?;
        header.encode(&mut out).map_err(failed)?;
        out.extend_from_slice(&metrics);
    }
    Ok(out)
}

// A family's message but its metrics.
fn header(family: &MetricFamily) -> proto::MetricFamily {
    proto::MetricFamily {
        name: Some(family.name().to_owned()),
        help: Some(family.help().to_owned()),
        r#type: Some(kind(family.get_field_type()) as i32),
        metric: Vec::new(),
    }
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

// `out` made the message of `metric`, in the family `family` of type `kind`: what it
// held is overwritten, its allocations kept.
fn fill(
    out: &mut proto::Metric,
    family: &str,
    kind: MetricType,
    metric: &Metric,
    exemplars: &Exemplars,
    natives: &Natives,
) {
    let labels = metric.get_label();
    out.label.truncate(labels.len());
    out.label
        .resize_with(labels.len(), proto::LabelPair::default);
    for (pair, from) in out.label.iter_mut().zip(labels) {
        set(&mut pair.name, from.name());
        set(&mut pair.value, from.value());
    }
    out.timestamp_ms = Some(metric.timestamp_ms()).filter(|&ms| ms != 0);
    out.counter = None;
    out.gauge = None;
    out.untyped = None;
    out.summary = None;
    let histogram = out.histogram.take();
    match kind {
        MetricType::COUNTER => {
            out.counter = Some(proto::Counter {
                value: Some(model::counter(metric)),
                exemplar: None,
            });
        }
        MetricType::GAUGE => {
            out.gauge = Some(proto::Gauge {
                value: Some(model::gauge(metric)),
            });
        }
        MetricType::UNTYPED => {
            out.untyped = Some(proto::Untyped {
                value: model::untyped(metric),
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
            let mut into = histogram.unwrap_or_default();
            let exemplars = exemplars.buckets(family, metric);
            fill_histogram(
                &mut into,
                metric,
                exemplars,
                natives.of_metric(family, metric),
            );
            out.histogram = Some(into);
        }
    }
}

// A string field set to `value`, its allocation kept.
fn set(field: &mut Option<String>, value: &str) {
    let field = field.get_or_insert_with(String::new);
    field.clear();
    field.push_str(value);
}

fn label(name: &str, value: &str) -> proto::LabelPair {
    proto::LabelPair {
        name: Some(name.to_owned()),
        value: Some(value.to_owned()),
    }
}

// `out` made the histogram of `metric`: its classic buckets (an explicit `+Inf` one only to
// carry its exemplar, as client_golang does) and, when it keeps them, its native buckets.
fn fill_histogram(
    out: &mut proto::Histogram,
    metric: &Metric,
    exemplars: &[Option<Exemplar>],
    native: Option<(&NativeLayout, &[u64])>,
) {
    let classic = metric.get_histogram();
    let exemplar = |i: usize| exemplars.get(i).copied().flatten().map(exemplar);
    out.bucket.clear();
    out.bucket.extend(
        classic
            .get_bucket()
            .iter()
            .enumerate()
            .map(|(i, b)| proto::Bucket {
                cumulative_count: Some(b.cumulative_count()),
                upper_bound: Some(b.upper_bound()),
                exemplar: exemplar(i),
            }),
    );
    out.sample_sum = Some(classic.get_sample_sum());
    let mut count = classic.get_sample_count();
    out.positive_span.clear();
    out.positive_delta.clear();
    (out.schema, out.zero_threshold, out.zero_count) = (None, None, None);
    if let Some((layout, slots)) = native {
        // Read after the classic buckets, so at least as many: the count is theirs, as
        // Prometheus checks a native histogram's count against its buckets.
        count = slots.iter().fold(0u64, |sum, &n| sum.wrapping_add(n));
        spans_into(
            layout,
            slots,
            &mut out.positive_span,
            &mut out.positive_delta,
        );
        out.schema = Some(i32::from(layout.schema()));
        out.zero_threshold = Some(layout.zero_threshold());
        out.zero_count = Some(slots.first().copied().unwrap_or(0));
    }
    let inf = out.bucket.len();
    if out
        .bucket
        .last()
        .is_none_or(|b| b.upper_bound() != f64::INFINITY)
        && let Some(exemplar) = exemplar(inf)
    {
        out.bucket.push(proto::Bucket {
            cumulative_count: Some(count),
            upper_bound: Some(f64::INFINITY),
            exemplar: Some(exemplar),
        });
    }
    out.sample_count = Some(count);
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

// `spans_into`, in lists of their own.
#[cfg(test)]
fn spans(layout: &NativeLayout, slots: &[u64]) -> (Vec<proto::BucketSpan>, Vec<i64>) {
    let (mut spans, mut deltas) = (Vec::new(), Vec::new());
    spans_into(layout, slots, &mut spans, &mut deltas);
    (spans, deltas)
}

// Into `spans` and `deltas` (both empty), those of the native buckets in `slots` (the
// zero bucket first), as client_golang writes them: a gap of one or two empty buckets
// stays inside a span, as zero counts; a longer one starts a new span. With no bucket,
// one empty span, so that an empty histogram still reads as a native one.
fn spans_into(
    layout: &NativeLayout,
    slots: &[u64],
    spans: &mut Vec<proto::BucketSpan>,
    deltas: &mut Vec<i64>,
) {
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
}

#[cfg(test)]
mod tests;
