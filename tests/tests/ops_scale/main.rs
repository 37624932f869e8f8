//! The ops stack scaled out, run for real on loopback: three replicas of the example
//! service, the HA pair of Prometheus servers (docker/prometheus-a.yml, prometheus-b.yml),
//! VictoriaMetrics deduplicating what both write, and a cluster of two Alertmanagers
//! notifying this test's webhook (`stack.rs`). The checks run in this order, one at a time:
//! the later ones stop a replica, an Alertmanager, a Prometheus.
//!
//! Its own `main` (libtest-mimic) stops the stack when the tests are done. Every external
//! tool is required.

mod stack;

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libtest_mimic::Arguments;
use serde_json::Value as Json;

use metrics_tests::docker::{
    dashboards, objective_recording_rules, panels, recording_rules, with_all_selected,
};
use metrics_tests::guides;
use metrics_tests::http::get;
use metrics_tests::servers::QueryApi;
use metrics_tests::stack::Shared;
use metrics_tests::wait::poll;
use metrics_tests::webhook::Notification;

use crate::stack::{Stack, label, newest_counts};

/// How long to keep listening after a notification for a second one: a cluster member
/// waits 2 s per position (`--cluster.peer-timeout`) before it notifies what no peer has.
const QUIET: Duration = Duration::from_secs(6);

/// How long an alert may take to reach the webhook.
const ALERT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let mut args = Arguments::from_args();
    // In order, one at a time: the later checks stop servers.
    args.test_threads = Some(1);
    let stack = Shared::<Stack>::default();
    let trials = vec![
        stack.trial(
            "scale_victoriametrics_holds_each_series_once_with_the_exact_totals",
            victoriametrics_holds_each_series_once_with_the_exact_totals,
        ),
        stack.trial(
            "scale_every_recording_rule_evaluates_without_instance_where_it_aggregates",
            every_recording_rule_evaluates_without_instance_where_it_aggregates,
        ),
        stack.trial(
            "scale_the_5xx_alert_fires_in_both_prometheus_and_is_notified_once",
            the_5xx_alert_fires_in_both_prometheus_and_is_notified_once,
        ),
        stack.trial(
            "scale_every_dashboard_query_has_data_in_victoriametrics",
            every_dashboard_query_has_data_in_victoriametrics,
        ),
        stack.trial(
            "scale_every_scaling_out_guide_query_has_data_in_victoriametrics",
            every_scaling_out_guide_query_has_data_in_victoriametrics,
        ),
        stack.trial(
            "scale_a_stopped_replica_is_down_alone_and_the_others_keep_being_counted",
            a_stopped_replica_is_down_alone_and_the_others_keep_being_counted,
        ),
        stack.trial(
            "scale_with_one_alertmanager_stopped_the_next_alert_is_notified_once",
            with_one_alertmanager_stopped_the_next_alert_is_notified_once,
        ),
        stack.trial(
            "scale_with_one_prometheus_stopped_victoriametrics_keeps_fresh_exact_counts",
            with_one_prometheus_stopped_victoriametrics_keeps_fresh_exact_counts,
        ),
    ];
    let conclusion = libtest_mimic::run(&args, trials);
    stack.stop(conclusion.has_failed());
    conclusion.exit_code()
}

