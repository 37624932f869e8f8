//! The files of `docker/`, read as the tools read them, and the copies of them the ops
//! tests run on: the same configuration with only the addresses (and, live, the
//! intervals, some `for:` and the receivers' webhook) changed.

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

/// The addresses and intervals of a Prometheus config of docker/ that a copy may change.
pub struct Rewrite<'a> {
    /// The file in docker/: `prometheus.yml`, or `prometheus-a.yml` / `prometheus-b.yml` of
    /// the HA pair.
    pub file: &'a str,
    /// The static targets of every scrape job, `host:port`, by job name; every job of the
    /// file is named (a job whose service does not run here gets none).
    pub targets: &'a [(&'a str, Vec<String>)],
    /// The Alertmanagers, as many as the file lists.
    pub alertmanagers: &'a [String],
    /// The remote-write URL, for a file that has `remote_write`.
    pub remote_write: Option<&'a str>,
    /// Scrape interval, scrape timeout, evaluation interval and the remote-write batch
    /// deadline, if changed.
    pub interval: Option<&'a str>,
}

/// A Prometheus config of docker/ with only the target addresses (and, for the live tests,
/// the intervals) changed. Asserts the shape the rewrite relies on: one static config per
/// job and for the Alertmanagers, the jobs named in the rewrite, one remote write if any.
pub fn prometheus_config(rewrite: &Rewrite<'_>) -> Yaml {
    let mut config = read_yaml(&dir().join(rewrite.file));
    let jobs = config["scrape_configs"]
        .as_sequence_mut()
        .expect("scrape_configs");
    let names: Vec<&str> = jobs
        .iter()
        .map(|j| as_str(&j["job_name"], "job_name"))
        .collect();
    let given: Vec<&str> = rewrite.targets.iter().map(|(job, _)| *job).collect();
    assert_eq!(names, given, "{}: the scrape jobs", rewrite.file);
    for (job, (_, targets)) in jobs.iter_mut().zip(rewrite.targets) {
        let statics = job["static_configs"]
            .as_sequence_mut()
            .expect("static_configs");
        assert_eq!(statics.len(), 1);
        assert!(!seq(&statics[0]["targets"], "targets").is_empty());
        statics[0]["targets"] =
            Yaml::Sequence(targets.iter().map(|t| Yaml::from(t.as_str())).collect());
    }

    let managers = config["alerting"]["alertmanagers"]
        .as_sequence_mut()
        .expect("alerting.alertmanagers");
    assert_eq!(managers.len(), 1, "one Alertmanager block");
    let statics = managers[0]["static_configs"]
        .as_sequence_mut()
        .expect("alertmanager static_configs");
    assert_eq!(statics.len(), 1);
    assert_eq!(
        seq(&statics[0]["targets"], "targets").len(),
        rewrite.alertmanagers.len(),
        "{}: the Alertmanagers",
        rewrite.file
    );
    statics[0]["targets"] = Yaml::Sequence(
        rewrite
            .alertmanagers
            .iter()
            .map(|t| Yaml::from(t.as_str()))
            .collect(),
    );

    if let Some(writes) = config["remote_write"].as_sequence_mut() {
        assert_eq!(writes.len(), 1, "one remote_write");
        let url = rewrite
            .remote_write
            .expect("a remote_write URL for the copy");
        writes[0]["url"] = url.into();
        if let Some(interval) = rewrite.interval {
            writes[0]["queue_config"]["batch_send_deadline"] = interval.into();
        }
    } else {
        assert!(
            rewrite.remote_write.is_none(),
            "{}: no remote_write",
            rewrite.file
        );
    }

    if let Some(interval) = rewrite.interval {
        for key in ["scrape_interval", "scrape_timeout", "evaluation_interval"] {
            config["global"][key] = interval.into();
        }
    }
    config
}

/// Adds a scrape job of the test's own after the jobs of a Prometheus config of docker/
/// (which stay as they are): `job` scraping `/metrics` of `targets` over HTTP at the global
/// interval. For a program that only a test runs (an in-process server): the shipped files
/// do not name it, so no [`Rewrite`] does.
pub fn add_scrape_job(config: &mut Yaml, job: &str, targets: &[String]) {
    let jobs = config["scrape_configs"]
        .as_sequence_mut()
        .expect("scrape_configs");
    assert!(
        jobs.iter().all(|j| j["job_name"].as_str() != Some(job)),
        "{job} is a job of the file"
    );
    let mut added: Yaml = serde_norway::from_str(
        "{job_name: '', metrics_path: /metrics, scheme: http, static_configs: [{targets: []}]}",
    )
    .expect("a scrape job");
    added["job_name"] = job.into();
    added["static_configs"][0]["targets"] =
        Yaml::Sequence(targets.iter().map(|t| Yaml::from(t.as_str())).collect());
    jobs.push(added);
}

/// docker/alertmanager.yml with every webhook receiver sending to `webhook` (its path kept)
/// and the route's `group_wait` and `group_interval` set to `interval`.
pub fn alertmanager_config(webhook: &str, interval: &str) -> Yaml {
    let mut config = read_yaml(&dir().join("alertmanager.yml"));
    for key in ["group_wait", "group_interval"] {
        config["route"][key] = interval.into();
    }
    for receiver in config["receivers"].as_sequence_mut().expect("receivers") {
        for hook in receiver["webhook_configs"]
            .as_sequence_mut()
            .expect("webhook_configs")
        {
            let url = as_str(&hook["url"], "url");
            let path = url
                .strip_prefix("http://")
                .and_then(|rest| rest.find('/').map(|i| rest[i..].to_owned()))
                .unwrap_or_else(|| panic!("a webhook URL with a path: {url}"));
            hook["url"] = format!("{webhook}{path}").into();
        }
    }
    config
}

