//! grpc-app in the live stack (job `grpc-app`): its traffic, two rounds of every method with
//! the client's error codes and the server's faults (so that the gRPC alerts fire), slow
//! calls of `Say`; and the checks of what Prometheus made of it: exact
//! `grpc_server_handled_total`, every gRPC recording rule with data.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use tokio::runtime::Runtime;
use tonic::Code;

use metrics_tests::app::RunningApp;
use metrics_tests::docker::recording_rules;
use metrics_tests::grpc::{Counted, Echo, HANDLED, Series};
use metrics_tests::servers::{Prometheus, QueryApi};
use metrics_tests::wait::poll;

use crate::stack::{GRPC_JOB, Stack};

/// grpc-app's client, on a runtime of its own, and what its calls must count.
pub struct GrpcTraffic {
    runtime: Runtime,
    echo: Mutex<Echo>,
}

impl GrpcTraffic {
    /// Connected to `app`'s gRPC address.
    pub fn new(app: &RunningApp) -> GrpcTraffic {
        let runtime = Runtime::new().expect("a tokio runtime");
        let addr = app.grpc_addr.as_deref().expect("grpc-app's gRPC address");
        let echo = runtime.block_on(Echo::connect(addr));
        GrpcTraffic {
            runtime,
            echo: Mutex::new(echo),
        }
    }

    /// Every method with every code the second round sends: the series exist before the
    /// second round, which is what `rate()` sees.
    pub fn first_round(&self) {
        let mut echo = self.echo.lock().unwrap();
        self.runtime.block_on(async {
            echo.say("hello", Code::Ok).await;
            echo.say("down", Code::Unavailable).await;
            echo.repeat("r", 2, Code::Ok).await;
            echo.repeat("bad", 0, Code::InvalidArgument).await;
            echo.collect(&["a", "b"], Code::Ok).await;
            echo.chat(&["hi"], Code::Ok).await;
        });
    }

    /// The traffic the alerts and panels read: `Say` fails a third of its RPCs with
    /// `Unavailable` (a server fault: GrpcHighServerErrorRatio) and answers 40 in 600 ms
    /// (p99 above 500 ms: GrpcSlowP99); `Repeat` answers 60 `InvalidArgument` (the
    /// client's fault: no alert); a deadline the server exceeds; every method above the
    /// 0.1 RPCs/s floor.
    pub fn second_round(&self) {
        let mut echo = self.echo.lock().unwrap();
        self.runtime.block_on(async {
            for _ in 0..60 {
                echo.say("hello", Code::Ok).await;
                echo.say("down", Code::Unavailable).await;
                echo.repeat("bad", 0, Code::InvalidArgument).await;
            }
            echo.say_slow(40, Duration::from_millis(600)).await;
            echo.say_late(Duration::from_secs(2), Duration::from_millis(100))
                .await;
            for _ in 0..40 {
                echo.repeat("r", 3, Code::Ok).await;
                echo.collect(&["a", "b", "c"], Code::Ok).await;
                echo.chat(&["one", "two"], Code::Ok).await;
            }
        });
    }

    /// What the calls so far must count.
    pub fn counted(&self) -> Counted {
        self.echo.lock().unwrap().counted.clone()
    }
}

/// `grpc_server_handled_total` of job grpc-app in Prometheus, labels (but `job` and
/// `instance`) sorted.
pub fn handled_in(prometheus: &Prometheus) -> Result<Series, String> {
    let result = prometheus.query(&format!(r#"{HANDLED}{{job="{GRPC_JOB}"}}"#))?;
    let mut handled = Series::new();
    for series in &result {
        let metric = series["metric"].as_object().ok_or("no labels")?;
        let mut labels: Vec<(String, String)> = metric
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "__name__" | "job" | "instance"))
            .map(|(name, value)| (name.clone(), value.as_str().unwrap_or("").to_owned()))
            .collect();
        labels.sort();
        let value = series["value"][1].as_str().ok_or("no value")?;
        handled.insert(labels, value.parse().map_err(|_| value.to_owned())?);
    }
    Ok(handled)
}

/// Waits (bounded) until Prometheus shows `rpcs` RPCs of grpc-app handled, whatever their
/// labels; returns the series then, or the last thing it saw.
pub fn settle(prometheus: &Prometheus, rpcs: f64, timeout: Duration) -> Result<Series, String> {
    metrics_tests::wait::settle(timeout, || {
        let seen = handled_in(prometheus)?;
        let total: f64 = seen.values().sum();
        if total == rpcs {
            Ok(seen)
        } else {
            Err(format!("{total} of {rpcs} RPCs: {seen:?}"))
        }
    })
}

/// Prometheus holds exactly the `grpc_server_handled_total` of the traffic: per method,
/// type and code.
pub fn prometheus_has_the_exact_grpc_counts(stack: &Stack) {
    let seen = stack.grpc_seen.as_ref().expect("query Prometheus");
    let want = stack
        .grpc_counted
        .series()
        .remove(HANDLED)
        .unwrap_or_default();
    assert_eq!(seen, &want, "grpc_server_handled_total in Prometheus");
    assert_eq!(
        stack.grpc_counted.rpcs(),
        347.0,
        "the traffic of both rounds"
    );
    stack.grpc.process().assert_running();
}

/// Every gRPC recording rule of docker/recording.yml has data for job grpc-app, and only
/// for it.
pub fn every_grpc_recording_rule_has_data_for_grpc_app(stack: &Stack) {
    let grpc: Vec<String> = recording_rules()
        .into_iter()
        .map(|(record, _)| record)
        .filter(|record| record.contains(":grpc_"))
        .collect();
    assert_eq!(grpc.len(), 5, "{grpc:?}");
    for record in grpc {
        let result = poll(&record, Duration::from_secs(15), || {
            let result = stack.prometheus.query(&record)?;
            (!result.is_empty())
                .then_some(result)
                .ok_or("no data".to_owned())
        });
        for series in &result {
            assert_eq!(series["metric"]["job"], GRPC_JOB, "{record}: {series}");
            assert_eq!(series["metric"]["grpc_service"], "demo.Echo", "{record}");
        }
        let methods: BTreeSet<&str> = result
            .iter()
            .filter_map(|s| s["metric"]["grpc_method"].as_str())
            .collect();
        assert_eq!(
            methods,
            ["Chat", "Collect", "Repeat", "Say"].into(),
            "{record}"
        );
    }
}
