//! The alert rules against the live stack: which ones have data, and the error alerts in
//! Alertmanager (active, the warning inhibited, routed by severity).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value as Json;

use metrics_tests::docker::{alert_rules, as_str, objective_recording_rules, recording_rules};
use metrics_tests::servers::QueryApi;
use metrics_tests::wait::poll;

use crate::stack::{ALL_JOBS, GRPC_JOB, JOBS, Stack, WORKER_JOB};

pub fn every_alert_rule_evaluates_and_only_the_expected_ones_have_data(stack: &Stack) {
    let prom = &stack.prometheus;
    // Every alert expression evaluates; the traffic makes exactly these return data, on
    // exactly these routes/handlers/methods.
    // (job, route or handler or gRPC method), for both apps but WebSockets (actix-app only);
    // the worker's jobs::resize, a tenth of whose calls fail; grpc-app's Say.
    let both = |key: &'static str| JOBS.map(|job| (job.to_owned(), key.to_owned())).to_vec();
    let five_xx = || {
        let mut keys = both("/error");
        keys.push((WORKER_JOB.to_owned(), "jobs::resize".to_owned()));
        keys
    };
    // grpc-app's Say: a third of its RPCs Unavailable, 40 of them slow.
    let say = || vec![(GRPC_JOB.to_owned(), "Say".to_owned())];
    let expect_data: BTreeMap<&str, Vec<(String, String)>> = [
        ("HttpHigh5xxRatio", five_xx()),
        ("HttpElevated5xxRatio", five_xx()),
        ("HttpSlowP95", both("/slow")),
        ("GrpcHighServerErrorRatio", say()),
        ("GrpcElevatedServerErrorRatio", say()),
        ("GrpcSlowP99", say()),
        (
            "WebSocketAbnormalClosures",
            vec![("actix-app".to_owned(), "ws".to_owned())],
        ),
    ]
    .into();
    for (name, rule) in alert_rules() {
        let expr = as_str(&rule["expr"], "expr");
        let query = || {
            prom.query(expr)
                .unwrap_or_else(|err| panic!("{name}: {err}\n{expr}"))
        };
        match expect_data.get(name.as_str()) {
            // Polled (bounded): the rules they read are evaluated every second, each job's
            // series in its own evaluation.
            Some(where_) => {
                poll(name.as_str(), Duration::from_secs(15), || {
                    let result = query();
                    let mut keys: Vec<(String, String)> = result
                        .iter()
                        .map(|s| {
                            let m = &s["metric"];
                            let key = m["route"].as_str().or(m["handler"].as_str());
                            let key = key.or(m["grpc_method"].as_str());
                            (
                                m["job"].as_str().unwrap_or("").to_owned(),
                                key.unwrap_or("").to_owned(),
                            )
                        })
                        .collect();
                    keys.sort();
                    (&keys == where_)
                        .then_some(())
                        .ok_or(format!("{name}: {keys:?}, want {where_:?}: {result:?}"))
                });
            }
            None => {
                let result = query();
                assert!(result.is_empty(), "{name} must be quiet: {result:?}");
            }
        }
    }
    // Prometheus evaluated every rule without error.
    poll("every rule evaluated", Duration::from_secs(10), || {
        let data = prom.api("/api/v1/rules", &[])?;
        let rules: Vec<Json> = data["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        // alerts.yml's and recording.yml's, objectives.yml's (its alerts are quiet here
        // but for the demo objective: tests/ops_live/objectives.rs checks them).
        let all_ok = rules.len()
            == alert_rules().len()
                + recording_rules().len()
                + objective_recording_rules().len()
                + 4
            && rules
                .iter()
                .all(|r| r["health"] == "ok" && r["lastError"].as_str().unwrap_or("").is_empty());
        all_ok.then_some(()).ok_or(format!("{rules:?}"))
    });
}

/// Where the error alerts are: `/error` of the apps, the worker's `jobs::resize`,
/// grpc-app's `Say`.
fn failing(job: &str) -> (&'static str, &'static str) {
    match job {
        WORKER_JOB => ("handler", "jobs::resize"),
        GRPC_JOB => ("grpc_method", "Say"),
        _ => ("route", "/error"),
    }
}

/// The critical and the warning error alerts of `job`: 5xx, or gRPC server faults.
fn error_alerts(job: &str) -> [&'static str; 2] {
    if job == GRPC_JOB {
        ["GrpcHighServerErrorRatio", "GrpcElevatedServerErrorRatio"]
    } else {
        ["HttpHigh5xxRatio", "HttpElevated5xxRatio"]
    }
}

/// Waits for the critical and the warning error alerts ([`error_alerts`]) on [`failing`] of
/// `job` in Alertmanager, until `ready` holds for them; returns `(critical, warning)`.
fn five_xx_alerts(stack: &Stack, job: &str, ready: impl Fn(&Json, &Json) -> bool) -> (Json, Json) {
    let (label, value) = failing(job);
    let [critical, warning] = error_alerts(job);
    let alertmanager = &stack.alertmanager;
    poll(
        &format!("{critical} and {warning} of {job} in Alertmanager"),
        Duration::from_secs(30),
        || {
            alertmanager.process.assert_running();
            let alerts = alertmanager.alerts().ok_or("no answer".to_owned())?;
            let find = |name: &str| {
                alerts
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| {
                        let labels = &a["labels"];
                        labels["alertname"] == name
                            && labels[label] == value
                            && labels["job"] == job
                    })
                    .cloned()
            };
            match (find(critical), find(warning)) {
                (Some(critical), Some(warning)) if ready(&critical, &warning) => {
                    Ok((critical, warning))
                }
                _ => Err(alerts.to_string()),
            }
        },
    )
}