/// A compose file of docker/, its `<<: *anchor` merge keys applied as compose does.
pub fn read_compose(file: &str) -> Yaml {
    let mut compose = read_yaml(&dir().join(file));
    compose
        .apply_merge()
        .unwrap_or_else(|err| panic!("{file}: merge keys: {err}"));
    compose
}

/// The `command` of a service of a compose file of docker/, as strings.
pub fn compose_command(file: &str, service: &str) -> Vec<String> {
    let compose = read_compose(file);
    seq(&compose["services"][service]["command"], "command")
        .iter()
        .map(|arg| as_str(arg, "an argument").to_owned())
        .collect()
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

/// The rule files a Prometheus config of docker/ loads, written into `dir`, with `for:`
/// replaced for the named alerts wherever they are (docker/alerts.yml, docker/objectives.yml),
/// the other rules as they are.
pub fn write_rule_files(config: &Yaml, dir: &Path, for_overrides: &[(&str, &str)]) {
    for file in seq(&config["rule_files"], "rule_files") {
        let file = as_str(file, "a rule file");
        write_yaml(&dir.join(file), &rules_with_for(file, for_overrides));
    }
}

/// A rule file of docker/ with `for:` replaced for the named alerts (every rule of that
/// name: docker/objectives.yml has a page and a ticket rule under each alert name).
pub fn rules_with_for(file: &str, overrides: &[(&str, &str)]) -> Yaml {
    let mut rules = read_yaml(&dir().join(file));
    for group in rules["groups"].as_sequence_mut().expect("groups") {
        for rule in group["rules"].as_sequence_mut().expect("rules") {
            let Some(name) = rule["alert"].as_str().map(str::to_owned) else {
                continue;
            };
            if let Some((_, duration)) = overrides.iter().find(|(n, _)| *n == name) {
                rule["for"] = (*duration).into();
            }
        }
    }
    rules
}

/// The rule files of docker/ that hold alert rules.
pub const ALERT_RULE_FILES: [&str; 2] = ["alerts.yml", "objectives.yml"];

/// The recording rules of a rule file of docker/, in order: `(record, expr)`.
pub fn recording_rules_of(file: &str) -> Vec<(String, String)> {
    rules_of(file)
        .into_iter()
        .filter_map(|rule| {
            let record = rule["record"].as_str()?.to_owned();
            Some((record, as_str(&rule["expr"], "expr").to_owned()))
        })
        .collect()
}

/// The alert rules of a rule file of docker/, in order, by name (a name may come twice:
/// docker/objectives.yml has a page and a ticket rule per alert).
pub fn alert_rules_of(file: &str) -> Vec<(String, Yaml)> {
    rules_of(file)
        .into_iter()
        .filter_map(|rule| Some((rule["alert"].as_str()?.to_owned(), rule)))
        .collect()
}

/// The recording rules of docker/objectives.yml: `(record, expr)`.
pub fn objective_recording_rules() -> Vec<(String, String)> {
    recording_rules_of("objectives.yml")
}

/// The alert rules of every rule file of docker/ (docker/alerts.yml, docker/objectives.yml).
pub fn every_alert_rule() -> Vec<(String, Yaml)> {
    ALERT_RULE_FILES
        .iter()
        .flat_map(|file| alert_rules_of(file))
        .collect()
}

/// Every rule of a rule file of docker/, groups flattened, in order.
fn rules_of(file: &str) -> Vec<Yaml> {
    let rules = read_yaml(&dir().join(file));
    seq(&rules["groups"], "groups")
        .iter()
        .flat_map(|group| seq(&group["rules"], "rules").clone())
        .collect()
}

/// docker/alerts.yml with `for:` replaced for the named alerts.
pub fn alert_rules_with_for(overrides: &[(&str, &str)]) -> Yaml {
    rules_with_for("alerts.yml", overrides)
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

/// A dashboard query with its template variables replaced as Grafana would with "All"
/// selected (and `$job` the actix example's job), ranges at 1m and 5m.
pub fn with_all_selected(expr: &str) -> String {
    with_job_selected(expr, "actix-app")
}

/// A dashboard query as Grafana runs it with `$job` = `job` and "All" selected for the
/// other variables, ranges at 1m and 5m.
pub fn with_job_selected(expr: &str, job: &str) -> String {
    let mut out = expr.to_owned();
    for (name, value) in [
        ("__rate_interval", "1m"),
        ("__range", "5m"),
        ("instance", ".*"),
        ("handler", ".*"),
        ("route", ".*"),
        ("job", job),
    ] {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    // `$1` and the like are label_replace's references to its regex, not variables.
    let unknown = out
        .match_indices('$')
        .any(|(i, _)| !out[i + 1..].starts_with(|c: char| c.is_ascii_digit()));
    assert!(!unknown, "an unknown variable in {out}");
    out
}

/// The recording rules of docker/recording.yml: `(record, expr)`.
pub fn recording_rules() -> Vec<(String, String)> {
    let rules = read_yaml(&dir().join("recording.yml"));
    seq(&rules["groups"], "groups")
        .iter()
        .flat_map(|group| seq(&group["rules"], "rules").clone())
        .map(|rule| {
            (
                as_str(&rule["record"], "every rule records").to_owned(),
                as_str(&rule["expr"], "expr").to_owned(),
            )
        })
        .collect()
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
