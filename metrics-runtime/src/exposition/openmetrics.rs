//! The OpenMetrics 1.0.0 text format, for every family a registry gathers: ours, the
//! user's own prometheus-crate metrics and the process collector.
//!
//! Written so that Prometheus stores the same series whichever format it scraped:
//! sample names, label values (`le` and `quantile` included) and their order are those
//! of the text format 0.0.4 (the prometheus crate's `TextEncoder`). What differs is
//! OpenMetrics' own: a counter family is named without its `_total` on the `TYPE` and
//! `HELP` lines (its samples keep it); a counter whose name does not end in `_total` is
//! exposed as `unknown`, so that its samples keep the name they have in 0.0.4 (an
//! OpenMetrics counter's samples must end in `_total`, and renaming them would change
//! what Prometheus stores); `HELP` escapes `"` too; infinities are `+Inf`/`-Inf`;
//! timestamps are in seconds; the exposition ends with `# EOF`.

use std::fmt::Write;

use prometheus::proto::{Metric, MetricFamily, MetricType};

use super::Units;
use super::exemplars::Exemplars;
use super::model;
use super::text::{escape_to, label_set_to, labels_to};
use crate::families::bound_label;
use crate::storage::Exemplar;

/// The `Content-Type` of [`render_openmetrics`](crate::render_openmetrics)'s output.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The family that writes its unit (`# UNIT`): the OpenTelemetry naming's duration.
const OTEL_DURATION: &str = "http_server_request_duration_seconds";

/// `families` (as a registry gathers them) in the OpenMetrics text format, with the
/// `exemplars` of their histograms' buckets and the `units` of families that have one.
pub(crate) fn encode(
    families: &[MetricFamily],
    exemplars: &Exemplars,
    units: &Units,
) -> Result<String, prometheus::Error> {
    let mut out = String::with_capacity(16 * 1024);
    for family in families.iter().filter(|family| model::readable(family)) {
        family_to(&mut out, family, exemplars, units)?;
    }
    out.push_str("# EOF\n");
    Ok(out)
}

fn family_to(
    out: &mut String,
    family: &MetricFamily,
    exemplars: &Exemplars,
    units: &Units,
) -> Result<(), prometheus::Error> {
    let name = family.name();
    // What the text format refuses too.
    if family.get_metric().is_empty() || name.is_empty() {
        return Err(prometheus::Error::Msg(format!(
            "a metric family without metrics or without a name: {name:?}"
        )));
    }
    let kind = family.get_field_type();
    // The family's name and type on the TYPE and HELP lines.
    let (family_name, type_name) = match kind {
        MetricType::COUNTER => match name.strip_suffix("_total") {
            Some(stem) if !stem.is_empty() => (stem, "counter"),
            _ => (name, "unknown"),
        },
        MetricType::GAUGE => (name, "gauge"),
        MetricType::HISTOGRAM => (name, "histogram"),
        MetricType::SUMMARY => (name, "summary"),
        MetricType::UNTYPED => (name, "unknown"),
    };
    if !family.help().is_empty() {
        out.push_str("# HELP ");
        out.push_str(family_name);
        out.push(' ');
        escape_to(out, family.help(), true);
        out.push('\n');
    }
    let _ = writeln!(out, "# TYPE {family_name} {type_name}");
    // The OpenTelemetry naming's duration (its unit is part of the conventions; a
    // namespace may prefix it), and the units described for the `metrics` facade's.
    // OpenMetrics requires a family's name to end with `_` and its unit (Prometheus
    // refuses the scrape otherwise): a unit the name does not end with is left out.
    let unit = units.of(name).or_else(|| {
        (kind == MetricType::HISTOGRAM && name.ends_with(OTEL_DURATION)).then_some("seconds")
    });
    let suffixed = |unit: &str| {
        family_name
            .strip_suffix(unit)
            .is_some_and(|stem| stem.len() > 1 && stem.ends_with('_'))
    };
    if let Some(unit) = unit.filter(|unit| suffixed(unit)) {
        let _ = writeln!(out, "# UNIT {family_name} {unit}");
    }
    // Each metric's labels, written once (`{name="value",…`) and copied into each of its
    // lines: a histogram writes them on every bucket.
    let mut labels = String::new();
    for metric in family.get_metric() {
        labels_to(&mut labels, metric);
        let metric = &Line {
            labels: &labels,
            metric,
        };
        match kind {
            MetricType::COUNTER => {
                sample(out, name, "", metric, None, model::counter(metric.metric));
            }
            MetricType::GAUGE => sample(out, name, "", metric, None, model::gauge(metric.metric)),
            // Only a collector of the user's own makes one; `encode` keeps it only where
            // its values can be read.
            MetricType::UNTYPED => sample(
                out,
                name,
                "",
                metric,
                None,
                model::untyped(metric.metric).unwrap_or(f64::NAN),
            ),
            MetricType::HISTOGRAM => {
                let histogram = metric.metric.get_histogram();
                let count = histogram.get_sample_count();
                let exemplars = exemplars.buckets(name, metric.metric);
                let exemplar = |i: usize| exemplars.get(i).copied().flatten();
                let mut inf_seen = false;
                let buckets = histogram.get_bucket();
                for (i, bucket) in buckets.iter().enumerate() {
                    let bound = bucket.upper_bound();
                    inf_seen |= bound == f64::INFINITY;
                    let le = bound_label(bound);
                    let cumulative = bucket.cumulative_count() as f64;
                    sample_line(out, name, "_bucket", metric, Some(("le", &le)), cumulative);
                    exemplar_to(out, exemplar(i));
                }
                if !inf_seen {
                    let le = Some(("le", "+Inf"));
                    sample_line(out, name, "_bucket", metric, le, count as f64);
                    exemplar_to(out, exemplar(buckets.len()));
                }
                sample(out, name, "_sum", metric, None, histogram.get_sample_sum());
                sample(out, name, "_count", metric, None, count as f64);
            }
            MetricType::SUMMARY => {
                let summary = metric.metric.get_summary();
                for quantile in summary.get_quantile() {
                    let q = quantile.quantile().to_string();
                    sample(
                        out,
                        name,
                        "",
                        metric,
                        Some(("quantile", &q)),
                        quantile.value(),
                    );
                }
                sample(out, name, "_sum", metric, None, summary.sample_sum());
                sample(
                    out,
                    name,
                    "_count",
                    metric,
                    None,
                    summary.sample_count() as f64,
                );
            }
        }
    }
    Ok(())
}

