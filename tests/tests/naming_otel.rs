//! The OpenTelemetry naming (CONTRACT §16) through both frameworks' real service stacks:
//! `Config::naming(Naming::OpenTelemetry)`, with a request label beside it, makes
//! `http_server_request_duration_seconds` (the conventions' 14 buckets) and
//! `http_server_active_requests`, with exact counts per method (`_OTHER` for the rest),
//! route, status, scheme (the connection's, or a proxy's `Forwarded` / `X-Forwarded-Proto`
//! header), protocol version and handler; `error_type` for a 5xx and for a dropped request
//! (whose status is empty: no label, as Prometheus reads it); no request in `http_requests_total`, where the tracked helpers a
//! request calls still count (the conventions have nothing for function calls); `# UNIT`
//! in OpenMetrics; `promtool check metrics` clean.
//!
//! The configuration is process-wide: every test calls `setup`. Each test uses routes of
//! its own.

use std::sync::{Arc, Once};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, StatusCode, Version};
use axum::routing::{any, get};
use metrics_tests::rerun::in_child;
use metrics_tests::scrape::{Sample, Scrape};
use tokio::sync::Notify;
use tower::ServiceExt;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::{Config, Error, Naming, RequestLabel, track_metrics};

const DURATION: &str = "http_server_request_duration_seconds";
const ACTIVE: &str = "http_server_active_requests";

/// The conventions' buckets, as `le` writes them.
const BUCKETS: [&str; 15] = [
    "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5", "5",
    "7.5", "10", "+Inf",
];

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        track_metrics::configure(
            Config::new()
                .naming(Naming::OpenTelemetry)
                .known_methods(["PROPFIND"])
                .label(RequestLabel::header("tenant", "x-tenant").allow(["acme"])),
        )
        .expect("the first configuration");
    });
}

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

// The samples of `name` whose labels include every pair of `labels`.
fn matching<'s>(scrape: &'s Scrape, name: &str, labels: &[(&str, &str)]) -> Vec<&'s Sample> {
    scrape
        .samples(name)
        .iter()
        .filter(|(have, _)| {
            labels
                .iter()
                .all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
        })
        .collect()
}

// The requests of one route, per (method, status, scheme, version, error_type, handler,
// tenant): the histogram's `_count`, each series' labels all named.
type Row = (String, String, String, String, String, String, String, f64);

fn requests(scrape: &Scrape, route: &str) -> Vec<Row> {
    let mut rows: Vec<Row> = matching(
        scrape,
        &format!("{DURATION}_count"),
        &[("http_route", route)],
    )
    .into_iter()
    .map(|(labels, value)| {
        let names: Vec<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        let label = |name: &str| metrics_tests::scrape::label(labels, name).to_owned();
        for name in [
            "code_function_name",
            "error_type",
            "http_request_method",
            "http_response_status_code",
            "http_route",
            "network_protocol_version",
            "tenant",
            "url_scheme",
        ] {
            assert!(names.contains(&name), "{name} missing: {labels:?}");
        }
        (
            label("http_request_method"),
            label("http_response_status_code"),
            label("url_scheme"),
            label("network_protocol_version"),
            label("error_type"),
            label("code_function_name"),
            label("tenant"),
            *value,
        )
    })
    .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

fn row(labels: [&str; 7], count: f64) -> Row {
    let [method, status, scheme, version, error, handler, tenant] = labels.map(str::to_owned);
    (
        method, status, scheme, version, error, handler, tenant, count,
    )
}

#[track_metrics(name = "otel_helper_axum")]
async fn helper_axum() -> Result<u32, std::io::Error> {
    Ok(7)
}

#[track_metrics(name = "otel_helper_actix")]
async fn helper_actix() -> Result<u32, std::io::Error> {
    Ok(7)
}

// The calls of a helper, in `http_requests_total`.
fn helper_calls(scrape: &Scrape, helper: &str) -> f64 {
    matching(scrape, "http_requests_total", &[("handler", helper)])
        .iter()
        .map(|(_, v)| v)
        .sum()
}

// The requests a handler answered, in the duration histogram.
fn answered_by(scrape: &Scrape, handler: &str) -> f64 {
    matching(
        scrape,
        &format!("{DURATION}_count"),
        &[("code_function_name", handler)],
    )
    .iter()
    .map(|(_, v)| v)
    .sum()
}

#[track_metrics]
async fn ot_axum_item(Path(status): Path<u16>) -> StatusCode {
    let _ = helper_axum().await;
    StatusCode::from_u16(status).unwrap()
}

// Waits until told to go on: a request in flight, or one dropped.
#[track_metrics]
async fn ot_axum_wait(gate: axum::extract::State<Arc<Notify>>) -> &'static str {
    gate.notified().await;
    "done"
}

