//! docker/alertmanager.yml: `amtool check-config`, the routes by severity and the
//! inhibitions.

use std::collections::BTreeSet;

use serde_norway::Value as Yaml;

use metrics_tests::docker::{self, as_str, every_alert_rule, read_yaml, seq};
use metrics_tests::tool::run_ok;

/// The receiver `amtool config routes test` picks for an alert with these labels.
fn route(labels: &[&str]) -> String {
    let mut args = vec!["config", "routes", "test", "--config.file=alertmanager.yml"];
    args.extend(labels);
    run_ok("amtool", &args, &docker::dir()).trim().to_owned()
}

#[test]
fn alertmanager_config_passes_amtool_and_routes_by_severity() {
    let dir = docker::dir();
    let out = run_ok("amtool", &["check-config", "alertmanager.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");
    // alerts.yml's severities, and the objectives' page and ticket (docker/objectives.yml).
    for (alertname, labels, receiver) in [
        ("HttpHigh5xxRatio", "severity=critical", "pager"),
        ("HttpHigh5xxRatio", "severity=warning", "tickets"),
        ("HttpHigh5xxRatio", "severity=info", "default"),
        ("ObjectiveSuccessBudgetBurn", "severity=page", "pager"),
        ("ObjectiveSuccessBudgetBurn", "severity=ticket", "tickets"),
        ("ObjectiveLatencyBudgetBurn", "severity=page", "pager"),
        ("ObjectiveLatencyBudgetBurn", "severity=ticket", "tickets"),
        // A severity that merely contains a routed one is not routed.
        ("ObjectiveLatencyBudgetBurn", "severity=pager", "default"),
    ] {
        let alertname = format!("alertname={alertname}");
        assert_eq!(
            route(&[&alertname, labels]),
            receiver,
            "{alertname} {labels}"
        );
    }
    // Every alert of every rule file reaches the pager or the tickets with the labels it
    // is sent with: pages and criticals to the pager, the rest to tickets.
    let severities: BTreeSet<String> = every_alert_rule()
        .iter()
        .map(|(_, rule)| as_str(&rule["labels"]["severity"], "severity").to_owned())
        .collect();
    assert_eq!(
        severities,
        BTreeSet::from(["critical", "page", "ticket", "warning"].map(str::to_owned)),
        "the severities the rules use"
    );
    for (name, rule) in every_alert_rule() {
        let severity = as_str(&rule["labels"]["severity"], "severity");
        let mut labels = vec![format!("alertname={name}"), format!("severity={severity}")];
        if let Some(slo) = rule["labels"]["slo"].as_str() {
            labels.extend([
                format!("slo={slo}"),
                "objective=checkout".to_owned(),
                "job=shop".to_owned(),
            ]);
        }
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let expected = if ["critical", "page"].contains(&severity) {
            "pager"
        } else {
            "tickets"
        };
        assert_eq!(route(&labels), expected, "{name} ({severity})");
    }

    // Grouped by gRPC method, objective and slo too; a critical mutes the warnings about the
    // same route, gRPC method or instance, an objective's page its ticket.
    let config = read_yaml(&dir.join("alertmanager.yml"));
    let group_by = seq(&config["route"]["group_by"], "group_by");
    for label in [
        "alertname",
        "job",
        "instance",
        "route",
        "grpc_service",
        "grpc_method",
        "objective",
        "slo",
    ] {
        assert!(group_by.contains(&Yaml::from(label)), "group_by {label}");
    }
    let inhibitions: Vec<(String, String, Vec<String>)> =
        seq(&config["inhibit_rules"], "inhibit_rules")
            .iter()
            .map(|rule| {
                let one = |key: &str| {
                    let matchers = seq(&rule[key], key);
                    assert_eq!(matchers.len(), 1, "{key}");
                    as_str(&matchers[0], key).to_owned()
                };
                let equal = seq(&rule["equal"], "equal")
                    .iter()
                    .map(|l| as_str(l, "equal").to_owned())
                    .collect();
                (one("source_matchers"), one("target_matchers"), equal)
            })
            .collect();
    let strings = |labels: &[&str]| labels.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        inhibitions,
        [
            (
                r#"severity="critical""#.to_owned(),
                r#"severity="warning""#.to_owned(),
                strings(&[
                    "job",
                    "instance",
                    "handler",
                    "route",
                    "grpc_service",
                    "grpc_method",
                ]),
            ),
            (
                r#"severity="page""#.to_owned(),
                r#"severity="ticket""#.to_owned(),
                strings(&["job", "objective", "slo"]),
            ),
        ]
    );
    // The objectives' alerts carry what the page-ticket inhibition compares.
    for (name, rule) in every_alert_rule() {
        if rule["labels"]["slo"].is_string() {
            let expr = as_str(&rule["expr"], "expr");
            assert!(
                expr.contains("job_objective_slo:"),
                "{name}: job, objective, slo"
            );
        }
    }

    // Webhook placeholders stay on loopback.
    for receiver in seq(&config["receivers"], "receivers") {
        for hook in seq(&receiver["webhook_configs"], "webhook_configs") {
            assert!(
                as_str(&hook["url"], "url").starts_with("http://127.0.0.1:"),
                "{hook:?}"
            );
        }
    }
}
