//! Both compose files (one instance, scaled out) against the files they mount: targets,
//! cluster peers, remote write, the dedup interval, data sources.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use metrics_tests::app::Example;
use metrics_tests::docker::{self, as_str, authorization_block, compose_command, read_yaml, seq};
use metrics_tests::workspace_root;

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
/// Dockerfile and that each listens on `0.0.0.0` (set in compose only) in the variable its
/// example reads for `/metrics` (`BIND_ADDR`, the `METRICS_ADDR` of the worker and grpc-app).
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
        let job = service["build"]["args"]["APP"]
            .as_str()
            .unwrap_or("actix-app")
            .to_owned();
        let example = Example::ALL
            .into_iter()
            .find(|example| example.package() == job)
            .unwrap_or_else(|| panic!("{name}: APP={job} is no example"));
        // Every address it listens on (grpc-app: gRPC and /metrics).
        let port = |variable: &str| {
            assert!(
                !dockerfile.contains(&format!("ENV {variable}")),
                "{variable} is compose's"
            );
            let bind = as_str(&service["environment"][variable], variable);
            let port = bind
                .strip_prefix("0.0.0.0:")
                .unwrap_or_else(|| panic!("{name}: {variable}={bind}, reachable from the others"));
            let exposed = dockerfile
                .lines()
                .find_map(|line| line.strip_prefix("EXPOSE "))
                .expect("EXPOSE");
            assert!(exposed.split(' ').any(|p| p == port), "EXPOSE {port}");
            port.to_owned()
        };
        for variable in example.addr_variables() {
            port(variable);
        }
        let port = port(example.addr_variable());
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
    let command = seq(&service["command"], "command");
    assert!(command.contains(&Yaml::from("--config.file=/etc/prometheus/prometheus.yml")));
    // The exemplars of the OpenMetrics scrape are stored (docs/exemplars.md).
    assert!(command.contains(&Yaml::from("--enable-feature=exemplar-storage")));
    // The apps, and the Pushgateway the batch jobs push to, its groups' labels honored.
    let mut expected = apps.clone();
    expected.insert(
        "pushgateway".to_owned(),
        vec!["pushgateway:9091".to_owned()],
    );
    assert_eq!(
        &scrape_targets(&parsed),
        &expected,
        "{config}: the app services and the gateway"
    );
    let gateway = seq(&parsed["scrape_configs"], "scrape_configs")
        .iter()
        .find(|job| job["job_name"].as_str() == Some("pushgateway"))
        .expect("the pushgateway job");
    assert_eq!(gateway["honor_labels"].as_bool(), Some(true), "{config}");
    parsed
}

/// The compose file's Pushgateway: Debian's version (the tests run it), its port 9091
/// published on loopback at `host_port`.
fn check_pushgateway_service(services: &Yaml, host_port: u16) {
    let gateway = &services["pushgateway"];
    assert_eq!(
        gateway["image"].as_str(),
        Some("prom/pushgateway:v1.5.1"),
        "the version of Debian's prometheus-pushgateway"
    );
    assert!(
        seq(&gateway["ports"], "ports")
            .contains(&Yaml::from(format!("127.0.0.1:{host_port}:9091").as_str())),
        "pushgateway on 127.0.0.1:{host_port}"
    );
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
    for name in [
        "app",
        "axum-app",
        "worker",
        "grpc-app",
        "pushgateway",
        "prometheus",
        "alertmanager",
        "grafana",
    ] {
        assert!(services[name].is_mapping(), "service {name}");
    }
    // The apps, built by docker/Dockerfile: the actix example on 8080, the axum one on 8081,
    // the worker's exporter on 9464, grpc-app's on 9465 (gRPC on 50051).
    let apps = app_targets(&services);
    let expected: BTreeMap<String, Vec<String>> = [
        ("actix-app".to_owned(), vec!["app:8080".to_owned()]),
        ("axum-app".to_owned(), vec!["axum-app:8081".to_owned()]),
        ("worker".to_owned(), vec!["worker:9464".to_owned()]),
        ("grpc-app".to_owned(), vec!["grpc-app:9465".to_owned()]),
    ]
    .into();
    assert_eq!(apps, expected);

    // prometheus: the tested config and rules, scraping the apps on their BIND_ADDR port and
    // alerting `alertmanager` on the port it publishes.
    check_pushgateway_service(&services, 9091);
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
    // At least two replicas of the actix example; the axum example, the worker and grpc-app
    // as in the single stack.
    let apps = app_targets(&services);
    assert!(apps["actix-app"].len() >= 2, "replicas: {apps:?}");
    assert_eq!(apps["axum-app"], ["axum-app:8081"]);
    assert_eq!(apps["worker"], ["worker:9464"]);
    assert_eq!(apps["grpc-app"], ["grpc-app:9465"]);
    // One gateway for the pair, on 9092 of the host (9091 is prometheus-b's).
    check_pushgateway_service(&services, 9092);

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
