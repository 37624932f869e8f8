//! The live stack: both example services (actix-app and axum-app, one scrape job each), the
//! worker (job `worker`: no web framework, the standalone exporter), grpc-app (job
//! `grpc-app`: tonic, the exporter), an axum app in this process whose requests carry a
//! tenant (job `tenant-app`, `tenants.rs`), an axum app in the OpenTelemetry naming (job
//! `otel-app`, a process: `otel.rs`), a Pushgateway that `examples/batch` pushed to (job
//! `pushgateway`: `batch.rs`), Prometheus and Alertmanager, started once for
//! every test of this binary
//! (`metrics_tests::stack`), driven with traffic, and stopped by `main` when they are done.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use metrics_tests::app::{Example, RunningApp};
use metrics_tests::docker::Rewrite;
use metrics_tests::grpc::{Counted, Series};
use metrics_tests::servers::{Alertmanager, Prometheus, QueryApi};
use metrics_tests::traffic::{Counts, Traffic};
use metrics_tests::wait::settle;

use crate::batch::{self, Batch};
use crate::grpc::{self, GrpcTraffic};
use crate::otel::{self, OtelApp, OtelSeen};
use crate::tenants::{self, TenantApp, TenantsSeen};

/// How long Prometheus may take to show a round of traffic.
const SECOND: Duration = Duration::from_secs(40);

/// WebSocket connections of the example's `/ws` that ended, close frames it received, and
/// connections open.
const WS_ENDED: &str =
    r#"sum(websocket_connection_duration_seconds_count{job="actix-app", handler="ws"})"#;
const WS_CLOSES: &str = r#"sum(websocket_messages_total{job="actix-app", handler="ws", direction="received", kind="close"})"#;
const WS_ACTIVE: &str = r#"sum(websocket_connections_active{job="actix-app", handler="ws"})"#;

/// The trace ids of the traced requests of the second round, by job (see [`JOBS`]): the
/// exemplars Prometheus must store.
pub const TRACES: [[&str; 2]; 2] = [
    [
        "0af7651916cd43dd8448eb211c80319c",
        "4bf92f3577b34da6a3ce929d0e0e4736",
    ],
    [
        "5b8aa5a2d2c872e8321cf37308d69df2",
        "c5b48e2a7d1c4f6e9a3b0d2e1f4a6b8c",
    ],
];

/// The scrape jobs of docker/prometheus.yml of the two example services.
pub const JOBS: [&str; 2] = ["actix-app", "axum-app"];

/// The scrape job of the worker example.
pub const WORKER_JOB: &str = "worker";

/// The scrape job of the gRPC example.
pub const GRPC_JOB: &str = "grpc-app";

/// Every scrape job of docker/prometheus.yml: [`JOBS`], [`WORKER_JOB`], [`GRPC_JOB`].
pub const ALL_JOBS: [&str; 4] = [JOBS[0], JOBS[1], WORKER_JOB, GRPC_JOB];

/// The jobs the worker is given: every tenth fails (`jobs::resize` 500), the others are
/// resized and notified. One every [`WORKER_INTERVAL_MS`], so that Prometheus sees them
/// go up over several scrapes (what `rate()` needs).
pub const WORKER_JOBS: u32 = 500;
const WORKER_INTERVAL_MS: &str = "30";

/// What the worker's `http_requests_total` must show once every job is done.
pub fn worker_counts() -> Counts {
    let failed = f64::from(WORKER_JOBS / 10);
    let done = f64::from(WORKER_JOBS) - failed;
    let key = |handler: &str, status: &str| {
        (
            handler.to_owned(),
            String::new(),
            String::new(),
            status.to_owned(),
        )
    };
    [
        (key("jobs::resize", "200"), done),
        (key("jobs::resize", "500"), failed),
        (key("jobs::notify", "200"), done),
    ]
    .into()
}