fn victoriametrics_holds_each_series_once_with_the_exact_totals(stack: &Stack) {
    // The newest value of every series, per replica, is what that replica was sent: the
    // pair's two copies of each sample are one in VictoriaMetrics.
    let seen = stack
        .settled
        .as_ref()
        .expect("VictoriaMetrics shows the traffic");
    assert_eq!(seen, &stack.sent);
    let totals: BTreeSet<u64> = stack
        .sent
        .values()
        .map(|counts| counts.values().sum::<f64>() as u64)
        .collect();
    assert_eq!(
        totals.len(),
        3,
        "a different number per replica: {totals:?}"
    );
    let total: f64 = stack.sent.values().flat_map(|c| c.values()).sum();
    let vm = &stack.victoria;
    assert_eq!(
        vm.value(r#"sum(http_requests_total{job="actix-app"})"#),
        Ok(Some(total.to_string())),
        "the sum over instances, not doubled"
    );
    // Each Prometheus of the pair has it all too, and wrote its samples to VictoriaMetrics
    // without a failure.
    for prometheus in &stack.prometheus {
        assert_eq!(newest_counts(prometheus).as_ref(), Ok(&stack.sent));
        let own = get(&format!("{}/metrics", prometheus.base_url()), &[]).body;
        let written = own_counter(&own, "prometheus_remote_storage_samples_total");
        let failed = own_counter(&own, "prometheus_remote_storage_samples_failed_total");
        assert!(
            written > 0.0 && failed == 0.0,
            "{written} written, {failed} failed"
        );
    }

    // Each series once, without the pair's `replica` label.
    let series = vm
        .api(
            "/api/v1/series",
            &[("match[]", r#"http_requests_total{job="actix-app"}"#)],
        )
        .unwrap();
    let series = series.as_array().unwrap();
    let expected: usize = stack.sent.values().map(BTreeMap::len).sum();
    assert_eq!(series.len(), expected, "{series:?}");
    let distinct: BTreeSet<String> = series.iter().map(Json::to_string).collect();
    assert_eq!(distinct.len(), expected, "each series once");
    assert!(
        series.iter().all(|s| s.get("replica").is_none()),
        "no `replica` label: {series:?}"
    );

    // One sample per scrape interval: over the same minute (the whole run so far),
    // VictoriaMetrics keeps no more samples of a series than one Prometheus scraped, though
    // both wrote theirs.
    let at = (unix_now() - 2.0).to_string();
    let instance = stack.replicas[0].addr.as_str();
    let expr = format!(r#"count_over_time(up{{job="actix-app", instance="{instance}"}}[1m])"#);
    let samples = |server: &dyn QueryApi| -> u32 {
        let result = server
            .api("/api/v1/query", &[("query", &expr), ("time", &at)])
            .unwrap();
        result["result"][0]["value"][1]
            .as_str()
            .unwrap_or_else(|| panic!("{expr}: {result}"))
            .parse()
            .unwrap()
    };
    let (a, b) = (samples(&stack.prometheus[0]), samples(&stack.prometheus[1]));
    let kept = samples(vm);
    assert!(
        a >= 3 && b >= 3,
        "each Prometheus scraped every second: {a}, {b}"
    );
    assert!(kept <= a.max(b) + 1, "deduplicated: {kept} of {a} + {b}");
}

fn every_recording_rule_evaluates_without_instance_where_it_aggregates(stack: &Stack) {
    let rules = recording_rules();
    assert!(rules.len() >= 10, "{rules:?}");
    for prometheus in &stack.prometheus {
        // Healthy, every one.
        let data = prometheus
            .api("/api/v1/rules", &[("type", "record")])
            .unwrap();
        let evaluated: Vec<&Json> = data["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap())
            .collect();
        // docker/recording.yml's and docker/objectives.yml's.
        let all = rules.len() + objective_recording_rules().len();
        assert_eq!(evaluated.len(), all, "{evaluated:?}");
        for rule in evaluated {
            assert_eq!(rule["health"], "ok", "{rule}");
        }
    }
    // Data in each Prometheus and in VictoriaMetrics; `instance` only where the level keeps
    // it; never `replica`. The gRPC aggregates have none: this stack runs no gRPC service
    // (ops_live runs grpc-app and checks them).
    for (record, _) in &rules {
        if record.contains(":grpc_") {
            for (name, server) in servers(stack) {
                let result = server.query(record).unwrap();
                assert!(result.is_empty(), "{name}: {record}: {result:?}");
            }
            continue;
        }
        let level = record.split(':').next().unwrap();
        let keeps_instance = level.split('_').any(|l| l == "instance");
        for (name, server) in servers(stack) {
            let result = poll(&format!("{record} in {name}"), ALERT, || {
                let result = server.query(record)?;
                (!result.is_empty())
                    .then_some(result)
                    .ok_or("no data".into())
            });
            for series in &result {
                let metric = &series["metric"];
                assert_eq!(
                    metric.get("instance").is_some(),
                    keeps_instance,
                    "{name}: {record}: {metric}"
                );
                assert!(metric.get("replica").is_none(), "{name}: {metric}");
                assert_eq!(metric["job"], "actix-app", "{name}: {metric}");
            }
            if keeps_instance {
                let instances: BTreeSet<String> = result
                    .iter()
                    .map(|s| label(&s["metric"], "instance"))
                    .collect();
                assert_eq!(instances.len(), 3, "{name}: {record}: {instances:?}");
            }
        }
    }
}

// Both Prometheus servers and VictoriaMetrics, by name.
fn servers(stack: &Stack) -> [(&'static str, &dyn QueryApi); 3] {
    [
        ("prometheus-a", &stack.prometheus[0]),
        ("prometheus-b", &stack.prometheus[1]),
        ("victoriametrics", &stack.victoria),
    ]
}

fn the_5xx_alert_fires_in_both_prometheus_and_is_notified_once(stack: &Stack) {
    // Firing in both servers of the pair, on the route, not per instance.
    for prometheus in &stack.prometheus {
        poll("HttpHigh5xxRatio firing in Prometheus", ALERT, || {
            let alerts =
                prometheus.query(r#"ALERTS{alertname="HttpHigh5xxRatio", alertstate="firing"}"#)?;
            match alerts.as_slice() {
                [one] if one["metric"]["route"] == "/error" => {
                    assert!(one["metric"].get("instance").is_none(), "{one}");
                    Ok(())
                }
                other => Err(format!("{other:?}")),
            }
        });
    }
    // Both members hold it, without the pair's `replica` (alert_relabel_configs).
    for alertmanager in &stack.alertmanagers {
        poll("HttpHigh5xxRatio in both Alertmanagers", ALERT, || {
            let alerts = alertmanager.alerts().ok_or("no answer")?;
            let ours: Vec<&Json> = alerts
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a["labels"]["alertname"] == "HttpHigh5xxRatio")
                .collect();
            match ours.as_slice() {
                [one] => {
                    assert!(one["labels"].get("replica").is_none(), "{one}");
                    Ok(())
                }
                other => Err(format!("{other:?}")),
            }
        });
    }
    // Two servers, two Alertmanagers: one notification.
    let notification = notified_once(stack, "HttpHigh5xxRatio on /error", |group| {
        group["alertname"] == "HttpHigh5xxRatio" && group["route"] == "/error"
    });
    assert_eq!(notification.path, "/alerts/critical");
    let alerts = notification.body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{}", notification.body);
    assert_eq!(alerts[0]["labels"]["handler"], "error");
    assert_eq!(alerts[0]["labels"]["job"], "actix-app");
    assert!(alerts[0]["labels"].get("replica").is_none());
}

fn every_dashboard_query_has_data_in_victoriametrics(stack: &Stack) {
    // The dashboard's data source can be VictoriaMetrics: every query has data there, but
    // the gRPC panels' (this stack runs no gRPC service; ops_live checks them).
    for (file, dashboard) in dashboards() {
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().cloned().unwrap_or_default() {
                let expr = with_all_selected(target["expr"].as_str().unwrap());
                let title = panel["title"].as_str().unwrap();
                if expr.contains("grpc_") {
                    let result = stack.victoria.query(&expr).unwrap();
                    assert!(result.is_empty(), "{file} / {title}: {result:?}");
                    continue;
                }
                let result = poll(&format!("{file} / {title}"), ALERT, || {
                    let result = stack.victoria.query(&expr)?;
                    (!result.is_empty()).then_some(result).ok_or(expr.clone())
                });
                assert!(!result.is_empty());
            }
        }
    }
}

fn every_scaling_out_guide_query_has_data_in_victoriametrics(stack: &Stack) {
    let queries = guides::promql("docs/scaling-out.md");
    assert!(queries.len() >= 5, "{queries:?}");
    for expr in queries {
        let result = stack
            .victoria
            .query(&expr)
            .unwrap_or_else(|err| panic!("docs/scaling-out.md: {err}\n{expr}"));
        assert!(!result.is_empty(), "docs/scaling-out.md: no data\n{expr}");
    }
}

fn a_stopped_replica_is_down_alone_and_the_others_keep_being_counted(stack: &Stack) {
    stack.stop_replica(2);
    let down = stack.replicas[2].addr.as_str();
    for prometheus in &stack.prometheus {
        poll("the stopped replica alone down", ALERT, || {
            let alerts =
                prometheus.query(r#"ALERTS{alertname="AppTargetDown", alertstate="firing"}"#)?;
            let up = prometheus.query(r#"up{job="actix-app"}"#)?;
            let up: BTreeMap<String, String> = up
                .iter()
                .map(|s| {
                    let value = s["value"][1].as_str().unwrap_or_default().to_owned();
                    (label(&s["metric"], "instance"), value)
                })
                .collect();
            let expected: BTreeMap<String, String> = stack
                .replicas
                .iter()
                .map(|r| {
                    (
                        r.addr.clone(),
                        if r.addr == down { "0" } else { "1" }.into(),
                    )
                })
                .collect();
            match alerts.as_slice() {
                [one] if one["metric"]["instance"] == down && up == expected => Ok(()),
                other => Err(format!("{other:?}, up {up:?}")),
            }
        });
    }
    notified_once(stack, "AppTargetDown of the stopped replica", |group| {
        group["alertname"] == "AppTargetDown" && group["instance"] == down
    });
    // The other two are still counted, exactly; the stopped one keeps its last values.
    for traffic in &stack.traffic[..2] {
        traffic.round(1);
    }
    let seen = stack.settle(&stack.victoria, ALERT);
    assert_eq!(seen, Ok(stack.sent()));
}

fn with_one_alertmanager_stopped_the_next_alert_is_notified_once(stack: &Stack) {
    let status = stack.alertmanagers[0].stop();
    assert!(status.success(), "alertmanager-1 exited with {status}");
    stack.alertmanagers[1].wait_clustered(1);
    // The next alert: a second replica down.
    stack.stop_replica(1);
    let down = stack.replicas[1].addr.as_str();
    let notification = notified_once(stack, "AppTargetDown of the second replica", |group| {
        group["alertname"] == "AppTargetDown" && group["instance"] == down
    });
    assert_eq!(notification.path, "/alerts/critical");
}

fn with_one_prometheus_stopped_victoriametrics_keeps_fresh_exact_counts(stack: &Stack) {
    let status = stack.prometheus[0].stop();
    assert!(status.success(), "prometheus-a exited with {status}");
    let stopped_at = unix_now();
    let running: Vec<usize> = (0..3)
        .filter(|i| !stack.stopped.lock().unwrap()[*i])
        .collect();
    assert!(!running.is_empty());
    // Samples keep coming, from Prometheus B: scraped 2 s after A was gone.
    let instance = &stack.replicas[running[0]].addr;
    let expr = format!(r#"timestamp(up{{job="actix-app", instance="{instance}"}})"#);
    poll("a sample scraped after prometheus-a stopped", ALERT, || {
        let newest = stack.victoria.value(&expr)?.ok_or("no sample")?;
        let newest: f64 = newest.parse().unwrap();
        (newest > stopped_at + 2.0)
            .then_some(())
            .ok_or(format!("{newest} after {stopped_at}"))
    });
    // New requests reach VictoriaMetrics through B alone, exactly; nothing sent to any
    // replica is lost.
    for i in &running {
        stack.traffic[*i].round(2);
    }
    let seen = stack.settle(&stack.victoria, ALERT);
    assert_eq!(seen, Ok(stack.sent()));
}

/// Waits for a firing notification of the group whose labels `matches` accepts, listens
/// [`QUIET`] longer, and asserts that it came once, as every group so far did.
fn notified_once(stack: &Stack, what: &str, matches: impl Fn(&Json) -> bool) -> Notification {
    let ours = || -> Vec<Notification> {
        stack
            .webhook
            .received()
            .into_iter()
            .filter(|n| matches(&n.body["groupLabels"]))
            .collect()
    };
    poll(&format!("a notification: {what}"), ALERT, || {
        (!ours().is_empty())
            .then_some(())
            .ok_or(format!("{:?}", stack.webhook.received()))
    });
    std::thread::sleep(QUIET);
    let ours = ours();
    assert_eq!(ours.len(), 1, "{what}: {ours:#?}");
    assert_eq!(ours[0].body["status"], "firing", "{:?}", ours[0]);
    let all = stack.webhook.received();
    let groups: BTreeSet<String> = all.iter().map(|n| n.body["groupKey"].to_string()).collect();
    assert_eq!(
        groups.len(),
        all.len(),
        "every group notified once: {all:#?}"
    );
    ours[0].clone()
}

/// The sum of a counter's series in a server's own `/metrics`.
fn own_counter(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .map(|line| line.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// Now, in seconds since the epoch.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
