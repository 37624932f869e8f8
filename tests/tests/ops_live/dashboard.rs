//! The dashboard against the live stack: every query and variable of
//! docker/grafana/dashboards/ with data for each job, and only the panels of what a job does
//! not do empty (WebSockets but for actix-app, routes and objectives for the worker and
//! grpc-app, HTTP for grpc-app, gRPC for all but grpc-app); otel-app (`otel.rs`) too, in
//! the OpenTelemetry naming, whose in-flight requests have no route or handler.

use std::collections::BTreeSet;

use metrics_tests::docker::{dashboards, panels, with_job_selected};
use metrics_tests::servers::QueryApi;

use crate::otel;
use crate::stack::{ALL_JOBS, GRPC_JOB, Stack, WORKER_JOB};

/// What the dashboard shows of one job.
struct Shown<'a> {
    job: &'a str,
    instance: &'a str,
    /// Serves WebSockets (actix-app only).
    websocket: bool,
    /// Serves HTTP routes: `method` and `route` labels, unmatched requests (the worker's
    /// jobs have none of these).
    http: bool,
    /// Declares objectives (the examples' `demo` and `users`, grpc-app's `echo` on `Say`;
    /// the worker none).
    objectives: bool,
    /// Exposes the HTTP families (grpc-app has none: its panels are the gRPC ones).
    requests: bool,
    /// Exposes the gRPC families (grpc-app only).
    grpc: bool,
    /// In the OpenTelemetry naming (otel-app): its active-requests gauge has only the
    /// method, so the in-flight aggregates have no `route` or `handler`.
    otel: bool,
    handlers: Vec<&'a str>,
    routes: Vec<&'a str>,
}

