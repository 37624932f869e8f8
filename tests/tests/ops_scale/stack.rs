//! The scaled-out stack: three replicas of the example service, the HA pair of Prometheus
//! servers on docker/prometheus-a.yml and prometheus-b.yml (rewritten for loopback),
//! VictoriaMetrics on the flags of docker-compose.scale.yml, and a cluster of two
//! Alertmanagers on docker/alertmanager.yml whose receivers are this test's webhook. Started
//! once (`metrics_tests::stack`), driven with two rounds of traffic, stopped by `main`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value as Json;
use tempfile::TempDir;

use metrics_tests::app::RunningApp;
use metrics_tests::docker::{self, Rewrite};
use metrics_tests::servers::{
    Alertmanager, Cluster, Prometheus, QueryApi, VictoriaMetrics, free_port,
};
use metrics_tests::traffic::{Counts, Traffic};
use metrics_tests::wait::settle;
use metrics_tests::webhook::Webhook;

/// The scrape, evaluation and remote-write interval of the test's Prometheus pair, and so
/// VictoriaMetrics' dedup interval.
pub const INTERVAL: &str = "1s";

/// Alerts that fire at once here (`for: 0s`), so that the test sees them within its time.
const FOR_OVERRIDES: &[(&str, &str)] = &[
    ("HttpHigh5xxRatio", "0s"),
    ("HttpElevated5xxRatio", "0s"),
    ("AppTargetDown", "0s"),
];

/// `http_requests_total` by instance.
pub type ByInstance = BTreeMap<String, Counts>;

/// The running stack.
pub struct Stack {
    /// Receives the cluster's notifications.
    pub webhook: Webhook,
    /// The example service, three times.
    pub replicas: Vec<RunningApp>,
    /// What each replica was sent (same order).
    pub traffic: Vec<Traffic>,
    /// Which replicas a test stopped.
    pub stopped: Mutex<Vec<bool>>,
    /// Long-term storage of the pair.
    pub victoria: VictoriaMetrics,
    /// The cluster.
    pub alertmanagers: Vec<Alertmanager>,
    /// Prometheus A and B.
    pub prometheus: Vec<Prometheus>,
    /// What the two rounds sent, by instance.
    pub sent: ByInstance,
    /// VictoriaMetrics after the second round: what it showed when it matched the traffic,
    /// or the last thing it showed when the wait ran out.
    pub settled: Result<ByInstance, String>,
    // Last: removed once the servers writing to it are stopped.
    _dir: TempDir,
}

impl Stack {
    /// What every replica was sent so far, by instance.
    pub fn sent(&self) -> ByInstance {
        self.replicas
            .iter()
            .zip(&self.traffic)
            .map(|(app, traffic)| (app.addr.clone(), traffic.sent()))
            .collect()
    }

    /// Stops replica `i` (SIGTERM).
    pub fn stop_replica(&self, i: usize) {
        let status = self.replicas[i]
            .process()
            .stop(nix::sys::signal::Signal::SIGTERM, Duration::from_secs(15));
        assert!(status.success(), "replica {i} exited with {status}");
        self.stopped.lock().unwrap()[i] = true;
    }

    /// Waits (bounded) until `server` shows exactly the traffic sent so far.
    pub fn settle(&self, server: &impl QueryApi, timeout: Duration) -> Result<ByInstance, String> {
        settle(timeout, || {
            let sent = self.sent();
            match newest_counts(server) {
                Ok(seen) if seen == sent => Ok(seen),
                Ok(seen) => Err(format!("sent {sent:?}\nseen {seen:?}")),
                Err(err) => Err(err),
            }
        })
    }
}