// Two threads: the request in flight runs while the test waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_requests_have_the_conventions_names_and_labels() {
    setup();
    let gate = Arc::new(Notify::new());
    let app = Router::new()
        .route("/ot/axum/items/{status}", any(ot_axum_item))
        .route("/ot/axum/wait", get(ot_axum_wait))
        .with_state(Arc::clone(&gate))
        .layer(RequestMetricsLayer::new());
    let send = |method: &str, path: &str, headers: &[(&str, &str)], version: Version| {
        let mut request = Request::builder().method(method).uri(path).version(version);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        app.clone().oneshot(request.body(Body::empty()).unwrap())
    };
    let h11 = Version::HTTP_11;
    for _ in 0..3 {
        let answer = send("GET", "/ot/axum/items/200", &[], h11).await.unwrap();
        assert_eq!(answer.status(), 200);
    }
    let answer = send("POST", "/ot/axum/items/201", &[("x-tenant", "acme")], h11).await;
    assert_eq!(answer.unwrap().status(), 201);
    let answer = send("GET", "/ot/axum/items/503", &[], Version::HTTP_2).await;
    assert_eq!(answer.unwrap().status(), 503);
    let answer = send("PROPFIND", "/ot/axum/items/404", &[], Version::HTTP_10).await;
    assert_eq!(answer.unwrap().status(), 404);
    // A proxy's scheme, when it is one of the two; anything else leaves the connection's.
    for (header, value, count) in [
        ("x-forwarded-proto", "https", 2),
        ("forwarded", "for=192.0.2.1;proto=https", 1),
        ("x-forwarded-proto", "ftp", 1),
    ] {
        for _ in 0..count {
            let answer = send("GET", "/ot/axum/items/204", &[(header, value)], h11).await;
            assert_eq!(answer.unwrap().status(), 204);
        }
    }
    // In flight: one, in the gauge by method and scheme.
    let waiting = tokio::spawn(send(
        "GET",
        "/ot/axum/wait",
        &[("x-tenant", "initech")],
        h11,
    ));
    let active = |scrape: &Scrape| {
        scrape.get(
            ACTIVE,
            &[
                ("http_request_method", "GET"),
                ("url_scheme", "http"),
                ("tenant", "_other"),
            ],
        )
    };
    metrics_tests::wait::settle(Duration::from_secs(10), || match active(&scrape()) {
        Some(1.0) => Ok(()),
        other => Err(format!("in flight: {other:?}")),
    })
    .unwrap();
    gate.notify_one();
    assert_eq!(waiting.await.unwrap().unwrap().status(), 200);
    assert_eq!(active(&scrape()), Some(0.0));
    // Dropped before its response: `error_type="_OTHER"` and no status.
    let dropped = send("GET", "/ot/axum/wait", &[], h11);
    assert!(
        tokio::time::timeout(Duration::from_millis(20), dropped)
            .await
            .is_err()
    );

    let scrape = scrape();
    let item = "ot_axum_item";
    assert_eq!(
        requests(&scrape, "/ot/axum/items/{status}"),
        vec![
            row(["GET", "200", "http", "1.1", "", item, ""], 3.0),
            row(["GET", "204", "http", "1.1", "", item, ""], 1.0),
            row(["GET", "204", "https", "1.1", "", item, ""], 3.0),
            row(["GET", "503", "http", "2", "503", item, ""], 1.0),
            row(["POST", "201", "http", "1.1", "", item, "acme"], 1.0),
            row(["PROPFIND", "404", "http", "1.0", "", item, ""], 1.0),
        ]
    );
    assert_eq!(
        requests(&scrape, "/ot/axum/wait"),
        vec![
            row(
                ["GET", "", "http", "1.1", "_OTHER", "ot_axum_wait", ""],
                1.0
            ),
            row(
                ["GET", "200", "http", "1.1", "", "ot_axum_wait", "_other"],
                1.0
            ),
        ]
    );
    let dropped = matching(
        &scrape,
        &format!("{DURATION}_count"),
        &[("error_type", "_OTHER")],
    );
    // Its status is empty: no label, as Prometheus reads it.
    assert!(
        dropped.iter().all(|(labels, _)| {
            metrics_tests::scrape::label(labels, "http_response_status_code").is_empty()
        }),
        "a dropped request has no status: {dropped:?}"
    );
    // The conventions' buckets.
    let les: Vec<&str> = matching(
        &scrape,
        &format!("{DURATION}_bucket"),
        &[
            ("http_route", "/ot/axum/items/{status}"),
            ("http_request_method", "POST"),
        ],
    )
    .iter()
    .map(|(labels, _)| metrics_tests::scrape::label(labels, "le"))
    .collect();
    let mut want = BUCKETS.to_vec();
    want.sort();
    let mut les = les;
    les.sort();
    assert_eq!(les, want);
    // No request in the Prometheus names; the helper each one called counts there.
    for family in [
        "http_requests_total",
        "http_request_duration_seconds_count",
        "http_requests_in_flight",
    ] {
        assert!(
            matching(&scrape, family, &[]).iter().all(|(labels, _)| {
                metrics_tests::scrape::label(labels, "handler").starts_with("otel_helper_")
            }),
            "{family}: {:?}",
            scrape.samples(family)
        );
    }
    assert_eq!(
        helper_calls(&scrape, "otel_helper_axum"),
        answered_by(&scrape, item)
    );
}

