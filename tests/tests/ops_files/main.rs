//! The files of `docker/`, checked with the real tools: `promtool` and `amtool` on the
//! configs, `promtool test rules` on the recording and alert unit tests, Grafana's published
//! schema on the dashboard, and both compose files (one instance, scaled out) against the
//! files they mount. `ops_live` and `ops_scale` run them.
//!
//! Every external tool is required: a missing one is a failure, never a skip
//! (`scripts/test` installs them).
//!
//! Labels from the request (CONTRACT §15) join the three request families: every rule and
//! dashboard query reading them sums them away with an explicit list (or none), and every
//! rule reading them has a unit test on series that carry such labels, whose expected
//! outputs carry none ([`request_families_summed`], [`labelled_cases`]).
//!
//! Both namings (CONTRACT §16): every rule and dashboard query reading a request family of
//! one naming reads its counterpart in the other ([`reads_both_namings`]), and every rule
//! reading them has a unit test in OpenTelemetry naming ([`otel_cases`]).
//!
//! By topic: the Prometheus configs (`prometheus.rs`), the recording and alert rules
//! (`rules.rs`), the objectives' rules (`objectives.rs`), Alertmanager (`alertmanager.rs`),
//! the dashboard (`dashboard.rs`) and the compose files (`compose.rs`).

mod alertmanager;
mod compose;
mod dashboard;
mod objectives;
mod prometheus;
mod rules;

use std::collections::BTreeSet;

use serde_norway::Value as Yaml;

use metrics_tests::docker::{as_str, seq};
use metrics_tests::promql::metrics_read;

/// Metric names an expression selects (identifiers directly followed by `{`).
fn selected_metrics(expr: &str) -> BTreeSet<String> {
    let bytes = expr.as_bytes();
    let mut names = BTreeSet::new();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'{' {
            continue;
        }
        let start = bytes[..i]
            .iter()
            .rposition(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'))
            .map_or(0, |p| p + 1);
        if start < i {
            names.insert(expr[start..i].to_owned());
        }
    }
    names
}

/// The labels from the request (CONTRACT §15, `Config::label`) that the unit tests put on
/// the request families: the contract's examples.
const REQUEST_LABELS: [&str; 2] = ["tenant", "client"];

/// Whether `metric` is one of the request families the labels from the request join:
/// `http_requests_total`, `http_request_duration_seconds` (native, or its `_bucket`,
/// `_count`, `_sum`) and `http_requests_in_flight`, or in OpenTelemetry naming
/// ([`is_otel_request_family`]).
fn is_request_family(metric: &str) -> bool {
    matches!(
        metric,
        "http_requests_total"
            | "http_requests_in_flight"
            | "http_request_duration_seconds"
            | "http_request_duration_seconds_bucket"
            | "http_request_duration_seconds_count"
            | "http_request_duration_seconds_sum"
    ) || is_otel_request_family(metric)
}

/// Whether `metric` is a request family of the OpenTelemetry naming (CONTRACT §16):
/// `http_server_request_duration_seconds` (native, or its `_bucket`, `_count`, `_sum`) and
/// `http_server_active_requests`.
fn is_otel_request_family(metric: &str) -> bool {
    matches!(
        metric,
        "http_server_request_duration_seconds"
            | "http_server_request_duration_seconds_bucket"
            | "http_server_request_duration_seconds_count"
            | "http_server_request_duration_seconds_sum"
            | "http_server_active_requests"
    )
}

