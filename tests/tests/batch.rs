//! `examples/batch` as a user runs it: built, run to its end against the real Pushgateway
//! (Debian's `prometheus-pushgateway` on loopback), its counts read back exactly from the
//! gateway; a gateway that is down, or a bad setting, is one line on stderr and exit code 2.

use metrics_tests::app::run_batch as run;
use metrics_tests::servers::{Pushgateway, free_port};

#[test]
fn the_job_s_counts_reach_the_gateway_and_it_exits_0() {
    let gateway = Pushgateway::start();
    let out = run(&[
        ("PUSHGATEWAY_URL", gateway.url()),
        ("BATCH_JOB", "nightly-import"),
        ("BATCH_ROWS", "50"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let scrape = gateway.scrape();
    let count = |handler: &str, status: &str| {
        scrape
            .get(
                "http_requests_total",
                &[
                    ("handler", handler),
                    ("instance", ""),
                    ("job", "nightly-import"),
                    ("method", ""),
                    ("route", ""),
                    ("status", status),
                ],
            )
            .unwrap_or(0.0)
    };
    // Rows 0..50: every seventh (6, 13, …, 48) malformed.
    assert_eq!(count("import::read", "200"), 50.0, "{}", scrape.text);
    assert_eq!(count("import::parse", "200"), 43.0);
    assert_eq!(count("import::parse", "500"), 7.0);
    assert_eq!(count("import::store", "200"), 43.0);
    assert!(
        scrape
            .get(
                "push_time_seconds",
                &[("instance", ""), ("job", "nightly-import")]
            )
            .is_some()
    );
    assert!(
        !scrape
            .keys()
            .any(|key| key.starts_with("process_") && key.contains("nightly-import")),
        "no process_* of the job"
    );
}

#[test]
fn a_gateway_that_is_down_or_a_bad_setting_is_one_line_and_exit_2() {
    let down = format!("http://127.0.0.1:{}", free_port());
    for (envs, says) in [
        (
            vec![("PUSHGATEWAY_URL", down.as_str())],
            format!("batch: cannot push metrics to {down}/metrics/job/batch: "),
        ),
        (
            vec![("PUSHGATEWAY_URL", down.as_str()), ("BATCH_ROWS", "many")],
            "batch: BATCH_ROWS=\"many\" is not a number".to_owned(),
        ),
        (
            vec![("PUSHGATEWAY_URL", "https://gateway:9091")],
            "batch: cannot push metrics: the gateway URL `https://gateway:9091` is not".to_owned(),
        ),
    ] {
        let out = run(&envs);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{envs:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(lines[0].starts_with(&says), "{envs:?}: {stderr}");
    }
}
