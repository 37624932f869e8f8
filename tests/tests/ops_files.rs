//! The files of `docker/`, checked with the real tools: `promtool` and `amtool` on the
//! configs, `promtool test rules` on the alert unit tests, Grafana's published schema on the
//! dashboard, and compose against the files it mounts. `ops_live` runs them.
//!
//! Every external tool is required: a missing one is a failure, never a skip
//! (`scripts/test` installs them).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use metrics_tests::app::BIND_ADDR;
use metrics_tests::docker::{
    self, Rewrite, alert_rules, as_str, authorization_block, dashboards, panels, read_yaml, seq,
    write_yaml,
};
use metrics_tests::tool::run_ok;
use metrics_tests::workspace_root;

#[test]
fn prometheus_config_passes_promtool_with_loopback_targets() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        docker::dir().join("alerts.yml"),
        dir.path().join("alerts.yml"),
    )
    .unwrap();
    let config = docker::prometheus_config(&Rewrite {
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
    let auth = authorization_block();
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
    let dir = docker::dir();
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

/// A compose volume `host:container[:ro]`, the host path resolved against docker/.
fn mounts(service: &Yaml) -> Vec<(PathBuf, String)> {
    let Some(volumes) = service["volumes"].as_sequence() else {
        return Vec::new();
    };
    volumes
        .iter()
        .filter_map(|v| {
            let parts: Vec<&str> = as_str(v, "volume").split(':').collect();
            parts[0]
                .starts_with('.')
                .then(|| (docker::dir().join(parts[0]), parts[1].to_owned()))
        })
        .collect()
}

/// Where `container_path` comes from in a service's bind mounts.
fn mounted_from(service: &Yaml, container_path: &str) -> PathBuf {
    mounts(service)
        .into_iter()
        .find(|(_, target)| target == container_path)
        .map(|(host, _)| host)
        .unwrap_or_else(|| panic!("nothing is mounted at {container_path}"))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn compose_wires_the_tested_files_together() {
    let compose = read_yaml(&docker::dir().join("docker-compose.yml"));
    let services = &compose["services"];
    for name in ["app", "prometheus", "alertmanager", "grafana"] {
        assert!(services[name].is_mapping(), "service {name}");
    }
    // Every bind mount exists, and the published ports stay on loopback.
    for (name, service) in services.as_mapping().unwrap() {
        for (host, _) in mounts(service) {
            assert!(host.exists(), "{name:?} mounts {}", host.display());
        }
        for port in seq(&service["ports"], "ports") {
            assert!(
                as_str(port, "port").starts_with("127.0.0.1:"),
                "{name:?}: {port:?}"
            );
        }
    }

    // app: built by docker/Dockerfile, listening on 0.0.0.0:8080 (set here only).
    let app = &services["app"];
    assert_eq!(app["build"]["context"].as_str(), Some(".."));
    let dockerfile = workspace_root().join(as_str(&app["build"]["dockerfile"], "dockerfile"));
    let dockerfile = fs::read_to_string(&dockerfile).expect("the Dockerfile");
    assert!(dockerfile.matches("\nFROM ").count() >= 2, "multi-stage");
    assert!(dockerfile.contains("cargo build --release --locked -p actix-app"));
    assert!(dockerfile.contains("EXPOSE 8080"));
    assert!(
        !dockerfile.contains(&format!("ENV {BIND_ADDR}")),
        "{BIND_ADDR} is compose's"
    );
    let bind = as_str(&app["environment"][BIND_ADDR], BIND_ADDR);
    assert_eq!(bind, "0.0.0.0:8080");

    // prometheus: the tested config and rules, scraping `app` on its BIND_ADDR port and
    // alerting `alertmanager` on the port it publishes.
    let prometheus = &services["prometheus"];
    let config_path = mounted_from(prometheus, "/etc/prometheus/prometheus.yml");
    assert_eq!(
        canonical(&config_path),
        canonical(&docker::dir().join("prometheus.yml"))
    );
    let rules_path = mounted_from(prometheus, "/etc/prometheus/alerts.yml");
    assert_eq!(
        canonical(&rules_path),
        canonical(&docker::dir().join("alerts.yml"))
    );
    let config = read_yaml(&config_path);
    assert_eq!(
        config["scrape_configs"][0]["static_configs"][0]["targets"][0].as_str(),
        Some("app:8080")
    );
    assert_eq!(
        config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0].as_str(),
        Some("alertmanager:9093")
    );
    assert!(
        seq(&prometheus["command"], "command")
            .contains(&Yaml::from("--config.file=/etc/prometheus/prometheus.yml"))
    );
    let token_file = as_str(
        &authorization_block()["credentials_file"],
        "credentials_file",
    )
    .to_owned();
    let compose_text = fs::read_to_string(docker::dir().join("docker-compose.yml")).unwrap();
    assert!(
        compose_text.contains(&format!("./metrics_token:{token_file}:ro")),
        "compose shows the token mount for {token_file}"
    );

    // alertmanager: the tested config.
    let alertmanager = &services["alertmanager"];
    let am_config = mounted_from(alertmanager, "/etc/alertmanager/alertmanager.yml");
    assert_eq!(
        canonical(&am_config),
        canonical(&docker::dir().join("alertmanager.yml"))
    );
    assert!(seq(&alertmanager["ports"], "ports").contains(&Yaml::from("127.0.0.1:9093:9093")));

    // grafana: provisioning points at `prometheus` and at the mounted dashboards.
    let grafana = &services["grafana"];
    let provisioning = mounted_from(grafana, "/etc/grafana/provisioning");
    let datasources = read_yaml(&provisioning.join("datasources/prometheus.yml"));
    let datasource = &datasources["datasources"][0];
    assert_eq!(datasource["type"].as_str(), Some("prometheus"));
    assert_eq!(datasource["url"].as_str(), Some("http://prometheus:9090"));
    assert_eq!(
        datasource["jsonData"]["timeInterval"].as_str(),
        config["global"]["scrape_interval"].as_str(),
        "Grafana's $__rate_interval is built on the scrape interval"
    );
    let providers = read_yaml(&provisioning.join("dashboards/actix-app.yml"));
    let dashboards_path = as_str(&providers["providers"][0]["options"]["path"], "path");
    let dashboards = mounted_from(grafana, dashboards_path);
    assert_eq!(
        canonical(&dashboards),
        canonical(&docker::dir().join("grafana/dashboards"))
    );
    let home = as_str(
        &grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"],
        "home dashboard",
    );
    let home = home
        .strip_prefix(&format!("{dashboards_path}/"))
        .expect("the home dashboard is a mounted one");
    assert!(dashboards.join(home).exists(), "{home}");

    // The Grafana image is the version whose schema the dashboard is checked against.
    let image = as_str(&grafana["image"], "image");
    let lock: Json = serde_json::from_str(
        &fs::read_to_string(docker::dir().join("grafana/check/package-lock.json")).unwrap(),
    )
    .unwrap();
    let schema = lock["packages"]["node_modules/@grafana/schema"]["version"]
        .as_str()
        .expect("@grafana/schema in package-lock.json");
    assert_eq!(image, format!("grafana/grafana:{schema}"));
}

/// Whether every package of `package-lock.json` is installed in `node_modules` at its version.
fn node_modules_match_lock(dir: &Path) -> bool {
    let lock: Json =
        serde_json::from_str(&fs::read_to_string(dir.join("package-lock.json")).unwrap()).unwrap();
    lock["packages"]
        .as_object()
        .expect("lockfileVersion 3")
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .all(|(path, package)| {
            let installed = fs::read_to_string(dir.join(path).join("package.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<Json>(&text).ok());
            installed.is_some_and(|p| p["version"] == package["version"])
        })
}

#[test]
fn dashboard_matches_grafanas_published_schema() {
    // The offline schema check: @grafana/schema + tsc --noEmit (docker/grafana/check).
    let check = docker::dir().join("grafana/check");
    if !node_modules_match_lock(&check) {
        run_ok("npm", &["ci", "--no-audit", "--no-fund"], &check);
        assert!(
            node_modules_match_lock(&check),
            "npm ci installed the lock file"
        );
    }
    let out = run_ok("npm", &["run", "--silent", "check"], &check);
    assert!(out.contains("actix-app.json"), "{out}");

    // What the schema cannot say: variables, data source, unique ids, what is shown.
    for (file, dashboard) in dashboards() {
        let variables: BTreeMap<&str, &Json> = dashboard["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v))
            .collect();
        assert_eq!(variables["datasource"]["type"], "datasource");
        assert_eq!(variables["datasource"]["query"], "prometheus");
        for name in ["job", "handler", "route", "instance"] {
            assert_eq!(variables[name]["type"], "query", "{file}: ${name}");
        }
        let mut ids = BTreeSet::new();
        let mut titles = Vec::new();
        for panel in panels(&dashboard) {
            assert!(ids.insert(panel["id"].as_u64().unwrap()), "{file}: ids");
            titles.push(panel["title"].as_str().unwrap().to_owned());
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{file}: {}",
                panel["title"]
            );
            for target in panel["targets"].as_array().unwrap() {
                assert_eq!(target["datasource"]["uid"], "${datasource}");
                assert!(!target["expr"].as_str().unwrap().is_empty());
            }
        }
        for row in ["Overview", "Requests", "Latency", "Process", "WebSocket"] {
            assert!(titles.iter().any(|t| t.starts_with(row)), "row {row}");
        }
        let exprs: Vec<String> = panels(&dashboard)
            .iter()
            .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
            .map(|t| t["expr"].as_str().unwrap().to_owned())
            .collect();
        for needle in [
            "rate(http_requests_total",
            "status=~\"5..\"",
            "histogram_quantile(0.5,",
            "histogram_quantile(0.95,",
            "histogram_quantile(0.99,",
            "http_requests_in_flight",
            "sum by (status)",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "websocket_connections_active",
            "websocket_messages_total",
            "websocket_connection_duration_seconds_bucket",
        ] {
            assert!(
                exprs.iter().any(|e| e.contains(needle)),
                "{file}: a panel on {needle}"
            );
        }
    }
}
