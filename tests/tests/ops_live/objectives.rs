//! The objectives' rule file, docker/objectives.yml unchanged but for `for:`, on a
//! Prometheus of its own scraping actix-app, alerting an Alertmanager on
//! docker/alertmanager.yml: a share of 5xx on the `demo` objective's routes pages for
//! `demo` and `slo="success"` only; `users`' latency is measured at the bucket its target's
//! `threshold` names; then slow requests page for demo's latency; the healthy `users`
//! objective fires nothing throughout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value as Json;

use metrics_tests::app::RunningApp;
use metrics_tests::docker::Rewrite;
use metrics_tests::http::get;
use metrics_tests::servers::{Alertmanager, Prometheus, QueryApi};
use metrics_tests::wait::poll;

/// The alerts of docker/objectives.yml.
const ALERTS: [&str; 2] = ["ObjectiveSuccessBudgetBurn", "ObjectiveLatencyBudgetBurn"];

/// The share of `users`' requests slower than its threshold over 5 minutes.
const USERS_LATENCY_RATIO: &str = r#"job_objective_slo:http_requests_bad:ratio_rate5m{job="actix-app", objective="users", slo="latency"}"#;

pub fn objectives_page_for_the_burning_objective_only() {
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start(&[]);
    let alertmanager = Alertmanager::start(dir.path(), "alertmanager", None, None);
    let prometheus = Prometheus::start(
        &dir.path().join("prometheus"),
        &Rewrite {
            file: "prometheus.yml",
            targets: &[
                ("actix-app", vec![app.addr.clone()]),
                ("axum-app", vec![]),
                ("worker", vec![]),
                ("grpc-app", vec![]),
                ("pushgateway", vec![]),
            ],
            alertmanagers: std::slice::from_ref(&alertmanager.addr),
            remote_write: None,
            interval: Some("1s"),
        },
        &ALERTS.map(|alert| (alert, "0s")),
        None,
    );
    alertmanager.wait_ready();

    // Traffic until the end, so that every window sees increases whenever Prometheus
    // scrapes: half of demo's requests fail, all fast; users' all succeed, fast. From the
    // second phase on, slow requests to demo too.
    let stop = AtomicBool::new(false);
    let slow = AtomicBool::new(false);
    let get_ok = |path: &str| {
        let status = get(&app.url(path), &[]).status;
        assert!(status == 200 || status == 500, "{path}: {status}");
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                get_ok("/error");
                get_ok("/slow?ms=0");
                get_ok("/users/1");
                get_ok("/users/2");
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        for _ in 0..4 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    if slow.load(Ordering::Relaxed) {
                        get_ok("/slow?ms=300");
                    } else {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            });
        }
        let checks = || {
            let firing = wait_for_firing(&prometheus, "the success page", |a: &Json| {
                page(a, "success")
            });
            assert_quiet(&firing, "latency", "users");
            let page_alert = firing.iter().find(|a| page(a, "success")).unwrap();
            assert_eq!(
                page_alert["labels"]["alertname"],
                "ObjectiveSuccessBudgetBurn"
            );
            assert_eq!(page_alert["labels"]["job"], "actix-app");
            assert!(
                page_alert["labels"].get("instance").is_none(),
                "{page_alert}"
            );
            // It reaches the pager: Alertmanager routes pages there.
            poll("the page in Alertmanager", Duration::from_secs(30), || {
                alertmanager.process.assert_running();
                let alerts = alertmanager.alerts().ok_or("no answer".to_owned())?;
                alerts
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| page(a, "success"))
                    .filter(|a| a["receivers"][0]["name"] == "pager")
                    .map(|_| ())
                    .ok_or(alerts.to_string())
            });

            // The latency of `users` is measured: its target's `threshold` met the bucket of
            // that `le` (its requests are fast, so few if any are bad).
            let bad = poll(
                "users' latency error ratio",
                Duration::from_secs(30),
                || {
                    prometheus
                        .value(USERS_LATENCY_RATIO)?
                        .ok_or_else(|| "no ratio yet".to_owned())
                },
            );
            let bad: f64 = bad.parse().unwrap();
            assert!(bad < 0.5, "{USERS_LATENCY_RATIO}: {bad}");

            // Now slow requests on demo too: soon more than 14.4 % of them above its
            // 250 ms threshold.
            slow.store(true, Ordering::Relaxed);
            let firing = wait_for_firing(&prometheus, "the latency page", |a: &Json| {
                page(a, "latency")
            });
            assert_quiet(&firing, "", "users");
        };
        // Stop the traffic whatever the checks found.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(checks));
        stop.store(true, Ordering::Relaxed);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    });
}

// Whether `alert` is the page of the `demo` objective for `slo`.
fn page(alert: &Json, slo: &str) -> bool {
    let labels = &alert["labels"];
    labels["objective"] == "demo" && labels["slo"] == slo && labels["severity"] == "page"
}

// Polls Prometheus' alerts (bounded) until one that `matches` is firing; returns all of
// ours then.
fn wait_for_firing(
    prometheus: &Prometheus,
    what: &str,
    matches: impl Fn(&Json) -> bool,
) -> Vec<Json> {
    poll(what, Duration::from_secs(90), || {
        prometheus.process.assert_running();
        let data = prometheus.api("/api/v1/alerts", &[])?;
        let ours: Vec<Json> = data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| ALERTS.iter().any(|name| a["labels"]["alertname"] == *name))
            .cloned()
            .collect();
        ours.iter()
            .any(|a| a["state"] == "firing" && matches(a))
            .then(|| ours.clone())
            .ok_or(format!("{ours:?}"))
    })
}

// No alert of objective `objective`, and none of `slo` (unless empty), pending or firing.
fn assert_quiet(alerts: &[Json], slo: &str, objective: &str) {
    for alert in alerts {
        let labels = &alert["labels"];
        assert_ne!(labels["objective"], objective, "{alert}");
        if !slo.is_empty() {
            assert_ne!(labels["slo"], slo, "{alert}");
        }
    }
}
