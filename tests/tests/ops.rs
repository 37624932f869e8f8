//! The ops stack under `docker/`, checked with the real tools and run for real:
//! `promtool` and `amtool` on the configs, `promtool test rules` on the alert unit tests,
//! Grafana's published schema on the dashboard, compose against the files it mounts, and a
//! live Prometheus + Alertmanager scraping the example service.
//!
//! Every external tool is required: a missing one is a failure, never a skip
//! (`scripts/test` installs them).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;
use tungstenite::Message;

use metrics_tests::app::RunningApp;
use metrics_tests::http::{get, post};
use metrics_tests::wait::wait_for;
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

// ------------------------------------------------------------------ compose and Grafana files

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
                .then(|| (docker_dir().join(parts[0]), parts[1].to_owned()))
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
    let compose = read_yaml(&docker_dir().join("docker-compose.yml"));
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
        !dockerfile.contains("ENV BIND_ADDR"),
        "BIND_ADDR is compose's"
    );
    let bind = as_str(&app["environment"]["BIND_ADDR"], "BIND_ADDR");
    assert_eq!(bind, "0.0.0.0:8080");

    // prometheus: the tested config and rules, scraping `app` on its BIND_ADDR port and
    // alerting `alertmanager` on the port it publishes.
    let prometheus = &services["prometheus"];
    let config_path = mounted_from(prometheus, "/etc/prometheus/prometheus.yml");
    assert_eq!(
        canonical(&config_path),
        canonical(&docker_dir().join("prometheus.yml"))
    );
    let rules_path = mounted_from(prometheus, "/etc/prometheus/alerts.yml");
    assert_eq!(
        canonical(&rules_path),
        canonical(&docker_dir().join("alerts.yml"))
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
        &commented_authorization_block()["credentials_file"],
        "credentials_file",
    )
    .to_owned();
    let compose_text = fs::read_to_string(docker_dir().join("docker-compose.yml")).unwrap();
    assert!(
        compose_text.contains(&format!("./metrics_token:{token_file}:ro")),
        "compose shows the token mount for {token_file}"
    );

    // alertmanager: the tested config.
    let alertmanager = &services["alertmanager"];
    let am_config = mounted_from(alertmanager, "/etc/alertmanager/alertmanager.yml");
    assert_eq!(
        canonical(&am_config),
        canonical(&docker_dir().join("alertmanager.yml"))
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
        canonical(&docker_dir().join("grafana/dashboards"))
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
        &fs::read_to_string(docker_dir().join("grafana/check/package-lock.json")).unwrap(),
    )
    .unwrap();
    let schema = lock["packages"]["node_modules/@grafana/schema"]["version"]
        .as_str()
        .expect("@grafana/schema in package-lock.json");
    assert_eq!(image, format!("grafana/grafana:{schema}"));
}

/// docker/grafana/dashboards/*.json.
fn dashboards() -> Vec<(String, Json)> {
    let dir = docker_dir().join("grafana/dashboards");
    let mut out = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = fs::read_to_string(&path).unwrap();
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            out.push((
                path.file_name().unwrap().to_string_lossy().into_owned(),
                json,
            ));
        }
    }
    assert!(!out.is_empty(), "a dashboard in {}", dir.display());
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        out.push(panel);
        if let Some(nested) = panel["panels"].as_array() {
            out.extend(nested);
        }
    }
    out
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
    let check = docker_dir().join("grafana/check");
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

// ------------------------------------------------------------------ live: Prometheus + Alertmanager

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server started by a test; its output goes to a log file; killed when dropped.
struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(name: &'static str, program: &str, args: &[String], log: PathBuf) -> Daemon {
        let file = fs::File::create(&log).unwrap();
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|err| {
                panic!("cannot start `{program}` ({err}): it is required; scripts/test installs it")
            });
        Daemon { name, child, log }
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    // Fails the test, with the log, if the server has exited.
    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("{} exited ({status}):\n{}", self.name, self.log());
        }
    }

    fn wait_ready(&mut self, base: &str) {
        let url = format!("{base}/-/ready");
        wait_for(
            &format!("{} to be ready", self.name),
            Duration::from_secs(30),
            || {
                self.assert_running();
                (http_get(&url, &[]).map(|r| r.0) == Some(200)).then_some(())
            },
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("--- {} log, last lines:\n{}", self.name, tail.join("\n"));
        }
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into()
    })
}

