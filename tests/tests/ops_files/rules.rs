//! The recording and alert rules: `promtool check rules` and `promtool test rules`, every
//! rule tested, on our families and aggregates only; the request families summed with an
//! explicit list, read in both namings, and every rule reading them tested on series with
//! labels from the request and on series in OpenTelemetry naming.

use std::collections::BTreeSet;

use metrics_tests::docker::{self, alert_rules, as_str, read_yaml, recording_rules, seq};
use metrics_tests::tool::run_ok;

use crate::{
    labelled_cases, otel_cases, reading_request_families, reads_both_namings,
    request_families_summed, selected_metrics,
};

/// The families track-metrics exports that the rules read, and Prometheus' `up`.
const OURS: [&str; 17] = [
    "up",
    "http_requests_total",
    // The native histogram, when Prometheus stores it (docs/native-histograms.md).
    "http_request_duration_seconds",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_count",
    "http_request_duration_seconds_sum",
    "http_requests_in_flight",
    // The same in OpenTelemetry naming (Config::naming): no counter, the histogram's count.
    "http_server_request_duration_seconds",
    "http_server_request_duration_seconds_bucket",
    "http_server_request_duration_seconds_count",
    "http_server_request_duration_seconds_sum",
    "http_server_active_requests",
    "websocket_connection_duration_seconds_count",
    "websocket_messages_total",
    "websocket_connections_active",
    "grpc_server_handled_total",
    "grpc_server_handling_seconds_bucket",
];

/// The selector of the scrape jobs of docker/prometheus.yml.
const JOBS: &str = r#"job=~"actix-app|axum-app|worker|grpc-app""#;

/// What the Pushgateway holds of the batch jobs that push to it (the scrape job
/// `pushgateway`, `honor_labels`): read for every job, the pushed `job` being the batch
/// job's own name.
const PUSHED: [&str; 1] = ["push_time_seconds"];