/// `http_requests_total{selector}` as [`Counts`] by job.
pub fn requests_of(
    prometheus: &Prometheus,
    selector: &str,
) -> Result<BTreeMap<String, Counts>, String> {
    let result = prometheus.query(&format!("http_requests_total{{{selector}}}"))?;
    let mut requests: BTreeMap<String, Counts> = BTreeMap::new();
    for s in &result {
        let m = &s["metric"];
        let label = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
        let value: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
        requests.entry(label("job")).or_default().insert(
            (
                label("handler"),
                label("method"),
                label("route"),
                label("status"),
            ),
            value,
        );
    }
    Ok(requests)
}

/// Waits (bounded) until Prometheus shows `want` as the `http_requests_total` of `job`;
/// the last thing it showed when the wait runs out.
pub fn settle_job(prometheus: &Prometheus, job: &str, want: &Counts) -> Result<Counts, String> {
    settle(Duration::from_secs(40), || {
        match requests_of(prometheus, &format!(r#"job="{job}""#)) {
            Ok(mut seen) => {
                let seen = seen.remove(job).unwrap_or_default();
                if seen == *want {
                    Ok(Ok(seen))
                } else {
                    Err(Ok(seen))
                }
            }
            Err(err) => Err(Err(err)),
        }
    })
    .unwrap_or_else(|last| last)
}

/// What Prometheus shows of the traffic.
#[derive(Debug, PartialEq)]
pub struct Seen {
    /// `http_requests_total`, by job.
    pub requests: BTreeMap<String, Counts>,
    /// [`WS_ENDED`], [`WS_CLOSES`] and [`WS_ACTIVE`] (actix-app only: axum-app has no `/ws`).
    pub ws: [Option<String>; 3],
}

impl Seen {
    // Queries it; an error of Prometheus is the error.
    fn query(prometheus: &Prometheus) -> Result<Seen, String> {
        prometheus.process.assert_running();
        Ok(Seen {
            requests: requests_of(prometheus, r#"job=~"actix-app|axum-app""#)?,
            ws: [
                prometheus.value(WS_ENDED)?,
                prometheus.value(WS_CLOSES)?,
                prometheus.value(WS_ACTIVE)?,
            ],
        })
    }
}

/// One round of traffic, and the last thing Prometheus showed of it.
pub struct Round {
    /// What the requests sent so far must count, by job.
    pub sent: BTreeMap<String, Counts>,
    /// Once it matched, or when the wait for it ran out.
    pub seen: Result<Seen, String>,
}

impl Round {
    // Waits (bounded) for Prometheus to show the traffic sent so far; the tests assert.
    fn settle(
        prometheus: &Prometheus,
        traffic: &[Traffic; 2],
        timeout: Duration,
        done: impl Fn(&Seen) -> bool,
    ) -> Round {
        let sent: BTreeMap<String, Counts> = JOBS
            .iter()
            .zip(traffic)
            .map(|(job, traffic)| ((*job).to_owned(), traffic.sent()))
            .collect();
        let seen = settle(timeout, || match Seen::query(prometheus) {
            Ok(seen) if seen.requests == sent && done(&seen) => Ok(Ok(seen)),
            last => Err(last),
        })
        .unwrap_or_else(|last| last);
        Round { sent, seen }
    }
}

/// The running stack after the traffic.
pub struct Stack {
    /// The actix example service (job `actix-app`).
    pub app: RunningApp,
    /// The axum example service (job `axum-app`).
    pub axum: RunningApp,
    /// The worker example (job `worker`), given [`WORKER_JOBS`] jobs.
    pub worker: RunningApp,
    /// The worker's `http_requests_total` in Prometheus once it matched [`worker_counts`],
    /// or the last one when the wait for it ran out.
    pub worker_seen: Result<Counts, String>,
    /// The gRPC example (job `grpc-app`), called by [`GrpcTraffic`].
    pub grpc: RunningApp,
    /// What its calls must count.
    pub grpc_counted: Counted,
    /// Its `grpc_server_handled_total` in Prometheus once it held every RPC (whatever the
    /// labels), or the last one when the wait for it ran out.
    pub grpc_seen: Result<Series, String>,
    /// The in-process app whose requests carry a tenant (job [`tenants::JOB`]).
    pub tenants: TenantApp,
    /// When Prometheus showed its requests of both rounds, or the last thing it showed when
    /// the wait for it ran out.
    pub tenants_seen: Result<TenantsSeen, String>,
    /// The app in the OpenTelemetry naming (job [`otel::JOB`]).
    pub otel: OtelApp,
    /// When the recording rules had evaluated both of its rounds, or the last thing
    /// Prometheus showed when the wait for it ran out.
    pub otel_seen: Result<OtelSeen, String>,
    /// The Pushgateway `examples/batch` pushed to (job `pushgateway`).
    pub batch: Batch,
    /// The batch job's `http_requests_total` in Prometheus once it matched, or the last one
    /// when the wait for it ran out.
    pub batch_seen: Result<Counts, String>,
    /// Scraping the app every second, alerting `alertmanager`.
    pub prometheus: Prometheus,
    /// docker/alertmanager.yml as it is.
    pub alertmanager: Alertmanager,
    /// A round that creates every series, so that the second is seen by `rate()`.
    pub first: Round,
    /// Every kind of traffic, enough for every query and the 5xx and latency alerts.
    pub second: Round,
    /// From the app's start until Prometheus showed the second round.
    pub settled_after: Duration,
    // Last: removed once the servers writing to it are stopped.
    _dir: TempDir,
}

impl Stack {
    /// Each scrape job ([`ALL_JOBS`]) with the program it scrapes.
    pub fn by_job(&self) -> [(&'static str, &RunningApp); 4] {
        [
            (ALL_JOBS[0], &self.app),
            (ALL_JOBS[1], &self.axum),
            (ALL_JOBS[2], &self.worker),
            (ALL_JOBS[3], &self.grpc),
        ]
    }
}

impl metrics_tests::stack::Stack for Stack {
    // Starts everything and sends the traffic; fails only if something cannot start or the
    // app answers a request wrongly.
    fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        // Built first: not timed.
        let app = RunningApp::start(&[]);
        let axum = RunningApp::start_example(Example::Axum, &[]);
        let grpc = RunningApp::start_example(Example::Grpc, &[]);
        // Its first round before Prometheus runs: the first scrape has all of it.
        let tenants = TenantApp::start();
        // The same for the app in the OpenTelemetry naming (built here, not timed).
        let otel = OtelApp::start();
        Example::Worker.binary();
        let started = Instant::now();
        // Its jobs start now: over ~15 s, many scrapes.
        let jobs = WORKER_JOBS.to_string();
        let worker = RunningApp::start_example(
            Example::Worker,
            &[
                ("WORKER_JOBS", jobs.as_str()),
                ("WORKER_INTERVAL_MS", WORKER_INTERVAL_MS),
            ],
        );
        let alertmanager = Alertmanager::start(dir.path(), "alertmanager", None, None);
        // A batch job's push, in the gateway before Prometheus' first scrape of it.
        let batch = Batch::run();
        // The 5xx and gRPC server-fault rules fire at once here, so that the driven traffic
        // reaches Alertmanager; so does the objectives' success page (otel-app's failing
        // objective: otel.rs).
        let prometheus = Prometheus::start_with_jobs(
            &dir.path().join("prometheus"),
            &Rewrite {
                file: "prometheus.yml",
                targets: &[
                    ("actix-app", vec![app.addr.clone()]),
                    ("axum-app", vec![axum.addr.clone()]),
                    (WORKER_JOB, vec![worker.addr.clone()]),
                    (GRPC_JOB, vec![grpc.addr.clone()]),
                    ("pushgateway", vec![batch.target()]),
                ],
                alertmanagers: std::slice::from_ref(&alertmanager.addr),
                remote_write: None,
                interval: Some("1s"),
            },
            &[
                ("HttpHigh5xxRatio", "0s"),
                ("HttpElevated5xxRatio", "0s"),
                ("GrpcHighServerErrorRatio", "0s"),
                ("GrpcElevatedServerErrorRatio", "0s"),
                ("ObjectiveSuccessBudgetBurn", "0s"),
            ],
            &[
                (tenants::JOB, vec![tenants.addr.to_string()]),
                (otel::JOB, vec![otel.addr.clone()]),
            ],
        );
        otel::select_in_recording_rules(&dir.path().join("prometheus"), &prometheus);
        alertmanager.wait_ready();

        // Two rounds: a series' first sample has no increase, so the first round creates
        // the series and the second is what rate() sees.
        let traffic = [Traffic::new(&app), Traffic::new(&axum)];
        for each in &traffic {
            each.round(1);
            each.slow(1);
            each.errors(1);
        }
        let grpc_traffic = GrpcTraffic::new(&grpc);
        grpc_traffic.first_round();
        let [actix, _] = &traffic;
        actix.websocket(true);
        // The WebSocket series too: its end and received close are in the next scrapes.
        let one = Some("1".to_owned());
        let first = Round::settle(&prometheus, &traffic, Duration::from_secs(20), |seen| {
            seen.ws[..2] == [one.clone(), one.clone()]
        });

        // gRPC's first round too, before its second.
        grpc::settle(&prometheus, grpc_traffic.counted().rpcs(), SECOND)
            .expect("grpc-app's first round in Prometheus");
        // And the tenants' (its scrape may come last: each target has its own offset).
        tenants
            .settle_first(&prometheus)
            .expect("tenant-app's first round in Prometheus");
        otel.settle_first(&prometheus)
            .expect("otel-app's first round in Prometheus");

        for (each, traces) in traffic.iter().zip(TRACES) {
            each.traced(&traces);
        }
        std::thread::scope(|s| {
            s.spawn(|| grpc_traffic.second_round());
            s.spawn(|| tenants.second_round());
            s.spawn(|| otel.second_round());
            for each in &traffic {
                s.spawn(|| {
                    each.round(5);
                    each.slow(40); // p95 of /slow above 500ms, above the 0.1 req/s floor
                    each.errors(40); // /error: 100% 5xx, above the floor
                });
            }
        });
        let tenants_seen = tenants.settle(&prometheus);
        let otel_seen = otel.settle(&prometheus);
        actix.websocket(true);
        for _ in 0..7 {
            actix.websocket(false); // ended without a close frame
        }
        // Every WebSocket connection has ended, and Prometheus has seen it.
        let ended = [Some("9".into()), Some("2".into()), Some("0".into())];
        let second = Round::settle(&prometheus, &traffic, Duration::from_secs(40), |seen| {
            seen.ws == ended
        });
        let settled_after = started.elapsed();
        drop(traffic);
        let grpc_counted = grpc_traffic.counted();
        let grpc_seen = grpc::settle(&prometheus, grpc_counted.rpcs(), SECOND);
        let worker_seen = settle_job(&prometheus, WORKER_JOB, &worker_counts());
        let batch_seen = settle_job(&prometheus, batch::JOB, &batch::counts());

        Stack {
            app,
            axum,
            worker,
            worker_seen,
            grpc,
            grpc_counted,
            grpc_seen,
            tenants,
            tenants_seen,
            otel,
            otel_seen,
            batch,
            batch_seen,
            prometheus,
            alertmanager,
            first,
            second,
            settled_after,
            _dir: dir,
        }
    }

    fn print_tails(&self) {
        self.app.process().print_tail();
        self.axum.process().print_tail();
        self.worker.process().print_tail();
        self.grpc.process().print_tail();
        self.otel.process().print_tail();
        self.batch.gateway.process.print_tail();
        self.prometheus.process.print_tail();
        self.alertmanager.process.print_tail();
    }
}