/// `GET url?query`: status and JSON body, `None` if nothing answers (yet).
fn http_get(url: &str, query: &[(&str, &str)]) -> Option<(u16, Json)> {
    let mut request = agent().get(url);
    for (key, value) in query {
        request = request.query(*key, *value);
    }
    let mut response = request.call().ok()?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().ok()?;
    Some((status, serde_json::from_str(&body).unwrap_or(Json::Null)))
}

/// The HTTP API of a test Prometheus.
struct PromApi {
    base: String,
}

impl PromApi {
    /// The `data` of a successful API answer, or the error Prometheus gave.
    fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Json, String> {
        let (status, body) = http_get(&format!("{}{path}", self.base), query)
            .unwrap_or_else(|| panic!("Prometheus answers {path}"));
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(format!("{status} {}: {}", body["errorType"], body["error"]))
        }
    }

    /// The value of an instant query with at most one series.
    fn value(&self, expr: &str) -> Result<Option<String>, String> {
        match self.query(expr)?.as_slice() {
            [] => Ok(None),
            [one] => Ok(one["value"][1].as_str().map(str::to_owned)),
            more => Err(format!("{expr}: {more:?}")),
        }
    }

    /// An instant query: its result vector.
    fn query(&self, expr: &str) -> Result<Vec<Json>, String> {
        let data = self.api("/api/v1/query", &[("query", expr)])?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }
}

/// WebSocket connections of the example's `/ws` that ended, close frames it received, and
/// connections open.
const WS_ENDED: &str =
    r#"sum(websocket_connection_duration_seconds_count{job="actix-app", handler="ws"})"#;
const WS_CLOSES: &str = r#"sum(websocket_messages_total{job="actix-app", handler="ws", direction="received", kind="close"})"#;
const WS_ACTIVE: &str = r#"sum(websocket_connections_active{job="actix-app", handler="ws"})"#;

/// `http_requests_total` as `(handler, method, route, status)` → count.
type Counts = BTreeMap<(String, String, String, String), f64>;

fn counts_in_prometheus(prom: &PromApi) -> Counts {
    let result = prom
        .query(r#"http_requests_total{job="actix-app"}"#)
        .expect("query http_requests_total");
    result
        .iter()
        .map(|s| {
            let m = &s["metric"];
            let label = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
            let value: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
            (
                (
                    label("handler"),
                    label("method"),
                    label("route"),
                    label("status"),
                ),
                value,
            )
        })
        .collect()
}

/// Requests sent to the app, checked one by one, and what they must count.
struct Traffic<'a> {
    app: &'a RunningApp,
    sent: Mutex<Counts>,
}

