//! The OpenTelemetry naming (CONTRACT §16) in the real Prometheus: `otel-app`
//! (`tests/src/bin/otel-app.rs`), a process configured with `Naming::OpenTelemetry` (the
//! naming is per process, and this one serves tenant-app in the Prometheus naming), scraped
//! by the stack's Prometheus as job [`JOB`] with the shipped rule files: the recording rules
//! give its routes exact rates and quantiles under our labels (`handler`, `method`, `route`,
//! `status`), and docker/objectives.yml pages for its failing objective only.
//!
//! The job is in the test's copy of docker/prometheus.yml only, and the recording rules
//! select the shipped jobs (`job=~"actix-app|axum-app|worker|grpc-app"`): the test's copy of
//! docker/recording.yml adds `otel-app` to that selector ([`select_in_recording_rules`]), as a
//! user whose programs run under other job names edits it (docs/operating.md); nothing else
//! of the rules changes. docker/alerts.yml keeps its selector (its alerts stay those of the
//! shipped jobs, which `alerts.rs` checks); docker/objectives.yml selects no job.
//!
//! Exact by construction, as `tenants.rs`: the app answers its first round before
//! Prometheus runs, the second round (three times the first, the same mix) starts once
//! Prometheus has scraped the first, so every series of the app grows in the same
//! proportion over the same samples and `rate()` extrapolates them alike: the ratios
//! between the series one rule records are those of the requests sent. The slow route's
//! requests all take between 0.5 and 0.75 s, one bucket of the conventions' (0.75 is not a
//! bound of the Prometheus naming's): its quantiles are that bucket's, whatever the rates.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::signal::Signal;
use serde_json::Value as Json;

use metrics_tests::http::get;
use metrics_tests::process::Process;
use metrics_tests::servers::{Alertmanager, Prometheus, QueryApi};
use metrics_tests::wait::{poll, settle};
use metrics_tests::workspace_root;

use crate::stack::Stack;

/// The scrape job of otel-app, in the test's Prometheus config only.
pub const JOB: &str = "otel-app";

/// The job selector of docker/recording.yml.
const SHIPPED_JOBS: &str = "actix-app|axum-app|worker|grpc-app";

/// One round of the app's traffic: `(path, status, requests)`; the second round sends each
/// three times as many. `/orders/0` fails on demand; `/slow/550` takes 550 ms, within
/// (0.5, 0.75], a bucket of the OpenTelemetry naming's, and within its objective's 1 s;
/// `/nope` matches no route.
const ROUND: [(&str, u16, u32); 4] = [
    ("/orders/1", 200, 3),
    ("/orders/0", 500, 1),
    ("/slow/550", 200, 2),
    ("/nope", 404, 1),
];

/// The second round: this many times the first.
const SECOND_ROUND: u32 = 3;

/// A route as the recording rules label it: `(handler, method, route)`, `""` for a label
/// Prometheus does not store (an empty value).
type Route = (String, String, String);

/// The routes of [`ROUND`] and the requests a round sends to each, in the recorded labels.
fn routes_per_round() -> BTreeMap<Route, u32> {
    let route = |handler: &str, path: &str| (handler.to_owned(), "GET".to_owned(), path.to_owned());
    [
        (route("get_order", "/orders/{id}"), 4),
        (route("slow", "/slow/{ms}"), 2),
        (route("", ""), 1),
    ]
    .into()
}

/// The app, a process of its own; killed when dropped.
pub struct OtelApp {
    process: Process,
    /// `127.0.0.1:PORT`, where `/metrics` is served.
    pub addr: String,
}

/// What Prometheus showed of the app once it had both rounds.
pub struct OtelSeen {
    /// The time (Unix seconds) of an evaluation of the group `http.recording` after both
    /// rounds were scraped: every series that evaluation recorded, read at that time.
    pub recorded_at: String,
}

impl OtelApp {
    /// Builds the bin (once; `cargo build`, like the examples), starts it on a free loopback
    /// port and sends the first round.
    pub fn start() -> OtelApp {
        let binary = escargot::CargoBuild::new()
            .manifest_path(workspace_root().join("Cargo.toml"))
            .package("metrics-tests")
            .bin("otel-app")
            .run()
            .unwrap_or_else(|err| panic!("cargo build --bin otel-app failed: {err}"));
        let mut command = std::process::Command::new(binary.path());
        command.env("BIND_ADDR", "127.0.0.1:0");
        let process = Process::spawn("otel-app", &mut command);
        let addr = process.wait_for_line(Duration::from_secs(20), |line| {
            Some(line.split("listening on http://").nth(1)?.trim().to_owned())
        });
        let app = OtelApp { process, addr };
        app.round(1);
        app
    }

    /// The second round: three times the first.
    pub fn second_round(&self) {
        self.round(SECOND_ROUND);
    }