impl Shown<'_> {
    // A panel query that must stay empty for this job.
    fn empty(&self, expr: &str) -> bool {
        // The objectives' panels read series of HTTP handlers and gRPC methods alike.
        if expr.contains("objective") {
            return !self.objectives;
        }
        (!self.websocket && expr.contains("websocket_"))
            || (!self.http && expr.contains(r#"route="""#))
            || (!self.requests && expr.contains("http_"))
            || (!self.grpc && expr.contains("grpc_"))
    }
}

pub fn every_dashboard_query_and_variable_has_data(stack: &Stack) {
    let handlers = vec!["index", "get_user", "create_user", "slow", "error"];
    let routes = vec!["/", "/users/{id}", "/users", "/slow", "/error"];
    let with_ws = |list: &[&'static str], ws: &'static str| {
        let mut list = list.to_vec();
        list.push(ws);
        list
    };
    let shown = [
        Shown {
            job: "actix-app",
            instance: &stack.app.addr,
            websocket: true,
            http: true,
            objectives: true,
            requests: true,
            grpc: false,
            otel: false,
            handlers: with_ws(&handlers, "ws"),
            routes: with_ws(&routes, "/ws"),
        },
        Shown {
            job: "axum-app",
            instance: &stack.axum.addr,
            websocket: false,
            http: true,
            objectives: true,
            requests: true,
            grpc: false,
            otel: false,
            handlers,
            routes,
        },
        Shown {
            job: WORKER_JOB,
            instance: &stack.worker.addr,
            websocket: false,
            http: false,
            objectives: false,
            requests: true,
            grpc: false,
            otel: false,
            handlers: vec!["jobs::resize", "jobs::notify"],
            routes: vec![],
        },
        Shown {
            job: GRPC_JOB,
            instance: &stack.grpc.addr,
            websocket: false,
            http: false,
            objectives: true,
            requests: false,
            grpc: true,
            otel: false,
            handlers: vec![],
            routes: vec![],
        },
        Shown {
            job: otel::JOB,
            instance: &stack.otel.addr,
            websocket: false,
            http: true,
            objectives: true,
            requests: true,
            grpc: false,
            otel: true,
            handlers: vec!["get_order", "slow"],
            routes: vec!["/orders/{id}", "/slow/{ms}"],
        },
    ];
    for job in &shown {
        dashboard_queries_have_data(stack, job);
    }
}

// With `$job` = `job`: every dashboard query evaluates and has data after the traffic,
// with the labels its legend names; every variable query finds values. The panels of what
// a job does not do (WebSockets for axum-app; routes, unmatched requests and objectives for
// the worker; every HTTP panel but the objectives' for grpc-app, the gRPC ones for the
// others) are the only ones
// left empty, and must be.
fn dashboard_queries_have_data(stack: &Stack, shown: &Shown<'_>) {
    let prom = &stack.prometheus;
    let job = shown.job;
    let substitute = |expr: &str| with_job_selected(expr, job);
    for (file, dashboard) in dashboards() {
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().cloned().unwrap_or_default() {
                let expr = substitute(target["expr"].as_str().unwrap());
                let title = panel["title"].as_str().unwrap();
                let title = &format!("{title} (job {job})");
                if shown.empty(&expr) {
                    let result = prom.query(&expr).unwrap();
                    assert!(result.is_empty(), "{file} / {title}: {result:?}");
                    continue;
                }
                let result = prom
                    .query(&expr)
                    .unwrap_or_else(|err| panic!("{file} / {title}: {err}\n{expr}"));
                assert!(!result.is_empty(), "{file} / {title}: no data\n{expr}");
                // A label the legend names survives the query's aggregation: some series
                // has it. (Not every one: Prometheus drops a label whose value is "",
                // as `handler` is for requests no tracked handler answered.)
                // (Nor does a call outside a route have `method` and `route`.)
                let legend = target["legendFormat"].as_str().unwrap_or_default();
                for label in legend_labels(legend) {
                    if !shown.http && matches!(label.as_str(), "method" | "route") {
                        continue;
                    }
                    if shown.otel
                        && expr.contains("http_requests_in_flight")
                        && matches!(label.as_str(), "handler" | "route")
                    {
                        continue;
                    }
                    assert!(
                        result
                            .iter()
                            .any(|series| series["metric"][&label].is_string()),
                        "{file} / {title}: legend {{{{{label}}}}} in no series of {result:?}"
                    );
                }
            }
        }
        for variable in dashboard["templating"]["list"].as_array().unwrap() {
            if variable["type"] != "query" {
                continue;
            }
            let query = variable["query"]["query"].as_str().unwrap();
            let inner = query
                .strip_prefix("label_values(")
                .and_then(|q| q.strip_suffix(')'))
                .unwrap_or_else(|| panic!("a label_values() query: {query}"));
            let (selector, label) = inner.rsplit_once(',').expect("selector, label");
            let selector = substitute(selector.trim());
            let label = label.trim();
            let series = prom
                .api("/api/v1/series", &[("match[]", &selector)])
                .unwrap_or_else(|err| panic!("{file}: ${}: {err}", variable["name"]));
            let values: BTreeSet<&str> = series
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s[label].as_str())
                .collect();
            let expected = match label {
                // The shipped jobs, otel-app through its active-requests gauge, and the
                // batch job through what it pushed to the gateway.
                "job" => ALL_JOBS
                    .iter()
                    .copied()
                    .chain([otel::JOB, crate::batch::JOB])
                    .collect(),
                "handler" => shown.handlers.clone(),
                "route" => shown.routes.clone(),
                "instance" => vec![shown.instance],
                other => panic!("a variable on {other}"),
            };
            for value in expected {
                assert!(values.contains(value), "${label}: {value} in {values:?}");
            }
        }
    }
}

/// The `{{label}}` names of a legend format.
fn legend_labels(legend: &str) -> Vec<String> {
    legend
        .split("{{")
        .skip(1)
        .filter_map(|part| part.split_once("}}"))
        .map(|(name, _)| name.trim().to_owned())
        .collect()
}