#[test]
fn recording_rules_pass_promtool_and_their_unit_tests() {
    let dir = docker::dir();
    let rules = recording_rules();
    let out = run_ok("promtool", &["check", "rules", "recording.yml"], &dir);
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", rules.len())),
        "{out}"
    );
    let out = run_ok("promtool", &["test", "rules", "recording.test.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");

    let recorded: BTreeSet<&str> = rules.iter().map(|(r, _)| r.as_str()).collect();
    for (record, expr) in &rules {
        // level:metric:operations, the level naming the labels kept by the first `sum by`,
        // in order, joined by `_` (job_grpc_service_grpc_method: job, grpc_service, grpc_method).
        let parts: Vec<&str> = record.split(':').collect();
        assert_eq!(parts.len(), 3, "{record}: level:metric:operations");
        if let Some(by) = expr.split("sum by (").nth(1) {
            let kept: Vec<&str> = by.split(')').next().unwrap().split(", ").collect();
            assert_eq!(
                kept.join("_"),
                parts[0],
                "{record}: the level names what is kept"
            );
            assert!(!kept.contains(&"instance") || record.starts_with("job_instance:"));
        }
        for metric in selected_metrics(expr) {
            assert!(
                OURS.contains(&metric.as_str()) || recorded.contains(metric.as_str()),
                "{record} selects {metric}"
            );
            if OURS.contains(&metric.as_str()) {
                assert!(
                    expr.contains(&format!("{metric}{{{JOBS}")),
                    "{record}: {metric}"
                );
            }
        }
    }
    // Every rule is unit tested.
    let tests = read_yaml(&dir.join("recording.test.yml"));
    let tested: BTreeSet<&str> = seq(&tests["tests"], "tests")
        .iter()
        .flat_map(|t| seq(&t["promql_expr_test"], "promql_expr_test"))
        .map(|case| as_str(&case["expr"], "expr"))
        .collect();
    assert_eq!(tested, recorded, "every recording rule has a test");

    // Labels from the request: summed away, and every rule reading the request families
    // tested on series that carry them (the same outputs, without them).
    for (record, expr) in &rules {
        request_families_summed(expr).unwrap_or_else(|err| panic!("{record}: {err}"));
    }
    let readers = reading_request_families(&rules, &BTreeSet::new());
    assert!(readers.len() >= 11, "{readers:?}");
    let (labelled, _) = labelled_cases(&tests);
    let untested: Vec<&String> = readers.difference(&labelled).collect();
    assert!(
        untested.is_empty(),
        "recording rules without a test with request labels: {untested:?}"
    );

    // Both namings: every rule reads both, and every rule reading the request families has a
    // test whose expected samples include a job in OpenTelemetry naming.
    for (record, expr) in &rules {
        reads_both_namings(expr).unwrap_or_else(|err| panic!("{record}: {err}"));
    }
    let (otel, _) = otel_cases(&tests);
    let untested: Vec<&String> = readers.difference(&otel).collect();
    assert!(
        untested.is_empty(),
        "recording rules without a test in OpenTelemetry naming: {untested:?}"
    );
}

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = docker::dir();
    let out = run_ok("promtool", &["check", "rules", "alerts.yml"], &dir);
    assert!(out.contains("SUCCESS: 11 rules found"), "{out}");
    let out = run_ok("promtool", &["test", "rules", "alerts.test.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");

    // Every rule: a `for:`, a known severity, the annotations, our families and aggregates
    // only, every job.
    let recorded: BTreeSet<String> = recording_rules().into_iter().map(|(r, _)| r).collect();
    let rules = alert_rules();
    for (name, rule) in &rules {
        assert!(rule["for"].as_str().is_some(), "{name} has `for:`");
        let severity = as_str(&rule["labels"]["severity"], "severity");
        assert!(
            ["critical", "warning"].contains(&severity),
            "{name}: severity {severity}"
        );
        for key in ["summary", "description"] {
            assert!(
                !as_str(&rule["annotations"][key], key).is_empty(),
                "{name}: {key}"
            );
        }
        let expr = as_str(&rule["expr"], "expr");
        for metric in selected_metrics(expr) {
            if PUSHED.contains(&metric.as_str()) {
                continue;
            }
            assert!(
                OURS.contains(&metric.as_str()) || recorded.contains(&metric),
                "{name} selects {metric}"
            );
            assert!(
                expr.contains(&format!("{metric}{{{JOBS}")),
                "{name}: {metric}"
            );
        }
    }

    // Every rule is unit tested, both firing (with annotations) and quiet.
    let tests = read_yaml(&dir.join("alerts.test.yml"));
    let mut fired = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for test in seq(&tests["tests"], "tests") {
        for case in seq(&test["alert_rule_test"], "alert_rule_test") {
            let name = as_str(&case["alertname"], "alertname").to_owned();
            assert!(
                rules.contains_key(&name),
                "a test of an unknown rule {name}"
            );
            let alerts = seq(&case["exp_alerts"], "exp_alerts");
            if alerts.is_empty() {
                quiet.insert(name);
                continue;
            }
            for alert in alerts {
                for key in ["summary", "description"] {
                    assert!(
                        alert["exp_annotations"][key].as_str().is_some(),
                        "{name}: expected {key}"
                    );
                }
                assert!(alert["exp_labels"]["severity"].as_str().is_some());
            }
            fired.insert(name);
        }
    }
    let all: BTreeSet<String> = rules.keys().cloned().collect();
    assert_eq!(fired, all, "every rule has a test where it fires");
    assert_eq!(quiet, all, "every rule has a test where it stays quiet");

    // Labels from the request: summed away, and every alert reading the request families
    // (itself or through a recording rule) fires in a test on series that carry them, with
    // its usual labels.
    let exprs: Vec<(String, String)> = rules
        .iter()
        .map(|(name, rule)| (name.clone(), as_str(&rule["expr"], "expr").to_owned()))
        .collect();
    for (name, expr) in &exprs {
        request_families_summed(expr).unwrap_or_else(|err| panic!("{name}: {err}"));
        reads_both_namings(expr).unwrap_or_else(|err| panic!("{name}: {err}"));
    }
    let recorded_readers = reading_request_families(&recording_rules(), &BTreeSet::new());
    let readers = reading_request_families(&exprs, &recorded_readers);
    assert_eq!(
        readers,
        BTreeSet::from(
            [
                "AppNoTraffic",
                "HttpHigh5xxRatio",
                "HttpElevated5xxRatio",
                "HttpSlowP95",
                "HttpRequestsStuckInFlight",
            ]
            .map(str::to_owned)
        )
    );
    let (_, labelled) = labelled_cases(&tests);
    assert_eq!(
        labelled, readers,
        "every alert on the request families fires in a test with request labels"
    );
    let (_, otel) = otel_cases(&tests);
    assert_eq!(
        otel, readers,
        "every alert on the request families fires in a test in OpenTelemetry naming"
    );
}