#[tokio::test]
async fn the_families_are_described_as_the_conventions_say_and_promtool_is_clean() {
    setup();
    let app = Router::new()
        .route("/ot/axum/described", get(|| async { "described" }))
        .layer(RequestMetricsLayer::new());
    let request = Request::get("/ot/axum/described")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
    let text = track_metrics::render();
    let scrape = Scrape::parse(&text);
    let duration = scrape.described(DURATION).expect("the duration family");
    assert_eq!(duration.kind, "histogram");
    assert_eq!(duration.help, "Duration of HTTP server requests.");
    let active = scrape
        .described(ACTIVE)
        .expect("the active requests family");
    assert_eq!(active.kind, "gauge");
    assert_eq!(active.help, "Number of active HTTP server requests.");
    let mut labels = active.labels.clone();
    labels.sort();
    assert_eq!(labels, ["http_request_method", "tenant", "url_scheme"]);
    metrics_tests::tool::promtool_check_metrics(&text);
    let om = track_metrics::render_openmetrics();
    assert!(
        om.contains(&format!(
            "# TYPE {DURATION} histogram\n# UNIT {DURATION} seconds\n"
        )),
        "{om}"
    );
    assert!(!om.contains("# UNIT http_request_duration_seconds"));
}

mod actix {
    use actix_web::http::Version;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};
    use track_metrics::actix::RequestMetrics;

    use super::*;

    #[track_metrics]
    async fn ot_actix_item(status: web::Path<u16>) -> HttpResponse {
        let _ = helper_actix().await;
        HttpResponse::build(actix_web::http::StatusCode::from_u16(*status).unwrap()).finish()
    }

    #[actix_web::test]
    async fn actix_requests_have_the_conventions_names_and_labels() {
        setup();
        let app = init_service(
            App::new()
                .wrap(RequestMetrics::default())
                .route("/ot/actix/items/{status}", web::to(ot_actix_item)),
        )
        .await;
        let send = |method: &str, path: &str, header: Option<(&str, &str)>, version| {
            let mut request = TestRequest::default()
                .method(method.parse().unwrap())
                .uri(path)
                .version(version);
            if let Some(header) = header {
                request = request.insert_header((header.0.to_owned(), header.1.to_owned()));
            }
            request.to_request()
        };
        let h11 = Version::HTTP_11;
        for (method, path, header, version, status) in [
            ("GET", "/ot/actix/items/200", None, h11, 200),
            ("GET", "/ot/actix/items/200", None, h11, 200),
            (
                "DELETE",
                "/ot/actix/items/500",
                Some(("x-tenant", "acme")),
                Version::HTTP_2,
                500,
            ),
            ("BREW", "/ot/actix/items/418", None, Version::HTTP_10, 418),
            (
                "GET",
                "/ot/actix/items/200",
                Some(("x-forwarded-proto", "HTTPS")),
                h11,
                200,
            ),
            (
                "GET",
                "/ot/actix/items/200",
                Some(("forwarded", "proto=\"https\"")),
                h11,
                200,
            ),
            ("GET", "/ot/actix/nowhere", None, h11, 404),
        ] {
            let answer = call_service(&app, send(method, path, header, version)).await;
            assert_eq!(answer.status().as_u16(), status, "{method} {path}");
        }
        let scrape = scrape();
        let item = "ot_actix_item";
        assert_eq!(
            requests(&scrape, "/ot/actix/items/{status}"),
            vec![
                row(["DELETE", "500", "http", "2", "500", item, "acme"], 1.0),
                row(["GET", "200", "http", "1.1", "", item, ""], 2.0),
                row(["GET", "200", "https", "1.1", "", item, ""], 2.0),
                row(["_OTHER", "418", "http", "1.0", "", item, ""], 1.0),
            ]
        );
        // No route matched: `http_route=""`, no handler.
        assert_eq!(
            scrape.get(
                &format!("{DURATION}_count"),
                &[
                    ("http_request_method", "GET"),
                    ("http_route", ""),
                    ("http_response_status_code", "404"),
                    ("url_scheme", "http"),
                    ("error_type", ""),
                    ("network_protocol_version", "1.1"),
                    ("code_function_name", ""),
                    ("tenant", ""),
                ]
            ),
            Some(1.0),
            "{}",
            scrape.text
        );
        assert!(
            matching(
                &scrape,
                "http_requests_total",
                &[("route", "/ot/actix/items/{status}")]
            )
            .is_empty()
        );
        assert_eq!(
            helper_calls(&scrape, "otel_helper_actix"),
            answered_by(&scrape, item)
        );
    }
}

