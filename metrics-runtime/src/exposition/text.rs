//! The Prometheus text exposition format 0.0.4: byte for byte what the prometheus crate's
//! `TextEncoder` writes for the same families (the tests compare them), with each metric's
//! labels escaped and written once and copied into each of its lines (a histogram's
//! buckets repeat them all), and numbers written in place, not through a `String` each;
//! and an untyped family (only a hand-written collector makes one) written as `untyped`,
//! where `TextEncoder` panics.

use std::fmt::Write;

use prometheus::proto::{Metric, MetricFamily, MetricType};

use super::model;

/// The `Content-Type` of [`render`](crate::render)'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `families` (as a registry gathers them) in the text format.
pub(crate) fn encode(families: &[MetricFamily]) -> Result<String, prometheus::Error> {
    let mut out = String::with_capacity(16 * 1024);
    let mut labels = String::new();
    for family in families {
        let name = family.name();
        // What `TextEncoder` refuses too.
        if family.get_metric().is_empty() || name.is_empty() {
            return Err(prometheus::Error::Msg(format!(
                "a metric family without metrics or without a name: {name:?}"
            )));
        }
        let kind = family.get_field_type();
        if !family.help().is_empty() {
            out.push_str("# HELP ");
            out.push_str(name);
            out.push(' ');
            escape_to(&mut out, family.help(), false);
            out.push('\n');
        }
        let type_name = match kind {
            MetricType::COUNTER => "counter",
            MetricType::GAUGE => "gauge",
            MetricType::HISTOGRAM => "histogram",
            MetricType::SUMMARY => "summary",
            MetricType::UNTYPED => "untyped",
        };
        let _ = writeln!(out, "# TYPE {name} {type_name}");
        for metric in family.get_metric() {
            labels_to(&mut labels, metric);
            let line = Line {
                name,
                labels: &labels,
                timestamp_ms: metric.timestamp_ms(),
            };
            match kind {
                MetricType::COUNTER => line.write(&mut out, "", None, model::counter(metric)),
                MetricType::GAUGE => line.write(&mut out, "", None, model::gauge(metric)),
                MetricType::UNTYPED => line.write(
                    &mut out,
                    "",
                    None,
                    model::untyped(metric).unwrap_or(f64::NAN),
                ),
                MetricType::HISTOGRAM => {
                    let histogram = metric.get_histogram();
                    let count = histogram.get_sample_count();
                    let mut inf_seen = false;
                    let mut bound = String::new();
                    for bucket in histogram.get_bucket() {
                        let upper = bucket.upper_bound();
                        bound.clear();
                        let _ = write!(bound, "{upper}");
                        let cumulative = bucket.cumulative_count() as f64;
                        line.write(&mut out, "_bucket", Some(("le", &bound)), cumulative);
                        inf_seen |= upper.is_sign_positive() && upper.is_infinite();
                    }
                    if !inf_seen {
                        line.write(&mut out, "_bucket", Some(("le", "+Inf")), count as f64);
                    }
                    line.write(&mut out, "_sum", None, histogram.get_sample_sum());
                    line.write(&mut out, "_count", None, count as f64);
                }
                MetricType::SUMMARY => {
                    let summary = metric.get_summary();
                    let mut q = String::new();
                    for quantile in summary.get_quantile() {
                        q.clear();
                        let _ = write!(q, "{}", quantile.quantile());
                        line.write(&mut out, "", Some(("quantile", &q)), quantile.value());
                    }
                    line.write(&mut out, "_sum", None, summary.sample_sum());
                    line.write(&mut out, "_count", None, summary.sample_count() as f64);
                }
            }
        }
    }
    Ok(out)
}

// One metric as its lines write it: its name, its labels rendered once (`labels_to`).
struct Line<'a> {
    name: &'a str,
    labels: &'a str,
    timestamp_ms: i64,
}

impl Line<'_> {
    // `name{labels} value [timestamp]` and the newline, `extra` (`le`, `quantile`) after
    // the metric's labels.
    fn write(&self, out: &mut String, suffix: &str, extra: Option<(&str, &str)>, value: f64) {
        out.push_str(self.name);
        out.push_str(suffix);
        label_set_to(out, self.labels, extra);
        let _ = write!(out, " {value}");
        if self.timestamp_ms != 0 {
            let _ = write!(out, " {}", self.timestamp_ms);
        }
        out.push('\n');
    }
}

/// `{name="value",…` of `metric`'s labels (no closing brace), escaped as both text formats
/// escape label values; empty without any.
pub(super) fn labels_to(out: &mut String, metric: &Metric) {
    out.clear();
    let mut separator = '{';
    for pair in metric.get_label() {
        out.push(separator);
        out.push_str(pair.name());
        out.push_str("=\"");
        escape_to(out, pair.value(), true);
        out.push('"');
        separator = ',';
    }
}

