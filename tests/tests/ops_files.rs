//! The files of `docker/`, checked with the real tools: `promtool` and `amtool` on the
//! configs, `promtool test rules` on the recording and alert unit tests, Grafana's published
//! schema on the dashboard, and both compose files (one instance, scaled out) against the
//! files they mount. `ops_live` and `ops_scale` run them.
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
    self, Rewrite, alert_rules, as_str, authorization_block, compose_command, dashboards, panels,
    read_yaml, recording_rules, seq, write_yaml,
};
use metrics_tests::tool::run_ok;
use metrics_tests::workspace_root;

/// Loopback targets for every scrape job of a Prometheus config of docker/.
fn loopback_targets() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("actix-app", vec!["127.0.0.1:8080".to_owned()]),
        ("axum-app", vec!["127.0.0.1:8081".to_owned()]),
    ]
}

#[test]
fn prometheus_configs_pass_promtool_with_loopback_targets() {
    for (file, alertmanagers, remote_write) in [
        ("prometheus.yml", 1, None),
        (
            "prometheus-a.yml",
            2,
            Some("http://127.0.0.1:8428/api/v1/write"),
        ),
        (
            "prometheus-b.yml",
            2,
            Some("http://127.0.0.1:8428/api/v1/write"),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let alertmanagers: Vec<String> = (0..alertmanagers)
            .map(|i| format!("127.0.0.1:{}", 9093 + 2 * i))
            .collect();
        let config = docker::prometheus_config(&Rewrite {
            file,
            targets: &loopback_targets(),
            alertmanagers: &alertmanagers,
            remote_write,
            interval: None,
        });
        assert_eq!(
            seq(&config["rule_files"], "rule_files"),
            &vec![Yaml::from("recording.yml"), Yaml::from("alerts.yml")],
            "{file}: the rule files next to the config, aggregates first"
        );
        docker::write_rule_files(&config, dir.path(), &[]);
        write_yaml(&dir.path().join("prometheus.yml"), &config);
        let out = run_ok(
            "promtool",
            &["check", "config", "prometheus.yml"],
            dir.path(),
        );
        assert!(out.contains("SUCCESS: 2 rule files found"), "{file}: {out}");
    }

    // The documented `authorization:` block, uncommented, is valid too.
    let dir = tempfile::tempdir().unwrap();
    let mut config = docker::prometheus_config(&Rewrite {
        file: "prometheus.yml",
        targets: &loopback_targets(),
        alertmanagers: &["127.0.0.1:9093".to_owned()],
        remote_write: None,
        interval: None,
    });
    docker::write_rule_files(&config, dir.path(), &[]);
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

#[test]
fn the_ha_pair_differs_only_in_its_replica_label_and_drops_it_downstream() {
    let a = read_yaml(&docker::dir().join("prometheus-a.yml"));
    let b = read_yaml(&docker::dir().join("prometheus-b.yml"));
    assert_eq!(
        a["global"]["external_labels"]["replica"].as_str(),
        Some("A")
    );
    assert_eq!(
        b["global"]["external_labels"]["replica"].as_str(),
        Some("B")
    );
    let without_replica = |config: &Yaml| {
        let mut config = config.clone();
        config["global"]["external_labels"]
            .as_mapping_mut()
            .unwrap()
            .remove("replica");
        config
    };
    assert_eq!(without_replica(&a), without_replica(&b), "the same config");

    // `replica` is dropped from alerts (one alert for the pair) and from what is written
    // to long-term storage (one series for the pair, deduplicated there).
    let drop_replica =
        serde_norway::from_str::<Yaml>("[{action: labeldrop, regex: replica}]").unwrap();
    assert_eq!(a["alerting"]["alert_relabel_configs"], drop_replica);
    let writes = seq(&a["remote_write"], "remote_write");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0]["write_relabel_configs"], drop_replica);

    // The same scrape jobs as the single instance's, more targets; the same rules and
    // intervals.
    let single = read_yaml(&docker::dir().join("prometheus.yml"));
    let without_targets = |config: &Yaml| {
        let mut jobs = seq(&config["scrape_configs"], "scrape_configs").clone();
        for job in &mut jobs {
            job["static_configs"][0]["targets"] = Yaml::Null;
        }
        jobs
    };
    assert_eq!(without_targets(&a), without_targets(&single));
    assert_eq!(a["rule_files"], single["rule_files"]);
    for key in ["scrape_interval", "scrape_timeout", "evaluation_interval"] {
        assert_eq!(a["global"][key], single["global"][key], "{key}");
    }
    let replicas = seq(
        &a["scrape_configs"][0]["static_configs"][0]["targets"],
        "targets",
    );
    assert!(replicas.len() >= 2, "replicas: {replicas:?}");
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

/// The families track-metrics exports that the rules read, and Prometheus' `up`.
const OURS: [&str; 9] = [
    "up",
    "http_requests_total",
    "http_request_duration_seconds_bucket",
    "http_request_duration_seconds_count",
    "http_request_duration_seconds_sum",
    "http_requests_in_flight",
    "websocket_connection_duration_seconds_count",
    "websocket_messages_total",
    "websocket_connections_active",
];

/// The selector of the scrape jobs of docker/prometheus.yml.
const JOBS: &str = r#"job=~"actix-app|axum-app""#;

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
        // level:metric:operations, the level naming the labels kept by the first `sum by`.
        let parts: Vec<&str> = record.split(':').collect();
        assert_eq!(parts.len(), 3, "{record}: level:metric:operations");
        if let Some(by) = expr.split("sum by (").nth(1) {
            let kept: BTreeSet<&str> = by.split(')').next().unwrap().split(", ").collect();
            let level: BTreeSet<&str> = parts[0].split('_').collect();
            assert_eq!(kept, level, "{record}: the level names what is kept");
            assert!(!kept.contains("instance") || record.starts_with("job_instance:"));
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
}

#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    let dir = docker::dir();
    let out = run_ok("promtool", &["check", "rules", "alerts.yml"], &dir);
    assert!(out.contains("SUCCESS: 7 rules found"), "{out}");
    let out = run_ok("promtool", &["test", "rules", "alerts.test.yml"], &dir);
    assert!(out.contains("SUCCESS"), "{out}");

    // Every rule: a `for:`, a known severity, the annotations, our families and aggregates
    // only, both jobs.
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

/// The services of a compose file of docker/, after checking what holds for every one:
/// each bind mount exists, published ports stay on loopback.
fn compose_services(file: &str) -> Yaml {
    let services = docker::read_compose(file)["services"].clone();
    for (name, service) in services.as_mapping().unwrap() {
        for (host, _) in mounts(service) {
            assert!(host.exists(), "{file}: {name:?} mounts {}", host.display());
        }
        for port in seq(&service["ports"], "ports") {
            assert!(
                as_str(port, "port").starts_with("127.0.0.1:"),
                "{file}: {name:?}: {port:?}"
            );
        }
    }
    services
}

/// The app services of a compose file (built by docker/Dockerfile), as scrape targets
/// `service:port` by job (the build arg APP, actix-app by default), after checking the
/// Dockerfile and that each listens on `0.0.0.0` (set in compose only).
fn app_targets(services: &Yaml) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, service) in services.as_mapping().unwrap() {
        if service["build"].is_null() {
            continue;
        }
        let name = as_str(name, "service name");
        assert_eq!(service["build"]["context"].as_str(), Some(".."), "{name}");
        let dockerfile =
            workspace_root().join(as_str(&service["build"]["dockerfile"], "dockerfile"));
        let dockerfile = fs::read_to_string(&dockerfile).expect("the Dockerfile");
        assert!(dockerfile.matches("\nFROM ").count() >= 2, "multi-stage");
        assert!(dockerfile.contains("ARG APP=actix-app"));
        assert!(dockerfile.contains(r#"cargo build --release --locked -p "$APP" --bin "$APP""#));
        assert!(
            !dockerfile.contains(&format!("ENV {BIND_ADDR}")),
            "{BIND_ADDR} is compose's"
        );
        let job = service["build"]["args"]["APP"]
            .as_str()
            .unwrap_or("actix-app")
            .to_owned();
        let bind = as_str(&service["environment"][BIND_ADDR], BIND_ADDR);
        let port = bind
            .strip_prefix("0.0.0.0:")
            .unwrap_or_else(|| panic!("{name}: {BIND_ADDR}={bind}, reachable from the others"));
        assert!(
            dockerfile.contains("EXPOSE") && dockerfile.contains(port),
            "{port}"
        );
        out.entry(job).or_default().push(format!("{name}:{port}"));
    }
    out
}

/// The static targets of each scrape job of a Prometheus config.
fn scrape_targets(config: &Yaml) -> BTreeMap<String, Vec<String>> {
    seq(&config["scrape_configs"], "scrape_configs")
        .iter()
        .map(|job| {
            let targets = seq(&job["static_configs"][0]["targets"], "targets")
                .iter()
                .map(|t| as_str(t, "target").to_owned())
                .collect();
            (as_str(&job["job_name"], "job_name").to_owned(), targets)
        })
        .collect()
}

/// A compose Prometheus service: it mounts `config` and the rule files it names from
/// docker/, runs on it, and scrapes exactly the compose file's app services. Returns the
/// config.
fn check_prometheus_service(
    service: &Yaml,
    config: &str,
    apps: &BTreeMap<String, Vec<String>>,
) -> Yaml {
    let config_path = mounted_from(service, "/etc/prometheus/prometheus.yml");
    assert_eq!(
        canonical(&config_path),
        canonical(&docker::dir().join(config))
    );
    let parsed = read_yaml(&config_path);
    for rules in seq(&parsed["rule_files"], "rule_files") {
        let rules = as_str(rules, "rule file");
        let mounted = mounted_from(service, &format!("/etc/prometheus/{rules}"));
        assert_eq!(canonical(&mounted), canonical(&docker::dir().join(rules)));
    }
    assert!(
        seq(&service["command"], "command")
            .contains(&Yaml::from("--config.file=/etc/prometheus/prometheus.yml"))
    );
    assert_eq!(&scrape_targets(&parsed), apps, "{config}: the app services");
    parsed
}

/// The Alertmanager targets of a Prometheus config.
fn alertmanager_targets(config: &Yaml) -> Vec<String> {
    seq(
        &config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"],
        "targets",
    )
    .iter()
    .map(|t| as_str(t, "target").to_owned())
    .collect()
}

/// A compose Grafana service: its dashboards are the tested ones, its home one of them.
fn check_grafana_dashboards(grafana: &Yaml) {
    let providers = read_yaml(
        &mounted_under(grafana, "/etc/grafana/provisioning/dashboards").join("actix-app.yml"),
    );
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

/// A mount of `path` either directly or through a mount of a parent folder.
fn mounted_under(service: &Yaml, path: &str) -> PathBuf {
    mounts(service)
        .into_iter()
        .find_map(|(host, target)| {
            path.strip_prefix(&target)
                .map(|rest| host.join(rest.trim_start_matches('/')))
        })
        .unwrap_or_else(|| panic!("nothing is mounted at or above {path}"))
}

#[test]
fn compose_wires_the_tested_files_together() {
    let services = compose_services("docker-compose.yml");
    for name in ["app", "axum-app", "prometheus", "alertmanager", "grafana"] {
        assert!(services[name].is_mapping(), "service {name}");
    }
    // The apps, built by docker/Dockerfile: the actix example on 8080, the axum one on 8081.
    let apps = app_targets(&services);
    let expected: BTreeMap<String, Vec<String>> = [
        ("actix-app".to_owned(), vec!["app:8080".to_owned()]),
        ("axum-app".to_owned(), vec!["axum-app:8081".to_owned()]),
    ]
    .into();
    assert_eq!(apps, expected);

    // prometheus: the tested config and rules, scraping the apps on their BIND_ADDR port and
    // alerting `alertmanager` on the port it publishes.
    let prometheus = &services["prometheus"];
    let config = check_prometheus_service(prometheus, "prometheus.yml", &apps);
    assert_eq!(alertmanager_targets(&config), ["alertmanager:9093"]);
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
    check_grafana_dashboards(grafana);
}

#[test]
fn compose_scale_wires_the_replicas_the_pair_the_cluster_and_victoriametrics() {
    let file = "docker-compose.scale.yml";
    let services = compose_services(file);
    let single = compose_services("docker-compose.yml");
    // At least two replicas of the actix example; the axum example as in the single stack.
    let apps = app_targets(&services);
    assert!(apps["actix-app"].len() >= 2, "replicas: {apps:?}");
    assert_eq!(apps["axum-app"], ["axum-app:8081"]);

    // The pair: each on its config, scraping every replica, alerting every member of the
    // cluster, writing to VictoriaMetrics.
    let members: Vec<&str> = ["alertmanager-1", "alertmanager-2"].into();
    let victoria = &services["victoriametrics"];
    let vm_flags = compose_command(file, "victoriametrics");
    let flag = |name: &str| -> String {
        vm_flags
            .iter()
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("victoriametrics sets {name}"))
            .to_owned()
    };
    let vm_port = flag("-httpListenAddr").trim_start_matches(':').to_owned();
    assert!(
        victoria["image"]
            .as_str()
            .unwrap()
            .starts_with("victoriametrics/victoria-metrics:")
    );
    let mut intervals = BTreeSet::new();
    for (service, config) in [
        ("prometheus-a", "prometheus-a.yml"),
        ("prometheus-b", "prometheus-b.yml"),
    ] {
        let parsed = check_prometheus_service(&services[service], config, &apps);
        let targets: Vec<String> = members.iter().map(|m| format!("{m}:9093")).collect();
        assert_eq!(alertmanager_targets(&parsed), targets, "{config}");
        assert_eq!(
            parsed["remote_write"][0]["url"].as_str(),
            Some(format!("http://victoriametrics:{vm_port}/api/v1/write").as_str()),
            "{config}"
        );
        intervals
            .insert(as_str(&parsed["global"]["scrape_interval"], "scrape_interval").to_owned());
        assert_eq!(services[service]["image"], single["prometheus"]["image"]);
    }
    // VictoriaMetrics keeps one sample per scrape interval.
    assert_eq!(intervals.len(), 1);
    assert_eq!(
        flag("-dedup.minScrapeInterval"),
        intervals.first().unwrap().as_str(),
        "dedup interval = scrape interval"
    );
    assert!(
        victoria["volumes"]
            .as_sequence()
            .is_some_and(|v| !v.is_empty()),
        "a volume"
    );

    // The cluster: the tested config, each member gossiping with the other.
    for (i, member) in members.iter().enumerate() {
        let service = &services[*member];
        let am_config = mounted_from(service, "/etc/alertmanager/alertmanager.yml");
        assert_eq!(
            canonical(&am_config),
            canonical(&docker::dir().join("alertmanager.yml"))
        );
        assert_eq!(service["image"], single["alertmanager"]["image"]);
        let command = compose_command(file, member);
        assert!(command.contains(&"--cluster.listen-address=0.0.0.0:9094".to_owned()));
        let peers: Vec<&String> = command
            .iter()
            .filter(|a| a.starts_with("--cluster.peer="))
            .collect();
        assert_eq!(
            peers,
            [&format!("--cluster.peer={}:9094", members[1 - i])],
            "{member}"
        );
    }

    // grafana: the tested dashboards, data sources on VictoriaMetrics (default) and on each
    // of the pair, at the scrape interval.
    let grafana = &services["grafana"];
    check_grafana_dashboards(grafana);
    assert_eq!(grafana["image"], single["grafana"]["image"]);
    let datasources = mounted_under(grafana, "/etc/grafana/provisioning/datasources");
    let datasources = read_yaml(&datasources.join("datasources.yml"));
    let urls: Vec<(&str, bool)> = seq(&datasources["datasources"], "datasources")
        .iter()
        .map(|d| {
            assert_eq!(d["type"].as_str(), Some("prometheus"));
            assert_eq!(
                d["jsonData"]["timeInterval"].as_str(),
                intervals.first().map(String::as_str)
            );
            (
                as_str(&d["url"], "url"),
                d["isDefault"].as_bool() == Some(true),
            )
        })
        .collect();
    assert_eq!(
        urls,
        [
            (format!("http://victoriametrics:{vm_port}").as_str(), true),
            ("http://prometheus-a:9090", false),
            ("http://prometheus-b:9090", false),
        ]
    );
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
    let recorded: BTreeSet<String> = recording_rules().into_iter().map(|(r, _)| r).collect();
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
        // Every job, one or several, all by default.
        let job = variables["job"];
        assert_eq!(
            job["query"]["query"],
            "label_values(http_requests_total, job)"
        );
        assert_eq!(job["multi"], true);
        assert_eq!(job["includeAll"], true);
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
                let expr = target["expr"].as_str().unwrap();
                // Filtered by the job variable; aggregates read from the recording rules.
                let metrics = selected_metrics(expr);
                assert!(!metrics.is_empty(), "{file}: {expr}");
                for metric in metrics {
                    assert!(
                        expr.contains(&format!("{metric}{{job=~\"$job\"")),
                        "{file}: {metric} filtered by $job in {expr}"
                    );
                    assert!(
                        !metric.contains(':') || recorded.contains(&metric),
                        "{file}: {metric} is a recording rule"
                    );
                }
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
            "job_handler_method_route:http_requests:rate5m{",
            "job_handler_method_route:http_requests_5xx:ratio_rate5m{",
            "status=~\"5..\"",
            "job_handler_method_route:http_request_duration_seconds:p50_rate5m{",
            "job_handler_method_route:http_request_duration_seconds:p95_rate5m{",
            "job_handler_method_route:http_request_duration_seconds:p99_rate5m{",
            "histogram_quantile(0.95, sum by (le) (job_handler_method_route_le:",
            "job_handler_method_route:http_requests_in_flight:sum{",
            "job_instance:http_requests:rate5m{",
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