// One metric as its lines write it: its labels rendered once (see `labels_to`).
struct Line<'a> {
    labels: &'a str,
    metric: &'a Metric,
}

// One sample line, `name{labels} value [timestamp]`, with its newline.
fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    metric: &Line<'_>,
    extra: Option<(&str, &str)>,
    value: f64,
) {
    sample_line(out, name, suffix, metric, extra, value);
    out.push('\n');
}

// ` # {trace_id="…",span_id="…"} value timestamp` and the newline: the exemplar of the
// bucket just written (its value in seconds, its timestamp in seconds with the
// milliseconds), or only the newline. Ids are hex digits, so the labels need no escaping
// and stay far below the 128-character limit (`trace_id` 32 + `span_id` 16 + names).
fn exemplar_to(out: &mut String, exemplar: Option<Exemplar>) {
    if let Some(Exemplar {
        trace,
        nanos,
        unix_millis,
    }) = exemplar
    {
        let _ = write!(
            out,
            " # {{trace_id=\"{}\",span_id=\"{}\"}} ",
            trace.trace_id(),
            trace.span_id()
        );
        number_to(out, nanos as f64 / 1e9);
        let _ = write!(out, " {}.{:03}", unix_millis / 1000, unix_millis % 1000);
    }
    out.push('\n');
}

// A sample without its newline: `name{labels} value [timestamp]`, the labels in the
// metric's order with `extra` (`le`, `quantile`) last, as the text format writes them.
fn sample_line(
    out: &mut String,
    name: &str,
    suffix: &str,
    metric: &Line<'_>,
    extra: Option<(&str, &str)>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    label_set_to(out, metric.labels, extra);
    out.push(' ');
    number_to(out, value);
    let timestamp_ms = metric.metric.timestamp_ms();
    if timestamp_ms != 0 {
        // Seconds, exactly: whole seconds and three decimals of milliseconds.
        let sign = if timestamp_ms < 0 { "-" } else { "" };
        let ms = timestamp_ms.unsigned_abs();
        let _ = write!(out, " {sign}{}.{:03}", ms / 1000, ms % 1000);
    }
}

// A bucket's `le`, as the text format writes it (so that Prometheus stores the same
// series from either format).
fn number_to(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        let _ = write!(out, "{value}");
    }
}

#[cfg(test)]
mod tests;
