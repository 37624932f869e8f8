//! The files of `docker/`, read as the tools read them, and the copies of them the ops
//! tests run on: the same configuration with only the addresses (and, live, the
//! intervals and some `for:`) changed.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use crate::workspace_root;

/// `docker/` in the workspace.
pub fn dir() -> PathBuf {
    workspace_root().join("docker")
}

/// Reads a YAML file.
pub fn read_yaml(path: &Path) -> Yaml {
    let text =
        fs::read_to_string(path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()));
    serde_norway::from_str(&text).unwrap_or_else(|err| panic!("parse {}: {err}", path.display()))
}

/// Writes a YAML file.
pub fn write_yaml(path: &Path, value: &Yaml) {
    let text = serde_norway::to_string(value).expect("serialize YAML");
    fs::write(path, text).unwrap_or_else(|err| panic!("write {}: {err}", path.display()));
}

/// A YAML string, or a failure naming `what`.
pub fn as_str<'a>(value: &'a Yaml, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what} is a string: {value:?}"))
}

/// A YAML list, or a failure naming `what`.
pub fn seq<'a>(value: &'a Yaml, what: &str) -> &'a Vec<Yaml> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("{what} is a list: {value:?}"))
}

/// The addresses and intervals of docker/prometheus.yml that a copy may change.
pub struct Rewrite<'a> {
    /// The one scrape target, `host:port`.
    pub app: &'a str,
    /// The one Alertmanager, `host:port`.
    pub alertmanager: &'a str,
    /// Scrape interval, scrape timeout and evaluation interval, if changed.
    pub interval: Option<&'a str>,
}

/// docker/prometheus.yml with only the target addresses (and, for the live test, the
/// intervals) changed. Asserts the shape the rewrite relies on: one job `actix-app` with
/// one static target, one Alertmanager.
pub fn prometheus_config(rewrite: &Rewrite<'_>) -> Yaml {
    let mut config = read_yaml(&dir().join("prometheus.yml"));
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
pub fn authorization_block() -> Yaml {
    let text = fs::read_to_string(dir().join("prometheus.yml")).unwrap();
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

/// The rules of docker/alerts.yml by name.
pub fn alert_rules() -> BTreeMap<String, Yaml> {
    let rules = read_yaml(&dir().join("alerts.yml"));
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

/// docker/alerts.yml with `for:` replaced for the named alerts.
pub fn alert_rules_with_for(overrides: &[(&str, &str)]) -> Yaml {
    let mut rules = read_yaml(&dir().join("alerts.yml"));
    for group in rules["groups"].as_sequence_mut().unwrap() {
        for rule in group["rules"].as_sequence_mut().unwrap() {
            let name = rule["alert"].as_str().unwrap().to_owned();
            if let Some((_, duration)) = overrides.iter().find(|(n, _)| *n == name) {
                rule["for"] = (*duration).into();
            }
        }
    }
    rules
}

/// docker/grafana/dashboards/*.json, by file name.
pub fn dashboards() -> Vec<(String, Json)> {
    let dir = dir().join("grafana/dashboards");
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

/// Every panel of a dashboard, rows' nested panels included.
pub fn panels(dashboard: &Json) -> Vec<&Json> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        out.push(panel);
        if let Some(nested) = panel["panels"].as_array() {
            out.extend(nested);
        }
    }
    out
}