/// The newest value of every `http_requests_total{job="actix-app"}` series within 5 minutes
/// (a stopped replica's last one too), by instance.
pub fn newest_counts(server: &impl QueryApi) -> Result<ByInstance, String> {
    let result = server.query(r#"last_over_time(http_requests_total{job="actix-app"}[5m])"#)?;
    let mut out = ByInstance::new();
    for series in &result {
        let label = |k: &str| label(&series["metric"], k);
        let value: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
        let key = (
            label("handler"),
            label("method"),
            label("route"),
            label("status"),
        );
        let previous = out.entry(label("instance")).or_default().insert(key, value);
        if previous.is_some() {
            return Err(format!("a series twice: {series}"));
        }
    }
    Ok(out)
}

/// A label's value, "" if absent (Prometheus drops empty labels).
pub fn label(metric: &Json, key: &str) -> String {
    metric[key].as_str().unwrap_or_default().to_owned()
}

impl metrics_tests::stack::Stack for Stack {
    // Starts everything and sends two rounds of traffic; fails only if something cannot
    // start or a replica answers a request wrongly.
    fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let webhook = Webhook::start();
        let replicas: Vec<RunningApp> = (0..3).map(|_| RunningApp::start(&[])).collect();
        let victoria = VictoriaMetrics::start(
            dir.path(),
            &docker::compose_command("docker-compose.scale.yml", "victoriametrics"),
            INTERVAL,
        );

        let gossip = [free_port(), free_port()].map(|p| format!("127.0.0.1:{p}"));
        let config = docker::alertmanager_config(&webhook.url, INTERVAL);
        let alertmanagers: Vec<Alertmanager> = (0..2)
            .map(|i| {
                let cluster = Cluster {
                    listen: gossip[i].clone(),
                    peers: vec![gossip[1 - i].clone()],
                };
                let name = format!("alertmanager-{}", i + 1);
                Alertmanager::start(dir.path(), &name, Some(&config), Some(&cluster))
            })
            .collect();
        let manager_addrs: Vec<String> = alertmanagers.iter().map(|a| a.addr.clone()).collect();

        let targets = [
            (
                "actix-app",
                replicas.iter().map(|r| r.addr.clone()).collect(),
            ),
            ("axum-app", vec![]), // not run here
            ("worker", vec![]),
            ("grpc-app", vec![]),
            ("pushgateway", vec![]), // batch jobs: tests/tests/batch.rs, ops_live
        ];
        let write_url = victoria.write_url();
        let prometheus: Vec<Prometheus> = ["prometheus-a", "prometheus-b"]
            .iter()
            .map(|name| {
                Prometheus::start(
                    &dir.path().join(name),
                    &Rewrite {
                        file: &format!("{name}.yml"),
                        targets: &targets,
                        alertmanagers: &manager_addrs,
                        remote_write: Some(&write_url),
                        interval: Some(INTERVAL),
                    },
                    FOR_OVERRIDES,
                    None,
                )
            })
            .collect();
        for alertmanager in &alertmanagers {
            alertmanager.wait_ready();
            alertmanager.wait_clustered(2);
        }

        let traffic: Vec<Traffic> = replicas.iter().map(Traffic::new).collect();
        let stack = Stack {
            webhook,
            replicas,
            traffic,
            stopped: Mutex::new(vec![false; 3]),
            victoria,
            alertmanagers,
            prometheus,
            sent: ByInstance::new(),
            settled: Err("not yet".to_owned()),
            _dir: dir,
        };
        // A round that creates every series (a first sample has no increase), then one that
        // rate() sees: a different number of requests per replica, and 60, 40 and 20 calls
        // of /error, so that the 5xx alert fires and stays above its traffic floor (0.1/s
        // over 5 minutes) on the first replica alone.
        for traffic in &stack.traffic {
            traffic.round(1);
            traffic.errors(1);
        }
        stack.traffic[0].websocket(true); // for the dashboard's WebSocket panels
        let first = stack.settle(&stack.victoria, Duration::from_secs(20));
        first.expect("VictoriaMetrics shows the first round");
        for (i, traffic) in stack.traffic.iter().enumerate() {
            traffic.round(i + 1);
            traffic.errors(60 - 20 * i);
        }
        stack.traffic[0].websocket(true);
        let settled = stack.settle(&stack.victoria, Duration::from_secs(20));
        Stack {
            sent: stack.sent(),
            settled,
            ..stack
        }
    }

    fn print_tails(&self) {
        for replica in &self.replicas {
            replica.process().print_tail();
        }
        for prometheus in &self.prometheus {
            prometheus.process.print_tail();
        }
        self.victoria.process.print_tail();
        for alertmanager in &self.alertmanagers {
            alertmanager.process.print_tail();
        }
    }
}
