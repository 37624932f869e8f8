//! A test VictoriaMetrics (single node) on the flags of docker-compose.scale.yml.

use std::path::Path;
use std::process::Command;

use super::{QueryApi, free_port, wait_ready};
use crate::process::Process;

/// A test VictoriaMetrics: remote-write receiver and Prometheus query API.
pub struct VictoriaMetrics {
    /// The server.
    pub process: Process,
    base: String,
}

impl VictoriaMetrics {
    /// VictoriaMetrics with `flags` (the compose service's command) with only its
    /// address (loopback), its storage (in `dir`) and its dedup interval (`dedup`, the
    /// scrape interval) changed, and what a test needs to read what was just written:
    /// no query latency offset (30 s by default) and no result cache. Waits until ready.
    pub fn start(dir: &Path, flags: &[String], dedup: &str) -> VictoriaMetrics {
        let port = free_port();
        let mut args: Vec<String> = Vec::new();
        for (name, value) in [
            ("-httpListenAddr", format!("127.0.0.1:{port}")),
            ("-storageDataPath", dir.join("vm").display().to_string()),
            ("-dedup.minScrapeInterval", dedup.to_owned()),
        ] {
            let prefix = format!("{name}=");
            assert!(
                flags.iter().any(|f| f.starts_with(&prefix)),
                "the compose command sets {name}: {flags:?}"
            );
            args.push(format!("{prefix}{value}"));
        }
        args.extend(
            flags
                .iter()
                .filter(|f| {
                    !args
                        .iter()
                        .any(|a| a.split('=').next() == f.split('=').next())
                })
                .cloned()
                .collect::<Vec<_>>(),
        );
        args.push("-search.latencyOffset=0s".to_owned());
        args.push("-search.disableCache".to_owned());
        let process = Process::spawn(
            "victoria-metrics",
            Command::new("victoria-metrics").args(args),
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&process, &format!("{base}/health"));
        VictoriaMetrics { process, base }
    }

    /// `http://127.0.0.1:PORT/api/v1/write`, where Prometheus remote-writes.
    pub fn write_url(&self) -> String {
        format!("{}/api/v1/write", self.base)
    }
}

impl QueryApi for VictoriaMetrics {
    fn base_url(&self) -> &str {
        &self.base
    }
}
