//! Settings read once per process: `PROMETHEUS_ENABLED`, `METRICS_TOKEN` and
//! `configure()`. Each case reruns this binary in a fresh process with its own
//! environment (see `metrics_tests::rerun`).

use actix_web::test as actix_test;
use actix_web::{App, HttpResponse};
use metrics_tests::rerun::{capture_logs, in_child, logs};
use metrics_tests::scrape::Scrape;
use track_metrics::actix::ENV_TOKEN;
use track_metrics::{Config, ENV_ENABLED, Error, track_metrics};

#[track_metrics]
fn work(x: u32) -> u32 {
    x + 1
}

async fn scrape_status(token: Option<&str>) -> (u16, Option<String>) {
    let app = actix_test::init_service(App::new().service(track_metrics::actix::metrics)).await;
    let mut req = actix_test::TestRequest::get().uri("/metrics");
    if let Some(header) = token {
        req = req.insert_header(("authorization", header));
    }
    let resp = actix_test::call_service(&app, req.to_request()).await;
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (resp.status().as_u16(), content_type)
}

#[actix_web::test]
async fn disabled_by_prometheus_enabled() {
    let values = ["false", "0", "no", "off", "FALSE", "Off", " no "];
    let envs: Vec<[(&str, &str); 1]> = values.iter().map(|v| [(ENV_ENABLED, *v)]).collect();
    let envs: Vec<&[(&str, &str)]> = envs.iter().map(|e| &e[..]).collect();
    if !in_child("disabled_by_prometheus_enabled", &envs) {
        return;
    }
    capture_logs();
    assert_eq!(work(1), 2, "the function still works");
    assert!(!track_metrics::enabled());
    let families = track_metrics::registry().gather();
    assert!(
        families.iter().all(|f| !f.name().starts_with("http_")),
        "nothing is registered when disabled"
    );
    assert!(!track_metrics::render().contains("http_requests_total"));
    assert_eq!(scrape_status(None).await.0, 404);
    assert!(logs().is_empty(), "no warning: {:?}", logs());
}