/// What an expression reading a request family of one naming must read of the other
/// (CONTRACT §16), either way: the families of the Prometheus naming, each with the
/// OpenTelemetry families that answer for it (all of them), then those of the OpenTelemetry
/// naming, each with the Prometheus families that may answer for it (one of them). There is
/// no request counter in OpenTelemetry naming: the duration histogram's count (classic, or
/// native when Prometheus stores that) is the count.
const NAMING_TWINS: [(&str, &[&str], bool); 11] = [
    (
        "http_requests_total",
        &[
            "http_server_request_duration_seconds_count",
            "http_server_request_duration_seconds",
        ],
        true,
    ),
    (
        "http_request_duration_seconds",
        &["http_server_request_duration_seconds"],
        true,
    ),
    (
        "http_request_duration_seconds_bucket",
        &["http_server_request_duration_seconds_bucket"],
        true,
    ),
    (
        "http_request_duration_seconds_count",
        &["http_server_request_duration_seconds_count"],
        true,
    ),
    (
        "http_request_duration_seconds_sum",
        &["http_server_request_duration_seconds_sum"],
        true,
    ),
    (
        "http_requests_in_flight",
        &["http_server_active_requests"],
        true,
    ),
    (
        "http_server_request_duration_seconds",
        &["http_request_duration_seconds", "http_requests_total"],
        false,
    ),
    (
        "http_server_request_duration_seconds_bucket",
        &["http_request_duration_seconds_bucket"],
        false,
    ),
    (
        "http_server_request_duration_seconds_count",
        &["http_requests_total", "http_request_duration_seconds_count"],
        false,
    ),
    (
        "http_server_request_duration_seconds_sum",
        &["http_request_duration_seconds_sum"],
        false,
    ),
    (
        "http_server_active_requests",
        &["http_requests_in_flight"],
        false,
    ),
];

/// What `expr` reads of a request family in one naming but not in the other
/// ([`NAMING_TWINS`]): a program in OpenTelemetry naming exposes its requests only there, and
/// its tracked calls outside requests only in the Prometheus families, so a query reading
/// one naming misses the other's programs. Each gap as `family without twin(s)`.
fn naming_gaps(expr: &str) -> Vec<String> {
    let read = metrics_read(expr);
    let mut gaps = Vec::new();
    for (family, twins, all) in NAMING_TWINS {
        if !read.contains(family) {
            continue;
        }
        let absent: Vec<&str> = twins
            .iter()
            .copied()
            .filter(|twin| !read.contains(*twin))
            .collect();
        if if all {
            !absent.is_empty()
        } else {
            absent.len() == twins.len()
        } {
            let joiner = if all { " and " } else { " or " };
            gaps.push(format!("{family} without {}", absent.join(joiner)));
        }
    }
    gaps
}

/// Whether `expr` reads every request family it reads in both namings ([`naming_gaps`]).
fn reads_both_namings(expr: &str) -> Result<(), String> {
    let gaps = naming_gaps(expr);
    if gaps.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "reads one naming only ({}): a program in the other (Config::naming, CONTRACT §16) \
             would be missing; read both with `or`, the OpenTelemetry labels renamed to ours \
             with label_replace, as docker/recording.yml does",
            gaps.join("; ")
        ))
    }
}

/// Per-series functions that keep the labels of what they read (label_replace adds one): a
/// request family may pass through them on its way to its `sum`.
const PER_SERIES: [&str; 5] = [
    "rate",
    "increase",
    "label_replace",
    "histogram_count",
    "histogram_sum",
];

/// `expr` with the text of its strings blanked, byte for byte, so that the parentheses of a
/// regex are not read as PromQL's.
fn strings_blanked(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in expr.chars() {
        if in_string && (escaped || c != '"') {
            escaped = c == '\\' && !escaped;
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
            continue;
        }
        if c == '"' {
            in_string = !in_string;
        }
        out.push(c);
    }
    out
}

