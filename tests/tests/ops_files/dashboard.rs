//! The dashboard against Grafana's published schema (`tsc --noEmit`), and what the schema
//! cannot say: variables, data source, ids, every query filtered by `$job`, the request
//! families summed with an explicit list and read in both namings.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use serde_json::Value as Json;

use metrics_tests::docker::{self, dashboards, objective_recording_rules, panels, recording_rules};
use metrics_tests::tool::run_ok;

use crate::{naming_gaps, request_families_summed, selected_metrics};

/// The panels that read a request family in one naming only, each with what it leaves out
/// and why. The dashboard also runs on VictoriaMetrics (the scaled stack's data source,
/// `ops_scale`), whose MetricsQL has no `histogram_count`: a query of the raw families there
/// cannot count the OpenTelemetry histogram when Prometheus stores it as native only.
const ONE_NAMING: [(&str, &str, &str); 1] = [(
    "Status by route (time range)",
    "http_requests_total without http_server_request_duration_seconds",
    "MetricsQL has no histogram_count: the OpenTelemetry requests of a Prometheus storing \
     native histograms only are left out of this table (the panel says so), not of the \
     recorded ones",
)];

/// Whether every package of `package-lock.json` is installed in `node_modules` at its version.
fn node_modules_match_lock(dir: &Path) -> bool {
    let lock: Json =
        serde_json::from_str(&fs::read_to_string(dir.join("package-lock.json")).unwrap()).unwrap();
    lock["packages"]
        .as_object()
        .expect("lockfileVersion 3")
        .iter()
        .filter(|(path, _)| !path.is_empty())
        .all(|(path, package)| {
            let installed = fs::read_to_string(dir.join(path).join("package.json"))
                .ok()
                .and_then(|text| serde_json::from_str::<Json>(&text).ok());
            installed.is_some_and(|p| p["version"] == package["version"])
        })
}

