//! End to end: the built `actix-app` binary on a free loopback port, called over a
//! real socket as a user would, then scraped. The app is wrapped in `RequestMetrics`:
//! every request is counted, under the route actix matched and the handler that answered;
//! the user it creates is counted through the `metrics` facade too (`metrics-rs`).
//! The requests and what they must produce are `metrics_tests::routes`, shared with
//! `axum_app.rs`.

use metrics_tests::app::{Example, RunningApp};
use metrics_tests::routes;
use nix::sys::signal::Signal;

#[test]
fn every_route_is_counted_with_its_pattern_and_status() {
    let app = RunningApp::start(&[]);
    routes::call_every_route(&app);
    let scrape = routes::scrape_checked(&app);
    routes::assert_counted(&scrape);
    // The one user created, counted through the `metrics` facade on the same /metrics.
    assert_eq!(scrape.get("demo_users_created_total", &[]), Some(1.0));
    let described = scrape.described("demo_users_created_total").unwrap();
    assert_eq!(described.help, "Users created by POST /users.");
    let status = app.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean shutdown");
}

#[test]
fn a_bad_bind_addr_is_one_line_and_exit_code_2() {
    routes::assert_bad_bind_addr_exits_2(Example::Actix);
}

#[test]
fn sigint_exits_0() {
    routes::assert_signal_exits_0(Example::Actix, Signal::SIGINT);
}

#[test]
fn sigterm_while_idle_exits_0() {
    routes::assert_signal_exits_0(Example::Actix, Signal::SIGTERM);
}

#[test]
fn metrics_can_be_turned_off_and_protected() {
    routes::assert_disabled(Example::Actix);
    routes::assert_protected(Example::Actix);
    routes::assert_unknown_setting_warns_once(Example::Actix);
}
