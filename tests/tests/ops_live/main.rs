//! The ops stack run for real: both example services (the `actix-app` and `axum-app`
//! jobs), the worker (job `worker`, no web framework), grpc-app (job `grpc-app`, tonic:
//! `grpc.rs`), an axum app in this process whose requests carry a `tenant` label (job
//! `tenant-app`, in the test's copy of the config only: `tenants.rs`), an axum app in the
//! OpenTelemetry naming (job `otel-app`, a process, in the test's copy only: `otel.rs`), one Prometheus on the
//! project's config (rewritten for loopback) and one Alertmanager on docker/alertmanager.yml,
//! started once and driven with traffic (`stack.rs`), then checked by the small tests
//! below; and a Prometheus using the documented `authorization:` block on a protected app.
//!
//! This binary has its own `main` (libtest-mimic) so that the stack is stopped when the
//! tests are done: a `static` is never dropped. Every external tool is required.

mod alerts;
mod batch;
mod dashboard;
mod grpc;
mod objectives;
mod otel;
mod stack;
mod tenants;

use std::collections::BTreeSet;
use std::fs;
use std::process::ExitCode;
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use serde_json::Value as Json;

use metrics_tests::app::RunningApp;
use metrics_tests::docker::authorization_block;
use metrics_tests::guides;
use metrics_tests::http::get;
use metrics_tests::scrape::Scrape;
use metrics_tests::servers::{Prometheus, QueryApi};
use metrics_tests::stack::Shared;
use metrics_tests::wait::poll;
use track_metrics::actix::ENV_TOKEN;

use crate::stack::{GRPC_JOB, JOBS, Stack, TRACES, WORKER_JOB, worker_counts};

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let stack = Shared::<Stack>::default();
    // The test with a stack of its own first: it runs while the shared one starts.
    let trials = vec![
        Trial::test(
            "live_the_documented_authorization_block_scrapes_a_protected_app",
            || {
                the_documented_authorization_block_scrapes_a_protected_app();
                Ok(())
            },
        ),
        Trial::test(
            "live_objectives_page_for_the_burning_objective_only",
            || {
                objectives::objectives_page_for_the_burning_objective_only();
                Ok(())
            },
        ),
        stack.trial(
            "live_prometheus_scrapes_the_app_as_an_up_target",
            prometheus_scrapes_the_app_as_an_up_target,
        ),
        stack.trial(
            "live_prometheus_has_the_exact_counts_of_the_traffic",
            prometheus_has_the_exact_counts_of_the_traffic,
        ),
        stack.trial(
            "live_prometheus_has_the_exact_counts_of_the_worker",
            prometheus_has_the_exact_counts_of_the_worker,
        ),
        stack.trial(
            "live_prometheus_scrapes_openmetrics_and_stores_the_series_of_the_text_format",
            prometheus_scrapes_openmetrics_and_stores_the_series_of_the_text_format,
        ),
        stack.trial(
            "live_prometheus_stores_the_exemplars_of_traced_requests",
            prometheus_stores_the_exemplars_of_traced_requests,
        ),
        stack.trial(
            "live_prometheus_has_the_exact_grpc_counts",
            grpc::prometheus_has_the_exact_grpc_counts,
        ),
        stack.trial(
            "live_every_grpc_recording_rule_has_data_for_grpc_app",
            grpc::every_grpc_recording_rule_has_data_for_grpc_app,
        ),
        stack.trial(
            "live_every_dashboard_query_and_variable_has_data",
            dashboard::every_dashboard_query_and_variable_has_data,
        ),
        stack.trial(
            "live_every_alert_rule_evaluates_and_only_the_expected_ones_have_data",
            alerts::every_alert_rule_evaluates_and_only_the_expected_ones_have_data,
        ),
        stack.trial(
            "live_the_5xx_alert_reaches_alertmanager_and_inhibits_the_warning",
            alerts::the_5xx_alert_reaches_alertmanager_and_inhibits_the_warning,
        ),
        stack.trial(
            "live_alertmanager_routes_the_5xx_alerts_by_severity",
            alerts::alertmanager_routes_the_5xx_alerts_by_severity,
        ),
        stack.trial(
            "live_every_operating_guide_query_has_data",
            every_operating_guide_query_has_data,
        ),
        stack.trial(
            "live_prometheus_has_the_exact_counts_per_tenant",
            tenants::prometheus_has_the_exact_counts_per_tenant,
        ),
        stack.trial(
            "live_the_guides_queries_by_tenant_give_each_tenants_numbers",
            tenants::the_guides_queries_by_tenant_give_each_tenants_numbers,
        ),
        stack.trial(
            "live_the_dashboard_sums_the_tenants_away",
            tenants::the_dashboard_sums_the_tenants_away,
        ),
        stack.trial(
            "live_otel_app_recording_rules_give_its_routes_exact_rates_and_quantiles",
            otel::recording_rules_give_its_routes_exact_rates_and_quantiles,
        ),
        stack.trial(
            "live_otel_app_objectives_page_for_its_failing_objective_only",
            otel::the_objectives_page_for_its_failing_objective_only,
        ),
        stack.trial(
            "live_a_batch_job_s_push_is_in_prometheus_under_its_own_job",
            batch::a_batch_job_s_push_is_in_prometheus_under_its_own_job,
        ),
    ];
    let conclusion = libtest_mimic::run(&args, trials);
    stack.stop(conclusion.has_failed());
    conclusion.exit_code()
}