/// A sample's label set as both text formats write it: `labels` (as [`labels_to`] wrote
/// them), then `extra` (`le`, `quantile`), then the closing brace; nothing without either.
pub(super) fn label_set_to(out: &mut String, labels: &str, extra: Option<(&str, &str)>) {
    out.push_str(labels);
    if let Some((label, value)) = extra {
        out.push(if labels.is_empty() { '{' } else { ',' });
        out.push_str(label);
        out.push_str("=\"");
        escape_to(out, value, true);
        out.push('"');
    }
    if !labels.is_empty() || extra.is_some() {
        out.push('}');
    }
}

/// Escapes `\` and line feeds, and `"` with `quotes`: label values in both text formats
/// and OpenMetrics' `HELP`, where the text format 0.0.4 leaves `"` as it is in `HELP`.
pub(super) fn escape_to(out: &mut String, text: &str, quotes: bool) {
    let special = |c: char| c == '\\' || c == '\n' || (quotes && c == '"');
    if !text.contains(special) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use prometheus::core::Collector;
    use prometheus::{
        CounterVec, Encoder, Gauge, HistogramOpts, HistogramVec, Opts, Registry, TextEncoder,
    };

    // Every kind the prometheus crate encodes, with values and labels that need escaping,
    // constant labels, special numbers, and a family without labels.
    fn registry() -> Registry {
        let registry = Registry::new();
        let histograms = HistogramVec::new(
            HistogramOpts::new("h_seconds", "A histogram \\ with\nlines \"quoted\".")
                .const_label("zone", "eu \"1\"")
                .buckets(vec![0.005, 0.1, 1.0, 2.5, 1e9]),
            &["route", "status"],
        )
        .unwrap();
        let counters = CounterVec::new(Opts::new("c_total", "A counter."), &["a", "b"]).unwrap();
        let gauge = Gauge::new("g", "A gauge.").unwrap();
        let plain = prometheus::Counter::new("plain", "No labels.").unwrap();
        registry.register(Box::new(histograms.clone())).unwrap();
        registry.register(Box::new(counters.clone())).unwrap();
        registry.register(Box::new(gauge.clone())).unwrap();
        registry.register(Box::new(plain.clone())).unwrap();
        histograms
            .with_label_values(&["/a", "200"])
            .observe(0.000_123);
        histograms
            .with_label_values(&["/b/\\back\nslash\"", ""])
            .observe(5.0);
        histograms.with_label_values(&["/c", "500"]).observe(1e12);
        counters.with_label_values(&["x", "y"]).inc_by(3.5);
        counters
            .with_label_values(&["a much longer value", ""])
            .inc();
        counters.with_label_values(&["nan", "z"]).inc_by(1e21);
        gauge.set(f64::NEG_INFINITY);
        plain.inc_by(0.1 + 0.2);
        registry
    }

    #[test]
    fn the_same_bytes_as_the_prometheus_crates_text_encoder() {
        let mut families = registry().gather();
        // A summary and timestamps, which no registry here makes: built by hand.
        let mut summary = prometheus::proto::MetricFamily::default();
        summary.set_name("s".to_owned());
        summary.set_help("A summary.".to_owned());
        summary.set_field_type(prometheus::proto::MetricType::SUMMARY);
        let mut metric = prometheus::proto::Metric::default();
        let mut s = prometheus::proto::Summary::default();
        s.set_sample_count(3);
        s.set_sample_sum(1.5);
        let mut quantile = prometheus::proto::Quantile::default();
        quantile.set_quantile(0.99);
        quantile.set_value(f64::NAN);
        s.set_quantile(vec![quantile]);
        metric.set_summary(s);
        metric.set_timestamp_ms(-1_234);
        summary.set_metric(vec![metric]);
        families.push(summary);
        if let Some(timed) = families.iter_mut().find(|f| f.name() == "g") {
            timed.mut_metric()[0].set_timestamp_ms(1_700_000_000_123);
        }
        // No HELP line for a family without a help text.
        if let Some(plain) = families.iter_mut().find(|f| f.name() == "plain") {
            plain.set_help(String::new());
        }
        let mut want = Vec::new();
        TextEncoder::new().encode(&families, &mut want).unwrap();
        let got = super::encode(&families).unwrap();
        assert_eq!(got, String::from_utf8(want).unwrap());
        assert!(got.contains(r#"route="/b/\\back\nslash\"""#), "{got}");
    }

    #[test]
    fn families_without_metrics_are_refused_as_text_encoder_does() {
        let mut empty = prometheus::proto::MetricFamily::default();
        empty.set_name("x".to_owned());
        assert!(super::encode(&[empty.clone()]).is_err());
        assert!(
            TextEncoder::new()
                .encode(&[empty], &mut Vec::new())
                .is_err()
        );
        // The registry drops them before: a registered vector with no series encodes as
        // nothing at all.
        let registry = Registry::new();
        let unused = CounterVec::new(Opts::new("u_total", "Unused."), &["a"]).unwrap();
        registry.register(Box::new(unused.clone())).unwrap();
        assert!(unused.collect()[0].get_metric().is_empty());
        assert_eq!(super::encode(&registry.gather()).unwrap(), "");
    }
}