/// The `(` before byte `end` that is not closed before it, if any.
fn unclosed_before(text: &str, end: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.as_bytes()[..end].iter().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' if depth == 0 => return Some(i),
            b'(' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The `)` closing the `(` at byte `open`.
fn closing(text: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in text.as_bytes().iter().enumerate().skip(open) {
        match b {
            b'(' => depth += 1,
            b')' if depth == 1 => return i,
            b')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced parentheses in {text}")
}

/// Whether `text` ends with the word `word` (not a longer identifier ending in it).
fn ends_with_word(text: &str, word: &str) -> bool {
    text.strip_suffix(word).is_some_and(|rest| {
        !rest
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    })
}

/// Every selector of a request family in `expr` (`family{...}`) is summed at once, its
/// rate or increase or itself, through per-series functions only ([`PER_SERIES`]: the
/// OpenTelemetry labels renamed with label_replace, a native histogram's count), `or`-ed
/// with others in the same sum if need be: `sum by (list) (...)` with a list naming no
/// request label, or `sum (...)` of everything; no label_replace reads a request label.
/// Then extra labels on the series change nothing in the result: no series per tenant,
/// nothing left for a join or `histogram_quantile` to trip on. The selectors in error, if
/// any.
fn request_families_summed(expr: &str) -> Result<(), String> {
    let text = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let blanked = strings_blanked(&text);
    let mut wrong = Vec::new();
    for metric in crate::selected_metrics(&blanked) {
        if !is_request_family(&metric) {
            continue;
        }
        let needle = format!("{metric}{{");
        let mut from = 0;
        while let Some(found) = blanked[from..].find(&needle) {
            let at = from + found;
            from = at + needle.len();
            // A longer name ending in this one (`x_http_requests_total{`) is another metric.
            let before_name = blanked[..at].chars().next_back();
            if before_name.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            // Out through the per-series functions to the aggregation.
            let mut end = at;
            let summed = loop {
                let Some(open) = unclosed_before(&blanked, end) else {
                    break false;
                };
                let before = blanked[..open].trim_end();
                if let Some(function) = PER_SERIES.iter().find(|f| ends_with_word(before, f)) {
                    let call = &text[open..=closing(&blanked, open)];
                    if *function == "label_replace"
                        && REQUEST_LABELS
                            .iter()
                            .any(|label| call.contains(&format!("\"{label}\"")))
                    {
                        break false;
                    }
                    end = open;
                    continue;
                }
                let plain = ends_with_word(before, "sum");
                let by = before
                    .strip_suffix(')')
                    .and_then(|rest| rest.rsplit_once("sum by ("))
                    .is_some_and(|(_, list)| {
                        !list.contains('(')
                            && list
                                .split(',')
                                .all(|label| !REQUEST_LABELS.contains(&label.trim()))
                    });
                break plain || by;
            };
            if !summed {
                let start = text[..at].char_indices().nth_back(59).map_or(0, |(i, _)| i);
                wrong.push(format!("{}{needle}", &text[start..at]));
            }
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not summed at once with an explicit list: {wrong:?}"
        ))
    }
}

/// The rules of `rules` (name, expr; recording rules by their record) that read a request
/// family, directly or through a rule in `readers` or earlier in `rules` that does.
fn reading_request_families(
    rules: &[(String, String)],
    readers: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = readers.clone();
    loop {
        let before = out.len();
        for (name, expr) in rules {
            if metrics_read(expr)
                .iter()
                .any(|m| is_request_family(m) || out.contains(m))
            {
                out.insert(name.clone());
            }
        }
        if out.len() == before {
            break;
        }
    }
    let names: BTreeSet<String> = rules.iter().map(|(n, _)| n.clone()).collect();
    out.intersection(&names).cloned().collect()
}

/// What the tests of a `promtool test rules` file whose input series of the request
/// families carry every request label ([`REQUEST_LABELS`]), on some series, and none on
/// others (a request without the header: Prometheus keeps no empty label), cover: the
/// metric of each `promql_expr_test` and the alerts that fire in an `alert_rule_test`.
/// Asserts that the outputs they expect carry no request label.
fn labelled_cases(tests: &Yaml) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut exprs = BTreeSet::new();
    let mut fired = BTreeSet::new();
    for test in seq(&tests["tests"], "tests") {
        let name = as_str(&test["name"], "name");
        let families: Vec<&str> = seq(&test["input_series"], "input_series")
            .iter()
            .map(|s| as_str(&s["series"], "series"))
            .filter(|s| is_request_family(s.split('{').next().unwrap().trim()))
            .collect();
        let with = |label: &str| {
            families
                .iter()
                .filter(|s| {
                    s.contains(&format!(" {label}=\"")) || s.contains(&format!("{{{label}=\""))
                })
                .count()
        };
        let labelled = REQUEST_LABELS.iter().all(|label| with(label) > 0)
            && families.len() > with(REQUEST_LABELS[0]);
        if !labelled {
            continue;
        }
        for case in test["promql_expr_test"].as_sequence().into_iter().flatten() {
            let expr = as_str(&case["expr"], "expr");
            for sample in seq(&case["exp_samples"], "exp_samples") {
                let labels = as_str(&sample["labels"], "labels");
                for label in REQUEST_LABELS {
                    assert!(
                        !labels.contains(&format!("{label}=")),
                        "{name}: {expr} keeps {label}: {labels}"
                    );
                }
            }
            exprs.insert(expr.split('{').next().unwrap().trim().to_owned());
        }
        for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
            let alert = as_str(&case["alertname"], "alertname");
            let expected = seq(&case["exp_alerts"], "exp_alerts");
            for each in expected {
                for label in REQUEST_LABELS {
                    assert!(
                        each["exp_labels"].get(label).is_none(),
                        "{name}: {alert} keeps {label}"
                    );
                }
            }
            if !expected.is_empty() {
                fired.insert(alert.to_owned());
            }
        }
    }
    (exprs, fired)
}