fn prometheus_scrapes_the_app_as_an_up_target(stack: &Stack) {
    let prom = &stack.prometheus;
    let targets = poll("every target to be up", Duration::from_secs(30), || {
        prom.process.assert_running();
        let data = prom.api("/api/v1/targets", &[])?;
        let mut targets = data["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        targets.sort_by_key(|t| t["labels"]["job"].to_string());
        let up = prom.value(r#"sum(up{job=~"actix-app|axum-app|worker|grpc-app"})"#)?;
        // And the in-process app whose requests carry a tenant, otel-app, and the gateway.
        let all_up = targets.len() == 7 && targets.iter().all(|t| t["health"] == "up");
        match targets.as_slice() {
            _ if all_up && up.as_deref() == Some("4") => Ok(targets.clone()),
            other => Err(format!("{other:?}, up {up:?}")),
        }
    });
    let addrs = stack
        .by_job()
        .map(|(job, app)| (job, app.addr.clone()))
        .into_iter()
        .chain([
            (tenants::JOB, stack.tenants.addr.to_string()),
            (otel::JOB, stack.otel.addr.clone()),
        ]);
    for (job, addr) in addrs {
        let target = targets
            .iter()
            .find(|t| t["labels"]["job"] == job)
            .unwrap_or_else(|| panic!("a target of job {job}"));
        assert_eq!(
            target["scrapeUrl"],
            format!("http://{addr}/metrics").as_str()
        );
    }
}

fn prometheus_has_the_exact_counts_of_the_traffic(stack: &Stack) {
    // The first round, WebSocket included, before the second was sent.
    let first = stack.first.seen.as_ref().expect("query Prometheus");
    assert_eq!(
        first.requests, stack.first.sent,
        "the first round in Prometheus"
    );
    let one = Some("1".to_owned());
    assert_eq!(
        first.ws[..2],
        [one.clone(), one],
        "the first round's WebSocket connection ended and its close received"
    );
    // Both rounds, and every WebSocket connection ended.
    let second = stack.second.seen.as_ref().expect("query Prometheus");
    assert_eq!(
        second.requests, stack.second.sent,
        "http_requests_total to match the traffic"
    );
    assert_eq!(
        second.ws,
        [Some("9".into()), Some("2".into()), Some("0".into())],
        "the WebSocket connections ended, closes, active"
    );
    for job in JOBS {
        let sent: f64 = second.requests.get(job).map_or(0.0, |c| c.values().sum());
        assert!(sent > 100.0, "{job}: traffic counted ({sent})");
    }
    let elapsed = stack.settled_after;
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}

// The worker has no web framework: the exporter serves its metrics, and Prometheus reads
// every job it did, exactly (every tenth failed).
fn prometheus_has_the_exact_counts_of_the_worker(stack: &Stack) {
    let seen = stack.worker_seen.as_ref().expect("query Prometheus");
    assert_eq!(seen, &worker_counts(), "the worker's jobs in Prometheus");
    stack.worker.process().assert_running();
}

// Prometheus asks for OpenMetrics first, so that is what the apps and the worker's exporter
// answer it; it must store exactly the series the text format 0.0.4 shows (same names, same
// labels).
fn prometheus_scrapes_openmetrics_and_stores_the_series_of_the_text_format(stack: &Stack) {
    for (job, app) in stack.by_job() {
        let prometheus_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        let om = get(&app.url("/metrics"), &[("accept", prometheus_accept)]);
        assert_eq!(
            om.content_type.as_deref(),
            Some(track_metrics::OPENMETRICS_CONTENT_TYPE),
            "{job}"
        );
        // Every series of a text scrape, as `name{labels}` with the labels sorted.
        let text = get(&app.url("/metrics"), &[]);
        assert_eq!(
            text.content_type.as_deref(),
            Some(track_metrics::CONTENT_TYPE)
        );
        // (Prometheus keeps no label whose value is empty.)
        let scraped: BTreeSet<String> = Scrape::parse(&text.body)
            .keys()
            .map(without_empty_labels)
            .collect();
        // Every series Prometheus scraped from the job (not `up`, `scrape_*`, the rules'
        // records and alerts), without the target's labels.
        let query = format!(r#"{{job="{job}",__name__!~"up|scrape_.+|ALERTS.*|.+:.+"}}"#);
        let stored = poll(
            &format!("{job}: the series of a text scrape in Prometheus"),
            Duration::from_secs(10),
            || {
                let result = stack.prometheus.query(&query)?;
                let stored: BTreeSet<String> = result.iter().map(series_key).collect();
                if stored == scraped {
                    Ok(stored)
                } else {
                    Err(format!(
                        "only in Prometheus {:?}, only in the text scrape {:?}",
                        stored.difference(&scraped).collect::<Vec<_>>(),
                        scraped.difference(&stored).collect::<Vec<_>>()
                    ))
                }
            },
        );
        // Not an empty match: the apps' routes, the worker's two jobs, the process families.
        let least = if [WORKER_JOB, GRPC_JOB].contains(&job) {
            30
        } else {
            50
        };
        assert!(stored.len() > least, "{job}: {} series", stored.len());
    }
}

// `name{label="value",...}` without the labels whose value is `""`.
// Prometheus, exemplar storage on, scraped OpenMetrics: each traced request's trace id is
// an exemplar of `get_user`'s duration bucket, on the right job; nothing else is.
fn prometheus_stores_the_exemplars_of_traced_requests(stack: &Stack) {
    let prom = &stack.prometheus;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = ((now - 600).to_string(), (now + 60).to_string());
    for (job, traces) in JOBS.iter().zip(TRACES) {
        let query = format!(r#"http_request_duration_seconds_bucket{{job="{job}"}}"#);
        let stored = poll("the exemplars", Duration::from_secs(20), || {
            let data = prom.api(
                "/api/v1/query_exemplars",
                &[("query", &query), ("start", &start), ("end", &end)],
            )?;
            let mut found: BTreeSet<(String, String, String)> = BTreeSet::new();
            for series in data.as_array().into_iter().flatten() {
                let labels = &series["seriesLabels"];
                for exemplar in series["exemplars"].as_array().into_iter().flatten() {
                    found.insert((
                        as_json_str(&labels["handler"]),
                        as_json_str(&exemplar["labels"]["trace_id"]),
                        as_json_str(&exemplar["labels"]["span_id"]),
                    ));
                }
            }
            // The last traced request's exemplar is scraped at least.
            let last = (
                "get_user".to_owned(),
                traces[1].to_owned(),
                "00f067aa0ba902b7".to_owned(),
            );
            found
                .contains(&last)
                .then_some(found.clone())
                .ok_or(format!("{job}: {data}"))
        });
        for (handler, trace, span) in &stored {
            assert_eq!(handler, "get_user", "{job}");
            assert!(
                traces.contains(&trace.as_str()),
                "{job}: a foreign trace {trace}"
            );
            assert_eq!(span, "00f067aa0ba902b7");
        }
    }
}

fn as_json_str(value: &Json) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn without_empty_labels(key: &str) -> String {
    let (name, labels) = key.split_once('{').expect("a series key has labels");
    let labels = labels
        .strip_suffix('}')
        .expect("a series key ends its labels");
    let mut kept = Vec::new();
    let mut rest = labels;
    while let Some((label, after)) = rest.split_once("=\"") {
        // The value runs to the first `"` not escaped by a `\`.
        let mut end = 0;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    end = i;
                    break;
                }
                _ => escaped = false,
            }
        }
        let value = &after[..end];
        if !value.is_empty() {
            kept.push(format!("{label}=\"{value}\""));
        }
        rest = after[end + 1..].trim_start_matches(',');
    }
    format!("{name}{{{}}}", kept.join(","))
}

// `name{label="value",...}` of a query result, its labels sorted, without `job` and
// `instance`.
fn series_key(series: &Json) -> String {
    let metric = series["metric"].as_object().expect("a series has labels");
    let labels: Vec<String> = metric
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "__name__" | "job" | "instance"))
        .map(|(name, value)| format!("{name}={:?}", value.as_str().unwrap_or_default()))
        .collect();
    let name = metric["__name__"].as_str().unwrap_or_default();
    format!("{name}{{{}}}", labels.join(","))
}

