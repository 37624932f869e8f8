//! The section 7 routes, which both example services serve with the same answers
//! (`actix-app` and `axum-app`, `/ws` aside): the requests an end-to-end test sends, the
//! answers it must get, the series a scrape must then hold, and the settings and signals
//! both binaries obey.

use std::time::Duration;

use nix::sys::signal::Signal;
use track_metrics::ENV_ENABLED;
use track_metrics::actix::ENV_TOKEN;

use crate::app::{Example, RunningApp};
use crate::http::{get, post};
use crate::process::Process;
use crate::scrape::Scrape;
use crate::tool::promtool_check_metrics;

const JSON: &str = "application/json";

/// What [`call_every_route`] is counted as: `(handler, method, route, status, count)`.
pub const COUNTED: [(&str, &str, &str, &str, f64); 12] = [
    ("index", "GET", "/", "200", 1.0),
    ("get_user", "GET", "/users/{id}", "200", 3.0),
    ("get_user", "GET", "/users/{id}", "404", 3.0),
    ("create_user", "POST", "/users", "201", 1.0),
    ("create_user", "POST", "/users", "400", 3.0),
    ("slow", "GET", "/slow", "200", 1.0),
    ("slow", "GET", "/slow", "400", 1.0),
    // `?ms=x`: rejected by the query extractor, before the handler.
    ("", "GET", "/slow", "400", 1.0),
    ("error", "GET", "/error", "500", 2.0),
    ("test_metrics", "GET", "/test-metrics", "200", 2.0),
    ("health", "GET", "/health", "200", 1.0),
    // No route matched: counted, with no route and no handler.
    ("", "GET", "", "404", 1.0),
];

