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
/// `_count`, `_sum`) and `http_requests_in_flight`.
fn is_request_family(metric: &str) -> bool {
    matches!(
        metric,
        "http_requests_total"
            | "http_requests_in_flight"
            | "http_request_duration_seconds"
            | "http_request_duration_seconds_bucket"
            | "http_request_duration_seconds_count"
            | "http_request_duration_seconds_sum"
    )
}

/// Every selector of a request family in `expr` (`family{...}`) is summed at once, its
/// rate or increase or itself: `sum by (list) (rate(family{...}[..]))` with a list naming
/// no request label, or `sum (...)` of everything. Then extra labels on the series change
/// nothing in the result: no series per tenant, nothing left for a join or
/// `histogram_quantile` to trip on. The selectors in error, if any.
fn request_families_summed(expr: &str) -> Result<(), String> {
    let text = expr.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut wrong = Vec::new();
    for metric in crate::selected_metrics(&text) {
        if !is_request_family(&metric) {
            continue;
        }
        let needle = format!("{metric}{{");
        let mut from = 0;
        while let Some(found) = text[from..].find(&needle) {
            let at = from + found;
            from = at + needle.len();
            // A longer name ending in this one (`x_http_requests_total{`) is another metric.
            let before_name = text[..at].chars().next_back();
            if before_name.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut before = text[..at].trim_end();
            for function in ["rate(", "increase("] {
                if let Some(rest) = before.strip_suffix(function) {
                    before = rest.trim_end();
                    break;
                }
            }
            let summed = before
                .strip_suffix('(')
                .map(str::trim_end)
                .is_some_and(|before| {
                    let plain = before.strip_suffix("sum").is_some_and(|rest| {
                        !rest
                            .chars()
                            .next_back()
                            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    });
                    let by = before
                        .strip_suffix(')')
                        .and_then(|rest| rest.rsplit_once("sum by ("))
                        .is_some_and(|(_, list)| {
                            !list.contains('(')
                                && list
                                    .split(',')
                                    .all(|label| !REQUEST_LABELS.contains(&label.trim()))
                        });
                    plain || by
                });
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

#[test]
fn the_check_of_summed_request_families_tells_summed_from_not() {
    for good in [
        r#"sum by (job, handler) (rate(http_requests_total{job="a"}[5m]))"#,
        r#"histogram_count(sum by (job, le) ( increase(http_request_duration_seconds{job="a"}[5m])))"#,
        r#"sum by (job) (http_requests_in_flight{job="a"}) > 0"#,
        r#"histogram_quantile(0.95, sum (rate(http_request_duration_seconds{job="a"}[5m])))"#,
        r#"rate(my_http_requests_total{job="a"}[5m])"#,
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
    ] {
        assert!(request_families_summed(bad).is_err(), "{bad}");
    }
}
