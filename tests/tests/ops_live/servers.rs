//! Prometheus and Alertmanager, run from the project's configuration on loopback ports.

use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use metrics_tests::docker::{self, Rewrite, write_yaml};
use metrics_tests::http::try_get;
use metrics_tests::process::Process;

/// How long a server may take to be ready.
const READY: Duration = Duration::from_secs(30);

/// A free loopback port.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// Waits until `base/-/ready` answers 200, failing early if the server exits.
fn wait_ready(process: &Process, base: &str) {
    let url = format!("{base}/-/ready");
    process.wait_ready(READY, || try_get(&url, &[]).map(|r| r.status) == Some(200));
}

/// A test Prometheus and its HTTP API.
pub struct Prometheus {
    /// The server.
    pub process: Process,
    base: String,
}

impl Prometheus {
    /// Prometheus in `dir` on docker/prometheus.yml with only the target addresses and the
    /// intervals changed (and `authorization` added to the scrape job, if given), and the
    /// rules of docker/alerts.yml with `for:` overridden for the named alerts; waits until
    /// it is ready.
    pub fn start(
        dir: &Path,
        app: &str,
        alertmanager: &str,
        for_overrides: &[(&str, &str)],
        authorization: Option<Yaml>,
    ) -> Prometheus {
        let mut config = docker::prometheus_config(&Rewrite {
            app,
            alertmanager,
            interval: Some("1s"),
        });
        if let Some(auth) = authorization {
            config["scrape_configs"][0]["authorization"] = auth;
        }
        write_yaml(&dir.join("prometheus.yml"), &config);
        write_yaml(
            &dir.join("alerts.yml"),
            &docker::alert_rules_with_for(for_overrides),
        );
        let port = free_port();
        let process = Process::spawn(
            "prometheus",
            Command::new("prometheus").args([
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ]),
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&process, &base);
        Prometheus { process, base }
    }

    /// The `data` of a successful API answer, or the error Prometheus gave.
    pub fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Json, String> {
        let answer = try_get(&format!("{}{path}", self.base), query)
            .unwrap_or_else(|| panic!("Prometheus answers {path}"));
        let body = answer.json();
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(format!(
                "{} {}: {}",
                answer.status, body["errorType"], body["error"]
            ))
        }
    }

    /// The value of an instant query with at most one series.
    pub fn value(&self, expr: &str) -> Result<Option<String>, String> {
        match self.query(expr)?.as_slice() {
            [] => Ok(None),
            [one] => Ok(one["value"][1].as_str().map(str::to_owned)),
            more => Err(format!("{expr}: {more:?}")),
        }
    }

    /// An instant query: its result vector.
    pub fn query(&self, expr: &str) -> Result<Vec<Json>, String> {
        let data = self.api("/api/v1/query", &[("query", expr)])?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }
}

/// A test Alertmanager.
pub struct Alertmanager {
    /// The server.
    pub process: Process,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Alertmanager {
    /// Alertmanager in `dir` with docker/alertmanager.yml as it is, on loopback, no
    /// cluster. Not waited for: see [`Alertmanager::wait_ready`].
    pub fn start(dir: &Path) -> Alertmanager {
        let port = free_port();
        let process = Process::spawn(
            "alertmanager",
            Command::new("prometheus-alertmanager").args([
                format!(
                    "--config.file={}",
                    docker::dir().join("alertmanager.yml").display()
                ),
                format!("--storage.path={}", dir.join("am").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                "--cluster.listen-address=".to_owned(),
            ]),
        );
        Alertmanager {
            process,
            addr: format!("127.0.0.1:{port}"),
        }
    }

    /// Waits until it is ready.
    pub fn wait_ready(&self) {
        wait_ready(&self.process, &format!("http://{}", self.addr));
    }

    /// The alerts it holds (API v2), `None` if it does not answer.
    pub fn alerts(&self) -> Option<Json> {
        try_get(&format!("http://{}/api/v2/alerts", self.addr), &[]).map(|r| r.json())
    }
}