    /// The process, for its last lines.
    pub fn process(&self) -> &Process {
        &self.process
    }

    // Sends `times` rounds' worth of requests, all at once.
    fn round(&self, times: u32) {
        std::thread::scope(|s| {
            for (path, status, count) in ROUND {
                for _ in 0..count * times {
                    s.spawn(move || {
                        let url = format!("http://{}{path}", self.addr);
                        assert_eq!(get(&url, &[]).status, status, "{url}");
                    });
                }
            }
        });
    }

    /// Waits (bounded) for Prometheus to show the first round: the second must start after
    /// it (a series' first sample has no increase).
    pub fn settle_first(&self, prometheus: &Prometheus) -> Result<(), String> {
        wait_for_counts(prometheus, &sent(1)).map(drop)
    }

    /// Waits (bounded) for Prometheus to show both rounds, then for an evaluation of the
    /// recording rules after that; the tests assert.
    pub fn settle(&self, prometheus: &Prometheus) -> Result<OtelSeen, String> {
        let seen = wait_for_counts(prometheus, &sent(1 + SECOND_ROUND))?;
        // The group's last rule: once it is written at a time, every rule is.
        let last = format!(
            r#"timestamp(job_handler_method_route:http_requests_in_flight:sum{{job="{JOB}"}})"#
        );
        settle(Duration::from_secs(20), || {
            let at = prometheus
                .value(&last)?
                .ok_or_else(|| "no recorded series of otel-app".to_owned())?;
            if at.parse::<f64>().unwrap() > seen {
                Ok(OtelSeen { recorded_at: at })
            } else {
                Err(format!(
                    "the last evaluation at {at}, both rounds seen at {seen}"
                ))
            }
        })
    }
}

/// Adds [`JOB`] to the job selector of the test's copy of docker/recording.yml (written by
/// the stack's Prometheus into `dir`) and has Prometheus reload it (SIGHUP), as a user
/// scraping a program under another job name edits the selector: every rule of the file
/// has it, nothing else changes. Waits (bounded) until Prometheus runs the edited rules.
pub fn select_in_recording_rules(dir: &Path, prometheus: &Prometheus) {
    let path = dir.join("recording.yml");
    let text = fs::read_to_string(&path).unwrap();
    let rules = metrics_tests::docker::recording_rules();
    assert_eq!(
        text.matches(SHIPPED_JOBS).count(),
        rules
            .iter()
            .map(|(_, e)| e.matches(SHIPPED_JOBS).count())
            .sum::<usize>(),
        "the copy selects the shipped jobs as docker/recording.yml does"
    );
    let edited = format!("{SHIPPED_JOBS}|{JOB}");
    fs::write(&path, text.replace(SHIPPED_JOBS, &edited)).unwrap();
    prometheus.process.signal(Signal::SIGHUP);
    poll(
        "Prometheus to run the edited recording rules",
        Duration::from_secs(20),
        || {
            prometheus.process.assert_running();
            let data = prometheus.api("/api/v1/rules", &[("type", "record")])?;
            let queries: Vec<&str> = data["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .filter_map(|r| r["query"].as_str())
                .collect();
            let edited_ones = queries.iter().filter(|q| q.contains(&edited)).count();
            let selecting = rules
                .iter()
                .filter(|(_, e)| e.contains(SHIPPED_JOBS))
                .count();
            (edited_ones == selecting)
                .then_some(())
                .ok_or(format!("{edited_ones} of {selecting} edited: {queries:?}"))
        },
    );
}

/// Requests per (handler, route, status), as Prometheus stores them (`""`: no label).
type Counts = BTreeMap<(String, String, String), f64>;

/// What `rounds` first rounds' worth of requests count.
fn sent(rounds: u32) -> Counts {
    let mut counts = Counts::new();
    for (path, status, count) in ROUND {
        let (handler, route) = match path {
            "/nope" => ("", ""),
            p if p.starts_with("/orders/") => ("get_order", "/orders/{id}"),
            _ => ("slow", "/slow/{ms}"),
        };
        *counts
            .entry((handler.to_owned(), route.to_owned(), status.to_string()))
            .or_default() += f64::from(count * rounds);
    }
    counts
}

// Waits (bounded) until Prometheus shows `want` as the app's counts (the OpenTelemetry
// histogram's `_count`): the time then, in Unix seconds.
fn wait_for_counts(prometheus: &Prometheus, want: &Counts) -> Result<f64, String> {
    let query = format!(
        r#"sum by (code_function_name, http_route, http_response_status_code) (http_server_request_duration_seconds_count{{job="{JOB}"}})"#
    );
    settle(Duration::from_secs(20), || {
        let mut counts = Counts::new();
        for series in prometheus.query(&query)? {
            let label = |name: &str| series["metric"][name].as_str().unwrap_or("").to_owned();
            counts.insert(
                (
                    label("code_function_name"),
                    label("http_route"),
                    label("http_response_status_code"),
                ),
                value(&series),
            );
        }
        if counts == *want {
            Ok(SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64())
        } else {
            Err(format!("{counts:?}, want {want:?}"))
        }
    })
}

// An instant query at `time`: its result vector.
fn query_at(prometheus: &Prometheus, expr: &str, time: &str) -> Vec<Json> {
    let data = prometheus
        .api("/api/v1/query", &[("query", expr), ("time", time)])
        .unwrap_or_else(|err| panic!("{expr}: {err}"));
    data["result"].as_array().cloned().unwrap_or_default()
}

fn value(series: &Json) -> f64 {
    series["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a value: {series}"))
}

