//! The ops stack under `docker/`, checked with the real tools and run for real:
//! `promtool` and `amtool` on the configs, `promtool test rules` on the alert unit tests,
//! Grafana's published schema on the dashboard, compose against the files it mounts, and a
//! live Prometheus + Alertmanager scraping the example service.
//!
//! Every external tool is required: a missing one is a failure, never a skip
//! (`scripts/test` installs them).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_norway::Value as Yaml;

use metrics_tests::workspace_root;

/// `docker/` in the workspace.
fn docker_dir() -> PathBuf {
    workspace_root().join("docker")
}

/// Reads a YAML file.
fn read_yaml(path: &Path) -> Yaml {
    let text =
        fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|err| panic!("parse {}: {err}", path.display()))
}

/// Writes a YAML file.
fn write_yaml(path: &Path, value: &Yaml) {
    let text = serde_norway::to_string(value).expect("serialize YAML");
    fs::write(path, text).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
}

/// Runs a required tool and returns its output; a tool that cannot be started fails the test.
fn run(tool: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run `{tool}` ({err}): it is required; scripts/test installs it")
        })
}

/// Runs a required tool and fails the test unless it succeeds; returns its stdout.
fn run_ok(tool: &str, args: &[&str], dir: &Path) -> String {
    let out = run(tool, args, dir);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{tool} {}` failed ({}):\n{stdout}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn as_str<'a>(value: &'a Yaml, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {value:?}"))
}

fn seq<'a>(value: &'a Yaml, what: &str) -> &'a Vec<Yaml> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("{what} is a list: {value:?}"))
}

/// The addresses and intervals of docker/prometheus.yml that a copy may change.
struct Rewrite<'a> {
    app: &'a str,
    alertmanager: &'a str,
    interval: Option<&'a str>,
}

/// docker/prometheus.yml with only the target addresses (and, for the live test, the
/// intervals) changed. Asserts the shape the rewrite relies on: one job `actix-app` with
/// one static target, one Alertmanager.
fn derived_prometheus_config(rewrite: &Rewrite<'_>) -> Yaml {
    let mut config = read_yaml(&docker_dir().join("prometheus.yml"));
    let jobs = config["scrape_configs"]
        .as_sequence_mut()
        .expect("scrape_configs");
    assert_eq!(jobs.len(), 1, "one scrape job");
    assert_eq!(jobs[0]["job_name"].as_str(), Some("actix-app"));
    let statics = jobs[0]["static_configs"]
        .as_sequence_mut()
        .expect("static_configs");
    assert_eq!(statics.len(), 1);
    assert_eq!(seq(&statics[0]["targets"], "targets").len(), 1);
    statics[0]["targets"] = Yaml::Sequence(vec![rewrite.app.into()]);

    let managers = config["alerting"]["alertmanagers"]
        .as_sequence_mut()
        .expect("alerting.alertmanagers");
    assert_eq!(managers.len(), 1, "one Alertmanager");
    let statics = managers[0]["static_configs"]
        .as_sequence_mut()
        .expect("alertmanager static_configs");
    assert_eq!(statics.len(), 1);
    statics[0]["targets"] = Yaml::Sequence(vec![rewrite.alertmanager.into()]);

    if let Some(interval) = rewrite.interval {
        for key in ["scrape_interval", "scrape_timeout", "evaluation_interval"] {
            config["global"][key] = interval.into();
        }
    }
    config
}

/// The `authorization:` block that docker/prometheus.yml shows commented out, uncommented.
fn commented_authorization_block() -> Yaml {
    let text = fs::read_to_string(docker_dir().join("prometheus.yml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "# authorization:")
        .expect("docker/prometheus.yml shows a commented `authorization:` block");
    let indent = lines[start].find('#').unwrap();
    let block: Vec<String> = lines[start..]
        .iter()
        .take_while(|l| l.trim_start().starts_with('#') && l.find('#') == Some(indent))
        .map(|l| l[indent + 1..].strip_prefix(' ').unwrap_or("").to_owned())
        .collect();
    let parsed: Yaml = serde_norway::from_str(&block.join("\n")).expect("the block is YAML");
    parsed["authorization"].clone()
}

#[test]
fn prometheus_config_passes_promtool_with_loopback_targets() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        docker_dir().join("alerts.yml"),
        dir.path().join("alerts.yml"),
    )
    .unwrap();
    let config = derived_prometheus_config(&Rewrite {
        app: "127.0.0.1:8080",
        alertmanager: "127.0.0.1:9093",
        interval: None,
    });
    assert_eq!(
        seq(&config["rule_files"], "rule_files"),
        &vec![Yaml::from("alerts.yml")],
        "the rules file next to the config"
    );
    write_yaml(&dir.path().join("prometheus.yml"), &config);
    let out = run_ok(
        "promtool",
        &["check", "config", "prometheus.yml"],
        dir.path(),
    );
    assert!(out.contains("SUCCESS: 1 rule files found"), "{out}");

    // The documented `authorization:` block, uncommented, is valid too.
    let mut config = config;
    let auth = commented_authorization_block();
    assert_eq!(auth["type"].as_str(), Some("Bearer"));
    let token_file = as_str(&auth["credentials_file"], "credentials_file");
    let mut auth = auth.clone();
    auth["credentials_file"] = dir.path().join("metrics_token").to_str().unwrap().into();
    fs::write(dir.path().join("metrics_token"), "t0ken\n").unwrap();
    config["scrape_configs"][0]["authorization"] = auth;
    write_yaml(&dir.path().join("prometheus.yml"), &config);
    run_ok(
        "promtool",
        &["check", "config", "prometheus.yml"],
        dir.path(),
    );
    assert!(
        token_file.starts_with("/etc/prometheus/"),
        "the token file sits in the mounted config folder: {token_file}"
    );
}

/// The rules of docker/alerts.yml by name.
fn alert_rules() -> BTreeMap<String, Yaml> {
    let rules = read_yaml(&docker_dir().join("alerts.yml"));
    let mut out = BTreeMap::new();
    for group in seq(&rules["groups"], "groups") {
        for rule in seq(&group["rules"], "rules") {
            let name = as_str(&rule["alert"], "every rule is an alert").to_owned();
            assert!(
                out.insert(name.clone(), rule.clone()).is_none(),
                "{name} twice"
            );
        }
    }
    out
}

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

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = docker_dir();
    let out = run_ok("promtool", &["check", "rules", "alerts.yml"], &dir);
    assert!(out.contains("SUCCESS: 7 rules found"), "{out}");
    let out = run_ok("promtool", &["test", "rules", "alerts.test.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");

    // Every rule: a `for:`, a known severity, the annotations, our families only.
    let ours = [
        "up",
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "http_request_duration_seconds_count",
        "http_requests_in_flight",
        "websocket_connection_duration_seconds_count",
        "websocket_messages_total",
    ];
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
            assert!(ours.contains(&metric.as_str()), "{name} selects {metric}");
        }
        assert!(expr.contains("job=\"actix-app\""), "{name} selects its job");
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
}

#[test]
fn alertmanager_config_passes_amtool_and_routes_by_severity() {
    let dir = docker_dir();
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
