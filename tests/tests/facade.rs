//! The `metrics` facade on our registry (feature `metrics-rs`, CONTRACT §17): counters,
//! gauges and histograms recorded through `metrics::counter!`, `gauge!` and
//! `histogram!` read back exactly from a real axum service's `/metrics` in the text
//! format (promtool-clean), in OpenMetrics (a third-party parser, and the real Prometheus
//! scraping it, whose metadata keeps the HELP described after first use and the unit) and
//! in protobuf (the real Prometheus with native histograms on, which negotiates it); names
//! sanitised, `_total` added; collisions dropped with one warning each; a second install
//! refused; configured buckets; nothing recorded when metrics are disabled; a push to the
//! real Pushgateway carries them.

use std::sync::{Once, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use metrics::Unit;
use metrics_tests::http::get as http_get;
use metrics_tests::rerun::{capture_logs, in_child, logs};
use metrics_tests::scrape::Scrape;
use metrics_tests::server::serve_on_own_runtime;
use metrics_tests::servers::{Prometheus, QueryApi};
use metrics_tests::tool::promtool_check_metrics;
use metrics_tests::wait::poll;
use track_metrics::metrics_rs::{Error, install};

/// What Prometheus 2.42 sends with `--enable-feature=native-histograms`: protobuf first.
const PROTOBUF_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// What Prometheus 2 sends without native histograms: OpenMetrics first.
const OPENMETRICS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// The recorder, installed once per process (by whichever test comes first).
fn installed() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| install().expect("the first install"));
}

// An axum service whose `/metrics` serves the registry.
fn service() -> &'static str {
    static ADDR: OnceLock<String> = OnceLock::new();
    ADDR.get_or_init(|| {
        let addr = serve_on_own_runtime(|listener| async move {
            let app = Router::new().route("/metrics", get(track_metrics::axum::metrics));
            axum::serve(listener, app).await.unwrap();
        });
        addr.to_string()
    })
}

const WAITS: [f64; 5] = [0.003, 0.02, 0.02, 7.0, 20.0];

// What the first test records; the values every format must show.
fn record() {
    metrics::describe_histogram!("facade.wait_seconds", Unit::Seconds, "Time waited.");
    metrics::counter!("facade.jobs", "queue" => "mail").increment(1);
    metrics::counter!("facade.jobs", "queue" => "mail").increment(2);
    metrics::counter!("facade.jobs", "queue" => "bulk").absolute(5);
    metrics::counter!("facade.jobs", "queue" => "bulk").absolute(4); // never down
    // Described after its first use: the next scrape has the HELP.
    metrics::describe_counter!("facade.jobs", "Jobs done.");
    let depth = metrics::gauge!("facade.queue-depth", "client.id" => "a\"b");
    depth.set(12.0);
    depth.increment(0.5);
    depth.decrement(2.0);
    let wait = metrics::histogram!("facade.wait_seconds");
    for value in WAITS {
        wait.record(value);
    }
    metrics::histogram!("facade.batch", "step" => "load").record_many(0.2, 4);
    metrics::describe_counter!("facade.sent_bytes", Unit::Bytes, "Bytes sent.");
    metrics::counter!("facade.sent_bytes").increment(2048);
    metrics::describe_gauge!("facade.heap", Unit::Bytes, "Not suffixed: no unit written.");
    metrics::gauge!("facade.heap").set(1.5e6);
}

