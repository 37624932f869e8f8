//! Labels from the request (CONTRACT §15) through both frameworks' real service stacks:
//! `RequestLabel::header` declared in `Config::label`, applied by axum's
//! `RequestMetricsLayer` (tower's `oneshot` through the router) and actix-web's
//! `RequestMetrics` (its test service); exact counts per value, the allow-list and
//! `max_values` bounds, `_other` and `""`, over-long and non-ASCII values, a flood of
//! random values on several threads (axum's router on four threads, then actix-web's
//! server with four workers over sockets) adding no series past the bound, invalid
//! names refused by `configure`.
//!
//! The configuration is process-wide: every test calls `setup`, which first checks that
//! the invalid ones are refused (each registering nothing), then configures the labels.
//! Each test uses routes of its own; only `a_flood_of_values_adds_no_series_past_the_bound`
//! sends `x-client`, whose bound is the process's.

use std::sync::{Arc, Once};

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

// The API version of a path `/v{n}/…` (axum's request head, actix-web's request).
fn version(path: &str) -> Option<&str> {
    path.split('/')
        .nth(1)
        .filter(|segment| segment.starts_with('v'))
}

fn labels() -> Config {
    Config::new()
        .label(RequestLabel::header("tenant", "X-Tenant").allow(TENANTS))
        .label(RequestLabel::header("client", "x-client").max_values(CLIENTS))
        .label(
            RequestLabel::axum("ax_version", |parts| version(parts.uri.path())).allow(["v1", "v2"]),
        )
        .label(RequestLabel::actix("ac_version", |req| version(req.path())).allow(["v1", "v2"]))
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
                ("ax_version", ""),
                ("ac_version", ""),
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
            ("ax_version", ""),
            ("ac_version", ""),
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
        [
            "ac_version",
            "ax_version",
            "client",
            "handler",
            "method",
            "route",
            "status",
            "tenant"
        ]
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

    // Then actix-web's real server, four workers, over sockets: 10 000 more values from
    // eight client threads, the bound full already: every one `_other`.
    let (base, server) = actix_flood_server();
    let clients: Vec<_> = (0..8)
        .map(|thread| {
            let base = base.clone();
            std::thread::spawn(move || {
                for i in 0..1250 {
                    let client = format!("s{thread}-{i}");
                    let answer = metrics_tests::http::get(
                        &format!("{base}/rl/flood-actix"),
                        &[("x-client", client.as_str())],
                    );
                    assert_eq!(answer.status, 200);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
    let scrape = self::scrape();
    assert_eq!(
        counts(&scrape, "/rl/flood-actix"),
        vec![row("", "_other", "200", 10_000.0)]
    );
    let actix_series = scrape
        .samples("http_request_duration_seconds_count")
        .iter()
        .filter(|(labels, _)| metrics_tests::scrape::label(labels, "route") == "/rl/flood-actix")
        .count();
    assert_eq!(actix_series, 1);
    actix_web::rt::System::new().block_on(server.stop(true));
}

#[track_metrics]
async fn rl_flood_actix() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().body("flood")
}

// actix-web's server with four workers serving the flood's route.
fn actix_flood_server() -> (String, actix_web::dev::ServerHandle) {
    metrics_tests::server::serve_actix(4, |routes| {
        routes.route("/rl/flood-actix", actix_web::web::get().to(rl_flood_actix));
    })
}

// ------------------------------------------- values set later, helpers, closures

// `http_requests_total` (or another family) of `handler`, per label set, as
// `name=value` pairs of the labels given, sorted.
fn by_labels(scrape: &Scrape, family: &str, handler: &str, names: &[&str]) -> Vec<(String, f64)> {
    let mut rows: Vec<(String, f64)> = scrape
        .samples(family)
        .iter()
        .filter(|(labels, _)| metrics_tests::scrape::label(labels, "handler") == handler)
        .map(|(labels, value)| {
            let key = names
                .iter()
                .map(|name| format!("{name}={}", metrics_tests::scrape::label(labels, name)))
                .collect::<Vec<_>>()
                .join(",");
            (key, *value)
        })
        .filter(|(_, value)| *value != 0.0)
        .collect();
    rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
    rows
}

fn rows(expected: &[(&str, f64)]) -> Vec<(String, f64)> {
    expected
        .iter()
        .map(|(key, value)| ((*key).to_owned(), *value))
        .collect()
}

// Helpers the handlers call (one per framework: the tests run at once): no response,
// so each counts on its own, with the request's label values at its start.
#[track_metrics]
async fn rl_lookup() -> u32 {
    7
}

#[track_metrics]
async fn rl_actix_lookup() -> u32 {
    7
}

mod later {
    use axum::extract::{Query, State};
    use axum::middleware::{self, Next};
    use axum::response::Response;
    use serde::Deserialize;
    use tokio::sync::{Notify, oneshot};

    use super::*;

    // An authentication layer inside the metrics layer: the tenant of an
    // `x-auth-tenant` header, handed over.
    async fn auth(req: Request<Body>, next: Next) -> Response {
        if let Some(tenant) = req.headers().get("x-auth-tenant") {
            assert!(track_metrics::set_label("tenant", tenant.to_str().unwrap()));
        }
        next.run(req).await
    }

    #[derive(Deserialize)]
    struct As {
        #[serde(rename = "as")]
        tenant: Option<String>,
        wait: Option<bool>,
    }

    #[derive(Clone, Default)]
    struct Gate {
        entered: Arc<Notify>,
        release: Arc<Notify>,
    }

    #[track_metrics]
    async fn rl_orders(State(gate): State<Gate>, Query(to): Query<As>) -> &'static str {
        assert_eq!(rl_lookup().await, 7);
        if let Some(tenant) = &to.tenant {
            assert!(track_metrics::set_label("tenant", tenant));
        }
        if to.wait == Some(true) {
            gate.entered.notify_one();
            gate.release.notified().await;
        }
        "orders"
    }

    #[tokio::test]
    async fn axum_values_set_later_and_carried_by_helpers() {
        setup();
        let gate = Gate::default();
        let app = Router::new()
            .route("/{version}/rl/orders", get(rl_orders))
            .with_state(gate.clone())
            .layer(middleware::from_fn(auth))
            .layer(RequestMetricsLayer::new());
        let send = |uri: &str, headers: &[(&str, &str)]| {
            let mut request = Request::get(uri);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let app = app.clone();
            let request = request.body(Body::empty()).unwrap();
            async move { app.oneshot(request).await.unwrap().status().as_u16() }
        };
        // Set by the inner layer: counted, timed and carried by the helper with it.
        assert_eq!(
            send("/v1/rl/orders", &[("x-auth-tenant", "acme")]).await,
            200
        );
        // Arrived as globex, set to acme by the handler after its helper ran.
        assert_eq!(
            send("/v2/rl/orders?as=acme", &[("x-tenant", "globex")]).await,
            200
        );
        // Set to a value the allow-list does not keep.
        assert_eq!(
            send("/v2/rl/orders?as=initech", &[("x-tenant", "acme")]).await,
            200
        );
        // In flight with the value it arrived with, counted with the one set (and a
        // version the allow-list does not keep).
        let (done, waited) = oneshot::channel();
        let waiting = send("/v3/rl/orders?as=acme&wait=true", &[("x-tenant", "globex")]);
        tokio::spawn(async move {
            let _ = done.send(waiting.await);
        });
        gate.entered.notified().await;
        let during = scrape();
        gate.release.notify_one();
        assert_eq!(waited.await.unwrap(), 200);
        let names = ["tenant", "ax_version", "ac_version"];
        assert_eq!(
            by_labels(&during, "http_requests_in_flight", "rl_orders", &names),
            rows(&[("tenant=globex,ax_version=_other,ac_version=", 1.0)])
        );
        let after = scrape();
        assert_eq!(
            by_labels(&after, "http_requests_total", "rl_orders", &names),
            rows(&[
                ("tenant=_other,ax_version=v2,ac_version=", 1.0),
                ("tenant=acme,ax_version=_other,ac_version=", 1.0),
                ("tenant=acme,ax_version=v1,ac_version=", 1.0),
                ("tenant=acme,ax_version=v2,ac_version=", 1.0),
            ])
        );
        assert_eq!(
            by_labels(
                &after,
                "http_request_duration_seconds_count",
                "rl_orders",
                &names
            ),
            by_labels(&after, "http_requests_total", "rl_orders", &names)
        );
        assert!(by_labels(&after, "http_requests_in_flight", "rl_orders", &names).is_empty());
        // The helper counted with the values when it started: before the handler set any.
        assert_eq!(
            by_labels(
                &after,
                "http_requests_total",
                "rl_lookup",
                &["tenant", "ax_version"]
            ),
            rows(&[
                ("tenant=acme,ax_version=v1", 1.0),
                ("tenant=acme,ax_version=v2", 1.0),
                ("tenant=globex,ax_version=_other", 1.0),
                ("tenant=globex,ax_version=v2", 1.0),
            ])
        );
        // Outside a request: nothing to set, and a helper carries `""`.
        assert!(!track_metrics::set_label("tenant", "acme"));
        assert!(!track_metrics::set_label("undeclared", "x"));
        assert_eq!(rl_lookup().await, 7);
        let outside = by_labels(&scrape(), "http_requests_total", "rl_lookup", &names);
        assert!(
            outside.contains(&("tenant=,ax_version=,ac_version=".to_owned(), 1.0)),
            "{outside:?}"
        );
    }
}

mod actix_later {
    use actix_web::dev::Service;
    use actix_web::test::{TestRequest, call_service, init_service};
    use actix_web::{App, HttpMessage, HttpResponse, web};
    use track_metrics::actix::RequestMetrics;

    use super::*;

    #[track_metrics]
    async fn rl_actix_orders(req: actix_web::HttpRequest) -> HttpResponse {
        assert_eq!(rl_actix_lookup().await, 7);
        if let Some(tenant) = req.query_string().strip_prefix("as=") {
            assert!(track_metrics::set_label("tenant", tenant));
        }
        let _ = req.extensions();
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn actix_values_set_later_and_carried_by_helpers() {
        setup();
        let app = init_service(
            App::new()
                // An authentication middleware inside the metrics one.
                .wrap_fn(|req, srv| {
                    if let Some(tenant) = req.headers().get("x-auth-tenant") {
                        assert!(track_metrics::set_label("tenant", tenant.to_str().unwrap()));
                    }
                    srv.call(req)
                })
                .wrap(RequestMetrics::default())
                .route("/{version}/rl/actix-orders", web::get().to(rl_actix_orders)),
        )
        .await;
        for (uri, header) in [
            ("/v1/rl/actix-orders", ("x-auth-tenant", "globex")),
            ("/v2/rl/actix-orders?as=acme", ("x-tenant", "globex")),
            ("/v9/rl/actix-orders", ("x-tenant", "acme")),
        ] {
            let request = TestRequest::get().uri(uri).insert_header(header);
            assert_eq!(call_service(&app, request.to_request()).await.status(), 200);
        }
        let names = ["tenant", "ax_version", "ac_version"];
        assert_eq!(
            by_labels(&scrape(), "http_requests_total", "rl_actix_orders", &names),
            rows(&[
                ("tenant=acme,ax_version=,ac_version=_other", 1.0),
                ("tenant=acme,ax_version=,ac_version=v2", 1.0),
                ("tenant=globex,ax_version=,ac_version=v1", 1.0),
            ])
        );
        assert_eq!(
            by_labels(&scrape(), "http_requests_total", "rl_actix_lookup", &names),
            rows(&[
                ("tenant=acme,ax_version=,ac_version=_other", 1.0),
                ("tenant=globex,ax_version=,ac_version=v1", 1.0),
                ("tenant=globex,ax_version=,ac_version=v2", 1.0),
            ])
        );
    }
}