#[test]
fn dashboard_matches_grafanas_published_schema() {
    // The offline schema check: @grafana/schema + tsc --noEmit (docker/grafana/check).
    let check = docker::dir().join("grafana/check");
    if !node_modules_match_lock(&check) {
        run_ok("npm", &["ci", "--no-audit", "--no-fund"], &check);
        assert!(
            node_modules_match_lock(&check),
            "npm ci installed the lock file"
        );
    }
    let out = run_ok("npm", &["run", "--silent", "check"], &check);
    assert!(out.contains("actix-app.json"), "{out}");

    // What the schema cannot say: variables, data source, unique ids, what is shown.
    // docker/recording.yml's aggregates and docker/objectives.yml's objectives.
    let recorded: BTreeSet<String> = recording_rules()
        .into_iter()
        .chain(objective_recording_rules())
        .map(|(r, _)| r)
        .collect();
    for (file, dashboard) in dashboards() {
        let variables: BTreeMap<&str, &Json> = dashboard["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v))
            .collect();
        assert_eq!(variables["datasource"]["type"], "datasource");
        assert_eq!(variables["datasource"]["query"], "prometheus");
        for name in ["job", "handler", "route", "instance"] {
            assert_eq!(variables[name]["type"], "query", "{file}: ${name}");
        }
        // Every job, one or several, all by default: HTTP and gRPC services alike.
        let job = variables["job"];
        // A job in OpenTelemetry naming has no http_requests_total (its tracked calls outside
        // requests may), but always the active-requests gauge.
        assert_eq!(
            job["query"]["query"],
            r#"label_values({__name__=~"http_requests_total|http_server_active_requests|grpc_server_handled_total"}, job)"#
        );
        // Handlers and routes of either naming: the recorded request rates carry both.
        assert_eq!(
            variables["handler"]["query"]["query"],
            r#"label_values(job_handler_method_route:http_requests:rate5m{job=~"$job"}, handler)"#
        );
        assert_eq!(
            variables["route"]["query"]["query"],
            r#"label_values(job_handler_method_route:http_requests:rate5m{job=~"$job", handler=~"$handler"}, route)"#
        );
        assert_eq!(job["multi"], true);
        assert_eq!(job["includeAll"], true);
        let mut ids = BTreeSet::new();
        let mut titles = Vec::new();
        for panel in panels(&dashboard) {
            assert!(ids.insert(panel["id"].as_u64().unwrap()), "{file}: ids");
            titles.push(panel["title"].as_str().unwrap().to_owned());
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{file}: {}",
                panel["title"]
            );
            for target in panel["targets"].as_array().unwrap() {
                assert_eq!(target["datasource"]["uid"], "${datasource}");
                let expr = target["expr"].as_str().unwrap();
                // Labels from the request (tenant, ...) summed away where a request family
                // is read as it is scraped.
                request_families_summed(expr)
                    .unwrap_or_else(|err| panic!("{file}: {}: {err}", panel["title"]));
                // The scaled stack's Grafana reads VictoriaMetrics, whose MetricsQL lacks
                // these (the recording rules, which Prometheus evaluates, may call them).
                for function in ["histogram_count(", "histogram_sum("] {
                    assert!(
                        !expr.contains(function),
                        "{file}: {}: MetricsQL has no {function}: {expr}",
                        panel["title"]
                    );
                }
                // Either naming, but where ONE_NAMING says why not (and only that).
                let title = panel["title"].as_str().unwrap();
                let allowed: Vec<String> = ONE_NAMING
                    .iter()
                    .filter(|(t, _, _)| *t == title)
                    .map(|(_, gap, _)| (*gap).to_owned())
                    .collect();
                assert_eq!(
                    naming_gaps(expr),
                    allowed,
                    "{file}: {title}: read both namings (`or`, the OpenTelemetry labels renamed with \
                     label_replace, as docker/recording.yml does): a program in the other naming \
                     (Config::naming, CONTRACT §16) would be missing"
                );
                // Filtered by the job variable; aggregates read from the recording rules.
                let metrics = selected_metrics(expr);
                assert!(!metrics.is_empty(), "{file}: {expr}");
                for metric in metrics {
                    assert!(
                        expr.contains(&format!("{metric}{{job=~\"$job\"")),
                        "{file}: {metric} filtered by $job in {expr}"
                    );
                    assert!(
                        !metric.contains(':') || recorded.contains(&metric),
                        "{file}: {metric} is a recording rule"
                    );
                }
            }
        }
        for row in [
            "Overview",
            "Objectives",
            "Requests",
            "Latency",
            "Process",
            "WebSocket",
            "gRPC",
        ] {
            assert!(titles.iter().any(|t| t.starts_with(row)), "row {row}");
        }
        let exprs: Vec<String> = panels(&dashboard)
            .iter()
            .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
            .map(|t| t["expr"].as_str().unwrap().to_owned())
            .collect();
        for needle in [
            "job_handler_method_route:http_requests:rate5m{",
            "job_handler_method_route:http_requests_5xx:ratio_rate5m{",
            "status=~\"5..\"",
            "job_handler_method_route:http_request_duration_seconds:p50_rate5m{",
            "job_handler_method_route:http_request_duration_seconds:p95_rate5m{",
            "job_handler_method_route:http_request_duration_seconds:p99_rate5m{",
            "histogram_quantile(0.95, sum by (le) (job_handler_method_route_le:",
            "job_handler_method_route:http_requests_in_flight:sum{",
            "job_instance:http_requests:rate5m{",
            "sum by (status)",
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_open_fds",
            "websocket_connections_active",
            "websocket_messages_total",
            "websocket_connection_duration_seconds_bucket",
            "job_objective_slo:http_requests_bad:budget_remaining30d{",
            "1 - job_objective_slo:http_requests_bad:ratio_rate1h{",
            "job_objective_slo:http_objective_target:max{",
            "job_objective_slo:http_requests_bad:burnrate5m{",
            "job_objective_slo:http_requests_bad:burnrate3d{",
            "build_info{",
            "job_grpc_service_grpc_method_grpc_code:grpc_server_handled:rate5m{",
            "job_grpc_service_grpc_method:grpc_server_handled_server_fault:ratio_rate5m{",
            "job_grpc_service_grpc_method:grpc_server_handling_seconds:p99_rate5m{",
            "(grpc_server_started_total{job=~\"$job\"}) - sum by (job, grpc_service, grpc_method) (grpc_server_handled_total{",
            "grpc_server_msg_received_total",
            "grpc_server_msg_sent_total",
        ] {
            assert!(
                exprs.iter().any(|e| e.contains(needle)),
                "{file}: a panel on {needle}"
            );
        }
    }
}
