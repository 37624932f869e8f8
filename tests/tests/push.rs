//! Pushes to the real Pushgateway (Debian's `prometheus-pushgateway`, on loopback): what
//! a batch job's tracked functions counted reads back exactly from the gateway's own
//! `/metrics` (what Prometheus scrapes), with the job and grouping labels as the gateway
//! decoded them; `PUT` replaces the group and `POST` only the families pushed; a gateway
//! that is down, silent or refusing is an error naming it, within the timeout.

use std::io::Read;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use metrics_tests::http;
use metrics_tests::rerun::in_child;
use metrics_tests::servers::{Pushgateway, free_port};
use metrics_tests::wait::wait_for;
use track_metrics::push::{self, Error, Pusher};
use track_metrics::track_metrics;

#[track_metrics(name = "push_step")]
fn step(ok: bool) -> Result<u32, String> {
    if ok { Ok(1) } else { Err("bad row".into()) }
}

// The labels of the group `job` (no grouping labels) on a metric of `push_step`.
fn of_step<'a>(job: &'a str, status: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut labels = vec![
        ("handler", "push_step"),
        ("instance", ""),
        ("job", job),
        ("method", ""),
        ("route", ""),
    ];
    labels.extend(status.map(|status| ("status", status)));
    labels
}

#[test]
fn a_job_s_tracked_calls_read_back_exactly_from_the_gateway() {
    let gateway = Pushgateway::start();
    for row in 0..5 {
        let _ = step(row != 3);
    }
    push::push(gateway.url(), "push-exact").expect("pushed");
    let scrape = gateway.scrape();
    let job = "push-exact";
    assert_eq!(
        scrape.get("http_requests_total", &of_step(job, Some("200"))),
        Some(4.0),
        "{}",
        scrape.text
    );
    assert_eq!(
        scrape.get("http_requests_total", &of_step(job, Some("500"))),
        Some(1.0)
    );
    assert_eq!(
        scrape.get("http_request_duration_seconds_count", &of_step(job, None)),
        Some(5.0)
    );
    let pushed = scrape
        .get("push_time_seconds", &[("instance", ""), ("job", job)])
        .expect("the gateway's push time of the group");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - pushed).abs() < 60.0, "pushed at {pushed}, now {now}");
    // Our process' own `process_*` are not pushed (the gateway's own have no `job`).
    let ours: Vec<&str> = scrape
        .keys()
        .filter(|key| key.starts_with("process_") && key.contains("job=\"push-exact\""))
        .collect();
    assert!(ours.is_empty(), "pushed: {ours:?}");
    assert!(
        scrape.keys().any(|key| key.starts_with("process_")),
        "the gateway's own process metrics are there: the check above can fail"
    );

    // Again, from inside an async runtime: the push has a thread and runtime of its own.
    let _ = step(true);
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async { push::push(gateway.url(), job) })
        .expect("pushed from async code");
    assert_eq!(
        gateway
            .scrape()
            .get("http_requests_total", &of_step(job, Some("200"))),
        Some(5.0)
    );
}