// The series of a recorded aggregate of otel-app by `(handler, method, route)` and, if
// given, one more label.
fn by_route(result: &[Json], extra: Option<&str>) -> BTreeMap<(Route, String), f64> {
    let mut out = BTreeMap::new();
    for series in result {
        let m = &series["metric"];
        let label = |name: &str| m[name].as_str().unwrap_or("").to_owned();
        let key = (
            (label("handler"), label("method"), label("route")),
            extra.map(label).unwrap_or_default(),
        );
        assert!(out.insert(key, value(series)).is_none(), "{result:?}");
    }
    out
}

fn seen(stack: &Stack) -> &OtelSeen {
    stack
        .otel_seen
        .as_ref()
        .unwrap_or_else(|err| panic!("Prometheus did not show otel-app's requests: {err}"))
}

// `got` is `want`, to the last bits that float division may round.
fn assert_exact(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() < 1e-9, "{what}: {got}, want {want}");
}

pub fn recording_rules_give_its_routes_exact_rates_and_quantiles(stack: &Stack) {
    let prom = &stack.prometheus;
    let at = seen(stack).recorded_at.as_str();
    let recorded = |name: &str, extra: Option<&str>| {
        by_route(
            &query_at(prom, &format!(r#"{name}{{job="{JOB}"}}"#), at),
            extra,
        )
    };
    let per_round = routes_per_round();
    let slow: Route = ("slow".into(), "GET".into(), "/slow/{ms}".into());
    let orders: Route = ("get_order".into(), "GET".into(), "/orders/{id}".into());

    // Requests per second per route: every route of the app (the unmatched requests without
    // handler and route), in the proportions sent.
    let rates = recorded("job_handler_method_route:http_requests:rate5m", None);
    assert_eq!(
        rates
            .keys()
            .map(|(r, _)| r.clone())
            .collect::<BTreeSet<_>>(),
        per_round.keys().cloned().collect::<BTreeSet<_>>(),
        "{rates:?}"
    );
    let slow_rate = rates[&(slow.clone(), String::new())];
    assert!(slow_rate > 0.0, "{rates:?}");
    for ((route, _), rate) in &rates {
        assert_exact(
            rate / slow_rate,
            f64::from(per_round[route]) / f64::from(per_round[&slow]),
            &format!("{route:?} against /slow/{{ms}}"),
        );
    }

    // Per route and status: the status code as `status`; three 200 for each 500.
    let statuses = recorded(
        "job_handler_method_route_status:http_requests:rate5m",
        Some("status"),
    );
    let keys: BTreeSet<(String, String)> = statuses
        .keys()
        .map(|((handler, _, _), status)| (handler.clone(), status.clone()))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("get_order", "200"),
        ("get_order", "500"),
        ("slow", "200"),
        ("", "404"),
    ]
    .map(|(h, s)| (h.to_owned(), s.to_owned()))
    .into();
    assert_eq!(keys, want, "{statuses:?}");
    let ok = statuses[&(orders.clone(), "200".into())];
    let failed = statuses[&(orders.clone(), "500".into())];
    assert_exact(ok / failed, 3.0, "get_order's 200 against its 500");

    // The 5xx ratio of the same evaluation: the 500s over the route's requests; none on
    // the others (0, not absent).
    let ratios = recorded(
        "job_handler_method_route:http_requests_5xx:ratio_rate5m",
        None,
    );
    assert_eq!(ratios.len(), per_round.len(), "{ratios:?}");
    assert_eq!(
        ratios[&(orders.clone(), String::new())],
        failed / rates[&(orders.clone(), String::new())],
        "get_order's 5xx ratio"
    );
    for route in [&slow, &(String::new(), "GET".into(), String::new())] {
        assert_eq!(ratios[&(route.clone(), String::new())], 0.0, "{route:?}");
    }

    // Latency: /slow/{ms} in the bucket (0.5, 0.75] of the conventions' bounds, so its p50
    // and p99 are that bucket's (the Prometheus naming's bucket would be (0.5, 1]).
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let quantiles = recorded(
            &format!("job_handler_method_route:http_request_duration_seconds:{name}_rate5m"),
            None,
        );
        assert_eq!(quantiles.len(), per_round.len(), "{quantiles:?}");
        assert_exact(
            quantiles[&(slow.clone(), String::new())],
            0.5 + 0.25 * q,
            &format!("{name} of /slow/{{ms}}"),
        );
    }
    let buckets = recorded(
        "job_handler_method_route_le:http_request_duration_seconds_bucket:rate5m",
        Some("le"),
    );
    let slow_buckets: BTreeMap<&str, f64> = buckets
        .iter()
        .filter(|((route, _), _)| *route == slow)
        .map(|((_, le), rate)| (le.as_str(), *rate))
        .collect();
    assert_eq!(slow_buckets["0.5"], 0.0, "{slow_buckets:?}");
    assert_eq!(
        slow_buckets["0.75"], slow_buckets["+Inf"],
        "{slow_buckets:?}"
    );

    // In flight: per method only (the gauge has no route), every request answered.
    let in_flight = query_at(
        prom,
        &format!(r#"job_handler_method_route:http_requests_in_flight:sum{{job="{JOB}"}}"#),
        at,
    );
    let labels: Vec<&Json> = in_flight.iter().map(|s| &s["metric"]).collect();
    assert_eq!(
        labels,
        [&serde_json::json!({
            "__name__": "job_handler_method_route:http_requests_in_flight:sum",
            "job": JOB,
            "method": "GET",
        })],
        "{in_flight:?}"
    );
    assert_eq!(value(&in_flight[0]), 0.0);

    // Per instance: the app's one instance.
    let instances = query_at(
        prom,
        &format!(r#"job_instance:http_requests:rate5m{{job="{JOB}"}}"#),
        at,
    );
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(instances[0]["metric"]["instance"], stack.otel.addr.as_str());
    assert!(value(&instances[0]) > 0.0, "{instances:?}");
}

pub fn the_objectives_page_for_its_failing_objective_only(stack: &Stack) {
    let prom = &stack.prometheus;
    seen(stack);
    // Both objectives joined through code_function_name: checkout's requests, a quarter
    // of them 500 (a burn rate of 25 against its 99 %), browse's, none 5xx.
    let objectives = prom
        .query(&format!(
            r#"job_objective:http_requests_5xx:rate5m{{job="{JOB}"}}"#
        ))
        .unwrap();
    let five_xx: BTreeMap<String, f64> = objectives
        .iter()
        .map(|s| {
            let objective = s["metric"]["objective"].as_str().unwrap().to_owned();
            (objective, value(s))
        })
        .collect();
    assert_eq!(
        five_xx.keys().map(String::as_str).collect::<Vec<_>>(),
        ["browse", "checkout"],
        "{objectives:?}"
    );
    assert_eq!(five_xx["browse"], 0.0, "{objectives:?}");
    assert!(five_xx["checkout"] > 0.0, "{objectives:?}");

    // The page, `for` 0s in the stack: checkout's success, and nothing else of the app's,
    // pending or firing.
    let page = |a: &Json| {
        let labels = &a["labels"];
        labels["alertname"] == "ObjectiveSuccessBudgetBurn"
            && labels["job"] == JOB
            && labels["objective"] == "checkout"
            && labels["slo"] == "success"
            && labels["severity"] == "page"
    };
    let ours = poll("otel-app's checkout page", Duration::from_secs(60), || {
        prom.process.assert_running();
        let data = prom.api("/api/v1/alerts", &[])?;
        let ours: Vec<Json> = data["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["labels"]["job"] == JOB)
            .cloned()
            .collect();
        ours.iter()
            .any(|a| a["state"] == "firing" && page(a))
            .then(|| ours.clone())
            .ok_or(format!("{ours:?}"))
    });
    for alert in &ours {
        let labels = &alert["labels"];
        assert_eq!(labels["alertname"], "ObjectiveSuccessBudgetBurn", "{alert}");
        assert_eq!(labels["objective"], "checkout", "{alert}");
        assert!(labels.get("instance").is_none(), "{alert}");
    }
    // It reaches the pager.
    page_in_alertmanager(&stack.alertmanager, page);
}

// Waits (bounded) for the page in Alertmanager, routed to the pager.
fn page_in_alertmanager(alertmanager: &Alertmanager, page: impl Fn(&Json) -> bool) {
    poll(
        "otel-app's page in Alertmanager",
        Duration::from_secs(30),
        || {
            alertmanager.process.assert_running();
            let alerts = alertmanager.alerts().ok_or("no answer".to_owned())?;
            alerts
                .as_array()
                .into_iter()
                .flatten()
                .find(|a| page(a))
                .filter(|a| a["receivers"][0]["name"] == "pager")
                .map(|_| ())
                .ok_or(alerts.to_string())
        },
    );
}
