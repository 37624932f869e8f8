//! `examples/worker` run as a process: a program with no web framework whose tracked
//! jobs the standalone exporter exposes on `METRICS_ADDR`; exact counts read back from a
//! scrape, a clean exit on SIGINT and SIGTERM, a bad address is one line and exit code 2.

use std::time::Duration;

use metrics_tests::app::{Example, RunningApp};
use metrics_tests::http::get;
use metrics_tests::routes;
use metrics_tests::wait;
use nix::sys::signal::Signal;

const WORKER: Example = Example::Worker;

#[test]
fn every_job_is_counted_then_sigterm_exits_0() {
    // 50 jobs, one every millisecond: jobs 10, 20, .., 50 fail to resize and are not
    // notified.
    let worker = RunningApp::start_example(
        WORKER,
        &[("WORKER_JOBS", "50"), ("WORKER_INTERVAL_MS", "1")],
    );
    wait::poll("the 50 jobs", Duration::from_secs(30), || {
        let scrape = worker.scrape();
        let counted = (
            scrape.requests("jobs::resize", "", "", "200"),
            scrape.requests("jobs::resize", "", "", "500"),
            scrape.requests("jobs::notify", "", "", "200"),
        );
        if counted == (45.0, 5.0, 45.0) {
            Ok(())
        } else {
            Err(format!("counted {counted:?}"))
        }
    });
    let scrape = worker.scrape();
    assert_eq!(scrape.observed("jobs::resize", "", ""), 50.0);
    assert_eq!(scrape.in_flight("jobs::resize", "", ""), 0.0);
    assert_eq!(
        scrape.get(
            "build_info",
            &[
                ("service", "worker"),
                ("version", env!("CARGO_PKG_VERSION")),
                ("revision", option_env!("GIT_REVISION").unwrap_or("")),
            ]
        ),
        Some(1.0),
        "build_info!() in main"
    );
    assert_eq!(get(&worker.url("/"), &[]).body, "metrics are at /metrics\n");
    assert_eq!(get(&worker.url("/jobs"), &[]).status, 404);
    assert_eq!(
        worker.terminate().code(),
        Some(0),
        "SIGTERM is a clean exit"
    );
}

#[test]
fn sigint_while_working_exits_0() {
    let worker = RunningApp::start_example(WORKER, &[("WORKER_INTERVAL_MS", "5")]);
    wait::poll("a job", Duration::from_secs(30), || {
        let done = worker.scrape().observed("jobs::resize", "", "");
        if done > 0.0 {
            Ok(())
        } else {
            Err("no job yet".to_owned())
        }
    });
    assert_eq!(worker.signal(Signal::SIGINT).code(), Some(0));
}

#[test]
fn a_bad_metrics_addr_is_one_line_and_exit_code_2() {
    routes::assert_bad_bind_addr_exits_2(WORKER);
}
