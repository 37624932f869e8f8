//! A test Prometheus on a config of docker/, rewritten for loopback.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitStatus};

use nix::sys::signal::Signal;
use serde_norway::Value as Yaml;

use super::{EXIT, QueryApi, free_port, wait_ready};
use crate::docker::{self, Rewrite, write_yaml};
use crate::process::Process;

/// A test Prometheus and its HTTP API.
pub struct Prometheus {
    /// The server.
    pub process: Process,
    base: String,
}

impl Prometheus {
    /// Prometheus in `dir` (created) on the config `rewrite` makes of a file of docker/
    /// (and `authorization` added to the first scrape job, if given), with the rule files
    /// it names, `for:` overridden for the named alerts; waits until it is ready. Exemplar
    /// storage is on, as docs/exemplars.md asks (and the compose files do).
    pub fn start(
        dir: &Path,
        rewrite: &Rewrite<'_>,
        for_overrides: &[(&str, &str)],
        authorization: Option<Yaml>,
    ) -> Prometheus {
        Prometheus::start_with_features(dir, rewrite, for_overrides, authorization, &[])
    }

    /// [`Prometheus::start`] with these features enabled besides `exemplar-storage`
    /// (`native-histograms`, say).
    pub fn start_with_features(
        dir: &Path,
        rewrite: &Rewrite<'_>,
        for_overrides: &[(&str, &str)],
        authorization: Option<Yaml>,
        features: &[&str],
    ) -> Prometheus {
        Prometheus::launch(dir, rewrite, for_overrides, authorization, features, &[])
    }

    /// Prometheus on docker/prometheus.yml scraping one target, `addr`, as the job
    /// `actix-app` (the file's other jobs have none), every second, with no Alertmanager
    /// to reach, `authorization` on the scrape if given, and these features besides
    /// `exemplar-storage`.
    pub fn scraping(
        dir: &Path,
        addr: &str,
        authorization: Option<Yaml>,
        features: &[&str],
    ) -> Prometheus {
        let targets = [
            ("actix-app", vec![addr.to_owned()]),
            ("axum-app", vec![]),
            ("worker", vec![]),
            ("grpc-app", vec![]),
            ("pushgateway", vec![]),
        ];
        let rewrite = Rewrite {
            file: "prometheus.yml",
            targets: &targets,
            alertmanagers: &["127.0.0.1:9".to_owned()],
            remote_write: None,
            interval: Some("1s"),
        };
        Prometheus::launch(dir, &rewrite, &[], authorization, features, &[])
    }

    /// [`Prometheus::start`] with scrape jobs of the test's own after those of the file
    /// ([`docker::add_scrape_job`]): `(job, targets)`.
    pub fn start_with_jobs(
        dir: &Path,
        rewrite: &Rewrite<'_>,
        for_overrides: &[(&str, &str)],
        jobs: &[(&str, Vec<String>)],
    ) -> Prometheus {
        Prometheus::launch(dir, rewrite, for_overrides, None, &[], jobs)
    }

    fn launch(
        dir: &Path,
        rewrite: &Rewrite<'_>,
        for_overrides: &[(&str, &str)],
        authorization: Option<Yaml>,
        features: &[&str],
        jobs: &[(&str, Vec<String>)],
    ) -> Prometheus {
        fs::create_dir_all(dir).unwrap();
        let mut config = docker::prometheus_config(rewrite);
        if let Some(auth) = authorization {
            config["scrape_configs"][0]["authorization"] = auth;
        }
        for (job, targets) in jobs {
            docker::add_scrape_job(&mut config, job, targets);
        }
        write_yaml(&dir.join("prometheus.yml"), &config);
        docker::write_rule_files(&config, dir, for_overrides);
        let port = free_port();
        let name = rewrite.file.trim_end_matches(".yml");
        let process = Process::spawn(
            name,
            Command::new("prometheus").args([
                format!("--config.file={}", dir.join("prometheus.yml").display()),
                format!("--storage.tsdb.path={}", dir.join("data").display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
                format!(
                    "--enable-feature={}",
                    ["exemplar-storage"]
                        .iter()
                        .chain(features)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            ]),
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&process, &format!("{base}/-/ready"));
        Prometheus { process, base }
    }

    /// Sends SIGTERM and waits (bounded) for it to exit.
    pub fn stop(&self) -> ExitStatus {
        self.process.stop(Signal::SIGTERM, EXIT)
    }
}

impl QueryApi for Prometheus {
    fn base_url(&self) -> &str {
        &self.base
    }
}