/// What the tests of a `promtool test rules` file cover in OpenTelemetry naming: the metric
/// of each `promql_expr_test` expecting a sample of a job whose request series (in that
/// test's input) are all in OpenTelemetry naming, and the alerts that fire for such a job.
fn otel_cases(tests: &Yaml) -> (BTreeSet<String>, BTreeSet<String>) {
    let job_of = |text: &str| {
        text.split("job=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };
    let mut exprs = BTreeSet::new();
    let mut fired = BTreeSet::new();
    for test in seq(&tests["tests"], "tests") {
        let mut otel = BTreeSet::new();
        let mut prometheus = BTreeSet::new();
        for series in seq(&test["input_series"], "input_series") {
            let series = as_str(&series["series"], "series");
            let metric = series.split('{').next().unwrap().trim();
            let Some(job) = job_of(series) else { continue };
            if is_otel_request_family(metric) {
                otel.insert(job);
            } else if is_request_family(metric) {
                prometheus.insert(job);
            }
        }
        let jobs: BTreeSet<String> = otel.difference(&prometheus).cloned().collect();
        for case in test["promql_expr_test"].as_sequence().into_iter().flatten() {
            let expr = as_str(&case["expr"], "expr");
            let samples = seq(&case["exp_samples"], "exp_samples");
            if samples.iter().any(|sample| {
                job_of(as_str(&sample["labels"], "labels")).is_some_and(|job| jobs.contains(&job))
            }) {
                exprs.insert(expr.split('{').next().unwrap().trim().to_owned());
            }
        }
        for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
            let alert = as_str(&case["alertname"], "alertname");
            let expected = seq(&case["exp_alerts"], "exp_alerts");
            if expected.iter().any(|each| {
                each["exp_labels"]["job"]
                    .as_str()
                    .is_some_and(|job| jobs.contains(job))
            }) {
                fired.insert(alert.to_owned());
            }
        }
    }
    (exprs, fired)
}

#[test]
fn the_check_of_summed_request_families_tells_summed_from_not() {
    for good in [
        r#"sum by (job, handler) (rate(http_requests_total{job="a"}[5m]))"#,
        r#"histogram_count(sum by (job, le) ( increase(http_request_duration_seconds{job="a"}[5m])))"#,
        r#"sum by (job) (http_requests_in_flight{job="a"}) > 0"#,
        r#"histogram_quantile(0.95, sum (rate(http_request_duration_seconds{job="a"}[5m])))"#,
        r#"rate(my_http_requests_total{job="a"}[5m])"#,
        // Both namings in one sum, the OpenTelemetry labels renamed on the way.
        r#"sum by (job, handler) (rate(http_requests_total{job="a"}[5m]) or label_replace(rate(http_server_request_duration_seconds_count{job="a"}[5m]) or histogram_count(rate(http_server_request_duration_seconds{job="a"}[5m])), "handler", "$1", "code_function_name", "(.*)"))"#,
        r#"sum by (job, method) (label_replace(http_server_active_requests{job="a", x="(("}, "method", "$1", "http_request_method", "(.*)")) > 0"#,
    ] {
        assert_eq!(request_families_summed(good), Ok(()), "{good}");
    }
    for bad in [
        r#"rate(http_requests_total{job="a"}[5m])"#,
        r#"sum without (instance) (rate(http_requests_total{job="a"}[5m]))"#,
        r#"sum by (job, tenant) (rate(http_requests_total{job="a"}[5m]))"#,
        r#"histogram_sum(rate(http_request_duration_seconds{job="a"}[5m]))"#,
        r#"max by (job) (http_requests_in_flight{job="a"})"#,
        r#"sum by (job) (rate(http_requests_total{job="a"}[5m])) / rate(http_requests_total{job="a"}[5m])"#,
        r#"sum by (job) (rate(http_requests_total{job="a"}[5m])) or label_replace(rate(http_server_request_duration_seconds_count{job="a"}[5m]), "handler", "$1", "code_function_name", "(.*)")"#,
        r#"sum by (job, handler) (label_replace(rate(http_server_request_duration_seconds_count{job="a"}[5m]), "handler", "$1", "tenant", "(.*)"))"#,
        r#"max by (job) (label_replace(http_server_active_requests{job="a"}, "method", "$1", "http_request_method", "(.*)"))"#,
        r#"sum by (job) (histogram_quantile(0.9, rate(http_server_request_duration_seconds{job="a"}[5m])))"#,
    ] {
        assert!(request_families_summed(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_check_of_both_namings_tells_one_naming_from_both() {
    for good in [
        "sum by (job) (rate(http_requests_total[5m]) or rate(http_server_request_duration_seconds_count[5m]) or histogram_count(rate(http_server_request_duration_seconds[5m])))",
        "sum(rate(http_request_duration_seconds_bucket[5m]) or rate(http_server_request_duration_seconds_bucket[5m]))",
        "sum(http_requests_in_flight or http_server_active_requests)",
        "sum(rate(http_request_duration_seconds_count[5m]) or rate(http_server_request_duration_seconds_count[5m]))",
        // Neither family: recorded series, other families.
        "job_handler_method_route:http_requests:rate5m > 0.1",
        "sum(rate(grpc_server_handled_total[5m]))",
    ] {
        assert_eq!(reads_both_namings(good), Ok(()), "{good}");
    }
    for (bad, says) in [
        (
            "sum(rate(http_requests_total[5m]))",
            "http_requests_total without http_server_request_duration_seconds_count and http_server_request_duration_seconds",
        ),
        (
            // The classic count only: a Prometheus storing native histograms has none.
            "sum(rate(http_requests_total[5m]) or rate(http_server_request_duration_seconds_count[5m]))",
            "http_requests_total without http_server_request_duration_seconds",
        ),
        (
            "sum(http_requests_in_flight)",
            "http_requests_in_flight without http_server_active_requests",
        ),
        (
            "sum(rate(http_server_request_duration_seconds_bucket[5m]))",
            "http_server_request_duration_seconds_bucket without http_request_duration_seconds_bucket",
        ),
        (
            "sum(rate(http_server_request_duration_seconds_count[5m]))",
            "http_server_request_duration_seconds_count without http_requests_total or http_request_duration_seconds_count",
        ),
    ] {
        let err = reads_both_namings(bad).expect_err(bad);
        assert!(err.contains(&format!("({says})")), "{bad}: {err}");
    }
}