/// Calls every route but `/metrics` (and `/ws`) of a freshly started app, checking each
/// answer: status, body, JSON shape.
pub fn call_every_route(app: &RunningApp) {
    assert_eq!(get(&app.url("/"), &[]).status, 200);
    for id in ["1", "42", "100"] {
        let resp = get(&app.url(&format!("/users/{id}")), &[]);
        assert_eq!(resp.status, 200);
        let user: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert_eq!(user["id"].to_string(), id);
        assert_eq!(user["name"], format!("user-{id}"));
    }
    for id in ["0", "101", "abc"] {
        let resp = get(&app.url(&format!("/users/{id}")), &[]);
        assert_eq!(resp.status, 404, "/users/{id}");
        let err: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert!(err["error"].is_string(), "{}", resp.body);
    }
    let created = post(&app.url("/users"), JSON, r#"{"name":"ada"}"#);
    assert_eq!(created.status, 201);
    let user: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(user["name"], "ada");
    assert_eq!(user["id"], 101, "the first created user");
    for (content_type, body, what) in [
        (JSON, r#"{"name": "#, "malformed"),
        (JSON, r#"{"nom":"x"}"#, "missing field"),
        ("text/plain", "ada", "wrong type"),
    ] {
        let resp = post(&app.url("/users"), content_type, body);
        assert_eq!(resp.status, 400, "{what}");
        assert!(resp.json()["error"].is_string(), "{what}: {}", resp.body);
    }
    let slow = get(&app.url("/slow?ms=30"), &[]);
    assert_eq!((slow.status, slow.body.as_str()), (200, "slept 30 ms\n"));
    assert_eq!(get(&app.url("/slow?ms=5001"), &[]).status, 400);
    assert_eq!(get(&app.url("/slow?ms=x"), &[]).status, 400);
    for _ in 0..2 {
        let resp = get(&app.url("/error"), &[]);
        assert_eq!(resp.status, 500);
        assert!(resp.json()["error"].is_string(), "{}", resp.body);
    }
    assert_eq!(
        get(&app.url("/test-metrics"), &[]).body.trim(),
        "demo_test_metrics_total 1"
    );
    assert_eq!(
        get(&app.url("/test-metrics"), &[]).body.trim(),
        "demo_test_metrics_total 2"
    );
    let health = get(&app.url("/health"), &[]);
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    assert_eq!(get(&app.url("/no-such-route"), &[]).status, 404);
}

/// Scrapes `/metrics`: `200`, the exposition content type, and a text in which
/// `promtool check metrics` (lint included) finds nothing.
pub fn scrape_checked(app: &RunningApp) -> Scrape {
    let resp = get(&app.url("/metrics"), &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    promtool_check_metrics(&resp.body);
    Scrape::parse(&resp.body)
}

/// Checks a scrape taken right after [`call_every_route`]: exactly [`COUNTED`] and nothing
/// else (the scrapes are left out), durations, nothing in flight, the hand-registered
/// counter, the process metrics.
pub fn assert_counted(scrape: &Scrape) {
    for (handler, method, route, status, count) in COUNTED {
        assert_eq!(
            scrape.requests(handler, method, route, status),
            count,
            "{handler} {status}:\n{}",
            scrape.text
        );
    }
    let all: f64 = scrape
        .series("http_requests_total")
        .iter()
        .map(|s| s.1)
        .sum();
    assert_eq!(
        all,
        COUNTED.iter().map(|e| e.4).sum::<f64>(),
        "nothing else counted (the scrapes of /metrics are left out)"
    );
    for (series, _) in scrape.series("http_requests_total") {
        assert!(
            !series.contains("/users/1\""),
            "raw paths never become labels: {series}"
        );
    }
    let slow = [("handler", "slow"), ("method", "GET"), ("route", "/slow")];
    assert_eq!(
        scrape.value("http_request_duration_seconds_count", &slow),
        2.0
    );
    assert!(
        scrape.value("http_request_duration_seconds_sum", &slow) >= 0.030,
        "the 30 ms sleep is measured"
    );
    let slow_le_0_01 = [
        ("handler", "slow"),
        ("method", "GET"),
        ("route", "/slow"),
        ("le", "0.01"),
    ];
    assert_eq!(
        scrape.value("http_request_duration_seconds_bucket", &slow_le_0_01),
        1.0,
        "the rejected call is fast, the 30 ms one is not"
    );
    for (series, value) in scrape.series("http_requests_in_flight") {
        assert_eq!(value, 0.0, "{series}");
    }
    assert_eq!(scrape.get("demo_test_metrics_total", &[]), Some(2.0));
    assert_objectives(scrape);
    assert!(scrape.get("process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(scrape.get("process_open_fds", &[]).unwrap() > 0.0);
}

/// The example's objectives, joined by the handlers called, and its build info.
fn assert_objectives(scrape: &Scrape) {
    let members: Vec<(String, f64)> = scrape.series("http_objective_info");
    let expected: Vec<(String, f64)> = [
        ("create_user", "users"),
        ("error", "demo"),
        ("get_user", "users"),
        ("slow", "demo"),
    ]
    .iter()
    .map(|(handler, objective)| {
        (
            format!("http_objective_info{{handler=\"{handler}\",objective=\"{objective}\"}}"),
            1.0,
        )
    })
    .collect();
    assert_eq!(members, expected);
    for objective in ["users", "demo"] {
        let target = if objective == "users" { 0.999 } else { 0.99 };
        assert_eq!(
            scrape.get("http_objective_success_target", &[("objective", objective)]),
            Some(target)
        );
        assert_eq!(
            scrape.get(
                "http_objective_latency_target",
                &[("objective", objective), ("threshold", "0.25")]
            ),
            Some(0.99)
        );
    }
    let build = scrape.series("build_info");
    assert_eq!(build.len(), 1, "{build:?}");
    assert!(
        build[0].0.contains("service=\"actix-app\"") || build[0].0.contains("service=\"axum-app\""),
        "{build:?}"
    );
    assert!(build[0].0.contains("version=\"0.1.0\""), "{build:?}");
}

/// A bad address (`BIND_ADDR`; the worker's `METRICS_ADDR`) is one line on stderr naming
/// the variable and the value, and exit code 2.
pub fn assert_bad_bind_addr_exits_2(example: Example) {
    assert_bad_addr_exits_2(example, example.addr_variable());
}

/// A bad address in `variable` (one of `example`'s) is one line on stderr naming the
/// variable and the value, and exit code 2.
pub fn assert_bad_addr_exits_2(example: Example, variable: &str) {
    for bad in ["nope", "127.0.0.1", "127.0.0.1:99999", "256.0.0.1:80"] {
        let child = Process::spawn(example.package(), example.command().env(variable, bad));
        let status = child.wait(Duration::from_secs(15));
        assert_eq!(status.code(), Some(2), "{variable}={bad}");
        let stderr = child.stderr();
        assert_eq!(stderr.len(), 1, "one line: {stderr:?}");
        assert!(
            stderr[0].contains(variable) && stderr[0].contains(bad),
            "{stderr:?}"
        );
    }
}

/// After a request, `signal` is a clean shutdown: exit code 0.
pub fn assert_signal_exits_0(example: Example, signal: Signal) {
    let app = RunningApp::start_example(example, &[]);
    assert_eq!(get(&app.url("/health"), &[]).status, 200);
    assert_eq!(app.signal(signal).code(), Some(0), "{signal:?}");
}

/// `PROMETHEUS_ENABLED=off`: the routes answer, `/metrics` is a 404.
pub fn assert_disabled(example: Example) {
    let off = RunningApp::start_example(example, &[(ENV_ENABLED, "off")]);
    assert_eq!(get(&off.url("/users/1"), &[]).status, 200);
    assert_eq!(get(&off.url("/metrics"), &[]).status, 404);
}

/// `METRICS_TOKEN`: `/metrics` is a 401 without the bearer token or with another one, a
/// scrape with it.
pub fn assert_protected(example: Example) {
    let protected = RunningApp::start_example(example, &[(ENV_TOKEN, "t0ken")]);
    assert_eq!(get(&protected.url("/metrics"), &[]).status, 401);
    assert_eq!(
        get(
            &protected.url("/metrics"),
            &[("authorization", "Bearer nope")]
        )
        .status,
        401
    );
    let ok = get(
        &protected.url("/metrics"),
        &[("authorization", "Bearer t0ken")],
    );
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("process_open_fds"));
}

/// `PROMETHEUS_ENABLED=maybe`: one warning naming the value, metrics stay enabled.
pub fn assert_unknown_setting_warns_once(example: Example) {
    let garbage = RunningApp::start_example(example, &[(ENV_ENABLED, "maybe")]);
    assert_eq!(get(&garbage.url("/health"), &[]).status, 200);
    assert_eq!(
        get(&garbage.url("/metrics"), &[]).status,
        200,
        "stays enabled"
    );
    let warnings: Vec<String> = garbage
        .stderr()
        .into_iter()
        .filter(|l| l.contains("PROMETHEUS_ENABLED"))
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("WARN") && warnings[0].contains("maybe"),
        "{warnings:?}"
    );
}
