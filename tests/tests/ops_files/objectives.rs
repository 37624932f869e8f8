//! docker/objectives.yml: `promtool check rules` and `promtool test rules`, and what the
//! unit tests cannot say: the rules read only the objective and request families (no job,
//! objective or target written in), in both namings, aggregate `instance` away, have the
//! workbook's windows and factors, and every alert carries `job`, `objective`, `slo` and
//! `severity`.

use std::collections::BTreeSet;

use serde_norway::Value as Yaml;

use metrics_tests::docker::{
    self, alert_rules_of, as_str, dashboards, objective_recording_rules, panels, read_yaml,
    recording_rules, seq,
};
use metrics_tests::promql::{label_lists, metrics_read};
use metrics_tests::tool::run_ok;

use crate::{is_request_family, labelled_cases, otel_cases, reads_both_namings};

/// The families the rules read: the request families and the objectives' series.
const FAMILIES: [&str; 13] = [
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_count",
    // The same in OpenTelemetry naming (Config::naming): the duration histogram (its count,
    // or the native histogram's, is the request count).
    "http_server_request_duration_seconds",
    "http_server_request_duration_seconds_bucket",
    "http_server_request_duration_seconds_count",
    "http_objective_info",
    "http_objective_success_target",
    "http_objective_latency_target",
    // A gRPC method's objective (GrpcMetricsLayer).
    "grpc_server_handled_total",
    "grpc_server_handling_seconds_bucket",
    "grpc_server_handling_seconds_count",
    "grpc_objective_info",
];

/// The PromQL functions the rules call that `metrics_read` does not tell from a metric.
const FUNCTIONS: [&str; 1] = ["histogram_count"];

/// The windows of the recorded error ratios (the alerts' and the 30-day budget's).
const RATIO_WINDOWS: [&str; 8] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"];

/// The windows of the recorded burn rates: the alerts'.
const BURN_WINDOWS: [&str; 7] = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

