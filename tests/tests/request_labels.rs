//! Labels from the request (CONTRACT §15) through both frameworks' real service stacks:
//! `RequestLabel::header` declared in `Config::label`, applied by axum's
//! `RequestMetricsLayer` (tower's `oneshot` through the router) and actix-web's
//! `RequestMetrics` (its test service); exact counts per value, the allow-list and
//! `max_values` bounds, `_other` and `""`, over-long and non-ASCII values, a flood of
//! random values on several threads adding no series past the bound, invalid names
//! refused by `configure`.
//!
//! The configuration is process-wide: every test calls `setup`, which first checks that
//! the invalid ones are refused (each registering nothing), then configures the labels.
//! Each test uses routes of its own; only `a_flood_of_values_adds_no_series_past_the_bound`
//! sends `x-client`, whose bound is the process's.

use std::sync::Once;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use metrics_tests::scrape::Scrape;
use tower::ServiceExt;
use track_metrics::axum::RequestMetricsLayer;
use track_metrics::{Config, Error, RequestLabel, track_metrics};

const TENANTS: [&str; 2] = ["acme", "globex"];
const CLIENTS: usize = 3;

fn labels() -> Config {
    Config::new()
        .label(RequestLabel::header("tenant", "X-Tenant").allow(TENANTS))
        .label(RequestLabel::header("client", "x-client").max_values(CLIENTS))
}

fn setup() {
    static SETUP: Once = Once::new();
    SETUP.call_once(|| {
        for (config, names) in [
            (
                Config::new().label(RequestLabel::header("2fa", "x-a")),
                "`2fa`",
            ),
            (
                Config::new().label(RequestLabel::header("__tenant", "x-a")),
                "`__tenant`",
            ),
            (
                Config::new().label(RequestLabel::header("route", "x-a")),
                "`route`",
            ),
            (
                Config::new().label(RequestLabel::header("status", "x-a")),
                "`status`",
            ),
            (
                labels().label(RequestLabel::header("tenant", "x-other")),
                "`tenant` is declared twice",
            ),
            (
                Config::new()
                    .const_label("tenant", "all")
                    .label(RequestLabel::header("tenant", "x-tenant")),
                "`tenant` is also a constant label",
            ),
            (
                Config::new().label(RequestLabel::header("tenant", "x-tenant").allow(["a b"])),
                "`a b`",
            ),
        ] {
            match track_metrics::configure(config) {
                Err(Error::Invalid(reason)) => {
                    assert!(reason.contains(names), "{reason} should name {names}")
                }
                other => panic!("expected an invalid configuration naming {names}, got {other:?}"),
            }
        }
        track_metrics::configure(labels()).expect("the first valid configuration");
    });
}

fn scrape() -> Scrape {
    Scrape::parse(&track_metrics::render())
}

// `http_requests_total` of one handler and route, per `(tenant, client, status)`.
fn counts(scrape: &Scrape, route: &str) -> Vec<(String, String, String, f64)> {
    let mut counts: Vec<_> = scrape
        .samples("http_requests_total")
        .iter()
        .filter(|(labels, _)| metrics_tests::scrape::label(labels, "route") == route)
        .map(|(labels, value)| {
            let label = |name| metrics_tests::scrape::label(labels, name).to_owned();
            (label("tenant"), label("client"), label("status"), *value)
        })
        .collect();
    counts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    counts
}

fn row(tenant: &str, client: &str, status: &str, count: f64) -> (String, String, String, f64) {
    (tenant.into(), client.into(), status.into(), count)
}

// The tenants' header values the two framework tests send to their route, and what
// each counts as: kept, `_other` (not allowed, too long, not visible ASCII) or `""`.
fn tenant_traffic() -> Vec<Option<Vec<u8>>> {
    let mut traffic = Vec::new();
    traffic.extend(std::iter::repeat_n(Some(b"acme".to_vec()), 3));
    traffic.extend(std::iter::repeat_n(Some(b"globex".to_vec()), 2));
    traffic.push(Some(b"Globex".to_vec())); // case-sensitive: not allowed
    traffic.push(Some(b"initech".to_vec()));
    traffic.push(Some(vec![b'a'; 65]));
    traffic.push(Some("acmé".as_bytes().to_vec()));
    traffic.push(Some(b"ac me".to_vec()));
    traffic.push(Some(Vec::new())); // empty: absent
    traffic.push(None);
    traffic.push(None);
    traffic
}

fn expected_tenants() -> Vec<(String, String, String, f64)> {
    vec![
        row("", "", "200", 3.0),
        row("_other", "", "200", 5.0),
        row("acme", "", "200", 3.0),
        row("globex", "", "200", 2.0),
    ]
}

