//! Exemplars through both frameworks' real service stacks: a request with a sampled W3C
//! `traceparent` leaves its trace id on the duration bucket it fell in, in the
//! OpenMetrics exposition (a valid one); an unsampled or malformed header leaves nothing,
//! and the text format 0.0.4 never carries any.

use actix_web::test as actix_test;
use actix_web::{App, HttpResponse};
use axum::body::{Body, to_bytes};
use axum::http::Request;
use metrics_tests::scrape;
use tower::ServiceExt;
use track_metrics::track_metrics;

/// What Prometheus 2 sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Headers that must leave no exemplar: not sampled, upper case, a text of one's own,
/// another version.
const IGNORED: [&str; 4] = [
    "00-11111111111111111111111111111111-2222222222222222-00",
    "00-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-2222222222222222-01",
    "00-\"} 1 # {trace_id=\"evil\"}\"aaaaaaaaaaaaaaaa-2222222222222222-01",
    "01-11111111111111111111111111111111-2222222222222222-01",
];

#[track_metrics]
#[actix_web::get("/ex/fast")]
async fn ex_fast() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[track_metrics(method = "GET", route = "/ex/slow")]
async fn ex_slow() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    "slow"
}

fn traceparent(trace: &str, span: &str) -> String {
    format!("00-{trace}-{span}-01")
}

/// `(le, trace_id, span_id)` of each exemplar on `handler`'s buckets.
fn exemplars(om: &str, handler: &str) -> Vec<(String, String, String)> {
    scrape::exemplars(om, handler)
        .into_iter()
        .map(|e| (e.le, e.trace_id, e.span_id))
        .collect()
}

#[actix_web::test]
async fn actix_a_sampled_traceparent_becomes_the_exemplar_of_its_bucket() {
    let app = actix_test::init_service(
        App::new()
            .wrap(track_metrics::actix::RequestMetrics::default().exclude("/metrics"))
            .service(ex_fast)
            .service(track_metrics::actix::metrics),
    )
    .await;
    let call = |header: Option<String>| {
        let mut req = actix_test::TestRequest::get().uri("/ex/fast");
        if let Some(header) = header {
            req = req.insert_header(("traceparent", header));
        }
        req.to_request()
    };
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    actix_test::call_service(&app, call(None)).await;
    actix_test::call_service(&app, call(Some(traceparent(trace, "00f067aa0ba902b7")))).await;
    for bad in IGNORED {
        actix_test::call_service(&app, call(Some(bad.to_owned()))).await;
    }
    let scrape = |accept: &'static str| {
        actix_test::TestRequest::get()
            .uri("/metrics")
            .insert_header(("accept", accept))
            .to_request()
    };
    let om = actix_test::call_service(&app, scrape(PROMETHEUS_ACCEPT)).await;
    let om = String::from_utf8(actix_test::read_body(om).await.to_vec()).unwrap();
    // Six fast requests, all in the first bucket; its exemplar is the sampled one's.
    assert_eq!(
        exemplars(&om, "ex_fast"),
        [(
            "0.005".to_owned(),
            trace.to_owned(),
            "00f067aa0ba902b7".to_owned()
        )],
        "{om}"
    );
    assert!(om.contains(
        r#"http_requests_total{handler="ex_fast",method="GET",route="/ex/fast",status="200"} 6"#
    ));
    assert!(!om.contains("evil") && !om.contains("AAAA"));
    let text = actix_test::call_service(&app, scrape("text/plain")).await;
    let text = String::from_utf8(actix_test::read_body(text).await.to_vec()).unwrap();
    assert!(!text.contains("trace_id"), "{text}");
}

#[tokio::test]
async fn axum_a_sampled_traceparent_becomes_the_exemplar_of_its_bucket() {
    use axum::routing::get;
    let app = axum::Router::new()
        .route("/ex/slow", get(ex_slow))
        .route("/metrics", get(track_metrics::axum::metrics))
        .layer(track_metrics::axum::RequestMetricsLayer::new().exclude("/metrics"));
    let request = |uri: &str, header: Option<(&str, &str)>| {
        let mut req = Request::get(uri);
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        req.body(Body::empty()).unwrap()
    };
    let (first, second) = ("a".repeat(32), "b".repeat(32));
    for trace in [&first, &second] {
        let header = traceparent(trace, "cccccccccccccccc");
        app.clone()
            .oneshot(request("/ex/slow", Some(("traceparent", &header))))
            .await
            .unwrap();
    }
    for bad in IGNORED {
        app.clone()
            .oneshot(request("/ex/slow", Some(("traceparent", bad))))
            .await
            .unwrap();
    }
    let om = app
        .clone()
        .oneshot(request("/metrics", Some(("accept", PROMETHEUS_ACCEPT))))
        .await
        .unwrap();
    let om = to_bytes(om.into_body(), usize::MAX).await.unwrap();
    let om = std::str::from_utf8(&om).unwrap();
    // 30 ms: the 0.05 bucket (or a later one on a slow machine); the last sampled trace.
    let found = exemplars(om, "ex_slow");
    assert_eq!(found.len(), 1, "{om}");
    let (le, trace, span) = &found[0];
    assert!(
        ["0.05", "0.1", "0.25", "0.5"].contains(&le.as_str()),
        "{le}"
    );
    assert_eq!((trace, span.as_str()), (&second, "cccccccccccccccc"));
}
