//! docker/alertmanager.yml: `amtool check-config` and the routes by severity.

use metrics_tests::docker::{self, alert_rules, as_str, read_yaml, seq};
use metrics_tests::tool::run_ok;

#[test]
fn alertmanager_config_passes_amtool_and_routes_by_severity() {
    let dir = docker::dir();
    let out = run_ok("amtool", &["check-config", "alertmanager.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");
    for (labels, receiver) in [
        ("severity=critical", "pager"),
        ("severity=warning", "tickets"),
        ("severity=info", "default"),
    ] {
        let out = run_ok(
            "amtool",
            &[
                "config",
                "routes",
                "test",
                "--config.file=alertmanager.yml",
                "alertname=HttpHigh5xxRatio",
                labels,
            ],
            &dir,
        );
        assert_eq!(out.trim(), receiver, "{labels}");
    }
    // Every severity the rules use has its own receiver.
    let config = read_yaml(&dir.join("alertmanager.yml"));
    let routed: Vec<String> = seq(&config["route"]["routes"], "routes")
        .iter()
        .flat_map(|r| seq(&r["matchers"], "matchers").clone())
        .map(|m| as_str(&m, "matcher").to_owned())
        .collect();
    for rule in alert_rules().values() {
        let severity = as_str(&rule["labels"]["severity"], "severity");
        assert!(
            routed.contains(&format!("severity=\"{severity}\"")),
            "{severity} is routed"
        );
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
