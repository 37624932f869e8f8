//! End to end: the built `axum-app` binary on a free loopback port, called over a real
//! socket as a user would, then scraped, as `e2e.rs` does for `actix-app` (the same
//! requests, answers and series: `metrics_tests::routes`). The app is wrapped in
//! `RequestMetricsLayer`: every request is counted, under the route axum matched
//! (`MatchedPath`) and the handler that answered.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use metrics_tests::app::{Example, RunningApp};
use metrics_tests::http::{get, send};
use metrics_tests::routes;
use metrics_tests::wait;
use nix::sys::signal::Signal;

const AXUM: Example = Example::Axum;

fn start() -> RunningApp {
    RunningApp::start_example(AXUM, &[])
}

#[test]
fn every_route_is_counted_with_its_pattern_and_status() {
    let app = start();
    routes::call_every_route(&app);
    routes::assert_counted(&routes::scrape_checked(&app));
    let status = app.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean shutdown");
}

#[test]
fn a_bad_bind_addr_is_one_line_and_exit_code_2() {
    routes::assert_bad_bind_addr_exits_2(AXUM);
}

#[test]
fn sigint_exits_0() {
    routes::assert_signal_exits_0(AXUM, Signal::SIGINT);
}

#[test]
fn sigterm_while_idle_exits_0() {
    routes::assert_signal_exits_0(AXUM, Signal::SIGTERM);
}

// The graceful shutdown lets a request being served finish, then exits 0.
#[test]
fn sigterm_lets_a_running_request_finish() {
    let app = start();
    let url = app.url("/slow?ms=1000");
    let client = std::thread::spawn(move || get(&url, &[]));
    wait::poll("/slow in flight", Duration::from_secs(10), || {
        let in_flight = app.scrape().in_flight("slow", "GET", "/slow");
        if in_flight == 1.0 {
            Ok(())
        } else {
            Err(format!("in flight: {in_flight}"))
        }
    });
    assert_eq!(app.terminate().code(), Some(0));
    let resp = client.join().expect("the client thread");
    assert_eq!((resp.status, resp.body.as_str()), (200, "slept 1000 ms\n"));
}

#[test]
fn metrics_can_be_turned_off() {
    routes::assert_disabled(AXUM);
}

#[test]
fn metrics_can_be_protected() {
    routes::assert_protected(AXUM);
}

#[test]
fn an_unknown_setting_warns_once_and_keeps_metrics_on() {
    routes::assert_unknown_setting_warns_once(AXUM);
}

// axum answers a known path with another method 405 (actix-app: 404), counted under the
// route it matched, with no handler.
#[test]
fn a_wrong_method_is_a_405_under_its_route() {
    let app = start();
    assert_eq!(send("DELETE", &app.url("/health")).status, 405);
    assert_eq!(send("POST", &app.url("/")).status, 405);
    let scrape = app.scrape();
    assert_eq!(scrape.requests("", "DELETE", "/health", "405"), 1.0);
    assert_eq!(scrape.requests("", "POST", "/", "405"), 1.0);
    assert_eq!(
        scrape.series("http_requests_total").len(),
        2,
        "{}",
        scrape.text
    );
}

// A flood of random paths, with standard and made-up methods, adds one series per method
// and status under `route=""`, and none with a path of its own.
#[test]
fn a_flood_of_unknown_paths_is_counted_under_the_empty_route_only() {
    let app = start();
    let random = RandomState::new();
    // (sent, counted as, times)
    let methods = [
        ("GET", "GET", 100),
        ("POST", "POST", 50),
        ("DELETE", "DELETE", 25),
        ("BREW", "_OTHER", 25),
    ];
    let mut expected = Vec::new();
    for (sent, counted, times) in methods {
        for i in 0..times {
            let path = format!("/flood/{:x}/{i}", random.hash_one((sent, i)));
            assert_eq!(send(sent, &app.url(&path)).status, 404, "{sent} {path}");
        }
        expected.push((counted, f64::from(times)));
    }
    let scrape = app.scrape();
    for (method, count) in &expected {
        assert_eq!(scrape.requests("", method, "", "404"), *count, "{method}");
        assert_eq!(scrape.observed("", method, ""), *count, "{method}");
    }
    let series = scrape.series("http_requests_total");
    assert_eq!(series.len(), expected.len(), "{series:?}");
    assert_eq!(
        scrape.series("http_request_duration_seconds_count").len(),
        expected.len()
    );
    assert!(
        !scrape.text.contains("/flood"),
        "no raw path is a label:\n{}",
        scrape.text
    );
    for (series, value) in scrape.series("http_requests_in_flight") {
        assert_eq!(value, 0.0, "{series}");
    }
}