impl Traffic<'_> {
    fn count(&self, handler: &str, method: &str, route: &str, status: u16) {
        let key = (
            handler.to_owned(),
            method.to_owned(),
            route.to_owned(),
            status.to_string(),
        );
        *self.sent.lock().unwrap().entry(key).or_default() += 1.0;
    }

    fn get(&self, path: &str, status: u16, handler: &str, route: &str) {
        let response = get(&self.app.url(path), &[]);
        assert_eq!(response.status, status, "GET {path}: {}", response.body);
        self.count(handler, "GET", route, status);
    }

    fn post_user(&self, body: &str, status: u16) {
        let response = post(&self.app.url("/users"), "application/json", body);
        assert_eq!(response.status, status, "POST /users {body}");
        self.count("create_user", "POST", "/users", status);
    }

    /// A WebSocket echo that ends with a close frame from us (clean), or by dropping the
    /// TCP connection (abnormal).
    fn websocket(&self, clean: bool) {
        let stream = TcpStream::connect(&self.app.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let (mut socket, response) =
            tungstenite::client(format!("ws://{}/ws", self.app.addr), stream)
                .expect("WebSocket handshake");
        assert_eq!(response.status().as_u16(), 101);
        self.count("ws", "GET", "/ws", 101);
        socket.send(Message::text("hello")).expect("send");
        assert_eq!(socket.read().expect("echo"), Message::text("hello"));
        if clean {
            socket.close(None).expect("send close");
            loop {
                match socket.read() {
                    Ok(Message::Close(_)) => {}
                    Ok(other) => panic!("after close: {other:?}"),
                    Err(tungstenite::Error::ConnectionClosed) => break,
                    Err(err) => panic!("closing: {err}"),
                }
            }
        }
    }

    fn sent(&self) -> Counts {
        self.sent.lock().unwrap().clone()
    }
}

