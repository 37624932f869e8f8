//! A batch job in the live stack: `examples/batch` runs to its end and pushes to a real
//! Pushgateway, which the stack's Prometheus scrapes as job `pushgateway` with
//! `honor_labels` (docker/prometheus.yml): the job's counts are in Prometheus under its own
//! `job`, exactly, with the gateway's push time beside them.

use metrics_tests::app::run_batch;
use metrics_tests::servers::{Pushgateway, QueryApi};
use metrics_tests::traffic::Counts;

use crate::stack::Stack;

/// The batch job's name: the `job` of what it pushed.
pub const JOB: &str = "nightly-import";

/// Rows it imports: every seventh (6, 13, …, 48) malformed, `import::parse` 500.
const ROWS: &str = "50";

/// The gateway, with the job's push in it.
pub struct Batch {
    /// Where the job pushed; Prometheus' `pushgateway` target.
    pub gateway: Pushgateway,
}

impl Batch {
    /// A gateway, and the job run once against it (it must exit 0).
    pub fn run() -> Batch {
        let gateway = Pushgateway::start();
        let out = run_batch(&[
            ("PUSHGATEWAY_URL", gateway.url()),
            ("BATCH_JOB", JOB),
            ("BATCH_ROWS", ROWS),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "the batch job: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Batch { gateway }
    }

    /// The gateway's `host:port`, the scrape target.
    pub fn target(&self) -> String {
        self.gateway.url().trim_start_matches("http://").to_owned()
    }
}

/// What the job's `http_requests_total` must show.
pub fn counts() -> Counts {
    let key = |handler: &str, status: &str| {
        (
            handler.to_owned(),
            String::new(),
            String::new(),
            status.to_owned(),
        )
    };
    [
        (key("import::read", "200"), 50.0),
        (key("import::parse", "200"), 43.0),
        (key("import::parse", "500"), 7.0),
        (key("import::store", "200"), 43.0),
    ]
    .into()
}

pub fn a_batch_job_s_push_is_in_prometheus_under_its_own_job(stack: &Stack) {
    assert_eq!(stack.batch_seen, Ok(counts()));
    let prometheus = &stack.prometheus;
    // The gateway's push time of the group, with the job's own name (honor_labels).
    let pushed = prometheus
        .value(&format!(r#"push_time_seconds{{job="{JOB}"}}"#))
        .unwrap()
        .expect("push_time_seconds of the job");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let pushed: f64 = pushed.parse().unwrap();
    assert!(
        (0.0..600.0).contains(&(now - pushed)),
        "pushed at {pushed}, now {now}"
    );
    // Nothing of it under the scrape job's name, and the alert quiet: it just pushed.
    assert_eq!(
        prometheus
            .value(r#"count(http_requests_total{job="pushgateway"})"#)
            .unwrap(),
        None
    );
    assert_eq!(
        prometheus
            .value(r#"count(ALERTS{alertname="BatchJobNotPushed"})"#)
            .unwrap(),
        None
    );
}
