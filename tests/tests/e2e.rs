//! End to end: the built `actix-app` binary on a free loopback port, called over a
//! real socket as a user would, then scraped. The app is wrapped in `RequestMetrics`:
//! every request is counted, under the route actix matched and the handler that answered.

use std::time::Duration;

use metrics_runtime::ENV_ENABLED;
use metrics_runtime::actix::ENV_TOKEN;
use metrics_tests::app::{self, BIND_ADDR, RunningApp};
use metrics_tests::http::{get, post};
use metrics_tests::process::Process;
use metrics_tests::scrape::Scrape;
use metrics_tests::tool::run_ok_with_input;
use metrics_tests::workspace_root;

const JSON: &str = "application/json";

#[test]
fn every_route_is_counted_with_its_pattern_and_status() {
    let app = RunningApp::start(&[]);

    assert_eq!(get(&app.url("/"), &[]).status, 200);
    for id in ["1", "42", "100"] {
        let resp = get(&app.url(&format!("/users/{id}")), &[]);
        assert_eq!(resp.status, 200);
        let user: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert_eq!(user["id"].to_string(), id);
        assert!(user["name"].is_string());
    }
    for id in ["0", "101", "abc"] {
        let resp = get(&app.url(&format!("/users/{id}")), &[]);
        assert_eq!(resp.status, 404, "/users/{id}");
        let err: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert!(err["error"].is_string());
    }
    let created = post(&app.url("/users"), JSON, r#"{"name":"ada"}"#);
    assert_eq!(created.status, 201);
    let user: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(user["name"], "ada");
    assert!(user["id"].as_u64().unwrap() > 100);
    assert_eq!(
        post(&app.url("/users"), JSON, r#"{"name": "#).status,
        400,
        "malformed"
    );
    assert_eq!(
        post(&app.url("/users"), JSON, r#"{"nom":"x"}"#).status,
        400,
        "missing field"
    );
    assert_eq!(
        post(&app.url("/users"), "text/plain", "ada").status,
        400,
        "wrong type"
    );
    assert_eq!(get(&app.url("/slow?ms=30"), &[]).status, 200);
    assert_eq!(get(&app.url("/slow?ms=5001"), &[]).status, 400);
    assert_eq!(get(&app.url("/slow?ms=x"), &[]).status, 400);
    for _ in 0..2 {
        assert_eq!(get(&app.url("/error"), &[]).status, 500);
    }
    assert_eq!(
        get(&app.url("/test-metrics"), &[]).body.trim(),
        "demo_test_metrics_total 1"
    );
    assert_eq!(
        get(&app.url("/test-metrics"), &[]).body.trim(),
        "demo_test_metrics_total 2"
    );
    assert_eq!(get(&app.url("/health"), &[]).body, "ok");
    assert_eq!(get(&app.url("/no-such-route"), &[]).status, 404);

    let resp = get(&app.url("/metrics"), &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let scrape = Scrape::parse(&resp.body);

    let expected = [
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
    for (handler, method, route, status, count) in expected {
        assert_eq!(
            scrape.requests(handler, method, route, status),
            count,
            "{handler} {status}:\n{}",
            resp.body
        );
    }
    let all: f64 = scrape
        .series("http_requests_total")
        .iter()
        .map(|s| s.1)
        .sum();
    assert_eq!(
        all,
        expected.iter().map(|e| e.4).sum::<f64>(),
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
    assert!(scrape.get("process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(scrape.get("process_open_fds", &[]).unwrap() > 0.0);

    // The scrape passes `promtool check metrics` (lint included).
    run_ok_with_input(
        "promtool",
        &["check", "metrics"],
        workspace_root(),
        &resp.body,
    );
    let status = app.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean shutdown");
}

#[test]
fn a_bad_bind_addr_is_one_line_and_exit_code_2() {
    for bad in ["nope", "127.0.0.1", "127.0.0.1:99999", "256.0.0.1:80"] {
        let child = Process::spawn("actix-app", app::command().env(BIND_ADDR, bad));
        let status = child.wait(Duration::from_secs(15));
        assert_eq!(status.code(), Some(2), "{BIND_ADDR}={bad}");
        let stderr = child.stderr();
        assert_eq!(stderr.len(), 1, "one line: {stderr:?}");
        assert!(
            stderr[0].contains(BIND_ADDR) && stderr[0].contains(bad),
            "{stderr:?}"
        );
    }
}

#[test]
fn sigint_exits_0() {
    let app = RunningApp::start(&[]);
    assert_eq!(get(&app.url("/health"), &[]).status, 200);
    assert_eq!(app.signal(nix::sys::signal::Signal::SIGINT).code(), Some(0));
}

#[test]
fn sigterm_while_idle_exits_0() {
    let app = RunningApp::start(&[]);
    assert_eq!(get(&app.url("/health"), &[]).status, 200);
    assert_eq!(app.terminate().code(), Some(0));
}

#[test]
fn metrics_can_be_turned_off_and_protected() {
    let off = RunningApp::start(&[(ENV_ENABLED, "off")]);
    assert_eq!(get(&off.url("/users/1"), &[]).status, 200);
    assert_eq!(get(&off.url("/metrics"), &[]).status, 404);

    let protected = RunningApp::start(&[(ENV_TOKEN, "t0ken")]);
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

    let garbage = RunningApp::start(&[(ENV_ENABLED, "maybe")]);
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