fn every_operating_guide_query_has_data(stack: &Stack) {
    // The PromQL of docs/operating.md and of docs/grpc.md (job grpc-app) evaluates and has
    // data.
    for (guide, at_least) in [("docs/operating.md", 10), ("docs/grpc.md", 6)] {
        let queries = guides::promql(guide);
        assert!(queries.len() >= at_least, "{guide}: {queries:?}");
        for expr in queries {
            let result = stack
                .prometheus
                .query(&expr)
                .unwrap_or_else(|err| panic!("{guide}: {err}\n{expr}"));
            assert!(!result.is_empty(), "{guide}: no data\n{expr}");
        }
    }
}

fn the_documented_authorization_block_scrapes_a_protected_app() {
    let dir = tempfile::tempdir().unwrap();
    let app = RunningApp::start(&[(ENV_TOKEN, "s3cret-t0ken")]);
    let token_file = dir.path().join("metrics_token");
    fs::write(&token_file, "s3cret-t0ken\n").unwrap();
    let mut auth = authorization_block();
    auth["credentials_file"] = token_file.to_str().unwrap().into();
    let prom = Prometheus::scraping(dir.path(), &app.addr, Some(auth), &[]);
    assert_eq!(get(&app.url("/metrics"), &[]).status, 401, "protected");
    poll(
        "the protected target to be up",
        Duration::from_secs(30),
        || {
            prom.process.assert_running();
            let up = prom.query(r#"up{job="actix-app"}"#)?;
            (up.len() == 1 && up[0]["value"][1] == "1")
                .then_some(())
                .ok_or(format!("{up:?}"))
        },
    );
    let families = prom.query(r#"process_open_fds{job="actix-app"}"#).unwrap();
    assert_eq!(families.len(), 1, "the scrape carries the metrics");
}