// The text format: exact values, sanitised names, the HELP, valid for promtool.
#[test]
fn the_facade_reads_back_exactly_in_the_text_format() {
    installed();
    record_once();
    let answer = http_get(&format!("http://{}/metrics", service()), &[]);
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.content_type.as_deref(),
        Some(track_metrics::CONTENT_TYPE)
    );
    let text = answer.body;
    promtool_check_metrics(&text);
    let scrape = Scrape::parse(&text);
    assert_eq!(
        scrape.get("facade_jobs_total", &[("queue", "mail")]),
        Some(3.0)
    );
    assert_eq!(
        scrape.get("facade_jobs_total", &[("queue", "bulk")]),
        Some(5.0)
    );
    let described = scrape.described("facade_jobs_total").unwrap();
    assert_eq!(
        (described.kind.as_str(), described.help.as_str()),
        ("counter", "Jobs done.")
    );
    assert_eq!(
        scrape.get("facade_queue_depth", &[("client_id", "a\"b")]),
        Some(10.5)
    );
    assert_eq!(
        scrape.described("facade_queue_depth").unwrap().kind,
        "gauge"
    );
    assert!(
        text.contains("# HELP facade_wait_seconds Time waited.\n"),
        "{text}"
    );
    let bucket = |le: &str| scrape.get("facade_wait_seconds_bucket", &[("le", le)]);
    assert_eq!(bucket("0.005"), Some(1.0));
    assert_eq!(bucket("0.025"), Some(3.0));
    assert_eq!(bucket("5"), Some(3.0));
    assert_eq!(bucket("10"), Some(4.0));
    assert_eq!(bucket("+Inf"), Some(5.0));
    assert_eq!(scrape.get("facade_wait_seconds_count", &[]), Some(5.0));
    assert_eq!(
        scrape.get("facade_wait_seconds_sum", &[]),
        Some(WAITS.iter().sum::<f64>())
    );
    assert_eq!(
        scrape.get("facade_batch_bucket", &[("le", "0.25"), ("step", "load")]),
        Some(4.0)
    );
    assert_eq!(
        scrape.get("facade_batch_sum", &[("step", "load")]),
        Some(0.8)
    );
    // Our own families are beside them, in the same exposition.
    assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
}

// OpenMetrics: the third-party parser reads the same values, the counter family without
// `_total`, the unit of the family whose name ends with it.
#[test]
fn the_facade_reads_back_exactly_in_openmetrics() {
    installed();
    record_once();
    let answer = http_get(
        &format!("http://{}/metrics", service()),
        &[("accept", OPENMETRICS_ACCEPT)],
    );
    assert_eq!(
        answer.content_type.as_deref(),
        Some(track_metrics::OPENMETRICS_CONTENT_TYPE)
    );
    let om = answer.body;
    assert!(
        om.contains("# HELP facade_jobs Jobs done.\n# TYPE facade_jobs counter\n"),
        "{om}"
    );
    assert!(
        om.contains("# TYPE facade_wait_seconds histogram\n# UNIT facade_wait_seconds seconds\n")
    );
    assert!(om.contains("# TYPE facade_sent_bytes counter\n# UNIT facade_sent_bytes bytes\n"));
    assert!(
        om.contains("# TYPE facade_heap gauge\nfacade_heap 1500000\n"),
        "{om}"
    );
    // openmetrics-parser 0.5 takes units on counters and gauges only; the spec (and the
    // real Prometheus, below) takes them on histograms too: their UNIT lines are left out
    // of what it parses.
    let parsable: String = om
        .lines()
        .filter(|line| !line.starts_with("# UNIT facade_wait_seconds"))
        .map(|line| format!("{line}\n"))
        .collect();
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&parsable)
        .unwrap_or_else(|err| panic!("{err:?}\n{om}"));
    assert_eq!(parsed.families["facade_sent_bytes"].unit, "bytes");
    assert_eq!(parsed.families["facade_heap"].unit, "");
    let jobs = &parsed.families["facade_jobs"];
    assert_eq!(jobs.help, "Jobs done.");
    assert!(om.contains("facade_jobs_total{queue=\"mail\"} 3\n"));
    assert!(om.contains("facade_queue_depth{client_id=\"a\\\"b\"} 10.5\n"));
    assert!(
        om.contains("facade_wait_seconds_bucket{le=\"10.0\"} 4\n")
            || om.contains("facade_wait_seconds_bucket{le=\"10\"} 4\n"),
        "{om}"
    );
    assert!(om.contains("facade_wait_seconds_count 5\n"));
}

