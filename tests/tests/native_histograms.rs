//! Native histograms (feature `native-histograms`, CONTRACT §12) against the real
//! Prometheus 2.42 started with `--enable-feature=native-histograms` on the shipped
//! docker/prometheus.yml: it negotiates the protobuf exposition with an axum service on a
//! real socket, stores `http_request_duration_seconds` as a native histogram, counts
//! every request in it and reads the slow route's median between the handler's sleep and
//! the round trip the test measured (to a bucket's width), and so does the shipped
//! recording rule; the exemplar of a traced request is stored on the native series; the
//! guide's queries have data. Also: the protobuf answer of `/metrics` (its content type; the
//! classic exposition unchanged beside it).

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use metrics_tests::guides;
use metrics_tests::http::get as http_get;
use metrics_tests::server::serve_on_own_runtime;
use metrics_tests::servers::{Prometheus, QueryApi};
use metrics_tests::wait::poll;
use serde::Deserialize;
use track_metrics::axum::RequestMetricsLayer;

/// What Prometheus 2.42 sends with `--enable-feature=native-histograms`.
const PROTOBUF_ACCEPT: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[derive(Deserialize)]
struct Slow {
    ms: u64,
}

async fn root() -> &'static str {
    "ok"
}

async fn slow(Query(Slow { ms }): Query<Slow>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "slow"
}

// The service: `/`, `/ping`, `/slow?ms=N` and `/metrics`, every request counted by the layer.
fn service() -> &'static str {
    static ADDR: OnceLock<String> = OnceLock::new();
    ADDR.get_or_init(|| {
        let addr = serve_on_own_runtime(|listener| async move {
            let app = Router::new()
                .route("/", get(root))
                .route("/ping", get(root))
                .route("/slow", get(slow))
                .route("/metrics", get(track_metrics::axum::metrics))
                .layer(RequestMetricsLayer::new());
            axum::serve(listener, app).await.unwrap();
        });
        addr.to_string()
    })
}

#[test]
fn metrics_answers_protobuf_when_preferred() {
    let addr = service();
    // A request first (to a route of this test's own): a family without series is left
    // out of every format.
    assert_eq!(http_get(&format!("http://{addr}/ping"), &[]).status, 200);
    let answer = http_get(
        &format!("http://{addr}/metrics"),
        &[("accept", PROTOBUF_ACCEPT)],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.content_type.as_deref(),
        Some(track_metrics::PROTOBUF_CONTENT_TYPE)
    );
    // Length-delimited messages: the first one's length, a varint, then the message;
    // the duration family among them (its name is a string field, as written).
    let name = b"http_request_duration_seconds";
    assert!(answer.bytes.windows(name.len()).any(|w| w == name));
    assert!(!answer.body.contains("# TYPE"));
    // Without an Accept: the text format, as before.
    let text = http_get(&format!("http://{addr}/metrics"), &[]);
    assert_eq!(
        text.content_type.as_deref(),
        Some(track_metrics::CONTENT_TYPE)
    );
    assert!(
        text.body
            .contains("# TYPE http_request_duration_seconds histogram")
    );
}