/// A long window, a short window, and the burn rate both must be above.
type WindowPair = (&'static str, &'static str, &'static str);

/// The Google SRE workbook's multi-window multi-burn-rate alerts over a 30-day budget:
/// severity, then its two window pairs.
const BURNS: [(&str, [WindowPair; 2]); 2] = [
    ("page", [("1h", "5m", "14.4"), ("6h", "30m", "6")]),
    ("ticket", [("1d", "2h", "3"), ("3d", "6h", "1")]),
];

/// The alerts: name and `slo`.
const ALERTS: [(&str, &str); 2] = [
    ("ObjectiveSuccessBudgetBurn", "success"),
    ("ObjectiveLatencyBudgetBurn", "latency"),
];

const TARGET: &str = "job_objective_slo:http_objective_target:max";

fn normalized(expr: &str) -> String {
    expr.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn objective_rules_pass_promtool_and_their_unit_tests() {
    let dir = docker::dir();
    let records = objective_recording_rules();
    let alerts = alert_rules_of("objectives.yml");
    assert_eq!((records.len(), alerts.len()), (21, 4));
    let out = run_ok("promtool", &["check", "rules", "objectives.yml"], &dir);
    assert!(out.contains("SUCCESS: 25 rules found"), "{out}");
    let out = run_ok("promtool", &["test", "rules", "objectives.test.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");

    // Every recording rule has a test of its values; every alert fires (page and ticket)
    // and stays quiet in some test; the tests evaluate the recording group first.
    let tests = read_yaml(&dir.join("objectives.test.yml"));
    assert_eq!(
        tests["group_eval_order"],
        serde_norway::from_str::<Yaml>("[objectives.recording, objectives.alerts]").unwrap()
    );
    let mut tested = BTreeSet::new();
    let mut fired = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for test in seq(&tests["tests"], "tests") {
        for case in test["promql_expr_test"].as_sequence().into_iter().flatten() {
            let expr = as_str(&case["expr"], "expr");
            tested.insert(expr.split('{').next().unwrap().to_owned());
        }
        for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
            let name = as_str(&case["alertname"], "alertname").to_owned();
            let expected = seq(&case["exp_alerts"], "exp_alerts");
            if expected.is_empty() {
                quiet.insert(name.clone());
            }
            for alert in expected {
                let labels = &alert["exp_labels"];
                let severity = as_str(&labels["severity"], "severity");
                fired.insert((name.clone(), severity.to_owned()));
                // Exactly these labels, and the annotations.
                let keys: BTreeSet<&str> = labels
                    .as_mapping()
                    .unwrap()
                    .keys()
                    .map(|k| k.as_str().unwrap())
                    .collect();
                assert_eq!(
                    keys,
                    BTreeSet::from(["job", "objective", "slo", "severity"]),
                    "{name}"
                );
                for key in ["summary", "description"] {
                    assert!(alert["exp_annotations"][key].as_str().is_some(), "{name}");
                }
            }
        }
    }
    let recorded: BTreeSet<String> = records.iter().map(|(r, _)| r.clone()).collect();
    assert_eq!(
        tested, recorded,
        "every recording rule has a test of its values"
    );
    // Labels from the request: every rule joining the request families to their objective
    // has a test on series that carry them (the summed traffic's values, without them), and
    // so has an alert (per objective, not per tenant).
    let direct: Vec<(String, String)> = records
        .iter()
        .filter(|(_, expr)| metrics_read(expr).iter().any(|m| is_request_family(m)))
        .cloned()
        .collect();
    assert_eq!(direct.len(), 4, "{direct:?}");
    let (labelled, fired_labelled) = labelled_cases(&tests);
    for (record, _) in &direct {
        assert!(
            labelled.contains(record),
            "{record} has a test with request labels"
        );
    }
    assert!(
        !fired_labelled.is_empty(),
        "an objective alert fires in a test with request labels"
    );
    // Both namings: every rule joining the request families reads both, and has a test in
    // OpenTelemetry naming; both alerts fire in one.
    let (otel, fired_otel) = otel_cases(&tests);
    for (record, expr) in &direct {
        reads_both_namings(expr).unwrap_or_else(|err| panic!("{record}: {err}"));
        assert!(
            otel.contains(record),
            "{record} has a test in OpenTelemetry naming"
        );
    }
    for (name, _) in ALERTS {
        assert!(
            fired_otel.contains(name),
            "{name} fires in a test in OpenTelemetry naming"
        );
    }
    for (name, _) in ALERTS {
        assert!(
            quiet.contains(name),
            "{name} has a test where it stays quiet"
        );
        for severity in ["page", "ticket"] {
            assert!(
                fired.contains(&(name.to_owned(), severity.to_owned())),
                "{name} has a test where its {severity} fires"
            );
        }
    }
}

#[test]
fn objective_recording_rules_read_the_exposed_series_and_keep_no_instance() {
    let records = objective_recording_rules();
    let mut defined: BTreeSet<&str> = BTreeSet::new();
    for (record, expr) in &records {
        // level:metric:operations, the level naming the labels kept.
        let parts: Vec<&str> = record.split(':').collect();
        assert_eq!(parts.len(), 3, "{record}: level:metric:operations");
        assert!(
            ["job_objective", "job_objective_slo"].contains(&parts[0]),
            "{record}: kept per job and objective (and slo), never per instance"
        );
        // Aggregations keep job and objective; instances meet their objective per instance.
        for by in label_lists(expr, "by") {
            assert_eq!(
                by,
                BTreeSet::from(["job".to_owned(), "objective".to_owned()]),
                "{record}"
            );
        }
        for on in label_lists(expr, "on") {
            assert!(
                on.contains("job") && on.contains("objective")
                    || on.contains("handler")
                    || on.contains("grpc_service") && on.contains("grpc_method"),
                "{record}: joined per objective, handler or gRPC method"
            );
            assert!(
                !on.contains("instance") || parts[0] == "job_objective",
                "{record}: a per-instance join, then summed"
            );
        }
        // The objective and request families, unfiltered (every job, every objective),
        // and the rules above it in the same group (one evaluation computes them all).
        assert!(!expr.contains("job="), "{record}: no job selector");
        assert!(!expr.contains("job=~"), "{record}: no job selector");
        assert!(
            !expr.contains("objective=\""),
            "{record}: no objective written in"
        );
        for metric in metrics_read(expr) {
            assert!(
                FAMILIES.contains(&metric.as_str())
                    || FUNCTIONS.contains(&metric.as_str())
                    || defined.contains(metric.as_str()),
                "{record} reads {metric}"
            );
        }
        if !parts[0].ends_with("_slo") {
            // HTTP requests and gRPC methods alike.
            assert!(
                expr.contains("http_objective_info") && expr.contains("grpc_objective_info"),
                "{record}: joined to info"
            );
        }
        defined.insert(record);
    }
    let names: Vec<&str> = records.iter().map(|(r, _)| r.as_str()).collect();

    // The windows, each on its own range; burn rate = ratio / (1 - target); budget.
    for window in RATIO_WINDOWS {
        let record = format!("job_objective_slo:http_requests_bad:ratio_rate{window}");
        let (_, expr) = records
            .iter()
            .find(|(r, _)| *r == record)
            .unwrap_or_else(|| panic!("{record}"));
        let ranges: BTreeSet<&str> = expr
            .split('[')
            .skip(1)
            .map(|r| r.split(']').next().unwrap())
            .collect();
        if window == "5m" {
            assert!(ranges.is_empty(), "{record}: the 5m rates themselves");
        } else {
            assert_eq!(ranges, BTreeSet::from([window]), "{record}");
            assert_eq!(expr.matches("sum_over_time(").count(), 5, "{record}");
        }
        for slo in ["success", "latency"] {
            assert!(expr.contains(&format!("\"slo\", \"{slo}\"")), "{record}");
        }
        assert_eq!(
            expr.matches(" > 0)").count(),
            2,
            "{record}: no ratio without traffic"
        );
    }
    for window in BURN_WINDOWS {
        let record = format!("job_objective_slo:http_requests_bad:burnrate{window}");
        let (_, expr) = records.iter().find(|(r, _)| *r == record).unwrap();
        assert_eq!(
            normalized(expr),
            format!(
                "job_objective_slo:http_requests_bad:ratio_rate{window} / on (job, objective, slo) (1 - {TARGET})"
            ),
            "{record}"
        );
    }
    let (_, budget) = records
        .iter()
        .find(|(r, _)| r == "job_objective_slo:http_requests_bad:budget_remaining30d")
        .expect("the budget remaining over 30 days");
    assert_eq!(
        normalized(budget),
        format!(
            "1 - job_objective_slo:http_requests_bad:ratio_rate30d / on (job, objective, slo) (1 - {TARGET})"
        )
    );
    // Targets: the strictest of the instances', per job and objective.
    let (_, target) = records.iter().find(|(r, _)| r == TARGET).unwrap();
    for family in [
        "http_objective_success_target",
        "http_objective_latency_target",
    ] {
        assert!(target.contains(&format!("max by (job, objective) ({family})")));
    }
    // The latency good count is the bucket at the instance's own threshold: the target's
    // `threshold` copied into `le`, written alike on both sides (Prometheus 3 stores a
    // bucket's le="1" as "1.0").
    let (_, good) = records
        .iter()
        .find(|(r, _)| r == "job_objective:http_request_duration_seconds_bucket:rate5m")
        .unwrap();
    let whole = r#""le", "$1.0", "le", "([0-9]+)""#;
    assert!(normalized(good).contains(&format!(
        r#"and on (job, instance, objective, le) label_replace( label_replace(http_objective_latency_target, "le", "$1", "threshold", "(.*)"), {whole} )"#
    )));
    assert_eq!(good.matches(whole).count(), 2, "both sides");
    assert_eq!(
        names.len(),
        4 + 1 + RATIO_WINDOWS.len() + BURN_WINDOWS.len() + 1
    );
}

#[test]
fn objective_alerts_burn_over_the_workbook_windows_with_their_four_labels() {
    let recorded: BTreeSet<String> = objective_recording_rules()
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    let alerts = alert_rules_of("objectives.yml");
    let mut seen = BTreeSet::new();
    for (name, rule) in &alerts {
        let slo = ALERTS
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("an unknown alert {name}"))
            .1;
        let labels = rule["labels"].as_mapping().expect("labels");
        let severity = as_str(&rule["labels"]["severity"], "severity");
        assert_eq!(rule["labels"]["slo"].as_str(), Some(slo), "{name}");
        assert_eq!(
            labels.len(),
            2,
            "{name}: severity and slo; job and objective from the series"
        );
        assert!(
            seen.insert((name.clone(), severity.to_owned())),
            "{name} {severity} twice"
        );

        // (long > F and short > F) or (long > F and short > F), on the recorded burn rates
        // of this slo: the series carry job, objective and slo, and nothing else.
        let (_, pairs) = BURNS
            .iter()
            .find(|(s, _)| *s == severity)
            .unwrap_or_else(|| panic!("{name}: severity {severity}"));
        let branch = |(long, short, factor): (&str, &str, &str)| {
            format!(
                "( job_objective_slo:http_requests_bad:burnrate{long}{{slo=\"{slo}\"}} > {factor} and job_objective_slo:http_requests_bad:burnrate{short}{{slo=\"{slo}\"}} > {factor} )"
            )
        };
        let expected = format!("{} or {}", branch(pairs[0]), branch(pairs[1]));
        let expr = as_str(&rule["expr"], "expr");
        assert_eq!(normalized(expr), expected, "{name} {severity}");
        for metric in metrics_read(expr) {
            assert!(
                recorded.contains(&metric),
                "{name} reads {metric}, recorded"
            );
        }
        assert!(!expr.contains("instance"), "{name}");

        // A `for:`, shorter on pages; the annotations point at the guide.
        let for_ = as_str(&rule["for"], "for");
        assert_eq!(
            for_,
            if severity == "page" { "2m" } else { "15m" },
            "{name}"
        );
        for key in ["summary", "description"] {
            let text = as_str(&rule["annotations"][key], key);
            for label in ["objective", "job"] {
                assert!(text.contains(&format!("$labels.{label}")), "{name}: {key}");
            }
        }
        assert!(
            as_str(&rule["annotations"]["description"], "description")
                .contains("docs/objectives.md"),
            "{name}"
        );
    }
    assert_eq!(
        seen.len(),
        ALERTS.len() * BURNS.len(),
        "a page and a ticket per alert"
    );

    // Every recorded rule the alerts and the dashboard read exists (here or in
    // docker/recording.yml), and the dashboard shows every window the alerts compare and
    // the budget.
    let mut known = recorded.clone();
    known.extend(recording_rules().into_iter().map(|(r, _)| r));
    let exprs: Vec<String> = dashboards()
        .iter()
        .flat_map(|(_, d)| {
            panels(d)
                .iter()
                .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
                .map(|t| t["expr"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    for expr in &exprs {
        for metric in metrics_read(expr) {
            assert!(
                !metric.contains(':') || known.contains(&metric),
                "the dashboard reads {metric}, which no rule records"
            );
        }
    }
    for needle in BURN_WINDOWS
        .iter()
        .map(|w| format!("job_objective_slo:http_requests_bad:burnrate{w}{{"))
        .chain([
            "job_objective_slo:http_requests_bad:budget_remaining30d{".to_owned(),
            format!("{TARGET}{{"),
            "build_info{".to_owned(),
        ])
    {
        assert!(
            exprs.iter().any(|e| e.contains(&needle)),
            "a panel on {needle}"
        );
    }
}

#[test]
fn every_prometheus_config_loads_the_objectives() {
    for file in ["prometheus.yml", "prometheus-a.yml", "prometheus-b.yml"] {
        let config = read_yaml(&docker::dir().join(file));
        assert!(
            seq(&config["rule_files"], "rule_files").contains(&Yaml::from("objectives.yml")),
            "{file}"
        );
    }
}
