//! The three Prometheus configs: `promtool check config` on loopback targets, and the HA
//! pair against the single instance.

use std::fs;

use serde_norway::Value as Yaml;

use metrics_tests::docker::{
    self, Rewrite, as_str, authorization_block, read_yaml, seq, write_yaml,
};
use metrics_tests::tool::run_ok;

/// Loopback targets for every scrape job of a Prometheus config of docker/.
fn loopback_targets() -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("actix-app", vec!["127.0.0.1:8080".to_owned()]),
        ("axum-app", vec!["127.0.0.1:8081".to_owned()]),
        ("worker", vec!["127.0.0.1:9464".to_owned()]),
        ("grpc-app", vec!["127.0.0.1:9465".to_owned()]),
        ("pushgateway", vec!["127.0.0.1:9091".to_owned()]),
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
            &vec![
                Yaml::from("recording.yml"),
                Yaml::from("alerts.yml"),
                Yaml::from("objectives.yml"),
            ],
            "{file}: the rule files next to the config, aggregates first"
        );
        docker::write_rule_files(&config, dir.path(), &[]);
        write_yaml(&dir.path().join("prometheus.yml"), &config);
        let out = run_ok(
            "promtool",
            &["check", "config", "prometheus.yml"],
            dir.path(),
        );
        assert!(out.contains("SUCCESS: 3 rule files found"), "{file}: {out}");
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