pub fn the_5xx_alert_reaches_alertmanager_and_inhibits_the_warning(stack: &Stack) {
    for job in ALL_JOBS {
        five_xx_alert_inhibits_the_warning(stack, job);
    }
}

// The critical alert on `job`'s failing route, handler or gRPC method is active; the
// warning on the same one is inhibited by it (and only by it: the other jobs' alerts are
// apart).
fn five_xx_alert_inhibits_the_warning(stack: &Stack, job: &str) {
    let (critical, warning) = five_xx_alerts(stack, job, |_, warning| {
        warning["status"]["state"] == "suppressed"
    });
    assert_eq!(critical["status"]["state"], "active", "{critical}");
    assert_eq!(critical["labels"]["severity"], "critical");
    let summary = critical["annotations"]["summary"]
        .as_str()
        .unwrap_or_default();
    if job == WORKER_JOB {
        // No method, no route: the annotations name the handler. A tenth failed; the
        // share is above the 5% threshold but not exactly 10%: rate() extrapolates each
        // series on its own, and the 500s began with job 10.
        assert!(critical["labels"]["method"].is_null(), "{critical}");
        assert!(summary.starts_with("jobs::resize: "), "{summary}");
        let share: f64 = summary["jobs::resize: ".len()..]
            .trim_end_matches("% 5xx")
            .parse()
            .unwrap_or_else(|_| panic!("{summary}"));
        assert!((5.0..=20.0).contains(&share), "{summary}");
    } else if job == GRPC_JOB {
        // Per method; the share extrapolated by rate() from 61 of 163 RPCs (60 with the
        // runtime that counts the deadline as DeadlineExceeded, not Canceled).
        assert_eq!(critical["labels"]["grpc_service"], "demo.Echo");
        assert!(critical["labels"]["instance"].is_null(), "{critical}");
        let share: f64 = summary
            .strip_prefix("demo.Echo/Say: ")
            .and_then(|rest| rest.strip_suffix("% server errors"))
            .and_then(|share| share.parse().ok())
            .unwrap_or_else(|| panic!("{summary}"));
        assert!((25.0..=50.0).contains(&share), "{summary}");
    } else {
        assert_eq!(critical["labels"]["handler"], "error");
        assert_eq!(critical["labels"]["method"], "GET");
        assert_eq!(summary, "GET /error: 100% 5xx");
    }
    assert_eq!(
        warning["status"]["inhibitedBy"],
        Json::from(vec![critical["fingerprint"].clone()]),
        "{warning}"
    );
}

pub fn alertmanager_routes_the_5xx_alerts_by_severity(stack: &Stack) {
    // The critical alert goes to the pager, the warning to tickets.
    for job in ALL_JOBS {
        let (critical, warning) = five_xx_alerts(stack, job, |_, _| true);
        assert_eq!(critical["receivers"][0]["name"], "pager", "{job}");
        assert_eq!(warning["receivers"][0]["name"], "tickets", "{job}");
    }
}