#[track_metrics]
async fn rl_axum_item() -> &'static str {
    "item"
}

#[tokio::test]
async fn axum_counts_each_tenant_with_its_bound() {
    setup();
    let app = Router::new()
        .route("/rl/axum/items/{id}", get(rl_axum_item))
        .layer(RequestMetricsLayer::new());
    for (i, tenant) in tenant_traffic().into_iter().enumerate() {
        let mut request = Request::get(format!("/rl/axum/items/{i}"));
        if let Some(tenant) = tenant {
            request = request.header("x-tenant", tenant);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let scrape = scrape();
    assert_eq!(counts(&scrape, "/rl/axum/items/{id}"), expected_tenants());
    // The duration and in-flight families carry the labels too.
    let observed = |tenant| {
        scrape.value(
            "http_request_duration_seconds_count",
            &[
                ("handler", "rl_axum_item"),
                ("method", "GET"),
                ("route", "/rl/axum/items/{id}"),
                ("tenant", tenant),
                ("client", ""),
            ],
        )
    };
    assert_eq!(observed("acme"), 3.0);
    assert_eq!(observed("_other"), 5.0);
    let in_flight = scrape.value(
        "http_requests_in_flight",
        &[
            ("handler", "rl_axum_item"),
            ("method", "GET"),
            ("route", "/rl/axum/items/{id}"),
            ("tenant", "globex"),
            ("client", ""),
        ],
    );
    assert_eq!(in_flight, 0.0);
    let described = scrape.described("http_requests_total").unwrap();
    assert_eq!(
        described
            .labels
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["client", "handler", "method", "route", "status", "tenant"]
    );
}

mod actix {
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpResponse, web};
    use track_metrics::actix::RequestMetrics;
    use track_metrics::track_metrics;

    use super::*;

    #[track_metrics]
    async fn rl_actix_item() -> HttpResponse {
        HttpResponse::Ok().body("item")
    }

    #[actix_web::test]
    async fn actix_counts_each_tenant_with_its_bound() {
        setup();
        let app = init_service(
            App::new()
                .wrap(RequestMetrics::default())
                .route("/rl/actix/items/{id}", web::get().to(rl_actix_item)),
        )
        .await;
        for (i, tenant) in tenant_traffic().into_iter().enumerate() {
            let mut request = TestRequest::get().uri(&format!("/rl/actix/items/{i}"));
            if let Some(tenant) = tenant {
                request = request.insert_header((
                    "x-tenant",
                    actix_web::http::header::HeaderValue::from_bytes(&tenant).unwrap(),
                ));
            }
            let response = call_service(&app, request.to_request()).await;
            assert_eq!(response.status(), 200);
        }
        assert_eq!(
            counts(&scrape(), "/rl/actix/items/{id}"),
            expected_tenants()
        );
    }
}

#[track_metrics]
async fn rl_flood() -> &'static str {
    "flood"
}

#[test]
fn a_flood_of_values_adds_no_series_past_the_bound() {
    setup();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = Router::new()
            .route("/rl/flood", get(rl_flood))
            .layer(RequestMetricsLayer::new());
        let send = move |client: String| {
            let app = app.clone();
            async move {
                let request = Request::get("/rl/flood")
                    .header("x-client", client)
                    .body(Body::empty())
                    .unwrap();
                assert_eq!(app.oneshot(request).await.unwrap().status(), 200);
            }
        };
        // The first three distinct values are kept, whatever thread sees them.
        for client in ["web", "ios", "web", "android"] {
            send(client.to_owned()).await;
        }
        // Then 10 000 values never seen, from eight tasks on four threads.
        let tasks: Vec<_> = (0..8)
            .map(|task| {
                let send = send.clone();
                tokio::spawn(async move {
                    for i in 0..1250 {
                        send(format!("c{task}-{i}")).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        send("ios".to_owned()).await;
    });
    let scrape = scrape();
    assert_eq!(
        counts(&scrape, "/rl/flood"),
        vec![
            row("", "_other", "200", 10_000.0),
            row("", "android", "200", 1.0),
            row("", "ios", "200", 2.0),
            row("", "web", "200", 2.0),
        ]
    );
    let flood_series = |family: &str| {
        scrape
            .samples(family)
            .iter()
            .filter(|(labels, _)| metrics_tests::scrape::label(labels, "route") == "/rl/flood")
            .count()
    };
    assert_eq!(flood_series("http_request_duration_seconds_count"), 4);
    assert_eq!(flood_series("http_requests_in_flight"), 4);
}
