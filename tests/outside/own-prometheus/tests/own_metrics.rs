//! The user's own metrics and the request families on one scrape, in both text formats,
//! with the prometheus crate's `protobuf` feature on (as a user's `prometheus = "0.14"`
//! turns it on).

use actix_web::http::header;
use actix_web::test::{TestRequest, call_service, init_service, read_body};
use prometheus::Encoder;

/// The value of the series `name{labels}` (exactly) in a text exposition.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Three orders (5, 20 and 70 dollars) and one rejected body: what every exposition says.
fn assert_counts(text: &str) {
    let expected = [
        // The user's own counter and histogram.
        ("shop_orders_created_total", 3.0),
        (r#"shop_order_amount_dollars_bucket{le="10"}"#, 1.0),
        (r#"shop_order_amount_dollars_bucket{le="50"}"#, 2.0),
        (r#"shop_order_amount_dollars_bucket{le="100"}"#, 3.0),
        (r#"shop_order_amount_dollars_bucket{le="+Inf"}"#, 3.0),
        ("shop_order_amount_dollars_sum", 95.0),
        ("shop_order_amount_dollars_count", 3.0),
        // The request families, beside them.
        (
            r#"http_requests_total{handler="create_order",method="POST",route="/orders",status="201"}"#,
            3.0,
        ),
        (
            r#"http_request_duration_seconds_count{handler="create_order",method="POST",route="/orders"}"#,
            3.0,
        ),
        // The body actix rejected before the handler ran: counted by the middleware.
        (
            r#"http_requests_total{handler="",method="POST",route="/orders",status="400"}"#,
            1.0,
        ),
        (
            r#"http_request_duration_seconds_count{handler="",method="POST",route="/orders"}"#,
            1.0,
        ),
    ];
    for (series, count) in expected {
        assert_eq!(value(text, series), Some(count), "{series} in\n{text}");
    }
    // Nothing in flight any more, whichever series a request was in flight under.
    let in_flight: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("http_requests_in_flight{"))
        .collect();
    assert!(!in_flight.is_empty(), "{text}");
    for line in in_flight {
        assert!(line.ends_with(" 0"), "{line}");
    }
    // `/metrics` is left out: no series names it.
    assert!(!text.contains(r#"route="/metrics""#), "{text}");
}

#[actix_web::test]
async fn own_metrics_and_request_families_are_scraped_together() {
    let app = init_service(own_prometheus::app()).await;
    for amount in [5, 20, 70] {
        let request = TestRequest::post()
            .uri("/orders")
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(format!(r#"{{"amount": {amount}}}"#))
            .to_request();
        let response = call_service(&app, request).await;
        assert_eq!(response.status().as_u16(), 201);
    }
    let request = TestRequest::post()
        .uri("/orders")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload("not json")
        .to_request();
    assert_eq!(call_service(&app, request).await.status().as_u16(), 400);

    // `/metrics`, in the text format (no `Accept`) and in OpenMetrics.
    for (accept, content_type) in [
        (None, "text/plain; version=0.0.4; charset=utf-8"),
        (
            Some("application/openmetrics-text; version=1.0.0"),
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    ] {
        let mut request = TestRequest::get().uri("/metrics");
        if let Some(accept) = accept {
            request = request.insert_header((header::ACCEPT, accept));
        }
        let response = call_service(&app, request.to_request()).await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            content_type
        );
        let body = read_body(response).await;
        let text = std::str::from_utf8(&body).unwrap();
        assert_counts(text);
        if accept.is_some() {
            assert!(text.ends_with("# EOF\n"), "{text}");
            assert!(
                text.contains("# TYPE shop_orders_created counter\n"),
                "{text}"
            );
        } else {
            assert!(!text.contains("# EOF"), "{text}");
            assert!(
                text.contains("# TYPE shop_orders_created_total counter\n"),
                "{text}"
            );
        }
        assert!(
            text.contains("# TYPE shop_order_amount_dollars histogram\n"),
            "{text}"
        );
    }
    assert_counts(&track_metrics::render());
    assert_counts(&track_metrics::render_openmetrics());

    // The prometheus crate's protobuf model is the one in use, in this crate and in
    // track-metrics (one crate, one model): the fields read below are public in
    // rust-protobuf's generated messages and private in the plain model, and
    // `ProtobufEncoder` exists only with the `protobuf` feature. This compiles only with it.
    let families = track_metrics::registry().gather();
    let family = |name: &str| {
        families
            .iter()
            .find(|family| family.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} is gathered"))
    };
    assert_eq!(
        family("shop_orders_created_total").metric[0].counter.value,
        Some(3.0)
    );
    let amount = &family("shop_order_amount_dollars").metric[0].histogram;
    assert_eq!(amount.sample_count, Some(3));
    assert_eq!(amount.sample_sum, Some(95.0));
    let label = |metric: &prometheus::proto::Metric, name: &str| {
        metric
            .label
            .iter()
            .find(|pair| pair.name.as_deref() == Some(name))
            .and_then(|pair| pair.value.clone())
            .unwrap_or_default()
    };
    let created = family("http_requests_total")
        .metric
        .iter()
        .find(|metric| {
            label(metric, "handler") == "create_order" && label(metric, "status") == "201"
        })
        .expect("the orders' series is gathered");
    assert_eq!(label(created, "route"), "/orders");
    assert_eq!(created.counter.value, Some(3.0));
    let mut encoded = Vec::new();
    prometheus::ProtobufEncoder::new()
        .encode(&families, &mut encoded)
        .unwrap();
    for name in [
        &b"shop_orders_created_total"[..],
        b"shop_order_amount_dollars",
        b"http_requests_total",
    ] {
        assert!(
            encoded.windows(name.len()).any(|window| window == name),
            "{} in the protobuf encoding",
            String::from_utf8_lossy(name)
        );
    }
}