/// A temporary directory with a Prometheus config derived from docker/prometheus.yml (only
/// the target addresses and the intervals changed), the rules of docker/alerts.yml with
/// `for:` overridden for the named alerts, and Prometheus started on it.
fn start_prometheus(
    dir: &Path,
    app: &str,
    alertmanager: &str,
    for_overrides: &[(&str, &str)],
    authorization: Option<Yaml>,
) -> (Daemon, PromApi) {
    let mut config = derived_prometheus_config(&Rewrite {
        app,
        alertmanager,
        interval: Some("1s"),
    });
    if let Some(auth) = authorization {
        config["scrape_configs"][0]["authorization"] = auth;
    }
    write_yaml(&dir.join("prometheus.yml"), &config);
    let mut rules = read_yaml(&docker_dir().join("alerts.yml"));
    for group in rules["groups"].as_sequence_mut().unwrap() {
        for rule in group["rules"].as_sequence_mut().unwrap() {
            let name = rule["alert"].as_str().unwrap().to_owned();
            if let Some((_, duration)) = for_overrides.iter().find(|(n, _)| *n == name) {
                rule["for"] = (*duration).into();
            }
        }
    }
    write_yaml(&dir.join("alerts.yml"), &rules);
    let port = free_port();
    let args = [
        format!("--config.file={}", dir.join("prometheus.yml").display()),
        format!("--storage.tsdb.path={}", dir.join("data").display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
    ]
    .to_vec();
    let mut daemon = Daemon::start(
        "prometheus",
        "prometheus",
        &args,
        dir.join("prometheus.log"),
    );
    let base = format!("http://127.0.0.1:{port}");
    daemon.wait_ready(&base);
    (daemon, PromApi { base })
}

/// Replaces the dashboard's template variables as Grafana would with "All" selected.
fn substitute(expr: &str) -> String {
    let mut out = expr.to_owned();
    for (name, value) in [
        ("__rate_interval", "1m"),
        ("__range", "5m"),
        ("instance", ".*"),
        ("handler", ".*"),
        ("route", ".*"),
        ("job", "actix-app"),
    ] {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    assert!(!out.contains('$'), "an unknown variable in {out}");
    out
}

/// The `{{label}}` names of a legend format.
fn legend_labels(legend: &str) -> Vec<String> {
    legend
        .split("{{")
        .skip(1)
        .filter_map(|part| part.split_once("}}"))
        .map(|(name, _)| name.trim().to_owned())
        .collect()
}

/// The expressions of the `promql` blocks of the README's "Operating it" section: `#` lines
/// are comments, indented lines continue the expression above.
fn readme_promql() -> Vec<String> {
    let readme = fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let section = readme
        .split_once("\n## Operating it\n")
        .expect("README has an \"Operating it\" section")
        .1;
    let section = section.split("\n## ").next().unwrap();
    let mut exprs: Vec<String> = Vec::new();
    for block in section.split("```promql\n").skip(1) {
        let block = block.split("```").next().unwrap();
        for line in block.lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            match exprs.last_mut() {
                Some(last) if line.starts_with(' ') => {
                    last.push('\n');
                    last.push_str(line);
                }
                _ => exprs.push(line.to_owned()),
            }
        }
    }
    exprs
}

/// Polls the Prometheus API until `check` holds, failing with the last thing it saw.
fn poll<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn live_prometheus_scrapes_the_app_evaluates_every_query_and_alerts_alertmanager() {
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start(&[]); // builds the app first: not timed
    let started = Instant::now();

    // Alertmanager with docker/alertmanager.yml as it is, on loopback, no cluster.
    let am_port = free_port();
    let am_base = format!("http://127.0.0.1:{am_port}");
    let mut alertmanager = Daemon::start(
        "alertmanager",
        "prometheus-alertmanager",
        &[
            format!(
                "--config.file={}",
                docker_dir().join("alertmanager.yml").display()
            ),
            format!("--storage.path={}", dir.path().join("am").display()),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".to_owned(),
        ],
        dir.path().join("alertmanager.log"),
    );
    // The 5xx rules fire at once here, so that the driven traffic reaches Alertmanager.
    let (mut prometheus, prom) = start_prometheus(
        dir.path(),
        &app.addr,
        &format!("127.0.0.1:{am_port}"),
        &[("HttpHigh5xxRatio", "0s"), ("HttpElevated5xxRatio", "0s")],
        None,
    );
    alertmanager.wait_ready(&am_base);

    // The target is discovered and up.
    let target = poll("the target to be up", Duration::from_secs(30), || {
        prometheus.assert_running();
        let data = prom.api("/api/v1/targets", &[])?;
        let targets = data["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let up = prom.value(r#"up{job="actix-app"}"#)?;
        match targets.as_slice() {
            [t] if t["health"] == "up" && up.as_deref() == Some("1") => Ok(t.clone()),
            other => Err(format!("{other:?}, up {up:?}")),
        }
    });
    assert_eq!(target["labels"]["job"], "actix-app");
    assert_eq!(
        target["scrapeUrl"],
        format!("http://{}/metrics", app.addr).as_str()
    );

    // Traffic of every kind, in two rounds: the first creates the series, so that the
    // second is seen by rate() (a series' first sample has no increase).
    let traffic = Traffic {
        app: &app,
        sent: Mutex::new(Counts::new()),
    };
    let round = |n: usize| {
        for i in 0..n {
            traffic.get("/", 200, "index", "/");
            traffic.get(&format!("/users/{}", i + 1), 200, "get_user", "/users/{id}");
            traffic.get(
                &format!("/users/{}", 900 + i),
                404,
                "get_user",
                "/users/{id}",
            );
            traffic.post_user(r#"{"name":"ada"}"#, 201);
            traffic.post_user(r#"{"name": "#, 400);
            traffic.get("/slow?ms=99999", 400, "slow", "/slow");
            traffic.get("/health", 200, "health", "/health");
            traffic.get("/test-metrics", 200, "test_metrics", "/test-metrics");
        }
    };
    let slow = |n: usize| {
        std::thread::scope(|s| {
            for _ in 0..n.min(20) {
                s.spawn(|| {
                    for _ in 0..n.div_ceil(20) {
                        traffic.get("/slow?ms=600", 200, "slow", "/slow");
                    }
                });
            }
        });
    };
    let errors = |n: usize| {
        for _ in 0..n {
            traffic.get("/error", 500, "error", "/error");
        }
    };
    round(1);
    slow(1);
    errors(1);
    traffic.websocket(true);
    let sent = traffic.sent();
    poll(
        "the first round in Prometheus",
        Duration::from_secs(20),
        || {
            // The WebSocket series too: its end and received close are in the next scrapes.
            let seen = counts_in_prometheus(&prom);
            let ws = (prom.value(WS_ENDED)?, prom.value(WS_CLOSES)?);
            let one = Some("1".to_owned());
            (seen == sent && ws == (one.clone(), one))
                .then_some(())
                .ok_or(format!("{seen:?} {ws:?}"))
        },
    );

    round(5);
    slow(40); // p95 of /slow above 500ms, above the 0.1 req/s floor
    errors(40); // /error: 100% 5xx, above the floor
    traffic.websocket(true);
    for _ in 0..7 {
        traffic.websocket(false); // ended without a close frame
    }
    let sent = traffic.sent();
    poll(
        "http_requests_total to match the traffic",
        Duration::from_secs(20),
        || {
            let seen = counts_in_prometheus(&prom);
            (seen == sent)
                .then_some(())
                .ok_or(format!("{seen:?}\nsent {sent:?}"))
        },
    );
    // The WebSocket connections have all ended, and Prometheus has seen it.
    poll(
        "the WebSocket connections to end",
        Duration::from_secs(20),
        || {
            let ws = (
                prom.value(WS_ENDED)?,
                prom.value(WS_CLOSES)?,
                prom.value(WS_ACTIVE)?,
            );
            let expected = (Some("9".into()), Some("2".into()), Some("0".into()));
            (ws == expected)
                .then_some(())
                .ok_or(format!("ended, closes, active: {ws:?}"))
        },
    );

    // Every dashboard query evaluates and has data after this traffic, with the labels its
    // legend names; every variable query finds values.
    for (file, dashboard) in dashboards() {
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().cloned().unwrap_or_default() {
                let expr = substitute(target["expr"].as_str().unwrap());
                let title = panel["title"].as_str().unwrap();
                let result = prom
                    .query(&expr)
                    .unwrap_or_else(|err| panic!("{file} / {title}: {err}\n{expr}"));
                assert!(!result.is_empty(), "{file} / {title}: no data\n{expr}");
                let legend = target["legendFormat"].as_str().unwrap_or_default();
                for label in legend_labels(legend) {
                    for series in &result {
                        assert!(
                            series["metric"][&label].is_string(),
                            "{file} / {title}: legend {{{{{label}}}}} not in {series}"
                        );
                    }
                }
            }
        }
        for variable in dashboard["templating"]["list"].as_array().unwrap() {
            if variable["type"] != "query" {
                continue;
            }
            let query = variable["query"]["query"].as_str().unwrap();
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .unwrap_or_else(|| panic!("a label_values() query: {query}"));
            let (selector, label) = inner.rsplit_once(',').expect("selector, label");
            let selector = substitute(selector.trim());
            let label = label.trim();
            let series = prom
                .api("/api/v1/series", &[("match[]", &selector)])
                .unwrap_or_else(|err| panic!("{file}: ${}: {err}", variable["name"]));
            let values: BTreeSet<&str> = series
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s[label].as_str())
                .collect();
            let expected = match label {
                "job" => vec!["actix-app"],
                "handler" => vec!["index", "get_user", "create_user", "slow", "error", "ws"],
                "route" => vec!["/", "/users/{id}", "/users", "/slow", "/error", "/ws"],
                "instance" => vec![app.addr.as_str()],
                other => panic!("a variable on {other}"),
            };
            for value in expected {
                assert!(values.contains(value), "${label}: {value} in {values:?}");
            }
        }
    }

    // Every alert expression evaluates; the traffic makes exactly these return data, on
    // exactly these routes/handlers.
    let expect_data: BTreeMap<&str, &str> = [
        ("HttpHigh5xxRatio", "/error"),
        ("HttpElevated5xxRatio", "/error"),
        ("HttpSlowP95", "/slow"),
        ("WebSocketAbnormalClosures", "ws"),
    ]
    .into();
    for (name, rule) in alert_rules() {
        let expr = as_str(&rule["expr"], "expr");
        let result = prom
            .query(expr)
            .unwrap_or_else(|err| panic!("{name}: {err}\n{expr}"));
        match expect_data.get(name.as_str()) {
            Some(&where_) => {
                let keys: Vec<String> = result
                    .iter()
                    .map(|s| {
                        let m = &s["metric"];
                        m["route"]
                            .as_str()
                            .or(m["handler"].as_str())
                            .unwrap_or("")
                            .to_owned()
                    })
                    .collect();
                assert_eq!(keys, [where_], "{name}: {result:?}");
            }
            None => assert!(result.is_empty(), "{name} must be quiet: {result:?}"),
        }
    }
    // The README's PromQL evaluates and has data.
    let readme_queries = readme_promql();
    assert!(readme_queries.len() >= 10, "{readme_queries:?}");
    for expr in readme_queries {
        let result = prom
            .query(&expr)
            .unwrap_or_else(|err| panic!("README: {err}\n{expr}"));
        assert!(!result.is_empty(), "README: no data\n{expr}");
    }
    // Prometheus evaluated every rule without error.
    poll("every rule evaluated", Duration::from_secs(10), || {
        let data = prom.api("/api/v1/rules", &[])?;
        let rules: Vec<Json> = data["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        let all_ok = rules.len() == 7
            && rules
                .iter()
                .all(|r| r["health"] == "ok" && r["lastError"].as_str().unwrap_or("").is_empty());
        all_ok.then_some(()).ok_or(format!("{rules:?}"))
    });

    // The critical alert reaches Alertmanager, routed to the pager; the warning on the same
    // route is inhibited by it and routed to tickets.
    let alerts = poll(
        "the 5xx alerts in Alertmanager",
        Duration::from_secs(30),
        || {
            alertmanager.assert_running();
            let (_, alerts) =
                http_get(&format!("{am_base}/api/v2/alerts"), &[]).ok_or("no answer".to_owned())?;
            let find = |name: &str| {
                alerts
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["labels"]["alertname"] == name && a["labels"]["route"] == "/error")
                    .cloned()
            };
            match (find("HttpHigh5xxRatio"), find("HttpElevated5xxRatio")) {
                (Some(critical), Some(warning)) if warning["status"]["state"] == "suppressed" => {
                    Ok((critical, warning))
                }
                _ => Err(alerts.to_string()),
            }
        },
    );
    let (critical, warning) = alerts;
    assert_eq!(critical["status"]["state"], "active", "{critical}");
    assert_eq!(critical["labels"]["severity"], "critical");
    assert_eq!(critical["labels"]["handler"], "error");
    assert_eq!(critical["labels"]["method"], "GET");
    assert_eq!(critical["annotations"]["summary"], "GET /error: 100% 5xx");
    assert_eq!(critical["receivers"][0]["name"], "pager");
    assert_eq!(
        warning["status"]["inhibitedBy"],
        Json::from(vec![critical["fingerprint"].clone()]),
        "{warning}"
    );
    assert_eq!(warning["receivers"][0]["name"], "tickets");

    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
    drop(prometheus);
    drop(alertmanager);
}

#[test]
fn live_the_documented_authorization_block_scrapes_a_protected_app() {
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start(&[("METRICS_TOKEN", "s3cret-t0ken")]);
    let token_file = dir.path().join("metrics_token");
    fs::write(&token_file, "s3cret-t0ken\n").unwrap();
    let mut auth = commented_authorization_block();
    auth["credentials_file"] = token_file.to_str().unwrap().into();
    let (mut prometheus, prom) =
        start_prometheus(dir.path(), &app.addr, "127.0.0.1:9", &[], Some(auth));
    assert_eq!(get(&app.url("/metrics"), &[]).status, 401, "protected");
    poll(
        "the protected target to be up",
        Duration::from_secs(30),
        || {
            prometheus.assert_running();
            let up = prom.query(r#"up{job="actix-app"}"#)?;
            (up.len() == 1 && up[0]["value"][1] == "1")
                .then_some(())
                .ok_or(format!("{up:?}"))
        },
    );
    let families = prom.query(r#"process_open_fds{job="actix-app"}"#).unwrap();
    assert_eq!(families.len(), 1, "the scrape carries the metrics");
}