#[test]
fn prometheus_stores_and_queries_the_native_histogram() {
    let addr = service();
    let dir = tempfile::tempdir().unwrap();
    let prometheus = Prometheus::scraping(dir.path(), addr, None, &["native-histograms"]);
    let url = |path: &str| format!("http://{addr}{path}");
    // One request of each route, scraped, so that the requests counted next are increases
    // of series Prometheus already has.
    http_get(&url("/"), &[]);
    http_get(&url("/slow?ms=50"), &[]);
    let count = |route: &str| {
        prometheus.value(&format!(
            r#"histogram_count(http_request_duration_seconds{{job="actix-app",route="{route}"}})"#
        ))
    };
    poll("the first scrape", Duration::from_secs(30), || {
        match (count("/")?, count("/slow")?) {
            (Some(_), Some(_)) => Ok(()),
            other => Err(format!("not scraped yet: {other:?}")),
        }
    });

    const SLOW: usize = 20;
    const FAST: usize = 30;
    let mut took: Vec<Duration> = (0..SLOW)
        .map(|_| {
            let start = Instant::now();
            assert_eq!(http_get(&url("/slow?ms=50"), &[]).status, 200);
            start.elapsed()
        })
        .collect();
    for _ in 0..FAST {
        assert_eq!(http_get(&url("/"), &[]).status, 200);
    }
    took.sort();
    let measured = took[SLOW / 2].as_secs_f64();

    // Every request, in the native histogram's count: one series per route, no `_bucket`.
    poll("every request counted", Duration::from_secs(30), || {
        let counts = (count("/")?, count("/slow")?);
        let want = (Some((FAST + 1).to_string()), Some((SLOW + 1).to_string()));
        if counts == want {
            Ok(())
        } else {
            Err(format!("counts {counts:?}, want {want:?}"))
        }
    });
    // What Prometheus 2.42 keeps of the classic histogram when it scrapes the native one
    // (docs/native-histograms.md says so): nothing.
    for suffix in ["_bucket", "_count", "_sum"] {
        let classic = prometheus
            .value(&format!(
                r#"count(http_request_duration_seconds{suffix}{{job="actix-app"}})"#
            ))
            .unwrap();
        assert_eq!(classic, None, "{suffix} beside the native histogram");
    }
    let rate = prometheus
        .value(r#"histogram_count(rate(http_request_duration_seconds{job="actix-app",route="/slow"}[1m])) > 0"#)
        .unwrap();
    assert!(rate.is_some(), "a rate of the native histogram");
    // The median: the server's lies between the 50 ms the handler sleeps and the client's
    // median round trip (each request's server time is part of its round trip), and the
    // estimate is in the same schema-3 bucket as it, within a factor of 2^(1/8). (The
    // round trip alone is no reference: on a loaded machine it is 10 % above the server's.)
    let bucket = 2f64.powf(1.0 / 8.0);
    let near_measured = |query: &str| {
        let median: f64 = prometheus
            .value(query)
            .unwrap()
            .unwrap_or_else(|| panic!("no data: {query}"))
            .parse()
            .unwrap();
        assert!(
            0.050 / bucket <= median && median <= measured * bucket,
            "{query}: {median} s, the handler sleeps 0.050 s, the client measured {measured} s"
        );
    };
    near_measured(
        r#"histogram_quantile(0.5, sum by (route) (rate(http_request_duration_seconds{job="actix-app",route="/slow"}[1m])))"#,
    );
    // Exemplars come through protobuf too: on the native series.
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traced = [(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )];
    assert_eq!(http_get(&url("/slow?ms=5"), &traced).status, 200);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (start, end) = ((now - 600).to_string(), (now + 60).to_string());
    let query = r#"http_request_duration_seconds{job="actix-app",route="/slow"}"#;
    poll("the exemplar", Duration::from_secs(30), || {
        let data = prometheus.api(
            "/api/v1/query_exemplars",
            &[("query", query), ("start", &start), ("end", &end)],
        )?;
        let traces: Vec<&str> = data
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|series| series["exemplars"].as_array().into_iter().flatten())
            .filter_map(|exemplar| exemplar["labels"]["trace_id"].as_str())
            .collect();
        if !traces.is_empty() && traces.iter().all(|&trace| trace == TRACE) {
            Ok(())
        } else {
            Err(format!("exemplars {data}"))
        }
    });
    // The shipped recording rules read the native histogram when there are no classic
    // buckets: the latency quantiles, the rate and the mean of the slow route.
    for rule in [
        "job_handler_method_route:http_request_duration_seconds_count:rate5m",
        "job_handler_method_route:http_request_duration_seconds:p50_rate5m",
        "job_handler_method_route:http_request_duration_seconds:p99_rate5m",
        "job_handler_method_route:http_request_duration_seconds:mean5m",
    ] {
        let query = format!(r#"{rule}{{job="actix-app",route="/slow"}} > 0"#);
        poll(rule, Duration::from_secs(30), || {
            match prometheus.value(&query)? {
                Some(_) => Ok(()),
                None => Err(format!("{query}: no data")),
            }
        });
    }
    near_measured(
        r#"job_handler_method_route:http_request_duration_seconds:p50_rate5m{job="actix-app",route="/slow"}"#,
    );
    // Every query of the guide has data.
    for expr in guides::promql("docs/native-histograms.md") {
        let result = prometheus
            .query(&expr)
            .unwrap_or_else(|err| panic!("docs/native-histograms.md: {err}\n{expr}"));
        assert!(
            !result.is_empty(),
            "docs/native-histograms.md: no data\n{expr}"
        );
    }
    prometheus.stop();
}