// The real Prometheus, twice: scraping OpenMetrics (its default) and protobuf (native
// histograms on): the same values from both, and the metadata (HELP, unit) it stored.
#[test]
fn prometheus_stores_the_facade_exactly_from_openmetrics_and_protobuf() {
    installed();
    record_once();
    let addr = service();
    let om_dir = tempfile::tempdir().unwrap();
    let proto_dir = tempfile::tempdir().unwrap();
    // What the second one asks for and gets: protobuf, with the facade's families.
    let answer = http_get(
        &format!("http://{addr}/metrics"),
        &[("accept", PROTOBUF_ACCEPT)],
    );
    assert_eq!(
        answer.content_type.as_deref(),
        Some(track_metrics::PROTOBUF_CONTENT_TYPE)
    );
    for name in [
        "facade_jobs_total",
        "facade_queue_depth",
        "facade_wait_seconds",
    ] {
        let name = name.as_bytes();
        assert!(answer.bytes.windows(name.len()).any(|w| w == name));
    }
    let openmetrics = Prometheus::scraping(om_dir.path(), addr, None, &[]);
    let protobuf = Prometheus::scraping(proto_dir.path(), addr, None, &["native-histograms"]);
    let sum = WAITS.iter().sum::<f64>();
    for prometheus in [&openmetrics, &protobuf] {
        let value = |expr: &str| {
            poll(expr, Duration::from_secs(30), || {
                prometheus
                    .value(expr)?
                    .ok_or_else(|| format!("{expr}: no data yet"))
            })
        };
        assert_eq!(value(r#"facade_jobs_total{queue="mail"}"#), "3");
        assert_eq!(value(r#"facade_jobs_total{queue="bulk"}"#), "5");
        assert_eq!(value(r#"facade_queue_depth{client_id="a\"b"}"#), "10.5");
        assert_eq!(value(r#"facade_wait_seconds_bucket{le="0.025"}"#), "3");
        assert_eq!(value(r#"facade_wait_seconds_bucket{le="+Inf"}"#), "5");
        assert_eq!(value("facade_wait_seconds_count"), "5");
        assert_eq!(
            value("facade_wait_seconds_sum").parse::<f64>().unwrap(),
            sum
        );
        assert_eq!(value(r#"facade_batch_count{step="load"}"#), "4");
    }
    // What Prometheus kept of the OpenMetrics scrape's metadata: HELP and unit.
    let metadata = poll("the metadata", Duration::from_secs(30), || {
        let data = openmetrics.api("/api/v1/metadata", &[("metric", "facade_wait_seconds")])?;
        data["facade_wait_seconds"]
            .get(0)
            .cloned()
            .ok_or_else(|| format!("none yet: {data}"))
    });
    assert_eq!(metadata["type"], "histogram");
    assert_eq!(metadata["help"], "Time waited.");
    assert_eq!(metadata["unit"], "seconds");
    openmetrics.stop();
    protobuf.stop();
}

fn record_once() {
    static RECORDED: Once = Once::new();
    RECORDED.call_once(record);
}

#[test]
fn a_second_install_is_refused() {
    installed();
    assert!(matches!(install(), Err(Error::AlreadyInstalled)));
    assert_eq!(
        install().unwrap_err().to_string(),
        "the metrics facade has a recorder already installed"
    );
}

// Another recorder first (a metrics-exporter-prometheus one, say): refused, in a process of
// its own.
#[test]
fn an_install_after_another_recorder_is_refused() {
    const TEST: &str = "an_install_after_another_recorder_is_refused";
    if !in_child(TEST, &[&[]]) {
        return;
    }
    metrics::set_global_recorder(metrics::NoopRecorder).unwrap();
    assert!(matches!(install(), Err(Error::AlreadyInstalled)));
}

// Each facade metric that cannot be one of ours is dropped with one warning naming it,
// however often it is recorded, and every other one counts on exactly.
#[test]
fn collisions_are_dropped_with_one_warning_each() {
    const TEST: &str = "collisions_are_dropped_with_one_warning_each";
    if !in_child(TEST, &[&[]]) {
        return;
    }
    capture_logs();
    let own = prometheus::IntCounter::new("own_jobs_total", "The program's own.").unwrap();
    track_metrics::registry()
        .register(Box::new(own.clone()))
        .unwrap();
    own.inc();
    installed();
    metrics::histogram!("lat").record(1.0);
    for _ in 0..3 {
        // Ours, and a sample name of ours.
        metrics::counter!("http.requests").increment(1);
        metrics::gauge!("http_request_duration_seconds_count").set(1.0);
        // The program's own prometheus family.
        metrics::counter!("own.jobs").increment(1);
        // One name, two kinds: the first stays.
        metrics::gauge!("kinds_total").set(2.0);
        metrics::counter!("kinds").increment(1);
        // One name, other label names: the first stays.
        metrics::counter!("labelled", "a" => "1").increment(1);
        metrics::counter!("labelled", "b" => "1").increment(1);
        // A label twice, once sanitised.
        metrics::counter!("twice", "a.b" => "1", "a_b" => "2").increment(1);
        metrics::histogram!("with.le", "le" => "1").record(1.0);
        // A sample name of another facade family.
        metrics::gauge!("lat_count").set(1.0);
    }
    let text = track_metrics::render();
    let scrape = Scrape::parse(&text);
    assert_eq!(scrape.get("own_jobs_total", &[]), Some(1.0));
    assert_eq!(scrape.get("kinds_total", &[]), Some(2.0));
    assert_eq!(scrape.described("kinds_total").unwrap().kind, "gauge");
    assert_eq!(scrape.get("labelled_total", &[("a", "1")]), Some(3.0));
    assert_eq!(scrape.get("lat_count", &[]), Some(1.0));
    assert_eq!(scrape.series("labelled_total").len(), 1);
    for absent in ["http_requests_total", "twice_total", "with_le_bucket"] {
        assert!(scrape.series(absent).is_empty(), "{absent}: {text}");
    }
    assert!(!text.contains("http_request_duration_seconds_count"));
    let warnings: Vec<String> = logs()
        .into_iter()
        .filter(|line| line.starts_with("WARN track-metrics: the metrics facade's"))
        .collect();
    let expected = [
        "http_requests_total is dropped: the name http_requests_total is taken",
        "http_request_duration_seconds_count is dropped: the name http_request_duration_seconds_count is taken",
        "own_jobs_total is dropped: the registry refused it",
        "kinds_total is dropped: it is a gauge already",
        "labelled_total is dropped: its labels are [b], not [a]",
        "twice_total is dropped: it has the label a_b twice",
        "with_le is dropped: a histogram cannot have the label le",
        "lat_count is dropped: the name lat_count is taken",
    ];
    assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    for (warning, expected) in warnings.iter().zip(expected) {
        assert!(
            warning.contains(expected),
            "{warning} does not say {expected}"
        );
    }
}

// The configured buckets, for every facade histogram.
#[test]
fn histograms_have_the_configured_buckets() {
    const TEST: &str = "histograms_have_the_configured_buckets";
    if !in_child(TEST, &[&[]]) {
        return;
    }
    track_metrics::configure(track_metrics::Config::new().buckets(vec![0.1, 1.0])).unwrap();
    installed();
    metrics::histogram!("sized").record(0.5);
    let text = track_metrics::render();
    assert!(
        text.contains(
            "sized_bucket{le=\"0.1\"} 0\nsized_bucket{le=\"1\"} 1\nsized_bucket{le=\"+Inf\"} 1\n"
        ),
        "{text}"
    );
}

// With metrics disabled, the install succeeds and nothing is recorded or exposed.
#[test]
fn nothing_is_recorded_when_metrics_are_disabled() {
    const TEST: &str = "nothing_is_recorded_when_metrics_are_disabled";
    if !in_child(TEST, &[&[(track_metrics::ENV_ENABLED, "false")]]) {
        return;
    }
    installed();
    metrics::counter!("off").increment(1);
    metrics::histogram!("off.wait").record(1.0);
    assert!(!track_metrics::render().contains("off"));
}

// A batch job's facade metrics go with its push: exact in the real Pushgateway, with the
// HELP described.
#[test]
fn the_facade_s_metrics_are_pushed_with_the_registry() {
    installed();
    let gateway = metrics_tests::servers::Pushgateway::start();
    metrics::describe_counter!("facade.rows", "Rows imported.");
    metrics::counter!("facade.rows", "table" => "users").increment(7);
    track_metrics::push::push(gateway.url(), "facade-job").expect("pushed");
    let scrape = gateway.scrape();
    let labels = [("instance", ""), ("job", "facade-job"), ("table", "users")];
    assert_eq!(
        scrape.get("facade_rows_total", &labels),
        Some(7.0),
        "{}",
        scrape.text
    );
    assert_eq!(
        scrape.described("facade_rows_total").unwrap().help,
        "Rows imported."
    );
}