#[test]
fn grouping_labels_with_slashes_and_empty_values_and_put_against_post() {
    let gateway = Pushgateway::start();
    let _ = step(true);
    let pusher = Pusher::new(gateway.url(), "nightly/import")
        .grouping("shard", "")
        .grouping("path", "/var/tmp");
    pusher.push().expect("pushed");
    let group = |gateway: &Pushgateway| {
        let groups = gateway.groups();
        let [group] = &groups[..] else {
            panic!("one group: {groups:?}");
        };
        let mut labels = group.labels.clone();
        labels.sort();
        (labels, group.families.clone())
    };
    let (labels, families) = group(&gateway);
    let want = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    assert_eq!(
        labels,
        want(&[
            ("job", "nightly/import"),
            ("path", "/var/tmp"),
            ("shard", "")
        ])
    );
    assert!(
        families.contains(&"http_requests_total".to_owned()),
        "{families:?}"
    );
    let scrape = gateway.scrape();
    assert!(
        scrape
            .keys()
            .any(|key| key.starts_with("http_requests_total{")
                && key.contains(r#"job="nightly/import""#)
                && key.contains(r#"path="/var/tmp""#)
                && key.contains(r#"handler="push_step""#)),
        "{}",
        scrape.text
    );

    // Another family in the same group, as another process of the job would push it.
    let url = format!(
        "{}/metrics/job@base64/bmlnaHRseS9pbXBvcnQ=/shard@base64/=/path@base64/L3Zhci90bXA=",
        gateway.url()
    );
    let answer = http::post(
        &url,
        "text/plain; version=0.0.4",
        "# TYPE rows_imported_total counter\nrows_imported_total 7\n",
    );
    assert!(answer.status < 300, "{}: {}", answer.status, answer.body);
    let has_rows =
        |gateway: &Pushgateway| group(gateway).1.contains(&"rows_imported_total".to_owned());
    assert!(has_rows(&gateway), "the same group: {:?}", gateway.groups());
    // POST replaces only the families pushed: the other stays.
    pusher.add().expect("added");
    assert!(has_rows(&gateway), "after add: {:?}", gateway.groups());
    // PUT replaces the group: the other is gone.
    pusher.push().expect("pushed");
    assert!(!has_rows(&gateway), "after push: {:?}", gateway.groups());
}

#[test]
fn a_gateway_that_is_down_silent_or_refusing_is_an_error_naming_it() {
    // Down: nothing listens.
    let down = format!("http://127.0.0.1:{}", free_port());
    let err = push::push(&down, "down").unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{down}/metrics/job/down")),
        "{err}"
    );

    // Silent: accepts and never answers; the push gives up at its timeout.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent = format!("http://{}", listener.local_addr().unwrap());
    let hold = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut sink = Vec::new();
        let _ = socket.read_to_end(&mut sink);
    });
    let start = Instant::now();
    let err = Pusher::new(&silent, "silent")
        .timeout(Duration::from_millis(300))
        .push()
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(took < Duration::from_secs(5), "gave up after {took:?}");
    assert!(err.to_string().contains("no answer within 300ms"), "{err}");
    drop(hold);

    // Refusing: the real gateway refuses a push inconsistent with what it holds (a family
    // of ours already pushed by another group as another type).
    let gateway = Pushgateway::start();
    let answer = http::post(
        &format!("{}/metrics/job/other", gateway.url()),
        "text/plain; version=0.0.4",
        "# TYPE http_requests_total gauge\nhttp_requests_total 1\n",
    );
    assert!(answer.status < 300, "{}: {}", answer.status, answer.body);
    let _ = step(true);
    let err = push::push(gateway.url(), "refused").unwrap_err();
    let Error::Refused { status, .. } = &err else {
        panic!("refused: {err}");
    };
    assert_eq!(*status, 400, "{err}");
    assert!(err.to_string().contains("/metrics/job/refused"), "{err}");
}

#[test]
fn with_metrics_disabled_a_push_sends_nothing_and_is_ok() {
    const TEST: &str = "with_metrics_disabled_a_push_sends_nothing_and_is_ok";
    if !in_child(TEST, &[&[(track_metrics::ENV_ENABLED, "false")]]) {
        return;
    }
    let gateway = Pushgateway::start();
    let _ = step(true);
    push::push(gateway.url(), "disabled").expect("Ok, nothing sent");
    assert!(gateway.groups().is_empty(), "{:?}", gateway.groups());
    // What cannot make a push is still an error.
    assert!(matches!(
        push::push(gateway.url(), ""),
        Err(Error::Invalid(_))
    ));
}

#[track_metrics(name = "push_batch")]
fn batch() {}

// `push_batch`'s count in the group of `job`, if the gateway has it.
fn batches(gateway: &Pushgateway, job: &str) -> Option<f64> {
    gateway.scrape().get(
        "http_requests_total",
        &[
            ("handler", "push_batch"),
            ("instance", ""),
            ("job", job),
            ("method", ""),
            ("route", ""),
            ("status", "200"),
        ],
    )
}

#[test]
fn periodic_pushes_show_a_long_job_s_progress_and_its_last_counts_at_the_end() {
    let gateway = Pushgateway::start();
    let pushing = Pusher::new(gateway.url(), "push-periodic")
        .every(Duration::from_millis(100))
        .spawn();
    for _ in 0..3 {
        batch();
    }
    // Pushed while the job runs, without a call of its own.
    wait_for(
        "a periodic push of 3 batches",
        Duration::from_secs(10),
        || (batches(&gateway, "push-periodic") == Some(3.0)).then_some(()),
    );
    for _ in 0..4 {
        batch();
    }
    // The last push, at once, with the last counts.
    pushing.finish().expect("the last push");
    assert_eq!(batches(&gateway, "push-periodic"), Some(7.0));

    // Dropped instead of finished: the same last push.
    {
        let _pushing = Pusher::new(gateway.url(), "push-dropped")
            .every(Duration::from_secs(3600))
            .spawn();
        batch();
    }
    assert_eq!(batches(&gateway, "push-dropped"), Some(8.0));

    // The last push's error, from `finish`.
    let down = format!("http://127.0.0.1:{}", free_port());
    let err = Pusher::new(&down, "push-down")
        .every(Duration::from_secs(3600))
        .spawn()
        .finish()
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
}

#[test]
fn a_constant_label_the_gateway_owns_is_an_error_before_anything_is_sent() {
    const TEST: &str = "a_constant_label_the_gateway_owns_is_an_error_before_anything_is_sent";
    if !in_child(TEST, &[&[]]) {
        return;
    }
    track_metrics::configure(track_metrics::Config::new().const_label("instance", "host-1"))
        .expect("configured before first use");
    let gateway = Pushgateway::start();
    let _ = step(true);
    let err = push::push(gateway.url(), "const").unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(
        err.to_string()
            .contains("the constant label `instance` would clash with the gateway's own"),
        "{err}"
    );
    assert!(gateway.groups().is_empty(), "{:?}", gateway.groups());
}
