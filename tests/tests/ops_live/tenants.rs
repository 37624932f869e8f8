//! Labels from the request (CONTRACT §15) in the real Prometheus: an axum app served in this
//! process (job [`JOB`]), configured with `Config::label(RequestLabel::header("tenant",
//! "x-tenant").allow(["acme", "globex"]))`, scraped by the stack's Prometheus through a scrape
//! job that only the test's copy of docker/prometheus.yml has (the shipped configs and the
//! example apps, whose exposition and environment the contract fixes, are unchanged).
//!
//! The app's requests carry a tenant: the exact counts per tenant (and status) in
//! Prometheus, the duration and in-flight families per tenant too, and the guide's two
//! queries [`P99_BY_TENANT`] and [`ERROR_RATIO_BY_TENANT`] with each tenant's own numbers;
//! the dashboard's queries that read the families as scraped sum the tenants away.
//!
//! Exact by construction: every tenant's requests take a time within one bucket of the
//! duration histogram (its p99 is that bucket's, whatever the rates), and the second round
//! sends three times the first, which Prometheus has scraped whole before it starts (the
//! app answers before Prometheus runs), so each tenant's 5xx and other series grow in the
//! same proportion over the same samples and `rate()` extrapolates them alike.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::Value as Json;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::{Config, RequestLabel, track_metrics};

use metrics_tests::docker::{dashboards, panels, with_job_selected};
use metrics_tests::http::get as http_get;
use metrics_tests::server::serve_on_own_runtime;
use metrics_tests::servers::{Prometheus, QueryApi};
use metrics_tests::wait::settle;

use crate::stack::Stack;

/// The scrape job of the in-process app, in the test's Prometheus config only.
pub const JOB: &str = "tenant-app";

/// p99 latency per tenant, over every job (the guide's query).
pub const P99_BY_TENANT: &str = "histogram_quantile(0.99, sum by (le, tenant) (rate(http_request_duration_seconds_bucket[5m])))";

/// Share of the requests answered 5xx, per tenant, over every job (the guide's query).
pub const ERROR_RATIO_BY_TENANT: &str = r#"sum by (tenant) (rate(http_requests_total{status=~"5.."}[5m])) / sum by (tenant) (rate(http_requests_total[5m]))"#;

/// The tenants the app keeps; any other value is `_other`.
const TENANTS: [&str; 2] = ["acme", "globex"];

/// One round of the app's traffic: `(x-tenant header, milliseconds in the handler,
/// status, requests)`; the second round sends each three times as many. Each tenant's
/// durations fall in one bucket of the default ones: acme (0.1, 0.25], globex (0.25, 0.5],
/// `_other` (`initech`, and `Globex`: the allow-list is case-sensitive) (0.5, 1]; those
/// without the header are fast.
const ROUND: [(Option<&str>, u64, u16, u32); 7] = [
    (Some("acme"), 120, 200, 3),
    (Some("acme"), 120, 500, 1),
    (Some("globex"), 300, 200, 1),
    (Some("globex"), 300, 503, 1),
    (Some("initech"), 700, 500, 1),
    (Some("Globex"), 700, 500, 1),
    (None, 0, 200, 2),
];

/// The second round: this many times the first.
const SECOND_ROUND: u32 = 3;

/// Each tenant as stored (no label for those without the header), its p99 (the
/// 99th percentile within its one bucket) and its share of 5xx.
const EXPECTED: [(&str, f64, f64); 3] = [
    ("acme", 0.1 + 0.15 * 0.99, 0.25),
    ("globex", 0.25 + 0.25 * 0.99, 0.5),
    ("_other", 0.5 + 0.5 * 0.99, 1.0),
];

/// The in-process app and its traffic.
pub struct TenantApp {
    /// Where it listens (`/metrics` too).
    pub addr: SocketAddr,
    /// When its first round was answered, before Prometheus started.
    started: Instant,
}

/// What Prometheus showed of the app once it had every request of both rounds.
pub struct TenantsSeen {
    /// The evaluation time (Unix seconds) at which it did: the queries of the tests are
    /// evaluated there, so that their windows hold both rounds whenever the tests run.
    pub at: String,
}

#[track_metrics]
async fn tenant_work(path: Path<(u64, u16)>) -> StatusCode {
    let Path((millis, status)) = path;
    tokio::time::sleep(Duration::from_millis(millis)).await;
    StatusCode::from_u16(status).expect("a status")
}