#[actix_web::test]
async fn enabled_by_prometheus_enabled() {
    let envs: &[&[(&str, &str)]] = &[
        &[],
        &[(ENV_ENABLED, "true")],
        &[(ENV_ENABLED, "1")],
        &[(ENV_ENABLED, "YES")],
        &[(ENV_ENABLED, "on")],
    ];
    if !in_child("enabled_by_prometheus_enabled", envs) {
        return;
    }
    capture_logs();
    assert_eq!(work(1), 2);
    assert!(track_metrics::enabled());
    assert!(
        track_metrics::render()
            .contains(r#"http_requests_total{handler="work",method="",route="",status="200"} 1"#)
    );
    let (status, content_type) = scrape_status(None).await;
    assert_eq!(status, 200);
    assert_eq!(
        content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(logs().is_empty(), "no warning: {:?}", logs());
}

#[test]
fn an_unknown_prometheus_enabled_warns_once_and_stays_enabled() {
    if !in_child(
        "an_unknown_prometheus_enabled_warns_once_and_stays_enabled",
        &[&[(ENV_ENABLED, "maybe")]],
    ) {
        return;
    }
    capture_logs();
    for _ in 0..3 {
        assert!(track_metrics::enabled());
        assert_eq!(work(2), 3);
    }
    let logs = logs();
    assert_eq!(logs.len(), 1, "one warning: {logs:?}");
    assert!(logs[0].starts_with("WARN "), "{logs:?}");
    assert!(
        logs[0].contains("PROMETHEUS_ENABLED") && logs[0].contains("\"maybe\""),
        "{logs:?}"
    );
    let scrape = Scrape::parse(&track_metrics::render());
    let labels = [
        ("handler", "work"),
        ("method", ""),
        ("route", ""),
        ("status", "200"),
    ];
    assert_eq!(scrape.get("http_requests_total", &labels), Some(3.0));
}

#[actix_web::test]
async fn metrics_token_requires_the_bearer_token() {
    if !in_child(
        "metrics_token_requires_the_bearer_token",
        &[&[(ENV_TOKEN, "s3cret")]],
    ) {
        return;
    }
    assert_eq!(scrape_status(None).await.0, 401, "missing");
    assert_eq!(scrape_status(Some("Bearer wrong")).await.0, 401, "wrong");
    assert_eq!(scrape_status(Some("Bearer s3cre")).await.0, 401, "a prefix");
    assert_eq!(
        scrape_status(Some("Basic s3cret")).await.0,
        401,
        "another scheme"
    );
    let (status, content_type) = scrape_status(Some("Bearer s3cret")).await;
    assert_eq!(status, 200, "right");
    assert_eq!(
        content_type.as_deref(),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
}

#[actix_web::test]
async fn without_metrics_token_no_header_is_needed() {
    if !in_child("without_metrics_token_no_header_is_needed", &[&[]]) {
        return;
    }
    assert_eq!(scrape_status(None).await.0, 200);
    assert_eq!(scrape_status(Some("Bearer anything")).await.0, 200);
}

#[test]
fn configure_before_first_use() {
    if !in_child("configure_before_first_use", &[&[]]) {
        return;
    }
    // Invalid configurations are refused and change nothing.
    let bad_buckets = track_metrics::configure(Config::new().buckets(vec![1.0, 0.5]));
    assert!(
        matches!(bad_buckets, Err(Error::Invalid(_))),
        "{bad_buckets:?}"
    );
    let bad_namespace = track_metrics::configure(Config::new().namespace("not valid"));
    assert!(
        matches!(bad_namespace, Err(Error::Invalid(_))),
        "{bad_namespace:?}"
    );

    let registry = prometheus::Registry::new();
    track_metrics::configure(
        Config::new()
            .namespace("shop")
            .const_label("service", "checkout")
            .buckets(vec![0.25, 1.0])
            .registry(registry.clone()),
    )
    .expect("the first valid configure succeeds");
    let again = track_metrics::configure(Config::new().namespace("other"));
    assert!(matches!(again, Err(Error::AlreadyInitialized)), "{again:?}");

    assert_eq!(work(4), 5);
    let text = track_metrics::render();
    let scrape = Scrape::parse(&text);
    let labels = [
        ("handler", "work"),
        ("method", ""),
        ("route", ""),
        ("service", "checkout"),
        ("status", "200"),
    ];
    assert_eq!(
        scrape.get("shop_http_requests_total", &labels),
        Some(1.0),
        "{text}"
    );
    let bucket = [
        ("handler", "work"),
        ("method", ""),
        ("route", ""),
        ("service", "checkout"),
        ("le", "0.25"),
    ];
    assert_eq!(
        scrape.get("shop_http_request_duration_seconds_bucket", &bucket),
        Some(1.0),
        "{text}"
    );
    assert!(
        !text.contains("\nhttp_requests_total"),
        "no family without the namespace"
    );
    assert!(
        text.contains("process_resident_memory_bytes"),
        "the process collector is in a custom registry"
    );
    let own: Vec<String> = registry
        .gather()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert!(
        own.contains(&"shop_http_requests_total".to_owned()),
        "{own:?}"
    );
    assert!(
        prometheus::default_registry()
            .gather()
            .iter()
            .all(|f| !f.name().contains("http_")),
        "nothing in the default registry"
    );
}

#[test]
fn configure_after_first_use() {
    if !in_child("configure_after_first_use", &[&[]]) {
        return;
    }
    assert_eq!(work(1), 2);
    let late = track_metrics::configure(Config::new().namespace("late"));
    assert!(matches!(late, Err(Error::AlreadyInitialized)), "{late:?}");
    let text = track_metrics::render();
    assert!(
        text.contains("\nhttp_requests_total{handler=\"work\""),
        "{text}"
    );
    assert!(
        !text.contains("late_"),
        "the late configuration changed nothing"
    );
}

#[test]
fn a_family_name_taken_by_the_user_is_logged_not_fatal() {
    if !in_child(
        "a_family_name_taken_by_the_user_is_logged_not_fatal",
        &[&[]],
    ) {
        return;
    }
    capture_logs();
    let mine = prometheus::IntCounter::new("http_requests_total", "mine").unwrap();
    prometheus::default_registry()
        .register(Box::new(mine.clone()))
        .unwrap();
    assert_eq!(work(1), 2, "tracked calls still work");
    let logs = logs();
    assert!(
        logs.iter()
            .any(|l| l.starts_with("ERROR ") && l.contains("http_requests_total")),
        "{logs:?}"
    );
    let _: HttpResponse = HttpResponse::Ok().finish();
}
