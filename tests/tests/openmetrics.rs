//! `/metrics` in OpenMetrics when the scrape prefers it (as Prometheus does), through
//! both frameworks' real service stacks: the content type, a valid exposition, and the
//! same series as the text format 0.0.4 of the same registry.

use std::collections::BTreeMap;

use actix_web::test as actix_test;
use actix_web::{App, HttpResponse};
use axum::body::{Body, to_bytes};
use axum::http::Request;
use tower::ServiceExt;
use track_metrics::{CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, track_metrics};

/// The two tests share the process' registry: each compares two scrapes, so the other's
/// requests must not add series in between.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What Prometheus 2 sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

#[track_metrics]
#[actix_web::get("/om/users/{id}")]
async fn om_user(id: actix_web::web::Path<u32>) -> HttpResponse {
    if *id > 100 {
        HttpResponse::NotFound().finish()
    } else {
        HttpResponse::Ok().body(id.to_string())
    }
}

#[track_metrics(method = "GET", route = "/om/items")]
async fn om_items() -> &'static str {
    "items"
}

fn content_type(headers: &actix_web::http::header::HeaderMap) -> &str {
    headers.get("content-type").unwrap().to_str().unwrap()
}

/// Each sample of an exposition, by series (`name{labels}` as written), with its value.
fn series(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| line.rsplit_once(' ').expect("a sample has a value"))
        .collect()
}

/// `openmetrics` is a valid OpenMetrics exposition with the series of `text`, the same
/// values for the HTTP families (the process' own move between two scrapes).
fn assert_same_series(openmetrics: &str, text: &str) {
    openmetrics_parser::openmetrics::parse_openmetrics(openmetrics).unwrap_or_else(|err| {
        panic!("an invalid OpenMetrics exposition ({err:?}):\n{openmetrics}")
    });
    assert!(openmetrics.ends_with("\n# EOF\n"), "{openmetrics}");
    let (om, plain) = (series(openmetrics), series(text));
    assert_eq!(
        om.keys().collect::<Vec<_>>(),
        plain.keys().collect::<Vec<_>>()
    );
    for (key, value) in &om {
        if key.starts_with("http_") {
            assert_eq!(value, &plain[key], "{key}");
        }
    }
    assert!(
        om.keys()
            .any(|key| key.starts_with("http_request_duration_seconds_bucket{"))
    );
    assert!(
        om.keys()
            .any(|key| key.starts_with("process_cpu_seconds_total"))
    );
}

#[actix_web::test]
async fn actix_metrics_answers_openmetrics_to_prometheus() {
    let _alone = ONE_AT_A_TIME.lock().await;
    let app = actix_test::init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default().exclude("/metrics"))
            .service(om_user)
            .service(track_metrics::actix::metrics),
    )
    .await;
    for uri in ["/om/users/1", "/om/users/404", "/om/nowhere"] {
        actix_test::call_service(&app, actix_test::TestRequest::get().uri(uri).to_request()).await;
    }
    let scrape = |accept: Option<&'static str>| {
        let mut req = actix_test::TestRequest::get().uri("/metrics");
        if let Some(accept) = accept {
            req = req.insert_header(("accept", accept));
        }
        req.to_request()
    };
    let om = actix_test::call_service(&app, scrape(Some(PROMETHEUS_ACCEPT))).await;
    assert_eq!(content_type(om.headers()), OPENMETRICS_CONTENT_TYPE);
    let om = String::from_utf8(actix_test::read_body(om).await.to_vec()).unwrap();
    let text = actix_test::call_service(&app, scrape(None)).await;
    assert_eq!(content_type(text.headers()), CONTENT_TYPE);
    let text = String::from_utf8(actix_test::read_body(text).await.to_vec()).unwrap();
    assert_same_series(&om, &text);
    assert!(om.contains("# TYPE http_requests counter\n"), "{om}");
    assert!(om.contains(r#"http_requests_total{handler="om_user",method="GET",route="/om/users/{id}",status="404"} 1"#));
    // Asked for something else: the text format.
    let json = actix_test::call_service(&app, scrape(Some("application/json"))).await;
    assert_eq!(content_type(json.headers()), CONTENT_TYPE);
}

#[tokio::test]
async fn axum_metrics_answers_openmetrics_to_prometheus() {
    let _alone = ONE_AT_A_TIME.lock().await;
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/om/items", get(om_items))
        .route("/metrics", get(track_metrics::axum::metrics))
        .layer(track_metrics::axum::RequestMetricsLayer::new().exclude("/metrics"));
    let get_uri = |uri: &str, accept: Option<&str>| {
        let mut req = Request::get(uri);
        if let Some(accept) = accept {
            req = req.header("accept", accept);
        }
        req.body(Body::empty()).unwrap()
    };
    app.clone()
        .oneshot(get_uri("/om/items", None))
        .await
        .unwrap();
    let om = app
        .clone()
        .oneshot(get_uri("/metrics", Some(PROMETHEUS_ACCEPT)))
        .await
        .unwrap();
    assert_eq!(om.headers()["content-type"], OPENMETRICS_CONTENT_TYPE);
    let om = to_bytes(om.into_body(), usize::MAX).await.unwrap();
    let text = app
        .clone()
        .oneshot(get_uri("/metrics", None))
        .await
        .unwrap();
    assert_eq!(text.headers()["content-type"], CONTENT_TYPE);
    let text = to_bytes(text.into_body(), usize::MAX).await.unwrap();
    let (om, text) = (
        std::str::from_utf8(&om).unwrap(),
        std::str::from_utf8(&text).unwrap(),
    );
    assert_same_series(om, text);
    assert!(om.contains(
        r#"http_requests_total{handler="om_items",method="GET",route="/om/items",status="200"} 1"#
    ));
}