impl TenantApp {
    /// Configures the labels (nothing in this process has used track-metrics before: the
    /// other programs of the stack are processes of their own), serves the app on a free
    /// loopback port (`/metrics` outside the layer, so that scrapes count nothing) and
    /// sends the first round.
    pub fn start() -> TenantApp {
        track_metrics::configure(
            Config::new().label(RequestLabel::header("tenant", "x-tenant").allow(TENANTS)),
        )
        .expect("the labels configured before any use of track-metrics in this process");
        let addr = serve_on_own_runtime(|listener| async move {
            let app = Router::new()
                .route("/t/{millis}/{status}", get(tenant_work))
                .layer(RequestMetricsLayer::new())
                .route("/metrics", get(track_metrics::axum::metrics));
            axum::serve(listener, app).await.expect("serve");
        });
        let app = TenantApp {
            addr,
            started: Instant::now(),
        };
        app.round(1);
        app
    }

    /// The second round: three times the first.
    pub fn second_round(&self) {
        self.round(SECOND_ROUND);
    }

    // Sends `times` rounds' worth of requests, all at once.
    fn round(&self, times: u32) {
        std::thread::scope(|s| {
            for (tenant, millis, status, count) in ROUND {
                for _ in 0..count * times {
                    s.spawn(move || {
                        let url = format!("http://{}/t/{millis}/{status}", self.addr);
                        let headers: Vec<(&str, &str)> =
                            tenant.map(|t| ("x-tenant", t)).into_iter().collect();
                        assert_eq!(http_get(&url, &headers).status, status, "{url}");
                    });
                }
            }
        });
    }

    /// Waits (bounded) for Prometheus to show the first round's requests per tenant: a
    /// series' first sample has no increase, so the second round must start after it (a
    /// tenant whose second round ended before the app's first scrape has no rate at all).
    pub fn settle_first(&self, prometheus: &Prometheus) -> Result<(), String> {
        wait_for(prometheus, &sent_rounds(1)).map(drop)
    }

    /// Waits (bounded) for Prometheus to show both rounds' requests per tenant; the tests
    /// assert.
    pub fn settle(&self, prometheus: &Prometheus) -> Result<TenantsSeen, String> {
        let seen = wait_for(prometheus, &sent())?;
        // The 5-minute windows at that time hold the first scrape.
        let elapsed = self.started.elapsed();
        if elapsed > Duration::from_secs(240) {
            return Err(format!("both rounds took {elapsed:?}"));
        }
        Ok(TenantsSeen { at: seen })
    }
}

// Waits (bounded) until Prometheus shows `want` as the app's counts: the time then.
fn wait_for(prometheus: &Prometheus, want: &Counts) -> Result<String, String> {
    settle(Duration::from_secs(20), || match counts(prometheus, None) {
        Ok(seen) if seen == *want => Ok(now()),
        Ok(seen) => Err(format!("{seen:?}, want {want:?}")),
        Err(err) => Err(err),
    })
}

// Now, as the query API's `time`.
fn now() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    format!("{}.{:03}", now.as_secs(), now.subsec_millis())
}

/// Requests per (tenant, status), as Prometheus stores them (`""`: no tenant label).
type Counts = BTreeMap<(String, String), f64>;

/// What both rounds must count per (tenant, status).
fn sent() -> Counts {
    sent_rounds(1 + SECOND_ROUND)
}

/// What `rounds` first rounds' worth of requests count per (tenant, status).
fn sent_rounds(rounds: u32) -> Counts {
    let mut counts = Counts::new();
    for (tenant, _, status, count) in ROUND {
        let tenant = match tenant {
            Some(t) if TENANTS.contains(&t) => t,
            Some(_) => "_other",
            None => "",
        };
        *counts
            .entry((tenant.to_owned(), status.to_string()))
            .or_default() += f64::from(count * rounds);
    }
    counts
}

// The app's `http_requests_total` per tenant and status, at `time` (or now).
fn counts(prometheus: &Prometheus, time: Option<&str>) -> Result<Counts, String> {
    let query = format!(r#"sum by (tenant, status) (http_requests_total{{job="{JOB}"}})"#);
    let mut counts = Counts::new();
    for series in query_at(prometheus, &query, time)? {
        let label = |name: &str| series["metric"][name].as_str().unwrap_or("").to_owned();
        counts.insert((label("tenant"), label("status")), value(&series));
    }
    Ok(counts)
}

// An instant query at `time` (or now): its result vector.
fn query_at(prometheus: &Prometheus, expr: &str, time: Option<&str>) -> Result<Vec<Json>, String> {
    let mut params = vec![("query", expr)];
    if let Some(time) = time {
        params.push(("time", time));
    }
    let data = prometheus.api("/api/v1/query", &params)?;
    Ok(data["result"].as_array().cloned().unwrap_or_default())
}

fn value(series: &Json) -> f64 {
    series["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a value: {series}"))
}