#[track_metrics]
async fn ot_axum_traced() -> &'static str {
    "traced"
}

#[tokio::test]
async fn exemplars_are_on_each_requests_own_series() {
    setup();
    let app = Router::new()
        .route("/ot/axum/traced", get(ot_axum_traced))
        .layer(RequestMetricsLayer::new());
    // Two series that differ only by their request label, each with its own trace.
    let traces = [
        (
            "acme",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "00f067aa0ba902b7",
        ),
        ("", "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"),
    ];
    for (tenant, trace, span) in traces {
        let mut request =
            Request::get("/ot/axum/traced").header("traceparent", format!("00-{trace}-{span}-01"));
        if !tenant.is_empty() {
            request = request.header("x-tenant", tenant);
        }
        let answer = app.clone().oneshot(request.body(Body::empty()).unwrap());
        assert_eq!(answer.await.unwrap().status(), 200);
    }
    let om = track_metrics::render_openmetrics();
    for (tenant, trace, span) in traces {
        let lines: Vec<&str> = om
            .lines()
            .filter(|line| {
                line.starts_with(&format!("{DURATION}_bucket{{"))
                    && line.contains(r#"code_function_name="ot_axum_traced""#)
                    && line.contains(&format!(r#"tenant="{tenant}""#))
                    && line.contains(" # ")
            })
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "one bucket with an exemplar: {lines:?}\n{om}"
        );
        assert!(
            lines[0].contains(&format!(r#"trace_id="{trace}",span_id="{span}""#)),
            "{}",
            lines[0]
        );
    }
}

#[tokio::test]
async fn the_default_scheme_and_the_known_methods_are_configured_and_checked() {
    const TEST: &str = "the_default_scheme_and_the_known_methods_are_configured_and_checked";
    if !in_child(TEST, &[&[]]) {
        return;
    }
    let sixteen: Vec<String> = (0..17).map(|i| format!("M{i}")).collect();
    for (config, names) in [
        (Config::new().known_methods(["GE T"]), "`GE T`"),
        (
            Config::new().known_methods(["X".repeat(33)]),
            "at most 32 bytes",
        ),
        (Config::new().known_methods(sixteen), "17 known methods"),
        (Config::new().default_scheme("ftp"), "`ftp`"),
    ] {
        match track_metrics::configure(config) {
            Err(Error::Invalid(reason)) => assert!(reason.contains(names), "{reason}: {names}"),
            other => panic!("expected an invalid configuration naming {names}, got {other:?}"),
        }
    }
    track_metrics::configure(
        Config::new()
            .naming(Naming::OpenTelemetry)
            .default_scheme("https")
            .known_methods(["QUERY", "PROPFIND"]),
    )
    .unwrap();
    let app = Router::new()
        .route("/ot/axum/scheme", any(|| async { "scheme" }))
        .layer(RequestMetricsLayer::new());
    for (method, proto) in [
        ("GET", None),
        ("QUERY", None),
        ("QUERY", Some("http")),
        ("BREW", None),
    ] {
        let mut request = Request::builder().method(method).uri("/ot/axum/scheme");
        if let Some(proto) = proto {
            request = request.header("x-forwarded-proto", proto);
        }
        let answer = app.clone().oneshot(request.body(Body::empty()).unwrap());
        assert_eq!(answer.await.unwrap().status(), 200);
    }
    let scrape = scrape();
    let mut got: Vec<(String, String, f64)> = matching(
        &scrape,
        &format!("{DURATION}_count"),
        &[("http_route", "/ot/axum/scheme")],
    )
    .into_iter()
    .map(|(labels, value)| {
        let label = |name| metrics_tests::scrape::label(labels, name).to_owned();
        (label("http_request_method"), label("url_scheme"), *value)
    })
    .collect();
    got.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let want = [
        ("GET", "https", 1.0),
        ("QUERY", "http", 1.0),
        ("QUERY", "https", 1.0),
        ("_OTHER", "https", 1.0),
    ]
    .map(|(m, s, v)| (m.to_owned(), s.to_owned(), v));
    assert_eq!(got, want);
}

/// The OpenTelemetry Python SDK's exposition of the same requests (Flask, through its
/// Prometheus exporter; `scripts/otel-python-reference` records it, docs/otel-reference).
const PYTHON_REFERENCE: &str = include_str!("../../docs/otel-reference/flask-metrics.txt");

// A duration series of a scrape, as compared with the reference: its labels but ours
// (`code_function_name`) and the SDK's own (`otel_scope_*`), the route in one syntax.
fn comparable(scrape: &Scrape, family: &str) -> Vec<(Vec<(String, String)>, f64)> {
    let mut series: Vec<(Vec<(String, String)>, f64)> = scrape
        .samples(family)
        .iter()
        .map(|(labels, value)| {
            let labels = labels
                .iter()
                .filter(|(k, _)| k != "code_function_name" && !k.starts_with("otel_scope_"))
                .map(|(k, v)| (k.clone(), v.replace("<int:status>", "{status}")))
                .collect();
            (labels, *value)
        })
        .collect();
    series.sort_by(|a, b| a.partial_cmp(b).unwrap());
    series
}

#[tokio::test]
async fn the_python_sdk_names_the_same_requests_alike() {
    const TEST: &str = "the_python_sdk_names_the_same_requests_alike";
    if !in_child(TEST, &[&[]]) {
        return;
    }
    track_metrics::configure(Config::new().naming(Naming::OpenTelemetry)).unwrap();
    let app = Router::new()
        .route(
            "/items/{status}",
            any(|Path(status): Path<u16>| async move { StatusCode::from_u16(status).unwrap() }),
        )
        .route(
            "/wait",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                ""
            }),
        )
        .layer(RequestMetricsLayer::new());
    // The reference's traffic.
    for (method, path, proxy) in [
        ("GET", "/items/200", false),
        ("GET", "/items/200", false),
        ("GET", "/items/200", false),
        ("POST", "/items/201", false),
        ("GET", "/items/503", false),
        ("PROPFIND", "/items/404", false),
        ("GET", "/nowhere", false),
        ("GET", "/items/204", true),
        ("GET", "/wait", false),
    ] {
        let mut request = Request::builder().method(method).uri(path);
        if proxy {
            request = request.header("x-forwarded-proto", "https");
        }
        let answer = app.clone().oneshot(request.body(Body::empty()).unwrap());
        answer.await.unwrap();
    }
    let ours = scrape();
    let python = Scrape::parse(PYTHON_REFERENCE);
    for family in [DURATION, ACTIVE] {
        let (a, b) = (
            ours.described(family).unwrap(),
            python.described(family).unwrap(),
        );
        assert_eq!((&a.kind, &a.help), (&b.kind, &b.help), "{family}");
    }
    // The same series with the same counts and buckets, but one difference we chose: the
    // SDK (WSGI's scheme) does not read `X-Forwarded-Proto`, the conventions do.
    let https = |mut series: Vec<(Vec<(String, String)>, f64)>| {
        for (labels, _) in &mut series {
            if labels
                .iter()
                .any(|(k, v)| k == "http_response_status_code" && v == "204")
            {
                for (k, v) in labels.iter_mut() {
                    if k == "url_scheme" {
                        *v = "https".to_owned();
                    }
                }
            }
        }
        series.sort_by(|a, b| a.partial_cmp(b).unwrap());
        series
    };
    let counts = format!("{DURATION}_count");
    assert_eq!(
        comparable(&ours, &counts),
        https(comparable(&python, &counts))
    );
    // Every bucket bound of every series (their counts depend on the two machines).
    let bounds = |scrape: &Scrape| {
        comparable(scrape, &format!("{DURATION}_bucket"))
            .into_iter()
            .map(|(labels, _)| labels)
            .collect::<Vec<_>>()
    };
    let python_bounds: Vec<_> = https(
        comparable(&python, &format!("{DURATION}_bucket"))
            .into_iter()
            .map(|(labels, _)| (labels, 0.0))
            .collect(),
    )
    .into_iter()
    .map(|(labels, _)| labels)
    .collect();
    let mut ours_bounds = bounds(&ours);
    ours_bounds.sort();
    let mut python_bounds = python_bounds;
    python_bounds.sort();
    assert_eq!(ours_bounds, python_bounds);
    // In flight: none, by method and scheme (ours has the proxied request's scheme too).
    let mut active = comparable(&python, ACTIVE);
    active.push((
        vec![
            ("http_request_method".to_owned(), "GET".to_owned()),
            ("url_scheme".to_owned(), "https".to_owned()),
        ],
        0.0,
    ));
    active.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(comparable(&ours, ACTIVE), active);
}
