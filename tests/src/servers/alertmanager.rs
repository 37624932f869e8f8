//! A test Alertmanager on docker/alertmanager.yml, alone or as a member of a cluster.

use std::path::Path;
use std::process::{Command, ExitStatus};

use nix::sys::signal::Signal;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::{EXIT, READY, free_port, wait_ready};
use crate::docker::{self, write_yaml};
use crate::http::try_get;
use crate::process::Process;
use crate::wait::poll;

/// Where a cluster member gossips, and the members it joins.
pub struct Cluster {
    /// `127.0.0.1:PORT` it listens on for its peers.
    pub listen: String,
    /// The other members' listen addresses.
    pub peers: Vec<String>,
}

/// A test Alertmanager.
pub struct Alertmanager {
    /// The server.
    pub process: Process,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Alertmanager {
    /// Alertmanager `name` in `dir` on loopback, with docker/alertmanager.yml as it is or
    /// the given copy of it, alone or in a `cluster`. A member waits 2 s per position
    /// before it notifies (`--cluster.peer-timeout`; 15 s by default) and gossips every
    /// 100 ms (200 ms): the intervals, shortened. Not waited for: see
    /// [`Alertmanager::wait_ready`].
    pub fn start(
        dir: &Path,
        name: &str,
        config: Option<&Yaml>,
        cluster: Option<&Cluster>,
    ) -> Alertmanager {
        let config_file = match config {
            Some(config) => {
                let file = dir.join(format!("{name}.yml"));
                write_yaml(&file, config);
                file
            }
            None => docker::dir().join("alertmanager.yml"),
        };
        let port = free_port();
        let mut args = vec![
            format!("--config.file={}", config_file.display()),
            format!("--storage.path={}", dir.join(name).display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
        ];
        match cluster {
            None => args.push("--cluster.listen-address=".to_owned()),
            Some(cluster) => {
                args.push(format!("--cluster.listen-address={}", cluster.listen));
                args.extend(cluster.peers.iter().map(|p| format!("--cluster.peer={p}")));
                args.push("--cluster.peer-timeout=2s".to_owned());
                args.push("--cluster.gossip-interval=100ms".to_owned());
            }
        }
        let process = Process::spawn(name, Command::new("prometheus-alertmanager").args(args));
        Alertmanager {
            process,
            addr: format!("127.0.0.1:{port}"),
        }
    }

    /// Waits until it is ready.
    pub fn wait_ready(&self) {
        wait_ready(&self.process, &format!("http://{}/-/ready", self.addr));
    }

    /// Waits until its cluster has settled with `members` members (itself included).
    pub fn wait_clustered(&self, members: usize) {
        poll("the Alertmanager cluster to settle", READY, || {
            self.process.assert_running();
            let status = self.status().ok_or("no answer".to_owned())?;
            let cluster = &status["cluster"];
            let peers = cluster["peers"].as_array().map_or(0, Vec::len);
            (cluster["status"] == "ready" && peers == members)
                .then_some(())
                .ok_or(cluster.to_string())
        });
    }

    /// Its status (API v2), `None` if it does not answer.
    pub fn status(&self) -> Option<Json> {
        try_get(&format!("http://{}/api/v2/status", self.addr), &[]).map(|r| r.json())
    }

    /// The alerts it holds (API v2), `None` if it does not answer.
    pub fn alerts(&self) -> Option<Json> {
        try_get(&format!("http://{}/api/v2/alerts", self.addr), &[]).map(|r| r.json())
    }

    /// Sends SIGTERM (it leaves the cluster) and waits (bounded) for it to exit.
    pub fn stop(&self) -> ExitStatus {
        self.process.stop(Signal::SIGTERM, EXIT)
    }
}