// Each series' `tenant` (`""` without one) and value.
fn by_tenant(result: &[Json]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for series in result {
        let tenant = series["metric"]["tenant"].as_str().unwrap_or("").to_owned();
        assert!(
            out.insert(tenant.clone(), value(series)).is_none(),
            "tenant {tenant:?} twice: {result:?}"
        );
    }
    out
}

fn seen(stack: &Stack) -> &TenantsSeen {
    stack
        .tenants_seen
        .as_ref()
        .unwrap_or_else(|err| panic!("Prometheus did not show the tenants' requests: {err}"))
}

pub fn prometheus_has_the_exact_counts_per_tenant(stack: &Stack) {
    let prom = &stack.prometheus;
    let at = Some(seen(stack).at.as_str());
    let counts = counts(prom, at).unwrap();
    assert_eq!(counts, sent());
    assert_eq!(
        counts
            .keys()
            .map(|(t, _)| t.as_str())
            .collect::<BTreeSet<_>>(),
        BTreeSet::from(["", "_other", "acme", "globex"]),
        "kept, `_other` and none"
    );
    // The duration histogram and the in-flight gauge carry the tenant too.
    let timed = format!(r#"sum by (tenant) (http_request_duration_seconds_count{{job="{JOB}"}})"#);
    let timed = by_tenant(&query_at(prom, &timed, at).unwrap());
    let total = |tenant: &str| -> f64 {
        sent()
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .map(|(_, count)| count)
            .sum()
    };
    let want: BTreeMap<String, f64> = ["", "_other", "acme", "globex"]
        .iter()
        .map(|t| ((*t).to_owned(), total(t)))
        .collect();
    assert_eq!(timed, want, "http_request_duration_seconds_count by tenant");
    let in_flight = format!(r#"sum by (tenant) (http_requests_in_flight{{job="{JOB}"}})"#);
    let in_flight = by_tenant(&query_at(prom, &in_flight, at).unwrap());
    assert_eq!(
        in_flight,
        want.keys()
            .map(|t| (t.clone(), 0.0))
            .collect::<BTreeMap<_, _>>(),
        "http_requests_in_flight by tenant, every request answered"
    );
}

pub fn the_guides_queries_by_tenant_give_each_tenants_numbers(stack: &Stack) {
    let prom = &stack.prometheus;
    let at = Some(seen(stack).at.as_str());
    for (name, expr, column) in [
        ("p99 by tenant", P99_BY_TENANT, 1),
        ("error ratio by tenant", ERROR_RATIO_BY_TENANT, 2),
    ] {
        let result = by_tenant(
            &query_at(prom, expr, at).unwrap_or_else(|err| panic!("{name}: {err}\n{expr}")),
        );
        // Each tenant of the app; and the requests of every job without a tenant (the
        // example apps', and this app's without the header), together.
        let tenants: BTreeSet<&str> = result.keys().map(String::as_str).collect();
        assert_eq!(
            tenants,
            BTreeSet::from(["", "_other", "acme", "globex"]),
            "{name}: {result:?}"
        );
        for (tenant, p99, ratio) in EXPECTED {
            let want = if column == 1 { p99 } else { ratio };
            let got = result[tenant];
            assert!(
                (got - want).abs() < 1e-9,
                "{name} of {tenant}: {got}, want {want} ({result:?})"
            );
        }
    }
}

pub fn the_dashboard_sums_the_tenants_away(stack: &Stack) {
    // The dashboard's queries that read the request families as scraped (not through the
    // recording rules, whose jobs are the shipped ones), with `$job` = the app's: data,
    // and no series per tenant.
    let prom = &stack.prometheus;
    let at = Some(seen(stack).at.as_str());
    let mut checked = 0;
    for (file, dashboard) in dashboards() {
        for panel in panels(&dashboard) {
            for target in panel["targets"].as_array().cloned().unwrap_or_default() {
                let expr = target["expr"].as_str().unwrap();
                if !expr.contains("http_request") || expr.contains(':') {
                    continue;
                }
                let title = panel["title"].as_str().unwrap();
                let expr = with_job_selected(expr, JOB);
                let result = query_at(prom, &expr, at)
                    .unwrap_or_else(|err| panic!("{file} / {title}: {err}\n{expr}"));
                assert!(!result.is_empty(), "{file} / {title}: no data\n{expr}");
                for series in &result {
                    assert!(
                        series["metric"]["tenant"].is_null(),
                        "{file} / {title}: per tenant: {series}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 2,
        "{checked} dashboard queries on the request families"
    );
}
