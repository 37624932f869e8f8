//! A test Pushgateway (Debian's `prometheus-pushgateway`) on a loopback port, in memory.

use std::process::Command;

use super::{free_port, wait_ready};
use crate::process::Process;
use crate::scrape::Scrape;

/// One group of a Pushgateway.
#[derive(Clone, Debug)]
pub struct Group {
    /// `job` and the grouping labels, as the gateway decoded them.
    pub labels: Vec<(String, String)>,
    /// The names of its families.
    pub families: Vec<String>,
}

/// A running Pushgateway.
pub struct Pushgateway {
    /// The server.
    pub process: Process,
    base: String,
}

impl Pushgateway {
    /// A Pushgateway on a free loopback port, no persistence; waits until ready.
    pub fn start() -> Pushgateway {
        let port = free_port();
        let process = Process::spawn(
            "prometheus-pushgateway",
            Command::new("prometheus-pushgateway")
                .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&process, &format!("{base}/-/ready"));
        Pushgateway { process, base }
    }

    /// `http://127.0.0.1:PORT`: where jobs push.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// What Prometheus scrapes of it: every group's metrics, with their grouping labels.
    pub fn scrape(&self) -> Scrape {
        Scrape::fetch(&self.base)
    }

    /// Its groups (`/api/v1/metrics`).
    pub fn groups(&self) -> Vec<Group> {
        let answer = crate::http::get(&format!("{}/api/v1/metrics", self.base), &[]);
        assert_eq!(answer.status, 200, "{}", answer.body);
        let json = answer.json();
        let groups = json["data"].as_array().expect("the groups");
        groups
            .iter()
            .map(|group| {
                let labels = group["labels"]
                    .as_object()
                    .expect("a group's labels")
                    .iter()
                    .map(|(name, value)| (name.clone(), value.as_str().unwrap_or("").to_owned()))
                    .collect();
                let families = group
                    .as_object()
                    .expect("a group")
                    .keys()
                    .filter(|key| *key != "labels" && *key != "last_push_successful")
                    .cloned()
                    .collect();
                Group { labels, families }
            })
            .collect()
    }
}
